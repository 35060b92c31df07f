//! Questionnaires: the area's home (what I have to take, what my organizations run), creating
//! one from a bank, its page (facts, publishing, questions and key, results per question, the
//! ranking, per bridge point and per organization, survey results, entry from paper and from
//! direct questions and answers), its exports and print, one attempt with its corrections, and
//! the roll-up of a resolution's questionnaires down the tree.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use domain::assess::{QuizInput, QuizKind, QuizState, Window};
use domain::ids::{AttemptId, CampaignId, ClassId, OrgId, PersonId, QuizId, ResolutionId};
use domain::study::AudienceTier;
use domain::FieldErrors;
use serde::Deserialize;
use store::assess::attempts::{self, Attempt, AttemptAnswer};
use store::assess::questions::{self, Question};
use store::assess::surveys::{self, QuestionResult};
use store::assess::{self, export, Quiz, QuizQuestion, RollupRow};
use store::org::{self, Org};
use store::resolutions::{self, Resolution, ResolutionFilter};
use store::scope::{ATTEND, READ};
use store::study::classes::{self, Class, StudySession};
use store::{Paging, StoreError};

use crate::app::AppState;
use crate::auth::CsrfForm;
use crate::error::{AppError, AppResult};
use crate::pages::{Ctx, PageCtx};
use crate::reads::Reads;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/assess", get(home))
        .route("/assess/quizzes/new", get(new_form).post(create))
        .route("/assess/quizzes/{id}", get(quiz_page))
        .route("/assess/quizzes/{id}/publish", post(publish))
        .route("/assess/quizzes/{id}/results", post(publish_results))
        .route("/assess/quizzes/{id}/paper", post(paper))
        .route("/assess/quizzes/{id}/oral", post(oral))
        .route("/assess/quizzes/{id}/results.xlsx", get(results_xlsx))
        .route("/assess/quizzes/{id}/results.csv", get(results_csv))
        .route("/assess/quizzes/{id}/print", get(print))
        .route("/assess/attempts/{id}", get(attempt_page))
        .route("/assess/attempts/{id}/correct", post(correct))
        .route("/assess/rollup", get(rollup))
}

/// Rows of a ranking page.
const RANKING_PAGE: i64 = 50;
/// Rows an export reads at a time, and at most.
const EXPORT_PAGE: i64 = 500;
const EXPORT_MAX: usize = 200_000;
/// Rows a printed ranking holds at most (the exports hold them all).
const PRINT_MAX: usize = 2_000;
/// People offered in a select for entry (beyond: the number field).
const TAKERS_MAX: usize = 300;
/// Classes and bank questions offered on the new questionnaire's form.
const CLASSES_OFFERED: usize = 200;
const QUESTIONS_OFFERED: usize = 300;

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// Where a questionnaire stands, in words.
fn window_label(z: &Quiz) -> &'static str {
    if z.is_draft() {
        return "Đang soạn, chưa phát hành";
    }
    match z.window() {
        Window::NotYet => "Chưa đến giờ làm bài",
        Window::Open => "Đang mở",
        Window::Closed => "Đã hết giờ làm bài",
    }
}

/// The choices of a question, lettered: (A, text), (B, text)…
fn lettered(choices: &str) -> Vec<(char, String)> {
    questions::choice_list(choices)
        .into_iter()
        .enumerate()
        .map(|(i, c)| (domain::assess::letter(i), c.to_string()))
        .collect()
}

/// The first words of a long text.
fn short(s: &str, n: usize) -> String {
    let mut t: String = s.chars().take(n).collect();
    if s.chars().count() > n {
        t.push('…');
    }
    t
}

/// Whether the caller runs the questionnaire, and reads its organization.
async fn access(db: &store::Db, scope: &store::Scope, z: &Quiz) -> AppResult<(bool, bool)> {
    let runs = assess::runs(db, scope, z).await?;
    let reader = runs || scope.covers(db, OrgId(z.org_id), READ).await?;
    Ok((runs, reader))
}

#[derive(Debug, Deserialize, Default)]
struct Empty {}

// ----- the home of the area -----

#[derive(Template)]
#[template(path = "assess/home.html")]
struct HomePage {
    ctx: PageCtx,
    /// What the caller is asked to take.
    mine: Vec<Quiz>,
    /// What the caller's organizations run.
    quizzes: Vec<Quiz>,
    before: Option<i64>,
    next_before: Option<i64>,
    /// Classes asking for reflections of people the caller answers for.
    followed: Vec<store::assess::reflections::Followed>,
}

impl HomePage {
    fn window_label(&self, z: &Quiz) -> &'static str {
        window_label(z)
    }
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
struct HomeQuery {
    before: Option<i64>,
}

async fn home(
    Reads(reads): Reads,
    Ctx(ctx, user): Ctx,
    Query(q): Query<HomeQuery>,
) -> AppResult<Response> {
    let scope = user.scope();
    let mine = assess::for_me(&reads, scope).await?;
    let (quizzes, next_before) = if ctx.can_read {
        assess::list(&reads, scope, q.before).await?
    } else {
        (vec![], None)
    };
    let ctx = ctx.with_nav("assess");
    let followed = store::assess::reflections::followed(&reads, user.scope()).await?;
    ctx.render(&HomePage {
        followed,
        ctx: ctx.clone(),
        mine,
        quizzes,
        before: q.before,
        next_before,
    })
}

// ----- a new questionnaire -----

/// The questionnaire form (its fields spelled out: a flattened struct cannot take the repeated
/// `question_ids`). `action=pick` shows the bank and the class's sessions without saving.
#[derive(Debug, Deserialize, Default, Clone)]
#[serde(default)]
struct QuizForm {
    action: String,
    kind: String,
    title: String,
    resolution_id: String,
    org_id: String,
    class_id: String,
    session_id: String,
    opens_on: String,
    opens_time: String,
    closes_on: String,
    closes_time: String,
    draw_count: String,
    tier: String,
    public_entry: bool,
    contest_title: String,
    round: String,
    question_ids: Vec<String>,
}

impl QuizForm {
    fn into_input(self) -> QuizInput {
        QuizInput {
            kind: self.kind,
            title: self.title,
            resolution_id: self.resolution_id,
            org_id: self.org_id,
            class_id: self.class_id,
            session_id: self.session_id,
            opens_on: self.opens_on,
            opens_time: self.opens_time,
            closes_on: self.closes_on,
            closes_time: self.closes_time,
            draw_count: self.draw_count,
            tier: self.tier,
            public_entry: self.public_entry,
            contest_title: self.contest_title,
            round: self.round,
            question_ids: self.question_ids,
        }
    }
}

#[derive(Template)]
#[template(path = "assess/quiz_form.html")]
struct QuizFormPage {
    ctx: PageCtx,
    input: QuizInput,
    errors: FieldErrors,
    /// A refusal that belongs to no field.
    form_error: Option<String>,
    kinds: &'static [QuizKind],
    tiers: &'static [AudienceTier],
    resolutions: Vec<Resolution>,
    /// Where the caller may run a questionnaire (organizer; secretary for a cell's).
    orgs: Vec<Org>,
    classes: Vec<Class>,
    /// The sessions of the class chosen.
    sessions: Vec<StudySession>,
    /// The current questions of the resolution chosen that the caller keeps.
    bank: Vec<Question>,
    bank_more: bool,
}

impl QuizFormPage {
    fn err(&self, f: &str) -> &str {
        self.errors.get(f).unwrap_or("")
    }
    fn picked(&self, id: &i64) -> bool {
        let id = id.to_string();
        self.input.question_ids.iter().any(|q| q.trim() == id)
    }
    fn short(&self, s: &str) -> String {
        short(s, 160)
    }
}

/// The organizations where the caller may run a questionnaire: their grants of secretary and up.
async fn runner_orgs(db: &store::Db, scope: &store::Scope) -> AppResult<Vec<Org>> {
    let mut out: Vec<Org> = Vec::new();
    for g in scope.grants.iter().filter(|g| g.role >= ATTEND) {
        if out.iter().any(|o| o.id == g.org_id.0) {
            continue;
        }
        if let Ok(o) = org::get(db, scope, g.org_id).await {
            out.push(o);
        }
    }
    Ok(out)
}

async fn build_form(
    db: &store::Db,
    ctx: PageCtx,
    scope: &store::Scope,
    input: QuizInput,
    errors: FieldErrors,
    form_error: Option<String>,
) -> AppResult<QuizFormPage> {
    let list = resolutions::list(
        db,
        scope,
        &ResolutionFilter::default(),
        Paging::new(Some(1), Some(100)),
    )
    .await?;
    let mut resolutions: Vec<Resolution> = list
        .items
        .into_iter()
        .filter(|r| !r.is_classified())
        .collect();
    let chosen_resolution = input.resolution_id.trim().parse::<i64>().ok();
    if let Some(rid) = chosen_resolution {
        if !resolutions.iter().any(|r| r.id == rid) {
            if let Ok(r) = resolutions::get(db, scope, ResolutionId(rid)).await {
                if !r.is_classified() {
                    resolutions.push(r);
                }
            }
        }
    }
    let mut orgs = runner_orgs(db, scope).await?;
    let chosen_class = input.class_id.trim().parse::<i64>().ok();
    let class = match chosen_class {
        Some(c) => classes::get(db, scope, ClassId(c)).await.ok(),
        None => None,
    };
    if let Some(c) = &class {
        if !orgs.iter().any(|o| o.id == c.org_id) {
            if let Ok(o) = org::get(db, scope, OrgId(c.org_id)).await {
                orgs.push(o);
            }
        }
    }
    let mut offered = if ctx.can_plan {
        classes::list(db, scope, &classes::ClassFilter::default()).await?
    } else {
        vec![]
    };
    offered.retain(|c| !c.is_finished() || Some(c.id) == chosen_class);
    // Only the classes the caller may run a questionnaire of (organizer of the class's
    // organization): a bridge point's operator sees a class they cannot attach one to.
    let mut runs_org: BTreeMap<i64, bool> = BTreeMap::new();
    for c in &offered {
        if let std::collections::btree_map::Entry::Vacant(e) = runs_org.entry(c.org_id) {
            e.insert(
                scope
                    .covers(db, OrgId(c.org_id), store::scope::WRITE)
                    .await?,
            );
        }
    }
    offered.retain(|c| runs_org.get(&c.org_id).copied().unwrap_or(false));
    offered.truncate(CLASSES_OFFERED);
    if let Some(c) = &class {
        if !offered.iter().any(|o| o.id == c.id) {
            offered.push(c.clone());
        }
    }
    let sessions = match &class {
        Some(c) => classes::sessions(db, c).await?,
        None => vec![],
    };
    let (bank, bank_more) = match chosen_resolution {
        Some(rid) => {
            let mut all = questions::all(db, scope, ResolutionId(rid)).await?;
            all.retain(|q| !q.retired);
            let more = all.len() > QUESTIONS_OFFERED;
            all.truncate(QUESTIONS_OFFERED);
            (all, more)
        }
        None => (vec![], false),
    };
    Ok(QuizFormPage {
        ctx: ctx.with_nav("assess"),
        input,
        errors,
        form_error,
        kinds: QuizKind::ALL,
        tiers: AudienceTier::ALL,
        resolutions,
        orgs,
        classes: offered,
        sessions,
        bank,
        bank_more,
    })
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
struct NewQuery {
    class_id: Option<i64>,
    resolution_id: Option<i64>,
    kind: Option<String>,
}

async fn new_form(
    State(st): State<AppState>,
    Ctx(ctx, user): Ctx,
    Query(q): Query<NewQuery>,
) -> AppResult<Response> {
    if !ctx.can_attend {
        return Err(AppError::Forbidden);
    }
    let scope = user.scope();
    let today = crate::fmt::today();
    let mut input = QuizInput {
        kind: if q.class_id.is_some() {
            QuizKind::Quiz
        } else if ctx.can_plan {
            QuizKind::Contest
        } else {
            QuizKind::CellQuiz
        }
        .code()
        .into(),
        opens_on: crate::fmt::date(&today),
        closes_on: crate::fmt::date(&(today + chrono::Duration::days(7))),
        ..Default::default()
    };
    if let Some(k) = q.kind.as_deref().and_then(|k| QuizKind::parse(k).ok()) {
        input.kind = k.code().into();
    }
    if let Some(cid) = q.class_id {
        let c = classes::get(&st.db, scope, ClassId(cid)).await?;
        input.class_id = cid.to_string();
        input.org_id = c.org_id.to_string();
        input.tier = c.audience_tier.clone();
        input.title = format!("Kiểm tra nhận thức — {}", c.title);
        if q.resolution_id.is_none() {
            let linked =
                store::study::campaigns::resolutions(&st.db, scope, CampaignId(c.campaign_id))
                    .await?;
            if let Some(r) = linked.iter().find(|r| !r.is_classified()) {
                input.resolution_id = r.id.to_string();
            }
        }
    }
    if let Some(r) = q.resolution_id {
        input.resolution_id = r.to_string();
    }
    let page = build_form(&st.db, ctx, scope, input, FieldErrors::new(), None).await?;
    page.ctx.render(&page)
}

/// The field a refusal of [`assess::create`] belongs to.
fn create_field(code: &str) -> Option<&'static str> {
    match code {
        "resolution_id" | "classified_questions" => Some("resolution_id"),
        "class_outside_org" => Some("class_id"),
        "session_outside_class" => Some("session_id"),
        "not_a_cell" => Some("org_id"),
        "no_question" | "question_ids" => Some("question_ids"),
        "draw_count" => Some("draw_count"),
        _ => None,
    }
}

async fn create(
    State(st): State<AppState>,
    Ctx(ctx, _): Ctx,
    f: CsrfForm<QuizForm>,
) -> AppResult<Response> {
    if !ctx.can_attend {
        return Err(AppError::Forbidden);
    }
    let scope = f.user.scope();
    let pick = f.form.action == "pick";
    let input = f.form.into_input();
    let mut errors = FieldErrors::new();
    let mut form_error = None;
    if pick {
        let page = build_form(&st.db, ctx, scope, input, errors, None).await?;
        return page.ctx.render(&page);
    }
    match input.validate() {
        Ok(z) => match assess::create(&st.db, scope, &z).await {
            Ok(id) => {
                return Ok(ctx.redirect(
                    &format!("/assess/quizzes/{}", id.0),
                    "Đã tạo phiếu (đang soạn). Kiểm tra các câu hỏi rồi bấm «Phát hành».",
                ))
            }
            Err(StoreError::Rule(v)) => match create_field(v.code) {
                Some(field) => errors.add(field, v.message),
                None => form_error = Some(v.message),
            },
            Err(StoreError::Forbidden) => errors.add(
                "org_id",
                "Bạn không tổ chức được phiếu ở tổ chức này: cần vai trò cán bộ tổ chức (kiểm tra ở chi bộ: bí thư chi bộ).",
            ),
            Err(StoreError::NotFound) => errors.add(
                "org_id",
                "Không tìm thấy tổ chức hoặc lớp học đã chọn trong phạm vi của bạn.",
            ),
            Err(e) => return Err(e.into()),
        },
        Err(e) => errors = e,
    }
    let page = build_form(&st.db, ctx, scope, input, errors, form_error).await?;
    page.ctx.render_invalid(&page)
}

// ----- a questionnaire -----

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
struct QuizQuery {
    /// The ranking page after this attempt.
    after: Option<i64>,
    /// The organization whose children the results are shown for.
    org: Option<i64>,
}

/// Answers entered from a paper form: the person (scored questionnaires) and `a1`, `a2`…
#[derive(Debug, Default, Clone)]
struct PaperInput {
    person_id: String,
    answers: BTreeMap<i64, String>,
}

impl PaperInput {
    fn read(fields: &[(String, String)]) -> Self {
        let mut out = Self::default();
        for (k, v) in fields {
            if k == "person_id" {
                out.person_id = v.clone();
            } else if let Some(pos) = k.strip_prefix('a').and_then(|n| n.parse::<i64>().ok()) {
                if (1..=i64::try_from(domain::assess::QUIZ_QUESTIONS_MAX).unwrap_or(200))
                    .contains(&pos)
                {
                    out.answers.insert(pos, v.clone());
                }
            }
        }
        out
    }
    fn given(&self) -> Vec<(i64, String)> {
        self.answers.iter().map(|(p, v)| (*p, v.clone())).collect()
    }
}

/// A result of direct questions and answers.
#[derive(Debug, Deserialize, Default, Clone)]
#[serde(default)]
struct OralForm {
    person_id: String,
    points: String,
    out_of: String,
}

/// The entry forms of the page as typed, and their errors.
#[derive(Debug, Default)]
struct QuizForms {
    paper: PaperInput,
    paper_errors: FieldErrors,
    oral: OralForm,
    oral_errors: FieldErrors,
    /// A refused publication.
    action_error: Option<String>,
}

#[derive(Template)]
#[template(path = "assess/quiz.html")]
struct QuizPage {
    ctx: PageCtx,
    z: Quiz,
    /// The caller runs it (publishes, enters, corrects, sees the key).
    runs: bool,
    /// The caller reads its organization (results per question and per organization).
    reader: bool,
    /// The caller sees a ranking (secretary and up: the store shows them the people they read).
    staff: bool,
    /// Its questions in order, and the same most missed first.
    questions: Vec<QuizQuestion>,
    missed: Vec<QuizQuestion>,
    ranking: Vec<(i64, Attempt)>,
    after: Option<i64>,
    next_after: Option<i64>,
    bridges: Vec<RollupRow>,
    by_org: Vec<RollupRow>,
    org_shown: Option<i64>,
    survey: Vec<QuestionResult>,
    /// The people who may take it, for the entry forms (empty: the number field).
    takers: Vec<(i64, String)>,
    forms: QuizForms,
    /// The caller is one of those who take it (a participant, a cell member, a member below).
    can_take: bool,
}

impl QuizPage {
    fn window_label(&self) -> &'static str {
        window_label(&self.z)
    }
    fn paper_err(&self, f: &str) -> &str {
        self.forms.paper_errors.get(f).unwrap_or("")
    }
    fn answer_err(&self, pos: &i64) -> &str {
        self.forms
            .paper_errors
            .get(&format!("a{pos}"))
            .unwrap_or("")
    }
    fn answer_value(&self, pos: &i64) -> &str {
        self.forms.paper.answers.get(pos).map_or("", String::as_str)
    }
    fn oral_err(&self, f: &str) -> &str {
        self.forms.oral_errors.get(f).unwrap_or("")
    }
    fn lettered(&self, choices: &str) -> Vec<(char, String)> {
        lettered(choices)
    }
    fn short(&self, s: &str) -> String {
        short(s, 200)
    }
    fn is_contest(&self) -> bool {
        self.z.kind() == QuizKind::Contest
    }
    /// A contest whose window closed and whose results are not published yet.
    fn results_due(&self) -> bool {
        self.runs
            && self.is_contest()
            && self.z.window() == Window::Closed
            && self.z.state() != QuizState::ResultsPublished
    }
    /// Entry from paper: a survey once open, a scored questionnaire without a draw.
    fn paper_possible(&self) -> bool {
        self.runs
            && !self.z.is_draft()
            && if self.z.scored() {
                self.z.draw_count == 0
            } else {
                self.z.window() != Window::NotYet
            }
    }
    fn oral_possible(&self) -> bool {
        self.runs && !self.z.is_draft() && self.z.scored()
    }
    fn taker_chosen(&self, id: &i64, typed: &str) -> bool {
        typed.trim() == id.to_string()
    }
    /// The link to the ranking page after an attempt, keeping the organization shown.
    fn after_link(&self, after: &i64) -> String {
        match self.org_shown {
            Some(o) if o != self.z.org_id => {
                format!(
                    "/assess/quizzes/{}?org={o}&after={after}#ranking",
                    self.z.id.0
                )
            }
            _ => format!("/assess/quizzes/{}?after={after}#ranking", self.z.id.0),
        }
    }
    /// The organization whose children the results are shown for.
    fn is_shown(&self, org: &i64) -> bool {
        self.org_shown == Some(*org)
    }
    /// The results shown are those of an organization below the questionnaire's.
    fn away(&self) -> bool {
        self.org_shown.is_some_and(|o| o != self.z.org_id)
    }
    fn org_link(&self, org: &i64) -> String {
        format!("/assess/quizzes/{}?org={org}#by-org", self.z.id.0)
    }
    fn share(&self, n: &i64, total: i64) -> String {
        assess::percent(*n, total).map_or_else(String::new, |p| format!("{p}%"))
    }
}

/// A page of the ranking with each row's place: counted once and then in order when the caller
/// reads every attempt, else row by row (a secretary reads only their own people).
async fn ranked(
    db: &store::Db,
    scope: &store::Scope,
    z: &Quiz,
    runs: bool,
    after: Option<i64>,
    per_page: i64,
) -> AppResult<(Vec<(i64, Attempt)>, Option<i64>)> {
    let (rows, next) = attempts::ranking(db, scope, z, after, per_page).await?;
    let sees_all = runs || (!z.public_entry && scope.covers(db, OrgId(z.org_id), ATTEND).await?);
    let mut out: Vec<(i64, Attempt)> = Vec::with_capacity(rows.len());
    for a in rows {
        let rank = match out.last() {
            None => attempts::rank_of(db, &a).await?,
            Some((r, _)) if sees_all => r + 1,
            Some((r, prev)) => r + 1 + attempts::ranked_between(db, prev, &a).await?,
        };
        out.push((rank, a));
    }
    Ok((out, next))
}

/// The people a runner may enter results for, when few enough for a select: a class's
/// participants, a cell's members; none for a contest (the number field).
async fn takers(db: &store::Db, scope: &store::Scope, z: &Quiz) -> AppResult<Vec<(i64, String)>> {
    match (z.kind(), z.class_id) {
        (QuizKind::Quiz, Some(c)) => {
            let Ok(class) = classes::get(db, scope, ClassId(c)).await else {
                return Ok(vec![]);
            };
            let (mut list, more) = store::study::participants::page(
                db,
                &class,
                &classes::Access::Full,
                None,
                TAKERS_MAX,
            )
            .await?;
            if more {
                return Ok(vec![]);
            }
            list.retain(|p| p.removed_reason.is_none());
            Ok(list
                .into_iter()
                .map(|p| (p.person_id, format!("{} — {}", p.full_name, p.org_name)))
                .collect())
        }
        (QuizKind::CellQuiz, _) => {
            let f = org::PeopleFilter {
                org_id: Some(OrgId(z.org_id)),
                direct: true,
                status: Some(domain::org::MemberStatus::Active),
                q: None,
            };
            let limit = i64::try_from(TAKERS_MAX + 1).unwrap_or(501);
            let (people, _) = org::people_after(db, scope, &f, None, limit).await?;
            if people.len() > TAKERS_MAX {
                return Ok(vec![]);
            }
            Ok(people.into_iter().map(|p| (p.id, p.full_name)).collect())
        }
        _ => Ok(vec![]),
    }
}

async fn build_quiz(
    db: &store::Db,
    ctx: PageCtx,
    scope: &store::Scope,
    id: i64,
    q: &QuizQuery,
    mut forms: QuizForms,
) -> AppResult<QuizPage> {
    let z = assess::get(db, scope, QuizId(id)).await?;
    let (runs, reader) = access(db, scope, &z).await?;
    let staff = reader || scope.has_role(ATTEND);
    let missed = if reader {
        assess::quiz_questions(db, &z, true).await?
    } else {
        vec![]
    };
    let mut questions = missed.clone();
    questions.sort_by_key(|q| q.position);
    let (ranking, next_after) = if z.scored() && staff {
        ranked(db, scope, &z, runs, q.after, RANKING_PAGE).await?
    } else {
        (vec![], None)
    };
    let bridges = if reader && z.scored() && z.class_id.is_some() {
        assess::by_bridge(db, &z).await?
    } else {
        vec![]
    };
    let org_shown = if z.scored() {
        q.org.or(reader.then_some(z.org_id)).or_else(|| {
            // A committee below a contest's organization: its own organization.
            scope
                .grants
                .iter()
                .find(|g| g.role >= READ)
                .map(|g| g.org_id.0)
        })
    } else {
        None
    };
    let by_org = match org_shown {
        Some(o) => assess::by_org(db, scope, &z, OrgId(o)).await?,
        None => vec![],
    };
    let survey = if !z.scored() && reader {
        surveys::results(db, &z).await?
    } else {
        vec![]
    };
    let takers = if runs && z.scored() && !z.is_draft() {
        takers(db, scope, &z).await?
    } else {
        vec![]
    };
    if forms.oral.out_of.is_empty() {
        forms.oral.out_of = z.max_points_each().to_string();
    }
    let can_take = match scope.person_id {
        Some(p) if !z.is_draft() => store::assess::attempts::place(db, &z, p).await?.is_some(),
        _ => false,
    };
    let crumbs = org::breadcrumb(db, scope, OrgId(z.org_id)).await?;
    Ok(QuizPage {
        can_take,
        ctx: ctx.with_nav("assess").with_crumbs(crumbs),
        z,
        runs,
        reader,
        staff,
        questions,
        missed,
        ranking,
        after: q.after,
        next_after,
        bridges,
        by_org,
        org_shown,
        survey,
        takers,
        forms,
    })
}

async fn quiz_page(
    Reads(reads): Reads,
    Ctx(ctx, user): Ctx,
    Path(id): Path<i64>,
    Query(q): Query<QuizQuery>,
) -> AppResult<Response> {
    let page = build_quiz(&reads, ctx, user.scope(), id, &q, QuizForms::default()).await?;
    page.ctx.render(&page)
}

async fn refused_action(
    st: &AppState,
    ctx: PageCtx,
    scope: &store::Scope,
    id: i64,
    message: String,
) -> AppResult<Response> {
    let forms = QuizForms {
        action_error: Some(message),
        ..Default::default()
    };
    let page = build_quiz(&st.db, ctx, scope, id, &QuizQuery::default(), forms).await?;
    page.ctx.render_invalid(&page)
}

async fn publish(
    State(st): State<AppState>,
    Ctx(ctx, _): Ctx,
    Path(id): Path<i64>,
    f: CsrfForm<Empty>,
) -> AppResult<Response> {
    let scope = f.user.scope();
    let z = assess::get(&st.db, scope, QuizId(id)).await?;
    match assess::publish(&st.db, scope, &z).await {
        Ok(()) => Ok(ctx.redirect(
            &format!("/assess/quizzes/{id}"),
            &format!(
                "Đã phát hành phiếu: nhận bài làm từ {} đến {}.",
                crate::fmt::datetime(&z.opens_at),
                crate::fmt::datetime(&z.closes_at)
            ),
        )),
        Err(StoreError::Rule(v)) => refused_action(&st, ctx, scope, id, v.message).await,
        Err(e) => Err(e.into()),
    }
}

async fn publish_results(
    State(st): State<AppState>,
    Ctx(ctx, _): Ctx,
    Path(id): Path<i64>,
    f: CsrfForm<Empty>,
) -> AppResult<Response> {
    let scope = f.user.scope();
    let z = assess::get(&st.db, scope, QuizId(id)).await?;
    match assess::publish_results(&st.db, scope, &z).await {
        Ok(()) => Ok(ctx.redirect(
            &format!("/assess/quizzes/{id}#ranking"),
            "Đã công bố kết quả: số người dự thi được chốt, bảng xếp hạng tính cả câu dự đoán.",
        )),
        Err(StoreError::Rule(v)) => refused_action(&st, ctx, scope, id, v.message).await,
        Err(e) => Err(e.into()),
    }
}

/// The answer field a refusal "Câu 3: …" belongs to.
fn answer_field(message: &str) -> Option<String> {
    let rest = message.strip_prefix("Câu ")?;
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse::<i64>().ok().map(|n| format!("a{n}"))
}

/// The names of an entry form's fields.
struct EntryFields {
    person: &'static str,
    points: &'static str,
    general: &'static str,
}

/// Places a refused entry on its form's fields; other errors are the page's.
fn entry_error(e: StoreError, errs: &mut FieldErrors, f: &EntryFields) -> AppResult<()> {
    match e {
        StoreError::Rule(v) => {
            let field = match v.code {
                "not_a_taker" => f.person.to_string(),
                "points" => f.points.to_string(),
                "invalid_answer" => answer_field(&v.message).unwrap_or_else(|| f.general.into()),
                _ => f.general.to_string(),
            };
            errs.add(field, v.message);
            Ok(())
        }
        StoreError::Conflict { .. } => {
            errs.add(
                f.person,
                "Người này đã có bài làm của phiếu này (mỗi người một lần). Muốn sửa điểm, hãy mở bài làm và đính chính.",
            );
            Ok(())
        }
        other => Err(other.into()),
    }
}

async fn paper(
    State(st): State<AppState>,
    Ctx(ctx, _): Ctx,
    Path(id): Path<i64>,
    f: CsrfForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    let scope = f.user.scope();
    let z = assess::get(&st.db, scope, QuizId(id)).await?;
    let input = PaperInput::read(&f.form);
    let given = input.given();
    let mut errs = FieldErrors::new();
    let outcome = if z.scored() {
        match input.person_id.trim().parse::<i64>() {
            Ok(p) if p > 0 => Some(
                attempts::record_paper(&st.db, scope, &z, PersonId(p), &given)
                    .await
                    .map(|a| {
                        format!(
                            "Đã nhập bài làm của {}: {}/{} điểm.",
                            a.name,
                            a.score.unwrap_or(0),
                            a.max_score
                        )
                    }),
            ),
            _ => {
                errs.add(
                    "paper_person",
                    "Chọn người làm bài (mã đảng viên là một số).",
                );
                None
            }
        }
    } else {
        Some(
            surveys::respond(&st.db, scope, &z, None, &given)
                .await
                .map(|()| "Đã nhập một phiếu khảo sát (không ghi tên).".to_string()),
        )
    };
    match outcome {
        Some(Ok(message)) => {
            return Ok(ctx.redirect(&format!("/assess/quizzes/{id}#paper"), &message))
        }
        Some(Err(e)) => entry_error(
            e,
            &mut errs,
            &EntryFields {
                person: "paper_person",
                points: "paper",
                general: "paper",
            },
        )?,
        None => {}
    }
    let forms = QuizForms {
        paper: input,
        paper_errors: errs,
        ..Default::default()
    };
    let page = build_quiz(&st.db, ctx, scope, id, &QuizQuery::default(), forms).await?;
    page.ctx.render_invalid(&page)
}

async fn oral(
    State(st): State<AppState>,
    Ctx(ctx, _): Ctx,
    Path(id): Path<i64>,
    f: CsrfForm<OralForm>,
) -> AppResult<Response> {
    let scope = f.user.scope();
    let z = assess::get(&st.db, scope, QuizId(id)).await?;
    let mut errs = FieldErrors::new();
    let number = |s: &str| s.trim().parse::<i64>().ok();
    let person = number(&f.form.person_id).filter(|p| *p > 0);
    if person.is_none() {
        errs.add(
            "oral_person",
            "Chọn người được hỏi (mã đảng viên là một số).",
        );
    }
    let points = number(&f.form.points);
    if points.is_none() {
        errs.add("oral_points", "Điểm là một số nguyên.");
    }
    let out_of = number(&f.form.out_of);
    if out_of.is_none() {
        errs.add("oral_out_of", "Tổng điểm là một số nguyên.");
    }
    if let (Some(p), Some(pts), Some(max)) = (person, points, out_of) {
        match attempts::record_oral(&st.db, scope, &z, PersonId(p), pts, max).await {
            Ok(a) => {
                return Ok(ctx.redirect(
                    &format!("/assess/quizzes/{id}#oral"),
                    &format!(
                        "Đã ghi kết quả hỏi – đáp của {}: {}/{} điểm.",
                        a.name,
                        a.score.unwrap_or(0),
                        a.max_score
                    ),
                ))
            }
            Err(e) => entry_error(
                e,
                &mut errs,
                &EntryFields {
                    person: "oral_person",
                    points: "oral_points",
                    general: "oral",
                },
            )?,
        }
    }
    let forms = QuizForms {
        oral: f.form,
        oral_errors: errs,
        ..Default::default()
    };
    let page = build_quiz(&st.db, ctx, scope, id, &QuizQuery::default(), forms).await?;
    page.ctx.render_invalid(&page)
}

// ----- exports and print -----

/// The ranking as far as the caller reads it, in pages, up to `cap` rows.
async fn whole_ranking(
    db: &store::Db,
    scope: &store::Scope,
    z: &Quiz,
    cap: usize,
) -> AppResult<Vec<Attempt>> {
    let mut out = Vec::new();
    let mut after = None;
    loop {
        let (rows, next) = attempts::ranking(db, scope, z, after, EXPORT_PAGE).await?;
        out.extend(rows);
        match next {
            Some(n) if out.len() < cap => after = Some(n),
            _ => break,
        }
    }
    out.truncate(cap);
    Ok(out)
}

/// The questionnaire for a results export: readers of its organization and secretaries and up
/// (the ranking holds only the people they read; the questions only for readers).
async fn for_results(
    db: &store::Db,
    scope: &store::Scope,
    id: i64,
) -> AppResult<(Quiz, bool, bool)> {
    let z = assess::get(db, scope, QuizId(id)).await?;
    let (runs, reader) = access(db, scope, &z).await?;
    if !reader && !scope.has_role(ATTEND) {
        return Err(AppError::Forbidden);
    }
    Ok((z, runs, reader))
}

async fn results_xlsx(
    Reads(reads): Reads,
    Ctx(_, user): Ctx,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let scope = user.scope();
    let (z, _, reader) = for_results(&reads, scope, id).await?;
    let people = if z.scored() {
        whole_ranking(&reads, scope, &z, EXPORT_MAX).await?
    } else {
        vec![]
    };
    // A survey's questions have no right answer: its results are on its page and its print.
    let qs = if reader && z.scored() {
        assess::quiz_questions(&reads, &z, true).await?
    } else {
        vec![]
    };
    let bytes = export::results_xlsx(&z, &people, &qs)?;
    Ok(crate::plans::action_plans::download(
        bytes,
        XLSX,
        &format!("ket qua {}", z.title),
        "xlsx",
    ))
}

async fn results_csv(
    Reads(reads): Reads,
    Ctx(_, user): Ctx,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let scope = user.scope();
    let (z, _, _) = for_results(&reads, scope, id).await?;
    let people = if z.scored() {
        whole_ranking(&reads, scope, &z, EXPORT_MAX).await?
    } else {
        vec![]
    };
    let bytes = export::results_csv(&people)?;
    Ok(crate::plans::action_plans::download(
        bytes,
        "text/csv; charset=utf-8",
        &format!("ket qua {}", z.title),
        "csv",
    ))
}

#[derive(Template)]
#[template(path = "assess/quiz_print.html")]
struct QuizPrint {
    z: Quiz,
    doc: crate::print::DocHead,
    ranking: Vec<(i64, Attempt)>,
    /// More rows than printed (the exports hold them all).
    more: bool,
    questions: Vec<QuizQuestion>,
    survey: Vec<QuestionResult>,
}

impl QuizPrint {
    fn window_label(&self) -> &'static str {
        window_label(&self.z)
    }
    fn short(&self, s: &str) -> String {
        short(s, 300)
    }
}

async fn print(
    Reads(reads): Reads,
    Ctx(ctx, user): Ctx,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let scope = user.scope();
    let (z, runs, reader) = for_results(&reads, scope, id).await?;
    let mut ranking = Vec::new();
    let mut more = false;
    if z.scored() {
        let mut after = None;
        loop {
            let (rows, next) = ranked(&reads, scope, &z, runs, after, EXPORT_PAGE).await?;
            ranking.extend(rows);
            match next {
                Some(n) if ranking.len() < PRINT_MAX => after = Some(n),
                Some(_) => {
                    more = true;
                    break;
                }
                None => break,
            }
        }
        if ranking.len() > PRINT_MAX {
            ranking.truncate(PRINT_MAX);
            more = true;
        }
    }
    let questions = if reader && z.scored() {
        assess::quiz_questions(&reads, &z, true).await?
    } else {
        vec![]
    };
    let survey = if reader && !z.scored() {
        surveys::results(&reads, &z).await?
    } else {
        vec![]
    };
    let doc = crate::print::doc_head(&reads, scope, OrgId(z.org_id), "BC").await?;
    ctx.render(&QuizPrint {
        z,
        doc,
        ranking,
        more,
        questions,
        survey,
    })
}

// ----- one attempt -----

/// A correction of one answer's points, with its reason.
#[derive(Debug, Deserialize, Default, Clone)]
#[serde(default)]
struct CorrectForm {
    position: String,
    points: String,
    reason: String,
}

#[derive(Template)]
#[template(path = "assess/attempt.html")]
struct AttemptPage {
    ctx: PageCtx,
    a: Attempt,
    z: Quiz,
    /// The caller may open the questionnaire's page.
    quiz_link: bool,
    /// The caller runs the questionnaire (corrects, scores essays).
    runs: bool,
    /// The key is shown: to runners, and to others once the window closed.
    show_key: bool,
    /// The caller is the person who made the attempt.
    own: bool,
    rank: Option<i64>,
    answers: Vec<AttemptAnswer>,
    fix: CorrectForm,
    fix_errors: FieldErrors,
}

impl AttemptPage {
    fn fixing(&self, pos: &i64) -> bool {
        self.fix.position.trim() == pos.to_string()
    }
    fn fix_err(&self, pos: &i64, f: &str) -> &str {
        if self.fixing(pos) {
            self.fix_errors.get(f).unwrap_or("")
        } else {
            ""
        }
    }
    fn fix_points(&self, ans: &AttemptAnswer) -> String {
        if self.fixing(&ans.position) {
            self.fix.points.clone()
        } else {
            ans.points.map(|p| p.to_string()).unwrap_or_default()
        }
    }
    fn fix_reason(&self, pos: &i64) -> &str {
        if self.fixing(pos) {
            &self.fix.reason
        } else {
            ""
        }
    }
    fn lettered(&self, choices: &str) -> Vec<(char, String)> {
        lettered(choices)
    }
    /// Is the choice at `i` among the answer's letters?
    fn picked(&self, ans: &AttemptAnswer, i: &usize) -> bool {
        ans.picked(i)
    }
    fn is_contest(&self) -> bool {
        self.z.kind() == QuizKind::Contest
    }
}

async fn build_attempt(
    db: &store::Db,
    ctx: PageCtx,
    scope: &store::Scope,
    id: i64,
    fix: CorrectForm,
    fix_errors: FieldErrors,
) -> AppResult<AttemptPage> {
    let a = attempts::get(db, scope, AttemptId(id)).await?;
    let z = assess::get_unscoped(db, QuizId(a.quiz_id)).await?;
    let quiz_link = assess::get(db, scope, z.id).await.is_ok();
    let runs = assess::runs(db, scope, &z).await?;
    let show_key = runs || z.window() == Window::Closed;
    let own = a.person_id.is_some() && a.person_id == scope.person_id.map(|p| p.0);
    let rank = if a.submitted() && z.scored() {
        Some(attempts::rank_of(db, &a).await?)
    } else {
        None
    };
    let answers = attempts::answers(db, &a).await?;
    let crumbs = match a.org_id {
        Some(o) if scope.covers(db, OrgId(o), READ).await? => {
            org::breadcrumb(db, scope, OrgId(o)).await?
        }
        _ => vec![],
    };
    Ok(AttemptPage {
        ctx: ctx.with_nav("assess").with_crumbs(crumbs),
        a,
        z,
        quiz_link,
        runs,
        show_key,
        own,
        rank,
        answers,
        fix,
        fix_errors,
    })
}

async fn attempt_page(
    State(st): State<AppState>,
    Ctx(ctx, user): Ctx,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let page = build_attempt(
        &st.db,
        ctx,
        user.scope(),
        id,
        CorrectForm::default(),
        FieldErrors::new(),
    )
    .await?;
    page.ctx.render(&page)
}

async fn correct(
    State(st): State<AppState>,
    Ctx(ctx, _): Ctx,
    Path(id): Path<i64>,
    f: CsrfForm<CorrectForm>,
) -> AppResult<Response> {
    let scope = f.user.scope();
    let a = attempts::get(&st.db, scope, AttemptId(id)).await?;
    let z = assess::get_unscoped(&st.db, QuizId(a.quiz_id)).await?;
    let Ok(position) = f.form.position.trim().parse::<i64>() else {
        return Err(AppError::BadRequest("Thiếu số thứ tự của câu.".into()));
    };
    let mut errs = FieldErrors::new();
    let points = f.form.points.trim().parse::<i64>().ok();
    if points.is_none() {
        errs.add("points", "Điểm là một số nguyên.");
    }
    let reason = errs.take("reason", domain::assess::reason(&f.form.reason));
    if let (Some(points), Some(reason)) = (points, reason) {
        match attempts::correct(&st.db, scope, &z, &a, position, points, &reason).await {
            Ok(()) => {
                return Ok(ctx.redirect(
                    &format!("/assess/attempts/{id}#q{position}"),
                    &format!("Đã ghi {points} điểm cho câu {position}."),
                ))
            }
            Err(StoreError::Rule(v)) if v.code == "points" => errs.add("points", v.message),
            Err(StoreError::Rule(v)) => errs.add("reason", v.message),
            Err(e) => return Err(e.into()),
        }
    }
    let page = build_attempt(&st.db, ctx, scope, id, f.form, errs).await?;
    page.ctx.render_invalid(&page)
}

// ----- the roll-up of a resolution's questionnaires -----

#[derive(Template)]
#[template(path = "assess/rollup.html")]
struct RollupPage {
    ctx: PageCtx,
    /// The organizations the caller reads from their grants (the choice), and the one shown.
    orgs: Vec<Org>,
    org: Org,
    resolutions: Vec<(i64, String)>,
    resolution: Option<i64>,
    rows: Vec<RollupRow>,
}

impl RollupPage {
    fn orgs_has_current(&self) -> bool {
        self.orgs.iter().any(|o| o.id == self.org.id)
    }
    fn chosen(&self, resolution: &i64) -> bool {
        self.resolution == Some(*resolution)
    }
    fn child_link(&self, org: &i64) -> String {
        match self.resolution {
            Some(r) => format!("/assess/rollup?org={org}&resolution={r}"),
            None => format!("/assess/rollup?org={org}"),
        }
    }
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
struct RollupQuery {
    org: Option<i64>,
    resolution: Option<i64>,
}

async fn rollup(
    Reads(reads): Reads,
    Ctx(ctx, user): Ctx,
    Query(q): Query<RollupQuery>,
) -> AppResult<Response> {
    let scope = user.scope();
    let mut orgs: Vec<Org> = Vec::new();
    for g in scope.grants.iter().filter(|g| g.role >= READ) {
        if orgs.iter().any(|o| o.id == g.org_id.0) {
            continue;
        }
        if let Ok(o) = org::get(&reads, scope, g.org_id).await {
            orgs.push(o);
        }
    }
    let org_id = q
        .org
        .or(orgs.first().map(|o| o.id))
        .ok_or(AppError::Forbidden)?;
    let org = org::get(&reads, scope, OrgId(org_id)).await?;
    let mut resolutions = assess::resolutions_with_quizzes(&reads, scope, OrgId(org_id)).await?;
    // The resolution asked for stays chosen going down the tree, even where only another
    // branch has questionnaires of it (the rows then show none).
    if let Some(r) = q.resolution {
        if !resolutions.iter().any(|(id, _)| *id == r) {
            if let Ok(res) = resolutions::get(&reads, scope, ResolutionId(r)).await {
                resolutions.push((res.id, format!("{} — {}", res.number, res.title)));
            }
        }
    }
    let resolution = q
        .resolution
        .filter(|r| resolutions.iter().any(|(id, _)| id == r))
        .or(resolutions.first().map(|(id, _)| *id));
    let rows = match resolution {
        Some(r) => assess::rollup(&reads, scope, OrgId(org_id), ResolutionId(r)).await?,
        None => vec![],
    };
    let crumbs = org::breadcrumb(&reads, scope, OrgId(org_id)).await?;
    let ctx = ctx.with_nav("assess").with_crumbs(crumbs);
    ctx.render(&RollupPage {
        ctx: ctx.clone(),
        orgs,
        org,
        resolutions,
        resolution,
        rows,
    })
}
