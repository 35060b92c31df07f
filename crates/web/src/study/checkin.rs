//! Check-in in the field (R3.4): the operator's page (type a name or scan a member card), the
//! rotating QR screen, and the participant's self check-in through the QR link.
//!
//! Every page works without JavaScript; with it, `checkin.js` keeps a queue in the browser so
//! the operator page goes on taking check-ins while the connection is down.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use chrono::{DateTime, Utc};
use domain::ids::{ParticipantId, SessionId};
use domain::study::{CheckinId, CheckinSource, Direction};
use domain::text::fold;
use store::study::checkin::{self, Attendee, Checkin, QrKey, RosterRow, SessionFacts, Written};
use store::study::classes::{self, Class, StudySession};
use store::StoreError;

use crate::app::AppState;
use crate::auth::CsrfForm;
use crate::error::{AppError, AppResult};
use crate::pages::{Ctx, PageCtx};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/sessions/{id}/checkin",
            get(operator_page).post(operator_mark),
        )
        .route("/sessions/{id}/roster.json", get(roster_data))
        .route("/sessions/{id}/qr", get(qr_screen))
        .route(
            "/q/{session}/{direction}/{window}/{sig}",
            get(self_checkin_confirm).post(self_checkin),
        )
        .route("/sw.js", get(crate::assets::service_worker))
}

/// A random id for a check-in made by a form: a double submit repeats it and is stored once.
fn new_seed() -> String {
    let bytes: [u8; 12] = rand::random();
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("f-{hex}")
}

/// Rows of the roster drawn as HTML on one page of the operator's check-in (issue 11.12: an
/// 800-person conference was 390 KB of HTML); the page's script gets the whole roster as
/// compact data from [`roster_data`].
const ROWS_PER_PAGE: i64 = 50;

/// What a roster row says of the participant's state in this session.
fn state_label(r: &RosterRow) -> String {
    match (r.first_in, r.last_out) {
        (Some(i), Some(o)) if o > i => {
            format!("Vào {} · Ra {}", crate::fmt::time(&i), crate::fmt::time(&o))
        }
        (Some(i), _) => format!("Vào {}", crate::fmt::time(&i)),
        _ => match r.status.as_deref() {
            Some("present") => "Có mặt".into(),
            Some("absent") => "Vắng".into(),
            Some("excused") => "Vắng có lý do".into(),
            _ => "Chưa đến".into(),
        },
    }
}

/// One participant as the operator sees them.
struct Row {
    r: RosterRow,
    card: String,
    /// Folded name and card number, for the search box (also used by the offline script).
    search: String,
    state: String,
}

impl Row {
    fn new(r: RosterRow) -> Self {
        let card = r.card.clone().unwrap_or_default();
        Self {
            search: format!("{} {}", fold(&r.full_name), card),
            state: state_label(&r),
            card,
            r,
        }
    }
    fn is_in(&self) -> bool {
        self.r.is_in()
    }
}

#[derive(Template)]
#[template(path = "study/checkin.html")]
struct OperatorPage {
    ctx: PageCtx,
    c: Class,
    s: StudySession,
    rows: Vec<Row>,
    total: i64,
    present: i64,
    q: String,
    /// The next part of the list, when there is one (a participant id to start after).
    next: Option<i64>,
    /// This page starts after a participant (not the first part).
    paged: bool,
    seed: String,
    refusal: Option<&'static str>,
    /// Keys the browser's offline queue to this account.
    account: i64,
}

impl OperatorPage {
    fn next_link(&self) -> String {
        let mut link = format!(
            "/sessions/{}/checkin?after={}",
            self.s.id,
            self.next.unwrap_or(0)
        );
        if !self.q.trim().is_empty() {
            link.push_str("&q=");
            link.push_str(&super::url_encode(self.q.trim()));
        }
        link
    }
}

#[derive(Debug, serde::Deserialize, Default)]
#[serde(default)]
struct SearchQuery {
    q: String,
    after: Option<i64>,
}

/// Loads the session for someone who records attendance on it (secretary of the class's
/// organization or of one of its bridge points).
async fn load(
    st: &AppState,
    scope: &store::Scope,
    id: i64,
) -> AppResult<(Class, StudySession, classes::Access)> {
    let (c, s) = classes::session(&st.db, scope, domain::ids::SessionId(id)).await?;
    let access = classes::access(&st.db, scope, &c, store::scope::ATTEND).await?;
    Ok((c, s, access))
}

async fn operator_page(
    State(st): State<AppState>,
    Ctx(ctx, user): Ctx,
    Path(id): Path<i64>,
    Query(q): Query<SearchQuery>,
) -> AppResult<Response> {
    let (c, s, access) = load(&st, user.scope(), id).await?;
    let facts = checkin::session_facts(&st.db, SessionId(id)).await?;
    let (total, present) = checkin::roster_counts(&st.db, id, &access).await?;
    let mut found = checkin::roster(
        &st.db,
        &facts,
        &access,
        &q.q,
        q.after.filter(|a| *a > 0),
        ROWS_PER_PAGE + 1,
    )
    .await?;
    let more = found.len() > usize::try_from(ROWS_PER_PAGE).unwrap_or(usize::MAX);
    found.truncate(usize::try_from(ROWS_PER_PAGE).unwrap_or(usize::MAX));
    let next = if more {
        found.last().map(|r| r.participant_id)
    } else {
        None
    };
    let rows: Vec<Row> = found.into_iter().map(Row::new).collect();
    let ctx = ctx.with_nav("campaigns");
    ctx.render(&OperatorPage {
        ctx: ctx.clone(),
        c,
        s,
        rows,
        total,
        present,
        q: q.q,
        next,
        paged: q.after.is_some_and(|a| a > 0),
        seed: new_seed(),
        refusal: facts.refusal(store::now()),
        account: user.account.id.0,
    })
}

/// The whole roster of a session within the caller's access, as compact data for the operator
/// page's script (search as you type, scanned card numbers and the offline queue, issue 11.12):
/// organization names once, then one array per participant
/// `[participant id, name, card, organization index, bridge point index or -1, state, present]`.
async fn roster_data(
    State(st): State<AppState>,
    Ctx(_, user): Ctx,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let (_, _, access) = load(&st, user.scope(), id).await?;
    let facts = checkin::session_facts(&st.db, SessionId(id)).await?;
    let all = checkin::roster(&st.db, &facts, &access, "", None, i64::MAX).await?;
    let mut names: Vec<String> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut name_index = |n: &str| -> usize {
        if let Some(i) = index.get(n) {
            return *i;
        }
        names.push(n.to_owned());
        index.insert(n.to_owned(), names.len() - 1);
        names.len() - 1
    };
    let rows: Vec<serde_json::Value> = all
        .iter()
        .map(|r| {
            let org = name_index(&r.org_name);
            let bridge = r
                .bridge_point_name
                .as_deref()
                .map_or(-1, |b| i64::try_from(name_index(b)).unwrap_or(-1));
            serde_json::json!([
                r.participant_id,
                r.full_name,
                r.card.as_deref().unwrap_or(""),
                org,
                bridge,
                state_label(r),
                u8::from(r.is_in())
            ])
        })
        .collect();
    let body = serde_json::json!({ "names": names, "rows": rows });
    let mut resp = axum::Json(body).into_response();
    resp.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    Ok(resp)
}

#[derive(Debug, serde::Deserialize, Default)]
#[serde(default)]
struct MarkForm {
    /// The form's check-in id seed, made when the page was drawn.
    seed: String,
    /// A member card number typed or scanned, or a name to look for.
    code: String,
    /// "in" or "out" for the code box.
    direction: String,
    /// A row's button: "in:<participant>" or "out:<participant>".
    mark: String,
    q: String,
}

fn back_to(id: i64, q: &str) -> String {
    if q.trim().is_empty() {
        format!("/sessions/{id}/checkin")
    } else {
        format!("/sessions/{id}/checkin?q={}", super::url_encode(q.trim()))
    }
}

async fn operator_mark(
    State(st): State<AppState>,
    Ctx(ctx, _): Ctx,
    Path(id): Path<i64>,
    f: CsrfForm<MarkForm>,
) -> AppResult<Response> {
    let scope = f.user.scope();
    let form = f.form;
    load(&st, scope, id).await?;
    let facts = checkin::session_facts(&st.db, SessionId(id)).await?;
    if let Some(why) = facts.refusal(store::now()) {
        return Ok(ctx.redirect(&back_to(id, &form.q), why));
    }
    let (direction, who) = if let Some((dir, pid)) = form.mark.split_once(':') {
        let dir =
            Direction::parse(dir).map_err(|_| AppError::BadRequest("Nút không hợp lệ.".into()))?;
        let pid: i64 = pid
            .parse()
            .map_err(|_| AppError::BadRequest("Nút không hợp lệ.".into()))?;
        let found = st
            .checkins
            .attendable(scope, &facts, &[ParticipantId(pid)], &[])
            .await?;
        (dir, found.into_iter().next())
    } else {
        let code = form.code.trim();
        if code.is_empty() {
            return Ok(ctx.redirect(
                &back_to(id, ""),
                "Gõ tên hoặc quét mã thẻ đảng viên rồi bấm Enter.",
            ));
        }
        let dir = Direction::parse(&form.direction).unwrap_or(Direction::In);
        let by_card = if code.bytes().all(|b| b.is_ascii_digit()) {
            st.checkins
                .attendable(scope, &facts, &[], &[code.to_owned()])
                .await?
        } else {
            Vec::new()
        };
        match by_card.into_iter().next() {
            Some(a) => (dir, Some(a)),
            // Not a card of this session: look the text up as a name.
            None if !code.bytes().all(|b| b.is_ascii_digit()) => {
                return Ok(Redirect::to(&back_to(id, code)).into_response())
            }
            None => {
                return Ok(ctx.redirect(
                    &back_to(id, ""),
                    &format!("Không có số thẻ {code} trong danh sách buổi học này (hoặc ngoài phạm vi của bạn)."),
                ))
            }
        }
    };
    let Some(who) = who else {
        return Err(AppError::NotFound);
    };
    let seed = if form.seed.len() >= 8 && form.seed.len() <= 40 {
        form.seed.clone()
    } else {
        new_seed()
    };
    let event = CheckinId::parse(&format!(
        "{seed}:{}:{}",
        who.participant_id,
        direction.code()
    ))
    .map_err(|e| AppError::BadRequest(e.to_string()))?;
    let now = store::now();
    let stored = st
        .checkins
        .write(vec![Checkin {
            id: event,
            session_id: SessionId(id),
            participant_id: who.participant_id,
            direction,
            at: now,
            source: CheckinSource::Operator,
            device_id: None,
            recorded_by: Some(scope.account_id),
        }])
        .await?;
    let written = stored.first().copied().unwrap_or(Written::Conflict);
    if let Written::Refused(why) = written {
        return Ok(ctx.redirect(&back_to(id, &form.q), why));
    }
    if written == Written::Conflict {
        return Ok(ctx.redirect(
            &back_to(id, &form.q),
            "Biểu mẫu này đã được dùng cho một lượt khác: trang đã được tải lại, hãy bấm lại.",
        ));
    }
    let message = if written == Written::Stored {
        format!(
            "Đã ghi {}: {} lúc {}.",
            direction.label().to_lowercase(),
            who.full_name,
            crate::fmt::time(&now)
        )
    } else {
        format!(
            "Đã ghi trước đó: {} (bấm lại không tính thêm).",
            who.full_name
        )
    };
    // After a row button the search stays; after a scan the box is emptied for the next card.
    let q = if form.mark.is_empty() { "" } else { &form.q };
    Ok(ctx.redirect(&back_to(id, q), &message))
}

#[derive(Template)]
#[template(path = "study/qr.html")]
struct QrScreen {
    ctx: PageCtx,
    c: Class,
    s: StudySession,
    direction: Direction,
    other: Direction,
    svg: String,
    link: String,
    present: i64,
    refusal: Option<&'static str>,
}

#[derive(Debug, serde::Deserialize, Default)]
#[serde(default)]
struct QrQuery {
    direction: String,
}

/// The scheme and host the participant's phone reaches this server by.
fn base_url(headers: &HeaderMap, st: &AppState) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| {
            h.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b))
        })
        .unwrap_or("localhost");
    let scheme = if crate::auth::is_secure(headers, st) {
        "https"
    } else {
        "http"
    };
    format!("{scheme}://{host}")
}

async fn qr_screen(
    State(st): State<AppState>,
    Ctx(ctx, user): Ctx,
    Path(id): Path<i64>,
    Query(q): Query<QrQuery>,
    headers: HeaderMap,
) -> AppResult<Response> {
    let (c, s, _) = load(&st, user.scope(), id).await?;
    let facts = checkin::session_facts(&st.db, SessionId(id)).await?;
    let direction = Direction::parse(&q.direction).unwrap_or(Direction::In);
    let window = QrKey::window(store::now());
    let sig = st.qr.sign(id, direction, window)?;
    let link = format!(
        "{}/q/{id}/{}/{window}/{sig}",
        base_url(&headers, &st),
        direction.code()
    );
    let svg = crate::auth_pages::qr_svg(&link);
    let present = checkin::present_count(&st.db, id).await?;
    let ctx = ctx.with_nav("campaigns");
    let mut resp = ctx.render(&QrScreen {
        ctx: ctx.clone(),
        c,
        s,
        other: if direction == Direction::In {
            Direction::Out
        } else {
            Direction::In
        },
        direction,
        svg,
        link,
        present,
        refusal: facts.refusal(store::now()),
    })?;
    // The page renews itself with the next code, without JavaScript.
    resp.headers_mut()
        .insert(header::REFRESH, header::HeaderValue::from_static("15"));
    resp.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    Ok(resp)
}

#[derive(Template)]
#[template(path = "study/checked_in.html")]
struct CheckedIn {
    ctx: PageCtx,
    /// Shown only to a participant of the class.
    facts: Option<SessionFacts>,
    who: Option<Attendee>,
    direction: Direction,
    at: DateTime<Utc>,
    first_time: bool,
    problem: Option<String>,
    /// The scan landed here: nothing is written until the participant confirms (a POST).
    confirm: bool,
}

/// What a QR link says: session, direction, time window and signature.
type QrLink = (i64, String, i64, String);

/// The participant's phone opened the QR link (R3.4): after the checks, a page that asks to
/// confirm; the check-in is written only by the confirming POST (issue 10.14: a GET link that
/// checked in could be forwarded, or opened by a link preview).
async fn self_checkin_confirm(
    State(st): State<AppState>,
    Path(link): Path<QrLink>,
    ctx: Result<Ctx, AppError>,
) -> AppResult<Response> {
    let Ctx(ctx, user) = match ctx {
        Ok(c) => c,
        Err(AppError::Unauthorized) => {
            let (session, direction, window, sig) = &link;
            let next = format!("/q/{session}/{direction}/{window}/{sig}");
            return Ok(
                Redirect::to(&format!("/login?next={}", super::url_encode(&next))).into_response(),
            );
        }
        Err(e) => return Err(e),
    };
    match checked_link(&st, &ctx, &user, &link).await? {
        Ok((mut page, who)) => {
            page.who = Some(who);
            page.confirm = true;
            ctx.render(&page)
        }
        Err(refused) => Ok(refused),
    }
}

/// The checks of a QR link, in order: its signature (without it nothing about the session is
/// looked up or shown), the session, the caller on its list, and the session's state. The page
/// to show, with the participant; or the refusal already rendered.
async fn checked_link(
    st: &AppState,
    ctx: &PageCtx,
    user: &crate::auth::CurrentUser,
    link: &QrLink,
) -> AppResult<Result<(CheckedIn, Attendee), Response>> {
    let (session, direction, window, sig) = link;
    let direction = Direction::parse(direction).map_err(|_| AppError::NotFound)?;
    let now = store::now();
    let mut page = CheckedIn {
        ctx: ctx.clone(),
        facts: None,
        who: None,
        direction,
        at: now,
        first_time: false,
        problem: None,
        confirm: false,
    };
    if !st.qr.verify(*session, direction, *window, sig, now) {
        page.problem = Some(
            "Mã QR đã hết hạn hoặc không đúng. Hãy quét lại mã đang hiển thị trên màn hình.".into(),
        );
        return Ok(Err(ctx.render_invalid(&page)?));
    }
    let facts = match st.checkins.session_facts(SessionId(*session)).await {
        Ok(f) => f,
        Err(StoreError::NotFound) => return Err(AppError::NotFound),
        Err(e) => return Err(e.into()),
    };
    // The class is shown only to people on its list.
    let Some(who) = st.checkins.own_participant(user.scope(), &facts).await? else {
        page.problem = Some("Bạn không có tên trong danh sách lớp học này. Hãy báo người điều hành để được ghi tên hoặc điểm danh giúp.".into());
        let mut resp = ctx.render(&page)?;
        *resp.status_mut() = axum::http::StatusCode::FORBIDDEN;
        return Ok(Err(resp));
    };
    let refusal = facts.refusal(now);
    page.facts = Some(facts);
    if let Some(why) = refusal {
        page.problem = Some(why.into());
        return Ok(Err(ctx.render_invalid(&page)?));
    }
    Ok(Ok((page, who)))
}

#[derive(serde::Deserialize)]
struct Confirm {}

/// The confirmation of a QR check-in: the same checks again, then the check-in (or out) of the
/// caller as themselves. The link is signed for this session, direction and a 15-second window,
/// and accepted for a minute; the check-in's id comes from the window, so confirming twice counts
/// once.
async fn self_checkin(
    State(st): State<AppState>,
    Path(link): Path<QrLink>,
    Ctx(ctx, _): Ctx,
    form: CsrfForm<Confirm>,
) -> AppResult<Response> {
    let user = form.user;
    let (mut page, who) = match checked_link(&st, &ctx, &user, &link).await? {
        Ok(checked) => checked,
        Err(refused) => return Ok(refused),
    };
    let (session, _, window, _) = link;
    let (direction, now) = (page.direction, page.at);
    let id = CheckinId::parse(&format!(
        "qr:{session}:{}:{}:{window}",
        who.participant_id,
        direction.code()
    ))
    .map_err(|e| AppError::BadRequest(e.to_string()))?;
    let stored = st
        .checkins
        .write(vec![Checkin {
            id,
            session_id: SessionId(session),
            participant_id: who.participant_id,
            direction,
            at: now,
            source: CheckinSource::Qr,
            device_id: None,
            recorded_by: Some(user.scope().account_id),
        }])
        .await?;
    let written = stored.first().copied();
    if let Some(Written::Refused(why)) = written {
        page.problem = Some(why.into());
        return ctx.render_invalid(&page);
    }
    page.first_time = written == Some(Written::Stored);
    page.who = Some(who);
    ctx.render(&page)
}
