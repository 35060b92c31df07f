//! A streaming replica of the PostgreSQL primary, for the reads that tolerate a little lag:
//! lists, reports and exports (issue 13.6). Writes, logins and everything a write decides on
//! stay on the primary.
//!
//! The replica is used only while it is known to be close behind: [`Replica::watch`] reads the
//! primary's WAL position every [`WATCH_EVERY`] and checks that the replica has replayed at least
//! the position the primary had one look earlier. A replica that is down, paused or further
//! behind than that is left alone until it catches up, and its reads go to the primary.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::db::Db;
use crate::error::{Result, StoreError};

/// How often the replica's position is compared with the primary's; its reads are at most about
/// twice this behind the primary.
pub const WATCH_EVERY: Duration = Duration::from_millis(250);

/// The read-only copy and whether it is close enough behind to be read.
#[derive(Clone, Debug)]
pub struct Replica {
    db: Db,
    close_behind: Arc<AtomicBool>,
}

impl Replica {
    /// Connects to the replica at `url` (PostgreSQL only: a SQLite file has no replicas).
    pub async fn connect(url: &str, statement_timeout: Option<Duration>) -> Result<Self> {
        let db = Db::connect_bounded(url, statement_timeout).await?;
        if !matches!(db, Db::Postgres(_)) {
            return Err(StoreError::Internal(
                "read_database_url: a replica is a PostgreSQL database (postgres://…)".into(),
            ));
        }
        Ok(Self {
            db,
            close_behind: Arc::new(AtomicBool::new(false)),
        })
    }

    /// The replica, when it is close enough behind the primary to be read.
    pub fn if_close_behind(&self) -> Option<&Db> {
        self.close_behind
            .load(Ordering::Relaxed)
            .then_some(&self.db)
    }

    /// Whether reads go to the replica now (for `/metrics`).
    pub fn is_close_behind(&self) -> bool {
        self.close_behind.load(Ordering::Relaxed)
    }

    /// Follows the replica's position behind `primary` for as long as the program runs.
    pub async fn watch(self, primary: Db) {
        let mut tick = tokio::time::interval(WATCH_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut earlier: Option<String> = None;
        let mut was = false;
        loop {
            tick.tick().await;
            let now = match primary_position(&primary).await {
                Ok(p) => Some(p),
                Err(e) => {
                    tracing::warn!(error = %e, "reading the primary's WAL position failed");
                    None
                }
            };
            // A replica that does not answer at once is as good as down: its pool would wait
            // for a connection far longer than a page may.
            let close = match &earlier {
                Some(lsn) => {
                    match tokio::time::timeout(WATCH_EVERY * 2, replayed_past(&self.db, lsn))
                        .await
                        .unwrap_or_else(|_| Err(StoreError::Internal("no answer".into())))
                    {
                        Ok(ok) => ok,
                        Err(e) => {
                            if was {
                                tracing::warn!(error = %e, "the replica cannot be read");
                            }
                            false
                        }
                    }
                }
                None => false,
            };
            if close != was {
                if close {
                    tracing::info!("the replica is close behind: lists and reports read from it");
                } else {
                    tracing::warn!("the replica is behind or down: every read goes to the primary");
                }
                was = close;
            }
            self.close_behind.store(close, Ordering::Relaxed);
            earlier = now;
        }
    }
}

/// The primary's current WAL write position.
async fn primary_position(db: &Db) -> Result<String> {
    let Db::Postgres(p) = db else {
        return Err(StoreError::Internal("the primary is not PostgreSQL".into()));
    };
    let (lsn,): (String,) = sqlx::query_as("SELECT pg_current_wal_lsn()::text")
        .fetch_one(p)
        .await?;
    Ok(lsn)
}

/// Whether the replica has replayed the WAL up to `lsn` (false on a server that is not
/// replaying: a primary named as the replica by mistake is not read as one).
async fn replayed_past(db: &Db, lsn: &str) -> Result<bool> {
    let Db::Postgres(p) = db else {
        return Ok(false);
    };
    let (diff,): (Option<f64>,) = sqlx::query_as(
        "SELECT pg_wal_lsn_diff(pg_last_wal_replay_lsn(), CAST($1 AS pg_lsn))::float8",
    )
    .bind(lsn)
    .fetch_one(p)
    .await?;
    Ok(diff.is_some_and(|d| d >= 0.0))
}
