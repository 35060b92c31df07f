//! Pages of the study area: campaigns, classes, sessions, bridge points, participants,
//! attendance and results.

mod attendance;
mod attendance_file;
mod campaigns;
mod changes;
mod checkin;
mod classes;
pub(crate) mod feedback;
mod owes;
mod seats;

pub use classes::all_warnings as class_warnings;

use axum::Router;

use crate::app::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .merge(campaigns::routes())
        .merge(classes::routes())
        .merge(feedback::routes())
        .merge(owes::routes())
        .merge(attendance_file::routes())
        .merge(attendance::routes())
        .merge(changes::routes())
        .merge(checkin::routes())
        .merge(seats::routes())
}

/// Percent-encodes a query value.
pub fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            b' ' => "+".into(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}
