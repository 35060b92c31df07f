//! Importing the organization tree and the member list from spreadsheets, and exporting them
//! back (issue 5): files are read row by row ([`read`]), checked whole in a dry run that says
//! what would change, then written in one transaction that writes all of it or nothing.

mod export;
pub mod guard;
mod members;
mod orgs;
mod read;
mod uploads;

pub use export::{export_members, export_orgs};
pub use members::{
    import_members, plan_members, Applied, Change, Expected, MemberPlan, Missing, NameRuleCount,
    Options, Outcome, Progress, CHANGES_LISTED, LISTED,
};
pub use orgs::{import_orgs, org_records};
pub use read::{
    check_readable, read_sheet, read_sheet_from, Chunk, Row, RowStream, Sheet, Source,
    MAX_CELL_CHARS, MAX_FILE, READS_AT_ONCE,
};
pub use uploads::{drop_upload, get_upload, save_upload, Upload};
