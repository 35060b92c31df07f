//! The organization tree from a file: code, name, parent code, level name, kind (issue 5).

use std::collections::HashMap;

use domain::ids::OrgId;
use domain::org::import::{self, Cell, CellError, OrgRecord};
use domain::org::OrgKind;
use domain::text;

use super::Sheet;
use crate::db::Db;
use crate::error::Result;
use crate::org::{self, NewOrg};
use crate::scope::Scope;
use crate::{auth, db_run};

/// Reads an organization-tree file: code, name, parent code, level name, kind.
pub fn org_records(sheet: &Sheet) -> std::result::Result<Vec<OrgRecord>, Vec<CellError>> {
    let col = |names: &[&str]| {
        sheet
            .headings
            .iter()
            .position(|h| names.contains(&text::fold(h).as_str()))
    };
    let code = col(&["ma", "ma to chuc", "ma don vi"]);
    let name = col(&["ten", "ten to chuc", "ten don vi"]);
    let parent = col(&[
        "ma cap tren",
        "ma to chuc cap tren",
        "ma don vi cap tren",
        "cap tren",
    ]);
    let level = col(&["cap", "ten cap", "cap to chuc"]);
    let kind = col(&["loai", "loai to chuc"]);
    let (Some(code), Some(name)) = (code, name) else {
        return Err(vec![CellError {
            row: 1,
            column: String::new(),
            message: "cần các cột «Mã» và «Tên» (và «Mã cấp trên», «Cấp», «Loại»)".into(),
        }]);
    };
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for (row, cells) in &sheet.rows {
        let get = |i: Option<usize>| {
            i.and_then(|i| cells.get(i))
                .map(Cell::text)
                .unwrap_or_default()
        };
        let kind_text = get(kind);
        let kind = if kind_text.is_empty() {
            Ok(OrgKind::Cell)
        } else {
            OrgKind::parse(&kind_text).or_else(|_| {
                OrgKind::ALL
                    .iter()
                    .copied()
                    .find(|k| text::fold(k.label()) == text::fold(&kind_text))
                    .ok_or(domain::RuleError::InvalidChoice)
            })
        };
        let (c, n) = (get(Some(code)), get(Some(name)));
        if c.is_empty() || n.is_empty() {
            errors.push(CellError {
                row: *row,
                column: if c.is_empty() {
                    "Mã".into()
                } else {
                    "Tên".into()
                },
                message: "không được để trống".into(),
            });
            continue;
        }
        match kind {
            Ok(kind) => out.push(OrgRecord {
                row: *row,
                code: c,
                name: n,
                parent_code: Some(get(parent)).filter(|p| !p.is_empty()),
                // Empty: named when created, by the province's level names (R8.3).
                level_name: get(level),
                kind,
            }),
            Err(_) => errors.push(CellError {
                row: *row,
                column: "Loại".into(),
                message: format!("'{kind_text}' không phải loại tổ chức"),
            }),
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

/// Imports an organization tree under the caller's subtree: new codes are created (parents
/// first), existing codes are left as they are. Checked whole before anything is written.
pub async fn import_orgs(
    db: &Db,
    scope: &Scope,
    sheet: &Sheet,
    dry_run: bool,
) -> Result<std::result::Result<usize, Vec<CellError>>> {
    let records = match org_records(sheet) {
        Ok(r) => r,
        Err(e) => return Ok(Err(e)),
    };
    let existing: Vec<(String, i64)> =
        db_run!(db, p => sqlx::query_as("SELECT code, id FROM orgs").fetch_all(p).await)?;
    let existing: HashMap<String, i64> = existing.into_iter().collect();
    let ordered = match import::order_orgs(records, |c| existing.contains_key(c)) {
        Ok(o) => o,
        Err(e) => return Ok(Err(e)),
    };
    let root_admin = is_root_admin(db, scope).await?;
    let mut errors = Vec::new();
    for r in &ordered {
        if existing.contains_key(&r.code) {
            continue;
        }
        match r.parent_code.as_ref().and_then(|p| existing.get(p)) {
            Some(parent)
                if !scope
                    .covers(db, OrgId(*parent), crate::scope::WRITE)
                    .await? =>
            {
                errors.push(CellError {
                    row: r.row,
                    column: "Mã cấp trên".into(),
                    message: "tổ chức cấp trên nằm ngoài phạm vi bạn quản lý".into(),
                });
            }
            None if r.parent_code.is_none() && !root_admin => {
                // Issue 10.5: a commune admin's parentless row made a root outside every
                // subtree, invisible to the province admin.
                errors.push(CellError {
                    row: r.row,
                    column: "Mã cấp trên".into(),
                    message: "chỉ quản trị viên của tổ chức cấp cao nhất mới tạo được tổ chức cấp cao nhất; hãy ghi mã cấp trên".into(),
                });
            }
            _ => {}
        }
    }
    if !errors.is_empty() {
        return Ok(Err(errors));
    }
    let new: Vec<&OrgRecord> = ordered
        .iter()
        .filter(|r| !existing.contains_key(&r.code))
        .collect();
    if dry_run {
        return Ok(Ok(new.len()));
    }
    let mut ids: HashMap<String, i64> = existing;
    // Where each new branch joins the tree: a new root, or a new child of an existing org.
    let mut branches: Vec<(OrgId, usize)> = Vec::new();
    let mut branch_of: HashMap<String, usize> = HashMap::new();
    // The organizations, the grants on new roots and the audit entries in one transaction
    // (issue 13.7): all of the tree or nothing, and never a branch without its entry.
    db_run!(db, p => {
        let mut tx = p.begin().await?;
        for r in &new {
            let parent = r
                .parent_code
                .as_ref()
                .and_then(|p| ids.get(p))
                .map(|p| OrgId(*p));
            let id = OrgId(org::insert_org_in!(tx, &NewOrg {
                parent,
                code: &r.code,
                name: &r.name,
                level_name: &r.level_name,
                kind: r.kind,
            }));
            ids.insert(r.code.clone(), id.0);
            let inherited = r
                .parent_code
                .as_ref()
                .and_then(|p| branch_of.get(p))
                .copied();
            let branch = match inherited {
                Some(b) => b,
                None => {
                    if parent.is_none() {
                        // A new root lies in nobody's subtree: its creator administers it, so
                        // that every organization created lies in the caller's subtree.
                        sqlx::query(auth::INSERT_GRANT).bind(scope.account_id.0).bind(id.0)
                            .bind(domain::auth::Role::Admin.code()).execute(&mut *tx).await?;
                    }
                    branches.push((id, 0));
                    branches.len() - 1
                }
            };
            branches[branch].1 += 1;
            branch_of.insert(r.code.clone(), branch);
        }
        // One audit entry per new branch, on the branch's own organization, so that the admins
        // above it see the import in their log.
        for (org, count) in &branches {
            crate::audit_in!(&mut *tx, scope, "import", "orgs", org.0, Some(*org), &format!("{count} organizations"))?;
        }
        tx.commit().await
    })?;
    auth::forget_sessions();
    Ok(Ok(new.len()))
}

/// Does the caller administer a top-level organization (the only callers who may add one)?
async fn is_root_admin(db: &Db, scope: &Scope) -> Result<bool> {
    let (n,): (i64,) = db_run!(db, p => sqlx::query_as(
        "SELECT COUNT(*) FROM role_grants g JOIN orgs o ON o.id = g.org_id WHERE g.account_id = $1 AND g.role = 'admin' AND o.parent_id IS NULL")
        .bind(scope.account_id.0).fetch_one(p).await)?;
    Ok(n > 0)
}
