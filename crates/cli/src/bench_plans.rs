//! `quantriet bench plans`: the roll-up of a cascaded task (issue 14) at country size (the
//! centre → 34 provinces → 3,321 communes → their cells, most of them reported) or at province
//! size, measured in one run beside a hello-world route and the same stack doing nothing
//! (`POST /api/v1/ping`): the centre's roll-up page and API (34 provinces with their own
//! progress), a province's (about a hundred communes), and "Việc của đơn vị".

use std::time::{Duration, Instant};

use crate::bench::{
    baseline, engines, fetch, fresh_db, keep_if_asked, print_page_lines, Pages, Req,
};

pub async fn plans(
    scale: &str,
    engine: &str,
    clients: usize,
    seconds: u64,
    json: bool,
) -> anyhow::Result<()> {
    // (provinces, communes, cells per commune)
    let shape = match scale {
        "country" => (34, 3_321, 20),
        "province" => (1, 100, 20),
        "small" => (2, 10, 3),
        other => anyhow::bail!("unknown scale {other}: small, province or country"),
    };
    let dur = Duration::from_secs(seconds);
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(clients)
        .build()?;
    let (hello_rps, _, _) = baseline(&client, clients, dur).await?;
    let mut lines = Vec::new();
    for engine in engines(Some(engine))? {
        let Some((t, db)) = fresh_db(engine).await? else {
            continue;
        };
        let _t = keep_if_asked(t);
        let t = Instant::now();
        let c = fixtures::benchdata::cascade(&db, shape.0, shape.1, shape.2).await?;
        eprintln!(
            "{}: cascade of {} organizations and {} targets loaded in {:.1} s",
            db.engine(),
            c.orgs,
            c.targets,
            t.elapsed().as_secs_f64()
        );
        let app = web::app::App::build(db.clone(), "127.0.0.1:0", Default::default()).await?;
        let base = format!("http://{}", app.local_addr()?);
        let server = tokio::spawn(app.serve(std::future::pending()));
        let auth = format!("Bearer {}", c.token);
        let pages = Pages {
            client: &client,
            clients,
            dur,
            hello_rps,
            scale,
        };
        let (stack_rps, line) = pages
            .stack(Req::post(format!("{base}/api/v1/ping"), &auth), db.engine())
            .await?;
        lines.push(line);
        let cases = [
            (
                "roll-up page, the centre's task",
                format!("/tasks/{}", c.top_task),
            ),
            (
                "roll-up API, the centre's task",
                format!("/api/v1/tasks/{}", c.top_task),
            ),
            (
                "roll-up page, a province's task",
                format!("/tasks/{}", c.province_task),
            ),
            (
                "roll-up API, a province's task",
                format!("/api/v1/tasks/{}", c.province_task),
            ),
            ("tasks sent (the centre's list)", "/api/v1/tasks".into()),
        ];
        for (label, path) in cases {
            let req = Req::get(format!("{base}{path}"), &auth);
            let body = fetch(&client, &req).await?;
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
    print_page_lines(&lines, json, hello_rps, clients, seconds, scale)
}
