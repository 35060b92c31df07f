//! The question bank's spreadsheet through LibreOffice and the assessment pages without script
//! (issue 16; R4.1): the empty template, saved by LibreOffice Calc through its own format and
//! back, imports its three example questions; the bank exported and passed through LibreOffice
//! the same way comes back unchanged (no new question, no new version); a quiz's results open as
//! xlsx and CSV, and its pages answer for the roles that use them.

use serde_json::json;

use crate::harness::*;

both_engines! {
    r4_1_question_template_round_trips_through_libreoffice => r4_1_question_template_round_trips_through_libreoffice_sqlite, r4_1_question_template_round_trips_through_libreoffice_postgres;
    r4_1_assessment_pages_work_without_script => r4_1_assessment_pages_work_without_script_sqlite, r4_1_assessment_pages_work_without_script_postgres;
}

/// `bytes` (xlsx) saved by LibreOffice as its own spreadsheet and back as xlsx.
fn through_libreoffice(tag: &str, bytes: &[u8]) -> Option<Vec<u8>> {
    let base = std::env::temp_dir().join(format!(
        "qt-assess-{tag}-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0)
    ));
    let ods = soffice_convert(&base.join("a"), "ngan-hang.xlsx", bytes, "ods")?;
    soffice_convert(
        &base.join("b"),
        "ngan-hang.ods",
        &ods,
        "xlsx:Calc MS Excel 2007 XML",
    )
}

/// Uploads `file` into the bank of resolution `rid`, kept by `org`, through the page's form.
async fn upload(b: &Browser, rid: i64, org: i64, file: Vec<u8>) -> (u16, String) {
    let part = reqwest::multipart::Part::bytes(file)
        .file_name("ngan-hang.xlsx")
        .mime_str("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        .expect("mime");
    let mp = reqwest::multipart::Form::new()
        .text("csrf", b.csrf.clone())
        .text("org_id", org.to_string())
        .part("file", part);
    let r = b
        .client
        .post(format!("{}/assess/banks/{rid}/import", b.base))
        .multipart(mp)
        .send()
        .await
        .expect("sent");
    let status = r.status().as_u16();
    let location = r
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let body = r.text().await.unwrap_or_default();
    (status, if status == 303 { location } else { body })
}

/// The bytes of a download (a file, not text), asserting 200.
async fn download(b: &Browser, path: &str) -> Vec<u8> {
    let r = b
        .client
        .get(format!("{}{path}", b.base))
        .send()
        .await
        .expect("sent");
    assert_eq!(r.status().as_u16(), 200, "{path}");
    r.bytes().await.expect("body").to_vec()
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    let (n,): (i64,) =
        store::db_run!(&app.db, p => sqlx::query_as(sql).fetch_one(p).await).expect(sql);
    n
}

async fn r4_1_question_template_round_trips_through_libreoffice(app: TestApp) {
    let admin = app.api_login("admin").await;
    let (province, _) = province_tree(&admin).await;
    let rid = admin.resolution_id("26-HD/BTGTU").await;
    let b = app.browser_login("admin").await;
    let template = download(&b, "/assess/banks/template.xlsx").await;
    let Some(converted) = through_libreoffice("template", &template) else {
        return;
    };
    // LibreOffice wrote its own file, not ours.
    assert_ne!(converted, template);
    let (status, to) = upload(&b, rid, province, converted).await;
    assert_eq!(status, 303, "{to}");
    let bank = admin
        .get_ok(&format!("/api/v1/resolutions/{rid}/questions"))
        .await;
    let qs = items(&bank);
    assert_eq!(qs.len(), 3, "the template's three examples: {bank}");
    let kinds: Vec<(&str, &str)> = qs
        .iter()
        .map(|q| {
            (
                q["kind"].as_str().unwrap_or(""),
                q["answer"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        kinds,
        vec![
            ("single", "C"),
            ("true_false", "true"),
            ("short_answer", "2025")
        ]
    );
    assert_eq!(qs[0]["choices"].as_str().unwrap().lines().count(), 3);
    assert_eq!(qs[0]["tier"], json!("grassroots"));
    assert_eq!(qs[2]["difficulty"], json!("hard"));

    // The bank exported, through LibreOffice and back: unchanged, no new version.
    let versions = count(&app, "SELECT COUNT(*) FROM question_versions").await;
    let questions = count(&app, "SELECT COUNT(*) FROM questions").await;
    let export = download(&b, &format!("/assess/banks/{rid}/bank.xlsx")).await;
    let sheet = store::import::read_sheet("bank.xlsx", &export)
        .await
        .expect("the export reads back");
    assert_eq!(sheet.rows.len(), 3);
    let Some(back) = through_libreoffice("export", &export) else {
        return;
    };
    let (status, to) = upload(&b, rid, province, back).await;
    assert_eq!(status, 303, "{to}");
    let page = b.get(&format!("/assess/banks/{rid}")).await.html();
    assert!(page.contains("Đã nhập 0 câu mới, 0 câu sửa"), "{page}");
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM question_versions").await,
        versions
    );
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM questions").await,
        questions
    );

    // A bad row names its line and writes nothing.
    let mut book = rust_xlsxwriter::Workbook::new();
    let s = book.add_worksheet();
    for (c, h) in store::assess::export::BANK_COLUMNS.iter().enumerate() {
        s.write_string(0, c as u16, *h).unwrap();
    }
    s.write_string(1, 1, "Một lựa chọn").unwrap();
    s.write_string(1, 4, "Câu hỏi đúng").unwrap();
    s.write_string(1, 5, "Có\nKhông").unwrap();
    s.write_string(1, 6, "A").unwrap();
    s.write_string(2, 1, "Một lựa chọn").unwrap();
    s.write_string(2, 4, "Câu hỏi chỉ có một phương án")
        .unwrap();
    s.write_string(2, 5, "Có").unwrap();
    s.write_string(2, 6, "A").unwrap();
    let (status, body) = upload(&b, rid, province, book.save_to_buffer().unwrap()).await;
    assert_eq!(status, 422, "{body}");
    assert!(body.contains("Dòng 3"), "{body}");
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM questions").await,
        questions
    );
}

async fn r4_1_assessment_pages_work_without_script(app: TestApp) {
    // The demo: the commune class's quiz and survey, the cell's quiz, the province's contest.
    let organizer = app.browser_login("organizer").await;
    let member_api = app.api_login("member").await;
    let mine = member_api.get_ok("/api/v1/me/quizzes").await;
    let quiz = mine
        .as_array()
        .unwrap()
        .iter()
        .find(|z| z["kind"] == "quiz")
        .map(id)
        .unwrap();
    for path in [
        "/assess".to_string(),
        "/assess/banks".to_string(),
        "/assess/quizzes/new".to_string(),
        format!("/assess/quizzes/{quiz}"),
        format!("/assess/quizzes/{quiz}/print"),
        "/assess/rollup".to_string(),
    ] {
        organizer.get(&path).await.expect(200);
    }
    let xlsx = download(&organizer, &format!("/assess/quizzes/{quiz}/results.xlsx")).await;
    let sheet = store::import::read_sheet("ket-qua.xlsx", &xlsx)
        .await
        .expect("results read back");
    let submitted = count(
        &app,
        &format!(
            "SELECT COUNT(*) FROM attempts WHERE quiz_id = {quiz} AND submitted_at IS NOT NULL"
        ),
    )
    .await;
    assert!(submitted > 0);
    // Under the title: the table's heading, then one row per submission.
    assert_eq!(
        sheet.rows.len() as i64,
        submitted + 1,
        "one row per submission"
    );
    let csv = download(&organizer, &format!("/assess/quizzes/{quiz}/results.csv")).await;
    assert!(csv.starts_with(&[0xEF, 0xBB, 0xBF]), "UTF-8 with a BOM");
    assert_eq!(
        String::from_utf8_lossy(&csv).lines().count() as i64,
        submitted + 1
    );

    // The member takes it through the form: save one answer, then submit.
    let member = app.browser_login("member").await;
    let page = member.get(&format!("/assess/quizzes/{quiz}/take")).await;
    page.expect(200);
    let html = page.html();
    assert!(html.contains("Nộp bài"), "{html}");
    let person = member_api.get_ok("/api/v1/me").await["person_id"]
        .as_i64()
        .unwrap();
    let keys: Vec<(i64, String)> = store::db_run!(&app.db, p => sqlx::query_as(
        "SELECT aa.position, v.answer FROM attempt_answers aa JOIN attempts a ON a.id = aa.attempt_id \
         JOIN question_versions v ON v.id = aa.version_id WHERE a.quiz_id = $1 AND a.person_id = $2 ORDER BY aa.position")
        .bind(quiz).bind(person).fetch_all(p).await)
    .unwrap();
    let first = &keys[0];
    let r = member
        .post_fields(
            &format!("/assess/quizzes/{quiz}/take"),
            vec![
                (
                    format!("a{}", first.0),
                    first
                        .1
                        .split('|')
                        .next()
                        .unwrap()
                        .split(',')
                        .next()
                        .unwrap()
                        .trim()
                        .to_string(),
                ),
                ("action".into(), "save".into()),
            ],
        )
        .await;
    r.expect(303);
    // A letter that is not a choice: refused with the question's number, nothing lost.
    let bad = member
        .post_fields(
            &format!("/assess/quizzes/{quiz}/take"),
            vec![
                (format!("a{}", first.0), "Z".into()),
                ("action".into(), "submit".into()),
            ],
        )
        .await;
    assert_eq!(bad.status.as_u16(), 422, "{}", bad.text);
    let still: Option<String> =
        store::db_run!(&app.db, p => sqlx::query_as::<_, (Option<String>,)>(
        "SELECT aa.answer FROM attempt_answers aa JOIN attempts a ON a.id = aa.attempt_id \
         WHERE a.quiz_id = $1 AND a.person_id = $2 AND aa.position = $3")
        .bind(quiz).bind(person).bind(first.0).fetch_one(p).await)
        .unwrap()
        .0;
    assert!(still.is_some(), "the saved answer stays");
    let r = member
        .post_fields(
            &format!("/assess/quizzes/{quiz}/take"),
            vec![("action".into(), "submit".into())],
        )
        .await;
    r.expect(303);
    let done = member
        .get(&format!("/assess/quizzes/{quiz}/take"))
        .await
        .html();
    assert!(done.contains("Điểm"), "{done}");
    // The survey answered once; its page says so the second time.
    let survey = mine
        .as_array()
        .unwrap()
        .iter()
        .find(|z| z["kind"] == "survey")
        .map(id)
        .unwrap();
    let r = member
        .post_fields(
            &format!("/assess/quizzes/{survey}/take"),
            vec![
                ("a1".into(), "4".into()),
                ("action".into(), "submit".into()),
            ],
        )
        .await;
    r.expect(303);
    let again = member
        .get(&format!("/assess/quizzes/{survey}/take"))
        .await
        .html();
    assert!(again.contains("Đồng chí đã gửi phiếu này"), "{again}");
    // Reflections: two ticked on the page's one form are recorded as received on paper; an
    // exemption without its reason is refused, nothing written.
    let class = mine
        .as_array()
        .unwrap()
        .iter()
        .find(|z| z["kind"] == "quiz")
        .and_then(|z| z["class_id"].as_i64())
        .unwrap();
    let organizer_api = app.api_login("organizer").await;
    let missing = organizer_api
        .get_ok(&format!("/api/v1/classes/{class}/reflections?missing=true"))
        .await;
    let two: Vec<String> = missing["items"]
        .as_array()
        .unwrap()
        .iter()
        .take(2)
        .map(|r| r["person_id"].as_i64().unwrap().to_string())
        .collect();
    assert_eq!(two.len(), 2);
    let page = organizer
        .get(&format!("/classes/{class}/reflections?missing=true"))
        .await;
    page.expect(200);
    assert!(page.text.len() < 60_000, "{} bytes", page.text.len());
    let before = count(&app, "SELECT COUNT(*) FROM reflections").await;
    let mut fields: Vec<(String, String)> = two
        .iter()
        .map(|p| ("person_ids".to_string(), p.clone()))
        .collect();
    fields.push(("state".into(), "exempt".into()));
    fields.push(("reason".into(), "".into()));
    let r = organizer
        .post_fields(
            &format!("/classes/{class}/reflections/record"),
            fields.clone(),
        )
        .await;
    r.expect(422);
    assert!(r.html().contains("reason-error"), "{}", r.text);
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM reflections").await,
        before
    );
    fields.retain(|(k, _)| k == "person_ids");
    fields.push(("state".into(), "paper".into()));
    let r = organizer
        .post_fields(&format!("/classes/{class}/reflections/record"), fields)
        .await;
    r.expect(303);
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM reflections").await,
        before + 2
    );
    // The bank is not the member's to read.
    let rid = member_api.resolution_id("08-CT/TU").await;
    let refused = member.get(&format!("/assess/banks/{rid}")).await;
    assert!(
        matches!(refused.status.as_u16(), 403 | 404),
        "{}",
        refused.status
    );
}
