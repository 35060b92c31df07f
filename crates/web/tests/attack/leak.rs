//! The leak test: a resolution classified "secret" with a unique title, bundled into a campaign of
//! the organizer's commune, must not reach an uncleared user by any path: pages (crawled from /
//! plus every known id), every GET of the OpenAPI document with known ids, CSV exports, searches,
//! error answers and counts.

use std::collections::BTreeSet;

use serde_json::{json, Value};

use crate::common::*;
use crate::harness::*;

both_engines! {
    classified_title_never_leaks => classified_title_never_leaks_sqlite, classified_title_never_leaks_postgres;
}

const TOKEN: &str = "Zephyrin7319";

async fn classified_title_never_leaks(app: TestApp) {
    let orgs = Orgs::load(&app).await;
    let admin = app.api_login("admin").await;
    let organizer_api = app.api_login("organizer").await;
    let title = format!("Nghị quyết chuyên đề Đường Thủy biên giới {TOKEN} về phòng thủ");
    let number = format!("{TOKEN}-NQ/TU");
    let needles = vec![
        title.clone(),
        fold(&title),
        TOKEN.to_string(),
        "Đường Thủy biên giới".to_string(),
        number.clone(),
    ];

    // Counts before, as the organizer.
    let before = organizer_api.get_ok("/api/v1/resolutions?per_page=1").await["total"]
        .as_i64()
        .expect("total");

    // top_secret is above the admin's own clearance (secret): refused, and nothing created.
    let r = admin
        .post(
            "/api/v1/resolutions",
            &json!({"owner_org_id": orgs.c1, "kind": "resolution", "number": "99-NQ/TM",
                "title": "Nghị quyết tuyệt mật không được tạo", "issuing_body": "Tỉnh ủy",
                "released_on": "2026-03-02", "classification": "top_secret"}),
        )
        .await;
    assert!(
        matches!(r.status.as_u16(), 403 | 422),
        "admin (cleared secret) creating a top_secret entry: {} {}",
        r.status,
        short(&r.text)
    );
    let none = admin.get_ok("/api/v1/resolutions?q=99-NQ%2FTM").await;
    assert_eq!(none["total"], 0, "no top_secret entry was created: {none}");

    // The secret entry, kept by the organizer's own commune, and a campaign of that commune
    // bundling it with a public one, with a class.
    let secret = admin
        .post_ok(
            "/api/v1/resolutions",
            &json!({"owner_org_id": orgs.c1, "kind": "resolution", "number": number,
                "title": title, "issuing_body": "Đảng ủy phường Kon Tum",
                "released_on": "2026-03-02", "classification": "secret"}),
            201,
        )
        .await;
    let sid = id(&secret);
    let public = admin.resolution_id("144-QĐ/TW").await;
    let people = admin.all_people(Some(orgs.k1)).await;
    let campaign = admin
        .post(
            "/api/v1/campaigns",
            &json!({"name": "Đợt học tập chuyên đề biên giới", "org_id": orgs.c1,
                "leader_person_id": id(&people[0]), "starts_on": "01/03/2026", "ends_on": "30/04/2026",
                "resolution_ids": [public, sid]}),
        )
        .await;
    campaign.expect(201);
    let campaign = id(&campaign.json());
    let class = id(&admin
        .post_ok(
            &format!("/api/v1/campaigns/{campaign}/classes"),
            &json!({"title": "Lớp chuyên đề biên giới", "org_id": orgs.k1, "form": "in_person",
                "audience_tier": "public", "venue_name": "Nhà văn hóa"}),
            201,
        )
        .await);
    let session = id(&admin
        .post_ok(
            &format!("/api/v1/classes/{class}/sessions"),
            &json!({"date": "10/03/2026", "start_time": "07:30", "duration_minutes": 120,
                "topic": "Quán triệt chuyên đề", "is_discussion": true}),
            201,
        )
        .await);
    admin
        .post_ok(
            &format!("/api/v1/classes/{class}/participants/generate"),
            &json!({"org_ids": [orgs.k1]}),
            200,
        )
        .await;
    // A finished class records completion per resolution (the member's "Của tôi").
    let participants = items(
        &admin
            .get_ok(&format!("/api/v1/classes/{class}/participants"))
            .await,
    );
    let marks: Vec<Value> = participants
        .iter()
        .map(|p| json!({"participant_id": id(p), "status": "present"}))
        .collect();
    admin
        .put(
            &format!("/api/v1/sessions/{session}/attendance"),
            &json!({"marks": marks}),
        )
        .await
        .expect(200);
    admin
        .post(&format!("/api/v1/classes/{class}/finish"), &json!({}))
        .await
        .expect(200);

    // Positive control: the admin (cleared) sees the title where the others must not.
    let ctl = admin.get(&format!("/api/v1/resolutions/{sid}")).await;
    ctl.expect(200);
    assert!(
        !found_in(&ctl.text, &needles).is_empty(),
        "control: {}",
        ctl.text
    );
    let ctl = admin.get(&format!("/api/v1/campaigns/{campaign}")).await;
    assert!(
        !found_in(&ctl.text, &needles).is_empty(),
        "control: the admin sees it in the campaign: {}",
        short(&ctl.text)
    );

    // Known ids and the OpenAPI GET paths.
    let openapi = app.anon_get("/api/openapi.json").await.json();
    let paths: Vec<String> = openapi["paths"]
        .as_object()
        .expect("paths")
        .iter()
        .filter(|(_, item)| item.get("get").is_some())
        .map(|(p, _)| p.clone())
        .collect();
    assert!(paths.len() >= 10, "OpenAPI GET paths: {paths:?}");
    let q = enc(TOKEN);
    let qf = enc(&fold(&title));
    let search_suffixes = [
        String::new(),
        format!("?q={q}"),
        format!("?q={qf}"),
        "?per_page=500".to_string(),
        format!("?campaign_id={campaign}"),
        "?include_removed=true".to_string(),
    ];

    let mut checked = 0usize;
    let mut leaks = Vec::new();
    for user in ["organizer", "secretary", "member"] {
        let api = app.api_login(user).await;
        let me = api.get_ok("/api/v1/me").await;
        let person = me["person_id"].as_i64().unwrap_or(0);
        let account = me["id"].as_i64().unwrap_or(0);
        // API: every GET path, with every known id in its parameters.
        let ids = [
            sid, campaign, class, session, orgs.c1, orgs.k1, orgs.p, person, account, public,
        ];
        let mut urls = BTreeSet::new();
        for p in &paths {
            let concrete: Vec<String> = if p.contains('{') {
                ids.iter()
                    .map(|i| {
                        let mut s = p.clone();
                        while let (Some(a), Some(b)) = (s.find('{'), s.find('}')) {
                            s.replace_range(a..=b, &i.to_string());
                        }
                        s
                    })
                    .collect()
            } else {
                vec![p.clone()]
            };
            for c in concrete {
                for suf in &search_suffixes {
                    urls.insert(format!("{c}{suf}"));
                }
            }
        }
        for extra in [
            "/api/v1/admin/audit".to_string(),
            "/api/v1/admin/accounts".to_string(),
            format!("/api/v1/resolutions?q={}", enc(&number)),
            format!("/api/v1/resolutions?q={}", enc("biên giới")),
        ] {
            urls.insert(extra);
        }
        for u in &urls {
            let r = api.get(u).await;
            checked += 1;
            assert!(
                r.status.as_u16() < 500,
                "{user} GET {u}: {} {}",
                r.status,
                short(&r.text)
            );
            let hit = found_in(&r.text, &needles);
            if !hit.is_empty() {
                leaks.push(format!(
                    "{user} API GET {u} → {} contains {hit:?}",
                    r.status
                ));
            }
        }

        // Error paths: writing the entry, bundling it.
        let attempts: Vec<(&str, String, Value)> = vec![
            (
                "PUT",
                format!("/api/v1/resolutions/{sid}"),
                json!({"kind": "resolution", "number": "1-NQ/X",
                "title": "Đổi tên", "issuing_body": "X", "released_on": "2026-01-01", "classification": "public"}),
            ),
            (
                "POST",
                "/api/v1/campaigns".into(),
                json!({"name": "Đợt dò tìm", "org_id": orgs.c1,
                "leader_person_id": person, "starts_on": "01/03/2026", "ends_on": "30/04/2026",
                "resolution_ids": [sid]}),
            ),
        ];
        for (m, path, body) in attempts {
            let r = if m == "PUT" {
                api.put(&path, &body).await
            } else {
                api.post(&path, &body).await
            };
            checked += 1;
            let hit = found_in(&r.text, &needles);
            if !hit.is_empty() {
                leaks.push(format!(
                    "{user} API {m} {path} → {} contains {hit:?}",
                    r.status
                ));
            }
            if path.ends_with("/campaigns") && r.status.is_success() {
                leaks.push(format!(
                    "{user} bundled the secret entry it cannot see into a campaign: {}",
                    short(&r.text)
                ));
            }
            if m == "PUT" && r.status.is_success() {
                leaks.push(format!(
                    "{user} changed the secret entry: {}",
                    short(&r.text)
                ));
            }
        }

        // Counts: the list total does not move, searching the title finds nothing.
        let total = api.get_ok("/api/v1/resolutions?per_page=1").await["total"].as_i64();
        if user == "organizer" && total != Some(before) {
            leaks.push(format!(
                "organizer's resolution total went from {before} to {total:?} when a secret entry was added"
            ));
        }
        for query in [TOKEN.to_string(), fold(&title), number.clone()] {
            let r = api
                .get(&format!("/api/v1/resolutions?q={}", enc(&query)))
                .await;
            if r.status.is_success() && r.json()["total"].as_i64().unwrap_or(0) != 0 {
                leaks.push(format!("{user} search {query:?} counts {}", r.text));
            }
        }
        let camp = api.get(&format!("/api/v1/campaigns/{campaign}")).await;
        if camp.status.is_success() {
            let n = camp.json()["resolutions"]
                .as_array()
                .map(Vec::len)
                .unwrap_or(0);
            if n != 1 {
                leaks.push(format!(
                    "{user} sees {n} resolutions in the campaign (only the public one is visible): {}",
                    short(&camp.text)
                ));
            }
        }

        // HTML: crawl from / and every known page.
        let b = app.browser_login(user).await;
        let mut seeds = vec![
            "/".to_string(),
            "/me".into(),
            "/account".into(),
            "/retakes".into(),
            "/resolutions".into(),
            format!("/resolutions?q={q}"),
            format!("/resolutions?q={qf}"),
            format!("/resolutions?q={}", enc(&number)),
            format!("/resolutions/{sid}"),
            format!("/resolutions/{sid}/edit"),
            format!("/campaigns/{campaign}"),
            format!("/classes/{class}"),
            format!("/classes/{class}?tab=participants"),
            format!("/classes/{class}?tab=results"),
            format!("/classes/{class}/participants/print"),
            format!("/sessions/{session}/attendance"),
            format!("/campaigns/{campaign}/classes/new"),
            "/campaigns/new".into(),
            "/admin/accounts".into(),
            "/admin/audit".into(),
            format!("/admin/audit?entity=resolution&action=read"),
            "/admin/audit.csv".into(),
            format!("/people?q={q}"),
            format!("/orgs/{}", orgs.c1),
        ];
        seeds.push(format!("/nonexistent/{TOKEN}"));
        let pages = crawl(&b, &seeds, 400).await;
        for r in &pages {
            checked += 1;
            // A search page shows the user's own query back in its search box: not a leak.
            let text = if r.path.contains("q=") {
                strip_values(&r.text)
            } else {
                r.text.clone()
            };
            assert!(
                r.status.as_u16() < 500,
                "{user} GET {}: {} {}",
                r.path,
                r.status,
                short(&r.text)
            );
            let hit = found_in(&text, &needles);
            if !hit.is_empty() {
                leaks.push(format!(
                    "{user} page GET {} → {} contains {hit:?}",
                    r.path, r.status
                ));
            }
        }
        // Form error paths.
        for (path, fields) in [
            (
                format!("/resolutions/{sid}"),
                form(&[
                    ("kind", "resolution"),
                    ("number", "1-NQ/X"),
                    ("title", "Đổi tên"),
                    ("issuing_body", "X"),
                    ("released_on", "01/01/2026"),
                    ("classification", "public"),
                    ("owner_org_id", &orgs.c1.to_string()),
                ]),
            ),
            (
                "/campaigns".to_string(),
                form(&[
                    ("name", "Đợt dò tìm"),
                    ("org_id", &orgs.c1.to_string()),
                    ("leader_person_id", &person.to_string()),
                    ("starts_on", "01/03/2026"),
                    ("ends_on", "30/04/2026"),
                    ("resolution_ids", &sid.to_string()),
                ]),
            ),
        ] {
            let r = b.post_fields(&path, fields).await;
            checked += 1;
            let hit = found_in(&r.text, &needles);
            if !hit.is_empty() {
                leaks.push(format!(
                    "{user} form POST {path} → {} contains {hit:?}",
                    r.status
                ));
            }
        }
    }
    println!("leak test ({:?}): {checked} responses checked", app.engine);
    assert!(
        leaks.is_empty(),
        "the classified title leaked:\n{}",
        leaks.join("\n")
    );
}

/// The page without the contents of its `value="…"` attributes (form fields echo input) and of
/// the `q=` search parameter in its links (paging and export links carry the caller's own search).
fn strip_values(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    loop {
        let next = [
            rest.find("value=\""),
            rest.find("?q="),
            rest.find("&amp;q="),
            rest.find("&#38;q="),
        ]
        .into_iter()
        .flatten()
        .min();
        let Some(i) = next else { break };
        let is_value = rest[i..].starts_with("value=");
        let skip = if is_value {
            7
        } else {
            rest[i..].find('=').map_or(0, |e| e + 1)
        };
        out.push_str(&rest[..i + skip]);
        rest = &rest[i + skip..];
        let end = if is_value {
            rest.find('"')
        } else {
            rest.find(['"', '&'])
        };
        match end {
            Some(e) => rest = &rest[e..],
            None => break,
        }
    }
    out.push_str(rest);
    out
}
