//! Queries of the organization tree and its people.

pub mod positions;

use std::collections::HashMap;

use chrono::NaiveDate;
use domain::ids::{OrgId, PersonId};
use domain::org::{Gender, ManagementLevel, MemberStatus, OrgKind, PersonName, StatusChange};
use domain::text;

use crate::db::Db;
use crate::error::{Result, StoreError};
use crate::scope::{Scope, READ};
use crate::{db_run, now, Page, Paging};

/// An organization as lists show it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Org {
    pub id: i64,
    pub parent_id: Option<i64>,
    pub code: String,
    pub name: String,
    /// The configurable level name: "Tỉnh ủy", "Đảng ủy xã", "Chi bộ"…
    pub level_name: String,
    /// party_committee, grassroots, cell, agency, vertical_sector
    pub kind: String,
    pub depth: i64,
    /// Members in this organization's whole subtree.
    pub member_count: i64,
    /// Direct children.
    pub child_count: i64,
}

impl Org {
    pub fn kind_label(&self) -> &'static str {
        OrgKind::parse(&self.kind).map(OrgKind::label).unwrap_or("")
    }
}

/// One step of the breadcrumb; `visible` says whether the caller may open it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Crumb {
    pub id: i64,
    pub name: String,
    pub visible: bool,
}

/// A new organization under `parent` (or a new root when `parent` is `None`).
#[derive(Debug, Clone)]
pub struct NewOrg<'a> {
    pub parent: Option<OrgId>,
    pub code: &'a str,
    pub name: &'a str,
    /// Empty: the province's name of the new organization's level, else its kind's (R8.3).
    pub level_name: &'a str,
    pub kind: OrgKind,
}

/// A person as lists show them.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Person {
    pub id: i64,
    pub org_id: i64,
    pub org_name: String,
    /// The name as written.
    pub full_name: String,
    pub family_name: String,
    pub middle_name: String,
    pub given_name: String,
    pub birth_date: Option<NaiveDate>,
    /// male or female
    pub gender: String,
    pub ethnicity: String,
    pub party_card_number: Option<String>,
    /// Positions held, separated by "; ".
    pub positions: String,
    /// none, grassroots, commune, province
    pub management_level: String,
    pub exempt_from_activities: bool,
    /// active, moved, deceased, left
    pub status: String,
    pub status_on: Option<NaiveDate>,
    pub home_town: String,
    pub joined_on: Option<NaiveDate>,
    pub official_on: Option<NaiveDate>,
}

impl Person {
    pub fn is_active(&self) -> bool {
        self.status == MemberStatus::Active.code()
    }
    pub fn status_label(&self) -> &'static str {
        MemberStatus::parse(&self.status)
            .map(MemberStatus::label)
            .unwrap_or("")
    }
    pub fn gender_label(&self) -> &'static str {
        Gender::parse(&self.gender).map(Gender::label).unwrap_or("")
    }
    pub fn management_label(&self) -> &'static str {
        ManagementLevel::parse(&self.management_level)
            .map(ManagementLevel::label)
            .unwrap_or("")
    }
}

/// A new person (demo data and, later, imports).
#[derive(Debug, Clone)]
pub struct NewPerson {
    pub org_id: OrgId,
    pub name: PersonName,
    pub birth_date: Option<NaiveDate>,
    pub gender: Gender,
    pub ethnicity: String,
    pub party_card_number: Option<String>,
    pub positions: String,
    pub management_level: ManagementLevel,
    pub exempt_from_activities: bool,
}

/// The organization columns; `member_count` is kept on write by triggers on `people` (migration
/// 0008, issue 12), never counted per view.
const ORG_COLUMNS: &str = "o.id, o.parent_id, o.code, o.name, o.level_name, o.kind, o.depth, \
    CAST(o.member_count AS BIGINT) AS member_count, \
    (SELECT COUNT(*) FROM orgs k WHERE k.parent_id = o.id) AS child_count";

pub(crate) const PERSON_COLUMNS: &str = "p.id, p.org_id, o.name AS org_name, p.full_name, p.family_name, p.middle_name, p.given_name, \
    p.birth_date, p.gender, p.ethnicity, p.party_card_number, p.positions, p.management_level, p.exempt_from_activities, p.status, p.status_on, p.home_town, p.joined_on, p.official_on";

/// Filter of the people list.
#[derive(Debug, Clone, Default)]
pub struct PeopleFilter {
    /// Only this organization's subtree.
    pub org_id: Option<OrgId>,
    /// Searched in the folded name and the card number, diacritics ignored.
    pub q: Option<String>,
    /// Only people of `org_id` itself, not of its subtree.
    pub direct: bool,
    /// Only people with this register status ("active", "moved", …; issue 11.16).
    pub status: Option<domain::org::MemberStatus>,
}

/// The statements of [`insert_org`] on the open transaction `$tx` (an identifier) of either
/// engine, for a caller that writes more in the same transaction; yields the new id (`i64`).
/// A missing parent returns `NotFound`, a taken code `Conflict` from the enclosing function.
macro_rules! insert_org_in {
    ($tx:ident, $o:expr) => {{
        let o: &$crate::org::NewOrg<'_> = $o;
        let (depth, province): (i64, Option<i64>) = match o.parent {
            Some(parent) => sqlx::query_as("SELECT depth + 1, province_id FROM orgs WHERE id = $1")
                .bind(parent.0).fetch_optional(&mut *$tx).await?.ok_or($crate::StoreError::NotFound)?,
            None => (0, None),
        };
        // An unnamed level takes the province's name of its depth (R8.3), else the kind's.
        let level_name: String = if o.level_name.trim().is_empty() {
            let names: Option<(String,)> = match province {
                Some(p) => sqlx::query_as("SELECT value FROM org_settings WHERE org_id = $1 AND key = 'level_names'")
                    .bind(p).fetch_optional(&mut *$tx).await?,
                None => None,
            };
            names
                .and_then(|(n,)| n.lines().nth(usize::try_from(depth).unwrap_or(usize::MAX)).map(str::to_owned))
                .unwrap_or_else(|| o.kind.label().to_owned())
        } else {
            o.level_name.trim().to_owned()
        };
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO orgs (parent_id, province_id, code, name, name_folded, sort_key, level_name, kind, depth, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id")
            .bind(o.parent.map(|p| p.0)).bind(province).bind(o.code).bind(o.name).bind(::domain::text::fold(o.name))
            .bind(::domain::text::text_sort_key(o.name)).bind(&level_name).bind(o.kind.code()).bind(depth).bind($crate::now())
            .fetch_one(&mut *$tx).await.map_err($crate::StoreError::unique("code"))?;
        if province.is_none() {
            sqlx::query("UPDATE orgs SET province_id = id WHERE id = $1").bind(id).execute(&mut *$tx).await?;
        }
        sqlx::query("INSERT INTO org_closure (ancestor_id, descendant_id, depth, province_id) \
                     SELECT ancestor_id, $1, depth + 1, $3 FROM org_closure WHERE descendant_id = $2 \
                     UNION ALL SELECT $1, $1, 0, $3")
            .bind(id).bind(o.parent.map(|p| p.0).unwrap_or(-1)).bind(province.unwrap_or(id)).execute(&mut *$tx).await?;
        id
    }};
}
pub(crate) use insert_org_in;

/// Creates an organization and its closure rows. Used by the demo loader and by admins.
pub async fn insert_org(db: &Db, o: &NewOrg<'_>) -> Result<OrgId> {
    let id = db_run!(db, p => {
        let mut tx = p.begin().await?;
        let id = insert_org_in!(tx, o);
        tx.commit().await?;
        Ok::<_, StoreError>(id)
    })?;
    Ok(OrgId(id))
}

/// The organizations the caller was granted a reading role on: the tops of what they see.
pub async fn roots(db: &Db, scope: &Scope) -> Result<Vec<Org>> {
    let roles = READ
        .and_above()
        .map(|r| format!("'{}'", r.code()))
        .collect::<Vec<_>>()
        .join(", ");
    // A grant nested inside another grant of the same account is not a root of its own.
    let sql = format!(
        "SELECT {ORG_COLUMNS} FROM orgs o WHERE o.id IN (SELECT g.org_id FROM role_grants g WHERE g.account_id = $1 AND g.role IN ({roles})) \
         AND NOT EXISTS (SELECT 1 FROM org_closure c JOIN role_grants g2 ON g2.org_id = c.ancestor_id \
            WHERE c.descendant_id = o.id AND c.depth > 0 AND g2.account_id = $1 AND g2.role IN ({roles})) \
         ORDER BY o.sort_key"
    );
    Ok(
        db_run!(db, p => sqlx::query_as::<_, Org>(&sql).bind(scope.account_id.0).fetch_all(p).await)?,
    )
}

/// One organization, if the caller may see it.
pub async fn get(db: &Db, scope: &Scope, id: OrgId) -> Result<Org> {
    let sql = format!(
        "SELECT {ORG_COLUMNS} FROM orgs o WHERE o.id = $2 AND {}",
        Scope::subtree_sql("o.id", 1, READ)
    );
    db_run!(db, p => sqlx::query_as::<_, Org>(&sql).bind(scope.account_id.0).bind(id.0).fetch_optional(p).await)?
        .ok_or(StoreError::NotFound)
}

/// Direct children of an organization the caller may see, in Vietnamese order.
pub async fn children(db: &Db, scope: &Scope, id: OrgId) -> Result<Vec<Org>> {
    let sql = format!(
        "SELECT {ORG_COLUMNS} FROM orgs o WHERE o.parent_id = $2 AND {} ORDER BY o.sort_key",
        Scope::subtree_sql("o.id", 1, READ)
    );
    Ok(
        db_run!(db, p => sqlx::query_as::<_, Org>(&sql).bind(scope.account_id.0).bind(id.0).fetch_all(p).await)?,
    )
}

/// The path from the top of the tree down to `id`; steps outside the caller's scope are not links.
pub async fn breadcrumb(db: &Db, scope: &Scope, id: OrgId) -> Result<Vec<Crumb>> {
    let sql = format!(
        "SELECT o.id, o.name, CASE WHEN {} THEN TRUE ELSE FALSE END AS visible \
         FROM org_closure c JOIN orgs o ON o.id = c.ancestor_id WHERE c.descendant_id = $2 ORDER BY c.depth DESC",
        Scope::subtree_sql("o.id", 1, READ)
    );
    Ok(
        db_run!(db, p => sqlx::query_as::<_, Crumb>(&sql).bind(scope.account_id.0).bind(id.0).fetch_all(p).await)?,
    )
}

/// Every organization the caller may see, in tree order (for pickers). Bounded.
pub async fn all_visible(db: &Db, scope: &Scope, limit: i64) -> Result<Vec<Org>> {
    let sql = format!(
        "SELECT o.id, o.parent_id, o.code, o.name, o.level_name, o.kind, o.depth, CAST(0 AS BIGINT) AS member_count, CAST(0 AS BIGINT) AS child_count \
         FROM orgs o WHERE {} ORDER BY o.depth, o.sort_key LIMIT $2",
        Scope::subtree_sql("o.id", 1, READ)
    );
    Ok(
        db_run!(db, p => sqlx::query_as::<_, Org>(&sql).bind(scope.account_id.0).bind(limit).fetch_all(p).await)?,
    )
}

/// Creates a person. Used by the demo loader.
pub async fn insert_person(db: &Db, n: &NewPerson) -> Result<PersonId> {
    let ids = insert_people(db, std::slice::from_ref(n)).await?;
    ids.into_iter()
        .next()
        .ok_or(StoreError::Internal("no id returned".into()))
}

/// Creates many people in batches of multi-row INSERTs inside one transaction.
pub async fn insert_people(db: &Db, people: &[NewPerson]) -> Result<Vec<PersonId>> {
    // The org id is bound twice: for the row and for the province subquery.
    const COLS: usize = 16;
    // SQLite allows 32766 parameters per statement; PostgreSQL 65535.
    let batch = db.rows_per_insert(COLS);
    let now = now();
    let mut ids = Vec::with_capacity(people.len());
    // The province of each organization, looked up once (a subquery per row would open a cursor
    // per row, and SQLite walks the open cursors for each new one).
    let mut orgs: Vec<i64> = people.iter().map(|n| n.org_id.0).collect();
    orgs.sort_unstable();
    orgs.dedup();
    let sql = format!(
        "SELECT id, province_id FROM orgs WHERE id IN ({})",
        db.json_ints(1)
    );
    let list = crate::db::json_list(orgs.iter());
    let province: HashMap<i64, Option<i64>> = db_run!(db, p => sqlx::query_as::<_, (i64, Option<i64>)>(&sql).bind(&list).fetch_all(p).await)?
        .into_iter()
        .collect();
    db_run!(db, p => {
        let mut tx = p.begin().await?;
        for chunk in people.chunks(batch) {
            let values = db.values(chunk.len(), COLS, |p| format!("({})", p.join(", ")));
            let sql = format!(
                "INSERT INTO people (org_id, province_id, full_name, family_name, middle_name, given_name, name_folded, sort_key, birth_date, \
                 gender, ethnicity, party_card_number, positions, management_level, exempt_from_activities, created_at) VALUES {values} RETURNING id"
            );
            let mut q = sqlx::query_as::<_, (i64,)>(&sql);
            for n in chunk {
                q = q
                    .bind(n.org_id.0).bind(province.get(&n.org_id.0).copied().flatten())
                    .bind(&n.name.full)
                    .bind(&n.name.family).bind(&n.name.middle).bind(&n.name.given)
                    .bind(text::fold(&n.name.full)).bind(n.name.sort_key())
                    .bind(n.birth_date).bind(n.gender.code()).bind(&n.ethnicity)
                    .bind(&n.party_card_number).bind(&n.positions).bind(n.management_level.code())
                    .bind(n.exempt_from_activities).bind(now);
            }
            let got = q.fetch_all(&mut *tx).await.map_err(StoreError::unique("party_card_number"))?;
            ids.extend(got.into_iter().map(|(id,)| PersonId(id)));
        }
        tx.commit().await?;
        Ok::<_, StoreError>(())
    })?;
    Ok(ids)
}

/// Words of a people search that count.
const SEARCH_WORDS: usize = 5;

/// The words of a search as the index sees them: folded (no diacritics, lower case), split at
/// anything that is not a letter or digit ("H'Blô" is "h" and "blo"), at most [`SEARCH_WORDS`].
/// A one-letter word (the "H" of "H'Lim", a lone initial) is dropped when a longer word is typed:
/// as a prefix it matches most of the country and only slows the search.
pub fn search_words(q: &str) -> Vec<String> {
    let words: Vec<String> = text::fold(q)
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect();
    let long = words.iter().any(|w| w.len() > 1);
    words
        .into_iter()
        .filter(|w| !long || w.len() > 1)
        .take(SEARCH_WORDS)
        .collect()
}

/// The indexed word search over people as `alias`, with the query in parameter `$n` (issue 12:
/// SQLite FTS5 and PostgreSQL full text, both on the folded name and the card number; every word
/// typed as a prefix, in any order), and the query for that parameter; `None` when nothing is
/// searched. Both engines answer the same: the same words, the same prefixes.
pub fn word_search(db: &Db, alias: &str, n: usize, q: &str) -> Option<(String, String)> {
    let words = search_words(q);
    if words.is_empty() {
        return None;
    }
    Some(match db {
        Db::Sqlite(_) => (
            format!("{alias}.id IN (SELECT rowid FROM people_words WHERE people_words MATCH ${n})"),
            words
                .iter()
                .map(|w| format!("\"{w}\"*"))
                .collect::<Vec<_>>()
                .join(" "),
        ),
        // The matching ids first, from the index, as an array (the planner otherwise walks the
        // list's order and computes every row's words: 295 ms → 22 ms at province size).
        Db::Postgres(_) => (
            format!(
                "{alias}.id = ANY(ARRAY(SELECT w.id FROM people w WHERE \
                 to_tsvector('simple', w.name_folded || ' ' || coalesce(w.party_card_number, '')) \
                 @@ to_tsquery('simple', ${n})))"
            ),
            words
                .iter()
                .map(|w| format!("{w}:*"))
                .collect::<Vec<_>>()
                .join(" & "),
        ),
    })
}

/// The `WHERE` of a people list and its parameters after the caller's account ($1): the
/// organization ($2), the search ($3: the index query, or '' when nothing is searched) and the
/// status ($4). One statement per shape of filter (no organization / its subtree / itself; with
/// or without a search), never a catch-all `($2 = 0 OR …)` the planner cannot use an index for.
fn people_where(db: &Db, f: &PeopleFilter, walk_names: bool) -> (String, String, i64) {
    // On PostgreSQL a broad list is read along the name index and each row checked against the
    // organizations (`org_id + 0` keeps the planner off the organization index, which it
    // otherwise prefers for a page after a key: 111 ms instead of 2 ms for a province's middle
    // page); a narrow one lets the organization index drive (2 ms instead of 13 ms for a commune).
    let col = if walk_names && matches!(db, Db::Postgres(_)) {
        "(p.org_id + 0)"
    } else {
        "p.org_id"
    };
    let (search_sql, query) = word_search(db, "p", 3, f.q.as_deref().unwrap_or(""))
        .unwrap_or_else(|| ("$3 = ''".into(), String::new()));
    let org_sql = match (f.org_id, f.direct, db) {
        (None, _, _) => "$2 = 0".to_owned(),
        (Some(_), true, _) => "p.org_id = $2".to_owned(),
        (Some(_), false, Db::Sqlite(_)) => {
            "p.org_id IN (SELECT descendant_id FROM org_closure WHERE ancestor_id = $2)".to_owned()
        }
        (Some(_), false, Db::Postgres(_)) => format!(
            "{col} = ANY(ARRAY(SELECT descendant_id FROM org_closure WHERE ancestor_id = $2))"
        ),
    };
    let status_sql = if f.status.is_some() {
        "p.status = $4"
    } else {
        "$4 = ''"
    };
    let scope_sql = match db {
        Db::Sqlite(_) => Scope::subtree_sql("p.org_id", 1, READ),
        Db::Postgres(_) => Scope::subtree_array_sql(col, 1, READ),
    };
    let wh = format!("{scope_sql} AND {org_sql} AND {search_sql} AND {status_sql}");
    let org = f.org_id.map(|o| o.0).unwrap_or(0);
    (wh, query, org)
}

/// People the caller may see, filtered and paged, in Vietnamese name order.
pub async fn list_people(
    db: &Db,
    scope: &Scope,
    f: &PeopleFilter,
    paging: Paging,
) -> Result<Page<Person>> {
    let (wh, query, org) = people_where(db, f, false);
    let status = f.status.map(|s| s.code()).unwrap_or("");
    let count_sql = format!("SELECT COUNT(*) FROM people p WHERE {wh}");
    let list_sql = format!(
        "SELECT {PERSON_COLUMNS} FROM people p JOIN orgs o ON o.id = p.org_id WHERE {wh} ORDER BY p.sort_key, p.id LIMIT $5 OFFSET $6"
    );
    let (total, items) = db_run!(db, p => {
        let (total,) = sqlx::query_as::<_, (i64,)>(&count_sql)
            .bind(scope.account_id.0).bind(org).bind(&query).bind(status)
            .fetch_one(p).await?;
        let items = sqlx::query_as::<_, Person>(&list_sql)
            .bind(scope.account_id.0).bind(org).bind(&query).bind(status)
            .bind(paging.per_page).bind(paging.offset())
            .fetch_all(p).await?;
        Ok::<_, StoreError>((total, items))
    })?;
    Ok(Page {
        items,
        total,
        page: paging.page,
        per_page: paging.per_page,
    })
}

/// The most a list page counts: beyond it the page says "hơn 10.000" instead of counting the
/// whole subtree on every view (issue 12).
pub const COUNT_CAP: i64 = 10_000;

/// A people list over more than this many people is read along the name index on PostgreSQL.
const BROAD_LIST: i64 = 20_000;

/// How many people a list holds: exact, or "more than" a cap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Total {
    Exact(i64),
    /// More than this many (a filtered list is counted up to [`COUNT_CAP`] + 1 rows).
    MoreThan(i64),
}

/// People the caller may see, in Vietnamese name order, after person `after` (keyset on the sort
/// key and the id: a person added or moved between two pages never shifts the next one), at most
/// `limit`; and how many match in all: the kept counts when only the subtree narrows the list,
/// else counted up to [`COUNT_CAP`] + 1.
pub async fn people_after(
    db: &Db,
    scope: &Scope,
    f: &PeopleFilter,
    after: Option<PersonId>,
    limit: i64,
) -> Result<(Vec<Person>, Total)> {
    // How many people the subtree holds, from the kept counts: it decides the reading order on
    // PostgreSQL, and it is the total when nothing else narrows the list.
    let subtree_people = match f.org_id {
        Some(_) if f.direct => None,
        Some(o) => Some(get(db, scope, o).await?.member_count),
        None => Some(roots(db, scope).await?.iter().map(|r| r.member_count).sum()),
    };
    let walk_names = subtree_people.is_some_and(|n| n > BROAD_LIST);
    let (wh, query, org) = people_where(db, f, walk_names);
    let status = f.status.map(|s| s.code()).unwrap_or("");
    // The page after a person starts at their key, read first: a plain range on the
    // (sort_key, id) order that the index serves.
    let anchor: Option<(String, i64)> = match after {
        Some(a) => db_run!(db, p => sqlx::query_as("SELECT sort_key, id FROM people WHERE id = $1")
            .bind(a.0).fetch_optional(p).await)?,
        None => None,
    };
    let keyset = if anchor.is_some() {
        // The first condition is the index range; the second drops the ties up to the anchor.
        "AND p.sort_key >= $5 AND (p.sort_key > $5 OR p.id > $6)"
    } else {
        "AND $5 = '' AND $6 = 0"
    };
    let list_sql = format!(
        "SELECT {PERSON_COLUMNS} FROM people p JOIN orgs o ON o.id = p.org_id WHERE {wh} {keyset} \
         ORDER BY p.sort_key, p.id LIMIT $7"
    );
    let (key, key_id) = anchor.unwrap_or_default();
    let items = db_run!(db, p => sqlx::query_as::<_, Person>(&list_sql)
        .bind(scope.account_id.0).bind(org).bind(&query).bind(status)
        .bind(&key).bind(key_id).bind(limit)
        .fetch_all(p).await)?;
    // The total: the kept member counts when nothing narrows the subtree (issue 12), else a count
    // capped at COUNT_CAP + 1.
    let total = if let (true, None, Some(n)) = (query.is_empty(), f.status, subtree_people) {
        Total::Exact(n)
    } else {
        let count_sql = format!(
            "SELECT COUNT(*) FROM (SELECT 1 FROM people p WHERE {wh} LIMIT {}) AS capped",
            COUNT_CAP + 1
        );
        let (n,): (i64,) = db_run!(db, p => sqlx::query_as(&count_sql)
            .bind(scope.account_id.0).bind(org).bind(&query).bind(status)
            .fetch_one(p).await)?;
        if n > COUNT_CAP {
            Total::MoreThan(COUNT_CAP)
        } else {
            Total::Exact(n)
        }
    };
    Ok((items, total))
}

/// The name of the organization a user works in: the one of their highest grant, else their
/// own person's ("" when neither).
pub async fn home_org_name(
    db: &Db,
    grant_org: Option<OrgId>,
    person: Option<PersonId>,
) -> Result<String> {
    let row: Option<(String,)> = match (grant_org, person) {
        (Some(o), _) => {
            db_run!(db, p => sqlx::query_as("SELECT name FROM orgs WHERE id = $1").bind(o.0).fetch_optional(p).await)?
        }
        (None, Some(person)) => {
            db_run!(db, p => sqlx::query_as("SELECT o.name FROM people pe JOIN orgs o ON o.id = pe.org_id WHERE pe.id = $1")
            .bind(person.0).fetch_optional(p).await)?
        }
        (None, None) => None,
    };
    Ok(row.map(|(n,)| n).unwrap_or_default())
}

/// The caller's own full name and organization, for their self-service pages (a member reads no
/// other person's record).
pub async fn own_name(db: &Db, scope: &Scope) -> Result<Option<(String, String)>> {
    let Some(person) = scope.person_id else {
        return Ok(None);
    };
    Ok(
        db_run!(db, p => sqlx::query_as("SELECT p.full_name, o.name FROM people p JOIN orgs o ON o.id = p.org_id WHERE p.id = $1")
        .bind(person.0).fetch_optional(p).await)?,
    )
}

/// Corrects a person's record (issue 11.7): the organizer of their organization. A changed
/// written name is split again by the people's rule (decision 0009); an unchanged one keeps its
/// split, corrected or not. Audited with the fields that changed.
pub async fn update_person(
    db: &Db,
    scope: &Scope,
    person: PersonId,
    e: &domain::org::PersonEdit,
) -> Result<()> {
    let p = get_person(db, scope, person).await?;
    scope
        .require(db, OrgId(p.org_id), crate::scope::WRITE)
        .await?;
    let (family, middle, given) = if e.full_name == p.full_name {
        (
            p.family_name.clone(),
            p.middle_name.clone(),
            p.given_name.clone(),
        )
    } else {
        domain::org::names::split(&e.full_name, &e.ethnicity).0
    };
    let name = PersonName::written_as(&e.full_name, &family, &middle, &given)?;
    let mut changed = Vec::new();
    let mut note = |label: &str, differs: bool| {
        if differs {
            changed.push(label.to_string());
        }
    };
    note("họ tên", p.full_name != e.full_name);
    note("ngày sinh", p.birth_date != e.birth_date);
    note("giới tính", p.gender != e.gender.code());
    note("dân tộc", p.ethnicity != e.ethnicity);
    note("số thẻ", p.party_card_number != e.party_card_number);
    note("chức vụ", p.positions != e.positions);
    note("quê quán", p.home_town != e.home_town);
    note("ngày vào Đảng", p.joined_on != e.joined_on);
    note("ngày chính thức", p.official_on != e.official_on);
    if changed.is_empty() {
        return Ok(());
    }
    let detail = changed.join(", ");
    db_run!(db, q => {
        let mut tx = q.begin().await?;
        sqlx::query(
            "UPDATE people SET full_name = $2, family_name = $3, middle_name = $4, given_name = $5, name_folded = $6, sort_key = $7, \
             birth_date = $8, gender = $9, ethnicity = $10, party_card_number = $11, positions = $12, home_town = $13, \
             joined_on = $14, official_on = $15 WHERE id = $1")
            .bind(person.0).bind(&name.full).bind(&name.family).bind(&name.middle).bind(&name.given)
            .bind(text::fold(&name.full)).bind(name.sort_key()).bind(e.birth_date).bind(e.gender.code())
            .bind(&e.ethnicity).bind(&e.party_card_number).bind(&e.positions).bind(&e.home_town)
            .bind(e.joined_on).bind(e.official_on)
            .execute(&mut *tx).await
            .map_err(StoreError::unique("party_card_number"))?;
        crate::audit_in!(&mut *tx, scope, "update", "person", person.0, Some(OrgId(p.org_id)), &detail)?;
        tx.commit().await
    })?;
    Ok(())
}

/// One person, if the caller may see them.
pub async fn get_person(db: &Db, scope: &Scope, id: PersonId) -> Result<Person> {
    let sql = format!(
        "SELECT {PERSON_COLUMNS} FROM people p JOIN orgs o ON o.id = p.org_id WHERE p.id = $2 AND {}",
        Scope::subtree_sql("p.org_id", 1, READ)
    );
    db_run!(db, p => sqlx::query_as::<_, Person>(&sql).bind(scope.account_id.0).bind(id.0).fetch_optional(p).await)?
        .ok_or(StoreError::NotFound)
}

/// People holding a position in `org`'s subtree and the organizations above it the caller sees:
/// the candidates for accountable leader, chair and speakers (R1.1, R1.3).
pub async fn leaders(db: &Db, scope: &Scope, org: OrgId) -> Result<Vec<Person>> {
    let sql = format!(
        "SELECT {PERSON_COLUMNS} FROM people p JOIN orgs o ON o.id = p.org_id \
         WHERE (p.positions <> '' OR EXISTS (SELECT 1 FROM committee_positions cp WHERE cp.person_id = p.id AND cp.ended_on IS NULL)) \
         AND {} AND (p.org_id IN (SELECT descendant_id FROM org_closure WHERE ancestor_id = $2) \
            OR p.org_id IN (SELECT ancestor_id FROM org_closure WHERE descendant_id = $2)) \
         ORDER BY o.depth, p.sort_key LIMIT 300",
        Scope::subtree_sql("p.org_id", 1, READ)
    );
    Ok(
        db_run!(db, p => sqlx::query_as::<_, Person>(&sql).bind(scope.account_id.0).bind(org.0).fetch_all(p).await)?,
    )
}

/// The id of the organization with `code` (CLI and imports).
pub async fn find_by_code(db: &Db, code: &str) -> Result<Option<i64>> {
    let row: Option<(i64,)> = db_run!(db, p => sqlx::query_as("SELECT id FROM orgs WHERE code = $1").bind(code).fetch_optional(p).await)?;
    Ok(row.map(|(id,)| id))
}

/// Records that a member moved away, passed away or left the Party (or is active again), with
/// the date: the register keeps everyone (issue 5). The caller organizes the member's organization.
pub async fn set_status(db: &Db, scope: &Scope, person: PersonId, c: &StatusChange) -> Result<()> {
    let p = get_person(db, scope, person).await?;
    scope
        .require(db, OrgId(p.org_id), crate::scope::WRITE)
        .await?;
    let detail = format!("{} -> {}", p.status, c.status.code());
    db_run!(db, q => {
        let mut tx = q.begin().await?;
        sqlx::query("UPDATE people SET status = $2, status_on = $3, status_note = $4 WHERE id = $1")
            .bind(person.0).bind(c.status.code()).bind(c.on).bind(&c.note).execute(&mut *tx).await?;
        crate::audit_in!(&mut *tx, scope, "set_status", "person", person.0, Some(OrgId(p.org_id)), &detail)?;
        tx.commit().await
    })?;
    Ok(())
}

/// Corrects how a member's written name splits into family, middle and given name (it decides
/// the sort order): "Y Blô Kpă" is given name Blô, not Kpă. The written name stays as it is.
pub async fn set_name_split(
    db: &Db,
    scope: &Scope,
    person: PersonId,
    family: &str,
    middle: &str,
    given: &str,
) -> Result<()> {
    let p = get_person(db, scope, person).await?;
    scope
        .require(db, OrgId(p.org_id), crate::scope::WRITE)
        .await?;
    let name = PersonName::written_as(&p.full_name, family, middle, given)?;
    let detail = format!("given name {} -> {}", p.given_name, name.given);
    db_run!(db, q => {
        let mut tx = q.begin().await?;
        sqlx::query("UPDATE people SET family_name = $2, middle_name = $3, given_name = $4, sort_key = $5 WHERE id = $1")
            .bind(person.0).bind(&name.family).bind(&name.middle).bind(&name.given).bind(name.sort_key()).execute(&mut *tx).await?;
        crate::audit_in!(&mut *tx, scope, "set_name_split", "person", person.0, Some(OrgId(p.org_id)), &detail)?;
        tx.commit().await
    })?;
    Ok(())
}

#[cfg(test)]
mod search_tests {
    use super::search_words;

    #[test]
    fn words_are_folded_split_and_bounded() {
        assert_eq!(search_words("Nguyễn  Ân"), vec!["nguyen", "an"]);
        assert_eq!(
            search_words("H'Lim Byă"),
            vec!["lim", "bya"],
            "a lone letter goes"
        );
        assert_eq!(search_words("H"), vec!["h"], "unless it is all there is");
        assert_eq!(search_words("\"x\" OR *"), vec!["or"]);
        assert_eq!(
            search_words("a b c d e f g h"),
            vec!["a", "b", "c", "d", "e"]
        );
        assert!(search_words(" ' * ").is_empty());
    }
}
