//! Learner feedback pages (R3.4): a participant writes online; an organizer or a bridge-point
//! secretary types in paper sheets; organizers read the feedback per class and bridge point, and
//! export it as CSV.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use domain::ids::ClassId;
use domain::study::{FeedbackInput, FeedbackKind};
use domain::FieldErrors;
use serde::Deserialize;
use store::study::classes::{self, Access, BridgePoint, Class};
use store::study::feedback::{self, Feedback, FeedbackCounts, FeedbackFilter, Participation};
use store::study::participants::{self, Participant};
use store::{Scope, StoreError};

use crate::app::AppState;
use crate::auth::CsrfForm;
use crate::error::{AppError, AppResult};
use crate::pages::{Ctx, PageCtx};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/classes/{id}/feedback", get(list))
        .route("/classes/{id}/feedback.csv", get(csv))
        .route("/classes/{id}/feedback/new", get(new).post(create))
}

/// Above this many participants the paper form asks for a party card number instead of a
/// picker, to keep the page light on a slow connection.
const PICKER_MAX: usize = 300;
/// Feedback rows per page.
const PER_PAGE: i64 = 100;

/// How the caller writes feedback for a class.
pub(crate) enum Writer {
    /// A participant writing for themselves (source online).
    Online(Participation),
    /// An organizer or secretary typing in paper sheets, within this ATTEND access.
    Paper(Access),
}

/// Decides whether the caller writes as a participant or types in paper sheets. `want_self`
/// prefers the participant's own feedback when they could do both. A member who is not listed
/// gets `Forbidden`; a reader who cannot see the class gets `NotFound`.
pub(crate) async fn writer(
    st: &AppState,
    scope: &Scope,
    id: i64,
    want_self: bool,
) -> AppResult<(Class, Writer)> {
    let mine = match scope.person_id {
        Some(p) => feedback::participation(&st.db, p, ClassId(id)).await?,
        None => None,
    };
    match classes::get(&st.db, scope, ClassId(id)).await {
        Ok(c) => match (
            classes::access(&st.db, scope, &c, store::scope::ATTEND).await,
            mine,
        ) {
            (Ok(_), Some(m)) if want_self => Ok((c, Writer::Online(m))),
            (Ok(a), _) => Ok((c, Writer::Paper(a))),
            (Err(StoreError::Forbidden), Some(m)) => Ok((c, Writer::Online(m))),
            (Err(e), _) => Err(e.into()),
        },
        Err(StoreError::NotFound) => match mine {
            Some(m) => Ok((
                feedback::class_for_participant(&st.db, scope, ClassId(id)).await?,
                Writer::Online(m),
            )),
            // Members see no class at all: saying "forbidden" tells them nothing more.
            None if !scope.has_role(store::scope::READ) => Err(AppError::Forbidden),
            None => Err(AppError::NotFound),
        },
        Err(e) => Err(e.into()),
    }
}

/// The bridge points of a class within `access`.
pub(crate) async fn bridge_points_in(
    st: &AppState,
    c: &Class,
    access: &Access,
) -> AppResult<Vec<BridgePoint>> {
    let all = classes::bridge_points(&st.db, c).await?;
    Ok(match access {
        Access::Full => all,
        Access::BridgePoints(ids) => all.into_iter().filter(|b| ids.contains(&b.id)).collect(),
    })
}

// ----- writing -----

#[derive(Template)]
#[template(path = "study/feedback_form.html")]
struct FormPage {
    ctx: PageCtx,
    c: Class,
    online: bool,
    /// Online: the writer's bridge point, if they follow the class from one.
    my_bridge_point: Option<String>,
    /// Could also write as a participant (organizer who is listed).
    can_write_self: bool,
    participants: Vec<Participant>,
    use_card: bool,
    bridge_points: Vec<BridgePoint>,
    /// Paper: the main venue is a valid choice (full access).
    main_venue: bool,
    /// The writer may open the class page (issue 11.6: never link a page that answers 404).
    class_visible: bool,
    kinds: &'static [FeedbackKind],
    input: FeedbackInput,
    errors: FieldErrors,
    form_error: Option<String>,
}

impl FormPage {
    fn err(&self, field: &str) -> &str {
        self.errors.get(field).unwrap_or("")
    }
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
struct NewQuery {
    /// "1": write one's own feedback even when one may type in paper sheets.
    #[serde(rename = "self")]
    own: Option<String>,
}

/// What the user typed and what was wrong with it, shown again on the form.
struct Typed {
    input: FeedbackInput,
    errors: FieldErrors,
    form_error: Option<String>,
}

async fn form_page(
    st: &AppState,
    ctx: PageCtx,
    scope: &Scope,
    c: Class,
    w: &Writer,
    typed: Typed,
) -> AppResult<FormPage> {
    let Typed {
        input,
        errors,
        form_error,
    } = typed;
    let nav = if matches!(w, Writer::Online(_)) && !ctx.can_read {
        "me"
    } else {
        "campaigns"
    };
    let class_visible = ctx.can_read && classes::get(&st.db, scope, ClassId(c.id)).await.is_ok();
    let mut page = FormPage {
        ctx: ctx.with_nav(nav),
        class_visible,
        online: true,
        my_bridge_point: None,
        can_write_self: false,
        participants: vec![],
        use_card: false,
        bridge_points: vec![],
        main_venue: false,
        kinds: FeedbackKind::ALL,
        input,
        errors,
        form_error,
        c,
    };
    match w {
        Writer::Online(m) => {
            if let Some(bp) = m.bridge_point_id {
                page.my_bridge_point = classes::bridge_points(&st.db, &page.c)
                    .await?
                    .into_iter()
                    .find(|b| b.id == bp)
                    .map(|b| b.name);
            }
        }
        Writer::Paper(access) => {
            page.online = false;
            page.can_write_self = match scope.person_id {
                Some(p) => feedback::participation(&st.db, p, ClassId(page.c.id))
                    .await?
                    .is_some(),
                None => false,
            };
            let people = participants::list(&st.db, &page.c, access, false).await?;
            page.use_card = people.len() > PICKER_MAX;
            if !page.use_card {
                page.participants = people;
            }
            page.bridge_points = bridge_points_in(st, &page.c, access).await?;
            page.main_venue = *access == Access::Full;
        }
    }
    Ok(page)
}

async fn new(
    State(st): State<AppState>,
    Ctx(ctx, user): Ctx,
    Path(id): Path<i64>,
    Query(q): Query<NewQuery>,
) -> AppResult<Response> {
    let scope = user.scope();
    let (c, w) = writer(&st, scope, id, q.own.is_some()).await?;
    let input = FeedbackInput {
        kind: FeedbackKind::Comment.code().into(),
        ..Default::default()
    };
    let typed = Typed {
        input,
        errors: FieldErrors::new(),
        form_error: None,
    };
    let page = form_page(&st, ctx, scope, c, &w, typed).await?;
    page.ctx.render(&page)
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
struct PostForm {
    kind: String,
    body: String,
    participant_id: String,
    person_ref: String,
    bridge_point_id: String,
    /// "online" when a listed organizer writes for themselves.
    mode: String,
}

/// Reads the paper fields: the participant row (picker or party card number) and the bridge
/// point. Errors go under the field they belong to.
pub(crate) async fn paper_author(
    st: &AppState,
    c: &Class,
    access: &Access,
    input: &FeedbackInput,
    errors: &mut FieldErrors,
) -> AppResult<(Option<i64>, Option<i64>)> {
    let mut participant = None;
    let pid = input.participant_id.trim();
    let card = input.person_ref.trim();
    if !pid.is_empty() {
        match pid.parse::<i64>() {
            Ok(p) => participant = Some(p),
            Err(_) => errors.add("participant_id", "Người viết được chọn không hợp lệ."),
        }
    } else if !card.is_empty() {
        match feedback::participant_by_card(&st.db, c, access, card).await? {
            Some(p) => participant = Some(p),
            None => errors.add(
                "person_ref",
                format!("Không tìm thấy người có số thẻ đảng viên «{card}» trong danh sách lớp học (trong phạm vi của bạn). Để trống nếu phiếu không ghi tên."),
            ),
        }
    }
    let bp = input.bridge_point_id.trim();
    let bridge_point = if bp.is_empty() {
        None
    } else {
        match bp.parse::<i64>() {
            Ok(b) => Some(b),
            Err(_) => {
                errors.add("bridge_point_id", "Điểm cầu được chọn không hợp lệ.");
                None
            }
        }
    };
    Ok((participant, bridge_point))
}

async fn create(
    State(st): State<AppState>,
    Ctx(ctx, _): Ctx,
    Path(id): Path<i64>,
    f: CsrfForm<PostForm>,
) -> AppResult<Response> {
    let scope = f.user.scope();
    let PostForm {
        kind,
        body,
        participant_id,
        person_ref,
        bridge_point_id,
        mode,
    } = f.form;
    let input = FeedbackInput {
        kind,
        body,
        participant_id,
        person_ref,
        bridge_point_id,
    };
    let (c, w) = writer(&st, scope, id, mode == "online").await?;
    let mut errors = FieldErrors::new();
    let valid = match input.validate() {
        Ok(v) => Some(v),
        Err(e) => {
            errors = e;
            None
        }
    };
    let mut form_error = None;
    match &w {
        Writer::Online(_) => {
            if let Some(v) = valid {
                match feedback::create_online(&st.db, scope, ClassId(id), &v).await {
                    Ok(_) => {
                        let to = if ctx.can_read {
                            format!("/classes/{id}")
                        } else {
                            "/me".to_string()
                        };
                        return Ok(ctx.redirect(
                            &to,
                            "Đã gửi góp ý của đồng chí tới ban tổ chức lớp học. Xin cảm ơn!",
                        ));
                    }
                    Err(StoreError::Rule(domain::Violation { message: m, .. })) => {
                        form_error = Some(m)
                    }
                    Err(e) => return Err(e.into()),
                }
            }
        }
        Writer::Paper(access) => {
            let (participant, bp) = paper_author(&st, &c, access, &input, &mut errors).await?;
            if let (Some(v), true) = (valid, errors.is_empty()) {
                match feedback::create_paper(&st.db, scope, &c, participant, bp, &v).await {
                    Ok(_) => {
                        return Ok(ctx.redirect(
                            &format!("/classes/{id}/feedback/new"),
                            "Đã lưu góp ý từ phiếu giấy. Có thể nhập phiếu tiếp theo.",
                        ))
                    }
                    Err(StoreError::Rule(domain::Violation { message: m, .. })) => {
                        form_error = Some(m)
                    }
                    Err(e) => return Err(e.into()),
                }
            }
        }
    }
    let typed = Typed {
        input,
        errors,
        form_error,
    };
    let page = form_page(&st, ctx, scope, c, &w, typed).await?;
    page.ctx.render_invalid(&page)
}

// ----- reading -----

#[derive(Debug, Deserialize, Default, Clone)]
#[serde(default)]
pub(crate) struct ListQuery {
    /// Empty: all; "0": the main venue; otherwise a bridge point id.
    pub bridge_point: String,
    pub kind: String,
    pub page: Option<i64>,
}

impl ListQuery {
    pub(crate) fn filter(&self) -> FeedbackFilter {
        FeedbackFilter {
            bridge_point_id: self.bridge_point.trim().parse::<i64>().ok(),
            kind: FeedbackKind::parse(&self.kind).ok(),
        }
    }
    fn query_string(&self) -> String {
        let f = self.filter();
        let mut parts = vec![];
        if let Some(b) = f.bridge_point_id {
            parts.push(format!("bridge_point={b}"));
        }
        if let Some(k) = f.kind {
            parts.push(format!("kind={}", k.code()));
        }
        parts.join("&")
    }
}

/// The class and the reader's access, for the feedback list (READ on the class or a bridge point).
pub(crate) async fn reader(st: &AppState, scope: &Scope, id: i64) -> AppResult<(Class, Access)> {
    let c = classes::get(&st.db, scope, ClassId(id)).await?;
    let access = classes::access(&st.db, scope, &c, store::scope::READ).await?;
    Ok((c, access))
}

#[derive(Template)]
#[template(path = "study/feedback_list.html")]
struct ListPage {
    ctx: PageCtx,
    c: Class,
    counts: FeedbackCounts,
    items: Vec<Feedback>,
    total: i64,
    bridge_points: Vec<BridgePoint>,
    kinds: &'static [FeedbackKind],
    q: ListQuery,
    query: String,
    can_type_in: bool,
    page: i64,
    pages: i64,
}

impl ListPage {
    fn page_link(&self, page: i64) -> String {
        if self.query.is_empty() {
            format!("/classes/{}/feedback?page={page}", self.c.id)
        } else {
            format!("/classes/{}/feedback?{}&page={page}", self.c.id, self.query)
        }
    }
}

async fn list(
    State(st): State<AppState>,
    Ctx(ctx, user): Ctx,
    Path(id): Path<i64>,
    Query(q): Query<ListQuery>,
) -> AppResult<Response> {
    let scope = user.scope();
    let (c, access) = reader(&st, scope, id).await?;
    let counts = feedback::counts(&st.db, scope, &c, &access).await?;
    let page = q.page.unwrap_or(1).clamp(1, 1_000_000);
    let (items, total) = feedback::list(
        &st.db,
        scope,
        &c,
        &access,
        &q.filter(),
        PER_PAGE,
        (page - 1) * PER_PAGE,
    )
    .await?;
    let pages = ((total + PER_PAGE - 1) / PER_PAGE).max(1);
    let bridge_points = bridge_points_in(&st, &c, &access).await?;
    let can_type_in = classes::access(&st.db, scope, &c, store::scope::ATTEND)
        .await
        .is_ok();
    let crumbs = store::org::breadcrumb(&st.db, scope, domain::ids::OrgId(c.org_id)).await?;
    let ctx = ctx.with_nav("campaigns").with_crumbs(crumbs);
    ctx.render(&ListPage {
        ctx: ctx.clone(),
        c,
        counts,
        items,
        total,
        bridge_points,
        kinds: FeedbackKind::ALL,
        query: q.query_string(),
        q,
        can_type_in,
        page,
        pages,
    })
}

pub(crate) use crate::fmt::csv_cell;

/// A CSV download: UTF-8 with a BOM so that Excel reads the Vietnamese right.
pub(crate) fn csv_response(
    file_name: &str,
    header_row: &[&str],
    rows: Vec<Vec<String>>,
) -> Response {
    let mut out = String::from("\u{feff}");
    out.push_str(
        &header_row
            .iter()
            .map(|h| csv_cell(h))
            .collect::<Vec<_>>()
            .join(","),
    );
    out.push_str("\r\n");
    for r in rows {
        out.push_str(&r.iter().map(|f| csv_cell(f)).collect::<Vec<_>>().join(","));
        out.push_str("\r\n");
    }
    let disposition = format!("attachment; filename=\"{file_name}\"");
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        out,
    )
        .into_response()
}

async fn csv(
    State(st): State<AppState>,
    Ctx(_, user): Ctx,
    Path(id): Path<i64>,
    Query(q): Query<ListQuery>,
) -> AppResult<Response> {
    let scope = user.scope();
    let (c, access) = reader(&st, scope, id).await?;
    let (items, _) = feedback::list(&st.db, scope, &c, &access, &q.filter(), 1_000_000, 0).await?;
    let rows = items
        .into_iter()
        .map(|f| {
            vec![
                crate::fmt::datetime(&f.created_at),
                f.kind_label().to_string(),
                f.body.clone(),
                f.full_name
                    .clone()
                    .unwrap_or_else(|| "Không ghi tên".into()),
                f.org_name.clone().unwrap_or_default(),
                f.bridge_point_name
                    .clone()
                    .unwrap_or_else(|| feedback::MAIN_VENUE.into()),
                f.source_label().to_string(),
                f.recorded_by_name.clone().unwrap_or_default(),
            ]
        })
        .collect();
    Ok(csv_response(
        &format!("gop-y-lop-{id}.csv"),
        &[
            "Thời điểm",
            "Loại",
            "Nội dung",
            "Người viết",
            "Tổ chức",
            "Điểm cầu",
            "Nguồn",
            "Người nhập",
        ],
        rows,
    ))
}
