//! Class pages: the class with its tabs (information, sessions, participants, results), and the
//! forms that change it (R1.3, R2.1, R2.2, R2.5, R3.1, R3.3, R3.5).

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use domain::ids::{BridgePointId, CampaignId, ClassId, OrgId, PersonId};
use domain::org::ManagementLevel;
use domain::study::{AudienceTier, BridgePointInput, ClassForm, ClassInput, SessionInput};
use domain::FieldErrors;
use serde::Deserialize;
use store::org::{self, Org, Person};
use store::study::attendance::{self, ParticipantResult};
use store::study::campaigns::{self, Campaign};
use store::study::classes::{self, Access, BridgePoint, Class, StudySession};
use store::study::participants::{self, GenerateRequest, Participant};
use store::{Scope, StoreError};

use crate::app::AppState;
use crate::auth::CsrfForm;
use crate::error::{AppError, AppResult};
use crate::pages::{Ctx, PageCtx};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/campaigns/{id}/classes/new", get(new))
        .route("/campaigns/{id}/classes", post(create))
        .route("/classes/{id}", get(detail))
        .route("/classes/{id}/sessions", post(add_session))
        .route("/classes/{id}/bridge-points", post(add_bridge_point))
        .route("/classes/{id}/participants/generate", post(generate))
        .route("/classes/{id}/participants/add", post(add_participant))
        .route(
            "/classes/{id}/participants/{pid}/remove",
            get(remove_participant_form).post(remove_participant),
        )
        .route("/classes/{id}/participants/print", get(print_participants))
        .route("/classes/{id}/edit", get(edit_form).post(edit))
        .route(
            "/sessions/{id}/edit",
            get(edit_session_form).post(edit_session),
        )
        .route("/classes/{id}/finish", post(finish))
        .route("/classes/{id}/reopen", post(reopen))
}

// ----- new class -----

#[derive(Template)]
#[template(path = "study/class_form.html")]
struct FormPage {
    ctx: PageCtx,
    campaign_id: i64,
    campaign_name: String,
    campaign_visible: bool,
    /// Editing this class (issue 11.7), else a new one of the campaign.
    edit: Option<i64>,
    /// The class is running: a change needs a reason (R2.6 history).
    needs_reason: bool,
    reason: String,
    input: ClassInput,
    errors: FieldErrors,
    orgs: Vec<Org>,
    leaders: Vec<Person>,
    forms: &'static [ClassForm],
    /// The tiers with the province's names for them (R2.7, R8.3).
    tiers: Vec<(AudienceTier, String)>,
}

impl FormPage {
    fn err(&self, field: &str) -> &str {
        self.errors.get(field).unwrap_or("")
    }
}

/// The campaign a class form belongs to: id, name, and the organization a new class defaults to.
struct CampaignRef {
    id: i64,
    name: String,
    org_id: i64,
}

impl From<Campaign> for CampaignRef {
    fn from(c: Campaign) -> Self {
        Self {
            id: c.id,
            name: c.name,
            org_id: c.org_id,
        }
    }
}

async fn form_page(
    st: &AppState,
    ctx: PageCtx,
    scope: &Scope,
    campaign: CampaignRef,
    input: ClassInput,
    errors: FieldErrors,
) -> AppResult<FormPage> {
    let orgs = org::all_visible(&st.db, scope, 300).await?;
    let org_id = input
        .org_id
        .trim()
        .parse::<i64>()
        .ok()
        .unwrap_or(campaign.org_id);
    let leaders = org::leaders(&st.db, scope, OrgId(org_id)).await?;
    let tiers = store::settings::of_org(&st.db, OrgId(org_id))
        .await?
        .tier_labels
        .pairs();
    Ok(FormPage {
        ctx: ctx.with_nav("campaigns"),
        campaign_id: campaign.id,
        campaign_name: campaign.name,
        campaign_visible: true,
        edit: None,
        needs_reason: false,
        reason: String::new(),
        input,
        errors,
        orgs,
        leaders,
        forms: ClassForm::ALL,
        tiers,
    })
}

async fn new(
    State(st): State<AppState>,
    Ctx(ctx, user): Ctx,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let campaign = campaigns::get(&st.db, user.scope(), CampaignId(id)).await?;
    if !ctx.can_plan {
        return Err(AppError::Forbidden);
    }
    let input = ClassInput {
        org_id: campaign.org_id.to_string(),
        form: "in_person".into(),
        audience_tier: "grassroots".into(),
        ..Default::default()
    };
    let page = form_page(
        &st,
        ctx.clone(),
        user.scope(),
        campaign.into(),
        input,
        FieldErrors::new(),
    )
    .await?;
    ctx.render(&page)
}

async fn create(
    State(st): State<AppState>,
    Ctx(ctx, _): Ctx,
    Path(id): Path<i64>,
    f: CsrfForm<ClassInput>,
) -> AppResult<Response> {
    let scope = f.user.scope();
    let campaign = campaigns::get(&st.db, scope, CampaignId(id)).await?;
    let input = f.form;
    let mut errors = FieldErrors::new();
    match input.validate() {
        Ok(new) => match classes::create(&st.db, scope, CampaignId(id), &new).await {
            Ok(cid) => {
                return Ok(ctx.redirect(
                    &format!("/classes/{cid}"),
                    "Đã tạo lớp học. Hãy thêm buổi học và lập danh sách người tham dự.",
                ))
            }
            Err(StoreError::Rule(domain::Violation { message: m, .. })) => {
                errors.add("chair_person_id", m)
            }
            Err(e) => return Err(e.into()),
        },
        Err(e) => errors = e,
    }
    let page = form_page(&st, ctx.clone(), scope, campaign.into(), input, errors).await?;
    ctx.render_invalid(&page)
}

// ----- correcting a class (issue 11.7) -----

/// What the class holds, as the form shows it.
fn input_of(c: &Class) -> ClassInput {
    let opt = |v: Option<i64>| v.map(|v| v.to_string()).unwrap_or_default();
    ClassInput {
        title: c.title.clone(),
        org_id: c.org_id.to_string(),
        form: c.form.clone(),
        audience_tier: c.audience_tier.clone(),
        venue_name: c.venue_name.clone().unwrap_or_default(),
        venue_capacity: opt(c.venue_capacity),
        chair_person_id: opt(c.chair_person_id),
        opening_speaker_id: opt(c.opening_speaker_id),
        closing_speaker_id: opt(c.closing_speaker_id),
        retake_threshold: c.retake_threshold.to_string(),
    }
}

async fn edit_page(
    st: &AppState,
    ctx: PageCtx,
    scope: &Scope,
    c: &Class,
    input: ClassInput,
    reason: String,
    errors: FieldErrors,
) -> AppResult<FormPage> {
    let campaign = CampaignRef {
        id: c.campaign_id,
        name: c.campaign_name.clone(),
        org_id: c.org_id,
    };
    let mut page = form_page(st, ctx, scope, campaign, input, errors).await?;
    page.campaign_visible = c.campaign_visible;
    page.edit = Some(c.id);
    page.needs_reason = c.first_session_at.is_some_and(|t| t <= store::now());
    page.reason = reason;
    Ok(page)
}

async fn edit_form(
    State(st): State<AppState>,
    Ctx(ctx, user): Ctx,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let scope = user.scope();
    let c = classes::get(&st.db, scope, ClassId(id)).await?;
    classes::require_planner(&st.db, scope, &c).await?;
    let page = edit_page(
        &st,
        ctx.clone(),
        scope,
        &c,
        input_of(&c),
        String::new(),
        FieldErrors::new(),
    )
    .await?;
    ctx.render(&page)
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
struct EditForm {
    #[serde(flatten)]
    input: ClassInput,
    reason: String,
}

async fn edit(
    State(st): State<AppState>,
    Ctx(ctx, _): Ctx,
    Path(id): Path<i64>,
    f: CsrfForm<EditForm>,
) -> AppResult<Response> {
    let scope = f.user.scope();
    let c = classes::get(&st.db, scope, ClassId(id)).await?;
    let EditForm { input, reason } = f.form;
    let mut errors = FieldErrors::new();
    match input.validate() {
        Ok(new) => match classes::update(&st.db, scope, &c, &new, &reason).await {
            Ok(()) => {
                return Ok(ctx.redirect(&format!("/classes/{id}"), "Đã lưu thông tin lớp học."))
            }
            Err(StoreError::Rule(domain::Violation { message: m, code }))
                if code.starts_with("reason_") =>
            {
                errors.add("reason", m)
            }
            Err(StoreError::Rule(domain::Violation { message: m, .. })) => errors.add("title", m),
            Err(e) => return Err(e.into()),
        },
        Err(e) => errors = e,
    }
    let page = edit_page(&st, ctx.clone(), scope, &c, input, reason, errors).await?;
    ctx.render_invalid(&page)
}

// ----- correcting a session (issue 11.7) -----

#[derive(Template)]
#[template(path = "study/session_form.html")]
struct SessionForm {
    ctx: PageCtx,
    c: Class,
    s: StudySession,
    input: SessionInput,
    /// The session has begun: its start stays.
    started: bool,
    /// The class has begun: a change needs a reason (R2.6).
    needs_reason: bool,
    reason: String,
    errors: FieldErrors,
    /// Who may present (people with positions around the class's organization, R1.3).
    presenters: Vec<Person>,
}

impl SessionForm {
    fn err(&self, f: &str) -> &str {
        self.errors.get(f).unwrap_or("")
    }
    fn new(ctx: PageCtx, c: Class, s: StudySession, input: SessionInput) -> Self {
        let now = store::now();
        Self {
            ctx: ctx.with_nav("campaigns"),
            started: s.starts_at <= now,
            needs_reason: c.first_session_at.is_some_and(|t| t <= now),
            c,
            s,
            input,
            reason: String::new(),
            errors: FieldErrors::new(),
            presenters: vec![],
        }
    }
    fn chosen(&self, id: &i64) -> bool {
        self.input.presenter_person_id.trim() == id.to_string()
    }
}

/// The form as the session stands.
fn session_input_of(s: &StudySession) -> SessionInput {
    let local = domain::study::utc_to_local(s.starts_at);
    SessionInput {
        date: local.format("%d/%m/%Y").to_string(),
        start_time: local.format("%H:%M").to_string(),
        duration_minutes: s.duration_minutes.to_string(),
        topic: s.topic.clone(),
        is_discussion: s.is_discussion.then(|| "true".into()),
        presenter_person_id: s
            .presenter_person_id
            .map(|p| p.to_string())
            .unwrap_or_default(),
        key_content: s.key_content.then(|| "true".into()),
    }
}

async fn edit_session_form(
    State(st): State<AppState>,
    Ctx(ctx, user): Ctx,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let scope = user.scope();
    let (c, s) = classes::session(&st.db, scope, domain::ids::SessionId(id)).await?;
    classes::require_planner(&st.db, scope, &c).await?;
    let input = session_input_of(&s);
    let presenters = org::leaders(&st.db, scope, OrgId(c.org_id)).await?;
    let mut page = SessionForm::new(ctx, c, s, input);
    page.presenters = presenters;
    page.ctx.render(&page)
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
struct SessionEditForm {
    #[serde(flatten)]
    input: SessionInput,
    reason: String,
}

async fn edit_session(
    State(st): State<AppState>,
    Ctx(ctx, _): Ctx,
    Path(id): Path<i64>,
    f: CsrfForm<SessionEditForm>,
) -> AppResult<Response> {
    let scope = f.user.scope();
    let (c, s) = classes::session(&st.db, scope, domain::ids::SessionId(id)).await?;
    let SessionEditForm { mut input, reason } = f.form;
    // A session that has begun keeps its start whatever the form says.
    if s.starts_at <= store::now() {
        let kept = session_input_of(&s);
        input.date = kept.date;
        input.start_time = kept.start_time;
    }
    let mut errors = FieldErrors::new();
    match input.validate() {
        Ok(new) => {
            let saved =
                match store::study::changes::update_session(&st.db, scope, &c, id, &new, &reason)
                    .await
                {
                    Ok(())
                        if new.presenter.map(|p| p.0) != s.presenter_person_id
                            || new.key_content != s.key_content =>
                    {
                        store::study::presenters::set_presenter(
                            &st.db,
                            scope,
                            &c,
                            domain::ids::SessionId(id),
                            new.presenter,
                            new.key_content,
                        )
                        .await
                    }
                    other => other,
                };
            match saved {
                Ok(()) => {
                    return Ok(ctx.redirect(&format!("/classes/{}", c.id), "Đã lưu buổi học."))
                }
                Err(StoreError::Rule(domain::Violation { message: m, code }))
                    if code.starts_with("presenter_") || code == "person_not_found" =>
                {
                    errors.add("presenter_person_id", m)
                }
                Err(StoreError::Rule(domain::Violation { message: m, code }))
                    if code.starts_with("reason_") =>
                {
                    errors.add("reason", m)
                }
                Err(StoreError::Rule(domain::Violation {
                    message: m,
                    code: "start_in_past" | "session_started",
                })) => errors.add("start_time", m),
                Err(StoreError::Rule(domain::Violation { message: m, .. })) => {
                    errors.add("topic", m)
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(e) => errors = e,
    }
    let presenters = org::leaders(&st.db, scope, OrgId(c.org_id)).await?;
    let mut page = SessionForm::new(ctx, c, s, input);
    page.reason = reason;
    page.errors = errors;
    page.presenters = presenters;
    page.ctx.render_invalid(&page)
}

// ----- the class page -----

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
struct TabQuery {
    tab: Option<String>,
    page: Option<usize>,
    /// Participants tab: the page after this participant (keyset, issue 12.B), and how many
    /// rows came before it (for the row numbers).
    after: Option<i64>,
    n: Option<usize>,
    /// Participants tab: a name (or card number) to find a person to add (issue 11.14).
    find: Option<String>,
    /// Results tab: "all" lists everyone; otherwise those over the absence limit.
    list: Option<String>,
}

/// Participant rows per page.
const PER_PAGE: usize = 100;

#[derive(Template)]
#[template(path = "study/class.html")]
struct ClassPage {
    ctx: PageCtx,
    c: Class,
    /// The province's name of the class's audience tier (R8.3).
    tier_label: String,
    tab: &'static str,
    can_plan: bool,
    warnings: Vec<String>,
    /// Working groups' evaluations of this class (R3.2).
    supervisions: Vec<store::oversight::Supervision>,
    sessions: Vec<StudySession>,
    bridge_points: Vec<BridgePoint>,
    participants: Vec<Participant>,
    /// One page of the results listed: those over the absence limit, or everyone.
    results: Vec<ParticipantResult>,
    result_total: usize,
    retake_count: usize,
    all_results: bool,
    orgs: Vec<Org>,
    /// People with positions around the class's organization: who may run a bridge point
    /// (chosen by name, issue 11.14).
    operators: Vec<Person>,
    /// The name searched to add a participant, and who was found (at most 20).
    find: String,
    found: Vec<Person>,
    levels: &'static [ManagementLevel],
    session_input: SessionInput,
    session_errors: FieldErrors,
    bp_input: BridgePointInput,
    bp_errors: FieldErrors,
    form_error: Option<String>,
    page: usize,
    pages: usize,
    /// Participants tab: rows before this page, whether another follows, and how many are
    /// on the list within the caller's access.
    before: usize,
    more: bool,
    listed_count: i64,
    /// Issue 16 (info tab): the class's questionnaires, what it asks for reflections, and the
    /// reflections' counts among those the caller answers for (participants, handed in,
    /// exempt, graded).
    quizzes: Vec<store::assess::Quiz>,
    reflection_ask: Option<store::assess::reflections::Ask>,
    reflection_counts: (i64, i64, i64, i64),
}

impl ClassPage {
    /// Sessions already held (the ones a provisional result counts, issue 11.1).
    fn held_sessions(&self) -> usize {
        let now = store::now();
        self.sessions.iter().filter(|s| s.has_ended(now)).count()
    }
    /// Number of the first row on this page (1-based), for the TT column.
    fn first_index(&self) -> usize {
        (self.page - 1) * PER_PAGE
    }
    fn session_err(&self, f: &str) -> &str {
        self.session_errors.get(f).unwrap_or("")
    }
    fn presenter_chosen(&self, id: &i64) -> bool {
        self.session_input.presenter_person_id.trim() == id.to_string()
    }
    fn bp_err(&self, f: &str) -> &str {
        self.bp_errors.get(f).unwrap_or("")
    }
    /// The results tab's link to a page of its list.
    fn results_link(&self, page: usize) -> String {
        format!(
            "/classes/{}?tab=results{}&page={page}",
            self.c.id,
            if self.all_results { "&list=all" } else { "" }
        )
    }
    /// The link to the participants after this page.
    fn next_participants(&self) -> String {
        let last = self.participants.last().map_or(0, |p| p.id);
        format!(
            "/classes/{}?tab=participants&after={last}&n={}",
            self.c.id,
            self.before + self.participants.len()
        )
    }
}

/// Every warning a class shows: [`warnings`], and who leads it and presents its key content
/// (R1.3, R2.8).
pub async fn all_warnings(db: &store::Db, c: &Class) -> Result<Vec<String>, StoreError> {
    let mut w = warnings(c);
    let lead = store::study::presenters::check(db, c).await?;
    w.extend(lead.warnings().into_iter().map(String::from));
    Ok(w)
}

/// The warnings a class shows: no discussion (R3.1), overflow (R2.1), no session yet.
pub fn warnings(c: &Class) -> Vec<String> {
    let mut w = Vec::new();
    if c.session_count == 0 {
        w.push("Lớp học chưa có buổi học nào.".to_string());
    }
    if c.lacks_discussion() {
        w.push("Lịch học chưa có buổi thảo luận (Hướng dẫn 26: mỗi đợt học tập phải bố trí thời gian thảo luận).".to_string());
    }
    if let Some(n) = c.overflow() {
        w.push(format!(
            "Danh sách có {} người, vượt sức chứa hội trường ({} chỗ) {} người. Cần bố trí thêm chỗ hoặc chia lớp.",
            domain::text::format_count(c.participant_count),
            c.venue_capacity.unwrap_or(0),
            n
        ));
    }
    w
}

struct PageForms {
    tab: &'static str,
    page: Option<usize>,
    after: Option<i64>,
    before: usize,
    find: Option<String>,
    /// Results tab: everyone, not only those over the absence limit.
    all_results: bool,
    session_input: SessionInput,
    session_errors: FieldErrors,
    bp_input: BridgePointInput,
    bp_errors: FieldErrors,
    form_error: Option<String>,
}

impl PageForms {
    fn tab(tab: &'static str) -> Self {
        Self {
            tab,
            page: None,
            after: None,
            before: 0,
            find: None,
            all_results: false,
            session_input: SessionInput {
                duration_minutes: "120".into(),
                start_time: "07:30".into(),
                ..Default::default()
            },
            session_errors: FieldErrors::new(),
            bp_input: BridgePointInput::default(),
            bp_errors: FieldErrors::new(),
            form_error: None,
        }
    }
}

async fn class_page(
    st: &AppState,
    ctx: PageCtx,
    scope: &Scope,
    id: i64,
    forms: PageForms,
) -> AppResult<ClassPage> {
    let c = classes::get(&st.db, scope, ClassId(id)).await?;
    let access = match classes::access(&st.db, scope, &c, store::scope::READ).await {
        Ok(a) => a,
        Err(StoreError::Forbidden) => Access::BridgePoints(vec![]),
        Err(e) => return Err(e.into()),
    };
    let full = access == Access::Full;
    let can_plan = full
        && scope
            .covers(&st.db, OrgId(c.org_id), store::scope::WRITE)
            .await?;
    let sessions = classes::sessions(&st.db, &c).await?;
    let bridge_points = classes::bridge_points(&st.db, &c).await?;
    // Participants: one page on the name key (issue 12.B), the count from the class.
    let (participants, more, listed_count) = if forms.tab == "participants" {
        let (rows, more) = participants::page(&st.db, &c, &access, forms.after, PER_PAGE).await?;
        let listed = participants::count_listed(&st.db, &c, &access).await?;
        (rows, more, listed)
    } else {
        (vec![], false, 0)
    };
    // Results: counted over everyone, listed by page (issue 11.12: 800 people made 300 KB).
    let (chosen, result_total, retake_count) = if forms.tab == "results" {
        let all_results = attendance::results(&st.db, &c, &access).await?;
        let total = all_results.len();
        let retakes = all_results
            .iter()
            .filter(|r| r.summary.needs_retake)
            .count();
        let chosen: Vec<ParticipantResult> = if forms.all_results {
            all_results
        } else {
            all_results
                .into_iter()
                .filter(|r| r.summary.needs_retake)
                .collect()
        };
        (chosen, total, retakes)
    } else {
        (vec![], 0, 0)
    };
    let pages = chosen.len().div_ceil(PER_PAGE).max(1);
    let page = forms.page.unwrap_or(1).clamp(1, pages);
    let results = chosen
        .into_iter()
        .skip((page - 1) * PER_PAGE)
        .take(PER_PAGE)
        .collect();
    let orgs = if can_plan {
        let mut v = vec![org::get(&st.db, scope, OrgId(c.org_id)).await?];
        v.extend(org::children(&st.db, scope, OrgId(c.org_id)).await?);
        v
    } else {
        vec![]
    };
    let operators = if can_plan && forms.tab == "info" {
        org::leaders(&st.db, scope, OrgId(c.org_id)).await?
    } else {
        vec![]
    };
    let find = forms.find.unwrap_or_default().trim().to_string();
    let found = if can_plan && forms.tab == "participants" && !find.is_empty() {
        org::list_people(
            &st.db,
            scope,
            &org::PeopleFilter {
                q: Some(find.clone()),
                ..Default::default()
            },
            store::Paging::new(Some(1), Some(20)),
        )
        .await?
        .items
    } else {
        vec![]
    };
    let crumbs = org::breadcrumb(&st.db, scope, OrgId(c.org_id)).await?;
    let tier_label = store::settings::of_org(&st.db, OrgId(c.org_id))
        .await?
        .tier_labels
        .of_code(&c.audience_tier)
        .to_string();
    // Issue 16: questionnaires and reflections of the class (info tab only).
    let (quizzes, reflection_ask, reflection_counts) = if forms.tab == "info" {
        (
            store::assess::of_class(&st.db, c.id).await?,
            Some(store::assess::reflections::ask_of(&st.db, c.id).await?),
            store::assess::reflections::counts(&st.db, scope, &c).await?,
        )
    } else {
        (vec![], None, (0, 0, 0, 0))
    };
    Ok(ClassPage {
        quizzes,
        reflection_ask,
        reflection_counts,
        tier_label,
        operators,
        find,
        found,
        ctx: ctx.with_nav("campaigns").with_crumbs(crumbs),
        warnings: all_warnings(&st.db, &c).await?,
        supervisions: store::oversight::of_class(&st.db, c.id).await?,
        c,
        tab: forms.tab,
        can_plan,
        sessions,
        bridge_points,
        participants,
        results,
        result_total,
        retake_count,
        all_results: forms.all_results,
        orgs,
        levels: ManagementLevel::ALL,
        session_input: forms.session_input,
        session_errors: forms.session_errors,
        bp_input: forms.bp_input,
        bp_errors: forms.bp_errors,
        form_error: forms.form_error,
        page,
        pages,
        before: if forms.after.is_some() {
            forms.before
        } else {
            0
        },
        more,
        listed_count,
    })
}

fn tab_name(t: Option<&str>) -> &'static str {
    match t {
        Some("participants") => "participants",
        Some("results") => "results",
        _ => "info",
    }
}

async fn detail(
    State(st): State<AppState>,
    Ctx(ctx, user): Ctx,
    Path(id): Path<i64>,
    Query(q): Query<TabQuery>,
) -> AppResult<Response> {
    let page = class_page(
        &st,
        ctx.clone(),
        user.scope(),
        id,
        PageForms {
            page: q.page,
            after: q.after,
            before: q.n.unwrap_or(0).min(10_000_000),
            find: q.find,
            all_results: q.list.as_deref() == Some("all"),
            ..PageForms::tab(tab_name(q.tab.as_deref()))
        },
    )
    .await?;
    page.ctx.render(&page)
}

async fn add_session(
    State(st): State<AppState>,
    Ctx(ctx, _): Ctx,
    Path(id): Path<i64>,
    f: CsrfForm<SessionInput>,
) -> AppResult<Response> {
    let scope = f.user.scope();
    let c = classes::get(&st.db, scope, ClassId(id)).await?;
    let mut forms = PageForms::tab("info");
    match f.form.validate() {
        Ok(s) => match classes::add_session(&st.db, scope, &c, &s).await {
            Ok(_) => return Ok(ctx.redirect(&format!("/classes/{id}"), "Đã thêm buổi học.")),
            Err(StoreError::Rule(domain::Violation { message: m, code }))
                if code.starts_with("presenter_") || code == "person_not_found" =>
            {
                forms.session_errors.add("presenter_person_id", m)
            }
            Err(StoreError::Rule(domain::Violation { message: m, .. })) => {
                forms.form_error = Some(m)
            }
            Err(e) => return Err(e.into()),
        },
        Err(e) => forms.session_errors = e,
    }
    forms.session_input = f.form;
    let page = class_page(&st, ctx, scope, id, forms).await?;
    page.ctx.render_invalid(&page)
}

async fn add_bridge_point(
    State(st): State<AppState>,
    Ctx(ctx, _): Ctx,
    Path(id): Path<i64>,
    f: CsrfForm<BridgePointInput>,
) -> AppResult<Response> {
    let scope = f.user.scope();
    let c = classes::get(&st.db, scope, ClassId(id)).await?;
    let mut forms = PageForms::tab("info");
    match f.form.validate() {
        Ok(b) => match classes::add_bridge_point(&st.db, scope, &c, &b).await {
            Ok(_) => return Ok(ctx.redirect(&format!("/classes/{id}"), "Đã thêm điểm cầu.")),
            Err(StoreError::Rule(domain::Violation { message: m, .. })) => {
                forms.form_error = Some(m)
            }
            Err(StoreError::Conflict { .. }) => forms
                .bp_errors
                .add("org_id", "Tổ chức này đã có điểm cầu trong hội nghị."),
            Err(e) => return Err(e.into()),
        },
        Err(e) => forms.bp_errors = e,
    }
    forms.bp_input = f.form;
    let page = class_page(&st, ctx, scope, id, forms).await?;
    page.ctx.render_invalid(&page)
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
struct GenerateForm {
    org_ids: Vec<String>,
    bridge_point_ids: Vec<String>,
    management_levels: Vec<String>,
    include_completed: Option<String>,
}

fn parse_ids(v: &[String]) -> Vec<i64> {
    v.iter()
        .filter_map(|s| s.trim().parse::<i64>().ok())
        .collect()
}

async fn generate(
    State(st): State<AppState>,
    Ctx(ctx, _): Ctx,
    Path(id): Path<i64>,
    f: CsrfForm<GenerateForm>,
) -> AppResult<Response> {
    let scope = f.user.scope();
    let c = classes::get(&st.db, scope, ClassId(id)).await?;
    let req = GenerateRequest {
        org_ids: parse_ids(&f.form.org_ids).into_iter().map(OrgId).collect(),
        bridge_point_ids: parse_ids(&f.form.bridge_point_ids)
            .into_iter()
            .map(BridgePointId)
            .collect(),
        management_levels: f
            .form
            .management_levels
            .iter()
            .filter_map(|l| ManagementLevel::parse(l).ok())
            .collect(),
        include_completed: f.form.include_completed.is_some(),
    };
    match participants::generate(&st.db, scope, &c, &req).await {
        Ok(r) => {
            let msg = format!(
                "Đã thêm {} người vào danh sách. Không đưa vào: {} người được miễn sinh hoạt, {} người đã học nội dung này ở lớp khác, {} người không thuộc đối tượng. {} người đã có trong danh sách.",
                r.added, r.excluded_exempt, r.excluded_completed_elsewhere, r.excluded_not_in_audience, r.already_listed
            );
            Ok(ctx.redirect(&format!("/classes/{id}?tab=participants"), &msg))
        }
        Err(StoreError::Rule(domain::Violation { message: m, .. })) => {
            let mut forms = PageForms::tab("participants");
            forms.form_error = Some(m);
            let page = class_page(&st, ctx, scope, id, forms).await?;
            page.ctx.render_invalid(&page)
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
struct AddForm {
    /// A party card number, or a person id.
    person_ref: String,
    /// A person chosen from the name search (never mistaken for a card number).
    person_id: String,
    bridge_point_id: String,
    reason: String,
}

async fn add_participant(
    State(st): State<AppState>,
    Ctx(ctx, _): Ctx,
    Path(id): Path<i64>,
    f: CsrfForm<AddForm>,
) -> AppResult<Response> {
    let scope = f.user.scope();
    let c = classes::get(&st.db, scope, ClassId(id)).await?;
    let chosen = f.form.person_id.trim().parse::<i64>().ok().map(PersonId);
    let reference = f.form.person_ref.trim();
    let reason = f.form.reason.trim();
    let error;
    if reference.is_empty() && chosen.is_none() {
        error = Some("Nhập số thẻ đảng viên (hoặc mã người) cần thêm.".to_string());
    } else if reason.is_empty() {
        error = Some("Cần ghi lý do thêm vào danh sách.".to_string());
    } else {
        let person = match chosen {
            Some(p) => Ok(p),
            None => participants::find_person_by_card(&st.db, scope, reference).await,
        };
        let person = match person {
            Ok(p) => Ok(p),
            Err(StoreError::NotFound) => reference
                .parse::<i64>()
                .map(PersonId)
                .map_err(|_| StoreError::NotFound),
            Err(e) => Err(e),
        };
        let bp = f
            .form
            .bridge_point_id
            .trim()
            .parse::<i64>()
            .ok()
            .map(BridgePointId);
        match person {
            Ok(p) => match participants::add(&st.db, scope, &c, p, bp, reason).await {
                Ok(()) => {
                    return Ok(ctx.redirect(
                        &format!("/classes/{id}?tab=participants"),
                        "Đã thêm người vào danh sách.",
                    ))
                }
                Err(StoreError::NotFound) => {
                    error = Some(format!(
                    "Không tìm thấy người có số thẻ hoặc mã «{reference}» trong phạm vi của bạn."
                ))
                }
                Err(e) => return Err(e.into()),
            },
            Err(StoreError::NotFound) => {
                error = Some(format!(
                    "Không tìm thấy người có số thẻ hoặc mã «{reference}» trong phạm vi của bạn."
                ))
            }
            Err(e) => return Err(e.into()),
        }
    }
    let mut forms = PageForms::tab("participants");
    forms.form_error = error;
    let page = class_page(&st, ctx, scope, id, forms).await?;
    page.ctx.render_invalid(&page)
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
struct ReasonForm {
    reason: String,
}

#[derive(Template)]
#[template(path = "study/remove_participant.html")]
struct RemovePage {
    ctx: PageCtx,
    c: Class,
    p: Participant,
    reason: String,
    error: String,
}

/// The page that asks for the reason before a participant leaves the list (issue 11.12: one
/// form per row made the participants tab 600 bytes a row; it works without JavaScript).
async fn remove_participant_form(
    State(st): State<AppState>,
    Ctx(ctx, user): Ctx,
    Path((id, pid)): Path<(i64, i64)>,
) -> AppResult<Response> {
    let scope = user.scope();
    let c = classes::get(&st.db, scope, ClassId(id)).await?;
    classes::require_planner(&st.db, scope, &c).await?;
    let p = participants::one(&st.db, &c, &classes::Access::Full, pid).await?;
    let ctx = ctx.with_nav("campaigns");
    ctx.render(&RemovePage {
        ctx: ctx.clone(),
        c,
        p,
        reason: String::new(),
        error: String::new(),
    })
}

async fn remove_participant(
    State(st): State<AppState>,
    Ctx(ctx, _): Ctx,
    Path((id, pid)): Path<(i64, i64)>,
    f: CsrfForm<ReasonForm>,
) -> AppResult<Response> {
    let scope = f.user.scope();
    let c = classes::get(&st.db, scope, ClassId(id)).await?;
    let reason = f.form.reason.trim();
    if reason.is_empty() {
        classes::require_planner(&st.db, scope, &c).await?;
        let p = participants::one(&st.db, &c, &classes::Access::Full, pid).await?;
        let ctx = ctx.with_nav("campaigns");
        return ctx.render_invalid(&RemovePage {
            ctx: ctx.clone(),
            c,
            p,
            reason: String::new(),
            error: "Cần ghi lý do khi đưa người ra khỏi danh sách.".into(),
        });
    }
    participants::remove(&st.db, scope, &c, pid, reason).await?;
    Ok(ctx.redirect(
        &format!("/classes/{id}?tab=participants"),
        "Đã đưa ra khỏi danh sách (vẫn lưu lý do).",
    ))
}

#[derive(Debug, Deserialize)]
struct Empty {}

async fn finish(
    State(st): State<AppState>,
    Ctx(ctx, _): Ctx,
    Path(id): Path<i64>,
    f: CsrfForm<Empty>,
) -> AppResult<Response> {
    let scope = f.user.scope();
    let c = classes::get(&st.db, scope, ClassId(id)).await?;
    match attendance::finish(&st.db, scope, &c).await {
        Ok(r) => {
            let msg = format!(
                "Đã kết thúc lớp học: {} người hoàn thành, {} người phải học lại.",
                r.participants - r.retakes,
                r.retakes
            );
            Ok(ctx.redirect(&format!("/classes/{id}?tab=results"), &msg))
        }
        Err(StoreError::Rule(domain::Violation { message: m, .. })) => {
            let mut forms = PageForms::tab("results");
            forms.form_error = Some(m);
            let page = class_page(&st, ctx, scope, id, forms).await?;
            page.ctx.render_invalid(&page)
        }
        Err(e) => Err(e.into()),
    }
}

async fn reopen(
    State(st): State<AppState>,
    Ctx(ctx, _): Ctx,
    Path(id): Path<i64>,
    f: CsrfForm<Empty>,
) -> AppResult<Response> {
    let scope = f.user.scope();
    let c = classes::get(&st.db, scope, ClassId(id)).await?;
    attendance::reopen(&st.db, scope, &c).await?;
    Ok(ctx.redirect(
        &format!("/classes/{id}?tab=results"),
        "Đã mở lại lớp học để sửa điểm danh.",
    ))
}

#[derive(Template)]
#[template(path = "study/print_participants.html")]
struct PrintPage {
    c: Class,
    participants: Vec<Participant>,
    doc: crate::print::DocHead,
}

/// The participant list in the Party document layout (A4), for printing.
async fn print_participants(
    State(st): State<AppState>,
    Ctx(_, user): Ctx,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let scope = user.scope();
    let c = classes::get(&st.db, scope, ClassId(id)).await?;
    let access = classes::access(&st.db, scope, &c, store::scope::READ).await?;
    let participants = participants::list(&st.db, &c, &access, false).await?;
    let doc = crate::print::doc_head(&st.db, scope, OrgId(c.org_id), "DS").await?;
    let html = PrintPage {
        c,
        participants,
        doc,
    }
    .render()?;
    Ok(axum::response::IntoResponse::into_response(
        axum::response::Html(html),
    ))
}
