//! Action programs and implementation plans (issue 14.1–14.3; R1.1, R1.2, R7.x, R8.2).
//!
//! Scope: the owning organization's subtree (presenter and above) sees the whole plan; an
//! organization that leads or coordinates an item sees the plan's heading and its own items,
//! never a neighbour's. A plan takes the highest classification of its resolutions (R2.8): a
//! caller not cleared for it does not see it at all, title included, and it takes no files.
//!
//! Counts are kept on write (`item_count`, `item_done_count`, `amendment_count`,
//! `report_count`) and so is `open_due_on`, the earliest due date of an unfinished item, so that
//! "overdue" is an indexed comparison. Every change is audited in its own transaction.

use chrono::NaiveDate;
use domain::ids::{OrgId, PersonId, PlanId, PlanItemId};
use domain::plans::action_plans::{
    ItemState, NewAmendment, NewItem, NewPlan, PlanKind, PlanStatus, Progress, Step,
};
use domain::resolutions::Classification;

use crate::db::Db;
use crate::error::{Result, StoreError};
use crate::plans::tasks::today;
use crate::scope::{Scope, ATTEND, READ, WRITE};
use crate::{db_run, now};

/// Rows of a list page at most.
pub const PAGE_MAX: i64 = 200;

/// A plan as its pages show it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Plan {
    #[sqlx(try_from = "i64")]
    pub id: PlanId,
    #[sqlx(try_from = "i64")]
    pub org_id: OrgId,
    pub org_name: String,
    pub kind: String,
    pub title: String,
    pub summary: Option<String>,
    pub responsibility: Option<String>,
    pub inspection: Option<String>,
    pub leader_person_id: i64,
    pub leader_name: String,
    pub classification: String,
    pub status: String,
    pub approval_body: Option<String>,
    pub approved_on: Option<NaiveDate>,
    pub decision_number: Option<String>,
    pub number: Option<String>,
    pub issued_on: Option<NaiveDate>,
    pub interim_on: Option<NaiveDate>,
    pub interim_note: Option<String>,
    pub final_on: Option<NaiveDate>,
    pub final_note: Option<String>,
    pub item_count: i64,
    pub item_done_count: i64,
    pub open_due_on: Option<NaiveDate>,
    pub amendment_count: i64,
}

impl Plan {
    pub fn status(&self) -> PlanStatus {
        PlanStatus::parse(&self.status).unwrap_or(PlanStatus::Draft)
    }
    pub fn kind(&self) -> PlanKind {
        PlanKind::parse(&self.kind).unwrap_or(PlanKind::Plan)
    }
    pub fn classified(&self) -> bool {
        self.classification != Classification::Public.code()
    }
    /// Percent of the items done (rounded down).
    pub fn percent(&self) -> i64 {
        domain::plans::tasks::percent_done(self.item_done_count, self.item_count)
    }
    /// An unfinished item is past its due date.
    pub fn overdue(&self, today: NaiveDate) -> bool {
        self.open_due_on.is_some_and(|d| d < today)
    }
    /// The label of the collective that passed it.
    pub fn approval_label(&self) -> &'static str {
        self.approval_body
            .as_deref()
            .and_then(|b| domain::plans::action_plans::ApprovalBody::parse(b).ok())
            .map_or("", |b| b.label())
    }
}

/// An item of a plan with its lead unit.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Item {
    #[sqlx(try_from = "i64")]
    pub id: PlanItemId,
    pub kind: String,
    pub title: String,
    #[sqlx(try_from = "i64")]
    pub lead_org_id: OrgId,
    pub lead_name: String,
    pub resources: Option<String>,
    pub responsible: Option<String>,
    pub starts_on: NaiveDate,
    pub due_on: NaiveDate,
    pub percent: i64,
    pub done_on: Option<NaiveDate>,
    pub last_report_on: Option<NaiveDate>,
    pub report_count: i64,
    pub amendment_id: Option<i64>,
    /// The caller may report on it (secretary or above on the lead unit).
    #[sqlx(default)]
    pub can_report: bool,
    /// The coordinating units' names, joined.
    #[sqlx(default)]
    pub coordinators: String,
}

impl Item {
    pub fn state(&self, today: NaiveDate) -> ItemState {
        ItemState::of(self.starts_on, self.due_on, self.done_on, today)
    }
    pub fn kind_label(&self) -> &'static str {
        domain::plans::action_plans::ItemKind::parse(&self.kind).map_or("", |k| k.label())
    }
}

/// A progress report on an item (the evidence file's bytes are read on their own).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ItemReport {
    pub id: i64,
    pub item_id: i64,
    pub org_name: String,
    pub reported_on: NaiveDate,
    pub percent: i64,
    pub note: Option<String>,
    pub file_name: Option<String>,
}

/// An organization asked for its opinion, and its answer.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Consultation {
    pub id: i64,
    pub round: i64,
    pub body_name: String,
    pub asked_on: NaiveDate,
    pub answered_on: Option<NaiveDate>,
    pub answer: Option<String>,
}

/// A recorded amendment of a passed plan.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Amendment {
    pub id: i64,
    pub number: String,
    pub decided_on: NaiveDate,
    pub reason: String,
}

/// An item led or coordinated by one of the caller's organizations ("Việc của đơn vị").
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AssignedItem {
    pub item_id: i64,
    pub plan_id: i64,
    pub plan_title: String,
    pub title: String,
    pub org_id: i64,
    pub org_name: String,
    pub lead: bool,
    pub starts_on: NaiveDate,
    pub due_on: NaiveDate,
    pub percent: i64,
}

impl AssignedItem {
    pub fn state(&self, today: NaiveDate) -> ItemState {
        ItemState::of(self.starts_on, self.due_on, None, today)
    }
    pub fn key(&self) -> String {
        format!("{}_{}_{}", self.due_on, self.item_id, self.org_id)
    }
}

/// An evidence file.
#[derive(Debug, Clone)]
pub struct Evidence {
    pub name: String,
    pub content_type: String,
    pub bytes: Vec<u8>,
}

/// A person who may answer for a plan (R1.1).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Leader {
    #[sqlx(try_from = "i64")]
    pub id: PersonId,
    pub full_name: String,
    pub positions: String,
}

/// The list's filters.
#[derive(Debug, Clone, Default)]
pub struct PlanFilter {
    pub status: Option<PlanStatus>,
    /// Plans owned by this organization.
    pub org: Option<OrgId>,
    /// Plans with an item led by this organization.
    pub lead_org: Option<OrgId>,
    pub leader: Option<i64>,
    pub overdue: bool,
}

const PLAN_COLUMNS: &str = "p.id, p.org_id, o.name AS org_name, p.kind, p.title, p.summary, p.responsibility, p.inspection, \
     p.leader_person_id, l.full_name AS leader_name, p.classification, p.status, p.approval_body, p.approved_on, \
     p.decision_number, p.number, p.issued_on, p.interim_on, p.interim_note, p.final_on, p.final_note, \
     p.item_count, p.item_done_count, p.open_due_on, p.amendment_count";
const PLAN_FROM: &str =
    "plans p JOIN orgs o ON o.id = p.org_id JOIN people l ON l.id = p.leader_person_id";

fn json_list(ids: impl Iterator<Item = i64>) -> Result<String> {
    serde_json::to_string(&ids.collect::<Vec<_>>()).map_err(|e| StoreError::Internal(e.to_string()))
}

/// The resolutions of `p` the caller may see, and the highest classification among them; a
/// resolution not visible is refused as not found (its existence is not told).
async fn check_heading(db: &Db, scope: &Scope, org: OrgId, p: &NewPlan) -> Result<&'static str> {
    let found = crate::resolutions::get_many(db, scope, &p.resolution_ids).await?;
    if found.len() != p.resolution_ids.len() {
        return Err(StoreError::rule(
            "resolution_not_found",
            "Nghị quyết, chỉ thị: có mục không tìm thấy trong danh mục.".into(),
        ));
    }
    let top = found
        .iter()
        .filter_map(|r| Classification::parse(&r.classification).ok())
        .max()
        .unwrap_or(Classification::Public);
    let (n,): (i64,) = db_run!(db, q => sqlx::query_as(
        "SELECT COUNT(*) FROM people pe JOIN org_closure c ON c.descendant_id = pe.org_id \
         WHERE pe.id = $1 AND c.ancestor_id = $2")
        .bind(p.leader_person_id).bind(org.0).fetch_one(q).await)?;
    if n == 0 {
        return Err(StoreError::rule(
            "leader_outside",
            "Người chịu trách nhiệm: phải là đảng viên của tổ chức chủ trì kế hoạch.".into(),
        ));
    }
    Ok(top.code())
}

/// Writes a new draft plan of `org` (the caller organizes there); audited.
pub async fn create(db: &Db, scope: &Scope, org: OrgId, p: &NewPlan) -> Result<PlanId> {
    scope.require(db, org, WRITE).await?;
    let classification = check_heading(db, scope, org, p).await?;
    let list = json_list(p.resolution_ids.iter().copied())?;
    let link = format!(
        "INSERT INTO plan_resolutions (plan_id, resolution_id, province_id) SELECT $1, r.id, $2 FROM resolutions r WHERE r.id IN ({})",
        db.json_ints(3)
    );
    let at = now();
    db_run!(db, c => {
        let mut tx = c.begin().await?;
        let (id, province): (i64, i64) = sqlx::query_as(
            "INSERT INTO plans (org_id, province_id, kind, title, summary, responsibility, inspection, leader_person_id, \
             classification, created_by, created_at, updated_at) \
             SELECT o.id, o.province_id, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10 FROM orgs o WHERE o.id = $1 RETURNING id, province_id")
            .bind(org.0).bind(p.kind.code()).bind(&p.title).bind(p.summary.as_deref()).bind(p.responsibility.as_deref())
            .bind(p.inspection.as_deref()).bind(p.leader_person_id).bind(classification).bind(scope.account_id.0).bind(at)
            .fetch_one(&mut *tx).await?;
        sqlx::query(&link).bind(id).bind(province).bind(&list).execute(&mut *tx).await?;
        crate::audit_in!(&mut *tx, scope, "create", "plan", id, Some(org), &p.title)?;
        tx.commit().await?;
        Ok::<_, StoreError>(PlanId(id))
    })
}

/// Checks that `amendment` is one of `plan`'s when the plan is past editing; `Ok(None)` while it
/// is still a draft or in consultation.
async fn edit_allowed(db: &Db, plan: &Plan, amendment: Option<i64>) -> Result<Option<i64>> {
    if plan.status().open_for_edit() {
        return Ok(None);
    }
    let Some(a) = amendment else {
        return Err(StoreError::rule(
            "amendment_required",
            "Sửa đổi: kế hoạch đã được thông qua chỉ được sửa theo một văn bản sửa đổi, bổ sung đã ghi (chọn văn bản sửa đổi).".into(),
        ));
    };
    let found: Option<(i64,)> = db_run!(db, q => sqlx::query_as(
        "SELECT id FROM plan_amendments WHERE id = $1 AND plan_id = $2").bind(a).bind(plan.id.0).fetch_optional(q).await)?;
    match found {
        Some(_) => Ok(Some(a)),
        None => Err(StoreError::rule(
            "amendment_not_found",
            "Sửa đổi: văn bản sửa đổi đã chọn không thuộc kế hoạch này.".into(),
        )),
    }
}

/// Rewrites the heading of `plan` (organizer of its organization); after approval only with an
/// amendment of this plan. Audited (with the amendment's number).
pub async fn update(
    db: &Db,
    scope: &Scope,
    plan: &Plan,
    p: &NewPlan,
    amendment: Option<i64>,
) -> Result<()> {
    scope.require(db, plan.org_id, WRITE).await?;
    let amendment = edit_allowed(db, plan, amendment).await?;
    let classification = check_heading(db, scope, plan.org_id, p).await?;
    let list = json_list(p.resolution_ids.iter().copied())?;
    let link = format!(
        "INSERT INTO plan_resolutions (plan_id, resolution_id, province_id) SELECT $1, r.id, $2 FROM resolutions r WHERE r.id IN ({})",
        db.json_ints(3)
    );
    let detail = match amendment {
        Some(a) => format!("{} (theo sửa đổi #{a})", p.title),
        None => p.title.clone(),
    };
    db_run!(db, c => {
        let mut tx = c.begin().await?;
        let (province,): (i64,) = sqlx::query_as(
            "UPDATE plans SET kind = $2, title = $3, summary = $4, responsibility = $5, inspection = $6, leader_person_id = $7, \
             classification = $8, updated_at = $9 WHERE id = $1 RETURNING province_id")
            .bind(plan.id.0).bind(p.kind.code()).bind(&p.title).bind(p.summary.as_deref()).bind(p.responsibility.as_deref())
            .bind(p.inspection.as_deref()).bind(p.leader_person_id).bind(classification).bind(now())
            .fetch_one(&mut *tx).await?;
        sqlx::query("DELETE FROM plan_resolutions WHERE plan_id = $1").bind(plan.id.0).execute(&mut *tx).await?;
        sqlx::query(&link).bind(plan.id.0).bind(province).bind(&list).execute(&mut *tx).await?;
        crate::audit_in!(&mut *tx, scope, "update", "plan", plan.id.0, Some(plan.org_id), &detail)?;
        tx.commit().await?;
        Ok::<_, StoreError>(())
    })
}

/// A plan the caller may see: owned in their subtree, or with an item one of their
/// organizations leads or coordinates; and of a classification they are cleared for.
pub async fn get(db: &Db, scope: &Scope, id: PlanId) -> Result<Plan> {
    let sql = format!(
        "SELECT {PLAN_COLUMNS} FROM {PLAN_FROM} WHERE p.id = $2 AND {} AND ({} OR EXISTS \
         (SELECT 1 FROM plan_items i JOIN plan_item_units u ON u.item_id = i.id WHERE i.plan_id = p.id AND {}))",
        scope.classification_sql("p.classification"),
        Scope::probe_sql("p.org_id", 1, READ),
        Scope::probe_sql("u.org_id", 1, ATTEND)
    );
    db_run!(db, p => sqlx::query_as::<_, Plan>(&sql).bind(scope.account_id.0).bind(id.0).fetch_optional(p).await)?
        .ok_or(StoreError::NotFound)
}

/// The caller is on the owner's side of `plan` (sees every item).
pub async fn owner_side(db: &Db, scope: &Scope, plan: &Plan) -> Result<bool> {
    scope.covers(db, plan.org_id, READ).await
}

/// The ids and titles of the resolutions a plan carries out (those the caller may see).
pub async fn resolutions(db: &Db, scope: &Scope, plan: PlanId) -> Result<Vec<(i64, String)>> {
    let sql = format!(
        "SELECT r.id, r.number || ' — ' || r.title FROM plan_resolutions x JOIN resolutions r ON r.id = x.resolution_id \
         WHERE x.plan_id = $1 AND {} ORDER BY r.released_on, r.id",
        scope.classification_sql("r.classification")
    );
    Ok(db_run!(db, p => sqlx::query_as(&sql).bind(plan.0).fetch_all(p).await)?)
}

/// Plans owned in the caller's subtree, newest first, filtered, in keyset pages before plan
/// `before`.
pub async fn list(
    db: &Db,
    scope: &Scope,
    f: &PlanFilter,
    before: Option<PlanId>,
    per_page: i64,
) -> Result<(Vec<Plan>, Option<PlanId>)> {
    let sql = format!(
        "SELECT {PLAN_COLUMNS} FROM {PLAN_FROM} WHERE {} AND {} \
         AND ($2 = '' OR p.status = $2) AND ($3 = 0 OR p.org_id = $3) \
         AND ($4 = 0 OR EXISTS (SELECT 1 FROM plan_items i WHERE i.plan_id = p.id AND i.lead_org_id = $4)) \
         AND ($5 = 0 OR p.leader_person_id = $5) AND ($6 = 0 OR p.open_due_on < $7) \
         AND ($8 = 0 OR p.id < $8) ORDER BY p.id DESC LIMIT $9",
        Scope::subtree_sql("p.org_id", 1, READ),
        scope.classification_sql("p.classification"),
    );
    let per_page = per_page.clamp(1, PAGE_MAX);
    let rows = db_run!(db, p => sqlx::query_as::<_, Plan>(&sql).bind(scope.account_id.0)
        .bind(f.status.map_or("", |s| s.code())).bind(f.org.map_or(0, |o| o.0)).bind(f.lead_org.map_or(0, |o| o.0))
        .bind(f.leader.unwrap_or(0)).bind(i64::from(f.overdue)).bind(today())
        .bind(before.map_or(0, |b| b.0)).bind(per_page + 1).fetch_all(p).await)?;
    Ok(crate::plans::page_of(rows, per_page, |p| p.id))
}

/// The items of `plan` the caller may see, by start date: all of them on the owner's side,
/// only those a unit of the caller's subtree leads or coordinates otherwise.
pub async fn items(db: &Db, scope: &Scope, plan: &Plan) -> Result<Vec<Item>> {
    let owner = owner_side(db, scope, plan).await?;
    let filter = if owner {
        "TRUE".to_string()
    } else {
        format!(
            "EXISTS (SELECT 1 FROM plan_item_units u WHERE u.item_id = i.id AND {})",
            Scope::probe_sql("u.org_id", 1, ATTEND)
        )
    };
    let sql = format!(
        "SELECT i.id, i.kind, i.title, i.lead_org_id, o.name AS lead_name, i.resources, i.responsible, i.starts_on, i.due_on, \
         i.percent, i.done_on, i.last_report_on, i.report_count, i.amendment_id, {} AS can_report \
         FROM plan_items i JOIN orgs o ON o.id = i.lead_org_id WHERE i.plan_id = $2 AND {filter} \
         ORDER BY i.starts_on, i.id",
        Scope::probe_sql("i.lead_org_id", 1, ATTEND)
    );
    let mut rows = db_run!(db, p => sqlx::query_as::<_, Item>(&sql).bind(scope.account_id.0).bind(plan.id.0).fetch_all(p).await)?;
    let names: Vec<(i64, String)> = db_run!(db, p => sqlx::query_as(
        "SELECT u.item_id, o.name FROM plan_item_units u JOIN plan_items i ON i.id = u.item_id JOIN orgs o ON o.id = u.org_id \
         WHERE i.plan_id = $1 AND NOT u.lead ORDER BY o.sort_key, o.id")
        .bind(plan.id.0).fetch_all(p).await)?;
    for r in &mut rows {
        r.coordinators = names
            .iter()
            .filter(|(i, _)| *i == r.id.0)
            .map(|(_, n)| n.as_str())
            .collect::<Vec<_>>()
            .join(", ");
    }
    Ok(rows)
}

/// One item of `plan` the caller may see.
pub async fn item(db: &Db, scope: &Scope, plan: &Plan, id: PlanItemId) -> Result<Item> {
    items(db, scope, plan)
        .await?
        .into_iter()
        .find(|i| i.id == id)
        .ok_or(StoreError::NotFound)
}

/// Every unit of `it` lies in the plan owner's subtree (the owner itself included).
async fn check_units(db: &Db, plan: &Plan, it: &NewItem) -> Result<()> {
    let all: Vec<i64> = std::iter::once(it.lead.0)
        .chain(it.coordinators.iter().map(|o| o.0))
        .collect();
    let sql = format!(
        "SELECT descendant_id FROM org_closure WHERE ancestor_id = $1 AND descendant_id IN ({})",
        db.json_ints(2)
    );
    let list = json_list(all.iter().copied())?;
    let inside: Vec<i64> = db_run!(db, p => sqlx::query_scalar(&sql).bind(plan.org_id.0).bind(&list).fetch_all(p).await)?;
    if !inside.contains(&it.lead.0) {
        return Err(StoreError::rule(
            "lead_outside",
            "Đơn vị chủ trì: phải là tổ chức chủ trì kế hoạch hoặc tổ chức trực thuộc.".into(),
        ));
    }
    if inside.len() != all.len() {
        return Err(StoreError::rule(
            "coordinator_outside",
            "Đơn vị phối hợp: chỉ chọn các tổ chức thuộc phạm vi của tổ chức chủ trì kế hoạch."
                .into(),
        ));
    }
    Ok(())
}

/// The statement that keeps `open_due_on` (bound `$1` = plan id).
const KEEP_OPEN_DUE: &str = "UPDATE plans SET open_due_on = (SELECT MIN(i.due_on) FROM plan_items i WHERE i.plan_id = $1 AND i.done_on IS NULL) WHERE id = $1";

/// Adds an item to `plan` (organizer of its organization); after approval only with an
/// amendment of this plan. Audited.
pub async fn add_item(db: &Db, scope: &Scope, plan: &Plan, it: &NewItem) -> Result<PlanItemId> {
    scope.require(db, plan.org_id, WRITE).await?;
    if plan.status() == PlanStatus::FinalReview {
        return Err(StoreError::rule(
            "plan_closed",
            "Kế hoạch đã tổng kết, không thêm hạng mục được nữa.".into(),
        ));
    }
    let amendment = edit_allowed(db, plan, it.amendment_id).await?;
    check_units(db, plan, it).await?;
    let coords = json_list(it.coordinators.iter().map(|o| o.0))?;
    let add_coords = format!(
        "INSERT INTO plan_item_units (item_id, org_id, province_id, lead, due_on) \
         SELECT $1, o.id, o.province_id, FALSE, $2 FROM orgs o WHERE o.id IN ({})",
        db.json_ints(3)
    );
    let detail = format!(
        "{} (hạn {}){}",
        it.title,
        it.due_on.format("%d/%m/%Y"),
        amendment
            .map(|a| format!(", theo sửa đổi #{a}"))
            .unwrap_or_default()
    );
    db_run!(db, c => {
        let mut tx = c.begin().await?;
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO plan_items (plan_id, province_id, kind, title, lead_org_id, resources, responsible, starts_on, due_on, amendment_id, created_at) \
             SELECT p.id, p.province_id, $2, $3, $4, $5, $6, $7, $8, $9, $10 FROM plans p WHERE p.id = $1 RETURNING id")
            .bind(plan.id.0).bind(it.kind.code()).bind(&it.title).bind(it.lead.0).bind(it.resources.as_deref())
            .bind(it.responsible.as_deref()).bind(it.starts_on).bind(it.due_on).bind(amendment).bind(now())
            .fetch_one(&mut *tx).await?;
        sqlx::query("INSERT INTO plan_item_units (item_id, org_id, province_id, lead, due_on) SELECT $1, o.id, o.province_id, TRUE, $2 FROM orgs o WHERE o.id = $3")
            .bind(id).bind(it.due_on).bind(it.lead.0).execute(&mut *tx).await?;
        sqlx::query(&add_coords).bind(id).bind(it.due_on).bind(&coords).execute(&mut *tx).await?;
        sqlx::query("UPDATE plans SET item_count = item_count + 1, updated_at = $2 WHERE id = $1").bind(plan.id.0).bind(now()).execute(&mut *tx).await?;
        sqlx::query(KEEP_OPEN_DUE).bind(plan.id.0).execute(&mut *tx).await?;
        crate::audit_in!(&mut *tx, scope, "add_item", "plan", plan.id.0, Some(plan.org_id), &detail)?;
        tx.commit().await?;
        Ok::<_, StoreError>(PlanItemId(id))
    })
}

/// Records a progress report on `item` by its lead unit (secretary or above on it) while the
/// plan is issued and not finally reviewed; with an evidence file unless the plan is
/// classified. The item's percent, its done date and the plan's kept counts move in the same
/// transaction; audited.
pub async fn report(
    db: &Db,
    scope: &Scope,
    plan: &Plan,
    item: &Item,
    r: &Progress,
    file: Option<&Evidence>,
) -> Result<()> {
    if !plan.status().takes_reports() {
        return Err(StoreError::rule(
            "plan_not_running",
            "Chỉ báo cáo tiến độ khi kế hoạch đã ban hành và chưa tổng kết.".into(),
        ));
    }
    if !scope.covers(db, item.lead_org_id, ATTEND).await? {
        return Err(StoreError::rule(
            "not_lead_unit",
            "Đơn vị báo cáo: chỉ đơn vị chủ trì hạng mục (hoặc cấp trên của đơn vị đó) báo cáo tiến độ; đơn vị phối hợp gửi ý kiến cho đơn vị chủ trì.".into(),
        ));
    }
    if file.is_some() && plan.classified() {
        return Err(StoreError::rule(
            "classified_no_files",
            "Tệp minh chứng: kế hoạch thực hiện nghị quyết mật không nhận tệp đính kèm (Luật Bảo vệ bí mật nhà nước 2025).".into(),
        ));
    }
    let done_on = (r.percent == 100).then(|| item.done_on.unwrap_or(r.reported_on));
    let delta: i64 = match (item.done_on.is_some(), done_on.is_some()) {
        (false, true) => 1,
        (true, false) => -1,
        _ => 0,
    };
    let detail = format!(
        "{}: {}% ngày {}",
        item.title,
        r.percent,
        r.reported_on.format("%d/%m/%Y")
    );
    db_run!(db, c => {
        let mut tx = c.begin().await?;
        sqlx::query(
            "INSERT INTO plan_item_reports (item_id, province_id, org_id, reported_on, percent, note, file_name, file_type, file_content, reported_by, reported_at) \
             SELECT i.id, i.province_id, i.lead_org_id, $2, $3, $4, $5, $6, $7, $8, $9 FROM plan_items i WHERE i.id = $1")
            .bind(item.id.0).bind(r.reported_on).bind(r.percent).bind(r.note.as_deref())
            .bind(file.map(|f| f.name.as_str())).bind(file.map(|f| f.content_type.as_str())).bind(file.map(|f| f.bytes.as_slice()))
            .bind(scope.account_id.0).bind(now()).execute(&mut *tx).await?;
        sqlx::query("UPDATE plan_items SET percent = $2, done_on = $3, last_report_on = $4, report_count = report_count + 1 WHERE id = $1")
            .bind(item.id.0).bind(r.percent).bind(done_on).bind(r.reported_on).execute(&mut *tx).await?;
        sqlx::query("UPDATE plan_item_units SET done = $2 WHERE item_id = $1").bind(item.id.0).bind(done_on.is_some()).execute(&mut *tx).await?;
        sqlx::query("UPDATE plans SET item_done_count = item_done_count + $2, updated_at = $3 WHERE id = $1")
            .bind(plan.id.0).bind(delta).bind(now()).execute(&mut *tx).await?;
        sqlx::query(KEEP_OPEN_DUE).bind(plan.id.0).execute(&mut *tx).await?;
        crate::audit_in!(&mut *tx, scope, "report", "plan_item", item.id.0, Some(item.lead_org_id), &detail)?;
        tx.commit().await?;
        Ok::<_, StoreError>(())
    })
}

/// The reports on the items of `plan` the caller sees, newest first per item.
pub async fn reports(db: &Db, plan: PlanId, items: &[Item]) -> Result<Vec<ItemReport>> {
    let list = json_list(items.iter().map(|i| i.id.0))?;
    let sql = format!(
        "SELECT r.id, r.item_id, o.name AS org_name, r.reported_on, r.percent, r.note, r.file_name \
         FROM plan_item_reports r JOIN plan_items i ON i.id = r.item_id JOIN orgs o ON o.id = r.org_id \
         WHERE i.plan_id = $1 AND r.item_id IN ({}) ORDER BY r.item_id, r.id DESC",
        db.json_ints(2)
    );
    Ok(
        db_run!(db, p => sqlx::query_as::<_, ItemReport>(&sql).bind(plan.0).bind(&list).fetch_all(p).await)?,
    )
}

/// A report's item, and its file's name, type and bytes (when it has one).
type EvidenceRow = (i64, Option<String>, Option<String>, Option<Vec<u8>>);

/// The evidence file of report `report_id` on an item of `plan` the caller sees.
pub async fn evidence(db: &Db, scope: &Scope, plan: &Plan, report_id: i64) -> Result<Evidence> {
    let row: Option<EvidenceRow> = db_run!(db, p => sqlx::query_as(
        "SELECT r.item_id, r.file_name, r.file_type, r.file_content FROM plan_item_reports r JOIN plan_items i ON i.id = r.item_id \
         WHERE r.id = $1 AND i.plan_id = $2").bind(report_id).bind(plan.id.0).fetch_optional(p).await)?;
    let Some((item_id, Some(name), Some(content_type), Some(bytes))) = row else {
        return Err(StoreError::NotFound);
    };
    item(db, scope, plan, PlanItemId(item_id)).await?;
    Ok(Evidence {
        name,
        content_type,
        bytes,
    })
}

/// Takes `plan` one step along its lifecycle (organizer of its organization): consultation
/// rounds, approval by a collective, issue, interim and final review. Refused out of order
/// (issuing without approval above all) and with dates before the step they follow. Audited
/// old → new in the same transaction.
pub async fn step(db: &Db, scope: &Scope, plan: &Plan, s: &Step) -> Result<PlanStatus> {
    scope.require(db, plan.org_id, WRITE).await?;
    let from = plan.status();
    let to = from
        .after(s.kind())
        .map_err(|(code, msg)| StoreError::rule(code, msg.into()))?;
    let after_date = |floor: Option<NaiveDate>, what: &str| -> Result<()> {
        match floor {
            Some(f) if s.on() < f => Err(StoreError::rule(
                "step_date_before",
                format!(
                    "Ngày: không được trước ngày {what} ({}).",
                    f.format("%d/%m/%Y")
                ),
            )),
            _ => Ok(()),
        }
    };
    match s {
        Step::Issue { .. } => after_date(plan.approved_on, "thông qua")?,
        Step::Review { .. } => {
            after_date(plan.issued_on, "ban hành")?;
            after_date(plan.interim_on, "sơ kết")?;
        }
        _ => {}
    }
    let detail = format!("{} → {}", from.label(), to.label());
    let at = now();
    db_run!(db, c => {
        let mut tx = c.begin().await?;
        match s {
            Step::Consult { asked_on, bodies } => {
                let (round,): (i64,) = sqlx::query_as("SELECT CAST(COALESCE(MAX(round), 0) + 1 AS BIGINT) FROM plan_consultations WHERE plan_id = $1")
                    .bind(plan.id.0).fetch_one(&mut *tx).await?;
                for b in bodies {
                    sqlx::query("INSERT INTO plan_consultations (plan_id, province_id, round, body_name, asked_on) SELECT id, province_id, $2, $3, $4 FROM plans WHERE id = $1")
                        .bind(plan.id.0).bind(round).bind(b).bind(*asked_on).execute(&mut *tx).await?;
                }
            }
            Step::Approve { body, met_on, decision } => {
                sqlx::query("UPDATE plans SET approval_body = $2, approved_on = $3, decision_number = $4 WHERE id = $1")
                    .bind(plan.id.0).bind(body.code()).bind(*met_on).bind(decision.as_str()).execute(&mut *tx).await?;
            }
            Step::Issue { issued_on, number } => {
                sqlx::query("UPDATE plans SET number = $2, issued_on = $3 WHERE id = $1")
                    .bind(plan.id.0).bind(number.as_str()).bind(*issued_on).execute(&mut *tx).await?;
            }
            Step::Review { final_review: false, on, note } => {
                sqlx::query("UPDATE plans SET interim_on = $2, interim_note = $3 WHERE id = $1")
                    .bind(plan.id.0).bind(*on).bind(note).execute(&mut *tx).await?;
            }
            Step::Review { on, note, .. } => {
                sqlx::query("UPDATE plans SET final_on = $2, final_note = $3 WHERE id = $1")
                    .bind(plan.id.0).bind(*on).bind(note).execute(&mut *tx).await?;
            }
        }
        // The status moves only from the one read: a concurrent step loses, nothing is doubled.
        let moved = sqlx::query("UPDATE plans SET status = $2, updated_at = $3 WHERE id = $1 AND status = $4")
            .bind(plan.id.0).bind(to.code()).bind(at).bind(from.code()).execute(&mut *tx).await?.rows_affected();
        if moved == 0 {
            return Err(StoreError::rule("plan_changed", "Kế hoạch vừa được người khác chuyển bước; tải lại trang.".into()));
        }
        crate::audit_in!(&mut *tx, scope, s.kind().code(), "plan", plan.id.0, Some(plan.org_id), &detail)?;
        tx.commit().await?;
        Ok::<_, StoreError>(())
    })?;
    Ok(to)
}

/// The organizations asked for their opinion, by round.
pub async fn consultations(db: &Db, plan: PlanId) -> Result<Vec<Consultation>> {
    Ok(db_run!(db, p => sqlx::query_as::<_, Consultation>(
        "SELECT id, round, body_name, asked_on, answered_on, answer FROM plan_consultations WHERE plan_id = $1 ORDER BY round, id")
        .bind(plan.0).fetch_all(p).await)?)
}

/// Records the answer of a consulted organization (organizer of the plan's organization), once,
/// before the plan is issued. Audited.
pub async fn answer(
    db: &Db,
    scope: &Scope,
    plan: &Plan,
    consultation: i64,
    on: NaiveDate,
    text: &str,
) -> Result<()> {
    scope.require(db, plan.org_id, WRITE).await?;
    if !matches!(
        plan.status(),
        PlanStatus::Consultation | PlanStatus::Approved | PlanStatus::Draft
    ) {
        return Err(StoreError::rule(
            "consultation_closed",
            "Kế hoạch đã ban hành: không ghi thêm ý kiến góp ý.".into(),
        ));
    }
    db_run!(db, c => {
        let mut tx = c.begin().await?;
        let row: Option<(String, NaiveDate, Option<NaiveDate>)> = sqlx::query_as(
            "SELECT body_name, asked_on, answered_on FROM plan_consultations WHERE id = $1 AND plan_id = $2")
            .bind(consultation).bind(plan.id.0).fetch_optional(&mut *tx).await?;
        let Some((name, asked, answered)) = row else { return Err(StoreError::NotFound) };
        if answered.is_some() {
            return Err(StoreError::rule("already_answered", format!("{name} đã trả lời rồi.")));
        }
        if on < asked {
            return Err(StoreError::rule("answer_before_asked", domain::RuleError::AnswerBeforeAsked.to_string()));
        }
        sqlx::query("UPDATE plan_consultations SET answered_on = $2, answer = $3 WHERE id = $1")
            .bind(consultation).bind(on).bind(text).execute(&mut *tx).await?;
        crate::audit_in!(&mut *tx, scope, "answer", "plan", plan.id.0, Some(plan.org_id), &name)?;
        tx.commit().await?;
        Ok::<_, StoreError>(())
    })
}

/// Records an amendment of a passed plan (organizer of its organization). Audited.
pub async fn amend(db: &Db, scope: &Scope, plan: &Plan, a: &NewAmendment) -> Result<i64> {
    scope.require(db, plan.org_id, WRITE).await?;
    if plan.status().open_for_edit() {
        return Err(StoreError::rule(
            "amendment_not_needed",
            "Kế hoạch chưa được thông qua: sửa trực tiếp, không cần văn bản sửa đổi.".into(),
        ));
    }
    if plan.status() == PlanStatus::FinalReview {
        return Err(StoreError::rule(
            "plan_closed",
            "Kế hoạch đã tổng kết, không sửa đổi được nữa.".into(),
        ));
    }
    let detail = format!("{}: {}", a.number.as_str(), a.reason);
    db_run!(db, c => {
        let mut tx = c.begin().await?;
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO plan_amendments (plan_id, province_id, number, decided_on, reason, created_by, created_at) \
             SELECT id, province_id, $2, $3, $4, $5, $6 FROM plans WHERE id = $1 RETURNING id")
            .bind(plan.id.0).bind(a.number.as_str()).bind(a.decided_on).bind(&a.reason).bind(scope.account_id.0).bind(now())
            .fetch_one(&mut *tx).await?;
        sqlx::query("UPDATE plans SET amendment_count = amendment_count + 1 WHERE id = $1").bind(plan.id.0).execute(&mut *tx).await?;
        crate::audit_in!(&mut *tx, scope, "amend", "plan", plan.id.0, Some(plan.org_id), &detail)?;
        tx.commit().await?;
        Ok::<_, StoreError>(id)
    })
}

pub async fn amendments(db: &Db, plan: PlanId) -> Result<Vec<Amendment>> {
    Ok(db_run!(db, p => sqlx::query_as::<_, Amendment>(
        "SELECT id, number, decided_on, reason FROM plan_amendments WHERE plan_id = $1 ORDER BY id")
        .bind(plan.0).fetch_all(p).await)?)
}

/// Unfinished items of running plans that organizations where the caller is secretary or above
/// lead or coordinate, by due date ("Việc của đơn vị"), in keyset pages after `after`.
pub async fn assigned(
    db: &Db,
    scope: &Scope,
    after: Option<&str>,
    per_page: i64,
) -> Result<(Vec<AssignedItem>, Option<String>)> {
    let key = after.and_then(crate::plans::parse_key);
    let sql = format!(
        "SELECT i.id AS item_id, p.id AS plan_id, p.title AS plan_title, i.title, u.org_id, o.name AS org_name, u.lead, \
         i.starts_on, i.due_on, i.percent \
         FROM plan_item_units u JOIN plan_items i ON i.id = u.item_id JOIN plans p ON p.id = i.plan_id JOIN orgs o ON o.id = u.org_id \
         WHERE NOT u.done AND {} AND p.status IN ('issued', 'interim_review') AND {} \
         AND ($2 = 0 OR (u.due_on, u.item_id, u.org_id) > ($3, $4, $5)) \
         ORDER BY u.due_on, u.item_id, u.org_id LIMIT $6",
        Scope::subtree_sql("u.org_id", 1, ATTEND),
        scope.classification_sql("p.classification"),
    );
    let (has, d, i, o) = match key {
        Some((d, i, o)) => (1_i64, d, i, o),
        None => (
            0,
            NaiveDate::from_ymd_opt(2000, 1, 1).unwrap_or_default(),
            0,
            0,
        ),
    };
    let per_page = per_page.clamp(1, PAGE_MAX);
    let rows = db_run!(db, p => sqlx::query_as::<_, AssignedItem>(&sql).bind(scope.account_id.0).bind(has).bind(d).bind(i).bind(o)
        .bind(per_page + 1).fetch_all(p).await)?;
    Ok(crate::plans::page_of(rows, per_page, AssignedItem::key))
}

/// Who may answer for `org`'s plan (R1.1), at most 100: the holders of a leading position in
/// its committee (secretary, deputy, standing member, unit leader — an indexed read of the
/// committee's positions, issue 15); where the committee has none recorded yet, the people of
/// its subtree whose register entry names a secretary's post, nearest the organization first (a
/// scan of the subtree: record the positions of a large committee).
pub async fn leader_choices(db: &Db, scope: &Scope, org: OrgId) -> Result<Vec<Leader>> {
    scope.require(db, org, READ).await?;
    let by_position = format!(
        "SELECT pe.id, pe.full_name, pe.positions FROM people pe WHERE pe.id IN \
         (SELECT cp.person_id FROM committee_positions cp WHERE cp.org_id = $1 AND cp.ended_on IS NULL AND cp.role IN ({})) \
         ORDER BY pe.sort_key, pe.id LIMIT 100",
        domain::org::positions::CommitteeRole::sql_list(domain::org::positions::CommitteeRole::LEADING)
    );
    let leaders =
        db_run!(db, p => sqlx::query_as::<_, Leader>(&by_position).bind(org.0).fetch_all(p).await)?;
    if !leaders.is_empty() {
        return Ok(leaders);
    }
    Ok(db_run!(db, p => sqlx::query_as::<_, Leader>(
        "SELECT pe.id, pe.full_name, pe.positions FROM people pe JOIN org_closure c ON c.descendant_id = pe.org_id \
         WHERE c.ancestor_id = $1 AND pe.positions LIKE '%Bí thư%' ORDER BY c.depth, pe.sort_key, pe.id LIMIT 100")
        .bind(org.0).fetch_all(p).await)?)
}
