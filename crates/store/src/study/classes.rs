//! Classes (study conferences), their sessions and bridge points (R1.3, R2.1, R2.2, R3.1).

use chrono::{DateTime, Utc};
use domain::auth::Role;
use domain::ids::{BridgePointId, CampaignId, ClassId, OrgId, SessionId};
use domain::study::{ClassForm, ClassStatus, NewBridgePoint, NewClass, NewSession, Percent};

use super::full_name_sql;
use crate::db::Db;
use crate::error::{Result, StoreError};
use crate::scope::{Scope, READ, WRITE};
use crate::{db_run, now, org};

/// A class as shown.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Class {
    pub id: i64,
    pub campaign_id: i64,
    pub campaign_name: String,
    pub org_id: i64,
    pub org_name: String,
    /// The province key its rows carry (issue 13.6, decision 0016).
    pub province_id: i64,
    pub title: String,
    /// in_person, online, hybrid
    pub form: String,
    /// key_cadres, grassroots, public
    pub audience_tier: String,
    pub venue_name: Option<String>,
    pub venue_capacity: Option<i64>,
    pub chair_person_id: Option<i64>,
    pub chair_name: Option<String>,
    pub opening_speaker_id: Option<i64>,
    pub opening_speaker_name: Option<String>,
    pub closing_speaker_id: Option<i64>,
    pub closing_speaker_name: Option<String>,
    /// R3.5: percent of class time.
    pub retake_threshold: i64,
    /// planned or finished
    pub status: String,
    pub participant_count: i64,
    /// R1.3: who leads it is not as the guideline asks (kept on write; `presenters::check` says why).
    pub lead_warning: bool,
    pub session_count: i64,
    pub discussion_count: i64,
    pub class_minutes: i64,
    pub first_session_at: Option<DateTime<Utc>>,
    /// The caller may open the class's campaign (issue 11.6: never link a page that answers 404).
    #[sqlx(default)]
    pub campaign_visible: bool,
}

impl Class {
    pub fn form_label(&self) -> &'static str {
        ClassForm::parse(&self.form)
            .map(ClassForm::label)
            .unwrap_or("")
    }
    pub fn status_label(&self) -> &'static str {
        status_label(&self.status)
    }
    pub fn is_finished(&self) -> bool {
        self.status == ClassStatus::Finished.code()
    }
    pub fn has_bridge_points(&self) -> bool {
        ClassForm::parse(&self.form).is_ok_and(ClassForm::has_bridge_points)
    }
    /// R3.1: no discussion session in the schedule.
    pub fn lacks_discussion(&self) -> bool {
        self.discussion_count == 0
    }
    /// R2.1: people over the venue's capacity (shown, never cut).
    pub fn overflow(&self) -> Option<usize> {
        let n = usize::try_from(self.participant_count).unwrap_or(0);
        domain::study::overflow(n, self.venue_capacity.and_then(|c| u32::try_from(c).ok()))
    }
    pub fn threshold(&self) -> Percent {
        Percent::new(self.retake_threshold).unwrap_or_default()
    }
}

/// A class status as shown ("Đã hủy" for a cancelled class).
pub fn status_label(status: &str) -> &'static str {
    if status == super::changes::CLASS_CANCELLED {
        return "Đã hủy";
    }
    ClassStatus::parse(status)
        .map(ClassStatus::label)
        .unwrap_or("")
}

/// A session (buổi học) of a class.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StudySession {
    pub id: i64,
    pub class_id: i64,
    pub starts_at: DateTime<Utc>,
    pub duration_minutes: i64,
    pub topic: String,
    pub is_discussion: bool,
    /// Attendance marks recorded so far.
    pub recorded_count: i64,
    /// Who presents it and whether it carries the key content (R1.3).
    pub presenter_person_id: Option<i64>,
    pub presenter_name: Option<String>,
    pub key_content: bool,
}

impl StudySession {
    /// When the session ends.
    pub fn ends_at(&self) -> DateTime<Utc> {
        self.starts_at + chrono::Duration::minutes(self.duration_minutes)
    }
    /// Has the session ended by `now` (it then counts in provisional results)?
    pub fn has_ended(&self, now: DateTime<Utc>) -> bool {
        self.ends_at() <= now
    }
}

/// A bridge point (điểm cầu) of an online class (R2.2).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct BridgePoint {
    pub id: i64,
    pub class_id: i64,
    pub org_id: i64,
    pub org_name: String,
    pub name: String,
    pub operator_person_id: Option<i64>,
    pub operator_name: Option<String>,
    pub capacity: Option<i64>,
    pub participant_count: i64,
}

/// What the caller may do with a class: everything under its organizer, or only the bridge
/// points in their subtree (an operator of a commune bridge point of a province conference).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Access {
    /// The caller sees the organizing organization.
    Full,
    /// The caller sees only these bridge points.
    BridgePoints(Vec<i64>),
}

impl Access {
    /// SQL that limits participants of alias `pt` to what this access may see.
    pub(crate) fn participant_sql(&self) -> String {
        match self {
            Access::Full => "TRUE".into(),
            Access::BridgePoints(ids) if ids.is_empty() => "FALSE".into(),
            Access::BridgePoints(ids) => {
                let list = ids
                    .iter()
                    .map(i64::to_string)
                    .collect::<Vec<_>>()
                    .join(", ");
                format!("pt.bridge_point_id IN ({list})")
            }
        }
    }
}

/// The class columns, and `extra` columns (each starting with a comma).
fn select_sql_with(extra: &str) -> String {
    format!(
        "SELECT k.id, k.campaign_id, c.name AS campaign_name, k.org_id, o.name AS org_name, k.province_id, k.title, k.form, k.audience_tier, \
         k.venue_name, k.venue_capacity, k.chair_person_id, {ch} AS chair_name, k.opening_speaker_id, {op} AS opening_speaker_name, \
         k.closing_speaker_id, {cl} AS closing_speaker_name, k.retake_threshold, k.status, \
         k.participant_count, k.lead_warning, \
         (SELECT COUNT(*) FROM study_sessions s WHERE s.class_id = k.id AND s.status <> 'cancelled') AS session_count, \
         (SELECT COUNT(*) FROM study_sessions s WHERE s.class_id = k.id AND s.status <> 'cancelled' AND s.is_discussion) AS discussion_count, \
         (SELECT CAST(COALESCE(SUM(s.duration_minutes), 0) AS BIGINT) FROM study_sessions s WHERE s.class_id = k.id AND s.status <> 'cancelled') AS class_minutes, \
         (SELECT MIN(s.starts_at) FROM study_sessions s WHERE s.class_id = k.id AND s.status <> 'cancelled') AS first_session_at{extra} \
         FROM classes k JOIN campaigns c ON c.id = k.campaign_id JOIN orgs o ON o.id = k.org_id \
         LEFT JOIN people ch ON ch.id = k.chair_person_id LEFT JOIN people op ON op.id = k.opening_speaker_id \
         LEFT JOIN people cl ON cl.id = k.closing_speaker_id",
        ch = full_name_sql("ch"),
        op = full_name_sql("op"),
        cl = full_name_sql("cl"),
    )
}

/// The class columns as the account bound as `$1` sees them: with whether it may open the
/// class's campaign (a class seen through a bridge point may belong to a campaign above).
fn select_sql() -> String {
    select_sql_with(&format!(
        ", {} AS campaign_visible",
        Scope::subtree_sql("c.org_id", 1, READ)
    ))
}

/// Visibility of a class: its organizer, or one of its bridge points, lies in the caller's subtree.
/// SQL true when the class of alias `k` is visible to the account bound as `$1`.
pub(crate) fn visible_sql() -> String {
    format!(
        "({} OR EXISTS (SELECT 1 FROM bridge_points b WHERE b.class_id = k.id AND {}))",
        Scope::subtree_sql("k.org_id", 1, READ),
        Scope::subtree_sql("b.org_id", 1, READ)
    )
}

/// Filter of the class list.
#[derive(Debug, Clone, Default)]
pub struct ClassFilter {
    pub campaign_id: Option<CampaignId>,
}

/// Classes the caller sees, soonest first.
pub async fn list(db: &Db, scope: &Scope, f: &ClassFilter) -> Result<Vec<Class>> {
    let sql = format!(
        "{} WHERE {} AND ($2 = 0 OR k.campaign_id = $2) ORDER BY COALESCE((SELECT MIN(s.starts_at) FROM study_sessions s WHERE s.class_id = k.id), k.created_at), k.id LIMIT 500",
        select_sql(),
        visible_sql()
    );
    let campaign = f.campaign_id.map(|c| c.0).unwrap_or(0);
    Ok(
        db_run!(db, p => sqlx::query_as::<_, Class>(&sql).bind(scope.account_id.0).bind(campaign).fetch_all(p).await)?,
    )
}

/// One class, if the caller sees it.
pub async fn get(db: &Db, scope: &Scope, id: ClassId) -> Result<Class> {
    let sql = format!("{} WHERE k.id = $2 AND {}", select_sql(), visible_sql());
    db_run!(db, p => sqlx::query_as::<_, Class>(&sql).bind(scope.account_id.0).bind(id.0).fetch_optional(p).await)?
        .ok_or(StoreError::NotFound)
}

/// A class without scope checks, for a member's own classes (the caller checked they are listed).
pub async fn get_unscoped(db: &Db, id: ClassId) -> Result<Class> {
    let sql = format!("{} WHERE k.id = $1", select_sql_with(""));
    db_run!(db, p => sqlx::query_as::<_, Class>(&sql).bind(id.0).fetch_optional(p).await)?
        .ok_or(StoreError::NotFound)
}

/// What the caller may touch in a visible class, given the least role `min` the action needs.
/// `Forbidden` when they see the class but hold no such role on it or on any of its bridge points.
pub async fn access(db: &Db, scope: &Scope, class: &Class, min: Role) -> Result<Access> {
    if scope.covers(db, OrgId(class.org_id), min).await? {
        return Ok(Access::Full);
    }
    let sql = format!(
        "SELECT b.id FROM bridge_points b WHERE b.class_id = $2 AND {}",
        Scope::subtree_sql("b.org_id", 1, min)
    );
    let ids: Vec<(i64,)> = db_run!(db, p => sqlx::query_as(&sql).bind(scope.account_id.0).bind(class.id).fetch_all(p).await)?;
    if ids.is_empty() {
        return Err(StoreError::Forbidden);
    }
    Ok(Access::BridgePoints(
        ids.into_iter().map(|(i,)| i).collect(),
    ))
}

/// Requires full planning rights (organizer at the class's organization).
pub async fn require_planner(db: &Db, scope: &Scope, class: &Class) -> Result<()> {
    match access(db, scope, class, WRITE).await? {
        Access::Full => Ok(()),
        Access::BridgePoints(_) => Err(StoreError::Forbidden),
    }
}

async fn check_people_visible(db: &Db, scope: &Scope, c: &NewClass) -> Result<()> {
    for p in [
        c.chair_person_id,
        c.opening_speaker_id,
        c.closing_speaker_id,
    ]
    .into_iter()
    .flatten()
    {
        org::get_person(db, scope, p).await.map_err(|_| {
            StoreError::rule(
                "person_not_found",
                "Không tìm thấy người được chọn trong phạm vi của bạn.".into(),
            )
        })?;
    }
    Ok(())
}

/// Creates a class in a campaign; the caller must organize at the class's organization.
pub async fn create(db: &Db, scope: &Scope, campaign: CampaignId, c: &NewClass) -> Result<ClassId> {
    super::campaigns::get(db, scope, campaign).await?;
    scope.require(db, c.org_id, WRITE).await?;
    check_people_visible(db, scope, c).await?;
    let threshold = match c.retake_threshold {
        Some(t) => t,
        // R8.3: the province's own threshold (issue 13.2), else the default.
        None => {
            crate::settings::of_org(db, c.org_id)
                .await?
                .retake_threshold
        }
    };
    let sql = "INSERT INTO classes (campaign_id, org_id, province_id, title, form, audience_tier, venue_name, venue_capacity, \
               chair_person_id, opening_speaker_id, closing_speaker_id, retake_threshold, status, created_at) \
               SELECT $1, o.id, o.province_id, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'planned', $12 FROM orgs o WHERE o.id = $2 RETURNING id";
    let id = db_run!(db, p => {
        let mut tx = p.begin().await?;
        let (id,): (i64,) = sqlx::query_as(sql)
            .bind(campaign.0).bind(c.org_id.0).bind(&c.title).bind(c.form.code()).bind(c.audience_tier.code())
            .bind(&c.venue_name).bind(c.venue_capacity.map(i64::from))
            .bind(c.chair_person_id.map(|p| p.0)).bind(c.opening_speaker_id.map(|p| p.0)).bind(c.closing_speaker_id.map(|p| p.0))
            .bind(i64::from(threshold.get())).bind(now())
            .fetch_one(&mut *tx).await?;
        sqlx::query(&super::presenters::REFRESH_CLASS).bind(id).execute(&mut *tx).await?;
        crate::audit_in!(&mut *tx, scope, "create", "class", id, Some(c.org_id), &c.title)?;
        tx.commit().await?;
        Ok::<_, StoreError>(id)
    })?;
    Ok(ClassId(id))
}

/// Corrects a class (issue 11.7): its title, organization, form, audience, venue, chair and
/// speakers, retake threshold. The planner of the class (and of the new organization) only; not
/// once it is finished (reopen it first). Once its first session has begun, a change needs a
/// reason and goes to the class's history with the old and new values (R2.6); every change is
/// audited.
pub async fn update(
    db: &Db,
    scope: &Scope,
    class: &Class,
    c: &NewClass,
    reason: &str,
) -> Result<()> {
    require_planner(db, scope, class).await?;
    if class.is_finished() {
        return Err(StoreError::rule(
            "class_finished",
            "Lớp học đã kết thúc; mở lại lớp học để sửa.".into(),
        ));
    }
    if c.org_id.0 != class.org_id {
        scope.require(db, c.org_id, WRITE).await?;
    }
    check_people_visible(db, scope, c).await?;
    let threshold = c
        .retake_threshold
        .map_or(class.retake_threshold, |t| i64::from(t.get()));
    // What changed, as the history and the audit log show it.
    let mut d = super::changes::Diff::default();
    let mut diff = |label: &str, old: String, new: String| d.note(label, old, new);
    diff("Tên", class.title.clone(), c.title.clone());
    diff("Hình thức", class.form.clone(), c.form.code().to_string());
    diff(
        "Đối tượng",
        class.audience_tier.clone(),
        c.audience_tier.code().to_string(),
    );
    diff(
        "Địa điểm",
        class.venue_name.clone().unwrap_or_default(),
        c.venue_name.clone().unwrap_or_default(),
    );
    diff(
        "Sức chứa",
        class
            .venue_capacity
            .map(|v| v.to_string())
            .unwrap_or_default(),
        c.venue_capacity.map(|v| v.to_string()).unwrap_or_default(),
    );
    diff("Tổ chức", class.org_id.to_string(), c.org_id.0.to_string());
    diff(
        "Chủ trì",
        class
            .chair_person_id
            .map(|v| v.to_string())
            .unwrap_or_default(),
        c.chair_person_id
            .map(|v| v.0.to_string())
            .unwrap_or_default(),
    );
    diff(
        "Khai mạc",
        class
            .opening_speaker_id
            .map(|v| v.to_string())
            .unwrap_or_default(),
        c.opening_speaker_id
            .map(|v| v.0.to_string())
            .unwrap_or_default(),
    );
    diff(
        "Bế mạc",
        class
            .closing_speaker_id
            .map(|v| v.to_string())
            .unwrap_or_default(),
        c.closing_speaker_id
            .map(|v| v.0.to_string())
            .unwrap_or_default(),
    );
    diff(
        "Ngưỡng học lại (%)",
        class.retake_threshold.to_string(),
        threshold.to_string(),
    );
    if d.is_empty() {
        return Ok(());
    }
    let now = now();
    let started = class.first_session_at.is_some_and(|t| t <= now);
    let reason = reason.trim();
    if started && reason.is_empty() {
        return Err(StoreError::rule(
            "reason_required",
            "Lớp học đang diễn ra: cần ghi lý do thay đổi (được lưu vào lịch sử thay đổi).".into(),
        ));
    }
    let (old_value, new_value) = d.values();
    db_run!(db, p => {
        let mut tx = p.begin().await?;
        sqlx::query(
            "UPDATE classes SET org_id = $2, province_id = (SELECT province_id FROM orgs WHERE id = $2), title = $3, form = $4, \
             audience_tier = $5, venue_name = $6, venue_capacity = $7, chair_person_id = $8, opening_speaker_id = $9, \
             closing_speaker_id = $10, retake_threshold = $11 WHERE id = $1")
            .bind(class.id).bind(c.org_id.0).bind(&c.title).bind(c.form.code()).bind(c.audience_tier.code())
            .bind(&c.venue_name).bind(c.venue_capacity.map(i64::from))
            .bind(c.chair_person_id.map(|p| p.0)).bind(c.opening_speaker_id.map(|p| p.0)).bind(c.closing_speaker_id.map(|p| p.0))
            .bind(threshold)
            .execute(&mut *tx).await?;
        if c.org_id.0 != class.org_id {
            // Moved to another organization, perhaps of another province: its rows follow.
            for sql in FOLLOW_PROVINCE {
                sqlx::query(sql).bind(class.id).execute(&mut *tx).await?;
            }
        }
        if started {
            sqlx::query(
                "INSERT INTO class_changes (class_id, session_id, action, reason, old_value, new_value, account_id, at, province_id) \
                 VALUES ($1, NULL, $2, $3, $4, $5, $6, $7, (SELECT province_id FROM classes WHERE id = $1))")
                .bind(class.id).bind(super::changes::EDIT_CLASS).bind(reason).bind(&old_value).bind(&new_value)
                .bind(scope.account_id.0).bind(now)
                .execute(&mut *tx).await?;
        }
        sqlx::query(&super::presenters::REFRESH_CLASS).bind(class.id).execute(&mut *tx).await?;
        crate::audit_in!(&mut *tx, scope, "update", "class", class.id, Some(OrgId(class.org_id)), &format!("{old_value} -> {new_value}"))?;
        tx.commit().await?;
        Ok::<_, StoreError>(())
    })?;
    Ok(())
}

/// The rows below class `$1` take the class's province key (issue 13.6), after a move.
const FOLLOW_PROVINCE: [&str; 11] = [
    "UPDATE study_sessions SET province_id = (SELECT province_id FROM classes WHERE id = $1) WHERE class_id = $1",
    "UPDATE bridge_points SET province_id = (SELECT province_id FROM classes WHERE id = $1) WHERE class_id = $1",
    "UPDATE participants SET province_id = (SELECT province_id FROM classes WHERE id = $1) WHERE class_id = $1",
    "UPDATE attendance SET province_id = (SELECT province_id FROM classes WHERE id = $1) \
     WHERE session_id IN (SELECT id FROM study_sessions WHERE class_id = $1)",
    "UPDATE checkins SET province_id = (SELECT province_id FROM classes WHERE id = $1) \
     WHERE session_id IN (SELECT id FROM study_sessions WHERE class_id = $1)",
    "UPDATE completions SET province_id = (SELECT province_id FROM classes WHERE id = $1) WHERE class_id = $1",
    "UPDATE retakes SET province_id = (SELECT province_id FROM classes WHERE id = $1) WHERE class_id = $1",
    "UPDATE seat_plans SET province_id = (SELECT province_id FROM classes WHERE id = $1) WHERE class_id = $1",
    "UPDATE seat_assignments SET province_id = (SELECT province_id FROM classes WHERE id = $1) WHERE class_id = $1",
    "UPDATE feedback SET province_id = (SELECT province_id FROM classes WHERE id = $1) WHERE class_id = $1",
    "UPDATE class_changes SET province_id = (SELECT province_id FROM classes WHERE id = $1) WHERE class_id = $1",
];

/// Sessions of a class, in time order; cancelled ones (R2.6) are left out.
pub async fn sessions(db: &Db, class: &Class) -> Result<Vec<StudySession>> {
    let sql =
        "SELECT s.id, s.class_id, s.starts_at, s.duration_minutes, s.topic, s.is_discussion, \
               (SELECT COUNT(*) FROM attendance a WHERE a.session_id = s.id) AS recorded_count, \
               s.presenter_person_id, pr.full_name AS presenter_name, s.key_content \
               FROM study_sessions s LEFT JOIN people pr ON pr.id = s.presenter_person_id WHERE s.class_id = $1 AND s.status <> 'cancelled' ORDER BY s.starts_at, s.id";
    Ok(db_run!(db, p => sqlx::query_as::<_, StudySession>(sql).bind(class.id).fetch_all(p).await)?)
}

/// One session with its class, if the caller sees the class.
pub async fn session(db: &Db, scope: &Scope, id: SessionId) -> Result<(Class, StudySession)> {
    let row: Option<(i64,)> = db_run!(db, p => sqlx::query_as("SELECT class_id FROM study_sessions WHERE id = $1").bind(id.0).fetch_optional(p).await)?;
    let (class_id,) = row.ok_or(StoreError::NotFound)?;
    let class = get(db, scope, ClassId(class_id)).await?;
    let s = sessions(db, &class)
        .await?
        .into_iter()
        .find(|s| s.id == id.0)
        .ok_or(StoreError::NotFound)?;
    Ok((class, s))
}

/// Adds a session; not once the class is finished.
pub async fn add_session(
    db: &Db,
    scope: &Scope,
    class: &Class,
    s: &NewSession,
) -> Result<SessionId> {
    require_planner(db, scope, class).await?;
    if class.is_finished() {
        return Err(StoreError::rule(
            "class_finished",
            "Lớp học đã kết thúc, không thể thêm buổi học.".into(),
        ));
    }
    if class.status == super::changes::CLASS_CANCELLED {
        return Err(StoreError::rule(
            "class_cancelled",
            "Lớp học đã bị hủy, không thể thêm buổi học.".into(),
        ));
    }
    if let Some(p) = s.presenter {
        super::presenters::check_presenter(db, scope, class, p).await?;
    }
    let id = db_run!(db, p => {
        let mut tx = p.begin().await?;
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO study_sessions (class_id, starts_at, duration_minutes, topic, is_discussion, province_id, presenter_person_id, key_content) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id")
            .bind(class.id).bind(s.starts_at).bind(i64::from(s.duration_minutes)).bind(&s.topic).bind(s.is_discussion).bind(class.province_id)
            .bind(s.presenter.map(|p| p.0)).bind(s.key_content)
            .fetch_one(&mut *tx).await?;
        sqlx::query(&super::presenters::REFRESH_CLASS).bind(class.id).execute(&mut *tx).await?;
        crate::audit_in!(&mut *tx, scope, "create", "session", id, Some(OrgId(class.org_id)), &s.topic)?;
        tx.commit().await?;
        Ok::<_, StoreError>(id)
    })?;
    Ok(SessionId(id))
}

/// Bridge points of a class.
pub async fn bridge_points(db: &Db, class: &Class) -> Result<Vec<BridgePoint>> {
    let sql = format!(
        "SELECT b.id, b.class_id, b.org_id, o.name AS org_name, b.name, b.operator_person_id, {} AS operator_name, b.capacity, \
         (SELECT COUNT(*) FROM participants pt WHERE pt.bridge_point_id = b.id AND pt.removed_at IS NULL) AS participant_count \
         FROM bridge_points b JOIN orgs o ON o.id = b.org_id LEFT JOIN people op ON op.id = b.operator_person_id \
         WHERE b.class_id = $1 ORDER BY o.sort_key",
        full_name_sql("op")
    );
    Ok(db_run!(db, p => sqlx::query_as::<_, BridgePoint>(&sql).bind(class.id).fetch_all(p).await)?)
}

/// Adds a bridge point (R2.2); the organization must be in the caller's subtree.
pub async fn add_bridge_point(
    db: &Db,
    scope: &Scope,
    class: &Class,
    b: &NewBridgePoint,
) -> Result<BridgePointId> {
    require_planner(db, scope, class).await?;
    if !class.has_bridge_points() {
        return Err(StoreError::rule(
            "class_not_online",
            "Chỉ lớp học trực tuyến hoặc kết hợp mới có điểm cầu.".into(),
        ));
    }
    org::get(db, scope, b.org_id).await?;
    if let Some(op) = b.operator_person_id {
        org::get_person(db, scope, op).await.map_err(|_| {
            StoreError::rule(
                "operator_not_found",
                "Không tìm thấy người vận hành trong phạm vi của bạn.".into(),
            )
        })?;
    }
    let id = db_run!(db, p => {
        let mut tx = p.begin().await?;
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO bridge_points (class_id, org_id, name, operator_person_id, capacity, province_id) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id")
            .bind(class.id).bind(b.org_id.0).bind(&b.name).bind(b.operator_person_id.map(|p| p.0)).bind(b.capacity.map(i64::from))
            .bind(class.province_id)
            .fetch_one(&mut *tx).await.map_err(StoreError::unique("org_id"))?;
        crate::audit_in!(&mut *tx, scope, "create", "bridge_point", id, Some(b.org_id), &b.name)?;
        tx.commit().await?;
        Ok::<_, StoreError>(id)
    })?;
    Ok(BridgePointId(id))
}
