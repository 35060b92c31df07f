//! Accounts, login sessions and the audit log (R2.8, issue 4 groundwork).

use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::Argon2;
use chrono::{DateTime, Duration, Utc};
use domain::auth::{Clearance, Role};
use domain::ids::{AccountId, OrgId, PersonId};
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::db::Db;
use crate::error::{Result, StoreError};
use crate::scope::{Grant, Scope};
use crate::{db_exec, db_run, now};

/// How long a login lasts without being renewed.
pub const SESSION_DAYS: i64 = 7;

/// An account as the session knows it.
#[derive(Debug, Clone)]
pub struct Account {
    pub id: AccountId,
    /// Set by an admin's temporary password: the user must choose their own first.
    pub must_change_password: bool,
    pub username: String,
    pub display_name: String,
    pub scope: Scope,
}

/// A logged-in session: the account and the session's CSRF token.
#[derive(Debug, Clone)]
pub struct LoginSession {
    pub account: Account,
    /// How far the login got: only `Full` sessions reach the application.
    pub stage: Stage,
    pub csrf_token: String,
    pub expires_at: DateTime<Utc>,
}

/// Hashes a password with argon2id (default parameters, ~22 ms here), off the async threads.
pub async fn hash_password(password: &str) -> Result<String> {
    let password = password.to_owned();
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| StoreError::Internal(e.to_string()))
    })
    .await
    .map_err(|e| StoreError::Internal(e.to_string()))?
}

async fn verify_password(password: &str, hash: &str) -> bool {
    let password = password.to_owned();
    let hash = hash.to_owned();
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&hash).is_ok_and(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
    })
    .await
    .unwrap_or(false)
}

/// A random token, hex-encoded (256 bits).
pub fn random_token() -> String {
    let mut b = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut b);
    hex(&b)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub(crate) fn token_hash(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

/// Creates an account with an argon2id password hash.
pub async fn create_account(
    db: &Db,
    username: &str,
    password: &str,
    display_name: &str,
    person: Option<PersonId>,
    clearance: Clearance,
) -> Result<AccountId> {
    domain::auth::validate_password(password, username, display_name)?;
    let hash = hash_password(password).await?;
    let (id,): (i64,) = db_run!(db, p => sqlx::query_as(INSERT_ACCOUNT)
        .bind(username.trim()).bind(&hash).bind(display_name).bind(person.map(|p| p.0)).bind(clearance.code()).bind(now())
        .fetch_one(p).await).map_err(StoreError::unique("username"))?;
    Ok(AccountId(id))
}

/// The INSERT of [`create_account`] (username, hash, display name, person, clearance, now),
/// giving the id; for callers that write it in a transaction of their own.
pub(crate) const INSERT_ACCOUNT: &str = "INSERT INTO accounts (username, password_hash, display_name, person_id, clearance, created_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id";

/// The INSERT of [`grant`] (account, org, role code).
pub(crate) const INSERT_GRANT: &str =
    "INSERT INTO role_grants (account_id, org_id, role) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING";

/// Grants `role` on `org` (and so on its subtree).
pub async fn grant(db: &Db, account: AccountId, org: OrgId, role: Role) -> Result<()> {
    db_exec!(db, p => sqlx::query(INSERT_GRANT)
        .bind(account.0).bind(org.0).bind(role.code()).execute(p).await)?;
    crate::auth::forget_sessions();
    Ok(())
}

// A valid argon2id hash of a random string: verifying against it when the user is unknown makes a
// failed login take as long whether or not the account exists.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$S4d1mcTeHEvDLhj0S6cDRkTp8DS2m4JKqKNDBW2M0vo";

/// Checks a username and password; `None` when either is wrong.
pub async fn verify_login(db: &Db, username: &str, password: &str) -> Result<Option<AccountId>> {
    let row: Option<(i64, String)> = db_run!(db, p => sqlx::query_as("SELECT id, password_hash FROM accounts WHERE username = $1")
        .bind(username.trim()).fetch_optional(p).await)?;
    match row {
        Some((id, hash)) if verify_password(password, &hash).await => Ok(Some(AccountId(id))),
        Some(_) => Ok(None),
        None => {
            verify_password(password, DUMMY_HASH).await;
            Ok(None)
        }
    }
}

/// Starts a fully logged-in session; returns the token for the cookie (only its hash is stored).
pub async fn create_session(db: &Db, account: AccountId) -> Result<String> {
    start_session(db, account, Stage::Full, "").await
}

/// Full sessions for many accounts at once, in one transaction (benchmark fixtures); returns
/// the tokens in the order of `accounts`.
pub async fn bulk_sessions(db: &Db, accounts: &[AccountId]) -> Result<Vec<String>> {
    let now = now();
    let expires = now + Duration::days(SESSION_DAYS);
    let tokens: Vec<(String, String)> = accounts
        .iter()
        .map(|_| (random_token(), random_token()))
        .collect();
    let per = db.rows_per_insert(5).min(1000);
    db_run!(db, p => {
        let mut tx = p.begin().await?;
        for (accs, toks) in accounts.chunks(per).zip(tokens.chunks(per)) {
            let sql = format!(
                "INSERT INTO login_sessions (token_hash, account_id, csrf_token, created_at, expires_at) VALUES {}",
                db.values(accs.len(), 5, |ph| format!("({})", ph.join(", ")))
            );
            let mut q = sqlx::query(&sql);
            for (a, (token, csrf)) in accs.iter().zip(toks) {
                q = q.bind(token_hash(token)).bind(a.0).bind(csrf.clone()).bind(now).bind(expires);
            }
            q.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok::<_, StoreError>(())
    })?;
    Ok(tokens.into_iter().map(|(t, _)| t).collect())
}

/// Starts a session at `stage` from address `ip`.
pub async fn start_session(db: &Db, account: AccountId, stage: Stage, ip: &str) -> Result<String> {
    let token = random_token();
    let csrf = random_token();
    let now = now();
    // A session waiting for its second factor lives 10 minutes; a full one 7 days.
    let expires = if stage == Stage::Full {
        now + Duration::days(SESSION_DAYS)
    } else {
        now + Duration::minutes(10)
    };
    db_exec!(db, p => sqlx::query("INSERT INTO login_sessions (token_hash, account_id, csrf_token, created_at, expires_at, stage, ip) VALUES ($1, $2, $3, $4, $5, $6, $7)")
        .bind(token_hash(&token)).bind(account.0).bind(&csrf).bind(now).bind(expires).bind(stage.code()).bind(ip)
        .execute(p).await)?;
    Ok(token)
}

/// Ends a login session.
pub async fn delete_session(db: &Db, token: &str) -> Result<()> {
    db_exec!(db, p => sqlx::query("DELETE FROM login_sessions WHERE token_hash = $1").bind(token_hash(token)).execute(p).await)?;
    crate::auth::forget_sessions();
    Ok(())
}

/// Full sessions recently loaded, by token hash: a busy check-in hall asks for the same few
/// sessions thousands of times a second. An entry lives [`SESSION_CACHE_TTL`]; every change this
/// process makes to sessions, accounts or grants empties the cache at once, and a change made by
/// another instance on the same PostgreSQL database is announced to this one at its commit
/// ([`follow_other_instances`]); the TTL bounds what a lost notification could leave.
static SESSION_CACHE: std::sync::LazyLock<
    std::sync::Mutex<std::collections::HashMap<String, (std::time::Instant, LoginSession)>>,
> = std::sync::LazyLock::new(Default::default);

/// How long a loaded session is reused without asking the database again.
pub const SESSION_CACHE_TTL: std::time::Duration = std::time::Duration::from_secs(2);

/// Keeps this process's session cache in step with the other instances on the same PostgreSQL
/// database (issue 13.6): the triggers of migration 0012 notify `quantriet_sessions` when a
/// change to logins, accounts or grants commits, and this task empties the cache on each
/// notification (and after a lost connection, when notifications may have been missed). SQLite
/// runs one instance: nothing to do.
pub fn follow_other_instances(db: &Db) {
    let Db::Postgres(pool) = db else {
        return;
    };
    let pool = pool.clone();
    tokio::spawn(async move {
        loop {
            let mut listener = match sqlx::postgres::PgListener::connect_with(&pool).await {
                Ok(l) => l,
                // The pool closed, or the database is gone (3D000: dropped): nothing to follow.
                Err(e)
                    if pool.is_closed()
                        || e.as_database_error().and_then(|d| d.code()).as_deref()
                            == Some("3D000") =>
                {
                    tracing::debug!(error = %e, "session notifications: database gone");
                    return;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "session notifications: cannot connect; retrying");
                    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
                    continue;
                }
            };
            if let Err(e) = listener.listen("quantriet_sessions").await {
                tracing::warn!(error = %e, "session notifications: cannot listen; retrying");
                tokio::time::sleep(std::time::Duration::from_secs(2)).await;
                continue;
            }
            forget_sessions();
            loop {
                match listener.try_recv().await {
                    Ok(Some(_)) => forget_sessions(),
                    // The connection was lost (and is re-made by the next call): what was said
                    // meanwhile is unknown, so forget everything.
                    Ok(None) => forget_sessions(),
                    Err(e) => {
                        if pool.is_closed() {
                            return;
                        }
                        tracing::warn!(error = %e, "session notifications: reconnecting");
                        forget_sessions();
                        break;
                    }
                }
            }
        }
    });
}

/// Empties the session cache (after any change to sessions, accounts or grants).
pub fn forget_sessions() {
    if let Ok(mut c) = SESSION_CACHE.lock() {
        c.clear();
    }
}

/// How long a session may sit unused before it ends (issue 10.10), besides the absolute
/// [`SESSION_DAYS`]: shorter for admins and for anyone cleared for classified resolutions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdleTimeouts {
    pub ordinary: Duration,
    pub privileged: Duration,
}

impl Default for IdleTimeouts {
    fn default() -> Self {
        Self {
            ordinary: Duration::hours(2),
            privileged: Duration::minutes(30),
        }
    }
}

/// A session's last use is written at most this often (a write per request would cost more
/// than the idle rule is worth).
const LAST_SEEN_EVERY_SECONDS: i64 = 60;

/// Loads the session behind a token with the default idle timeouts.
pub async fn load_session(db: &Db, token: &str) -> Result<Option<LoginSession>> {
    load_session_idle(db, token, IdleTimeouts::default()).await
}

/// Loads the session behind a token, with the account's grants; `None` when unknown, expired,
/// or unused for longer than its idle timeout (then it is deleted).
pub async fn load_session_idle(
    db: &Db,
    token: &str,
    idle: IdleTimeouts,
) -> Result<Option<LoginSession>> {
    let key = token_hash(token);
    if let Ok(c) = SESSION_CACHE.lock() {
        if let Some((at, s)) = c.get(&key) {
            if at.elapsed() < SESSION_CACHE_TTL && s.expires_at > Utc::now() {
                return Ok(Some(s.clone()));
            }
        }
    }
    let loaded = load_session_uncached(db, token, idle).await?;
    if let Some(s) = loaded.as_ref().filter(|s| s.stage == Stage::Full) {
        if let Ok(mut c) = SESSION_CACHE.lock() {
            if c.len() > 50_000 {
                c.clear();
            }
            c.insert(key, (std::time::Instant::now(), s.clone()));
        }
    }
    Ok(loaded)
}

async fn load_session_uncached(
    db: &Db,
    token: &str,
    idle: IdleTimeouts,
) -> Result<Option<LoginSession>> {
    #[derive(sqlx::FromRow)]
    struct Row {
        account_id: i64,
        username: String,
        display_name: String,
        person_id: Option<i64>,
        clearance: String,
        csrf_token: String,
        expires_at: DateTime<Utc>,
        created_at: DateTime<Utc>,
        last_seen_at: Option<DateTime<Utc>>,
        stage: String,
        disabled: bool,
        must_change_password: bool,
        grant_org: Option<i64>,
        grant_role: Option<String>,
    }
    // One round trip per request: the session, its account and one row per grant.
    let rows: Vec<Row> = db_run!(db, p => sqlx::query_as(
        "SELECT a.id AS account_id, a.username, a.display_name, a.person_id, a.clearance, s.csrf_token, s.expires_at, \
         s.created_at, s.last_seen_at, s.stage, a.disabled, a.must_change_password, g.org_id AS grant_org, g.role AS grant_role \
         FROM login_sessions s JOIN accounts a ON a.id = s.account_id LEFT JOIN role_grants g ON g.account_id = a.id \
         WHERE s.token_hash = $1")
        .bind(token_hash(token)).fetch_all(p).await)?;
    let grants: Vec<Grant> = rows
        .iter()
        .filter_map(|r| match (r.grant_org, r.grant_role.as_deref()) {
            (Some(org), Some(role)) => Role::parse(role).ok().map(|role| Grant {
                org_id: OrgId(org),
                role,
            }),
            _ => None,
        })
        .collect();
    let Some(row) = rows.into_iter().next() else {
        return Ok(None);
    };
    let now = Utc::now();
    let clearance = Clearance::parse(&row.clearance).unwrap_or(Clearance::None);
    let privileged = clearance > Clearance::None || grants.iter().any(|g| g.role == Role::Admin);
    let limit = if privileged {
        idle.privileged
    } else {
        idle.ordinary
    };
    let last = row.last_seen_at.unwrap_or(row.created_at);
    if row.expires_at <= now || row.disabled || now - last > limit {
        delete_session(db, token).await?;
        return Ok(None);
    }
    if now - last > Duration::seconds(LAST_SEEN_EVERY_SECONDS) {
        db_exec!(db, p => sqlx::query("UPDATE login_sessions SET last_seen_at = $2 WHERE token_hash = $1")
            .bind(token_hash(token)).bind(now).execute(p).await)?;
    }
    Ok(Some(LoginSession {
        account: Account {
            id: AccountId(row.account_id),
            must_change_password: row.must_change_password,
            username: row.username,
            display_name: row.display_name,
            scope: Scope {
                account_id: AccountId(row.account_id),
                person_id: row.person_id.map(PersonId),
                clearance,
                grants,
                ip: String::new(),
            },
        },
        csrf_token: row.csrf_token,
        expires_at: row.expires_at,
        stage: Stage::parse(&row.stage),
    }))
}

/// Appends to the audit log on `$conn`, of either engine: who did what to which record. Given the
/// open transaction of a change (`audit_in!(&mut *tx, scope, action, entity, entity_id, org,
/// detail)`), the entry commits with the change it records, or neither does (issue 13.7). Yields
/// `Result<(), sqlx::Error>`. Used inside `db_run!`, whose body is compiled once per engine.
#[macro_export]
macro_rules! audit_in {
    ($conn:expr, $scope:expr, $action:expr, $entity:expr, $entity_id:expr, $org:expr, $detail:expr $(,)?) => {{
        let scope: &$crate::scope::Scope = $scope;
        let org: Option<::domain::ids::OrgId> = $org;
        let (action, entity, entity_id, detail): (&str, &str, i64, &str) =
            ($action, $entity, $entity_id, $detail);
        sqlx::query("INSERT INTO audit_log (at, account_id, org_id, action, entity, entity_id, detail, ip) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
            .bind($crate::now()).bind(scope.account_id.0).bind(org.map(|o| o.0)).bind(action).bind(entity).bind(entity_id).bind(detail).bind(&scope.ip)
            .execute($conn).await.map(|_| ())
    }};
}

/// Appends to the audit log in a statement of its own: for entries that record no change of their
/// own (a read of a classified record, a failed second factor); a change is audited with
/// [`audit_in!`] in its own transaction.
pub async fn audit(
    db: &Db,
    scope: &Scope,
    action: &str,
    entity: &str,
    entity_id: i64,
    org: Option<OrgId>,
    detail: &str,
) -> Result<()> {
    db_run!(db, p => crate::audit_in!(p, scope, action, entity, entity_id, org, detail))?;
    Ok(())
}

/// Number of accounts (the demo loads only into an empty database).
pub async fn account_count(db: &Db) -> Result<i64> {
    let (n,): (i64,) =
        db_run!(db, p => sqlx::query_as("SELECT COUNT(*) FROM accounts").fetch_one(p).await)?;
    Ok(n)
}

// ----- account safety: lockout, second factor, passwords, sessions (issue 4) -----

/// How far a login has got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Password and, where required, second factor done.
    Full,
    /// Password done; the TOTP code (or a recovery code) is still owed.
    Mfa,
    /// Password done; two-factor authentication is required but not set up yet.
    Enroll,
}

impl Stage {
    pub fn code(self) -> &'static str {
        match self {
            Stage::Full => "full",
            Stage::Mfa => "mfa",
            Stage::Enroll => "enroll",
        }
    }
    fn parse(s: &str) -> Self {
        match s {
            "full" => Stage::Full,
            "enroll" => Stage::Enroll,
            // Anything unknown is treated as the most restricted state.
            _ => Stage::Mfa,
        }
    }
}

/// What a login attempt gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoginOutcome {
    Ok {
        account: AccountId,
        stage: Stage,
    },
    /// Wrong username or password (not told apart).
    Invalid,
    /// Too many failures on this account: locked until then.
    Locked {
        until: DateTime<Utc>,
    },
    /// Too many failures from this address recently.
    AddressBlocked,
}

/// Failures on one account before it locks.
pub const LOCK_AFTER: i64 = 5;
/// Failures from one address within [`ADDRESS_WINDOW_MINUTES`] before it is refused.
pub const ADDRESS_LIMIT: i64 = 30;
pub const ADDRESS_WINDOW_MINUTES: i64 = 15;

/// The lock after `failures` consecutive failures: 15 minutes at the fifth, doubling, at most a day.
pub fn lock_duration(failures: i64) -> Option<Duration> {
    if failures < LOCK_AFTER {
        return None;
    }
    let doublings = u32::try_from((failures - LOCK_AFTER).min(7)).unwrap_or(7);
    Some(Duration::minutes((15_i64 << doublings).min(24 * 60)))
}

/// Does this account need two factors? Admins and anyone cleared for classified resolutions do.
pub async fn requires_second_factor(db: &Db, account: AccountId) -> Result<bool> {
    let (clearance, admins): (String, i64) = db_run!(db, p => sqlx::query_as(
        "SELECT a.clearance, (SELECT COUNT(*) FROM role_grants g WHERE g.account_id = a.id AND g.role = 'admin') FROM accounts a WHERE a.id = $1")
        .bind(account.0).fetch_one(p).await)?;
    Ok(admins > 0 || Clearance::parse(&clearance).unwrap_or(Clearance::None) > Clearance::None)
}

/// Checks a password login with back-off: per account (lock after 5 failures, doubling) and
/// per address (30 failures in 15 minutes). Every attempt is recorded.
///
/// A name without an account is answered exactly as an account is (issue 10.7): its failures
/// are kept in `login_throttle` by the same rule, and every path does the same work — one
/// lookup, one argon2 check, one attempt row, one state write — so neither the answer, nor the
/// lock time, nor the time taken tells whether the name exists.
pub async fn attempt_login(
    db: &Db,
    username: &str,
    password: &str,
    ip: &str,
) -> Result<LoginOutcome> {
    let now = now();
    if address_blocked(db, ip, now).await? {
        return Ok(LoginOutcome::AddressBlocked);
    }
    let name = username.trim();
    #[derive(sqlx::FromRow)]
    struct Row {
        id: Option<i64>,
        password_hash: Option<String>,
        account_failed: Option<i64>,
        account_locked: Option<DateTime<Utc>>,
        disabled: Option<bool>,
        totp_enabled: Option<bool>,
        name_failed: Option<i64>,
        name_locked: Option<DateTime<Utc>>,
    }
    let row: Row = db_run!(db, p => sqlx::query_as(
        "SELECT a.id, a.password_hash, a.failed_logins AS account_failed, a.locked_until AS account_locked, a.disabled, a.totp_enabled, \
                t.failed_logins AS name_failed, t.locked_until AS name_locked \
         FROM (SELECT CAST($1 AS TEXT) AS username) n \
         LEFT JOIN accounts a ON a.username = n.username LEFT JOIN login_throttle t ON t.username = n.username")
        .bind(name).fetch_one(p).await)?;
    let account = row.id.map(AccountId);
    let (failed, locked_until) = match account {
        Some(_) => (row.account_failed.unwrap_or(0), row.account_locked),
        None => (row.name_failed.unwrap_or(0), row.name_locked),
    };
    let hash = row.password_hash.as_deref().unwrap_or(DUMMY_HASH);
    let password_ok =
        verify_password(password, hash).await && account.is_some() && row.disabled == Some(false);
    let locked = locked_until.filter(|u| *u > now);
    let success = password_ok && locked.is_none();
    db_exec!(db, p => sqlx::query("INSERT INTO login_attempts (at, username, ip, success) VALUES ($1, $2, $3, $4)")
        .bind(now).bind(name).bind(ip).bind(success).execute(p).await)?;
    let totp_enabled = row.totp_enabled == Some(true);
    let (outcome, failed, locked_until) = if let Some(until) = locked {
        // Locked: nothing changes, the lock keeps its end.
        (LoginOutcome::Locked { until }, failed, locked_until)
    } else if !password_ok {
        let failures = failed + 1;
        let until = lock_duration(failures).map(|d| now + d);
        let outcome = match until {
            Some(until) => LoginOutcome::Locked { until },
            None => LoginOutcome::Invalid,
        };
        (outcome, failures, until)
    } else {
        let Some(account) = account else {
            return Err(StoreError::Internal(
                "password accepted without an account".into(),
            ));
        };
        let stage = if totp_enabled {
            Stage::Mfa
        } else if requires_second_factor(db, account).await? {
            Stage::Enroll
        } else {
            Stage::Full
        };
        // With a second factor still owed, the failures count on (issue 10.2): a right
        // password followed by wrong codes must lock the account like wrong passwords do.
        let failed = if stage == Stage::Mfa { failed } else { 0 };
        (LoginOutcome::Ok { account, stage }, failed, None)
    };
    save_failures(db, account, name, failed, locked_until).await?;
    // Issue 11.18: logins and failed logins are in the audit log. A name without an account is
    // recorded with it (shown to the admins of a top-level organization only).
    let (action, detail) = match (&outcome, account) {
        (
            LoginOutcome::Ok {
                stage: Stage::Mfa, ..
            },
            _,
        ) => ("", String::new()),
        (LoginOutcome::Ok { .. }, _) => ("login", String::new()),
        (LoginOutcome::Locked { .. }, Some(_)) => ("login_failed", "tài khoản đang bị khóa".into()),
        (_, Some(_)) => ("login_failed", String::new()),
        (_, None) => (
            "login_failed",
            format!(
                "tên đăng nhập không tồn tại: {}",
                name.chars().take(64).collect::<String>()
            ),
        ),
    };
    if !action.is_empty() {
        audit_login(db, account, ip, action, &detail).await?;
    }
    Ok(outcome)
}

/// An audit entry about a login, made before any session exists (so without a scope).
async fn audit_login(
    db: &Db,
    account: Option<AccountId>,
    ip: &str,
    action: &str,
    detail: &str,
) -> Result<()> {
    let id = account.map(|a| a.0);
    db_exec!(db, p => sqlx::query("INSERT INTO audit_log (at, account_id, org_id, action, entity, entity_id, detail, ip) VALUES ($1, $2, NULL, $3, 'account', $4, $5, $6)")
        .bind(now()).bind(id).bind(action).bind(id).bind(detail).bind(ip).execute(p).await)?;
    Ok(())
}

/// Is `ip` refused for too many recent failures (passwords and second factors alike)?
async fn address_blocked(db: &Db, ip: &str, now: DateTime<Utc>) -> Result<bool> {
    let since = now - Duration::minutes(ADDRESS_WINDOW_MINUTES);
    let (recent,): (i64,) = db_run!(db, p => sqlx::query_as("SELECT COUNT(*) FROM login_attempts WHERE ip = $1 AND at > $2 AND NOT success")
        .bind(ip).bind(since).fetch_one(p).await)?;
    Ok(recent >= ADDRESS_LIMIT)
}

/// Writes the failure count and lock of an account, or of a name without one.
async fn save_failures(
    db: &Db,
    account: Option<AccountId>,
    name: &str,
    failed: i64,
    locked_until: Option<DateTime<Utc>>,
) -> Result<()> {
    match account {
        Some(a) => {
            db_exec!(db, p => sqlx::query("UPDATE accounts SET failed_logins = $2, locked_until = $3 WHERE id = $1")
            .bind(a.0).bind(failed).bind(locked_until).execute(p).await)?
        }
        None => db_exec!(db, p => sqlx::query(
            "INSERT INTO login_throttle (username, failed_logins, locked_until) VALUES ($1, $2, $3) \
             ON CONFLICT (username) DO UPDATE SET failed_logins = excluded.failed_logins, locked_until = excluded.locked_until")
            .bind(name).bind(failed).bind(locked_until).execute(p).await)?,
    };
    Ok(())
}

/// Wrong codes a half-done login may enter before it is ended (the account's own count goes on).
pub const SECOND_FACTOR_TRIES: i64 = 3;

/// What a second-factor code gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecondFactorOutcome {
    Ok,
    /// Wrong or used code; `ended` when the half-done login was ended for too many of them.
    Wrong {
        ended: bool,
    },
    /// The account is locked (by wrong passwords or wrong codes) until then.
    Locked {
        until: DateTime<Utc>,
    },
    /// Too many failures from this address recently.
    AddressBlocked,
}

/// Checks a second factor with the same back-off as passwords (issue 10.2): every wrong code is
/// a failed attempt of the account (lock after 5, doubling) and of the address (30 in 15
/// minutes), a half-done login (`pending`, its token) ends after [`SECOND_FACTOR_TRIES`] wrong
/// codes, and failures and locks go to the audit log.
pub async fn check_second_factor(
    db: &Db,
    account: AccountId,
    code: &str,
    ip: &str,
    pending: Option<&str>,
) -> Result<SecondFactorOutcome> {
    let now = now();
    if address_blocked(db, ip, now).await? {
        return Ok(SecondFactorOutcome::AddressBlocked);
    }
    let (username, failed, locked_until): (String, i64, Option<DateTime<Utc>>) = db_run!(db, p => sqlx::query_as(
        "SELECT username, failed_logins, locked_until FROM accounts WHERE id = $1")
        .bind(account.0).fetch_one(p).await)?;
    let who = Scope {
        account_id: account,
        person_id: None,
        clearance: Clearance::None,
        grants: Vec::new(),
        ip: ip.to_string(),
    };
    if let Some(until) = locked_until.filter(|u| *u > now) {
        if let Some(token) = pending {
            delete_session(db, token).await?;
        }
        return Ok(SecondFactorOutcome::Locked { until });
    }
    if code.trim().is_empty() {
        // No code yet (an API client learning that one is owed): nothing was guessed.
        return Ok(SecondFactorOutcome::Wrong { ended: false });
    }
    let ok = verify_second_factor(db, account, code).await?;
    db_exec!(db, p => sqlx::query("INSERT INTO login_attempts (at, username, ip, success) VALUES ($1, $2, $3, $4)")
        .bind(now).bind(&username).bind(ip).bind(ok).execute(p).await)?;
    if ok {
        save_failures(db, Some(account), &username, 0, None).await?;
        audit_login(db, Some(account), ip, "login", "hai lớp").await?;
        return Ok(SecondFactorOutcome::Ok);
    }
    let failures = failed + 1;
    let until = lock_duration(failures).map(|d| now + d);
    save_failures(db, Some(account), &username, failures, until).await?;
    audit(
        db,
        &who,
        "second_factor_failed",
        "account",
        account.0,
        None,
        "",
    )
    .await?;
    let mut ended = false;
    if let Some(token) = pending {
        let tries: Option<(i64,)> = db_run!(db, p => sqlx::query_as(
            "UPDATE login_sessions SET mfa_failures = mfa_failures + 1 WHERE token_hash = $1 RETURNING mfa_failures")
            .bind(token_hash(token)).fetch_optional(p).await)?;
        ended = until.is_some() || tries.is_none_or(|(n,)| n >= SECOND_FACTOR_TRIES);
        if ended {
            delete_session(db, token).await?;
        }
    }
    if let Some(until) = until {
        audit(
            db,
            &who,
            "account_locked",
            "account",
            account.0,
            None,
            "second factor",
        )
        .await?;
        return Ok(SecondFactorOutcome::Locked { until });
    }
    Ok(SecondFactorOutcome::Wrong { ended })
}

fn totp(secret_b32: &str) -> Result<totp_rs::TOTP> {
    let bytes = totp_rs::Secret::Encoded(secret_b32.to_string())
        .to_bytes()
        .map_err(|e| StoreError::Internal(format!("totp secret: {e:?}")))?;
    totp_rs::TOTP::new(totp_rs::Algorithm::SHA1, 6, 1, 30, bytes)
        .map_err(|e| StoreError::Internal(format!("totp: {e}")))
}

fn unix_now() -> u64 {
    u64::try_from(Utc::now().timestamp()).unwrap_or(0)
}

/// The TOTP code of `secret_b32` now (for the demo and for tests).
pub fn current_totp(secret_b32: &str) -> Result<String> {
    Ok(totp(secret_b32)?.generate(unix_now()))
}

/// A new random TOTP secret, base32 (160 bits).
pub fn new_totp_secret() -> String {
    let mut b = [0u8; 20];
    rand::rngs::OsRng.fill_bytes(&mut b);
    totp_rs::Secret::Raw(b.to_vec()).to_encoded().to_string()
}

/// The `otpauth://` URI an authenticator app scans.
pub fn totp_uri(secret_b32: &str, username: &str) -> String {
    format!("otpauth://totp/Qu%C3%A1n%20tri%E1%BB%87t:{username}?secret={secret_b32}&issuer=Qu%C3%A1n%20tri%E1%BB%87t&algorithm=SHA1&digits=6&period=30")
}

/// Checks a second factor: a 6-digit TOTP code (each time step used once) or an unused recovery code.
pub async fn verify_second_factor(db: &Db, account: AccountId, code: &str) -> Result<bool> {
    let code: String = code
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect();
    let row: Option<(Option<String>, i64)> = db_run!(db, p => sqlx::query_as("SELECT totp_secret, totp_last_step FROM accounts WHERE id = $1")
        .bind(account.0).fetch_optional(p).await)?;
    let Some((Some(secret), last_step)) = row else {
        return Ok(false);
    };
    if code.len() == 6 && code.chars().all(|c| c.is_ascii_digit()) {
        let t = totp(&secret)?;
        let step = i64::try_from(unix_now() / 30).unwrap_or(0);
        for s in [step - 1, step, step + 1] {
            let at = u64::try_from(s * 30).unwrap_or(0);
            if s > last_step && t.generate(at) == code {
                // Refuse a replay of this step or an earlier one.
                let n = db_exec!(db, p => sqlx::query("UPDATE accounts SET totp_last_step = $2 WHERE id = $1 AND totp_last_step < $2")
                    .bind(account.0).bind(s).execute(p).await)?;
                return Ok(n == 1);
            }
        }
        return Ok(false);
    }
    let hash = token_hash(&code.to_lowercase());
    let n = db_exec!(db, p => sqlx::query("UPDATE recovery_codes SET used_at = $3 WHERE account_id = $1 AND code_hash = $2 AND used_at IS NULL")
        .bind(account.0).bind(&hash).bind(now()).execute(p).await)?;
    Ok(n == 1)
}

/// Stores a fresh, not yet enabled TOTP secret for the account and returns it.
pub async fn begin_totp_enrollment(db: &Db, account: AccountId) -> Result<String> {
    let secret = new_totp_secret();
    db_exec!(db, p => sqlx::query("UPDATE accounts SET totp_secret = $2 WHERE id = $1 AND NOT totp_enabled")
        .bind(account.0).bind(&secret).execute(p).await)?;
    Ok(secret)
}

/// The pending (not yet enabled) TOTP secret, if any.
pub async fn pending_totp_secret(db: &Db, account: AccountId) -> Result<Option<String>> {
    let row: Option<(Option<String>, bool)> = db_run!(db, p => sqlx::query_as("SELECT totp_secret, totp_enabled FROM accounts WHERE id = $1")
        .bind(account.0).fetch_optional(p).await)?;
    Ok(row.and_then(|(s, enabled)| if enabled { None } else { s }))
}

/// Enables TOTP once the user proves their app has the secret; returns ten one-time recovery codes
/// (only their hashes are kept).
pub async fn finish_totp_enrollment(
    db: &Db,
    account: AccountId,
    code: &str,
) -> Result<Option<Vec<String>>> {
    if pending_totp_secret(db, account).await?.is_none()
        || !verify_second_factor(db, account, code).await?
    {
        return Ok(None);
    }
    let codes = set_totp_enabled(db, account).await?;
    Ok(Some(codes))
}

async fn set_totp_enabled(db: &Db, account: AccountId) -> Result<Vec<String>> {
    let codes: Vec<String> = (0..10).map(|_| random_token()[..10].to_string()).collect();
    db_run!(db, p => {
        let mut tx = p.begin().await?;
        sqlx::query("UPDATE accounts SET totp_enabled = TRUE WHERE id = $1").bind(account.0).execute(&mut *tx).await?;
        sqlx::query("DELETE FROM recovery_codes WHERE account_id = $1").bind(account.0).execute(&mut *tx).await?;
        for c in &codes {
            sqlx::query("INSERT INTO recovery_codes (account_id, code_hash) VALUES ($1, $2)").bind(account.0).bind(token_hash(c)).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok::<_, StoreError>(())
    })?;
    Ok(codes)
}

/// Sets a known TOTP secret and enables it (the demo admin, whose secret is published).
pub async fn enable_totp_with_secret(
    db: &Db,
    account: AccountId,
    secret_b32: &str,
) -> Result<Vec<String>> {
    totp(secret_b32)?;
    db_exec!(db, p => sqlx::query("UPDATE accounts SET totp_secret = $2 WHERE id = $1").bind(account.0).bind(secret_b32).execute(p).await)?;
    set_totp_enabled(db, account).await
}

/// Moves a session to the full stage after its second factor (a fresh token is not needed: the
/// cookie is HttpOnly and the session is bound to this browser already).
pub async fn promote_session(db: &Db, token: &str) -> Result<()> {
    let expires = now() + Duration::days(SESSION_DAYS);
    db_exec!(db, p => sqlx::query("UPDATE login_sessions SET stage = 'full', expires_at = $2 WHERE token_hash = $1")
        .bind(token_hash(token)).bind(expires).execute(p).await)?;
    crate::auth::forget_sessions();
    Ok(())
}

/// The DELETE of [`delete_all_sessions`] (account).
pub(crate) const DELETE_SESSIONS: &str = "DELETE FROM login_sessions WHERE account_id = $1";

/// Ends every session of the account ("đăng xuất trên mọi thiết bị").
pub async fn delete_all_sessions(db: &Db, account: AccountId) -> Result<u64> {
    let n = db_exec!(db, p => sqlx::query(DELETE_SESSIONS).bind(account.0).execute(p).await)?;
    forget_sessions();
    Ok(n)
}

/// Changes the caller's own password after checking the current one; other sessions end.
pub async fn change_password(
    db: &Db,
    account: &Account,
    current: &str,
    new: &str,
    keep_token: &str,
) -> Result<()> {
    let (hash,): (String,) = db_run!(db, p => sqlx::query_as("SELECT password_hash FROM accounts WHERE id = $1").bind(account.id.0).fetch_one(p).await)?;
    if !verify_password(current, &hash).await {
        return Err(StoreError::rule(
            "wrong_current_password",
            "Mật khẩu hiện tại không đúng.".into(),
        ));
    }
    domain::auth::validate_password(new, &account.username, &account.display_name)?;
    let hash = hash_password(new).await?;
    db_run!(db, p => {
        let mut tx = p.begin().await?;
        sqlx::query("UPDATE accounts SET password_hash = $2, must_change_password = FALSE WHERE id = $1").bind(account.id.0).bind(&hash).execute(&mut *tx).await?;
        sqlx::query("DELETE FROM login_sessions WHERE account_id = $1 AND token_hash <> $2").bind(account.id.0).bind(token_hash(keep_token)).execute(&mut *tx).await?;
        crate::audit_in!(&mut *tx, &account.scope, "change_password", "account", account.id.0, None, "")?;
        tx.commit().await
    })?;
    crate::auth::forget_sessions();
    Ok(())
}

/// Facts shown on the "my account" page.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AccountFacts {
    pub totp_enabled: bool,
    pub must_change_password: bool,
    pub sessions: i64,
    pub recovery_codes_left: i64,
}

pub async fn account_facts(db: &Db, account: AccountId) -> Result<AccountFacts> {
    Ok(db_run!(db, p => sqlx::query_as::<_, AccountFacts>(
        "SELECT a.totp_enabled, a.must_change_password, \
         (SELECT COUNT(*) FROM login_sessions s WHERE s.account_id = a.id) AS sessions, \
         (SELECT COUNT(*) FROM recovery_codes r WHERE r.account_id = a.id AND r.used_at IS NULL) AS recovery_codes_left \
         FROM accounts a WHERE a.id = $1").bind(account.0).fetch_one(p).await)?)
}

/// The scope of an account by username, for command-line tools acting as that account.
pub async fn scope_of(db: &Db, username: &str) -> Result<Scope> {
    let row: Option<(i64,)> = db_run!(db, p => sqlx::query_as("SELECT id FROM accounts WHERE username = $1").bind(username).fetch_optional(p).await)?;
    let (id,) = row.ok_or(StoreError::NotFound)?;
    let token = start_session(db, AccountId(id), Stage::Full, "cli").await?;
    let session = load_session(db, &token)
        .await?
        .ok_or(StoreError::NotFound)?;
    delete_session(db, &token).await?;
    Ok(session.account.scope)
}
