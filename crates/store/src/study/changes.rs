//! Emergencies (R2.6): following the competent authority's direction (natural disaster,
//! epidemic), an organizer postpones a session or a whole class, moves a class online, or
//! cancels a session or a class, always with a reason. Every change is kept in `class_changes`
//! (old and new value in readable Vietnamese), written to the audit log, and notified to
//! everyone on the class's list.
//!
//! A cancelled session keeps its row (status `cancelled`) but no longer counts: it is left out of
//! [`super::classes::sessions`], of the class minutes and so of the attendance results.

use chrono::{DateTime, Duration, Utc};
use domain::ids::OrgId;
use domain::study::utc_to_local;

use super::classes::{self, Class};
use crate::db::Db;
use crate::error::{Result, StoreError};
use crate::notify::{self, NewNotification};
use crate::scope::Scope;
use crate::{db_run, now};

/// Status of a cancelled session (`study_sessions.status`).
pub const SESSION_CANCELLED: &str = "cancelled";
/// History action of a class corrected while it runs (issue 11.7, R2.6).
pub const EDIT_CLASS: &str = "edit_class";
/// History action of a session corrected once its class runs (issue 11.7, R2.6).
pub const EDIT_SESSION: &str = "edit_session";
/// Status of a cancelled class (`classes.status`).
pub const CLASS_CANCELLED: &str = "cancelled";
/// Longest reason kept.
pub const REASON_MAX: usize = 500;

domain::choice!(
    /// What an emergency change did (R2.6).
    ChangeAction {
        PostponeSession = "postpone_session" / "Hoãn buổi học",
        PostponeClass = "postpone_class" / "Hoãn lớp học",
        MoveOnline = "move_online" / "Chuyển sang học trực tuyến",
        CancelSession = "cancel_session" / "Hủy buổi học",
        CancelClass = "cancel_class" / "Hủy lớp học",
    }
);

/// A time as written in the history and the notifications: "07/02/2026 08:00" (Vietnam time).
pub fn when(t: DateTime<Utc>) -> String {
    utc_to_local(t).format("%d/%m/%Y %H:%M").to_string()
}

/// One line of a class's change history.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ClassChange {
    pub id: i64,
    pub class_id: i64,
    pub session_id: Option<i64>,
    /// postpone_session, postpone_class, move_online, cancel_session, cancel_class
    pub action: String,
    pub reason: String,
    pub old_value: String,
    pub new_value: String,
    /// Who made the change.
    pub account_name: Option<String>,
    pub at: DateTime<Utc>,
}

impl ClassChange {
    pub fn action_label(&self) -> &'static str {
        if self.action == EDIT_CLASS {
            return "Sửa thông tin lớp học";
        }
        if self.action == EDIT_SESSION {
            return "Sửa buổi học";
        }
        ChangeAction::parse(&self.action)
            .map(ChangeAction::label)
            .unwrap_or("")
    }
}

/// A session with its status, cancelled ones included.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SessionState {
    pub id: i64,
    pub starts_at: DateTime<Utc>,
    pub duration_minutes: i64,
    pub topic: String,
    /// scheduled or cancelled
    pub status: String,
}

impl SessionState {
    pub fn is_cancelled(&self) -> bool {
        self.status == SESSION_CANCELLED
    }
    /// Not cancelled and not yet over at `now`: what postponing or cancelling a class moves.
    pub fn is_unfinished(&self, now: DateTime<Utc>) -> bool {
        !self.is_cancelled() && self.starts_at + Duration::minutes(self.duration_minutes) > now
    }
}

/// How a whole class is postponed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClassShift {
    /// Every unfinished session moves this many days later.
    Days(i64),
    /// The first unfinished session starts then; the others keep their distance to it.
    NewFirstStart(DateTime<Utc>),
}

/// One move of a postponement: (session id, old start, new start).
pub type Move = (i64, DateTime<Utc>, DateTime<Utc>);

/// The moves of postponing a class: (session id, old start, new start) for every unfinished
/// session, all by the same delta. Pure, so the rule is tested without a database.
pub fn plan_shift(
    sessions: &[SessionState],
    shift: ClassShift,
    now: DateTime<Utc>,
) -> std::result::Result<Vec<Move>, domain::Violation> {
    use domain::Violation;
    let todo: Vec<&SessionState> = sessions.iter().filter(|s| s.is_unfinished(now)).collect();
    let Some(first) = todo.iter().map(|s| s.starts_at).min() else {
        return Err(Violation::new(
            "nothing_to_postpone",
            "Lớp học không còn buổi học nào chưa diễn ra để hoãn.",
        ));
    };
    let delta = match shift {
        ClassShift::Days(d) if !(1..=366).contains(&d) => {
            return Err(Violation::new(
                "postpone_days_out_of_range",
                "Số ngày lùi lịch phải từ 1 đến 366.",
            ))
        }
        ClassShift::Days(d) => Duration::days(d),
        ClassShift::NewFirstStart(t) => {
            if t <= now {
                return Err(Violation::new(
                    "start_in_past",
                    "Thời gian bắt đầu mới phải sau thời điểm hiện tại.",
                ));
            }
            if t == first {
                return Err(Violation::new(
                    "start_unchanged",
                    format!(
                        "Buổi học đầu tiên chưa diễn ra đã bắt đầu lúc {}; hãy chọn thời gian khác.",
                        when(first)
                    ),
                ));
            }
            t - first
        }
    };
    Ok(todo
        .into_iter()
        .map(|s| (s.id, s.starts_at, s.starts_at + delta))
        .collect())
}

/// A reason as kept: trimmed, required, at most [`REASON_MAX`] characters.
pub fn parse_reason(s: &str) -> std::result::Result<String, String> {
    let t = s.trim();
    if t.is_empty() {
        return Err(
            "Cần ghi lý do thay đổi (ví dụ: theo chỉ đạo của Ban Chỉ đạo phòng, chống thiên tai)."
                .into(),
        );
    }
    if t.chars().count() > REASON_MAX {
        return Err(format!("Lý do dài quá {REASON_MAX} ký tự."));
    }
    Ok(t.to_string())
}

/// What a correction changed, as the history and the audit log show it: "Label: old" and
/// "Label: new" for each field that differs.
#[derive(Debug, Default)]
pub(crate) struct Diff {
    before: Vec<String>,
    after: Vec<String>,
}

impl Diff {
    pub(crate) fn note(&mut self, label: &str, old: String, new: String) {
        if old != new {
            self.before.push(format!("{label}: {old}"));
            self.after.push(format!("{label}: {new}"));
        }
    }
    pub(crate) fn is_empty(&self) -> bool {
        self.before.is_empty()
    }
    /// (old values, new values), each joined by "; ".
    pub(crate) fn values(&self) -> (String, String) {
        (self.before.join("; "), self.after.join("; "))
    }
}

/// Every session of a class with its status, in time order.
pub async fn all_sessions(db: &Db, class: &Class) -> Result<Vec<SessionState>> {
    let sql = "SELECT id, starts_at, duration_minutes, topic, status FROM study_sessions WHERE class_id = $1 ORDER BY starts_at, id";
    Ok(db_run!(db, p => sqlx::query_as::<_, SessionState>(sql).bind(class.id).fetch_all(p).await)?)
}

/// The change history of a class, newest first. The caller got `class` through
/// [`classes::get`], which checked that they see it.
pub async fn history(db: &Db, class: &Class) -> Result<Vec<ClassChange>> {
    let sql = "SELECT ch.id, ch.class_id, ch.session_id, ch.action, ch.reason, ch.old_value, ch.new_value, \
               a.display_name AS account_name, ch.at FROM class_changes ch LEFT JOIN accounts a ON a.id = ch.account_id \
               WHERE ch.class_id = $1 ORDER BY ch.at DESC, ch.id DESC";
    Ok(db_run!(db, p => sqlx::query_as::<_, ClassChange>(sql).bind(class.id).fetch_all(p).await)?)
}

/// What a change did.
#[derive(Debug, Clone)]
pub struct ChangeReport {
    pub change_id: i64,
    /// People notified.
    pub notified: usize,
}

/// What happens to the class row.
enum ClassUpdate {
    None,
    Online,
    Cancelled,
}

/// One change, ready to be written in one transaction.
struct Plan {
    action: ChangeAction,
    session_id: Option<i64>,
    moves: Vec<(i64, DateTime<Utc>)>,
    cancels: Vec<i64>,
    class_update: ClassUpdate,
    old_value: String,
    new_value: String,
    /// The notification text, before "Lý do: …".
    message: String,
}

/// Checks the caller and the class's state; the reason, parsed.
async fn guard(db: &Db, scope: &Scope, class: &Class, reason: &str) -> Result<String> {
    classes::require_planner(db, scope, class).await?;
    if class.is_finished() {
        return Err(StoreError::rule(
            "class_finished",
            "Lớp học đã kết thúc, không thể hoãn, chuyển hình thức hay hủy.".into(),
        ));
    }
    if class.status == CLASS_CANCELLED {
        return Err(StoreError::rule(
            "class_cancelled",
            "Lớp học đã bị hủy.".into(),
        ));
    }
    parse_reason(reason).map_err(|m| StoreError::rule("reason_invalid", m))
}

async fn find_session(db: &Db, class: &Class, session_id: i64) -> Result<SessionState> {
    let s = all_sessions(db, class)
        .await?
        .into_iter()
        .find(|s| s.id == session_id)
        .ok_or(StoreError::NotFound)?;
    if s.is_cancelled() {
        return Err(StoreError::rule(
            "session_cancelled",
            "Buổi học này đã bị hủy.".into(),
        ));
    }
    Ok(s)
}

/// Writes a plan: session and class updates, the history row and the audit entry in one
/// transaction, then the notifications to everyone on the list.
async fn apply(
    db: &Db,
    scope: &Scope,
    class: &Class,
    reason: &str,
    plan: Plan,
) -> Result<ChangeReport> {
    let at = now();
    let class_sql = match plan.class_update {
        ClassUpdate::None => None,
        ClassUpdate::Online => Some("UPDATE classes SET form = 'online', venue_name = NULL, venue_capacity = NULL WHERE id = $1 AND status = 'planned'"),
        ClassUpdate::Cancelled => Some("UPDATE classes SET status = 'cancelled' WHERE id = $1 AND status = 'planned'"),
    };
    let (entity, entity_id) = match plan.session_id {
        Some(s) => ("session", s),
        None => ("class", class.id),
    };
    let detail = format!(
        "{}: {} -> {}; reason: {reason}",
        plan.action.code(),
        plan.old_value,
        plan.new_value
    );
    let change_id: i64 = db_run!(db, p => {
        let mut tx = p.begin().await?;
        // The class must still be open when the change lands (another organizer may have
        // finished or cancelled it meanwhile).
        let open: Option<(i64,)> = sqlx::query_as("SELECT id FROM classes WHERE id = $1 AND status = 'planned'")
            .bind(class.id).fetch_optional(&mut *tx).await?;
        if open.is_none() {
            return Err(StoreError::rule("class_closed", "Lớp học đã kết thúc hoặc đã bị hủy.".into()));
        }
        for (id, start) in &plan.moves {
            sqlx::query("UPDATE study_sessions SET starts_at = $2 WHERE id = $1 AND class_id = $3 AND status <> 'cancelled'")
                .bind(*id).bind(*start).bind(class.id).execute(&mut *tx).await?;
        }
        for id in &plan.cancels {
            sqlx::query("UPDATE study_sessions SET status = 'cancelled' WHERE id = $1 AND class_id = $2")
                .bind(*id).bind(class.id).execute(&mut *tx).await?;
        }
        if let Some(sql) = class_sql {
            sqlx::query(sql).bind(class.id).execute(&mut *tx).await?;
        }
        sqlx::query(&super::presenters::REFRESH_CLASS).bind(class.id).execute(&mut *tx).await?;
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO class_changes (class_id, session_id, action, reason, old_value, new_value, account_id, at, province_id) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id")
            .bind(class.id).bind(plan.session_id).bind(plan.action.code()).bind(reason)
            .bind(&plan.old_value).bind(&plan.new_value).bind(scope.account_id.0).bind(at).bind(class.province_id)
            .fetch_one(&mut *tx).await?;
        crate::audit_in!(&mut *tx, scope, plan.action.code(), entity, entity_id, Some(OrgId(class.org_id)), &detail)?;
        tx.commit().await?;
        Ok::<_, StoreError>(id)
    })?;
    let people = notify::class_people(db, class.id).await?;
    let notified = notify::create_batch(
        db,
        &people,
        &NewNotification {
            kind: notify::KIND_CLASS_CHANGE,
            title: format!("{}: {}", plan.action.label(), class.title),
            body: format!("{} Lý do: {reason}", plan.message),
            link: notify::member_link(class.id),
        },
    )
    .await?;
    Ok(ChangeReport {
        change_id,
        notified,
    })
}

/// Postpones one session to a new start (R2.6).
pub async fn postpone_session(
    db: &Db,
    scope: &Scope,
    class: &Class,
    session_id: i64,
    new_start: DateTime<Utc>,
    reason: &str,
) -> Result<ChangeReport> {
    let reason = guard(db, scope, class, reason).await?;
    let s = find_session(db, class, session_id).await?;
    if new_start <= now() {
        return Err(StoreError::rule(
            "start_in_past",
            "Thời gian bắt đầu mới phải sau thời điểm hiện tại.".into(),
        ));
    }
    if new_start == s.starts_at {
        return Err(StoreError::rule(
            "session_started",
            format!(
                "Buổi học đã bắt đầu lúc {}; hãy chọn thời gian khác.",
                when(s.starts_at)
            ),
        ));
    }
    let (old, new) = (when(s.starts_at), when(new_start));
    let plan = Plan {
        action: ChangeAction::PostponeSession,
        session_id: Some(s.id),
        moves: vec![(s.id, new_start)],
        cancels: vec![],
        class_update: ClassUpdate::None,
        message: format!(
            "Buổi học «{}» của lớp «{}» được dời từ {old} sang {new}.",
            s.topic, class.title
        ),
        old_value: old,
        new_value: new,
    };
    apply(db, scope, class, &reason, plan).await
}

/// Postpones every unfinished session of a class by the same delta (R2.6).
pub async fn postpone_class(
    db: &Db,
    scope: &Scope,
    class: &Class,
    shift: ClassShift,
    reason: &str,
) -> Result<ChangeReport> {
    let reason = guard(db, scope, class, reason).await?;
    let sessions = all_sessions(db, class).await?;
    let moves = plan_shift(&sessions, shift, now()).map_err(StoreError::Rule)?;
    let old = moves
        .iter()
        .map(|m| when(m.1))
        .collect::<Vec<_>>()
        .join("; ");
    let new = moves
        .iter()
        .map(|m| when(m.2))
        .collect::<Vec<_>>()
        .join("; ");
    let first = moves.first().map(|m| (when(m.1), when(m.2)));
    let (from, to) = first.unwrap_or_default();
    let plan = Plan {
        action: ChangeAction::PostponeClass,
        session_id: None,
        message: format!(
            "Lớp «{}» được lùi lịch: buổi đầu tiên chưa học dời từ {from} sang {to} ({} buổi được dời cùng khoảng thời gian).",
            class.title,
            moves.len()
        ),
        moves: moves.iter().map(|m| (m.0, m.2)).collect(),
        cancels: vec![],
        class_update: ClassUpdate::None,
        old_value: old,
        new_value: new,
    };
    apply(db, scope, class, &reason, plan).await
}

/// Moves a class online; the venue it had is kept in the history (R2.6).
pub async fn move_online(
    db: &Db,
    scope: &Scope,
    class: &Class,
    reason: &str,
) -> Result<ChangeReport> {
    let reason = guard(db, scope, class, reason).await?;
    if class.form == domain::study::ClassForm::Online.code() {
        return Err(StoreError::rule(
            "class_already_online",
            "Lớp học đã được tổ chức trực tuyến.".into(),
        ));
    }
    let mut old = class.form_label().to_string();
    if let Some(v) = &class.venue_name {
        old.push_str(&format!(" · {v}"));
        if let Some(cap) = class.venue_capacity {
            old.push_str(&format!(" ({cap} chỗ)"));
        }
    }
    let new = domain::study::ClassForm::Online.label().to_string();
    let plan = Plan {
        action: ChangeAction::MoveOnline,
        session_id: None,
        moves: vec![],
        cancels: vec![],
        class_update: ClassUpdate::Online,
        message: format!(
            "Lớp «{}» chuyển sang học trực tuyến (trước đây: {old}). Đơn vị tổ chức sẽ thông báo điểm cầu, đường dẫn tham dự.",
            class.title
        ),
        old_value: old,
        new_value: new,
    };
    apply(db, scope, class, &reason, plan).await
}

/// Cancels one session: it no longer counts in the class time or the results (R2.6).
pub async fn cancel_session(
    db: &Db,
    scope: &Scope,
    class: &Class,
    session_id: i64,
    reason: &str,
) -> Result<ChangeReport> {
    let reason = guard(db, scope, class, reason).await?;
    let s = find_session(db, class, session_id).await?;
    let old = format!(
        "{} · {} · {} phút",
        when(s.starts_at),
        s.topic,
        s.duration_minutes
    );
    let plan = Plan {
        action: ChangeAction::CancelSession,
        session_id: Some(s.id),
        moves: vec![],
        cancels: vec![s.id],
        class_update: ClassUpdate::None,
        message: format!(
            "Buổi học «{}» lúc {} của lớp «{}» bị hủy.",
            s.topic,
            when(s.starts_at),
            class.title
        ),
        old_value: old,
        new_value: "Đã hủy".into(),
    };
    apply(db, scope, class, &reason, plan).await
}

/// Cancels a class and every session of it not yet over (R2.6).
pub async fn cancel_class(
    db: &Db,
    scope: &Scope,
    class: &Class,
    reason: &str,
) -> Result<ChangeReport> {
    let reason = guard(db, scope, class, reason).await?;
    let at = now();
    let cancels: Vec<i64> = all_sessions(db, class)
        .await?
        .into_iter()
        .filter(|s| s.is_unfinished(at))
        .map(|s| s.id)
        .collect();
    let plan = Plan {
        action: ChangeAction::CancelClass,
        session_id: None,
        moves: vec![],
        class_update: ClassUpdate::Cancelled,
        message: format!("Lớp «{}» ({}) bị hủy.", class.title, class.org_name),
        old_value: class.status_label().to_string(),
        new_value: format!("Đã hủy ({} buổi chưa học bị hủy)", cancels.len()),
        cancels,
    };
    apply(db, scope, class, &reason, plan).await
}

/// Corrects a session's topic, length, kind or start (issue 11.7). The planner of the class only;
/// not once the class is finished or cancelled, nor on a cancelled session. A session that has
/// begun keeps its start (moving it is a postponement, with its notification: R2.6). Once the
/// class has begun, a change needs a reason and goes to the class's history with the old and new
/// values; every change is audited.
pub async fn update_session(
    db: &Db,
    scope: &Scope,
    class: &Class,
    session_id: i64,
    new: &domain::study::NewSession,
    reason: &str,
) -> Result<()> {
    classes::require_planner(db, scope, class).await?;
    if class.is_finished() {
        return Err(StoreError::rule(
            "class_finished",
            "Lớp học đã kết thúc; mở lại lớp học để sửa.".into(),
        ));
    }
    if class.status == CLASS_CANCELLED {
        return Err(StoreError::rule(
            "class_cancelled",
            "Lớp học đã bị hủy.".into(),
        ));
    }
    let s = find_session(db, class, session_id).await?;
    let at = now();
    // Forms and the API give the start to the minute: the same minute is the same start.
    let mut new = new.clone();
    if when(new.starts_at) == when(s.starts_at) {
        new.starts_at = s.starts_at;
    }
    let new = &new;
    if new.starts_at != s.starts_at {
        if s.starts_at <= at {
            return Err(StoreError::rule(
                "session_started",
                format!(
                    "Buổi học đã bắt đầu lúc {}: không đổi giờ bắt đầu được nữa.",
                    when(s.starts_at)
                ),
            ));
        }
        if new.starts_at <= at {
            return Err(StoreError::rule(
                "start_in_past",
                "Thời gian bắt đầu mới phải sau thời điểm hiện tại.".into(),
            ));
        }
    }
    let mut diff = Diff::default();
    diff.note("Nội dung", s.topic.clone(), new.topic.clone());
    diff.note(
        "Thời lượng (phút)",
        s.duration_minutes.to_string(),
        new.duration_minutes.to_string(),
    );
    diff.note("Bắt đầu", when(s.starts_at), when(new.starts_at));
    let was_discussion: Option<(bool,)> = db_run!(db, p => sqlx::query_as("SELECT is_discussion FROM study_sessions WHERE id = $1")
        .bind(s.id).fetch_optional(p).await)?;
    let yes_no = |b: bool| if b { "có" } else { "không" }.to_string();
    diff.note(
        "Thảo luận",
        yes_no(was_discussion.is_some_and(|(d,)| d)),
        yes_no(new.is_discussion),
    );
    if diff.is_empty() {
        return Ok(());
    }
    let started = class.first_session_at.is_some_and(|t| t <= at);
    let reason = reason.trim();
    if started {
        parse_reason(reason).map_err(|_| {
            StoreError::rule(
                "reason_required",
                "Lớp học đang diễn ra: cần ghi lý do thay đổi (được lưu vào lịch sử thay đổi)."
                    .into(),
            )
        })?;
    }
    let (old_value, new_value) = diff.values();
    db_run!(db, p => {
        let mut tx = p.begin().await?;
        let done = sqlx::query(
            "UPDATE study_sessions SET topic = $2, duration_minutes = $3, is_discussion = $4, starts_at = $5 \
             WHERE id = $1 AND class_id = $6 AND status <> 'cancelled' \
             AND EXISTS (SELECT 1 FROM classes k WHERE k.id = $6 AND k.status = 'planned')")
            .bind(s.id).bind(&new.topic).bind(i64::from(new.duration_minutes)).bind(new.is_discussion)
            .bind(new.starts_at).bind(class.id)
            .execute(&mut *tx).await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::rule("class_closed", "Lớp học đã kết thúc hoặc buổi học đã bị hủy.".into()));
        }
        if started {
            sqlx::query(
                "INSERT INTO class_changes (class_id, session_id, action, reason, old_value, new_value, account_id, at, province_id) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)")
                .bind(class.id).bind(s.id).bind(EDIT_SESSION).bind(reason).bind(&old_value).bind(&new_value)
                .bind(scope.account_id.0).bind(at).bind(class.province_id)
                .execute(&mut *tx).await?;
        }
        crate::audit_in!(&mut *tx, scope, "update", "session", s.id, Some(OrgId(class.org_id)), &format!("{old_value} -> {new_value}"))?;
        tx.commit().await?;
        Ok::<_, StoreError>(())
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(d: u32, h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2027, 3, d, h, 0, 0)
            .single()
            .expect("valid")
    }

    fn session(id: i64, start: DateTime<Utc>, status: &str) -> SessionState {
        SessionState {
            id,
            starts_at: start,
            duration_minutes: 120,
            topic: format!("Buổi {id}"),
            status: status.into(),
        }
    }

    #[test]
    fn r2_6_when_is_vietnam_time_day_first() {
        // 01:00 UTC is 08:00 in Vietnam.
        assert_eq!(when(at(7, 1)), "07/03/2027 08:00");
    }

    #[test]
    fn r2_6_class_shift_moves_unfinished_sessions_by_one_delta() {
        let sessions = [
            session(1, at(1, 1), "scheduled"),
            session(2, at(8, 1), "scheduled"),
            session(3, at(9, 1), "cancelled"),
            session(4, at(10, 6), "scheduled"),
        ];
        // Session 1 is over on the 5th; session 3 is cancelled.
        let now = at(5, 0);
        let moves = plan_shift(&sessions, ClassShift::NewFirstStart(at(15, 1)), now).expect("plan");
        assert_eq!(
            moves,
            vec![(2, at(8, 1), at(15, 1)), (4, at(10, 6), at(17, 6))]
        );
        let by_days = plan_shift(&sessions, ClassShift::Days(7), now).expect("plan");
        assert_eq!(by_days, moves);
    }

    #[test]
    fn r2_6_class_shift_refuses_nothing_to_move_past_start_and_bad_days() {
        let sessions = [session(1, at(1, 1), "scheduled")];
        assert!(plan_shift(&sessions, ClassShift::Days(1), at(20, 0)).is_err());
        let open = [session(1, at(10, 1), "scheduled")];
        assert!(plan_shift(&open, ClassShift::NewFirstStart(at(2, 0)), at(5, 0)).is_err());
        assert!(plan_shift(&open, ClassShift::NewFirstStart(at(10, 1)), at(5, 0)).is_err());
        assert!(plan_shift(&open, ClassShift::Days(0), at(5, 0)).is_err());
        assert!(plan_shift(&open, ClassShift::Days(367), at(5, 0)).is_err());
    }

    #[test]
    fn r2_6_reason_is_required_and_bounded() {
        assert!(parse_reason("  ").is_err());
        assert_eq!(parse_reason(" Bão số 3 ").as_deref(), Ok("Bão số 3"));
        assert!(parse_reason(&"x".repeat(REASON_MAX + 1)).is_err());
    }
}
