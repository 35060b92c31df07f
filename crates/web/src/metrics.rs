//! Observability (issue 13.8): `/metrics` in the Prometheus text format, `/readyz`, and the
//! request id carried into the logs and onto error pages.
//!
//! `/metrics` answers only the machine itself and the networks named in `--metrics-from` (after
//! the trusted-proxy resolution: a client behind nginx is not the machine); anyone else gets 404.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::time::Instant;

use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use store::stats::Histogram;

use crate::app::AppState;

/// Request latency buckets, in seconds.
const LATENCY_BOUNDS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// Requests by route template, method and status; latency by route.
#[derive(Debug, Default)]
pub struct Metrics {
    requests: Mutex<HashMap<(String, String, u16), u64>>,
    latency: Mutex<HashMap<String, std::sync::Arc<Histogram>>>,
}

impl Metrics {
    fn record(&self, route: &str, method: &str, status: u16, seconds: f64) {
        if let Ok(mut m) = self.requests.lock() {
            *m.entry((route.to_string(), method.to_string(), status))
                .or_insert(0) += 1;
        }
        let h = match self.latency.lock() {
            Ok(mut m) => m
                .entry(route.to_string())
                .or_insert_with(|| std::sync::Arc::new(Histogram::new(LATENCY_BOUNDS)))
                .clone(),
            Err(_) => return,
        };
        h.observe(seconds);
    }
}

/// A label value in the text format: backslash, quote and line feed escaped.
fn label(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// Middleware: counts every request by its route template (never the raw path: ids would make
/// the series unbounded) and times it.
pub async fn track(State(st): State<AppState>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |p| p.as_str().to_string());
    let method = req.method().as_str().to_string();
    let resp = next.run(req).await;
    st.metrics.record(
        &route,
        &method,
        resp.status().as_u16(),
        started.elapsed().as_secs_f64(),
    );
    resp
}

/// `GET /metrics`.
pub async fn metrics(State(st): State<AppState>, req: Request) -> Response {
    let allowed = req
        .extensions()
        .get::<ConnectInfo<std::net::SocketAddr>>()
        .is_some_and(|c| {
            // A mapped IPv6 peer (`::ffff:127.0.0.1`) is the IPv4 one.
            let ip = crate::proxy::canonical(c.0.ip());
            ip.is_loopback() || st.config.metrics_from.contains(ip)
        });
    if !allowed {
        return crate::error::AppError::NotFound.into_response();
    }
    let mut out = String::with_capacity(16 * 1024);
    out.push_str(
        "# HELP quantriet_build_info The running version.\n# TYPE quantriet_build_info gauge\n",
    );
    let _ = writeln!(
        out,
        "quantriet_build_info{{version=\"{}\",engine=\"{}\"}} 1",
        env!("CARGO_PKG_VERSION"),
        st.db.engine()
    );
    out.push_str("# HELP http_requests_total Requests answered, by route template, method and status.\n# TYPE http_requests_total counter\n");
    if let Ok(m) = st.metrics.requests.lock() {
        let mut rows: Vec<_> = m.iter().collect();
        rows.sort();
        for ((route, method, status), n) in rows {
            let _ = writeln!(
                out,
                "http_requests_total{{route=\"{}\",method=\"{}\",status=\"{status}\"}} {n}",
                label(route),
                label(method)
            );
        }
    }
    out.push_str("# HELP http_request_duration_seconds Time to answer, by route template.\n# TYPE http_request_duration_seconds histogram\n");
    let hists: Vec<(String, std::sync::Arc<Histogram>)> = st
        .metrics
        .latency
        .lock()
        .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default();
    let mut hists = hists;
    hists.sort_by(|a, b| a.0.cmp(&b.0));
    for (route, h) in hists {
        h.write(
            &mut out,
            "http_request_duration_seconds",
            &format!("route=\"{}\"", label(&route)),
        );
    }
    out.push_str("# HELP quantriet_checkin_group_size Check-ins written per group commit.\n# TYPE quantriet_checkin_group_size histogram\n");
    st.checkins
        .group_sizes
        .write(&mut out, "quantriet_checkin_group_size", "");
    if let Ok(n) = store::outbox::depth(&st.db).await {
        out.push_str("# HELP quantriet_outbox_depth E-mails waiting to be sent.\n# TYPE quantriet_outbox_depth gauge\n");
        let _ = writeln!(out, "quantriet_outbox_depth {n}");
    }
    let (open, idle) = st.db.pool_connections();
    out.push_str("# HELP quantriet_db_connections Database pool connections, by state.\n# TYPE quantriet_db_connections gauge\n");
    let _ = writeln!(
        out,
        "quantriet_db_connections{{state=\"idle\"}} {idle}\nquantriet_db_connections{{state=\"busy\"}} {}",
        (open as usize).saturating_sub(idle)
    );
    if let Some(r) = &st.config.replica {
        out.push_str("# HELP quantriet_replica_in_use 1 while lists and reports read from the replica (close behind the primary), 0 while they fall back to the primary.\n# TYPE quantriet_replica_in_use gauge\n");
        let _ = writeln!(
            out,
            "quantriet_replica_in_use {}",
            u8::from(r.is_close_behind())
        );
    }
    let mut resp = out.into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    resp
}

/// `GET /readyz`: 200 when the database answers within 2 s and has this program's schema (the
/// load balancer sends requests only then); 503 with the reason otherwise.
pub async fn readyz(State(st): State<AppState>) -> Response {
    let check = tokio::time::timeout(std::time::Duration::from_secs(2), st.db.schema_version());
    let (status, body) = match check.await {
        Ok(Ok(v)) if v >= st.schema_version => (
            StatusCode::OK,
            serde_json::json!({"status": "ready", "schema": v}),
        ),
        Ok(Ok(v)) => (
            StatusCode::SERVICE_UNAVAILABLE,
            serde_json::json!({"status": "not_ready", "reason": "schema_behind", "schema": v}),
        ),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "readiness: database error");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                serde_json::json!({"status": "not_ready", "reason": "database"}),
            )
        }
        Err(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            serde_json::json!({"status": "not_ready", "reason": "database_timeout"}),
        ),
    };
    (status, axum::Json(body)).into_response()
}

tokio::task_local! {
    /// The id of the request being answered (`x-request-id`), for logs and error pages.
    static REQUEST_ID: String;
}

/// The id of the request being answered, when there is one.
pub fn request_id() -> Option<String> {
    REQUEST_ID.try_with(Clone::clone).ok()
}

/// Middleware (inside the layer that sets `x-request-id`): makes the id available to the error
/// pages of this request.
pub async fn with_request_id(req: Request, next: Next) -> Response {
    let id = req
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map(|s| s.chars().take(64).collect::<String>())
        .unwrap_or_default();
    REQUEST_ID.scope(id, next.run(req)).await
}
