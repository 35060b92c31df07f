//! `/api/v1/imports`: member and organization files (dry run, then apply), and the xlsx export.

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use domain::ids::OrgId;
use domain::org::import::{CellError, MemberColumn};
use serde::{Deserialize, Serialize};
use store::import;
use utoipa::{IntoParams, ToSchema};

use super::views;
use crate::app::AppState;
use crate::auth::CurrentUser;
use crate::error::{AppResult, ErrorBody};

/// Full paths: these routes sit outside the 4 MB body cap of the rest of the API.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/imports/members",
            post(members).layer(DefaultBodyLimit::max(import::MAX_FILE + 1024)),
        )
        .route(
            "/api/v1/imports/orgs",
            post(orgs).layer(DefaultBodyLimit::max(import::MAX_FILE + 1024)),
        )
        .route("/api/v1/orgs/{id}/members.xlsx", get(export))
        .route("/api/v1/orgs/{id}/orgs.xlsx", get(export_orgs))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImportQuery {
    /// The organization the file covers (members are matched and placed in its subtree).
    pub org_id: Option<i64>,
    /// Check only (the default); `false` writes, in one transaction, when the file has no error.
    pub dry_run: Option<bool>,
    /// With `dry_run=false`: the `new` count of the dry run being confirmed. When given (with
    /// `expect_changed`), nothing is written unless the file still gives the same counts.
    pub expect_new: Option<usize>,
    /// With `dry_run=false`: the `changed_total` count of the dry run being confirmed.
    pub expect_changed: Option<usize>,
}

view! {
    ChangeView as Change from import::Change {
        row: usize,
        person_id: i64,
        full_name: String,
        /// How the person was matched: card number, record number, or name and birth date.
        matched_by: String,
        /// (field, before, after)
        fields: Vec<(String, String, String)>,
    }
}

view! {
    /// A member of the target organization that the file does not list (reported, never deleted).
    MissingView as Missing from import::Missing {
        person_id: i64,
        full_name: String,
        org_name: String,
    }
}

view! {
    /// What importing a member file would do (or did).
    MemberPlanView as MemberPlan from import::MemberPlan {
        /// Each heading and the column it was read as (`null` = ignored).
        mapping: Vec<(String, Option<MemberColumn>)>,
        rows: usize,
        new: usize,
        /// Changed members, field by field (the first [`CHANGES_LISTED`]).
        changed: Vec<ChangeView> => views,
        changed_total: usize,
        unchanged: usize,
        /// Active members of the target that the file does not list (the first [`LISTED`]).
        missing: Vec<MissingView> => views,
        missing_total: usize,
        /// Problems by row and column (the first [`LISTED`], in row order).
        errors: Vec<CellError>,
        error_total: usize,
        /// How many written names each rule split (issue 11.8), so that a secretary can check the
        /// unusual ones; empty when the file gives the name parts.
        name_rules: Vec<NameRuleCountView> => views,
    }
}

view! {
    /// A name-split rule and how many rows it split.
    NameRuleCountView as NameRuleCount from import::NameRuleCount {
        /// last_word, prefix_given_clan, clan_then_given, prefix_given
        rule: String,
        label: String,
        rows: usize,
    }
}

view! {
    /// What an applied import wrote.
    AppliedView as Applied from import::Applied {
        inserted: usize,
        updated: usize,
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MemberImport {
    pub plan: MemberPlanView,
    /// What was written (absent on a dry run or when the file has errors).
    pub applied: Option<AppliedView>,
}

fn file_name(h: &HeaderMap) -> String {
    h.get("x-file-name")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("upload")
        .to_string()
}

/// Member file (xlsx or csv, sent as the raw body; name in `X-File-Name`): dry run or apply.
#[utoipa::path(post, path = "/api/v1/imports/members", tag = "import", params(ImportQuery), request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses((status = 200, body = MemberImport), (status = 422, description = "the file has errors; nothing written", body = MemberImport),
        (status = 404, body = ErrorBody), (status = 403, body = ErrorBody), (status = 401, body = ErrorBody), (status = 400, body = ErrorBody), (status = 413, body = ErrorBody)))]
pub async fn members(
    State(st): State<AppState>,
    user: CurrentUser,
    headers: HeaderMap,
    Query(q): Query<ImportQuery>,
    body: Bytes,
) -> AppResult<Response> {
    let scope = user.scope();
    let Some(org) = q.org_id else {
        return Err(crate::error::AppError::field(
            "org_id",
            "Chọn tổ chức nhận dữ liệu.",
        ));
    };
    let dry_run = q.dry_run.unwrap_or(true);
    let expect = import::Expected::given(q.expect_new, q.expect_changed);
    let opts = import::Options {
        write: !dry_run,
        expect,
        ..Default::default()
    };
    let src = import::Source::bytes(&body);
    drop(body);
    let out = import::import_members(&st.db, scope, OrgId(org), &file_name(&headers), &src, &opts)
        .await?;
    let status = if out.plan.is_clean() || dry_run {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let body = MemberImport {
        plan: out.plan.into(),
        applied: out.applied.map(AppliedView::from),
    };
    Ok((status, Json(body)).into_response())
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OrgImport {
    /// New organizations (to be) created.
    pub created: usize,
    pub errors: Vec<CellError>,
    pub dry_run: bool,
}

/// Organization tree file (columns Mã, Tên, Mã cấp trên, Cấp, Loại): dry run or apply.
#[utoipa::path(post, path = "/api/v1/imports/orgs", tag = "import", params(ImportQuery), request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses((status = 200, body = OrgImport), (status = 422, body = OrgImport), (status = 403, body = ErrorBody), (status = 401, body = ErrorBody), (status = 400, body = ErrorBody), (status = 413, body = ErrorBody)))]
pub async fn orgs(
    State(st): State<AppState>,
    user: CurrentUser,
    headers: HeaderMap,
    Query(q): Query<ImportQuery>,
    body: Bytes,
) -> AppResult<Response> {
    let scope = user.scope();
    if !scope.has_role(store::scope::WRITE) {
        return Err(crate::error::AppError::Forbidden);
    }
    let sheet = import::read_sheet(&file_name(&headers), &body).await?;
    let dry_run = q.dry_run.unwrap_or(true);
    Ok(
        match import::import_orgs(&st.db, scope, &sheet, dry_run).await? {
            Ok(created) => Json(OrgImport {
                created,
                errors: vec![],
                dry_run,
            })
            .into_response(),
            Err(errors) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                Json(OrgImport {
                    created: 0,
                    errors,
                    dry_run,
                }),
            )
                .into_response(),
        },
    )
}

/// The member list of an organization's subtree as xlsx, in the layout the import reads.
#[utoipa::path(get, path = "/api/v1/orgs/{id}/members.xlsx", tag = "import", params(("id" = i64, Path, description = "organization id")),
    responses((status = 200, content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", body = Vec<u8>), (status = 404, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn export(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let bytes = import::export_members(&st.db, user.scope(), OrgId(id)).await?;
    Ok((
        [(
            header::CONTENT_TYPE,
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )],
        bytes,
    )
        .into_response())
}

/// The organization tree under an organization as xlsx, in the layout the org import reads.
#[utoipa::path(get, path = "/api/v1/orgs/{id}/orgs.xlsx", tag = "import", params(("id" = i64, Path, description = "organization id")),
    responses((status = 200, content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", body = Vec<u8>), (status = 404, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn export_orgs(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let bytes = import::export_orgs(&st.db, user.scope(), OrgId(id)).await?;
    Ok((
        [(
            header::CONTENT_TYPE,
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )],
        bytes,
    )
        .into_response())
}
