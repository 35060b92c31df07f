//! Login and logout pages (HTML) — the API has its own in `api::auth`.

use askama::Template;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;
use store::auth as sauth;

use crate::app::AppState;
use crate::auth::{self, CsrfForm, LOGIN_CSRF_COOKIE, SESSION_COOKIE};
use crate::error::{AppError, AppResult};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/login", get(login_form).post(login))
        .route("/logout", post(logout))
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage<'a> {
    csrf: &'a str,
    username: &'a str,
    next: &'a str,
    error: Option<&'a str>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct NextQuery {
    next: String,
}

/// Only local paths are followed after login (no open redirect).
fn safe_next(next: &str) -> &str {
    if next.starts_with('/') && !next.starts_with("//") && !next.contains('\\') {
        next
    } else {
        "/"
    }
}

async fn login_form(
    State(st): State<AppState>,
    headers: HeaderMap,
    q: axum::extract::Query<NextQuery>,
) -> AppResult<Response> {
    // Login CSRF: a double-submit token, since there is no session yet.
    let token = auth::cookie(&headers, LOGIN_CSRF_COOKIE)
        .filter(|t| t.len() == 64)
        .unwrap_or_else(sauth::random_token);
    let html = LoginPage {
        csrf: &token,
        username: "",
        next: safe_next(&q.next),
        error: None,
    }
    .render()?;
    let mut resp = Html(html).into_response();
    resp.headers_mut().append(
        header::SET_COOKIE,
        auth::set_cookie(
            LOGIN_CSRF_COOKIE,
            &token,
            Some(3600),
            auth::is_secure(&headers, &st),
        ),
    );
    Ok(resp)
}

#[derive(Deserialize)]
struct LoginInput {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    next: String,
}

async fn login(
    State(st): State<AppState>,
    headers: HeaderMap,
    Form(f): Form<LoginInput>,
) -> AppResult<Response> {
    let expected = auth::cookie(&headers, LOGIN_CSRF_COOKIE).unwrap_or_default();
    if expected.is_empty() || !auth::same_secret(&expected, &f.csrf) {
        return Err(AppError::Csrf);
    }
    let secure = auth::is_secure(&headers, &st);
    match sauth::verify_login(&st.db, &f.username, &f.password).await? {
        Some(account) => {
            let token = sauth::create_session(&st.db, account).await?;
            let mut resp = Redirect::to(safe_next(&f.next)).into_response();
            let age = sauth::SESSION_DAYS * 24 * 3600;
            resp.headers_mut().append(
                header::SET_COOKIE,
                auth::set_cookie(SESSION_COOKIE, &token, Some(age), secure),
            );
            resp.headers_mut().append(
                header::SET_COOKIE,
                auth::set_cookie(LOGIN_CSRF_COOKIE, "", Some(0), secure),
            );
            Ok(resp)
        }
        None => {
            tracing::info!(username = %f.username, "failed login");
            let html = LoginPage {
                csrf: &expected,
                username: &f.username,
                next: safe_next(&f.next),
                error: Some("Tên đăng nhập hoặc mật khẩu không đúng."),
            }
            .render()?;
            Ok((StatusCode::UNAUTHORIZED, Html(html)).into_response())
        }
    }
}

#[derive(Deserialize)]
struct Empty {}

async fn logout(
    State(st): State<AppState>,
    headers: HeaderMap,
    f: CsrfForm<Empty>,
) -> AppResult<Response> {
    sauth::delete_session(&st.db, &f.user.token).await?;
    let mut resp = Redirect::to("/login").into_response();
    resp.headers_mut().append(
        header::SET_COOKIE,
        auth::set_cookie(SESSION_COOKIE, "", Some(0), auth::is_secure(&headers, &st)),
    );
    Ok(resp)
}
