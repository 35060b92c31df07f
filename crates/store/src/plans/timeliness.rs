//! Timeliness of plans (issue 14.4; R7.1, R7.2, R6.1): a committee names the subordinate
//! organizations concerned by a resolution (only those make a plan); the page shows who has
//! issued one and when, who has not, who issued it only after their study began, and the days
//! from the resolution's release to each organization's first class.

use chrono::{DateTime, NaiveDate, Utc};
use domain::ids::{OrgId, ResolutionId};

use crate::db::Db;
use crate::error::{Result, StoreError};
use crate::scope::{Scope, READ, WRITE};
use crate::{db_run, now};

/// One organization named as concerned, and where it stands.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Concerned {
    pub org_id: i64,
    pub org_name: String,
    /// The first issue date of a plan of this organization for the resolution.
    pub issued_on: Option<NaiveDate>,
    pub plan_id: Option<i64>,
    /// The start of the first session of a class of the organization's subtree studying it.
    pub first_class_at: Option<DateTime<Utc>>,
}

impl Concerned {
    pub fn first_class_on(&self) -> Option<NaiveDate> {
        self.first_class_at
            .map(|t| domain::study::utc_to_local(t).date())
    }
    /// The plan was issued after the organization's study had begun (R7.1: plans are issued
    /// early, to be studied together with the resolution).
    pub fn issued_late(&self) -> bool {
        matches!((self.issued_on, self.first_class_on()), (Some(i), Some(c)) if i > c)
    }
    /// Days from the resolution's release to the first class.
    pub fn days_to_class(&self, released_on: NaiveDate) -> Option<i64> {
        self.first_class_on().map(|c| (c - released_on).num_days())
    }
}

/// The organizations `committee` named as concerned by `resolution`, in tree order, with their
/// plans and first classes. The caller reads the committee's subtree and sees the resolution.
pub async fn concerned(
    db: &Db,
    scope: &Scope,
    resolution: ResolutionId,
    committee: OrgId,
) -> Result<Vec<Concerned>> {
    scope.require(db, committee, READ).await?;
    crate::resolutions::get(db, scope, resolution).await?;
    let sql = "SELECT q.org_id, o.name AS org_name, \
         (SELECT MIN(p.issued_on) FROM plans p JOIN plan_resolutions x ON x.plan_id = p.id \
          WHERE x.resolution_id = q.resolution_id AND p.org_id = q.org_id AND p.issued_on IS NOT NULL) AS issued_on, \
         (SELECT MIN(p.id) FROM plans p JOIN plan_resolutions x ON x.plan_id = p.id \
          WHERE x.resolution_id = q.resolution_id AND p.org_id = q.org_id) AS plan_id, \
         (SELECT MIN(s.starts_at) FROM org_closure c JOIN classes k ON k.org_id = c.descendant_id \
          JOIN campaign_resolutions cr ON cr.campaign_id = k.campaign_id JOIN study_sessions s ON s.class_id = k.id \
          WHERE c.ancestor_id = q.org_id AND cr.resolution_id = q.resolution_id) AS first_class_at \
         FROM plan_requirements q JOIN orgs o ON o.id = q.org_id \
         WHERE q.resolution_id = $1 AND q.named_by_org_id = $2 ORDER BY o.sort_key, o.id";
    Ok(
        db_run!(db, p => sqlx::query_as::<_, Concerned>(sql).bind(resolution.0).bind(committee.0).fetch_all(p).await)?,
    )
}

/// Names the organizations concerned by `resolution` below `committee` (its organizer or
/// above): replaces the committee's list; each must lie below the committee. Audited.
pub async fn name_concerned(
    db: &Db,
    scope: &Scope,
    resolution: ResolutionId,
    committee: OrgId,
    orgs: &[OrgId],
) -> Result<()> {
    scope.require(db, committee, WRITE).await?;
    let r = crate::resolutions::get(db, scope, resolution).await?;
    let list = serde_json::to_string(&orgs.iter().map(|o| o.0).collect::<Vec<_>>())
        .map_err(|e| StoreError::Internal(e.to_string()))?;
    let below = format!(
        "SELECT COUNT(*) FROM org_closure WHERE ancestor_id = $1 AND depth >= 1 AND descendant_id IN ({})",
        db.json_ints(2)
    );
    let (n,): (i64,) =
        db_run!(db, p => sqlx::query_as(&below).bind(committee.0).bind(&list).fetch_one(p).await)?;
    if usize::try_from(n).unwrap_or(0) != orgs.len() {
        return Err(StoreError::rule(
            "concerned_outside",
            "Tổ chức phải xây dựng kế hoạch: chỉ chọn các tổ chức trực thuộc.".into(),
        ));
    }
    let insert = format!(
        "INSERT INTO plan_requirements (resolution_id, named_by_org_id, org_id, province_id, named_by, named_at) \
         SELECT $1, $2, o.id, o.province_id, $3, $4 FROM orgs o WHERE o.id IN ({})",
        db.json_ints(5)
    );
    let detail = format!(
        "{}: {} tổ chức phải xây dựng kế hoạch",
        r.display_name(),
        orgs.len()
    );
    db_run!(db, p => {
        let mut tx = p.begin().await?;
        sqlx::query("DELETE FROM plan_requirements WHERE resolution_id = $1 AND named_by_org_id = $2")
            .bind(resolution.0).bind(committee.0).execute(&mut *tx).await?;
        sqlx::query(&insert).bind(resolution.0).bind(committee.0).bind(scope.account_id.0).bind(now()).bind(&list)
            .execute(&mut *tx).await?;
        crate::audit_in!(&mut *tx, scope, "name_concerned", "resolution", resolution.0, Some(committee), &detail)?;
        tx.commit().await?;
        Ok::<_, StoreError>(())
    })
}
