//! Written reflections (bài thu hoạch) after a class: what the class asks and who has handed in
//! (secretaries and organizers), the participant's own page to write it, and one reflection with
//! its grade. Pages work without script.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use domain::assess::{Grade, GradeInput, ReflectionAskInput, ReflectionInput, ReflectionState};
use domain::ids::{ClassId, OrgId, PersonId, ReflectionId};
use domain::FieldErrors;
use serde::Deserialize;
use store::assess::reflections::{self, Ask, Reflection, Row};
use store::study::classes::Class;
use store::{Scope, StoreError};

use crate::app::AppState;
use crate::auth::CsrfForm;
use crate::error::{AppError, AppResult};
use crate::pages::{Ctx, PageCtx};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/classes/{id}/reflections", get(list).post(set_ask))
        .route("/classes/{id}/reflections/record", post(record))
        .route("/classes/{id}/reflections/remind", post(remind))
        .route("/classes/{id}/reflection", get(mine).post(hand_in))
        .route("/reflections/{id}", get(detail).post(grade))
}

fn today() -> chrono::NaiveDate {
    crate::fmt::today()
}

// ----- a class's reflections: secretaries and organizers -----

/// A refused record of one row: whom, what was chosen and typed, why.
#[derive(Debug, Clone, Default)]
struct RecordFail {
    person_ids: Vec<i64>,
    state: String,
    reason: String,
    error: String,
}

#[derive(Template)]
#[template(path = "assess/reflections.html")]
struct ListPage {
    ctx: PageCtx,
    c: Class,
    /// The caller sees the class's own page (a cell's secretary may not).
    class_visible: bool,
    ask: Ask,
    /// Participants the caller answers for, handed in or received, exempt, graded.
    counts: (i64, i64, i64, i64),
    rows: Vec<Row>,
    next_after: Option<i64>,
    missing: bool,
    /// Organizer of the class's organization: sets what it asks.
    can_set: bool,
    overdue: bool,
    ask_input: ReflectionAskInput,
    ask_errors: FieldErrors,
    record: Option<RecordFail>,
    form_error: Option<String>,
}

impl ListPage {
    fn ask_err(&self, f: &str) -> &str {
        self.ask_errors.get(f).unwrap_or("")
    }
    /// Not handed in nor exempt.
    fn missing_count(&self) -> i64 {
        (self.counts.0 - self.counts.1 - self.counts.2).max(0)
    }
    fn missing_label(&self) -> String {
        crate::fmt::count(&self.missing_count())
    }
    fn record_err(&self) -> &str {
        self.record.as_ref().map_or("", |r| r.error.as_str())
    }
    fn record_reason(&self) -> &str {
        self.record.as_ref().map_or("", |r| r.reason.as_str())
    }
    fn record_exempt(&self) -> bool {
        self.record.as_ref().is_some_and(|r| r.state == "exempt")
    }
    fn record_picked(&self, person: &i64) -> bool {
        self.record
            .as_ref()
            .is_some_and(|r| r.person_ids.contains(person))
    }
    fn any_missing(&self) -> bool {
        self.rows.iter().any(|r| r.reflection_id.is_none())
    }
    fn next_link(&self) -> String {
        format!(
            "/classes/{}/reflections?after={}{}",
            self.c.id,
            self.next_after.unwrap_or(0),
            if self.missing { "&missing=true" } else { "" }
        )
    }
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
struct ListQuery {
    after: Option<i64>,
    /// "true": only those who have not handed in.
    missing: Option<String>,
}

/// What a refused form of the page brings back.
#[derive(Default)]
struct ListForms {
    ask: Option<(ReflectionAskInput, FieldErrors)>,
    record: Option<RecordFail>,
    form_error: Option<String>,
}

fn ask_input_of(a: &Ask) -> ReflectionAskInput {
    ReflectionAskInput {
        prompt: a.prompt().to_string(),
        due_on: a
            .reflection_due
            .as_ref()
            .map(crate::fmt::date)
            .unwrap_or_default(),
        asks_plan: a.reflection_plan,
    }
}

/// The class, for secretaries and up (members see their own page instead), and whether the
/// caller sees the class itself. A cell's secretary answers for their members in a class of a
/// level above, which they do not see otherwise: they get it when they answer for one of its
/// participants.
async fn class_for_staff(st: &AppState, scope: &Scope, id: i64) -> AppResult<(Class, bool)> {
    if !scope.has_role(store::scope::ATTEND) {
        return Err(AppError::Forbidden);
    }
    Ok(reflections::class_for(&st.db, scope, ClassId(id)).await?)
}

async fn build_list(
    st: &AppState,
    ctx: PageCtx,
    scope: &Scope,
    (c, class_visible): (Class, bool),
    q: ListQuery,
    forms: ListForms,
) -> AppResult<ListPage> {
    let ask = reflections::ask_of(&st.db, c.id).await?;
    let counts = reflections::counts(&st.db, scope, &c).await?;
    let missing = q.missing.as_deref() == Some("true");
    let (rows, next_after) = reflections::of_class(&st.db, scope, &c, missing, q.after).await?;
    let can_set = scope
        .covers(&st.db, OrgId(c.org_id), store::scope::WRITE)
        .await?;
    let (ask_input, ask_errors) = forms
        .ask
        .unwrap_or_else(|| (ask_input_of(&ask), FieldErrors::new()));
    let crumbs = if class_visible {
        store::org::breadcrumb(&st.db, scope, OrgId(c.org_id)).await?
    } else {
        vec![]
    };
    Ok(ListPage {
        ctx: ctx.with_nav("assess").with_crumbs(crumbs),
        overdue: ask.overdue(today()),
        c,
        class_visible,
        ask,
        counts,
        rows,
        next_after,
        missing,
        can_set,
        ask_input,
        ask_errors,
        record: forms.record,
        form_error: forms.form_error,
    })
}

async fn list(
    State(st): State<AppState>,
    Ctx(ctx, user): Ctx,
    Path(id): Path<i64>,
    Query(q): Query<ListQuery>,
) -> AppResult<Response> {
    let scope = user.scope();
    let class = class_for_staff(&st, scope, id).await?;
    let page = build_list(&st, ctx, scope, class, q, ListForms::default()).await?;
    page.ctx.render(&page)
}

async fn set_ask(
    State(st): State<AppState>,
    Ctx(ctx, _): Ctx,
    Path(id): Path<i64>,
    f: CsrfForm<ReflectionAskInput>,
) -> AppResult<Response> {
    let scope = f.user.scope();
    let class = class_for_staff(&st, scope, id).await?;
    let mut errors = FieldErrors::new();
    let mut form_error = None;
    match f.form.validate() {
        Ok(a) => match reflections::set_ask(&st.db, scope, &class.0, &a).await {
            Ok(()) => {
                return Ok(ctx.redirect(
                    &format!("/classes/{id}/reflections"),
                    &format!(
                        "Đã lưu yêu cầu viết bài thu hoạch, hạn nộp {}.",
                        crate::fmt::date(&a.due_on)
                    ),
                ))
            }
            Err(StoreError::Rule(v)) => form_error = Some(v.message),
            Err(e) => return Err(e.into()),
        },
        Err(e) => errors = e,
    }
    let forms = ListForms {
        ask: Some((f.form, errors)),
        form_error,
        ..ListForms::default()
    };
    let page = build_list(&st, ctx, scope, class, ListQuery::default(), forms).await?;
    page.ctx.render_invalid(&page)
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
struct RecordForm {
    /// The people ticked on the list (one form for the page, a checkbox a row).
    person_ids: Vec<String>,
    /// paper or exempt
    state: String,
    reason: String,
    /// "true" when recorded from the list of those who have not handed in.
    missing: String,
}

async fn record(
    State(st): State<AppState>,
    Ctx(ctx, _): Ctx,
    Path(id): Path<i64>,
    f: CsrfForm<RecordForm>,
) -> AppResult<Response> {
    let scope = f.user.scope();
    let class = class_for_staff(&st, scope, id).await?;
    let people: Vec<i64> = f
        .form
        .person_ids
        .iter()
        .filter_map(|p| p.trim().parse().ok())
        .collect();
    if people.is_empty() || people.len() > usize::try_from(reflections::PAGE).unwrap_or(100) {
        let msg = "Chọn ít nhất một người trong danh sách (tối đa một trang).".to_string();
        return record_refused(&st, ctx, scope, class, f.form, people, msg).await;
    }
    let state = match ReflectionState::parse(&f.form.state) {
        Ok(s @ (ReflectionState::Paper | ReflectionState::Exempt)) => s,
        _ => {
            return Err(AppError::field(
                "state",
                "Chọn «Đã nhận bản giấy» hoặc «Được miễn viết».",
            ))
        }
    };
    let reason = if state == ReflectionState::Exempt {
        match domain::assess::reason(&f.form.reason) {
            Ok(r) => Some(r),
            Err(e) => {
                return record_refused(&st, ctx, scope, class, f.form, people, e.to_string()).await
            }
        }
    } else {
        None
    };
    let list: Vec<PersonId> = people.iter().copied().map(PersonId).collect();
    match reflections::record_many(&st.db, scope, &class.0, &list, state, reason.as_deref()).await {
        Ok(n) => {
            let back = if f.form.missing == "true" {
                format!("/classes/{id}/reflections?missing=true")
            } else {
                format!("/classes/{id}/reflections")
            };
            let message = if state == ReflectionState::Exempt {
                format!("Đã ghi nhận miễn viết bài thu hoạch cho {n} người.")
            } else {
                format!("Đã ghi nhận bài thu hoạch nộp bản giấy của {n} người.")
            };
            Ok(ctx.redirect(&back, &message))
        }
        Err(StoreError::Rule(v)) => {
            record_refused(&st, ctx, scope, class, f.form, people, v.message).await
        }
        Err(e) => Err(e.into()),
    }
}

/// The list again with a record's refusal under its row.
async fn record_refused(
    st: &AppState,
    ctx: PageCtx,
    scope: &Scope,
    class: (Class, bool),
    form: RecordForm,
    people: Vec<i64>,
    error: String,
) -> AppResult<Response> {
    let q = ListQuery {
        after: None,
        missing: Some(form.missing.clone()),
    };
    let forms = ListForms {
        record: Some(RecordFail {
            person_ids: people,
            state: form.state,
            reason: form.reason,
            error,
        }),
        ..ListForms::default()
    };
    let page = build_list(st, ctx, scope, class, q, forms).await?;
    page.ctx.render_invalid(&page)
}

#[derive(Debug, Deserialize)]
struct Empty {}

async fn remind(
    State(st): State<AppState>,
    Ctx(ctx, _): Ctx,
    Path(id): Path<i64>,
    f: CsrfForm<Empty>,
) -> AppResult<Response> {
    let scope = f.user.scope();
    let class = class_for_staff(&st, scope, id).await?;
    match reflections::remind(&st.db, scope, &class.0).await {
        Ok(n) => Ok(ctx.redirect(
            &format!("/classes/{id}/reflections"),
            &format!("Đã nhắc {n} người."),
        )),
        Err(StoreError::Rule(v)) => {
            let forms = ListForms {
                form_error: Some(v.message),
                ..ListForms::default()
            };
            let page = build_list(&st, ctx, scope, class, ListQuery::default(), forms).await?;
            page.ctx.render_invalid(&page)
        }
        Err(e) => Err(e.into()),
    }
}

// ----- the participant's own reflection -----

#[derive(Template)]
#[template(path = "assess/reflection_mine.html")]
struct MinePage {
    ctx: PageCtx,
    c: Class,
    ask: Ask,
    mine: Option<Reflection>,
    overdue: bool,
    input: ReflectionInput,
    errors: FieldErrors,
    form_error: Option<String>,
}

impl MinePage {
    fn err(&self, f: &str) -> &str {
        self.errors.get(f).unwrap_or("")
    }
    /// May still write (or rewrite) it: asked, not graded, not exempt.
    fn can_write(&self) -> bool {
        self.ask.asked()
            && self
                .mine
                .as_ref()
                .is_none_or(|r| r.grade.is_none() && !r.is_exempt())
    }
}

async fn build_mine(
    st: &AppState,
    ctx: PageCtx,
    scope: &Scope,
    id: i64,
    input: Option<ReflectionInput>,
    errors: FieldErrors,
    form_error: Option<String>,
) -> AppResult<MinePage> {
    let c = store::study::feedback::class_for_participant(&st.db, scope, ClassId(id)).await?;
    let person = scope.person_id.ok_or(AppError::Forbidden)?;
    let ask = reflections::ask_of(&st.db, c.id).await?;
    let mine = reflections::find(&st.db, c.id, person).await?;
    let input = input.unwrap_or_else(|| ReflectionInput {
        body: mine
            .as_ref()
            .and_then(|r| r.body.clone())
            .unwrap_or_default(),
        plan: mine
            .as_ref()
            .and_then(|r| r.plan.clone())
            .unwrap_or_default(),
    });
    Ok(MinePage {
        ctx: ctx.with_nav("me"),
        overdue: ask.overdue(today()),
        c,
        ask,
        mine,
        input,
        errors,
        form_error,
    })
}

async fn mine(
    State(st): State<AppState>,
    Ctx(ctx, user): Ctx,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let page = build_mine(&st, ctx, user.scope(), id, None, FieldErrors::new(), None).await?;
    page.ctx.render(&page)
}

async fn hand_in(
    State(st): State<AppState>,
    Ctx(ctx, _): Ctx,
    Path(id): Path<i64>,
    f: CsrfForm<ReflectionInput>,
) -> AppResult<Response> {
    let scope = f.user.scope();
    let c = store::study::feedback::class_for_participant(&st.db, scope, ClassId(id)).await?;
    let ask = reflections::ask_of(&st.db, c.id).await?;
    let mut errors = FieldErrors::new();
    let mut form_error = None;
    match f.form.validate(ask.reflection_plan) {
        Ok(r) => match reflections::hand_in(&st.db, scope, &c, &r).await {
            Ok(()) => {
                let late = if ask.overdue(today()) {
                    " (sau hạn nộp)"
                } else {
                    ""
                };
                return Ok(ctx.redirect(
                    &format!("/classes/{id}/reflection"),
                    &format!("Đã nộp bài thu hoạch{late}."),
                ));
            }
            Err(StoreError::Rule(v)) => form_error = Some(v.message),
            Err(e) => return Err(e.into()),
        },
        Err(e) => errors = e,
    }
    let page = build_mine(&st, ctx, scope, id, Some(f.form), errors, form_error).await?;
    page.ctx.render_invalid(&page)
}

// ----- one reflection, and its grade -----

#[derive(Template)]
#[template(path = "assess/reflection.html")]
struct DetailPage {
    ctx: PageCtx,
    r: Reflection,
    /// The reader's own reflection.
    own: bool,
    /// Secretary and up over the person (not for an exemption).
    can_grade: bool,
    grades: &'static [Grade],
    input: GradeInput,
    errors: FieldErrors,
    form_error: Option<String>,
}

impl DetailPage {
    fn err(&self, f: &str) -> &str {
        self.errors.get(f).unwrap_or("")
    }
}

async fn build_detail(
    st: &AppState,
    ctx: PageCtx,
    scope: &Scope,
    id: i64,
    input: Option<GradeInput>,
    errors: FieldErrors,
    form_error: Option<String>,
) -> AppResult<DetailPage> {
    let r = reflections::get(&st.db, scope, ReflectionId(id)).await?;
    let own = scope.person_id == Some(PersonId(r.person_id));
    let can_grade = !r.is_exempt()
        && scope
            .covers(&st.db, OrgId(r.org_id), store::scope::ATTEND)
            .await?;
    let input = input.unwrap_or_else(|| GradeInput {
        grade: r.grade.clone().unwrap_or_default(),
        remark: r.remark.clone().unwrap_or_default(),
    });
    Ok(DetailPage {
        ctx: ctx.with_nav(if own { "me" } else { "assess" }),
        r,
        own,
        can_grade,
        grades: Grade::ALL,
        input,
        errors,
        form_error,
    })
}

async fn detail(
    State(st): State<AppState>,
    Ctx(ctx, user): Ctx,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let page = build_detail(&st, ctx, user.scope(), id, None, FieldErrors::new(), None).await?;
    page.ctx.render(&page)
}

async fn grade(
    State(st): State<AppState>,
    Ctx(ctx, _): Ctx,
    Path(id): Path<i64>,
    f: CsrfForm<GradeInput>,
) -> AppResult<Response> {
    let scope = f.user.scope();
    let r = reflections::get(&st.db, scope, ReflectionId(id)).await?;
    let mut errors = FieldErrors::new();
    let mut form_error = None;
    match f.form.validate() {
        Ok((g, remark)) => {
            match reflections::grade(&st.db, scope, &r, g, remark.as_deref()).await {
                Ok(()) => {
                    return Ok(ctx.redirect(
                        &format!("/reflections/{id}"),
                        &format!("Đã chấm bài thu hoạch: {}.", g.label()),
                    ))
                }
                Err(StoreError::Rule(v)) => form_error = Some(v.message),
                Err(e) => return Err(e.into()),
            }
        }
        Err(e) => errors = e,
    }
    let page = build_detail(&st, ctx, scope, id, Some(f.form), errors, form_error).await?;
    page.ctx.render_invalid(&page)
}
