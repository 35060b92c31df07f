//! "Còn nợ học": every active member of an organization subtree who has not completed a
//! resolution yet, with the reason (R2.3, R2.5, R3.3, R3.5), a tally per child organization,
//! pages of 150 and a CSV export.

use crate::reads::Reads;
use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use domain::ids::{OrgId, ResolutionId};
use serde::Deserialize;
use store::org::{self, Org};
use store::resolutions::{self, Resolution};
use store::study::owes::{self, OwesSummary, OwingPerson, OwingReason};
use store::{Paging, Scope};

use crate::app::AppState;
use crate::error::{AppError, AppResult};
use crate::pages::{Ctx, PageCtx};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/owes", get(page))
        .route("/owes.csv", get(csv))
}

/// Rows per page: a province's page with 200 rows and the organization picker weighed 64 KB;
/// a screen page stays under 60 KB (issue 11.12).
const PER_PAGE: i64 = 150;

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
struct OwesQuery {
    org: String,
    resolution: String,
    reason: String,
    /// The page after this person (keyset), and how many rows came before it.
    after: Option<i64>,
    n: Option<i64>,
}

impl OwesQuery {
    fn reason(&self) -> Option<OwingReason> {
        OwingReason::parse(&self.reason).ok()
    }
}

/// The chosen organization (the caller's first root by default) and resolution, checked: an
/// organization outside the caller's subtree or a resolution they may not see (classified,
/// without clearance) is `NotFound`, as if it did not exist.
async fn choose(
    st: &AppState,
    scope: &Scope,
    q: &OwesQuery,
) -> AppResult<(Option<Org>, Option<Resolution>)> {
    if !scope.has_role(store::scope::READ) {
        return Err(AppError::Forbidden);
    }
    let org = match q.org.trim() {
        "" => org::roots(&st.db, scope).await?.into_iter().next(),
        s => {
            let id = s.parse::<i64>().map_err(|_| AppError::NotFound)?;
            Some(org::get(&st.db, scope, OrgId(id)).await?)
        }
    };
    let res = match q.resolution.trim() {
        "" => None,
        s => {
            let id = s.parse::<i64>().map_err(|_| AppError::NotFound)?;
            Some(resolutions::get(&st.db, scope, ResolutionId(id)).await?)
        }
    };
    Ok((org, res))
}

#[derive(Template)]
#[template(path = "owes.html")]
struct OwesPage {
    ctx: PageCtx,
    orgs: Vec<Org>,
    resolutions: Vec<Resolution>,
    org: Option<Org>,
    res: Option<Resolution>,
    summary: Option<OwesSummary>,
    rows: Vec<OwingPerson>,
    reasons: &'static [OwingReason],
    reason: String,
    /// Rows in the current selection (all reasons, or the chosen one).
    selected: i64,
    /// Rows before this page (keyset: the page starts after the last person of the one before).
    before: i64,
    page: i64,
    pages: i64,
}

impl OwesPage {
    fn base_query(&self) -> String {
        let mut q = vec![];
        if let Some(o) = &self.org {
            q.push(format!("org={}", o.id));
        }
        if let Some(r) = &self.res {
            q.push(format!("resolution={}", r.id));
        }
        q.join("&")
    }
    fn link(&self, reason: &str) -> String {
        let mut q = self.base_query();
        if !reason.is_empty() {
            q.push_str(&format!("&reason={reason}"));
        }
        format!("/owes?{q}")
    }
    /// The first page of the current selection.
    fn first_link(&self) -> String {
        self.link(&self.reason)
    }
    /// The page after this one.
    fn next_link(&self) -> String {
        let last = self.rows.last().map_or(0, |p| p.person_id);
        format!(
            "{}&after={last}&n={}",
            self.link(&self.reason),
            self.before + self.rows.len() as i64
        )
    }
    fn child_link(&self, org: &i64) -> String {
        match &self.res {
            Some(r) => format!("/owes?org={org}&resolution={}", r.id),
            None => format!("/owes?org={org}"),
        }
    }
    fn csv_link(&self) -> String {
        let mut q = self.base_query();
        if !self.reason.is_empty() {
            q.push_str(&format!("&reason={}", self.reason));
        }
        format!("/owes.csv?{q}")
    }
    /// The chosen organization lies deeper than the (bounded) picker reaches.
    fn org_outside_picker(&self) -> bool {
        self.org
            .as_ref()
            .is_some_and(|o| !self.orgs.iter().any(|x| x.id == o.id))
    }
    /// A number with Vietnamese separators (for computed values).
    fn num(&self, n: i64) -> String {
        domain::text::format_count(n)
    }
    fn first_index(&self) -> i64 {
        self.before
    }
}

async fn page(
    State(st): State<AppState>,
    Reads(reads): Reads,
    Ctx(ctx, user): Ctx,
    Query(q): Query<OwesQuery>,
) -> AppResult<Response> {
    let scope = user.scope();
    let (org, res) = choose(&st, scope, &q).await?;
    let orgs = org::all_visible(&reads, scope, 300).await?;
    let resolutions = resolutions::list(
        &reads,
        scope,
        &Default::default(),
        Paging::new(Some(1), Some(500)),
    )
    .await?
    .items;
    let reason = q.reason();
    let mut summary = None;
    let mut rows = vec![];
    let mut selected = 0;
    let mut page = 1;
    let mut pages = 1;
    let mut before = 0;
    if let (Some(o), Some(r)) = (&org, &res) {
        let s = owes::summary(&reads, scope, OrgId(o.id), r).await?;
        selected = match reason {
            Some(want) => s
                .by_reason
                .iter()
                .find(|(k, _)| *k == want)
                .map_or(0, |(_, n)| *n),
            None => s.total_owing,
        };
        pages = ((selected + PER_PAGE - 1) / PER_PAGE).max(1);
        if q.after.is_some() {
            before = q.n.unwrap_or(0).clamp(0, selected);
        }
        page = (before / PER_PAGE + 1).min(pages);
        rows = owes::list(&reads, scope, OrgId(o.id), r, reason, q.after, PER_PAGE).await?;
        summary = Some(s);
    }
    let crumbs = match &org {
        Some(o) => org::breadcrumb(&reads, scope, OrgId(o.id)).await?,
        None => vec![],
    };
    let ctx = ctx.with_nav("owes").with_crumbs(crumbs);
    ctx.render(&OwesPage {
        ctx: ctx.clone(),
        orgs,
        resolutions,
        org,
        res,
        summary,
        rows,
        reasons: OwingReason::ALL,
        reason: reason.map(|r| r.code().to_string()).unwrap_or_default(),
        selected,
        before,
        page,
        pages,
    })
}

async fn csv(
    State(st): State<AppState>,
    Reads(reads): Reads,
    Ctx(_, user): Ctx,
    Query(q): Query<OwesQuery>,
) -> AppResult<Response> {
    let scope = user.scope();
    let (org, res) = choose(&st, scope, &q).await?;
    let (Some(o), Some(r)) = (org, res) else {
        return Err(AppError::BadRequest(
            "Chọn tổ chức và nghị quyết trước khi xuất danh sách.".into(),
        ));
    };
    let rows = owes::list(&reads, scope, OrgId(o.id), &r, q.reason(), None, 1_000_000).await?;
    let rows = rows
        .into_iter()
        .enumerate()
        .map(|(i, p)| {
            vec![
                (i + 1).to_string(),
                p.full_name.clone(),
                p.party_card_number.clone().unwrap_or_default(),
                p.org_name.clone(),
                p.reason_label().to_string(),
            ]
        })
        .collect();
    Ok(super::feedback::csv_response(
        &format!("con-no-hoc-{}-{}.csv", o.id, r.id),
        &["TT", "Họ và tên", "Số thẻ đảng viên", "Tổ chức", "Lý do"],
        rows,
    ))
}
