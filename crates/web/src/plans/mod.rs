//! Pages of putting resolutions into practice (issue 14): action programs and plans with their
//! lifecycle and items (R1.2, R7.x), and cascaded tasks (R8.1).

use axum::Router;
use store::org::{self, Org};
use store::Scope;

use crate::app::AppState;

pub mod action_plans;
pub mod calendar;
pub mod tasks;
pub mod timeliness;

pub fn routes() -> Router<AppState> {
    tasks::routes()
        .merge(timeliness::routes())
        .merge(calendar::routes())
        .merge(action_plans::routes())
}

/// The organizations where the caller holds the organizer's role or above: those that may send
/// tasks and issue plans.
pub(crate) async fn organizing(st: &AppState, scope: &Scope) -> Vec<Org> {
    let mut out = Vec::new();
    for g in scope
        .grants
        .iter()
        .filter(|g| g.role >= store::scope::WRITE)
    {
        if let Ok(o) = org::get(&st.db, scope, g.org_id).await {
            out.push(o);
        }
    }
    out
}
