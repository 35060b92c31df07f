//! The JSON API under `/api/v1`, described by the OpenAPI document at `/api/openapi.json`.
//! Handlers call the same store functions and the same domain validation as the pages.
//!
//! The API answers with views of its own, made from store rows with `From`: a row can change
//! without changing what clients read. Each view keeps the schema name of the row it replaced.

/// A view of a store row: the struct (its doc comments are the OpenAPI descriptions; `as` keeps
/// the schema name clients know) and `From<row>`, field by field. A field is moved as it is, or
/// through the function after `=>` (`views` for a list of rows, `Into::into` for one).
macro_rules! view {
    (@field $value:expr) => { $value };
    (@field $value:expr, $convert:path) => { $convert($value) };
    (
        $(#[$attr:meta])*
        $view:ident as $schema:ident from $row:ty {
            $( $(#[$field_attr:meta])* $field:ident: $ty:ty $(=> $convert:path)?, )*
        }
    ) => {
        $(#[$attr])*
        #[derive(Debug, serde::Serialize, utoipa::ToSchema)]
        #[schema(as = $schema)]
        pub struct $view {
            $( $(#[$field_attr])* pub $field: $ty, )*
        }

        impl From<$row> for $view {
            fn from(row: $row) -> Self {
                Self {
                    $( $field: view!(@field row.$field $(, $convert)?), )*
                }
            }
        }
    };
}

mod action_plans;
mod admin;
mod assess;
mod attendance_file;
mod auth;
mod checkin;
mod conduct;
mod feedback;
pub mod import;
mod notify;
mod org;
mod oversight;
mod plans;
mod resolutions;
mod study;

use axum::extract::{FromRequest, Request};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use serde::de::DeserializeOwned;
use serde::Serialize;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};

use crate::app::AppState;
use crate::error::{AppError, ErrorBody};

pub fn routes() -> Router<AppState> {
    Router::new()
        .merge(action_plans::routes())
        .merge(admin::routes())
        .merge(attendance_file::routes())
        .merge(auth::routes())
        .merge(checkin::routes())
        .merge(conduct::routes())
        .merge(oversight::routes())
        .merge(assess::routes())
        .merge(feedback::routes())
        .merge(org::routes())
        .merge(plans::routes())
        .merge(resolutions::routes())
        .merge(study::routes())
        .merge(notify::routes())
}

/// A JSON body; malformed JSON becomes a 400 with the stable error shape.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(v)) => Ok(Self(v)),
            Err(e) => Err(AppError::BadRequest(format!(
                "Dữ liệu JSON không hợp lệ: {}",
                e.body_text()
            ))),
        }
    }
}

/// One page of a list, with the total count for paging.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Page)]
pub struct PageView<T> {
    pub items: Vec<T>,
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
}

impl<R, V: From<R>> From<store::Page<R>> for PageView<V> {
    fn from(p: store::Page<R>) -> Self {
        Self {
            items: views(p.items),
            total: p.total,
            page: p.page,
            per_page: p.per_page,
        }
    }
}

/// The views of rows, in their order.
pub(crate) fn views<R, V: From<R>>(rows: Vec<R>) -> Vec<V> {
    rows.into_iter().map(V::from).collect()
}

struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new("qt_session"))),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "quantriet API", version = "1", description = "Học tập, quán triệt nghị quyết: the JSON API. Authenticate with POST /api/v1/auth/login and send `Authorization: Bearer <token>`. With the session cookie instead, unsafe methods need the `X-CSRF-Token` header. Errors are `{error, message, fields}` with a stable `error` code and a Vietnamese `message`."),
    modifiers(&Security),
    security(("bearer" = []), ("session" = [])),
    paths(
        auth::login, auth::logout, auth::logout_all, auth::change_password, auth::me, auth::ping,
        org::roots, org::detail, org::people, org::person, org::set_status, org::set_name_split, org::update_person,
        resolutions::list, resolutions::create, resolutions::get_one, resolutions::update,
        study::list_campaigns, study::create_campaign, study::get_campaign, study::update_campaign,
        study::list_classes, study::create_class, study::get_class, study::update_class,
        study::add_session, study::update_session, study::add_bridge_point,
        study::participants, study::generate, study::add_participant, study::remove_participant,
        checkin::record,
        study::sheet, study::record, study::results, study::finish, study::retakes,
        feedback::list, feedback::create,
        notify::list, notify::read_one, notify::read_all,
        plans::sent, plans::assigned, plans::create, plans::detail, plans::report,
        action_plans::list, action_plans::assigned, action_plans::create, action_plans::detail, action_plans::update,
        action_plans::step, action_plans::answer, action_plans::amend, action_plans::add_item, action_plans::report,
        conduct::create, conduct::detail, conduct::withdraw, conduct::of_person, conduct::person_ratings, conduct::of_class,
        conduct::eligibility, conduct::eligibility_members, conduct::rate,
        conduct::person_positions, conduct::add_position, conduct::end_position, conduct::set_presenter,
        oversight::list, oversight::create, oversight::detail, oversight::update, oversight::assign, oversight::evaluate, oversight::of_org,
        assess::bank, assess::add_question, assess::question, assess::edit_question, assess::list_quizzes, assess::my_quizzes, assess::create_quiz,
        assess::quiz, assess::publish, assess::publish_results, assess::ranking, assess::quiz_by_org, assess::start, assess::save, assess::submit,
        assess::attempt, assess::correct, assess::paper, assess::oral, assess::respond, assess::survey_results, assess::person_attempts, assess::rollup,
        assess::ask, assess::class_reflections, assess::record_reflection, assess::remind, assess::hand_in, assess::reflection, assess::grade, assess::person_reflections,
        attendance_file::import, attendance_file::template,
        import::members, import::orgs, import::export, import::export_orgs,
        admin::list, admin::create, admin::detail, admin::add_grant, admin::remove_grant, admin::set_clearance, admin::unlock, admin::bulk, admin::audit, admin::settings, admin::set_settings,
    ),
    components(schemas(ErrorBody)),
    tags(
        (name = "auth", description = "Login sessions and tokens"),
        (name = "org", description = "Organization tree and people"),
        (name = "resolutions", description = "Catalog of resolutions and directives (R2.8, R6.1)"),
        (name = "import", description = "Excel/CSV import with dry run, and xlsx export (issue 5)"),
        (name = "admin", description = "Accounts, roles, clearance and the audit log (issue 4)"),
        (name = "study", description = "Campaigns, classes, participants, attendance and retakes (R2.x, R3.x)"),
        (name = "plans", description = "Action programs and plans with their lifecycle and items (R1.2, R7.x), and tasks sent down the tree with a deadline (R8.1)"),
        (name = "conduct", description = "Commendations, reminders, criticisms and proposals (R3.6); year-end rating eligibility and ratings (R3.7)"),
        (name = "assess", description = "Question banks, class questionnaires and anonymous surveys, cell quizzes, knowledge contests, written reflections and their roll-ups (R3.4, R4.1, R4.2, R6.3)"),
        (name = "oversight", description = "Working groups supervising the classes of lower levels, and their evaluations (R3.2)"),
        (name = "notify", description = "The caller's own notifications: class changes, absences, retakes (R2.6, R3.3, R3.5)"),
    )
)]
pub struct ApiDoc;

/// `GET /api/openapi.json`
pub async fn openapi_json() -> Response {
    Json(ApiDoc::openapi()).into_response()
}
