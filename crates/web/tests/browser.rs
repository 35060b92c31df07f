//! Browser tests in real headless Chromium, driven over the W3C WebDriver protocol through
//! chromedriver (Debian's `chromium` and `chromium-driver`, installed by `.ci/run`).
//! Outside CI they are skipped when chromedriver is missing; under `CI=true` they fail instead.
#![allow(clippy::unwrap_used)]

#[path = "http/harness.rs"]
#[allow(dead_code, unused_imports)]
mod harness;

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{json, Value};

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// A chromedriver process and one browser session.
struct Browser {
    http: reqwest::Client,
    base: String,
    session: String,
    driver: Child,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

impl Browser {
    async fn start(width: u32, height: u32) -> Option<Self> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .ok()?
            .local_addr()
            .ok()?
            .port();
        let driver = match Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
        {
            Ok(c) => c,
            Err(e) => {
                assert!(
                    std::env::var("CI").map_or(true, |v| v != "true"),
                    "chromedriver is required under CI: {e}"
                );
                eprintln!("skipping browser test: chromedriver not found ({e})");
                return None;
            }
        };
        let http = reqwest::Client::new();
        let base = format!("http://127.0.0.1:{port}");
        for _ in 0..100 {
            if http.get(format!("{base}/status")).send().await.is_ok() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let profile = std::env::temp_dir().join(format!("qt-chromium-{port}"));
        let caps = json!({"capabilities": {"alwaysMatch": {"browserName": "chrome", "goog:chromeOptions": {
            "binary": "/usr/bin/chromium",
            "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync",
                     "--disable-dev-shm-usage", format!("--user-data-dir={}", profile.display()),
                     format!("--window-size={width},{height}")]
        }}}});
        let r: Value = http
            .post(format!("{base}/session"))
            .json(&caps)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let session = r["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no browser session: {r}"))
            .to_string();
        Some(Self {
            http,
            base,
            session,
            driver,
        })
    }

    async fn cmd(&self, method: reqwest::Method, path: &str, body: Value) -> Value {
        match self.try_cmd(method, path, body).await {
            Ok(v) => v,
            Err(r) => panic!("webdriver {path}: {r}"),
        }
    }

    async fn try_cmd(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Value,
    ) -> Result<Value, Value> {
        let url = format!("{}/session/{}{}", self.base, self.session, path);
        let req = self.http.request(method.clone(), url);
        // GET commands carry no body; chromedriver refuses a JSON `null`.
        let req = if method == reqwest::Method::GET {
            req
        } else {
            req.json(&body)
        };
        let r: Value = req.send().await.unwrap().json().await.unwrap();
        if r["value"].get("error").is_some() {
            return Err(r);
        }
        Ok(r["value"].clone())
    }

    async fn go(&self, url: &str) {
        self.cmd(reqwest::Method::POST, "/url", json!({ "url": url }))
            .await;
    }

    async fn find(&self, css: &str) -> String {
        let v = self
            .cmd(
                reqwest::Method::POST,
                "/element",
                json!({"using": "css selector", "value": css}),
            )
            .await;
        v[ELEMENT].as_str().unwrap().to_string()
    }

    async fn type_into(&self, css: &str, text: &str) {
        let e = self.find(css).await;
        self.cmd(
            reqwest::Method::POST,
            &format!("/element/{e}/clear"),
            json!({}),
        )
        .await;
        self.cmd(
            reqwest::Method::POST,
            &format!("/element/{e}/value"),
            json!({ "text": text }),
        )
        .await;
    }

    async fn click(&self, css: &str) {
        let e = self.find(css).await;
        self.cmd(
            reqwest::Method::POST,
            &format!("/element/{e}/click"),
            json!({}),
        )
        .await;
    }

    async fn source(&self) -> String {
        self.cmd(reqwest::Method::GET, "/source", Value::Null)
            .await
            .as_str()
            .unwrap()
            .to_string()
    }

    async fn url(&self) -> String {
        self.cmd(reqwest::Method::GET, "/url", Value::Null)
            .await
            .as_str()
            .unwrap()
            .to_string()
    }

    async fn script(&self, js: &str) -> Value {
        self.cmd(
            reqwest::Method::POST,
            "/execute/sync",
            json!({"script": js, "args": []}),
        )
        .await
    }

    /// Waits (up to 10 s) until the page source contains `text`: a click that submits a form
    /// returns before the next page has loaded when the machine is busy.
    async fn wait_for_text(&self, text: &str) -> String {
        for _ in 0..100 {
            let html = self.source().await;
            if html.contains(text) {
                return html;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("page never showed {text:?}: {}", self.source().await)
    }

    async fn login(&self, app: &str, user: &str) {
        self.go(&format!("{app}/login")).await;
        self.type_into("#username", user).await;
        self.type_into("#password", harness::PASSWORD).await;
        self.click("button[type=submit]").await;
        // Every page after login has the logout button.
        self.wait_for_text("Đăng xuất").await;
    }
}

/// On a phone-sized window, a member logs in and sees their own classes; the page is one column.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn member_logs_in_on_a_phone_and_sees_own_classes() {
    let Some(app) = harness::spawn(store::testing::Engine::Sqlite).await else {
        return;
    };
    let Some(b) = Browser::start(390, 844).await else {
        return;
    };
    b.login(&app.base, "member").await;
    // Members have no organization menu: the dashboard sends them to their own page.
    assert!(
        b.url().await.ends_with("/me"),
        "landed on {}",
        b.url().await
    );
    let html = b.source().await;
    assert!(html.contains("Lớp học của tôi"), "{html}");
    assert!(
        !html.contains("Cán bộ, đảng viên</a>"),
        "members do not get the people list"
    );
    // Nothing wider than the phone's screen.
    let overflow = b
        .script("return document.documentElement.scrollWidth > window.innerWidth + 1")
        .await;
    assert_eq!(
        overflow,
        Value::Bool(false),
        "the member page scrolls sideways on a phone"
    );
}

/// An organizer opens a session's sheet, uses the script's "mark all present", marks one person
/// absent, saves, and sees the count in the flash message and the marks kept (R3.4).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn organizer_marks_attendance_in_the_browser() {
    let Some(app) = harness::spawn(store::testing::Engine::Sqlite).await else {
        return;
    };
    let Some(b) = Browser::start(1280, 900).await else {
        return;
    };
    b.login(&app.base, "organizer").await;
    b.wait_for_text("Tổng quan").await;
    // The organizer's in-person class: open it from the campaign list.
    b.go(&format!("{}/campaigns", app.base)).await;
    b.click("td a[href^='/campaigns/']").await;
    b.click("td a[href^='/classes/']").await;
    b.click("a[href$='/attendance']").await;
    b.wait_for_text("Điểm danh:").await;
    // Clear every mark first through the page itself, then let the script fill the blanks.
    b.script("document.querySelectorAll('select[data-status]').forEach(function(s){s.value=''})")
        .await;
    b.click("#mark-all-present").await;
    let blanks = b.script("return Array.from(document.querySelectorAll('select[data-status]')).filter(function(s){return !s.value}).length").await;
    assert_eq!(blanks, json!(0), "the script marks everyone present");
    let first = b
        .script("return document.querySelector('select[data-status]').id")
        .await;
    let first = first.as_str().unwrap().to_string();
    b.click(&format!("#{first} option[value=absent]")).await;
    b.click("button.primary[type=submit]").await;
    b.wait_for_text("Đã lưu điểm danh").await;
    let kept = b
        .script(&format!("return document.getElementById('{first}').value"))
        .await;
    assert_eq!(kept, json!("absent"));
}
