//! Emergencies of a class (R2.6): the "Thay đổi đột xuất" forms (postpone a session or the
//! class, move online, cancel a session or the class, always with a reason) and the class's
//! "Lịch sử thay đổi" tab. The forms also show on the class page (study/class.html includes
//! study/changes_forms.html with a blank [`ChangeView`]).

use askama::Template;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use chrono::{DateTime, NaiveTime, Utc};
use domain::ids::{ClassId, OrgId};
use domain::study::local_to_utc;
use domain::{FieldErrors, RuleError};
use serde::Deserialize;
use store::study::changes::{self, ChangeAction, ClassChange, ClassShift, SessionState};
use store::study::classes::{self, Class, StudySession};
use store::{org, Scope, StoreError};

use crate::app::AppState;
use crate::auth::CsrfForm;
use crate::error::AppResult;
use crate::pages::{Ctx, PageCtx};

pub fn routes() -> Router<AppState> {
    Router::new().route("/classes/{id}/changes", get(page).post(change))
}

/// What one of the emergency forms sends; every form names its `action`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ChangeInput {
    /// postpone_session, postpone_class, move_online, cancel_session, cancel_class
    pub action: String,
    pub session_id: String,
    /// dd/mm/yyyy
    pub date: String,
    /// hh:mm, Vietnam time
    pub start_time: String,
    /// Postponing a class by a number of days instead of a new first start.
    pub days: String,
    pub reason: String,
}

/// The state of the emergency forms: the form sent last, what was typed in it, its errors.
pub struct ChangeView {
    pub input: ChangeInput,
    pub errors: FieldErrors,
}

impl ChangeView {
    /// Nothing typed yet (the class page).
    pub fn blank() -> Self {
        Self {
            input: ChangeInput::default(),
            errors: FieldErrors::new(),
        }
    }
    /// An error of the change as a whole (the class is finished, the new time is past…).
    pub fn general(&self) -> Option<&str> {
        self.errors.get("form")
    }
    /// The form of `action` is the one that failed: shown open.
    pub fn is_open(&self, action: &str) -> bool {
        self.input.action == action && !self.errors.is_empty()
    }
    /// The error of `field` in the form of `action`, or "".
    pub fn err(&self, action: &str, field: &str) -> &str {
        if self.input.action == action {
            self.errors.get(field).unwrap_or("")
        } else {
            ""
        }
    }
    /// What was typed in `field` of the form of `action`, or "".
    pub fn val(&self, action: &str, field: &str) -> &str {
        if self.input.action != action {
            return "";
        }
        let i = &self.input;
        match field {
            "session_id" => &i.session_id,
            "date" => &i.date,
            "start_time" => &i.start_time,
            "days" => &i.days,
            "reason" => &i.reason,
            _ => "",
        }
    }
    /// `selected` on the session option that was chosen.
    pub fn selected(&self, action: &str, session_id: &i64) -> &'static str {
        if self.val(action, "session_id") == session_id.to_string() {
            "selected"
        } else {
            ""
        }
    }
}

/// A validated change.
enum Op {
    PostponeSession(i64, DateTime<Utc>),
    PostponeClass(ClassShift),
    MoveOnline,
    CancelSession(i64),
    CancelClass,
}

fn new_start(e: &mut FieldErrors, date: &str, time: &str) -> Option<DateTime<Utc>> {
    let d = if date.trim().is_empty() {
        e.add("date", "Nhập ngày mới (dd/mm/yyyy).");
        None
    } else {
        e.take("date", domain::text::parse_date(date))
    };
    let t = if time.trim().is_empty() {
        e.add("start_time", "Nhập giờ bắt đầu mới (hh:mm).");
        None
    } else {
        e.take(
            "start_time",
            NaiveTime::parse_from_str(time.trim(), "%H:%M").map_err(|_| RuleError::InvalidTime),
        )
    };
    Some(local_to_utc(d?.and_time(t?)))
}

fn session_id(e: &mut FieldErrors, s: &str) -> Option<i64> {
    let id = s.trim().parse::<i64>().ok();
    if id.is_none() {
        e.add("session_id", "Chọn buổi học.");
    }
    id
}

/// Checks a form; the change and its reason, or the errors per field (in Vietnamese).
fn validate(i: &ChangeInput) -> Result<(Op, String), FieldErrors> {
    let mut e = FieldErrors::new();
    let reason = match changes::parse_reason(&i.reason) {
        Ok(r) => Some(r),
        Err(m) => {
            e.add("reason", m);
            None
        }
    };
    let op = match ChangeAction::parse(&i.action) {
        Ok(ChangeAction::PostponeSession) => {
            let s = session_id(&mut e, &i.session_id);
            let t = new_start(&mut e, &i.date, &i.start_time);
            s.zip(t).map(|(s, t)| Op::PostponeSession(s, t))
        }
        Ok(ChangeAction::PostponeClass) => {
            if !i.days.trim().is_empty() {
                match i.days.trim().parse::<i64>() {
                    Ok(d) if (1..=366).contains(&d) => Some(Op::PostponeClass(ClassShift::Days(d))),
                    _ => {
                        e.add("days", "Số ngày lùi lịch phải là số nguyên từ 1 đến 366.");
                        None
                    }
                }
            } else if i.date.trim().is_empty() && i.start_time.trim().is_empty() {
                e.add(
                    "date",
                    "Nhập ngày giờ bắt đầu mới của buổi đầu tiên, hoặc số ngày lùi lịch.",
                );
                None
            } else {
                new_start(&mut e, &i.date, &i.start_time)
                    .map(|t| Op::PostponeClass(ClassShift::NewFirstStart(t)))
            }
        }
        Ok(ChangeAction::MoveOnline) => Some(Op::MoveOnline),
        Ok(ChangeAction::CancelSession) => session_id(&mut e, &i.session_id).map(Op::CancelSession),
        Ok(ChangeAction::CancelClass) => Some(Op::CancelClass),
        Err(_) => {
            e.add("form", "Thao tác không hợp lệ.");
            None
        }
    };
    match (op, reason) {
        (Some(op), Some(reason)) if e.is_empty() => Ok((op, reason)),
        _ => Err(e),
    }
}

#[derive(Template)]
#[template(path = "study/changes.html")]
struct ChangesPage {
    ctx: PageCtx,
    c: Class,
    can_plan: bool,
    /// Sessions that still count (the forms choose among them).
    sessions: Vec<StudySession>,
    cancelled: Vec<SessionState>,
    history: Vec<ClassChange>,
    change: ChangeView,
}

async fn load(
    st: &AppState,
    ctx: PageCtx,
    scope: &Scope,
    id: i64,
    change: ChangeView,
) -> AppResult<ChangesPage> {
    let c = classes::get(&st.db, scope, ClassId(id)).await?;
    let can_plan = match classes::require_planner(&st.db, scope, &c).await {
        Ok(()) => true,
        Err(StoreError::Forbidden) => false,
        Err(e) => return Err(e.into()),
    };
    let sessions = classes::sessions(&st.db, &c).await?;
    let cancelled = changes::all_sessions(&st.db, &c)
        .await?
        .into_iter()
        .filter(SessionState::is_cancelled)
        .collect();
    let history = changes::history(&st.db, &c).await?;
    let crumbs = org::breadcrumb(&st.db, scope, OrgId(c.org_id)).await?;
    Ok(ChangesPage {
        ctx: ctx.with_nav("campaigns").with_crumbs(crumbs),
        c,
        can_plan,
        sessions,
        cancelled,
        history,
        change,
    })
}

/// The "Lịch sử thay đổi" tab of a class, with the emergency forms for its organizers.
async fn page(
    State(st): State<AppState>,
    Ctx(ctx, user): Ctx,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let page = load(&st, ctx, user.scope(), id, ChangeView::blank()).await?;
    page.ctx.render(&page)
}

/// One emergency change (R2.6). Invalid input shows the form again (422) with what was typed.
async fn change(
    State(st): State<AppState>,
    Ctx(ctx, _): Ctx,
    Path(id): Path<i64>,
    f: CsrfForm<ChangeInput>,
) -> AppResult<Response> {
    let scope = f.user.scope();
    let c = classes::get(&st.db, scope, ClassId(id)).await?;
    // Someone who sees the class but does not organize it is refused before any validation.
    classes::require_planner(&st.db, scope, &c).await?;
    let mut errors = FieldErrors::new();
    match validate(&f.form) {
        Ok((op, reason)) => {
            let db = &st.db;
            let (done, label) = match op {
                Op::PostponeSession(s, t) => (
                    changes::postpone_session(db, scope, &c, s, t, &reason).await,
                    ChangeAction::PostponeSession,
                ),
                Op::PostponeClass(shift) => (
                    changes::postpone_class(db, scope, &c, shift, &reason).await,
                    ChangeAction::PostponeClass,
                ),
                Op::MoveOnline => (
                    changes::move_online(db, scope, &c, &reason).await,
                    ChangeAction::MoveOnline,
                ),
                Op::CancelSession(s) => (
                    changes::cancel_session(db, scope, &c, s, &reason).await,
                    ChangeAction::CancelSession,
                ),
                Op::CancelClass => (
                    changes::cancel_class(db, scope, &c, &reason).await,
                    ChangeAction::CancelClass,
                ),
            };
            match done {
                Ok(r) => {
                    let msg = format!(
                        "Đã lưu: {}. Đã gửi thông báo cho {} người trong danh sách.",
                        label.label(),
                        domain::text::format_count(i64::try_from(r.notified).unwrap_or(0))
                    );
                    return Ok(ctx.redirect(&format!("/classes/{id}/changes"), &msg));
                }
                Err(StoreError::Rule(domain::Violation { message: m, .. })) => {
                    errors.add("form", m)
                }
                Err(StoreError::NotFound) => {
                    errors.add("session_id", "Không tìm thấy buổi học này trong lớp.")
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(e) => errors = e,
    }
    let view = ChangeView {
        input: f.form,
        errors,
    };
    let page = load(&st, ctx, scope, id, view).await?;
    page.ctx.render_invalid(&page)
}
