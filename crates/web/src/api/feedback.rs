//! `/api/v1/classes/{id}/feedback`: learner feedback (R3.4), read by organizers within their
//! access, written by participants (online) or typed in from paper by organizers and
//! bridge-point secretaries.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use domain::ids::ClassId;
use domain::study::FeedbackInput;
use domain::FieldErrors;
use serde::{Deserialize, Serialize};
use store::study::feedback;
use utoipa::{IntoParams, ToSchema};

use super::{views, ApiJson};
use crate::app::AppState;
use crate::auth::CurrentUser;
use crate::error::{AppError, AppResult, ErrorBody};
use crate::study::feedback::{paper_author, reader, writer, ListQuery, Writer};

pub fn routes() -> Router<AppState> {
    Router::new().route("/classes/{id}/feedback", get(list).post(create))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FeedbackQuery {
    /// 0: the main venue (no bridge point); otherwise one bridge point.
    pub bridge_point_id: Option<i64>,
    /// note, proposal, comment
    pub kind: Option<String>,
    /// 1-based.
    pub page: Option<i64>,
    /// At most 500; 100 by default.
    pub per_page: Option<i64>,
}

view! {
    /// One piece of feedback as organizers read it.
    FeedbackView as Feedback from feedback::Feedback {
        id: i64,
        class_id: i64,
        bridge_point_id: Option<i64>,
        bridge_point_name: Option<String>,
        /// Null when written anonymously on paper.
        person_id: Option<i64>,
        full_name: Option<String>,
        org_name: Option<String>,
        /// note, proposal, comment
        kind: String,
        body: String,
        /// online, paper
        source: String,
        /// Who typed it in (paper) or sent it (online).
        recorded_by_name: Option<String>,
        created_at: DateTime<Utc>,
    }
}

view! {
    /// How many pieces of feedback of one kind.
    KindCountView as KindCount from feedback::KindCount {
        /// note, proposal, comment
        kind: String,
        label: String,
        count: i64,
    }
}

view! {
    /// How many pieces of feedback came through one bridge point (null: the main venue).
    BridgePointCountView as BridgePointCount from feedback::BridgePointCount {
        bridge_point_id: Option<i64>,
        name: String,
        count: i64,
    }
}

view! {
    /// How many pieces of feedback, per kind and per bridge point (the unfiltered visible set).
    FeedbackCountsView as FeedbackCounts from feedback::FeedbackCounts {
        total: i64,
        /// Every kind, in declaration order, zeros included.
        by_kind: Vec<KindCountView> => views,
        /// Bridge points (and the main venue) with at least one.
        by_bridge_point: Vec<BridgePointCountView> => views,
    }
}

/// The feedback of a class the caller may read, newest first, with counts per kind and per
/// bridge point.
#[derive(Debug, Serialize, ToSchema)]
pub struct FeedbackList {
    pub counts: FeedbackCountsView,
    pub items: Vec<FeedbackView>,
    /// Rows matching the filter.
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
}

/// Feedback of a class: everything for the organizer, only what came through their bridge
/// points (or from people of their subtree) for a bridge-point secretary.
#[utoipa::path(get, path = "/api/v1/classes/{id}/feedback", operation_id = "list_feedback", tag = "study", params(("id" = i64, Path, description = "class id"), FeedbackQuery),
    responses((status = 200, body = FeedbackList), (status = 404, body = ErrorBody), (status = 403, body = ErrorBody), (status = 401, body = ErrorBody), (status = 400, body = ErrorBody)))]
pub async fn list(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Query(q): Query<FeedbackQuery>,
) -> AppResult<Json<FeedbackList>> {
    let scope = user.scope();
    let (c, access) = reader(&st, scope, id).await?;
    let filter = ListQuery {
        bridge_point: q.bridge_point_id.map(|b| b.to_string()).unwrap_or_default(),
        kind: q.kind.unwrap_or_default(),
        page: None,
    }
    .filter();
    let per_page = q.per_page.unwrap_or(100).clamp(1, 500);
    let page = q.page.unwrap_or(1).clamp(1, 1_000_000);
    let counts = feedback::counts(&st.db, scope, &c, &access).await?;
    let (items, total) = feedback::list(
        &st.db,
        scope,
        &c,
        &access,
        &filter,
        per_page,
        (page - 1) * per_page,
    )
    .await?;
    Ok(Json(FeedbackList {
        counts: counts.into(),
        items: views(items),
        total,
        page,
        per_page,
    }))
}

/// A feedback to record.
#[derive(Debug, Deserialize, ToSchema)]
pub struct NewFeedbackBody {
    /// note, proposal, comment
    pub kind: String,
    /// 3 to 4000 characters after trimming.
    pub body: String,
    /// online (the caller writes as a participant) or paper (typed in by an organizer or a
    /// bridge-point secretary). By default: online when the caller is listed in the class and
    /// names no participant or bridge point, paper otherwise.
    pub mode: Option<String>,
    /// Paper: the participant row of the writer (absent: anonymous).
    pub participant_id: Option<i64>,
    /// Paper: the writer's party card number, instead of `participant_id`.
    pub party_card_number: Option<String>,
    /// Paper: the bridge point the sheet came from (absent: the writer's own, or the main venue).
    pub bridge_point_id: Option<i64>,
}

/// Records a feedback. A participant's bridge point comes from their participant row; paper
/// entries stay within the typist's attendance rights.
#[utoipa::path(post, path = "/api/v1/classes/{id}/feedback", operation_id = "create_feedback", tag = "study", params(("id" = i64, Path, description = "class id")), request_body = NewFeedbackBody,
    responses((status = 201, body = FeedbackView), (status = 422, body = ErrorBody), (status = 404, body = ErrorBody), (status = 403, body = ErrorBody), (status = 401, body = ErrorBody), (status = 400, body = ErrorBody)))]
pub async fn create(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<NewFeedbackBody>,
) -> AppResult<(StatusCode, Json<FeedbackView>)> {
    let scope = user.scope();
    let names_author =
        b.participant_id.is_some() || b.party_card_number.is_some() || b.bridge_point_id.is_some();
    let want_self = match b.mode.as_deref().map(str::trim) {
        Some("online") => true,
        Some("paper") => false,
        None | Some("") => !names_author,
        Some(_) => {
            return Err(AppError::field(
                "mode",
                "Cách ghi nhận phải là «online» hoặc «paper».",
            ))
        }
    };
    let (c, w) = writer(&st, scope, id, want_self).await?;
    let input = FeedbackInput {
        kind: b.kind,
        body: b.body,
        participant_id: b.participant_id.map(|p| p.to_string()).unwrap_or_default(),
        person_ref: b.party_card_number.unwrap_or_default(),
        bridge_point_id: b.bridge_point_id.map(|p| p.to_string()).unwrap_or_default(),
    };
    let created = match w {
        Writer::Online(_) => {
            if b.mode.as_deref() == Some("paper") || names_author {
                // Only organizers and bridge-point secretaries type in other people's sheets.
                return Err(AppError::Forbidden);
            }
            let new = input.validate()?;
            feedback::create_online(&st.db, scope, ClassId(id), &new).await?
        }
        Writer::Paper(_) if b.mode.as_deref() == Some("online") => {
            // Asked to write as a participant, but the caller is not listed in the class.
            return Err(AppError::Forbidden);
        }
        Writer::Paper(access) => {
            let mut errors = FieldErrors::new();
            let valid = input.validate();
            let (participant, bp) = paper_author(&st, &c, &access, &input, &mut errors).await?;
            let new = match valid {
                Ok(n) if errors.is_empty() => n,
                Ok(_) => return Err(errors.into()),
                Err(mut e) => {
                    for (k, v) in errors.0 {
                        e.add(k, v);
                    }
                    return Err(e.into());
                }
            };
            feedback::create_paper(&st.db, scope, &c, participant, bp, &new).await?
        }
    };
    Ok((StatusCode::CREATED, Json(created.into())))
}
