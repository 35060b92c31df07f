//! The seating chart of a class's hall (R3.4): the plan (rows, seats, blocked seats), the seat
//! of each participant who sits in the main hall, and the chart of one session on which absent
//! seats show.
//!
//! Participants at a bridge point sit elsewhere and are not seated here. Reading needs
//! `classes::access(READ)`; changing the plan or the seats needs `classes::require_planner`;
//! marking attendance from the chart goes through `attendance::record` (ATTEND), so the chart and
//! the tracking sheet always agree.

use domain::ids::OrgId;
use domain::study::seats::{self as rules, SeatError, SeatGrid, SeatRef};
use domain::study::{AttendanceMark, AttendanceStatus};

use super::attendance;
use super::classes::{self, Access, Class, StudySession};
use crate::db::Db;
use crate::error::{Result, StoreError};
use crate::scope::{Scope, READ};
use crate::{db_exec, db_run};

/// A participant of the main hall, with their seat and (on a session's chart) their mark.
#[derive(Debug, Clone)]
pub struct Seated {
    pub participant_id: i64,
    pub person_id: i64,
    pub full_name: String,
    /// "N.V. An": initials, then the given name.
    pub short_name: String,
    pub org_id: i64,
    pub org_name: String,
    /// Seat code ("B12"); none when not seated yet.
    pub seat: Option<String>,
    /// present, absent, excused; none when not recorded (or no session asked).
    pub status: Option<String>,
    seat_ref: Option<SeatRef>,
    order_key: (i64, String, i64, String, i64),
}

impl Seated {
    pub fn is_present(&self) -> bool {
        self.status.as_deref() == Some(AttendanceStatus::Present.code())
    }
    /// Absent with or without reason.
    pub fn is_absent(&self) -> bool {
        matches!(self.status.as_deref(), Some("absent" | "excused"))
    }
    /// present, absent or unmarked: the seat's look on a session's chart.
    pub fn state(&self) -> &'static str {
        if self.is_present() {
            "present"
        } else if self.is_absent() {
            "absent"
        } else {
            "unmarked"
        }
    }
    /// The mark as a seat shows it, in words beside the colour.
    pub fn mark_text(&self) -> &'static str {
        match self.status.as_deref() {
            Some("present") => "✓ Có mặt",
            Some("absent") => "✗ Vắng",
            Some("excused") => "✗ Vắng có lý do",
            _ => "? Chưa",
        }
    }
    pub fn status_label(&self) -> &'static str {
        self.status
            .as_deref()
            .and_then(|s| AttendanceStatus::parse(s).ok())
            .map(AttendanceStatus::label)
            .unwrap_or("Chưa điểm danh")
    }
    pub fn seat_ref(&self) -> Option<SeatRef> {
        self.seat_ref
    }
    /// The seat code, or "—".
    pub fn seat_code(&self) -> &str {
        self.seat.as_deref().unwrap_or("—")
    }
}

#[derive(sqlx::FromRow)]
struct Row {
    participant_id: i64,
    person_id: i64,
    full_name: String,
    family_name: String,
    middle_name: String,
    given_name: String,
    org_id: i64,
    org_name: String,
    org_depth: i64,
    org_sort_key: String,
    name_key: String,
    seat_row: Option<i64>,
    seat_number: Option<i64>,
    status: Option<String>,
}

impl From<Row> for Seated {
    fn from(r: Row) -> Self {
        let seat_ref = match (r.seat_row, r.seat_number) {
            (Some(row), Some(n)) => u16::try_from(row)
                .ok()
                .zip(u16::try_from(n).ok())
                .and_then(|(row, n)| SeatRef::new(row, n).ok()),
            _ => None,
        };
        Seated {
            participant_id: r.participant_id,
            person_id: r.person_id,
            short_name: rules::short_name(&r.family_name, &r.middle_name, &r.given_name),
            full_name: r.full_name,
            org_id: r.org_id,
            org_name: r.org_name,
            seat: seat_ref.map(|s| s.code()),
            status: r.status,
            seat_ref,
            // Organizations from the top of the tree down, then by name; people by their
            // stored Vietnamese name key (bytewise, as the database compares it).
            order_key: (
                r.org_depth,
                r.org_sort_key,
                r.org_id,
                r.name_key,
                r.participant_id,
            ),
        }
    }
}

/// One seat of the chart.
#[derive(Debug, Clone)]
pub struct ChartSeat {
    pub seat: SeatRef,
    pub code: String,
    pub blocked: bool,
    /// Index into `Chart::people` of who sits here.
    pub who: Option<usize>,
}

/// One row of the chart, front to back.
#[derive(Debug, Clone)]
pub struct ChartRow {
    pub code: String,
    pub seats: Vec<ChartSeat>,
}

/// The plan and the people of the main hall the caller may see.
#[derive(Debug, Clone)]
pub struct Chart {
    pub grid: Option<SeatGrid>,
    /// Main-hall participants in Vietnamese name order.
    pub people: Vec<Seated>,
}

impl Chart {
    /// The grid with each seat's occupant, front row first.
    pub fn rows(&self) -> Vec<ChartRow> {
        let Some(grid) = &self.grid else {
            return vec![];
        };
        let by_seat: std::collections::HashMap<SeatRef, usize> = self
            .people
            .iter()
            .enumerate()
            .filter_map(|(i, p)| p.seat_ref.map(|s| (s, i)))
            .collect();
        (1..=grid.rows())
            .map(|row| ChartRow {
                code: rules::row_letters(row),
                seats: (1..=grid.seats_per_row())
                    .map(|n| {
                        let seat = SeatRef { row, number: n };
                        ChartSeat {
                            seat,
                            code: seat.code(),
                            blocked: grid.is_blocked(seat),
                            who: by_seat.get(&seat).copied(),
                        }
                    })
                    .collect(),
            })
            .collect()
    }
    /// People without a seat, in name order.
    pub fn unseated(&self) -> Vec<&Seated> {
        self.people
            .iter()
            .filter(|p| p.seat_ref.is_none())
            .collect()
    }
    pub fn seated_count(&self) -> usize {
        self.people.iter().filter(|p| p.seat_ref.is_some()).count()
    }
    pub fn present_count(&self) -> usize {
        self.people.iter().filter(|p| p.is_present()).count()
    }
    pub fn absent_count(&self) -> usize {
        self.people.iter().filter(|p| p.is_absent()).count()
    }
    pub fn unmarked_count(&self) -> usize {
        self.people.iter().filter(|p| p.status.is_none()).count()
    }
    /// Usable seats left empty.
    pub fn empty_count(&self) -> usize {
        self.grid
            .as_ref()
            .map_or(0, |g| g.capacity().saturating_sub(self.seated_count()))
    }
}

fn rule(e: SeatError) -> StoreError {
    StoreError::from(e)
}

/// The plan of a class, if one was set.
async fn load_grid(db: &Db, class: &Class) -> Result<Option<SeatGrid>> {
    let row: Option<(i64, i64, String)> = db_run!(db, p => sqlx::query_as(
        "SELECT row_count, seats_per_row, blocked FROM seat_plans WHERE class_id = $1")
        .bind(class.id).fetch_optional(p).await)?;
    match row {
        None => Ok(None),
        Some((r, s, b)) => SeatGrid::new(r, s, &b).map(Some).map_err(|e| {
            StoreError::Internal(format!("stored seat plan of class {}: {e:?}", class.id))
        }),
    }
}

/// Main-hall participants within `access`, with their seat and their mark in `session_id`
/// (0: none), in Vietnamese name order.
async fn people(db: &Db, class: &Class, access: &Access, session_id: i64) -> Result<Vec<Seated>> {
    let sql = format!(
        "SELECT pt.id AS participant_id, pt.person_id, p.full_name, p.family_name, p.middle_name, p.given_name, \
         o.id AS org_id, o.name AS org_name, o.depth AS org_depth, o.sort_key AS org_sort_key, p.sort_key AS name_key, \
         sa.seat_row, sa.seat_number, a.status \
         FROM participants pt JOIN people p ON p.id = pt.person_id JOIN orgs o ON o.id = p.org_id \
         LEFT JOIN seat_assignments sa ON sa.class_id = pt.class_id AND sa.participant_id = pt.id \
         LEFT JOIN attendance a ON a.participant_id = pt.id AND a.session_id = $2 \
         WHERE pt.class_id = $1 AND pt.removed_at IS NULL AND pt.bridge_point_id IS NULL AND {} \
         ORDER BY p.sort_key, pt.id",
        access.participant_sql()
    );
    let rows: Vec<Row> = db_run!(db, p => sqlx::query_as::<_, Row>(&sql).bind(class.id).bind(session_id).fetch_all(p).await)?;
    Ok(rows.into_iter().map(Seated::from).collect())
}

/// The chart of a class (and of one of its sessions, with each person's mark), as far as the
/// caller may read it.
pub async fn chart(
    db: &Db,
    scope: &Scope,
    class: &Class,
    session: Option<&StudySession>,
) -> Result<Chart> {
    let access = classes::access(db, scope, class, READ).await?;
    let grid = load_grid(db, class).await?;
    let people = people(db, class, &access, session.map_or(0, |s| s.id)).await?;
    Ok(Chart { grid, people })
}

/// Checks shared by every change: planner rights, an open in-person or hybrid class.
async fn require_change(db: &Db, scope: &Scope, class: &Class) -> Result<()> {
    classes::require_planner(db, scope, class).await?;
    if class.is_finished() {
        return Err(StoreError::rule(
            "class_finished",
            "Lớp học đã kết thúc, không thể thay đổi sơ đồ chỗ ngồi.".into(),
        ));
    }
    if !domain::study::ClassForm::parse(&class.form).is_ok_and(domain::study::ClassForm::has_venue)
    {
        return Err(StoreError::rule(
            "class_online_no_hall",
            "Lớp học trực tuyến không có hội trường để xếp chỗ ngồi.".into(),
        ));
    }
    Ok(())
}

/// Seats of people who left the list are freed before any change.
async fn drop_removed(db: &Db, class: &Class) -> Result<()> {
    db_exec!(db, p => sqlx::query(
        "DELETE FROM seat_assignments WHERE class_id = $1 AND participant_id IN \
         (SELECT id FROM participants WHERE class_id = $1 AND (removed_at IS NOT NULL OR bridge_point_id IS NOT NULL))")
        .bind(class.id).execute(p).await)?;
    Ok(())
}

/// The plan, or a clear message when none is set yet.
async fn require_grid(db: &Db, class: &Class) -> Result<SeatGrid> {
    load_grid(db, class).await?.ok_or_else(|| {
        StoreError::rule(
            "hall_plan_missing",
            "Chưa có sơ đồ hội trường: nhập số hàng, số ghế mỗi hàng và lưu trước khi xếp chỗ."
                .into(),
        )
    })
}

/// Records a change of the class's seating in the audit log, on the change's open transaction
/// `$tx` (issue 13.7).
macro_rules! audit_plan {
    ($tx:expr, $scope:expr, $class:expr, $detail:expr) => {
        crate::audit_in!(
            $tx,
            $scope,
            "update",
            "seat_plan",
            $class.id,
            Some(OrgId($class.org_id)),
            $detail
        )
    };
}

/// Sets the plan. Refused when a seated participant's seat would fall outside the grid or be
/// blocked: they must be moved (or all seats cleared) first, so nobody loses a seat silently.
pub async fn set_plan(db: &Db, scope: &Scope, class: &Class, grid: &SeatGrid) -> Result<()> {
    require_change(db, scope, class).await?;
    drop_removed(db, class).await?;
    let seated: Vec<(i64, i64)> = db_run!(db, p => sqlx::query_as(
        "SELECT seat_row, seat_number FROM seat_assignments WHERE class_id = $1")
        .bind(class.id).fetch_all(p).await)?;
    let seats = seated.into_iter().filter_map(|(r, n)| {
        Some(SeatRef {
            row: u16::try_from(r).ok()?,
            number: u16::try_from(n).ok()?,
        })
    });
    let lost = rules::displaced(grid, seats);
    if !lost.is_empty() {
        let mut list: Vec<String> = lost.iter().take(10).map(SeatRef::code).collect();
        if lost.len() > 10 {
            list.push("…".into());
        }
        return Err(StoreError::rule("seated_people_outside_plan", format!(
            "Không lưu sơ đồ mới: {} người đang ngồi ở ghế sẽ nằm ngoài sơ đồ hoặc bị chặn ({}). Hãy chuyển họ sang ghế khác, hoặc xóa xếp chỗ rồi xếp lại.",
            lost.len(),
            list.join(", ")
        )));
    }
    let detail = format!(
        "rows {} seats {} blocked {}",
        grid.rows(),
        grid.seats_per_row(),
        grid.blocked_text()
    );
    db_run!(db, p => {
        let mut tx = p.begin().await?;
        sqlx::query(
            "INSERT INTO seat_plans (class_id, row_count, seats_per_row, blocked, province_id) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (class_id) DO UPDATE SET row_count = excluded.row_count, seats_per_row = excluded.seats_per_row, blocked = excluded.blocked")
            .bind(class.id).bind(i64::from(grid.rows())).bind(i64::from(grid.seats_per_row())).bind(grid.blocked_text()).bind(class.province_id)
            .execute(&mut *tx).await?;
        audit_plan!(&mut *tx, scope, class, &detail)?;
        tx.commit().await
    })?;
    Ok(())
}

/// Seats every main-hall participant again (R3.4): by organization, then Vietnamese name order,
/// front to back, skipping blocked seats. All or nothing: with more people than usable seats
/// nobody is seated and the message says how many seats are missing. Returns how many were seated.
pub async fn auto_assign(db: &Db, scope: &Scope, class: &Class) -> Result<usize> {
    require_change(db, scope, class).await?;
    let grid = require_grid(db, class).await?;
    let everyone = people(db, class, &Access::Full, 0).await?;
    let keyed = everyone
        .iter()
        .map(|p| (p.order_key.clone(), p.participant_id))
        .collect();
    let plan = rules::auto_assign(&grid, keyed).map_err(rule)?;
    let batch = db.rows_per_insert(5);
    db_run!(db, p => {
        let mut tx = p.begin().await?;
        sqlx::query("DELETE FROM seat_assignments WHERE class_id = $1").bind(class.id).execute(&mut *tx).await?;
        for chunk in plan.chunks(batch) {
            let sql = format!(
                "INSERT INTO seat_assignments (class_id, participant_id, seat_row, seat_number, province_id) VALUES {}",
                db.values(chunk.len(), 5, |p| format!("({})", p.join(", ")))
            );
            let mut q = sqlx::query(&sql);
            for (pid, seat) in chunk {
                q = q.bind(class.id).bind(*pid).bind(i64::from(seat.row)).bind(i64::from(seat.number)).bind(class.province_id);
            }
            q.execute(&mut *tx).await?;
        }
        audit_plan!(&mut *tx, scope, class, &format!("auto {} seated", plan.len()))?;
        tx.commit().await?;
        Ok::<_, StoreError>(())
    })?;
    Ok(plan.len())
}

/// The main-hall participant `participant_id` of the class (any access), or a clear refusal.
async fn hall_participant(db: &Db, class: &Class, participant_id: i64) -> Result<Seated> {
    people(db, class, &Access::Full, 0)
        .await?
        .into_iter()
        .find(|p| p.participant_id == participant_id)
        .ok_or_else(|| {
            StoreError::rule(
                "person_not_in_hall",
                "Người này không có trong danh sách dự tại hội trường của lớp học.".into(),
            )
        })
}

/// Seats one participant, or moves them: the seat must be in the plan, not blocked and free.
pub async fn assign(
    db: &Db,
    scope: &Scope,
    class: &Class,
    participant_id: i64,
    seat: SeatRef,
) -> Result<Seated> {
    require_change(db, scope, class).await?;
    let grid = require_grid(db, class).await?;
    grid.check_usable(seat).map_err(rule)?;
    let who = hall_participant(db, class, participant_id).await?;
    drop_removed(db, class).await?;
    let taken: Option<(i64,)> = db_run!(db, p => sqlx::query_as(
        "SELECT participant_id FROM seat_assignments WHERE class_id = $1 AND seat_row = $2 AND seat_number = $3")
        .bind(class.id).bind(i64::from(seat.row)).bind(i64::from(seat.number)).fetch_optional(p).await)?;
    if let Some((other,)) = taken {
        if other == participant_id {
            return Ok(who);
        }
        let name = hall_participant(db, class, other)
            .await
            .map(|p| p.full_name)
            .unwrap_or_default();
        return Err(StoreError::rule("seat_taken", format!(
            "Ghế {seat} đã có người ngồi ({name}). Chọn ghế trống khác, hoặc bỏ chỗ của người đó trước."
        )));
    }
    let taken_meanwhile = |e| match StoreError::unique("seat")(e) {
        StoreError::Conflict { .. } => StoreError::rule(
            "seat_taken",
            format!("Ghế {seat} vừa được xếp cho người khác. Chọn ghế trống khác."),
        ),
        other => other,
    };
    let detail = format!("participant {participant_id} seat {seat}");
    db_run!(db, p => {
        let mut tx = p.begin().await?;
        sqlx::query(
            "INSERT INTO seat_assignments (class_id, participant_id, seat_row, seat_number, province_id) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (class_id, participant_id) DO UPDATE SET seat_row = excluded.seat_row, seat_number = excluded.seat_number")
            .bind(class.id).bind(participant_id).bind(i64::from(seat.row)).bind(i64::from(seat.number)).bind(class.province_id)
            .execute(&mut *tx).await
            .map_err(taken_meanwhile)?;
        audit_plan!(&mut *tx, scope, class, &detail)?;
        tx.commit().await
    })?;
    Ok(who)
}

/// Frees one participant's seat; `false` when they had none.
pub async fn unassign(db: &Db, scope: &Scope, class: &Class, participant_id: i64) -> Result<bool> {
    require_change(db, scope, class).await?;
    let detail = format!("participant {participant_id} unseated");
    let n = db_run!(db, p => {
        let mut tx = p.begin().await?;
        let n = sqlx::query("DELETE FROM seat_assignments WHERE class_id = $1 AND participant_id = $2")
            .bind(class.id).bind(participant_id).execute(&mut *tx).await?.rows_affected();
        if n > 0 {
            audit_plan!(&mut *tx, scope, class, &detail)?;
        }
        tx.commit().await?;
        Ok::<_, StoreError>(n)
    })?;
    Ok(n > 0)
}

/// Frees every seat of the class; the plan stays. Returns how many seats were freed.
pub async fn clear(db: &Db, scope: &Scope, class: &Class) -> Result<u64> {
    require_change(db, scope, class).await?;
    let n = db_run!(db, p => {
        let mut tx = p.begin().await?;
        let n = sqlx::query("DELETE FROM seat_assignments WHERE class_id = $1")
            .bind(class.id).execute(&mut *tx).await?.rows_affected();
        audit_plan!(&mut *tx, scope, class, "cleared")?;
        tx.commit().await?;
        Ok::<_, StoreError>(n)
    })?;
    Ok(n)
}

/// Toggles one participant between present and absent in a session, from the chart (R3.4):
/// present becomes absent; absent, excused or unmarked becomes present (with no lateness).
/// Written through `attendance::record`, which checks ATTEND rights and the participant.
pub async fn toggle_attendance(
    db: &Db,
    scope: &Scope,
    class: &Class,
    session: &StudySession,
    participant_id: i64,
) -> Result<(String, AttendanceStatus)> {
    let access = classes::access(db, scope, class, crate::scope::ATTEND).await?;
    let who = people(db, class, &access, session.id)
        .await?
        .into_iter()
        .find(|p| p.participant_id == participant_id)
        .ok_or(StoreError::NotFound)?;
    let next = if who.is_present() {
        AttendanceStatus::Absent
    } else {
        AttendanceStatus::Present
    };
    let len = u32::try_from(session.duration_minutes).unwrap_or(0);
    let mark = AttendanceMark::parse(next, 0, 0, None, len)?;
    attendance::record(db, scope, class, session, &[(participant_id, mark)]).await?;
    Ok((who.full_name, next))
}
