//! `quantriet bench http`: the real app over HTTP against a hello-world axum route measured in
//! the same run on the same machine, so the figures are ratios, not absolute numbers that depend
//! on the machine. Each engine gets a fresh database with the demo province.

use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Subcommand;
use serde::Serialize;
use store::demo::{self, Scale};
use store::testing::{fresh, Engine};
use store::Db;

use crate::config::Config;

#[derive(Subcommand, Debug)]
pub enum Which {
    /// Pages and API calls of the study loop vs. a hello-world route, on SQLite and PostgreSQL.
    Http {
        /// Concurrent clients.
        #[arg(long, default_value_t = 64)]
        clients: usize,
        /// Seconds per measurement.
        #[arg(long, default_value_t = 5)]
        seconds: u64,
    },
}

#[derive(Debug, Clone, Serialize)]
struct Figure {
    name: String,
    engine: String,
    rps: f64,
    p50_ms: f64,
    p99_ms: f64,
    /// rps / baseline rps
    ratio: f64,
    /// Rows written per second, for batch writes.
    #[serde(skip_serializing_if = "Option::is_none")]
    rows_per_s: Option<f64>,
}

pub async fn run(which: Which, json: bool, _config: &Config) -> anyhow::Result<()> {
    let Which::Http { clients, seconds } = which;
    let dur = Duration::from_secs(seconds);
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(clients)
        .build()?;
    let (base_rps, base_p50, base_p99) = baseline(&client, clients, dur).await?;
    let mut figures = vec![Figure {
        name: "hello-world axum (baseline)".into(),
        engine: "-".into(),
        rps: base_rps,
        p50_ms: base_p50,
        p99_ms: base_p99,
        ratio: 1.0,
        rows_per_s: None,
    }];
    for engine in [Engine::Sqlite, Engine::Postgres] {
        let Some(t) = fresh(engine).await else {
            eprintln!("PostgreSQL unreachable: skipping it");
            continue;
        };
        let db = Db::connect(&t.url).await?;
        db.migrate().await?;
        demo::load(&db, Scale::Small, 2026, true).await?;
        let app = web::app::App::build(db.clone(), "127.0.0.1:0", Default::default()).await?;
        let base = format!("http://{}", app.local_addr()?);
        let server = tokio::spawn(app.serve(std::future::pending()));
        let token = login(&client, &base).await?;
        let auth = format!("Bearer {token}");
        let name = db.engine().to_string();
        // The in-person demo class of the first commune: its first session has ~100 participants.
        let classes: serde_json::Value = client
            .get(format!("{base}/api/v1/classes"))
            .header("authorization", &auth)
            .send()
            .await?
            .json()
            .await?;
        let class_id = classes
            .as_array()
            .and_then(|a| a.iter().find(|c| c["form"] == "in_person"))
            .and_then(|c| c["id"].as_i64())
            .unwrap_or(2);
        let detail: serde_json::Value = client
            .get(format!("{base}/api/v1/classes/{class_id}"))
            .header("authorization", &auth)
            .send()
            .await?
            .json()
            .await?;
        let session_id = detail["sessions"][0]["id"].as_i64().unwrap_or(1);
        let sheet: serde_json::Value = client
            .get(format!("{base}/api/v1/sessions/{session_id}/attendance"))
            .header("authorization", &auth)
            .send()
            .await?
            .json()
            .await?;
        let marks: Vec<serde_json::Value> = sheet
            .as_array()
            .map(|rows| rows.iter().map(|r| serde_json::json!({"participant_id": r["participant_id"], "status": "present", "late_minutes": 5})).collect())
            .unwrap_or_default();
        let batch = Arc::new(serde_json::json!({ "marks": marks }).to_string());
        let rows = marks.len();

        let cases: Vec<(&str, Req)> = vec![
            (
                "GET /api/v1/people (50 per page, name order)",
                Req::get(format!("{base}/api/v1/people?per_page=50"), &auth),
            ),
            (
                "GET /classes/{id} results page (HTML)",
                Req::get(format!("{base}/classes/{class_id}?tab=results"), &auth),
            ),
            (
                "PUT /api/v1/sessions/{id}/attendance (batch)",
                Req::put(
                    format!("{base}/api/v1/sessions/{session_id}/attendance"),
                    &auth,
                    batch,
                ),
            ),
        ];
        for (label, req) in cases {
            let is_batch = req.body.is_some();
            let (rps, p50, p99) = load(&client, clients, dur, req).await?;
            figures.push(Figure {
                name: label.into(),
                engine: name.clone(),
                rps,
                p50_ms: p50,
                p99_ms: p99,
                ratio: rps / base_rps,
                rows_per_s: is_batch.then_some(rps * rows as f64),
            });
        }
        server.abort();
        db.close().await;
    }
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(
                &serde_json::json!({ "clients": clients, "seconds": seconds, "baseline_rps": base_rps, "figures": figures })
            )?
        );
    } else {
        println!("{clients} concurrent clients, {seconds} s each, same machine, same run\n");
        println!(
            "{:<50} {:>8} {:>10} {:>8} {:>8} {:>7} {:>11}",
            "request", "engine", "req/s", "p50 ms", "p99 ms", "ratio", "rows/s"
        );
        for f in &figures {
            let rows = f.rows_per_s.map(|r| format!("{r:.0}")).unwrap_or_default();
            println!(
                "{:<50} {:>8} {:>10.0} {:>8.2} {:>8.2} {:>7.3} {:>11}",
                f.name, f.engine, f.rps, f.p50_ms, f.p99_ms, f.ratio, rows
            );
        }
    }
    Ok(())
}

#[derive(Clone)]
struct Req {
    url: String,
    auth: String,
    body: Option<Arc<String>>,
}

impl Req {
    fn get(url: String, auth: &str) -> Self {
        Self {
            url,
            auth: auth.into(),
            body: None,
        }
    }
    fn put(url: String, auth: &str, body: Arc<String>) -> Self {
        Self {
            url,
            auth: auth.into(),
            body: Some(body),
        }
    }
}

async fn login(client: &reqwest::Client, base: &str) -> anyhow::Result<String> {
    let r: serde_json::Value = client
        .post(format!("{base}/api/v1/auth/login"))
        .json(&serde_json::json!({"username": "admin", "password": demo::DEMO_PASSWORD}))
        .send()
        .await?
        .json()
        .await?;
    r["token"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| anyhow::anyhow!("login failed: {r}"))
}

async fn baseline(
    client: &reqwest::Client,
    clients: usize,
    dur: Duration,
) -> anyhow::Result<(f64, f64, f64)> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let app = axum::Router::new().route("/", axum::routing::get(|| async { "Hello, World!" }));
    let server = tokio::spawn(async move { axum::serve(listener, app).await });
    let r = load(
        client,
        clients,
        dur,
        Req::get(format!("http://{addr}/"), ""),
    )
    .await;
    server.abort();
    r
}

/// Runs `clients` loops for `dur`; returns (requests/s, p50 ms, p99 ms). Any non-2xx aborts.
async fn load(
    client: &reqwest::Client,
    clients: usize,
    dur: Duration,
    req: Req,
) -> anyhow::Result<(f64, f64, f64)> {
    // Warm-up: connections and caches.
    for _ in 0..clients.min(16) {
        send(client, &req).await?;
    }
    let start = Instant::now();
    let mut tasks = Vec::with_capacity(clients);
    for _ in 0..clients {
        let client = client.clone();
        let req = req.clone();
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            while start.elapsed() < dur {
                let t = Instant::now();
                send(&client, &req).await?;
                lat.push(t.elapsed());
            }
            Ok::<_, anyhow::Error>(lat)
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await??);
    }
    let secs = start.elapsed().as_secs_f64();
    all.sort();
    let pct = |p: f64| {
        all.get(((all.len() as f64 * p) as usize).min(all.len().saturating_sub(1)))
            .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    };
    Ok((all.len() as f64 / secs, pct(0.50), pct(0.99)))
}

async fn send(client: &reqwest::Client, req: &Req) -> anyhow::Result<()> {
    let mut b = match &req.body {
        Some(body) => client
            .put(&req.url)
            .header("content-type", "application/json")
            .body(body.as_ref().clone()),
        None => client.get(&req.url),
    };
    if !req.auth.is_empty() {
        b = b.header("authorization", &req.auth);
    }
    let r = b.send().await?;
    if !r.status().is_success() {
        anyhow::bail!("{} answered {}", req.url, r.status());
    }
    r.bytes().await?;
    Ok(())
}
