//! Exports in the layout the imports read back (issue 5, R-register).

use chrono::NaiveDate;
use domain::ids::OrgId;
use domain::org::import::MemberColumn;
use domain::org::OrgKind;
use domain::text;

use crate::db::Db;
use crate::db_run;
use crate::error::{Result, StoreError};
use crate::scope::Scope;

/// The member list of `org`'s subtree as an xlsx file, in the layout the import reads back.
pub async fn export_members(db: &Db, scope: &Scope, target: OrgId) -> Result<Vec<u8>> {
    crate::org::get(db, scope, target).await?;
    #[derive(sqlx::FromRow)]
    struct Row {
        full_name: String,
        family_name: String,
        middle_name: String,
        given_name: String,
        birth_date: Option<NaiveDate>,
        gender: String,
        ethnicity: String,
        religion: String,
        home_town: String,
        education: String,
        occupation: String,
        joined_on: Option<NaiveDate>,
        official_on: Option<NaiveDate>,
        party_card_number: Option<String>,
        record_number: Option<String>,
        org_code: String,
        org_name: String,
        positions: String,
        management_level: String,
        exempt_from_activities: bool,
        phone: String,
        email: String,
    }
    let rows: Vec<Row> = db_run!(db, p => sqlx::query_as(
        "SELECT p.full_name, p.family_name, p.middle_name, p.given_name, p.birth_date, p.gender, p.ethnicity, p.religion, p.home_town, \
         p.education, p.occupation, p.joined_on, p.official_on, p.party_card_number, p.record_number, o.code AS org_code, o.name AS org_name, \
         p.positions, p.management_level, p.exempt_from_activities, p.phone, p.email \
         FROM people p JOIN orgs o ON o.id = p.org_id WHERE p.org_id IN (SELECT descendant_id FROM org_closure WHERE ancestor_id = $1) \
         ORDER BY o.sort_key, p.sort_key")
        .bind(target.0).fetch_all(p).await)?;
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    let xl = |e: rust_xlsxwriter::XlsxError| StoreError::Internal(format!("xlsx: {e}"));
    let bold = rust_xlsxwriter::Format::new().set_bold();
    // Every cell as text: card numbers keep their leading zeros, dates read back as dd/mm/yyyy.
    for (c, col) in MemberColumn::ALL.iter().enumerate() {
        let c = u16::try_from(c).unwrap_or(0);
        sheet
            .write_string_with_format(0, c, col.label(), &bold)
            .map_err(xl)?;
    }
    let d = |d: Option<NaiveDate>| d.map(text::format_date).unwrap_or_default();
    for (i, r) in rows.iter().enumerate() {
        let row = u32::try_from(i + 1).unwrap_or(u32::MAX);
        let level = domain::org::ManagementLevel::parse(&r.management_level)
            .map(|l| l.label())
            .unwrap_or("");
        let gender = domain::org::Gender::parse(&r.gender)
            .map(|g| g.label())
            .unwrap_or("");
        let values = [
            r.full_name.clone(),
            r.family_name.clone(),
            r.middle_name.clone(),
            r.given_name.clone(),
            d(r.birth_date),
            gender.into(),
            r.ethnicity.clone(),
            r.religion.clone(),
            r.home_town.clone(),
            r.education.clone(),
            r.occupation.clone(),
            d(r.joined_on),
            d(r.official_on),
            r.party_card_number.clone().unwrap_or_default(),
            r.record_number.clone().unwrap_or_default(),
            r.org_code.clone(),
            r.org_name.clone(),
            r.positions.clone(),
            level.into(),
            if r.exempt_from_activities {
                "x".into()
            } else {
                String::new()
            },
            r.phone.clone(),
            r.email.clone(),
        ];
        for (c, v) in values.iter().enumerate() {
            if !v.is_empty() {
                sheet
                    .write_string(row, u16::try_from(c).unwrap_or(0), v)
                    .map_err(xl)?;
            }
        }
    }
    sheet.set_freeze_panes(1, 0).map_err(xl)?;
    book.save_to_buffer().map_err(xl)
}

/// The organization tree under `target` as xlsx, in the layout the org import reads
/// (Mã, Tên, Mã cấp trên, Cấp, Loại), parents before children.
pub async fn export_orgs(db: &Db, scope: &Scope, target: OrgId) -> Result<Vec<u8>> {
    crate::org::get(db, scope, target).await?;
    let rows: Vec<(String, String, Option<String>, String, String)> = db_run!(db, p => sqlx::query_as(
        "SELECT o.code, o.name, (SELECT u.code FROM orgs u WHERE u.id = o.parent_id), o.level_name, o.kind \
         FROM orgs o JOIN org_closure c ON c.descendant_id = o.id WHERE c.ancestor_id = $1 ORDER BY o.depth, o.sort_key")
        .bind(target.0).fetch_all(p).await)?;
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    let xl = |e: rust_xlsxwriter::XlsxError| StoreError::Internal(format!("xlsx: {e}"));
    let bold = rust_xlsxwriter::Format::new().set_bold();
    for (c, h) in ["Mã", "Tên", "Mã cấp trên", "Cấp", "Loại"]
        .iter()
        .enumerate()
    {
        sheet
            .write_string_with_format(0, u16::try_from(c).unwrap_or(0), *h, &bold)
            .map_err(xl)?;
    }
    for (i, (code, name, parent, level, kind)) in rows.iter().enumerate() {
        let r = u32::try_from(i + 1).unwrap_or(u32::MAX);
        let kind = OrgKind::parse(kind).map(OrgKind::label).unwrap_or("");
        for (c, v) in [
            code.as_str(),
            name,
            parent.as_deref().unwrap_or(""),
            level,
            kind,
        ]
        .iter()
        .enumerate()
        {
            if !v.is_empty() {
                sheet
                    .write_string(r, u16::try_from(c).unwrap_or(0), *v)
                    .map_err(xl)?;
            }
        }
    }
    sheet.set_freeze_panes(1, 0).map_err(xl)?;
    book.save_to_buffer().map_err(xl)
}
