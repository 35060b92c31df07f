//! Campaign pages (R3.1, R1.1).

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
}

#[derive(Template)]
#[template(path = "study/campaigns.html")]
struct ListPage {
    ctx: PageCtx,
    campaigns: Vec<Campaign>,
}

async fn list(State(st): State<AppState>, Ctx(ctx, user): Ctx) -> AppResult<Response> {
    let campaigns = campaigns::list(&st.db, user.scope()).await?;
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
    let crumbs = org::breadcrumb(&st.db, scope, OrgId(c.org_id)).await?;
    let ctx = ctx.with_nav("campaigns").with_crumbs(crumbs);
    ctx.render(&DetailPage {
        ctx: ctx.clone(),
        c,
        resolutions,
        classes,
        can_plan,
    })
}

#[derive(Template)]
#[template(path = "study/campaign_form.html")]
struct FormPage {
    ctx: PageCtx,
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
            Err(StoreError::Rule(m)) => errors.add("leader_person_id", m),
            Err(e) => return Err(e.into()),
        },
        Err(e) => errors = e,
    }
    let page = form_page(&st, ctx.clone(), scope, input, errors).await?;
    ctx.render_invalid(&page)
}
