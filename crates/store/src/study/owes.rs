//! Who still owes a resolution (R2.3, R2.5, R3.3, R3.5): every active member of an organization
//! subtree without a completion of it, with the reason, in a few set-based queries so that a
//! province of 90,000 members answers in well under a second.

use domain::ids::OrgId;

use crate::db::Db;
use crate::db_run;
use crate::error::{Result, StoreError};
use crate::resolutions::Resolution;
use crate::scope::{Scope, READ};

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
#[derive(Debug, Clone, sqlx::FromRow)]
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
#[derive(Debug, Clone, sqlx::FromRow)]
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
#[derive(Debug, Clone)]
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

/// The CTEs every query here starts with: `rc` the classes of campaigns containing the
/// resolution, `listed` the people on their lists, `marked` those with an attendance mark or a
/// check-in there, `rt` those owing a retake of one of them.
/// `$1` account id, `$2` resolution id, `$3` the organization whose subtree is asked.
///
/// Check-ins are found through the class's sessions: their index leads with the session, and a
/// conference day holds millions of them, so a probe by participant alone would scan them all.
const BASE_CTE: &str = "WITH rc AS (SELECT k.id FROM classes k JOIN campaign_resolutions cr ON cr.campaign_id = k.campaign_id WHERE cr.resolution_id = $2), \
     listed AS (SELECT DISTINCT pt.person_id FROM participants pt JOIN rc ON rc.id = pt.class_id WHERE pt.removed_at IS NULL), \
     marked AS (SELECT DISTINCT pt.person_id FROM participants pt JOIN rc ON rc.id = pt.class_id WHERE pt.removed_at IS NULL \
        AND (EXISTS (SELECT 1 FROM attendance a WHERE a.participant_id = pt.id) \
          OR EXISTS (SELECT 1 FROM study_sessions s JOIN checkins ci ON ci.session_id = s.id AND ci.participant_id = pt.id WHERE s.class_id = pt.class_id))), \
     rt AS (SELECT DISTINCT r.person_id FROM retakes r JOIN rc ON rc.id = r.class_id)";

/// The reason of a member `p` without a completion, from the joins `rt`, `m` (marked), `l` (listed).
const REASON_SQL: &str =
    "CASE WHEN rt.person_id IS NOT NULL THEN 'retake' WHEN m.person_id IS NOT NULL THEN 'absent' \
     WHEN l.person_id IS NOT NULL THEN 'not_checked_in' ELSE 'not_assigned' END";

const COMPLETED_SQL: &str =
    "EXISTS (SELECT 1 FROM completions c WHERE c.person_id = p.id AND c.resolution_id = $2)";

/// R3.3: members exempted from party activities owe nothing, unless they chose to be listed in
/// a class of the resolution (then they are tracked like everyone else).
const EXEMPT_SQL: &str =
    "(NOT p.exempt_from_activities OR l.person_id IS NOT NULL OR rt.person_id IS NOT NULL)";

/// Counts per reason and per child organization for `org`'s subtree. The caller must read `org`
/// (`NotFound` otherwise); the resolution comes from [`crate::resolutions::get`], so a classified
/// one the caller is not cleared for never gets here.
///
/// One pass over the subtree's members: each is put in the bucket of the child organization it
/// lies under (or of `org` itself) and counted by state (completed, or the reason it owes).
pub async fn summary(db: &Db, scope: &Scope, org: OrgId, res: &Resolution) -> Result<OwesSummary> {
    scope.require(db, org, READ).await?;
    let tally_sql = format!(
        "{BASE_CTE}, buckets AS (SELECT cl.descendant_id AS org_id, cl.ancestor_id AS bucket FROM orgs ch \
            JOIN org_closure cl ON cl.ancestor_id = ch.id WHERE ch.parent_id = $3 \
            UNION ALL SELECT o.id AS org_id, o.id AS bucket FROM orgs o WHERE o.id = $3) \
         SELECT b.bucket, CASE WHEN {COMPLETED_SQL} THEN 'completed' ELSE {REASON_SQL} END AS state, COUNT(*) \
         FROM buckets b JOIN people p ON p.org_id = b.org_id \
         LEFT JOIN rt ON rt.person_id = p.id LEFT JOIN marked m ON m.person_id = p.id LEFT JOIN listed l ON l.person_id = p.id \
         WHERE p.status = 'active' AND {EXEMPT_SQL} AND {} GROUP BY b.bucket, state",
        Scope::subtree_sql("p.org_id", 1, READ)
    );
    let names_sql = "SELECT o.id, o.name FROM orgs o WHERE o.id = $1 OR o.parent_id = $1 ORDER BY o.depth, o.sort_key";
    let (account, res_id) = (scope.account_id.0, res.id);
    let (rows, names) = db_run!(db, p => {
        let rows: Vec<(i64, String, i64)> = sqlx::query_as(&tally_sql)
            .bind(account).bind(res_id).bind(org.0).fetch_all(p).await?;
        let names: Vec<(i64, String)> = sqlx::query_as(names_sql).bind(org.0).fetch_all(p).await?;
        Ok::<_, StoreError>((rows, names))
    })?;
    let tally = |bucket: Option<i64>| {
        let mine = rows
            .iter()
            .filter(|(b, _, _)| bucket.is_none_or(|x| *b == x));
        let (mut members, mut completed) = (0, 0);
        for (_, state, n) in mine {
            members += n;
            if state == "completed" {
                completed += n;
            }
        }
        (members, completed)
    };
    let mut direct = None;
    let mut children = Vec::new();
    let mut org_name = String::new();
    for (id, name) in names {
        let (members, completed) = tally(Some(id));
        let t = OrgTally {
            org_id: id,
            org_name: name.clone(),
            members,
            completed,
        };
        if id == org.0 {
            org_name = name;
            direct = (members > 0).then_some(t);
        } else {
            children.push(t);
        }
    }
    let by_reason: Vec<(OwingReason, i64)> = OwingReason::ALL
        .iter()
        .map(|r| {
            let n = rows
                .iter()
                .filter(|(_, state, _)| state == r.code())
                .map(|(_, _, n)| n)
                .sum();
            (*r, n)
        })
        .collect();
    let total_owing = by_reason.iter().map(|(_, n)| n).sum();
    let (members, completed) = tally(None);
    Ok(OwesSummary {
        by_reason,
        total_owing,
        total: OrgTally {
            org_id: org.0,
            org_name,
            members,
            completed,
        },
        direct,
        children,
    })
}

/// The owing members in Vietnamese name order after person `after`, at most `limit`, optionally
/// of one reason (the count of the selection is in [`summary`]).
pub async fn list(
    db: &Db,
    scope: &Scope,
    org: OrgId,
    res: &Resolution,
    reason: Option<OwingReason>,
    after: Option<i64>,
    limit: i64,
) -> Result<Vec<OwingPerson>> {
    scope.require(db, org, READ).await?;
    // Two shapes, chosen by what is cheaper on SQLite (PostgreSQL plans either well):
    // - a large subtree (a province) listing everyone or the never-placed: walk the people in
    //   name order (index `people_sort`) and stop after a page: most of them owe;
    // - a small subtree, or a reason that only concerns the few on a class list: start from the
    //   subtree's organizations (or from the listed people) and sort what is found. `|| ''` keeps
    //   SQLite from walking the name index through the whole province instead.
    let (orgs_below,): (i64,) = db_run!(db, p => sqlx::query_as("SELECT COUNT(*) FROM org_closure WHERE ancestor_id = $1")
        .bind(org.0).fetch_one(p).await)?;
    let everyone = matches!(reason, None | Some(OwingReason::NotAssigned));
    let order = if everyone && orgs_below > 100 {
        "o.sort_key"
    } else {
        "o.sort_key || ''"
    };
    let candidates = if everyone {
        ""
    } else {
        "JOIN (SELECT person_id FROM listed UNION SELECT person_id FROM rt) cand ON cand.person_id = p.id"
    };
    // Fixed shapes: the reason and the keyset position are in the statement only when asked
    // (no catch-all `$4 = '' OR …`); the page starts after the anchor's (name key, id), read
    // from its kept row (issue 12.B: keyset, never `OFFSET`).
    let limit = limit.clamp(1, 1_000_000);
    let of_reason = if reason.is_some() {
        "AND o.reason = $4"
    } else {
        ""
    };
    let after_key = match (after, reason) {
        (None, _) => String::new(),
        (Some(_), r) => {
            let n = if r.is_some() { 5 } else { 4 };
            format!("AND (o.sort_key, o.id) > ((SELECT k.sort_key FROM people k WHERE k.id = ${n}), ${n})")
        }
    };
    // The page is cut from narrow rows (id, org, sort key, reason); names and organizations are
    // joined for its 200 rows only.
    let list_sql = format!(
        "{BASE_CTE}, owing AS (SELECT p.id, p.org_id, p.sort_key, {REASON_SQL} AS reason \
            FROM people p {candidates} JOIN org_closure sc ON sc.descendant_id = p.org_id AND sc.ancestor_id = $3 \
            LEFT JOIN rt ON rt.person_id = p.id LEFT JOIN marked m ON m.person_id = p.id LEFT JOIN listed l ON l.person_id = p.id \
            WHERE p.status = 'active' AND {EXEMPT_SQL} AND {} AND NOT {COMPLETED_SQL}), \
         page AS (SELECT o.id, o.org_id, o.sort_key, o.reason FROM owing o WHERE TRUE {of_reason} {after_key} \
            ORDER BY {order}, o.id LIMIT {limit}) \
         SELECT x.id AS person_id, p.full_name, p.party_card_number, x.org_id, g.name AS org_name, x.reason \
         FROM page x JOIN people p ON p.id = x.id JOIN orgs g ON g.id = x.org_id ORDER BY x.sort_key, x.id",
        Scope::subtree_sql("p.org_id", 1, READ)
    );
    let (account, res_id) = (scope.account_id.0, res.id);
    Ok(db_run!(db, p => {
        let mut q = sqlx::query_as::<_, OwingPerson>(&list_sql).bind(account).bind(res_id).bind(org.0);
        if let Some(r) = reason {
            q = q.bind(r.code());
        }
        if let Some(a) = after {
            q = q.bind(a);
        }
        q.fetch_all(p).await
    })?)
}
