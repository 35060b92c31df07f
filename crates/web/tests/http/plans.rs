//! Cascaded tasks (R8.1, issue 14.5): the province sends a task to two communes; one commune
//! passes it down to its cells; a cell's secretary reports on the page; the roll-up shows each
//! level; the rules refuse bad dates, targets outside the sender's tree, a second pass-down, a
//! second report, and anyone reporting for someone else's organization; a commune never sees its
//! neighbour's target; members see nothing.

use chrono::Duration;
use serde_json::{json, Value};

use crate::harness::*;

both_engines! {
    r8_1_a_task_cascades_and_rolls_up => r8_1_a_task_cascades_and_rolls_up_sqlite, r8_1_a_task_cascades_and_rolls_up_postgres;
    r8_1_task_rules_and_scope => r8_1_task_rules_and_scope_sqlite, r8_1_task_rules_and_scope_postgres;
    r8_1_task_lists_page_by_key => r8_1_task_lists_page_by_key_sqlite, r8_1_task_lists_page_by_key_postgres;
}

/// 53 tasks: both lists come in pages of 50 by their keys, every task once, in order.
async fn r8_1_task_lists_page_by_key(app: TestApp) {
    let organizer = app.api_login("organizer").await;
    let (commune, cells) = commune_and_cells(&organizer).await;
    for i in 0..53 {
        organizer
            .post_ok(
                "/api/v1/tasks",
                &json!({"from_org_id": commune, "title": format!("Việc số {i}"),
                        "due_on": day(1 + i % 7), "target_org_ids": cells}),
                201,
            )
            .await;
    }
    let first = organizer.get_ok("/api/v1/tasks").await;
    assert_eq!(first["items"].as_array().expect("items").len(), 50);
    let before = first["next_before"].as_i64().expect("a next page");
    let rest = organizer
        .get_ok(&format!("/api/v1/tasks?before={before}"))
        .await;
    assert_eq!(rest["items"].as_array().expect("items").len(), 3);
    assert!(rest["next_before"].is_null());
    let dues: Vec<String> = first["items"]
        .as_array()
        .expect("items")
        .iter()
        .chain(rest["items"].as_array().expect("items"))
        .map(|t| t["due_on"].as_str().expect("due").to_string())
        .collect();
    assert!(
        dues.windows(2).all(|w| w[0] >= w[1]),
        "latest deadline first: {dues:?}"
    );

    let secretary = app.api_login("secretary").await;
    let a = secretary.get_ok("/api/v1/tasks/assigned").await;
    assert_eq!(a["items"].as_array().expect("items").len(), 50);
    let after = a["next_after"].as_str().expect("a next page").to_string();
    let b = secretary
        .get_ok(&format!("/api/v1/tasks/assigned?after={after}"))
        .await;
    assert_eq!(b["items"].as_array().expect("items").len(), 3);
    let mut ids: Vec<i64> = a["items"]
        .as_array()
        .expect("items")
        .iter()
        .chain(b["items"].as_array().expect("items"))
        .map(|t| t["task_id"].as_i64().expect("id"))
        .collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 53, "every task once");
    // The page shows the same first 50 and a link to the rest.
    let html = app
        .browser_login("secretary")
        .await
        .get("/tasks")
        .await
        .html();
    assert!(html.contains("/tasks?after="), "{html}");
}

fn day(offset: i64) -> String {
    (store::plans::tasks::today() + Duration::days(offset))
        .format("%d/%m/%Y")
        .to_string()
}

/// The organizer's commune and its cells.
async fn commune_and_cells(organizer: &Api) -> (i64, Vec<i64>) {
    let commune = id(&items(&organizer.get_ok("/api/v1/orgs").await)[0]);
    let detail = organizer.get_ok(&format!("/api/v1/orgs/{commune}")).await;
    let cells = detail["children"]
        .as_array()
        .expect("children")
        .iter()
        .map(id)
        .collect();
    (commune, cells)
}

fn target(detail: &Value, org: i64) -> &Value {
    detail["targets"]
        .as_array()
        .expect("targets")
        .iter()
        .find(|t| t["org_id"] == org)
        .unwrap_or_else(|| panic!("no target {org} in {detail}"))
}

async fn r8_1_a_task_cascades_and_rolls_up(app: TestApp) {
    let admin = app.api_login("admin").await;
    let organizer = app.api_login("organizer").await;
    let (province, communes) = province_tree(&admin).await;
    let (commune, cells) = commune_and_cells(&organizer).await;
    assert!(cells.len() >= 2, "the demo commune has cells");
    let neighbour = communes
        .iter()
        .map(id)
        .find(|c| *c != commune)
        .expect("a second commune");

    // The province sends a task to two communes.
    let task = admin
        .post_ok(
            "/api/v1/tasks",
            &json!({"from_org_id": province, "title": "Quán triệt Chỉ thị 05 đến từng chi bộ",
                    "body": "Báo cáo số đảng viên được quán triệt.", "due_on": day(10),
                    "target_org_ids": [commune, neighbour]}),
            201,
        )
        .await;
    let task_id = id(&task);
    assert_eq!(task["target_count"], 2);
    assert_eq!(task["done_count"], 0);

    // The commune sees it as its own work, and only its own target.
    let mine = organizer.get_ok("/api/v1/tasks/assigned").await;
    let row = mine["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|a| a["task_id"] == task_id)
        .cloned()
        .expect("the task in Việc của đơn vị");
    assert_eq!(row["org_id"], commune);
    assert_eq!(row["state"], "open");
    let seen = organizer.get_ok(&format!("/api/v1/tasks/{task_id}")).await;
    assert_eq!(
        seen["targets"].as_array().expect("targets").len(),
        1,
        "{seen}"
    );
    assert_eq!(seen["targets"][0]["org_id"], commune);

    // Not with a deadline after the province's.
    organizer
        .post(
            "/api/v1/tasks",
            &json!({"from_org_id": commune, "parent_task_id": task_id, "title": "Quá hạn cấp trên",
                    "due_on": day(11), "target_org_ids": cells}),
        )
        .await
        .expect_error(422, "due_after_parent");
    // The commune passes it down to its cells — once.
    let child = organizer
        .post_ok(
            "/api/v1/tasks",
            &json!({"from_org_id": commune, "parent_task_id": task_id, "title": "Quán triệt Chỉ thị 05",
                    "due_on": day(7), "target_org_ids": cells}),
            201,
        )
        .await;
    let child_id = id(&child);
    assert_eq!(child["parent_task_id"], task_id);
    organizer
        .post(
            "/api/v1/tasks",
            &json!({"from_org_id": commune, "parent_task_id": task_id, "title": "Lần hai",
                    "due_on": day(7), "target_org_ids": [cells[0]]}),
        )
        .await
        .expect_error(422, "task_passed");

    // The cell's secretary was told, finds it on the page and reports there.
    let secretary = app.browser_login("secretary").await;
    let notes = app
        .api_login("secretary")
        .await
        .get_ok("/api/v1/notifications")
        .await;
    assert!(
        notes
            .to_string()
            .contains("Việc mới: Quán triệt Chỉ thị 05"),
        "{notes}"
    );
    let list = secretary.get("/tasks").await;
    list.expect(200);
    let html = list.html();
    assert!(
        html.contains("Quán triệt Chỉ thị 05") && html.contains("Đang thực hiện"),
        "{html}"
    );
    let secretary_api = app.api_login("secretary").await;
    let assigned = secretary_api.get_ok("/api/v1/tasks/assigned").await;
    let cell = assigned["items"][0]["org_id"]
        .as_i64()
        .expect("the secretary's cell");
    // The cell's side sees its own target and counts, and the report button first.
    let page = secretary.get(&format!("/tasks/{child_id}")).await.html();
    assert!(
        page.contains("0/1") && page.contains(&format!("/tasks/{child_id}/report?org={cell}")),
        "{page}"
    );
    assert!(!page.contains(&format!("0/{}", cells.len())), "{page}");
    let form = secretary
        .get(&format!("/tasks/{child_id}/report?org={cell}"))
        .await;
    form.expect(200);
    let r = secretary
        .post_form(
            &format!("/tasks/{child_id}/report"),
            &[
                ("org_id", cell.to_string().as_str()),
                ("done_on", day(1).as_str()),
                ("people_reached", "25"),
                ("note", "Đã quán triệt tại sinh hoạt chi bộ"),
            ],
        )
        .await;
    r.expect(422);
    assert!(
        r.html().contains("Ngày hoàn thành không được sau hôm nay."),
        "a report dated tomorrow"
    );
    secretary
        .post_form(
            &format!("/tasks/{child_id}/report"),
            &[
                ("org_id", cell.to_string().as_str()),
                ("done_on", day(0).as_str()),
                ("people_reached", "25"),
                ("note", "Đã quán triệt tại sinh hoạt chi bộ"),
            ],
        )
        .await
        .expect(303);
    secretary_api
        .post(
            &format!("/api/v1/tasks/{child_id}/reports"),
            &json!({"org_id": cell}),
        )
        .await
        .expect_error(422, "already_reported");
    let other_cell = cells
        .iter()
        .copied()
        .find(|c| *c != cell)
        .expect("another cell");
    let r = secretary_api
        .post(
            &format!("/api/v1/tasks/{child_id}/reports"),
            &json!({"org_id": other_cell}),
        )
        .await;
    assert!(
        matches!(r.status.as_u16(), 403 | 404),
        "another cell's report: {}",
        r.status
    );

    // The roll-up, level by level.
    let c = organizer.get_ok(&format!("/api/v1/tasks/{child_id}")).await;
    assert_eq!(c["task"]["done_count"], 1);
    assert_eq!(target(&c, cell)["state"], "done");
    assert_eq!(target(&c, cell)["people_reached"], 25);
    let top = admin.get_ok(&format!("/api/v1/tasks/{task_id}")).await;
    let t = target(&top, commune);
    assert_eq!(t["passed_task_id"], child_id);
    assert_eq!(t["passed_done"], 1);
    assert_eq!(t["passed_targets"], cells.len());
    assert_eq!(target(&top, neighbour)["state"], "open");
    // The commune reports its own completion: half the province's targets are done.
    organizer
        .post(
            &format!("/api/v1/tasks/{task_id}/reports"),
            &json!({"org_id": commune, "people_reached": 300, "note": "Xong ở các chi bộ"}),
        )
        .await
        .expect(200);
    let top = admin.get_ok(&format!("/api/v1/tasks/{task_id}")).await;
    assert_eq!(top["task"]["done_count"], 1);
    assert_eq!(target(&top, commune)["state"], "done");
    let page = app
        .browser_login("admin")
        .await
        .get(&format!("/tasks/{task_id}"))
        .await;
    page.expect(200);
    let html = page.html();
    assert!(html.contains("1/2") && html.contains("50%"), "{html}");
    assert!(
        html.contains(&format!("/tasks/{child_id}")),
        "a link down to the commune's task"
    );
    let sent = admin.get_ok("/api/v1/tasks").await;
    assert!(sent["items"]
        .as_array()
        .expect("items")
        .iter()
        .any(|t| t["id"] == task_id));
    let audit = app
        .browser_login("admin")
        .await
        .get("/admin/audit?entity=task")
        .await
        .html();
    assert!(
        audit.contains("Quán triệt Chỉ thị 05 đến từng chi bộ"),
        "audited"
    );
}

async fn r8_1_task_rules_and_scope(app: TestApp) {
    let admin = app.api_login("admin").await;
    let organizer = app.api_login("organizer").await;
    let (province, communes) = province_tree(&admin).await;
    let (commune, cells) = commune_and_cells(&organizer).await;
    let neighbour = communes
        .iter()
        .map(id)
        .find(|c| *c != commune)
        .expect("a second commune");
    let send = |from: i64, due: String, targets: Vec<i64>| json!({"from_org_id": from, "title": "Việc thử", "due_on": due, "target_org_ids": targets});
    // Field errors, nothing written.
    let e = organizer
        .post("/api/v1/tasks", &send(commune, day(-1), vec![cells[0]]))
        .await
        .expect_error(422, "validation_failed");
    assert!(e["fields"]["due_on"].is_string(), "{e}");
    let e = organizer
        .post("/api/v1/tasks", &send(commune, day(3), vec![]))
        .await
        .expect_error(422, "validation_failed");
    assert!(e["fields"]["target_org_ids"].is_string(), "{e}");
    // A neighbour commune is not below the organizer's commune.
    organizer
        .post("/api/v1/tasks", &send(commune, day(3), vec![neighbour]))
        .await
        .expect_error(422, "target_outside");
    // The organizer cannot send from the province.
    let r = organizer
        .post("/api/v1/tasks", &send(province, day(3), vec![commune]))
        .await;
    assert!(matches!(r.status.as_u16(), 403 | 404), "{}", r.status);
    assert_eq!(
        organizer.get_ok("/api/v1/tasks").await["items"],
        json!([]),
        "nothing was written"
    );

    // A task to the neighbour is invisible to the organizer; members see nothing.
    let other = admin
        .post_ok(
            "/api/v1/tasks",
            &send(province, day(3), vec![neighbour]),
            201,
        )
        .await;
    let other_id = id(&other);
    organizer
        .get(&format!("/api/v1/tasks/{other_id}"))
        .await
        .expect(404);
    let member = app.api_login("member").await;
    member
        .get(&format!("/api/v1/tasks/{other_id}"))
        .await
        .expect(404);
    assert_eq!(
        member.get_ok("/api/v1/tasks/assigned").await["items"],
        json!([])
    );
    let browser = app.browser_login("member").await;
    browser.get(&format!("/tasks/{other_id}")).await.expect(404);

    // The form offers the commune's cells, all ticked; a bad date keeps what was typed.
    let b = app.browser_login("organizer").await;
    let form = b.get(&format!("/tasks/new?from={commune}")).await;
    form.expect(200);
    let html = form.html();
    assert!(
        html.contains(&format!("value=\"{}\" checked", cells[0])),
        "{html}"
    );
    let r = b
        .post_form(
            "/tasks",
            &[
                ("from_org_id", commune.to_string().as_str()),
                ("title", "Rà soát danh sách đảng viên"),
                ("due_on", "31/02/2026"),
                ("target_org_ids", cells[0].to_string().as_str()),
            ],
        )
        .await;
    r.expect(422);
    let html = r.html();
    assert!(
        html.contains("Rà soát danh sách đảng viên") && html.contains("id=\"due_on-error\""),
        "{html}"
    );
    let r = b
        .post_form(
            "/tasks",
            &[
                ("from_org_id", commune.to_string().as_str()),
                ("title", "Rà soát danh sách đảng viên"),
                ("due_on", day(5).as_str()),
                ("target_org_ids", cells[0].to_string().as_str()),
                ("target_org_ids", cells[1].to_string().as_str()),
            ],
        )
        .await;
    r.expect(303);
    let page = b.get("/tasks").await.html();
    assert!(
        page.contains("Rà soát danh sách đảng viên") && page.contains("0/2 (0%)"),
        "{page}"
    );
    // What the commune sent down is not listed as its own work; the cell's secretary has it.
    let own = organizer.get_ok("/api/v1/tasks/assigned").await;
    assert!(
        !own.to_string().contains("Rà soát danh sách đảng viên"),
        "{own}"
    );
    let theirs = app
        .api_login("secretary")
        .await
        .get_ok("/api/v1/tasks/assigned")
        .await;
    assert!(
        theirs.to_string().contains("Rà soát danh sách đảng viên"),
        "{theirs}"
    );
    // A cell has no subordinates: nothing to pass down there.
    let sent = organizer.get_ok("/api/v1/tasks").await;
    let rs = sent["items"][0]["id"].as_i64().expect("the task");
    let html = b.get(&format!("/tasks/{rs}")).await.html();
    assert!(!html.contains("Giao xuống cấp dưới"), "{html}");
}
