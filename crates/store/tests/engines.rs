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

/// Every organization's kept member count against a full recount.
async fn counts_disagree(db: &Db) -> Vec<(i64, i64, i64)> {
    let sql = "SELECT o.id, CAST(o.member_count AS BIGINT), \
               (SELECT COUNT(*) FROM people p JOIN org_closure c ON c.descendant_id = p.org_id WHERE c.ancestor_id = o.id) \
               FROM orgs o";
    let rows: Vec<(i64, i64, i64)> =
        quantriet_store::db_run!(db, p => sqlx::query_as(sql).fetch_all(p).await).expect("counts");
    assert!(!rows.is_empty());
    rows.into_iter()
        .filter(|(_, kept, real)| kept != real)
        .collect()
}

/// Issue 12: member counts are kept on write (migration 0008) through every write path: the demo
/// loader's bulk insert, one insert, a move between organizations (as the import does), a move
/// back, and a delete; and the word search finds by every word as a prefix, in any order, by card
/// number, after an edit of the name, on both engines alike.
async fn kept_counts_and_word_search(engine: Engine) {
    let Some(t) = fresh(engine).await else { return };
    let db = Db::connect(&t.url).await.expect("connect");
    db.migrate().await.expect("migrate");
    demo::load(&db, Scale::Small, 11, true).await.expect("demo");
    assert_eq!(counts_disagree(&db).await, vec![], "after the bulk load");
    let admin = auth::verify_login(&db, "admin", demo::DEMO_PASSWORD)
        .await
        .expect("login")
        .expect("admin");
    let token = auth::create_session(&db, admin).await.expect("session");
    let scope = auth::load_session(&db, &token)
        .await
        .expect("load")
        .expect("valid")
        .account
        .scope;
    let roots = org::roots(&db, &scope).await.expect("roots");
    let root = domain::ids::OrgId(roots[0].id);
    let children = org::children(&db, &scope, root).await.expect("children");
    let (a, b) = (
        domain::ids::OrgId(children[0].id),
        domain::ids::OrgId(children[1].id),
    );
    let person = org::insert_person(
        &db,
        &org::NewPerson {
            org_id: a,
            name: domain::org::PersonName::from_parts("Nguyễn", "Công", "Ân").unwrap(),
            birth_date: None,
            gender: domain::org::Gender::Male,
            ethnicity: "Kinh".into(),
            party_card_number: Some("987654321".into()),
            positions: String::new(),
            management_level: domain::org::ManagementLevel::None,
            exempt_from_activities: false,
        },
    )
    .await
    .expect("insert");
    assert_eq!(counts_disagree(&db).await, vec![], "after one insert");
    for to in [b, a] {
        quantriet_store::db_run!(&db, p => sqlx::query("UPDATE people SET org_id = $2 WHERE id = $1")
            .bind(person.0).bind(to.0).execute(p).await.map(|r| r.rows_affected()))
        .expect("move");
        assert_eq!(counts_disagree(&db).await, vec![], "after a move");
    }

    let found = |q: &'static str| {
        let db = db.clone();
        let scope = scope.clone();
        async move {
            org::people_after(
                &db,
                &scope,
                &org::PeopleFilter {
                    q: Some(q.into()),
                    ..Default::default()
                },
                None,
                50,
            )
            .await
            .expect("search")
            .0
            .into_iter()
            .map(|p| p.id)
            .collect::<Vec<i64>>()
        }
    };
    for q in [
        "nguyen an",
        "AN NGUYEN",
        "ân cong",
        "ngu co a",
        "98765",
        "987654321",
    ] {
        assert!(found(q).await.contains(&person.0), "{q} finds the person");
    }
    for q in ["nguyen anh", "cong xyz", "87654321"] {
        assert!(!found(q).await.contains(&person.0), "{q} does not");
    }
    // Quotes, operators and stars are not query syntax: they search for the words "nguyen" and
    // "or" (no error, and no word of the name starts with "or").
    assert!(!found("\"nguyen\" OR *").await.contains(&person.0));
    assert!(found("nguyen\" (an").await.contains(&person.0));
    // A renamed person is found by the new name only.
    quantriet_store::db_run!(&db, p => sqlx::query("UPDATE people SET name_folded = 'tran thi bich' WHERE id = $1")
        .bind(person.0).execute(p).await.map(|r| r.rows_affected()))
    .expect("rename");
    assert!(found("bich tran").await.contains(&person.0));
    assert!(!found("nguyen an").await.contains(&person.0));
    // A delete (no page deletes people; the database still keeps the count).
    quantriet_store::db_run!(&db, p => sqlx::query("DELETE FROM people WHERE id = $1")
        .bind(person.0).execute(p).await.map(|r| r.rows_affected()))
    .expect("delete");
    assert_eq!(counts_disagree(&db).await, vec![], "after a delete");
    assert!(!found("bich").await.contains(&person.0));
}

#[tokio::test]
async fn kept_counts_and_word_search_on_sqlite() {
    kept_counts_and_word_search(Engine::Sqlite).await;
}

#[tokio::test]
async fn kept_counts_and_word_search_on_postgres() {
    kept_counts_and_word_search(Engine::Postgres).await;
}
