//! Anonymous awareness surveys (R3.2, R3.4, R4.1): answers stored without a person, a time or
//! an order that could lead back to one (a random id), the person kept apart only to take their
//! answers once. Results per question: the spread of each choice or level, and the open answers.

use domain::assess::{normalize_answer, Window};
use domain::ids::PersonId;

use super::attempts::{place, window_refusal};
use super::{Quiz, QuizQuestion};
use crate::db::Db;
use crate::db_run;
use crate::error::{Result, StoreError};
use crate::scope::Scope;

/// Answers checked against the survey's questions: (position, normalized value), empty ones
/// left out.
fn checked(qs: &[QuizQuestion], given: &[(i64, String)]) -> Result<Vec<(i64, String)>> {
    let mut out = Vec::new();
    for (pos, raw) in given {
        let Some(q) = qs.iter().find(|q| q.position == *pos) else {
            continue;
        };
        let v = normalize_answer(q.kind(), q.choice_list().len(), raw)
            .map_err(|e| StoreError::rule("invalid_answer", format!("Câu {pos}: {e}")))?;
        if !v.is_empty() {
            out.push((*pos, v));
        }
    }
    Ok(out)
}

/// Stores a response: online from a participant (once: a second response is refused as
/// already given), or from paper by whoever runs the survey (`person` None). No person id is
/// written beside the answers.
pub async fn respond(
    db: &Db,
    scope: &Scope,
    z: &Quiz,
    person: Option<PersonId>,
    given: &[(i64, String)],
) -> Result<()> {
    if z.scored() {
        return Err(StoreError::NotFound);
    }
    let bridge = match person {
        Some(p) => {
            if let Some(e) = window_refusal(z) {
                return Err(e);
            }
            let (_, bridge) = place(db, z, p).await?.ok_or(StoreError::NotFound)?;
            bridge
        }
        None => {
            if !super::runs(db, scope, z).await? {
                return Err(StoreError::Forbidden);
            }
            if z.is_draft() || z.window() == Window::NotYet {
                return Err(window_refusal(z).unwrap_or(StoreError::Forbidden));
            }
            None
        }
    };
    let qs = super::quiz_questions(db, z, false).await?;
    let list = checked(&qs, given)?;
    if list.is_empty() {
        return Err(StoreError::rule(
            "no_answer",
            "Phiếu chưa có câu trả lời nào.".into(),
        ));
    }
    let id = crate::auth::random_token();
    db_run!(db, p => {
        let mut tx = p.begin().await?;
        if let Some(person) = person {
            sqlx::query("INSERT INTO survey_takers (quiz_id, person_id, province_id) SELECT z.id, $2, z.province_id FROM quizzes z WHERE z.id = $1")
                .bind(z.id.0).bind(person.0).execute(&mut *tx).await
                .map_err(|e| match StoreError::unique("person_id")(e) {
                    StoreError::Conflict { .. } => StoreError::rule("already_submitted", "Đồng chí đã gửi phiếu khảo sát này; mỗi người gửi một lần.".into()),
                    other => other,
                })?;
        }
        sqlx::query("INSERT INTO survey_responses (id, quiz_id, province_id, bridge_point_id) SELECT $1, z.id, z.province_id, $3 FROM quizzes z WHERE z.id = $2")
            .bind(&id).bind(z.id.0).bind(bridge).execute(&mut *tx).await?;
        // The questionnaire's row first, then its questions by position: one order for every
        // response, so two never hold each other's rows.
        sqlx::query("UPDATE quizzes SET submitted_count = submitted_count + 1 WHERE id = $1").bind(z.id.0).execute(&mut *tx).await?;
        let mut sorted: Vec<&(i64, String)> = list.iter().collect();
        sorted.sort_by_key(|(pos, _)| *pos);
        for (pos, v) in sorted {
            sqlx::query("INSERT INTO survey_answers (response_id, position, province_id, value) SELECT $1, $2, r.province_id, $3 FROM survey_responses r WHERE r.id = $1")
                .bind(&id).bind(pos).bind(v).execute(&mut *tx).await?;
            sqlx::query("UPDATE quiz_questions SET answered = answered + 1 WHERE quiz_id = $1 AND position = $2")
                .bind(z.id.0).bind(pos).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok::<_, StoreError>(())
    })
}

/// Has this person answered the survey?
pub async fn answered(db: &Db, z: &Quiz, person: PersonId) -> Result<bool> {
    let (b,): (bool,) = db_run!(db, p => sqlx::query_as(
        "SELECT EXISTS (SELECT 1 FROM survey_takers WHERE quiz_id = $1 AND person_id = $2)")
        .bind(z.id.0).bind(person.0).fetch_one(p).await)?;
    Ok(b)
}

/// How one question was answered: each value and how many gave it, and for open questions the
/// answers themselves (at most 200).
#[derive(Debug, Clone)]
pub struct QuestionResult {
    pub question: QuizQuestion,
    pub counts: Vec<(String, i64)>,
    pub texts: Vec<String>,
}

impl QuestionResult {
    /// The label of a stored value (a choice's text, a level, Đúng/Sai).
    pub fn value_label(&self, v: &str) -> String {
        use domain::assess::QuestionKind as K;
        match self.question.kind() {
            K::Single | K::Multiple => v
                .split(',')
                .map(|l| {
                    let i = l
                        .bytes()
                        .next()
                        .map_or(0, |b| usize::from(b.saturating_sub(b'A')));
                    format!(
                        "{l}. {}",
                        self.question.choice_list().get(i).copied().unwrap_or("")
                    )
                })
                .collect::<Vec<_>>()
                .join("; "),
            K::Likert => format!("Mức {v}"),
            K::TrueFalse => {
                if v == "true" {
                    "Đúng".into()
                } else {
                    "Sai".into()
                }
            }
            _ => v.to_string(),
        }
    }
    pub fn total(&self) -> i64 {
        self.counts.iter().map(|(_, n)| n).sum()
    }
    /// The mean level of a Likert question, one decimal ("3,8").
    pub fn mean(&self) -> Option<String> {
        let n = self.total();
        (self.question.kind() == domain::assess::QuestionKind::Likert && n > 0).then(|| {
            let sum: i64 = self
                .counts
                .iter()
                .map(|(v, c)| v.parse::<i64>().unwrap_or(0) * c)
                .sum();
            let tenths = (sum * 10 + n / 2) / n;
            format!("{},{}", tenths / 10, tenths % 10)
        })
    }
}

/// The results of a survey, question by question (bounded by the survey's responses).
pub async fn results(db: &Db, z: &Quiz) -> Result<Vec<QuestionResult>> {
    let qs = super::quiz_questions(db, z, false).await?;
    let counts: Vec<(i64, String, i64)> = db_run!(db, p => sqlx::query_as(
        "SELECT sa.position, sa.value, COUNT(*) FROM survey_answers sa JOIN survey_responses r ON r.id = sa.response_id \
         JOIN quiz_questions qq ON qq.quiz_id = r.quiz_id AND qq.position = sa.position JOIN question_versions v ON v.id = qq.version_id \
         JOIN questions q ON q.id = v.question_id \
         WHERE r.quiz_id = $1 AND q.kind <> 'open' GROUP BY sa.position, sa.value ORDER BY sa.position, sa.value")
        .bind(z.id.0).fetch_all(p).await)?;
    let texts: Vec<(i64, String)> = db_run!(db, p => sqlx::query_as(
        "SELECT sa.position, sa.value FROM survey_answers sa JOIN survey_responses r ON r.id = sa.response_id \
         JOIN quiz_questions qq ON qq.quiz_id = r.quiz_id AND qq.position = sa.position JOIN question_versions v ON v.id = qq.version_id \
         JOIN questions q ON q.id = v.question_id \
         WHERE r.quiz_id = $1 AND q.kind = 'open' ORDER BY sa.position, sa.value LIMIT 2000")
        .bind(z.id.0).fetch_all(p).await)?;
    Ok(qs
        .into_iter()
        .map(|q| QuestionResult {
            counts: counts
                .iter()
                .filter(|(p, _, _)| *p == q.position)
                .map(|(_, v, n)| (v.clone(), *n))
                .collect(),
            texts: texts
                .iter()
                .filter(|(p, _)| *p == q.position)
                .take(200)
                .map(|(_, t)| t.clone())
                .collect(),
            question: q,
        })
        .collect())
}
