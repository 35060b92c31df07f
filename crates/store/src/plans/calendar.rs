//! Private calendar links (issue 14.6): one per account, only the token's hash kept; the feed
//! lists the open tasks and plan items of the organizations where the account is secretary or
//! above, read with the account's own scope (classified plans only for the cleared).

use domain::auth::{Clearance, Role};
use domain::ids::{AccountId, OrgId, PersonId};
use domain::plans::calendar::Event;

use crate::auth::{random_token, token_hash};
use crate::db::Db;
use crate::error::Result;
use crate::scope::{Grant, Scope};
use crate::{db_exec, db_run, now};

/// Makes a new private link for `account`, revoking the old one; returns the token (shown once).
pub async fn renew(db: &Db, scope: &Scope) -> Result<String> {
    let token = random_token();
    let hash = token_hash(&token);
    db_run!(db, p => {
        let mut tx = p.begin().await?;
        sqlx::query("DELETE FROM calendar_feeds WHERE account_id = $1").bind(scope.account_id.0).execute(&mut *tx).await?;
        sqlx::query("INSERT INTO calendar_feeds (account_id, token_hash, created_at) VALUES ($1, $2, $3)")
            .bind(scope.account_id.0).bind(&hash).bind(now()).execute(&mut *tx).await?;
        crate::audit_in!(&mut *tx, scope, "renew", "calendar_feed", scope.account_id.0, None, "")?;
        tx.commit().await?;
        Ok::<_, crate::StoreError>(())
    })?;
    Ok(token)
}

/// Turns the account's link off.
pub async fn revoke(db: &Db, scope: &Scope) -> Result<()> {
    db_exec!(db, p => sqlx::query("DELETE FROM calendar_feeds WHERE account_id = $1").bind(scope.account_id.0).execute(p).await)?;
    Ok(())
}

/// Whether the account has a link, and since when.
pub async fn has_feed(db: &Db, account: AccountId) -> Result<bool> {
    let row: Option<(i64,)> = db_run!(db, p => sqlx::query_as("SELECT account_id FROM calendar_feeds WHERE account_id = $1")
        .bind(account.0).fetch_optional(p).await)?;
    Ok(row.is_some())
}

/// An account (id, person, clearance) with one of its grants (org, role), if any.
type FeedRow = (i64, Option<i64>, String, Option<i64>, Option<String>);

/// The scope of the account behind a link (`None`: unknown token or disabled account).
pub async fn scope_of(db: &Db, token: &str) -> Result<Option<Scope>> {
    if token.len() != 64 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Ok(None);
    }
    let rows: Vec<FeedRow> = db_run!(db, p => sqlx::query_as(
        "SELECT a.id, a.person_id, a.clearance, g.org_id, g.role FROM calendar_feeds f JOIN accounts a ON a.id = f.account_id \
         LEFT JOIN role_grants g ON g.account_id = a.id WHERE f.token_hash = $1 AND NOT a.disabled")
        .bind(token_hash(token)).fetch_all(p).await)?;
    let Some((id, person, clearance, _, _)) = rows.first().cloned() else {
        return Ok(None);
    };
    Ok(Some(Scope {
        account_id: AccountId(id),
        person_id: person.map(PersonId),
        clearance: Clearance::parse(&clearance).unwrap_or(Clearance::None),
        grants: rows
            .iter()
            .filter_map(|(_, _, _, o, r)| match (o, r.as_deref().map(Role::parse)) {
                (Some(o), Some(Ok(role))) => Some(Grant {
                    org_id: OrgId(*o),
                    role,
                }),
                _ => None,
            })
            .collect(),
        ip: String::new(),
    }))
}

/// The open due dates of `scope`: tasks addressed to its organizations and plan items they lead
/// or coordinate (at most 200 of each, the nearest first).
pub async fn events(db: &Db, scope: &Scope, base: &str) -> Result<Vec<Event>> {
    let (tasks, _) = crate::plans::tasks::assigned(db, scope, None, 200).await?;
    let (items, _) = crate::plans::action_plans::assigned(db, scope, None, 200).await?;
    let mut out: Vec<Event> = tasks
        .into_iter()
        .map(|t| Event {
            uid: format!("task-{}-{}@quantriet", t.task_id.0, t.org_id.0),
            date: t.due_on,
            summary: format!("Hạn: {}", t.title),
            description: format!("{} giao cho {}.", t.sender_name, t.org_name),
            url: (!base.is_empty()).then(|| format!("{base}/tasks/{}", t.task_id.0)),
        })
        .collect();
    out.extend(items.into_iter().map(|i| Event {
        uid: format!("item-{}-{}@quantriet", i.item_id, i.org_id),
        date: i.due_on,
        summary: format!("Hạn: {}", i.title),
        description: format!(
            "{}: {} {} ({}%).",
            i.plan_title,
            i.org_name,
            if i.lead { "chủ trì" } else { "phối hợp" },
            i.percent
        ),
        url: (!base.is_empty()).then(|| format!("{base}/plans/{}#item-{}", i.plan_id, i.item_id)),
    }));
    out.sort_by(|a, b| a.date.cmp(&b.date).then_with(|| a.uid.cmp(&b.uid)));
    Ok(out)
}
