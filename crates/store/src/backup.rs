//! Backups and restore (issue 13.4), on the running server's database.
//!
//! - SQLite: `VACUUM INTO` writes a transactionally consistent copy while the server keeps
//!   serving (readers and the writer go on; the copy is the state of one moment). Restore checks
//!   the file (a SQLite database, quantriet's schema, not newer than this program, intact), copies
//!   it beside the live file and renames it into place, then migrates it up.
//! - PostgreSQL: `pg_dump --format=custom` and `pg_restore --single-transaction --clean` (the
//!   client programs of the server's major version must be installed). Restore reads the dump's
//!   schema version first and refuses a dump from another program or a newer schema.
//!
//! Restore replaces the whole database: the server must be stopped first.

use std::path::{Path, PathBuf};
use std::process::Command;

use sqlx::migrate::Migrator;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode};
use sqlx::ConnectOptions;

use crate::db::Db;
use crate::error::{Result, StoreError};

/// The schema versions this program knows, per engine.
pub(crate) static SQLITE_MIGRATOR: Migrator = sqlx::migrate!("./migrations/sqlite");
pub(crate) static POSTGRES_MIGRATOR: Migrator = sqlx::migrate!("./migrations/postgres");

/// The newest migration of this program for the engine of `url`.
pub fn known_version(url: &str) -> i64 {
    newest(is_postgres(url))
}

/// [`known_version`] for an open database.
pub fn known_version_of(db: &Db) -> i64 {
    newest(matches!(db, Db::Postgres(_)))
}

fn newest(postgres: bool) -> i64 {
    let m = if postgres {
        &POSTGRES_MIGRATOR
    } else {
        &SQLITE_MIGRATOR
    };
    m.iter().map(|m| m.version).max().unwrap_or(0)
}

fn is_postgres(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

fn sqlite_path(url: &str) -> PathBuf {
    PathBuf::from(
        url.strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
            .unwrap_or(url),
    )
}

fn refused(message: String) -> StoreError {
    StoreError::rule("backup_refused", message)
}

/// What a backup holds.
#[derive(Debug, Clone)]
pub struct BackupInfo {
    /// The newest migration applied in it.
    pub schema_version: i64,
    pub bytes: u64,
}

/// Writes a consistent copy of the database at `url` (open as `db`) to `dest`, which must not
/// exist. The copy is written to `dest.partial` and renamed when complete.
pub async fn backup(db: &Db, url: &str, dest: &Path) -> Result<BackupInfo> {
    if dest.exists() {
        return Err(refused(format!(
            "{} already exists: choose a new file name",
            dest.display()
        )));
    }
    let partial = dest.with_extension("partial");
    let _ = std::fs::remove_file(&partial);
    match db {
        Db::Sqlite(p) => {
            let target = partial.to_string_lossy().into_owned();
            sqlx::query("VACUUM INTO $1")
                .bind(&target)
                .execute(p)
                .await?;
        }
        Db::Postgres(_) => {
            let out = Command::new("pg_dump")
                .args(["--format=custom", "--no-owner", "--no-privileges", "--file"])
                .arg(&partial)
                .arg(url)
                .output()
                .map_err(|e| StoreError::Internal(format!("pg_dump could not start: {e}")))?;
            if !out.status.success() {
                let _ = std::fs::remove_file(&partial);
                return Err(StoreError::Internal(format!(
                    "pg_dump failed: {}",
                    String::from_utf8_lossy(&out.stderr).trim()
                )));
            }
        }
    }
    std::fs::rename(&partial, dest).map_err(|e| StoreError::Internal(e.to_string()))?;
    read_info(url, dest).await
}

/// Reads what a backup file for the engine of `url` holds, refusing anything that is not a
/// quantriet backup this program can restore.
pub async fn inspect(url: &str, file: &Path) -> Result<BackupInfo> {
    let info = read_info(url, file).await?;
    let known = known_version(url);
    if info.schema_version > known {
        return Err(refused(format!(
            "{} was made by a newer version of quantriet (schema {}, this program knows up to {known}): restore it with that version",
            file.display(),
            info.schema_version
        )));
    }
    Ok(info)
}

/// What a quantriet backup file holds; refuses a file that is not one.
async fn read_info(url: &str, file: &Path) -> Result<BackupInfo> {
    let bytes = std::fs::metadata(file)
        .map_err(|e| refused(format!("cannot read {}: {e}", file.display())))?
        .len();
    let versions = if is_postgres(url) {
        dump_versions(file)?
    } else {
        sqlite_versions(file).await?
    };
    let Some(&schema_version) = versions.iter().max() else {
        return Err(refused(format!(
            "{} holds no quantriet schema",
            file.display()
        )));
    };
    Ok(BackupInfo {
        schema_version,
        bytes,
    })
}

/// A connection that reads a backup file and never writes to it.
async fn read_only(file: &Path) -> Result<sqlx::SqliteConnection> {
    Ok(SqliteConnectOptions::new()
        .filename(file)
        .read_only(true)
        .immutable(true)
        .connect()
        .await?)
}

/// The migrations applied in a SQLite backup, after an integrity check; opened read-only.
async fn sqlite_versions(file: &Path) -> Result<Vec<i64>> {
    let mut head = [0u8; 16];
    let ok = std::fs::File::open(file)
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut head))
        .is_ok();
    if !ok || &head != b"SQLite format 3\0" {
        return Err(refused(format!(
            "{} is not a quantriet backup (not a SQLite database)",
            file.display()
        )));
    }
    let mut conn = read_only(file).await?;
    let (check,): (String,) = sqlx::query_as("PRAGMA quick_check")
        .fetch_one(&mut conn)
        .await
        .map_err(|e| refused(format!("{} is damaged: {e}", file.display())))?;
    if check != "ok" {
        return Err(refused(format!("{} is damaged: {check}", file.display())));
    }
    let tables: Vec<(String,)> = sqlx::query_as(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ('_sqlx_migrations', 'orgs', 'people', 'accounts')",
    )
    .fetch_all(&mut conn)
    .await?;
    if tables.len() < 4 {
        return Err(refused(format!(
            "{} is not a quantriet backup (another program's database)",
            file.display()
        )));
    }
    let versions: Vec<(i64,)> =
        sqlx::query_as("SELECT version FROM _sqlx_migrations WHERE success")
            .fetch_all(&mut conn)
            .await?;
    Ok(versions.into_iter().map(|(v,)| v).collect())
}

/// The migrations recorded in a `pg_dump` custom-format file, read with `pg_restore` without
/// touching any database.
fn dump_versions(file: &Path) -> Result<Vec<i64>> {
    let out = Command::new("pg_restore")
        .args(["--data-only", "--table=_sqlx_migrations", "--file=-"])
        .arg(file)
        .output()
        .map_err(|e| StoreError::Internal(format!("pg_restore could not start: {e}")))?;
    if !out.status.success() {
        return Err(refused(format!(
            "{} is not a quantriet backup (pg_restore: {})",
            file.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let mut versions = Vec::new();
    let mut in_copy = false;
    for line in text.lines() {
        if line.starts_with("COPY ") && line.contains("_sqlx_migrations") {
            in_copy = true;
        } else if line == "\\." {
            in_copy = false;
        } else if in_copy {
            let mut cols = line.split('\t');
            let version = cols.next().and_then(|v| v.parse::<i64>().ok());
            let success = cols.nth(2).is_some_and(|s| s == "t");
            if let (Some(v), true) = (version, success) {
                versions.push(v);
            }
        }
    }
    Ok(versions)
}

/// Puts the backup `file` back as the database at `url`, replacing what is there; the server must
/// be stopped. Nothing changes when the file is refused. Returns what was restored; the caller
/// migrates it up to this program's schema.
pub async fn restore(url: &str, file: &Path) -> Result<BackupInfo> {
    let info = inspect(url, file).await?;
    // A database already upgraded by a newer program is not overwritten by this one.
    let live_exists = is_postgres(url) || sqlite_path(url).exists();
    if live_exists {
        let db = Db::connect(url).await?;
        let live = db.schema_version().await;
        db.close().await;
        let (live, known) = (live?, known_version(url));
        if live > known {
            return Err(refused(format!(
                "the database has a newer schema ({live}) than this program knows ({known}): restore with the newer version"
            )));
        }
    }
    if is_postgres(url) {
        let out = Command::new("pg_restore")
            .args([
                "--single-transaction",
                "--clean",
                "--if-exists",
                "--no-owner",
                "--no-privileges",
                "--exit-on-error",
                "--dbname",
            ])
            .arg(url)
            .arg(file)
            .output()
            .map_err(|e| StoreError::Internal(format!("pg_restore could not start: {e}")))?;
        if !out.status.success() {
            return Err(StoreError::Internal(format!(
                "pg_restore failed, nothing was changed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            )));
        }
    } else {
        let live = sqlite_path(url);
        if let Some(dir) = live.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| StoreError::Internal(e.to_string()))?;
        }
        // A full copy beside the live file first (same file system), then one rename: a crash
        // leaves either the old database or the restored one, never half of each.
        let staged = live.with_extension("restoring");
        let _ = std::fs::remove_file(&staged);
        {
            let mut conn = read_only(file).await?;
            sqlx::query("VACUUM INTO $1")
                .bind(staged.to_string_lossy().into_owned())
                .execute(&mut conn)
                .await?;
        }
        for suffix in ["-wal", "-shm"] {
            let mut side = live.clone().into_os_string();
            side.push(suffix);
            let _ = std::fs::remove_file(PathBuf::from(side));
        }
        std::fs::rename(&staged, &live).map_err(|e| StoreError::Internal(e.to_string()))?;
        // The restored file takes the live database's journal mode again.
        let mut conn = SqliteConnectOptions::new()
            .filename(&live)
            .journal_mode(SqliteJournalMode::Wal)
            .connect()
            .await?;
        sqlx::query("SELECT 1").execute(&mut conn).await?;
    }
    Ok(info)
}
