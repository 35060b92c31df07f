//! A per-address request limit on the API (issue 4): a fixed one-minute window per IP address.
//! Kept in process memory: with several instances behind a load balancer each enforces its own
//! share, which is the usual trade for not paying a database round trip per request.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::app::AppState;
use crate::error::AppError;

/// Counts per address in the current window.
#[derive(Debug, Default)]
pub struct RateLimiter {
    windows: Mutex<HashMap<IpAddr, (Instant, u32)>>,
}

impl RateLimiter {
    /// Whether one more request from `ip` fits within `per_minute`.
    pub fn allow(&self, ip: IpAddr, per_minute: u32) -> bool {
        let now = Instant::now();
        let Ok(mut map) = self.windows.lock() else {
            return true;
        };
        if map.len() > 100_000 {
            // Forget finished windows so the map stays bounded.
            map.retain(|_, (start, _)| now.duration_since(*start) < Duration::from_secs(60));
        }
        let entry = map.entry(ip).or_insert((now, 0));
        if now.duration_since(entry.0) >= Duration::from_secs(60) {
            *entry = (now, 0);
        }
        entry.1 += 1;
        entry.1 <= per_minute
    }
}

/// Middleware on `/api`: 429 `rate_limited` beyond the configured requests per minute.
pub async fn api_limit(State(st): State<AppState>, req: Request, next: Next) -> Response {
    let per_minute = st.config.api_rate_per_minute;
    if per_minute > 0 {
        if let Some(ConnectInfo(peer)) = req.extensions().get::<ConnectInfo<SocketAddr>>() {
            if !st.limiter.allow(peer.ip(), per_minute) {
                return AppError::TooMany(
                    "rate_limited",
                    "Quá nhiều yêu cầu. Vui lòng thử lại sau một phút.".into(),
                )
                .into_response();
            }
        }
    }
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_counts_per_address() {
        let l = RateLimiter::default();
        let a: IpAddr = [10, 0, 0, 1].into();
        let b: IpAddr = [10, 0, 0, 2].into();
        assert!(l.allow(a, 2) && l.allow(a, 2));
        assert!(!l.allow(a, 2));
        assert!(l.allow(b, 2));
    }
}
