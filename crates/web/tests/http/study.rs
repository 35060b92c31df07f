//! The whole study loop: campaign → class → sessions → participants → attendance → finish →
//! retakes and completions, through the API (R2.1, R2.5, R3.1, R3.3, R3.5) and the HTML forms.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{json, Value};

use crate::harness::*;

both_engines! {
    r3_5_study_loop_via_api => r3_5_study_loop_via_api_sqlite, r3_5_study_loop_via_api_postgres;
    study_loop_via_html_forms => study_loop_via_html_forms_sqlite, study_loop_via_html_forms_postgres;
    running_class_counts_only_sessions_held => running_class_counts_only_sessions_held_sqlite, running_class_counts_only_sessions_held_postgres;
    campaign_leader_belongs_to_the_organization => campaign_leader_belongs_to_the_organization_sqlite, campaign_leader_belongs_to_the_organization_postgres;
    people_are_chosen_by_name_not_id => people_are_chosen_by_name_not_id_sqlite, people_are_chosen_by_name_not_id_postgres;
    retakes_export_and_print => retakes_export_and_print_sqlite, retakes_export_and_print_postgres;
    a_campaign_is_corrected_keeping_hidden_resolutions => a_campaign_is_corrected_keeping_hidden_resolutions_sqlite, a_campaign_is_corrected_keeping_hidden_resolutions_postgres;
}

/// Issue 11.7: campaigns are corrected (page and API) by the organizer of their organization,
/// with the same checks as on creation, audited; a classified resolution bundled by a cleared
/// admin stays when an uncleared organizer saves the campaign.
async fn a_campaign_is_corrected_keeping_hidden_resolutions(app: TestApp) {
    let admin = app.api_login("admin").await;
    let organizer = app.api_login("organizer").await;
    let commune = id(&items(&organizer.get_ok("/api/v1/orgs").await)[0]);
    let leader = id(&organizer.all_people(Some(commune)).await[0]);
    let public = admin.resolution_id("144-QĐ/TW").await;
    let secret = admin
        .post_ok(
            "/api/v1/resolutions",
            &json!({"owner_org_id": commune, "kind": "resolution", "number": "09-NQ/ĐU",
                "title": "Nghị quyết mật thử", "issuing_body": "Đảng ủy phường Kon Tum",
                "released_on": "2026-03-02", "classification": "secret"}),
            201,
        )
        .await;
    let body = |name: &str, ids: Vec<i64>| {
        json!({"name": name, "org_id": commune, "leader_person_id": leader,
            "starts_on": "01/03/2026", "ends_on": "30/04/2026", "resolution_ids": ids})
    };
    let c = admin
        .post_ok(
            "/api/v1/campaigns",
            &body("Đợt hoc tập (lỗi chính tả)", vec![public, id(&secret)]),
            201,
        )
        .await;
    let cid = id(&c);
    // The organizer corrects the name on the page.
    let b = app.browser_login("organizer").await;
    let form = b.get(&format!("/campaigns/{cid}/edit")).await;
    form.expect(200);
    assert!(form.html().contains("Đợt hoc tập (lỗi chính tả)"));
    b.post_raw(
        &format!("/campaigns/{cid}/edit"),
        vec![
            ("csrf".into(), b.csrf.clone()),
            ("name".into(), "Đợt học tập (đã sửa)".into()),
            ("org_id".into(), commune.to_string()),
            ("leader_person_id".into(), leader.to_string()),
            ("starts_on".into(), "01/03/2026".into()),
            ("ends_on".into(), "31/05/2026".into()),
            ("resolution_ids".into(), public.to_string()),
        ],
    )
    .await
    .expect_redirect(&format!("/campaigns/{cid}"));
    let after = admin.get_ok(&format!("/api/v1/campaigns/{cid}")).await;
    assert_eq!(after["campaign"]["name"], "Đợt học tập (đã sửa)");
    let kept: Vec<i64> = items(&after["resolutions"]).iter().map(id).collect();
    assert!(
        kept.contains(&id(&secret)),
        "the hidden resolution stays: {kept:?}"
    );
    // The API, with a bad date range: refused with its field.
    let mut bad = body("Đợt học tập", vec![public]);
    bad["ends_on"] = json!("01/01/2026");
    organizer
        .put(&format!("/api/v1/campaigns/{cid}"), &bad)
        .await
        .expect_error(422, "validation_failed");
    // Not the secretary's.
    let secretary = app.api_login("secretary").await;
    let r = secretary
        .put(
            &format!("/api/v1/campaigns/{cid}"),
            &body("x", vec![public]),
        )
        .await;
    assert!(matches!(r.status.as_u16(), 403 | 404), "{}", r.status);
}

/// Issue 11.16: /retakes prints and exports like the other lists.
async fn retakes_export_and_print(app: TestApp) {
    let b = app.browser_login("admin").await;
    let page = b.get("/retakes").await;
    page.expect(200);
    let html = page.html();
    assert!(html.contains("href=\"/retakes.csv\"") && html.contains("data-print"));
    let csv = b.get("/retakes.csv").await;
    csv.expect(200);
    assert!(csv.text.starts_with('\u{feff}'), "a BOM for Excel");
    assert!(csv.text.contains("Họ và tên"));
    let listed = html.matches("<tr><td>").count();
    assert_eq!(
        csv.text.lines().count() - 1,
        listed,
        "every line listed on the page is exported"
    );
}

/// Issue 11.14: the bridge-point operator is chosen by name and a participant is added by
/// searching a name; no database id is typed.
async fn people_are_chosen_by_name_not_id(app: TestApp) {
    let organizer = app.api_login("organizer").await;
    let classes = items(&organizer.get_ok("/api/v1/classes").await);
    let class_id = id(classes
        .iter()
        .find(|c| c["form"] == "in_person")
        .expect("the commune's class"));
    let b = app.browser_login("organizer").await;
    // A new online class of the organizer's campaign: its bridge-point form.
    let campaign = classes
        .iter()
        .find(|c| id(c) == class_id)
        .map(|c| c["campaign_id"].as_i64().unwrap())
        .unwrap();
    let commune = id(&items(&organizer.get_ok("/api/v1/orgs").await)[0]);
    let online = organizer
        .post_ok(
            &format!("/api/v1/campaigns/{campaign}/classes"),
            &json!({"title": "Hội nghị trực tuyến thử", "org_id": commune, "form": "online",
                "audience_tier": "grassroots"}),
            201,
        )
        .await;
    let info = b.get(&format!("/classes/{}", id(&online))).await;
    info.expect(200);
    let html = info.html();
    assert!(!html.contains("Mã người"), "no id to type");
    assert!(
        html.contains("<select id=\"bp_op\" name=\"operator_person_id\">"),
        "the operator is chosen from a list"
    );
    // Someone of the commune who is not on the list yet.
    let listed: BTreeSet<i64> = items(
        &organizer
            .get_ok(&format!("/api/v1/classes/{class_id}/participants"))
            .await,
    )
    .iter()
    .map(|p| p["person_id"].as_i64().unwrap())
    .collect();
    let outsider = organizer
        .all_people(Some(commune))
        .await
        .into_iter()
        .find(|p| !listed.contains(&id(p)))
        .expect("someone not listed");
    let name = outsider["full_name"].as_str().unwrap().to_string();
    let page = b
        .get(&format!(
            "/classes/{class_id}?tab=participants&find={}",
            fold(&name).replace(' ', "+")
        ))
        .await;
    page.expect(200);
    let html = page.html();
    assert!(
        html.contains(&name),
        "found by a name typed without diacritics"
    );
    assert!(html.contains(&format!("name=\"person_id\" value=\"{}\"", id(&outsider))));
    b.post_form(
        &format!("/classes/{class_id}/participants/add"),
        &[
            ("person_id", &id(&outsider).to_string()),
            ("reason", "Chuyển sinh hoạt đến"),
        ],
    )
    .await
    .expect(303);
    let now_listed = items(
        &organizer
            .get_ok(&format!("/api/v1/classes/{class_id}/participants"))
            .await,
    );
    assert!(now_listed.iter().any(|p| p["person_id"] == id(&outsider)));
}

/// Issue 11.5 (R1.1): a campaign's accountable leader could be anyone in the country; now only
/// someone of the campaign's organization or of a committee above it.
async fn campaign_leader_belongs_to_the_organization(app: TestApp) {
    let admin = app.api_login("admin").await;
    let (_, communes) = province_tree(&admin).await;
    let (a, b) = (id(&communes[0]), id(&communes[1]));
    let res = admin.resolution_id("144-QĐ/TW").await;
    let outsider = &admin.all_people(Some(b)).await[0];
    let insider = &admin.all_people(Some(a)).await[0];
    let body = |leader: i64| {
        json!({"name": "Đợt học tập thử người chịu trách nhiệm", "org_id": a, "leader_person_id": leader,
            "starts_on": "01/03/2026", "ends_on": "30/04/2026", "resolution_ids": [res]})
    };
    let v = admin
        .post("/api/v1/campaigns", &body(id(outsider)))
        .await
        .expect_error(422, "leader_outside_org");
    assert!(
        v["message"]
            .as_str()
            .unwrap_or("")
            .contains("cấp ủy cấp trên"),
        "{v}"
    );
    admin
        .post_ok("/api/v1/campaigns", &body(id(insider)), 201)
        .await;
}

/// Issue 11.1: a class whose last session is still ahead listed nearly everyone under "Phải học
/// lại", and the member's page said "Vắng quá thời lượng cho phép". Results now count only the
/// sessions already held (and say so); attendance for a session not yet started and finishing
/// before the last session are refused; the demo carries no marks for sessions ahead.
async fn running_class_counts_only_sessions_held(app: TestApp) {
    let organizer = app.api_login("organizer").await;
    let classes = items(&organizer.get_ok("/api/v1/classes").await);
    let class = classes
        .iter()
        .find(|c| c["form"] == "in_person")
        .unwrap_or_else(|| panic!("the demo commune's in-person class: {classes:?}"));
    let class_id = id(class);
    let detail = organizer
        .get_ok(&format!("/api/v1/classes/{class_id}"))
        .await;
    let sessions = detail["sessions"].as_array().cloned().unwrap_or_default();
    let now = chrono::Utc::now();
    let starts = |s: &Value| -> chrono::DateTime<chrono::Utc> {
        s["starts_at"]
            .as_str()
            .and_then(|t| t.parse().ok())
            .expect("starts_at")
    };
    let ahead: Vec<&Value> = sessions.iter().filter(|s| starts(s) > now).collect();
    let held_minutes: i64 = sessions
        .iter()
        .filter(|s| {
            starts(s) + chrono::Duration::minutes(s["duration_minutes"].as_i64().unwrap()) <= now
        })
        .map(|s| s["duration_minutes"].as_i64().unwrap())
        .sum();
    assert!(
        !ahead.is_empty() && held_minutes > 0,
        "the demo class is running: {sessions:?}"
    );

    // No marks on the session ahead, in the demo.
    let future = id(ahead[0]);
    let sheet = organizer
        .get_ok(&format!("/api/v1/sessions/{future}/attendance"))
        .await;
    assert!(
        items(&sheet).iter().all(|r| r["status"].is_null()),
        "no marks for a session not yet held"
    );
    // Results count the sessions held only.
    let answer = organizer
        .get_ok(&format!("/api/v1/classes/{class_id}/results"))
        .await;
    assert_eq!(answer["is_final"], false);
    assert_eq!(answer["counted_minutes"], held_minutes);
    let results = items(&answer["results"]);
    assert!(!results.is_empty());
    for r in &results {
        assert_eq!(r["summary"]["class_minutes"], held_minutes, "{r}");
    }
    let retakes = results
        .iter()
        .filter(|r| r["summary"]["needs_retake"] == true)
        .count();
    assert!(
        retakes * 2 < results.len(),
        "{retakes} of {} would retake",
        results.len()
    );
    let b = app.browser_login("organizer").await;
    let page = b.get(&format!("/classes/{class_id}?tab=results")).await;
    page.expect(200);
    assert!(
        page.html().contains("tạm tính"),
        "the page says the results are provisional"
    );

    // Attendance for the session ahead is refused, and so is finishing the class.
    let pid = items(&sheet)[0]["participant_id"].as_i64().unwrap();
    let r = organizer
        .put(
            &format!("/api/v1/sessions/{future}/attendance"),
            &json!({"marks": [{"participant_id": pid, "status": "absent"}]}),
        )
        .await;
    let v = r.expect_error(422, "session_not_started");
    assert!(
        v["message"].as_str().unwrap_or("").contains("chưa bắt đầu"),
        "{v}"
    );
    let r = organizer
        .post(&format!("/api/v1/classes/{class_id}/finish"), &json!({}))
        .await;
    let v = r.expect_error(422, "sessions_ahead");
    assert!(
        v["message"].as_str().unwrap_or("").contains("chưa diễn ra"),
        "{v}"
    );

    // The member's own page says provisional, never "over the allowed absence" while running.
    let member = app.browser_login("member").await;
    let me = member.get("/me").await;
    me.expect(200);
    let html = me.html();
    if html.contains(&format!("class-{class_id}")) {
        let card = html
            .split(&format!("id=\"class-{class_id}\""))
            .nth(1)
            .and_then(|rest| rest.split("</li>").next())
            .unwrap_or_default();
        assert!(card.contains("Tạm tính") || card.contains("—"), "{card}");
        assert!(!card.contains(">Vắng quá thời lượng cho phép<"), "{card}");
    }
}

/// The warnings of a class, folded for matching.
fn warnings(detail: &Value) -> Vec<String> {
    detail["warnings"]
        .as_array()
        .unwrap_or_else(|| panic!("no warnings array in {detail}"))
        .iter()
        .map(|w| fold(w.as_str().unwrap_or_default()))
        .collect()
}

fn has_discussion_warning(detail: &Value) -> bool {
    warnings(detail).iter().any(|w| w.contains("thao luan"))
}

async fn r3_5_study_loop_via_api(app: TestApp) {
    let admin = app.api_login("admin").await;
    let organizer = app.api_login("organizer").await;
    let (province, _) = province_tree(&admin).await;
    let commune = id(&items(&organizer.get_ok("/api/v1/orgs").await)[0]);
    let people = organizer.all_people(Some(commune)).await;
    let exempt: BTreeSet<i64> = people
        .iter()
        .filter(|p| p["exempt_from_activities"] == true)
        .map(id)
        .collect();
    assert!(
        !exempt.is_empty(),
        "the demo commune has exempt members (R3.3)"
    );
    let leader = people
        .iter()
        .find(|p| p["positions"] == "Bí thư Đảng ủy")
        .unwrap_or(&people[0]);

    // A new resolution and a campaign of the organizer's commune.
    let res = organizer
        .post_ok(
            "/api/v1/resolutions",
            &json!({
                "owner_org_id": commune, "kind": "resolution", "number": "12-NQ/ĐU",
                "title": "Nghị quyết về phát triển kinh tế số phường Kon Tum", "issuing_body": "Đảng ủy phường",
                "released_on": "07/02/2026", "classification": "public", "published_on": "08/02/2026",
                "summary": "Chuyển đổi số trong hoạt động của Đảng bộ.",
            }),
            201,
        )
        .await;
    let res = id(&res);
    let campaign = organizer
        .post_ok(
            "/api/v1/campaigns",
            &json!({
                "name": "Học tập Nghị quyết 12-NQ/ĐU", "org_id": commune, "leader_person_id": id(leader),
                "starts_on": "2026-03-01", "ends_on": "2026-04-30", "resolution_ids": [res],
            }),
            201,
        )
        .await;
    let campaign = id(&campaign);

    // An in-person class whose hall is too small (R2.1).
    let class = organizer
        .post_ok(
            &format!("/api/v1/campaigns/{campaign}/classes"),
            &json!({
                "title": "Hội nghị học tập Nghị quyết 12-NQ/ĐU", "org_id": commune, "form": "in_person",
                "audience_tier": "grassroots", "venue_name": "Hội trường nhỏ", "venue_capacity": 20,
                "retake_threshold": 40,
            }),
            201,
        )
        .await;
    let class_id = id(&class);
    assert_eq!(class["participant_count"], 0, "{class}");
    assert_eq!(class["status"], "planned", "{class}");
    let cpath = format!("/api/v1/classes/{class_id}");

    // R3.1: no discussion session yet → a warning, also after a lecture session.
    let detail = organizer.get_ok(&cpath).await;
    assert!(
        has_discussion_warning(&detail),
        "R3.1 warning without sessions: {detail}"
    );
    let s1 = organizer
        .post_ok(
            &format!("{cpath}/sessions"),
            &json!({"date": "10/03/2026", "start_time": "07:30", "duration_minutes": 120,
                    "topic": "Quán triệt nội dung Nghị quyết", "is_discussion": false}),
            201,
        )
        .await;
    let s1 = id(&s1);
    let detail = organizer.get_ok(&cpath).await;
    assert!(
        has_discussion_warning(&detail),
        "R3.1 warning with only a lecture: {detail}"
    );

    // Participants from the commune: exempt members left out (R3.3), nobody cut (R2.1).
    let gen = organizer
        .post_ok(
            &format!("{cpath}/participants/generate"),
            &json!({"org_ids": [commune], "bridge_point_ids": [], "management_levels": [], "include_completed": false}),
            200,
        )
        .await;
    let added = gen["added"].as_i64().expect("added");
    assert_eq!(
        gen["excluded_exempt"].as_i64(),
        Some(exempt.len() as i64),
        "{gen}"
    );
    assert_eq!(added + exempt.len() as i64, people.len() as i64, "{gen}");
    assert_eq!(gen["excluded_completed_elsewhere"], 0, "{gen}");
    assert!(added > 20, "more people than the hall holds: {gen}");
    let listed = items(&organizer.get_ok(&format!("{cpath}/participants")).await);
    assert_eq!(
        listed.len() as i64,
        added,
        "the list is not cut to the capacity"
    );
    let listed_people: BTreeSet<i64> = listed
        .iter()
        .map(|p| p["person_id"].as_i64().unwrap())
        .collect();
    assert!(
        listed_people.is_disjoint(&exempt),
        "no exempt member is listed"
    );
    let detail = organizer.get_ok(&cpath).await;
    assert_eq!(
        detail["class"]["participant_count"].as_i64(),
        Some(added),
        "{detail}"
    );
    let overflow = (added - 20).to_string();
    assert!(
        warnings(&detail)
            .iter()
            .any(|w| w.contains(&overflow) || w.contains("suc chua")),
        "R2.1 overflow warning ({overflow} over): {:?}",
        detail["warnings"]
    );
    // Generating again adds nobody twice.
    let again = organizer
        .post_ok(
            &format!("{cpath}/participants/generate"),
            &json!({"org_ids": [commune], "bridge_point_ids": [], "management_levels": [], "include_completed": false}),
            200,
        )
        .await;
    assert_eq!(again["added"], 0, "{again}");
    assert_eq!(again["already_listed"].as_i64(), Some(added), "{again}");

    // The discussion session clears the R3.1 warning. Class time: 120 + 80 = 200 minutes.
    let s2 = organizer
        .post_ok(
            &format!("{cpath}/sessions"),
            &json!({"date": "10/03/2026", "start_time": "13:30", "duration_minutes": 80,
                    "topic": "Thảo luận, liên hệ thực tiễn", "is_discussion": true}),
            201,
        )
        .await;
    let s2 = id(&s2);
    let detail = organizer.get_ok(&cpath).await;
    assert!(
        !has_discussion_warning(&detail),
        "no R3.1 warning now: {:?}",
        detail["warnings"]
    );
    let sessions = detail["sessions"].as_array().expect("sessions");
    assert_eq!(sessions.len(), 2);
    let minutes: i64 = sessions
        .iter()
        .map(|s| s["duration_minutes"].as_i64().unwrap())
        .sum();
    assert_eq!(minutes, 200);

    // Attendance. Everyone present, except:
    //   a: absent from session 2 → 80/200 = exactly 40% → no retake
    //   b: absent from session 2 and 1 minute late to session 1 → 81 → retake
    //   c: excused from session 1 (120 min) → missed and excused 120 → retake
    //   d: 30 min late and 50 min early in session 1 → exactly 80 → no retake
    let sheet = items(
        &organizer
            .get_ok(&format!("/api/v1/sessions/{s1}/attendance"))
            .await,
    );
    assert_eq!(sheet.len() as i64, added);
    assert!(
        sheet.iter().all(|r| r["status"].is_null()),
        "nothing recorded yet"
    );
    let pid = |i: usize| sheet[i]["participant_id"].as_i64().unwrap();
    let (a, b, c, d) = (pid(0), pid(1), pid(2), pid(3));
    let mut m1 = Vec::new();
    let mut m2 = Vec::new();
    for r in &sheet {
        let p = r["participant_id"].as_i64().unwrap();
        m1.push(match p {
            _ if p == b => json!({"participant_id": p, "status": "present", "late_minutes": 1}),
            _ if p == c => json!({"participant_id": p, "status": "excused", "reason": "Ốm, có giấy của trạm y tế"}),
            _ if p == d => json!({"participant_id": p, "status": "present", "late_minutes": 30, "left_early_minutes": 50}),
            _ => json!({"participant_id": p, "status": "present"}),
        });
        m2.push(if p == a || p == b {
            json!({"participant_id": p, "status": "absent"})
        } else {
            json!({"participant_id": p, "status": "present"})
        });
    }
    let r = organizer
        .put(
            &format!("/api/v1/sessions/{s1}/attendance"),
            &json!({"marks": m1}),
        )
        .await;
    r.expect(200);
    assert_eq!(r.json()["recorded"].as_i64(), Some(added));
    let r = organizer
        .put(
            &format!("/api/v1/sessions/{s2}/attendance"),
            &json!({"marks": m2}),
        )
        .await;
    r.expect(200);
    assert_eq!(r.json()["recorded"].as_i64(), Some(added));
    let sheet1 = items(
        &organizer
            .get_ok(&format!("/api/v1/sessions/{s1}/attendance"))
            .await,
    );
    let row_c = sheet1
        .iter()
        .find(|r| r["participant_id"] == c)
        .expect("c on the sheet");
    assert_eq!(row_c["status"], "excused");
    assert_eq!(row_c["reason"], "Ốm, có giấy của trạm y tế");
    let row_d = sheet1.iter().find(|r| r["participant_id"] == d).expect("d");
    assert_eq!(row_d["late_minutes"], 30);
    assert_eq!(row_d["left_early_minutes"], 50);

    // Results, weighted by minutes (R3.5).
    let results = organizer.get_ok(&format!("{cpath}/results")).await;
    assert_eq!(
        results["class_minutes"],
        200,
        "{}",
        short(&results.to_string())
    );
    assert_eq!(results["threshold"], 40);
    let by_pid: BTreeMap<i64, Value> = items(&results["results"])
        .into_iter()
        .map(|r| (r["participant_id"].as_i64().unwrap(), r))
        .collect();
    assert_eq!(by_pid.len() as i64, added);
    let summary = |p: i64| by_pid[&p]["summary"].clone();
    assert_eq!(summary(a)["missed_minutes"], 80);
    assert_eq!(
        summary(a)["needs_retake"],
        false,
        "exactly 40% is not a retake"
    );
    assert_eq!(summary(b)["missed_minutes"], 81);
    assert_eq!(
        summary(b)["needs_retake"],
        true,
        "just over 40% is a retake"
    );
    assert_eq!(
        summary(c)["missed_minutes"],
        120,
        "an excused absence counts as missed"
    );
    assert_eq!(
        summary(c)["excused_minutes"],
        120,
        "…and is shown as excused"
    );
    assert_eq!(summary(c)["needs_retake"], true);
    assert_eq!(
        summary(d)["missed_minutes"],
        80,
        "late and early minutes count"
    );
    assert_eq!(summary(d)["needs_retake"], false);
    assert_eq!(summary(d)["attended_minutes"], 120);
    let e = pid(4);
    assert_eq!(summary(e)["missed_minutes"], 0);
    assert_eq!(summary(e)["attended_minutes"], 200);
    let retake_pids: BTreeSet<i64> = items(&results["retakes"])
        .iter()
        .map(|r| r["participant_id"].as_i64().unwrap())
        .collect();
    assert_eq!(retake_pids, BTreeSet::from([b, c]));

    // Finish: retakes fixed, completion recorded for everyone else (R2.5).
    let fin = organizer
        .post_ok(&format!("{cpath}/finish"), &json!({}), 200)
        .await;
    assert_eq!(fin["participants"].as_i64(), Some(added), "{fin}");
    assert_eq!(fin["retakes"], 2, "{fin}");
    assert_eq!(fin["completions"].as_i64(), Some(added - 2), "{fin}");
    let detail = organizer.get_ok(&cpath).await;
    assert_eq!(detail["class"]["status"], "finished");
    let person_of = |p: i64| {
        sheet
            .iter()
            .find(|r| r["participant_id"] == p)
            .and_then(|r| r["person_id"].as_i64())
            .unwrap()
    };
    let (pa, pb, pc) = (person_of(a), person_of(b), person_of(c));
    let retakes = items(&organizer.get_ok("/api/v1/retakes").await);
    let mine: BTreeSet<i64> = retakes
        .iter()
        .filter(|r| r["class_id"] == class_id)
        .map(|r| r["person_id"].as_i64().unwrap())
        .collect();
    assert_eq!(mine, BTreeSet::from([pb, pc]), "open retakes of the class");
    assert!(retakes
        .iter()
        .filter(|r| r["class_id"] == class_id)
        .all(|r| r["full_name"].as_str().is_some_and(|n| !n.is_empty())));
    // A finished class takes no more attendance.
    let r = organizer
        .put(
            &format!("/api/v1/sessions/{s1}/attendance"),
            &json!({"marks": [{"participant_id": a, "status": "absent"}]}),
        )
        .await;
    r.expect_error(422, "class_finished");

    // R2.5: a province class on the same resolution, from the same commune: those who completed
    // it in the commune's class are left out, the two who owe a retake are listed.
    let province_people = admin.all_people(Some(province)).await;
    let top = province_people
        .iter()
        .find(|p| p["positions"] == "Bí thư Tỉnh ủy")
        .unwrap_or(&province_people[0]);
    let campaign2 = admin
        .post_ok(
            "/api/v1/campaigns",
            &json!({
                "name": "Tỉnh học tập Nghị quyết 12-NQ/ĐU", "org_id": province, "leader_person_id": id(top),
                "starts_on": "01/04/2026", "ends_on": "30/06/2026", "resolution_ids": [res],
            }),
            201,
        )
        .await;
    let class2 = admin
        .post_ok(
            &format!("/api/v1/campaigns/{}/classes", id(&campaign2)),
            &json!({
                "title": "Lớp học lại cấp tỉnh Nghị quyết 12-NQ/ĐU", "org_id": province, "form": "in_person",
                "audience_tier": "grassroots", "venue_name": "Hội trường Tỉnh ủy",
            }),
            201,
        )
        .await;
    let c2path = format!("/api/v1/classes/{}", id(&class2));
    let gen2 = admin
        .post_ok(
            &format!("{c2path}/participants/generate"),
            &json!({"org_ids": [commune], "bridge_point_ids": [], "management_levels": [], "include_completed": false}),
            200,
        )
        .await;
    assert_eq!(
        gen2["excluded_completed_elsewhere"].as_i64(),
        Some(added - 2),
        "{gen2}"
    );
    assert_eq!(
        gen2["excluded_exempt"].as_i64(),
        Some(exempt.len() as i64),
        "{gen2}"
    );
    assert_eq!(gen2["added"], 2, "{gen2}");
    let listed2: BTreeSet<i64> = items(&admin.get_ok(&format!("{c2path}/participants")).await)
        .iter()
        .map(|p| p["person_id"].as_i64().unwrap())
        .collect();
    assert_eq!(listed2, BTreeSet::from([pb, pc]));
    assert!(!listed2.contains(&pa));
    // The override brings the others in.
    let gen3 = admin
        .post_ok(
            &format!("{c2path}/participants/generate"),
            &json!({"org_ids": [commune], "bridge_point_ids": [], "management_levels": [], "include_completed": true}),
            200,
        )
        .await;
    assert_eq!(gen3["added"].as_i64(), Some(added - 2), "{gen3}");
    assert_eq!(gen3["already_listed"], 2, "{gen3}");
    assert_eq!(gen3["excluded_completed_elsewhere"], 0, "{gen3}");
    let listed3 = items(&admin.get_ok(&format!("{c2path}/participants")).await);
    assert_eq!(listed3.len() as i64, added);
}

async fn study_loop_via_html_forms(app: TestApp) {
    let browser = app.browser_login("organizer").await;
    // Ids through the API with the same session cookie (GET needs no CSRF header).
    let commune = id(&items(&browser.api_get("/api/v1/orgs").await.json())[0]);
    let detail = browser
        .api_get(&format!("/api/v1/orgs/{commune}"))
        .await
        .json();
    let cells = detail["children"].as_array().expect("children").clone();
    let cell = id(&cells[1]);
    let people = items(&browser.api_get("/api/v1/people?per_page=500").await.json());
    let leader = people
        .iter()
        .find(|p| p["positions"] == "Bí thư Đảng ủy")
        .unwrap_or(&people[0]);
    let res = items(
        &browser
            .api_get("/api/v1/resolutions?per_page=500")
            .await
            .json(),
    )
    .into_iter()
    .find(|r| r["number"] == "144-QĐ/TW")
    .expect("the public regulation 144-QĐ/TW");
    assert_eq!(res["number"], "144-QĐ/TW");

    // The forms render with their csrf field.
    let page = browser.get("/campaigns/new").await;
    page.expect(200);
    assert_eq!(
        scrape_csrf(&page.text).as_deref(),
        Some(browser.csrf.as_str())
    );

    // Campaign.
    let r = browser
        .post_fields(
            "/campaigns",
            form(&[
                ("name", "Đợt học tập Quy định 144 qua biểu mẫu"),
                ("org_id", &commune.to_string()),
                ("leader_person_id", &id(leader).to_string()),
                ("starts_on", "01/05/2026"),
                ("ends_on", "30/06/2026"),
                ("resolution_ids", &id(&res).to_string()),
            ]),
        )
        .await;
    let campaign = id_from_location(&r.expect_redirect("/campaigns/"));
    let page = browser.get(&format!("/campaigns/{campaign}")).await;
    page.expect(200);
    assert!(page
        .html()
        .contains("Đợt học tập Quy định 144 qua biểu mẫu"));
    browser
        .get(&format!("/campaigns/{campaign}/classes/new"))
        .await
        .expect(200);

    // Class.
    let title = "Lớp học Quy định 144 của Chi bộ qua biểu mẫu";
    let r = browser
        .post_form(
            &format!("/campaigns/{campaign}/classes"),
            &[
                ("title", title),
                ("org_id", &commune.to_string()),
                ("form", "in_person"),
                ("audience_tier", "grassroots"),
                ("venue_name", "Nhà văn hóa thôn"),
                ("venue_capacity", "200"),
                ("chair_person_id", ""),
                ("opening_speaker_id", ""),
                ("closing_speaker_id", ""),
                ("retake_threshold", "40"),
            ],
        )
        .await;
    let class = id_from_location(&r.expect_redirect("/classes/"));

    // Sessions: 90 minutes of lecture, 60 of discussion (150 in all; 40% = 60).
    for (time, minutes, topic, discussion) in [
        ("07:30", "90", "Nội dung cơ bản của Quy định 144", false),
        ("09:30", "60", "Thảo luận ở chi bộ", true),
    ] {
        let mut f = vec![
            ("date", "12/05/2026"),
            ("start_time", time),
            ("duration_minutes", minutes),
            ("topic", topic),
        ];
        if discussion {
            f.push(("is_discussion", "on"));
        }
        let r = browser
            .post_form(&format!("/classes/{class}/sessions"), &f)
            .await;
        r.expect(303);
    }
    let api_class = browser
        .api_get(&format!("/api/v1/classes/{class}"))
        .await
        .json();
    let sessions = api_class["sessions"].as_array().expect("sessions").clone();
    assert_eq!(sessions.len(), 2, "{api_class}");
    assert_eq!(
        sessions
            .iter()
            .filter(|s| s["is_discussion"] == true)
            .count(),
        1,
        "is_discussion=on makes a discussion session: {api_class}"
    );
    let s_long = sessions
        .iter()
        .find(|s| s["duration_minutes"] == 90)
        .map(id)
        .expect("90 min session");
    let s_short = sessions
        .iter()
        .find(|s| s["duration_minutes"] == 60)
        .map(id)
        .expect("60 min session");

    // Participants from one cell.
    let r = browser
        .post_fields(
            &format!("/classes/{class}/participants/generate"),
            form(&[("org_ids", &cell.to_string())]),
        )
        .await;
    r.expect(303);
    let participants = items(
        &browser
            .api_get(&format!("/api/v1/classes/{class}/participants"))
            .await
            .json(),
    );
    assert!(
        participants.len() >= 10,
        "a cell's members: {}",
        participants.len()
    );

    // Attendance through the sheet's form fields.
    let page = browser.get(&format!("/sessions/{s_long}/attendance")).await;
    page.expect(200);
    let mut on_page = scrape_suffix_ids(&page.text, "status_");
    on_page.sort_unstable();
    let mut expected: Vec<i64> = participants.iter().map(id).collect();
    expected.sort_unstable();
    assert_eq!(
        on_page, expected,
        "the sheet has a status_{{pid}} field per participant"
    );
    // The absentee misses the 90-minute session: 60% → retake. The late one misses 10 minutes.
    let absentee = &participants[0];
    let late = &participants[1];
    let mut fields = Vec::new();
    for p in &participants {
        let pid = id(p);
        let status = if pid == id(absentee) {
            "absent"
        } else {
            "present"
        };
        fields.push((format!("status_{pid}"), status.to_string()));
        fields.push((
            format!("late_{pid}"),
            if pid == id(late) {
                "10".into()
            } else {
                "0".to_string()
            },
        ));
        fields.push((format!("early_{pid}"), "0".to_string()));
        fields.push((format!("reason_{pid}"), String::new()));
    }
    let r = browser
        .post_fields(&format!("/sessions/{s_long}/attendance"), fields)
        .await;
    r.expect(303);
    let mut fields = Vec::new();
    for p in &participants {
        let pid = id(p);
        fields.push((format!("status_{pid}"), "present".to_string()));
        fields.push((format!("late_{pid}"), "0".to_string()));
        fields.push((format!("early_{pid}"), "0".to_string()));
        fields.push((format!("reason_{pid}"), String::new()));
    }
    browser
        .post_fields(&format!("/sessions/{s_short}/attendance"), fields)
        .await
        .expect(303);
    let sheet = items(
        &browser
            .api_get(&format!("/api/v1/sessions/{s_long}/attendance"))
            .await
            .json(),
    );
    let row = |p: &Value| {
        sheet
            .iter()
            .find(|r| r["participant_id"] == id(p))
            .cloned()
            .expect("row")
    };
    assert_eq!(row(absentee)["status"], "absent");
    assert_eq!(row(late)["status"], "present");
    assert_eq!(row(late)["late_minutes"], 10);
    assert!(
        sheet.iter().all(|r| !r["status"].is_null()),
        "everyone recorded"
    );

    // Finish.
    browser
        .post_form(&format!("/classes/{class}/finish"), &[])
        .await
        .expect(303);
    let results = browser
        .api_get(&format!("/api/v1/classes/{class}/results"))
        .await
        .json();
    let retakes: Vec<i64> = items(&results["retakes"])
        .iter()
        .map(|r| r["participant_id"].as_i64().unwrap())
        .collect();
    assert_eq!(
        retakes,
        vec![id(absentee)],
        "{}",
        short(&results.to_string())
    );
    let api_class = browser
        .api_get(&format!("/api/v1/classes/{class}"))
        .await
        .json();
    assert_eq!(api_class["class"]["status"], "finished");

    // The class page (results tab) shows the retake list with the absentee's name, and only
    // theirs: the late participant passed.
    let name = absentee["full_name"].as_str().unwrap().to_string();
    let passed = late["full_name"].as_str().unwrap().to_string();
    let page = browser.get(&format!("/classes/{class}")).await;
    page.expect(200);
    assert!(page.html().contains(title));
    let page = browser.get(&format!("/classes/{class}?tab=results")).await;
    page.expect(200);
    let html = page.html();
    let at = html
        .find("Phải học lại (1)")
        .unwrap_or_else(|| panic!("no retake list of one on the results tab: {}", short(&html)));
    let section = &html[at..];
    let section = match section[1..].find("<h2") {
        Some(end) => &section[..end + 1],
        None => section,
    };
    assert!(section.contains(&name), "the retake list names {name}");
    if passed != name {
        assert!(
            !section.contains(&passed),
            "{passed} passed and is not in the retake list"
        );
    }
    // And the retakes page too.
    let page = browser.get("/retakes").await;
    page.expect(200);
    let html = page.html();
    assert!(html.contains(&name), "/retakes lists {name}");
    assert!(html.contains(title), "/retakes names the class");
}
