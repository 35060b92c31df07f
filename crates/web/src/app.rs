//! The application: state, router, middleware, and the one startup path shared by `main` and
//! the integration tests (`App::build`).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use store::Db;
use tower_http::compression::CompressionLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::error::ErrorBody;

/// Settings of the web layer.
#[derive(Debug, Clone)]
pub struct WebConfig {
    /// Always mark cookies Secure (set when served over HTTPS without a proxy header).
    pub secure_cookies: bool,
    /// R6.1: days after release by which a resolution must be published in the media.
    pub publication_deadline_days: u32,
    /// API requests per minute per address; 0 turns the limit off.
    pub api_rate_per_minute: u32,
    /// Minutes a session may sit unused before it ends (issue 10.10).
    pub idle_minutes: u32,
    /// The same for admins and accounts cleared for classified resolutions.
    pub idle_minutes_privileged: u32,
    /// Accounts that still have the demo's published password (issue 13.1): every page says so.
    pub demo_accounts: Vec<String>,
    /// Proxies whose `X-Forwarded-For` / `X-Forwarded-Proto` are believed (issue 13.6).
    pub trusted_proxies: crate::proxy::TrustedProxies,
    /// Networks besides the machine itself that may read `/metrics` (issue 13.8).
    pub metrics_from: crate::proxy::TrustedProxies,
    /// SMTP for the e-mail of notifications; none: the outbox waits (issue 13.3).
    pub mail: Option<crate::mail::MailConfig>,
    /// A streaming replica for the reads that tolerate a little lag (issue 13.6): lists,
    /// reports, exports. None: every read goes to the primary.
    pub replica: Option<store::replica::Replica>,
    /// How often reminders of due dates are swept (issue 14.5, 14.7); none: never (tests sweep
    /// by hand). The binary sweeps every 15 minutes.
    pub reminder_every: Option<Duration>,
}

impl WebConfig {
    /// The idle timeouts as the store takes them.
    pub fn idle_timeouts(&self) -> store::auth::IdleTimeouts {
        store::auth::IdleTimeouts {
            ordinary: chrono::Duration::minutes(i64::from(self.idle_minutes.max(1))),
            privileged: chrono::Duration::minutes(i64::from(self.idle_minutes_privileged.max(1))),
        }
    }
}

impl Default for WebConfig {
    fn default() -> Self {
        // No API limit by default (tests and benchmarks); the binary sets one from its configuration.
        Self {
            secure_cookies: false,
            publication_deadline_days: 2,
            api_rate_per_minute: 0,
            idle_minutes: 120,
            idle_minutes_privileged: 30,
            demo_accounts: Vec::new(),
            trusted_proxies: Default::default(),
            metrics_from: Default::default(),
            mail: None,
            replica: None,
            reminder_every: None,
        }
    }
}

/// Sweeps the reminders of due dates every `every`, from `every` after the start, forever; a failed sweep is logged and
/// retried at the next turn (what it did not send is still owed then).
async fn sweep_reminders(db: Db, every: Duration) {
    // The first sweep one period after the start: a restart does not race the requests (and the
    // tests) of its first minutes; reminders are a matter of days.
    let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        match store::plans::reminders::sweep(&db, store::plans::tasks::today()).await {
            Ok(s) if s != Default::default() => tracing::info!(?s, "reminders sent"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "reminders: sweep failed"),
        }
    }
}

/// How long a request may take before it is answered 408; the serving database bounds its
/// statements by the same time (`Db::connect_bounded`).
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Shared by every handler.
#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub config: Arc<WebConfig>,
    pub limiter: Arc<crate::limit::RateLimiter>,
    /// Registrations of the public for contests, per address (this instance).
    pub registrations: Arc<crate::limit::RateLimiter>,
    /// The one writer of check-ins (group commit, R3.4).
    pub checkins: store::study::checkin::CheckinWriter,
    /// Signs the check-in QR codes.
    pub qr: store::study::checkin::QrKey,
    /// Requests and latencies for `/metrics`.
    pub metrics: Arc<crate::metrics::Metrics>,
    /// The schema this program migrates to (`/readyz`).
    pub schema_version: i64,
}

/// A bound, not yet serving application.
pub struct App {
    listener: tokio::net::TcpListener,
    router: Router,
}

impl App {
    /// Binds `listen` (port 0 picks a free one) and builds the router over `db`.
    pub async fn build(db: Db, listen: &str, config: WebConfig) -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind(listen).await?;
        store::auth::follow_other_instances(&db);
        if let Some(m) = &config.mail {
            let mailer = crate::mail::Mailer::new(m).map_err(std::io::Error::other)?;
            tokio::spawn(mailer.run(db.clone()));
        }
        if let Some(r) = &config.replica {
            tokio::spawn(r.clone().watch(db.clone()));
        }
        if let Some(every) = config.reminder_every {
            tokio::spawn(sweep_reminders(db.clone(), every));
        }
        let limiter: Arc<crate::limit::RateLimiter> = Default::default();
        if config.api_rate_per_minute > 0 {
            tokio::spawn(
                limiter
                    .clone()
                    .share(db.clone(), config.api_rate_per_minute),
            );
        }
        let qr = store::study::checkin::QrKey::load(&db)
            .await
            .map_err(std::io::Error::other)?;
        let state = AppState {
            schema_version: store::backup::known_version_of(&db),
            checkins: store::study::checkin::CheckinWriter::spawn(db.clone()),
            qr,
            db,
            config: Arc::new(config),
            limiter,
            registrations: Default::default(),
            metrics: Default::default(),
        };
        Ok(Self {
            listener,
            router: router(state),
        })
    }

    /// The address actually bound.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until `shutdown` resolves.
    pub async fn serve(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        // The peer address is kept for lockouts, rate limits and the audit log.
        let service = self
            .router
            .into_make_service_with_connect_info::<SocketAddr>();
        axum::serve(self.listener, service)
            .with_graceful_shutdown(shutdown)
            .await
    }
}

/// The whole router: pages, API, static files, health.
pub fn router(state: AppState) -> Router {
    let api = crate::api::routes()
        .fallback(|| async { crate::error::AppError::NotFound })
        .layer(middleware::from_fn_with_state(
            state.clone(),
            crate::limit::api_limit,
        ))
        .layer(middleware::from_fn(json_errors));
    let csp = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; \
               frame-ancestors 'none'; base-uri 'none'; object-src 'none'";
    // Every request body is capped at 4 MB, except file imports (60 MB, on their own route).
    let limited = Router::new()
        .merge(crate::pages::routes())
        .merge(crate::auth_pages::routes())
        .merge(crate::org::routes())
        .merge(crate::resolutions::routes())
        .merge(crate::study::routes())
        .merge(crate::plans::routes())
        .merge(crate::conduct::routes())
        .merge(crate::oversight::routes())
        .merge(crate::assess::routes())
        .merge(crate::notify::routes())
        .merge(crate::admin::routes())
        .nest("/api/v1", api)
        .route("/api/openapi.json", get(crate::api::openapi_json))
        .route("/healthz", get(healthz))
        .route("/readyz", get(crate::metrics::readyz))
        .route("/metrics", get(crate::metrics::metrics))
        .route("/static/{file}", get(crate::assets::serve))
        .layer(middleware::from_fn(crate::input::refuse_control_characters))
        .layer(RequestBodyLimitLayer::new(4 * 1024 * 1024));
    let api_imports = crate::api::import::routes()
        .layer(middleware::from_fn_with_state(
            state.clone(),
            crate::limit::api_limit,
        ))
        .layer(middleware::from_fn(json_errors));
    let state_for_proxy = state.clone();
    Router::new()
        .merge(limited)
        .merge(crate::import::routes())
        .merge(api_imports)
        .fallback(|| async { crate::error::AppError::NotFound })
        // Per route (Router::layer wraps each route, so the route template is known).
        .layer(middleware::from_fn_with_state(
            state.clone(),
            crate::metrics::track,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            crate::reads::mark_writes,
        ))
        .with_state(state)
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(csp),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        // Pages, exports and API answers hold personal data: never kept by a browser or a shared
        // cache (issue 10.9). Static files and the service worker set their own.
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ))
        .layer(CompressionLayer::new())
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            REQUEST_TIMEOUT,
        ))
        // Outside the timeout, so that a 408 (and any error made outside a handler: an unknown
        // path, a wrong method, a body over the limit) carries the documented JSON body on the
        // API (issue 10.13).
        .layer(middleware::from_fn(api_error_bodies))
        .layer(middleware::from_fn(crate::metrics::with_request_id))
        .layer(PropagateRequestIdLayer::x_request_id())
        // Every log line of a request carries its id (the one on its error page).
        .layer(TraceLayer::new_for_http().make_span_with(|req: &Request| {
            let id = req
                .headers()
                .get("x-request-id")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            tracing::info_span!("request", method = %req.method(), path = %req.uri().path(), request_id = %id)
        }))
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        // Outermost: every layer and handler inside sees the client's address, not the proxy's.
        .layer(middleware::from_fn_with_state(
            state_for_proxy,
            crate::proxy::resolve,
        ))
}

/// On the API, an error response carries its `ErrorBody`: send that as JSON instead of the page.
async fn json_errors(req: Request, next: Next) -> Response {
    as_json(next.run(req).await)
}

/// On `/api/`, every error answer is the documented `{"error", "message"}` JSON body.
async fn api_error_bodies(req: Request, next: Next) -> Response {
    let api = req.uri().path().starts_with("/api/");
    let resp = next.run(req).await;
    if !api || resp.status().as_u16() < 400 {
        return resp;
    }
    if resp.extensions().get::<ErrorBody>().is_some() {
        return as_json(resp);
    }
    let json = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if json {
        return resp;
    }
    let status = resp.status();
    let (code, message) = match status.as_u16() {
        404 => (
            "not_found",
            "Không tìm thấy trang hoặc dữ liệu này, hoặc bạn không có quyền xem.",
        ),
        405 => (
            "method_not_allowed",
            "Phương thức này không dùng được cho địa chỉ này.",
        ),
        408 => (
            "timeout",
            "Yêu cầu xử lý quá lâu và đã dừng. Vui lòng thử lại sau.",
        ),
        413 => ("payload_too_large", "Nội dung gửi lên quá lớn."),
        415 => (
            "unsupported_media_type",
            "Kiểu nội dung không được hỗ trợ; hãy gửi JSON.",
        ),
        429 => (
            "too_many_requests",
            "Có quá nhiều yêu cầu. Vui lòng thử lại sau ít phút.",
        ),
        400..=499 => ("bad_request", "Yêu cầu không hợp lệ."),
        _ => ("internal", "Hệ thống đang gặp sự cố. Vui lòng thử lại sau."),
    };
    let body = ErrorBody {
        status: status.as_u16(),
        error: code.into(),
        message: message.into(),
        fields: Default::default(),
    };
    let mut out = (status, Json(body)).into_response();
    for name in [header::RETRY_AFTER, header::ALLOW] {
        if let Some(v) = resp.headers().get(&name) {
            out.headers_mut().insert(name, v.clone());
        }
    }
    out
}

/// An error response as the API sends it: its `ErrorBody` as JSON (other responses unchanged).
pub(crate) fn as_json(resp: Response) -> Response {
    match resp.extensions().get::<ErrorBody>().cloned() {
        Some(body) => {
            let status =
                StatusCode::from_u16(body.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            (status, Json(body)).into_response()
        }
        None => resp,
    }
}

/// Health: 200 when the database answers, 503 otherwise.
async fn healthz(State(state): State<AppState>) -> Response {
    match state.db.ping().await {
        Ok(()) => (
            StatusCode::OK,
            Json(serde_json::json!({"status": "ok", "engine": state.db.engine()})),
        )
            .into_response(),
        Err(e) => {
            tracing::error!(error = %e, "health check failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(serde_json::json!({"status": "unavailable"})),
            )
                .into_response()
        }
    }
}

#[cfg(test)]
mod error_body_tests {
    use super::*;
    use tower::ServiceExt;

    /// Issue 10.13: a 408 made by the timeout layer (no handler ran) and other bare errors carry
    /// the documented JSON body on the API; pages are left alone.
    #[tokio::test]
    async fn bare_api_errors_get_the_json_body() {
        let app = Router::new()
            .route("/api/slow", get(|| async { StatusCode::REQUEST_TIMEOUT }))
            .route("/slow", get(|| async { StatusCode::REQUEST_TIMEOUT }))
            .layer(middleware::from_fn(api_error_bodies));
        let resp = app
            .clone()
            .oneshot(
                Request::get("/api/slow")
                    .body(axum::body::Body::empty())
                    .expect("request"),
            )
            .await
            .expect("response");
        assert_eq!(resp.status(), StatusCode::REQUEST_TIMEOUT);
        let body = axum::body::to_bytes(resp.into_body(), 1 << 16)
            .await
            .expect("body");
        let v: serde_json::Value = serde_json::from_slice(&body).expect("json");
        assert_eq!(v["error"], "timeout");
        assert!(
            v["message"].as_str().is_some_and(|m| m.contains("quá lâu")),
            "{v}"
        );
        let page = app
            .oneshot(
                Request::get("/slow")
                    .body(axum::body::Body::empty())
                    .expect("request"),
            )
            .await
            .expect("response");
        let body = axum::body::to_bytes(page.into_body(), 1 << 16)
            .await
            .expect("body");
        assert!(body.is_empty(), "pages are untouched");
    }
}
