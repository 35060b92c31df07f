//! Backups and restore (issue 13.4): `quantriet backup` while the server takes check-ins, then
//! `quantriet restore` onto the same database; every check-in answered before the backup began
//! is there and the server serves again. A file from another program, a backup of a newer schema
//! and a database upgraded by a newer program are refused and change nothing. Both engines.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{
    checkin_load, exec, free_addr, open_session, page, quantriet, start, stored_checkins,
    wait_ready,
};
use fixtures::testing::{fresh, Engine};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_under_load_restores_every_answered_write_sqlite() {
    run(Engine::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_under_load_restores_every_answered_write_postgres() {
    run(Engine::Postgres).await;
}

async fn run(engine: Engine) {
    let Some(t) = fresh(engine).await else {
        return;
    };
    let dir = common::scratch("backup", engine);
    let file = dir.join("backup.qtb");
    let addr = free_addr();
    let base = format!("http://{addr}");
    let client = reqwest::Client::new();
    let mut server = start(&t.url, &addr);
    wait_ready(&client, &base).await;
    // Issue 13.1: a database with the demo's published passwords says so before anyone logs in.
    let login = page(&client, &format!("{base}/login")).await;
    assert!(
        login.contains("Dữ liệu dùng thử"),
        "no trial notice on the demo"
    );
    let target = open_session(&client, &base, "Sao lưu khi đang điểm danh").await;

    // 16 clients check in while the backup runs.
    let stop = Arc::new(AtomicBool::new(false));
    let (answered, tasks) = checkin_load(&client, &base, &target, 16, "bk", stop.clone());
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let began = Instant::now();
    let (url, path) = (t.url.clone(), file.to_string_lossy().into_owned());
    let (ok, out) = tokio::task::spawn_blocking(move || quantriet(&url, &["backup", &path]))
        .await
        .unwrap();
    assert!(ok, "backup failed: {out}");
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop.store(true, Ordering::Relaxed);
    for task in tasks {
        task.await.unwrap();
    }
    let answered = answered.lock().unwrap().clone();
    let before: BTreeSet<String> = answered
        .iter()
        .filter(|(_, at)| *at < began)
        .map(|(id, _)| id.clone())
        .collect();
    let all: BTreeSet<String> = answered.iter().map(|(id, _)| id.clone()).collect();
    assert!(
        before.len() > 20,
        "the load ran before the backup ({})",
        before.len()
    );
    assert!(all.len() > before.len(), "the load ran during the backup");
    server.kill().unwrap();
    server.wait().unwrap();

    // Refused, and nothing changes: a file of another program…
    let now_stored = stored_checkins(&t.url, target.session_id).await;
    let junk = dir.join("junk.qtb");
    std::fs::write(&junk, b"PK\x03\x04 not a backup at all").unwrap();
    let (ok, out) = quantriet(&t.url, &["restore", &junk.to_string_lossy()]);
    assert!(!ok && out.contains("not a quantriet backup"), "{out}");
    // … a backup made by a newer program (schema 99999) …
    let future =
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
                  VALUES (99999, 'from the future', TRUE, '', 0)";
    exec(&t.url, future).await;
    let newer = dir.join("newer.qtb");
    let (ok, out) = quantriet(&t.url, &["backup", &newer.to_string_lossy()]);
    assert!(ok, "{out}");
    // … and a database already upgraded by a newer program.
    let (ok, out) = quantriet(&t.url, &["restore", &file.to_string_lossy()]);
    assert!(!ok && out.contains("newer schema"), "{out}");
    exec(&t.url, "DELETE FROM _sqlx_migrations WHERE version = 99999").await;
    let (ok, out) = quantriet(&t.url, &["restore", &newer.to_string_lossy()]);
    assert!(!ok && out.contains("newer version of quantriet"), "{out}");
    assert_eq!(
        stored_checkins(&t.url, target.session_id).await,
        now_stored,
        "a refused restore changed the database"
    );
    // Writing over an existing file is refused too.
    let (ok, out) = quantriet(&t.url, &["backup", &file.to_string_lossy()]);
    assert!(!ok && out.contains("already exists"), "{out}");

    // The real restore: every check-in answered before the backup began is back, none that
    // was never answered, and the server serves on the restored database.
    let (ok, out) = quantriet(&t.url, &["restore", &file.to_string_lossy()]);
    assert!(ok, "restore failed: {out}");
    let restored = stored_checkins(&t.url, target.session_id).await;
    let lost: Vec<&String> = before.difference(&restored).collect();
    assert!(
        lost.is_empty(),
        "answered before the backup, missing after restore: {lost:?}"
    );
    let invented: Vec<&String> = restored.difference(&all).collect();
    assert!(
        invented.is_empty(),
        "restored but never answered: {invented:?}"
    );
    assert!(
        restored.len() < now_stored.len(),
        "the restore put back the state of the backup, not of the end ({} vs {})",
        restored.len(),
        now_stored.len()
    );
    let mut server = start(&t.url, &addr);
    wait_ready(&client, &base).await;
    let again = open_session(&client, &base, "Sau khi khôi phục").await;
    assert!(!again.participants.is_empty());
    server.kill().unwrap();
    server.wait().unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}
