//! The HTTP layer of quantriet: server-rendered Vietnamese pages and the JSON API over the same
//! store calls. Each area has its module with `routes()`; `app` merges them.

mod admin;
pub mod api;
pub mod app;
mod assess;
mod assets;
pub mod auth;
mod auth_pages;
mod conduct;
pub mod error;
mod fmt;
mod import;
mod input;
mod limit;
pub mod mail;
pub mod metrics;
mod notify;
pub mod org;
mod oversight;
pub mod pages;
pub mod plans;
mod print;
pub mod proxy;
pub mod reads;
mod resolutions;
mod study;
