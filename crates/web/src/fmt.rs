//! Formatting for templates: dates dd/mm/yyyy, times 24-hour in Vietnam's time, numbers with
//! Vietnamese separators.

use chrono::{DateTime, NaiveDate, Utc};
use domain::study::utc_to_local;

/// 07/02/2026
pub fn date(d: &NaiveDate) -> String {
    domain::text::format_date(*d)
}

/// An optional date, or a dash.
pub fn opt_date(d: &Option<NaiveDate>) -> String {
    d.as_ref().map(date).unwrap_or_else(|| "—".into())
}

/// 07:30 07/02/2026 (Vietnam time)
pub fn datetime(t: &DateTime<Utc>) -> String {
    utc_to_local(*t).format("%H:%M %d/%m/%Y").to_string()
}

/// Local time of day, "08:05".
pub fn time(t: &DateTime<Utc>) -> String {
    utc_to_local(*t).format("%H:%M").to_string()
}

/// An optional time, or a dash.
pub fn opt_datetime(t: &Option<DateTime<Utc>>) -> String {
    t.as_ref().map(datetime).unwrap_or_else(|| "—".into())
}

/// 1.900.000
pub fn count(n: &i64) -> String {
    domain::text::format_count(*n)
}

/// "ngày 07 tháng 02 năm 2026" for the print header.
pub fn long_date(d: &NaiveDate) -> String {
    d.format("ngày %d tháng %m năm %Y").to_string()
}

/// Today in Vietnam.
pub fn today() -> NaiveDate {
    utc_to_local(Utc::now()).date()
}

/// A `<option selected>` helper.
pub fn selected(a: &str, b: &str) -> &'static str {
    if a == b {
        "selected"
    } else {
        ""
    }
}

/// Audited actions with their Vietnamese names (the log keeps the codes; pages and filters show
/// the names, issue 11.18).
const ACTIONS: &[(&str, &str)] = &[
    ("login", "Đăng nhập"),
    ("login_failed", "Đăng nhập không thành công"),
    ("logout", "Đăng xuất"),
    ("logout_all", "Đăng xuất mọi thiết bị"),
    ("second_factor_failed", "Nhập sai mã xác thực hai lớp"),
    ("account_locked", "Tài khoản bị tạm khóa"),
    ("create", "Tạo mới"),
    ("update", "Sửa"),
    ("read", "Xem văn bản mật"),
    ("record", "Điểm danh"),
    ("generate", "Lập danh sách"),
    ("add", "Thêm"),
    ("remove", "Đưa ra khỏi danh sách"),
    ("finish", "Kết thúc lớp học"),
    ("reopen", "Mở lại lớp học"),
    ("grant", "Cấp vai trò"),
    ("revoke", "Thu hồi vai trò"),
    ("set_clearance", "Đổi quyền tiếp cận tài liệu mật"),
    ("unlock", "Mở khóa tài khoản"),
    ("reset_password", "Đặt mật khẩu tạm"),
    ("change_password", "Đổi mật khẩu"),
    ("enable_totp", "Bật xác thực hai lớp"),
    ("bulk_create", "Tạo tài khoản hàng loạt"),
    ("import", "Nhập từ tệp"),
    ("set_status", "Ghi biến động đảng viên"),
    ("set_name_split", "Sửa cách tách họ tên"),
    ("withdraw", "Rút lại"),
    ("rate", "Xếp loại"),
    ("assign", "Phân công giám sát"),
    ("evaluate", "Đánh giá lớp học"),
    ("end", "Kết thúc chức vụ"),
    ("set_presenter", "Ghi người trình bày"),
];

/// The Vietnamese name of an audited action.
pub fn action_label(code: &str) -> &str {
    ACTIONS
        .iter()
        .find(|(c, _)| *c == code)
        .map(|(_, l)| *l)
        .or_else(|| {
            store::study::changes::ChangeAction::parse(code)
                .ok()
                .map(|a| a.label())
        })
        .unwrap_or(code)
}

/// Every audited action as (code, Vietnamese name), for the log's filter.
pub fn audit_actions() -> Vec<(&'static str, &'static str)> {
    let mut all: Vec<(&str, &str)> = ACTIONS.to_vec();
    all.extend(
        store::study::changes::ChangeAction::ALL
            .iter()
            .map(|a| (a.code(), a.label())),
    );
    all
}

/// Audited record kinds with their Vietnamese names.
const ENTITIES: &[(&str, &str)] = &[
    ("account", "Tài khoản"),
    ("resolution", "Văn bản"),
    ("campaign", "Đợt học tập"),
    ("class", "Lớp học"),
    ("session", "Buổi học"),
    ("bridge_point", "Điểm cầu"),
    ("participant", "Người tham dự"),
    ("participants", "Người tham dự"),
    ("attendance", "Điểm danh"),
    ("seat_plan", "Sơ đồ chỗ ngồi"),
    ("feedback", "Ý kiến học viên"),
    ("person", "Đảng viên"),
    ("people", "Danh sách đảng viên"),
    ("orgs", "Cây tổ chức"),
    ("settings", "Cấu hình của tỉnh"),
    ("conduct_record", "Biểu dương, nhắc nhở"),
    ("rating", "Xếp loại"),
    ("working_group", "Tổ công tác"),
    ("supervision", "Giám sát lớp học"),
    ("position", "Chức vụ"),
];

/// The Vietnamese name of an audited record kind.
pub fn entity_label(code: &str) -> &str {
    ENTITIES
        .iter()
        .find(|(c, _)| *c == code)
        .map(|(_, l)| *l)
        .unwrap_or(code)
}

/// Every audited record kind as (code, Vietnamese name), once per name, for the log's filter.
pub fn audit_entities() -> Vec<(&'static str, &'static str)> {
    ENTITIES
        .iter()
        .filter(|(c, _)| *c != "participants")
        .copied()
        .collect()
}

/// One CSV cell, quoted. A leading `=`, `+`, `-`, `@` (or tab / carriage return) is neutralised
/// with a quote so that Excel shows the text instead of running it as a formula.
pub fn csv_cell(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_string()
    };
    format!("\"{}\"", s.replace('"', "\"\""))
}

#[cfg(test)]
mod csv_tests {
    use super::csv_cell;

    /// Issue 10.12: the audit CSV and the feedback CSV share this cell, which neutralises a
    /// leading tab or carriage return as well as the formula characters.
    #[test]
    fn leading_formula_tab_and_return_are_neutralised() {
        for bad in ["=1+1", "+1", "-1", "@SUM(A1)", "\t=1", "\r=1"] {
            assert!(csv_cell(bad).starts_with("\"'"), "{bad:?}");
        }
        assert_eq!(csv_cell("Nguyễn \"An\""), "\"Nguyễn \"\"An\"\"\"");
    }
}
