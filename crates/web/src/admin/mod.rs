//! Quản trị: accounts, roles and clearance inside the admin's subtree, and the audit log (issue 4).

use crate::reads::Reads;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use domain::auth::{Clearance, Role};
use domain::ids::{AccountId, OrgId, PersonId};
use serde::Deserialize;
use store::accounts::{
    self, AccountDetail, AccountSummary, AuditFilter, AuditList, CreatedAccount, NewAccount,
};
use store::org::{self, Org};
use store::StoreError;

use crate::app::AppState;
use crate::auth::CsrfForm;
use crate::error::{AppError, AppResult};
use crate::pages::{Ctx, PageCtx};

mod settings;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/settings", get(settings::page).post(settings::save))
        .route("/admin/accounts", get(list).post(create))
        .route("/admin/accounts/new", get(new))
        .route("/admin/accounts/bulk", post(bulk))
        .route("/admin/accounts/{id}", get(detail))
        .route("/admin/accounts/{id}/grants", post(add_grant))
        .route("/admin/accounts/{id}/grants/remove", post(remove_grant))
        .route("/admin/accounts/{id}/clearance", post(set_clearance))
        .route("/admin/accounts/{id}/unlock", post(unlock))
        .route("/admin/accounts/{id}/reset-password", post(reset_password))
        .route("/admin/audit", get(audit))
        .route("/admin/audit.csv", get(audit_csv))
}

/// Roles and clearances the caller may hand out (never above their own).
pub fn grantable(ctx_scope: &store::Scope) -> (Vec<Role>, Vec<Clearance>) {
    let top = ctx_scope.top_role().unwrap_or(Role::Member);
    let roles = Role::ALL.iter().copied().filter(|r| *r <= top).collect();
    let clearances = Clearance::ALL
        .iter()
        .copied()
        .filter(|c| *c <= ctx_scope.clearance)
        .collect();
    (roles, clearances)
}

#[derive(Template)]
#[template(path = "admin/accounts.html")]
struct ListPage {
    ctx: PageCtx,
    accounts: Vec<AccountSummary>,
    orgs: Vec<Org>,
    roles: Vec<Role>,
    created: Vec<CreatedAccount>,
    error: Option<String>,
    /// Administers a province (its settings page is linked).
    province_admin: bool,
}

async fn list_page(
    st: &AppState,
    ctx: PageCtx,
    scope: &store::Scope,
    created: Vec<CreatedAccount>,
    error: Option<String>,
) -> AppResult<ListPage> {
    let accounts = accounts::list(&st.db, scope).await?;
    let orgs = org::all_visible(&st.db, scope, 300).await?;
    let (roles, _) = grantable(scope);
    let province_admin = !store::settings::provinces(&st.db, scope).await?.is_empty();
    Ok(ListPage {
        province_admin,
        ctx: ctx.with_nav("admin"),
        accounts,
        orgs,
        roles,
        created,
        error,
    })
}

async fn list(State(st): State<AppState>, Ctx(ctx, user): Ctx) -> AppResult<Response> {
    let page = list_page(&st, ctx, user.scope(), vec![], None).await?;
    page.ctx.render(&page)
}

#[derive(Debug, Deserialize, Default, Clone)]
#[serde(default)]
struct AccountForm {
    username: String,
    display_name: String,
    person_id: String,
    org_id: String,
    role: String,
    clearance: String,
    password: String,
}

#[derive(Template)]
#[template(path = "admin/account_form.html")]
struct FormPage {
    ctx: PageCtx,
    input: AccountForm,
    errors: domain::FieldErrors,
    orgs: Vec<Org>,
    roles: Vec<Role>,
    clearances: Vec<Clearance>,
}

impl FormPage {
    fn err(&self, f: &str) -> &str {
        self.errors.get(f).unwrap_or("")
    }
}

async fn form_page(
    st: &AppState,
    ctx: PageCtx,
    scope: &store::Scope,
    input: AccountForm,
    errors: domain::FieldErrors,
) -> AppResult<FormPage> {
    let orgs = org::all_visible(&st.db, scope, 300).await?;
    let (roles, clearances) = grantable(scope);
    Ok(FormPage {
        ctx: ctx.with_nav("admin"),
        input,
        errors,
        orgs,
        roles,
        clearances,
    })
}

async fn new(State(st): State<AppState>, Ctx(ctx, user): Ctx) -> AppResult<Response> {
    if !ctx.is_admin {
        return Err(AppError::Forbidden);
    }
    let input = AccountForm {
        role: "member".into(),
        clearance: "none".into(),
        ..Default::default()
    };
    let page = form_page(&st, ctx, user.scope(), input, domain::FieldErrors::new()).await?;
    page.ctx.render(&page)
}

/// Validates the account form into a `NewAccount`, or field errors.
pub fn validate_account(
    username: &str,
    display_name: &str,
    person_id: Option<i64>,
    org_id: Option<i64>,
    role: &str,
    clearance: &str,
    password: &str,
) -> Result<NewAccount, domain::FieldErrors> {
    let mut e = domain::FieldErrors::new();
    let username = username.trim();
    if username.len() < 3
        || username.len() > 60
        || !username
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-@".contains(c))
    {
        e.add(
            "username",
            "Tên đăng nhập từ 3 đến 60 ký tự: chữ không dấu, số, dấu chấm, gạch ngang, gạch dưới.",
        );
    }
    let display_name = e.take(
        "display_name",
        domain::text::required_text(display_name, 120),
    );
    let role = e.take("role", Role::parse(role));
    let clearance = e.take("clearance", Clearance::parse(clearance));
    if org_id.is_none() {
        e.add("org_id", "Chọn tổ chức được phân quyền.");
    }
    if let Err(err) =
        domain::auth::validate_password(password, username, display_name.as_deref().unwrap_or(""))
    {
        e.add("password", err);
    }
    match (display_name, role, clearance, org_id) {
        (Some(display_name), Some(role), Some(clearance), Some(org)) if e.is_empty() => {
            Ok(NewAccount {
                username: username.to_string(),
                display_name,
                person_id: person_id.map(PersonId),
                org_id: OrgId(org),
                role,
                clearance,
                password: password.to_string(),
            })
        }
        _ => Err(e),
    }
}

/// Maps a store refusal to the field it concerns.
fn account_error(e: StoreError, errors: &mut domain::FieldErrors) -> Result<(), AppError> {
    match e {
        StoreError::Conflict { .. } => errors.add("username", "Tên đăng nhập này đã có."),
        StoreError::Forbidden => errors.add(
            "role",
            "Không thể cấp quyền hoặc độ mật cao hơn của chính bạn.",
        ),
        StoreError::NotFound => errors.add(
            "org_id",
            "Tổ chức hoặc người này nằm ngoài phạm vi bạn quản trị.",
        ),
        StoreError::Rule(domain::Violation { message: m, .. }) => errors.add("password", m),
        other => return Err(other.into()),
    }
    Ok(())
}

async fn create(
    State(st): State<AppState>,
    Ctx(ctx, _): Ctx,
    f: CsrfForm<AccountForm>,
) -> AppResult<Response> {
    let scope = f.user.scope();
    if !scope.has_role(Role::Admin) {
        return Err(AppError::Forbidden);
    }
    let i = f.form;
    let person = i.person_id.trim().parse::<i64>().ok();
    let org = i.org_id.trim().parse::<i64>().ok();
    let mut errors = domain::FieldErrors::new();
    match validate_account(
        &i.username,
        &i.display_name,
        person,
        org,
        &i.role,
        &i.clearance,
        &i.password,
    ) {
        Ok(new) => match accounts::create(&st.db, scope, &new).await {
            Ok(id) => {
                return Ok(ctx.redirect(
                    &format!("/admin/accounts/{id}"),
                    "Đã tạo tài khoản. Người dùng phải đổi mật khẩu khi đăng nhập lần đầu.",
                ))
            }
            Err(e) => account_error(e, &mut errors)?,
        },
        Err(e) => errors = e,
    }
    let page = form_page(
        &st,
        ctx,
        scope,
        AccountForm {
            password: String::new(),
            ..i
        },
        errors,
    )
    .await?;
    page.ctx.render_invalid(&page)
}

#[derive(Template)]
#[template(path = "admin/account.html")]
struct DetailPage {
    ctx: PageCtx,
    d: AccountDetail,
    orgs: Vec<Org>,
    roles: Vec<Role>,
    clearances: Vec<Clearance>,
    is_self: bool,
    error: Option<String>,
}

async fn detail_page(
    st: &AppState,
    ctx: PageCtx,
    scope: &store::Scope,
    id: i64,
    error: Option<String>,
) -> AppResult<DetailPage> {
    let d = accounts::get(&st.db, scope, AccountId(id)).await?;
    let orgs = org::all_visible(&st.db, scope, 300).await?;
    let (roles, clearances) = grantable(scope);
    Ok(DetailPage {
        ctx: ctx.with_nav("admin"),
        is_self: id == scope.account_id.0,
        d,
        orgs,
        roles,
        clearances,
        error,
    })
}

async fn detail(
    State(st): State<AppState>,
    Ctx(ctx, user): Ctx,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let page = detail_page(&st, ctx, user.scope(), id, None).await?;
    page.ctx.render(&page)
}

/// Runs a change on an account and comes back to its page, with the refusal shown in Vietnamese.
async fn after_change(
    st: &AppState,
    ctx: PageCtx,
    scope: &store::Scope,
    id: i64,
    r: store::error::Result<()>,
    ok: &str,
) -> AppResult<Response> {
    let error = match r {
        Ok(()) => return Ok(ctx.redirect(&format!("/admin/accounts/{id}"), ok)),
        Err(StoreError::Forbidden) => {
            "Không thể cấp quyền hoặc độ mật cao hơn của chính bạn.".to_string()
        }
        Err(StoreError::Rule(domain::Violation { message: m, .. })) => m,
        Err(StoreError::NotFound) => return Err(AppError::NotFound),
        Err(e) => return Err(e.into()),
    };
    let page = detail_page(st, ctx, scope, id, Some(error)).await?;
    page.ctx.render_invalid(&page)
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
struct GrantForm {
    org_id: String,
    role: String,
}

fn parse_grant(f: &GrantForm) -> Result<(OrgId, Role), AppError> {
    let org = f
        .org_id
        .trim()
        .parse::<i64>()
        .map(OrgId)
        .map_err(|_| AppError::BadRequest("Tổ chức không hợp lệ.".into()))?;
    let role =
        Role::parse(&f.role).map_err(|_| AppError::BadRequest("Vai trò không hợp lệ.".into()))?;
    Ok((org, role))
}

async fn add_grant(
    State(st): State<AppState>,
    Ctx(ctx, _): Ctx,
    Path(id): Path<i64>,
    f: CsrfForm<GrantForm>,
) -> AppResult<Response> {
    let (org, role) = parse_grant(&f.form)?;
    let r = accounts::add_grant(&st.db, f.user.scope(), AccountId(id), org, role).await;
    after_change(&st, ctx, f.user.scope(), id, r, "Đã cấp quyền.").await
}

async fn remove_grant(
    State(st): State<AppState>,
    Ctx(ctx, _): Ctx,
    Path(id): Path<i64>,
    f: CsrfForm<GrantForm>,
) -> AppResult<Response> {
    let (org, role) = parse_grant(&f.form)?;
    let r = accounts::remove_grant(&st.db, f.user.scope(), AccountId(id), org, role).await;
    after_change(&st, ctx, f.user.scope(), id, r, "Đã thu hồi quyền.").await
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
struct ClearanceForm {
    clearance: String,
}

async fn set_clearance(
    State(st): State<AppState>,
    Ctx(ctx, _): Ctx,
    Path(id): Path<i64>,
    f: CsrfForm<ClearanceForm>,
) -> AppResult<Response> {
    let c = Clearance::parse(&f.form.clearance)
        .map_err(|_| AppError::BadRequest("Độ mật không hợp lệ.".into()))?;
    let r = accounts::set_clearance(&st.db, f.user.scope(), AccountId(id), c).await;
    after_change(
        &st,
        ctx,
        f.user.scope(),
        id,
        r,
        "Đã cập nhật quyền tiếp cận tài liệu mật.",
    )
    .await
}

#[derive(Debug, Deserialize)]
struct Empty {}

async fn unlock(
    State(st): State<AppState>,
    Ctx(ctx, _): Ctx,
    Path(id): Path<i64>,
    f: CsrfForm<Empty>,
) -> AppResult<Response> {
    let r = accounts::unlock(&st.db, f.user.scope(), AccountId(id)).await;
    after_change(&st, ctx, f.user.scope(), id, r, "Đã mở khóa tài khoản.").await
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
struct PasswordForm {
    password: String,
}

async fn reset_password(
    State(st): State<AppState>,
    Ctx(ctx, _): Ctx,
    Path(id): Path<i64>,
    f: CsrfForm<PasswordForm>,
) -> AppResult<Response> {
    let r = accounts::reset_password(&st.db, f.user.scope(), AccountId(id), &f.form.password).await;
    after_change(
        &st,
        ctx,
        f.user.scope(),
        id,
        r,
        "Đã đặt mật khẩu tạm; người dùng phải đổi khi đăng nhập.",
    )
    .await
}

async fn bulk(
    State(st): State<AppState>,
    Ctx(ctx, _): Ctx,
    f: CsrfForm<GrantForm>,
) -> AppResult<Response> {
    let scope = f.user.scope();
    let (org, role) = parse_grant(&f.form)?;
    let (created, error) = match accounts::bulk_create(&st.db, scope, org, role).await {
        Ok(c) => (c, None),
        Err(StoreError::Forbidden) => (
            vec![],
            Some("Không thể cấp vai trò cao hơn của chính bạn.".to_string()),
        ),
        Err(StoreError::NotFound) => return Err(AppError::NotFound),
        Err(e) => return Err(e.into()),
    };
    let page = list_page(&st, ctx, scope, created, error).await?;
    page.ctx.render(&page)
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
struct AuditQuery {
    action: Option<String>,
    entity: Option<String>,
    username: Option<String>,
    /// The page of entries older than this one (keyset, issue 12.B).
    before: Option<i64>,
}

impl AuditQuery {
    fn filter(&self) -> AuditFilter {
        let clean = |s: &Option<String>| {
            s.as_ref()
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        AuditFilter {
            action: clean(&self.action),
            entity: clean(&self.entity),
            username: clean(&self.username),
        }
    }
}

#[derive(Template)]
#[template(path = "admin/audit.html")]
struct AuditPage {
    ctx: PageCtx,
    q: AuditFilter,
    log: AuditList,
    query: String,
    /// Whether this is a later page (a link back to the newest is shown).
    older: bool,
}

async fn audit(
    Reads(reads): Reads,
    Ctx(ctx, user): Ctx,
    Query(q): Query<AuditQuery>,
) -> AppResult<Response> {
    let filter = q.filter();
    let log = accounts::audit_log(&reads, user.scope(), &filter, q.before, 100).await?;
    let query = [
        ("action", &filter.action),
        ("entity", &filter.entity),
        ("username", &filter.username),
    ]
    .iter()
    .filter_map(|(k, v)| {
        v.as_ref()
            .map(|v| format!("{k}={}", crate::study::url_encode(v)))
    })
    .collect::<Vec<_>>()
    .join("&");
    let ctx = ctx.with_nav("admin");
    ctx.render(&AuditPage {
        ctx: ctx.clone(),
        q: filter,
        log,
        query,
        older: q.before.is_some(),
    })
}

/// The filtered audit log as CSV (UTF-8 with BOM, so Excel reads the Vietnamese right).
async fn audit_csv(
    Reads(reads): Reads,
    Ctx(_, user): Ctx,
    Query(q): Query<AuditQuery>,
) -> AppResult<Response> {
    // The newest 100,000 entries of the filter (the file says so when there are more).
    let log = accounts::audit_log(&reads, user.scope(), &q.filter(), None, 100_000).await?;
    let cut = log.next_before.is_some();
    let mut out = String::from(
        "\u{feff}Thời điểm,Tài khoản,Địa chỉ,Hành động,Đối tượng,Mã,Tổ chức,Chi tiết,Mã hành động,Mã đối tượng\r\n",
    );
    for e in log.items {
        let row = [
            crate::fmt::datetime(&e.at),
            e.username.unwrap_or_default(),
            e.ip,
            crate::fmt::action_label(&e.action).to_string(),
            crate::fmt::entity_label(&e.entity).to_string(),
            e.entity_id.map(|i| i.to_string()).unwrap_or_default(),
            e.org_id.map(|i| i.to_string()).unwrap_or_default(),
            e.detail,
            // The machine codes, for filtering in a spreadsheet (issue 11.18).
            e.action,
            e.entity,
        ];
        out.push_str(
            &row.iter()
                .map(|f| crate::fmt::csv_cell(f))
                .collect::<Vec<_>>()
                .join(","),
        );
        out.push_str("\r\n");
    }
    if cut {
        out.push_str("Tệp chỉ gồm 100.000 mục mới nhất; hãy lọc theo hành động, đối tượng hoặc tài khoản để xuất các mục cũ hơn.\r\n");
    }
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"nhat-ky.csv\"",
            ),
        ],
        out,
    )
        .into_response())
}
