//! Who is asking: the session extractor, CSRF checks, flash messages and cookies.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, Method};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use store::auth::{self as sauth, Account};
use store::Scope;

use crate::app::AppState;
use crate::error::AppError;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "qt_session";
/// The flash message cookie's name.
pub const FLASH_COOKIE: &str = "qt_flash";
/// The login form's CSRF cookie (before there is a session).
pub const LOGIN_CSRF_COOKIE: &str = "qt_login_csrf";

/// The peer address of the request ("" when unknown), for lockouts and the audit log.
pub fn client_ip(parts: &Parts) -> String {
    parts
        .extensions
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.ip().to_string())
        .unwrap_or_default()
}

/// The client's address (never fails; "" when unknown).
pub struct ClientIp(pub String);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Self(client_ip(parts)))
    }
}

/// A session that passed the password but not yet the second factor (or its enrollment): only
/// the TOTP and enrollment pages accept it.
#[derive(Debug, Clone)]
pub struct PendingUser {
    pub session: sauth::LoginSession,
    pub token: String,
}

impl FromRequestParts<AppState> for PendingUser {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = cookie(&parts.headers, SESSION_COOKIE).ok_or(AppError::Unauthorized)?;
        let session = sauth::load_session_idle(&state.db, &token, state.config.idle_timeouts())
            .await?
            .ok_or(AppError::Unauthorized)?;
        Ok(Self { session, token })
    }
}

/// The logged-in user of this request.
#[derive(Debug, Clone)]
pub struct CurrentUser {
    pub account: Account,
    /// The session's CSRF token, put in every form.
    pub csrf: String,
    /// The session token (to log out).
    pub token: String,
}

impl CurrentUser {
    pub fn scope(&self) -> &Scope {
        &self.account.scope
    }
}

/// Reads one cookie from the request headers.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Lax, Path=/, Secure when served over HTTPS.
pub fn set_cookie(name: &str, value: &str, max_age: Option<i64>, secure: bool) -> HeaderValue {
    let mut c = format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax");
    if let Some(age) = max_age {
        c.push_str(&format!("; Max-Age={age}"));
    }
    if secure {
        c.push_str("; Secure");
    }
    HeaderValue::from_str(&c).unwrap_or_else(|_| HeaderValue::from_static("invalid=; Max-Age=0"))
}

/// Is this request served over HTTPS (directly configured, or said so by the proxy)?
pub fn is_secure(headers: &HeaderMap, state: &AppState) -> bool {
    state.config.secure_cookies
        || headers
            .get("x-forwarded-proto")
            .is_some_and(|v| v.as_bytes() == b"https")
}

fn bearer(headers: &HeaderMap) -> Option<String> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    v.strip_prefix("Bearer ").map(|t| t.trim().to_string())
}

/// Compares secrets in time independent of where they differ.
pub fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        if let Some(u) = parts.extensions.get::<CurrentUser>() {
            return Ok(u.clone());
        }
        let (token, via_cookie) = match bearer(&parts.headers) {
            Some(t) => (t, false),
            None => (
                cookie(&parts.headers, SESSION_COOKIE).ok_or(AppError::Unauthorized)?,
                true,
            ),
        };
        let session = sauth::load_session_idle(&state.db, &token, state.config.idle_timeouts())
            .await?
            .ok_or(AppError::Unauthorized)?;
        // Only a fully logged-in session reaches the application.
        match session.stage {
            sauth::Stage::Full => {}
            sauth::Stage::Mfa => return Err(AppError::SecondFactor),
            sauth::Stage::Enroll => return Err(AppError::EnrollSecondFactor),
        }
        // API calls authenticated by the cookie carry the CSRF token in a header; bearer tokens
        // are not sent by browsers on their own and need none. HTML forms are checked by `CsrfForm`.
        let unsafe_method = !matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
        // Inside the nested API router the URI has lost its `/api/v1` prefix: look at the original.
        let path = parts
            .extensions
            .get::<axum::extract::OriginalUri>()
            .map_or_else(|| parts.uri.path().to_owned(), |u| u.path().to_owned());
        // A temporary password set by an admin must be replaced before anything else.
        if session.account.must_change_password && !path_allowed_before_password_change(&path) {
            return Err(AppError::PasswordChangeRequired);
        }
        if via_cookie && unsafe_method && path.starts_with("/api/") {
            let sent = parts
                .headers
                .get("x-csrf-token")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            if !same_secret(sent, &session.csrf_token) {
                return Err(AppError::Csrf);
            }
        }
        let mut account = session.account;
        account.scope.ip = client_ip(parts);
        let user = CurrentUser {
            account,
            csrf: session.csrf_token,
            token,
        };
        parts.extensions.insert(user.clone());
        Ok(user)
    }
}

fn path_allowed_before_password_change(path: &str) -> bool {
    matches!(
        path,
        "/account"
            | "/account/password"
            | "/logout"
            | "/account/logout-all"
            | "/api/v1/auth/password"
            | "/api/v1/auth/logout"
            | "/api/v1/me"
    )
}

/// A submitted HTML form whose `csrf` field matched the session's token.
pub struct CsrfForm<T> {
    pub user: CurrentUser,
    pub form: T,
}

#[derive(Deserialize)]
struct CsrfField {
    #[serde(default)]
    csrf: String,
}

impl<T: DeserializeOwned + Send> FromRequest<AppState> for CsrfForm<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = req.into_parts();
        let user = CurrentUser::from_request_parts(&mut parts, state).await?;
        let req = Request::from_parts(parts, body);
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|e| AppError::BadRequest(e.body_text()))?;
        let CsrfField { csrf } = serde_html_form::from_bytes(&bytes).map_err(|_| AppError::Csrf)?;
        if !same_secret(&csrf, &user.csrf) {
            return Err(AppError::Csrf);
        }
        let form = serde_html_form::from_bytes(&bytes)
            .map_err(|e| AppError::BadRequest(format!("Biểu mẫu không đọc được: {e}")))?;
        Ok(Self { user, form })
    }
}

/// Encodes a flash message for its cookie (hex of the UTF-8 bytes: cookie-safe, no dependency).
pub fn encode_flash(msg: &str) -> String {
    msg.bytes().map(|b| format!("{b:02x}")).collect()
}

/// Decodes a flash cookie.
pub fn decode_flash(hex: &str) -> Option<String> {
    let bytes: Option<Vec<u8>> = (0..hex.len())
        .step_by(2)
        .map(|i| {
            hex.get(i..i + 2)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        })
        .collect();
    bytes
        .and_then(|b| String::from_utf8(b).ok())
        .filter(|s| !s.is_empty() && s.len() < 500)
}
