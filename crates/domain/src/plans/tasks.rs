//! Cascaded tasks (R8.1): a committee sends a task to a set of subordinate organizations with a
//! deadline; each reports its completion (date, people reached, note) or sends the task further
//! down to its own subordinates. Whether a target is done, late or overdue is computed from the
//! dates, never typed.

use chrono::NaiveDate;

use crate::error::FieldErrors;
use crate::ids::OrgId;
use crate::text::{optional_text, parse_date, required_text};
use crate::RuleError;

/// The longest title and body.
pub const TITLE_MAX: usize = 300;
pub const BODY_MAX: usize = 5_000;
pub const NOTE_MAX: usize = 2_000;
/// The most organizations one task is sent to (every commune of a province, every cell of a
/// commune — and the country's 3,321 communes from the centre).
pub const TARGETS_MAX: usize = 5_000;
/// The most people a report may say it reached.
pub const PEOPLE_MAX: i64 = 10_000_000;

/// A task as typed in the form (or the API).
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
pub struct TaskInput {
    pub title: String,
    pub body: String,
    /// dd/mm/yyyy or yyyy-mm-dd.
    pub due_on: String,
    /// The organizations it is sent to (ids).
    pub target_org_ids: Vec<String>,
}

/// A checked task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewTask {
    pub title: String,
    pub body: Option<String>,
    pub due_on: NaiveDate,
    /// At least one, none twice.
    pub targets: Vec<OrgId>,
}

impl TaskInput {
    /// Checks every field against `today` (a deadline already past is refused).
    pub fn validate(&self, today: NaiveDate) -> Result<NewTask, FieldErrors> {
        let mut e = FieldErrors::new();
        let title = e.take("title", required_text(&self.title, TITLE_MAX));
        let body = e.take("body", optional_text(&self.body, BODY_MAX));
        let due = e.take(
            "due_on",
            parse_date(&self.due_on).and_then(|d| {
                if d < today {
                    Err(RuleError::DueBeforeToday)
                } else {
                    Ok(d)
                }
            }),
        );
        let targets = e.take("target_org_ids", targets(&self.target_org_ids));
        match (title, body, due, targets) {
            (Some(title), Some(body), Some(due_on), Some(targets)) if e.is_empty() => Ok(NewTask {
                title,
                body,
                due_on,
                targets,
            }),
            _ => Err(e),
        }
    }
}

/// The target ids: each a number, at least one, at most [`TARGETS_MAX`]; repeats dropped.
fn targets(ids: &[String]) -> Result<Vec<OrgId>, RuleError> {
    let mut out: Vec<OrgId> = Vec::new();
    for s in ids.iter().map(|s| s.trim()).filter(|s| !s.is_empty()) {
        let id = s
            .parse::<i64>()
            .ok()
            .filter(|n| *n > 0)
            .map(OrgId)
            .ok_or(RuleError::InvalidChoice)?;
        if !out.contains(&id) {
            out.push(id);
        }
        if out.len() > TARGETS_MAX {
            return Err(RuleError::TooMany { max: TARGETS_MAX });
        }
    }
    if out.is_empty() {
        return Err(RuleError::NoTarget);
    }
    Ok(out)
}

/// A report of completion as typed.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
pub struct ReportInput {
    /// dd/mm/yyyy or yyyy-mm-dd; empty: today.
    pub done_on: String,
    /// People the organization reached (studied, were told); empty: not counted.
    pub people_reached: String,
    pub note: String,
}

/// A checked report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    pub done_on: NaiveDate,
    pub people_reached: Option<i64>,
    pub note: Option<String>,
}

impl ReportInput {
    /// Checks every field against `today` (a completion in the future is refused) and the
    /// task's creation day (a completion before the task existed is refused).
    pub fn validate(&self, today: NaiveDate, sent_on: NaiveDate) -> Result<Report, FieldErrors> {
        let mut e = FieldErrors::new();
        let done = if self.done_on.trim().is_empty() {
            Some(today)
        } else {
            e.take(
                "done_on",
                parse_date(&self.done_on).and_then(|d| {
                    if d > today {
                        Err(RuleError::DoneInFuture)
                    } else if d < sent_on {
                        Err(RuleError::DoneBeforeSent)
                    } else {
                        Ok(d)
                    }
                }),
            )
        };
        let people = if self.people_reached.trim().is_empty() {
            Some(None)
        } else {
            e.take(
                "people_reached",
                self.people_reached
                    .trim()
                    .replace(['.', ' '], "")
                    .parse::<i64>()
                    .ok()
                    .filter(|n| (0..=PEOPLE_MAX).contains(n))
                    .map(Some)
                    .ok_or(RuleError::OutOfRange {
                        min: 0,
                        max: PEOPLE_MAX,
                    }),
            )
        };
        let note = e.take("note", optional_text(&self.note, NOTE_MAX));
        match (done, people, note) {
            (Some(done_on), Some(people_reached), Some(note)) if e.is_empty() => Ok(Report {
                done_on,
                people_reached,
                note,
            }),
            _ => Err(e),
        }
    }
}

crate::choice!(
    /// Where one target of a task stands: computed from the due date, the report's date and
    /// today, never typed.
    TargetState {
        Done = "done" / "Đã hoàn thành",
        DoneLate = "done_late" / "Hoàn thành muộn",
        Open = "open" / "Đang thực hiện",
        Overdue = "overdue" / "Quá hạn",
    }
);

impl TargetState {
    /// The state of a target due on `due_on`, reported done on `done_on` (if it was), on `today`.
    pub fn of(due_on: NaiveDate, done_on: Option<NaiveDate>, today: NaiveDate) -> Self {
        match done_on {
            Some(d) if d <= due_on => Self::Done,
            Some(_) => Self::DoneLate,
            None if today > due_on => Self::Overdue,
            None => Self::Open,
        }
    }

    /// Done, on time or late.
    pub fn is_done(self) -> bool {
        matches!(self, Self::Done | Self::DoneLate)
    }
}

/// Percent of `done` out of `total`, rounded down (so 99.9% is never shown as 100%).
pub fn percent_done(done: i64, total: i64) -> i64 {
    if total <= 0 {
        0
    } else {
        done.clamp(0, total) * 100 / total
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        parse_date(s).expect("date")
    }

    #[test]
    fn r8_1_a_task_needs_a_title_a_deadline_and_targets() {
        let today = day("30/11/2026");
        let ok = TaskInput {
            title: " Quán triệt Chỉ thị 05 đến chi bộ ".into(),
            body: String::new(),
            due_on: "15/12/2026".into(),
            target_org_ids: vec!["7".into(), " 9 ".into(), "7".into(), "".into()],
        }
        .validate(today)
        .expect("valid");
        assert_eq!(ok.title, "Quán triệt Chỉ thị 05 đến chi bộ");
        assert_eq!(ok.targets, vec![OrgId(7), OrgId(9)], "repeats dropped");
        assert_eq!(ok.body, None);
        for (title, due, targets, field) in [
            ("", "15/12/2026", vec!["7"], "title"),
            ("Việc", "29/11/2026", vec!["7"], "due_on"),
            ("Việc", "31/02/2026", vec!["7"], "due_on"),
            ("Việc", "15/12/2026", vec![], "target_org_ids"),
            ("Việc", "15/12/2026", vec!["xã"], "target_org_ids"),
            ("Việc", "15/12/2026", vec!["-3"], "target_org_ids"),
        ] {
            let e = TaskInput {
                title: title.into(),
                due_on: due.into(),
                target_org_ids: targets.into_iter().map(String::from).collect(),
                ..TaskInput::default()
            }
            .validate(today)
            .expect_err("invalid");
            assert!(e.get(field).is_some(), "{field}: {e:?}");
        }
        let many: Vec<String> = (1..=5_001).map(|i| i.to_string()).collect();
        let e = TaskInput {
            title: "Việc".into(),
            due_on: "15/12/2026".into(),
            target_org_ids: many,
            ..TaskInput::default()
        }
        .validate(today)
        .expect_err("too many");
        assert!(e.get("target_org_ids").is_some());
    }

    #[test]
    fn r8_1_a_report_is_not_in_the_future_nor_before_the_task() {
        let (today, sent) = (day("30/11/2026"), day("20/11/2026"));
        let r = ReportInput {
            done_on: String::new(),
            people_reached: "1.250".into(),
            note: " Đã quán triệt ở 12 chi bộ ".into(),
        }
        .validate(today, sent)
        .expect("valid");
        assert_eq!(r.done_on, today, "empty: today");
        assert_eq!(r.people_reached, Some(1250));
        assert_eq!(r.note.as_deref(), Some("Đã quán triệt ở 12 chi bộ"));
        for (done, people, field) in [
            ("01/12/2026", "", "done_on"),
            ("19/11/2026", "", "done_on"),
            ("", "-1", "people_reached"),
            ("", "một trăm", "people_reached"),
            ("", "10000001", "people_reached"),
        ] {
            let e = ReportInput {
                done_on: done.into(),
                people_reached: people.into(),
                note: String::new(),
            }
            .validate(today, sent)
            .expect_err("invalid");
            assert!(e.get(field).is_some(), "{field}: {e:?}");
        }
    }

    #[test]
    fn r8_1_state_is_computed_from_the_dates() {
        let due = day("10/12/2026");
        assert_eq!(
            TargetState::of(due, None, day("10/12/2026")),
            TargetState::Open
        );
        assert_eq!(
            TargetState::of(due, None, day("11/12/2026")),
            TargetState::Overdue
        );
        assert_eq!(
            TargetState::of(due, Some(day("10/12/2026")), day("20/12/2026")),
            TargetState::Done
        );
        assert_eq!(
            TargetState::of(due, Some(day("11/12/2026")), day("20/12/2026")),
            TargetState::DoneLate
        );
        assert!(TargetState::DoneLate.is_done() && !TargetState::Overdue.is_done());
        assert_eq!(percent_done(2, 3), 66);
        assert_eq!(percent_done(999, 1000), 99);
        assert_eq!(percent_done(0, 0), 0);
        assert_eq!(percent_done(5, 5), 100);
    }
}
