//! Emergencies and notifications (R2.6, R3.3, R3.5): postpone, move online and cancel with a
//! reason, the history and the audit entry they leave, the notifications participants get, and
//! the "Vắng học" / "Phải học lại" notices of a finished class, through the forms and the API.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use crate::harness::*;

both_engines! {
    r2_6_postpone_session_is_kept_and_notified => r2_6_postpone_session_is_kept_and_notified_sqlite, r2_6_postpone_session_is_kept_and_notified_postgres;
    r2_6_reason_is_required_and_input_kept => r2_6_reason_is_required_and_input_kept_sqlite, r2_6_reason_is_required_and_input_kept_postgres;
    r2_6_cancelled_session_leaves_results => r2_6_cancelled_session_leaves_results_sqlite, r2_6_cancelled_session_leaves_results_postgres;
    r2_6_postpone_class_move_online_and_cancel_class => r2_6_postpone_class_move_online_and_cancel_class_sqlite, r2_6_postpone_class_move_online_and_cancel_class_postgres;
    r2_6_outsiders_are_refused => r2_6_outsiders_are_refused_sqlite, r2_6_outsiders_are_refused_postgres;
    r3_3_finishing_twice_notifies_each_absentee_once => r3_3_finishing_twice_notifies_each_absentee_once_sqlite, r3_3_finishing_twice_notifies_each_absentee_once_postgres;
    a_class_is_corrected_with_history_once_it_runs => a_class_is_corrected_with_history_once_it_runs_sqlite, a_class_is_corrected_with_history_once_it_runs_postgres;
    a_session_is_corrected_with_history_once_the_class_runs => a_session_is_corrected_with_history_once_the_class_runs_sqlite, a_session_is_corrected_with_history_once_the_class_runs_postgres;
}

/// Issue 11.7: a session's topic or length could not be corrected. The planner corrects it on
/// its edit page or by `PUT /api/v1/sessions/{id}`: freely before the class begins; once it
/// runs with a reason kept in the history (R2.6); the start of a session that has begun stays
/// (moving it is a postponement); others are refused; the form keeps what was typed.
async fn a_session_is_corrected_with_history_once_the_class_runs(app: TestApp) {
    let s = setup(&app).await;
    let b = app.browser_login("organizer").await;
    let class_page = b.get(&format!("/classes/{}", s.class_id)).await.html();
    assert!(
        class_page.contains(&format!("href=\"/sessions/{}/edit\"", s.s1)),
        "the class page links each session's edit page"
    );
    let form = b.get(&format!("/sessions/{}/edit", s.s1)).await;
    form.expect(200);
    assert!(form.html().contains("Nội dung cơ bản của Quy định 144"));
    // Before the class begins: a typo fixed and the length changed, no reason, no history.
    let (organizer, class_id) = (&s.organizer, s.class_id);
    let start = |id: i64| async move {
        let d = organizer
            .get_ok(&format!("/api/v1/classes/{class_id}"))
            .await;
        d["sessions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| id_of(x) == id)
            .cloned()
            .unwrap()
    };
    let before = start(s.s1).await;
    let local = domain::study::utc_to_local(
        before["starts_at"]
            .as_str()
            .unwrap()
            .parse::<chrono::DateTime<chrono::Utc>>()
            .unwrap(),
    );
    let (date, time) = (
        local.format("%d/%m/%Y").to_string(),
        local.format("%H:%M").to_string(),
    );
    b.post_form(
        &format!("/sessions/{}/edit", s.s1),
        &[
            ("topic", "Nội dung cơ bản của Quy định 144-QĐ/TW"),
            ("date", &date),
            ("start_time", &time),
            ("duration_minutes", "150"),
        ],
    )
    .await
    .expect_redirect(&format!("/classes/{}", s.class_id));
    let after = start(s.s1).await;
    assert_eq!(after["topic"], "Nội dung cơ bản của Quy định 144-QĐ/TW");
    assert_eq!(after["duration_minutes"], 150);
    assert_eq!(change_count(&app, s.class_id).await, 0);
    // Bad input: refused with its field tied to the input, what was typed kept.
    let r = b
        .post_form(
            &format!("/sessions/{}/edit", s.s1),
            &[
                ("topic", "Chủ đề đang gõ dở"),
                ("date", &date),
                ("start_time", &time),
                ("duration_minutes", "0"),
            ],
        )
        .await;
    r.expect(422);
    let html = r.html();
    assert!(
        html.contains("aria-describedby=\"duration_minutes-error\"")
            && html.contains("id=\"duration_minutes-error\"")
    );
    assert!(
        html.contains("value=\"Chủ đề đang gõ dở\""),
        "the input is kept"
    );
    // Once the class runs: a reason is required; the change goes to the history.
    held(&app, &s).await;
    let body = |topic: &str, minutes: i64, reason: &str| {
        let local = domain::study::utc_to_local(chrono::Utc::now() - chrono::Duration::days(2));
        json!({"date": local.format("%d/%m/%Y").to_string(), "start_time": local.format("%H:%M").to_string(),
               "duration_minutes": minutes, "topic": topic, "reason": reason})
    };
    // The start of a session that has begun does not move (a postponement does that).
    let v = s
        .organizer
        .put(
            &format!("/api/v1/sessions/{}", s.s1),
            &body("Sửa khi đang học", 150, "Đổi giờ"),
        )
        .await
        .expect_error(422, "session_started");
    assert!(
        v["message"].as_str().unwrap_or("").contains("bắt đầu"),
        "{v}"
    );
    let held_start = start(s.s1).await["starts_at"].clone();
    let local = domain::study::utc_to_local(
        held_start
            .as_str()
            .unwrap()
            .parse::<chrono::DateTime<chrono::Utc>>()
            .unwrap(),
    );
    let ok = json!({"date": local.format("%d/%m/%Y").to_string(), "start_time": local.format("%H:%M").to_string(),
        "duration_minutes": 100, "topic": "Nội dung cơ bản của Quy định 144-QĐ/TW", "reason": "Buổi học kết thúc sớm 50 phút do mất điện"});
    let mut no_reason = ok.clone();
    no_reason["reason"] = json!("");
    let v = s
        .organizer
        .put(&format!("/api/v1/sessions/{}", s.s1), &no_reason)
        .await
        .expect_error(422, "reason_required");
    assert!(v["message"].as_str().unwrap_or("").contains("lý do"), "{v}");
    s.organizer
        .put(&format!("/api/v1/sessions/{}", s.s1), &ok)
        .await
        .expect(200);
    assert_eq!(start(s.s1).await["duration_minutes"], 100);
    assert_eq!(change_count(&app, s.class_id).await, 1);
    let history = b
        .get(&format!("/classes/{}/changes", s.class_id))
        .await
        .html();
    assert!(
        history.contains("Sửa buổi học")
            && history.contains("Thời lượng (phút): 150")
            && history.contains("mất điện")
    );
    // Not a member's or the secretary's to change.
    for role in ["member", "secretary"] {
        let api = app.api_login(role).await;
        let r = api.put(&format!("/api/v1/sessions/{}", s.s1), &ok).await;
        assert!(
            matches!(r.status.as_u16(), 403 | 404),
            "{role}: {}",
            r.status
        );
        let page = app
            .browser_login(role)
            .await
            .get(&format!("/sessions/{}/edit", s.s1))
            .await;
        assert!(
            matches!(page.status.as_u16(), 403 | 404),
            "{role}: {}",
            page.status
        );
    }
}

fn id_of(v: &Value) -> i64 {
    id(v)
}

/// Issue 11.7: a typo in a class title stayed forever. The planner corrects a class on its edit
/// page or through `PUT /api/v1/classes/{id}`; once it runs a reason is required and the change
/// goes to its history (R2.6); every change is audited; others are refused.
async fn a_class_is_corrected_with_history_once_it_runs(app: TestApp) {
    let s = setup(&app).await;
    let b = app.browser_login("organizer").await;
    let form = b.get(&format!("/classes/{}/edit", s.class_id)).await;
    form.expect(200);
    assert!(form.html().contains(TITLE), "the form holds the class");
    let detail = s
        .organizer
        .get_ok(&format!("/api/v1/classes/{}", s.class_id))
        .await;
    let class = &detail["class"];
    let fields = |title: &str| {
        vec![
            ("title", title.to_string()),
            ("org_id", class["org_id"].to_string()),
            ("form", class["form"].as_str().unwrap().to_string()),
            (
                "audience_tier",
                class["audience_tier"].as_str().unwrap().to_string(),
            ),
            (
                "venue_name",
                class["venue_name"].as_str().unwrap_or("").to_string(),
            ),
            ("venue_capacity", class["venue_capacity"].to_string()),
            ("retake_threshold", class["retake_threshold"].to_string()),
        ]
    };
    let typed: Vec<(&str, String)> = fields("Hội nghị học tập Quy định 144 (đã sửa lỗi chính tả)");
    let refs: Vec<(&str, &str)> = typed.iter().map(|(k, v)| (*k, v.as_str())).collect();
    b.post_form(&format!("/classes/{}/edit", s.class_id), &refs)
        .await
        .expect_redirect(&format!("/classes/{}", s.class_id));
    let after = s
        .organizer
        .get_ok(&format!("/api/v1/classes/{}", s.class_id))
        .await;
    assert_eq!(
        after["class"]["title"],
        "Hội nghị học tập Quy định 144 (đã sửa lỗi chính tả)"
    );
    assert_eq!(
        change_count(&app, s.class_id).await,
        0,
        "not running yet: no history entry"
    );
    // An empty title is refused with its field, the input kept.
    let bad: Vec<(&str, String)> = fields("");
    let refs: Vec<(&str, &str)> = bad.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = b
        .post_form(&format!("/classes/{}/edit", s.class_id), &refs)
        .await;
    r.expect(422);
    // Once the class runs: a reason is required, and the change is in the history.
    held(&app, &s).await;
    let body = |title: &str, reason: &str| {
        json!({"title": title, "org_id": s.commune, "form": "in_person", "audience_tier": "grassroots",
            "venue_name": "Hội trường Đảng ủy", "venue_capacity": 300, "retake_threshold": 40, "reason": reason})
    };
    let v = s
        .organizer
        .put(
            &format!("/api/v1/classes/{}", s.class_id),
            &body("Tên mới khi đang học", ""),
        )
        .await
        .expect_error(422, "reason_required");
    assert!(v["message"].as_str().unwrap_or("").contains("lý do"), "{v}");
    let r = s
        .organizer
        .put(
            &format!("/api/v1/classes/{}", s.class_id),
            &body("Tên mới khi đang học", "Ban Tuyên giáo đổi tên hội nghị"),
        )
        .await;
    r.expect(200);
    assert_eq!(change_count(&app, s.class_id).await, 1);
    let history = b
        .get(&format!("/classes/{}/changes", s.class_id))
        .await
        .html();
    assert!(
        history.contains("Sửa thông tin lớp học")
            && history.contains("Ban Tuyên giáo đổi tên hội nghị")
    );
    // Not the secretary's to change.
    let secretary = app.api_login("secretary").await;
    let r = secretary
        .put(
            &format!("/api/v1/classes/{}", s.class_id),
            &body("Không được", "x"),
        )
        .await;
    assert!(matches!(r.status.as_u16(), 403 | 404), "{}", r.status);
}

const TITLE: &str = "Hội nghị học tập Quy định 144 (thay đổi đột xuất)";

/// A class of the organizer's commune with two sessions in 2027 (120 + 80 minutes) and the
/// commune's members listed (the demo "member" among them).
struct Setup {
    organizer: Api,
    commune: i64,
    class_id: i64,
    s1: i64,
    s2: i64,
    /// participant id → person id
    participants: BTreeMap<i64, i64>,
}

async fn setup(app: &TestApp) -> Setup {
    let organizer = app.api_login("organizer").await;
    let commune = id(&items(&organizer.get_ok("/api/v1/orgs").await)[0]);
    let people = organizer.all_people(Some(commune)).await;
    let res = organizer.resolution_id("144-QĐ/TW").await;
    let campaign = organizer
        .post_ok(
            "/api/v1/campaigns",
            &json!({
                "name": "Học tập Quy định 144 năm 2027", "org_id": commune, "leader_person_id": id(&people[0]),
                "starts_on": "2027-01-01", "ends_on": "2027-12-31", "resolution_ids": [res],
            }),
            201,
        )
        .await;
    let class = organizer
        .post_ok(
            &format!("/api/v1/campaigns/{}/classes", id(&campaign)),
            &json!({
                "title": TITLE, "org_id": commune, "form": "in_person", "audience_tier": "grassroots",
                "venue_name": "Hội trường Đảng ủy", "venue_capacity": 300, "retake_threshold": 40,
            }),
            201,
        )
        .await;
    let class_id = id(&class);
    let mut sessions = Vec::new();
    for (time, minutes, topic, discussion) in [
        ("07:30", 120, "Nội dung cơ bản của Quy định 144", false),
        ("13:30", 80, "Thảo luận, liên hệ thực tiễn", true),
    ] {
        let s = organizer
            .post_ok(
                &format!("/api/v1/classes/{class_id}/sessions"),
                &json!({"date": "10/02/2027", "start_time": time, "duration_minutes": minutes,
                        "topic": topic, "is_discussion": discussion}),
                201,
            )
            .await;
        sessions.push(id(&s));
    }
    organizer
        .post_ok(
            &format!("/api/v1/classes/{class_id}/participants/generate"),
            &json!({"org_ids": [commune], "bridge_point_ids": [], "management_levels": [], "include_completed": true}),
            200,
        )
        .await;
    let listed = items(
        &organizer
            .get_ok(&format!("/api/v1/classes/{class_id}/participants"))
            .await,
    );
    let participants: BTreeMap<i64, i64> = listed
        .iter()
        .filter(|p| p["removed_reason"].is_null())
        .map(|p| (id(p), p["person_id"].as_i64().unwrap()))
        .collect();
    assert!(participants.len() > 5, "{listed:?}");
    Setup {
        organizer,
        commune,
        class_id,
        s1: sessions[0],
        s2: sessions[1],
        participants,
    }
}

/// How many notifications of `kind` about this class each person has (direct SQL, so the test counts what is
/// stored, not what a page chooses to show).
async fn notified(app: &TestApp, class_id: i64, kind: &str) -> BTreeMap<i64, i64> {
    let sql = "SELECT person_id, COUNT(*) FROM notifications WHERE kind = $1 AND link = $2 GROUP BY person_id";
    let link = format!("/me#class-{class_id}");
    let rows: Vec<(i64, i64)> =
        store::db_run!(&app.db, p => sqlx::query_as(sql).bind(kind).bind(&link).fetch_all(p).await)
            .expect("count notifications");
    rows.into_iter().collect()
}

async fn audit_count(app: &TestApp, action: &str) -> i64 {
    let (n,): (i64,) = store::db_run!(&app.db, p => sqlx::query_as("SELECT COUNT(*) FROM audit_log WHERE action = $1")
        .bind(action).fetch_one(p).await)
    .expect("count audit");
    n
}

async fn change_count(app: &TestApp, class_id: i64) -> i64 {
    let (n,): (i64,) = store::db_run!(&app.db, p => sqlx::query_as("SELECT COUNT(*) FROM class_changes WHERE class_id = $1")
        .bind(class_id).fetch_one(p).await)
    .expect("count changes");
    n
}

async fn r2_6_postpone_session_is_kept_and_notified(app: TestApp) {
    let s = setup(&app).await;
    let browser = app.browser_login("organizer").await;
    let member = app.api_login("member").await;
    let member_person = member.get_ok("/api/v1/me").await["person_id"]
        .as_i64()
        .expect("the demo member has a person");
    assert!(
        s.participants.values().any(|p| *p == member_person),
        "the member is listed"
    );

    // The class page shows the emergency forms to its organizer.
    let page = browser.get(&format!("/classes/{}", s.class_id)).await;
    page.expect(200);
    assert!(page.html().contains("Thay đổi đột xuất"));
    assert!(page.html().contains("value=\"postpone_session\""));

    let reason = "Bão số 3 đổ bộ, theo chỉ đạo của Ban Chỉ đạo phòng, chống thiên tai tỉnh";
    let r = browser
        .post_form(
            &format!("/classes/{}/changes", s.class_id),
            &[
                ("action", "postpone_session"),
                ("session_id", &s.s1.to_string()),
                ("date", "17/02/2027"),
                ("start_time", "08:00"),
                ("reason", reason),
            ],
        )
        .await;
    r.expect_redirect(&format!("/classes/{}/changes", s.class_id));

    // The session moved (08:00 in Vietnam is 01:00 UTC) and the class still has both sessions.
    let detail = s
        .organizer
        .get_ok(&format!("/api/v1/classes/{}", s.class_id))
        .await;
    let moved = detail["sessions"]
        .as_array()
        .expect("sessions")
        .iter()
        .find(|x| id(x) == s.s1)
        .cloned()
        .expect("the session is still there");
    assert_eq!(
        moved["starts_at"]
            .as_str()
            .map(|t| t.replace("+00:00", "Z")),
        Some("2027-02-17T01:00:00Z".to_string()),
        "{moved}"
    );
    assert_eq!(detail["class"]["class_minutes"], 200);

    // History: old and new time, in dd/mm/yyyy hh:mm, with the reason.
    let page = browser
        .get(&format!("/classes/{}/changes", s.class_id))
        .await;
    page.expect(200);
    let html = page.html();
    assert!(html.contains("Lịch sử thay đổi"));
    assert!(html.contains("Hoãn buổi học"), "{}", short(&html));
    assert!(html.contains("10/02/2027 07:30"), "old time in the history");
    assert!(html.contains("17/02/2027 08:00"), "new time in the history");
    assert!(html.contains(reason));
    assert_eq!(change_count(&app, s.class_id).await, 1);
    assert_eq!(audit_count(&app, "postpone_session").await, 1);

    // Everyone listed got exactly one notification.
    let counts = notified(&app, s.class_id, "class_change").await;
    for person in s.participants.values() {
        assert_eq!(counts.get(person), Some(&1), "person {person}: {counts:?}");
    }
    assert_eq!(
        counts.len(),
        s.participants.len(),
        "nobody else: {counts:?}"
    );

    // The member sees it on /notifications, with the badge in the menu, and through the API.
    let mb = app.browser_login("member").await;
    let page = mb.get("/notifications").await;
    page.expect(200);
    let html = page.html();
    assert!(
        html.contains(&format!("Hoãn buổi học: {TITLE}")),
        "{}",
        short(&html)
    );
    assert!(html.contains("17/02/2027 08:00"));
    assert!(
        html.contains("1 thông báo chưa đọc"),
        "badge: {}",
        short(&html)
    );
    let list = member.get_ok("/api/v1/notifications").await;
    assert_eq!(list["unread"], 1, "{list}");
    let first = &items(&list["items"])[0];
    assert_eq!(first["kind"], "class_change");
    assert!(first["read_at"].is_null());
    assert!(first["body"]
        .as_str()
        .unwrap_or_default()
        .contains("từ 10/02/2027 07:30 sang 17/02/2027 08:00"));
    let nid = id(first);

    // Nobody else may mark it read; without the CSRF field the form is refused.
    s.organizer
        .post(&format!("/api/v1/notifications/{nid}/read"), &json!({}))
        .await
        .expect_error(404, "not_found");
    mb.post_raw(&format!("/notifications/{nid}/read"), vec![])
        .await
        .expect(403);
    assert_eq!(member.get_ok("/api/v1/notifications").await["unread"], 1);
    mb.post_form(&format!("/notifications/{nid}/read"), &[])
        .await
        .expect_redirect("/notifications");
    let list = member.get_ok("/api/v1/notifications").await;
    assert_eq!(list["unread"], 0, "{list}");
    assert!(!items(&list["items"])[0]["read_at"].is_null());
    let page = mb.get("/notifications").await;
    assert!(!page.html().contains("1 thông báo chưa đọc"));

    // The OpenAPI document describes the endpoint.
    let doc = app.anon_get("/api/openapi.json").await.json();
    assert!(doc["paths"]["/api/v1/notifications"]["get"].is_object());
}

async fn r2_6_reason_is_required_and_input_kept(app: TestApp) {
    let s = setup(&app).await;
    let browser = app.browser_login("organizer").await;
    let path = format!("/classes/{}/changes", s.class_id);
    let r = browser
        .post_form(
            &path,
            &[
                ("action", "postpone_session"),
                ("session_id", &s.s2.to_string()),
                ("date", "18/02/2027"),
                ("start_time", "14:15"),
                ("reason", "   "),
            ],
        )
        .await;
    r.expect(422);
    let html = r.html();
    assert!(
        html.contains("Cần ghi lý do thay đổi"),
        "Vietnamese message: {}",
        short(&html)
    );
    assert!(
        html.contains("value=\"18/02/2027\""),
        "typed date kept: {}",
        short(&html)
    );
    assert!(html.contains("value=\"14:15\""), "typed time kept");
    assert!(
        html.contains(&format!("value=\"{}\" selected", s.s2)),
        "chosen session kept"
    );

    // A bad date with a reason: the reason is kept, the date flagged.
    let r = browser
        .post_form(
            &path,
            &[
                ("action", "postpone_class"),
                ("date", "31/02/2027"),
                ("start_time", "07:30"),
                ("reason", "Dịch cúm A/H5N1"),
            ],
        )
        .await;
    r.expect(422);
    let html = r.html();
    assert!(html.contains("Ngày không hợp lệ"), "{}", short(&html));
    assert!(html.contains("Dịch cúm A/H5N1"), "typed reason kept");

    // A time in the past is a rule error shown on the form.
    let r = browser
        .post_form(
            &path,
            &[
                ("action", "postpone_session"),
                ("session_id", &s.s1.to_string()),
                ("date", "01/01/2020"),
                ("start_time", "07:30"),
                ("reason", "Mưa lũ"),
            ],
        )
        .await;
    r.expect(422);
    assert!(r.html().contains("phải sau thời điểm hiện tại"));

    // Without the CSRF field nothing is changed.
    browser
        .post_raw(
            &path,
            form(&[
                ("action", "cancel_class"),
                ("reason", "Không có mã chống giả mạo"),
            ]),
        )
        .await
        .expect(403);
    assert_eq!(change_count(&app, s.class_id).await, 0, "nothing recorded");
    assert!(notified(&app, s.class_id, "class_change").await.is_empty());
    let detail = s
        .organizer
        .get_ok(&format!("/api/v1/classes/{}", s.class_id))
        .await;
    assert_eq!(detail["class"]["status"], "planned");
}

/// Moves the setup's two sessions into the past, as if the class had been held (marks can be
/// recorded only for sessions that have started, issue 11.1): yesterday 07:30 and 13:30 local.
async fn held(app: &TestApp, s: &Setup) {
    let day = chrono::Utc::now() - chrono::Duration::days(1);
    for (session, hours) in [(s.s1, 0), (s.s2, 6)] {
        let at = day + chrono::Duration::hours(hours);
        store::db_run!(&app.db, p => sqlx::query("UPDATE study_sessions SET starts_at = $1 WHERE id = $2")
            .bind(at).bind(session).execute(p).await.map(|r| r.rows_affected()))
        .unwrap();
    }
}

async fn r2_6_cancelled_session_leaves_results(app: TestApp) {
    let s = setup(&app).await;
    held(&app, &s).await;
    let pids: Vec<i64> = s.participants.keys().copied().collect();
    // a: absent from session 1 only (120 of 200 = 60% → retake while it counts);
    // b: absent from session 2 only (80 of 200 = 40% → no retake; 80 of 80 once 1 is cancelled).
    let (a, b) = (pids[0], pids[1]);
    for (session, absent) in [(s.s1, a), (s.s2, b)] {
        let marks: Vec<Value> = pids
            .iter()
            .map(|p| {
                let st = if *p == absent { "absent" } else { "present" };
                json!({"participant_id": p, "status": st})
            })
            .collect();
        s.organizer
            .put(
                &format!("/api/v1/sessions/{session}/attendance"),
                &json!({"marks": marks}),
            )
            .await
            .expect(200);
    }
    let results_path = format!("/api/v1/classes/{}/results", s.class_id);
    let before = s.organizer.get_ok(&results_path).await;
    assert_eq!(before["class_minutes"], 200);
    let retakes = |v: &Value| -> Vec<i64> {
        items(&v["retakes"])
            .iter()
            .map(|r| r["participant_id"].as_i64().unwrap())
            .collect()
    };
    assert_eq!(retakes(&before), vec![a]);

    let browser = app.browser_login("organizer").await;
    browser
        .post_form(
            &format!("/classes/{}/changes", s.class_id),
            &[
                ("action", "cancel_session"),
                ("session_id", &s.s1.to_string()),
                ("reason", "Ngập lụt, hội trường không sử dụng được"),
            ],
        )
        .await
        .expect(303);

    let after = s.organizer.get_ok(&results_path).await;
    assert_eq!(
        after["class_minutes"], 80,
        "the cancelled 120 minutes are gone"
    );
    assert_eq!(retakes(&after), vec![b]);
    let by_pid: BTreeMap<i64, Value> = items(&after["results"])
        .into_iter()
        .map(|r| (r["participant_id"].as_i64().unwrap(), r))
        .collect();
    assert_eq!(by_pid[&a]["summary"]["missed_minutes"], 0);
    assert_eq!(by_pid[&a]["summary"]["class_minutes"], 80);
    assert_eq!(by_pid[&b]["summary"]["missed_minutes"], 80);
    let detail = s
        .organizer
        .get_ok(&format!("/api/v1/classes/{}", s.class_id))
        .await;
    assert_eq!(detail["class"]["class_minutes"], 80);
    assert_eq!(detail["class"]["session_count"], 1);
    assert_eq!(detail["sessions"].as_array().map(Vec::len), Some(1));
    // The cancelled session takes no more attendance.
    s.organizer
        .get(&format!("/api/v1/sessions/{}/attendance", s.s1))
        .await
        .expect(404);
    // It is listed as cancelled on the history tab, and cannot be cancelled twice.
    let page = browser
        .get(&format!("/classes/{}/changes", s.class_id))
        .await;
    assert!(page.html().contains("Buổi học đã hủy (1)"));
    assert!(page
        .html()
        .contains("Ngập lụt, hội trường không sử dụng được"));
    let r = browser
        .post_form(
            &format!("/classes/{}/changes", s.class_id),
            &[
                ("action", "cancel_session"),
                ("session_id", &s.s1.to_string()),
                ("reason", "Lần hai"),
            ],
        )
        .await;
    r.expect(422);
    assert!(r.html().contains("Buổi học này đã bị hủy"));
    assert_eq!(audit_count(&app, "cancel_session").await, 1);
}

async fn r2_6_postpone_class_move_online_and_cancel_class(app: TestApp) {
    let s = setup(&app).await;
    let browser = app.browser_login("organizer").await;
    let path = format!("/classes/{}/changes", s.class_id);
    // Postpone the class by 7 days: both sessions move by the same delta.
    browser
        .post_form(
            &path,
            &[
                ("action", "postpone_class"),
                ("days", "7"),
                ("reason", "Dịch bệnh"),
            ],
        )
        .await
        .expect(303);
    let detail = s
        .organizer
        .get_ok(&format!("/api/v1/classes/{}", s.class_id))
        .await;
    let starts: Vec<String> = detail["sessions"]
        .as_array()
        .expect("sessions")
        .iter()
        .map(|x| {
            x["starts_at"]
                .as_str()
                .unwrap_or_default()
                .replace("+00:00", "Z")
        })
        .collect();
    assert_eq!(
        starts,
        vec!["2027-02-17T00:30:00Z", "2027-02-17T06:30:00Z"],
        "{detail}"
    );

    // Move online: the venue goes into the history.
    browser
        .post_form(
            &path,
            &[("action", "move_online"), ("reason", "Giãn cách xã hội")],
        )
        .await
        .expect(303);
    let detail = s
        .organizer
        .get_ok(&format!("/api/v1/classes/{}", s.class_id))
        .await;
    assert_eq!(detail["class"]["form"], "online");
    assert!(detail["class"]["venue_name"].is_null());
    let html = browser.get(&path).await.html();
    assert!(
        html.contains("Trực tiếp · Hội trường Đảng ủy (300 chỗ)"),
        "{}",
        short(&html)
    );
    assert!(html.contains("Chuyển sang học trực tuyến"));

    // Cancel the class: status cancelled, its sessions cancelled, finishing refused.
    browser
        .post_form(
            &path,
            &[
                ("action", "cancel_class"),
                ("reason", "Theo chỉ đạo của Ban Thường vụ"),
            ],
        )
        .await
        .expect(303);
    let detail = s
        .organizer
        .get_ok(&format!("/api/v1/classes/{}", s.class_id))
        .await;
    assert_eq!(detail["class"]["status"], "cancelled");
    assert_eq!(detail["class"]["class_minutes"], 0);
    s.organizer
        .post(
            &format!("/api/v1/classes/{}/finish", s.class_id),
            &json!({}),
        )
        .await
        .expect(422);
    assert!(browser
        .get(&format!("/classes/{}", s.class_id))
        .await
        .html()
        .contains("Lớp học đã bị hủy"));
    // Three changes, three notifications per participant.
    assert_eq!(change_count(&app, s.class_id).await, 3);
    let counts = notified(&app, s.class_id, "class_change").await;
    let first = s.participants.values().next().copied().unwrap();
    assert_eq!(counts.get(&first), Some(&3), "{counts:?}");
    // No change once cancelled.
    let r = browser
        .post_form(
            &path,
            &[("action", "postpone_class"), ("days", "1"), ("reason", "x")],
        )
        .await;
    r.expect(422);
    assert!(r.html().contains("Lớp học đã bị hủy"));
}

async fn r2_6_outsiders_are_refused(app: TestApp) {
    let s = setup(&app).await;
    let admin = app.api_login("admin").await;
    let (_, communes) = province_tree(&admin).await;
    let fourth = org_named(&communes, FOURTH_COMMUNE);
    assert_ne!(fourth, s.commune, "another commune");
    let first = s.commune;
    // An organizer of another commune, and a presenter of the class's own commune.
    for (name, org, role) in [
        ("tuyengiao.daktro", fourth, domain::auth::Role::Organizer),
        ("baocaovien.kontum", first, domain::auth::Role::Presenter),
    ] {
        let acc = store::auth::create_account(
            &app.db,
            name,
            PASSWORD,
            "Cán bộ thử nghiệm",
            None,
            domain::auth::Clearance::None,
        )
        .await
        .expect("account");
        store::auth::grant(&app.db, acc, domain::ids::OrgId(org), role)
            .await
            .expect("grant");
    }
    let path = format!("/classes/{}/changes", s.class_id);
    let fields = [
        ("action", "cancel_class"),
        ("reason", "Không có thẩm quyền"),
    ];
    let other = app.browser_login("tuyengiao.daktro").await;
    other.get(&path).await.expect(404);
    other.post_form(&path, &fields).await.expect(404);
    let presenter = app.browser_login("baocaovien.kontum").await;
    let page = presenter.get(&path).await;
    page.expect(200);
    assert!(
        !page.html().contains("value=\"cancel_class\""),
        "no forms for a presenter"
    );
    presenter.post_form(&path, &fields).await.expect(403);
    // The member (no rights on the class) sees nothing either.
    let member = app.browser_login("member").await;
    member.post_form(&path, &fields).await.expect(404);
    assert_eq!(change_count(&app, s.class_id).await, 0);
    let detail = s
        .organizer
        .get_ok(&format!("/api/v1/classes/{}", s.class_id))
        .await;
    assert_eq!(detail["class"]["status"], "planned");
}

async fn r3_3_finishing_twice_notifies_each_absentee_once(app: TestApp) {
    let s = setup(&app).await;
    held(&app, &s).await;
    let member = app.api_login("member").await;
    let member_person = member.get_ok("/api/v1/me").await["person_id"]
        .as_i64()
        .expect("person");
    let member_pid = s
        .participants
        .iter()
        .find(|(_, p)| **p == member_person)
        .map(|(pt, _)| *pt)
        .expect("the member is listed");
    let others: Vec<i64> = s
        .participants
        .keys()
        .copied()
        .filter(|p| *p != member_pid)
        .collect();
    // The member and one other miss both sessions; a third misses session 1 only (retake, not
    // absent from everything); everyone else is present.
    let (absent2, partly) = (others[0], others[1]);
    for session in [s.s1, s.s2] {
        let marks: Vec<Value> = s
            .participants
            .keys()
            .map(|p| {
                let st = if *p == member_pid || *p == absent2 || (*p == partly && session == s.s1) {
                    "absent"
                } else {
                    "present"
                };
                json!({"participant_id": p, "status": st})
            })
            .collect();
        s.organizer
            .put(
                &format!("/api/v1/sessions/{session}/attendance"),
                &json!({"marks": marks}),
            )
            .await
            .expect(200);
    }
    let finish = format!("/api/v1/classes/{}/finish", s.class_id);
    s.organizer.post_ok(&finish, &json!({}), 200).await;
    let person = |pt: i64| s.participants[&pt];
    let expect_absent = BTreeMap::from([(person(member_pid), 1), (person(absent2), 1)]);
    let expect_retake = BTreeMap::from([
        (person(member_pid), 1),
        (person(absent2), 1),
        (person(partly), 1),
    ]);
    assert_eq!(notified(&app, s.class_id, "absent").await, expect_absent);
    assert_eq!(notified(&app, s.class_id, "retake").await, expect_retake);

    // The member reads theirs; the class is reopened and finished again.
    let list = member.get_ok("/api/v1/notifications").await;
    let mine = items(&list["items"]);
    let kinds: Vec<&str> = mine.iter().filter_map(|n| n["kind"].as_str()).collect();
    assert!(
        kinds.contains(&"absent") && kinds.contains(&"retake"),
        "{list}"
    );
    let link = format!("/me#class-{}", s.class_id);
    let absent_note = mine
        .iter()
        .find(|n| n["kind"] == "absent" && n["link"] == link.as_str())
        .unwrap();
    assert!(absent_note["title"]
        .as_str()
        .unwrap_or_default()
        .starts_with("Vắng học"));
    assert!(
        absent_note["body"]
            .as_str()
            .unwrap_or_default()
            .contains("144-QĐ/TW"),
        "names the resolution: {absent_note}"
    );
    assert!(absent_note["link"]
        .as_str()
        .unwrap_or_default()
        .starts_with("/me"));
    member
        .post(
            &format!("/api/v1/notifications/{}/read", id(absent_note)),
            &json!({}),
        )
        .await
        .expect(204);
    let browser = app.browser_login("organizer").await;
    browser
        .post_form(&format!("/classes/{}/reopen", s.class_id), &[])
        .await
        .expect(303);
    s.organizer.post_ok(&finish, &json!({}), 200).await;
    assert_eq!(
        notified(&app, s.class_id, "absent").await,
        expect_absent,
        "finishing again adds no second «Vắng học»"
    );
    assert_eq!(notified(&app, s.class_id, "retake").await, expect_retake);
    let list = member.get_ok("/api/v1/notifications").await;
    let absent_now: Vec<Value> = items(&list["items"])
        .into_iter()
        .filter(|n| n["kind"] == "absent" && n["link"] == link.as_str())
        .collect();
    assert_eq!(absent_now.len(), 1);
    assert!(
        !absent_now[0]["read_at"].is_null(),
        "the read one is kept as read"
    );
}
