//! Health, login and logout (form and API), and CSRF on forms and on the API.

use serde_json::json;

use crate::harness::*;

both_engines! {
    health_and_login => health_and_login_sqlite, health_and_login_postgres;
    csrf_is_required_on_html_forms => csrf_is_required_on_html_forms_sqlite, csrf_is_required_on_html_forms_postgres;
    csrf_is_required_on_cookie_api_calls => csrf_is_required_on_cookie_api_calls_sqlite, csrf_is_required_on_cookie_api_calls_postgres;
    destructive_forms_ask_first_without_javascript => destructive_forms_ask_first_without_javascript_sqlite, destructive_forms_ask_first_without_javascript_postgres;
}

/// Issue 11.15: destructive actions were confirmed only by a JavaScript dialog; without it they
/// went straight through. The server now asks on a page of its own, which posts the same form
/// again once confirmed.
async fn destructive_forms_ask_first_without_javascript(app: TestApp) {
    let b = app.browser_login("organizer").await;
    let page = b.get("/account").await;
    page.expect(200);
    assert!(
        page.html().contains("name=\"_confirm\""),
        "the form carries its question"
    );
    let question = "Đăng xuất khỏi mọi thiết bị, kể cả thiết bị này?";
    let r = b
        .post_form("/account/logout-all", &[("_confirm", question)])
        .await;
    r.expect(200);
    let html = r.html();
    assert!(
        html.contains(question) && html.contains("Đồng ý"),
        "{}",
        short(&html)
    );
    assert!(html.contains("name=\"_confirmed\" value=\"1\""));
    assert!(
        html.contains(&format!("name=\"csrf\" value=\"{}\"", b.csrf)),
        "the same fields go again"
    );
    b.get("/me").await.expect(200);
    // Confirmed: done.
    b.post_form(
        "/account/logout-all",
        &[("_confirm", question), ("_confirmed", "1")],
    )
    .await
    .expect_redirect("/");
    let after = b.get("/me").await;
    assert_eq!(after.status.as_u16(), 303, "logged out everywhere");
}

async fn health_and_login(app: TestApp) {
    // Health.
    let r = app.anon_get("/healthz").await;
    r.expect(200);
    assert_eq!(r.json()["status"], "ok", "{}", r.text);

    // Without credentials: the API says 401, pages send the user to the login form.
    app.anon_get("/api/v1/me")
        .await
        .expect_error(401, "unauthorized");
    app.anon_get("/").await.expect_redirect("/login");
    app.anon_get("/resolutions").await.expect_redirect("/login");

    // The login page sets its CSRF cookie and carries the hidden field.
    let c = client();
    let page = c.get(app.url("/login")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let cookies: Vec<String> = page
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect();
    assert!(
        cookies.iter().any(|c| c.starts_with("qt_login_csrf=")),
        "GET /login sets qt_login_csrf: {cookies:?}"
    );
    let body = page.text().await.unwrap();
    assert!(scrape_csrf(&body).is_some_and(|t| !t.is_empty()));

    // Wrong password: the form again with the Vietnamese message, and no session.
    let (_, r) = app.form_login("organizer", "not-the-password").await;
    assert!(
        matches!(r.status.as_u16(), 401 | 422),
        "wrong password: {} {}",
        r.status,
        short(&r.text)
    );
    assert!(
        r.html().contains("Tên đăng nhập hoặc mật khẩu không đúng"),
        "wrong password message: {}",
        short(&r.text)
    );
    assert!(
        scrape_csrf(&r.text).is_some(),
        "the form is shown again with its csrf field"
    );
    assert!(
        !r.set_cookies()
            .iter()
            .any(|c| c.starts_with("qt_session=") && !c.starts_with("qt_session=;")),
        "no session cookie after a wrong password: {:?}",
        r.set_cookies()
    );
    // An unknown user gets the same answer (no account enumeration).
    let (_, r2) = app.form_login("nobody-here", PASSWORD).await;
    assert_eq!(r2.status, r.status);
    assert!(r2.html().contains("Tên đăng nhập hoặc mật khẩu không đúng"));

    // Right password: 303 to / with an HttpOnly, SameSite=Lax session cookie.
    let (c, r) = app.form_login("organizer", PASSWORD).await;
    r.expect_redirect("/");
    assert_eq!(r.location(), Some("/"));
    let session = r
        .set_cookies()
        .into_iter()
        .find(|c| c.starts_with("qt_session="))
        .unwrap_or_else(|| panic!("no qt_session cookie: {:?}", r.set_cookies()));
    let lower = session.to_ascii_lowercase();
    assert!(lower.contains("httponly"), "{session}");
    assert!(lower.contains("samesite=lax"), "{session}");
    assert!(
        session.len() > "qt_session=".len() + 16,
        "a real token: {session}"
    );
    let home = c.get(app.url("/")).send().await.unwrap();
    assert_eq!(home.status(), 200);
    let home = unescape(&home.text().await.unwrap());
    assert!(
        home.contains("Cán bộ tuyên giáo xã"),
        "the dashboard names the logged-in account: {}",
        short(&home)
    );
    let csrf = scrape_csrf(&home).expect("csrf on the dashboard");

    // Form logout: the session ends.
    let r = c
        .post(app.url("/logout"))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303, "logout redirects");
    let again = c.get(app.url("/")).send().await.unwrap();
    assert_eq!(
        again.status(),
        303,
        "after logout / redirects to the login form"
    );
    assert!(again.headers()["location"]
        .to_str()
        .unwrap()
        .starts_with("/login"));

    // API login.
    let bad = client()
        .post(app.url("/api/v1/auth/login"))
        .json(&json!({"username": "admin", "password": "wrong-password"}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 401);
    let v: serde_json::Value = bad.json().await.unwrap();
    assert_eq!(v["error"], "invalid_credentials", "{v}");
    assert!(v.get("token").is_none());

    let admin = app.api_login("admin").await;
    assert!(admin.token.len() >= 16, "{}", admin.login);
    assert!(!admin.csrf.is_empty(), "csrf_token in {}", admin.login);
    assert_eq!(
        admin.login["account"]["username"], "admin",
        "{}",
        admin.login
    );
    let me = admin.get("/api/v1/me").await;
    me.expect(200);
    assert!(me.text.contains("admin"), "{}", me.text);

    // A wrong bearer token is refused.
    let r = client()
        .get(app.url("/api/v1/me"))
        .bearer_auth("not-a-token")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);

    // API logout: 204, then the token no longer works.
    admin
        .post("/api/v1/auth/logout", &json!({}))
        .await
        .expect(204);
    admin
        .get("/api/v1/me")
        .await
        .expect_error(401, "unauthorized");
}

async fn csrf_is_required_on_html_forms(app: TestApp) {
    let admin_api = app.api_login("admin").await;
    let browser = app.browser_login("organizer").await;
    let commune = id(&items(&browser.api_get("/api/v1/orgs").await.json())[0]);

    let fields = |number: &str| {
        form(&[
            ("owner_org_id", &commune.to_string()),
            ("kind", "directive"),
            ("number", number),
            ("title", "Chỉ thị thử nghiệm bảo vệ CSRF"),
            ("issuing_body", "Đảng ủy phường"),
            ("released_on", "05/01/2026"),
            ("classification", "public"),
            ("published_on", ""),
            ("summary", "Tóm tắt"),
        ])
    };
    let count = |n: &'static str| {
        let api = admin_api.clone();
        async move {
            let v = api.get_ok("/api/v1/resolutions?per_page=500").await;
            items(&v).iter().filter(|r| r["number"] == n).count()
        }
    };

    // Form POST without csrf, and with a wrong one: 403, nothing created.
    let r = browser.post_raw("/resolutions", fields("91-CT/CSRF")).await;
    r.expect(403);
    let mut wrong = fields("91-CT/CSRF");
    wrong.push(("csrf".into(), "0".repeat(browser.csrf.len().max(8))));
    browser.post_raw("/resolutions", wrong).await.expect(403);
    assert_eq!(
        count("91-CT/CSRF").await,
        0,
        "nothing created without a valid csrf"
    );

    // The same form with the right token works.
    let r = browser
        .post_fields("/resolutions", fields("92-CT/CSRF"))
        .await;
    let loc = r.expect_redirect("/resolutions/");
    assert!(id_from_location(&loc) > 0);
    assert_eq!(count("92-CT/CSRF").await, 1);

    // Logout without csrf is refused and the session stays.
    browser.post_raw("/logout", vec![]).await.expect(403);
    browser.get("/").await.expect(200);

    // Login form without its csrf: refused.
    let r = client()
        .post(app.url("/login"))
        .form(&[("username", "admin"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403, "login form without csrf");
    assert!(!r.headers().get_all("set-cookie").iter().any(|c| c
        .to_str()
        .unwrap()
        .starts_with("qt_session=")
        && !c.to_str().unwrap().starts_with("qt_session=;")));
}

async fn csrf_is_required_on_cookie_api_calls(app: TestApp) {
    let admin_api = app.api_login("admin").await;
    let browser = app.browser_login("organizer").await;
    let commune = id(&items(&browser.api_get("/api/v1/orgs").await.json())[0]);
    let count = |n: &'static str| {
        let api = admin_api.clone();
        async move {
            let v = api.get_ok("/api/v1/resolutions?per_page=500").await;
            items(&v).iter().filter(|r| r["number"] == n).count()
        }
    };

    // API with the session cookie: unsafe methods need X-CSRF-Token.
    let body = |number: &str| {
        json!({
            "owner_org_id": commune, "kind": "directive", "number": number,
            "title": "Chỉ thị thử nghiệm API", "issuing_body": "Đảng ủy phường",
            "released_on": "2026-01-05", "classification": "public",
        })
    };
    browser
        .api_post("/api/v1/resolutions", &body("93-CT/CSRF"), None)
        .await
        .expect_error(403, "csrf_failed");
    browser
        .api_post(
            "/api/v1/resolutions",
            &body("93-CT/CSRF"),
            Some("wrong-token"),
        )
        .await
        .expect_error(403, "csrf_failed");
    assert_eq!(count("93-CT/CSRF").await, 0);
    // GET with the cookie needs no header.
    browser.api_get("/api/v1/me").await.expect(200);
    // The page's csrf token is the session's: accepted as the header.
    let r = browser
        .api_post(
            "/api/v1/resolutions",
            &body("94-CT/CSRF"),
            Some(&browser.csrf),
        )
        .await;
    r.expect(201);
    assert_eq!(r.json()["number"], "94-CT/CSRF");
    // Bearer tokens need no CSRF header.
    let organizer_api = app.api_login("organizer").await;
    let r = organizer_api
        .post("/api/v1/resolutions", &body("95-CT/CSRF"))
        .await;
    r.expect(201);
    assert_eq!(count("95-CT/CSRF").await, 1);
}
