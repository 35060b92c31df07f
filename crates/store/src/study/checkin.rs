//! Check-ins (R3.4): QR self check-in, operator check-in and offline queues.
//!
//! Every check-in is an event with an id made where it happened; the attendance mark of the
//! participant is recomputed from their events, so replays, reordering and several devices all
//! converge on one record. Writes go through one [`CheckinWriter`] per process, which commits
//! the check-ins waiting at that moment in one transaction (group commit) and answers each caller
//! only after that commit.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use domain::ids::{AccountId, BridgePointId, ClassId, OrgId, ParticipantId, PersonId, SessionId};
use domain::study::{minutes_from_times, CheckinId, CheckinSource, Direction};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use tokio::sync::{mpsc, oneshot};

use crate::db::{placeholders, Db};
use crate::error::{Result, StoreError};
use crate::scope::{Scope, ATTEND};
use crate::{db_run, now};

/// What a check-in needs to know of its session and class.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SessionFacts {
    #[sqlx(try_from = "i64")]
    pub session_id: SessionId,
    #[sqlx(try_from = "i64")]
    pub class_id: ClassId,
    #[sqlx(try_from = "i64")]
    pub class_org_id: OrgId,
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
pub async fn session_facts(db: &Db, session_id: SessionId) -> Result<SessionFacts> {
    let sql = "SELECT s.id AS session_id, k.id AS class_id, k.org_id AS class_org_id, k.title AS class_title, s.topic, \
               s.starts_at, s.duration_minutes, s.status AS session_status, k.status AS class_status \
               FROM study_sessions s JOIN classes k ON k.id = s.class_id WHERE s.id = $1";
    let row: Option<SessionFacts> =
        db_run!(db, p => sqlx::query_as(sql).bind(session_id.0).fetch_optional(p).await)?;
    row.ok_or(StoreError::NotFound)
}

/// A participant as the check-in pages and the API name them.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Attendee {
    #[sqlx(try_from = "i64")]
    pub participant_id: ParticipantId,
    #[sqlx(try_from = "i64")]
    pub person_id: PersonId,
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
    ids: &[ParticipantId],
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
    Id(ParticipantId),
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
        let mut q = sqlx::query_as(&sql).bind(scope.account_id.0).bind(facts.class_id.0).bind(facts.class_org_id.0);
        for k in &keys {
            q = match k {
                Key::Id(i) => q.bind(i.0),
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
        db_run!(db, p => sqlx::query_as(sql).bind(facts.class_id.0).bind(person.0).fetch_optional(p).await)?,
    )
}

/// One check-in, validated and authorized, ready to be written.
#[derive(Debug, Clone)]
pub struct Checkin {
    pub id: CheckinId,
    pub session_id: SessionId,
    pub participant_id: ParticipantId,
    pub direction: Direction,
    pub at: DateTime<Utc>,
    pub source: CheckinSource,
    pub device_id: Option<String>,
    pub recorded_by: Option<AccountId>,
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
            .bind(facts.class_id.0)
            .bind(facts.session_id.0)
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

/// The one writer of check-ins in this process (group commit), and the memory of the open
/// sessions it serves: their facts and their classes' rosters (issue 12.C), so that a check-in
/// reads nothing from the database on its way to the group commit. What the memory may have
/// missed (a participant removed, a session cancelled a moment ago) the group commit checks
/// again in its own statement: it stores only check-ins of participants still on the list of a
/// session still open, and answers the others [`Written::Refused`].
#[derive(Clone, Debug)]
pub struct CheckinWriter {
    tx: mpsc::Sender<Job>,
    db: Db,
    /// Session facts recently read, for the check-in endpoints (a hall asks for the same session
    /// thousands of times); a cancellation made meanwhile is seen within [`FACTS_TTL`].
    facts: std::sync::Arc<std::sync::Mutex<HashMap<SessionId, (std::time::Instant, SessionFacts)>>>,
    /// Rosters of the classes being checked into, by class id.
    rosters: std::sync::Arc<std::sync::Mutex<HashMap<ClassId, RosterSlot>>>,
    /// Check-ins per group commit (the operator's metrics, issue 13.8).
    pub group_sizes: std::sync::Arc<crate::stats::Histogram>,
}

/// A class's roster, loaded once by whichever request comes first (the others wait for it).
#[derive(Debug, Clone)]
struct RosterSlot {
    made: std::time::Instant,
    cell: std::sync::Arc<tokio::sync::OnceCell<std::sync::Arc<Roster>>>,
}

/// How long a loaded roster is used: a name or card corrected meanwhile is seen after this; a
/// participant added meanwhile is found at once (a miss asks the database), and one removed is
/// refused at once (by the group commit).
pub const ROSTER_TTL: std::time::Duration = std::time::Duration::from_secs(60);

/// The largest class whose roster is held in memory (about 300 bytes a participant).
pub const ROSTER_MAX: i64 = 250_000;

/// Rosters kept at most (the least recently loaded go first).
const ROSTERS_KEPT: usize = 16;

/// The participants of one class still on its list, with what the scope check needs: the
/// organizations at and above the class's organization and above each bridge point's.
#[derive(Debug)]
pub struct Roster {
    class_id: ClassId,
    class_org_above: Vec<OrgId>,
    bridge_above: HashMap<BridgePointId, Vec<OrgId>>,
    by_id: HashMap<ParticipantId, (Attendee, Option<BridgePointId>)>,
    by_card: HashMap<String, ParticipantId>,
    by_person: HashMap<PersonId, ParticipantId>,
}

impl Roster {
    /// Loads the roster of `class_id` (three statements, whatever the class's size). A class of
    /// more than [`ROSTER_MAX`] participants gets an empty roster: every key asks the database,
    /// as before issue 12 (measured: the 1.9 million of the national conference held 1 GB).
    async fn load(db: &Db, class_id: ClassId, class_org_id: OrgId) -> Result<Self> {
        let listed: i64 = db_run!(db, p => sqlx::query_scalar(
            "SELECT CAST(participant_count AS BIGINT) FROM classes WHERE id = $1")
            .bind(class_id.0).fetch_one(p).await)?;
        if listed > ROSTER_MAX {
            return Ok(Self {
                class_id,
                class_org_above: Vec::new(),
                bridge_above: HashMap::new(),
                by_id: HashMap::new(),
                by_card: HashMap::new(),
                by_person: HashMap::new(),
            });
        }
        type Row = (i64, i64, String, Option<String>, Option<i64>);
        let rows: Vec<Row> = db_run!(db, p => sqlx::query_as(
            "SELECT pt.id, pt.person_id, p.full_name, p.party_card_number, pt.bridge_point_id \
             FROM participants pt JOIN people p ON p.id = pt.person_id \
             WHERE pt.class_id = $1 AND pt.removed_at IS NULL")
            .bind(class_id.0).fetch_all(p).await)?;
        let class_org_above: Vec<i64> = db_run!(db, p => sqlx::query_scalar(
            "SELECT ancestor_id FROM org_closure WHERE descendant_id = $1")
            .bind(class_org_id.0).fetch_all(p).await)?;
        let bridges: Vec<(i64, i64)> = db_run!(db, p => sqlx::query_as(
            "SELECT b.id, c.ancestor_id FROM bridge_points b JOIN org_closure c ON c.descendant_id = b.org_id \
             WHERE b.class_id = $1")
            .bind(class_id.0).fetch_all(p).await)?;
        let mut bridge_above: HashMap<BridgePointId, Vec<OrgId>> = HashMap::new();
        for (b, a) in bridges {
            bridge_above
                .entry(BridgePointId(b))
                .or_default()
                .push(OrgId(a));
        }
        let mut by_id = HashMap::with_capacity(rows.len());
        let mut by_card = HashMap::with_capacity(rows.len());
        let mut by_person = HashMap::with_capacity(rows.len());
        for (participant_id, person_id, full_name, card, bridge) in rows {
            let (participant_id, person_id) = (ParticipantId(participant_id), PersonId(person_id));
            let bridge = bridge.map(BridgePointId);
            if let Some(c) = &card {
                by_card.insert(c.clone(), participant_id);
            }
            let a = Attendee {
                participant_id,
                person_id,
                full_name,
                party_card_number: card,
            };
            by_person.insert(person_id, participant_id);
            by_id.insert(participant_id, (a, bridge));
        }
        Ok(Self {
            class_id,
            class_org_above: class_org_above.into_iter().map(OrgId).collect(),
            bridge_above,
            by_id,
            by_card,
            by_person,
        })
    }

    /// The participant behind a key, if on the list, and whether `scope` may check them in:
    /// the same rule as [`attendable`] (secretary or above on the class's organization, or on
    /// the participant's bridge point), decided from the caller's grants in memory.
    fn find(&self, scope: &Scope, key: &Key) -> Option<(&Attendee, bool)> {
        let id = match key {
            Key::Id(i) => *i,
            Key::Card(c) => *self.by_card.get(c)?,
        };
        let (a, bridge) = self.by_id.get(&id)?;
        let holds = |above: &[OrgId]| {
            scope
                .grants
                .iter()
                .any(|g| g.role >= ATTEND && above.contains(&g.org_id))
        };
        let allowed = holds(&self.class_org_above)
            || bridge
                .and_then(|b| self.bridge_above.get(&b))
                .is_some_and(|above| holds(above));
        Some((a, allowed))
    }
}

/// How long the check-in endpoints reuse a session's facts.
pub const FACTS_TTL: std::time::Duration = std::time::Duration::from_secs(2);

/// Check-ins committed together at most (a group waits for nobody: it takes what is queued).
const GROUP_ROWS: usize = 2000;

impl CheckinWriter {
    /// Starts the writer task on the current runtime.
    pub fn spawn(db: Db) -> Self {
        let (tx, rx) = mpsc::channel::<Job>(4096);
        let group_sizes = std::sync::Arc::new(crate::stats::Histogram::new(
            crate::stats::GROUP_SIZE_BOUNDS,
        ));
        tokio::spawn(run_writer(db.clone(), rx, group_sizes.clone()));
        Self {
            tx,
            db,
            facts: Default::default(),
            rosters: Default::default(),
            group_sizes,
        }
    }

    /// The class's roster from memory, loaded on first use and again after [`ROSTER_TTL`].
    async fn roster(&self, facts: &SessionFacts) -> Result<std::sync::Arc<Roster>> {
        let slot = {
            let mut m = self
                .rosters
                .lock()
                .map_err(|_| StoreError::Internal("roster cache poisoned".into()))?;
            match m.get(&facts.class_id) {
                Some(s) if s.made.elapsed() < ROSTER_TTL => s.clone(),
                _ => {
                    if m.len() >= ROSTERS_KEPT {
                        if let Some(old) = m.iter().min_by_key(|(_, s)| s.made).map(|(k, _)| *k) {
                            m.remove(&old);
                        }
                    }
                    let s = RosterSlot {
                        made: std::time::Instant::now(),
                        cell: Default::default(),
                    };
                    m.insert(facts.class_id, s.clone());
                    s
                }
            }
        };
        let r = slot
            .cell
            .get_or_try_init(|| async {
                Roster::load(&self.db, facts.class_id, facts.class_org_id)
                    .await
                    .map(std::sync::Arc::new)
            })
            .await?;
        Ok(r.clone())
    }

    /// Forgets what this process holds of a session and its class (after the group commit
    /// found it changed).
    fn forget(&self, session_id: SessionId) {
        let class_id = self
            .facts
            .lock()
            .ok()
            .and_then(|mut f| f.remove(&session_id))
            .map(|(_, f)| f.class_id);
        if let Ok(mut r) = self.rosters.lock() {
            match class_id {
                Some(c) => {
                    r.remove(&c);
                }
                None => r.clear(),
            }
        }
    }

    /// [`own_participant`] from the class's roster in memory (the QR self check-in); someone not
    /// in the roster asks the database (added since it was read).
    pub async fn own_participant(
        &self,
        scope: &Scope,
        facts: &SessionFacts,
    ) -> Result<Option<Attendee>> {
        let Some(person) = scope.person_id else {
            return Ok(None);
        };
        let roster = self.roster(facts).await?;
        if let Some((a, _)) = roster
            .by_person
            .get(&person)
            .and_then(|pt| roster.by_id.get(pt))
        {
            return Ok(Some(a.clone()));
        }
        own_participant(&self.db, scope, facts).await
    }

    /// [`attendable`] from the class's roster in memory; only keys the roster does not hold
    /// (someone added since it was loaded, or a typo) ask the database.
    pub async fn attendable(
        &self,
        scope: &Scope,
        facts: &SessionFacts,
        ids: &[ParticipantId],
        cards: &[String],
    ) -> Result<Vec<Attendee>> {
        let roster = self.roster(facts).await?;
        debug_assert_eq!(roster.class_id, facts.class_id);
        let mut out = Vec::new();
        let (mut miss_ids, mut miss_cards) = (Vec::new(), Vec::new());
        for i in ids {
            match roster.find(scope, &Key::Id(*i)) {
                Some((a, true)) => out.push(a.clone()),
                Some((_, false)) => {}
                None => miss_ids.push(*i),
            }
        }
        for c in cards {
            match roster.find(scope, &Key::Card(c.clone())) {
                Some((a, true)) => out.push(a.clone()),
                Some((_, false)) => {}
                None => miss_cards.push(c.clone()),
            }
        }
        if !miss_ids.is_empty() || !miss_cards.is_empty() {
            out.extend(attendable(&self.db, scope, facts, &miss_ids, &miss_cards).await?);
        }
        out.sort_by_key(|a| a.participant_id);
        out.dedup_by_key(|a| a.participant_id);
        Ok(out)
    }

    /// [`session_facts`], reused for [`FACTS_TTL`].
    pub async fn session_facts(&self, session_id: SessionId) -> Result<SessionFacts> {
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
        let rows_sessions: Vec<SessionId> = rows.iter().map(|c| c.session_id).collect();
        let (reply, answer) = oneshot::channel();
        self.tx
            .send(Job { rows, reply })
            .await
            .map_err(|_| StoreError::Internal("check-in writer stopped".into()))?;
        let written = answer
            .await
            .map_err(|_| StoreError::Internal("check-in writer dropped a reply".into()))??;
        // The memory was behind the database: read the session and its roster again.
        for (c, w) in rows_sessions.iter().zip(&written) {
            if matches!(w, Written::Refused(_)) {
                self.forget(*c);
            }
        }
        Ok(written)
    }
}

async fn run_writer(
    db: Db,
    mut rx: mpsc::Receiver<Job>,
    group_sizes: std::sync::Arc<crate::stats::Histogram>,
) {
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
        group_sizes.observe(all.len() as f64);
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

/// First check-in, last check-in and last check-out of a participant in a session, with the
/// session's start and length.
type Times = (
    i64,
    i64,
    Option<DateTime<Utc>>,
    Option<DateTime<Utc>>,
    Option<DateTime<Utc>>,
    DateTime<Utc>,
    i64,
);

/// The two statements of a group commit that each engine writes its own fastest way: PostgreSQL
/// binds arrays (`UNNEST`: one statement shape for any group size, its plan reused), SQLite a
/// `VALUES` list of `?` (its statements are cheap to prepare; it has no arrays).
trait GroupSql {
    /// Inserts the check-ins that pass [`STILL_OPEN`]; answers the ids stored now.
    async fn insert_checkins(
        &mut self,
        rows: &[&Checkin],
        received: DateTime<Utc>,
    ) -> std::result::Result<Vec<String>, sqlx::Error>;
    /// [`Times`] of `participants` in session `session`, for those with a check-in.
    async fn checkin_times(
        &mut self,
        session: i64,
        participants: &[i64],
    ) -> std::result::Result<Vec<Times>, sqlx::Error>;
}

impl GroupSql for sqlx::PgConnection {
    async fn insert_checkins(
        &mut self,
        rows: &[&Checkin],
        received: DateTime<Utc>,
    ) -> std::result::Result<Vec<String>, sqlx::Error> {
        let sql = format!(
            "INSERT INTO checkins (id, session_id, participant_id, direction, at, source, device_id, recorded_by, received_at, province_id) \
             SELECT v.id, v.session_id, v.participant_id, v.direction, v.at, v.source, v.device_id, v.recorded_by, $9, s.province_id \
             FROM UNNEST($1::text[], $2::bigint[], $3::bigint[], $4::text[], $5::timestamptz[], $6::text[], $7::text[], $8::bigint[]) \
               AS v(id, session_id, participant_id, direction, at, source, device_id, recorded_by) {STILL_OPEN} \
             ON CONFLICT (id) DO NOTHING RETURNING id"
        );
        sqlx::query_scalar(&sql)
            .bind(rows.iter().map(|c| c.id.as_str()).collect::<Vec<&str>>())
            .bind(rows.iter().map(|c| c.session_id.0).collect::<Vec<i64>>())
            .bind(
                rows.iter()
                    .map(|c| c.participant_id.0)
                    .collect::<Vec<i64>>(),
            )
            .bind(
                rows.iter()
                    .map(|c| c.direction.code())
                    .collect::<Vec<&str>>(),
            )
            .bind(rows.iter().map(|c| c.at).collect::<Vec<DateTime<Utc>>>())
            .bind(rows.iter().map(|c| c.source.code()).collect::<Vec<&str>>())
            .bind(
                rows.iter()
                    .map(|c| c.device_id.as_deref())
                    .collect::<Vec<Option<&str>>>(),
            )
            .bind(
                rows.iter()
                    .map(|c| c.recorded_by.map(|a| a.0))
                    .collect::<Vec<Option<i64>>>(),
            )
            .bind(received)
            .fetch_all(self)
            .await
    }

    async fn checkin_times(
        &mut self,
        session: i64,
        participants: &[i64],
    ) -> std::result::Result<Vec<Times>, sqlx::Error> {
        // One index lookup per person, whatever the planner believes of the table's size
        // (before its first ANALYZE it filtered every check-in of the session).
        sqlx::query_as(
            "SELECT s.id, x.pt, a.first_in, a.last_in, a.last_out, s.starts_at, s.duration_minutes \
             FROM UNNEST($1::bigint[]) AS x(pt) \
             CROSS JOIN LATERAL (SELECT MIN(CASE WHEN c.direction = 'in' THEN c.at END) AS first_in, \
                MAX(CASE WHEN c.direction = 'in' THEN c.at END) AS last_in, \
                MAX(CASE WHEN c.direction = 'out' THEN c.at END) AS last_out \
                FROM checkins c WHERE c.session_id = $2 AND c.participant_id = x.pt) a \
             JOIN study_sessions s ON s.id = $2 \
             WHERE a.first_in IS NOT NULL OR a.last_out IS NOT NULL",
        )
        .bind(participants)
        .bind(session)
        .fetch_all(self)
        .await
    }
}

impl GroupSql for sqlx::SqliteConnection {
    async fn insert_checkins(
        &mut self,
        rows: &[&Checkin],
        received: DateTime<Utc>,
    ) -> std::result::Result<Vec<String>, sqlx::Error> {
        let values = vec!["(?, ?, ?, ?, ?, ?, ?, ?, ?)"; rows.len()].join(", ");
        let sql = format!(
            "INSERT INTO checkins (id, session_id, participant_id, direction, at, source, device_id, recorded_by, received_at, province_id) \
             SELECT v.id, v.session_id, v.participant_id, v.direction, v.at, v.source, v.device_id, v.recorded_by, v.received_at, s.province_id \
             FROM (SELECT column1 AS id, column2 AS session_id, column3 AS participant_id, column4 AS direction, column5 AS at, \
                   column6 AS source, column7 AS device_id, column8 AS recorded_by, column9 AS received_at FROM (VALUES {values})) AS v \
             {STILL_OPEN} ON CONFLICT (id) DO NOTHING RETURNING id"
        );
        let mut q = sqlx::query_scalar(&sql);
        for c in rows {
            q = q
                .bind(c.id.as_str())
                .bind(c.session_id.0)
                .bind(c.participant_id.0)
                .bind(c.direction.code())
                .bind(c.at)
                .bind(c.source.code())
                .bind(c.device_id.as_deref())
                .bind(c.recorded_by.map(|a| a.0))
                .bind(received);
        }
        q.fetch_all(self).await
    }

    async fn checkin_times(
        &mut self,
        session: i64,
        participants: &[i64],
    ) -> std::result::Result<Vec<Times>, sqlx::Error> {
        let sql = format!(
            "SELECT c.session_id, c.participant_id, MIN(CASE WHEN c.direction = 'in' THEN c.at END), \
             MAX(CASE WHEN c.direction = 'in' THEN c.at END), MAX(CASE WHEN c.direction = 'out' THEN c.at END), \
             s.starts_at, s.duration_minutes \
             FROM checkins c JOIN study_sessions s ON s.id = c.session_id \
             WHERE c.participant_id IN ({}) AND c.session_id = ? \
             GROUP BY c.session_id, c.participant_id, s.starts_at, s.duration_minutes",
            vec!["?"; participants.len()].join(", ")
        );
        let mut q = sqlx::query_as(&sql);
        for pt in participants {
            q = q.bind(*pt);
        }
        q.bind(session).fetch_all(self).await
    }
}

/// The condition under which a check-in is stored, checked in the insert itself (issue 12.C):
/// its participant is still on the list of the session's class, and neither the session nor the
/// class is cancelled or finished. The memory of the check-in endpoints may be a moment behind;
/// this statement is not. (`WHERE TRUE` tells SQLite's parser that `ON CONFLICT` is the upsert
/// clause, not a join's.)
/// (`s` also gives the row its province key, issue 13.6.)
const STILL_OPEN: &str = "JOIN participants pt ON pt.id = v.participant_id AND pt.removed_at IS NULL \
     JOIN study_sessions s ON s.id = v.session_id AND s.class_id = pt.class_id AND s.status <> 'cancelled' \
     JOIN classes k ON k.id = s.class_id AND k.status NOT IN ('finished', 'cancelled') WHERE TRUE";

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
            // The reply follows a durable commit whatever the server's default (issue 12.C).
            sqlx::query("SELECT set_config('plan_cache_mode', 'force_custom_plan', true), set_config('synchronous_commit', 'on', true)")
                .execute(&mut *tx).await?;
        }
        let mut stored = HashSet::new();
        for chunk in fresh.chunks(per_insert) {
            stored.extend(tx.insert_checkins(chunk, received).await?);
        }
        // Recompute the marks of the pairs that got a new event.
        let mut pairs: Vec<(i64, i64)> = fresh
            .iter()
            .filter(|c| stored.contains(c.id.as_str()))
            .map(|c| (c.session_id.0, c.participant_id.0))
            .collect();
        pairs.sort_unstable();
        pairs.dedup();
        let recorder: HashMap<(i64, i64), Option<i64>> = fresh
            .iter()
            .map(|c| ((c.session_id.0, c.participant_id.0), c.recorded_by.map(|a| a.0)))
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
            let times = tx.checkin_times(sid, chunk).await?;
            let marks: Vec<((i64, i64), (u32, u32))> = times
                .into_iter()
                .filter_map(|(s, pt, first_in, last_in, last_out, start, len)| {
                    minutes_from_times(start, u32::try_from(len).unwrap_or(0), first_in, last_in, last_out)
                        .map(|m| ((s, pt), m))
                })
                .collect();
            if marks.is_empty() {
                continue;
            }
            let rows: Vec<super::attendance::MarkRow> = marks
                .iter()
                .map(|((s, pt), (late, early))| super::attendance::MarkRow {
                    session_id: *s,
                    participant_id: *pt,
                    status: domain::study::AttendanceStatus::Present,
                    late_minutes: *late,
                    left_early_minutes: *early,
                    reason: None,
                    recorded_by: recorder.get(&(*s, *pt)).copied().flatten(),
                })
                .collect();
            for part in rows.chunks(super::attendance::MarkRow::per_statement(db)) {
                let sql = super::attendance::upsert_sql(db, part.len());
                super::attendance::bind_marks(sqlx::query(&sql), part, received).execute(&mut *tx).await?;
            }
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
    // Not stored and not held: the insert's own check refused it. Say why, from the session as
    // it is now.
    let mut why: HashMap<SessionId, &'static str> = HashMap::new();
    for (c, n) in rows.iter().zip(&new) {
        if *n || held.contains_key(c.id.as_str()) || why.contains_key(&c.session_id) {
            continue;
        }
        let reason = match session_facts(db, c.session_id).await {
            Ok(f) => f.refusal(received).unwrap_or(NOT_LISTED),
            Err(StoreError::NotFound) => NOT_LISTED,
            Err(e) => return Err(e),
        };
        why.insert(c.session_id, reason);
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
                    if *s == c.session_id.0
                        && *pt == c.participant_id.0
                        && d == c.direction.code() =>
                {
                    Written::Duplicate
                }
                Some(_) => Written::Conflict,
                None => Written::Refused(why.get(&c.session_id).copied().unwrap_or(NOT_LISTED)),
            }
        })
        .collect())
}

/// Why a check-in of someone no longer on the list was refused.
pub const NOT_LISTED: &str =
    "Người này không còn trong danh sách lớp học (vừa được rút khỏi danh sách): không ghi nhận.";

/// What became of one check-in handed to the writer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Written {
    /// Committed now.
    Stored,
    /// The same check-in (same id, session, person and direction) was stored before.
    Duplicate,
    /// The id is already used by another check-in: refused, nothing changed.
    Conflict,
    /// Refused at the commit: the participant left the list, or the session or class was
    /// cancelled or finished, since the caller looked (the reason in Vietnamese).
    Refused(&'static str),
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
