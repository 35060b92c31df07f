//! Who still owes a resolution (R2.3, R2.5, R3.3, R3.5): every active member of an organization
//! subtree without a completion of it, with the reason, in a few set-based queries so that a
//! province of 90,000 members answers in well under a second.

use domain::ids::OrgId;
use serde::Serialize;

use crate::db::Db;
use crate::error::{Result, StoreError};
use crate::resolutions::Resolution;
use crate::scope::{Scope, READ};
use crate::{db_run, Paging};

domain::choice!(
    /// Why a member has not completed a resolution yet, most telling first.
    OwingReason {
        /// R3.5: absent for more than the threshold of a class that covered it.
        Retake = "retake" / "Phải học lại",
        /// Listed, marked in some session (absent, excused…), but no completion.
        Absent = "absent" / "Vắng / chưa hoàn thành",
        /// Listed in a class, but not a single attendance mark or check-in yet.
        NotCheckedIn = "not_checked_in" / "Chưa điểm danh buổi nào",
        /// R2.3: not on the list of any class of a campaign containing the resolution.
        NotAssigned = "not_assigned" / "Chưa được xếp lớp",
    }
);

/// One member who still owes the resolution.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct OwingPerson {
    pub person_id: i64,
    pub full_name: String,
    pub party_card_number: Option<String>,
    pub org_id: i64,
    pub org_name: String,
    /// retake, absent, not_checked_in, not_assigned
    pub reason: String,
}

impl OwingPerson {
    pub fn reason_label(&self) -> &'static str {
        OwingReason::parse(&self.reason)
            .map(OwingReason::label)
            .unwrap_or("")
    }
}

/// Members, completions and what is owed in one organization's subtree.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct OrgTally {
    pub org_id: i64,
    pub org_name: String,
    pub members: i64,
    pub completed: i64,
}

impl OrgTally {
    pub fn owing(&self) -> i64 {
        self.members - self.completed
    }
}

/// The summary above the list: counts per reason and totals per child organization.
#[derive(Debug, Clone, Serialize)]
pub struct OwesSummary {
    /// (reason, count) for every reason, in [`OwingReason::ALL`] order.
    pub by_reason: Vec<(OwingReason, i64)>,
    pub total_owing: i64,
    /// The whole subtree.
    pub total: OrgTally,
    /// Members placed directly in the chosen organization (not in a child), when there are any.
    pub direct: Option<OrgTally>,
    /// One row per child organization, in Vietnamese order.
    pub children: Vec<OrgTally>,
}

/// The set of owing members with their reason, as a CTE named `owing`.
/// `$1` account id, `$2` resolution id, `$3` the organization whose subtree is asked.
fn owing_cte() -> String {
    format!(
        "WITH rc AS (SELECT k.id FROM classes k JOIN campaign_resolutions cr ON cr.campaign_id = k.campaign_id WHERE cr.resolution_id = $2), \
         listed AS (SELECT DISTINCT pt.person_id FROM participants pt JOIN rc ON rc.id = pt.class_id WHERE pt.removed_at IS NULL), \
         marked AS (SELECT DISTINCT pt.person_id FROM participants pt JOIN rc ON rc.id = pt.class_id WHERE pt.removed_at IS NULL \
            AND (EXISTS (SELECT 1 FROM attendance a WHERE a.participant_id = pt.id) OR EXISTS (SELECT 1 FROM checkins ci WHERE ci.participant_id = pt.id))), \
         rt AS (SELECT DISTINCT r.person_id FROM retakes r JOIN rc ON rc.id = r.class_id), \
         owing AS (SELECT p.id, p.org_id, p.full_name, p.party_card_number, p.sort_key, \
            CASE WHEN rt.person_id IS NOT NULL THEN 'retake' WHEN m.person_id IS NOT NULL THEN 'absent' \
                 WHEN l.person_id IS NOT NULL THEN 'not_checked_in' ELSE 'not_assigned' END AS reason \
            FROM org_closure sc JOIN people p ON p.org_id = sc.descendant_id \
            LEFT JOIN rt ON rt.person_id = p.id LEFT JOIN marked m ON m.person_id = p.id LEFT JOIN listed l ON l.person_id = p.id \
            WHERE sc.ancestor_id = $3 AND p.status = 'active' AND {} \
              AND NOT EXISTS (SELECT 1 FROM completions c WHERE c.person_id = p.id AND c.resolution_id = $2)) ",
        Scope::subtree_sql("p.org_id", 1, READ)
    )
}

/// Counts per reason and per child organization for `org`'s subtree. The caller must read `org`
/// (`NotFound` otherwise); the resolution comes from [`crate::resolutions::get`], so a classified
/// one the caller is not cleared for never gets here.
pub async fn summary(db: &Db, scope: &Scope, org: OrgId, res: &Resolution) -> Result<OwesSummary> {
    scope.require(db, org, READ).await?;
    let reasons_sql = format!(
        "{} SELECT reason, COUNT(*) FROM owing GROUP BY reason",
        owing_cte()
    );
    let children_sql = "SELECT ch.id AS org_id, ch.name AS org_name, COUNT(p.id) AS members, COUNT(c.person_id) AS completed \
         FROM orgs ch LEFT JOIN org_closure cl ON cl.ancestor_id = ch.id \
         LEFT JOIN people p ON p.org_id = cl.descendant_id AND p.status = 'active' \
         LEFT JOIN completions c ON c.person_id = p.id AND c.resolution_id = $1 \
         WHERE ch.parent_id = $2 GROUP BY ch.id, ch.name, ch.sort_key ORDER BY ch.sort_key";
    let direct_sql = "SELECT o.id AS org_id, o.name AS org_name, COUNT(p.id) AS members, COUNT(c.person_id) AS completed \
         FROM orgs o LEFT JOIN people p ON p.org_id = o.id AND p.status = 'active' \
         LEFT JOIN completions c ON c.person_id = p.id AND c.resolution_id = $1 \
         WHERE o.id = $2 GROUP BY o.id, o.name";
    let (account, res_id) = (scope.account_id.0, res.id);
    let (reasons, children, direct) = db_run!(db, p => {
        let reasons: Vec<(String, i64)> = sqlx::query_as(&reasons_sql)
            .bind(account).bind(res_id).bind(org.0).fetch_all(p).await?;
        let children = sqlx::query_as::<_, OrgTally>(children_sql).bind(res_id).bind(org.0).fetch_all(p).await?;
        let direct = sqlx::query_as::<_, OrgTally>(direct_sql).bind(res_id).bind(org.0).fetch_one(p).await?;
        Ok::<_, StoreError>((reasons, children, direct))
    })?;
    let by_reason: Vec<(OwingReason, i64)> = OwingReason::ALL
        .iter()
        .map(|r| {
            let n = reasons
                .iter()
                .filter(|(code, _)| code == r.code())
                .map(|(_, n)| n)
                .sum();
            (*r, n)
        })
        .collect();
    let total_owing = by_reason.iter().map(|(_, n)| n).sum();
    let total = OrgTally {
        org_id: direct.org_id,
        org_name: direct.org_name.clone(),
        members: direct.members + children.iter().map(|c| c.members).sum::<i64>(),
        completed: direct.completed + children.iter().map(|c| c.completed).sum::<i64>(),
    };
    Ok(OwesSummary {
        by_reason,
        total_owing,
        total,
        direct: (direct.members > 0).then_some(direct),
        children,
    })
}

/// One page of the owing members in Vietnamese name order, optionally of one reason (the count
/// of the selection is in [`summary`]).
pub async fn list(
    db: &Db,
    scope: &Scope,
    org: OrgId,
    res: &Resolution,
    reason: Option<OwingReason>,
    paging: Paging,
) -> Result<Vec<OwingPerson>> {
    scope.require(db, org, READ).await?;
    let list_sql = format!(
        "{} SELECT o.id AS person_id, o.full_name, o.party_card_number, o.org_id, g.name AS org_name, o.reason \
         FROM owing o JOIN orgs g ON g.id = o.org_id WHERE ($4 = '' OR o.reason = $4) ORDER BY o.sort_key, o.id LIMIT $5 OFFSET $6",
        owing_cte()
    );
    let reason = reason.map(OwingReason::code).unwrap_or("");
    let (account, res_id) = (scope.account_id.0, res.id);
    Ok(db_run!(db, p => sqlx::query_as::<_, OwingPerson>(&list_sql)
        .bind(account).bind(res_id).bind(org.0).bind(reason).bind(paging.per_page).bind(paging.offset())
        .fetch_all(p).await)?)
}
