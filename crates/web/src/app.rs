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
}

impl Default for WebConfig {
    fn default() -> Self {
        // No API limit by default (tests and benchmarks); the binary sets one from its configuration.
        Self {
            secure_cookies: false,
            publication_deadline_days: 2,
            api_rate_per_minute: 0,
        }
    }
}

/// Shared by every handler.
#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub config: Arc<WebConfig>,
    pub limiter: Arc<crate::limit::RateLimiter>,
    /// The one writer of check-ins (group commit, R3.4).
    pub checkins: store::study::checkins::CheckinWriter,
    /// Signs the check-in QR codes.
    pub qr: store::study::checkins::QrKey,
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
        let qr = store::study::checkins::QrKey::load(&db)
            .await
            .map_err(std::io::Error::other)?;
        let state = AppState {
            checkins: store::study::checkins::CheckinWriter::spawn(db.clone()),
            qr,
            db,
            config: Arc::new(config),
            limiter: Default::default(),
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
        .merge(crate::notify::routes())
        .merge(crate::admin::routes())
        .nest("/api/v1", api)
        .route("/api/openapi.json", get(crate::api::openapi_json))
        .route("/healthz", get(healthz))
        .route("/static/{file}", get(crate::assets::serve))
        .layer(middleware::from_fn(crate::input::refuse_control_characters))
        .layer(RequestBodyLimitLayer::new(4 * 1024 * 1024));
    let api_imports = crate::api::import::routes()
        .layer(middleware::from_fn_with_state(
            state.clone(),
            crate::limit::api_limit,
        ))
        .layer(middleware::from_fn(json_errors));
    Router::new()
        .merge(limited)
        .merge(crate::import::routes())
        .merge(api_imports)
        .fallback(|| async { crate::error::AppError::NotFound })
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
            Duration::from_secs(30),
        ))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(TraceLayer::new_for_http())
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
}

/// On the API, an error response carries its `ErrorBody`: send that as JSON instead of the page.
async fn json_errors(req: Request, next: Next) -> Response {
    as_json(next.run(req).await)
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
