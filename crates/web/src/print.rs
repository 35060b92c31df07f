//! Printed documents in the Party layout (issue 11.13): one head for every document, made from
//! the issuing organization's place in the tree ([`domain::org::letterhead`]).

use domain::ids::OrgId;
use domain::org::letterhead::{letterhead, Letterhead};
use store::org;

use crate::error::AppResult;

/// What the head of a printed document shows (`templates/print_head.html`).
#[derive(Debug, Clone)]
pub struct DocHead {
    pub head: Letterhead,
    /// "Số      -DS/ĐU": the number is written by hand when the document is signed.
    pub number: String,
    /// "Ba Tơ, ngày 07 tháng 02 năm 2026".
    pub place_date: String,
    /// A register form's code ("Mẫu 7-HSĐV"), when the document is one.
    pub form: &'static str,
}

/// The head of a document of `kind` ("DS" for a list) issued by organization `org` today. The
/// names of the organization's ancestors are read whatever the caller's scope: a letterhead names
/// the superior body, which is no secret.
pub async fn doc_head(
    db: &store::Db,
    scope: &store::Scope,
    org_id: OrgId,
    kind: &str,
) -> AppResult<DocHead> {
    let crumbs = org::breadcrumb(db, scope, org_id).await?;
    let chain: Vec<&str> = crumbs.iter().map(|c| c.name.as_str()).collect();
    let head = letterhead(&chain);
    Ok(DocHead {
        number: head.number(kind),
        place_date: head.place_date(crate::fmt::today()),
        head,
        form: "",
    })
}
