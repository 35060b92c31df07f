//! Attendance weighted by time, and the retake rule of R3.5.

use serde::Serialize;

use crate::{choice, RuleError};

choice!(
    /// What was recorded for one participant in one session (R3.4). Lateness and early leave are
    /// minutes on a `Present` mark, so "late", "left early" and both at once are all expressible.
    AttendanceStatus {
        Present = "present" / "Có mặt",
        Absent = "absent" / "Vắng không lý do",
        Excused = "excused" / "Vắng có lý do",
    }
);

/// A whole-number percentage from 0 to 100.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Percent(u8);

impl Percent {
    pub fn new(p: i64) -> Result<Self, RuleError> {
        u8::try_from(p)
            .ok()
            .filter(|p| *p <= 100)
            .map(Self)
            .ok_or(RuleError::OutOfRange { min: 0, max: 100 })
    }
    pub fn get(self) -> u8 {
        self.0
    }
}

impl Default for Percent {
    /// R3.5: 40% unless the province configures otherwise (R8.3).
    fn default() -> Self {
        Self(40)
    }
}

/// A validated attendance mark for one session of `session_len` minutes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AttendanceMark {
    status: AttendanceStatus,
    late_minutes: u32,
    left_early_minutes: u32,
    reason: Option<String>,
}

impl AttendanceMark {
    /// Validates a mark: minutes only on a present mark, their sum within the session, and a
    /// reason for an excused absence.
    pub fn parse(
        status: AttendanceStatus,
        late_minutes: u32,
        left_early_minutes: u32,
        reason: Option<String>,
        session_len: u32,
    ) -> Result<Self, RuleError> {
        let reason = reason
            .map(|r| r.trim().to_string())
            .filter(|r| !r.is_empty());
        if reason.as_ref().is_some_and(|r| r.chars().count() > 500) {
            return Err(RuleError::TooLong { max: 500 });
        }
        let (late, early) = match status {
            AttendanceStatus::Present => (late_minutes, left_early_minutes),
            _ => (0, 0),
        };
        let missed = late
            .checked_add(early)
            .ok_or(RuleError::MissedExceedsSession { session_len })?;
        if missed > session_len {
            return Err(RuleError::MissedExceedsSession { session_len });
        }
        if status == AttendanceStatus::Excused && reason.is_none() {
            return Err(RuleError::ExcuseReasonRequired);
        }
        Ok(Self {
            status,
            late_minutes: late,
            left_early_minutes: early,
            reason,
        })
    }
    pub fn status(&self) -> AttendanceStatus {
        self.status
    }
    pub fn late_minutes(&self) -> u32 {
        self.late_minutes
    }
    pub fn left_early_minutes(&self) -> u32 {
        self.left_early_minutes
    }
    pub fn reason(&self) -> Option<&str> {
        self.reason.as_deref()
    }
}

/// One session's contribution to a participant's time: its length and what was recorded.
/// `status == None` means nothing was recorded; it counts as absent (not seen).
#[derive(Debug, Clone, Copy)]
pub struct SessionMark {
    pub session_minutes: u32,
    pub status: Option<AttendanceStatus>,
    pub late_minutes: u32,
    pub left_early_minutes: u32,
}

/// A participant's attendance over a whole class, weighted by session minutes (R3.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct AttendanceSummary {
    pub class_minutes: u32,
    pub attended_minutes: u32,
    /// All minutes missed, excused ones included.
    pub missed_minutes: u32,
    /// The part of `missed_minutes` that was excused.
    pub excused_minutes: u32,
    pub needs_retake: bool,
}

/// R3.5: more than `threshold` of class time absent means the class must be studied again.
/// Exactly the threshold is not a retake.
pub fn needs_retake(missed: u32, class_len: u32, threshold: Percent) -> bool {
    // Integers only: 40% of 240 min is exactly 96; 96 missed is not a retake, 97 is.
    u64::from(missed) * 100 > u64::from(class_len) * u64::from(threshold.get())
}

/// Sums a participant's marks over the sessions of a class.
pub fn summarize(marks: &[SessionMark], threshold: Percent) -> AttendanceSummary {
    let mut class_minutes = 0u32;
    let mut missed = 0u32;
    let mut excused = 0u32;
    for m in marks {
        class_minutes = class_minutes.saturating_add(m.session_minutes);
        let lost = match m.status {
            Some(AttendanceStatus::Present) => m
                .late_minutes
                .saturating_add(m.left_early_minutes)
                .min(m.session_minutes),
            Some(AttendanceStatus::Excused) => {
                excused = excused.saturating_add(m.session_minutes);
                m.session_minutes
            }
            Some(AttendanceStatus::Absent) | None => m.session_minutes,
        };
        missed = missed.saturating_add(lost);
    }
    AttendanceSummary {
        class_minutes,
        attended_minutes: class_minutes - missed,
        missed_minutes: missed,
        excused_minutes: excused,
        needs_retake: class_minutes > 0 && needs_retake(missed, class_minutes, threshold),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use AttendanceStatus::*;

    fn mark(len: u32, status: AttendanceStatus, late: u32, early: u32) -> SessionMark {
        SessionMark {
            session_minutes: len,
            status: Some(status),
            late_minutes: late,
            left_early_minutes: early,
        }
    }

    #[test]
    fn r3_5_exactly_forty_percent_is_not_a_retake() {
        assert!(!needs_retake(96, 240, Percent::default()));
        assert!(needs_retake(97, 240, Percent::default()));
    }

    #[test]
    fn r3_5_just_over_forty_percent_requires_retake() {
        // 2 sessions of 120 min: absent from one (120) is 50%.
        let s = summarize(
            &[mark(120, Present, 0, 0), mark(120, Absent, 0, 0)],
            Percent::default(),
        );
        assert!(s.needs_retake);
        assert_eq!(s.missed_minutes, 120);
    }

    #[test]
    fn r3_5_late_and_early_minutes_count() {
        // 240 min in two sessions: 60 late + 36 early = 96 = 40% exactly: no retake.
        let s = summarize(
            &[mark(120, Present, 60, 0), mark(120, Present, 0, 36)],
            Percent::default(),
        );
        assert_eq!(s.missed_minutes, 96);
        assert!(!s.needs_retake);
        // One more minute is over.
        let s = summarize(
            &[mark(120, Present, 60, 0), mark(120, Present, 1, 36)],
            Percent::default(),
        );
        assert!(s.needs_retake);
    }

    #[test]
    fn r3_5_excused_absence_counts_as_absent_time_but_is_shown_as_excused() {
        let s = summarize(
            &[mark(90, Excused, 0, 0), mark(90, Present, 0, 0)],
            Percent::default(),
        );
        assert_eq!(s.missed_minutes, 90);
        assert_eq!(s.excused_minutes, 90);
        assert!(s.needs_retake);
    }

    #[test]
    fn r3_5_unrecorded_session_counts_as_absent() {
        let none = SessionMark {
            session_minutes: 100,
            status: None,
            late_minutes: 0,
            left_early_minutes: 0,
        };
        let s = summarize(&[none, mark(100, Present, 0, 0)], Percent::default());
        assert!(s.needs_retake);
    }

    #[test]
    fn r3_5_threshold_is_configurable() {
        let t = Percent::new(50).expect("valid");
        let s = summarize(&[mark(120, Present, 0, 0), mark(120, Absent, 0, 0)], t);
        assert!(!s.needs_retake, "exactly 50% with a 50% threshold");
        assert!(Percent::new(101).is_err());
    }

    #[test]
    fn r3_4_minutes_cannot_exceed_the_session() {
        assert_eq!(
            AttendanceMark::parse(Present, 60, 31, None, 90),
            Err(RuleError::MissedExceedsSession { session_len: 90 })
        );
        assert!(AttendanceMark::parse(Present, 60, 30, None, 90).is_ok());
        assert!(AttendanceMark::parse(Present, u32::MAX, 1, None, 90).is_err());
    }

    #[test]
    fn r3_3_excused_absence_needs_a_reason() {
        assert_eq!(
            AttendanceMark::parse(Excused, 0, 0, Some("  ".into()), 90),
            Err(RuleError::ExcuseReasonRequired)
        );
        let m = AttendanceMark::parse(Excused, 10, 0, Some("Ốm".into()), 90).expect("valid");
        assert_eq!(m.late_minutes(), 0, "minutes only count on a present mark");
    }
}
