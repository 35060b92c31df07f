//! The one CSS file and the one JS file, built into the binary (no CDN, no network at run time).

use axum::extract::Path;
use axum::http::header;
use axum::response::{IntoResponse, Response};

use crate::error::AppError;

const CSS: &str = include_str!("../static/app.css");
const JS: &str = include_str!("../static/app.js");

pub async fn serve(Path(file): Path<String>) -> Result<Response, AppError> {
    let (body, mime) = match file.as_str() {
        "app.css" => (CSS, "text/css; charset=utf-8"),
        "app.js" => (JS, "text/javascript; charset=utf-8"),
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
