//! The one error type of the web layer. It becomes an HTML page, or on `/api` a JSON body
//! `{"error": "<stable_code>", "message": "<Vietnamese>", "fields": {…}}`; the cause is logged,
//! never shown.

use std::collections::BTreeMap;

use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use domain::FieldErrors;
use serde::Serialize;
use store::StoreError;

/// An error as the user sees it.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("not found")]
    NotFound,
    #[error("forbidden")]
    Forbidden,
    #[error("unauthorized")]
    Unauthorized,
    /// The session still owes its second factor.
    #[error("second factor required")]
    SecondFactor,
    /// Two-factor authentication must be set up first.
    #[error("second factor enrollment required")]
    EnrollSecondFactor,
    /// An admin-set temporary password must be changed first.
    #[error("password change required")]
    PasswordChangeRequired,
    /// Too many requests or failed logins.
    #[error("too many: {0}")]
    TooMany(&'static str, String),
    #[error("csrf")]
    Csrf,
    #[error("validation: {0:?}")]
    Validation(FieldErrors),
    #[error("conflict on {0}")]
    Conflict(&'static str),
    /// A broken rule: the API answers with the rule's own stable code (issue 12.A).
    #[error("rule: {0}")]
    Rule(domain::Violation),
    #[error("bad request: {0}")]
    BadRequest(String),
    #[error("internal: {0}")]
    Internal(String),
}

/// The JSON error body of the API (also attached to HTML error responses so the API layer can
/// swap the body).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// HTTP status (not part of the body).
    #[serde(skip)]
    #[schema(ignore)]
    pub status: u16,
    /// Stable machine-readable code.
    pub error: String,
    /// Vietnamese message for the user.
    pub message: String,
    /// Vietnamese message per invalid field.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub fields: BTreeMap<String, String>,
}

impl AppError {
    /// Named constructor, as crates.io does: `AppError::not_found()`.
    pub fn not_found() -> Self {
        Self::NotFound
    }

    /// A broken rule with its stable code and Vietnamese message.
    pub fn rule(code: &'static str, message: impl Into<String>) -> Self {
        Self::Rule(domain::Violation::new(code, message))
    }

    /// A validation error on one field, with its Vietnamese message.
    pub fn field(name: &str, message: impl ToString) -> Self {
        let mut f = FieldErrors::new();
        f.add(name, message);
        Self::Validation(f)
    }

    fn parts(&self) -> (StatusCode, &'static str, String) {
        match self {
            Self::SecondFactor => (StatusCode::UNAUTHORIZED, "totp_required", "Cần nhập mã xác thực hai lớp.".into()),
            Self::EnrollSecondFactor => (
                StatusCode::FORBIDDEN,
                "totp_enrollment_required",
                "Tài khoản quản trị hoặc được tiếp cận tài liệu mật phải bật xác thực hai lớp trước khi sử dụng.".into(),
            ),
            Self::TooMany(code, m) => (StatusCode::TOO_MANY_REQUESTS, code, m.clone()),
            Self::PasswordChangeRequired => (
                StatusCode::FORBIDDEN,
                "password_change_required",
                "Mật khẩu của bạn do quản trị viên cấp tạm: hãy đổi mật khẩu trước khi tiếp tục.".into(),
            ),
            Self::NotFound => (
                StatusCode::NOT_FOUND,
                "not_found",
                "Không tìm thấy trang hoặc dữ liệu này, hoặc bạn không có quyền xem.".into(),
            ),
            Self::Forbidden => (
                StatusCode::FORBIDDEN,
                "forbidden",
                "Bạn không có quyền thực hiện thao tác này.".into(),
            ),
            Self::Unauthorized => (
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "Vui lòng đăng nhập.".into(),
            ),
            Self::Csrf => (
                StatusCode::FORBIDDEN,
                "csrf_failed",
                "Phiên làm việc của biểu mẫu đã hết hạn. Vui lòng tải lại trang và thử lại.".into(),
            ),
            Self::Validation(_) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation_failed",
                "Dữ liệu chưa hợp lệ, vui lòng kiểm tra các trường được đánh dấu.".into(),
            ),
            Self::Conflict(what) => (
                StatusCode::CONFLICT,
                "conflict",
                format!("Giá trị trường {} đã tồn tại.", field_label(what)),
            ),
            Self::Rule(v) => (StatusCode::UNPROCESSABLE_ENTITY, v.code, v.message.clone()),
            Self::BadRequest(m) => (StatusCode::BAD_REQUEST, "bad_request", m.clone()),
            Self::Internal(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "Đã có lỗi hệ thống. Vui lòng thử lại sau.".into(),
            ),
        }
    }

    /// The JSON body for this error.
    pub fn body(&self) -> ErrorBody {
        let (status, code, message) = self.parts();
        let mut fields = match self {
            Self::Validation(f) => f.0.clone(),
            _ => BTreeMap::new(),
        };
        if let Self::Conflict(what) = self {
            fields.insert((*what).to_string(), message.clone());
        }
        ErrorBody {
            status: status.as_u16(),
            error: code.into(),
            message,
            fields,
        }
    }
}

fn field_label(what: &str) -> &'static str {
    match what {
        "number" => "Số hiệu",
        "username" => "Tên đăng nhập",
        "code" => "Mã tổ chức",
        "party_card_number" => "Số thẻ đảng viên",
        "org_id" => "Tổ chức",
        _ => "này",
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => Self::NotFound,
            StoreError::Forbidden => Self::Forbidden,
            StoreError::Conflict { what } => Self::Conflict(what),
            StoreError::Rule(v) => Self::Rule(v),
            other => Self::Internal(other.to_string()),
        }
    }
}

impl From<FieldErrors> for AppError {
    fn from(e: FieldErrors) -> Self {
        Self::Validation(e)
    }
}

impl From<askama::Error> for AppError {
    fn from(e: askama::Error) -> Self {
        Self::Internal(format!("template: {e}"))
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let (status, code, message) = self.parts();
        match &self {
            Self::Internal(cause) => tracing::error!(%cause, "request failed"),
            other => tracing::debug!(error = %other, code, "request refused"),
        }
        let body = self.body();
        // Pages send the user where the login continues; the API layer turns these into JSON.
        let redirect = match &self {
            Self::Unauthorized => Some("/login"),
            Self::SecondFactor => Some("/login/totp"),
            Self::EnrollSecondFactor => Some("/account/2fa"),
            Self::PasswordChangeRequired => Some("/account"),
            _ => None,
        };
        let mut resp = if let Some(to) = redirect {
            (StatusCode::SEE_OTHER, [(header::LOCATION, to)]).into_response()
        } else {
            (status, Html(crate::pages::error_page(status, &message))).into_response()
        };
        resp.extensions_mut().insert(body);
        resp
    }
}

/// Result of a handler.
pub type AppResult<T> = Result<T, AppError>;
