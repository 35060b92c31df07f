//! Action programs and implementation plans (R1.1, R1.2, R7.1–R7.4, issue 14.1–14.3): owned by
//! an organization, tied to resolutions, with an accountable leader; passed by a collective
//! before they are issued; followed item by item, each item with exactly one lead unit. Where an
//! item stands is computed from its dates and its last report, never typed.

use chrono::NaiveDate;

use crate::error::FieldErrors;
use crate::ids::OrgId;
use crate::text::{optional_text, parse_date, required_text};
use crate::RuleError;

pub const TITLE_MAX: usize = 300;
pub const TEXT_MAX: usize = 20_000;
pub const NOTE_MAX: usize = 5_000;
/// Resolutions one plan carries out, at most.
pub const RESOLUTIONS_MAX: usize = 20;
/// Coordinating units of one item, at most.
pub const COORDINATORS_MAX: usize = 100;
/// Organizations asked in one consultation round, at most.
pub const CONSULTED_MAX: usize = 50;
/// The longest name of a consulted organization.
pub const BODY_NAME_MAX: usize = 200;
/// Evidence files of a progress report: at most this many bytes.
pub const EVIDENCE_MAX_BYTES: usize = 5 * 1024 * 1024;

crate::choice!(
    /// What kind of plan (the glossary's `ActionPlan`); the short form is the grassroots one of
    /// R7.4: what, who, by when.
    PlanKind {
        Program = "program" / "Chương trình hành động",
        Plan = "plan" / "Kế hoạch thực hiện",
        Brief = "brief" / "Kế hoạch ngắn (làm gì, ai làm, khi nào xong)",
    }
);

impl PlanKind {
    /// The letters of the document number ("12-KH/ĐU").
    pub fn number_letters(self) -> &'static str {
        match self {
            Self::Program => "CTr",
            Self::Plan | Self::Brief => "KH",
        }
    }
    /// The word printed above the title.
    pub fn heading(self) -> &'static str {
        match self {
            Self::Program => "CHƯƠNG TRÌNH HÀNH ĐỘNG",
            Self::Plan | Self::Brief => "KẾ HOẠCH",
        }
    }
}

crate::choice!(
    /// Where a plan is in its life (R1.2, R7.2). Each step is recorded and audited.
    PlanStatus {
        Draft = "draft" / "Dự thảo",
        Consultation = "consultation" / "Đang lấy ý kiến",
        Approved = "approved" / "Đã thông qua",
        Issued = "issued" / "Đã ban hành",
        InterimReview = "interim_review" / "Đã sơ kết",
        FinalReview = "final_review" / "Đã tổng kết",
    }
);

crate::choice!(
    /// A step of the lifecycle, as asked for on a form or the API.
    PlanStep {
        Consult = "consult" / "Lấy ý kiến",
        Approve = "approve" / "Thông qua",
        Issue = "issue" / "Ban hành",
        InterimReview = "interim_review" / "Sơ kết",
        FinalReview = "final_review" / "Tổng kết",
    }
);

impl PlanStatus {
    /// Content changes freely only before the collective passes the plan; afterwards only
    /// through a recorded amendment.
    pub fn open_for_edit(self) -> bool {
        matches!(self, Self::Draft | Self::Consultation)
    }

    /// Items take progress reports once the plan is issued, until the final review.
    pub fn takes_reports(self) -> bool {
        matches!(self, Self::Issued | Self::InterimReview)
    }

    /// The status after `step`, or the rule that forbids it from here.
    pub fn after(self, step: PlanStep) -> Result<Self, (&'static str, &'static str)> {
        use PlanStatus as S;
        match (self, step) {
            (S::Draft | S::Consultation, PlanStep::Consult) => Ok(S::Consultation),
            (S::Draft | S::Consultation, PlanStep::Approve) => Ok(S::Approved),
            (S::Approved, PlanStep::Issue) => Ok(S::Issued),
            (S::Draft | S::Consultation, PlanStep::Issue) => Err((
                "plan_not_approved",
                "Chưa ban hành được: kế hoạch phải được tập thể cấp ủy thông qua trước (ghi cơ quan thông qua, ngày họp và số quyết định).",
            )),
            (S::Issued, PlanStep::InterimReview) => Ok(S::InterimReview),
            (S::Issued | S::InterimReview, PlanStep::FinalReview) => Ok(S::FinalReview),
            (_, PlanStep::InterimReview | PlanStep::FinalReview) => Err((
                "plan_not_issued",
                "Chỉ sơ kết, tổng kết kế hoạch đã ban hành (và chưa tổng kết).",
            )),
            _ => Err((
                "plan_step_refused",
                "Bước này không thực hiện được ở tình trạng hiện tại của kế hoạch.",
            )),
        }
    }
}

crate::choice!(
    /// The collective that passed a plan (R1.2).
    ApprovalBody {
        StandingCommittee = "standing_committee" / "Ban Thường vụ",
        ExecutiveCommittee = "executive_committee" / "Ban Chấp hành",
        Cell = "cell" / "Chi bộ (họp chi bộ)",
    }
);

crate::choice!(
    /// What an item of a plan is (R7.3).
    ItemKind {
        Goal = "goal" / "Mục tiêu",
        KeyTask = "key_task" / "Nhiệm vụ trọng tâm",
        Breakthrough = "breakthrough" / "Giải pháp đột phá",
        Task = "task" / "Nhiệm vụ, giải pháp",
    }
);

crate::choice!(
    /// Where an item stands: computed from its dates, its last reported percent and today.
    ItemState {
        NotStarted = "not_started" / "Chưa đến thời gian",
        InProgress = "in_progress" / "Đang thực hiện",
        Done = "done" / "Đã hoàn thành",
        DoneLate = "done_late" / "Hoàn thành muộn",
        Overdue = "overdue" / "Quá hạn",
    }
);

impl ItemState {
    pub fn of(
        starts_on: NaiveDate,
        due_on: NaiveDate,
        done_on: Option<NaiveDate>,
        today: NaiveDate,
    ) -> Self {
        match done_on {
            Some(d) if d <= due_on => Self::Done,
            Some(_) => Self::DoneLate,
            None if today > due_on => Self::Overdue,
            None if today < starts_on => Self::NotStarted,
            None => Self::InProgress,
        }
    }
}

/// A document number in the Party form: "12-KH/ĐU", "05-CTr/TU", "45-NQ/ĐU" (the "Số" before it
/// is dropped). Digits, a dash, the letters of the kind, then one or more "/issuer" parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocNumber(String);

impl DocNumber {
    pub fn parse(s: &str) -> Result<Self, RuleError> {
        let s = crate::text::compose(s.trim());
        let s = s
            .strip_prefix("Số")
            .or_else(|| s.strip_prefix("số"))
            .unwrap_or(&s)
            .trim()
            .to_string();
        if s.is_empty() {
            return Err(RuleError::Required);
        }
        let ok = (|| {
            let (n, rest) = s.split_once('-')?;
            if n.is_empty() || n.len() > 6 || !n.chars().all(|c| c.is_ascii_digit()) {
                return None;
            }
            let mut parts = rest.split('/');
            let letters = parts.next()?;
            let word = |p: &str| {
                !p.is_empty() && p.chars().count() <= 12 && p.chars().all(char::is_alphanumeric)
            };
            if !word(letters) {
                return None;
            }
            let mut issuers = 0;
            for p in parts {
                if !word(p) {
                    return None;
                }
                issuers += 1;
            }
            (issuers >= 1).then_some(())
        })();
        match ok {
            Some(()) => Ok(Self(s)),
            None => Err(RuleError::InvalidDocNumber),
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Ids typed as text (a form's ticked boxes): numbers, repeats dropped, at most `max`.
pub fn ids(list: &[String], max: usize) -> Result<Vec<i64>, RuleError> {
    let mut out: Vec<i64> = Vec::new();
    for s in list.iter().map(|s| s.trim()).filter(|s| !s.is_empty()) {
        let id = s
            .parse::<i64>()
            .ok()
            .filter(|n| *n > 0)
            .ok_or(RuleError::InvalidChoice)?;
        if !out.contains(&id) {
            out.push(id);
        }
        if out.len() > max {
            return Err(RuleError::TooMany { max });
        }
    }
    Ok(out)
}

/// A plan's heading fields as typed.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
pub struct PlanInput {
    pub kind: String,
    pub title: String,
    pub summary: String,
    /// The accountable leader (R1.1): a person of the owning organization's subtree.
    pub leader_person_id: String,
    pub resolution_ids: Vec<String>,
    /// "Tổ chức thực hiện" (who answers for what) and "Kiểm tra, giám sát" (R8.2): the
    /// province's template text unless changed.
    pub responsibility: String,
    pub inspection: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPlan {
    pub kind: PlanKind,
    pub title: String,
    pub summary: Option<String>,
    pub leader_person_id: i64,
    pub resolution_ids: Vec<i64>,
    pub responsibility: Option<String>,
    pub inspection: Option<String>,
}

impl PlanInput {
    pub fn validate(&self) -> Result<NewPlan, FieldErrors> {
        let mut e = FieldErrors::new();
        let kind = e.take("kind", PlanKind::parse(&self.kind));
        let title = e.take("title", required_text(&self.title, TITLE_MAX));
        let summary = e.take("summary", optional_text(&self.summary, TEXT_MAX));
        let leader = e.take(
            "leader_person_id",
            if self.leader_person_id.trim().is_empty() {
                Err(RuleError::Required)
            } else {
                self.leader_person_id
                    .trim()
                    .parse::<i64>()
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or(RuleError::InvalidChoice)
            },
        );
        let resolutions = e.take(
            "resolution_ids",
            ids(&self.resolution_ids, RESOLUTIONS_MAX).and_then(|v| {
                if v.is_empty() {
                    Err(RuleError::NoResolution)
                } else {
                    Ok(v)
                }
            }),
        );
        let responsibility = e.take(
            "responsibility",
            optional_text(&self.responsibility, TEXT_MAX),
        );
        let inspection = e.take("inspection", optional_text(&self.inspection, TEXT_MAX));
        match (
            kind,
            title,
            summary,
            leader,
            resolutions,
            responsibility,
            inspection,
        ) {
            (
                Some(kind),
                Some(title),
                Some(summary),
                Some(leader_person_id),
                Some(resolution_ids),
                Some(responsibility),
                Some(inspection),
            ) if e.is_empty() => Ok(NewPlan {
                kind,
                title,
                summary,
                leader_person_id,
                resolution_ids,
                responsibility,
                inspection,
            }),
            _ => Err(e),
        }
    }
}

/// An item as typed. The lead is a list so that a second lead unit is seen and refused, not
/// silently dropped.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
pub struct ItemInput {
    pub kind: String,
    pub title: String,
    pub lead_org_id: Vec<String>,
    pub coordinating_org_ids: Vec<String>,
    pub resources: String,
    pub responsible: String,
    pub starts_on: String,
    pub due_on: String,
    /// For a plan already passed: the amendment that makes this change.
    pub amendment_id: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewItem {
    pub kind: ItemKind,
    pub title: String,
    pub lead: OrgId,
    /// Never the lead, none twice.
    pub coordinators: Vec<OrgId>,
    pub resources: Option<String>,
    pub responsible: Option<String>,
    pub starts_on: NaiveDate,
    pub due_on: NaiveDate,
    pub amendment_id: Option<i64>,
}

impl ItemInput {
    pub fn validate(&self) -> Result<NewItem, FieldErrors> {
        let mut e = FieldErrors::new();
        let kind = e.take("kind", ItemKind::parse(&self.kind));
        let title = e.take("title", required_text(&self.title, TITLE_MAX));
        let lead = e.take(
            "lead_org_id",
            ids(&self.lead_org_id, 1).map_err(|err| match err {
                RuleError::TooMany { .. } => RuleError::SecondLead,
                other => other,
            }),
        );
        let lead = match lead {
            Some(v) if v.is_empty() => {
                e.add("lead_org_id", RuleError::NoLead);
                None
            }
            Some(v) => v.first().copied().map(OrgId),
            None => None,
        };
        let coordinators = e.take(
            "coordinating_org_ids",
            ids(&self.coordinating_org_ids, COORDINATORS_MAX),
        );
        let coordinators = match (coordinators, lead) {
            (Some(c), Some(l)) if c.contains(&l.0) => {
                e.add("coordinating_org_ids", RuleError::LeadAlsoCoordinating);
                None
            }
            (Some(c), _) => Some(c.into_iter().map(OrgId).collect::<Vec<_>>()),
            (None, _) => None,
        };
        let resources = e.take("resources", optional_text(&self.resources, NOTE_MAX));
        let responsible = e.take("responsible", optional_text(&self.responsible, NOTE_MAX));
        let starts = e.take("starts_on", parse_date(&self.starts_on));
        let due = e.take("due_on", parse_date(&self.due_on));
        if let (Some(s), Some(d)) = (starts, due) {
            if d < s {
                e.add("due_on", RuleError::DueBeforeStart);
            }
        }
        let amendment = e.take(
            "amendment_id",
            ids(std::slice::from_ref(&self.amendment_id), 1).map(|v| v.first().copied()),
        );
        match (
            kind,
            title,
            lead,
            coordinators,
            resources,
            responsible,
            starts,
            due,
            amendment,
        ) {
            (
                Some(kind),
                Some(title),
                Some(lead),
                Some(coordinators),
                Some(resources),
                Some(responsible),
                Some(starts_on),
                Some(due_on),
                Some(amendment_id),
            ) if e.is_empty() => Ok(NewItem {
                kind,
                title,
                lead,
                coordinators,
                resources,
                responsible,
                starts_on,
                due_on,
                amendment_id,
            }),
            _ => Err(e),
        }
    }
}

/// A progress report on an item, as typed by its lead unit.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
pub struct ProgressInput {
    pub percent: String,
    /// Empty: today.
    pub reported_on: String,
    pub note: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Progress {
    pub percent: i64,
    pub reported_on: NaiveDate,
    pub note: Option<String>,
}

impl ProgressInput {
    /// `issued_on`: a report may not be dated before the plan was issued.
    pub fn validate(
        &self,
        today: NaiveDate,
        issued_on: NaiveDate,
    ) -> Result<Progress, FieldErrors> {
        let mut e = FieldErrors::new();
        let percent = e.take(
            "percent",
            self.percent
                .trim()
                .trim_end_matches('%')
                .trim()
                .parse::<i64>()
                .ok()
                .filter(|n| (0..=100).contains(n))
                .ok_or(RuleError::OutOfRange { min: 0, max: 100 }),
        );
        let on = if self.reported_on.trim().is_empty() {
            Some(today)
        } else {
            e.take(
                "reported_on",
                parse_date(&self.reported_on).and_then(|d| {
                    if d > today {
                        Err(RuleError::DoneInFuture)
                    } else if d < issued_on {
                        Err(RuleError::ReportBeforeIssued)
                    } else {
                        Ok(d)
                    }
                }),
            )
        };
        let note = e.take("note", optional_text(&self.note, NOTE_MAX));
        match (percent, on, note) {
            (Some(percent), Some(reported_on), Some(note)) if e.is_empty() => Ok(Progress {
                percent,
                reported_on,
                note,
            }),
            _ => Err(e),
        }
    }
}

/// A step of the lifecycle with what it records, as typed.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
pub struct StepInput {
    pub step: String,
    /// consult: the organizations asked, one a line (the Fatherland Front, the unions…).
    pub consulted: String,
    /// approve: the collective.
    pub approval_body: String,
    /// The date of the step (the meeting, the issue, the review); empty: today.
    pub on: String,
    /// approve: the decision's number; issue: the plan's own number.
    pub number: String,
    /// interim/final review: what the review found.
    pub note: String,
}

/// A checked step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    Consult {
        asked_on: NaiveDate,
        bodies: Vec<String>,
    },
    Approve {
        body: ApprovalBody,
        met_on: NaiveDate,
        decision: DocNumber,
    },
    Issue {
        issued_on: NaiveDate,
        number: DocNumber,
    },
    Review {
        final_review: bool,
        on: NaiveDate,
        note: String,
    },
}

impl Step {
    pub fn kind(&self) -> PlanStep {
        match self {
            Self::Consult { .. } => PlanStep::Consult,
            Self::Approve { .. } => PlanStep::Approve,
            Self::Issue { .. } => PlanStep::Issue,
            Self::Review {
                final_review: false,
                ..
            } => PlanStep::InterimReview,
            Self::Review { .. } => PlanStep::FinalReview,
        }
    }
    pub fn on(&self) -> NaiveDate {
        match self {
            Self::Consult { asked_on: d, .. }
            | Self::Approve { met_on: d, .. }
            | Self::Issue { issued_on: d, .. }
            | Self::Review { on: d, .. } => *d,
        }
    }
}

impl StepInput {
    pub fn validate(&self, today: NaiveDate) -> Result<Step, FieldErrors> {
        let mut e = FieldErrors::new();
        let step = e.take("step", PlanStep::parse(&self.step));
        let on = if self.on.trim().is_empty() {
            Some(today)
        } else {
            e.take(
                "on",
                parse_date(&self.on).and_then(|d| {
                    if d > today {
                        Err(RuleError::DateInFuture)
                    } else {
                        Ok(d)
                    }
                }),
            )
        };
        let (Some(step), Some(on)) = (step, on) else {
            return Err(e);
        };
        let out = match step {
            PlanStep::Consult => {
                let mut bodies: Vec<String> = Vec::new();
                for line in self.consulted.lines() {
                    match required_text(line, BODY_NAME_MAX) {
                        Ok(b) if !bodies.contains(&b) => bodies.push(b),
                        Ok(_) | Err(RuleError::Required) => {}
                        Err(err) => {
                            e.add("consulted", err);
                        }
                    }
                }
                if bodies.is_empty() {
                    e.add("consulted", RuleError::Required);
                } else if bodies.len() > CONSULTED_MAX {
                    e.add("consulted", RuleError::TooMany { max: CONSULTED_MAX });
                }
                Step::Consult {
                    asked_on: on,
                    bodies,
                }
            }
            PlanStep::Approve => {
                let body = e.take("approval_body", ApprovalBody::parse(&self.approval_body));
                let decision = e.take("number", DocNumber::parse(&self.number));
                match (body, decision) {
                    (Some(body), Some(decision)) => Step::Approve {
                        body,
                        met_on: on,
                        decision,
                    },
                    _ => return Err(e),
                }
            }
            PlanStep::Issue => match e.take("number", DocNumber::parse(&self.number)) {
                Some(number) => Step::Issue {
                    issued_on: on,
                    number,
                },
                None => return Err(e),
            },
            PlanStep::InterimReview | PlanStep::FinalReview => {
                match e.take("note", required_text(&self.note, TEXT_MAX)) {
                    Some(note) => Step::Review {
                        final_review: step == PlanStep::FinalReview,
                        on,
                        note,
                    },
                    None => return Err(e),
                }
            }
        };
        e.into_result().map(|()| out)
    }
}

/// An answer of a consulted organization, as typed.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
pub struct AnswerInput {
    pub answered_on: String,
    pub answer: String,
}

impl AnswerInput {
    pub fn validate(
        &self,
        today: NaiveDate,
        asked_on: NaiveDate,
    ) -> Result<(NaiveDate, String), FieldErrors> {
        let mut e = FieldErrors::new();
        let on = if self.answered_on.trim().is_empty() {
            Some(today)
        } else {
            e.take(
                "answered_on",
                parse_date(&self.answered_on).and_then(|d| {
                    if d > today {
                        Err(RuleError::DateInFuture)
                    } else if d < asked_on {
                        Err(RuleError::AnswerBeforeAsked)
                    } else {
                        Ok(d)
                    }
                }),
            )
        };
        let answer = e.take("answer", required_text(&self.answer, TEXT_MAX));
        match (on, answer) {
            (Some(on), Some(a)) if e.is_empty() => Ok((on, a)),
            _ => Err(e),
        }
    }
}

/// An amendment of a passed plan, as typed.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
pub struct AmendmentInput {
    pub number: String,
    pub decided_on: String,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAmendment {
    pub number: DocNumber,
    pub decided_on: NaiveDate,
    pub reason: String,
}

impl AmendmentInput {
    pub fn validate(&self, today: NaiveDate) -> Result<NewAmendment, FieldErrors> {
        let mut e = FieldErrors::new();
        let number = e.take("number", DocNumber::parse(&self.number));
        let on = e.take(
            "decided_on",
            parse_date(&self.decided_on).and_then(|d| {
                if d > today {
                    Err(RuleError::DateInFuture)
                } else {
                    Ok(d)
                }
            }),
        );
        let reason = e.take("reason", required_text(&self.reason, NOTE_MAX));
        match (number, on, reason) {
            (Some(number), Some(decided_on), Some(reason)) if e.is_empty() => Ok(NewAmendment {
                number,
                decided_on,
                reason,
            }),
            _ => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().expect("date")
    }

    #[test]
    fn r7_3_item_state_is_computed_from_dates() {
        let (s, due) = (d("2026-03-01"), d("2026-06-30"));
        assert_eq!(
            ItemState::of(s, due, None, d("2026-02-01")),
            ItemState::NotStarted
        );
        assert_eq!(
            ItemState::of(s, due, None, d("2026-06-30")),
            ItemState::InProgress
        );
        assert_eq!(
            ItemState::of(s, due, None, d("2026-07-01")),
            ItemState::Overdue
        );
        assert_eq!(
            ItemState::of(s, due, Some(d("2026-06-30")), d("2026-09-01")),
            ItemState::Done
        );
        assert_eq!(
            ItemState::of(s, due, Some(d("2026-07-01")), d("2026-09-01")),
            ItemState::DoneLate
        );
    }

    #[test]
    fn doc_numbers_in_the_party_form() {
        assert_eq!(
            DocNumber::parse("Số 12-KH/ĐU").expect("ok").as_str(),
            "12-KH/ĐU"
        );
        assert!(DocNumber::parse("05-CTr/TU").is_ok());
        assert!(DocNumber::parse("45-NQ/ĐU/CB").is_ok());
        for bad in [
            "12",
            "KH/ĐU",
            "12-KH",
            "12-/ĐU",
            "12-KH/",
            "a-KH/ĐU",
            "12-K H/ĐU",
        ] {
            assert_eq!(
                DocNumber::parse(bad),
                Err(RuleError::InvalidDocNumber),
                "{bad}"
            );
        }
        assert_eq!(DocNumber::parse("  "), Err(RuleError::Required));
    }

    #[test]
    fn r7_3_one_lead_unit_and_due_after_start() {
        let mut i = ItemInput {
            kind: "key_task".into(),
            title: "Tuyên truyền".into(),
            lead_org_id: vec!["3".into(), "4".into()],
            coordinating_org_ids: vec!["5".into()],
            starts_on: "01/03/2026".into(),
            due_on: "01/02/2026".into(),
            ..ItemInput::default()
        };
        let e = i.validate().expect_err("two leads, due before start");
        assert_eq!(
            e.get("lead_org_id"),
            Some(RuleError::SecondLead.to_string().as_str())
        );
        assert!(e.get("due_on").is_some());
        i.lead_org_id = vec!["5".into()];
        i.due_on = "30/06/2026".into();
        let e = i.validate().expect_err("lead also coordinating");
        assert!(e.get("coordinating_org_ids").is_some());
        i.lead_org_id = vec!["3".into()];
        let ok = i.validate().expect("valid");
        assert_eq!(ok.lead, OrgId(3));
        assert_eq!(ok.coordinators, vec![OrgId(5)]);
        i.lead_org_id = vec![];
        assert_eq!(
            i.validate().expect_err("no lead").get("lead_org_id"),
            Some(RuleError::NoLead.to_string().as_str())
        );
    }

    #[test]
    fn r1_2_issue_needs_approval_and_reviews_need_issue() {
        use PlanStatus as S;
        assert_eq!(
            S::Draft.after(PlanStep::Issue).map_err(|e| e.0),
            Err("plan_not_approved")
        );
        assert_eq!(S::Consultation.after(PlanStep::Approve), Ok(S::Approved));
        assert_eq!(S::Approved.after(PlanStep::Issue), Ok(S::Issued));
        assert_eq!(
            S::Approved.after(PlanStep::FinalReview).map_err(|e| e.0),
            Err("plan_not_issued")
        );
        assert_eq!(S::Issued.after(PlanStep::FinalReview), Ok(S::FinalReview));
        assert_eq!(
            S::FinalReview
                .after(PlanStep::InterimReview)
                .map_err(|e| e.0),
            Err("plan_not_issued")
        );
        assert!(S::Issued.after(PlanStep::Approve).is_err());
    }

    #[test]
    fn progress_percent_and_dates() {
        let today = d("2026-05-01");
        let p = ProgressInput {
            percent: "60 %".into(),
            reported_on: String::new(),
            note: String::new(),
        };
        assert_eq!(p.validate(today, d("2026-04-01")).expect("ok").percent, 60);
        let bad = ProgressInput {
            percent: "101".into(),
            reported_on: "02/05/2026".into(),
            note: String::new(),
        };
        let e = bad.validate(today, d("2026-04-01")).expect_err("bad");
        assert!(e.get("percent").is_some() && e.get("reported_on").is_some());
    }
}
