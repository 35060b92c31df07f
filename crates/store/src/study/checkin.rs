//! Check-ins (R3.4): QR self check-in, operator check-in and offline queues.
//!
//! Every check-in is an event with an id made where it happened; the attendance mark of the
//! participant is recomputed from their events, so replays, reordering and several devices all
//! converge on one record. Writes go through one [`CheckinWriter`] per process, which commits
//! the check-ins waiting at that moment in one transaction (group commit) and answers each caller
//! only after that commit.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use domain::study::{minutes_from_times, CheckinId, CheckinSource, Direction};
use hmac::{Hmac, Mac};
use serde::Serialize;
use sha2::Sha256;
use tokio::sync::{mpsc, oneshot};

use crate::db::{placeholders, Db};
use crate::error::{Result, StoreError};
use crate::scope::{Scope, ATTEND};
use crate::{db_run, now};

/// What a check-in needs to know of its session and class.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SessionFacts {
    pub session_id: i64,
    pub class_id: i64,
    pub class_org_id: i64,
    pub class_title: String,
    pub topic: String,
    pub starts_at: DateTime<Utc>,
    pub duration_minutes: i64,
    pub session_status: String,
    pub class_status: String,
}

impl SessionFacts {
    /// Why this session takes no check-ins at `now`, if it does not. Check-in opens 12 hours
    /// before the start and stays open after the end (operators enter late queues and paper).
    pub fn refusal(&self, now: DateTime<Utc>) -> Option<&'static str> {
        if now < domain::study::opens_at(self.starts_at) {
            Some("Buổi học chưa mở điểm danh: điểm danh mở từ 12 giờ trước giờ bắt đầu.")
        } else if self.class_status == "finished" {
            Some("Lớp học đã kết thúc; không nhận điểm danh nữa.")
        } else if self.class_status == "cancelled" || self.session_status == "cancelled" {
            Some("Buổi học đã bị hủy.")
        } else {
            None
        }
    }
}

/// The session's facts, without any scope check: callers check access with [`attendable`] or
/// [`own_participant`].
pub async fn session_facts(db: &Db, session_id: i64) -> Result<SessionFacts> {
    let sql = "SELECT s.id AS session_id, k.id AS class_id, k.org_id AS class_org_id, k.title AS class_title, s.topic, \
               s.starts_at, s.duration_minutes, s.status AS session_status, k.status AS class_status \
               FROM study_sessions s JOIN classes k ON k.id = s.class_id WHERE s.id = $1";
    let row: Option<SessionFacts> =
        db_run!(db, p => sqlx::query_as(sql).bind(session_id).fetch_optional(p).await)?;
    row.ok_or(StoreError::NotFound)
}

/// A participant as the check-in pages and the API name them.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Attendee {
    pub participant_id: i64,
    pub person_id: i64,
    pub full_name: String,
    pub party_card_number: Option<String>,
}

/// The participants of the session's class, among `ids` and `cards`, whom the caller may check
/// in: everyone when they hold at least secretary on the class's organization, otherwise those
/// of the bridge points in their subtree (R2.2). Removed participants are never returned.
pub async fn attendable(
    db: &Db,
    scope: &Scope,
    facts: &SessionFacts,
    ids: &[i64],
    cards: &[String],
) -> Result<Vec<Attendee>> {
    let mut out = Vec::new();
    if !ids.is_empty() {
        out.extend(
            attendable_by(
                db,
                scope,
                facts,
                "pt.id",
                ids.iter().map(|i| Key::Id(*i)).collect(),
            )
            .await?,
        );
    }
    if !cards.is_empty() {
        out.extend(
            attendable_by(
                db,
                scope,
                facts,
                "p.party_card_number",
                cards.iter().map(|c| Key::Card(c.clone())).collect(),
            )
            .await?,
        );
    }
    out.sort_by_key(|a| a.participant_id);
    out.dedup_by_key(|a| a.participant_id);
    Ok(out)
}

enum Key {
    Id(i64),
    Card(String),
}

/// [`attendable`] for one kind of key. The named keys drive the query (`+pt.class_id` keeps
/// the planner from scanning a large class by its class index instead).
async fn attendable_by(
    db: &Db,
    scope: &Scope,
    facts: &SessionFacts,
    column: &str,
    keys: Vec<Key>,
) -> Result<Vec<Attendee>> {
    let sql = format!(
        "SELECT pt.id AS participant_id, pt.person_id, p.full_name, p.party_card_number \
         FROM participants pt JOIN people p ON p.id = pt.person_id \
         WHERE {column} IN ({}) AND +pt.class_id = $2 AND pt.removed_at IS NULL \
         AND (EXISTS (SELECT 1 FROM orgs o WHERE o.id = $3 AND {}) \
              OR EXISTS (SELECT 1 FROM bridge_points b WHERE b.id = pt.bridge_point_id AND {}))",
        placeholders(4, keys.len()),
        Scope::subtree_sql("o.id", 1, ATTEND),
        Scope::subtree_sql("b.org_id", 1, ATTEND),
    );
    let rows: Vec<Attendee> = db_run!(db, p => {
        let mut q = sqlx::query_as(&sql).bind(scope.account_id.0).bind(facts.class_id).bind(facts.class_org_id);
        for k in &keys {
            q = match k {
                Key::Id(i) => q.bind(*i),
                Key::Card(c) => q.bind(c.clone()),
            };
        }
        q.fetch_all(p).await
    })?;
    Ok(rows)
}

/// The caller's own participant row in the session's class (QR self check-in), if listed.
pub async fn own_participant(
    db: &Db,
    scope: &Scope,
    facts: &SessionFacts,
) -> Result<Option<Attendee>> {
    let Some(person) = scope.person_id else {
        return Ok(None);
    };
    let sql = "SELECT pt.id AS participant_id, pt.person_id, p.full_name, p.party_card_number \
               FROM participants pt JOIN people p ON p.id = pt.person_id \
               WHERE pt.class_id = $1 AND pt.person_id = $2 AND pt.removed_at IS NULL";
    Ok(
        db_run!(db, p => sqlx::query_as(sql).bind(facts.class_id).bind(person.0).fetch_optional(p).await)?,
    )
}

/// One check-in, validated and authorized, ready to be written.
#[derive(Debug, Clone)]
pub struct Checkin {
    pub id: CheckinId,
    pub session_id: i64,
    pub participant_id: i64,
    pub direction: Direction,
    pub at: DateTime<Utc>,
    pub source: CheckinSource,
    pub device_id: Option<String>,
    pub recorded_by: Option<i64>,
}

/// How many participants of a session are present: on the list (not removed), with a check-in
/// or a "present" mark recorded by hand. The one definition shown by the QR screen and the
/// operator page (issue 11.4: the two used to count differently).
pub async fn present_count(db: &Db, session_id: i64) -> Result<i64> {
    Ok(roster_counts(db, session_id, &super::classes::Access::Full)
        .await?
        .1)
}

/// How many participants of a session the caller's access covers, and how many of them are
/// present by the definition of [`present_count`].
pub async fn roster_counts(
    db: &Db,
    session_id: i64,
    access: &super::classes::Access,
) -> Result<(i64, i64)> {
    let sql = format!(
        "SELECT COUNT(*), CAST(COALESCE(SUM(CASE WHEN \
           EXISTS (SELECT 1 FROM attendance a WHERE a.session_id = s.id AND a.participant_id = pt.id AND a.status = 'present') \
           OR EXISTS (SELECT 1 FROM checkins c WHERE c.session_id = s.id AND c.participant_id = pt.id AND c.direction = 'in') \
         THEN 1 ELSE 0 END), 0) AS BIGINT) \
         FROM participants pt JOIN study_sessions s ON s.class_id = pt.class_id \
         WHERE s.id = $1 AND pt.removed_at IS NULL AND {}",
        access.participant_sql()
    );
    Ok(db_run!(db, p => sqlx::query_as(&sql).bind(session_id).fetch_one(p).await)?)
}

/// One participant as the check-in roster shows them: who, how to tell namesakes apart, and
/// where they stand in this session.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RosterRow {
    pub participant_id: i64,
    pub full_name: String,
    pub card: Option<String>,
    pub org_name: String,
    pub bridge_point_name: Option<String>,
    pub first_in: Option<DateTime<Utc>>,
    pub last_out: Option<DateTime<Utc>>,
    /// The hand-made mark, when there is one.
    pub status: Option<String>,
}

impl RosterRow {
    /// Present by the one definition of [`present_count`].
    pub fn is_in(&self) -> bool {
        self.first_in.is_some() || self.status.as_deref() == Some("present")
    }
}

/// Words of a roster search that count.
const ROSTER_WORDS: usize = 5;

/// A part of a session's roster within the caller's access, in Vietnamese name order: the rows
/// after participant `after` (keyset on the sort key and the participant id, so a row removed
/// or added between two pages never shifts the next one), whose folded name or card number holds
/// every word of `q`, at most `limit` of them. Issue 11.12: the operator's page shows a part;
/// the whole roster goes to the page's script as compact data.
pub async fn roster(
    db: &Db,
    facts: &SessionFacts,
    access: &super::classes::Access,
    q: &str,
    after: Option<i64>,
    limit: i64,
) -> Result<Vec<RosterRow>> {
    let mut words: Vec<String> = domain::text::fold(q)
        .split_whitespace()
        .map(|w| w.replace(['%', '_'], ""))
        .filter(|w| !w.is_empty())
        .take(ROSTER_WORDS)
        .map(|w| format!("%{w}%"))
        .collect();
    words.resize(ROSTER_WORDS, "%%".into());
    let word_sql = (0..ROSTER_WORDS)
        .map(|i| {
            let n = i + 5;
            format!("(${n} = '%%' OR p.name_folded LIKE ${n} OR p.party_card_number LIKE ${n})")
        })
        .collect::<Vec<_>>()
        .join(" AND ");
    let sql = format!(
        "SELECT pt.id AS participant_id, p.full_name, p.party_card_number AS card, o.name AS org_name, b.name AS bridge_point_name, \
         (SELECT MIN(c.at) FROM checkins c WHERE c.session_id = $2 AND c.participant_id = pt.id AND c.direction = 'in') AS first_in, \
         (SELECT MAX(c.at) FROM checkins c WHERE c.session_id = $2 AND c.participant_id = pt.id AND c.direction = 'out') AS last_out, \
         a.status \
         FROM participants pt JOIN people p ON p.id = pt.person_id JOIN orgs o ON o.id = p.org_id \
         LEFT JOIN bridge_points b ON b.id = pt.bridge_point_id \
         LEFT JOIN attendance a ON a.participant_id = pt.id AND a.session_id = $2 \
         WHERE pt.class_id = $1 AND pt.removed_at IS NULL AND {access} AND {word_sql} \
         AND ($3 = 0 OR (p.sort_key, pt.id) > ((SELECT p2.sort_key FROM participants pt2 JOIN people p2 ON p2.id = pt2.person_id WHERE pt2.id = $3), $3)) \
         ORDER BY p.sort_key, pt.id LIMIT $4",
        access = access.participant_sql(),
    );
    let rows: Vec<RosterRow> = db_run!(db, p => {
        let mut query = sqlx::query_as(&sql)
            .bind(facts.class_id)
            .bind(facts.session_id)
            .bind(after.unwrap_or(0))
            .bind(limit);
        for w in &words {
            query = query.bind(w.clone());
        }
        query.fetch_all(p).await
    })?;
    Ok(rows)
}

/// Check-in records of a session (for benchmarks and checks).
pub async fn count_for_session(db: &Db, session_id: i64) -> Result<i64> {
    let (n,): (i64,) = db_run!(db, p => sqlx::query_as("SELECT COUNT(*) FROM checkins WHERE session_id = $1").bind(session_id).fetch_one(p).await)?;
    Ok(n)
}

type Reply = oneshot::Sender<Result<Vec<Written>>>;

struct Job {
    rows: Vec<Checkin>,
    reply: Reply,
}

/// The one writer of check-ins in this process (group commit).
#[derive(Clone, Debug)]
pub struct CheckinWriter {
    tx: mpsc::Sender<Job>,
    db: Db,
    /// Session facts recently read, for the check-in endpoints (a hall asks for the same session
    /// thousands of times); a cancellation made meanwhile is seen within [`FACTS_TTL`].
    facts: std::sync::Arc<std::sync::Mutex<HashMap<i64, (std::time::Instant, SessionFacts)>>>,
}

/// How long the check-in endpoints reuse a session's facts.
pub const FACTS_TTL: std::time::Duration = std::time::Duration::from_secs(2);

/// Check-ins committed together at most (a group waits for nobody: it takes what is queued).
const GROUP_ROWS: usize = 2000;

impl CheckinWriter {
    /// Starts the writer task on the current runtime.
    pub fn spawn(db: Db) -> Self {
        let (tx, rx) = mpsc::channel::<Job>(4096);
        tokio::spawn(run_writer(db.clone(), rx));
        Self {
            tx,
            db,
            facts: Default::default(),
        }
    }

    /// [`session_facts`], reused for [`FACTS_TTL`].
    pub async fn session_facts(&self, session_id: i64) -> Result<SessionFacts> {
        if let Ok(c) = self.facts.lock() {
            if let Some((at, f)) = c.get(&session_id) {
                if at.elapsed() < FACTS_TTL {
                    return Ok(f.clone());
                }
            }
        }
        let f = session_facts(&self.db, session_id).await?;
        if let Ok(mut c) = self.facts.lock() {
            if c.len() > 10_000 {
                c.clear();
            }
            c.insert(session_id, (std::time::Instant::now(), f.clone()));
        }
        Ok(f)
    }

    /// Writes `rows`; answers, once they are committed, what became of each.
    pub async fn write(&self, rows: Vec<Checkin>) -> Result<Vec<Written>> {
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let (reply, answer) = oneshot::channel();
        self.tx
            .send(Job { rows, reply })
            .await
            .map_err(|_| StoreError::Internal("check-in writer stopped".into()))?;
        answer
            .await
            .map_err(|_| StoreError::Internal("check-in writer dropped a reply".into()))?
    }
}

async fn run_writer(db: Db, mut rx: mpsc::Receiver<Job>) {
    while let Some(first) = rx.recv().await {
        let mut jobs = vec![first];
        let mut rows = jobs[0].rows.len();
        while rows < GROUP_ROWS {
            match rx.try_recv() {
                Ok(job) => {
                    rows += job.rows.len();
                    jobs.push(job);
                }
                Err(_) => break,
            }
        }
        let all: Vec<&Checkin> = jobs.iter().flat_map(|j| j.rows.iter()).collect();
        match write_group(&db, &all).await {
            Ok(stored) => {
                let mut it = stored.into_iter();
                for job in jobs {
                    let mine: Vec<Written> = it.by_ref().take(job.rows.len()).collect();
                    let _ = job.reply.send(Ok(mine));
                }
            }
            Err(e) if jobs.len() > 1 => {
                // One job's failure must not fail the others: write each on its own.
                tracing::warn!(error = %e, jobs = jobs.len(), "check-in group failed; writing its jobs one by one");
                for job in jobs {
                    let refs: Vec<&Checkin> = job.rows.iter().collect();
                    let _ = job.reply.send(write_group(&db, &refs).await);
                }
            }
            Err(e) => {
                for job in jobs {
                    let _ = job.reply.send(Err(StoreError::Internal(e.to_string())));
                }
            }
        }
    }
}

/// Writes one group in one transaction and recomputes the marks its new check-ins touch.
async fn write_group(db: &Db, rows: &[&Checkin]) -> Result<Vec<Written>> {
    let received = now();
    // The first of equal ids in the group is the one stored.
    let mut seen = HashSet::new();
    let fresh: Vec<&Checkin> = rows
        .iter()
        .copied()
        .filter(|c| seen.insert(c.id.as_str()))
        .collect();
    let per_insert = db.rows_per_insert(9).min(500);
    let stored: HashSet<String> = db_run!(db, p => {
        let mut tx = p.begin().await?;
        if let Db::Postgres(_) = db {
            // A generic plan of the prepared statements reads every check-in of the session to find
            // the few of the group (measured: 0.5 s instead of 0.2 ms): plan each with its values.
            sqlx::query("SET LOCAL plan_cache_mode = force_custom_plan").execute(&mut *tx).await?;
        }
        let mut stored = HashSet::new();
        for chunk in fresh.chunks(per_insert) {
            let sql = format!(
                "INSERT INTO checkins (id, session_id, participant_id, direction, at, source, device_id, recorded_by, received_at) \
                 VALUES {} ON CONFLICT (id) DO NOTHING RETURNING id",
                db.values(chunk.len(), 9, |ph| format!("({})", ph.join(", ")))
            );
            let mut q = sqlx::query_as::<_, (String,)>(&sql);
            for c in chunk {
                q = q.bind(c.id.as_str()).bind(c.session_id).bind(c.participant_id).bind(c.direction.code())
                    .bind(c.at).bind(c.source.code()).bind(c.device_id.clone()).bind(c.recorded_by).bind(received);
            }
            stored.extend(q.fetch_all(&mut *tx).await?.into_iter().map(|(id,)| id));
        }
        // Recompute the marks of the pairs that got a new event.
        let mut pairs: Vec<(i64, i64)> = fresh
            .iter()
            .filter(|c| stored.contains(c.id.as_str()))
            .map(|c| (c.session_id, c.participant_id))
            .collect();
        pairs.sort_unstable();
        pairs.dedup();
        let recorder: HashMap<(i64, i64), Option<i64>> = fresh
            .iter()
            .map(|c| ((c.session_id, c.participant_id), c.recorded_by))
            .collect();
        let mut by_session: std::collections::BTreeMap<i64, Vec<i64>> = Default::default();
        for (sid, pt) in &pairs {
            by_session.entry(*sid).or_default().push(*pt);
        }
        let chunks: Vec<(i64, &[i64])> = by_session
            .iter()
            .flat_map(|(sid, pts)| pts.chunks(per_insert).map(move |c| (*sid, c)))
            .collect();
        for (sid, chunk) in chunks {
            // One session per statement, so that the (session, participant, at) index serves it.
            let sql = match db {
                Db::Sqlite(_) => format!(
                    "SELECT c.session_id, c.participant_id, MIN(CASE WHEN c.direction = 'in' THEN c.at END), \
                     MAX(CASE WHEN c.direction = 'in' THEN c.at END), MAX(CASE WHEN c.direction = 'out' THEN c.at END), \
                     s.starts_at, s.duration_minutes \
                     FROM checkins c JOIN study_sessions s ON s.id = c.session_id \
                     WHERE c.participant_id IN ({}) AND c.session_id = ? \
                     GROUP BY c.session_id, c.participant_id, s.starts_at, s.duration_minutes",
                    db.values(chunk.len(), 1, |ph| ph[0].clone())
                ),
                // One index lookup per person, whatever the planner believes of the table's size
                // (before its first ANALYZE it filtered every check-in of the session).
                Db::Postgres(_) => {
                    let last = chunk.len() + 1;
                    format!(
                        "SELECT s.id, x.pt, a.first_in, a.last_in, a.last_out, s.starts_at, s.duration_minutes \
                         FROM (VALUES {}) AS x(pt) \
                         CROSS JOIN LATERAL (SELECT MIN(CASE WHEN c.direction = 'in' THEN c.at END) AS first_in, \
                            MAX(CASE WHEN c.direction = 'in' THEN c.at END) AS last_in, \
                            MAX(CASE WHEN c.direction = 'out' THEN c.at END) AS last_out \
                            FROM checkins c WHERE c.session_id = ${last} AND c.participant_id = x.pt) a \
                         JOIN study_sessions s ON s.id = ${last} \
                         WHERE a.first_in IS NOT NULL OR a.last_out IS NOT NULL",
                        (1..=chunk.len()).map(|k| format!("(${k}::bigint)")).collect::<Vec<_>>().join(", ")
                    )
                }
            };
            type Times = (i64, i64, Option<DateTime<Utc>>, Option<DateTime<Utc>>, Option<DateTime<Utc>>, DateTime<Utc>, i64);
            let mut q = sqlx::query_as::<_, Times>(&sql);
            for pt in chunk {
                q = q.bind(*pt);
            }
            q = q.bind(sid);
            let marks: Vec<((i64, i64), (u32, u32))> = q
                .fetch_all(&mut *tx)
                .await?
                .into_iter()
                .filter_map(|(s, pt, first_in, last_in, last_out, start, len)| {
                    minutes_from_times(start, u32::try_from(len).unwrap_or(0), first_in, last_in, last_out)
                        .map(|m| ((s, pt), m))
                })
                .collect();
            if marks.is_empty() {
                continue;
            }
            let sql = format!(
                "INSERT INTO attendance (session_id, participant_id, status, late_minutes, left_early_minutes, reason, recorded_by, recorded_at) \
                 VALUES {} ON CONFLICT (session_id, participant_id) DO UPDATE SET status = excluded.status, \
                 late_minutes = excluded.late_minutes, left_early_minutes = excluded.left_early_minutes, reason = NULL, \
                 recorded_by = excluded.recorded_by, recorded_at = excluded.recorded_at",
                db.values(marks.len(), 6, |ph| format!("({}, {}, 'present', {}, {}, NULL, {}, {})", ph[0], ph[1], ph[2], ph[3], ph[4], ph[5]))
            );
            let mut q = sqlx::query(&sql);
            for ((s, pt), (late, early)) in &marks {
                q = q.bind(*s).bind(*pt).bind(i64::from(*late)).bind(i64::from(*early))
                    .bind(recorder.get(&(*s, *pt)).copied().flatten()).bind(received);
            }
            q.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok::<_, StoreError>(stored)
    })?;
    // A later row with an id seen earlier in the group is not new even if the first was.
    let mut first = HashSet::new();
    let new: Vec<bool> = rows
        .iter()
        .map(|c| first.insert(c.id.as_str()) && stored.contains(c.id.as_str()))
        .collect();
    // The others: the same check-in sent again, or an id already used for something else.
    let again: Vec<&str> = rows
        .iter()
        .zip(&new)
        .filter(|(_, n)| !**n)
        .map(|(c, _)| c.id.as_str())
        .collect();
    let mut held: HashMap<String, (i64, i64, String)> = HashMap::new();
    for chunk in again.chunks(500) {
        let sql = format!(
            "SELECT id, session_id, participant_id, direction FROM checkins WHERE id IN ({})",
            crate::db::placeholders(1, chunk.len())
        );
        let found: Vec<(String, i64, i64, String)> = db_run!(db, p => {
            let mut q = sqlx::query_as(&sql);
            for id in chunk {
                q = q.bind(*id);
            }
            q.fetch_all(p).await
        })?;
        held.extend(found.into_iter().map(|(id, s, pt, d)| (id, (s, pt, d))));
    }
    Ok(rows
        .iter()
        .zip(new)
        .map(|(c, n)| {
            if n {
                return Written::Stored;
            }
            match held.get(c.id.as_str()) {
                Some((s, pt, d))
                    if *s == c.session_id && *pt == c.participant_id && d == c.direction.code() =>
                {
                    Written::Duplicate
                }
                _ => Written::Conflict,
            }
        })
        .collect())
}

/// What became of one check-in handed to the writer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Written {
    /// Committed now.
    Stored,
    /// The same check-in (same id, session, person and direction) was stored before.
    Duplicate,
    /// The id is already used by another check-in: refused, nothing changed.
    Conflict,
}

/// The key that signs the QR codes of check-in (kept in the database, so every process and
/// every restart agree on it).
#[derive(Clone)]
pub struct QrKey([u8; 32]);

impl std::fmt::Debug for QrKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("QrKey(..)")
    }
}

/// Seconds one QR code is valid for display; a scan is accepted for a few windows more
/// (the camera app and a slow connection take time).
pub const QR_WINDOW_SECONDS: i64 = 15;
const QR_GRACE_WINDOWS: i64 = 3;

impl QrKey {
    /// Loads the key, creating it on first use.
    pub async fn load(db: &Db) -> Result<Self> {
        let fresh: [u8; 32] = rand::random();
        let hex: String = fresh.iter().map(|b| format!("{b:02x}")).collect();
        crate::db_exec!(db, p => sqlx::query("INSERT INTO app_secrets (name, value) VALUES ('qr_key', $1) ON CONFLICT (name) DO NOTHING")
            .bind(&hex).execute(p).await)?;
        let (stored,): (String,) = db_run!(db, p => sqlx::query_as("SELECT value FROM app_secrets WHERE name = 'qr_key'")
            .fetch_one(p).await)?;
        let mut key = [0u8; 32];
        for (i, b) in key.iter_mut().enumerate() {
            *b = stored
                .get(i * 2..i * 2 + 2)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| StoreError::Internal("malformed qr_key".into()))?;
        }
        Ok(Self(key))
    }

    /// The time window a QR code belongs to.
    pub fn window(at: DateTime<Utc>) -> i64 {
        at.timestamp().div_euclid(QR_WINDOW_SECONDS)
    }

    fn mac(&self, session_id: i64, direction: Direction, window: i64) -> Result<Hmac<Sha256>> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0)
            .map_err(|e| StoreError::Internal(e.to_string()))?;
        mac.update(format!("checkin:{session_id}:{}:{window}", direction.code()).as_bytes());
        Ok(mac)
    }

    /// The signature put in the QR link (16 bytes, hex).
    pub fn sign(&self, session_id: i64, direction: Direction, window: i64) -> Result<String> {
        let tag = self
            .mac(session_id, direction, window)?
            .finalize()
            .into_bytes();
        Ok(tag.iter().take(16).map(|b| format!("{b:02x}")).collect())
    }

    /// Whether `sig` was made for this session, direction and window, and the window is recent.
    pub fn verify(
        &self,
        session_id: i64,
        direction: Direction,
        window: i64,
        sig: &str,
        now: DateTime<Utc>,
    ) -> bool {
        let current = Self::window(now);
        if window > current || window < current - QR_GRACE_WINDOWS {
            return false;
        }
        let Some(bytes) = (0..sig.len() / 2)
            .map(|i| {
                sig.get(i * 2..i * 2 + 2)
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
            })
            .collect::<Option<Vec<u8>>>()
        else {
            return false;
        };
        if bytes.len() != 16 || sig.len() != 32 {
            return false;
        }
        self.mac(session_id, direction, window)
            .is_ok_and(|m| m.verify_truncated_left(&bytes).is_ok())
    }
}
