//! `quantriet bench checkin` and `quantriet bench national` (issue 3, R3.4).
//!
//! `checkin`: the real check-in endpoint (bearer token, idempotent ids, durable before the
//! reply) under many concurrent clients, against a hello-world axum route measured in the same
//! run. `national`: a replay of the 7/2/2026 conference — 31,000 bridge points, 1.9 million
//! check-ins from operator batch uploads and individual QR scans — with wall time and peak memory.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::json;
use store::Db;

/// One engine's check-in figures.
#[derive(Debug, Serialize)]
struct CheckinFigure {
    engine: String,
    /// Hello-world axum on the same machine, same run.
    baseline_rps: f64,
    /// The same router, middleware and bearer authentication doing nothing (`POST /api/v1/ping`
    /// as the same operator).
    stack_baseline_rps: f64,
    checkin_rps: f64,
    /// check-in / hello-world.
    ratio: f64,
    /// check-in / same stack doing nothing (issue 12: at least 0.5 is the target).
    stack_ratio: f64,
    p50_ms: f64,
    p99_ms: f64,
    clients: usize,
    checkins: u64,
}

/// Serves the app over `db` on a random port.
async fn start(db: &Db) -> anyhow::Result<(String, tokio::task::JoinHandle<()>)> {
    let config = web::app::WebConfig {
        api_rate_per_minute: 0,
        ..Default::default()
    };
    let app = web::app::App::build(db.clone(), "127.0.0.1:0", config).await?;
    let base = format!("http://{}", app.local_addr()?);
    let server = tokio::spawn(async move {
        let _ = app.serve(std::future::pending()).await;
    });
    Ok((base, server))
}

pub async fn checkin(
    clients: usize,
    seconds: u64,
    only: Option<&str>,
    json_out: bool,
) -> anyhow::Result<()> {
    let dur = Duration::from_secs(seconds);
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(clients)
        .build()?;
    let (base_rps, _, _) = crate::bench::baseline(&client, clients, dur).await?;
    let mut figures = Vec::new();
    for engine in crate::bench::engines(only)? {
        let Some((_t, db)) = crate::bench::fresh_db(engine).await? else {
            continue;
        };
        // A conference of 3,100 bridge points and 200,000 participants: every request checks in
        // someone new, as in a hall, through the operator of the participant's province.
        let conf = fixtures::benchdata::national_conference(&db, 3_100, 200_000, 0).await?;
        let (base, server) = start(&db).await?;
        let session = conf.session_id;
        let lanes: Vec<(String, Vec<i64>)> = conf
            .operators
            .iter()
            .map(|(token, points)| {
                let people: Vec<i64> = points
                    .iter()
                    .flat_map(|p| p.participants.iter().copied())
                    .collect();
                (format!("Bearer {token}"), people)
            })
            .collect();
        // The same stack doing nothing, as the same operator.
        let (stack_rps, _, _) = crate::bench::load(
            &client,
            clients,
            dur,
            crate::bench::Req::post(format!("{base}/api/v1/ping"), &lanes[0].0),
        )
        .await?;
        let counter = Arc::new(AtomicU64::new(0));
        // Warm-up.
        post_checkin(
            &client,
            &base,
            &lanes[0].0,
            session,
            lanes[0].1[0],
            "warm-0000",
        )
        .await?;
        let begin = Instant::now();
        let mut tasks = Vec::new();
        for c in 0..clients {
            // Clients share their province's list: each takes every k-th person of it.
            let lane = c % lanes.len();
            let sharing = (clients + lanes.len() - 1 - lane) / lanes.len();
            let (auth, people) = lanes[lane].clone();
            let (client, base, counter) = (client.clone(), base.clone(), counter.clone());
            let offset = c / lanes.len();
            tasks.push(tokio::spawn(async move {
                let mut lat = Vec::new();
                let mut n = 0usize;
                while begin.elapsed() < dur {
                    let k = 1 + offset + n * sharing.max(1);
                    let Some(p) = people.get(k % people.len()).copied() else {
                        break;
                    };
                    let id = format!("bench-{c:03}-{n:08}");
                    let t = Instant::now();
                    post_checkin(&client, &base, &auth, session, p, &id).await?;
                    lat.push(t.elapsed());
                    counter.fetch_add(1, Ordering::Relaxed);
                    n += 1;
                }
                Ok::<_, anyhow::Error>(lat)
            }));
        }
        let mut lat = Vec::new();
        for t in tasks {
            lat.extend(t.await??);
        }
        let secs = begin.elapsed().as_secs_f64();
        lat.sort();
        let n = counter.load(Ordering::Relaxed);
        // Every answered check-in is in the database.
        let stored = store::study::checkin::count_for_session(&db, session).await?;
        anyhow::ensure!(
            stored as u64 == n + 1,
            "{n} check-ins answered but {stored} stored"
        );
        let rps = n as f64 / secs;
        figures.push(CheckinFigure {
            engine: db.engine().into(),
            baseline_rps: base_rps,
            stack_baseline_rps: stack_rps,
            checkin_rps: rps,
            ratio: rps / base_rps,
            stack_ratio: rps / stack_rps,
            p50_ms: crate::bench::percentile(&lat, 0.50),
            p99_ms: crate::bench::percentile(&lat, 0.99),
            clients,
            checkins: n,
        });
        server.abort();
        db.close().await;
    }
    if json_out {
        // One object: the first engine's figures at the top, every engine under "engines".
        let mut top = serde_json::to_value(figures.first())?;
        if let Some(o) = top.as_object_mut() {
            o.insert("engines".into(), serde_json::to_value(&figures)?);
        }
        println!("{top}");
    } else {
        println!("POST /api/v1/checkins, one check-in per request, {clients} clients, {seconds} s, same machine, same run\n");
        println!(
            "{:<8} {:>11} {:>11} {:>11} {:>7} {:>7} {:>8} {:>8} {:>10}",
            "engine",
            "hello/s",
            "stack/s",
            "check-in/s",
            "hello",
            "stack",
            "p50 ms",
            "p99 ms",
            "check-ins"
        );
        for f in &figures {
            println!(
                "{:<8} {:>11.0} {:>11.0} {:>11.0} {:>7.3} {:>7.3} {:>8.2} {:>8.2} {:>10}",
                f.engine,
                f.baseline_rps,
                f.stack_baseline_rps,
                f.checkin_rps,
                f.ratio,
                f.stack_ratio,
                f.p50_ms,
                f.p99_ms,
                f.checkins
            );
        }
        println!("\nhello = check-in/s ÷ hello-world axum; stack = check-in/s ÷ POST /api/v1/ping (same router, middleware and bearer authentication, no work)");
    }
    Ok(())
}

async fn post_checkin(
    client: &reqwest::Client,
    base: &str,
    auth: &str,
    session: i64,
    participant: i64,
    id: &str,
) -> anyhow::Result<()> {
    let body = format!(
        r#"{{"checkins":[{{"id":"{id}","session_id":{session},"participant_id":{participant},"direction":"in"}}]}}"#
    );
    let r = client
        .post(format!("{base}/api/v1/checkins"))
        .header("authorization", auth)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await?;
    let status = r.status();
    let text = r.text().await?;
    anyhow::ensure!(
        status.is_success() && text.contains("\"stored\":1"),
        "check-in answered {status}: {text}"
    );
    Ok(())
}

/// The replay's figures.
#[derive(Debug, Serialize)]
struct NationalFigure {
    engine: String,
    bridge_points: i64,
    checkins: u64,
    batch_uploads: u64,
    qr_checkins: u64,
    setup_s: f64,
    wall_s: f64,
    checkins_per_s: f64,
    peak_rss_mb: f64,
}

/// The process's peak resident memory in MB (VmHWM), 0 when unknown.
fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| {
                l.split_whitespace()
                    .nth(1)
                    .and_then(|k| k.parse::<f64>().ok())
            })
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

pub async fn national(
    bridge_points: i64,
    people: i64,
    qr_every: i64,
    engine: &str,
    json_out: bool,
) -> anyhow::Result<()> {
    let engine = crate::bench::engines(Some(engine))?.remove(0);
    let Some((_t, db)) = crate::bench::fresh_db(engine).await? else {
        anyhow::bail!("PostgreSQL unreachable");
    };
    let setup = Instant::now();
    eprintln!("building {bridge_points} bridge points and {people} participants…");
    let conf =
        fixtures::benchdata::national_conference(&db, bridge_points, people, qr_every).await?;
    let (base, server) = start(&db).await?;
    let key = store::study::checkin::QrKey::load(&db).await?;
    let setup_s = setup.elapsed().as_secs_f64();
    // The peak is measured from here: forget the fixture's.
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    eprintln!("replaying ({setup_s:.0} s of setup)…");
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(128)
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let begin = Instant::now();
    let qr_set: std::collections::HashSet<i64> = conf.qr_members.iter().map(|(_, p)| *p).collect();
    let qr_set = Arc::new(qr_set);
    let mut tasks = Vec::new();
    // Operators: every province uploads its bridge points' queues, batch by batch.
    for (token, points) in conf.operators.clone() {
        let (client, base, qr_set) = (client.clone(), base.clone(), qr_set.clone());
        let (session, starts_at) = (conf.session_id, conf.starts_at);
        tasks.push(tokio::spawn(async move {
            let auth = format!("Bearer {token}");
            let (mut sent, mut uploads) = (0u64, 0u64);
            for point in points {
                let items: Vec<serde_json::Value> = point
                    .participants
                    .iter()
                    .filter(|p| !qr_set.contains(p))
                    .enumerate()
                    .map(|(i, p)| {
                        let at = starts_at + chrono::Duration::seconds((i as i64 * 37) % 1800 - 600);
                        json!({"id": format!("n-{}-{p}", point.bridge_point_id), "session_id": session,
                               "participant_id": p, "direction": "in", "at": at})
                    })
                    .collect();
                for chunk in items.chunks(500) {
                    let r = client
                        .post(format!("{base}/api/v1/checkins"))
                        .header("authorization", &auth)
                        .json(&json!({"device_id": format!("bp{}", point.bridge_point_id), "checkins": chunk}))
                        .send()
                        .await?;
                    let status = r.status();
                    let report: serde_json::Value = r.json().await?;
                    anyhow::ensure!(
                        status.is_success() && report["stored"].as_u64() == Some(chunk.len() as u64),
                        "upload answered {status}: {}",
                        report.to_string().chars().take(300).collect::<String>()
                    );
                    sent += chunk.len() as u64;
                    uploads += 1;
                }
            }
            Ok::<_, anyhow::Error>((sent, uploads, 0u64))
        }));
    }
    // Members scanning the QR code on their phones, 30 at a time.
    let lanes = 30usize;
    let members = Arc::new(conf.qr_members.clone());
    for lane in 0..lanes {
        let (client, base, members, key) =
            (client.clone(), base.clone(), members.clone(), key.clone());
        let session = conf.session_id;
        tasks.push(tokio::spawn(async move {
            let mut n = 0u64;
            for (token, _) in members.iter().skip(lane).step_by(lanes) {
                let window = store::study::checkin::QrKey::window(chrono::Utc::now());
                let sig = key.sign(session, domain::study::Direction::In, window)?;
                // The phone opens the link (a confirmation page, no side effect on GET), then
                // confirms with the page's form (issue 11: a GET never checks anyone in).
                let link = format!("{base}/q/{session}/in/{window}/{sig}");
                let cookie = format!("qt_session={token}");
                let r = client.get(&link).header("cookie", &cookie).send().await?;
                let status = r.status();
                let page = r.text().await?;
                anyhow::ensure!(status.is_success(), "QR link answered {status}");
                let csrf = page
                    .split("name=\"csrf\" value=\"")
                    .nth(1)
                    .and_then(|rest| rest.split('"').next())
                    .ok_or_else(|| anyhow::anyhow!("no confirmation form on the QR page"))?
                    .to_owned();
                let r = client
                    .post(&link)
                    .header("cookie", &cookie)
                    .form(&[("csrf", csrf.as_str())])
                    .send()
                    .await?;
                let status = r.status();
                r.bytes().await?;
                anyhow::ensure!(status.is_success(), "QR check-in answered {status}");
                n += 1;
            }
            Ok::<_, anyhow::Error>((0u64, 0u64, n))
        }));
    }
    let (mut checkins, mut uploads, mut qr) = (0u64, 0u64, 0u64);
    for t in tasks {
        let (s, u, q) = t.await??;
        checkins += s + q;
        uploads += u;
        qr += q;
    }
    let wall_s = begin.elapsed().as_secs_f64();
    let peak = peak_rss_mb();
    let stored = store::study::checkin::count_for_session(&db, conf.session_id).await?;
    anyhow::ensure!(
        stored as u64 == checkins,
        "{checkins} check-ins answered but {stored} stored"
    );
    server.abort();
    db.close().await;
    let f = NationalFigure {
        engine: db.engine().into(),
        bridge_points,
        checkins,
        batch_uploads: uploads,
        qr_checkins: qr,
        setup_s,
        wall_s,
        checkins_per_s: checkins as f64 / wall_s,
        peak_rss_mb: peak,
    };
    if json_out {
        println!("{}", serde_json::to_string(&f)?);
    } else {
        println!(
            "National conference replay on {} (server and clients in one process, same machine)\n\
             bridge points {}, check-ins {} ({} batch uploads, {} QR scans)\n\
             wall {:.1} s ({:.0} check-ins/s), peak memory {:.0} MB; setup (not counted) {:.0} s",
            f.engine,
            f.bridge_points,
            f.checkins,
            f.batch_uploads,
            f.qr_checkins,
            f.wall_s,
            f.checkins_per_s,
            f.peak_rss_mb,
            f.setup_s
        );
    }
    Ok(())
}
