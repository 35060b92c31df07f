//! The scale-out topology of issue 13.6, started here on this machine: a PostgreSQL primary and a
//! streaming replica made from it with `pg_basebackup`, two quantriet instances on them, and a
//! real nginx in front of both (the deploy location block, round robin).
//!
//! Through nginx: lists and reports are read from the replica while it is close behind, and from
//! the primary while it is paused, behind or down, so that what was just written shows at once; a
//! browser that has just written reads from the primary; check-ins sent through both instances
//! (two writers) are all stored, each once; and everything keeps working when the replica is gone.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use fixtures::testing::{missing, Engine, Service};
use serde_json::{json, Value};

/// A PostgreSQL server program of the newest version installed (`initdb`, `pg_ctl`, …).
fn pg_program(name: &str) -> Option<PathBuf> {
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path().join("bin").join(name)))
        .filter(|p| p.exists())
        .collect();
    versions.sort();
    versions.pop()
}

/// Runs a server program as the `postgres` user (PostgreSQL refuses to run as root).
fn as_postgres(program: &Path) -> Command {
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0\n"));
    if root {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(program);
        c
    } else {
        Command::new(program)
    }
}

fn run_ok(mut cmd: Command, what: &str) {
    let out = cmd.stdin(Stdio::null()).output().unwrap();
    assert!(
        out.status.success(),
        "{what}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn free_port() -> u16 {
    common::free_addr()
        .rsplit(':')
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

/// A PostgreSQL server of this test: its directory and port; stopped when dropped.
struct Server {
    pg_ctl: PathBuf,
    data: PathBuf,
    port: u16,
}

impl Server {
    fn start(pg_ctl: &Path, data: &Path, sockets: &Path, port: u16) -> Self {
        let mut c = as_postgres(pg_ctl);
        c.arg("-D")
            .arg(data)
            .arg("-l")
            .arg(data.with_extension("log"))
            .arg("-w")
            .arg("-o")
            .arg(format!(
                "-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=100",
                sockets.display()
            ))
            .arg("start");
        run_ok(c, "pg_ctl start");
        Self {
            pg_ctl: pg_ctl.to_path_buf(),
            data: data.to_path_buf(),
            port,
        }
    }

    fn url(&self, db: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{db}", self.port)
    }

    fn stop(&self) {
        let mut c = as_postgres(&self.pg_ctl);
        c.arg("-D")
            .arg(&self.data)
            .args(["-m", "immediate", "-w", "stop"]);
        let _ = c.stdin(Stdio::null()).output();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Kills the children it holds when dropped (a failed assertion leaves nothing running).
struct Children(Vec<Child>);

impl Drop for Children {
    fn drop(&mut self) {
        for c in &mut self.0 {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Transactions the replica has run on the application's database so far.
async fn replica_transactions(url: &str) -> i64 {
    // The statistics of a standby are flushed about once a second.
    tokio::time::sleep(Duration::from_millis(1200)).await;
    common::scalar(
        url,
        "SELECT (xact_commit + xact_rollback)::bigint FROM pg_stat_database WHERE datname = 'quantriet'",
    )
    .await
}

/// `quantriet_replica_in_use` of the instance at `app`.
async fn replica_in_use(client: &reqwest::Client, app: &str) -> Option<bool> {
    let text = client
        .get(format!("http://{app}/metrics"))
        .send()
        .await
        .ok()?
        .text()
        .await
        .ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix("quantriet_replica_in_use "))
        .map(|v| v.trim() == "1")
}

/// Waits until both instances say the replica is (or is not) in use.
async fn wait_replica_use(client: &reqwest::Client, apps: &[&str], want: bool, within: Duration) {
    let begin = Instant::now();
    loop {
        let mut all = true;
        for app in apps {
            all &= replica_in_use(client, app).await == Some(want);
        }
        if all {
            return;
        }
        assert!(
            begin.elapsed() < within,
            "the instances did not see the replica as {} within {within:?}",
            if want { "in use" } else { "out of use" }
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_a_replica_and_nginx_postgres() {
    if std::env::var("QUANTRIET_SKIP_PG").is_ok_and(|v| v == "1") {
        missing(Service::Postgres, "skipped as asked");
        return;
    }
    let (Some(initdb), Some(pg_ctl), Some(basebackup)) = (
        pg_program("initdb"),
        pg_program("pg_ctl"),
        pg_program("pg_basebackup"),
    ) else {
        missing(
            Service::Postgres,
            "PostgreSQL's server programs (initdb, pg_ctl, pg_basebackup) are not installed",
        );
        return;
    };
    let Some(nginx) = common::nginx_binary() else {
        missing(
            Service::Nginx,
            "nginx not installed (`apt-get install nginx-light`)",
        );
        return;
    };

    // The primary and its replica, in a directory of this test owned by postgres.
    let dir = common::scratch("topology", Engine::Postgres);
    let pg = dir.join("pg");
    std::fs::create_dir_all(&pg).unwrap();
    let mut chown = Command::new("chown");
    chown.arg("-R").arg("postgres:postgres").arg(&pg);
    let _ = chown.output();
    let mut c = as_postgres(&initdb);
    c.arg("-D").arg(pg.join("primary")).args([
        "-U",
        "postgres",
        "--auth=trust",
        "-E",
        "UTF8",
        "-N",
    ]);
    run_ok(c, "initdb");
    let primary = Server::start(&pg_ctl, &pg.join("primary"), &pg, free_port());
    let mut c = as_postgres(&basebackup);
    c.args(["-h", "127.0.0.1", "-p", &primary.port.to_string()])
        .args(["-U", "postgres", "-X", "stream", "-R", "-c", "fast", "-D"])
        .arg(pg.join("replica"));
    run_ok(c, "pg_basebackup");
    let replica = Server::start(&pg_ctl, &pg.join("replica"), &pg, free_port());
    common::exec(&primary.url("postgres"), "CREATE DATABASE quantriet").await;
    let (url, read_url) = (primary.url("quantriet"), replica.url("quantriet"));
    // The database and the application's schema reach the replica.
    let begin = Instant::now();
    while store::Db::connect(&read_url).await.is_err() {
        assert!(begin.elapsed() < Duration::from_secs(20), "no replica");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // Two instances (the first loads the demo), both behind nginx.
    let (a, b) = (common::free_addr(), common::free_addr());
    let env = |extra: &[(&'static str, String)]| {
        let mut v = vec![
            ("QUANTRIET_READ_DATABASE_URL", read_url.clone()),
            ("QUANTRIET_TRUSTED_PROXIES", "127.0.0.2".to_string()),
        ];
        v.extend_from_slice(extra);
        v
    };
    let direct = reqwest::Client::new();
    let mut children = Children(Vec::new());
    children.0.push(common::start_with(&url, &a, &env(&[])));
    common::wait_ready(&direct, &format!("http://{a}")).await;
    children.0.push(common::start_with(&url, &b, &env(&[])));
    common::wait_ready(&direct, &format!("http://{b}")).await;
    let port = free_port();
    children
        .0
        .push(common::start_nginx(nginx, &dir, port, &[&a, &b]));
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    common::wait_ready(&client, &base).await;
    wait_replica_use(&direct, &[&a, &b], true, Duration::from_secs(10)).await;

    let token = common::api_token(&client, &base, "organizer").await;
    let page = |path: &str, wrote: bool| {
        let mut r = client.get(format!("{base}{path}")).bearer_auth(&token);
        if wrote {
            r = r.header("cookie", "qt_wrote=1");
        }
        async move {
            let r = r.send().await.unwrap();
            let status = r.status().as_u16();
            (status, r.text().await.unwrap())
        }
    };

    // Lists and reports come from the replica; the same pages of a browser that has just written
    // come from the primary.
    let lists = ["/people", "/campaigns", "/resolutions", "/retakes", "/"];
    let before = replica_transactions(&read_url).await;
    for i in 0..100 {
        let (status, _) = page(lists[i % lists.len()], false).await;
        assert_eq!(status, 200);
    }
    let served = replica_transactions(&read_url).await - before;
    assert!(
        served >= 100,
        "100 list pages ran {served} transactions on the replica"
    );
    let before = replica_transactions(&read_url).await;
    for i in 0..100 {
        let (status, _) = page(lists[i % lists.len()], true).await;
        assert_eq!(status, 200);
    }
    let noise = replica_transactions(&read_url).await - before;
    assert!(
        noise < 50,
        "after a write, 100 pages still ran {noise} transactions on the replica"
    );

    // A write through either instance marks the browser for a moment.
    let r = client
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"username": "member", "password": fixtures::demo::DEMO_PASSWORD}))
        .send()
        .await
        .unwrap();
    let marks = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .any(|c| c.to_str().unwrap_or("").starts_with("qt_wrote=1;"));
    assert!(marks, "a POST sets the qt_wrote cookie");

    // The replica paused: the instances notice the lag as soon as the primary writes, and what
    // was written shows on the list at once, through both instances.
    common::exec(&read_url, "SELECT pg_wal_replay_pause()").await;
    let title = "Chiến dịch thử khi bản sao dừng";
    let existing = common::get_json(&client, &format!("{base}/api/v1/campaigns"), &token).await;
    let c = &existing[0];
    let resolutions =
        common::get_json(&client, &format!("{base}/api/v1/resolutions"), &token).await;
    let first = if resolutions.is_array() {
        &resolutions[0]
    } else {
        &resolutions["items"][0]
    };
    let r = client
        .post(format!("{base}/api/v1/campaigns"))
        .bearer_auth(&token)
        .json(&json!({"name": title, "org_id": c["org_id"], "leader_person_id": c["leader_person_id"],
                      "starts_on": c["starts_on"], "ends_on": c["ends_on"], "resolution_ids": [first["id"]]}))
        .send()
        .await
        .unwrap();
    let created = r.status().as_u16();
    let body = r.text().await.unwrap();
    assert!(created == 201 || created == 200, "{created} {body}");
    wait_replica_use(&direct, &[&a, &b], false, Duration::from_secs(2)).await;
    for _ in 0..4 {
        let (status, html) = page("/campaigns", false).await;
        assert_eq!(status, 200);
        assert!(html.contains(title), "the new campaign is on the list");
    }
    common::exec(&read_url, "SELECT pg_wal_replay_resume()").await;
    wait_replica_use(&direct, &[&a, &b], true, Duration::from_secs(5)).await;
    let (_, html) = page("/campaigns", false).await;
    assert!(html.contains(title), "the replica caught up");

    // Two writers of check-ins: clients through nginx reach both instances; every answered
    // check-in is stored, each once, and a batch sent again to the other instance adds nothing.
    let target = common::open_session(&client, &base, "Hai máy chủ cùng ghi").await;
    let stop = Arc::new(AtomicBool::new(false));
    let (answered, tasks) = common::checkin_load(&client, &base, &target, 16, "two", stop.clone());
    tokio::time::sleep(Duration::from_secs(3)).await;
    stop.store(true, Ordering::Relaxed);
    for t in tasks {
        t.await.unwrap();
    }
    let answered = common::answered_ids(&answered);
    assert!(answered.len() > 50, "{} answered", answered.len());
    let stored = common::stored_checkins(&url, target.session_id).await;
    assert_eq!(
        stored.len(),
        answered.len(),
        "every answered check-in stored once, nothing else"
    );
    assert!(answered.is_subset(&stored));
    let again = answered.iter().next().unwrap().clone();
    for app in [&a, &b] {
        let r: Value = direct
            .post(format!("http://{app}/api/v1/checkins"))
            .header("authorization", &target.auth)
            .json(
                &json!({"checkins": [{"id": again, "session_id": target.session_id,
                "participant_id": target.participants[0], "direction": "in"}]}),
            )
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(
            r["stored"], 0,
            "a repeated check-in is not stored again: {r}"
        );
        assert_eq!(r["duplicates"], 1, "{r}");
    }
    assert_eq!(
        common::stored_checkins(&url, target.session_id).await.len(),
        answered.len()
    );

    // The replica gone: once the instances see it, every page is served by the primary.
    replica.stop();
    wait_replica_use(&direct, &[&a, &b], false, Duration::from_secs(3)).await;
    for path in lists {
        let (status, _) = page(path, false).await;
        assert_eq!(status, 200, "{path} without the replica");
    }

    drop(children);
    drop(replica);
    drop(primary);
    let _ = std::fs::remove_dir_all(&dir);
}
