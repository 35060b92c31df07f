//! Pages of the organization tree and its people.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use domain::ids::{OrgId, PersonId};
use serde::Deserialize;
use store::org::{self, Org, PeopleFilter, Person};
use store::{Page, Paging};

use crate::app::AppState;
use crate::error::AppResult;
use crate::pages::{Ctx, PageCtx};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/orgs", get(tree))
        .route("/orgs/{id}", get(detail))
        .route("/people", get(people))
        .route("/people/{id}", get(person))
}

#[derive(Template)]
#[template(path = "org/tree.html")]
struct TreePage {
    ctx: PageCtx,
    roots: Vec<Org>,
}

async fn tree(State(st): State<AppState>, Ctx(ctx, user): Ctx) -> AppResult<Response> {
    let roots = org::roots(&st.db, user.scope()).await?;
    let ctx = ctx.with_nav("orgs");
    ctx.render(&TreePage {
        ctx: ctx.clone(),
        roots,
    })
}

#[derive(Template)]
#[template(path = "org/detail.html")]
struct DetailPage {
    ctx: PageCtx,
    org: Org,
    children: Vec<Org>,
    members: Page<Person>,
}

async fn detail(
    State(st): State<AppState>,
    Ctx(ctx, user): Ctx,
    Path(id): Path<i64>,
    Query(q): Query<PeopleQuery>,
) -> AppResult<Response> {
    let scope = user.scope();
    let org = org::get(&st.db, scope, OrgId(id)).await?;
    let children = org::children(&st.db, scope, OrgId(id)).await?;
    // Direct members only here; the people page lists the whole subtree.
    let filter = PeopleFilter {
        org_id: Some(OrgId(id)),
        q: None,
        direct: true,
    };
    let members = org::list_people(&st.db, scope, &filter, Paging::new(q.page, Some(200))).await?;
    let crumbs = org::breadcrumb(&st.db, scope, OrgId(id)).await?;
    let ctx = ctx.with_nav("orgs").with_crumbs(crumbs);
    ctx.render(&DetailPage {
        ctx: ctx.clone(),
        org,
        children,
        members,
    })
}

/// Query of the people list.
#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct PeopleQuery {
    pub q: Option<String>,
    pub org: Option<String>,
    pub page: Option<i64>,
}

#[derive(Template)]
#[template(path = "org/people.html")]
struct PeoplePage {
    ctx: PageCtx,
    q: String,
    org: Option<Org>,
    people: Page<Person>,
}

impl PeoplePage {
    fn page_link(&self, page: i64) -> String {
        let mut s = format!("/people?page={page}");
        if !self.q.is_empty() {
            s.push_str("&q=");
            s.push_str(&crate::study::url_encode(&self.q));
        }
        if let Some(o) = &self.org {
            s.push_str(&format!("&org={}", o.id));
        }
        s
    }
}

async fn people(
    State(st): State<AppState>,
    Ctx(ctx, user): Ctx,
    Query(q): Query<PeopleQuery>,
) -> AppResult<Response> {
    let scope = user.scope();
    let org_id = q
        .org
        .as_deref()
        .and_then(|s| s.trim().parse::<i64>().ok())
        .map(OrgId);
    let org = match org_id {
        Some(id) => Some(org::get(&st.db, scope, id).await?),
        None => None,
    };
    let filter = PeopleFilter {
        org_id,
        q: q.q.clone(),
        direct: false,
    };
    let people = org::list_people(&st.db, scope, &filter, Paging::new(q.page, Some(50))).await?;
    let crumbs = match org_id {
        Some(id) => org::breadcrumb(&st.db, scope, id).await?,
        None => vec![],
    };
    let ctx = ctx.with_nav("people").with_crumbs(crumbs);
    ctx.render(&PeoplePage {
        ctx: ctx.clone(),
        q: q.q.unwrap_or_default(),
        org,
        people,
    })
}

#[derive(Template)]
#[template(path = "org/person.html")]
struct PersonPage {
    ctx: PageCtx,
    p: Person,
}

async fn person(
    State(st): State<AppState>,
    Ctx(ctx, user): Ctx,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let p = org::get_person(&st.db, user.scope(), PersonId(id)).await?;
    let crumbs = org::breadcrumb(&st.db, user.scope(), OrgId(p.org_id)).await?;
    let ctx = ctx.with_nav("people").with_crumbs(crumbs);
    ctx.render(&PersonPage {
        ctx: ctx.clone(),
        p,
    })
}
