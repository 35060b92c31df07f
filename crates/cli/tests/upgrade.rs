//! Upgrades (issue 13.5): a database made by an older release (kept in `tests/data/`, see its
//! README) is upgraded by the migrations when the current program starts on it, and serves: its
//! accounts log in and its classes and people are there. SQLite from the kept file; PostgreSQL
//! from the kept `pg_dump` file through `pg_restore`.
#![allow(clippy::unwrap_used)]

mod common;

use std::io::Read;

use common::{free_addr, page, wait_ready};
use fixtures::testing::{fresh, Engine};
use serde_json::Value;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn older_release_database_upgrades_and_serves_sqlite() {
    run(Engine::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn older_release_database_upgrades_and_serves_postgres() {
    run(Engine::Postgres).await;
}

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data");

async fn run(engine: Engine) {
    let Some(t) = fresh(engine).await else {
        return;
    };
    let old_version = 9;
    match engine {
        Engine::Sqlite => {
            let gz = std::fs::File::open(format!("{DATA}/schema-0009-sqlite.db.gz")).unwrap();
            let mut bytes = Vec::new();
            flate2::read::GzDecoder::new(gz)
                .read_to_end(&mut bytes)
                .unwrap();
            std::fs::write(&t.url, bytes).unwrap();
        }
        Engine::Postgres => {
            // pg_restore itself, so that the schema stays the old one until the server starts
            // (`quantriet restore` would migrate it at once).
            let (ok, out) = common::output(
                std::process::Command::new("pg_restore")
                    .args([
                        "--no-owner",
                        "--no-privileges",
                        "--exit-on-error",
                        "--dbname",
                    ])
                    .arg(&t.url)
                    .arg(format!("{DATA}/schema-0009-postgres.dump")),
            );
            assert!(ok, "restore of the old dump: {out}");
        }
    }
    let db = store::Db::connect(&t.url).await.unwrap();
    assert_eq!(db.schema_version().await.unwrap(), old_version);
    db.close().await;

    let addr = free_addr();
    let base = format!("http://{addr}");
    let mut server = std::process::Command::new(env!("CARGO_BIN_EXE_quantriet"))
        .arg("serve")
        .env("QUANTRIET_DATABASE_URL", &t.url)
        .env("QUANTRIET_LISTEN", &addr)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let client = common::browser();
    wait_ready(&client, &base).await;
    let db = store::Db::connect(&t.url).await.unwrap();
    assert_eq!(
        db.schema_version().await.unwrap(),
        store::backup::known_version(&t.url),
        "migrated to this program's schema on start"
    );
    db.close().await;
    // Migration 0014 gave the old rows their province keys (issue 13.6).
    for table in [
        "participants",
        "attendance",
        "study_sessions",
        "org_closure",
        "completions",
    ] {
        let missing = common::scalar(
            &t.url,
            &format!("SELECT COUNT(*) FROM {table} WHERE province_id IS NULL"),
        )
        .await;
        let rows = common::scalar(&t.url, &format!("SELECT COUNT(*) FROM {table}")).await;
        assert!(
            rows > 0 && missing == 0,
            "{table}: {missing} of {rows} rows without a key"
        );
    }
    // The old data serves: a login, its classes and people, a page.
    let token = common::api_token(&client, &base, "organizer").await;
    let token = token.as_str();
    let get = |path: &str| {
        client
            .get(format!("{base}/api/v1{path}"))
            .bearer_auth(token)
            .send()
    };
    let classes: Value = get("/classes").await.unwrap().json().await.unwrap();
    assert!(!classes.as_array().unwrap().is_empty(), "{classes}");
    let people: Value = get("/people?per_page=5")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(people["total"].as_i64().unwrap() > 0, "{people}");
    // The old demo's accounts keep the published password: the notice is there.
    assert!(page(&client, &format!("{base}/login"))
        .await
        .contains("Dữ liệu dùng thử"));
    server.kill().unwrap();
    server.wait().unwrap();
}
