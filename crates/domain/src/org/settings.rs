//! The settings of a province (R8.3, issue 13.2): what the guideline leaves to each province,
//! kept on its root organization and changed by its admin. The command-line flags give only the
//! defaults of a province that has not set its own.

use crate::error::FieldErrors;
use crate::study::{AudienceTier, Percent};
use crate::text::{optional_text, required_text};
use crate::RuleError;

/// The longest publication deadline accepted, in days.
pub const DEADLINE_MAX: i64 = 60;
/// Levels of the tree that may be named (province, commune, cell, and room to spare).
pub const LEVELS_MAX: usize = 8;
/// The longest level name, and the longest tier name, in characters.
pub const LEVEL_NAME_MAX: usize = 60;
pub const TIER_LABEL_MAX: usize = 100;

/// A province's settings in force.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProvinceSettings {
    /// R3.5: the share of a class's time above which an absentee owes a retake (new classes).
    pub retake_threshold: Percent,
    /// R6.1: days after release by which a resolution must be published.
    pub publication_deadline_days: u32,
    /// The names of the tree's levels from the top (depth 0) down: a new organization whose
    /// level is not named takes the name of its depth (the tree's shape is the province's,
    /// since the district level was abolished in 2025). Empty: the organization's kind names it.
    pub level_names: Vec<String>,
    /// What the province calls each audience tier (R2.7); the tiers' rules do not change.
    pub tier_labels: TierLabels,
    /// The sections every new plan starts with (R8.2: responsibility and inspection).
    pub plan_template: PlanTemplate,
}

/// The longest template section.
pub const TEMPLATE_MAX: usize = 10_000;

/// The default sections of a new action plan (R8.2, R8.3): who answers for what, and how its
/// carrying out is inspected. A province changes them on its settings page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanTemplate {
    pub responsibility: String,
    pub inspection: String,
}

impl Default for PlanTemplate {
    fn default() -> Self {
        Self {
            responsibility: "1. Cấp ủy lãnh đạo, chỉ đạo thực hiện kế hoạch; đồng chí Bí thư chịu trách nhiệm chung, trực tiếp chỉ đạo các nhiệm vụ trọng tâm.\n\
2. Ban Tuyên giáo và Dân vận (bộ phận tuyên giáo) tham mưu, hướng dẫn, theo dõi, tổng hợp kết quả, báo cáo cấp ủy.\n\
3. Các tổ chức đảng trực thuộc xây dựng kế hoạch cụ thể phù hợp với tình hình địa phương, đơn vị; người đứng đầu chịu trách nhiệm về kết quả thực hiện.".into(),
            inspection: "Ủy ban Kiểm tra và các ban tham mưu của cấp ủy kiểm tra, giám sát việc triển khai, thực hiện kế hoạch; sơ kết giữa kỳ, tổng kết khi kết thúc; kết quả thực hiện là một tiêu chí đánh giá, xếp loại tổ chức đảng, đảng viên cuối năm.".into(),
        }
    }
}

impl ProvinceSettings {
    /// The level name of a new organization at `depth`, if the province names that level.
    pub fn level_name(&self, depth: usize) -> Option<&str> {
        self.level_names.get(depth).map(String::as_str)
    }
}

/// The names of the audience tiers, in [`AudienceTier::ALL`] order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TierLabels(Vec<String>);

impl Default for TierLabels {
    /// The guideline's names.
    fn default() -> Self {
        Self(
            AudienceTier::ALL
                .iter()
                .map(|t| t.label().to_string())
                .collect(),
        )
    }
}

impl TierLabels {
    /// The province's name of `tier`.
    pub fn of(&self, tier: AudienceTier) -> &str {
        AudienceTier::ALL
            .iter()
            .position(|t| *t == tier)
            .and_then(|i| self.0.get(i))
            .map_or(tier.label(), String::as_str)
    }

    /// The name of the tier whose code is `code` (a stored class's), or the code itself.
    pub fn of_code<'a>(&'a self, code: &'a str) -> &'a str {
        AudienceTier::parse(code).map_or(code, |t| self.of(t))
    }

    /// Each tier with its name, for a form's choices.
    pub fn pairs(&self) -> Vec<(AudienceTier, String)> {
        AudienceTier::ALL
            .iter()
            .map(|t| (*t, self.of(*t).to_string()))
            .collect()
    }

    /// Sets the name of `tier` (kept as given: the caller has checked it).
    pub fn set(&mut self, tier: AudienceTier, name: String) {
        if let Some(i) = AudienceTier::ALL.iter().position(|t| *t == tier) {
            self.0[i] = name;
        }
    }
}

/// The settings form as typed.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
pub struct SettingsInput {
    pub retake_threshold_percent: String,
    pub publication_deadline_days: String,
    /// One level name a line, from the top down; empty lines at the end are dropped.
    pub level_names: String,
    pub tier_key_cadres: String,
    pub tier_grassroots: String,
    pub tier_public: String,
    /// The plan template's sections; empty: the guideline's default text.
    pub plan_responsibility: String,
    pub plan_inspection: String,
}

/// The form field of each tier's name.
pub fn tier_field(tier: AudienceTier) -> &'static str {
    match tier {
        AudienceTier::KeyCadres => "tier_key_cadres",
        AudienceTier::Grassroots => "tier_grassroots",
        AudienceTier::Public => "tier_public",
    }
}

/// The level names typed one a line: each checked, none empty between named ones.
fn level_names(text: &str) -> Result<Vec<String>, RuleError> {
    let lines: Vec<&str> = text.lines().map(str::trim).collect();
    let used = lines
        .iter()
        .rposition(|l| !l.is_empty())
        .map_or(0, |i| i + 1);
    if used > LEVELS_MAX {
        return Err(RuleError::OutOfRange {
            min: 0,
            max: LEVELS_MAX as i64,
        });
    }
    lines[..used]
        .iter()
        .map(|l| required_text(l, LEVEL_NAME_MAX))
        .collect()
}

fn whole(s: &str, min: i64, max: i64) -> Result<i64, RuleError> {
    s.trim()
        .parse::<i64>()
        .ok()
        .filter(|n| (min..=max).contains(n))
        .ok_or(RuleError::OutOfRange { min, max })
}

impl SettingsInput {
    /// The form filled with the settings in force.
    pub fn from_settings(s: &ProvinceSettings) -> Self {
        Self {
            retake_threshold_percent: s.retake_threshold.get().to_string(),
            publication_deadline_days: s.publication_deadline_days.to_string(),
            level_names: s.level_names.join("\n"),
            tier_key_cadres: s.tier_labels.of(AudienceTier::KeyCadres).to_string(),
            tier_grassroots: s.tier_labels.of(AudienceTier::Grassroots).to_string(),
            tier_public: s.tier_labels.of(AudienceTier::Public).to_string(),
            plan_responsibility: s.plan_template.responsibility.clone(),
            plan_inspection: s.plan_template.inspection.clone(),
        }
    }

    /// What is typed for `tier`'s name.
    pub fn tier_text(&self, tier: AudienceTier) -> &str {
        match tier {
            AudienceTier::KeyCadres => &self.tier_key_cadres,
            AudienceTier::Grassroots => &self.tier_grassroots,
            AudienceTier::Public => &self.tier_public,
        }
    }

    /// Validates every field; the errors are by field, in Vietnamese.
    pub fn validate(&self) -> Result<ProvinceSettings, FieldErrors> {
        let mut e = FieldErrors::new();
        // A threshold of 0 would send everyone absent for a minute to a retake: 1 to 100.
        let threshold = e.take(
            "retake_threshold_percent",
            whole(&self.retake_threshold_percent, 1, 100).and_then(Percent::new),
        );
        let deadline = e.take(
            "publication_deadline_days",
            whole(&self.publication_deadline_days, 0, DEADLINE_MAX),
        );
        let levels = e.take("level_names", level_names(&self.level_names));
        let mut tiers = TierLabels::default();
        for tier in AudienceTier::ALL {
            // An empty name keeps the guideline's.
            let typed = optional_text(self.tier_text(*tier), TIER_LABEL_MAX);
            if let Some(Some(name)) = e.take(tier_field(*tier), typed) {
                tiers.set(*tier, name);
            }
        }
        let mut plan_template = PlanTemplate::default();
        if let Some(Some(t)) = e.take(
            "plan_responsibility",
            optional_text(&self.plan_responsibility, TEMPLATE_MAX),
        ) {
            plan_template.responsibility = t;
        }
        if let Some(Some(t)) = e.take(
            "plan_inspection",
            optional_text(&self.plan_inspection, TEMPLATE_MAX),
        ) {
            plan_template.inspection = t;
        }
        match (threshold, deadline, levels) {
            (Some(t), Some(d), Some(levels)) if e.is_empty() => Ok(ProvinceSettings {
                retake_threshold: t,
                publication_deadline_days: u32::try_from(d).unwrap_or(0),
                level_names: levels,
                tier_labels: tiers,
                plan_template,
            }),
            _ => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(t: &str, d: &str) -> SettingsInput {
        SettingsInput {
            retake_threshold_percent: t.into(),
            publication_deadline_days: d.into(),
            ..SettingsInput::default()
        }
    }

    #[test]
    fn r8_3_level_names_and_tier_names() {
        let mut i = input("40", "2");
        i.level_names = " Tỉnh \nXã, phường, đặc khu\r\nChi bộ\n\n".into();
        i.tier_public = " Quần chúng nhân dân ".into();
        let s = i.validate().expect("valid");
        assert_eq!(s.level_names, ["Tỉnh", "Xã, phường, đặc khu", "Chi bộ"]);
        assert_eq!(s.level_name(1), Some("Xã, phường, đặc khu"));
        assert_eq!(s.level_name(3), None);
        assert_eq!(
            s.tier_labels.of(AudienceTier::Public),
            "Quần chúng nhân dân"
        );
        // An empty tier name keeps the guideline's.
        assert_eq!(
            s.tier_labels.of(AudienceTier::KeyCadres),
            AudienceTier::KeyCadres.label()
        );
        assert_eq!(s.tier_labels.of_code("public"), "Quần chúng nhân dân");
        assert_eq!(
            SettingsInput::from_settings(&s).validate().expect("again"),
            s
        );
        // A gap between named levels, too many levels, a control character, too long a name.
        for (levels, tier) in [
            ("Tỉnh\n\nChi bộ", ""),
            ("1\n2\n3\n4\n5\n6\n7\n8\n9", ""),
            ("Tỉnh\u{202E}", ""),
            ("", "\u{1b}[31m"),
            ("", &"x".repeat(101)),
        ] {
            let mut bad = input("40", "2");
            bad.level_names = levels.into();
            bad.tier_grassroots = tier.to_string();
            let e = bad.validate().expect_err("invalid");
            let field = if levels.is_empty() {
                "tier_grassroots"
            } else {
                "level_names"
            };
            assert!(e.get(field).is_some(), "{levels:?} {tier:?}: {e:?}");
        }
    }

    #[test]
    fn r8_3_settings_are_checked_by_field() {
        let ok = input(" 30 ", "5").validate().expect("valid");
        assert_eq!(ok.retake_threshold.get(), 30);
        assert_eq!(ok.publication_deadline_days, 5);
        for (t, d, field) in [
            ("0", "2", "retake_threshold_percent"),
            ("101", "2", "retake_threshold_percent"),
            ("bốn mươi", "2", "retake_threshold_percent"),
            ("40", "-1", "publication_deadline_days"),
            ("40", "61", "publication_deadline_days"),
            ("40", "", "publication_deadline_days"),
        ] {
            let e = input(t, d).validate().expect_err("invalid");
            assert!(e.get(field).is_some(), "{t} {d}: {e:?}");
        }
        let back = SettingsInput::from_settings(&ok);
        assert_eq!(back.validate().expect("round trip"), ok);
    }
}
