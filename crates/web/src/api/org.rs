//! `/api/v1/orgs` and `/api/v1/people`.

use axum::extract::{Path, Query, State};
use axum::routing::get;
use axum::{Json, Router};
use domain::ids::{OrgId, PersonId};
use serde::{Deserialize, Serialize};
use store::org::{self, Crumb, Org, PeopleFilter, Person};
use store::{Page, Paging};
use utoipa::{IntoParams, ToSchema};

use crate::app::AppState;
use crate::auth::CurrentUser;
use crate::error::{AppError, AppResult, ErrorBody};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/orgs", get(roots))
        .route("/orgs/{id}", get(detail))
        .route("/people", get(people))
        .route("/people/{id}", get(person).put(update_person))
        .route("/people/{id}/status", axum::routing::put(set_status))
        .route("/people/{id}/name", axum::routing::put(set_name_split))
}

/// The organizations at the top of what the caller sees.
#[utoipa::path(get, path = "/api/v1/orgs", tag = "org", responses((status = 200, body = [Org]), (status = 401, body = ErrorBody)))]
pub async fn roots(State(st): State<AppState>, user: CurrentUser) -> AppResult<Json<Vec<Org>>> {
    Ok(Json(org::roots(&st.db, user.scope()).await?))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OrgDetail {
    pub org: Org,
    pub breadcrumb: Vec<Crumb>,
    pub children: Vec<Org>,
}

/// One organization with its breadcrumb and children.
#[utoipa::path(get, path = "/api/v1/orgs/{id}", operation_id = "org_detail", tag = "org", params(("id" = i64, Path, description = "organization id")),
    responses((status = 200, body = OrgDetail), (status = 404, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn detail(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> AppResult<Json<OrgDetail>> {
    let scope = user.scope();
    let org = org::get(&st.db, scope, OrgId(id)).await?;
    let breadcrumb = org::breadcrumb(&st.db, scope, OrgId(id)).await?;
    let children = org::children(&st.db, scope, OrgId(id)).await?;
    Ok(Json(OrgDetail {
        org,
        breadcrumb,
        children,
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PeopleQuery {
    /// Name or card number; diacritics and case are ignored.
    pub q: Option<String>,
    /// Only this organization's subtree.
    pub org_id: Option<i64>,
    /// Only people with this register status: active, moved, deceased, left.
    pub status: Option<String>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

/// People in the caller's subtree, in Vietnamese name order (given, middle, family name).
#[utoipa::path(get, path = "/api/v1/people", tag = "org", params(PeopleQuery),
    responses((status = 200, body = Page<Person>), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody), (status = 400, body = ErrorBody)))]
pub async fn people(
    State(st): State<AppState>,
    user: CurrentUser,
    Query(q): Query<PeopleQuery>,
) -> AppResult<Json<Page<Person>>> {
    let scope = user.scope();
    if let Some(o) = q.org_id {
        org::get(&st.db, scope, OrgId(o)).await?;
    }
    let status = match q.status.as_deref().filter(|s| !s.is_empty()) {
        Some(code) => Some(
            domain::org::MemberStatus::parse(code)
                .map_err(|_| AppError::field("status", "Trạng thái đảng viên không hợp lệ."))?,
        ),
        None => None,
    };
    let filter = PeopleFilter {
        org_id: q.org_id.map(OrgId),
        q: q.q,
        direct: false,
        status,
    };
    Ok(Json(
        org::list_people(&st.db, scope, &filter, Paging::new(q.page, q.per_page)).await?,
    ))
}

/// One person.
#[utoipa::path(get, path = "/api/v1/people/{id}", tag = "org", params(("id" = i64, Path, description = "person id")),
    responses((status = 200, body = Person), (status = 404, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn person(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> AppResult<Json<Person>> {
    Ok(Json(
        org::get_person(&st.db, user.scope(), PersonId(id)).await?,
    ))
}

/// Records that a member moved away, passed away or left the Party (with the date), or is active
/// again. Members are never deleted from the register.
#[utoipa::path(put, path = "/api/v1/people/{id}/status", tag = "org", params(("id" = i64, Path, description = "person id")),
    request_body = domain::org::StatusInput,
    responses((status = 200, body = Person), (status = 422, body = ErrorBody), (status = 404, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 400, body = ErrorBody)))]
pub async fn set_status(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    super::ApiJson(b): super::ApiJson<domain::org::StatusInput>,
) -> AppResult<Json<Person>> {
    let change = b.validate()?;
    org::set_status(&st.db, user.scope(), PersonId(id), &change).await?;
    Ok(Json(
        org::get_person(&st.db, user.scope(), PersonId(id)).await?,
    ))
}

/// Corrects how the written name splits into family, middle and given name (the sort order).
#[utoipa::path(put, path = "/api/v1/people/{id}/name", tag = "org", params(("id" = i64, Path, description = "person id")),
    request_body = crate::org::NameSplit,
    responses((status = 200, body = Person), (status = 422, body = ErrorBody), (status = 404, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 400, body = ErrorBody)))]
pub async fn set_name_split(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    super::ApiJson(b): super::ApiJson<crate::org::NameSplit>,
) -> AppResult<Json<Person>> {
    org::set_name_split(
        &st.db,
        user.scope(),
        PersonId(id),
        &b.family_name,
        &b.middle_name,
        &b.given_name,
    )
    .await?;
    Ok(Json(
        org::get_person(&st.db, user.scope(), PersonId(id)).await?,
    ))
}

/// Corrects a person's record (issue 11.7): name, birth date, gender, ethnicity, card number,
/// positions, home town. The organizer of their organization; audited.
#[utoipa::path(put, path = "/api/v1/people/{id}", tag = "org", params(("id" = i64, Path, description = "person id")),
    request_body = domain::org::PersonEditInput,
    responses((status = 200, body = Person), (status = 422, body = ErrorBody), (status = 409, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 401, body = ErrorBody), (status = 400, body = ErrorBody)))]
pub async fn update_person(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    super::ApiJson(b): super::ApiJson<domain::org::PersonEditInput>,
) -> AppResult<Json<Person>> {
    let edit = b.validate()?;
    org::update_person(&st.db, user.scope(), PersonId(id), &edit).await?;
    Ok(Json(
        org::get_person(&st.db, user.scope(), PersonId(id)).await?,
    ))
}
