//! Study campaigns (R3.1) with their accountable leader (R1.1).

use chrono::NaiveDate;
use domain::ids::CampaignId;
use domain::study::NewCampaign;

use super::full_name_sql;
use crate::db::Db;
use crate::error::{Result, StoreError};
use crate::resolutions::{self, Resolution};
use crate::scope::{Scope, READ, WRITE};
use crate::{db_run, now, org};

/// A campaign as shown.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Campaign {
    pub id: i64,
    pub org_id: i64,
    pub org_name: String,
    pub name: String,
    pub leader_person_id: i64,
    /// R1.1: the accountable leader.
    pub leader_name: String,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    pub class_count: i64,
}

/// Links a resolution to a campaign; the row carries the campaign's province key (issue 13.6).
const LINK_RESOLUTION: &str =
    "INSERT INTO campaign_resolutions (campaign_id, resolution_id, province_id) \
     SELECT c.id, $2, c.province_id FROM campaigns c WHERE c.id = $1";

fn select_sql() -> String {
    format!(
        "SELECT c.id, c.org_id, o.name AS org_name, c.name, c.leader_person_id, {} AS leader_name, c.starts_on, c.ends_on, \
         (SELECT COUNT(*) FROM classes k WHERE k.campaign_id = c.id) AS class_count \
         FROM campaigns c JOIN orgs o ON o.id = c.org_id JOIN people l ON l.id = c.leader_person_id",
        full_name_sql("l")
    )
}

/// Campaigns run by organizations the caller sees, newest first.
pub async fn list(db: &Db, scope: &Scope) -> Result<Vec<Campaign>> {
    let sql = format!(
        "{} WHERE {} ORDER BY c.starts_on DESC, c.id DESC LIMIT 500",
        select_sql(),
        Scope::subtree_sql("c.org_id", 1, READ)
    );
    Ok(
        db_run!(db, p => sqlx::query_as::<_, Campaign>(&sql).bind(scope.account_id.0).fetch_all(p).await)?,
    )
}

/// One campaign, if the caller sees its organizer.
pub async fn get(db: &Db, scope: &Scope, id: CampaignId) -> Result<Campaign> {
    let sql = format!(
        "{} WHERE c.id = $2 AND {}",
        select_sql(),
        Scope::subtree_sql("c.org_id", 1, READ)
    );
    db_run!(db, p => sqlx::query_as::<_, Campaign>(&sql).bind(scope.account_id.0).bind(id.0).fetch_optional(p).await)?
        .ok_or(StoreError::NotFound)
}

/// The resolution ids of a campaign, unfiltered (callers filter by clearance when showing them).
pub(crate) async fn resolution_ids(db: &Db, id: CampaignId) -> Result<Vec<i64>> {
    let rows: Vec<(i64,)> = db_run!(db, p => sqlx::query_as("SELECT resolution_id FROM campaign_resolutions WHERE campaign_id = $1 ORDER BY resolution_id")
        .bind(id.0).fetch_all(p).await)?;
    Ok(rows.into_iter().map(|(r,)| r).collect())
}

/// The resolutions of a campaign that the caller is cleared to see.
pub async fn resolutions(db: &Db, scope: &Scope, id: CampaignId) -> Result<Vec<Resolution>> {
    let ids = resolution_ids(db, id).await?;
    resolutions::get_many(db, scope, &ids).await
}

/// Creates a campaign; the caller must organize at its organization, see its leader and be
/// cleared for every resolution in it.
/// The checks of a campaign's content: its leader (visible, of its organization or a committee
/// above) and its resolutions (all visible to the caller). The resolution ids.
async fn check(db: &Db, scope: &Scope, c: &NewCampaign) -> Result<Vec<i64>> {
    let leader = org::get_person(db, scope, c.leader_person_id)
        .await
        .map_err(|_| {
            StoreError::rule(
                "leader_not_found",
                "Không tìm thấy người chịu trách nhiệm trong phạm vi của bạn.".into(),
            )
        })?;
    // R1.1, issue 11.5: the accountable leader belongs to the campaign's organization (its
    // subtree) or to a committee above it, never to an unrelated branch.
    let (related,): (i64,) = db_run!(db, p => sqlx::query_as(
        "SELECT COUNT(*) FROM org_closure WHERE (ancestor_id = $1 AND descendant_id = $2) OR (ancestor_id = $2 AND descendant_id = $1)")
        .bind(c.org_id.0).bind(leader.org_id).fetch_one(p).await)?;
    if related == 0 {
        return Err(StoreError::rule("leader_outside_org", format!(
            "Người chịu trách nhiệm ({}, {}) phải thuộc tổ chức tổ chức đợt học tập hoặc cấp ủy cấp trên của tổ chức đó.",
            leader.full_name, leader.org_name
        )));
    }
    let ids: Vec<i64> = c.resolution_ids.iter().map(|r| r.0).collect();
    let visible = resolutions::get_many(db, scope, &ids).await?;
    if visible.len() != ids.len() {
        return Err(StoreError::rule(
            "resolution_not_found",
            "Có nghị quyết không tồn tại hoặc bạn không được xem.".into(),
        ));
    }
    Ok(ids)
}

pub async fn create(db: &Db, scope: &Scope, c: &NewCampaign) -> Result<CampaignId> {
    scope.require(db, c.org_id, WRITE).await?;
    let ids = check(db, scope, c).await?;
    let id = db_run!(db, p => {
        let mut tx = p.begin().await?;
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO campaigns (org_id, province_id, name, leader_person_id, starts_on, ends_on, created_at) \
             SELECT $1, o.province_id, $2, $3, $4, $5, $6 FROM orgs o WHERE o.id = $1 RETURNING id")
            .bind(c.org_id.0).bind(&c.name).bind(c.leader_person_id.0).bind(c.dates.start()).bind(c.dates.end()).bind(now())
            .fetch_one(&mut *tx).await?;
        for r in &ids {
            sqlx::query(LINK_RESOLUTION).bind(id).bind(r).execute(&mut *tx).await?;
        }
        crate::audit_in!(&mut *tx, scope, "create", "campaign", id, Some(c.org_id), &c.name)?;
        tx.commit().await?;
        Ok::<_, StoreError>(id)
    })?;
    Ok(CampaignId(id))
}

/// Corrects a campaign (issue 11.7): its name, organization, leader, dates and resolutions, with
/// the same checks as when it was made. Resolutions the caller may not see stay in it untouched
/// (an uncleared organizer never drops a classified entry a cleared colleague bundled). Audited.
pub async fn update(db: &Db, scope: &Scope, old: &Campaign, c: &NewCampaign) -> Result<()> {
    scope
        .require(db, domain::ids::OrgId(old.org_id), WRITE)
        .await?;
    scope.require(db, c.org_id, WRITE).await?;
    let mut ids = check(db, scope, c).await?;
    let held = resolution_ids(db, CampaignId(old.id)).await?;
    let visible: std::collections::HashSet<i64> = resolutions::get_many(db, scope, &held)
        .await?
        .into_iter()
        .map(|r| r.id)
        .collect();
    ids.extend(held.into_iter().filter(|r| !visible.contains(r)));
    ids.sort_unstable();
    ids.dedup();
    let detail = format!(
        "{} ({} - {}) -> {} ({} - {})",
        old.name,
        old.starts_on,
        old.ends_on,
        c.name,
        c.dates.start(),
        c.dates.end()
    );
    db_run!(db, p => {
        let mut tx = p.begin().await?;
        sqlx::query(
            "UPDATE campaigns SET org_id = $2, province_id = (SELECT province_id FROM orgs WHERE id = $2), name = $3, \
             leader_person_id = $4, starts_on = $5, ends_on = $6 WHERE id = $1")
            .bind(old.id).bind(c.org_id.0).bind(&c.name).bind(c.leader_person_id.0).bind(c.dates.start()).bind(c.dates.end())
            .execute(&mut *tx).await?;
        sqlx::query("DELETE FROM campaign_resolutions WHERE campaign_id = $1").bind(old.id).execute(&mut *tx).await?;
        for r in &ids {
            sqlx::query(LINK_RESOLUTION).bind(old.id).bind(r).execute(&mut *tx).await?;
        }
        crate::audit_in!(&mut *tx, scope, "update", "campaign", old.id, Some(c.org_id), &detail)?;
        tx.commit().await?;
        Ok::<_, StoreError>(())
    })?;
    Ok(())
}
