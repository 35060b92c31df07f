//! Putting resolutions into practice (issue 14): action programs and plans with their lifecycle
//! and items (R1.2, R7.x), and cascaded tasks (R8.1).

pub mod action_plans;
pub mod calendar;
pub mod export;
pub mod reminders;
pub mod tasks;
pub mod timeliness;

use chrono::NaiveDate;

/// The first `per_page` of `rows` (read one more than shown) and the key of the next page.
pub(crate) fn page_of<T, K>(
    mut rows: Vec<T>,
    per_page: i64,
    key: impl Fn(&T) -> K,
) -> (Vec<T>, Option<K>) {
    let per_page = usize::try_from(per_page).unwrap_or(usize::MAX);
    let more = rows.len() > per_page;
    rows.truncate(per_page);
    let next = if more { rows.last().map(key) } else { None };
    (rows, next)
}

/// A keyset "date_id_id" as the lists write it.
pub(crate) fn parse_key(s: &str) -> Option<(NaiveDate, i64, i64)> {
    let mut parts = s.split('_');
    let d = parts.next()?.parse::<NaiveDate>().ok()?;
    let t = parts.next()?.parse::<i64>().ok()?;
    let o = parts.next()?.parse::<i64>().ok()?;
    Some((d, t, o))
}
