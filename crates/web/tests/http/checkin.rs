//! Check-in in the field (R3.4, issue 3): the offline queue API (idempotent by device-made ids,
//! whatever the order, the repeats or the number of devices), the operator's form, the QR self
//! check-in, and who may check in whom.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Duration, Utc};
use serde_json::{json, Value};

use crate::harness::*;

both_engines! {
    r3_4_offline_queue_stores_each_checkin_once => r3_4_offline_queue_stores_each_checkin_once_sqlite, r3_4_offline_queue_stores_each_checkin_once_postgres;
    r3_4_concurrent_devices_never_duplicate => r3_4_concurrent_devices_never_duplicate_sqlite, r3_4_concurrent_devices_never_duplicate_postgres;
    r3_4_checkin_scope_and_bad_input => r3_4_checkin_scope_and_bad_input_sqlite, r3_4_checkin_scope_and_bad_input_postgres;
    r3_4_operator_form_without_javascript => r3_4_operator_form_without_javascript_sqlite, r3_4_operator_form_without_javascript_postgres;
    r3_4_qr_self_checkin => r3_4_qr_self_checkin_sqlite, r3_4_qr_self_checkin_postgres;
    present_count_is_one_definition => present_count_is_one_definition_sqlite, present_count_is_one_definition_postgres;
    operator_page_tells_namesakes_apart_and_looks_closed => operator_page_tells_namesakes_apart_and_looks_closed_sqlite, operator_page_tells_namesakes_apart_and_looks_closed_postgres;
    long_rosters_come_in_parts_under_60_kb => long_rosters_come_in_parts_under_60_kb_sqlite, long_rosters_come_in_parts_under_60_kb_postgres;
    roster_in_memory_refuses_changes_at_once => roster_in_memory_refuses_changes_at_once_sqlite, roster_in_memory_refuses_changes_at_once_postgres;
    participants_come_in_keyset_pages => participants_come_in_keyset_pages_sqlite, participants_come_in_keyset_pages_postgres;
}

/// Follows `Link: <…>; rel="next"` from `first`; answers the ids in the order read.
async fn walk_participants(api: &Api, first: &str) -> Vec<i64> {
    walk(api, first, "id").await
}

/// [`walk_participants`] for rows whose id is in `field`.
async fn walk(api: &Api, first: &str, field: &str) -> Vec<i64> {
    let mut ids = Vec::new();
    let mut next = Some(first.to_owned());
    let mut pages = 0;
    while let Some(path) = next.take() {
        let r = api.get(&path).await;
        r.expect(200);
        ids.extend(
            items(&r.json())
                .iter()
                .map(|v| v[field].as_i64().unwrap_or_default()),
        );
        next = r
            .headers
            .get("link")
            .and_then(|v| v.to_str().ok())
            .and_then(|l| l.strip_prefix('<'))
            .and_then(|l| l.split_once(">; rel=\"next\""))
            .map(|(u, _)| u.to_owned());
        pages += 1;
        assert!(pages < 1000, "the pages end");
    }
    ids
}

/// Issue 12.B: a class's participants in pages on the name key (ties broken by id): pages of any
/// size are the whole list in order, and a row removed between two pages shifts nothing.
async fn participants_come_in_keyset_pages(app: TestApp) {
    let organizer = app.api_login("organizer").await;
    let live = live_session(&organizer).await;
    let class = live.class_id;
    let whole: Vec<i64> = live.participants.iter().map(id).collect();
    assert!(whole.len() >= 10);
    let paged = walk_participants(
        &organizer,
        &format!("/api/v1/classes/{class}/participants?limit=3"),
    )
    .await;
    assert_eq!(paged, whole, "pages of 3 are the list, in order, once each");

    // The last row of the first page is removed before the second page is read.
    let first = organizer
        .get(&format!("/api/v1/classes/{class}/participants?limit=4"))
        .await;
    let first_ids: Vec<i64> = items(&first.json()).iter().map(id).collect();
    let anchor = *first_ids.last().expect("a first page");
    organizer
        .post_ok(
            &format!("/api/v1/classes/{class}/participants/{anchor}/remove"),
            &json!({"reason": "Trùng tên"}),
            204,
        )
        .await;
    let second = organizer
        .get(&format!(
            "/api/v1/classes/{class}/participants?limit=4&after={anchor}"
        ))
        .await;
    let second_ids: Vec<i64> = items(&second.json()).iter().map(id).collect();
    assert_eq!(
        second_ids.first(),
        whole.get(4),
        "nothing skipped or repeated"
    );
    // With the removed: the removed row stays in its place, flagged.
    let with_removed = walk_participants(
        &organizer,
        &format!("/api/v1/classes/{class}/participants?limit=5&include_removed=true"),
    )
    .await;
    assert_eq!(with_removed, whole);
    let without = walk_participants(
        &organizer,
        &format!("/api/v1/classes/{class}/participants?limit=5"),
    )
    .await;
    assert_eq!(without.len(), whole.len() - 1);
    assert!(!without.contains(&anchor));
    // The session's sheet, in pages of 4, is the list as it is now, in the same order.
    let sheet_ids = walk(
        &organizer,
        &format!("/api/v1/sessions/{}/attendance?limit=4", live.session_id),
        "participant_id",
    )
    .await;
    assert_eq!(sheet_ids, without);
    // The sheet page: 50 rows; a save on the second part comes back to it, and marks only its rows.
    let b0 = app.browser_login("organizer").await;
    let html = b0
        .get(&format!("/sessions/{}/attendance", live.session_id))
        .await
        .html();
    if without.len() > 50 {
        assert!(
            html.contains(&format!("attendance?after={}&", without[49])),
            "the next part starts after the 50th: {}",
            html.split("class=\"pager\"").nth(1).unwrap_or("no pager")
        );
    } else {
        assert!(!html.contains("Trang sau"), "one page holds the class");
    }
    let fifth = without[4];
    let part = b0
        .get(&format!(
            "/sessions/{}/attendance?after={}&n=4",
            live.session_id, without[3]
        ))
        .await
        .html();
    assert!(
        part.contains(&format!("status_{fifth}")),
        "rows after the fourth"
    );
    assert!(
        !part.contains(&format!("status_{}\"", without[0])),
        "not the first"
    );
    let r = b0
        .post_form(
            &format!("/sessions/{}/attendance", live.session_id),
            &[
                ("after", &without[3].to_string()),
                ("n", "4"),
                (&format!("status_{fifth}"), "absent"),
            ],
        )
        .await;
    assert_eq!(r.status.as_u16(), 303, "{}", short(&r.text));
    let loc = r
        .headers
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    assert!(loc.contains(&format!("after={}", without[3])), "{loc}");
    let rows = sheet(&organizer, live.session_id).await;
    assert_eq!(rows[&fifth]["status"], "absent");
    assert!(rows[&without[0]]["status"].is_null());

    // The class counts the list as it is now.
    let c = organizer.get_ok(&format!("/api/v1/classes/{class}")).await;
    assert_eq!(
        c["class"]["participant_count"].as_i64(),
        Some(whole.len() as i64 - 1)
    );

    // The page: 100 rows and a link on; the second part numbers its rows on from the first.
    let b = app.browser_login("organizer").await;
    let html = b
        .get(&format!("/classes/{class}?tab=participants"))
        .await
        .html();
    assert!(
        html.contains(&format!("{} người trong danh sách", whole.len() - 1)),
        "{}",
        short(&html)
    );
}

/// Issue 12.C: the check-in endpoints hold the session's roster in memory, and the group commit
/// checks again what the memory may have missed. A participant removed a moment after the
/// roster was read, and a session cancelled a moment after its facts were read, are refused at
/// once, through the API and the operator's form, and nothing is written for them.
async fn roster_in_memory_refuses_changes_at_once(app: TestApp) {
    let organizer = app.api_login("organizer").await;
    let live = live_session(&organizer).await;
    let pids: Vec<i64> = live.participants.iter().map(id).collect();
    let (a, b, c) = (pids[0], pids[1], pids[2]);
    let now = Utc::now().to_rfc3339();
    let send = |cid: &str, pt: i64| json!({"device_id": "hall", "checkins": [checkin(cid, live.session_id, pt, "in", &now)]});
    // The first check-in reads the roster into memory.
    let r = organizer
        .post_ok("/api/v1/checkins", &send("roster-0001", a), 200)
        .await;
    assert_eq!(outcomes(&r), ["stored"]);

    // b leaves the list; the very next check-in of b is refused, with the reason.
    let class_id = live.class_id;
    organizer
        .post_ok(
            &format!("/api/v1/classes/{class_id}/participants/{b}/remove"),
            &json!({"reason": "Chuyển sinh hoạt đảng"}),
            204,
        )
        .await;
    let r = organizer
        .post_ok("/api/v1/checkins", &send("roster-0002", b), 200)
        .await;
    assert_eq!(outcomes(&r), ["rejected"], "{r}");
    let why = r["results"][0]["message"].as_str().unwrap_or_default();
    assert!(why.contains("không còn trong danh sách"), "{why}");
    let rows = sheet(&organizer, live.session_id).await;
    assert!(
        rows.get(&b).is_none_or(|r| r["status"] != "present"),
        "nothing written for b: {:?}",
        rows.get(&b)
    );
    assert_eq!(count_checkins(&app, live.session_id).await, 1);

    // The operator's form refuses b too (the refusal made the memory read the list again, in
    // which b is no more: the row's button names nobody).
    let browser = app.browser_login("organizer").await;
    let r = browser
        .post_form(
            &format!("/sessions/{}/checkin", live.session_id),
            &[("mark", &format!("in:{b}")), ("seed", "roster-form-01")],
        )
        .await;
    assert_eq!(r.status.as_u16(), 404, "{}", r.status);
    assert_eq!(count_checkins(&app, live.session_id).await, 1);

    // The session is cancelled: the next check-in, a moment later, is refused as such.
    browser
        .post_form(
            &format!("/classes/{class_id}/changes"),
            &[
                ("action", "cancel_session"),
                ("session_id", &live.session_id.to_string()),
                ("reason", "Mất điện toàn xã"),
            ],
        )
        .await
        .expect(303);
    let r = organizer
        .post_ok("/api/v1/checkins", &send("roster-0003", c), 200)
        .await;
    assert_eq!(outcomes(&r), ["rejected"], "{r}");
    let why = r["results"][0]["message"].as_str().unwrap_or_default();
    assert!(why.contains("hủy"), "{why}");
    assert_eq!(count_checkins(&app, live.session_id).await, 1);
}

/// Issue 11.12's conference: `n` more people in the class's organization, all on the class.
async fn grow_class(app: &TestApp, session: i64, n: usize) -> (i64, i64) {
    let (class_id, org_id): (i64, i64) = store::db_run!(&app.db, p => sqlx::query_as(
        "SELECT k.id, k.org_id FROM study_sessions s JOIN classes k ON k.id = s.class_id WHERE s.id = $1")
        .bind(session).fetch_one(p).await)
    .unwrap();
    let families = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Võ", "Đặng", "Bùi"];
    let given = [
        "An", "Bình", "Chi", "Dũng", "Hà", "Khánh", "Lan", "Minh", "Nga", "Oanh", "Phúc", "Quân",
    ];
    let people: Vec<store::org::NewPerson> = (0..n)
        .map(|i| store::org::NewPerson {
            org_id: domain::ids::OrgId(org_id),
            // Namesakes on purpose: every twelfth person shares a name with another.
            name: domain::org::PersonName::from_parts(
                families[i % families.len()],
                if i % 2 == 0 { "Văn" } else { "Thị" },
                given[(i / 8) % given.len()],
            )
            .unwrap(),
            birth_date: None,
            gender: domain::org::Gender::Male,
            ethnicity: "Kinh".into(),
            party_card_number: Some(format!("93{:06}", 100_000 + i)),
            positions: String::new(),
            management_level: domain::org::ManagementLevel::None,
            exempt_from_activities: false,
        })
        .collect();
    let ids = store::org::insert_people(&app.db, &people).await.unwrap();
    for chunk in ids.chunks(200) {
        let values: Vec<String> = chunk
            .iter()
            .map(|p| {
                format!(
                    "({class_id}, {}, 'manual', (SELECT province_id FROM classes WHERE id = {class_id}))",
                    p.0
                )
            })
            .collect();
        let sql = format!(
            "INSERT INTO participants (class_id, person_id, source, province_id) VALUES {}",
            values.join(", ")
        );
        store::db_run!(&app.db, p => sqlx::query(&sql).execute(p).await.map(|r| r.rows_affected()))
            .unwrap();
    }
    (class_id, org_id)
}

/// The `data-pid` ids of the roster rows on an operator page, in order.
fn roster_ids(html: &str) -> Vec<i64> {
    html.split("<tr data-pid=\"")
        .skip(1)
        .filter_map(|s| s.split('"').next()?.parse().ok())
        .collect()
}

/// The "next part" link of an operator page.
fn next_part(html: &str) -> Option<String> {
    let before = html.split("\" rel=\"next\"").next()?;
    if before.len() == html.len() {
        return None;
    }
    before.rsplit("href=\"").next().map(str::to_owned)
}

/// Issue 11.12: at a conference of 800 the operator page was 390 KB of HTML and the attendance
/// sheet 197 KB. Every page of the class stays under 60 KB; the operator page shows parts of 50
/// in name order (keyset: a row removed between two parts shifts nothing) and sends the whole
/// roster to its script once, as compact data.
async fn long_rosters_come_in_parts_under_60_kb(app: TestApp) {
    let organizer = app.api_login("organizer").await;
    let live = live_session(&organizer).await;
    let (class_id, _) = grow_class(&app, live.session_id, 800).await;
    let b = app.browser_login("organizer").await;
    let first = b
        .get(&format!("/sessions/{}/checkin", live.session_id))
        .await;
    first.expect(200);
    let data = organizer
        .get_ok(&format!("/sessions/{}/roster.json", live.session_id))
        .await;
    let rows = data["rows"].as_array().expect("rows").clone();
    assert!(rows.len() >= 800, "the whole roster: {}", rows.len());
    assert!(
        rows.iter()
            .all(|r| r.as_array().is_some_and(|a| a.len() == 7)),
        "one compact array per participant"
    );
    let json_len = serde_json::to_string(&data).unwrap().len();
    assert!(
        json_len < rows.len() * 120,
        "compact: {json_len} bytes for {} people",
        rows.len()
    );
    let whole: Vec<i64> = rows.iter().map(|r| r[0].as_i64().unwrap()).collect();

    // The parts, one after another, give the whole roster in the same order.
    let mut seen: Vec<i64> = Vec::new();
    let mut html = first.html();
    let mut link;
    let mut parts = 0;
    loop {
        parts += 1;
        assert!(html.len() < 60_000, "part {parts} is {} bytes", html.len());
        let ids = roster_ids(&html);
        assert!(ids.len() <= 50, "at most 50 rows: {}", ids.len());
        seen.extend(ids);
        match next_part(&html) {
            Some(l) => link = l,
            None => break,
        }
        html = b.get(&link.replace("&amp;", "&")).await.html();
        assert!(parts < 100, "the parts end");
    }
    assert_eq!(seen, whole, "the parts are the roster, in order, once each");

    // A row removed between two parts: the next part starts where it would have.
    let page1 = roster_ids(&first.html());
    let next = next_part(&first.html()).expect("a second part");
    let anchor = *page1.last().unwrap();
    organizer
        .post_ok(
            &format!("/api/v1/classes/{class_id}/participants/{anchor}/remove"),
            &json!({"reason": "Trùng tên"}),
            204,
        )
        .await;
    let after = roster_ids(&b.get(&next.replace("&amp;", "&")).await.html());
    assert_eq!(after.first(), whole.get(50), "nothing skipped or repeated");

    // Search by words in any order, and by card number.
    let found = b
        .get(&format!(
            "/sessions/{}/checkin?q=binh+tran",
            live.session_id
        ))
        .await
        .html();
    assert!(found.contains("Trần Văn Bình") || found.contains("Trần Thị Bình"));
    assert!(!roster_ids(&found).is_empty());
    let by_card = b
        .get(&format!("/sessions/{}/checkin?q=93100007", live.session_id))
        .await
        .html();
    assert_eq!(roster_ids(&by_card).len(), 1, "one card, one person");

    // The other long pages of the class stay under 60 KB too.
    for page in [
        format!("/sessions/{}/attendance", live.session_id),
        format!("/classes/{class_id}?tab=participants"),
        format!("/classes/{class_id}?tab=results"),
        format!("/classes/{class_id}?tab=results&list=all"),
        format!("/classes/{class_id}"),
    ] {
        let r = b.get(&page).await;
        r.expect(200);
        assert!(r.text.len() < 60_000, "{page} is {} bytes", r.text.len());
    }
}

/// Issue 11.11: on a phone the card number and organization were hidden, so namesakes looked the
/// same; a finished class's check-in page still offered to check in.
async fn operator_page_tells_namesakes_apart_and_looks_closed(app: TestApp) {
    let organizer = app.api_login("organizer").await;
    let live = live_session(&organizer).await;
    let b = app.browser_login("organizer").await;
    let html = b
        .get(&format!("/sessions/{}/checkin", live.session_id))
        .await
        .html();
    let carded = live
        .participants
        .iter()
        .find(|p| p["party_card_number"].is_string())
        .expect("a participant with a card");
    let card = carded["party_card_number"].as_str().unwrap();
    assert!(
        html.contains(&format!("<span class=\"who-extra\">Thẻ {card} · ")),
        "the card number beside the name (shown on phones)"
    );
    // The province's online class is finished: its check-in page is read-only.
    let admin = app.api_login("admin").await;
    let online = items(&admin.get_ok("/api/v1/classes").await)
        .into_iter()
        .find(|c| c["status"] == "finished")
        .expect("a finished class");
    let detail = admin
        .get_ok(&format!("/api/v1/classes/{}", id(&online)))
        .await;
    let session = id(&detail["sessions"][0]);
    let page = app
        .browser_login("admin")
        .await
        .get(&format!("/sessions/{session}/checkin"))
        .await;
    page.expect(200);
    let html = page.html();
    assert!(html.contains("Lớp học đã kết thúc"), "it says so");
    assert!(!html.contains("id=\"checkin-form\""), "no scan form");
    assert!(!html.contains("name=\"mark\""), "no check-in buttons");
}

/// The number in `<strong …>N</strong>` after `label` on a page.
fn count_after(html: &str, label: &str) -> i64 {
    html.split(label)
        .nth(1)
        .and_then(|rest| rest.split("</strong>").next())
        .and_then(|s| s.rsplit('>').next())
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("no count after {label:?}"))
}

/// Issue 11.4: the QR screen's count and the operator page's "Đã có mặt" disagreed for the same
/// session. Both now count participants on the list who checked in or were marked present.
async fn present_count_is_one_definition(app: TestApp) {
    let organizer = app.api_login("organizer").await;
    let live = live_session(&organizer).await;
    let pids: Vec<i64> = live.participants.iter().map(id).collect();
    let at = (Utc::now() - Duration::minutes(2)).to_rfc3339();
    // Two check in with a device, two more are marked present by hand, one absent.
    organizer
        .post_ok(
            "/api/v1/checkins",
            &json!({"device_id": "dem1", "checkins": [
                checkin("dem1-0001", live.session_id, pids[0], "in", &at),
                checkin("dem1-0002", live.session_id, pids[1], "in", &at),
            ]}),
            200,
        )
        .await;
    organizer
        .put(
            &format!("/api/v1/sessions/{}/attendance", live.session_id),
            &json!({"marks": [
                {"participant_id": pids[2], "status": "present"},
                {"participant_id": pids[3], "status": "present"},
                {"participant_id": pids[4], "status": "absent"},
            ]}),
        )
        .await
        .expect(200);
    let b = app.browser_login("organizer").await;
    let qr = b.get(&format!("/sessions/{}/qr", live.session_id)).await;
    qr.expect(200);
    let operator = b
        .get(&format!("/sessions/{}/checkin", live.session_id))
        .await;
    operator.expect(200);
    let on_qr = count_after(&qr.html(), "Đã có mặt:");
    let on_page = count_after(&operator.html(), "Đã có mặt:");
    assert_eq!(
        (on_qr, on_page),
        (4, 4),
        "QR screen and operator page agree"
    );
}

/// A session of the demo commune's in-person class that started 10 minutes ago (local time),
/// with its participants.
pub struct Live {
    pub starts_at: chrono::DateTime<Utc>,
    pub session_id: i64,
    pub class_id: i64,
    pub participants: Vec<Value>,
}

pub async fn live_session(organizer: &Api) -> Live {
    live_session_started(organizer, 10).await
}

/// Like [`live_session`], started `minutes_ago`.
pub async fn live_session_started(organizer: &Api, minutes_ago: i64) -> Live {
    let classes = items(&organizer.get_ok("/api/v1/classes").await);
    let class = classes
        .iter()
        .find(|c| c["form"] == "in_person")
        .unwrap_or_else(|| panic!("the demo commune has an in-person class: {classes:?}"));
    let class_id = id(class);
    let start = domain::study::utc_to_local(Utc::now() - Duration::minutes(minutes_ago));
    let s = organizer
        .post_ok(
            &format!("/api/v1/classes/{class_id}/sessions"),
            &json!({
                "date": start.format("%d/%m/%Y").to_string(),
                "start_time": start.format("%H:%M").to_string(),
                "duration_minutes": 120,
                "topic": "Buổi điểm danh thử",
            }),
            201,
        )
        .await;
    let participants = items(
        &organizer
            .get_ok(&format!("/api/v1/classes/{class_id}/participants"))
            .await,
    );
    assert!(participants.len() >= 10, "the class has participants");
    Live {
        starts_at: s["starts_at"]
            .as_str()
            .and_then(|t| t.parse().ok())
            .expect("starts_at"),
        session_id: id(&s),
        class_id,
        participants,
    }
}

/// The session's sheet rows by participant id.
pub async fn sheet(api: &Api, session: i64) -> BTreeMap<i64, Value> {
    items(
        &api.get_ok(&format!("/api/v1/sessions/{session}/attendance"))
            .await,
    )
    .into_iter()
    .map(|r| (r["participant_id"].as_i64().unwrap_or_default(), r))
    .collect()
}

fn checkin(id: &str, session: i64, participant: i64, direction: &str, at: &str) -> Value {
    json!({"id": id, "session_id": session, "participant_id": participant, "direction": direction, "at": at})
}

fn outcomes(report: &Value) -> Vec<String> {
    report["results"]
        .as_array()
        .unwrap_or_else(|| panic!("no results in {report}"))
        .iter()
        .map(|r| r["outcome"].as_str().unwrap_or_default().to_owned())
        .collect()
}

async fn r3_4_offline_queue_stores_each_checkin_once(app: TestApp) {
    let organizer = app.api_login("organizer").await;
    let live = live_session_started(&organizer, 110).await;
    let (a, b) = (id(&live.participants[0]), id(&live.participants[1]));
    // The session starts on a whole minute, as typed; the check-ins are timed from there.
    let start = live.starts_at;
    let t = |m: i64| (start + Duration::minutes(m)).to_rfc3339();
    let first = vec![
        checkin("dev1-0001", live.session_id, a, "in", &t(7)),
        checkin("dev1-0002", live.session_id, b, "in", &t(-5)),
    ];
    let r = organizer
        .post_ok(
            "/api/v1/checkins",
            &json!({"device_id": "dev1", "checkins": first}),
            200,
        )
        .await;
    assert_eq!(outcomes(&r), ["stored", "stored"]);

    // The same queue again, reordered, with a check-out and an earlier check-in that arrived late.
    let again = vec![
        checkin("dev1-0003", live.session_id, a, "in", &t(3)),
        checkin("dev1-0002", live.session_id, b, "in", &t(-5)),
        checkin("dev1-0004", live.session_id, b, "out", &t(100)),
        checkin("dev1-0001", live.session_id, a, "in", &t(7)),
    ];
    let r = organizer
        .post_ok(
            "/api/v1/checkins",
            &json!({"device_id": "dev1", "checkins": again}),
            200,
        )
        .await;
    assert_eq!(outcomes(&r), ["stored", "duplicate", "stored", "duplicate"]);
    assert_eq!(r["stored"], 2);
    assert_eq!(r["duplicates"], 2);

    let rows = sheet(&organizer, live.session_id).await;
    // a: first check-in 3 minutes after the start → 3 minutes late.
    assert_eq!(rows[&a]["status"], "present");
    assert_eq!(rows[&a]["late_minutes"], 3);
    // b: early arrival, left 20 minutes before the end of the 120-minute session.
    assert_eq!(rows[&b]["status"], "present");
    assert_eq!(rows[&b]["late_minutes"], 0);
    assert_eq!(rows[&b]["left_early_minutes"], 20);
    let stored: i64 = count_checkins(&app, live.session_id).await;
    assert_eq!(stored, 4, "four distinct ids, four records");
}

pub async fn count_checkins(app: &TestApp, session: i64) -> i64 {
    let (n,): (i64,) = match &app.db {
        store::Db::Sqlite(p) => {
            sqlx::query_as("SELECT COUNT(*) FROM checkins WHERE session_id = $1")
                .bind(session)
                .fetch_one(p)
                .await
        }
        store::Db::Postgres(p) => {
            sqlx::query_as("SELECT COUNT(*) FROM checkins WHERE session_id = $1")
                .bind(session)
                .fetch_one(p)
                .await
        }
    }
    .unwrap();
    n
}

async fn r3_4_concurrent_devices_never_duplicate(app: TestApp) {
    let organizer = app.api_login("organizer").await;
    let live = live_session(&organizer).await;
    let now = Utc::now().to_rfc3339();
    // Three devices hold overlapping queues (a device re-sends; two share records after a
    // hand-over); all six uploads run at once.
    let ids: Vec<String> = (0..30).map(|i| format!("shared-{i:04}")).collect();
    let queue = |from: usize, to: usize| -> Vec<Value> {
        (from..to)
            .map(|i| {
                let p = id(&live.participants[i % live.participants.len()]);
                checkin(&ids[i], live.session_id, p, "in", &now)
            })
            .collect()
    };
    let uploads = vec![
        queue(0, 20),
        queue(10, 30),
        queue(0, 30),
        queue(5, 25),
        queue(0, 20),
        queue(20, 30),
    ];
    let mut handles = Vec::new();
    for (n, q) in uploads.into_iter().enumerate() {
        let api = organizer.clone();
        handles.push(tokio::spawn(async move {
            api.post_ok(
                "/api/v1/checkins",
                &json!({"device_id": format!("dev{n}"), "checkins": q}),
                200,
            )
            .await
        }));
    }
    let mut stored = 0;
    let mut stored_ids = BTreeSet::new();
    for h in handles {
        let r = h.await.unwrap();
        stored += r["stored"].as_i64().unwrap_or_default();
        for x in r["results"].as_array().unwrap() {
            if x["outcome"] == "stored" {
                assert!(
                    stored_ids.insert(x["id"].as_str().unwrap().to_owned()),
                    "{x} stored twice"
                );
            }
        }
    }
    assert_eq!(
        stored, 30,
        "each of the 30 ids is stored by exactly one upload"
    );
    assert_eq!(count_checkins(&app, live.session_id).await, 30);
}

async fn r3_4_checkin_scope_and_bad_input(app: TestApp) {
    let organizer = app.api_login("organizer").await;
    let live = live_session(&organizer).await;
    let a = id(&live.participants[0]);
    let now = Utc::now().to_rfc3339();
    // A member, and a cell secretary of this commune, may not check in for the commune's class.
    for who in ["member", "secretary"] {
        let api = app.api_login(who).await;
        let r = api
            .post_ok(
                "/api/v1/checkins",
                &json!({"checkins": [checkin(&format!("{who}-00001"), live.session_id, a, "in", &now)]}),
                200,
            )
            .await;
        assert_eq!(outcomes(&r), ["rejected"], "{who}: {r}");
    }
    assert_eq!(count_checkins(&app, live.session_id).await, 0);

    // Bad lines are rejected one by one with a Vietnamese reason; the good line is stored.
    let future = (Utc::now() + Duration::hours(2)).to_rfc3339();
    let r = organizer
        .post_ok(
            "/api/v1/checkins",
            &json!({"checkins": [
                checkin("short", live.session_id, a, "in", &now),
                checkin("good-000001", live.session_id, a, "sideways", &now),
                checkin("good-000002", live.session_id, a, "in", &future),
                checkin("good-000003", live.session_id, 99_999_999, "in", &now),
                checkin("good-000004", 99_999_999, a, "in", &now),
                checkin("good-000005", live.session_id, a, "in", &now),
            ]}),
            200,
        )
        .await;
    assert_eq!(
        outcomes(&r),
        ["rejected", "rejected", "rejected", "rejected", "rejected", "stored"]
    );
    let messages: Vec<String> = r["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|x| x["message"].as_str().map(fold))
        .collect();
    assert!(messages[0].contains("ma luot diem danh"), "{messages:?}");
    assert!(messages[2].contains("tuong lai"), "{messages:?}");
    assert!(
        messages[3].contains("khong co trong danh sach"),
        "{messages:?}"
    );
    assert_eq!(count_checkins(&app, live.session_id).await, 1);

    // Ids of QR scans and of the server's forms cannot be made by a client (they could be
    // claimed ahead of a member's scan); an id already used for someone else is refused.
    let b = id(&live.participants[1]);
    let r = organizer
        .post_ok(
            "/api/v1/checkins",
            &json!({"checkins": [
                checkin(&format!("qr:{}:{b}:in:1", live.session_id), live.session_id, b, "in", &now),
                checkin("f-0123456789abcdef:1:in", live.session_id, b, "in", &now),
                checkin("good-000005", live.session_id, b, "in", &now),
            ]}),
            200,
        )
        .await;
    assert_eq!(outcomes(&r), ["rejected", "rejected", "rejected"], "{r}");
    assert!(
        fold(r["results"][2]["message"].as_str().unwrap()).contains("da dung cho mot luot khac")
    );
    assert_eq!(count_checkins(&app, live.session_id).await, 1);

    // A card number names the person as well.
    let card = live
        .participants
        .iter()
        .find_map(|p| p["party_card_number"].as_str().map(str::to_owned))
        .expect("demo members have card numbers");
    let r = organizer
        .post_ok(
            "/api/v1/checkins",
            &json!({"checkins": [{"id": "card-000001", "session_id": live.session_id, "card_number": card, "direction": "in"}]}),
            200,
        )
        .await;
    assert_eq!(outcomes(&r), ["stored"], "{r}");

    // Empty and oversized batches, and malformed JSON.
    organizer
        .post("/api/v1/checkins", &json!({"checkins": []}))
        .await
        .expect_error(422, "validation_failed");
    let many: Vec<Value> = (0..1001)
        .map(|i| checkin(&format!("many-{i:06}"), live.session_id, a, "in", &now))
        .collect();
    organizer
        .post("/api/v1/checkins", &json!({"checkins": many}))
        .await
        .expect_error(422, "validation_failed");
    // Without a login: 401; with the cookie but no CSRF header: refused.
    let anon = client()
        .post(app.url("/api/v1/checkins"))
        .json(&json!({"checkins": [checkin("anon-000001", live.session_id, a, "in", &now)]}))
        .send()
        .await
        .unwrap();
    assert_eq!(anon.status(), 401);
    let browser = app.browser_login("organizer").await;
    let r = browser
        .api_post(
            "/api/v1/checkins",
            &json!({"checkins": [checkin("cookie-000001", live.session_id, a, "in", &now)]}),
            None,
        )
        .await;
    r.expect(403);
}

async fn r3_4_operator_form_without_javascript(app: TestApp) {
    let organizer = app.api_login("organizer").await;
    let live = live_session(&organizer).await;
    let browser = app.browser_login("organizer").await;
    let page = browser
        .get(&format!("/sessions/{}/checkin", live.session_id))
        .await;
    page.expect(200);
    let html = page.html();
    let seed = scrape_input_value(&html, "seed").expect("the form carries a check-in seed");
    let p = &live.participants[0];
    let pid = id(p);
    let mark = format!("in:{pid}");
    let path = format!("/sessions/{}/checkin", live.session_id);
    // Twice the same submit (a double click): one record.
    for _ in 0..2 {
        browser
            .post_form(&path, &[("seed", &seed), ("mark", &mark)])
            .await
            .expect_redirect(&path);
    }
    assert_eq!(count_checkins(&app, live.session_id).await, 1);
    let rows = sheet(&organizer, live.session_id).await;
    assert_eq!(rows[&pid]["status"], "present");
    let page = browser.get(&path).await.html();
    assert!(fold(&page).contains("vao "), "the row shows the time in");

    // A scanned card number checks in at once; a name becomes a search.
    let other = live
        .participants
        .iter()
        .skip(1)
        .find(|p| p["party_card_number"].is_string())
        .unwrap();
    let card = other["party_card_number"].as_str().unwrap();
    let fresh_seed = scrape_input_value(&browser.get(&path).await.html(), "seed").unwrap();
    browser
        .post_form(
            &path,
            &[("seed", &fresh_seed), ("code", card), ("direction", "in")],
        )
        .await
        .expect_redirect(&path);
    assert_eq!(count_checkins(&app, live.session_id).await, 2);
    let name = other["full_name"].as_str().unwrap();
    let given = name.rsplit(' ').next().unwrap();
    let to = browser
        .post_form(&path, &[("seed", &fresh_seed), ("code", &fold(given))])
        .await
        .expect_redirect(&path);
    let found = browser.get(&to).await.html();
    assert!(
        found.contains(name),
        "searching «{given}» without diacritics finds {name}"
    );
    // An unknown card number is said plainly and records nothing.
    browser
        .post_form(&path, &[("seed", &fresh_seed), ("code", "999999999999")])
        .await
        .expect_redirect(&path);
    assert_eq!(count_checkins(&app, live.session_id).await, 2);
    // Without the CSRF field: refused.
    let r = browser
        .post_raw(&path, form(&[("seed", &fresh_seed), ("mark", &mark)]))
        .await;
    r.expect(403);
    // A cell secretary (no right on the commune's class) cannot open the page.
    let secretary = app.browser_login("secretary").await;
    let status = secretary.get(&path).await.status;
    assert!(status == 403 || status == 404, "secretary got {status}");
}

async fn r3_4_qr_self_checkin(app: TestApp) {
    let organizer = app.api_login("organizer").await;
    let live = live_session(&organizer).await;
    let operator = app.browser_login("organizer").await;
    let screen = operator
        .get(&format!("/sessions/{}/qr", live.session_id))
        .await;
    screen.expect(200);
    assert_eq!(
        screen.headers.get("refresh").and_then(|v| v.to_str().ok()),
        Some("15"),
        "the QR screen renews itself without JavaScript"
    );
    let html = screen.html();
    assert!(html.contains("<svg"), "the server draws the QR code");
    let link = html
        .split("Đường dẫn của mã: ")
        .nth(1)
        .and_then(|s| s.split('<').next())
        .expect("the link is on the page");
    let path = link
        .find("/q/")
        .map(|i| unescape(&link[i..]))
        .expect("a /q/ link");

    // Not logged in: to the login page, coming back afterwards.
    let anon = app.anon_get(&path).await;
    let to = anon.expect_redirect("/login");
    assert!(to.contains("next="), "{to}");

    // The member is a participant of the class: checked in by opening the link.
    let member = app.browser_login("member").await;
    let me = app.api_login("member").await.get_ok("/api/v1/me").await;
    let person = me["person_id"].as_i64().expect("member has a person");
    let mine = live
        .participants
        .iter()
        .find(|p| p["person_id"] == person)
        .expect("the demo member is listed in the commune's class");
    // Issue 10.14: the scan lands on a page that asks to confirm; nothing is written by the GET.
    let page = member.get(&path).await;
    page.expect(200);
    assert!(
        fold(&page.html()).contains("xac nhan co mat"),
        "{}",
        short(&page.text)
    );
    assert_eq!(count_checkins(&app, live.session_id).await, 0);
    let page = member.post_form(&path, &[]).await;
    page.expect(200);
    assert!(fold(&page.html()).contains("da diem danh vao"));
    // Confirming the same code again counts once.
    member.post_form(&path, &[]).await.expect(200);
    assert_eq!(count_checkins(&app, live.session_id).await, 1);
    let rows = sheet(&organizer, live.session_id).await;
    assert_eq!(rows[&id(mine)]["status"], "present");
    assert!(rows[&id(mine)]["late_minutes"].as_i64().unwrap() >= 9);

    // A forged or altered signature is refused, and shows nothing of the session.
    let mut forged = path.clone();
    let last = forged.pop().unwrap();
    forged.push(if last == '0' { '1' } else { '0' });
    let r = member.get(&forged).await;
    r.expect(422);
    member.post_form(&forged, &[]).await.expect(422);
    assert!(fold(&r.html()).contains("het han"));
    assert!(
        !r.html().contains("Buổi điểm danh thử"),
        "no session detail without a valid code"
    );
    assert_eq!(count_checkins(&app, live.session_id).await, 1);
    // Someone who is not on the list (the admin has no person) is told so, and nothing is stored.
    let admin = app.browser_login("admin").await;
    let r = admin.get(&path).await;
    r.expect(403);
    assert!(
        !r.html().contains("Buổi điểm danh thử"),
        "no session detail to someone not listed"
    );
    assert_eq!(count_checkins(&app, live.session_id).await, 1);
}
