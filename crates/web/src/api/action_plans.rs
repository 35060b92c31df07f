//! `/api/v1/plans`: action programs and implementation plans (issue 14.1–14.3, 14.8) — the same
//! store calls and rules as the pages of `web/src/plans/action_plans.rs`.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::NaiveDate;
use domain::ids::{OrgId, PlanId, PlanItemId};
use domain::plans::action_plans::{
    AmendmentInput, AnswerInput, ItemInput, PlanInput, PlanStatus, ProgressInput, StepInput,
};
use serde::{Deserialize, Serialize};
use store::plans::action_plans::{self as plans, Amendment, Consultation, Item, Plan, PlanFilter};
use store::plans::tasks::today;
use utoipa::{IntoParams, ToSchema};

use super::ApiJson;
use crate::app::AppState;
use crate::auth::CurrentUser;
use crate::error::{AppError, AppResult, ErrorBody};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/plans", get(list).post(create))
        .route("/plans/items/assigned", get(assigned))
        .route("/plans/{id}", get(detail).put(update))
        .route("/plans/{id}/steps", post(step))
        .route("/plans/{id}/consultations/{cid}/answer", post(answer))
        .route("/plans/{id}/amendments", post(amend))
        .route("/plans/{id}/items", post(add_item))
        .route("/plans/{id}/items/{item}/reports", post(report))
}

view! {
    /// An action program or plan (R7.x) with its kept counts. Status and kind are codes.
    PlanView as ActionPlan from Plan {
        id: PlanId,
        org_id: OrgId,
        org_name: String,
        /// program, plan, brief
        kind: String,
        title: String,
        summary: Option<String>,
        responsibility: Option<String>,
        inspection: Option<String>,
        /// The accountable leader (R1.1).
        leader_person_id: i64,
        leader_name: String,
        /// The highest classification of its resolutions (R2.8).
        classification: String,
        /// draft, consultation, approved, issued, interim_review, final_review
        status: String,
        /// standing_committee, executive_committee, cell
        approval_body: Option<String>,
        approved_on: Option<NaiveDate>,
        decision_number: Option<String>,
        /// The plan's own number once issued ("12-KH/ĐU").
        number: Option<String>,
        issued_on: Option<NaiveDate>,
        interim_on: Option<NaiveDate>,
        interim_note: Option<String>,
        final_on: Option<NaiveDate>,
        final_note: Option<String>,
        item_count: i64,
        item_done_count: i64,
        /// The earliest due date of an unfinished item.
        open_due_on: Option<NaiveDate>,
        amendment_count: i64,
    }
}

/// An item of a plan; its state is computed from the dates and the last report.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = PlanItem)]
pub struct ItemView {
    pub id: PlanItemId,
    /// goal, key_task, breakthrough, task
    pub kind: String,
    pub title: String,
    pub lead_org_id: OrgId,
    pub lead_name: String,
    /// The coordinating units' names.
    pub coordinators: String,
    pub resources: Option<String>,
    pub responsible: Option<String>,
    pub starts_on: NaiveDate,
    pub due_on: NaiveDate,
    pub percent: i64,
    pub done_on: Option<NaiveDate>,
    /// not_started, in_progress, done, done_late, overdue
    pub state: String,
    pub report_count: i64,
    pub amendment_id: Option<i64>,
}

impl ItemView {
    fn of(i: Item, today: NaiveDate) -> Self {
        Self {
            state: i.state(today).code().to_string(),
            id: i.id,
            kind: i.kind,
            title: i.title,
            lead_org_id: i.lead_org_id,
            lead_name: i.lead_name,
            coordinators: i.coordinators,
            resources: i.resources,
            responsible: i.responsible,
            starts_on: i.starts_on,
            due_on: i.due_on,
            percent: i.percent,
            done_on: i.done_on,
            report_count: i.report_count,
            amendment_id: i.amendment_id,
        }
    }
}

view! {
    /// An organization asked for its opinion on a draft, and its answer.
    ConsultationView as PlanConsultation from Consultation {
        id: i64,
        round: i64,
        body_name: String,
        asked_on: NaiveDate,
        answered_on: Option<NaiveDate>,
        answer: Option<String>,
    }
}

view! {
    /// A recorded amendment of a passed plan.
    AmendmentView as PlanAmendment from Amendment {
        id: i64,
        number: String,
        decided_on: NaiveDate,
        reason: String,
    }
}

/// A plan with what the caller may see of it.
#[derive(Debug, Serialize, ToSchema)]
pub struct PlanDetail {
    pub plan: PlanView,
    /// Resolution ids and "number — title".
    pub resolutions: Vec<(i64, String)>,
    pub items: Vec<ItemView>,
    /// Only for the owner's side.
    pub consultations: Vec<ConsultationView>,
    pub amendments: Vec<AmendmentView>,
}

/// A page of plans; `next_before` asks for the next.
#[derive(Debug, Serialize, ToSchema)]
pub struct PlanPage {
    pub items: Vec<PlanView>,
    pub next_before: Option<i64>,
}

/// An unfinished item of a running plan that one of the caller's organizations leads or
/// coordinates.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = AssignedPlanItem)]
pub struct AssignedItemView {
    pub item_id: i64,
    pub plan_id: i64,
    pub plan_title: String,
    pub title: String,
    pub org_id: i64,
    pub org_name: String,
    /// The organization leads it (else coordinates).
    pub lead: bool,
    pub due_on: NaiveDate,
    pub percent: i64,
    /// not_started, in_progress, overdue
    pub state: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AssignedItemsPage {
    pub items: Vec<AssignedItemView>,
    pub next_after: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PlanQuery {
    /// A status code.
    status: Option<String>,
    /// Plans owned by this organization.
    org_id: Option<i64>,
    /// Plans with an item this organization leads.
    lead_org_id: Option<i64>,
    leader_person_id: Option<i64>,
    /// Only plans with an unfinished item past its due date.
    overdue: Option<bool>,
    /// The last plan id of the page before.
    before: Option<i64>,
}

const PER_PAGE: i64 = 50;

/// Plans owned in the caller's subtree, newest first (classified ones only for the cleared).
#[utoipa::path(get, path = "/api/v1/plans", operation_id = "list_plans", tag = "plans", params(PlanQuery),
    responses((status = 200, body = PlanPage), (status = 422, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn list(
    State(st): State<AppState>,
    user: CurrentUser,
    Query(q): Query<PlanQuery>,
) -> AppResult<Json<PlanPage>> {
    let status = match q.status.as_deref().filter(|s| !s.is_empty()) {
        Some(s) => Some(PlanStatus::parse(s).map_err(|e| AppError::Rule(e.into()))?),
        None => None,
    };
    let f = PlanFilter {
        status,
        org: q.org_id.map(OrgId),
        lead_org: q.lead_org_id.map(OrgId),
        leader: q.leader_person_id,
        overdue: q.overdue.unwrap_or(false),
    };
    let (rows, next) =
        plans::list(&st.db, user.scope(), &f, q.before.map(PlanId), PER_PAGE).await?;
    Ok(Json(PlanPage {
        items: rows.into_iter().map(Into::into).collect(),
        next_before: next.map(|p| p.0),
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AssignedQuery {
    /// `next_after` of the page before.
    after: Option<String>,
}

/// Unfinished items of running plans led or coordinated by organizations where the caller is
/// secretary or above, by due date ("Việc của đơn vị").
#[utoipa::path(get, path = "/api/v1/plans/items/assigned", operation_id = "assigned_plan_items", tag = "plans", params(AssignedQuery),
    responses((status = 200, body = AssignedItemsPage), (status = 401, body = ErrorBody)))]
pub async fn assigned(
    State(st): State<AppState>,
    user: CurrentUser,
    Query(q): Query<AssignedQuery>,
) -> AppResult<Json<AssignedItemsPage>> {
    let (rows, next_after) =
        plans::assigned(&st.db, user.scope(), q.after.as_deref(), PER_PAGE).await?;
    let today = today();
    Ok(Json(AssignedItemsPage {
        items: rows
            .into_iter()
            .map(|a| AssignedItemView {
                state: a.state(today).code().to_string(),
                item_id: a.item_id,
                plan_id: a.plan_id,
                plan_title: a.plan_title,
                title: a.title,
                org_id: a.org_id,
                org_name: a.org_name,
                lead: a.lead,
                due_on: a.due_on,
                percent: a.percent,
            })
            .collect(),
        next_after,
    }))
}

/// A plan's heading. Dates as yyyy-mm-dd or dd/mm/yyyy.
#[derive(Debug, Deserialize, ToSchema)]
pub struct PlanBody {
    /// The owning organization (create only): the caller organizes there.
    pub org_id: Option<i64>,
    /// program, plan, brief
    pub kind: String,
    pub title: String,
    pub summary: Option<String>,
    /// A person of the owning organization's subtree.
    pub leader_person_id: i64,
    /// 1 to 20 resolutions the caller may see.
    pub resolution_ids: Vec<i64>,
    /// Absent: the province's template text (create) or empty (update).
    pub responsibility: Option<String>,
    pub inspection: Option<String>,
    /// Update of a passed plan: the amendment that makes the change.
    pub amendment_id: Option<i64>,
}

impl PlanBody {
    fn input(&self, template: Option<&domain::org::settings::PlanTemplate>) -> PlanInput {
        PlanInput {
            kind: self.kind.clone(),
            title: self.title.clone(),
            summary: self.summary.clone().unwrap_or_default(),
            leader_person_id: self.leader_person_id.to_string(),
            resolution_ids: self.resolution_ids.iter().map(i64::to_string).collect(),
            responsibility: self
                .responsibility
                .clone()
                .or_else(|| template.map(|t| t.responsibility.clone()))
                .unwrap_or_default(),
            inspection: self
                .inspection
                .clone()
                .or_else(|| template.map(|t| t.inspection.clone()))
                .unwrap_or_default(),
        }
    }
}

/// Writes a draft plan (R7.1); audited.
#[utoipa::path(post, path = "/api/v1/plans", operation_id = "create_plan", tag = "plans", request_body = PlanBody,
    responses((status = 201, body = PlanView), (status = 422, body = ErrorBody), (status = 404, body = ErrorBody), (status = 403, body = ErrorBody), (status = 401, body = ErrorBody), (status = 400, body = ErrorBody)))]
pub async fn create(
    State(st): State<AppState>,
    user: CurrentUser,
    ApiJson(b): ApiJson<PlanBody>,
) -> AppResult<(StatusCode, Json<PlanView>)> {
    let org = OrgId(
        b.org_id
            .ok_or_else(|| AppError::BadRequest("org_id: chọn tổ chức ban hành.".into()))?,
    );
    let settings = store::settings::of_org(&st.db, org).await?;
    let new = b.input(Some(&settings.plan_template)).validate()?;
    let id = plans::create(&st.db, user.scope(), org, &new).await?;
    Ok((
        StatusCode::CREATED,
        Json(plans::get(&st.db, user.scope(), id).await?.into()),
    ))
}

/// A plan with its resolutions, the items the caller may see, its consultations (owner's side)
/// and amendments.
#[utoipa::path(get, path = "/api/v1/plans/{id}", operation_id = "get_plan", tag = "plans", params(("id" = i64, Path, description = "plan id")),
    responses((status = 200, body = PlanDetail), (status = 404, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn detail(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> AppResult<Json<PlanDetail>> {
    let scope = user.scope();
    let p = plans::get(&st.db, scope, PlanId(id)).await?;
    let today = today();
    let items = plans::items(&st.db, scope, &p)
        .await?
        .into_iter()
        .map(|i| ItemView::of(i, today))
        .collect();
    let consultations = if plans::owner_side(&st.db, scope, &p).await? {
        plans::consultations(&st.db, p.id).await?
    } else {
        vec![]
    };
    Ok(Json(PlanDetail {
        resolutions: plans::resolutions(&st.db, scope, p.id).await?,
        items,
        consultations: consultations.into_iter().map(Into::into).collect(),
        amendments: plans::amendments(&st.db, p.id)
            .await?
            .into_iter()
            .map(Into::into)
            .collect(),
        plan: p.into(),
    }))
}

/// Rewrites a plan's heading: freely before approval, afterwards only with `amendment_id`.
#[utoipa::path(put, path = "/api/v1/plans/{id}", operation_id = "update_plan", tag = "plans", params(("id" = i64, Path, description = "plan id")), request_body = PlanBody,
    responses((status = 200, body = PlanDetail), (status = 422, body = ErrorBody), (status = 404, body = ErrorBody), (status = 403, body = ErrorBody), (status = 401, body = ErrorBody), (status = 400, body = ErrorBody)))]
pub async fn update(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<PlanBody>,
) -> AppResult<Json<PlanDetail>> {
    let p = plans::get(&st.db, user.scope(), PlanId(id)).await?;
    let new = b.input(None).validate()?;
    plans::update(&st.db, user.scope(), &p, &new, b.amendment_id).await?;
    detail(State(st), user, Path(id)).await
}

/// A step of the lifecycle (R1.2, R7.2).
#[derive(Debug, Deserialize, ToSchema)]
pub struct StepBody {
    /// consult, approve, issue, interim_review, final_review
    pub step: String,
    /// consult: the organizations asked.
    pub consulted: Option<Vec<String>>,
    /// approve: standing_committee, executive_committee, cell
    pub approval_body: Option<String>,
    /// The date of the meeting, issue or review; absent: today.
    pub on: Option<String>,
    /// approve: the decision's number; issue: the plan's number ("12-KH/ĐU").
    pub number: Option<String>,
    /// Reviews: what the review found.
    pub note: Option<String>,
}

/// Takes a plan one step along its lifecycle; issuing without approval is refused
/// (`plan_not_approved`). Audited old → new.
#[utoipa::path(post, path = "/api/v1/plans/{id}/steps", operation_id = "plan_step", tag = "plans", params(("id" = i64, Path, description = "plan id")), request_body = StepBody,
    responses((status = 200, body = PlanView), (status = 422, body = ErrorBody), (status = 404, body = ErrorBody), (status = 403, body = ErrorBody), (status = 401, body = ErrorBody), (status = 400, body = ErrorBody)))]
pub async fn step(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<StepBody>,
) -> AppResult<Json<PlanView>> {
    let p = plans::get(&st.db, user.scope(), PlanId(id)).await?;
    let s = StepInput {
        step: b.step,
        consulted: b.consulted.unwrap_or_default().join("\n"),
        approval_body: b.approval_body.unwrap_or_default(),
        on: b.on.unwrap_or_default(),
        number: b.number.unwrap_or_default(),
        note: b.note.unwrap_or_default(),
    }
    .validate(today())?;
    plans::step(&st.db, user.scope(), &p, &s).await?;
    Ok(Json(plans::get(&st.db, user.scope(), p.id).await?.into()))
}

/// The answer of a consulted organization.
#[derive(Debug, Deserialize, ToSchema)]
pub struct AnswerBody {
    /// Absent: today.
    pub answered_on: Option<String>,
    pub answer: String,
}

/// Records a consulted organization's answer, once.
#[utoipa::path(post, path = "/api/v1/plans/{id}/consultations/{cid}/answer", operation_id = "answer_plan_consultation", tag = "plans",
    params(("id" = i64, Path, description = "plan id"), ("cid" = i64, Path, description = "consultation id")), request_body = AnswerBody,
    responses((status = 200, body = PlanDetail), (status = 422, body = ErrorBody), (status = 404, body = ErrorBody), (status = 403, body = ErrorBody), (status = 401, body = ErrorBody), (status = 400, body = ErrorBody)))]
pub async fn answer(
    State(st): State<AppState>,
    user: CurrentUser,
    Path((id, cid)): Path<(i64, i64)>,
    ApiJson(b): ApiJson<AnswerBody>,
) -> AppResult<Json<PlanDetail>> {
    let p = plans::get(&st.db, user.scope(), PlanId(id)).await?;
    if !plans::owner_side(&st.db, user.scope(), &p).await? {
        return Err(AppError::NotFound);
    }
    let asked = plans::consultations(&st.db, p.id)
        .await?
        .into_iter()
        .find(|c| c.id == cid)
        .ok_or(AppError::NotFound)?;
    let (on, text) = AnswerInput {
        answered_on: b.answered_on.unwrap_or_default(),
        answer: b.answer,
    }
    .validate(today(), asked.asked_on)?;
    plans::answer(&st.db, user.scope(), &p, cid, on, &text).await?;
    detail(State(st), user, Path(id)).await
}

/// An amendment of a passed plan.
#[derive(Debug, Deserialize, ToSchema)]
pub struct AmendmentBody {
    /// "15-KH/ĐU"
    pub number: String,
    pub decided_on: String,
    pub reason: String,
}

/// Records an amendment of a passed plan (needed for any later change); audited.
#[utoipa::path(post, path = "/api/v1/plans/{id}/amendments", operation_id = "amend_plan", tag = "plans", params(("id" = i64, Path, description = "plan id")), request_body = AmendmentBody,
    responses((status = 201, body = AmendmentView), (status = 422, body = ErrorBody), (status = 404, body = ErrorBody), (status = 403, body = ErrorBody), (status = 401, body = ErrorBody), (status = 400, body = ErrorBody)))]
pub async fn amend(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<AmendmentBody>,
) -> AppResult<(StatusCode, Json<AmendmentView>)> {
    let p = plans::get(&st.db, user.scope(), PlanId(id)).await?;
    let a = AmendmentInput {
        number: b.number,
        decided_on: b.decided_on,
        reason: b.reason,
    }
    .validate(today())?;
    let aid = plans::amend(&st.db, user.scope(), &p, &a).await?;
    let made = plans::amendments(&st.db, p.id)
        .await?
        .into_iter()
        .find(|x| x.id == aid)
        .ok_or(AppError::NotFound)?;
    Ok((StatusCode::CREATED, Json(made.into())))
}

/// One unit of an item.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ItemUnitBody {
    pub org_id: i64,
    /// lead (exactly one) or coordinate
    pub role: String,
}

/// An item of a plan (R7.3).
#[derive(Debug, Deserialize, ToSchema)]
pub struct ItemBody {
    /// goal, key_task, breakthrough, task
    pub kind: String,
    pub title: String,
    /// Exactly one `lead`; any number `coordinate`; all in the owner's subtree.
    pub units: Vec<ItemUnitBody>,
    pub resources: Option<String>,
    pub responsible: Option<String>,
    pub starts_on: String,
    pub due_on: String,
    /// For a passed plan: the amendment that adds it.
    pub amendment_id: Option<i64>,
}

/// Adds an item; a second lead, a due date before the start or a unit outside the owner's
/// subtree is refused with nothing written.
#[utoipa::path(post, path = "/api/v1/plans/{id}/items", operation_id = "add_plan_item", tag = "plans", params(("id" = i64, Path, description = "plan id")), request_body = ItemBody,
    responses((status = 201, body = ItemView), (status = 422, body = ErrorBody), (status = 404, body = ErrorBody), (status = 403, body = ErrorBody), (status = 401, body = ErrorBody), (status = 400, body = ErrorBody)))]
pub async fn add_item(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<ItemBody>,
) -> AppResult<(StatusCode, Json<ItemView>)> {
    let p = plans::get(&st.db, user.scope(), PlanId(id)).await?;
    let mut lead = Vec::new();
    let mut coords = Vec::new();
    for u in &b.units {
        match u.role.as_str() {
            "lead" => lead.push(u.org_id.to_string()),
            "coordinate" => coords.push(u.org_id.to_string()),
            _ => {
                let mut e = domain::FieldErrors::new();
                e.add("units", domain::RuleError::InvalidChoice);
                return Err(AppError::Validation(e));
            }
        }
    }
    let it = ItemInput {
        kind: b.kind,
        title: b.title,
        lead_org_id: lead,
        coordinating_org_ids: coords,
        resources: b.resources.unwrap_or_default(),
        responsible: b.responsible.unwrap_or_default(),
        starts_on: b.starts_on,
        due_on: b.due_on,
        amendment_id: b.amendment_id.map(|a| a.to_string()).unwrap_or_default(),
    }
    .validate()?;
    let item = plans::add_item(&st.db, user.scope(), &p, &it).await?;
    let p = plans::get(&st.db, user.scope(), p.id).await?;
    let made = plans::item(&st.db, user.scope(), &p, item).await?;
    Ok((StatusCode::CREATED, Json(ItemView::of(made, today()))))
}

/// A progress report by the lead unit (evidence files go through the page's form).
#[derive(Debug, Deserialize, ToSchema)]
pub struct ProgressBody {
    /// 0 to 100; 100 is done.
    pub percent: i64,
    /// Absent: today.
    pub reported_on: Option<String>,
    pub note: Option<String>,
}

/// Reports progress on an item: only its lead unit's secretary or above, only while the plan is
/// issued and not finally reviewed. Audited.
#[utoipa::path(post, path = "/api/v1/plans/{id}/items/{item}/reports", operation_id = "report_plan_item", tag = "plans",
    params(("id" = i64, Path, description = "plan id"), ("item" = i64, Path, description = "item id")), request_body = ProgressBody,
    responses((status = 200, body = ItemView), (status = 422, body = ErrorBody), (status = 404, body = ErrorBody), (status = 403, body = ErrorBody), (status = 401, body = ErrorBody), (status = 400, body = ErrorBody)))]
pub async fn report(
    State(st): State<AppState>,
    user: CurrentUser,
    Path((id, item)): Path<(i64, i64)>,
    ApiJson(b): ApiJson<ProgressBody>,
) -> AppResult<Json<ItemView>> {
    let scope = user.scope();
    let p = plans::get(&st.db, scope, PlanId(id)).await?;
    let it = plans::item(&st.db, scope, &p, PlanItemId(item)).await?;
    let r = ProgressInput {
        percent: b.percent.to_string(),
        reported_on: b.reported_on.unwrap_or_default(),
        note: b.note.unwrap_or_default(),
    }
    .validate(today(), p.issued_on.unwrap_or(NaiveDate::MIN))?;
    plans::report(&st.db, scope, &p, &it, &r, None).await?;
    let p = plans::get(&st.db, scope, p.id).await?;
    let made = plans::item(&st.db, scope, &p, it.id).await?;
    Ok(Json(ItemView::of(made, today())))
}
