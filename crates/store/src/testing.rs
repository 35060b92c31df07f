//! Fresh databases for tests: a temporary SQLite file, or a new PostgreSQL database created for
//! the test and dropped after it. Never a shared mutable database.

use crate::db::Db;

/// Which engine a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

/// The PostgreSQL server used to create test databases (trust auth on this machine).
pub fn postgres_admin_url() -> String {
    std::env::var("QUANTRIET_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// A database that is removed when dropped.
pub struct TestDb {
    pub url: String,
    cleanup: Cleanup,
}

enum Cleanup {
    File(std::path::PathBuf),
    Database { admin: String, name: String },
}

impl Drop for TestDb {
    fn drop(&mut self) {
        match &self.cleanup {
            Cleanup::File(path) => {
                for suffix in ["", "-wal", "-shm"] {
                    let mut p = path.clone().into_os_string();
                    p.push(suffix);
                    let _ = std::fs::remove_file(p);
                }
            }
            Cleanup::Database { admin, name } => {
                let (admin, name) = (admin.clone(), name.clone());
                // Drop runs outside any runtime we may block on: use a thread with its own.
                let _ = std::thread::spawn(move || {
                    let rt = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build();
                    if let Ok(rt) = rt {
                        rt.block_on(async {
                            if let Ok(db) = Db::connect(&admin).await {
                                let sql =
                                    format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)");
                                if let Db::Postgres(p) = &db {
                                    let _ = sqlx::query(&sql).execute(p).await;
                                }
                                db.close().await;
                            }
                        });
                    }
                })
                .join();
            }
        }
    }
}

fn unique_name() -> String {
    format!(
        "qt_test_{}_{}",
        std::process::id(),
        crate::auth::random_token().get(..12).unwrap_or("x")
    )
}

/// A fresh, empty (unmigrated) database on `engine`. `None` when PostgreSQL is unreachable and
/// this is not CI; under `CI=true` an unreachable PostgreSQL fails the test instead of skipping.
pub async fn fresh(engine: Engine) -> Option<TestDb> {
    match engine {
        Engine::Sqlite => {
            let path = std::env::temp_dir().join(format!("{}.db", unique_name()));
            Some(TestDb {
                url: path.to_string_lossy().into_owned(),
                cleanup: Cleanup::File(path),
            })
        }
        Engine::Postgres => {
            let admin = postgres_admin_url();
            let db = match Db::connect(&admin).await {
                Ok(db) => db,
                Err(e) => {
                    if std::env::var("CI").is_ok_and(|v| v == "true") {
                        panic!("PostgreSQL unreachable at {admin} under CI=true: {e}");
                    }
                    eprintln!("skipping the PostgreSQL run: {admin} unreachable ({e})");
                    return None;
                }
            };
            let name = unique_name();
            if let Db::Postgres(p) = &db {
                let sql = format!("CREATE DATABASE \"{name}\"");
                sqlx::query(&sql)
                    .execute(p)
                    .await
                    .expect("create test database");
            }
            db.close().await;
            let base = admin
                .rsplit_once('/')
                .map(|(b, _)| b.to_string())
                .unwrap_or(admin.clone());
            Some(TestDb {
                url: format!("{base}/{name}"),
                cleanup: Cleanup::Database { admin, name },
            })
        }
    }
}
