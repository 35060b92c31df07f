//! Checking understanding (R3.4, R4.1, R4.2, R6.3): question banks per resolution, scored
//! quizzes and anonymous surveys of a class, cell quizzes, knowledge contests, and the written
//! reflections members hand in after a class. The rules here are free of IO: what a question may
//! hold, how an answer is scored, when a questionnaire takes answers, how a contest ranks.

use chrono::{DateTime, NaiveTime, Utc};

use crate::ids::{ClassId, QuestionId, SessionId};
use crate::study::{local_to_utc, AudienceTier};
use crate::text::{fold, optional_text, parse_date, required_text};
use crate::{FieldErrors, RuleError};

crate::choice!(
    /// The kind of a question. The first five are scored; the last two belong to surveys.
    QuestionKind {
        Single = "single" / "Một lựa chọn",
        Multiple = "multiple" / "Nhiều lựa chọn",
        TrueFalse = "true_false" / "Đúng / Sai",
        ShortAnswer = "short_answer" / "Trả lời ngắn",
        Essay = "essay" / "Tự luận (giám khảo chấm)",
        Likert = "likert" / "Thang mức độ 1–5",
        Open = "open" / "Ý kiến mở",
    }
);

crate::choice!(
    /// How hard a question is.
    Difficulty {
        Easy = "easy" / "Dễ",
        Medium = "medium" / "Trung bình",
        Hard = "hard" / "Khó",
    }
);

crate::choice!(
    /// What a questionnaire is for.
    QuizKind {
        Quiz = "quiz" / "Bài kiểm tra nhận thức của lớp",
        Survey = "survey" / "Phiếu khảo sát nhận thức (không ghi tên)",
        CellQuiz = "cell_quiz" / "Kiểm tra ở sinh hoạt chi bộ",
        Contest = "contest" / "Hội thi tìm hiểu nghị quyết",
    }
);

crate::choice!(
    /// Where a questionnaire stands.
    QuizState {
        Draft = "draft" / "Đang soạn",
        Published = "published" / "Đã phát hành",
        ResultsPublished = "results" / "Đã công bố kết quả",
    }
);

crate::choice!(
    /// How an attempt reached the system.
    AttemptSource {
        Online = "online" / "Làm trực tuyến",
        Paper = "paper" / "Nhập từ phiếu giấy",
        Oral = "oral" / "Hỏi – đáp trực tiếp",
    }
);

crate::choice!(
    /// Where a member's written reflection stands.
    ReflectionState {
        Submitted = "submitted" / "Đã nộp trực tuyến",
        Paper = "paper" / "Đã nhận bản giấy",
        Exempt = "exempt" / "Được miễn viết",
    }
);

/// The grade a reflection is given (the same four levels as an evaluation).
pub use crate::oversight::Grade;

impl QuestionKind {
    /// Scored in a quiz or contest (the others are survey questions).
    pub fn scored(self) -> bool {
        !matches!(self, Self::Likert | Self::Open)
    }
    /// Has lettered choices.
    pub fn has_choices(self) -> bool {
        matches!(self, Self::Single | Self::Multiple)
    }
    /// Scored by the server from the key (an essay waits for the judges).
    pub fn auto_scored(self) -> bool {
        self.scored() && self != Self::Essay
    }
}

impl QuizKind {
    /// Answers are identified and scored (every kind but the anonymous survey).
    pub fn scored(self) -> bool {
        self != Self::Survey
    }
    /// Asks for a guess of how many will take part (the contest's tie-break).
    pub fn has_guess(self) -> bool {
        self == Self::Contest
    }
}

pub const PROMPT_MAX: usize = 2000;
pub const CHOICE_MAX: usize = 500;
pub const CHOICES_MIN: usize = 2;
pub const CHOICES_MAX: usize = 8;
pub const SHORT_ANSWER_MAX: usize = 500;
pub const ESSAY_MAX: usize = 20_000;
pub const TITLE_MAX: usize = 300;
/// Questions one questionnaire may hold.
pub const QUIZ_QUESTIONS_MAX: usize = 200;
/// The most points an essay question may carry.
pub const ESSAY_POINTS_MAX: i64 = 100;
/// A contest guess at most (more than the country's members).
pub const GUESS_MAX: i64 = 100_000_000;
pub const REFLECTION_MAX: usize = 20_000;
pub const PLAN_MAX: usize = 5_000;
pub const REMARK_MAX: usize = 2_000;

/// The letter of the choice at `i` (A, B, …).
pub fn letter(i: usize) -> char {
    char::from(b'A' + u8::try_from(i.min(25)).unwrap_or(0))
}

/// Parses choice letters as typed ("a, C", "AC", "A;C"): the sorted distinct indices, each
/// below `count`.
pub fn parse_letters(s: &str, count: usize) -> Result<Vec<usize>, RuleError> {
    let mut out = Vec::new();
    for c in s.chars().filter(|c| !matches!(c, ',' | ';' | ' ' | '\t')) {
        let u = c.to_ascii_uppercase();
        if !u.is_ascii_uppercase() {
            return Err(RuleError::QuestionKey {
                hint: "ghi chữ cái của phương án đúng, ví dụ «A» hoặc «A, C».",
            });
        }
        let i = usize::from(u as u8 - b'A');
        if i >= count {
            return Err(RuleError::QuestionKey {
                hint: "chữ cái vượt quá số phương án.",
            });
        }
        if !out.contains(&i) {
            out.push(i);
        }
    }
    out.sort_unstable();
    Ok(out)
}

/// "true"/"false" from what people type (Đúng/Sai, Đ/S, true/false, 1/0).
pub fn parse_truth(s: &str) -> Option<bool> {
    match fold(s).as_str() {
        "dung" | "d" | "true" | "1" | "x" => Some(true),
        "sai" | "s" | "false" | "0" => Some(false),
        _ => None,
    }
}

/// A question as typed (the form, the API and a row of the xlsx bank).
#[derive(Debug, Clone, Default, serde::Deserialize, serde::Serialize, utoipa::ToSchema)]
#[serde(default)]
pub struct QuestionInput {
    /// `single`, `multiple`, `true_false`, `short_answer`, `essay`, `likert` or `open`.
    pub kind: String,
    /// An audience tier (`key_cadres`, `grassroots`, `public`) or empty for every tier.
    pub tier: String,
    /// `easy`, `medium` or `hard`.
    pub difficulty: String,
    pub prompt: String,
    /// One choice per line (single and multiple choice).
    pub choices: String,
    /// The key: letters ("A" or "A, C"), "Đúng"/"Sai", or accepted short answers separated by "|".
    pub answer: String,
    /// Points of an essay question (1–100); every other scored question is worth 1.
    pub points: String,
}

/// A validated question version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewQuestion {
    pub kind: QuestionKind,
    pub tier: Option<AudienceTier>,
    pub difficulty: Difficulty,
    pub prompt: String,
    /// Lines of the choices, joined by '\n' (empty without choices).
    pub choices: String,
    /// The stored key (normalized: "A,C", "true", "a|b").
    pub answer: String,
    pub points: i64,
}

impl QuestionInput {
    pub fn validate(&self) -> Result<NewQuestion, FieldErrors> {
        let mut e = FieldErrors::new();
        let kind = e.take("kind", QuestionKind::parse(&self.kind));
        let tier = e.take(
            "tier",
            if self.tier.trim().is_empty() {
                Ok(None)
            } else {
                AudienceTier::parse(&self.tier).map(Some)
            },
        );
        let difficulty = e.take(
            "difficulty",
            if self.difficulty.trim().is_empty() {
                Ok(Difficulty::Medium)
            } else {
                Difficulty::parse(&self.difficulty)
            },
        );
        let prompt = e.take("prompt", required_text(&self.prompt, PROMPT_MAX));
        let Some(kind) = kind else {
            return Err(e);
        };
        let mut choices = String::new();
        let mut answer = String::new();
        let mut points = 1;
        if kind.has_choices() {
            let lines = optional_text(&self.choices, CHOICES_MAX * (CHOICE_MAX + 1))
                .map(|t| {
                    t.unwrap_or_default()
                        .lines()
                        .map(str::trim)
                        .filter(|l| !l.is_empty())
                        .map(str::to_string)
                        .collect::<Vec<_>>()
                })
                .and_then(|v| {
                    if !(CHOICES_MIN..=CHOICES_MAX).contains(&v.len()) {
                        Err(RuleError::QuestionChoices)
                    } else if v.iter().any(|l| l.chars().count() > CHOICE_MAX) {
                        Err(RuleError::TooLong { max: CHOICE_MAX })
                    } else {
                        Ok(v)
                    }
                });
            if let Some(lines) = e.take("choices", lines) {
                let key = parse_letters(&self.answer, lines.len()).and_then(|k| match kind {
                    _ if k.is_empty() => Err(RuleError::Required),
                    QuestionKind::Single if k.len() != 1 => Err(RuleError::QuestionKey {
                        hint: "câu một lựa chọn có đúng một phương án đúng.",
                    }),
                    _ => Ok(k),
                });
                if let Some(k) = e.take("answer", key) {
                    answer = k
                        .iter()
                        .map(|i| letter(*i).to_string())
                        .collect::<Vec<_>>()
                        .join(",");
                }
                choices = lines.join("\n");
            }
        } else if kind == QuestionKind::TrueFalse {
            match parse_truth(&self.answer) {
                Some(t) => answer = t.to_string(),
                None => e.add(
                    "answer",
                    RuleError::QuestionKey {
                        hint: "ghi «Đúng» hoặc «Sai».",
                    },
                ),
            }
        } else if kind == QuestionKind::ShortAnswer {
            let accepted = optional_text(&self.answer, SHORT_ANSWER_MAX).map(|t| {
                t.unwrap_or_default()
                    .split('|')
                    .map(str::trim)
                    .filter(|a| !a.is_empty())
                    .map(str::to_string)
                    .collect::<Vec<_>>()
            });
            match e.take("answer", accepted) {
                Some(v) if v.is_empty() => e.add("answer", RuleError::Required),
                Some(v) => answer = v.join("|"),
                None => {}
            }
        } else if kind == QuestionKind::Essay {
            points = e
                .take(
                    "points",
                    crate::study::parse_int(
                        if self.points.trim().is_empty() {
                            "10"
                        } else {
                            &self.points
                        },
                        1,
                        ESSAY_POINTS_MAX,
                    ),
                )
                .unwrap_or(1);
        }
        if !kind.scored() {
            points = 0;
        }
        match (prompt, tier, difficulty) {
            (Some(prompt), Some(tier), Some(difficulty)) if e.is_empty() => Ok(NewQuestion {
                kind,
                tier,
                difficulty,
                prompt,
                choices,
                answer,
                points,
            }),
            _ => Err(e),
        }
    }
}

/// The points an answer earns on a question auto-scored from its key; `None` for an essay
/// (the judges score it) and for survey questions. An empty answer earns 0.
pub fn score(
    kind: QuestionKind,
    key: &str,
    choices: usize,
    answer: &str,
    points: i64,
) -> Option<i64> {
    if !kind.auto_scored() {
        return None;
    }
    let answer = answer.trim();
    if answer.is_empty() {
        return Some(0);
    }
    let right = match kind {
        QuestionKind::Single | QuestionKind::Multiple => {
            let want = parse_letters(key, choices).unwrap_or_default();
            parse_letters(answer, choices).is_ok_and(|got| !got.is_empty() && got == want)
        }
        QuestionKind::TrueFalse => parse_truth(answer) == parse_truth(key),
        QuestionKind::ShortAnswer => {
            let got = fold(answer);
            key.split('|').any(|k| fold(k) == got)
        }
        _ => false,
    };
    Some(if right { points } else { 0 })
}

/// One answer as a person gives it, checked against the question's kind: choice letters of
/// existing choices, a truth value, a Likert value 1–5, or bounded text. Stored normalized.
pub fn normalize_answer(
    kind: QuestionKind,
    choices: usize,
    raw: &str,
) -> Result<String, RuleError> {
    let t = optional_text(
        raw,
        match kind {
            QuestionKind::Essay | QuestionKind::Open => ESSAY_MAX,
            _ => SHORT_ANSWER_MAX,
        },
    )?
    .unwrap_or_default();
    if t.is_empty() {
        return Ok(t);
    }
    Ok(match kind {
        QuestionKind::Single | QuestionKind::Multiple => {
            let v = parse_letters(&t, choices)?;
            if kind == QuestionKind::Single && v.len() > 1 {
                return Err(RuleError::QuestionKey {
                    hint: "câu này chỉ chọn một phương án.",
                });
            }
            v.iter()
                .map(|i| letter(*i).to_string())
                .collect::<Vec<_>>()
                .join(",")
        }
        QuestionKind::TrueFalse => parse_truth(&t)
            .ok_or(RuleError::QuestionKey {
                hint: "chọn «Đúng» hoặc «Sai».",
            })?
            .to_string(),
        QuestionKind::Likert => {
            let n = crate::study::parse_int(&t, 1, 5)?;
            n.to_string()
        }
        _ => t,
    })
}

/// A questionnaire as typed.
#[derive(Debug, Clone, Default, serde::Deserialize, serde::Serialize, utoipa::ToSchema)]
#[serde(default)]
pub struct QuizInput {
    /// `quiz`, `survey`, `cell_quiz` or `contest`.
    pub kind: String,
    pub title: String,
    /// The resolution whose bank the questions come from.
    pub resolution_id: String,
    /// The organization that runs it (a cell for a cell quiz).
    pub org_id: String,
    /// The class it belongs to (quiz and survey), and optionally one of its sessions.
    pub class_id: String,
    pub session_id: String,
    /// Opening and closing, Vietnam time (dd/mm/yyyy and hh:mm).
    pub opens_on: String,
    pub opens_time: String,
    pub closes_on: String,
    pub closes_time: String,
    /// Questions drawn at random for each person (0 or empty: all, in order).
    pub draw_count: String,
    /// Draw only questions of this tier (empty: any).
    pub tier: String,
    /// Contests: members of the public may register.
    pub public_entry: bool,
    /// Contests: the contest's name, and which round this is.
    pub contest_title: String,
    pub round: String,
    /// Question ids from the bank; empty takes every current question of the resolution
    /// (within the tier).
    pub question_ids: Vec<String>,
}

/// A validated questionnaire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewQuiz {
    pub kind: QuizKind,
    pub title: String,
    pub resolution_id: i64,
    pub org_id: i64,
    pub class_id: Option<ClassId>,
    pub session_id: Option<SessionId>,
    pub opens_at: DateTime<Utc>,
    pub closes_at: DateTime<Utc>,
    pub draw_count: i64,
    pub tier: Option<AudienceTier>,
    pub public_entry: bool,
    pub contest_title: Option<String>,
    pub round: i64,
    pub questions: Vec<QuestionId>,
}

fn one_id(s: &str) -> Result<Option<i64>, RuleError> {
    crate::plans::action_plans::ids(std::slice::from_ref(&s.to_string()), 1)
        .map(|v| v.first().copied())
}

fn moment(date: &str, time: &str, default: &str) -> Result<DateTime<Utc>, RuleError> {
    let d = parse_date(date)?;
    let time = if time.trim().is_empty() {
        default
    } else {
        time.trim()
    };
    let t = NaiveTime::parse_from_str(time, "%H:%M").map_err(|_| RuleError::InvalidTime)?;
    Ok(local_to_utc(d.and_time(t)))
}

impl QuizInput {
    pub fn validate(&self) -> Result<NewQuiz, FieldErrors> {
        let mut e = FieldErrors::new();
        let kind = e.take("kind", QuizKind::parse(&self.kind));
        let title = e.take("title", required_text(&self.title, TITLE_MAX));
        let resolution = e.take(
            "resolution_id",
            one_id(&self.resolution_id).and_then(|v| v.ok_or(RuleError::Required)),
        );
        let org = e.take(
            "org_id",
            one_id(&self.org_id).and_then(|v| v.ok_or(RuleError::Required)),
        );
        let class = e.take("class_id", one_id(&self.class_id)).flatten();
        let session = e.take("session_id", one_id(&self.session_id)).flatten();
        let opens = e.take(
            "opens_on",
            moment(&self.opens_on, &self.opens_time, "00:00"),
        );
        let closes = e.take(
            "closes_on",
            moment(&self.closes_on, &self.closes_time, "23:59"),
        );
        if let (Some(o), Some(c)) = (opens, closes) {
            if c <= o {
                e.add("closes_on", RuleError::WindowReversed);
            }
        }
        let draw = e.take(
            "draw_count",
            if self.draw_count.trim().is_empty() {
                Ok(0)
            } else {
                crate::study::parse_int(&self.draw_count, 0, QUIZ_QUESTIONS_MAX as i64)
            },
        );
        let tier = e.take(
            "tier",
            if self.tier.trim().is_empty() {
                Ok(None)
            } else {
                AudienceTier::parse(&self.tier).map(Some)
            },
        );
        let round = e.take(
            "round",
            if self.round.trim().is_empty() {
                Ok(1)
            } else {
                crate::study::parse_int(&self.round, 1, 20)
            },
        );
        let contest_title = e.take(
            "contest_title",
            optional_text(&self.contest_title, TITLE_MAX),
        );
        let questions = e.take(
            "question_ids",
            crate::plans::action_plans::ids(&self.question_ids, QUIZ_QUESTIONS_MAX),
        );
        if let Some(k) = kind {
            if matches!(k, QuizKind::Quiz | QuizKind::Survey) && class.is_none() {
                e.add("class_id", RuleError::Required);
            }
            if k == QuizKind::Survey && draw.is_some_and(|d| d > 0) {
                e.add("draw_count", RuleError::OutOfRange { min: 0, max: 0 });
            }
        }
        match (kind, title, resolution, org, opens, closes, draw, tier) {
            (
                Some(kind),
                Some(title),
                Some(resolution_id),
                Some(org_id),
                Some(opens_at),
                Some(closes_at),
                Some(draw_count),
                Some(tier),
            ) if e.is_empty() => Ok(NewQuiz {
                kind,
                title,
                resolution_id,
                org_id,
                class_id: class.map(ClassId),
                session_id: session.map(SessionId),
                opens_at,
                closes_at,
                draw_count,
                tier,
                public_entry: self.public_entry && kind == QuizKind::Contest,
                contest_title: if kind == QuizKind::Contest {
                    contest_title.flatten()
                } else {
                    None
                },
                round: round.unwrap_or(1),
                questions: questions
                    .unwrap_or_default()
                    .into_iter()
                    .map(QuestionId)
                    .collect(),
            }),
            _ => Err(e),
        }
    }
}

/// Whether a questionnaire takes answers at `now`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Window {
    NotYet,
    Open,
    Closed,
}

pub fn window(opens_at: DateTime<Utc>, closes_at: DateTime<Utc>, now: DateTime<Utc>) -> Window {
    if now < opens_at {
        Window::NotYet
    } else if now >= closes_at {
        Window::Closed
    } else {
        Window::Open
    }
}

/// A contest's ranking key: more points first, then less time, then the guess nearest the
/// number who took part, then the earlier registration (the attempt id).
pub fn rank_key(
    score: i64,
    duration_ms: i64,
    guess: Option<i64>,
    actual: i64,
    id: i64,
) -> (i64, i64, i64, i64) {
    (
        -score,
        duration_ms,
        guess.map_or(i64::MAX, |g| (g - actual).abs()),
        id,
    )
}

/// A registration of a member of the public for a contest that admits them.
#[derive(Debug, Clone, Default, serde::Deserialize, serde::Serialize, utoipa::ToSchema)]
#[serde(default)]
pub struct EntrantInput {
    pub full_name: String,
    pub phone: String,
    /// Where they live or work (commune, village, school…).
    pub address: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEntrant {
    pub full_name: String,
    pub phone: String,
    pub address: String,
}

impl EntrantInput {
    pub fn validate(&self) -> Result<NewEntrant, FieldErrors> {
        let mut e = FieldErrors::new();
        let full_name = e.take("full_name", required_text(&self.full_name, 200));
        let digits: String = self
            .phone
            .chars()
            .filter(|c| !matches!(c, ' ' | '.' | '-'))
            .collect();
        let phone = e.take(
            "phone",
            if (9..=11).contains(&digits.len()) && digits.chars().all(|c| c.is_ascii_digit()) {
                Ok(digits)
            } else {
                Err(RuleError::InvalidPhone)
            },
        );
        let address = e.take("address", required_text(&self.address, 300));
        match (full_name, phone, address) {
            (Some(full_name), Some(phone), Some(address)) if e.is_empty() => Ok(NewEntrant {
                full_name,
                phone,
                address,
            }),
            _ => Err(e),
        }
    }
}

/// A contest guess as typed: empty is none; otherwise 0–100,000,000.
pub fn parse_guess(s: &str) -> Result<Option<i64>, RuleError> {
    let t: String = s
        .chars()
        .filter(|c| !matches!(c, '.' | ' ' | ','))
        .collect();
    if t.is_empty() {
        Ok(None)
    } else {
        crate::study::parse_int(&t, 0, GUESS_MAX).map(Some)
    }
}

/// What a class asks of its participants after study: the reflection's questions, the
/// deadline, and whether a personal plan is asked for too.
#[derive(Debug, Clone, Default, serde::Deserialize, serde::Serialize, utoipa::ToSchema)]
#[serde(default)]
pub struct ReflectionAskInput {
    pub prompt: String,
    /// dd/mm/yyyy
    pub due_on: String,
    pub asks_plan: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReflectionAsk {
    pub prompt: String,
    pub due_on: chrono::NaiveDate,
    pub asks_plan: bool,
}

impl ReflectionAskInput {
    pub fn validate(&self) -> Result<ReflectionAsk, FieldErrors> {
        let mut e = FieldErrors::new();
        let prompt = e.take("prompt", required_text(&self.prompt, PROMPT_MAX));
        let due = e.take("due_on", parse_date(&self.due_on));
        match (prompt, due) {
            (Some(prompt), Some(due_on)) if e.is_empty() => Ok(ReflectionAsk {
                prompt,
                due_on,
                asks_plan: self.asks_plan,
            }),
            _ => Err(e),
        }
    }
}

/// A reflection as the member types it.
#[derive(Debug, Clone, Default, serde::Deserialize, serde::Serialize, utoipa::ToSchema)]
#[serde(default)]
pub struct ReflectionInput {
    pub body: String,
    pub plan: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewReflection {
    pub body: String,
    pub plan: Option<String>,
}

impl ReflectionInput {
    /// `asks_plan`: the class asks for a personal plan, which is then required.
    pub fn validate(&self, asks_plan: bool) -> Result<NewReflection, FieldErrors> {
        let mut e = FieldErrors::new();
        let body = e.take("body", required_text(&self.body, REFLECTION_MAX));
        let plan = e.take(
            "plan",
            if asks_plan {
                required_text(&self.plan, PLAN_MAX).map(Some)
            } else {
                optional_text(&self.plan, PLAN_MAX)
            },
        );
        match (body, plan) {
            (Some(body), Some(plan)) if e.is_empty() => Ok(NewReflection { body, plan }),
            _ => Err(e),
        }
    }
}

/// A grade given to a reflection, with a remark.
#[derive(Debug, Clone, Default, serde::Deserialize, serde::Serialize, utoipa::ToSchema)]
#[serde(default)]
pub struct GradeInput {
    /// `good`, `fair`, `pass` or `fail`.
    pub grade: String,
    pub remark: String,
}

impl GradeInput {
    pub fn validate(&self) -> Result<(Grade, Option<String>), FieldErrors> {
        let mut e = FieldErrors::new();
        let grade = e.take("grade", Grade::parse(&self.grade));
        let remark = e.take("remark", optional_text(&self.remark, REMARK_MAX));
        match (grade, remark) {
            (Some(g), Some(r)) if e.is_empty() => Ok((g, r)),
            _ => Err(e),
        }
    }
}

/// A reason (for an exemption or a correction), required.
pub fn reason(s: &str) -> Result<String, RuleError> {
    required_text(s, REMARK_MAX)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn q(kind: &str, choices: &str, answer: &str) -> QuestionInput {
        QuestionInput {
            kind: kind.into(),
            prompt: "Nghị quyết xác định mục tiêu nào?".into(),
            choices: choices.into(),
            answer: answer.into(),
            ..Default::default()
        }
    }

    #[test]
    fn r4_1_single_choice_needs_two_to_eight_choices_and_one_key() {
        let ok = q("single", "Một\nHai\nBa", "b").validate().unwrap();
        assert_eq!(ok.answer, "B");
        assert_eq!(ok.points, 1);
        assert!(q("single", "Một", "A")
            .validate()
            .unwrap_err()
            .get("choices")
            .is_some());
        assert!(q("single", "1\n2\n3\n4\n5\n6\n7\n8\n9", "A")
            .validate()
            .is_err());
        assert!(q("single", "Một\nHai", "A,B")
            .validate()
            .unwrap_err()
            .get("answer")
            .is_some());
        assert!(q("single", "Một\nHai", "C")
            .validate()
            .unwrap_err()
            .get("answer")
            .is_some());
        assert!(q("single", "Một\nHai", "")
            .validate()
            .unwrap_err()
            .get("answer")
            .is_some());
    }

    #[test]
    fn r4_1_multiple_choice_keys_are_normalized() {
        let ok = q("multiple", "a\nb\nc", "c; a").validate().unwrap();
        assert_eq!(ok.answer, "A,C");
        assert_eq!(
            score(QuestionKind::Multiple, &ok.answer, 3, "A,C", 1),
            Some(1)
        );
        assert_eq!(
            score(QuestionKind::Multiple, &ok.answer, 3, "A", 1),
            Some(0)
        );
        assert_eq!(
            score(QuestionKind::Multiple, &ok.answer, 3, "A,B,C", 1),
            Some(0)
        );
        assert_eq!(score(QuestionKind::Multiple, &ok.answer, 3, "", 1), Some(0));
    }

    #[test]
    fn r4_2_true_false_and_short_answers_score_from_the_key() {
        let tf = q("true_false", "", "Đúng").validate().unwrap();
        assert_eq!(tf.answer, "true");
        assert_eq!(
            score(QuestionKind::TrueFalse, "true", 0, "đúng", 1),
            Some(1)
        );
        assert_eq!(
            score(QuestionKind::TrueFalse, "true", 0, "false", 1),
            Some(0)
        );
        assert!(q("true_false", "", "có lẽ").validate().is_err());
        let sa = q("short_answer", "", "Đổi mới | doi moi")
            .validate()
            .unwrap();
        assert_eq!(
            score(QuestionKind::ShortAnswer, &sa.answer, 0, "  ĐỔI MỚI ", 1),
            Some(1)
        );
        assert_eq!(
            score(QuestionKind::ShortAnswer, &sa.answer, 0, "cải cách", 1),
            Some(0)
        );
    }

    #[test]
    fn r6_3_essays_carry_points_and_wait_for_judges() {
        let mut i = q("essay", "", "");
        i.points = "20".into();
        let e = i.validate().unwrap();
        assert_eq!(e.points, 20);
        assert_eq!(score(QuestionKind::Essay, "", 0, "bài viết", 20), None);
        i.points = "101".into();
        assert!(i.validate().unwrap_err().get("points").is_some());
    }

    #[test]
    fn r4_1_survey_questions_are_not_scored_and_likert_is_one_to_five() {
        let l = q("likert", "", "").validate().unwrap();
        assert_eq!(l.points, 0);
        assert_eq!(normalize_answer(QuestionKind::Likert, 0, "4").unwrap(), "4");
        assert!(normalize_answer(QuestionKind::Likert, 0, "6").is_err());
        assert!(normalize_answer(QuestionKind::Single, 3, "A,B").is_err());
        assert!(normalize_answer(QuestionKind::Single, 3, "D").is_err());
        assert_eq!(
            normalize_answer(QuestionKind::Multiple, 3, "c a").unwrap(),
            "A,C"
        );
        assert!(normalize_answer(QuestionKind::Open, 0, "a\u{202E}b").is_err());
    }

    #[test]
    fn r6_3_ranking_orders_score_then_time_then_guess() {
        let mut v = [
            rank_key(8, 60_000, Some(100), 120, 1),
            rank_key(9, 90_000, None, 120, 2),
            rank_key(8, 60_000, Some(125), 120, 3),
            rank_key(8, 50_000, Some(1), 120, 4),
        ];
        v.sort();
        assert_eq!(v.iter().map(|k| k.3).collect::<Vec<_>>(), vec![2, 4, 3, 1]);
    }

    #[test]
    fn r4_1_a_window_closes_at_its_closing_minute() {
        let o = Utc::now();
        let c = o + chrono::Duration::hours(1);
        assert_eq!(
            window(o, c, o - chrono::Duration::seconds(1)),
            Window::NotYet
        );
        assert_eq!(window(o, c, o), Window::Open);
        assert_eq!(window(o, c, c), Window::Closed);
    }

    #[test]
    fn r4_1_quiz_input_rules() {
        let base = QuizInput {
            kind: "quiz".into(),
            title: "Kiểm tra".into(),
            resolution_id: "1".into(),
            org_id: "2".into(),
            class_id: "3".into(),
            opens_on: "01/12/2026".into(),
            closes_on: "01/12/2026".into(),
            opens_time: "08:00".into(),
            closes_time: "07:00".into(),
            ..Default::default()
        };
        assert!(base.validate().unwrap_err().get("closes_on").is_some());
        let mut ok = base.clone();
        ok.closes_time = "11:00".into();
        assert_eq!(ok.validate().unwrap().kind, QuizKind::Quiz);
        let mut no_class = ok.clone();
        no_class.class_id.clear();
        assert!(no_class.validate().unwrap_err().get("class_id").is_some());
        let mut cell = no_class.clone();
        cell.kind = "cell_quiz".into();
        cell.draw_count = "10".into();
        assert_eq!(cell.validate().unwrap().draw_count, 10);
        let mut public = cell.clone();
        public.public_entry = true;
        assert!(
            !public.validate().unwrap().public_entry,
            "only a contest admits the public"
        );
    }

    #[test]
    fn contest_registration_and_guess() {
        let ok = EntrantInput {
            full_name: "Y Bình Niê".into(),
            phone: "0905 123 456".into(),
            address: "Buôn Ma Thuột".into(),
        }
        .validate()
        .unwrap();
        assert_eq!(ok.phone, "0905123456");
        assert!(EntrantInput::default()
            .validate()
            .unwrap_err()
            .get("phone")
            .is_some());
        assert_eq!(parse_guess("12.500").unwrap(), Some(12_500));
        assert!(parse_guess("-3").is_err());
        assert_eq!(parse_guess("").unwrap(), None);
    }

    #[test]
    fn reflections_need_a_plan_only_when_asked() {
        let i = ReflectionInput {
            body: "Thu hoạch".into(),
            plan: String::new(),
        };
        assert!(i.validate(false).is_ok());
        assert!(i.validate(true).unwrap_err().get("plan").is_some());
    }
}
