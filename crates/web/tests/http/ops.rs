//! Observability (issue 13.8): `/readyz`, `/metrics` (the machine itself only), and the request
//! id on error pages, equal to the `x-request-id` answered and never chosen by a client.

use serde_json::Value;

use crate::harness::{client, TestApp};

both_engines! {
    readiness_metrics_and_request_ids => readiness_metrics_and_request_ids_sqlite, readiness_metrics_and_request_ids_postgres;
}

async fn readiness_metrics_and_request_ids(app: TestApp) {
    let r = app.anon_get("/readyz").await;
    assert_eq!(r.status, 200, "{}", r.text);
    let body: Value = serde_json::from_str(&r.text).expect("json");
    assert_eq!(body["status"], "ready");

    // Some traffic: a page, an API refusal, a check-in group by the operator.
    assert_eq!(app.anon_get("/login").await.status, 200);
    assert_eq!(app.anon_get("/api/v1/orgs").await.status, 401);
    let m = app.anon_get("/metrics").await;
    assert_eq!(m.status, 200);
    assert!(
        m.headers["content-type"]
            .to_str()
            .expect("type")
            .starts_with("text/plain; version=0.0.4"),
        "{:?}",
        m.headers
    );
    for line in [
        "http_requests_total{route=\"/login\",method=\"GET\",status=\"200\"}",
        "http_requests_total{route=\"/api/v1/orgs\",method=\"GET\",status=\"401\"}",
        "http_request_duration_seconds_bucket{route=\"/login\",le=\"+Inf\"}",
        "# TYPE quantriet_checkin_group_size histogram",
        "quantriet_db_connections{state=\"idle\"}",
        "quantriet_build_info{version=",
    ] {
        assert!(m.text.contains(line), "{line} missing from:\n{}", m.text);
    }
    // Raw paths (with ids) never become series.
    assert!(!m.text.contains("route=\"/api/v1/orgs/"), "{}", m.text);

    // An error page quotes the request id the answer carries; a client's own id is replaced.
    let r = client()
        .get(app.url("/khong-co-trang-nay"))
        .header("x-request-id", "forged-id-from-a-client")
        .send()
        .await
        .expect("get");
    assert_eq!(r.status(), 404);
    let id = r.headers()["x-request-id"]
        .to_str()
        .expect("id")
        .to_string();
    assert_ne!(id, "forged-id-from-a-client");
    assert_eq!(id.len(), 36, "a UUID: {id}");
    let html = r.text().await.expect("body");
    assert!(html.contains(&format!("<code>{id}</code>")), "{html}");

    // Behind a trusted proxy, a client from elsewhere does not read the metrics.
    let proxied = crate::harness::spawn_behind_proxy(app.engine, 0).await;
    let outside = client()
        .get(proxied.url("/metrics"))
        .header("X-Forwarded-For", "203.0.113.5")
        .send()
        .await
        .expect("get");
    assert_eq!(outside.status(), 404);
    let inside = client()
        .get(proxied.url("/metrics"))
        .send()
        .await
        .expect("get");
    assert_eq!(inside.status(), 200);
    // A trusted proxy's request id is kept (nginx's $request_id).
    let r = client()
        .get(proxied.url("/khong-co-trang-nay"))
        .header("x-request-id", "nginx-0123456789abcdef")
        .send()
        .await
        .expect("get");
    assert_eq!(r.headers()["x-request-id"], "nginx-0123456789abcdef");
}
