//! Checking understanding (issue 16; R3.4, R4.1, R4.2, R6.3), driven through the JSON API on the
//! demo province: question banks per resolution checked field by field and refused for a
//! classified resolution (R2.8); published questionnaires keep the question versions they hold;
//! a participant's attempt saves as it goes, is scored once from the keys with the time measured
//! by the server, and is refused outside its window; results are personal (the person, their
//! cell's secretary and the organizers above); anonymous surveys store no person beside the
//! answers; paper and oral results are entered once; a cell quiz draws questions per member; a
//! contest ranks by score, time and the guess; corrections need a reason and are audited; the
//! roll-up follows the submissions; written reflections are handed in, recorded, graded and
//! reminded. What is stored is read back from the database, not only from the answers.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Duration, Utc};
use domain::auth::{Clearance, Role};
use domain::ids::{OrgId, PersonId};
use serde_json::{json, Value};

use crate::harness::*;

both_engines! {
    r4_1_question_bank_checks_every_field_and_refuses_classified => r4_1_question_bank_checks_every_field_and_refuses_classified_sqlite, r4_1_question_bank_checks_every_field_and_refuses_classified_postgres;
    r4_1_published_questionnaires_keep_their_question_versions => r4_1_published_questionnaires_keep_their_question_versions_sqlite, r4_1_published_questionnaires_keep_their_question_versions_postgres;
    r4_1_class_quiz_saves_as_it_goes_and_scores_once => r4_1_class_quiz_saves_as_it_goes_and_scores_once_sqlite, r4_1_class_quiz_saves_as_it_goes_and_scores_once_postgres;
    r4_1_the_window_decides_when_answers_count => r4_1_the_window_decides_when_answers_count_sqlite, r4_1_the_window_decides_when_answers_count_postgres;
    r4_1_attempts_are_personal => r4_1_attempts_are_personal_sqlite, r4_1_attempts_are_personal_postgres;
    r4_1_anonymous_surveys_store_no_person => r4_1_anonymous_surveys_store_no_person_sqlite, r4_1_anonymous_surveys_store_no_person_postgres;
    r4_2_paper_and_oral_results_are_entered_once => r4_2_paper_and_oral_results_are_entered_once_sqlite, r4_2_paper_and_oral_results_are_entered_once_postgres;
    r4_2_cell_quiz_draws_questions_for_each_member => r4_2_cell_quiz_draws_questions_for_each_member_sqlite, r4_2_cell_quiz_draws_questions_for_each_member_postgres;
    r6_3_contest_ranks_by_score_time_then_guess => r6_3_contest_ranks_by_score_time_then_guess_sqlite, r6_3_contest_ranks_by_score_time_then_guess_postgres;
    r4_1_corrections_need_a_reason_and_are_audited => r4_1_corrections_need_a_reason_and_are_audited_sqlite, r4_1_corrections_need_a_reason_and_are_audited_postgres;
    r4_2_rollup_follows_the_submissions => r4_2_rollup_follows_the_submissions_sqlite, r4_2_rollup_follows_the_submissions_postgres;
    r3_4_reflections_handed_in_recorded_graded_and_reminded => r3_4_reflections_handed_in_recorded_graded_and_reminded_sqlite, r3_4_reflections_handed_in_recorded_graded_and_reminded_postgres;
}

// ---------------------------------------------------------------------------------------------
// Helpers

/// `SELECT COUNT(*) …` (or any one integer) straight from the database.
async fn count(app: &TestApp, sql: &str) -> i64 {
    let (n,): (i64,) =
        store::db_run!(&app.db, p => sqlx::query_as(sql).fetch_one(p).await).expect(sql);
    n
}

/// One integer from the database for a query with one bound id.
async fn int_of(app: &TestApp, sql: &str, bind: i64) -> i64 {
    let (n,): (i64,) =
        store::db_run!(&app.db, p => sqlx::query_as(sql).bind(bind).fetch_one(p).await).expect(sql);
    n
}

/// (submitted_count, score_sum) kept on a questionnaire.
async fn kept(app: &TestApp, quiz: i64) -> (i64, i64) {
    store::db_run!(&app.db, p => sqlx::query_as::<_, (i64, i64)>(
        "SELECT submitted_count, score_sum FROM quizzes WHERE id = $1").bind(quiz).fetch_one(p).await)
    .expect("quiz counts")
}

/// The stored answer of one position of an attempt.
async fn stored_answer(app: &TestApp, attempt: i64, position: i64) -> Option<String> {
    let (a,): (Option<String>,) = store::db_run!(&app.db, p => sqlx::query_as(
        "SELECT answer FROM attempt_answers WHERE attempt_id = $1 AND position = $2")
        .bind(attempt).bind(position).fetch_one(p).await)
    .expect("attempt answer");
    a
}

/// Moves a questionnaire's closing time a minute into the past.
async fn close_now(app: &TestApp, quiz: i64) {
    let past = Utc::now() - Duration::minutes(1);
    let n = store::db_exec!(&app.db, c => sqlx::query("UPDATE quizzes SET closes_at = $1 WHERE id = $2")
        .bind(past).bind(quiz).execute(c).await)
    .expect("close");
    assert_eq!(n, 1);
}

async fn set_duration(app: &TestApp, attempt: i64, ms: i64) {
    let n = store::db_exec!(&app.db, c => sqlx::query("UPDATE attempts SET duration_ms = $1 WHERE id = $2")
        .bind(ms).bind(attempt).execute(c).await)
    .expect("duration");
    assert_eq!(n, 1);
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

/// A new account (no second factor, no clearance) holding `role` on `org`, logged in.
async fn account(app: &TestApp, username: &str, person: Option<i64>, org: i64, role: Role) -> Api {
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
    app.api_login(username).await
}

/// The demo as the tests use it: the four accounts, the first commune and its cells, the
/// guideline 26-HD/BTGTU (public) and the commune's class studying it, whose participants are
/// the commune's members.
struct Fx {
    admin: Api,
    organizer: Api,
    secretary: Api,
    member: Api,
    province: i64,
    commune: i64,
    /// The secretary's (and the member's) cell, and another cell of the commune.
    cell: i64,
    other_cell: i64,
    member_p: i64,
    secretary_p: i64,
    /// The persons of the four demo accounts.
    taken: Vec<i64>,
    res: i64,
    class: i64,
    /// The class's participants.
    listed: BTreeSet<i64>,
    /// Every person of the commune: their organization, and whether active.
    org_of: BTreeMap<i64, i64>,
    active: BTreeSet<i64>,
}

async fn fixture(app: &TestApp) -> Fx {
    let admin = app.api_login("admin").await;
    let organizer = app.api_login("organizer").await;
    let secretary = app.api_login("secretary").await;
    let member = app.api_login("member").await;
    let (province, _) = province_tree(&admin).await;
    let commune = id(&items(&organizer.get_ok("/api/v1/orgs").await)[0]);
    let cell = grant_org(&secretary);
    let member_p = me_person(&member).await;
    let secretary_p = me_person(&secretary).await;
    let taken = vec![
        member_p,
        secretary_p,
        me_person(&organizer).await,
        me_person(&admin).await,
    ];
    // The guideline 26-HD/BTGTU (public, studied in the commune's campaign): the demo keeps no
    // bank for it, so what the tests count is theirs.
    let res = organizer.resolution_id("26-HD/BTGTU").await;
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
    let people = organizer.all_people(Some(commune)).await;
    let org_of: BTreeMap<i64, i64> = people
        .iter()
        .map(|p| (id(p), p["org_id"].as_i64().expect("org_id")))
        .collect();
    let active: BTreeSet<i64> = people
        .iter()
        .filter(|p| p["status"] == "active")
        .map(id)
        .collect();
    assert!(listed.contains(&member_p), "the member takes the class");
    assert!(
        listed.contains(&secretary_p),
        "the secretary takes the class"
    );
    assert_eq!(org_of.get(&member_p), Some(&cell));
    // Another cell of the commune with at least three active participants.
    let cells = organizer.get_ok(&format!("/api/v1/orgs/{commune}")).await["children"]
        .as_array()
        .expect("children")
        .iter()
        .map(id)
        .collect::<Vec<_>>();
    let other_cell = cells
        .iter()
        .copied()
        .filter(|c| *c != cell)
        .find(|c| {
            listed
                .iter()
                .filter(|p| org_of.get(p) == Some(c) && active.contains(p))
                .count()
                >= 3
        })
        .expect("another cell with participants");
    Fx {
        admin,
        organizer,
        secretary,
        member,
        province,
        commune,
        cell,
        other_cell,
        member_p,
        secretary_p,
        taken,
        res,
        class,
        listed,
        org_of,
        active,
    }
}

impl Fx {
    /// `n` active participants of the class in `org`, other than the demo accounts' persons and
    /// `except`.
    #[track_caller]
    fn others(&self, org: i64, n: usize, except: &[i64]) -> Vec<i64> {
        let v: Vec<i64> = self
            .listed
            .iter()
            .copied()
            .filter(|p| {
                self.org_of.get(p) == Some(&org)
                    && self.active.contains(p)
                    && !self.taken.contains(p)
                    && !except.contains(p)
            })
            .take(n)
            .collect();
        assert_eq!(v.len(), n, "{n} participants in org {org}");
        v
    }
}

fn single(prompt: &str, choices: &[&str], key: &str) -> Value {
    json!({"kind": "single", "prompt": prompt, "choices": choices, "answer": key})
}
fn multiple(prompt: &str, choices: &[&str], key: &str) -> Value {
    json!({"kind": "multiple", "prompt": prompt, "choices": choices, "answer": key})
}
fn truth(prompt: &str, key: &str) -> Value {
    json!({"kind": "true_false", "prompt": prompt, "answer": key})
}
fn short_answer(prompt: &str, key: &str) -> Value {
    json!({"kind": "short_answer", "prompt": prompt, "answer": key})
}
fn essay(prompt: &str, points: i64) -> Value {
    json!({"kind": "essay", "prompt": prompt, "points": points})
}

/// Adds a question to the resolution's bank, kept by `org`; the stored question.
async fn add(api: &Api, res: i64, org: i64, mut body: Value) -> Value {
    body["org_id"] = json!(org);
    api.post_ok(&format!("/api/v1/resolutions/{res}/questions"), &body, 201)
        .await
}

/// Adds questions; their ids in order.
async fn add_all(api: &Api, res: i64, org: i64, bodies: Vec<Value>) -> Vec<i64> {
    let mut out = Vec::new();
    for b in bodies {
        out.push(id(&add(api, res, org, b).await));
    }
    out
}

/// RFC 3339, `minutes` from now.
fn at(minutes: i64) -> String {
    (Utc::now() + Duration::minutes(minutes)).to_rfc3339()
}

/// A questionnaire open from an hour ago for three hours.
fn quiz_body(kind: &str, title: &str, res: i64, org: i64, class: Option<i64>, qs: &[i64]) -> Value {
    json!({"kind": kind, "title": title, "resolution_id": res, "org_id": org, "class_id": class,
           "opens_at": at(-60), "closes_at": at(180), "question_ids": qs})
}

/// Makes and publishes a questionnaire; its id.
async fn publish_new(api: &Api, body: &Value) -> i64 {
    let z = api.post_ok("/api/v1/quizzes", body, 201).await;
    assert_eq!(z["state"], "draft", "{z}");
    let q = id(&z);
    let p = api
        .post_ok(&format!("/api/v1/quizzes/{q}/publish"), &json!({}), 200)
        .await;
    assert_eq!(p["state"], "published", "{p}");
    q
}

/// Starts (or returns) the caller's attempt.
async fn start(api: &Api, quiz: i64) -> Value {
    api.post_ok(&format!("/api/v1/quizzes/{quiz}/attempt"), &json!({}), 200)
        .await
}

fn answers(list: &[(i64, &str)]) -> Value {
    json!({"answers": list.iter().map(|(p, a)| json!({"position": p, "answer": a})).collect::<Vec<_>>()})
}

fn attempt_id(detail: &Value) -> i64 {
    id(&detail["attempt"])
}

/// The position of the question whose prompt starts with `prompt` on an attempt.
#[track_caller]
fn pos_of(detail: &Value, prompt: &str) -> i64 {
    detail["questions"]
        .as_array()
        .expect("questions")
        .iter()
        .find(|q| q["prompt"].as_str().unwrap_or("").starts_with(prompt))
        .and_then(|q| q["position"].as_i64())
        .unwrap_or_else(|| panic!("no question {prompt:?} in {detail}"))
}

/// The answer saved at `position` on an attempt detail.
#[track_caller]
fn answer_at(detail: &Value, position: i64) -> Value {
    detail["questions"]
        .as_array()
        .expect("questions")
        .iter()
        .find(|q| q["position"] == position)
        .map(|q| q["answer"].clone())
        .unwrap_or_else(|| panic!("no position {position} in {detail}"))
}

/// Submits the caller's attempt.
async fn submit(api: &Api, attempt: i64, body: &Value) -> Value {
    api.post_ok(&format!("/api/v1/attempts/{attempt}/submit"), body, 200)
        .await
}

/// The ids of a ranking page.
async fn ranking_ids(api: &Api, quiz: i64) -> Vec<i64> {
    items(&api.get_ok(&format!("/api/v1/quizzes/{quiz}/ranking")).await)
        .iter()
        .map(id)
        .collect()
}

#[track_caller]
fn hidden(r: &Resp) {
    assert!(
        matches!(r.status.as_u16(), 403 | 404),
        "{} {}: expected 403 or 404, got {}: {}",
        r.method,
        r.path,
        r.status,
        short(&r.text)
    );
}

const Q_SINGLE: &str = "Chỉ thị 08-CT/TU do cơ quan nào ban hành?";
const Q_MULTI: &str = "Những nội dung nào được Chỉ thị 08-CT/TU yêu cầu đổi mới?";
const Q_TRUTH: &str = "Học tập nghị quyết chỉ dành cho cán bộ chủ chốt. Đúng hay sai?";
const Q_SHORT: &str = "Chỉ thị yêu cầu gì trong việc học tập, quán triệt nghị quyết? (một từ)";
const Q_ESSAY: &str = "Đồng chí hãy liên hệ việc thực hiện Chỉ thị ở chi bộ mình.";

/// The four auto-scored questions of the scoring tests and their keys.
fn four_questions() -> Vec<Value> {
    vec![
        single(
            Q_SINGLE,
            &["Ban Chấp hành Trung ương", "Tỉnh ủy", "Bộ Chính trị"],
            "b",
        ),
        multiple(
            Q_MULTI,
            &[
                "Hình thức học tập",
                "Tổ chức bộ máy",
                "Xây dựng chương trình hành động",
                "Chế độ tiền lương",
            ],
            "c; a",
        ),
        truth(Q_TRUTH, "Sai"),
        short_answer(Q_SHORT, "Đổi mới | doi moi"),
    ]
}

// ---------------------------------------------------------------------------------------------
// 1. Question banks (R4.1, R2.8)

async fn r4_1_question_bank_checks_every_field_and_refuses_classified(app: TestApp) {
    let fx = fixture(&app).await;
    let bank = format!("/api/v1/resolutions/{}/questions", fx.res);
    let all = "SELECT COUNT(*) FROM questions";
    let versions = "SELECT COUNT(*) FROM question_versions";
    // The demo keeps banks of other resolutions: count from here.
    let (q0, v0) = (count(&app, all).await, count(&app, versions).await);

    // One question of each scored kind, keys normalized as stored.
    let s = add(
        &fx.organizer,
        fx.res,
        fx.commune,
        single(Q_SINGLE, &["Trung ương", "Tỉnh ủy", "Bộ Chính trị"], "b"),
    )
    .await;
    assert_eq!(
        (
            s["kind"].clone(),
            s["answer"].clone(),
            s["version"].clone(),
            s["points"].clone()
        ),
        (json!("single"), json!("B"), json!(1), json!(1)),
        "{s}"
    );
    assert_eq!(s["org_id"], fx.commune);
    assert_eq!(s["resolution_id"], fx.res);
    assert_eq!(s["choices"], "Trung ương\nTỉnh ủy\nBộ Chính trị");
    let m = add(
        &fx.organizer,
        fx.res,
        fx.commune,
        multiple(Q_MULTI, &["a", "b", "c"], "c; a"),
    )
    .await;
    assert_eq!(m["answer"], "A,C", "{m}");
    let t = add(&fx.organizer, fx.res, fx.commune, truth(Q_TRUTH, "Đúng")).await;
    assert_eq!(t["answer"], "true", "{t}");
    let sa = add(
        &fx.organizer,
        fx.res,
        fx.commune,
        short_answer(Q_SHORT, "Đổi mới | doi moi"),
    )
    .await;
    assert_eq!(sa["answer"], "Đổi mới|doi moi", "{sa}");
    let e = add(&fx.organizer, fx.res, fx.commune, essay(Q_ESSAY, 20)).await;
    assert_eq!(
        (e["kind"].clone(), e["points"].clone()),
        (json!("essay"), json!(20)),
        "{e}"
    );
    let added: BTreeSet<i64> = [&s, &m, &t, &sa, &e].iter().map(|v| id(v)).collect();
    assert_eq!(count(&app, all).await, q0 + 5);
    assert_eq!(count(&app, versions).await, v0 + 5);
    let listed: BTreeSet<i64> = items(&fx.organizer.get_ok(&bank).await)
        .iter()
        .map(id)
        .collect();
    assert_eq!(listed, added);
    let one = fx
        .organizer
        .get_ok(&format!("/api/v1/questions/{}", id(&s)))
        .await;
    assert_eq!(one["prompt"], Q_SINGLE);

    // Bad input, field by field; nothing stored.
    let bad: Vec<(Value, &str)> = vec![
        (single("Một phương án thôi?", &["Chỉ một"], "A"), "choices"),
        (
            single("Hai đáp án?", &["Một", "Hai", "Ba"], "A,B"),
            "answer",
        ),
        (single("Chữ cái lạ?", &["Một", "Hai", "Ba"], "E"), "answer"),
        (single("Không có đáp án?", &["Một", "Hai"], ""), "answer"),
        (truth("Có lẽ?", "maybe"), "answer"),
        (
            single("Câu hỏi có ký tự điều khiển \u{0007}", &["Một", "Hai"], "A"),
            "prompt",
        ),
        (single("", &["Một", "Hai"], "A"), "prompt"),
        (json!({"kind": "riddle", "prompt": "Câu đố?"}), "kind"),
        (essay("Tự luận quá nhiều điểm", 101), "points"),
    ];
    for (mut body, field) in bad {
        body["org_id"] = json!(fx.commune);
        let v = fx
            .organizer
            .post(&bank, &body)
            .await
            .expect_error(422, "validation_failed");
        assert!(v["fields"][field].is_string(), "{field} for {body}: {v}");
    }
    assert_eq!(count(&app, all).await, q0 + 5, "nothing stored");
    assert_eq!(count(&app, versions).await, v0 + 5);

    // A classified resolution's bank is refused, even to the admin who reads it; nothing stored.
    let secret = fx.admin.resolution_id(SECRET_NUMBER).await;
    let mut body = single("Nội dung mật?", &["Một", "Hai"], "A");
    body["org_id"] = json!(fx.province);
    fx.admin
        .post(&format!("/api/v1/resolutions/{secret}/questions"), &body)
        .await
        .expect_error(422, "classified_questions");
    // The commune's organizer, without clearance, does not even see it.
    body["org_id"] = json!(fx.commune);
    hidden(
        &fx.organizer
            .post(&format!("/api/v1/resolutions/{secret}/questions"), &body)
            .await,
    );
    assert_eq!(count(&app, all).await, q0 + 5, "nothing stored");
    let (n,): (i64,) = store::db_run!(&app.db, p => sqlx::query_as(
        "SELECT COUNT(*) FROM questions WHERE resolution_id = $1").bind(secret).fetch_one(p).await)
    .unwrap();
    assert_eq!(n, 0);

    // A member (and a secretary: no organizer role) cannot read the bank, whose keys are in it,
    // nor add to it. The list answers with the questions the caller keeps — none — as the bank
    // page does; a refusal would do as well. No prompt or key comes out either way.
    for api in [&fx.member, &fx.secretary] {
        let r = api.get(&bank).await;
        match r.status.as_u16() {
            403 | 404 => {}
            200 => assert_eq!(items(&r.json()), Vec::<Value>::new(), "{}", r.text),
            other => panic!("GET {bank}: {other}: {}", r.text),
        }
        assert!(!r.text.contains(Q_SINGLE) && !r.text.contains("Đổi mới|doi moi"));
        hidden(&api.get(&format!("/api/v1/questions/{}", id(&s))).await);
        let mut b = single("Câu của đảng viên?", &["Một", "Hai"], "A");
        b["org_id"] = json!(fx.commune);
        hidden(&api.post(&bank, &b).await);
        hidden(
            &api.put(
                &format!("/api/v1/questions/{}", id(&s)),
                &single("Sửa câu hỏi?", &["Một", "Hai"], "B"),
            )
            .await,
        );
    }
    assert_eq!(count(&app, all).await, q0 + 5);
    assert_eq!(count(&app, versions).await, v0 + 5, "no version written");
}

// ---------------------------------------------------------------------------------------------
// 2. Versions (R4.1)

async fn r4_1_published_questionnaires_keep_their_question_versions(app: TestApp) {
    let fx = fixture(&app).await;
    let q1 = id(&add(
        &fx.organizer,
        fx.res,
        fx.commune,
        single(Q_SINGLE, &["Ban Bí thư", "Tỉnh ủy", "Bộ Chính trị"], "A"),
    )
    .await);
    let q2 = id(&add(&fx.organizer, fx.res, fx.commune, truth(Q_TRUTH, "Sai")).await);
    let quiz = publish_new(
        &fx.organizer,
        &quiz_body(
            "quiz",
            "Kiểm tra nhận thức Chỉ thị 08-CT/TU",
            fx.res,
            fx.commune,
            Some(fx.class),
            &[q1, q2],
        ),
    )
    .await;

    // An edit writes version 2 (the key moves to B).
    let edited = "Chỉ thị 08-CT/TU là văn bản của cơ quan nào? (đã sửa)";
    let v2 = fx
        .organizer
        .put(
            &format!("/api/v1/questions/{q1}"),
            &single(edited, &["Ban Bí thư", "Tỉnh ủy", "Bộ Chính trị"], "B"),
        )
        .await
        .expect(200)
        .json();
    assert_eq!(v2["version"], 2, "{v2}");
    assert_eq!(v2["prompt"], edited);
    assert_eq!(v2["answer"], "B");
    assert_eq!(
        int_of(
            &app,
            "SELECT COUNT(*) FROM question_versions WHERE question_id = $1",
            q1
        )
        .await,
        2
    );
    assert_eq!(
        int_of(&app, "SELECT version FROM questions WHERE id = $1", q1).await,
        2
    );

    // The published questionnaire still holds version 1: for its runner…
    let d = fx
        .organizer
        .get_ok(&format!("/api/v1/quizzes/{quiz}"))
        .await;
    assert_eq!(d["runs"], true);
    let held = d["questions"]
        .as_array()
        .expect("questions")
        .iter()
        .find(|q| q["question_id"] == q1)
        .cloned()
        .expect("q1 in the quiz");
    assert_eq!(held["prompt"], Q_SINGLE, "{d}");
    assert_eq!(held["answer"], "A");
    // …and on a member's attempt, scored with version 1's key.
    let a = start(&fx.member, quiz).await;
    let p1 = pos_of(&a, Q_SINGLE);
    assert!(
        !a.to_string().contains("(đã sửa)"),
        "the attempt shows version 1: {a}"
    );
    let done = submit(
        &fx.member,
        attempt_id(&a),
        &answers(&[(p1, "A"), (pos_of(&a, Q_TRUTH), "Sai")]),
    )
    .await;
    assert_eq!(done["attempt"]["score"], 2, "{done}");

    // A new questionnaire takes version 2.
    let z2 = fx
        .organizer
        .post_ok(
            "/api/v1/quizzes",
            &quiz_body(
                "quiz",
                "Kiểm tra lần 2",
                fx.res,
                fx.commune,
                Some(fx.class),
                &[q1],
            ),
            201,
        )
        .await;
    let d2 = fx
        .organizer
        .get_ok(&format!("/api/v1/quizzes/{}", id(&z2)))
        .await;
    assert_eq!(d2["questions"][0]["prompt"], edited, "{d2}");
    assert_eq!(d2["questions"][0]["answer"], "B");
    // The first questionnaire is unchanged after all that.
    let d = fx
        .organizer
        .get_ok(&format!("/api/v1/quizzes/{quiz}"))
        .await;
    assert!(
        d["questions"]
            .as_array()
            .expect("questions")
            .iter()
            .any(|q| q["prompt"] == Q_SINGLE && q["answer"] == "A"),
        "{d}"
    );
}

// ---------------------------------------------------------------------------------------------
// 3. A class quiz taken by a participant (R4.1)

async fn r4_1_class_quiz_saves_as_it_goes_and_scores_once(app: TestApp) {
    let fx = fixture(&app).await;
    let qs = add_all(&fx.organizer, fx.res, fx.commune, four_questions()).await;
    let quiz = publish_new(
        &fx.organizer,
        &quiz_body(
            "quiz",
            "Kiểm tra nhận thức sau hội nghị",
            fx.res,
            fx.commune,
            Some(fx.class),
            &qs,
        ),
    )
    .await;
    // The member sees it among theirs.
    assert!(
        fx.member
            .get_ok("/api/v1/me/quizzes")
            .await
            .as_array()
            .expect("list")
            .iter()
            .any(|z| id(z) == quiz),
        "the member's questionnaires list it"
    );

    // Starting: the questions, never the key.
    let t0 = std::time::Instant::now();
    let a = start(&fx.member, quiz).await;
    let aid = attempt_id(&a);
    assert!(a["attempt"]["submitted_at"].is_null(), "{a}");
    assert_eq!(a["attempt"]["person_id"], fx.member_p);
    assert_eq!(a["attempt"]["max_score"], 4);
    let questions = a["questions"].as_array().expect("questions");
    assert_eq!(questions.len(), 4, "{a}");
    assert!(questions.iter().all(|q| q["key"].is_null()), "{a}");
    assert!(
        !a.to_string().contains("doi moi"),
        "no accepted answer in the body: {a}"
    );
    // The taker's view of the questionnaire has no pool either.
    let seen = fx.member.get_ok(&format!("/api/v1/quizzes/{quiz}")).await;
    assert_eq!(seen["runs"], false);
    assert_eq!(seen["questions"], json!([]), "{seen}");
    let (ps, pm, pt, pa) = (
        pos_of(&a, Q_SINGLE),
        pos_of(&a, Q_MULTI),
        pos_of(&a, Q_TRUTH),
        pos_of(&a, Q_SHORT),
    );

    // Partial answers are saved and survive a new start (same attempt).
    let saved = fx
        .member
        .put(
            &format!("/api/v1/attempts/{aid}/answers"),
            &answers(&[(ps, "b"), (pm, "c a")]),
        )
        .await
        .expect(200)
        .json();
    assert_eq!(saved["saved"], 2);
    let again = start(&fx.member, quiz).await;
    assert_eq!(attempt_id(&again), aid, "one attempt per person");
    assert_eq!(answer_at(&again, ps), "B");
    assert_eq!(answer_at(&again, pm), "A,C");
    assert!(answer_at(&again, pt).is_null());
    assert_eq!(
        int_of(
            &app,
            "SELECT COUNT(*) FROM attempts WHERE quiz_id = $1",
            quiz
        )
        .await,
        1
    );
    assert_eq!(
        int_of(
            &app,
            "SELECT started_count FROM quizzes WHERE id = $1",
            quiz
        )
        .await,
        1
    );

    // A letter beyond the choices is refused; nothing saved is lost.
    fx.member
        .put(
            &format!("/api/v1/attempts/{aid}/answers"),
            &answers(&[(ps, "D")]),
        )
        .await
        .expect_error(422, "invalid_answer");
    fx.member
        .post(
            &format!("/api/v1/attempts/{aid}/submit"),
            &answers(&[(pt, "Sai"), (ps, "A,B")]),
        )
        .await
        .expect_error(422, "invalid_answer");
    assert_eq!(stored_answer(&app, aid, ps).await.as_deref(), Some("B"));
    assert_eq!(stored_answer(&app, aid, pm).await.as_deref(), Some("A,C"));
    assert_eq!(stored_answer(&app, aid, pt).await, None);
    assert_eq!(kept(&app, quiz).await, (0, 0), "nothing submitted");

    // Another person cannot save into it or submit it.
    let other = fx.others(fx.cell, 1, &[])[0];
    let member2 = account(&app, "dangvien_hai", Some(other), fx.cell, Role::Member).await;
    hidden(
        &member2
            .put(
                &format!("/api/v1/attempts/{aid}/answers"),
                &answers(&[(ps, "A")]),
            )
            .await,
    );
    hidden(
        &member2
            .post(&format!("/api/v1/attempts/{aid}/submit"), &answers(&[]))
            .await,
    );
    assert_eq!(stored_answer(&app, aid, ps).await.as_deref(), Some("B"));

    // Submit: the saved answers and the last ones, scored from the keys: single B (right),
    // multiple A,C (right), true/false "Sai" (right), short answer "cải cách" (wrong) = 3 of 4.
    tokio::time::sleep(std::time::Duration::from_millis(1200)).await;
    let done = submit(&fx.member, aid, &answers(&[(pt, "Sai"), (pa, "cải cách")])).await;
    let elapsed = i64::try_from(t0.elapsed().as_millis()).unwrap();
    assert!(done.get("already_submitted").is_none() || done["already_submitted"] == false);
    assert_eq!(done["attempt"]["score"], 3, "{done}");
    assert_eq!(done["attempt"]["max_score"], 4);
    assert!(done["attempt"]["submitted_at"].is_string());
    let ms = done["attempt"]["duration_ms"].as_i64().expect("duration");
    assert!(
        (1000..=elapsed + 1000).contains(&ms),
        "duration {ms} ms measured by the server (test saw {elapsed} ms)"
    );
    let points: BTreeMap<i64, Value> = done["questions"]
        .as_array()
        .expect("questions")
        .iter()
        .map(|q| (q["position"].as_i64().unwrap(), q["points"].clone()))
        .collect();
    assert_eq!(points[&ps], 1);
    assert_eq!(points[&pm], 1);
    assert_eq!(points[&pt], 1);
    assert_eq!(points[&pa], 0);
    assert!(
        done["questions"]
            .as_array()
            .unwrap()
            .iter()
            .all(|q| q["key"].is_null()),
        "no key while the quiz is open: {done}"
    );
    assert_eq!(kept(&app, quiz).await, (1, 3));
    assert_eq!(
        int_of(&app, "SELECT score FROM attempts WHERE id = $1", aid).await,
        3
    );
    assert_eq!(
        count(
            &app,
            &format!(
                "SELECT CAST(SUM(answered) AS BIGINT) FROM quiz_questions WHERE quiz_id = {quiz}"
            )
        )
        .await,
        4
    );
    assert_eq!(
        count(
            &app,
            &format!(
                "SELECT CAST(SUM(correct) AS BIGINT) FROM quiz_questions WHERE quiz_id = {quiz}"
            )
        )
        .await,
        3
    );

    // A second submission answers the first result and stores nothing.
    let twice = submit(&fx.member, aid, &answers(&[(pa, "đổi mới")])).await;
    assert_eq!(twice["already_submitted"], true, "{twice}");
    assert_eq!(twice["attempt"]["score"], 3);
    assert_eq!(
        twice["attempt"]["submitted_at"],
        done["attempt"]["submitted_at"]
    );
    assert_eq!(kept(&app, quiz).await, (1, 3), "counted once");
    assert_eq!(
        stored_answer(&app, aid, pa).await.as_deref(),
        Some("cải cách")
    );
    // Saving after the submission is refused.
    fx.member
        .put(
            &format!("/api/v1/attempts/{aid}/answers"),
            &answers(&[(pa, "đổi mới")]),
        )
        .await
        .expect_error(422, "already_submitted");
    assert_eq!(
        stored_answer(&app, aid, pa).await.as_deref(),
        Some("cải cách")
    );
}

// ---------------------------------------------------------------------------------------------
// 4. The window (R4.1)

async fn r4_1_the_window_decides_when_answers_count(app: TestApp) {
    let fx = fixture(&app).await;
    let qs = add_all(&fx.organizer, fx.res, fx.commune, four_questions()).await;
    let attempts = "SELECT COUNT(*) FROM attempts";

    // Started and saved while open, then closed: the submission is refused, what was saved stays.
    let quiz = publish_new(
        &fx.organizer,
        &quiz_body(
            "quiz",
            "Kiểm tra giữa hội nghị",
            fx.res,
            fx.commune,
            Some(fx.class),
            &qs,
        ),
    )
    .await;
    let a = start(&fx.member, quiz).await;
    let aid = attempt_id(&a);
    let ps = pos_of(&a, Q_SINGLE);
    fx.member
        .put(
            &format!("/api/v1/attempts/{aid}/answers"),
            &answers(&[(ps, "B")]),
        )
        .await
        .expect(200);
    close_now(&app, quiz).await;
    fx.member
        .post(
            &format!("/api/v1/attempts/{aid}/submit"),
            &answers(&[(pos_of(&a, Q_TRUTH), "Sai")]),
        )
        .await
        .expect_error(422, "quiz_closed");
    fx.member
        .put(
            &format!("/api/v1/attempts/{aid}/answers"),
            &answers(&[(ps, "C")]),
        )
        .await
        .expect_error(422, "quiz_closed");
    assert_eq!(stored_answer(&app, aid, ps).await.as_deref(), Some("B"));
    assert_eq!(
        stored_answer(&app, aid, pos_of(&a, Q_TRUTH)).await,
        None,
        "the refused submission stored nothing"
    );
    let (submitted,): (Option<chrono::DateTime<Utc>>,) =
        store::db_run!(&app.db, p => sqlx::query_as(
        "SELECT submitted_at FROM attempts WHERE id = $1").bind(aid).fetch_one(p).await)
        .unwrap();
    assert!(submitted.is_none());
    assert_eq!(kept(&app, quiz).await, (0, 0));
    // The attempt is still readable with what was saved.
    let d = fx.member.get_ok(&format!("/api/v1/attempts/{aid}")).await;
    assert_eq!(answer_at(&d, ps), "B");
    // Nobody else starts after the close.
    let secretary_start = fx
        .secretary
        .post(&format!("/api/v1/quizzes/{quiz}/attempt"), &json!({}))
        .await;
    secretary_start.expect_error(422, "quiz_closed");

    // Made with a window already past: refused from the start.
    let mut past = quiz_body(
        "quiz",
        "Kiểm tra đã qua",
        fx.res,
        fx.commune,
        Some(fx.class),
        &qs,
    );
    past["opens_at"] = json!(at(-180));
    past["closes_at"] = json!(at(-60));
    let past = publish_new(&fx.organizer, &past).await;
    let before = count(&app, attempts).await;
    fx.member
        .post(&format!("/api/v1/quizzes/{past}/attempt"), &json!({}))
        .await
        .expect_error(422, "quiz_closed");

    // Not yet open: refused with quiz_not_open, no attempt written.
    let mut later = quiz_body(
        "quiz",
        "Kiểm tra tuần sau",
        fx.res,
        fx.commune,
        Some(fx.class),
        &qs,
    );
    later["opens_at"] = json!(at(60 * 24));
    later["closes_at"] = json!(at(60 * 48));
    let later = publish_new(&fx.organizer, &later).await;
    fx.member
        .post(&format!("/api/v1/quizzes/{later}/attempt"), &json!({}))
        .await
        .expect_error(422, "quiz_not_open");

    // A draft: its runner is refused (not published); a participant does not even see it.
    let draft = fx
        .organizer
        .post_ok(
            "/api/v1/quizzes",
            &quiz_body("quiz", "Bản nháp", fx.res, fx.commune, Some(fx.class), &qs),
            201,
        )
        .await;
    let draft = id(&draft);
    fx.organizer
        .post(&format!("/api/v1/quizzes/{draft}/attempt"), &json!({}))
        .await
        .expect_error(422, "quiz_not_open");
    hidden(
        &fx.member
            .post(&format!("/api/v1/quizzes/{draft}/attempt"), &json!({}))
            .await,
    );
    hidden(&fx.member.get(&format!("/api/v1/quizzes/{draft}")).await);
    let mine: Vec<i64> = fx
        .member
        .get_ok("/api/v1/me/quizzes")
        .await
        .as_array()
        .expect("list")
        .iter()
        .map(id)
        .collect();
    assert!(!mine.contains(&draft), "{mine:?}");
    assert!(mine.contains(&later), "{mine:?}");
    assert_eq!(count(&app, attempts).await, before, "no attempt written");
}

// ---------------------------------------------------------------------------------------------
// 5. Results are personal (R4.1)

async fn r4_1_attempts_are_personal(app: TestApp) {
    let fx = fixture(&app).await;
    let qs = add_all(&fx.organizer, fx.res, fx.commune, four_questions()).await;
    let quiz = publish_new(
        &fx.organizer,
        &quiz_body(
            "quiz",
            "Kiểm tra nhận thức",
            fx.res,
            fx.commune,
            Some(fx.class),
            &qs,
        ),
    )
    .await;
    let p2 = fx.others(fx.cell, 1, &[])[0];
    let member2 = account(&app, "dangvien_hai", Some(p2), fx.cell, Role::Member).await;
    let far = fx.others(fx.other_cell, 2, &[]);
    let (sec2_person, paper_person) = (far[0], far[1]);
    let sec2 = account(
        &app,
        "bithu_chibo_hai",
        Some(sec2_person),
        fx.other_cell,
        Role::Secretary,
    )
    .await;
    let presenter = account(&app, "baocaovien", None, fx.commune, Role::Presenter).await;

    let a1 = start(&fx.member, quiz).await;
    let mine = attempt_id(&a1);
    submit(&fx.member, mine, &answers(&[(pos_of(&a1, Q_SINGLE), "B")])).await;
    let a2 = start(&member2, quiz).await;
    let theirs = attempt_id(&a2);
    submit(&member2, theirs, &answers(&[(pos_of(&a2, Q_TRUTH), "Sai")])).await;
    let paper = fx
        .organizer
        .post_ok(
            &format!("/api/v1/quizzes/{quiz}/paper"),
            &json!({"person_id": paper_person, "answers": [{"position": 1, "answer": "B"}]}),
            201,
        )
        .await;
    let far_attempt = id(&paper["attempt"]);
    assert_eq!(paper["attempt"]["org_id"], fx.other_cell, "{paper}");

    // The member's attempt: the person, their cell's secretary, the organizers above.
    let path = format!("/api/v1/attempts/{mine}");
    for api in [&fx.member, &fx.secretary, &fx.organizer, &fx.admin] {
        let d = api.get_ok(&path).await;
        assert_eq!(d["attempt"]["person_id"], fx.member_p);
    }
    // Nobody else: another member, another cell's secretary, a presenter.
    for api in [&member2, &sec2, &presenter] {
        api.get(&path).await.expect_error(404, "not_found");
    }
    // The other cell's secretary reads their own cell's attempt, not the first cell's.
    sec2.get_ok(&format!("/api/v1/attempts/{far_attempt}"))
        .await;
    fx.secretary
        .get(&format!("/api/v1/attempts/{far_attempt}"))
        .await
        .expect_error(404, "not_found");

    // The ranking lists only what the caller may read.
    let all: BTreeSet<i64> = ranking_ids(&fx.organizer, quiz).await.into_iter().collect();
    assert_eq!(all, BTreeSet::from([mine, theirs, far_attempt]));
    let cell: BTreeSet<i64> = ranking_ids(&fx.secretary, quiz).await.into_iter().collect();
    assert_eq!(cell, BTreeSet::from([mine, theirs]));
    assert_eq!(ranking_ids(&sec2, quiz).await, vec![far_attempt]);
    assert_eq!(ranking_ids(&presenter, quiz).await, Vec::<i64>::new());
    let seen_by_member = ranking_ids(&fx.member, quiz).await;
    assert!(
        !seen_by_member.contains(&theirs) && !seen_by_member.contains(&far_attempt),
        "{seen_by_member:?}"
    );
    // The per-organization results stay with readers of the organization.
    hidden(&fx.member.get(&format!("/api/v1/quizzes/{quiz}/orgs")).await);

    // A person's attempts: the same rule.
    let ppath = format!("/api/v1/people/{}/attempts", fx.member_p);
    for api in [&fx.member, &fx.secretary, &fx.organizer] {
        let list = api.get_ok(&ppath).await;
        let list = list.as_array().expect("list");
        assert!(
            list.iter()
                .all(|a| a["attempt"]["person_id"] == fx.member_p),
            "{list:?}"
        );
        let here: Vec<&Value> = list
            .iter()
            .filter(|a| a["attempt"]["quiz_id"] == quiz)
            .collect();
        assert_eq!(here.len(), 1, "{list:?}");
        assert_eq!(id(&here[0]["attempt"]), mine);
        assert_eq!(here[0]["quiz_title"], "Kiểm tra nhận thức");
    }
    for api in [&member2, &sec2, &presenter] {
        hidden(&api.get(&ppath).await);
    }
}

// ---------------------------------------------------------------------------------------------
// 6. Anonymous surveys (R4.1, R3.4)

async fn r4_1_anonymous_surveys_store_no_person(app: TestApp) {
    let fx = fixture(&app).await;
    let likert = id(&add(
        &fx.organizer,
        fx.res,
        fx.commune,
        json!({"kind": "likert", "prompt": "Đồng chí nắm được nội dung Chỉ thị ở mức nào?"}),
    )
    .await);
    let open = id(&add(
        &fx.organizer,
        fx.res,
        fx.commune,
        json!({"kind": "open", "prompt": "Đồng chí có đề xuất gì về cách học tập?"}),
    )
    .await);
    // A scored question in the same bank is not taken when the survey names its questions.
    add(&fx.organizer, fx.res, fx.commune, truth(Q_TRUTH, "Sai")).await;
    // A survey draws nothing at random.
    let mut bad = quiz_body(
        "survey",
        "Khảo sát",
        fx.res,
        fx.commune,
        Some(fx.class),
        &[likert, open],
    );
    bad["draw_count"] = json!(1);
    let e = fx
        .organizer
        .post("/api/v1/quizzes", &bad)
        .await
        .expect_error(422, "validation_failed");
    assert!(e["fields"]["draw_count"].is_string(), "{e}");
    let survey = publish_new(
        &fx.organizer,
        &quiz_body(
            "survey",
            "Phiếu khảo sát nhận thức sau hội nghị",
            fx.res,
            fx.commune,
            Some(fx.class),
            &[likert, open],
        ),
    )
    .await;
    let d = fx
        .organizer
        .get_ok(&format!("/api/v1/quizzes/{survey}"))
        .await;
    assert_eq!(d["quiz"]["question_count"], 2, "{d}");
    assert_eq!(d["questions"][0]["kind"], "likert");
    assert_eq!(d["questions"][1]["kind"], "open");
    let rpath = format!("/api/v1/quizzes/{survey}/responses");

    // The member responds once.
    fx.member
        .post(
            &rpath,
            &answers(&[(1, "4"), (2, "Cần thêm ví dụ thực tiễn ở chi bộ")]),
        )
        .await
        .expect(204);
    fx.member
        .post(&rpath, &answers(&[(1, "1")]))
        .await
        .expect_error(422, "already_submitted");
    // A level outside 1–5 is refused; then the secretary responds.
    fx.secretary
        .post(&rpath, &answers(&[(1, "6")]))
        .await
        .expect_error(422, "invalid_answer");
    fx.secretary
        .post(&rpath, &answers(&[(1, "5")]))
        .await
        .expect(204);
    // It is no scored questionnaire: no attempt.
    hidden(
        &fx.member
            .post(&format!("/api/v1/quizzes/{survey}/attempt"), &json!({}))
            .await,
    );
    assert_eq!(
        int_of(
            &app,
            "SELECT COUNT(*) FROM attempts WHERE quiz_id = $1",
            survey
        )
        .await,
        0
    );

    // What is stored: who answered, apart; the answers without any person.
    let takers: BTreeSet<i64> = store::db_run!(&app.db, p => sqlx::query_as::<_, (i64,)>(
        "SELECT person_id FROM survey_takers WHERE quiz_id = $1").bind(survey).fetch_all(p).await)
    .unwrap()
    .into_iter()
    .map(|r| r.0)
    .collect();
    assert_eq!(takers, BTreeSet::from([fx.member_p, fx.secretary_p]));
    assert_eq!(
        int_of(
            &app,
            "SELECT COUNT(*) FROM survey_responses WHERE quiz_id = $1",
            survey
        )
        .await,
        2
    );
    for (table, column) in [
        ("survey_answers", "person_id"),
        ("survey_answers", "account_id"),
        ("survey_responses", "person_id"),
        ("survey_responses", "account_id"),
        ("survey_responses", "created_at"),
    ] {
        let sql = format!("SELECT COUNT({column}) FROM {table}");
        let r: Result<Vec<(i64,)>, sqlx::Error> =
            store::db_run!(&app.db, p => sqlx::query_as(&sql).fetch_all(p).await);
        assert!(r.is_err(), "{table} has no {column} column");
    }
    let values: Vec<(String, String)> = store::db_run!(&app.db, p => sqlx::query_as(
        "SELECT r.id, a.value FROM survey_answers a JOIN survey_responses r ON r.id = a.response_id WHERE r.quiz_id = $1")
        .bind(survey).fetch_all(p).await)
    .unwrap();
    assert_eq!(values.len(), 3, "{values:?}");
    for (rid, v) in &values {
        for person in [fx.member_p, fx.secretary_p] {
            assert_ne!(v, &person.to_string(), "no value is a person's id");
            assert_ne!(rid, &person.to_string(), "no response id is a person's id");
        }
    }

    // Results count the values.
    let results = fx
        .organizer
        .get_ok(&format!("/api/v1/quizzes/{survey}/survey-results"))
        .await;
    let r = results.as_array().expect("results");
    assert_eq!(r.len(), 2, "{results}");
    let counts = |r: &Value| -> BTreeMap<String, i64> {
        r["counts"]
            .as_array()
            .expect("counts")
            .iter()
            .map(|c| {
                (
                    c["value"].as_str().unwrap().to_string(),
                    c["count"].as_i64().unwrap(),
                )
            })
            .collect()
    };
    assert_eq!(
        counts(&r[0]),
        BTreeMap::from([("4".to_string(), 1), ("5".to_string(), 1)])
    );
    assert_eq!(r[0]["mean"], "4,5");
    assert_eq!(r[1]["texts"], json!(["Cần thêm ví dụ thực tiễn ở chi bộ"]));
    assert_eq!(kept(&app, survey).await.0, 2);
    // Results are for readers of the organization, not for a participant.
    hidden(
        &fx.member
            .get(&format!("/api/v1/quizzes/{survey}/survey-results"))
            .await,
    );

    // A paper form typed in by the organizer: one more response, still no person.
    let p = fx
        .organizer
        .post_ok(
            &format!("/api/v1/quizzes/{survey}/paper"),
            &answers(&[(1, "4"), (2, "Tài liệu ngắn gọn, dễ hiểu")]),
            201,
        )
        .await;
    assert!(p["attempt"].is_null(), "{p}");
    let results = fx
        .organizer
        .get_ok(&format!("/api/v1/quizzes/{survey}/survey-results"))
        .await;
    assert_eq!(
        counts(&results[0]),
        BTreeMap::from([("4".to_string(), 2), ("5".to_string(), 1)])
    );
    assert_eq!(results[1]["texts"].as_array().expect("texts").len(), 2);
    assert_eq!(kept(&app, survey).await.0, 3);
    assert_eq!(
        int_of(
            &app,
            "SELECT COUNT(*) FROM survey_responses WHERE quiz_id = $1",
            survey
        )
        .await,
        3
    );
    assert_eq!(
        int_of(
            &app,
            "SELECT COUNT(*) FROM survey_takers WHERE quiz_id = $1",
            survey
        )
        .await,
        2,
        "a paper response names nobody"
    );
    // A member cannot type in paper responses.
    hidden(
        &fx.member
            .post(
                &format!("/api/v1/quizzes/{survey}/paper"),
                &answers(&[(1, "5")]),
            )
            .await,
    );
    assert_eq!(kept(&app, survey).await.0, 3);
}

// ---------------------------------------------------------------------------------------------
// 7. Paper and oral entry (R4.1, R4.2)

async fn r4_2_paper_and_oral_results_are_entered_once(app: TestApp) {
    let fx = fixture(&app).await;
    let qs = add_all(
        &fx.organizer,
        fx.res,
        fx.commune,
        vec![
            single(Q_SINGLE, &["Trung ương", "Tỉnh ủy"], "B"),
            truth(Q_TRUTH, "Sai"),
        ],
    )
    .await;
    let quiz = publish_new(
        &fx.organizer,
        &quiz_body(
            "quiz",
            "Phiếu giấy tại hội nghị",
            fx.res,
            fx.commune,
            Some(fx.class),
            &qs,
        ),
    )
    .await;
    let ppath = format!("/api/v1/quizzes/{quiz}/paper");
    let who = fx.others(fx.cell, 1, &[])[0];

    // Scored like an online attempt: B right, "Đúng" wrong.
    let p = fx
        .organizer
        .post_ok(
            &ppath,
            &json!({"person_id": who, "answers": [{"position": 1, "answer": "b"}, {"position": 2, "answer": "Đúng"}]}),
            201,
        )
        .await;
    let a = &p["attempt"];
    assert_eq!(a["source"], "paper", "{p}");
    assert_eq!(a["person_id"], who);
    assert_eq!(a["score"], 1);
    assert_eq!(a["max_score"], 2);
    assert!(a["submitted_at"].is_string());
    assert_eq!(kept(&app, quiz).await, (1, 1));
    assert_eq!(stored_answer(&app, id(a), 1).await.as_deref(), Some("B"));
    assert_eq!(stored_answer(&app, id(a), 2).await.as_deref(), Some("true"));

    // Once per person.
    fx.organizer
        .post(
            &ppath,
            &json!({"person_id": who, "answers": [{"position": 1, "answer": "B"}, {"position": 2, "answer": "Sai"}]}),
        )
        .await
        .expect_error(409, "conflict");
    // The person is required; a non-participant is refused; a member may not enter.
    let e = fx
        .organizer
        .post(&ppath, &answers(&[(1, "B")]))
        .await
        .expect_error(422, "validation_failed");
    assert!(e["fields"]["person_id"].is_string(), "{e}");
    let (_, communes) = province_tree(&fx.admin).await;
    let stranger = id(&fx
        .admin
        .all_people(Some(org_named(&communes, FOURTH_COMMUNE)))
        .await[0]);
    fx.admin
        .post(
            &ppath,
            &json!({"person_id": stranger, "answers": [{"position": 1, "answer": "B"}]}),
        )
        .await
        .expect_error(422, "not_a_taker");
    hidden(
        &fx.member
            .post(
                &ppath,
                &json!({"person_id": fx.member_p, "answers": [{"position": 1, "answer": "B"}]}),
            )
            .await,
    );
    assert_eq!(
        int_of(
            &app,
            "SELECT COUNT(*) FROM attempts WHERE quiz_id = $1",
            quiz
        )
        .await,
        1
    );
    assert_eq!(kept(&app, quiz).await, (1, 1));

    // Direct Q&A at the cell's meeting (R4.2): the secretary runs a cell quiz and enters
    // points out of a total, once per member.
    let cq = publish_new(
        &fx.secretary,
        &quiz_body(
            "cell_quiz",
            "Hỏi – đáp tại sinh hoạt chi bộ tháng này",
            fx.res,
            fx.cell,
            None,
            &[],
        ),
    )
    .await;
    let opath = format!("/api/v1/quizzes/{cq}/oral");
    fx.secretary
        .post(
            &opath,
            &json!({"person_id": fx.member_p, "points": 11, "out_of": 10}),
        )
        .await
        .expect_error(422, "points");
    fx.secretary
        .post(
            &opath,
            &json!({"person_id": fx.member_p, "points": -1, "out_of": 10}),
        )
        .await
        .expect_error(422, "points");
    assert_eq!(kept(&app, cq).await, (0, 0), "nothing stored");
    let o = fx
        .secretary
        .post_ok(
            &opath,
            &json!({"person_id": fx.member_p, "points": 8, "out_of": 10}),
            201,
        )
        .await;
    assert_eq!(o["source"], "oral", "{o}");
    assert_eq!(o["score"], 8);
    assert_eq!(o["max_score"], 10);
    assert_eq!(o["org_id"], fx.cell);
    assert_eq!(kept(&app, cq).await, (1, 8));
    fx.secretary
        .post(
            &opath,
            &json!({"person_id": fx.member_p, "points": 9, "out_of": 10}),
        )
        .await
        .expect_error(409, "conflict");
    // Someone of another cell is no member of this cell's quiz.
    let far = fx.others(fx.other_cell, 1, &[])[0];
    fx.secretary
        .post(
            &opath,
            &json!({"person_id": far, "points": 5, "out_of": 10}),
        )
        .await
        .expect_error(422, "not_a_taker");
    // A member cannot enter results.
    hidden(
        &fx.member
            .post(
                &opath,
                &json!({"person_id": fx.secretary_p, "points": 10, "out_of": 10}),
            )
            .await,
    );
    assert_eq!(kept(&app, cq).await, (1, 8));
    assert_eq!(
        int_of(
            &app,
            "SELECT COUNT(*) FROM audit_log WHERE action = 'record_oral' AND entity = 'attempt' AND entity_id = $1",
            id(&o)
        )
        .await,
        1
    );
    // The member reads their own result.
    let mine = fx
        .member
        .get_ok(&format!("/api/v1/attempts/{}", id(&o)))
        .await;
    assert_eq!(mine["attempt"]["score"], 8);
}

// ---------------------------------------------------------------------------------------------
// 8. Cell quizzes with a random draw (R4.2)

async fn r4_2_cell_quiz_draws_questions_for_each_member(app: TestApp) {
    let fx = fixture(&app).await;
    let mut bodies = four_questions();
    bodies.push(truth(
        "Chi bộ phải xây dựng chương trình hành động sau học tập. Đúng hay sai?",
        "Đúng",
    ));
    bodies.push(single(
        "Hướng dẫn 26-HD/BTGTU do cơ quan nào ban hành?",
        &[
            "Ban Tuyên giáo Tỉnh ủy",
            "Văn phòng Tỉnh ủy",
            "Ban Tổ chức Tỉnh ủy",
        ],
        "A",
    ));
    add_all(&fx.organizer, fx.res, fx.commune, bodies).await;
    let prompts: BTreeSet<String> = items(
        &fx.organizer
            .get_ok(&format!("/api/v1/resolutions/{}/questions", fx.res))
            .await,
    )
    .iter()
    .map(|q| q["prompt"].as_str().unwrap().to_string())
    .collect();
    assert_eq!(prompts.len(), 6);

    let quizzes = "SELECT COUNT(*) FROM quizzes";
    let made = count(&app, quizzes).await;
    // More than the bank holds: refused.
    let mut body = quiz_body(
        "cell_quiz",
        "Kiểm tra tại sinh hoạt chi bộ",
        fx.res,
        fx.cell,
        None,
        &[],
    );
    body["draw_count"] = json!(7);
    fx.secretary
        .post("/api/v1/quizzes", &body)
        .await
        .expect_error(422, "draw_count");
    // A cell quiz belongs to a cell: not to the commune.
    let mut at_commune = body.clone();
    at_commune["org_id"] = json!(fx.commune);
    at_commune["draw_count"] = json!(3);
    fx.organizer
        .post("/api/v1/quizzes", &at_commune)
        .await
        .expect_error(422, "not_a_cell");
    // The cell's secretary cannot make one above the cell, nor a member one at all.
    hidden(&fx.secretary.post("/api/v1/quizzes", &at_commune).await);
    body["draw_count"] = json!(3);
    hidden(&fx.member.post("/api/v1/quizzes", &body).await);
    assert_eq!(count(&app, quizzes).await, made, "nothing made");

    // Three of the six for each member.
    let quiz = publish_new(&fx.secretary, &body).await;
    let d = fx
        .secretary
        .get_ok(&format!("/api/v1/quizzes/{quiz}"))
        .await;
    assert_eq!(d["runs"], true, "the secretary runs the cell's quiz");
    assert_eq!(d["quiz"]["question_count"], 6);
    assert_eq!(d["quiz"]["draw_count"], 3);
    assert_eq!(d["questions"].as_array().expect("pool").len(), 6);
    let p2 = fx.others(fx.cell, 1, &[])[0];
    let member2 = account(&app, "dangvien_hai", Some(p2), fx.cell, Role::Member).await;
    for api in [&fx.member, &member2] {
        let a = start(api, quiz).await;
        let got: Vec<String> = a["questions"]
            .as_array()
            .expect("questions")
            .iter()
            .map(|q| q["prompt"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(got.len(), 3, "{a}");
        assert_eq!(
            got.iter().collect::<BTreeSet<_>>().len(),
            3,
            "distinct: {got:?}"
        );
        assert!(got.iter().all(|p| prompts.contains(p)), "{got:?}");
        assert_eq!(a["attempt"]["max_score"], 3);
        assert_eq!(
            int_of(
                &app,
                "SELECT COUNT(*) FROM attempt_answers WHERE attempt_id = $1",
                attempt_id(&a)
            )
            .await,
            3
        );
        // The same draw when starting again.
        let again = start(api, quiz).await;
        assert_eq!(again["questions"], a["questions"]);
    }
    // Someone of another cell does not take it.
    let far = fx.others(fx.other_cell, 1, &[])[0];
    let outsider = account(&app, "dangvien_xa", Some(far), fx.other_cell, Role::Member).await;
    hidden(
        &outsider
            .post(&format!("/api/v1/quizzes/{quiz}/attempt"), &json!({}))
            .await,
    );
    // A drawn quiz cannot be typed in from paper (each had other questions).
    fx.secretary
        .post(
            &format!("/api/v1/quizzes/{quiz}/paper"),
            &json!({"person_id": fx.secretary_p, "answers": [{"position": 1, "answer": "A"}]}),
        )
        .await
        .expect_error(422, "paper_needs_fixed_questions");
    assert_eq!(
        int_of(
            &app,
            "SELECT COUNT(*) FROM attempts WHERE quiz_id = $1",
            quiz
        )
        .await,
        2
    );
}

// ---------------------------------------------------------------------------------------------
// 9. Contests (R6.3)

async fn r6_3_contest_ranks_by_score_time_then_guess(app: TestApp) {
    let fx = fixture(&app).await;
    let qs = add_all(
        &fx.organizer,
        fx.res,
        fx.commune,
        vec![
            single(Q_SINGLE, &["Trung ương", "Tỉnh ủy"], "B"),
            truth(Q_TRUTH, "Sai"),
            short_answer(Q_SHORT, "Đổi mới"),
        ],
    )
    .await;
    // (right, wrong) answers by prompt.
    let key = |prompt: &str| -> (&'static str, &'static str) {
        if prompt.starts_with(Q_SINGLE) {
            ("B", "A")
        } else if prompt.starts_with(Q_TRUTH) {
            ("Sai", "Đúng")
        } else {
            ("đổi mới", "cải cách")
        }
    };
    let mut body = quiz_body(
        "contest",
        "Hội thi tìm hiểu Chỉ thị 08-CT/TU – vòng 1",
        fx.res,
        fx.commune,
        None,
        &qs,
    );
    body["contest_title"] = json!("Hội thi tìm hiểu Chỉ thị 08-CT/TU");
    body["round"] = json!(1);
    let quiz = publish_new(&fx.organizer, &body).await;

    let p2 = fx.others(fx.cell, 1, &[])[0];
    let member2 = account(&app, "dangvien_hai", Some(p2), fx.cell, Role::Member).await;
    let p3 = fx.others(fx.other_cell, 1, &[])[0];
    let member3 = account(&app, "dangvien_ba", Some(p3), fx.other_cell, Role::Member).await;

    // member: all right, guess 10; member2: all right, guess 3; member3: one right, guess 3.
    let mut ids = Vec::new();
    for (api, right, guess) in [(&fx.member, 3usize, 10), (&member2, 3, 3), (&member3, 1, 3)] {
        let a = start(api, quiz).await;
        let qs = a["questions"].as_array().expect("questions");
        assert_eq!(qs.len(), 3);
        let mut given = Vec::new();
        for (n, q) in qs.iter().enumerate() {
            let prompt = q["prompt"].as_str().unwrap();
            let pos = q["position"].as_i64().unwrap();
            let (yes, no) = key(prompt);
            given.push(json!({"position": pos, "answer": if n < right { yes } else { no }}));
        }
        // A guess must be a count.
        api.post(
            &format!("/api/v1/attempts/{}/submit", attempt_id(&a)),
            &json!({"answers": given, "guess": -5}),
        )
        .await
        .expect_error(422, "validation_failed");
        let done = submit(
            api,
            attempt_id(&a),
            &json!({"answers": given, "guess": guess}),
        )
        .await;
        assert_eq!(done["attempt"]["score"], right, "{done}");
        assert_eq!(done["attempt"]["guess"], guess);
        assert!(done["rank"].is_null(), "no rank before the results");
        ids.push(attempt_id(&a));
    }
    let (first, second, third) = (ids[0], ids[1], ids[2]);
    assert_eq!(kept(&app, quiz).await, (3, 7));

    // Score first, then the time taken.
    set_duration(&app, first, 6000).await;
    set_duration(&app, second, 5000).await;
    set_duration(&app, third, 1000).await;
    assert_eq!(
        ranking_ids(&fx.organizer, quiz).await,
        vec![second, first, third],
        "more points first, then less time"
    );
    // The same time: the guess does not count yet (distances are computed at the results).
    set_duration(&app, first, 5000).await;
    assert_eq!(
        ranking_ids(&fx.organizer, quiz).await,
        vec![first, second, third]
    );

    // The results wait for the close.
    fx.organizer
        .post(&format!("/api/v1/quizzes/{quiz}/results"), &json!({}))
        .await
        .expect_error(422, "quiz_still_open");
    assert!(fx
        .organizer
        .get_ok(&format!("/api/v1/quizzes/{quiz}"))
        .await["quiz"]["final_count"]
        .is_null());
    close_now(&app, quiz).await;
    hidden(
        &fx.member
            .post(&format!("/api/v1/quizzes/{quiz}/results"), &json!({}))
            .await,
    );
    let r = fx
        .organizer
        .post_ok(&format!("/api/v1/quizzes/{quiz}/results"), &json!({}), 200)
        .await;
    assert_eq!(r["state"], "results", "{r}");
    assert_eq!(r["final_count"], 3);

    // The nearer guess of the number who took part (3) wins the tie: member2 (0) before the
    // member (7).
    let page = fx
        .organizer
        .get_ok(&format!("/api/v1/quizzes/{quiz}/ranking"))
        .await;
    let rows = items(&page);
    assert_eq!(
        rows.iter().map(id).collect::<Vec<_>>(),
        vec![second, first, third]
    );
    assert_eq!(
        rows.iter()
            .map(|a| a["guess_diff"].as_i64().unwrap())
            .collect::<Vec<_>>(),
        vec![0, 7, 0]
    );
    // Each reads their place; the keys are shown now the contest is closed.
    let mine = fx.member.get_ok(&format!("/api/v1/attempts/{first}")).await;
    assert_eq!(mine["rank"], 2, "{mine}");
    assert!(
        mine["questions"]
            .as_array()
            .unwrap()
            .iter()
            .all(|q| q["key"].is_string()),
        "{mine}"
    );
    assert_eq!(
        member2.get_ok(&format!("/api/v1/attempts/{second}")).await["rank"],
        1
    );
    assert_eq!(
        member3.get_ok(&format!("/api/v1/attempts/{third}")).await["rank"],
        3
    );
    // Results are personal still: the secretary of the first cell sees its two.
    assert_eq!(ranking_ids(&fx.secretary, quiz).await, vec![second, first]);
}

// ---------------------------------------------------------------------------------------------
// 10. Corrections (R4.1, R6.3)

async fn r4_1_corrections_need_a_reason_and_are_audited(app: TestApp) {
    let fx = fixture(&app).await;
    let qs = add_all(
        &fx.organizer,
        fx.res,
        fx.commune,
        vec![
            single(Q_SINGLE, &["Trung ương", "Tỉnh ủy"], "B"),
            essay(Q_ESSAY, 10),
        ],
    )
    .await;
    let quiz = publish_new(
        &fx.organizer,
        &quiz_body(
            "quiz",
            "Kiểm tra có phần tự luận",
            fx.res,
            fx.commune,
            Some(fx.class),
            &qs,
        ),
    )
    .await;
    let a = start(&fx.member, quiz).await;
    let aid = attempt_id(&a);
    let (ps, pe) = (pos_of(&a, Q_SINGLE), pos_of(&a, Q_ESSAY));
    // Not yet submitted: nothing to correct.
    fx.organizer
        .post(
            &format!("/api/v1/attempts/{aid}/corrections"),
            &json!({"position": ps, "points": 1, "reason": "Chấp nhận cả hai đáp án"}),
        )
        .await
        .expect_error(422, "not_submitted");
    let done = submit(
        &fx.member,
        aid,
        &answers(&[
            (ps, "A"),
            (
                pe,
                "Chi bộ đã xây dựng chương trình hành động, phân công từng đảng viên.",
            ),
        ]),
    )
    .await;
    assert_eq!(
        done["attempt"]["score"], 0,
        "the essay waits for the judges: {done}"
    );
    assert_eq!(kept(&app, quiz).await, (1, 0));
    let cpath = format!("/api/v1/attempts/{aid}/corrections");
    let audits = format!(
        "SELECT COUNT(*) FROM audit_log WHERE action = 'correct' AND entity = 'attempt' AND entity_id = {aid}"
    );

    // Without a reason, or beyond the question's points: refused, nothing changed.
    for reason in ["", "   "] {
        let e = fx
            .organizer
            .post(
                &cpath,
                &json!({"position": ps, "points": 1, "reason": reason}),
            )
            .await
            .expect_error(422, "validation_failed");
        assert!(e["fields"]["reason"].is_string(), "{e}");
    }
    fx.organizer
        .post(
            &cpath,
            &json!({"position": ps, "points": 2, "reason": "Thưởng thêm"}),
        )
        .await
        .expect_error(422, "points");
    // Neither the member (their own) nor another member, nor the secretary (who reads it but
    // does not run the class's quiz) may correct.
    fx.member
        .post(
            &cpath,
            &json!({"position": ps, "points": 1, "reason": "Tôi nghĩ là đúng"}),
        )
        .await
        .expect_error(403, "forbidden");
    let p2 = fx.others(fx.cell, 1, &[])[0];
    let member2 = account(&app, "dangvien_hai", Some(p2), fx.cell, Role::Member).await;
    member2
        .post(
            &cpath,
            &json!({"position": ps, "points": 1, "reason": "Sửa hộ"}),
        )
        .await
        .expect_error(404, "not_found");
    hidden(
        &fx.secretary
            .post(
                &cpath,
                &json!({"position": ps, "points": 1, "reason": "Bí thư sửa"}),
            )
            .await,
    );
    assert_eq!(kept(&app, quiz).await, (1, 0));
    assert_eq!(
        int_of(&app, "SELECT score FROM attempts WHERE id = $1", aid).await,
        0
    );
    assert_eq!(count(&app, &audits).await, 0);

    // The organizer corrects with a reason: the score, the flag, the kept sums and the audit.
    let reason = "Đáp án A cũng đúng theo văn bản gốc của Tỉnh ủy";
    let c = fx
        .organizer
        .post_ok(
            &cpath,
            &json!({"position": ps, "points": 1, "reason": reason}),
            200,
        )
        .await;
    assert_eq!(c["attempt"]["score"], 1, "{c}");
    assert_eq!(c["attempt"]["corrected"], true);
    assert_eq!(kept(&app, quiz).await, (1, 1));
    assert_eq!(
        int_of(&app, "SELECT score FROM attempts WHERE id = $1", aid).await,
        1
    );
    let (pts,): (Option<i64>,) = store::db_run!(&app.db, p => sqlx::query_as(
        "SELECT points FROM attempt_answers WHERE attempt_id = $1 AND position = $2").bind(aid).bind(ps).fetch_one(p).await)
    .unwrap();
    assert_eq!(pts, Some(1));
    assert_eq!(
        int_of(
            &app,
            "SELECT score_sum FROM quiz_org_totals WHERE quiz_id = $1",
            quiz
        )
        .await,
        1
    );
    assert_eq!(count(&app, &audits).await, 1);
    let (detail,): (String,) = store::db_run!(&app.db, p => sqlx::query_as(
        "SELECT detail FROM audit_log WHERE action = 'correct' AND entity = 'attempt' AND entity_id = $1").bind(aid).fetch_one(p).await)
    .unwrap();
    assert!(detail.contains(reason), "{detail}");
    assert!(detail.contains("0 -> 1"), "{detail}");

    // The judges score the essay: 7 of 10 more.
    let c = fx
        .organizer
        .post_ok(
            &cpath,
            &json!({"position": pe, "points": 7, "reason": "Giám khảo chấm bài tự luận"}),
            200,
        )
        .await;
    assert_eq!(c["attempt"]["score"], 8, "{c}");
    assert_eq!(kept(&app, quiz).await, (1, 8));
    assert_eq!(
        int_of(
            &app,
            "SELECT score_sum FROM quiz_org_totals WHERE quiz_id = $1",
            quiz
        )
        .await,
        8
    );
    assert_eq!(count(&app, &audits).await, 2);
    // The member reads the corrected result.
    let mine = fx.member.get_ok(&format!("/api/v1/attempts/{aid}")).await;
    assert_eq!(mine["attempt"]["score"], 8);
    assert_eq!(mine["attempt"]["corrected"], true);
}

// ---------------------------------------------------------------------------------------------
// 11. The roll-up (R4.1, R4.2)

async fn r4_2_rollup_follows_the_submissions(app: TestApp) {
    let fx = fixture(&app).await;
    let qs = add_all(
        &fx.organizer,
        fx.res,
        fx.commune,
        vec![single(Q_SINGLE, &["Trung ương", "Tỉnh ủy"], "B")],
    )
    .await;
    let quiz = publish_new(
        &fx.organizer,
        &quiz_body(
            "quiz",
            "Kiểm tra nhận thức",
            fx.res,
            fx.commune,
            Some(fx.class),
            &qs,
        ),
    )
    .await;
    // First cell: the member online (right), two on paper (one right, one wrong); the other
    // cell: one on paper (right).
    let a = start(&fx.member, quiz).await;
    submit(&fx.member, attempt_id(&a), &answers(&[(1, "B")])).await;
    let near = fx.others(fx.cell, 2, &[]);
    let far = fx.others(fx.other_cell, 1, &[])[0];
    for (p, ans) in [(near[0], "B"), (near[1], "A"), (far, "B")] {
        fx.organizer
            .post_ok(
                &format!("/api/v1/quizzes/{quiz}/paper"),
                &json!({"person_id": p, "answers": [{"position": 1, "answer": ans}]}),
                201,
            )
            .await;
    }
    // A cell quiz on the same resolution: an oral result in the first cell counts too.
    let cq = publish_new(
        &fx.secretary,
        &quiz_body(
            "cell_quiz",
            "Hỏi – đáp tại chi bộ",
            fx.res,
            fx.cell,
            None,
            &[],
        ),
    )
    .await;
    fx.secretary
        .post_ok(
            &format!("/api/v1/quizzes/{cq}/oral"),
            &json!({"person_id": fx.secretary_p, "points": 4, "out_of": 5}),
            201,
        )
        .await;

    let rows = |v: Value| -> BTreeMap<i64, (i64, i64, i64)> {
        v.as_array()
            .expect("rows")
            .iter()
            .map(|r| {
                (
                    r["org_id"].as_i64().unwrap(),
                    (
                        r["submitted"].as_i64().unwrap(),
                        r["score_sum"].as_i64().unwrap(),
                        r["max_sum"].as_i64().unwrap(),
                    ),
                )
            })
            .collect()
    };
    let path = |org: i64| format!("/api/v1/orgs/{org}/assessment?resolution_id={}", fx.res);
    let got = fx.organizer.get_ok(&path(fx.commune)).await;
    assert_eq!(
        got[0]["org_id"], fx.commune,
        "the organization's own row first: {got}"
    );
    let got = rows(got);
    assert_eq!(got[&fx.commune], (5, 7, 9), "the whole commune");
    assert_eq!(got[&fx.cell], (4, 6, 8), "member, two papers, the oral");
    assert_eq!(got[&fx.other_cell], (1, 1, 1));
    for (org, r) in &got {
        if ![fx.commune, fx.cell, fx.other_cell].contains(org) {
            assert_eq!(*r, (0, 0, 0), "nothing submitted under {org}");
        }
    }
    // The cell's children of the commune are all listed.
    let children = fx
        .organizer
        .get_ok(&format!("/api/v1/orgs/{}", fx.commune))
        .await["children"]
        .as_array()
        .expect("children")
        .len();
    assert_eq!(got.len(), children + 1);

    // Up the tree: the province sees the commune's row.
    let prov = rows(fx.admin.get_ok(&path(fx.province)).await);
    assert_eq!(prov[&fx.province], (5, 7, 9));
    assert_eq!(prov[&fx.commune], (5, 7, 9));
    assert_eq!(prov.values().filter(|r| r.0 > 0).count(), 2, "{prov:?}");
    // The secretary reads their cell, not the commune; a member neither.
    let own = rows(fx.secretary.get_ok(&path(fx.cell)).await);
    assert_eq!(own[&fx.cell], (4, 6, 8));
    hidden(&fx.secretary.get(&path(fx.commune)).await);
    hidden(&fx.member.get(&path(fx.cell)).await);

    // One questionnaire's rows.
    let one = rows(
        fx.organizer
            .get_ok(&format!("/api/v1/quizzes/{quiz}/orgs"))
            .await,
    );
    assert_eq!(one[&fx.commune], (4, 3, 4));
    assert_eq!(one[&fx.cell], (3, 2, 3));
    assert_eq!(one[&fx.other_cell], (1, 1, 1));
}

// ---------------------------------------------------------------------------------------------
// 12. Written reflections (R3.4)

async fn r3_4_reflections_handed_in_recorded_graded_and_reminded(app: TestApp) {
    let fx = fixture(&app).await;
    // A class of the secretary's cell (the secretary sees it and answers for its participants).
    let class = cell_class(&fx).await;
    let cell_listed: BTreeSet<i64> = items(
        &fx.organizer
            .get_ok(&format!("/api/v1/classes/{class}/participants?limit=5000"))
            .await,
    )
    .iter()
    .map(|p| p["person_id"].as_i64().expect("person_id"))
    .collect();
    assert!(cell_listed.len() >= 5, "{cell_listed:?}");
    assert!(cell_listed.contains(&fx.member_p) && cell_listed.contains(&fx.secretary_p));
    assert!(cell_listed
        .iter()
        .all(|p| fx.org_of.get(p) == Some(&fx.cell)));
    let hand = format!("/api/v1/classes/{class}/reflection");

    // Nothing is asked yet: nothing to hand in.
    fx.member
        .put(&hand, &json!({"body": "Thu hoạch", "plan": "Kế hoạch"}))
        .await
        .expect_error(422, "reflection_not_asked");
    // Only the class's organizer sets the ask.
    let ask = json!({"prompt": "Những điểm mới của Chỉ thị 08-CT/TU và liên hệ bản thân?",
                     "due_on": (Utc::now() + Duration::days(7)).format("%d/%m/%Y").to_string(),
                     "asks_plan": true});
    hidden(
        &fx.secretary
            .put(&format!("/api/v1/classes/{class}/reflection-ask"), &ask)
            .await,
    );
    let e = fx
        .organizer
        .put(
            &format!("/api/v1/classes/{class}/reflection-ask"),
            &json!({"prompt": "", "due_on": "31/02/2026"}),
        )
        .await
        .expect_error(422, "validation_failed");
    assert!(
        e["fields"]["prompt"].is_string() && e["fields"]["due_on"].is_string(),
        "{e}"
    );
    let v = fx
        .organizer
        .put(&format!("/api/v1/classes/{class}/reflection-ask"), &ask)
        .await
        .expect(200)
        .json();
    assert_eq!(v["asks_plan"], true, "{v}");
    assert_eq!(v["handed_in"], 0);
    assert_eq!(v["prompt"], ask["prompt"]);

    // The member hands in: the plan is asked, so required.
    let e = fx
        .member
        .put(&hand, &json!({"body": "Bài thu hoạch của tôi."}))
        .await
        .expect_error(422, "validation_failed");
    assert!(e["fields"]["plan"].is_string(), "{e}");
    assert_eq!(
        int_of(
            &app,
            "SELECT COUNT(*) FROM reflections WHERE class_id = $1",
            class
        )
        .await,
        0
    );
    let r = fx
        .member
        .put(
            &hand,
            &json!({"body": "Chỉ thị yêu cầu đổi mới hình thức học tập.", "plan": "Tự học mỗi tuần hai buổi."}),
        )
        .await
        .expect(200)
        .json();
    let rid = id(&r);
    assert_eq!(r["state"], "submitted", "{r}");
    assert_eq!(r["person_id"], fx.member_p);
    assert_eq!(r["plan"], "Tự học mỗi tuần hai buổi.");
    // Rewritten until graded: still one.
    let r2 = fx
        .member
        .put(
            &hand,
            &json!({"body": "Bản sửa: đổi mới hình thức và nội dung học tập.", "plan": "Tự học mỗi tuần hai buổi."}),
        )
        .await
        .expect(200)
        .json();
    assert_eq!(id(&r2), rid);
    assert_eq!(
        r2["body"],
        "Bản sửa: đổi mới hình thức và nội dung học tập."
    );
    assert_eq!(
        int_of(
            &app,
            "SELECT COUNT(*) FROM reflections WHERE class_id = $1",
            class
        )
        .await,
        1
    );
    assert_eq!(
        int_of(
            &app,
            "SELECT reflection_count FROM classes WHERE id = $1",
            class
        )
        .await,
        1
    );

    // The secretary records one on paper and exempts another (a reason is required).
    let pp: Vec<i64> = cell_listed
        .iter()
        .copied()
        .filter(|p| !fx.taken.contains(p))
        .take(3)
        .collect();
    let (paper_p, exempt_p, p2) = (pp[0], pp[1], pp[2]);
    let rec = format!("/api/v1/classes/{class}/reflections/record");
    fx.secretary
        .post(&rec, &json!({"person_id": paper_p, "state": "paper"}))
        .await
        .expect(204);
    for body in [
        json!({"person_id": exempt_p, "state": "exempt"}),
        json!({"person_id": exempt_p, "state": "exempt", "reason": "  "}),
    ] {
        let e = fx
            .secretary
            .post(&rec, &body)
            .await
            .expect_error(422, "validation_failed");
        assert!(e["fields"]["reason"].is_string(), "{e}");
    }
    let e = fx
        .secretary
        .post(&rec, &json!({"person_id": exempt_p, "state": "submitted"}))
        .await
        .expect_error(422, "validation_failed");
    assert!(e["fields"]["state"].is_string(), "{e}");
    fx.secretary
        .post(
            &rec,
            &json!({"person_id": exempt_p, "state": "exempt", "reason": "Ốm dài ngày, chi ủy quyết định miễn viết"}),
        )
        .await
        .expect(204);
    // Another cell's person is not the secretary's to record.
    let far = fx.others(fx.other_cell, 1, &[])[0];
    hidden(
        &fx.secretary
            .post(&rec, &json!({"person_id": far, "state": "paper"}))
            .await,
    );
    let (state, reason): (String, Option<String>) = store::db_run!(&app.db, p => sqlx::query_as(
        "SELECT state, exempt_reason FROM reflections WHERE class_id = $1 AND person_id = $2")
        .bind(class).bind(exempt_p).fetch_one(p).await)
    .unwrap();
    assert_eq!(state, "exempt");
    assert_eq!(
        reason.as_deref(),
        Some("Ốm dài ngày, chi ủy quyết định miễn viết")
    );
    assert_eq!(
        int_of(
            &app,
            "SELECT COUNT(*) FROM reflections WHERE class_id = $1",
            class
        )
        .await,
        3
    );

    // Missing: exactly the rest of the secretary's cell.
    let done = BTreeSet::from([fx.member_p, paper_p, exempt_p]);
    let expected: BTreeSet<i64> = cell_listed.difference(&done).copied().collect();
    let page = fx
        .secretary
        .get_ok(&format!("/api/v1/classes/{class}/reflections?missing=true"))
        .await;
    let missing: BTreeSet<i64> = items(&page)
        .iter()
        .map(|r| r["person_id"].as_i64().unwrap())
        .collect();
    assert_eq!(missing, expected);
    assert!(items(&page).iter().all(|r| r["state"].is_null()));
    let whole = fx
        .secretary
        .get_ok(&format!("/api/v1/classes/{class}/reflections"))
        .await;
    let states: BTreeMap<i64, Value> = items(&whole)
        .iter()
        .map(|r| (r["person_id"].as_i64().unwrap(), r["state"].clone()))
        .collect();
    assert_eq!(states.keys().copied().collect::<BTreeSet<_>>(), cell_listed);
    assert_eq!(states[&fx.member_p], "submitted");
    assert_eq!(states[&paper_p], "paper");
    assert_eq!(states[&exempt_p], "exempt");
    assert_eq!(whole["ask"]["handed_in"], 3);

    // Grading: the secretary, not another member.
    let member2 = account(&app, "dangvien_hai", Some(p2), fx.cell, Role::Member).await;
    let gpath = format!("/api/v1/reflections/{rid}/grade");
    hidden(&member2.put(&gpath, &json!({"grade": "good"})).await);
    hidden(&member2.get(&format!("/api/v1/reflections/{rid}")).await);
    hidden(&fx.member.put(&gpath, &json!({"grade": "good"})).await);
    let e = fx
        .secretary
        .put(&gpath, &json!({"grade": "excellent"}))
        .await
        .expect_error(422, "validation_failed");
    assert!(e["fields"]["grade"].is_string(), "{e}");
    let g = fx
        .secretary
        .put(
            &gpath,
            &json!({"grade": "good", "remark": "Liên hệ sát thực tế chi bộ."}),
        )
        .await
        .expect(200)
        .json();
    assert_eq!(g["grade"], "good", "{g}");
    assert_eq!(g["remark"], "Liên hệ sát thực tế chi bộ.");
    assert!(g["graded_at"].is_string());
    let (grade,): (Option<String>,) = store::db_run!(&app.db, p => sqlx::query_as(
        "SELECT grade FROM reflections WHERE id = $1").bind(rid).fetch_one(p).await)
    .unwrap();
    assert_eq!(grade.as_deref(), Some("good"));
    // Graded: the member can no longer rewrite it.
    fx.member
        .put(
            &hand,
            &json!({"body": "Sửa sau khi chấm", "plan": "Kế hoạch mới"}),
        )
        .await
        .expect_error(422, "reflection_graded");
    let mine = fx
        .member
        .get_ok(&format!("/api/v1/reflections/{rid}"))
        .await;
    assert_eq!(
        mine["body"],
        "Bản sửa: đổi mới hình thức và nội dung học tập."
    );
    assert_eq!(mine["grade"], "good");
    // An exemption has nothing to grade.
    let exempt_id = states_id(&app, class, exempt_p).await;
    fx.secretary
        .put(
            &format!("/api/v1/reflections/{exempt_id}/grade"),
            &json!({"grade": "pass"}),
        )
        .await
        .expect_error(422, "reflection_exempt");

    // Reminders: one notification to each participant still missing in the secretary's cell.
    let notes = format!(
        "SELECT COUNT(*) FROM notifications WHERE kind = 'reflection' AND link = '/classes/{class}/reflection'"
    );
    assert_eq!(count(&app, &notes).await, 0);
    hidden(
        &fx.member
            .post(
                &format!("/api/v1/classes/{class}/reflections/remind"),
                &json!({}),
            )
            .await,
    );
    let n = fx
        .secretary
        .post_ok(
            &format!("/api/v1/classes/{class}/reflections/remind"),
            &json!({}),
            200,
        )
        .await;
    assert_eq!(n["reminded"], expected.len(), "{n}");
    assert_eq!(count(&app, &notes).await, expected.len() as i64);
    let reminded: BTreeSet<i64> = store::db_run!(&app.db, p => sqlx::query_as::<_, (i64,)>(
        "SELECT person_id FROM notifications WHERE kind = 'reflection' AND link = $1")
        .bind(format!("/classes/{class}/reflection")).fetch_all(p).await)
    .unwrap()
    .into_iter()
    .map(|r| r.0)
    .collect();
    assert_eq!(reminded, expected);
    // The member (with an account, handed in) was not reminded; the secretary (with an
    // account, missing) was, and sees it.
    assert!(!reminded.contains(&fx.member_p));
    assert!(reminded.contains(&fx.secretary_p));
    let mine = fx.secretary.get("/api/v1/notifications").await;
    mine.expect(200);
    assert!(
        mine.text.contains("Nhắc nộp bài thu hoạch"),
        "{}",
        short(&mine.text)
    );
    let theirs = fx.member.get("/api/v1/notifications").await;
    theirs.expect(200);
    assert!(
        !theirs.text.contains("Nhắc nộp bài thu hoạch"),
        "{}",
        short(&theirs.text)
    );
}

/// A new class of the secretary's cell in the commune's campaign, its participants generated
/// from the cell.
async fn cell_class(fx: &Fx) -> i64 {
    let campaign = items(&fx.organizer.get_ok("/api/v1/campaigns").await)
        .into_iter()
        .find(|c| c["org_id"] == fx.commune)
        .map(|c| id(&c))
        .expect("the commune's campaign");
    let class = fx
        .organizer
        .post_ok(
            &format!("/api/v1/campaigns/{campaign}/classes"),
            &json!({"title": "Sinh hoạt chuyên đề Chỉ thị 08-CT/TU của chi bộ", "org_id": fx.cell,
                    "form": "in_person", "audience_tier": "grassroots",
                    "venue_name": "Nhà văn hóa thôn", "venue_capacity": 60}),
            201,
        )
        .await;
    let class = id(&class);
    fx.organizer
        .post_ok(
            &format!("/api/v1/classes/{class}/participants/generate"),
            &json!({"org_ids": [fx.cell], "include_completed": true}),
            200,
        )
        .await;
    class
}

/// The id of a person's reflection of a class.
async fn states_id(app: &TestApp, class: i64, person: i64) -> i64 {
    let (id,): (i64,) = store::db_run!(&app.db, p => sqlx::query_as(
        "SELECT id FROM reflections WHERE class_id = $1 AND person_id = $2")
        .bind(class).bind(person).fetch_one(p).await)
    .unwrap();
    id
}
