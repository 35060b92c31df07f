//! `/api/v1/conduct`, eligibility and ratings (R3.6, R3.7), and committee positions (R1.3):
//! the same store calls and rules as the pages of `web/src/conduct`.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post, put};
use axum::{Json, Router};
use chrono::{DateTime, NaiveDate, Utc};
use domain::conduct::{ConductInput, RatingLevel};
use domain::ids::{ClassId, ConductRecordId, OrgId, PersonId, SessionId};
use domain::org::positions::CommitteeRole;
use serde::{Deserialize, Serialize};
use store::conduct::{self, CellRow, MemberRow, RatingEntry, Record};
use store::org::positions::{self, Position};
use store::study::classes;
use utoipa::{IntoParams, ToSchema};

use super::{views, ApiJson};
use crate::app::AppState;
use crate::auth::CurrentUser;
use crate::error::{AppError, AppResult, ErrorBody};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/conduct", post(create))
        .route("/conduct/{id}", get(detail))
        .route("/conduct/{id}/withdraw", post(withdraw))
        .route("/people/{id}/conduct", get(of_person))
        .route("/people/{id}/ratings", get(person_ratings))
        .route("/classes/{id}/conduct", get(of_class))
        .route("/orgs/{id}/eligibility", get(eligibility))
        .route("/orgs/{id}/eligibility/members", get(eligibility_members))
        .route("/orgs/{id}/ratings", put(rate))
        .route(
            "/people/{id}/positions",
            get(person_positions).post(add_position),
        )
        .route("/positions/{id}/end", post(end_position))
        .route("/sessions/{id}/presenter", put(set_presenter))
}

view! {
    /// A conduct record (R3.6): never deleted; a withdrawn one keeps who withdrew it and why.
    ConductRecordView as ConductRecord from Record {
        id: ConductRecordId,
        person_id: i64,
        person_name: String,
        /// The person's organization when it was recorded.
        org_id: i64,
        org_name: String,
        class_id: Option<i64>,
        class_title: Option<String>,
        /// commendation, reminder, criticism, review_proposal, discipline_proposal
        kind: String,
        occurred_on: NaiveDate,
        year: i64,
        reason: String,
        recorded_by_name: String,
        recorded_at: DateTime<Utc>,
        withdrawn_at: Option<DateTime<Utc>>,
        withdrawn_by_name: Option<String>,
        withdrawn_reason: Option<String>,
    }
}

view! {
    /// A position in an organization's committee (R1.3, R3.2).
    PositionView as Position from Position {
        id: i64,
        person_id: i64,
        person_name: String,
        org_id: i64,
        org_name: String,
        /// secretary, deputy_secretary, standing_member, executive_member, unit_leader,
        /// propaganda_staff, advisory_staff, presenter
        role: String,
        ended_on: Option<NaiveDate>,
    }
}

/// Conduct records for one person or several at once, at a class or not (R3.6).
#[derive(Debug, Deserialize, ToSchema)]
pub struct ConductBody {
    /// commendation, reminder, criticism, review_proposal, discipline_proposal
    pub kind: String,
    /// yyyy-mm-dd or dd/mm/yyyy; not in the future.
    pub occurred_on: String,
    pub reason: String,
    /// 1 to 500 people in the caller's subtree (secretary and up).
    pub person_ids: Vec<i64>,
    /// At a class: every person must be on its list.
    pub class_id: Option<i64>,
}

/// The records written.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConductCreated {
    pub ids: Vec<i64>,
}

/// Records a commendation, reminder, criticism or proposal for each person (all or nothing).
#[utoipa::path(operation_id = "conduct_create", post, path = "/api/v1/conduct", tag = "conduct", request_body = ConductBody,
    responses((status = 201, body = ConductCreated), (status = 422, body = ErrorBody), (status = 404, body = ErrorBody), (status = 403, body = ErrorBody), (status = 401, body = ErrorBody), (status = 400, body = ErrorBody)))]
pub async fn create(
    State(st): State<AppState>,
    user: CurrentUser,
    ApiJson(b): ApiJson<ConductBody>,
) -> AppResult<(StatusCode, Json<ConductCreated>)> {
    let scope = user.scope();
    let new = ConductInput {
        kind: b.kind,
        occurred_on: b.occurred_on,
        reason: b.reason,
        person_ids: b.person_ids.iter().map(|p| p.to_string()).collect(),
    }
    .validate(store::plans::tasks::today())?;
    let class = match b.class_id {
        Some(c) => Some(classes::get(&st.db, scope, ClassId(c)).await?),
        None => None,
    };
    let ids = conduct::record(&st.db, scope, class.as_ref(), &new).await?;
    Ok((
        StatusCode::CREATED,
        Json(ConductCreated {
            ids: ids.into_iter().map(|i| i.0).collect(),
        }),
    ))
}

/// One record: the person's own, or one of the caller's subtree (secretary and up).
#[utoipa::path(operation_id = "conduct_detail", get, path = "/api/v1/conduct/{id}", tag = "conduct", params(("id" = i64, Path, description = "record id")),
    responses((status = 200, body = ConductRecordView), (status = 404, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn detail(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> AppResult<Json<ConductRecordView>> {
    Ok(Json(
        conduct::get(&st.db, user.scope(), ConductRecordId(id))
            .await?
            .into(),
    ))
}

/// Why a record is withdrawn.
#[derive(Debug, Deserialize, ToSchema)]
pub struct WithdrawBody {
    pub reason: String,
}

/// Withdraws a record: kept with who withdrew it, when and why; audited.
#[utoipa::path(operation_id = "conduct_withdraw", post, path = "/api/v1/conduct/{id}/withdraw", tag = "conduct", params(("id" = i64, Path, description = "record id")), request_body = WithdrawBody,
    responses((status = 200, body = ConductRecordView), (status = 422, body = ErrorBody), (status = 404, body = ErrorBody), (status = 403, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn withdraw(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<WithdrawBody>,
) -> AppResult<Json<ConductRecordView>> {
    let scope = user.scope();
    conduct::withdraw(&st.db, scope, ConductRecordId(id), &b.reason).await?;
    Ok(Json(
        conduct::get(&st.db, scope, ConductRecordId(id))
            .await?
            .into(),
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct YearQuery {
    /// The year (default: this year).
    year: Option<i32>,
}

/// A person's records: their own, or a person of the caller's subtree (secretary and up).
#[utoipa::path(operation_id = "conduct_of_person", get, path = "/api/v1/people/{id}/conduct", tag = "conduct", params(("id" = i64, Path, description = "person id"), YearQuery),
    responses((status = 200, body = [ConductRecordView]), (status = 404, body = ErrorBody), (status = 403, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn of_person(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Query(q): Query<YearQuery>,
) -> AppResult<Json<Vec<ConductRecordView>>> {
    Ok(Json(views(
        conduct::of_person(&st.db, user.scope(), PersonId(id), q.year).await?,
    )))
}

view! {
    /// A year-end rating of a person (personal: the person, and secretaries and up over them).
    PersonRatingView as PersonRating from store::conduct::PersonRating {
        year: i64,
        /// excellent, good, completed, not_completed
        level: String,
        /// The cell it was entered in.
        org_name: String,
        rated_on: NaiveDate,
    }
}

/// A person's year-end ratings, newest first: their own, or a person of the caller's subtree
/// (secretary and up).
#[utoipa::path(operation_id = "conduct_person_ratings", get, path = "/api/v1/people/{id}/ratings", tag = "conduct", params(("id" = i64, Path, description = "person id")),
    responses((status = 200, body = [PersonRatingView]), (status = 404, body = ErrorBody), (status = 403, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn person_ratings(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> AppResult<Json<Vec<PersonRatingView>>> {
    Ok(Json(views(
        conduct::ratings_of_person(&st.db, user.scope(), PersonId(id)).await?,
    )))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BeforeQuery {
    /// `next_before` of the page before.
    before: Option<i64>,
}

/// A page of records, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConductPage {
    pub items: Vec<ConductRecordView>,
    pub next_before: Option<i64>,
}

/// The records of a class the caller may see (secretary and up over each person).
#[utoipa::path(operation_id = "conduct_of_class", get, path = "/api/v1/classes/{id}/conduct", tag = "conduct", params(("id" = i64, Path, description = "class id"), BeforeQuery),
    responses((status = 200, body = ConductPage), (status = 404, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn of_class(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Query(q): Query<BeforeQuery>,
) -> AppResult<Json<ConductPage>> {
    let scope = user.scope();
    let class = classes::get(&st.db, scope, ClassId(id)).await?;
    classes::access(&st.db, scope, &class, store::scope::ATTEND).await?;
    let (rows, next) = conduct::of_class(&st.db, scope, &class, q.before).await?;
    Ok(Json(ConductPage {
        items: views(rows),
        next_before: next,
    }))
}

/// A cell in the eligibility report (R3.7).
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = EligibilityCell)]
pub struct CellView {
    pub org_id: i64,
    pub name: String,
    /// The organization above the cell.
    pub parent_name: String,
    /// Active members on the day of the report.
    pub members: i64,
    /// Members reminded or criticized this year (records not withdrawn).
    pub flagged: i64,
    /// false when 10% or more were reminded or criticized: not to be rated excellent.
    pub eligible: bool,
    /// The cell's rating for the year, if entered.
    pub rating: Option<String>,
}

impl From<CellRow> for CellView {
    fn from(c: CellRow) -> Self {
        Self {
            eligible: !c.barred(),
            org_id: c.org_id,
            name: c.name,
            parent_name: c.parent_name,
            members: c.members,
            flagged: c.flagged,
            rating: c.rating,
        }
    }
}

/// A record that bars a member from an excellent rating.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReasonView {
    pub record_id: i64,
    pub kind: String,
    pub occurred_on: NaiveDate,
    pub reason: String,
}

/// A member in the eligibility report.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = EligibilityMember)]
pub struct MemberView {
    pub person_id: i64,
    pub full_name: String,
    pub org_id: i64,
    pub org_name: String,
    pub eligible: bool,
    pub rating: Option<String>,
    pub reasons: Vec<ReasonView>,
}

impl From<MemberRow> for MemberView {
    fn from(m: MemberRow) -> Self {
        Self {
            eligible: m.eligible(),
            person_id: m.person_id,
            full_name: m.full_name,
            org_id: m.org_id,
            org_name: m.org_name,
            rating: m.rating,
            reasons: m
                .reasons
                .into_iter()
                .map(|r| ReasonView {
                    record_id: r.id,
                    kind: r.kind,
                    occurred_on: r.occurred_on,
                    reason: r.reason,
                })
                .collect(),
        }
    }
}

/// The eligibility report of an organization for a year: every cell, and the totals.
#[derive(Debug, Serialize, ToSchema)]
pub struct EligibilityView {
    pub org_id: i64,
    pub year: i32,
    pub members: i64,
    pub members_ineligible: i64,
    pub cells_ineligible: i64,
    pub cells: Vec<CellView>,
}

/// The year-end rating eligibility of every cell of an organization (R3.7); members in
/// `/eligibility/members`. Secretary and up.
#[utoipa::path(operation_id = "conduct_eligibility", get, path = "/api/v1/orgs/{id}/eligibility", tag = "conduct", params(("id" = i64, Path, description = "organization id"), YearQuery),
    responses((status = 200, body = EligibilityView), (status = 404, body = ErrorBody), (status = 403, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn eligibility(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Query(q): Query<YearQuery>,
) -> AppResult<Json<EligibilityView>> {
    let year = q.year.unwrap_or_else(conduct::this_year);
    let r = conduct::eligibility(&st.db, user.scope(), OrgId(id), year).await?;
    Ok(Json(EligibilityView {
        org_id: r.org.id,
        year,
        members: r.members_total,
        members_ineligible: r.members_barred,
        cells_ineligible: i64::try_from(r.cells_barred()).unwrap_or(i64::MAX),
        cells: r.cells.into_iter().map(Into::into).collect(),
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MembersQuery {
    year: Option<i32>,
    /// `next_after` of the page before.
    after: Option<i64>,
    /// Every active member of the subtree, not only those not eligible (a cell lists all).
    all: Option<bool>,
}

/// A page of members in name order.
#[derive(Debug, Serialize, ToSchema)]
pub struct EligibilityMembersPage {
    pub items: Vec<MemberView>,
    pub next_after: Option<i64>,
}

/// Members of the eligibility report: every member of a cell, or above a cell those not
/// eligible, each with the records that bar them (R3.7).
#[utoipa::path(operation_id = "conduct_eligibility_members", get, path = "/api/v1/orgs/{id}/eligibility/members", tag = "conduct", params(("id" = i64, Path, description = "organization id"), MembersQuery),
    responses((status = 200, body = EligibilityMembersPage), (status = 404, body = ErrorBody), (status = 403, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn eligibility_members(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Query(q): Query<MembersQuery>,
) -> AppResult<Json<EligibilityMembersPage>> {
    let year = q.year.unwrap_or_else(conduct::this_year);
    let r = conduct::eligibility(&st.db, user.scope(), OrgId(id), year).await?;
    let (rows, next) = conduct::members(&st.db, &r, q.all.unwrap_or(false), q.after, 100).await?;
    Ok(Json(EligibilityMembersPage {
        items: rows.into_iter().map(Into::into).collect(),
        next_after: next,
    }))
}

/// One rating: a member's (`person_id`) or, without it, the cell's own.
#[derive(Debug, Deserialize, ToSchema)]
pub struct RatingBody {
    pub person_id: Option<i64>,
    /// excellent, good, completed, not_completed
    pub level: String,
}

/// The year-end ratings of a cell.
#[derive(Debug, Deserialize, ToSchema)]
pub struct RatingsBody {
    /// The year ending or just ended.
    pub year: i32,
    pub ratings: Vec<RatingBody>,
}

/// Enters year-end ratings of a cell (R3.7): its members' (secretary of the cell and up) and its
/// own (the committee above). An excellent rating the rules bar is refused with the reason.
#[utoipa::path(operation_id = "conduct_rate", put, path = "/api/v1/orgs/{id}/ratings", tag = "conduct", params(("id" = i64, Path, description = "cell id")), request_body = RatingsBody,
    responses((status = 204), (status = 422, body = ErrorBody), (status = 404, body = ErrorBody), (status = 403, body = ErrorBody), (status = 401, body = ErrorBody), (status = 400, body = ErrorBody)))]
pub async fn rate(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<RatingsBody>,
) -> AppResult<StatusCode> {
    if b.ratings.is_empty() || b.ratings.len() > 2_000 {
        return Err(AppError::rule(
            "ratings_count",
            "Danh sách xếp loại: từ 1 đến 2.000 mục.",
        ));
    }
    let mut entries = Vec::with_capacity(b.ratings.len());
    for r in &b.ratings {
        let level = RatingLevel::parse(&r.level)
            .map_err(|_| AppError::rule("rating_level", "Mức xếp loại không hợp lệ."))?;
        entries.push(RatingEntry {
            person: r.person_id.map(PersonId),
            level,
        });
    }
    conduct::rate(&st.db, user.scope(), OrgId(id), b.year, &entries).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A person's positions in committees (current first).
#[utoipa::path(operation_id = "conduct_person_positions", get, path = "/api/v1/people/{id}/positions", tag = "org", params(("id" = i64, Path, description = "person id")),
    responses((status = 200, body = [PositionView]), (status = 404, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn person_positions(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> AppResult<Json<Vec<PositionView>>> {
    Ok(Json(views(
        positions::of_person(&st.db, user.scope(), PersonId(id)).await?,
    )))
}

/// A position to give.
#[derive(Debug, Deserialize, ToSchema)]
pub struct PositionBody {
    /// The organization whose committee it is (the caller organizes it; the person belongs to
    /// its subtree).
    pub org_id: i64,
    pub role: String,
}

/// Gives a person a position in a committee; audited; the presenter warnings of the
/// organization's classes follow.
#[utoipa::path(operation_id = "conduct_add_position", post, path = "/api/v1/people/{id}/positions", tag = "org", params(("id" = i64, Path, description = "person id")), request_body = PositionBody,
    responses((status = 201, body = PositionView), (status = 422, body = ErrorBody), (status = 409, body = ErrorBody), (status = 404, body = ErrorBody), (status = 403, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn add_position(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<PositionBody>,
) -> AppResult<(StatusCode, Json<PositionView>)> {
    let role = CommitteeRole::parse(&b.role)
        .map_err(|_| AppError::rule("position_role", "Chức vụ không hợp lệ."))?;
    let scope = user.scope();
    let pid = positions::add(&st.db, scope, PersonId(id), OrgId(b.org_id), role).await?;
    let p = positions::of_person(&st.db, scope, PersonId(id))
        .await?
        .into_iter()
        .find(|p| p.id == pid)
        .ok_or(AppError::NotFound)?;
    Ok((StatusCode::CREATED, Json(p.into())))
}

/// When a position ends.
#[derive(Debug, Deserialize, ToSchema)]
pub struct EndBody {
    /// yyyy-mm-dd or dd/mm/yyyy
    pub ended_on: String,
}

/// Ends a position (kept, with the date); audited.
#[utoipa::path(operation_id = "conduct_end_position", post, path = "/api/v1/positions/{id}/end", tag = "org", params(("id" = i64, Path, description = "position id")), request_body = EndBody,
    responses((status = 204), (status = 422, body = ErrorBody), (status = 404, body = ErrorBody), (status = 403, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn end_position(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<EndBody>,
) -> AppResult<StatusCode> {
    let on = domain::text::parse_date(&b.ended_on)
        .map_err(|e| AppError::rule("ended_on", format!("Ngày kết thúc: {e}")))?;
    positions::end(&st.db, user.scope(), id, on).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Who presents a session and whether it carries the key content (R1.3).
#[derive(Debug, Deserialize, ToSchema)]
pub struct PresenterBody {
    /// A person, or null for nobody.
    pub presenter_person_id: Option<i64>,
    #[serde(default)]
    pub key_content: bool,
}

/// Records a session's presenter (R1.3); a classified resolution's content only by a standing
/// member or an assigned presenter (R2.8, refused otherwise).
#[utoipa::path(operation_id = "conduct_set_presenter", put, path = "/api/v1/sessions/{id}/presenter", tag = "study", params(("id" = i64, Path, description = "session id")), request_body = PresenterBody,
    responses((status = 204), (status = 422, body = ErrorBody), (status = 404, body = ErrorBody), (status = 403, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn set_presenter(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<PresenterBody>,
) -> AppResult<StatusCode> {
    let scope = user.scope();
    let (class, _) = classes::session(&st.db, scope, SessionId(id)).await?;
    store::study::presenters::set_presenter(
        &st.db,
        scope,
        &class,
        SessionId(id),
        b.presenter_person_id.map(PersonId),
        b.key_content,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}
