//! `quantriet bench contest`: a knowledge contest (issue 16, R6.3) taken by 200,000 people in
//! an hour-long window on one machine. On a demo of the chosen scale, a contest drawing 10 of 30
//! questions for each person is seeded with its submissions in bulk (the province's members,
//! then registered members of the public); then members who have not taken it yet start and
//! submit over HTTP through the real API (`POST /api/v1/quizzes/{id}/attempt`, then
//! `POST /api/v1/attempts/{id}/submit`) from many clients, beside a hello-world route and the
//! same stack doing nothing, measured in the same run; then the window closes, the results are
//! published (the tie-break written for every attempt) and the ranking of all of them is read:
//! its first page, a page in the middle, one person's place, the results per organization, a
//! commune organizer's view (their members only) and the results page as a browser asks for it.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use fixtures::demo;
use serde::Serialize;
use serde_json::{json, Value};

use crate::bench::{
    baseline, engines, fetch, fresh_db, keep_if_asked, load, print_page_lines, Pages, Req,
};

/// The submissions of one engine.
#[derive(Debug, Serialize)]
struct Submissions {
    engine: String,
    scale: String,
    /// Bulk-seeded submissions before the run, and people in all after it.
    seeded: i64,
    total: i64,
    /// Submissions over HTTP in the run (each a start and a submit).
    submitted: usize,
    clients: usize,
    /// Hello-world axum, same machine, same run.
    hello_rps: f64,
    /// `POST /api/v1/ping` as the same members: the same stack doing nothing.
    stack_rps: f64,
    /// Submissions (start + submit) per second, and the requests per second they make.
    per_s: f64,
    /// Requests per second ÷ hello-world, and ÷ the same stack doing nothing.
    ratio: f64,
    stack_ratio: f64,
    /// The submit request alone, and the start.
    submit_p50_ms: f64,
    submit_p99_ms: f64,
    start_p50_ms: f64,
    start_p99_ms: f64,
    /// What an hour-long window of 200,000 people needs (submissions per second).
    needed_per_s: f64,
    /// Publishing the results: the tie-break written for every attempt (ms).
    publish_ms: f64,
}

/// POSTs `body` (JSON) with the bearer `auth`; the answer's JSON. Any non-2xx is an error.
async fn post(
    client: &reqwest::Client,
    url: &str,
    auth: &str,
    body: &Value,
) -> anyhow::Result<Value> {
    let r = client
        .post(url)
        .header("authorization", auth)
        .json(body)
        .send()
        .await?;
    let status = r.status();
    let bytes = r.bytes().await?;
    anyhow::ensure!(
        status.is_success(),
        "{url}: {status} {}",
        String::from_utf8_lossy(&bytes)
    );
    Ok(serde_json::from_slice(&bytes)?)
}

#[allow(clippy::too_many_lines)]
pub async fn contest(
    scale: &str,
    engine: &str,
    clients: usize,
    seconds: u64,
    people: i64,
    json: bool,
) -> anyhow::Result<()> {
    let shape = crate::bench::scale_of(scale)?;
    let dur = Duration::from_secs(seconds);
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(clients)
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let (hello_rps, _, _) = baseline(&client, clients, dur).await?;
    let mut lines = Vec::new();
    let mut subs = Vec::new();
    for engine in engines(Some(engine))? {
        let Some((t, db)) = fresh_db(engine).await? else {
            continue;
        };
        let _t = keep_if_asked(t);
        let t0 = Instant::now();
        let d = demo::load(&db, shape, 2026, false).await?;
        eprintln!(
            "{}: demo of {} people loaded in {:.1} s",
            db.engine(),
            d.people,
            t0.elapsed().as_secs_f64()
        );
        // Enough members without an attempt for the run's submissions.
        let takers = (clients as i64 * 40 * i64::try_from(seconds).unwrap_or(1)).min(people / 4);
        let t0 = Instant::now();
        let seed = fixtures::benchdata::contest(&db, people, takers).await?;
        eprintln!(
            "{}: contest seeded in {:.1} s: {} submissions ({} members, {} of the public), {} questions, {} members with a login still to take it",
            db.engine(),
            t0.elapsed().as_secs_f64(),
            seed.seeded,
            seed.members,
            seed.public,
            seed.questions,
            seed.takers.len()
        );
        let app = web::app::App::build(
            db.clone(),
            "127.0.0.1:0",
            web::app::WebConfig {
                api_rate_per_minute: 0,
                ..Default::default()
            },
        )
        .await?;
        let base = format!("http://{}", app.local_addr()?);
        let server = tokio::spawn(app.serve(std::future::pending()));
        let q = seed.quiz_id;
        let tokens: Arc<Vec<String>> =
            Arc::new(seed.takers.iter().map(|t| format!("Bearer {t}")).collect());
        anyhow::ensure!(!tokens.is_empty(), "no member left to take the contest");

        // The same stack doing nothing, as the last member (who does not take part).
        let (stack_rps, _, _) = load(
            &client,
            clients,
            dur,
            Req::post(format!("{base}/api/v1/ping"), &tokens[tokens.len() - 1]),
        )
        .await?;
        let next = Arc::new(AtomicUsize::new(0));
        let begin = Instant::now();
        let mut tasks = Vec::new();
        for _ in 0..clients {
            let (client, base, tokens, next) =
                (client.clone(), base.clone(), tokens.clone(), next.clone());
            tasks.push(tokio::spawn(async move {
                let (mut starts, mut submits) = (Vec::new(), Vec::new());
                while begin.elapsed() < dur {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    // The last token is the stack baseline's.
                    let Some(auth) = tokens.get(i).filter(|_| i + 1 < tokens.len()) else {
                        break;
                    };
                    let t = Instant::now();
                    let a = post(
                        &client,
                        &format!("{base}/api/v1/quizzes/{q}/attempt"),
                        auth,
                        &json!({}),
                    )
                    .await?;
                    starts.push(t.elapsed());
                    let id = a["attempt"]["id"].as_i64().unwrap_or(0);
                    let answers: Vec<Value> = a["questions"]
                        .as_array()
                        .map(|qs| {
                            qs.iter()
                                .map(|x| json!({"position": x["position"], "answer": "B"}))
                                .collect()
                        })
                        .unwrap_or_default();
                    let t = Instant::now();
                    let done = post(
                        &client,
                        &format!("{base}/api/v1/attempts/{id}/submit"),
                        auth,
                        &json!({"answers": answers, "guess": 200_000 + i}),
                    )
                    .await?;
                    submits.push(t.elapsed());
                    anyhow::ensure!(
                        done["attempt"]["submitted_at"].is_string(),
                        "not submitted: {done}"
                    );
                }
                Ok::<_, anyhow::Error>((starts, submits))
            }));
        }
        let (mut starts, mut submits) = (Vec::new(), Vec::new());
        for t in tasks {
            let (a, b) = t.await??;
            starts.extend(a);
            submits.extend(b);
        }
        let secs = begin.elapsed().as_secs_f64();
        starts.sort();
        submits.sort();
        let n = submits.len();
        // Every answered submission is stored, once.
        let bearer = format!("Bearer {}", seed.admin_token);
        let detail: Value = serde_json::from_slice(
            &fetch(
                &client,
                &Req::get(format!("{base}/api/v1/quizzes/{q}"), &bearer),
            )
            .await?,
        )?;
        let total = detail["quiz"]["submitted_count"].as_i64().unwrap_or(0);
        anyhow::ensure!(
            total == seed.seeded + n as i64,
            "{n} submissions answered over {} seeded, but {total} counted",
            seed.seeded
        );
        // The window closes; the results are published.
        store::db_exec!(&db, p => sqlx::query("UPDATE quizzes SET closes_at = $2 WHERE id = $1")
            .bind(q).bind(store::now() - chrono::Duration::minutes(1)).execute(p).await)?;
        let t0 = Instant::now();
        post(
            &client,
            &format!("{base}/api/v1/quizzes/{q}/results"),
            &bearer,
            &json!({}),
        )
        .await?;
        let publish_ms = t0.elapsed().as_secs_f64() * 1000.0;
        let per_s = n as f64 / secs;
        subs.push(Submissions {
            engine: db.engine().into(),
            scale: scale.into(),
            seeded: seed.seeded,
            total,
            submitted: n,
            clients,
            hello_rps,
            stack_rps,
            per_s,
            ratio: per_s * 2.0 / hello_rps,
            stack_ratio: per_s * 2.0 / stack_rps,
            submit_p50_ms: crate::bench::percentile(&submits, 0.50),
            submit_p99_ms: crate::bench::percentile(&submits, 0.99),
            start_p50_ms: crate::bench::percentile(&starts, 0.50),
            start_p99_ms: crate::bench::percentile(&starts, 0.99),
            needed_per_s: 200_000.0 / 3600.0,
            publish_ms,
        });

        // The ranking of everyone.
        let (middle,): (i64,) = store::db_run!(&db, p => sqlx::query_as(
            "SELECT id FROM attempts WHERE quiz_id = $1 AND submitted_at IS NOT NULL \
             ORDER BY neg_score, duration_ms, guess_diff, id LIMIT 1 OFFSET $2")
            .bind(q).bind(total / 2).fetch_one(p).await)?;
        let pages = Pages {
            client: &client,
            clients,
            dur,
            hello_rps,
            scale,
        };
        let (stack_rps, line) = pages
            .stack(
                Req::post(format!("{base}/api/v1/ping"), &bearer),
                db.engine(),
            )
            .await?;
        lines.push(line);
        let organizer = format!("Bearer {}", seed.organizer_token);
        let c = seed.commune;
        let cases = [
            (
                "ranking API, first page of 50",
                format!("/api/v1/quizzes/{q}/ranking"),
                &bearer,
                false,
            ),
            (
                "ranking API, first 500",
                format!("/api/v1/quizzes/{q}/ranking?per_page=500"),
                &bearer,
                false,
            ),
            (
                "ranking API, 50 from the middle",
                format!("/api/v1/quizzes/{q}/ranking?after={middle}"),
                &bearer,
                false,
            ),
            (
                "one attempt with its place (the middle)",
                format!("/api/v1/attempts/{middle}"),
                &bearer,
                false,
            ),
            (
                "results per organization",
                format!("/api/v1/quizzes/{q}/orgs"),
                &bearer,
                false,
            ),
            (
                "results of a commune (its cells)",
                format!("/api/v1/quizzes/{q}/orgs?org={c}"),
                &bearer,
                false,
            ),
            (
                "ranking API as a commune's organizer (its members only)",
                format!("/api/v1/quizzes/{q}/ranking"),
                &organizer,
                false,
            ),
            (
                "results page",
                format!("/assess/quizzes/{q}"),
                &bearer,
                true,
            ),
        ];
        for (label, path, auth, page) in cases {
            let url = format!("{base}{path}");
            let req = if page {
                Req::page(url, auth.trim_start_matches("Bearer "))
            } else {
                Req::get(url, auth)
            };
            let body = fetch(&client, &req).await?;
            if path.contains("/ranking") && !path.contains("after") && auth == &bearer {
                let v: Value = serde_json::from_slice(&body)?;
                anyhow::ensure!(
                    v["items"].as_array().is_some_and(|a| !a.is_empty()),
                    "empty ranking: {v}"
                );
            }
            lines.push(
                pages
                    .page(
                        req,
                        format!("{label} ({path})"),
                        db.engine(),
                        stack_rps,
                        body.len(),
                    )
                    .await?,
            );
        }
        server.abort();
        db.close().await;
    }
    if json {
        for s in &subs {
            println!("{}", serde_json::to_string(s)?);
        }
    } else {
        println!(
            "Submissions over HTTP: start + submit per person, {clients} clients, {seconds} s, same machine, same run\n"
        );
        println!(
            "{:<8} {:>9} {:>9} {:>9} {:>10} {:>8} {:>7} {:>7} {:>9} {:>9} {:>9} {:>9} {:>10}",
            "engine",
            "seeded",
            "over HTTP",
            "total",
            "submits/s",
            "needed",
            "hello",
            "stack",
            "sub p50",
            "sub p99",
            "start p50",
            "start p99",
            "publish ms"
        );
        for s in &subs {
            println!(
                "{:<8} {:>9} {:>9} {:>9} {:>10.0} {:>8.1} {:>7.3} {:>7.3} {:>9.2} {:>9.2} {:>9.2} {:>9.2} {:>10.0}",
                s.engine, s.seeded, s.submitted, s.total, s.per_s, s.needed_per_s, s.ratio, s.stack_ratio,
                s.submit_p50_ms, s.submit_p99_ms, s.start_p50_ms, s.start_p99_ms, s.publish_ms
            );
        }
        println!("\nhello = requests/s of the submissions ÷ hello-world axum ({hello_rps:.0}/s); stack = ÷ POST /api/v1/ping as the same members; needed = 200,000 people in one hour\n");
    }
    print_page_lines(&lines, json, hello_rps, clients, seconds, scale)
}
