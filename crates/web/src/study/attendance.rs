//! The attendance page of one session: an operator marks 50 people a page on one form (R3.4).

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use domain::ids::SessionId;
use domain::study::{AttendanceMark, AttendanceStatus};
use store::study::classes::{self, Class, StudySession};
use store::study::{attendance, participants};
use store::StoreError;

use crate::app::AppState;
use crate::auth::CsrfForm;
use crate::error::AppResult;
use crate::pages::{Ctx, PageCtx};

pub fn routes() -> Router<AppState> {
    Router::new().route("/sessions/{id}/attendance", get(sheet).post(save))
}

/// Rows per page: an operator marks up to 50 people on one page (issue 11.12: 200 rows made
/// a page of 197 KB for a conference of 800; a page stays under 60 KB).
const PER_PAGE: usize = 50;

#[derive(Debug, serde::Deserialize, Default)]
#[serde(default)]
struct PageQuery {
    /// The rows after this participant (keyset, issue 12.B), and how many came before them.
    after: Option<i64>,
    n: Option<usize>,
}

/// One row as shown and as typed (kept on error).
struct Row {
    participant_id: i64,
    full_name: String,
    org_name: String,
    bridge_point_name: Option<String>,
    status: String,
    late: String,
    early: String,
    reason: String,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "study/attendance.html")]
struct SheetPage {
    ctx: PageCtx,
    c: Class,
    s: StudySession,
    rows: Vec<Row>,
    statuses: &'static [AttendanceStatus],
    can_edit: bool,
    error_count: usize,
    message: Option<String>,
    /// Keyset position: the participant this page starts after, rows before it, whether more
    /// follow.
    after: Option<i64>,
    before: usize,
    more: bool,
    total: i64,
}

impl SheetPage {
    /// The link to the rows after this page.
    fn next_link(&self) -> String {
        let last = self.rows.last().map_or(0, |r| r.participant_id);
        format!(
            "/sessions/{}/attendance?after={last}&n={}",
            self.s.id,
            self.before + self.rows.len()
        )
    }

    /// ` selected` on the option of the row's status.
    fn sel(&self, status: &str, code: &str) -> &'static str {
        if status == code {
            " selected"
        } else {
            ""
        }
    }
}

/// The link of the page after participant `after`, `before` rows in.
fn here(session: i64, after: Option<i64>, before: usize) -> String {
    match after {
        Some(a) => format!("/sessions/{session}/attendance?after={a}&n={before}"),
        None => format!("/sessions/{session}/attendance"),
    }
}

async fn load(
    st: &AppState,
    scope: &store::Scope,
    id: i64,
) -> AppResult<(Class, StudySession, classes::Access, bool)> {
    let (c, s) = classes::session(&st.db, scope, SessionId(id)).await?;
    let (access, can_edit) = match classes::access(&st.db, scope, &c, store::scope::ATTEND).await {
        Ok(a) => (a, !c.is_finished()),
        Err(StoreError::Forbidden) => (
            classes::access(&st.db, scope, &c, store::scope::READ).await?,
            false,
        ),
        Err(e) => return Err(e.into()),
    };
    Ok((c, s, access, can_edit))
}

async fn sheet(
    State(st): State<AppState>,
    Ctx(ctx, user): Ctx,
    Path(id): Path<i64>,
    Query(q): Query<PageQuery>,
) -> AppResult<Response> {
    let (c, s, access, can_edit) = load(&st, user.scope(), id).await?;
    let (rows, more) = attendance::sheet_page(&st.db, &c, &s, &access, q.after, PER_PAGE).await?;
    let total = participants::count_listed(&st.db, &c, &access).await?;
    let before = if q.after.is_some() {
        q.n.unwrap_or(0).min(10_000_000)
    } else {
        0
    };
    let rows = rows
        .into_iter()
        .map(|r| Row {
            participant_id: r.participant_id,
            full_name: r.full_name,
            org_name: r.org_name,
            bridge_point_name: r.bridge_point_name,
            status: r.status.unwrap_or_default(),
            late: if r.late_minutes > 0 {
                r.late_minutes.to_string()
            } else {
                String::new()
            },
            early: if r.left_early_minutes > 0 {
                r.left_early_minutes.to_string()
            } else {
                String::new()
            },
            reason: r.reason.unwrap_or_default(),
            error: None,
        })
        .collect();
    let ctx = ctx.with_nav("campaigns");
    ctx.render(&SheetPage {
        ctx: ctx.clone(),
        c,
        s,
        rows,
        statuses: AttendanceStatus::ALL,
        can_edit,
        error_count: 0,
        message: None,
        after: q.after,
        before,
        more,
        total,
    })
}

fn minutes(s: &str) -> Result<u32, String> {
    let t = s.trim();
    if t.is_empty() {
        return Ok(0);
    }
    t.parse::<u32>()
        .map_err(|_| format!("«{t}» không phải số phút hợp lệ."))
}

async fn save(
    State(st): State<AppState>,
    Ctx(ctx, _): Ctx,
    Path(id): Path<i64>,
    f: CsrfForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    let scope = f.user.scope();
    let (c, s, access, _) = load(&st, scope, id).await?;
    let fields: HashMap<String, String> = f.form.into_iter().collect();
    let fill_present = fields.get("fill").is_some_and(|v| v == "present");
    let get = |k: String| fields.get(&k).cloned().unwrap_or_default();
    let len = u32::try_from(s.duration_minutes).unwrap_or(0);
    let mut rows = Vec::new();
    let mut marks = Vec::new();
    let mut errors = 0;
    let after = fields.get("after").and_then(|p| p.parse::<i64>().ok());
    let before = fields
        .get("n")
        .and_then(|p| p.parse::<usize>().ok())
        .unwrap_or(0)
        .min(10_000_000);
    let (sheet, more) = attendance::sheet_page(&st.db, &c, &s, &access, after, PER_PAGE).await?;
    let total = participants::count_listed(&st.db, &c, &access).await?;
    for r in sheet {
        let pid = r.participant_id;
        // Only the rows of the submitted page are in the form; the others stay as they are.
        if !fields.contains_key(&format!("status_{pid}")) {
            continue;
        }
        let mut status = get(format!("status_{pid}"));
        if status.is_empty() && fill_present {
            status = "present".into();
        }
        let (late, early, reason) = (
            get(format!("late_{pid}")),
            get(format!("early_{pid}")),
            get(format!("reason_{pid}")),
        );
        let mut error = None;
        if !status.is_empty() {
            let parsed = AttendanceStatus::parse(&status)
                .map_err(|e| e.to_string())
                .and_then(|st| Ok((st, minutes(&late)?, minutes(&early)?)))
                .and_then(|(st, l, e)| {
                    AttendanceMark::parse(st, l, e, Some(reason.clone()), len)
                        .map_err(|e| e.to_string())
                });
            match parsed {
                Ok(m) => marks.push((pid, m)),
                Err(e) => error = Some(e),
            }
        }
        errors += usize::from(error.is_some());
        rows.push(Row {
            participant_id: pid,
            full_name: r.full_name,
            org_name: r.org_name,
            bridge_point_name: r.bridge_point_name,
            status,
            late,
            early,
            reason,
            error,
        });
    }
    let mut message = None;
    if errors == 0 && !marks.is_empty() {
        // All or nothing: the store writes every mark in one transaction.
        match attendance::record(&st.db, scope, &c, &s, &marks).await {
            Ok(n) => {
                return Ok(ctx.redirect(
                    &here(id, after, before),
                    &format!(
                        "Đã lưu điểm danh {} người.",
                        domain::text::format_count(n as i64)
                    ),
                ))
            }
            Err(StoreError::Rule(domain::Violation { message: m, .. })) => message = Some(m),
            Err(e) => return Err(e.into()),
        }
    } else if errors == 0 {
        message = Some("Chưa có ai được điểm danh: chọn trạng thái cho từng người, hoặc bấm «Lưu, những người còn lại có mặt».".into());
    }
    let ctx = ctx.with_nav("campaigns");
    ctx.render_invalid(&SheetPage {
        ctx: ctx.clone(),
        c,
        s,
        rows,
        statuses: AttendanceStatus::ALL,
        can_edit: true,
        error_count: errors,
        message,
        after,
        before,
        more,
        total,
    })
}
