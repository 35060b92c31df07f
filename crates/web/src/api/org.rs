//! `/api/v1/orgs` and `/api/v1/people`.

use axum::extract::{Path, Query, State};
use axum::routing::get;
use axum::{Json, Router};
use chrono::NaiveDate;
use domain::ids::{OrgId, PersonId};
use serde::{Deserialize, Serialize};
use store::org::{self, PeopleFilter};
use store::Paging;
use utoipa::{IntoParams, ToSchema};

use super::views;
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

view! {
    /// An organization as lists show it.
    OrgView as Org from org::Org {
        id: i64,
        parent_id: Option<i64>,
        code: String,
        name: String,
        /// The configurable level name: "Tỉnh ủy", "Đảng ủy xã", "Chi bộ"…
        level_name: String,
        /// party_committee, grassroots, cell, agency, vertical_sector
        kind: String,
        depth: i64,
        /// Members in this organization's whole subtree.
        member_count: i64,
        /// Direct children.
        child_count: i64,
    }
}

view! {
    /// One step of the breadcrumb; `visible` says whether the caller may open it.
    CrumbView as Crumb from org::Crumb {
        id: i64,
        name: String,
        visible: bool,
    }
}

view! {
    /// A person as lists show them.
    PersonView as Person from org::Person {
        id: i64,
        org_id: i64,
        org_name: String,
        /// The name as written.
        full_name: String,
        family_name: String,
        middle_name: String,
        given_name: String,
        birth_date: Option<NaiveDate>,
        /// male or female
        gender: String,
        ethnicity: String,
        party_card_number: Option<String>,
        /// Positions held, separated by "; ".
        positions: String,
        /// none, grassroots, commune, province
        management_level: String,
        exempt_from_activities: bool,
        /// active, moved, deceased, left
        status: String,
        status_on: Option<NaiveDate>,
        home_town: String,
        joined_on: Option<NaiveDate>,
        official_on: Option<NaiveDate>,
    }
}

/// The organizations at the top of what the caller sees.
#[utoipa::path(get, path = "/api/v1/orgs", tag = "org", responses((status = 200, body = [OrgView]), (status = 401, body = ErrorBody)))]
pub async fn roots(State(st): State<AppState>, user: CurrentUser) -> AppResult<Json<Vec<OrgView>>> {
    Ok(Json(views(org::roots(&st.db, user.scope()).await?)))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OrgDetail {
    pub org: OrgView,
    pub breadcrumb: Vec<CrumbView>,
    pub children: Vec<OrgView>,
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
        org: org.into(),
        breadcrumb: views(breadcrumb),
        children: views(children),
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
    /// The page after this person (`next_after` of the page before): keyset paging, the way to
    /// read a long list (issue 12).
    pub after: Option<i64>,
    /// Page number, for older clients: counts and skips rows (`after` does neither).
    pub page: Option<i64>,
    /// 1 to 500 (default 50).
    pub per_page: Option<i64>,
}

/// A page of people.
#[derive(Debug, Serialize, ToSchema)]
pub struct PeoplePage {
    pub items: Vec<PersonView>,
    /// How many match: exact, or at least this many when `total_exact` is false (counted up to
    /// 10,001; the whole subtree is never counted per request).
    pub total: i64,
    pub total_exact: bool,
    /// Pass as `after` for the next page; absent on the last.
    pub next_after: Option<i64>,
    /// With `page`: the page number and size (1 and the size otherwise).
    pub page: i64,
    pub per_page: i64,
}

/// People in the caller's subtree, in Vietnamese name order (given, middle, family name), a page
/// at a time: follow `next_after` (keyset on the name key and the id: a person added or moved
/// between two pages shifts nothing).
#[utoipa::path(get, path = "/api/v1/people", tag = "org", params(PeopleQuery),
    responses((status = 200, body = PeoplePage), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody), (status = 400, body = ErrorBody)))]
pub async fn people(
    State(st): State<AppState>,
    user: CurrentUser,
    Query(q): Query<PeopleQuery>,
) -> AppResult<Json<PeoplePage>> {
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
    if let (Some(_), None) = (q.page, q.after) {
        let p = org::list_people(&st.db, scope, &filter, Paging::new(q.page, q.per_page)).await?;
        let more = p.page * p.per_page < p.total;
        return Ok(Json(PeoplePage {
            next_after: if more {
                p.items.last().map(|x| x.id)
            } else {
                None
            },
            total: p.total,
            total_exact: true,
            page: p.page,
            per_page: p.per_page,
            items: views(p.items),
        }));
    }
    let limit = q.per_page.unwrap_or(50).clamp(1, 500);
    let (mut items, total) =
        org::people_after(&st.db, scope, &filter, q.after.map(PersonId), limit + 1).await?;
    let more = items.len() as i64 > limit;
    items.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    let (total, total_exact) = match total {
        org::Total::Exact(n) => (n, true),
        org::Total::MoreThan(n) => (n, false),
    };
    Ok(Json(PeoplePage {
        next_after: if more {
            items.last().map(|x| x.id)
        } else {
            None
        },
        total,
        total_exact,
        page: 1,
        per_page: limit,
        items: views(items),
    }))
}

/// One person.
#[utoipa::path(get, path = "/api/v1/people/{id}", tag = "org", params(("id" = i64, Path, description = "person id")),
    responses((status = 200, body = PersonView), (status = 404, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn person(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> AppResult<Json<PersonView>> {
    Ok(Json(
        org::get_person(&st.db, user.scope(), PersonId(id))
            .await?
            .into(),
    ))
}

/// Records that a member moved away, passed away or left the Party (with the date), or is active
/// again. Members are never deleted from the register.
#[utoipa::path(put, path = "/api/v1/people/{id}/status", tag = "org", params(("id" = i64, Path, description = "person id")),
    request_body = domain::org::StatusInput,
    responses((status = 200, body = PersonView), (status = 422, body = ErrorBody), (status = 404, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 400, body = ErrorBody)))]
pub async fn set_status(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    super::ApiJson(b): super::ApiJson<domain::org::StatusInput>,
) -> AppResult<Json<PersonView>> {
    let change = b.validate()?;
    org::set_status(&st.db, user.scope(), PersonId(id), &change).await?;
    Ok(Json(
        org::get_person(&st.db, user.scope(), PersonId(id))
            .await?
            .into(),
    ))
}

/// Corrects how the written name splits into family, middle and given name (the sort order).
#[utoipa::path(put, path = "/api/v1/people/{id}/name", tag = "org", params(("id" = i64, Path, description = "person id")),
    request_body = crate::org::NameSplit,
    responses((status = 200, body = PersonView), (status = 422, body = ErrorBody), (status = 404, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 400, body = ErrorBody)))]
pub async fn set_name_split(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    super::ApiJson(b): super::ApiJson<crate::org::NameSplit>,
) -> AppResult<Json<PersonView>> {
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
        org::get_person(&st.db, user.scope(), PersonId(id))
            .await?
            .into(),
    ))
}

/// Corrects a person's record (issue 11.7): name, birth date, gender, ethnicity, card number,
/// positions, home town. The organizer of their organization; audited.
#[utoipa::path(put, path = "/api/v1/people/{id}", tag = "org", params(("id" = i64, Path, description = "person id")),
    request_body = domain::org::PersonEditInput,
    responses((status = 200, body = PersonView), (status = 422, body = ErrorBody), (status = 409, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 401, body = ErrorBody), (status = 400, body = ErrorBody)))]
pub async fn update_person(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    super::ApiJson(b): super::ApiJson<domain::org::PersonEditInput>,
) -> AppResult<Json<PersonView>> {
    let edit = b.validate()?;
    org::update_person(&st.db, user.scope(), PersonId(id), &edit).await?;
    Ok(Json(
        org::get_person(&st.db, user.scope(), PersonId(id))
            .await?
            .into(),
    ))
}
