//! `/api/v1/auth`: tokens for API clients.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use store::auth::{self as sauth, LoginOutcome, Stage};
use utoipa::ToSchema;

use super::ApiJson;
use crate::app::AppState;
use crate::auth::CurrentUser;
use crate::error::{AppError, AppResult, ErrorBody};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/auth/login", post(login))
        .route("/auth/logout", post(logout))
        .route("/auth/logout-all", post(logout_all))
        .route("/auth/password", post(change_password))
        .route("/me", get(me))
        .route("/ping", post(ping))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
    /// The 6-digit TOTP code (or a recovery code), required for accounts with two-factor on.
    pub totp: Option<String>,
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

/// Log in with a username, password and, where enabled, a TOTP code; returns a bearer token.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = LoginRequest, security(()),
    responses((status = 200, body = LoginResponse), (status = 401, description = "invalid_credentials or totp_required", body = ErrorBody),
        (status = 403, description = "totp_enrollment_required", body = ErrorBody), (status = 429, description = "account_locked or too_many_attempts", body = ErrorBody),
        (status = 400, body = ErrorBody)))]
pub async fn login(
    State(st): State<AppState>,
    crate::auth::ClientIp(ip): crate::auth::ClientIp,
    ApiJson(req): ApiJson<LoginRequest>,
) -> AppResult<Response> {
    let (account, stage) =
        match sauth::attempt_login(&st.db, &req.username, &req.password, &ip).await? {
            LoginOutcome::Ok { account, stage } => (account, stage),
            LoginOutcome::Invalid => {
                let body = ErrorBody {
                    status: 401,
                    error: "invalid_credentials".into(),
                    message: "Tên đăng nhập hoặc mật khẩu không đúng.".into(),
                    fields: Default::default(),
                };
                return Ok((StatusCode::UNAUTHORIZED, Json(body)).into_response());
            }
            LoginOutcome::Locked { until } => {
                return Err(AppError::TooMany(
                    "account_locked",
                    crate::auth_pages::locked_message(until),
                ))
            }
            LoginOutcome::AddressBlocked => {
                return Err(AppError::TooMany(
                    "too_many_attempts",
                    crate::auth_pages::ADDRESS_BLOCKED.into(),
                ))
            }
        };
    match stage {
        Stage::Full => {}
        Stage::Enroll => return Err(AppError::EnrollSecondFactor),
        Stage::Mfa => {
            let code = req.totp.as_deref().unwrap_or("");
            match sauth::check_second_factor(&st.db, account, code, &ip, None).await? {
                sauth::SecondFactorOutcome::Ok => {}
                sauth::SecondFactorOutcome::Wrong { .. } => return Err(AppError::SecondFactor),
                sauth::SecondFactorOutcome::Locked { until } => {
                    return Err(AppError::TooMany(
                        "account_locked",
                        crate::auth_pages::locked_message(until),
                    ))
                }
                sauth::SecondFactorOutcome::AddressBlocked => {
                    return Err(AppError::TooMany(
                        "too_many_attempts",
                        crate::auth_pages::ADDRESS_BLOCKED.into(),
                    ))
                }
            }
        }
    }
    let token = sauth::start_session(&st.db, account, Stage::Full, &ip).await?;
    let session = sauth::load_session_idle(&st.db, &token, st.config.idle_timeouts())
        .await?
        .ok_or(AppError::Unauthorized)?;
    Ok(Json(LoginResponse {
        token,
        csrf_token: session.csrf_token,
        account: account_info(&session.account),
    })
    .into_response())
}

/// End every session of this account, this one included.
#[utoipa::path(post, path = "/api/v1/auth/logout-all", tag = "auth", responses((status = 204), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn logout_all(State(st): State<AppState>, user: CurrentUser) -> AppResult<StatusCode> {
    sauth::delete_all_sessions(&st.db, user.account.id).await?;
    sauth::audit(
        &st.db,
        user.scope(),
        "logout_all",
        "account",
        user.account.id.0,
        None,
        "",
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct PasswordChange {
    pub current_password: String,
    /// At least 10 characters, not common, not containing the username or name.
    pub new_password: String,
}

/// Change the caller's password; other sessions end.
#[utoipa::path(post, path = "/api/v1/auth/password", tag = "auth", request_body = PasswordChange,
    responses((status = 204), (status = 422, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 400, body = ErrorBody)))]
pub async fn change_password(
    State(st): State<AppState>,
    user: CurrentUser,
    ApiJson(b): ApiJson<PasswordChange>,
) -> AppResult<StatusCode> {
    match sauth::change_password(
        &st.db,
        &user.account,
        &b.current_password,
        &b.new_password,
        &user.token,
    )
    .await
    {
        Ok(()) => Ok(StatusCode::NO_CONTENT),
        Err(store::StoreError::Rule(domain::Violation { message: m, .. })) => {
            Err(AppError::field("new_password", m))
        }
        Err(e) => Err(e.into()),
    }
}

/// End this session (the token stops working).
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth", responses((status = 204), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn logout(State(st): State<AppState>, user: CurrentUser) -> AppResult<StatusCode> {
    sauth::delete_session(&st.db, &user.token).await?;
    sauth::audit(
        &st.db,
        user.scope(),
        "logout",
        "account",
        user.account.id.0,
        None,
        "",
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The logged-in account, its roles and clearance.
#[utoipa::path(get, path = "/api/v1/me", tag = "auth", responses((status = 200, body = AccountInfo), (status = 401, body = ErrorBody)))]
pub async fn me(user: CurrentUser) -> Json<AccountInfo> {
    Json(account_info(&user.account))
}

/// Checks that the session (or token) is still good and the server reachable, writing nothing:
/// an operator's device asks before sending its offline queue. Goes through the whole stack (edge
/// checks, authentication, CSRF for cookie sessions): `bench` measures it as the same-stack
/// baseline (issue 12).
#[utoipa::path(post, path = "/api/v1/ping", tag = "auth", responses((status = 204), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn ping(_user: CurrentUser) -> StatusCode {
    StatusCode::NO_CONTENT
}
