//! Cascaded tasks (R8.1, issue 14.5): sent by an organization to some of its subordinates with a
//! deadline; each target reports completion or passes the task down to its own subordinates.
//!
//! Counts are kept on write (`tasks.target_count`, `done_count`, in the transaction of the
//! report); the lists read in keyset pages; every read is scoped: the sender's side sees every
//! target, a target's side only the targets in its own subtree, never a neighbour's.

use chrono::NaiveDate;
use domain::ids::{OrgId, TaskId};
use domain::plans::tasks::{NewTask, Report, TargetState};

use crate::db::Db;
use crate::error::{Result, StoreError};
use crate::scope::{Scope, ATTEND, READ, WRITE};
use crate::{db_run, now};

/// Rows of a list page at most.
pub const PAGE_MAX: i64 = 200;

/// A task as its pages show it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Task {
    #[sqlx(try_from = "i64")]
    pub id: TaskId,
    #[sqlx(try_from = "i64")]
    pub org_id: OrgId,
    pub org_name: String,
    pub parent_task_id: Option<i64>,
    pub title: String,
    pub body: Option<String>,
    pub due_on: NaiveDate,
    pub sent_on: NaiveDate,
    pub target_count: i64,
    pub done_count: i64,
}

impl Task {
    /// Percent of the targets done (rounded down).
    pub fn percent(&self) -> i64 {
        domain::plans::tasks::percent_done(self.done_count, self.target_count)
    }
}

/// One organization a task was sent to, and how far it is.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Target {
    #[sqlx(try_from = "i64")]
    pub org_id: OrgId,
    pub org_name: String,
    pub due_on: NaiveDate,
    pub done_on: Option<NaiveDate>,
    pub people_reached: Option<i64>,
    pub note: Option<String>,
    /// The name of the file attached to the report, if any.
    pub file_name: Option<String>,
    /// The task it passed down to its own subordinates, with their progress.
    pub passed_task_id: Option<i64>,
    pub passed_targets: Option<i64>,
    pub passed_done: Option<i64>,
    /// The caller may report for it (holds at least the secretary's role on it).
    #[sqlx(default)]
    pub can_report: bool,
    /// The caller may pass it down (holds the organizer's role on it, and it has subordinates).
    #[sqlx(default)]
    pub can_pass: bool,
}

impl Target {
    pub fn state(&self, today: NaiveDate) -> TargetState {
        TargetState::of(self.due_on, self.done_on, today)
    }
    /// Percent of the task it passed down, if it did.
    pub fn passed_percent(&self) -> Option<i64> {
        self.passed_targets
            .map(|t| domain::plans::tasks::percent_done(self.passed_done.unwrap_or(0), t))
    }
}

/// A task addressed to one of the caller's organizations ("Việc của đơn vị").
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Assigned {
    #[sqlx(try_from = "i64")]
    pub task_id: TaskId,
    pub title: String,
    pub sender_name: String,
    #[sqlx(try_from = "i64")]
    pub org_id: OrgId,
    pub org_name: String,
    pub due_on: NaiveDate,
    pub done_on: Option<NaiveDate>,
}

impl Assigned {
    pub fn state(&self, today: NaiveDate) -> TargetState {
        TargetState::of(self.due_on, self.done_on, today)
    }
    /// The keyset of the next page after this row.
    pub fn key(&self) -> String {
        format!("{}_{}_{}", self.due_on, self.task_id.0, self.org_id.0)
    }
}

/// Today in Vietnam.
pub fn today() -> NaiveDate {
    domain::study::utc_to_local(now()).date()
}

/// The rule code of a pass-down due after the task it passes down (the form's `due_on`).
pub const DUE_AFTER_PARENT: &str = "due_after_parent";

const TASK_COLUMNS: &str =
    "k.id, k.org_id, o.name AS org_name, k.parent_task_id, k.title, k.body, k.due_on, k.sent_on, \
     k.target_count, k.done_count";

/// Sends `t` from `from` to its targets, each a subordinate of `from` (any depth); the caller
/// holds the organizer's role on `from`. With `parent`, `from` passes down a task it received:
/// it must be one of that task's targets, not yet done, and may pass it down once.
/// Audited in the same transaction; the targets' secretaries are notified.
pub async fn create(
    db: &Db,
    scope: &Scope,
    from: OrgId,
    parent: Option<TaskId>,
    t: &NewTask,
) -> Result<TaskId> {
    scope.require(db, from, WRITE).await?;
    let list = serde_json::to_string(&t.targets.iter().map(|o| o.0).collect::<Vec<_>>())
        .map_err(|e| StoreError::Internal(e.to_string()))?;
    let below = format!(
        "SELECT COUNT(*) FROM org_closure WHERE ancestor_id = $1 AND depth >= 1 AND descendant_id IN ({})",
        db.json_ints(2)
    );
    let (n,): (i64,) =
        db_run!(db, p => sqlx::query_as(&below).bind(from.0).bind(&list).fetch_one(p).await)?;
    if usize::try_from(n).unwrap_or(0) != t.targets.len() {
        return Err(StoreError::rule(
            "target_outside",
            "Nơi nhận: chỉ giao việc cho các tổ chức trực thuộc tổ chức giao việc.".into(),
        ));
    }
    if let Some(p) = parent {
        let row: Option<(Option<NaiveDate>, NaiveDate)> = db_run!(db, q => sqlx::query_as(
            "SELECT done_on, due_on FROM task_targets WHERE task_id = $1 AND org_id = $2")
            .bind(p.0).bind(from.0).fetch_optional(q).await)?;
        match row {
            None => return Err(StoreError::NotFound),
            Some((Some(_), _)) => {
                return Err(StoreError::rule(
                    "task_done",
                    "Việc này đơn vị đã báo cáo hoàn thành, không giao tiếp xuống được nữa.".into(),
                ))
            }
            Some((None, due)) if t.due_on > due => {
                return Err(StoreError::rule(
                    DUE_AFTER_PARENT,
                    format!(
                        "Hạn hoàn thành: không được sau hạn cấp trên giao ({}).",
                        due.format("%d/%m/%Y")
                    ),
                ))
            }
            Some((None, _)) => {}
        }
    }
    let (sent_at, sent_on) = (now(), today());
    let insert_targets = format!(
        "INSERT INTO task_targets (task_id, org_id, province_id, due_on) \
         SELECT $1, o.id, o.province_id, $2 FROM orgs o WHERE o.id IN ({})",
        db.json_ints(3)
    );
    let detail = format!(
        "{} (hạn {}; {} nơi nhận)",
        t.title,
        t.due_on.format("%d/%m/%Y"),
        t.targets.len()
    );
    let id = db_run!(db, p => {
        let mut tx = p.begin().await?;
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO tasks (org_id, province_id, parent_task_id, title, body, due_on, sent_on, created_by, created_at, target_count) \
             SELECT o.id, o.province_id, $2, $3, $4, $5, $6, $7, $8, $9 FROM orgs o WHERE o.id = $1 RETURNING id")
            .bind(from.0).bind(parent.map(|p| p.0)).bind(&t.title).bind(t.body.as_deref()).bind(t.due_on)
            .bind(sent_on).bind(scope.account_id.0).bind(sent_at).bind(i64::try_from(t.targets.len()).unwrap_or(i64::MAX))
            .fetch_one(&mut *tx).await.map_err(passed_twice)?;
        sqlx::query(&insert_targets).bind(id).bind(t.due_on).bind(&list).execute(&mut *tx).await?;
        crate::audit_in!(&mut *tx, scope, if parent.is_some() { "pass_down" } else { "create" }, "task", id, Some(from), &detail)?;
        tx.commit().await?;
        Ok::<_, StoreError>(id)
    })?;
    notify_targets(db, TaskId(id), t).await?;
    Ok(TaskId(id))
}

/// A second pass-down of the same task by the same organization (the unique index).
fn passed_twice(e: sqlx::Error) -> StoreError {
    match StoreError::unique("parent_task_id")(e) {
        StoreError::Conflict { .. } => StoreError::rule(
            "task_passed",
            "Đơn vị đã giao việc này xuống cấp dưới rồi; xem tiến độ ở việc đã giao.".into(),
        ),
        other => other,
    }
}

/// Tells the people who hold a role on the targets (secretaries and above) of a new task.
async fn notify_targets(db: &Db, id: TaskId, t: &NewTask) -> Result<()> {
    let list = serde_json::to_string(&t.targets.iter().map(|o| o.0).collect::<Vec<_>>())
        .map_err(|e| StoreError::Internal(e.to_string()))?;
    let sql = format!(
        "SELECT DISTINCT a.person_id FROM role_grants g JOIN accounts a ON a.id = g.account_id \
         WHERE g.org_id IN ({}) AND g.role IN ({}) AND a.person_id IS NOT NULL AND NOT a.disabled",
        db.json_ints(1),
        crate::scope::roles_sql(ATTEND)
    );
    let people: Vec<i64> =
        db_run!(db, p => sqlx::query_scalar(&sql).bind(&list).fetch_all(p).await)?;
    crate::notify::create_batch(
        db,
        &people,
        &crate::notify::NewNotification {
            kind: "task",
            title: format!("Việc mới: {}", t.title),
            body: format!("Hạn hoàn thành {}.", t.due_on.format("%d/%m/%Y")),
            link: format!("/tasks/{}", id.0),
        },
    )
    .await?;
    Ok(())
}

/// A task the caller may see: sent from their subtree, or addressed to an organization in it.
pub async fn get(db: &Db, scope: &Scope, id: TaskId) -> Result<Task> {
    let sql = format!(
        "SELECT {TASK_COLUMNS} FROM tasks k JOIN orgs o ON o.id = k.org_id WHERE k.id = $2 AND ({} OR EXISTS \
         (SELECT 1 FROM task_targets t WHERE t.task_id = k.id AND {}))",
        Scope::probe_sql("k.org_id", 1, READ),
        Scope::probe_sql("t.org_id", 1, ATTEND)
    );
    db_run!(db, p => sqlx::query_as::<_, Task>(&sql).bind(scope.account_id.0).bind(id.0).fetch_optional(p).await)?
        .ok_or(StoreError::NotFound)
}

/// The targets of `task` the caller may see, in tree order: all of them for the sender's side,
/// only those in the caller's subtree for a target's side. At most the task's target count.
pub async fn targets(db: &Db, scope: &Scope, task: &Task) -> Result<Vec<Target>> {
    let sender_side = scope.covers(db, task.org_id, READ).await?;
    let filter = if sender_side {
        "TRUE".to_string()
    } else {
        Scope::probe_sql("t.org_id", 1, ATTEND)
    };
    let sql = format!(
        "SELECT t.org_id, o.name AS org_name, t.due_on, t.done_on, t.people_reached, t.note, t.file_name, \
         c.id AS passed_task_id, c.target_count AS passed_targets, c.done_count AS passed_done, \
         {} AS can_report, ({} AND EXISTS (SELECT 1 FROM orgs ch WHERE ch.parent_id = t.org_id)) AS can_pass \
         FROM task_targets t JOIN orgs o ON o.id = t.org_id \
         LEFT JOIN tasks c ON c.parent_task_id = t.task_id AND c.org_id = t.org_id \
         WHERE t.task_id = $2 AND {filter} ORDER BY o.sort_key, o.id",
        Scope::probe_sql("t.org_id", 1, ATTEND),
        Scope::probe_sql("t.org_id", 1, WRITE),
    );
    Ok(
        db_run!(db, p => sqlx::query_as::<_, Target>(&sql).bind(scope.account_id.0).bind(task.id.0).fetch_all(p).await)?,
    )
}

/// Records that `org` has done `task` (its secretary or above); once. The task's count of done
/// targets moves in the same transaction; audited.
pub async fn report(
    db: &Db,
    scope: &Scope,
    task: &Task,
    org: OrgId,
    r: &Report,
    file: Option<&crate::plans::action_plans::Evidence>,
) -> Result<()> {
    scope.require(db, org, ATTEND).await?;
    let detail = format!(
        "{}: xong ngày {}{}",
        task.title,
        r.done_on.format("%d/%m/%Y"),
        r.people_reached
            .map(|n| format!(", {n} người"))
            .unwrap_or_default()
    );
    db_run!(db, p => {
        let mut tx = p.begin().await?;
        let done = sqlx::query(
            "UPDATE task_targets SET done_on = $3, people_reached = $4, note = $5, reported_by = $6, reported_at = $7, \
             file_name = $8, file_type = $9, file_content = $10 WHERE task_id = $1 AND org_id = $2 AND done_on IS NULL")
            .bind(task.id.0).bind(org.0).bind(r.done_on).bind(r.people_reached).bind(r.note.as_deref())
            .bind(scope.account_id.0).bind(now())
            .bind(file.map(|f| f.name.as_str())).bind(file.map(|f| f.content_type.as_str())).bind(file.map(|f| f.bytes.as_slice()))
            .execute(&mut *tx).await?.rows_affected();
        if done == 0 {
            let exists: Option<(i64,)> = sqlx::query_as("SELECT CAST(1 AS BIGINT) FROM task_targets WHERE task_id = $1 AND org_id = $2")
                .bind(task.id.0).bind(org.0).fetch_optional(&mut *tx).await?;
            return Err(match exists {
                None => StoreError::NotFound,
                Some(_) => StoreError::rule("already_reported", "Đơn vị đã báo cáo hoàn thành việc này rồi.".into()),
            });
        }
        sqlx::query("UPDATE tasks SET done_count = done_count + 1 WHERE id = $1").bind(task.id.0).execute(&mut *tx).await?;
        crate::audit_in!(&mut *tx, scope, "report", "task", task.id.0, Some(org), &detail)?;
        tx.commit().await?;
        Ok::<_, StoreError>(())
    })
}

/// The open tasks addressed to organizations where the caller is secretary or above by an
/// organization above them, by due date ("Việc của đơn vị"), in keyset pages after `after` (a
/// row's [`Assigned::key`]).
pub async fn assigned(
    db: &Db,
    scope: &Scope,
    after: Option<&str>,
    per_page: i64,
) -> Result<(Vec<Assigned>, Option<String>)> {
    let key = after.and_then(crate::plans::parse_key);
    let sql = format!(
        "SELECT t.task_id, k.title, s.name AS sender_name, t.org_id, o.name AS org_name, t.due_on, t.done_on \
         FROM task_targets t JOIN tasks k ON k.id = t.task_id JOIN orgs o ON o.id = t.org_id JOIN orgs s ON s.id = k.org_id \
         WHERE t.done_on IS NULL AND {} AND NOT {} \
         AND ($2 = 0 OR (t.due_on, t.task_id, t.org_id) > ($3, $4, $5)) \
         ORDER BY t.due_on, t.task_id, t.org_id LIMIT $6",
        Scope::subtree_sql("t.org_id", 1, ATTEND),
        // Work that came from above: what the caller's own organizations sent down is listed
        // among the tasks sent, not as their own work.
        Scope::subtree_sql("k.org_id", 1, ATTEND)
    );
    let (has, d, t, o) = match key {
        Some((d, t, o)) => (1_i64, d, t, o),
        // Unused (`$2 = 0`), but a date both engines store.
        None => (
            0,
            NaiveDate::from_ymd_opt(2000, 1, 1).unwrap_or_default(),
            0,
            0,
        ),
    };
    let per_page = per_page.clamp(1, PAGE_MAX);
    let rows = db_run!(db, p => sqlx::query_as::<_, Assigned>(&sql).bind(scope.account_id.0).bind(has).bind(d).bind(t).bind(o)
        .bind(per_page + 1).fetch_all(p).await)?;
    Ok(crate::plans::page_of(rows, per_page, Assigned::key))
}

/// Tasks sent by organizations in the caller's subtree (the sender's side), newest deadline
/// first, in keyset pages before task `before` (its id).
pub async fn sent(
    db: &Db,
    scope: &Scope,
    before: Option<TaskId>,
    per_page: i64,
) -> Result<(Vec<Task>, Option<TaskId>)> {
    let sql = format!(
        "SELECT {TASK_COLUMNS} FROM tasks k JOIN orgs o ON o.id = k.org_id WHERE {} \
         AND ($2 = 0 OR (k.due_on, k.id) < ((SELECT b.due_on FROM tasks b WHERE b.id = $2), $2)) \
         ORDER BY k.due_on DESC, k.id DESC LIMIT $3",
        Scope::subtree_sql("k.org_id", 1, READ)
    );
    let per_page = per_page.clamp(1, PAGE_MAX);
    let rows = db_run!(db, p => sqlx::query_as::<_, Task>(&sql).bind(scope.account_id.0).bind(before.map_or(0, |b| b.0))
        .bind(per_page + 1).fetch_all(p).await)?;
    Ok(crate::plans::page_of(rows, per_page, |t| t.id))
}

/// A report's file: name, type and bytes, when it has one.
type FileRow = (Option<String>, Option<String>, Option<Vec<u8>>);

/// The file attached to `org`'s report on `task`, when the caller sees that target.
pub async fn evidence(
    db: &Db,
    scope: &Scope,
    task: &Task,
    org: OrgId,
) -> Result<crate::plans::action_plans::Evidence> {
    if !targets(db, scope, task)
        .await?
        .iter()
        .any(|t| t.org_id == org)
    {
        return Err(StoreError::NotFound);
    }
    let row: Option<FileRow> = db_run!(db, p => sqlx::query_as(
        "SELECT file_name, file_type, file_content FROM task_targets WHERE task_id = $1 AND org_id = $2")
        .bind(task.id.0).bind(org.0).fetch_optional(p).await)?;
    match row {
        Some((Some(name), Some(content_type), Some(bytes))) => {
            Ok(crate::plans::action_plans::Evidence {
                name,
                content_type,
                bytes,
            })
        }
        _ => Err(StoreError::NotFound),
    }
}
