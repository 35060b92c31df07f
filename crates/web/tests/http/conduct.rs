//! Committee positions, presenters, working groups, conduct records, eligibility and ratings
//! (issue 15; R1.3, R2.8, R3.2, R3.6, R3.7), driven through the JSON API on the demo province:
//! a class led by people without a standing position carries a warning that follows the
//! committee's positions (R1.3); a classified resolution is presented only by a standing member
//! or an assigned presenter (R2.8); working groups of 2 or 3 propaganda or advisory staff
//! supervise and evaluate the classes of lower levels, the attendance rate taken from the class
//! (R3.2); conduct records stay in the recorder's scope, are never deleted and are withdrawn with
//! a reason, audited (R3.6); the cell's 10% boundary is exact in both directions and an excellent
//! rating the rules bar is refused with the reason, nothing written (R3.7); members and other
//! communes see nothing of it.

use std::collections::BTreeSet;

use chrono::{Datelike, Duration, NaiveDate};
use serde_json::{json, Value};

use crate::harness::*;

both_engines! {
    r1_3_positions_drive_the_lead_warning => r1_3_positions_drive_the_lead_warning_sqlite, r1_3_positions_drive_the_lead_warning_postgres;
    r2_8_classified_content_only_by_standing_members_or_presenters => r2_8_classified_content_only_by_standing_members_or_presenters_sqlite, r2_8_classified_content_only_by_standing_members_or_presenters_postgres;
    r3_2_working_groups_supervise_lower_classes => r3_2_working_groups_supervise_lower_classes_sqlite, r3_2_working_groups_supervise_lower_classes_postgres;
    r3_6_conduct_records_in_scope_kept_and_withdrawn => r3_6_conduct_records_in_scope_kept_and_withdrawn_sqlite, r3_6_conduct_records_in_scope_kept_and_withdrawn_postgres;
    r3_7_ten_percent_boundary_in_both_directions => r3_7_ten_percent_boundary_in_both_directions_sqlite, r3_7_ten_percent_boundary_in_both_directions_postgres;
    r3_7_ratings_follow_eligibility_and_write_nothing_when_refused => r3_7_ratings_follow_eligibility_and_write_nothing_when_refused_sqlite, r3_7_ratings_follow_eligibility_and_write_nothing_when_refused_postgres;
    r3_6_conduct_and_eligibility_stay_private => r3_6_conduct_and_eligibility_stay_private_sqlite, r3_6_conduct_and_eligibility_stay_private_postgres;
    r3_7_conduct_pages_work_without_script => r3_7_conduct_pages_work_without_script_sqlite, r3_7_conduct_pages_work_without_script_postgres;
    r3_7_marks_follow_a_member_who_moves => r3_7_marks_follow_a_member_who_moves_sqlite, r3_7_marks_follow_a_member_who_moves_postgres;
    r3_7_ratings_are_personal => r3_7_ratings_are_personal_sqlite, r3_7_ratings_are_personal_postgres;
    r3_2_a_groups_members_change_under_the_same_rules => r3_2_a_groups_members_change_under_the_same_rules_sqlite, r3_2_a_groups_members_change_under_the_same_rules_postgres;
}

// ---------------------------------------------------------------------------------------------
// Helpers

fn today() -> NaiveDate {
    store::plans::tasks::today()
}

fn year() -> i32 {
    today().year()
}

fn day(offset: i64) -> String {
    (today() + Duration::days(offset))
        .format("%d/%m/%Y")
        .to_string()
}

/// `SELECT COUNT(*) …` straight from the database (what is stored, not what a page shows).
async fn count(app: &TestApp, sql: &str) -> i64 {
    let (n,): (i64,) =
        store::db_run!(&app.db, p => sqlx::query_as(sql).fetch_one(p).await).expect(sql);
    n
}

/// Marks people as moved away (inactive members do not count in a cell's eligibility).
async fn set_status(app: &TestApp, people: &[i64], status: &str) {
    for p in people {
        let on = (status != "active").then(today);
        let n = store::db_exec!(&app.db, c => sqlx::query("UPDATE people SET status = $1, status_on = $2 WHERE id = $3")
            .bind(status).bind(on).bind(*p).execute(c).await)
        .expect("status update");
        assert_eq!(n, 1, "person {p}");
    }
}

async fn me_person(api: &Api) -> i64 {
    api.get_ok("/api/v1/me").await["person_id"]
        .as_i64()
        .expect("the account's person")
}

fn grant_org(api: &Api) -> i64 {
    api.login["account"]["grants"][0]["org_id"]
        .as_i64()
        .expect("the account's first grant")
}

/// The organizer's commune, its cells, and the secretary's cell (the first).
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

/// The person whose `positions` text is exactly `pos`.
#[track_caller]
fn holder(people: &[Value], pos: &str) -> i64 {
    people
        .iter()
        .find(|p| p["positions"] == pos)
        .map(id)
        .unwrap_or_else(|| panic!("nobody holds {pos:?}"))
}

/// The lead warnings (R1.3) among a class detail's warnings.
fn lead_warnings(detail: &Value) -> Vec<String> {
    detail["warnings"]
        .as_array()
        .expect("warnings")
        .iter()
        .filter_map(Value::as_str)
        .filter(|w| {
            w.contains("chủ trì")
                || w.contains("khai mạc")
                || w.contains("bế mạc")
                || w.contains("trọng tâm")
                || w.contains("người trình bày")
        })
        .map(str::to_string)
        .collect()
}

fn reason_for(kind: &str) -> &'static str {
    match kind {
        "commendation" => "Chuẩn bị bài thu hoạch tốt, phát biểu thảo luận sâu.",
        "reminder" => "Sử dụng điện thoại trong giờ học.",
        "criticism" => "Vắng hai buổi học không báo cáo chi bộ.",
        "review_proposal" => "Vắng không có lý do.",
        _ => "Vi phạm nội quy lớp học nhiều lần.",
    }
}

/// Records `kind` for `people` (optionally at a class); the new record ids.
async fn record(api: &Api, kind: &str, people: &[i64], class: Option<i64>) -> Vec<i64> {
    let mut body = json!({"kind": kind, "occurred_on": day(0), "reason": reason_for(kind), "person_ids": people});
    if let Some(c) = class {
        body["class_id"] = json!(c);
    }
    let v = api.post_ok("/api/v1/conduct", &body, 201).await;
    let ids: Vec<i64> = v["ids"]
        .as_array()
        .unwrap_or_else(|| panic!("no ids in {v}"))
        .iter()
        .map(|i| i.as_i64().expect("id"))
        .collect();
    assert_eq!(ids.len(), people.len(), "one record per person: {v}");
    ids
}

/// The eligibility report of `org` for this year.
async fn report(api: &Api, org: i64) -> Value {
    api.get_ok(&format!("/api/v1/orgs/{org}/eligibility?year={}", year()))
        .await
}

/// The row of `cell` in the eligibility report of `org`.
async fn cell_row(api: &Api, org: i64, cell: i64) -> Value {
    let r = report(api, org).await;
    r["cells"]
        .as_array()
        .expect("cells")
        .iter()
        .find(|c| c["org_id"] == cell)
        .cloned()
        .unwrap_or_else(|| panic!("no cell {cell} in {r}"))
}

/// Every member row of the eligibility report of `org` (all pages).
async fn members_of(api: &Api, org: i64) -> Vec<Value> {
    let mut out = Vec::new();
    let mut after: Option<i64> = None;
    loop {
        let path = match after {
            Some(a) => format!(
                "/api/v1/orgs/{org}/eligibility/members?year={}&after={a}",
                year()
            ),
            None => format!("/api/v1/orgs/{org}/eligibility/members?year={}", year()),
        };
        let v = api.get_ok(&path).await;
        out.extend(items(&v));
        match v["next_after"].as_i64() {
            Some(a) => after = Some(a),
            None => break,
        }
        assert!(out.len() < 10_000, "runaway paging on {path}");
    }
    out
}

#[track_caller]
fn member_row(rows: &[Value], person: i64) -> Value {
    rows.iter()
        .find(|m| m["person_id"] == person)
        .cloned()
        .unwrap_or_else(|| panic!("person {person} not among {rows:?}"))
}

/// (members, flagged, eligible) of a cell row.
fn shape(row: &Value) -> (i64, i64, bool) {
    (
        row["members"].as_i64().expect("members"),
        row["flagged"].as_i64().expect("flagged"),
        row["eligible"].as_bool().expect("eligible"),
    )
}

fn reason_ids(row: &Value) -> Vec<i64> {
    row["reasons"]
        .as_array()
        .expect("reasons")
        .iter()
        .map(|r| r["record_id"].as_i64().expect("record_id"))
        .collect()
}

// ---------------------------------------------------------------------------------------------
// R1.3

async fn r1_3_positions_drive_the_lead_warning(app: TestApp) {
    let admin = app.api_login("admin").await;
    let organizer = app.api_login("organizer").await;
    let member = app.api_login("member").await;
    let (province, children) = province_tree(&admin).await;
    let (commune, _) = commune_and_cells(&organizer).await;
    let plain = me_person(&member).await;
    let stranger = id(&admin
        .all_people(Some(org_named(&children, FOURTH_COMMUNE)))
        .await[0]);

    // A plain member holds no position yet.
    assert_eq!(
        organizer
            .get_ok(&format!("/api/v1/people/{plain}/positions"))
            .await,
        json!([])
    );

    // A class of the commune chaired by that member carries the warning (R1.3).
    let campaign = items(&organizer.get_ok("/api/v1/campaigns").await)
        .into_iter()
        .find(|c| c["org_id"] == commune)
        .map(|c| id(&c))
        .expect("the commune's campaign");
    let class_body = |opening: Option<i64>, closing: Option<i64>| {
        json!({"title": "Hội nghị chuyên đề học tập và làm theo tư tưởng, đạo đức, phong cách Hồ Chí Minh",
               "org_id": commune, "form": "in_person", "audience_tier": "grassroots",
               "venue_name": "Hội trường Đảng ủy", "venue_capacity": 200,
               "chair_person_id": plain, "opening_speaker_id": opening, "closing_speaker_id": closing})
    };
    let class = organizer
        .post_ok(
            &format!("/api/v1/campaigns/{campaign}/classes"),
            &class_body(None, None),
            201,
        )
        .await;
    let cid = id(&class);
    assert_eq!(class["lead_warning"], true, "{class}");
    let cpath = format!("/api/v1/classes/{cid}");
    let d = organizer.get_ok(&cpath).await;
    assert_eq!(d["class"]["lead_warning"], true);
    assert!(
        lead_warnings(&d).iter().any(|w| w.contains("chủ trì")),
        "a warning about the chair: {:?}",
        d["warnings"]
    );

    // The organizer gives the member a standing position in the commune's committee: the chair's
    // warning goes at once (the committee's change refreshes its planned classes).
    let positions_before = count(&app, "SELECT COUNT(*) FROM committee_positions").await;
    let pos = organizer
        .post_ok(
            &format!("/api/v1/people/{plain}/positions"),
            &json!({"org_id": commune, "role": "standing_member"}),
            201,
        )
        .await;
    let pos_id = id(&pos);
    assert_eq!(pos["person_id"], plain);
    assert_eq!(pos["org_id"], commune);
    assert_eq!(pos["role"], "standing_member");
    assert!(pos["ended_on"].is_null(), "{pos}");
    let d = organizer.get_ok(&cpath).await;
    assert!(
        !lead_warnings(&d).iter().any(|w| w.contains("chủ trì")),
        "the chair now leads: {:?}",
        d["warnings"]
    );
    assert_eq!(
        d["class"]["lead_warning"], true,
        "no opening, closing or key session yet"
    );

    // Duplicate → 409, nothing written.
    organizer
        .post(
            &format!("/api/v1/people/{plain}/positions"),
            &json!({"org_id": commune, "role": "standing_member"}),
        )
        .await
        .expect_error(409, "conflict");
    // An unknown role is refused.
    organizer
        .post(
            &format!("/api/v1/people/{plain}/positions"),
            &json!({"org_id": commune, "role": "chairman"}),
        )
        .await
        .expect_error(422, "position_role");
    // A person outside the commune's subtree: refused to the admin who sees them, invisible to
    // the organizer.
    admin
        .post(
            &format!("/api/v1/people/{stranger}/positions"),
            &json!({"org_id": commune, "role": "standing_member"}),
        )
        .await
        .expect_error(422, "person_outside_org");
    organizer
        .post(
            &format!("/api/v1/people/{stranger}/positions"),
            &json!({"org_id": commune, "role": "standing_member"}),
        )
        .await
        .expect_error(404, "not_found");
    // The organizer cannot give a position in the province's committee.
    let r = organizer
        .post(
            &format!("/api/v1/people/{plain}/positions"),
            &json!({"org_id": province, "role": "standing_member"}),
        )
        .await;
    assert!(
        matches!(r.status.as_u16(), 403 | 404),
        "a province position by the commune's organizer: {r:?}"
    );
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM committee_positions").await,
        positions_before + 1,
        "only the one position written"
    );

    // Opening and closing by the same member, and a key-content session presented by them:
    // no lead warning left.
    let s = organizer
        .post_ok(
            &format!("{cpath}/sessions"),
            &json!({"date": day(5), "start_time": "07:30", "duration_minutes": 120,
                    "topic": "Chuyên đề trọng tâm năm 2026", "is_discussion": false,
                    "presenter_person_id": plain, "key_content": true}),
            201,
        )
        .await;
    assert_eq!(s["presenter_person_id"], plain, "{s}");
    assert_eq!(s["key_content"], true, "{s}");
    let mut upd = class_body(Some(plain), Some(plain));
    upd["reason"] = json!("");
    let c = organizer.put(&cpath, &upd).await.expect(200).json();
    assert_eq!(c["opening_speaker_id"], plain);
    assert_eq!(c["closing_speaker_id"], plain);
    let d = organizer.get_ok(&cpath).await;
    assert_eq!(
        d["class"]["lead_warning"], false,
        "led by a standing member: {d}"
    );
    assert_eq!(lead_warnings(&d), Vec::<String>::new());
    let session = d["sessions"]
        .as_array()
        .expect("sessions")
        .iter()
        .find(|x| id(x) == id(&s))
        .cloned()
        .expect("the session");
    assert_eq!(session["presenter_person_id"], plain);
    assert!(session["presenter_name"].as_str().unwrap_or("").len() > 2);

    // Ending the position brings the warning back; the position is kept with its end date.
    organizer
        .post(
            &format!("/api/v1/positions/{pos_id}/end"),
            &json!({"ended_on": day(0)}),
        )
        .await
        .expect(204);
    let d = organizer.get_ok(&cpath).await;
    assert_eq!(d["class"]["lead_warning"], true, "{d}");
    let w = lead_warnings(&d);
    for part in ["chủ trì", "khai mạc", "bế mạc", "trọng tâm"] {
        assert!(w.iter().any(|x| x.contains(part)), "{part} in {w:?}");
    }
    let held = organizer
        .get_ok(&format!("/api/v1/people/{plain}/positions"))
        .await;
    let held = items(&held);
    assert_eq!(held.len(), 1, "{held:?}");
    assert_eq!(held[0]["ended_on"], today().format("%Y-%m-%d").to_string());
    organizer
        .post(
            &format!("/api/v1/positions/{pos_id}/end"),
            &json!({"ended_on": day(0)}),
        )
        .await
        .expect_error(422, "position_ended");
    // The dashboard's warned classes are the indexed flag: it is stored.
    let (flag,): (bool,) = store::db_run!(&app.db, p => sqlx::query_as("SELECT lead_warning FROM classes WHERE id = $1")
        .bind(cid).fetch_one(p).await)
    .unwrap();
    assert!(flag);
    // Once ended, the same position may be given again.
    organizer
        .post_ok(
            &format!("/api/v1/people/{plain}/positions"),
            &json!({"org_id": commune, "role": "standing_member"}),
            201,
        )
        .await;
    let d = organizer.get_ok(&cpath).await;
    assert_eq!(d["class"]["lead_warning"], false, "{d}");
    // A province position cannot be ended by the commune's organizer.
    let head = me_person(&admin).await;
    let province_pos = items(
        &admin
            .get_ok(&format!("/api/v1/people/{head}/positions"))
            .await,
    );
    assert!(province_pos.len() >= 3, "{province_pos:?}");
    let r = organizer
        .post(
            &format!("/api/v1/positions/{}/end", id(&province_pos[0])),
            &json!({"ended_on": day(0)}),
        )
        .await;
    assert!(matches!(r.status.as_u16(), 403 | 404), "{r:?}");
    let after = items(
        &admin
            .get_ok(&format!("/api/v1/people/{head}/positions"))
            .await,
    );
    assert!(after.iter().all(|p| p["ended_on"].is_null()), "{after:?}");
}

// ---------------------------------------------------------------------------------------------
// R2.8

async fn r2_8_classified_content_only_by_standing_members_or_presenters(app: TestApp) {
    let admin = app.api_login("admin").await;
    let organizer = app.api_login("organizer").await;
    let member = app.api_login("member").await;
    let (province, _) = province_tree(&admin).await;
    let head = me_person(&admin).await;
    let plain = me_person(&member).await;
    let people = admin.all_people(Some(province)).await;
    let secretary_of_province = holder(&people, "Bí thư Tỉnh ủy");
    let propaganda_deputy = holder(&people, "Phó Trưởng Ban Tuyên giáo và Dân vận Tỉnh ủy");
    let plain_name = people
        .iter()
        .find(|p| id(p) == plain)
        .map(|p| p["full_name"].as_str().unwrap_or("").to_string())
        .expect("the member's name");

    let res = admin
        .post_ok(
            "/api/v1/resolutions",
            &json!({"owner_org_id": province, "kind": "resolution", "number": "11-NQ/TU",
                    "title": "Nghị quyết về bảo vệ bí mật nhà nước trong tình hình mới",
                    "issuing_body": "Tỉnh ủy", "released_on": day(-20), "classification": "confidential"}),
            201,
        )
        .await;
    let campaign = admin
        .post_ok(
            "/api/v1/campaigns",
            &json!({"name": "Quán triệt Nghị quyết 11-NQ/TU", "org_id": province,
                    "leader_person_id": secretary_of_province, "starts_on": day(-1), "ends_on": day(60),
                    "resolution_ids": [id(&res)]}),
            201,
        )
        .await;
    let class = admin
        .post_ok(
            &format!("/api/v1/campaigns/{}/classes", id(&campaign)),
            &json!({"title": "Hội nghị quán triệt Nghị quyết 11-NQ/TU cho cán bộ chủ chốt", "org_id": province,
                    "form": "in_person", "audience_tier": "key_cadres", "venue_name": "Hội trường Tỉnh ủy",
                    "venue_capacity": 300}),
            201,
        )
        .await;
    let cpath = format!("/api/v1/classes/{}", id(&class));
    let session = admin
        .post_ok(
            &format!("{cpath}/sessions"),
            &json!({"date": day(10), "start_time": "08:00", "duration_minutes": 120,
                    "topic": "Nội dung cơ bản của Nghị quyết"}),
            201,
        )
        .await;
    let sid = id(&session);
    let d = admin.get_ok(&cpath).await;
    assert!(
        lead_warnings(&d)
            .iter()
            .any(|w| w.contains("chưa ghi người trình bày")),
        "a classified session without a presenter is flagged: {:?}",
        d["warnings"]
    );

    let presenter_of = |d: &Value| {
        d["sessions"]
            .as_array()
            .expect("sessions")
            .iter()
            .find(|s| id(s) == sid)
            .map(|s| (s["presenter_person_id"].clone(), s["key_content"].clone()))
            .expect("the session")
    };
    // A plain member: refused, with their name; the session keeps no presenter.
    let e = admin
        .put(
            &format!("/api/v1/sessions/{sid}/presenter"),
            &json!({"presenter_person_id": plain, "key_content": true}),
        )
        .await
        .expect_error(422, "presenter_not_allowed");
    assert!(
        e["message"].as_str().unwrap_or("").contains(&plain_name),
        "{e}"
    );
    assert_eq!(
        presenter_of(&admin.get_ok(&cpath).await),
        (Value::Null, json!(false))
    );
    // Propaganda staff without the presenter assignment: refused too.
    admin
        .put(
            &format!("/api/v1/sessions/{sid}/presenter"),
            &json!({"presenter_person_id": propaganda_deputy, "key_content": true}),
        )
        .await
        .expect_error(422, "presenter_not_allowed");
    // A new session presented by the plain member is refused as well, and not added.
    admin
        .post(
            &format!("{cpath}/sessions"),
            &json!({"date": day(11), "start_time": "08:00", "duration_minutes": 90,
                    "topic": "Thảo luận", "is_discussion": true, "presenter_person_id": plain}),
        )
        .await
        .expect_error(422, "presenter_not_allowed");
    assert_eq!(
        admin.get_ok(&cpath).await["sessions"]
            .as_array()
            .expect("sessions")
            .len(),
        1
    );
    // The propaganda head holds `presenter` (and is a standing member): accepted.
    admin
        .put(
            &format!("/api/v1/sessions/{sid}/presenter"),
            &json!({"presenter_person_id": head, "key_content": true}),
        )
        .await
        .expect(204);
    let d = admin.get_ok(&cpath).await;
    assert_eq!(presenter_of(&d), (json!(head), json!(true)));
    assert!(
        !lead_warnings(&d)
            .iter()
            .any(|w| w.contains("chưa ghi người trình bày")),
        "{:?}",
        d["warnings"]
    );

    // At a class of the commune on the same resolution: a presenter assigned by the province
    // (above) may present, so may the commune's own standing members; the province's secretary,
    // a leading member of another committee and no presenter, may not.
    let (commune, _) = commune_and_cells(&organizer).await;
    let commune_secretary = organizer
        .all_people(Some(commune))
        .await
        .iter()
        .find(|p| p["positions"] == "Bí thư Đảng ủy")
        .map(id)
        .expect("the commune's secretary");
    let campaign2 = admin
        .post_ok(
            "/api/v1/campaigns",
            &json!({"name": "Quán triệt Nghị quyết 11-NQ/TU ở phường", "org_id": commune,
                    "leader_person_id": commune_secretary, "starts_on": day(-1), "ends_on": day(60),
                    "resolution_ids": [id(&res)]}),
            201,
        )
        .await;
    let class2 = admin
        .post_ok(
            &format!("/api/v1/campaigns/{}/classes", id(&campaign2)),
            &json!({"title": "Hội nghị quán triệt Nghị quyết 11-NQ/TU tại phường", "org_id": commune,
                    "form": "in_person", "audience_tier": "key_cadres", "venue_name": "Hội trường phường",
                    "venue_capacity": 80}),
            201,
        )
        .await;
    let s2 = admin
        .post_ok(
            &format!("/api/v1/classes/{}/sessions", id(&class2)),
            &json!({"date": day(12), "start_time": "08:00", "duration_minutes": 120,
                    "topic": "Nội dung cơ bản của Nghị quyết"}),
            201,
        )
        .await;
    let s2path = format!("/api/v1/sessions/{}/presenter", id(&s2));
    admin
        .put(
            &s2path,
            &json!({"presenter_person_id": secretary_of_province, "key_content": true}),
        )
        .await
        .expect_error(422, "presenter_not_allowed");
    for allowed in [head, commune_secretary] {
        admin
            .put(
                &s2path,
                &json!({"presenter_person_id": allowed, "key_content": true}),
            )
            .await
            .expect(204);
        let d = admin
            .get_ok(&format!("/api/v1/classes/{}", id(&class2)))
            .await;
        assert_eq!(d["sessions"][0]["presenter_person_id"], allowed, "{d}");
    }

    // A public class takes any presenter the planner sees: the commune's running class.
    let local = items(&organizer.get_ok("/api/v1/classes").await)
        .into_iter()
        .find(|c| c["title"].as_str().unwrap_or("").contains("08-CT/TU"))
        .expect("the commune's class");
    let ld = organizer
        .get_ok(&format!("/api/v1/classes/{}", id(&local)))
        .await;
    let ahead = ld["sessions"]
        .as_array()
        .expect("sessions")
        .last()
        .cloned()
        .expect("a session ahead");
    organizer
        .put(
            &format!("/api/v1/sessions/{}/presenter", id(&ahead)),
            &json!({"presenter_person_id": plain, "key_content": false}),
        )
        .await
        .expect(204);
    let ld = organizer
        .get_ok(&format!("/api/v1/classes/{}", id(&local)))
        .await;
    assert!(ld["sessions"]
        .as_array()
        .expect("sessions")
        .iter()
        .any(|s| id(s) == id(&ahead) && s["presenter_person_id"] == plain));
}

// ---------------------------------------------------------------------------------------------
// R3.2

/// The class's attendance rate computed from its sheets: present marks of the sessions held
/// so far over participants × those sessions (floor).
async fn attendance_rate(api: &Api, class_id: i64) -> Option<i64> {
    let d = api.get_ok(&format!("/api/v1/classes/{class_id}")).await;
    let participants = d["class"]["participant_count"]
        .as_i64()
        .expect("participant_count");
    let now = chrono::Utc::now();
    let (mut held, mut present) = (0i64, 0i64);
    for s in d["sessions"].as_array().expect("sessions") {
        let at = chrono::DateTime::parse_from_rfc3339(s["starts_at"].as_str().expect("starts_at"))
            .expect("rfc3339");
        if at > now {
            continue;
        }
        held += 1;
        let sheet = items(
            &api.get_ok(&format!("/api/v1/sessions/{}/attendance?limit=5000", id(s)))
                .await,
        );
        assert_eq!(sheet.len() as i64, participants, "one line per participant");
        present += sheet.iter().filter(|r| r["status"] == "present").count() as i64;
    }
    let expected = participants * held;
    (expected > 0).then(|| (present * 100 / expected).min(100))
}

async fn r3_2_working_groups_supervise_lower_classes(app: TestApp) {
    let admin = app.api_login("admin").await;
    let organizer = app.api_login("organizer").await;
    let secretary = app.api_login("secretary").await;
    let (province, _) = province_tree(&admin).await;
    let (commune, _) = commune_and_cells(&organizer).await;
    let head = me_person(&admin).await;
    let people = admin.all_people(Some(province)).await;
    let prov_secretary = holder(&people, "Bí thư Tỉnh ủy");
    let prov_deputy = holder(&people, "Phó Bí thư Thường trực Tỉnh ủy");
    let chairman = holder(&people, "Phó Bí thư Tỉnh ủy, Chủ tịch UBND tỉnh");
    let prop_deputy = holder(&people, "Phó Trưởng Ban Tuyên giáo và Dân vận Tỉnh ủy");
    let classes = items(&admin.get_ok("/api/v1/classes").await);
    let province_class = classes
        .iter()
        .find(|c| c["org_id"] == province)
        .map(id)
        .expect("a class of the province");
    let commune_class = classes
        .iter()
        .find(|c| c["org_id"] == commune && c["title"].as_str().unwrap_or("").contains("08-CT/TU"))
        .map(id)
        .expect("the commune's class");

    let groups = "SELECT COUNT(*) FROM working_groups";
    let before = count(&app, groups).await;
    let body = |members: Vec<i64>, lead: i64| {
        json!({"org_id": province, "name": "Tổ công tác số 2 – giám sát học tập nghị quyết",
               "member_ids": members, "lead_id": lead})
    };
    // 1 or 4 members: the size rule on the field.
    for members in [
        vec![head],
        vec![head, prop_deputy, chairman, prov_secretary],
    ] {
        let e = admin
            .post("/api/v1/working-groups", &body(members.clone(), head))
            .await
            .expect_error(422, "validation_failed");
        assert!(e["fields"]["member_ids"].is_string(), "{members:?}: {e}");
    }
    // The lead must be a member.
    let e = admin
        .post(
            "/api/v1/working-groups",
            &body(vec![head, prop_deputy], chairman),
        )
        .await
        .expect_error(422, "validation_failed");
    assert!(e["fields"]["lead_id"].is_string(), "{e}");
    // Two people holding no propaganda or advisory position; one staff and one not.
    admin
        .post(
            "/api/v1/working-groups",
            &body(vec![prov_secretary, prov_deputy], prov_secretary),
        )
        .await
        .expect_error(422, "member_not_staff");
    admin
        .post("/api/v1/working-groups", &body(vec![head, chairman], head))
        .await
        .expect_error(422, "member_not_staff");
    // The commune's organizer cannot form a group of the province.
    let r = organizer
        .post(
            "/api/v1/working-groups",
            &body(vec![head, prop_deputy], head),
        )
        .await;
    assert!(matches!(r.status.as_u16(), 403 | 404), "{r:?}");
    assert_eq!(count(&app, groups).await, before, "no group written");

    // Once the chairman is advisory staff of the province, a group of three forms.
    admin
        .post_ok(
            &format!("/api/v1/people/{chairman}/positions"),
            &json!({"org_id": province, "role": "advisory_staff"}),
            201,
        )
        .await;
    let g = admin
        .post_ok(
            "/api/v1/working-groups",
            &body(vec![head, prop_deputy, chairman], head),
            201,
        )
        .await;
    assert_eq!(count(&app, groups).await, before + 1);
    let gid = id(&g["group"]);
    assert_eq!(g["group"]["org_id"], province);
    assert_eq!(g["group"]["assignment_count"], 0);
    let members = g["members"].as_array().expect("members");
    assert_eq!(members.len(), 3, "{g}");
    let leads: Vec<i64> = members
        .iter()
        .filter(|m| m["leads"] == true)
        .map(|m| m["person_id"].as_i64().unwrap())
        .collect();
    assert_eq!(leads, vec![head]);
    let mine: BTreeSet<i64> = members
        .iter()
        .map(|m| m["person_id"].as_i64().unwrap())
        .collect();
    assert_eq!(mine, BTreeSet::from([head, prop_deputy, chairman]));

    // Assignments: only classes strictly below the province; once per class.
    let gpath = format!("/api/v1/working-groups/{gid}");
    admin
        .post(
            &format!("{gpath}/assignments"),
            &json!({"class_id": province_class, "due_on": day(7)}),
        )
        .await
        .expect_error(422, "class_outside_group");
    let s = admin
        .post_ok(
            &format!("{gpath}/assignments"),
            &json!({"class_id": commune_class, "due_on": day(7)}),
            201,
        )
        .await;
    let sid = id(&s);
    assert_eq!(s["class_id"], commune_class);
    assert_eq!(s["org_id"], commune);
    assert!(s["evaluated_at"].is_null() && s["grade"].is_null(), "{s}");
    admin
        .post(
            &format!("{gpath}/assignments"),
            &json!({"class_id": commune_class, "due_on": day(9)}),
        )
        .await
        .expect_error(409, "conflict");
    let d = admin.get_ok(&gpath).await;
    assert_eq!(d["group"]["assignment_count"], 1, "{d}");
    assert_eq!(d["assignments"].as_array().expect("assignments").len(), 1);

    // Evaluations: not for a class the group was not assigned.
    let evaluation = json!({"chair_present": true, "standing_opened": true, "standing_closed": true,
        "discussion_minutes": 45, "materials_fit": true, "grade": "good",
        "remarks": "Hội nghị nghiêm túc, thảo luận sôi nổi.",
        "surveyed": 30, "understood_well": 20, "understood_partly": 8, "understood_poorly": 2});
    admin
        .put(
            &format!("{gpath}/classes/{province_class}/evaluation"),
            &evaluation,
        )
        .await
        .expect_error(422, "not_assigned");
    // A survey whose parts exceed the sheets collected.
    let mut bad = evaluation.clone();
    bad["surveyed"] = json!(10);
    bad["understood_well"] = json!(8);
    bad["understood_partly"] = json!(3);
    bad["understood_poorly"] = json!(0);
    let e = admin
        .put(&format!("{gpath}/classes/{commune_class}/evaluation"), &bad)
        .await
        .expect_error(422, "validation_failed");
    assert!(
        e["fields"].as_object().is_some_and(|f| !f.is_empty()),
        "{e}"
    );
    let d = admin.get_ok(&gpath).await;
    assert!(d["assignments"][0]["evaluated_at"].is_null(), "{d}");
    assert_eq!(d["group"]["evaluated_count"], 0);

    // The evaluation: the attendance rate comes from the class, not from the body.
    let rate = attendance_rate(&admin, commune_class)
        .await
        .expect("the class has held sessions");
    let v = admin
        .put(
            &format!("{gpath}/classes/{commune_class}/evaluation"),
            &evaluation,
        )
        .await
        .expect(200)
        .json();
    assert_eq!(id(&v), sid);
    assert_eq!(v["attendance_percent"], rate, "{v}");
    assert_eq!(v["grade"], "good");
    assert_eq!(v["discussion_minutes"], 45);
    assert_eq!(
        (
            v["surveyed"].clone(),
            v["understood_well"].clone(),
            v["understood_partly"].clone(),
            v["understood_poorly"].clone()
        ),
        (json!(30), json!(20), json!(8), json!(2))
    );
    assert!(v["evaluated_at"].is_string());
    let d = admin.get_ok(&gpath).await;
    assert_eq!(d["group"]["evaluated_count"], 1, "{d}");

    // More people present: a corrected evaluation takes the new rate, still counted once.
    let held = admin
        .get_ok(&format!("/api/v1/classes/{commune_class}"))
        .await["sessions"][0]
        .clone();
    let sheet = items(
        &admin
            .get_ok(&format!(
                "/api/v1/sessions/{}/attendance?limit=5000",
                id(&held)
            ))
            .await,
    );
    let marks: Vec<Value> = sheet
        .iter()
        .filter(|r| r["status"] != "present")
        .map(|r| json!({"participant_id": r["participant_id"], "status": "present"}))
        .collect();
    assert!(!marks.is_empty(), "someone was not present");
    admin
        .put(
            &format!("/api/v1/sessions/{}/attendance", id(&held)),
            &json!({"marks": marks}),
        )
        .await
        .expect(200);
    let rate2 = attendance_rate(&admin, commune_class).await.expect("rate");
    assert!(rate2 > rate, "{rate2} > {rate}");
    let mut fair = evaluation.clone();
    fair["grade"] = json!("fair");
    let v = admin
        .put(
            &format!("{gpath}/classes/{commune_class}/evaluation"),
            &fair,
        )
        .await
        .expect(200)
        .json();
    assert_eq!(v["attendance_percent"], rate2, "{v}");
    assert_eq!(v["grade"], "fair");
    let d = admin.get_ok(&gpath).await;
    assert_eq!(d["group"]["evaluated_count"], 1, "a correction: {d}");

    // The cell's secretary is neither in the group nor an organizer of the province.
    let before_sup = d["assignments"][0].clone();
    let r = secretary
        .put(
            &format!("{gpath}/classes/{commune_class}/evaluation"),
            &evaluation,
        )
        .await;
    assert!(matches!(r.status.as_u16(), 403 | 404), "{r:?}");
    let d = admin.get_ok(&gpath).await;
    assert_eq!(d["assignments"][0], before_sup, "nothing changed");

    // The commune's supervised classes and their grades: the demo group's and this one.
    let sup = items(
        &organizer
            .get_ok(&format!("/api/v1/orgs/{commune}/supervisions"))
            .await,
    );
    let ours = sup
        .iter()
        .find(|s| id(s) == sid)
        .unwrap_or_else(|| panic!("the supervision in {sup:?}"));
    assert_eq!(ours["grade"], "fair");
    assert_eq!(ours["group_id"], gid);
    assert_eq!(ours["class_id"], commune_class);
    assert!(
        sup.iter()
            .any(|s| id(s) != sid && s["grade"] == "fair" && s["class_id"] == commune_class),
        "the demo's evaluation: {sup:?}"
    );
    // Another commune supervises nothing.
    let (_, children) = province_tree(&admin).await;
    let other = org_named(&children, FOURTH_COMMUNE);
    assert!(items(
        &admin
            .get_ok(&format!("/api/v1/orgs/{other}/supervisions"))
            .await
    )
    .is_empty());
    // Audited.
    let log = admin
        .get_ok("/api/v1/admin/audit?entity=supervision&action=evaluate&per_page=500")
        .await;
    assert_eq!(
        items(&log).iter().filter(|e| e["entity_id"] == sid).count(),
        2,
        "{log}"
    );
}

// ---------------------------------------------------------------------------------------------
// R3.6

async fn r3_6_conduct_records_in_scope_kept_and_withdrawn(app: TestApp) {
    let admin = app.api_login("admin").await;
    let organizer = app.api_login("organizer").await;
    let secretary = app.api_login("secretary").await;
    let member = app.api_login("member").await;
    let (commune, cells) = commune_and_cells(&organizer).await;
    let cell = grant_org(&secretary);
    let other_cell = *cells.iter().find(|c| **c != cell).expect("a second cell");
    let me = me_person(&member).await;
    let sec_person = me_person(&secretary).await;
    let own_people = secretary.all_people(Some(cell)).await;
    let target = own_people
        .iter()
        .map(id)
        .find(|p| *p != me && *p != sec_person)
        .expect("a member of the cell");
    let stranger = id(&organizer.all_people(Some(other_cell)).await[0]);
    let records = "SELECT COUNT(*) FROM conduct_records";

    // The secretary records a reminder for a member of the cell.
    let ids = record(&secretary, "reminder", &[target], None).await;
    let rid = ids[0];
    let r = secretary.get_ok(&format!("/api/v1/conduct/{rid}")).await;
    assert_eq!(r["person_id"], target);
    assert_eq!(r["org_id"], cell);
    assert_eq!(r["kind"], "reminder");
    assert_eq!(r["year"], i64::from(year()));
    assert_eq!(r["occurred_on"], today().format("%Y-%m-%d").to_string());
    assert_eq!(r["reason"], reason_for("reminder"));
    assert_eq!(r["recorded_by_name"], "Bí thư chi bộ");
    assert!(
        r["withdrawn_at"].is_null() && r["class_id"].is_null(),
        "{r}"
    );

    // Outside the cell: refused; a batch mixing both writes nothing.
    let n = count(&app, records).await;
    let body = |people: Vec<i64>| json!({"kind": "reminder", "occurred_on": day(0), "reason": "Đi muộn", "person_ids": people});
    secretary
        .post("/api/v1/conduct", &body(vec![stranger]))
        .await
        .expect_error(422, "person_outside");
    secretary
        .post("/api/v1/conduct", &body(vec![target, stranger]))
        .await
        .expect_error(422, "person_outside");
    // A future date, an unknown kind, no one.
    let mut future = body(vec![target]);
    future["occurred_on"] = json!(day(1));
    let e = secretary
        .post("/api/v1/conduct", &future)
        .await
        .expect_error(422, "validation_failed");
    assert!(e["fields"]["occurred_on"].is_string(), "{e}");
    let mut odd = body(vec![]);
    odd["kind"] = json!("praise");
    let e = secretary
        .post("/api/v1/conduct", &odd)
        .await
        .expect_error(422, "validation_failed");
    assert!(
        e["fields"]["kind"].is_string() && e["fields"]["person_ids"].is_string(),
        "{e}"
    );
    // A member moved away is no longer recorded.
    let moved = own_people
        .iter()
        .map(id)
        .rev()
        .find(|p| *p != me && *p != target && *p != sec_person)
        .expect("a third member");
    set_status(&app, &[moved], "moved").await;
    secretary
        .post("/api/v1/conduct", &body(vec![target, moved]))
        .await
        .expect_error(422, "person_not_active");
    assert_eq!(count(&app, records).await, n, "nothing written");

    // At the commune's class: every person must be on its list.
    let class = items(&organizer.get_ok("/api/v1/classes").await)
        .into_iter()
        .find(|c| c["org_id"] == commune && c["title"].as_str().unwrap_or("").contains("08-CT/TU"))
        .map(|c| id(&c))
        .expect("the commune's class");
    let listed: BTreeSet<i64> = items(
        &organizer
            .get_ok(&format!("/api/v1/classes/{class}/participants?limit=5000"))
            .await,
    )
    .iter()
    .map(|p| p["person_id"].as_i64().expect("person_id"))
    .collect();
    let unlisted = organizer
        .all_people(Some(commune))
        .await
        .into_iter()
        .find(|p| p["status"] == "active" && !listed.contains(&id(p)))
        .map(|p| id(&p))
        .expect("a commune member not on the class's list (exempt)");
    let on_list = *listed.iter().find(|p| **p != moved).expect("a participant");
    let mut at_class = body(vec![on_list, unlisted]);
    at_class["class_id"] = json!(class);
    organizer
        .post("/api/v1/conduct", &at_class)
        .await
        .expect_error(422, "not_participant");
    assert_eq!(count(&app, records).await, n, "nothing written");
    let class_records = |v: &Value| items(v).len();
    let before = class_records(
        &organizer
            .get_ok(&format!("/api/v1/classes/{class}/conduct"))
            .await,
    );
    let at = record(&organizer, "commendation", &[on_list], Some(class)).await;
    let page = organizer
        .get_ok(&format!("/api/v1/classes/{class}/conduct"))
        .await;
    assert_eq!(class_records(&page), before + 1);
    let row = items(&page)
        .into_iter()
        .find(|r| id(r) == at[0])
        .expect("the class's new record");
    assert_eq!(row["class_id"], class);
    assert!(row["class_title"]
        .as_str()
        .unwrap_or("")
        .contains("08-CT/TU"));

    // The member reads their own records, nobody else's.
    let own = record(&secretary, "commendation", &[me], None).await[0];
    let mine = member.get_ok(&format!("/api/v1/people/{me}/conduct")).await;
    let mine = items(&mine);
    assert!(mine.iter().any(|r| id(r) == own), "{mine:?}");
    assert!(mine.iter().all(|r| r["person_id"] == me));
    member
        .get(&format!("/api/v1/conduct/{own}"))
        .await
        .expect(200);
    member
        .get(&format!("/api/v1/people/{target}/conduct"))
        .await
        .expect_error(404, "not_found");
    member
        .get(&format!("/api/v1/conduct/{rid}"))
        .await
        .expect_error(404, "not_found");

    // Withdrawal: a reason is required; the member cannot withdraw their own record.
    secretary
        .post(
            &format!("/api/v1/conduct/{rid}/withdraw"),
            &json!({"reason": "  "}),
        )
        .await
        .expect_error(422, "withdraw_reason");
    let r = member
        .post(
            &format!("/api/v1/conduct/{own}/withdraw"),
            &json!({"reason": "Tự rút"}),
        )
        .await;
    assert!(matches!(r.status.as_u16(), 403 | 404), "{r:?}");
    assert!(secretary.get_ok(&format!("/api/v1/conduct/{own}")).await["withdrawn_at"].is_null());
    let w = secretary
        .post_ok(
            &format!("/api/v1/conduct/{rid}/withdraw"),
            &json!({"reason": "Ghi nhầm người, đồng chí có báo cáo trước."}),
            200,
        )
        .await;
    assert!(w["withdrawn_at"].is_string(), "{w}");
    assert_eq!(w["withdrawn_by_name"], "Bí thư chi bộ");
    assert_eq!(
        w["withdrawn_reason"],
        "Ghi nhầm người, đồng chí có báo cáo trước."
    );
    secretary
        .post(
            &format!("/api/v1/conduct/{rid}/withdraw"),
            &json!({"reason": "Lần nữa"}),
        )
        .await
        .expect_error(422, "already_withdrawn");
    // Kept: still listed, still stored.
    let list = items(
        &secretary
            .get_ok(&format!("/api/v1/people/{target}/conduct"))
            .await,
    );
    let kept = list
        .iter()
        .find(|r| id(r) == rid)
        .unwrap_or_else(|| panic!("the withdrawn record in {list:?}"));
    assert_eq!(
        kept["withdrawn_reason"],
        "Ghi nhầm người, đồng chí có báo cáo trước."
    );
    let (stored,): (i64,) = store::db_run!(&app.db, p => sqlx::query_as("SELECT COUNT(*) FROM conduct_records WHERE id = $1 AND withdrawn_at IS NOT NULL")
        .bind(rid).fetch_one(p).await)
    .unwrap();
    assert_eq!(stored, 1);
    // Audited.
    let log = admin
        .get_ok("/api/v1/admin/audit?entity=conduct_record&action=withdraw&per_page=500")
        .await;
    let entries: Vec<Value> = items(&log)
        .into_iter()
        .filter(|e| e["entity_id"] == rid)
        .collect();
    assert_eq!(entries.len(), 1, "{log}");
    assert_eq!(entries[0]["action"], "withdraw");
    assert_eq!(entries[0]["username"], "secretary");
    assert!(
        entries[0]["detail"]
            .as_str()
            .unwrap_or("")
            .contains("Ghi nhầm người"),
        "{}",
        entries[0]
    );
}

// ---------------------------------------------------------------------------------------------
// R3.7: eligibility

async fn r3_7_ten_percent_boundary_in_both_directions(app: TestApp) {
    let organizer = app.api_login("organizer").await;
    let secretary = app.api_login("secretary").await;
    let member = app.api_login("member").await;
    let (commune, _) = commune_and_cells(&organizer).await;
    let cell = grant_org(&secretary);
    let keep = [me_person(&secretary).await, me_person(&member).await];

    // The cell as the demo left it: every active member listed, those barred with reasons.
    let row = cell_row(&secretary, cell, cell).await;
    let rows = members_of(&secretary, cell).await;
    let n = rows.len() as i64;
    assert_eq!(row["members"], n, "{row}");
    let barred: Vec<i64> = rows
        .iter()
        .filter(|m| m["eligible"] == false)
        .map(|m| m["person_id"].as_i64().unwrap())
        .collect();
    let k = barred.len() as i64;
    // Make the active members a multiple of ten: move the barred away first, then others,
    // keeping at least one member moved who is not barred (back later for M + 1).
    let m_total = (n - k - 1) / 10 * 10;
    assert!(
        m_total >= 20,
        "room for one flagged member below 10%: {n} members, {k} barred"
    );
    let mut moved: Vec<i64> = barred.clone();
    for r in rows.iter().rev() {
        if moved.len() as i64 == n - m_total {
            break;
        }
        let p = r["person_id"].as_i64().unwrap();
        if !keep.contains(&p) && !moved.contains(&p) {
            moved.push(p);
        }
    }
    assert_eq!(moved.len() as i64, n - m_total);
    set_status(&app, &moved, "moved").await;
    let comeback = *moved.last().expect("a moved member not barred");
    assert!(!barred.contains(&comeback));

    let row = cell_row(&secretary, cell, cell).await;
    assert_eq!(shape(&row), (m_total, 0, true), "{row}");
    let rows = members_of(&secretary, cell).await;
    assert_eq!(rows.len() as i64, m_total);
    assert!(rows.iter().all(|m| m["eligible"] == true), "{rows:?}");
    let mut free: Vec<i64> = rows
        .iter()
        .map(|m| m["person_id"].as_i64().unwrap())
        .filter(|p| !keep.contains(p))
        .collect();
    let mut take = || free.pop().expect("a member left to record");

    // M/10 − 1 distinct members reminded or criticized (one of them twice): eligible.
    let allowance = m_total / 10 - 1;
    let mut flagged = Vec::new();
    let mut single_records = Vec::new();
    for i in 0..allowance {
        let p = take();
        let kind = if i % 2 == 0 { "criticism" } else { "reminder" };
        single_records.push(record(&secretary, kind, &[p], None).await[0]);
        flagged.push(p);
    }
    let twice = flagged[0];
    let second = record(&secretary, "reminder", &[twice], None).await[0];
    let row = cell_row(&secretary, cell, cell).await;
    assert_eq!(shape(&row), (m_total, allowance, true), "{row}");
    // A commendation changes nothing; a review proposal bars its member but does not count.
    let praised = take();
    record(&secretary, "commendation", &[praised], None).await;
    let reviewed = take();
    let review = record(&secretary, "review_proposal", &[reviewed], None).await[0];
    let row = cell_row(&secretary, cell, cell).await;
    assert_eq!(shape(&row), (m_total, allowance, true), "{row}");
    let rows = members_of(&secretary, cell).await;
    assert_eq!(member_row(&rows, praised)["eligible"], true);
    let rv = member_row(&rows, reviewed);
    assert_eq!(rv["eligible"], false, "{rv}");
    assert_eq!(reason_ids(&rv), vec![review]);
    let tw = member_row(&rows, twice);
    assert_eq!(tw["eligible"], false);
    assert_eq!(reason_ids(&tw), vec![single_records[0], second]);
    let r = report(&secretary, cell).await;
    assert_eq!(r["members"], m_total);
    assert_eq!(r["members_ineligible"], allowance + 1, "{r}");
    assert_eq!(r["cells_ineligible"], 0);

    // One more reminded member: exactly 10% → not eligible.
    let last = take();
    let last_record = record(&secretary, "reminder", &[last], None).await[0];
    let row = cell_row(&secretary, cell, cell).await;
    assert_eq!(shape(&row), (m_total, m_total / 10, false), "{row}");
    assert_eq!(report(&secretary, cell).await["cells_ineligible"], 1);
    // The commune's report says the same of the cell, and lists the barred members.
    let crow = cell_row(&organizer, commune, cell).await;
    assert_eq!(shape(&crow), (m_total, m_total / 10, false), "{crow}");
    let above = members_of(&organizer, commune).await;
    let lr = member_row(&above, last);
    assert_eq!(lr["eligible"], false);
    assert_eq!(reason_ids(&lr), vec![last_record]);
    assert!(above.iter().all(|m| m["person_id"] != praised));

    // Withdrawing one of the twice-reminded member's records changes nothing; withdrawing the
    // last member's only record makes the cell eligible again.
    secretary
        .post_ok(
            &format!("/api/v1/conduct/{second}/withdraw"),
            &json!({"reason": "Trùng với bản ghi trước."}),
            200,
        )
        .await;
    let row = cell_row(&secretary, cell, cell).await;
    assert_eq!(shape(&row), (m_total, m_total / 10, false), "{row}");
    secretary
        .post_ok(
            &format!("/api/v1/conduct/{last_record}/withdraw"),
            &json!({"reason": "Đồng chí đã báo cáo lý do với chi bộ."}),
            200,
        )
        .await;
    let row = cell_row(&secretary, cell, cell).await;
    assert_eq!(shape(&row), (m_total, allowance, true), "{row}");
    let rows = members_of(&secretary, cell).await;
    let lr = member_row(&rows, last);
    assert_eq!(lr["eligible"], true, "{lr}");
    assert!(reason_ids(&lr).is_empty());
    assert_eq!(
        reason_ids(&member_row(&rows, twice)),
        vec![single_records[0]]
    );

    // M + 1 members (not a multiple of ten): M/10 flagged is still below 10%, M/10 + 1 is not.
    set_status(&app, &[comeback], "active").await;
    let row = cell_row(&secretary, cell, cell).await;
    assert_eq!(shape(&row), (m_total + 1, allowance, true), "{row}");
    record(&secretary, "reminder", &[take()], None).await;
    let row = cell_row(&secretary, cell, cell).await;
    assert_eq!(
        shape(&row),
        (m_total + 1, m_total / 10, true),
        "{}/{} is below 10%: {row}",
        m_total / 10,
        m_total + 1
    );
    record(&secretary, "criticism", &[take()], None).await;
    let row = cell_row(&secretary, cell, cell).await;
    assert_eq!(shape(&row), (m_total + 1, m_total / 10 + 1, false), "{row}");
}

// ---------------------------------------------------------------------------------------------
// R3.7: ratings

async fn r3_7_ratings_follow_eligibility_and_write_nothing_when_refused(app: TestApp) {
    let organizer = app.api_login("organizer").await;
    let secretary = app.api_login("secretary").await;
    let member = app.api_login("member").await;
    let (commune, cells) = commune_and_cells(&organizer).await;
    let cell = grant_org(&secretary);
    let other_cell = *cells.iter().find(|c| **c != cell).expect("a second cell");
    let keep = [me_person(&secretary).await, me_person(&member).await];
    let stranger = id(&organizer.all_people(Some(other_cell)).await[0]);
    let y = year();
    let ratings = "SELECT COUNT(*) FROM ratings";
    let rpath = format!("/api/v1/orgs/{cell}/ratings");

    let rows = members_of(&secretary, cell).await;
    let mut free: Vec<i64> = rows
        .iter()
        .filter(|m| m["eligible"] == true)
        .map(|m| m["person_id"].as_i64().unwrap())
        .filter(|p| !keep.contains(p))
        .collect();
    let mut take = || free.pop().expect("a member left");
    let reminded = take();
    let good = take();
    record(&secretary, "reminder", &[reminded], None).await;
    let reminded_name = member_row(&rows, reminded)["full_name"]
        .as_str()
        .expect("name")
        .to_string();

    let before = count(&app, ratings).await;
    // Excellent for the reminded member: refused with their name.
    let e = secretary
        .put(
            &rpath,
            &json!({"year": y, "ratings": [{"person_id": reminded, "level": "excellent"}]}),
        )
        .await
        .expect_error(422, "not_eligible");
    assert!(
        e["message"].as_str().unwrap_or("").contains(&reminded_name),
        "{e}"
    );
    // A batch with one barred rating writes none of it.
    secretary
        .put(
            &rpath,
            &json!({"year": y, "ratings": [{"person_id": good, "level": "excellent"},
                                         {"person_id": reminded, "level": "excellent"}]}),
        )
        .await
        .expect_error(422, "not_eligible");
    assert_eq!(count(&app, ratings).await, before, "nothing written");
    assert!(member_row(&members_of(&secretary, cell).await, good)["rating"].is_null());
    // The reminded member may be rated good.
    secretary
        .put(
            &rpath,
            &json!({"year": y, "ratings": [{"person_id": reminded, "level": "good"}]}),
        )
        .await
        .expect(204);
    // Excellent for an eligible member.
    secretary
        .put(
            &rpath,
            &json!({"year": y, "ratings": [{"person_id": good, "level": "excellent"}]}),
        )
        .await
        .expect(204);
    let rows = members_of(&secretary, cell).await;
    assert_eq!(member_row(&rows, good)["rating"], "excellent");
    assert_eq!(member_row(&rows, reminded)["rating"], "good");
    assert_eq!(count(&app, ratings).await, before + 2);

    // Make the cell ineligible: reminded members reach 10%.
    let row = cell_row(&secretary, cell, cell).await;
    let (m, f, _) = shape(&row);
    let need = (m + 9) / 10 - f;
    for _ in 0..need.max(0) {
        record(&secretary, "reminder", &[take()], None).await;
    }
    let row = cell_row(&organizer, commune, cell).await;
    let (m, f, eligible) = shape(&row);
    assert!(!eligible && f * 10 >= m, "{row}");

    let before = count(&app, ratings).await;
    // The commune (the committee above) rates the cell: not excellent.
    let e = organizer
        .put(
            &rpath,
            &json!({"year": y, "ratings": [{"level": "excellent"}]}),
        )
        .await
        .expect_error(422, "not_eligible");
    assert!(
        e["message"]
            .as_str()
            .unwrap_or("")
            .contains(&format!("{f}/{m}")),
        "{e}"
    );
    // The cell's own secretary does not rate the cell.
    secretary
        .put(&rpath, &json!({"year": y, "ratings": [{"level": "good"}]}))
        .await
        .expect_error(422, "cell_rating_above");
    // A year long past; a person of another cell; the commune itself; an unknown level.
    secretary
        .put(
            &rpath,
            &json!({"year": 2020, "ratings": [{"person_id": good, "level": "good"}]}),
        )
        .await
        .expect_error(422, "rating_year");
    secretary
        .put(
            &rpath,
            &json!({"year": y, "ratings": [{"person_id": stranger, "level": "good"}]}),
        )
        .await
        .expect_error(422, "person_not_in_cell");
    organizer
        .put(
            &format!("/api/v1/orgs/{commune}/ratings"),
            &json!({"year": y, "ratings": [{"level": "good"}]}),
        )
        .await
        .expect_error(422, "not_a_cell");
    secretary
        .put(
            &rpath,
            &json!({"year": y, "ratings": [{"person_id": good, "level": "superb"}]}),
        )
        .await
        .expect_error(422, "rating_level");
    assert_eq!(count(&app, ratings).await, before, "nothing written");
    assert!(cell_row(&organizer, commune, cell).await["rating"].is_null());
    assert_eq!(
        member_row(&members_of(&secretary, cell).await, good)["rating"],
        "excellent",
        "unchanged"
    );

    // Good for the cell: entered, with the counts it was decided on.
    organizer
        .put(&rpath, &json!({"year": y, "ratings": [{"level": "good"}]}))
        .await
        .expect(204);
    assert_eq!(cell_row(&organizer, commune, cell).await["rating"], "good");
    assert_eq!(cell_row(&secretary, cell, cell).await["rating"], "good");
    let (mc, fc): (Option<i64>, Option<i64>) = store::db_run!(&app.db, p => sqlx::query_as(
        "SELECT member_count, flagged_count FROM ratings WHERE org_id = $1 AND person_id IS NULL AND year = $2")
        .bind(cell).bind(i64::from(y)).fetch_one(p).await)
    .unwrap();
    assert_eq!((mc, fc), (Some(m), Some(f)));
    assert_eq!(count(&app, ratings).await, before + 1);
    // Rated again: corrected in place.
    organizer
        .put(
            &rpath,
            &json!({"year": y, "ratings": [{"level": "completed"}]}),
        )
        .await
        .expect(204);
    assert_eq!(
        cell_row(&organizer, commune, cell).await["rating"],
        "completed"
    );
    assert_eq!(count(&app, ratings).await, before + 1);
}

// ---------------------------------------------------------------------------------------------
// Privacy

async fn r3_6_conduct_and_eligibility_stay_private(app: TestApp) {
    let admin = app.api_login("admin").await;
    let organizer = app.api_login("organizer").await;
    let secretary = app.api_login("secretary").await;
    let member = app.api_login("member").await;
    let (_, children) = province_tree(&admin).await;
    let (commune, cells) = commune_and_cells(&organizer).await;
    let cell = grant_org(&secretary);
    let other_cell = *cells.iter().find(|c| **c != cell).expect("a second cell");
    let me = me_person(&member).await;
    let sec_person = me_person(&secretary).await;
    let neighbour = secretary
        .all_people(Some(cell))
        .await
        .into_iter()
        .map(|p| id(&p))
        .find(|p| *p != me && *p != sec_person)
        .expect("another member of the cell");
    let far = id(&admin
        .all_people(Some(org_named(&children, FOURTH_COMMUNE)))
        .await[0]);
    let next_cell_person = id(&organizer.all_people(Some(other_cell)).await[0]);
    let near = record(&secretary, "reminder", &[neighbour], None).await[0];
    let far_record = record(&admin, "criticism", &[far], None).await[0];
    let next_record = record(&organizer, "reminder", &[next_cell_person], None).await[0];

    // The member: no eligibility report, no one else's records, no recording.
    for path in [
        format!("/api/v1/orgs/{cell}/eligibility"),
        format!("/api/v1/orgs/{cell}/eligibility/members"),
        format!("/api/v1/people/{neighbour}/conduct"),
        format!("/api/v1/conduct/{near}"),
    ] {
        member.get(&path).await.expect_error(404, "not_found");
    }
    let n = count(&app, "SELECT COUNT(*) FROM conduct_records").await;
    member
        .post(
            "/api/v1/conduct",
            &json!({"kind": "reminder", "occurred_on": day(0), "reason": "Thử", "person_ids": [neighbour]}),
        )
        .await
        .expect_error(422, "person_outside");
    assert_eq!(count(&app, "SELECT COUNT(*) FROM conduct_records").await, n);
    assert!(items(&member.get_ok(&format!("/api/v1/people/{me}/conduct")).await).is_empty());

    // The first commune's organizer: nothing of another commune.
    organizer
        .get(&format!("/api/v1/people/{far}/conduct"))
        .await
        .expect_error(404, "not_found");
    organizer
        .get(&format!("/api/v1/conduct/{far_record}"))
        .await
        .expect_error(404, "not_found");
    let other_commune = org_named(&children, FOURTH_COMMUNE);
    organizer
        .get(&format!("/api/v1/orgs/{other_commune}/eligibility"))
        .await
        .expect_error(404, "not_found");
    // …but its own commune's, including the cells below.
    assert!(items(
        &organizer
            .get_ok(&format!("/api/v1/people/{neighbour}/conduct"))
            .await
    )
    .iter()
    .any(|r| id(r) == near));
    let r = report(&organizer, commune).await;
    assert_eq!(r["cells"].as_array().expect("cells").len(), cells.len());

    // The cell's secretary: nothing of the next cell.
    secretary
        .get(&format!("/api/v1/people/{next_cell_person}/conduct"))
        .await
        .expect_error(404, "not_found");
    secretary
        .get(&format!("/api/v1/conduct/{next_record}"))
        .await
        .expect_error(404, "not_found");
    let r = secretary
        .get(&format!("/api/v1/orgs/{other_cell}/eligibility"))
        .await;
    assert!(matches!(r.status.as_u16(), 403 | 404), "{r:?}");
}

/// The pages without script (R3.6, R3.7, R3.2): a refused conduct form comes back with the
/// field's error and the people still ticked; a good one lands and is listed; a withdrawal from
/// the page keeps the record; the eligibility report, its print and its xlsx (read back) hold
/// the reminded member; the ratings form refuses an ineligible "excellent" with the reason and
/// keeps the choices; a working group of one is refused on the page by field.
async fn r3_7_conduct_pages_work_without_script(app: TestApp) {
    let organizer = app.api_login("organizer").await;
    let class = id(items(&organizer.get_ok("/api/v1/classes").await)
        .iter()
        .find(|c| c["form"] == "in_person")
        .unwrap());
    let b = app.browser_login("organizer").await;
    let page = b.get(&format!("/classes/{class}/conduct")).await;
    page.expect(200);
    let html = page.html();
    assert!(html.contains("Vắng không có lý do"), "absentees offered");
    let ticked: Vec<i64> = html
        .split("id=\"p-")
        .skip(1)
        .filter_map(|rest| {
            rest.chars()
                .take_while(char::is_ascii_digit)
                .collect::<String>()
                .parse()
                .ok()
        })
        .collect();
    assert!(ticked.len() >= 2, "participants listed");
    let (p1, p2) = (ticked[0], ticked[1]);
    let fields = |reason: &str| {
        vec![
            ("kind".to_string(), "reminder".to_string()),
            ("occurred_on".to_string(), day(0)),
            ("reason".to_string(), reason.to_string()),
            ("person_ids".to_string(), p1.to_string()),
            ("person_ids".to_string(), p2.to_string()),
        ]
    };
    let before = count(&app, "SELECT COUNT(*) FROM conduct_records").await;
    let r = b
        .post_fields(&format!("/classes/{class}/conduct"), fields(""))
        .await;
    r.expect(422);
    let html = r.html();
    assert!(html.contains("id=\"reason-error\""), "the reason's error");
    for p in [p1, p2] {
        assert!(
            html.contains(&format!(
                "id=\"p-{p}\" name=\"person_ids\" value=\"{p}\" checked"
            )),
            "{p} still ticked"
        );
    }
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM conduct_records").await,
        before
    );
    let r = b
        .post_fields(
            &format!("/classes/{class}/conduct"),
            fields("Làm việc riêng trong giờ học."),
        )
        .await;
    r.expect_redirect(&format!("/classes/{class}/conduct"));
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM conduct_records").await,
        before + 2
    );
    let html = b.get(&format!("/classes/{class}/conduct")).await.html();
    assert!(html.contains("Làm việc riêng trong giờ học."));
    // Withdraw p2's from the page: kept, marked, with the reason.
    let records = organizer
        .get_ok(&format!("/api/v1/people/{p2}/conduct"))
        .await;
    let rid = records
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["reason"] == "Làm việc riêng trong giờ học.")
        .map(id)
        .unwrap();
    b.post_form(
        &format!("/conduct/{rid}/withdraw"),
        &[
            ("reason", "Ghi nhầm người."),
            ("back", &format!("/classes/{class}/conduct")),
        ],
    )
    .await
    .expect_redirect(&format!("/classes/{class}/conduct"));
    let person = b.get(&format!("/people/{p2}")).await.html();
    assert!(
        person.contains("Đã rút lại") && person.contains("Ghi nhầm người."),
        "kept on the person's page"
    );

    // The report of the commune, its print and its xlsx.
    let commune = id(&items(&organizer.get_ok("/api/v1/orgs").await)[0]);
    let p1_name = organizer.get_ok(&format!("/api/v1/people/{p1}")).await["full_name"]
        .as_str()
        .unwrap()
        .to_string();
    let report = b.get(&format!("/conduct/eligibility?org={commune}")).await;
    report.expect(200);
    assert!(
        report.html().contains(&p1_name),
        "the reminded member is listed"
    );
    let print = b
        .get(&format!("/conduct/eligibility/print?org={commune}"))
        .await
        .html();
    for s in [
        "ĐẢNG CỘNG SẢN VIỆT NAM",
        "BÁO CÁO",
        "T/M CẤP ỦY",
        p1_name.as_str(),
    ] {
        assert!(print.contains(s), "print holds {s}");
    }
    let xlsx = b
        .client
        .get(format!("{}/conduct/eligibility.xlsx?org={commune}", b.base))
        .send()
        .await
        .unwrap();
    assert_eq!(xlsx.status().as_u16(), 200);
    let bytes = xlsx.bytes().await.unwrap().to_vec();
    let sheet = store::import::read_sheet("xep-loai.xlsx", &bytes)
        .await
        .expect("the xlsx reads back");
    let cells = format!("{:?}", sheet.rows);
    assert!(cells.contains("Chi bộ"), "cells listed");

    // Ratings: the cell's secretary rates p1 (reminded) excellent: refused with the reason.
    let p1_org = organizer.get_ok(&format!("/api/v1/people/{p1}")).await["org_id"]
        .as_i64()
        .unwrap();
    let r = b
        .post_fields(
            "/conduct/ratings",
            vec![
                ("org".into(), p1_org.to_string()),
                ("year".into(), year().to_string()),
                (format!("level_{p1}"), "excellent".into()),
            ],
        )
        .await;
    r.expect(422);
    let html = r.html();
    assert!(
        html.contains("không đủ điều kiện") && html.contains(&p1_name),
        "the reason"
    );
    assert!(
        html.contains(&format!("name=\"level_{p1}\""))
            && html.contains("value=\"excellent\" selected"),
        "the choice is kept"
    );
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM ratings").await,
        0,
        "nothing written"
    );
    b.post_fields(
        "/conduct/ratings",
        vec![
            ("org".into(), p1_org.to_string()),
            ("year".into(), year().to_string()),
            (format!("level_{p1}"), "good".into()),
        ],
    )
    .await
    .expect_redirect("/conduct/ratings");
    assert_eq!(count(&app, "SELECT COUNT(*) FROM ratings").await, 1);

    // A working group of one, posted to the page: refused by field, nothing written.
    let groups = count(&app, "SELECT COUNT(*) FROM working_groups").await;
    let r = b
        .post_form(
            "/oversight/groups",
            &[
                ("org_id", &commune.to_string()),
                ("name", "Tổ một người"),
                ("member_ids", &p1.to_string()),
                ("lead_id", &p1.to_string()),
            ],
        )
        .await;
    r.expect(422);
    assert!(r.html().contains("2 hoặc 3"), "{}", short(&r.html()));
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM working_groups").await,
        groups
    );
}

/// R3.7: a reminded member who moves to another cell takes the mark with them (the kept marks
/// follow `people.org_id` by a trigger): the old cell no longer counts them, the new one does,
/// and the commune's totals do not change.
async fn r3_7_marks_follow_a_member_who_moves(app: TestApp) {
    let organizer = app.api_login("organizer").await;
    let commune = id(&items(&organizer.get_ok("/api/v1/orgs").await)[0]);
    let detail = organizer.get_ok(&format!("/api/v1/orgs/{commune}")).await;
    let cells: Vec<i64> = detail["children"]
        .as_array()
        .unwrap()
        .iter()
        .map(id)
        .collect();
    let (from, to) = (cells[1], cells[2]);
    let people = organizer.all_people(Some(from)).await;
    let mover = id(people
        .iter()
        .find(|p| p["status"] == "active")
        .expect("an active member"));
    let before_from = cell_row(&organizer, commune, from).await["flagged"]
        .as_i64()
        .unwrap();
    let before_to = cell_row(&organizer, commune, to).await["flagged"]
        .as_i64()
        .unwrap();
    let totals = report(&organizer, commune).await["members_ineligible"].clone();
    organizer
        .post_ok(
            "/api/v1/conduct",
            &json!({"kind": "criticism", "occurred_on": day(0), "reason": "Không tham gia học tập.", "person_ids": [mover]}),
            201,
        )
        .await;
    assert_eq!(
        cell_row(&organizer, commune, from).await["flagged"],
        json!(before_from + 1)
    );
    let n =
        store::db_exec!(&app.db, c => sqlx::query("UPDATE people SET org_id = $1 WHERE id = $2")
        .bind(to).bind(mover).execute(c).await)
        .expect("move");
    assert_eq!(n, 1);
    assert_eq!(
        cell_row(&organizer, commune, from).await["flagged"],
        json!(before_from)
    );
    assert_eq!(
        cell_row(&organizer, commune, to).await["flagged"],
        json!(before_to + 1)
    );
    let after = report(&organizer, commune).await["members_ineligible"].clone();
    assert_eq!(after.as_i64().unwrap(), totals.as_i64().unwrap() + 1);
}

/// R3.7: a rating is personal — the member reads their own (API and "Của tôi"), the secretary
/// of the cell and the committee above read it, another member does not, nor a neighbour
/// commune's organizer.
async fn r3_7_ratings_are_personal(app: TestApp) {
    let member = app.api_login("member").await;
    let me = me_person(&member).await;
    let secretary = app.api_login("secretary").await;
    let cell = secretary.login["account"]["grants"][0]["org_id"]
        .as_i64()
        .unwrap();
    secretary
        .put(
            &format!("/api/v1/orgs/{cell}/ratings"),
            &json!({"year": year(), "ratings": [{"person_id": me, "level": "good"}]}),
        )
        .await
        .expect(204);
    let own = member.get_ok(&format!("/api/v1/people/{me}/ratings")).await;
    assert_eq!(own[0]["level"], "good", "{own}");
    assert_eq!(own[0]["year"], json!(year()));
    let b = app.browser_login("member").await;
    assert!(b
        .get("/me")
        .await
        .html()
        .contains("Hoàn thành tốt nhiệm vụ"));
    let organizer = app.api_login("organizer").await;
    assert_eq!(
        organizer
            .get_ok(&format!("/api/v1/people/{me}/ratings"))
            .await[0]["level"],
        "good"
    );
    // Another person of the same cell: the member sees nothing of theirs.
    let other = secretary
        .all_people(Some(cell))
        .await
        .into_iter()
        .map(|p| id(&p))
        .find(|p| *p != me)
        .unwrap();
    member
        .get(&format!("/api/v1/people/{other}/ratings"))
        .await
        .expect_error(404, "not_found");
    // A person of another commune: not the first commune's organizer's to read.
    let admin = app.api_login("admin").await;
    let (_, communes) = province_tree(&admin).await;
    let far_person = id(&admin.all_people(Some(id(&communes[3]))).await[0]);
    organizer
        .get(&format!("/api/v1/people/{far_person}/ratings"))
        .await
        .expect_error(404, "not_found");
}

/// R3.2: a group's members are replaced under the rules of forming it — 2 or 3, staff of the
/// forming organization — by its organizer only; refused changes leave the members as they
/// were; its assignments stay; the change is audited.
async fn r3_2_a_groups_members_change_under_the_same_rules(app: TestApp) {
    let admin = app.api_login("admin").await;
    let (province, _) = province_tree(&admin).await;
    let gid = id(&items(&admin.get_ok("/api/v1/working-groups").await)[0]);
    let detail = admin.get_ok(&format!("/api/v1/working-groups/{gid}")).await;
    let before: Vec<i64> = detail["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["person_id"].as_i64().unwrap())
        .collect();
    assert_eq!(before.len(), 2, "{detail}");
    let assignments = detail["assignments"].as_array().unwrap().len();
    let outsider = admin
        .all_people(Some(province))
        .await
        .into_iter()
        .map(|p| id(&p))
        .find(|p| !before.contains(p))
        .unwrap();
    let path = format!("/api/v1/working-groups/{gid}");
    // One member: refused by field.
    admin
        .put(
            &path,
            &json!({"name": "Tổ một người", "member_ids": [before[0]], "lead_id": before[0]}),
        )
        .await
        .expect_error(422, "validation_failed");
    // Someone without a propaganda or advisory position: refused.
    admin
        .put(
            &path,
            &json!({"name": "Tổ mới", "member_ids": [before[0], outsider], "lead_id": outsider}),
        )
        .await
        .expect_error(422, "member_not_staff");
    let unchanged = admin.get_ok(&path).await;
    assert_eq!(unchanged["members"].as_array().unwrap().len(), 2);
    assert_eq!(unchanged["group"]["name"], detail["group"]["name"]);
    // The commune's organizer cannot change the province's group.
    let organizer = app.api_login("organizer").await;
    let r = organizer
        .put(
            &path,
            &json!({"name": "X", "member_ids": before, "lead_id": before[0]}),
        )
        .await;
    assert!(matches!(r.status.as_u16(), 403 | 404), "{}", r.text);
    // Made advisory staff, the outsider joins and leads; the assignments stay.
    admin
        .post_ok(
            &format!("/api/v1/people/{outsider}/positions"),
            &json!({"org_id": province, "role": "advisory_staff"}),
            201,
        )
        .await;
    let changed = admin
        .put(&path, &json!({"name": "Tổ công tác số 1 (kiện toàn)", "member_ids": [before[1], outsider], "lead_id": outsider}))
        .await;
    changed.expect(200);
    let changed = changed.json();
    let now: Vec<(i64, bool)> = changed["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["person_id"].as_i64().unwrap(),
                m["leads"].as_bool().unwrap(),
            )
        })
        .collect();
    assert!(
        now.contains(&(outsider, true)) && now.contains(&(before[1], false)),
        "{changed}"
    );
    assert_eq!(now.len(), 2);
    assert_eq!(changed["group"]["name"], "Tổ công tác số 1 (kiện toàn)");
    assert_eq!(
        changed["assignments"].as_array().unwrap().len(),
        assignments
    );
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM audit_log WHERE action = 'update' AND entity = 'working_group'"
        )
        .await,
        1
    );
    // The same from the group's page: a group of one comes back with the field's error.
    let b = app.browser_login("admin").await;
    let page = b.get(&format!("/oversight/groups/{gid}")).await.html();
    assert!(page.contains("Sửa tên, thành viên của tổ"), "the edit form");
    let r = b
        .post_form(
            &format!("/oversight/groups/{gid}/edit"),
            &[
                ("name", "Tổ một người"),
                ("member_ids", &outsider.to_string()),
                ("lead_id", &outsider.to_string()),
            ],
        )
        .await;
    r.expect(422);
    assert!(
        r.html().contains("id=\"edit-members-error\""),
        "{}",
        short(&r.html())
    );
    b.post_fields(
        &format!("/oversight/groups/{gid}/edit"),
        vec![
            ("name".into(), "Tổ công tác số 1".into()),
            ("member_ids".into(), before[1].to_string()),
            ("member_ids".into(), outsider.to_string()),
            ("lead_id".into(), before[1].to_string()),
        ],
    )
    .await
    .expect_redirect(&format!("/oversight/groups/{gid}"));
    assert_eq!(
        admin.get_ok(&path).await["group"]["name"],
        "Tổ công tác số 1"
    );
}
