//! The organization tree and its people (R2.x, R5.2). The tree has any depth and its level names
//! are data ("Tỉnh ủy", "Đảng ủy xã", "Chi bộ"…), since the district level was abolished in 2025.

pub mod import;
pub mod letterhead;
pub mod names;
pub mod positions;
pub mod settings;

use crate::{choice, text, RuleError};

choice!(
    /// What kind of party organization a node is.
    OrgKind {
        PartyCommittee = "party_committee" / "Đảng bộ (cấp ủy)",
        Grassroots = "grassroots" / "Tổ chức cơ sở đảng",
        Cell = "cell" / "Chi bộ",
        Agency = "agency" / "Cơ quan tham mưu",
        VerticalSector = "vertical_sector" / "Ngành dọc",
    }
);

choice!(
    /// Gender as recorded in the member register.
    Gender {
        Male = "male" / "Nam",
        Female = "female" / "Nữ",
    }
);

choice!(
    /// Which body manages a cadre (diện … quản lý); drives the audience rules of R2.1–R2.2.
    /// Declared from the lowest to the highest, so `Ord` compares rank.
    ManagementLevel {
        None = "none" / "Đảng viên",
        Grassroots = "grassroots" / "Diện cấp ủy cơ sở quản lý",
        Commune = "commune" / "Diện Ban Thường vụ Đảng ủy xã quản lý",
        Province = "province" / "Diện Ban Thường vụ Tỉnh ủy quản lý",
    }
);

choice!(
    /// Where a member stands in the register. Leaving is a status with a date, never a deletion.
    MemberStatus {
        Active = "active" / "Đang sinh hoạt",
        Moved = "moved" / "Đã chuyển sinh hoạt đi",
        Deceased = "deceased" / "Đã từ trần",
        Left = "left" / "Đã ra khỏi Đảng",
    }
);

/// A status change as entered, before validation.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct StatusInput {
    /// active, moved, deceased, left
    pub status: String,
    /// dd/mm/yyyy or yyyy-mm-dd; required unless active
    pub date: String,
    pub note: String,
}

/// A validated status change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusChange {
    pub status: MemberStatus,
    pub on: Option<chrono::NaiveDate>,
    pub note: String,
}

impl StatusInput {
    pub fn validate(&self) -> Result<StatusChange, crate::FieldErrors> {
        let mut e = crate::FieldErrors::new();
        let status = e.take("status", MemberStatus::parse(&self.status));
        let on = e
            .take("date", text::parse_optional_date(&self.date))
            .flatten();
        let note = e
            .take("note", text::optional_text(&self.note, 500))
            .flatten()
            .unwrap_or_default();
        if status.is_some_and(|s| s != MemberStatus::Active)
            && on.is_none()
            && e.get("date").is_none()
        {
            e.add("date", "Cần ghi ngày chuyển đi, từ trần hoặc ra khỏi Đảng.");
        }
        match status {
            Some(status) if e.is_empty() => Ok(StatusChange { status, on, note }),
            _ => Err(e),
        }
    }
}

/// A person's record as corrected on their page or through the API (issue 11.7).
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct PersonEditInput {
    pub full_name: String,
    /// dd/mm/yyyy or yyyy-mm-dd; empty when unknown
    pub birth_date: String,
    /// male or female
    pub gender: String,
    pub ethnicity: String,
    /// 6 to 12 digits; empty when none
    pub party_card_number: String,
    pub positions: String,
    pub home_town: String,
    /// Date of joining the Party (ngày vào Đảng), dd/mm/yyyy; empty when unknown
    pub joined_on: String,
    /// Date of becoming a full member (ngày chính thức), dd/mm/yyyy; empty when unknown
    pub official_on: String,
}

/// A validated correction of a person's record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonEdit {
    pub full_name: String,
    pub birth_date: Option<chrono::NaiveDate>,
    pub gender: Gender,
    pub ethnicity: String,
    pub party_card_number: Option<String>,
    pub positions: String,
    pub home_town: String,
    pub joined_on: Option<chrono::NaiveDate>,
    pub official_on: Option<chrono::NaiveDate>,
}

impl PersonEditInput {
    pub fn validate(&self) -> Result<PersonEdit, crate::FieldErrors> {
        let mut e = crate::FieldErrors::new();
        let full_name = e.take("full_name", text::required_text(&self.full_name, 160));
        let birth_date = e
            .take("birth_date", text::parse_optional_date(&self.birth_date))
            .flatten();
        let gender = e.take("gender", Gender::parse(&self.gender));
        let ethnicity = e
            .take("ethnicity", text::optional_text(&self.ethnicity, 60))
            .flatten()
            .unwrap_or_default();
        let card = if self.party_card_number.trim().is_empty() {
            None
        } else {
            e.take(
                "party_card_number",
                PartyCardNumber::parse(&self.party_card_number),
            )
            .map(|c| c.as_str().to_string())
        };
        let positions = e
            .take("positions", text::optional_text(&self.positions, 300))
            .flatten()
            .unwrap_or_default();
        let home_town = e
            .take("home_town", text::optional_text(&self.home_town, 300))
            .flatten()
            .unwrap_or_default();
        let joined_on = e
            .take("joined_on", text::parse_optional_date(&self.joined_on))
            .flatten();
        let official_on = e
            .take("official_on", text::parse_optional_date(&self.official_on))
            .flatten();
        // The same rules as the member import (issue 11.7).
        if let (Some(j), Some(o)) = (joined_on, official_on) {
            if o < j {
                e.add(
                    "official_on",
                    "Ngày chính thức không được trước ngày vào Đảng.",
                );
            }
        }
        if let (Some(b), Some(j)) = (birth_date, joined_on) {
            if j <= b {
                e.add("joined_on", "Ngày vào Đảng phải sau ngày sinh.");
            }
        }
        match (full_name, gender) {
            (Some(full_name), Some(gender)) if e.is_empty() => Ok(PersonEdit {
                full_name,
                birth_date,
                gender,
                ethnicity,
                party_card_number: card,
                positions,
                home_town,
                joined_on,
                official_on,
            }),
            _ => Err(e),
        }
    }
}

/// A party card number (số thẻ đảng viên): 6 to 12 digits, leading zeros kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartyCardNumber(String);

impl PartyCardNumber {
    /// Accepts digits with optional dots or spaces between them ("52.012345").
    pub fn parse(s: &str) -> Result<Self, RuleError> {
        let digits: String = s.chars().filter(|c| !matches!(c, '.' | ' ')).collect();
        if (6..=12).contains(&digits.len()) && digits.chars().all(|c| c.is_ascii_digit()) {
            Ok(Self(digits))
        } else {
            Err(RuleError::InvalidPartyCardNumber)
        }
    }
    /// The number as one integer that keeps its leading zeros (the digits, then their count in
    /// the low four bits): an exact key for finding duplicates among millions of rows.
    pub fn key(digits: &str) -> Option<u64> {
        if !(1..=15).contains(&digits.len()) || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let value: u64 = digits.parse().ok()?;
        Some(value << 4 | digits.len() as u64)
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A person's name as written (`full`) and in its three sorting parts, as Vietnamese forms keep
/// them. The parts decide the order; the full name is shown. They differ for Ê Đê and Gia Rai
/// names: "Y Blô Kpă" is written so, and sorts by its given name Blô.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonName {
    pub full: String,
    pub family: String,
    pub middle: String,
    pub given: String,
}

impl PersonName {
    /// From separate parts; the given name is required.
    pub fn from_parts(family: &str, middle: &str, given: &str) -> Result<Self, RuleError> {
        let given = text::required_text(given, 40)?;
        let family = text::optional_text(family, 40)?.unwrap_or_default();
        let middle = text::optional_text(middle, 80)?.unwrap_or_default();
        Ok(Self {
            full: text::join_name(&family, &middle, &given),
            family,
            middle,
            given,
        })
    }
    /// A name written one way and sorted by parts given by hand ("Y Blô Kpă": Kpă, Y, Blô).
    pub fn written_as(
        full: &str,
        family: &str,
        middle: &str,
        given: &str,
    ) -> Result<Self, RuleError> {
        let mut n = Self::from_parts(family, middle, given)?;
        n.full = text::required_text(full, 160)?;
        // Issue 11.5: a correction only regroups the written words ("Foo"/"Bar" for "Phạm Đức
        // Bình" was accepted); the same words, in any grouping, case aside. An apostrophe joins
        // a prefix as a space does ("H'Hen" = "H" + "Hen", names.md).
        let words = |s: &str| {
            let mut w: Vec<String> = text::compose(s)
                .split(|c: char| c.is_whitespace() || matches!(c, '\'' | '’'))
                .filter(|w| !w.is_empty())
                .map(str::to_lowercase)
                .collect();
            w.sort();
            w
        };
        let parts = format!("{} {} {}", n.family, n.middle, n.given);
        if words(&parts) != words(&n.full) {
            return Err(RuleError::NameSplitChangesWords);
        }
        Ok(n)
    }
    /// From a full name, split at the last word.
    pub fn from_full(full: &str) -> Result<Self, RuleError> {
        let (f, m, g) = text::split_full_name(full);
        Self::from_parts(&f, &m, &g)
    }
    pub fn sort_key(&self) -> String {
        text::name_sort_key(&self.family, &self.middle, &self.given)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leaving_needs_a_date() {
        let i = StatusInput {
            status: "deceased".into(),
            ..Default::default()
        };
        assert!(i.validate().expect_err("date").get("date").is_some());
        let i = StatusInput {
            status: "moved".into(),
            date: "01/03/2026".into(),
            note: "Chuyển về xã khác".into(),
        };
        assert_eq!(i.validate().map(|c| c.status), Ok(MemberStatus::Moved));
        assert!(StatusInput {
            status: "active".into(),
            ..Default::default()
        }
        .validate()
        .is_ok());
    }

    #[test]
    fn party_card_number_keeps_leading_zeros() {
        assert_eq!(
            PartyCardNumber::parse("052.012345").map(|p| p.0),
            Ok("052012345".into())
        );
        assert!(PartyCardNumber::parse("12345").is_err());
        assert!(PartyCardNumber::parse("12345a78").is_err());
        assert_eq!(
            PartyCardNumber::key("052012345"),
            PartyCardNumber::key("052012345")
        );
        assert_ne!(
            PartyCardNumber::key("052012345"),
            PartyCardNumber::key("52012345")
        );
        assert_ne!(
            PartyCardNumber::key("000000"),
            PartyCardNumber::key("0000000")
        );
        assert_eq!(PartyCardNumber::key("12a456"), None);
    }

    #[test]
    fn management_levels_are_ranked() {
        assert!(ManagementLevel::Province > ManagementLevel::Commune);
        assert!(ManagementLevel::Commune > ManagementLevel::None);
        assert_eq!(
            ManagementLevel::parse("commune"),
            Ok(ManagementLevel::Commune)
        );
        assert_eq!(
            ManagementLevel::parse("district"),
            Err(RuleError::InvalidChoice)
        );
    }

    #[test]
    fn person_name_requires_given_name() {
        assert_eq!(PersonName::from_full("   "), Err(RuleError::Required));
        let n = PersonName::from_full("Nguyễn Văn An").expect("valid");
        assert_eq!(n.given, "An");
        assert_eq!(n.full, "Nguyễn Văn An");
        let ede = PersonName::written_as("Y Blô Kpă", "Kpă", "Y", "Blô").expect("valid");
        assert_eq!(
            (ede.full.as_str(), ede.given.as_str()),
            ("Y Blô Kpă", "Blô")
        );
    }

    /// Issue 11.5: a split correction only regroups the written words.
    #[test]
    fn name_split_only_regroups_the_written_words() {
        assert_eq!(
            PersonName::written_as("Phạm Đức Bình", "Foo", "", "Bar"),
            Err(RuleError::NameSplitChangesWords)
        );
        assert_eq!(
            PersonName::written_as("Phạm Đức Bình", "Phạm", "Đức", "Bính"),
            Err(RuleError::NameSplitChangesWords)
        );
        assert_eq!(
            PersonName::written_as("Phạm Đức Bình", "Phạm", "", "Bình"),
            Err(RuleError::NameSplitChangesWords),
            "a word left out"
        );
        let n = PersonName::written_as("Phạm Đức Bình", "Phạm Đức", "", "Bình").expect("regrouped");
        assert_eq!((n.family.as_str(), n.given.as_str()), ("Phạm Đức", "Bình"));
        assert!(
            PersonName::written_as("Y Blô Kpă", "kpă", "y", "Blô").is_ok(),
            "case aside"
        );
    }
}
