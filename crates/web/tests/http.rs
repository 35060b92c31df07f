//! HTTP integration tests: the real router on a random port over a fresh database (SQLite and
//! PostgreSQL) holding the demo province, driven through the JSON API and the HTML forms.
//!
//! Every test runs on both engines: `both_engines!(body => body_sqlite, body_postgres)` makes two
//! `#[tokio::test]`s. The PostgreSQL one fails when no server is reachable, unless
//! `QUANTRIET_SKIP_PG=1` asked for the skip (see `fixtures::testing::fresh`).
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

#[path = "http/action_plans.rs"]
mod action_plans;
#[path = "http/assess.rs"]
mod assess;
#[path = "http/assess_files.rs"]
mod assess_files;
#[path = "http/attendance_file.rs"]
mod attendance_file;
#[path = "http/auth.rs"]
mod auth;
#[path = "http/changes.rs"]
mod changes;
#[path = "http/checkin.rs"]
mod checkin;
#[path = "http/conduct.rs"]
mod conduct;
#[path = "http/feedback.rs"]
mod feedback;
#[path = "http/import.rs"]
mod import;
#[path = "http/input.rs"]
mod input;
#[path = "http/ops.rs"]
mod ops;
#[path = "http/people.rs"]
mod people;
#[path = "http/plans.rs"]
mod plans;
#[path = "http/scope.rs"]
mod scope;
#[path = "http/seats.rs"]
mod seats;
#[path = "http/settings.rs"]
mod settings;
#[path = "http/study.rs"]
mod study;
