//! Which database a lag-tolerant read goes to (issue 13.6): the streaming replica while it is
//! close behind the primary, the primary otherwise.
//!
//! A browser that has just written reads its own writes: every answer to a request that may
//! write (anything but GET and HEAD) sets a short cookie, and while it lasts that browser's reads
//! go to the primary, so the list a form redirects to already shows what the form saved. The API
//! reads from the primary throughout: its clients write and read in quick succession without
//! cookies.

use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{header, Method};
use axum::middleware::Next;
use axum::response::Response;
use store::Db;

use crate::app::AppState;
use crate::auth::{cookie, is_secure, set_cookie};

/// Set after a write; while present, reads go to the primary.
pub const WROTE_COOKIE: &str = "qt_wrote";
/// Seconds the cookie lasts: far beyond the replica's lag while it is read at all.
pub const WROTE_SECONDS: i64 = 5;

/// The database for this request's lists and reports: the replica when one is configured, close
/// behind, and this browser has not just written; the primary otherwise.
pub struct Reads(pub Db);

impl FromRequestParts<AppState> for Reads {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, st: &AppState) -> Result<Self, Self::Rejection> {
        let replica = st
            .config
            .replica
            .as_ref()
            .filter(|_| cookie(&parts.headers, WROTE_COOKIE).is_none())
            .and_then(|r| r.if_close_behind());
        Ok(Reads(replica.unwrap_or(&st.db).clone()))
    }
}

/// Middleware: marks the browser that sent a request that may write (only with a replica).
pub async fn mark_writes(State(st): State<AppState>, req: Request, next: Next) -> Response {
    let writes = st.config.replica.is_some()
        && !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    let secure = writes && is_secure(req.headers(), &st);
    let mut resp = next.run(req).await;
    if writes {
        resp.headers_mut().append(
            header::SET_COOKIE,
            set_cookie(WROTE_COOKIE, "1", Some(WROTE_SECONDS), secure),
        );
    }
    resp
}
