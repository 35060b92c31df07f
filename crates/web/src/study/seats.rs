//! The seating chart (R3.4): the hall's plan and seats of a class, its print layout, and the
//! chart of one session on which a tap on a seat marks that person present or absent.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use domain::ids::{ClassId, OrgId, SessionId};
use domain::study::seats::{SeatPlanInput, SeatRef};
use domain::study::AttendanceStatus;
use domain::FieldErrors;
use serde::Deserialize;
use store::org;
use store::study::classes::{self, Class, StudySession};
use store::study::seats::{self, Chart, Seated};
use store::{Scope, StoreError};

use crate::app::AppState;
use crate::auth::CsrfForm;
use crate::error::AppResult;
use crate::pages::{Ctx, PageCtx};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/classes/{id}/seats", get(class_chart))
        .route("/classes/{id}/seats/plan", post(save_plan))
        .route("/classes/{id}/seats/auto", post(auto_assign))
        .route("/classes/{id}/seats/assign", post(assign))
        .route("/classes/{id}/seats/clear", post(clear))
        .route("/classes/{id}/seats/print", get(print))
        .route("/sessions/{id}/seats", get(session_chart).post(toggle))
}

/// One seat as drawn.
struct ViewSeat {
    code: String,
    blocked: bool,
    who: Option<Seated>,
}

/// One row as drawn.
struct ViewRow {
    code: String,
    seats: Vec<ViewSeat>,
}

fn view_rows(chart: &Chart) -> Vec<ViewRow> {
    chart
        .rows()
        .into_iter()
        .map(|r| ViewRow {
            code: r.code,
            seats: r
                .seats
                .into_iter()
                .map(|s| ViewSeat {
                    code: s.code,
                    blocked: s.blocked,
                    who: s.who.and_then(|i| chart.people.get(i).cloned()),
                })
                .collect(),
        })
        .collect()
}

// ----- the class's chart and its forms -----

#[derive(Template)]
#[template(path = "study/seats.html")]
struct SeatsPage {
    ctx: PageCtx,
    c: Class,
    can_plan: bool,
    chart: Chart,
    rows: Vec<ViewRow>,
    sessions: Vec<StudySession>,
    plan: SeatPlanInput,
    plan_errors: FieldErrors,
    /// Refusal of the plan as a whole (seats that would be lost).
    plan_error: Option<String>,
    /// Refusal of the automatic assignment or of clearing.
    auto_error: Option<String>,
    assign: AssignForm,
    assign_error: Option<String>,
}

/// Names of people without a seat listed on the class's seating page at most.
const UNSEATED_NAMED: usize = 200;

impl SeatsPage {
    /// The first people without a seat, in name order, at most [`UNSEATED_NAMED`].
    fn unseated_named(&self) -> Vec<&Seated> {
        self.chart
            .unseated()
            .into_iter()
            .take(UNSEATED_NAMED)
            .collect()
    }
    fn plan_err(&self, f: &str) -> &str {
        self.plan_errors.get(f).unwrap_or("")
    }
    fn has_grid(&self) -> bool {
        self.chart.grid.is_some()
    }
    fn capacity(&self) -> usize {
        self.chart.grid.as_ref().map_or(0, |g| g.capacity())
    }
}

/// What a page shows besides the chart: the forms as typed and their errors.
#[derive(Default)]
struct Forms {
    plan: Option<SeatPlanInput>,
    plan_errors: FieldErrors,
    plan_error: Option<String>,
    auto_error: Option<String>,
    assign: AssignForm,
    assign_error: Option<String>,
}

async fn page(
    st: &AppState,
    ctx: PageCtx,
    scope: &Scope,
    id: i64,
    f: Forms,
) -> AppResult<SeatsPage> {
    let c = classes::get(&st.db, scope, ClassId(id)).await?;
    let chart = seats::chart(&st.db, scope, &c, None).await?;
    let can_plan = match classes::require_planner(&st.db, scope, &c).await {
        Ok(()) => !c.is_finished(),
        Err(StoreError::Forbidden) => false,
        Err(e) => return Err(e.into()),
    };
    let plan = f.plan.unwrap_or_else(|| match &chart.grid {
        Some(g) => SeatPlanInput {
            row_count: g.rows().to_string(),
            seats_per_row: g.seats_per_row().to_string(),
            blocked: g.blocked_text(),
        },
        None => SeatPlanInput::default(),
    });
    let sessions = classes::sessions(&st.db, &c).await?;
    let crumbs = org::breadcrumb(&st.db, scope, OrgId(c.org_id)).await?;
    Ok(SeatsPage {
        ctx: ctx.with_nav("campaigns").with_crumbs(crumbs),
        rows: view_rows(&chart),
        c,
        can_plan,
        chart,
        sessions,
        plan,
        plan_errors: f.plan_errors,
        plan_error: f.plan_error,
        auto_error: f.auto_error,
        assign: f.assign,
        assign_error: f.assign_error,
    })
}

async fn class_chart(
    State(st): State<AppState>,
    Ctx(ctx, user): Ctx,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let p = page(&st, ctx, user.scope(), id, Forms::default()).await?;
    p.ctx.render(&p)
}

async fn save_plan(
    State(st): State<AppState>,
    Ctx(ctx, _): Ctx,
    Path(id): Path<i64>,
    f: CsrfForm<SeatPlanInput>,
) -> AppResult<Response> {
    let scope = f.user.scope();
    let c = classes::get(&st.db, scope, ClassId(id)).await?;
    let mut forms = Forms::default();
    match f.form.validate() {
        Ok(grid) => match seats::set_plan(&st.db, scope, &c, &grid).await {
            Ok(()) => {
                return Ok(ctx.redirect(
                    &format!("/classes/{id}/seats"),
                    &format!(
                        "Đã lưu sơ đồ hội trường: {} hàng × {} ghế, {} ghế sử dụng được.",
                        grid.rows(),
                        grid.seats_per_row(),
                        grid.capacity()
                    ),
                ))
            }
            Err(StoreError::Rule(domain::Violation { message: m, .. })) => {
                forms.plan_error = Some(m)
            }
            Err(e) => return Err(e.into()),
        },
        Err(e) => forms.plan_errors = e,
    }
    forms.plan = Some(f.form);
    let p = page(&st, ctx, scope, id, forms).await?;
    p.ctx.render_invalid(&p)
}

#[derive(Debug, Deserialize)]
struct Empty {}

async fn auto_assign(
    State(st): State<AppState>,
    Ctx(ctx, _): Ctx,
    Path(id): Path<i64>,
    f: CsrfForm<Empty>,
) -> AppResult<Response> {
    let scope = f.user.scope();
    let c = classes::get(&st.db, scope, ClassId(id)).await?;
    match seats::auto_assign(&st.db, scope, &c).await {
        Ok(n) => Ok(ctx.redirect(
            &format!("/classes/{id}/seats"),
            &format!(
                "Đã xếp chỗ tự động cho {} người: theo tổ chức, trong mỗi tổ chức theo tên.",
                domain::text::format_count(n as i64)
            ),
        )),
        Err(StoreError::Rule(domain::Violation { message: m, .. })) => {
            let forms = Forms {
                auto_error: Some(m),
                ..Forms::default()
            };
            let p = page(&st, ctx, scope, id, forms).await?;
            p.ctx.render_invalid(&p)
        }
        Err(e) => Err(e.into()),
    }
}

async fn clear(
    State(st): State<AppState>,
    Ctx(ctx, _): Ctx,
    Path(id): Path<i64>,
    f: CsrfForm<Empty>,
) -> AppResult<Response> {
    let scope = f.user.scope();
    let c = classes::get(&st.db, scope, ClassId(id)).await?;
    match seats::clear(&st.db, scope, &c).await {
        Ok(n) => Ok(ctx.redirect(
            &format!("/classes/{id}/seats"),
            &format!("Đã xóa xếp chỗ của {n} người. Sơ đồ hội trường vẫn giữ nguyên."),
        )),
        Err(StoreError::Rule(domain::Violation { message: m, .. })) => {
            let forms = Forms {
                auto_error: Some(m),
                ..Forms::default()
            };
            let p = page(&st, ctx, scope, id, forms).await?;
            p.ctx.render_invalid(&p)
        }
        Err(e) => Err(e.into()),
    }
}

/// The manual form: one participant, one seat code; `action=unassign` frees their seat.
#[derive(Debug, Deserialize, Default, Clone)]
#[serde(default)]
struct AssignForm {
    participant_id: String,
    seat: String,
    action: String,
}

async fn assign(
    State(st): State<AppState>,
    Ctx(ctx, _): Ctx,
    Path(id): Path<i64>,
    f: CsrfForm<AssignForm>,
) -> AppResult<Response> {
    let scope = f.user.scope();
    let c = classes::get(&st.db, scope, ClassId(id)).await?;
    let form = f.form;
    let back = format!("/classes/{id}/seats");
    let error = match form.participant_id.trim().parse::<i64>() {
        Err(_) => Some("Chọn người cần xếp chỗ.".to_string()),
        Ok(pid) if form.action == "unassign" => {
            match seats::unassign(&st.db, scope, &c, pid).await {
                Ok(true) => return Ok(ctx.redirect(&back, "Đã bỏ chỗ ngồi của người này.")),
                Ok(false) => Some("Người này chưa được xếp chỗ.".to_string()),
                Err(StoreError::Rule(domain::Violation { message: m, .. })) => Some(m),
                Err(e) => return Err(e.into()),
            }
        }
        Ok(pid) => match SeatRef::parse(&form.seat) {
            Err(_) if form.seat.trim().is_empty() => {
                Some("Nhập mã ghế, ví dụ B12 (hàng B, ghế số 12).".to_string())
            }
            Err(e) => Some(e.to_string()),
            Ok(seat) => match seats::assign(&st.db, scope, &c, pid, seat).await {
                Ok(who) => {
                    return Ok(
                        ctx.redirect(&back, &format!("Đã xếp {} vào ghế {seat}.", who.full_name))
                    )
                }
                Err(StoreError::Rule(domain::Violation { message: m, .. })) => Some(m),
                Err(e) => return Err(e.into()),
            },
        },
    };
    let forms = Forms {
        assign: form,
        assign_error: error,
        ..Forms::default()
    };
    let p = page(&st, ctx, scope, id, forms).await?;
    p.ctx.render_invalid(&p)
}

// ----- print -----

#[derive(Template)]
#[template(path = "study/seats_print.html")]
struct PrintPage {
    c: Class,
    chart: Chart,
    rows: Vec<ViewRow>,
    doc: crate::print::DocHead,
}

/// The chart in the Party document layout (A4 landscape): stage on top, seats with names, and
/// an index of names in Vietnamese order with their seats.
async fn print(
    State(st): State<AppState>,
    Ctx(_, user): Ctx,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let scope = user.scope();
    let c = classes::get(&st.db, scope, ClassId(id)).await?;
    let chart = seats::chart(&st.db, scope, &c, None).await?;
    let doc = crate::print::doc_head(&st.db, scope, OrgId(c.org_id), "SĐ").await?;
    let html = PrintPage {
        rows: view_rows(&chart),
        c,
        chart,
        doc,
    }
    .render()?;
    Ok(Html(html).into_response())
}

// ----- one session's chart -----

#[derive(Template)]
#[template(path = "study/seats_session.html")]
struct SessionPage {
    ctx: PageCtx,
    c: Class,
    s: StudySession,
    chart: Chart,
    rows: Vec<ViewRow>,
    can_mark: bool,
    error: Option<String>,
    /// A name searched among the people without a seat.
    q: String,
}

/// People without a seat listed at most on the session's page (issue 11.12: 830 of them made a
/// page of 114 KB); the others are found by name.
const UNSEATED_SHOWN: usize = 100;

impl SessionPage {
    /// The people without a seat whose name holds every word searched, at most
    /// [`UNSEATED_SHOWN`], in name order.
    fn unseated_shown(&self) -> Vec<&Seated> {
        let words: Vec<String> = domain::text::fold(&self.q)
            .split_whitespace()
            .map(str::to_owned)
            .collect();
        self.chart
            .unseated()
            .into_iter()
            .filter(|p| {
                let name = domain::text::fold(&p.full_name);
                words.iter().all(|w| name.contains(w.as_str()))
            })
            .take(UNSEATED_SHOWN)
            .collect()
    }
    fn unseated_total(&self) -> usize {
        self.chart.unseated().len()
    }
    fn unseated_searchable(&self) -> bool {
        self.unseated_total() > UNSEATED_SHOWN || !self.q.is_empty()
    }
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
struct UnseatedQuery {
    q: String,
}

async fn session_page(
    st: &AppState,
    ctx: PageCtx,
    scope: &Scope,
    id: i64,
    error: Option<String>,
    q: String,
) -> AppResult<SessionPage> {
    let (c, s) = classes::session(&st.db, scope, SessionId(id)).await?;
    let chart = seats::chart(&st.db, scope, &c, Some(&s)).await?;
    let can_mark = match classes::access(&st.db, scope, &c, store::scope::ATTEND).await {
        Ok(_) => !c.is_finished(),
        Err(StoreError::Forbidden) => false,
        Err(e) => return Err(e.into()),
    };
    let crumbs = org::breadcrumb(&st.db, scope, OrgId(c.org_id)).await?;
    Ok(SessionPage {
        ctx: ctx.with_nav("campaigns").with_crumbs(crumbs),
        rows: view_rows(&chart),
        c,
        s,
        chart,
        can_mark,
        error,
        q,
    })
}

async fn session_chart(
    State(st): State<AppState>,
    Ctx(ctx, user): Ctx,
    Path(id): Path<i64>,
    Query(q): Query<UnseatedQuery>,
) -> AppResult<Response> {
    let p = session_page(&st, ctx, user.scope(), id, None, q.q.trim().to_owned()).await?;
    p.ctx.render(&p)
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
struct ToggleForm {
    participant_id: String,
}

async fn toggle(
    State(st): State<AppState>,
    Ctx(ctx, _): Ctx,
    Path(id): Path<i64>,
    f: CsrfForm<ToggleForm>,
) -> AppResult<Response> {
    let scope = f.user.scope();
    let (c, s) = classes::session(&st.db, scope, SessionId(id)).await?;
    let error = match f.form.participant_id.trim().parse::<i64>() {
        Err(_) => Some("Chọn một ghế có người ngồi để điểm danh.".to_string()),
        Ok(pid) => match seats::toggle_attendance(&st.db, scope, &c, &s, pid).await {
            Ok((name, status)) => {
                let anchor = seats::chart(&st.db, scope, &c, None)
                    .await?
                    .people
                    .into_iter()
                    .find(|p| p.participant_id == pid)
                    .and_then(|p| p.seat)
                    .map(|code| format!("#ghe-{code}"))
                    .unwrap_or_default();
                let what = match status {
                    AttendanceStatus::Present => "có mặt",
                    _ => "vắng",
                };
                return Ok(ctx.redirect(
                    &format!("/sessions/{id}/seats{anchor}"),
                    &format!("Đã ghi {name}: {what}."),
                ));
            }
            Err(StoreError::Rule(domain::Violation { message: m, .. })) => Some(m),
            Err(e) => return Err(e.into()),
        },
    };
    let p = session_page(&st, ctx, scope, id, error, String::new()).await?;
    p.ctx.render_invalid(&p)
}
