//! The people list (issue 11.16; the keyset pattern of issue 12): pages in Vietnamese name order
//! that never repeat or skip a person (ties on the name, a person leaving between two pages),
//! filters by organization and register status, and the CSV export with the same filters.

use serde_json::{json, Value};

use crate::harness::*;

both_engines! {
    people_list_pages_by_keyset_and_filters => people_list_pages_by_keyset_and_filters_sqlite, people_list_pages_by_keyset_and_filters_postgres;
}

/// The person ids linked from a people list page, in order.
fn listed(html: &str) -> Vec<i64> {
    html.split("<tr><td><a href=\"/people/")
        .skip(1)
        .filter_map(|s| s.split('"').next()?.parse().ok())
        .collect()
}

/// The "next page" link of a people list page.
fn next_page(html: &str) -> Option<String> {
    let before = html.split("\" rel=\"next\"").next()?;
    if before.len() == html.len() {
        return None;
    }
    before
        .rsplit("href=\"")
        .next()
        .map(|l| l.replace("&amp;", "&"))
}

/// Every page of a people list from `first`, in order.
async fn walk(b: &Browser, first: &str) -> Vec<i64> {
    let mut seen = Vec::new();
    let mut link = first.to_owned();
    for _ in 0..100 {
        let r = b.get(&link).await;
        r.expect(200);
        let html = r.html();
        assert!(html.len() < 60_000, "{link}: {} bytes", html.len());
        let ids = listed(&html);
        assert!(ids.len() <= 50, "{link}: {} rows", ids.len());
        seen.extend(ids);
        match next_page(&html) {
            Some(l) => link = l,
            None => return seen,
        }
    }
    panic!("the pages of {first} do not end");
}

async fn people_list_pages_by_keyset_and_filters(app: TestApp) {
    let admin = app.api_login("admin").await;
    let b = app.browser_login("admin").await;
    let (_, orgs) = province_tree(&admin).await;
    let commune = orgs
        .iter()
        .find(|o| {
            o["name"]
                .as_str()
                .is_some_and(|n| n.starts_with("Đảng bộ xã"))
        })
        .map(id)
        .expect("a commune");
    // 60 namesakes: one sort key for all, so only the id orders them.
    let people: Vec<store::org::NewPerson> = (0..60)
        .map(|i| store::org::NewPerson {
            org_id: domain::ids::OrgId(commune),
            name: domain::org::PersonName::from_parts("Hờ", "Văn", "Trùngtên").unwrap(),
            birth_date: None,
            gender: domain::org::Gender::Male,
            ethnicity: "Kinh".into(),
            party_card_number: Some(format!("77{:07}", 1_000_000 + i)),
            positions: String::new(),
            management_level: domain::org::ManagementLevel::None,
            exempt_from_activities: false,
        })
        .collect();
    let mut ids: Vec<i64> = store::org::insert_people(&app.db, &people)
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.0)
        .collect();
    ids.sort_unstable();
    let seen = walk(&b, "/people?q=trungten").await;
    assert_eq!(seen, ids, "ties on the name: every namesake once, by id");

    // The person a page ends on leaves between two pages: the next page starts where it would.
    let first = b.get("/people?q=trungten&status=active").await.html();
    assert_eq!(listed(&first).len(), 50);
    let next = next_page(&first).expect("a second page");
    let anchor = ids[49];
    admin
        .put(
            &format!("/api/v1/people/{anchor}/status"),
            &json!({"status": "moved", "date": "01/03/2026", "note": "Chuyển sinh hoạt"}),
        )
        .await
        .expect(200);
    assert_eq!(listed(&b.get(&next).await.html()), ids[50..].to_vec());

    // The status filter, on the page and in the API; a bad status is refused in Vietnamese.
    assert_eq!(
        listed(&b.get("/people?q=trungten&status=moved").await.html()),
        vec![anchor]
    );
    let api: Value = admin.get_ok("/api/v1/people?q=trungten&status=moved").await;
    assert_eq!(items(&api).len(), 1);
    admin
        .get("/api/v1/people?status=gone")
        .await
        .expect_error(422, "validation_failed");
    b.get("/people?status=gone").await.expect(400);

    // The organization filter keeps to the subtree; the whole province walks in order too.
    let in_commune = walk(&b, &format!("/people?org={commune}&q=trungten")).await;
    assert_eq!(in_commune.len(), 60);
    let other = orgs
        .iter()
        .map(id)
        .find(|o| *o != commune)
        .expect("another organization");
    assert!(listed(
        &b.get(&format!("/people?org={other}&q=trungten"))
            .await
            .html()
    )
    .is_empty());
    let everyone = walk(&b, "/people").await;
    let total = admin.get_ok("/api/v1/people?per_page=1").await["total"]
        .as_i64()
        .unwrap();
    assert_eq!(everyone.len() as i64, total, "the pages hold everyone once");
    let mut unique = everyone.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), everyone.len(), "nobody twice");

    // The CSV export: the same filters, every row, a BOM for Excel.
    let csv = b.get("/people.csv?q=trungten&status=active").await;
    csv.expect(200);
    assert!(csv.text.starts_with('\u{feff}'), "a BOM");
    assert_eq!(
        csv.text.lines().count(),
        1 + 59,
        "header and 59 active namesakes"
    );
    assert!(csv.text.contains("Hờ Văn Trùngtên"));
    assert!(csv.text.lines().next().unwrap().contains("Trạng thái"));
}
