//! The private calendar link (issue 14.6): `/calendar` makes or revokes the caller's link, shown
//! once; `/calendar/{token}.ics` serves the due dates that concern the account as iCalendar,
//! without a login (calendar apps cannot log in), read with the account's own scope.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde::Deserialize;
use store::plans::calendar;

use crate::app::AppState;
use crate::auth::CsrfForm;
use crate::error::{AppError, AppResult};
use crate::pages::{Ctx, PageCtx};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/calendar", get(page).post(renew))
        .route("/calendar/revoke", post(revoke))
        .route("/calendar/{file}", get(feed))
}

#[derive(Template)]
#[template(path = "plans/calendar.html")]
struct Page {
    ctx: PageCtx,
    has_feed: bool,
    /// The new link, shown once right after it is made.
    link: Option<String>,
}

async fn page(State(st): State<AppState>, Ctx(ctx, user): Ctx) -> AppResult<Response> {
    let has_feed = calendar::has_feed(&st.db, user.scope().account_id).await?;
    let ctx = ctx.with_nav("tasks");
    ctx.render(&Page {
        ctx: ctx.clone(),
        has_feed,
        link: None,
    })
}

/// The address the browser used, for an absolute link (`X-Forwarded-Proto` of the proxy, which
/// the deploy files set; otherwise http).
fn base(headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| {
            h.chars()
                .all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c))
        })
        .unwrap_or("localhost");
    let proto = match headers
        .get("x-forwarded-proto")
        .and_then(|h| h.to_str().ok())
    {
        Some("https") => "https",
        _ => "http",
    };
    format!("{proto}://{host}")
}

#[derive(Debug, Deserialize, Default)]
pub struct Empty {}

async fn renew(
    State(st): State<AppState>,
    Ctx(ctx, _): Ctx,
    headers: HeaderMap,
    f: CsrfForm<Empty>,
) -> AppResult<Response> {
    let token = calendar::renew(&st.db, f.user.scope()).await?;
    let ctx = ctx.with_nav("tasks");
    ctx.render(&Page {
        ctx: ctx.clone(),
        has_feed: true,
        link: Some(format!("{}/calendar/{token}.ics", base(&headers))),
    })
}

async fn revoke(
    State(st): State<AppState>,
    Ctx(ctx, _): Ctx,
    f: CsrfForm<Empty>,
) -> AppResult<Response> {
    calendar::revoke(&st.db, f.user.scope()).await?;
    Ok(ctx.redirect(
        "/calendar",
        "Đã tắt liên kết lịch; ứng dụng lịch sẽ không nhận được nữa.",
    ))
}

async fn feed(
    State(st): State<AppState>,
    headers: HeaderMap,
    Path(file): Path<String>,
) -> AppResult<Response> {
    let token = file.strip_suffix(".ics").ok_or(AppError::NotFound)?;
    let scope = calendar::scope_of(&st.db, token)
        .await?
        .ok_or(AppError::NotFound)?;
    let events = calendar::events(&st.db, &scope, &base(&headers)).await?;
    let body = domain::plans::calendar::ics("Việc của đơn vị — Quán triệt", &events, store::now());
    Ok((
        [
            (header::CONTENT_TYPE, "text/calendar; charset=utf-8"),
            (header::CACHE_CONTROL, "private, max-age=300"),
        ],
        body,
    )
        .into_response())
}
