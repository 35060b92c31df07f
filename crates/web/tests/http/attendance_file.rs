//! Paper first, data later (R3.4): the printed tracking sheet of a session, and attendance
//! files (csv, xlsx, the template) imported for several sessions at once, all or nothing.

use reqwest::header::CONTENT_TYPE;
use serde_json::{json, Value};

use crate::harness::*;

both_engines! {
    r3_4_print_sheet_in_name_order_with_blank_lines => r3_4_print_sheet_in_name_order_with_blank_lines_sqlite, r3_4_print_sheet_in_name_order_with_blank_lines_postgres;
    r3_4_csv_with_two_sessions_imports => r3_4_csv_with_two_sessions_imports_sqlite, r3_4_csv_with_two_sessions_imports_postgres;
    r3_4_one_bad_row_writes_nothing => r3_4_one_bad_row_writes_nothing_sqlite, r3_4_one_bad_row_writes_nothing_postgres;
    r3_4_unreadable_files_and_wrong_columns_are_refused => r3_4_unreadable_files_and_wrong_columns_are_refused_sqlite, r3_4_unreadable_files_and_wrong_columns_are_refused_postgres;
    r3_4_xlsx_file_imports_through_the_api => r3_4_xlsx_file_imports_through_the_api_sqlite, r3_4_xlsx_file_imports_through_the_api_postgres;
    r3_4_template_reimports_unchanged => r3_4_template_reimports_unchanged_sqlite, r3_4_template_reimports_unchanged_postgres;
    r3_4_paper_pages_keep_scope_and_csrf => r3_4_paper_pages_keep_scope_and_csrf_sqlite, r3_4_paper_pages_keep_scope_and_csrf_postgres;
    r3_4_each_bridge_point_prints_its_own_sheet => r3_4_each_bridge_point_prints_its_own_sheet_sqlite, r3_4_each_bridge_point_prints_its_own_sheet_postgres;
}

/// A class of the organizer's commune with two sessions on the same day (07:30, 120 min and
/// 13:30, 80 min) and the commune's members as participants.
struct Fixture {
    class_id: i64,
    s1: i64,
    s2: i64,
    /// Participants in the order of the API (name order).
    participants: Vec<Value>,
    /// The commune's people, with their name parts.
    people: Vec<Value>,
}

async fn fixture(app: &TestApp) -> Fixture {
    let organizer = app.api_login("organizer").await;
    let commune = id(&items(&organizer.get_ok("/api/v1/orgs").await)[0]);
    let people = organizer.all_people(Some(commune)).await;
    let res = organizer
        .post_ok(
            "/api/v1/resolutions",
            &json!({
                "owner_org_id": commune, "kind": "resolution", "number": "21-NQ/ĐU",
                "title": "Nghị quyết về công tác dân vận phường Kon Tum", "issuing_body": "Đảng ủy phường",
                "released_on": "07/02/2026", "classification": "public", "published_on": "08/02/2026",
                "summary": "Dân vận khéo.",
            }),
            201,
        )
        .await;
    let campaign = organizer
        .post_ok(
            "/api/v1/campaigns",
            &json!({
                "name": "Học tập Nghị quyết 21-NQ/ĐU", "org_id": commune, "leader_person_id": id(&people[0]),
                "starts_on": "2026-03-01", "ends_on": "2026-04-30", "resolution_ids": [id(&res)],
            }),
            201,
        )
        .await;
    let class = organizer
        .post_ok(
            &format!("/api/v1/campaigns/{}/classes", id(&campaign)),
            &json!({
                "title": "Hội nghị học tập Nghị quyết 21-NQ/ĐU", "org_id": commune, "form": "in_person",
                "audience_tier": "grassroots", "venue_name": "Hội trường Đảng ủy phường", "venue_capacity": 300,
                "retake_threshold": 40,
            }),
            201,
        )
        .await;
    let class_id = id(&class);
    let cpath = format!("/api/v1/classes/{class_id}");
    let s1 = id(&organizer
        .post_ok(
            &format!("{cpath}/sessions"),
            &json!({"date": "10/03/2026", "start_time": "07:30", "duration_minutes": 120,
                    "topic": "Quán triệt nội dung Nghị quyết", "is_discussion": false}),
            201,
        )
        .await);
    let s2 = id(&organizer
        .post_ok(
            &format!("{cpath}/sessions"),
            &json!({"date": "10/03/2026", "start_time": "13:30", "duration_minutes": 80,
                    "topic": "Thảo luận, liên hệ thực tiễn", "is_discussion": true}),
            201,
        )
        .await);
    organizer
        .post_ok(
            &format!("{cpath}/participants/generate"),
            &json!({"org_ids": [commune], "bridge_point_ids": [], "management_levels": [], "include_completed": false}),
            200,
        )
        .await;
    let participants = items(&organizer.get_ok(&format!("{cpath}/participants")).await);
    assert!(participants.len() > 10, "{participants:?}");
    Fixture {
        class_id,
        s1,
        s2,
        participants,
        people,
    }
}

impl Fixture {
    /// The first participants with a party card, distinct names among the class.
    fn with_cards(&self, n: usize) -> Vec<Value> {
        let out: Vec<Value> = self
            .participants
            .iter()
            .filter(|p| {
                p["party_card_number"]
                    .as_str()
                    .is_some_and(|c| !c.is_empty())
            })
            .filter(|p| self.name_is_unique(p))
            .take(n)
            .cloned()
            .collect();
        assert_eq!(out.len(), n, "not enough carded participants");
        out
    }
    fn name_is_unique(&self, p: &Value) -> bool {
        let name = fold(p["full_name"].as_str().unwrap_or_default());
        self.participants
            .iter()
            .filter(|q| fold(q["full_name"].as_str().unwrap_or_default()) == name)
            .count()
            == 1
    }
}

fn card(p: &Value) -> &str {
    p["party_card_number"].as_str().unwrap()
}

fn name(p: &Value) -> &str {
    p["full_name"].as_str().unwrap()
}

/// The attendance sheet of a session as (participant id → (status, late, early, reason)).
async fn marks(api: &Api, session: i64) -> Vec<(i64, Value, i64, i64, Value)> {
    items(
        &api.get_ok(&format!("/api/v1/sessions/{session}/attendance"))
            .await,
    )
    .iter()
    .map(|r| {
        (
            r["participant_id"].as_i64().unwrap(),
            r["status"].clone(),
            r["late_minutes"].as_i64().unwrap(),
            r["left_early_minutes"].as_i64().unwrap(),
            r["reason"].clone(),
        )
    })
    .collect()
}

fn mark_of(m: &[(i64, Value, i64, i64, Value)], pid: i64) -> (Value, i64, i64, Value) {
    let r = m
        .iter()
        .find(|r| r.0 == pid)
        .unwrap_or_else(|| panic!("participant {pid} not on the sheet"));
    (r.1.clone(), r.2, r.3, r.4.clone())
}

/// A multipart/form-data body: text fields, then one file.
fn multipart(fields: &[(&str, &str)], file: Option<(&str, &[u8])>) -> (String, Vec<u8>) {
    let boundary = "----quantrietPaperBoundary9Xk2";
    let mut body = Vec::new();
    for (k, v) in fields {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n")
                .as_bytes(),
        );
    }
    if let Some((file_name, bytes)) = file {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// Uploads a file on the import page of a class, with the session's CSRF token.
async fn upload(b: &Browser, class_id: i64, file_name: &str, bytes: &[u8]) -> Resp {
    upload_with(b, class_id, &[("csrf", b.csrf.as_str())], file_name, bytes).await
}

async fn upload_with(
    b: &Browser,
    class_id: i64,
    fields: &[(&str, &str)],
    file_name: &str,
    bytes: &[u8],
) -> Resp {
    let path = format!("/classes/{class_id}/attendance/import");
    let (ct, body) = multipart(fields, Some((file_name, bytes)));
    let r = b
        .client
        .post(format!("{}{}", b.base, path))
        .header(CONTENT_TYPE, ct)
        .body(body)
        .send()
        .await
        .unwrap();
    let status = r.status();
    let headers = r.headers().clone();
    let text = r.text().await.unwrap();
    Resp {
        method: "POST",
        path,
        status,
        headers,
        text,
    }
}

/// A raw-body upload on the API.
async fn api_upload(api: &Api, class_id: i64, query: &str, bytes: Vec<u8>) -> Resp {
    let path = format!("/api/v1/classes/{class_id}/attendance/import{query}");
    let r = api
        .client
        .post(format!("{}{}", api.base, path))
        .bearer_auth(&api.token)
        .header(CONTENT_TYPE, "application/octet-stream")
        .body(bytes)
        .send()
        .await
        .unwrap();
    let status = r.status();
    let headers = r.headers().clone();
    let text = r.text().await.unwrap();
    Resp {
        method: "POST",
        path,
        status,
        headers,
        text,
    }
}

/// The error lines ("Dòng …") of the import page.
fn error_lines(html: &str) -> Vec<String> {
    unescape(html)
        .split("<li>")
        .skip(1)
        .filter_map(|x| x.split("</li>").next())
        .filter(|x| x.starts_with("Dòng"))
        .map(str::to_string)
        .collect()
}

/// The names in the listed rows of the printed sheet, in order.
fn printed_names(html: &str) -> Vec<String> {
    unescape(html)
        .split("<tr class=\"listed\">")
        .skip(1)
        .map(|row| {
            let cells: Vec<&str> = row.split("<td").collect();
            let cell = cells[2];
            let start = cell.find('>').unwrap() + 1;
            let end = cell.find("</td>").unwrap();
            cell[start..end].to_string()
        })
        .collect()
}

async fn r3_4_print_sheet_in_name_order_with_blank_lines(app: TestApp) {
    let f = fixture(&app).await;
    let b = app.browser_login("organizer").await;
    // The attendance page links to the printed sheet and to the file import.
    let page = b.get(&format!("/sessions/{}/attendance", f.s1)).await;
    page.expect(200);
    assert!(page
        .text
        .contains(&format!("/sessions/{}/sheet/print", f.s1)));
    assert!(page
        .text
        .contains(&format!("/classes/{}/attendance/import", f.class_id)));

    let r = b.get(&format!("/sessions/{}/sheet/print", f.s1)).await;
    r.expect(200);
    let html = r.html();
    for want in [
        "ĐẢNG CỘNG SẢN VIỆT NAM",
        "DANH SÁCH ĐIỂM DANH",
        "Hội nghị học tập Nghị quyết 21-NQ/ĐU",
        "Buổi 1: Quán triệt nội dung Nghị quyết",
        "07 giờ 30, ngày 10 tháng 03 năm 2026",
        "Địa điểm: Hội trường Đảng ủy phường",
        "<th>Tổ chức (chi bộ)</th>",
        "Giờ đến",
        "Ký tên",
        "Ghi chú",
        "Năm sinh",
        "Số thẻ đảng viên",
        "Người dự bổ sung",
        "NGƯỜI LẬP DANH SÁCH",
        "ngày 10 tháng 03 năm 2026",
        "<thead>",
    ] {
        assert!(
            html.contains(want),
            "print sheet lacks {want:?}: {}",
            short(&html)
        );
    }
    // No navigation of the app on paper.
    assert!(
        !html.contains("class=\"menu\""),
        "navigation on the print page"
    );
    // The inline print style is allowed by its hash, nothing else is loosened.
    let csp = r
        .headers
        .get("content-security-policy")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    assert!(csp.contains("style-src 'self' 'sha256-"), "{csp}");
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    assert!(html.contains("break-inside:avoid"), "rows are kept whole");
    assert!(html.contains("table-header-group"), "the head repeats");

    // Everyone listed, in Vietnamese name order (given name first, then middle, then family).
    let names = printed_names(&r.text);
    let expected: Vec<String> = f.participants.iter().map(|p| name(p).to_string()).collect();
    assert_eq!(names, expected, "the printed order is the list's order");
    let keys: Vec<String> = f
        .participants
        .iter()
        .map(|pt| {
            let p = f
                .people
                .iter()
                .find(|p| id(p) == pt["person_id"].as_i64().unwrap())
                .unwrap();
            domain::text::name_sort_key(
                p["family_name"].as_str().unwrap(),
                p["middle_name"].as_str().unwrap(),
                p["given_name"].as_str().unwrap(),
            )
        })
        .collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted, "names in Vietnamese order: {names:?}");
    let by_family = {
        let mut n = names.clone();
        n.sort();
        n
    };
    assert_ne!(
        names, by_family,
        "not merely sorted by the written full name"
    );
    // Birth year and card number of a carded participant on their line.
    let p = &f.with_cards(1)[0];
    let row = html
        .split("<tr class=\"listed\">")
        .find(|r| r.contains(name(p)))
        .unwrap();
    assert!(row.contains(card(p)), "{row}");
    // Ten blank numbered lines after the list.
    let n = f.participants.len();
    assert_eq!(html.matches("<tr class=\"blank\">").count(), 10);
    assert!(html.contains(&format!(
        "<tr class=\"blank\"><td class=\"num\">{}</td>",
        n + 1
    )));
    assert!(html.contains(&format!(
        "<tr class=\"blank\"><td class=\"num\">{}</td>",
        n + 10
    )));
    assert!(!html.contains(&format!(
        "<tr class=\"blank\"><td class=\"num\">{}</td>",
        n + 11
    )));
    // A bridge point that is not the class's is not found.
    b.get(&format!(
        "/sessions/{}/sheet/print?bridge_point=999999",
        f.s1
    ))
    .await
    .expect(404);
    b.get(&format!("/sessions/{}/sheet/print?bridge_point=abc", f.s1))
        .await
        .expect(404);
}

async fn r3_4_csv_with_two_sessions_imports(app: TestApp) {
    let f = fixture(&app).await;
    let b = app.browser_login("organizer").await;
    let api = app.api_login("organizer").await;
    let ps = f.with_cards(4);
    let pids: Vec<i64> = ps.iter().map(id).collect();
    // Session 1 by number, session 2 by day and time; people by card, one by name only
    // (written without diacritics); paper marks x / v / p; a semicolon-separated file with BOM.
    let csv = format!(
        "\u{feff}Buổi;Ngày;Số thẻ;Ho va ten;Trạng thái;Đi muộn (phút);Về sớm (phút);Lý do\n\
         1;;{c0};;x;15;;\n\
         1;;{c1};;v;;;\n\
         \n\
         1;;{c2};;p;;;Ốm, có giấy của trạm y tế\n\
         ;10/03/2026 13:30;{c0};;Có mặt;;20;\n\
         ;10/03/2026 13:30;;{n3};Vắng có lý do;;;Đi công tác\n\
         2;;{c1};;;;;\n",
        c0 = card(&ps[0]),
        c1 = card(&ps[1]),
        c2 = card(&ps[2]),
        n3 = fold(name(&ps[3])),
    );
    let r = upload(&b, f.class_id, "diem-danh.csv", csv.as_bytes()).await;
    r.expect_redirect(&format!("/classes/{}", f.class_id));
    let after = b.get(&format!("/classes/{}?tab=results", f.class_id)).await;
    assert!(
        after
            .html()
            .contains("Đã nhập 5 lượt điểm danh của 2 buổi học"),
        "{}",
        short(&after.html())
    );
    let m1 = marks(&api, f.s1).await;
    let m2 = marks(&api, f.s2).await;
    assert_eq!(
        mark_of(&m1, pids[0]),
        (json!("present"), 15, 0, Value::Null)
    );
    assert_eq!(mark_of(&m1, pids[1]), (json!("absent"), 0, 0, Value::Null));
    assert_eq!(
        mark_of(&m1, pids[2]),
        (json!("excused"), 0, 0, json!("Ốm, có giấy của trạm y tế"))
    );
    assert_eq!(
        mark_of(&m2, pids[0]),
        (json!("present"), 0, 20, Value::Null)
    );
    assert_eq!(
        mark_of(&m2, pids[3]),
        (json!("excused"), 0, 0, json!("Đi công tác"))
    );
    // The blank-status line recorded nothing; nobody else was touched.
    assert_eq!(mark_of(&m2, pids[1]).0, Value::Null);
    assert_eq!(m1.iter().filter(|r| !r.1.is_null()).count(), 3);
    assert_eq!(m2.iter().filter(|r| !r.1.is_null()).count(), 2);
    // The printed sheet of session 1 shows the excuse already recorded.
    let print = b.get(&format!("/sessions/{}/sheet/print", f.s1)).await;
    assert!(print
        .html()
        .contains("Vắng có lý do: Ốm, có giấy của trạm y tế"));
    // The import is in the audit log.
    let detail = admin_audit_has_import(&app).await;
    assert!(detail, "attendance import audited");
}

async fn admin_audit_has_import(app: &TestApp) -> bool {
    let admin = app.api_login("admin").await;
    let v = admin.get_ok("/api/v1/admin/audit?per_page=200").await;
    items(&v)
        .iter()
        .any(|e| e["action"] == "import" && e["entity"] == "attendance")
}

async fn r3_4_one_bad_row_writes_nothing(app: TestApp) {
    let f = fixture(&app).await;
    let b = app.browser_login("organizer").await;
    let api = app.api_login("organizer").await;
    let ps = f.with_cards(3);
    let before1 = marks(&api, f.s1).await;
    let before2 = marks(&api, f.s2).await;
    // Rows 2 and 3 are good; 4: minutes not a number; 5: unknown card; 6: ambiguous day (two
    // sessions on 10/03); 7: more minutes than the session; 8: excused without a reason;
    // 9: the same person and session as row 2; 10: a name nobody has.
    let csv = format!(
        "Buổi,Số thẻ đảng viên,Họ và tên,Trạng thái,Đi muộn (phút),Về sớm (phút),Lý do\n\
         1,{c0},,x,,,\n\
         2,{c1},,v,,,\n\
         1,{c2},,x,mười,,\n\
         1,999999999,,x,,,\n\
         10/03/2026,{c1},,x,,,\n\
         2,{c2},,x,60,30,\n\
         1,{c1},,p,,,\n\
         1,{c0},,v,,,\n\
         1,,Không Có Ai Tên Này,x,,,\n",
        c0 = card(&ps[0]),
        c1 = card(&ps[1]),
        c2 = card(&ps[2]),
    );
    let r = upload(&b, f.class_id, "loi.csv", csv.as_bytes()).await;
    r.expect(422);
    let html = r.html();
    assert!(html.contains("Chưa ghi dòng nào"), "{}", short(&html));
    let lines = error_lines(&r.text);
    let has = |prefix: &str, part: &str| {
        lines
            .iter()
            .any(|l| l.starts_with(prefix) && fold(l).contains(&fold(part)))
    };
    assert!(has("Dòng 4, cột Đi muộn (phút):", "«mười»"), "{lines:?}");
    assert!(
        has("Dòng 5, cột Số thẻ đảng viên:", "999999999"),
        "{lines:?}"
    );
    assert!(has("Dòng 6, cột Buổi:", "có 2 buổi học"), "{lines:?}");
    assert!(has("Dòng 7, cột Đi muộn (phút):", "80 phút"), "{lines:?}");
    assert!(has("Dòng 8, cột Lý do:", "lý do"), "{lines:?}");
    assert!(has("Dòng 9, cột Buổi:", "dòng 2"), "{lines:?}");
    assert!(
        has("Dòng 10, cột Họ và tên:", "không có ai tên"),
        "{lines:?}"
    );
    assert!(
        !lines
            .iter()
            .any(|l| l.starts_with("Dòng 2,") || l.starts_with("Dòng 3,")),
        "{lines:?}"
    );
    assert_eq!(lines.len(), 7, "{lines:?}");
    // Nothing was written, not even the good rows.
    assert_eq!(marks(&api, f.s1).await, before1);
    assert_eq!(marks(&api, f.s2).await, before2);
    assert!(marks(&api, f.s1).await.iter().all(|r| r.1.is_null()));

    // The API says the same, as JSON, and writes nothing either.
    let r = api_upload(&api, f.class_id, "?format=csv", csv.into_bytes()).await;
    r.expect(422);
    let v = r.json();
    assert_eq!(v["written"], false, "{v}");
    let errors = v["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 7, "{v}");
    assert_eq!(errors[0]["row"], 4, "{v}");
    assert_eq!(errors[0]["column"], "Đi muộn (phút)", "{v}");
    assert_eq!(marks(&api, f.s1).await, before1);

    // Two people with the same name, named without a card: the count of candidates is given.
    let dup_name = {
        let mut seen = std::collections::HashMap::new();
        for p in &f.participants {
            *seen.entry(fold(name(p))).or_insert(0) += 1;
        }
        seen.into_iter().find(|(_, n)| *n > 1)
    };
    if let Some((n, count)) = dup_name {
        let csv = format!("Buổi,Họ và tên,Trạng thái\n1,{n},x\n");
        let r = api_upload(&api, f.class_id, "", csv.into_bytes()).await;
        r.expect(422);
        let v = r.json();
        let msg = v["errors"][0]["message"].as_str().unwrap().to_string();
        assert!(msg.contains(&format!("có {count} người")), "{msg}");
    }
}

async fn r3_4_unreadable_files_and_wrong_columns_are_refused(app: TestApp) {
    let f = fixture(&app).await;
    let b = app.browser_login("organizer").await;
    let api = app.api_login("organizer").await;
    // Binary junk named .xlsx.
    let junk: Vec<u8> = (0..2048u32).map(|i| (i * 7 % 251) as u8).collect();
    let r = upload(&b, f.class_id, "diem-danh.xlsx", &junk).await;
    r.expect(422);
    assert!(
        r.html()
            .contains("không phải bảng tính Excel (.xlsx) hay CSV hợp lệ"),
        "{}",
        short(&r.html())
    );
    let r = api_upload(&api, f.class_id, "?format=xlsx", junk.clone()).await;
    let v = r.expect_error(422, "import_file_refused");
    assert!(
        v["message"]
            .as_str()
            .unwrap()
            .contains("không phải bảng tính"),
        "{v}"
    );
    // A zip that is not a workbook.
    let r = upload(&b, f.class_id, "a.xlsx", b"PK\x03\x04garbage").await;
    r.expect(422);
    assert!(
        r.html().contains("Không đọc được tệp Excel"),
        "{}",
        short(&r.html())
    );
    // An empty file.
    let r = upload(&b, f.class_id, "rong.csv", b"").await;
    r.expect(422);
    assert!(r.html().contains("Tệp rỗng"), "{}", short(&r.html()));
    // Wrong columns: which are missing, and which the file has.
    let r = upload(
        &b,
        f.class_id,
        "sai-cot.csv",
        "STT,Họ và tên,Đơn vị,Có đi không\n1,Nguyễn Văn A,Chi bộ 1,x\n".as_bytes(),
    )
    .await;
    r.expect(422);
    let html = r.html();
    assert!(html.contains("thiếu cột «Buổi»"), "{}", short(&html));
    assert!(html.contains("«Trạng thái»"), "{}", short(&html));
    assert!(
        html.contains("Các cột có trong tệp: «STT», «Họ và tên», «Đơn vị», «Có đi không»"),
        "{}",
        short(&html)
    );
    // A format the API does not know.
    let r = api_upload(&api, f.class_id, "?format=pdf", b"x".to_vec()).await;
    r.expect_error(422, "validation_failed");
    // Nothing written by any of these.
    assert!(marks(&api, f.s1).await.iter().all(|r| r.1.is_null()));
}

async fn r3_4_xlsx_file_imports_through_the_api(app: TestApp) {
    let f = fixture(&app).await;
    let api = app.api_login("organizer").await;
    let ps = f.with_cards(3);
    // Excel writes the day as a date cell and the time as a day fraction; card numbers as text.
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    let date_fmt = rust_xlsxwriter::Format::new().set_num_format("dd/mm/yyyy");
    let time_fmt = rust_xlsxwriter::Format::new().set_num_format("hh:mm");
    for (c, h) in [
        "Ngày",
        "Giờ",
        "Số thẻ đảng viên",
        "Trạng thái",
        "Đi muộn (phút)",
        "Lý do",
    ]
    .iter()
    .enumerate()
    {
        sheet.write_string(0, c as u16, *h).unwrap();
    }
    let day = rust_xlsxwriter::ExcelDateTime::from_ymd(2026, 3, 10).unwrap();
    let rows = [
        (0.3125, card(&ps[0]), "Có mặt", Some(10.0), ""),
        (0.5625, card(&ps[0]), "Có mặt", None, ""),
        (0.3125, card(&ps[1]), "Vắng", None, ""),
        (0.5625, card(&ps[2]), "Vắng có lý do", None, "Ốm"),
    ];
    for (i, (time, c, status, late, reason)) in rows.iter().enumerate() {
        let r = (i + 1) as u32;
        sheet
            .write_datetime_with_format(r, 0, &day, &date_fmt)
            .unwrap();
        sheet
            .write_number_with_format(r, 1, *time, &time_fmt)
            .unwrap();
        sheet.write_string(r, 2, *c).unwrap();
        sheet.write_string(r, 3, *status).unwrap();
        if let Some(l) = late {
            sheet.write_number(r, 4, *l).unwrap();
        }
        if !reason.is_empty() {
            sheet.write_string(r, 5, *reason).unwrap();
        }
    }
    let bytes = book.save_to_buffer().unwrap();
    // A dry run first: counted, not written.
    let r = api_upload(&api, f.class_id, "?format=xlsx&dry_run=true", bytes.clone()).await;
    r.expect(200);
    let v = r.json();
    assert_eq!(
        (
            v["marks"].as_i64(),
            v["sessions"].as_i64(),
            v["written"].as_bool()
        ),
        (Some(4), Some(2), Some(false)),
        "{v}"
    );
    assert!(marks(&api, f.s1).await.iter().all(|r| r.1.is_null()));
    // Then for real.
    let r = api_upload(&api, f.class_id, "?format=xlsx", bytes).await;
    r.expect(200);
    let v = r.json();
    assert_eq!(v["marks"], 4, "{v}");
    assert_eq!(v["written"], true, "{v}");
    assert_eq!(v["errors"].as_array().map(Vec::len), Some(0), "{v}");
    let m1 = marks(&api, f.s1).await;
    let m2 = marks(&api, f.s2).await;
    assert_eq!(
        mark_of(&m1, id(&ps[0])),
        (json!("present"), 10, 0, Value::Null)
    );
    assert_eq!(
        mark_of(&m2, id(&ps[0])),
        (json!("present"), 0, 0, Value::Null)
    );
    assert_eq!(mark_of(&m1, id(&ps[1])).0, json!("absent"));
    assert_eq!(
        mark_of(&m2, id(&ps[2])),
        (json!("excused"), 0, 0, json!("Ốm"))
    );
    // The same through a multipart upload on the API (cookie session needs the CSRF header).
    let b = app.browser_login("organizer").await;
    let csv = format!("Buổi,Số thẻ,Trạng thái\n2,{},v\n", card(&ps[1]));
    let (ct, body) = multipart(&[], Some(("a.csv", csv.as_bytes())));
    let path = format!("/api/v1/classes/{}/attendance/import", f.class_id);
    let without = b
        .client
        .post(format!("{}{}", b.base, path))
        .header(CONTENT_TYPE, ct.clone())
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(
        without.status().as_u16(),
        403,
        "cookie POST without CSRF header"
    );
    let with = b
        .client
        .post(format!("{}{}", b.base, path))
        .header(CONTENT_TYPE, ct)
        .header("X-CSRF-Token", b.csrf.clone())
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(with.status().as_u16(), 200);
    assert_eq!(
        mark_of(&marks(&api, f.s2).await, id(&ps[1])).0,
        json!("absent")
    );
    // The OpenAPI document describes the route.
    let doc = app.anon_get("/api/openapi.json").await;
    assert!(doc.json()["paths"]["/api/v1/classes/{id}/attendance/import"]["post"].is_object());
}

async fn r3_4_template_reimports_unchanged(app: TestApp) {
    let f = fixture(&app).await;
    let b = app.browser_login("organizer").await;
    let api = app.api_login("organizer").await;
    let ps = f.with_cards(2);
    let csv = format!(
        "Buổi,Số thẻ,Trạng thái,Đi muộn,Về sớm,Lý do\n1,{c0},x,5,10,\n2,{c1},p,,,Họp tổ dân phố\n1,{c1},v,,,\n",
        c0 = card(&ps[0]),
        c1 = card(&ps[1])
    );
    upload(&b, f.class_id, "a.csv", csv.as_bytes())
        .await
        .expect_redirect(&format!("/classes/{}", f.class_id));
    let before = (marks(&api, f.s1).await, marks(&api, f.s2).await);
    // The template: one row per session × participant, pre-filled.
    let t = b
        .client
        .get(format!(
            "{}/classes/{}/attendance/template.xlsx",
            b.base, f.class_id
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(t.status().as_u16(), 200);
    assert!(t
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .contains("spreadsheetml"));
    let bytes = t.bytes().await.unwrap().to_vec();
    assert!(bytes.starts_with(b"PK"));
    // Re-imported as it is, through the page: the same three marks, the rest left blank.
    let r = upload_with(
        &b,
        f.class_id,
        &[("csrf", b.csrf.as_str()), ("dry_run", "1")],
        "mau.xlsx",
        &bytes,
    )
    .await;
    r.expect(200);
    assert!(
        r.html().contains("hợp lệ: 3 lượt điểm danh của 2 buổi học"),
        "{}",
        short(&r.html())
    );
    let total_rows = 2 * f.participants.len();
    assert!(
        r.html()
            .contains(&format!("{} dòng chưa ghi trạng thái", total_rows - 3)),
        "{}",
        short(&r.html())
    );
    let r = api_upload(&api, f.class_id, "?format=xlsx", bytes).await;
    r.expect(200);
    let v = r.json();
    assert_eq!(v["marks"], 3, "{v}");
    assert_eq!(v["rows"].as_u64(), Some(total_rows as u64), "{v}");
    assert_eq!((marks(&api, f.s1).await, marks(&api, f.s2).await), before);
    // The API serves the same template.
    let t = api
        .get(&format!(
            "/api/v1/classes/{}/attendance/template.xlsx",
            f.class_id
        ))
        .await;
    t.expect(200);
}

async fn r3_4_paper_pages_keep_scope_and_csrf(app: TestApp) {
    let f = fixture(&app).await;
    let admin = app.api_login("admin").await;
    let (_, communes) = province_tree(&admin).await;
    let other = org_named(&communes, FOURTH_COMMUNE);
    let acc = store::auth::create_account(
        &app.db,
        "bithu_dakto",
        PASSWORD,
        "Bí thư chi bộ xã Đăk Tô",
        None,
        domain::auth::Clearance::None,
    )
    .await
    .unwrap();
    store::auth::grant(
        &app.db,
        acc,
        domain::ids::OrgId(other),
        domain::auth::Role::Secretary,
    )
    .await
    .unwrap();
    let ps = f.with_cards(1);
    let csv = format!("Buổi,Số thẻ,Trạng thái\n1,{},v\n", card(&ps[0]));

    // A secretary of another commune sees none of it.
    let stranger = app.browser_login("bithu_dakto").await;
    for path in [
        format!("/sessions/{}/sheet/print", f.s1),
        format!("/classes/{}/attendance/import", f.class_id),
        format!("/classes/{}/attendance/template.xlsx", f.class_id),
    ] {
        let r = stranger.get(&path).await;
        assert!(
            matches!(r.status.as_u16(), 403 | 404),
            "{path}: {}",
            r.status
        );
    }
    let r = upload(&stranger, f.class_id, "a.csv", csv.as_bytes()).await;
    assert!(matches!(r.status.as_u16(), 403 | 404), "{}", r.status);
    let stranger_api = app.api_login("bithu_dakto").await;
    let r = api_upload(&stranger_api, f.class_id, "", csv.clone().into_bytes()).await;
    assert!(matches!(r.status.as_u16(), 403 | 404), "{}", r.status);
    // A member of the class's own commune may not record attendance either.
    let member = app.browser_login("member").await;
    let r = upload(&member, f.class_id, "a.csv", csv.as_bytes()).await;
    assert!(matches!(r.status.as_u16(), 403 | 404), "{}", r.status);

    // The organizer's upload without the CSRF field, or with a wrong one, is refused.
    let b = app.browser_login("organizer").await;
    let r = upload_with(&b, f.class_id, &[], "a.csv", csv.as_bytes()).await;
    r.expect(403);
    let r = upload_with(
        &b,
        f.class_id,
        &[("csrf", "forged")],
        "a.csv",
        csv.as_bytes(),
    )
    .await;
    r.expect(403);
    let api = app.api_login("organizer").await;
    assert!(
        marks(&api, f.s1).await.iter().all(|r| r.1.is_null()),
        "nothing written"
    );
    // The form itself carries the CSRF field.
    let page = b
        .get(&format!("/classes/{}/attendance/import", f.class_id))
        .await;
    page.expect(200);
    assert_eq!(scrape_csrf(&page.text).as_deref(), Some(b.csrf.as_str()));
    assert!(page.text.contains("multipart/form-data"));

    // A finished class refuses imports.
    api.post_ok(
        &format!("/api/v1/classes/{}/finish", f.class_id),
        &json!({}),
        200,
    )
    .await;
    let r = api_upload(&api, f.class_id, "", csv.into_bytes()).await;
    let v = r.expect_error(422, "class_finished");
    assert!(
        v["message"].as_str().unwrap().contains("đã kết thúc"),
        "{v}"
    );
    assert!(
        marks(&api, f.s1).await.iter().all(|r| r.1.is_null()),
        "nothing written"
    );
}

/// The demo's province-wide online class (finished), with three commune bridge points.
async fn r3_4_each_bridge_point_prints_its_own_sheet(app: TestApp) {
    let admin = app.api_login("admin").await;
    let classes = items(&admin.get_ok("/api/v1/classes").await);
    let online = classes
        .iter()
        .find(|c| c["form"] == "online")
        .unwrap_or_else(|| panic!("no online class in {classes:?}"));
    let detail = admin
        .get_ok(&format!("/api/v1/classes/{}", id(online)))
        .await;
    let s1 = id(&detail["sessions"][0]);
    let bps = detail["bridge_points"].as_array().unwrap().clone();
    assert_eq!(bps.len(), 3, "{detail}");
    let total: i64 = bps
        .iter()
        .map(|b| b["participant_count"].as_i64().unwrap())
        .sum();

    let a = app.browser_login("admin").await;
    let all = a.get(&format!("/sessions/{s1}/sheet/print")).await;
    all.expect(200);
    assert_eq!(printed_names(&all.text).len() as i64, total);
    for b in &bps {
        let r = a
            .get(&format!(
                "/sessions/{s1}/sheet/print?bridge_point={}",
                id(b)
            ))
            .await;
        r.expect(200);
        let html = r.html();
        assert_eq!(
            printed_names(&r.text).len() as i64,
            b["participant_count"].as_i64().unwrap(),
            "{}",
            b["name"]
        );
        assert!(
            html.contains(&format!("Điểm cầu: {}", b["name"].as_str().unwrap())),
            "{}",
            short(&html)
        );
        assert_eq!(html.matches("<tr class=\"blank\">").count(), 10);
    }

    // The commune organizer operates the first bridge point only: their sheet lists its people,
    // and another bridge point's sheet is not theirs to print.
    let org = app.browser_login("organizer").await;
    let commune = detail_org_of_organizer(&app).await;
    let mine = bps
        .iter()
        .find(|b| b["org_id"] == commune)
        .unwrap_or_else(|| panic!("no bridge point of the organizer's commune in {bps:?}"));
    let r = org.get(&format!("/sessions/{s1}/sheet/print")).await;
    r.expect(200);
    assert_eq!(
        printed_names(&r.text).len() as i64,
        mine["participant_count"].as_i64().unwrap()
    );
    let other = bps.iter().find(|b| id(b) != id(mine)).unwrap();
    org.get(&format!(
        "/sessions/{s1}/sheet/print?bridge_point={}",
        id(other)
    ))
    .await
    .expect(404);
    // The class is finished: importing into it is refused, the reason said.
    let api = app.api_login("organizer").await;
    let r = api_upload(
        &api,
        id(online),
        "",
        b"Buoi,So the,Trang thai\n1,1,x\n".to_vec(),
    )
    .await;
    let v = r.expect_error(422, "class_finished");
    assert!(
        v["message"].as_str().unwrap().contains("đã kết thúc"),
        "{v}"
    );
}

/// The organizer's commune id.
async fn detail_org_of_organizer(app: &TestApp) -> Value {
    let organizer = app.api_login("organizer").await;
    items(&organizer.get_ok("/api/v1/orgs").await)[0]["id"].clone()
}
