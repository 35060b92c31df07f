//! Action programs and plans (issue 14.1–14.3; R1.1, R1.2, R7.1–R7.4, R8.2, R8.3): a commune
//! drafts a plan for a resolution, consults the Fatherland Front, has it passed by its standing
//! committee, issues it; items have exactly one lead unit; the lead cell reports progress with
//! an evidence file on the page; an issued plan changes only through an amendment; interim and
//! final review close it. The rules refuse bad input with nothing written; a neighbour commune
//! and members see nothing; a plan of a classified resolution is invisible to the uncleared and
//! takes no file.

use chrono::Duration;
use serde_json::{json, Value};

use crate::harness::*;

both_engines! {
    r1_2_a_plan_from_draft_to_final_review => r1_2_a_plan_from_draft_to_final_review_sqlite, r1_2_a_plan_from_draft_to_final_review_postgres;
    r7_3_plan_rules_refuse_and_write_nothing => r7_3_plan_rules_refuse_and_write_nothing_sqlite, r7_3_plan_rules_refuse_and_write_nothing_postgres;
    r2_8_plan_scope_and_classification => r2_8_plan_scope_and_classification_sqlite, r2_8_plan_scope_and_classification_postgres;
    r7_3_plan_pages_work_without_script => r7_3_plan_pages_work_without_script_sqlite, r7_3_plan_pages_work_without_script_postgres;
    r7_1_who_has_issued_a_plan_and_when => r7_1_who_has_issued_a_plan_and_when_sqlite, r7_1_who_has_issued_a_plan_and_when_postgres;
    r8_1_reminders_before_and_after_the_due_date => r8_1_reminders_before_and_after_the_due_date_sqlite, r8_1_reminders_before_and_after_the_due_date_postgres;
    r7_3_plan_files_open_in_libreoffice => r7_3_plan_files_open_in_libreoffice_sqlite, r7_3_plan_files_open_in_libreoffice_postgres;
    r8_1_private_calendar_of_due_dates => r8_1_private_calendar_of_due_dates_sqlite, r8_1_private_calendar_of_due_dates_postgres;
    r8_1_a_task_report_carries_a_file => r8_1_a_task_report_carries_a_file_sqlite, r8_1_a_task_report_carries_a_file_postgres;
}

fn day(offset: i64) -> String {
    (store::plans::tasks::today() + Duration::days(offset))
        .format("%d/%m/%Y")
        .to_string()
}

/// The organizer's commune, its cells, and a person of the commune holding a secretary's post.
async fn commune_setup(organizer: &Api) -> (i64, Vec<i64>, i64) {
    let commune = id(&items(&organizer.get_ok("/api/v1/orgs").await)[0]);
    let detail = organizer.get_ok(&format!("/api/v1/orgs/{commune}")).await;
    let cells: Vec<i64> = detail["children"]
        .as_array()
        .expect("children")
        .iter()
        .map(id)
        .collect();
    let leader = organizer
        .all_people(Some(commune))
        .await
        .into_iter()
        .find(|p| {
            p["positions"]
                .as_str()
                .unwrap_or("")
                .contains("Bí thư Đảng ủy")
        })
        .map(|p| id(&p))
        .expect("the commune's secretary");
    (commune, cells, leader)
}

async fn draft(organizer: &Api, commune: i64, leader: i64, resolution: i64, title: &str) -> Value {
    organizer
        .post_ok(
            "/api/v1/plans",
            &json!({"org_id": commune, "kind": "plan", "title": title, "leader_person_id": leader,
                    "resolution_ids": [resolution], "summary": "Quán triệt sâu rộng đến từng chi bộ."}),
            201,
        )
        .await
}

fn item_of(detail: &Value, item: i64) -> &Value {
    detail["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|i| i["id"] == item)
        .unwrap_or_else(|| panic!("no item {item} in {detail}"))
}

async fn audit_actions(admin: &Api, entity_id: i64) -> Vec<String> {
    let log = admin
        .get_ok("/api/v1/admin/audit?entity=plan&per_page=500")
        .await;
    items(&log)
        .iter()
        .filter(|e| e["entity"] == "plan" && e["entity_id"] == entity_id)
        .map(|e| e["action"].as_str().unwrap_or("").to_string())
        .collect()
}

async fn r1_2_a_plan_from_draft_to_final_review(app: TestApp) {
    let admin = app.api_login("admin").await;
    let organizer = app.api_login("organizer").await;
    let (commune, cells, leader) = commune_setup(&organizer).await;
    let secretary = app.api_login("secretary").await;
    let my_cell = secretary.login["account"]["grants"][0]["org_id"]
        .as_i64()
        .expect("the secretary's cell");
    let other_cell = *cells
        .iter()
        .find(|c| **c != my_cell)
        .expect("a second cell");
    let resolution = organizer.resolution_id("08-CT/TU").await;

    // A draft takes the province's template sections (R8.2).
    let plan = draft(
        &organizer,
        commune,
        leader,
        resolution,
        "Kế hoạch thực hiện Chỉ thị 08-CT/TU",
    )
    .await;
    let pid = id(&plan);
    assert_eq!(plan["status"], "draft");
    assert!(
        plan["responsibility"]
            .as_str()
            .unwrap_or("")
            .contains("Bí thư"),
        "template text: {plan}"
    );
    assert!(plan["inspection"]
        .as_str()
        .unwrap_or("")
        .contains("kiểm tra"));

    // Two items: the commune leads one with a cell coordinating; the first cell leads the other.
    let a = organizer
        .post_ok(
            &format!("/api/v1/plans/{pid}/items"),
            &json!({"kind": "key_task", "title": "Tổ chức hội nghị quán triệt", "starts_on": day(0), "due_on": day(20),
                    "units": [{"org_id": commune, "role": "lead"}, {"org_id": my_cell, "role": "coordinate"}],
                    "responsible": "Đ/c Phó Bí thư Thường trực"}),
            201,
        )
        .await;
    let b = organizer
        .post_ok(
            &format!("/api/v1/plans/{pid}/items"),
            &json!({"kind": "breakthrough", "title": "Mỗi chi bộ có kế hoạch ngắn", "starts_on": day(0), "due_on": day(40),
                    "units": [{"org_id": my_cell, "role": "lead"}]}),
            201,
        )
        .await;
    assert_eq!(a["state"], "in_progress");
    assert!(a["coordinators"].as_str().unwrap_or("").len() > 2);

    // Issuing before approval is refused (R1.2); nothing moves.
    organizer
        .post(
            &format!("/api/v1/plans/{pid}/steps"),
            &json!({"step": "issue", "number": "12-KH/ĐU"}),
        )
        .await
        .expect_error(422, "plan_not_approved");

    // Consultation of two bodies; one answers.
    let p = organizer
        .post_ok(
            &format!("/api/v1/plans/{pid}/steps"),
            &json!({"step": "consult", "consulted": ["Ủy ban MTTQ Việt Nam xã", "Hội Nông dân xã"]}),
            200,
        )
        .await;
    assert_eq!(p["status"], "consultation");
    let d = organizer.get_ok(&format!("/api/v1/plans/{pid}")).await;
    let asked = d["consultations"].as_array().expect("consultations");
    assert_eq!(asked.len(), 2);
    let front = id(&asked[0]);
    let d = organizer
        .post_ok(
            &format!("/api/v1/plans/{pid}/consultations/{front}/answer"),
            &json!({"answer": "Nhất trí; đề nghị bổ sung nội dung tuyên truyền trong đồng bào dân tộc thiểu số."}),
            200,
        )
        .await;
    let unanswered = d["consultations"]
        .as_array()
        .expect("consultations")
        .iter()
        .filter(|c| c["answered_on"].is_null())
        .count();
    assert_eq!(unanswered, 1, "who has not answered is kept");
    organizer
        .post(
            &format!("/api/v1/plans/{pid}/consultations/{front}/answer"),
            &json!({"answer": "Lần hai"}),
        )
        .await
        .expect_error(422, "already_answered");

    // Approval by the standing committee, then issue.
    let p = organizer
        .post_ok(
            &format!("/api/v1/plans/{pid}/steps"),
            &json!({"step": "approve", "approval_body": "standing_committee", "number": "45-NQ/ĐU"}),
            200,
        )
        .await;
    assert_eq!(p["status"], "approved");
    assert_eq!(p["decision_number"], "45-NQ/ĐU");
    let p = organizer
        .post_ok(
            &format!("/api/v1/plans/{pid}/steps"),
            &json!({"step": "issue", "number": "Số 12-KH/ĐU"}),
            200,
        )
        .await;
    assert_eq!(p["status"], "issued");
    assert_eq!(p["number"], "12-KH/ĐU");

    // An issued plan changes only through an amendment.
    let third = json!({"kind": "task", "title": "Sơ kết việc học tập ở chi bộ", "starts_on": day(1), "due_on": day(30),
                       "units": [{"org_id": other_cell, "role": "lead"}]});
    organizer
        .post(&format!("/api/v1/plans/{pid}/items"), &third)
        .await
        .expect_error(422, "amendment_required");
    let am = organizer
        .post_ok(
            &format!("/api/v1/plans/{pid}/amendments"),
            &json!({"number": "15-KH/ĐU", "decided_on": day(0), "reason": "Bổ sung nhiệm vụ sơ kết ở chi bộ."}),
            201,
        )
        .await;
    let mut third = third;
    third["amendment_id"] = json!(id(&am));
    let c = organizer
        .post_ok(&format!("/api/v1/plans/{pid}/items"), &third, 201)
        .await;
    assert_eq!(c["amendment_id"], id(&am));

    // The first cell's secretary sees the item its cell leads under "Việc của đơn vị", reports
    // 50% through the API and 100% with an evidence file through the page.
    let mine = secretary.get_ok("/api/v1/plans/items/assigned").await;
    let row = items(&mine)
        .into_iter()
        .find(|r| r["item_id"] == id(&b))
        .unwrap_or_else(|| panic!("the cell's item in {mine}"));
    assert_eq!(row["lead"], true);
    let r = secretary
        .post_ok(
            &format!("/api/v1/plans/{pid}/items/{}/reports", id(&b)),
            &json!({"percent": 50, "note": "6/11 chi bộ đã có kế hoạch"}),
            200,
        )
        .await;
    assert_eq!(r["percent"], 50);
    assert_eq!(r["state"], "in_progress");
    // The cell only coordinates item a: it sees the item but cannot report on it.
    assert!(items(&mine)
        .iter()
        .any(|r| r["item_id"] == id(&a) && r["lead"] == false));
    let e = secretary
        .post(
            &format!("/api/v1/plans/{pid}/items/{}/reports", id(&a)),
            &json!({"percent": 100}),
        )
        .await
        .expect_error(422, "not_lead_unit");
    assert!(e.to_string().contains("đơn vị chủ trì"), "{e}");

    let browser = app.browser_login("secretary").await;
    let form = browser
        .get(&format!("/plans/{pid}/items/{}/report", id(&b)))
        .await;
    form.expect(200);
    let evidence = b"Bien ban hop chi bo ngay ...".to_vec();
    let part = reqwest::multipart::Part::bytes(evidence.clone())
        .file_name("bien-ban.pdf")
        .mime_str("application/pdf")
        .expect("mime");
    let mp = reqwest::multipart::Form::new()
        .text("csrf", browser.csrf.clone())
        .text("percent", "100")
        .text("reported_on", "")
        .text("note", "Tất cả chi bộ đã có kế hoạch")
        .part("file", part);
    let sent = browser
        .client
        .post(format!(
            "{}/plans/{pid}/items/{}/report",
            browser.base,
            id(&b)
        ))
        .multipart(mp)
        .send()
        .await
        .expect("sent");
    assert_eq!(sent.status().as_u16(), 303, "{:?}", sent.text().await);
    let d = organizer.get_ok(&format!("/api/v1/plans/{pid}")).await;
    assert_eq!(item_of(&d, id(&b))["state"], "done");
    assert_eq!(d["plan"]["item_done_count"], 1);
    assert_eq!(d["plan"]["item_count"], 3);
    // The file downloads for the commune, never inline.
    let page = app
        .browser_login("organizer")
        .await
        .get(&format!("/plans/{pid}"))
        .await
        .html();
    let link = page
        .split("href=\"")
        .find(|s| s.contains("/file\""))
        .and_then(|s| s.split('"').next())
        .unwrap_or_else(|| panic!("an evidence link in {page}"))
        .to_string();
    let file = app.browser_login("organizer").await.get(&link).await;
    file.expect(200);
    assert_eq!(file.text.as_bytes(), evidence.as_slice());
    assert!(file
        .headers
        .get("content-disposition")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .starts_with("attachment"));

    // Interim, then final review; afterwards no report, no step, no amendment.
    organizer
        .post(
            &format!("/api/v1/plans/{pid}/steps"),
            &json!({"step": "interim_review"}),
        )
        .await
        .expect_error(422, "validation_failed");
    organizer
        .post_ok(
            &format!("/api/v1/plans/{pid}/steps"),
            &json!({"step": "interim_review", "note": "Đạt 1/3 hạng mục; đẩy nhanh hội nghị."}),
            200,
        )
        .await;
    let p = organizer
        .post_ok(
            &format!("/api/v1/plans/{pid}/steps"),
            &json!({"step": "final_review", "note": "Hoàn thành cơ bản các nhiệm vụ."}),
            200,
        )
        .await;
    assert_eq!(p["status"], "final_review");
    organizer
        .post(
            &format!("/api/v1/plans/{pid}/items/{}/reports", id(&a)),
            &json!({"percent": 100}),
        )
        .await
        .expect_error(422, "plan_not_running");
    organizer
        .post(
            &format!("/api/v1/plans/{pid}/amendments"),
            &json!({"number": "16-KH/ĐU", "decided_on": day(0), "reason": "x"}),
        )
        .await
        .expect_error(422, "plan_closed");

    // Every transition is audited.
    let actions = audit_actions(&admin, pid).await;
    for a in [
        "create",
        "add_item",
        "consult",
        "answer",
        "approve",
        "issue",
        "amend",
        "interim_review",
        "final_review",
    ] {
        assert!(actions.iter().any(|x| x == a), "{a} audited: {actions:?}");
    }
    // The list filters by status and by lead unit.
    let done = organizer.get_ok("/api/v1/plans?status=final_review").await;
    assert!(items(&done).iter().any(|p| id(p) == pid));
    let led = organizer
        .get_ok(&format!("/api/v1/plans?lead_org_id={}", my_cell))
        .await;
    assert!(items(&led).iter().any(|p| id(p) == pid), "{led}");
    for p in items(&led) {
        let d = organizer.get_ok(&format!("/api/v1/plans/{}", id(&p))).await;
        assert!(
            d["items"]
                .as_array()
                .expect("items")
                .iter()
                .any(|i| i["lead_org_id"] == my_cell),
            "a plan listed without an item the cell leads: {d}"
        );
    }
    let other = organizer
        .get_ok(&format!("/api/v1/plans?lead_org_id={other_cell}"))
        .await;
    assert!(
        items(&other).iter().any(|p| id(p) == pid),
        "item c is led by the other cell"
    );
    let none = organizer.get_ok("/api/v1/plans?status=draft").await;
    assert!(items(&none).iter().all(|p| id(p) != pid));
}

async fn r7_3_plan_rules_refuse_and_write_nothing(app: TestApp) {
    let admin = app.api_login("admin").await;
    let organizer = app.api_login("organizer").await;
    let (commune, cells, leader) = commune_setup(&organizer).await;
    let (_, communes) = province_tree(&admin).await;
    let neighbour = communes
        .iter()
        .map(id)
        .find(|c| *c != commune)
        .expect("a second commune");
    let resolution = organizer.resolution_id("08-CT/TU").await;

    // A plan with no resolution, no title, a leader from another commune.
    let r = organizer
        .post(
            "/api/v1/plans",
            &json!({"org_id": commune, "kind": "plan", "title": " ", "leader_person_id": leader, "resolution_ids": []}),
        )
        .await;
    let e = r.expect_error(422, "validation_failed");
    assert!(
        e.to_string().contains("title") && e.to_string().contains("resolution_ids"),
        "{e}"
    );
    let stranger = admin
        .all_people(Some(neighbour))
        .await
        .first()
        .map(id)
        .expect("a neighbour's member");
    organizer
        .post(
            "/api/v1/plans",
            &json!({"org_id": commune, "kind": "plan", "title": "X", "leader_person_id": stranger, "resolution_ids": [resolution]}),
        )
        .await
        .expect_error(422, "leader_outside");
    // A commune cannot write a plan for its neighbour.
    let r = organizer
        .post(
            "/api/v1/plans",
            &json!({"org_id": neighbour, "kind": "plan", "title": "X", "leader_person_id": leader, "resolution_ids": [resolution]}),
        )
        .await;
    assert!(matches!(r.status.as_u16(), 403 | 404), "{}", r.status);

    let plan = draft(
        &organizer,
        commune,
        leader,
        resolution,
        "Kế hoạch kiểm tra quy tắc",
    )
    .await;
    let pid = id(&plan);
    let path = format!("/api/v1/plans/{pid}/items");
    // A second lead unit; a due date before the start; a coordinating unit outside the subtree.
    let e = organizer
        .post(
            &path,
            &json!({"kind": "task", "title": "Hai chủ trì", "starts_on": day(0), "due_on": day(5),
                    "units": [{"org_id": cells[0], "role": "lead"}, {"org_id": cells[1], "role": "lead"}]}),
        )
        .await
        .expect_error(422, "validation_failed");
    assert!(e.to_string().contains("một đơn vị chủ trì"), "{e}");
    let e = organizer
        .post(
            &path,
            &json!({"kind": "task", "title": "Ngày ngược", "starts_on": day(10), "due_on": day(5),
                    "units": [{"org_id": cells[0], "role": "lead"}]}),
        )
        .await
        .expect_error(422, "validation_failed");
    assert!(e.to_string().contains("due_on"), "{e}");
    let e = organizer
        .post(
            &path,
            &json!({"kind": "task", "title": "Phối hợp ngoài phạm vi", "starts_on": day(0), "due_on": day(5),
                    "units": [{"org_id": cells[0], "role": "lead"}, {"org_id": neighbour, "role": "coordinate"}]}),
        )
        .await
        .expect_error(422, "coordinator_outside");
    assert!(e.to_string().contains("Đơn vị phối hợp"), "{e}");
    organizer
        .post(
            &path,
            &json!({"kind": "task", "title": "Không chủ trì", "starts_on": day(0), "due_on": day(5), "units": []}),
        )
        .await
        .expect_error(422, "validation_failed");
    // Nothing was written.
    let d = organizer.get_ok(&format!("/api/v1/plans/{pid}")).await;
    assert_eq!(d["plan"]["item_count"], 0);
    assert!(d["items"].as_array().expect("items").is_empty());

    // Bad numbers and a meeting in the future.
    organizer
        .post(
            &format!("/api/v1/plans/{pid}/steps"),
            &json!({"step": "approve", "approval_body": "standing_committee", "number": "45 NQ"}),
        )
        .await
        .expect_error(422, "validation_failed");
    organizer
        .post(
            &format!("/api/v1/plans/{pid}/steps"),
            &json!({"step": "approve", "approval_body": "standing_committee", "number": "45-NQ/ĐU", "on": day(3)}),
        )
        .await
        .expect_error(422, "validation_failed");
    // An amendment of a draft is not needed; a review of a draft is refused.
    organizer
        .post(
            &format!("/api/v1/plans/{pid}/amendments"),
            &json!({"number": "15-KH/ĐU", "decided_on": day(0), "reason": "x"}),
        )
        .await
        .expect_error(422, "amendment_not_needed");
    organizer
        .post(
            &format!("/api/v1/plans/{pid}/steps"),
            &json!({"step": "final_review", "note": "x"}),
        )
        .await
        .expect_error(422, "plan_not_issued");
    // A report on an item of a plan not yet issued.
    let it = organizer
        .post_ok(
            &path,
            &json!({"kind": "task", "title": "Hội nghị", "starts_on": day(0), "due_on": day(5),
                    "units": [{"org_id": commune, "role": "lead"}]}),
            201,
        )
        .await;
    organizer
        .post(
            &format!("/api/v1/plans/{pid}/items/{}/reports", id(&it)),
            &json!({"percent": 10}),
        )
        .await
        .expect_error(422, "plan_not_running");
    let d = organizer.get_ok(&format!("/api/v1/plans/{pid}")).await;
    assert_eq!(d["plan"]["status"], "draft");
    assert_eq!(d["plan"]["amendment_count"], 0);
}

async fn r2_8_plan_scope_and_classification(app: TestApp) {
    let admin = app.api_login("admin").await;
    let organizer = app.api_login("organizer").await;
    let (province, communes) = province_tree(&admin).await;
    let (commune, cells, leader) = commune_setup(&organizer).await;
    let neighbour = communes
        .iter()
        .map(id)
        .find(|c| *c != commune)
        .expect("a second commune");
    let resolution = organizer.resolution_id("08-CT/TU").await;

    // The province's plan names the commune as lead of one item and the neighbour of another.
    let province_leader = admin
        .all_people(None)
        .await
        .into_iter()
        .find(|p| p["positions"] == "Bí thư Tỉnh ủy")
        .map(|p| id(&p))
        .expect("the province's secretary");
    let plan = admin
        .post_ok(
            "/api/v1/plans",
            &json!({"org_id": province, "kind": "program", "title": "Chương trình hành động của Tỉnh ủy",
                    "leader_person_id": province_leader, "resolution_ids": [resolution]}),
            201,
        )
        .await;
    let pid = id(&plan);
    for (org, title) in [(commune, "Việc của xã"), (neighbour, "Việc của xã bên")] {
        admin
            .post_ok(
                &format!("/api/v1/plans/{pid}/items"),
                &json!({"kind": "task", "title": title, "starts_on": day(0), "due_on": day(9),
                        "units": [{"org_id": org, "role": "lead"}]}),
                201,
            )
            .await;
    }
    // The commune sees the plan's heading and its own item only; no consultations.
    let d = organizer.get_ok(&format!("/api/v1/plans/{pid}")).await;
    let titles: Vec<&str> = d["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|i| i["title"].as_str())
        .collect();
    assert_eq!(titles, ["Việc của xã"]);
    // Not in its own list of plans (owned above), and not printable by it.
    let list = organizer.get_ok("/api/v1/plans").await;
    assert!(items(&list).iter().all(|p| id(p) != pid));
    app.browser_login("organizer")
        .await
        .get(&format!("/plans/{pid}/print"))
        .await
        .expect(404);

    // A commune's own plan is invisible to the neighbour's side and to members.
    let own = draft(
        &organizer,
        commune,
        leader,
        resolution,
        "Kế hoạch riêng của xã",
    )
    .await;
    let member = app.browser_login("member").await;
    member
        .get(&format!("/plans/{}", id(&own)))
        .await
        .expect(404);
    let r = member.get("/api/v1/plans").await;
    assert!(
        r.status.as_u16() == 200 && !r.text.contains("Kế hoạch riêng của xã"),
        "{}",
        r.text
    );
    let secretary = app.api_login("secretary").await;
    // The cell's secretary (below the commune) does not read the commune's plan.
    secretary
        .get(&format!("/api/v1/plans/{}", id(&own)))
        .await
        .expect(404);

    // A plan of a classified resolution: invisible to the uncleared, title included, and no file.
    let secret = admin.resolution_id("05-NQ/TU").await;
    let classified = admin
        .post_ok(
            "/api/v1/plans",
            &json!({"org_id": province, "kind": "plan", "title": "Kế hoạch thực hiện nghị quyết mật",
                    "leader_person_id": province_leader, "resolution_ids": [secret]}),
            201,
        )
        .await;
    assert_eq!(classified["classification"], "secret");
    let cid = id(&classified);
    admin
        .post_ok(
            &format!("/api/v1/plans/{cid}/items"),
            &json!({"kind": "task", "title": "Việc mật của xã", "starts_on": day(0), "due_on": day(9),
                    "units": [{"org_id": commune, "role": "lead"}]}),
            201,
        )
        .await;
    organizer
        .get(&format!("/api/v1/plans/{cid}"))
        .await
        .expect(404);
    let mine = organizer.get_ok("/api/v1/plans/items/assigned").await;
    assert!(!mine.to_string().contains("mật"), "{mine}");
    let page = app
        .browser_login("organizer")
        .await
        .get("/tasks")
        .await
        .html();
    assert!(!page.contains("nghị quyết mật") && !page.contains("Việc mật"));
    // The organizer cannot tie its own plan to it either.
    organizer
        .post(
            "/api/v1/plans",
            &json!({"org_id": commune, "kind": "plan", "title": "X", "leader_person_id": leader, "resolution_ids": [secret]}),
        )
        .await
        .expect_error(422, "resolution_not_found");
    // The cleared admin issues it and reports with a file: refused (R2.8).
    for s in [
        json!({"step": "approve", "approval_body": "standing_committee", "number": "46-NQ/TU"}),
        json!({"step": "issue", "number": "20-KH/TU"}),
    ] {
        admin
            .post_ok(&format!("/api/v1/plans/{cid}/steps"), &s, 200)
            .await;
    }
    let d = admin.get_ok(&format!("/api/v1/plans/{cid}")).await;
    let item = id(&d["items"][0]);
    let browser = app.browser_login("admin").await;
    let mp = reqwest::multipart::Form::new()
        .text("csrf", browser.csrf.clone())
        .text("percent", "40")
        .part(
            "file",
            reqwest::multipart::Part::bytes(b"x".to_vec()).file_name("a.pdf"),
        );
    let r = browser
        .client
        .post(format!("{}/plans/{cid}/items/{item}/report", browser.base))
        .multipart(mp)
        .send()
        .await
        .expect("sent");
    assert_eq!(r.status().as_u16(), 422);
    let html = r.text().await.expect("text");
    assert!(html.contains("không nhận tệp"), "{html}");
    let d = admin.get_ok(&format!("/api/v1/plans/{cid}")).await;
    assert_eq!(d["items"][0]["report_count"], 0, "nothing written");
    // Without CSRF the upload is refused.
    let mp = reqwest::multipart::Form::new().text("percent", "40");
    let r = browser
        .client
        .post(format!("{}/plans/{cid}/items/{item}/report", browser.base))
        .multipart(mp)
        .send()
        .await
        .expect("sent");
    assert_eq!(r.status().as_u16(), 403);
    let _ = cells;
}

/// The pages: the list with filters, the form, the plan page with its steps and timeline (SVG
/// drawn on the server), the item form's errors by field, the print layout.
async fn r7_3_plan_pages_work_without_script(app: TestApp) {
    let organizer = app.api_login("organizer").await;
    let (commune, cells, leader) = commune_setup(&organizer).await;
    let resolution = organizer.resolution_id("08-CT/TU").await;
    let b = app.browser_login("organizer").await;
    let form = b.get(&format!("/plans/new?org={commune}")).await.html();
    assert!(
        form.contains("Tổ chức thực hiện") && form.contains("Bí thư"),
        "{form}"
    );
    // A bad form comes back with the typed values and the errors by field.
    let r = b
        .post_form(
            "/plans",
            &[
                ("org_id", &commune.to_string()),
                ("kind", "plan"),
                ("title", "Kế hoạch của xã"),
                ("leader_person_id", &leader.to_string()),
            ],
        )
        .await;
    r.expect(422);
    assert!(r.html().contains("Chọn ít nhất một nghị quyết"));
    assert!(r.html().contains("value=\"Kế hoạch của xã\""));
    let r = b
        .post_form(
            "/plans",
            &[
                ("org_id", &commune.to_string()),
                ("kind", "brief"),
                ("title", "Kế hoạch của xã"),
                ("leader_person_id", &leader.to_string()),
                ("resolution_ids", &resolution.to_string()),
                ("responsibility", "Bí thư chịu trách nhiệm."),
            ],
        )
        .await;
    let loc = r.expect_redirect("/plans/");
    let pid = id_from_location(&loc);
    // Item form: two leads (a crafted post) are refused by field; a good one lands.
    let bad = b
        .post_fields(
            &format!("/plans/{pid}/items"),
            vec![
                ("kind".into(), "task".into()),
                ("title".into(), "Hội nghị".into()),
                ("lead_org_id".into(), cells[0].to_string()),
                ("lead_org_id".into(), cells[1].to_string()),
                ("starts_on".into(), day(0)),
                ("due_on".into(), day(3)),
            ],
        )
        .await;
    bad.expect(422);
    assert!(bad
        .html()
        .contains("Mỗi hạng mục chỉ có đúng một đơn vị chủ trì."));
    b.post_fields(
        &format!("/plans/{pid}/items"),
        vec![
            ("kind".into(), "task".into()),
            ("title".into(), "Hội nghị quán triệt".into()),
            ("lead_org_id".into(), cells[0].to_string()),
            ("coordinating_org_ids".into(), cells[1].to_string()),
            ("starts_on".into(), day(0)),
            ("due_on".into(), day(30)),
        ],
    )
    .await
    .expect_redirect("/plans/");
    let page = b.get(&format!("/plans/{pid}")).await.html();
    assert!(
        page.contains("<svg") && page.contains("Hội nghị quán triệt"),
        "{page}"
    );
    assert!(page.contains("Lấy ý kiến") && page.contains("Thông qua"));
    // Issuing from the page without approval shows the rule on the page.
    let r = b
        .post_form(
            &format!("/plans/{pid}/step"),
            &[("step", "issue"), ("number", "3-KH/ĐU")],
        )
        .await;
    r.expect(422);
    assert!(r.html().contains("phải được tập thể cấp ủy thông qua"));
    b.post_form(
        &format!("/plans/{pid}/step"),
        &[
            ("step", "approve"),
            ("approval_body", "executive_committee"),
            ("number", "9-NQ/ĐU"),
        ],
    )
    .await
    .expect_redirect("/plans/");
    b.post_form(
        &format!("/plans/{pid}/step"),
        &[("step", "issue"), ("number", "3-KH/ĐU")],
    )
    .await
    .expect_redirect("/plans/");
    let list = b.get("/plans?status=issued").await.html();
    assert!(
        list.contains("Kế hoạch của xã") && list.contains("Số 3-KH/ĐU"),
        "{list}"
    );
    let print = b.get(&format!("/plans/{pid}/print")).await.html();
    for s in [
        "ĐẢNG CỘNG SẢN VIỆT NAM",
        "Số 3-KH/ĐU",
        "KẾ HOẠCH",
        "Nơi nhận",
        "Hội nghị quán triệt",
        "BÍ THƯ",
    ] {
        assert!(print.contains(s), "{s} in the print: {print}");
    }
    // Every page named works for the secretary too (as far as the scope allows).
    let s = app.browser_login("secretary").await;
    s.get("/plans").await.expect(200);
    s.get("/tasks").await.expect(200);
    let _ = organizer;
}

/// The province names two communes as concerned by a directive; one issues a plan after its
/// first class, the other has none; the page says so, with the days from release to class.
async fn r7_1_who_has_issued_a_plan_and_when(app: TestApp) {
    let admin = app.api_login("admin").await;
    let organizer = app.api_login("organizer").await;
    let (province, communes) = province_tree(&admin).await;
    let (commune, _, leader) = commune_setup(&organizer).await;
    let neighbour = communes
        .iter()
        .map(id)
        .find(|c| *c != commune)
        .expect("a second commune");
    let resolution = organizer.resolution_id("144-QĐ/TW").await;

    let b = app.browser_login("admin").await;
    // Naming an organization outside the committee's subtree is refused.
    let r = b
        .post_fields(
            "/plans/timeliness",
            vec![
                ("resolution_id".into(), resolution.to_string()),
                ("org_id".into(), commune.to_string()),
                ("concerned".into(), neighbour.to_string()),
            ],
        )
        .await;
    assert!(matches!(r.status.as_u16(), 403 | 404 | 422), "{}", r.status);
    b.post_fields(
        "/plans/timeliness",
        vec![
            ("resolution_id".into(), resolution.to_string()),
            ("org_id".into(), province.to_string()),
            ("concerned".into(), commune.to_string()),
            ("concerned".into(), neighbour.to_string()),
        ],
    )
    .await
    .expect_redirect("/plans/timeliness");

    // The commune studies it today (a class with a session), then issues its plan.
    let campaign = organizer
        .post_ok(
            "/api/v1/campaigns",
            &json!({"name": "Học tập Quy định 144", "org_id": commune, "leader_person_id": leader,
                    "starts_on": day(-5), "ends_on": day(30), "resolution_ids": [resolution]}),
            201,
        )
        .await;
    let class = organizer
        .post_ok(
            &format!("/api/v1/campaigns/{}/classes", id(&campaign)),
            &json!({"title": "Hội nghị quán triệt Quy định 144", "org_id": commune, "form": "in_person", "venue_name": "Hội trường Đảng ủy xã",
                    "audience_tier": "grassroots"}),
            201,
        )
        .await;
    organizer
        .post_ok(
            &format!("/api/v1/classes/{}/sessions", id(&class)),
            &json!({"date": day(-1), "start_time": "08:00", "duration_minutes": 120, "topic": "Quán triệt"}),
            201,
        )
        .await;
    let plan = draft(
        &organizer,
        commune,
        leader,
        resolution,
        "Kế hoạch thực hiện Quy định 144",
    )
    .await;
    for s in [
        json!({"step": "approve", "approval_body": "standing_committee", "number": "50-NQ/ĐU"}),
        json!({"step": "issue", "number": "22-KH/ĐU"}),
    ] {
        organizer
            .post_ok(&format!("/api/v1/plans/{}/steps", id(&plan)), &s, 200)
            .await;
    }
    let page = b
        .get(&format!(
            "/plans/timeliness?resolution={resolution}&org={province}"
        ))
        .await
        .html();
    assert!(page.contains("1/2"), "one of two issued: {page}");
    assert!(page.contains("Ban hành sau khi đã học"), "{page}");
    assert!(page.contains("Chưa có kế hoạch"), "{page}");
    // 144-QĐ/TW was released on 09/05/2024: the days to the class of yesterday.
    let released = chrono::NaiveDate::from_ymd_opt(2024, 5, 9).expect("date");
    let days = (store::plans::tasks::today() - Duration::days(1) - released).num_days();
    assert!(
        page.contains(&format!(">{days}</td>")),
        "{days} days in {page}"
    );
    // The commune's organizer reads the province's list only if it can see the province: no.
    let r = app
        .browser_login("organizer")
        .await
        .get(&format!(
            "/plans/timeliness?resolution={resolution}&org={province}"
        ))
        .await;
    assert!(matches!(r.status.as_u16(), 403 | 404), "{}", r.status);
}

/// The notifications of the caller whose title contains `needle`.
async fn notices(api: &Api, needle: &str) -> Vec<String> {
    let v = api.get_ok("/api/v1/notifications").await;
    v.as_array()
        .cloned()
        .or_else(|| v["items"].as_array().cloned())
        .unwrap_or_default()
        .iter()
        .filter_map(|n| n["title"].as_str())
        .filter(|t| t.contains(needle))
        .map(str::to_string)
        .collect()
}

/// A task due in two days and a plan item: the sweep reminds the commune before the due date,
/// once however often it runs, and again once overdue; the plan's leader hears of the overdue
/// item; done work is not reminded (R8.1, R7.3; issue 14.5, 14.7).
async fn r8_1_reminders_before_and_after_the_due_date(app: TestApp) {
    let admin = app.api_login("admin").await;
    let organizer = app.api_login("organizer").await;
    let secretary = app.api_login("secretary").await;
    let (province, _) = province_tree(&admin).await;
    let (commune, _, leader) = commune_setup(&organizer).await;
    let my_cell = secretary.login["account"]["grants"][0]["org_id"]
        .as_i64()
        .expect("the secretary's cell");
    let today = store::plans::tasks::today();
    admin
        .post_ok(
            "/api/v1/tasks",
            &json!({"from_org_id": province, "title": "Báo cáo nhanh kết quả quán triệt", "due_on": day(2),
                    "target_org_ids": [commune]}),
            201,
        )
        .await;
    // A commune plan whose item the secretary's cell leads, due in two days.
    let resolution = organizer.resolution_id("08-CT/TU").await;
    let plan = draft(
        &organizer,
        commune,
        leader,
        resolution,
        "Kế hoạch có hạng mục sắp đến hạn",
    )
    .await;
    let pid = id(&plan);
    organizer
        .post_ok(
            &format!("/api/v1/plans/{pid}/items"),
            &json!({"kind": "task", "title": "Chi bộ nộp biên bản sinh hoạt", "starts_on": day(0), "due_on": day(2),
                    "units": [{"org_id": my_cell, "role": "lead"}]}),
            201,
        )
        .await;
    for s in [
        json!({"step": "approve", "approval_body": "standing_committee", "number": "51-NQ/ĐU"}),
        json!({"step": "issue", "number": "23-KH/ĐU"}),
    ] {
        organizer
            .post_ok(&format!("/api/v1/plans/{pid}/steps"), &s, 200)
            .await;
    }

    let first = store::plans::reminders::sweep(&app.db, today)
        .await
        .expect("sweep");
    assert!(first.tasks_due >= 1 && first.items_due >= 1, "{first:?}");
    assert_eq!(
        notices(&organizer, "Sắp đến hạn: Báo cáo nhanh")
            .await
            .len(),
        1,
        "the commune's organizer is told"
    );
    assert_eq!(
        notices(&secretary, "Sắp đến hạn: Chi bộ nộp biên bản")
            .await
            .len(),
        1,
        "the lead cell's secretary is told"
    );
    // A second sweep the same day sends nothing again.
    let again = store::plans::reminders::sweep(&app.db, today)
        .await
        .expect("sweep");
    assert_eq!(again, Default::default());
    assert_eq!(
        notices(&organizer, "Sắp đến hạn: Báo cáo nhanh")
            .await
            .len(),
        1
    );

    // The cell reports its item done; three days later only the task is overdue.
    let d = organizer.get_ok(&format!("/api/v1/plans/{pid}")).await;
    let item = id(&d["items"][0]);
    secretary
        .post_ok(
            &format!("/api/v1/plans/{pid}/items/{item}/reports"),
            &json!({"percent": 100}),
            200,
        )
        .await;
    let later = store::plans::reminders::sweep(&app.db, today + Duration::days(3))
        .await
        .expect("sweep");
    assert!(later.tasks_overdue >= 1, "{later:?}");
    assert_eq!(notices(&organizer, "Quá hạn: Báo cáo nhanh").await.len(), 1);
    assert!(notices(&secretary, "Quá hạn: Chi bộ nộp").await.is_empty());
}

/// The plan's Word file and its items' Excel file open in LibreOffice with the content in place:
/// the Party head, the title, the items in tree order (the commune's own item before its
/// cells'), "Nơi nhận" and the signer (issue 14.6).
async fn r7_3_plan_files_open_in_libreoffice(app: TestApp) {
    let organizer = app.api_login("organizer").await;
    let (commune, cells, leader) = commune_setup(&organizer).await;
    let resolution = organizer.resolution_id("08-CT/TU").await;
    let plan = draft(&organizer, commune, leader, resolution, "Kế hoạch xuất tệp").await;
    let pid = id(&plan);
    for (title, lead) in [
        ("Chi bộ thứ hai học tập", cells[1]),
        ("Hội nghị cấp xã", commune),
        ("Chi bộ thứ nhất học tập", cells[0]),
    ] {
        organizer
            .post_ok(
                &format!("/api/v1/plans/{pid}/items"),
                &json!({"kind": "task", "title": title, "starts_on": day(0), "due_on": day(10),
                        "units": [{"org_id": lead, "role": "lead"}]}),
                201,
            )
            .await;
    }
    let b = app.browser_login("organizer").await;
    let docx = b
        .client
        .get(format!("{}/plans/{pid}/plan.docx", b.base))
        .send()
        .await
        .expect("docx");
    assert_eq!(docx.status().as_u16(), 200);
    let docx = docx.bytes().await.expect("bytes").to_vec();
    assert!(docx.starts_with(b"PK"), "a zip");
    let xlsx = b
        .client
        .get(format!("{}/plans/{pid}/items.xlsx", b.base))
        .send()
        .await
        .expect("xlsx");
    assert_eq!(xlsx.status().as_u16(), 200);
    let xlsx = xlsx.bytes().await.expect("bytes").to_vec();
    let dir = std::env::temp_dir().join(format!(
        "qt-plan-lo-{}-{:?}",
        std::process::id(),
        app.engine
    ));
    let Some(text) = soffice_convert(&dir, "ke-hoach.docx", &docx, "txt:Text (encoded):UTF8")
    else {
        return;
    };
    let text = String::from_utf8_lossy(&text).to_string();
    for s in [
        "ĐẢNG CỘNG SẢN VIỆT NAM",
        "KẾ HOẠCH",
        "KẾ HOẠCH XUẤT TỆP",
        "NHIỆM VỤ, GIẢI PHÁP",
        "Hội nghị cấp xã",
        "Nơi nhận",
        "BÍ THƯ",
    ] {
        assert!(
            text.contains(s),
            "{s} in the Word file as LibreOffice reads it: {text}"
        );
    }
    let csv = soffice_convert(
        &dir,
        "hang-muc.xlsx",
        &xlsx,
        "csv:Text - txt - csv (StarCalc):44,34,76",
    )
    .expect("converted");
    let csv = String::from_utf8_lossy(&csv).to_string();
    let at = |s: &str| csv.find(s).unwrap_or_else(|| panic!("{s} in {csv}"));
    assert!(
        at("Hội nghị cấp xã") < at("Chi bộ thứ nhất")
            || at("Hội nghị cấp xã") < at("Chi bộ thứ hai"),
        "{csv}"
    );
    assert!(
        at("Hội nghị cấp xã") < at("Chi bộ thứ nhất")
            && at("Hội nghị cấp xã") < at("Chi bộ thứ hai"),
        "the commune before its cells: {csv}"
    );
    assert!(csv.contains("Kế hoạch xuất tệp"), "{csv}");
    // Dates are date cells: LibreOffice writes them as dates, not as text it was given.
    assert!(csv.contains(&day(10)), "{} in {csv}", day(10));
    // A neighbour's organizer cannot download them.
    let member = app.browser_login("member").await;
    member
        .get(&format!("/plans/{pid}/plan.docx"))
        .await
        .expect(404);
    member
        .get(&format!("/plans/{pid}/items.xlsx"))
        .await
        .expect(404);
}

/// The organizer makes a private calendar link; calendar apps read it without a login; Python's
/// icalendar parses it: the commune's open tasks and plan items with their due dates, nothing of
/// a neighbour; a new link revokes the old one; junk tokens are 404 (issue 14.6).
async fn r8_1_private_calendar_of_due_dates(app: TestApp) {
    let admin = app.api_login("admin").await;
    let (province, communes) = province_tree(&admin).await;
    let organizer = app.api_login("organizer").await;
    let (commune, _, _) = commune_setup(&organizer).await;
    let neighbour = communes
        .iter()
        .map(id)
        .find(|c| *c != commune)
        .expect("a second commune");
    for (org, title) in [
        (commune, "Nộp báo cáo quán triệt, đợt 1; cấp xã"),
        (neighbour, "Việc của xã bên"),
    ] {
        admin
            .post_ok(
                "/api/v1/tasks",
                &json!({"from_org_id": province, "title": title, "due_on": day(12), "target_org_ids": [org]}),
                201,
            )
            .await;
    }
    let b = app.browser_login("organizer").await;
    b.get("/calendar").await.expect(200);
    let page = b.post_form("/calendar", &[]).await;
    page.expect(200);
    let html = page.html();
    let link = html
        .split("value=\"")
        .find(|s| s.contains("/calendar/"))
        .and_then(|s| s.split('"').next())
        .unwrap_or_else(|| panic!("a link in {html}"))
        .to_string();
    let path = &link[link.find("/calendar/").expect("path")..];
    let feed = app.anon_get(path).await;
    feed.expect(200);
    assert!(feed
        .headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .starts_with("text/calendar"));
    let ics = feed.text.clone();
    assert!(ics.contains("Nộp báo cáo quán triệt"), "{ics}");
    assert!(
        !ics.contains("Việc của xã bên"),
        "no neighbour's task: {ics}"
    );
    // Python's icalendar reads it back: every event has a date and the task's summary survives.
    let parsed = std::process::Command::new("python3")
        .args([
            "-c",
            "import sys, icalendar\ncal = icalendar.Calendar.from_ical(sys.stdin.buffer.read())\nfor e in cal.walk('VEVENT'):\n    print(e.decoded('DTSTART').isoformat(), str(e.get('SUMMARY')))",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write;
            c.stdin.take().expect("stdin").write_all(ics.as_bytes())?;
            c.wait_with_output()
        })
        .expect("python3");
    let err = String::from_utf8_lossy(&parsed.stderr).to_string();
    if err.contains("No module named") {
        fixtures::testing::missing(fixtures::testing::Service::ICalendar, &err);
        return;
    }
    assert!(parsed.status.success(), "icalendar: {err}");
    let out = String::from_utf8_lossy(&parsed.stdout).to_string();
    let due = (store::plans::tasks::today() + Duration::days(12))
        .format("%Y-%m-%d")
        .to_string();
    assert!(
        out.lines()
            .any(|l| l.starts_with(&due) && l.contains("Nộp báo cáo quán triệt, đợt 1; cấp xã")),
        "{out}"
    );
    // A new link revokes the old one; junk is not found.
    b.post_form("/calendar", &[]).await.expect(200);
    app.anon_get(path).await.expect(404);
    app.anon_get("/calendar/0000.ics").await.expect(404);
    app.anon_get(&format!("/calendar/{}.ics", "a".repeat(64)))
        .await
        .expect(404);
}

/// A cell reports a task done on the page with a file attached; the commune that sent it
/// downloads it (never inline); a member cannot; too big a file is refused with nothing written
/// (issue 14.5).
async fn r8_1_a_task_report_carries_a_file(app: TestApp) {
    let organizer = app.api_login("organizer").await;
    let secretary = app.api_login("secretary").await;
    let (commune, _, _) = commune_setup(&organizer).await;
    let my_cell = secretary.login["account"]["grants"][0]["org_id"]
        .as_i64()
        .expect("the secretary's cell");
    let task = organizer
        .post_ok(
            "/api/v1/tasks",
            &json!({"from_org_id": commune, "title": "Gửi biên bản sinh hoạt chi bộ", "due_on": day(5),
                    "target_org_ids": [my_cell]}),
            201,
        )
        .await;
    let tid = id(&task);
    let b = app.browser_login("secretary").await;
    let send = |bytes: Vec<u8>| {
        let b = b.clone();
        async move {
            let mp = reqwest::multipart::Form::new()
                .text("csrf", b.csrf.clone())
                .text("org_id", my_cell.to_string())
                .text("people_reached", "23")
                .part(
                    "file",
                    reqwest::multipart::Part::bytes(bytes).file_name("bien-ban.pdf"),
                );
            b.client
                .post(format!("{}/tasks/{tid}/report", b.base))
                .multipart(mp)
                .send()
                .await
        }
    };
    // Refused: a 413/400 answer, or the connection closed while the client still writes.
    match send(vec![b'x'; 5 * 1024 * 1024 + 100 * 1024]).await {
        Ok(big) => assert!(
            matches!(big.status().as_u16(), 400 | 413),
            "{}",
            big.status()
        ),
        Err(e) => assert!(e.is_request() || e.is_body(), "{e}"),
    }
    let d = organizer.get_ok(&format!("/api/v1/tasks/{tid}")).await;
    assert_eq!(d["task"]["done_count"], 0, "nothing written");
    let ok = send(b"%PDF-1.4 bien ban".to_vec()).await.expect("sent");
    assert_eq!(ok.status().as_u16(), 303);
    let page = app
        .browser_login("organizer")
        .await
        .get(&format!("/tasks/{tid}"))
        .await
        .html();
    assert!(
        page.contains(&format!("/tasks/{tid}/file?org={my_cell}")),
        "{page}"
    );
    let file = app
        .browser_login("organizer")
        .await
        .get(&format!("/tasks/{tid}/file?org={my_cell}"))
        .await;
    file.expect(200);
    assert_eq!(file.text, "%PDF-1.4 bien ban");
    assert!(file
        .headers
        .get("content-disposition")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .starts_with("attachment"));
    app.browser_login("member")
        .await
        .get(&format!("/tasks/{tid}/file?org={my_cell}"))
        .await
        .expect(404);
}
