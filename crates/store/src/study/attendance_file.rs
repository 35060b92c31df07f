//! Paper first, data later (R3.4): the printed tracking sheet of a session, and attendance
//! files (xlsx or csv, several sessions at once) typed in afterwards. A file is checked whole;
//! one bad row and nothing is written. A good file is written in one transaction.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;
use domain::ids::OrgId;
use domain::org::import::CellError;
use domain::study::attendance_file::{self as file, AttendanceColumn, Candidate, People};
use domain::study::{utc_to_local, AttendanceMark, AttendanceStatus};
use domain::{text, RuleError};
use serde::Serialize;

use super::classes::{self, Access, Class, StudySession};
use super::full_name_sql;
use crate::db::Db;
use crate::error::{Result, StoreError};
use crate::import::Sheet;
use crate::scope::{Scope, ATTEND};
use crate::{db_run, now};

/// One line of the printed tracking sheet.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct PrintRow {
    pub participant_id: i64,
    pub full_name: String,
    pub birth_date: Option<NaiveDate>,
    pub party_card_number: Option<String>,
    pub org_name: String,
    pub bridge_point_id: Option<i64>,
    pub bridge_point_name: Option<String>,
    /// The mark already recorded, if any (a reprint shows excused absences).
    pub status: Option<String>,
    pub reason: Option<String>,
}

impl PrintRow {
    /// "1975", or "" when the birth date is not known.
    pub fn birth_year(&self) -> String {
        self.birth_date
            .map(|d| d.format("%Y").to_string())
            .unwrap_or_default()
    }
    /// What the «Ghi chú» column shows before anyone writes on it: an excuse already recorded.
    pub fn note(&self) -> String {
        match (self.status.as_deref(), self.reason.as_deref()) {
            (Some("excused"), Some(r)) => format!("Vắng có lý do: {r}"),
            (Some("excused"), None) => "Vắng có lý do".into(),
            _ => String::new(),
        }
    }
}

/// The participants of a session's tracking sheet, in Vietnamese name order, within the
/// caller's access; only one bridge point's when `bridge_point` is given.
pub async fn print_rows(
    db: &Db,
    class: &Class,
    session: &StudySession,
    access: &Access,
    bridge_point: Option<i64>,
) -> Result<Vec<PrintRow>> {
    let sql = format!(
        "SELECT pt.id AS participant_id, {} AS full_name, p.birth_date, p.party_card_number, o.name AS org_name, \
         pt.bridge_point_id, b.name AS bridge_point_name, a.status, a.reason \
         FROM participants pt JOIN people p ON p.id = pt.person_id JOIN orgs o ON o.id = p.org_id \
         LEFT JOIN bridge_points b ON b.id = pt.bridge_point_id \
         LEFT JOIN attendance a ON a.participant_id = pt.id AND a.session_id = $2 \
         WHERE pt.class_id = $1 AND pt.removed_at IS NULL AND ($3 = 0 OR pt.bridge_point_id = $3) AND {} \
         ORDER BY p.sort_key, pt.id",
        full_name_sql("p"),
        access.participant_sql()
    );
    Ok(db_run!(db, p => sqlx::query_as::<_, PrintRow>(&sql)
        .bind(class.id).bind(session.id).bind(bridge_point.unwrap_or(0))
        .fetch_all(p).await)?)
}

/// What checking (and writing) an attendance file did.
#[derive(Debug, Clone, Default)]
pub struct AttendanceImport {
    /// Data rows read (the heading row excluded).
    pub rows: usize,
    /// Marks written, or that would be written.
    pub marks: usize,
    /// Rows without a status: left unrecorded.
    pub blank: usize,
    /// Sessions the marks belong to.
    pub sessions: usize,
    /// Every problem, by spreadsheet row and column; when not empty nothing was written.
    pub errors: Vec<CellError>,
    /// Whether the marks were written (false on a dry run or when the file has errors).
    pub written: bool,
}

#[derive(sqlx::FromRow)]
struct Listed {
    id: i64,
    full_name: String,
    party_card_number: Option<String>,
}

async fn listed(db: &Db, class: &Class, access: &Access) -> Result<Vec<Listed>> {
    let sql = format!(
        "SELECT pt.id, {} AS full_name, p.party_card_number \
         FROM participants pt JOIN people p ON p.id = pt.person_id \
         WHERE pt.class_id = $1 AND pt.removed_at IS NULL AND {} ORDER BY p.sort_key, pt.id",
        full_name_sql("p"),
        access.participant_sql()
    );
    Ok(db_run!(db, p => sqlx::query_as::<_, Listed>(&sql).bind(class.id).fetch_all(p).await)?)
}

fn rule_column(e: &RuleError, m: &file::FileMark) -> AttendanceColumn {
    match e {
        RuleError::MissedExceedsSession { .. } if m.late_minutes == 0 => {
            AttendanceColumn::LeftEarly
        }
        RuleError::MissedExceedsSession { .. } => AttendanceColumn::Late,
        RuleError::ExcuseReasonRequired | RuleError::TooLong { .. } => AttendanceColumn::Reason,
        _ => AttendanceColumn::Status,
    }
}

/// Checks an attendance file against the class's sessions and the participants within the
/// caller's access (ATTEND), and writes every mark in one transaction unless `dry_run` or any
/// row is bad. A finished class refuses.
pub async fn import(
    db: &Db,
    scope: &Scope,
    class: &Class,
    sheet: &Sheet,
    dry_run: bool,
) -> Result<AttendanceImport> {
    let access = classes::access(db, scope, class, ATTEND).await?;
    if class.is_finished() {
        return Err(StoreError::rule(
            "class_finished",
            "Lớp học đã kết thúc; mở lại lớp để sửa điểm danh.".into(),
        ));
    }
    let mut report = AttendanceImport {
        rows: sheet.rows.len(),
        ..Default::default()
    };
    let cols = match file::map_headers(&sheet.headings) {
        Ok(c) => c,
        Err(e) => {
            report.errors.push(e);
            return Ok(report);
        }
    };
    let sessions = classes::sessions(db, class).await?;
    if sessions.is_empty() {
        return Err(StoreError::rule(
            "class_has_no_sessions",
            "Lớp học chưa có buổi học nào.".into(),
        ));
    }
    let starts: Vec<_> = sessions.iter().map(|s| utc_to_local(s.starts_at)).collect();
    let listed = listed(db, class, &access).await?;
    let people = People::new(
        listed
            .iter()
            .map(|l| Candidate {
                card_number: l.party_card_number.clone(),
                full_name: l.full_name.clone(),
            })
            .collect(),
    );
    // (session index, participant index) → first row, to refuse the same mark twice.
    let mut seen: HashMap<(usize, usize), usize> = HashMap::new();
    let mut marks: Vec<(i64, i64, AttendanceMark)> = Vec::new();
    for (row, cells) in &sheet.rows {
        let m = match file::parse_row(*row, cells, &cols) {
            Ok(Some(m)) => m,
            Ok(None) => {
                report.blank += 1;
                continue;
            }
            Err(e) => {
                report.errors.extend(e);
                continue;
            }
        };
        let err = |c: AttendanceColumn, message: String| CellError {
            row: *row,
            column: cols.heading(c),
            message,
        };
        let session_col = if cols.has(AttendanceColumn::Session) {
            AttendanceColumn::Session
        } else {
            AttendanceColumn::Date
        };
        let si = match file::resolve_session(&m.session, &starts) {
            Ok(i) => Some(i),
            Err(e) => {
                report.errors.push(err(session_col, e));
                None
            }
        };
        if let (Some(i), Some(check)) = (si, m.session_check.as_ref()) {
            match file::resolve_session(check, &starts) {
                Ok(j) if j == i => {}
                Ok(j) => report.errors.push(err(
                    AttendanceColumn::Date,
                    format!(
                        "{check} là buổi {}, khác với buổi {} ở cột «{}»",
                        j + 1,
                        i + 1,
                        cols.heading(AttendanceColumn::Session)
                    ),
                )),
                Err(e) => report.errors.push(err(AttendanceColumn::Date, e)),
            }
        }
        let pi = match people.find(m.card_number.as_deref(), m.full_name.as_deref()) {
            Ok(i) => Some(i),
            Err((c, e)) => {
                report.errors.push(err(c, e));
                None
            }
        };
        let (Some(si), Some(pi)) = (si, pi) else {
            continue;
        };
        let (Some(session), Some(who)) = (sessions.get(si), listed.get(pi)) else {
            continue;
        };
        if let Some(first) = seen.insert((si, pi), *row) {
            report.errors.push(err(
                session_col,
                format!("«{}», buổi {} đã có ở dòng {first}", who.full_name, si + 1),
            ));
            continue;
        }
        let len = u32::try_from(session.duration_minutes).unwrap_or(0);
        match AttendanceMark::parse(
            m.status,
            m.late_minutes,
            m.left_early_minutes,
            m.reason.clone(),
            len,
        ) {
            Ok(mark) => marks.push((session.id, who.id, mark)),
            Err(e) => report.errors.push(err(rule_column(&e, &m), e.to_string())),
        }
    }
    report.errors.sort_by_key(|e| e.row);
    report.marks = marks.len();
    report.sessions = marks
        .iter()
        .map(|(s, _, _)| *s)
        .collect::<HashSet<_>>()
        .len();
    if !report.errors.is_empty() || dry_run || marks.is_empty() {
        return Ok(report);
    }
    let detail = format!("file: {} marks, {} sessions", report.marks, report.sessions);
    write(db, scope, class, &marks, &detail).await?;
    report.written = true;
    Ok(report)
}

/// All marks of a file and the audit entry `detail` in one transaction (as `attendance::record`
/// writes one session's).
async fn write(
    db: &Db,
    scope: &Scope,
    class: &Class,
    marks: &[(i64, i64, AttendanceMark)],
    detail: &str,
) -> Result<()> {
    use super::attendance::{bind_marks, upsert_sql, MarkRow};
    let now = now();
    let rows: Vec<MarkRow> = marks
        .iter()
        .map(|(sid, pid, m)| MarkRow::of(*sid, *pid, m, Some(scope.account_id.0)))
        .collect();
    db_run!(db, p => {
        let mut tx = p.begin().await?;
        for chunk in rows.chunks(MarkRow::per_statement(db)) {
            let sql = upsert_sql(db, chunk.len());
            bind_marks(sqlx::query(&sql), chunk, now).execute(&mut *tx).await?;
        }
        crate::audit_in!(&mut *tx, scope, "import", "attendance", class.id, Some(OrgId(class.org_id)), detail)?;
        tx.commit().await?;
        Ok::<_, StoreError>(())
    })
}

/// The headings of the template, in order; «Nội dung buổi học», «Tổ chức» and «Điểm cầu» are
/// there to help the reader and are ignored on import.
const TEMPLATE_HEADINGS: [&str; 11] = [
    "Buổi",
    "Ngày",
    "Nội dung buổi học",
    "Số thẻ đảng viên",
    "Họ và tên",
    "Tổ chức",
    "Điểm cầu",
    "Trạng thái",
    "Đi muộn (phút)",
    "Về sớm (phút)",
    "Lý do",
];

/// The attendance template of a class as xlsx: one row per session × participant (within the
/// caller's ATTEND access), sessions in class order and people in name order, pre-filled with
/// what is already recorded, so that it re-imports unchanged.
pub async fn template(db: &Db, scope: &Scope, class: &Class) -> Result<Vec<u8>> {
    let access = classes::access(db, scope, class, ATTEND).await?;
    let sessions = classes::sessions(db, class).await?;
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    let xl = |e: rust_xlsxwriter::XlsxError| StoreError::Internal(format!("xlsx: {e}"));
    let bold = rust_xlsxwriter::Format::new().set_bold();
    for (c, h) in TEMPLATE_HEADINGS.iter().enumerate() {
        sheet
            .write_string_with_format(0, u16::try_from(c).unwrap_or(0), *h, &bold)
            .map_err(xl)?;
    }
    let cards = card_numbers(db, class).await?;
    let mut r: u32 = 1;
    for (i, s) in sessions.iter().enumerate() {
        let rows = super::attendance::sheet(db, class, s, &access).await?;
        // One spreadsheet holds about a million rows: a larger class is entered per bridge point.
        if u64::from(r) + rows.len() as u64 > 1_000_000 {
            return Err(StoreError::rule("class_too_large_for_file", 
                "Lớp học quá đông để xuất mẫu trong một tệp (quá một triệu dòng): hãy nhập điểm danh theo từng điểm cầu.".into(),
            ));
        }
        let when = utc_to_local(s.starts_at);
        let when = format!(
            "{} {}",
            text::format_date(when.date()),
            when.format("%H:%M")
        );
        for row in rows {
            let status = row
                .status
                .as_deref()
                .and_then(|c| AttendanceStatus::parse(c).ok())
                .map(AttendanceStatus::label)
                .unwrap_or("");
            let minutes = |m: i64| if m > 0 { m.to_string() } else { String::new() };
            let values = [
                (i + 1).to_string(),
                when.clone(),
                s.topic.clone(),
                cards
                    .get(&row.participant_id)
                    .cloned()
                    .flatten()
                    .unwrap_or_default(),
                row.full_name.clone(),
                row.org_name.clone(),
                row.bridge_point_name.clone().unwrap_or_default(),
                status.to_string(),
                minutes(row.late_minutes),
                minutes(row.left_early_minutes),
                row.reason.clone().unwrap_or_default(),
            ];
            for (c, v) in values.iter().enumerate() {
                if v.is_empty() {
                    continue;
                }
                let c = u16::try_from(c).unwrap_or(0);
                // Numbers as numbers (Excel does not flag them); card numbers as text, so their
                // leading zeros stay.
                match (c, v.parse::<f64>()) {
                    (0 | 8 | 9, Ok(n)) => sheet.write_number(r, c, n).map_err(xl)?,
                    _ => sheet.write_string(r, c, v).map_err(xl)?,
                };
            }
            r += 1;
        }
    }
    sheet.set_freeze_panes(1, 0).map_err(xl)?;
    for (c, w) in [
        (0u16, 6.0),
        (1, 17.0),
        (2, 30.0),
        (3, 16.0),
        (4, 26.0),
        (5, 26.0),
        (7, 18.0),
        (10, 30.0),
    ] {
        sheet.set_column_width(c, w).map_err(xl)?;
    }
    book.save_to_buffer().map_err(xl)
}

async fn card_numbers(db: &Db, class: &Class) -> Result<HashMap<i64, Option<String>>> {
    let rows: Vec<(i64, Option<String>)> = db_run!(db, p => sqlx::query_as(
        "SELECT pt.id, p.party_card_number FROM participants pt JOIN people p ON p.id = pt.person_id WHERE pt.class_id = $1")
        .bind(class.id).fetch_all(p).await)?;
    Ok(rows.into_iter().collect())
}
