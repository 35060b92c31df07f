//! `/api/v1/classes/{id}/attendance/import`: attendance typed in from paper (R3.4), one file
//! (xlsx or csv) for several sessions, checked whole and written in one transaction; and the
//! pre-filled xlsx template.

use axum::body::Bytes;
use axum::extract::{FromRequest, Multipart, Path, Query, Request, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use domain::ids::ClassId;
use domain::org::import::CellError;
use serde::Deserialize;
use store::study::attendance_file;
use store::study::classes;
use utoipa::IntoParams;

use crate::app::AppState;
use crate::auth::CurrentUser;
use crate::error::{AppError, AppResult, ErrorBody};

/// Paths relative to `/api/v1` (the API's 4 MB body cap applies).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/classes/{id}/attendance/import",
            post(import).layer(axum::extract::DefaultBodyLimit::max(4 * 1024 * 1024)),
        )
        .route("/classes/{id}/attendance/template.xlsx", get(template))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AttendanceImportQuery {
    /// Kind of a raw body: `csv` or `xlsx` (the content decides; the name is for messages).
    /// Ignored for a multipart upload, whose `file` part carries its own name.
    pub format: Option<String>,
    /// `true` checks only; the default writes when the file has no error.
    pub dry_run: Option<bool>,
}

view! {
    /// What checking (and writing) an attendance file did.
    AttendanceImportView as AttendanceImport from attendance_file::AttendanceImport {
        /// Data rows read (the heading row excluded).
        rows: usize,
        /// Marks written, or that would be written.
        marks: usize,
        /// Rows without a status: left unrecorded.
        blank: usize,
        /// Sessions the marks belong to.
        sessions: usize,
        /// Every problem, by spreadsheet row and column; when not empty nothing was written.
        errors: Vec<CellError>,
        /// Whether the marks were written (false on a dry run or when the file has errors).
        written: bool,
    }
}

/// The file: the `file` part of a multipart body, or the raw body.
async fn file_of(req: Request, q: &AttendanceImportQuery) -> AppResult<(String, Bytes)> {
    let multipart = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    let too_big = || AppError::BadRequest("Tệp quá lớn (tối đa 4 MB) hoặc bị gián đoạn.".into());
    if multipart {
        let mut mp = Multipart::from_request(req, &())
            .await
            .map_err(|e| AppError::BadRequest(e.body_text()))?;
        while let Some(field) = mp.next_field().await.map_err(|_| too_big())? {
            if field.name() == Some("file") {
                let name = field.file_name().unwrap_or("upload").to_string();
                let bytes = field.bytes().await.map_err(|_| too_big())?;
                return Ok((name, bytes));
            }
        }
        return Err(AppError::field(
            "file",
            "Thiếu phần «file» chứa tệp điểm danh.",
        ));
    }
    let name = match q.format.as_deref().map(str::to_lowercase).as_deref() {
        Some("xlsx") => "upload.xlsx",
        Some("csv") | None => "upload.csv",
        Some(_) => {
            return Err(AppError::field(
                "format",
                "Định dạng phải là csv hoặc xlsx.",
            ))
        }
    };
    let bytes = Bytes::from_request(req, &()).await.map_err(|_| too_big())?;
    Ok((name.to_string(), bytes))
}

/// Imports an attendance file for a class (several sessions at once). 200 with the counts when
/// written (or, with `dry_run=true`, when it would be); 422 with every error by row and column
/// when any row is bad, and then nothing is written.
#[utoipa::path(post, path = "/api/v1/classes/{id}/attendance/import", tag = "study",
    params(("id" = i64, Path, description = "class id"), AttendanceImportQuery),
    request_body(content = Vec<u8>, description = "the xlsx or csv file as the raw body, or multipart/form-data with a `file` part",
        content_type = "application/octet-stream"),
    responses((status = 200, body = AttendanceImportView), (status = 422, description = "the file has errors (nothing written), or cannot be read", body = AttendanceImportView),
        (status = 404, body = ErrorBody), (status = 403, body = ErrorBody), (status = 401, body = ErrorBody), (status = 400, body = ErrorBody), (status = 413, body = ErrorBody)))]
pub async fn import(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Query(q): Query<AttendanceImportQuery>,
    req: Request,
) -> AppResult<Response> {
    let scope = user.scope();
    let c = classes::get(&st.db, scope, ClassId(id)).await?;
    classes::access(&st.db, scope, &c, store::scope::ATTEND).await?;
    let (name, bytes) = file_of(req, &q).await?;
    let sheet = store::import::read_sheet(&name, &bytes).await?;
    let report =
        attendance_file::import(&st.db, scope, &c, &sheet, q.dry_run.unwrap_or(false)).await?;
    let status = if report.errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    Ok((status, Json(AttendanceImportView::from(report))).into_response())
}

/// The attendance template of a class: one row per session × participant, pre-filled with the
/// marks already recorded; it re-imports unchanged.
#[utoipa::path(get, path = "/api/v1/classes/{id}/attendance/template.xlsx", tag = "study", params(("id" = i64, Path, description = "class id")),
    responses((status = 200, content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", body = Vec<u8>),
        (status = 404, body = ErrorBody), (status = 403, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn template(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let c = classes::get(&st.db, user.scope(), ClassId(id)).await?;
    let bytes = attendance_file::template(&st.db, user.scope(), &c).await?;
    Ok((
        [(
            header::CONTENT_TYPE,
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )],
        bytes,
    )
        .into_response())
}
