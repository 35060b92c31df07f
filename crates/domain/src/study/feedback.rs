//! Learner feedback (R3.4): the notes, proposals and comments that learners write during a
//! class, left online by the participant or typed in from paper by an organizer or a
//! bridge-point secretary.

use serde::{Deserialize, Serialize};

use crate::{choice, FieldErrors};

choice!(
    /// What a piece of feedback is (R3.4: "ghi chép, kiến nghị, đề xuất, góp ý").
    FeedbackKind {
        Note = "note" / "Ghi chép",
        Proposal = "proposal" / "Kiến nghị, đề xuất",
        Comment = "comment" / "Ý kiến góp ý",
    }
);

choice!(
    /// How the feedback reached the system.
    FeedbackSource {
        /// Written by the participant in their own session.
        Online = "online" / "Trực tuyến",
        /// Typed in from a paper sheet by an organizer or a bridge-point secretary.
        Paper = "paper" / "Nhập từ phiếu giấy",
    }
);

/// Why a feedback text was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FeedbackError {
    #[error("Chưa nhập nội dung góp ý.")]
    Empty,
    #[error("Nội dung góp ý quá ngắn: cần ít nhất {min} ký tự (hiện có {len}).")]
    TooShort { min: usize, len: usize },
    #[error("Nội dung góp ý dài {len} ký tự, vượt quá {max} ký tự cho phép. Hãy rút gọn hoặc chia thành nhiều góp ý.")]
    TooLong { max: usize, len: usize },
    #[error("Nội dung góp ý có ký tự điều khiển không hợp lệ; hãy gõ lại hoặc dán dưới dạng văn bản thường.")]
    ControlCharacter,
    #[error("Chọn loại góp ý: ghi chép, kiến nghị – đề xuất, hoặc ý kiến góp ý.")]
    KindRequired,
}

impl FeedbackError {
    /// Stable machine-readable code for the API.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Empty => "feedback_empty",
            Self::TooShort { .. } => "feedback_too_short",
            Self::TooLong { .. } => "feedback_too_long",
            Self::ControlCharacter => "feedback_control_character",
            Self::KindRequired => "feedback_kind_required",
        }
    }
}

/// The text of one piece of feedback: trimmed, 3 to 4000 characters (not bytes: Vietnamese
/// letters take two or three bytes each), line breaks and tabs allowed, no other control
/// characters (PostgreSQL refuses NUL in text, and the rest only hide content).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct FeedbackBody(String);

impl FeedbackBody {
    /// Fewest characters of a useful feedback ("Tốt" is three).
    pub const MIN_CHARS: usize = 3;
    /// Most characters: about two handwritten pages.
    pub const MAX_CHARS: usize = 4000;

    /// Validates a typed text; surrounding white space is dropped, the inside is kept as typed.
    pub fn parse(s: &str) -> Result<Self, FeedbackError> {
        let t = s.trim();
        if t.is_empty() {
            return Err(FeedbackError::Empty);
        }
        if t.chars()
            .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
        {
            return Err(FeedbackError::ControlCharacter);
        }
        let len = t.chars().count();
        if len < Self::MIN_CHARS {
            return Err(FeedbackError::TooShort {
                min: Self::MIN_CHARS,
                len,
            });
        }
        if len > Self::MAX_CHARS {
            return Err(FeedbackError::TooLong {
                max: Self::MAX_CHARS,
                len,
            });
        }
        Ok(Self(t.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A validated feedback: its kind and text. Who wrote it and where is decided by the store from
/// the participant row (online) or the typist's access (paper).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewFeedback {
    pub kind: FeedbackKind,
    pub body: FeedbackBody,
}

/// The feedback form as typed (kept as is when it is shown again with errors).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct FeedbackInput {
    pub kind: String,
    pub body: String,
    /// Paper entry: the participant row (empty: anonymous).
    pub participant_id: String,
    /// Paper entry when the list is too long for a picker: the party card number.
    pub person_ref: String,
    /// Paper entry: the bridge point the sheet came from (empty: the main venue).
    pub bridge_point_id: String,
}

impl FeedbackInput {
    /// Validates kind and text; errors are keyed by field name (`kind`, `body`).
    pub fn validate(&self) -> Result<NewFeedback, FieldErrors> {
        let mut errors = FieldErrors::new();
        let kind = if self.kind.trim().is_empty() {
            errors.add("kind", FeedbackError::KindRequired);
            None
        } else {
            errors.take("kind", FeedbackKind::parse(&self.kind))
        };
        let body = match FeedbackBody::parse(&self.body) {
            Ok(b) => Some(b),
            Err(e) => {
                errors.add("body", e);
                None
            }
        };
        match (kind, body) {
            (Some(kind), Some(body)) if errors.is_empty() => Ok(NewFeedback { kind, body }),
            _ => Err(errors),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn r3_4_feedback_kinds_have_vietnamese_labels_and_stable_codes() {
        assert_eq!(FeedbackKind::ALL.len(), 3);
        assert_eq!(FeedbackKind::Note.label(), "Ghi chép");
        assert_eq!(FeedbackKind::Proposal.label(), "Kiến nghị, đề xuất");
        assert_eq!(FeedbackKind::Comment.label(), "Ý kiến góp ý");
        for k in FeedbackKind::ALL {
            assert_eq!(FeedbackKind::parse(k.code()), Ok(*k));
        }
        assert!(FeedbackKind::parse("complaint").is_err());
        assert_eq!(FeedbackSource::parse("paper"), Ok(FeedbackSource::Paper));
    }

    #[test]
    fn r3_4_feedback_body_is_trimmed() {
        let b = FeedbackBody::parse("  Đề nghị tăng thời gian thảo luận.\n ").unwrap();
        assert_eq!(b.as_str(), "Đề nghị tăng thời gian thảo luận.");
    }

    #[test]
    fn r3_4_feedback_body_boundaries_count_characters_not_bytes() {
        // "Tốt" is 3 characters but 5 bytes: accepted at the lower bound.
        assert!(FeedbackBody::parse("Tốt").is_ok());
        assert_eq!(
            FeedbackBody::parse(" ổn "),
            Err(FeedbackError::TooShort { min: 3, len: 2 })
        );
        assert_eq!(FeedbackBody::parse("   \n "), Err(FeedbackError::Empty));
        let max: String = "ệ".repeat(4000);
        assert!(FeedbackBody::parse(&max).is_ok());
        let over: String = "ệ".repeat(4001);
        assert_eq!(
            FeedbackBody::parse(&over),
            Err(FeedbackError::TooLong {
                max: 4000,
                len: 4001
            })
        );
    }

    #[test]
    fn r3_4_feedback_body_keeps_line_breaks_and_refuses_control_characters() {
        assert!(FeedbackBody::parse("Dòng một\r\nDòng hai\tcột").is_ok());
        assert_eq!(
            FeedbackBody::parse("abc\u{0}def"),
            Err(FeedbackError::ControlCharacter)
        );
        assert_eq!(
            FeedbackBody::parse("abc\u{1b}[31m"),
            Err(FeedbackError::ControlCharacter)
        );
    }

    #[test]
    fn r3_4_feedback_errors_are_vietnamese_with_numbers() {
        let e = FeedbackBody::parse("ab").unwrap_err();
        assert_eq!(
            e.to_string(),
            "Nội dung góp ý quá ngắn: cần ít nhất 3 ký tự (hiện có 2)."
        );
        assert_eq!(e.code(), "feedback_too_short");
    }

    #[test]
    fn r3_4_feedback_input_reports_every_field() {
        let e = FeedbackInput {
            kind: String::new(),
            body: "x".into(),
            ..Default::default()
        }
        .validate()
        .unwrap_err();
        assert!(e.get("kind").is_some_and(|m| m.starts_with("Chọn loại")));
        assert!(e.get("body").is_some_and(|m| m.contains("quá ngắn")));
        let e = FeedbackInput {
            kind: "bogus".into(),
            body: "Đủ dài".into(),
            ..Default::default()
        }
        .validate()
        .unwrap_err();
        assert!(e.get("kind").is_some());
        assert!(e.get("body").is_none());
        let ok = FeedbackInput {
            kind: "proposal".into(),
            body: " Đề nghị phát tài liệu trước buổi học ".into(),
            ..Default::default()
        }
        .validate()
        .unwrap();
        assert_eq!(ok.kind, FeedbackKind::Proposal);
        assert_eq!(ok.body.as_str(), "Đề nghị phát tài liệu trước buổi học");
    }
}
