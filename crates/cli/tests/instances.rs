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
