//! The calendar feed of due dates (issue 14.6): iCalendar (RFC 5545) text of all-day events,
//! escaped and folded as the standard asks, so that phones and desktop calendars subscribe to a
//! private link of the tasks and plan items that concern an account.

use chrono::{DateTime, NaiveDate, Utc};

/// One due date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// Stable across fetches ("task-12-40@quantriet"), so a calendar updates, not duplicates.
    pub uid: String,
    pub date: NaiveDate,
    pub summary: String,
    pub description: String,
    /// An absolute link to the page, when the base address is known.
    pub url: Option<String>,
}

/// Escapes a TEXT value (RFC 5545 §3.3.11).
fn text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// Folds a content line at 75 octets, never inside a UTF-8 character (§3.1), with CRLF.
fn fold(line: &str, out: &mut String) {
    let mut used = 0;
    for c in line.chars() {
        let n = c.len_utf8();
        if used + n > 75 {
            out.push_str("\r\n ");
            used = 1;
        }
        out.push(c);
        used += n;
    }
    out.push_str("\r\n");
}

/// The calendar of `events`, stamped `now`, named `name`.
pub fn ics(name: &str, events: &[Event], now: DateTime<Utc>) -> String {
    let mut out = String::new();
    let stamp = now.format("%Y%m%dT%H%M%SZ").to_string();
    for l in [
        "BEGIN:VCALENDAR".to_string(),
        "VERSION:2.0".into(),
        "PRODID:-//quantriet//Viec cua don vi//VI".into(),
        "CALSCALE:GREGORIAN".into(),
        "METHOD:PUBLISH".into(),
        format!("X-WR-CALNAME:{}", text(name)),
        "X-WR-TIMEZONE:Asia/Ho_Chi_Minh".into(),
    ] {
        fold(&l, &mut out);
    }
    for e in events {
        let next = e.date.succ_opt().unwrap_or(e.date);
        let mut lines = vec![
            "BEGIN:VEVENT".to_string(),
            format!("UID:{}", text(&e.uid)),
            format!("DTSTAMP:{stamp}"),
            format!("DTSTART;VALUE=DATE:{}", e.date.format("%Y%m%d")),
            format!("DTEND;VALUE=DATE:{}", next.format("%Y%m%d")),
            format!("SUMMARY:{}", text(&e.summary)),
            format!("DESCRIPTION:{}", text(&e.description)),
        ];
        if let Some(u) = &e.url {
            lines.push(format!("URL:{}", u.replace(['\r', '\n'], "")));
        }
        lines.push("END:VEVENT".into());
        for l in lines {
            fold(&l, &mut out);
        }
    }
    fold("END:VCALENDAR", &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaped_and_folded_at_75_octets() {
        let e = Event {
            uid: "task-1-2@quantriet".into(),
            date: NaiveDate::from_ymd_opt(2026, 12, 31).expect("date"),
            summary: "Hạn: báo cáo, tổng kết; chi bộ \\ thôn".into(),
            description: "Dòng một\nDòng hai ".repeat(10),
            url: None,
        };
        let s = ics("Việc của đơn vị", &[e], Utc::now());
        assert!(s.contains("SUMMARY:Hạn: báo cáo\\, tổng kết\\; chi bộ \\\\ thôn"));
        assert!(s.contains("DTSTART;VALUE=DATE:20261231\r\nDTEND;VALUE=DATE:20270101"));
        for line in s.split("\r\n") {
            assert!(line.len() <= 75, "{line:?} is {} octets", line.len());
        }
        assert!(s.ends_with("END:VCALENDAR\r\n"));
        assert!(!s.contains('\n') || s.matches('\n').count() == s.matches("\r\n").count());
    }
}
