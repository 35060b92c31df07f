//! Login (password, then the second factor), logout, and the "my account" pages: password change,
//! two-factor enrollment, log out everywhere. The API has its own in `api::auth`.

use askama::Template;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;
use store::auth::{self as sauth, LoginOutcome, Stage};

use crate::app::AppState;
use crate::auth::{self, CsrfForm, PendingUser, LOGIN_CSRF_COOKIE, SESSION_COOKIE};
use crate::error::{AppError, AppResult};
use crate::pages::{Ctx, PageCtx};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/login", get(login_form).post(login))
        .route("/login/totp", get(totp_form).post(totp))
        .route("/logout", post(logout))
        .route("/account", get(account))
        .route("/account/password", post(change_password))
        .route("/account/logout-all", post(logout_all))
        .route("/account/email", post(set_email_mode))
        .route("/account/2fa", get(enroll_form).post(enroll))
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage<'a> {
    csrf: &'a str,
    username: &'a str,
    next: &'a str,
    error: Option<&'a str>,
    /// Demo accounts with the published password exist (issue 13.1).
    demo: bool,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct NextQuery {
    next: String,
}

/// Only a same-origin path is followed after login (no open redirect, issue 10.3): it starts with
/// one `/`, holds no backslash, whitespace or control character (browsers drop a tab or a line
/// end, so `/\t/evil.example` would become `//evil.example`), and parses as a path alone.
pub fn safe_next(next: &str) -> &str {
    let path_only = next
        .parse::<axum::http::Uri>()
        .is_ok_and(|u| u.scheme().is_none() && u.authority().is_none());
    let ok = next.starts_with('/')
        && !next.starts_with("//")
        && next.len() <= 2048
        && next.is_ascii()
        && !next
            .chars()
            .any(|c| c == '\\' || c.is_whitespace() || c.is_control())
        && path_only;
    if ok {
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
        demo: !st.config.demo_accounts.is_empty(),
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

/// The Vietnamese message for a lockout until `until`.
pub fn locked_message(until: chrono::DateTime<chrono::Utc>) -> String {
    let local = domain::study::utc_to_local(until);
    format!(
        "Tài khoản tạm khóa đến {} do nhập sai mật khẩu nhiều lần. Vui lòng thử lại sau hoặc liên hệ quản trị viên.",
        local.format("%H:%M %d/%m/%Y")
    )
}

/// The message shown when an address made too many failed logins.
pub const ADDRESS_BLOCKED: &str =
    "Có quá nhiều lần đăng nhập sai từ địa chỉ này. Vui lòng thử lại sau 15 phút.";

async fn login(
    State(st): State<AppState>,
    crate::auth::ClientIp(ip): crate::auth::ClientIp,
    headers: HeaderMap,
    Form(f): Form<LoginInput>,
) -> AppResult<Response> {
    let expected = auth::cookie(&headers, LOGIN_CSRF_COOKIE).unwrap_or_default();
    if expected.is_empty() || !auth::same_secret(&expected, &f.csrf) {
        return Err(AppError::Csrf);
    }
    let secure = auth::is_secure(&headers, &st);
    let refuse = |status: StatusCode, msg: &str| -> AppResult<Response> {
        let html = LoginPage {
            csrf: &expected,
            username: &f.username,
            next: safe_next(&f.next),
            error: Some(msg),
            demo: !st.config.demo_accounts.is_empty(),
        }
        .render()?;
        Ok((status, Html(html)).into_response())
    };
    match sauth::attempt_login(&st.db, &f.username, &f.password, &ip).await? {
        LoginOutcome::Ok { account, stage } => {
            let token = sauth::start_session(&st.db, account, stage, &ip).await?;
            let to = match stage {
                Stage::Full => safe_next(&f.next),
                Stage::Mfa => "/login/totp",
                Stage::Enroll => "/account/2fa",
            };
            let mut resp = Redirect::to(to).into_response();
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
        LoginOutcome::Invalid => {
            tracing::info!(username = %f.username, %ip, "failed login");
            refuse(
                StatusCode::UNAUTHORIZED,
                "Tên đăng nhập hoặc mật khẩu không đúng.",
            )
        }
        LoginOutcome::Locked { until } => {
            tracing::warn!(username = %f.username, %ip, "login on a locked account");
            refuse(StatusCode::TOO_MANY_REQUESTS, &locked_message(until))
        }
        LoginOutcome::AddressBlocked => {
            tracing::warn!(%ip, "login refused for the address");
            refuse(StatusCode::TOO_MANY_REQUESTS, ADDRESS_BLOCKED)
        }
    }
}

#[derive(Template)]
#[template(path = "totp.html")]
struct TotpPage<'a> {
    csrf: &'a str,
    error: Option<&'a str>,
}

async fn totp_form(p: PendingUser) -> AppResult<Response> {
    if p.session.stage != Stage::Mfa {
        return Ok(Redirect::to("/").into_response());
    }
    Ok(Html(
        TotpPage {
            csrf: &p.session.csrf_token,
            error: None,
        }
        .render()?,
    )
    .into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct CodeInput {
    csrf: String,
    code: String,
}

async fn totp(
    State(st): State<AppState>,
    crate::auth::ClientIp(ip): crate::auth::ClientIp,
    headers: HeaderMap,
    p: PendingUser,
    Form(f): Form<CodeInput>,
) -> AppResult<Response> {
    if !auth::same_secret(&f.csrf, &p.session.csrf_token) {
        return Err(AppError::Csrf);
    }
    if p.session.stage != Stage::Mfa {
        return Ok(Redirect::to("/").into_response());
    }
    let outcome =
        sauth::check_second_factor(&st.db, p.session.account.id, &f.code, &ip, Some(&p.token))
            .await?;
    let secure = auth::is_secure(&headers, &st);
    // A login ended for too many wrong codes goes back to the password, with the reason.
    let back_to_login = |status: StatusCode, msg: &str| -> AppResult<Response> {
        let token = sauth::random_token();
        let html = LoginPage {
            csrf: &token,
            username: &p.session.account.username,
            next: "/",
            error: Some(msg),
            demo: !st.config.demo_accounts.is_empty(),
        }
        .render()?;
        let mut resp = (status, Html(html)).into_response();
        for c in [
            auth::set_cookie(SESSION_COOKIE, "", Some(0), secure),
            auth::set_cookie(LOGIN_CSRF_COOKIE, &token, Some(3600), secure),
        ] {
            resp.headers_mut().append(header::SET_COOKIE, c);
        }
        Ok(resp)
    };
    let error = match outcome {
        sauth::SecondFactorOutcome::Ok => {
            sauth::promote_session(&st.db, &p.token).await?;
            return Ok(Redirect::to("/").into_response());
        }
        sauth::SecondFactorOutcome::Locked { until } => {
            tracing::warn!(account = p.session.account.id.0, %ip, "second factor on a locked account");
            return back_to_login(StatusCode::TOO_MANY_REQUESTS, &locked_message(until));
        }
        sauth::SecondFactorOutcome::AddressBlocked => {
            return back_to_login(StatusCode::TOO_MANY_REQUESTS, ADDRESS_BLOCKED);
        }
        sauth::SecondFactorOutcome::Wrong { ended: true } => {
            tracing::info!(account = p.session.account.id.0, %ip, "login ended after wrong codes");
            return back_to_login(
                StatusCode::UNAUTHORIZED,
                "Nhập sai mã xác thực quá số lần cho phép. Hãy đăng nhập lại từ đầu.",
            );
        }
        sauth::SecondFactorOutcome::Wrong { ended: false } => {
            "Mã xác thực không đúng hoặc đã được dùng. Hãy nhập mã mới trên ứng dụng."
        }
    };
    let html = TotpPage {
        csrf: &p.session.csrf_token,
        error: Some(error),
    }
    .render()?;
    Ok((StatusCode::UNAUTHORIZED, Html(html)).into_response())
}

#[derive(Deserialize)]
struct Empty {}

async fn logout(
    State(st): State<AppState>,
    headers: HeaderMap,
    f: CsrfForm<Empty>,
) -> AppResult<Response> {
    sauth::delete_session(&st.db, &f.user.token).await?;
    let id = f.user.account.id.0;
    sauth::audit(&st.db, f.user.scope(), "logout", "account", id, None, "").await?;
    let mut resp = Redirect::to("/login").into_response();
    resp.headers_mut().append(
        header::SET_COOKIE,
        auth::set_cookie(SESSION_COOKIE, "", Some(0), auth::is_secure(&headers, &st)),
    );
    Ok(resp)
}

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage {
    ctx: PageCtx,
    username: String,
    facts: sauth::AccountFacts,
    error: Option<String>,
    /// each, digest or off (issue 13.3).
    email_mode: String,
}

async fn account_page(
    st: &AppState,
    ctx: PageCtx,
    user: &auth::CurrentUser,
    error: Option<String>,
) -> AppResult<AccountPage> {
    let facts = sauth::account_facts(&st.db, user.account.id).await?;
    let email_mode = store::outbox::email_mode(&st.db, user.account.id).await?;
    Ok(AccountPage {
        ctx: ctx.with_nav("account"),
        username: user.account.username.clone(),
        facts,
        error,
        email_mode,
    })
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct EmailModeInput {
    email_mode: String,
}

/// How the account's notifications come by e-mail (issue 13.3): each, a daily digest, or none.
async fn set_email_mode(
    State(st): State<AppState>,
    Ctx(ctx, _): Ctx,
    f: CsrfForm<EmailModeInput>,
) -> AppResult<Response> {
    store::outbox::set_email_mode(&st.db, f.user.account.id, &f.form.email_mode).await?;
    let said = match f.form.email_mode.as_str() {
        "digest" => "Từ nay thông báo được gửi thư tổng hợp mỗi ngày một lần, lúc 17 giờ.",
        "off" => "Từ nay thông báo không được gửi qua thư điện tử.",
        _ => "Từ nay mỗi thông báo được gửi qua thư điện tử.",
    };
    Ok(ctx.redirect("/account", said))
}

async fn account(State(st): State<AppState>, Ctx(ctx, user): Ctx) -> AppResult<Response> {
    let page = account_page(&st, ctx, &user, None).await?;
    page.ctx.render(&page)
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct PasswordInput {
    current_password: String,
    new_password: String,
    confirm_password: String,
}

async fn change_password(
    State(st): State<AppState>,
    Ctx(ctx, _): Ctx,
    f: CsrfForm<PasswordInput>,
) -> AppResult<Response> {
    let error = if f.form.new_password != f.form.confirm_password {
        Some("Mật khẩu mới nhập lại không khớp.".to_string())
    } else {
        match sauth::change_password(
            &st.db,
            &f.user.account,
            &f.form.current_password,
            &f.form.new_password,
            &f.user.token,
        )
        .await
        {
            Ok(()) => {
                return Ok(ctx.redirect(
                    "/account",
                    "Đã đổi mật khẩu. Các phiên đăng nhập khác đã được đăng xuất.",
                ))
            }
            Err(store::StoreError::Rule(domain::Violation { message: m, .. })) => Some(m),
            Err(e) => return Err(e.into()),
        }
    };
    let page = account_page(&st, ctx, &f.user, error).await?;
    page.ctx.render_invalid(&page)
}

async fn logout_all(
    State(st): State<AppState>,
    headers: HeaderMap,
    f: CsrfForm<Empty>,
) -> AppResult<Response> {
    sauth::delete_all_sessions(&st.db, f.user.account.id).await?;
    sauth::audit(
        &st.db,
        f.user.scope(),
        "logout_all",
        "account",
        f.user.account.id.0,
        None,
        "",
    )
    .await?;
    let mut resp = Redirect::to("/login").into_response();
    resp.headers_mut().append(
        header::SET_COOKIE,
        auth::set_cookie(SESSION_COOKIE, "", Some(0), auth::is_secure(&headers, &st)),
    );
    Ok(resp)
}

#[derive(Template)]
#[template(path = "enroll.html")]
struct EnrollPage<'a> {
    csrf: &'a str,
    secret: &'a str,
    qr_svg: &'a str,
    error: Option<&'a str>,
    codes: Vec<String>,
    enabled: bool,
}

/// An SVG QR code of `data`, drawn by the server (no external service).
pub(crate) fn qr_svg(data: &str) -> String {
    match qrcode::QrCode::new(data.as_bytes()) {
        Ok(code) => code
            .render::<qrcode::render::svg::Color>()
            .min_dimensions(220, 220)
            .quiet_zone(true)
            .build(),
        Err(_) => String::new(),
    }
}

async fn enroll_form(State(st): State<AppState>, p: PendingUser) -> AppResult<Response> {
    let id = p.session.account.id;
    if sauth::account_facts(&st.db, id).await?.totp_enabled {
        let html = EnrollPage {
            csrf: &p.session.csrf_token,
            secret: "",
            qr_svg: "",
            error: None,
            codes: vec![],
            enabled: true,
        }
        .render()?;
        return Ok(Html(html).into_response());
    }
    let secret = match sauth::pending_totp_secret(&st.db, id).await? {
        Some(s) => s,
        None => sauth::begin_totp_enrollment(&st.db, id).await?,
    };
    let svg = qr_svg(&sauth::totp_uri(&secret, &p.session.account.username));
    let html = EnrollPage {
        csrf: &p.session.csrf_token,
        secret: &secret,
        qr_svg: &svg,
        error: None,
        codes: vec![],
        enabled: false,
    }
    .render()?;
    Ok(Html(html).into_response())
}

async fn enroll(
    State(st): State<AppState>,
    p: PendingUser,
    Form(f): Form<CodeInput>,
) -> AppResult<Response> {
    if !auth::same_secret(&f.csrf, &p.session.csrf_token) {
        return Err(AppError::Csrf);
    }
    let id = p.session.account.id;
    match sauth::finish_totp_enrollment(&st.db, id, &f.code).await? {
        Some(codes) => {
            sauth::promote_session(&st.db, &p.token).await?;
            sauth::audit(
                &st.db,
                &p.session.account.scope,
                "enable_totp",
                "account",
                id.0,
                None,
                "",
            )
            .await?;
            let html = EnrollPage {
                csrf: &p.session.csrf_token,
                secret: "",
                qr_svg: "",
                error: None,
                codes,
                enabled: true,
            }
            .render()?;
            Ok(Html(html).into_response())
        }
        None => {
            let secret = sauth::pending_totp_secret(&st.db, id)
                .await?
                .unwrap_or_default();
            let svg = qr_svg(&sauth::totp_uri(&secret, &p.session.account.username));
            let html = EnrollPage {
                csrf: &p.session.csrf_token,
                secret: &secret,
                qr_svg: &svg,
                error: Some("Mã xác thực không đúng. Kiểm tra giờ trên điện thoại và nhập mã mới."),
                codes: vec![],
                enabled: false,
            }
            .render()?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(html)).into_response())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    /// Issue 10.3: only a path on this site is followed after login.
    #[test]
    fn next_is_a_same_origin_path_or_home() {
        for good in ["/", "/classes/5", "/people?q=nguyen%20an&page=2", "/a/b#c"] {
            assert_eq!(safe_next(good), good);
        }
        for bad in [
            "/\t/evil.example/x",
            "/\n/evil.example",
            "/x\r\nSet-Cookie: a=b",
            "//evil.example",
            "/\\evil.example",
            "\\\\evil.example",
            "https://evil.example/",
            "evil.example",
            "/ /evil",
            "/\u{0}",
            "/\u{202e}x",
            "",
        ] {
            assert_eq!(safe_next(bad), "/", "{bad:?}");
        }
    }
}
