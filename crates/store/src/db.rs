//! The database handle: SQLite or PostgreSQL, chosen by the URL.

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, SqlitePool};

use crate::error::Result;

/// One handle over either engine. Queries are written once, in portable SQL (`$1` parameters,
/// `RETURNING`, `ON CONFLICT`), and run on whichever pool this holds through [`db_run!`].
#[derive(Clone, Debug)]
pub enum Db {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Runs the same code on whichever pool `db` holds: `db_run!(db, pool => query.fetch_all(pool).await)`.
/// The body is compiled once per engine, so each gets its own statically typed sqlx calls.
#[macro_export]
macro_rules! db_run {
    ($db:expr, $pool:ident => $body:expr) => {
        match $db {
            $crate::db::Db::Sqlite($pool) => $body,
            $crate::db::Db::Postgres($pool) => $body,
        }
    };
}

/// Like [`db_run!`] for a statement run with `execute`: yields `Result<u64>` rows affected, since
/// the two engines' query results are different types.
#[macro_export]
macro_rules! db_exec {
    ($db:expr, $pool:ident => $body:expr) => {
        match $db {
            $crate::db::Db::Sqlite($pool) => $body.map(|r| r.rows_affected()),
            $crate::db::Db::Postgres($pool) => $body.map(|r| r.rows_affected()),
        }
    };
}

/// SQLite page cache per connection (`PRAGMA cache_size`, negative = KiB).
pub const SQLITE_CACHE: i64 = -16_384;
/// SQLite page cache of the connection that runs a member import, for its duration: the indexes
/// of millions of people are written at random places.
pub const SQLITE_IMPORT_CACHE: i64 = -131_072;

impl Db {
    /// Connects to `url`: `postgres://…` for PostgreSQL, `sqlite://path` or a plain path for SQLite
    /// (created if missing, with WAL, synchronous=FULL so that a reply follows a commit that
    /// survives a power cut, and foreign keys on).
    pub async fn connect(url: &str) -> Result<Self> {
        Self::connect_bounded(url, None).await
    }

    /// [`Db::connect`], with every PostgreSQL statement bounded by `statement_timeout` (issue
    /// 10.15): a request that times out must not leave its query running, so the server is
    /// given the request's own limit. (SQLite has no such setting; see docs/security.md.)
    pub async fn connect_bounded(url: &str, statement_timeout: Option<Duration>) -> Result<Self> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let mut opts = PgConnectOptions::from_str(url)?;
            if let Some(t) = statement_timeout {
                opts = opts.options([("statement_timeout", format!("{}ms", t.as_millis()))]);
            }
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(Duration::from_secs(10))
                .connect_with(opts)
                .await?;
            Ok(Db::Postgres(pool))
        } else {
            let path = url
                .strip_prefix("sqlite://")
                .or_else(|| url.strip_prefix("sqlite:"))
                .unwrap_or(url);
            if let Some(dir) = std::path::Path::new(path).parent() {
                if !dir.as_os_str().is_empty() {
                    std::fs::create_dir_all(dir)
                        .map_err(|e| crate::StoreError::Internal(e.to_string()))?;
                }
            }
            let opts = SqliteConnectOptions::new()
                .filename(path)
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Full)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(10))
                // 16 MB of page cache per connection (SQLite's default is 2 MB): a large
                // transaction (an import) otherwise re-reads its own pages from the WAL.
                .pragma("cache_size", SQLITE_CACHE.to_string());
            let pool = SqlitePoolOptions::new()
                .max_connections(8)
                .acquire_timeout(Duration::from_secs(10))
                .connect_with(opts)
                .await?;
            Ok(Db::Sqlite(pool))
        }
    }

    /// Applies the engine's migrations (`migrations/sqlite` or `migrations/postgres`).
    pub async fn migrate(&self) -> Result<()> {
        match self {
            Db::Sqlite(p) => {
                crate::backup::SQLITE_MIGRATOR.run(p).await?;
                sqlite_drop_resolution_unique(p).await?;
            }
            Db::Postgres(p) => crate::backup::POSTGRES_MIGRATOR.run(p).await?,
        }
        Ok(())
    }

    /// Rows per multi-row INSERT for `params_per_row` bound values (both engines accept about
    /// 30,000 parameters per statement).
    pub fn rows_per_insert(&self, params_per_row: usize) -> usize {
        (30_000 / params_per_row.max(1)).clamp(1, 1000)
    }

    /// The `VALUES` list of a multi-row INSERT: `rows` rows of `per_row` parameters, bound in the
    /// order they appear, each row written by `row` from its placeholders. SQLite gets anonymous
    /// `?`: it looks numbered names (`$n`) up in a list, one by one, so a statement with thousands
    /// of them cost time growing with their square (500 rows × 15 values ran at 8,000 rows/s).
    pub fn values(&self, rows: usize, per_row: usize, row: impl Fn(&[String]) -> String) -> String {
        (0..rows)
            .map(|r| {
                let ph: Vec<String> = (0..per_row)
                    .map(|c| match self {
                        Db::Sqlite(_) => "?".to_string(),
                        Db::Postgres(_) => format!("${}", r * per_row + c + 1),
                    })
                    .collect();
                row(&ph)
            })
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// A subquery giving the text values of the JSON array bound as `$n` (see [`json_list`]): one
    /// parameter for a list of any length, on either engine.
    pub fn json_texts(&self, n: usize) -> String {
        match self {
            Db::Sqlite(_) => format!("SELECT value FROM json_each(${n})"),
            Db::Postgres(_) => format!("SELECT json_array_elements_text(${n}::json)"),
        }
    }

    /// [`Db::json_texts`] for a JSON array of integers.
    pub fn json_ints(&self, n: usize) -> String {
        match self {
            Db::Sqlite(_) => format!("SELECT value FROM json_each(${n})"),
            Db::Postgres(_) => {
                format!("SELECT json_array_elements_text(${n}::json)::bigint")
            }
        }
    }

    /// The newest migration applied to this database (0 when none).
    pub async fn schema_version(&self) -> Result<i64> {
        let exists: Option<(i64,)> = match self {
            Db::Sqlite(p) => sqlx::query_as("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'").fetch_optional(p).await?,
            Db::Postgres(p) => sqlx::query_as("SELECT 1::bigint FROM information_schema.tables WHERE table_name = '_sqlx_migrations' AND table_schema = current_schema()").fetch_optional(p).await?,
        };
        if exists.is_none() {
            return Ok(0);
        }
        let (v,): (Option<i64>,) = db_run!(self, p => sqlx::query_as("SELECT MAX(version) FROM _sqlx_migrations").fetch_one(p).await)?;
        Ok(v.unwrap_or(0))
    }

    /// The pool's connections: (open, idle).
    pub fn pool_connections(&self) -> (u32, usize) {
        db_run!(self, p => (p.size(), p.num_idle()))
    }

    /// "sqlite" or "postgres".
    pub fn engine(&self) -> &'static str {
        match self {
            Db::Sqlite(_) => "sqlite",
            Db::Postgres(_) => "postgres",
        }
    }

    /// Refreshes the planner's statistics (after a bulk load).
    pub async fn analyze(&self) -> Result<()> {
        db_run!(self, p => sqlx::query("ANALYZE").execute(p).await.map(|_| ()))?;
        Ok(())
    }

    /// Answers when the database is reachable (for `/healthz`).
    pub async fn ping(&self) -> Result<()> {
        db_run!(self, p => sqlx::query("SELECT 1").execute(p).await.map(|_| ()))?;
        Ok(())
    }

    pub async fn close(&self) {
        db_run!(self, p => p.close().await)
    }

    /// A setting of the province configuration (R8.3), or `None`.
    pub async fn setting(&self, key: &str) -> Result<Option<String>> {
        let v: Option<(String,)> = db_run!(self, p => sqlx::query_as("SELECT value FROM settings WHERE key = $1").bind(key).fetch_optional(p).await)?;
        Ok(v.map(|(s,)| s))
    }

    pub async fn set_setting(&self, key: &str, value: &str) -> Result<()> {
        db_exec!(self, p => sqlx::query("INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value")
            .bind(key).bind(value).execute(p).await)?;
        Ok(())
    }

    /// R3.5/R8.3: the retake threshold new classes take, 40% unless configured.
    pub async fn default_retake_threshold(&self) -> Result<domain::study::Percent> {
        Ok(self
            .setting("retake_threshold_percent")
            .await?
            .and_then(|s| s.parse::<i64>().ok())
            .and_then(|p| domain::study::Percent::new(p).ok())
            .unwrap_or_default())
    }
}

/// `$first, $first+1, …` placeholders for `n` values, for `IN (…)` lists.
pub fn placeholders(first: usize, n: usize) -> String {
    (first..first + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A JSON array of the items, to be bound as one parameter and opened by [`Db::json_texts`] or
/// [`Db::json_ints`].
pub fn json_list<T: serde::Serialize>(items: impl Iterator<Item = T>) -> String {
    let items: Vec<T> = items.collect();
    serde_json::to_string(&items).unwrap_or_else(|_| "[]".into())
}

/// Rebuilds the SQLite `resolutions` table without its old `UNIQUE (number, issuing_body)`
/// (issue 10.6, decision 0008): SQLite drops a table constraint only by rebuilding the table,
/// and the rebuild needs foreign keys off, which cannot change inside the transaction sqlx runs
/// each migration in. Runs once: a database whose table no longer has the constraint is left
/// alone. All in one transaction on one connection, checked with `foreign_key_check`.
async fn sqlite_drop_resolution_unique(pool: &sqlx::SqlitePool) -> Result<()> {
    use sqlx::Connection;
    let (ddl,): (String,) = sqlx::query_as(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'resolutions'",
    )
    .fetch_one(pool)
    .await?;
    if !ddl.contains("UNIQUE (number, issuing_body)") {
        return Ok(());
    }
    let mut conn = pool.acquire().await?;
    sqlx::query("PRAGMA foreign_keys = OFF")
        .execute(&mut *conn)
        .await?;
    let rebuilt = async {
        let mut tx = conn.begin().await?;
        for sql in [
            "CREATE TABLE resolutions_new (
                id             INTEGER PRIMARY KEY,
                owner_org_id   INTEGER NOT NULL REFERENCES orgs(id),
                kind           TEXT NOT NULL,
                number         TEXT NOT NULL,
                title          TEXT NOT NULL,
                search_folded  TEXT NOT NULL,
                issuing_body   TEXT NOT NULL,
                released_on    TEXT NOT NULL,
                classification TEXT NOT NULL,
                published_on   TEXT,
                summary        TEXT,
                created_at     TEXT NOT NULL
            )",
            "INSERT INTO resolutions_new (id, owner_org_id, kind, number, title, search_folded, issuing_body,
                released_on, classification, published_on, summary, created_at)
             SELECT id, owner_org_id, kind, number, title, search_folded, issuing_body, released_on,
                classification, published_on, summary, created_at FROM resolutions",
            "DROP TABLE resolutions",
            "ALTER TABLE resolutions_new RENAME TO resolutions",
            "CREATE UNIQUE INDEX resolutions_number_level ON resolutions(number, issuing_body, classification)",
        ] {
            sqlx::query(sql).execute(&mut *tx).await?;
        }
        let broken: Vec<(String,)> = sqlx::query_as("PRAGMA foreign_key_check")
            .fetch_all(&mut *tx)
            .await?;
        if !broken.is_empty() {
            return Err(crate::StoreError::Internal(format!(
                "rebuilding resolutions broke foreign keys in {broken:?}"
            )));
        }
        tx.commit().await?;
        Ok::<(), crate::StoreError>(())
    }
    .await;
    // The connection goes back to the pool with foreign keys on, whatever happened.
    sqlx::query("PRAGMA foreign_keys = ON")
        .execute(&mut *conn)
        .await?;
    rebuilt
}
