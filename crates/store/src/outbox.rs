//! The e-mail outbox (issue 13.3). Notifications are e-mailed to the people who have an address,
//! unless their account asks for none (`email_mode = 'off'`) or for one digest a day
//! (`'digest'`). A row is written in the transaction of its notification ([`enqueue_sql`]), so a
//! crash after the commit loses nothing; a worker ([`claim`], [`mark_sent`], [`retry`]) sends it
//! and marks it sent once the SMTP server accepted it. Claims are leases: a worker that dies with
//! a claim leaves the rows to another after [`LEASE`].
//!
//! Delivery is at least once: a worker killed after the server accepted a message and before it
//! marked the row lets the message be sent again, with the same `Message-ID` (see
//! [`OutboxMail::message_id`]). A row marked sent is never sent again.

use chrono::{DateTime, Duration, NaiveTime, Utc};

use crate::db::Db;
use crate::error::{Result, StoreError};
use crate::{db_exec, db_run, now};

/// How long a claim holds its rows (longer than one send may take).
pub const LEASE: Duration = Duration::seconds(30);
/// Attempts before a message is given up (with the backoff below: about 20 hours).
pub const MAX_ATTEMPTS: i64 = 12;
/// The hour (Vietnam time, UTC+7) at which the daily digests go.
pub const DIGEST_HOUR: u32 = 17;

/// The wait before attempt `attempts + 1`: 5 s, 10 s, 20 s … at most 4 hours.
pub fn backoff(attempts: i64) -> Duration {
    let exp = attempts.clamp(1, 20) - 1;
    Duration::seconds((5_i64 << exp).min(4 * 3600))
}

/// The next digest time after `at`: today's [`DIGEST_HOUR`] in Vietnam, or tomorrow's.
pub fn next_digest(at: DateTime<Utc>) -> DateTime<Utc> {
    let local = domain::study::utc_to_local(at);
    let hour = NaiveTime::from_hms_opt(DIGEST_HOUR, 0, 0).unwrap_or_default();
    let mut day = local.date();
    if local.time() >= hour {
        day = day.succ_opt().unwrap_or(day);
    }
    domain::study::local_to_utc(day.and_time(hour))
}

/// The statement that queues the e-mails of the notifications just written in the same
/// transaction: `$1` their `created_at`, `$2` their kind, `$3` the JSON array of their people,
/// `$4` the next digest time. Addresses without `@` are skipped.
pub(crate) fn enqueue_sql(db: &Db) -> String {
    format!(
        "INSERT INTO email_outbox (notification_id, person_id, province_id, to_address, subject, body, link, digest, created_at, next_attempt_at) \
         SELECT n.id, n.person_id, n.province_id, p.email, n.title, n.body, n.link, COALESCE(a.email_mode, 'each') = 'digest', n.created_at, \
                CASE WHEN COALESCE(a.email_mode, 'each') = 'digest' THEN $4 ELSE n.created_at END \
         FROM notifications n JOIN people p ON p.id = n.person_id LEFT JOIN accounts a ON a.person_id = n.person_id \
         WHERE n.created_at = $1 AND n.kind = $2 AND n.person_id IN ({}) \
           AND p.email LIKE '%_@_%' AND COALESCE(a.email_mode, 'each') <> 'off' \
         ON CONFLICT (notification_id) DO NOTHING",
        db.json_ints(3)
    )
}

/// One message to send, as claimed.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OutboxMail {
    pub id: i64,
    pub person_id: i64,
    pub to_address: String,
    pub subject: String,
    pub body: String,
    pub link: String,
    pub digest: bool,
    pub created_at: DateTime<Utc>,
    pub attempts: i32,
    /// The person's name, for the greeting.
    pub full_name: String,
}

impl OutboxMail {
    /// The stable `Message-ID` of this row (the same on a retry), at `domain`.
    pub fn message_id(&self, domain: &str) -> String {
        format!("<qt-{}-{}@{domain}>", self.id, self.created_at.timestamp())
    }
}

/// Claims up to `limit` due messages for [`LEASE`]; each claim counts as an attempt.
pub async fn claim(db: &Db, limit: i64) -> Result<Vec<OutboxMail>> {
    let at = now();
    let until = at + LEASE;
    // PostgreSQL: several instances claim disjoint rows (SKIP LOCKED); SQLite has one writer.
    let lock = match db {
        Db::Postgres(_) => "FOR UPDATE SKIP LOCKED",
        Db::Sqlite(_) => "",
    };
    let sql = format!(
        "WITH c AS (UPDATE email_outbox SET claimed_until = $2, attempts = attempts + 1 \
            WHERE id IN (SELECT id FROM email_outbox WHERE sent_at IS NULL AND failed_at IS NULL \
                AND next_attempt_at <= $1 AND (claimed_until IS NULL OR claimed_until < $1) \
                ORDER BY next_attempt_at, id LIMIT $3 {lock}) \
            RETURNING id, person_id, to_address, subject, body, link, digest, created_at, attempts) \
         SELECT c.*, p.full_name FROM c JOIN people p ON p.id = c.person_id ORDER BY c.id"
    );
    let rows = match db {
        Db::Postgres(p) => {
            sqlx::query_as::<_, OutboxMail>(&sql)
                .bind(at)
                .bind(until)
                .bind(limit)
                .fetch_all(p)
                .await?
        }
        // SQLite has no UPDATE in a WITH: claim, then read what was claimed by its lease mark.
        Db::Sqlite(p) => {
            let mut tx = p.begin().await?;
            let ids: Vec<(i64,)> = sqlx::query_as(
                "UPDATE email_outbox SET claimed_until = $2, attempts = attempts + 1 \
                 WHERE id IN (SELECT id FROM email_outbox WHERE sent_at IS NULL AND failed_at IS NULL \
                    AND next_attempt_at <= $1 AND (claimed_until IS NULL OR claimed_until < $1) \
                    ORDER BY next_attempt_at, id LIMIT $3) RETURNING id",
            )
            .bind(at)
            .bind(until)
            .bind(limit)
            .fetch_all(&mut *tx)
            .await?;
            let ids: Vec<i64> = ids.into_iter().map(|(i,)| i).collect();
            let list =
                serde_json::to_string(&ids).map_err(|e| StoreError::Internal(e.to_string()))?;
            let rows = sqlx::query_as::<_, OutboxMail>(
                "SELECT o.id, o.person_id, o.to_address, o.subject, o.body, o.link, o.digest, o.created_at, o.attempts, p.full_name \
                 FROM email_outbox o JOIN people p ON p.id = o.person_id \
                 WHERE o.id IN (SELECT value FROM json_each($1)) ORDER BY o.id",
            )
            .bind(list)
            .fetch_all(&mut *tx)
            .await?;
            tx.commit().await?;
            rows
        }
    };
    Ok(rows)
}

/// Marks messages sent (the SMTP server accepted them).
pub async fn mark_sent(db: &Db, ids: &[i64]) -> Result<()> {
    let list = serde_json::to_string(ids).map_err(|e| StoreError::Internal(e.to_string()))?;
    let sql = format!(
        "UPDATE email_outbox SET sent_at = $1, claimed_until = NULL, last_error = NULL WHERE id IN ({})",
        db.json_ints(2)
    );
    db_exec!(db, p => sqlx::query(&sql).bind(now()).bind(&list).execute(p).await)?;
    Ok(())
}

/// A failed attempt: the message waits [`backoff`], or is given up after [`MAX_ATTEMPTS`].
pub async fn retry(db: &Db, ids: &[i64], attempts: i64, error: &str) -> Result<()> {
    let list = serde_json::to_string(ids).map_err(|e| StoreError::Internal(e.to_string()))?;
    let at = now();
    let error: String = error.chars().take(500).collect();
    let (next, failed) = if attempts >= MAX_ATTEMPTS {
        (at, Some(at))
    } else {
        (at + backoff(attempts), None)
    };
    let sql = format!(
        "UPDATE email_outbox SET claimed_until = NULL, next_attempt_at = $1, failed_at = $2, last_error = $3 WHERE id IN ({})",
        db.json_ints(4)
    );
    db_exec!(db, p => sqlx::query(&sql).bind(next).bind(failed).bind(&error).bind(&list).execute(p).await)?;
    Ok(())
}

/// Messages waiting to be sent (not sent, not given up): the outbox depth for `/metrics`.
pub async fn depth(db: &Db) -> Result<i64> {
    let (n,): (i64,) = db_run!(db, p => sqlx::query_as(
        "SELECT COUNT(*) FROM email_outbox WHERE sent_at IS NULL AND failed_at IS NULL")
        .fetch_one(p).await)?;
    Ok(n)
}

/// How an account wants its notifications by e-mail.
pub async fn email_mode(db: &Db, account: domain::ids::AccountId) -> Result<String> {
    let (m,): (String,) = db_run!(db, p => sqlx::query_as("SELECT email_mode FROM accounts WHERE id = $1")
        .bind(account.0).fetch_one(p).await)?;
    Ok(m)
}

/// Sets it: `each`, `digest` or `off`.
pub async fn set_email_mode(db: &Db, account: domain::ids::AccountId, mode: &str) -> Result<()> {
    if !["each", "digest", "off"].contains(&mode) {
        return Err(StoreError::rule(
            "email_mode_invalid",
            "cách nhận thư không hợp lệ".into(),
        ));
    }
    db_exec!(db, p => sqlx::query("UPDATE accounts SET email_mode = $2 WHERE id = $1")
        .bind(account.0).bind(mode).execute(p).await)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn backoff_doubles_to_four_hours() {
        assert_eq!(backoff(1), Duration::seconds(5));
        assert_eq!(backoff(2), Duration::seconds(10));
        assert_eq!(backoff(4), Duration::seconds(40));
        assert_eq!(backoff(30), Duration::hours(4));
    }

    #[test]
    fn digest_goes_at_five_in_the_afternoon_in_vietnam() {
        // 09:00 in Vietnam (02:00 UTC): the same day at 17:00 (10:00 UTC).
        let morning = Utc
            .with_ymd_and_hms(2026, 11, 30, 2, 0, 0)
            .single()
            .expect("time");
        assert_eq!(
            next_digest(morning),
            Utc.with_ymd_and_hms(2026, 11, 30, 10, 0, 0)
                .single()
                .expect("time")
        );
        // 18:00 in Vietnam: tomorrow.
        let evening = Utc
            .with_ymd_and_hms(2026, 11, 30, 11, 0, 0)
            .single()
            .expect("time");
        assert_eq!(
            next_digest(evening),
            Utc.with_ymd_and_hms(2026, 12, 1, 10, 0, 0)
                .single()
                .expect("time")
        );
    }
}
