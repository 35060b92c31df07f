//! Conduct records and year-end rating eligibility (R3.6, R3.7).
//!
//! A member commended, reminded, criticized or proposed for review during or at the close of a
//! class carries a record for that year. The records that bar an "excellent" rating are rules
//! here, as is the cell's 10% boundary (exact: integers, never rounded).

use chrono::{Datelike, NaiveDate};

use crate::ids::PersonId;
use crate::plans::action_plans::ids;
use crate::text::{parse_date, required_text};
use crate::{FieldErrors, RuleError};

crate::choice!(
    /// What was recorded about a learner (R3.6).
    ConductKind {
        Commendation = "commendation" / "Biểu dương",
        Reminder = "reminder" / "Nhắc nhở",
        Criticism = "criticism" / "Phê bình",
        ReviewProposal = "review_proposal" / "Đề nghị kiểm điểm",
        DisciplineProposal = "discipline_proposal" / "Đề nghị xem xét kỷ luật",
    }
);

impl ConductKind {
    /// R3.7: a member reminded, criticized or put to review (or discipline) for study reasons
    /// cannot be rated excellent that year.
    pub fn bars_excellent(self) -> bool {
        !matches!(self, Self::Commendation)
    }
    /// R3.7: the members reminded or criticized count towards their cell's 10%.
    pub fn counts_for_cell(self) -> bool {
        matches!(self, Self::Reminder | Self::Criticism)
    }
}

crate::choice!(
    /// The four levels of the year-end rating of a member or a cell.
    RatingLevel {
        Excellent = "excellent" / "Hoàn thành xuất sắc nhiệm vụ",
        Good = "good" / "Hoàn thành tốt nhiệm vụ",
        Completed = "completed" / "Hoàn thành nhiệm vụ",
        NotCompleted = "not_completed" / "Không hoàn thành nhiệm vụ",
    }
);

/// R3.7: a cell in which 10% or more of the members were reminded or criticized cannot be rated
/// excellent. Exact: `flagged / members >= 1/10` as integers (9 of 90 bars, 9 of 91 does not).
pub fn cell_barred(flagged: i64, members: i64) -> bool {
    members > 0 && flagged.saturating_mul(10) >= members
}

/// The largest number of flagged members a cell of `members` may have and still be rated
/// excellent (shown beside the count).
pub fn cell_allowance(members: i64) -> i64 {
    if members <= 0 {
        0
    } else {
        (members - 1) / 10
    }
}

/// The years a rating may be entered for on `today`: the year that is ending, or the one just
/// ended (ratings are held in December and January).
pub fn rating_year(year: i32, today: NaiveDate) -> Result<i32, RuleError> {
    let current = today.year();
    if year == current || year == current - 1 {
        Ok(year)
    } else {
        Err(RuleError::RatingYear {
            current,
            previous: current - 1,
        })
    }
}

/// Reason text at most.
pub const REASON_MAX: usize = 500;
/// People in one entry at most (a class's close, several at once).
pub const PEOPLE_MAX: usize = 500;

/// A conduct entry as typed: one person or several at once.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
pub struct ConductInput {
    pub kind: String,
    pub occurred_on: String,
    pub reason: String,
    pub person_ids: Vec<String>,
}

/// A validated conduct entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewConduct {
    pub kind: ConductKind,
    pub occurred_on: NaiveDate,
    pub reason: String,
    pub people: Vec<PersonId>,
}

impl NewConduct {
    pub fn year(&self) -> i32 {
        self.occurred_on.year()
    }
}

impl ConductInput {
    pub fn validate(&self, today: NaiveDate) -> Result<NewConduct, FieldErrors> {
        let mut e = FieldErrors::new();
        let kind = e.take("kind", ConductKind::parse(&self.kind));
        let occurred_on = e.take(
            "occurred_on",
            parse_date(&self.occurred_on).and_then(|d| {
                if d > today {
                    Err(RuleError::DateInFuture)
                } else {
                    Ok(d)
                }
            }),
        );
        let reason = e.take("reason", required_text(&self.reason, REASON_MAX));
        let people = e.take(
            "person_ids",
            ids(&self.person_ids, PEOPLE_MAX).and_then(|v| {
                if v.is_empty() {
                    Err(RuleError::NoPerson)
                } else {
                    Ok(v)
                }
            }),
        );
        match (kind, occurred_on, reason, people) {
            (Some(kind), Some(occurred_on), Some(reason), Some(people)) if e.is_empty() => {
                Ok(NewConduct {
                    kind,
                    occurred_on,
                    reason,
                    people: people.into_iter().map(PersonId).collect(),
                })
            }
            _ => Err(e),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn r3_7_ten_percent_is_exact_in_both_directions() {
        assert!(cell_barred(1, 10));
        assert!(!cell_barred(0, 10));
        assert!(cell_barred(9, 90));
        assert!(!cell_barred(9, 91));
        assert!(!cell_barred(2, 21));
        assert!(cell_barred(3, 21));
        assert!(!cell_barred(0, 0));
        assert_eq!(cell_allowance(91), 9);
        assert_eq!(cell_allowance(90), 8);
        assert_eq!(cell_allowance(9), 0);
    }

    #[test]
    fn r3_7_what_bars_an_excellent_rating() {
        assert!(!ConductKind::Commendation.bars_excellent());
        assert!(ConductKind::Reminder.bars_excellent());
        assert!(ConductKind::ReviewProposal.bars_excellent());
        assert!(ConductKind::Criticism.counts_for_cell());
        assert!(!ConductKind::ReviewProposal.counts_for_cell());
    }

    #[test]
    fn ratings_only_for_the_year_ending_or_just_ended() {
        let today = day("2026-12-20");
        assert_eq!(rating_year(2026, today), Ok(2026));
        assert_eq!(rating_year(2025, today), Ok(2025));
        assert_eq!(rating_year(2024, today).unwrap_err().code(), "rating_year");
        assert!(rating_year(2027, today).is_err());
    }

    #[test]
    fn r3_6_an_entry_names_its_fields() {
        let today = day("2026-11-30");
        let bad = ConductInput {
            kind: "praise".into(),
            occurred_on: "2026-12-01".into(),
            reason: " ".into(),
            person_ids: vec![],
        }
        .validate(today)
        .unwrap_err();
        for f in ["kind", "occurred_on", "reason", "person_ids"] {
            assert!(bad.get(f).is_some(), "{f}");
        }
        let ok = ConductInput {
            kind: "reminder".into(),
            occurred_on: "30/11/2026".into(),
            reason: "Sử dụng điện thoại trong giờ học".into(),
            person_ids: vec!["3".into(), "4".into(), "3".into()],
        }
        .validate(today)
        .unwrap();
        assert_eq!(ok.people, vec![PersonId(3), PersonId(4)]);
        assert_eq!(ok.year(), 2026);
    }
}
