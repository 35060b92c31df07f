//! A member's notifications (R3.3, R3.5, R2.6): the list, newest first, and "Đánh dấu đã đọc".
//! The unread count shows as a badge in the menu (see `pages::Ctx`).

use askama::Template;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use serde::Deserialize;
use store::notify::{self, Notification};

use crate::app::AppState;
use crate::auth::CsrfForm;
use crate::error::{AppError, AppResult};
use crate::pages::{Ctx, PageCtx};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/notifications", get(page))
        .route("/notifications/read-all", post(read_all))
        .route("/notifications/{id}/read", post(read_one))
}

/// Notifications shown on the page.
const LIMIT: i64 = 200;

#[derive(Template)]
#[template(path = "notifications.html")]
struct NotificationsPage {
    ctx: PageCtx,
    items: Vec<Notification>,
}

impl NotificationsPage {
    fn unread(&self) -> usize {
        self.items.iter().filter(|n| n.is_unread()).count()
    }
}

async fn page(State(st): State<AppState>, Ctx(ctx, user): Ctx) -> AppResult<Response> {
    let items = match user.scope().person_id {
        Some(p) => notify::list(&st.db, p, LIMIT).await?,
        None => vec![],
    };
    let ctx = ctx.with_nav("notifications");
    ctx.render(&NotificationsPage {
        ctx: ctx.clone(),
        items,
    })
}

#[derive(Debug, Deserialize)]
struct Empty {}

async fn read_one(
    State(st): State<AppState>,
    Ctx(ctx, _): Ctx,
    Path(id): Path<i64>,
    f: CsrfForm<Empty>,
) -> AppResult<Response> {
    let person = f.user.scope().person_id.ok_or(AppError::NotFound)?;
    notify::mark_read(&st.db, person, Some(id)).await?;
    Ok(ctx.redirect("/notifications", "Đã đánh dấu đã đọc."))
}

async fn read_all(
    State(st): State<AppState>,
    Ctx(ctx, _): Ctx,
    f: CsrfForm<Empty>,
) -> AppResult<Response> {
    let person = f.user.scope().person_id.ok_or(AppError::NotFound)?;
    let n = notify::mark_read(&st.db, person, None).await?;
    Ok(ctx.redirect(
        "/notifications",
        &format!("Đã đánh dấu đã đọc {n} thông báo."),
    ))
}
