//! `/api/v1/resolutions`: the catalog (R2.8: classified entries are invisible without clearance).

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use chrono::NaiveDate;
use domain::ids::{OrgId, ResolutionId};
use domain::resolutions::{ResolutionInput, ResolutionKind};
use serde::Deserialize;
use store::resolutions::{self, ResolutionFilter};
use store::Paging;
use utoipa::{IntoParams, ToSchema};

use super::{ApiJson, PageView};
use crate::app::AppState;
use crate::auth::CurrentUser;
use crate::error::{AppError, AppResult, ErrorBody};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/resolutions", get(list).post(create))
        .route("/resolutions/{id}", get(get_one).put(update))
}

view! {
    /// A catalog entry as shown.
    ResolutionView as Resolution from resolutions::Resolution {
        id: i64,
        owner_org_id: i64,
        /// resolution, directive, conclusion, regulation, guideline
        kind: String,
        number: String,
        title: String,
        issuing_body: String,
        released_on: NaiveDate,
        /// public, confidential, secret, top_secret
        classification: String,
        published_on: Option<NaiveDate>,
        summary: Option<String>,
        /// Another entry the caller can see has the same number and issuer (issue 10.6: numbers are
        /// unique only within what a caller can see, so a cleared reader is shown the pair).
        #[serde(default)]
        possible_duplicate: bool,
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Number or title; diacritics and case are ignored.
    pub q: Option<String>,
    /// resolution, directive, conclusion, regulation, guideline
    pub kind: Option<String>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

/// A catalog entry to create or change. Dates as yyyy-mm-dd or dd/mm/yyyy.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ResolutionBody {
    /// The organization that keeps this entry (needed to create; ignored on update).
    pub owner_org_id: Option<i64>,
    /// resolution, directive, conclusion, regulation, guideline
    pub kind: String,
    pub number: String,
    pub title: String,
    pub issuing_body: String,
    pub released_on: String,
    /// public, confidential, secret, top_secret
    pub classification: String,
    pub published_on: Option<String>,
    /// Refused for classified entries (metadata only).
    pub summary: Option<String>,
}

impl ResolutionBody {
    fn input(self) -> ResolutionInput {
        ResolutionInput {
            kind: self.kind,
            number: self.number,
            title: self.title,
            issuing_body: self.issuing_body,
            released_on: self.released_on,
            classification: self.classification,
            published_on: self.published_on.unwrap_or_default(),
            summary: self.summary.unwrap_or_default(),
        }
    }
}

/// Entries the caller may see, newest first.
#[utoipa::path(get, path = "/api/v1/resolutions", operation_id = "list_resolutions", tag = "resolutions", params(ListQuery),
    responses((status = 200, body = PageView<ResolutionView>), (status = 401, body = ErrorBody), (status = 400, body = ErrorBody)))]
pub async fn list(
    State(st): State<AppState>,
    user: CurrentUser,
    Query(q): Query<ListQuery>,
) -> AppResult<Json<PageView<ResolutionView>>> {
    let kind = match q.kind.as_deref().filter(|k| !k.is_empty()) {
        Some(k) => Some(
            ResolutionKind::parse(k)
                .map_err(|_| AppError::BadRequest("Loại văn bản không hợp lệ.".into()))?,
        ),
        None => None,
    };
    let filter = ResolutionFilter { q: q.q, kind };
    Ok(Json(
        resolutions::list(
            &st.db,
            user.scope(),
            &filter,
            Paging::new(q.page, q.per_page),
        )
        .await?
        .into(),
    ))
}

/// Adds an entry (organizer or admin of the owning organization).
#[utoipa::path(post, path = "/api/v1/resolutions", operation_id = "create_resolution", tag = "resolutions", request_body = ResolutionBody,
    responses((status = 201, body = ResolutionView), (status = 422, body = ErrorBody), (status = 409, body = ErrorBody), (status = 404, body = ErrorBody), (status = 403, body = ErrorBody), (status = 401, body = ErrorBody), (status = 400, body = ErrorBody)))]
pub async fn create(
    State(st): State<AppState>,
    user: CurrentUser,
    ApiJson(body): ApiJson<ResolutionBody>,
) -> AppResult<(StatusCode, Json<ResolutionView>)> {
    let owner = body.owner_org_id;
    let new = body.input().validate();
    let owner = match (owner, new) {
        (Some(o), Ok(new)) => (OrgId(o), new),
        (None, r) => {
            let mut e = r.err().unwrap_or_default();
            e.add("owner_org_id", "Chọn cơ quan quản lý văn bản.");
            return Err(e.into());
        }
        (_, Err(e)) => return Err(e.into()),
    };
    let id = resolutions::create(&st.db, user.scope(), owner.0, &owner.1).await?;
    Ok((
        StatusCode::CREATED,
        Json(resolutions::get(&st.db, user.scope(), id).await?.into()),
    ))
}

/// One entry; 404 when it does not exist or the caller is not cleared for it.
#[utoipa::path(get, path = "/api/v1/resolutions/{id}", tag = "resolutions", params(("id" = i64, Path, description = "resolution id")),
    responses((status = 200, body = ResolutionView), (status = 404, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn get_one(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> AppResult<Json<ResolutionView>> {
    Ok(Json(
        resolutions::get(&st.db, user.scope(), ResolutionId(id))
            .await?
            .into(),
    ))
}

/// Changes an entry.
#[utoipa::path(put, path = "/api/v1/resolutions/{id}", tag = "resolutions", params(("id" = i64, Path, description = "resolution id")), request_body = ResolutionBody,
    responses((status = 200, body = ResolutionView), (status = 422, body = ErrorBody), (status = 409, body = ErrorBody), (status = 404, body = ErrorBody), (status = 403, body = ErrorBody), (status = 401, body = ErrorBody), (status = 400, body = ErrorBody)))]
pub async fn update(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<ResolutionBody>,
) -> AppResult<Json<ResolutionView>> {
    let new = body.input().validate()?;
    resolutions::update(&st.db, user.scope(), ResolutionId(id), &new).await?;
    Ok(Json(
        resolutions::get(&st.db, user.scope(), ResolutionId(id))
            .await?
            .into(),
    ))
}
