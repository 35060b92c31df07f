//! In-app notifications (R3.3, R3.5, R2.6): made in batches for the people concerned, read by
//! each member on their own page. Producers are the emergency changes of a class
//! ([`crate::study::changes`]) and the closing of a class ([`class_finished`]).
//!
//! E-mail: each notification to a person with an address is queued in the outbox in the same
//! transaction (`crate::outbox`); the web crate's mail worker sends it when SMTP is configured.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use domain::ids::PersonId;

use crate::db::Db;
use crate::error::{Result, StoreError};
use crate::study::attendance::ParticipantResult;
use crate::study::classes::Class;
use crate::{db_exec, db_run, now};

/// An emergency change of a class the person is listed in (R2.6).
pub const KIND_CLASS_CHANGE: &str = "class_change";
/// The person missed every session of a finished class (R3.3).
pub const KIND_ABSENT: &str = "absent";
/// The person is on the retake list of a finished class (R3.5).
pub const KIND_RETAKE: &str = "retake";

/// A notification as shown to its person.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Notification {
    pub id: i64,
    /// class_change, absent, retake
    pub kind: String,
    pub title: String,
    pub body: String,
    /// A path in this application ("" when there is none).
    pub link: String,
    pub created_at: DateTime<Utc>,
    /// Null while unread.
    pub read_at: Option<DateTime<Utc>>,
}

impl Notification {
    pub fn is_unread(&self) -> bool {
        self.read_at.is_none()
    }
    /// The Vietnamese name of the kind.
    pub fn kind_label(&self) -> &'static str {
        match self.kind.as_str() {
            KIND_CLASS_CHANGE => "Thay đổi lịch học",
            KIND_ABSENT => "Vắng học",
            KIND_RETAKE => "Phải học lại",
            _ => "Thông báo",
        }
    }
}

/// What a batch says to each of its people.
#[derive(Debug, Clone)]
pub struct NewNotification {
    pub kind: &'static str,
    pub title: String,
    pub body: String,
    pub link: String,
}

/// Creates the same notification for every person in `people` (duplicates ignored), in
/// INSERT … SELECT statements of 10,000 people inside one transaction, each row with its person's
/// province key. Returns how many were made.
pub async fn create_batch(db: &Db, people: &[i64], n: &NewNotification) -> Result<usize> {
    let mut seen = HashSet::new();
    let people: Vec<i64> = people.iter().copied().filter(|p| seen.insert(*p)).collect();
    if people.is_empty() {
        return Ok(0);
    }
    let at = now();
    let digest_at = crate::outbox::next_digest(at);
    let enqueue = crate::outbox::enqueue_sql(db);
    // Each row carries its person's province key (issue 13.6).
    let insert = format!(
        "INSERT INTO notifications (person_id, province_id, kind, title, body, link, created_at) \
         SELECT p.id, p.province_id, $1, $2, $3, $4, $5 FROM people p WHERE p.id IN ({})",
        db.json_ints(6)
    );
    db_run!(db, p => {
        let mut tx = p.begin().await?;
        for chunk in people.chunks(10_000) {
            let list = serde_json::to_string(chunk).map_err(|e| StoreError::Internal(e.to_string()))?;
            sqlx::query(&insert).bind(n.kind).bind(&n.title).bind(&n.body).bind(&n.link).bind(at).bind(&list)
                .execute(&mut *tx).await?;
            // Issue 13.3: their e-mails, in the same transaction.
            sqlx::query(&enqueue).bind(at).bind(n.kind).bind(&list).bind(digest_at).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok::<_, StoreError>(())
    })?;
    Ok(people.len())
}

/// A person's latest notifications, newest first (at most `limit`).
pub async fn list(db: &Db, person: PersonId, limit: i64) -> Result<Vec<Notification>> {
    let sql = "SELECT id, kind, title, body, link, created_at, read_at FROM notifications \
               WHERE person_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2";
    Ok(
        db_run!(db, p => sqlx::query_as::<_, Notification>(sql).bind(person.0).bind(limit.clamp(1, 500)).fetch_all(p).await)?,
    )
}

/// How many of a person's notifications are unread (the badge in the menu).
pub async fn unread_count(db: &Db, person: PersonId) -> Result<i64> {
    let (n,): (i64,) = db_run!(db, p => sqlx::query_as("SELECT COUNT(*) FROM notifications WHERE person_id = $1 AND read_at IS NULL")
        .bind(person.0).fetch_one(p).await)?;
    Ok(n)
}

/// Marks one notification (or, with `None`, all) of this person read. Another person's
/// notification is `NotFound`.
pub async fn mark_read(db: &Db, person: PersonId, id: Option<i64>) -> Result<u64> {
    let at = now();
    match id {
        Some(id) => {
            let row: Option<(i64,)> = db_run!(db, p => sqlx::query_as("SELECT id FROM notifications WHERE id = $1 AND person_id = $2")
                .bind(id).bind(person.0).fetch_optional(p).await)?;
            row.ok_or(StoreError::NotFound)?;
            Ok(
                db_exec!(db, p => sqlx::query("UPDATE notifications SET read_at = $3 WHERE id = $1 AND person_id = $2 AND read_at IS NULL")
                .bind(id).bind(person.0).bind(at).execute(p).await)?,
            )
        }
        None => Ok(
            db_exec!(db, p => sqlx::query("UPDATE notifications SET read_at = $2 WHERE person_id = $1 AND read_at IS NULL")
                .bind(person.0).bind(at).execute(p).await)?,
        ),
    }
}

/// People listed in a class and not removed from its list.
pub(crate) async fn class_people(db: &Db, class_id: i64) -> Result<Vec<i64>> {
    let rows: Vec<(i64,)> = db_run!(db, p => sqlx::query_as("SELECT person_id FROM participants WHERE class_id = $1 AND removed_at IS NULL ORDER BY id")
        .bind(class_id).fetch_all(p).await)?;
    Ok(rows.into_iter().map(|(p,)| p).collect())
}

/// Where a member follows up a class: their own page (members cannot open the class itself).
/// The class id makes the link the key of a class's notifications.
pub fn member_link(class_id: i64) -> String {
    format!("/me#class-{class_id}")
}

/// The resolutions a class studies, as named in a notification: public ones only, by number
/// and title. A classified resolution is never named, not even by its number: the person may
/// lack the clearance to see it (R2.8).
async fn resolution_names(db: &Db, class: &Class) -> Result<String> {
    let rows: Vec<(String, String)> = db_run!(db, p => sqlx::query_as(
        "SELECT r.number, r.title FROM campaign_resolutions cr JOIN resolutions r ON r.id = cr.resolution_id \
         WHERE cr.campaign_id = $1 AND r.classification = 'public' ORDER BY r.released_on, r.id")
        .bind(class.campaign_id).fetch_all(p).await)?;
    if rows.is_empty() {
        return Ok("nội dung của lớp học".into());
    }
    Ok(rows
        .into_iter()
        .map(|(number, title)| format!("{number} ({title})"))
        .collect::<Vec<_>>()
        .join("; "))
}

/// Replaces a kind of a class's notifications: unread ones are deleted and made again for
/// `people`; someone who already read one keeps it and gets no second one. So finishing a class
/// again never duplicates, and someone no longer concerned loses the unread one.
async fn replace_for_class(db: &Db, people: &[i64], n: &NewNotification) -> Result<usize> {
    db_exec!(db, p => sqlx::query("DELETE FROM notifications WHERE kind = $1 AND link = $2 AND read_at IS NULL")
        .bind(n.kind).bind(&n.link).execute(p).await)?;
    let read: Vec<(i64,)> = db_run!(db, p => sqlx::query_as("SELECT DISTINCT person_id FROM notifications WHERE kind = $1 AND link = $2")
        .bind(n.kind).bind(&n.link).fetch_all(p).await)?;
    let read: HashSet<i64> = read.into_iter().map(|(p,)| p).collect();
    let todo: Vec<i64> = people
        .iter()
        .copied()
        .filter(|p| !read.contains(p))
        .collect();
    create_batch(db, &todo, n).await
}

/// What [`class_finished`] sent.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FinishNotices {
    pub absent: usize,
    pub retake: usize,
}

/// After a class is finished: "Vắng học" to everyone who attended no minute of it (R3.3) and
/// "Phải học lại" to everyone on the retake list (R3.5). Idempotent per class.
pub async fn class_finished(
    db: &Db,
    class: &Class,
    results: &[ParticipantResult],
) -> Result<FinishNotices> {
    let names = resolution_names(db, class).await?;
    let link = member_link(class.id);
    let absent: Vec<i64> = results
        .iter()
        .filter(|r| r.summary.class_minutes > 0 && r.summary.attended_minutes == 0)
        .map(|r| r.person_id)
        .collect();
    let retake: Vec<i64> = results
        .iter()
        .filter(|r| r.summary.needs_retake)
        .map(|r| r.person_id)
        .collect();
    let absent_n = NewNotification {
        kind: KIND_ABSENT,
        title: format!("Vắng học: {}", class.title),
        body: format!(
            "Đồng chí đã vắng tất cả các buổi của lớp «{}» ({}) học tập, quán triệt {}. Đề nghị đồng chí liên hệ cấp ủy để học bù ở lớp sau.",
            class.title, class.org_name, names
        ),
        link: link.clone(),
    };
    let retake_n = NewNotification {
        kind: KIND_RETAKE,
        title: format!("Phải học lại: {}", class.title),
        body: format!(
            "Đồng chí vắng quá {}% thời lượng lớp «{}» ({}) nên phải học lại {}.",
            class.retake_threshold, class.title, class.org_name, names
        ),
        link,
    };
    Ok(FinishNotices {
        absent: replace_for_class(db, &absent, &absent_n).await?,
        retake: replace_for_class(db, &retake, &retake_n).await?,
    })
}
