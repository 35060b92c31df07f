//! `/api/v1/working-groups`: working groups, their assignments and evaluations (R3.2) — the
//! same store calls and rules as the pages of `web/src/oversight`.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post, put};
use axum::{Json, Router};
use chrono::{DateTime, NaiveDate, Utc};
use domain::ids::{ClassId, OrgId, SupervisionId, WorkingGroupId};
use domain::oversight::{AssignmentInput, EvaluationInput, GroupInput};
use serde::{Deserialize, Serialize};
use store::oversight::{self, Group, Member, Supervision};
use utoipa::{IntoParams, ToSchema};

use super::{views, ApiJson};
use crate::app::AppState;
use crate::auth::CurrentUser;
use crate::error::{AppResult, ErrorBody};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/working-groups", get(list).post(create))
        .route("/working-groups/{id}", get(detail).put(update))
        .route("/working-groups/{id}/assignments", post(assign))
        .route(
            "/working-groups/{id}/classes/{class_id}/evaluation",
            put(evaluate),
        )
        .route("/orgs/{id}/supervisions", get(of_org))
}

view! {
    /// A working group (R3.2) with its kept counts.
    WorkingGroupView as WorkingGroup from Group {
        id: WorkingGroupId,
        /// The organization that formed it.
        org_id: i64,
        org_name: String,
        name: String,
        assignment_count: i64,
        evaluated_count: i64,
        created_at: DateTime<Utc>,
    }
}

view! {
    /// A member of a working group.
    WorkingGroupMemberView as WorkingGroupMember from Member {
        person_id: i64,
        full_name: String,
        leads: bool,
    }
}

view! {
    /// A group's assignment to a class and its evaluation once filed.
    SupervisionView as Supervision from Supervision {
        id: SupervisionId,
        group_id: i64,
        group_name: String,
        class_id: i64,
        class_title: String,
        org_id: i64,
        org_name: String,
        due_on: NaiveDate,
        chair_present: Option<bool>,
        standing_opened: Option<bool>,
        standing_closed: Option<bool>,
        discussion_minutes: Option<i64>,
        /// From the class's attendance when the evaluation was filed.
        attendance_percent: Option<i64>,
        materials_fit: Option<bool>,
        /// good, fair, pass, fail
        grade: Option<String>,
        remarks: Option<String>,
        surveyed: Option<i64>,
        understood_well: Option<i64>,
        understood_partly: Option<i64>,
        understood_poorly: Option<i64>,
        evaluated_at: Option<DateTime<Utc>>,
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BeforeQuery {
    /// `next_before` of the page before.
    before: Option<i64>,
}

/// A page of groups, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct WorkingGroupPage {
    pub items: Vec<WorkingGroupView>,
    pub next_before: Option<i64>,
}

/// Groups formed in the caller's subtree and those the caller sits on.
#[utoipa::path(operation_id = "oversight_list", get, path = "/api/v1/working-groups", tag = "oversight", params(BeforeQuery),
    responses((status = 200, body = WorkingGroupPage), (status = 401, body = ErrorBody)))]
pub async fn list(
    State(st): State<AppState>,
    user: CurrentUser,
    Query(q): Query<BeforeQuery>,
) -> AppResult<Json<WorkingGroupPage>> {
    let (rows, next) = oversight::list(&st.db, user.scope(), q.before).await?;
    Ok(Json(WorkingGroupPage {
        items: views(rows),
        next_before: next,
    }))
}

/// A working group to form.
#[derive(Debug, Deserialize, ToSchema)]
pub struct GroupBody {
    /// The forming organization (the caller organizes it).
    pub org_id: i64,
    pub name: String,
    /// 2 or 3 people holding a propaganda or advisory position in the organization.
    pub member_ids: Vec<i64>,
    /// One of the members.
    pub lead_id: i64,
}

/// A group with its members and assignments.
#[derive(Debug, Serialize, ToSchema)]
pub struct WorkingGroupDetail {
    pub group: WorkingGroupView,
    pub members: Vec<WorkingGroupMemberView>,
    pub assignments: Vec<SupervisionView>,
}

async fn detail_of(
    st: &AppState,
    user: &CurrentUser,
    id: WorkingGroupId,
) -> AppResult<WorkingGroupDetail> {
    let g = oversight::get(&st.db, user.scope(), id).await?;
    let members = oversight::members(&st.db, &g).await?;
    let assignments = oversight::assignments(&st.db, &g).await?;
    Ok(WorkingGroupDetail {
        group: g.into(),
        members: views(members),
        assignments: views(assignments),
    })
}

/// Forms a working group (R3.2): 2 or 3 members, refused otherwise; audited.
#[utoipa::path(operation_id = "oversight_create", post, path = "/api/v1/working-groups", tag = "oversight", request_body = GroupBody,
    responses((status = 201, body = WorkingGroupDetail), (status = 422, body = ErrorBody), (status = 404, body = ErrorBody), (status = 403, body = ErrorBody), (status = 401, body = ErrorBody), (status = 400, body = ErrorBody)))]
pub async fn create(
    State(st): State<AppState>,
    user: CurrentUser,
    ApiJson(b): ApiJson<GroupBody>,
) -> AppResult<(StatusCode, Json<WorkingGroupDetail>)> {
    let new = GroupInput {
        name: b.name,
        member_ids: b.member_ids.iter().map(|p| p.to_string()).collect(),
        lead_id: b.lead_id.to_string(),
    }
    .validate()?;
    let id = oversight::create(&st.db, user.scope(), OrgId(b.org_id), &new).await?;
    Ok((StatusCode::CREATED, Json(detail_of(&st, &user, id).await?)))
}

/// A group the caller sees (a member, or a reader of the forming organization).
#[utoipa::path(operation_id = "oversight_detail", get, path = "/api/v1/working-groups/{id}", tag = "oversight", params(("id" = i64, Path, description = "group id")),
    responses((status = 200, body = WorkingGroupDetail), (status = 404, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn detail(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> AppResult<Json<WorkingGroupDetail>> {
    Ok(Json(detail_of(&st, &user, WorkingGroupId(id)).await?))
}

/// A group's new name and members.
#[derive(Debug, Deserialize, ToSchema)]
pub struct GroupUpdateBody {
    pub name: String,
    /// 2 or 3 people holding a propaganda or advisory position in the forming organization.
    pub member_ids: Vec<i64>,
    /// One of the members.
    pub lead_id: i64,
}

/// Renames a group and replaces its members (the forming organization's organizer); its
/// assignments and evaluations stay; audited.
#[utoipa::path(operation_id = "oversight_update", put, path = "/api/v1/working-groups/{id}", tag = "oversight", params(("id" = i64, Path, description = "group id")), request_body = GroupUpdateBody,
    responses((status = 200, body = WorkingGroupDetail), (status = 422, body = ErrorBody), (status = 404, body = ErrorBody), (status = 403, body = ErrorBody), (status = 401, body = ErrorBody), (status = 400, body = ErrorBody)))]
pub async fn update(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<GroupUpdateBody>,
) -> AppResult<Json<WorkingGroupDetail>> {
    let g = oversight::get(&st.db, user.scope(), WorkingGroupId(id)).await?;
    let new = GroupInput {
        name: b.name,
        member_ids: b.member_ids.iter().map(|p| p.to_string()).collect(),
        lead_id: b.lead_id.to_string(),
    }
    .validate()?;
    oversight::update(&st.db, user.scope(), &g, &new).await?;
    Ok(Json(detail_of(&st, &user, WorkingGroupId(id)).await?))
}

/// An assignment to a class.
#[derive(Debug, Deserialize, ToSchema)]
pub struct AssignmentBody {
    pub class_id: i64,
    /// When the evaluation is due (yyyy-mm-dd or dd/mm/yyyy).
    pub due_on: String,
}

/// Assigns the group to a class of an organization below the one that formed it.
#[utoipa::path(operation_id = "oversight_assign", post, path = "/api/v1/working-groups/{id}/assignments", tag = "oversight", params(("id" = i64, Path, description = "group id")), request_body = AssignmentBody,
    responses((status = 201, body = SupervisionView), (status = 422, body = ErrorBody), (status = 409, body = ErrorBody), (status = 404, body = ErrorBody), (status = 403, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn assign(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<AssignmentBody>,
) -> AppResult<(StatusCode, Json<SupervisionView>)> {
    let scope = user.scope();
    let g = oversight::get(&st.db, scope, WorkingGroupId(id)).await?;
    let new = AssignmentInput {
        class_id: b.class_id.to_string(),
        due_on: b.due_on,
    }
    .validate()?;
    let sid = oversight::assign(&st.db, scope, &g, &new).await?;
    let (_, s) = oversight::supervision(&st.db, scope, sid).await?;
    Ok((StatusCode::CREATED, Json(s.into())))
}

/// A group's evaluation of a class (R3.2); the attendance rate is taken from the class.
#[derive(Debug, Deserialize, ToSchema)]
pub struct EvaluationBody {
    #[serde(default)]
    pub chair_present: bool,
    #[serde(default)]
    pub standing_opened: bool,
    #[serde(default)]
    pub standing_closed: bool,
    pub discussion_minutes: i64,
    #[serde(default)]
    pub materials_fit: bool,
    /// good, fair, pass, fail
    pub grade: String,
    pub remarks: Option<String>,
    /// The fixed awareness survey, from paper (all four or none).
    pub surveyed: Option<i64>,
    pub understood_well: Option<i64>,
    pub understood_partly: Option<i64>,
    pub understood_poorly: Option<i64>,
}

fn text(n: Option<i64>) -> String {
    n.map(|v| v.to_string()).unwrap_or_default()
}

/// Files (or corrects) the group's evaluation of a class it is assigned to; refused for any
/// other class (`not_assigned`). A member of the group or an organizer of the forming
/// organization; audited.
#[utoipa::path(operation_id = "oversight_evaluate", put, path = "/api/v1/working-groups/{id}/classes/{class_id}/evaluation", tag = "oversight",
    params(("id" = i64, Path, description = "group id"), ("class_id" = i64, Path, description = "class id")), request_body = EvaluationBody,
    responses((status = 200, body = SupervisionView), (status = 422, body = ErrorBody), (status = 404, body = ErrorBody), (status = 403, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn evaluate(
    State(st): State<AppState>,
    user: CurrentUser,
    Path((id, class_id)): Path<(i64, i64)>,
    ApiJson(b): ApiJson<EvaluationBody>,
) -> AppResult<Json<SupervisionView>> {
    let scope = user.scope();
    let s = oversight::assignment(&st.db, scope, WorkingGroupId(id), ClassId(class_id)).await?;
    let e = EvaluationInput {
        chair_present: b.chair_present,
        standing_opened: b.standing_opened,
        standing_closed: b.standing_closed,
        discussion_minutes: b.discussion_minutes.to_string(),
        materials_fit: b.materials_fit,
        grade: b.grade,
        remarks: b.remarks.unwrap_or_default(),
        surveyed: text(b.surveyed),
        understood_well: text(b.understood_well),
        understood_partly: text(b.understood_partly),
        understood_poorly: text(b.understood_poorly),
    }
    .validate()?;
    let g = oversight::get(&st.db, scope, WorkingGroupId(id)).await?;
    oversight::evaluate(&st.db, scope, &g, &s, &e).await?;
    let (_, s) = oversight::supervision(&st.db, scope, s.id).await?;
    Ok(Json(s.into()))
}

/// A page of supervised classes, newest assignment first.
#[derive(Debug, Serialize, ToSchema)]
pub struct SupervisionPage {
    pub items: Vec<SupervisionView>,
    pub next_before: Option<i64>,
}

/// The supervised classes of an organization's subtree and their grades (R3.2).
#[utoipa::path(operation_id = "oversight_of_org", get, path = "/api/v1/orgs/{id}/supervisions", tag = "oversight", params(("id" = i64, Path, description = "organization id"), BeforeQuery),
    responses((status = 200, body = SupervisionPage), (status = 404, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn of_org(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Query(q): Query<BeforeQuery>,
) -> AppResult<Json<SupervisionPage>> {
    let (rows, next) = oversight::of_org(&st.db, user.scope(), OrgId(id), q.before).await?;
    Ok(Json(SupervisionPage {
        items: views(rows),
        next_before: next,
    }))
}
