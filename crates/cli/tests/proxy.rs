//! Behind a real nginx (issue 13.6, 13.9): the deploy files of `docs/deploy/` — the location
//! block nginx includes and the TOML settings — in front of the real binary. nginx reaches the
//! application from 127.0.0.2, the one trusted proxy; clients come from 127.0.0.1 and 127.0.0.3.
//! Each client has its own rate limit, a client's own `X-Forwarded-For` is not believed, nginx's
//! request id is the one the application answers with, and `/metrics` is closed at the proxy.
//! Both engines.
#![allow(clippy::unwrap_used)]

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use fixtures::testing::{fresh, missing, Engine, Service};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_nginx_each_client_is_itself_sqlite() {
    run(Engine::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_nginx_each_client_is_itself_postgres() {
    run(Engine::Postgres).await;
}

const DEPLOY: &str = common::DEPLOY;

fn client_from(ip: [u8; 4]) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(Some(std::net::IpAddr::from(ip)))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

async fn run(engine: Engine) {
    let Some(bin) = common::nginx_binary() else {
        missing(
            Service::Nginx,
            "nginx not installed (`apt-get install nginx-light`)",
        );
        return;
    };
    let Some(t) = fresh(engine).await else {
        return;
    };
    let dir = common::scratch("proxy", engine);
    let app = common::free_addr();
    let port: u16 = common::free_addr()
        .rsplit(':')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    // The deploy TOML, with this test's database, address and proxy.
    let mut server = Command::new(env!("CARGO_BIN_EXE_quantriet"))
        .arg("serve")
        .env("QUANTRIET_CONFIG", format!("{DEPLOY}/quantriet.toml"))
        .env("QUANTRIET_DATABASE_URL", &t.url)
        .env("QUANTRIET_LISTEN", &app)
        .env("QUANTRIET_TRUSTED_PROXIES", "127.0.0.2")
        .env("QUANTRIET_DEMO", "true")
        .env("QUANTRIET_API_RATE_PER_MINUTE", "20")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let direct = reqwest::Client::new();
    common::wait_ready(&direct, &format!("http://{app}")).await;
    let mut nginx = common::start_nginx(bin, &dir, port, &[&app]);
    let base = format!("http://127.0.0.1:{port}");
    let one = client_from([127, 0, 0, 1]);
    let other = client_from([127, 0, 0, 3]);
    let begin = Instant::now();
    loop {
        if one
            .get(format!("{base}/healthz"))
            .send()
            .await
            .is_ok_and(|r| r.status() == 200)
        {
            break;
        }
        assert!(
            begin.elapsed() < Duration::from_secs(20),
            "nginx did not come up"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // The metrics: closed at the proxy, open on the machine itself.
    let r = one.get(format!("{base}/metrics")).send().await.unwrap();
    assert_eq!(r.status(), 404);
    let r = direct
        .get(format!("http://{app}/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    // nginx's request id is the application's.
    let r = one.get(format!("{base}/khong-co")).send().await.unwrap();
    assert_eq!(r.status(), 404);
    let id = r.headers()["x-request-id"].to_str().unwrap().to_string();
    assert_eq!(id.len(), 32, "nginx's $request_id: {id}");
    assert!(r.text().await.unwrap().contains(&id));

    // One client over its limit (20 a minute); its forged address does not help it, and the other
    // client is not limited: the limit is per client, not per proxy.
    let mut statuses = Vec::new();
    for _ in 0..25 {
        let r = one
            .get(format!("{base}/api/v1/orgs"))
            .header("X-Forwarded-For", "198.51.100.9")
            .send()
            .await
            .unwrap();
        statuses.push(r.status().as_u16());
    }
    assert!(statuses.contains(&429), "{statuses:?}");
    assert_eq!(statuses[0], 401, "{statuses:?}");
    let r = other
        .get(format!("{base}/api/v1/orgs"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401, "another client behind the same proxy");

    nginx.kill().unwrap();
    nginx.wait().unwrap();
    server.kill().unwrap();
    server.wait().unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}
