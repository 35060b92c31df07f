//! The storage layer of quantriet: one set of queries over SQLite (embedded default) or
//! PostgreSQL (scale-out). Every read of organization data takes a [`Scope`], and filters by the
//! subtree the caller may see in SQL, in one helper ([`scope::Scope::subtree_sql`]).

pub mod accounts;
pub mod assess;
pub mod auth;
pub mod backup;
pub mod conduct;
pub mod db;
pub mod error;
pub mod import;
pub mod limit;
pub mod notify;
pub mod org;
pub mod outbox;
pub mod oversight;
pub mod plans;
pub mod replica;
pub mod resolutions;
pub mod scope;
pub mod settings;
pub mod setup;
pub mod stats;
pub mod study;
pub mod testing;

pub use db::Db;
pub use error::{Result, StoreError};
pub use scope::Scope;

/// One page of a list, with the total count for paging.
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
}

impl<T> Page<T> {
    pub fn pages(&self) -> i64 {
        ((self.total + self.per_page - 1) / self.per_page).max(1)
    }
}

/// Paging request: 1-based page, bounded page size.
#[derive(Debug, Clone, Copy)]
pub struct Paging {
    pub page: i64,
    pub per_page: i64,
}

impl Paging {
    pub fn new(page: Option<i64>, per_page: Option<i64>) -> Self {
        Self {
            // A page past any list is empty, never an overflow (issue 10.8: PostgreSQL answered 500
            // to page=9223372036854775807 while SQLite gave page 1).
            page: page.unwrap_or(1).clamp(1, 1_000_000),
            per_page: per_page.unwrap_or(50).clamp(1, 500),
        }
    }
    pub fn offset(&self) -> i64 {
        (self.page - 1) * self.per_page
    }
}

/// Now, in UTC, at the precision the database keeps.
pub fn now() -> chrono::DateTime<chrono::Utc> {
    use chrono::SubsecRound;
    chrono::Utc::now().trunc_subsecs(6)
}

/// A moment as Vietnamese messages write it: "07:30 07/02/2026" (Vietnam time).
pub fn fmt_local(t: chrono::DateTime<chrono::Utc>) -> String {
    domain::study::utc_to_local(t)
        .format("%H:%M %d/%m/%Y")
        .to_string()
}

/// A keyset page read with one row more than `limit`: the page, and whether more follow.
pub fn page_and_more<T>(mut rows: Vec<T>, limit: usize) -> (Vec<T>, bool) {
    let more = rows.len() > limit;
    rows.truncate(limit);
    (rows, more)
}
