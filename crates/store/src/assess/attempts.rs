//! Attempts at a scored questionnaire: one per person (or registered entrant), started on the
//! server's clock with the questions drawn for it, answers saved as they come (a dropped
//! connection loses nothing saved), scored once on submission — a second submission is the
//! first one's result — and never changed afterwards but by an audited correction.

use chrono::{DateTime, Utc};
use domain::assess::{normalize_answer, score, AttemptSource, QuestionKind, QuizKind, Window};
use domain::ids::{AttemptId, OrgId, PersonId};
use rand::seq::SliceRandom;

use super::{percent, Quiz};
use crate::db::Db;
use crate::error::{Result, StoreError};
use crate::scope::{Scope, ATTEND};
use crate::{db_run, now};

/// Rows of a results page.
pub const PAGE: i64 = 50;

/// An attempt as its reader sees it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Attempt {
    #[sqlx(try_from = "i64")]
    pub id: AttemptId,
    pub quiz_id: i64,
    pub person_id: Option<i64>,
    pub entrant_id: Option<i64>,
    pub org_id: Option<i64>,
    pub name: String,
    pub org_name: Option<String>,
    pub bridge_point_id: Option<i64>,
    pub source: String,
    pub started_at: DateTime<Utc>,
    pub submitted_at: Option<DateTime<Utc>>,
    pub score: Option<i64>,
    pub max_score: i64,
    pub duration_ms: Option<i64>,
    pub guess: Option<i64>,
    pub guess_diff: Option<i64>,
    pub corrected: bool,
}

impl Attempt {
    pub fn submitted(&self) -> bool {
        self.submitted_at.is_some()
    }
    pub fn source_label(&self) -> &'static str {
        AttemptSource::parse(&self.source).map_or("", AttemptSource::label)
    }
    pub fn percent(&self) -> Option<i64> {
        self.score.and_then(|s| percent(s, self.max_score))
    }
    /// Time taken as "12 phút 05 giây" (online attempts only).
    pub fn duration_label(&self) -> String {
        match (self.source.as_str(), self.duration_ms) {
            ("online", Some(ms)) => {
                let s = ms / 1000;
                format!("{} phút {:02} giây", s / 60, s % 60)
            }
            _ => "—".into(),
        }
    }
}

const COLUMNS: &str = "SELECT a.id, a.quiz_id, a.person_id, a.entrant_id, a.org_id, COALESCE(p.full_name, e.full_name, '') AS name, \
     o.name AS org_name, a.bridge_point_id, a.source, a.started_at, a.submitted_at, a.score, a.max_score, a.duration_ms, a.guess, \
     a.guess_diff, a.corrected \
     FROM attempts a LEFT JOIN people p ON p.id = a.person_id LEFT JOIN contest_entrants e ON e.id = a.entrant_id LEFT JOIN orgs o ON o.id = a.org_id";

/// Who takes a questionnaire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Taker {
    Person(PersonId),
    /// A member of the public registered for a contest.
    Entrant(i64),
}

/// Where a person stands for a questionnaire they may take: their organization, and for a
/// class their bridge point. `None` when they may not take it.
pub async fn place(db: &Db, z: &Quiz, person: PersonId) -> Result<Option<(i64, Option<i64>)>> {
    let row: Option<(i64, Option<i64>)> = match (z.kind(), z.class_id) {
        (QuizKind::Quiz | QuizKind::Survey, Some(c)) => db_run!(db, p => sqlx::query_as(
            "SELECT pp.org_id, pt.bridge_point_id FROM participants pt JOIN people pp ON pp.id = pt.person_id \
             WHERE pt.class_id = $1 AND pt.person_id = $2 AND pt.removed_at IS NULL")
            .bind(c).bind(person.0).fetch_optional(p).await)?,
        (QuizKind::CellQuiz, _) => db_run!(db, p => sqlx::query_as(
            "SELECT pp.org_id, CAST(NULL AS BIGINT) FROM people pp WHERE pp.id = $1 AND pp.org_id = $2 AND pp.status = 'active'")
            .bind(person.0).bind(z.org_id).fetch_optional(p).await)?,
        (QuizKind::Contest, _) => db_run!(db, p => sqlx::query_as(
            "SELECT pp.org_id, CAST(NULL AS BIGINT) FROM people pp JOIN org_closure c ON c.descendant_id = pp.org_id \
             WHERE pp.id = $1 AND c.ancestor_id = $2")
            .bind(person.0).bind(z.org_id).fetch_optional(p).await)?,
        _ => None,
    };
    Ok(row)
}

/// The refusal for a questionnaire outside its window.
pub fn window_refusal(z: &Quiz) -> Option<StoreError> {
    let at = crate::fmt_local(z.closes_at);
    match z.window() {
        Window::Open => None,
        Window::NotYet if z.is_draft() => Some(StoreError::rule(
            "quiz_not_open",
            "Phiếu này chưa được phát hành.".into(),
        )),
        Window::NotYet => Some(StoreError::rule(
            "quiz_not_open",
            format!(
                "Chưa đến giờ làm bài: phiếu mở lúc {}.",
                crate::fmt_local(z.opens_at)
            ),
        )),
        Window::Closed => Some(StoreError::rule(
            "quiz_closed",
            format!("Đã hết giờ làm bài lúc {at}; bài làm sau giờ đóng không được ghi nhận."),
        )),
    }
}

/// The caller's attempt at `z`, started now if there is none (one attempt per person): the
/// questions drawn at random when the questionnaire draws (in shuffled order for a contest),
/// otherwise all of them in order. Refused outside the window or to someone who may not take it.
pub async fn start(db: &Db, z: &Quiz, taker: Taker) -> Result<Attempt> {
    if let Some(a) = find(db, z, taker).await? {
        return Ok(a);
    }
    if let Some(e) = window_refusal(z) {
        return Err(e);
    }
    if !z.scored() {
        return Err(StoreError::NotFound);
    }
    let (person, entrant, org, bridge) = match taker {
        Taker::Person(p) => {
            let (org, bridge) = place(db, z, p).await?.ok_or(StoreError::NotFound)?;
            (Some(p.0), None, Some(org), bridge)
        }
        Taker::Entrant(e) => (None, Some(e), None, None),
    };
    let pool = pool_of(db, z).await?;
    let picked = draw(&pool, z.draw_count, z.kind() == QuizKind::Contest);
    let max: i64 = picked.iter().map(|(_, pts)| *pts).sum();
    let id = db_run!(db, p => {
        let mut tx = p.begin().await?;
        let inserted: Option<(i64,)> = sqlx::query_as(
            "INSERT INTO attempts (quiz_id, province_id, person_id, entrant_id, org_id, bridge_point_id, source, started_at, max_score) \
             SELECT z.id, z.province_id, $2, $3, $4, $5, 'online', $6, $7 FROM quizzes z WHERE z.id = $1 \
             ON CONFLICT DO NOTHING RETURNING id")
            .bind(z.id.0).bind(person).bind(entrant).bind(org).bind(bridge).bind(now()).bind(max)
            .fetch_optional(&mut *tx).await?;
        match inserted {
            // Started in a request beside this one: that attempt is the one.
            None => {
                tx.rollback().await?;
                Ok::<_, StoreError>(None)
            }
            Some((id,)) => {
                for (n, (v, _)) in picked.iter().enumerate() {
                    sqlx::query("INSERT INTO attempt_answers (attempt_id, position, version_id, province_id) SELECT $1, $2, $3, a.province_id FROM attempts a WHERE a.id = $1")
                        .bind(id).bind(i64::try_from(n + 1).unwrap_or(0)).bind(*v).execute(&mut *tx).await?;
                }
                sqlx::query("UPDATE quizzes SET started_count = started_count + 1 WHERE id = $1").bind(z.id.0).execute(&mut *tx).await?;
                tx.commit().await?;
                Ok(Some(id))
            }
        }
    })?;
    match id {
        Some(id) => get_unscoped(db, AttemptId(id)).await,
        None => find(db, z, taker).await?.ok_or(StoreError::NotFound),
    }
}

/// The versions (and points) a questionnaire holds, in order.
async fn pool_of(db: &Db, z: &Quiz) -> Result<Vec<(i64, i64)>> {
    Ok(db_run!(db, p => sqlx::query_as::<_, (i64, i64)>(
        "SELECT qq.version_id, v.points FROM quiz_questions qq JOIN question_versions v ON v.id = qq.version_id \
         WHERE qq.quiz_id = $1 ORDER BY qq.position")
        .bind(z.id.0).fetch_all(p).await)?)
}

/// `count` of the pool at random (all when 0), shuffled when asked.
fn draw(pool: &[(i64, i64)], count: i64, shuffle: bool) -> Vec<(i64, i64)> {
    let mut rng = rand::thread_rng();
    let n = usize::try_from(count).unwrap_or(0);
    if n > 0 && n < pool.len() {
        let mut v: Vec<(i64, i64)> = pool.choose_multiple(&mut rng, n).copied().collect();
        v.shuffle(&mut rng);
        v
    } else {
        let mut v = pool.to_vec();
        if shuffle || n > 0 {
            v.shuffle(&mut rng);
        }
        v
    }
}

/// The taker's attempt at `z`, if there is one.
pub async fn find(db: &Db, z: &Quiz, taker: Taker) -> Result<Option<Attempt>> {
    let (col, id) = match taker {
        Taker::Person(p) => ("a.person_id", p.0),
        Taker::Entrant(e) => ("a.entrant_id", e),
    };
    let sql = format!("{COLUMNS} WHERE a.quiz_id = $1 AND {col} = $2");
    Ok(
        db_run!(db, p => sqlx::query_as::<_, Attempt>(&sql).bind(z.id.0).bind(id).fetch_optional(p).await)?,
    )
}

async fn get_unscoped(db: &Db, id: AttemptId) -> Result<Attempt> {
    let sql = format!("{COLUMNS} WHERE a.id = $1");
    db_run!(db, p => sqlx::query_as::<_, Attempt>(&sql).bind(id.0).fetch_optional(p).await)?
        .ok_or(StoreError::NotFound)
}

/// An attempt the caller may read: their own, or one of a person under their secretary's
/// grant (their cell's secretary and the organizers above); a public entrant's attempt by the
/// contest's organizers. Nobody else (not found).
pub async fn get(db: &Db, scope: &Scope, id: AttemptId) -> Result<Attempt> {
    let a = get_unscoped(db, id).await?;
    if a.person_id.is_some() && a.person_id == scope.person_id.map(|p| p.0) {
        return Ok(a);
    }
    let org = match a.org_id {
        Some(o) => o,
        None => {
            super::get_unscoped(db, domain::ids::QuizId(a.quiz_id))
                .await?
                .org_id
        }
    };
    if scope.covers(db, OrgId(org), ATTEND).await? {
        Ok(a)
    } else {
        Err(StoreError::NotFound)
    }
}

/// A question of an attempt, with the answer given and the points earned.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AttemptAnswer {
    pub position: i64,
    pub version_id: i64,
    pub kind: String,
    pub prompt: String,
    pub choices: String,
    pub key: String,
    pub max_points: i64,
    pub answer: Option<String>,
    pub points: Option<i64>,
}

impl AttemptAnswer {
    pub fn kind(&self) -> QuestionKind {
        QuestionKind::parse(&self.kind).unwrap_or(QuestionKind::Open)
    }
    pub fn choice_list(&self) -> Vec<&str> {
        super::questions::choice_list(&self.choices)
    }
    pub fn answer_text(&self) -> &str {
        self.answer.as_deref().unwrap_or("")
    }
    /// Is choice `i` among the answer's letters?
    pub fn picked(&self, i: &usize) -> bool {
        let l = domain::assess::letter(*i).to_string();
        self.answer_text().split(',').any(|a| a == l)
    }
    pub fn key_label(&self) -> String {
        super::questions::answer_label(self.kind(), &self.key)
    }
    pub fn answer_label(&self) -> String {
        super::questions::answer_label(self.kind(), self.answer_text())
    }
}

/// The questions of an attempt in the order drawn.
pub async fn answers(db: &Db, a: &Attempt) -> Result<Vec<AttemptAnswer>> {
    Ok(db_run!(db, p => sqlx::query_as::<_, AttemptAnswer>(
        "SELECT aa.position, aa.version_id, q.kind, v.prompt, v.choices, v.answer AS key, v.points AS max_points, aa.answer, aa.points \
         FROM attempt_answers aa JOIN question_versions v ON v.id = aa.version_id JOIN questions q ON q.id = v.question_id \
         WHERE aa.attempt_id = $1 ORDER BY aa.position")
        .bind(a.id.0).fetch_all(p).await)?)
}

/// Answers as sent: (position, raw text). Checked against each question; a bad one is refused
/// with its number.
fn checked(qs: &[AttemptAnswer], given: &[(i64, String)]) -> Result<Vec<(i64, String)>> {
    let mut out = Vec::new();
    for (pos, raw) in given {
        let Some(q) = qs.iter().find(|q| q.position == *pos) else {
            continue;
        };
        let v = normalize_answer(q.kind(), q.choice_list().len(), raw)
            .map_err(|e| StoreError::rule("invalid_answer", format!("Câu {pos}: {e}")))?;
        out.push((*pos, v));
    }
    Ok(out)
}

/// Saves answers of an attempt not yet submitted, inside the window (the rest stay as saved).
/// Returns how many were saved.
pub async fn save(db: &Db, z: &Quiz, a: &Attempt, given: &[(i64, String)]) -> Result<usize> {
    if a.submitted() {
        return Err(already(a));
    }
    if let Some(e) = window_refusal(z) {
        return Err(e);
    }
    let qs = answers(db, a).await?;
    let list = checked(&qs, given)?;
    let n = list.len();
    db_run!(db, p => {
        let mut tx = p.begin().await?;
        for (pos, v) in &list {
            sqlx::query("UPDATE attempt_answers SET answer = $3 WHERE attempt_id = $1 AND position = $2")
                .bind(a.id.0).bind(pos).bind(if v.is_empty() { None } else { Some(v) }).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok::<_, StoreError>(())
    })?;
    Ok(n)
}

fn already(a: &Attempt) -> StoreError {
    StoreError::rule(
        "already_submitted",
        format!(
            "Bài làm đã được nộp lúc {}; mỗi người chỉ làm một lần.",
            a.submitted_at.map(crate::fmt_local).unwrap_or_default()
        ),
    )
}

/// What a submission did.
#[derive(Debug, Clone)]
pub struct Submitted {
    pub attempt: Attempt,
    /// It had been submitted before: this is that result, nothing was stored again.
    pub again: bool,
}

/// Submits an attempt with its last answers (and a contest's guess): scored from the keys of
/// the versions it holds, the time taken measured by the server, the kept counts of the
/// questionnaire, its questions and the person's organization moved in the same transaction.
/// A second submission stores nothing and answers the first result; after the window closes it
/// is refused (what was saved stays, unscored).
pub async fn submit(
    db: &Db,
    z: &Quiz,
    a: &Attempt,
    given: &[(i64, String)],
    guess: Option<i64>,
) -> Result<Submitted> {
    if a.submitted() {
        return Ok(Submitted {
            attempt: a.clone(),
            again: true,
        });
    }
    if let Some(e) = window_refusal(z) {
        return Err(e);
    }
    let qs = answers(db, a).await?;
    let list = checked(&qs, given)?;
    let at = now();
    let duration = (at - a.started_at).num_milliseconds().max(0);
    let done = finish(db, z, a, &qs, &list, guess, at, Some(duration)).await?;
    let attempt = get_unscoped(db, a.id).await?;
    Ok(Submitted {
        attempt,
        again: !done,
    })
}

/// Scores and stores a submission in one transaction; false when it had been submitted
/// already (nothing written).
#[allow(clippy::too_many_arguments)]
async fn finish(
    db: &Db,
    z: &Quiz,
    a: &Attempt,
    qs: &[AttemptAnswer],
    list: &[(i64, String)],
    guess: Option<i64>,
    at: DateTime<Utc>,
    duration: Option<i64>,
) -> Result<bool> {
    // The final answer of every question: the one sent now, else the one saved.
    let mut rows = Vec::new();
    let mut total = 0;
    for q in qs {
        let ans = list
            .iter()
            .find(|(p, _)| *p == q.position)
            .map(|(_, v)| v.clone())
            .or_else(|| q.answer.clone())
            .unwrap_or_default();
        let pts = score(q.kind(), &q.key, q.choice_list().len(), &ans, q.max_points);
        total += pts.unwrap_or(0);
        rows.push((q.position, q.version_id, ans, pts));
    }
    let guess = if z.kind().has_guess() { guess } else { None };
    db_run!(db, p => {
        let mut tx = p.begin().await?;
        let done = sqlx::query("UPDATE attempts SET submitted_at = $2, score = $3, neg_score = -$3, duration_ms = $4, guess = $5, guess_diff = 0 \
                                WHERE id = $1 AND submitted_at IS NULL")
            .bind(a.id.0).bind(at).bind(total).bind(duration.unwrap_or(0)).bind(guess)
            .execute(&mut *tx).await?.rows_affected();
        if done == 0 {
            tx.rollback().await?;
            return Ok::<_, StoreError>(false);
        }
        // The kept counts in one order for every submission — the questionnaire's row first
        // (every submission of it waits there), then its questions by version — so that two
        // submissions never hold each other's rows (PostgreSQL found deadlocks otherwise).
        sqlx::query("UPDATE quizzes SET submitted_count = submitted_count + 1, score_sum = score_sum + $2 WHERE id = $1")
            .bind(z.id.0).bind(total).execute(&mut *tx).await?;
        let mut by_version: Vec<&(i64, i64, String, Option<i64>)> = rows.iter().collect();
        by_version.sort_by_key(|r| r.1);
        for (_, v, ans, pts) in by_version {
            sqlx::query("UPDATE quiz_questions SET answered = answered + $3, correct = correct + $4 WHERE quiz_id = $1 AND version_id = $2")
                .bind(z.id.0).bind(v).bind(i64::from(!ans.is_empty())).bind(i64::from(pts.is_some_and(|x| x > 0)))
                .execute(&mut *tx).await?;
        }
        for (pos, _, ans, pts) in &rows {
            sqlx::query("UPDATE attempt_answers SET answer = $3, points = $4 WHERE attempt_id = $1 AND position = $2")
                .bind(a.id.0).bind(pos).bind(if ans.is_empty() { None } else { Some(ans) }).bind(*pts).execute(&mut *tx).await?;
        }
        if let Some(org) = a.org_id {
            sqlx::query("INSERT INTO quiz_org_totals (quiz_id, org_id, province_id, submitted, score_sum, max_sum) \
                         SELECT $1, $2, z.province_id, 1, $3, $4 FROM quizzes z WHERE z.id = $1 \
                         ON CONFLICT (quiz_id, org_id) DO UPDATE SET submitted = quiz_org_totals.submitted + 1, \
                         score_sum = quiz_org_totals.score_sum + excluded.score_sum, max_sum = quiz_org_totals.max_sum + excluded.max_sum")
                .bind(z.id.0).bind(org).bind(total).bind(a.max_score).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(true)
    })
}

/// Enters a scored questionnaire from paper (afterwards, any time): the person's answers to
/// every question in order. Whoever runs the questionnaire; one attempt per person (a person
/// with an attempt is refused); audited.
pub async fn record_paper(
    db: &Db,
    scope: &Scope,
    z: &Quiz,
    person: PersonId,
    given: &[(i64, String)],
) -> Result<Attempt> {
    if !super::runs(db, scope, z).await? {
        return Err(StoreError::Forbidden);
    }
    if z.draw_count > 0 {
        return Err(StoreError::rule(
            "paper_needs_fixed_questions",
            "Phiếu rút câu hỏi ngẫu nhiên cho từng người không nhập được từ phiếu giấy; hãy nhập kết quả hỏi – đáp (điểm).".into(),
        ));
    }
    // The answers are checked before the attempt is made: a refused sheet leaves no attempt
    // behind (which would block the person's entry and their online attempt). The attempt
    // holds the questionnaire's questions at the same positions.
    let held = super::quiz_questions(db, z, false).await?;
    for (pos, raw) in given {
        if let Some(q) = held.iter().find(|q| q.position == *pos) {
            normalize_answer(q.kind(), q.choice_list().len(), raw)
                .map_err(|e| StoreError::rule("invalid_answer", format!("Câu {pos}: {e}")))?;
        }
    }
    let a = new_offline(db, scope, z, person, AttemptSource::Paper).await?;
    let qs = answers(db, &a).await?;
    let list = checked(&qs, given)?;
    finish(db, z, &a, &qs, &list, None, now(), None).await?;
    get_unscoped(db, a.id).await
}

/// Enters a result of direct questions and answers at a meeting (R4.2): points out of a total,
/// by hand. Whoever runs the questionnaire; one per person; audited.
pub async fn record_oral(
    db: &Db,
    scope: &Scope,
    z: &Quiz,
    person: PersonId,
    points: i64,
    out_of: i64,
) -> Result<Attempt> {
    if !super::runs(db, scope, z).await? {
        return Err(StoreError::Forbidden);
    }
    if !(1..=1000).contains(&out_of) || !(0..=out_of).contains(&points) {
        return Err(StoreError::rule(
            "points",
            format!(
                "Điểm: phải từ 0 đến {} (tổng điểm từ 1 đến 1000).",
                out_of.clamp(1, 1000)
            ),
        ));
    }
    let (org, bridge) = place(db, z, person).await?.ok_or_else(not_taker)?;
    let at = now();
    let id = db_run!(db, p => {
        let mut tx = p.begin().await?;
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO attempts (quiz_id, province_id, person_id, org_id, bridge_point_id, source, started_at, submitted_at, score, neg_score, max_score, duration_ms, guess_diff, recorded_by) \
             SELECT z.id, z.province_id, $2, $3, $4, 'oral', $5, $5, $6, -$6, $7, 0, 0, $8 FROM quizzes z WHERE z.id = $1 RETURNING id")
            .bind(z.id.0).bind(person.0).bind(org).bind(bridge).bind(at).bind(points).bind(out_of).bind(scope.account_id.0)
            .fetch_one(&mut *tx).await.map_err(StoreError::unique("person_id"))?;
        sqlx::query("UPDATE quizzes SET submitted_count = submitted_count + 1, score_sum = score_sum + $2 WHERE id = $1")
            .bind(z.id.0).bind(points).execute(&mut *tx).await?;
        sqlx::query("INSERT INTO quiz_org_totals (quiz_id, org_id, province_id, submitted, score_sum, max_sum) \
                     SELECT $1, $2, z.province_id, 1, $3, $4 FROM quizzes z WHERE z.id = $1 \
                     ON CONFLICT (quiz_id, org_id) DO UPDATE SET submitted = quiz_org_totals.submitted + 1, \
                     score_sum = quiz_org_totals.score_sum + excluded.score_sum, max_sum = quiz_org_totals.max_sum + excluded.max_sum")
            .bind(z.id.0).bind(org).bind(points).bind(out_of).execute(&mut *tx).await?;
        crate::audit_in!(&mut *tx, scope, "record_oral", "attempt", id, Some(OrgId(org)), &format!("{}: {points}/{out_of}", z.title))?;
        tx.commit().await?;
        Ok::<_, StoreError>(id)
    })?;
    get_unscoped(db, AttemptId(id)).await
}

fn not_taker() -> StoreError {
    StoreError::rule(
        "not_a_taker",
        "Người làm bài: người này không thuộc đối tượng của phiếu (không là học viên của lớp, đảng viên của chi bộ hoặc đảng viên trực thuộc).".into(),
    )
}

/// An attempt entered by an operator (paper): every question in order, not yet scored.
async fn new_offline(
    db: &Db,
    scope: &Scope,
    z: &Quiz,
    person: PersonId,
    source: AttemptSource,
) -> Result<Attempt> {
    let (org, bridge) = place(db, z, person).await?.ok_or_else(not_taker)?;
    let pool = pool_of(db, z).await?;
    let max: i64 = pool.iter().map(|(_, p)| *p).sum();
    let id = db_run!(db, p => {
        let mut tx = p.begin().await?;
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO attempts (quiz_id, province_id, person_id, org_id, bridge_point_id, source, started_at, max_score, recorded_by) \
             SELECT z.id, z.province_id, $2, $3, $4, $5, $6, $7, $8 FROM quizzes z WHERE z.id = $1 RETURNING id")
            .bind(z.id.0).bind(person.0).bind(org).bind(bridge).bind(source.code()).bind(now()).bind(max).bind(scope.account_id.0)
            .fetch_one(&mut *tx).await.map_err(StoreError::unique("person_id"))?;
        for (n, (v, _)) in pool.iter().enumerate() {
            sqlx::query("INSERT INTO attempt_answers (attempt_id, position, version_id, province_id) SELECT $1, $2, $3, a.province_id FROM attempts a WHERE a.id = $1")
                .bind(id).bind(i64::try_from(n + 1).unwrap_or(0)).bind(*v).execute(&mut *tx).await?;
        }
        crate::audit_in!(&mut *tx, scope, "record_paper", "attempt", id, Some(OrgId(org)), &z.title)?;
        tx.commit().await?;
        Ok::<_, StoreError>(id)
    })?;
    get_unscoped(db, AttemptId(id)).await
}

/// Scores (or re-scores) one answer of a submitted attempt: the judges' points for an essay,
/// or a correction of any answer. Whoever runs the questionnaire; a reason is required and the
/// change is audited with the old and new points; the kept sums follow in the same transaction.
pub async fn correct(
    db: &Db,
    scope: &Scope,
    z: &Quiz,
    a: &Attempt,
    position: i64,
    points: i64,
    reason: &str,
) -> Result<()> {
    if !super::runs(db, scope, z).await? {
        return Err(StoreError::Forbidden);
    }
    if !a.submitted() {
        return Err(StoreError::rule(
            "not_submitted",
            "Bài làm chưa nộp: chưa chấm được.".into(),
        ));
    }
    let qs = answers(db, a).await?;
    let q = qs
        .iter()
        .find(|q| q.position == position)
        .ok_or(StoreError::NotFound)?;
    if !(0..=q.max_points).contains(&points) {
        return Err(StoreError::rule(
            "points",
            format!("Điểm: câu {position} tối đa {} điểm.", q.max_points),
        ));
    }
    let old = q.points;
    let delta = points - old.unwrap_or(0);
    let was_right = old.is_some_and(|x| x > 0);
    let right_delta = i64::from(points > 0) - i64::from(was_right);
    let detail = format!(
        "{}: câu {position} {} -> {points} điểm. Lý do: {reason}",
        a.name,
        old.map_or("chưa chấm".to_string(), |o| o.to_string())
    );
    db_run!(db, p => {
        let mut tx = p.begin().await?;
        sqlx::query("UPDATE attempt_answers SET points = $3 WHERE attempt_id = $1 AND position = $2")
            .bind(a.id.0).bind(position).bind(points).execute(&mut *tx).await?;
        sqlx::query("UPDATE attempts SET score = score + $2, neg_score = neg_score - $2, corrected = (corrected OR $3) WHERE id = $1")
            .bind(a.id.0).bind(delta).bind(old.is_some()).execute(&mut *tx).await?;
        sqlx::query("UPDATE quizzes SET score_sum = score_sum + $2 WHERE id = $1").bind(z.id.0).bind(delta).execute(&mut *tx).await?;
        sqlx::query("UPDATE quiz_questions SET correct = correct + $3 WHERE quiz_id = $1 AND version_id = $2")
            .bind(z.id.0).bind(q.version_id).bind(right_delta).execute(&mut *tx).await?;
        if let Some(org) = a.org_id {
            sqlx::query("UPDATE quiz_org_totals SET score_sum = score_sum + $3 WHERE quiz_id = $1 AND org_id = $2")
                .bind(z.id.0).bind(org).bind(delta).execute(&mut *tx).await?;
        }
        crate::audit_in!(&mut *tx, scope, "correct", "attempt", a.id.0, a.org_id.map(OrgId), &detail)?;
        tx.commit().await?;
        Ok::<_, StoreError>(())
    })
}

/// The order of a ranking: more points, less time, the nearer guess, the earlier attempt.
const RANK_ORDER: &str = "a.neg_score, a.duration_ms, a.guess_diff, a.id";

/// The ranking key of attempts `a` and `k`: ascending on every column, as the index runs.
const KEY_A: &str = "(a.neg_score, a.duration_ms, a.guess_diff, a.id)";
/// The ranking key of the attempt whose id follows (`({KEY_OF} = $n)`).
const KEY_OF: &str =
    "SELECT k.neg_score, k.duration_ms, k.guess_diff, k.id FROM attempts k WHERE k.id";

/// SQL true when the caller (account `$1`) may read the attempt `a` among results: secretary
/// and up over the person's organization (a public entrant's attempt is the runners' only).
fn reads_attempt_sql() -> String {
    format!(
        "(a.org_id IS NOT NULL AND {})",
        Scope::probe_sql("a.org_id", 1, ATTEND)
    )
}

/// A page of submitted attempts in ranking order after the attempt `after`, limited to those
/// the caller may read (results are personal: secretaries and organizers above the person).
pub async fn ranking(
    db: &Db,
    scope: &Scope,
    z: &Quiz,
    after: Option<i64>,
    per_page: i64,
) -> Result<(Vec<Attempt>, Option<i64>)> {
    let runs = super::runs(db, scope, z).await?;
    // Who reads what: the runner every attempt (no filter); a reader of the questionnaire's
    // organization each row probed up its tree (nearly all pass); a committee below it only
    // its own organizations' attempts, read from them (the index of attempts per
    // organization), not filtered out of the whole ranking.
    let filter = if runs {
        // (The account is bound in every shape.)
        "$1 = $1".to_string()
    } else if scope.covers(db, OrgId(z.org_id), ATTEND).await? {
        reads_attempt_sql()
    } else {
        match db {
            Db::Postgres(_) => Scope::subtree_array_sql("a.org_id", 1, ATTEND),
            Db::Sqlite(_) => Scope::subtree_sql("a.org_id", 1, ATTEND),
        }
    };
    // One statement per shape: the first page, and a page after an attempt (its key read from
    // its row).
    let rows = match after {
        None => {
            let sql = format!(
                "{COLUMNS} WHERE a.quiz_id = $2 AND a.submitted_at IS NOT NULL AND {filter} ORDER BY {RANK_ORDER} LIMIT $3"
            );
            db_run!(db, p => sqlx::query_as::<_, Attempt>(&sql).bind(scope.account_id.0).bind(z.id.0)
                .bind(per_page + 1).fetch_all(p).await)?
        }
        Some(after) => {
            let sql = format!(
                "{COLUMNS} WHERE a.quiz_id = $2 AND a.submitted_at IS NOT NULL AND {KEY_A} > ({KEY_OF} = $3) AND {filter} \
                 ORDER BY {RANK_ORDER} LIMIT $4"
            );
            db_run!(db, p => sqlx::query_as::<_, Attempt>(&sql).bind(scope.account_id.0).bind(z.id.0).bind(after)
                .bind(per_page + 1).fetch_all(p).await)?
        }
    };
    Ok(crate::plans::page_of(rows, per_page, |a| a.id.0))
}

/// The place of an attempt in its questionnaire's ranking (1 is first): the attempts before
/// it, one range of the ranking's index.
pub async fn rank_of(db: &Db, a: &Attempt) -> Result<i64> {
    let sql = format!(
        "SELECT COUNT(*) FROM attempts a WHERE a.quiz_id = $1 AND a.submitted_at IS NOT NULL AND {KEY_A} < ({KEY_OF} = $2)"
    );
    let (better,): (i64,) =
        db_run!(db, p => sqlx::query_as(&sql).bind(a.quiz_id).bind(a.id.0).fetch_one(p).await)?;
    Ok(better + 1)
}

/// How many attempts rank strictly between `better` and `worse` (of one questionnaire): with
/// [`rank_of`] of a page's first row, the places of a page whose rows are not neighbours (a
/// secretary reads only their own people) from the gaps between them.
pub async fn ranked_between(db: &Db, better: &Attempt, worse: &Attempt) -> Result<i64> {
    let sql = format!(
        "SELECT COUNT(*) FROM attempts a WHERE a.quiz_id = $1 AND a.submitted_at IS NOT NULL \
         AND {KEY_A} > ({KEY_OF} = $2) AND {KEY_A} < ({KEY_OF} = $3)"
    );
    let (n,): (i64,) = db_run!(db, p => sqlx::query_as(&sql).bind(better.quiz_id).bind(better.id.0).bind(worse.id.0).fetch_one(p).await)?;
    Ok(n)
}

/// A person's attempts, newest first (their page; results over time), when the caller may
/// read them (the person; secretary and up over them).
pub async fn of_person(db: &Db, scope: &Scope, person: PersonId) -> Result<Vec<(Attempt, String)>> {
    if scope.person_id != Some(person) {
        let p = crate::org::get_person(db, scope, person).await?;
        scope.require(db, OrgId(p.org_id), ATTEND).await?;
    }
    let sql = "SELECT a.id, a.quiz_id, a.person_id, a.entrant_id, a.org_id, p.full_name AS name, o.name AS org_name, a.bridge_point_id, a.source, \
         a.started_at, a.submitted_at, a.score, a.max_score, a.duration_ms, a.guess, a.guess_diff, a.corrected, z.title AS quiz_title \
         FROM attempts a JOIN people p ON p.id = a.person_id LEFT JOIN orgs o ON o.id = a.org_id JOIN quizzes z ON z.id = a.quiz_id \
         WHERE a.person_id = $1 ORDER BY a.id DESC LIMIT 200";
    #[derive(sqlx::FromRow)]
    struct Row {
        #[sqlx(flatten)]
        a: Attempt,
        quiz_title: String,
    }
    let rows = db_run!(db, p => sqlx::query_as::<_, Row>(sql).bind(person.0).fetch_all(p).await)?;
    Ok(rows.into_iter().map(|r| (r.a, r.quiz_title)).collect())
}

/// Registers a member of the public for a contest that admits them; the secret they keep (in
/// a cookie) to come back to their attempt. One registration per phone number and contest.
pub async fn register(db: &Db, z: &Quiz, e: &domain::assess::NewEntrant) -> Result<(i64, String)> {
    if !(z.kind() == QuizKind::Contest && z.public_entry) {
        return Err(StoreError::NotFound);
    }
    if let Some(err) = window_refusal(z) {
        return Err(err);
    }
    let token = crate::auth::random_token();
    let hash = crate::auth::token_hash(&token);
    let (id,): (i64,) = db_run!(db, p => sqlx::query_as(
        "INSERT INTO contest_entrants (quiz_id, province_id, full_name, phone, address, token_hash, created_at) \
         SELECT z.id, z.province_id, $2, $3, $4, $5, $6 FROM quizzes z WHERE z.id = $1 RETURNING id")
        .bind(z.id.0).bind(&e.full_name).bind(&e.phone).bind(&e.address).bind(&hash).bind(now())
        .fetch_one(p).await.map_err(StoreError::unique("phone")))?;
    Ok((id, token))
}

/// The entrant of a contest holding `token`.
pub async fn entrant(db: &Db, z: &Quiz, token: &str) -> Result<i64> {
    let hash = crate::auth::token_hash(token);
    let row: Option<(i64,)> = db_run!(db, p => sqlx::query_as(
        "SELECT id FROM contest_entrants WHERE token_hash = $1 AND quiz_id = $2")
        .bind(&hash).bind(z.id.0).fetch_optional(p).await)?;
    row.map(|r| r.0).ok_or(StoreError::NotFound)
}
