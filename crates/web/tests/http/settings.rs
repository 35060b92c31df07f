//! Settings per province (R8.3, issue 13.2): the province's admin changes the retake threshold
//! and the publication deadline on a page; bad values are refused by field with what was typed
//! kept; the change is audited and new classes take the new threshold; nobody else may change
//! them.

use serde_json::json;

use crate::harness::*;

both_engines! {
    r8_3_province_settings_on_a_page => r8_3_province_settings_on_a_page_sqlite, r8_3_province_settings_on_a_page_postgres;
    r8_3_level_names_and_tier_names => r8_3_level_names_and_tier_names_sqlite, r8_3_level_names_and_tier_names_postgres;
    r8_2_plan_template_of_the_province => r8_2_plan_template_of_the_province_sqlite, r8_2_plan_template_of_the_province_postgres;
}

/// The province names its tree's levels and its audience tiers (issue 13.2): a new organization
/// whose level is not named takes its depth's name; classes show the province's tier names;
/// the tiers' rules (their codes) do not change; bad names are refused by field.
async fn r8_3_level_names_and_tier_names(app: TestApp) {
    let admin = app.browser_login("admin").await;
    let html = admin.get("/admin/settings").await.html();
    let province = {
        let at = html
            .find("name=\"org_id\" value=\"")
            .expect("province field")
            + 21;
        html[at..at + html[at..].find('"').expect("end")].to_string()
    };
    assert!(
        html.contains("Cán bộ chủ chốt"),
        "the guideline's tier names by default"
    );
    let base = [
        ("org_id", province.as_str()),
        ("retake_threshold_percent", "40"),
        ("publication_deadline_days", "2"),
    ];
    // Refused: a gap between named levels; a tier's name over 100 characters.
    let long = "Nhân dân ".repeat(12);
    let mut bad = base.to_vec();
    bad.extend([
        ("level_names", "Tỉnh\n\nChi bộ"),
        ("tier_public", long.as_str()),
    ]);
    let r = admin.post_form("/admin/settings", &bad).await;
    r.expect(422);
    let html = r.html();
    assert!(html.contains("id=\"levels-error\""), "{html}");
    assert!(html.contains("id=\"tier_public-error\""), "{html}");
    // Saved.
    let mut good = base.to_vec();
    good.extend([
        ("level_names", "Tỉnh\r\nXã, phường, đặc khu\r\nChi bộ cơ sở"),
        ("tier_public", "Nhân dân trong tỉnh"),
    ]);
    admin.post_form("/admin/settings", &good).await.expect(303);
    let audit = admin.get("/admin/audit?entity=settings").await.html();
    assert!(audit.contains("Nhân dân trong tỉnh"), "audited: {audit}");

    // A cell imported without a level name takes the name of its depth.
    let organizer = app.api_login("organizer").await;
    let commune = id(&items(&organizer.get_ok("/api/v1/orgs").await)[0]);
    let detail = organizer.get_ok(&format!("/api/v1/orgs/{commune}")).await;
    let code = detail["org"]["code"].as_str().expect("code").to_string();
    let depth_named = detail["org"]["level_name"].clone();
    let file = format!("Mã,Tên,Mã cấp trên,Cấp,Loại\nLVL-C1,Chi bộ đặt tên cấp,{code},,cell\n");
    organizer
        .post_file(
            "/api/v1/imports/orgs?dry_run=false",
            "cap.csv",
            file.into_bytes(),
        )
        .await
        .expect(200);
    let kids = organizer.get_ok(&format!("/api/v1/orgs/{commune}")).await;
    let cell = kids["children"]
        .as_array()
        .expect("children")
        .iter()
        .find(|c| c["name"] == "Chi bộ đặt tên cấp")
        .cloned()
        .expect("the new cell");
    assert_eq!(cell["level_name"], "Chi bộ cơ sở", "{cell}");
    assert_ne!(
        depth_named, "Chi bộ cơ sở",
        "the existing commune kept its own name"
    );

    // A class of the public tier shows the province's name of it; the code stays "public".
    let classes = items(&organizer.get_ok("/api/v1/classes").await);
    let campaign = classes
        .iter()
        .find(|c| c["form"] == "in_person")
        .and_then(|c| c["campaign_id"].as_i64())
        .expect("the commune's campaign");
    let class = organizer
        .post_ok(
            &format!("/api/v1/campaigns/{campaign}/classes"),
            &json!({"title": "Lớp cho nhân dân", "org_id": commune, "form": "in_person",
                "audience_tier": "public", "venue_name": "Nhà văn hóa thôn"}),
            201,
        )
        .await;
    assert_eq!(class["audience_tier"], "public");
    let browser = app.browser_login("organizer").await;
    let page = browser
        .get(&format!("/classes/{}", id(&class)))
        .await
        .html();
    assert!(page.contains("Nhân dân trong tỉnh"), "{page}");
    let form = browser
        .get(&format!("/campaigns/{campaign}/classes/new"))
        .await
        .html();
    assert!(
        form.contains(">Nhân dân trong tỉnh</option>")
            && form.contains(">Cán bộ chủ chốt</option>"),
        "{form}"
    );

    // Through the API: read back; a body without the names leaves them as they are.
    let api = app.api_login("admin").await;
    let list = api.get_ok("/api/v1/admin/settings").await;
    assert_eq!(list[0]["level_names"][2], "Chi bộ cơ sở", "{list}");
    assert_eq!(
        list[0]["tier_labels"]["public"], "Nhân dân trong tỉnh",
        "{list}"
    );
    let path = format!("/api/v1/admin/settings/{province}");
    let set = api
        .put(
            &path,
            &json!({"retake_threshold_percent": 40, "publication_deadline_days": 2}),
        )
        .await;
    set.expect(200);
    assert_eq!(set.json()["tier_labels"]["public"], "Nhân dân trong tỉnh");
    let set = api
        .put(
            &path,
            &json!({"retake_threshold_percent": 40, "publication_deadline_days": 2,
                    "level_names": [], "tier_labels": {"key_cadres": "", "grassroots": "", "public": ""}}),
        )
        .await;
    set.expect(200);
    assert_eq!(set.json()["level_names"], json!([]));
    assert_eq!(
        set.json()["tier_labels"]["public"],
        "Đoàn viên, hội viên, quần chúng nhân dân",
        "emptied: the guideline's name again"
    );
}

async fn r8_3_province_settings_on_a_page(app: TestApp) {
    let admin = app.browser_login("admin").await;
    let page = admin.get("/admin/settings").await;
    page.expect(200);
    let html = page.html();
    assert!(html.contains("Cấu hình của tỉnh"), "{html}");
    assert!(
        html.contains("value=\"40\""),
        "the guideline's 40% by default"
    );
    let province = {
        let at = html
            .find("name=\"org_id\" value=\"")
            .expect("province field")
            + 21;
        html[at..at + html[at..].find('"').expect("end")].to_string()
    };
    // The accounts page links to it.
    assert!(admin
        .get("/admin/accounts")
        .await
        .html()
        .contains("href=\"/admin/settings\""));

    // Refused by field, what was typed kept, nothing changed.
    let r = admin
        .post_form(
            "/admin/settings",
            &[
                ("org_id", province.as_str()),
                ("retake_threshold_percent", "0"),
                ("publication_deadline_days", "99"),
            ],
        )
        .await;
    r.expect(422);
    let html = r.html();
    assert!(html.contains("Phải là số nguyên từ 1 đến 100."), "{html}");
    assert!(html.contains("Phải là số nguyên từ 0 đến 60."), "{html}");
    assert!(html.contains("value=\"99\""), "what was typed stays");
    assert!(admin
        .get("/admin/settings")
        .await
        .html()
        .contains("value=\"40\""));

    // Saved and audited.
    let r = admin
        .post_form(
            "/admin/settings",
            &[
                ("org_id", province.as_str()),
                ("retake_threshold_percent", "30"),
                ("publication_deadline_days", "5"),
            ],
        )
        .await;
    r.expect(303);
    let html = admin.get("/admin/settings").await.html();
    assert!(
        html.contains("value=\"30\"") && html.contains("value=\"5\""),
        "{html}"
    );
    let audit = admin.get("/admin/audit?entity=settings").await.html();
    assert!(
        audit.contains("retake_threshold_percent: 40 -&gt; 30")
            || audit.contains("retake_threshold_percent: 40 -> 30"),
        "{audit}"
    );

    // A new class of the province takes 30%.
    let organizer = app.api_login("organizer").await;
    let classes = items(&organizer.get_ok("/api/v1/classes").await);
    let campaign = classes
        .iter()
        .find(|c| c["form"] == "in_person")
        .and_then(|c| c["campaign_id"].as_i64())
        .expect("the commune's campaign");
    let commune = id(&items(&organizer.get_ok("/api/v1/orgs").await)[0]);
    let class = organizer
        .post_ok(
            &format!("/api/v1/campaigns/{campaign}/classes"),
            &json!({"title": "Lớp theo cấu hình mới", "org_id": commune, "form": "in_person",
                "audience_tier": "grassroots", "venue_name": "Hội trường xã"}),
            201,
        )
        .await;
    assert_eq!(class["retake_threshold"], 30, "{class}");

    // The same through the API (issue 13.2).
    let api = app.api_login("admin").await;
    let list = api.get_ok("/api/v1/admin/settings").await;
    assert_eq!(list[0]["retake_threshold_percent"], 30, "{list}");
    assert_eq!(list[0]["publication_deadline_days"], 5, "{list}");
    let path = format!("/api/v1/admin/settings/{province}");
    api.put(
        &path,
        &json!({"retake_threshold_percent": 0, "publication_deadline_days": 3}),
    )
    .await
    .expect_error(422, "validation_failed");
    let set = api
        .put(
            &path,
            &json!({"retake_threshold_percent": 35, "publication_deadline_days": 3}),
        )
        .await;
    set.expect(200);
    assert!(admin
        .get("/admin/settings")
        .await
        .html()
        .contains("value=\"35\""));
    let organizer_api = app.api_login("organizer").await;
    assert!(matches!(
        organizer_api
            .put(
                &path,
                &json!({"retake_threshold_percent": 90, "publication_deadline_days": 1})
            )
            .await
            .status
            .as_u16(),
        403 | 404
    ));

    // Nobody else: the organizer neither sees nor changes the settings.
    let b = app.browser_login("organizer").await;
    assert!(matches!(
        b.get("/admin/settings").await.status.as_u16(),
        403 | 404
    ));
    let r = b
        .post_form(
            "/admin/settings",
            &[
                ("org_id", province.as_str()),
                ("retake_threshold_percent", "90"),
                ("publication_deadline_days", "1"),
            ],
        )
        .await;
    assert!(matches!(r.status.as_u16(), 403 | 404), "{}", r.status);
    assert!(admin
        .get("/admin/settings")
        .await
        .html()
        .contains("value=\"35\""));
}

/// R8.2, R8.3: the province's admin sets the plan template's sections; a new plan of a commune
/// of the province starts with them (page and API); too long a section is refused by field and
/// changes nothing; emptied, the default text comes back; the change is audited.
async fn r8_2_plan_template_of_the_province(app: TestApp) {
    let admin = app.api_login("admin").await;
    let (province, _) = province_tree(&admin).await;
    let path = format!("/api/v1/admin/settings/{province}");
    let set = admin
        .put(
            &path,
            &json!({"retake_threshold_percent": 40, "publication_deadline_days": 2,
                    "plan_template": {"responsibility": "Bí thư cấp ủy chịu trách nhiệm; Ban Tuyên giáo tỉnh theo dõi.",
                                      "inspection": "Ủy ban Kiểm tra kiểm tra 6 tháng một lần."}}),
        )
        .await;
    set.expect(200);
    assert_eq!(
        set.json()["plan_template"]["inspection"],
        "Ủy ban Kiểm tra kiểm tra 6 tháng một lần."
    );
    let r = admin
        .put(
            &path,
            &json!({"retake_threshold_percent": 40, "publication_deadline_days": 2,
                    "plan_template": {"responsibility": "x".repeat(10_001), "inspection": ""}}),
        )
        .await;
    let e = r.expect_error(422, "validation_failed");
    assert!(e.to_string().contains("plan_responsibility"), "{e}");

    // The commune's new plan starts with the province's text, on the form and through the API.
    let organizer = app.api_login("organizer").await;
    let commune = id(&items(&organizer.get_ok("/api/v1/orgs").await)[0]);
    let form = app
        .browser_login("organizer")
        .await
        .get(&format!("/plans/new?org={commune}"))
        .await
        .html();
    assert!(
        form.contains("Ủy ban Kiểm tra kiểm tra 6 tháng một lần."),
        "{form}"
    );
    let leader = organizer
        .all_people(Some(commune))
        .await
        .into_iter()
        .find(|p| p["positions"].as_str().unwrap_or("").contains("Bí thư"))
        .map(|p| id(&p))
        .expect("a secretary");
    let resolution = organizer.resolution_id("08-CT/TU").await;
    let plan = organizer
        .post_ok(
            "/api/v1/plans",
            &json!({"org_id": commune, "kind": "brief", "title": "Kế hoạch theo mẫu của tỉnh",
                    "leader_person_id": leader, "resolution_ids": [resolution]}),
            201,
        )
        .await;
    assert_eq!(
        plan["responsibility"],
        "Bí thư cấp ủy chịu trách nhiệm; Ban Tuyên giáo tỉnh theo dõi."
    );

    // Emptied: the default text again.
    let set = admin
        .put(
            &path,
            &json!({"retake_threshold_percent": 40, "publication_deadline_days": 2,
                    "plan_template": {"responsibility": "", "inspection": ""}}),
        )
        .await;
    set.expect(200);
    assert!(set.json()["plan_template"]["inspection"]
        .as_str()
        .unwrap_or("")
        .starts_with("Ủy ban Kiểm tra và các ban tham mưu"));
    let log = admin
        .get_ok("/api/v1/admin/audit?entity=settings&per_page=50")
        .await;
    assert!(
        log.to_string().contains("plan_inspection"),
        "the change is audited: {log}"
    );
}
