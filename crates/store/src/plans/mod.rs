//! Putting resolutions into practice (issue 14): cascaded tasks (R8.1). Plans and their items
//! come here next.

pub mod tasks;
