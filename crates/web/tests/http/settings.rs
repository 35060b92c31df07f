//! Settings per province (R8.3, issue 13.2): the province's admin changes the retake threshold
//! and the publication deadline on a page; bad values are refused by field with what was typed
//! kept; the change is audited and new classes take the new threshold; nobody else may change
//! them.

use serde_json::json;

use crate::harness::*;

both_engines! {
    r8_3_province_settings_on_a_page => r8_3_province_settings_on_a_page_sqlite, r8_3_province_settings_on_a_page_postgres;
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
