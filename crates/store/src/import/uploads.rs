//! Uploaded files kept between the check and the confirmation.

use domain::ids::OrgId;

use crate::db::Db;
use crate::error::{Result, StoreError};
use crate::scope::Scope;
use crate::{db_run, now};

/// A stored upload.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Upload {
    pub id: i64,
    pub kind: String,
    pub target_org_id: i64,
    pub file_name: String,
    pub content: Vec<u8>,
}

/// Keeps an uploaded file until it is confirmed (older uploads of the account are dropped).
pub async fn save_upload(
    db: &Db,
    scope: &Scope,
    kind: &str,
    target: OrgId,
    file_name: &str,
    content: &[u8],
) -> Result<i64> {
    let (id,): (i64,) = db_run!(db, p => {
        let mut tx = p.begin().await?;
        sqlx::query("DELETE FROM import_uploads WHERE account_id = $1").bind(scope.account_id.0).execute(&mut *tx).await?;
        let row = sqlx::query_as("INSERT INTO import_uploads (account_id, kind, target_org_id, file_name, content, created_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id")
            .bind(scope.account_id.0).bind(kind).bind(target.0).bind(file_name).bind(content).bind(now()).fetch_one(&mut *tx).await?;
        tx.commit().await?;
        Ok::<_, StoreError>(row)
    })?;
    Ok(id)
}

/// The caller's own upload.
pub async fn get_upload(db: &Db, scope: &Scope, id: i64) -> Result<Upload> {
    db_run!(db, p => sqlx::query_as::<_, Upload>("SELECT id, kind, target_org_id, file_name, content FROM import_uploads WHERE id = $1 AND account_id = $2")
        .bind(id).bind(scope.account_id.0).fetch_optional(p).await)?
        .ok_or(StoreError::NotFound)
}

/// Forgets an upload once imported.
pub async fn drop_upload(db: &Db, id: i64) -> Result<()> {
    crate::db_exec!(db, p => sqlx::query("DELETE FROM import_uploads WHERE id = $1").bind(id).execute(p).await)?;
    Ok(())
}
