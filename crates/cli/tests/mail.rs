//! E-mail of notifications (issue 13.3) against a real SMTP server (Python's aiosmtpd, writing a
//! maildir), with the real binary: notifications made while the server is down wait in the
//! outbox, survive a SIGKILL of the application, and are delivered once the server is up — each
//! exactly once, with its own Message-ID, in Vietnamese; a further restart sends nothing again.
//! Both engines.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeMap;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{exec, free_addr, open_session, scalar, wait_ready};
use fixtures::testing::{fresh, missing, Engine, Service};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notifications_are_mailed_once_through_outages_and_restarts_sqlite() {
    run(Engine::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notifications_are_mailed_once_through_outages_and_restarts_postgres() {
    run(Engine::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r8_1_task_notices_and_reminders_are_mailed_sqlite() {
    task_mail(Engine::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r8_1_task_notices_and_reminders_are_mailed_postgres() {
    task_mail(Engine::Postgres).await;
}

fn serve(url: &str, addr: &str, smtp_port: u16) -> Child {
    common::start_with(
        url,
        addr,
        &[
            (
                "QUANTRIET_SMTP_URL",
                format!("smtp://127.0.0.1:{smtp_port}"),
            ),
            (
                "QUANTRIET_MAIL_FROM",
                "Quán triệt <quantriet@tinhuy.example.vn>".into(),
            ),
            (
                "QUANTRIET_PUBLIC_URL",
                "https://quantriet.example.vn".into(),
            ),
        ],
    )
}

/// aiosmtpd writing every message it accepts into `maildir`; `None` when it is not installed.
fn smtp_server(port: u16, maildir: &std::path::Path) -> Option<Child> {
    let ok = Command::new("python3")
        .args(["-c", "import aiosmtpd"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        missing(
            Service::Smtp,
            "aiosmtpd not installed: `python3 -m pip install aiosmtpd`",
        );
        return None;
    }
    let child = Command::new("python3")
        .args(["-m", "aiosmtpd", "-n", "-l"])
        .arg(format!("127.0.0.1:{port}"))
        .args(["-c", "aiosmtpd.handlers.Mailbox"])
        .arg(maildir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    Some(child)
}

/// The messages in the maildir, decoded by Python's `email` package (what a mail client shows):
/// Message-ID → (To, Subject, body), and how many files in all.
fn mailbox(maildir: &std::path::Path) -> (BTreeMap<String, (String, String, String)>, usize) {
    const READ: &str = r#"
import email, email.policy, json, mailbox, sys
out = []
for m in mailbox.Maildir(sys.argv[1], factory=None, create=False):
    msg = email.message_from_bytes(m.as_bytes(), policy=email.policy.default)
    out.append([msg["Message-ID"], msg["To"], msg["Subject"], msg.get_body().get_content()])
print(json.dumps(out))
"#;
    if !maildir.exists() {
        return (BTreeMap::new(), 0);
    }
    let out = Command::new("python3")
        .args(["-c", READ])
        .arg(maildir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows: Vec<(String, String, String, String)> = serde_json::from_slice(&out.stdout).unwrap();
    let files = rows.len();
    let map = rows
        .into_iter()
        .map(|(id, to, subject, body)| (id, (to, subject, body)))
        .collect();
    (map, files)
}

fn csrf_of(html: &str) -> String {
    let needle = "name=\"csrf\" value=\"";
    let at = html.find(needle).unwrap() + needle.len();
    html[at..at + html[at..].find('"').unwrap()].to_string()
}

async fn run(engine: Engine) {
    let Some(t) = fresh(engine).await else {
        return;
    };
    let dir = common::scratch("mail", engine);
    let maildir = dir.join("maildir");
    let smtp_port = free_addr()
        .rsplit(':')
        .next()
        .unwrap()
        .parse::<u16>()
        .unwrap();
    let addr = free_addr();
    let base = format!("http://{addr}");
    let client = reqwest::Client::new();

    // The SMTP server is down. A session of the demo class changes: its participants are told.
    let mut server = serve(&t.url, &addr, smtp_port);
    wait_ready(&client, &base).await;
    exec(
        &t.url,
        "UPDATE people SET email = 'dv' || CAST(id AS TEXT) || '@example.vn'",
    )
    .await;
    let target = open_session(&client, &base, "Trước khi đổi").await;
    let before = scalar(&t.url, "SELECT COUNT(*) FROM notifications").await;
    // The organizer cancels it in the class's emergency form (R2.6): everyone listed is told.
    let browser = common::browser();
    let login = common::page(&browser, &format!("{base}/login")).await;
    let csrf = csrf_of(&login);
    let r = browser
        .post(format!("{base}/login"))
        .form(&[
            ("username", "organizer"),
            ("password", fixtures::demo::DEMO_PASSWORD),
            ("csrf", &csrf),
            ("next", "/"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let class_page = common::page(&browser, &format!("{base}/classes/{}", target.class_id)).await;
    let csrf = csrf_of(&class_page);
    let r = browser
        .post(format!("{base}/classes/{}/changes", target.class_id))
        .form(&[
            ("csrf", csrf.as_str()),
            ("action", "cancel_session"),
            ("session_id", &target.session_id.to_string()),
            ("reason", "Mất điện toàn xã, buổi học dời sang tuần sau"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
    let queued = scalar(&t.url, "SELECT COUNT(*) FROM email_outbox").await;
    let notified = scalar(&t.url, "SELECT COUNT(*) FROM notifications").await;
    assert!(queued > 0, "nothing queued");
    assert_eq!(
        queued,
        notified - before,
        "every notified person has an address"
    );
    // Attempts fail while the server is away, then the application is killed.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let tried = scalar(
        &t.url,
        "SELECT COUNT(*) FROM email_outbox WHERE attempts > 0",
    )
    .await;
    assert!(tried > 0, "no attempt while the server was down");
    server.kill().unwrap();
    server.wait().unwrap();
    assert_eq!(
        scalar(
            &t.url,
            "SELECT COUNT(*) FROM email_outbox WHERE sent_at IS NULL"
        )
        .await,
        queued
    );

    // The SMTP server comes up, the application starts again: everything arrives, once.
    let Some(mut smtp) = smtp_server(smtp_port, &maildir) else {
        return;
    };
    let mut server = serve(&t.url, &addr, smtp_port);
    wait_ready(&client, &base).await;
    let began = Instant::now();
    loop {
        let left = scalar(
            &t.url,
            "SELECT COUNT(*) FROM email_outbox WHERE sent_at IS NULL",
        )
        .await;
        if left == 0 {
            break;
        }
        assert!(
            began.elapsed() < Duration::from_secs(120),
            "{left} of {queued} still unsent"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let (mails, files) = mailbox(&maildir);
    assert_eq!(files as i64, queued, "one message per notification");
    assert_eq!(mails.len(), files, "each Message-ID once");
    let (to, subject, body) = mails.values().next().unwrap();
    assert!(to.contains("@example.vn"), "{to}");
    assert!(subject.starts_with("[Quán triệt] "), "{subject}");
    assert!(body.starts_with("Kính gửi đồng chí "), "{body}");
    assert!(body.contains("Mất điện toàn xã"), "the reason: {body}");
    assert!(
        body.contains("https://quantriet.example.vn/me#class-"),
        "the link: {body}"
    );
    // Restarted once more: nothing is sent again.
    server.kill().unwrap();
    server.wait().unwrap();
    let mut server = serve(&t.url, &addr, smtp_port);
    wait_ready(&client, &base).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(mailbox(&maildir).1, files, "sent again after a restart");
    server.kill().unwrap();
    server.wait().unwrap();
    smtp.kill().unwrap();
    smtp.wait().unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}

async fn get_json(client: &reqwest::Client, url: &str, token: &str) -> serde_json::Value {
    client
        .get(url)
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// Waits until the maildir holds a message whose subject contains `needle`; returns it.
async fn mail_with(maildir: &std::path::Path, needle: &str) -> (String, String, String) {
    let began = Instant::now();
    loop {
        let (mails, _) = mailbox(maildir);
        if let Some(m) = mails.values().find(|(_, s, _)| s.contains(needle)) {
            return m.clone();
        }
        assert!(
            began.elapsed() < Duration::from_secs(60),
            "no mail with {needle:?}: {mails:?}"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

/// Issue 14.7: the notice of a new task and the reminder before its due date reach the cell's
/// secretary by e-mail through the one outbox, received by a real SMTP server, once each.
async fn task_mail(engine: Engine) {
    let Some(t) = fresh(engine).await else {
        return;
    };
    let dir = common::scratch("task-mail", engine);
    let maildir = dir.join("maildir");
    let smtp_port = free_addr()
        .rsplit(':')
        .next()
        .unwrap()
        .parse::<u16>()
        .unwrap();
    let Some(mut smtp) = smtp_server(smtp_port, &maildir) else {
        return;
    };
    let addr = free_addr();
    let base = format!("http://{addr}");
    let client = reqwest::Client::new();
    let mut server = serve(&t.url, &addr, smtp_port);
    wait_ready(&client, &base).await;
    exec(
        &t.url,
        "UPDATE people SET email = 'dv' || CAST(id AS TEXT) || '@example.vn'",
    )
    .await;
    let login: serde_json::Value = client
        .post(format!("{base}/api/v1/auth/login"))
        .json(&serde_json::json!({"username": "organizer", "password": fixtures::demo::DEMO_PASSWORD}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = login["token"].as_str().unwrap().to_string();
    let orgs = get_json(&client, &format!("{base}/api/v1/orgs"), &token).await;
    let list = orgs.get("items").unwrap_or(&orgs);
    let commune = list[0]["id"].as_i64().unwrap();
    let detail = get_json(&client, &format!("{base}/api/v1/orgs/{commune}"), &token).await;
    let cells: Vec<i64> = detail["children"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_i64().unwrap())
        .collect();
    let due = (store::plans::tasks::today() + chrono::Duration::days(2))
        .format("%d/%m/%Y")
        .to_string();
    let r = client
        .post(format!("{base}/api/v1/tasks"))
        .bearer_auth(&token)
        .json(
            &serde_json::json!({"from_org_id": commune, "title": "Nộp biên bản sinh hoạt chuyên đề",
                                  "due_on": due, "target_org_ids": cells}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 201, "{}", r.text().await.unwrap());
    let (to, subject, body) = mail_with(&maildir, "Việc mới: Nộp biên bản").await;
    assert!(to.contains("@example.vn"), "{to}");
    assert!(subject.starts_with("[Quán triệt] "), "{subject}");
    assert!(body.contains("Hạn hoàn thành"), "{body}");

    // The sweep of the day: the reminder before the due date goes out once.
    let db = store::Db::connect(&t.url).await.unwrap();
    let swept = store::plans::reminders::sweep(&db, store::plans::tasks::today())
        .await
        .unwrap();
    assert!(swept.tasks_due >= 1, "{swept:?}");
    let again = store::plans::reminders::sweep(&db, store::plans::tasks::today())
        .await
        .unwrap();
    assert_eq!(again, Default::default());
    db.close().await;
    let (_, subject, _) = mail_with(&maildir, "Sắp đến hạn: Nộp biên bản").await;
    assert!(subject.starts_with("[Quán triệt] "), "{subject}");
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (mails, _) = mailbox(&maildir);
    let reminders = mails
        .values()
        .filter(|(_, s, _)| s.contains("Sắp đến hạn: Nộp biên bản"))
        .count();
    assert_eq!(reminders, 1, "one reminder, once: {mails:?}");
    server.kill().unwrap();
    server.wait().unwrap();
    smtp.kill().unwrap();
    smtp.wait().unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}
