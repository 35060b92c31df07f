//! The seating chart of a class's venue (R3.4): a grid of lettered rows and numbered seats, some
//! blocked, and the rule that seats people by organization, then in Vietnamese name order.
//!
//! Rows are lettered like spreadsheet columns (A … Z, AA, AB …), so the 60 rows a hall may have
//! all get a short code; seats are numbered from 1. A seat is written "B12" (row B, seat 12).

use std::collections::BTreeSet;
use std::fmt;

use serde::Serialize;

use crate::FieldErrors;

/// Most rows a hall may have.
pub const MAX_ROWS: u16 = 60;
/// Most seats in one row.
pub const MAX_SEATS_PER_ROW: u16 = 80;

/// Why a seating plan or a seat was refused. `Display` is the Vietnamese message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SeatError {
    #[error("Số hàng ghế phải là số nguyên từ 1 đến {MAX_ROWS}.")]
    RowsOutOfRange,
    #[error("Số ghế mỗi hàng phải là số nguyên từ 1 đến {MAX_SEATS_PER_ROW}.")]
    SeatsOutOfRange,
    #[error("«{0}» không phải mã ghế hợp lệ (ví dụ: B12 là hàng B, ghế số 12).")]
    InvalidSeat(String),
    #[error("Ghế {seat} nằm ngoài sơ đồ (hàng A–{last_row}, ghế 1–{seats_per_row}).")]
    OutsideGrid {
        seat: String,
        last_row: String,
        seats_per_row: u16,
    },
    #[error("Ghế {0} là ghế không sử dụng (bị chặn).")]
    Blocked(String),
    #[error("Có {participants} người cần xếp chỗ nhưng hội trường chỉ có {free} ghế sử dụng được: còn thiếu {missing} ghế. Hãy thêm hàng hoặc ghế, hoặc bỏ chặn bớt ghế. Chưa xếp chỗ cho ai.")]
    NotEnoughSeats {
        participants: usize,
        free: usize,
        missing: usize,
    },
}

impl SeatError {
    /// Stable machine-readable code for the API.
    pub fn code(&self) -> &'static str {
        match self {
            Self::RowsOutOfRange => "seat_rows_out_of_range",
            Self::SeatsOutOfRange => "seats_per_row_out_of_range",
            Self::InvalidSeat(_) => "invalid_seat",
            Self::OutsideGrid { .. } => "seat_outside_grid",
            Self::Blocked(_) => "seat_blocked",
            Self::NotEnoughSeats { .. } => "not_enough_seats",
        }
    }
}

/// The letters of row `row` (1-based): 1 → "A", 26 → "Z", 27 → "AA", 60 → "BH".
pub fn row_letters(row: u16) -> String {
    let mut n = u32::from(row);
    let mut out = Vec::new();
    while n > 0 {
        let r = (n - 1) % 26;
        out.push(char::from(b'A' + r as u8));
        n = (n - 1) / 26;
    }
    out.iter().rev().collect()
}

/// The row number of letters "A", "AA" … (case-insensitive); `None` for anything else.
fn parse_row_letters(s: &str) -> Option<u16> {
    if s.is_empty() || s.len() > 3 || !s.bytes().all(|b| b.is_ascii_alphabetic()) {
        return None;
    }
    let mut n: u32 = 0;
    for b in s.bytes() {
        n = n * 26 + u32::from(b.to_ascii_uppercase() - b'A') + 1;
    }
    u16::try_from(n).ok()
}

/// One seat: row (1-based) and number (1-based). Ordered row by row, front to back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct SeatRef {
    pub row: u16,
    pub number: u16,
}

impl SeatRef {
    /// A seat from its row and number (both from 1); no grid check.
    pub fn new(row: u16, number: u16) -> Result<Self, SeatError> {
        if row == 0 || number == 0 {
            return Err(SeatError::InvalidSeat(format!("{row}/{number}")));
        }
        Ok(Self { row, number })
    }

    /// Parses "B12", "b12", "B-12" or "B 12".
    pub fn parse(s: &str) -> Result<Self, SeatError> {
        let t = s.trim();
        let bad = || SeatError::InvalidSeat(t.to_string());
        let split = t.find(|c: char| !c.is_ascii_alphabetic()).ok_or_else(bad)?;
        let (letters, rest) = t.split_at(split);
        let digits = rest.trim_start_matches([' ', '-']);
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) || digits.len() > 3 {
            return Err(bad());
        }
        let row = parse_row_letters(letters).ok_or_else(bad)?;
        let number = digits.parse::<u16>().map_err(|_| bad())?;
        Self::new(row, number).map_err(|_| bad())
    }

    /// The row's letters ("B").
    pub fn row_code(&self) -> String {
        row_letters(self.row)
    }

    /// The seat's code ("B12").
    pub fn code(&self) -> String {
        format!("{}{}", row_letters(self.row), self.number)
    }
}

impl fmt::Display for SeatRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.code())
    }
}

/// A validated hall: 1..=60 rows of 1..=80 seats, blocked seats inside the grid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SeatGrid {
    rows: u16,
    seats_per_row: u16,
    blocked: BTreeSet<SeatRef>,
}

impl SeatGrid {
    /// Validates a grid; `blocked` is a list of seat codes separated by commas, semicolons or
    /// spaces ("A3, C1"). Duplicates are kept once.
    pub fn new(rows: i64, seats_per_row: i64, blocked: &str) -> Result<Self, SeatError> {
        let rows = u16::try_from(rows)
            .ok()
            .filter(|r| (1..=MAX_ROWS).contains(r))
            .ok_or(SeatError::RowsOutOfRange)?;
        let seats_per_row = u16::try_from(seats_per_row)
            .ok()
            .filter(|s| (1..=MAX_SEATS_PER_ROW).contains(s))
            .ok_or(SeatError::SeatsOutOfRange)?;
        let mut grid = Self {
            rows,
            seats_per_row,
            blocked: BTreeSet::new(),
        };
        for part in blocked
            .split([',', ';', ' ', '\n', '\r', '\t'])
            .filter(|p| !p.trim().is_empty())
        {
            let seat = SeatRef::parse(part)?;
            grid.check_inside(seat)?;
            grid.blocked.insert(seat);
        }
        Ok(grid)
    }

    pub fn rows(&self) -> u16 {
        self.rows
    }
    pub fn seats_per_row(&self) -> u16 {
        self.seats_per_row
    }
    /// The blocked seats, front to back.
    pub fn blocked(&self) -> impl Iterator<Item = SeatRef> + '_ {
        self.blocked.iter().copied()
    }
    /// The blocked seats as stored and shown: "A3,C1".
    pub fn blocked_text(&self) -> String {
        self.blocked
            .iter()
            .map(SeatRef::code)
            .collect::<Vec<_>>()
            .join(",")
    }
    pub fn contains(&self, seat: SeatRef) -> bool {
        seat.row >= 1
            && seat.row <= self.rows
            && seat.number >= 1
            && seat.number <= self.seats_per_row
    }
    pub fn is_blocked(&self, seat: SeatRef) -> bool {
        self.blocked.contains(&seat)
    }
    /// Seats in the grid.
    pub fn size(&self) -> usize {
        usize::from(self.rows) * usize::from(self.seats_per_row)
    }
    /// Seats that can be used (not blocked).
    pub fn capacity(&self) -> usize {
        self.size() - self.blocked.len()
    }

    /// `Ok` when the seat lies in the grid.
    pub fn check_inside(&self, seat: SeatRef) -> Result<(), SeatError> {
        if self.contains(seat) {
            Ok(())
        } else {
            Err(SeatError::OutsideGrid {
                seat: seat.code(),
                last_row: row_letters(self.rows),
                seats_per_row: self.seats_per_row,
            })
        }
    }

    /// `Ok` when someone may sit there: inside the grid and not blocked.
    pub fn check_usable(&self, seat: SeatRef) -> Result<(), SeatError> {
        self.check_inside(seat)?;
        if self.is_blocked(seat) {
            return Err(SeatError::Blocked(seat.code()));
        }
        Ok(())
    }

    /// Every seat, row by row from the front, left to right.
    pub fn seats(&self) -> impl Iterator<Item = SeatRef> + '_ {
        (1..=self.rows).flat_map(move |row| {
            (1..=self.seats_per_row).map(move |number| SeatRef { row, number })
        })
    }

    /// Usable seats in filling order: front row first, left to right.
    pub fn free_seats(&self) -> impl Iterator<Item = SeatRef> + '_ {
        self.seats().filter(|s| !self.is_blocked(*s))
    }
}

/// Assigns seats automatically (R3.4): sorted by `key` — the caller puts the organization first
/// and the person's stored Vietnamese name key second, so members of one organization sit
/// together in name order — then seated front to back, left to right, skipping blocked seats.
/// Refuses, seating nobody, when there are more people than usable seats.
pub fn auto_assign<K: Ord, T: Copy>(
    grid: &SeatGrid,
    mut people: Vec<(K, T)>,
) -> Result<Vec<(T, SeatRef)>, SeatError> {
    let free = grid.capacity();
    if people.len() > free {
        return Err(SeatError::NotEnoughSeats {
            participants: people.len(),
            free,
            missing: people.len() - free,
        });
    }
    people.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(people
        .into_iter()
        .map(|(_, t)| t)
        .zip(grid.free_seats())
        .collect())
}

/// Assigned seats that a new grid would drop or block, front to back.
pub fn displaced(grid: &SeatGrid, assigned: impl IntoIterator<Item = SeatRef>) -> Vec<SeatRef> {
    let mut v: Vec<SeatRef> = assigned
        .into_iter()
        .filter(|s| grid.check_usable(*s).is_err())
        .collect();
    v.sort();
    v.dedup();
    v
}

/// A short name for a seat card: initials of the family and middle names, then the given name
/// ("Nguyễn Văn An" → "N.V. An"; "Y Blô Kpă" with given name "Blô" → "K.Y. Blô").
pub fn short_name(family: &str, middle: &str, given: &str) -> String {
    let initials: String = family
        .split_whitespace()
        .chain(middle.split_whitespace())
        .filter_map(|w| w.chars().next())
        .flat_map(|c| c.to_uppercase().chain(std::iter::once('.')))
        .collect();
    let given = given.trim();
    match (initials.is_empty(), given.is_empty()) {
        (true, _) => given.to_string(),
        (false, true) => initials,
        (false, false) => format!("{initials} {given}"),
    }
}

/// What the plan form sends, kept as typed so it can be shown again with its errors.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
pub struct SeatPlanInput {
    pub row_count: String,
    pub seats_per_row: String,
    pub blocked: String,
}

impl SeatPlanInput {
    /// The typed plan as a grid, or the error of each field.
    pub fn validate(&self) -> Result<SeatGrid, FieldErrors> {
        let mut e = FieldErrors::new();
        let rows = self.row_count.trim().parse::<i64>().ok();
        let seats = self.seats_per_row.trim().parse::<i64>().ok();
        let rows = match rows.filter(|r| (1..=i64::from(MAX_ROWS)).contains(r)) {
            Some(r) => Some(r),
            None => {
                e.add("row_count", SeatError::RowsOutOfRange);
                None
            }
        };
        let seats = match seats.filter(|s| (1..=i64::from(MAX_SEATS_PER_ROW)).contains(s)) {
            Some(s) => Some(s),
            None => {
                e.add("seats_per_row", SeatError::SeatsOutOfRange);
                None
            }
        };
        if let (Some(r), Some(s)) = (rows, seats) {
            match SeatGrid::new(r, s, &self.blocked) {
                Ok(g) => return Ok(g),
                Err(err) => e.add("blocked", err),
            }
        } else {
            // Still report a badly written blocked seat while the sizes are wrong.
            for part in self
                .blocked
                .split([',', ';', ' ', '\n', '\r', '\t'])
                .filter(|p| !p.trim().is_empty())
            {
                if let Err(err) = SeatRef::parse(part) {
                    e.add("blocked", err);
                    break;
                }
            }
        }
        Err(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seat(s: &str) -> SeatRef {
        SeatRef::parse(s).expect("valid seat")
    }

    #[test]
    fn r3_4_row_letters_run_past_z() {
        assert_eq!(row_letters(1), "A");
        assert_eq!(row_letters(26), "Z");
        assert_eq!(row_letters(27), "AA");
        assert_eq!(row_letters(52), "AZ");
        assert_eq!(row_letters(53), "BA");
        assert_eq!(row_letters(60), "BH");
        for r in 1..=MAX_ROWS {
            assert_eq!(parse_row_letters(&row_letters(r)), Some(r));
        }
    }

    #[test]
    fn r3_4_seat_codes_parse() {
        assert_eq!(seat("B12"), SeatRef { row: 2, number: 12 });
        assert_eq!(seat(" b12 "), SeatRef { row: 2, number: 12 });
        assert_eq!(seat("B-12"), SeatRef { row: 2, number: 12 });
        assert_eq!(seat("AA1"), SeatRef { row: 27, number: 1 });
        assert_eq!(seat("C1").code(), "C1");
        for bad in [
            "", "12", "B", "B0", "Bx", "1B", "B12a", "Đ3", "B1234", "ABCD1",
        ] {
            let e = SeatRef::parse(bad).expect_err(bad);
            assert_eq!(e.code(), "invalid_seat", "{bad}");
            assert!(e.to_string().contains("B12"), "{e}");
        }
    }

    #[test]
    fn r3_4_grid_bounds() {
        assert!(SeatGrid::new(1, 1, "").is_ok());
        assert!(SeatGrid::new(60, 80, "").is_ok());
        assert_eq!(SeatGrid::new(0, 10, ""), Err(SeatError::RowsOutOfRange));
        assert_eq!(SeatGrid::new(61, 10, ""), Err(SeatError::RowsOutOfRange));
        assert_eq!(SeatGrid::new(10, 0, ""), Err(SeatError::SeatsOutOfRange));
        assert_eq!(SeatGrid::new(10, 81, ""), Err(SeatError::SeatsOutOfRange));
        assert_eq!(SeatGrid::new(-1, 10, ""), Err(SeatError::RowsOutOfRange));
    }

    #[test]
    fn r3_4_blocked_seats_inside_the_grid() {
        let g = SeatGrid::new(3, 4, "a3; C1,  A3 c1").expect("grid");
        assert_eq!(g.blocked_text(), "A3,C1");
        assert_eq!(g.capacity(), 10);
        assert!(g.is_blocked(seat("A3")));
        let e = SeatGrid::new(3, 4, "D1").expect_err("row D outside");
        assert_eq!(e.code(), "seat_outside_grid");
        assert_eq!(e.to_string(), "Ghế D1 nằm ngoài sơ đồ (hàng A–C, ghế 1–4).");
        let e = SeatGrid::new(3, 4, "A5").expect_err("seat 5 outside");
        assert_eq!(e.code(), "seat_outside_grid");
        let e = SeatGrid::new(3, 4, "A3,xx").expect_err("bad code");
        assert_eq!(e, SeatError::InvalidSeat("xx".into()));
        assert_eq!(
            g.check_usable(seat("C1")),
            Err(SeatError::Blocked("C1".into()))
        );
        assert!(g.check_usable(seat("C2")).is_ok());
    }

    #[test]
    fn r3_4_auto_assign_groups_by_org_then_name_skipping_blocked() {
        // 2 rows of 3, A2 blocked: free seats A1 A3 B1 B2 B3.
        let g = SeatGrid::new(2, 3, "A2").expect("grid");
        let people = vec![
            (("org2", "b"), 1),
            (("org1", "c"), 2),
            (("org2", "a"), 3),
            (("org1", "a"), 4),
            (("org1", "b"), 5),
        ];
        let got = auto_assign(&g, people).expect("fits");
        let codes: Vec<(i32, String)> = got.iter().map(|(p, s)| (*p, s.code())).collect();
        assert_eq!(
            codes,
            vec![
                (4, "A1".to_string()),
                (5, "A3".to_string()),
                (2, "B1".to_string()),
                (3, "B2".to_string()),
                (1, "B3".to_string()),
            ]
        );
        assert!(got.iter().all(|(_, s)| !g.is_blocked(*s)));
    }

    #[test]
    fn r3_4_auto_assign_refuses_when_seats_run_out() {
        let g = SeatGrid::new(2, 3, "A2").expect("grid");
        let people: Vec<(u8, u8)> = (0..8).map(|i| (i, i)).collect();
        let e = auto_assign(&g, people).expect_err("8 people, 5 seats");
        assert_eq!(
            e,
            SeatError::NotEnoughSeats {
                participants: 8,
                free: 5,
                missing: 3
            }
        );
        assert!(e.to_string().contains("còn thiếu 3 ghế"), "{e}");
        // Exactly full is fine.
        let people: Vec<(u8, u8)> = (0..5).map(|i| (i, i)).collect();
        assert_eq!(auto_assign(&g, people).expect("fits").len(), 5);
    }

    #[test]
    fn r3_4_displaced_seats_of_a_smaller_plan() {
        let g = SeatGrid::new(2, 3, "B1").expect("grid");
        let assigned = [seat("A1"), seat("B1"), seat("C2"), seat("A4"), seat("B3")];
        let d: Vec<String> = displaced(&g, assigned).iter().map(SeatRef::code).collect();
        assert_eq!(d, vec!["A4", "B1", "C2"]);
    }

    #[test]
    fn r3_4_short_names() {
        assert_eq!(short_name("Nguyễn", "Văn", "An"), "N.V. An");
        assert_eq!(short_name("Lê", "Thị Minh", "Khai"), "L.T.M. Khai");
        assert_eq!(short_name("Đỗ", "", "Hùng"), "Đ. Hùng");
        assert_eq!(short_name("", "", "Blô"), "Blô");
    }

    #[test]
    fn r3_4_plan_input_keeps_field_errors() {
        let i = SeatPlanInput {
            row_count: "0".into(),
            seats_per_row: "abc".into(),
            blocked: "A1, ??".into(),
        };
        let e = i.validate().expect_err("invalid");
        assert!(e.get("row_count").is_some());
        assert!(e.get("seats_per_row").is_some());
        assert!(e.get("blocked").is_some_and(|m| m.contains("??")));
        let ok = SeatPlanInput {
            row_count: " 10 ".into(),
            seats_per_row: "20".into(),
            blocked: "A1,J20".into(),
        };
        let g = ok.validate().expect("valid");
        assert_eq!((g.rows(), g.seats_per_row(), g.capacity()), (10, 20, 198));
        let out = SeatPlanInput {
            row_count: "2".into(),
            seats_per_row: "2".into(),
            blocked: "C1".into(),
        };
        assert!(out
            .validate()
            .expect_err("outside")
            .get("blocked")
            .is_some_and(|m| m.contains("C1")));
    }
}
