//! The resolution catalog. Classified entries are filtered out in SQL for users without
//! clearance, so their titles never leave the database for them (R2.8).

use chrono::NaiveDate;
use domain::ids::{OrgId, ResolutionId};
use domain::resolutions::{Classification, NewResolution, ResolutionKind};
use domain::text;

use crate::db::Db;
use crate::error::{Result, StoreError};
use crate::scope::{Scope, WRITE};
use crate::{auth, db_run, now, Page, Paging};

/// A catalog entry as shown.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Resolution {
    pub id: i64,
    pub owner_org_id: i64,
    /// resolution, directive, conclusion, regulation, guideline
    pub kind: String,
    pub number: String,
    pub title: String,
    pub issuing_body: String,
    pub released_on: NaiveDate,
    /// public, confidential, secret, top_secret
    pub classification: String,
    pub published_on: Option<NaiveDate>,
    pub summary: Option<String>,
    /// Another entry the caller can see has the same number and issuer (issue 10.6: numbers are
    /// unique only within what a caller can see, so a cleared reader is shown the pair).
    #[sqlx(default)]
    pub possible_duplicate: bool,
}

impl Resolution {
    pub fn kind_label(&self) -> &'static str {
        ResolutionKind::parse(&self.kind)
            .map(ResolutionKind::label)
            .unwrap_or("")
    }
    /// Kind and number as a heading ("Chỉ thị 08-CT/TU"), without saying the kind twice when
    /// the number already does ("Nghị quyết Đại hội XIV", issue 11.14).
    pub fn display_name(&self) -> String {
        let kind = self.kind_label();
        if text::fold(&self.number).starts_with(&text::fold(kind)) {
            self.number.clone()
        } else {
            format!("{kind} {}", self.number)
        }
    }
    pub fn classification_label(&self) -> &'static str {
        Classification::parse(&self.classification)
            .map(Classification::label)
            .unwrap_or("")
    }
    pub fn is_classified(&self) -> bool {
        Classification::parse(&self.classification).map_or(true, Classification::is_classified)
    }
    /// R6.1: publication overdue as of today, with the deadline in days.
    pub fn publication_overdue(&self, deadline_days: u32) -> bool {
        Classification::parse(&self.classification).is_ok_and(|c| {
            domain::resolutions::publication_overdue(
                c,
                self.released_on,
                self.published_on,
                deadline_days,
                chrono::Utc::now().date_naive(),
            )
        })
    }
}

const COLUMNS: &str = "r.id, r.owner_org_id, r.kind, r.number, r.title, r.issuing_body, r.released_on, r.classification, r.published_on, r.summary";

/// [`COLUMNS`] and whether another entry this caller can see has the same number and issuer
/// (an index probe on `resolutions_number_level` per row of a page).
fn columns_with_duplicates(scope: &Scope) -> String {
    format!(
        "{COLUMNS}, EXISTS (SELECT 1 FROM resolutions d WHERE d.number = r.number AND d.issuing_body = r.issuing_body \
         AND d.id <> r.id AND {}) AS possible_duplicate",
        scope.classification_sql("d.classification")
    )
}

/// Is the number already held by an entry this caller can see (other than `except`)? An entry
/// the caller may not see never answers "taken" (issue 10.6): the answer is the one for a
/// number nobody holds.
async fn number_taken(db: &Db, scope: &Scope, r: &NewResolution, except: i64) -> Result<()> {
    let sql = format!(
        "SELECT COUNT(*) FROM resolutions r WHERE r.number = $1 AND r.issuing_body = $2 AND r.id <> $3 AND {}",
        scope.classification_sql("r.classification")
    );
    let (n,): (i64,) = db_run!(db, p => sqlx::query_as(&sql).bind(&r.number).bind(&r.issuing_body).bind(except).fetch_one(p).await)?;
    if n > 0 {
        return Err(StoreError::Conflict { what: "number" });
    }
    Ok(())
}

/// The folded text searched: number and title, so "144-qd" finds "144-QĐ/TW".
fn search_text(r: &NewResolution) -> String {
    text::fold(&format!("{} {}", r.number, r.title))
}

/// Filter of the catalog.
#[derive(Debug, Clone, Default)]
pub struct ResolutionFilter {
    pub q: Option<String>,
    pub kind: Option<ResolutionKind>,
}

/// The entries this caller may see, newest first.
pub async fn list(
    db: &Db,
    scope: &Scope,
    f: &ResolutionFilter,
    paging: Paging,
) -> Result<Page<Resolution>> {
    let wh = format!(
        "{} AND ($1 = '%%' OR r.search_folded LIKE $1) AND ($2 = '' OR r.kind = $2)",
        scope.classification_sql("r.classification")
    );
    let like = format!(
        "%{}%",
        f.q.as_deref()
            .map(text::fold)
            .unwrap_or_default()
            .replace(['%', '_'], "")
    );
    let kind = f.kind.map(|k| k.code()).unwrap_or("");
    let count_sql = format!("SELECT COUNT(*) FROM resolutions r WHERE {wh}");
    let list_sql = format!("SELECT {} FROM resolutions r WHERE {wh} ORDER BY r.released_on DESC, r.id DESC LIMIT $3 OFFSET $4", columns_with_duplicates(scope));
    let (total, items) = db_run!(db, p => {
        let (total,): (i64,) = sqlx::query_as(&count_sql).bind(&like).bind(kind).fetch_one(p).await?;
        let items = sqlx::query_as::<_, Resolution>(&list_sql).bind(&like).bind(kind).bind(paging.per_page).bind(paging.offset()).fetch_all(p).await?;
        Ok::<_, StoreError>((total, items))
    })?;
    Ok(Page {
        items,
        total,
        page: paging.page,
        per_page: paging.per_page,
    })
}

/// One entry; `NotFound` when it does not exist or the caller is not cleared for it.
pub async fn get(db: &Db, scope: &Scope, id: ResolutionId) -> Result<Resolution> {
    let sql = format!(
        "SELECT {} FROM resolutions r WHERE r.id = $1 AND {}",
        columns_with_duplicates(scope),
        scope.classification_sql("r.classification")
    );
    let r =
        db_run!(db, p => sqlx::query_as::<_, Resolution>(&sql).bind(id.0).fetch_optional(p).await)?
            .ok_or(StoreError::NotFound)?;
    if r.is_classified() {
        // Every read of a classified record is audited.
        auth::audit(
            db,
            scope,
            "read",
            "resolution",
            r.id,
            Some(OrgId(r.owner_org_id)),
            "",
        )
        .await?;
    }
    Ok(r)
}

/// Several entries by id, only those visible to the caller.
pub async fn get_many(db: &Db, scope: &Scope, ids: &[i64]) -> Result<Vec<Resolution>> {
    if ids.is_empty() {
        return Ok(vec![]);
    }
    let sql = format!(
        "SELECT {COLUMNS} FROM resolutions r WHERE r.id IN ({}) AND {} ORDER BY r.released_on DESC",
        crate::db::placeholders(1, ids.len()),
        scope.classification_sql("r.classification")
    );
    db_run!(db, p => {
        let mut q = sqlx::query_as::<_, Resolution>(&sql);
        for id in ids {
            q = q.bind(*id);
        }
        Ok(q.fetch_all(p).await?)
    })
}

/// Adds an entry to the catalog, owned by `owner` (the caller must organize there).
pub async fn create(
    db: &Db,
    scope: &Scope,
    owner: OrgId,
    r: &NewResolution,
) -> Result<ResolutionId> {
    scope.require(db, owner, WRITE).await?;
    if !r.classification.visible_to(scope.clearance) {
        // Nobody records an entry they would not be allowed to read.
        return Err(StoreError::rule(
            "clearance_insufficient",
            "Bạn không được cấp quyền tiếp cận độ mật này.".into(),
        ));
    }
    number_taken(db, scope, r, 0).await?;
    let sql = "INSERT INTO resolutions (owner_org_id, kind, number, title, search_folded, issuing_body, released_on, classification, published_on, summary, created_at) \
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id";
    let id = db_run!(db, p => {
        let mut tx = p.begin().await?;
        let (id,): (i64,) = sqlx::query_as(sql)
            .bind(owner.0).bind(r.kind.code()).bind(&r.number).bind(&r.title).bind(search_text(r)).bind(&r.issuing_body)
            .bind(r.released_on).bind(r.classification.code()).bind(r.published_on).bind(&r.summary).bind(now())
            .fetch_one(&mut *tx).await.map_err(StoreError::unique("number"))?;
        crate::audit_in!(&mut *tx, scope, "create", "resolution", id, Some(owner), "")?;
        tx.commit().await?;
        Ok::<_, StoreError>(id)
    })?;
    Ok(ResolutionId(id))
}

/// Changes an entry; the caller must organize at its owner.
pub async fn update(db: &Db, scope: &Scope, id: ResolutionId, r: &NewResolution) -> Result<()> {
    let old = get(db, scope, id).await?;
    scope.require(db, OrgId(old.owner_org_id), WRITE).await?;
    if !r.classification.visible_to(scope.clearance) {
        return Err(StoreError::rule(
            "clearance_insufficient",
            "Bạn không được cấp quyền tiếp cận độ mật này.".into(),
        ));
    }
    number_taken(db, scope, r, id.0).await?;
    let sql = "UPDATE resolutions SET kind = $2, number = $3, title = $4, search_folded = $5, issuing_body = $6, released_on = $7, \
               classification = $8, published_on = $9, summary = $10 WHERE id = $1";
    // Titles stay out of the log: an admin reading it may not be cleared for the entry.
    let detail = format!("classification before: {}", old.classification);
    db_run!(db, p => {
        let mut tx = p.begin().await?;
        sqlx::query(sql)
            .bind(id.0).bind(r.kind.code()).bind(&r.number).bind(&r.title).bind(search_text(r)).bind(&r.issuing_body)
            .bind(r.released_on).bind(r.classification.code()).bind(r.published_on).bind(&r.summary)
            .execute(&mut *tx).await.map_err(StoreError::unique("number"))?;
        crate::audit_in!(&mut *tx, scope, "update", "resolution", id.0, Some(OrgId(old.owner_org_id)), &detail)?;
        tx.commit().await
    })?;
    Ok(())
}
