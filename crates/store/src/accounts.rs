//! Account management by admins, inside their subtree (issue 4): create one or many accounts,
//! grant and remove roles, set clearance, unlock, reset passwords; and the audit log.
//!
//! The rules: an admin manages an account only when every role it holds lies inside the admin's
//! subtree (and its person too); nobody grants a role or a clearance above their own; nobody
//! changes their own roles or clearance here.

use chrono::{DateTime, Utc};
use domain::auth::{Clearance, Role};
use domain::ids::{AccountId, OrgId, PersonId};

use crate::auth::{self, hash_password};
use crate::db::Db;
use crate::error::{Result, StoreError};
use crate::scope::Scope;
use crate::{db_run, now};

/// An account as admins list it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AccountSummary {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub person_id: Option<i64>,
    /// none, confidential, secret, top_secret
    pub clearance: String,
    pub totp_enabled: bool,
    pub locked_until: Option<DateTime<Utc>>,
    pub must_change_password: bool,
}

impl AccountSummary {
    pub fn clearance_label(&self) -> &'static str {
        Clearance::parse(&self.clearance)
            .map(Clearance::label)
            .unwrap_or("")
    }
    pub fn is_locked(&self) -> bool {
        self.locked_until.is_some_and(|u| u > Utc::now())
    }
}

/// A role of an account.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct GrantRow {
    pub org_id: i64,
    pub org_name: String,
    /// admin, organizer, secretary, presenter, member
    pub role: String,
}

impl GrantRow {
    pub fn role_label(&self) -> &'static str {
        Role::parse(&self.role).map(Role::label).unwrap_or("")
    }
}

/// An account with its roles.
#[derive(Debug, Clone)]
pub struct AccountDetail {
    pub account: AccountSummary,
    pub grants: Vec<GrantRow>,
}

/// A new account, as an admin enters it.
#[derive(Debug, Clone)]
pub struct NewAccount {
    pub username: String,
    pub display_name: String,
    pub person_id: Option<PersonId>,
    pub org_id: OrgId,
    pub role: Role,
    pub clearance: Clearance,
    pub password: String,
}

const SUMMARY: &str = "a.id, a.username, a.display_name, a.person_id, a.clearance, a.totp_enabled, a.locked_until, a.must_change_password";

/// SQL true when the account `a` is managed by the admin bound to `$1`: it holds at least one
/// role or a person inside the admin's subtree, and nothing outside it.
fn managed_sql() -> String {
    let inside_grant = Scope::subtree_sql("g.org_id", 1, Role::Admin);
    let inside_person = Scope::subtree_sql("p.org_id", 1, Role::Admin);
    format!(
        "(EXISTS (SELECT 1 FROM role_grants g WHERE g.account_id = a.id AND {inside_grant}) \
           OR EXISTS (SELECT 1 FROM people p WHERE p.id = a.person_id AND {inside_person})) \
         AND NOT EXISTS (SELECT 1 FROM role_grants g WHERE g.account_id = a.id AND NOT ({inside_grant})) \
         AND (a.person_id IS NULL OR EXISTS (SELECT 1 FROM people p WHERE p.id = a.person_id AND {inside_person}))"
    )
}

fn require_admin(scope: &Scope) -> Result<()> {
    if scope.has_role(Role::Admin) {
        Ok(())
    } else {
        Err(StoreError::Forbidden)
    }
}

/// Accounts the caller manages, by username.
pub async fn list(db: &Db, scope: &Scope) -> Result<Vec<AccountSummary>> {
    require_admin(scope)?;
    let sql = format!(
        "SELECT {SUMMARY} FROM accounts a WHERE {} ORDER BY a.username LIMIT 2000",
        managed_sql()
    );
    Ok(
        db_run!(db, p => sqlx::query_as::<_, AccountSummary>(&sql).bind(scope.account_id.0).fetch_all(p).await)?,
    )
}

/// One account the caller manages (or their own), with its roles.
pub async fn get(db: &Db, scope: &Scope, id: AccountId) -> Result<AccountDetail> {
    require_admin(scope)?;
    let sql = format!(
        "SELECT {SUMMARY} FROM accounts a WHERE a.id = $2 AND ({} OR a.id = $1)",
        managed_sql()
    );
    let account = db_run!(db, p => sqlx::query_as::<_, AccountSummary>(&sql).bind(scope.account_id.0).bind(id.0).fetch_optional(p).await)?
        .ok_or(StoreError::NotFound)?;
    let grants = db_run!(db, p => sqlx::query_as::<_, GrantRow>(
        "SELECT g.org_id, o.name AS org_name, g.role FROM role_grants g JOIN orgs o ON o.id = g.org_id WHERE g.account_id = $1 ORDER BY o.depth, o.sort_key")
        .bind(id.0).fetch_all(p).await)?;
    Ok(AccountDetail { account, grants })
}

/// A change the caller may make to `id`: managed by them, and not their own account.
async fn require_managed(db: &Db, scope: &Scope, id: AccountId) -> Result<()> {
    if id == scope.account_id {
        return Err(StoreError::rule(
            "own_grants_unchangeable",
            "Không thể tự thay đổi quyền hoặc độ mật của chính mình.".into(),
        ));
    }
    require_admin(scope)?;
    let sql = format!(
        "SELECT COUNT(*) FROM accounts a WHERE a.id = $2 AND {}",
        managed_sql()
    );
    let (n,): (i64,) = db_run!(db, p => sqlx::query_as(&sql).bind(scope.account_id.0).bind(id.0).fetch_one(p).await)?;
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// The role and clearance checks of a grant: admin over the organization, nothing above oneself.
async fn check_grant(db: &Db, scope: &Scope, org: OrgId, role: Role) -> Result<()> {
    scope.require(db, org, Role::Admin).await?;
    let mine = scope.top_role().unwrap_or(Role::Member);
    if role > mine {
        return Err(StoreError::Forbidden);
    }
    Ok(())
}

fn check_clearance(scope: &Scope, clearance: Clearance) -> Result<()> {
    if clearance > scope.clearance {
        return Err(StoreError::Forbidden);
    }
    Ok(())
}

/// Creates an account with one role; the password must be changed at first login.
pub async fn create(db: &Db, scope: &Scope, a: &NewAccount) -> Result<AccountId> {
    require_admin(scope)?;
    check_grant(db, scope, a.org_id, a.role).await?;
    check_clearance(scope, a.clearance)?;
    if let Some(p) = a.person_id {
        crate::org::get_person(db, scope, p).await?;
        scope
            .require(db, person_org(db, p).await?, Role::Admin)
            .await?;
        // One account per person (issue 10.11; a unique index backs it up).
        let (n,): (i64,) = db_run!(db, c => sqlx::query_as("SELECT COUNT(*) FROM accounts WHERE person_id = $1")
            .bind(p.0).fetch_one(c).await)?;
        if n > 0 {
            return Err(StoreError::rule("person_has_account", 
                "Người này đã có tài khoản; mỗi người chỉ có một tài khoản. Hãy cấp thêm quyền cho tài khoản đó.".into(),
            ));
        }
    }
    domain::auth::validate_password(&a.password, &a.username, &a.display_name)?;
    let hash = hash_password(&a.password).await?;
    let detail = format!(
        "{} {} on org {} clearance {}",
        a.username,
        a.role.code(),
        a.org_id,
        a.clearance.code()
    );
    // The account, its role and its audit entry commit together (issue 13.7).
    let id = db_run!(db, p => {
        let mut tx = p.begin().await?;
        let (id,): (i64,) = sqlx::query_as(auth::INSERT_ACCOUNT)
            .bind(a.username.trim()).bind(&hash).bind(&a.display_name).bind(a.person_id.map(|p| p.0)).bind(a.clearance.code()).bind(now())
            .fetch_one(&mut *tx).await.map_err(StoreError::unique("username"))?;
        sqlx::query(auth::INSERT_GRANT).bind(id).bind(a.org_id.0).bind(a.role.code()).execute(&mut *tx).await?;
        sqlx::query("UPDATE accounts SET must_change_password = TRUE WHERE id = $1").bind(id).execute(&mut *tx).await?;
        crate::audit_in!(&mut *tx, scope, "create", "account", id, Some(a.org_id), &detail)?;
        tx.commit().await?;
        Ok::<_, StoreError>(id)
    })?;
    crate::auth::forget_sessions();
    Ok(AccountId(id))
}

async fn person_org(db: &Db, person: PersonId) -> Result<OrgId> {
    let row: Option<(i64,)> = db_run!(db, p => sqlx::query_as("SELECT org_id FROM people WHERE id = $1").bind(person.0).fetch_optional(p).await)?;
    row.map(|(o,)| OrgId(o)).ok_or(StoreError::NotFound)
}

/// Grants a role on an organization.
pub async fn add_grant(
    db: &Db,
    scope: &Scope,
    id: AccountId,
    org: OrgId,
    role: Role,
) -> Result<()> {
    require_managed(db, scope, id).await?;
    check_grant(db, scope, org, role).await?;
    db_run!(db, p => {
        let mut tx = p.begin().await?;
        sqlx::query(auth::INSERT_GRANT).bind(id.0).bind(org.0).bind(role.code()).execute(&mut *tx).await?;
        crate::audit_in!(&mut *tx, scope, "grant", "account", id.0, Some(org), role.code())?;
        tx.commit().await
    })?;
    crate::auth::forget_sessions();
    Ok(())
}

/// Removes a role.
pub async fn remove_grant(
    db: &Db,
    scope: &Scope,
    id: AccountId,
    org: OrgId,
    role: Role,
) -> Result<()> {
    require_managed(db, scope, id).await?;
    scope.require(db, org, Role::Admin).await?;
    db_run!(db, p => {
        let mut tx = p.begin().await?;
        let n = sqlx::query("DELETE FROM role_grants WHERE account_id = $1 AND org_id = $2 AND role = $3")
            .bind(id.0).bind(org.0).bind(role.code()).execute(&mut *tx).await?.rows_affected();
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        crate::audit_in!(&mut *tx, scope, "revoke", "account", id.0, Some(org), role.code())?;
        tx.commit().await
    })?;
    crate::auth::forget_sessions();
    Ok(())
}

/// Sets the clearance (never above the caller's own).
pub async fn set_clearance(
    db: &Db,
    scope: &Scope,
    id: AccountId,
    clearance: Clearance,
) -> Result<()> {
    require_managed(db, scope, id).await?;
    check_clearance(scope, clearance)?;
    let (before,): (String,) = db_run!(db, p => sqlx::query_as("SELECT clearance FROM accounts WHERE id = $1").bind(id.0).fetch_one(p).await)?;
    let detail = format!("{before} -> {}", clearance.code());
    db_run!(db, p => {
        let mut tx = p.begin().await?;
        sqlx::query("UPDATE accounts SET clearance = $2 WHERE id = $1").bind(id.0).bind(clearance.code()).execute(&mut *tx).await?;
        crate::audit_in!(&mut *tx, scope, "set_clearance", "account", id.0, None, &detail)?;
        tx.commit().await
    })?;
    crate::auth::forget_sessions();
    Ok(())
}

/// Lifts a lockout.
pub async fn unlock(db: &Db, scope: &Scope, id: AccountId) -> Result<()> {
    require_managed(db, scope, id).await?;
    db_run!(db, p => {
        let mut tx = p.begin().await?;
        sqlx::query("UPDATE accounts SET failed_logins = 0, locked_until = NULL WHERE id = $1").bind(id.0).execute(&mut *tx).await?;
        crate::audit_in!(&mut *tx, scope, "unlock", "account", id.0, None, "")?;
        tx.commit().await
    })?;
    crate::auth::forget_sessions();
    Ok(())
}

/// Sets a temporary password (to be changed at next login) and ends the account's sessions.
pub async fn reset_password(db: &Db, scope: &Scope, id: AccountId, password: &str) -> Result<()> {
    require_managed(db, scope, id).await?;
    let (username, name): (String, String) = db_run!(db, p => sqlx::query_as("SELECT username, display_name FROM accounts WHERE id = $1").bind(id.0).fetch_one(p).await)?;
    domain::auth::validate_password(password, &username, &name)?;
    let hash = hash_password(password).await?;
    db_run!(db, p => {
        let mut tx = p.begin().await?;
        sqlx::query("UPDATE accounts SET password_hash = $2, must_change_password = TRUE, failed_logins = 0, locked_until = NULL WHERE id = $1")
            .bind(id.0).bind(&hash).execute(&mut *tx).await?;
        sqlx::query(auth::DELETE_SESSIONS).bind(id.0).execute(&mut *tx).await?;
        crate::audit_in!(&mut *tx, scope, "reset_password", "account", id.0, None, "")?;
        tx.commit().await
    })?;
    crate::auth::forget_sessions();
    Ok(())
}

/// An account made by [`bulk_create`], with its one-time password.
#[derive(Debug, Clone)]
pub struct CreatedAccount {
    pub username: String,
    pub display_name: String,
    /// Shown once; to be changed at first login.
    pub password: String,
}

/// At most this many accounts per bulk call (each password hash costs ~22 ms).
pub const BULK_LIMIT: usize = 1000;

/// Accounts of a bulk creation committed together (with their audit entry).
const BULK_GROUP: usize = 50;

/// A readable random password: 12 letters and digits without look-alikes.
fn temporary_password() -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
    let mut rng = rand::rngs::OsRng;
    (0..12)
        .map(|_| char::from(ALPHABET[rng.gen_range(0..ALPHABET.len())]))
        .collect()
}

/// Creates accounts with `role` for every member of `org`'s subtree who has none, each on their
/// own organization; usernames are card numbers (or `dv<id>` without one).
pub async fn bulk_create(
    db: &Db,
    scope: &Scope,
    org: OrgId,
    role: Role,
) -> Result<Vec<CreatedAccount>> {
    require_admin(scope)?;
    check_grant(db, scope, org, role).await?;
    let people: Vec<(i64, i64, String, Option<String>)> = db_run!(db, p => sqlx::query_as(
        "SELECT p.id, p.org_id, p.full_name, p.party_card_number FROM people p \
         WHERE p.org_id IN (SELECT descendant_id FROM org_closure WHERE ancestor_id = $1) \
         AND NOT EXISTS (SELECT 1 FROM accounts a WHERE a.person_id = p.id) ORDER BY p.sort_key LIMIT $2")
        .bind(org.0).bind(i64::try_from(BULK_LIMIT).unwrap_or(1000)).fetch_all(p).await)?;
    // In groups of BULK_GROUP: each group's passwords are hashed first (~22 ms each, outside the
    // transaction), then its accounts, roles and audit entry commit together (issue 13.7). A
    // request cut by its time limit keeps the groups already committed, so asking again goes on
    // where it stopped instead of hashing the whole list again.
    let mut created = Vec::with_capacity(people.len());
    for group in people.chunks(BULK_GROUP) {
        let mut made = Vec::with_capacity(group.len());
        for (pid, porg, name, card) in group {
            let username = card.clone().unwrap_or_else(|| format!("dv{pid}"));
            let password = temporary_password();
            let hash = hash_password(&password).await?;
            made.push((
                *pid,
                *porg,
                hash,
                CreatedAccount {
                    username,
                    display_name: name.clone(),
                    password,
                },
            ));
        }
        let done = db_run!(db, p => {
            let mut tx = p.begin().await?;
            let mut done = Vec::with_capacity(made.len());
            for (pid, porg, hash, account) in made {
                let id: Option<(i64,)> = sqlx::query_as(
                    "INSERT INTO accounts (username, password_hash, display_name, person_id, clearance, created_at, must_change_password) \
                     VALUES ($1, $2, $3, $4, 'none', $5, TRUE) ON CONFLICT (username) DO NOTHING RETURNING id")
                    .bind(&account.username).bind(&hash).bind(&account.display_name).bind(pid).bind(now()).fetch_optional(&mut *tx).await?;
                if let Some((id,)) = id {
                    sqlx::query(auth::INSERT_GRANT).bind(id).bind(porg).bind(role.code()).execute(&mut *tx).await?;
                    done.push(account);
                }
            }
            let detail = format!("{} accounts, role {}", done.len(), role.code());
            crate::audit_in!(&mut *tx, scope, "bulk_create", "account", org.0, Some(org), &detail)?;
            tx.commit().await?;
            Ok::<_, StoreError>(done)
        })?;
        created.extend(done);
    }
    crate::auth::forget_sessions();
    Ok(created)
}

/// One entry of the audit log.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AuditEntry {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub account_id: Option<i64>,
    pub username: Option<String>,
    pub ip: String,
    pub org_id: Option<i64>,
    pub action: String,
    pub entity: String,
    pub entity_id: Option<i64>,
    pub detail: String,
}

/// Filter of the audit log.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub action: Option<String>,
    pub entity: Option<String>,
    pub username: Option<String>,
}

/// A page of the audit log, newest first.
#[derive(Debug, Clone)]
pub struct AuditList {
    pub items: Vec<AuditEntry>,
    /// How many entries match, counted up to 10,001 (`total_exact` false: "more than 10,000").
    pub total: i64,
    pub total_exact: bool,
    /// Pass as `before` for the next (older) page; absent on the last page.
    pub next_before: Option<i64>,
}

/// Audit entries about organizations in the caller's admin subtree, newest first: at most `limit`
/// entries older than entry `before` (keyset on the id, issue 12.B: the log only grows, so a page
/// never shifts), and how many match, counted up to [`crate::org::COUNT_CAP`] + 1.
pub async fn audit_log(
    db: &Db,
    scope: &Scope,
    f: &AuditFilter,
    before: Option<i64>,
    limit: i64,
) -> Result<AuditList> {
    require_admin(scope)?;
    let limit = limit.clamp(1, 100_000);
    // One statement per shape of filter (no catch-all `$2 = '' OR …`).
    let mut wh = format!(
        "({} OR (l.org_id IS NULL AND l.account_id IN (SELECT a.id FROM accounts a WHERE {} OR a.id = $1)) \
           OR (l.org_id IS NULL AND l.account_id IS NULL AND EXISTS (SELECT 1 FROM role_grants rg JOIN orgs ro ON ro.id = rg.org_id \
               WHERE rg.account_id = $1 AND rg.role = 'admin' AND ro.parent_id IS NULL)))",
        Scope::subtree_sql("l.org_id", 1, Role::Admin),
        managed_sql()
    );
    let mut binds: Vec<String> = Vec::new();
    for (column, value) in [
        ("l.action", &f.action),
        ("l.entity", &f.entity),
        ("u.username", &f.username),
    ] {
        if let Some(v) = value.as_deref().filter(|v| !v.is_empty()) {
            binds.push(v.to_owned());
            wh.push_str(&format!(" AND {column} = ${}", binds.len() + 1));
        }
    }
    let count_sql = format!(
        "SELECT COUNT(*) FROM (SELECT 1 FROM audit_log l LEFT JOIN accounts u ON u.id = l.account_id WHERE {wh} LIMIT {}) x",
        crate::org::COUNT_CAP + 1
    );
    let older = if before.is_some() {
        format!(" AND l.id < ${}", binds.len() + 2)
    } else {
        String::new()
    };
    let list_sql = format!(
        "SELECT l.id, l.at, l.account_id, u.username, l.ip, l.org_id, l.action, l.entity, l.entity_id, l.detail \
         FROM audit_log l LEFT JOIN accounts u ON u.id = l.account_id WHERE {wh}{older} ORDER BY l.id DESC LIMIT {}",
        limit + 1
    );
    let (total, mut items) = db_run!(db, p => {
        let mut c = sqlx::query_scalar::<_, i64>(&count_sql).bind(scope.account_id.0);
        let mut q = sqlx::query_as::<_, AuditEntry>(&list_sql).bind(scope.account_id.0);
        for v in &binds {
            c = c.bind(v);
            q = q.bind(v);
        }
        if let Some(b) = before {
            q = q.bind(b);
        }
        let total = c.fetch_one(p).await?;
        let items = q.fetch_all(p).await?;
        Ok::<_, StoreError>((total, items))
    })?;
    let more = items.len() as i64 > limit;
    items.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    Ok(AuditList {
        next_before: if more {
            items.last().map(|e| e.id)
        } else {
            None
        },
        total_exact: total <= crate::org::COUNT_CAP,
        total: total.min(crate::org::COUNT_CAP),
        items,
    })
}
