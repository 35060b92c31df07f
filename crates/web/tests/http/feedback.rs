//! Learner feedback (R3.4) and "who still owes it" (R2.3, R2.5, R3.3, R3.5, R2.8), over HTTP on
//! both engines.

use domain::auth::{Clearance, Role};
use domain::ids::{OrgId, PersonId};
use serde_json::{json, Value};

use crate::harness::*;

both_engines! {
    r3_4_member_feedback_reaches_organizer_with_bridge_point => r3_4_member_feedback_reaches_organizer_with_bridge_point_sqlite, r3_4_member_feedback_reaches_organizer_with_bridge_point_postgres;
    r3_4_non_participant_member_is_refused => r3_4_non_participant_member_is_refused_sqlite, r3_4_non_participant_member_is_refused_postgres;
    r3_4_too_short_feedback_is_refused_and_kept => r3_4_too_short_feedback_is_refused_and_kept_sqlite, r3_4_too_short_feedback_is_refused_and_kept_postgres;
    r3_4_paper_feedback_by_secretary_stays_in_scope => r3_4_paper_feedback_by_secretary_stays_in_scope_sqlite, r3_4_paper_feedback_by_secretary_stays_in_scope_postgres;
    r3_4_feedback_csv_has_bom_and_no_formula => r3_4_feedback_csv_has_bom_and_no_formula_sqlite, r3_4_feedback_csv_has_bom_and_no_formula_postgres;
    r2_3_owes_lists_reasons_within_scope => r2_3_owes_lists_reasons_within_scope_sqlite, r2_3_owes_lists_reasons_within_scope_postgres;
    r2_8_owes_hides_classified_resolution => r2_8_owes_hides_classified_resolution_sqlite, r2_8_owes_hides_classified_resolution_postgres;
}

/// The demo's two classes: (the online province conference, the first commune's local class).
async fn demo_classes(admin: &Api) -> (i64, i64) {
    let all = items(&admin.get_ok("/api/v1/classes").await);
    let find = |needle: &str| {
        all.iter()
            .find(|c| c["title"].as_str().unwrap_or_default().contains(needle))
            .map(id)
            .unwrap_or_else(|| panic!("no class with {needle:?} in {all:?}"))
    };
    (find("trực tuyến toàn tỉnh"), find("Chỉ thị 08-CT/TU"))
}

/// A new account (no second factor, no clearance) holding `role` on `org`.
async fn account(app: &TestApp, username: &str, person: Option<i64>, org: i64, role: Role) {
    let a = store::auth::create_account(
        &app.db,
        username,
        PASSWORD,
        "Tài khoản kiểm thử",
        person.map(PersonId),
        Clearance::None,
    )
    .await
    .expect("account");
    store::auth::grant(&app.db, a, OrgId(org), role)
        .await
        .expect("grant");
}

/// Participants of a class (as the admin sees them).
async fn participants_of(admin: &Api, class: i64) -> Vec<Value> {
    items(
        &admin
            .get_ok(&format!("/api/v1/classes/{class}/participants"))
            .await,
    )
}

/// Bridge points of a class: (id, org id, name).
async fn bridge_points(admin: &Api, class: i64) -> Vec<(i64, i64, String)> {
    let d = admin.get_ok(&format!("/api/v1/classes/{class}")).await;
    d["bridge_points"]
        .as_array()
        .unwrap_or_else(|| panic!("no bridge points in {d}"))
        .iter()
        .map(|b| {
            (
                id(b),
                b["org_id"].as_i64().unwrap(),
                b["name"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// The person of the demo member account.
async fn member_person(app: &TestApp) -> i64 {
    let v = app.api_login("member").await.login;
    v["account"]["person_id"]
        .as_i64()
        .unwrap_or_else(|| panic!("no person in {v}"))
}

fn feedback_items(v: &Value) -> Vec<Value> {
    v["items"]
        .as_array()
        .unwrap_or_else(|| panic!("no items in {v}"))
        .clone()
}

fn kind_count(v: &Value, kind: &str) -> i64 {
    v["counts"]["by_kind"]
        .as_array()
        .unwrap_or_else(|| panic!("no counts in {v}"))
        .iter()
        .find(|k| k["kind"] == kind)
        .and_then(|k| k["count"].as_i64())
        .unwrap_or_else(|| panic!("no count of {kind} in {v}"))
}

async fn r3_4_member_feedback_reaches_organizer_with_bridge_point(app: TestApp) {
    let admin = app.api_login("admin").await;
    let organizer = app.api_login("organizer").await;
    let (online, local) = demo_classes(&admin).await;

    // The member (listed in the local class) finds the form from their own page.
    let member = app.browser_login("member").await;
    let me = member.get("/me").await;
    me.expect(200);
    let link = format!("/classes/{local}/feedback/new");
    assert!(
        me.text.contains(&link),
        "/me links the feedback form: {}",
        short(&me.text)
    );
    let form = member.get(&link).await;
    form.expect(200);
    assert!(
        form.html().contains("Hội trường chính"),
        "{}",
        short(&form.text)
    );
    member
        .post_form(
            &link,
            &[
                ("kind", "proposal"),
                ("body", "  Đề nghị gửi tài liệu trước ba ngày.  "),
            ],
        )
        .await
        .expect_redirect("/me");

    // The organizer of the commune reads it: the right kind, person, no bridge point, online.
    let member_person = member_person(&app).await;
    let v = organizer
        .get_ok(&format!("/api/v1/classes/{local}/feedback"))
        .await;
    let got = feedback_items(&v);
    assert_eq!(got.len(), 1, "{v}");
    assert_eq!(got[0]["kind"], "proposal");
    assert_eq!(got[0]["body"], "Đề nghị gửi tài liệu trước ba ngày.");
    assert_eq!(got[0]["source"], "online");
    assert_eq!(got[0]["person_id"].as_i64(), Some(member_person));
    assert!(got[0]["bridge_point_id"].is_null(), "{v}");
    assert_eq!(kind_count(&v, "proposal"), 1);
    assert_eq!(kind_count(&v, "note"), 0);
    let page = app
        .browser_login("organizer")
        .await
        .get(&format!("/classes/{local}/feedback"))
        .await;
    page.expect(200);
    let html = page.html();
    assert!(
        html.contains("Đề nghị gửi tài liệu trước ba ngày."),
        "{}",
        short(&html)
    );
    assert!(html.contains("Kiến nghị, đề xuất"));

    // A participant of the online conference at a commune bridge point: the bridge point is
    // taken from their participant row, whatever they send.
    let bps = bridge_points(&admin, online).await;
    let (bp, bp_org, bp_name) = bps[0].clone();
    let listed = participants_of(&admin, online).await;
    // A participant at the bridge point who has no account yet (one account per person).
    let mut person = None;
    for p in listed
        .iter()
        .filter(|p| p["bridge_point_id"].as_i64() == Some(bp))
    {
        let pid = p["person_id"].as_i64().unwrap();
        let (n,): (i64,) = store::db_run!(&app.db, c => sqlx::query_as("SELECT COUNT(*) FROM accounts WHERE person_id = $1").bind(pid).fetch_one(c).await).unwrap();
        if n == 0 {
            person = Some(pid);
            break;
        }
    }
    let person = person.unwrap_or_else(|| panic!("nobody without an account at bridge point {bp}"));
    account(&app, "hocvien_cau", Some(person), bp_org, Role::Member).await;
    let learner = app.api_login("hocvien_cau").await;
    let created = learner
        .post_ok(
            &format!("/api/v1/classes/{online}/feedback"),
            &json!({"kind": "note", "body": "Đường truyền ở điểm cầu bị gián đoạn 5 phút."}),
            201,
        )
        .await;
    assert_eq!(created["bridge_point_id"].as_i64(), Some(bp), "{created}");
    assert_eq!(created["source"], "online");
    let v = admin
        .get_ok(&format!(
            "/api/v1/classes/{online}/feedback?bridge_point_id={bp}"
        ))
        .await;
    let got = feedback_items(&v);
    assert_eq!(got.len(), 1, "{v}");
    assert_eq!(got[0]["bridge_point_name"].as_str(), Some(bp_name.as_str()));
    assert_eq!(got[0]["kind"], "note");
    assert_eq!(got[0]["person_id"].as_i64(), Some(person));
    let per_bp = v["counts"]["by_bridge_point"].as_array().unwrap();
    assert_eq!(per_bp.len(), 1, "{v}");
    assert_eq!(per_bp[0]["bridge_point_id"].as_i64(), Some(bp));
    assert_eq!(per_bp[0]["count"], 1);
    // Filtered on the main venue, the bridge point's feedback is not listed.
    let v = admin
        .get_ok(&format!(
            "/api/v1/classes/{online}/feedback?bridge_point_id=0"
        ))
        .await;
    assert_eq!(v["total"], 0, "{v}");

    // Both operations are in the OpenAPI document, with their schemas.
    let doc = app.anon_get("/api/openapi.json").await.json();
    let ops = &doc["paths"]["/api/v1/classes/{id}/feedback"];
    assert!(ops["get"].is_object() && ops["post"].is_object(), "{ops}");
    for schema in [
        "FeedbackList",
        "Feedback",
        "FeedbackCounts",
        "KindCount",
        "BridgePointCount",
        "NewFeedbackBody",
    ] {
        assert!(
            doc["components"]["schemas"][schema].is_object(),
            "schema {schema} in the OpenAPI document"
        );
    }
}

async fn r3_4_non_participant_member_is_refused(app: TestApp) {
    let admin = app.api_login("admin").await;
    let (online, local) = demo_classes(&admin).await;
    let member = app.browser_login("member").await;
    // The demo member is not on the online conference's list.
    let me = app.api_login("member").await;
    let person = me.login["account"]["person_id"].as_i64();
    assert!(person.is_some());
    assert!(
        !participants_of(&admin, online)
            .await
            .iter()
            .any(|p| p["person_id"].as_i64() == person),
        "the member is not listed in the online class"
    );
    member
        .get(&format!("/classes/{online}/feedback/new"))
        .await
        .expect(403);
    member
        .post_form(
            &format!("/classes/{online}/feedback/new"),
            &[
                ("kind", "comment"),
                ("body", "Tôi không có tên trong lớp này."),
            ],
        )
        .await
        .expect(403);
    me.post(
        &format!("/api/v1/classes/{online}/feedback"),
        &json!({"kind": "comment", "body": "Tôi không có tên trong lớp này."}),
    )
    .await
    .expect_error(403, "forbidden");
    // Nor may a member type in somebody else's sheet in a class they attend.
    me.post(
        &format!("/api/v1/classes/{local}/feedback"),
        &json!({"kind": "comment", "body": "Phiếu của người khác", "mode": "paper"}),
    )
    .await
    .expect_error(403, "forbidden");
    // A form without the CSRF token is refused, even from a participant.
    member
        .post_raw(
            &format!("/classes/{local}/feedback/new"),
            form(&[("kind", "comment"), ("body", "Không có mã CSRF")]),
        )
        .await
        .expect(403);
    // Members do not read the feedback of a class.
    member
        .get(&format!("/classes/{local}/feedback"))
        .await
        .expect(404);
    let v = admin
        .get_ok(&format!("/api/v1/classes/{online}/feedback"))
        .await;
    assert_eq!(v["total"], 0, "nothing was stored: {v}");
    let v = admin
        .get_ok(&format!("/api/v1/classes/{local}/feedback"))
        .await;
    assert_eq!(v["total"], 0, "nothing was stored: {v}");
}

async fn r3_4_too_short_feedback_is_refused_and_kept(app: TestApp) {
    let admin = app.api_login("admin").await;
    let (_, local) = demo_classes(&admin).await;
    let member = app.browser_login("member").await;
    let r = member
        .post_form(
            &format!("/classes/{local}/feedback/new"),
            &[("kind", "note"), ("body", " ổn ")],
        )
        .await;
    r.expect(422);
    let html = r.html();
    assert!(
        html.contains("Nội dung góp ý quá ngắn: cần ít nhất 3 ký tự (hiện có 2)."),
        "{}",
        short(&html)
    );
    assert!(
        html.contains("> ổn </textarea>"),
        "the text is kept: {}",
        short(&html)
    );
    assert!(
        html.contains("id=\"kind_note\" name=\"kind\" value=\"note\" checked"),
        "the kind is kept"
    );
    // No kind at all.
    let r = member
        .post_form(
            &format!("/classes/{local}/feedback/new"),
            &[("body", "Nội dung đủ dài nhưng thiếu loại")],
        )
        .await;
    r.expect(422);
    assert!(r.html().contains("Chọn loại góp ý"), "{}", short(&r.text));
    assert!(r.html().contains("Nội dung đủ dài nhưng thiếu loại"));
    // The API answers with the field.
    let api = app.api_login("member").await;
    let e = api
        .post(
            &format!("/api/v1/classes/{local}/feedback"),
            &json!({"kind": "comment", "body": "x"}),
        )
        .await
        .expect_error(422, "validation_failed");
    assert!(
        e["fields"]["body"]
            .as_str()
            .unwrap_or_default()
            .contains("quá ngắn"),
        "{e}"
    );
    let long = "ệ".repeat(4001);
    let e = api
        .post(
            &format!("/api/v1/classes/{local}/feedback"),
            &json!({"kind": "comment", "body": long}),
        )
        .await
        .expect_error(422, "validation_failed");
    assert!(
        e["fields"]["body"]
            .as_str()
            .unwrap_or_default()
            .contains("4001"),
        "{e}"
    );
    let v = admin
        .get_ok(&format!("/api/v1/classes/{local}/feedback"))
        .await;
    assert_eq!(v["total"], 0, "nothing was stored: {v}");
}

async fn r3_4_paper_feedback_by_secretary_stays_in_scope(app: TestApp) {
    let admin = app.api_login("admin").await;
    let (online, local) = demo_classes(&admin).await;
    let bps = bridge_points(&admin, online).await;
    let local_org = admin.get_ok(&format!("/api/v1/classes/{local}")).await["class"]["org_id"]
        .as_i64()
        .unwrap();
    // Secretary A at a bridge point's commune; secretary B at another commune's bridge point
    // (not the one organizing the local class).
    let (bp_a, org_a, name_a) = bps[0].clone();
    let (bp_b, org_b, name_b) = bps
        .iter()
        .find(|(_, o, _)| *o != org_a && *o != local_org)
        .cloned()
        .unwrap_or_else(|| panic!("a second commune bridge point in {bps:?}"));
    account(&app, "thuky_a", None, org_a, Role::Secretary).await;
    account(&app, "thuky_b", None, org_b, Role::Secretary).await;
    let a = app.browser_login("thuky_a").await;
    let listed = participants_of(&admin, online).await;
    let writer = listed
        .iter()
        .find(|p| p["bridge_point_id"].as_i64() == Some(bp_a))
        .unwrap_or_else(|| panic!("nobody at {bp_a}"));
    let writer_row = id(writer).to_string();
    let writer_person = writer["person_id"].as_i64().unwrap();

    // The paper form offers only A's bridge point.
    let path = format!("/classes/{online}/feedback/new");
    let page = a.get(&path).await;
    page.expect(200);
    let html = page.html();
    assert!(
        html.contains("Nhập góp ý từ phiếu giấy"),
        "{}",
        short(&html)
    );
    assert!(html.contains(&name_a), "own bridge point offered");
    assert!(
        !html.contains(&name_b),
        "another commune's bridge point is not offered"
    );
    assert!(
        html.contains(&format!("value=\"{writer_row}\"")),
        "participant picker"
    );

    // Named and anonymous sheets.
    let bp_a_s = bp_a.to_string();
    a.post_form(
        &path,
        &[
            ("kind", "note"),
            ("body", "Phiếu giấy: cần thêm tài liệu cho chi bộ thôn."),
            ("participant_id", &writer_row),
            ("bridge_point_id", &bp_a_s),
        ],
    )
    .await
    .expect_redirect(&path);
    a.post_form(
        &path,
        &[
            ("kind", "comment"),
            ("body", "Phiếu không ghi tên: âm thanh hội trường nhỏ."),
            ("participant_id", ""),
            ("bridge_point_id", &bp_a_s),
        ],
    )
    .await
    .expect_redirect(&path);
    // Another commune's bridge point is refused, and what was typed is kept.
    let bp_b_s = bp_b.to_string();
    let r = a
        .post_form(
            &path,
            &[
                ("kind", "comment"),
                ("body", "Phiếu gửi nhầm điểm cầu khác."),
                ("bridge_point_id", &bp_b_s),
            ],
        )
        .await;
    r.expect(422);
    assert!(
        r.html().contains("ngoài phạm vi của bạn"),
        "{}",
        short(&r.text)
    );
    assert!(r.html().contains("Phiếu gửi nhầm điểm cầu khác."));

    let v = admin
        .get_ok(&format!("/api/v1/classes/{online}/feedback"))
        .await;
    let got = feedback_items(&v);
    assert_eq!(got.len(), 2, "{v}");
    assert!(got
        .iter()
        .all(|f| f["source"] == "paper" && f["bridge_point_id"].as_i64() == Some(bp_a)));
    // Newest first: the anonymous sheet, then the named one.
    assert!(got[0]["person_id"].is_null(), "{v}");
    assert_eq!(got[1]["person_id"].as_i64(), Some(writer_person), "{v}");
    assert_eq!(got[1]["kind"], "note");

    // A reads both; B, at another commune, reads none of them.
    let va = app
        .api_login("thuky_a")
        .await
        .get_ok(&format!("/api/v1/classes/{online}/feedback"))
        .await;
    assert_eq!(va["total"], 2, "{va}");
    let b = app.api_login("thuky_b").await;
    let vb = b
        .get_ok(&format!("/api/v1/classes/{online}/feedback"))
        .await;
    assert_eq!(
        vb["total"], 0,
        "secretary B sees nothing of A's bridge point: {vb}"
    );
    let bb = app.browser_login("thuky_b").await;
    let page = bb.get(&format!("/classes/{online}/feedback")).await;
    page.expect(200);
    assert!(!page.html().contains("cần thêm tài liệu cho chi bộ thôn"));
    let csv = bb.get(&format!("/classes/{online}/feedback.csv")).await;
    csv.expect(200);
    assert!(!csv.text.contains("cần thêm tài liệu"), "{}", csv.text);
    // B cannot type into A's bridge point through the API either.
    b.post(
        &format!("/api/v1/classes/{online}/feedback"),
        &json!({"kind": "comment", "body": "Thử nhập vào điểm cầu khác", "bridge_point_id": bp_a}),
    )
    .await
    .expect_error(422, "bridge_point_not_in_class");
    // The commune class of the first commune is not B's at all.
    bb.get(&format!("/classes/{local}/feedback"))
        .await
        .expect(404);
    b.get(&format!("/api/v1/classes/{local}/feedback"))
        .await
        .expect_error(404, "not_found");
    b.post(
        &format!("/api/v1/classes/{local}/feedback"),
        &json!({"kind": "comment", "body": "Không phải lớp của tôi"}),
    )
    .await
    .expect_error(404, "not_found");
}

async fn r3_4_feedback_csv_has_bom_and_no_formula(app: TestApp) {
    let admin = app.api_login("admin").await;
    let (_, local) = demo_classes(&admin).await;
    let member = app.api_login("member").await;
    member
        .post_ok(
            &format!("/api/v1/classes/{local}/feedback"),
            &json!({"kind": "comment", "body": "=HYPERLINK(\"http://x\";\"bấm\")"}),
            201,
        )
        .await;
    member
        .post_ok(
            &format!("/api/v1/classes/{local}/feedback"),
            &json!({"kind": "proposal", "body": "@SUM(1+1) và -2"}),
            201,
        )
        .await;
    let org = app.browser_login("organizer").await;
    let csv = org.get(&format!("/classes/{local}/feedback.csv")).await;
    csv.expect(200);
    assert!(csv.text.starts_with('\u{feff}'), "BOM first");
    let ct = csv.headers["content-type"].to_str().unwrap();
    assert_eq!(ct, "text/csv; charset=utf-8");
    assert!(
        csv.text
            .contains("\"'=HYPERLINK(\"\"http://x\"\";\"\"bấm\"\")\""),
        "{}",
        csv.text
    );
    assert!(csv.text.contains("\"'@SUM(1+1) và -2\""), "{}", csv.text);
    assert!(
        !csv.text.contains(",\"=") && !csv.text.contains(",\"@"),
        "{}",
        csv.text
    );
    assert!(csv.text.contains("Ý kiến góp ý") && csv.text.contains("Trực tuyến"));
    // The export follows the filter.
    let only = org
        .get(&format!("/classes/{local}/feedback.csv?kind=proposal"))
        .await;
    assert!(only.text.contains("SUM") && !only.text.contains("HYPERLINK"));
}

/// The CSV rows of /owes (after the BOM and the header): (card number, reason).
fn owes_rows(text: &str) -> Vec<(String, String)> {
    text.trim_start_matches('\u{feff}')
        .lines()
        .skip(1)
        .map(|l| {
            let cells: Vec<String> = l
                .trim_matches('"')
                .split("\",\"")
                .map(str::to_string)
                .collect();
            (cells[2].clone(), cells[4].clone())
        })
        .collect()
}

async fn r2_3_owes_lists_reasons_within_scope(app: TestApp) {
    let admin = app.api_login("admin").await;
    let organizer = app.api_login("organizer").await;
    let (province, _) = province_tree(&admin).await;
    let (online, local) = demo_classes(&admin).await;
    let commune = id(&items(&organizer.get_ok("/api/v1/orgs").await)[0]);
    let congress = admin.resolution_id("Nghị quyết Đại hội XIV").await;
    let directive = admin.resolution_id("08-CT/TU").await;
    let card = |p: &Value| {
        p["party_card_number"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    };

    // The member was never listed in a class of the Congress resolution's campaign.
    let member_person = member_person(&app).await;
    let member_card = card(
        &admin
            .get_ok(&format!("/api/v1/people/{member_person}"))
            .await,
    );
    // People of the commune who completed it in the online conference, and who must retake it.
    let results = admin
        .get_ok(&format!("/api/v1/classes/{online}/results"))
        .await;
    let commune_people: Vec<Value> = organizer.all_people(Some(commune)).await;
    let in_commune = |pid: i64| commune_people.iter().find(|p| id(p) == pid).cloned();
    let rs = results["results"].as_array().unwrap();
    let done = rs
        .iter()
        .filter(|r| !r["summary"]["needs_retake"].as_bool().unwrap())
        .find_map(|r| in_commune(r["person_id"].as_i64().unwrap()))
        .expect("someone of the commune completed the Congress resolution");
    let retake = rs
        .iter()
        .filter(|r| r["summary"]["needs_retake"].as_bool().unwrap())
        .find_map(|r| in_commune(r["person_id"].as_i64().unwrap()));
    // Someone outside the organizer's commune.
    let outsider = admin
        .all_people(None)
        .await
        .into_iter()
        .find(|p| in_commune(id(p)).is_none() && p["party_card_number"].is_string())
        .expect("someone outside the commune");

    let b = app.browser_login("organizer").await;
    let page = b
        .get(&format!("/owes?org={commune}&resolution={congress}"))
        .await;
    page.expect(200);
    let html = page.html();
    assert!(html.contains("Chưa được xếp lớp"), "{}", short(&html));
    assert!(
        html.contains("aria-current=\"page\">Còn nợ học"),
        "menu item active"
    );
    let csv = b
        .get(&format!("/owes.csv?org={commune}&resolution={congress}"))
        .await;
    csv.expect(200);
    assert!(csv.text.starts_with('\u{feff}'));
    let rows = owes_rows(&csv.text);
    assert!(
        rows.contains(&(member_card.clone(), "Chưa được xếp lớp".to_string())),
        "the member never listed owes it: {rows:?}"
    );
    assert!(
        !rows.iter().any(|(c, _)| *c == card(&done)),
        "someone with a completion does not owe it"
    );
    if let Some(r) = retake {
        assert!(
            rows.contains(&(card(&r), "Phải học lại".to_string())),
            "a retake is listed with its reason"
        );
    }
    assert!(
        !rows.iter().any(|(c, _)| *c == card(&outsider)),
        "nobody outside the commune"
    );
    // R3.3: exempt members, not listed in any class yet, owe nothing.
    let active = commune_people
        .iter()
        .filter(|p| p["status"] == "active" && p["exempt_from_activities"] != true)
        .count();
    let completed = commune_people
        .iter()
        .filter(|p| p["status"] == "active")
        .filter(|p| {
            rs.iter().any(|r| {
                r["person_id"].as_i64() == Some(id(p)) && r["summary"]["needs_retake"] == false
            })
        })
        .count();
    assert_eq!(
        rows.len(),
        active - completed,
        "every active member without a completion"
    );
    assert!(
        html.contains(&format!("{} người", rows.len())),
        "the count of the list is shown"
    );

    // The directive's local class is under way: everyone listed has been marked, a member added
    // by hand later has not been marked yet.
    let exempt = commune_people
        .iter()
        .find(|p| p["exempt_from_activities"] == true && p["status"] == "active")
        .expect("an exempt member in the commune");
    organizer
        .post(
            &format!("/api/v1/classes/{local}/participants"),
            &json!({"person_id": id(exempt), "reason": "Tự nguyện tham gia"}),
        )
        .await
        .expect(204);
    let csv = b
        .get(&format!("/owes.csv?org={commune}&resolution={directive}"))
        .await;
    let rows = owes_rows(&csv.text);
    assert!(
        rows.contains(&(card(exempt), "Chưa điểm danh buổi nào".to_string())),
        "{rows:?}"
    );
    assert!(
        rows.iter().any(|(_, r)| r == "Vắng / chưa hoàn thành"),
        "listed and marked but not finished: {rows:?}"
    );
    let only = b
        .get(&format!(
            "/owes.csv?org={commune}&resolution={directive}&reason=not_checked_in"
        ))
        .await;
    assert_eq!(
        owes_rows(&only.text),
        vec![(card(exempt), "Chưa điểm danh buổi nào".to_string())]
    );

    // Outside the organizer's scope: refused.
    b.get(&format!("/owes?org={province}&resolution={congress}"))
        .await
        .expect(404);
    b.get(&format!("/owes.csv?org={province}&resolution={congress}"))
        .await
        .expect(404);
    // Members have no such list.
    app.browser_login("member")
        .await
        .get("/owes")
        .await
        .expect(403);

    // The admin sees the province, with a row per child organization and pages of 200.
    let ab = app.browser_login("admin").await;
    let page = ab
        .get(&format!("/owes?org={province}&resolution={congress}"))
        .await;
    page.expect(200);
    let html = page.html();
    assert!(html.contains("Theo tổ chức trực thuộc") && html.contains(FIRST_COMMUNE));
    assert!(html.contains("Trang 1 /"), "paged: {}", short(&html));
    // The next page starts after the last person of this one (keyset, issue 12.B).
    let next = html
        .split("href=\"")
        .filter_map(|h| h.split('"').next())
        .find(|h| h.starts_with("/owes?") && h.contains("after="))
        .unwrap_or_else(|| panic!("a link to the next page: {}", short(&html)))
        .replace("&amp;", "&")
        .replace("&#38;", "&");
    let p2 = ab.get(&next).await;
    p2.expect(200);
    let p2 = p2.html();
    assert!(p2.contains("Trang 2 /"), "{}", short(&p2));
    assert!(
        p2.contains(">201<"),
        "rows are numbered on from the first page"
    );
    let first_rows = |h: &str| -> Vec<String> {
        h.split("<td class=\"num\">")
            .skip(1)
            .filter_map(|r| r.split("</td><td>").nth(1).map(str::to_owned))
            .collect()
    };
    let (a, b) = (first_rows(&html), first_rows(&p2));
    assert_eq!(a.len(), 150);
    assert!(!b.is_empty());
}

async fn r2_8_owes_hides_classified_resolution(app: TestApp) {
    let admin = app.api_login("admin").await;
    let secret = admin.resolution_id(SECRET_NUMBER).await;
    let organizer = app.api_login("organizer").await;
    let commune = id(&items(&organizer.get_ok("/api/v1/orgs").await)[0]);
    let b = app.browser_login("organizer").await;
    let page = b.get("/owes").await;
    page.expect(200);
    let html = page.html();
    assert!(html.contains("08-CT/TU"), "public entries are offered");
    assert!(
        !html.contains(SECRET_NUMBER) && !html.contains(SECRET_TITLE),
        "no trace of the classified entry"
    );
    b.get(&format!("/owes?org={commune}&resolution={secret}"))
        .await
        .expect(404);
    b.get(&format!("/owes.csv?org={commune}&resolution={secret}"))
        .await
        .expect(404);
    // The cleared admin has it in the picker and gets the list.
    let ab = app.browser_login("admin").await;
    assert!(ab.get("/owes").await.html().contains(SECRET_NUMBER));
    ab.get(&format!("/owes?org={commune}&resolution={secret}"))
        .await
        .expect(200);
}
