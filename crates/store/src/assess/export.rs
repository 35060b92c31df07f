//! Spreadsheets of the assessment area: a resolution's question bank (and the empty template
//! to fill in, read back by [`bank_rows`]), and a questionnaire's results.

use domain::assess::{NewQuestion, QuestionInput};
use domain::ids::QuestionId;
use domain::org::import::Cell;
use rust_xlsxwriter::{Format, Workbook};

use super::attempts::Attempt;
use super::questions::Question;
use super::{Quiz, QuizQuestion};
use crate::error::{Result, StoreError};
use crate::import::Sheet;

fn xl(e: rust_xlsxwriter::XlsxError) -> StoreError {
    StoreError::Internal(format!("xlsx: {e}"))
}

fn row(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// The columns of a bank, in order (the template and the export share them).
pub const BANK_COLUMNS: [&str; 8] = [
    "Mã câu",
    "Loại câu hỏi",
    "Đối tượng",
    "Mức độ",
    "Câu hỏi",
    "Phương án (mỗi dòng một phương án)",
    "Đáp án",
    "Điểm",
];

/// The kinds, tiers and levels as the sheet writes them (their Vietnamese labels; the codes
/// are read too).
fn kind_of(s: &str) -> String {
    let t = s.trim();
    domain::assess::QuestionKind::ALL
        .iter()
        .find(|k| k.label().eq_ignore_ascii_case(t) || k.code() == t)
        .map_or_else(|| t.to_string(), |k| k.code().to_string())
}

fn tier_of(s: &str) -> String {
    let t = s.trim();
    if t.is_empty() || t == "Mọi đối tượng" {
        return String::new();
    }
    domain::study::AudienceTier::ALL
        .iter()
        .find(|k| k.label() == t || k.code() == t)
        .map_or_else(|| t.to_string(), |k| k.code().to_string())
}

fn level_of(s: &str) -> String {
    let t = s.trim();
    domain::assess::Difficulty::ALL
        .iter()
        .find(|k| k.label() == t || k.code() == t)
        .map_or_else(|| t.to_string(), |k| k.code().to_string())
}

/// A bank as a workbook; with no questions, the template (three example rows to overwrite).
pub fn bank_xlsx(title: &str, questions: &[Question]) -> Result<Vec<u8>> {
    let mut book = Workbook::new();
    let bold = Format::new().set_bold();
    let wrap = Format::new().set_text_wrap();
    let sheet = book.add_worksheet();
    sheet.set_name("Câu hỏi").map_err(xl)?;
    for (c, h) in BANK_COLUMNS.iter().enumerate() {
        sheet
            .write_string_with_format(0, u16::try_from(c).unwrap_or(0), *h, &bold)
            .map_err(xl)?;
    }
    sheet.set_column_width(4, 60).map_err(xl)?;
    sheet.set_column_width(5, 40).map_err(xl)?;
    sheet.set_column_width(1, 18).map_err(xl)?;
    let examples = [
        (
            "single",
            "grassroots",
            "easy",
            "Nghị quyết xác định nhiệm vụ trọng tâm nào?",
            "Phát triển kinh tế\nXây dựng Đảng\nCả hai phương án trên",
            "C",
            "",
        ),
        (
            "true_false",
            "",
            "medium",
            "Nghị quyết được học tập, quán triệt đến toàn thể đảng viên.",
            "",
            "Đúng",
            "",
        ),
        (
            "short_answer",
            "key_cadres",
            "hard",
            "Nghị quyết được ban hành năm nào?",
            "",
            "2025",
            "",
        ),
    ];
    if questions.is_empty() {
        for (n, (k, t, d, p, c, a, pts)) in examples.iter().enumerate() {
            let r = row(n + 1);
            let label =
                |code: &str| domain::assess::QuestionKind::parse(code).map_or("", |k| k.label());
            sheet.write_string(r, 1, label(k)).map_err(xl)?;
            sheet
                .write_string(
                    r,
                    2,
                    domain::study::AudienceTier::parse(t)
                        .map_or("Mọi đối tượng", |t| t.label()),
                )
                .map_err(xl)?;
            sheet
                .write_string(
                    r,
                    3,
                    domain::assess::Difficulty::parse(d).map_or("", |d| d.label()),
                )
                .map_err(xl)?;
            sheet
                .write_string_with_format(r, 4, *p, &wrap)
                .map_err(xl)?;
            sheet
                .write_string_with_format(r, 5, *c, &wrap)
                .map_err(xl)?;
            sheet.write_string(r, 6, *a).map_err(xl)?;
            sheet.write_string(r, 7, *pts).map_err(xl)?;
        }
    }
    for (n, q) in questions.iter().enumerate() {
        let r = row(n + 1);
        sheet.write_number(r, 0, q.id.0 as f64).map_err(xl)?;
        sheet.write_string(r, 1, q.kind_label()).map_err(xl)?;
        sheet.write_string(r, 2, q.tier_label()).map_err(xl)?;
        sheet.write_string(r, 3, q.difficulty_label()).map_err(xl)?;
        sheet
            .write_string_with_format(r, 4, &q.prompt, &wrap)
            .map_err(xl)?;
        sheet
            .write_string_with_format(r, 5, &q.choices, &wrap)
            .map_err(xl)?;
        sheet.write_string(r, 6, q.answer_label()).map_err(xl)?;
        if q.kind() == domain::assess::QuestionKind::Essay {
            sheet.write_number(r, 7, q.points as f64).map_err(xl)?;
        }
    }
    let notes = book.add_worksheet();
    notes.set_name("Hướng dẫn").map_err(xl)?;
    let lines = [
        title.to_string(),
        String::new(),
        "Mỗi dòng của trang «Câu hỏi» là một câu hỏi. Để trống «Mã câu» để thêm câu mới; giữ «Mã câu» để sửa câu đã có (tạo phiên bản mới, phiếu đã phát hành không đổi).".into(),
        format!("Loại câu hỏi: {}.", domain::assess::QuestionKind::ALL.iter().map(|k| k.label()).collect::<Vec<_>>().join("; ")),
        format!("Đối tượng: Mọi đối tượng; {}.", domain::study::AudienceTier::ALL.iter().map(|k| k.label()).collect::<Vec<_>>().join("; ")),
        format!("Mức độ: {}.", domain::assess::Difficulty::ALL.iter().map(|k| k.label()).collect::<Vec<_>>().join("; ")),
        "Đáp án: chữ cái của phương án đúng (A, B…; nhiều lựa chọn: «A, C»); Đúng/Sai; trả lời ngắn: các cách trả lời được chấp nhận, cách nhau bằng «|».".into(),
        "Điểm: chỉ câu tự luận (1–100; để trống là 10); các câu khác 1 điểm.".into(),
    ];
    for (n, l) in lines.iter().enumerate() {
        notes.write_string(row(n), 0, l).map_err(xl)?;
    }
    book.save_to_buffer().map_err(xl)
}

/// The rows of a filled bank sheet, validated: each with the question it edits (its
/// "Mã câu") or none for a new one. Every row's errors are returned together, numbered as the
/// spreadsheet numbers its rows.
pub fn bank_rows(
    sheet: &Sheet,
) -> std::result::Result<Vec<(Option<QuestionId>, NewQuestion)>, Vec<String>> {
    let heads: Vec<String> = sheet
        .headings
        .iter()
        .map(|h| h.trim().to_string())
        .collect();
    let col = |name: &str| heads.iter().position(|h| h == name);
    let (Some(ci), Some(ck), Some(ct), Some(cd), Some(cp), Some(cc), Some(ca), Some(cpt)) = (
        col(BANK_COLUMNS[0]),
        col(BANK_COLUMNS[1]),
        col(BANK_COLUMNS[2]),
        col(BANK_COLUMNS[3]),
        col(BANK_COLUMNS[4]),
        col(BANK_COLUMNS[5]),
        col(BANK_COLUMNS[6]),
        col(BANK_COLUMNS[7]),
    ) else {
        return Err(vec![format!(
            "Dòng tiêu đề phải có các cột: {}. Hãy dùng mẫu tải về.",
            BANK_COLUMNS.join(", ")
        )]);
    };
    let text = |cells: &[Cell], i: usize| cells.get(i).map(Cell::text).unwrap_or_default();
    let mut out = Vec::new();
    let mut errors = Vec::new();
    if sheet.rows.len() > 5_000 {
        return Err(vec!["Tối đa 5.000 câu hỏi trong một tệp.".into()]);
    }
    for (n, cells) in &sheet.rows {
        let input = QuestionInput {
            kind: kind_of(&text(cells, ck)),
            tier: tier_of(&text(cells, ct)),
            difficulty: level_of(&text(cells, cd)),
            prompt: text(cells, cp),
            choices: text(cells, cc),
            answer: text(cells, ca),
            points: text(cells, cpt),
        };
        let id = text(cells, ci);
        let id = if id.trim().is_empty() {
            Ok(None)
        } else {
            id.trim()
                .parse::<i64>()
                .ok()
                .filter(|i| *i > 0)
                .map(|i| Some(QuestionId(i)))
                .ok_or(())
        };
        match (id, input.validate()) {
            (Ok(id), Ok(q)) => out.push((id, q)),
            (id, v) => {
                let mut msg: Vec<String> = Vec::new();
                if id.is_err() {
                    msg.push("Mã câu: phải là số".into());
                }
                if let Err(e) = v {
                    for (f, m) in &e.0 {
                        let name = match f.as_str() {
                            "kind" => "Loại câu hỏi",
                            "tier" => "Đối tượng",
                            "difficulty" => "Mức độ",
                            "prompt" => "Câu hỏi",
                            "choices" => "Phương án",
                            "answer" => "Đáp án",
                            _ => "Điểm",
                        };
                        msg.push(format!("{name}: {m}"));
                    }
                }
                errors.push(format!("Dòng {n}: {}", msg.join("; ")));
            }
        }
        if errors.len() >= 200 {
            break;
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

/// A questionnaire's results: its people (ranked) and its questions (most missed first).
pub fn results_xlsx(z: &Quiz, people: &[Attempt], questions: &[QuizQuestion]) -> Result<Vec<u8>> {
    let mut book = Workbook::new();
    let bold = Format::new().set_bold();
    {
        let sheet = book.add_worksheet();
        sheet.set_name("Kết quả").map_err(xl)?;
        sheet
            .write_string_with_format(0, 0, &z.title, &bold)
            .map_err(xl)?;
        let heads = [
            "Hạng",
            "Họ và tên",
            "Đơn vị",
            "Điểm",
            "Tối đa",
            "Tỷ lệ (%)",
            "Thời gian làm bài (giây)",
            "Dự đoán số người dự thi",
            "Hình thức",
            "Đã đính chính",
        ];
        for (c, h) in heads.iter().enumerate() {
            sheet
                .write_string_with_format(2, u16::try_from(c).unwrap_or(0), *h, &bold)
                .map_err(xl)?;
        }
        for (n, a) in people.iter().enumerate() {
            let r = row(n + 3);
            sheet.write_number(r, 0, (n + 1) as f64).map_err(xl)?;
            sheet.write_string(r, 1, &a.name).map_err(xl)?;
            sheet
                .write_string(r, 2, a.org_name.as_deref().unwrap_or("Ngoài tổ chức đảng"))
                .map_err(xl)?;
            sheet
                .write_number(r, 3, a.score.unwrap_or(0) as f64)
                .map_err(xl)?;
            sheet.write_number(r, 4, a.max_score as f64).map_err(xl)?;
            sheet
                .write_number(r, 5, a.percent().unwrap_or(0) as f64)
                .map_err(xl)?;
            if a.source == "online" {
                sheet
                    .write_number(r, 6, (a.duration_ms.unwrap_or(0) / 1000) as f64)
                    .map_err(xl)?;
            }
            if let Some(g) = a.guess {
                sheet.write_number(r, 7, g as f64).map_err(xl)?;
            }
            sheet.write_string(r, 8, a.source_label()).map_err(xl)?;
            sheet
                .write_string(r, 9, if a.corrected { "Có" } else { "" })
                .map_err(xl)?;
        }
    }
    {
        let sheet = book.add_worksheet();
        sheet.set_name("Theo câu hỏi").map_err(xl)?;
        let heads = [
            "Câu",
            "Nội dung",
            "Số người trả lời",
            "Trả lời đúng",
            "Tỷ lệ sai hoặc bỏ trống (%)",
        ];
        for (c, h) in heads.iter().enumerate() {
            sheet
                .write_string_with_format(0, u16::try_from(c).unwrap_or(0), *h, &bold)
                .map_err(xl)?;
        }
        for (n, q) in questions.iter().enumerate() {
            let r = row(n + 1);
            sheet.write_number(r, 0, q.position as f64).map_err(xl)?;
            sheet.write_string(r, 1, &q.prompt).map_err(xl)?;
            sheet.write_number(r, 2, q.answered as f64).map_err(xl)?;
            sheet.write_number(r, 3, q.correct as f64).map_err(xl)?;
            sheet
                .write_number(r, 4, q.missed_percent().unwrap_or(0) as f64)
                .map_err(xl)?;
        }
    }
    book.save_to_buffer().map_err(xl)
}

/// The same results as CSV (UTF-8 with a byte-order mark, so Excel reads the diacritics).
pub fn results_csv(people: &[Attempt]) -> Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(vec![0xEF, 0xBB, 0xBF]);
    w.write_record([
        "hang",
        "ho_ten",
        "don_vi",
        "diem",
        "toi_da",
        "thoi_gian_giay",
        "du_doan",
        "hinh_thuc",
    ])
    .map_err(|e| StoreError::Internal(e.to_string()))?;
    for (n, a) in people.iter().enumerate() {
        w.write_record([
            (n + 1).to_string(),
            a.name.clone(),
            a.org_name.clone().unwrap_or_default(),
            a.score.unwrap_or(0).to_string(),
            a.max_score.to_string(),
            if a.source == "online" {
                (a.duration_ms.unwrap_or(0) / 1000).to_string()
            } else {
                String::new()
            },
            a.guess.map(|g| g.to_string()).unwrap_or_default(),
            a.source.clone(),
        ])
        .map_err(|e| StoreError::Internal(e.to_string()))?;
    }
    w.into_inner()
        .map_err(|e| StoreError::Internal(e.to_string()))
}
