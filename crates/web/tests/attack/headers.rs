//! Security headers, cookie flags, no inline script on any page, body limit, API rate limit.

use serde_json::json;

use crate::common::*;
use crate::harness::*;

both_engines! {
    security_headers_cookies_and_no_inline_script => security_headers_cookies_and_no_inline_script_sqlite, security_headers_cookies_and_no_inline_script_postgres;
    body_limit_and_api_rate_limit => body_limit_and_api_rate_limit_sqlite, body_limit_and_api_rate_limit_postgres;
    trusted_proxy_names_the_client => trusted_proxy_names_the_client_sqlite, trusted_proxy_names_the_client_postgres;
}

fn header<'a>(r: &'a Resp, name: &str) -> &'a str {
    r.headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

/// The problems of one response's security headers.
fn header_problems(r: &Resp) -> Vec<String> {
    let mut p = Vec::new();
    let csp = header(r, "content-security-policy");
    if csp.is_empty() {
        p.push("no Content-Security-Policy".into());
    }
    let directive = |name: &str| {
        csp.split(';')
            .map(str::trim)
            .find(|d| d.starts_with(name))
            .map(str::to_string)
    };
    let script = directive("script-src").or_else(|| directive("default-src"));
    match script {
        Some(s)
            if s.contains("'unsafe-inline'") || s.contains("'unsafe-eval'") || s.contains('*') =>
        {
            p.push(format!("script policy allows inline/eval/any: {s}"));
        }
        None => p.push("CSP has neither script-src nor default-src".into()),
        _ => {}
    }
    if header(r, "x-content-type-options") != "nosniff" {
        p.push("X-Content-Type-Options is not nosniff".into());
    }
    let xfo = header(r, "x-frame-options").to_ascii_uppercase();
    if !(xfo == "DENY" || xfo == "SAMEORIGIN" || csp.contains("frame-ancestors 'none'")) {
        p.push("no framing protection".into());
    }
    if header(r, "referrer-policy").is_empty() {
        p.push("no Referrer-Policy".into());
    }
    p
}

/// Inline scripts (a `<script>` without `src` or with content) and `on…=` handler attributes.
fn inline_script_problems(html: &str) -> Vec<String> {
    let mut out = Vec::new();
    let lower = html.to_ascii_lowercase();
    let mut rest = lower.as_str();
    while let Some(i) = rest.find("<script") {
        let tag_end = rest[i..].find('>').map(|e| i + e).unwrap_or(rest.len());
        let tag = &rest[i..tag_end];
        let body_end = rest[tag_end..]
            .find("</script")
            .map(|e| tag_end + 1 + e.saturating_sub(1))
            .unwrap_or(tag_end);
        let body = rest.get(tag_end + 1..body_end).unwrap_or("").trim();
        if !tag.contains(" src=") || !body.is_empty() {
            out.push(format!("inline script: {}", &rest[i..tag_end.min(i + 120)]));
        }
        rest = &rest[tag_end..];
    }
    // Event handler attributes inside tags: ` onclick=`, ` onload=` …
    let bytes = lower.as_bytes();
    let mut in_tag = false;
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b'<' => in_tag = true,
            b'>' => in_tag = false,
            b' ' | b'\n' | b'\t' if in_tag => {
                let after = &lower[i + 1..];
                if after.starts_with("on") {
                    let name: String = after
                        .chars()
                        .take_while(|c| c.is_ascii_alphabetic())
                        .collect();
                    if name.len() > 2 && after[name.len()..].trim_start().starts_with('=') {
                        out.push(format!("event handler attribute {name}="));
                    }
                }
            }
            _ => {}
        }
    }
    if lower.contains("javascript:") {
        out.push("javascript: URL".into());
    }
    out
}

async fn security_headers_cookies_and_no_inline_script(app: TestApp) {
    let mut problems = Vec::new();
    // Anonymous pages, the API, errors.
    for path in [
        "/login",
        "/healthz",
        "/api/openapi.json",
        "/api/v1/me",
        "/nope",
        "/static/app.css",
    ] {
        let r = app.anon_get(path).await;
        for p in header_problems(&r) {
            problems.push(format!("anonymous GET {path} ({}): {p}", r.status));
        }
    }
    // The login page's CSRF cookie.
    let r = app.anon_get("/login").await;
    for c in r.set_cookies() {
        let l = c.to_ascii_lowercase();
        if !l.contains("samesite=") {
            problems.push(format!("cookie without SameSite: {c}"));
        }
        if !l.contains("httponly") {
            problems.push(format!("cookie without HttpOnly: {c}"));
        }
    }
    // The session cookie over plain HTTP, and with a forged `X-Forwarded-Proto: https` from an
    // address that is not a trusted proxy (issue 13.6: not believed, so no Secure flag that
    // would break the login over plain HTTP, and nothing else changes).
    for proto in [None, Some("https")] {
        let c = client();
        let page = c.get(app.url("/login")).send().await.unwrap();
        let body = page.text().await.unwrap();
        let csrf = scrape_csrf(&body).expect("csrf");
        let mut req = c.post(app.url("/login")).form(&[
            ("username", "organizer"),
            ("password", PASSWORD),
            ("csrf", csrf.as_str()),
        ]);
        if let Some(p) = proto {
            req = req.header("X-Forwarded-Proto", p);
        }
        let r = req.send().await.unwrap();
        assert_eq!(r.status(), 303, "login");
        let session: Vec<String> = r
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .filter(|v| v.starts_with("qt_session="))
            .map(str::to_string)
            .collect();
        assert_eq!(session.len(), 1, "{session:?}");
        let l = session[0].to_ascii_lowercase();
        for flag in ["httponly", "samesite=lax", "path=/"] {
            if !l.contains(flag) {
                problems.push(format!("qt_session without {flag}: {}", session[0]));
            }
        }
        if proto.is_some() && l.contains("secure") {
            problems.push(format!(
                "X-Forwarded-Proto believed from an untrusted address: {}",
                session[0]
            ));
        }
    }

    // Every page reachable for the admin and the organizer: headers and no inline script.
    let mut pages = 0;
    for user in ["admin", "organizer", "member"] {
        let b = app.browser_login(user).await;
        let seeds = [
            "/".to_string(),
            "/account".into(),
            "/account/2fa".into(),
            "/admin/accounts".into(),
            "/admin/accounts/new".into(),
            "/admin/audit".into(),
            "/resolutions/new".into(),
            "/campaigns/new".into(),
        ];
        for r in crawl(&b, &seeds, 250).await {
            pages += 1;
            assert!(
                r.status.as_u16() < 500,
                "{user} GET {}: {}",
                r.path,
                r.status
            );
            for p in header_problems(&r) {
                problems.push(format!("{user} GET {} ({}): {p}", r.path, r.status));
            }
            let is_html = header(&r, "content-type").contains("text/html");
            if is_html {
                for p in inline_script_problems(&r.text) {
                    problems.push(format!("{user} GET {}: {p}", r.path));
                }
            }
        }
    }
    // The login and TOTP pages too.
    let (c, r) = app.form_login("admin", PASSWORD).await;
    r.expect_redirect("/login/totp");
    let totp = c.get(app.url("/login/totp")).send().await.unwrap();
    let totp_html = totp.text().await.unwrap();
    for p in inline_script_problems(&totp_html) {
        problems.push(format!("GET /login/totp: {p}"));
    }
    for p in inline_script_problems(&app.anon_get("/login").await.text) {
        problems.push(format!("GET /login: {p}"));
    }
    println!("headers ({:?}): {pages} pages checked", app.engine);
    assert!(pages > 30, "the crawl reached {pages} pages");
    assert!(
        problems.is_empty(),
        "security header problems:\n{}",
        problems.join("\n")
    );
}

async fn body_limit_and_api_rate_limit(app: TestApp) {
    let organizer = app.api_login("organizer").await;
    let b = app.browser_login("organizer").await;
    let cookie = b.client.get(app.url("/me")).send().await.map(|_| ()).ok();
    let _ = cookie;
    // JSON API, a form with a session, and the login form: 413 for 5 MB.
    let bearer = format!("Authorization: Bearer {}\r\n", organizer.token);
    let s = raw_big_post(&app, "/api/v1/resolutions", "application/json", &bearer).await;
    assert_eq!(s, 413, "5 MB JSON body");
    let s = raw_big_post(
        &app,
        "/resolutions",
        "application/x-www-form-urlencoded",
        "",
    )
    .await;
    assert_eq!(s, 413, "5 MB form");
    let s = raw_big_post(&app, "/login", "application/x-www-form-urlencoded", "").await;
    assert_eq!(s, 413, "5 MB login form");

    // The API rate limit, on a second app with a low limit.
    let config = quantriet_web::app::WebConfig {
        api_rate_per_minute: 30,
        ..Default::default()
    };
    let limited = crate::harness::spawn_with(app.engine, config)
        .await
        .expect("second app");
    let api = limited.api_login("organizer").await;
    let mut statuses = Vec::new();
    for _ in 0..60 {
        statuses.push(api.get("/api/v1/me").await);
    }
    let first_429 = statuses.iter().position(|r| r.status.as_u16() == 429);
    assert!(
        first_429.is_some_and(|i| i <= 31),
        "30/min limit: statuses {:?}",
        statuses
            .iter()
            .map(|r| r.status.as_u16())
            .collect::<Vec<_>>()
    );
    statuses[first_429.unwrap()].expect_error(429, "rate_limited");
    // An anonymous client from the same address is limited as well (per address).
    let r = client()
        .post(limited.url("/api/v1/auth/login"))
        .json(&json!({"username": "organizer", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429, "login from a rate-limited address");
    // Issue 13.6: a forged X-Forwarded-For from an untrusted address does not escape the limit.
    let r = client()
        .get(limited.url("/api/v1/me"))
        .header("X-Forwarded-For", "198.51.100.77")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429, "forged X-Forwarded-For escaped the limit");
    let _ = STRONG_PASSWORD;
}

/// Issue 13.6: behind a trusted proxy, each client has its own rate limit and the HTTPS the proxy
/// reports marks cookies Secure; the proxy's own address is not shared by the whole country.
async fn trusted_proxy_names_the_client(app: TestApp) {
    let proxied = crate::harness::spawn_behind_proxy(app.engine, 20).await;
    let c = client();
    let call = |who: &'static str| {
        c.get(proxied.url("/api/v1/orgs"))
            .header("X-Forwarded-For", who)
            .header("X-Forwarded-Proto", "https")
            .send()
    };
    let mut first = Vec::new();
    for _ in 0..25 {
        first.push(call("198.51.100.1").await.unwrap().status().as_u16());
    }
    assert!(first.contains(&429), "one client over the limit: {first:?}");
    let other = call("198.51.100.2").await.unwrap().status().as_u16();
    assert_eq!(
        other, 401,
        "another client behind the same proxy is not limited"
    );
    // A client's own claim to the left of the proxy's entry is not believed.
    let r = c
        .get(proxied.url("/api/v1/orgs"))
        .header("X-Forwarded-For", "198.51.100.2, 198.51.100.1")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429, "the nearest untrusted hop is the client");
    // The login over HTTPS at the proxy gets a Secure cookie.
    let page = c
        .get(proxied.url("/login"))
        .header("X-Forwarded-For", "198.51.100.3")
        .header("X-Forwarded-Proto", "https")
        .send()
        .await
        .unwrap();
    let cookies: Vec<String> = page
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok().map(str::to_ascii_lowercase))
        .collect();
    assert!(
        !cookies.is_empty() && cookies.iter().all(|c| c.contains("secure")),
        "{cookies:?}"
    );
}

/// Sends a 5 MB POST over a raw connection (the server may answer 413 and close before the body
/// is written, which an HTTP client reports as a broken pipe); the status code.
async fn raw_big_post(app: &TestApp, path: &str, content_type: &str, extra: &str) -> u16 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = app.base.trim_start_matches("http://").to_string();
    let stream = tokio::net::TcpStream::connect(&addr)
        .await
        .expect("connect");
    let (mut rd, mut wr) = stream.into_split();
    let len = 5 * 1024 * 1024;
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: {content_type}\r\nContent-Length: {len}\r\n{extra}Connection: close\r\n\r\n"
    );
    let writer = tokio::spawn(async move {
        if wr.write_all(head.as_bytes()).await.is_err() {
            return;
        }
        let chunk = vec![b'x'; 64 * 1024];
        for _ in 0..(len / chunk.len()) {
            if wr.write_all(&chunk).await.is_err() {
                return;
            }
        }
    });
    let mut buf = Vec::new();
    let mut tmp = [0u8; 4096];
    let read = tokio::time::timeout(std::time::Duration::from_secs(60), async {
        loop {
            match rd.read(&mut tmp).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    buf.extend_from_slice(&tmp[..n]);
                    if buf.windows(4).any(|w| w == b"\r\n\r\n") {
                        break;
                    }
                }
            }
        }
    })
    .await;
    writer.abort();
    assert!(read.is_ok(), "POST {path}: no answer within 60 s");
    let text = String::from_utf8_lossy(&buf);
    text.split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("POST {path}: no status line in {text:?}"))
}
