//! Checking understanding (R3.4, R4.1, R4.2, R6.3): question banks, questionnaires of classes
//! and cells, knowledge contests and written reflections — the pages. Every page works without
//! script; the API of the same area is `api/assess.rs`.

mod bank;
mod quizzes;
mod reflections;
mod take;

use axum::Router;

use crate::app::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .merge(bank::routes())
        .merge(quizzes::routes())
        .merge(take::routes())
        .merge(reflections::routes())
}
