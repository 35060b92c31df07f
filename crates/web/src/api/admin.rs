//! `/api/v1/admin`: accounts, roles, clearance and the audit log, inside the admin's subtree.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post, put};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use domain::auth::{Clearance, Role};
use domain::ids::{AccountId, OrgId};
use domain::study::AudienceTier;
use serde::{Deserialize, Serialize};
use store::accounts::{self, AuditFilter};
use utoipa::{IntoParams, ToSchema};

use super::{views, ApiJson};
use crate::app::AppState;
use crate::auth::CurrentUser;
use crate::error::{AppError, AppResult, ErrorBody};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/accounts", get(list).post(create))
        .route("/admin/accounts/bulk", post(bulk))
        .route("/admin/accounts/{id}", get(detail))
        .route("/admin/accounts/{id}/grants", post(add_grant))
        .route("/admin/accounts/{id}/grants/remove", post(remove_grant))
        .route("/admin/accounts/{id}/clearance", put(set_clearance))
        .route("/admin/accounts/{id}/unlock", post(unlock))
        .route("/admin/audit", get(audit))
        .route("/admin/settings", get(settings))
        .route("/admin/settings/{org_id}", put(set_settings))
}

/// The settings of a province (R8.3), as set by its admin or by default.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProvinceSettingsView {
    /// The province (a root organization) the caller administers.
    pub org_id: i64,
    pub org_name: String,
    /// R3.5: percent of a class's time above which an absentee owes a retake (new classes).
    pub retake_threshold_percent: i64,
    /// R6.1: days after release by which a resolution must be published.
    pub publication_deadline_days: i64,
    /// Names of the tree's levels from the top down; a new organization without a level name
    /// takes the one of its depth.
    pub level_names: Vec<String>,
    /// R2.7: what the province calls each audience tier.
    pub tier_labels: TierLabelsView,
    /// R8.2: the sections every new plan starts with.
    pub plan_template: PlanTemplateView,
}

/// The default sections of a new plan (R8.2, R8.3).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PlanTemplateView {
    /// "Tổ chức thực hiện": who answers for what.
    pub responsibility: String,
    /// "Kiểm tra, giám sát".
    pub inspection: String,
}

/// The names of the audience tiers (R2.7).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TierLabelsView {
    pub key_cadres: String,
    pub grassroots: String,
    pub public: String,
}

async fn settings_view(st: &AppState, org: OrgId, name: String) -> AppResult<ProvinceSettingsView> {
    let s = store::settings::of_org(&st.db, org).await?;
    Ok(ProvinceSettingsView {
        org_id: org.0,
        org_name: name,
        retake_threshold_percent: i64::from(s.retake_threshold.get()),
        publication_deadline_days: i64::from(s.publication_deadline_days),
        tier_labels: TierLabelsView {
            key_cadres: s.tier_labels.of(AudienceTier::KeyCadres).to_string(),
            grassroots: s.tier_labels.of(AudienceTier::Grassroots).to_string(),
            public: s.tier_labels.of(AudienceTier::Public).to_string(),
        },
        level_names: s.level_names,
        plan_template: PlanTemplateView {
            responsibility: s.plan_template.responsibility,
            inspection: s.plan_template.inspection,
        },
    })
}

/// The settings of every province the caller administers (issue 13.2).
#[utoipa::path(get, path = "/api/v1/admin/settings", tag = "admin",
    responses((status = 200, body = [ProvinceSettingsView]), (status = 403, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn settings(
    State(st): State<AppState>,
    user: CurrentUser,
) -> AppResult<Json<Vec<ProvinceSettingsView>>> {
    admin(&user)?;
    let mut out = Vec::new();
    for (org, name) in store::settings::provinces(&st.db, user.scope()).await? {
        out.push(settings_view(&st, org, name).await?);
    }
    Ok(Json(out))
}

/// New settings of a province.
#[derive(Debug, Deserialize, ToSchema)]
pub struct SettingsBody {
    /// 1 to 100.
    pub retake_threshold_percent: i64,
    /// 0 to 60.
    pub publication_deadline_days: i64,
    /// At most 8 names of at most 60 characters; absent: unchanged.
    pub level_names: Option<Vec<String>>,
    /// Names of at most 100 characters (empty: the guideline's); absent: unchanged.
    pub tier_labels: Option<TierLabelsView>,
    /// At most 10,000 characters a section (empty: the default text); absent: unchanged.
    pub plan_template: Option<PlanTemplateView>,
}

/// Sets a province's settings; its admin only. Audited with the old and new values.
#[utoipa::path(put, path = "/api/v1/admin/settings/{org_id}", tag = "admin", params(("org_id" = i64, Path, description = "the province's root organization")), request_body = SettingsBody,
    responses((status = 200, body = ProvinceSettingsView), (status = 422, body = ErrorBody), (status = 404, body = ErrorBody), (status = 403, body = ErrorBody), (status = 401, body = ErrorBody), (status = 400, body = ErrorBody)))]
pub async fn set_settings(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(org_id): Path<i64>,
    ApiJson(b): ApiJson<SettingsBody>,
) -> AppResult<Json<ProvinceSettingsView>> {
    admin(&user)?;
    let provinces = store::settings::provinces(&st.db, user.scope()).await?;
    let (org, name) = provinces
        .into_iter()
        .find(|(o, _)| o.0 == org_id)
        .ok_or(AppError::NotFound)?;
    // What the body leaves out stays as it is.
    let now = domain::org::settings::SettingsInput::from_settings(
        &store::settings::of_org(&st.db, org).await?,
    );
    let input = domain::org::settings::SettingsInput {
        retake_threshold_percent: b.retake_threshold_percent.to_string(),
        publication_deadline_days: b.publication_deadline_days.to_string(),
        level_names: b.level_names.map_or(now.level_names, |l| l.join("\n")),
        tier_key_cadres: b
            .tier_labels
            .as_ref()
            .map_or(now.tier_key_cadres, |t| t.key_cadres.clone()),
        tier_grassroots: b
            .tier_labels
            .as_ref()
            .map_or(now.tier_grassroots, |t| t.grassroots.clone()),
        tier_public: b.tier_labels.map_or(now.tier_public, |t| t.public),
        plan_responsibility: b
            .plan_template
            .as_ref()
            .map_or(now.plan_responsibility, |t| t.responsibility.clone()),
        plan_inspection: b
            .plan_template
            .map_or(now.plan_inspection, |t| t.inspection),
    };
    let new = input.validate().map_err(AppError::Validation)?;
    store::settings::update(&st.db, user.scope(), org, &new).await?;
    Ok(Json(settings_view(&st, org, name).await?))
}

fn admin(user: &CurrentUser) -> AppResult<()> {
    if user.scope().has_role(Role::Admin) {
        Ok(())
    } else {
        Err(AppError::Forbidden)
    }
}

view! {
    /// An account as admins list it.
    AccountSummaryView as AccountSummary from accounts::AccountSummary {
        id: i64,
        username: String,
        display_name: String,
        person_id: Option<i64>,
        /// none, confidential, secret, top_secret
        clearance: String,
        totp_enabled: bool,
        locked_until: Option<DateTime<Utc>>,
        must_change_password: bool,
    }
}

view! {
    /// A role of an account.
    GrantRowView as GrantRow from accounts::GrantRow {
        org_id: i64,
        org_name: String,
        /// admin, organizer, secretary, presenter, member
        role: String,
    }
}

view! {
    /// An account with its roles.
    AccountDetailView as AccountDetail from accounts::AccountDetail {
        account: AccountSummaryView => Into::into,
        grants: Vec<GrantRowView> => views,
    }
}

view! {
    /// An account made by [`bulk_create`], with its one-time password.
    CreatedAccountView as CreatedAccount from accounts::CreatedAccount {
        username: String,
        display_name: String,
        /// Shown once; to be changed at first login.
        password: String,
    }
}

view! {
    /// One entry of the audit log.
    AuditEntryView as AuditEntry from accounts::AuditEntry {
        id: i64,
        at: DateTime<Utc>,
        account_id: Option<i64>,
        username: Option<String>,
        ip: String,
        org_id: Option<i64>,
        action: String,
        entity: String,
        entity_id: Option<i64>,
        detail: String,
    }
}

view! {
    /// A page of the audit log, newest first.
    AuditListView as AuditList from accounts::AuditList {
        items: Vec<AuditEntryView> => views,
        /// How many entries match, counted up to 10,001 (`total_exact` false: "more than 10,000").
        total: i64,
        total_exact: bool,
        /// Pass as `before` for the next (older) page; absent on the last page.
        next_before: Option<i64>,
    }
}

/// Accounts the caller manages.
#[utoipa::path(get, path = "/api/v1/admin/accounts", operation_id = "list_accounts", tag = "admin",
    responses((status = 200, body = [AccountSummaryView]), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn list(
    State(st): State<AppState>,
    user: CurrentUser,
) -> AppResult<Json<Vec<AccountSummaryView>>> {
    admin(&user)?;
    Ok(Json(views(accounts::list(&st.db, user.scope()).await?)))
}

/// A new account with one role.
#[derive(Debug, Deserialize, ToSchema)]
pub struct AccountBody {
    pub username: String,
    pub display_name: String,
    pub person_id: Option<i64>,
    pub org_id: i64,
    /// admin, organizer, secretary, presenter, member
    pub role: String,
    /// none, confidential, secret, top_secret (never above the caller's)
    #[serde(default = "none")]
    pub clearance: String,
    /// Temporary: must be changed at first login.
    pub password: String,
}

fn none() -> String {
    "none".into()
}

/// Creates an account (admin of the organization; role and clearance not above the caller's).
#[utoipa::path(post, path = "/api/v1/admin/accounts", operation_id = "create_account", tag = "admin", request_body = AccountBody,
    responses((status = 201, body = AccountDetailView), (status = 422, body = ErrorBody), (status = 409, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 401, body = ErrorBody), (status = 400, body = ErrorBody)))]
pub async fn create(
    State(st): State<AppState>,
    user: CurrentUser,
    ApiJson(b): ApiJson<AccountBody>,
) -> AppResult<(StatusCode, Json<AccountDetailView>)> {
    admin(&user)?;
    let new = crate::admin::validate_account(
        &b.username,
        &b.display_name,
        b.person_id,
        Some(b.org_id),
        &b.role,
        &b.clearance,
        &b.password,
    )?;
    let id = accounts::create(&st.db, user.scope(), &new).await?;
    Ok((
        StatusCode::CREATED,
        Json(accounts::get(&st.db, user.scope(), id).await?.into()),
    ))
}

/// One account with its roles.
#[utoipa::path(get, path = "/api/v1/admin/accounts/{id}", operation_id = "account_detail", tag = "admin", params(("id" = i64, Path, description = "account id")),
    responses((status = 200, body = AccountDetailView), (status = 404, body = ErrorBody), (status = 403, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn detail(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> AppResult<Json<AccountDetailView>> {
    admin(&user)?;
    Ok(Json(
        accounts::get(&st.db, user.scope(), AccountId(id))
            .await?
            .into(),
    ))
}

/// A role on an organization.
#[derive(Debug, Deserialize, ToSchema)]
pub struct GrantBody {
    pub org_id: i64,
    /// admin, organizer, secretary, presenter, member
    pub role: String,
}

fn role(s: &str) -> AppResult<Role> {
    Role::parse(s).map_err(|e| AppError::field("role", e))
}

/// Grants a role (never above the caller's own, only inside the caller's subtree).
#[utoipa::path(post, path = "/api/v1/admin/accounts/{id}/grants", tag = "admin", params(("id" = i64, Path, description = "account id")), request_body = GrantBody,
    responses((status = 204), (status = 422, body = ErrorBody), (status = 404, body = ErrorBody), (status = 403, body = ErrorBody), (status = 401, body = ErrorBody), (status = 400, body = ErrorBody)))]
pub async fn add_grant(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<GrantBody>,
) -> AppResult<StatusCode> {
    admin(&user)?;
    accounts::add_grant(
        &st.db,
        user.scope(),
        AccountId(id),
        OrgId(b.org_id),
        role(&b.role)?,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Removes a role.
#[utoipa::path(post, path = "/api/v1/admin/accounts/{id}/grants/remove", tag = "admin", params(("id" = i64, Path, description = "account id")), request_body = GrantBody,
    responses((status = 204), (status = 422, body = ErrorBody), (status = 404, body = ErrorBody), (status = 403, body = ErrorBody), (status = 401, body = ErrorBody), (status = 400, body = ErrorBody)))]
pub async fn remove_grant(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<GrantBody>,
) -> AppResult<StatusCode> {
    admin(&user)?;
    accounts::remove_grant(
        &st.db,
        user.scope(),
        AccountId(id),
        OrgId(b.org_id),
        role(&b.role)?,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ClearanceBody {
    /// none, confidential, secret, top_secret
    pub clearance: String,
}

/// Sets an account's clearance (never above the caller's).
#[utoipa::path(put, path = "/api/v1/admin/accounts/{id}/clearance", tag = "admin", params(("id" = i64, Path, description = "account id")), request_body = ClearanceBody,
    responses((status = 204), (status = 422, body = ErrorBody), (status = 404, body = ErrorBody), (status = 403, body = ErrorBody), (status = 401, body = ErrorBody), (status = 400, body = ErrorBody)))]
pub async fn set_clearance(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<ClearanceBody>,
) -> AppResult<StatusCode> {
    admin(&user)?;
    let c = Clearance::parse(&b.clearance).map_err(|e| AppError::field("clearance", e))?;
    accounts::set_clearance(&st.db, user.scope(), AccountId(id), c).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Lifts a lockout.
#[utoipa::path(post, path = "/api/v1/admin/accounts/{id}/unlock", tag = "admin", params(("id" = i64, Path, description = "account id")),
    responses((status = 204), (status = 422, body = ErrorBody), (status = 404, body = ErrorBody), (status = 403, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn unlock(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> AppResult<StatusCode> {
    admin(&user)?;
    accounts::unlock(&st.db, user.scope(), AccountId(id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BulkCreated {
    /// The new accounts with their one-time passwords.
    pub created: Vec<CreatedAccountView>,
}

/// Creates accounts for every member of an organization's subtree who has none.
#[utoipa::path(post, path = "/api/v1/admin/accounts/bulk", tag = "admin", request_body = GrantBody,
    responses((status = 200, body = BulkCreated), (status = 422, body = ErrorBody), (status = 404, body = ErrorBody), (status = 403, body = ErrorBody), (status = 401, body = ErrorBody), (status = 400, body = ErrorBody)))]
pub async fn bulk(
    State(st): State<AppState>,
    user: CurrentUser,
    ApiJson(b): ApiJson<GrantBody>,
) -> AppResult<Json<BulkCreated>> {
    admin(&user)?;
    let created =
        accounts::bulk_create(&st.db, user.scope(), OrgId(b.org_id), role(&b.role)?).await?;
    Ok(Json(BulkCreated {
        created: views(created),
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    pub action: Option<String>,
    pub entity: Option<String>,
    pub username: Option<String>,
    /// Entries older than this id (`next_before` of the page before).
    pub before: Option<i64>,
    /// Entries per page, 1 to 500 (default 50).
    pub per_page: Option<i64>,
}

/// The audit log about organizations in the caller's admin subtree, newest first, a page at a
/// time (keyset: pass `next_before` as `before`).
#[utoipa::path(get, path = "/api/v1/admin/audit", tag = "admin", params(AuditQuery),
    responses((status = 200, body = AuditListView), (status = 403, body = ErrorBody), (status = 401, body = ErrorBody), (status = 400, body = ErrorBody)))]
pub async fn audit(
    State(st): State<AppState>,
    user: CurrentUser,
    Query(q): Query<AuditQuery>,
) -> AppResult<Json<AuditListView>> {
    admin(&user)?;
    let f = AuditFilter {
        action: q.action,
        entity: q.entity,
        username: q.username,
    };
    let limit = q.per_page.unwrap_or(50).clamp(1, 500);
    Ok(Json(
        accounts::audit_log(&st.db, user.scope(), &f, q.before, limit)
            .await?
            .into(),
    ))
}
