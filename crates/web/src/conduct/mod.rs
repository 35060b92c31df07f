//! Conduct records at a class (R3.6), the year-end rating eligibility report and the cells'
//! ratings (R3.7), and the positions of a person in committees (R1.3). Pages work without
//! script; the report prints in the Party layout and exports to xlsx.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use domain::conduct::{ConductInput, ConductKind, RatingLevel};
use domain::ids::{ClassId, ConductRecordId, OrgId, PersonId};
use domain::org::positions::CommitteeRole;
use domain::FieldErrors;
use serde::Deserialize;
use store::conduct::{self, Absentee, CellRow, MemberRow, RatingEntry, Record, Report};
use store::org::{self, Org};
use store::study::classes::{self, Class};
use store::study::participants::{self, Participant};
use store::StoreError;

use crate::app::AppState;
use crate::auth::CsrfForm;
use crate::error::{AppError, AppResult};
use crate::pages::{Ctx, PageCtx};
use crate::reads::Reads;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/classes/{id}/conduct", get(class_page).post(record))
        .route("/conduct/{id}/withdraw", post(withdraw))
        .route("/conduct/eligibility", get(eligibility))
        .route("/conduct/eligibility/print", get(eligibility_print))
        .route("/conduct/eligibility.xlsx", get(eligibility_xlsx))
        .route("/conduct/ratings", get(ratings_page).post(rate))
        .route("/people/{id}/positions", post(add_position))
        .route("/positions/{id}/end", post(end_position))
}

/// Participants listed per page of the entry form.
const PARTICIPANTS_PER_PAGE: usize = 50;
/// Cells and members per page of the report.
const CELLS_PER_PAGE: usize = 50;
const MEMBERS_PER_PAGE: i64 = 100;

fn today_text() -> String {
    crate::fmt::date(&crate::fmt::today())
}

// ----- a class's records and the entry form -----

#[derive(Template)]
#[template(path = "conduct/class.html")]
struct ClassPage {
    ctx: PageCtx,
    c: Class,
    records: Vec<Record>,
    next_before: Option<i64>,
    participants: Vec<Participant>,
    /// The participant page after this one, if any.
    next_after: Option<i64>,
    absentees: Vec<Absentee>,
    /// More absentees than shown (the page stays small; the participants' pages list everyone).
    more_absentees: bool,
    kinds: &'static [ConductKind],
    input: ConductInput,
    errors: FieldErrors,
}

impl ClassPage {
    fn err(&self, f: &str) -> &str {
        self.errors.get(f).unwrap_or("")
    }
    fn checked(&self, id: &i64) -> bool {
        let id = id.to_string();
        self.input.person_ids.iter().any(|p| p.trim() == id)
    }
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
struct ClassQuery {
    before: Option<i64>,
    after: Option<i64>,
    /// Preset kind (the absentees' block offers a review proposal).
    kind: Option<String>,
}

async fn build_class_page(
    st: &AppState,
    ctx: PageCtx,
    scope: &store::Scope,
    id: i64,
    q: &ClassQuery,
    input: Option<ConductInput>,
    errors: FieldErrors,
) -> AppResult<ClassPage> {
    let c = classes::get(&st.db, scope, ClassId(id)).await?;
    let access = classes::access(&st.db, scope, &c, store::scope::ATTEND).await?;
    let (records, next_before) = conduct::of_class(&st.db, scope, &c, q.before).await?;
    let (mut list, more) =
        participants::page(&st.db, &c, &access, q.after, PARTICIPANTS_PER_PAGE).await?;
    list.retain(|p| p.removed_reason.is_none());
    let next_after = if more {
        list.last().map(|p| p.id)
    } else {
        None
    };
    let mut absentees = conduct::unexcused(&st.db, scope, &c).await?;
    let more_absentees = absentees.len() > conduct::ABSENTEES_SHOWN;
    absentees.truncate(conduct::ABSENTEES_SHOWN);
    let input = input.unwrap_or_else(|| ConductInput {
        kind: q.kind.clone().unwrap_or_else(|| "commendation".into()),
        occurred_on: today_text(),
        ..Default::default()
    });
    let crumbs = org::breadcrumb(&st.db, scope, OrgId(c.org_id)).await?;
    Ok(ClassPage {
        ctx: ctx.with_nav("campaigns").with_crumbs(crumbs),
        c,
        records,
        next_before,
        participants: list,
        next_after,
        absentees,
        more_absentees,
        kinds: ConductKind::ALL,
        input,
        errors,
    })
}

async fn class_page(
    State(st): State<AppState>,
    Ctx(ctx, user): Ctx,
    Path(id): Path<i64>,
    Query(q): Query<ClassQuery>,
) -> AppResult<Response> {
    let page = build_class_page(&st, ctx, user.scope(), id, &q, None, FieldErrors::new()).await?;
    page.ctx.render(&page)
}

/// The field a store rule belongs to on the entry form.
fn conduct_field(code: &str) -> &'static str {
    match code {
        "person_outside" | "not_participant" | "person_not_active" => "person_ids",
        _ => "reason",
    }
}

async fn record(
    State(st): State<AppState>,
    Ctx(ctx, _): Ctx,
    Path(id): Path<i64>,
    f: CsrfForm<ConductInput>,
) -> AppResult<Response> {
    let scope = f.user.scope();
    let c = classes::get(&st.db, scope, ClassId(id)).await?;
    let mut errors = FieldErrors::new();
    match f.form.validate(crate::fmt::today()) {
        Ok(new) => match conduct::record(&st.db, scope, Some(&c), &new).await {
            Ok(ids) => {
                return Ok(ctx.redirect(
                    &format!("/classes/{id}/conduct"),
                    &format!(
                        "Đã ghi nhận {} cho {} người.",
                        new.kind.label().to_lowercase(),
                        ids.len()
                    ),
                ))
            }
            Err(StoreError::Rule(v)) => errors.add(conduct_field(v.code), v.message),
            Err(e) => return Err(e.into()),
        },
        Err(e) => errors = e,
    }
    let page = build_class_page(
        &st,
        ctx,
        scope,
        id,
        &ClassQuery::default(),
        Some(f.form),
        errors,
    )
    .await?;
    page.ctx.render_invalid(&page)
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
struct WithdrawForm {
    reason: String,
    /// Where to go back (a path of this site).
    back: String,
}

async fn withdraw(
    State(st): State<AppState>,
    Ctx(ctx, _): Ctx,
    Path(id): Path<i64>,
    f: CsrfForm<WithdrawForm>,
) -> AppResult<Response> {
    let scope = f.user.scope();
    let back = if f.form.back.starts_with('/') && !f.form.back.starts_with("//") {
        f.form.back.clone()
    } else {
        "/".to_string()
    };
    match conduct::withdraw(&st.db, scope, ConductRecordId(id), &f.form.reason).await {
        Ok(()) => Ok(ctx.redirect(
            &back,
            "Đã rút lại bản ghi (bản ghi vẫn được lưu, kèm lý do rút lại).",
        )),
        Err(StoreError::Rule(v)) => Ok(ctx.redirect(&back, &v.message)),
        Err(e) => Err(e.into()),
    }
}

// ----- the eligibility report -----

#[derive(Template)]
#[template(path = "conduct/eligibility.html")]
struct EligibilityPage {
    ctx: PageCtx,
    orgs: Vec<Org>,
    report: Report,
    /// This page of cells (all of them for a print), and the cell after which the next starts.
    cells: Vec<CellRow>,
    next_cell: Option<i64>,
    members: Vec<MemberRow>,
    next_member: Option<i64>,
    only_barred: bool,
    all_members: bool,
    years: Vec<i32>,
    doc: Option<crate::print::DocHead>,
    /// The caller may enter the ratings of a cell shown.
    can_rate: bool,
}

impl EligibilityPage {
    fn orgs_has_current(&self) -> bool {
        self.orgs.iter().any(|o| o.id == self.report.org.id)
    }
    fn query(&self) -> String {
        format!(
            "org={}&year={}{}",
            self.report.org.id,
            self.report.year,
            if self.only_barred { "&only=barred" } else { "" },
        ) + if self.all_members { "&members=all" } else { "" }
    }
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
struct EligibilityQuery {
    org: Option<i64>,
    year: Option<i32>,
    /// The cell page after this cell.
    cell_after: Option<i64>,
    /// The member page after this person.
    after: Option<i64>,
    /// "barred": only the cells not eligible.
    only: Option<String>,
    /// "all": every member of the subtree, not only those not eligible.
    members: Option<String>,
}

/// What the report is built for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Output {
    Page,
    Print,
    /// Every member of the subtree, every cell.
    Xlsx,
}

/// The organizations the caller may report on (secretary and up), their own first.
async fn report_orgs(db: &store::Db, scope: &store::Scope) -> AppResult<Vec<Org>> {
    let mut orgs = Vec::new();
    for g in scope
        .grants
        .iter()
        .filter(|g| g.role >= store::scope::ATTEND)
    {
        if let Ok(o) = org::get(db, scope, g.org_id).await {
            orgs.push(o);
        }
    }
    Ok(orgs)
}

async fn build_eligibility(
    reads: &store::Db,
    ctx: PageCtx,
    scope: &store::Scope,
    q: &EligibilityQuery,
    output: Output,
) -> AppResult<EligibilityPage> {
    let print = output != Output::Page;
    let all_members = output == Output::Xlsx || q.members.as_deref() == Some("all");
    let orgs = report_orgs(reads, scope).await?;
    let org_id = q
        .org
        .or(orgs.first().map(|o| o.id))
        .ok_or(AppError::Forbidden)?;
    let year = q.year.unwrap_or_else(conduct::this_year);
    if !(2000..=2100).contains(&year) {
        return Err(AppError::BadRequest("Năm không hợp lệ.".into()));
    }
    let report = conduct::eligibility(reads, scope, OrgId(org_id), year).await?;
    let only_barred = q.only.as_deref() == Some("barred");
    let chosen: Vec<&CellRow> = report
        .cells
        .iter()
        .filter(|c| !only_barred || c.barred())
        .collect();
    let (cells, next_cell) = if print {
        (chosen.into_iter().cloned().collect(), None)
    } else {
        let start = match q.cell_after {
            Some(a) => chosen
                .iter()
                .position(|c| c.org_id == a)
                .map_or(0, |i| i + 1),
            None => 0,
        };
        let page: Vec<CellRow> = chosen
            .iter()
            .skip(start)
            .take(CELLS_PER_PAGE)
            .map(|c| (*c).clone())
            .collect();
        let next = (chosen.len() > start + CELLS_PER_PAGE)
            .then(|| page.last().map(|c| c.org_id))
            .flatten();
        (page, next)
    };
    let limit = if print { 100_000 } else { MEMBERS_PER_PAGE };
    let (members, next_member) =
        conduct::members(reads, &report, all_members, q.after, limit).await?;
    let doc = if print {
        Some(crate::print::doc_head(reads, scope, OrgId(org_id), "BC").await?)
    } else {
        None
    };
    let this = conduct::this_year();
    let can_rate = scope
        .covers(reads, OrgId(org_id), store::scope::ATTEND)
        .await?;
    let crumbs = org::breadcrumb(reads, scope, OrgId(org_id)).await?;
    Ok(EligibilityPage {
        ctx: ctx.with_nav("conduct").with_crumbs(crumbs),
        orgs,
        report,
        cells,
        next_cell,
        members,
        next_member,
        only_barred,
        all_members,
        years: vec![this, this - 1, this - 2],
        doc,
        can_rate,
    })
}

async fn eligibility(
    Reads(reads): Reads,
    Ctx(ctx, user): Ctx,
    Query(q): Query<EligibilityQuery>,
) -> AppResult<Response> {
    let page = build_eligibility(&reads, ctx, user.scope(), &q, Output::Page).await?;
    page.ctx.render(&page)
}

#[derive(Template)]
#[template(path = "conduct/eligibility_print.html")]
struct EligibilityPrint {
    page: EligibilityPage,
}

async fn eligibility_print(
    Reads(reads): Reads,
    Ctx(ctx, user): Ctx,
    Query(q): Query<EligibilityQuery>,
) -> AppResult<Response> {
    let page = build_eligibility(&reads, ctx, user.scope(), &q, Output::Print).await?;
    let ctx = page.ctx.clone();
    ctx.render(&EligibilityPrint { page })
}

async fn eligibility_xlsx(
    Reads(reads): Reads,
    Ctx(ctx, user): Ctx,
    Query(q): Query<EligibilityQuery>,
) -> AppResult<Response> {
    let page = build_eligibility(&reads, ctx, user.scope(), &q, Output::Xlsx).await?;
    let bytes = store::conduct::export::eligibility_xlsx(&page.report, &page.members)?;
    Ok(crate::plans::action_plans::download(
        bytes,
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        &format!("xep loai {} {}", page.report.org.name, page.report.year),
        "xlsx",
    ))
}

// ----- the ratings of a cell -----

#[derive(Template)]
#[template(path = "conduct/ratings.html")]
struct RatingsPage {
    ctx: PageCtx,
    report: Report,
    cell: CellRow,
    members: Vec<MemberRow>,
    levels: &'static [RatingLevel],
    /// The caller may rate the cell itself (the committee above).
    can_rate_cell: bool,
    /// What was chosen (kept on a refused submit): "person id" or "cell" → level.
    chosen: HashMap<String, String>,
    error: Option<String>,
    years: Vec<i32>,
}

impl RatingsPage {
    fn level_of(&self, key: &str, saved: &Option<String>) -> String {
        self.chosen
            .get(key)
            .cloned()
            .or_else(|| saved.clone())
            .unwrap_or_default()
    }
    fn member_level(&self, m: &MemberRow) -> String {
        self.level_of(&m.person_id.to_string(), &m.rating)
    }
    fn cell_level(&self) -> String {
        self.level_of("cell", &self.cell.rating)
    }
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
struct RatingsQuery {
    org: Option<i64>,
    year: Option<i32>,
}

async fn build_ratings(
    st: &AppState,
    ctx: PageCtx,
    scope: &store::Scope,
    org_id: i64,
    year: i32,
    chosen: HashMap<String, String>,
    error: Option<String>,
) -> AppResult<RatingsPage> {
    let report = conduct::eligibility(&st.db, scope, OrgId(org_id), year).await?;
    if !report.is_cell() {
        return Err(AppError::BadRequest(
            "Chỉ xếp loại tại chi bộ: hãy chọn một chi bộ.".into(),
        ));
    }
    let cell = report
        .cells
        .iter()
        .find(|c| c.org_id == org_id)
        .cloned()
        .ok_or(AppError::NotFound)?;
    let (members, _) = conduct::members(&st.db, &report, true, None, 100_000).await?;
    let can_rate_cell = match report.org.parent_id {
        Some(p) => scope.covers(&st.db, OrgId(p), store::scope::ATTEND).await?,
        None => false,
    };
    let this = conduct::this_year();
    let crumbs = org::breadcrumb(&st.db, scope, OrgId(org_id)).await?;
    Ok(RatingsPage {
        ctx: ctx.with_nav("conduct").with_crumbs(crumbs),
        report,
        cell,
        members,
        levels: RatingLevel::ALL,
        can_rate_cell,
        chosen,
        error,
        years: vec![this, this - 1],
    })
}

async fn ratings_page(
    State(st): State<AppState>,
    Ctx(ctx, user): Ctx,
    Query(q): Query<RatingsQuery>,
) -> AppResult<Response> {
    let org_id = q
        .org
        .ok_or_else(|| AppError::BadRequest("Chọn một chi bộ.".into()))?;
    let year = q.year.unwrap_or_else(conduct::this_year);
    let page = build_ratings(&st, ctx, user.scope(), org_id, year, HashMap::new(), None).await?;
    page.ctx.render(&page)
}

/// The ratings form: `org`, `year`, `level_<person id>` and `level_cell`, each a level code or
/// empty (not rated now).
async fn rate(
    State(st): State<AppState>,
    Ctx(ctx, _): Ctx,
    f: CsrfForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    let scope = f.user.scope();
    let field = |name: &str| {
        f.form
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim().to_string())
            .unwrap_or_default()
    };
    let org_id: i64 = field("org")
        .parse()
        .map_err(|_| AppError::BadRequest("Chọn một chi bộ.".into()))?;
    let year: i32 = field("year")
        .parse()
        .map_err(|_| AppError::BadRequest("Năm xếp loại không hợp lệ.".into()))?;
    let mut chosen = HashMap::new();
    let mut entries = Vec::new();
    for (k, v) in &f.form {
        let Some(key) = k.strip_prefix("level_") else {
            continue;
        };
        let v = v.trim();
        if v.is_empty() {
            continue;
        }
        let level = RatingLevel::parse(v)
            .map_err(|_| AppError::BadRequest("Mức xếp loại không hợp lệ.".into()))?;
        let person = if key == "cell" {
            None
        } else {
            Some(PersonId(key.parse().map_err(|_| {
                AppError::BadRequest("Biểu mẫu xếp loại không hợp lệ.".into())
            })?))
        };
        chosen.insert(key.to_string(), v.to_string());
        entries.push(RatingEntry { person, level });
    }
    if entries.len() > 2_000 {
        return Err(AppError::BadRequest("Nhiều quá 2.000 mục xếp loại.".into()));
    }
    let error = if entries.is_empty() {
        Some("Chưa chọn mức xếp loại nào.".to_string())
    } else {
        match conduct::rate(&st.db, scope, OrgId(org_id), year, &entries).await {
            Ok(()) => {
                return Ok(ctx.redirect(
                    &format!("/conduct/ratings?org={org_id}&year={year}"),
                    &format!("Đã lưu xếp loại {} mục.", entries.len()),
                ))
            }
            Err(StoreError::Rule(v)) => Some(v.message),
            Err(e) => return Err(e.into()),
        }
    };
    let year = if (2000..=2100).contains(&year) {
        year
    } else {
        conduct::this_year()
    };
    let page = build_ratings(&st, ctx, scope, org_id, year, chosen, error).await?;
    page.ctx.render_invalid(&page)
}

// ----- positions (from the person's page) -----

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
struct PositionForm {
    org_id: String,
    role: String,
}

async fn add_position(
    State(st): State<AppState>,
    Ctx(ctx, _): Ctx,
    Path(id): Path<i64>,
    f: CsrfForm<PositionForm>,
) -> AppResult<Response> {
    let scope = f.user.scope();
    let back = format!("/people/{id}#positions");
    let (Ok(role), Ok(org_id)) = (
        CommitteeRole::parse(&f.form.role),
        f.form.org_id.trim().parse::<i64>(),
    ) else {
        return Ok(ctx.redirect(&back, "Chọn tổ chức và chức vụ."));
    };
    match store::org::positions::add(&st.db, scope, PersonId(id), OrgId(org_id), role).await {
        Ok(_) => Ok(ctx.redirect(&back, &format!("Đã ghi chức vụ {}.", role.label()))),
        Err(StoreError::Conflict { .. }) => {
            Ok(ctx.redirect(&back, "Người này đang giữ chức vụ đó."))
        }
        Err(StoreError::Rule(v)) => Ok(ctx.redirect(&back, &v.message)),
        Err(e) => Err(e.into()),
    }
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
struct EndForm {
    ended_on: String,
    person_id: i64,
}

async fn end_position(
    State(st): State<AppState>,
    Ctx(ctx, _): Ctx,
    Path(id): Path<i64>,
    f: CsrfForm<EndForm>,
) -> AppResult<Response> {
    let scope = f.user.scope();
    let back = format!("/people/{}#positions", f.form.person_id);
    let on = if f.form.ended_on.trim().is_empty() {
        crate::fmt::today()
    } else {
        match domain::text::parse_date(&f.form.ended_on) {
            Ok(d) => d,
            Err(e) => return Ok(ctx.redirect(&back, &format!("Ngày kết thúc: {e}"))),
        }
    };
    match store::org::positions::end(&st.db, scope, id, on).await {
        Ok(()) => Ok(ctx.redirect(&back, "Đã ghi kết thúc chức vụ.")),
        Err(StoreError::Rule(v)) => Ok(ctx.redirect(&back, &v.message)),
        Err(e) => Err(e.into()),
    }
}
