//! `/api/v1/checkins`: check-ins sent by operator devices, one at a time or as an offline queue
//! (R3.4). Each carries an id made on the device; sending the same queue twice, out of order or
//! from two devices stores every check-in once. The reply comes after the commit.

use std::collections::HashMap;

use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use domain::ids::{ParticipantId, SessionId};
use domain::study::{check_time, CheckinId, CheckinSource, Direction};
use serde::{Deserialize, Serialize};
use store::study::checkin::{Attendee, Checkin, SessionFacts, Written};
use store::StoreError;
use utoipa::ToSchema;

use super::ApiJson;
use crate::app::AppState;
use crate::auth::CurrentUser;
use crate::error::{AppError, AppResult, ErrorBody};

pub fn routes() -> Router<AppState> {
    Router::new().route("/checkins", post(record))
}

/// At most this many check-ins per request.
const MAX_BATCH: usize = 1000;

/// Check-ins from one device.
#[derive(Debug, Deserialize, ToSchema)]
pub struct CheckinBatch {
    /// The device's own id (kept with each check-in, up to 64 characters).
    #[serde(default)]
    pub device_id: Option<String>,
    /// 1 to 1,000 check-ins.
    pub checkins: Vec<CheckinItem>,
}

/// One check-in. Name the person by `participant_id` or by `card_number` (party card).
#[derive(Debug, Deserialize, ToSchema)]
pub struct CheckinItem {
    /// Made on the device, unique: 8–64 letters, digits, `-`, `_`, `:` or `.`.
    pub id: String,
    pub session_id: i64,
    #[serde(default)]
    pub participant_id: Option<i64>,
    #[serde(default)]
    pub card_number: Option<String>,
    /// in or out
    pub direction: String,
    /// When it happened on the device (RFC 3339); now when absent.
    #[serde(default)]
    pub at: Option<DateTime<Utc>>,
}

/// What became of one check-in.
#[derive(Debug, Serialize, ToSchema)]
pub struct CheckinResult {
    pub id: String,
    /// stored (new), duplicate (stored before under this id), rejected (see message)
    pub outcome: String,
    pub participant_id: Option<i64>,
    pub full_name: Option<String>,
    /// Why it was rejected, in Vietnamese.
    pub message: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CheckinReport {
    pub stored: usize,
    pub duplicates: usize,
    pub rejected: usize,
    /// One per check-in sent, in the same order.
    pub results: Vec<CheckinResult>,
}

fn rejected(id: &str, message: impl Into<String>) -> CheckinResult {
    CheckinResult {
        id: id.to_owned(),
        outcome: "rejected".into(),
        participant_id: None,
        full_name: None,
        message: Some(message.into()),
    }
}

/// Records check-ins; each is stored, recognised as a duplicate, or rejected with a reason
/// (the others are stored all the same, so one bad line never blocks a queue).
#[utoipa::path(post, path = "/api/v1/checkins", operation_id = "record_checkins", tag = "study", request_body = CheckinBatch,
    responses((status = 200, body = CheckinReport), (status = 422, body = ErrorBody), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn record(
    State(st): State<AppState>,
    user: CurrentUser,
    ApiJson(b): ApiJson<CheckinBatch>,
) -> AppResult<Json<CheckinReport>> {
    if b.checkins.is_empty() || b.checkins.len() > MAX_BATCH {
        return Err(AppError::field(
            "checkins",
            format!("Gửi từ 1 đến {MAX_BATCH} lượt điểm danh mỗi lần."),
        ));
    }
    let device = match b.device_id.as_deref().map(str::trim) {
        Some(d) if d.len() > 64 => {
            return Err(AppError::field(
                "device_id",
                "Mã thiết bị dài quá 64 ký tự.",
            ))
        }
        Some("") | None => None,
        Some(d) => Some(d.to_owned()),
    };
    let scope = user.scope();
    let now = store::now();
    // Per session: its facts and the people named in this batch whom the caller may check in.
    let mut sessions: HashMap<i64, Option<(SessionFacts, Vec<Attendee>)>> = HashMap::new();
    for sid in b.checkins.iter().map(|c| c.session_id) {
        if sessions.contains_key(&sid) {
            continue;
        }
        let facts = match st.checkins.session_facts(SessionId(sid)).await {
            Ok(f) => f,
            Err(StoreError::NotFound) => {
                sessions.insert(sid, None);
                continue;
            }
            Err(e) => return Err(e.into()),
        };
        let mine = b.checkins.iter().filter(|c| c.session_id == sid);
        let ids: Vec<ParticipantId> = mine
            .clone()
            .filter_map(|c| c.participant_id.map(ParticipantId))
            .collect();
        let cards: Vec<String> = mine
            .filter_map(|c| c.card_number.as_deref().map(str::trim).map(str::to_owned))
            .filter(|c| !c.is_empty() && c.len() <= 20)
            .collect();
        let people = st.checkins.attendable(scope, &facts, &ids, &cards).await?;
        sessions.insert(sid, Some((facts, people)));
    }
    let mut results: Vec<Option<CheckinResult>> = Vec::with_capacity(b.checkins.len());
    let mut valid: Vec<(usize, Checkin, Attendee)> = Vec::new();
    for (i, c) in b.checkins.iter().enumerate() {
        let outcome = (|| {
            let id = CheckinId::parse(&c.id).map_err(|e| e.to_string())?;
            // Ids of QR scans and of the server's forms are made by the server only.
            if c.id.starts_with("qr:") || c.id.starts_with("f-") {
                return Err(
                    "Mã lượt bắt đầu bằng «qr:» hoặc «f-» chỉ máy chủ được tạo.".to_string()
                );
            }
            let direction = Direction::parse(&c.direction)
                .map_err(|_| "Chiều điểm danh phải là «in» (vào) hoặc «out» (ra).".to_string())?;
            // Outside the caller's scope, a session and a person look the same as nothing at
            // all: the session's state is told only to someone who may check people in there.
            let outside = || {
                "Người này không có trong danh sách buổi học, đã bị rút khỏi danh sách, hoặc ngoài phạm vi của bạn.".to_string()
            };
            let Some(Some((facts, people))) = sessions.get(&c.session_id) else {
                return Err(outside());
            };
            let who = people
                .iter()
                .find(|a| {
                    c.participant_id == Some(a.participant_id.0)
                        || (c.participant_id.is_none()
                            && c.card_number
                                .as_deref()
                                .map(str::trim)
                                .is_some_and(|k| a.party_card_number.as_deref() == Some(k)))
                })
                .ok_or_else(outside)?;
            if let Some(why) = facts.refusal(store::now()) {
                return Err(why.to_string());
            }
            let at = c.at.unwrap_or(now);
            check_time(at, facts.starts_at, now).map_err(|e| e.to_string())?;
            Ok::<_, String>((
                Checkin {
                    id,
                    session_id: SessionId(c.session_id),
                    participant_id: who.participant_id,
                    direction,
                    at,
                    source: CheckinSource::Operator,
                    device_id: device.clone(),
                    recorded_by: Some(scope.account_id),
                },
                who.clone(),
            ))
        })();
        match outcome {
            Ok((checkin, who)) => {
                results.push(None);
                valid.push((i, checkin, who));
            }
            Err(m) => results.push(Some(rejected(&c.id, m))),
        }
    }
    let stored = st
        .checkins
        .write(valid.iter().map(|(_, c, _)| c.clone()).collect())
        .await?;
    for ((i, c, who), written) in valid.into_iter().zip(stored) {
        results[i] = Some(match written {
            Written::Conflict => rejected(
                c.id.as_str(),
                "Mã lượt điểm danh này đã dùng cho một lượt khác; thiết bị phải tạo mã mới.",
            ),
            Written::Refused(why) => rejected(c.id.as_str(), why),
            w => CheckinResult {
                id: c.id.as_str().to_owned(),
                outcome: if w == Written::Stored {
                    "stored"
                } else {
                    "duplicate"
                }
                .into(),
                participant_id: Some(who.participant_id.0),
                full_name: Some(who.full_name),
                message: None,
            },
        });
    }
    let results: Vec<CheckinResult> = results.into_iter().flatten().collect();
    let count = |o: &str| results.iter().filter(|r| r.outcome == o).count();
    Ok(Json(CheckinReport {
        stored: count("stored"),
        duplicates: count("duplicate"),
        rejected: count("rejected"),
        results,
    }))
}
