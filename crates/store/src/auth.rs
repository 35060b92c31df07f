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
    pub username: String,
    pub display_name: String,
    pub scope: Scope,
}

/// A logged-in session: the account and the session's CSRF token.
#[derive(Debug, Clone)]
pub struct LoginSession {
    pub account: Account,
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

fn token_hash(token: &str) -> String {
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
    domain::auth::validate_password(password).map_err(|e| StoreError::Rule(e.to_string()))?;
    let hash = hash_password(password).await?;
    let (id,): (i64,) = db_run!(db, p => sqlx::query_as(
        "INSERT INTO accounts (username, password_hash, display_name, person_id, clearance, created_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id")
        .bind(username.trim()).bind(&hash).bind(display_name).bind(person.map(|p| p.0)).bind(clearance.code()).bind(now())
        .fetch_one(p).await).map_err(StoreError::unique("username"))?;
    Ok(AccountId(id))
}

/// Grants `role` on `org` (and so on its subtree).
pub async fn grant(db: &Db, account: AccountId, org: OrgId, role: Role) -> Result<()> {
    db_exec!(db, p => sqlx::query("INSERT INTO role_grants (account_id, org_id, role) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
        .bind(account.0).bind(org.0).bind(role.code()).execute(p).await)?;
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

/// Starts a login session; returns the token for the cookie (only its hash is stored).
pub async fn create_session(db: &Db, account: AccountId) -> Result<String> {
    let token = random_token();
    let csrf = random_token();
    let now = now();
    db_exec!(db, p => sqlx::query("INSERT INTO login_sessions (token_hash, account_id, csrf_token, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)")
        .bind(token_hash(&token)).bind(account.0).bind(&csrf).bind(now).bind(now + Duration::days(SESSION_DAYS))
        .execute(p).await)?;
    Ok(token)
}

/// Ends a login session.
pub async fn delete_session(db: &Db, token: &str) -> Result<()> {
    db_exec!(db, p => sqlx::query("DELETE FROM login_sessions WHERE token_hash = $1").bind(token_hash(token)).execute(p).await)?;
    Ok(())
}

/// Loads the session behind a token, with the account's grants; `None` when unknown or expired.
pub async fn load_session(db: &Db, token: &str) -> Result<Option<LoginSession>> {
    #[derive(sqlx::FromRow)]
    struct Row {
        account_id: i64,
        username: String,
        display_name: String,
        person_id: Option<i64>,
        clearance: String,
        csrf_token: String,
        expires_at: DateTime<Utc>,
        grant_org: Option<i64>,
        grant_role: Option<String>,
    }
    // One round trip per request: the session, its account and one row per grant.
    let rows: Vec<Row> = db_run!(db, p => sqlx::query_as(
        "SELECT a.id AS account_id, a.username, a.display_name, a.person_id, a.clearance, s.csrf_token, s.expires_at, \
         g.org_id AS grant_org, g.role AS grant_role \
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
    if row.expires_at <= Utc::now() {
        delete_session(db, token).await?;
        return Ok(None);
    }
    Ok(Some(LoginSession {
        account: Account {
            id: AccountId(row.account_id),
            username: row.username,
            display_name: row.display_name,
            scope: Scope {
                account_id: AccountId(row.account_id),
                person_id: row.person_id.map(PersonId),
                clearance: Clearance::parse(&row.clearance).unwrap_or(Clearance::None),
                grants,
            },
        },
        csrf_token: row.csrf_token,
        expires_at: row.expires_at,
    }))
}

/// Appends to the audit log: who did what to which record.
pub async fn audit(
    db: &Db,
    scope: &Scope,
    action: &str,
    entity: &str,
    entity_id: i64,
    org: Option<OrgId>,
    detail: &str,
) -> Result<()> {
    db_exec!(db, p => sqlx::query("INSERT INTO audit_log (at, account_id, org_id, action, entity, entity_id, detail) VALUES ($1, $2, $3, $4, $5, $6, $7)")
        .bind(now()).bind(scope.account_id.0).bind(org.map(|o| o.0)).bind(action).bind(entity).bind(entity_id).bind(detail)
        .execute(p).await)?;
    Ok(())
}

/// Number of accounts (the demo loads only into an empty database).
pub async fn account_count(db: &Db) -> Result<i64> {
    let (n,): (i64,) =
        db_run!(db, p => sqlx::query_as("SELECT COUNT(*) FROM accounts").fetch_one(p).await)?;
    Ok(n)
}
