//! `/api/v1` campaigns, classes, sessions, bridge points, participants, attendance, results.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, NaiveDate, Utc};
use domain::ids::{BridgePointId, CampaignId, ClassId, OrgId, PersonId, SessionId};
use domain::org::ManagementLevel;
use domain::study::{
    AttendanceMark, AttendanceStatus, AttendanceSummary, BridgePointInput, CampaignInput,
    ClassInput, SessionInput,
};
use domain::FieldErrors;
use serde::{Deserialize, Serialize};
use store::study::attendance;
use store::study::campaigns;
use store::study::classes::{self, ClassFilter};
use store::study::participants::{self, GenerateRequest};
use store::StoreError;
use utoipa::{IntoParams, ToSchema};

use super::resolutions::ResolutionView;
use super::{views, ApiJson};
use crate::app::AppState;
use crate::auth::CurrentUser;
use crate::error::{AppError, AppResult, ErrorBody};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/campaigns", get(list_campaigns).post(create_campaign))
        .route("/campaigns/{id}", get(get_campaign).put(update_campaign))
        .route("/campaigns/{id}/classes", post(create_class))
        .route("/classes", get(list_classes))
        .route("/classes/{id}", get(get_class).put(update_class))
        .route("/classes/{id}/sessions", post(add_session))
        .route("/classes/{id}/bridge-points", post(add_bridge_point))
        .route(
            "/classes/{id}/participants",
            get(participants).post(add_participant),
        )
        .route("/classes/{id}/participants/generate", post(generate))
        .route(
            "/classes/{id}/participants/{pid}/remove",
            post(remove_participant),
        )
        .route("/classes/{id}/results", get(results))
        .route("/classes/{id}/finish", post(finish))
        .route("/sessions/{id}", axum::routing::put(update_session))
        .route("/sessions/{id}/attendance", get(sheet).put(record))
        .route("/retakes", get(retakes))
}

fn opt(v: Option<i64>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

view! {
    /// A campaign as shown.
    CampaignView as Campaign from campaigns::Campaign {
        id: i64,
        org_id: i64,
        org_name: String,
        name: String,
        leader_person_id: i64,
        /// R1.1: the accountable leader.
        leader_name: String,
        starts_on: NaiveDate,
        ends_on: NaiveDate,
        class_count: i64,
    }
}

/// Campaigns run by organizations the caller sees.
#[utoipa::path(get, path = "/api/v1/campaigns", tag = "study", responses((status = 200, body = [CampaignView]), (status = 401, body = ErrorBody)))]
pub async fn list_campaigns(
    State(st): State<AppState>,
    user: CurrentUser,
) -> AppResult<Json<Vec<CampaignView>>> {
    Ok(Json(views(campaigns::list(&st.db, user.scope()).await?)))
}

/// A campaign to create (R3.1, R1.1). Dates as yyyy-mm-dd or dd/mm/yyyy.
#[derive(Debug, Deserialize, ToSchema)]
pub struct CampaignBody {
    pub name: String,
    pub org_id: i64,
    /// R1.1: the accountable leader.
    pub leader_person_id: i64,
    pub starts_on: String,
    pub ends_on: String,
    pub resolution_ids: Vec<i64>,
}

/// The form input of a campaign body (the same rules for create and update).
fn campaign_input(b: CampaignBody) -> CampaignInput {
    CampaignInput {
        name: b.name,
        org_id: b.org_id.to_string(),
        leader_person_id: b.leader_person_id.to_string(),
        starts_on: b.starts_on,
        ends_on: b.ends_on,
        resolution_ids: b.resolution_ids.iter().map(i64::to_string).collect(),
    }
}

/// Corrects a campaign (issue 11.7): the organizer of its organization; the same checks as on
/// creation; resolutions the caller may not see stay in it. Audited.
#[utoipa::path(put, path = "/api/v1/campaigns/{id}", tag = "study", params(("id" = i64, Path, description = "campaign id")), request_body = CampaignBody,
    responses((status = 200, body = CampaignView), (status = 422, body = ErrorBody), (status = 404, body = ErrorBody), (status = 403, body = ErrorBody), (status = 401, body = ErrorBody), (status = 400, body = ErrorBody)))]
pub async fn update_campaign(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<CampaignBody>,
) -> AppResult<Json<CampaignView>> {
    let scope = user.scope();
    let old = campaigns::get(&st.db, scope, CampaignId(id)).await?;
    let new = campaign_input(b).validate()?;
    campaigns::update(&st.db, scope, &old, &new).await?;
    Ok(Json(
        campaigns::get(&st.db, scope, CampaignId(id)).await?.into(),
    ))
}

/// Creates a campaign bundling several resolutions.
#[utoipa::path(post, path = "/api/v1/campaigns", tag = "study", request_body = CampaignBody,
    responses((status = 201, body = CampaignView), (status = 422, body = ErrorBody), (status = 404, body = ErrorBody), (status = 403, body = ErrorBody), (status = 401, body = ErrorBody), (status = 400, body = ErrorBody)))]
pub async fn create_campaign(
    State(st): State<AppState>,
    user: CurrentUser,
    ApiJson(b): ApiJson<CampaignBody>,
) -> AppResult<(StatusCode, Json<CampaignView>)> {
    let new = campaign_input(b).validate()?;
    let id = campaigns::create(&st.db, user.scope(), &new).await?;
    Ok((
        StatusCode::CREATED,
        Json(campaigns::get(&st.db, user.scope(), id).await?.into()),
    ))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CampaignDetail {
    pub campaign: CampaignView,
    pub resolutions: Vec<ResolutionView>,
    pub classes: Vec<ClassView>,
}

/// A campaign with its resolutions and classes.
#[utoipa::path(get, path = "/api/v1/campaigns/{id}", tag = "study", params(("id" = i64, Path, description = "campaign id")),
    responses((status = 200, body = CampaignDetail), (status = 404, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn get_campaign(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> AppResult<Json<CampaignDetail>> {
    let scope = user.scope();
    let campaign = campaigns::get(&st.db, scope, CampaignId(id)).await?;
    let resolutions = campaigns::resolutions(&st.db, scope, CampaignId(id)).await?;
    let classes = classes::list(
        &st.db,
        scope,
        &ClassFilter {
            campaign_id: Some(CampaignId(id)),
        },
    )
    .await?;
    Ok(Json(CampaignDetail {
        campaign: campaign.into(),
        resolutions: views(resolutions),
        classes: views(classes),
    }))
}

view! {
    /// A class as shown.
    ClassView as Class from classes::Class {
        id: i64,
        campaign_id: i64,
        campaign_name: String,
        org_id: i64,
        org_name: String,
        title: String,
        /// in_person, online, hybrid
        form: String,
        /// key_cadres, grassroots, public
        audience_tier: String,
        venue_name: Option<String>,
        venue_capacity: Option<i64>,
        chair_person_id: Option<i64>,
        chair_name: Option<String>,
        opening_speaker_id: Option<i64>,
        opening_speaker_name: Option<String>,
        closing_speaker_id: Option<i64>,
        closing_speaker_name: Option<String>,
        /// R3.5: percent of class time.
        retake_threshold: i64,
        /// planned or finished
        status: String,
        participant_count: i64,
        /// R1.3: the chair, the speakers or the key content's presenters are not standing
        /// members of the organizing committee (the detail's warnings say which).
        lead_warning: bool,
        session_count: i64,
        discussion_count: i64,
        class_minutes: i64,
        first_session_at: Option<DateTime<Utc>>,
        /// The caller may open the class's campaign (issue 11.6: never link a page that answers 404).
        #[serde(default)]
        campaign_visible: bool,
    }
}

view! {
    /// A session (buổi học) of a class.
    StudySessionView as StudySession from classes::StudySession {
        id: i64,
        class_id: i64,
        starts_at: DateTime<Utc>,
        duration_minutes: i64,
        topic: String,
        is_discussion: bool,
        /// Attendance marks recorded so far.
        recorded_count: i64,
        /// Who presents it (R1.3).
        presenter_person_id: Option<i64>,
        presenter_name: Option<String>,
        /// It carries the key content (R1.3).
        key_content: bool,
    }
}

view! {
    /// A bridge point (điểm cầu) of an online class (R2.2).
    BridgePointView as BridgePoint from classes::BridgePoint {
        id: i64,
        class_id: i64,
        org_id: i64,
        org_name: String,
        name: String,
        operator_person_id: Option<i64>,
        operator_name: Option<String>,
        capacity: Option<i64>,
        participant_count: i64,
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ClassQuery {
    pub campaign_id: Option<i64>,
}

/// Classes the caller sees (organized in their subtree, or with a bridge point there).
#[utoipa::path(get, path = "/api/v1/classes", tag = "study", params(ClassQuery), responses((status = 200, body = [ClassView]), (status = 401, body = ErrorBody), (status = 400, body = ErrorBody)))]
pub async fn list_classes(
    State(st): State<AppState>,
    user: CurrentUser,
    Query(q): Query<ClassQuery>,
) -> AppResult<Json<Vec<ClassView>>> {
    Ok(Json(views(
        classes::list(
            &st.db,
            user.scope(),
            &ClassFilter {
                campaign_id: q.campaign_id.map(CampaignId),
            },
        )
        .await?,
    )))
}

/// A class to create (R1.3, R2.1, R2.7).
#[derive(Debug, Deserialize, ToSchema)]
pub struct ClassBody {
    pub title: String,
    pub org_id: i64,
    /// in_person, online, hybrid
    pub form: String,
    /// key_cadres, grassroots, public
    pub audience_tier: String,
    pub venue_name: Option<String>,
    pub venue_capacity: Option<i64>,
    pub chair_person_id: Option<i64>,
    pub opening_speaker_id: Option<i64>,
    pub closing_speaker_id: Option<i64>,
    /// Percent; the configured default (40) when absent.
    pub retake_threshold: Option<i64>,
}

/// The form input of a class body (the same rules for create and update).
fn class_input(b: ClassBody) -> ClassInput {
    ClassInput {
        title: b.title,
        org_id: b.org_id.to_string(),
        form: b.form,
        audience_tier: b.audience_tier,
        venue_name: b.venue_name.unwrap_or_default(),
        venue_capacity: opt(b.venue_capacity),
        chair_person_id: opt(b.chair_person_id),
        opening_speaker_id: opt(b.opening_speaker_id),
        closing_speaker_id: opt(b.closing_speaker_id),
        retake_threshold: opt(b.retake_threshold),
    }
}

/// Creates a class in a campaign.
#[utoipa::path(post, path = "/api/v1/campaigns/{id}/classes", tag = "study", params(("id" = i64, Path, description = "campaign id")), request_body = ClassBody,
    responses((status = 201, body = ClassView), (status = 422, body = ErrorBody), (status = 404, body = ErrorBody), (status = 403, body = ErrorBody), (status = 401, body = ErrorBody), (status = 400, body = ErrorBody)))]
pub async fn create_class(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<ClassBody>,
) -> AppResult<(StatusCode, Json<ClassView>)> {
    let new = class_input(b).validate()?;
    let cid = classes::create(&st.db, user.scope(), CampaignId(id), &new).await?;
    Ok((
        StatusCode::CREATED,
        Json(classes::get(&st.db, user.scope(), cid).await?.into()),
    ))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ClassDetail {
    pub class: ClassView,
    pub sessions: Vec<StudySessionView>,
    pub bridge_points: Vec<BridgePointView>,
    /// R3.1 (no discussion), R2.1 (overflow) and other warnings, in Vietnamese.
    pub warnings: Vec<String>,
}

/// A correction of a class (issue 11.7): the class's fields, and the reason once it runs.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ClassUpdateBody {
    #[serde(flatten)]
    pub class: ClassBody,
    /// Required once the class's first session has begun (kept in its history, R2.6).
    #[serde(default)]
    pub reason: String,
}

/// Corrects a class; the planner only, not once finished; audited, and kept in the class's
/// history with the reason once it runs.
#[utoipa::path(put, path = "/api/v1/classes/{id}", tag = "study", params(("id" = i64, Path, description = "class id")), request_body = ClassUpdateBody,
    responses((status = 200, body = ClassView), (status = 422, body = ErrorBody), (status = 404, body = ErrorBody), (status = 403, body = ErrorBody), (status = 401, body = ErrorBody), (status = 400, body = ErrorBody)))]
pub async fn update_class(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<ClassUpdateBody>,
) -> AppResult<Json<ClassView>> {
    let scope = user.scope();
    let class = classes::get(&st.db, scope, ClassId(id)).await?;
    let new = class_input(b.class).validate()?;
    classes::update(&st.db, scope, &class, &new, &b.reason).await?;
    Ok(Json(classes::get(&st.db, scope, ClassId(id)).await?.into()))
}

/// A class with its sessions, bridge points and warnings.
#[utoipa::path(get, path = "/api/v1/classes/{id}", tag = "study", params(("id" = i64, Path, description = "class id")),
    responses((status = 200, body = ClassDetail), (status = 404, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn get_class(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> AppResult<Json<ClassDetail>> {
    let class = classes::get(&st.db, user.scope(), ClassId(id)).await?;
    let sessions = classes::sessions(&st.db, &class).await?;
    let bridge_points = classes::bridge_points(&st.db, &class).await?;
    let warnings = crate::study::class_warnings(&st.db, &class).await?;
    Ok(Json(ClassDetail {
        class: class.into(),
        sessions: views(sessions),
        bridge_points: views(bridge_points),
        warnings,
    }))
}

/// A session: date (yyyy-mm-dd or dd/mm/yyyy), start time hh:mm in Vietnam time.
#[derive(Debug, Deserialize, ToSchema)]
pub struct SessionBody {
    pub date: String,
    pub start_time: String,
    pub duration_minutes: i64,
    pub topic: String,
    #[serde(default)]
    pub is_discussion: bool,
    /// Who presents it (R1.3; on a new session only — a session's presenter changes through
    /// `PUT /api/v1/sessions/{id}/presenter`).
    #[serde(default)]
    pub presenter_person_id: Option<i64>,
    /// It carries the key content (R1.3; on a new session only).
    #[serde(default)]
    pub key_content: bool,
}

/// Adds a session to a class.
#[utoipa::path(post, path = "/api/v1/classes/{id}/sessions", tag = "study", params(("id" = i64, Path, description = "class id")), request_body = SessionBody,
    responses((status = 201, body = StudySessionView), (status = 422, body = ErrorBody), (status = 404, body = ErrorBody), (status = 403, body = ErrorBody), (status = 401, body = ErrorBody), (status = 400, body = ErrorBody)))]
pub async fn add_session(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<SessionBody>,
) -> AppResult<(StatusCode, Json<StudySessionView>)> {
    let class = classes::get(&st.db, user.scope(), ClassId(id)).await?;
    let input = SessionInput {
        date: b.date,
        start_time: b.start_time,
        duration_minutes: b.duration_minutes.to_string(),
        topic: b.topic,
        is_discussion: b.is_discussion.then(|| "true".into()),
        presenter_person_id: b
            .presenter_person_id
            .map(|p| p.to_string())
            .unwrap_or_default(),
        key_content: b.key_content.then(|| "true".into()),
    };
    let new = input.validate()?;
    let sid = classes::add_session(&st.db, user.scope(), &class, &new).await?;
    let (_, s) = classes::session(&st.db, user.scope(), sid).await?;
    Ok((StatusCode::CREATED, Json(s.into())))
}

/// A session corrected (issue 11.7), with the reason the class's history keeps once it runs.
#[derive(Debug, Deserialize, ToSchema)]
pub struct SessionUpdateBody {
    #[serde(flatten)]
    pub session: SessionBody,
    #[serde(default)]
    pub reason: String,
}

/// Corrects a session's topic, length, kind or (before it begins) start; the planner only, not
/// once the class is finished; audited, and kept in the class's history with the reason once
/// the class runs (R2.6).
#[utoipa::path(put, path = "/api/v1/sessions/{id}", tag = "study", params(("id" = i64, Path, description = "session id")), request_body = SessionUpdateBody,
    responses((status = 200, body = StudySessionView), (status = 422, body = ErrorBody), (status = 404, body = ErrorBody), (status = 403, body = ErrorBody), (status = 401, body = ErrorBody), (status = 400, body = ErrorBody)))]
pub async fn update_session(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<SessionUpdateBody>,
) -> AppResult<Json<StudySessionView>> {
    let scope = user.scope();
    let (class, _) = classes::session(&st.db, scope, SessionId(id)).await?;
    let input = SessionInput {
        date: b.session.date,
        start_time: b.session.start_time,
        duration_minutes: b.session.duration_minutes.to_string(),
        topic: b.session.topic,
        is_discussion: b.session.is_discussion.then(|| "true".into()),
        ..Default::default()
    };
    let new = input.validate()?;
    store::study::changes::update_session(&st.db, scope, &class, id, &new, &b.reason).await?;
    let (_, s) = classes::session(&st.db, scope, SessionId(id)).await?;
    Ok(Json(s.into()))
}

/// A bridge point (R2.2).
#[derive(Debug, Deserialize, ToSchema)]
pub struct BridgePointBody {
    pub org_id: i64,
    pub name: String,
    pub operator_person_id: Option<i64>,
    pub capacity: Option<i64>,
}

/// Adds a bridge point to an online or hybrid class.
#[utoipa::path(post, path = "/api/v1/classes/{id}/bridge-points", tag = "study", params(("id" = i64, Path, description = "class id")), request_body = BridgePointBody,
    responses((status = 201, body = BridgePointView), (status = 422, body = ErrorBody), (status = 409, body = ErrorBody), (status = 404, body = ErrorBody), (status = 403, body = ErrorBody), (status = 401, body = ErrorBody), (status = 400, body = ErrorBody)))]
pub async fn add_bridge_point(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<BridgePointBody>,
) -> AppResult<(StatusCode, Json<BridgePointView>)> {
    let class = classes::get(&st.db, user.scope(), ClassId(id)).await?;
    let input = BridgePointInput {
        org_id: b.org_id.to_string(),
        name: b.name,
        operator_person_id: opt(b.operator_person_id),
        capacity: opt(b.capacity),
    };
    let new = input.validate()?;
    let bid = classes::add_bridge_point(&st.db, user.scope(), &class, &new).await?;
    let bp = classes::bridge_points(&st.db, &class)
        .await?
        .into_iter()
        .find(|b| b.id == bid.0)
        .ok_or(AppError::NotFound)?;
    Ok((StatusCode::CREATED, Json(bp.into())))
}

view! {
    /// A participant row as shown, in Vietnamese name order.
    ParticipantView as Participant from participants::Participant {
        id: i64,
        person_id: i64,
        full_name: String,
        party_card_number: Option<String>,
        org_name: String,
        positions: String,
        bridge_point_id: Option<i64>,
        bridge_point_name: Option<String>,
        /// generated or manual
        source: String,
        /// The reason given when added by hand.
        note: Option<String>,
        /// Set when removed by hand; removed rows stay for the record.
        removed_reason: Option<String>,
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ParticipantQuery {
    /// Also list people removed by hand (with the reason), in their place in name order.
    pub include_removed: Option<bool>,
    /// The page after this participant id (from the `Link: rel="next"` header of the page before).
    pub after: Option<i64>,
    /// Rows per page, 1 to 5,000 (default 1,000).
    pub limit: Option<usize>,
}

/// Participants per page of the API by default.
const PARTICIPANTS_PER_PAGE: usize = 1_000;

/// The participant list, in Vietnamese name order, a page at a time: when more follow, the
/// answer carries `Link: </api/v1/classes/{id}/participants?after=…&limit=…>; rel="next"`.
#[utoipa::path(get, path = "/api/v1/classes/{id}/participants", tag = "study", params(("id" = i64, Path, description = "class id"), ParticipantQuery),
    responses((status = 200, body = [ParticipantView], headers(("link" = String, description = "rel=\"next\": the next page, when there is one"))), (status = 404, body = ErrorBody), (status = 401, body = ErrorBody), (status = 400, body = ErrorBody)))]
pub async fn participants(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Query(q): Query<ParticipantQuery>,
) -> AppResult<axum::response::Response> {
    let class = classes::get(&st.db, user.scope(), ClassId(id)).await?;
    let access = classes::access(&st.db, user.scope(), &class, store::scope::READ).await?;
    let limit = q.limit.unwrap_or(PARTICIPANTS_PER_PAGE).clamp(1, 5_000);
    let with_removed = q.include_removed.unwrap_or(false);
    let mut rows = Vec::new();
    let mut after = q.after;
    // Removed rows are read in place and left out here when not asked for; a page may take a
    // few reads to fill.
    let more = loop {
        let (page, more) = participants::page(&st.db, &class, &access, after, limit).await?;
        after = page.last().map(|p| p.id).or(after);
        rows.extend(
            page.into_iter()
                .filter(|p| with_removed || p.removed_reason.is_none()),
        );
        if !more || rows.len() >= limit {
            break more || rows.len() > limit;
        }
    };
    let more = more && !rows.is_empty();
    rows.truncate(limit);
    let next = rows.last().filter(|_| more).map(|last| {
        format!(
            "/api/v1/classes/{id}/participants?after={}&limit={limit}{}",
            last.id,
            if with_removed {
                "&include_removed=true"
            } else {
                ""
            }
        )
    });
    let rows: Vec<ParticipantView> = views(rows);
    Ok(with_next(Json(rows).into_response(), next))
}

/// Ids (or items) one request may carry in a list (issue 10.8).
pub const MAX_IDS: usize = 5_000;

/// What to generate the list from.
#[derive(Debug, Deserialize, ToSchema, Default)]
#[serde(default)]
pub struct GenerateBody {
    pub org_ids: Vec<i64>,
    pub bridge_point_ids: Vec<i64>,
    /// none, grassroots, commune, province; empty for everyone.
    pub management_levels: Vec<String>,
    /// R2.5 override.
    pub include_completed: bool,
}

view! {
    /// What generation did.
    GenerateReportView as GenerateReport from participants::GenerateReport {
        added: u64,
        already_listed: u64,
        excluded_exempt: u64,
        excluded_completed_elsewhere: u64,
        excluded_not_in_audience: u64,
    }
}

/// Generates the participant list by rule (R2.1, R2.2, R2.5, R3.3).
#[utoipa::path(post, path = "/api/v1/classes/{id}/participants/generate", tag = "study", params(("id" = i64, Path, description = "class id")), request_body = GenerateBody,
    responses((status = 200, body = GenerateReportView), (status = 422, body = ErrorBody), (status = 404, body = ErrorBody), (status = 403, body = ErrorBody), (status = 401, body = ErrorBody), (status = 400, body = ErrorBody)))]
pub async fn generate(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<GenerateBody>,
) -> AppResult<Json<GenerateReportView>> {
    // Issue 10.8: 70,000 ids in one request passed PostgreSQL's parameter limit (a 500).
    for (field, n) in [
        ("org_ids", b.org_ids.len()),
        ("bridge_point_ids", b.bridge_point_ids.len()),
    ] {
        if n > MAX_IDS {
            return Err(AppError::field(
                field,
                format!("Chọn tối đa {MAX_IDS} mục mỗi lần."),
            ));
        }
    }
    let class = classes::get(&st.db, user.scope(), ClassId(id)).await?;
    let mut levels = Vec::new();
    for l in &b.management_levels {
        let level =
            ManagementLevel::parse(l).map_err(|e| AppError::field("management_levels", e))?;
        levels.push(level);
    }
    let req = GenerateRequest {
        org_ids: b.org_ids.into_iter().map(OrgId).collect(),
        bridge_point_ids: b.bridge_point_ids.into_iter().map(BridgePointId).collect(),
        management_levels: levels,
        include_completed: b.include_completed,
    };
    Ok(Json(
        participants::generate(&st.db, user.scope(), &class, &req)
            .await?
            .into(),
    ))
}

/// One person added by hand.
#[derive(Debug, Deserialize, ToSchema)]
pub struct AddParticipantBody {
    pub person_id: Option<i64>,
    pub party_card_number: Option<String>,
    pub bridge_point_id: Option<i64>,
    pub reason: String,
}

/// Adds a person by hand, with a reason.
#[utoipa::path(post, path = "/api/v1/classes/{id}/participants", tag = "study", params(("id" = i64, Path, description = "class id")), request_body = AddParticipantBody,
    responses((status = 204), (status = 422, body = ErrorBody), (status = 404, body = ErrorBody), (status = 403, body = ErrorBody), (status = 401, body = ErrorBody), (status = 400, body = ErrorBody)))]
pub async fn add_participant(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<AddParticipantBody>,
) -> AppResult<StatusCode> {
    let scope = user.scope();
    let class = classes::get(&st.db, scope, ClassId(id)).await?;
    let mut e = FieldErrors::new();
    if b.reason.trim().is_empty() {
        e.add("reason", "Cần ghi lý do thêm vào danh sách.");
    }
    let person = match (
        b.person_id,
        b.party_card_number
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty()),
    ) {
        (Some(p), _) => Some(PersonId(p)),
        (None, Some(card)) => Some(participants::find_person_by_card(&st.db, scope, card).await?),
        (None, None) => {
            e.add("person_id", "Cần mã người hoặc số thẻ đảng viên.");
            None
        }
    };
    e.clone().into_result()?;
    let person = person.ok_or(AppError::Validation(e))?;
    participants::add(
        &st.db,
        scope,
        &class,
        person,
        b.bridge_point_id.map(BridgePointId),
        b.reason.trim(),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct RemoveBody {
    pub reason: String,
}

/// Removes a participant by hand; the row and the reason are kept.
#[utoipa::path(post, path = "/api/v1/classes/{id}/participants/{pid}/remove", tag = "study",
    params(("id" = i64, Path, description = "class id"), ("pid" = i64, Path, description = "participant id")), request_body = RemoveBody,
    responses((status = 204), (status = 422, body = ErrorBody), (status = 404, body = ErrorBody), (status = 403, body = ErrorBody), (status = 401, body = ErrorBody), (status = 400, body = ErrorBody)))]
pub async fn remove_participant(
    State(st): State<AppState>,
    user: CurrentUser,
    Path((id, pid)): Path<(i64, i64)>,
    ApiJson(b): ApiJson<RemoveBody>,
) -> AppResult<StatusCode> {
    let class = classes::get(&st.db, user.scope(), ClassId(id)).await?;
    if b.reason.trim().is_empty() {
        return Err(AppError::field(
            "reason",
            "Cần ghi lý do khi đưa người ra khỏi danh sách.",
        ));
    }
    participants::remove(&st.db, user.scope(), &class, pid, b.reason.trim()).await?;
    Ok(StatusCode::NO_CONTENT)
}

view! {
    /// One line of a session's attendance sheet.
    SheetRowView as SheetRow from attendance::SheetRow {
        participant_id: i64,
        person_id: i64,
        full_name: String,
        org_name: String,
        bridge_point_name: Option<String>,
        /// present, absent, excused; null when not yet recorded
        status: Option<String>,
        late_minutes: i64,
        left_early_minutes: i64,
        reason: Option<String>,
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SheetQuery {
    /// The page after this participant id (from the `Link: rel="next"` header of the page before).
    pub after: Option<i64>,
    /// Rows per page, 1 to 5,000 (default 1,000).
    pub limit: Option<usize>,
}

/// A session's attendance sheet, in Vietnamese name order, a page at a time (keyset; when more
/// follow, `Link: <…?after=…&limit=…>; rel="next"`).
#[utoipa::path(get, path = "/api/v1/sessions/{id}/attendance", tag = "study", params(("id" = i64, Path, description = "session id"), SheetQuery),
    responses((status = 200, body = [SheetRowView], headers(("link" = String, description = "rel=\"next\": the next page, when there is one"))), (status = 404, body = ErrorBody), (status = 403, body = ErrorBody), (status = 401, body = ErrorBody), (status = 400, body = ErrorBody)))]
pub async fn sheet(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Query(q): Query<SheetQuery>,
) -> AppResult<axum::response::Response> {
    let (class, s) = classes::session(&st.db, user.scope(), SessionId(id)).await?;
    let access = classes::access(&st.db, user.scope(), &class, store::scope::READ).await?;
    let limit = q.limit.unwrap_or(PARTICIPANTS_PER_PAGE).clamp(1, 5_000);
    let (rows, more) = attendance::sheet_page(&st.db, &class, &s, &access, q.after, limit).await?;
    let next = rows.last().filter(|_| more).map(|r| {
        format!(
            "/api/v1/sessions/{id}/attendance?after={}&limit={limit}",
            r.participant_id
        )
    });
    let rows: Vec<SheetRowView> = views(rows);
    Ok(with_next(Json(rows).into_response(), next))
}

/// Adds `Link: <next>; rel="next"` when there is a next page.
fn with_next(mut resp: axum::response::Response, next: Option<String>) -> axum::response::Response {
    if let Some(v) = next
        .map(|n| format!("<{n}>; rel=\"next\""))
        .and_then(|l| axum::http::HeaderValue::from_str(&l).ok())
    {
        resp.headers_mut().insert(axum::http::header::LINK, v);
    }
    resp
}

/// One mark.
#[derive(Debug, Deserialize, ToSchema)]
pub struct MarkBody {
    pub participant_id: i64,
    /// present, absent, excused
    pub status: String,
    pub late_minutes: Option<i64>,
    pub left_early_minutes: Option<i64>,
    /// Required for an excused absence.
    pub reason: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct AttendanceBody {
    pub marks: Vec<MarkBody>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Recorded {
    pub recorded: usize,
}

fn minutes(v: Option<i64>) -> Result<u32, domain::RuleError> {
    u32::try_from(v.unwrap_or(0)).map_err(|_| domain::RuleError::OutOfRange {
        min: 0,
        max: i64::from(u32::MAX),
    })
}

/// Records marks in a batch, all or nothing; recording again replaces the mark (R3.4).
#[utoipa::path(put, path = "/api/v1/sessions/{id}/attendance", operation_id = "record_attendance", tag = "study", params(("id" = i64, Path, description = "session id")), request_body = AttendanceBody,
    responses((status = 200, body = Recorded), (status = 422, body = ErrorBody), (status = 404, body = ErrorBody), (status = 403, body = ErrorBody), (status = 401, body = ErrorBody), (status = 400, body = ErrorBody)))]
pub async fn record(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<AttendanceBody>,
) -> AppResult<Json<Recorded>> {
    let (class, s) = classes::session(&st.db, user.scope(), SessionId(id)).await?;
    let len = u32::try_from(s.duration_minutes).unwrap_or(0);
    let mut errors = FieldErrors::new();
    if b.marks.len() > MAX_IDS {
        return Err(AppError::field(
            "marks",
            format!("Gửi tối đa {MAX_IDS} lượt điểm danh mỗi lần."),
        ));
    }
    let mut marks = Vec::with_capacity(b.marks.len());
    for (i, m) in b.marks.into_iter().enumerate() {
        let parsed = AttendanceStatus::parse(&m.status)
            .and_then(|status| {
                Ok((
                    status,
                    minutes(m.late_minutes)?,
                    minutes(m.left_early_minutes)?,
                ))
            })
            .and_then(|(status, late, early)| {
                AttendanceMark::parse(status, late, early, m.reason, len)
            });
        match parsed {
            Ok(mark) => marks.push((m.participant_id, mark)),
            Err(e) => errors.add(format!("marks[{i}]"), e),
        }
    }
    errors.into_result()?;
    let n = attendance::record(&st.db, user.scope(), &class, &s, &marks).await?;
    Ok(Json(Recorded { recorded: n }))
}

view! {
    /// A participant's time-weighted result over the class.
    ParticipantResultView as ParticipantResult from attendance::ParticipantResult {
        participant_id: i64,
        person_id: i64,
        full_name: String,
        org_name: String,
        bridge_point_name: Option<String>,
        summary: AttendanceSummary,
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ResultsResponse {
    pub class_minutes: i64,
    /// `false` while the class runs: results count only the sessions already held (issue 11.1).
    pub is_final: bool,
    /// Minutes of the sessions the results count.
    pub counted_minutes: i64,
    /// Percent of class time above which a retake is owed.
    pub threshold: i64,
    pub results: Vec<ParticipantResultView>,
    pub retakes: Vec<ParticipantResultView>,
}

/// Each participant's time-weighted attendance and the retake list (R3.5).
#[utoipa::path(get, path = "/api/v1/classes/{id}/results", tag = "study", params(("id" = i64, Path, description = "class id")),
    responses((status = 200, body = ResultsResponse), (status = 404, body = ErrorBody), (status = 403, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn results(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> AppResult<Json<ResultsResponse>> {
    let class = classes::get(&st.db, user.scope(), ClassId(id)).await?;
    let access = classes::access(&st.db, user.scope(), &class, store::scope::READ).await?;
    let results = attendance::results(&st.db, &class, &access).await?;
    let retakes = results
        .iter()
        .filter(|r| r.summary.needs_retake)
        .cloned()
        .map(ParticipantResultView::from)
        .collect();
    let counted: i64 =
        attendance::counted_sessions(&class, classes::sessions(&st.db, &class).await?)
            .iter()
            .map(|s| s.duration_minutes)
            .sum();
    Ok(Json(ResultsResponse {
        class_minutes: class.class_minutes,
        is_final: class.is_finished(),
        counted_minutes: counted,
        threshold: class.retake_threshold,
        results: views(results),
        retakes,
    }))
}

view! {
    /// What finishing a class did.
    FinishReportView as FinishReport from attendance::FinishReport {
        participants: usize,
        retakes: usize,
        completions: usize,
    }
}

/// Ends the class: fixes the retake list and records completion for everyone else.
#[utoipa::path(post, path = "/api/v1/classes/{id}/finish", tag = "study", params(("id" = i64, Path, description = "class id")),
    responses((status = 200, body = FinishReportView), (status = 422, body = ErrorBody), (status = 404, body = ErrorBody), (status = 403, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn finish(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> AppResult<Json<FinishReportView>> {
    let class = classes::get(&st.db, user.scope(), ClassId(id)).await?;
    match attendance::finish(&st.db, user.scope(), &class).await {
        Ok(r) => Ok(Json(r.into())),
        Err(StoreError::Rule(m)) => Err(AppError::Rule(m)),
        Err(e) => Err(e.into()),
    }
}

view! {
    /// A persisted retake (học lại), with the person's name.
    RetakeView as Retake from attendance::Retake {
        class_id: i64,
        class_title: String,
        person_id: i64,
        full_name: String,
        org_name: String,
        missed_minutes: i64,
        excused_minutes: i64,
        class_minutes: i64,
        /// The caller may open the class (issue 11.6: a cell secretary sees his members' retakes of
        /// a province class he cannot open).
        class_visible: bool,
    }
}

/// Everyone in the caller's subtree who still owes a retake.
#[utoipa::path(get, path = "/api/v1/retakes", tag = "study", responses((status = 200, body = [RetakeView]), (status = 401, body = ErrorBody)))]
pub async fn retakes(
    State(st): State<AppState>,
    user: CurrentUser,
) -> AppResult<Json<Vec<RetakeView>>> {
    Ok(Json(views(
        attendance::open_retakes(&st.db, user.scope()).await?,
    )))
}
