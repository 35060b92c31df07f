//! Refusals at the edge for characters no field may hold (issue 10.8): a NUL byte made PostgreSQL
//! answer 500 on any text (title, search, username), and other C0 control characters have no
//! place in a form either. Query strings, urlencoded forms and JSON bodies are checked before any
//! handler runs; the answer is a 422 naming the field. File uploads are left to their readers.

use axum::body::{to_bytes, Body};
use axum::extract::Request;
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use crate::error::AppError;

/// The largest body checked (the app's own body limit).
const MAX_BODY: usize = 4 * 1024 * 1024;

const MESSAGE: &str =
    "Có ký tự điều khiển không hợp lệ (ví dụ ký tự NUL). Hãy gõ lại nội dung trường này.";

/// A character no text field may hold: the domain's one rule (controls other than tab and line
/// ends, bidirectional overrides).
fn forbidden(c: char) -> bool {
    domain::text::forbidden_char(c)
}

fn bad(s: &str) -> bool {
    s.chars().any(forbidden)
}

/// The first urlencoded field holding a forbidden character.
fn bad_form_field(bytes: &[u8]) -> Option<String> {
    form_urlencoded::parse(bytes)
        .find(|(k, v)| bad(k) || bad(v))
        .map(|(k, _)| k.chars().filter(|c| !forbidden(*c)).collect())
}

/// The path of the first JSON string (or key) holding a forbidden character.
fn bad_json_field(v: &Value, path: &str) -> Option<String> {
    match v {
        Value::String(s) if bad(s) => Some(path.to_string()),
        Value::Array(items) => items.iter().find_map(|i| bad_json_field(i, path)),
        Value::Object(map) => map.iter().find_map(|(k, v)| {
            let p = if path.is_empty() {
                k.clone()
            } else {
                format!("{path}.{k}")
            };
            if bad(k) {
                Some(p.chars().filter(|c| !forbidden(*c)).collect())
            } else {
                bad_json_field(v, &p)
            }
        }),
        _ => None,
    }
}

/// The middleware: checks the query, and urlencoded or JSON bodies.
pub async fn refuse_control_characters(req: Request, next: Next) -> Response {
    let api = req.uri().path().starts_with("/api/");
    let refuse = |field: &str| {
        let field = if field.is_empty() { "body" } else { field };
        let resp = AppError::field(field, MESSAGE).into_response();
        if api {
            crate::app::as_json(resp)
        } else {
            resp
        }
    };
    if let Some(field) = req.uri().query().and_then(|q| bad_form_field(q.as_bytes())) {
        return refuse(&field);
    }
    let kind = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let form = kind.starts_with("application/x-www-form-urlencoded");
    let json = kind.starts_with("application/json");
    if !form && !json {
        return next.run(req).await;
    }
    let (parts, body) = req.into_parts();
    let bytes = match to_bytes(body, MAX_BODY).await {
        Ok(b) => b,
        Err(_) => {
            let resp = AppError::BadRequest("Nội dung gửi lên quá lớn hoặc bị gián đoạn.".into())
                .into_response();
            return if api { crate::app::as_json(resp) } else { resp };
        }
    };
    let field = if form {
        bad_form_field(&bytes)
    } else {
        serde_json::from_slice::<Value>(&bytes)
            .ok()
            .and_then(|v| bad_json_field(&v, ""))
    };
    if let Some(field) = field {
        return refuse(&field);
    }
    if form {
        if let Some(page) = confirmation(&parts, &bytes) {
            return page;
        }
    }
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

#[derive(askama::Template)]
#[template(path = "confirm.html")]
struct ConfirmPage {
    message: String,
    action: String,
    fields: Vec<(String, String)>,
    back: String,
}

/// A destructive form (it carries `_confirm`, the question) not yet confirmed: the page that
/// asks, which posts the same fields again with `_confirmed=1` (issue 11.15: without JavaScript
/// the question was never asked). With JavaScript the question is asked in the browser and the
/// form arrives confirmed.
fn confirmation(parts: &axum::http::request::Parts, body: &[u8]) -> Option<Response> {
    let fields: Vec<(String, String)> = form_urlencoded::parse(body)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let message: String = fields
        .iter()
        .find(|(k, _)| k == "_confirm")?
        .1
        .chars()
        .take(300)
        .collect();
    if fields.iter().any(|(k, v)| k == "_confirmed" && v == "1") {
        return None;
    }
    // A post from another site is not asked about (its text would show on this site's page);
    // the handler then refuses it for its CSRF token.
    let host = parts
        .headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok());
    let origin_host = parts
        .headers
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .and_then(|o| o.parse::<axum::http::Uri>().ok())
        .and_then(|u| u.authority().map(|a| a.to_string()));
    if origin_host.is_some_and(|o| Some(o.as_str()) != host) {
        return None;
    }
    // Back to the page the form was on, when it is on this site.
    let back = parts
        .headers
        .get(header::REFERER)
        .and_then(|v| v.to_str().ok())
        .and_then(|r| r.parse::<axum::http::Uri>().ok())
        .and_then(|u| u.path_and_query().map(|p| p.to_string()))
        .unwrap_or_else(|| "/".into());
    let page = ConfirmPage {
        message,
        action: parts.uri.path().to_string(),
        fields: fields
            .into_iter()
            .filter(|(k, _)| k != "_confirmed")
            .collect(),
        back: crate::auth_pages::safe_next(&back).to_string(),
    };
    use askama::Template;
    match page.render() {
        Ok(html) => Some(axum::response::Html(html).into_response()),
        Err(e) => Some(AppError::Internal(e.to_string()).into_response()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nul_and_controls_are_found_with_their_field() {
        assert_eq!(
            bad_form_field(b"q=nguyen%00an&page=1").as_deref(),
            Some("q")
        );
        assert_eq!(bad_form_field(b"title=a%01b").as_deref(), Some("title"));
        assert_eq!(bad_form_field(b"note=hai%0D%0Ad%C3%B2ng%09x"), None);
        let v: Value = serde_json::from_str(r#"{"title": "ok", "items": [{"name": "a\u0000"}]}"#)
            .expect("json");
        assert_eq!(bad_json_field(&v, "").as_deref(), Some("items.name"));
        let v: Value = serde_json::from_str(r#"{"title": "Nghị quyết\nsố 1"}"#).expect("json");
        assert_eq!(bad_json_field(&v, ""), None);
    }
}
