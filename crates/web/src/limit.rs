//! A per-address request limit on the API (issue 4): a one-minute window per IP address, the
//! same minutes on every instance.
//!
//! Counting is in memory, so a request never waits for the database; a background task
//! ([`RateLimiter::share`]) adds each instance's counts to one table about once a second and
//! brings back every address's total, so that with several instances behind a load balancer the
//! limit holds for all of them together (issue 13.6), give or take one second of requests.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::app::AppState;
use crate::error::AppError;

/// How often counts are shared with the other instances.
pub const SHARE_EVERY: Duration = Duration::from_millis(500);
/// Addresses kept in memory before finished windows are forgotten.
const FORGET_ABOVE: usize = 100_000;

/// One address in the current minute.
#[derive(Debug, Clone, Copy, Default)]
struct Window {
    minute: i64,
    /// Requests seen here.
    mine: u32,
    /// Of those, already added to the shared table.
    shared: u32,
    /// The other instances' requests, as of the last flush.
    others: u32,
}

/// Counts per address in the current minute.
#[derive(Debug, Default)]
pub struct RateLimiter {
    windows: Mutex<HashMap<IpAddr, Window>>,
}

/// Minutes since the Unix epoch.
fn current_minute() -> i64 {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    i64::try_from(secs / 60).unwrap_or(i64::MAX)
}

impl RateLimiter {
    /// Whether one more request from `ip` fits within `per_minute`, all instances together.
    pub fn allow(&self, ip: IpAddr, per_minute: u32) -> bool {
        self.allow_at(ip, per_minute, current_minute())
    }

    fn allow_at(&self, ip: IpAddr, per_minute: u32, minute: i64) -> bool {
        let Ok(mut map) = self.windows.lock() else {
            return true;
        };
        if map.len() > FORGET_ABOVE {
            map.retain(|_, w| w.minute == minute);
        }
        let w = map.entry(ip).or_default();
        if w.minute != minute {
            *w = Window {
                minute,
                ..Window::default()
            };
        }
        w.mine = w.mine.saturating_add(1);
        w.mine.saturating_add(w.others) <= per_minute
    }

    /// The counts not yet shared, marked as shared.
    fn take_unshared(&self) -> Vec<(IpAddr, store::limit::Count)> {
        let Ok(mut map) = self.windows.lock() else {
            return Vec::new();
        };
        let minute = current_minute();
        map.retain(|_, w| w.minute >= minute - 1);
        map.iter_mut()
            .filter(|(_, w)| w.mine > w.shared)
            .map(|(ip, w)| {
                let n = i64::from(w.mine - w.shared);
                w.shared = w.mine;
                (
                    *ip,
                    store::limit::Count {
                        minute: w.minute,
                        ip: ip.to_string(),
                        n,
                    },
                )
            })
            .collect()
    }

    /// Takes in the shared totals of what was just added: the rest are the other instances'.
    fn learn(&self, added: &[(IpAddr, store::limit::Count)], totals: &[i64]) {
        let Ok(mut map) = self.windows.lock() else {
            return;
        };
        for ((ip, count), total) in added.iter().zip(totals) {
            if let Some(w) = map.get_mut(ip).filter(|w| w.minute == count.minute) {
                let others = total.saturating_sub(i64::from(w.shared));
                w.others = u32::try_from(others.max(0)).unwrap_or(u32::MAX);
            }
        }
    }

    /// Takes in the totals of addresses busy on any instance in `minute` (some perhaps never
    /// seen here yet).
    fn learn_busy(&self, minute: i64, busy: &[(String, i64)]) {
        let Ok(mut map) = self.windows.lock() else {
            return;
        };
        for (ip, total) in busy {
            let Ok(ip) = ip.parse::<IpAddr>() else {
                continue;
            };
            let w = map.entry(ip).or_insert(Window {
                minute,
                ..Window::default()
            });
            if w.minute == minute {
                let others = total.saturating_sub(i64::from(w.shared));
                w.others = w
                    .others
                    .max(u32::try_from(others.max(0)).unwrap_or(u32::MAX));
            }
        }
    }

    /// Undoes [`Self::take_unshared`] after a failed flush, so the counts go with the next one.
    fn unshare(&self, added: &[(IpAddr, store::limit::Count)]) {
        let Ok(mut map) = self.windows.lock() else {
            return;
        };
        for (ip, count) in added {
            if let Some(w) = map.get_mut(ip).filter(|w| w.minute == count.minute) {
                w.shared = w.shared.saturating_sub(u32::try_from(count.n).unwrap_or(0));
            }
        }
    }

    /// Shares the counts with the other instances through `db` every [`SHARE_EVERY`], for as
    /// long as the program runs, and learns of the addresses busy elsewhere (a quarter of
    /// `per_minute` and more). A database that cannot be reached leaves each instance with its
    /// own counts until it can.
    pub async fn share(self: Arc<Self>, db: store::Db, per_minute: u32) {
        let mut tick = tokio::time::interval(SHARE_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut forgotten = 0;
        loop {
            tick.tick().await;
            let added = self.take_unshared();
            if !added.is_empty() {
                let counts: Vec<_> = added.iter().map(|(_, c)| c.clone()).collect();
                match store::limit::add_counts(&db, &counts).await {
                    Ok(totals) => self.learn(&added, &totals),
                    Err(e) => {
                        tracing::warn!(error = %e, "sharing the API request counts failed");
                        self.unshare(&added);
                    }
                }
            }
            let minute = current_minute();
            match store::limit::busy(&db, minute, i64::from((per_minute / 4).max(1))).await {
                Ok(busy) => self.learn_busy(minute, &busy),
                Err(e) => tracing::warn!(error = %e, "reading the busy addresses failed"),
            }
            if minute != forgotten {
                if let Err(e) = store::limit::forget_before(&db, minute - 1).await {
                    tracing::warn!(error = %e, "forgetting old API request counts failed");
                }
                forgotten = minute;
            }
        }
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
        assert!(l.allow_at(a, 2, 7) && l.allow_at(a, 2, 7));
        assert!(!l.allow_at(a, 2, 7));
        assert!(l.allow_at(b, 2, 7));
        // The next minute starts afresh.
        assert!(l.allow_at(a, 2, 8));
    }

    #[test]
    fn the_other_instances_count_after_a_flush() {
        let l = RateLimiter::default();
        let a: IpAddr = [10, 0, 0, 1].into();
        let minute = current_minute();
        assert!(l.allow_at(a, 10, minute) && l.allow_at(a, 10, minute));
        let added = l.take_unshared();
        assert_eq!(added.len(), 1);
        assert_eq!(added[0].1.n, 2);
        // The shared total says 7 more came through other instances.
        l.learn(&added, &[9]);
        assert!(l.allow_at(a, 10, minute), "the 10th request of the minute");
        assert!(!l.allow_at(a, 10, minute), "the 11th");
        // Nothing counted twice: only the new requests are unshared.
        let next = l.take_unshared();
        assert_eq!(next[0].1.n, 2);
    }

    #[test]
    fn an_address_busy_elsewhere_is_limited_from_its_first_request_here() {
        let l = RateLimiter::default();
        let minute = current_minute();
        l.learn_busy(
            minute,
            &[("10.0.0.9".into(), 9), ("not an address".into(), 99)],
        );
        let a: IpAddr = [10, 0, 0, 9].into();
        assert!(l.allow_at(a, 10, minute));
        assert!(!l.allow_at(a, 10, minute));
        // A smaller total read later does not forget what was known.
        l.learn_busy(minute, &[("10.0.0.9".into(), 3)]);
        assert!(!l.allow_at(a, 10, minute));
    }

    #[test]
    fn a_failed_flush_sends_its_counts_with_the_next() {
        let l = RateLimiter::default();
        let a: IpAddr = [10, 0, 0, 1].into();
        let minute = current_minute();
        assert!(l.allow_at(a, 10, minute));
        let added = l.take_unshared();
        l.unshare(&added);
        assert!(l.allow_at(a, 10, minute));
        assert_eq!(l.take_unshared()[0].1.n, 2);
    }
}
