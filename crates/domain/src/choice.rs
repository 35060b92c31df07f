//! `choice!` declares an enum stored as a stable English code, shown with a Vietnamese label.

/// Declares an enum with `code()` (stable, stored and sent in the API), `label()` (Vietnamese),
/// `parse(code)` and `ALL`, plus serde as the code.
#[macro_export]
macro_rules! choice {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $variant:ident = $code:literal / $label:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($(#[$vm])* $variant),+ }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            /// The stable code stored in the database and used by the API.
            pub fn code(self) -> &'static str { match self { $($name::$variant => $code),+ } }
            /// The Vietnamese label shown to users.
            pub fn label(self) -> &'static str { match self { $($name::$variant => $label),+ } }
            /// Parses the stable code.
            pub fn parse(code: &str) -> Result<Self, $crate::RuleError> {
                match code.trim() { $($code => Ok($name::$variant),)+ _ => Err($crate::RuleError::InvalidChoice) }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result { f.write_str(self.label()) }
        }
    };
}
