//! Check-ins and check-outs (R3.4): presence measured in time, not by a click.
//!
//! A check-in carries an id made where it happened (the operator's device, or the QR window),
//! so a record sent twice, out of order or from two devices is kept once. Lateness comes from the
//! first check-in, leaving early from a check-out that no later check-in undid.

use chrono::{DateTime, Duration, Utc};

use crate::{choice, RuleError};

choice!(
    /// Into or out of a session.
    Direction {
        In = "in" / "Vào",
        Out = "out" / "Ra",
    }
);

choice!(
    /// How a check-in was taken.
    CheckinSource {
        Qr = "qr" / "Tự quét mã QR",
        Operator = "operator" / "Người điều hành ghi",
    }
);

/// The id a device gives a check-in: 8 to 64 letters, digits, `-`, `_`, `:` or `.`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CheckinId(String);

impl CheckinId {
    pub fn parse(s: &str) -> Result<Self, RuleError> {
        let s = s.trim();
        let ok = (8..=64).contains(&s.len())
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b':' | b'.'));
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(RuleError::InvalidCheckinId)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// When check-in opens for a session starting at `start`: 12 hours before (it stays open after
/// the end, for late queues and paper entered afterwards).
pub fn opens_at(start: DateTime<Utc>) -> DateTime<Utc> {
    start - Duration::hours(12)
}

/// When a check-in may have happened: from 12 hours before the session starts until 5 minutes
/// from now (a device clock slightly ahead is tolerated; a date in the future is not).
pub fn check_time(
    at: DateTime<Utc>,
    session_start: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<(), RuleError> {
    if at > now + Duration::minutes(5) {
        return Err(RuleError::CheckinInFuture);
    }
    if at < opens_at(session_start) {
        return Err(RuleError::CheckinTooEarly);
    }
    Ok(())
}

/// Minutes late and minutes left early, from a participant's check-ins in one session (R3.4).
/// Late: from the start to the first check-in (none when before the start). Left early: from a
/// last check-out to the end, unless a check-in came after it. Both are capped at the session's
/// length. `None` when there is no check-in at all (a check-out alone proves no presence).
pub fn minutes_from_checkins(
    start: DateTime<Utc>,
    duration_minutes: u32,
    events: &[(Direction, DateTime<Utc>)],
) -> Option<(u32, u32)> {
    let ins = || {
        events
            .iter()
            .filter(|(d, _)| *d == Direction::In)
            .map(|(_, at)| *at)
    };
    let last_out = events
        .iter()
        .filter(|(d, _)| *d == Direction::Out)
        .map(|(_, at)| *at)
        .max();
    minutes_from_times(start, duration_minutes, ins().min(), ins().max(), last_out)
}

/// [`minutes_from_checkins`] from the three times that decide it (as SQL aggregates them).
pub fn minutes_from_times(
    start: DateTime<Utc>,
    duration_minutes: u32,
    first_in: Option<DateTime<Utc>>,
    last_in: Option<DateTime<Utc>>,
    last_out: Option<DateTime<Utc>>,
) -> Option<(u32, u32)> {
    let first_in = first_in?;
    let last_in = last_in.unwrap_or(first_in);
    let end = start + Duration::minutes(i64::from(duration_minutes));
    let minutes = |from: DateTime<Utc>, to: DateTime<Utc>| {
        let m = (to - from)
            .num_minutes()
            .clamp(0, i64::from(duration_minutes));
        u32::try_from(m).unwrap_or(0)
    };
    let late = minutes(start, first_in);
    let early = match last_out {
        Some(out) if out > last_in => minutes(out, end),
        _ => 0,
    };
    // Late and early together never exceed the session.
    let early = early.min(duration_minutes - late);
    Some((late, early))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(h: u32, m: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 2, 7, h, m, 0)
            .single()
            .unwrap_or_default()
    }

    #[test]
    fn r3_4_late_comes_from_the_first_checkin() {
        let ev = [(Direction::In, t(8, 17)), (Direction::In, t(8, 5))];
        assert_eq!(minutes_from_checkins(t(8, 0), 120, &ev), Some((5, 0)));
    }

    #[test]
    fn r3_4_early_arrival_is_not_late() {
        let ev = [(Direction::In, t(7, 40))];
        assert_eq!(minutes_from_checkins(t(8, 0), 120, &ev), Some((0, 0)));
    }

    #[test]
    fn r3_4_left_early_comes_from_the_last_checkout() {
        let ev = [(Direction::In, t(8, 0)), (Direction::Out, t(9, 30))];
        assert_eq!(minutes_from_checkins(t(8, 0), 120, &ev), Some((0, 30)));
    }

    #[test]
    fn r3_4_a_checkin_after_the_checkout_undoes_it() {
        let ev = [
            (Direction::Out, t(9, 0)),
            (Direction::In, t(8, 10)),
            (Direction::In, t(9, 20)),
        ];
        assert_eq!(minutes_from_checkins(t(8, 0), 120, &ev), Some((10, 0)));
    }

    #[test]
    fn r3_4_order_of_arrival_does_not_matter() {
        let a = [
            (Direction::In, t(8, 3)),
            (Direction::Out, t(9, 45)),
            (Direction::In, t(8, 20)),
        ];
        let mut b = a;
        b.reverse();
        assert_eq!(
            minutes_from_checkins(t(8, 0), 120, &a),
            minutes_from_checkins(t(8, 0), 120, &b)
        );
        assert_eq!(minutes_from_checkins(t(8, 0), 120, &a), Some((3, 15)));
    }

    #[test]
    fn r3_4_checkout_alone_is_no_presence() {
        assert_eq!(
            minutes_from_checkins(t(8, 0), 120, &[(Direction::Out, t(9, 0))]),
            None
        );
    }

    #[test]
    fn r3_4_minutes_are_capped_at_the_session() {
        let ev = [(Direction::In, t(11, 0)), (Direction::Out, t(11, 5))];
        let (late, early) = minutes_from_checkins(t(8, 0), 120, &ev).unwrap_or_default();
        assert_eq!(late, 120);
        assert_eq!(late + early, 120);
    }

    #[test]
    fn checkin_ids_are_bounded() {
        assert!(CheckinId::parse("dev-1a2b3c4d:17").is_ok());
        assert!(CheckinId::parse("short").is_err());
        assert!(CheckinId::parse("has space in it").is_err());
        assert!(CheckinId::parse(&"x".repeat(65)).is_err());
    }

    #[test]
    fn future_times_are_refused() {
        assert!(check_time(t(9, 0), t(8, 0), t(8, 58)).is_ok());
        assert!(check_time(t(9, 10), t(8, 0), t(8, 58)).is_err());
        assert!(check_time(t(7, 0), t(20, 0), t(20, 0)).is_err());
    }
}
