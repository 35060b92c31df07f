//! Campaigns, classes, sessions, bridge points, participants and attendance.

pub mod attendance;
pub mod campaigns;
pub mod classes;
pub mod participants;

/// SQL for a person's full name as written, from alias `p`.
pub(crate) fn full_name_sql(p: &str) -> String {
    format!("{p}.full_name")
}
