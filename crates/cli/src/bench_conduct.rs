//! `quantriet bench conduct`: the year-end rating eligibility report (issue 15, R3.7) on a demo
//! of the chosen scale with a year of conduct records (about one member in 30 of every cell
//! reminded or criticized, one cell in 8 over the 10% line, a few review proposals, a few members
//! moved away), measured in one run beside a hello-world route and the same stack doing nothing
//! (`POST /api/v1/ping`): the province's report page (session cookie, as a browser asks) and API,
//! the first page of its ineligible members, a cell's page (all its members) and a commune's
//! xlsx (every member).

use std::time::{Duration, Instant};

use fixtures::demo;

use crate::bench::{
    baseline, engines, fetch, fresh_db, keep_if_asked, print_page_lines, Pages, Req,
};

/// What the province's report found (from the API's answer), to show that the data is real.
struct Found {
    engine: String,
    load_s: f64,
    seed_s: f64,
    people: usize,
    seed: fixtures::benchdata::ConductSeed,
    cells: usize,
    cells_ineligible: i64,
    members: i64,
    members_ineligible: i64,
}

pub async fn conduct(
    scale: &str,
    engine: &str,
    clients: usize,
    seconds: u64,
    json: bool,
) -> anyhow::Result<()> {
    let shape = crate::bench::scale_of(scale)?;
    let dur = Duration::from_secs(seconds);
    // No redirects: a page that sends to the login form is a failure, not a measurement.
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(clients)
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let (hello_rps, _, _) = baseline(&client, clients, dur).await?;
    let mut lines = Vec::new();
    let mut found = Vec::new();
    for engine in engines(Some(engine))? {
        let Some((t, db)) = fresh_db(engine).await? else {
            continue;
        };
        let _t = keep_if_asked(t);
        let t = Instant::now();
        let demo = demo::load(&db, shape, 2026, false).await?;
        let load_s = t.elapsed().as_secs_f64();
        eprintln!(
            "{}: demo of {} people loaded in {load_s:.1} s",
            db.engine(),
            demo.people
        );
        let year = store::conduct::this_year();
        let t = Instant::now();
        let seed = fixtures::benchdata::conduct_year(&db, year).await?;
        let seed_s = t.elapsed().as_secs_f64();
        eprintln!(
            "{}: conduct of {year} seeded in {seed_s:.1} s: {} reminders and criticisms ({} of {} cells pushed over 10%), {} review proposals, {} members marked, {} moved",
            db.engine(),
            seed.flagged_records,
            seed.heavy_cells,
            seed.cells,
            seed.proposal_records,
            seed.marked,
            seed.moved
        );
        let app = web::app::App::build(db.clone(), "127.0.0.1:0", Default::default()).await?;
        let base = format!("http://{}", app.local_addr()?);
        let server = tokio::spawn(app.serve(std::future::pending()));
        let bearer = format!("Bearer {}", seed.token);

        // What the province's report finds, from its API.
        let (p, c, k) = (seed.province, seed.commune, seed.cell);
        let report: serde_json::Value = serde_json::from_slice(
            &fetch(
                &client,
                &Req::get(
                    format!("{base}/api/v1/orgs/{p}/eligibility?year={year}"),
                    &bearer,
                ),
            )
            .await?,
        )?;
        let f = Found {
            engine: db.engine().into(),
            load_s,
            seed_s,
            people: demo.people,
            cells: report["cells"].as_array().map_or(0, Vec::len),
            cells_ineligible: report["cells_ineligible"].as_i64().unwrap_or(0),
            members: report["members"].as_i64().unwrap_or(0),
            members_ineligible: report["members_ineligible"].as_i64().unwrap_or(0),
            seed,
        };
        anyhow::ensure!(
            f.cells > 0 && f.cells_ineligible > 0 && f.members_ineligible > 0,
            "the report found nothing to bar: {report}"
        );

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
        // (label, path, a page asked with the session cookie rather than the bearer token)
        let cases = [
            (
                "report page, the province",
                format!("/conduct/eligibility?org={p}&year={year}"),
                true,
            ),
            (
                "report API, the province",
                format!("/api/v1/orgs/{p}/eligibility?year={year}"),
                false,
            ),
            (
                "ineligible members API, the province, first page",
                format!("/api/v1/orgs/{p}/eligibility/members?year={year}"),
                false,
            ),
            (
                "report page, a cell (all its members)",
                format!("/conduct/eligibility?org={k}&year={year}"),
                true,
            ),
            (
                "xlsx, a commune (every member)",
                format!("/conduct/eligibility.xlsx?org={c}&year={year}"),
                true,
            ),
        ];
        for (label, path, page) in cases {
            let url = format!("{base}{path}");
            let req = if page {
                Req::page(url.clone(), &f.seed.token)
            } else {
                Req::get(url.clone(), &bearer)
            };
            let body = fetch(&client, &req).await?;
            anyhow::ensure!(
                !path.contains(".xlsx") || body.starts_with(b"PK"),
                "{path} is not an xlsx"
            );
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
        found.push(f);
        server.abort();
        db.close().await;
    }
    print_page_lines(&lines, json, hello_rps, clients, seconds, scale)?;
    for f in &found {
        let s = &f.seed;
        let text = format!(
            "{}: demo of {} people loaded in {:.1} s; conduct seeded in {:.1} s: {} reminders and criticisms ({} cells pushed over 10%), {} review proposals, {} members marked, {} moved away\n\
             {}: the province's report found {} cells, {} of them ineligible, and {} active members, {} of them ineligible",
            f.engine,
            f.people,
            f.load_s,
            f.seed_s,
            s.flagged_records,
            s.heavy_cells,
            s.proposal_records,
            s.marked,
            s.moved,
            f.engine,
            f.cells,
            f.cells_ineligible,
            f.members,
            f.members_ineligible
        );
        // With --json only the figures go to stdout, one object a line.
        if json {
            eprintln!("{text}");
        } else {
            println!("\n{text}");
        }
    }
    Ok(())
}
