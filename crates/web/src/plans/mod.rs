//! Pages of putting resolutions into practice (issue 14): cascaded tasks (R8.1).

use axum::Router;

use crate::app::AppState;

pub mod tasks;

pub fn routes() -> Router<AppState> {
    tasks::routes()
}
