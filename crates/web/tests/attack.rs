//! The attack suite (issue 4): the authorization matrix over roles × areas × actions ×
//! inside/outside the actor's subtree × classification, the classified-title leak crawl,
//! security headers and inline scripts, lockout and TOTP, and privilege escalation. Every test
//! runs on SQLite and on PostgreSQL (`both_engines!`, as in `http.rs`).
#![allow(clippy::unwrap_used)]

macro_rules! both_engines {
    ($($body:ident => $sqlite:ident, $postgres:ident;)+) => {$(
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $sqlite() {
            if let Some(app) = crate::harness::spawn(fixtures::testing::Engine::Sqlite).await {
                $body(app).await;
            }
        }
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $postgres() {
            if let Some(app) = crate::harness::spawn(fixtures::testing::Engine::Postgres).await {
                $body(app).await;
            }
        }
    )+};
}

#[path = "http/harness.rs"]
mod harness;

#[path = "attack/common.rs"]
mod common;
#[path = "attack/escalation.rs"]
mod escalation;
#[path = "attack/hardening.rs"]
mod hardening;
#[path = "attack/headers.rs"]
mod headers;
#[path = "attack/leak.rs"]
mod leak;
#[path = "attack/login.rs"]
mod login;
#[path = "attack/matrix.rs"]
mod matrix;
#[path = "attack/reach.rs"]
mod reach;
