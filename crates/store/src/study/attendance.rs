//! Attendance per session, time-weighted results, retakes and completion (R3.4, R3.5, R2.5).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use domain::ids::{OrgId, PersonId};
use domain::study::{summarize, AttendanceMark, AttendanceStatus, AttendanceSummary, SessionMark};

use super::classes::{self, Access, Class, StudySession};
use super::full_name_sql;
use crate::db::Db;
use crate::error::{Result, StoreError};
use crate::scope::{Scope, ATTEND};
use crate::{db_run, now};

/// One line of a session's attendance sheet.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SheetRow {
    pub participant_id: i64,
    pub person_id: i64,
    pub full_name: String,
    pub org_name: String,
    pub bridge_point_name: Option<String>,
    /// present, absent, excused; null when not yet recorded
    pub status: Option<String>,
    pub late_minutes: i64,
    pub left_early_minutes: i64,
    pub reason: Option<String>,
}

/// A participant's time-weighted result over the class.
#[derive(Debug, Clone)]
pub struct ParticipantResult {
    pub participant_id: i64,
    pub person_id: i64,
    pub full_name: String,
    pub org_name: String,
    pub bridge_point_name: Option<String>,
    pub summary: AttendanceSummary,
}

impl ParticipantResult {
    /// Missed share of class time, "97,5%" style.
    pub fn missed_percent(&self) -> String {
        let s = &self.summary;
        if s.class_minutes == 0 {
            return "0%".into();
        }
        let tenths = (u64::from(s.missed_minutes) * 1000 + u64::from(s.class_minutes) / 2)
            / u64::from(s.class_minutes);
        if tenths % 10 == 0 {
            format!("{}%", tenths / 10)
        } else {
            format!("{},{}%", tenths / 10, tenths % 10)
        }
    }
}

/// The sheet's statement: the rows of the class (`$1`) for the session (`$2`) within `access`, in
/// name order; `after` adds the keyset predicate on the participant bound as `$3`.
fn sheet_sql(access: &Access, after: bool, limit: Option<usize>) -> String {
    format!(
        "SELECT pt.id AS participant_id, pt.person_id, {} AS full_name, o.name AS org_name, b.name AS bridge_point_name, \
         a.status, COALESCE(a.late_minutes, 0) AS late_minutes, COALESCE(a.left_early_minutes, 0) AS left_early_minutes, a.reason \
         FROM participants pt JOIN people p ON p.id = pt.person_id JOIN orgs o ON o.id = p.org_id \
         LEFT JOIN bridge_points b ON b.id = pt.bridge_point_id \
         LEFT JOIN attendance a ON a.participant_id = pt.id AND a.session_id = $2 \
         WHERE pt.class_id = $1 AND pt.removed_at IS NULL AND {} {} ORDER BY p.sort_key, pt.id{}",
        full_name_sql("p"),
        access.participant_sql(),
        if after {
            super::participants::after_sql(3)
        } else {
            String::new()
        },
        limit.map(|l| format!(" LIMIT {l}")).unwrap_or_default()
    )
}

/// The sheet of one session, in Vietnamese name order, within the caller's access.
pub async fn sheet(
    db: &Db,
    class: &Class,
    session: &StudySession,
    access: &Access,
) -> Result<Vec<SheetRow>> {
    let sql = sheet_sql(access, false, None);
    Ok(
        db_run!(db, p => sqlx::query_as::<_, SheetRow>(&sql).bind(class.id).bind(session.id).fetch_all(p).await)?,
    )
}

/// A page of a session's sheet within `access`, in Vietnamese name order: the `limit` rows after
/// participant `after` on (name key, id), and whether more follow (issue 12.B: keyset paging).
pub async fn sheet_page(
    db: &Db,
    class: &Class,
    session: &StudySession,
    access: &Access,
    after: Option<i64>,
    limit: usize,
) -> Result<(Vec<SheetRow>, bool)> {
    let limit = limit.clamp(1, 5_000);
    let sql = sheet_sql(access, after.is_some(), Some(limit + 1));
    let rows: Vec<SheetRow> = db_run!(db, p => {
        let q = sqlx::query_as::<_, SheetRow>(&sql).bind(class.id).bind(session.id);
        match after {
            Some(a) => q.bind(a).fetch_all(p).await,
            None => q.fetch_all(p).await,
        }
    })?;
    Ok(crate::page_and_more(rows, limit))
}

/// Which of `ids` are participants of the class on its list, within `access` (one statement
/// of fixed shape, whatever the number: the ids travel as one JSON array).
async fn listed_among(
    db: &Db,
    class: &Class,
    access: &Access,
    ids: &[i64],
) -> Result<std::collections::HashSet<i64>> {
    let sql = format!(
        "SELECT pt.id FROM participants pt WHERE pt.class_id = $1 AND pt.removed_at IS NULL AND {} AND pt.id IN ({})",
        access.participant_sql(),
        db.json_ints(2)
    );
    let list = crate::db::json_list(ids.iter());
    let found: Vec<i64> =
        db_run!(db, p => sqlx::query_scalar(&sql).bind(class.id).bind(&list).fetch_all(p).await)?;
    Ok(found.into_iter().collect())
}

/// A mark on its way to the `attendance` table. The sheet, an attendance file and the check-in
/// writer all write marks with [`upsert_sql`] and [`bind_marks`] (issue 12.A: one upsert).
#[derive(Debug, Clone)]
pub(crate) struct MarkRow {
    pub session_id: i64,
    pub participant_id: i64,
    pub status: AttendanceStatus,
    pub late_minutes: u32,
    pub left_early_minutes: u32,
    pub reason: Option<String>,
    pub recorded_by: Option<i64>,
}

impl MarkRow {
    pub(crate) fn of(
        session_id: i64,
        participant_id: i64,
        m: &AttendanceMark,
        recorded_by: Option<i64>,
    ) -> Self {
        Self {
            session_id,
            participant_id,
            status: m.status(),
            late_minutes: m.late_minutes(),
            left_early_minutes: m.left_early_minutes(),
            reason: m.reason().map(str::to_owned),
            recorded_by,
        }
    }

    /// Marks per statement.
    pub(crate) fn per_statement(db: &Db) -> usize {
        db.rows_per_insert(9).min(1000)
    }
}

/// The one upsert of attendance marks, for `rows` rows bound by [`bind_marks`]: a later mark of
/// the same participant and session replaces the earlier.
pub(crate) fn upsert_sql(db: &Db, rows: usize) -> String {
    format!(
        "INSERT INTO attendance (session_id, participant_id, status, late_minutes, left_early_minutes, reason, recorded_by, recorded_at, province_id) \
         VALUES {} ON CONFLICT (session_id, participant_id) DO UPDATE SET status = excluded.status, \
         late_minutes = excluded.late_minutes, left_early_minutes = excluded.left_early_minutes, reason = excluded.reason, \
         recorded_by = excluded.recorded_by, recorded_at = excluded.recorded_at",
        // The ninth value is the session again, for its province key (issue 13.6).
        db.values(rows, 9, |p| format!(
            "({}, (SELECT province_id FROM study_sessions WHERE id = {}))",
            p[..8].join(", "),
            p[8]
        ))
    )
}

/// Binds `rows` to [`upsert_sql`], recorded at `at`.
pub(crate) fn bind_marks<'q, DB: sqlx::Database>(
    mut q: sqlx::query::Query<'q, DB, <DB as sqlx::Database>::Arguments<'q>>,
    rows: &'q [MarkRow],
    at: DateTime<Utc>,
) -> sqlx::query::Query<'q, DB, <DB as sqlx::Database>::Arguments<'q>>
where
    i64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    &'q str: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    Option<&'q str>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    Option<i64>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    DateTime<Utc>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    for r in rows {
        q = q
            .bind(r.session_id)
            .bind(r.participant_id)
            .bind(r.status.code())
            .bind(i64::from(r.late_minutes))
            .bind(i64::from(r.left_early_minutes))
            .bind(r.reason.as_deref())
            .bind(r.recorded_by)
            .bind(at)
            .bind(r.session_id);
    }
    q
}

/// Records marks for one session, all or nothing. Recording again for the same participant and
/// session replaces the mark. Every participant must be on the class within the caller's access.
pub async fn record(
    db: &Db,
    scope: &Scope,
    class: &Class,
    session: &StudySession,
    marks: &[(i64, AttendanceMark)],
) -> Result<usize> {
    let access = classes::access(db, scope, class, ATTEND).await?;
    if class.is_finished() {
        return Err(StoreError::rule(
            "class_finished",
            "Lớp học đã kết thúc; mở lại lớp để sửa điểm danh.".into(),
        ));
    }
    // Issue 11.1: marks for a session that has not started would count as attendance (or
    // absence) that never happened.
    if session.starts_at > now() {
        return Err(StoreError::rule(
            "session_not_started",
            format!(
                "Buổi học chưa bắt đầu (bắt đầu lúc {}): chưa thể điểm danh.",
                domain::study::utc_to_local(session.starts_at).format("%H:%M %d/%m/%Y")
            ),
        ));
    }
    let ids: Vec<i64> = marks.iter().map(|(p, _)| *p).collect();
    let allowed = listed_among(db, class, &access, &ids).await?;
    if let Some((bad, _)) = marks.iter().find(|(p, _)| !allowed.contains(p)) {
        return Err(StoreError::rule(
            "participant_not_in_class",
            format!("Người tham dự mã {bad} không có trong danh sách lớp học này."),
        ));
    }
    let now = now();
    let rows: Vec<MarkRow> = marks
        .iter()
        .map(|(pid, m)| MarkRow::of(session.id, *pid, m, Some(scope.account_id.0)))
        .collect();
    let detail = format!("session {} marks {}", session.id, marks.len());
    db_run!(db, p => {
        let mut tx = p.begin().await?;
        for chunk in rows.chunks(MarkRow::per_statement(db)) {
            let sql = upsert_sql(db, chunk.len());
            bind_marks(sqlx::query(&sql), chunk, now).execute(&mut *tx).await?;
        }
        crate::audit_in!(&mut *tx, scope, "record", "attendance", class.id, Some(OrgId(class.org_id)), &detail)?;
        tx.commit().await?;
        Ok::<_, StoreError>(())
    })?;
    Ok(marks.len())
}

/// The sessions a result counts: all of a finished class; of a class still running only those
/// that have ended (issue 11.1: sessions still ahead are not absences).
pub fn counted_sessions(class: &Class, sessions: Vec<StudySession>) -> Vec<StudySession> {
    if class.is_finished() {
        return sessions;
    }
    let now = now();
    sessions.into_iter().filter(|s| s.has_ended(now)).collect()
}

/// Each participant's attendance over the class, weighted by session minutes (R3.5); while the
/// class runs, provisional over the sessions already held ([`counted_sessions`]).
pub async fn results(db: &Db, class: &Class, access: &Access) -> Result<Vec<ParticipantResult>> {
    let sessions = counted_sessions(class, classes::sessions(db, class).await?);
    let people_sql = format!(
        "SELECT pt.id, pt.person_id, {} AS full_name, o.name AS org_name, b.name AS bridge_point_name \
         FROM participants pt JOIN people p ON p.id = pt.person_id JOIN orgs o ON o.id = p.org_id \
         LEFT JOIN bridge_points b ON b.id = pt.bridge_point_id \
         WHERE pt.class_id = $1 AND pt.removed_at IS NULL AND {} ORDER BY p.sort_key, pt.id",
        full_name_sql("p"),
        access.participant_sql()
    );
    let marks_sql = "SELECT a.participant_id, a.session_id, a.status, a.late_minutes, a.left_early_minutes \
                     FROM attendance a JOIN study_sessions s ON s.id = a.session_id WHERE s.class_id = $1";
    #[allow(clippy::type_complexity)]
    let (people, marks): (
        Vec<(i64, i64, String, String, Option<String>)>,
        Vec<(i64, i64, String, i64, i64)>,
    ) = db_run!(db, p => {
        let people = sqlx::query_as(&people_sql).bind(class.id).fetch_all(p).await?;
        let marks = sqlx::query_as(marks_sql).bind(class.id).fetch_all(p).await?;
        Ok::<_, StoreError>((people, marks))
    })?;
    let mut by_participant: HashMap<i64, HashMap<i64, (AttendanceStatus, u32, u32)>> =
        HashMap::new();
    for (pid, sid, status, late, early) in marks {
        if let Ok(st) = AttendanceStatus::parse(&status) {
            let clamp = |v: i64| u32::try_from(v).unwrap_or(0);
            by_participant
                .entry(pid)
                .or_default()
                .insert(sid, (st, clamp(late), clamp(early)));
        }
    }
    let threshold = class.threshold();
    Ok(people
        .into_iter()
        .map(|(pid, person_id, full_name, org_name, bridge_point_name)| {
            let mine = by_participant.get(&pid);
            let marks: Vec<SessionMark> = sessions
                .iter()
                .map(|s| {
                    let m = mine.and_then(|m| m.get(&s.id));
                    SessionMark {
                        session_minutes: u32::try_from(s.duration_minutes).unwrap_or(0),
                        status: m.map(|m| m.0),
                        late_minutes: m.map_or(0, |m| m.1),
                        left_early_minutes: m.map_or(0, |m| m.2),
                    }
                })
                .collect();
            ParticipantResult {
                participant_id: pid,
                person_id,
                full_name,
                org_name,
                bridge_point_name,
                summary: summarize(&marks, threshold),
            }
        })
        .collect())
}

/// What finishing a class did.
#[derive(Debug, Clone)]
pub struct FinishReport {
    pub participants: usize,
    pub retakes: usize,
    pub completions: usize,
}

/// Ends a class: the retake list is fixed (R3.5) and completion is recorded per person and
/// resolution for everyone else (R2.5). Finishing again recomputes both.
pub async fn finish(db: &Db, scope: &Scope, class: &Class) -> Result<FinishReport> {
    classes::require_planner(db, scope, class).await?;
    if class.status == super::changes::CLASS_CANCELLED {
        return Err(StoreError::rule(
            "class_cancelled",
            "Lớp học đã bị hủy, không thể kết thúc.".into(),
        ));
    }
    if class.session_count == 0 {
        return Err(StoreError::rule(
            "class_has_no_sessions",
            "Lớp học chưa có buổi học nào.".into(),
        ));
    }
    // Issue 11.1: a class ends after its last session, or once the rest are cancelled.
    let now_at = now();
    let ahead: Vec<StudySession> = classes::sessions(db, class)
        .await?
        .into_iter()
        .filter(|s| !s.has_ended(now_at))
        .collect();
    if let Some(last) = ahead.iter().map(StudySession::ends_at).max() {
        return Err(StoreError::rule("sessions_ahead", format!(
            "Còn {} buổi học chưa diễn ra xong (buổi cuối kết thúc lúc {}). Hãy đợi buổi cuối kết thúc, hoặc hủy các buổi còn lại, rồi kết thúc lớp học.",
            ahead.len(),
            domain::study::utc_to_local(last).format("%H:%M %d/%m/%Y")
        )));
    }
    let results = results(db, class, &Access::Full).await?;
    let resolutions =
        super::campaigns::resolution_ids(db, domain::ids::CampaignId(class.campaign_id)).await?;
    let now = now();
    let today = domain::study::utc_to_local(now).date();
    let mut completions = 0usize;
    let retakes = results.iter().filter(|r| r.summary.needs_retake).count();
    db_run!(db, p => {
        let mut tx = p.begin().await?;
        sqlx::query("DELETE FROM retakes WHERE class_id = $1").bind(class.id).execute(&mut *tx).await?;
        sqlx::query("DELETE FROM completions WHERE class_id = $1").bind(class.id).execute(&mut *tx).await?;
        for r in &results {
            let s = &r.summary;
            if s.needs_retake {
                sqlx::query("INSERT INTO retakes (class_id, person_id, missed_minutes, excused_minutes, class_minutes, created_at, province_id) VALUES ($1, $2, $3, $4, $5, $6, $7)")
                    .bind(class.id).bind(r.person_id).bind(i64::from(s.missed_minutes)).bind(i64::from(s.excused_minutes))
                    .bind(i64::from(s.class_minutes)).bind(now).bind(class.province_id).execute(&mut *tx).await?;
            } else {
                for res in &resolutions {
                    // The first completion of a resolution stands; a later class does not overwrite it.
                    completions += sqlx::query("INSERT INTO completions (person_id, resolution_id, class_id, org_id, completed_on, province_id) VALUES ($1, $2, $3, $4, $5, $6) \
                                  ON CONFLICT (person_id, resolution_id) DO NOTHING")
                        .bind(r.person_id).bind(res).bind(class.id).bind(class.org_id).bind(today).bind(class.province_id)
                        .execute(&mut *tx).await?.rows_affected() as usize;
                }
            }
        }
        sqlx::query("UPDATE classes SET status = 'finished', finished_at = $2 WHERE id = $1").bind(class.id).bind(now).execute(&mut *tx).await?;
        let detail = format!("retakes {retakes}, completions {completions}");
        crate::audit_in!(&mut *tx, scope, "finish", "class", class.id, Some(OrgId(class.org_id)), &detail)?;
        tx.commit().await?;
        Ok::<_, StoreError>(())
    })?;
    // R3.3, R3.5: absentees and retakes are told, once per class however often it is finished.
    crate::notify::class_finished(db, class, &results).await?;
    Ok(FinishReport {
        participants: results.len(),
        retakes,
        completions,
    })
}

/// Reopens a finished class so attendance can be corrected; retakes and completions stay until
/// it is finished again.
pub async fn reopen(db: &Db, scope: &Scope, class: &Class) -> Result<()> {
    classes::require_planner(db, scope, class).await?;
    db_run!(db, p => {
        let mut tx = p.begin().await?;
        sqlx::query("UPDATE classes SET status = 'planned' WHERE id = $1").bind(class.id).execute(&mut *tx).await?;
        crate::audit_in!(&mut *tx, scope, "reopen", "class", class.id, Some(OrgId(class.org_id)), "")?;
        tx.commit().await
    })?;
    Ok(())
}

/// A class a member attended or was listed for, with their own result.
#[derive(Debug, Clone)]
pub struct MyClass {
    pub class_id: i64,
    pub title: String,
    pub org_name: String,
    pub status: String,
    pub first_session_at: Option<DateTime<Utc>>,
    /// Over the sessions already held while the class runs (issue 11.1); fixed once it ends.
    pub result: Option<AttendanceSummary>,
    pub retake: bool,
    /// The class has ended: the result is final.
    pub finished: bool,
}

/// Self-service: the classes a person is listed in (the latest 100), with their own attendance
/// result. Reads only the person's rows (issue 12: it loaded every participant and mark of each
/// class to keep one row): their participant rows with the class facts, the sessions of those
/// classes, their own marks and their own retakes — four statements whatever the classes' size.
pub async fn my_classes(db: &Db, person: PersonId) -> Result<Vec<MyClass>> {
    type ClassRow = (i64, i64, String, String, String, i64, Option<DateTime<Utc>>);
    let classes_sql = "SELECT pt.id, k.id, k.title, o.name, k.status, k.retake_threshold, \
         (SELECT MIN(s.starts_at) FROM study_sessions s WHERE s.class_id = k.id AND s.status <> 'cancelled') \
         FROM participants pt JOIN classes k ON k.id = pt.class_id JOIN orgs o ON o.id = k.org_id \
         WHERE pt.person_id = $1 AND pt.removed_at IS NULL ORDER BY k.id DESC LIMIT 100";
    let sessions_sql =
        "SELECT s.id, s.class_id, s.starts_at, s.duration_minutes FROM study_sessions s \
         WHERE s.status <> 'cancelled' AND s.class_id IN \
         (SELECT class_id FROM participants WHERE person_id = $1 AND removed_at IS NULL)";
    let marks_sql =
        "SELECT a.participant_id, a.session_id, a.status, a.late_minutes, a.left_early_minutes \
         FROM attendance a JOIN participants pt ON pt.id = a.participant_id \
         WHERE pt.person_id = $1 AND pt.removed_at IS NULL";
    let retakes_sql = "SELECT class_id FROM retakes WHERE person_id = $1";
    #[allow(clippy::type_complexity)]
    let (rows, sessions, marks, retakes): (
        Vec<ClassRow>,
        Vec<(i64, i64, DateTime<Utc>, i64)>,
        Vec<(i64, i64, String, i64, i64)>,
        Vec<(i64,)>,
    ) = db_run!(db, p => {
        let rows = sqlx::query_as(classes_sql).bind(person.0).fetch_all(p).await?;
        let sessions = sqlx::query_as(sessions_sql).bind(person.0).fetch_all(p).await?;
        let marks = sqlx::query_as(marks_sql).bind(person.0).fetch_all(p).await?;
        let retakes = sqlx::query_as(retakes_sql).bind(person.0).fetch_all(p).await?;
        Ok::<_, StoreError>((rows, sessions, marks, retakes))
    })?;
    let now = now();
    let retakes: std::collections::HashSet<i64> = retakes.into_iter().map(|(c,)| c).collect();
    let mut by_class: HashMap<i64, Vec<(i64, DateTime<Utc>, i64)>> = HashMap::new();
    for (id, class_id, starts_at, minutes) in sessions {
        by_class
            .entry(class_id)
            .or_default()
            .push((id, starts_at, minutes));
    }
    let mut mine: HashMap<(i64, i64), (AttendanceStatus, u32, u32)> = HashMap::new();
    let clamp = |v: i64| u32::try_from(v).unwrap_or(0);
    for (pid, sid, status, late, early) in marks {
        if let Ok(st) = AttendanceStatus::parse(&status) {
            mine.insert((pid, sid), (st, clamp(late), clamp(early)));
        }
    }
    Ok(rows
        .into_iter()
        .map(
            |(pid, class_id, title, org_name, status, threshold, first)| {
                let finished = status == domain::study::ClassStatus::Finished.code();
                // The sessions a result counts (as `counted_sessions`): all of a finished class,
                // those already held of a running one.
                let marks: Vec<SessionMark> = by_class
                    .get(&class_id)
                    .map(Vec::as_slice)
                    .unwrap_or_default()
                    .iter()
                    .filter(|(_, starts_at, minutes)| {
                        finished || *starts_at + chrono::Duration::minutes(*minutes) <= now
                    })
                    .map(|(sid, _, minutes)| {
                        let m = mine.get(&(pid, *sid));
                        SessionMark {
                            session_minutes: clamp(*minutes),
                            status: m.map(|m| m.0),
                            late_minutes: m.map_or(0, |m| m.1),
                            left_early_minutes: m.map_or(0, |m| m.2),
                        }
                    })
                    .collect();
                let threshold = domain::study::Percent::new(threshold).unwrap_or_default();
                MyClass {
                    class_id,
                    title,
                    org_name,
                    status: classes::status_label(&status).to_string(),
                    first_session_at: first,
                    result: Some(summarize(&marks, threshold)),
                    retake: retakes.contains(&class_id),
                    finished,
                }
            },
        )
        .collect())
}

/// A persisted retake (học lại), with the person's name.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Retake {
    pub class_id: i64,
    pub class_title: String,
    pub person_id: i64,
    pub full_name: String,
    pub org_name: String,
    pub missed_minutes: i64,
    pub excused_minutes: i64,
    pub class_minutes: i64,
    /// The caller may open the class (issue 11.6: a cell secretary sees his members' retakes of
    /// a province class he cannot open).
    #[sqlx(default)]
    pub class_visible: bool,
}

/// Retakes owed by people in the caller's subtree that are not yet made good by a later completion.
/// Retakes listed on a page; the CSV carries up to [`RETAKES_EXPORTED`].
pub const RETAKES_LISTED: i64 = 1_000;
pub const RETAKES_EXPORTED: i64 = 200_000;

/// Retakes owed by people in the caller's subtree that are not yet made good by a later
/// completion, the first `limit` of them.
pub async fn open_retakes(db: &Db, scope: &Scope) -> Result<Vec<Retake>> {
    open_retakes_up_to(db, scope, RETAKES_LISTED).await
}

/// [`open_retakes`], at most `limit`.
pub async fn open_retakes_up_to(db: &Db, scope: &Scope, limit: i64) -> Result<Vec<Retake>> {
    let sql = format!(
        "SELECT r.class_id, k.title AS class_title, r.person_id, {} AS full_name, o.name AS org_name, r.missed_minutes, r.excused_minutes, r.class_minutes, \
         {} AS class_visible \
         FROM retakes r JOIN classes k ON k.id = r.class_id JOIN people p ON p.id = r.person_id JOIN orgs o ON o.id = p.org_id \
         WHERE {} AND EXISTS (SELECT 1 FROM campaign_resolutions cr WHERE cr.campaign_id = k.campaign_id \
            AND NOT EXISTS (SELECT 1 FROM completions c WHERE c.person_id = r.person_id AND c.resolution_id = cr.resolution_id)) \
         ORDER BY k.id DESC, p.sort_key LIMIT $2",
        full_name_sql("p"),
        classes::visible_sql(),
        Scope::subtree_sql("p.org_id", 1, crate::scope::READ)
    );
    Ok(
        db_run!(db, p => sqlx::query_as::<_, Retake>(&sql).bind(scope.account_id.0).bind(limit).fetch_all(p).await)?,
    )
}
