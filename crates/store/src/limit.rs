//! The API's per-address request counts, shared by every instance on one database (issue 13.6).
//!
//! Instances count in memory and add what they counted here in one statement about once a
//! second ([`add_counts`]); the answer is each address's total for the minute, all instances
//! together, which the caller compares with the limit. A request is never delayed by this: the
//! shared total is at most one flush old.

use crate::db::Db;
use crate::error::Result;
use crate::{db_exec, db_run};

/// Addresses added per statement (3 parameters a row).
const ROWS_PER_STATEMENT: usize = 500;

/// One address's requests in one minute, counted by this instance since its last flush.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Count {
    /// Minutes since the Unix epoch: every instance's windows begin at the same instants.
    pub minute: i64,
    pub ip: String,
    pub n: i64,
}

/// Adds `counts` to the shared totals; returns the totals after the addition, in the same
/// order (every instance's requests of that minute from that address).
pub async fn add_counts(db: &Db, counts: &[Count]) -> Result<Vec<i64>> {
    let mut totals = Vec::with_capacity(counts.len());
    for chunk in counts.chunks(ROWS_PER_STATEMENT) {
        let sql = format!(
            "INSERT INTO api_rate (minute, ip, n) VALUES {} \
             ON CONFLICT (minute, ip) DO UPDATE SET n = api_rate.n + excluded.n \
             RETURNING minute, ip, n",
            db.values(chunk.len(), 3, |p| format!(
                "({}, {}, {})",
                p[0], p[1], p[2]
            ))
        );
        let rows: Vec<(i64, String, i64)> = db_run!(db, p => {
            let mut q = sqlx::query_as(&sql);
            for c in chunk {
                q = q.bind(c.minute).bind(&c.ip).bind(c.n);
            }
            q.fetch_all(p).await
        })?;
        // RETURNING gives no promised order: match the rows back by key.
        let by_key: std::collections::HashMap<(i64, &str), i64> = rows
            .iter()
            .map(|(m, ip, n)| ((*m, ip.as_str()), *n))
            .collect();
        totals.extend(chunk.iter().map(|c| {
            by_key
                .get(&(c.minute, c.ip.as_str()))
                .copied()
                .unwrap_or(c.n)
        }));
    }
    Ok(totals)
}

/// Forgets the counts of minutes before `minute`.
pub async fn forget_before(db: &Db, minute: i64) -> Result<u64> {
    let n = db_exec!(db, p => sqlx::query("DELETE FROM api_rate WHERE minute < $1")
        .bind(minute).execute(p).await)?;
    Ok(n)
}

/// The addresses with at least `at_least` requests in `minute`, all instances together (at most
/// [`HOT_LISTED`], the busiest first): an instance learns of an address busy elsewhere before
/// that address's first request to it.
pub async fn busy(db: &Db, minute: i64, at_least: i64) -> Result<Vec<(String, i64)>> {
    let rows = db_run!(db, p => sqlx::query_as(
        "SELECT ip, n FROM api_rate WHERE minute = $1 AND n >= $2 ORDER BY n DESC LIMIT $3")
        .bind(minute).bind(at_least).bind(HOT_LISTED).fetch_all(p).await)?;
    Ok(rows)
}

/// The most addresses [`busy`] lists.
pub const HOT_LISTED: i64 = 10_000;
