//! Campaign pages (R3.1, R1.1).

use crate::reads::Reads;
use askama::Template;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use domain::ids::{CampaignId, OrgId};
use domain::study::CampaignInput;
use domain::FieldErrors;
use store::org::{self, Org, Person};
use store::resolutions::{self, Resolution};
use store::study::campaigns::{self, Campaign};
use store::study::classes::{self, Class, ClassFilter};
use store::{Paging, Scope, StoreError};

use crate::app::AppState;
use crate::auth::CsrfForm;
use crate::error::{AppError, AppResult};
use crate::pages::{Ctx, PageCtx};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/campaigns", get(list).post(create))
        .route("/campaigns/new", get(new))
        .route("/campaigns/{id}", get(detail))
        .route("/campaigns/{id}/edit", get(edit_form).post(edit))
}

#[derive(Template)]
#[template(path = "study/campaigns.html")]
struct ListPage {
    ctx: PageCtx,
    campaigns: Vec<Campaign>,
}

async fn list(Reads(reads): Reads, Ctx(ctx, user): Ctx) -> AppResult<Response> {
    let campaigns = campaigns::list(&reads, user.scope()).await?;
    let ctx = ctx.with_nav("campaigns");
    ctx.render(&ListPage {
        ctx: ctx.clone(),
        campaigns,
    })
}

#[derive(Template)]
#[template(path = "study/campaign.html")]
struct DetailPage {
    ctx: PageCtx,
    c: Campaign,
    resolutions: Vec<Resolution>,
    classes: Vec<Class>,
    can_plan: bool,
    /// The caller organizes at the campaign's organization (may correct it).
    can_edit: bool,
}

async fn detail(
    State(st): State<AppState>,
    Ctx(ctx, user): Ctx,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let scope = user.scope();
    let c = campaigns::get(&st.db, scope, CampaignId(id)).await?;
    let resolutions = campaigns::resolutions(&st.db, scope, CampaignId(id)).await?;
    let classes = classes::list(
        &st.db,
        scope,
        &ClassFilter {
            campaign_id: Some(CampaignId(id)),
        },
    )
    .await?;
    let can_plan = scope.has_role(store::scope::WRITE);
    let can_edit = scope
        .covers(&st.db, OrgId(c.org_id), store::scope::WRITE)
        .await?;
    let crumbs = org::breadcrumb(&st.db, scope, OrgId(c.org_id)).await?;
    let ctx = ctx.with_nav("campaigns").with_crumbs(crumbs);
    ctx.render(&DetailPage {
        ctx: ctx.clone(),
        c,
        resolutions,
        classes,
        can_plan,
        can_edit,
    })
}

#[derive(Template)]
#[template(path = "study/campaign_form.html")]
struct FormPage {
    ctx: PageCtx,
    /// Correcting this campaign (issue 11.7), else a new one.
    edit: Option<i64>,
    input: CampaignInput,
    errors: FieldErrors,
    orgs: Vec<Org>,
    leaders: Vec<Person>,
    resolutions: Vec<Resolution>,
}

impl FormPage {
    fn err(&self, field: &str) -> &str {
        self.errors.get(field).unwrap_or("")
    }
    fn chosen(&self, id: &i64) -> bool {
        self.input
            .resolution_ids
            .iter()
            .any(|r| r.trim() == id.to_string())
    }
}

async fn form_page(
    st: &AppState,
    ctx: PageCtx,
    scope: &Scope,
    input: CampaignInput,
    errors: FieldErrors,
) -> AppResult<FormPage> {
    let orgs = org::all_visible(&st.db, scope, 300).await?;
    let org_id = input
        .org_id
        .trim()
        .parse::<i64>()
        .ok()
        .or(orgs.first().map(|o| o.id));
    let leaders = match org_id {
        Some(o) => org::leaders(&st.db, scope, OrgId(o)).await?,
        None => vec![],
    };
    let resolutions = resolutions::list(
        &st.db,
        scope,
        &Default::default(),
        Paging::new(Some(1), Some(200)),
    )
    .await?
    .items;
    Ok(FormPage {
        ctx: ctx.with_nav("campaigns"),
        edit: None,
        input,
        errors,
        orgs,
        leaders,
        resolutions,
    })
}

async fn new(State(st): State<AppState>, Ctx(ctx, user): Ctx) -> AppResult<Response> {
    if !ctx.can_plan {
        return Err(AppError::Forbidden);
    }
    let input = CampaignInput {
        org_id: user
            .scope()
            .grants
            .first()
            .map(|g| g.org_id.to_string())
            .unwrap_or_default(),
        ..Default::default()
    };
    let page = form_page(&st, ctx.clone(), user.scope(), input, FieldErrors::new()).await?;
    ctx.render(&page)
}

async fn create(
    State(st): State<AppState>,
    Ctx(ctx, _): Ctx,
    f: CsrfForm<CampaignInput>,
) -> AppResult<Response> {
    let scope = f.user.scope();
    let input = f.form;
    let mut errors = FieldErrors::new();
    match input.validate() {
        Ok(new) => match campaigns::create(&st.db, scope, &new).await {
            Ok(id) => return Ok(ctx.redirect(&format!("/campaigns/{id}"), "Đã tạo đợt học tập.")),
            Err(StoreError::Rule(domain::Violation { message: m, .. })) => {
                errors.add("leader_person_id", m)
            }
            Err(e) => return Err(e.into()),
        },
        Err(e) => errors = e,
    }
    let page = form_page(&st, ctx.clone(), scope, input, errors).await?;
    ctx.render_invalid(&page)
}

// ----- correcting a campaign (issue 11.7) -----

async fn edit_form(
    State(st): State<AppState>,
    Ctx(ctx, user): Ctx,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let scope = user.scope();
    let c = campaigns::get(&st.db, scope, CampaignId(id)).await?;
    scope
        .require(&st.db, OrgId(c.org_id), store::scope::WRITE)
        .await?;
    let chosen = campaigns::resolutions(&st.db, scope, CampaignId(id)).await?;
    let input = CampaignInput {
        name: c.name.clone(),
        org_id: c.org_id.to_string(),
        leader_person_id: c.leader_person_id.to_string(),
        starts_on: domain::text::format_date(c.starts_on),
        ends_on: domain::text::format_date(c.ends_on),
        resolution_ids: chosen.iter().map(|r| r.id.to_string()).collect(),
    };
    let mut page = form_page(&st, ctx.clone(), scope, input, FieldErrors::new()).await?;
    page.edit = Some(id);
    ctx.render(&page)
}

async fn edit(
    State(st): State<AppState>,
    Ctx(ctx, _): Ctx,
    Path(id): Path<i64>,
    f: CsrfForm<CampaignInput>,
) -> AppResult<Response> {
    let scope = f.user.scope();
    let old = campaigns::get(&st.db, scope, CampaignId(id)).await?;
    let input = f.form;
    let mut errors = FieldErrors::new();
    match input.validate() {
        Ok(new) => match campaigns::update(&st.db, scope, &old, &new).await {
            Ok(()) => return Ok(ctx.redirect(&format!("/campaigns/{id}"), "Đã lưu đợt học tập.")),
            Err(StoreError::Rule(domain::Violation { message: m, .. })) => {
                errors.add("leader_person_id", m)
            }
            Err(e) => return Err(e.into()),
        },
        Err(e) => errors = e,
    }
    let mut page = form_page(&st, ctx.clone(), scope, input, errors).await?;
    page.edit = Some(id);
    ctx.render_invalid(&page)
}
