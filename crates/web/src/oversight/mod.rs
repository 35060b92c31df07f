//! Working groups (R3.2): the groups a committee forms, their assignments to the classes of
//! lower levels, the structured evaluation a group files, and per organization which classes
//! were supervised and how they were graded. Pages work without script.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use domain::ids::{OrgId, SupervisionId, WorkingGroupId};
use domain::org::positions::CommitteeRole;
use domain::oversight::{AssignmentInput, EvaluationInput, Grade, GroupInput};
use domain::FieldErrors;
use serde::Deserialize;
use store::org::positions::Position;
use store::org::{self, Org};
use store::oversight::{self, Group, Member, Supervision};
use store::study::classes::{self, Class};
use store::StoreError;

use crate::app::AppState;
use crate::auth::CsrfForm;
use crate::error::AppResult;
use crate::pages::{Ctx, PageCtx};
use crate::reads::Reads;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/oversight", get(home))
        .route("/oversight/groups", post(create))
        .route("/oversight/groups/{id}", get(group_page))
        .route("/oversight/groups/{id}/assign", post(assign))
        .route("/oversight/groups/{id}/edit", post(edit))
        .route(
            "/oversight/supervisions/{id}",
            get(evaluation_page).post(evaluate),
        )
        .route("/oversight/supervised", get(supervised))
}

fn today() -> chrono::NaiveDate {
    crate::fmt::today()
}

// ----- the groups, my assignments, forming a group -----

#[derive(Template)]
#[template(path = "oversight/home.html")]
struct HomePage {
    ctx: PageCtx,
    mine: Vec<Supervision>,
    groups: Vec<Group>,
    next_before: Option<i64>,
    /// Where the caller may form a group (organizer and up), with the staff who may sit on it.
    forming: Vec<(Org, Vec<Position>)>,
    input: GroupInput,
    org_choice: i64,
    errors: FieldErrors,
}

impl HomePage {
    fn err(&self, f: &str) -> &str {
        self.errors.get(f).unwrap_or("")
    }
    fn member_checked(&self, id: &i64) -> bool {
        let id = id.to_string();
        self.input.member_ids.iter().any(|m| m.trim() == id)
    }
    fn overdue(&self, s: &Supervision) -> bool {
        s.overdue(today())
    }
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
struct ListQuery {
    before: Option<i64>,
}

async fn build_home(
    st: &AppState,
    ctx: PageCtx,
    scope: &store::Scope,
    before: Option<i64>,
    input: GroupInput,
    org_choice: i64,
    errors: FieldErrors,
) -> AppResult<HomePage> {
    let mine = oversight::mine(&st.db, scope).await?;
    let (groups, next_before) = oversight::list(&st.db, scope, before).await?;
    let mut forming = Vec::new();
    for g in scope
        .grants
        .iter()
        .filter(|g| g.role >= store::scope::WRITE)
    {
        if let Ok(o) = org::get(&st.db, scope, g.org_id).await {
            let staff =
                store::org::positions::holders(&st.db, scope, g.org_id, CommitteeRole::SUPERVISING)
                    .await?;
            forming.push((o, staff));
        }
    }
    Ok(HomePage {
        ctx: ctx.with_nav("oversight"),
        mine,
        groups,
        next_before,
        forming,
        input,
        org_choice,
        errors,
    })
}

async fn home(
    State(st): State<AppState>,
    Ctx(ctx, user): Ctx,
    Query(q): Query<ListQuery>,
) -> AppResult<Response> {
    let page = build_home(
        &st,
        ctx,
        user.scope(),
        q.before,
        GroupInput::default(),
        0,
        FieldErrors::new(),
    )
    .await?;
    page.ctx.render(&page)
}

/// The group form (its fields spelled out: a flattened struct cannot take repeated fields).
#[derive(Debug, Deserialize, Default)]
#[serde(default)]
struct GroupForm {
    org_id: i64,
    name: String,
    member_ids: Vec<String>,
    lead_id: String,
}

impl GroupForm {
    /// The forming organization and the group as typed.
    fn split(self) -> (i64, GroupInput) {
        (
            self.org_id,
            GroupInput {
                name: self.name,
                member_ids: self.member_ids,
                lead_id: self.lead_id,
            },
        )
    }
}

async fn create(
    State(st): State<AppState>,
    Ctx(ctx, _): Ctx,
    f: CsrfForm<GroupForm>,
) -> AppResult<Response> {
    let scope = f.user.scope();
    let (org_id, input) = f.form.split();
    let mut errors = FieldErrors::new();
    match input.validate() {
        Ok(g) => match oversight::create(&st.db, scope, OrgId(org_id), &g).await {
            Ok(id) => {
                return Ok(ctx.redirect(
                    &format!("/oversight/groups/{}", id.0),
                    "Đã lập tổ công tác.",
                ))
            }
            Err(StoreError::Rule(v)) => errors.add("member_ids", v.message),
            Err(e) => return Err(e.into()),
        },
        Err(e) => errors = e,
    }
    let page = build_home(&st, ctx, scope, None, input, org_id, errors).await?;
    page.ctx.render_invalid(&page)
}

// ----- a group: members, assignments, assigning a class -----

#[derive(Template)]
#[template(path = "oversight/group.html")]
struct GroupPage {
    ctx: PageCtx,
    g: Group,
    members: Vec<Member>,
    assignments: Vec<Supervision>,
    /// Classes of lower organizations the group may be assigned to (organizer only).
    classes: Vec<Class>,
    can_assign: bool,
    input: AssignmentInput,
    errors: FieldErrors,
    /// Who may sit on the group (organizer only), and the edit form.
    staff: Vec<Position>,
    edit: GroupInput,
    edit_errors: FieldErrors,
}

impl GroupPage {
    fn edit_err(&self, f: &str) -> &str {
        self.edit_errors.get(f).unwrap_or("")
    }
    fn member_checked(&self, id: &i64) -> bool {
        let id = id.to_string();
        self.edit.member_ids.iter().any(|m| m.trim() == id)
    }
    fn err(&self, f: &str) -> &str {
        self.errors.get(f).unwrap_or("")
    }
    fn overdue(&self, s: &Supervision) -> bool {
        s.overdue(today())
    }
    fn class_chosen(&self, id: &i64) -> bool {
        self.input.class_id.trim() == id.to_string()
    }
}

async fn build_group(
    st: &AppState,
    ctx: PageCtx,
    scope: &store::Scope,
    id: i64,
    input: Option<AssignmentInput>,
    errors: FieldErrors,
    edit: Option<(GroupInput, FieldErrors)>,
) -> AppResult<GroupPage> {
    let g = oversight::get(&st.db, scope, WorkingGroupId(id)).await?;
    let members = oversight::members(&st.db, &g).await?;
    let assignments = oversight::assignments(&st.db, &g).await?;
    let can_assign = scope
        .covers(&st.db, OrgId(g.org_id), store::scope::WRITE)
        .await?;
    let classes = if can_assign {
        let mut list = classes::list(&st.db, scope, &classes::ClassFilter::default()).await?;
        list.retain(|c| c.org_id != g.org_id && !c.is_finished());
        list
    } else {
        vec![]
    };
    let input = input.unwrap_or_else(|| AssignmentInput {
        class_id: String::new(),
        due_on: crate::fmt::date(&(today() + chrono::Duration::days(7))),
    });
    let staff = if can_assign {
        store::org::positions::holders(&st.db, scope, OrgId(g.org_id), CommitteeRole::SUPERVISING)
            .await?
    } else {
        vec![]
    };
    let (edit, edit_errors) = edit.unwrap_or_else(|| {
        (
            GroupInput {
                name: g.name.clone(),
                member_ids: members.iter().map(|m| m.person_id.to_string()).collect(),
                lead_id: members
                    .iter()
                    .find(|m| m.leads)
                    .map(|m| m.person_id.to_string())
                    .unwrap_or_default(),
            },
            FieldErrors::new(),
        )
    });
    let crumbs = org::breadcrumb(&st.db, scope, OrgId(g.org_id)).await?;
    Ok(GroupPage {
        ctx: ctx.with_nav("oversight").with_crumbs(crumbs),
        staff,
        edit,
        edit_errors,
        g,
        members,
        assignments,
        classes,
        can_assign,
        input,
        errors,
    })
}

async fn group_page(
    State(st): State<AppState>,
    Ctx(ctx, user): Ctx,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let page = build_group(&st, ctx, user.scope(), id, None, FieldErrors::new(), None).await?;
    page.ctx.render(&page)
}

async fn assign(
    State(st): State<AppState>,
    Ctx(ctx, _): Ctx,
    Path(id): Path<i64>,
    f: CsrfForm<AssignmentInput>,
) -> AppResult<Response> {
    let scope = f.user.scope();
    let g = oversight::get(&st.db, scope, WorkingGroupId(id)).await?;
    let mut errors = FieldErrors::new();
    match f.form.validate() {
        Ok(a) => match oversight::assign(&st.db, scope, &g, &a).await {
            Ok(_) => {
                return Ok(ctx.redirect(
                    &format!("/oversight/groups/{id}"),
                    "Đã phân công tổ công tác giám sát lớp học.",
                ))
            }
            Err(StoreError::Rule(v)) => errors.add("class_id", v.message),
            Err(StoreError::Conflict { .. }) => errors.add(
                "class_id",
                "Tổ công tác đã được phân công giám sát lớp học này.",
            ),
            Err(e) => return Err(e.into()),
        },
        Err(e) => errors = e,
    }
    let page = build_group(&st, ctx, scope, id, Some(f.form), errors, None).await?;
    page.ctx.render_invalid(&page)
}

async fn edit(
    State(st): State<AppState>,
    Ctx(ctx, _): Ctx,
    Path(id): Path<i64>,
    f: CsrfForm<GroupForm>,
) -> AppResult<Response> {
    let scope = f.user.scope();
    let g = oversight::get(&st.db, scope, WorkingGroupId(id)).await?;
    let (_, input) = f.form.split();
    let mut errors = FieldErrors::new();
    match input.validate() {
        Ok(new) => match oversight::update(&st.db, scope, &g, &new).await {
            Ok(()) => {
                return Ok(ctx.redirect(&format!("/oversight/groups/{id}"), "Đã lưu tổ công tác."))
            }
            Err(StoreError::Rule(v)) => errors.add("member_ids", v.message),
            Err(e) => return Err(e.into()),
        },
        Err(e) => errors = e,
    }
    let page = build_group(
        &st,
        ctx,
        scope,
        id,
        None,
        FieldErrors::new(),
        Some((input, errors)),
    )
    .await?;
    page.ctx.render_invalid(&page)
}

// ----- the evaluation of one class -----

#[derive(Template)]
#[template(path = "oversight/evaluation.html")]
struct EvaluationPage {
    ctx: PageCtx,
    g: Group,
    s: Supervision,
    c: Class,
    /// The attendance rate the evaluation will record (from the class's attendance).
    attendance: Option<i64>,
    lead: store::study::presenters::LeadCheck,
    grades: &'static [Grade],
    input: EvaluationInput,
    errors: FieldErrors,
}

impl EvaluationPage {
    fn err(&self, f: &str) -> &str {
        self.errors.get(f).unwrap_or("")
    }
}

fn input_of(s: &Supervision) -> EvaluationInput {
    let n = |v: Option<i64>| v.map(|x| x.to_string()).unwrap_or_default();
    EvaluationInput {
        chair_present: s.chair_present.unwrap_or(false),
        standing_opened: s.standing_opened.unwrap_or(false),
        standing_closed: s.standing_closed.unwrap_or(false),
        discussion_minutes: n(s.discussion_minutes),
        materials_fit: s.materials_fit.unwrap_or(false),
        grade: s.grade.clone().unwrap_or_default(),
        remarks: s.remarks.clone().unwrap_or_default(),
        surveyed: n(s.surveyed),
        understood_well: n(s.understood_well),
        understood_partly: n(s.understood_partly),
        understood_poorly: n(s.understood_poorly),
    }
}

async fn build_evaluation(
    st: &AppState,
    ctx: PageCtx,
    scope: &store::Scope,
    id: i64,
    input: Option<EvaluationInput>,
    errors: FieldErrors,
) -> AppResult<EvaluationPage> {
    let (g, s) = oversight::supervision(&st.db, scope, SupervisionId(id)).await?;
    let c = oversight::class_of(&st.db, &s).await?;
    let attendance = oversight::attendance_percent(&st.db, s.class_id).await?;
    let lead = store::study::presenters::check(&st.db, &c).await?;
    Ok(EvaluationPage {
        ctx: ctx.with_nav("oversight"),
        input: input.unwrap_or_else(|| input_of(&s)),
        g,
        s,
        c,
        attendance,
        lead,
        grades: Grade::ALL,
        errors,
    })
}

async fn evaluation_page(
    State(st): State<AppState>,
    Ctx(ctx, user): Ctx,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let page = build_evaluation(&st, ctx, user.scope(), id, None, FieldErrors::new()).await?;
    page.ctx.render(&page)
}

async fn evaluate(
    State(st): State<AppState>,
    Ctx(ctx, _): Ctx,
    Path(id): Path<i64>,
    f: CsrfForm<EvaluationInput>,
) -> AppResult<Response> {
    let scope = f.user.scope();
    let (g, s) = oversight::supervision(&st.db, scope, SupervisionId(id)).await?;
    let errors = match f.form.validate() {
        Ok(e) => {
            oversight::evaluate(&st.db, scope, &g, &s, &e).await?;
            return Ok(ctx.redirect(
                &format!("/oversight/groups/{}", g.id.0),
                "Đã lưu đánh giá lớp học.",
            ));
        }
        Err(e) => e,
    };
    let page = build_evaluation(&st, ctx, scope, id, Some(f.form), errors).await?;
    page.ctx.render_invalid(&page)
}

// ----- per organization: the supervised classes -----

#[derive(Template)]
#[template(path = "oversight/supervised.html")]
struct SupervisedPage {
    ctx: PageCtx,
    org: Org,
    orgs: Vec<Org>,
    rows: Vec<Supervision>,
    next_before: Option<i64>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
struct SupervisedQuery {
    org: Option<i64>,
    before: Option<i64>,
}

async fn supervised(
    Reads(reads): Reads,
    Ctx(ctx, user): Ctx,
    Query(q): Query<SupervisedQuery>,
) -> AppResult<Response> {
    let scope = user.scope();
    let mut orgs = Vec::new();
    for g in scope.grants.iter().filter(|g| g.role >= store::scope::READ) {
        if let Ok(o) = org::get(&reads, scope, g.org_id).await {
            orgs.push(o);
        }
    }
    let org_id = q
        .org
        .or(orgs.first().map(|o| o.id))
        .ok_or(crate::error::AppError::Forbidden)?;
    let org = org::get(&reads, scope, OrgId(org_id)).await?;
    let (rows, next_before) = oversight::of_org(&reads, scope, OrgId(org_id), q.before).await?;
    let crumbs = org::breadcrumb(&reads, scope, OrgId(org_id)).await?;
    let ctx = ctx.with_nav("oversight").with_crumbs(crumbs);
    ctx.render(&SupervisedPage {
        ctx: ctx.clone(),
        org,
        orgs,
        rows,
        next_before,
    })
}
