//! What the tests of the real binary share: starting it, waiting for it, and a check-in load
//! through the API on a session opened for the test.
#![allow(dead_code, clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

pub fn free_addr() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().to_string()
}

/// `quantriet serve` on `url` at `addr`, with the demo province loaded into an empty database.
pub fn start(url: &str, addr: &str) -> Child {
    start_with(url, addr, &[])
}

/// [`start`] with more settings (`QUANTRIET_…` variables).
pub fn start_with(url: &str, addr: &str, env: &[(&str, String)]) -> Child {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_quantriet"));
    cmd.arg("serve")
        .env("QUANTRIET_DATABASE_URL", url)
        .env("QUANTRIET_LISTEN", addr)
        // A configured database gets the demo only when asked (issue 13.1).
        .env("QUANTRIET_DEMO", "true")
        .env("QUANTRIET_API_RATE_PER_MINUTE", "0")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.spawn().unwrap()
}

/// Runs one statement on the database at `url` (a test's own setup).
pub async fn exec(url: &str, sql: &str) {
    let db = store::Db::connect(url).await.unwrap();
    match &db {
        store::Db::Sqlite(p) => sqlx::query(sql).execute(p).await.map(|_| ()),
        store::Db::Postgres(p) => sqlx::query(sql).execute(p).await.map(|_| ()),
    }
    .unwrap();
    db.close().await;
}

/// One number from the database at `url`.
pub async fn scalar(url: &str, sql: &str) -> i64 {
    let db = store::Db::connect(url).await.unwrap();
    let (n,): (i64,) = match &db {
        store::Db::Sqlite(p) => sqlx::query_as(sql).fetch_one(p).await,
        store::Db::Postgres(p) => sqlx::query_as(sql).fetch_one(p).await,
    }
    .unwrap();
    db.close().await;
    n
}

/// Runs a `quantriet` command on `url`; (success, stdout + stderr).
pub fn quantriet(url: &str, args: &[&str]) -> (bool, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_quantriet"));
    cmd.args(args)
        .env("QUANTRIET_DATABASE_URL", url)
        .env("RUST_LOG", "warn");
    output(&mut cmd)
}

/// A new empty folder for one test run.
pub fn scratch(tag: &str, engine: fixtures::testing::Engine) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "qt-{tag}-{}-{}",
        std::process::id(),
        format!("{engine:?}").to_lowercase()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs `cmd` to its end; (success, stdout + stderr).
pub fn output(cmd: &mut Command) -> (bool, String) {
    let out = cmd.output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// A client that keeps cookies and shows redirects as they are (a browser's login).
pub fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// The body of `GET url`.
pub async fn page(client: &reqwest::Client, url: &str) -> String {
    client.get(url).send().await.unwrap().text().await.unwrap()
}

pub async fn wait_ready(client: &reqwest::Client, base: &str) {
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

/// A session open now in an in-person class of the demo organizer, and its participants.
pub struct Target {
    pub auth: String,
    pub class_id: i64,
    pub session_id: i64,
    pub participants: Vec<i64>,
    /// The session's start as entered: dd/mm/yyyy and HH:MM (Vietnam time).
    pub date: String,
    pub start_time: String,
}

/// A bearer token of a demo account (no second factor) through `POST /api/v1/auth/login`.
pub async fn api_token(client: &reqwest::Client, base: &str, username: &str) -> String {
    let login: Value = client
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"username": username, "password": fixtures::demo::DEMO_PASSWORD}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    login["token"]
        .as_str()
        .unwrap_or_else(|| panic!("{login}"))
        .to_string()
}

pub async fn open_session(client: &reqwest::Client, base: &str, topic: &str) -> Target {
    let auth = format!("Bearer {}", api_token(client, base, "organizer").await);
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
    let (date, start_time) = (
        start_at.format("%d/%m/%Y").to_string(),
        start_at.format("%H:%M").to_string(),
    );
    let session: Value = client
        .post(format!("{base}/api/v1/classes/{class_id}/sessions"))
        .header("authorization", &auth)
        .json(&json!({"date": date, "start_time": start_time,
                      "duration_minutes": 120, "topic": topic}))
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
    Target {
        auth,
        class_id,
        session_id,
        participants,
        date,
        start_time,
    }
}

/// Check-ins answered with a 2xx, each with the moment its answer arrived.
pub type Answered = Arc<Mutex<Vec<(String, Instant)>>>;

/// `clients` tasks check in as fast as they can until `stop` is set or the server is gone.
pub fn checkin_load(
    client: &reqwest::Client,
    base: &str,
    t: &Target,
    clients: usize,
    tag: &str,
    stop: Arc<AtomicBool>,
) -> (Answered, Vec<tokio::task::JoinHandle<()>>) {
    let answered: Answered = Arc::default();
    let mut tasks = Vec::new();
    for c in 0..clients {
        let (client, base, auth, participants, answered, stop, tag) = (
            client.clone(),
            base.to_string(),
            t.auth.clone(),
            t.participants.clone(),
            answered.clone(),
            stop.clone(),
            tag.to_string(),
        );
        let session_id = t.session_id;
        tasks.push(tokio::spawn(async move {
            for n in 0.. {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                let id = format!("{tag}-{c:02}-{n:06}");
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
                        answered.lock().unwrap().push((id, Instant::now()));
                    }
                    // The server is gone (killed): stop.
                    _ => break,
                }
            }
        }));
    }
    (answered, tasks)
}

/// The ids of the check-ins stored for `session_id`.
pub async fn stored_checkins(url: &str, session_id: i64) -> BTreeSet<String> {
    let db = store::Db::connect(url).await.unwrap();
    let rows: Vec<(String,)> = match &db {
        store::Db::Sqlite(p) => {
            sqlx::query_as("SELECT id FROM checkins WHERE session_id = $1")
                .bind(session_id)
                .fetch_all(p)
                .await
        }
        store::Db::Postgres(p) => {
            sqlx::query_as("SELECT id FROM checkins WHERE session_id = $1")
                .bind(session_id)
                .fetch_all(p)
                .await
        }
    }
    .unwrap();
    db.close().await;
    rows.into_iter().map(|(id,)| id).collect()
}

/// The deploy files (docs/deploy) the tests run as written.
pub const DEPLOY: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/deploy");

/// nginx, when installed.
pub fn nginx_binary() -> Option<&'static str> {
    ["nginx", "/usr/sbin/nginx"].into_iter().find(|b| {
        Command::new(b)
            .arg("-v")
            .output()
            .is_ok_and(|o| o.status.success())
    })
}

/// nginx on 127.0.0.1:`port` with the deploy location block, the upstream being the instances
/// at `apps` (reached from 127.0.0.2, the trusted proxy).
pub fn start_nginx(bin: &str, dir: &std::path::Path, port: u16, apps: &[&str]) -> Child {
    let tmp = dir.join("tmp");
    std::fs::create_dir_all(&tmp).unwrap();
    let d = dir.display();
    let servers: String = apps.iter().map(|a| format!("server {a}; ")).collect();
    let conf = format!(
        "daemon off;\nuser root;\nworker_processes 1;\npid {d}/nginx.pid;\nerror_log {d}/error.log;\n\
         events {{ worker_connections 256; }}\n\
         http {{\n  access_log {d}/access.log;\n  client_body_temp_path {d}/tmp/body;\n  proxy_temp_path {d}/tmp/proxy;\n\
           fastcgi_temp_path {d}/tmp/fastcgi;\n  uwsgi_temp_path {d}/tmp/uwsgi;\n  scgi_temp_path {d}/tmp/scgi;\n\
           upstream quantriet {{ {servers}}}\n\
           server {{\n    listen 127.0.0.1:{port};\n    proxy_bind 127.0.0.2;\n    include {DEPLOY}/nginx-locations.conf;\n  }}\n}}\n"
    );
    let path = dir.join("nginx.conf");
    std::fs::write(&path, conf).unwrap();
    Command::new(bin)
        .arg("-c")
        .arg(&path)
        .arg("-p")
        .arg(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// `GET base+path` with a bearer token, as JSON.
pub async fn get_json(client: &reqwest::Client, url: &str, token: &str) -> Value {
    client
        .get(url)
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// The ids of the answered check-ins.
pub fn answered_ids(answered: &Answered) -> BTreeSet<String> {
    answered
        .lock()
        .unwrap()
        .iter()
        .map(|(id, _)| id.clone())
        .collect()
}
