//! The catalog of resolutions, directives, conclusions… (R2.7, R2.8, R6.1).

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::auth::Clearance;
use crate::{choice, text, FieldErrors, RuleError};

choice!(
    /// The kind of a catalog entry.
    ResolutionKind {
        Resolution = "resolution" / "Nghị quyết",
        Directive = "directive" / "Chỉ thị",
        Conclusion = "conclusion" / "Kết luận",
        Regulation = "regulation" / "Quy định",
        Guideline = "guideline" / "Hướng dẫn",
    }
);

choice!(
    /// Classification under the law on state secrets. Ranked low to high.
    Classification {
        Public = "public" / "Thường",
        Confidential = "confidential" / "Mật",
        Secret = "secret" / "Tối mật",
        TopSecret = "top_secret" / "Tuyệt mật",
    }
);

impl Classification {
    /// The clearance needed to see the entry at all, title included.
    pub fn required_clearance(self) -> Clearance {
        match self {
            Self::Public => Clearance::None,
            Self::Confidential => Clearance::Confidential,
            Self::Secret => Clearance::Secret,
            Self::TopSecret => Clearance::TopSecret,
        }
    }
    /// R2.8: may a user with `clearance` see an entry of this classification?
    pub fn visible_to(self, clearance: Clearance) -> bool {
        clearance >= self.required_clearance()
    }
    pub fn is_classified(self) -> bool {
        self != Self::Public
    }
    /// Every classification a user with `clearance` may see (for SQL `IN` lists).
    pub fn visible_set(clearance: Clearance) -> impl Iterator<Item = Classification> {
        Self::ALL
            .iter()
            .copied()
            .filter(move |c| c.visible_to(clearance))
    }
}

/// What a user typed into the resolution form (or sent to the API), before validation.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct ResolutionInput {
    pub kind: String,
    pub number: String,
    pub title: String,
    pub issuing_body: String,
    /// dd/mm/yyyy or yyyy-mm-dd
    pub released_on: String,
    pub classification: String,
    /// dd/mm/yyyy or yyyy-mm-dd; empty when not yet published
    pub published_on: String,
    pub summary: String,
}

/// A validated catalog entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewResolution {
    pub kind: ResolutionKind,
    pub number: String,
    pub title: String,
    pub issuing_body: String,
    pub released_on: NaiveDate,
    pub classification: Classification,
    pub published_on: Option<NaiveDate>,
    pub summary: Option<String>,
}

impl ResolutionInput {
    /// Validates every field; the errors are by field, in Vietnamese.
    pub fn validate(&self) -> Result<NewResolution, FieldErrors> {
        let mut e = FieldErrors::new();
        let kind = e.take("kind", ResolutionKind::parse(&self.kind));
        let number = e.take("number", text::required_text(&self.number, 50));
        let title = e.take("title", text::required_text(&self.title, 500));
        let issuing_body = e.take("issuing_body", text::required_text(&self.issuing_body, 200));
        let released_on = e.take("released_on", text::parse_date(&self.released_on));
        let classification = e.take(
            "classification",
            Classification::parse(&self.classification),
        );
        let published_on = e.take(
            "published_on",
            text::parse_optional_date(&self.published_on),
        );
        let summary = e.take("summary", text::optional_text(&self.summary, 5000));
        if let (Some(c), Some(Some(_))) = (classification, &summary) {
            if c.is_classified() {
                e.add("summary", RuleError::ClassifiedContentRefused);
            }
        }
        if let (Some(r), Some(Some(p))) = (released_on, published_on) {
            if p < r {
                e.add("published_on", RuleError::DateRangeReversed);
            }
        }
        match (
            kind,
            number,
            title,
            issuing_body,
            released_on,
            classification,
            published_on,
            summary,
        ) {
            (
                Some(kind),
                Some(number),
                Some(title),
                Some(issuing_body),
                Some(released_on),
                Some(classification),
                Some(published_on),
                Some(summary),
            ) if e.is_empty() => Ok(NewResolution {
                kind,
                number,
                title,
                issuing_body,
                released_on,
                classification,
                published_on,
                summary,
            }),
            _ => Err(e),
        }
    }
}

/// R6.1: is the media publication overdue `deadline_days` after release (as of `today`)?
pub fn publication_overdue(
    classification: Classification,
    released_on: NaiveDate,
    published_on: Option<NaiveDate>,
    deadline_days: u32,
    today: NaiveDate,
) -> bool {
    if classification.is_classified() || published_on.is_some() {
        return false;
    }
    (today - released_on).num_days() > i64::from(deadline_days)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> ResolutionInput {
        ResolutionInput {
            kind: "directive".into(),
            number: "08-CT/TU".into(),
            title: "Về tăng cường sự lãnh đạo".into(),
            issuing_body: "Tỉnh ủy".into(),
            released_on: "10/11/2021".into(),
            classification: "public".into(),
            published_on: "".into(),
            summary: "Tóm tắt".into(),
        }
    }

    #[test]
    fn r2_8_clearance_decides_visibility() {
        assert!(Classification::Public.visible_to(Clearance::None));
        assert!(!Classification::Confidential.visible_to(Clearance::None));
        assert!(Classification::Secret.visible_to(Clearance::Secret));
        assert!(!Classification::TopSecret.visible_to(Clearance::Secret));
        let seen: Vec<_> = Classification::visible_set(Clearance::Confidential).collect();
        assert_eq!(seen, [Classification::Public, Classification::Confidential]);
    }

    #[test]
    fn r2_8_classified_entries_refuse_content() {
        let mut i = input();
        i.classification = "secret".into();
        let err = i.validate().expect_err("summary refused");
        assert!(err.get("summary").is_some());
        i.summary.clear();
        assert!(i.validate().is_ok());
    }

    #[test]
    fn every_bad_field_is_reported() {
        let i = ResolutionInput {
            released_on: "32/01/2020".into(),
            ..Default::default()
        };
        let err = i.validate().expect_err("invalid");
        for f in [
            "kind",
            "number",
            "title",
            "issuing_body",
            "released_on",
            "classification",
        ] {
            assert!(err.get(f).is_some(), "{f}");
        }
    }

    #[test]
    fn r6_1_publication_deadline() {
        let d = |s| text::parse_date(s).expect("date");
        let rel = d("01/03/2026");
        assert!(!publication_overdue(
            Classification::Public,
            rel,
            None,
            2,
            d("03/03/2026")
        ));
        assert!(publication_overdue(
            Classification::Public,
            rel,
            None,
            2,
            d("04/03/2026")
        ));
        assert!(!publication_overdue(
            Classification::Secret,
            rel,
            None,
            2,
            d("04/03/2026")
        ));
        assert!(!publication_overdue(
            Classification::Public,
            rel,
            Some(rel),
            2,
            d("04/03/2026")
        ));
    }
}
