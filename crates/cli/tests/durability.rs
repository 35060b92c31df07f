//! Reliability of check-in (issue 3, R3.4): the server is killed with SIGKILL in the middle of a
//! check-in load and started again; every check-in that was answered with a 2xx must be in the
//! database. Runs the real binary on SQLite and on a fresh PostgreSQL database.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

use common::{checkin_load, free_addr, open_session, start, stored_checkins, wait_ready};
use fixtures::testing::{fresh, Engine};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r3_4_sigkill_loses_no_answered_checkin_sqlite() {
    run(Engine::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r3_4_sigkill_loses_no_answered_checkin_postgres() {
    run(Engine::Postgres).await;
}

async fn run(engine: Engine) {
    let Some(t) = fresh(engine).await else {
        return;
    };
    let addr = free_addr();
    let base = format!("http://{addr}");
    let client = reqwest::Client::new();
    let mut server = start(&t.url, &addr);
    wait_ready(&client, &base).await;

    let target = open_session(&client, &base, "Thử mất điện giữa buổi").await;
    let session_id = target.session_id;

    // 32 clients check in as fast as they can; the answered ids are kept.
    let (answered, tasks) = checkin_load(
        &client,
        &base,
        &target,
        32,
        "kill",
        Arc::new(AtomicBool::new(false)),
    );
    tokio::time::sleep(Duration::from_millis(2500)).await;
    server.kill().unwrap();
    server.wait().unwrap();
    for t in tasks {
        t.await.unwrap();
    }
    let answered = common::answered_ids(&answered);
    assert!(
        answered.len() > 50,
        "the load ran before the kill ({} answered)",
        answered.len()
    );

    // Started again on the same database: every answered check-in is there, and the marks agree.
    let mut server = start(&t.url, &addr);
    wait_ready(&client, &base).await;
    let stored = stored_checkins(&t.url, session_id).await;
    let db = store::Db::connect(&t.url).await.unwrap();
    let lost: Vec<&String> = answered.difference(&stored).collect();
    assert!(lost.is_empty(), "answered but lost after SIGKILL: {lost:?}");
    let marked: Vec<(i64,)> = match &db {
        store::Db::Sqlite(p) => sqlx::query_as("SELECT DISTINCT c.participant_id FROM checkins c LEFT JOIN attendance a ON a.session_id = c.session_id AND a.participant_id = c.participant_id WHERE c.session_id = $1 AND c.direction = 'in' AND (a.status IS NULL OR a.status <> 'present')")
            .bind(session_id).fetch_all(p).await,
        store::Db::Postgres(p) => sqlx::query_as("SELECT DISTINCT c.participant_id FROM checkins c LEFT JOIN attendance a ON a.session_id = c.session_id AND a.participant_id = c.participant_id WHERE c.session_id = $1 AND c.direction = 'in' AND (a.status IS NULL OR a.status <> 'present')")
            .bind(session_id).fetch_all(p).await,
    }
    .unwrap();
    assert!(
        marked.is_empty(),
        "checked in but not marked present: {marked:?}"
    );
    db.close().await;
    server.kill().unwrap();
    server.wait().unwrap();
}
