//! Errors of the domain layer: which rule was broken, with a Vietnamese message for the user.

use std::collections::BTreeMap;

/// A broken rule. `code()` is stable (used in the API), `Display` is the Vietnamese message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuleError {
    #[error("Không được để trống.")]
    Required,
    #[error("Dài quá {max} ký tự.")]
    TooLong { max: usize },
    #[error("Ngày không hợp lệ (nhập theo dạng dd/mm/yyyy).")]
    InvalidDate,
    #[error("Giờ không hợp lệ (nhập theo dạng hh:mm).")]
    InvalidTime,
    #[error("Họ, tên đệm và tên phải gồm đúng các chữ của họ tên đã ghi, chỉ chia nhóm lại (không thêm, bớt hay sửa chữ).")]
    NameSplitChangesWords,
    #[error("Năm phải từ {min} đến {max}.")]
    YearOutOfRange { min: i32, max: i32 },
    #[error("Có ký tự điều khiển hoặc ký tự đảo chiều văn bản không được phép; hãy gõ lại.")]
    ControlCharacters,
    #[error("Ngày kết thúc không được trước ngày bắt đầu.")]
    DateRangeReversed,
    #[error("Phải là số nguyên từ {min} đến {max}.")]
    OutOfRange { min: i64, max: i64 },
    #[error("Giá trị không hợp lệ.")]
    InvalidChoice,
    #[error("Nhiều quá: tối đa {max}.")]
    TooMany { max: usize },
    #[error("Chọn ít nhất một tổ chức nhận việc.")]
    NoTarget,
    #[error("Hạn hoàn thành không được trước hôm nay.")]
    DueBeforeToday,
    #[error("Ngày hoàn thành không được sau hôm nay.")]
    DoneInFuture,
    #[error("Ngày hoàn thành không được trước ngày giao việc.")]
    DoneBeforeSent,
    #[error("Số văn bản phải theo mẫu của Đảng, ví dụ «12-KH/ĐU» (số, gạch ngang, chữ viết tắt loại văn bản, gạch chéo, cơ quan ban hành).")]
    InvalidDocNumber,
    #[error("Chọn ít nhất một nghị quyết, chỉ thị mà kế hoạch thực hiện.")]
    NoResolution,
    #[error("Mỗi hạng mục chỉ có đúng một đơn vị chủ trì.")]
    SecondLead,
    #[error("Chọn đơn vị chủ trì.")]
    NoLead,
    #[error("Đơn vị chủ trì không đồng thời là đơn vị phối hợp.")]
    LeadAlsoCoordinating,
    #[error("Thời gian hoàn thành không được trước thời gian bắt đầu.")]
    DueBeforeStart,
    #[error("Ngày báo cáo không được trước ngày ban hành kế hoạch.")]
    ReportBeforeIssued,
    #[error("Ngày không được sau hôm nay.")]
    DateInFuture,
    #[error("Ngày trả lời không được trước ngày gửi xin ý kiến.")]
    AnswerBeforeAsked,
    #[error("Số thẻ đảng viên chỉ gồm chữ số (6–12 chữ số).")]
    InvalidPartyCardNumber,
    #[error(
        "Số phút đi muộn và về sớm cộng lại không được vượt quá thời lượng buổi học ({session_len} phút)."
    )]
    MissedExceedsSession { session_len: u32 },
    #[error("Cần ghi lý do vắng mặt có lý do.")]
    ExcuseReasonRequired,
    #[error("Nghị quyết mật chỉ được lưu thông tin mô tả (số, tên, ngày, độ mật), không lưu nội dung hay tóm tắt.")]
    ClassifiedContentRefused,
    #[error("Mật khẩu phải có ít nhất 10 ký tự.")]
    PasswordTooShort,
    #[error("Mật khẩu này quá phổ biến, dễ bị đoán. Hãy chọn mật khẩu khác.")]
    PasswordTooCommon,
    #[error("Mật khẩu không được chứa tên đăng nhập hoặc họ tên của bạn.")]
    PasswordPersonal,
    #[error("Mã lượt điểm danh phải dài 8–64 ký tự, chỉ gồm chữ, số, «-», «_», «:» hoặc «.».")]
    InvalidCheckinId,
    #[error("Thời điểm điểm danh ở tương lai: kiểm tra đồng hồ của thiết bị.")]
    CheckinInFuture,
    #[error("Thời điểm điểm danh sớm hơn giờ bắt đầu buổi học quá 12 giờ.")]
    CheckinTooEarly,
    #[error("Tổ công tác gồm 2 hoặc 3 người (đã chọn {count}).")]
    WorkingGroupSize { count: usize },
    #[error("Tổ trưởng phải là một thành viên của tổ.")]
    GroupLeadNotMember,
    #[error("Chỉ xếp loại cho năm {current} hoặc năm {previous}.")]
    RatingYear { current: i32, previous: i32 },
    #[error("Tổng số phiếu theo mức độ hiểu không được vượt quá số phiếu thu về.")]
    SurveyExceeds,
    #[error("Chọn ít nhất một người.")]
    NoPerson,
    #[error("Câu hỏi trắc nghiệm cần từ 2 đến 8 phương án, mỗi phương án một dòng.")]
    QuestionChoices,
    #[error("Đáp án không hợp lệ: {hint}")]
    QuestionKey { hint: &'static str },
    #[error("Giờ đóng phải sau giờ mở.")]
    WindowReversed,
    #[error("Số điện thoại gồm 9–11 chữ số.")]
    InvalidPhone,
    #[error("Chọn ít nhất một câu hỏi.")]
    NoQuestion,
}

impl RuleError {
    /// Stable machine-readable code for the API.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Required => "required",
            Self::TooLong { .. } => "too_long",
            Self::InvalidDate => "invalid_date",
            Self::InvalidTime => "invalid_time",
            Self::DateRangeReversed => "date_range_reversed",
            Self::OutOfRange { .. } => "out_of_range",
            Self::InvalidChoice => "invalid_choice",
            Self::TooMany { .. } => "too_many",
            Self::NoTarget => "no_target",
            Self::DueBeforeToday => "due_before_today",
            Self::DoneInFuture => "done_in_future",
            Self::DoneBeforeSent => "done_before_sent",
            Self::InvalidPartyCardNumber => "invalid_party_card_number",
            Self::InvalidDocNumber => "invalid_doc_number",
            Self::NoResolution => "no_resolution",
            Self::SecondLead => "second_lead_unit",
            Self::NoLead => "no_lead_unit",
            Self::LeadAlsoCoordinating => "lead_also_coordinating",
            Self::DueBeforeStart => "due_before_start",
            Self::ReportBeforeIssued => "report_before_issued",
            Self::DateInFuture => "date_in_future",
            Self::AnswerBeforeAsked => "answer_before_asked",
            Self::MissedExceedsSession { .. } => "attendance_minutes_exceed_session",
            Self::ExcuseReasonRequired => "excuse_reason_required",
            Self::ClassifiedContentRefused => "classified_content_refused",
            Self::PasswordTooShort => "password_too_short",
            Self::PasswordTooCommon => "password_too_common",
            Self::PasswordPersonal => "password_personal",
            Self::InvalidCheckinId => "invalid_checkin_id",
            Self::CheckinInFuture => "checkin_in_future",
            Self::CheckinTooEarly => "checkin_too_early",
            Self::YearOutOfRange { .. } => "year_out_of_range",
            Self::NameSplitChangesWords => "name_split_changes_words",
            Self::ControlCharacters => "control_characters",
            Self::WorkingGroupSize { .. } => "working_group_size",
            Self::GroupLeadNotMember => "group_lead_not_member",
            Self::RatingYear { .. } => "rating_year",
            Self::SurveyExceeds => "survey_exceeds",
            Self::NoPerson => "no_person",
            Self::QuestionChoices => "question_choices",
            Self::QuestionKey { .. } => "question_key",
            Self::WindowReversed => "window_reversed",
            Self::InvalidPhone => "invalid_phone",
            Self::NoQuestion => "no_question",
        }
    }
}

/// A broken rule on its way to the user: a stable code (the API's `error`, one per rule, never
/// reused) and the Vietnamese message. Every layer passes it on unchanged (issue 12.A).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct Violation {
    pub code: &'static str,
    pub message: String,
}

impl Violation {
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
}

impl From<RuleError> for Violation {
    fn from(e: RuleError) -> Self {
        Self::new(e.code(), e.to_string())
    }
}

/// Validation errors by field name, each with its Vietnamese message.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldErrors(pub BTreeMap<String, String>);

impl FieldErrors {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn add(&mut self, field: impl Into<String>, err: impl ToString) {
        self.0
            .entry(field.into())
            .or_insert_with(|| err.to_string());
    }
    /// Records the error of `r` under `field` and returns the value if there was one.
    pub fn take<T>(&mut self, field: &str, r: Result<T, RuleError>) -> Option<T> {
        match r {
            Ok(v) => Some(v),
            Err(e) => {
                self.add(field, e);
                None
            }
        }
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    pub fn get(&self, field: &str) -> Option<&str> {
        self.0.get(field).map(String::as_str)
    }
    /// `Ok(())` when no error was recorded.
    pub fn into_result(self) -> Result<(), FieldErrors> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(self)
        }
    }
}
