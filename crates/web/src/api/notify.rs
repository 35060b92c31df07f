//! `/api/v1/notifications`: the caller's own notifications (R3.3, R3.5, R2.6).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde::Serialize;
use store::notify;
use utoipa::ToSchema;

use super::views;
use crate::app::AppState;
use crate::auth::CurrentUser;
use crate::error::{AppError, AppResult, ErrorBody};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/notifications", get(list))
        .route("/notifications/read-all", post(read_all))
        .route("/notifications/{id}/read", post(read_one))
}

view! {
    /// A notification as shown to its person.
    NotificationView as Notification from notify::Notification {
        id: i64,
        /// class_change, absent, retake
        kind: String,
        title: String,
        body: String,
        /// A path in this application ("" when there is none).
        link: String,
        created_at: DateTime<Utc>,
        /// Null while unread.
        read_at: Option<DateTime<Utc>>,
    }
}

/// The caller's latest notifications, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct NotificationList {
    /// Unread notifications in all (not only those listed).
    pub unread: i64,
    pub items: Vec<NotificationView>,
}

/// The caller's notifications (empty for an account not linked to a person).
#[utoipa::path(get, path = "/api/v1/notifications", operation_id = "list_notifications", tag = "notify",
    responses((status = 200, body = NotificationList), (status = 401, body = ErrorBody)))]
pub async fn list(
    State(st): State<AppState>,
    user: CurrentUser,
) -> AppResult<Json<NotificationList>> {
    let Some(p) = user.scope().person_id else {
        return Ok(Json(NotificationList {
            unread: 0,
            items: vec![],
        }));
    };
    Ok(Json(NotificationList {
        unread: notify::unread_count(&st.db, p).await?,
        items: views(notify::list(&st.db, p, 200).await?),
    }))
}

/// Marks one of the caller's notifications read; another person's is 404.
#[utoipa::path(post, path = "/api/v1/notifications/{id}/read", tag = "notify", params(("id" = i64, Path, description = "notification id")),
    responses((status = 204), (status = 404, body = ErrorBody), (status = 403, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn read_one(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> AppResult<StatusCode> {
    let p = user.scope().person_id.ok_or(AppError::NotFound)?;
    notify::mark_read(&st.db, p, Some(id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Marks all of the caller's notifications read.
#[utoipa::path(post, path = "/api/v1/notifications/read-all", tag = "notify",
    responses((status = 204), (status = 404, body = ErrorBody), (status = 403, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn read_all(State(st): State<AppState>, user: CurrentUser) -> AppResult<StatusCode> {
    let p = user.scope().person_id.ok_or(AppError::NotFound)?;
    notify::mark_read(&st.db, p, None).await?;
    Ok(StatusCode::NO_CONTENT)
}
