//! What every page shares: the page context (user, menu, CSRF token, flash, breadcrumb), the
//! layout, the error page, and the dashboard and self-service pages.

use crate::reads::Reads;
use askama::Template;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use domain::auth::Role;
use store::org::Crumb;
use store::study::{attendance, classes};
use store::{resolutions, Paging};

use crate::app::AppState;
use crate::auth::{self, CurrentUser};
use crate::error::{AppError, AppResult};

/// What the layout needs on every page.
#[derive(Debug, Clone)]
pub struct PageCtx {
    pub user_name: String,
    pub role_label: &'static str,
    /// The organization the user works in (their highest grant's, or a member's own), shown on
    /// every page (issue 11.16).
    pub org_name: String,
    pub csrf: String,
    pub flash: Option<String>,
    /// The active menu entry.
    pub nav: &'static str,
    /// Sees organization data (presenter and above).
    pub can_read: bool,
    /// Takes attendance and records conduct (secretary and above).
    pub can_attend: bool,
    /// Plans classes and keeps the catalog (organizer and above).
    pub can_plan: bool,
    pub is_admin: bool,
    pub has_person: bool,
    /// Unread notifications of the account's person (the menu badge).
    pub unread: i64,
    pub crumbs: Vec<Crumb>,
    /// The database has accounts with the demo's published password (issue 13.1).
    pub demo: bool,
    secure: bool,
}

impl PageCtx {
    pub fn with_nav(mut self, nav: &'static str) -> Self {
        self.nav = nav;
        self
    }
    pub fn with_crumbs(mut self, crumbs: Vec<Crumb>) -> Self {
        self.crumbs = crumbs;
        self
    }
    /// Renders a page; a shown flash message is cleared.
    pub fn render(&self, t: &impl Template) -> AppResult<Response> {
        let html = t.render()?;
        let mut resp = Html(html).into_response();
        if self.flash.is_some() {
            resp.headers_mut().append(
                header::SET_COOKIE,
                auth::set_cookie(auth::FLASH_COOKIE, "", Some(0), self.secure),
            );
        }
        Ok(resp)
    }
    /// Renders a form again with its errors (422), keeping what the user typed.
    pub fn render_invalid(&self, t: &impl Template) -> AppResult<Response> {
        let mut resp = self.render(t)?;
        *resp.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
        Ok(resp)
    }
    /// Redirects after a change, with a message shown on the next page.
    pub fn redirect(&self, to: &str, message: &str) -> Response {
        let mut resp = Redirect::to(to).into_response();
        resp.headers_mut().append(
            header::SET_COOKIE,
            auth::set_cookie(
                auth::FLASH_COOKIE,
                &auth::encode_flash(message),
                Some(60),
                self.secure,
            ),
        );
        resp
    }
}

/// The page context of this request (requires a login).
pub struct Ctx(pub PageCtx, pub CurrentUser);

impl FromRequestParts<AppState> for Ctx {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let user = CurrentUser::from_request_parts(parts, state).await?;
        let scope = user.scope();
        let flash =
            auth::cookie(&parts.headers, auth::FLASH_COOKIE).and_then(|c| auth::decode_flash(&c));
        // One COUNT on the (person_id, created_at) index per page, for the menu badge.
        let unread = match scope.person_id {
            Some(p) => store::notify::unread_count(&state.db, p).await?,
            None => 0,
        };
        let top = scope.grants.iter().max_by_key(|g| g.role).map(|g| g.org_id);
        let org_name = store::org::home_org_name(&state.db, top, scope.person_id).await?;
        let ctx = PageCtx {
            user_name: user.account.display_name.clone(),
            role_label: scope.top_role().map(Role::label).unwrap_or(""),
            org_name,
            csrf: user.csrf.clone(),
            flash,
            nav: "",
            can_read: scope.has_role(store::scope::READ),
            can_attend: scope.has_role(store::scope::ATTEND),
            can_plan: scope.has_role(store::scope::WRITE),
            is_admin: scope.has_role(Role::Admin),
            has_person: scope.person_id.is_some(),
            unread,
            crumbs: vec![],
            demo: !state.config.demo_accounts.is_empty(),
            secure: auth::is_secure(&parts.headers, state),
        };
        Ok(Ctx(ctx, user))
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    status: u16,
    message: &'a str,
    /// The request's id, to quote when reporting the problem (issue 13.8).
    request_id: String,
}

/// A standalone error page (no session needed).
pub fn error_page(status: StatusCode, message: &str) -> String {
    ErrorPage {
        status: status.as_u16(),
        message,
        request_id: crate::metrics::request_id().unwrap_or_default(),
    }
    .render()
    .unwrap_or_else(|_| message.to_string())
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(dashboard))
        .route("/me", get(me))
        .route("/retakes", get(retakes))
        .route("/retakes.csv", get(retakes_csv))
}

#[derive(Template)]
#[template(path = "home.html")]
struct Dashboard {
    ctx: PageCtx,
    upcoming: Vec<classes::Class>,
    open_retakes: usize,
    overdue: Vec<resolutions::Resolution>,
    /// Planned classes whose chair, speakers or key-content presenters are not standing
    /// members (R1.3), counted up to the cap.
    lead_warned: i64,
}

/// Tổng quan: upcoming classes, retakes owed, overdue publications (R6.1).
async fn dashboard(Reads(reads): Reads, Ctx(ctx, user): Ctx) -> AppResult<Response> {
    if !ctx.can_read {
        return Ok(Redirect::to("/me").into_response());
    }
    let scope = user.scope();
    let all = classes::list(&reads, scope, &Default::default()).await?;
    let upcoming: Vec<_> = all
        .into_iter()
        .filter(|c| !c.is_finished())
        .take(10)
        .collect();
    let open_retakes = attendance::open_retakes(&reads, scope).await?.len();
    let recent = resolutions::list(
        &reads,
        scope,
        &Default::default(),
        Paging::new(Some(1), Some(100)),
    )
    .await?;
    let deadline = store::settings::of_scope(&reads, scope)
        .await?
        .publication_deadline_days;
    let overdue = recent
        .items
        .into_iter()
        .filter(|r| r.publication_overdue(deadline))
        .collect();
    let lead_warned = store::study::presenters::warned_count(&reads, scope).await?;
    let ctx = ctx.with_nav("home");
    ctx.render(&Dashboard {
        ctx: ctx.clone(),
        upcoming,
        open_retakes,
        overdue,
        lead_warned,
    })
}

#[derive(Template)]
#[template(path = "me.html")]
struct MePage {
    ctx: PageCtx,
    classes: Vec<attendance::MyClass>,
    /// The member's own full name and organization.
    me: Option<(String, String)>,
    /// The member's own conduct records (R3.6): commendations, reminders… of every year.
    conduct: Vec<store::conduct::Record>,
    /// The member's own year-end ratings.
    ratings: Vec<store::conduct::PersonRating>,
    /// Issue 16: the questionnaires the member may take, their results, their reflections.
    to_take: Vec<store::assess::Quiz>,
    my_attempts: Vec<(store::assess::attempts::Attempt, String)>,
    my_reflections: Vec<store::assess::reflections::Reflection>,
}

impl MePage {
    /// The member submitted this questionnaire (issue 16).
    fn taken(&self, quiz: &domain::ids::QuizId) -> bool {
        self.my_attempts
            .iter()
            .any(|(a, _)| a.quiz_id == quiz.0 && a.submitted())
    }
}

/// Self-service for members: my classes, my attendance and whether I owe a retake.
async fn me(State(st): State<AppState>, Ctx(ctx, user): Ctx) -> AppResult<Response> {
    let classes = match user.scope().person_id {
        Some(p) => attendance::my_classes(&st.db, p).await?,
        None => vec![],
    };
    let me = store::org::own_name(&st.db, user.scope()).await?;
    let (conduct, ratings) = match user.scope().person_id {
        Some(p) => (
            store::conduct::of_person(&st.db, user.scope(), p, None).await?,
            store::conduct::ratings_of_person(&st.db, user.scope(), p).await?,
        ),
        None => (vec![], vec![]),
    };
    // Issue 16: questionnaires to take, my results, my reflections.
    let (to_take, my_attempts, my_reflections) = match user.scope().person_id {
        Some(p) => (
            store::assess::for_me(&st.db, user.scope()).await?,
            store::assess::attempts::of_person(&st.db, user.scope(), p).await?,
            store::assess::reflections::of_person(&st.db, user.scope(), p).await?,
        ),
        None => (vec![], vec![], vec![]),
    };
    let ctx = ctx.with_nav("me");
    ctx.render(&MePage {
        ctx: ctx.clone(),
        classes,
        me,
        conduct,
        ratings,
        to_take,
        my_attempts,
        my_reflections,
    })
}

#[derive(Template)]
#[template(path = "retakes.html")]
struct RetakesPage {
    ctx: PageCtx,
    retakes: Vec<attendance::Retake>,
    /// The page lists at most this many (the CSV has them all).
    listed: usize,
    /// The head of the printed list (issue 11.13), issued by the caller's highest organization.
    doc: Option<crate::print::DocHead>,
}

/// Học lại: everyone in the caller's subtree who still owes a resolution (R3.3, R3.5).
async fn retakes(Reads(reads): Reads, Ctx(ctx, user): Ctx) -> AppResult<Response> {
    let scope = user.scope();
    let retakes = attendance::open_retakes(&reads, scope).await?;
    let top = scope.grants.iter().max_by_key(|g| g.role).map(|g| g.org_id);
    let doc = match top {
        Some(org) => Some(crate::print::doc_head(&reads, scope, org, "DS").await?),
        None => None,
    };
    let ctx = ctx.with_nav("retakes");
    ctx.render(&RetakesPage {
        ctx: ctx.clone(),
        retakes,
        listed: attendance::RETAKES_LISTED as usize,
        doc,
    })
}

/// Học lại as CSV (issue 11.16), every line.
async fn retakes_csv(Reads(reads): Reads, Ctx(_, user): Ctx) -> AppResult<Response> {
    let retakes =
        attendance::open_retakes_up_to(&reads, user.scope(), attendance::RETAKES_EXPORTED).await?;
    let rows = retakes
        .into_iter()
        .map(|r| {
            vec![
                r.full_name,
                r.org_name,
                r.class_title,
                r.missed_minutes.to_string(),
                r.class_minutes.to_string(),
                r.excused_minutes.to_string(),
            ]
        })
        .collect();
    Ok(crate::study::feedback::csv_response(
        "hoc-lai.csv",
        &[
            "Họ và tên",
            "Tổ chức",
            "Lớp học",
            "Vắng (phút)",
            "Thời lượng lớp (phút)",
            "Trong đó có lý do (phút)",
        ],
        rows,
    ))
}

#[cfg(test)]
mod template_tests {
    /// Issue 11.15: every field error shown under an input is tied to it, so a screen reader
    /// reads the error with the field: each `<p class="field-error">` has an id, and some control
    /// of the same template names that id in `aria-describedby`.
    #[test]
    fn field_errors_are_tied_to_their_inputs() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
        let mut problems = Vec::new();
        let mut files = vec![root];
        let mut checked = 0;
        while let Some(path) = files.pop() {
            if path.is_dir() {
                for entry in std::fs::read_dir(&path).expect("templates") {
                    files.push(entry.expect("entry").path());
                }
                continue;
            }
            let text = std::fs::read_to_string(&path).expect("template");
            for (at, _) in text.match_indices("<p class=\"field-error\"") {
                checked += 1;
                let tag = &text[at..text[at..].find('>').map_or(text.len(), |e| at + e)];
                let Some(id) = tag
                    .split("id=\"")
                    .nth(1)
                    .and_then(|rest| rest.split('"').next())
                else {
                    problems.push(format!("{}: field error without id: {tag}", path.display()));
                    continue;
                };
                if !text.contains(&format!("aria-describedby=\"{id}\""))
                    && !text.contains(&format!("aria-describedby=\"{id} "))
                {
                    problems.push(format!("{}: nothing is described by {id}", path.display()));
                }
            }
        }
        assert!(checked > 40, "the templates were read ({checked} errors)");
        assert!(problems.is_empty(), "{}", problems.join("\n"));
    }
}
