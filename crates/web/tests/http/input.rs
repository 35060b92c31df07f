//! Bad input (422 with Vietnamese field messages, all-or-nothing attendance, 404 on unknown ids)
//! and the Vietnamese people list (name order, diacritic-insensitive search).

use serde_json::{json, Value};

use crate::harness::*;

both_engines! {
    bad_input_is_refused_with_vietnamese_messages => bad_input_is_refused_with_vietnamese_messages_sqlite, bad_input_is_refused_with_vietnamese_messages_postgres;
    r3_4_attendance_all_or_nothing_and_updates_in_place => r3_4_attendance_all_or_nothing_and_updates_in_place_sqlite, r3_4_attendance_all_or_nothing_and_updates_in_place_postgres;
    people_in_vietnamese_order_and_search_ignores_diacritics => people_in_vietnamese_order_and_search_ignores_diacritics_sqlite, people_in_vietnamese_order_and_search_ignores_diacritics_postgres;
    api_unknown_route_is_a_json_404 => api_unknown_route_is_a_json_404_sqlite, api_unknown_route_is_a_json_404_postgres;
    resolution_search_by_title_and_number_ignores_diacritics => resolution_search_by_title_and_number_ignores_diacritics_sqlite, resolution_search_by_title_and_number_ignores_diacritics_postgres;
}

/// A Vietnamese message: non-empty and not plain ASCII.
#[track_caller]
fn vietnamese(v: &Value, field: &str) -> String {
    let m = v["fields"][field].as_str().unwrap_or_default().to_string();
    assert!(
        !m.is_empty() && !m.is_ascii(),
        "a Vietnamese message for {field}: {v}"
    );
    m
}

async fn bad_input_is_refused_with_vietnamese_messages(app: TestApp) {
    let organizer = app.api_login("organizer").await;
    let commune = id(&items(&organizer.get_ok("/api/v1/orgs").await)[0]);
    let before = organizer.get_ok("/api/v1/resolutions").await["total"].clone();

    // Resolution: impossible date, empty title and kind.
    let r = organizer
        .post(
            "/api/v1/resolutions",
            &json!({
                "owner_org_id": commune, "kind": "", "number": "15-NQ/ĐU", "title": "  ",
                "issuing_body": "Đảng ủy phường", "released_on": "31/02/2026", "classification": "public",
            }),
        )
        .await;
    let v = r.expect_error(422, "validation_failed");
    assert!(!v["message"].as_str().unwrap_or_default().is_ascii(), "{v}");
    let m = vietnamese(&v, "released_on");
    assert!(m.contains("Ngày không hợp lệ"), "{m}");
    let m = vietnamese(&v, "title");
    assert!(m.contains("Không được để trống"), "{m}");
    vietnamese(&v, "kind");
    assert!(
        v["fields"].get("number").is_none(),
        "valid fields carry no message: {v}"
    );
    // Published before released.
    let r = organizer
        .post(
            "/api/v1/resolutions",
            &json!({
                "owner_org_id": commune, "kind": "resolution", "number": "15-NQ/ĐU", "title": "Nghị quyết thử",
                "issuing_body": "Đảng ủy phường", "released_on": "2026-02-10", "published_on": "2026-02-01",
                "classification": "public",
            }),
        )
        .await;
    let v = r.expect_error(422, "validation_failed");
    vietnamese(&v, "published_on");
    assert_eq!(
        organizer.get_ok("/api/v1/resolutions").await["total"],
        before,
        "nothing created"
    );

    // HTML: 422, the form again with what was typed and the field messages.
    let browser = app.browser_login("organizer").await;
    let typed = "Nghị quyết về xây dựng phường văn minh đô thị";
    let r = browser
        .post_form(
            "/resolutions",
            &[
                ("owner_org_id", &commune.to_string()),
                ("kind", "resolution"),
                ("number", "16-NQ/ĐU"),
                ("title", typed),
                ("issuing_body", "Đảng ủy phường"),
                ("released_on", "32/13/2026"),
                ("classification", "public"),
                ("published_on", ""),
                ("summary", ""),
            ],
        )
        .await;
    r.expect(422);
    let html = r.html();
    assert!(
        html.contains(typed),
        "the typed title is kept: {}",
        short(&html)
    );
    assert!(html.contains("32/13/2026"), "the typed date is kept");
    assert!(
        html.contains("Ngày không hợp lệ"),
        "the date's message is shown"
    );
    assert_eq!(scrape_csrf(&r.text).as_deref(), Some(browser.csrf.as_str()));
    let r = browser
        .post_form(
            "/resolutions",
            &[
                ("owner_org_id", &commune.to_string()),
                ("kind", "resolution"),
                ("number", ""),
                ("title", typed),
                ("issuing_body", "Đảng ủy phường"),
                ("released_on", "01/03/2026"),
                ("classification", "public"),
                ("published_on", ""),
                ("summary", ""),
            ],
        )
        .await;
    r.expect(422);
    assert!(r.html().contains("Không được để trống"));
    assert_eq!(
        organizer.get_ok("/api/v1/resolutions").await["total"],
        before,
        "nothing created"
    );

    // Campaign: reversed dates, no resolution.
    let people = organizer.all_people(Some(commune)).await;
    let r = organizer
        .post(
            "/api/v1/campaigns",
            &json!({
                "name": "Đợt sai ngày", "org_id": commune, "leader_person_id": id(&people[0]),
                "starts_on": "10/05/2026", "ends_on": "01/05/2026", "resolution_ids": [],
            }),
        )
        .await;
    let v = r.expect_error(422, "validation_failed");
    vietnamese(&v, "ends_on");
    vietnamese(&v, "resolution_ids");
    // HTML campaign form keeps the typed name.
    let r = browser
        .post_form(
            "/campaigns",
            &[
                ("name", "Đợt học tập có ngày sai"),
                ("org_id", &commune.to_string()),
                ("leader_person_id", &id(&people[0]).to_string()),
                ("starts_on", "hôm qua"),
                ("ends_on", "01/05/2026"),
            ],
        )
        .await;
    r.expect(422);
    assert!(r.html().contains("Đợt học tập có ngày sai"));

    // Class and session inputs.
    let res = organizer.resolution_id("144-QĐ/TW").await;
    let campaign = id(&organizer
        .post_ok(
            "/api/v1/campaigns",
            &json!({
                "name": "Đợt kiểm tra dữ liệu", "org_id": commune, "leader_person_id": id(&people[0]),
                "starts_on": "01/05/2026", "ends_on": "31/05/2026", "resolution_ids": [res],
            }),
            201,
        )
        .await);
    let r = organizer
        .post(
            &format!("/api/v1/campaigns/{campaign}/classes"),
            &json!({"title": "", "org_id": commune, "form": "in_person", "audience_tier": "everyone"}),
        )
        .await;
    let v = r.expect_error(422, "validation_failed");
    vietnamese(&v, "title");
    vietnamese(&v, "audience_tier");
    vietnamese(&v, "venue_name");
    let class = id(&organizer
        .post_ok(
            &format!("/api/v1/campaigns/{campaign}/classes"),
            &json!({"title": "Lớp kiểm tra", "org_id": commune, "form": "online", "audience_tier": "grassroots"}),
            201,
        )
        .await);
    let r = organizer
        .post(
            &format!("/api/v1/classes/{class}/sessions"),
            &json!({"date": "30/02/2026", "start_time": "25:10", "duration_minutes": 0, "topic": "", "is_discussion": false}),
        )
        .await;
    let v = r.expect_error(422, "validation_failed");
    for f in ["date", "start_time", "duration_minutes", "topic"] {
        vietnamese(&v, f);
    }
    let detail = organizer.get_ok(&format!("/api/v1/classes/{class}")).await;
    assert_eq!(detail["sessions"].as_array().map(Vec::len), Some(0));

    // Unknown ids: 404 everywhere.
    for path in [
        "/api/v1/orgs/987654",
        "/api/v1/resolutions/987654",
        "/api/v1/campaigns/987654",
        "/api/v1/classes/987654",
        "/api/v1/classes/987654/participants",
        "/api/v1/classes/987654/results",
        "/api/v1/sessions/987654/attendance",
    ] {
        organizer.get(path).await.expect_error(404, "not_found");
    }
    organizer.get("/api/v1/no-such-endpoint").await.expect(404);
    organizer
        .post(
            "/api/v1/classes/987654/sessions",
            &json!({"date": "10/03/2026", "start_time": "07:30", "duration_minutes": 60, "topic": "X", "is_discussion": false}),
        )
        .await
        .expect_error(404, "not_found");
    organizer
        .put("/api/v1/sessions/987654/attendance", &json!({"marks": []}))
        .await
        .expect_error(404, "not_found");
    for path in [
        "/orgs/987654",
        "/people/987654",
        "/resolutions/987654",
        "/campaigns/987654",
        "/classes/987654",
        "/sessions/987654/attendance",
        "/no-such-page",
    ] {
        browser.get(path).await.expect(404);
    }
    browser
        .post_form("/classes/987654/finish", &[])
        .await
        .expect(404);
}

async fn r3_4_attendance_all_or_nothing_and_updates_in_place(app: TestApp) {
    let organizer = app.api_login("organizer").await;
    let commune = id(&items(&organizer.get_ok("/api/v1/orgs").await)[0]);
    let detail = organizer.get_ok(&format!("/api/v1/orgs/{commune}")).await;
    let cell = id(&detail["children"].as_array().expect("children")[0]);
    let people = organizer.all_people(Some(commune)).await;
    let res = organizer.resolution_id("144-QĐ/TW").await;
    let campaign = id(&organizer
        .post_ok(
            "/api/v1/campaigns",
            &json!({
                "name": "Đợt điểm danh", "org_id": commune, "leader_person_id": id(&people[0]),
                "starts_on": "01/05/2026", "ends_on": "31/05/2026", "resolution_ids": [res],
            }),
            201,
        )
        .await);
    let class = id(&organizer
        .post_ok(
            &format!("/api/v1/campaigns/{campaign}/classes"),
            &json!({"title": "Lớp điểm danh", "org_id": cell, "form": "in_person", "audience_tier": "grassroots",
                    "venue_name": "Nhà văn hóa"}),
            201,
        )
        .await);
    let session = id(&organizer
        .post_ok(
            &format!("/api/v1/classes/{class}/sessions"),
            &json!({"date": "05/05/2026", "start_time": "19:00", "duration_minutes": 60, "topic": "Sinh hoạt chuyên đề", "is_discussion": true}),
            201,
        )
        .await);
    organizer
        .post_ok(
            &format!("/api/v1/classes/{class}/participants/generate"),
            &json!({"org_ids": [cell], "bridge_point_ids": [], "management_levels": [], "include_completed": false}),
            200,
        )
        .await;
    let spath = format!("/api/v1/sessions/{session}/attendance");
    let sheet = items(&organizer.get_ok(&spath).await);
    assert!(sheet.len() >= 3, "{sheet:?}");
    let (p1, p2) = (
        sheet[0]["participant_id"].as_i64().unwrap(),
        sheet[1]["participant_id"].as_i64().unwrap(),
    );

    // One valid mark and one whose late + early exceed the 60-minute session: nothing written.
    let r = organizer
        .put(
            &spath,
            &json!({"marks": [
                {"participant_id": p1, "status": "present"},
                {"participant_id": p2, "status": "present", "late_minutes": 40, "left_early_minutes": 21},
            ]}),
        )
        .await;
    assert_eq!(r.status.as_u16(), 422, "{}", r.text);
    let v = r.json();
    assert!(
        matches!(
            v["error"].as_str(),
            Some("validation_failed" | "attendance_minutes_exceed_session")
        ),
        "{v}"
    );
    assert!(!r.text.is_ascii(), "a Vietnamese message: {v}");
    let after = items(&organizer.get_ok(&spath).await);
    assert!(
        after.iter().all(|r| r["status"].is_null()),
        "all or nothing: {after:?}"
    );
    // An excused absence needs a reason.
    let r = organizer
        .put(
            &spath,
            &json!({"marks": [{"participant_id": p1, "status": "excused"}]}),
        )
        .await;
    assert_eq!(r.status.as_u16(), 422, "{}", r.text);
    // A participant of another class is refused.
    let r = organizer
        .put(
            &spath,
            &json!({"marks": [{"participant_id": 987654, "status": "present"}]}),
        )
        .await;
    assert!(
        matches!(r.status.as_u16(), 404 | 422),
        "{} {}",
        r.status,
        r.text
    );
    // An unknown status is refused.
    let r = organizer
        .put(
            &spath,
            &json!({"marks": [{"participant_id": p1, "status": "sleeping"}]}),
        )
        .await;
    assert!(
        matches!(r.status.as_u16(), 400 | 422),
        "{} {}",
        r.status,
        r.text
    );
    assert!(items(&organizer.get_ok(&spath).await)
        .iter()
        .all(|r| r["status"].is_null()));

    // Exactly the session's length is fine; recording again updates, never duplicates.
    let r = organizer
        .put(
            &spath,
            &json!({"marks": [{"participant_id": p2, "status": "present", "late_minutes": 40, "left_early_minutes": 20}]}),
        )
        .await;
    r.expect(200);
    assert_eq!(r.json()["recorded"], 1);
    organizer
        .put(
            &spath,
            &json!({"marks": [{"participant_id": p1, "status": "present", "late_minutes": 5}]}),
        )
        .await
        .expect(200);
    organizer
        .put(
            &spath,
            &json!({"marks": [{"participant_id": p1, "status": "excused", "reason": "Đi công tác"}]}),
        )
        .await
        .expect(200);
    let after = items(&organizer.get_ok(&spath).await);
    assert_eq!(after.len(), sheet.len(), "one row per participant");
    let rows: Vec<&Value> = after.iter().filter(|r| r["participant_id"] == p1).collect();
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0]["status"], "excused");
    assert_eq!(rows[0]["reason"], "Đi công tác");
    assert_eq!(
        rows[0]["late_minutes"], 0,
        "minutes only count on a present mark"
    );
    let row2 = after.iter().find(|r| r["participant_id"] == p2).unwrap();
    assert_eq!(row2["late_minutes"], 40);
    assert_eq!(row2["left_early_minutes"], 20);
    let recorded = after.iter().filter(|r| !r["status"].is_null()).count();
    assert_eq!(recorded, 2);
    let detail = organizer.get_ok(&format!("/api/v1/classes/{class}")).await;
    let s = &detail["sessions"][0];
    if let Some(n) = s.get("recorded_count") {
        assert_eq!(*n, 2, "{s}");
    }

    // The HTML sheet refuses the same overflow and keeps nothing.
    let browser = app.browser_login("organizer").await;
    let p3 = sheet[2]["participant_id"].as_i64().unwrap();
    let r = browser
        .post_fields(
            &format!("/sessions/{session}/attendance"),
            form(&[
                (&format!("status_{p3}"), "present"),
                (&format!("late_{p3}"), "50"),
                (&format!("early_{p3}"), "50"),
                (&format!("reason_{p3}"), ""),
            ]),
        )
        .await;
    r.expect(422);
    assert!(
        r.html().contains("không được vượt quá"),
        "{}",
        short(&r.html())
    );
    let after = items(&organizer.get_ok(&spath).await);
    assert!(after.iter().find(|r| r["participant_id"] == p3).unwrap()["status"].is_null());
}

async fn people_in_vietnamese_order_and_search_ignores_diacritics(app: TestApp) {
    let admin = app.api_login("admin").await;
    let people = admin.all_people(None).await;
    let total = admin.get_ok("/api/v1/people?per_page=1").await["total"]
        .as_i64()
        .unwrap();
    assert_eq!(people.len() as i64, total, "paging returns everyone once");
    assert!(total > 500);
    let ids: std::collections::BTreeSet<i64> = people.iter().map(id).collect();
    assert_eq!(ids.len(), people.len(), "no one twice across pages");
    // Issue 12.B: the same list by keyset (`after` = the last id of a page), 37 at a time: the
    // same people in the same order, each once, and the last page says there is no next.
    let mut walked: Vec<i64> = Vec::new();
    let mut after: Option<i64> = None;
    loop {
        let path = match after {
            Some(a) => format!("/api/v1/people?per_page=37&after={a}"),
            None => "/api/v1/people?per_page=37".to_string(),
        };
        let v = admin.get_ok(&path).await;
        walked.extend(items(&v).iter().map(id));
        match v["next_after"].as_i64() {
            Some(a) => after = Some(a),
            None => break,
        }
        assert!(walked.len() < 100_000, "the pages end");
    }
    assert_eq!(
        walked,
        people.iter().map(id).collect::<Vec<i64>>(),
        "keyset pages are the list in order"
    );

    // Vietnamese order: given name, then middle, then family; Vietnamese letter order.
    let part = |p: &Value, k: &str| p[k].as_str().unwrap_or_default().to_string();
    let keys: Vec<String> = people
        .iter()
        .map(|p| {
            domain::text::name_sort_key(
                &part(p, "family_name"),
                &part(p, "middle_name"),
                &part(p, "given_name"),
            )
        })
        .collect();
    for (i, w) in keys.windows(2).enumerate() {
        assert!(
            w[0] <= w[1],
            "out of order at {i}: {} before {}",
            people[i]["full_name"],
            people[i + 1]["full_name"]
        );
    }
    // Independent of the sort key: by given name, "An" < "Ân"/"Ẩn" < "Bình" (â before b,
    // unlike byte order) and "Uyên" < "Ưng" < "Vân" (ư after u, before v).
    let given = |g: &[&str]| -> Vec<usize> {
        people
            .iter()
            .enumerate()
            .filter(|(_, p)| g.contains(&p["given_name"].as_str().unwrap_or_default()))
            .map(|(i, _)| i)
            .collect()
    };
    let order = [
        given(&["An"]),
        given(&["Ân", "Ẩn"]),
        given(&["Bình"]),
        given(&["Cường"]),
        given(&["Dũng"]),
        given(&["Đạt"]),
    ];
    for w in order.windows(2) {
        assert!(
            !w[0].is_empty() && !w[1].is_empty(),
            "the demo has these given names"
        );
        assert!(
            w[0].iter().max() < w[1].iter().min(),
            "{} … {}",
            people[*w[0].iter().max().unwrap()]["full_name"],
            people[*w[1].iter().min().unwrap()]["full_name"]
        );
    }
    let (u, uw, v) = (given(&["Uyên"]), given(&["Ưng"]), given(&["Vân"]));
    if !uw.is_empty() {
        assert!(u.iter().max() < uw.iter().min());
        assert!(uw.iter().max() < v.iter().min());
    }
    // Ê Đê names are written prefix + given + clan ("Y Blô Kpă") and sort by the given name.
    for p in people.iter().filter(|p| p["given_name"] == "Blô") {
        let i = people.iter().position(|q| id(q) == id(p)).unwrap();
        let last_binh = *given(&["Bình"]).iter().max().unwrap();
        let first_cuong = *given(&["Cường"]).iter().min().unwrap();
        assert!(
            last_binh < i && i < first_cuong,
            "{} sorts among the B given names",
            p["full_name"]
        );
    }
    let by_full: Vec<&str> = {
        let mut v: Vec<&str> = people
            .iter()
            .map(|p| p["full_name"].as_str().unwrap())
            .collect();
        v.sort_unstable();
        v
    };
    let as_listed: Vec<&str> = people
        .iter()
        .map(|p| p["full_name"].as_str().unwrap())
        .collect();
    assert_ne!(
        as_listed, by_full,
        "not merely sorted by the written full name"
    );

    // Search ignores diacritics and case.
    let search = |q: &'static str| {
        let admin = admin.clone();
        async move {
            let v = admin
                .get_ok(&format!("/api/v1/people?q={}&per_page=500", enc(q)))
                .await;
            (v["total"].as_i64().unwrap(), items(&v))
        }
    };
    let (n_plain, plain) = search("nguyen").await;
    let (n_marked, marked) = search("Nguyễn").await;
    let (n_upper, _) = search("NGUYỄN").await;
    let expected = people
        .iter()
        .filter(|p| fold(p["full_name"].as_str().unwrap()).contains("nguyen"))
        .count() as i64;
    assert!(expected > 0);
    assert_eq!(n_plain, expected, "“nguyen” finds every Nguyễn");
    assert_eq!(n_marked, expected);
    assert_eq!(n_upper, expected);
    assert!(plain
        .iter()
        .any(|p| p["full_name"].as_str().unwrap().contains("Nguyễn")));
    assert!(plain
        .iter()
        .all(|p| fold(p["full_name"].as_str().unwrap()).contains("nguyen")));
    let a: Vec<i64> = plain.iter().map(id).collect();
    let b: Vec<i64> = marked.iter().map(id).collect();
    assert_eq!(a, b, "same people, same order");
    assert!(n_plain < total);
    // đ folds to d: "dang" finds "Đặng".
    let (_, dang) = search("dang").await;
    assert!(dang
        .iter()
        .any(|p| p["full_name"].as_str().unwrap().starts_with("Đặng")));
    // A full name without its marks finds that person.
    let someone = people
        .iter()
        .find(|p| {
            p["full_name"]
                .as_str()
                .is_some_and(|n| !n.is_ascii() && !n.contains('\''))
        })
        .unwrap();
    let folded = fold(someone["full_name"].as_str().unwrap());
    let v = admin
        .get_ok(&format!("/api/v1/people?q={}&per_page=500", enc(&folded)))
        .await;
    assert!(items(&v).iter().any(|p| id(p) == id(someone)), "{folded}");
    // The HTML list searches the same way.
    let browser = app.browser_login("admin").await;
    let page = browser.get("/people?q=nguyen").await;
    page.expect(200);
    assert!(page.html().contains("Nguyễn"));
}

async fn resolution_search_by_title_and_number_ignores_diacritics(app: TestApp) {
    let organizer = app.api_login("organizer").await;
    let id144 = organizer.resolution_id("144-QĐ/TW").await;
    let finds = |q: &'static str| {
        let api = organizer.clone();
        async move {
            let v = api
                .get_ok(&format!("/api/v1/resolutions?q={}", enc(q)))
                .await;
            items(&v).iter().any(|r| id(r) == id144)
        }
    };
    // Title words, with or without marks.
    assert!(finds("chuẩn mực đạo đức").await);
    assert!(finds("chuan muc dao duc").await);
    assert!(finds("CHUẨN MỰC").await);
    assert!(finds("144").await);
    assert!(!finds("chỉ thị không tồn tại").await);
    // The number as written on the document ("Đ" in "QĐ"), and without the mark.
    let exact = finds("144-QĐ/TW").await;
    let folded = finds("144-qd/tw").await;
    assert!(
        exact && folded,
        "searching the number finds 144-QĐ/TW: as written {exact}, without marks {folded}"
    );
}

async fn api_unknown_route_is_a_json_404(app: TestApp) {
    // The OpenAPI document is served.
    let doc = app.anon_get("/api/openapi.json").await;
    doc.expect(200);
    let v = doc.json();
    assert!(
        v["openapi"].as_str().is_some_and(|s| s.starts_with('3')),
        "{}",
        short(&doc.text)
    );
    assert!(v["paths"].get("/api/v1/classes/{id}/results").is_some());
    // The API answers in JSON, also for a path it does not know.
    let organizer = app.api_login("organizer").await;
    organizer
        .get("/api/v1/no-such-endpoint")
        .await
        .expect_error(404, "not_found");
}
