//! Two instances on one PostgreSQL database (issue 13.6): a logout made through one is refused by
//! the other within a second — by the commit's notification (LISTEN/NOTIFY), not by waiting for
//! the session cache's time to live (2 s). SQLite runs one instance on its file: nothing to share.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::{Duration, Instant};

use common::{free_addr, start, wait_ready};
use fixtures::testing::{fresh, Engine};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_logout_on_one_instance_is_honoured_by_the_other_postgres() {
    let Some(t) = fresh(Engine::Postgres).await else {
        return;
    };
    let (a, b) = (free_addr(), free_addr());
    let client = reqwest::Client::new();
    let mut first = start(&t.url, &a);
    wait_ready(&client, &format!("http://{a}")).await;
    let mut second = start(&t.url, &b);
    wait_ready(&client, &format!("http://{b}")).await;

    let token = common::api_token(&client, &format!("http://{a}"), "organizer").await;
    let me = |base: String| {
        let (client, token) = (client.clone(), token.clone());
        async move {
            client
                .get(format!("{base}/api/v1/me"))
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    // The second instance has the session in its cache now.
    assert_eq!(me(format!("http://{b}")).await, 200);
    assert_eq!(me(format!("http://{b}")).await, 200);
    let r = client
        .post(format!("http://{a}/api/v1/auth/logout"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.status());
    let began = Instant::now();
    loop {
        if me(format!("http://{b}")).await == 401 {
            break;
        }
        assert!(
            began.elapsed() < Duration::from_millis(1000),
            "the other instance still accepts the ended session"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    first.kill().unwrap();
    first.wait().unwrap();
    second.kill().unwrap();
    second.wait().unwrap();
}

/// The API's request limit holds for both instances together (issue 13.6): what one instance let
/// through counts on the other after its next flush (about half a second).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_request_limit_holds_across_instances_postgres() {
    let Some(t) = fresh(Engine::Postgres).await else {
        return;
    };
    let (a, b) = (free_addr(), free_addr());
    let client = reqwest::Client::new();
    let limit = [("QUANTRIET_API_RATE_PER_MINUTE", "20".to_string())];
    let mut first = common::start_with(&t.url, &a, &limit);
    wait_ready(&client, &format!("http://{a}")).await;
    let mut second = common::start_with(&t.url, &b, &limit);
    wait_ready(&client, &format!("http://{b}")).await;
    // Both halves within one minute: the windows are the clock's minutes.
    loop {
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        if secs % 60 < 45 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let status = |base: String| {
        let client = client.clone();
        async move {
            client
                .get(format!("{base}/api/v1/me"))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    for i in 0..15 {
        assert_eq!(
            status(format!("http://{a}")).await,
            401,
            "request {i} on the first"
        );
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let mut let_through = 0;
    for _ in 0..10 {
        match status(format!("http://{b}")).await {
            401 => let_through += 1,
            429 => {}
            other => panic!("unexpected status {other}"),
        }
    }
    assert_eq!(
        let_through, 5,
        "the second instance lets through only what the first left of the 20"
    );
    // And the first learns of the second's requests in turn.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(status(format!("http://{a}")).await, 429);
    first.kill().unwrap();
    first.wait().unwrap();
    second.kill().unwrap();
    second.wait().unwrap();
}
