//! Nhập, xuất dữ liệu (issue 5): upload a member or organization file, see the dry run (counts,
//! column mapping that can be corrected, every problem by row and column), then confirm; export
//! the member list to xlsx.

use askama::Template;
use axum::extract::{DefaultBodyLimit, Multipart, Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use domain::ids::OrgId;
use domain::org::import::{CellError, MemberColumn};
use store::import::{self, MemberPlan};
use store::org::{self, Org};
use store::StoreError;

use crate::app::AppState;
use crate::auth::{same_secret, CsrfForm};
use crate::error::{AppError, AppResult};
use crate::pages::{Ctx, PageCtx};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/import",
            get(form)
                .post(upload)
                .layer(DefaultBodyLimit::max(import::MAX_FILE + 64 * 1024)),
        )
        .route("/import/{id}", post(confirm))
        .route("/import/{id}/changes.csv", get(changes_csv))
        .route("/orgs/{id}/members.xlsx", get(export))
        .route("/orgs/{id}/orgs.xlsx", get(export_orgs))
}

#[derive(Template)]
#[template(path = "import/form.html")]
struct FormPage {
    ctx: PageCtx,
    orgs: Vec<Org>,
    error: Option<String>,
}

async fn form_page(
    st: &AppState,
    ctx: PageCtx,
    scope: &store::Scope,
    error: Option<String>,
) -> AppResult<FormPage> {
    let orgs = org::all_visible(&st.db, scope, 300).await?;
    Ok(FormPage {
        ctx: ctx.with_nav("import"),
        orgs,
        error,
    })
}

async fn form(State(st): State<AppState>, Ctx(ctx, user): Ctx) -> AppResult<Response> {
    if !ctx.can_plan {
        return Err(AppError::Forbidden);
    }
    let page = form_page(&st, ctx, user.scope(), None).await?;
    page.ctx.render(&page)
}

#[derive(Template)]
#[template(path = "import/report.html")]
struct ReportPage {
    ctx: PageCtx,
    upload_id: i64,
    kind: String,
    file_name: String,
    target: Org,
    plan: Option<MemberPlan>,
    org_errors: Vec<CellError>,
    new_orgs: usize,
    columns: &'static [MemberColumn],
    /// Why a confirmation wrote nothing although the file is clean.
    notice: Option<String>,
}

impl ReportPage {
    fn ok(&self) -> bool {
        self.org_errors.is_empty() && self.plan.as_ref().is_none_or(MemberPlan::is_clean)
    }
    /// The current mapping as a query string, for the link to the full list of changes.
    fn mapping_query(&self) -> String {
        let Some(p) = &self.plan else {
            return String::new();
        };
        let pairs: Vec<String> = p
            .mapping
            .iter()
            .enumerate()
            .map(|(i, (_, c))| {
                format!(
                    "col_{i}={}",
                    c.map(|c| format!("{c:?}")).unwrap_or_default()
                )
            })
            .collect();
        format!("?{}", pairs.join("&"))
    }
    fn selected(&self, i: &usize, c: &MemberColumn) -> bool {
        self.plan
            .as_ref()
            .and_then(|p| p.mapping.get(*i))
            .and_then(|m| m.1)
            == Some(*c)
    }
}

/// The dry run of an upload (or the plan a refused confirmation already made).
async fn report(
    st: &AppState,
    ctx: PageCtx,
    scope: &store::Scope,
    upload: &import::Upload,
    mapping: Option<Vec<Option<MemberColumn>>>,
    made: Option<MemberPlan>,
) -> AppResult<ReportPage> {
    let target = org::get(&st.db, scope, OrgId(upload.target_org_id)).await?;
    let (plan, org_errors, new_orgs) = if upload.kind == "orgs" {
        let sheet = import::read_sheet(&upload.file_name, &upload.content).await?;
        match import::import_orgs(&st.db, scope, &sheet, true).await? {
            Ok(n) => (None, vec![], n),
            Err(e) => (None, e, 0),
        }
    } else if let Some(plan) = made {
        (Some(plan), vec![], 0)
    } else {
        let src = import::Source::bytes(&upload.content);
        let target = OrgId(upload.target_org_id);
        let plan =
            import::plan_members(&st.db, scope, target, &upload.file_name, &src, mapping).await?;
        (Some(plan), vec![], 0)
    };
    Ok(ReportPage {
        ctx: ctx.with_nav("import"),
        upload_id: upload.id,
        kind: upload.kind.clone(),
        file_name: upload.file_name.clone(),
        target,
        plan,
        org_errors,
        new_orgs,
        columns: MemberColumn::ALL,
        notice: None,
    })
}

async fn upload(
    State(st): State<AppState>,
    Ctx(ctx, user): Ctx,
    mut mp: Multipart,
) -> AppResult<Response> {
    let scope = user.scope();
    let (mut csrf, mut kind, mut org_id, mut file) =
        (String::new(), String::new(), String::new(), None);
    while let Some(field) = mp
        .next_field()
        .await
        .map_err(|e| AppError::BadRequest(format!("Không đọc được tệp tải lên: {e}")))?
    {
        match field.name().unwrap_or("") {
            "csrf" => csrf = field.text().await.unwrap_or_default(),
            "kind" => kind = field.text().await.unwrap_or_default(),
            "org_id" => org_id = field.text().await.unwrap_or_default(),
            "file" => {
                let name = field.file_name().unwrap_or("tep").to_string();
                let bytes = field.bytes().await.map_err(|_| {
                    AppError::BadRequest("Tệp quá lớn hoặc tải lên bị gián đoạn.".into())
                })?;
                file = Some((name, bytes));
            }
            _ => {}
        }
    }
    if !same_secret(&csrf, &user.csrf) {
        return Err(AppError::Csrf);
    }
    let Some(org) = org_id.trim().parse::<i64>().ok().map(OrgId) else {
        let page = form_page(&st, ctx, scope, Some("Chọn tổ chức nhận dữ liệu.".into())).await?;
        return page.ctx.render_invalid(&page);
    };
    let kind = if kind == "orgs" { "orgs" } else { "members" };
    let (name, bytes) = match file {
        Some((n, b)) if !b.is_empty() => (n, b),
        _ => {
            let page = form_page(
                &st,
                ctx,
                scope,
                Some("Chọn tệp Excel (.xlsx) hoặc CSV.".into()),
            )
            .await?;
            return page.ctx.render_invalid(&page);
        }
    };
    scope.require(&st.db, org, store::scope::WRITE).await?;
    // A file that cannot be read is refused here, before it is kept.
    let src = import::Source::bytes(&bytes);
    if let Err(StoreError::Rule(domain::Violation { message: m, .. })) =
        import::check_readable(&name, &src, import::MAX_FILE as u64).await
    {
        let page = form_page(&st, ctx, scope, Some(m)).await?;
        return page.ctx.render_invalid(&page);
    }
    let id = import::save_upload(&st.db, scope, kind, org, &name, &bytes).await?;
    let up = import::get_upload(&st.db, scope, id).await?;
    let page = report(&st, ctx, scope, &up, None, None).await?;
    page.ctx.render(&page)
}

/// The corrected mapping sent with a form or a link: one `col_<i>` per heading, placed by its
/// index (a heading without a field is ignored); `None` when none is sent.
fn picked_mapping(fields: &[(String, String)]) -> Option<Vec<Option<MemberColumn>>> {
    let picked: Vec<(usize, Option<MemberColumn>)> = fields
        .iter()
        .filter_map(|(k, v)| {
            let i = k.strip_prefix("col_")?.parse::<usize>().ok()?;
            Some((
                i,
                MemberColumn::ALL
                    .iter()
                    .copied()
                    .find(|c| format!("{c:?}") == *v),
            ))
        })
        .collect();
    (!picked.is_empty()).then(|| {
        let width = picked
            .iter()
            .map(|(i, _)| i + 1)
            .max()
            .unwrap_or(0)
            .min(1000);
        let mut m = vec![None; width];
        for (i, c) in picked {
            if let Some(slot) = m.get_mut(i) {
                *slot = c;
            }
        }
        m
    })
}

/// Every change a member file would make, field by field, as CSV (the page lists the first 300).
async fn changes_csv(
    State(st): State<AppState>,
    Ctx(_, user): Ctx,
    Path(id): Path<i64>,
    Query(q): Query<Vec<(String, String)>>,
) -> AppResult<Response> {
    let scope = user.scope();
    let up = import::get_upload(&st.db, scope, id).await?;
    if up.kind != "members" {
        return Err(AppError::NotFound);
    }
    let opts = import::Options {
        mapping: picked_mapping(&q),
        changes_listed: usize::MAX,
        ..Default::default()
    };
    let src = import::Source::bytes(&up.content);
    let target = OrgId(up.target_org_id);
    let out = import::import_members(&st.db, scope, target, &up.file_name, &src, &opts).await?;
    let rows = out
        .plan
        .changed
        .iter()
        .flat_map(|c| {
            c.fields.iter().map(|(field, before, after)| {
                vec![
                    c.row.to_string(),
                    c.full_name.clone(),
                    c.matched_by.clone(),
                    field.clone(),
                    before.clone(),
                    after.clone(),
                ]
            })
        })
        .collect();
    Ok(crate::study::feedback::csv_response(
        "thay-doi-khi-nhap.csv",
        &[
            "Dòng",
            "Họ và tên",
            "Đối chiếu theo",
            "Trường",
            "Trước",
            "Sau",
        ],
        rows,
    ))
}

async fn confirm(
    State(st): State<AppState>,
    Ctx(ctx, _): Ctx,
    Path(id): Path<i64>,
    f: CsrfForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    let scope = f.user.scope();
    let up = import::get_upload(&st.db, scope, id).await?;
    let apply = f.form.iter().any(|(k, v)| k == "action" && v == "apply");
    let mapping = picked_mapping(&f.form);
    let target = OrgId(up.target_org_id);
    let (mut made, mut notice) = (None, None);
    if apply && up.kind == "orgs" {
        let sheet = import::read_sheet(&up.file_name, &up.content).await?;
        if let Ok(n) = import::import_orgs(&st.db, scope, &sheet, false).await? {
            import::drop_upload(&st.db, up.id).await?;
            return Ok(ctx.redirect(
                &format!("/orgs/{}", target.0),
                &format!("Đã nhập {n} tổ chức."),
            ));
        }
    } else if apply {
        let field = |k: &str| {
            f.form
                .iter()
                .find(|(name, _)| name == k)
                .and_then(|(_, v)| v.parse::<usize>().ok())
        };
        let expect = import::Expected::given(field("expect_new"), field("expect_changed"));
        let opts = import::Options {
            mapping: mapping.clone(),
            write: true,
            expect,
            ..Default::default()
        };
        let src = import::Source::bytes(&up.content);
        match import::import_members(&st.db, scope, target, &up.file_name, &src, &opts).await {
            Ok(import::Outcome {
                plan,
                applied: Some(a),
            }) => {
                import::drop_upload(&st.db, up.id).await?;
                let msg = format!("Đã nhập: {} đảng viên mới, cập nhật {} người. {} người có trong tổ chức nhưng không có trong tệp (không xóa).", a.inserted, a.updated, plan.missing_total);
                return Ok(ctx.redirect(&format!("/orgs/{}", target.0), &msg));
            }
            Ok(out) => made = Some(out.plan),
            Err(StoreError::Rule(domain::Violation { message: m, .. })) => notice = Some(m),
            Err(e) => return Err(e.into()),
        }
    }
    let mut page = report(&st, ctx, scope, &up, mapping, made).await?;
    page.notice = notice;
    if apply {
        page.ctx.render_invalid(&page)
    } else {
        page.ctx.render(&page)
    }
}

/// The member list of an organization's subtree as xlsx (re-imports unchanged).
async fn export(
    State(st): State<AppState>,
    Ctx(_, user): Ctx,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let o = org::get(&st.db, user.scope(), OrgId(id)).await?;
    let bytes = import::export_members(&st.db, user.scope(), OrgId(id)).await?;
    Ok(xlsx_download(bytes, &format!("dang-vien-{}", o.code)))
}

/// The organization tree under an organization as xlsx (re-imports unchanged).
async fn export_orgs(
    State(st): State<AppState>,
    Ctx(_, user): Ctx,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let o = org::get(&st.db, user.scope(), OrgId(id)).await?;
    let bytes = import::export_orgs(&st.db, user.scope(), OrgId(id)).await?;
    Ok(xlsx_download(bytes, &format!("to-chuc-{}", o.code)))
}

/// An xlsx file as a download named `<stem>.xlsx`.
fn xlsx_download(bytes: Vec<u8>, stem: &str) -> Response {
    let file = format!(
        "attachment; filename=\"{}.xlsx\"",
        stem.replace(['"', '\\'], "")
    );
    (
        [
            (
                header::CONTENT_TYPE,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".to_string(),
            ),
            (header::CONTENT_DISPOSITION, file),
        ],
        bytes,
    )
        .into_response()
}
