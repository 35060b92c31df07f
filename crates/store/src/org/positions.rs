//! Positions in an organization's committee (R1.3, R2.8, R3.2): who is a standing member, a
//! unit leader, propaganda or advisory staff, or an assigned presenter. Ending a position keeps
//! its row with the end date. Every change refreshes the presenter warnings of the
//! organization's classes still planned, in the same transaction.

use chrono::NaiveDate;
use domain::ids::{OrgId, PersonId};
use domain::org::positions::CommitteeRole;

use crate::db::Db;
use crate::error::{Result, StoreError};
use crate::scope::{Scope, READ, WRITE};
use crate::{db_run, now};

/// A position as shown.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Position {
    pub id: i64,
    pub person_id: i64,
    pub person_name: String,
    pub org_id: i64,
    pub org_name: String,
    pub role: String,
    pub ended_on: Option<NaiveDate>,
}

impl Position {
    pub fn role_label(&self) -> &'static str {
        CommitteeRole::parse(&self.role).map_or("", CommitteeRole::label)
    }
}

const COLUMNS: &str = "SELECT cp.id, cp.person_id, p.full_name AS person_name, cp.org_id, o.name AS org_name, cp.role, cp.ended_on \
     FROM committee_positions cp JOIN people p ON p.id = cp.person_id JOIN orgs o ON o.id = cp.org_id";

/// The positions of a person the caller sees, or the caller's own (current first, then ended
/// ones).
pub async fn of_person(db: &Db, scope: &Scope, person: PersonId) -> Result<Vec<Position>> {
    if scope.person_id != Some(person) {
        super::get_person(db, scope, person).await?;
    }
    let sql = format!(
        "{COLUMNS} WHERE cp.person_id = $1 ORDER BY cp.ended_on IS NOT NULL, o.depth, cp.id"
    );
    Ok(db_run!(db, q => sqlx::query_as::<_, Position>(&sql).bind(person.0).fetch_all(q).await)?)
}

/// The current holders of `roles` in `org`'s committee, by name.
pub async fn holders(
    db: &Db,
    scope: &Scope,
    org: OrgId,
    roles: &[CommitteeRole],
) -> Result<Vec<Position>> {
    scope.require(db, org, READ).await?;
    let sql = format!(
        "{COLUMNS} WHERE cp.org_id = $1 AND cp.ended_on IS NULL AND cp.role IN ({}) ORDER BY p.sort_key, p.id, cp.role",
        CommitteeRole::sql_list(roles)
    );
    Ok(db_run!(db, q => sqlx::query_as::<_, Position>(&sql).bind(org.0).fetch_all(q).await)?)
}

/// Gives `person` a position in `org`'s committee: the caller organizes `org`, and the person
/// belongs to `org`'s subtree. Refused when the person already holds it.
pub async fn add(
    db: &Db,
    scope: &Scope,
    person: PersonId,
    org: OrgId,
    role: CommitteeRole,
) -> Result<i64> {
    scope.require(db, org, WRITE).await?;
    let p = super::get_person(db, scope, person).await?;
    let (inside,): (bool,) = db_run!(db, q => sqlx::query_as(
        "SELECT EXISTS (SELECT 1 FROM org_closure WHERE ancestor_id = $1 AND descendant_id = $2)")
        .bind(org.0).bind(p.org_id).fetch_one(q).await)?;
    if !inside {
        return Err(StoreError::rule(
            "person_outside_org",
            format!(
                "Người được chọn ({}) không sinh hoạt trong tổ chức này hay các tổ chức trực thuộc.",
                p.full_name
            ),
        ));
    }
    let detail = format!("{}: {}", p.full_name, role.label());
    db_run!(db, q => {
        let mut tx = q.begin().await?;
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO committee_positions (person_id, org_id, province_id, role, created_by, created_at) \
             SELECT $1, o.id, o.province_id, $3, $4, $5 FROM orgs o WHERE o.id = $2 RETURNING id")
            .bind(person.0).bind(org.0).bind(role.code()).bind(scope.account_id.0).bind(now())
            .fetch_one(&mut *tx).await.map_err(StoreError::unique("role"))?;
        sqlx::query(&crate::study::presenters::REFRESH_ORG).bind(org.0).execute(&mut *tx).await?;
        crate::audit_in!(&mut *tx, scope, "create", "position", id, Some(org), &detail)?;
        tx.commit().await?;
        Ok::<_, StoreError>(id)
    })
}

/// Ends a position on `on` (kept, with the date; not a future date: every check reads "ended"
/// as ended now). The caller organizes its organization.
pub async fn end(db: &Db, scope: &Scope, id: i64, on: NaiveDate) -> Result<()> {
    let sql = format!("{COLUMNS} WHERE cp.id = $1");
    let pos =
        db_run!(db, q => sqlx::query_as::<_, Position>(&sql).bind(id).fetch_optional(q).await)?
            .ok_or(StoreError::NotFound)?;
    scope.require(db, OrgId(pos.org_id), WRITE).await?;
    if on > crate::plans::tasks::today() {
        return Err(StoreError::rule(
            "ended_on_future",
            "Ngày kết thúc chức vụ: không được sau hôm nay (ghi khi chức vụ đã kết thúc).".into(),
        ));
    }
    if pos.ended_on.is_some() {
        return Err(StoreError::rule(
            "position_ended",
            "Chức vụ này đã kết thúc.".into(),
        ));
    }
    let detail = format!("{}: {} (đến {on})", pos.person_name, pos.role_label());
    db_run!(db, q => {
        let mut tx = q.begin().await?;
        sqlx::query("UPDATE committee_positions SET ended_on = $2 WHERE id = $1 AND ended_on IS NULL")
            .bind(id).bind(on).execute(&mut *tx).await?;
        sqlx::query(&crate::study::presenters::REFRESH_ORG).bind(pos.org_id).execute(&mut *tx).await?;
        crate::audit_in!(&mut *tx, scope, "end", "position", id, Some(OrgId(pos.org_id)), &detail)?;
        tx.commit().await?;
        Ok::<_, StoreError>(())
    })
}
