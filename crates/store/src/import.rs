//! Reading spreadsheets (xlsx, csv in UTF-8 or Windows-1258) and importing the organization tree
//! and the member list from them (issue 5): a dry run that checks the whole file and says what
//! would change, then one transaction that writes all of it or nothing.

use std::collections::{HashMap, HashSet};
use std::io::Cursor;

use calamine::{DataRef, Reader};
use chrono::NaiveDate;
use domain::ids::OrgId;
use domain::org::import::{self, Cell, CellError, MemberColumn, MemberRecord, OrgRecord, OrgRef};
use domain::org::OrgKind;
use domain::text;
use serde::Serialize;

use crate::db::{placeholders, Db};
use crate::error::{Result, StoreError};
use crate::org::{self, NewOrg};
use crate::scope::Scope;
use crate::{auth, db_run, now};

/// Largest file accepted (bytes).
pub const MAX_FILE: usize = 60 * 1024 * 1024;

/// A sheet as read: its headings and its non-empty rows with their spreadsheet row numbers.
#[derive(Debug, Clone, Default)]
pub struct Sheet {
    pub headings: Vec<String>,
    pub rows: Vec<(usize, Vec<Cell>)>,
}

fn refuse(msg: impl Into<String>) -> StoreError {
    StoreError::Rule(msg.into())
}

/// Reads the first sheet of an xlsx file, or a csv file (UTF-8 with or without BOM, or
/// Windows-1258; comma or semicolon). The kind is told by the content, not the name.
pub fn read_sheet(file_name: &str, bytes: &[u8]) -> Result<Sheet> {
    read_sheet_up_to(file_name, bytes, MAX_FILE)
}

/// [`read_sheet`] with another size limit (the CLI reads national files of hundreds of MB).
pub fn read_sheet_up_to(file_name: &str, bytes: &[u8], max: usize) -> Result<Sheet> {
    if bytes.len() > max {
        return Err(refuse(format!(
            "Tệp quá lớn ({} MB); tối đa {} MB.",
            bytes.len() / 1_048_576,
            max / 1_048_576
        )));
    }
    if bytes.is_empty() {
        return Err(refuse("Tệp rỗng."));
    }
    let rows = if bytes.starts_with(b"PK\x03\x04") {
        read_xlsx(bytes)?
    } else {
        let lower = file_name.to_lowercase();
        if lower.ends_with(".xlsx") || lower.ends_with(".xls") || bytes.contains(&0) {
            return Err(refuse("Tệp không phải bảng tính Excel (.xlsx) hay CSV hợp lệ. Hãy mở tệp bằng Excel và lưu lại dạng .xlsx."));
        }
        read_csv(bytes)?
    };
    // Rows keep the numbers the spreadsheet shows, blank rows skipped.
    let mut it = rows
        .into_iter()
        .filter(|(_, r)| r.iter().any(|c| !c.is_empty()));
    let Some((_, head)) = it.next() else {
        return Err(refuse("Tệp không có dữ liệu."));
    };
    let headings = head.iter().map(Cell::text).collect();
    Ok(Sheet {
        headings,
        rows: it.collect(),
    })
}

/// Rows with their 1-based numbers as the spreadsheet shows them.
type NumberedRows = Vec<(usize, Vec<Cell>)>;

/// Columns read at most: a file with a value further right is refused (a sheet whose used
/// range is claimed to reach column XFD would otherwise cost memory for every empty cell).
const MAX_COLUMNS: u32 = 200;
/// Rows read at most (Excel's own limit).
const MAX_ROWS: u32 = 1_048_576;

/// Reads the first sheet cell by cell (only the cells present in the file are kept, however far
/// apart they are).
fn read_xlsx(bytes: &[u8]) -> Result<NumberedRows> {
    let broken = || refuse("Không đọc được tệp Excel: tệp hỏng hoặc không phải .xlsx.");
    let mut book: calamine::Xlsx<_> =
        calamine::Xlsx::new(Cursor::new(bytes)).map_err(|_| broken())?;
    let name = book
        .sheet_names()
        .first()
        .cloned()
        .ok_or_else(|| refuse("Tệp Excel không có trang tính nào."))?;
    let mut cells = book
        .worksheet_cells_reader(&name)
        .map_err(|_| refuse("Không đọc được trang tính đầu tiên của tệp Excel."))?;
    let mut rows: NumberedRows = Vec::new();
    while let Some(cell) = cells.next_cell().map_err(|_| broken())? {
        let value = match cell.get_value() {
            DataRef::Empty => continue,
            DataRef::String(s) | DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => {
                Cell::Text(s.clone())
            }
            DataRef::SharedString(s) => Cell::Text((*s).to_owned()),
            DataRef::Int(i) => Cell::Number(*i as f64),
            DataRef::Float(f) => Cell::Number(*f),
            DataRef::Bool(b) => Cell::Bool(*b),
            DataRef::DateTime(dt) => Cell::Date(dt.as_f64()),
            DataRef::Error(e) => Cell::Error(format!("{e:?}")),
        };
        let (r, c) = cell.get_position();
        if c >= MAX_COLUMNS || r >= MAX_ROWS {
            return Err(refuse(format!(
                "Tệp có dữ liệu ở ô quá xa (dòng {}, cột {}): tối đa {MAX_COLUMNS} cột và {MAX_ROWS} dòng.",
                u64::from(r) + 1,
                u64::from(c) + 1
            )));
        }
        let number = r as usize + 1;
        // Cells come row by row; a file written out of order is put back in order.
        let at = match rows.last() {
            Some((n, _)) if *n == number => rows.len() - 1,
            Some((n, _)) if *n > number => match rows.binary_search_by_key(&number, |(n, _)| *n) {
                Ok(k) => k,
                Err(k) => {
                    rows.insert(k, (number, Vec::new()));
                    k
                }
            },
            _ => {
                rows.push((number, Vec::new()));
                rows.len() - 1
            }
        };
        let row = &mut rows[at].1;
        let c = c as usize;
        if row.len() <= c {
            row.resize(c + 1, Cell::Empty);
        }
        row[c] = value;
    }
    Ok(rows)
}

fn read_csv(bytes: &[u8]) -> Result<NumberedRows> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    // UTF-8 when it decodes; otherwise the Vietnamese Windows code page.
    let text = match std::str::from_utf8(bytes) {
        Ok(s) => s.to_string(),
        Err(_) => encoding_rs::WINDOWS_1258.decode(bytes).0.into_owned(),
    };
    // Windows-1258 writes tones as combining marks: compose them.
    let text: String = unicode_compose(&text);
    let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    let delimiter = if first.matches(';').count() > first.matches(',').count() {
        b';'
    } else {
        b','
    };
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(text.as_bytes());
    let mut rows = Vec::new();
    for rec in rdr.records() {
        let rec = rec.map_err(|e| refuse(format!("Tệp CSV không đọc được: {e}")))?;
        // The line where the record starts: the csv reader skips blank lines on its own.
        let line = rec
            .position()
            .map_or(rows.len() + 1, |p| usize::try_from(p.line()).unwrap_or(0));
        rows.push((
            line,
            rec.iter()
                .map(|s| {
                    if s.trim().is_empty() {
                        Cell::Empty
                    } else {
                        Cell::Text(s.to_string())
                    }
                })
                .collect(),
        ));
    }
    Ok(rows)
}

fn unicode_compose(s: &str) -> String {
    domain::text::compose(s)
}

/// A change to an existing member, field by field.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Change {
    pub row: usize,
    pub person_id: i64,
    pub full_name: String,
    /// How the person was matched: card number, record number, or name and birth date.
    pub matched_by: String,
    /// (field, before, after)
    pub fields: Vec<(String, String, String)>,
}

/// A member of the target organization that the file does not list (reported, never deleted).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema, sqlx::FromRow)]
pub struct Missing {
    pub person_id: i64,
    pub full_name: String,
    pub org_name: String,
}

/// What importing a member file would do.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct MemberPlan {
    /// Each heading and the column it was read as (`null` = ignored).
    pub mapping: Vec<(String, Option<MemberColumn>)>,
    pub rows: usize,
    pub new: usize,
    pub changed: Vec<Change>,
    pub unchanged: usize,
    pub missing: Vec<Missing>,
    pub errors: Vec<CellError>,
    #[serde(skip)]
    #[schema(ignore)]
    to_insert: Vec<(MemberRecord, i64)>,
    #[serde(skip)]
    #[schema(ignore)]
    to_update: Vec<(i64, MemberRecord, i64)>,
}

impl MemberPlan {
    /// Whether the file can be written (no error at all).
    pub fn is_clean(&self) -> bool {
        self.errors.is_empty()
    }
}

#[derive(sqlx::FromRow)]
struct Existing {
    id: i64,
    org_id: i64,
    full_name: String,
    name_folded: String,
    birth_date: Option<NaiveDate>,
    gender: String,
    ethnicity: String,
    party_card_number: Option<String>,
    record_number: Option<String>,
    positions: String,
    management_level: String,
    exempt_from_activities: bool,
    phone: String,
    email: String,
    religion: String,
    home_town: String,
    education: String,
    occupation: String,
    joined_on: Option<NaiveDate>,
    official_on: Option<NaiveDate>,
    status: String,
}

/// A re-import carries only the columns its file has: every other field keeps what the register
/// holds (a file without "Ngày sinh" must not erase birth dates).
fn keep_absent(r: &mut MemberRecord, e: &Existing, has: impl Fn(MemberColumn) -> bool) {
    use MemberColumn as C;
    if !has(C::BirthDate) {
        r.birth_date = e.birth_date;
    }
    if !has(C::Gender) {
        r.gender = domain::org::Gender::parse(&e.gender).unwrap_or(r.gender);
    }
    if !has(C::Ethnicity) {
        r.ethnicity = e.ethnicity.clone();
    }
    if !has(C::Religion) {
        r.religion = e.religion.clone();
    }
    if !has(C::HomeTown) {
        r.home_town = e.home_town.clone();
    }
    if !has(C::Education) {
        r.education = e.education.clone();
    }
    if !has(C::Occupation) {
        r.occupation = e.occupation.clone();
    }
    if !has(C::JoinedOn) {
        r.joined_on = e.joined_on;
    }
    if !has(C::OfficialOn) {
        r.official_on = e.official_on;
    }
    if !has(C::CardNumber) {
        r.card_number = e.party_card_number.clone();
    }
    if !has(C::RecordNumber) {
        r.record_number = e.record_number.clone();
    }
    if !has(C::Positions) {
        r.positions = e.positions.clone();
    }
    if !has(C::ManagementLevel) {
        r.management_level =
            domain::org::ManagementLevel::parse(&e.management_level).unwrap_or(r.management_level);
    }
    if !has(C::Exempt) {
        r.exempt = e.exempt_from_activities;
    }
    if !has(C::Phone) {
        r.phone = e.phone.clone();
    }
    if !has(C::Email) {
        r.email = e.email.clone();
    }
}

fn diff(
    e: &Existing,
    r: &MemberRecord,
    org_id: i64,
    org_names: &HashMap<i64, String>,
) -> Vec<(String, String, String)> {
    let mut d = Vec::new();
    let mut cmp = |field: &str, before: String, after: String| {
        if before != after {
            d.push((field.to_string(), before, after));
        }
    };
    cmp("Họ và tên", e.full_name.clone(), r.name.full.clone());
    cmp(
        "Ngày sinh",
        e.birth_date.map(text::format_date).unwrap_or_default(),
        r.birth_date.map(text::format_date).unwrap_or_default(),
    );
    cmp("Giới tính", e.gender.clone(), r.gender.code().to_string());
    cmp("Dân tộc", e.ethnicity.clone(), r.ethnicity.clone());
    cmp(
        "Số thẻ đảng viên",
        e.party_card_number.clone().unwrap_or_default(),
        r.card_number.clone().unwrap_or_default(),
    );
    cmp(
        "Chi bộ",
        org_names.get(&e.org_id).cloned().unwrap_or_default(),
        org_names.get(&org_id).cloned().unwrap_or_default(),
    );
    cmp("Chức vụ", e.positions.clone(), r.positions.clone());
    cmp(
        "Diện quản lý",
        e.management_level.clone(),
        r.management_level.code().to_string(),
    );
    cmp(
        "Miễn sinh hoạt",
        e.exempt_from_activities.to_string(),
        r.exempt.to_string(),
    );
    cmp("Điện thoại", e.phone.clone(), r.phone.clone());
    cmp("Thư điện tử", e.email.clone(), r.email.clone());
    d
}

/// Checks a member file against the members of `target`'s subtree: counts what is new, changed,
/// unchanged and missing, and lists every problem by row and column. Writes nothing.
/// `mapping` overrides the recognised columns (one entry per heading).
pub async fn plan_members(
    db: &Db,
    scope: &Scope,
    target: OrgId,
    sheet: &Sheet,
    mapping: Option<Vec<Option<MemberColumn>>>,
) -> Result<MemberPlan> {
    scope.require(db, target, crate::scope::WRITE).await?;
    let mut mapping = mapping.unwrap_or_else(|| import::map_headers(&sheet.headings));
    mapping.resize(sheet.headings.len(), None);
    let mut plan = MemberPlan {
        mapping: sheet
            .headings
            .iter()
            .cloned()
            .zip(mapping.iter().copied())
            .collect(),
        rows: sheet.rows.len(),
        ..Default::default()
    };
    let has = |c: MemberColumn| mapping.contains(&Some(c));
    if !has(MemberColumn::FullName) && !has(MemberColumn::GivenName) {
        plan.errors.push(CellError {
            row: 1,
            column: String::new(),
            message: "thiếu cột «Họ và tên» (hoặc các cột Họ, Tên đệm, Tên)".into(),
        });
    }
    if !has(MemberColumn::OrgCode) && !has(MemberColumn::OrgName) {
        plan.errors.push(CellError {
            row: 1,
            column: String::new(),
            message: "thiếu cột «Chi bộ» (hoặc «Mã tổ chức»)".into(),
        });
    }
    if !plan.errors.is_empty() {
        return Ok(plan);
    }
    // Organizations of the target subtree, by code and by folded name.
    let orgs: Vec<(i64, String, String)> = db_run!(db, p => sqlx::query_as(
        "SELECT o.id, o.code, o.name FROM orgs o JOIN org_closure c ON c.descendant_id = o.id WHERE c.ancestor_id = $1")
        .bind(target.0).fetch_all(p).await)?;
    let org_names: HashMap<i64, String> = orgs.iter().map(|(id, _, n)| (*id, n.clone())).collect();
    let by_code: HashMap<&str, i64> = orgs.iter().map(|(id, c, _)| (c.as_str(), *id)).collect();
    let mut by_name: HashMap<String, Vec<i64>> = HashMap::new();
    for (id, _, n) in &orgs {
        by_name.entry(text::fold(n)).or_default().push(*id);
    }
    let existing: Vec<Existing> = db_run!(db, p => sqlx::query_as(
        "SELECT p.id, p.org_id, p.full_name, p.name_folded, p.birth_date, p.gender, p.ethnicity, p.party_card_number, p.record_number, \
         p.positions, p.management_level, p.exempt_from_activities, p.phone, p.email, p.religion, p.home_town, p.education, \
         p.occupation, p.joined_on, p.official_on, p.status FROM people p \
         WHERE p.org_id IN (SELECT descendant_id FROM org_closure WHERE ancestor_id = $1)")
        .bind(target.0).fetch_all(p).await)?;
    let card_idx: HashMap<&str, usize> = existing
        .iter()
        .enumerate()
        .filter_map(|(i, e)| e.party_card_number.as_deref().map(|c| (c, i)))
        .collect();
    let rec_idx: HashMap<&str, usize> = existing
        .iter()
        .enumerate()
        .filter_map(|(i, e)| e.record_number.as_deref().map(|c| (c, i)))
        .collect();
    let name_idx: HashMap<(String, Option<NaiveDate>), usize> = existing
        .iter()
        .enumerate()
        .map(|(i, e)| ((e.name_folded.clone(), e.birth_date), i))
        .collect();
    // Card numbers used anywhere else in the database (another province) cannot be taken.
    let mut seen_cards: HashMap<String, usize> = HashMap::new();
    let mut matched: HashSet<usize> = HashSet::new();
    for (row, cells) in &sheet.rows {
        let rec = match import::parse_member_row(*row, cells, &mapping) {
            Ok(r) => r,
            Err(e) => {
                plan.errors.extend(e);
                continue;
            }
        };
        if let Some(card) = &rec.card_number {
            if let Some(first) = seen_cards.insert(card.clone(), *row) {
                plan.errors.push(CellError {
                    row: *row,
                    column: MemberColumn::CardNumber.label().into(),
                    message: format!("số thẻ '{card}' trùng với dòng {first}"),
                });
                continue;
            }
        }
        let org_id = match &rec.org {
            OrgRef::Code(c) => by_code.get(c.as_str()).copied().ok_or_else(|| {
                (
                    MemberColumn::OrgCode,
                    format!("không có tổ chức mã '{c}' trong phạm vi nhập"),
                )
            }),
            OrgRef::Name(n) => match by_name.get(&text::fold(n)).map(Vec::as_slice) {
                Some([one]) => Ok(*one),
                Some([_, ..]) => Err((
                    MemberColumn::OrgName,
                    format!("có nhiều tổ chức tên '{n}': dùng cột «Mã tổ chức»"),
                )),
                _ => Err((
                    MemberColumn::OrgName,
                    format!("không có tổ chức tên '{n}' trong phạm vi nhập"),
                )),
            },
        };
        let org_id = match org_id {
            Ok(o) => o,
            Err((col, message)) => {
                plan.errors.push(CellError {
                    row: *row,
                    column: col.label().into(),
                    message,
                });
                continue;
            }
        };
        let folded = text::fold(&rec.name.full);
        let found = rec
            .card_number
            .as_deref()
            .and_then(|c| card_idx.get(c).map(|i| (*i, "số thẻ đảng viên")))
            .or_else(|| {
                rec.record_number
                    .as_deref()
                    .and_then(|c| rec_idx.get(c).map(|i| (*i, "số lý lịch")))
            })
            .or_else(|| {
                name_idx
                    .get(&(folded, rec.birth_date))
                    .map(|i| (*i, "họ tên và ngày sinh"))
            });
        match found {
            Some((i, how)) => {
                if !matched.insert(i) {
                    plan.errors.push(CellError {
                        row: *row,
                        column: String::new(),
                        message: format!(
                            "trùng người với một dòng khác ({})",
                            existing[i].full_name
                        ),
                    });
                    continue;
                }
                let mut rec = rec;
                keep_absent(&mut rec, &existing[i], |c| mapping.contains(&Some(c)));
                let fields = diff(&existing[i], &rec, org_id, &org_names);
                if fields.is_empty() {
                    plan.unchanged += 1;
                } else {
                    plan.changed.push(Change {
                        row: *row,
                        person_id: existing[i].id,
                        full_name: rec.name.full.clone(),
                        matched_by: how.into(),
                        fields,
                    });
                    plan.to_update.push((existing[i].id, rec, org_id));
                }
            }
            None => {
                plan.new += 1;
                plan.to_insert.push((rec, org_id));
            }
        }
    }
    // A card number of a new row may belong to someone outside the target subtree.
    let new_cards: Vec<&str> = plan
        .to_insert
        .iter()
        .filter_map(|(r, _)| r.card_number.as_deref())
        .collect();
    for chunk in new_cards.chunks(500) {
        let sql = format!(
            "SELECT party_card_number FROM people WHERE party_card_number IN ({})",
            placeholders(1, chunk.len())
        );
        let taken: Vec<(String,)> = db_run!(db, p => {
            let mut q = sqlx::query_as(&sql);
            for c in chunk {
                q = q.bind(*c);
            }
            q.fetch_all(p).await
        })?;
        for (card,) in taken {
            let row = plan
                .to_insert
                .iter()
                .find(|(r, _)| r.card_number.as_deref() == Some(card.as_str()))
                .map_or(0, |(r, _)| r.row);
            plan.errors.push(CellError {
                row,
                column: MemberColumn::CardNumber.label().into(),
                message: format!("số thẻ '{card}' đã thuộc một đảng viên ngoài phạm vi nhập"),
            });
        }
    }
    plan.missing = existing
        .iter()
        .enumerate()
        // Only active members can be missing: who moved away or left is already recorded.
        .filter(|(i, e)| !matched.contains(i) && e.status == "active")
        .map(|(_, e)| Missing {
            person_id: e.id,
            full_name: e.full_name.clone(),
            org_name: org_names.get(&e.org_id).cloned().unwrap_or_default(),
        })
        .collect();
    plan.errors.sort_by_key(|e| e.row);
    Ok(plan)
}

/// What an applied import wrote.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Applied {
    pub inserted: usize,
    pub updated: usize,
}

/// Writes a clean plan in one transaction: all of it or nothing.
pub async fn apply_members(
    db: &Db,
    scope: &Scope,
    target: OrgId,
    plan: &MemberPlan,
) -> Result<Applied> {
    apply_members_with_progress(db, scope, target, plan, &|_| {}).await
}

/// [`apply_members`], calling `progress` with the number of rows written so far (for the CLI).
pub async fn apply_members_with_progress(
    db: &Db,
    scope: &Scope,
    target: OrgId,
    plan: &MemberPlan,
    progress: &(dyn Fn(usize) + Sync),
) -> Result<Applied> {
    scope.require(db, target, crate::scope::WRITE).await?;
    if !plan.is_clean() {
        return Err(refuse(
            "Tệp còn lỗi: chưa ghi dòng nào. Sửa các lỗi rồi nhập lại.",
        ));
    }
    // The org id is bound twice: for the row and for the province subquery.
    const COLS: usize = 25;
    let batch = db.rows_per_insert(COLS);
    let mut written = 0usize;
    let now = now();
    db_run!(db, p => {
        let mut tx = p.begin().await?;
        for chunk in plan.to_insert.chunks(batch) {
            let values = db.values(chunk.len(), COLS, |p| {
                format!("({}, (SELECT province_id FROM orgs WHERE id = {}), {})", p[0], p[1], p[2..].join(", "))
            });
            let sql = format!(
                "INSERT INTO people (org_id, province_id, full_name, family_name, middle_name, given_name, name_folded, sort_key, birth_date, \
                 gender, ethnicity, party_card_number, positions, management_level, exempt_from_activities, created_at, religion, home_town, \
                 education, occupation, joined_on, official_on, record_number, phone, email) VALUES {values}"
            );
            let mut q = sqlx::query(&sql);
            for (r, org) in chunk {
                q = q.bind(*org).bind(*org).bind(&r.name.full).bind(&r.name.family).bind(&r.name.middle).bind(&r.name.given)
                    .bind(text::fold(&r.name.full)).bind(r.name.sort_key()).bind(r.birth_date).bind(r.gender.code()).bind(&r.ethnicity)
                    .bind(&r.card_number).bind(&r.positions).bind(r.management_level.code()).bind(r.exempt).bind(now)
                    .bind(&r.religion).bind(&r.home_town).bind(&r.education).bind(&r.occupation).bind(r.joined_on).bind(r.official_on)
                    .bind(&r.record_number).bind(&r.phone).bind(&r.email);
            }
            q.execute(&mut *tx).await.map_err(StoreError::unique("party_card_number"))?;
            written += chunk.len();
            progress(written);
        }
        for (id, r, org) in &plan.to_update {
            written += 1;
            if written.is_multiple_of(1000) {
                progress(written);
            }
            sqlx::query(
                "UPDATE people SET org_id = $2, province_id = (SELECT province_id FROM orgs WHERE id = $2), full_name = $3, family_name = $4, \
                 middle_name = $5, given_name = $6, name_folded = $7, sort_key = $8, birth_date = $9, gender = $10, ethnicity = $11, \
                 party_card_number = $12, positions = $13, management_level = $14, exempt_from_activities = $15, religion = $16, \
                 home_town = $17, education = $18, occupation = $19, joined_on = $20, official_on = $21, record_number = $22, phone = $23, \
                 email = $24 WHERE id = $1")
                .bind(*id).bind(*org).bind(&r.name.full).bind(&r.name.family).bind(&r.name.middle).bind(&r.name.given)
                .bind(text::fold(&r.name.full)).bind(r.name.sort_key()).bind(r.birth_date).bind(r.gender.code()).bind(&r.ethnicity)
                .bind(&r.card_number).bind(&r.positions).bind(r.management_level.code()).bind(r.exempt)
                .bind(&r.religion).bind(&r.home_town).bind(&r.education).bind(&r.occupation).bind(r.joined_on).bind(r.official_on)
                .bind(&r.record_number).bind(&r.phone).bind(&r.email)
                .execute(&mut *tx).await.map_err(StoreError::unique("party_card_number"))?;
        }
        tx.commit().await?;
        progress(written);
        Ok::<_, StoreError>(())
    })?;
    let detail = format!(
        "{} new, {} changed",
        plan.to_insert.len(),
        plan.to_update.len()
    );
    auth::audit(
        db,
        scope,
        "import",
        "people",
        target.0,
        Some(target),
        &detail,
    )
    .await?;
    Ok(Applied {
        inserted: plan.to_insert.len(),
        updated: plan.to_update.len(),
    })
}

/// Reads an organization-tree file: code, name, parent code, level name, kind.
pub fn org_records(sheet: &Sheet) -> std::result::Result<Vec<OrgRecord>, Vec<CellError>> {
    let col = |names: &[&str]| {
        sheet
            .headings
            .iter()
            .position(|h| names.contains(&text::fold(h).as_str()))
    };
    let code = col(&["ma", "ma to chuc", "ma don vi"]);
    let name = col(&["ten", "ten to chuc", "ten don vi"]);
    let parent = col(&[
        "ma cap tren",
        "ma to chuc cap tren",
        "ma don vi cap tren",
        "cap tren",
    ]);
    let level = col(&["cap", "ten cap", "cap to chuc"]);
    let kind = col(&["loai", "loai to chuc"]);
    let (Some(code), Some(name)) = (code, name) else {
        return Err(vec![CellError {
            row: 1,
            column: String::new(),
            message: "cần các cột «Mã» và «Tên» (và «Mã cấp trên», «Cấp», «Loại»)".into(),
        }]);
    };
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for (row, cells) in &sheet.rows {
        let get = |i: Option<usize>| {
            i.and_then(|i| cells.get(i))
                .map(Cell::text)
                .unwrap_or_default()
        };
        let kind_text = get(kind);
        let kind = if kind_text.is_empty() {
            Ok(OrgKind::Cell)
        } else {
            OrgKind::parse(&kind_text).or_else(|_| {
                OrgKind::ALL
                    .iter()
                    .copied()
                    .find(|k| text::fold(k.label()) == text::fold(&kind_text))
                    .ok_or(domain::RuleError::InvalidChoice)
            })
        };
        let (c, n) = (get(Some(code)), get(Some(name)));
        if c.is_empty() || n.is_empty() {
            errors.push(CellError {
                row: *row,
                column: if c.is_empty() {
                    "Mã".into()
                } else {
                    "Tên".into()
                },
                message: "không được để trống".into(),
            });
            continue;
        }
        match kind {
            Ok(kind) => out.push(OrgRecord {
                row: *row,
                code: c,
                name: n,
                parent_code: Some(get(parent)).filter(|p| !p.is_empty()),
                level_name: Some(get(level))
                    .filter(|l| !l.is_empty())
                    .unwrap_or_else(|| kind.label().to_string()),
                kind,
            }),
            Err(_) => errors.push(CellError {
                row: *row,
                column: "Loại".into(),
                message: format!("'{kind_text}' không phải loại tổ chức"),
            }),
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

/// Imports an organization tree under the caller's subtree: new codes are created (parents
/// first), existing codes are left as they are. Checked whole before anything is written.
pub async fn import_orgs(
    db: &Db,
    scope: &Scope,
    sheet: &Sheet,
    dry_run: bool,
) -> Result<std::result::Result<usize, Vec<CellError>>> {
    let records = match org_records(sheet) {
        Ok(r) => r,
        Err(e) => return Ok(Err(e)),
    };
    let existing: Vec<(String, i64)> =
        db_run!(db, p => sqlx::query_as("SELECT code, id FROM orgs").fetch_all(p).await)?;
    let existing: HashMap<String, i64> = existing.into_iter().collect();
    let ordered = match import::order_orgs(records, |c| existing.contains_key(c)) {
        Ok(o) => o,
        Err(e) => return Ok(Err(e)),
    };
    let mut errors = Vec::new();
    for r in &ordered {
        if existing.contains_key(&r.code) {
            continue;
        }
        match r.parent_code.as_ref().and_then(|p| existing.get(p)) {
            Some(parent)
                if !scope
                    .covers(db, OrgId(*parent), crate::scope::WRITE)
                    .await? =>
            {
                errors.push(CellError {
                    row: r.row,
                    column: "Mã cấp trên".into(),
                    message: "tổ chức cấp trên nằm ngoài phạm vi bạn quản lý".into(),
                });
            }
            None if r.parent_code.is_none() && !scope.has_role(domain::auth::Role::Admin) => {
                errors.push(CellError {
                    row: r.row,
                    column: "Mã cấp trên".into(),
                    message: "chỉ quản trị mới tạo được tổ chức cấp cao nhất".into(),
                });
            }
            _ => {}
        }
    }
    if !errors.is_empty() {
        return Ok(Err(errors));
    }
    let new: Vec<&OrgRecord> = ordered
        .iter()
        .filter(|r| !existing.contains_key(&r.code))
        .collect();
    if dry_run {
        return Ok(Ok(new.len()));
    }
    let mut ids: HashMap<String, i64> = existing;
    for r in &new {
        let parent = r
            .parent_code
            .as_ref()
            .and_then(|p| ids.get(p))
            .map(|p| OrgId(*p));
        let id = org::insert_org(
            db,
            &NewOrg {
                parent,
                code: &r.code,
                name: &r.name,
                level_name: &r.level_name,
                kind: r.kind,
            },
        )
        .await?;
        ids.insert(r.code.clone(), id.0);
    }
    auth::audit(
        db,
        scope,
        "import",
        "orgs",
        0,
        None,
        &format!("{} organizations", new.len()),
    )
    .await?;
    Ok(Ok(new.len()))
}

/// The member list of `org`'s subtree as an xlsx file, in the layout the import reads back.
pub async fn export_members(db: &Db, scope: &Scope, target: OrgId) -> Result<Vec<u8>> {
    crate::org::get(db, scope, target).await?;
    #[derive(sqlx::FromRow)]
    struct Row {
        full_name: String,
        family_name: String,
        middle_name: String,
        given_name: String,
        birth_date: Option<NaiveDate>,
        gender: String,
        ethnicity: String,
        religion: String,
        home_town: String,
        education: String,
        occupation: String,
        joined_on: Option<NaiveDate>,
        official_on: Option<NaiveDate>,
        party_card_number: Option<String>,
        record_number: Option<String>,
        org_code: String,
        org_name: String,
        positions: String,
        management_level: String,
        exempt_from_activities: bool,
        phone: String,
        email: String,
    }
    let rows: Vec<Row> = db_run!(db, p => sqlx::query_as(
        "SELECT p.full_name, p.family_name, p.middle_name, p.given_name, p.birth_date, p.gender, p.ethnicity, p.religion, p.home_town, \
         p.education, p.occupation, p.joined_on, p.official_on, p.party_card_number, p.record_number, o.code AS org_code, o.name AS org_name, \
         p.positions, p.management_level, p.exempt_from_activities, p.phone, p.email \
         FROM people p JOIN orgs o ON o.id = p.org_id WHERE p.org_id IN (SELECT descendant_id FROM org_closure WHERE ancestor_id = $1) \
         ORDER BY o.sort_key, p.sort_key")
        .bind(target.0).fetch_all(p).await)?;
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    let xl = |e: rust_xlsxwriter::XlsxError| StoreError::Internal(format!("xlsx: {e}"));
    let bold = rust_xlsxwriter::Format::new().set_bold();
    // Every cell as text: card numbers keep their leading zeros, dates read back as dd/mm/yyyy.
    for (c, col) in MemberColumn::ALL.iter().enumerate() {
        let c = u16::try_from(c).unwrap_or(0);
        sheet
            .write_string_with_format(0, c, col.label(), &bold)
            .map_err(xl)?;
    }
    let d = |d: Option<NaiveDate>| d.map(text::format_date).unwrap_or_default();
    for (i, r) in rows.iter().enumerate() {
        let row = u32::try_from(i + 1).unwrap_or(u32::MAX);
        let level = domain::org::ManagementLevel::parse(&r.management_level)
            .map(|l| l.label())
            .unwrap_or("");
        let gender = domain::org::Gender::parse(&r.gender)
            .map(|g| g.label())
            .unwrap_or("");
        let values = [
            r.full_name.clone(),
            r.family_name.clone(),
            r.middle_name.clone(),
            r.given_name.clone(),
            d(r.birth_date),
            gender.into(),
            r.ethnicity.clone(),
            r.religion.clone(),
            r.home_town.clone(),
            r.education.clone(),
            r.occupation.clone(),
            d(r.joined_on),
            d(r.official_on),
            r.party_card_number.clone().unwrap_or_default(),
            r.record_number.clone().unwrap_or_default(),
            r.org_code.clone(),
            r.org_name.clone(),
            r.positions.clone(),
            level.into(),
            if r.exempt_from_activities {
                "x".into()
            } else {
                String::new()
            },
            r.phone.clone(),
            r.email.clone(),
        ];
        for (c, v) in values.iter().enumerate() {
            if !v.is_empty() {
                sheet
                    .write_string(row, u16::try_from(c).unwrap_or(0), v)
                    .map_err(xl)?;
            }
        }
    }
    sheet.set_freeze_panes(1, 0).map_err(xl)?;
    book.save_to_buffer().map_err(xl)
}

/// A stored upload.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Upload {
    pub id: i64,
    pub kind: String,
    pub target_org_id: i64,
    pub file_name: String,
    pub content: Vec<u8>,
}

/// Keeps an uploaded file until it is confirmed (older uploads of the account are dropped).
pub async fn save_upload(
    db: &Db,
    scope: &Scope,
    kind: &str,
    target: OrgId,
    file_name: &str,
    content: &[u8],
) -> Result<i64> {
    let (id,): (i64,) = db_run!(db, p => {
        let mut tx = p.begin().await?;
        sqlx::query("DELETE FROM import_uploads WHERE account_id = $1").bind(scope.account_id.0).execute(&mut *tx).await?;
        let row = sqlx::query_as("INSERT INTO import_uploads (account_id, kind, target_org_id, file_name, content, created_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id")
            .bind(scope.account_id.0).bind(kind).bind(target.0).bind(file_name).bind(content).bind(now()).fetch_one(&mut *tx).await?;
        tx.commit().await?;
        Ok::<_, StoreError>(row)
    })?;
    Ok(id)
}

/// The caller's own upload.
pub async fn get_upload(db: &Db, scope: &Scope, id: i64) -> Result<Upload> {
    db_run!(db, p => sqlx::query_as::<_, Upload>("SELECT id, kind, target_org_id, file_name, content FROM import_uploads WHERE id = $1 AND account_id = $2")
        .bind(id).bind(scope.account_id.0).fetch_optional(p).await)?
        .ok_or(StoreError::NotFound)
}

/// Forgets an upload once imported.
pub async fn drop_upload(db: &Db, id: i64) -> Result<()> {
    crate::db_exec!(db, p => sqlx::query("DELETE FROM import_uploads WHERE id = $1").bind(id).execute(p).await)?;
    Ok(())
}

/// The organization tree under `target` as xlsx, in the layout the org import reads
/// (Mã, Tên, Mã cấp trên, Cấp, Loại), parents before children.
pub async fn export_orgs(db: &Db, scope: &Scope, target: OrgId) -> Result<Vec<u8>> {
    crate::org::get(db, scope, target).await?;
    let rows: Vec<(String, String, Option<String>, String, String)> = db_run!(db, p => sqlx::query_as(
        "SELECT o.code, o.name, (SELECT u.code FROM orgs u WHERE u.id = o.parent_id), o.level_name, o.kind \
         FROM orgs o JOIN org_closure c ON c.descendant_id = o.id WHERE c.ancestor_id = $1 ORDER BY o.depth, o.sort_key")
        .bind(target.0).fetch_all(p).await)?;
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    let xl = |e: rust_xlsxwriter::XlsxError| StoreError::Internal(format!("xlsx: {e}"));
    let bold = rust_xlsxwriter::Format::new().set_bold();
    for (c, h) in ["Mã", "Tên", "Mã cấp trên", "Cấp", "Loại"]
        .iter()
        .enumerate()
    {
        sheet
            .write_string_with_format(0, u16::try_from(c).unwrap_or(0), *h, &bold)
            .map_err(xl)?;
    }
    for (i, (code, name, parent, level, kind)) in rows.iter().enumerate() {
        let r = u32::try_from(i + 1).unwrap_or(u32::MAX);
        let kind = OrgKind::parse(kind).map(OrgKind::label).unwrap_or("");
        for (c, v) in [
            code.as_str(),
            name,
            parent.as_deref().unwrap_or(""),
            level,
            kind,
        ]
        .iter()
        .enumerate()
        {
            if !v.is_empty() {
                sheet
                    .write_string(r, u16::try_from(c).unwrap_or(0), *v)
                    .map_err(xl)?;
            }
        }
    }
    sheet.set_freeze_panes(1, 0).map_err(xl)?;
    book.save_to_buffer().map_err(xl)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn xlsx(cells: &[(u32, u16, &str)]) -> Vec<u8> {
        let mut book = rust_xlsxwriter::Workbook::new();
        let sheet = book.add_worksheet();
        for (r, c, v) in cells {
            sheet.write_string(*r, *c, *v).expect("cell");
        }
        book.save_to_buffer().expect("xlsx")
    }

    #[test]
    fn xlsx_rows_keep_their_spreadsheet_numbers() {
        let bytes = xlsx(&[
            (2, 1, "Họ và tên"),
            (3, 1, "Nguyễn Văn An"),
            (5, 0, "x"),
            (5, 1, "Lê Thị Bình"),
        ]);
        let sheet = read_sheet("a.xlsx", &bytes).expect("read");
        assert_eq!(
            sheet.headings,
            vec!["".to_string(), "Họ và tên".to_string()]
        );
        let numbers: Vec<usize> = sheet.rows.iter().map(|(n, _)| *n).collect();
        assert_eq!(numbers, vec![4, 6]);
        assert_eq!(sheet.rows[1].1[1], Cell::Text("Lê Thị Bình".into()));
    }

    /// A tiny file with a cell at the far corner of the sheet must not make the reader allocate
    /// every cell in between (16,384 columns × 1,048,576 rows).
    #[test]
    fn far_away_cells_are_refused_without_allocating_the_range() {
        let bytes = xlsx(&[(0, 0, "Họ và tên"), (1_048_575, 16_383, "x")]);
        assert!(bytes.len() < 20_000);
        let err = read_sheet("a.xlsx", &bytes).expect_err("refused");
        assert!(err.to_string().contains("quá xa"), "{err}");
    }
}
