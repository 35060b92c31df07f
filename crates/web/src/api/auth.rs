//! `/api/v1/auth`: tokens for API clients.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use store::auth as sauth;
use utoipa::ToSchema;

use super::ApiJson;
use crate::app::AppState;
use crate::auth::CurrentUser;
use crate::error::{AppResult, ErrorBody};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/auth/login", post(login))
        .route("/auth/logout", post(logout))
        .route("/me", get(me))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
}

/// A role on an organization subtree.
#[derive(Debug, Serialize, ToSchema)]
pub struct GrantInfo {
    pub org_id: i64,
    /// admin, organizer, secretary, presenter, member
    pub role: String,
}

/// The logged-in account.
#[derive(Debug, Serialize, ToSchema)]
pub struct AccountInfo {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub person_id: Option<i64>,
    /// none, confidential, secret, top_secret
    pub clearance: String,
    pub grants: Vec<GrantInfo>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LoginResponse {
    /// Send as `Authorization: Bearer <token>`.
    pub token: String,
    /// Needed in `X-CSRF-Token` only when the session cookie is used instead of the token.
    pub csrf_token: String,
    pub account: AccountInfo,
}

fn account_info(a: &sauth::Account) -> AccountInfo {
    AccountInfo {
        id: a.id.0,
        username: a.username.clone(),
        display_name: a.display_name.clone(),
        person_id: a.scope.person_id.map(|p| p.0),
        clearance: a.scope.clearance.code().into(),
        grants: a
            .scope
            .grants
            .iter()
            .map(|g| GrantInfo {
                org_id: g.org_id.0,
                role: g.role.code().into(),
            })
            .collect(),
    }
}

/// Log in with a username and password; returns a bearer token.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = LoginRequest, security(()),
    responses((status = 200, body = LoginResponse), (status = 401, description = "invalid_credentials", body = ErrorBody), (status = 400, body = ErrorBody)))]
pub async fn login(
    State(st): State<AppState>,
    ApiJson(req): ApiJson<LoginRequest>,
) -> AppResult<Response> {
    let Some(account) = sauth::verify_login(&st.db, &req.username, &req.password).await? else {
        let body = ErrorBody {
            status: 401,
            error: "invalid_credentials".into(),
            message: "Tên đăng nhập hoặc mật khẩu không đúng.".into(),
            fields: Default::default(),
        };
        return Ok((StatusCode::UNAUTHORIZED, Json(body)).into_response());
    };
    let token = sauth::create_session(&st.db, account).await?;
    let session = sauth::load_session(&st.db, &token)
        .await?
        .ok_or(crate::error::AppError::Unauthorized)?;
    Ok(Json(LoginResponse {
        token,
        csrf_token: session.csrf_token,
        account: account_info(&session.account),
    })
    .into_response())
}

/// End this session (the token stops working).
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth", responses((status = 204), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn logout(State(st): State<AppState>, user: CurrentUser) -> AppResult<StatusCode> {
    sauth::delete_session(&st.db, &user.token).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The logged-in account, its roles and clearance.
#[utoipa::path(get, path = "/api/v1/me", tag = "auth", responses((status = 200, body = AccountInfo), (status = 401, body = ErrorBody)))]
pub async fn me(user: CurrentUser) -> Json<AccountInfo> {
    Json(account_info(&user.account))
}
