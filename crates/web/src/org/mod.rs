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
        .route("/people/{id}/edit", get(edit_person_form).post(edit_person))
        .route("/people/{id}/status", axum::routing::post(set_status))
        .route("/people/{id}/name", axum::routing::post(set_name_split))
        .route("/orgs/{id}/register", get(register))
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
    can_edit: bool,
    /// The classes the person is listed in, with their result and any retake owed (issue 11.16).
    history: Vec<store::study::attendance::MyClass>,
    statuses: &'static [domain::org::MemberStatus],
    input: domain::org::StatusInput,
    errors: domain::FieldErrors,
}

impl PersonPage {
    fn err(&self, f: &str) -> &str {
        self.errors.get(f).unwrap_or("")
    }
}

async fn person_page(
    st: &AppState,
    ctx: PageCtx,
    scope: &store::Scope,
    id: i64,
    input: Option<domain::org::StatusInput>,
    errors: domain::FieldErrors,
) -> AppResult<PersonPage> {
    let p = org::get_person(&st.db, scope, PersonId(id)).await?;
    let crumbs = org::breadcrumb(&st.db, scope, OrgId(p.org_id)).await?;
    let can_edit = scope
        .covers(&st.db, OrgId(p.org_id), store::scope::WRITE)
        .await?;
    let input = input.unwrap_or_else(|| domain::org::StatusInput {
        status: p.status.clone(),
        date: p
            .status_on
            .as_ref()
            .map(crate::fmt::date)
            .unwrap_or_default(),
        note: String::new(),
    });
    // The person is visible to the caller (checked above): their own classes, as they see them.
    let history = store::study::attendance::my_classes(&st.db, PersonId(id)).await?;
    Ok(PersonPage {
        ctx: ctx.with_nav("people").with_crumbs(crumbs),
        p,
        can_edit,
        history,
        statuses: domain::org::MemberStatus::ALL,
        input,
        errors,
    })
}

/// Records moving away, passing away or leaving the Party, with its date (issue 5).
async fn set_status(
    State(st): State<AppState>,
    Ctx(ctx, _): Ctx,
    Path(id): Path<i64>,
    f: crate::auth::CsrfForm<domain::org::StatusInput>,
) -> AppResult<Response> {
    let scope = f.user.scope();
    match f.form.validate() {
        Ok(change) => {
            org::set_status(&st.db, scope, PersonId(id), &change).await?;
            Ok(ctx.redirect(&format!("/people/{id}"), "Đã ghi nhận biến động đảng viên."))
        }
        Err(errors) => {
            let page = person_page(&st, ctx, scope, id, Some(f.form), errors).await?;
            page.ctx.render_invalid(&page)
        }
    }
}

/// The three parts of a name, as corrected by hand.
#[derive(Debug, Deserialize, Default, serde::Serialize, utoipa::ToSchema)]
#[serde(default)]
pub struct NameSplit {
    pub family_name: String,
    pub middle_name: String,
    pub given_name: String,
}

/// Corrects the split of a written name (issue 5: Ê Đê and Gia Rai given names are not the last word).
async fn set_name_split(
    State(st): State<AppState>,
    Ctx(ctx, _): Ctx,
    Path(id): Path<i64>,
    f: crate::auth::CsrfForm<NameSplit>,
) -> AppResult<Response> {
    let scope = f.user.scope();
    match org::set_name_split(
        &st.db,
        scope,
        PersonId(id),
        &f.form.family_name,
        &f.form.middle_name,
        &f.form.given_name,
    )
    .await
    {
        Ok(()) => Ok(ctx.redirect(
            &format!("/people/{id}"),
            "Đã sửa cách tách họ tên; danh sách sắp xếp lại theo tên mới.",
        )),
        Err(store::StoreError::Rule(m)) => {
            let mut errors = domain::FieldErrors::new();
            errors.add("given_name", m);
            let page = person_page(&st, ctx, scope, id, None, errors).await?;
            page.ctx.render_invalid(&page)
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "org/register.html")]
struct RegisterPage {
    org: Org,
    people: Vec<Person>,
    issuer: String,
    place_date: String,
    /// Which part of the register this is (issue 11.2: a province's 93,064 members were cut at
    /// 20,000 without a word): members per part, the part, the parts, the total.
    part: i64,
    parts: i64,
    total: i64,
    /// The organizations right under this one, each of which prints its own register.
    children: Vec<Org>,
}

impl RegisterPage {
    /// Number of the first member of this part (the TT column goes on across parts).
    fn first_index(&self) -> i64 {
        (self.part - 1) * REGISTER_PART
    }
    fn last_index(&self) -> i64 {
        self.first_index() + self.people.len() as i64
    }
}

/// Members per printed part of the register (about 80 A4 pages).
const REGISTER_PART: i64 = 2_000;

#[derive(Debug, serde::Deserialize, Default)]
#[serde(default)]
struct PartQuery {
    part: Option<i64>,
}

/// The member register of an organization in the layout of form Mẫu 7-HSĐV (A4 landscape,
/// Party document header), for printing.
async fn register(
    State(st): State<AppState>,
    Ctx(_, user): Ctx,
    Path(id): Path<i64>,
    axum::extract::Query(q): axum::extract::Query<PartQuery>,
) -> AppResult<Response> {
    let scope = user.scope();
    let o = org::get(&st.db, scope, OrgId(id)).await?;
    let filter = PeopleFilter {
        org_id: Some(OrgId(id)),
        q: None,
        direct: false,
    };
    let part = q.part.unwrap_or(1).clamp(1, 1_000_000);
    let page = org::list_people(
        &st.db,
        scope,
        &filter,
        store::Paging {
            page: part,
            per_page: REGISTER_PART,
        },
    )
    .await?;
    let parts = page.pages();
    let (people, total) = (page.items, page.total);
    let children = org::children(&st.db, scope, OrgId(id)).await?;
    let crumbs = org::breadcrumb(&st.db, scope, OrgId(id)).await?;
    let province = crumbs
        .first()
        .map(|c| c.name.trim_start_matches("Đảng bộ tỉnh ").to_string())
        .unwrap_or_default();
    let issuer = o.name.replace("Đảng bộ", "Đảng ủy").to_uppercase();
    let place_date = format!(
        "{province}, {}",
        crate::fmt::long_date(&crate::fmt::today())
    );
    let html = RegisterPage {
        org: o,
        people,
        issuer,
        place_date,
        part,
        parts,
        total,
        children,
    }
    .render()?;
    Ok(axum::response::IntoResponse::into_response(
        axum::response::Html(html),
    ))
}

async fn person(
    State(st): State<AppState>,
    Ctx(ctx, user): Ctx,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let page = person_page(&st, ctx, user.scope(), id, None, domain::FieldErrors::new()).await?;
    page.ctx.render(&page)
}

// ----- correcting a person's record (issue 11.7) -----

#[derive(Template)]
#[template(path = "org/person_form.html")]
struct PersonFormPage {
    ctx: PageCtx,
    p: Person,
    input: domain::org::PersonEditInput,
    errors: domain::FieldErrors,
}

impl PersonFormPage {
    fn err(&self, f: &str) -> &str {
        self.errors.get(f).unwrap_or("")
    }
}

async fn edit_person_form(
    State(st): State<AppState>,
    Ctx(ctx, user): Ctx,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let scope = user.scope();
    let p = org::get_person(&st.db, scope, PersonId(id)).await?;
    scope
        .require(&st.db, OrgId(p.org_id), store::scope::WRITE)
        .await?;
    let input = domain::org::PersonEditInput {
        full_name: p.full_name.clone(),
        birth_date: p
            .birth_date
            .as_ref()
            .map(crate::fmt::date)
            .unwrap_or_default(),
        gender: p.gender.clone(),
        ethnicity: p.ethnicity.clone(),
        party_card_number: p.party_card_number.clone().unwrap_or_default(),
        positions: p.positions.clone(),
        home_town: p.home_town.clone(),
    };
    let ctx = ctx.with_nav("people");
    ctx.render(&PersonFormPage {
        ctx: ctx.clone(),
        p,
        input,
        errors: domain::FieldErrors::new(),
    })
}

async fn edit_person(
    State(st): State<AppState>,
    Ctx(ctx, _): Ctx,
    Path(id): Path<i64>,
    f: crate::auth::CsrfForm<domain::org::PersonEditInput>,
) -> AppResult<Response> {
    let scope = f.user.scope();
    let p = org::get_person(&st.db, scope, PersonId(id)).await?;
    let input = f.form;
    let mut errors = domain::FieldErrors::new();
    match input.validate() {
        Ok(edit) => match org::update_person(&st.db, scope, PersonId(id), &edit).await {
            Ok(()) => {
                return Ok(ctx.redirect(&format!("/people/{id}"), "Đã lưu thông tin đảng viên."))
            }
            Err(store::StoreError::Conflict { .. }) => errors.add(
                "party_card_number",
                "Số thẻ này đã thuộc về một đảng viên khác.",
            ),
            Err(store::StoreError::Rule(m)) => errors.add("full_name", m),
            Err(e) => return Err(e.into()),
        },
        Err(e) => errors = e,
    }
    let ctx = ctx.with_nav("people");
    ctx.render_invalid(&PersonFormPage {
        ctx: ctx.clone(),
        p,
        input,
        errors,
    })
}
