//! Reminders of due dates (issue 14.5, 14.7; R8.1, R7.3): a few days before a task or a plan
//! item falls due, and once it is overdue, the organization that owes it is told (its role
//! holders; for an overdue item also the plan's accountable leader), in the app and, through the
//! one outbox, by e-mail in the daily digest. Each target and stage is reminded once: the key of
//! `reminders_sent` decides, whichever instance sweeps first.

use chrono::{Duration, NaiveDate};

use crate::db::Db;
use crate::error::{Result, StoreError};
use crate::notify::{create_batch, NewNotification};
use crate::{db_exec, db_run};

/// Days before the due date when the first reminder goes out.
pub const DAYS_BEFORE: i64 = 3;
/// Rows handled per statement; the sweep loops until none is left.
const BATCH: i64 = 1_000;

/// What one sweep sent.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Swept {
    pub tasks_due: usize,
    pub tasks_overdue: usize,
    pub items_due: usize,
    pub items_overdue: usize,
}

#[derive(Debug, sqlx::FromRow)]
struct Due {
    entity_id: i64,
    org_id: i64,
    title: String,
    due_on: NaiveDate,
    /// The plan (items only) and its accountable leader.
    plan_id: Option<i64>,
    leader_person_id: Option<i64>,
}

/// Sends every reminder owed on `today`.
pub async fn sweep(db: &Db, today: NaiveDate) -> Result<Swept> {
    let soon = today + Duration::days(DAYS_BEFORE);
    let mut out = Swept::default();
    for (kind, stage) in [
        ("task", "before"),
        ("task", "overdue"),
        ("item", "before"),
        ("item", "overdue"),
    ] {
        let sql = match kind {
            "task" => format!(
                "SELECT t.task_id AS entity_id, t.org_id, k.title, t.due_on, CAST(NULL AS BIGINT) AS plan_id, CAST(NULL AS BIGINT) AS leader_person_id \
                 FROM task_targets t JOIN tasks k ON k.id = t.task_id WHERE t.done_on IS NULL AND {} \
                 AND NOT EXISTS (SELECT 1 FROM reminders_sent r WHERE r.kind = 'task' AND r.entity_id = t.task_id AND r.org_id = t.org_id AND r.stage = $3) \
                 ORDER BY t.due_on, t.task_id, t.org_id LIMIT $4",
                if stage == "before" { "t.due_on >= $1 AND t.due_on <= $2" } else { "t.due_on < $1 AND $2 = $2" }
            ),
            _ => format!(
                "SELECT u.item_id AS entity_id, u.org_id, i.title, u.due_on, p.id AS plan_id, p.leader_person_id \
                 FROM plan_item_units u JOIN plan_items i ON i.id = u.item_id JOIN plans p ON p.id = i.plan_id \
                 WHERE u.lead AND NOT u.done AND p.status IN ('issued', 'interim_review') AND {} \
                 AND NOT EXISTS (SELECT 1 FROM reminders_sent r WHERE r.kind = 'item' AND r.entity_id = u.item_id AND r.org_id = u.org_id AND r.stage = $3) \
                 ORDER BY u.due_on, u.item_id LIMIT $4",
                if stage == "before" { "u.due_on >= $1 AND u.due_on <= $2" } else { "u.due_on < $1 AND $2 = $2" }
            ),
        };
        loop {
            let rows: Vec<Due> = db_run!(db, p => sqlx::query_as::<_, Due>(&sql).bind(today).bind(soon).bind(stage).bind(BATCH).fetch_all(p).await)?;
            if rows.is_empty() {
                break;
            }
            for r in &rows {
                if remind(db, kind, stage, r, today).await? {
                    match (kind, stage) {
                        ("task", "before") => out.tasks_due += 1,
                        ("task", _) => out.tasks_overdue += 1,
                        (_, "before") => out.items_due += 1,
                        _ => out.items_overdue += 1,
                    }
                }
            }
        }
    }
    Ok(out)
}

/// Claims the reminder of `r` at `stage` and, when this sweep claimed it, notifies.
async fn remind(db: &Db, kind: &str, stage: &str, r: &Due, today: NaiveDate) -> Result<bool> {
    let claimed = db_exec!(db, p => sqlx::query(
        "INSERT INTO reminders_sent (kind, entity_id, org_id, stage, sent_on) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING")
        .bind(kind).bind(r.entity_id).bind(r.org_id).bind(stage).bind(today).execute(p).await)?;
    if claimed == 0 {
        return Ok(false);
    }
    // The organization's secretaries and those above them on it (not its members).
    let holders = format!(
        "SELECT DISTINCT a.person_id FROM role_grants g JOIN accounts a ON a.id = g.account_id \
         WHERE g.org_id = $1 AND g.role IN ({}) AND a.person_id IS NOT NULL AND NOT a.disabled",
        crate::scope::roles_sql(crate::scope::ATTEND)
    );
    let mut people: Vec<i64> = db_run!(db, p => sqlx::query_scalar(&holders)
        .bind(r.org_id).fetch_all(p).await)?;
    if stage == "overdue" {
        people.extend(r.leader_person_id);
    }
    let due = r.due_on.format("%d/%m/%Y");
    let (what, link) = match (kind, r.plan_id) {
        ("item", Some(p)) => (
            "Hạng mục kế hoạch",
            format!("/plans/{p}#item-{}", r.entity_id),
        ),
        _ => ("Việc được giao", format!("/tasks/{}", r.entity_id)),
    };
    let (title, body) = if stage == "before" {
        (
            format!("Sắp đến hạn: {}", r.title),
            format!("{what} đến hạn ngày {due}; báo cáo khi hoàn thành."),
        )
    } else {
        (
            format!("Quá hạn: {}", r.title),
            format!("{what} đã quá hạn từ ngày {due} mà chưa báo cáo hoàn thành."),
        )
    };
    create_batch(
        db,
        &people,
        &NewNotification {
            kind: if stage == "before" {
                "reminder"
            } else {
                "overdue"
            },
            title,
            body,
            link,
        },
    )
    .await
    .map_err(|e| StoreError::Internal(format!("reminder: {e}")))?;
    Ok(true)
}
