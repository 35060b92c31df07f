//! A province's own first start (issue 13.1): the root organization and the first administrator
//! on an empty database, with no demo data. The tree and the members then come in by import.

use domain::auth::{Clearance, Role};
use domain::ids::{AccountId, OrgId};
use domain::org::OrgKind;
use domain::text;

use crate::db::Db;
use crate::error::{Result, StoreError};
use crate::{auth, db_run, org};

/// What `quantriet init` asks for.
#[derive(Debug, Clone)]
pub struct FirstStart {
    /// The root organization's code, e.g. `T01`.
    pub org_code: String,
    /// Its name, e.g. "Đảng bộ tỉnh Gia Lai".
    pub org_name: String,
    /// The name of its level, e.g. "Tỉnh ủy" (the tree's level names are data).
    pub level_name: String,
    pub username: String,
    pub display_name: String,
    pub password: String,
    pub clearance: Clearance,
}

/// Longest organization code, as the import takes it.
const CODE_MAX: usize = 32;

/// Is there an account with the admin role anywhere?
pub async fn has_admin(db: &Db) -> Result<bool> {
    let admin = Role::Admin.code();
    let row: Option<(i64,)> = db_run!(db, p => sqlx::query_as("SELECT account_id FROM role_grants WHERE role = $1 LIMIT 1")
        .bind(admin).fetch_optional(p).await)?;
    Ok(row.is_some())
}

/// Creates the root organization and its first administrator. Refused when the database already
/// has an administrator (`already_initialized`) or an organization with that code; the password
/// follows the rules of every account, and the administrator enrolls a second factor at the
/// first login, as every admin does.
pub async fn init(db: &Db, f: &FirstStart) -> Result<(OrgId, AccountId)> {
    let code = f.org_code.trim();
    if code.is_empty()
        || code.chars().count() > CODE_MAX
        || code
            .chars()
            .any(|c| c.is_whitespace() || text::forbidden_char(c))
    {
        return Err(StoreError::rule(
            "org_code_invalid",
            format!("mã tổ chức phải có từ 1 đến {CODE_MAX} ký tự, không có khoảng trắng"),
        ));
    }
    let name = text::required_text(&f.org_name, 200)?;
    let level = text::required_text(&f.level_name, 100)?;
    let username = text::required_text(&f.username, 64)?;
    let display = text::required_text(&f.display_name, 200)?;
    domain::auth::validate_password(&f.password, &username, &display)?;
    if has_admin(db).await? {
        return Err(StoreError::rule(
            "already_initialized",
            "cơ sở dữ liệu đã có quản trị viên: khởi tạo chỉ làm một lần".into(),
        ));
    }
    let org = org::insert_org(
        db,
        &org::NewOrg {
            parent: None,
            code,
            name: &name,
            level_name: &level,
            kind: OrgKind::PartyCommittee,
        },
    )
    .await?;
    let account =
        auth::create_account(db, &username, &f.password, &display, None, f.clearance).await?;
    auth::grant(db, account, org, Role::Admin).await?;
    Ok((org, account))
}
