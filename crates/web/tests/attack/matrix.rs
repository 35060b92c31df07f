//! The authorization matrix: every API endpoint and HTML form that acts on organization data,
//! for every actor (province admin, commune admin, organizer, presenter, secretary, member,
//! anonymous), on targets inside and outside the actor's subtree, and for resolutions at every
//! classification. The expected answer is computed from the rules of issue 4:
//!
//! * reading organization data needs presenter or above on a subtree holding the target;
//! * planning (catalog, campaigns, classes, sessions, participants) needs organizer;
//! * recording attendance needs secretary;
//! * account management needs admin, and a clearance can only be given up to one's own;
//! * a classified resolution exists only for users cleared at least that far;
//! * without a session, everything is refused.
//!
//! No refused request may succeed, no allowed one may fail; a 5xx is always a failure.

use std::sync::atomic::{AtomicUsize, Ordering};

use reqwest::Method;
use serde_json::{json, Value};

use crate::common::*;
use crate::harness::*;

both_engines! {
    authorization_matrix => authorization_matrix_sqlite, authorization_matrix_postgres;
}

const MEMBER: i32 = 0;
const PRESENTER: i32 = 1;
const SECRETARY: i32 = 2;
const ORGANIZER: i32 = 3;
const ADMIN: i32 = 4;

fn clearance_rank(c: &str) -> i32 {
    match c {
        "public" | "none" => 0,
        "confidential" => 1,
        "secret" => 2,
        _ => 3,
    }
}

struct Actor {
    name: &'static str,
    api: Option<Api>,
    browser: Option<Browser>,
    org: i64,
    role: i32,
    clearance: i32,
}

/// Fixtures made by the province admin in one organization.
struct Target {
    name: &'static str,
    org: i64,
    /// People of the target's subtree.
    people: Vec<i64>,
    /// A person of the target's subtree outside every smaller target.
    person: i64,
    campaign: i64,
    /// A class with participants (generated from the target) and one session.
    class: i64,
    session: i64,
    participants: Vec<i64>,
    /// An empty class (people are added to it by hand).
    class_add: i64,
    /// A class for generation.
    class_gen: i64,
    /// An account with a member grant at the target.
    account: i64,
}

/// A resolution at a classification, kept by one organization.
struct ResTarget {
    owner: &'static str,
    owner_org: i64,
    classification: &'static str,
    id: i64,
    body: Value,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Act {
    GetOrg,
    GetPerson,
    GetCampaign,
    GetCampaignsList,
    GetClass,
    GetParticipants,
    GetResults,
    GetSheet,
    CreateResolution,
    CreateCampaign,
    CreateClass,
    AddSession,
    AddParticipant,
    RemoveParticipant,
    Generate,
    RecordAttendance,
    Finish,
    AdmGetAccount,
    AdmCreateAccount,
    AdmCreateOrganizer,
    AdmGrant,
    AdmRevoke,
    AdmClearanceNone,
    AdmClearanceConfidential,
    AdmClearanceSecret,
    AdmUnlock,
    AdmBulk,
    HGetOrg,
    HGetPerson,
    HGetCampaign,
    HGetClass,
    HGetSheet,
    HCreateCampaign,
    HCreateClass,
    HAddSession,
    HAddParticipant,
    HRemoveParticipant,
    HGenerate,
    HRecordAttendance,
    HAdmAccount,
    HAdmCreateAccount,
    HAdmGrant,
    HAdmClearance,
    HAdmResetPassword,
    // On resolutions (classification dimension).
    ResGet,
    ResUpdate,
    HResGet,
    HResEdit,
    HResUpdate,
}

impl Act {
    const ORG_ACTS: [Act; 44] = [
        Act::GetOrg,
        Act::GetPerson,
        Act::GetCampaign,
        Act::GetCampaignsList,
        Act::GetClass,
        Act::GetParticipants,
        Act::GetResults,
        Act::GetSheet,
        Act::CreateResolution,
        Act::CreateCampaign,
        Act::CreateClass,
        Act::AddSession,
        Act::AddParticipant,
        Act::RemoveParticipant,
        Act::Generate,
        Act::RecordAttendance,
        Act::AdmGetAccount,
        Act::AdmCreateAccount,
        Act::AdmCreateOrganizer,
        Act::AdmGrant,
        Act::AdmRevoke,
        Act::AdmClearanceNone,
        Act::AdmClearanceConfidential,
        Act::AdmClearanceSecret,
        Act::AdmUnlock,
        Act::AdmBulk,
        Act::HGetOrg,
        Act::HGetPerson,
        Act::HGetCampaign,
        Act::HGetClass,
        Act::HGetSheet,
        Act::HCreateCampaign,
        Act::HCreateClass,
        Act::HAddSession,
        Act::HAddParticipant,
        Act::HRemoveParticipant,
        Act::HGenerate,
        Act::HRecordAttendance,
        Act::HAdmAccount,
        Act::HAdmCreateAccount,
        Act::HAdmGrant,
        Act::HAdmClearance,
        Act::HAdmResetPassword,
        // Last: it ends the class.
        Act::Finish,
    ];
    const RES_ACTS: [Act; 5] = [
        Act::ResGet,
        Act::ResUpdate,
        Act::HResGet,
        Act::HResEdit,
        Act::HResUpdate,
    ];

    fn area(self) -> &'static str {
        use Act::*;
        match self {
            GetOrg | GetPerson | HGetOrg | HGetPerson => "org",
            CreateResolution | ResGet | ResUpdate | HResGet | HResEdit | HResUpdate => {
                "resolutions"
            }
            GetCampaign | GetCampaignsList | CreateCampaign | HGetCampaign | HCreateCampaign => {
                "campaigns"
            }
            GetClass | CreateClass | AddSession | Finish | HGetClass | HCreateClass
            | HAddSession => "classes",
            GetParticipants | AddParticipant | RemoveParticipant | Generate | HAddParticipant
            | HRemoveParticipant | HGenerate => "participants",
            GetResults | GetSheet | RecordAttendance | HGetSheet | HRecordAttendance => {
                "attendance"
            }
            _ => "accounts",
        }
    }

    fn html(self) -> bool {
        format!("{self:?}").starts_with('H')
    }

    /// The least role the action needs on a subtree holding the target.
    fn min_role(self) -> i32 {
        use Act::*;
        match self {
            ResGet | HResGet => MEMBER,
            GetOrg | GetPerson | GetCampaign | GetClass | GetParticipants | GetResults
            | GetSheet | HGetOrg | HGetPerson | HGetCampaign | HGetClass | HGetSheet => PRESENTER,
            RecordAttendance | HRecordAttendance => SECRETARY,
            CreateResolution | CreateCampaign | CreateClass | AddSession | AddParticipant
            | RemoveParticipant | Generate | Finish | HCreateCampaign | HCreateClass
            | HAddSession | HAddParticipant | HRemoveParticipant | HGenerate | ResUpdate
            | HResEdit | HResUpdate => ORGANIZER,
            GetCampaignsList => PRESENTER,
            _ => ADMIN,
        }
    }

    /// The clearance the action needs besides the target's classification (giving a clearance
    /// needs at least that clearance).
    fn min_clearance(self) -> i32 {
        match self {
            Act::AdmClearanceConfidential => 1,
            Act::AdmClearanceSecret => 2,
            _ => 0,
        }
    }

    /// Reading a resolution does not depend on the subtree (the catalog is shared).
    fn global(self) -> bool {
        matches!(self, Act::ResGet | Act::HResGet)
    }

    /// Bulk creation only on cells (on a commune it would hash hundreds of passwords).
    fn applies(self, target: &str) -> bool {
        self != Act::AdmBulk || target.starts_with('K')
    }

    /// Actions whose allowed outcome may also be a rule refusal (409/422): finishing a class
    /// without sessions or marks.
    fn lenient(self) -> bool {
        matches!(self, Act::Finish)
    }
}

struct World {
    orgs: Orgs,
    targets: Vec<Target>,
    resolutions: Vec<ResTarget>,
    public_res: i64,
    admin: Api,
    admin_browser: Browser,
    /// Where removals and additions by allowed actors have got to, per target.
    cursor: Vec<AtomicUsize>,
    n: AtomicUsize,
}

impl World {
    fn next(&self) -> usize {
        self.n.fetch_add(1, Ordering::SeqCst)
    }
}

async fn make_target(
    admin: &Api,
    name: &'static str,
    org: i64,
    public_res: i64,
    person: i64,
) -> Target {
    let people: Vec<i64> = admin.all_people(Some(org)).await.iter().map(id).collect();
    assert!(
        people.len() >= 8,
        "{name}: at least 8 people ({})",
        people.len()
    );
    let campaign = id(&admin
        .post_ok(
            "/api/v1/campaigns",
            &json!({"name": format!("Đợt học tập ma trận {name}"), "org_id": org,
                    "leader_person_id": people[0], "starts_on": "01/03/2026", "ends_on": "30/04/2026",
                    "resolution_ids": [public_res]}),
            201,
        )
        .await);
    let mk_class = |title: String| {
        let admin = admin.clone();
        async move {
            id(&admin
                .post_ok(
                    &format!("/api/v1/campaigns/{campaign}/classes"),
                    &json!({"title": title, "org_id": org, "form": "in_person",
                            "audience_tier": "public", "venue_name": "Hội trường"}),
                    201,
                )
                .await)
        }
    };
    let class = mk_class(format!("Lớp ma trận {name}")).await;
    let class_add = mk_class(format!("Lớp ma trận thêm tay {name}")).await;
    let class_gen = mk_class(format!("Lớp ma trận lập danh sách {name}")).await;
    let session = id(&admin
        .post_ok(
            &format!("/api/v1/classes/{class}/sessions"),
            &json!({"date": "10/03/2026", "start_time": "07:30", "duration_minutes": 120,
                    "topic": "Quán triệt", "is_discussion": true}),
            201,
        )
        .await);
    admin
        .post_ok(
            &format!("/api/v1/classes/{class}/participants/generate"),
            &json!({"org_ids": [org]}),
            200,
        )
        .await;
    let participants: Vec<i64> = items(
        &admin
            .get_ok(&format!("/api/v1/classes/{class}/participants"))
            .await,
    )
    .iter()
    .map(id)
    .collect();
    assert!(
        participants.len() >= 8,
        "{name}: at least 8 participants ({})",
        participants.len()
    );
    let account = create_account_ok(
        admin,
        &format!("matran.{}", name.to_lowercase()),
        org,
        "member",
        "none",
    )
    .await;
    Target {
        name,
        org,
        people,
        person,
        campaign,
        class,
        session,
        participants,
        class_add,
        class_gen,
        account,
    }
}

async fn send_api(actor: &Actor, method: Method, path: &str, body: Option<&Value>) -> Resp {
    let c = actor
        .api
        .as_ref()
        .map(|a| a.client.clone())
        .unwrap_or_else(client);
    let base = actor.api.as_ref().map(|a| a.base.clone()).expect("base");
    let mut req = c.request(method.clone(), format!("{base}{path}"));
    if let Some(a) = &actor.api {
        if !a.token.is_empty() {
            req = req.bearer_auth(&a.token);
        }
    }
    if let Some(b) = body {
        req = req.json(b);
    }
    let m: &'static str = if method == Method::GET {
        "GET"
    } else if method == Method::PUT {
        "PUT"
    } else {
        "POST"
    };
    let r = req.send().await;
    let r = r.unwrap_or_else(|e| panic!("{m} {path}: {e}"));
    let status = r.status();
    let headers = r.headers().clone();
    let text = r.text().await.unwrap_or_default();
    Resp {
        method: m,
        path: path.to_string(),
        status,
        headers,
        text,
    }
}

async fn send_form(actor: &Actor, path: &str, fields: Vec<(String, String)>) -> Resp {
    let b = actor.browser.as_ref().expect("browser");
    b.post_fields(path, fields).await
}

async fn send_page(actor: &Actor, path: &str) -> Resp {
    actor.browser.as_ref().expect("browser").get(path).await
}

fn f(pairs: &[(&str, String)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_string(), v.clone()))
        .collect()
}

/// Performs one cell of the matrix. `allowed` picks fresh rows for state-changing actions so
/// that every allowed attempt has something to act on.
async fn perform(w: &World, actor: &Actor, act: Act, ti: usize, allowed: bool) -> Resp {
    let t = &w.targets[ti];
    let n = w.next();
    let org = t.org;
    // Rows consumed by allowed removals/additions come from the front; refused attempts aim at
    // the second to last row (never consumed) and attendance at the last.
    let fresh = |list: &Vec<i64>| {
        if allowed {
            let i = w.cursor[ti].fetch_add(1, Ordering::SeqCst);
            assert!(i + 2 < list.len(), "{}: out of rows", t.name);
            list[i]
        } else {
            list[list.len() - 2]
        }
    };
    let last_pid = *t.participants.last().expect("participants");
    use Act::*;
    match act {
        GetOrg => send_api(actor, Method::GET, &format!("/api/v1/orgs/{org}"), None).await,
        GetPerson => {
            send_api(actor, Method::GET, &format!("/api/v1/people/{}", t.person), None).await
        }
        GetCampaign => {
            send_api(actor, Method::GET, &format!("/api/v1/campaigns/{}", t.campaign), None).await
        }
        GetCampaignsList => {
            // Allowed: the list holds the campaign; refused: the list must not hold it (200 with
            // the campaign missing is mapped to 404 here, so the matrix reads it as refused).
            let mut r = send_api(actor, Method::GET, "/api/v1/campaigns", None).await;
            if r.status.is_success() {
                let has = serde_json::from_str::<Value>(&r.text)
                    .ok()
                    .map(|v| {
                        v.as_array()
                            .or_else(|| v["items"].as_array())
                            .cloned()
                            .unwrap_or_default()
                    })
                    .unwrap_or_default()
                    .iter()
                    .any(|c| c["id"].as_i64() == Some(t.campaign));
                if !has {
                    r.status = reqwest::StatusCode::NOT_FOUND;
                }
            }
            r
        }
        GetClass => {
            send_api(actor, Method::GET, &format!("/api/v1/classes/{}", t.class), None).await
        }
        GetParticipants => {
            send_api(
                actor,
                Method::GET,
                &format!("/api/v1/classes/{}/participants", t.class),
                None,
            )
            .await
        }
        GetResults => {
            send_api(actor, Method::GET, &format!("/api/v1/classes/{}/results", t.class), None)
                .await
        }
        GetSheet => {
            send_api(
                actor,
                Method::GET,
                &format!("/api/v1/sessions/{}/attendance", t.session),
                None,
            )
            .await
        }
        CreateResolution => {
            send_api(
                actor,
                Method::POST,
                "/api/v1/resolutions",
                Some(&json!({"owner_org_id": org, "kind": "directive", "number": format!("{n}-CT/MT"),
                    "title": format!("Chỉ thị ma trận {n}"), "issuing_body": "Đảng ủy",
                    "released_on": "2026-01-05", "classification": "public"})),
            )
            .await
        }
        CreateCampaign => {
            send_api(
                actor,
                Method::POST,
                "/api/v1/campaigns",
                Some(&json!({"name": format!("Đợt ma trận số {n}"), "org_id": org,
                    "leader_person_id": t.people[0], "starts_on": "01/03/2026", "ends_on": "30/04/2026",
                    "resolution_ids": [w.public_res]})),
            )
            .await
        }
        CreateClass => {
            send_api(
                actor,
                Method::POST,
                &format!("/api/v1/campaigns/{}/classes", t.campaign),
                Some(&json!({"title": format!("Lớp ma trận số {n}"), "org_id": org,
                    "form": "in_person", "audience_tier": "public", "venue_name": "Hội trường"})),
            )
            .await
        }
        AddSession => {
            send_api(
                actor,
                Method::POST,
                &format!("/api/v1/classes/{}/sessions", t.class_gen),
                Some(&json!({"date": "11/03/2026", "start_time": "07:30", "duration_minutes": 60,
                    "topic": format!("Buổi ma trận {n}"), "is_discussion": false})),
            )
            .await
        }
        AddParticipant => {
            let p = fresh(&t.people);
            send_api(
                actor,
                Method::POST,
                &format!("/api/v1/classes/{}/participants", t.class_add),
                Some(&json!({"person_id": p, "reason": "Bổ sung theo ma trận"})),
            )
            .await
        }
        RemoveParticipant => {
            let pid = fresh(&t.participants);
            send_api(
                actor,
                Method::POST,
                &format!("/api/v1/classes/{}/participants/{pid}/remove", t.class),
                Some(&json!({"reason": "Chuyển sinh hoạt"})),
            )
            .await
        }
        Generate => {
            send_api(
                actor,
                Method::POST,
                &format!("/api/v1/classes/{}/participants/generate", t.class_gen),
                Some(&json!({"org_ids": [org]})),
            )
            .await
        }
        RecordAttendance => {
            send_api(
                actor,
                Method::PUT,
                &format!("/api/v1/sessions/{}/attendance", t.session),
                Some(&json!({"marks": [{"participant_id": last_pid, "status": "present"}]})),
            )
            .await
        }
        Finish => {
            // A fresh class with one session for every attempt.
            let class = id(&w
                .admin
                .post_ok(
                    &format!("/api/v1/campaigns/{}/classes", t.campaign),
                    &json!({"title": format!("Lớp kết thúc {n}"), "org_id": org,
                        "form": "in_person", "audience_tier": "public", "venue_name": "Hội trường"}),
                    201,
                )
                .await);
            w.admin
                .post_ok(
                    &format!("/api/v1/classes/{class}/sessions"),
                    &json!({"date": "12/03/2026", "start_time": "07:30", "duration_minutes": 60,
                        "topic": "Thảo luận", "is_discussion": true}),
                    201,
                )
                .await;
            send_api(actor, Method::POST, &format!("/api/v1/classes/{class}/finish"), None).await
        }
        AdmGetAccount => {
            send_api(
                actor,
                Method::GET,
                &format!("/api/v1/admin/accounts/{}", t.account),
                None,
            )
            .await
        }
        AdmCreateAccount | AdmCreateOrganizer => {
            let role = if act == AdmCreateAccount { "member" } else { "organizer" };
            send_api(
                actor,
                Method::POST,
                "/api/v1/admin/accounts",
                Some(&json!({"username": format!("matran{n}"), "display_name": format!("Người thử {n}"),
                    "org_id": org, "role": role, "clearance": "none", "password": STRONG_PASSWORD})),
            )
            .await
        }
        AdmGrant => {
            send_api(
                actor,
                Method::POST,
                &format!("/api/v1/admin/accounts/{}/grants", t.account),
                Some(&json!({"org_id": org, "role": "presenter"})),
            )
            .await
        }
        AdmRevoke => {
            // Granted first (by the province admin), so that the removal has something to remove.
            w.admin
                .post(
                    &format!("/api/v1/admin/accounts/{}/grants", t.account),
                    &json!({"org_id": org, "role": "secretary"}),
                )
                .await
                .expect(204);
            send_api(
                actor,
                Method::POST,
                &format!("/api/v1/admin/accounts/{}/grants/remove", t.account),
                Some(&json!({"org_id": org, "role": "secretary"})),
            )
            .await
        }
        AdmClearanceNone | AdmClearanceConfidential | AdmClearanceSecret => {
            let c = match act {
                AdmClearanceNone => "none",
                AdmClearanceConfidential => "confidential",
                _ => "secret",
            };
            send_api(
                actor,
                Method::PUT,
                &format!("/api/v1/admin/accounts/{}/clearance", t.account),
                Some(&json!({"clearance": c})),
            )
            .await
        }
        AdmUnlock => {
            send_api(
                actor,
                Method::POST,
                &format!("/api/v1/admin/accounts/{}/unlock", t.account),
                None,
            )
            .await
        }
        AdmBulk => {
            send_api(
                actor,
                Method::POST,
                "/api/v1/admin/accounts/bulk",
                Some(&json!({"org_id": org, "role": "member"})),
            )
            .await
        }
        HGetOrg => send_page(actor, &format!("/orgs/{org}")).await,
        HGetPerson => send_page(actor, &format!("/people/{}", t.person)).await,
        HGetCampaign => send_page(actor, &format!("/campaigns/{}", t.campaign)).await,
        HGetClass => send_page(actor, &format!("/classes/{}", t.class)).await,
        HGetSheet => send_page(actor, &format!("/sessions/{}/attendance", t.session)).await,
        HAdmAccount => send_page(actor, &format!("/admin/accounts/{}", t.account)).await,
        HCreateCampaign => {
            send_form(
                actor,
                "/campaigns",
                f(&[
                    ("name", format!("Đợt ma trận biểu mẫu {n}")),
                    ("org_id", org.to_string()),
                    ("leader_person_id", t.people[0].to_string()),
                    ("starts_on", "01/05/2026".into()),
                    ("ends_on", "30/06/2026".into()),
                    ("resolution_ids", w.public_res.to_string()),
                ]),
            )
            .await
        }
        HCreateClass => {
            send_form(
                actor,
                &format!("/campaigns/{}/classes", t.campaign),
                f(&[
                    ("title", format!("Lớp ma trận biểu mẫu {n}")),
                    ("org_id", org.to_string()),
                    ("form", "in_person".into()),
                    ("audience_tier", "public".into()),
                    ("venue_name", "Nhà văn hóa".into()),
                    ("venue_capacity", "200".into()),
                    ("chair_person_id", String::new()),
                    ("opening_speaker_id", String::new()),
                    ("closing_speaker_id", String::new()),
                    ("retake_threshold", "40".into()),
                ]),
            )
            .await
        }
        HAddSession => {
            send_form(
                actor,
                &format!("/classes/{}/sessions", t.class_gen),
                f(&[
                    ("date", "13/03/2026".into()),
                    ("start_time", "07:30".into()),
                    ("duration_minutes", "60".into()),
                    ("topic", format!("Buổi biểu mẫu {n}")),
                ]),
            )
            .await
        }
        HAddParticipant => {
            let p = fresh(&t.people);
            send_form(
                actor,
                &format!("/classes/{}/participants/add", t.class_add),
                f(&[
                    ("person_ref", p.to_string()),
                    ("bridge_point_id", String::new()),
                    ("reason", "Bổ sung qua biểu mẫu".into()),
                ]),
            )
            .await
        }
        HRemoveParticipant => {
            let pid = fresh(&t.participants);
            send_form(
                actor,
                &format!("/classes/{}/participants/{pid}/remove", t.class),
                f(&[("reason", "Chuyển sinh hoạt".into())]),
            )
            .await
        }
        HGenerate => {
            send_form(
                actor,
                &format!("/classes/{}/participants/generate", t.class_gen),
                f(&[("org_ids", org.to_string())]),
            )
            .await
        }
        HRecordAttendance => {
            // A row of the sheet's first page (the form saves only the rows it shows).
            let page = w.admin_browser.get(&format!("/sessions/{}/attendance", t.session)).await;
            let last_pid = *scrape_suffix_ids(&page.text, "status_")
                .last()
                .unwrap_or(&last_pid);
            send_form(
                actor,
                &format!("/sessions/{}/attendance", t.session),
                f(&[
                    (&format!("status_{last_pid}"), "present".into()),
                    (&format!("late_{last_pid}"), "0".into()),
                    (&format!("early_{last_pid}"), "0".into()),
                    (&format!("reason_{last_pid}"), String::new()),
                ]),
            )
            .await
        }
        HAdmCreateAccount => {
            send_form(
                actor,
                "/admin/accounts",
                f(&[
                    ("username", format!("bieumau{n}")),
                    ("display_name", format!("Người biểu mẫu {n}")),
                    ("person_id", String::new()),
                    ("org_id", org.to_string()),
                    ("role", "member".into()),
                    ("clearance", "none".into()),
                    ("password", STRONG_PASSWORD.into()),
                ]),
            )
            .await
        }
        HAdmGrant => {
            send_form(
                actor,
                &format!("/admin/accounts/{}/grants", t.account),
                f(&[("org_id", org.to_string()), ("role", "presenter".into())]),
            )
            .await
        }
        HAdmClearance => {
            send_form(
                actor,
                &format!("/admin/accounts/{}/clearance", t.account),
                f(&[("clearance", "none".into())]),
            )
            .await
        }
        HAdmResetPassword => {
            send_form(
                actor,
                &format!("/admin/accounts/{}/reset-password", t.account),
                f(&[("password", STRONG_PASSWORD.into())]),
            )
            .await
        }
        ResGet | ResUpdate | HResGet | HResEdit | HResUpdate => unreachable!(),
    }
}

async fn perform_res(actor: &Actor, act: Act, r: &ResTarget) -> Resp {
    match act {
        Act::ResGet => {
            send_api(
                actor,
                Method::GET,
                &format!("/api/v1/resolutions/{}", r.id),
                None,
            )
            .await
        }
        Act::ResUpdate => {
            send_api(
                actor,
                Method::PUT,
                &format!("/api/v1/resolutions/{}", r.id),
                Some(&r.body),
            )
            .await
        }
        Act::HResGet => send_page(actor, &format!("/resolutions/{}", r.id)).await,
        Act::HResEdit => send_page(actor, &format!("/resolutions/{}/edit", r.id)).await,
        Act::HResUpdate => {
            let b = &r.body;
            let s = |k: &str| b[k].as_str().unwrap_or_default().to_string();
            send_form(
                actor,
                &format!("/resolutions/{}", r.id),
                f(&[
                    ("owner_org_id", r.owner_org.to_string()),
                    ("kind", s("kind")),
                    ("number", s("number")),
                    ("title", s("title")),
                    ("issuing_body", s("issuing_body")),
                    ("released_on", "05/01/2026".into()),
                    ("classification", s("classification")),
                    ("published_on", String::new()),
                    ("summary", s("summary")),
                ]),
            )
            .await
        }
        _ => unreachable!(),
    }
}

#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    Success,
    Refused,
    /// A form refused with a field error (422).
    Rejected,
    /// Anything else: an allowed request that failed for another reason, or a 5xx.
    Other,
}

fn outcome(act: Act, anonymous: bool, r: &Resp) -> Outcome {
    let s = r.status.as_u16();
    if s >= 500 {
        return Outcome::Other;
    }
    if act.html() {
        let loc = r.location().unwrap_or_default();
        if s == 303 && (loc.starts_with("/login") || loc.starts_with("/account/2fa")) {
            return Outcome::Refused;
        }
        if matches!(s, 200 | 303) {
            return Outcome::Success;
        }
        if matches!(s, 401 | 403 | 404) {
            return Outcome::Refused;
        }
        // A form shown again with a field error (e.g. an organization outside the subtree) is a
        // refusal; for an allowed request it is a failure (checked by the caller).
        if s == 422 {
            return Outcome::Rejected;
        }
        return Outcome::Other;
    }
    if (200..300).contains(&s) {
        return Outcome::Success;
    }
    if anonymous {
        return if s == 401 {
            Outcome::Refused
        } else {
            Outcome::Other
        };
    }
    if matches!(s, 403 | 404) {
        return Outcome::Refused;
    }
    Outcome::Other
}

async fn authorization_matrix(app: TestApp) {
    let orgs = Orgs::load(&app).await;
    let admin = app.api_login("admin").await;
    let public_res = admin.resolution_id("144-QĐ/TW").await;

    // The commune admin and a presenter of C1, made through the admin API.
    let (cadmin_api, _) = commune_admin(&app, &orgs).await;
    create_account_ok(&admin, "baocaovien.c1", orgs.c1, "presenter", "none").await;
    let presenter_api = activate(&app, "baocaovien.c1").await;

    // Fixtures in every target organization.
    let mut people_of = std::collections::BTreeMap::new();
    for (_, org) in orgs.all() {
        let set: std::collections::BTreeSet<i64> =
            admin.all_people(Some(org)).await.iter().map(id).collect();
        people_of.insert(org, set);
    }
    let mut targets = Vec::new();
    for (name, org) in orgs.all() {
        // A person in this target but in no smaller target (so "inside" is exact).
        let smaller: Vec<i64> = orgs
            .subtree(org)
            .into_iter()
            .filter(|&o| o != org)
            .collect();
        let person = *people_of[&org]
            .iter()
            .find(|p| smaller.iter().all(|o| !people_of[o].contains(p)))
            .unwrap_or_else(|| panic!("{name}: a person outside the smaller targets"));
        targets.push(make_target(&admin, name, org, public_res, person).await);
    }
    // Resolutions at each classification, kept by the province, C1 and C4.
    let mut resolutions = Vec::new();
    for (owner, org) in [("P", orgs.p), ("C1", orgs.c1), ("C4", orgs.c4)] {
        for cls in ["public", "confidential", "secret"] {
            let body = json!({"owner_org_id": org, "kind": "resolution",
                "number": format!("{}-NQ/{owner}{}", 70 + resolutions.len(), &cls[..1].to_uppercase()),
                "title": format!("Nghị quyết ma trận {owner} {cls}"), "issuing_body": "Ban Thường vụ",
                "released_on": "2026-01-05", "classification": cls});
            let v = admin.post_ok("/api/v1/resolutions", &body, 201).await;
            resolutions.push(ResTarget {
                owner,
                owner_org: org,
                classification: cls,
                id: id(&v),
                body,
            });
        }
    }

    // The actors, each through the API and through the HTML forms.
    let browser = |u: &'static str, pw: &'static str| app.browser_login_as(u, pw);
    let anon_api = Api {
        client: client(),
        base: app.base.clone(),
        token: String::new(),
        csrf: String::new(),
        login: Value::Null,
    };
    let anon_browser = Browser {
        client: client(),
        base: app.base.clone(),
        csrf: "0000000000000000".into(),
    };
    let actors = vec![
        Actor {
            name: "admin",
            api: Some(admin.clone()),
            browser: Some(app.browser_login("admin").await),
            org: orgs.p,
            role: ADMIN,
            clearance: 2,
        },
        Actor {
            name: "commune-admin",
            api: Some(cadmin_api),
            browser: Some(browser(COMMUNE_ADMIN, OWN_PASSWORD).await),
            org: orgs.c4,
            role: ADMIN,
            clearance: 1,
        },
        Actor {
            name: "organizer",
            api: Some(app.api_login("organizer").await),
            browser: Some(app.browser_login("organizer").await),
            org: orgs.c1,
            role: ORGANIZER,
            clearance: 0,
        },
        Actor {
            name: "presenter",
            api: Some(presenter_api),
            browser: Some(browser("baocaovien.c1", OWN_PASSWORD).await),
            org: orgs.c1,
            role: PRESENTER,
            clearance: 0,
        },
        Actor {
            name: "secretary",
            api: Some(app.api_login("secretary").await),
            browser: Some(app.browser_login("secretary").await),
            org: orgs.k1,
            role: SECRETARY,
            clearance: 0,
        },
        Actor {
            name: "member",
            api: Some(app.api_login("member").await),
            browser: Some(app.browser_login("member").await),
            org: orgs.k1,
            role: MEMBER,
            clearance: 0,
        },
        Actor {
            name: "anonymous",
            api: Some(anon_api),
            browser: Some(anon_browser),
            org: -1,
            role: -1,
            clearance: -1,
        },
    ];

    let w = World {
        orgs: orgs.clone(),
        cursor: targets.iter().map(|_| AtomicUsize::new(0)).collect(),
        targets,
        resolutions,
        public_res,
        admin: admin.clone(),
        admin_browser: actors[0].browser.clone().expect("admin browser"),
        n: AtomicUsize::new(1000),
    };

    let mut rows = 0usize;
    let mut allowed_n = 0usize;
    let mut failures: Vec<String> = Vec::new();
    let mut check = |actor: &Actor, act: Act, target: String, allowed: bool, r: &Resp| {
        rows += 1;
        if allowed {
            allowed_n += 1;
        }
        let o = outcome(act, actor.role < 0, r);
        let bad = match (allowed, &o) {
            (true, Outcome::Success) => false,
            (true, Outcome::Other) if act.lenient() && matches!(r.status.as_u16(), 409 | 422) => {
                false
            }
            (false, Outcome::Refused | Outcome::Rejected) => false,
            _ => true,
        };
        if bad {
            failures.push(format!(
                "[{}] {:<10} {:?} on {target}: expected {}, got {} {} {:?} → {}",
                act.area(),
                actor.name,
                act,
                if allowed { "ALLOWED" } else { "REFUSED" },
                r.method,
                r.path,
                r.status.as_u16(),
                short(&r.text.chars().take(300).collect::<String>()).replace('\n', " ")
            ));
        }
    };

    for act in Act::ORG_ACTS {
        for (ti, t) in w.targets.iter().enumerate() {
            if !act.applies(t.name) {
                continue;
            }
            for actor in &actors {
                let inside = actor.role >= 0 && w.orgs.subtree(actor.org).contains(&t.org);
                let allowed = actor.role >= act.min_role()
                    && inside
                    && actor.clearance >= act.min_clearance();
                let r = perform(&w, actor, act, ti, allowed).await;
                check(
                    actor,
                    act,
                    format!("{} ({})", t.name, if inside { "inside" } else { "outside" }),
                    allowed,
                    &r,
                );
            }
        }
    }
    for act in Act::RES_ACTS {
        for r in &w.resolutions {
            for actor in &actors {
                let inside = actor.role >= 0 && w.orgs.subtree(actor.org).contains(&r.owner_org);
                let cleared = actor.clearance >= clearance_rank(r.classification);
                let allowed = actor.role >= act.min_role() && (act.global() || inside) && cleared;
                let resp = perform_res(actor, act, r).await;
                check(
                    actor,
                    act,
                    format!(
                        "resolution of {} ({}) {}",
                        r.owner,
                        if inside { "inside" } else { "outside" },
                        r.classification
                    ),
                    allowed,
                    &resp,
                );
            }
        }
    }

    // Nothing was created by a refused attempt: every created campaign / account name belongs
    // to an allowed attempt (checked through what the province admin sees).
    let campaigns = admin.get_ok("/api/v1/campaigns").await;
    let names: Vec<String> = items(&campaigns)
        .iter()
        .filter_map(|c| c["name"].as_str().map(str::to_string))
        .collect();
    let created_campaigns = names
        .iter()
        .filter(|n| n.starts_with("Đợt ma trận số") || n.starts_with("Đợt ma trận biểu mẫu"))
        .count();

    println!(
        "authorization matrix ({:?}): {rows} requests ({allowed_n} allowed, {} refused) over {} actors × {} org targets × {} actions + {} resolutions × {} actions; {created_campaigns} campaigns created",
        app.engine,
        rows - allowed_n,
        actors.len(),
        w.targets.len(),
        Act::ORG_ACTS.len(),
        w.resolutions.len(),
        Act::RES_ACTS.len(),
    );
    // Allowed campaign creations: (API + HTML) × (admin on 6 targets + organizer on 3 + commune
    // admin on 2) = 22.
    assert!(
        failures.is_empty(),
        "{} of {rows} matrix cells wrong:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert_eq!(created_campaigns, 22, "campaigns created: {names:?}");
    // Accounts: API creations (member + organizer) by the admin on 6 targets and the commune
    // admin on 2 = 16; HTML creations 6 + 2 = 8.
    let accounts = admin.get_ok("/api/v1/admin/accounts?per_page=500").await;
    let usernames: Vec<String> = items(&accounts)
        .iter()
        .filter_map(|a| {
            a["username"]
                .as_str()
                .or_else(|| a["account"]["username"].as_str())
                .map(str::to_string)
        })
        .collect();
    let count = |prefix: &str| {
        usernames
            .iter()
            .filter(|u| {
                u.strip_prefix(prefix)
                    .is_some_and(|r| r.chars().next().is_some_and(|c| c.is_ascii_digit()))
            })
            .count()
    };
    assert_eq!(
        count("matran"),
        16,
        "accounts created through the API: {usernames:?}"
    );
    assert_eq!(
        count("bieumau"),
        8,
        "accounts created through the form: {usernames:?}"
    );
}
