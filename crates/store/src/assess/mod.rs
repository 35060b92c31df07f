//! Checking understanding (R3.4, R4.1, R4.2, R6.3): questionnaires drawn from a resolution's
//! bank — a class's scored quiz or anonymous survey, a cell's quiz, a contest round — the
//! attempts people make at them, and the results and roll-ups.
//!
//! Who sees what: a questionnaire is run by its organization (organizers; a cell's secretary for
//! a cell quiz) and read by the committees above; it is taken by the class's participants, the
//! cell's members or, for a contest, every member below its organization (and the public where
//! it admits them). An attempt is personal: the person, their cell's secretary and the
//! organizers above read it, nobody else. Survey answers carry no person at all.
//!
//! Fast as it grows: counts and sums of a questionnaire, of each of its questions and of each
//! organization's submissions are kept on every submission (`quizzes`, `quiz_questions`,
//! `quiz_org_totals`), so a results page or a roll-up down the tree never counts attempts; a
//! contest's ranking is read along one index in keyset pages.

pub mod attempts;
pub mod export;
pub mod questions;
pub mod reflections;
pub mod surveys;

use chrono::{DateTime, Utc};
use domain::assess::{NewQuiz, QuizKind, QuizState, Window};
use domain::ids::{OrgId, QuizId, ResolutionId};
use domain::study::AudienceTier;

use crate::db::Db;
use crate::error::{Result, StoreError};
use crate::scope::{Scope, ATTEND, READ, WRITE};
use crate::{db_run, now};

/// Rows of a list page.
pub const PAGE: i64 = 50;

/// A questionnaire as shown.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Quiz {
    #[sqlx(try_from = "i64")]
    pub id: QuizId,
    pub org_id: i64,
    pub org_name: String,
    pub province_id: i64,
    pub resolution_id: i64,
    pub resolution_name: String,
    pub kind: String,
    pub class_id: Option<i64>,
    pub class_title: Option<String>,
    pub session_id: Option<i64>,
    pub title: String,
    pub contest_title: Option<String>,
    pub round: i64,
    pub opens_at: DateTime<Utc>,
    pub closes_at: DateTime<Utc>,
    pub draw_count: i64,
    pub tier: Option<String>,
    pub public_entry: bool,
    pub state: String,
    pub question_count: i64,
    pub max_points: i64,
    pub started_count: i64,
    pub submitted_count: i64,
    pub score_sum: i64,
    pub final_count: Option<i64>,
    pub created_at: DateTime<Utc>,
}

impl Quiz {
    pub fn kind(&self) -> QuizKind {
        QuizKind::parse(&self.kind).unwrap_or(QuizKind::Quiz)
    }
    pub fn kind_label(&self) -> &'static str {
        self.kind().label()
    }
    pub fn state(&self) -> QuizState {
        QuizState::parse(&self.state).unwrap_or(QuizState::Draft)
    }
    pub fn state_label(&self) -> &'static str {
        self.state().label()
    }
    pub fn is_draft(&self) -> bool {
        self.state() == QuizState::Draft
    }
    pub fn scored(&self) -> bool {
        self.kind().scored()
    }
    pub fn tier_label(&self) -> &'static str {
        self.tier
            .as_deref()
            .and_then(|t| AudienceTier::parse(t).ok())
            .map_or("Mọi đối tượng", AudienceTier::label)
    }
    /// Whether it takes answers now (published and inside its window).
    pub fn window(&self) -> Window {
        if self.is_draft() {
            return Window::NotYet;
        }
        domain::assess::window(self.opens_at, self.closes_at, now())
    }
    pub fn is_open(&self) -> bool {
        self.window() == Window::Open
    }
    /// Questions each person answers.
    pub fn per_person(&self) -> i64 {
        if self.draw_count > 0 {
            self.draw_count.min(self.question_count)
        } else {
            self.question_count
        }
    }
    /// The average score in percent of the points, once someone submitted.
    pub fn average_percent(&self) -> Option<i64> {
        percent(
            self.score_sum,
            self.submitted_count * self.max_points_each(),
        )
    }
    /// The points one attempt can earn (a draw of N one-point questions, or the sum).
    pub fn max_points_each(&self) -> i64 {
        if self.draw_count > 0 && self.question_count > 0 {
            self.max_points * self.per_person() / self.question_count
        } else {
            self.max_points
        }
    }
    /// The link a participant follows to take it.
    pub fn take_link(&self) -> String {
        format!("/assess/quizzes/{}/take", self.id.0)
    }
}

/// `part` of `whole` in whole percent; `None` for an empty whole.
pub fn percent(part: i64, whole: i64) -> Option<i64> {
    (whole > 0).then(|| (part * 100 + whole / 2) / whole)
}

pub(crate) const COLUMNS: &str = "SELECT z.id, z.org_id, o.name AS org_name, z.province_id, z.resolution_id, \
     r.number || ' — ' || r.title AS resolution_name, z.kind, z.class_id, k.title AS class_title, z.session_id, z.title, \
     z.contest_title, z.round, z.opens_at, z.closes_at, z.draw_count, z.tier, z.public_entry, z.state, z.question_count, \
     z.max_points, z.started_count, z.submitted_count, z.score_sum, z.final_count, z.created_at \
     FROM quizzes z JOIN orgs o ON o.id = z.org_id JOIN resolutions r ON r.id = z.resolution_id LEFT JOIN classes k ON k.id = z.class_id";

/// The role that runs a questionnaire of this kind: a cell's secretary runs its quiz.
fn runner(kind: QuizKind) -> domain::auth::Role {
    if kind == QuizKind::CellQuiz {
        ATTEND
    } else {
        WRITE
    }
}

/// Creates a questionnaire in draft, with its questions from the bank of the resolution (the
/// ones chosen, or every current one of the tier): organizer of its organization (secretary
/// for a cell quiz). A class's questionnaire belongs to the class's organization. Audited.
pub async fn create(db: &Db, scope: &Scope, z: &NewQuiz) -> Result<QuizId> {
    let org = OrgId(z.org_id);
    scope.require(db, org, runner(z.kind)).await?;
    let r = crate::resolutions::get(db, scope, ResolutionId(z.resolution_id))
        .await
        .map_err(|_| {
            StoreError::rule(
                "resolution_id",
                "Văn bản: không tìm thấy văn bản này trong danh mục của bạn.".into(),
            )
        })?;
    questions::refuse_classified(&r)?;
    if let Some(c) = z.class_id {
        let class = crate::study::classes::get(db, scope, c).await?;
        if class.org_id != z.org_id {
            return Err(StoreError::rule(
                "class_outside_org",
                "Lớp học: phiếu của một lớp học do tổ chức mở lớp phát hành.".into(),
            ));
        }
        if let Some(s) = z.session_id {
            let (ok,): (bool,) = db_run!(db, p => sqlx::query_as(
                "SELECT EXISTS (SELECT 1 FROM study_sessions WHERE id = $1 AND class_id = $2)")
                .bind(s.0).bind(c.0).fetch_one(p).await)?;
            if !ok {
                return Err(StoreError::rule(
                    "session_outside_class",
                    "Buổi học: buổi học này không thuộc lớp đã chọn.".into(),
                ));
            }
        }
    }
    if z.kind == QuizKind::CellQuiz {
        let (has_children,): (bool,) = db_run!(db, p => sqlx::query_as(
            "SELECT EXISTS (SELECT 1 FROM orgs WHERE parent_id = $1)").bind(org.0).fetch_one(p).await)?;
        if has_children {
            return Err(StoreError::rule(
                "not_a_cell",
                "Tổ chức: kiểm tra ở sinh hoạt định kỳ do chi bộ tổ chức; hãy chọn một chi bộ."
                    .into(),
            ));
        }
    }
    let pool = pool(db, z, &r).await?;
    if pool.is_empty() {
        return Err(StoreError::rule(
            "no_question",
            "Câu hỏi: ngân hàng câu hỏi của văn bản này chưa có câu hỏi phù hợp; hãy thêm câu hỏi trước.".into(),
        ));
    }
    let max_points: i64 = pool.iter().map(|(_, pts)| *pts).sum();
    let detail = format!("{} ({} câu)", z.title, pool.len());
    let id = db_run!(db, p => {
        let mut tx = p.begin().await?;
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO quizzes (org_id, province_id, resolution_id, kind, class_id, session_id, title, contest_title, round, \
             opens_at, closes_at, draw_count, tier, public_entry, question_count, max_points, created_by, created_at) \
             SELECT o.id, o.province_id, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17 FROM orgs o WHERE o.id = $1 RETURNING id")
            .bind(org.0).bind(z.resolution_id).bind(z.kind.code()).bind(z.class_id.map(|c| c.0)).bind(z.session_id.map(|s| s.0))
            .bind(&z.title).bind(&z.contest_title).bind(z.round).bind(z.opens_at).bind(z.closes_at).bind(z.draw_count)
            .bind(z.tier.map(|t| t.code())).bind(z.public_entry).bind(i64::try_from(pool.len()).unwrap_or(0)).bind(max_points)
            .bind(scope.account_id.0).bind(now())
            .fetch_one(&mut *tx).await?;
        for (n, (v, _)) in pool.iter().enumerate() {
            sqlx::query("INSERT INTO quiz_questions (quiz_id, position, version_id, province_id) SELECT $1, $2, $3, z.province_id FROM quizzes z WHERE z.id = $1")
                .bind(id).bind(i64::try_from(n + 1).unwrap_or(0)).bind(*v).execute(&mut *tx).await?;
        }
        crate::audit_in!(&mut *tx, scope, "create", "quiz", id, Some(org), &detail)?;
        tx.commit().await?;
        Ok::<_, StoreError>(id)
    })?;
    Ok(QuizId(id))
}

/// The current versions (and their points) a new questionnaire takes: the chosen questions, or
/// every question of the resolution's bank kept by its organization or one above it, of the
/// tier, not retired; a scored questionnaire takes scored questions only.
async fn pool(db: &Db, z: &NewQuiz, r: &crate::resolutions::Resolution) -> Result<Vec<(i64, i64)>> {
    let kinds = if z.kind.scored() {
        "'single', 'multiple', 'true_false', 'short_answer', 'essay'"
    } else {
        "'single', 'multiple', 'true_false', 'short_answer', 'likert', 'open'"
    };
    let chosen = serde_json::to_string(&z.questions.iter().map(|q| q.0).collect::<Vec<_>>())
        .map_err(|e| StoreError::Internal(e.to_string()))?;
    let sql = format!(
        "SELECT v.id, v.points FROM questions q JOIN question_versions v ON v.id = q.current_version_id \
         WHERE q.resolution_id = $1 AND NOT q.retired AND q.kind IN ({kinds}) \
         AND q.org_id IN (SELECT ancestor_id FROM org_closure WHERE descendant_id = $2) \
         AND ($3 = '' OR q.tier IS NULL OR q.tier = $3) \
         AND ($4 = 0 OR q.id IN ({})) ORDER BY q.id LIMIT {}",
        db.json_ints(5),
        domain::assess::QUIZ_QUESTIONS_MAX
    );
    let rows: Vec<(i64, i64)> = db_run!(db, p => sqlx::query_as(&sql).bind(r.id).bind(z.org_id)
        .bind(z.tier.map_or("", |t| t.code())).bind(i64::try_from(z.questions.len()).unwrap_or(0)).bind(&chosen)
        .fetch_all(p).await)?;
    if !z.questions.is_empty() && rows.len() != z.questions.len() {
        return Err(StoreError::rule(
            "question_ids",
            "Câu hỏi: có câu hỏi đã chọn không thuộc ngân hàng của văn bản này, đã ngừng dùng, hoặc không hợp với loại phiếu.".into(),
        ));
    }
    if z.kind.scored() && z.draw_count > i64::try_from(rows.len()).unwrap_or(0) {
        return Err(StoreError::rule(
            "draw_count",
            format!(
                "Số câu rút ngẫu nhiên: ngân hàng chỉ có {} câu phù hợp.",
                rows.len()
            ),
        ));
    }
    Ok(rows)
}

/// Publishes a draft: from now on it takes answers in its window, and its questions are the
/// versions it holds (an edit of the bank makes a new version it does not see). Audited.
pub async fn publish(db: &Db, scope: &Scope, z: &Quiz) -> Result<()> {
    scope.require(db, OrgId(z.org_id), runner(z.kind())).await?;
    if !z.is_draft() {
        return Ok(());
    }
    db_run!(db, p => {
        let mut tx = p.begin().await?;
        sqlx::query("UPDATE quizzes SET state = 'published', published_at = $2 WHERE id = $1 AND state = 'draft'")
            .bind(z.id.0).bind(now()).execute(&mut *tx).await?;
        crate::audit_in!(&mut *tx, scope, "publish", "quiz", z.id.0, Some(OrgId(z.org_id)), &z.title)?;
        tx.commit().await?;
        Ok::<_, StoreError>(())
    })
}

/// Publishes a contest round's results after its window closed: the number who took part is
/// fixed, each attempt's distance from it is written (the tie-break), and the ranking is read
/// from then on. Organizer; audited.
pub async fn publish_results(db: &Db, scope: &Scope, z: &Quiz) -> Result<()> {
    scope.require(db, OrgId(z.org_id), runner(z.kind())).await?;
    if z.window() != Window::Closed {
        return Err(StoreError::rule(
            "quiz_still_open",
            "Kết quả: chỉ công bố sau khi hết thời gian làm bài.".into(),
        ));
    }
    db_run!(db, p => {
        let mut tx = p.begin().await?;
        let (n,): (i64,) = sqlx::query_as("SELECT CAST(submitted_count AS BIGINT) FROM quizzes WHERE id = $1")
            .bind(z.id.0).fetch_one(&mut *tx).await?;
        sqlx::query("UPDATE attempts SET guess_diff = CASE WHEN guess IS NULL THEN 9223372036854775807 \
                     WHEN guess >= $2 THEN guess - $2 ELSE $2 - guess END WHERE quiz_id = $1 AND submitted_at IS NOT NULL")
            .bind(z.id.0).bind(n).execute(&mut *tx).await?;
        sqlx::query("UPDATE quizzes SET state = 'results', final_count = $2, results_at = $3 WHERE id = $1")
            .bind(z.id.0).bind(n).bind(now()).execute(&mut *tx).await?;
        crate::audit_in!(&mut *tx, scope, "publish_results", "quiz", z.id.0, Some(OrgId(z.org_id)), &format!("{}: {n} người dự thi", z.title))?;
        tx.commit().await?;
        Ok::<_, StoreError>(())
    })
}

/// SQL true when the caller (account `$1`, person `$n`) may read the questionnaire `z`: a
/// reader of its organization's subtree, a participant of its class, a member of its cell, or
/// (a published contest) a member or a reader of an organization below its organization — a
/// commune's committee follows its members in the province's contest (the results it reads are
/// still only its own people's).
fn sees(person_param: usize) -> String {
    let roles = crate::scope::roles_sql(READ);
    format!(
        "({} OR (z.state <> 'draft' AND z.kind = 'contest' AND EXISTS (SELECT 1 FROM role_grants g JOIN org_closure c ON c.descendant_id = g.org_id \
            WHERE g.account_id = $1 AND c.ancestor_id = z.org_id AND g.role IN ({roles}))) \
         OR (z.state <> 'draft' AND ( \
            (z.class_id IS NOT NULL AND EXISTS (SELECT 1 FROM participants pt WHERE pt.class_id = z.class_id AND pt.person_id = ${person_param} AND pt.removed_at IS NULL)) \
         OR (z.kind = 'cell_quiz' AND EXISTS (SELECT 1 FROM people pp WHERE pp.id = ${person_param} AND pp.org_id = z.org_id)) \
         OR (z.kind = 'contest' AND EXISTS (SELECT 1 FROM people pp JOIN org_closure c ON c.descendant_id = pp.org_id WHERE pp.id = ${person_param} AND c.ancestor_id = z.org_id)))))",
        Scope::probe_sql("z.org_id", 1, READ)
    )
}

fn person(scope: &Scope) -> i64 {
    scope.person_id.map_or(0, |p| p.0)
}

/// One questionnaire the caller may read or take.
pub async fn get(db: &Db, scope: &Scope, id: QuizId) -> Result<Quiz> {
    let sql = format!("{COLUMNS} WHERE z.id = $2 AND {}", sees(3));
    db_run!(db, p => sqlx::query_as::<_, Quiz>(&sql).bind(scope.account_id.0).bind(id.0).bind(person(scope)).fetch_optional(p).await)?
        .ok_or(StoreError::NotFound)
}

/// A published contest admitting the public (no login): its public page.
pub async fn get_public(db: &Db, id: QuizId) -> Result<Quiz> {
    let sql = format!("{COLUMNS} WHERE z.id = $1 AND z.kind = 'contest' AND z.public_entry AND z.state <> 'draft'");
    db_run!(db, p => sqlx::query_as::<_, Quiz>(&sql).bind(id.0).fetch_optional(p).await)?
        .ok_or(StoreError::NotFound)
}

/// A questionnaire without the caller's scope (the submission path, after the caller's right to
/// take it was checked on starting).
pub async fn get_unscoped(db: &Db, id: QuizId) -> Result<Quiz> {
    let sql = format!("{COLUMNS} WHERE z.id = $1");
    db_run!(db, p => sqlx::query_as::<_, Quiz>(&sql).bind(id.0).fetch_optional(p).await)?
        .ok_or(StoreError::NotFound)
}

/// May the caller run (publish, enter from paper, correct) this questionnaire?
pub async fn runs(db: &Db, scope: &Scope, z: &Quiz) -> Result<bool> {
    scope.covers(db, OrgId(z.org_id), runner(z.kind())).await
}

/// The questionnaires run in the caller's subtree, newest first, a page before `before`.
pub async fn list(db: &Db, scope: &Scope, before: Option<i64>) -> Result<(Vec<Quiz>, Option<i64>)> {
    let sql = format!(
        "{COLUMNS} WHERE z.id < $2 AND {} ORDER BY z.id DESC LIMIT $3",
        Scope::subtree_sql("z.org_id", 1, READ)
    );
    let rows = db_run!(db, p => sqlx::query_as::<_, Quiz>(&sql).bind(scope.account_id.0).bind(before.unwrap_or(i64::MAX))
        .bind(PAGE + 1).fetch_all(p).await)?;
    Ok(crate::plans::page_of(rows, PAGE, |z| z.id.0))
}

/// The published questionnaires the caller may take, open ones first (at most 100): their
/// classes', their cell's, and the contests of the organizations above them.
pub async fn for_me(db: &Db, scope: &Scope) -> Result<Vec<Quiz>> {
    let Some(p) = scope.person_id else {
        return Ok(vec![]);
    };
    let sql = format!(
        "{COLUMNS} WHERE z.state <> 'draft' AND z.closes_at > $2 AND ( \
           z.class_id IN (SELECT pt.class_id FROM participants pt WHERE pt.person_id = $1 AND pt.removed_at IS NULL) \
           OR (z.kind = 'cell_quiz' AND z.org_id = (SELECT org_id FROM people WHERE id = $1)) \
           OR (z.kind = 'contest' AND z.org_id IN (SELECT c.ancestor_id FROM org_closure c JOIN people pp ON pp.org_id = c.descendant_id WHERE pp.id = $1))) \
         ORDER BY z.closes_at, z.id LIMIT 100"
    );
    Ok(
        db_run!(db, q => sqlx::query_as::<_, Quiz>(&sql).bind(p.0).bind(now() - chrono::Duration::days(30)).fetch_all(q).await)?,
    )
}

/// The questionnaires of a class (its page shows them).
pub async fn of_class(db: &Db, class_id: i64) -> Result<Vec<Quiz>> {
    let sql = format!("{COLUMNS} WHERE z.class_id = $1 ORDER BY z.id LIMIT 100");
    Ok(db_run!(db, p => sqlx::query_as::<_, Quiz>(&sql).bind(class_id).fetch_all(p).await)?)
}

/// A question of a questionnaire, at the version it holds, with its kept counts.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct QuizQuestion {
    pub position: i64,
    pub version_id: i64,
    pub question_id: i64,
    pub kind: String,
    pub prompt: String,
    pub choices: String,
    pub answer: String,
    pub points: i64,
    pub answered: i64,
    pub correct: i64,
}

impl QuizQuestion {
    pub fn kind(&self) -> domain::assess::QuestionKind {
        domain::assess::QuestionKind::parse(&self.kind)
            .unwrap_or(domain::assess::QuestionKind::Open)
    }
    pub fn kind_label(&self) -> &'static str {
        self.kind().label()
    }
    pub fn choice_list(&self) -> Vec<&str> {
        questions::choice_list(&self.choices)
    }
    pub fn answer_label(&self) -> String {
        questions::answer_label(self.kind(), &self.answer)
    }
    /// Missed: answered wrong or not at all, in percent of those who had it.
    pub fn missed_percent(&self) -> Option<i64> {
        percent(self.answered - self.correct, self.answered)
    }
}

/// The questions of a questionnaire, in order; `missed_first` sorts the most missed first
/// (which questions most people miss).
pub async fn quiz_questions(db: &Db, z: &Quiz, missed_first: bool) -> Result<Vec<QuizQuestion>> {
    let order = if missed_first {
        "CASE WHEN qq.answered = 0 THEN 0 ELSE (qq.answered - qq.correct) * 1000 / qq.answered END DESC, qq.position"
    } else {
        "qq.position"
    };
    let sql = format!(
        "SELECT qq.position, qq.version_id, v.question_id, q.kind, v.prompt, v.choices, v.answer, v.points, qq.answered, qq.correct \
         FROM quiz_questions qq JOIN question_versions v ON v.id = qq.version_id JOIN questions q ON q.id = v.question_id \
         WHERE qq.quiz_id = $1 ORDER BY {order} LIMIT 500"
    );
    Ok(db_run!(db, p => sqlx::query_as::<_, QuizQuestion>(&sql).bind(z.id.0).fetch_all(p).await)?)
}

/// One row of a roll-up: an organization (a child of the one asked, or a bridge point of a
/// class), its members, and the kept submissions and points under it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RollupRow {
    pub org_id: i64,
    pub name: String,
    pub members: i64,
    pub submitted: i64,
    pub score_sum: i64,
    pub max_sum: i64,
}

impl RollupRow {
    pub fn participation_percent(&self) -> Option<i64> {
        percent(self.submitted, self.members)
    }
    pub fn average_percent(&self) -> Option<i64> {
        percent(self.score_sum, self.max_sum)
    }
}

/// Results of one questionnaire per child organization of `org` (its whole subtree summed into
/// each child, from the kept totals), and `org`'s own row first.
pub async fn by_org(db: &Db, scope: &Scope, z: &Quiz, org: OrgId) -> Result<Vec<RollupRow>> {
    scope.require(db, org, READ).await?;
    rollup_rows(db, org, "t.quiz_id = $2", z.id.0).await
}

/// Participation and average score per child organization of `org` for every questionnaire of
/// a resolution (R4.1, R4.2: the roll-up shown beside attendance).
pub async fn rollup(
    db: &Db,
    scope: &Scope,
    org: OrgId,
    resolution: ResolutionId,
) -> Result<Vec<RollupRow>> {
    scope.require(db, org, READ).await?;
    rollup_rows(
        db,
        org,
        "t.quiz_id IN (SELECT id FROM quizzes WHERE resolution_id = $2)",
        resolution.0,
    )
    .await
}

async fn rollup_rows(db: &Db, org: OrgId, filter: &str, key: i64) -> Result<Vec<RollupRow>> {
    let sql = format!(
        "SELECT o.id AS org_id, o.name, CAST(o.member_count AS BIGINT) AS members, \
           CAST(COALESCE((SELECT SUM(t.submitted) FROM quiz_org_totals t JOIN org_closure c ON c.descendant_id = t.org_id WHERE c.ancestor_id = o.id AND {filter}), 0) AS BIGINT) AS submitted, \
           CAST(COALESCE((SELECT SUM(t.score_sum) FROM quiz_org_totals t JOIN org_closure c ON c.descendant_id = t.org_id WHERE c.ancestor_id = o.id AND {filter}), 0) AS BIGINT) AS score_sum, \
           CAST(COALESCE((SELECT SUM(t.max_sum) FROM quiz_org_totals t JOIN org_closure c ON c.descendant_id = t.org_id WHERE c.ancestor_id = o.id AND {filter}), 0) AS BIGINT) AS max_sum \
         FROM orgs o WHERE o.id = $1 OR o.parent_id = $1 ORDER BY o.id <> $1, o.name, o.id LIMIT 1001"
    );
    Ok(
        db_run!(db, p => sqlx::query_as::<_, RollupRow>(&sql).bind(org.0).bind(key).fetch_all(p).await)?,
    )
}

/// Results of a class's questionnaire per bridge point (the main venue as bridge 0).
pub async fn by_bridge(db: &Db, z: &Quiz) -> Result<Vec<RollupRow>> {
    let sql = "SELECT COALESCE(a.bridge_point_id, 0) AS org_id, COALESCE(b.name, 'Điểm cầu chính') AS name, \
               CAST(0 AS BIGINT) AS members, CAST(COUNT(*) AS BIGINT) AS submitted, CAST(COALESCE(SUM(a.score), 0) AS BIGINT) AS score_sum, \
               CAST(COALESCE(SUM(a.max_score), 0) AS BIGINT) AS max_sum \
               FROM attempts a LEFT JOIN bridge_points b ON b.id = a.bridge_point_id \
               WHERE a.quiz_id = $1 AND a.submitted_at IS NOT NULL GROUP BY a.bridge_point_id, b.name ORDER BY name LIMIT 500";
    Ok(db_run!(db, p => sqlx::query_as::<_, RollupRow>(sql).bind(z.id.0).fetch_all(p).await)?)
}

/// Which resolutions have questionnaires under `org` (for the roll-up's choice).
pub async fn resolutions_with_quizzes(
    db: &Db,
    scope: &Scope,
    org: OrgId,
) -> Result<Vec<(i64, String)>> {
    let sql = format!(
        "SELECT r.id, r.number || ' — ' || r.title FROM resolutions r WHERE {} AND r.id IN \
         (SELECT z.resolution_id FROM quizzes z WHERE z.org_id IN (SELECT ancestor_id FROM org_closure WHERE descendant_id = $1) \
          OR z.org_id IN (SELECT descendant_id FROM org_closure WHERE ancestor_id = $1)) ORDER BY r.released_on DESC, r.id LIMIT 200",
        scope.classification_sql("r.classification")
    );
    Ok(db_run!(db, p => sqlx::query_as::<_, (i64, String)>(&sql).bind(org.0).fetch_all(p).await)?)
}
