//! `quantriet bench pages`: the pages issue 12 names, on a demo of the chosen scale, measured in
//! one run against two baselines: a hello-world axum route (what the machine and the HTTP stack
//! can do) and the same stack doing nothing (`POST /api/v1/ping`: the router, the edge checks and
//! the authentication of every request, then an empty answer). A page's `stack_ratio` is its rate
//! over the second: what the page's own work costs.

use std::time::{Duration, Instant};

use fixtures::demo;
use store::Db;

use crate::bench::{baseline, engines, fetch, fresh_db, login, print_page_lines, Pages, Req};

/// One value of a one-row query.
async fn one(db: &Db, sql: &str) -> anyhow::Result<i64> {
    let (v,): (i64,) = store::db_run!(db, p => sqlx::query_as(sql).fetch_one(p).await)?;
    Ok(v)
}

/// The folded name of a person.
async fn folded_name(db: &Db, id: i64) -> anyhow::Result<String> {
    let (v,): (String,) = store::db_run!(db, p => sqlx::query_as("SELECT name_folded FROM people WHERE id = $1").bind(id).fetch_one(p).await)?;
    Ok(v)
}

pub async fn pages(
    scale: &str,
    engine: &str,
    clients: usize,
    seconds: u64,
    json: bool,
) -> anyhow::Result<()> {
    let scale_name = scale;
    let scale = crate::bench::scale_of(scale)?;
    let dur = Duration::from_secs(seconds);
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(clients)
        .build()?;
    let (hello_rps, _, _) = baseline(&client, clients, dur).await?;
    let mut lines = Vec::new();
    for engine in engines(Some(engine))? {
        let Some((_t, db)) = fresh_db(engine).await? else {
            continue;
        };
        let t = Instant::now();
        let report = demo::load(&db, scale, 2026, true).await?;
        eprintln!(
            "{}: demo of {} people loaded in {:.1} s",
            db.engine(),
            report.people,
            t.elapsed().as_secs_f64()
        );
        let app = web::app::App::build(db.clone(), "127.0.0.1:0", Default::default()).await?;
        let base = format!("http://{}", app.local_addr()?);
        let server = tokio::spawn(app.serve(std::future::pending()));
        let admin = format!("Bearer {}", login(&db).await?);
        let member_scope = store::auth::scope_of(&db, "member").await?;
        let member = format!(
            "Bearer {}",
            store::auth::create_session(&db, member_scope.account_id).await?
        );

        // What the pages are about: the middle and the last page of the whole list in name
        // order, a common name, the largest class, the province, a resolution.
        let people = one(&db, "SELECT COUNT(*) FROM people").await?;
        let at = |n: i64| {
            format!(
                "SELECT id FROM people ORDER BY sort_key, id LIMIT 1 OFFSET {}",
                n.clamp(0, people - 1)
            )
        };
        let middle = one(&db, &at(people / 2)).await?;
        let last = one(&db, &at(people - 51)).await?;
        let words: Vec<String> = folded_name(&db, middle)
            .await?
            .split_whitespace()
            .map(str::to_owned)
            .collect();
        let two = format!(
            "{}+{}",
            words.last().cloned().unwrap_or_default(),
            words.first().cloned().unwrap_or_default()
        );
        let class = one(
            &db,
            "SELECT class_id FROM participants GROUP BY class_id ORDER BY COUNT(*) DESC, class_id LIMIT 1",
        )
        .await?;
        let root = one(
            &db,
            "SELECT id FROM orgs WHERE parent_id IS NULL ORDER BY id LIMIT 1",
        )
        .await?;
        let resolution = one(
            &db,
            "SELECT id FROM resolutions WHERE classification = 'public' ORDER BY id LIMIT 1",
        )
        .await
        .unwrap_or(1);

        let pages = Pages {
            client: &client,
            clients,
            dur,
            hello_rps,
            scale: scale_name,
        };
        let (stack_rps, line) = pages
            .stack(
                Req::post(format!("{base}/api/v1/ping"), &admin),
                db.engine(),
            )
            .await?;
        lines.push(line);
        let cases: Vec<(&str, String, &str)> = vec![
            ("people list, first page", "/people".into(), &admin),
            (
                "people list, middle page",
                format!("/people?after={middle}"),
                &admin,
            ),
            (
                "people list, last page",
                format!("/people?after={last}"),
                &admin,
            ),
            (
                "people list, two-word search",
                format!("/people?q={two}"),
                &admin,
            ),
            (
                "people API, first page",
                "/api/v1/people?per_page=50".into(),
                &admin,
            ),
            (
                "organization page (province)",
                format!("/orgs/{root}"),
                &admin,
            ),
            (
                "class participants",
                format!("/classes/{class}?tab=participants"),
                &admin,
            ),
            (
                "class results",
                format!("/classes/{class}?tab=results"),
                &admin,
            ),
            (
                "còn nợ học, province",
                format!("/owes?org={root}&resolution={resolution}"),
                &admin,
            ),
            ("member's own page", "/me".into(), &member),
        ];
        for (label, path, auth) in cases {
            let req = Req::get(format!("{base}{path}"), auth);
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
    print_page_lines(&lines, json, hello_rps, clients, seconds, scale_name)?;
    Ok(())
}
