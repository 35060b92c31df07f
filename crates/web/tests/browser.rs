//! Browser tests in real headless Chromium, driven over the W3C WebDriver protocol through
//! chromedriver (Debian's `chromium` and `chromium-driver`, installed by `.ci/run`).
//! Outside CI they are skipped when chromedriver is missing; under `CI=true` they fail instead.
#![allow(clippy::unwrap_used)]

#[path = "http/harness.rs"]
#[allow(unused_imports)]
mod harness;

use std::os::unix::process::CommandExt;
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
        // chromedriver runs in a process group of its own: ending the group ends the Chromium it
        // started too (killing chromedriver alone leaves Chromium running, hundreds of them over
        // a test run).
        let _ = Command::new("kill")
            .args(["-9", "--", &format!("-{}", self.driver.id())])
            .status();
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
            .process_group(0)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
        {
            Ok(c) => c,
            Err(e) => {
                fixtures::testing::missing(
                    fixtures::testing::Service::Chromium,
                    &format!("chromedriver not found ({e})"),
                );
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
        // A profile of its own, never one a previous browser may still hold.
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let profile =
            std::env::temp_dir().join(format!("qt-chromium-{}-{port}-{nanos}", std::process::id()));
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
        // GET and DELETE commands carry no body; chromedriver refuses a JSON `null`.
        let req = if method == reqwest::Method::GET || method == reqwest::Method::DELETE {
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
    let Some(app) = harness::spawn(fixtures::testing::Engine::Sqlite).await else {
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
    let Some(app) = harness::spawn(fixtures::testing::Engine::Sqlite).await else {
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

/// A session of the demo commune's in-person class that started 10 minutes ago, made through
/// the API; returns its id and the class's participants.
async fn live_session(app: &harness::TestApp) -> (i64, Vec<Value>) {
    let organizer = app.api_login("organizer").await;
    let classes = harness::items(&organizer.get_ok("/api/v1/classes").await);
    let class_id = harness::id(classes.iter().find(|c| c["form"] == "in_person").unwrap());
    let start = domain::study::utc_to_local(chrono::Utc::now() - chrono::Duration::minutes(10));
    let s = organizer
        .post_ok(
            &format!("/api/v1/classes/{class_id}/sessions"),
            &json!({"date": start.format("%d/%m/%Y").to_string(), "start_time": start.format("%H:%M").to_string(),
                    "duration_minutes": 120, "topic": "Buổi thử điểm danh"}),
            201,
        )
        .await;
    let people = harness::items(
        &organizer
            .get_ok(&format!("/api/v1/classes/{class_id}/participants"))
            .await,
    );
    (harness::id(&s), people)
}

async fn checkin_count(app: &harness::TestApp, session: i64) -> i64 {
    let store::Db::Sqlite(p) = &app.db else {
        panic!("browser tests run on SQLite")
    };
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM checkins WHERE session_id = $1")
        .bind(session)
        .fetch_one(p)
        .await
        .unwrap();
    n
}

/// R3.4: on a phone, a member opens the link of the QR code shown on the operator's screen,
/// logs in when asked, and lands checked in; the page fits the phone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn member_checks_in_by_qr_on_a_phone() {
    let Some(app) = harness::spawn(fixtures::testing::Engine::Sqlite).await else {
        return;
    };
    let (session, _) = live_session(&app).await;
    // The operator's screen (read over HTTP): the link inside the QR code.
    let operator = app.browser_login("organizer").await;
    let screen = operator
        .get(&format!("/sessions/{session}/qr"))
        .await
        .html();
    let link = screen
        .split("Đường dẫn của mã: ")
        .nth(1)
        .and_then(|s| s.split('<').next())
        .map(harness::unescape)
        .unwrap();
    assert!(link.starts_with(&app.base), "{link}");
    let Some(b) = Browser::start(390, 844).await else {
        return;
    };
    // What the phone's camera app opens: not logged in yet, so the login page comes first.
    b.go(&link).await;
    b.wait_for_text("Đăng nhập").await;
    b.type_into("#username", "member").await;
    b.type_into("#password", harness::PASSWORD).await;
    b.click("button[type=submit]").await;
    // Issue 10.14: the scan asks to confirm; only the confirmation checks in.
    b.wait_for_text("Xác nhận có mặt").await;
    assert_eq!(checkin_count(&app, session).await, 0);
    b.click(".checked-in button[type=submit]").await;
    let html = b.wait_for_text("Đã điểm danh vào").await;
    assert!(html.contains("lúc"), "{html}");
    assert_eq!(checkin_count(&app, session).await, 1);
    let overflow = b
        .script("return document.documentElement.scrollWidth > window.innerWidth + 1")
        .await;
    assert_eq!(
        overflow,
        Value::Bool(false),
        "the check-in page fits a phone"
    );
}

/// R3.4: the operator page goes offline, keeps taking check-ins (a row button and a scanned
/// card number), queues them in the browser, and sends them when the connection returns.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operator_page_takes_checkins_offline_and_syncs() {
    let Some(app) = harness::spawn(fixtures::testing::Engine::Sqlite).await else {
        return;
    };
    let (session, people) = live_session(&app).await;
    let Some(b) = Browser::start(1280, 900).await else {
        return;
    };
    b.login(&app.base, "organizer").await;
    b.go(&format!("{}/sessions/{session}/checkin", app.base))
        .await;
    b.wait_for_text("Điểm danh tại chỗ").await;
    // The service worker is installed for the next time the page opens without a network.
    for _ in 0..100 {
        let ready = b
            .script("return !!(navigator.serviceWorker && navigator.serviceWorker.controller) || window.__swReady === true")
            .await;
        if ready == Value::Bool(true) {
            break;
        }
        b.script("navigator.serviceWorker.ready.then(function(){window.__swReady=true})")
            .await;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let offline = |on: bool| json!({"network_conditions": {"offline": on, "latency": 0, "download_throughput": 1_000_000, "upload_throughput": 1_000_000}});
    b.cmd(
        reqwest::Method::POST,
        "/chromium/network_conditions",
        offline(true),
    )
    .await;
    // A row's button, then a card number typed by the barcode scanner with Enter.
    let first = harness::id(&people[0]);
    b.click(&format!(
        "tr[data-pid='{first}'] button[value='in:{first}']"
    ))
    .await;
    let other = people
        .iter()
        .skip(1)
        .find(|p| p["party_card_number"].is_string())
        .unwrap();
    let card = other["party_card_number"].as_str().unwrap();
    b.type_into("#code", &format!("{card}\u{E007}")).await;
    // Both wait in the queue; nothing reached the server.
    let mut queued = Value::Null;
    for _ in 0..50 {
        queued = b
            .script("return JSON.parse(localStorage.getItem('qt-checkin-queue:'+document.getElementById('checkin-form').dataset.account)||'[]').length")
            .await;
        if queued == json!(2) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(queued, json!(2), "two check-ins queued offline");
    b.wait_for_text("Mất kết nối").await;
    assert_eq!(checkin_count(&app, session).await, 0);
    let shown = b.find("#present-count").await;
    let count = b
        .cmd(
            reqwest::Method::GET,
            &format!("/element/{shown}/text"),
            Value::Null,
        )
        .await;
    assert!(count.as_str().unwrap().parse::<i64>().unwrap() >= 2);

    b.script("window.__sent = localStorage.getItem('qt-checkin-queue:'+document.getElementById('checkin-form').dataset.account)")
        .await;
    // Back online: the queue is sent, once.
    b.cmd(
        reqwest::Method::POST,
        "/chromium/network_conditions",
        offline(false),
    )
    .await;
    b.script("window.dispatchEvent(new Event('online'))").await;
    for _ in 0..150 {
        if checkin_count(&app, session).await == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(checkin_count(&app, session).await, 2);
    b.wait_for_text("Đã gửi hết").await;
    let left = b
        .script("return JSON.parse(localStorage.getItem('qt-checkin-queue:'+document.getElementById('checkin-form').dataset.account)||'[]').length")
        .await;
    assert_eq!(left, json!(0));
    // The same queue sent again (a second tab, a retry after a lost reply): nothing is added.
    b.script("localStorage.setItem('qt-checkin-queue:'+document.getElementById('checkin-form').dataset.account, window.__sent); window.dispatchEvent(new Event('online'))")
        .await;
    for _ in 0..100 {
        let left = b
            .script("return JSON.parse(localStorage.getItem('qt-checkin-queue:'+document.getElementById('checkin-form').dataset.account)||'[]').length")
            .await;
        if left == json!(0) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(checkin_count(&app, session).await, 2);

    // Issue 10.9: the session ends elsewhere (logout on every device, idle time, expiry); the
    // next visit goes to the login page, and the kept copy of the roster leaves the device.
    assert_eq!(
        kept_rosters(&b).await,
        1,
        "the operator page is kept for offline use"
    );
    store::db_run!(&app.db, p => sqlx::query("DELETE FROM login_sessions").execute(p).await.map(|r| r.rows_affected()))
        .unwrap();
    store::auth::forget_sessions();
    b.go(&format!("{}/sessions/{session}/checkin", app.base))
        .await;
    b.wait_for_text("Đăng nhập").await;
    let mut left = 1;
    for _ in 0..30 {
        left = kept_rosters(&b).await;
        if left == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        left, 0,
        "the roster is gone from the device once the session has ended"
    );
}

/// How many check-in caches (kept rosters) the browser holds.
async fn kept_rosters(b: &Browser) -> i64 {
    b.script("window.__kept = null; caches.keys().then(function (k) { window.__kept = k.filter(function (n) { return n.indexOf('qt-checkin-') === 0; }).length; })")
        .await;
    for _ in 0..50 {
        if let Some(n) = b.script("return window.__kept").await.as_i64() {
            return n;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("caches.keys() did not answer");
}

/// The axe-core script (npm `axe-core`, installed by `.ci/run` into `.ci/node`); a failure when it
/// is missing, `None` only when `QUANTRIET_SKIP_CHROMIUM=1` asked for the skip.
fn axe_source() -> Option<String> {
    let path = std::env::var("QUANTRIET_AXE").unwrap_or_else(|_| {
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../.ci/node/node_modules/axe-core/axe.min.js"
        )
        .into()
    });
    match std::fs::read_to_string(&path) {
        Ok(s) => Some(s),
        Err(e) => {
            fixtures::testing::missing(
                fixtures::testing::Service::Chromium,
                &format!("axe-core not found at {path} ({e}); `npm install --prefix .ci/node axe-core@4`"),
            );
            None
        }
    }
}

impl Browser {
    /// Serious and critical axe-core violations of the page now open (WCAG 2.1 A and AA).
    async fn axe(&self, source: &str) -> Vec<String> {
        self.script(&format!("{source}\n;return true;")).await;
        let found = self
            .cmd(
                reqwest::Method::POST,
                "/execute/async",
                json!({"script": "var done = arguments[arguments.length - 1];\
                    axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})\
                      .then(function (r) { if (!r.passes.length) { done(['axe ran no rule']); return; } done(r.violations.filter(function (v) { return v.impact === 'serious' || v.impact === 'critical'; })\
                        .map(function (v) { return v.id + ' (' + v.impact + '): ' + v.help + ' — ' + v.nodes.slice(0, 3).map(function (n) { return n.target.join(' '); }).join(' | '); })); })\
                      .catch(function (e) { done(['axe failed: ' + e]); });",
                    "args": []}),
            )
            .await;
        found
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// Issue 11.15: the main pages of each role have no serious or critical accessibility violation
/// (axe-core in headless Chromium): contrast of the header and its focus ring, the unread badge,
/// labels, field errors tied to their inputs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn main_pages_pass_axe_for_every_role() {
    let Some(axe) = axe_source() else {
        return;
    };
    let Some(app) = harness::spawn(fixtures::testing::Engine::Sqlite).await else {
        return;
    };
    let (session, _) = live_session(&app).await;
    let (organizer, class_id) = organizer_class(&app).await;
    let commune = harness::id(&harness::items(&organizer.get_ok("/api/v1/orgs").await)[0]);
    let secretary = app.api_login("secretary").await;
    let cell = secretary.login["account"]["grants"][0]["org_id"]
        .as_i64()
        .unwrap();
    let pages: Vec<(&str, Vec<String>)> = vec![
        (
            "member",
            vec![
                "/me".into(),
                "/resolutions".into(),
                "/notifications".into(),
                "/account".into(),
                // Issue 16: the questionnaires, taking the class's quiz, its survey, the contest.
                "/assess".into(),
                "/assess/quizzes/1/take".into(),
                "/assess/quizzes/2/take".into(),
                "/contests/4".into(),
            ],
        ),
        (
            "secretary",
            vec![
                "/".into(),
                "/people".into(),
                "/retakes".into(),
                "/tasks".into(),
                "/plans".into(),
                "/calendar".into(),
                "/oversight".into(),
                "/conduct/eligibility".into(),
                format!("/conduct/ratings?org={cell}"),
                "/assess".into(),
                "/assess/quizzes/3".into(),
            ],
        ),
        (
            "organizer",
            vec![
                "/".into(),
                format!("/orgs/{commune}"),
                "/people".into(),
                "/resolutions".into(),
                "/campaigns".into(),
                format!("/classes/{class_id}"),
                format!("/classes/{class_id}?tab=participants"),
                format!("/classes/{class_id}?tab=results"),
                format!("/sessions/{session}/checkin"),
                format!("/sessions/{session}/attendance"),
                "/owes".into(),
                "/import".into(),
                "/tasks".into(),
                "/plans".into(),
                // The demo's province program (the commune leads items) and the commune's plan.
                "/plans/1".into(),
                "/plans/2".into(),
                "/plans/new".into(),
                "/plans/2/items/new".into(),
                "/plans/timeliness?resolution=1".into(),
                // Issue 15: conduct at a class, the working groups, the eligibility report.
                format!("/classes/{class_id}/conduct"),
                "/oversight".into(),
                "/oversight/supervised".into(),
                "/conduct/eligibility".into(),
                format!("/conduct/eligibility/print?org={commune}"),
                // Issue 16: banks, questionnaires and their results, reflections, roll-ups.
                "/assess".into(),
                "/assess/banks".into(),
                "/assess/banks/3".into(),
                "/assess/quizzes/new".into(),
                "/assess/quizzes/1".into(),
                "/assess/quizzes/2".into(),
                "/assess/quizzes/1/print".into(),
                format!("/classes/{class_id}/reflections"),
                format!("/assess/rollup?org={commune}&resolution=3"),
            ],
        ),
    ];
    let mut problems = Vec::new();
    // One browser for the whole test (several Chromium instances at once on two cores can crash).
    let Some(b) = Browser::start(1280, 900).await else {
        return;
    };
    // The check itself works: an image without a text alternative is found.
    b.go(&format!("{}/login", app.base)).await;
    b.script("document.body.insertAdjacentHTML('beforeend', '<img src=\"/static/none.png\">'); return true;")
        .await;
    let found = b.axe(&axe).await;
    assert!(
        found.iter().any(|v| v.starts_with("image-alt")),
        "axe finds a planted violation: {found:?}"
    );
    for (role, paths) in pages {
        b.cmd(reqwest::Method::DELETE, "/cookie", Value::Null).await;
        b.login(&app.base, role).await;
        for path in paths {
            b.go(&format!("{}{path}", app.base)).await;
            for v in b.axe(&axe).await {
                problems.push(format!("{role} {path}: {v}"));
            }
        }
    }
    // On a phone, where the menu folds behind its button (the organizer is still logged in).
    b.cmd(
        reqwest::Method::POST,
        "/window/rect",
        json!({"width": 390, "height": 844}),
    )
    .await;
    for path in ["/", "/people"] {
        b.go(&format!("{}{path}", app.base)).await;
        for v in b.axe(&axe).await {
            problems.push(format!("organizer (phone) {path}: {v}"));
        }
    }
    assert!(
        problems.is_empty(),
        "accessibility violations:\n{}",
        problems.join("\n")
    );
}

/// The text of each page of a PDF made by Chromium's print command (pdftotext, from Debian's
/// poppler-utils, required like Chromium itself).
fn pdf_pages(pdf_base64: &str) -> Option<Vec<String>> {
    let dir = std::env::temp_dir().join(format!(
        "qt-print-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let b64 = dir.join("doc.b64");
    let pdf = dir.join("doc.pdf");
    std::fs::write(&b64, pdf_base64).unwrap();
    let decoded = Command::new("base64")
        .arg("-d")
        .arg(&b64)
        .output()
        .expect("base64 (coreutils)");
    std::fs::write(&pdf, decoded.stdout).unwrap();
    let text = match Command::new("pdftotext")
        .args(["-layout"])
        .arg(&pdf)
        .arg("-")
        .output()
    {
        Ok(o) => String::from_utf8_lossy(&o.stdout).into_owned(),
        Err(e) => {
            fixtures::testing::missing(
                fixtures::testing::Service::Chromium,
                &format!("pdftotext (poppler-utils) not found ({e})"),
            );
            return None;
        }
    };
    let _ = std::fs::remove_dir_all(&dir);
    // pdftotext ends every page with a form feed.
    Some(
        text.split('\u{c}')
            .map(str::to_owned)
            .filter(|p| !p.trim().is_empty())
            .collect(),
    )
}

/// Issue 11.13: a printed list follows the Party layout (the superior body above the issuing
/// one, the document number, the commune as the place) and its last page never holds only the
/// signature block. The list is grown row by row in the browser and printed to PDF at each length
/// that could leave the signature alone; with the rule switched off, some length does (so the
/// check can fail).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn printed_list_keeps_rows_with_its_signature() {
    let Some(app) = harness::spawn(fixtures::testing::Engine::Sqlite).await else {
        return;
    };
    let (_, class_id) = organizer_class(&app).await;
    let Some(b) = Browser::start(1280, 900).await else {
        return;
    };
    b.login(&app.base, "organizer").await;
    let url = format!("{}/classes/{class_id}/participants/print", app.base);
    b.go(&url).await;
    let source = b.source().await;
    assert!(
        source.contains("ĐẢNG BỘ TỈNH QUẢNG NGÃI"),
        "the superior body"
    );
    assert!(
        source.contains("class=\"issuer\">ĐẢNG ỦY "),
        "the issuing committee"
    );
    assert!(source.contains("-DS/ĐU"), "the document number");
    assert!(
        !source.contains("Quảng Ngãi, ngày"),
        "dated in the commune, not the province"
    );

    // Rows of the list: keep `n` (cloning the first when more are needed), then print. Without
    // the rule, the total and signature go back below the table (as before issue 11.13).
    let set_rows = |n: usize, rule: bool| {
        format!(
            "var body = document.querySelector('table tbody');
             var last = document.querySelector('table tbody.doc-last');
             var rows = Array.prototype.slice.call(body.children);
             var first = rows[0].cloneNode(true);
             rows.slice({n} - 1).forEach(function (r) {{ r.remove(); }});
             for (var i = rows.length; i < {n} - 1; i++) body.appendChild(first.cloneNode(true));
             if (!{rule}) {{ var sign = last.querySelector('tr.sign-row'); var end = sign.querySelector('.doc-end');
               body.closest('.table-wrap').after(end); sign.remove(); last.className = ''; }}
             return body.children.length;"
        )
    };
    let mut alone_without_rule = 0;
    let mut checked = 0;
    for n in 14..=48 {
        for rule in [true, false] {
            b.go(&url).await;
            b.script(&set_rows(n, rule)).await;
            let pdf = b
                .cmd(
                    reqwest::Method::POST,
                    "/print",
                    json!({"page": {"width": 21.0, "height": 29.7}, "margin": {"top": 2.0, "bottom": 2.0, "left": 2.5, "right": 1.5}, "background": false}),
                )
                .await;
            let Some(pages) = pdf_pages(pdf.as_str().expect("a PDF")) else {
                return;
            };
            let last = pages.last().cloned().unwrap_or_default();
            // A row of the list shows its TT number at the start of a line.
            let has_row = last.lines().any(|l| {
                l.split_whitespace()
                    .next()
                    .is_some_and(|w| w.parse::<usize>().is_ok_and(|v| v >= 1))
            });
            let signed = last.contains("T/M BAN TỔ CHỨC");
            if rule {
                checked += 1;
                assert!(
                    pages.len() == 1 || (signed && has_row),
                    "{n} rows: the last of {} pages holds the signature without rows:\n{}",
                    pages.len(),
                    pages.join("\n=====PAGE=====\n")
                );
            } else if pages.len() > 1 && signed && !has_row {
                alone_without_rule += 1;
            }
        }
    }
    assert!(checked > 0);
    assert!(
        alone_without_rule > 0,
        "without the rule some length leaves the signature alone (else this check proves nothing)"
    );
}

/// Issue 14 in the browser: the organizer drafts a plan, adds an item, consults, has it
/// approved, issues it, reviews it at mid-term and at the end, every step from the pages; then
/// a task the province sends to two communes is answered by both (one on the page, one by the
/// province for the other) and the roll-up shows 2/2 (R1.2, R7.3, R8.1).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn organizer_takes_a_plan_from_draft_to_final_review() {
    let Some(app) = harness::spawn(fixtures::testing::Engine::Sqlite).await else {
        return;
    };
    let Some(b) = Browser::start(1280, 900).await else {
        return;
    };
    b.login(&app.base, "organizer").await;
    b.wait_for_text("Tổng quan").await;
    b.go(&format!("{}/plans/new", app.base)).await;
    b.wait_for_text("Soạn chương trình").await;
    b.type_into("#title", "Kế hoạch thực hiện Nghị quyết trong trình duyệt")
        .await;
    b.click("input[name=resolution_ids]").await;
    b.click("form.card button.primary").await;
    b.wait_for_text("Đã lưu dự thảo").await;
    let plan_url = b.url().await;
    b.click("a[href$='/items/new']").await;
    b.wait_for_text("Thêm hạng mục").await;
    b.type_into("#title", "Hội nghị quán triệt toàn xã").await;
    let due = (store::plans::tasks::today() + chrono::Duration::days(20))
        .format("%d/%m/%Y")
        .to_string();
    b.type_into("#due_on", &due).await;
    b.click("form.card button.primary").await;
    b.wait_for_text("Đã thêm hạng mục").await;
    assert!(b.source().await.contains("<svg"), "the timeline is drawn");
    b.type_into("#consulted", "Ủy ban MTTQ Việt Nam xã\nHội Nông dân xã")
        .await;
    b.click("form:has(#consulted) button.primary").await;
    b.wait_for_text("Đang lấy ý kiến").await;
    b.type_into("#approve_number", "61-NQ/ĐU").await;
    b.click("form:has(#approve_number) button.primary").await;
    b.wait_for_text("Đã thông qua").await;
    b.type_into("#issue_number", "31-KH/ĐU").await;
    b.click("form:has(#issue_number) button.primary").await;
    b.wait_for_text("Đã ban hành").await;
    b.type_into("#note-interim_review", "Đã tổ chức hội nghị ở 8/11 chi bộ.")
        .await;
    b.click("form:has(#note-interim_review) button.primary")
        .await;
    b.wait_for_text("Đã sơ kết").await;
    b.type_into("#note-final_review", "Hoàn thành các nhiệm vụ đề ra.")
        .await;
    b.click("form:has(#note-final_review) button.primary").await;
    b.wait_for_text("Đã tổng kết").await;
    b.go(&plan_url).await;
    let page = b.source().await;
    assert!(
        page.contains("Số") && page.contains("31-KH/ĐU"),
        "issued number shown"
    );
    assert!(page.contains("Hoàn thành các nhiệm vụ đề ra."));

    // A cascade answered by two communes.
    let admin = app.api_login("admin").await;
    let organizer = app.api_login("organizer").await;
    let (province, communes) = harness::province_tree(&admin).await;
    let commune = harness::id(&harness::items(&organizer.get_ok("/api/v1/orgs").await)[0]);
    let other = communes
        .iter()
        .map(harness::id)
        .find(|c| *c != commune)
        .unwrap();
    let task = admin
        .post_ok(
            "/api/v1/tasks",
            &json!({"from_org_id": province, "title": "Báo cáo số đảng viên được quán triệt",
                    "due_on": due, "target_org_ids": [commune, other]}),
            201,
        )
        .await;
    let task_id = harness::id(&task);
    b.go(&format!("{}/tasks", app.base)).await;
    b.wait_for_text("Báo cáo số đảng viên được quán triệt")
        .await;
    b.go(&format!(
        "{}/tasks/{task_id}/report?org={commune}",
        app.base
    ))
    .await;
    b.type_into("#people_reached", "412").await;
    b.click("form.card button.primary").await;
    b.wait_for_text("Đã báo cáo hoàn thành").await;
    admin
        .post_ok(
            &format!("/api/v1/tasks/{task_id}/reports"),
            &json!({"org_id": other, "people_reached": 380}),
            200,
        )
        .await;
    let d = admin.get_ok(&format!("/api/v1/tasks/{task_id}")).await;
    assert_eq!(d["task"]["done_count"], 2, "{d}");
    b.go(&format!("{}/tasks/{task_id}", app.base)).await;
    let page = b.wait_for_text("tổ chức của bạn đã hoàn thành").await;
    assert!(page.contains("412"), "the commune's own report shows");
}

/// Issue 15 (R3.6, R3.7): at the close of the commune's class the organizer opens the class's
/// conduct page, proposes an unexcused absentee for review and reminds two participants at
/// once from the page; the records show on the page and in the person's record, and the
/// reminded members are no longer eligible for an excellent rating.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn organizer_records_conduct_at_the_close_of_a_class() {
    let Some(app) = harness::spawn(fixtures::testing::Engine::Sqlite).await else {
        return;
    };
    let (organizer, class_id) = organizer_class(&app).await;
    let Some(b) = Browser::start(1280, 900).await else {
        return;
    };
    b.login(&app.base, "organizer").await;
    b.go(&format!("{}/classes/{class_id}", app.base)).await;
    b.click(&format!("a[href='/classes/{class_id}/conduct']"))
        .await;
    b.wait_for_text("Vắng không có lý do").await;
    // The absentees' block offers the review proposal.
    b.click("a[href$='conduct?kind=review_proposal']").await;
    b.wait_for_text("Người được ghi nhận").await;
    let kind = b
        .script("return document.getElementById('kind').value")
        .await;
    assert_eq!(kind, json!("review_proposal"));
    let absentee = b
        .script("return document.querySelector('input[id^=abs-]').value")
        .await;
    let absentee: i64 = absentee.as_str().unwrap().parse().unwrap();
    b.click("input[id^=abs-]").await;
    b.type_into("#reason", "Vắng không có lý do buổi sáng.")
        .await;
    b.click("form.card button.primary").await;
    b.wait_for_text("Đã ghi nhận đề nghị kiểm điểm cho 1 người")
        .await;
    // Two participants reminded at once; a missing reason first keeps the choice.
    b.click("#kind option[value=reminder]").await;
    let two: Vec<i64> = b
        .script("var x = Array.from(document.querySelectorAll('input[id^=p-]')).slice(0, 2); x.forEach(function(e){e.click()}); return x.map(function(e){return e.value})")
        .await
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().parse().unwrap())
        .collect();
    b.type_into("#reason", "").await;
    b.click("form.card button.primary").await;
    b.wait_for_text("reason-error").await;
    let kept = b
        .script("return document.querySelectorAll('input[id^=p-]:checked').length")
        .await;
    assert_eq!(
        kept,
        json!(2),
        "the chosen people are kept on a refused form"
    );
    b.type_into("#reason", "Sử dụng điện thoại trong giờ học.")
        .await;
    b.click("form.card button.primary").await;
    let page = b.wait_for_text("Đã ghi nhận nhắc nhở cho 2 người").await;
    assert!(page.contains("Vắng không có lý do buổi sáng."));
    // Recorded on each person, and they are no longer eligible for an excellent rating.
    for p in two.iter().chain([&absentee]) {
        let records = organizer
            .get_ok(&format!("/api/v1/people/{p}/conduct"))
            .await;
        assert!(
            records
                .as_array()
                .unwrap()
                .iter()
                .any(|r| r["class_id"] == json!(class_id) && r["withdrawn_at"].is_null()),
            "{p}: {records}"
        );
    }
    let commune = harness::id(&harness::items(&organizer.get_ok("/api/v1/orgs").await)[0]);
    let barred = organizer
        .get_ok(&format!("/api/v1/orgs/{commune}/eligibility/members"))
        .await;
    let ids: Vec<i64> = harness::items(&barred)
        .iter()
        .filter(|m| m["eligible"] == json!(false))
        .map(|m| m["person_id"].as_i64().unwrap())
        .collect();
    for p in two.iter().chain([&absentee]) {
        assert!(ids.contains(p), "{p} not eligible: {ids:?}");
    }
}

/// The organizer's API session and the demo commune's in-person class.
async fn organizer_class(app: &harness::TestApp) -> (harness::Api, i64) {
    let organizer = app.api_login("organizer").await;
    let class_id = harness::id(
        harness::items(&organizer.get_ok("/api/v1/classes").await)
            .iter()
            .find(|c| c["form"] == "in_person")
            .unwrap(),
    );
    (organizer, class_id)
}

/// Issue 16 (R3.4, R4.1): a member takes the class's quiz on a phone-sized window without
/// script: finds it on "Của tôi", answers two questions and saves, comes back to find them kept
/// (a dropped connection loses nothing saved), answers the rest and submits; the score is the
/// keys' and stored once — a second press of the same form (the back button) changes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn member_takes_a_quiz_on_a_phone() {
    let Some(app) = harness::spawn(fixtures::testing::Engine::Sqlite).await else {
        return;
    };
    let member = app.api_login("member").await;
    let person = member.get_ok("/api/v1/me").await["person_id"]
        .as_i64()
        .unwrap();
    let quiz = member
        .get_ok("/api/v1/me/quizzes")
        .await
        .as_array()
        .unwrap()
        .iter()
        .find(|z| z["kind"] == "quiz")
        .map(harness::id)
        .expect("the demo member has the class's quiz to take");
    let Some(b) = Browser::start(390, 844).await else {
        return;
    };
    b.login(&app.base, "member").await;
    b.go(&format!("{}/me", app.base)).await;
    b.click(&format!("a[href='/assess/quizzes/{quiz}/take']"))
        .await;
    b.wait_for_text("Nộp bài").await;
    // The questions drawn for this member, with their keys (read from the database).
    let keys: Vec<(i64, String, String)> = store::db_run!(&app.db, p => sqlx::query_as(
        "SELECT aa.position, q.kind, v.answer FROM attempt_answers aa JOIN attempts a ON a.id = aa.attempt_id \
         JOIN question_versions v ON v.id = aa.version_id JOIN questions q ON q.id = v.question_id \
         WHERE a.quiz_id = $1 AND a.person_id = $2 ORDER BY aa.position")
        .bind(quiz).bind(person).fetch_all(p).await)
    .unwrap();
    assert!(keys.len() >= 4, "{keys:?}");
    let answer = |pos: i64, kind: &str, key: &str| -> Vec<String> {
        match kind {
            "single" | "multiple" => key
                .split(',')
                .map(|l| format!("input[name='a{pos}'][value='{l}']"))
                .collect(),
            "true_false" => vec![format!("input[name='a{pos}'][value='{key}']")],
            _ => vec![],
        }
    };
    async fn give(b: &Browser, pos: i64, key: &str, clicks: Vec<String>) {
        if clicks.is_empty() {
            let first = key.split('|').next().unwrap_or("").trim().to_string();
            b.type_into(&format!("[name='a{pos}']"), &first).await;
        } else {
            for c in clicks {
                b.click(&c).await;
            }
        }
    }
    for (pos, kind, key) in keys.iter().take(2) {
        give(&b, *pos, key, answer(*pos, kind, key)).await;
    }
    b.click("button[name='action'][value='save']").await;
    b.wait_for_text("Đã lưu tạm").await;
    // Back later (a new page load): the two answers are there.
    b.go(&format!("{}/assess/quizzes/{quiz}/take", app.base))
        .await;
    for (pos, kind, key) in keys.iter().take(2) {
        let kept = match kind.as_str() {
            "single" | "multiple" | "true_false" => b
                .script(&format!(
                    "return Array.from(document.querySelectorAll(\"input[name='a{pos}']:checked\")).map(function(e){{return e.value}}).join(',')"
                ))
                .await,
            _ => b
                .script(&format!(
                    "return document.querySelector(\"[name='a{pos}']\").value"
                ))
                .await,
        };
        let want = if kind == "short_answer" {
            key.split('|').next().unwrap_or("").trim().to_string()
        } else {
            key.clone()
        };
        assert_eq!(kept, json!(want), "question {pos} kept after saving");
    }
    for (pos, kind, key) in keys.iter().skip(2) {
        give(&b, *pos, key, answer(*pos, kind, key)).await;
    }
    // Nothing wider than the phone's screen.
    let overflow = b
        .script("return document.documentElement.scrollWidth > window.innerWidth + 1")
        .await;
    assert_eq!(
        overflow,
        Value::Bool(false),
        "the quiz scrolls sideways on a phone"
    );
    b.click("button[name='action'][value='submit']").await;
    b.wait_for_text("Đã nộp bài").await;
    let stored = || async {
        let (score, max, submitted): (Option<i64>, i64, i64) = store::db_run!(&app.db, p => sqlx::query_as(
            "SELECT a.score, a.max_score, (SELECT submitted_count FROM quizzes WHERE id = $1) FROM attempts a WHERE a.quiz_id = $1 AND a.person_id = $2")
            .bind(quiz).bind(person).fetch_one(p).await)
        .unwrap();
        (score, max, submitted)
    };
    let (score, max, submitted) = stored().await;
    assert_eq!(score, Some(max), "every answer was the key");
    // The back button shows the result, not the form; the same form sent again (a double
    // press on a slow link) changes nothing.
    b.script("history.back(); return true;").await;
    let back = b.wait_for_text("Kết quả bài làm").await;
    assert!(
        !back.contains("value=\"submit\""),
        "no form after submission"
    );
    let status = b
        .script(&format!(
            "var c = document.querySelector(\"input[name='csrf']\").value; var x = new XMLHttpRequest(); \
             x.open('POST', '/assess/quizzes/{quiz}/take', false); x.setRequestHeader('Content-Type', 'application/x-www-form-urlencoded'); \
             x.send('csrf=' + encodeURIComponent(c) + '&action=submit&a1=A'); return x.status;"
        ))
        .await;
    assert_eq!(status, json!(200), "answered with the result page");
    assert_eq!(
        stored().await,
        (score, max, submitted),
        "a second submission changes nothing"
    );
}
