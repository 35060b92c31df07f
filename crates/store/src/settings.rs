//! The settings of each province (R8.3, issue 13.2), kept on its root organization
//! (`org_settings`); a province without its own takes the defaults the command line gave
//! (`settings` table, written at start) or the guideline's (40%, 2 days).

use std::collections::HashMap;

use domain::auth::Role;
use domain::ids::OrgId;
use domain::org::settings::{tier_field, PlanTemplate, ProvinceSettings, TierLabels};
use domain::study::{AudienceTier, Percent};

use crate::db::Db;
use crate::error::{Result, StoreError};
use crate::scope::Scope;
use crate::{db_run, now};

const RETAKE: &str = "retake_threshold_percent";
const DEADLINE: &str = "publication_deadline_days";
/// The level names, one a line.
const LEVELS: &str = "level_names";
/// The plan template's sections (R8.2).
const PLAN_RESPONSIBILITY: &str = "plan_responsibility";
const PLAN_INSPECTION: &str = "plan_inspection";

/// The defaults of every province: the command line's, else the guideline's.
pub async fn defaults(db: &Db) -> Result<ProvinceSettings> {
    let deadline = db
        .setting(DEADLINE)
        .await?
        .and_then(|s| s.parse::<u32>().ok())
        .unwrap_or(2);
    Ok(ProvinceSettings {
        retake_threshold: db.default_retake_threshold().await?,
        publication_deadline_days: deadline,
        level_names: Vec::new(),
        tier_labels: TierLabels::default(),
        plan_template: PlanTemplate::default(),
    })
}

/// The settings in force in the province of `org` (any organization of it).
pub async fn of_org(db: &Db, org: OrgId) -> Result<ProvinceSettings> {
    let rows: Vec<(String, String)> = db_run!(db, p => sqlx::query_as(
        "SELECT s.key, s.value FROM orgs o JOIN org_settings s ON s.org_id = o.province_id WHERE o.id = $1")
        .bind(org.0).fetch_all(p).await)?;
    let mut s = defaults(db).await?;
    let kept: HashMap<String, String> = rows.into_iter().collect();
    if let Some(t) = kept
        .get(RETAKE)
        .and_then(|v| v.parse::<i64>().ok())
        .and_then(|v| Percent::new(v).ok())
    {
        s.retake_threshold = t;
    }
    if let Some(d) = kept.get(DEADLINE).and_then(|v| v.parse::<u32>().ok()) {
        s.publication_deadline_days = d;
    }
    if let Some(levels) = kept.get(LEVELS) {
        s.level_names = levels
            .lines()
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
            .collect();
    }
    for tier in AudienceTier::ALL {
        if let Some(name) = kept.get(tier_field(*tier)) {
            s.tier_labels.set(*tier, name.clone());
        }
    }
    if let Some(t) = kept.get(PLAN_RESPONSIBILITY) {
        s.plan_template.responsibility = t.clone();
    }
    if let Some(t) = kept.get(PLAN_INSPECTION) {
        s.plan_template.inspection = t.clone();
    }
    Ok(s)
}

/// The settings of the province the caller works in (their highest grant's, else their own
/// organization's), or the defaults.
pub async fn of_scope(db: &Db, scope: &Scope) -> Result<ProvinceSettings> {
    let home = scope.grants.iter().max_by_key(|g| g.role).map(|g| g.org_id);
    let home = match (home, scope.person_id) {
        (Some(o), _) => Some(o),
        (None, Some(p)) => {
            let row: Option<(i64,)> = db_run!(db, q => sqlx::query_as("SELECT org_id FROM people WHERE id = $1")
                .bind(p.0).fetch_optional(q).await)?;
            row.map(|(o,)| OrgId(o))
        }
        (None, None) => None,
    };
    match home {
        Some(o) => of_org(db, o).await,
        None => defaults(db).await,
    }
}

/// The provinces (root organizations) whose settings the caller may change: those on which they
/// hold the admin role.
pub async fn provinces(db: &Db, scope: &Scope) -> Result<Vec<(OrgId, String)>> {
    let rows: Vec<(i64, String)> = db_run!(db, p => sqlx::query_as(
        "SELECT o.id, o.name FROM role_grants g JOIN orgs o ON o.id = g.org_id \
         WHERE g.account_id = $1 AND g.role = $2 AND o.parent_id IS NULL ORDER BY o.sort_key, o.id")
        .bind(scope.account_id.0).bind(Role::Admin.code()).fetch_all(p).await)?;
    Ok(rows.into_iter().map(|(id, n)| (OrgId(id), n)).collect())
}

/// Sets a province's settings; its admin only (anyone else: `NotFound`). Audited in the same
/// transaction, with the old and new values.
pub async fn update(db: &Db, scope: &Scope, province: OrgId, new: &ProvinceSettings) -> Result<()> {
    if !provinces(db, scope)
        .await?
        .iter()
        .any(|(id, _)| *id == province)
    {
        return Err(StoreError::NotFound);
    }
    let old = of_org(db, province).await?;
    let mut values = vec![
        (
            RETAKE,
            old.retake_threshold.get().to_string(),
            new.retake_threshold.get().to_string(),
        ),
        (
            DEADLINE,
            old.publication_deadline_days.to_string(),
            new.publication_deadline_days.to_string(),
        ),
        (
            LEVELS,
            old.level_names.join("\n"),
            new.level_names.join("\n"),
        ),
    ];
    for tier in AudienceTier::ALL {
        values.push((
            tier_field(*tier),
            old.tier_labels.of(*tier).to_string(),
            new.tier_labels.of(*tier).to_string(),
        ));
    }
    values.push((
        PLAN_RESPONSIBILITY,
        old.plan_template.responsibility.clone(),
        new.plan_template.responsibility.clone(),
    ));
    values.push((
        PLAN_INSPECTION,
        old.plan_template.inspection.clone(),
        new.plan_template.inspection.clone(),
    ));
    // The audit entry names what changed, with the old and the new value.
    let detail = values
        .iter()
        .filter(|(_, was, now)| was != now)
        .map(|(key, was, now)| {
            format!(
                "{key}: {} -> {}",
                was.replace('\n', " / "),
                now.replace('\n', " / ")
            )
        })
        .collect::<Vec<_>>()
        .join("; ");
    let (at, by) = (now(), scope.account_id.0);
    db_run!(db, p => {
        let mut tx = p.begin().await?;
        for (key, _, value) in &values {
            sqlx::query(
                "INSERT INTO org_settings (org_id, key, value, updated_at, updated_by) VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (org_id, key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at, updated_by = excluded.updated_by")
                .bind(province.0).bind(*key).bind(value).bind(at).bind(by)
                .execute(&mut *tx).await?;
        }
        crate::audit_in!(&mut *tx, scope, "update", "settings", province.0, Some(province), &detail)?;
        tx.commit().await?;
        Ok::<_, StoreError>(())
    })
}
