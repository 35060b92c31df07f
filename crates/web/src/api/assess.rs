//! `/api/v1/…` of the assessment area (R3.4, R4.1, R4.2, R6.3): question banks, questionnaires,
//! attempts, anonymous surveys, contests, reflections and the roll-ups — the same store calls
//! and rules as the pages of `web/src/assess`.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post, put};
use axum::{Json, Router};
use chrono::{DateTime, NaiveDate, Utc};
use domain::assess::{
    GradeInput, QuestionInput, QuizInput, ReflectionAskInput, ReflectionInput, ReflectionState,
};
use domain::ids::{
    AttemptId, ClassId, OrgId, PersonId, QuestionId, QuizId, ReflectionId, ResolutionId,
};
use serde::{Deserialize, Serialize};
use store::assess::attempts::{self, Attempt, AttemptAnswer, Taker};
use store::assess::questions::{self, Question};
use store::assess::reflections::{self, Reflection};
use store::assess::{self as assess, surveys, Quiz, QuizQuestion, RollupRow};
use utoipa::{IntoParams, ToSchema};

use super::{views, ApiJson};
use crate::app::AppState;
use crate::auth::CurrentUser;
use crate::error::{AppError, AppResult, ErrorBody};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/resolutions/{id}/questions", get(bank).post(add_question))
        .route("/questions/{id}", get(question).put(edit_question))
        .route("/quizzes", get(list_quizzes).post(create_quiz))
        .route("/me/quizzes", get(my_quizzes))
        .route("/quizzes/{id}", get(quiz))
        .route("/quizzes/{id}/publish", post(publish))
        .route("/quizzes/{id}/results", post(publish_results))
        .route("/quizzes/{id}/ranking", get(ranking))
        .route("/quizzes/{id}/orgs", get(quiz_by_org))
        .route("/quizzes/{id}/attempt", post(start))
        .route("/quizzes/{id}/paper", post(paper))
        .route("/quizzes/{id}/oral", post(oral))
        .route("/quizzes/{id}/responses", post(respond))
        .route("/quizzes/{id}/survey-results", get(survey_results))
        .route("/attempts/{id}", get(attempt))
        .route("/attempts/{id}/answers", put(save))
        .route("/attempts/{id}/submit", post(submit))
        .route("/attempts/{id}/corrections", post(correct))
        .route("/people/{id}/attempts", get(person_attempts))
        .route("/people/{id}/reflections", get(person_reflections))
        .route("/orgs/{id}/assessment", get(rollup))
        .route("/classes/{id}/reflection-ask", put(ask))
        .route("/classes/{id}/reflections", get(class_reflections))
        .route("/classes/{id}/reflections/record", post(record_reflection))
        .route("/classes/{id}/reflections/remind", post(remind))
        .route("/classes/{id}/reflection", put(hand_in))
        .route("/reflections/{id}", get(reflection))
        .route("/reflections/{id}/grade", put(grade))
}

view! {
    /// A question of a resolution's bank at its current version (R4.1).
    QuestionView as Question from Question {
        id: QuestionId,
        resolution_id: i64,
        /// The organization that keeps it.
        org_id: i64,
        org_name: String,
        /// single, multiple, true_false, short_answer, essay, likert, open
        kind: String,
        /// key_cadres, grassroots, public; null for every tier
        tier: Option<String>,
        /// easy, medium, hard
        difficulty: String,
        /// Each edit writes a new version; published questionnaires keep theirs.
        version: i64,
        retired: bool,
        prompt: String,
        /// One choice per line (A, B, … in order).
        choices: String,
        /// The key: letters "A,C", "true"/"false", accepted short answers "a|b".
        answer: String,
        points: i64,
        created_at: DateTime<Utc>,
    }
}

view! {
    /// A questionnaire: a class's scored quiz or anonymous survey, a cell's quiz, a contest round.
    QuizView as Quiz from Quiz {
        id: QuizId,
        org_id: i64,
        org_name: String,
        resolution_id: i64,
        resolution_name: String,
        /// quiz, survey, cell_quiz, contest
        kind: String,
        class_id: Option<i64>,
        class_title: Option<String>,
        session_id: Option<i64>,
        title: String,
        contest_title: Option<String>,
        round: i64,
        opens_at: DateTime<Utc>,
        closes_at: DateTime<Utc>,
        /// Questions drawn at random for each person (0: all, in order).
        draw_count: i64,
        tier: Option<String>,
        public_entry: bool,
        /// draft, published, results
        state: String,
        question_count: i64,
        max_points: i64,
        started_count: i64,
        submitted_count: i64,
        score_sum: i64,
        /// A contest's number of entrants, fixed when its results are published.
        final_count: Option<i64>,
        created_at: DateTime<Utc>,
    }
}

view! {
    /// One person's (or public entrant's) attempt.
    AttemptView as Attempt from Attempt {
        id: AttemptId,
        quiz_id: i64,
        person_id: Option<i64>,
        entrant_id: Option<i64>,
        org_id: Option<i64>,
        name: String,
        org_name: Option<String>,
        bridge_point_id: Option<i64>,
        /// online, paper, oral
        source: String,
        started_at: DateTime<Utc>,
        submitted_at: Option<DateTime<Utc>>,
        score: Option<i64>,
        max_score: i64,
        /// Measured by the server, from starting to submitting.
        duration_ms: Option<i64>,
        guess: Option<i64>,
        guess_diff: Option<i64>,
        /// A score was changed after submission (audited).
        corrected: bool,
    }
}

view! {
    /// Participation and points under one organization (its whole subtree), or one bridge point.
    RollupView as AssessmentRollup from RollupRow {
        org_id: i64,
        name: String,
        members: i64,
        submitted: i64,
        score_sum: i64,
        max_sum: i64,
    }
}

view! {
    /// A written reflection (bài thu hoạch) and personal plan after a class.
    ReflectionView as Reflection from Reflection {
        id: ReflectionId,
        class_id: i64,
        class_title: String,
        person_id: i64,
        full_name: String,
        org_id: i64,
        /// submitted, paper, exempt
        state: String,
        body: Option<String>,
        plan: Option<String>,
        exempt_reason: Option<String>,
        /// good, fair, pass, fail
        grade: Option<String>,
        remark: Option<String>,
        handed_at: DateTime<Utc>,
        graded_at: Option<DateTime<Utc>>,
    }
}

view! {
    /// A participant of a class and where their reflection stands.
    ReflectionRowView as ReflectionRow from reflections::Row {
        person_id: i64,
        full_name: String,
        org_id: i64,
        org_name: String,
        participant_id: i64,
        reflection_id: Option<i64>,
        /// null: not handed in
        state: Option<String>,
        grade: Option<String>,
        handed_at: Option<DateTime<Utc>>,
    }
}

/// A question of a questionnaire at the version it holds; the key and counts only for those
/// who run it.
#[derive(Debug, Serialize, ToSchema)]
pub struct QuizQuestionView {
    pub position: i64,
    pub question_id: i64,
    pub kind: String,
    pub prompt: String,
    pub choices: Vec<String>,
    pub points: i64,
    pub answer: Option<String>,
    pub answered: Option<i64>,
    pub correct: Option<i64>,
}

fn quiz_question(q: QuizQuestion, runs: bool) -> QuizQuestionView {
    QuizQuestionView {
        choices: q.choice_list().into_iter().map(str::to_string).collect(),
        position: q.position,
        question_id: q.question_id,
        kind: q.kind,
        prompt: q.prompt,
        points: q.points,
        answer: runs.then_some(q.answer),
        answered: runs.then_some(q.answered),
        correct: runs.then_some(q.correct),
    }
}

/// A question of an attempt with the answer given; the key once the attempt is submitted and
/// the questionnaire closed (or for those who run it).
#[derive(Debug, Serialize, ToSchema)]
pub struct AttemptQuestionView {
    pub position: i64,
    pub kind: String,
    pub prompt: String,
    pub choices: Vec<String>,
    pub max_points: i64,
    pub answer: Option<String>,
    pub points: Option<i64>,
    pub key: Option<String>,
}

fn attempt_question(q: AttemptAnswer, show_key: bool) -> AttemptQuestionView {
    AttemptQuestionView {
        choices: q.choice_list().into_iter().map(str::to_string).collect(),
        position: q.position,
        kind: q.kind,
        prompt: q.prompt,
        max_points: q.max_points,
        answer: q.answer,
        points: q.points,
        key: show_key.then_some(q.key),
    }
}

/// An attempt with its questions.
#[derive(Debug, Serialize, ToSchema)]
pub struct AttemptDetail {
    pub attempt: AttemptView,
    pub questions: Vec<AttemptQuestionView>,
    /// Set by a submission that had been made before: nothing was stored again.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub already_submitted: bool,
    /// The place in the ranking, once a contest's results are published.
    pub rank: Option<i64>,
}

async fn attempt_detail(
    st: &AppState,
    user: &CurrentUser,
    a: Attempt,
    again: bool,
) -> AppResult<AttemptDetail> {
    let z = assess::get_unscoped(&st.db, QuizId(a.quiz_id)).await?;
    let runs = assess::runs(&st.db, user.scope(), &z).await?;
    let show_key = runs || (a.submitted() && z.window() == domain::assess::Window::Closed);
    let questions = attempts::answers(&st.db, &a).await?;
    let rank = if a.submitted() && z.state() == domain::assess::QuizState::ResultsPublished {
        Some(attempts::rank_of(&st.db, &a).await?)
    } else {
        None
    };
    Ok(AttemptDetail {
        questions: questions
            .into_iter()
            .map(|q| attempt_question(q, show_key))
            .collect(),
        attempt: a.into(),
        already_submitted: again,
        rank,
    })
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AfterQuery {
    /// `next_after` of the page before.
    after: Option<i64>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BeforeQuery {
    /// `next_before` of the page before.
    before: Option<i64>,
}

/// A page of a bank.
#[derive(Debug, Serialize, ToSchema)]
pub struct QuestionPage {
    pub items: Vec<QuestionView>,
    pub next_after: Option<i64>,
}

/// A resolution's question bank as the caller keeps it (organizers: the keys are in it).
#[utoipa::path(operation_id = "assess_bank", get, path = "/api/v1/resolutions/{id}/questions", tag = "assess", params(("id" = i64, Path, description = "resolution id"), AfterQuery),
    responses((status = 200, body = QuestionPage), (status = 404, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn bank(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Query(q): Query<AfterQuery>,
) -> AppResult<Json<QuestionPage>> {
    // The bank holds the keys: organizers only.
    if !user.scope().has_role(store::scope::WRITE) {
        return Err(AppError::NotFound);
    }
    let r = store::resolutions::get(&st.db, user.scope(), ResolutionId(id)).await?;
    let (rows, next) = questions::list(&st.db, user.scope(), ResolutionId(r.id), q.after).await?;
    Ok(Json(QuestionPage {
        items: views(rows),
        next_after: next,
    }))
}

/// A question as sent.
#[derive(Debug, Deserialize, ToSchema)]
pub struct QuestionBody {
    /// The organization that keeps it (the caller organizes it); ignored on an edit.
    #[serde(default)]
    pub org_id: i64,
    /// single, multiple, true_false, short_answer, essay, likert, open
    pub kind: String,
    #[serde(default)]
    pub tier: Option<String>,
    #[serde(default)]
    pub difficulty: Option<String>,
    pub prompt: String,
    /// The choices in order (A, B, …), for single and multiple choice.
    #[serde(default)]
    pub choices: Vec<String>,
    /// The key: letters ("A" or "A,C"), "true"/"false", accepted short answers ("a|b").
    #[serde(default)]
    pub answer: String,
    /// Points of an essay question (1–100).
    #[serde(default)]
    pub points: Option<i64>,
}

impl QuestionBody {
    fn input(&self) -> QuestionInput {
        QuestionInput {
            kind: self.kind.clone(),
            tier: self.tier.clone().unwrap_or_default(),
            difficulty: self.difficulty.clone().unwrap_or_default(),
            prompt: self.prompt.clone(),
            choices: self.choices.join("\n"),
            answer: self.answer.clone(),
            points: self.points.map(|p| p.to_string()).unwrap_or_default(),
        }
    }
}

/// Adds a question to a resolution's bank; refused for a classified resolution
/// (`classified_questions`). Audited.
#[utoipa::path(operation_id = "assess_add_question", post, path = "/api/v1/resolutions/{id}/questions", tag = "assess", params(("id" = i64, Path, description = "resolution id")), request_body = QuestionBody,
    responses((status = 201, body = QuestionView), (status = 422, body = ErrorBody), (status = 404, body = ErrorBody), (status = 403, body = ErrorBody), (status = 401, body = ErrorBody), (status = 400, body = ErrorBody)))]
pub async fn add_question(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<QuestionBody>,
) -> AppResult<(StatusCode, Json<QuestionView>)> {
    let scope = user.scope();
    let r = store::resolutions::get(&st.db, scope, ResolutionId(id)).await?;
    let q = b.input().validate()?;
    let qid = questions::create(&st.db, scope, &r, OrgId(b.org_id), &q).await?;
    Ok((
        StatusCode::CREATED,
        Json(questions::get(&st.db, scope, qid).await?.into()),
    ))
}

/// A question of a bank the caller keeps.
#[utoipa::path(operation_id = "assess_question", get, path = "/api/v1/questions/{id}", tag = "assess", params(("id" = i64, Path, description = "question id")),
    responses((status = 200, body = QuestionView), (status = 404, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn question(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> AppResult<Json<QuestionView>> {
    Ok(Json(
        questions::get(&st.db, user.scope(), QuestionId(id))
            .await?
            .into(),
    ))
}

/// Edits a question: a new version; questionnaires already made keep the version they hold.
#[utoipa::path(operation_id = "assess_edit_question", put, path = "/api/v1/questions/{id}", tag = "assess", params(("id" = i64, Path, description = "question id")), request_body = QuestionBody,
    responses((status = 200, body = QuestionView), (status = 422, body = ErrorBody), (status = 404, body = ErrorBody), (status = 403, body = ErrorBody), (status = 401, body = ErrorBody), (status = 400, body = ErrorBody)))]
pub async fn edit_question(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<QuestionBody>,
) -> AppResult<Json<QuestionView>> {
    let scope = user.scope();
    let old = questions::get(&st.db, scope, QuestionId(id)).await?;
    let q = b.input().validate()?;
    questions::edit(&st.db, scope, &old, &q).await?;
    Ok(Json(questions::get(&st.db, scope, old.id).await?.into()))
}

/// A page of questionnaires, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct QuizPage {
    pub items: Vec<QuizView>,
    pub next_before: Option<i64>,
}

/// The questionnaires run in the caller's subtree.
#[utoipa::path(operation_id = "assess_list_quizzes", get, path = "/api/v1/quizzes", tag = "assess", params(BeforeQuery),
    responses((status = 200, body = QuizPage), (status = 401, body = ErrorBody)))]
pub async fn list_quizzes(
    State(st): State<AppState>,
    user: CurrentUser,
    Query(q): Query<BeforeQuery>,
) -> AppResult<Json<QuizPage>> {
    let (rows, next) = assess::list(&st.db, user.scope(), q.before).await?;
    Ok(Json(QuizPage {
        items: views(rows),
        next_before: next,
    }))
}

/// The published questionnaires the caller may take: their classes', their cell's, and the
/// contests above them.
#[utoipa::path(operation_id = "assess_my_quizzes", get, path = "/api/v1/me/quizzes", tag = "assess",
    responses((status = 200, body = [QuizView]), (status = 401, body = ErrorBody)))]
pub async fn my_quizzes(
    State(st): State<AppState>,
    user: CurrentUser,
) -> AppResult<Json<Vec<QuizView>>> {
    Ok(Json(views(assess::for_me(&st.db, user.scope()).await?)))
}

/// A questionnaire to make.
#[derive(Debug, Deserialize, ToSchema)]
pub struct QuizBody {
    /// quiz, survey, cell_quiz, contest
    pub kind: String,
    pub title: String,
    pub resolution_id: i64,
    /// The organization that runs it (a cell for a cell quiz; the class's for a class).
    pub org_id: i64,
    #[serde(default)]
    pub class_id: Option<i64>,
    #[serde(default)]
    pub session_id: Option<i64>,
    pub opens_at: DateTime<Utc>,
    pub closes_at: DateTime<Utc>,
    #[serde(default)]
    pub draw_count: Option<i64>,
    #[serde(default)]
    pub tier: Option<String>,
    #[serde(default)]
    pub public_entry: bool,
    #[serde(default)]
    pub contest_title: Option<String>,
    #[serde(default)]
    pub round: Option<i64>,
    /// Questions of the bank; empty takes every current one (within the tier).
    #[serde(default)]
    pub question_ids: Vec<i64>,
}

fn opt(n: Option<i64>) -> String {
    n.map(|v| v.to_string()).unwrap_or_default()
}

/// Makes a questionnaire in draft from the bank of a resolution (not a classified one).
#[utoipa::path(operation_id = "assess_create_quiz", post, path = "/api/v1/quizzes", tag = "assess", request_body = QuizBody,
    responses((status = 201, body = QuizView), (status = 422, body = ErrorBody), (status = 404, body = ErrorBody), (status = 403, body = ErrorBody), (status = 401, body = ErrorBody), (status = 400, body = ErrorBody)))]
pub async fn create_quiz(
    State(st): State<AppState>,
    user: CurrentUser,
    ApiJson(b): ApiJson<QuizBody>,
) -> AppResult<(StatusCode, Json<QuizView>)> {
    let local = |t: DateTime<Utc>| {
        let l = domain::study::utc_to_local(t);
        (
            l.format("%d/%m/%Y").to_string(),
            l.format("%H:%M").to_string(),
        )
    };
    let (opens_on, opens_time) = local(b.opens_at);
    let (closes_on, closes_time) = local(b.closes_at);
    let z = QuizInput {
        kind: b.kind,
        title: b.title,
        resolution_id: b.resolution_id.to_string(),
        org_id: b.org_id.to_string(),
        class_id: opt(b.class_id),
        session_id: opt(b.session_id),
        opens_on,
        opens_time,
        closes_on,
        closes_time,
        draw_count: opt(b.draw_count),
        tier: b.tier.unwrap_or_default(),
        public_entry: b.public_entry,
        contest_title: b.contest_title.unwrap_or_default(),
        round: opt(b.round),
        question_ids: b.question_ids.iter().map(i64::to_string).collect(),
    }
    .validate()?;
    let id = assess::create(&st.db, user.scope(), &z).await?;
    Ok((
        StatusCode::CREATED,
        Json(assess::get(&st.db, user.scope(), id).await?.into()),
    ))
}

/// A questionnaire with its questions.
#[derive(Debug, Serialize, ToSchema)]
pub struct QuizDetail {
    pub quiz: QuizView,
    /// Whether the caller runs it (publishes, enters from paper, corrects).
    pub runs: bool,
    pub questions: Vec<QuizQuestionView>,
}

/// A questionnaire the caller may read or take; its questions with keys and counts (which
/// questions most people miss) for those who run it.
#[utoipa::path(operation_id = "assess_quiz", get, path = "/api/v1/quizzes/{id}", tag = "assess", params(("id" = i64, Path, description = "questionnaire id")),
    responses((status = 200, body = QuizDetail), (status = 404, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn quiz(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> AppResult<Json<QuizDetail>> {
    let z = assess::get(&st.db, user.scope(), QuizId(id)).await?;
    let runs = assess::runs(&st.db, user.scope(), &z).await?;
    // A taker reads the questions on their attempt, drawn for them; the pool is for runners.
    let questions = if runs {
        assess::quiz_questions(&st.db, &z, true).await?
    } else {
        vec![]
    };
    Ok(Json(QuizDetail {
        quiz: z.into(),
        runs,
        questions: questions
            .into_iter()
            .map(|q| quiz_question(q, runs))
            .collect(),
    }))
}

/// Publishes a draft: it takes answers in its window, holding the question versions it has.
#[utoipa::path(operation_id = "assess_publish", post, path = "/api/v1/quizzes/{id}/publish", tag = "assess", params(("id" = i64, Path, description = "questionnaire id")),
    responses((status = 200, body = QuizView), (status = 404, body = ErrorBody), (status = 403, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn publish(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> AppResult<Json<QuizView>> {
    let z = assess::get(&st.db, user.scope(), QuizId(id)).await?;
    assess::publish(&st.db, user.scope(), &z).await?;
    Ok(Json(assess::get(&st.db, user.scope(), z.id).await?.into()))
}

/// Publishes a closed contest round's results: the number who took part is fixed and the
/// tie-break computed (`quiz_still_open` before the window closes).
#[utoipa::path(operation_id = "assess_publish_results", post, path = "/api/v1/quizzes/{id}/results", tag = "assess", params(("id" = i64, Path, description = "questionnaire id")),
    responses((status = 200, body = QuizView), (status = 422, body = ErrorBody), (status = 404, body = ErrorBody), (status = 403, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn publish_results(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> AppResult<Json<QuizView>> {
    let z = assess::get(&st.db, user.scope(), QuizId(id)).await?;
    assess::publish_results(&st.db, user.scope(), &z).await?;
    Ok(Json(assess::get(&st.db, user.scope(), z.id).await?.into()))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RankingQuery {
    /// `next_after` of the page before.
    after: Option<i64>,
    /// Rows per page (1–500, 50 by default).
    per_page: Option<i64>,
}

/// A page of attempts in ranking order.
#[derive(Debug, Serialize, ToSchema)]
pub struct AttemptPage {
    pub items: Vec<AttemptView>,
    pub next_after: Option<i64>,
}

/// Submitted attempts ranked by score, then time taken, then the tie-break guess — only those
/// the caller may read (results are personal: the secretaries and organizers above the person).
#[utoipa::path(operation_id = "assess_ranking", get, path = "/api/v1/quizzes/{id}/ranking", tag = "assess", params(("id" = i64, Path, description = "questionnaire id"), RankingQuery),
    responses((status = 200, body = AttemptPage), (status = 404, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn ranking(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Query(q): Query<RankingQuery>,
) -> AppResult<Json<AttemptPage>> {
    let z = assess::get(&st.db, user.scope(), QuizId(id)).await?;
    let per = q.per_page.unwrap_or(50).clamp(1, 500);
    let (rows, next) = attempts::ranking(&st.db, user.scope(), &z, q.after, per).await?;
    Ok(Json(AttemptPage {
        items: views(rows),
        next_after: next,
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OrgQuery {
    /// The organization whose children are rolled up (the questionnaire's own by default).
    org: Option<i64>,
}

/// A questionnaire's results per child organization (from the totals kept on submission).
#[utoipa::path(operation_id = "assess_quiz_by_org", get, path = "/api/v1/quizzes/{id}/orgs", tag = "assess", params(("id" = i64, Path, description = "questionnaire id"), OrgQuery),
    responses((status = 200, body = [RollupView]), (status = 404, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn quiz_by_org(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Query(q): Query<OrgQuery>,
) -> AppResult<Json<Vec<RollupView>>> {
    let z = assess::get(&st.db, user.scope(), QuizId(id)).await?;
    let org = OrgId(q.org.unwrap_or(z.org_id));
    Ok(Json(views(
        assess::by_org(&st.db, user.scope(), &z, org).await?,
    )))
}

/// Starts (or returns) the caller's attempt: one per person, on the server's clock, with the
/// questions drawn for it. Refused outside the window (`quiz_not_open`, `quiz_closed`).
#[utoipa::path(operation_id = "assess_start", post, path = "/api/v1/quizzes/{id}/attempt", tag = "assess", params(("id" = i64, Path, description = "questionnaire id")),
    responses((status = 200, body = AttemptDetail), (status = 422, body = ErrorBody), (status = 404, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn start(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> AppResult<Json<AttemptDetail>> {
    let person = user.scope().person_id.ok_or(AppError::Forbidden)?;
    let z = assess::get(&st.db, user.scope(), QuizId(id)).await?;
    let a = attempts::start(&st.db, &z, Taker::Person(person)).await?;
    Ok(Json(attempt_detail(&st, &user, a, false).await?))
}

/// One answer: the question's position on the attempt and the answer (letters "A" or "A,C",
/// "true"/"false", a level 1–5, or text).
#[derive(Debug, Deserialize, ToSchema)]
pub struct AnswerBody {
    pub position: i64,
    pub answer: String,
}

fn pairs(list: Vec<AnswerBody>) -> AppResult<Vec<(i64, String)>> {
    if list.len() > domain::assess::QUIZ_QUESTIONS_MAX {
        return Err(AppError::BadRequest(format!(
            "Tối đa {} câu trả lời.",
            domain::assess::QUIZ_QUESTIONS_MAX
        )));
    }
    Ok(list.into_iter().map(|a| (a.position, a.answer)).collect())
}

/// Answers to save.
#[derive(Debug, Deserialize, ToSchema)]
pub struct AnswersBody {
    pub answers: Vec<AnswerBody>,
}

/// How many answers were saved.
#[derive(Debug, Serialize, ToSchema)]
pub struct Saved {
    pub saved: usize,
}

/// The caller's own attempt, not yet submitted.
async fn own_attempt(st: &AppState, user: &CurrentUser, id: i64) -> AppResult<(Quiz, Attempt)> {
    let a = attempts::get(&st.db, user.scope(), AttemptId(id)).await?;
    if a.person_id.is_none() || a.person_id != user.scope().person_id.map(|p| p.0) {
        return Err(AppError::NotFound);
    }
    let z = assess::get_unscoped(&st.db, QuizId(a.quiz_id)).await?;
    Ok((z, a))
}

/// Saves answers of the caller's attempt as they come (a dropped connection loses nothing
/// saved); refused after submission or outside the window.
#[utoipa::path(operation_id = "assess_save", put, path = "/api/v1/attempts/{id}/answers", tag = "assess", params(("id" = i64, Path, description = "attempt id")), request_body = AnswersBody,
    responses((status = 200, body = Saved), (status = 422, body = ErrorBody), (status = 404, body = ErrorBody), (status = 401, body = ErrorBody), (status = 400, body = ErrorBody)))]
pub async fn save(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<AnswersBody>,
) -> AppResult<Json<Saved>> {
    let (z, a) = own_attempt(&st, &user, id).await?;
    let saved = attempts::save(&st.db, &z, &a, &pairs(b.answers)?).await?;
    Ok(Json(Saved { saved }))
}

/// The last answers, and a contest's guess of how many will take part.
#[derive(Debug, Deserialize, ToSchema)]
pub struct SubmitBody {
    #[serde(default)]
    pub answers: Vec<AnswerBody>,
    #[serde(default)]
    pub guess: Option<i64>,
}

/// Submits the caller's attempt: scored from the keys, time measured by the server. A second
/// submission stores nothing and answers the first result (`already_submitted`); after the
/// window closes it is refused (`quiz_closed`).
#[utoipa::path(operation_id = "assess_submit", post, path = "/api/v1/attempts/{id}/submit", tag = "assess", params(("id" = i64, Path, description = "attempt id")), request_body = SubmitBody,
    responses((status = 200, body = AttemptDetail), (status = 422, body = ErrorBody), (status = 404, body = ErrorBody), (status = 401, body = ErrorBody), (status = 400, body = ErrorBody)))]
pub async fn submit(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<SubmitBody>,
) -> AppResult<Json<AttemptDetail>> {
    let (z, a) = own_attempt(&st, &user, id).await?;
    if let Some(g) = b.guess {
        domain::assess::parse_guess(&g.to_string()).map_err(|e| {
            let mut f = domain::FieldErrors::new();
            f.add("guess", e);
            AppError::Validation(f)
        })?;
    }
    let done = attempts::submit(&st.db, &z, &a, &pairs(b.answers)?, b.guess).await?;
    Ok(Json(
        attempt_detail(&st, &user, done.attempt, done.again).await?,
    ))
}

/// An attempt: the person's own, or as their cell's secretary or an organizer above them.
#[utoipa::path(operation_id = "assess_attempt", get, path = "/api/v1/attempts/{id}", tag = "assess", params(("id" = i64, Path, description = "attempt id")),
    responses((status = 200, body = AttemptDetail), (status = 404, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn attempt(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> AppResult<Json<AttemptDetail>> {
    let a = attempts::get(&st.db, user.scope(), AttemptId(id)).await?;
    Ok(Json(attempt_detail(&st, &user, a, false).await?))
}

/// A change of one answer's points after submission: a judge's score of an essay, or a
/// correction (a reason is required; audited).
#[derive(Debug, Deserialize, ToSchema)]
pub struct CorrectionBody {
    pub position: i64,
    pub points: i64,
    pub reason: String,
}

/// Scores or corrects one answer (whoever runs the questionnaire); audited with the old and
/// new points; the kept sums follow.
#[utoipa::path(operation_id = "assess_correct", post, path = "/api/v1/attempts/{id}/corrections", tag = "assess", params(("id" = i64, Path, description = "attempt id")), request_body = CorrectionBody,
    responses((status = 200, body = AttemptDetail), (status = 422, body = ErrorBody), (status = 404, body = ErrorBody), (status = 403, body = ErrorBody), (status = 401, body = ErrorBody), (status = 400, body = ErrorBody)))]
pub async fn correct(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<CorrectionBody>,
) -> AppResult<Json<AttemptDetail>> {
    let scope = user.scope();
    let a = attempts::get(&st.db, scope, AttemptId(id)).await?;
    let z = assess::get_unscoped(&st.db, QuizId(a.quiz_id)).await?;
    let reason = domain::assess::reason(&b.reason).map_err(|e| {
        let mut f = domain::FieldErrors::new();
        f.add("reason", e);
        AppError::Validation(f)
    })?;
    attempts::correct(&st.db, scope, &z, &a, b.position, b.points, &reason).await?;
    let a = attempts::get(&st.db, scope, AttemptId(id)).await?;
    Ok(Json(attempt_detail(&st, &user, a, false).await?))
}

/// A paper form typed in: whose it is (not for a survey: those stay anonymous) and the answers
/// in the questionnaire's order.
#[derive(Debug, Deserialize, ToSchema)]
pub struct PaperBody {
    #[serde(default)]
    pub person_id: Option<i64>,
    pub answers: Vec<AnswerBody>,
}

/// What a paper entry stored: the scored attempt, or nothing to show for an anonymous survey.
#[derive(Debug, Serialize, ToSchema)]
pub struct PaperResult {
    pub attempt: Option<AttemptView>,
}

/// Enters a paper form afterwards (whoever runs it): a scored quiz for one person (one attempt
/// each), or an anonymous survey response (no person stored).
#[utoipa::path(operation_id = "assess_paper", post, path = "/api/v1/quizzes/{id}/paper", tag = "assess", params(("id" = i64, Path, description = "questionnaire id")), request_body = PaperBody,
    responses((status = 201, body = PaperResult), (status = 422, body = ErrorBody), (status = 409, body = ErrorBody), (status = 404, body = ErrorBody), (status = 403, body = ErrorBody), (status = 401, body = ErrorBody), (status = 400, body = ErrorBody)))]
pub async fn paper(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<PaperBody>,
) -> AppResult<(StatusCode, Json<PaperResult>)> {
    let scope = user.scope();
    let z = assess::get(&st.db, scope, QuizId(id)).await?;
    let answers = pairs(b.answers)?;
    if !z.scored() {
        surveys::respond(&st.db, scope, &z, None, &answers).await?;
        return Ok((StatusCode::CREATED, Json(PaperResult { attempt: None })));
    }
    let person = b.person_id.ok_or_else(|| {
        let mut f = domain::FieldErrors::new();
        f.add("person_id", domain::RuleError::Required);
        AppError::Validation(f)
    })?;
    let a = attempts::record_paper(&st.db, scope, &z, PersonId(person), &answers).await?;
    Ok((
        StatusCode::CREATED,
        Json(PaperResult {
            attempt: Some(a.into()),
        }),
    ))
}

/// A result of direct questions and answers at a meeting, entered by hand.
#[derive(Debug, Deserialize, ToSchema)]
pub struct OralBody {
    pub person_id: i64,
    pub points: i64,
    pub out_of: i64,
}

/// Enters a direct Q&A result (R4.2): points out of a total, one per person; audited.
#[utoipa::path(operation_id = "assess_oral", post, path = "/api/v1/quizzes/{id}/oral", tag = "assess", params(("id" = i64, Path, description = "questionnaire id")), request_body = OralBody,
    responses((status = 201, body = AttemptView), (status = 422, body = ErrorBody), (status = 409, body = ErrorBody), (status = 404, body = ErrorBody), (status = 403, body = ErrorBody), (status = 401, body = ErrorBody), (status = 400, body = ErrorBody)))]
pub async fn oral(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<OralBody>,
) -> AppResult<(StatusCode, Json<AttemptView>)> {
    let z = assess::get(&st.db, user.scope(), QuizId(id)).await?;
    let a = attempts::record_oral(
        &st.db,
        user.scope(),
        &z,
        PersonId(b.person_id),
        b.points,
        b.out_of,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(a.into())))
}

/// Answers an anonymous survey (a participant, once; `already_submitted` the second time). No
/// person is stored with the answers.
#[utoipa::path(operation_id = "assess_respond", post, path = "/api/v1/quizzes/{id}/responses", tag = "assess", params(("id" = i64, Path, description = "survey id")), request_body = AnswersBody,
    responses((status = 204), (status = 422, body = ErrorBody), (status = 404, body = ErrorBody), (status = 401, body = ErrorBody), (status = 400, body = ErrorBody)))]
pub async fn respond(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<AnswersBody>,
) -> AppResult<StatusCode> {
    let person = user.scope().person_id.ok_or(AppError::Forbidden)?;
    let z = assess::get(&st.db, user.scope(), QuizId(id)).await?;
    surveys::respond(&st.db, user.scope(), &z, Some(person), &pairs(b.answers)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// How many gave one value.
#[derive(Debug, Serialize, ToSchema)]
pub struct ValueCount {
    pub value: String,
    pub label: String,
    pub count: i64,
}

/// One survey question's results.
#[derive(Debug, Serialize, ToSchema)]
pub struct SurveyQuestionResult {
    pub position: i64,
    pub kind: String,
    pub prompt: String,
    pub counts: Vec<ValueCount>,
    /// The mean level of a 1–5 question ("3,8").
    pub mean: Option<String>,
    /// Open answers (at most 200).
    pub texts: Vec<String>,
}

/// A survey's results, question by question (those who run it and read its organization).
#[utoipa::path(operation_id = "assess_survey_results", get, path = "/api/v1/quizzes/{id}/survey-results", tag = "assess", params(("id" = i64, Path, description = "survey id")),
    responses((status = 200, body = [SurveyQuestionResult]), (status = 404, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn survey_results(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> AppResult<Json<Vec<SurveyQuestionResult>>> {
    let z = assess::get(&st.db, user.scope(), QuizId(id)).await?;
    user.scope()
        .require(&st.db, OrgId(z.org_id), store::scope::READ)
        .await?;
    let rows = surveys::results(&st.db, &z).await?;
    Ok(Json(
        rows.into_iter()
            .map(|r| SurveyQuestionResult {
                counts: r
                    .counts
                    .iter()
                    .map(|(v, n)| ValueCount {
                        label: r.value_label(v),
                        value: v.clone(),
                        count: *n,
                    })
                    .collect(),
                mean: r.mean(),
                position: r.question.position,
                kind: r.question.kind.clone(),
                prompt: r.question.prompt.clone(),
                texts: r.texts,
            })
            .collect(),
    ))
}

/// An attempt with its questionnaire's title.
#[derive(Debug, Serialize, ToSchema)]
pub struct PersonAttempt {
    pub quiz_title: String,
    pub attempt: AttemptView,
}

/// A person's attempts, newest first (the person; secretary and up over them).
#[utoipa::path(operation_id = "assess_person_attempts", get, path = "/api/v1/people/{id}/attempts", tag = "assess", params(("id" = i64, Path, description = "person id")),
    responses((status = 200, body = [PersonAttempt]), (status = 404, body = ErrorBody), (status = 403, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn person_attempts(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> AppResult<Json<Vec<PersonAttempt>>> {
    let rows = attempts::of_person(&st.db, user.scope(), PersonId(id)).await?;
    Ok(Json(
        rows.into_iter()
            .map(|(a, t)| PersonAttempt {
                quiz_title: t,
                attempt: a.into(),
            })
            .collect(),
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RollupQuery {
    /// The resolution whose questionnaires are summed.
    resolution_id: i64,
}

/// Participation and average score per child organization, down the tree, for every
/// questionnaire of a resolution (from the totals kept on submission).
#[utoipa::path(operation_id = "assess_rollup", get, path = "/api/v1/orgs/{id}/assessment", tag = "assess", params(("id" = i64, Path, description = "organization id"), RollupQuery),
    responses((status = 200, body = [RollupView]), (status = 404, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn rollup(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Query(q): Query<RollupQuery>,
) -> AppResult<Json<Vec<RollupView>>> {
    let r = store::resolutions::get(&st.db, user.scope(), ResolutionId(q.resolution_id)).await?;
    Ok(Json(views(
        assess::rollup(&st.db, user.scope(), OrgId(id), ResolutionId(r.id)).await?,
    )))
}

/// What a class asks after study.
#[derive(Debug, Deserialize, ToSchema)]
pub struct AskBody {
    pub prompt: String,
    /// yyyy-mm-dd or dd/mm/yyyy
    pub due_on: String,
    #[serde(default)]
    pub asks_plan: bool,
}

/// What the class asks after study.
#[derive(Debug, Serialize, ToSchema)]
pub struct AskView {
    pub prompt: Option<String>,
    pub due_on: Option<NaiveDate>,
    pub asks_plan: bool,
    pub handed_in: i64,
}

impl From<reflections::Ask> for AskView {
    fn from(a: reflections::Ask) -> Self {
        Self {
            prompt: a.reflection_prompt,
            due_on: a.reflection_due,
            asks_plan: a.reflection_plan,
            handed_in: a.reflection_count,
        }
    }
}

/// Sets the reflection a class asks for: its questions, deadline, and whether a personal plan
/// is asked too (organizer of the class's organization); audited.
#[utoipa::path(operation_id = "assess_ask", put, path = "/api/v1/classes/{id}/reflection-ask", tag = "assess", params(("id" = i64, Path, description = "class id")), request_body = AskBody,
    responses((status = 200, body = AskView), (status = 422, body = ErrorBody), (status = 404, body = ErrorBody), (status = 403, body = ErrorBody), (status = 401, body = ErrorBody), (status = 400, body = ErrorBody)))]
pub async fn ask(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<AskBody>,
) -> AppResult<Json<AskView>> {
    let class = store::study::classes::get(&st.db, user.scope(), ClassId(id)).await?;
    let a = ReflectionAskInput {
        prompt: b.prompt,
        due_on: b.due_on,
        asks_plan: b.asks_plan,
    }
    .validate()?;
    reflections::set_ask(&st.db, user.scope(), &class, &a).await?;
    Ok(Json(reflections::ask_of(&st.db, class.id).await?.into()))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReflectionsQuery {
    /// Only those who have not handed in (nor been exempted).
    #[serde(default)]
    missing: bool,
    /// `next_after` of the page before.
    after: Option<i64>,
}

/// A page of a class's participants and their reflections.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReflectionPage {
    pub ask: AskView,
    pub items: Vec<ReflectionRowView>,
    pub next_after: Option<i64>,
}

/// The participants the caller answers for (secretary and up over them) and where their
/// reflections stand; `missing=true` lists who has not handed in.
#[utoipa::path(operation_id = "assess_class_reflections", get, path = "/api/v1/classes/{id}/reflections", tag = "assess", params(("id" = i64, Path, description = "class id"), ReflectionsQuery),
    responses((status = 200, body = ReflectionPage), (status = 404, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn class_reflections(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Query(q): Query<ReflectionsQuery>,
) -> AppResult<Json<ReflectionPage>> {
    let (class, _) = reflections::class_for(&st.db, user.scope(), ClassId(id)).await?;
    let (rows, next) =
        reflections::of_class(&st.db, user.scope(), &class, q.missing, q.after).await?;
    Ok(Json(ReflectionPage {
        ask: reflections::ask_of(&st.db, class.id).await?.into(),
        items: views(rows),
        next_after: next,
    }))
}

/// A reflection received on paper, or an exemption with its reason.
#[derive(Debug, Deserialize, ToSchema)]
pub struct RecordBody {
    pub person_id: i64,
    /// paper or exempt
    pub state: String,
    /// Required for an exemption (the committee's decision).
    #[serde(default)]
    pub reason: Option<String>,
}

/// Records a paper reflection or an exemption (secretary and up over the person); audited.
#[utoipa::path(operation_id = "assess_record_reflection", post, path = "/api/v1/classes/{id}/reflections/record", tag = "assess", params(("id" = i64, Path, description = "class id")), request_body = RecordBody,
    responses((status = 204), (status = 422, body = ErrorBody), (status = 404, body = ErrorBody), (status = 403, body = ErrorBody), (status = 401, body = ErrorBody), (status = 400, body = ErrorBody)))]
pub async fn record_reflection(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<RecordBody>,
) -> AppResult<StatusCode> {
    let (class, _) = reflections::class_for(&st.db, user.scope(), ClassId(id)).await?;
    let mut f = domain::FieldErrors::new();
    let state = f.take(
        "state",
        ReflectionState::parse(&b.state).and_then(|s| {
            if s == ReflectionState::Submitted {
                Err(domain::RuleError::InvalidChoice)
            } else {
                Ok(s)
            }
        }),
    );
    let reason = match state {
        Some(ReflectionState::Exempt) => f.take(
            "reason",
            domain::assess::reason(b.reason.as_deref().unwrap_or("")),
        ),
        _ => None,
    };
    let Some(state) = state.filter(|_| f.is_empty()) else {
        return Err(AppError::Validation(f));
    };
    reflections::record(
        &st.db,
        user.scope(),
        &class,
        PersonId(b.person_id),
        state,
        reason.as_deref(),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// How many were reminded.
#[derive(Debug, Serialize, ToSchema)]
pub struct Reminded {
    pub reminded: usize,
}

/// Reminds the participants the caller answers for who have not handed in (a notification
/// each).
#[utoipa::path(operation_id = "assess_remind", post, path = "/api/v1/classes/{id}/reflections/remind", tag = "assess", params(("id" = i64, Path, description = "class id")),
    responses((status = 200, body = Reminded), (status = 422, body = ErrorBody), (status = 404, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn remind(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> AppResult<Json<Reminded>> {
    let (class, _) = reflections::class_for(&st.db, user.scope(), ClassId(id)).await?;
    let reminded = reflections::remind(&st.db, user.scope(), &class).await?;
    Ok(Json(Reminded { reminded }))
}

/// The participant's reflection.
#[derive(Debug, Deserialize, ToSchema)]
pub struct HandInBody {
    pub body: String,
    /// Required when the class asks for a personal plan.
    #[serde(default)]
    pub plan: Option<String>,
}

/// Hands in (or rewrites, until graded) the caller's reflection on a class they took part in.
#[utoipa::path(operation_id = "assess_hand_in", put, path = "/api/v1/classes/{id}/reflection", tag = "assess", params(("id" = i64, Path, description = "class id")), request_body = HandInBody,
    responses((status = 200, body = ReflectionView), (status = 422, body = ErrorBody), (status = 404, body = ErrorBody), (status = 403, body = ErrorBody), (status = 401, body = ErrorBody), (status = 400, body = ErrorBody)))]
pub async fn hand_in(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<HandInBody>,
) -> AppResult<Json<ReflectionView>> {
    let scope = user.scope();
    let person = scope.person_id.ok_or(AppError::Forbidden)?;
    let class = store::study::classes::get_unscoped(&st.db, ClassId(id)).await?;
    let ask = reflections::ask_of(&st.db, class.id).await?;
    let r = ReflectionInput {
        body: b.body,
        plan: b.plan.unwrap_or_default(),
    }
    .validate(ask.reflection_plan)?;
    reflections::hand_in(&st.db, scope, &class, &r).await?;
    let mine = reflections::find(&st.db, class.id, person)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(Json(mine.into()))
}

/// A reflection: the person's own, or secretary and up over them.
#[utoipa::path(operation_id = "assess_reflection", get, path = "/api/v1/reflections/{id}", tag = "assess", params(("id" = i64, Path, description = "reflection id")),
    responses((status = 200, body = ReflectionView), (status = 404, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn reflection(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> AppResult<Json<ReflectionView>> {
    Ok(Json(
        reflections::get(&st.db, user.scope(), ReflectionId(id))
            .await?
            .into(),
    ))
}

/// A grade for a reflection.
#[derive(Debug, Deserialize, ToSchema)]
pub struct GradeBody {
    /// good, fair, pass, fail
    pub grade: String,
    #[serde(default)]
    pub remark: Option<String>,
}

/// Grades a reflection (the cell committee: secretary and up over the person); a regrade is
/// audited with the old grade.
#[utoipa::path(operation_id = "assess_grade", put, path = "/api/v1/reflections/{id}/grade", tag = "assess", params(("id" = i64, Path, description = "reflection id")), request_body = GradeBody,
    responses((status = 200, body = ReflectionView), (status = 422, body = ErrorBody), (status = 404, body = ErrorBody), (status = 403, body = ErrorBody), (status = 401, body = ErrorBody), (status = 400, body = ErrorBody)))]
pub async fn grade(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<GradeBody>,
) -> AppResult<Json<ReflectionView>> {
    let scope = user.scope();
    let r = reflections::get(&st.db, scope, ReflectionId(id)).await?;
    let (g, remark) = GradeInput {
        grade: b.grade,
        remark: b.remark.unwrap_or_default(),
    }
    .validate()?;
    reflections::grade(&st.db, scope, &r, g, remark.as_deref()).await?;
    Ok(Json(reflections::get(&st.db, scope, r.id).await?.into()))
}

/// A person's reflections, newest first (the person; secretary and up over them).
#[utoipa::path(operation_id = "assess_person_reflections", get, path = "/api/v1/people/{id}/reflections", tag = "assess", params(("id" = i64, Path, description = "person id")),
    responses((status = 200, body = [ReflectionView]), (status = 404, body = ErrorBody), (status = 403, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn person_reflections(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> AppResult<Json<Vec<ReflectionView>>> {
    Ok(Json(views(
        reflections::of_person(&st.db, user.scope(), PersonId(id)).await?,
    )))
}
