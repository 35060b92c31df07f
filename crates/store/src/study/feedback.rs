//! Learner feedback per class (R3.4): written online by a participant, or typed in from paper by
//! an organizer or a bridge-point secretary; read per class and per bridge point within the
//! reader's access.

use chrono::{DateTime, Utc};
use domain::ids::{ClassId, OrgId, PersonId};
use domain::study::{FeedbackKind, FeedbackSource, NewFeedback};

use super::classes::{self, Access, Class};
use super::full_name_sql;
use crate::db::Db;
use crate::error::{Result, StoreError};
use crate::scope::{Scope, ATTEND, READ};
use crate::{db_run, now};

/// One piece of feedback as organizers read it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Feedback {
    pub id: i64,
    pub class_id: i64,
    pub bridge_point_id: Option<i64>,
    pub bridge_point_name: Option<String>,
    /// Null when written anonymously on paper.
    pub person_id: Option<i64>,
    pub full_name: Option<String>,
    pub org_name: Option<String>,
    /// note, proposal, comment
    pub kind: String,
    pub body: String,
    /// online, paper
    pub source: String,
    /// Who typed it in (paper) or sent it (online).
    pub recorded_by_name: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl Feedback {
    pub fn kind_label(&self) -> &'static str {
        FeedbackKind::parse(&self.kind)
            .map(FeedbackKind::label)
            .unwrap_or("")
    }
    pub fn source_label(&self) -> &'static str {
        FeedbackSource::parse(&self.source)
            .map(FeedbackSource::label)
            .unwrap_or("")
    }
}

/// Which feedback of a class to list.
#[derive(Debug, Clone, Copy, Default)]
pub struct FeedbackFilter {
    /// `Some(0)`: sent from the main venue (no bridge point); `Some(id)`: that bridge point.
    pub bridge_point_id: Option<i64>,
    pub kind: Option<FeedbackKind>,
}

/// How many pieces of feedback of one kind.
#[derive(Debug, Clone)]
pub struct KindCount {
    /// note, proposal, comment
    pub kind: String,
    pub label: String,
    pub count: i64,
}

/// How many pieces of feedback came through one bridge point (null: the main venue).
#[derive(Debug, Clone)]
pub struct BridgePointCount {
    pub bridge_point_id: Option<i64>,
    pub name: String,
    pub count: i64,
}

/// How many pieces of feedback, per kind and per bridge point (the unfiltered visible set).
#[derive(Debug, Clone, Default)]
pub struct FeedbackCounts {
    pub total: i64,
    /// Every kind, in declaration order, zeros included.
    pub by_kind: Vec<KindCount>,
    /// Bridge points (and the main venue) with at least one.
    pub by_bridge_point: Vec<BridgePointCount>,
}

/// A participant's own row in a class, if they are listed (and not removed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Participation {
    pub participant_id: i64,
    pub bridge_point_id: Option<i64>,
}

/// SQL limiting feedback `f` (with its author `fp`) to what `access` may read: everything under
/// the organizer, or what came through the reader's bridge points or from people in the reader's
/// subtree. `$1` is the account id.
fn visible_sql(access: &Access) -> String {
    match access {
        Access::Full => "TRUE".into(),
        Access::BridgePoints(ids) => {
            let people = format!(
                "(f.person_id IS NOT NULL AND {})",
                Scope::subtree_sql("fp.org_id", 1, READ)
            );
            if ids.is_empty() {
                people
            } else {
                let list = ids
                    .iter()
                    .map(i64::to_string)
                    .collect::<Vec<_>>()
                    .join(", ");
                format!("(f.bridge_point_id IN ({list}) OR {people})")
            }
        }
    }
}

/// What feedback without a bridge point is counted under.
pub const MAIN_VENUE: &str = "Hội trường chính";

const FROM: &str = "FROM feedback f LEFT JOIN people fp ON fp.id = f.person_id LEFT JOIN orgs fo ON fo.id = fp.org_id \
                    LEFT JOIN bridge_points b ON b.id = f.bridge_point_id LEFT JOIN accounts a ON a.id = f.recorded_by";

/// The feedback of a class the reader may see, newest first, filtered, one page
/// (`limit` rows from `offset`); with the filtered total.
pub async fn list(
    db: &Db,
    scope: &Scope,
    class: &Class,
    access: &Access,
    filter: &FeedbackFilter,
    limit: i64,
    offset: i64,
) -> Result<(Vec<Feedback>, i64)> {
    let wh = format!(
        "f.class_id = $2 AND {} AND ($3 < 0 OR ($3 = 0 AND f.bridge_point_id IS NULL) OR f.bridge_point_id = $3) AND ($4 = '' OR f.kind = $4)",
        visible_sql(access)
    );
    let list_sql = format!(
        "SELECT f.id, f.class_id, f.bridge_point_id, b.name AS bridge_point_name, f.person_id, {} AS full_name, fo.name AS org_name, \
         f.kind, f.body, f.source, a.display_name AS recorded_by_name, f.created_at {FROM} WHERE {wh} \
         ORDER BY f.created_at DESC, f.id DESC LIMIT $5 OFFSET $6",
        full_name_sql("fp")
    );
    let count_sql = format!("SELECT COUNT(*) {FROM} WHERE {wh}");
    let bp = filter.bridge_point_id.unwrap_or(-1);
    let kind = filter.kind.map(FeedbackKind::code).unwrap_or("");
    let account = scope.account_id.0;
    let (items, total) = db_run!(db, p => {
        let items = sqlx::query_as::<_, Feedback>(&list_sql)
            .bind(account).bind(class.id).bind(bp).bind(kind).bind(limit).bind(offset)
            .fetch_all(p).await?;
        let (total,): (i64,) = sqlx::query_as(&count_sql)
            .bind(account).bind(class.id).bind(bp).bind(kind)
            .fetch_one(p).await?;
        Ok::<_, StoreError>((items, total))
    })?;
    Ok((items, total))
}

/// Counts per kind and per bridge point of the feedback the reader may see in a class.
pub async fn counts(
    db: &Db,
    scope: &Scope,
    class: &Class,
    access: &Access,
) -> Result<FeedbackCounts> {
    let sql = format!(
        "SELECT f.kind, f.bridge_point_id, b.name, COUNT(*) {FROM} WHERE f.class_id = $2 AND {} \
         GROUP BY f.kind, f.bridge_point_id, b.name",
        visible_sql(access)
    );
    let rows: Vec<(String, Option<i64>, Option<String>, i64)> = db_run!(db, p => sqlx::query_as(&sql)
        .bind(scope.account_id.0).bind(class.id).fetch_all(p).await)?;
    let mut c = FeedbackCounts {
        by_kind: FeedbackKind::ALL
            .iter()
            .map(|k| KindCount {
                kind: k.code().to_string(),
                label: k.label().to_string(),
                count: 0,
            })
            .collect(),
        ..Default::default()
    };
    for (kind, bp, name, n) in rows {
        c.total += n;
        if let Some(e) = c.by_kind.iter_mut().find(|k| k.kind == kind) {
            e.count += n;
        }
        match c
            .by_bridge_point
            .iter_mut()
            .find(|b| b.bridge_point_id == bp)
        {
            Some(e) => e.count += n,
            None => c.by_bridge_point.push(BridgePointCount {
                bridge_point_id: bp,
                name: name.unwrap_or_else(|| MAIN_VENUE.into()),
                count: n,
            }),
        }
    }
    // The main venue first, then the bridge points by name.
    c.by_bridge_point.sort_by(|a, b| {
        (a.bridge_point_id.is_some(), &a.name).cmp(&(b.bridge_point_id.is_some(), &b.name))
    });
    Ok(c)
}

/// The caller's own participant row in a class, if they are listed there.
pub async fn participation(
    db: &Db,
    person: PersonId,
    class: ClassId,
) -> Result<Option<Participation>> {
    let row: Option<(i64, Option<i64>)> = db_run!(db, p => sqlx::query_as(
        "SELECT id, bridge_point_id FROM participants WHERE class_id = $1 AND person_id = $2 AND removed_at IS NULL")
        .bind(class.0).bind(person.0).fetch_optional(p).await)?;
    Ok(row.map(|(participant_id, bridge_point_id)| Participation {
        participant_id,
        bridge_point_id,
    }))
}

/// The class a participant writes about: only when the caller is listed in it (members do not
/// see classes otherwise). `Forbidden` when the class exists but the caller is not listed.
pub async fn class_for_participant(db: &Db, scope: &Scope, id: ClassId) -> Result<Class> {
    let listed = match scope.person_id {
        Some(person) => participation(db, person, id).await?.is_some(),
        None => false,
    };
    if !listed {
        return Err(StoreError::Forbidden);
    }
    classes::get_unscoped(db, id).await
}

async fn insert(
    db: &Db,
    scope: &Scope,
    class: &Class,
    bridge_point: Option<i64>,
    person: Option<i64>,
    source: FeedbackSource,
    f: &NewFeedback,
) -> Result<Feedback> {
    // The text stays out of the log: the log is read by admins, feedback by the class's organizers.
    let detail = format!("{} {}", source.code(), f.kind.code());
    let id = db_run!(db, p => {
        let mut tx = p.begin().await?;
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO feedback (class_id, bridge_point_id, person_id, kind, body, source, recorded_by, created_at, province_id) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id")
            .bind(class.id).bind(bridge_point).bind(person).bind(f.kind.code()).bind(f.body.as_str())
            .bind(source.code()).bind(scope.account_id.0).bind(now()).bind(class.province_id)
            .fetch_one(&mut *tx).await?;
        crate::audit_in!(&mut *tx, scope, "create", "feedback", id, Some(OrgId(class.org_id)), &detail)?;
        tx.commit().await?;
        Ok::<_, StoreError>(id)
    })?;
    fetch(db, id).await
}

/// One piece of feedback by id, unscoped: only for the caller who just wrote it.
async fn fetch(db: &Db, id: i64) -> Result<Feedback> {
    let sql = format!(
        "SELECT f.id, f.class_id, f.bridge_point_id, b.name AS bridge_point_name, f.person_id, {} AS full_name, fo.name AS org_name, \
         f.kind, f.body, f.source, a.display_name AS recorded_by_name, f.created_at {FROM} WHERE f.id = $1",
        full_name_sql("fp")
    );
    db_run!(db, p => sqlx::query_as::<_, Feedback>(&sql).bind(id).fetch_optional(p).await)?
        .ok_or(StoreError::NotFound)
}

/// A participant leaves feedback online; the bridge point is the one on their participant row.
pub async fn create_online(
    db: &Db,
    scope: &Scope,
    class: ClassId,
    f: &NewFeedback,
) -> Result<Feedback> {
    let person = scope.person_id.ok_or(StoreError::Forbidden)?;
    let mine = participation(db, person, class)
        .await?
        .ok_or(StoreError::Forbidden)?;
    let class = classes::get_unscoped(db, class).await?;
    insert(
        db,
        scope,
        &class,
        mine.bridge_point_id,
        Some(person.0),
        FeedbackSource::Online,
        f,
    )
    .await
}

/// The participant row (id, person, bridge point) of a class within `access`, by row id.
async fn participant_in_access(
    db: &Db,
    class: &Class,
    access: &Access,
    participant: i64,
) -> Result<Option<(i64, Option<i64>)>> {
    let sql = format!(
        "SELECT pt.person_id, pt.bridge_point_id FROM participants pt WHERE pt.id = $1 AND pt.class_id = $2 AND pt.removed_at IS NULL AND {}",
        access.participant_sql()
    );
    Ok(
        db_run!(db, p => sqlx::query_as(&sql).bind(participant).bind(class.id).fetch_optional(p).await)?,
    )
}

/// The participant row id of the person with this party card number in a class, within `access`.
pub async fn participant_by_card(
    db: &Db,
    class: &Class,
    access: &Access,
    card: &str,
) -> Result<Option<i64>> {
    let sql = format!(
        "SELECT pt.id FROM participants pt JOIN people p ON p.id = pt.person_id \
         WHERE pt.class_id = $1 AND p.party_card_number = $2 AND pt.removed_at IS NULL AND {}",
        access.participant_sql()
    );
    let row: Option<(i64,)> = db_run!(db, p => sqlx::query_as(&sql).bind(class.id).bind(card.trim()).fetch_optional(p).await)?;
    Ok(row.map(|(id,)| id))
}

/// An organizer or a bridge-point secretary types in feedback from a paper sheet. The
/// participant (optional: anonymous sheets) and the bridge point must lie within the typist's
/// ATTEND access; without a chosen bridge point the participant's own is used.
pub async fn create_paper(
    db: &Db,
    scope: &Scope,
    class: &Class,
    participant: Option<i64>,
    bridge_point: Option<i64>,
    f: &NewFeedback,
) -> Result<Feedback> {
    let access = classes::access(db, scope, class, ATTEND).await?;
    let (person, own_bp) = match participant {
        Some(pid) => match participant_in_access(db, class, &access, pid).await? {
            Some((person, bp)) => (Some(person), bp),
            None => {
                return Err(StoreError::rule(
                    "person_not_in_class",
                    "Người được chọn không có trong danh sách lớp học (trong phạm vi của bạn)."
                        .into(),
                ))
            }
        },
        None => (None, None),
    };
    let bp = match bridge_point.or(own_bp) {
        Some(bp) => {
            let known = classes::bridge_points(db, class)
                .await?
                .iter()
                .any(|b| b.id == bp);
            let allowed = match &access {
                Access::Full => true,
                Access::BridgePoints(ids) => ids.contains(&bp),
            };
            if !known || !allowed {
                return Err(StoreError::rule(
                    "bridge_point_not_in_class",
                    "Điểm cầu được chọn không thuộc lớp học này hoặc ngoài phạm vi của bạn.".into(),
                ));
            }
            Some(bp)
        }
        None => match &access {
            Access::Full => None,
            Access::BridgePoints(ids) if ids.len() == 1 => ids.first().copied(),
            Access::BridgePoints(_) => {
                return Err(StoreError::rule(
                    "bridge_point_required",
                    "Chọn điểm cầu nơi phiếu góp ý được viết.".into(),
                ))
            }
        },
    };
    insert(db, scope, class, bp, person, FeedbackSource::Paper, f).await
}
