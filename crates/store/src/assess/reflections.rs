//! Written reflections (bài thu hoạch) and personal plans after a class: what the class asks
//! (the questions, a deadline, whether a personal plan is asked too), each participant's
//! reflection — typed on their page, or received on paper and recorded — or their exemption by
//! the committee's decision, and the cell committee's grade with a remark. Who has not handed
//! in is listed per cell; a reminder goes to them as a notification.
//!
//! A reflection is personal like a quiz result: the person, the secretary of their cell and the
//! organizers above read it.

use chrono::{DateTime, NaiveDate, Utc};
use domain::assess::{Grade, NewReflection, ReflectionAsk, ReflectionState};
use domain::ids::{OrgId, PersonId, ReflectionId};

use crate::db::Db;
use crate::error::{Result, StoreError};
use crate::scope::{Scope, ATTEND, WRITE};
use crate::study::classes::Class;
use crate::{db_run, now};

/// Rows of a page.
pub const PAGE: i64 = 100;

/// What a class asks for after study.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Ask {
    pub reflection_prompt: Option<String>,
    pub reflection_due: Option<NaiveDate>,
    pub reflection_plan: bool,
    pub reflection_count: i64,
}

impl Ask {
    pub fn asked(&self) -> bool {
        self.reflection_prompt.is_some()
    }
    pub fn prompt(&self) -> &str {
        self.reflection_prompt.as_deref().unwrap_or("")
    }
    pub fn overdue(&self, today: NaiveDate) -> bool {
        self.reflection_due.is_some_and(|d| d < today)
    }
}

pub async fn ask_of(db: &Db, class_id: i64) -> Result<Ask> {
    Ok(db_run!(db, p => sqlx::query_as::<_, Ask>(
        "SELECT reflection_prompt, reflection_due, reflection_plan, reflection_count FROM classes WHERE id = $1")
        .bind(class_id).fetch_one(p).await)?)
}

/// Sets (or changes) what the class asks: organizer of the class's organization. Audited.
pub async fn set_ask(db: &Db, scope: &Scope, class: &Class, a: &ReflectionAsk) -> Result<()> {
    scope.require(db, OrgId(class.org_id), WRITE).await?;
    db_run!(db, p => {
        let mut tx = p.begin().await?;
        sqlx::query("UPDATE classes SET reflection_prompt = $2, reflection_due = $3, reflection_plan = $4 WHERE id = $1")
            .bind(class.id).bind(&a.prompt).bind(a.due_on).bind(a.asks_plan).execute(&mut *tx).await?;
        crate::audit_in!(&mut *tx, scope, "ask_reflection", "class", class.id, Some(OrgId(class.org_id)), &format!("hạn {}", a.due_on))?;
        tx.commit().await?;
        Ok::<_, StoreError>(())
    })
}

/// A participant and their reflection, if any.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Row {
    pub person_id: i64,
    pub full_name: String,
    pub org_id: i64,
    pub org_name: String,
    pub participant_id: i64,
    pub reflection_id: Option<i64>,
    pub state: Option<String>,
    pub grade: Option<String>,
    pub handed_at: Option<DateTime<Utc>>,
}

impl Row {
    pub fn state_label(&self) -> &'static str {
        self.state
            .as_deref()
            .and_then(|s| ReflectionState::parse(s).ok())
            .map_or("Chưa nộp", ReflectionState::label)
    }
    pub fn grade_label(&self) -> &'static str {
        self.grade
            .as_deref()
            .and_then(|g| Grade::parse(g).ok())
            .map_or("", Grade::label)
    }
    pub fn missing(&self) -> bool {
        self.state.is_none()
    }
}

/// The participants of a class the caller answers for (secretary and up over their
/// organization), in name order, a page after the participant `after`; `missing` keeps only
/// those who have not handed in (nor been exempted).
pub async fn of_class(
    db: &Db,
    scope: &Scope,
    class: &Class,
    missing: bool,
    after: Option<i64>,
) -> Result<(Vec<Row>, Option<i64>)> {
    let from = if after.is_some() {
        crate::study::participants::after_sql(3)
    } else {
        String::new()
    };
    let sql = format!(
        "SELECT p.id AS person_id, p.full_name, p.org_id, o.name AS org_name, pt.id AS participant_id, r.id AS reflection_id, r.state, r.grade, r.handed_at \
         FROM participants pt JOIN people p ON p.id = pt.person_id JOIN orgs o ON o.id = p.org_id \
         LEFT JOIN reflections r ON r.class_id = pt.class_id AND r.person_id = pt.person_id \
         WHERE pt.class_id = $1 AND pt.removed_at IS NULL AND {} {} {from} ORDER BY p.sort_key, pt.id LIMIT {}",
        Scope::probe_sql("p.org_id", 2, ATTEND),
        if missing { "AND r.id IS NULL" } else { "" },
        PAGE + 1
    );
    let rows: Vec<Row> = db_run!(db, p => {
        let q = sqlx::query_as::<_, Row>(&sql).bind(class.id).bind(scope.account_id.0);
        match after {
            Some(a) => q.bind(a).fetch_all(p).await,
            None => q.fetch_all(p).await,
        }
    })?;
    Ok(crate::plans::page_of(rows, PAGE, |r| r.participant_id))
}

/// Counts of a class's reflections the caller answers for: (participants, handed in or
/// received, exempt, graded).
pub async fn counts(db: &Db, scope: &Scope, class: &Class) -> Result<(i64, i64, i64, i64)> {
    let sql = format!(
        "SELECT COUNT(*), COUNT(r.id) - COUNT(CASE WHEN r.state = 'exempt' THEN 1 END), COUNT(CASE WHEN r.state = 'exempt' THEN 1 END), COUNT(r.grade) \
         FROM participants pt JOIN people p ON p.id = pt.person_id \
         LEFT JOIN reflections r ON r.class_id = pt.class_id AND r.person_id = pt.person_id \
         WHERE pt.class_id = $1 AND pt.removed_at IS NULL AND {}",
        Scope::probe_sql("p.org_id", 2, ATTEND)
    );
    Ok(
        db_run!(db, p => sqlx::query_as::<_, (i64, i64, i64, i64)>(&sql).bind(class.id).bind(scope.account_id.0).fetch_one(p).await)?,
    )
}

/// One reflection as its readers see it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Reflection {
    #[sqlx(try_from = "i64")]
    pub id: ReflectionId,
    pub class_id: i64,
    pub class_title: String,
    pub person_id: i64,
    pub full_name: String,
    pub org_id: i64,
    pub state: String,
    pub body: Option<String>,
    pub plan: Option<String>,
    pub exempt_reason: Option<String>,
    pub grade: Option<String>,
    pub remark: Option<String>,
    pub handed_at: DateTime<Utc>,
    pub graded_at: Option<DateTime<Utc>>,
}

impl Reflection {
    pub fn state_label(&self) -> &'static str {
        ReflectionState::parse(&self.state).map_or("", ReflectionState::label)
    }
    pub fn grade_label(&self) -> &'static str {
        self.grade
            .as_deref()
            .and_then(|g| Grade::parse(g).ok())
            .map_or("Chưa chấm", Grade::label)
    }
    pub fn is_exempt(&self) -> bool {
        self.state == ReflectionState::Exempt.code()
    }
}

const COLUMNS: &str = "SELECT r.id, r.class_id, k.title AS class_title, r.person_id, p.full_name, r.org_id, r.state, r.body, r.plan, r.exempt_reason, \
     r.grade, r.remark, r.handed_at, r.graded_at FROM reflections r JOIN classes k ON k.id = r.class_id JOIN people p ON p.id = r.person_id";

/// A reflection the caller may read: the person's own, or secretary and up over them.
pub async fn get(db: &Db, scope: &Scope, id: ReflectionId) -> Result<Reflection> {
    let sql = format!("{COLUMNS} WHERE r.id = $1");
    let r =
        db_run!(db, p => sqlx::query_as::<_, Reflection>(&sql).bind(id.0).fetch_optional(p).await)?
            .ok_or(StoreError::NotFound)?;
    if scope.person_id == Some(PersonId(r.person_id))
        || scope.covers(db, OrgId(r.org_id), ATTEND).await?
    {
        Ok(r)
    } else {
        Err(StoreError::NotFound)
    }
}

/// A person's reflection of a class, if any (unscoped: callers check).
pub async fn find(db: &Db, class_id: i64, person: PersonId) -> Result<Option<Reflection>> {
    let sql = format!("{COLUMNS} WHERE r.class_id = $1 AND r.person_id = $2");
    Ok(
        db_run!(db, p => sqlx::query_as::<_, Reflection>(&sql).bind(class_id).bind(person.0).fetch_optional(p).await)?,
    )
}

/// A person's reflections, newest first (their page; the person page beside attendance).
pub async fn of_person(db: &Db, scope: &Scope, person: PersonId) -> Result<Vec<Reflection>> {
    if scope.person_id != Some(person) {
        let p = crate::org::get_person(db, scope, person).await?;
        scope.require(db, OrgId(p.org_id), ATTEND).await?;
    }
    let sql = format!("{COLUMNS} WHERE r.person_id = $1 ORDER BY r.id DESC LIMIT 200");
    Ok(db_run!(db, p => sqlx::query_as::<_, Reflection>(&sql).bind(person.0).fetch_all(p).await)?)
}

/// The class whose reflections the caller works on, and whether they may see the class itself:
/// a reader of its organization, or — a cell's secretary at a commune's or province's class —
/// someone who answers for at least one of its participants (they then see their own people
/// only, and not the class's other pages).
pub async fn class_for(db: &Db, scope: &Scope, id: domain::ids::ClassId) -> Result<(Class, bool)> {
    match crate::study::classes::get(db, scope, id).await {
        Ok(c) => Ok((c, true)),
        Err(StoreError::NotFound) => {
            let c = crate::study::classes::get_unscoped(db, id).await?;
            if counts(db, scope, &c).await?.0 == 0 {
                return Err(StoreError::NotFound);
            }
            Ok((c, false))
        }
        Err(e) => Err(e),
    }
}

/// A class that asks for reflections, as the secretaries who follow them find it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Followed {
    pub class_id: i64,
    pub title: String,
    pub org_name: String,
    pub reflection_due: Option<NaiveDate>,
    pub reflection_count: i64,
}

/// The classes asking for reflections in which the caller answers for at least one participant
/// (secretary and up over their organization), latest deadline first (at most 50): how a cell's
/// secretary reaches the list of a class held above his cell.
pub async fn followed(db: &Db, scope: &Scope) -> Result<Vec<Followed>> {
    if !scope.has_role(ATTEND) {
        return Ok(vec![]);
    }
    let sql = format!(
        "SELECT k.id AS class_id, k.title, o.name AS org_name, k.reflection_due, k.reflection_count FROM classes k JOIN orgs o ON o.id = k.org_id \
         WHERE k.reflection_prompt IS NOT NULL AND EXISTS (SELECT 1 FROM participants pt JOIN people p ON p.id = pt.person_id \
         WHERE pt.class_id = k.id AND pt.removed_at IS NULL AND {}) ORDER BY k.reflection_due DESC, k.id DESC LIMIT 50",
        Scope::subtree_sql("p.org_id", 1, ATTEND)
    );
    Ok(
        db_run!(db, p => sqlx::query_as::<_, Followed>(&sql).bind(scope.account_id.0).fetch_all(p).await)?,
    )
}

/// Is `person` a participant of `class` (not removed)?
async fn participant(db: &Db, class: &Class, person: PersonId) -> Result<bool> {
    let (b,): (bool,) = db_run!(db, p => sqlx::query_as(
        "SELECT EXISTS (SELECT 1 FROM participants WHERE class_id = $1 AND person_id = $2 AND removed_at IS NULL)")
        .bind(class.id).bind(person.0).fetch_one(p).await)?;
    Ok(b)
}

fn not_asked() -> StoreError {
    StoreError::rule(
        "reflection_not_asked",
        "Lớp học này không yêu cầu viết bài thu hoạch.".into(),
    )
}

/// The participant hands in (or rewrites, until it is graded) their reflection. Late is
/// accepted and shown as late.
pub async fn hand_in(db: &Db, scope: &Scope, class: &Class, r: &NewReflection) -> Result<()> {
    let person = scope.person_id.ok_or(StoreError::Forbidden)?;
    if !participant(db, class, person).await? {
        return Err(StoreError::NotFound);
    }
    if !ask_of(db, class.id).await?.asked() {
        return Err(not_asked());
    }
    if let Some(old) = find(db, class.id, person).await? {
        if old.grade.is_some() {
            return Err(StoreError::rule(
                "reflection_graded",
                "Bài thu hoạch đã được chấm, không sửa được nữa.".into(),
            ));
        }
        if old.is_exempt() {
            return Err(StoreError::rule(
                "reflection_exempt",
                "Đồng chí được miễn viết bài thu hoạch của lớp này.".into(),
            ));
        }
    }
    write(
        db,
        scope,
        class,
        person,
        ReflectionState::Submitted,
        Some(&r.body),
        r.plan.as_deref(),
        None,
    )
    .await
}

/// Records a reflection received on paper, or an exemption (with its reason): secretary and
/// up over the person. Audited.
pub async fn record(
    db: &Db,
    scope: &Scope,
    class: &Class,
    person: PersonId,
    state: ReflectionState,
    reason: Option<&str>,
) -> Result<()> {
    record_many(db, scope, class, &[person], state, reason)
        .await
        .map(|_| ())
}

/// [`record`] for several people of one list: every one is checked first, and one refused
/// refuses them all (nothing written). Returns how many were recorded.
pub async fn record_many(
    db: &Db,
    scope: &Scope,
    class: &Class,
    people: &[PersonId],
    state: ReflectionState,
    reason: Option<&str>,
) -> Result<usize> {
    if !ask_of(db, class.id).await?.asked() {
        return Err(not_asked());
    }
    for person in people {
        let p = crate::org::get_person(db, scope, *person).await?;
        scope.require(db, OrgId(p.org_id), ATTEND).await?;
        if !participant(db, class, *person).await? {
            return Err(StoreError::rule(
                "not_a_participant",
                format!(
                    "{}: không có trong danh sách học viên của lớp.",
                    p.full_name
                ),
            ));
        }
        if let Some(old) = find(db, class.id, *person).await? {
            if old.grade.is_some() {
                return Err(StoreError::rule(
                    "reflection_graded",
                    format!(
                        "{}: bài thu hoạch đã được chấm, không sửa được nữa.",
                        p.full_name
                    ),
                ));
            }
            if old.state == ReflectionState::Submitted.code() {
                return Err(StoreError::rule(
                    "reflection_handed_in",
                    format!("{}: đã nộp bài thu hoạch trực tuyến; bài đã nộp không bị thay bằng bản giấy hay miễn viết.", p.full_name),
                ));
            }
        }
    }
    for person in people {
        write(db, scope, class, *person, state, None, None, reason).await?;
    }
    Ok(people.len())
}

#[allow(clippy::too_many_arguments)]
async fn write(
    db: &Db,
    scope: &Scope,
    class: &Class,
    person: PersonId,
    state: ReflectionState,
    body: Option<&str>,
    plan: Option<&str>,
    reason: Option<&str>,
) -> Result<()> {
    let detail = format!("{}: {}", class.title, state.label());
    db_run!(db, p => {
        let mut tx = p.begin().await?;
        let updated = sqlx::query("UPDATE reflections SET state = $3, body = $4, plan = $5, exempt_reason = $6, recorded_by = $7, handed_at = $8 \
                                   WHERE class_id = $1 AND person_id = $2 AND grade IS NULL")
            .bind(class.id).bind(person.0).bind(state.code()).bind(body).bind(plan).bind(reason).bind(scope.account_id.0).bind(now())
            .execute(&mut *tx).await?.rows_affected();
        let id = if updated == 0 {
            let (id,): (i64,) = sqlx::query_as(
                "INSERT INTO reflections (class_id, person_id, org_id, province_id, state, body, plan, exempt_reason, recorded_by, handed_at) \
                 SELECT $1, p.id, p.org_id, p.province_id, $3, $4, $5, $6, $7, $8 FROM people p WHERE p.id = $2 RETURNING id")
                .bind(class.id).bind(person.0).bind(state.code()).bind(body).bind(plan).bind(reason).bind(scope.account_id.0).bind(now())
                .fetch_one(&mut *tx).await.map_err(StoreError::unique("person_id"))?;
            sqlx::query("UPDATE classes SET reflection_count = reflection_count + 1 WHERE id = $1").bind(class.id).execute(&mut *tx).await?;
            id
        } else {
            0
        };
        crate::audit_in!(&mut *tx, scope, "reflection", "class", class.id, Some(OrgId(class.org_id)), &format!("{detail} (#{id})"))?;
        tx.commit().await?;
        Ok::<_, StoreError>(())
    })
}

/// Grades a reflection (not an exemption): secretary and up over the person (the cell
/// committee). A regrade is audited with the old grade.
pub async fn grade(
    db: &Db,
    scope: &Scope,
    r: &Reflection,
    g: Grade,
    remark: Option<&str>,
) -> Result<()> {
    scope.require(db, OrgId(r.org_id), ATTEND).await?;
    if r.is_exempt() {
        return Err(StoreError::rule(
            "reflection_exempt",
            "Người này được miễn viết: không có bài để chấm.".into(),
        ));
    }
    let detail = format!(
        "{}: {} -> {}",
        r.full_name,
        r.grade.as_deref().unwrap_or("—"),
        g.code()
    );
    db_run!(db, p => {
        let mut tx = p.begin().await?;
        sqlx::query("UPDATE reflections SET grade = $2, remark = $3, graded_by = $4, graded_at = $5 WHERE id = $1")
            .bind(r.id.0).bind(g.code()).bind(remark).bind(scope.account_id.0).bind(now()).execute(&mut *tx).await?;
        crate::audit_in!(&mut *tx, scope, "grade", "reflection", r.id.0, Some(OrgId(r.org_id)), &detail)?;
        tx.commit().await?;
        Ok::<_, StoreError>(())
    })
}

/// Reminds the participants the caller answers for who have not handed in: a notification
/// each (e-mailed where they chose so). Returns how many were reminded.
pub async fn remind(db: &Db, scope: &Scope, class: &Class) -> Result<usize> {
    let ask = ask_of(db, class.id).await?;
    if !ask.asked() {
        return Err(not_asked());
    }
    let sql = format!(
        "SELECT p.id FROM participants pt JOIN people p ON p.id = pt.person_id \
         LEFT JOIN reflections r ON r.class_id = pt.class_id AND r.person_id = pt.person_id \
         WHERE pt.class_id = $1 AND pt.removed_at IS NULL AND r.id IS NULL AND {} LIMIT 100000",
        Scope::probe_sql("p.org_id", 2, ATTEND)
    );
    let people: Vec<(i64,)> = db_run!(db, p => sqlx::query_as(&sql).bind(class.id).bind(scope.account_id.0).fetch_all(p).await)?;
    let ids: Vec<i64> = people.into_iter().map(|r| r.0).collect();
    let due = ask
        .reflection_due
        .map(domain::text::format_date)
        .unwrap_or_default();
    crate::notify::create_batch(
        db,
        &ids,
        &crate::notify::NewNotification {
            kind: "reflection",
            title: format!("Nhắc nộp bài thu hoạch: {}", class.title),
            body: format!("Đồng chí chưa nộp bài thu hoạch sau lớp học; hạn nộp {due}."),
            link: format!("/classes/{}/reflection", class.id),
        },
    )
    .await
}
