//! Campaigns, classes, sessions, bridge points, participants and attendance.

pub mod attendance;
pub mod attendance_file;
pub mod campaigns;
pub mod changes;
pub mod checkin;
pub mod classes;
pub mod feedback;
pub mod owes;
pub mod participants;
pub mod presenters;
pub mod seats;

/// SQL for a person's full name as written, from alias `p`.
pub(crate) fn full_name_sql(p: &str) -> String {
    format!("{p}.full_name")
}
