//! Working groups and their evaluations of the classes of lower levels (R3.2).
//!
//! A group is formed by an organization (its organizer) from 2 or 3 people holding a position
//! in its propaganda department or advisory bodies, and assigned to classes of organizations
//! strictly below it. Its members (or the forming organization's organizers) file one
//! structured evaluation per assigned class; the attendance rate is computed from the class's
//! attendance, never typed. The counts of assignments and evaluations are kept on write.

use chrono::{DateTime, NaiveDate, Utc};
use domain::ids::{ClassId, OrgId, SupervisionId, WorkingGroupId};
use domain::org::positions::CommitteeRole;
use domain::oversight::{Evaluation, Grade, NewAssignment, NewGroup};

use crate::db::Db;
use crate::error::{Result, StoreError};
use crate::scope::{Scope, READ, WRITE};
use crate::study::classes;
use crate::{db_run, now};

/// Rows of a list page.
pub const PAGE: i64 = 50;

/// A working group as shown.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Group {
    #[sqlx(try_from = "i64")]
    pub id: WorkingGroupId,
    pub org_id: i64,
    pub org_name: String,
    pub name: String,
    pub assignment_count: i64,
    pub evaluated_count: i64,
    pub created_at: DateTime<Utc>,
    /// The members' names, the lead first.
    #[sqlx(default)]
    pub member_names: String,
}

/// A member of a group.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Member {
    pub person_id: i64,
    pub full_name: String,
    pub leads: bool,
}

/// A group's assignment to a class, with its evaluation once filed.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Supervision {
    #[sqlx(try_from = "i64")]
    pub id: SupervisionId,
    pub group_id: i64,
    pub group_name: String,
    pub class_id: i64,
    pub class_title: String,
    pub org_id: i64,
    pub org_name: String,
    pub due_on: NaiveDate,
    pub chair_present: Option<bool>,
    pub standing_opened: Option<bool>,
    pub standing_closed: Option<bool>,
    pub discussion_minutes: Option<i64>,
    pub attendance_percent: Option<i64>,
    pub materials_fit: Option<bool>,
    pub grade: Option<String>,
    pub remarks: Option<String>,
    pub surveyed: Option<i64>,
    pub understood_well: Option<i64>,
    pub understood_partly: Option<i64>,
    pub understood_poorly: Option<i64>,
    pub evaluated_at: Option<DateTime<Utc>>,
}

impl Supervision {
    pub fn grade_label(&self) -> &'static str {
        self.grade
            .as_deref()
            .and_then(|g| Grade::parse(g).ok())
            .map_or("", Grade::label)
    }
    pub fn evaluated(&self) -> bool {
        self.evaluated_at.is_some()
    }
    /// Not evaluated and past its due date on `today`.
    pub fn overdue(&self, today: NaiveDate) -> bool {
        !self.evaluated() && self.due_on < today
    }
}

const GROUP_COLUMNS: &str = "SELECT g.id, g.org_id, o.name AS org_name, g.name, CAST(g.assignment_count AS BIGINT) AS assignment_count, \
     CAST(g.evaluated_count AS BIGINT) AS evaluated_count, g.created_at FROM working_groups g JOIN orgs o ON o.id = g.org_id";

const SUPERVISION_COLUMNS: &str = "SELECT s.id, s.group_id, g.name AS group_name, s.class_id, k.title AS class_title, s.org_id, o.name AS org_name, \
     s.due_on, s.chair_present, s.standing_opened, s.standing_closed, CAST(s.discussion_minutes AS BIGINT) AS discussion_minutes, \
     CAST(s.attendance_percent AS BIGINT) AS attendance_percent, s.materials_fit, s.grade, s.remarks, CAST(s.surveyed AS BIGINT) AS surveyed, \
     CAST(s.understood_well AS BIGINT) AS understood_well, CAST(s.understood_partly AS BIGINT) AS understood_partly, \
     CAST(s.understood_poorly AS BIGINT) AS understood_poorly, s.evaluated_at \
     FROM supervisions s JOIN working_groups g ON g.id = s.group_id JOIN classes k ON k.id = s.class_id JOIN orgs o ON o.id = s.org_id";

/// SQL true when the caller (`$1` account, `$n` person) sees the group `g`: a member of it, or
/// a reader of the forming organization's subtree.
fn sees_group(person_param: usize) -> String {
    format!(
        "(EXISTS (SELECT 1 FROM working_group_members wm WHERE wm.group_id = g.id AND wm.person_id = ${person_param}) OR {})",
        Scope::probe_sql("g.org_id", 1, READ)
    )
}

fn person(scope: &Scope) -> i64 {
    scope.person_id.map_or(0, |p| p.0)
}

/// Refuses a group whose members do not all hold a propaganda or advisory position in `org`.
async fn check_staff(db: &Db, org: OrgId, g: &NewGroup) -> Result<()> {
    let list = serde_json::to_string(&g.members.iter().map(|p| p.0).collect::<Vec<_>>())
        .map_err(|e| StoreError::Internal(e.to_string()))?;
    let sql = format!(
        "SELECT COUNT(DISTINCT cp.person_id) FROM committee_positions cp WHERE cp.org_id = $1 AND cp.ended_on IS NULL \
         AND cp.role IN ({}) AND cp.person_id IN ({})",
        CommitteeRole::sql_list(CommitteeRole::SUPERVISING),
        db.json_ints(2)
    );
    let (staff,): (i64,) =
        db_run!(db, p => sqlx::query_as(&sql).bind(org.0).bind(&list).fetch_one(p).await)?;
    if usize::try_from(staff).unwrap_or(0) != g.members.len() {
        return Err(StoreError::rule(
            "member_not_staff",
            "Thành viên: mỗi thành viên tổ công tác phải là cán bộ Ban Tuyên giáo hoặc cơ quan tham mưu của tổ chức lập tổ.".into(),
        ));
    }
    Ok(())
}

/// Renames a group and replaces its members (2 or 3, staff of the forming organization, as on
/// forming it): the forming organization's organizer; audited with the old and new members.
/// Its assignments and evaluations stay.
pub async fn update(db: &Db, scope: &Scope, group: &Group, g: &NewGroup) -> Result<()> {
    let org = OrgId(group.org_id);
    scope.require(db, org, WRITE).await?;
    domain::oversight::group_size(g.members.len())
        .map_err(|e| StoreError::rule("working_group_size", format!("Thành viên: {e}")))?;
    check_staff(db, org, g).await?;
    let old = members(db, group)
        .await?
        .into_iter()
        .map(|m| m.full_name)
        .collect::<Vec<_>>()
        .join(", ");
    let detail = format!("{}: {old} -> {} thành viên", g.name, g.members.len());
    db_run!(db, p => {
        let mut tx = p.begin().await?;
        sqlx::query("UPDATE working_groups SET name = $2 WHERE id = $1").bind(group.id.0).bind(&g.name).execute(&mut *tx).await?;
        sqlx::query("DELETE FROM working_group_members WHERE group_id = $1").bind(group.id.0).execute(&mut *tx).await?;
        for m in &g.members {
            sqlx::query("INSERT INTO working_group_members (group_id, person_id, province_id, leads) \
                         SELECT $1, $2, g.province_id, $3 FROM working_groups g WHERE g.id = $1")
                .bind(group.id.0).bind(m.0).bind(*m == g.lead).execute(&mut *tx).await?;
        }
        crate::audit_in!(&mut *tx, scope, "update", "working_group", group.id.0, Some(org), &detail)?;
        tx.commit().await?;
        Ok::<_, StoreError>(())
    })
}

/// Forms a working group of `org` (organizer and up). Each member holds a position in `org`'s
/// propaganda department or advisory bodies (R3.2); the size rule is the domain's.
pub async fn create(db: &Db, scope: &Scope, org: OrgId, g: &NewGroup) -> Result<WorkingGroupId> {
    scope.require(db, org, WRITE).await?;
    domain::oversight::group_size(g.members.len())
        .map_err(|e| StoreError::rule("working_group_size", format!("Thành viên: {e}")))?;
    check_staff(db, org, g).await?;
    let detail = format!("{} ({} thành viên)", g.name, g.members.len());
    let id = db_run!(db, p => {
        let mut tx = p.begin().await?;
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO working_groups (org_id, province_id, name, created_by, created_at) \
             SELECT o.id, o.province_id, $2, $3, $4 FROM orgs o WHERE o.id = $1 RETURNING id")
            .bind(org.0).bind(&g.name).bind(scope.account_id.0).bind(now())
            .fetch_one(&mut *tx).await?;
        for m in &g.members {
            sqlx::query("INSERT INTO working_group_members (group_id, person_id, province_id, leads) \
                         SELECT $1, $2, g.province_id, $3 FROM working_groups g WHERE g.id = $1")
                .bind(id).bind(m.0).bind(*m == g.lead).execute(&mut *tx).await?;
        }
        crate::audit_in!(&mut *tx, scope, "create", "working_group", id, Some(org), &detail)?;
        tx.commit().await?;
        Ok::<_, StoreError>(id)
    })?;
    Ok(WorkingGroupId(id))
}

/// One group the caller sees.
pub async fn get(db: &Db, scope: &Scope, id: WorkingGroupId) -> Result<Group> {
    let sql = format!("{GROUP_COLUMNS} WHERE g.id = $2 AND {}", sees_group(3));
    db_run!(db, p => sqlx::query_as::<_, Group>(&sql).bind(scope.account_id.0).bind(id.0).bind(person(scope)).fetch_optional(p).await)?
        .ok_or(StoreError::NotFound)
}

/// A group's members, the lead first.
pub async fn members(db: &Db, group: &Group) -> Result<Vec<Member>> {
    let sql = "SELECT m.person_id, p.full_name, m.leads FROM working_group_members m JOIN people p ON p.id = m.person_id \
               WHERE m.group_id = $1 ORDER BY m.leads DESC, p.sort_key, p.id";
    Ok(db_run!(db, p => sqlx::query_as::<_, Member>(sql).bind(group.id.0).fetch_all(p).await)?)
}

/// Groups the caller sees — those formed in their subtree and those they sit on — newest
/// first, a page before the group `before`.
pub async fn list(
    db: &Db,
    scope: &Scope,
    before: Option<i64>,
) -> Result<(Vec<Group>, Option<i64>)> {
    let sql = format!(
        "{GROUP_COLUMNS} WHERE g.id < $2 AND ({} OR g.id IN (SELECT group_id FROM working_group_members WHERE person_id = $3)) \
         ORDER BY g.id DESC LIMIT $4",
        Scope::subtree_sql("g.org_id", 1, READ)
    );
    let rows = db_run!(db, p => sqlx::query_as::<_, Group>(&sql).bind(scope.account_id.0).bind(before.unwrap_or(i64::MAX))
        .bind(person(scope)).bind(PAGE + 1).fetch_all(p).await)?;
    let (mut rows, next) = crate::plans::page_of(rows, PAGE, |g| g.id.0);
    for g in &mut rows {
        g.member_names = members(db, g)
            .await?
            .into_iter()
            .map(|m| m.full_name)
            .collect::<Vec<_>>()
            .join(", ");
    }
    Ok((rows, next))
}

/// May the caller file for `group`: a member of it, or an organizer of the forming organization.
async fn may_file(db: &Db, scope: &Scope, group: &Group) -> Result<bool> {
    if let Some(p) = scope.person_id {
        let (member,): (bool,) = db_run!(db, q => sqlx::query_as(
            "SELECT EXISTS (SELECT 1 FROM working_group_members WHERE group_id = $1 AND person_id = $2)")
            .bind(group.id.0).bind(p.0).fetch_one(q).await)?;
        if member {
            return Ok(true);
        }
    }
    scope.covers(db, OrgId(group.org_id), WRITE).await
}

/// Assigns the group to a class of an organization strictly below the one that formed it
/// (organizer of the forming organization). Refused twice for the same class.
pub async fn assign(
    db: &Db,
    scope: &Scope,
    group: &Group,
    a: &NewAssignment,
) -> Result<SupervisionId> {
    scope.require(db, OrgId(group.org_id), WRITE).await?;
    let class = classes::get(db, scope, a.class_id).await.map_err(|_| {
        StoreError::rule(
            "class_outside_group",
            "Lớp học: không tìm thấy lớp học này trong phạm vi của bạn.".into(),
        )
    })?;
    let (below,): (bool,) = db_run!(db, p => sqlx::query_as(
        "SELECT EXISTS (SELECT 1 FROM org_closure WHERE ancestor_id = $1 AND descendant_id = $2 AND depth >= 1)")
        .bind(group.org_id).bind(class.org_id).fetch_one(p).await)?;
    if !below {
        return Err(StoreError::rule(
            "class_outside_group",
            format!(
                "Lớp học: «{}» không thuộc cấp dưới của {}; tổ công tác chỉ giám sát lớp học của cấp dưới.",
                class.title, group.org_name
            ),
        ));
    }
    let detail = format!("{} → {}", group.name, class.title);
    let id = db_run!(db, p => {
        let mut tx = p.begin().await?;
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO supervisions (group_id, class_id, org_id, province_id, due_on, assigned_by, assigned_at) \
             SELECT $1, k.id, k.org_id, k.province_id, $3, $4, $5 FROM classes k WHERE k.id = $2 RETURNING id")
            .bind(group.id.0).bind(class.id).bind(a.due_on).bind(scope.account_id.0).bind(now())
            .fetch_one(&mut *tx).await.map_err(StoreError::unique("class_id"))?;
        sqlx::query("UPDATE working_groups SET assignment_count = assignment_count + 1 WHERE id = $1")
            .bind(group.id.0).execute(&mut *tx).await?;
        crate::audit_in!(&mut *tx, scope, "assign", "working_group", group.id.0, Some(OrgId(class.org_id)), &detail)?;
        tx.commit().await?;
        Ok::<_, StoreError>(id)
    })?;
    Ok(SupervisionId(id))
}

/// A group's assignments, by due date.
pub async fn assignments(db: &Db, group: &Group) -> Result<Vec<Supervision>> {
    let sql =
        format!("{SUPERVISION_COLUMNS} WHERE s.group_id = $1 ORDER BY s.due_on, s.id LIMIT 1000");
    Ok(
        db_run!(db, p => sqlx::query_as::<_, Supervision>(&sql).bind(group.id.0).fetch_all(p).await)?,
    )
}

/// The assignment of `group` to `class`, if there is one.
pub async fn assignment(
    db: &Db,
    scope: &Scope,
    group: WorkingGroupId,
    class: ClassId,
) -> Result<Supervision> {
    let g = get(db, scope, group).await?;
    let sql = format!("{SUPERVISION_COLUMNS} WHERE s.group_id = $1 AND s.class_id = $2");
    db_run!(db, p => sqlx::query_as::<_, Supervision>(&sql).bind(g.id.0).bind(class.0).fetch_optional(p).await)?
        .ok_or_else(|| StoreError::rule(
            "not_assigned",
            "Lớp học: tổ công tác không được phân công giám sát lớp học này.".into(),
        ))
}

/// One assignment the caller sees (through its group).
pub async fn supervision(
    db: &Db,
    scope: &Scope,
    id: SupervisionId,
) -> Result<(Group, Supervision)> {
    let sql = format!("{SUPERVISION_COLUMNS} WHERE s.id = $1");
    let s = db_run!(db, p => sqlx::query_as::<_, Supervision>(&sql).bind(id.0).fetch_optional(p).await)?
        .ok_or(StoreError::NotFound)?;
    let g = get(db, scope, WorkingGroupId(s.group_id)).await?;
    Ok((g, s))
}

/// The attendance rate of a class in percent (present marks over participants × sessions held
/// so far), from its attendance; `None` before any session or participant.
pub async fn attendance_percent(db: &Db, class_id: i64) -> Result<Option<i64>> {
    let (present, expected): (i64, i64) = db_run!(db, p => sqlx::query_as(
        "SELECT (SELECT COUNT(*) FROM attendance a JOIN study_sessions s ON s.id = a.session_id JOIN participants pt ON pt.id = a.participant_id \
                 WHERE s.class_id = $1 AND s.status <> 'cancelled' AND a.status = 'present' AND pt.removed_at IS NULL), \
                CAST(k.participant_count AS BIGINT) * (SELECT COUNT(*) FROM study_sessions s WHERE s.class_id = $1 AND s.status <> 'cancelled' AND s.starts_at <= $2) \
         FROM classes k WHERE k.id = $1")
        .bind(class_id).bind(now()).fetch_one(p).await)?;
    Ok((expected > 0).then(|| (present * 100 / expected).min(100)))
}

/// Files (or corrects) the evaluation of an assignment: a member of the group or an organizer
/// of the forming organization. Audited with the old and new grade.
pub async fn evaluate(
    db: &Db,
    scope: &Scope,
    group: &Group,
    s: &Supervision,
    e: &Evaluation,
) -> Result<()> {
    if !may_file(db, scope, group).await? {
        return Err(StoreError::Forbidden);
    }
    let rate = attendance_percent(db, s.class_id).await?;
    let survey = e.survey;
    let detail = format!(
        "{}: {} -> {}",
        s.class_title,
        s.grade.as_deref().unwrap_or("—"),
        e.grade.code()
    );
    let first = !s.evaluated();
    db_run!(db, p => {
        let mut tx = p.begin().await?;
        sqlx::query(
            "UPDATE supervisions SET chair_present = $2, standing_opened = $3, standing_closed = $4, discussion_minutes = $5, \
             attendance_percent = $6, materials_fit = $7, grade = $8, remarks = $9, surveyed = $10, understood_well = $11, \
             understood_partly = $12, understood_poorly = $13, evaluated_by = $14, evaluated_at = $15 WHERE id = $1")
            .bind(s.id.0).bind(e.chair_present).bind(e.standing_opened).bind(e.standing_closed).bind(e.discussion_minutes)
            .bind(rate).bind(e.materials_fit).bind(e.grade.code()).bind(&e.remarks)
            .bind(survey.map(|t| t.surveyed)).bind(survey.map(|t| t.well)).bind(survey.map(|t| t.partly)).bind(survey.map(|t| t.poorly))
            .bind(scope.account_id.0).bind(now())
            .execute(&mut *tx).await?;
        if first {
            sqlx::query("UPDATE working_groups SET evaluated_count = evaluated_count + 1 WHERE id = $1")
                .bind(group.id.0).execute(&mut *tx).await?;
        }
        crate::audit_in!(&mut *tx, scope, "evaluate", "supervision", s.id.0, Some(OrgId(s.org_id)), &detail)?;
        tx.commit().await?;
        Ok::<_, StoreError>(())
    })
}

/// The supervised classes of `org`'s subtree and how they were graded, newest assignment first,
/// a page before `before` (R3.2: per organization, which classes were supervised).
pub async fn of_org(
    db: &Db,
    scope: &Scope,
    org: OrgId,
    before: Option<i64>,
) -> Result<(Vec<Supervision>, Option<i64>)> {
    scope.require(db, org, READ).await?;
    let sql = format!(
        "{SUPERVISION_COLUMNS} WHERE s.id < $2 AND s.org_id IN (SELECT descendant_id FROM org_closure WHERE ancestor_id = $1) \
         ORDER BY s.id DESC LIMIT $3"
    );
    let rows = db_run!(db, p => sqlx::query_as::<_, Supervision>(&sql).bind(org.0).bind(before.unwrap_or(i64::MAX)).bind(PAGE + 1).fetch_all(p).await)?;
    Ok(crate::plans::page_of(rows, PAGE, |s| s.id.0))
}

/// The supervisions of one class (its page shows them).
pub async fn of_class(db: &Db, class_id: i64) -> Result<Vec<Supervision>> {
    let sql = format!("{SUPERVISION_COLUMNS} WHERE s.class_id = $1 ORDER BY s.id");
    Ok(db_run!(db, p => sqlx::query_as::<_, Supervision>(&sql).bind(class_id).fetch_all(p).await)?)
}

/// The assignments of the groups the caller sits on, still to evaluate first, by due date.
pub async fn mine(db: &Db, scope: &Scope) -> Result<Vec<Supervision>> {
    let Some(p) = scope.person_id else {
        return Ok(vec![]);
    };
    let sql = format!(
        "{SUPERVISION_COLUMNS} WHERE s.group_id IN (SELECT group_id FROM working_group_members WHERE person_id = $1) \
         ORDER BY s.evaluated_at IS NOT NULL, s.due_on, s.id LIMIT 200"
    );
    Ok(db_run!(db, q => sqlx::query_as::<_, Supervision>(&sql).bind(p.0).fetch_all(q).await)?)
}

/// The class an assignment supervises. A group's member may hold no grant over the lower
/// organization; reaching the assignment through [`supervision`] (which checks the group) is
/// what lets them read the class.
pub async fn class_of(db: &Db, s: &Supervision) -> Result<classes::Class> {
    classes::get_unscoped(db, ClassId(s.class_id)).await
}
