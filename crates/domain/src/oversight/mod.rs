//! Working groups and their evaluations of the classes of lower levels (R3.2).

use chrono::NaiveDate;

use crate::ids::{ClassId, PersonId};
use crate::plans::action_plans::ids;
use crate::text::{optional_text, parse_date, required_text};
use crate::{FieldErrors, RuleError};

crate::choice!(
    /// The grade a working group gives a class.
    Grade {
        Good = "good" / "Tốt",
        Fair = "fair" / "Khá",
        Pass = "pass" / "Đạt",
        Fail = "fail" / "Chưa đạt",
    }
);

/// A group has 2 or 3 members (R3.2).
pub const GROUP_MIN: usize = 2;
pub const GROUP_MAX: usize = 3;
pub const NAME_MAX: usize = 200;
pub const REMARKS_MAX: usize = 2000;
/// A class's discussion time at most (minutes in a day).
pub const DISCUSSION_MAX: i64 = 1440;

/// A working group as typed.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
pub struct GroupInput {
    pub name: String,
    pub member_ids: Vec<String>,
    pub lead_id: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewGroup {
    pub name: String,
    /// 2 or 3, none twice.
    pub members: Vec<PersonId>,
    /// One of the members.
    pub lead: PersonId,
}

/// The group size rule (R3.2): 2 or 3 people.
pub fn group_size(count: usize) -> Result<usize, RuleError> {
    if (GROUP_MIN..=GROUP_MAX).contains(&count) {
        Ok(count)
    } else {
        Err(RuleError::WorkingGroupSize { count })
    }
}

impl GroupInput {
    pub fn validate(&self) -> Result<NewGroup, FieldErrors> {
        let mut e = FieldErrors::new();
        let name = e.take("name", required_text(&self.name, NAME_MAX));
        let members = e.take(
            "member_ids",
            ids(&self.member_ids, 50)
                .and_then(|v| group_size(v.len()).map(|_| v))
                .map_err(|err| match err {
                    RuleError::TooMany { .. } => RuleError::WorkingGroupSize {
                        count: self.member_ids.len(),
                    },
                    other => other,
                }),
        );
        let lead = e.take(
            "lead_id",
            ids(std::slice::from_ref(&self.lead_id), 1)
                .and_then(|v| v.first().copied().map(PersonId).ok_or(RuleError::Required)),
        );
        if let (Some(m), Some(l)) = (&members, lead) {
            if !m.contains(&l.0) {
                e.add("lead_id", RuleError::GroupLeadNotMember);
            }
        }
        match (name, members, lead) {
            (Some(name), Some(members), Some(lead)) if e.is_empty() => Ok(NewGroup {
                name,
                members: members.into_iter().map(PersonId).collect(),
                lead,
            }),
            _ => Err(e),
        }
    }
}

/// An assignment of a group to a class, as typed.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
pub struct AssignmentInput {
    pub class_id: String,
    pub due_on: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NewAssignment {
    pub class_id: ClassId,
    pub due_on: NaiveDate,
}

impl AssignmentInput {
    pub fn validate(&self) -> Result<NewAssignment, FieldErrors> {
        let mut e = FieldErrors::new();
        let class = e.take(
            "class_id",
            ids(std::slice::from_ref(&self.class_id), 1)
                .and_then(|v| v.first().copied().map(ClassId).ok_or(RuleError::Required)),
        );
        let due = e.take("due_on", parse_date(&self.due_on));
        match (class, due) {
            (Some(class_id), Some(due_on)) if e.is_empty() => {
                Ok(NewAssignment { class_id, due_on })
            }
            _ => Err(e),
        }
    }
}

/// A group's evaluation of a class, as typed (checkboxes arrive only when ticked).
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
pub struct EvaluationInput {
    pub chair_present: bool,
    pub standing_opened: bool,
    pub standing_closed: bool,
    pub discussion_minutes: String,
    pub materials_fit: bool,
    pub grade: String,
    pub remarks: String,
    /// The fixed awareness survey (R3.2), from paper: all empty when none was held.
    pub surveyed: String,
    pub understood_well: String,
    pub understood_partly: String,
    pub understood_poorly: String,
}

/// The fixed awareness survey's tally.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SurveyTally {
    pub surveyed: i64,
    pub well: i64,
    pub partly: i64,
    pub poorly: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evaluation {
    pub chair_present: bool,
    pub standing_opened: bool,
    pub standing_closed: bool,
    pub discussion_minutes: i64,
    pub materials_fit: bool,
    pub grade: Grade,
    pub remarks: Option<String>,
    pub survey: Option<SurveyTally>,
}

fn count(s: &str, max: i64) -> Result<Option<i64>, RuleError> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(None);
    }
    s.parse::<i64>()
        .ok()
        .filter(|n| (0..=max).contains(n))
        .map(Some)
        .ok_or(RuleError::OutOfRange { min: 0, max })
}

/// Survey sheets at most (a class of a whole province).
pub const SURVEY_MAX: i64 = 1_000_000;

impl EvaluationInput {
    pub fn validate(&self) -> Result<Evaluation, FieldErrors> {
        let mut e = FieldErrors::new();
        let discussion = e.take(
            "discussion_minutes",
            count(&self.discussion_minutes, DISCUSSION_MAX)
                .and_then(|v| v.ok_or(RuleError::Required)),
        );
        let grade = e.take("grade", Grade::parse(&self.grade));
        let remarks = e.take("remarks", optional_text(&self.remarks, REMARKS_MAX));
        let surveyed = e.take("surveyed", count(&self.surveyed, SURVEY_MAX));
        let well = e.take("understood_well", count(&self.understood_well, SURVEY_MAX));
        let partly = e.take(
            "understood_partly",
            count(&self.understood_partly, SURVEY_MAX),
        );
        let poorly = e.take(
            "understood_poorly",
            count(&self.understood_poorly, SURVEY_MAX),
        );
        let survey = match (surveyed, well, partly, poorly) {
            (Some(None), Some(None), Some(None), Some(None)) => Some(None),
            (Some(s), Some(w), Some(p), Some(o)) => {
                let surveyed = s.unwrap_or(0);
                let (w, p, o) = (w.unwrap_or(0), p.unwrap_or(0), o.unwrap_or(0));
                if s.is_none() {
                    e.add("surveyed", RuleError::Required);
                    None
                } else if w + p + o > surveyed {
                    e.add("understood_well", RuleError::SurveyExceeds);
                    None
                } else {
                    Some(Some(SurveyTally {
                        surveyed,
                        well: w,
                        partly: p,
                        poorly: o,
                    }))
                }
            }
            _ => None,
        };
        match (discussion, grade, remarks, survey) {
            (Some(discussion_minutes), Some(grade), Some(remarks), Some(survey))
                if e.is_empty() =>
            {
                Ok(Evaluation {
                    chair_present: self.chair_present,
                    standing_opened: self.standing_opened,
                    standing_closed: self.standing_closed,
                    discussion_minutes,
                    materials_fit: self.materials_fit,
                    grade,
                    remarks,
                    survey,
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

    fn group(members: &[&str], lead: &str) -> GroupInput {
        GroupInput {
            name: "Tổ công tác số 1".into(),
            member_ids: members.iter().map(|s| s.to_string()).collect(),
            lead_id: lead.into(),
        }
    }

    #[test]
    fn r3_2_a_group_has_two_or_three_members() {
        assert!(group(&["1", "2"], "1").validate().is_ok());
        assert!(group(&["1", "2", "3"], "3").validate().is_ok());
        for bad in [&["1"][..], &["1", "2", "3", "4"][..]] {
            let e = group(bad, "1").validate().unwrap_err();
            assert!(e.get("member_ids").unwrap().contains("2 hoặc 3"), "{bad:?}");
        }
        // The same person twice is one member.
        assert!(group(&["1", "1"], "1").validate().is_err());
        let e = group(&["1", "2"], "5").validate().unwrap_err();
        assert!(e.get("lead_id").is_some());
    }

    #[test]
    fn r3_2_an_evaluation_checks_its_survey_tally() {
        let mut input = EvaluationInput {
            discussion_minutes: "45".into(),
            grade: "good".into(),
            ..Default::default()
        };
        assert_eq!(input.validate().unwrap().survey, None);
        input.surveyed = "40".into();
        input.understood_well = "30".into();
        input.understood_partly = "11".into();
        assert!(input
            .validate()
            .unwrap_err()
            .get("understood_well")
            .is_some());
        input.understood_partly = "10".into();
        let ok = input.validate().unwrap();
        assert_eq!(ok.survey.unwrap().well, 30);
        input.surveyed = String::new();
        assert!(input.validate().unwrap_err().get("surveyed").is_some());
        input.discussion_minutes = "-5".into();
        assert!(input
            .validate()
            .unwrap_err()
            .get("discussion_minutes")
            .is_some());
    }
}
