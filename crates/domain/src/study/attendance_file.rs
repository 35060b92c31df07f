//! Attendance typed in from paper (R3.4, "paper first, data later"): the rules of an attendance
//! file (xlsx or csv, several sessions at once). Which heading is which column (diacritics and
//! case ignored), how one row is read, and how its session and its person are found among the
//! class's sessions and participants. Every problem is a Vietnamese [`CellError`] with the row
//! number the spreadsheet shows ("Dòng 7, cột Buổi: …").

use chrono::{NaiveDate, NaiveDateTime, NaiveTime, Timelike};
use serde::Serialize;

use super::AttendanceStatus;
use crate::org::import::{excel_serial_date, Cell, CellError};
use crate::text;

macro_rules! columns {
    ($($v:ident = $label:literal [$($alias:literal),*]),+ $(,)?) => {
        /// A column of an attendance file.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, utoipa::ToSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum AttendanceColumn { $($v),+ }

        impl AttendanceColumn {
            /// Every column, in the order of the template.
            pub const ALL: &'static [AttendanceColumn] = &[$(AttendanceColumn::$v),+];
            /// The heading written in the template.
            pub fn label(self) -> &'static str { match self { $(AttendanceColumn::$v => $label),+ } }
            fn aliases(self) -> &'static [&'static str] { match self { $(AttendanceColumn::$v => &[$($alias),*]),+ } }
        }
    };
}

columns! {
    Session = "Buổi" ["buoi", "buoi hoc", "buoi so", "so buoi", "tt buoi", "stt buoi"],
    Date = "Ngày" ["ngay", "ngay hoc", "thoi gian", "ngay gio", "ngay, gio"],
    Time = "Giờ" ["gio", "gio hoc", "gio bat dau"],
    CardNumber = "Số thẻ đảng viên" ["so the dang vien", "so the", "so the dv", "the dang vien"],
    FullName = "Họ và tên" ["ho va ten", "ho ten", "ho va ten dang vien", "ho ten dang vien"],
    Status = "Trạng thái" ["trang thai", "diem danh", "tinh trang", "co mat"],
    Late = "Đi muộn (phút)" ["di muon", "den muon", "muon", "so phut di muon", "phut di muon"],
    LeftEarly = "Về sớm (phút)" ["ve som", "so phut ve som", "phut ve som"],
    Reason = "Lý do" ["ly do", "ghi chu", "ly do vang"],
}

/// The column a heading names: diacritics, case, a trailing "(phút)" and marks like "*" ignored.
pub fn recognize(heading: &str) -> Option<AttendanceColumn> {
    let h = text::fold(heading);
    let h = h.split('(').next().unwrap_or("");
    let h = h.replace(['*', ':', '.'], "");
    let h = h.trim();
    if h.is_empty() {
        return None;
    }
    AttendanceColumn::ALL.iter().copied().find(|c| {
        let label = text::fold(c.label());
        label.split('(').next().unwrap_or("").trim() == h || c.aliases().contains(&h)
    })
}

/// Where each recognised column sits in the file (the first heading of each kind wins), with the
/// heading as the file writes it, for error messages.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Columns {
    found: Vec<(AttendanceColumn, usize, String)>,
}

impl Columns {
    /// Index of a column in the row, if the file has it.
    pub fn index(&self, c: AttendanceColumn) -> Option<usize> {
        self.found.iter().find(|f| f.0 == c).map(|f| f.1)
    }
    /// Whether the file has this column.
    pub fn has(&self, c: AttendanceColumn) -> bool {
        self.index(c).is_some()
    }
    /// The heading as written in the file (the template label when the file lacks it).
    pub fn heading(&self, c: AttendanceColumn) -> String {
        self.found
            .iter()
            .find(|f| f.0 == c)
            .map_or_else(|| c.label().to_string(), |f| f.2.clone())
    }
}

/// Recognises the headings of a file. The file needs a session column («Buổi» or «Ngày»), a
/// person column («Số thẻ đảng viên» or «Họ và tên») and «Trạng thái»; the error names what is
/// missing and what the file has.
pub fn map_headers(headings: &[String]) -> Result<Columns, CellError> {
    let mut cols = Columns::default();
    for (i, h) in headings.iter().enumerate() {
        if let Some(c) = recognize(h) {
            if !cols.has(c) {
                cols.found.push((c, i, h.trim().to_string()));
            }
        }
    }
    let mut missing = Vec::new();
    if !cols.has(AttendanceColumn::Session) && !cols.has(AttendanceColumn::Date) {
        missing.push("«Buổi» (số buổi hoặc ngày học)".to_string());
    }
    if !cols.has(AttendanceColumn::CardNumber) && !cols.has(AttendanceColumn::FullName) {
        missing.push("«Số thẻ đảng viên» hoặc «Họ và tên»".to_string());
    }
    if !cols.has(AttendanceColumn::Status) {
        missing.push("«Trạng thái»".to_string());
    }
    if missing.is_empty() {
        return Ok(cols);
    }
    let present: Vec<String> = headings
        .iter()
        .map(|h| h.trim())
        .filter(|h| !h.is_empty())
        .map(|h| format!("«{h}»"))
        .collect();
    let present = if present.is_empty() {
        "không có tiêu đề nào".to_string()
    } else {
        present.join(", ")
    };
    Err(CellError {
        row: 1,
        column: String::new(),
        message: format!(
            "thiếu cột {}. Các cột có trong tệp: {present}.",
            missing.join(", ")
        ),
    })
}

/// How a row names its session: its number in the class order, or its day (and start time).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionRef {
    Number(u32),
    At(NaiveDate, Option<NaiveTime>),
}

impl std::fmt::Display for SessionRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SessionRef::Number(n) => write!(f, "buổi {n}"),
            SessionRef::At(d, None) => write!(f, "ngày {}", text::format_date(*d)),
            SessionRef::At(d, Some(t)) => {
                write!(f, "{} ngày {}", t.format("%H:%M"), text::format_date(*d))
            }
        }
    }
}

/// "07:30", "7:30", "7h30", "7h", "07:30:00".
fn parse_time(s: &str) -> Option<NaiveTime> {
    let s = s.trim().to_lowercase().replace('h', ":");
    let s = s.trim_end_matches(':');
    let mut parts = s.split(':');
    let h: u32 = parts.next()?.trim().parse().ok()?;
    let m: u32 = match parts.next() {
        Some(m) if !m.trim().is_empty() => m.trim().parse().ok()?,
        _ => 0,
    };
    if let Some(sec) = parts.next() {
        sec.trim().parse::<u32>().ok()?;
    }
    if parts.next().is_some() {
        return None;
    }
    NaiveTime::from_hms_opt(h, m, 0)
}

/// A day fraction of an Excel date or time cell as a time of day (whole minutes).
fn fraction_time(serial: f64) -> NaiveTime {
    let minutes = ((serial - serial.floor()) * 1440.0).round() as u32 % 1440;
    NaiveTime::from_hms_opt(minutes / 60, minutes % 60, 0).unwrap_or(NaiveTime::MIN)
}

const SESSION_HINT: &str =
    "ghi số thứ tự buổi (1, 2, …) hoặc ngày học dd/mm/yyyy, có thể kèm giờ HH:MM";

/// Reads the session cell: a number, "Buổi 2", a date, or a date and time.
pub fn parse_session(c: &Cell) -> Result<Option<SessionRef>, String> {
    match c {
        Cell::Empty => Ok(None),
        Cell::Number(n) if n.fract() == 0.0 && *n >= 1.0 && *n <= 10_000.0 => {
            Ok(Some(SessionRef::Number(*n as u32)))
        }
        Cell::Date(n) => {
            let d = excel_serial_date(*n)
                .ok_or_else(|| format!("ngày không hợp lệ; {SESSION_HINT}"))?;
            let t = (n.fract() != 0.0).then(|| fraction_time(*n));
            Ok(Some(SessionRef::At(d, t)))
        }
        Cell::Text(s) => {
            let s = s.trim();
            if s.is_empty() {
                return Ok(None);
            }
            let folded = text::fold(s);
            let bare = folded
                .strip_prefix("buoi")
                .map(str::trim)
                .unwrap_or(&folded);
            if let Ok(n) = bare.parse::<u32>() {
                if n >= 1 {
                    return Ok(Some(SessionRef::Number(n)));
                }
            }
            let mut words = s.split_whitespace();
            let date = words.next().map(text::parse_date);
            let time = words.next();
            match (date, time, words.next()) {
                (Some(Ok(d)), None, None) => Ok(Some(SessionRef::At(d, None))),
                (Some(Ok(d)), Some(t), None) => match parse_time(t) {
                    Some(t) => Ok(Some(SessionRef::At(d, Some(t)))),
                    None => Err(format!("giờ «{t}» không hợp lệ (HH:MM)")),
                },
                _ => Err(format!("«{s}» không hợp lệ; {SESSION_HINT}")),
            }
        }
        other => Err(format!("«{}» không hợp lệ; {SESSION_HINT}", other.text())),
    }
}

/// Reads a separate time cell: "07:30", or an Excel time (a day fraction).
pub fn parse_time_cell(c: &Cell) -> Result<Option<NaiveTime>, String> {
    match c {
        Cell::Empty => Ok(None),
        Cell::Number(n) | Cell::Date(n) if *n >= 0.0 => Ok(Some(fraction_time(*n))),
        Cell::Text(s) if s.trim().is_empty() => Ok(None),
        Cell::Text(s) => parse_time(s)
            .map(Some)
            .ok_or_else(|| format!("giờ «{}» không hợp lệ (HH:MM)", s.trim())),
        other => Err(format!("giờ «{}» không hợp lệ (HH:MM)", other.text())),
    }
}

/// A status as people write it: the labels, "vắng", the codes, or the paper marks x / v / p.
pub fn parse_status(s: &str) -> Option<AttendanceStatus> {
    let f = text::fold(s);
    let f = f.trim_matches(|c: char| c == '.' || c == '-' || c.is_whitespace());
    match f {
        "co mat" | "co" | "x" | "present" | "dung gio" | "di muon" | "ve som" | "muon" => {
            Some(AttendanceStatus::Present)
        }
        "vang" | "v" | "absent" | "vang khong ly do" | "vang khong phep" | "khong ly do" | "k"
        | "kp" | "vang mat" => Some(AttendanceStatus::Absent),
        "vang co ly do" | "vang co phep" | "co phep" | "co ly do" | "p" | "phep" | "excused" => {
            Some(AttendanceStatus::Excused)
        }
        _ => None,
    }
}

/// Whole minutes: a number cell, "15" or "15 phút"; empty is 0.
pub fn parse_minutes(c: &Cell) -> Result<u32, String> {
    let bad = |t: &str| format!("«{t}» không phải số phút (ghi số nguyên, ví dụ 15)");
    match c {
        Cell::Empty => Ok(0),
        Cell::Number(n) if n.fract() == 0.0 && *n >= 0.0 && *n <= 100_000.0 => Ok(*n as u32),
        Cell::Text(s) => {
            let f = text::fold(s);
            let f = f
                .trim()
                .trim_end_matches("phut")
                .trim_end_matches('p')
                .trim();
            if f.is_empty() && s.trim().is_empty() {
                return Ok(0);
            }
            f.parse::<u32>().map_err(|_| bad(s.trim()))
        }
        other => Err(bad(&other.text())),
    }
}

/// One row of an attendance file as read, before its session and person are looked up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileMark {
    /// The row number the spreadsheet shows.
    pub row: usize,
    pub session: SessionRef,
    /// A second session reference when the row has both «Buổi» and «Ngày»: they must agree.
    pub session_check: Option<SessionRef>,
    pub card_number: Option<String>,
    pub full_name: Option<String>,
    pub status: AttendanceStatus,
    pub late_minutes: u32,
    pub left_early_minutes: u32,
    pub reason: Option<String>,
}

/// Reads one row. `Ok(None)` when the row records nothing (no status, minutes or reason): the
/// template lists everyone, and lines left blank are simply not recorded.
pub fn parse_row(
    row: usize,
    cells: &[Cell],
    cols: &Columns,
) -> Result<Option<FileMark>, Vec<CellError>> {
    use AttendanceColumn as C;
    let cell = |c: C| {
        cols.index(c)
            .and_then(|i| cells.get(i))
            .unwrap_or(&Cell::Empty)
    };
    let text_of = |c: C| Some(cell(c).text()).filter(|t| !t.is_empty());
    let mk = |c: C, message: String| CellError {
        row,
        column: cols.heading(c),
        message,
    };
    let mut errors = Vec::new();
    let status_text = cell(C::Status).text();
    let late = parse_minutes(cell(C::Late));
    let early = parse_minutes(cell(C::LeftEarly));
    let reason = text_of(C::Reason);
    let records_minutes = matches!(late, Ok(n) if n > 0) || matches!(early, Ok(n) if n > 0);
    if status_text.is_empty()
        && !records_minutes
        && reason.is_none()
        && late.is_ok()
        && early.is_ok()
    {
        return Ok(None);
    }
    // Minutes without a status mean the person came (late, or left early).
    let status = if status_text.is_empty() {
        if records_minutes {
            Some(AttendanceStatus::Present)
        } else {
            errors.push(mk(
                C::Status,
                "chưa ghi trạng thái (Có mặt, Vắng hoặc Vắng có lý do)".into(),
            ));
            None
        }
    } else {
        let s = parse_status(&status_text);
        if s.is_none() {
            errors.push(mk(
                C::Status,
                format!("«{status_text}» không phải trạng thái; ghi Có mặt, Vắng hoặc Vắng có lý do (hoặc x / v / p)"),
            ));
        }
        s
    };
    let late = late.unwrap_or_else(|m| {
        errors.push(mk(C::Late, m));
        0
    });
    let early = early.unwrap_or_else(|m| {
        errors.push(mk(C::LeftEarly, m));
        0
    });
    if status.is_some_and(|s| s != AttendanceStatus::Present) {
        if late > 0 {
            errors.push(mk(
                C::Late,
                "chỉ ghi số phút đi muộn cho người có mặt".into(),
            ));
        }
        if early > 0 {
            errors.push(mk(
                C::LeftEarly,
                "chỉ ghi số phút về sớm cho người có mặt".into(),
            ));
        }
    }
    // The session: «Buổi», else «Ngày» (+ «Giờ»); with both, «Ngày» must agree.
    let by_number = parse_session(cell(C::Session)).unwrap_or_else(|m| {
        errors.push(mk(C::Session, m));
        None
    });
    let by_date = match parse_session(cell(C::Date)) {
        Ok(Some(SessionRef::At(d, t))) => {
            let time = parse_time_cell(cell(C::Time)).unwrap_or_else(|m| {
                errors.push(mk(C::Time, m));
                None
            });
            Some(SessionRef::At(d, time.or(t)))
        }
        Ok(Some(SessionRef::Number(n))) => {
            errors.push(mk(C::Date, format!("«{n}» không phải ngày (dd/mm/yyyy)")));
            None
        }
        Ok(None) => None,
        Err(m) => {
            errors.push(mk(C::Date, m));
            None
        }
    };
    let session_failed = errors.iter().any(|e| {
        (cols.has(C::Session) && e.column == cols.heading(C::Session))
            || (cols.has(C::Date) && e.column == cols.heading(C::Date))
    });
    let (session, session_check) = match (by_number, by_date) {
        (Some(a), b) => (Some(a), b),
        (None, Some(b)) => (Some(b), None),
        (None, None) => {
            if !session_failed {
                let col = if cols.has(C::Session) {
                    C::Session
                } else {
                    C::Date
                };
                errors.push(mk(col, "chưa ghi buổi học (số buổi hoặc ngày học)".into()));
            }
            (None, None)
        }
    };
    let card_number = text_of(C::CardNumber).map(|c| c.split_whitespace().collect::<String>());
    let full_name = text_of(C::FullName);
    if card_number.is_none() && full_name.is_none() {
        let col = if cols.has(C::CardNumber) {
            C::CardNumber
        } else {
            C::FullName
        };
        errors.push(mk(col, "chưa ghi số thẻ đảng viên hay họ và tên".into()));
    }
    let reason = reason.filter(|_| status.is_some());
    if reason.as_ref().is_some_and(|r| r.chars().count() > 500) {
        errors.push(mk(C::Reason, "dài quá 500 ký tự".into()));
    }
    match (errors.is_empty(), status, session) {
        (true, Some(status), Some(session)) => Ok(Some(FileMark {
            row,
            session,
            session_check,
            card_number,
            full_name,
            status,
            late_minutes: late,
            left_early_minutes: early,
            reason,
        })),
        _ => Err(errors),
    }
}

/// Finds the session a row names among the class's sessions (their local start times, in class
/// order). A day with two sessions and no time is ambiguous, and an error.
pub fn resolve_session(r: &SessionRef, starts: &[NaiveDateTime]) -> Result<usize, String> {
    match r {
        SessionRef::Number(n) => {
            let i = usize::try_from(*n).unwrap_or(usize::MAX);
            if i >= 1 && i <= starts.len() {
                Ok(i - 1)
            } else {
                Err(format!(
                    "lớp học có {} buổi, không có buổi {n}",
                    starts.len()
                ))
            }
        }
        SessionRef::At(d, t) => {
            let same_day: Vec<usize> = (0..starts.len())
                .filter(|&i| starts[i].date() == *d)
                .collect();
            let times = || {
                same_day
                    .iter()
                    .map(|&i| starts[i].format("%H:%M").to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            if same_day.is_empty() {
                return Err(format!(
                    "lớp học không có buổi nào ngày {}",
                    text::format_date(*d)
                ));
            }
            match t {
                None if same_day.len() == 1 => Ok(same_day[0]),
                None => Err(format!(
                    "ngày {} có {} buổi học (lúc {}); ghi thêm giờ HH:MM hoặc ghi số buổi",
                    text::format_date(*d),
                    same_day.len(),
                    times()
                )),
                Some(t) => {
                    let at: Vec<usize> = same_day
                        .iter()
                        .copied()
                        .filter(|&i| {
                            starts[i].time().hour() == t.hour()
                                && starts[i].time().minute() == t.minute()
                        })
                        .collect();
                    match at.as_slice() {
                        [one] => Ok(*one),
                        [] => Err(format!(
                            "ngày {} không có buổi nào lúc {} (các buổi lúc {})",
                            text::format_date(*d),
                            t.format("%H:%M"),
                            times()
                        )),
                        many => Err(format!(
                            "có {} buổi học lúc {} ngày {}; ghi số buổi",
                            many.len(),
                            t.format("%H:%M"),
                            text::format_date(*d)
                        )),
                    }
                }
            }
        }
    }
}

/// A participant as the matcher sees them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub card_number: Option<String>,
    pub full_name: String,
}

/// A card typed into a number cell loses its leading zeros: compare without them.
fn card_key(c: &str) -> String {
    c.trim().trim_start_matches('0').to_string()
}

/// The participants of a class, indexed by card number and by folded name.
#[derive(Debug, Clone, Default)]
pub struct People {
    list: Vec<Candidate>,
    by_card: std::collections::HashMap<String, Vec<usize>>,
    by_name: std::collections::HashMap<String, Vec<usize>>,
}

impl People {
    pub fn new(list: Vec<Candidate>) -> Self {
        let mut by_card: std::collections::HashMap<String, Vec<usize>> = Default::default();
        let mut by_name: std::collections::HashMap<String, Vec<usize>> = Default::default();
        for (i, c) in list.iter().enumerate() {
            if let Some(card) = c.card_number.as_deref().filter(|c| !c.trim().is_empty()) {
                by_card.entry(card_key(card)).or_default().push(i);
            }
            by_name.entry(text::fold(&c.full_name)).or_default().push(i);
        }
        Self {
            list,
            by_card,
            by_name,
        }
    }

    /// The participant at an index returned by [`People::find`].
    pub fn get(&self, i: usize) -> Option<&Candidate> {
        self.list.get(i)
    }

    /// Which participant a row means: by card number when it has one (the name, if also
    /// given, must be that person's), else by name, diacritics and case ignored, matching
    /// exactly one. The error says which column is at fault, and how many people share a name.
    pub fn find(
        &self,
        card: Option<&str>,
        name: Option<&str>,
    ) -> Result<usize, (AttendanceColumn, String)> {
        if let Some(card) = card {
            let hits = self
                .by_card
                .get(&card_key(card))
                .map_or(&[][..], Vec::as_slice);
            let ([i], Some(who)) = (hits, hits.first().and_then(|i| self.list.get(*i))) else {
                return Err((
                    AttendanceColumn::CardNumber,
                    format!("không có ai mang số thẻ «{card}» trong danh sách lớp học"),
                ));
            };
            if let Some(name) = name {
                if text::fold(name) != text::fold(&who.full_name) {
                    return Err((
                        AttendanceColumn::FullName,
                        format!(
                            "số thẻ «{card}» là của «{}» trong danh sách lớp học, không phải «{}»",
                            who.full_name,
                            name.trim()
                        ),
                    ));
                }
            }
            return Ok(*i);
        }
        let Some(name) = name else {
            return Err((
                AttendanceColumn::FullName,
                "chưa ghi số thẻ đảng viên hay họ và tên".into(),
            ));
        };
        match self
            .by_name
            .get(&text::fold(name))
            .map_or(&[][..], Vec::as_slice)
        {
            [i] => Ok(*i),
            [] => Err((
                AttendanceColumn::FullName,
                format!("không có ai tên «{}» trong danh sách lớp học", name.trim()),
            )),
            many => Err((
                AttendanceColumn::FullName,
                format!(
                    "có {} người tên «{}» trong danh sách lớp học; ghi thêm số thẻ đảng viên để phân biệt",
                    many.len(),
                    name.trim()
                ),
            )),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn headings(h: &[&str]) -> Vec<String> {
        h.iter().map(|s| (*s).to_string()).collect()
    }

    fn t(s: &str) -> Cell {
        Cell::Text(s.into())
    }

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap_or_default()
    }

    fn at(y: i32, m: u32, day: u32, h: u32, min: u32) -> NaiveDateTime {
        d(y, m, day).and_hms_opt(h, min, 0).unwrap_or_default()
    }

    #[test]
    fn r3_4_headings_are_recognised_without_diacritics() {
        use AttendanceColumn as C;
        assert_eq!(recognize("Buổi"), Some(C::Session));
        assert_eq!(recognize("BUOI HOC"), Some(C::Session));
        assert_eq!(recognize("Ngày"), Some(C::Date));
        assert_eq!(recognize("Số thẻ"), Some(C::CardNumber));
        assert_eq!(recognize("so the dang vien"), Some(C::CardNumber));
        assert_eq!(recognize("Họ và tên *"), Some(C::FullName));
        assert_eq!(recognize("Trạng thái"), Some(C::Status));
        assert_eq!(recognize("Đi muộn (phút)"), Some(C::Late));
        assert_eq!(recognize("di muon"), Some(C::Late));
        assert_eq!(recognize("Về sớm (phút)"), Some(C::LeftEarly));
        assert_eq!(recognize("Lý do"), Some(C::Reason));
        assert_eq!(recognize("Tổ chức"), None);
        assert_eq!(recognize(""), None);
        // Every template label reads back as itself.
        for c in C::ALL {
            assert_eq!(recognize(c.label()), Some(*c), "{c:?}");
        }
    }

    #[test]
    fn r3_4_missing_columns_are_named_with_the_columns_found() {
        let e = map_headers(&headings(&["Họ và tên", "Đơn vị"])).unwrap_err();
        assert_eq!(e.row, 1);
        assert!(e.message.contains("«Buổi»"), "{e}");
        assert!(e.message.contains("«Trạng thái»"), "{e}");
        assert!(!e.message.contains("«Số thẻ đảng viên» hoặc"), "{e}");
        assert!(e.message.contains("«Họ và tên», «Đơn vị»"), "{e}");
        let ok = map_headers(&headings(&["Ngày", "Số thẻ", "Trạng thái"])).unwrap();
        assert_eq!(ok.index(AttendanceColumn::Date), Some(0));
        assert_eq!(ok.index(AttendanceColumn::Status), Some(2));
        assert_eq!(ok.heading(AttendanceColumn::CardNumber), "Số thẻ");
    }

    #[test]
    fn r3_4_statuses_accept_labels_codes_and_paper_marks() {
        use AttendanceStatus as S;
        for (s, want) in [
            ("Có mặt", S::Present),
            ("co mat", S::Present),
            ("x", S::Present),
            ("X", S::Present),
            ("present", S::Present),
            ("Vắng", S::Absent),
            ("Vắng không lý do", S::Absent),
            ("v", S::Absent),
            ("absent", S::Absent),
            ("Vắng có lý do", S::Excused),
            ("P", S::Excused),
            ("excused", S::Excused),
        ] {
            assert_eq!(parse_status(s), Some(want), "{s}");
        }
        assert_eq!(parse_status("đến"), None);
        assert_eq!(parse_status(""), None);
    }

    #[test]
    fn r3_4_session_cells_read_as_number_or_date_and_time() {
        assert_eq!(parse_session(&t("2")), Ok(Some(SessionRef::Number(2))));
        assert_eq!(parse_session(&t("Buổi 3")), Ok(Some(SessionRef::Number(3))));
        assert_eq!(
            parse_session(&Cell::Number(1.0)),
            Ok(Some(SessionRef::Number(1)))
        );
        assert_eq!(
            parse_session(&t("10/03/2026")),
            Ok(Some(SessionRef::At(d(2026, 3, 10), None)))
        );
        assert_eq!(
            parse_session(&t("10/03/2026 13:30")),
            Ok(Some(SessionRef::At(
                d(2026, 3, 10),
                NaiveTime::from_hms_opt(13, 30, 0)
            )))
        );
        // Excel: 10/03/2026 is serial 46091; 07:30 is 0.3125 of a day.
        assert_eq!(
            parse_session(&Cell::Date(46091.3125)),
            Ok(Some(SessionRef::At(
                d(2026, 3, 10),
                NaiveTime::from_hms_opt(7, 30, 0)
            )))
        );
        assert_eq!(parse_session(&Cell::Empty), Ok(None));
        assert!(parse_session(&t("31/02/2026")).is_err());
        assert!(parse_session(&t("hôm qua")).is_err());
        assert!(parse_session(&t("10/03/2026 25:00")).is_err());
        assert!(parse_session(&Cell::Number(1.5)).is_err());
    }

    #[test]
    fn r3_4_minutes_must_be_whole_numbers() {
        assert_eq!(parse_minutes(&Cell::Empty), Ok(0));
        assert_eq!(parse_minutes(&t("15")), Ok(15));
        assert_eq!(parse_minutes(&t("15 phút")), Ok(15));
        assert_eq!(parse_minutes(&Cell::Number(20.0)), Ok(20));
        assert!(parse_minutes(&t("mười")).unwrap_err().contains("«mười»"));
        assert!(parse_minutes(&t("-5")).is_err());
        assert!(parse_minutes(&Cell::Number(2.5)).is_err());
    }

    fn cols() -> Columns {
        map_headers(&headings(&[
            "Buổi",
            "Số thẻ đảng viên",
            "Họ và tên",
            "Trạng thái",
            "Đi muộn (phút)",
            "Về sớm (phút)",
            "Lý do",
        ]))
        .unwrap()
    }

    #[test]
    fn r3_4_a_good_row_reads_whole() {
        let m = parse_row(
            5,
            &[
                t("2"),
                t("012345"),
                t("Nguyễn Văn An"),
                t("x"),
                t("10"),
                Cell::Empty,
                Cell::Empty,
            ],
            &cols(),
        )
        .unwrap()
        .unwrap();
        assert_eq!(m.row, 5);
        assert_eq!(m.session, SessionRef::Number(2));
        assert_eq!(m.card_number.as_deref(), Some("012345"));
        assert_eq!(m.status, AttendanceStatus::Present);
        assert_eq!(m.late_minutes, 10);
        assert_eq!(m.left_early_minutes, 0);
        // Minutes without a status: present.
        let m = parse_row(
            6,
            &[
                t("1"),
                t("1"),
                Cell::Empty,
                Cell::Empty,
                Cell::Empty,
                t("30"),
            ],
            &cols(),
        )
        .unwrap()
        .unwrap();
        assert_eq!(m.status, AttendanceStatus::Present);
        assert_eq!(m.left_early_minutes, 30);
    }

    #[test]
    fn r3_4_a_blank_status_line_is_not_recorded() {
        assert_eq!(
            parse_row(3, &[t("1"), t("012345"), t("Nguyễn Văn An")], &cols()),
            Ok(None)
        );
    }

    #[test]
    fn r3_4_bad_cells_are_reported_by_row_and_column() {
        let e = parse_row(
            7,
            &[t("hôm qua"), Cell::Empty, Cell::Empty, t("đến"), t("mười")],
            &cols(),
        )
        .unwrap_err();
        let lines: Vec<String> = e.iter().map(ToString::to_string).collect();
        assert!(
            lines
                .iter()
                .any(|l| l.starts_with("Dòng 7, cột Buổi: «hôm qua»")),
            "{lines:?}"
        );
        assert!(
            lines
                .iter()
                .any(|l| l.starts_with("Dòng 7, cột Trạng thái: «đến»")),
            "{lines:?}"
        );
        assert!(
            lines
                .iter()
                .any(|l| l.starts_with("Dòng 7, cột Đi muộn (phút): «mười»")),
            "{lines:?}"
        );
        assert!(
            lines
                .iter()
                .any(|l| l.starts_with("Dòng 7, cột Số thẻ đảng viên:")),
            "{lines:?}"
        );
        // Minutes on an absence are refused, not dropped.
        let e = parse_row(8, &[t("1"), t("1"), Cell::Empty, t("v"), t("10")], &cols()).unwrap_err();
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].column, "Đi muộn (phút)");
        // A reason without a status.
        let e = parse_row(
            9,
            &[
                t("1"),
                t("1"),
                Cell::Empty,
                Cell::Empty,
                Cell::Empty,
                Cell::Empty,
                t("ốm"),
            ],
            &cols(),
        )
        .unwrap_err();
        assert_eq!(e[0].column, "Trạng thái");
    }

    #[test]
    fn r3_4_date_and_time_columns_name_a_session() {
        let c = map_headers(&headings(&["Ngày", "Giờ", "Họ và tên", "Trạng thái"])).unwrap();
        let m = parse_row(2, &[t("10/03/2026"), t("13:30"), t("An"), t("Có mặt")], &c)
            .unwrap()
            .unwrap();
        assert_eq!(
            m.session,
            SessionRef::At(d(2026, 3, 10), NaiveTime::from_hms_opt(13, 30, 0))
        );
        // An Excel time cell (a day fraction).
        let m = parse_row(
            2,
            &[t("10/03/2026"), Cell::Number(0.5625), t("An"), t("x")],
            &c,
        )
        .unwrap()
        .unwrap();
        assert_eq!(
            m.session,
            SessionRef::At(d(2026, 3, 10), NaiveTime::from_hms_opt(13, 30, 0))
        );
    }

    #[test]
    fn r3_4_sessions_resolve_by_number_or_unambiguous_date() {
        let starts = [
            at(2026, 3, 10, 7, 30),
            at(2026, 3, 10, 13, 30),
            at(2026, 3, 12, 7, 30),
        ];
        assert_eq!(resolve_session(&SessionRef::Number(3), &starts), Ok(2));
        assert!(resolve_session(&SessionRef::Number(4), &starts)
            .unwrap_err()
            .contains("có 3 buổi"));
        assert!(resolve_session(&SessionRef::Number(0), &starts).is_err());
        assert_eq!(
            resolve_session(&SessionRef::At(d(2026, 3, 12), None), &starts),
            Ok(2)
        );
        // Two sessions that day and no time: ambiguous.
        let e = resolve_session(&SessionRef::At(d(2026, 3, 10), None), &starts).unwrap_err();
        assert!(e.contains("có 2 buổi") && e.contains("07:30, 13:30"), "{e}");
        assert_eq!(
            resolve_session(
                &SessionRef::At(d(2026, 3, 10), NaiveTime::from_hms_opt(13, 30, 0)),
                &starts
            ),
            Ok(1)
        );
        assert!(resolve_session(
            &SessionRef::At(d(2026, 3, 10), NaiveTime::from_hms_opt(9, 0, 0)),
            &starts
        )
        .is_err());
        assert!(
            resolve_session(&SessionRef::At(d(2026, 3, 11), None), &starts)
                .unwrap_err()
                .contains("11/03/2026")
        );
    }

    #[test]
    fn r3_4_people_match_by_card_or_one_name() {
        let people = People::new(vec![
            Candidate {
                card_number: Some("0012345".into()),
                full_name: "Nguyễn Văn An".into(),
            },
            Candidate {
                card_number: None,
                full_name: "Trần Thị Bình".into(),
            },
            Candidate {
                card_number: Some("222".into()),
                full_name: "Lê Văn Cường".into(),
            },
            Candidate {
                card_number: Some("333".into()),
                full_name: "Lê Văn Cường".into(),
            },
        ]);
        assert_eq!(people.find(Some("0012345"), None), Ok(0));
        // Leading zeros lost in a number cell.
        assert_eq!(people.find(Some("12345"), None), Ok(0));
        assert_eq!(people.find(None, Some("tran thi binh")), Ok(1));
        assert_eq!(people.find(Some("333"), Some("Lê Văn Cường")), Ok(3));
        let (col, e) = people.find(None, Some("Lê Văn Cường")).unwrap_err();
        assert_eq!(col, AttendanceColumn::FullName);
        assert!(e.contains("có 2 người"), "{e}");
        let (col, _) = people.find(Some("999"), None).unwrap_err();
        assert_eq!(col, AttendanceColumn::CardNumber);
        let (col, e) = people.find(Some("222"), Some("Trần Thị Bình")).unwrap_err();
        assert_eq!(col, AttendanceColumn::FullName);
        assert!(e.contains("Lê Văn Cường"), "{e}");
        assert!(people.find(None, Some("Không Ai")).is_err());
    }
}
