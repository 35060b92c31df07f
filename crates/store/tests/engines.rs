//! The store on both engines: the demo loads and the rules give the same answers.

use domain::auth::Clearance;
use quantriet_store::demo::{self, Scale};
use quantriet_store::testing::{fresh, Engine};
use quantriet_store::{auth, org, resolutions, study, Db, Paging};

async fn demo_loads_and_agrees(engine: Engine) {
    let Some(t) = fresh(engine).await else { return };
    let db = Db::connect(&t.url).await.expect("connect");
    db.migrate().await.expect("migrate");
    let report = demo::load(&db, Scale::Small, 7, true)
        .await
        .expect("demo loads");
    assert!(report.people > 500, "{report:?}");

    let admin = auth::verify_login(&db, "admin", demo::DEMO_PASSWORD)
        .await
        .expect("login")
        .expect("admin exists");
    let token = auth::create_session(&db, admin).await.expect("session");
    let s = auth::load_session(&db, &token)
        .await
        .expect("load")
        .expect("valid");
    let scope = s.account.scope;
    assert_eq!(scope.clearance, Clearance::Secret);

    // R2.8: the classified entry is visible to the cleared admin, not to the organizer.
    let all = resolutions::list(&db, &scope, &Default::default(), Paging::new(None, None))
        .await
        .expect("list");
    assert_eq!(all.total, 5);
    let org_id = auth::verify_login(&db, "organizer", demo::DEMO_PASSWORD)
        .await
        .expect("login")
        .expect("exists");
    let token = auth::create_session(&db, org_id).await.expect("session");
    let organizer = auth::load_session(&db, &token)
        .await
        .expect("load")
        .expect("valid")
        .account
        .scope;
    let seen = resolutions::list(
        &db,
        &organizer,
        &Default::default(),
        Paging::new(None, None),
    )
    .await
    .expect("list");
    assert_eq!(seen.total, 4);

    // Vietnamese order in the people list.
    let page = org::list_people(
        &db,
        &scope,
        &Default::default(),
        Paging::new(Some(1), Some(500)),
    )
    .await
    .expect("people");
    let keys: Vec<String> = page
        .items
        .iter()
        .map(|p| domain::text::name_sort_key(&p.family_name, &p.middle_name, &p.given_name))
        .collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(
        keys, sorted,
        "people come back in Vietnamese name order on {engine:?}"
    );

    // The finished online class has a non-empty retake list (R3.5).
    let classes = study::classes::list(&db, &scope, &Default::default())
        .await
        .expect("classes");
    assert_eq!(classes.len(), 2);
    let retakes = study::attendance::open_retakes(&db, &scope)
        .await
        .expect("retakes");
    assert!(!retakes.is_empty());
    db.close().await;
}

#[tokio::test]
async fn demo_on_sqlite() {
    demo_loads_and_agrees(Engine::Sqlite).await;
}

#[tokio::test]
async fn demo_on_postgres() {
    demo_loads_and_agrees(Engine::Postgres).await;
}

/// Issue 10.15: on the serving pool every PostgreSQL statement stops at the bound, on the
/// server too (a request that timed out used to leave its query running for a minute more).
#[tokio::test]
async fn bounded_statements_stop_on_the_server() {
    let Some(t) = fresh(Engine::Postgres).await else {
        return;
    };
    let db = Db::connect_bounded(&t.url, Some(std::time::Duration::from_millis(500)))
        .await
        .expect("connect");
    let Db::Postgres(pool) = &db else {
        unreachable!("a PostgreSQL url")
    };
    let started = std::time::Instant::now();
    let r = sqlx::query("SELECT pg_sleep(20), 'qt-runaway-probe'")
        .execute(pool)
        .await;
    assert!(r.is_err(), "the statement was cancelled");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    // Nothing of it is left running on the server.
    let admin = Db::connect(&t.url).await.expect("connect");
    let Db::Postgres(admin) = &admin else {
        unreachable!()
    };
    let (running,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM pg_stat_activity WHERE query LIKE '%qt-runaway-probe%' AND state = 'active' AND pid <> pg_backend_pid()",
    )
    .fetch_one(admin)
    .await
    .expect("activity");
    assert_eq!(running, 0);
}
