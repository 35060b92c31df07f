//! Pages of the resolution catalog (R2.8, R6.1).

use crate::reads::Reads;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use domain::ids::{OrgId, ResolutionId};
use domain::resolutions::{Classification, ResolutionInput, ResolutionKind};
use domain::FieldErrors;
use serde::Deserialize;
use store::org::{self, Org};
use store::resolutions::{self, Resolution, ResolutionFilter};
use store::{Page, Paging, Scope, StoreError};

use crate::app::AppState;
use crate::auth::CsrfForm;
use crate::error::{AppError, AppResult};
use crate::pages::{Ctx, PageCtx};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/resolutions", get(list).post(create))
        .route("/resolutions/new", get(new))
        .route("/resolutions/{id}", get(detail).post(update))
        .route("/resolutions/{id}/edit", get(edit))
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
struct ListQuery {
    q: Option<String>,
    kind: Option<String>,
    page: Option<i64>,
}

#[derive(Template)]
#[template(path = "resolutions/list.html")]
struct ListPage {
    ctx: PageCtx,
    q: String,
    kind: String,
    kinds: &'static [ResolutionKind],
    items: Page<Resolution>,
    deadline_days: u32,
}

async fn list(
    Reads(reads): Reads,
    Ctx(ctx, user): Ctx,
    Query(q): Query<ListQuery>,
) -> AppResult<Response> {
    let kind = q
        .kind
        .as_deref()
        .filter(|k| !k.is_empty())
        .and_then(|k| ResolutionKind::parse(k).ok());
    let filter = ResolutionFilter {
        q: q.q.clone(),
        kind,
    };
    let items =
        resolutions::list(&reads, user.scope(), &filter, Paging::new(q.page, Some(50))).await?;
    let ctx = ctx.with_nav("resolutions");
    ctx.render(&ListPage {
        ctx: ctx.clone(),
        q: q.q.unwrap_or_default(),
        kind: kind.map(|k| k.code().to_string()).unwrap_or_default(),
        kinds: ResolutionKind::ALL,
        items,
        deadline_days: store::settings::of_scope(&reads, user.scope())
            .await?
            .publication_deadline_days,
    })
}

#[derive(Template)]
#[template(path = "resolutions/detail.html")]
struct DetailPage {
    ctx: PageCtx,
    r: Resolution,
    can_edit: bool,
    deadline_days: u32,
}

async fn detail(
    State(st): State<AppState>,
    Ctx(ctx, user): Ctx,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let r = resolutions::get(&st.db, user.scope(), ResolutionId(id)).await?;
    let can_edit = user
        .scope()
        .covers(&st.db, OrgId(r.owner_org_id), store::scope::WRITE)
        .await?;
    let ctx = ctx.with_nav("resolutions");
    ctx.render(&DetailPage {
        ctx: ctx.clone(),
        r,
        can_edit,
        deadline_days: store::settings::of_scope(&st.db, user.scope())
            .await?
            .publication_deadline_days,
    })
}

/// The resolution form, new or edit, with what the user typed and the errors.
#[derive(Template)]
#[template(path = "resolutions/form.html")]
struct FormPage {
    ctx: PageCtx,
    /// `None` for a new entry.
    id: Option<i64>,
    input: ResolutionInput,
    owner_org_id: String,
    errors: FieldErrors,
    orgs: Vec<Org>,
    kinds: &'static [ResolutionKind],
    classifications: Vec<Classification>,
}

impl FormPage {
    fn err(&self, field: &str) -> &str {
        self.errors.get(field).unwrap_or("")
    }
}

async fn form_page(
    st: &AppState,
    ctx: PageCtx,
    scope: &Scope,
    id: Option<i64>,
    input: ResolutionInput,
    owner: String,
    errors: FieldErrors,
) -> AppResult<FormPage> {
    let orgs = org::all_visible(&st.db, scope, 300).await?;
    Ok(FormPage {
        ctx: ctx.with_nav("resolutions"),
        id,
        input,
        owner_org_id: owner,
        errors,
        orgs,
        kinds: ResolutionKind::ALL,
        classifications: Classification::visible_set(scope.clearance).collect(),
    })
}

async fn new(State(st): State<AppState>, Ctx(ctx, user): Ctx) -> AppResult<Response> {
    if !ctx.can_plan {
        return Err(AppError::Forbidden);
    }
    let input = ResolutionInput {
        classification: "public".into(),
        kind: "resolution".into(),
        ..Default::default()
    };
    let owner = user
        .scope()
        .grants
        .first()
        .map(|g| g.org_id.to_string())
        .unwrap_or_default();
    let page = form_page(
        &st,
        ctx.clone(),
        user.scope(),
        None,
        input,
        owner,
        FieldErrors::new(),
    )
    .await?;
    ctx.render(&page)
}

/// The resolution form's fields plus the owning organization.
#[derive(Debug, Deserialize)]
struct ResolutionForm {
    #[serde(flatten)]
    input: ResolutionInput,
    #[serde(default)]
    owner_org_id: String,
}

/// Maps a store refusal on a form to the field it concerns, or passes it on.
fn field_error(e: StoreError, errors: &mut FieldErrors) -> Result<(), AppError> {
    match e {
        StoreError::Conflict { what } => {
            errors.add(
                what,
                "Số hiệu này đã có trong danh mục của cùng cơ quan ban hành.",
            );
            Ok(())
        }
        StoreError::Rule(domain::Violation { message: m, .. }) => {
            errors.add("classification", m);
            Ok(())
        }
        other => Err(other.into()),
    }
}

async fn create(
    State(st): State<AppState>,
    Ctx(ctx, _): Ctx,
    f: CsrfForm<ResolutionForm>,
) -> AppResult<Response> {
    let scope = f.user.scope();
    let ResolutionForm {
        input,
        owner_org_id,
    } = f.form;
    let mut errors = FieldErrors::new();
    let owner = owner_org_id.trim().parse::<i64>().map(OrgId);
    if owner.is_err() {
        errors.add("owner_org_id", "Chọn cơ quan quản lý văn bản.");
    }
    match (input.validate(), owner) {
        (Ok(new), Ok(owner)) => match resolutions::create(&st.db, scope, owner, &new).await {
            Ok(id) => {
                return Ok(ctx.redirect(
                    &format!("/resolutions/{id}"),
                    "Đã thêm văn bản vào danh mục.",
                ))
            }
            Err(e) => field_error(e, &mut errors)?,
        },
        (Err(e), _) => errors.0.extend(e.0),
        _ => {}
    }
    let page = form_page(&st, ctx.clone(), scope, None, input, owner_org_id, errors).await?;
    ctx.render_invalid(&page)
}

async fn edit(
    State(st): State<AppState>,
    Ctx(ctx, user): Ctx,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let r = resolutions::get(&st.db, user.scope(), ResolutionId(id)).await?;
    user.scope()
        .require(&st.db, OrgId(r.owner_org_id), store::scope::WRITE)
        .await?;
    let input = ResolutionInput {
        kind: r.kind.clone(),
        number: r.number.clone(),
        title: r.title.clone(),
        issuing_body: r.issuing_body.clone(),
        released_on: crate::fmt::date(&r.released_on),
        classification: r.classification.clone(),
        published_on: r
            .published_on
            .as_ref()
            .map(crate::fmt::date)
            .unwrap_or_default(),
        summary: r.summary.clone().unwrap_or_default(),
    };
    let page = form_page(
        &st,
        ctx.clone(),
        user.scope(),
        Some(id),
        input,
        r.owner_org_id.to_string(),
        FieldErrors::new(),
    )
    .await?;
    ctx.render(&page)
}

async fn update(
    State(st): State<AppState>,
    Ctx(ctx, _): Ctx,
    Path(id): Path<i64>,
    f: CsrfForm<ResolutionForm>,
) -> AppResult<Response> {
    let scope = f.user.scope();
    let ResolutionForm {
        input,
        owner_org_id,
    } = f.form;
    let mut errors = FieldErrors::new();
    match input.validate() {
        Ok(new) => match resolutions::update(&st.db, scope, ResolutionId(id), &new).await {
            Ok(()) => return Ok(ctx.redirect(&format!("/resolutions/{id}"), "Đã lưu thay đổi.")),
            Err(e) => field_error(e, &mut errors)?,
        },
        Err(e) => errors = e,
    }
    let page = form_page(
        &st,
        ctx.clone(),
        scope,
        Some(id),
        input,
        owner_org_id,
        errors,
    )
    .await?;
    ctx.render_invalid(&page)
}
