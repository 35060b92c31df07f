//! Files of a plan (issue 14.6): its items as xlsx in the order of the tree (each lead unit
//! after its parent, siblings by name), and the plan as a .docx in the Party document layout
//! that Word and LibreOffice open and edit (offices finish plans in Word).

use std::io::Write;

use chrono::NaiveDate;

use crate::db::Db;
use crate::db_run;
use crate::error::{Result, StoreError};
use crate::plans::action_plans::{self as plans, Item, Plan};
use crate::scope::Scope;

/// The items of `plan` the caller sees, in tree order of their lead units (pre-order: a unit,
/// then what lies below it), then by start date.
pub async fn items_in_tree_order(db: &Db, scope: &Scope, plan: &Plan) -> Result<Vec<Item>> {
    let mut items = plans::items(db, scope, plan).await?;
    let leads = serde_json::to_string(&items.iter().map(|i| i.lead_org_id.0).collect::<Vec<_>>())
        .map_err(|e| StoreError::Internal(e.to_string()))?;
    // Each lead's chain of ancestors from the plan's owner down: its sort keys make the key.
    let sql = format!(
        "SELECT c.descendant_id, a.depth, a.sort_key FROM org_closure c JOIN orgs a ON a.id = c.ancestor_id \
         JOIN org_closure top ON top.descendant_id = a.id AND top.ancestor_id = $1 \
         WHERE c.descendant_id IN ({})",
        db.json_ints(2)
    );
    let rows: Vec<(i64, i64, String)> =
        db_run!(db, p => sqlx::query_as(&sql).bind(plan.org_id.0).bind(&leads).fetch_all(p).await)?;
    let key = |org: i64| {
        let mut chain: Vec<(i64, &str)> = rows
            .iter()
            .filter(|(d, _, _)| *d == org)
            .map(|(_, depth, k)| (*depth, k.as_str()))
            .collect();
        chain.sort_unstable();
        chain
            .into_iter()
            .map(|(_, k)| k.to_string())
            .collect::<Vec<_>>()
    };
    items.sort_by_cached_key(|i| (key(i.lead_org_id.0), i.starts_on, i.id.0));
    Ok(items)
}

fn xl(e: rust_xlsxwriter::XlsxError) -> StoreError {
    StoreError::Internal(format!("xlsx: {e}"))
}

/// The items of `plan` as an xlsx sheet, in tree order, dates as date cells.
pub async fn items_xlsx(db: &Db, scope: &Scope, plan: &Plan, today: NaiveDate) -> Result<Vec<u8>> {
    use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
    let items = items_in_tree_order(db, scope, plan).await?;
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name("Hạng mục").map_err(xl)?;
    let bold = Format::new().set_bold();
    let date = Format::new().set_num_format("dd/mm/yyyy");
    let title = match &plan.number {
        Some(n) => format!("{} (số {n})", plan.title),
        None => plan.title.clone(),
    };
    sheet
        .write_string_with_format(0, 0, &title, &bold)
        .map_err(xl)?;
    sheet
        .write_string(
            1,
            0,
            format!("{} — {}", plan.org_name, plan.status().label()),
        )
        .map_err(xl)?;
    let head = [
        "TT",
        "Hạng mục",
        "Loại",
        "Đơn vị chủ trì",
        "Đơn vị phối hợp",
        "Người phụ trách",
        "Nguồn lực",
        "Bắt đầu",
        "Hạn hoàn thành",
        "Tiến độ (%)",
        "Ngày hoàn thành",
        "Tình trạng",
    ];
    for (c, h) in head.iter().enumerate() {
        sheet
            .write_string_with_format(3, u16::try_from(c).unwrap_or(0), *h, &bold)
            .map_err(xl)?;
    }
    let day = |d: NaiveDate| {
        use chrono::Datelike;
        ExcelDateTime::from_ymd(
            u16::try_from(d.year()).unwrap_or(1900),
            u8::try_from(d.month()).unwrap_or(1),
            u8::try_from(d.day()).unwrap_or(1),
        )
    };
    for (n, i) in items.iter().enumerate() {
        let r = u32::try_from(n + 4).unwrap_or(u32::MAX);
        sheet.write_number(r, 0, (n + 1) as f64).map_err(xl)?;
        let texts = [
            (1, i.title.as_str()),
            (2, i.kind_label()),
            (3, i.lead_name.as_str()),
            (4, i.coordinators.as_str()),
            (5, i.responsible.as_deref().unwrap_or("")),
            (6, i.resources.as_deref().unwrap_or("")),
            (11, i.state(today).label()),
        ];
        for (c, v) in texts {
            if !v.is_empty() {
                sheet.write_string(r, c, v).map_err(xl)?;
            }
        }
        sheet
            .write_datetime_with_format(r, 7, &day(i.starts_on).map_err(xl)?, &date)
            .map_err(xl)?;
        sheet
            .write_datetime_with_format(r, 8, &day(i.due_on).map_err(xl)?, &date)
            .map_err(xl)?;
        sheet.write_number(r, 9, i.percent as f64).map_err(xl)?;
        if let Some(d) = i.done_on {
            sheet
                .write_datetime_with_format(r, 10, &day(d).map_err(xl)?, &date)
                .map_err(xl)?;
        }
    }
    sheet.set_column_width(1, 50).map_err(xl)?;
    sheet.set_column_width(3, 28).map_err(xl)?;
    sheet.set_column_width(4, 28).map_err(xl)?;
    for c in [7, 8, 10] {
        sheet.set_column_width(c, 14).map_err(xl)?;
    }
    sheet.set_freeze_panes(4, 0).map_err(xl)?;
    book.save_to_buffer().map_err(xl)
}

/// What the head of the document says (computed by the page's letterhead).
#[derive(Debug, Clone)]
pub struct DocxHead {
    pub superior: Option<String>,
    pub issuer: String,
    pub number: String,
    pub place_date: String,
    /// "CHƯƠNG TRÌNH HÀNH ĐỘNG" or "KẾ HOẠCH", empty when the title says it already.
    pub heading: String,
    pub resolutions: Vec<String>,
    pub recipients: Vec<String>,
    pub signer_title: String,
}

fn esc(s: &str) -> String {
    quick_xml::escape::escape(s).into_owned()
}

/// A paragraph: `align` left/center/right/both, bold, italic, size in half-points, lines of
/// text kept as separate runs with breaks.
fn para(text: &str, align: &str, bold: bool, italic: bool, size: u32) -> String {
    let rpr = format!(
        "<w:rPr><w:rFonts w:ascii=\"Times New Roman\" w:hAnsi=\"Times New Roman\" w:cs=\"Times New Roman\"/>{}{}<w:sz w:val=\"{size}\"/></w:rPr>",
        if bold { "<w:b/>" } else { "" },
        if italic { "<w:i/>" } else { "" }
    );
    let runs = text
        .split('\n')
        .map(|l| {
            format!(
                "<w:r>{rpr}<w:t xml:space=\"preserve\">{}</w:t></w:r>",
                esc(l)
            )
        })
        .collect::<Vec<_>>()
        .join("<w:r><w:br/></w:r>");
    format!("<w:p><w:pPr><w:jc w:val=\"{align}\"/><w:spacing w:after=\"80\"/></w:pPr>{runs}</w:p>")
}

fn cell(content: &str, width: u32, borders: bool) -> String {
    let b = if borders {
        ""
    } else {
        "<w:tcBorders><w:top w:val=\"nil\"/><w:left w:val=\"nil\"/><w:bottom w:val=\"nil\"/><w:right w:val=\"nil\"/></w:tcBorders>"
    };
    format!("<w:tc><w:tcPr><w:tcW w:w=\"{width}\" w:type=\"dxa\"/>{b}</w:tcPr>{content}</w:tc>")
}

fn table(rows: &[String], widths: &[u32], borders: bool) -> String {
    let grid: String = widths
        .iter()
        .map(|w| format!("<w:gridCol w:w=\"{w}\"/>"))
        .collect();
    let b = if borders {
        "<w:tblBorders><w:top w:val=\"single\" w:sz=\"4\"/><w:left w:val=\"single\" w:sz=\"4\"/><w:bottom w:val=\"single\" w:sz=\"4\"/><w:right w:val=\"single\" w:sz=\"4\"/><w:insideH w:val=\"single\" w:sz=\"4\"/><w:insideV w:val=\"single\" w:sz=\"4\"/></w:tblBorders>"
    } else {
        ""
    };
    format!(
        "<w:tbl><w:tblPr><w:tblW w:w=\"0\" w:type=\"auto\"/>{b}</w:tblPr><w:tblGrid>{grid}</w:tblGrid>{}</w:tbl>",
        rows.concat()
    )
}

/// The plan as a Word document: the Party head (issuer and number left, the Party's name and
/// the place and date right), the title, the sections, the items as a table, "Nơi nhận" and the
/// signature block. The caller is on the owner's side (the page checks).
pub async fn plan_docx(db: &Db, scope: &Scope, plan: &Plan, head: &DocxHead) -> Result<Vec<u8>> {
    let items = items_in_tree_order(db, scope, plan).await?;
    let mut body = String::new();
    let left = format!(
        "{}{}{}",
        head.superior
            .as_deref()
            .map(|s| para(s, "center", false, false, 26))
            .unwrap_or_default(),
        para(&head.issuer, "center", true, false, 26),
        para(&format!("*\n{}", head.number), "center", false, false, 26)
    );
    let right = format!(
        "{}{}",
        para("ĐẢNG CỘNG SẢN VIỆT NAM", "center", true, false, 26),
        para(&head.place_date, "center", false, true, 26)
    );
    body.push_str(&table(
        &[format!(
            "<w:tr>{}{}</w:tr>",
            cell(&left, 4200, false),
            cell(&right, 5200, false)
        )],
        &[4200, 5200],
        false,
    ));
    let title = if head.heading.is_empty() {
        plan.title.to_uppercase()
    } else {
        format!("{}\n{}", head.heading, plan.title.to_uppercase())
    };
    body.push_str(&para(&title, "center", true, false, 28));
    if !head.resolutions.is_empty() {
        body.push_str(&para(
            &format!("thực hiện {}", head.resolutions.join("; ")),
            "center",
            false,
            true,
            26,
        ));
    }
    body.push_str(&para("-----", "center", false, false, 26));
    let mut section = 0;
    let mut heading = |t: &str| {
        section += 1;
        let roman = ["I", "II", "III", "IV", "V", "VI"]
            .get(section - 1)
            .copied()
            .unwrap_or("");
        para(&format!("{roman}. {t}"), "both", true, false, 26)
    };
    if let Some(s) = &plan.summary {
        body.push_str(&heading("MỤC ĐÍCH, YÊU CẦU"));
        body.push_str(&para(s, "both", false, false, 26));
    }
    body.push_str(&heading("NHIỆM VỤ, GIẢI PHÁP"));
    let widths = [600, 3800, 1900, 1900, 1600];
    let mut rows = vec![format!(
        "<w:tr>{}</w:tr>",
        ["TT", "Nội dung", "Chủ trì", "Phối hợp", "Thời gian"]
            .iter()
            .zip(widths)
            .map(|(h, w)| cell(&para(h, "center", true, false, 24), w, true))
            .collect::<String>()
    )];
    for (n, i) in items.iter().enumerate() {
        let content = match &i.responsible {
            Some(r) => format!("{}\nPhụ trách: {r}", i.title),
            None => i.title.clone(),
        };
        let when = format!(
            "{} – {}",
            i.starts_on.format("%d/%m/%Y"),
            i.due_on.format("%d/%m/%Y")
        );
        let cells = [
            ((n + 1).to_string(), "center"),
            (content, "left"),
            (i.lead_name.clone(), "left"),
            (i.coordinators.clone(), "left"),
            (when, "center"),
        ];
        rows.push(format!(
            "<w:tr>{}</w:tr>",
            cells
                .iter()
                .zip(widths)
                .map(|((t, a), w)| cell(&para(t, a, false, false, 24), w, true))
                .collect::<String>()
        ));
    }
    body.push_str(&table(&rows, &widths, true));
    if let Some(t) = &plan.responsibility {
        body.push_str(&heading("TỔ CHỨC THỰC HIỆN"));
        body.push_str(&para(t, "both", false, false, 26));
    }
    if let Some(t) = &plan.inspection {
        body.push_str(&heading("KIỂM TRA, GIÁM SÁT"));
        body.push_str(&para(t, "both", false, false, 26));
    }
    let mut recipients = String::from("Nơi nhận:");
    for r in &head.recipients {
        recipients.push_str(&format!("\n- {r},"));
    }
    recipients.push_str("\n- Lưu Văn phòng.");
    let sign = format!(
        "{}{}",
        para(
            &format!("{}\nBÍ THƯ", head.signer_title),
            "center",
            true,
            false,
            26
        ),
        para(
            &format!("\n\n\n{}", plan.leader_name),
            "center",
            true,
            false,
            26
        )
    );
    body.push_str(&table(
        &[format!(
            "<w:tr>{}{}</w:tr>",
            cell(&para(&recipients, "left", false, false, 22), 4700, false),
            cell(&sign, 4700, false)
        )],
        &[4700, 4700],
        false,
    ));
    let document = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\
         <w:document xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\"><w:body>{body}\
         <w:sectPr><w:pgSz w:w=\"11906\" w:h=\"16838\"/><w:pgMar w:top=\"1134\" w:right=\"851\" w:bottom=\"1134\" w:left=\"1701\" w:header=\"709\" w:footer=\"709\" w:gutter=\"0\"/></w:sectPr>\
         </w:body></w:document>"
    );
    let content_types = "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\
        <Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\">\
        <Default Extension=\"rels\" ContentType=\"application/vnd.openxmlformats-package.relationships+xml\"/>\
        <Default Extension=\"xml\" ContentType=\"application/xml\"/>\
        <Override PartName=\"/word/document.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml\"/>\
        </Types>";
    let rels = "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\
        <Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">\
        <Relationship Id=\"rId1\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument\" Target=\"word/document.xml\"/>\
        </Relationships>";
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    let z = |e: zip::result::ZipError| StoreError::Internal(format!("docx: {e}"));
    for (name, text) in [
        ("[Content_Types].xml", content_types),
        ("_rels/.rels", rels),
        ("word/document.xml", document.as_str()),
    ] {
        zip.start_file(name, opts).map_err(z)?;
        zip.write_all(text.as_bytes())
            .map_err(|e| StoreError::Internal(format!("docx: {e}")))?;
    }
    Ok(zip.finish().map_err(z)?.into_inner())
}
