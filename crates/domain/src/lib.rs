//! The rules of quantriet, free of IO: validated values, ids, and the functions that decide
//! retakes, exclusions and Vietnamese name order. Every rule is unit-tested here, named after the
//! requirement it implements (see `shared/domain/requirements.md`).

pub mod assess;
pub mod auth;
mod choice;
pub mod conduct;
pub mod error;
pub mod ids;
pub mod org;
pub mod oversight;
pub mod plans;
pub mod resolutions;
pub mod study;
pub mod text;

pub use error::{FieldErrors, RuleError, Violation};
