//! The rules of importing members and organizations from spreadsheets (issue 5): which column is
//! which (Vietnamese headings, with or without diacritics), how each cell is read, and the
//! Vietnamese message for every problem ("Dòng 118, cột Ngày sinh: …").

use chrono::{Duration, NaiveDate};
use serde::Serialize;

use super::{Gender, ManagementLevel, OrgKind, PartyCardNumber, PersonName};
use crate::{text, RuleError};

/// One cell as read from a file.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Empty,
    Text(String),
    Number(f64),
    /// An Excel date cell, as its serial number (days since 1899-12-30).
    Date(f64),
    Bool(bool),
    /// A formula error such as #REF!
    Error(String),
}

impl Cell {
    /// The cell as text: numbers without a useless ".0", so card numbers keep their digits.
    pub fn text(&self) -> String {
        match self {
            Cell::Empty | Cell::Error(_) => String::new(),
            Cell::Text(s) => s.trim().to_string(),
            Cell::Number(n) | Cell::Date(n) if n.fract() == 0.0 && n.abs() < 1e15 => {
                format!("{}", *n as i64)
            }
            Cell::Number(n) | Cell::Date(n) => n.to_string(),
            Cell::Bool(b) => {
                if *b {
                    "x".into()
                } else {
                    String::new()
                }
            }
        }
    }
    pub fn is_empty(&self) -> bool {
        matches!(self, Cell::Empty) || matches!(self, Cell::Text(s) if s.trim().is_empty())
    }
}

/// An Excel serial day number as a date (the 1900 system; serials after the fictitious 29/02/1900).
pub fn excel_serial_date(serial: f64) -> Option<NaiveDate> {
    if !(1.0..2_958_466.0).contains(&serial) {
        return None;
    }
    NaiveDate::from_ymd_opt(1899, 12, 30).map(|base| base + Duration::days(serial.floor() as i64))
}

/// A date cell in any form Vietnamese files use: an Excel date, dd/mm/yyyy, d/m/yyyy, yyyy-mm-dd.
pub fn cell_date(c: &Cell) -> Result<Option<NaiveDate>, RuleError> {
    match c {
        Cell::Empty => Ok(None),
        Cell::Date(n) | Cell::Number(n) => excel_serial_date(*n)
            .map(Some)
            .ok_or(RuleError::InvalidDate),
        Cell::Text(s) if s.trim().is_empty() => Ok(None),
        Cell::Text(s) => text::parse_date(s).map(Some),
        Cell::Bool(_) | Cell::Error(_) => Err(RuleError::InvalidDate),
    }
}

macro_rules! columns {
    ($($v:ident = $label:literal [$($alias:literal),*]),+ $(,)?) => {
        /// A column of the member file (form Mẫu 7-HSĐV and the usual exports).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, utoipa::ToSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum MemberColumn { $($v),+ }

        impl MemberColumn {
            /// Every column, in the order of exported files.
            pub const ALL: &'static [MemberColumn] = &[$(MemberColumn::$v),+];
            /// The heading written in exported files.
            pub fn label(self) -> &'static str { match self { $(MemberColumn::$v => $label),+ } }
            fn aliases(self) -> &'static [&'static str] { match self { $(MemberColumn::$v => &[$($alias),*]),+ } }
        }
    };
}

columns! {
    FullName = "Họ và tên" ["ho va ten", "ho ten", "ten day du", "ho va ten dang vien", "ho ten dang vien"],
    FamilyName = "Họ" ["ho"],
    MiddleName = "Tên đệm" ["ten dem", "chu dem", "ho dem"],
    GivenName = "Tên" ["ten", "ten goi"],
    BirthDate = "Ngày sinh" ["ngay sinh", "ngay thang nam sinh", "sinh ngay"],
    Gender = "Giới tính" ["gioi tinh", "nam/nu", "nam nu", "phai"],
    Ethnicity = "Dân tộc" ["dan toc"],
    Religion = "Tôn giáo" ["ton giao"],
    HomeTown = "Quê quán" ["que quan", "nguyen quan"],
    Education = "Trình độ học vấn" ["trinh do hoc van", "trinh do", "hoc van", "trinh do chuyen mon"],
    Occupation = "Nghề nghiệp" ["nghe nghiep", "cong viec", "nghe nghiep hien nay"],
    JoinedOn = "Ngày vào Đảng" ["ngay vao dang", "ngay ket nap", "ngay ket nap dang"],
    OfficialOn = "Ngày chính thức" ["ngay chinh thuc", "ngay vao dang chinh thuc", "ngay cong nhan chinh thuc"],
    CardNumber = "Số thẻ đảng viên" ["so the dang vien", "so the", "the dang vien", "so the dv"],
    RecordNumber = "Số lý lịch" ["so ly lich", "so ll", "so ly lich dang vien", "so ho so"],
    OrgCode = "Mã tổ chức" ["ma to chuc", "ma chi bo", "ma don vi", "ma tcd"],
    OrgName = "Chi bộ" ["chi bo", "to chuc dang", "don vi", "chi bo sinh hoat", "noi sinh hoat"],
    Positions = "Chức vụ" ["chuc vu", "chuc danh", "chuc vu dang", "chuc vu chinh quyen"],
    ManagementLevel = "Diện quản lý" ["dien quan ly", "dien can bo"],
    Exempt = "Miễn sinh hoạt" ["mien sinh hoat", "mien sh", "duoc mien sinh hoat"],
    Phone = "Điện thoại" ["dien thoai", "so dien thoai", "sdt", "so dt"],
    Email = "Thư điện tử" ["thu dien tu", "email", "e-mail"],
}

/// The column a heading names, diacritics and case ignored ("Ho va ten", "HỌ VÀ TÊN" alike).
pub fn recognize(heading: &str) -> Option<MemberColumn> {
    let h = text::fold(heading).replace(['*', ':', '.'], "");
    let h = h.trim();
    if h.is_empty() {
        return None;
    }
    MemberColumn::ALL
        .iter()
        .copied()
        .find(|c| text::fold(c.label()) == h || c.aliases().contains(&h))
}

/// Maps every heading to a column; the same column twice is kept only the first time.
pub fn map_headers(headings: &[String]) -> Vec<Option<MemberColumn>> {
    let mut seen = Vec::new();
    headings
        .iter()
        .map(|h| {
            let c = recognize(h)?;
            if seen.contains(&c) {
                return None;
            }
            seen.push(c);
            Some(c)
        })
        .collect()
}

/// A problem in one cell of a file, in Vietnamese.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct CellError {
    /// The row number as the spreadsheet shows it (the heading is row 1).
    pub row: usize,
    /// The column heading, or "" when the problem concerns the whole row.
    pub column: String,
    pub message: String,
}

impl std::fmt::Display for CellError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.column.is_empty() {
            write!(f, "Dòng {}: {}", self.row, self.message)
        } else {
            write!(
                f,
                "Dòng {}, cột {}: {}",
                self.row, self.column, self.message
            )
        }
    }
}

/// Where a member belongs: an organization code, or its name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrgRef {
    Code(String),
    Name(String),
}

/// One member as read from a file and checked.
#[derive(Debug, Clone, PartialEq)]
pub struct MemberRecord {
    pub row: usize,
    pub name: PersonName,
    /// The rule that split the written name (none when the file gives the parts).
    pub split_rule: Option<super::names::SplitRule>,
    pub birth_date: Option<NaiveDate>,
    pub gender: Gender,
    pub ethnicity: String,
    pub religion: String,
    pub home_town: String,
    pub education: String,
    pub occupation: String,
    pub joined_on: Option<NaiveDate>,
    pub official_on: Option<NaiveDate>,
    pub card_number: Option<String>,
    pub record_number: Option<String>,
    pub org: OrgRef,
    pub positions: String,
    pub management_level: ManagementLevel,
    pub exempt: bool,
    pub phone: String,
    pub email: String,
}

fn parse_gender(s: &str) -> Result<Gender, RuleError> {
    match text::fold(s).as_str() {
        "nam" | "m" | "male" | "1" => Ok(Gender::Male),
        "nu" | "f" | "female" | "0" | "2" => Ok(Gender::Female),
        _ => Err(RuleError::InvalidChoice),
    }
}

fn parse_flag(s: &str) -> bool {
    matches!(
        text::fold(s).as_str(),
        "x" | "co" | "1" | "true" | "yes" | "mien" | "duoc mien"
    )
}

fn parse_level(s: &str) -> Result<ManagementLevel, RuleError> {
    let f = text::fold(s);
    if f.is_empty() {
        return Ok(ManagementLevel::None);
    }
    if let Ok(l) = ManagementLevel::parse(&f) {
        return Ok(l);
    }
    if let Some(l) = ManagementLevel::ALL
        .iter()
        .copied()
        .find(|l| text::fold(l.label()) == f)
    {
        return Ok(l);
    }
    if f.contains("tinh") {
        Ok(ManagementLevel::Province)
    } else if f.contains("xa") || f.contains("phuong") {
        Ok(ManagementLevel::Commune)
    } else if f.contains("co so") || f.contains("chi bo") {
        Ok(ManagementLevel::Grassroots)
    } else {
        Err(RuleError::InvalidChoice)
    }
}

/// Reads and checks one row. Every problem is reported, not only the first.
pub fn parse_member_row(
    row: usize,
    cells: &[Cell],
    mapping: &[Option<MemberColumn>],
) -> Result<MemberRecord, Vec<CellError>> {
    let mut errors = Vec::new();
    let get = |c: MemberColumn| -> Option<&Cell> {
        mapping
            .iter()
            .position(|m| *m == Some(c))
            .and_then(|i| cells.get(i))
    };
    let txt = |c: MemberColumn| get(c).map(Cell::text).unwrap_or_default();
    let mut err = |c: MemberColumn, cell: Option<&Cell>, e: &dyn std::fmt::Display| {
        let shown = cell.map(Cell::text).unwrap_or_default();
        let message = if shown.is_empty() {
            e.to_string()
        } else {
            format!("'{shown}' — {e}")
        };
        errors.push(CellError {
            row,
            column: c.label().into(),
            message,
        });
    };
    for (i, cell) in cells.iter().enumerate() {
        if let (Some(Some(c)), Cell::Error(e)) = (mapping.get(i), cell) {
            err(*c, None, &format!("ô có lỗi công thức {e}"));
        }
    }
    let full = txt(MemberColumn::FullName);
    let mut split_rule = None;
    let name = if mapping.contains(&Some(MemberColumn::GivenName)) {
        let family = txt(MemberColumn::FamilyName);
        let middle = txt(MemberColumn::MiddleName);
        let given = txt(MemberColumn::GivenName);
        // The parts decide the order; the full name, when given, is how the name is written
        // ("Y Blô Kpă" sorts by Blô).
        if full.is_empty() {
            PersonName::from_parts(&family, &middle, &given)
        } else {
            PersonName::written_as(&full, &family, &middle, &given)
        }
    } else {
        // Issue 11.8: the split follows the person's people (Dân tộc) when the file says it.
        let (parts, rule) = super::names::split(&full, &txt(MemberColumn::Ethnicity));
        split_rule = Some(rule);
        PersonName::written_as(&full, &parts.0, &parts.1, &parts.2)
    };
    let name = match name {
        Ok(n) => Some(n),
        Err(e) => {
            err(MemberColumn::FullName, None, &e);
            None
        }
    };
    let mut date = |c: MemberColumn| match get(c).map(cell_date).unwrap_or(Ok(None)) {
        Ok(d) => d,
        Err(_) => {
            let shown = get(c).map(Cell::text).unwrap_or_default();
            errors.push(CellError {
                row,
                column: c.label().into(),
                message: format!("'{shown}' không phải ngày hợp lệ"),
            });
            None
        }
    };
    let birth_date = date(MemberColumn::BirthDate);
    let joined_on = date(MemberColumn::JoinedOn);
    let official_on = date(MemberColumn::OfficialOn);
    let mut err = |c: MemberColumn, e: &dyn std::fmt::Display| {
        let shown = get(c).map(Cell::text).unwrap_or_default();
        errors.push(CellError {
            row,
            column: c.label().into(),
            message: format!("'{shown}' — {e}"),
        });
    };
    let gender = match txt(MemberColumn::Gender) {
        g if g.is_empty() => None,
        g => parse_gender(&g)
            .map_err(|e| err(MemberColumn::Gender, &e))
            .ok(),
    };
    let card = match txt(MemberColumn::CardNumber) {
        c if c.is_empty() => None,
        c => PartyCardNumber::parse(&c)
            .map(|c| c.as_str().to_string())
            .map_err(|e| err(MemberColumn::CardNumber, &e))
            .ok(),
    };
    let level = parse_level(&txt(MemberColumn::ManagementLevel))
        .map_err(|e| err(MemberColumn::ManagementLevel, &e))
        .ok();
    let org = match (txt(MemberColumn::OrgCode), txt(MemberColumn::OrgName)) {
        (code, _) if !code.is_empty() => Some(OrgRef::Code(code)),
        (_, name) if !name.is_empty() => Some(OrgRef::Name(name)),
        _ => {
            errors.push(CellError {
                row,
                column: MemberColumn::OrgName.label().into(),
                message: "thiếu chi bộ (hoặc mã tổ chức) sinh hoạt".into(),
            });
            None
        }
    };
    if let (Some(j), Some(o)) = (joined_on, official_on) {
        if o < j {
            errors.push(CellError {
                row,
                column: MemberColumn::OfficialOn.label().into(),
                message: "ngày chính thức trước ngày vào Đảng".into(),
            });
        }
    }
    match (name, level, org) {
        (Some(name), Some(management_level), Some(org)) if errors.is_empty() => Ok(MemberRecord {
            row,
            name,
            split_rule,
            birth_date,
            gender: gender.unwrap_or(Gender::Male),
            ethnicity: txt(MemberColumn::Ethnicity),
            religion: txt(MemberColumn::Religion),
            home_town: txt(MemberColumn::HomeTown),
            education: txt(MemberColumn::Education),
            occupation: txt(MemberColumn::Occupation),
            joined_on,
            official_on,
            card_number: card,
            record_number: Some(txt(MemberColumn::RecordNumber)).filter(|s| !s.is_empty()),
            org,
            positions: txt(MemberColumn::Positions),
            management_level,
            exempt: parse_flag(&txt(MemberColumn::Exempt)),
            phone: txt(MemberColumn::Phone),
            email: txt(MemberColumn::Email),
        }),
        _ => Err(errors),
    }
}

/// One organization row of an org-tree file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgRecord {
    pub row: usize,
    pub code: String,
    pub name: String,
    pub parent_code: Option<String>,
    /// Empty: the province's name of its level, else its kind's (R8.3).
    pub level_name: String,
    pub kind: OrgKind,
}

/// Orders organization rows so that every parent comes before its children (parents may come
/// after children in the file). `known` says whether a code already exists in the database.
/// Unknown parents and cycles are errors, reported by row.
pub fn order_orgs(
    rows: Vec<OrgRecord>,
    known: impl Fn(&str) -> bool,
) -> Result<Vec<OrgRecord>, Vec<CellError>> {
    use std::collections::HashMap;
    let mut errors = Vec::new();
    let mut by_code: HashMap<String, usize> = HashMap::new();
    for (i, r) in rows.iter().enumerate() {
        if let Some(first) = by_code.insert(r.code.clone(), i) {
            errors.push(CellError {
                row: r.row,
                column: "Mã".into(),
                message: format!("mã '{}' trùng với dòng {}", r.code, rows[first].row),
            });
        }
    }
    for r in &rows {
        if let Some(p) = &r.parent_code {
            if !by_code.contains_key(p) && !known(p) {
                errors.push(CellError {
                    row: r.row,
                    column: "Mã cấp trên".into(),
                    message: format!("không có tổ chức mã '{p}'"),
                });
            }
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    // Depth-first: a row is placed after its parent; a row met again on its own path is a cycle.
    let mut state = vec![0u8; rows.len()]; // 0 new, 1 on the path, 2 placed
    let mut order = Vec::with_capacity(rows.len());
    for start in 0..rows.len() {
        let mut path = Vec::new();
        let mut cur = Some(start);
        while let Some(i) = cur {
            match state[i] {
                2 => break,
                1 => {
                    errors.push(CellError {
                        row: rows[i].row,
                        column: "Mã cấp trên".into(),
                        message: "vòng lặp: tổ chức là cấp trên của chính nó".into(),
                    });
                    break;
                }
                _ => {
                    state[i] = 1;
                    path.push(i);
                    cur = rows[i]
                        .parent_code
                        .as_ref()
                        .and_then(|p| by_code.get(p).copied());
                }
            }
        }
        for i in path.into_iter().rev() {
            state[i] = 2;
            order.push(i);
        }
    }
    if !errors.is_empty() {
        errors.sort_by_key(|e| e.row);
        errors.dedup();
        return Err(errors);
    }
    let mut rows: Vec<Option<OrgRecord>> = rows.into_iter().map(Some).collect();
    Ok(order.into_iter().filter_map(|i| rows[i].take()).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Cell {
        Cell::Text(s.into())
    }

    #[test]
    fn headings_with_or_without_diacritics() {
        assert_eq!(recognize("Họ và tên"), Some(MemberColumn::FullName));
        assert_eq!(recognize("HO VA TEN"), Some(MemberColumn::FullName));
        assert_eq!(
            recognize("Số thẻ đảng viên"),
            Some(MemberColumn::CardNumber)
        );
        assert_eq!(
            recognize("so the dang vien"),
            Some(MemberColumn::CardNumber)
        );
        assert_eq!(recognize("Chi bộ"), Some(MemberColumn::OrgName));
        assert_eq!(recognize("Ngày sinh:"), Some(MemberColumn::BirthDate));
        assert_eq!(recognize("Ghi chú"), None);
    }

    #[test]
    fn dates_in_every_form() {
        let d = NaiveDate::from_ymd_opt(1970, 2, 28).expect("date");
        assert_eq!(cell_date(&t("28/02/1970")), Ok(Some(d)));
        assert_eq!(cell_date(&t("1970-02-28")), Ok(Some(d)));
        assert_eq!(cell_date(&Cell::Date(25_627.0)), Ok(Some(d)));
        assert_eq!(cell_date(&t("31/02/1970")), Err(RuleError::InvalidDate));
        assert_eq!(cell_date(&Cell::Empty), Ok(None));
    }

    #[test]
    fn card_numbers_keep_leading_zeros() {
        let mapping = map_headers(&[
            "Họ và tên".into(),
            "Số thẻ đảng viên".into(),
            "Chi bộ".into(),
        ]);
        let r = parse_member_row(
            2,
            &[t("Nguyễn Văn An"), t("012345678"), t("Chi bộ thôn 1")],
            &mapping,
        )
        .expect("valid");
        assert_eq!(r.card_number.as_deref(), Some("012345678"));
        assert_eq!(r.name.given, "An");
    }

    #[test]
    fn every_problem_of_a_row_is_reported_in_vietnamese() {
        let mapping = map_headers(&[
            "Họ và tên".into(),
            "Ngày sinh".into(),
            "Giới tính".into(),
            "Chi bộ".into(),
        ]);
        let e = parse_member_row(118, &[t(""), t("31/02/1970"), t("Khác"), t("")], &mapping)
            .expect_err("invalid");
        let shown: Vec<String> = e.iter().map(ToString::to_string).collect();
        assert!(
            shown.contains(
                &"Dòng 118, cột Ngày sinh: '31/02/1970' không phải ngày hợp lệ".to_string()
            ),
            "{shown:?}"
        );
        assert!(shown
            .iter()
            .any(|s| s.starts_with("Dòng 118, cột Họ và tên")));
        assert!(shown
            .iter()
            .any(|s| s.starts_with("Dòng 118, cột Giới tính")));
        assert!(shown.iter().any(|s| s.starts_with("Dòng 118, cột Chi bộ")));
    }

    #[test]
    fn separate_name_columns_win_over_the_full_name() {
        let mapping = map_headers(&[
            "Họ".into(),
            "Tên đệm".into(),
            "Tên".into(),
            "Mã tổ chức".into(),
        ]);
        let r = parse_member_row(
            3,
            &[t("Kpă"), t("Y"), t("Blô"), t("T01-X001-C01")],
            &mapping,
        )
        .expect("valid");
        assert_eq!(r.name.given, "Blô");
        assert_eq!(r.org, OrgRef::Code("T01-X001-C01".into()));
    }

    fn org(row: usize, code: &str, parent: Option<&str>) -> OrgRecord {
        OrgRecord {
            row,
            code: code.into(),
            name: code.into(),
            parent_code: parent.map(Into::into),
            level_name: "Chi bộ".into(),
            kind: OrgKind::Cell,
        }
    }

    #[test]
    fn parents_may_come_after_children() {
        let rows = vec![
            org(2, "C1", Some("X1")),
            org(3, "X1", Some("T")),
            org(4, "T", None),
        ];
        let order: Vec<String> = order_orgs(rows, |_| false)
            .expect("valid")
            .into_iter()
            .map(|r| r.code)
            .collect();
        assert_eq!(order, ["T", "X1", "C1"]);
    }

    #[test]
    fn cycles_and_unknown_parents_are_errors() {
        let e = order_orgs(vec![org(2, "A", Some("B")), org(3, "B", Some("A"))], |_| {
            false
        })
        .expect_err("cycle");
        assert!(e[0].message.contains("vòng lặp"));
        let e = order_orgs(vec![org(2, "A", Some("Z"))], |_| false).expect_err("unknown");
        assert!(e[0].message.contains("'Z'"));
        assert!(order_orgs(vec![org(2, "A", Some("Z"))], |c| c == "Z").is_ok());
    }
}
