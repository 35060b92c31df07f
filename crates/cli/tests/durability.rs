//! Reliability of check-in (issue 3, R3.4): the server is killed with SIGKILL in the middle of a
//! check-in load and started again; every check-in that was answered with a 2xx must be in the
//! database. Runs the real binary on SQLite and on a fresh PostgreSQL database.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use fixtures::testing::{fresh, Engine};
use serde_json::{json, Value};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r3_4_sigkill_loses_no_answered_checkin_sqlite() {
    run(Engine::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r3_4_sigkill_loses_no_answered_checkin_postgres() {
    run(Engine::Postgres).await;
}

fn free_addr() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().to_string()
}

fn start(url: &str, addr: &str) -> Child {
    Command::new(env!("CARGO_BIN_EXE_quantriet"))
        .arg("serve")
        .env("QUANTRIET_DATABASE_URL", url)
        .env("QUANTRIET_LISTEN", addr)
        .env("QUANTRIET_API_RATE_PER_MINUTE", "0")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

async fn wait_ready(client: &reqwest::Client, base: &str) {
    let begin = Instant::now();
    loop {
        if let Ok(r) = client.get(format!("{base}/healthz")).send().await {
            if r.status().is_success() {
                return;
            }
        }
        assert!(
            begin.elapsed() < Duration::from_secs(180),
            "the server did not come up"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
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

    let login: Value = client
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"username": "organizer", "password": fixtures::demo::DEMO_PASSWORD}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let auth = format!("Bearer {}", login["token"].as_str().unwrap());
    let classes: Value = client
        .get(format!("{base}/api/v1/classes"))
        .header("authorization", &auth)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let class_id = classes
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["form"] == "in_person")
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let start_at = domain::study::utc_to_local(chrono::Utc::now() - chrono::Duration::minutes(10));
    let session: Value = client
        .post(format!("{base}/api/v1/classes/{class_id}/sessions"))
        .header("authorization", &auth)
        .json(&json!({"date": start_at.format("%d/%m/%Y").to_string(), "start_time": start_at.format("%H:%M").to_string(),
                      "duration_minutes": 120, "topic": "Thử mất điện giữa buổi"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let session_id = session["id"].as_i64().unwrap();
    let participants: Vec<i64> = client
        .get(format!("{base}/api/v1/classes/{class_id}/participants"))
        .header("authorization", &auth)
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap()
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_i64().unwrap())
        .collect();

    // 32 clients check in as fast as they can; the answered ids are kept.
    let answered = Arc::new(Mutex::new(BTreeSet::new()));
    let mut tasks = Vec::new();
    for c in 0..32usize {
        let (client, base, auth, participants, answered) = (
            client.clone(),
            base.clone(),
            auth.clone(),
            participants.clone(),
            answered.clone(),
        );
        tasks.push(tokio::spawn(async move {
            for n in 0.. {
                let id = format!("kill-{c:02}-{n:06}");
                let p = participants[(c + n) % participants.len()];
                let body = json!({"checkins": [{"id": id, "session_id": session_id, "participant_id": p, "direction": if n % 3 == 2 { "out" } else { "in" }}]});
                match client
                    .post(format!("{base}/api/v1/checkins"))
                    .header("authorization", &auth)
                    .json(&body)
                    .send()
                    .await
                {
                    Ok(r) if r.status().is_success() => {
                        let report: Value = match r.json().await {
                            Ok(v) => v,
                            Err(_) => break,
                        };
                        assert_eq!(report["stored"], 1, "{report}");
                        answered.lock().unwrap().insert(id);
                    }
                    // The server is gone (killed): stop.
                    _ => break,
                }
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(2500)).await;
    server.kill().unwrap();
    server.wait().unwrap();
    for t in tasks {
        t.await.unwrap();
    }
    let answered = answered.lock().unwrap().clone();
    assert!(
        answered.len() > 50,
        "the load ran before the kill ({} answered)",
        answered.len()
    );

    // Started again on the same database: every answered check-in is there, and the marks agree.
    let mut server = start(&t.url, &addr);
    wait_ready(&client, &base).await;
    let db = store::Db::connect(&t.url).await.unwrap();
    let stored: BTreeSet<String> = match &db {
        store::Db::Sqlite(p) => {
            sqlx::query_as::<_, (String,)>("SELECT id FROM checkins WHERE session_id = $1")
                .bind(session_id)
                .fetch_all(p)
                .await
        }
        store::Db::Postgres(p) => {
            sqlx::query_as::<_, (String,)>("SELECT id FROM checkins WHERE session_id = $1")
                .bind(session_id)
                .fetch_all(p)
                .await
        }
    }
    .unwrap()
    .into_iter()
    .map(|(id,)| id)
    .collect();
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
