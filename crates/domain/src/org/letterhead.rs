//! The head of a printed Party document (issue 11.13; the layout of Hướng dẫn 36-HD/VPTW as
//! `../shared/design/ui.md` sketches it): top left the superior body's name, beneath it the
//! issuing body in capitals, a "*" and the document number; top right "ĐẢNG CỘNG SẢN VIỆT NAM"
//! with the place and date. The place is the locality of the issuing organization (a commune's
//! documents are dated in the commune, not in the province).
//!
//! Organizations are named as the register writes them ("Đảng bộ tỉnh Quảng Ngãi", "Đảng bộ xã
//! Ba Tơ", "Chi bộ thôn Làng Mạ"); the tree's shape is configuration (the district level is gone
//! since July 2025), so the rules here read names, never levels.

/// What a printed document's head says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Letterhead {
    /// The superior Party organization ("ĐẢNG BỘ TỈNH QUẢNG NGÃI"); none for the top of the tree.
    pub superior: Option<String>,
    /// The issuing body ("ĐẢNG ỦY XÃ BA TƠ", "TỈNH ỦY QUẢNG NGÃI", "CHI BỘ THÔN LÀNG MẠ").
    pub issuer: String,
    /// The symbol of the issuing body in document numbers ("TU", "ĐU", "CB").
    pub symbol: &'static str,
    /// The place name written before the date ("Ba Tơ").
    pub place: String,
}

impl Letterhead {
    /// The document number line with the number left blank for the office to write when the
    /// document is signed: "Số      -DS/ĐU" for a list (`kind` "DS"), "BC" for a report.
    pub fn number(&self, kind: &str) -> String {
        format!(
            "Số\u{a0}\u{a0}\u{a0}\u{a0}\u{a0}\u{a0}-{kind}/{}",
            self.symbol
        )
    }

    /// "Ba Tơ, ngày 07 tháng 02 năm 2026".
    pub fn place_date(&self, date: chrono::NaiveDate) -> String {
        use chrono::Datelike;
        format!(
            "{}, ngày {:02} tháng {:02} năm {}",
            self.place,
            date.day(),
            date.month(),
            date.year()
        )
    }
}

/// Localities whose Party organization is a territorial one, with how its committee is named.
/// The prefix is matched on the lowered name after "Đảng bộ ".
const TERRITORIAL: &[(&str, &str, &str)] = &[
    // (unit word, committee as written, symbol)
    ("tỉnh ", "Tỉnh ủy ", "TU"),
    ("thành phố ", "Thành ủy ", "TU"),
    ("xã ", "Đảng ủy xã ", "ĐU"),
    ("phường ", "Đảng ủy phường ", "ĐU"),
    ("đặc khu ", "Đảng ủy đặc khu ", "ĐU"),
    ("thị trấn ", "Đảng ủy thị trấn ", "ĐU"),
];

/// Vietnamese capitals of a name ("Đảng ủy xã Ba Tơ" → "ĐẢNG ỦY XÃ BA TƠ").
fn capitals(s: &str) -> String {
    s.trim().to_uppercase()
}

/// The part of an organization's name after a prefix, compared without case.
fn after_prefix<'a>(name: &'a str, prefix: &str) -> Option<&'a str> {
    let head: String = name.chars().take(prefix.chars().count()).collect();
    if head.to_lowercase() == prefix.to_lowercase() {
        Some(name[head.len()..].trim())
    } else {
        None
    }
}

/// The committee that issues documents for an organization, and its symbol: an "Đảng bộ" is led
/// by its "Đảng ủy" (a province's by the "Tỉnh ủy"), a "Chi bộ" issues as itself.
fn issuing_body(name: &str) -> (String, &'static str) {
    let name = name.trim();
    if let Some(rest) = after_prefix(name, "Đảng bộ ") {
        for (unit, committee, symbol) in TERRITORIAL {
            if let Some(place) = after_prefix(rest, unit) {
                return (format!("{committee}{place}"), symbol);
            }
        }
        return (format!("Đảng ủy {rest}"), "ĐU");
    }
    if after_prefix(name, "Chi bộ ").is_some() {
        return (name.to_owned(), "CB");
    }
    (name.to_owned(), "ĐU")
}

/// The locality of a territorial organization ("Đảng bộ xã Ba Tơ" → "Ba Tơ"), if it is one.
fn locality(name: &str) -> Option<String> {
    let rest = after_prefix(name.trim(), "Đảng bộ ")?;
    TERRITORIAL
        .iter()
        .find_map(|(unit, _, _)| after_prefix(rest, unit))
        .filter(|p| !p.is_empty())
        .map(str::to_owned)
}

/// The head of a document issued by the last organization of `chain` (the names from the top of
/// the tree down to the issuer). The place is the nearest territorial locality at or above the
/// issuer; the top's name when there is none.
pub fn letterhead(chain: &[&str]) -> Letterhead {
    let Some(own) = chain.last() else {
        return Letterhead {
            superior: None,
            issuer: String::new(),
            symbol: "ĐU",
            place: String::new(),
        };
    };
    let (issuer, symbol) = issuing_body(own);
    let superior = chain
        .len()
        .checked_sub(2)
        .and_then(|i| chain.get(i))
        .map(|s| capitals(s));
    let place = chain
        .iter()
        .rev()
        .find_map(|n| locality(n))
        .unwrap_or_else(|| chain[0].trim().to_owned());
    Letterhead {
        superior,
        issuer: capitals(&issuer),
        symbol,
        place,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PROVINCE: &str = "Đảng bộ tỉnh Quảng Ngãi";
    const COMMUNE: &str = "Đảng bộ xã Ba Tơ";
    const CELL: &str = "Chi bộ thôn Làng Mạ";

    #[test]
    fn a_province_issues_as_its_provincial_committee_without_a_superior() {
        let h = letterhead(&[PROVINCE]);
        assert_eq!(h.superior, None);
        assert_eq!(h.issuer, "TỈNH ỦY QUẢNG NGÃI");
        assert_eq!(h.place, "Quảng Ngãi");
        assert_eq!(
            h.number("DS"),
            "Số\u{a0}\u{a0}\u{a0}\u{a0}\u{a0}\u{a0}-DS/TU"
        );
    }

    #[test]
    fn a_commune_writes_the_province_above_and_dates_in_the_commune() {
        let h = letterhead(&[PROVINCE, COMMUNE]);
        assert_eq!(h.superior.as_deref(), Some("ĐẢNG BỘ TỈNH QUẢNG NGÃI"));
        assert_eq!(h.issuer, "ĐẢNG ỦY XÃ BA TƠ");
        assert_eq!(h.symbol, "ĐU");
        assert_eq!(h.place, "Ba Tơ");
        assert_eq!(
            h.place_date(chrono::NaiveDate::from_ymd_opt(2026, 2, 7).expect("date")),
            "Ba Tơ, ngày 07 tháng 02 năm 2026"
        );
    }

    #[test]
    fn a_cell_writes_its_commune_above_and_the_commune_as_place() {
        let h = letterhead(&[PROVINCE, COMMUNE, CELL]);
        assert_eq!(h.superior.as_deref(), Some("ĐẢNG BỘ XÃ BA TƠ"));
        assert_eq!(h.issuer, "CHI BỘ THÔN LÀNG MẠ");
        assert_eq!(h.symbol, "CB");
        assert_eq!(h.place, "Ba Tơ");
    }

    #[test]
    fn wards_cities_and_non_territorial_party_organizations() {
        let h = letterhead(&["Đảng bộ thành phố Đà Nẵng", "Đảng bộ phường Hải Châu"]);
        assert_eq!(h.issuer, "ĐẢNG ỦY PHƯỜNG HẢI CHÂU");
        assert_eq!(h.place, "Hải Châu");
        let top = letterhead(&["Đảng bộ thành phố Đà Nẵng"]);
        assert_eq!(top.issuer, "THÀNH ỦY ĐÀ NẴNG");
        // A Party organization of an agency has no locality of its own: the province's.
        let agency = letterhead(&[PROVINCE, "Đảng bộ các cơ quan Đảng tỉnh"]);
        assert_eq!(agency.issuer, "ĐẢNG ỦY CÁC CƠ QUAN ĐẢNG TỈNH");
        assert_eq!(agency.place, "Quảng Ngãi");
        let cell = letterhead(&[
            PROVINCE,
            "Đảng bộ các cơ quan Đảng tỉnh",
            "Chi bộ Ban Tuyên giáo",
        ]);
        assert_eq!(
            cell.superior.as_deref(),
            Some("ĐẢNG BỘ CÁC CƠ QUAN ĐẢNG TỈNH")
        );
        assert_eq!(cell.place, "Quảng Ngãi");
        // A special zone (đặc khu) since 2025.
        assert_eq!(
            letterhead(&[PROVINCE, "Đảng bộ đặc khu Lý Sơn"]).place,
            "Lý Sơn"
        );
    }

    #[test]
    fn names_written_in_another_case_still_read() {
        let h = letterhead(&["ĐẢNG BỘ TỈNH GIA LAI", "đảng bộ xã Ia Grai"]);
        assert_eq!(h.issuer, "ĐẢNG ỦY XÃ IA GRAI");
        assert_eq!(h.place, "Ia Grai");
        assert_eq!(letterhead(&[]).issuer, "");
    }
}
