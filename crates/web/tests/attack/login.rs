//! Lockout after wrong passwords, per-address limit, TOTP (required, one use per code), and the
//! restricted stage of a half-done login.

use serde_json::json;

use crate::common::*;
use crate::harness::*;

both_engines! {
    lockout_after_five_wrong_passwords => lockout_after_five_wrong_passwords_sqlite, lockout_after_five_wrong_passwords_postgres;
    address_limit_after_thirty_failures => address_limit_after_thirty_failures_sqlite, address_limit_after_thirty_failures_postgres;
    totp_required_and_never_replayed => totp_required_and_never_replayed_sqlite, totp_required_and_never_replayed_postgres;
}

async fn lockout_after_five_wrong_passwords(app: TestApp) {
    let mut statuses = Vec::new();
    for i in 0..5 {
        let (_, r) = app
            .form_login("secretary", &format!("wrong-password-{i}"))
            .await;
        statuses.push(r.status.as_u16());
        if i < 4 {
            assert!(
                matches!(r.status.as_u16(), 401 | 422),
                "wrong password {i}: {} {}",
                r.status,
                short(&r.text)
            );
        }
    }
    // Locked now: even the right password is refused with 429 and a Vietnamese message.
    let (_, r) = app.form_login("secretary", PASSWORD).await;
    assert_eq!(
        r.status.as_u16(),
        429,
        "the right password on a locked account (after {statuses:?}): {}",
        short(&r.text)
    );
    let html = r.html();
    assert!(
        html.contains("khóa") || html.contains("khoá") || html.contains("phút"),
        "a Vietnamese lockout message: {}",
        short(&html)
    );
    assert!(
        !r.set_cookies()
            .iter()
            .any(|c| c.starts_with("qt_session=") && !c.starts_with("qt_session=;")),
        "no session while locked"
    );
    let r = app
        .api_login_raw(&json!({"username": "secretary", "password": PASSWORD}))
        .await;
    r.expect_error(429, "account_locked");
    assert!(r.json().get("token").is_none());
    // Other accounts are not affected.
    let b = app.browser_login("organizer").await;
    b.get("/").await.expect(200);
    app.api_login("member").await;

    // The admin unlocks it; then the right password works again.
    let admin = app.api_login("admin").await;
    let accounts = admin.get_ok("/api/v1/admin/accounts").await;
    let sec = items(&accounts)
        .into_iter()
        .find(|a| a["username"] == "secretary")
        .unwrap_or_else(|| panic!("secretary in {}", brief(&accounts)));
    admin
        .post(
            &format!("/api/v1/admin/accounts/{}/unlock", id(&sec)),
            &json!({}),
        )
        .await
        .expect(204);
    app.api_login("secretary").await;
}

async fn address_limit_after_thirty_failures(app: TestApp) {
    // 30 failures from one address (different, unknown usernames: no account lock involved).
    for i in 0..30 {
        let r = app
            .api_login_raw(
                &json!({"username": format!("khong-ton-tai-{i}"), "password": "sai-mat-khau"}),
            )
            .await;
        assert!(
            matches!(r.status.as_u16(), 401 | 429),
            "failure {i}: {} {}",
            r.status,
            r.text
        );
    }
    let r = app
        .api_login_raw(&json!({"username": "organizer", "password": PASSWORD}))
        .await;
    r.expect_error(429, "too_many_attempts");
    let (_, r) = app.form_login("organizer", PASSWORD).await;
    assert_eq!(
        r.status.as_u16(),
        429,
        "the login form from the blocked address"
    );
}

async fn totp_required_and_never_replayed(app: TestApp) {
    // API: the password alone is not enough for the admin.
    app.api_login_raw(&json!({"username": "admin", "password": PASSWORD}))
        .await
        .expect_error(401, "totp_required");
    app.api_login_raw(&json!({"username": "admin", "password": PASSWORD, "totp": "000000"}))
        .await
        .expect_error(401, "totp_required");
    // A wrong password with a valid code does not log in either (and does not burn the code).
    let code = app.next_totp("admin").await;
    let r = app
        .api_login_raw(&json!({"username": "admin", "password": "wrong-password", "totp": code}))
        .await;
    r.expect(401);
    // A valid code works once…
    let r = app
        .api_login_raw(&json!({"username": "admin", "password": PASSWORD, "totp": code}))
        .await;
    r.expect(200);
    let token = r.json()["token"].as_str().unwrap().to_string();
    // …and never again, on the API or on the form.
    let again = app
        .api_login_raw(&json!({"username": "admin", "password": PASSWORD, "totp": code}))
        .await;
    assert_eq!(
        again.status.as_u16(),
        401,
        "replayed TOTP code: {}",
        again.text
    );
    let (c, r) = app.form_login("admin", PASSWORD).await;
    r.expect_redirect("/login/totp");
    let r = app.form_totp(&c, &code).await;
    assert!(
        !(r.status.as_u16() == 303 && r.location() == Some("/")),
        "replayed code on the form logged in: {:?}",
        r.location()
    );
    // The restricted-stage session reaches nothing.
    for path in ["/", "/resolutions", "/admin/accounts", "/account"] {
        let r = c.get(app.url(path)).send().await.unwrap();
        let loc = r
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        assert!(
            r.status() == 303 && loc.starts_with("/login"),
            "restricted stage GET {path}: {} {loc}",
            r.status()
        );
    }
    let r = c.get(app.url("/api/v1/me")).send().await.unwrap();
    assert_eq!(r.status(), 401, "restricted stage on the API");
    let r = c.get(app.url("/api/v1/resolutions")).send().await.unwrap();
    assert_eq!(r.status(), 401, "restricted stage on the API");
    // The half-done session's cookie is not a bearer token either.
    let cookie = r.headers().get_all("set-cookie").iter().count();
    let _ = cookie;
    // A fresh code finishes it.
    let fresh = app.next_totp("admin").await;
    let r = app.form_totp(&c, &fresh).await;
    r.expect_redirect("/");
    let r = c.get(app.url("/")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    // The API token from before still works (sessions are independent).
    let r = client()
        .get(app.url("/api/v1/me"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    // A cleared account without TOTP must enroll first: 403 on the API.
    let admin = app.api_login("admin").await;
    let orgs = Orgs::load(&app).await;
    create_account_ok(&admin, "canbo.mat", orgs.c1, "member", "confidential").await;
    app.api_login_raw(&json!({"username": "canbo.mat", "password": STRONG_PASSWORD}))
        .await
        .expect_error(403, "totp_enrollment_required");
    let (c, r) = app.form_login("canbo.mat", STRONG_PASSWORD).await;
    r.expect_redirect("/account/2fa");
    for path in ["/", "/resolutions", "/me"] {
        let r = c.get(app.url(path)).send().await.unwrap();
        let loc = r
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        assert!(
            r.status() == 303 && loc.starts_with("/account/2fa"),
            "must-enroll GET {path}: {} {loc}",
            r.status()
        );
    }
    let r = c.get(app.url("/api/v1/me")).send().await.unwrap();
    assert!(
        matches!(r.status().as_u16(), 401 | 403),
        "must-enroll on the API: {}",
        r.status()
    );
}
