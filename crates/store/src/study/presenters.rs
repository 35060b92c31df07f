//! Who leads a class and presents its key content (R1.3, R2.8).
//!
//! The chair and the opening and closing speakers should be standing members (or the unit's
//! leader) of the organizing committee, and at least one key-content session presented by one;
//! otherwise the class carries a warning (`classes.lead_warning`, kept by every write of the
//! class, its sessions and the committee's positions, so the dashboard counts an index). A
//! classified resolution is presented only by a standing member or an assigned presenter:
//! that is refused, not warned.

use domain::ids::{OrgId, PersonId, SessionId};
use domain::org::positions::CommitteeRole;

use crate::db::Db;
use crate::db_run;
use crate::error::{Result, StoreError};
use crate::org::COUNT_CAP;
use crate::scope::{Scope, READ};
use crate::study::classes::{self, Class};

/// SQL true when the person `col` holds a leading position in the committee of `org_col`.
fn leads(col: &str, org_col: &str) -> String {
    format!(
        "EXISTS (SELECT 1 FROM committee_positions cp WHERE cp.person_id = {col} AND cp.org_id = {org_col} \
         AND cp.ended_on IS NULL AND cp.role IN ({}))",
        CommitteeRole::sql_list(CommitteeRole::LEADING)
    )
}

macro_rules! warning_sql {
    () => {
        "NOT ({chair} AND {opening} AND {closing} AND EXISTS (SELECT 1 FROM study_sessions s \
         WHERE s.class_id = classes.id AND s.status <> 'cancelled' AND s.key_content AND {key}))"
    };
}

fn warning() -> String {
    format!(
        warning_sql!(),
        chair = leads("classes.chair_person_id", "classes.org_id"),
        opening = leads("classes.opening_speaker_id", "classes.org_id"),
        closing = leads("classes.closing_speaker_id", "classes.org_id"),
        key = leads("s.presenter_person_id", "classes.org_id"),
    )
}

/// Refreshes the warning of the class `$1` (run in the transaction of the change).
pub static REFRESH_CLASS: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "UPDATE classes SET lead_warning = {} WHERE id = $1",
        warning()
    )
});

/// Refreshes the warnings of the planned classes of the organization `$1` (its committee changed).
pub static REFRESH_ORG: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "UPDATE classes SET lead_warning = {} WHERE org_id = $1 AND status = 'planned'",
        warning()
    )
});

/// What the class page says about who leads it.
#[derive(Debug, Clone, Default, sqlx::FromRow)]
pub struct LeadCheck {
    pub chair_leads: bool,
    pub opening_leads: bool,
    pub closing_leads: bool,
    /// Key-content sessions, and those presented by a standing member.
    pub key_sessions: i64,
    pub key_led: i64,
    /// Sessions of a classified class with no presenter recorded.
    #[sqlx(default)]
    pub unpresented_classified: i64,
}

impl LeadCheck {
    /// The warnings, in Vietnamese (empty when none).
    pub fn warnings(&self) -> Vec<&'static str> {
        let mut w = Vec::new();
        if !self.chair_leads {
            w.push("Người chủ trì không phải Ủy viên Ban Thường vụ (Thường trực cấp ủy) hoặc thủ trưởng đơn vị của cấp ủy tổ chức lớp.");
        }
        if !self.opening_leads {
            w.push(
                "Người phát biểu khai mạc không phải Ủy viên Ban Thường vụ hoặc thủ trưởng đơn vị.",
            );
        }
        if !self.closing_leads {
            w.push(
                "Người phát biểu bế mạc không phải Ủy viên Ban Thường vụ hoặc thủ trưởng đơn vị.",
            );
        }
        if self.key_sessions == 0 {
            w.push("Chưa buổi học nào được đánh dấu là nội dung trọng tâm.");
        } else if self.key_led == 0 {
            w.push("Không buổi nội dung trọng tâm nào do Ủy viên Ban Thường vụ hoặc thủ trưởng đơn vị trình bày.");
        }
        if self.unpresented_classified > 0 {
            w.push("Lớp học nghị quyết mật có buổi chưa ghi người trình bày (chỉ Ủy viên Ban Thường vụ hoặc báo cáo viên được phân công).");
        }
        w
    }
}

/// The lead check of one class.
pub async fn check(db: &Db, class: &Class) -> Result<LeadCheck> {
    let sql = format!(
        "SELECT {chair} AS chair_leads, {opening} AS opening_leads, {closing} AS closing_leads, \
         (SELECT COUNT(*) FROM study_sessions s WHERE s.class_id = classes.id AND s.status <> 'cancelled' AND s.key_content) AS key_sessions, \
         (SELECT COUNT(*) FROM study_sessions s WHERE s.class_id = classes.id AND s.status <> 'cancelled' AND s.key_content AND {key}) AS key_led, \
         CASE WHEN {classified} THEN (SELECT COUNT(*) FROM study_sessions s WHERE s.class_id = classes.id \
              AND s.status <> 'cancelled' AND s.presenter_person_id IS NULL) ELSE 0 END AS unpresented_classified \
         FROM classes WHERE id = $1",
        chair = leads("classes.chair_person_id", "classes.org_id"),
        opening = leads("classes.opening_speaker_id", "classes.org_id"),
        closing = leads("classes.closing_speaker_id", "classes.org_id"),
        key = leads("s.presenter_person_id", "classes.org_id"),
        classified = CLASSIFIED,
    );
    Ok(db_run!(db, p => sqlx::query_as::<_, LeadCheck>(&sql).bind(class.id).fetch_one(p).await)?)
}

/// SQL true when the class `classes` studies a classified resolution.
const CLASSIFIED: &str =
    "EXISTS (SELECT 1 FROM campaign_resolutions cr JOIN resolutions r ON r.id = cr.resolution_id \
     WHERE cr.campaign_id = classes.campaign_id AND r.classification <> 'public')";

/// Whether `person` may present the content of a classified resolution at a class of `org`:
/// a leading member of `org`'s committee, or a presenter assigned by `org` or an organization
/// above it (R2.8).
async fn may_present_classified(db: &Db, org: OrgId, person: PersonId) -> Result<bool> {
    let sql = format!(
        "SELECT EXISTS (SELECT 1 FROM committee_positions cp JOIN org_closure c ON c.ancestor_id = cp.org_id \
         WHERE c.descendant_id = $1 AND cp.person_id = $2 AND cp.ended_on IS NULL \
         AND ((cp.org_id = $1 AND cp.role IN ({})) OR cp.role = 'presenter'))",
        CommitteeRole::sql_list(CommitteeRole::LEADING)
    );
    let (ok,): (bool,) =
        db_run!(db, p => sqlx::query_as(&sql).bind(org.0).bind(person.0).fetch_one(p).await)?;
    Ok(ok)
}

/// Whether the class studies a classified resolution.
pub async fn is_classified(db: &Db, class: &Class) -> Result<bool> {
    let sql = format!("SELECT {CLASSIFIED} FROM classes WHERE id = $1");
    let (c,): (bool,) = db_run!(db, p => sqlx::query_as(&sql).bind(class.id).fetch_one(p).await)?;
    Ok(c)
}

/// Checks a presenter for a session of `class`: someone the caller sees, and for a classified
/// class a standing member or an assigned presenter.
pub async fn check_presenter(
    db: &Db,
    scope: &Scope,
    class: &Class,
    presenter: PersonId,
) -> Result<()> {
    let person = crate::org::get_person(db, scope, presenter)
        .await
        .map_err(|_| {
            StoreError::rule(
                "person_not_found",
                "Người trình bày: không tìm thấy người được chọn trong phạm vi của bạn.".into(),
            )
        })?;
    if is_classified(db, class).await?
        && !may_present_classified(db, OrgId(class.org_id), presenter).await?
    {
        return Err(StoreError::rule(
            "presenter_not_allowed",
            format!(
                "Người trình bày: {} không phải Ủy viên Ban Thường vụ của cấp ủy tổ chức lớp hay báo cáo viên được phân công; nội dung nghị quyết mật chỉ do những người này trình bày.",
                person.full_name
            ),
        ));
    }
    Ok(())
}

/// Records who presents a session and whether it carries the key content. The class's planner
/// only; not once the class is finished. Audited; the class's warning follows.
pub async fn set_presenter(
    db: &Db,
    scope: &Scope,
    class: &Class,
    session: SessionId,
    presenter: Option<PersonId>,
    key_content: bool,
) -> Result<()> {
    classes::require_planner(db, scope, class).await?;
    if class.is_finished() {
        return Err(StoreError::rule(
            "class_finished",
            "Lớp học đã kết thúc; mở lại lớp học để sửa.".into(),
        ));
    }
    if let Some(p) = presenter {
        check_presenter(db, scope, class, p).await?;
    }
    let detail = format!(
        "người trình bày: {}, trọng tâm: {}",
        presenter.map_or("—".to_string(), |p| p.0.to_string()),
        if key_content { "có" } else { "không" }
    );
    db_run!(db, p => {
        let mut tx = p.begin().await?;
        let done = sqlx::query("UPDATE study_sessions SET presenter_person_id = $3, key_content = $4 WHERE id = $1 AND class_id = $2 AND status <> 'cancelled'")
            .bind(session.0).bind(class.id).bind(presenter.map(|p| p.0)).bind(key_content)
            .execute(&mut *tx).await?.rows_affected();
        if done == 0 {
            return Err(StoreError::NotFound);
        }
        sqlx::query(&REFRESH_CLASS).bind(class.id).execute(&mut *tx).await?;
        crate::audit_in!(&mut *tx, scope, "set_presenter", "session", session.0, Some(OrgId(class.org_id)), &detail)?;
        tx.commit().await?;
        Ok::<_, StoreError>(())
    })
}

/// Classes of the caller's subtree that carry a lead warning, counted up to the cap (the
/// dashboard's figure; a partial index holds only the warned classes).
pub async fn warned_count(db: &Db, scope: &Scope) -> Result<i64> {
    let sql = format!(
        "SELECT COUNT(*) FROM (SELECT 1 FROM classes k WHERE k.lead_warning AND k.status = 'planned' AND {} LIMIT {}) x",
        Scope::subtree_sql("k.org_id", 1, READ),
        COUNT_CAP + 1
    );
    let (n,): (i64,) =
        db_run!(db, p => sqlx::query_as(&sql).bind(scope.account_id.0).fetch_one(p).await)?;
    Ok(n)
}
