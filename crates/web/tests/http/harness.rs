//! The harness: a fresh database with the demo province, the app on a random port, and clients
//! that log in through the API (bearer token) or through the HTML forms (cookies + CSRF).

#![allow(dead_code)]

use std::time::Duration;

use fixtures::demo;
use fixtures::testing::{fresh, Engine, TestDb};
use quantriet_web::app::{App, WebConfig};
use reqwest::header::{HeaderMap, LOCATION, SET_COOKIE};
use reqwest::{Client, StatusCode};
use serde_json::Value;
use store::Db;

/// The demo password of every demo account.
pub const PASSWORD: &str = demo::DEMO_PASSWORD;

/// The one classified demo resolution (R2.8).
pub const SECRET_TITLE: &str =
    "Nghị quyết về nhiệm vụ quốc phòng, an ninh khu vực biên giới giai đoạn 2026–2030";
pub const SECRET_NUMBER: &str = "05-NQ/TU";

/// Names of demo organizations (crates/store/src/demo.rs).
pub const PROVINCE_NAME: &str = "Đảng bộ tỉnh Quảng Ngãi";
pub const FIRST_COMMUNE: &str = "Đảng bộ phường Kon Tum";
pub const FOURTH_COMMUNE: &str = "Đảng bộ xã Đăk Tô";

/// A running application over its own database.
pub struct TestApp {
    pub base: String,
    pub engine: Engine,
    /// The same database the app serves (for direct checks such as the audit log trigger).
    pub db: Db,
    /// TOTP secrets of accounts that use a second factor (the demo admin's is published), and
    /// the last time step used per account: every 30-second code works only once, so the harness
    /// hands out each step at most once and waits for the next one when needed.
    totp: std::sync::Mutex<TotpBook>,
    /// The admin logs in once per app (one-use TOTP codes); later logins reuse the session while
    /// it still works.
    admin_api: tokio::sync::Mutex<Option<Api>>,
    admin_browser: tokio::sync::Mutex<Option<Browser>>,
    server: tokio::task::JoinHandle<()>,
    /// Declared last: dropped (database removed) after the server is stopped.
    _db: TestDb,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// Fresh database, migrated, demo loaded, app serving on 127.0.0.1:0. `None` when PostgreSQL is
/// unreachable and `QUANTRIET_SKIP_PG=1` asked for the skip (issue 13.10).
pub async fn spawn(engine: Engine) -> Option<TestApp> {
    spawn_with(engine, WebConfig::default()).await
}

/// Like [`spawn`] with a chosen configuration (e.g. a low API rate limit).
pub async fn spawn_with(engine: Engine, config: WebConfig) -> Option<TestApp> {
    let t = fresh(engine).await?;
    let db = Db::connect(&t.url)
        .await
        .expect("connect to the test database");
    db.migrate().await.expect("migrate");
    demo::load(&db, demo::Scale::Small, 7, true)
        .await
        .expect("demo loads");
    spawn_over(engine, t, db, config).await
}

/// Another app whose trusted proxy is this machine (the test client plays nginx), with an API
/// limit of `api_rate_per_minute` (0: none) (issue 13.6).
pub async fn spawn_behind_proxy(engine: Engine, api_rate_per_minute: u32) -> TestApp {
    let config = WebConfig {
        api_rate_per_minute,
        trusted_proxies: quantriet_web::proxy::TrustedProxies::parse(&["127.0.0.1", "::1"])
            .expect("proxies"),
        ..Default::default()
    };
    spawn_with(engine, config)
        .await
        .expect("app behind a proxy")
}

async fn spawn_over(engine: Engine, t: TestDb, db: Db, config: WebConfig) -> Option<TestApp> {
    let app = App::build(db.clone(), "127.0.0.1:0", config)
        .await
        .expect("app builds");
    let addr = app.local_addr().expect("bound address");
    let server = tokio::spawn(async move {
        let _ = app.serve(std::future::pending()).await;
    });
    let mut book = TotpBook::default();
    book.secrets
        .insert("admin".to_string(), demo::DEMO_TOTP_SECRET.to_string());
    Some(TestApp {
        base: format!("http://{addr}"),
        engine,
        db,
        totp: std::sync::Mutex::new(book),
        admin_api: tokio::sync::Mutex::new(None),
        admin_browser: tokio::sync::Mutex::new(None),
        server,
        _db: t,
    })
}

/// Known TOTP secrets and the last step handed out, per username.
#[derive(Default)]
pub struct TotpBook {
    pub secrets: std::collections::HashMap<String, String>,
    pub last_step: std::collections::HashMap<String, i64>,
}

/// The current 30-second TOTP time step.
pub fn totp_step_now() -> i64 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs();
    i64::try_from(now / 30).expect("step")
}

/// The 6-digit code of `secret_b32` at time step `step` (SHA-1, 30 s, as the store uses).
pub fn totp_at(secret_b32: &str, step: i64) -> String {
    let bytes = totp_rs::Secret::Encoded(secret_b32.to_string())
        .to_bytes()
        .expect("base32 secret");
    let t = totp_rs::TOTP::new(totp_rs::Algorithm::SHA1, 6, 1, 30, bytes).expect("totp");
    t.generate(u64::try_from(step * 30).expect("time"))
}

/// A client with its own cookie jar that does not follow redirects (so 303s can be checked).
pub fn client() -> Client {
    Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(120))
        .build()
        .expect("http client")
}

/// A response read to the end.
#[derive(Debug)]
pub struct Resp {
    pub method: &'static str,
    pub path: String,
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub text: String,
}

impl Resp {
    async fn read(method: &'static str, path: &str, r: reqwest::Result<reqwest::Response>) -> Resp {
        let r = r.unwrap_or_else(|e| panic!("{method} {path}: request failed: {e}"));
        let status = r.status();
        let headers = r.headers().clone();
        let text = r
            .text()
            .await
            .unwrap_or_else(|e| panic!("{method} {path}: body: {e}"));
        Resp {
            method,
            path: path.to_string(),
            status,
            headers,
            text,
        }
    }

    /// The body as JSON (`Null` when empty); panics with the body when it is not JSON.
    pub fn json(&self) -> Value {
        if self.text.trim().is_empty() {
            return Value::Null;
        }
        serde_json::from_str(&self.text).unwrap_or_else(|e| {
            panic!(
                "{} {}: {} body is not JSON ({e}): {}",
                self.method,
                self.path,
                self.status,
                short(&self.text)
            )
        })
    }

    pub fn location(&self) -> Option<&str> {
        self.headers.get(LOCATION).and_then(|v| v.to_str().ok())
    }

    pub fn set_cookies(&self) -> Vec<String> {
        self.headers
            .get_all(SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok().map(str::to_string))
            .collect()
    }

    /// The body with the usual HTML entities decoded, for text assertions.
    pub fn html(&self) -> String {
        unescape(&self.text)
    }

    /// Asserts the status, showing the body when it differs.
    #[track_caller]
    pub fn expect(&self, status: u16) -> &Self {
        assert_eq!(
            self.status.as_u16(),
            status,
            "{} {}: expected {status}, got {}: {}",
            self.method,
            self.path,
            self.status,
            short(&self.text)
        );
        self
    }

    /// Asserts a 303 (See Other) to a path starting with `prefix`; returns the location.
    #[track_caller]
    pub fn expect_redirect(&self, prefix: &str) -> String {
        self.expect(303);
        let loc = self.location().unwrap_or_default().to_string();
        assert!(
            loc.starts_with(prefix),
            "{} {}: redirect to {loc:?}, expected {prefix}…",
            self.method,
            self.path
        );
        loc
    }

    /// Asserts a JSON error body with this status and code.
    #[track_caller]
    pub fn expect_error(&self, status: u16, code: &str) -> Value {
        self.expect(status);
        let v = self.json();
        assert_eq!(
            v["error"].as_str(),
            Some(code),
            "{} {}: error body {v}",
            self.method,
            self.path
        );
        v
    }
}

/// At most 1500 characters of a body for failure messages.
pub fn short(s: &str) -> String {
    if s.chars().count() > 1500 {
        let head: String = s.chars().take(1500).collect();
        format!("{head}…")
    } else {
        s.to_string()
    }
}

/// Decodes the entities askama and browsers use.
pub fn unescape(s: &str) -> String {
    s.replace("&#x27;", "'")
        .replace("&#39;", "'")
        .replace("&quot;", "\"")
        .replace("&#34;", "\"")
        .replace("&#x22;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&#x2F;", "/")
        .replace("&#47;", "/")
        .replace("&#60;", "<")
        .replace("&#62;", ">")
        .replace("&#38;", "&")
        .replace("&amp;", "&")
}

/// The value of the hidden `csrf` input of a page, if it has one.
pub fn scrape_csrf(html: &str) -> Option<String> {
    scrape_input_value(html, "csrf")
}

/// The `value` of the first `<input name="{name}" …>` of a page.
pub fn scrape_input_value(html: &str, name: &str) -> Option<String> {
    let needle = format!("name=\"{name}\"");
    let at = html.find(&needle)?;
    let start = html[..at].rfind('<')?;
    let end = at + html[at..].find('>')?;
    let tag = &html[start..end];
    let v = tag.find("value=\"")? + "value=\"".len();
    let len = tag[v..].find('"')?;
    Some(unescape(&tag[v..v + len]))
}

/// Every distinct id in `name="{prefix}{id}"` attributes of a page (e.g. `status_` on the
/// attendance page).
pub fn scrape_suffix_ids(html: &str, prefix: &str) -> Vec<i64> {
    let needle = format!("name=\"{prefix}");
    let mut out = Vec::new();
    let mut rest = html;
    while let Some(i) = rest.find(&needle) {
        rest = &rest[i + needle.len()..];
        let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
        if let Ok(id) = digits.parse::<i64>() {
            if rest[digits.len()..].starts_with('"') && !out.contains(&id) {
                out.push(id);
            }
        }
    }
    out
}

/// Owned form pairs from borrowed ones.
pub fn form(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
        .collect()
}

/// The `id` of a JSON object.
#[track_caller]
pub fn id(v: &Value) -> i64 {
    v["id"]
        .as_i64()
        .unwrap_or_else(|| panic!("no integer id in {v}"))
}

/// The items of an array (or of a page's `items`).
#[track_caller]
pub fn items(v: &Value) -> Vec<Value> {
    if let Some(a) = v.as_array() {
        return a.clone();
    }
    v["items"]
        .as_array()
        .unwrap_or_else(|| panic!("no array / items in {}", short(&v.to_string())))
        .clone()
}

/// The last path segment of a location, as an id ("/classes/12" → 12).
#[track_caller]
pub fn id_from_location(loc: &str) -> i64 {
    let path = loc.split(['?', '#']).next().unwrap_or(loc);
    path.trim_end_matches('/')
        .rsplit('/')
        .next()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no id at the end of {loc:?}"))
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// A GET without any credentials.
    pub async fn anon_get(&self, path: &str) -> Resp {
        Resp::read("GET", path, client().get(self.url(path)).send().await).await
    }

    /// Registers the TOTP secret of an account (created by a test) so logins pass the second step.
    pub fn set_totp_secret(&self, username: &str, secret_b32: &str) {
        let mut book = self.totp.lock().expect("totp book");
        book.secrets
            .insert(username.to_string(), secret_b32.to_string());
    }

    /// The TOTP secret the harness knows for `username`, if any.
    pub fn totp_secret(&self, username: &str) -> Option<String> {
        let book = self.totp.lock().expect("totp book");
        book.secrets.get(username).cloned()
    }

    /// A fresh, never handed out TOTP code for `username` (whose secret is known). The server
    /// accepts the previous, current and next step, each at most once: this takes the earliest
    /// unused of the current and next step, and waits for the clock when both are used.
    pub async fn next_totp(&self, username: &str) -> String {
        loop {
            let wait = {
                let mut book = self.totp.lock().expect("totp book");
                let secret = book
                    .secrets
                    .get(username)
                    .cloned()
                    .unwrap_or_else(|| panic!("no TOTP secret known for {username}"));
                let now = totp_step_now();
                let last = book.last_step.get(username).copied().unwrap_or(0);
                let step = now.max(last + 1);
                if step <= now + 1 {
                    book.last_step.insert(username.to_string(), step);
                    return totp_at(&secret, step);
                }
                // Both usable steps are spent: wait until `step - 1` is the current one.
                let secs = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .expect("clock")
                    .as_secs_f64();
                ((step - 1) as f64 * 30.0 - secs).max(0.0) + 0.3
            };
            tokio::time::sleep(Duration::from_secs_f64(wait)).await;
        }
    }

    /// Marks a step as used by a test that sent a code itself (so the harness does not reuse it).
    pub fn mark_totp_used(&self, username: &str, step: i64) {
        let mut book = self.totp.lock().expect("totp book");
        let last = book.last_step.entry(username.to_string()).or_insert(0);
        *last = (*last).max(step);
    }

    /// `POST /api/v1/auth/login` with exactly this body; the response, whatever it is.
    pub async fn api_login_raw(&self, body: &Value) -> Resp {
        Resp::read(
            "POST",
            "/api/v1/auth/login",
            client()
                .post(self.url("/api/v1/auth/login"))
                .json(body)
                .send()
                .await,
        )
        .await
    }

    /// Logs in through `POST /api/v1/auth/login` (with a TOTP code for accounts that have one);
    /// panics unless it succeeds. The admin's session is made once per app and reused while it
    /// still works (each TOTP code can be used only once).
    pub async fn api_login(&self, username: &str) -> Api {
        if username == "admin" {
            let mut cached = self.admin_api.lock().await;
            if let Some(api) = cached.as_ref() {
                if api.get("/api/v1/me").await.status.as_u16() == 200 {
                    return api.clone();
                }
            }
            let api = self.api_login_fresh(username).await;
            *cached = Some(api.clone());
            return api;
        }
        self.api_login_fresh(username).await
    }

    /// Always a new API session (a fresh TOTP code where the account has a second factor).
    pub async fn api_login_fresh(&self, username: &str) -> Api {
        self.api_login_as(username, PASSWORD).await
    }

    /// A new API session with this password.
    pub async fn api_login_as(&self, username: &str, password: &str) -> Api {
        let c = client();
        let mut body = serde_json::json!({"username": username, "password": password});
        if self.totp_secret(username).is_some() {
            body["totp"] = Value::String(self.next_totp(username).await);
        }
        let r = Resp::read(
            "POST",
            "/api/v1/auth/login",
            c.post(self.url("/api/v1/auth/login"))
                .json(&body)
                .send()
                .await,
        )
        .await;
        r.expect(200);
        let v = r.json();
        let token = v["token"]
            .as_str()
            .unwrap_or_else(|| panic!("no token in {v}"))
            .to_string();
        let csrf = v["csrf_token"].as_str().unwrap_or_default().to_string();
        Api {
            client: c,
            base: self.base.clone(),
            token,
            csrf,
            login: v,
        }
    }

    /// Logs in through the HTML form: GET /login, scrape `csrf`, POST. Returns the client (with
    /// its cookies) and the POST's response.
    pub async fn form_login(&self, username: &str, password: &str) -> (Client, Resp) {
        let c = client();
        let page = Resp::read("GET", "/login", c.get(self.url("/login")).send().await).await;
        page.expect(200);
        let csrf = scrape_csrf(&page.text)
            .unwrap_or_else(|| panic!("no hidden csrf input on /login: {}", short(&page.text)));
        let r = Resp::read(
            "POST",
            "/login",
            c.post(self.url("/login"))
                .form(&[
                    ("username", username),
                    ("password", password),
                    ("csrf", csrf.as_str()),
                ])
                .send()
                .await,
        )
        .await;
        (c, r)
    }

    /// A browser logged in through the form (and the TOTP form where the account has a second
    /// factor), with the session's CSRF token scraped from a page. The admin's browser session is
    /// made once per app and reused while it still works.
    pub async fn browser_login(&self, username: &str) -> Browser {
        if username == "admin" {
            let mut cached = self.admin_browser.lock().await;
            if let Some(b) = cached.as_ref() {
                if b.get("/me").await.status.as_u16() == 200 {
                    return b.clone();
                }
            }
            let b = self.browser_login_fresh(username).await;
            *cached = Some(b.clone());
            return b;
        }
        self.browser_login_fresh(username).await
    }

    /// Always a new browser session.
    pub async fn browser_login_fresh(&self, username: &str) -> Browser {
        self.browser_login_as(username, PASSWORD).await
    }

    /// Posts the TOTP form of a restricted-stage session; the response.
    pub async fn form_totp(&self, c: &Client, code: &str) -> Resp {
        let page = Resp::read(
            "GET",
            "/login/totp",
            c.get(self.url("/login/totp")).send().await,
        )
        .await;
        page.expect(200);
        let csrf = scrape_csrf(&page.text).unwrap_or_else(|| {
            panic!("no hidden csrf input on /login/totp: {}", short(&page.text))
        });
        Resp::read(
            "POST",
            "/login/totp",
            c.post(self.url("/login/totp"))
                .form(&[("csrf", csrf.as_str()), ("code", code)])
                .send()
                .await,
        )
        .await
    }

    /// A new browser session with this password.
    pub async fn browser_login_as(&self, username: &str, password: &str) -> Browser {
        let (c, r) = self.form_login(username, password).await;
        let loc = r.expect_redirect("/");
        if loc.starts_with("/login/totp") {
            let code = self.next_totp(username).await;
            let r = self.form_totp(&c, &code).await;
            r.expect_redirect("/");
            assert!(
                !r.location().unwrap_or_default().starts_with("/login"),
                "TOTP step for {username} did not finish the login: {:?}",
                r.location()
            );
        }
        let mut b = Browser {
            client: c,
            base: self.base.clone(),
            csrf: String::new(),
        };
        // Members are sent to /me from the dashboard; /me exists for every account.
        let page = b.get("/me").await;
        page.expect(200);
        b.csrf = scrape_csrf(&page.text)
            .unwrap_or_else(|| panic!("no hidden csrf input on /me: {}", short(&page.text)));
        b
    }
}

/// An API client authenticated by a bearer token.
#[derive(Clone)]
pub struct Api {
    pub client: Client,
    pub base: String,
    pub token: String,
    pub csrf: String,
    /// The login response.
    pub login: Value,
}

impl Api {
    /// A POST of raw bytes (a file as the body) with the bearer token and `X-File-Name`.
    pub async fn post_file(&self, path: &str, file_name: &str, body: Vec<u8>) -> Resp {
        Resp::read(
            "POST",
            path,
            self.client
                .post(format!("{}{}", self.base, path))
                .bearer_auth(&self.token)
                .header("X-File-Name", file_name)
                .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
                .body(body)
                .send()
                .await,
        )
        .await
    }

    fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }
    pub async fn get(&self, path: &str) -> Resp {
        Resp::read(
            "GET",
            path,
            self.client
                .get(self.url(path))
                .bearer_auth(&self.token)
                .send()
                .await,
        )
        .await
    }
    pub async fn post(&self, path: &str, body: &Value) -> Resp {
        Resp::read(
            "POST",
            path,
            self.client
                .post(self.url(path))
                .bearer_auth(&self.token)
                .json(body)
                .send()
                .await,
        )
        .await
    }
    pub async fn put(&self, path: &str, body: &Value) -> Resp {
        Resp::read(
            "PUT",
            path,
            self.client
                .put(self.url(path))
                .bearer_auth(&self.token)
                .json(body)
                .send()
                .await,
        )
        .await
    }
    /// GET that must answer 200; the JSON body.
    pub async fn get_ok(&self, path: &str) -> Value {
        let r = self.get(path).await;
        r.expect(200);
        r.json()
    }
    /// POST that must answer `status`; the JSON body.
    pub async fn post_ok(&self, path: &str, body: &Value, status: u16) -> Value {
        let r = self.post(path, body).await;
        r.expect(status);
        r.json()
    }

    /// Every person the caller sees (optionally in one org's subtree), over all pages.
    pub async fn all_people(&self, org: Option<i64>) -> Vec<Value> {
        let mut out = Vec::new();
        let mut page = 1;
        loop {
            let path = match org {
                Some(o) => format!("/api/v1/people?org_id={o}&per_page=500&page={page}"),
                None => format!("/api/v1/people?per_page=500&page={page}"),
            };
            let v = self.get_ok(&path).await;
            let got = items(&v);
            let total = v["total"].as_i64().expect("total");
            let n = got.len();
            out.extend(got);
            if n == 0 || out.len() as i64 >= total {
                break;
            }
            page += 1;
            assert!(page < 100, "runaway paging on {path}");
        }
        out
    }

    /// The id of the catalog entry with this number (must be visible), from the full list.
    pub async fn resolution_id(&self, number: &str) -> i64 {
        let v = self.get_ok("/api/v1/resolutions?per_page=500").await;
        items(&v)
            .iter()
            .find(|r| r["number"] == number)
            .map(id)
            .unwrap_or_else(|| panic!("resolution {number} not in {v}"))
    }
}

/// An HTML client logged in through the form.
#[derive(Clone)]
pub struct Browser {
    pub client: Client,
    pub base: String,
    /// The session's CSRF token as found in the pages.
    pub csrf: String,
}

impl Browser {
    fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }
    pub async fn get(&self, path: &str) -> Resp {
        Resp::read("GET", path, self.client.get(self.url(path)).send().await).await
    }
    /// Posts a form with the session's `csrf` field added.
    pub async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> Resp {
        let mut f = form(fields);
        f.push(("csrf".into(), self.csrf.clone()));
        self.post_raw(path, f).await
    }
    /// Posts exactly these fields (no csrf added).
    pub async fn post_raw(&self, path: &str, fields: Vec<(String, String)>) -> Resp {
        Resp::read(
            "POST",
            path,
            self.client.post(self.url(path)).form(&fields).send().await,
        )
        .await
    }
    /// Posts owned fields with the csrf added (for repeated and generated field names).
    pub async fn post_fields(&self, path: &str, mut fields: Vec<(String, String)>) -> Resp {
        fields.push(("csrf".into(), self.csrf.clone()));
        self.post_raw(path, fields).await
    }
    /// A JSON POST on the API authenticated by the session cookie, with an optional
    /// `X-CSRF-Token` header.
    pub async fn api_post(&self, path: &str, body: &Value, csrf_header: Option<&str>) -> Resp {
        let mut req = self.client.post(self.url(path)).json(body);
        if let Some(t) = csrf_header {
            req = req.header("X-CSRF-Token", t);
        }
        Resp::read("POST", path, req.send().await).await
    }
    /// A JSON GET on the API with the session cookie.
    pub async fn api_get(&self, path: &str) -> Resp {
        self.get(path).await
    }
}

/// Percent-encodes a query value.
pub fn enc(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// The demo's organizations as the admin sees them: (province id, its child orgs).
pub async fn province_tree(admin: &Api) -> (i64, Vec<Value>) {
    let roots = items(&admin.get_ok("/api/v1/orgs").await);
    assert_eq!(roots.len(), 1, "admin sees one root: {roots:?}");
    assert_eq!(roots[0]["name"], PROVINCE_NAME);
    let province = id(&roots[0]);
    let detail = admin.get_ok(&format!("/api/v1/orgs/{province}")).await;
    let children = detail["children"]
        .as_array()
        .unwrap_or_else(|| panic!("no children in {detail}"))
        .clone();
    (province, children)
}

/// The org named `name` among `orgs`.
#[track_caller]
pub fn org_named(orgs: &[Value], name: &str) -> i64 {
    orgs.iter()
        .find(|o| o["name"] == name)
        .map(id)
        .unwrap_or_else(|| panic!("no org named {name} in {orgs:?}"))
}

/// Folds Vietnamese text the way search does (lower case, no diacritics, đ → d).
pub fn fold(s: &str) -> String {
    domain::text::fold(s)
}

/// Converts `bytes` (a file named `name`) with LibreOffice to `to` and returns the result;
/// `None` (said, not silent) when LibreOffice is missing and skipping it was asked for.
pub fn soffice_convert(
    dir: &std::path::Path,
    name: &str,
    bytes: &[u8],
    to: &str,
) -> Option<Vec<u8>> {
    let Some(soffice) = ["soffice", "libreoffice"].into_iter().find(|c| {
        std::process::Command::new(c)
            .arg("--version")
            .output()
            .is_ok()
    }) else {
        fixtures::testing::missing(
            fixtures::testing::Service::LibreOffice,
            "LibreOffice (soffice) not installed",
        );
        return None;
    };
    std::fs::create_dir_all(dir).expect("temp dir");
    let input = dir.join(name);
    std::fs::write(&input, bytes).expect("write input");
    let stem = name.rsplit_once('.').map_or(name, |(s, _)| s);
    let ext = to.split(':').next().unwrap_or(to);
    static SOFFICE: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let mut last = String::new();
    for _ in 0..3 {
        let _one = SOFFICE.lock().unwrap_or_else(|e| e.into_inner());
        let out = std::process::Command::new(soffice)
            .arg(format!(
                "-env:UserInstallation=file://{}/profile",
                dir.display()
            ))
            .args(["--headless", "--norestore", "--convert-to", to, "--outdir"])
            .arg(dir)
            .arg(&input)
            .env("HOME", dir)
            .output()
            .expect("run soffice");
        match std::fs::read(dir.join(format!("{stem}.{ext}"))) {
            Ok(b) if !b.is_empty() => return Some(b),
            Ok(_) => last = "empty".into(),
            Err(e) => last = format!("{e}: {}", String::from_utf8_lossy(&out.stderr)),
        }
    }
    panic!("LibreOffice did not convert {name} to {to}: {last}");
}
