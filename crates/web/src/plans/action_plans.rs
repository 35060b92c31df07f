//! Action programs and implementation plans (issue 14.1–14.3, 14.6): the list filtered by
//! status, owner, lead unit, leader and overdue; the plan's page with its lifecycle (consult,
//! approve, issue, review), consultations and their answers, amendments, items with their state
//! and a timeline drawn on the server (SVG, no script); the forms; progress reports with an
//! evidence file; the plan printed in the Party document layout.

use askama::Template;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use chrono::NaiveDate;
use domain::ids::{OrgId, PlanId, PlanItemId};
use domain::plans::action_plans::{
    AmendmentInput, AnswerInput, ApprovalBody, ItemInput, ItemKind, ItemState, PlanInput, PlanKind,
    PlanStatus, ProgressInput, StepInput, EVIDENCE_MAX_BYTES,
};
use domain::FieldErrors;
use serde::Deserialize;
use store::org::{self, Org};
use store::plans::action_plans::{
    self as plans, Amendment, Consultation, Item, ItemReport, Leader, Plan, PlanFilter,
};
use store::plans::tasks::today;
use store::{Scope, StoreError};

use crate::app::AppState;
use crate::auth::CsrfForm;
use crate::error::{AppError, AppResult};
use crate::pages::{Ctx, PageCtx};
use crate::reads::Reads;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/plans", get(list).post(create))
        .route("/plans/new", get(new))
        .route("/plans/{id}", get(detail))
        .route("/plans/{id}/edit", get(edit_form).post(edit))
        .route("/plans/{id}/step", post(step))
        .route("/plans/{id}/consultations/{cid}", post(answer))
        .route("/plans/{id}/amendments", post(amend))
        .route("/plans/{id}/items", post(add_item))
        .route("/plans/{id}/items/new", get(item_form))
        .route(
            "/plans/{id}/items/{item}/report",
            get(report_form)
                .post(report)
                .layer(DefaultBodyLimit::max(EVIDENCE_MAX_BYTES + 64 * 1024)),
        )
        .route("/plans/{id}/reports/{rid}/file", get(evidence))
        .route("/plans/{id}/print", get(print))
        .route("/plans/{id}/items.xlsx", get(items_xlsx))
        .route("/plans/{id}/plan.docx", get(docx))
}

const PER_PAGE: i64 = 50;

fn err<'a>(e: &'a FieldErrors, field: &str) -> &'a str {
    e.get(field).unwrap_or("")
}

// ---- list ----------------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "plans/plans.html")]
struct ListPage {
    ctx: PageCtx,
    today: NaiveDate,
    plans: Vec<Plan>,
    next_before: Option<i64>,
    q: ListQuery,
    can_create: bool,
    statuses: &'static [PlanStatus],
}

#[derive(Debug, Deserialize, Default, Clone)]
#[serde(default)]
pub struct ListQuery {
    status: String,
    org: Option<i64>,
    lead: Option<i64>,
    leader: Option<i64>,
    overdue: Option<String>,
    before: Option<i64>,
}

impl ListQuery {
    fn filter(&self) -> PlanFilter {
        PlanFilter {
            status: PlanStatus::parse(&self.status).ok(),
            org: self.org.map(OrgId),
            lead_org: self.lead.map(OrgId),
            leader: self.leader,
            overdue: self.overdue.as_deref().is_some_and(|v| !v.is_empty()),
        }
    }
    /// The filters as a query string for the next page's link.
    fn keep(&self) -> String {
        let mut s = format!("status={}", self.status);
        for (k, v) in [
            ("org", self.org),
            ("lead", self.lead),
            ("leader", self.leader),
        ] {
            if let Some(v) = v {
                s.push_str(&format!("&amp;{k}={v}"));
            }
        }
        if self.filter().overdue {
            s.push_str("&amp;overdue=1");
        }
        s
    }
}

async fn list(
    Reads(reads): Reads,
    Ctx(ctx, user): Ctx,
    Query(q): Query<ListQuery>,
) -> AppResult<Response> {
    let scope = user.scope();
    let (rows, next) =
        plans::list(&reads, scope, &q.filter(), q.before.map(PlanId), PER_PAGE).await?;
    let ctx = ctx.with_nav("plans");
    ctx.render(&ListPage {
        ctx: ctx.clone(),
        today: today(),
        plans: rows,
        next_before: next.map(|p| p.0),
        q,
        can_create: scope.has_role(store::scope::WRITE),
        statuses: PlanStatus::ALL,
    })
}

// ---- plan form -----------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "plans/plan_form.html")]
struct PlanFormPage {
    ctx: PageCtx,
    owners: Vec<Org>,
    owner: Option<Org>,
    /// Editing this plan.
    plan: Option<Plan>,
    leaders: Vec<Leader>,
    resolutions: Vec<store::resolutions::Resolution>,
    amendments: Vec<Amendment>,
    kinds: &'static [PlanKind],
    input: PlanInput,
    amendment_id: String,
    errors: FieldErrors,
}

impl PlanFormPage {
    fn err(&self, field: &str) -> &str {
        err(&self.errors, field)
    }
    fn has_resolution(&self, id: &i64) -> bool {
        self.input
            .resolution_ids
            .iter()
            .any(|r| r.trim() == id.to_string())
    }
    fn action(&self) -> String {
        match &self.plan {
            Some(p) => format!("/plans/{}/edit", p.id.0),
            None => "/plans".into(),
        }
    }
}

async fn plan_form(
    st: &AppState,
    ctx: PageCtx,
    scope: &Scope,
    owner_id: Option<i64>,
    plan: Option<Plan>,
    // What was typed, with the amendment chosen.
    typed: Option<(PlanInput, String)>,
    errors: FieldErrors,
) -> AppResult<PlanFormPage> {
    let (input, amendment_id) = match typed {
        Some((i, a)) => (Some(i), a),
        None => (None, String::new()),
    };
    let owners = super::organizing(st, scope).await;
    let owner_id = plan
        .as_ref()
        .map(|p| p.org_id.0)
        .or(owner_id)
        .or(owners.first().map(|o| o.id));
    let owner = match owner_id {
        Some(id) => {
            scope
                .require(&st.db, OrgId(id), store::scope::WRITE)
                .await?;
            Some(org::get(&st.db, scope, OrgId(id)).await?)
        }
        None => None,
    };
    let leaders = match &owner {
        Some(o) => plans::leader_choices(&st.db, scope, OrgId(o.id)).await?,
        None => vec![],
    };
    let resolutions = store::resolutions::list(
        &st.db,
        scope,
        &store::resolutions::ResolutionFilter::default(),
        store::Paging::new(Some(1), Some(200)),
    )
    .await?
    .items;
    let amendments = match &plan {
        Some(p) if !p.status().open_for_edit() => plans::amendments(&st.db, p.id).await?,
        _ => vec![],
    };
    let input = match (input, &plan) {
        (Some(i), _) => i,
        (None, Some(p)) => PlanInput {
            kind: p.kind.clone(),
            title: p.title.clone(),
            summary: p.summary.clone().unwrap_or_default(),
            leader_person_id: p.leader_person_id.to_string(),
            resolution_ids: plans::resolutions(&st.db, scope, p.id)
                .await?
                .into_iter()
                .map(|(id, _)| id.to_string())
                .collect(),
            responsibility: p.responsibility.clone().unwrap_or_default(),
            inspection: p.inspection.clone().unwrap_or_default(),
        },
        (None, None) => {
            let settings = match &owner {
                Some(o) => store::settings::of_org(&st.db, OrgId(o.id)).await?,
                None => store::settings::defaults(&st.db).await?,
            };
            PlanInput {
                kind: PlanKind::Plan.code().into(),
                leader_person_id: leaders
                    .first()
                    .map(|l| l.id.0.to_string())
                    .unwrap_or_default(),
                responsibility: settings.plan_template.responsibility.clone(),
                inspection: settings.plan_template.inspection.clone(),
                ..PlanInput::default()
            }
        }
    };
    Ok(PlanFormPage {
        ctx: ctx.with_nav("plans"),
        owners,
        owner,
        plan,
        leaders,
        resolutions,
        amendments,
        kinds: PlanKind::ALL,
        input,
        amendment_id,
        errors,
    })
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct NewQuery {
    org: Option<i64>,
}

async fn new(
    State(st): State<AppState>,
    Ctx(ctx, user): Ctx,
    Query(q): Query<NewQuery>,
) -> AppResult<Response> {
    if !user.scope().has_role(store::scope::WRITE) {
        return Err(AppError::Forbidden);
    }
    let page = plan_form(
        &st,
        ctx.clone(),
        user.scope(),
        q.org,
        None,
        None,
        FieldErrors::new(),
    )
    .await?;
    ctx.render(&page)
}

/// The plan form as posted. Lists are not flattened (one ticked box would arrive as a string).
#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct PlanForm {
    org_id: Option<i64>,
    kind: String,
    title: String,
    summary: String,
    leader_person_id: String,
    resolution_ids: Vec<String>,
    responsibility: String,
    inspection: String,
    amendment_id: String,
}

impl PlanForm {
    fn input(&self) -> PlanInput {
        PlanInput {
            kind: self.kind.clone(),
            title: self.title.clone(),
            summary: self.summary.clone(),
            leader_person_id: self.leader_person_id.clone(),
            resolution_ids: self.resolution_ids.clone(),
            responsibility: self.responsibility.clone(),
            inspection: self.inspection.clone(),
        }
    }
}

/// The field a store rule of the plan form belongs to.
fn plan_rule_field(code: &str) -> &'static str {
    match code {
        "leader_outside" => "leader_person_id",
        "resolution_not_found" => "resolution_ids",
        _ => "amendment_id",
    }
}

async fn create(
    State(st): State<AppState>,
    Ctx(ctx, _): Ctx,
    f: CsrfForm<PlanForm>,
) -> AppResult<Response> {
    let scope = f.user.scope();
    let Some(owner) = f.form.org_id else {
        return Err(AppError::BadRequest(
            "Chọn tổ chức chủ trì kế hoạch.".into(),
        ));
    };
    let input = f.form.input();
    let mut errors = FieldErrors::new();
    match input.validate() {
        Ok(p) => match plans::create(&st.db, scope, OrgId(owner), &p).await {
            Ok(id) => {
                return Ok(ctx.redirect(
                    &format!("/plans/{}", id.0),
                    "Đã lưu dự thảo kế hoạch. Thêm các hạng mục, lấy ý kiến rồi trình tập thể thông qua.",
                ))
            }
            Err(StoreError::Rule(v)) => errors.add(plan_rule_field(v.code), v.message),
            Err(e) => return Err(e.into()),
        },
        Err(e) => errors = e,
    }
    let page = plan_form(
        &st,
        ctx.clone(),
        scope,
        Some(owner),
        None,
        Some((input, String::new())),
        errors,
    )
    .await?;
    ctx.render_invalid(&page)
}

async fn edit_form(
    State(st): State<AppState>,
    Ctx(ctx, user): Ctx,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let scope = user.scope();
    let p = plans::get(&st.db, scope, PlanId(id)).await?;
    scope.require(&st.db, p.org_id, store::scope::WRITE).await?;
    let page = plan_form(
        &st,
        ctx.clone(),
        scope,
        None,
        Some(p),
        None,
        FieldErrors::new(),
    )
    .await?;
    ctx.render(&page)
}

async fn edit(
    State(st): State<AppState>,
    Ctx(ctx, _): Ctx,
    Path(id): Path<i64>,
    f: CsrfForm<PlanForm>,
) -> AppResult<Response> {
    let scope = f.user.scope();
    let p = plans::get(&st.db, scope, PlanId(id)).await?;
    let input = f.form.input();
    let amendment = f.form.amendment_id.trim().parse::<i64>().ok();
    let mut errors = FieldErrors::new();
    match input.validate() {
        Ok(new) => match plans::update(&st.db, scope, &p, &new, amendment).await {
            Ok(()) => return Ok(ctx.redirect(&format!("/plans/{id}"), "Đã lưu kế hoạch.")),
            Err(StoreError::Rule(v)) => errors.add(plan_rule_field(v.code), v.message),
            Err(e) => return Err(e.into()),
        },
        Err(e) => errors = e,
    }
    let page = plan_form(
        &st,
        ctx.clone(),
        scope,
        None,
        Some(p),
        Some((input, f.form.amendment_id)),
        errors,
    )
    .await?;
    ctx.render_invalid(&page)
}

// ---- the plan's page -----------------------------------------------------------------------

/// One bar of the timeline, in SVG user units.
#[derive(Debug, Clone)]
pub struct Bar {
    pub y: i64,
    pub x: i64,
    pub w: i64,
    /// The done part.
    pub done_w: i64,
    pub label: String,
    pub state: ItemState,
}

/// The timeline of a plan's items: one bar from start to due date per item, the done part
/// filled, today as a line; drawn on the server so it shows without script and prints.
#[derive(Debug, Clone)]
pub struct Timeline {
    pub width: i64,
    pub height: i64,
    pub bars: Vec<Bar>,
    pub today_x: Option<i64>,
    /// Month ticks: x and "mm/yyyy".
    pub ticks: Vec<(i64, String)>,
}

pub const TIMELINE_LABEL_W: i64 = 340;
const TIMELINE_W: i64 = 960;
const ROW_H: i64 = 26;

impl Timeline {
    pub fn of(items: &[Item], today: NaiveDate) -> Option<Self> {
        use chrono::Datelike;
        let start = items.iter().map(|i| i.starts_on).min()?;
        let end = items.iter().map(|i| i.due_on).max()?;
        let days = (end - start).num_days().max(1);
        let span = TIMELINE_W - TIMELINE_LABEL_W - 10;
        let x_of =
            |d: NaiveDate| TIMELINE_LABEL_W + (d - start).num_days().clamp(0, days) * span / days;
        let bars = items
            .iter()
            .enumerate()
            .map(|(n, i)| {
                let x = x_of(i.starts_on);
                let w = (x_of(i.due_on) - x).max(3);
                let label: String = i.title.chars().take(44).collect();
                let label = if i.title.chars().count() > 44 {
                    format!("{label}…")
                } else {
                    label
                };
                Bar {
                    y: 24 + i64::try_from(n).unwrap_or(0) * ROW_H,
                    x,
                    w,
                    done_w: w * i.percent.clamp(0, 100) / 100,
                    label,
                    state: i.state(today),
                }
            })
            .collect::<Vec<_>>();
        let height = 24 + i64::try_from(bars.len()).unwrap_or(0) * ROW_H + 8;
        let mut ticks = Vec::new();
        let mut m = NaiveDate::from_ymd_opt(start.year(), start.month(), 1)?;
        let step = if days > 730 {
            6
        } else if days > 365 {
            3
        } else {
            1
        };
        while m <= end && ticks.len() < 40 {
            if m >= start {
                ticks.push((x_of(m), m.format("%m/%Y").to_string()));
            }
            m = m.checked_add_months(chrono::Months::new(step))?;
        }
        Some(Self {
            width: TIMELINE_W,
            height,
            bars,
            today_x: (start..=end).contains(&today).then(|| x_of(today)),
            ticks,
        })
    }
}

#[derive(Template)]
#[template(path = "plans/plan.html")]
struct DetailPage {
    ctx: PageCtx,
    today: NaiveDate,
    p: Plan,
    resolutions: Vec<(i64, String)>,
    items: Vec<Item>,
    reports: Vec<ItemReport>,
    consultations: Vec<Consultation>,
    amendments: Vec<Amendment>,
    timeline: Option<Timeline>,
    /// The caller organizes the owning organization (may take steps, add items).
    can_write: bool,
    owner_side: bool,
    bodies: &'static [ApprovalBody],
    step: StepInput,
    step_errors: FieldErrors,
    amendment: AmendmentInput,
    amend_errors: FieldErrors,
    answer_errors: Option<(i64, FieldErrors)>,
}

impl DetailPage {
    fn step_err(&self, field: &str) -> &str {
        err(&self.step_errors, field)
    }
    fn amend_err(&self, field: &str) -> &str {
        err(&self.amend_errors, field)
    }
    fn answer_err(&self, id: &i64, field: &str) -> &str {
        match &self.answer_errors {
            Some((i, e)) if i == id => err(e, field),
            _ => "",
        }
    }
    fn unanswered(&self) -> usize {
        self.consultations
            .iter()
            .filter(|c| c.answered_on.is_none())
            .count()
    }
    fn reports_of(&self, item: &PlanItemId) -> Vec<&ItemReport> {
        self.reports
            .iter()
            .filter(|r| r.item_id == item.0)
            .collect()
    }
    /// The next steps this plan may take, with their labels.
    fn next_steps(&self) -> Vec<domain::plans::action_plans::PlanStep> {
        domain::plans::action_plans::PlanStep::ALL
            .iter()
            .copied()
            .filter(|s| self.p.status().after(*s).is_ok())
            .collect()
    }
    fn overdue_items(&self) -> usize {
        self.items
            .iter()
            .filter(|i| i.state(self.today) == ItemState::Overdue)
            .count()
    }
}

#[derive(Default)]
struct DetailForms {
    step: Option<(StepInput, FieldErrors)>,
    amend: Option<(AmendmentInput, FieldErrors)>,
    answer: Option<(i64, FieldErrors)>,
}

async fn detail_page(
    st: &AppState,
    ctx: PageCtx,
    scope: &Scope,
    p: Plan,
    forms: DetailForms,
) -> AppResult<DetailPage> {
    let items = plans::items(&st.db, scope, &p).await?;
    let reports = plans::reports(&st.db, p.id, &items).await?;
    let owner_side = plans::owner_side(&st.db, scope, &p).await?;
    let (consultations, amendments) = if owner_side {
        (
            plans::consultations(&st.db, p.id).await?,
            plans::amendments(&st.db, p.id).await?,
        )
    } else {
        (vec![], plans::amendments(&st.db, p.id).await?)
    };
    let can_write = scope.covers(&st.db, p.org_id, store::scope::WRITE).await?;
    let today = today();
    let crumbs = org::breadcrumb(&st.db, scope, p.org_id)
        .await
        .unwrap_or_default();
    let (step, step_errors) = forms.step.unwrap_or_default();
    let (amendment, amend_errors) = forms.amend.unwrap_or_default();
    Ok(DetailPage {
        ctx: ctx.with_nav("plans").with_crumbs(crumbs),
        today,
        resolutions: plans::resolutions(&st.db, scope, p.id).await?,
        timeline: Timeline::of(&items, today),
        p,
        items,
        reports,
        consultations,
        amendments,
        can_write,
        owner_side,
        bodies: ApprovalBody::ALL,
        step,
        step_errors,
        amendment,
        amend_errors,
        answer_errors: forms.answer,
    })
}

async fn detail(
    State(st): State<AppState>,
    Ctx(ctx, user): Ctx,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let scope = user.scope();
    let p = plans::get(&st.db, scope, PlanId(id)).await?;
    let page = detail_page(&st, ctx.clone(), scope, p, DetailForms::default()).await?;
    ctx.render(&page)
}

async fn step(
    State(st): State<AppState>,
    Ctx(ctx, _): Ctx,
    Path(id): Path<i64>,
    f: CsrfForm<StepInput>,
) -> AppResult<Response> {
    let scope = f.user.scope();
    let p = plans::get(&st.db, scope, PlanId(id)).await?;
    let mut errors = FieldErrors::new();
    match f.form.validate(today()) {
        Ok(s) => match plans::step(&st.db, scope, &p, &s).await {
            Ok(to) => {
                return Ok(ctx.redirect(
                    &format!("/plans/{id}"),
                    &format!(
                        "Đã ghi: {} — kế hoạch {}.",
                        s.kind().label(),
                        to.label().to_lowercase()
                    ),
                ))
            }
            Err(StoreError::Rule(v)) => errors.add(
                if v.code == "step_date_before" {
                    "on"
                } else {
                    "step"
                },
                v.message,
            ),
            Err(e) => return Err(e.into()),
        },
        Err(e) => errors = e,
    }
    let forms = DetailForms {
        step: Some((f.form, errors)),
        ..DetailForms::default()
    };
    let page = detail_page(&st, ctx.clone(), scope, p, forms).await?;
    ctx.render_invalid(&page)
}

async fn answer(
    State(st): State<AppState>,
    Ctx(ctx, _): Ctx,
    Path((id, cid)): Path<(i64, i64)>,
    f: CsrfForm<AnswerInput>,
) -> AppResult<Response> {
    let scope = f.user.scope();
    let p = plans::get(&st.db, scope, PlanId(id)).await?;
    let asked = plans::consultations(&st.db, p.id)
        .await?
        .into_iter()
        .find(|c| c.id == cid)
        .ok_or(AppError::NotFound)?;
    let mut errors = FieldErrors::new();
    match f.form.validate(today(), asked.asked_on) {
        Ok((on, text)) => match plans::answer(&st.db, scope, &p, cid, on, &text).await {
            Ok(()) => {
                return Ok(ctx.redirect(
                    &format!("/plans/{id}#consultations"),
                    &format!("Đã ghi ý kiến của {}.", asked.body_name),
                ))
            }
            Err(StoreError::Rule(v)) => errors.add("answer", v.message),
            Err(e) => return Err(e.into()),
        },
        Err(e) => errors = e,
    }
    let forms = DetailForms {
        answer: Some((cid, errors)),
        ..DetailForms::default()
    };
    let page = detail_page(&st, ctx.clone(), scope, p, forms).await?;
    ctx.render_invalid(&page)
}

async fn amend(
    State(st): State<AppState>,
    Ctx(ctx, _): Ctx,
    Path(id): Path<i64>,
    f: CsrfForm<AmendmentInput>,
) -> AppResult<Response> {
    let scope = f.user.scope();
    let p = plans::get(&st.db, scope, PlanId(id)).await?;
    let mut errors = FieldErrors::new();
    match f.form.validate(today()) {
        Ok(a) => match plans::amend(&st.db, scope, &p, &a).await {
            Ok(_) => {
                return Ok(ctx.redirect(
                    &format!("/plans/{id}#amendments"),
                    "Đã ghi văn bản sửa đổi, bổ sung; giờ có thể sửa kế hoạch, thêm hạng mục theo văn bản này.",
                ))
            }
            Err(StoreError::Rule(v)) => errors.add("number", v.message),
            Err(e) => return Err(e.into()),
        },
        Err(e) => errors = e,
    }
    let forms = DetailForms {
        amend: Some((f.form, errors)),
        ..DetailForms::default()
    };
    let page = detail_page(&st, ctx.clone(), scope, p, forms).await?;
    ctx.render_invalid(&page)
}

// ---- items ---------------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "plans/item_form.html")]
struct ItemFormPage {
    ctx: PageCtx,
    p: Plan,
    /// The owner and its subtree's organizations down two levels.
    units: Vec<Org>,
    amendments: Vec<Amendment>,
    kinds: &'static [ItemKind],
    input: ItemInput,
    errors: FieldErrors,
}

impl ItemFormPage {
    fn err(&self, field: &str) -> &str {
        err(&self.errors, field)
    }
    fn is_lead(&self, id: &i64) -> bool {
        self.input
            .lead_org_id
            .iter()
            .any(|v| v.trim() == id.to_string())
    }
    fn coordinates(&self, id: &i64) -> bool {
        self.input
            .coordinating_org_ids
            .iter()
            .any(|v| v.trim() == id.to_string())
    }
}

/// The organizations an item of `p` may name: the owner and its children (a province's
/// communes, a commune's cells).
async fn units(st: &AppState, scope: &Scope, p: &Plan) -> AppResult<Vec<Org>> {
    let mut out = vec![org::get(&st.db, scope, p.org_id).await?];
    out.extend(org::children(&st.db, scope, p.org_id).await?);
    Ok(out)
}

async fn item_page(
    st: &AppState,
    ctx: PageCtx,
    scope: &Scope,
    p: Plan,
    input: Option<ItemInput>,
    errors: FieldErrors,
) -> AppResult<ItemFormPage> {
    scope.require(&st.db, p.org_id, store::scope::WRITE).await?;
    let units = units(st, scope, &p).await?;
    let amendments = if p.status().open_for_edit() {
        vec![]
    } else {
        plans::amendments(&st.db, p.id).await?
    };
    let input = input.unwrap_or_else(|| ItemInput {
        kind: ItemKind::Task.code().into(),
        lead_org_id: vec![p.org_id.0.to_string()],
        starts_on: domain::text::format_date(today()),
        ..ItemInput::default()
    });
    Ok(ItemFormPage {
        ctx: ctx.with_nav("plans"),
        p,
        units,
        amendments,
        kinds: ItemKind::ALL,
        input,
        errors,
    })
}

async fn item_form(
    State(st): State<AppState>,
    Ctx(ctx, user): Ctx,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let scope = user.scope();
    let p = plans::get(&st.db, scope, PlanId(id)).await?;
    let page = item_page(&st, ctx.clone(), scope, p, None, FieldErrors::new()).await?;
    ctx.render(&page)
}

/// The item form as posted (lists not flattened).
#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct ItemForm {
    kind: String,
    title: String,
    lead_org_id: Vec<String>,
    coordinating_org_ids: Vec<String>,
    resources: String,
    responsible: String,
    starts_on: String,
    due_on: String,
    amendment_id: String,
}

/// The field a store rule of the item form belongs to.
fn item_rule_field(code: &str) -> &'static str {
    match code {
        "lead_outside" => "lead_org_id",
        "coordinator_outside" => "coordinating_org_ids",
        "amendment_required" | "amendment_not_found" => "amendment_id",
        _ => "title",
    }
}

async fn add_item(
    State(st): State<AppState>,
    Ctx(ctx, _): Ctx,
    Path(id): Path<i64>,
    f: CsrfForm<ItemForm>,
) -> AppResult<Response> {
    let scope = f.user.scope();
    let p = plans::get(&st.db, scope, PlanId(id)).await?;
    let form = f.form;
    let input = ItemInput {
        kind: form.kind,
        title: form.title,
        lead_org_id: form.lead_org_id,
        coordinating_org_ids: form.coordinating_org_ids,
        resources: form.resources,
        responsible: form.responsible,
        starts_on: form.starts_on,
        due_on: form.due_on,
        amendment_id: form.amendment_id,
    };
    let mut errors = FieldErrors::new();
    match input.validate() {
        Ok(it) => match plans::add_item(&st.db, scope, &p, &it).await {
            Ok(_) => {
                return Ok(ctx.redirect(
                    &format!("/plans/{id}#items"),
                    &format!("Đã thêm hạng mục: {}.", it.title),
                ))
            }
            Err(StoreError::Rule(v)) => errors.add(item_rule_field(v.code), v.message),
            Err(e) => return Err(e.into()),
        },
        Err(e) => errors = e,
    }
    let page = item_page(&st, ctx.clone(), scope, p, Some(input), errors).await?;
    ctx.render_invalid(&page)
}

// ---- progress reports ----------------------------------------------------------------------

#[derive(Template)]
#[template(path = "plans/progress_form.html")]
struct ProgressPage {
    ctx: PageCtx,
    p: Plan,
    it: Item,
    input: ProgressInput,
    errors: FieldErrors,
    max_mb: usize,
}

impl ProgressPage {
    fn err(&self, field: &str) -> &str {
        err(&self.errors, field)
    }
}

async fn plan_item(st: &AppState, scope: &Scope, id: i64, item: i64) -> AppResult<(Plan, Item)> {
    let p = plans::get(&st.db, scope, PlanId(id)).await?;
    let it = plans::item(&st.db, scope, &p, PlanItemId(item)).await?;
    Ok((p, it))
}

async fn report_form(
    State(st): State<AppState>,
    Ctx(ctx, user): Ctx,
    Path((id, item)): Path<(i64, i64)>,
) -> AppResult<Response> {
    let (p, it) = plan_item(&st, user.scope(), id, item).await?;
    let ctx = ctx.with_nav("plans");
    ctx.render(&ProgressPage {
        ctx: ctx.clone(),
        input: ProgressInput {
            percent: it.percent.to_string(),
            reported_on: domain::text::format_date(today()),
            note: String::new(),
        },
        p,
        it,
        errors: FieldErrors::new(),
        max_mb: EVIDENCE_MAX_BYTES / (1024 * 1024),
    })
}

/// `POST …/report` (multipart: csrf, percent, reported_on, note, file): the file is read into
/// memory up to the body limit (5 MB and the form), never more.
async fn report(
    State(st): State<AppState>,
    Ctx(ctx, _): Ctx,
    Path((id, item)): Path<(i64, i64)>,
    up: super::Upload,
) -> AppResult<Response> {
    let input = ProgressInput {
        percent: up.field("percent"),
        reported_on: up.field("reported_on"),
        note: up.field("note"),
    };
    let (user, file) = (up.user, up.file);
    let scope = user.scope();
    let (p, it) = plan_item(&st, scope, id, item).await?;
    let mut errors = FieldErrors::new();
    match input.validate(today(), p.issued_on.unwrap_or(NaiveDate::MIN)) {
        Ok(r) => match plans::report(&st.db, scope, &p, &it, &r, file.as_ref()).await {
            Ok(()) => {
                return Ok(ctx.redirect(
                    &format!("/plans/{id}#item-{item}"),
                    &format!("Đã báo cáo tiến độ: {} — {}%.", it.title, r.percent),
                ))
            }
            Err(StoreError::Rule(v)) => errors.add(
                match v.code {
                    "classified_no_files" => "file",
                    "not_lead_unit" => "org",
                    _ => "percent",
                },
                v.message,
            ),
            Err(e) => return Err(e.into()),
        },
        Err(e) => errors = e,
    }
    let ctx = ctx.with_nav("plans");
    ctx.render_invalid(&ProgressPage {
        ctx: ctx.clone(),
        p,
        it,
        input,
        errors,
        max_mb: EVIDENCE_MAX_BYTES / (1024 * 1024),
    })
}

async fn evidence(
    State(st): State<AppState>,
    Ctx(_, user): Ctx,
    Path((id, rid)): Path<(i64, i64)>,
) -> AppResult<Response> {
    let scope = user.scope();
    let p = plans::get(&st.db, scope, PlanId(id)).await?;
    let f = plans::evidence(&st.db, scope, &p, rid).await?;
    Ok(super::attachment(f))
}

// ---- print ---------------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "plans/plan_print.html")]
struct PrintPage {
    doc: crate::print::DocHead,
    p: Plan,
    resolutions: Vec<(i64, String)>,
    items: Vec<Item>,
    /// "Nơi nhận": the organizations leading or coordinating an item.
    recipients: Vec<String>,
    leader_title: String,
}

impl PrintPage {
    /// The kind's word above the title, unless the title already begins with it.
    fn heading(&self) -> &'static str {
        let h = self.p.kind().heading();
        if domain::text::fold(&self.p.title).starts_with(&domain::text::fold(h)) {
            ""
        } else {
            h
        }
    }
}

/// The printed plan's parts (the owner's side only).
async fn print_page(st: &AppState, scope: &Scope, id: i64) -> AppResult<PrintPage> {
    let p = plans::get(&st.db, scope, PlanId(id)).await?;
    if !plans::owner_side(&st.db, scope, &p).await? {
        return Err(AppError::NotFound);
    }
    let items = store::plans::export::items_in_tree_order(&st.db, scope, &p).await?;
    let mut doc =
        crate::print::doc_head(&st.db, scope, p.org_id, p.kind().number_letters()).await?;
    if let Some(n) = &p.number {
        doc.number = format!("Số {n}");
    }
    if let Some(d) = p.issued_on {
        doc.place_date = doc.head.place_date(d);
    }
    let mut recipients: Vec<String> = Vec::new();
    for i in &items {
        for n in std::iter::once(i.lead_name.as_str()).chain(i.coordinators.split(", ")) {
            if !n.is_empty() && n != p.org_name && !recipients.iter().any(|r| r == n) {
                recipients.push(n.to_string());
            }
        }
    }
    let leader_title = if p.org_name.starts_with("Chi bộ") {
        "T/M CHI BỘ"
    } else {
        "T/M BAN THƯỜNG VỤ"
    };
    Ok(PrintPage {
        resolutions: plans::resolutions(&st.db, scope, p.id).await?,
        doc,
        p,
        items,
        recipients,
        leader_title: leader_title.into(),
    })
}

async fn print(
    State(st): State<AppState>,
    Ctx(_, user): Ctx,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let page = print_page(&st, user.scope(), id).await?;
    Ok(axum::response::Html(
        page.render()
            .map_err(|e| AppError::Internal(e.to_string()))?,
    )
    .into_response())
}

/// A file download with an ASCII name (the title folded).
pub(crate) fn download(bytes: Vec<u8>, content_type: &str, title: &str, ext: &str) -> Response {
    let name: String = domain::text::fold(title)
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .take(60)
        .collect();
    (
        [
            (header::CONTENT_TYPE, content_type.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}.{ext}\""),
            ),
        ],
        bytes,
    )
        .into_response()
}

/// `GET /plans/{id}/items.xlsx`: the items in tree order of their lead units.
async fn items_xlsx(
    State(st): State<AppState>,
    Ctx(_, user): Ctx,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let scope = user.scope();
    let p = plans::get(&st.db, scope, PlanId(id)).await?;
    let bytes = store::plans::export::items_xlsx(&st.db, scope, &p, today()).await?;
    Ok(download(
        bytes,
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        &p.title,
        "xlsx",
    ))
}

/// `GET /plans/{id}/plan.docx`: the plan as a Word document in the Party layout.
async fn docx(
    State(st): State<AppState>,
    Ctx(_, user): Ctx,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let scope = user.scope();
    let page = print_page(&st, scope, id).await?;
    let head = store::plans::export::DocxHead {
        superior: page.doc.head.superior.clone(),
        issuer: page.doc.head.issuer.clone(),
        number: page.doc.number.replace('\u{a0}', " "),
        place_date: page.doc.place_date.clone(),
        heading: page.heading().to_string(),
        resolutions: page.resolutions.iter().map(|(_, r)| r.clone()).collect(),
        recipients: page.recipients.clone(),
        signer_title: page.leader_title.clone(),
    };
    let bytes = store::plans::export::plan_docx(&st.db, scope, &page.p, &head).await?;
    Ok(download(
        bytes,
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        &page.p.title,
        "docx",
    ))
}
