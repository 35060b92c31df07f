//! The one CSS file and the one JS file, built into the binary (no CDN, no network at run time).

use axum::extract::Path;
use axum::http::header;
use axum::response::{IntoResponse, Response};

use crate::error::AppError;

const CSS: &str = include_str!("../static/app.css");
const JS: &str = include_str!("../static/app.js");
const CHECKIN_JS: &str = include_str!("../static/checkin.js");
const SERVICE_WORKER: &str = include_str!("../static/sw.js");

pub async fn serve(Path(file): Path<String>) -> Result<Response, AppError> {
    let (body, mime) = match file.as_str() {
        "app.css" => (CSS, "text/css; charset=utf-8"),
        "app.js" => (JS, "text/javascript; charset=utf-8"),
        "checkin.js" => (CHECKIN_JS, "text/javascript; charset=utf-8"),
        _ => return Err(AppError::NotFound),
    };
    Ok((
        [
            (header::CONTENT_TYPE, mime),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        body,
    )
        .into_response())
}

/// The service worker of the offline operator page (R3.4), served from the root so that it may
/// control `/sessions/…`. Never cached long: a new version must reach the devices.
pub async fn service_worker() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        SERVICE_WORKER_VERSIONED.as_str(),
    )
        .into_response()
}

/// The service worker with this build's version: a hash of the files it keeps.
static SERVICE_WORKER_VERSIONED: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    for part in [CSS, JS, CHECKIN_JS, SERVICE_WORKER] {
        h.update(part.as_bytes());
    }
    let version: String = h
        .finalize()
        .iter()
        .take(6)
        .map(|b| format!("{b:02x}"))
        .collect();
    SERVICE_WORKER.replace("__VERSION__", &version)
});
