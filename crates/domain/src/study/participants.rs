//! Who belongs on a participant list (R2.1, R2.5, R3.3).

use std::collections::BTreeSet;

use serde::Serialize;

use crate::ids::ResolutionId;
use crate::org::ManagementLevel;

/// Which people of the chosen organizations a list takes (R2.1, R2.2): everyone, or only those
/// managed at the given levels.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AudienceRule {
    /// Empty means every member.
    pub management_levels: BTreeSet<ManagementLevel>,
}

impl AudienceRule {
    pub fn matches(&self, level: ManagementLevel) -> bool {
        self.management_levels.is_empty() || self.management_levels.contains(&level)
    }
}

/// Why a person was left off a generated list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Exclusion {
    /// R3.3: exempt from party activities.
    Exempt,
    /// R2.5: already completed every resolution of the class in another organizer's class.
    CompletedElsewhere,
    /// Outside the audience rule.
    NotInAudience,
}

impl Exclusion {
    pub fn label(self) -> &'static str {
        match self {
            Self::Exempt => "Được miễn sinh hoạt đảng",
            Self::CompletedElsewhere => {
                "Đã học tập nội dung này ở lớp khác (ngành dọc hoặc nơi khác)"
            }
            Self::NotInAudience => "Không thuộc đối tượng của lớp",
        }
    }
}

/// What the list generator knows about one candidate.
#[derive(Debug, Clone)]
pub struct Candidate<'a> {
    pub exempt_from_activities: bool,
    pub management_level: ManagementLevel,
    /// Resolutions this person completed in classes of other organizers.
    pub completed_elsewhere: &'a BTreeSet<ResolutionId>,
}

/// Decides whether a candidate goes on the list. `include_completed` is the manual override of
/// R2.5 ("study it again anyway").
pub fn exclusion(
    c: &Candidate<'_>,
    rule: &AudienceRule,
    class_resolutions: &BTreeSet<ResolutionId>,
    include_completed: bool,
) -> Option<Exclusion> {
    if c.exempt_from_activities {
        return Some(Exclusion::Exempt);
    }
    if !rule.matches(c.management_level) {
        return Some(Exclusion::NotInAudience);
    }
    let all_done =
        !class_resolutions.is_empty() && class_resolutions.is_subset(c.completed_elsewhere);
    if all_done && !include_completed {
        return Some(Exclusion::CompletedElsewhere);
    }
    None
}

/// R2.1: how many people a venue of `capacity` cannot seat (never silently cut).
pub fn overflow(participants: usize, capacity: Option<u32>) -> Option<usize> {
    let cap = usize::try_from(capacity?).ok()?;
    (participants > cap).then(|| participants - cap)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(ids: &[i64]) -> BTreeSet<ResolutionId> {
        ids.iter().copied().map(ResolutionId).collect()
    }

    fn cand(exempt: bool, done: &BTreeSet<ResolutionId>) -> Candidate<'_> {
        Candidate {
            exempt_from_activities: exempt,
            management_level: ManagementLevel::None,
            completed_elsewhere: done,
        }
    }

    #[test]
    fn r3_3_exempt_members_are_excluded() {
        let none = set(&[]);
        assert_eq!(
            exclusion(
                &cand(true, &none),
                &AudienceRule::default(),
                &set(&[1]),
                true
            ),
            Some(Exclusion::Exempt)
        );
    }

    #[test]
    fn r2_5_completed_all_elsewhere_is_excluded_unless_overridden() {
        let done = set(&[1, 2]);
        let rule = AudienceRule::default();
        assert_eq!(
            exclusion(&cand(false, &done), &rule, &set(&[1, 2]), false),
            Some(Exclusion::CompletedElsewhere)
        );
        assert_eq!(
            exclusion(&cand(false, &done), &rule, &set(&[1, 2]), true),
            None
        );
    }

    #[test]
    fn r2_5_completed_only_part_still_studies() {
        let done = set(&[1]);
        assert_eq!(
            exclusion(
                &cand(false, &done),
                &AudienceRule::default(),
                &set(&[1, 2]),
                false
            ),
            None
        );
    }

    #[test]
    fn r2_1_audience_rule_by_management_level() {
        let none = set(&[]);
        let rule = AudienceRule {
            management_levels: [ManagementLevel::Province].into_iter().collect(),
        };
        assert_eq!(
            exclusion(&cand(false, &none), &rule, &set(&[1]), false),
            Some(Exclusion::NotInAudience)
        );
        let mut c = cand(false, &none);
        c.management_level = ManagementLevel::Province;
        assert_eq!(exclusion(&c, &rule, &set(&[1]), false), None);
    }

    #[test]
    fn r2_1_overflow_is_reported_not_cut() {
        assert_eq!(overflow(120, Some(100)), Some(20));
        assert_eq!(overflow(100, Some(100)), None);
        assert_eq!(overflow(100, None), None);
    }
}
