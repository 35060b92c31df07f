//! "Việc của đơn vị" and the tasks sent down the tree (R8.1, issue 14.5): the list of open tasks
//! addressed to my organizations by due date and of the tasks my subtree sent; a task's roll-up
//! (who is done, late, overdue, the percent, and how far those who passed it down have got); the
//! form that sends a task or passes one down; the report of completion.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use chrono::NaiveDate;
use domain::ids::{OrgId, TaskId};
use domain::plans::action_plans::ItemState;
use domain::plans::tasks::{ReportInput, TargetState, TaskInput};
use domain::FieldErrors;
use serde::Deserialize;
use store::org::{self, Org};
use store::plans::tasks::{self, Assigned, Target, Task};
use store::{Scope, StoreError};

use crate::app::AppState;
use crate::auth::CsrfForm;
use crate::error::{AppError, AppResult};
use crate::pages::{Ctx, PageCtx};
use crate::reads::Reads;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/tasks", get(list).post(create))
        .route("/tasks/new", get(new))
        .route("/tasks/{id}", get(detail))
        .route(
            "/tasks/{id}/report",
            get(report_form)
                .post(report)
                .layer(axum::extract::DefaultBodyLimit::max(
                    domain::plans::action_plans::EVIDENCE_MAX_BYTES + 64 * 1024,
                )),
        )
        .route("/tasks/{id}/file", get(evidence))
}

/// Rows per page of the two lists.
const PER_PAGE: i64 = 50;

#[derive(Template)]
#[template(path = "plans/tasks.html")]
struct ListPage {
    ctx: PageCtx,
    today: NaiveDate,
    assigned: Vec<Assigned>,
    next_after: Option<String>,
    sent: Vec<Task>,
    next_before: Option<i64>,
    /// Items of running plans my organizations lead or coordinate, by due date (issue 14.6).
    items: Vec<store::plans::action_plans::AssignedItem>,
    next_item: Option<String>,
    /// The caller may send tasks (organizer somewhere).
    can_send: bool,
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct ListQuery {
    after: Option<String>,
    before: Option<i64>,
    item_after: Option<String>,
}

async fn list(
    Reads(reads): Reads,
    Ctx(ctx, user): Ctx,
    Query(q): Query<ListQuery>,
) -> AppResult<Response> {
    let scope = user.scope();
    let (assigned, next_after) =
        tasks::assigned(&reads, scope, q.after.as_deref(), PER_PAGE).await?;
    let (sent, next_before) = tasks::sent(&reads, scope, q.before.map(TaskId), PER_PAGE).await?;
    let next_before = next_before.map(|t| t.0);
    let (items, next_item) =
        store::plans::action_plans::assigned(&reads, scope, q.item_after.as_deref(), PER_PAGE)
            .await?;
    let ctx = ctx.with_nav("tasks");
    ctx.render(&ListPage {
        ctx: ctx.clone(),
        today: tasks::today(),
        assigned,
        next_after,
        sent,
        next_before,
        items,
        next_item,
        can_send: scope.has_role(store::scope::WRITE),
    })
}

#[derive(Template)]
#[template(path = "plans/task.html")]
struct DetailPage {
    ctx: PageCtx,
    today: NaiveDate,
    t: Task,
    targets: Vec<Target>,
    /// Counts by state, in [`TargetState::ALL`] order, of the targets shown.
    by_state: Vec<(TargetState, usize)>,
    /// The task this one passes down, when the caller may open it.
    parent_visible: bool,
    /// The caller is on the sender's side and sees every target; a target's side sees only its
    /// own, and the counts of those.
    sender_side: bool,
}

impl DetailPage {
    /// Targets shown that are done (the headline of a target's side).
    fn shown_done(&self) -> usize {
        self.targets.iter().filter(|t| t.done_on.is_some()).count()
    }
}

async fn detail(
    State(st): State<AppState>,
    Ctx(ctx, user): Ctx,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let scope = user.scope();
    let t = tasks::get(&st.db, scope, TaskId(id)).await?;
    let targets = tasks::targets(&st.db, scope, &t).await?;
    let today = tasks::today();
    let by_state = TargetState::ALL
        .iter()
        .map(|s| (*s, targets.iter().filter(|t| t.state(today) == *s).count()))
        .collect();
    let parent_visible = match t.parent_task_id {
        Some(p) => tasks::get(&st.db, scope, TaskId(p)).await.is_ok(),
        None => false,
    };
    let sender_side = scope.covers(&st.db, t.org_id, store::scope::READ).await?;
    let crumbs = org::breadcrumb(&st.db, scope, t.org_id)
        .await
        .unwrap_or_default();
    let ctx = ctx.with_nav("tasks").with_crumbs(crumbs);
    ctx.render(&DetailPage {
        ctx: ctx.clone(),
        today,
        t,
        targets,
        by_state,
        parent_visible,
        sender_side,
    })
}

#[derive(Template)]
#[template(path = "plans/task_form.html")]
struct FormPage {
    ctx: PageCtx,
    /// The organizations the caller may send from (organizer or above).
    senders: Vec<Org>,
    from: Option<Org>,
    /// Passing this task down.
    parent: Option<Task>,
    /// The sender's subordinates to choose from.
    children: Vec<Org>,
    input: TaskInput,
    errors: FieldErrors,
}

impl FormPage {
    fn err(&self, field: &str) -> &str {
        self.errors.get(field).unwrap_or("")
    }
    fn chosen(&self, id: &i64) -> bool {
        self.input
            .target_org_ids
            .iter()
            .any(|t| t.trim() == id.to_string())
    }
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct NewQuery {
    from: Option<i64>,
    parent: Option<i64>,
}

async fn form_page(
    st: &AppState,
    ctx: PageCtx,
    scope: &Scope,
    q: &NewQuery,
    input: Option<TaskInput>,
    errors: FieldErrors,
) -> AppResult<FormPage> {
    let senders = super::organizing(st, scope).await;
    let parent = match q.parent {
        Some(p) => Some(tasks::get(&st.db, scope, TaskId(p)).await?),
        None => None,
    };
    let from_id = q.from.or(senders.first().map(|o| o.id));
    let from = match from_id {
        Some(id) => {
            scope
                .require(&st.db, OrgId(id), store::scope::WRITE)
                .await?;
            Some(org::get(&st.db, scope, OrgId(id)).await?)
        }
        None => None,
    };
    let children = match &from {
        Some(o) => org::children(&st.db, scope, OrgId(o.id)).await?,
        None => vec![],
    };
    let input = input.unwrap_or_else(|| TaskInput {
        title: parent.as_ref().map(|p| p.title.clone()).unwrap_or_default(),
        body: parent
            .as_ref()
            .and_then(|p| p.body.clone())
            .unwrap_or_default(),
        due_on: parent
            .as_ref()
            .map(|p| domain::text::format_date(p.due_on))
            .unwrap_or_default(),
        // Every subordinate, unless the sender unticks some.
        target_org_ids: children.iter().map(|c| c.id.to_string()).collect(),
    });
    Ok(FormPage {
        ctx: ctx.with_nav("tasks"),
        senders,
        from,
        parent,
        children,
        input,
        errors,
    })
}

async fn new(
    State(st): State<AppState>,
    Ctx(ctx, user): Ctx,
    Query(q): Query<NewQuery>,
) -> AppResult<Response> {
    if !user.scope().has_role(store::scope::WRITE) {
        return Err(AppError::Forbidden);
    }
    let page = form_page(&st, ctx.clone(), user.scope(), &q, None, FieldErrors::new()).await?;
    ctx.render(&page)
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct TaskForm {
    from_org_id: Option<i64>,
    parent_task_id: Option<i64>,
    // Not flattened: a flattened list of one ticked box arrives as a single string.
    title: String,
    body: String,
    due_on: String,
    target_org_ids: Vec<String>,
}

async fn create(
    State(st): State<AppState>,
    Ctx(ctx, _): Ctx,
    f: CsrfForm<TaskForm>,
) -> AppResult<Response> {
    let scope = f.user.scope();
    let form = f.form;
    let q = NewQuery {
        from: form.from_org_id,
        parent: form.parent_task_id,
    };
    let Some(from) = form.from_org_id else {
        return Err(AppError::BadRequest("Chọn tổ chức giao việc.".into()));
    };
    let input = TaskInput {
        title: form.title,
        body: form.body,
        due_on: form.due_on,
        target_org_ids: form.target_org_ids,
    };
    let mut errors = FieldErrors::new();
    match input.validate(tasks::today()) {
        Ok(new) => {
            match tasks::create(&st.db, scope, OrgId(from), q.parent.map(TaskId), &new).await {
                Ok(id) => {
                    return Ok(ctx.redirect(
                        &format!("/tasks/{}", id.0),
                        "Đã giao việc; các tổ chức nhận việc đã được thông báo.",
                    ))
                }
                Err(StoreError::Rule(v)) => {
                    let field = if v.code == tasks::DUE_AFTER_PARENT {
                        "due_on"
                    } else {
                        "target_org_ids"
                    };
                    errors.add(field, v.message)
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(e) => errors = e,
    }
    let page = form_page(&st, ctx.clone(), scope, &q, Some(input), errors).await?;
    ctx.render_invalid(&page)
}

#[derive(Template)]
#[template(path = "plans/report_form.html")]
struct ReportPage {
    ctx: PageCtx,
    t: Task,
    org: Org,
    input: ReportInput,
    errors: FieldErrors,
}

impl ReportPage {
    fn err(&self, field: &str) -> &str {
        self.errors.get(field).unwrap_or("")
    }
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct ReportQuery {
    org: i64,
}

/// The task and the target organization the caller reports for (secretary or above on it).
async fn report_target(
    st: &AppState,
    scope: &Scope,
    id: i64,
    org_id: i64,
) -> AppResult<(Task, Org)> {
    let t = tasks::get(&st.db, scope, TaskId(id)).await?;
    scope
        .require(&st.db, OrgId(org_id), store::scope::ATTEND)
        .await?;
    let org = org::get(&st.db, scope, OrgId(org_id)).await?;
    Ok((t, org))
}

async fn report_form(
    State(st): State<AppState>,
    Ctx(ctx, user): Ctx,
    Path(id): Path<i64>,
    Query(q): Query<ReportQuery>,
) -> AppResult<Response> {
    let (t, org) = report_target(&st, user.scope(), id, q.org).await?;
    let ctx = ctx.with_nav("tasks");
    ctx.render(&ReportPage {
        ctx: ctx.clone(),
        t,
        org,
        input: ReportInput {
            done_on: domain::text::format_date(tasks::today()),
            ..ReportInput::default()
        },
        errors: FieldErrors::new(),
    })
}

/// `POST /tasks/{id}/report`: multipart with an optional file (the page's form), or urlencoded.
async fn report(
    State(st): State<AppState>,
    Ctx(ctx, _): Ctx,
    Path(id): Path<i64>,
    up: super::Upload,
) -> AppResult<Response> {
    let scope = up.user.scope();
    let org_id = up.field("org_id").trim().parse::<i64>().unwrap_or(0);
    let input = ReportInput {
        done_on: up.field("done_on"),
        people_reached: up.field("people_reached"),
        note: up.field("note"),
    };
    let (t, org) = report_target(&st, scope, id, org_id).await?;
    let mut errors = FieldErrors::new();
    match input.validate(tasks::today(), t.sent_on) {
        Ok(r) => {
            match tasks::report(&st.db, scope, &t, OrgId(org.id), &r, up.file.as_ref()).await {
                Ok(()) => {
                    return Ok(ctx.redirect(
                        &format!("/tasks/{id}"),
                        &format!("Đã báo cáo hoàn thành: {}.", org.name),
                    ))
                }
                Err(StoreError::Rule(v)) => errors.add("done_on", v.message),
                Err(e) => return Err(e.into()),
            }
        }
        Err(e) => errors = e,
    }
    let ctx = ctx.with_nav("tasks");
    ctx.render_invalid(&ReportPage {
        ctx: ctx.clone(),
        t,
        org,
        input,
        errors,
    })
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct FileQuery {
    org: i64,
}

/// `GET /tasks/{id}/file?org=`: the file of a target's report, for those who see the target.
async fn evidence(
    State(st): State<AppState>,
    Ctx(_, user): Ctx,
    Path(id): Path<i64>,
    Query(q): Query<FileQuery>,
) -> AppResult<Response> {
    let scope = user.scope();
    let t = tasks::get(&st.db, scope, TaskId(id)).await?;
    let f = tasks::evidence(&st.db, scope, &t, OrgId(q.org)).await?;
    Ok(super::attachment(f))
}
