//! The eligibility report as an xlsx workbook (R3.7): a sheet of cells and a sheet of members,
//! every row of the report (nothing cut), numbers as number cells.

use rust_xlsxwriter::{Format, Workbook, Worksheet};

use super::{MemberRow, Report};
use crate::error::{Result, StoreError};

fn xl(e: rust_xlsxwriter::XlsxError) -> StoreError {
    StoreError::Internal(format!("xlsx: {e}"))
}

fn row(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

fn head(sheet: &mut Worksheet, r: u32, cols: &[&str], bold: &Format) -> Result<()> {
    for (c, h) in cols.iter().enumerate() {
        sheet
            .write_string_with_format(r, u16::try_from(c).unwrap_or(0), *h, bold)
            .map_err(xl)?;
    }
    Ok(())
}

/// The report's cells and `members` (the report's member list, with their reasons).
pub fn eligibility_xlsx(report: &Report, members: &[MemberRow]) -> Result<Vec<u8>> {
    let mut book = Workbook::new();
    let bold = Format::new().set_bold();
    let title = format!(
        "Điều kiện xếp loại «Hoàn thành xuất sắc nhiệm vụ» năm {} — {}",
        report.year, report.org.name
    );
    {
        let sheet = book.add_worksheet();
        sheet.set_name("Chi bộ").map_err(xl)?;
        sheet
            .write_string_with_format(0, 0, &title, &bold)
            .map_err(xl)?;
        head(
            sheet,
            2,
            &[
                "TT",
                "Chi bộ",
                "Trực thuộc",
                "Số đảng viên",
                "Bị nhắc nhở, phê bình",
                "Tỷ lệ (%)",
                "Đủ điều kiện xếp loại xuất sắc",
                "Xếp loại đã ghi",
            ],
            &bold,
        )?;
        for (n, c) in report.cells.iter().enumerate() {
            let r = row(n + 3);
            sheet.write_number(r, 0, (n + 1) as f64).map_err(xl)?;
            sheet.write_string(r, 1, &c.name).map_err(xl)?;
            sheet.write_string(r, 2, &c.parent_name).map_err(xl)?;
            sheet.write_number(r, 3, c.members as f64).map_err(xl)?;
            sheet.write_number(r, 4, c.flagged as f64).map_err(xl)?;
            if c.members > 0 {
                let pct = (c.flagged * 1000 / c.members) as f64 / 10.0;
                sheet.write_number(r, 5, pct).map_err(xl)?;
            }
            sheet
                .write_string(
                    r,
                    6,
                    if c.barred() {
                        "Không (từ 10% trở lên)"
                    } else {
                        "Có"
                    },
                )
                .map_err(xl)?;
            if !c.rating_label().is_empty() {
                sheet.write_string(r, 7, c.rating_label()).map_err(xl)?;
            }
        }
    }
    {
        let sheet = book.add_worksheet();
        sheet.set_name("Đảng viên").map_err(xl)?;
        sheet
            .write_string_with_format(0, 0, &title, &bold)
            .map_err(xl)?;
        head(
            sheet,
            2,
            &[
                "TT",
                "Họ và tên",
                "Chi bộ",
                "Đủ điều kiện xếp loại xuất sắc",
                "Lý do",
                "Xếp loại đã ghi",
            ],
            &bold,
        )?;
        for (n, m) in members.iter().enumerate() {
            let r = row(n + 3);
            sheet.write_number(r, 0, (n + 1) as f64).map_err(xl)?;
            sheet.write_string(r, 1, &m.full_name).map_err(xl)?;
            sheet.write_string(r, 2, &m.org_name).map_err(xl)?;
            sheet
                .write_string(r, 3, if m.eligible() { "Có" } else { "Không" })
                .map_err(xl)?;
            let why = m
                .reasons
                .iter()
                .map(|x| {
                    format!(
                        "{} ngày {}: {}",
                        x.kind_label(),
                        domain::text::format_date(x.occurred_on),
                        x.reason
                    )
                })
                .collect::<Vec<_>>()
                .join("; ");
            if !why.is_empty() {
                sheet.write_string(r, 4, &why).map_err(xl)?;
            }
            if !m.rating_label().is_empty() {
                sheet.write_string(r, 5, m.rating_label()).map_err(xl)?;
            }
        }
    }
    book.save_to_buffer().map_err(xl)
}
