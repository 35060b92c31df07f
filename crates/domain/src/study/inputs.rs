//! Form and API inputs of the study area, validated into domain values.

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use serde::{Deserialize, Serialize};

use super::{AudienceTier, ClassForm, Percent};
use crate::ids::{OrgId, PersonId, ResolutionId};
use crate::{text, FieldErrors, RuleError};

/// Vietnam's time (Asia/Ho_Chi_Minh): UTC+7 all year, no daylight saving.
pub fn vietnam_offset() -> FixedOffset {
    FixedOffset::east_opt(7 * 3600)
        .unwrap_or_else(|| FixedOffset::east_opt(0).expect("zero offset"))
}

/// A local Vietnamese date and time, as UTC for storage.
pub fn local_to_utc(local: NaiveDateTime) -> DateTime<Utc> {
    match vietnam_offset().from_local_datetime(&local).single() {
        Some(t) => t.with_timezone(&Utc),
        None => Utc.from_utc_datetime(&local),
    }
}

/// A stored UTC time shown in Vietnam's time.
pub fn utc_to_local(t: DateTime<Utc>) -> NaiveDateTime {
    t.with_timezone(&vietnam_offset()).naive_local()
}

/// Resolutions one campaign may bundle (a campaign studies a few; the cap bounds the work).
pub const MAX_CAMPAIGN_RESOLUTIONS: usize = 200;

/// A closed range of days; the end is never before the start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateRange {
    start: NaiveDate,
    end: NaiveDate,
}

impl DateRange {
    pub fn new(start: NaiveDate, end: NaiveDate) -> Result<Self, RuleError> {
        if end < start {
            return Err(RuleError::DateRangeReversed);
        }
        Ok(Self { start, end })
    }
    pub fn start(&self) -> NaiveDate {
        self.start
    }
    pub fn end(&self) -> NaiveDate {
        self.end
    }
}

fn parse_id<T: From<i64>>(s: &str) -> Result<T, RuleError> {
    let t = s.trim();
    if t.is_empty() {
        return Err(RuleError::Required);
    }
    t.parse::<i64>()
        .map(T::from)
        .map_err(|_| RuleError::InvalidChoice)
}

fn parse_optional_id<T: From<i64>>(s: &str) -> Result<Option<T>, RuleError> {
    if s.trim().is_empty() {
        Ok(None)
    } else {
        parse_id(s).map(Some)
    }
}

pub fn parse_int(s: &str, min: i64, max: i64) -> Result<i64, RuleError> {
    let t = s.trim();
    if t.is_empty() {
        return Err(RuleError::Required);
    }
    t.parse::<i64>()
        .ok()
        .filter(|n| (min..=max).contains(n))
        .ok_or(RuleError::OutOfRange { min, max })
}

fn parse_optional_int(s: &str, min: i64, max: i64) -> Result<Option<i64>, RuleError> {
    if s.trim().is_empty() {
        Ok(None)
    } else {
        parse_int(s, min, max).map(Some)
    }
}

/// What the campaign form holds before validation.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct CampaignInput {
    pub name: String,
    /// The organizing organization.
    pub org_id: String,
    /// R1.1: the accountable leader (a person id).
    pub leader_person_id: String,
    pub starts_on: String,
    pub ends_on: String,
    /// R3.1: the resolutions studied in this campaign.
    pub resolution_ids: Vec<String>,
}

/// A validated campaign.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCampaign {
    pub name: String,
    pub org_id: OrgId,
    pub leader_person_id: PersonId,
    pub dates: DateRange,
    pub resolution_ids: Vec<ResolutionId>,
}

impl CampaignInput {
    pub fn validate(&self) -> Result<NewCampaign, FieldErrors> {
        let mut e = FieldErrors::new();
        let name = e.take("name", text::required_text(&self.name, 300));
        let org_id = e.take("org_id", parse_id(&self.org_id));
        let leader = e.take("leader_person_id", parse_id(&self.leader_person_id));
        let start = e.take("starts_on", text::parse_date(&self.starts_on));
        let end = e.take("ends_on", text::parse_date(&self.ends_on));
        let dates = match (start, end) {
            (Some(s), Some(t)) => e.take("ends_on", DateRange::new(s, t)),
            _ => None,
        };
        let mut ids = Vec::new();
        if self.resolution_ids.len() > MAX_CAMPAIGN_RESOLUTIONS {
            // Issue 10.8: 100,000 ids took 13.5 s (a quadratic de-duplication) before failing.
            e.add(
                "resolution_ids",
                format!("Một đợt học tập gồm tối đa {MAX_CAMPAIGN_RESOLUTIONS} văn bản."),
            );
        } else {
            let mut seen = std::collections::HashSet::new();
            for s in self.resolution_ids.iter().filter(|s| !s.trim().is_empty()) {
                if let Some(id) = e.take("resolution_ids", parse_id(s)) {
                    if seen.insert(id) {
                        ids.push(id);
                    }
                }
            }
        }
        if ids.is_empty() && e.get("resolution_ids").is_none() {
            e.add(
                "resolution_ids",
                "Chọn ít nhất một nghị quyết, chỉ thị để học tập.",
            );
        }
        match (name, org_id, leader, dates) {
            (Some(name), Some(org_id), Some(leader_person_id), Some(dates)) if e.is_empty() => {
                Ok(NewCampaign {
                    name,
                    org_id,
                    leader_person_id,
                    dates,
                    resolution_ids: ids,
                })
            }
            _ => Err(e),
        }
    }
}

/// What the class form holds before validation.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct ClassInput {
    pub title: String,
    /// The organizing organization.
    pub org_id: String,
    /// in_person, online or hybrid
    pub form: String,
    /// key_cadres, grassroots or public
    pub audience_tier: String,
    pub venue_name: String,
    pub venue_capacity: String,
    /// R1.3: chair, opening and closing speakers (person ids, optional).
    pub chair_person_id: String,
    pub opening_speaker_id: String,
    pub closing_speaker_id: String,
    /// R3.5: percent of class time; empty takes the configured default.
    pub retake_threshold: String,
}

/// A validated class.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewClass {
    pub title: String,
    pub org_id: OrgId,
    pub form: ClassForm,
    pub audience_tier: AudienceTier,
    pub venue_name: Option<String>,
    pub venue_capacity: Option<u32>,
    pub chair_person_id: Option<PersonId>,
    pub opening_speaker_id: Option<PersonId>,
    pub closing_speaker_id: Option<PersonId>,
    pub retake_threshold: Option<Percent>,
}

impl ClassInput {
    pub fn validate(&self) -> Result<NewClass, FieldErrors> {
        let mut e = FieldErrors::new();
        let title = e.take("title", text::required_text(&self.title, 300));
        let org_id = e.take("org_id", parse_id(&self.org_id));
        let form = e.take("form", ClassForm::parse(&self.form));
        let tier = e.take("audience_tier", AudienceTier::parse(&self.audience_tier));
        let venue_name = e
            .take("venue_name", text::optional_text(&self.venue_name, 300))
            .flatten();
        let capacity = e
            .take(
                "venue_capacity",
                parse_optional_int(&self.venue_capacity, 1, 100_000),
            )
            .flatten();
        if form.is_some_and(ClassForm::has_venue) && venue_name.is_none() {
            e.add("venue_name", "Lớp học trực tiếp cần có địa điểm.");
        }
        let chair = e
            .take("chair_person_id", parse_optional_id(&self.chair_person_id))
            .flatten();
        let opening = e
            .take(
                "opening_speaker_id",
                parse_optional_id(&self.opening_speaker_id),
            )
            .flatten();
        let closing = e
            .take(
                "closing_speaker_id",
                parse_optional_id(&self.closing_speaker_id),
            )
            .flatten();
        let threshold = e
            .take(
                "retake_threshold",
                parse_optional_int(&self.retake_threshold, 1, 100),
            )
            .flatten()
            .and_then(|p| Percent::new(p).ok());
        match (title, org_id, form, tier) {
            (Some(title), Some(org_id), Some(form), Some(audience_tier)) if e.is_empty() => {
                Ok(NewClass {
                    title,
                    org_id,
                    form,
                    audience_tier,
                    venue_name,
                    venue_capacity: capacity.and_then(|c| u32::try_from(c).ok()),
                    chair_person_id: chair,
                    opening_speaker_id: opening,
                    closing_speaker_id: closing,
                    retake_threshold: threshold,
                })
            }
            _ => Err(e),
        }
    }
}

/// What the session form holds before validation.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct SessionInput {
    /// dd/mm/yyyy
    pub date: String,
    /// hh:mm, Vietnam time
    pub start_time: String,
    pub duration_minutes: String,
    pub topic: String,
    /// "true"/"on" when the session is a discussion (R3.1)
    pub is_discussion: Option<String>,
    /// Who presents it (R1.3): a person's id, or empty.
    pub presenter_person_id: String,
    /// "true"/"on" when it carries the key content (R1.3).
    pub key_content: Option<String>,
}

/// A validated session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSession {
    pub starts_at: DateTime<Utc>,
    pub duration_minutes: u32,
    pub topic: String,
    pub is_discussion: bool,
    pub presenter: Option<PersonId>,
    pub key_content: bool,
}

impl SessionInput {
    pub fn validate(&self) -> Result<NewSession, FieldErrors> {
        let mut e = FieldErrors::new();
        let date = e.take("date", text::parse_date(&self.date));
        let time = e.take(
            "start_time",
            NaiveTime::parse_from_str(self.start_time.trim(), "%H:%M")
                .map_err(|_| RuleError::InvalidTime),
        );
        let minutes = e.take(
            "duration_minutes",
            parse_int(&self.duration_minutes, 1, 24 * 60),
        );
        let topic = e.take("topic", text::required_text(&self.topic, 300));
        let is_discussion = matches!(self.is_discussion.as_deref(), Some("true" | "on" | "1"));
        let key_content = matches!(self.key_content.as_deref(), Some("true" | "on" | "1"));
        let presenter = e.take(
            "presenter_person_id",
            crate::plans::action_plans::ids(std::slice::from_ref(&self.presenter_person_id), 1)
                .map(|v| v.first().copied().map(PersonId)),
        );
        match (date, time, minutes, topic) {
            (Some(d), Some(t), Some(m), Some(topic)) if e.is_empty() => Ok(NewSession {
                presenter: presenter.flatten(),
                key_content,
                starts_at: local_to_utc(d.and_time(t)),
                duration_minutes: u32::try_from(m).unwrap_or(0),
                topic,
                is_discussion,
            }),
            _ => Err(e),
        }
    }
}

/// What the bridge-point form holds before validation (R2.2).
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct BridgePointInput {
    pub org_id: String,
    pub name: String,
    pub operator_person_id: String,
    pub capacity: String,
}

/// A validated bridge point.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewBridgePoint {
    pub org_id: OrgId,
    pub name: String,
    pub operator_person_id: Option<PersonId>,
    pub capacity: Option<u32>,
}

impl BridgePointInput {
    pub fn validate(&self) -> Result<NewBridgePoint, FieldErrors> {
        let mut e = FieldErrors::new();
        let org_id = e.take("org_id", parse_id(&self.org_id));
        let name = e.take("name", text::required_text(&self.name, 300));
        let operator = e
            .take(
                "operator_person_id",
                parse_optional_id(&self.operator_person_id),
            )
            .flatten();
        let capacity = e
            .take("capacity", parse_optional_int(&self.capacity, 1, 100_000))
            .flatten();
        match (org_id, name) {
            (Some(org_id), Some(name)) if e.is_empty() => Ok(NewBridgePoint {
                org_id,
                name,
                operator_person_id: operator,
                capacity: capacity.and_then(|c| u32::try_from(c).ok()),
            }),
            _ => Err(e),
        }
    }
}

/// R3.1: a class (or campaign) whose schedule has no discussion session gets a warning.
pub fn lacks_discussion(sessions: &[bool]) -> bool {
    !sessions.iter().any(|d| *d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_time_is_vietnam_time_stored_as_utc() {
        let s = SessionInput {
            date: "07/02/2026".into(),
            start_time: "07:30".into(),
            duration_minutes: "120".into(),
            topic: "Quán triệt".into(),
            is_discussion: None,
            ..Default::default()
        }
        .validate()
        .expect("valid");
        assert_eq!(s.starts_at.to_rfc3339(), "2026-02-07T00:30:00+00:00");
        assert!(!s.is_discussion);
    }

    #[test]
    fn session_rejects_zero_minutes_and_bad_time() {
        let e = SessionInput {
            date: "x".into(),
            start_time: "25:00".into(),
            duration_minutes: "0".into(),
            ..Default::default()
        }
        .validate()
        .expect_err("invalid");
        for f in ["date", "start_time", "duration_minutes", "topic"] {
            assert!(e.get(f).is_some(), "{f}");
        }
    }

    #[test]
    fn r3_1_campaign_needs_a_resolution_and_ordered_dates() {
        let e = CampaignInput {
            name: "Đợt 1".into(),
            org_id: "1".into(),
            leader_person_id: "2".into(),
            starts_on: "10/02/2026".into(),
            ends_on: "01/02/2026".into(),
            resolution_ids: vec![],
        }
        .validate()
        .expect_err("invalid");
        assert!(e.get("ends_on").is_some());
        assert!(e.get("resolution_ids").is_some());
    }

    #[test]
    fn r3_1_discussion_warning() {
        assert!(lacks_discussion(&[false, false]));
        assert!(lacks_discussion(&[]));
        assert!(!lacks_discussion(&[false, true]));
    }

    #[test]
    fn in_person_class_needs_a_venue() {
        let e = ClassInput {
            title: "Hội nghị".into(),
            org_id: "1".into(),
            form: "in_person".into(),
            audience_tier: "grassroots".into(),
            ..Default::default()
        }
        .validate()
        .expect_err("venue required");
        assert!(e.get("venue_name").is_some());
    }
}
