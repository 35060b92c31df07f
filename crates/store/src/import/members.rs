//! Importing the member list (issue 5): one pass over the file, a chunk of rows at a time. Each
//! chunk is read and checked, matched against the register (card number, then record number,
//! then name and birth date) by a few indexed queries, and — when writing — written, all inside
//! one transaction that is committed only if the whole file is clean. A dry run is the same pass,
//! rolled back. Memory holds one chunk, the organizations of the target, a compact key per card
//! number (duplicates in the file) and a bit per existing person (matched twice, missing): it does
//! not grow with the rows' content.

use std::collections::HashMap;

use chrono::NaiveDate;
use domain::ids::OrgId;
use domain::org::import::{self, CellError, MemberColumn, MemberRecord, OrgRef};
use domain::org::PartyCardNumber;
use domain::text;

use super::read::{Row, RowStream, Source};
use crate::db::{json_list, Db, SQLITE_IMPORT_CACHE};
use crate::error::{Result, StoreError};
use crate::scope::Scope;
use crate::{db_run, now};

/// Problems and members missing from the file listed at most (all are counted).
pub const LISTED: usize = 1_000;
/// Changed members listed field by field at most (all are counted).
pub const CHANGES_LISTED: usize = 5_000;

#[derive(Debug, Clone)]
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
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Missing {
    pub person_id: i64,
    pub full_name: String,
    pub org_name: String,
}

/// What importing a member file would do (or did).
#[derive(Debug, Clone, Default)]
pub struct MemberPlan {
    /// Each heading and the column it was read as (`null` = ignored).
    pub mapping: Vec<(String, Option<MemberColumn>)>,
    pub rows: usize,
    pub new: usize,
    /// Changed members, field by field (the first [`CHANGES_LISTED`]).
    pub changed: Vec<Change>,
    pub changed_total: usize,
    pub unchanged: usize,
    /// Active members of the target that the file does not list (the first [`LISTED`]).
    pub missing: Vec<Missing>,
    pub missing_total: usize,
    /// Problems by row and column (the first [`LISTED`], in row order).
    pub errors: Vec<CellError>,
    pub error_total: usize,
    /// How many written names each rule split (issue 11.8), so that a secretary can check the
    /// unusual ones; empty when the file gives the name parts.
    pub name_rules: Vec<NameRuleCount>,
}

/// A name-split rule and how many rows it split.
#[derive(Debug, Clone)]
pub struct NameRuleCount {
    /// last_word, prefix_given_clan, clan_then_given, prefix_given
    pub rule: String,
    pub label: String,
    pub rows: usize,
}

impl MemberPlan {
    /// Whether the file can be written (no error at all).
    pub fn is_clean(&self) -> bool {
        self.error_total == 0
    }

    fn error(&mut self, e: CellError) {
        self.error_total += 1;
        if self.errors.len() < LISTED {
            self.errors.push(e);
        }
    }

    /// What a confirmation of this plan expects to find again.
    pub fn expected(&self) -> Expected {
        Expected {
            new: self.new,
            changed: self.changed_total,
        }
    }
}

/// The counts a dry run showed: a confirmation writes nothing if the file or the register have
/// changed since, so that what is written is what the user saw.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Expected {
    pub new: usize,
    pub changed: usize,
}

impl Expected {
    /// The counts sent with a confirmation, when both are.
    pub fn given(new: Option<usize>, changed: Option<usize>) -> Option<Self> {
        Some(Expected {
            new: new?,
            changed: changed?,
        })
    }
}

/// What an applied import wrote.
#[derive(Debug, Clone)]
pub struct Applied {
    pub inserted: usize,
    pub updated: usize,
}

/// A plan, and what was written when the import was applied and the file was clean.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub plan: MemberPlan,
    pub applied: Option<Applied>,
}

/// How far an import is: rows read, and the share of the file they reach (0 to 1).
#[derive(Debug, Clone, Copy)]
pub struct Progress {
    pub rows: usize,
    pub done: f64,
}

/// How to run an import.
pub struct Options<'a> {
    /// Overrides the recognised columns (one entry per heading).
    pub mapping: Option<Vec<Option<MemberColumn>>>,
    /// Write (in one transaction) when the whole file is clean; otherwise a dry run.
    pub write: bool,
    /// The counts the user confirmed (see [`Expected`]).
    pub expect: Option<Expected>,
    /// The largest file read (bytes).
    pub max_bytes: u64,
    /// Changed members listed field by field at most ([`CHANGES_LISTED`] unless a full list of
    /// changes is asked for).
    pub changes_listed: usize,
    pub progress: &'a (dyn Fn(Progress) + Sync),
}

impl Default for Options<'_> {
    fn default() -> Self {
        Options {
            mapping: None,
            write: false,
            expect: None,
            max_bytes: super::MAX_FILE as u64,
            changes_listed: CHANGES_LISTED,
            progress: &|_| {},
        }
    }
}

#[derive(Debug, sqlx::FromRow)]
struct Existing {
    id: i64,
    org_id: i64,
    full_name: String,
    family_name: String,
    middle_name: String,
    given_name: String,
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
}

/// A re-import carries only the columns its file has: every other field keeps what the register
/// holds (a file without "Ngày sinh" must not erase birth dates).
fn keep_absent(r: &mut MemberRecord, e: &Existing, has: impl Fn(MemberColumn) -> bool) {
    use MemberColumn as C;
    // A name written as before keeps its split, which may have been corrected by hand (issue
    // 11.8); only the parts given in the file change it.
    if !has(C::GivenName) && r.name.full == e.full_name {
        r.name.family = e.family_name.clone();
        r.name.middle = e.middle_name.clone();
        r.name.given = e.given_name.clone();
    }
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

/// The columns of an existing member that matching and comparing need.
const EXISTING: &str = "SELECT p.id, p.org_id, p.full_name, p.family_name, p.middle_name, p.given_name, p.name_folded, p.birth_date, p.gender, p.ethnicity, \
    p.party_card_number, p.record_number, p.positions, p.management_level, p.exempt_from_activities, p.phone, p.email, \
    p.religion, p.home_town, p.education, p.occupation, p.joined_on, p.official_on";

/// One bit per person id: who the file has matched so far.
#[derive(Default)]
struct Bits(Vec<u64>);

impl Bits {
    /// Sets the bit; `false` when it was already set.
    fn insert(&mut self, id: i64) -> bool {
        let i = usize::try_from(id).unwrap_or(0);
        let (word, bit) = (i / 64, 1u64 << (i % 64));
        if self.0.len() <= word {
            self.0.resize(word + 1, 0);
        }
        let fresh = self.0[word] & bit == 0;
        self.0[word] |= bit;
        fresh
    }
    fn contains(&self, id: i64) -> bool {
        let i = usize::try_from(id).unwrap_or(0);
        self.0.get(i / 64).is_some_and(|w| w & (1 << (i % 64)) != 0)
    }
}

/// A checked row on its way to being matched.
struct Pending {
    rec: MemberRecord,
    org_id: i64,
    found: Option<(Existing, &'static str)>,
}

/// What a pass over the file keeps from one chunk to the next.
struct Planner {
    mapping: Vec<Option<MemberColumn>>,
    org_names: HashMap<i64, String>,
    by_code: HashMap<String, i64>,
    by_name: HashMap<String, Vec<i64>>,
    /// Card numbers seen in the file, as [`PartyCardNumber::key`], with their row.
    cards: HashMap<u64, u32>,
    matched: Bits,
    changes_listed: usize,
    /// Names split per rule (issue 11.8).
    name_rules: std::collections::BTreeMap<domain::org::names::SplitRule, usize>,
    plan: MemberPlan,
}

/// A chunk's decisions.
#[derive(Default)]
struct Writes {
    inserts: Vec<(MemberRecord, i64)>,
    updates: Vec<(i64, MemberRecord, i64)>,
}

impl Planner {
    fn has(&self, c: MemberColumn) -> bool {
        self.mapping.contains(&Some(c))
    }

    /// Reads and checks the rows of a chunk: cell values, card numbers repeated in the file,
    /// the organization of each row.
    fn read(&mut self, rows: Vec<Row>) -> Vec<Pending> {
        let mut out = Vec::with_capacity(rows.len());
        for (row, cells) in rows {
            self.plan.rows += 1;
            let rec = match import::parse_member_row(row, &cells, &self.mapping) {
                Ok(r) => {
                    if let Some(rule) = r.split_rule {
                        *self.name_rules.entry(rule).or_insert(0) += 1;
                    }
                    r
                }
                Err(errors) => {
                    errors.into_iter().for_each(|e| self.plan.error(e));
                    continue;
                }
            };
            if let Some(key) = rec.card_number.as_deref().and_then(PartyCardNumber::key) {
                let here = u32::try_from(row).unwrap_or(u32::MAX);
                if let Some(first) = self.cards.get(&key).copied() {
                    let card = rec.card_number.clone().unwrap_or_default();
                    self.plan.error(CellError {
                        row,
                        column: MemberColumn::CardNumber.label().into(),
                        message: format!("số thẻ '{card}' trùng với dòng {first}"),
                    });
                    continue;
                }
                self.cards.insert(key, here);
            }
            match self.org_of(&rec.org) {
                Ok(org_id) => out.push(Pending {
                    rec,
                    org_id,
                    found: None,
                }),
                Err((col, message)) => self.plan.error(CellError {
                    row,
                    column: col.label().into(),
                    message,
                }),
            }
        }
        out
    }

    fn org_of(&self, org: &OrgRef) -> std::result::Result<i64, (MemberColumn, String)> {
        match org {
            OrgRef::Code(c) => self.by_code.get(c.as_str()).copied().ok_or_else(|| {
                (
                    MemberColumn::OrgCode,
                    format!("không có tổ chức mã '{c}' trong phạm vi nhập"),
                )
            }),
            OrgRef::Name(n) => match self.by_name.get(&text::fold(n)).map(Vec::as_slice) {
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
        }
    }

    /// Matches by card number. A card held by someone outside the target cannot be taken.
    fn match_cards(&mut self, pending: &mut Vec<Pending>, found: Vec<Existing>) {
        let mut by_card: HashMap<String, Existing> = found
            .into_iter()
            .filter_map(|e| e.party_card_number.clone().map(|c| (c, e)))
            .collect();
        pending.retain_mut(|p| {
            let Some(e) = p.rec.card_number.as_ref().and_then(|c| by_card.remove(c)) else {
                return true;
            };
            if self.org_names.contains_key(&e.org_id) {
                p.found = Some((e, "số thẻ đảng viên"));
                return true;
            }
            self.plan.error(CellError {
                row: p.rec.row,
                column: MemberColumn::CardNumber.label().into(),
                message: format!(
                    "số thẻ '{}' đã thuộc một đảng viên ngoài phạm vi nhập",
                    p.rec.card_number.as_deref().unwrap_or_default()
                ),
            });
            false
        });
    }

    /// Matches the rows not matched yet to the people `found`, by a key both sides give (the
    /// first person of a key is taken; each is matched once here, twice is caught in `decide`).
    fn match_by<K: Eq + std::hash::Hash>(
        pending: &mut [Pending],
        found: Vec<Existing>,
        person_key: impl Fn(&Existing) -> Option<K>,
        row_key: impl Fn(&MemberRecord) -> Option<K>,
        how: &'static str,
    ) {
        let mut by_key: HashMap<K, Existing> = HashMap::new();
        for e in found {
            if let Some(k) = person_key(&e) {
                by_key.entry(k).or_insert(e);
            }
        }
        for p in pending.iter_mut().filter(|p| p.found.is_none()) {
            if let Some(e) = row_key(&p.rec).and_then(|k| by_key.remove(&k)) {
                p.found = Some((e, how));
            }
        }
    }

    /// New, changed or unchanged, for each matched row.
    fn decide(&mut self, pending: Vec<Pending>) -> Writes {
        let mut w = Writes::default();
        for Pending {
            mut rec,
            org_id,
            found,
        } in pending
        {
            let Some((e, how)) = found else {
                self.plan.new += 1;
                w.inserts.push((rec, org_id));
                continue;
            };
            if !self.matched.insert(e.id) {
                self.plan.error(CellError {
                    row: rec.row,
                    column: String::new(),
                    message: format!("trùng người với một dòng khác ({})", e.full_name),
                });
                continue;
            }
            keep_absent(&mut rec, &e, |c| self.has(c));
            let fields = diff(&e, &rec, org_id, &self.org_names);
            if fields.is_empty() {
                self.plan.unchanged += 1;
                continue;
            }
            self.plan.changed_total += 1;
            if self.plan.changed.len() < self.changes_listed {
                self.plan.changed.push(Change {
                    row: rec.row,
                    person_id: e.id,
                    full_name: rec.name.full.clone(),
                    matched_by: how.into(),
                    fields,
                });
            }
            w.updates.push((e.id, rec, org_id));
        }
        w
    }
}

/// Checks a member file against the members of `target`'s subtree: counts what is new, changed,
/// unchanged and missing, and lists problems by row and column. Writes nothing.
pub async fn plan_members(
    db: &Db,
    scope: &Scope,
    target: OrgId,
    file_name: &str,
    src: &Source,
    mapping: Option<Vec<Option<MemberColumn>>>,
) -> Result<MemberPlan> {
    let opts = Options {
        mapping,
        ..Options::default()
    };
    Ok(import_members(db, scope, target, file_name, src, &opts)
        .await?
        .plan)
}

/// Reads, checks and (with `opts.write`) writes a member file in one pass and one transaction:
/// all of it when the whole file is clean (and matches `opts.expect`), nothing otherwise.
pub async fn import_members(
    db: &Db,
    scope: &Scope,
    target: OrgId,
    file_name: &str,
    src: &Source,
    opts: &Options<'_>,
) -> Result<Outcome> {
    scope.require(db, target, crate::scope::WRITE).await?;
    let mut stream = RowStream::open(file_name, src, opts.max_bytes).await?;
    let mut mapping = opts
        .mapping
        .clone()
        .unwrap_or_else(|| import::map_headers(&stream.headings));
    mapping.resize(stream.headings.len(), None);
    let mut plan = MemberPlan {
        mapping: stream
            .headings
            .iter()
            .cloned()
            .zip(mapping.iter().copied())
            .collect(),
        ..Default::default()
    };
    let has = |c: MemberColumn| mapping.contains(&Some(c));
    if !has(MemberColumn::FullName) && !has(MemberColumn::GivenName) {
        plan.error(CellError {
            row: 1,
            column: String::new(),
            message: "thiếu cột «Họ và tên» (hoặc các cột Họ, Tên đệm, Tên)".into(),
        });
    }
    if !has(MemberColumn::OrgCode) && !has(MemberColumn::OrgName) {
        plan.error(CellError {
            row: 1,
            column: String::new(),
            message: "thiếu cột «Chi bộ» (hoặc «Mã tổ chức»)".into(),
        });
    }
    if !plan.is_clean() {
        return Ok(Outcome {
            plan,
            applied: None,
        });
    }
    // Organizations of the target subtree, by code and by folded name.
    let orgs: Vec<(i64, String, String, Option<i64>, String)> = db_run!(db, p => sqlx::query_as(
        "SELECT o.id, o.code, o.name, o.province_id, o.sort_key FROM orgs o JOIN org_closure c ON c.descendant_id = o.id WHERE c.ancestor_id = $1")
        .bind(target.0).fetch_all(p).await)?;
    let mut by_name: HashMap<String, Vec<i64>> = HashMap::new();
    for (id, _, n, _, _) in &orgs {
        by_name.entry(text::fold(n)).or_default().push(*id);
    }
    let province: HashMap<i64, Option<i64>> =
        orgs.iter().map(|(id, _, _, p, _)| (*id, *p)).collect();
    let org_sort: HashMap<i64, String> = orgs
        .iter()
        .map(|(id, _, _, _, k)| (*id, k.clone()))
        .collect();
    let mut planner = Planner {
        org_names: orgs
            .iter()
            .map(|(id, _, n, _, _)| (*id, n.clone()))
            .collect(),
        by_code: orgs.into_iter().map(|(id, c, _, _, _)| (c, id)).collect(),
        by_name,
        mapping,
        cards: HashMap::new(),
        matched: Bits::default(),
        changes_listed: opts.changes_listed,
        name_rules: Default::default(),
        plan,
    };
    // Each lookup starts from the chunk's keys and probes an index; `p.id <= $2` bounds the
    // probe inside the index (SQLite keeps the rowid as the index's last column; PostgreSQL's
    // name index ends with the id), so rows this import has just written are never visited.
    let (keys, pairs, by_record_index, by_name_index) = match db {
        Db::Sqlite(_) => (
            "(SELECT value AS v FROM json_each($1)) k CROSS JOIN",
            "(SELECT json_extract(value, '$[0]') AS n, json_extract(value, '$[1]') AS d FROM json_each($1)) k CROSS JOIN",
            // Statistics may call these indexes poor (record numbers mostly empty, names
            // repeated): the probe by key is still the right plan for a chunk's keys.
            " INDEXED BY people_record_number",
            " INDEXED BY people_name_birth",
        ),
        Db::Postgres(_) => (
            "(SELECT json_array_elements_text($1::json) AS v) k JOIN",
            "(SELECT e->>0 AS n, (e->>1)::date AS d FROM json_array_elements($1::json) e) k JOIN",
            "",
            "",
        ),
    };
    let scoped = "p.id <= $2 AND +p.org_id IN (SELECT descendant_id FROM org_closure WHERE ancestor_id = $3)";
    let by_card =
        format!("{EXISTING} FROM {keys} people p ON p.party_card_number = k.v WHERE p.id <= $2");
    let by_record = format!(
        "{EXISTING} FROM {keys} people p{by_record_index} ON p.record_number = k.v WHERE {scoped}"
    );
    // Name and birth date together: a common name alone has thousands.
    let by_name_birth = format!(
        "{EXISTING} FROM {pairs} people p{by_name_index} ON p.name_folded = k.n AND p.birth_date = k.d WHERE {scoped}"
    );
    let by_name_only = format!(
        "{EXISTING} FROM {keys} people p{by_name_index} ON p.name_folded = k.v WHERE p.birth_date IS NULL AND {scoped}"
    );
    // The province is bound, not looked up per row: a statement with a subquery per row opens a
    // cursor per row, and SQLite walks the open cursors for each new one.
    const COLS: usize = 25;
    let batch = db.rows_per_insert(COLS);
    let insert_values = |n: usize| db.values(n, COLS, |p| format!("({})", p.join(", ")));
    let created = now();
    let mut applied = Applied {
        inserted: 0,
        updated: 0,
    };
    let sqlite = matches!(db, Db::Sqlite(_));
    let committed = db_run!(db, p => {
        let mut conn = p.acquire().await?;
        if sqlite {
            // A larger page cache for this pass; the connection is closed afterwards (whatever
            // the way out), so the pool never keeps it.
            conn.close_on_drop();
            sqlx::query(&format!("PRAGMA cache_size = {SQLITE_IMPORT_CACHE}")).execute(&mut *conn).await?;
        }
        let mut tx = sqlx::Connection::begin(&mut *conn).await?;
        // People added while this runs (by this import, in particular) are not matched against.
        let (max_id,): (Option<i64>,) = sqlx::query_as("SELECT MAX(id) FROM people").fetch_one(&mut *tx).await?;
        let max_id = max_id.unwrap_or(0);
        while let Some(chunk) = stream.next().await {
            let chunk = chunk?;
            let mut pending = planner.read(chunk.rows);
            let cards = json_list(pending.iter().filter_map(|p| p.rec.card_number.as_deref()));
            if cards != "[]" {
                let found: Vec<Existing> = sqlx::query_as(&by_card).bind(&cards).bind(max_id).fetch_all(&mut *tx).await?;
                planner.match_cards(&mut pending, found);
            }
            let records = json_list(pending.iter().filter(|p| p.found.is_none()).filter_map(|p| p.rec.record_number.as_deref()));
            if records != "[]" {
                let found: Vec<Existing> = sqlx::query_as(&by_record).bind(&records).bind(max_id).bind(target.0).fetch_all(&mut *tx).await?;
                Planner::match_by(&mut pending, found, |e| e.record_number.clone(), |r| r.record_number.clone(), "số lý lịch");
            }
            let unmatched = || pending.iter().filter(|p| p.found.is_none());
            let dated = json_list(unmatched().filter_map(|p| Some((text::fold(&p.rec.name.full), p.rec.birth_date?.to_string()))));
            let undated = json_list(unmatched().filter(|p| p.rec.birth_date.is_none()).map(|p| text::fold(&p.rec.name.full)));
            let mut found: Vec<Existing> = Vec::new();
            if dated != "[]" && max_id > 0 {
                found = sqlx::query_as(&by_name_birth).bind(&dated).bind(max_id).bind(target.0).fetch_all(&mut *tx).await?;
            }
            if undated != "[]" && max_id > 0 {
                found.extend(sqlx::query_as::<_, Existing>(&by_name_only).bind(&undated).bind(max_id).bind(target.0).fetch_all(&mut *tx).await?);
            }
            // Names and birth dates, of members of the target only.
            Planner::match_by(
                &mut pending,
                found,
                |e| Some((e.name_folded.clone(), e.birth_date)),
                |r| Some((text::fold(&r.name.full), r.birth_date)),
                "họ tên và ngày sinh",
            );
            let writes = planner.decide(pending);
            if opts.write && planner.plan.is_clean() {
                for chunk in writes.inserts.chunks(batch) {
                    let sql = format!(
                        "INSERT INTO people (org_id, province_id, full_name, family_name, middle_name, given_name, name_folded, sort_key, birth_date, \
                         gender, ethnicity, party_card_number, positions, management_level, exempt_from_activities, created_at, religion, home_town, \
                         education, occupation, joined_on, official_on, record_number, phone, email) VALUES {}", insert_values(chunk.len())
                    );
                    let mut q = sqlx::query(&sql);
                    for (r, org) in chunk {
                        q = q.bind(*org).bind(province.get(org).copied().flatten()).bind(&r.name.full).bind(&r.name.family).bind(&r.name.middle).bind(&r.name.given)
                            .bind(text::fold(&r.name.full)).bind(r.name.sort_key()).bind(r.birth_date).bind(r.gender.code()).bind(&r.ethnicity)
                            .bind(&r.card_number).bind(&r.positions).bind(r.management_level.code()).bind(r.exempt).bind(created)
                            .bind(&r.religion).bind(&r.home_town).bind(&r.education).bind(&r.occupation).bind(r.joined_on).bind(r.official_on)
                            .bind(&r.record_number).bind(&r.phone).bind(&r.email);
                    }
                    q.execute(&mut *tx).await.map_err(StoreError::unique("party_card_number"))?;
                    applied.inserted += chunk.len();
                }
                for (id, r, org) in &writes.updates {
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
                    applied.updated += 1;
                }
            }
            (opts.progress)(Progress { rows: planner.plan.rows, done: chunk.done });
        }
        // Active members of the target the file did not match, a page at a time.
        let mut after = 0i64;
        let mut missing = Vec::new();
        loop {
            let page: Vec<(i64, String, i64, String)> = sqlx::query_as(
                "SELECT p.id, p.full_name, p.org_id, p.sort_key FROM people p WHERE p.status = 'active' AND p.id > $1 AND p.id <= $2 \
                 AND +p.org_id IN (SELECT descendant_id FROM org_closure WHERE ancestor_id = $3) ORDER BY p.id LIMIT 5000")
                .bind(after).bind(max_id).bind(target.0).fetch_all(&mut *tx).await?;
            let Some(last) = page.last() else { break };
            after = last.0;
            for (id, full_name, org, sort_key) in page {
                if planner.matched.contains(id) {
                    continue;
                }
                planner.plan.missing_total += 1;
                if missing.len() < LISTED {
                    let org_sort = org_sort.get(&org).cloned().unwrap_or_default();
                    missing.push(((org_sort, sort_key), Missing {
                        person_id: id,
                        full_name,
                        org_name: planner.org_names.get(&org).cloned().unwrap_or_default(),
                    }));
                }
            }
        }
        // Listed by organization, then in Vietnamese name order.
        missing.sort_by(|a, b| a.0.cmp(&b.0));
        planner.plan.missing = missing.into_iter().map(|(_, m)| m).collect();
        let stale = opts.expect.is_some_and(|e| e != planner.plan.expected());
        if opts.write && planner.plan.is_clean() && !stale {
            let detail = format!("{} new, {} changed", applied.inserted, applied.updated);
            crate::audit_in!(&mut *tx, scope, "import", "people", target.0, Some(target), &detail)?;
            tx.commit().await?;
            Ok::<_, StoreError>(true)
        } else {
            tx.rollback().await?;
            if opts.write && planner.plan.is_clean() && stale {
                return Err(StoreError::rule("import_source_changed",
                    "Tệp hoặc danh sách đảng viên đã thay đổi kể từ lần kiểm tra: chưa ghi dòng nào. Hãy xem lại kết quả kiểm tra mới rồi xác nhận.".into(),
                ));
            }
            Ok(false)
        }
    })?;
    let mut plan = planner.plan;
    plan.errors.sort_by_key(|e| e.row);
    plan.name_rules = planner
        .name_rules
        .iter()
        .map(|(rule, rows)| NameRuleCount {
            rule: rule.code().into(),
            label: rule.label().into(),
            rows: *rows,
        })
        .collect();
    if !committed {
        return Ok(Outcome {
            plan,
            applied: None,
        });
    }
    Ok(Outcome {
        plan,
        applied: Some(applied),
    })
}
