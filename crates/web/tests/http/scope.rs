//! Subtree scoping (an organizer sees only their commune) and R2.8 (classified resolutions are
//! invisible, title included, without clearance).

use std::collections::BTreeSet;

use serde_json::json;

use crate::harness::*;

both_engines! {
    scope_organizer_sees_only_own_commune => scope_organizer_sees_only_own_commune_sqlite, scope_organizer_sees_only_own_commune_postgres;
    r2_8_classified_resolution_invisible_without_clearance => r2_8_classified_resolution_invisible_without_clearance_sqlite, r2_8_classified_resolution_invisible_without_clearance_postgres;
    search_matches_words_in_any_order => search_matches_words_in_any_order_sqlite, search_matches_words_in_any_order_postgres;
    a_person_is_corrected_by_the_organizer => a_person_is_corrected_by_the_organizer_sqlite, a_person_is_corrected_by_the_organizer_postgres;
    a_persons_page_shows_their_study_history => a_persons_page_shows_their_study_history_sqlite, a_persons_page_shows_their_study_history_postgres;
}

/// Issue 11.16: a person's page shows their study history (classes, results, retakes owed).
async fn a_persons_page_shows_their_study_history(app: TestApp) {
    let member = app.api_login("member").await;
    let person = member.login["account"]["person_id"]
        .as_i64()
        .expect("person");
    let organizer = app.api_login("organizer").await;
    let class = items(&organizer.get_ok("/api/v1/classes").await)
        .into_iter()
        .find(|c| c["form"] == "in_person")
        .expect("the commune's class");
    let b = app.browser_login("organizer").await;
    let page = b.get(&format!("/people/{person}")).await;
    page.expect(200);
    let html = page.html();
    assert!(html.contains("Lịch sử học tập"));
    assert!(
        html.contains(class["title"].as_str().unwrap()),
        "the class the member is listed in"
    );
    assert!(
        html.contains("Tạm tính"),
        "the running class's result is provisional"
    );
    // Every person page opens, whatever classes the person is in.
    let admin = app.browser_login("admin").await;
    for p in app.api_login("admin").await.all_people(None).await {
        let r = admin.get(&format!("/people/{}", id(&p))).await;
        assert_eq!(
            r.status.as_u16(),
            200,
            "/people/{}: {}",
            id(&p),
            short(&r.text)
        );
    }
}

/// Issue 11.7: a person's record is corrected on an edit page and by `PUT /api/v1/people/{id}`:
/// a changed name is split again by the people's rule, bad input is refused with its field and
/// kept, the secretary cannot, and the change is audited.
async fn a_person_is_corrected_by_the_organizer(app: TestApp) {
    let organizer = app.api_login("organizer").await;
    let commune = id(&items(&organizer.get_ok("/api/v1/orgs").await)[0]);
    let p = organizer.all_people(Some(commune)).await[0].clone();
    let pid = id(&p);
    let b = app.browser_login("organizer").await;
    let form = b.get(&format!("/people/{pid}/edit")).await;
    form.expect(200);
    assert!(form.html().contains(p["full_name"].as_str().unwrap()));
    // A bad card is refused with its field, the typed name kept.
    let r = b
        .post_form(
            &format!("/people/{pid}/edit"),
            &[
                ("full_name", "Y Blô Kpă"),
                ("gender", "male"),
                ("ethnicity", "Ê Đê"),
                ("party_card_number", "12ab"),
            ],
        )
        .await;
    r.expect(422);
    assert!(
        r.html().contains("value=\"Y Blô Kpă\""),
        "the input is kept"
    );
    b.post_form(
        &format!("/people/{pid}/edit"),
        &[
            ("full_name", "Y Blô Kpă"),
            ("gender", "male"),
            ("ethnicity", "Ê Đê"),
            ("birth_date", "02/09/1975"),
        ],
    )
    .await
    .expect_redirect(&format!("/people/{pid}"));
    let after = organizer.get_ok(&format!("/api/v1/people/{pid}")).await;
    assert_eq!(after["full_name"], "Y Blô Kpă");
    assert_eq!(after["given_name"], "Blô", "split by the Ê Đê rule");
    assert_eq!(after["birth_date"], "1975-09-02");
    // The API.
    let r = organizer
        .put(
            &format!("/api/v1/people/{pid}"),
            &json!({"full_name": "Y Blô Kpă", "gender": "male", "ethnicity": "Ê Đê", "positions": "Bí thư chi bộ"}),
        )
        .await;
    r.expect(200);
    assert_eq!(r.json()["positions"], "Bí thư chi bộ");
    organizer
        .put(
            &format!("/api/v1/people/{pid}"),
            &json!({"full_name": "", "gender": "male"}),
        )
        .await
        .expect_error(422, "validation_failed");
    // Joining dates (issue 11.7): the import's rule, full membership not before joining.
    let v = organizer
        .put(
            &format!("/api/v1/people/{pid}"),
            &json!({"full_name": "Y Blô Kpă", "gender": "male", "ethnicity": "Ê Đê", "birth_date": "02/09/1975",
                    "joined_on": "19/05/2001", "official_on": "19/05/2000"}),
        )
        .await
        .expect_error(422, "validation_failed");
    assert!(v["fields"]["official_on"].is_string(), "{v}");
    let r = organizer
        .put(
            &format!("/api/v1/people/{pid}"),
            &json!({"full_name": "Y Blô Kpă", "gender": "male", "ethnicity": "Ê Đê", "birth_date": "02/09/1975",
                    "positions": "Bí thư chi bộ", "joined_on": "19/05/2001", "official_on": "19/05/2002"}),
        )
        .await;
    r.expect(200);
    assert_eq!(r.json()["joined_on"], "2001-05-19");
    assert_eq!(r.json()["official_on"], "2002-05-19");
    let form = b.get(&format!("/people/{pid}/edit")).await.html();
    assert!(
        form.contains("value=\"19/05/2001\""),
        "the edit page shows the dates"
    );
    let secretary = app.api_login("secretary").await;
    let r = secretary
        .put(
            &format!("/api/v1/people/{pid}"),
            &json!({"full_name": "Không được", "gender": "male"}),
        )
        .await;
    assert!(matches!(r.status.as_u16(), 403 | 404), "{}", r.status);
    let (n,): (i64,) = store::db_run!(&app.db, c => sqlx::query_as("SELECT COUNT(*) FROM audit_log WHERE action = 'update' AND entity = 'person' AND entity_id = $1")
        .bind(pid).fetch_one(c).await)
    .unwrap();
    assert_eq!(n, 3, "every change audited");
}

/// Issue 11.9: "nguyen an" finds "Nguyễn Công An" (words in any order, parts of words), and a
/// card number finds its member; on the API and the people page.
async fn search_matches_words_in_any_order(app: TestApp) {
    let organizer = app.api_login("organizer").await;
    let commune = id(&items(&organizer.get_ok("/api/v1/orgs").await)[0]);
    let people = organizer.all_people(Some(commune)).await;
    let three = people
        .iter()
        .find(|p| {
            p["full_name"]
                .as_str()
                .unwrap_or("")
                .split_whitespace()
                .count()
                >= 3
        })
        .expect("a name of three words");
    let name = three["full_name"].as_str().unwrap();
    let words: Vec<String> = fold(name).split_whitespace().map(str::to_string).collect();
    // Last word first, then the first word cut short: both must match.
    let first_part: String = words[0].chars().take(3).collect();
    let q = format!("{} {}", words[words.len() - 1], first_part);
    let found = items(
        &organizer
            .get_ok(&format!(
                "/api/v1/people?q={}&per_page=500",
                q.replace(' ', "%20")
            ))
            .await,
    );
    assert!(
        found.iter().any(|p| id(p) == id(three)),
        "{q:?} finds {name}"
    );
    assert!(
        found.iter().all(|p| {
            let f = fold(p["full_name"].as_str().unwrap_or(""));
            f.contains(&words[words.len() - 1]) && f.contains(&first_part)
        }),
        "only names holding both words"
    );
    let carded = people
        .iter()
        .find(|p| p["party_card_number"].is_string())
        .expect("a member with a card");
    let card = carded["party_card_number"].as_str().unwrap();
    let found = items(&organizer.get_ok(&format!("/api/v1/people?q={card}")).await);
    assert!(
        found.iter().any(|p| id(p) == id(carded)),
        "the card number finds its member"
    );
    let b = app.browser_login("organizer").await;
    let page = b.get(&format!("/people?q={}", q.replace(' ', "+"))).await;
    page.expect(200);
    assert!(page.html().contains(name), "the people page finds {name}");
}

async fn scope_organizer_sees_only_own_commune(app: TestApp) {
    let admin = app.api_login("admin").await;
    let organizer = app.api_login("organizer").await;
    let (province, children) = province_tree(&admin).await;
    let other = org_named(&children, FOURTH_COMMUNE);

    let roots = items(&organizer.get_ok("/api/v1/orgs").await);
    assert_eq!(roots.len(), 1, "the organizer's one root: {roots:?}");
    assert_eq!(roots[0]["name"], FIRST_COMMUNE);
    let mine = id(&roots[0]);
    assert_eq!(mine, org_named(&children, FIRST_COMMUNE));

    // Organizations: the other commune and the province above are out of scope.
    admin
        .get(&format!("/api/v1/orgs/{other}"))
        .await
        .expect(200);
    organizer
        .get(&format!("/api/v1/orgs/{other}"))
        .await
        .expect_error(404, "not_found");
    organizer
        .get(&format!("/api/v1/orgs/{province}"))
        .await
        .expect_error(404, "not_found");
    let detail = organizer.get_ok(&format!("/api/v1/orgs/{mine}")).await;
    let my_orgs: BTreeSet<i64> = std::iter::once(mine)
        .chain(
            detail["children"]
                .as_array()
                .expect("children")
                .iter()
                .map(id),
        )
        .collect();
    assert!(my_orgs.len() > 1, "the commune has cells: {detail}");

    // A class of the other commune, made by the admin.
    let other_people = admin.all_people(Some(other)).await;
    assert!(!other_people.is_empty());
    let leader = other_people
        .iter()
        .find(|p| p["positions"].as_str().is_some_and(|s| !s.is_empty()))
        .unwrap_or(&other_people[0]);
    let res = admin.resolution_id("144-QĐ/TW").await;
    let campaign = admin
        .post_ok(
            "/api/v1/campaigns",
            &json!({
                "name": "Học tập Quy định 144 tại xã Đăk Tô", "org_id": other,
                "leader_person_id": id(leader), "starts_on": "01/03/2026", "ends_on": "30/04/2026",
                "resolution_ids": [res],
            }),
            201,
        )
        .await;
    let campaign = id(&campaign);
    let class = admin
        .post_ok(
            &format!("/api/v1/campaigns/{campaign}/classes"),
            &json!({
                "title": "Hội nghị học tập Quy định 144 xã Đăk Tô", "org_id": other,
                "form": "in_person", "audience_tier": "grassroots", "venue_name": "Hội trường xã Đăk Tô",
            }),
            201,
        )
        .await;
    let class = id(&class);
    admin
        .get(&format!("/api/v1/classes/{class}"))
        .await
        .expect(200);

    // API: read and write are both 404 (not 403: the class does not exist for the organizer).
    organizer
        .get(&format!("/api/v1/classes/{class}"))
        .await
        .expect_error(404, "not_found");
    organizer
        .get(&format!("/api/v1/campaigns/{campaign}"))
        .await
        .expect_error(404, "not_found");
    organizer
        .get(&format!("/api/v1/classes/{class}/participants"))
        .await
        .expect_error(404, "not_found");
    organizer
        .post(
            &format!("/api/v1/classes/{class}/sessions"),
            &json!({"date": "10/03/2026", "start_time": "07:30", "duration_minutes": 60,
                    "topic": "Buổi chen ngang", "is_discussion": false}),
        )
        .await
        .expect_error(404, "not_found");
    organizer
        .post(
            &format!("/api/v1/campaigns/{campaign}/classes"),
            &json!({"title": "Lớp chen ngang", "org_id": mine, "form": "online", "audience_tier": "grassroots"}),
        )
        .await
        .expect_error(404, "not_found");
    let listed = items(&organizer.get_ok("/api/v1/classes").await);
    assert!(
        listed.iter().all(|c| id(c) != class),
        "the other commune's class is not listed for the organizer"
    );
    assert!(
        !listed.is_empty(),
        "the organizer still sees the classes of their commune"
    );
    let campaigns = items(&organizer.get_ok("/api/v1/campaigns").await);
    assert!(campaigns.iter().all(|c| id(c) != campaign));
    let after = admin.get_ok(&format!("/api/v1/classes/{class}")).await;
    assert_eq!(
        after["sessions"].as_array().map(Vec::len),
        Some(0),
        "the refused session was not added: {after}"
    );

    // HTML: the same answers.
    let browser = app.browser_login("organizer").await;
    browser.get(&format!("/classes/{class}")).await.expect(404);
    browser
        .get(&format!("/campaigns/{campaign}"))
        .await
        .expect(404);
    browser.get(&format!("/orgs/{other}")).await.expect(404);
    browser.get(&format!("/orgs/{mine}")).await.expect(200);
    browser
        .get(&format!("/people/{}", id(&other_people[0])))
        .await
        .expect(404);
    browser
        .post_form(
            &format!("/classes/{class}/sessions"),
            &[
                ("date", "10/03/2026"),
                ("start_time", "07:30"),
                ("duration_minutes", "60"),
                ("topic", "Buổi chen ngang"),
            ],
        )
        .await
        .expect(404);
    let after = admin.get_ok(&format!("/api/v1/classes/{class}")).await;
    assert_eq!(after["sessions"].as_array().map(Vec::len), Some(0));

    // People: only the organizer's commune.
    let seen = organizer.all_people(None).await;
    assert!(!seen.is_empty());
    let outside: Vec<_> = seen
        .iter()
        .filter(|p| !my_orgs.contains(&p["org_id"].as_i64().unwrap_or(-1)))
        .collect();
    assert!(
        outside.is_empty(),
        "people outside the commune: {outside:?}"
    );
    let everyone = admin.all_people(None).await;
    assert!(everyone.len() > seen.len());
    let r = organizer
        .get(&format!("/api/v1/people?org_id={other}"))
        .await;
    if r.status.as_u16() == 200 {
        assert_eq!(
            r.json()["total"],
            0,
            "filtering by an out-of-scope org shows no one: {}",
            r.text
        );
    } else {
        r.expect_error(404, "not_found");
    }
    let stranger = &other_people[0];
    organizer
        .get(&format!("/api/v1/people/{}", id(stranger)))
        .await
        .expect_error(404, "not_found");
    admin
        .get(&format!("/api/v1/people/{}", id(stranger)))
        .await
        .expect(200);
    let name = stranger["full_name"].as_str().unwrap();
    let found = organizer
        .get_ok(&format!("/api/v1/people?q={}&per_page=500", enc(name)))
        .await;
    assert!(
        items(&found).iter().all(|p| id(p) != id(stranger)),
        "searching a stranger's name does not find them"
    );
    let html = browser.get(&format!("/people?q={}", enc(name))).await;
    html.expect(200);
    assert!(
        !html.text.contains(&format!("/people/{}\"", id(stranger))),
        "no link to the stranger on /people"
    );
    // The same page does link people of the organizer's own commune (the check above is real).
    let own = &seen[0];
    let html = browser
        .get(&format!(
            "/people?q={}",
            enc(own["full_name"].as_str().unwrap())
        ))
        .await;
    html.expect(200);
    assert!(
        html.text.contains(&format!("/people/{}\"", id(own))),
        "own people are linked"
    );
}

async fn r2_8_classified_resolution_invisible_without_clearance(app: TestApp) {
    let admin = app.api_login("admin").await;
    let organizer = app.api_login("organizer").await;

    // The admin (cleared "secret") sees it.
    let all = admin.get_ok("/api/v1/resolutions").await;
    assert_eq!(all["total"], 5, "{all}");
    let secret = items(&all)
        .into_iter()
        .find(|r| r["number"] == SECRET_NUMBER)
        .expect("the admin sees the secret resolution");
    assert_eq!(secret["title"], SECRET_TITLE);
    assert_eq!(secret["classification"], "secret");
    let sid = id(&secret);
    admin.get_ok(&format!("/api/v1/resolutions/{sid}")).await;
    let admin_html = app.browser_login("admin").await;
    let page = admin_html.get("/resolutions").await;
    page.expect(200);
    assert!(page.html().contains(SECRET_TITLE));
    let page = admin_html.get(&format!("/resolutions/{sid}")).await;
    page.expect(200);
    assert!(page.html().contains(SECRET_TITLE));

    // The organizer (no clearance) sees no trace of it: list, search, kind filter, detail.
    let seen = organizer.get_ok("/api/v1/resolutions").await;
    assert_eq!(seen["total"], 4, "{seen}");
    assert!(items(&seen)
        .iter()
        .all(|r| id(r) != sid && r["classification"] == "public"));
    assert!(!seen.to_string().contains("quốc phòng"));
    for q in [
        "quốc phòng",
        "quoc phong",
        "biên giới",
        "bien gioi",
        "05-NQ",
        "nhiệm vụ quốc phòng, an ninh",
    ] {
        let v = organizer
            .get_ok(&format!("/api/v1/resolutions?q={}", enc(q)))
            .await;
        assert_eq!(v["total"], 0, "search {q:?} finds nothing: {v}");
        assert!(items(&v).is_empty());
        // The same search finds it for the admin: the query itself is right.
        let a = admin
            .get_ok(&format!("/api/v1/resolutions?q={}", enc(q)))
            .await;
        assert!(
            items(&a).iter().any(|r| id(r) == sid),
            "admin search {q:?}: {a}"
        );
    }
    let by_kind = organizer
        .get_ok("/api/v1/resolutions?kind=resolution")
        .await;
    assert!(items(&by_kind).iter().all(|r| id(r) != sid));
    let r = organizer.get(&format!("/api/v1/resolutions/{sid}")).await;
    r.expect_error(404, "not_found");
    assert!(!r.text.contains("quốc phòng"));

    let browser = app.browser_login("organizer").await;
    for path in [
        "/resolutions".to_string(),
        format!("/resolutions?q={}", enc("quốc phòng")),
        format!("/resolutions?q={}", enc("bien gioi")),
        "/resolutions?kind=resolution".to_string(),
        "/".to_string(),
        "/campaigns".to_string(),
    ] {
        let page = browser.get(&path).await;
        page.expect(200);
        let html = page.html();
        assert!(
            !html.contains(SECRET_TITLE)
                && !html.contains("quốc phòng, an ninh")
                && !html.contains(SECRET_NUMBER),
            "{path} shows the secret resolution"
        );
    }
    let page = browser.get(&format!("/resolutions/{sid}")).await;
    page.expect(404);
    assert!(!page.html().contains("quốc phòng"));
    // Not editable either.
    browser
        .post_form(
            &format!("/resolutions/{sid}"),
            &[
                ("owner_org_id", "1"),
                ("kind", "resolution"),
                ("number", SECRET_NUMBER),
                ("title", "Đổi tên"),
                ("issuing_body", "Tỉnh ủy"),
                ("released_on", "02/03/2026"),
                ("classification", "public"),
                ("published_on", ""),
                ("summary", ""),
            ],
        )
        .await
        .expect(404);
    let still = admin.get_ok(&format!("/api/v1/resolutions/{sid}")).await;
    assert_eq!(still["title"], SECRET_TITLE);
    assert_eq!(still["classification"], "secret");

    // A classified resolution with a summary is refused; metadata only is accepted.
    let (province, _) = province_tree(&admin).await;
    let mut body = json!({
        "owner_org_id": province, "kind": "resolution", "number": "07-NQ/TU",
        "title": "Nghị quyết mật thử nghiệm về bảo vệ bí mật nhà nước", "issuing_body": "Tỉnh ủy",
        "released_on": "2026-03-10", "classification": "confidential",
        "summary": "Nội dung tóm tắt không được phép lưu",
    });
    let r = admin.post("/api/v1/resolutions", &body).await;
    let v = r.expect_error(422, "validation_failed");
    let msg = v["fields"]["summary"].as_str().unwrap_or_default();
    assert!(
        !msg.is_empty() && !msg.is_ascii(),
        "a Vietnamese message for summary: {v}"
    );
    let none = admin.get_ok("/api/v1/resolutions?q=07-NQ").await;
    assert_eq!(none["total"], 0, "nothing created: {none}");
    // The HTML form refuses it too, keeping what was typed.
    let r = admin_html
        .post_form(
            "/resolutions",
            &[
                ("owner_org_id", &province.to_string()),
                ("kind", "resolution"),
                ("number", "07-NQ/TU"),
                (
                    "title",
                    "Nghị quyết mật thử nghiệm về bảo vệ bí mật nhà nước",
                ),
                ("issuing_body", "Tỉnh ủy"),
                ("released_on", "10/03/2026"),
                ("classification", "secret"),
                ("published_on", ""),
                ("summary", "Nội dung tóm tắt không được phép lưu"),
            ],
        )
        .await;
    r.expect(422);
    assert!(r
        .html()
        .contains("Nghị quyết mật thử nghiệm về bảo vệ bí mật nhà nước"));
    assert!(r.html().contains(msg), "the field message is on the page");
    let none = admin.get_ok("/api/v1/resolutions?q=07-NQ").await;
    assert_eq!(none["total"], 0);

    body["summary"] = json!("");
    let created = admin.post_ok("/api/v1/resolutions", &body, 201).await;
    assert_eq!(created["classification"], "confidential");
    assert!(
        created["summary"].is_null() || created["summary"] == "",
        "{created}"
    );
    let cid = id(&created);
    organizer
        .get(&format!("/api/v1/resolutions/{cid}"))
        .await
        .expect_error(404, "not_found");
    let seen = organizer.get_ok("/api/v1/resolutions?q=07-NQ").await;
    assert_eq!(seen["total"], 0);

    // Without clearance one cannot file a classified entry either.
    let commune = id(&items(&organizer.get_ok("/api/v1/orgs").await)[0]);
    let r = organizer
        .post(
            "/api/v1/resolutions",
            &json!({
                "owner_org_id": commune, "kind": "resolution", "number": "08-NQ/ĐU",
                "title": "Nghị quyết mật của Đảng ủy phường", "issuing_body": "Đảng ủy phường",
                "released_on": "2026-03-10", "classification": "confidential",
            }),
        )
        .await;
    assert!(
        matches!(r.status.as_u16(), 403 | 422),
        "uncleared filing of a classified entry: {} {}",
        r.status,
        r.text
    );
    let none = admin
        .get_ok(&format!("/api/v1/resolutions?q={}", enc("08-NQ")))
        .await;
    assert_eq!(none["total"], 0, "nothing created: {none}");
}
