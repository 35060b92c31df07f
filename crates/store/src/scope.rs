//! The caller's visible subtree, carried as a value into every store call.

use domain::auth::{Clearance, Role};
use domain::ids::{AccountId, OrgId, PersonId};
use domain::resolutions::Classification;

use crate::db::Db;
use crate::db_run;
use crate::error::Result;

/// A role granted on an organization; it applies to the organization's whole subtree.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Grant {
    pub org_id: OrgId,
    pub role: Role,
}

/// Who is asking, what they may see, and how far they are cleared.
#[derive(Debug, Clone)]
pub struct Scope {
    pub account_id: AccountId,
    pub person_id: Option<PersonId>,
    pub clearance: Clearance,
    pub grants: Vec<Grant>,
    /// The caller's network address, for the audit log ("" when not known).
    pub ip: String,
}

impl Scope {
    /// The highest role this account holds anywhere.
    pub fn top_role(&self) -> Option<Role> {
        self.grants.iter().map(|g| g.role).max()
    }

    /// Whether the account holds at least `min` somewhere (decides which menus show).
    pub fn has_role(&self, min: Role) -> bool {
        self.top_role().is_some_and(|r| r >= min)
    }

    /// SQL that is true when `column` (an org id) lies in a subtree where this account holds a
    /// role of at least `min`. `$param` must be bound to the account id.
    /// This is the one place where subtree scoping is written.
    pub fn subtree_sql(column: &str, param: usize, min: Role) -> String {
        let roles = roles_sql(min);
        format!(
            "{column} IN (SELECT c.descendant_id FROM org_closure c JOIN role_grants g ON g.org_id = c.ancestor_id \
             WHERE g.account_id = ${param} AND g.role IN ({roles}))"
        )
    }

    /// [`Self::subtree_sql`] for PostgreSQL lists ordered by another index: the visible
    /// organizations as an array computed once (an InitPlan), so the planner walks the list's
    /// own index and checks each row, instead of joining every person of a subtree it estimates
    /// at three organizations (issue 12, measured: 99 ms → 1.4 ms for a province's first page).
    pub fn subtree_array_sql(column: &str, param: usize, min: Role) -> String {
        let roles = roles_sql(min);
        format!(
            "{column} = ANY(ARRAY(SELECT c.descendant_id FROM org_closure c JOIN role_grants g ON g.org_id = c.ancestor_id \
             WHERE g.account_id = ${param} AND g.role IN ({roles})))"
        )
    }

    /// SQL that is true when the organization `column` of one row lies under a grant of at least
    /// `min` of the account bound as `$param`: an `EXISTS` that walks from the row's organization
    /// up its ancestors (four levels at most) to the grants — the point check (issue 12.B). For
    /// lists filtered by the subtree, [`Self::subtree_sql`] (or its array form on PostgreSQL).
    ///
    /// `LIMIT 1 OFFSET 0` keeps it a point check on PostgreSQL: without it the planner may turn
    /// the `EXISTS` into a hashed subplan over every descendant of the grant (measured at country
    /// size, issue 14: the centre's roll-up of 34 rows took 85 ms hashing 69,776 organizations
    /// per column; 0.4 ms probed row by row).
    pub fn probe_sql(column: &str, param: usize, min: Role) -> String {
        let roles = roles_sql(min);
        format!(
            "EXISTS (SELECT 1 FROM org_closure c JOIN role_grants g ON g.org_id = c.ancestor_id \
             WHERE c.descendant_id = {column} AND g.account_id = ${param} AND g.role IN ({roles}) LIMIT 1 OFFSET 0)"
        )
    }

    /// SQL `IN` list of the classifications this caller may see (R2.8).
    pub fn classification_sql(&self, column: &str) -> String {
        let list = Classification::visible_set(self.clearance)
            .map(|c| format!("'{}'", c.code()))
            .collect::<Vec<_>>()
            .join(", ");
        format!("{column} IN ({list})")
    }

    /// Does this caller hold at least `min` on a subtree containing `org`?
    pub async fn covers(&self, db: &Db, org: OrgId, min: Role) -> Result<bool> {
        if !self.has_role(min) {
            return Ok(false);
        }
        let sql = format!("SELECT {}", Self::probe_sql("$2", 1, min));
        let found: bool = db_run!(db, p => sqlx::query_scalar(&sql).bind(self.account_id.0).bind(org.0).fetch_one(p).await)?;
        Ok(found)
    }

    /// `Ok(())` when the caller may act with `min` on `org`; otherwise `NotFound` when the org is
    /// outside what the caller can see at all, `Forbidden` when it is visible but read-only.
    pub async fn require(&self, db: &Db, org: OrgId, min: Role) -> Result<()> {
        if self.covers(db, org, min).await? {
            return Ok(());
        }
        if self.covers(db, org, Role::Presenter).await? {
            Err(crate::StoreError::Forbidden)
        } else {
            Err(crate::StoreError::NotFound)
        }
    }
}

/// The SQL list of the roles at or above `min` (`'secretary', 'organizer', 'admin'`).
pub(crate) fn roles_sql(min: Role) -> String {
    min.and_above()
        .map(|r| format!("'{}'", r.code()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The lowest role that can read organization data (members only see their own records).
pub const READ: Role = Role::Presenter;
/// The lowest role that can plan classes and keep the catalog.
pub const WRITE: Role = Role::Organizer;
/// The lowest role that can record attendance (cell secretaries and bridge-point operators).
pub const ATTEND: Role = Role::Secretary;
