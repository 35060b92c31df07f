//! `/api/v1/tasks`: cascaded tasks (R8.1, issue 14.5) — the same store calls and rules as the
//! pages of `web/src/plans`.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::NaiveDate;
use domain::ids::{OrgId, TaskId};
use domain::plans::tasks::{ReportInput, TaskInput};
use serde::{Deserialize, Serialize};
use store::plans::tasks::{self, Target, Task};
use utoipa::{IntoParams, ToSchema};

use super::{views, ApiJson};
use crate::app::AppState;
use crate::auth::CurrentUser;
use crate::error::{AppResult, ErrorBody};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/tasks", get(sent).post(create))
        .route("/tasks/assigned", get(assigned))
        .route("/tasks/{id}", get(detail))
        .route("/tasks/{id}/reports", post(report))
}

view! {
    /// A task sent down the tree (R8.1), with its kept counts.
    TaskView as Task from Task {
        id: TaskId,
        /// The sending organization.
        org_id: OrgId,
        org_name: String,
        /// The task this one passes down, if it does.
        parent_task_id: Option<i64>,
        title: String,
        body: Option<String>,
        due_on: NaiveDate,
        sent_on: NaiveDate,
        target_count: i64,
        done_count: i64,
    }
}

/// One organization a task was sent to: its state is computed from the dates.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = TaskTarget)]
pub struct TargetView {
    pub org_id: OrgId,
    pub org_name: String,
    pub due_on: NaiveDate,
    pub done_on: Option<NaiveDate>,
    /// done, done_late, open, overdue
    pub state: String,
    pub people_reached: Option<i64>,
    pub note: Option<String>,
    /// The task it passed down to its own subordinates, and their progress.
    pub passed_task_id: Option<i64>,
    pub passed_targets: Option<i64>,
    pub passed_done: Option<i64>,
}

impl TargetView {
    fn of(t: Target, today: NaiveDate) -> Self {
        Self {
            state: t.state(today).code().to_string(),
            org_id: t.org_id,
            org_name: t.org_name,
            due_on: t.due_on,
            done_on: t.done_on,
            people_reached: t.people_reached,
            note: t.note,
            passed_task_id: t.passed_task_id,
            passed_targets: t.passed_targets,
            passed_done: t.passed_done,
        }
    }
}

/// A task addressed to one of the caller's organizations.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = AssignedTask)]
pub struct AssignedView {
    pub task_id: TaskId,
    pub title: String,
    pub sender_name: String,
    pub org_id: OrgId,
    pub org_name: String,
    pub due_on: NaiveDate,
    /// open or overdue
    pub state: String,
}

/// A page of tasks sent; `next_before` asks for the next.
#[derive(Debug, Serialize, ToSchema)]
pub struct SentPage {
    pub items: Vec<TaskView>,
    pub next_before: Option<i64>,
}

/// A page of open tasks addressed to the caller's organizations, by due date.
#[derive(Debug, Serialize, ToSchema)]
pub struct AssignedPage {
    pub items: Vec<AssignedView>,
    pub next_after: Option<String>,
}

/// A task and the targets the caller may see.
#[derive(Debug, Serialize, ToSchema)]
pub struct TaskDetail {
    pub task: TaskView,
    pub targets: Vec<TargetView>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SentQuery {
    /// The last task id of the page before.
    before: Option<i64>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AssignedQuery {
    /// `next_after` of the page before.
    after: Option<String>,
}

/// Rows per page of the lists.
const PER_PAGE: i64 = 50;

/// Tasks sent by organizations in the caller's subtree, latest deadline first.
#[utoipa::path(get, path = "/api/v1/tasks", tag = "plans", params(SentQuery),
    responses((status = 200, body = SentPage), (status = 401, body = ErrorBody)))]
pub async fn sent(
    State(st): State<AppState>,
    user: CurrentUser,
    Query(q): Query<SentQuery>,
) -> AppResult<Json<SentPage>> {
    let (rows, next) = tasks::sent(&st.db, user.scope(), q.before.map(TaskId), PER_PAGE).await?;
    Ok(Json(SentPage {
        items: views(rows),
        next_before: next.map(|t| t.0),
    }))
}

/// Open tasks addressed to organizations where the caller is secretary or above, by due date
/// ("Việc của đơn vị").
#[utoipa::path(get, path = "/api/v1/tasks/assigned", tag = "plans", params(AssignedQuery),
    responses((status = 200, body = AssignedPage), (status = 401, body = ErrorBody)))]
pub async fn assigned(
    State(st): State<AppState>,
    user: CurrentUser,
    Query(q): Query<AssignedQuery>,
) -> AppResult<Json<AssignedPage>> {
    let (rows, next_after) =
        tasks::assigned(&st.db, user.scope(), q.after.as_deref(), PER_PAGE).await?;
    let today = tasks::today();
    Ok(Json(AssignedPage {
        items: rows
            .into_iter()
            .map(|a| AssignedView {
                state: a.state(today).code().to_string(),
                task_id: a.task_id,
                title: a.title,
                sender_name: a.sender_name,
                org_id: a.org_id,
                org_name: a.org_name,
                due_on: a.due_on,
            })
            .collect(),
        next_after,
    }))
}

/// A task to send (or to pass down, with `parent_task_id`). Dates as yyyy-mm-dd or dd/mm/yyyy.
#[derive(Debug, Deserialize, ToSchema)]
pub struct TaskBody {
    /// The sending organization: the caller is its organizer or admin.
    pub from_org_id: i64,
    /// Passing down a task the sending organization received.
    pub parent_task_id: Option<i64>,
    pub title: String,
    pub body: Option<String>,
    pub due_on: String,
    /// Subordinates of the sending organization (at most 5,000).
    pub target_org_ids: Vec<i64>,
}

/// Sends a task to subordinate organizations (R8.1); audited; the targets are notified.
#[utoipa::path(post, path = "/api/v1/tasks", tag = "plans", request_body = TaskBody,
    responses((status = 201, body = TaskView), (status = 422, body = ErrorBody), (status = 404, body = ErrorBody), (status = 403, body = ErrorBody), (status = 401, body = ErrorBody), (status = 400, body = ErrorBody)))]
pub async fn create(
    State(st): State<AppState>,
    user: CurrentUser,
    ApiJson(b): ApiJson<TaskBody>,
) -> AppResult<(StatusCode, Json<TaskView>)> {
    let new = TaskInput {
        title: b.title,
        body: b.body.unwrap_or_default(),
        due_on: b.due_on,
        target_org_ids: b.target_org_ids.iter().map(i64::to_string).collect(),
    }
    .validate(tasks::today())?;
    let id = tasks::create(
        &st.db,
        user.scope(),
        OrgId(b.from_org_id),
        b.parent_task_id.map(TaskId),
        &new,
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(tasks::get(&st.db, user.scope(), id).await?.into()),
    ))
}

/// A task with the targets the caller may see (all of them on the sender's side).
#[utoipa::path(get, path = "/api/v1/tasks/{id}", tag = "plans", params(("id" = i64, Path, description = "task id")),
    responses((status = 200, body = TaskDetail), (status = 404, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn detail(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> AppResult<Json<TaskDetail>> {
    let task = tasks::get(&st.db, user.scope(), TaskId(id)).await?;
    let today = tasks::today();
    let targets = tasks::targets(&st.db, user.scope(), &task)
        .await?
        .into_iter()
        .map(|t| TargetView::of(t, today))
        .collect();
    Ok(Json(TaskDetail {
        task: task.into(),
        targets,
    }))
}

/// A report of completion by one target (its secretary or above); once.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ReportBody {
    pub org_id: i64,
    /// Empty or absent: today.
    pub done_on: Option<String>,
    pub people_reached: Option<i64>,
    pub note: Option<String>,
}

/// Reports that a target organization has done the task (R8.1); audited.
#[utoipa::path(post, path = "/api/v1/tasks/{id}/reports", tag = "plans", params(("id" = i64, Path, description = "task id")), request_body = ReportBody,
    responses((status = 200, body = TaskDetail), (status = 422, body = ErrorBody), (status = 404, body = ErrorBody), (status = 403, body = ErrorBody), (status = 401, body = ErrorBody), (status = 400, body = ErrorBody)))]
pub async fn report(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<ReportBody>,
) -> AppResult<Json<TaskDetail>> {
    let task = tasks::get(&st.db, user.scope(), TaskId(id)).await?;
    let r = ReportInput {
        done_on: b.done_on.unwrap_or_default(),
        people_reached: b.people_reached.map(|n| n.to_string()).unwrap_or_default(),
        note: b.note.unwrap_or_default(),
    }
    .validate(tasks::today(), task.sent_on)?;
    tasks::report(&st.db, user.scope(), &task, OrgId(b.org_id), &r, None).await?;
    detail(State(st), user, Path(id)).await
}
