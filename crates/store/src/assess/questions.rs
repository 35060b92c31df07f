//! Question banks per resolution (R4.1, R2.7): questions kept in versions — an edit writes a
//! new version and moves the question's pointer; a published questionnaire holds the versions
//! it was published with, so it never changes under the people taking it.
//!
//! A bank is kept by organizers (the answer keys are in it): the questions an organization's
//! organizers wrote, and those of the organizations above it, which its questionnaires draw on.

use chrono::{DateTime, Utc};
use domain::assess::{Difficulty, NewQuestion, QuestionKind};
use domain::ids::{OrgId, QuestionId, ResolutionId};
use domain::resolutions::Classification;
use domain::study::AudienceTier;

use crate::db::Db;
use crate::db_run;
use crate::error::{Result, StoreError};
use crate::resolutions::Resolution;
use crate::scope::{roles_sql, Scope, WRITE};

/// Inserts a question and its first version inside a transaction; the new question's id.
macro_rules! insert_in {
    ($tx:expr, $scope:expr, $resolution:expr, $org:expr, $q:expr) => {
        async {
            let at = crate::now();
            let (id,): (i64,) = sqlx::query_as(
                "INSERT INTO questions (resolution_id, org_id, province_id, kind, tier, difficulty, version, created_by, created_at) \
                 SELECT $1, o.id, o.province_id, $3, $4, $5, 1, $6, $7 FROM orgs o WHERE o.id = $2 RETURNING id")
                .bind($resolution).bind($org.0).bind($q.kind.code()).bind($q.tier.map(|t: domain::study::AudienceTier| t.code()))
                .bind($q.difficulty.code()).bind($scope.account_id.0).bind(at)
                .fetch_one(&mut *$tx).await?;
            let (v,): (i64,) = sqlx::query_as(
                "INSERT INTO question_versions (question_id, province_id, version, prompt, choices, answer, points, created_by, created_at) \
                 SELECT q.id, q.province_id, 1, $2, $3, $4, $5, $6, $7 FROM questions q WHERE q.id = $1 RETURNING id")
                .bind(id).bind(&$q.prompt).bind(&$q.choices).bind(&$q.answer).bind($q.points).bind($scope.account_id.0).bind(at)
                .fetch_one(&mut *$tx).await?;
            sqlx::query("UPDATE questions SET current_version_id = $2 WHERE id = $1").bind(id).bind(v).execute(&mut *$tx).await?;
            Ok::<i64, StoreError>(id)
        }.await
    };
}

/// Writes a new version of `old` inside a transaction.
macro_rules! edit_in {
    ($tx:expr, $scope:expr, $old:expr, $q:expr) => {
        async {
            let (v,): (i64,) = sqlx::query_as(
                "INSERT INTO question_versions (question_id, province_id, version, prompt, choices, answer, points, created_by, created_at) \
                 SELECT q.id, q.province_id, q.version + 1, $2, $3, $4, $5, $6, $7 FROM questions q WHERE q.id = $1 RETURNING id")
                .bind($old.id.0).bind(&$q.prompt).bind(&$q.choices).bind(&$q.answer).bind($q.points).bind($scope.account_id.0).bind(crate::now())
                .fetch_one(&mut *$tx).await?;
            sqlx::query("UPDATE questions SET current_version_id = $2, version = version + 1, kind = $3, tier = $4, difficulty = $5 WHERE id = $1")
                .bind($old.id.0).bind(v).bind($q.kind.code()).bind($q.tier.map(|t: domain::study::AudienceTier| t.code())).bind($q.difficulty.code())
                .execute(&mut *$tx).await?;
            Ok::<(), StoreError>(())
        }.await
    };
}

/// Rows of a bank page.
pub const PAGE: i64 = 50;

/// A question at its current version (or at the version a questionnaire holds).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Question {
    #[sqlx(try_from = "i64")]
    pub id: QuestionId,
    pub resolution_id: i64,
    pub org_id: i64,
    pub org_name: String,
    pub kind: String,
    pub tier: Option<String>,
    pub difficulty: String,
    pub version: i64,
    pub retired: bool,
    pub version_id: i64,
    pub prompt: String,
    pub choices: String,
    pub answer: String,
    pub points: i64,
    pub created_at: DateTime<Utc>,
}

impl Question {
    pub fn kind(&self) -> QuestionKind {
        QuestionKind::parse(&self.kind).unwrap_or(QuestionKind::Open)
    }
    pub fn kind_label(&self) -> &'static str {
        self.kind().label()
    }
    pub fn tier_label(&self) -> &'static str {
        self.tier
            .as_deref()
            .and_then(|t| AudienceTier::parse(t).ok())
            .map_or("Mọi đối tượng", AudienceTier::label)
    }
    pub fn difficulty_label(&self) -> &'static str {
        Difficulty::parse(&self.difficulty).map_or("", Difficulty::label)
    }
    /// The choices, one per line.
    pub fn choice_list(&self) -> Vec<&str> {
        choice_list(&self.choices)
    }
    /// The key as readers write it ("A, C", "Đúng", "a | b").
    pub fn answer_label(&self) -> String {
        answer_label(self.kind(), &self.answer)
    }
}

/// The lines of a stored choice list.
pub fn choice_list(choices: &str) -> Vec<&str> {
    choices.lines().filter(|l| !l.is_empty()).collect()
}

/// A stored key as readers write it.
pub fn answer_label(kind: QuestionKind, answer: &str) -> String {
    match kind {
        QuestionKind::TrueFalse => match answer {
            "true" => "Đúng".into(),
            "false" => "Sai".into(),
            _ => String::new(),
        },
        QuestionKind::ShortAnswer => answer.replace('|', " | "),
        _ => answer.replace(',', ", "),
    }
}

pub(crate) const COLUMNS: &str = "SELECT q.id, q.resolution_id, q.org_id, o.name AS org_name, q.kind, q.tier, q.difficulty, \
     q.version, q.retired, v.id AS version_id, v.prompt, v.choices, v.answer, v.points, v.created_at \
     FROM questions q JOIN orgs o ON o.id = q.org_id JOIN question_versions v ON v.id = q.current_version_id";

/// SQL true when the caller (account `$param`) keeps the bank of the question `q`: an organizer
/// of its organization or of one above it, or of an organization below it (whose
/// questionnaires draw on it).
fn keeps_bank(param: usize) -> String {
    let roles = roles_sql(WRITE);
    format!(
        "({} OR EXISTS (SELECT 1 FROM org_closure c JOIN role_grants g ON g.org_id = c.descendant_id \
         WHERE c.ancestor_id = q.org_id AND g.account_id = ${param} AND g.role IN ({roles})))",
        Scope::probe_sql("q.org_id", param, WRITE)
    )
}

/// Refuses questions on a classified resolution: its content may not be on a networked system
/// (R2.8), and a question and its key are content. Its understanding is checked on paper.
pub fn refuse_classified(r: &Resolution) -> Result<()> {
    if Classification::parse(&r.classification).map_or(true, Classification::is_classified) {
        return Err(StoreError::rule(
            "classified_questions",
            format!(
                "Câu hỏi: {} là văn bản mật; câu hỏi và đáp án về nội dung văn bản mật không được lưu trên hệ thống nối mạng. Hãy kiểm tra nhận thức bằng phiếu giấy theo quy định bảo vệ bí mật nhà nước.",
                r.display_name()
            ),
        ));
    }
    Ok(())
}

/// Adds a question to `r`'s bank, owned by `org` (organizer of `org`). Audited.
pub async fn create(
    db: &Db,
    scope: &Scope,
    r: &Resolution,
    org: OrgId,
    q: &NewQuestion,
) -> Result<QuestionId> {
    scope.require(db, org, WRITE).await?;
    refuse_classified(r)?;
    let detail = format!("{}: {}", r.display_name(), short(&q.prompt));
    let id = db_run!(db, p => {
        let mut tx = p.begin().await?;
        let id = insert_in!(&mut *tx, scope, r.id, org, q)?;
        crate::audit_in!(&mut *tx, scope, "create", "question", id, Some(org), &detail)?;
        tx.commit().await?;
        Ok::<_, StoreError>(id)
    })?;
    Ok(QuestionId(id))
}

/// Edits a question: a new version (the old one stays with the questionnaires that hold it).
/// Organizer of the question's organization; audited with both versions.
pub async fn edit(db: &Db, scope: &Scope, old: &Question, q: &NewQuestion) -> Result<()> {
    scope.require(db, OrgId(old.org_id), WRITE).await?;
    let detail = format!(
        "v{} -> v{}: {}",
        old.version,
        old.version + 1,
        short(&q.prompt)
    );
    db_run!(db, p => {
        let mut tx = p.begin().await?;
        edit_in!(&mut *tx, scope, old, q)?;
        crate::audit_in!(&mut *tx, scope, "update", "question", old.id.0, Some(OrgId(old.org_id)), &detail)?;
        tx.commit().await?;
        Ok::<_, StoreError>(())
    })
}

/// Takes a question out of (or back into) the bank: new questionnaires no longer draw it;
/// those published keep it. Audited.
pub async fn set_retired(db: &Db, scope: &Scope, q: &Question, retired: bool) -> Result<()> {
    scope.require(db, OrgId(q.org_id), WRITE).await?;
    db_run!(db, p => {
        let mut tx = p.begin().await?;
        sqlx::query("UPDATE questions SET retired = $2 WHERE id = $1").bind(q.id.0).bind(retired).execute(&mut *tx).await?;
        crate::audit_in!(&mut *tx, scope, if retired { "retire" } else { "restore" }, "question", q.id.0, Some(OrgId(q.org_id)), &short(&q.prompt))?;
        tx.commit().await?;
        Ok::<_, StoreError>(())
    })
}

/// One question the caller keeps.
pub async fn get(db: &Db, scope: &Scope, id: QuestionId) -> Result<Question> {
    let sql = format!("{COLUMNS} WHERE q.id = $2 AND {}", keeps_bank(1));
    db_run!(db, p => sqlx::query_as::<_, Question>(&sql).bind(scope.account_id.0).bind(id.0).fetch_optional(p).await)?
        .ok_or(StoreError::NotFound)
}

/// The versions of a question, newest first.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Version {
    pub version: i64,
    pub prompt: String,
    pub choices: String,
    pub answer: String,
    pub created_at: DateTime<Utc>,
}

pub async fn versions(db: &Db, q: &Question) -> Result<Vec<Version>> {
    Ok(db_run!(db, p => sqlx::query_as::<_, Version>(
        "SELECT version, prompt, choices, answer, created_at FROM question_versions WHERE question_id = $1 ORDER BY version DESC LIMIT 100")
        .bind(q.id.0).fetch_all(p).await)?)
}

/// The bank of a resolution the caller keeps, oldest first, a page after the question `after`.
pub async fn list(
    db: &Db,
    scope: &Scope,
    resolution: ResolutionId,
    after: Option<i64>,
) -> Result<(Vec<Question>, Option<i64>)> {
    let sql = format!(
        "{COLUMNS} WHERE q.resolution_id = $2 AND q.id > $3 AND {} ORDER BY q.id LIMIT $4",
        keeps_bank(1)
    );
    let rows = db_run!(db, p => sqlx::query_as::<_, Question>(&sql).bind(scope.account_id.0).bind(resolution.0)
        .bind(after.unwrap_or(0)).bind(PAGE + 1).fetch_all(p).await)?;
    let (rows, more) = crate::page_and_more(rows, usize::try_from(PAGE).unwrap_or(50));
    let next = more.then(|| rows.last().map(|q| q.id.0)).flatten();
    Ok((rows, next))
}

/// Every question of a resolution's bank the caller keeps (for the xlsx), at most 5,000.
pub async fn all(db: &Db, scope: &Scope, resolution: ResolutionId) -> Result<Vec<Question>> {
    let sql = format!(
        "{COLUMNS} WHERE q.resolution_id = $2 AND {} ORDER BY q.id LIMIT 5000",
        keeps_bank(1)
    );
    Ok(
        db_run!(db, p => sqlx::query_as::<_, Question>(&sql).bind(scope.account_id.0).bind(resolution.0).fetch_all(p).await)?,
    )
}

/// How many questions of each resolution the caller keeps (the banks' index).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct BankCount {
    pub resolution_id: i64,
    pub questions: i64,
}

pub async fn counts(db: &Db, scope: &Scope) -> Result<Vec<BankCount>> {
    let sql = format!(
        "SELECT q.resolution_id, COUNT(*) AS questions FROM questions q WHERE NOT q.retired AND {} GROUP BY q.resolution_id",
        keeps_bank(1)
    );
    Ok(
        db_run!(db, p => sqlx::query_as::<_, BankCount>(&sql).bind(scope.account_id.0).fetch_all(p).await)?,
    )
}

/// The first words of a prompt, for audit entries.
pub(crate) fn short(s: &str) -> String {
    let mut t: String = s.chars().take(80).collect();
    if s.chars().count() > 80 {
        t.push('…');
    }
    t
}

/// Imports rows of a bank (already validated): new questions, and for a row naming a question
/// of this resolution the caller keeps, a new version when its text changed. All or nothing;
/// audited once. Returns (added, new versions).
pub async fn import(
    db: &Db,
    scope: &Scope,
    r: &Resolution,
    org: OrgId,
    rows: &[(Option<QuestionId>, NewQuestion)],
) -> Result<(usize, usize)> {
    scope.require(db, org, WRITE).await?;
    refuse_classified(r)?;
    let mut edits = Vec::new();
    for (id, q) in rows {
        if let Some(id) = id {
            let old = get(db, scope, *id).await.map_err(|_| {
                StoreError::rule(
                    "unknown_question",
                    format!(
                        "Mã câu {}: không có câu hỏi này trong ngân hàng của bạn.",
                        id.0
                    ),
                )
            })?;
            if old.resolution_id != r.id {
                return Err(StoreError::rule(
                    "unknown_question",
                    format!("Mã câu {}: câu hỏi thuộc văn bản khác.", id.0),
                ));
            }
            let same = old.prompt == q.prompt
                && old.choices == q.choices
                && old.answer == q.answer
                && old.points == q.points
                && old.kind == q.kind.code()
                && old.tier.as_deref() == q.tier.map(|t| t.code())
                && old.difficulty == q.difficulty.code();
            // Only a changed row needs the right to edit its question: an exported bank holds
            // the questions of the organizations above too, and comes back unchanged.
            if !same {
                scope.require(db, OrgId(old.org_id), WRITE).await?;
                edits.push((old, q));
            }
        }
    }
    let added: Vec<&NewQuestion> = rows
        .iter()
        .filter(|(id, _)| id.is_none())
        .map(|(_, q)| q)
        .collect();
    let detail = format!(
        "{}: {} câu mới, {} câu sửa",
        r.display_name(),
        added.len(),
        edits.len()
    );
    let (a, e) = (added.len(), edits.len());
    db_run!(db, p => {
        let mut tx = p.begin().await?;
        for q in &added {
            insert_in!(&mut *tx, scope, r.id, org, q)?;
        }
        for (old, q) in &edits {
            edit_in!(&mut *tx, scope, old, q)?;
        }
        crate::audit_in!(&mut *tx, scope, "import", "question", r.id, Some(org), &detail)?;
        tx.commit().await?;
        Ok::<_, StoreError>(())
    })?;
    Ok((a, e))
}
