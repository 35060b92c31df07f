//! Errors of the storage layer.

/// What went wrong in a query. Handlers map these once, in the web layer's `AppError`.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The record does not exist, or the caller may not see it (the two are not told apart).
    #[error("not found")]
    NotFound,
    /// The caller may see the record but not change it.
    #[error("forbidden")]
    Forbidden,
    /// A uniqueness rule would be broken; `what` names the field.
    #[error("conflict on {what}")]
    Conflict { what: &'static str },
    /// A rule of the domain refused the change: its stable code and Vietnamese message.
    #[error("rule {}: {}", .0.code, .0.message)]
    Rule(domain::Violation),
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
    #[error("migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("internal: {0}")]
    Internal(String),
}

impl StoreError {
    /// A broken rule with its stable code (`snake_case`, one per rule) and Vietnamese message.
    pub fn rule(code: &'static str, message: String) -> Self {
        Self::Rule(domain::Violation::new(code, message))
    }

    /// Maps a unique-constraint violation to `Conflict { what }`, anything else to `Db`.
    pub fn unique(what: &'static str) -> impl FnOnce(sqlx::Error) -> StoreError {
        move |e| match &e {
            sqlx::Error::Database(d) if d.is_unique_violation() => StoreError::Conflict { what },
            _ => StoreError::Db(e),
        }
    }
}

/// Result of a store call.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

impl From<domain::RuleError> for StoreError {
    fn from(e: domain::RuleError) -> Self {
        Self::Rule(e.into())
    }
}

impl From<domain::study::seats::SeatError> for StoreError {
    fn from(e: domain::study::seats::SeatError) -> Self {
        Self::Rule(domain::Violation::new(e.code(), e.to_string()))
    }
}
