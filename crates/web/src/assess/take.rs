//! Taking a questionnaire: a member's scored quiz (of a class, of their cell, a contest) or
//! anonymous survey, and a knowledge contest taken by a member of the public who registered
//! (no login: a secret kept in a cookie). One question form, one parser and one page body serve
//! every taker; the pages work without script on a phone.

use std::collections::BTreeMap;

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use domain::assess::{
    letter, parse_guess, parse_truth, EntrantInput, QuestionKind, QuizKind, QuizState,
};
use domain::ids::{PersonId, QuizId};
use domain::{FieldErrors, Violation};
use serde::Deserialize;
use store::assess::attempts::{self, Attempt, AttemptAnswer, Taker};
use store::assess::{self, surveys, Quiz, QuizQuestion};
use store::{Db, Scope, StoreError};

use crate::app::AppState;
use crate::auth::{self, CsrfForm};
use crate::error::{AppError, AppResult};
use crate::pages::{Ctx, PageCtx};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/assess/quizzes/{id}/take", get(take_page).post(take_post))
        .route("/contests/{id}", get(contest_page))
        .route("/contests/{id}/register", post(register))
        .route(
            "/contests/{id}/take",
            get(contest_take_page).post(contest_take_post),
        )
}

const NOT_TAKER: &str = "Đồng chí không thuộc đối tượng làm phiếu này (không có tên trong danh sách lớp học, chi bộ hoặc đơn vị tổ chức).";

/// The levels of a Likert question, 1 to 5 (the results say "Mức N" too).
const LIKERT: [&str; 5] = [
    "Mức 1 – thấp nhất",
    "Mức 2",
    "Mức 3 – trung bình",
    "Mức 4",
    "Mức 5 – cao nhất",
];

// ----- the question form as sent -----

/// The question form as sent: the answers `a{position}` (the values of repeated checkboxes
/// joined by ","), the contest's guess, which button was pressed, and the CSRF token.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
struct Sent {
    answers: Vec<(i64, String)>,
    guess: String,
    submit: bool,
    csrf: String,
}

impl Sent {
    fn parse(pairs: Vec<(String, String)>) -> Self {
        let mut s = Self::default();
        let mut by_position: BTreeMap<i64, Vec<String>> = BTreeMap::new();
        for (k, v) in pairs {
            match k.as_str() {
                "csrf" => s.csrf = v,
                "guess" => s.guess = v,
                "action" => s.submit = v == "submit",
                _ => {
                    if let Some(p) = position_of(&k) {
                        let values = by_position.entry(p).or_default();
                        if !v.trim().is_empty() {
                            values.push(v);
                        }
                    }
                }
            }
        }
        s.answers = by_position
            .into_iter()
            .map(|(p, v)| (p, v.join(",")))
            .collect();
        s
    }

    /// What was typed for the question at `position`, if it was sent.
    fn typed(&self, position: i64) -> Option<&str> {
        self.answers
            .iter()
            .find(|(p, _)| *p == position)
            .map(|(_, v)| v.as_str())
    }

    /// How many questions were answered (not left empty).
    fn answered(&self) -> usize {
        self.answers
            .iter()
            .filter(|(_, v)| !v.trim().is_empty())
            .count()
    }

    /// Only the guess (to fill the field again after saving).
    fn guess_only(guess: String) -> Self {
        Self {
            guess,
            ..Self::default()
        }
    }
}

/// The position named by a field `a{N}`.
fn position_of(name: &str) -> Option<i64> {
    let n = name.strip_prefix('a')?;
    if n.is_empty() || n.len() > 4 || !n.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    n.parse().ok().filter(|p| *p > 0)
}

// ----- what the page shows -----

/// One choice of a question (a lettered choice, Đúng/Sai, a Likert level).
#[derive(Debug, Clone)]
struct Choice {
    value: String,
    label: String,
    picked: bool,
}

/// A question as the form shows it, with its current answer (saved, or as typed).
#[derive(Debug, Clone)]
struct QView {
    position: i64,
    /// The kind's code: single, multiple, true_false, short_answer, essay, likert, open.
    kind: &'static str,
    prompt: String,
    points: i64,
    choices: Vec<Choice>,
    value: String,
    /// The refusal of this answer, shown under it.
    error: String,
}

impl QView {
    fn new(
        position: i64,
        kind: QuestionKind,
        prompt: &str,
        choice_list: &[&str],
        points: i64,
        value: &str,
    ) -> Self {
        let choices = match kind {
            QuestionKind::Single | QuestionKind::Multiple => {
                let picked: Vec<String> = value
                    .split(',')
                    .map(|l| l.trim().to_ascii_uppercase())
                    .collect();
                choice_list
                    .iter()
                    .enumerate()
                    .map(|(i, text)| {
                        let l = letter(i).to_string();
                        Choice {
                            picked: picked.contains(&l),
                            label: format!("{l}. {text}"),
                            value: l,
                        }
                    })
                    .collect()
            }
            QuestionKind::TrueFalse => {
                let t = parse_truth(value);
                vec![
                    Choice {
                        value: "true".into(),
                        label: "Đúng".into(),
                        picked: t == Some(true),
                    },
                    Choice {
                        value: "false".into(),
                        label: "Sai".into(),
                        picked: t == Some(false),
                    },
                ]
            }
            QuestionKind::Likert => LIKERT
                .iter()
                .zip(1..)
                .map(|(label, n)| Choice {
                    value: n.to_string(),
                    label: (*label).to_string(),
                    picked: value.trim() == n.to_string(),
                })
                .collect(),
            _ => vec![],
        };
        Self {
            position,
            kind: kind.code(),
            prompt: prompt.to_string(),
            points,
            choices,
            value: value.to_string(),
            error: String::new(),
        }
    }

    fn of_answer(a: &AttemptAnswer, typed: Option<&str>) -> Self {
        Self::new(
            a.position,
            a.kind(),
            &a.prompt,
            &a.choice_list(),
            a.max_points,
            typed.unwrap_or(a.answer_text()),
        )
    }

    fn of_question(q: &QuizQuestion, typed: Option<&str>) -> Self {
        Self::new(
            q.position,
            q.kind(),
            &q.prompt,
            &q.choice_list(),
            q.points,
            typed.unwrap_or(""),
        )
    }

    /// Answered with radio buttons (one choice).
    fn radios(&self) -> bool {
        matches!(self.kind, "single" | "true_false" | "likert")
    }
}

/// Where the question form posts, with its CSRF token.
struct FormTarget {
    action: String,
    csrf: String,
}

/// What the question page shows, for a member and for a public entrant alike.
struct TakeView {
    z: Quiz,
    action: String,
    csrf: String,
    /// Why no answers are taken now (outside the window, not a taker): shown instead of the form.
    refusal: Option<String>,
    /// The refusal came from answers sent: what was saved before stays.
    kept: bool,
    attempt: Option<Attempt>,
    qs: Vec<QView>,
    guess: String,
    guess_error: String,
    /// Answers refused: the message above the form.
    error: Option<String>,
    /// The place in a contest's ranking, once its results are published.
    rank: Option<i64>,
    /// Essay answers wait for the judges.
    pending_essays: bool,
    /// A survey this person answered already.
    survey_done: bool,
    status: StatusCode,
}

impl TakeView {
    fn new(z: Quiz, to: FormTarget) -> Self {
        Self {
            z,
            action: to.action,
            csrf: to.csrf,
            refusal: None,
            kept: false,
            attempt: None,
            qs: vec![],
            guess: String::new(),
            guess_error: String::new(),
            error: None,
            rank: None,
            pending_essays: false,
            survey_done: false,
            status: StatusCode::OK,
        }
    }

    fn refuse(&mut self, message: String, status: StatusCode) {
        self.refusal = Some(message);
        self.status = status;
    }

    /// Answers refused: the message above the form and under the question it names ("Câu 3: …").
    fn fail(&mut self, error: String, guess_error: String) {
        let position = error
            .strip_prefix("Câu ")
            .and_then(|r| r.split(':').next())
            .and_then(|n| n.trim().parse::<i64>().ok());
        if let Some(q) = self.qs.iter_mut().find(|q| Some(q.position) == position) {
            q.error.clone_from(&error);
        }
        self.error = Some(error);
        self.guess_error = guess_error;
        self.status = StatusCode::UNPROCESSABLE_ENTITY;
    }

    fn submitted(&self) -> bool {
        self.attempt.as_ref().is_some_and(Attempt::submitted)
    }
    fn show_form(&self) -> bool {
        self.refusal.is_none() && !self.submitted() && !self.survey_done
    }
    fn is_survey(&self) -> bool {
        !self.z.scored()
    }
    fn is_contest(&self) -> bool {
        self.z.kind() == QuizKind::Contest
    }
    fn results_published(&self) -> bool {
        self.z.state() == QuizState::ResultsPublished
    }
}

/// The message of a store refusal.
fn message_of(e: StoreError) -> String {
    match e {
        StoreError::Rule(v) => v.message,
        other => other.to_string(),
    }
}

fn is_window(code: &str) -> bool {
    matches!(code, "quiz_not_open" | "quiz_closed")
}

/// The page of an attempt: its questions with the answers saved (or as typed), or its result.
async fn attempt_view(
    db: &Db,
    z: Quiz,
    a: Attempt,
    to: FormTarget,
    sent: Option<&Sent>,
) -> AppResult<TakeView> {
    let answers = attempts::answers(db, &a).await?;
    let mut v = TakeView::new(z, to);
    if a.submitted() {
        v.pending_essays = answers
            .iter()
            .any(|q| q.kind() == QuestionKind::Essay && q.points.is_none());
        if v.is_contest() && v.results_published() {
            v.rank = Some(attempts::rank_of(db, &a).await?);
        }
    } else {
        if let Some(e) = attempts::window_refusal(&v.z) {
            v.refuse(message_of(e), StatusCode::CONFLICT);
        }
        v.qs = answers
            .iter()
            .map(|q| QView::of_answer(q, sent.and_then(|s| s.typed(q.position))))
            .collect();
        v.guess = sent.map(|s| s.guess.clone()).unwrap_or_default();
    }
    v.attempt = Some(a);
    Ok(v)
}

/// The page of a scored questionnaire for a taker: their attempt, started now on the first
/// visit; outside the window the store's message.
async fn scored_view(
    db: &Db,
    z: Quiz,
    taker: Taker,
    to: FormTarget,
    sent: Option<&Sent>,
) -> AppResult<TakeView> {
    match attempts::start(db, &z, taker).await {
        Ok(a) => attempt_view(db, z, a, to, sent).await,
        Err(StoreError::Rule(v)) if is_window(v.code) => {
            let mut view = TakeView::new(z, to);
            view.refuse(v.message, StatusCode::CONFLICT);
            Ok(view)
        }
        Err(StoreError::NotFound) => {
            let mut view = TakeView::new(z, to);
            view.refuse(NOT_TAKER.into(), StatusCode::FORBIDDEN);
            Ok(view)
        }
        Err(e) => Err(e.into()),
    }
}

/// The page of a survey for a member: its questions, unless they answered it already.
async fn survey_view(
    db: &Db,
    z: Quiz,
    person: PersonId,
    to: FormTarget,
    sent: Option<&Sent>,
) -> AppResult<TakeView> {
    let mut v = TakeView::new(z, to);
    if surveys::answered(db, &v.z, person).await? {
        v.survey_done = true;
        return Ok(v);
    }
    if let Some(e) = attempts::window_refusal(&v.z) {
        v.refuse(message_of(e), StatusCode::CONFLICT);
        return Ok(v);
    }
    if attempts::place(db, &v.z, person).await?.is_none() {
        v.refuse(NOT_TAKER.into(), StatusCode::FORBIDDEN);
        return Ok(v);
    }
    v.qs = assess::quiz_questions(db, &v.z, false)
        .await?
        .iter()
        .map(|q| QView::of_question(q, sent.and_then(|s| s.typed(q.position))))
        .collect();
    Ok(v)
}

/// What answers sent did.
enum Outcome {
    /// Done: back to the page with a message (and a query keeping the guess typed).
    Back { message: String, query: String },
    /// Refused answers: the form again with the message and what was typed.
    Again { error: String, guess_error: String },
    /// Outside the window: the store's message (what was saved stays).
    Refused(String),
}

impl Outcome {
    fn of_rule(v: Violation) -> Self {
        match v.code {
            c if is_window(c) => Self::Refused(v.message),
            "already_submitted" => Self::Back {
                message: v.message,
                query: String::new(),
            },
            _ => Self::Again {
                error: v.message,
                guess_error: String::new(),
            },
        }
    }
}

/// Saves or submits the answers sent to the taker's attempt.
async fn answer_attempt(db: &Db, z: &Quiz, taker: Taker, sent: &Sent) -> AppResult<Outcome> {
    let a = match attempts::start(db, z, taker).await {
        Ok(a) => a,
        Err(StoreError::Rule(v)) => return Ok(Outcome::of_rule(v)),
        Err(e) => return Err(e.into()),
    };
    let guess = if z.kind().has_guess() {
        match parse_guess(&sent.guess) {
            Ok(g) => g,
            Err(e) if sent.submit => {
                return Ok(Outcome::Again {
                    error: "Chưa nộp được: kiểm tra dự đoán số người dự thi.".into(),
                    guess_error: e.to_string(),
                })
            }
            Err(_) => None,
        }
    } else {
        None
    };
    if !sent.submit {
        return Ok(match attempts::save(db, z, &a, &sent.answers).await {
            Ok(_) => Outcome::Back {
                message: format!("Đã lưu tạm {} câu trả lời.", sent.answered()),
                query: guess.map(|g| format!("?guess={g}")).unwrap_or_default(),
            },
            Err(StoreError::Rule(v)) => Outcome::of_rule(v),
            Err(e) => return Err(e.into()),
        });
    }
    Ok(
        match attempts::submit(db, z, &a, &sent.answers, guess).await {
            Ok(s) if s.again => Outcome::Back {
                message: "Bài làm đã được nộp trước đó; lần gửi này không thay đổi gì.".into(),
                query: String::new(),
            },
            Ok(_) => Outcome::Back {
                message: "Đã nộp bài.".into(),
                query: String::new(),
            },
            Err(StoreError::Rule(v)) => Outcome::of_rule(v),
            Err(e) => return Err(e.into()),
        },
    )
}

// ----- members -----

#[derive(Template)]
#[template(path = "assess/take.html")]
struct TakePage {
    ctx: PageCtx,
    v: TakeView,
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
struct TakeQuery {
    /// The guess typed before saving.
    guess: String,
}

fn take_link(id: i64) -> String {
    format!("/assess/quizzes/{id}/take")
}

/// The member's page of a questionnaire.
async fn member_view(
    st: &AppState,
    ctx: &PageCtx,
    scope: &Scope,
    z: Quiz,
    sent: Option<&Sent>,
) -> AppResult<TakeView> {
    let to = FormTarget {
        action: take_link(z.id.0),
        csrf: ctx.csrf.clone(),
    };
    let Some(person) = scope.person_id else {
        let mut v = TakeView::new(z, to);
        v.refuse(NOT_TAKER.into(), StatusCode::FORBIDDEN);
        return Ok(v);
    };
    if z.scored() {
        scored_view(&st.db, z, Taker::Person(person), to, sent).await
    } else {
        survey_view(&st.db, z, person, to, sent).await
    }
}

fn render_member(ctx: PageCtx, v: TakeView) -> AppResult<Response> {
    let status = v.status;
    let page = TakePage { ctx, v };
    let mut resp = page.ctx.render(&page)?;
    *resp.status_mut() = status;
    Ok(resp)
}

async fn take_page(
    State(st): State<AppState>,
    Ctx(ctx, user): Ctx,
    Path(id): Path<i64>,
    Query(q): Query<TakeQuery>,
) -> AppResult<Response> {
    let scope = user.scope();
    let z = assess::get(&st.db, scope, QuizId(id)).await?;
    let ctx = ctx.with_nav("assess");
    let sent = Sent::guess_only(q.guess);
    let v = member_view(&st, &ctx, scope, z, Some(&sent)).await?;
    render_member(ctx, v)
}

async fn take_post(
    State(st): State<AppState>,
    Ctx(ctx, _): Ctx,
    Path(id): Path<i64>,
    f: CsrfForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    let scope = f.user.scope();
    let z = assess::get(&st.db, scope, QuizId(id)).await?;
    let ctx = ctx.with_nav("assess");
    let sent = Sent::parse(f.form);
    let person = scope.person_id.ok_or(AppError::Forbidden)?;
    let outcome = if z.scored() {
        answer_attempt(&st.db, &z, Taker::Person(person), &sent).await?
    } else {
        match surveys::respond(&st.db, scope, &z, Some(person), &sent.answers).await {
            Ok(()) => Outcome::Back {
                message: "Đã gửi phiếu khảo sát. Cảm ơn đồng chí.".into(),
                query: String::new(),
            },
            Err(StoreError::Rule(v)) => Outcome::of_rule(v),
            Err(e) => return Err(e.into()),
        }
    };
    match outcome {
        Outcome::Back { message, query } => {
            Ok(ctx.redirect(&format!("{}{query}", take_link(id)), &message))
        }
        Outcome::Again { error, guess_error } => {
            let mut v = member_view(&st, &ctx, scope, z, Some(&sent)).await?;
            v.fail(error, guess_error);
            render_member(ctx, v)
        }
        Outcome::Refused(message) => {
            let mut v = member_view(&st, &ctx, scope, z, Some(&sent)).await?;
            v.refuse(message, StatusCode::UNPROCESSABLE_ENTITY);
            v.kept = true;
            render_member(ctx, v)
        }
    }
}

// ----- the public contest (no login) -----

/// The public forms' CSRF token: a double-submit cookie, as the login form has (there is no
/// session to hold one).
const CONTEST_CSRF_COOKIE: &str = "qt_contest_csrf";

/// The cookie keeping an entrant's secret for a contest.
fn entrant_cookie_name(id: i64) -> String {
    format!("contest_{id}")
}

/// A `Set-Cookie` value on a path: HttpOnly, SameSite=Lax, Secure over HTTPS.
fn path_cookie(name: &str, value: &str, path: &str, max_age: i64, secure: bool) -> HeaderValue {
    let mut c = format!("{name}={value}; Path={path}; HttpOnly; SameSite=Lax; Max-Age={max_age}");
    if secure {
        c.push_str("; Secure");
    }
    HeaderValue::from_str(&c).unwrap_or_else(|_| HeaderValue::from_static("invalid=; Max-Age=0"))
}

/// A token as the server makes them (64 hex digits).
fn well_formed(t: &str) -> bool {
    t.len() == 64 && t.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The CSRF token of this browser's public forms (kept, or new).
fn public_csrf(headers: &HeaderMap) -> String {
    auth::cookie(headers, CONTEST_CSRF_COOKIE)
        .filter(|t| well_formed(t))
        .unwrap_or_else(store::auth::random_token)
}

fn check_public_csrf(headers: &HeaderMap, sent: &str) -> AppResult<()> {
    let expected = auth::cookie(headers, CONTEST_CSRF_COOKIE).unwrap_or_default();
    if expected.is_empty() || !auth::same_secret(&expected, sent) {
        return Err(AppError::Csrf);
    }
    Ok(())
}

/// Sets the public forms' CSRF cookie (a day) on a page's response.
fn with_public_csrf(
    mut resp: Response,
    st: &AppState,
    headers: &HeaderMap,
    csrf: &str,
) -> Response {
    let secure = auth::is_secure(headers, st);
    resp.headers_mut().append(
        header::SET_COOKIE,
        path_cookie(CONTEST_CSRF_COOKIE, csrf, "/contests", 24 * 3600, secure),
    );
    resp
}

/// Redirects with a flash message (the public pages have no page context).
fn public_redirect(st: &AppState, headers: &HeaderMap, to: &str, message: &str) -> Response {
    let mut resp = Redirect::to(to).into_response();
    resp.headers_mut().append(
        header::SET_COOKIE,
        auth::set_cookie(
            auth::FLASH_COOKIE,
            &auth::encode_flash(message),
            Some(60),
            auth::is_secure(headers, st),
        ),
    );
    resp
}

/// The entrant this browser registered as for the contest, if any.
async fn entrant_of(db: &Db, z: &Quiz, headers: &HeaderMap) -> AppResult<Option<i64>> {
    let Some(token) =
        auth::cookie(headers, &entrant_cookie_name(z.id.0)).filter(|t| well_formed(t))
    else {
        return Ok(None);
    };
    match attempts::entrant(db, z, &token).await {
        Ok(e) => Ok(Some(e)),
        Err(StoreError::NotFound) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "assess/contest.html")]
struct ContestPage {
    z: Quiz,
    csrf: String,
    input: EntrantInput,
    errors: FieldErrors,
    error: Option<String>,
    /// This browser registered already: on to the questions.
    registered: bool,
    /// A session cookie came along: members take the contest on their own page.
    member: bool,
    /// Why registration is not taken now (outside the window).
    refusal: Option<String>,
    demo: bool,
}

impl ContestPage {
    fn err(&self, f: &str) -> &str {
        self.errors.get(f).unwrap_or("")
    }
    fn member_link(&self) -> String {
        take_link(self.z.id.0)
    }
}

async fn contest_page_of(
    st: &AppState,
    headers: &HeaderMap,
    z: Quiz,
    input: EntrantInput,
    errors: FieldErrors,
    error: Option<String>,
) -> AppResult<ContestPage> {
    let registered = entrant_of(&st.db, &z, headers).await?.is_some();
    Ok(ContestPage {
        refusal: attempts::window_refusal(&z).map(message_of),
        csrf: public_csrf(headers),
        member: auth::cookie(headers, auth::SESSION_COOKIE).is_some(),
        demo: !st.config.demo_accounts.is_empty(),
        z,
        input,
        errors,
        error,
        registered,
    })
}

fn render_contest(
    st: &AppState,
    headers: &HeaderMap,
    page: &ContestPage,
    status: StatusCode,
) -> AppResult<Response> {
    let resp = (status, Html(page.render()?)).into_response();
    Ok(with_public_csrf(resp, st, headers, &page.csrf))
}

/// A contest's public page: what it is, and the short registration.
async fn contest_page(
    State(st): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let z = assess::get_public(&st.db, QuizId(id)).await?;
    let page = contest_page_of(
        &st,
        &headers,
        z,
        EntrantInput::default(),
        FieldErrors::new(),
        None,
    )
    .await?;
    render_contest(&st, &headers, &page, StatusCode::OK)
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
struct RegisterForm {
    csrf: String,
    full_name: String,
    phone: String,
    address: String,
}

/// Registrations of the public a minute from one address (a school's computer room shares one).
const REGISTRATIONS_PER_MINUTE: u32 = 30;

async fn register(
    State(st): State<AppState>,
    headers: HeaderMap,
    peer: Option<axum::Extension<axum::extract::ConnectInfo<std::net::SocketAddr>>>,
    Path(id): Path<i64>,
    Form(f): Form<RegisterForm>,
) -> AppResult<Response> {
    check_public_csrf(&headers, &f.csrf)?;
    if let Some(axum::Extension(axum::extract::ConnectInfo(addr))) = peer {
        if !st.registrations.allow(addr.ip(), REGISTRATIONS_PER_MINUTE) {
            return Err(AppError::TooMany(
                "rate_limited",
                "Quá nhiều lượt đăng ký dự thi từ cùng một địa chỉ. Vui lòng thử lại sau một phút."
                    .into(),
            ));
        }
    }
    let z = assess::get_public(&st.db, QuizId(id)).await?;
    let input = EntrantInput {
        full_name: f.full_name,
        phone: f.phone,
        address: f.address,
    };
    let mut errors = FieldErrors::new();
    let mut error = None;
    match input.validate() {
        Ok(e) => match attempts::register(&st.db, &z, &e).await {
            Ok((_, token)) => {
                let mut resp = Redirect::to(&format!("/contests/{id}/take")).into_response();
                let age = (z.closes_at - store::now()).num_seconds().max(0) + 90 * 24 * 3600;
                resp.headers_mut().append(
                    header::SET_COOKIE,
                    path_cookie(
                        &entrant_cookie_name(id),
                        &token,
                        &format!("/contests/{id}"),
                        age,
                        auth::is_secure(&headers, &st),
                    ),
                );
                return Ok(resp);
            }
            Err(StoreError::Conflict { .. }) => errors.add(
                "phone",
                "Số điện thoại này đã đăng ký dự thi vòng thi này. Mỗi người đăng ký một lần; hãy làm bài trên thiết bị đã dùng để đăng ký.",
            ),
            Err(StoreError::Rule(v)) => error = Some(v.message),
            Err(e) => return Err(e.into()),
        },
        Err(e) => errors = e,
    }
    let page = contest_page_of(&st, &headers, z, input, errors, error).await?;
    render_contest(&st, &headers, &page, StatusCode::UNPROCESSABLE_ENTITY)
}

#[derive(Template)]
#[template(path = "assess/contest_take.html")]
struct ContestTakePage {
    v: TakeView,
    flash: Option<String>,
    demo: bool,
}

fn contest_take_link(id: i64) -> String {
    format!("/contests/{id}/take")
}

fn render_public(st: &AppState, headers: &HeaderMap, v: TakeView) -> AppResult<Response> {
    let flash = auth::cookie(headers, auth::FLASH_COOKIE).and_then(|c| auth::decode_flash(&c));
    let status = v.status;
    let csrf = v.csrf.clone();
    let page = ContestTakePage {
        v,
        flash,
        demo: !st.config.demo_accounts.is_empty(),
    };
    let mut resp = (status, Html(page.render()?)).into_response();
    if page.flash.is_some() {
        resp.headers_mut().append(
            header::SET_COOKIE,
            auth::set_cookie(
                auth::FLASH_COOKIE,
                "",
                Some(0),
                auth::is_secure(headers, st),
            ),
        );
    }
    Ok(with_public_csrf(resp, st, headers, &csrf))
}

/// The registered entrant's questions, or their result.
async fn contest_take_page(
    State(st): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Query(q): Query<TakeQuery>,
) -> AppResult<Response> {
    let z = assess::get_public(&st.db, QuizId(id)).await?;
    let Some(entrant) = entrant_of(&st.db, &z, &headers).await? else {
        return Ok(Redirect::to(&format!("/contests/{id}")).into_response());
    };
    let to = FormTarget {
        action: contest_take_link(id),
        csrf: public_csrf(&headers),
    };
    let sent = Sent::guess_only(q.guess);
    let v = scored_view(&st.db, z, Taker::Entrant(entrant), to, Some(&sent)).await?;
    render_public(&st, &headers, v)
}

async fn contest_take_post(
    State(st): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    body: Bytes,
) -> AppResult<Response> {
    let pairs: Vec<(String, String)> = serde_html_form::from_bytes(&body)
        .map_err(|e| AppError::BadRequest(format!("Biểu mẫu không đọc được: {e}")))?;
    let sent = Sent::parse(pairs);
    check_public_csrf(&headers, &sent.csrf)?;
    let z = assess::get_public(&st.db, QuizId(id)).await?;
    let Some(entrant) = entrant_of(&st.db, &z, &headers).await? else {
        return Ok(public_redirect(
            &st,
            &headers,
            &format!("/contests/{id}"),
            "Hãy đăng ký dự thi trước khi làm bài.",
        ));
    };
    let taker = Taker::Entrant(entrant);
    let to = FormTarget {
        action: contest_take_link(id),
        csrf: public_csrf(&headers),
    };
    match answer_attempt(&st.db, &z, taker, &sent).await? {
        Outcome::Back { message, query } => Ok(public_redirect(
            &st,
            &headers,
            &format!("{}{query}", contest_take_link(id)),
            &message,
        )),
        Outcome::Again { error, guess_error } => {
            let mut v = scored_view(&st.db, z, taker, to, Some(&sent)).await?;
            v.fail(error, guess_error);
            render_public(&st, &headers, v)
        }
        Outcome::Refused(message) => {
            let mut v = scored_view(&st.db, z, taker, to, Some(&sent)).await?;
            v.refuse(message, StatusCode::UNPROCESSABLE_ENTITY);
            v.kept = true;
            render_public(&st, &headers, v)
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn html_form_pairs_keep_every_field_in_order() {
        let pairs: Vec<(String, String)> = serde_html_form::from_bytes(
            b"csrf=abc&a1=B&a2=&a2=A&a2=C&a3=%C4%90%E1%BB%95i+m%E1%BB%9Bi&guess=12.500&action=save",
        )
        .unwrap();
        assert_eq!(pairs.first().unwrap(), &("csrf".into(), "abc".into()));
        assert_eq!(pairs.len(), 8);
        let s = Sent::parse(pairs);
        assert_eq!(s.csrf, "abc");
        assert_eq!(
            s.answers,
            vec![
                (1, "B".to_string()),
                (2, "A,C".to_string()),
                (3, "Đổi mới".to_string())
            ]
        );
        assert_eq!(s.guess, "12.500");
        assert!(!s.submit);
        assert_eq!(s.answered(), 3);
    }

    #[test]
    fn unchecked_boxes_clear_and_other_names_are_ignored() {
        let s = Sent::parse(vec![
            ("a4".into(), String::new()),
            ("action".into(), "submit".into()),
            ("ax".into(), "A".into()),
            ("a0".into(), "A".into()),
            ("a+5".into(), "A".into()),
        ]);
        assert_eq!(s.answers, vec![(4, String::new())]);
        assert!(s.submit);
        assert_eq!(s.answered(), 0);
    }

    #[test]
    fn choices_show_what_was_picked() {
        let q = QView::new(2, QuestionKind::Multiple, "?", &["x", "y", "z"], 1, "A,C");
        let picked: Vec<bool> = q.choices.iter().map(|c| c.picked).collect();
        assert_eq!(picked, vec![true, false, true]);
        let t = QView::new(1, QuestionKind::TrueFalse, "?", &[], 1, "false");
        assert!(!t.choices.first().unwrap().picked && t.choices.get(1).unwrap().picked);
        let l = QView::new(1, QuestionKind::Likert, "?", &[], 0, "4");
        assert_eq!(l.choices.len(), 5);
        assert!(l.choices.get(3).unwrap().picked);
        assert_eq!(l.choices.get(4).unwrap().label, "Mức 5 – cao nhất");
    }
}
