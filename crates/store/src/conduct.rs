//! Conduct records and year-end ratings (R3.6, R3.7).
//!
//! Records are personal: the person sees their own; the cell secretary and the committees
//! above see those of the people in their subtree (secretary role and up, never a presenter or
//! another member). They are never deleted: a withdrawal keeps the record, who withdrew it, when
//! and why, and the audit log has it too.
//!
//! The eligibility report never counts a subtree's people: per person and year, the records
//! that bar an excellent rating are kept on write (`conduct_marks`, with the person's
//! organization, kept by a trigger when they move), and a cell's active members are its kept
//! `member_count` less the few inactive rows (a partial index) — so a province reads its cells,
//! its marks and its inactive members, nothing more.

pub mod export;

use std::collections::HashMap;

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use domain::conduct::{cell_barred, rating_year, ConductKind, NewConduct, RatingLevel};
use domain::ids::{ConductRecordId, OrgId, PersonId};
use domain::org::OrgKind;

use crate::db::Db;
use crate::error::{Result, StoreError};
use crate::org::{self, Org};
use crate::scope::{Scope, ATTEND};
use crate::study::classes::{self, Class};
use crate::{db_run, now};

/// A conduct record as shown.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Record {
    #[sqlx(try_from = "i64")]
    pub id: ConductRecordId,
    pub person_id: i64,
    pub person_name: String,
    pub org_id: i64,
    pub org_name: String,
    pub class_id: Option<i64>,
    pub class_title: Option<String>,
    pub kind: String,
    pub occurred_on: NaiveDate,
    pub year: i64,
    pub reason: String,
    pub recorded_by_name: String,
    pub recorded_at: DateTime<Utc>,
    pub withdrawn_at: Option<DateTime<Utc>>,
    pub withdrawn_by_name: Option<String>,
    pub withdrawn_reason: Option<String>,
}

impl Record {
    pub fn kind(&self) -> Option<ConductKind> {
        ConductKind::parse(&self.kind).ok()
    }
    pub fn kind_label(&self) -> &'static str {
        self.kind().map_or("", ConductKind::label)
    }
    pub fn withdrawn(&self) -> bool {
        self.withdrawn_at.is_some()
    }
}

const COLUMNS: &str = "SELECT r.id, r.person_id, p.full_name AS person_name, r.org_id, o.name AS org_name, r.class_id, \
     k.title AS class_title, r.kind, r.occurred_on, CAST(r.year AS BIGINT) AS year, r.reason, a.display_name AS recorded_by_name, \
     r.recorded_at, r.withdrawn_at, w.display_name AS withdrawn_by_name, r.withdrawn_reason \
     FROM conduct_records r JOIN people p ON p.id = r.person_id JOIN orgs o ON o.id = r.org_id \
     LEFT JOIN classes k ON k.id = r.class_id JOIN accounts a ON a.id = r.recorded_by LEFT JOIN accounts w ON w.id = r.withdrawn_by";

/// Records of a class at most on one page.
pub const PAGE: i64 = 100;

/// The marks' change for one record of `kind` (`sign` +1 on record, -1 on withdrawal).
fn marks(kind: ConductKind, sign: i64) -> (i64, i64) {
    (
        if kind.bars_excellent() { sign } else { 0 },
        if kind.counts_for_cell() { sign } else { 0 },
    )
}

/// Adds a record's marks for person `$1` in year `$2` (`$3` barring, `$4` flagged), with the
/// person's organization and province as they are now.
const UPSERT_MARKS: &str = "INSERT INTO conduct_marks (person_id, year, org_id, province_id, barring, flagged) \
     SELECT p.id, $2, p.org_id, p.province_id, $3, $4 FROM people p WHERE p.id = $1 \
     ON CONFLICT (year, person_id) DO UPDATE SET barring = conduct_marks.barring + excluded.barring, \
     flagged = conduct_marks.flagged + excluded.flagged, org_id = excluded.org_id";

#[derive(sqlx::FromRow)]
struct Subject {
    id: i64,
    org_id: i64,
    full_name: String,
    status: String,
    covered: bool,
}

/// Records `c` for each of its people, at `class` when given (they must be on its list, and the
/// caller able to take its attendance). Each person must lie in the caller's subtree with the
/// secretary role or above. All or nothing: one refused person writes no record.
pub async fn record(
    db: &Db,
    scope: &Scope,
    class: Option<&Class>,
    c: &NewConduct,
) -> Result<Vec<ConductRecordId>> {
    if let Some(k) = class {
        classes::access(db, scope, k, ATTEND).await?;
    }
    let list = serde_json::to_string(&c.people.iter().map(|p| p.0).collect::<Vec<_>>())
        .map_err(|e| StoreError::Internal(e.to_string()))?;
    let sql = format!(
        "SELECT p.id, p.org_id, p.full_name, p.status, {} AS covered FROM people p WHERE p.id IN ({})",
        Scope::probe_sql("p.org_id", 1, ATTEND),
        db.json_ints(2)
    );
    let found: Vec<Subject> = db_run!(db, p => sqlx::query_as::<_, Subject>(&sql).bind(scope.account_id.0).bind(&list).fetch_all(p).await)?;
    let outside = c.people.len() - found.iter().filter(|s| s.covered).count();
    if outside > 0 {
        return Err(StoreError::rule(
            "person_outside",
            format!("Người được ghi nhận: {outside} người không thuộc phạm vi bạn phụ trách (hoặc không tồn tại); chưa ghi nhận ai."),
        ));
    }
    if let Some(s) = found.iter().find(|s| s.status != "active") {
        return Err(StoreError::rule(
            "person_not_active",
            format!(
                "Người được ghi nhận: {} không còn sinh hoạt tại chi bộ; chưa ghi nhận ai.",
                s.full_name
            ),
        ));
    }
    if let Some(k) = class {
        let sql = format!(
            "SELECT COUNT(*) FROM participants WHERE class_id = $1 AND removed_at IS NULL AND person_id IN ({})",
            db.json_ints(2)
        );
        let (n,): (i64,) =
            db_run!(db, p => sqlx::query_as(&sql).bind(k.id).bind(&list).fetch_one(p).await)?;
        if usize::try_from(n).unwrap_or(0) != c.people.len() {
            return Err(StoreError::rule(
                "not_participant",
                "Người được ghi nhận: có người không thuộc danh sách tham gia lớp học này; chưa ghi nhận ai.".into(),
            ));
        }
    }
    let year = i64::from(c.year());
    let (barring, flagged) = marks(c.kind, 1);
    let class_id = class.map(|k| k.id);
    let at = now();
    db_run!(db, p => {
        let mut tx = p.begin().await?;
        let mut ids = Vec::with_capacity(found.len());
        for s in &found {
            let (id,): (i64,) = sqlx::query_as(
                "INSERT INTO conduct_records (person_id, org_id, province_id, class_id, kind, occurred_on, year, reason, recorded_by, recorded_at) \
                 SELECT p.id, p.org_id, o.province_id, $2, $3, $4, $5, $6, $7, $8 FROM people p JOIN orgs o ON o.id = p.org_id WHERE p.id = $1 RETURNING id")
                .bind(s.id).bind(class_id).bind(c.kind.code()).bind(c.occurred_on).bind(year).bind(&c.reason)
                .bind(scope.account_id.0).bind(at)
                .fetch_one(&mut *tx).await?;
            if barring != 0 || flagged != 0 {
                sqlx::query(UPSERT_MARKS).bind(s.id).bind(year).bind(barring).bind(flagged).execute(&mut *tx).await?;
            }
            let detail = format!("{}: {}: {}", c.kind.label(), s.full_name, c.reason);
            crate::audit_in!(&mut *tx, scope, "create", "conduct_record", id, Some(OrgId(s.org_id)), &detail)?;
            ids.push(ConductRecordId(id));
        }
        tx.commit().await?;
        Ok::<_, StoreError>(ids)
    })
}

/// One record, when the caller may see it: their own, or a person of their subtree (secretary
/// and up).
pub async fn get(db: &Db, scope: &Scope, id: ConductRecordId) -> Result<Record> {
    let sql = format!(
        "{COLUMNS} WHERE r.id = $2 AND (p.id = $3 OR {})",
        Scope::probe_sql("p.org_id", 1, ATTEND)
    );
    db_run!(db, p => sqlx::query_as::<_, Record>(&sql).bind(scope.account_id.0).bind(id.0)
        .bind(scope.person_id.map_or(0, |p| p.0)).fetch_optional(p).await)?
    .ok_or(StoreError::NotFound)
}

/// Withdraws a record with a reason: kept, marked withdrawn, audited; it no longer bars a
/// rating. Secretary and up over the person; refused once withdrawn.
pub async fn withdraw(db: &Db, scope: &Scope, id: ConductRecordId, reason: &str) -> Result<()> {
    let r = get(db, scope, id).await?;
    let (covers,): (bool,) = db_run!(db, p => sqlx::query_as(&format!("SELECT {} FROM people p WHERE p.id = $2", Scope::probe_sql("p.org_id", 1, ATTEND)))
        .bind(scope.account_id.0).bind(r.person_id).fetch_one(p).await)?;
    if !covers {
        return Err(StoreError::Forbidden);
    }
    let reason = domain::text::required_text(reason, domain::conduct::REASON_MAX)
        .map_err(|e| StoreError::rule("withdraw_reason", format!("Lý do rút lại: {e}")))?;
    if r.withdrawn() {
        return Err(StoreError::rule(
            "already_withdrawn",
            "Bản ghi này đã được rút lại trước đó.".into(),
        ));
    }
    let kind = r
        .kind()
        .ok_or_else(|| StoreError::Internal("conduct kind".into()))?;
    let (barring, flagged) = marks(kind, -1);
    let detail = format!("{}: {}: {}", kind.label(), r.person_name, reason);
    db_run!(db, p => {
        let mut tx = p.begin().await?;
        let done = sqlx::query("UPDATE conduct_records SET withdrawn_at = $2, withdrawn_by = $3, withdrawn_reason = $4 WHERE id = $1 AND withdrawn_at IS NULL")
            .bind(id.0).bind(now()).bind(scope.account_id.0).bind(&reason).execute(&mut *tx).await?.rows_affected();
        if done == 0 {
            return Err(StoreError::rule("already_withdrawn", "Bản ghi này đã được rút lại trước đó.".into()));
        }
        if barring != 0 || flagged != 0 {
            sqlx::query(UPSERT_MARKS).bind(r.person_id).bind(r.year).bind(barring).bind(flagged).execute(&mut *tx).await?;
        }
        crate::audit_in!(&mut *tx, scope, "withdraw", "conduct_record", id.0, Some(OrgId(r.org_id)), &detail)?;
        tx.commit().await?;
        Ok::<_, StoreError>(())
    })
}

/// `Ok` when the caller may read `person`'s records and ratings: the person themself, or
/// secretary and up over their organization.
async fn require_personal(db: &Db, scope: &Scope, person: PersonId) -> Result<()> {
    if scope.person_id == Some(person) {
        return Ok(());
    }
    let p = org::get_person(db, scope, person).await?;
    scope.require(db, OrgId(p.org_id), ATTEND).await
}

/// A year's rating of a person as they (and those above them) read it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PersonRating {
    pub year: i64,
    pub level: String,
    /// The cell the rating was entered in.
    pub org_name: String,
    pub rated_on: NaiveDate,
}

impl PersonRating {
    pub fn level_label(&self) -> &'static str {
        RatingLevel::parse(&self.level).map_or("", RatingLevel::label)
    }
}

/// A person's year-end ratings, newest year first, when the caller may see them (personal:
/// the person, and secretary and up over them).
pub async fn ratings_of_person(
    db: &Db,
    scope: &Scope,
    person: PersonId,
) -> Result<Vec<PersonRating>> {
    require_personal(db, scope, person).await?;
    Ok(db_run!(db, p => sqlx::query_as::<_, PersonRating>(
        "SELECT CAST(r.year AS BIGINT) AS year, r.level, o.name AS org_name, r.rated_on FROM ratings r \
         JOIN orgs o ON o.id = r.org_id WHERE r.person_id = $1 ORDER BY r.year DESC LIMIT 100")
        .bind(person.0).fetch_all(p).await)?)
}

/// A person's records (newest first), when the caller may see them; `year` narrows them.
pub async fn of_person(
    db: &Db,
    scope: &Scope,
    person: PersonId,
    year: Option<i32>,
) -> Result<Vec<Record>> {
    require_personal(db, scope, person).await?;
    let sql = format!(
        "{COLUMNS} WHERE r.person_id = $1 AND ($2 = 0 OR r.year = $2) ORDER BY r.occurred_on DESC, r.id DESC LIMIT 500"
    );
    Ok(
        db_run!(db, p => sqlx::query_as::<_, Record>(&sql).bind(person.0).bind(i64::from(year.unwrap_or(0))).fetch_all(p).await)?,
    )
}

/// The records of a class, newest first, a page after the record `before`; only those of the
/// people the caller may see (secretary and up).
pub async fn of_class(
    db: &Db,
    scope: &Scope,
    class: &Class,
    before: Option<i64>,
) -> Result<(Vec<Record>, Option<i64>)> {
    let sql = format!(
        "{COLUMNS} WHERE r.class_id = $2 AND r.id < $3 AND {} ORDER BY r.id DESC LIMIT $4",
        Scope::probe_sql("p.org_id", 1, ATTEND)
    );
    let rows = db_run!(db, p => sqlx::query_as::<_, Record>(&sql).bind(scope.account_id.0).bind(class.id)
        .bind(before.unwrap_or(i64::MAX)).bind(PAGE + 1).fetch_all(p).await)?;
    let (rows, next) = crate::plans::page_of(rows, PAGE, |r| r.id.0);
    Ok((rows, next))
}

/// A participant absent without reason from a session of the class (R3.6: offered a review
/// proposal at the close).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Absentee {
    pub person_id: i64,
    pub full_name: String,
    pub org_name: String,
    pub absences: i64,
}

/// Absentees shown at most on the class's conduct page (one more is read to tell there are more).
pub const ABSENTEES_SHOWN: usize = 100;

/// Unexcused absentees of a class the caller covers, by name (at most
/// [`ABSENTEES_SHOWN`] + 1).
pub async fn unexcused(db: &Db, scope: &Scope, class: &Class) -> Result<Vec<Absentee>> {
    let sql = format!(
        "SELECT p.id AS person_id, p.full_name, o.name AS org_name, COUNT(*) AS absences \
         FROM attendance a JOIN study_sessions s ON s.id = a.session_id JOIN participants pt ON pt.id = a.participant_id \
         JOIN people p ON p.id = pt.person_id JOIN orgs o ON o.id = p.org_id \
         WHERE s.class_id = $2 AND s.status <> 'cancelled' AND a.status = 'absent' AND pt.removed_at IS NULL AND {} \
         GROUP BY p.id, p.full_name, o.name, p.sort_key ORDER BY p.sort_key, p.id LIMIT 101",
        Scope::probe_sql("p.org_id", 1, ATTEND)
    );
    Ok(
        db_run!(db, p => sqlx::query_as::<_, Absentee>(&sql).bind(scope.account_id.0).bind(class.id).fetch_all(p).await)?,
    )
}

// ---------------------------------------------------------------------------------------------
// Eligibility (R3.7)

/// A cell in the eligibility report.
#[derive(Debug, Clone)]
pub struct CellRow {
    pub org_id: i64,
    pub name: String,
    /// The organization above it (cells of different communes share names).
    pub parent_name: String,
    /// Active members (the kept count less the inactive).
    pub members: i64,
    /// Members reminded or criticized this year (records not withdrawn).
    pub flagged: i64,
    /// The cell's rating entered for the year, if any.
    pub rating: Option<String>,
}

impl CellRow {
    pub fn barred(&self) -> bool {
        cell_barred(self.flagged, self.members)
    }
    /// "9/91 (9,9%)": the share, with one decimal, never rounded up to the boundary.
    pub fn share(&self) -> String {
        if self.members == 0 {
            return "—".into();
        }
        let permille = self.flagged * 1000 / self.members;
        format!(
            "{}/{} ({},{}%)",
            self.flagged,
            self.members,
            permille / 10,
            permille % 10
        )
    }
    pub fn rating_label(&self) -> &'static str {
        self.rating
            .as_deref()
            .and_then(|r| RatingLevel::parse(r).ok())
            .map_or("", RatingLevel::label)
    }
}

/// A record that bars a member (the report links to it).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Reason {
    pub id: i64,
    pub person_id: i64,
    pub kind: String,
    pub occurred_on: NaiveDate,
    pub reason: String,
}

impl Reason {
    pub fn kind_label(&self) -> &'static str {
        ConductKind::parse(&self.kind).map_or("", ConductKind::label)
    }
}

/// A member in the eligibility report.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MemberRow {
    pub person_id: i64,
    pub full_name: String,
    pub sort_key: String,
    pub org_id: i64,
    pub org_name: String,
    pub barring: i64,
    pub rating: Option<String>,
    #[sqlx(skip)]
    pub reasons: Vec<Reason>,
}

impl MemberRow {
    pub fn eligible(&self) -> bool {
        self.barring == 0
    }
    pub fn rating_label(&self) -> &'static str {
        self.rating
            .as_deref()
            .and_then(|r| RatingLevel::parse(r).ok())
            .map_or("", RatingLevel::label)
    }
}

/// The eligibility report of an organization for a year.
#[derive(Debug, Clone)]
pub struct Report {
    pub org: Org,
    pub year: i32,
    /// Every cell of the subtree, in tree order.
    pub cells: Vec<CellRow>,
    pub members_total: i64,
    /// Members barred from an excellent rating (records not withdrawn).
    pub members_barred: i64,
}

impl Report {
    pub fn cells_barred(&self) -> usize {
        self.cells.iter().filter(|c| c.barred()).count()
    }
    /// The organization is a cell: the report lists all its members.
    pub fn is_cell(&self) -> bool {
        self.org.kind == OrgKind::Cell.code()
    }
}

#[derive(sqlx::FromRow)]
struct CellBase {
    id: i64,
    name: String,
    parent_name: String,
    member_count: i64,
}

/// The cells of `org`'s subtree with their members, flagged members and ratings for `year`,
/// and the subtree's totals. Secretary and up on `org`.
pub async fn eligibility(db: &Db, scope: &Scope, org_id: OrgId, year: i32) -> Result<Report> {
    scope.require(db, org_id, ATTEND).await?;
    let org = org::get(db, scope, org_id).await?;
    let year64 = i64::from(year);
    let cells: Vec<CellBase> = db_run!(db, p => sqlx::query_as::<_, CellBase>(
        "SELECT o.id, o.name, COALESCE(u.name, '') AS parent_name, CAST(o.member_count AS BIGINT) AS member_count \
         FROM org_closure c JOIN orgs o ON o.id = c.descendant_id LEFT JOIN orgs u ON u.id = o.parent_id \
         WHERE c.ancestor_id = $1 AND o.kind = 'cell' ORDER BY u.sort_key, u.id, o.sort_key, o.id")
        .bind(org_id.0).fetch_all(p).await)?;
    // Per cell: the marks of the year (from their own index), and the inactive members with
    // their marks (a partial index: few rows), taken off. `persistent(false)`: a generic plan
    // of PostgreSQL guesses a subtree of a few organizations and walks every person of it.
    let marks: Vec<(i64, i64, i64)> = db_run!(db, p => sqlx::query_as(
        "SELECT m.org_id, SUM(CASE WHEN m.flagged > 0 THEN 1 ELSE 0 END), COUNT(*) FROM conduct_marks m \
         WHERE m.year = $2 AND m.barring > 0 AND m.org_id IN (SELECT descendant_id FROM org_closure WHERE ancestor_id = $1) \
         GROUP BY m.org_id")
        .bind(org_id.0).bind(year64).persistent(false).fetch_all(p).await)?;
    let inactive_rows: Vec<(i64, i64, i64, i64)> = db_run!(db, p => sqlx::query_as(
        "SELECT p.org_id, COUNT(*), SUM(CASE WHEN m.flagged > 0 THEN 1 ELSE 0 END), SUM(CASE WHEN m.barring > 0 THEN 1 ELSE 0 END) \
         FROM people p JOIN org_closure c ON c.descendant_id = p.org_id \
         LEFT JOIN conduct_marks m ON m.person_id = p.id AND m.year = $2 \
         WHERE c.ancestor_id = $1 AND p.status <> 'active' GROUP BY p.org_id")
        .bind(org_id.0).bind(year64).persistent(false).fetch_all(p).await)?;
    let ratings: Vec<(i64, String)> = db_run!(db, p => sqlx::query_as(
        "SELECT r.org_id, r.level FROM ratings r JOIN org_closure c ON c.descendant_id = r.org_id \
         WHERE c.ancestor_id = $1 AND r.year = $2 AND r.person_id IS NULL")
        .bind(org_id.0).bind(year64).fetch_all(p).await)?;
    let mut flagged_by: HashMap<i64, (i64, i64)> =
        marks.into_iter().map(|(o, f, b)| (o, (f, b))).collect();
    let mut inactive: HashMap<i64, i64> = HashMap::new();
    for (o, n, f, b) in inactive_rows {
        inactive.insert(o, n);
        if let Some(e) = flagged_by.get_mut(&o) {
            e.0 -= f;
            e.1 -= b;
        }
    }
    let ratings: HashMap<i64, String> = ratings.into_iter().collect();
    let members_barred = flagged_by.values().map(|(_, b)| b).sum();
    let members_total = org.member_count - inactive.values().sum::<i64>();
    let cells = cells
        .into_iter()
        .map(|c| CellRow {
            members: c.member_count - inactive.get(&c.id).copied().unwrap_or(0),
            flagged: flagged_by.get(&c.id).map_or(0, |(f, _)| *f),
            rating: ratings.get(&c.id).cloned(),
            org_id: c.id,
            name: c.name,
            parent_name: c.parent_name,
        })
        .collect();
    Ok(Report {
        org,
        year,
        cells,
        members_total,
        members_barred,
    })
}

const MEMBER_COLUMNS: &str = "SELECT p.id AS person_id, p.full_name, p.sort_key, p.org_id, o.name AS org_name, \
     CAST(COALESCE(m.barring, 0) AS BIGINT) AS barring, r.level AS rating FROM people p JOIN orgs o ON o.id = p.org_id";

/// Members of the report, in name order, a page after `after` (a person id), each with the
/// records that bar them: every active member of a cell or, above a cell, every active member
/// of the subtree (`all`) or only those barred from an excellent rating.
pub async fn members(
    db: &Db,
    report: &Report,
    all: bool,
    after: Option<i64>,
    limit: i64,
) -> Result<(Vec<MemberRow>, Option<i64>)> {
    let year = i64::from(report.year);
    let after = after.unwrap_or(0);
    let keyset = "AND ($3 = 0 OR (p.sort_key, p.id) > ((SELECT k.sort_key FROM people k WHERE k.id = $3), $3)) \
                  ORDER BY p.sort_key, p.id LIMIT $4";
    let sql = if report.is_cell() {
        format!(
            "{MEMBER_COLUMNS} LEFT JOIN conduct_marks m ON m.person_id = p.id AND m.year = $2 \
             LEFT JOIN ratings r ON r.person_id = p.id AND r.year = $2 \
             WHERE p.org_id = $1 AND p.status = 'active' {keyset}"
        )
    } else if all {
        let subtree = match db {
            Db::Postgres(_) => "p.org_id = ANY(ARRAY(SELECT descendant_id FROM org_closure WHERE ancestor_id = $1))",
            Db::Sqlite(_) => "p.org_id IN (SELECT descendant_id FROM org_closure WHERE ancestor_id = $1)",
        };
        format!(
            "{MEMBER_COLUMNS} LEFT JOIN conduct_marks m ON m.person_id = p.id AND m.year = $2 \
             LEFT JOIN ratings r ON r.person_id = p.id AND r.year = $2 \
             WHERE {subtree} AND p.status = 'active' {keyset}"
        )
    } else {
        format!(
            "{MEMBER_COLUMNS} JOIN conduct_marks m ON m.person_id = p.id AND m.year = $2 AND m.barring > 0 \
             LEFT JOIN ratings r ON r.person_id = p.id AND r.year = $2 \
             WHERE m.org_id IN (SELECT descendant_id FROM org_closure WHERE ancestor_id = $1) AND p.status = 'active' {keyset}"
        )
    };
    let rows = db_run!(db, p => sqlx::query_as::<_, MemberRow>(&sql).bind(report.org.id).bind(year).bind(after).bind(limit + 1)
        .persistent(false).fetch_all(p).await)?;
    let (mut rows, next) = crate::plans::page_of(rows, limit, |r| r.person_id);
    let barred: Vec<i64> = rows
        .iter()
        .filter(|r| !r.eligible())
        .map(|r| r.person_id)
        .collect();
    for r in reasons(db, report.year, &barred).await? {
        if let Some(m) = rows.iter_mut().find(|m| m.person_id == r.person_id) {
            m.reasons.push(r);
        }
    }
    Ok((rows, next))
}

/// The standing records of `people` for `year` that bar an excellent rating.
async fn reasons(db: &Db, year: i32, people: &[i64]) -> Result<Vec<Reason>> {
    if people.is_empty() {
        return Ok(vec![]);
    }
    let list = serde_json::to_string(people).map_err(|e| StoreError::Internal(e.to_string()))?;
    let sql = format!(
        "SELECT r.id, r.person_id, r.kind, r.occurred_on, r.reason FROM conduct_records r \
         WHERE r.year = $1 AND r.withdrawn_at IS NULL AND r.kind <> 'commendation' AND r.person_id IN ({}) \
         ORDER BY r.occurred_on, r.id",
        db.json_ints(2)
    );
    Ok(
        db_run!(db, p => sqlx::query_as::<_, Reason>(&sql).bind(i64::from(year)).bind(&list).fetch_all(p).await)?,
    )
}

// ---------------------------------------------------------------------------------------------
// Ratings

/// One rating as entered: a member's (`person`) or the cell's own (`None`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RatingEntry {
    pub person: Option<PersonId>,
    pub level: RatingLevel,
}

/// Enters the year-end ratings of a cell: its members' (secretary and up on the cell) and its
/// own (secretary and up on the committee above). The year is the one ending or just ended; an
/// "excellent" rating for a member or a cell the rules bar is refused with the reason (R3.7).
/// All or nothing; each rating audited with the old and new level.
pub async fn rate(
    db: &Db,
    scope: &Scope,
    cell: OrgId,
    year: i32,
    entries: &[RatingEntry],
) -> Result<()> {
    let today = crate::plans::tasks::today();
    let year = rating_year(year, today)
        .map_err(|e| StoreError::rule("rating_year", format!("Năm xếp loại: {e}")))?;
    let report = eligibility(db, scope, cell, year).await?;
    if !report.is_cell() {
        return Err(StoreError::rule(
            "not_a_cell",
            "Chỉ xếp loại tại chi bộ (chọn một chi bộ).".into(),
        ));
    }
    let row = report
        .cells
        .iter()
        .find(|c| c.org_id == cell.0)
        .cloned()
        .ok_or(StoreError::NotFound)?;
    if entries.iter().any(|e| e.person.is_none()) {
        let parent = report.org.parent_id.ok_or(StoreError::Forbidden)?;
        if !scope.covers(db, OrgId(parent), ATTEND).await? {
            return Err(StoreError::rule(
                "cell_rating_above",
                "Xếp loại chi bộ do cấp ủy cấp trên thực hiện.".into(),
            ));
        }
    }
    let people: Vec<i64> = entries
        .iter()
        .filter_map(|e| e.person.map(|p| p.0))
        .collect();
    let mut members: HashMap<i64, MemberRow> = HashMap::new();
    if !people.is_empty() {
        let list =
            serde_json::to_string(&people).map_err(|e| StoreError::Internal(e.to_string()))?;
        let sql = format!(
            "{MEMBER_COLUMNS} LEFT JOIN conduct_marks m ON m.person_id = p.id AND m.year = $2 \
             LEFT JOIN ratings r ON r.person_id = p.id AND r.year = $2 \
             WHERE p.org_id = $1 AND p.status = 'active' AND p.id IN ({})",
            db.json_ints(3)
        );
        let rows = db_run!(db, p => sqlx::query_as::<_, MemberRow>(&sql).bind(cell.0).bind(i64::from(year)).bind(&list).fetch_all(p).await)?;
        members = rows.into_iter().map(|m| (m.person_id, m)).collect();
        if let Some(missing) = people.iter().find(|p| !members.contains_key(p)) {
            return Err(StoreError::rule(
                "person_not_in_cell",
                format!("Người được xếp loại (mã {missing}) không phải đảng viên đang sinh hoạt tại chi bộ này."),
            ));
        }
    }
    for e in entries.iter().filter(|e| e.level == RatingLevel::Excellent) {
        match e.person {
            Some(p) => {
                let m = &members[&p.0];
                if !m.eligible() {
                    let why = reasons(db, year, &[p.0])
                        .await?
                        .iter()
                        .map(|x| {
                            format!(
                                "{} ngày {}",
                                x.kind_label(),
                                domain::text::format_date(x.occurred_on)
                            )
                        })
                        .collect::<Vec<_>>()
                        .join("; ");
                    return Err(StoreError::rule(
                        "not_eligible",
                        format!(
                            "{} không đủ điều kiện xếp loại «Hoàn thành xuất sắc nhiệm vụ» năm {year}: {why}.",
                            m.full_name
                        ),
                    ));
                }
            }
            None => {
                if row.barred() {
                    return Err(StoreError::rule(
                        "not_eligible",
                        format!(
                            "Chi bộ không đủ điều kiện xếp loại «Hoàn thành xuất sắc nhiệm vụ» năm {year}: {} đảng viên bị nhắc nhở, phê bình, từ 10% trở lên.",
                            row.share()
                        ),
                    ));
                }
            }
        }
    }
    let at = now();
    db_run!(db, p => {
        let mut tx = p.begin().await?;
        for e in entries {
            let (old, subject, counts) = match e.person {
                Some(p) => {
                    let m = &members[&p.0];
                    (m.rating.clone(), m.full_name.clone(), (None, None))
                }
                None => (row.rating.clone(), row.name.clone(), (Some(row.members), Some(row.flagged))),
            };
            let conflict = if e.person.is_some() {
                "(year, person_id) WHERE person_id IS NOT NULL"
            } else {
                "(year, org_id) WHERE person_id IS NULL"
            };
            let sql = format!(
                "INSERT INTO ratings (year, person_id, org_id, province_id, level, rated_on, rated_by, rated_at, member_count, flagged_count) \
                 SELECT $1, $2, o.id, o.province_id, $4, $5, $6, $7, $8, $9 FROM orgs o WHERE o.id = $3 \
                 ON CONFLICT {conflict} DO UPDATE SET level = excluded.level, rated_on = excluded.rated_on, rated_by = excluded.rated_by, \
                 rated_at = excluded.rated_at, member_count = excluded.member_count, flagged_count = excluded.flagged_count RETURNING id"
            );
            let (id,): (i64,) = sqlx::query_as(&sql)
                .bind(i64::from(year)).bind(e.person.map(|p| p.0)).bind(cell.0).bind(e.level.code()).bind(today)
                .bind(scope.account_id.0).bind(at).bind(counts.0).bind(counts.1)
                .fetch_one(&mut *tx).await?;
            let detail = format!("{subject} năm {year}: {} -> {}", old.as_deref().unwrap_or("—"), e.level.code());
            crate::audit_in!(&mut *tx, scope, "rate", "rating", id, Some(cell), &detail)?;
        }
        tx.commit().await?;
        Ok::<_, StoreError>(())
    })
}

/// The default year of the reports: the year of `today`.
pub fn this_year() -> i32 {
    crate::plans::tasks::today().year()
}
