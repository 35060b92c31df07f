//! The settings of a province (R8.3, issue 13.2): what the guideline leaves to each province,
//! kept on its root organization and changed by its admin. The command-line flags give only the
//! defaults of a province that has not set its own.

use crate::error::FieldErrors;
use crate::study::Percent;
use crate::RuleError;

/// The longest publication deadline accepted, in days.
pub const DEADLINE_MAX: i64 = 60;

/// A province's settings in force.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProvinceSettings {
    /// R3.5: the share of a class's time above which an absentee owes a retake (new classes).
    pub retake_threshold: Percent,
    /// R6.1: days after release by which a resolution must be published.
    pub publication_deadline_days: u32,
}

/// The settings form as typed.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
pub struct SettingsInput {
    pub retake_threshold_percent: String,
    pub publication_deadline_days: String,
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
        match (threshold, deadline) {
            (Some(t), Some(d)) if e.is_empty() => Ok(ProvinceSettings {
                retake_threshold: t,
                publication_deadline_days: u32::try_from(d).unwrap_or(0),
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
