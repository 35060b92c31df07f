//! Behind a reverse proxy (issue 13.6): `X-Forwarded-For` and `X-Forwarded-Proto` are believed
//! only from the proxies named in the configuration. From anyone else they are removed before any
//! handler sees them, so a client cannot pick its own address (rate limits, login blocks, the audit
//! log) or claim HTTPS; from a trusted proxy the client's address replaces the peer's.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use ipnet::IpNet;

use crate::app::AppState;

const FORWARDED_FOR: &str = "x-forwarded-for";
const FORWARDED_PROTO: &str = "x-forwarded-proto";
/// At most this many addresses of a forwarded chain are read (a longer header is an attack).
const CHAIN_MAX: usize = 32;

/// The addresses (single or networks) whose forwarding headers are believed.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// Parses `10.0.0.1`, `10.0.0.0/8`, `::1`, `fd00::/8`; the error names the bad entry.
    pub fn parse<S: AsRef<str>>(entries: &[S]) -> Result<Self, String> {
        entries
            .iter()
            .map(|e| {
                let e = e.as_ref().trim();
                e.parse::<IpNet>()
                    .or_else(|_| e.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| format!("not an address or network: {e:?}"))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Self)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Is `ip` in one of the networks?
    pub fn contains(&self, ip: IpAddr) -> bool {
        self.trusts(ip)
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.0.iter().any(|n| n.contains(&ip))
    }

    /// The client's address and whether it came over HTTPS, for a request from `peer`.
    ///
    /// The forwarded chain is read from the right (the nearest hop) leftwards, past every
    /// trusted proxy; the first untrusted address is the client. Anything before it was written
    /// by the client and is not believed.
    pub fn origin(&self, peer: IpAddr, headers: &HeaderMap) -> (IpAddr, bool) {
        if !self.trusts(peer) {
            return (peer, false);
        }
        let https = headers
            .get_all(FORWARDED_PROTO)
            .iter()
            .next_back()
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.rsplit(',').next())
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("https"));
        let mut hops: Vec<&str> = Vec::new();
        for v in headers.get_all(FORWARDED_FOR) {
            let Ok(v) = v.to_str() else {
                return (peer, https);
            };
            hops.extend(v.split(','));
            if hops.len() > CHAIN_MAX {
                break;
            }
        }
        let mut client = peer;
        for hop in hops.iter().rev().take(CHAIN_MAX) {
            match hop.trim().parse::<IpAddr>() {
                Ok(ip) => {
                    client = canonical(ip);
                    if !self.trusts(ip) {
                        break;
                    }
                }
                // A malformed hop ends the chain: the last good address stands.
                Err(_) => break,
            }
        }
        (client, https)
    }
}

/// IPv4-mapped IPv6 addresses (`::ffff:10.0.0.1`) as IPv4, so a dual-stack listener and the
/// configuration agree.
pub(crate) fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// Middleware (outermost): resolves the client's address and scheme once, replaces the peer
/// address the handlers read (`ConnectInfo`) with the client's, and leaves `X-Forwarded-Proto:
/// https` only when a trusted proxy said so.
pub async fn resolve(State(st): State<AppState>, mut req: Request, next: Next) -> Response {
    if let Some(ConnectInfo(peer)) = req.extensions().get::<ConnectInfo<SocketAddr>>().copied() {
        let (client, https) = st.config.trusted_proxies.origin(peer.ip(), req.headers());
        req.extensions_mut()
            .insert(ConnectInfo(SocketAddr::new(client, peer.port())));
        let trusted = st.config.trusted_proxies.contains(peer.ip());
        let headers = req.headers_mut();
        headers.remove(FORWARDED_FOR);
        headers.remove(FORWARDED_PROTO);
        // A request id is taken from a trusted proxy (nginx's `$request_id`), never from a
        // client: one is made here instead.
        if !trusted {
            headers.remove("x-request-id");
        }
        if https {
            headers.insert(FORWARDED_PROTO, HeaderValue::from_static("https"));
        }
    } else {
        // No peer known (a request built in a test): nothing can vouch for the headers.
        let headers = req.headers_mut();
        headers.remove(FORWARDED_FOR);
        headers.remove(FORWARDED_PROTO);
        headers.remove("x-request-id");
    }
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_str(v).expect("header"));
        }
        h
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("ip")
    }

    #[test]
    fn untrusted_peers_cannot_choose_their_address_or_scheme() {
        let none = TrustedProxies::default();
        let h = headers(&[(FORWARDED_FOR, "1.2.3.4"), (FORWARDED_PROTO, "https")]);
        assert_eq!(
            none.origin(ip("203.0.113.9"), &h),
            (ip("203.0.113.9"), false)
        );
        let some = TrustedProxies::parse(&["10.0.0.0/8"]).expect("parse");
        assert_eq!(
            some.origin(ip("203.0.113.9"), &h),
            (ip("203.0.113.9"), false)
        );
    }

    #[test]
    fn a_trusted_proxy_names_the_client() {
        let t = TrustedProxies::parse(&["127.0.0.1", "10.0.0.0/8"]).expect("parse");
        let h = headers(&[(FORWARDED_FOR, "198.51.100.7"), (FORWARDED_PROTO, "https")]);
        assert_eq!(t.origin(ip("127.0.0.1"), &h), (ip("198.51.100.7"), true));
        // A chain through two trusted proxies; the client's own claim on the left is ignored.
        let h = headers(&[(FORWARDED_FOR, "6.6.6.6, 198.51.100.7, 10.1.2.3")]);
        assert_eq!(t.origin(ip("127.0.0.1"), &h), (ip("198.51.100.7"), false));
        // Two header lines are one list.
        let h = headers(&[(FORWARDED_FOR, "6.6.6.6"), (FORWARDED_FOR, "198.51.100.8")]);
        assert_eq!(t.origin(ip("127.0.0.1"), &h).0, ip("198.51.100.8"));
        // No header: the proxy itself.
        assert_eq!(
            t.origin(ip("10.9.9.9"), &HeaderMap::new()),
            (ip("10.9.9.9"), false)
        );
        // A garbled hop ends the chain at the last good address.
        let h = headers(&[(FORWARDED_FOR, "198.51.100.7, junk")]);
        assert_eq!(t.origin(ip("127.0.0.1"), &h).0, ip("127.0.0.1"));
        // Mapped IPv6 peers match IPv4 entries.
        let h = headers(&[(FORWARDED_FOR, "198.51.100.9")]);
        assert_eq!(t.origin(ip("::ffff:127.0.0.1"), &h).0, ip("198.51.100.9"));
    }

    #[test]
    fn bad_entries_are_named() {
        let e = TrustedProxies::parse(&["10.0.0.1", "nginx"]).expect_err("bad");
        assert!(e.contains("nginx"), "{e}");
        assert!(TrustedProxies::parse(&["fd00::/8", "::1"]).is_ok());
    }
}
