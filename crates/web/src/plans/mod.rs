//! Pages of putting resolutions into practice (issue 14): action programs and plans with their
//! lifecycle and items (R1.2, R7.x), and cascaded tasks (R8.1).

use axum::Router;
use store::org::{self, Org};
use store::Scope;

use crate::app::AppState;

pub mod action_plans;
pub mod calendar;
pub mod tasks;
pub mod timeliness;

pub fn routes() -> Router<AppState> {
    tasks::routes()
        .merge(timeliness::routes())
        .merge(calendar::routes())
        .merge(action_plans::routes())
}

/// The organizations where the caller holds the organizer's role or above: those that may send
/// tasks and issue plans.
pub(crate) async fn organizing(st: &AppState, scope: &Scope) -> Vec<Org> {
    let mut out = Vec::new();
    for g in scope
        .grants
        .iter()
        .filter(|g| g.role >= store::scope::WRITE)
    {
        if let Ok(o) = org::get(&st.db, scope, g.org_id).await {
            out.push(o);
        }
    }
    out
}

/// A report form with an optional evidence file (issue 14.3, 14.5): multipart when the page's
/// form sends a file, urlencoded otherwise (an older page, a script); the fields by name, the
/// file read up to the route's body limit, and the CSRF field checked like every form's.
pub(crate) struct Upload {
    pub user: crate::auth::CurrentUser,
    pub fields: std::collections::HashMap<String, String>,
    pub file: Option<store::plans::action_plans::Evidence>,
}

impl Upload {
    pub fn field(&self, name: &str) -> String {
        self.fields.get(name).cloned().unwrap_or_default()
    }
}

impl axum::extract::FromRequest<AppState> for Upload {
    type Rejection = crate::error::AppError;

    async fn from_request(
        req: axum::extract::Request,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        use crate::error::AppError;
        use axum::extract::{FromRequestParts, Multipart};
        let max_mb = domain::plans::action_plans::EVIDENCE_MAX_BYTES / (1024 * 1024);
        let too_big = || {
            AppError::BadRequest(format!(
                "Tệp minh chứng quá lớn (tối đa {max_mb} MB) hoặc tải lên bị gián đoạn."
            ))
        };
        let (mut parts, body) = req.into_parts();
        let user = crate::auth::CurrentUser::from_request_parts(&mut parts, state).await?;
        let multipart = parts
            .headers
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("multipart/form-data"));
        let req = axum::extract::Request::from_parts(parts, body);
        let mut fields = std::collections::HashMap::new();
        let mut file = None;
        if multipart {
            let mut mp = Multipart::from_request(req, state)
                .await
                .map_err(|_| too_big())?;
            while let Some(field) = mp.next_field().await.map_err(|_| too_big())? {
                let name = field
                    .name()
                    .unwrap_or("")
                    .chars()
                    .take(64)
                    .collect::<String>();
                if name == "file" {
                    let file_name: String = field
                        .file_name()
                        .unwrap_or("")
                        .chars()
                        .filter(|c| !c.is_control() && !domain::text::forbidden_char(*c))
                        .take(120)
                        .collect();
                    let content_type: String = field
                        .content_type()
                        .unwrap_or("application/octet-stream")
                        .chars()
                        .take(100)
                        .collect();
                    let bytes = field.bytes().await.map_err(|_| too_big())?;
                    if bytes.len() > domain::plans::action_plans::EVIDENCE_MAX_BYTES {
                        return Err(too_big());
                    }
                    if !bytes.is_empty() {
                        file = Some(store::plans::action_plans::Evidence {
                            name: if file_name.trim().is_empty() {
                                "minh-chung".into()
                            } else {
                                file_name
                            },
                            content_type,
                            bytes: bytes.to_vec(),
                        });
                    }
                } else if fields.len() < 32 {
                    let v = field.text().await.map_err(|_| too_big())?;
                    fields.insert(name, v);
                }
            }
        } else {
            let bytes = axum::body::Bytes::from_request(req, state)
                .await
                .map_err(|_| too_big())?;
            let pairs: Vec<(String, String)> = serde_html_form::from_bytes(&bytes)
                .map_err(|e| AppError::BadRequest(format!("Biểu mẫu không đọc được: {e}")))?;
            fields.extend(pairs.into_iter().take(32));
        }
        let csrf = fields.get("csrf").map(String::as_str).unwrap_or("");
        if !crate::auth::same_secret(csrf, &user.csrf) {
            return Err(AppError::Csrf);
        }
        Ok(Self { user, fields, file })
    }
}

/// An evidence file as a download, never shown inline: an uploaded HTML or SVG file runs no
/// script in the app's origin.
pub(crate) fn attachment(f: store::plans::action_plans::Evidence) -> axum::response::Response {
    use axum::http::header;
    use axum::response::IntoResponse;
    let ascii: String = f
        .name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    (
        [
            (header::CONTENT_TYPE, "application/octet-stream".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{ascii}\""),
            ),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_string()),
        ],
        f.bytes,
    )
        .into_response()
}
