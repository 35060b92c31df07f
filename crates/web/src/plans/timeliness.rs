//! "Kế hoạch đã ban hành đúng hạn chưa?" (issue 14.4; R7.1, R7.2, R6.1): for a resolution and a
//! committee, the subordinate organizations it named as concerned, who has issued a plan and
//! when, who has not, who issued only after their study began, and the days from the
//! resolution's release to each one's first class; the committee's organizer names the list.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use domain::ids::{OrgId, ResolutionId};
use serde::Deserialize;
use store::org::{self, Org};
use store::plans::timeliness::{self, Concerned};
use store::resolutions::Resolution;

use crate::app::AppState;
use crate::auth::CsrfForm;
use crate::error::{AppError, AppResult};
use crate::pages::{Ctx, PageCtx};

pub fn routes() -> Router<AppState> {
    Router::new().route("/plans/timeliness", get(page).post(name))
}

#[derive(Template)]
#[template(path = "plans/timeliness.html")]
struct Page {
    ctx: PageCtx,
    resolutions: Vec<Resolution>,
    committees: Vec<Org>,
    resolution: Option<Resolution>,
    committee: Option<Org>,
    rows: Vec<Concerned>,
    /// The committee's subordinates, to name (organizer only).
    children: Vec<Org>,
    can_name: bool,
}

impl Page {
    fn issued(&self) -> usize {
        self.rows.iter().filter(|r| r.issued_on.is_some()).count()
    }
    fn late(&self) -> usize {
        self.rows.iter().filter(|r| r.issued_late()).count()
    }
    fn named(&self, id: &i64) -> bool {
        self.rows.iter().any(|r| r.org_id == *id)
    }
    fn days(&self, r: &Concerned) -> String {
        self.resolution
            .as_ref()
            .and_then(|x| r.days_to_class(x.released_on))
            .map(|d| d.to_string())
            .unwrap_or_default()
    }
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct PageQuery {
    resolution: Option<i64>,
    org: Option<i64>,
}

async fn build(
    st: &AppState,
    ctx: PageCtx,
    scope: &store::Scope,
    q: &PageQuery,
) -> AppResult<Page> {
    let resolutions = store::resolutions::list(
        &st.db,
        scope,
        &store::resolutions::ResolutionFilter::default(),
        store::Paging::new(Some(1), Some(200)),
    )
    .await?
    .items;
    let mut committees = Vec::new();
    for g in scope.grants.iter().filter(|g| g.role >= store::scope::READ) {
        if let Ok(o) = org::get(&st.db, scope, g.org_id).await {
            committees.push(o);
        }
    }
    let resolution = match q.resolution {
        Some(r) => Some(store::resolutions::get(&st.db, scope, ResolutionId(r)).await?),
        None => None,
    };
    let committee = match q.org.or(committees.first().map(|c| c.id)) {
        Some(o) => Some(org::get(&st.db, scope, OrgId(o)).await?),
        None => None,
    };
    let (rows, children, can_name) = match (&resolution, &committee) {
        (Some(r), Some(c)) => {
            let rows =
                timeliness::concerned(&st.db, scope, ResolutionId(r.id), OrgId(c.id)).await?;
            let can = scope
                .covers(&st.db, OrgId(c.id), store::scope::WRITE)
                .await?;
            let children = if can {
                org::children(&st.db, scope, OrgId(c.id)).await?
            } else {
                vec![]
            };
            (rows, children, can)
        }
        _ => (vec![], vec![], false),
    };
    Ok(Page {
        ctx: ctx.with_nav("plans"),
        resolutions,
        committees,
        resolution,
        committee,
        rows,
        children,
        can_name,
    })
}

async fn page(
    State(st): State<AppState>,
    Ctx(ctx, user): Ctx,
    Query(q): Query<PageQuery>,
) -> AppResult<Response> {
    let p = build(&st, ctx.clone(), user.scope(), &q).await?;
    ctx.render(&p)
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct NameForm {
    resolution_id: i64,
    org_id: i64,
    concerned: Vec<String>,
}

async fn name(
    State(st): State<AppState>,
    Ctx(ctx, _): Ctx,
    f: CsrfForm<NameForm>,
) -> AppResult<Response> {
    let scope = f.user.scope();
    let orgs =
        domain::plans::action_plans::ids(&f.form.concerned, domain::plans::tasks::TARGETS_MAX)
            .map_err(|e| AppError::BadRequest(format!("Tổ chức phải xây dựng kế hoạch: {e}")))?;
    let orgs: Vec<OrgId> = orgs.into_iter().map(OrgId).collect();
    timeliness::name_concerned(
        &st.db,
        scope,
        ResolutionId(f.form.resolution_id),
        OrgId(f.form.org_id),
        &orgs,
    )
    .await?;
    Ok(ctx.redirect(
        &format!(
            "/plans/timeliness?resolution={}&org={}",
            f.form.resolution_id, f.form.org_id
        ),
        &format!("Đã ghi {} tổ chức phải xây dựng kế hoạch.", orgs.len()),
    ))
}
