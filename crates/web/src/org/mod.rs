//! Pages of the organization tree and its people.

use crate::reads::Reads;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use domain::ids::{OrgId, PersonId};
use domain::org::MemberStatus;
use serde::Deserialize;
use store::org::{self, Org, PeopleFilter, Person};
use store::{Page, Paging};

use crate::app::AppState;
use crate::error::{AppError, AppResult};
use crate::pages::{Ctx, PageCtx};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/orgs", get(tree))
        .route("/orgs/{id}", get(detail))
        .route("/people", get(people))
        .route("/people.csv", get(people_csv))
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

async fn tree(Reads(reads): Reads, Ctx(ctx, user): Ctx) -> AppResult<Response> {
    let roots = org::roots(&reads, user.scope()).await?;
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
) -> AppResult<Response> {
    let scope = user.scope();
    let org = org::get(&st.db, scope, OrgId(id)).await?;
    let children = org::children(&st.db, scope, OrgId(id)).await?;
    // Direct members only here; the people page lists the whole subtree.
    let filter = PeopleFilter {
        org_id: Some(OrgId(id)),
        q: None,
        direct: true,
        status: None,
    };
    let members = org::list_people(&st.db, scope, &filter, Paging::new(None, Some(200))).await?;
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
    /// A register status code ("active", "moved", …); empty for everyone.
    pub status: Option<String>,
    /// The person after whom this page starts (keyset paging).
    pub after: Option<i64>,
}

/// Rows of the people list per page.
const PEOPLE_PER_PAGE: i64 = 50;
/// Rows of the people list's CSV export at most (issue 11.16); a larger selection is narrowed by
/// organization, and the page says so.
const PEOPLE_EXPORTED: i64 = 100_000;

#[derive(Template)]
#[template(path = "org/people.html")]
struct PeoplePage {
    ctx: PageCtx,
    q: String,
    org: Option<Org>,
    /// Organizations to narrow the list to: the caller's tops and the ones right under them.
    orgs: Vec<Org>,
    status: String,
    statuses: &'static [MemberStatus],
    people: Vec<Person>,
    /// Matching people: exact, or more than the count cap.
    total: org::Total,
    /// The next page starts after this person.
    next: Option<i64>,
    paged: bool,
}

impl PeoplePage {
    /// The list's filters as a query string (without paging).
    fn filters(&self) -> String {
        let mut parts = Vec::new();
        if !self.q.is_empty() {
            parts.push(format!("q={}", crate::study::url_encode(&self.q)));
        }
        if let Some(o) = &self.org {
            parts.push(format!("org={}", o.id));
        }
        if !self.status.is_empty() {
            parts.push(format!("status={}", crate::study::url_encode(&self.status)));
        }
        parts.join("&")
    }
    fn first_link(&self) -> String {
        let f = self.filters();
        if f.is_empty() {
            "/people".into()
        } else {
            format!("/people?{f}")
        }
    }
    fn next_link(&self) -> String {
        let f = self.filters();
        let after = self.next.unwrap_or(0);
        if f.is_empty() {
            format!("/people?after={after}")
        } else {
            format!("/people?{f}&after={after}")
        }
    }
    fn csv_link(&self) -> String {
        let f = self.filters();
        if f.is_empty() {
            "/people.csv".into()
        } else {
            format!("/people.csv?{f}")
        }
    }
    /// "1.234 người", or "hơn 10.000 người" past the count cap.
    fn total_label(&self) -> String {
        match self.total {
            org::Total::MoreThan(n) => format!("Hơn {} người", crate::fmt::count(&n)),
            org::Total::Exact(n) => format!("{} người", crate::fmt::count(&n)),
        }
    }
    fn org_selected(&self, id: i64) -> bool {
        self.org.as_ref().is_some_and(|o| o.id == id)
    }
    /// The chosen organization when the picker does not list it (chosen from the tree).
    fn unlisted_org(&self) -> Option<&Org> {
        self.org
            .as_ref()
            .filter(|o| !self.orgs.iter().any(|x| x.id == o.id))
    }
}

/// The people list's filter from its query; the organization is checked to be in scope.
async fn people_filter(
    st: &AppState,
    scope: &store::Scope,
    q: &PeopleQuery,
) -> AppResult<(PeopleFilter, Option<Org>)> {
    let org_id = q
        .org
        .as_deref()
        .and_then(|s| s.trim().parse::<i64>().ok())
        .filter(|id| *id > 0)
        .map(OrgId);
    let org = match org_id {
        Some(id) => Some(org::get(&st.db, scope, id).await?),
        None => None,
    };
    let status = match q.status.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(code) => Some(
            MemberStatus::parse(code)
                .map_err(|_| AppError::BadRequest("Trạng thái đảng viên không hợp lệ.".into()))?,
        ),
        None => None,
    };
    Ok((
        PeopleFilter {
            org_id,
            q: q.q.clone(),
            direct: false,
            status,
        },
        org,
    ))
}

async fn people(
    State(st): State<AppState>,
    Reads(reads): Reads,
    Ctx(ctx, user): Ctx,
    Query(q): Query<PeopleQuery>,
) -> AppResult<Response> {
    let scope = user.scope();
    let (filter, org) = people_filter(&st, scope, &q).await?;
    let after = q.after.filter(|a| *a > 0).map(PersonId);
    let (mut people, total) =
        org::people_after(&reads, scope, &filter, after, PEOPLE_PER_PAGE + 1).await?;
    let more = people.len() > usize::try_from(PEOPLE_PER_PAGE).unwrap_or(usize::MAX);
    people.truncate(usize::try_from(PEOPLE_PER_PAGE).unwrap_or(usize::MAX));
    let next = if more {
        people.last().map(|p| p.id)
    } else {
        None
    };
    let mut orgs = org::roots(&reads, scope).await?;
    if orgs.len() < 20 {
        for root in orgs.clone() {
            orgs.extend(org::children(&reads, scope, OrgId(root.id)).await?);
        }
    }
    let crumbs = match &org {
        Some(o) => org::breadcrumb(&reads, scope, OrgId(o.id)).await?,
        None => vec![],
    };
    let ctx = ctx.with_nav("people").with_crumbs(crumbs);
    ctx.render(&PeoplePage {
        ctx: ctx.clone(),
        q: q.q.unwrap_or_default(),
        org,
        orgs,
        status: filter
            .status
            .map(|s| s.code().to_owned())
            .unwrap_or_default(),
        statuses: MemberStatus::ALL,
        people,
        total,
        next,
        paged: after.is_some(),
    })
}

/// The people list as CSV for Excel (issue 11.16), with the same filters; at most
/// [`PEOPLE_EXPORTED`] rows, and a larger selection is refused with what to do instead.
async fn people_csv(
    State(st): State<AppState>,
    Reads(reads): Reads,
    Ctx(_, user): Ctx,
    Query(q): Query<PeopleQuery>,
) -> AppResult<Response> {
    let scope = user.scope();
    let (filter, _) = people_filter(&st, scope, &q).await?;
    let page = org::list_people(
        &reads,
        scope,
        &filter,
        Paging {
            page: 1,
            per_page: PEOPLE_EXPORTED,
        },
    )
    .await?;
    if page.total > PEOPLE_EXPORTED {
        return Err(AppError::rule(
            "export_too_large",
            format!(
            "Danh sách chọn có {} người, quá {} người của một lần xuất: hãy chọn một tổ chức nhỏ hơn, hoặc in sổ danh sách đảng viên của từng tổ chức.",
            crate::fmt::count(&page.total),
            crate::fmt::count(&PEOPLE_EXPORTED)
        ),
        ));
    }
    let rows = page
        .items
        .into_iter()
        .map(|p| {
            vec![
                p.full_name.clone(),
                crate::fmt::opt_date(&p.birth_date),
                p.gender_label().to_owned(),
                p.ethnicity.clone(),
                p.party_card_number.clone().unwrap_or_default(),
                p.org_name.clone(),
                p.positions.clone(),
                p.status_label().to_owned(),
                crate::fmt::opt_date(&p.status_on),
            ]
        })
        .collect();
    Ok(crate::study::feedback::csv_response(
        "dang-vien.csv",
        &[
            "Họ và tên",
            "Ngày sinh",
            "Giới tính",
            "Dân tộc",
            "Số thẻ đảng viên",
            "Tổ chức",
            "Chức vụ",
            "Trạng thái",
            "Ngày biến động",
        ],
        rows,
    ))
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
    /// Positions in committees (R1.3), and where the caller may give one (organizer and up).
    positions: Vec<store::org::positions::Position>,
    position_orgs: Vec<Org>,
    roles: &'static [domain::org::positions::CommitteeRole],
    /// Conduct records, when the caller is the person or secretary and up over them (R3.6).
    conduct: Option<Vec<store::conduct::Record>>,
    /// Year-end ratings, with the same visibility as the records.
    ratings: Vec<store::conduct::PersonRating>,
    /// Issue 16: quiz results and reflections, when the caller may read them (the person;
    /// secretary and up over them).
    assess_attempts: Option<Vec<(store::assess::attempts::Attempt, String)>>,
    assess_reflections: Option<Vec<store::assess::reflections::Reflection>>,
}

impl PersonPage {
    fn may_end(&self, org: &i64) -> bool {
        self.position_orgs.iter().any(|o| o.id == *org)
    }
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
    let positions = store::org::positions::of_person(&st.db, scope, PersonId(id)).await?;
    // The person's organization and those above it that the caller organizes.
    let mut position_orgs = Vec::new();
    for c in &crumbs {
        if c.visible
            && scope
                .covers(&st.db, OrgId(c.id), store::scope::WRITE)
                .await?
        {
            position_orgs.push(org::get(&st.db, scope, OrgId(c.id)).await?);
        }
    }
    let conduct = match store::conduct::of_person(&st.db, scope, PersonId(id), None).await {
        Ok(r) => Some(r),
        Err(store::StoreError::Forbidden | store::StoreError::NotFound) => None,
        Err(e) => return Err(e.into()),
    };
    let ratings = if conduct.is_some() {
        store::conduct::ratings_of_person(&st.db, scope, PersonId(id)).await?
    } else {
        vec![]
    };
    // Issue 16: results and reflections are personal; a refusal shows nothing.
    let assess_attempts = store::assess::attempts::of_person(&st.db, scope, PersonId(id))
        .await
        .ok();
    let assess_reflections = store::assess::reflections::of_person(&st.db, scope, PersonId(id))
        .await
        .ok();
    Ok(PersonPage {
        assess_attempts,
        assess_reflections,
        positions,
        position_orgs,
        roles: domain::org::positions::CommitteeRole::ALL,
        conduct,
        ratings,
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
        Err(store::StoreError::Rule(domain::Violation { message: m, .. })) => {
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
    doc: crate::print::DocHead,
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
        status: None,
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
    let mut doc = crate::print::doc_head(&st.db, scope, OrgId(id), "DS").await?;
    doc.form = "Mẫu 7-HSĐV";
    let html = RegisterPage {
        org: o,
        people,
        doc,
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
        joined_on: p
            .joined_on
            .as_ref()
            .map(crate::fmt::date)
            .unwrap_or_default(),
        official_on: p
            .official_on
            .as_ref()
            .map(crate::fmt::date)
            .unwrap_or_default(),
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
            Err(store::StoreError::Rule(domain::Violation { message: m, .. })) => {
                errors.add("full_name", m)
            }
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
