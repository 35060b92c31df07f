//! Vietnamese text: diacritic folding for search, name order for sorting, name splitting,
//! and the dd/mm/yyyy date form.

use chrono::{Datelike, NaiveDate};
use unicode_normalization::UnicodeNormalization;

use crate::RuleError;

/// Composes letters and combining marks (NFC): "A" + U+0301 becomes "Á", as Windows-1258 files need.
pub fn compose(s: &str) -> String {
    s.nfc().collect()
}

/// Lower-case and strip diacritics, so that "nghi quyet" finds "Nghị quyết" (đ folds to d).
/// Runs of whitespace become one space.
pub fn fold(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut last_space = true;
    for c in s.nfd() {
        if is_combining(c) {
            continue;
        }
        let c = match c {
            'đ' | 'Đ' => 'd',
            c if c.is_whitespace() => ' ',
            c => c,
        };
        if c == ' ' {
            if !last_space {
                out.push(' ');
            }
            last_space = true;
            continue;
        }
        last_space = false;
        out.extend(c.to_lowercase());
    }
    if out.ends_with(' ') {
        out.pop();
    }
    out
}

fn is_combining(c: char) -> bool {
    matches!(c, '\u{0300}'..='\u{036F}')
}

/// The Vietnamese alphabet in its order; letters outside it (f, j, w, z) sit where Latin puts them.
const ALPHABET: [&str; 29 + 4] = [
    "a", "ă", "â", "b", "c", "d", "đ", "e", "ê", "f", "g", "h", "i", "j", "k", "l", "m", "n", "o",
    "ô", "ơ", "p", "q", "r", "s", "t", "u", "ư", "v", "w", "x", "y", "z",
];

/// Tone of a syllable, in the order used as the secondary difference:
/// ngang, huyền, hỏi, ngã, sắc, nặng (as in the Unicode CLDR Vietnamese collation).
fn tone_rank(mark: char) -> Option<u8> {
    Some(match mark {
        '\u{0300}' => 1, // huyền
        '\u{0309}' => 2, // hỏi
        '\u{0303}' => 3, // ngã
        '\u{0301}' => 4, // sắc
        '\u{0323}' => 5, // nặng
        _ => return None,
    })
}

/// Splits one letter (possibly with marks) into its alphabet rank and its tone.
fn letter_keys(base: char, marks: &[char]) -> Option<(u8, u8)> {
    let base = base.to_lowercase().next().unwrap_or(base);
    let mut letter = String::new();
    letter.push(if base == 'đ' { 'đ' } else { base });
    let mut tone = 0;
    for &m in marks {
        match m {
            '\u{0306}' | '\u{0302}' | '\u{031B}' => letter.push(m),
            m => {
                if let Some(t) = tone_rank(m) {
                    tone = t;
                }
            }
        }
    }
    let letter: String = letter.nfc().collect();
    let rank = ALPHABET.iter().position(|l| *l == letter)?;
    Some((rank as u8, tone))
}

/// Primary (letters) and secondary (tones) keys of one word or phrase.
fn phrase_keys(s: &str, primary: &mut String, secondary: &mut String) {
    let decomposed: Vec<char> = s.nfd().collect();
    let mut i = 0;
    while i < decomposed.len() {
        let c = decomposed[i];
        let mut j = i + 1;
        while j < decomposed.len() && is_combining(decomposed[j]) {
            j += 1;
        }
        let marks = &decomposed[i + 1..j];
        if c.is_whitespace() {
            primary.push_str("01");
        } else if c.is_ascii_digit() {
            primary.push_str(&format!("{:02}", 2 + c as u32 - '0' as u32));
        } else if let Some((rank, tone)) = letter_keys(c, marks) {
            primary.push_str(&format!("{:02}", 20 + u32::from(rank)));
            secondary.push(char::from(b'0' + tone));
        }
        // Apostrophes, hyphens and other signs do not count ("H'Hen" sorts as "HHen").
        i = j;
    }
}

/// A sort key for a Vietnamese name: given name first, then middle names, then family name, each
/// in Vietnamese letter order, with tones as a secondary difference. Comparing keys bytewise
/// (`COLLATE "C"` on PostgreSQL, BINARY on SQLite) gives the order a Vietnamese reader expects.
pub fn name_sort_key(family: &str, middle: &str, given: &str) -> String {
    let mut primary = String::new();
    let mut secondary = String::new();
    for part in [given, middle, family] {
        phrase_keys(part.trim(), &mut primary, &mut secondary);
        // "00" ends each part and sorts before every letter, so "An" comes before "Anh".
        primary.push_str("00");
        secondary.push('/');
    }
    primary.push('|');
    primary.push_str(&secondary);
    primary
}

/// A sort key for any other text (organization names, titles), same letter order.
pub fn text_sort_key(s: &str) -> String {
    let mut primary = String::new();
    let mut secondary = String::new();
    phrase_keys(s.trim(), &mut primary, &mut secondary);
    primary.push('|');
    primary.push_str(&secondary);
    primary
}

/// Splits a full name at the last word: "Nguyễn Thị Minh Khai" → ("Nguyễn", "Thị Minh", "Khai").
/// This is the default; for Ê Đê and Gia Rai names ("Y Blô Kpă") the split is corrected by hand.
pub fn split_full_name(full: &str) -> (String, String, String) {
    let words: Vec<&str> = full.split_whitespace().collect();
    match words.as_slice() {
        [] => (String::new(), String::new(), String::new()),
        [one] => (String::new(), String::new(), (*one).to_string()),
        [family, rest @ .., given] => ((*family).to_string(), rest.join(" "), (*given).to_string()),
    }
}

/// Joins the parts of a name the way it is written: family, middle, given.
pub fn join_name(family: &str, middle: &str, given: &str) -> String {
    [family, middle, given]
        .iter()
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Parses a date as Vietnamese forms write it (dd/mm/yyyy, d/m/yyyy, dd-mm-yyyy) or ISO (yyyy-mm-dd).
pub fn parse_date(s: &str) -> Result<NaiveDate, RuleError> {
    let d = parse_any_date(s)?;
    if !(MIN_YEAR..=MAX_YEAR).contains(&d.year()) {
        // Issue 10.8: a year like 99999 reached the database (and PostgreSQL's date range).
        return Err(RuleError::YearOutOfRange {
            min: MIN_YEAR,
            max: MAX_YEAR,
        });
    }
    Ok(d)
}

/// Years a date may carry (births, releases, sessions).
pub const MIN_YEAR: i32 = 1900;
pub const MAX_YEAR: i32 = 2200;

fn parse_any_date(s: &str) -> Result<NaiveDate, RuleError> {
    let s = s.trim();
    if s.is_empty() {
        return Err(RuleError::Required);
    }
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Ok(d);
    }
    let parts: Vec<&str> = s.split(['/', '-', '.']).collect();
    if let [d, m, y] = parts.as_slice() {
        if y.len() == 4 {
            if let (Ok(d), Ok(m), Ok(y)) = (d.parse(), m.parse(), y.parse()) {
                if let Some(date) = NaiveDate::from_ymd_opt(y, m, d) {
                    return Ok(date);
                }
            }
        }
    }
    Err(RuleError::InvalidDate)
}

/// An optional date field: empty is `None`, otherwise it must parse.
pub fn parse_optional_date(s: &str) -> Result<Option<NaiveDate>, RuleError> {
    if s.trim().is_empty() {
        Ok(None)
    } else {
        parse_date(s).map(Some)
    }
}

/// A date as Vietnamese readers write it: 07/02/2026.
pub fn format_date(d: NaiveDate) -> String {
    d.format("%d/%m/%Y").to_string()
}

/// A whole number with Vietnamese thousands separators: 1.900.000.
pub fn format_count(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push('.');
        }
        out.push(c);
    }
    if n < 0 {
        format!("-{out}")
    } else {
        out
    }
}

/// A character no text field may hold (issue 10.8): control characters other than tab and line
/// ends, and the bidirectional overrides and isolates that make text read differently from how it
/// is stored ("Trojan source").
pub fn forbidden_char(c: char) -> bool {
    (c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
        || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Trimmed required text of at most `max` characters.
pub fn required_text(s: &str, max: usize) -> Result<String, RuleError> {
    let t = s.trim();
    if t.is_empty() {
        return Err(RuleError::Required);
    }
    optional_text(t, max).map(|o| o.unwrap_or_default())
}

/// Trimmed optional text of at most `max` characters; empty is `None`.
pub fn optional_text(s: &str, max: usize) -> Result<Option<String>, RuleError> {
    let t = s.trim();
    if t.chars().any(forbidden_char) {
        return Err(RuleError::ControlCharacters);
    }
    if t.chars().count() > max {
        return Err(RuleError::TooLong { max });
    }
    Ok((!t.is_empty()).then(|| t.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 10.8: NUL, control and bidi characters, and years outside 1900–2200, are refused.
    #[test]
    fn controls_bidi_and_far_years_are_refused() {
        for bad in [
            "Về\u{0}việc",
            "a\u{1b}[31m",
            "Nghị quyết \u{202E}mật",
            "x\u{2066}y",
        ] {
            assert_eq!(
                required_text(bad, 100),
                Err(RuleError::ControlCharacters),
                "{bad:?}"
            );
        }
        assert!(optional_text("Dòng một\nDòng hai\tcột", 100).is_ok());
        assert!(matches!(
            parse_date("01/01/1899"),
            Err(RuleError::YearOutOfRange { .. })
        ));
        assert!(parse_date("99999-01-01").is_err());
        assert!(parse_date("31/12/2200").is_ok());
        assert!(parse_date("01/01/1900").is_ok());
    }

    #[test]
    fn fold_strips_diacritics_and_case() {
        assert_eq!(fold("Nghị quyết"), "nghi quyet");
        assert_eq!(fold("  ĐẢNG  ủy   xã Đăk Hà "), "dang uy xa dak ha");
        assert_eq!(fold("Nguyễn Văn An"), "nguyen van an");
        assert_eq!(fold("H'Hen Niê"), "h'hen nie");
    }

    fn sorted(names: &[(&str, &str, &str)]) -> Vec<String> {
        let mut v: Vec<_> = names.to_vec();
        v.sort_by_key(|(f, m, g)| name_sort_key(f, m, g));
        v.iter().map(|(f, m, g)| join_name(f, m, g)).collect()
    }

    #[test]
    fn names_sort_by_given_then_middle_then_family() {
        let got = sorted(&[
            ("Trần", "Văn", "Bình"),
            ("Nguyễn", "Văn", "An"),
            ("Lê", "Thị", "An"),
            ("Nguyễn", "Thị", "An"),
        ]);
        assert_eq!(
            got,
            [
                "Lê Thị An",
                "Nguyễn Thị An",
                "Nguyễn Văn An",
                "Trần Văn Bình"
            ]
        );
    }

    #[test]
    fn vietnamese_letter_order_a_breve_circumflex_d_stroke() {
        let got = sorted(&[
            ("", "", "Ân"),
            ("", "", "Ăn"),
            ("", "", "An"),
            ("", "", "Đào"),
            ("", "", "Dung"),
            ("", "", "Ưng"),
            ("", "", "Uyên"),
            ("", "", "Ơn"),
            ("", "", "Ông"),
            ("", "", "Oanh"),
        ]);
        assert_eq!(
            got,
            ["An", "Ăn", "Ân", "Dung", "Đào", "Oanh", "Ông", "Ơn", "Uyên", "Ưng"]
        );
    }

    #[test]
    fn shorter_name_comes_first_and_tones_are_secondary() {
        let got = sorted(&[
            ("", "", "Anh"),
            ("", "", "An"),
            ("", "", "Ánh"),
            ("", "", "Ạnh"),
        ]);
        assert_eq!(got, ["An", "Anh", "Ánh", "Ạnh"]);
        // The letter difference wins over the tone difference.
        let got = sorted(&[("", "", "Bá"), ("", "", "Bac")]);
        assert_eq!(got, ["Bá", "Bac"]);
    }

    #[test]
    fn ede_name_sorts_by_the_given_name_set_by_hand() {
        // "Y Blô Kpă": given name Blô, clan name Kpă last.
        let got = sorted(&[("Kpă", "Y", "Blô"), ("Nguyễn", "Văn", "Cường")]);
        assert_eq!(got, ["Kpă Y Blô", "Nguyễn Văn Cường"]);
    }

    #[test]
    fn split_at_last_word_by_default() {
        assert_eq!(
            split_full_name("Nguyễn Thị Minh Khai"),
            ("Nguyễn".into(), "Thị Minh".into(), "Khai".into())
        );
        assert_eq!(
            split_full_name("Lê  Lợi"),
            ("Lê".into(), "".into(), "Lợi".into())
        );
        assert_eq!(split_full_name("Blô"), ("".into(), "".into(), "Blô".into()));
    }

    #[test]
    fn dates_in_vietnamese_forms() {
        let d = NaiveDate::from_ymd_opt(2026, 2, 7).expect("valid");
        assert_eq!(parse_date("07/02/2026"), Ok(d));
        assert_eq!(parse_date("7/2/2026"), Ok(d));
        assert_eq!(parse_date("2026-02-07"), Ok(d));
        assert_eq!(parse_date("31/02/1970"), Err(RuleError::InvalidDate));
        assert_eq!(parse_date(""), Err(RuleError::Required));
        assert_eq!(format_date(d), "07/02/2026");
    }

    #[test]
    fn counts_use_dots() {
        assert_eq!(format_count(1_900_000), "1.900.000");
        assert_eq!(format_count(999), "999");
        assert_eq!(format_count(0), "0");
    }
}
