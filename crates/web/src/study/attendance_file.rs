//! Paper first, data later (R3.4): the printable tracking sheet of a session, and the upload of
//! attendance files (xlsx or csv, several sessions at once) typed in from paper afterwards, with
//! its xlsx template.

use askama::Template;
use axum::extract::{DefaultBodyLimit, Multipart, Path, Query, State};
use axum::http::{header, HeaderValue};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use base64_lite::encode as b64;
use domain::ids::{ClassId, OrgId, SessionId};
use domain::study::utc_to_local;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use store::study::attendance_file::{self, AttendanceImport, PrintRow};
use store::study::classes::{self, BridgePoint, Class, StudySession};
use store::StoreError;

use crate::app::AppState;
use crate::auth::same_secret;
use crate::error::{AppError, AppResult};
use crate::pages::{Ctx, PageCtx};

/// Largest attendance file accepted over the web (the router caps every body at 4 MB).
pub const MAX_UPLOAD: usize = 4 * 1024 * 1024;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/sessions/{id}/sheet/print", get(print_sheet))
        .route(
            "/classes/{id}/attendance/import",
            get(import_form)
                .post(import_upload)
                .layer(DefaultBodyLimit::max(MAX_UPLOAD)),
        )
        .route("/classes/{id}/attendance/template.xlsx", get(template))
}

// ----- the printed tracking sheet -----

/// Blank numbered lines for people who come without being listed.
const WALK_INS: usize = 10;

/// The print layout: A4 portrait, the table head repeated on every page, no row cut in two.
/// Served inline and allowed by its hash in this page's Content-Security-Policy.
const PRINT_CSS: &str = "\
.sheet-print .session-facts{text-align:center;margin:0 0 1rem}\
.sheet-print .session-facts p{margin:.15rem 0}\
table.attendance-sheet{width:100%;border-collapse:collapse}\
table.attendance-sheet thead{display:table-header-group}\
table.attendance-sheet tr{break-inside:avoid;page-break-inside:avoid}\
table.attendance-sheet th,table.attendance-sheet td{border:1px solid #000;padding:3pt 4pt;vertical-align:top}\
table.attendance-sheet td{height:8mm}\
table.attendance-sheet th.time{width:11%}\
table.attendance-sheet th.sign{width:18%}\
table.attendance-sheet tr.walkin-head td{font-weight:700;height:auto}\
table.attendance-sheet tr.sign-row td{border:0;height:auto;padding:8pt 0 0}\
table.attendance-sheet tbody.doc-last{break-inside:avoid;page-break-inside:avoid}\
.sheet-foot{display:flex;justify-content:space-between;margin-top:1rem;break-inside:avoid;page-break-inside:avoid}\
.sheet-sign{width:50%;text-align:center;min-height:8rem}\
@media print{@page{size:A4 portrait}.sheet-print{font-size:12pt}.sheet-print main{padding:0}}";

/// The app's policy, with this page's inline style allowed by its hash.
fn print_csp() -> String {
    let hash = b64(&Sha256::digest(PRINT_CSS.as_bytes()));
    format!(
        "default-src 'self'; script-src 'self'; style-src 'self' 'sha256-{hash}'; img-src 'self' data:; \
         form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
    )
}

#[derive(Template)]
#[template(path = "study/sheet_print.html")]
struct PrintPage {
    c: Class,
    s: StudySession,
    /// The session's number in the class order (1-based).
    number: usize,
    when: String,
    rows: Vec<PrintRow>,
    bridge_points: Vec<BridgePoint>,
    bridge_point_name: Option<String>,
    doc: crate::print::DocHead,
    sign_date: String,
    css: &'static str,
}

impl PrintPage {
    /// Numbers of the blank lines, following the listed people.
    fn blank_numbers(&self) -> Vec<usize> {
        (1..=WALK_INS).map(|i| self.rows.len() + i).collect()
    }
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
struct PrintQuery {
    bridge_point: Option<String>,
}

/// `GET /sessions/{id}/sheet/print[?bridge_point=ID]`: the tracking sheet in the Party document
/// layout, people in Vietnamese name order, with blank lines for walk-ins (R3.4).
async fn print_sheet(
    State(st): State<AppState>,
    Ctx(_, user): Ctx,
    Path(id): Path<i64>,
    Query(q): Query<PrintQuery>,
) -> AppResult<Response> {
    let scope = user.scope();
    let (c, s) = classes::session(&st.db, scope, SessionId(id)).await?;
    let access = classes::access(&st.db, scope, &c, store::scope::READ).await?;
    let all_points = classes::bridge_points(&st.db, &c).await?;
    // Only the bridge points the caller may see are offered.
    let bridge_points: Vec<BridgePoint> = match &access {
        classes::Access::Full => all_points,
        classes::Access::BridgePoints(ids) => all_points
            .into_iter()
            .filter(|b| ids.contains(&b.id))
            .collect(),
    };
    let filter = match q.bridge_point.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(v) => {
            let id = v.parse::<i64>().map_err(|_| AppError::NotFound)?;
            Some(
                bridge_points
                    .iter()
                    .find(|b| b.id == id)
                    .ok_or(AppError::NotFound)?,
            )
        }
    };
    let rows = attendance_file::print_rows(&st.db, &c, &s, &access, filter.map(|b| b.id)).await?;
    let sessions = classes::sessions(&st.db, &c).await?;
    let number = sessions
        .iter()
        .position(|x| x.id == s.id)
        .map_or(1, |i| i + 1);
    let doc = crate::print::doc_head(&st.db, scope, OrgId(c.org_id), "DS").await?;
    let local = utc_to_local(s.starts_at);
    let sign_date = doc.head.place_date(local.date());
    let when = format!(
        "{} giờ {}, {}",
        local.format("%H"),
        local.format("%M"),
        crate::fmt::long_date(&local.date())
    );
    let html = PrintPage {
        bridge_point_name: filter.map(|b| b.name.clone()),
        c,
        s,
        number,
        when,
        rows,
        bridge_points,
        doc,
        sign_date,
        css: PRINT_CSS,
    }
    .render()?;
    let mut resp = Html(html).into_response();
    if let Ok(v) = HeaderValue::from_str(&print_csp()) {
        resp.headers_mut()
            .insert(header::CONTENT_SECURITY_POLICY, v);
    }
    Ok(resp)
}

// ----- importing attendance files -----

#[derive(Template)]
#[template(path = "study/attendance_file.html")]
struct ImportPage {
    ctx: PageCtx,
    c: Class,
    sessions: Vec<StudySession>,
    report: Option<AttendanceImport>,
    file_name: String,
    message: Option<String>,
    dry_run: bool,
}

async fn import_page(
    st: &AppState,
    ctx: PageCtx,
    c: Class,
    report: Option<AttendanceImport>,
    file_name: String,
    message: Option<String>,
    dry_run: bool,
) -> AppResult<ImportPage> {
    let sessions = classes::sessions(&st.db, &c).await?;
    Ok(ImportPage {
        ctx: ctx.with_nav("campaigns"),
        c,
        sessions,
        report,
        file_name,
        message,
        dry_run,
    })
}

/// The class, if the caller may record its attendance (ATTEND): 404 outside their subtree,
/// 403 when they only read it.
async fn attend_class(st: &AppState, scope: &store::Scope, id: i64) -> AppResult<Class> {
    let c = classes::get(&st.db, scope, ClassId(id)).await?;
    classes::access(&st.db, scope, &c, store::scope::ATTEND).await?;
    Ok(c)
}

/// `GET /classes/{id}/attendance/import`
async fn import_form(
    State(st): State<AppState>,
    Ctx(ctx, user): Ctx,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let c = attend_class(&st, user.scope(), id).await?;
    let page = import_page(&st, ctx, c, None, String::new(), None, false).await?;
    page.ctx.render(&page)
}

/// `POST /classes/{id}/attendance/import` (multipart: csrf, file, dry_run): the whole file is
/// checked; with no error it is written in one transaction, else the errors are listed (422).
async fn import_upload(
    State(st): State<AppState>,
    Ctx(ctx, user): Ctx,
    Path(id): Path<i64>,
    mut mp: Multipart,
) -> AppResult<Response> {
    let scope = user.scope();
    let (mut csrf, mut dry_run, mut file) = (String::new(), false, None);
    while let Some(field) = mp.next_field().await.map_err(|_| {
        AppError::BadRequest("Không đọc được tệp tải lên (tệp quá 4 MB hoặc bị gián đoạn).".into())
    })? {
        match field.name().unwrap_or("") {
            "csrf" => csrf = field.text().await.unwrap_or_default(),
            "dry_run" => dry_run = !field.text().await.unwrap_or_default().is_empty(),
            "file" => {
                // Only shown back to the user (and in the flash cookie): kept short.
                let name: String = field
                    .file_name()
                    .unwrap_or("tep")
                    .chars()
                    .take(80)
                    .collect();
                let bytes = field.bytes().await.map_err(|_| {
                    AppError::BadRequest(
                        "Tệp quá lớn (tối đa 4 MB) hoặc tải lên bị gián đoạn.".into(),
                    )
                })?;
                file = Some((name, bytes));
            }
            _ => {}
        }
    }
    if !same_secret(&csrf, &user.csrf) {
        return Err(AppError::Csrf);
    }
    let c = attend_class(&st, scope, id).await?;
    let (name, bytes) = match file {
        Some((n, b)) if !(b.is_empty() && n.is_empty()) => (n, b),
        _ => {
            let page = import_page(
                &st,
                ctx,
                c,
                None,
                String::new(),
                Some("Chọn tệp Excel (.xlsx) hoặc CSV.".into()),
                dry_run,
            )
            .await?;
            return page.ctx.render_invalid(&page);
        }
    };
    let result = match store::import::read_sheet(&name, &bytes).await {
        Ok(sheet) => attendance_file::import(&st.db, scope, &c, &sheet, dry_run).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(r) if r.written => {
            let msg = format!(
                "Đã nhập {} lượt điểm danh của {} buổi học từ tệp «{name}».",
                domain::text::format_count(r.marks as i64),
                r.sessions
            );
            Ok(ctx.redirect(&format!("/classes/{id}?tab=results"), &msg))
        }
        Ok(r) => {
            let bad = !r.errors.is_empty();
            let page = import_page(&st, ctx, c, Some(r), name, None, dry_run).await?;
            if bad {
                page.ctx.render_invalid(&page)
            } else {
                page.ctx.render(&page)
            }
        }
        Err(StoreError::Rule(domain::Violation { message: m, .. })) => {
            let page = import_page(
                &st,
                ctx,
                c,
                None,
                name.clone(),
                Some(format!("Tệp «{name}»: {m}")),
                dry_run,
            )
            .await?;
            page.ctx.render_invalid(&page)
        }
        Err(e) => Err(e.into()),
    }
}

/// `GET /classes/{id}/attendance/template.xlsx`: the template, pre-filled, that re-imports
/// unchanged.
async fn template(
    State(st): State<AppState>,
    Ctx(_, user): Ctx,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let scope = user.scope();
    let c = classes::get(&st.db, scope, ClassId(id)).await?;
    let bytes = attendance_file::template(&st.db, scope, &c).await?;
    Ok(xlsx(bytes, &format!("diem-danh-lop-{id}")))
}

/// An xlsx download named `<stem>.xlsx`.
pub(crate) fn xlsx(bytes: Vec<u8>, stem: &str) -> Response {
    (
        [
            (
                header::CONTENT_TYPE,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".to_string(),
            ),
            (
                header::CONTENT_DISPOSITION,
                format!(
                    "attachment; filename=\"{}.xlsx\"",
                    stem.replace(['"', '\\'], "")
                ),
            ),
        ],
        bytes,
    )
        .into_response()
}

/// Standard base64 (RFC 4648, with padding), for the CSP hash.
mod base64_lite {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

    pub fn encode(bytes: &[u8]) -> String {
        let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
        for chunk in bytes.chunks(3) {
            let b = [
                chunk[0],
                chunk.get(1).copied().unwrap_or(0),
                chunk.get(2).copied().unwrap_or(0),
            ];
            let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
            for i in 0..4 {
                if i <= chunk.len() {
                    out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
                } else {
                    out.push('=');
                }
            }
        }
        out
    }

    #[cfg(test)]
    mod tests {
        #[test]
        fn encodes_like_rfc_4648() {
            assert_eq!(super::encode(b""), "");
            assert_eq!(super::encode(b"f"), "Zg==");
            assert_eq!(super::encode(b"fo"), "Zm8=");
            assert_eq!(super::encode(b"foo"), "Zm9v");
            assert_eq!(super::encode(b"foobar"), "Zm9vYmFy");
        }
    }
}
