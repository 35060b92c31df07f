//! "Cấu hình của tỉnh" (R8.3, issue 13.2): the admin of a province sets what the guideline leaves
//! to it — the retake threshold of new classes, the publication deadline, the names of the tree's
//! levels and of the audience tiers. Audited.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use domain::ids::OrgId;
use domain::org::settings::{self, SettingsInput};
use domain::FieldErrors;
use serde::Deserialize;

use crate::app::AppState;
use crate::auth::CsrfForm;
use crate::error::{AppError, AppResult};
use crate::pages::{Ctx, PageCtx};

#[derive(Template)]
#[template(path = "admin/settings.html")]
struct SettingsPage {
    ctx: PageCtx,
    provinces: Vec<(OrgId, String)>,
    province: OrgId,
    input: SettingsInput,
    errors: FieldErrors,
}

impl SettingsPage {
    fn err(&self, field: &str) -> &str {
        self.errors.get(field).unwrap_or("")
    }

    /// Each tier's field, the guideline's name as its label, and what is typed.
    fn tiers(&self) -> Vec<(&'static str, &'static str, &str)> {
        use domain::study::AudienceTier;
        AudienceTier::ALL
            .iter()
            .map(|t| {
                (
                    settings::tier_field(*t),
                    t.label(),
                    self.input.tier_text(*t),
                )
            })
            .collect()
    }
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct Which {
    org_id: Option<i64>,
}

/// The province asked for, among those the caller administers (the first by default).
async fn chosen(
    st: &AppState,
    ctx: &Ctx,
    asked: Option<i64>,
) -> AppResult<(Vec<(OrgId, String)>, OrgId)> {
    let provinces = store::settings::provinces(&st.db, ctx.1.scope()).await?;
    let province = match asked {
        Some(id) => provinces
            .iter()
            .find(|(p, _)| p.0 == id)
            .map(|(p, _)| *p)
            .ok_or(AppError::NotFound)?,
        None => provinces
            .first()
            .map(|(p, _)| *p)
            .ok_or(AppError::NotFound)?,
    };
    Ok((provinces, province))
}

pub async fn page(
    State(st): State<AppState>,
    ctx: Ctx,
    Query(q): Query<Which>,
) -> AppResult<Response> {
    let (provinces, province) = chosen(&st, &ctx, q.org_id).await?;
    let now = store::settings::of_org(&st.db, province).await?;
    let c = ctx.0.with_nav("admin");
    c.render(&SettingsPage {
        ctx: c.clone(),
        provinces,
        province,
        input: SettingsInput::from_settings(&now),
        errors: FieldErrors::new(),
    })
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct SettingsForm {
    org_id: i64,
    #[serde(flatten)]
    input: SettingsInput,
}

pub async fn save(
    State(st): State<AppState>,
    ctx: Ctx,
    f: CsrfForm<SettingsForm>,
) -> AppResult<Response> {
    let (provinces, province) = chosen(&st, &ctx, Some(f.form.org_id)).await?;
    match f.form.input.validate() {
        Ok(new) => {
            store::settings::update(&st.db, f.user.scope(), province, &new).await?;
            Ok(ctx.0.redirect(
                &format!("/admin/settings?org_id={}", province.0),
                "Đã lưu cấu hình; lớp học tạo từ nay theo tỷ lệ học lại mới (các lớp đã tạo giữ tỷ lệ của mình).",
            ))
        }
        Err(errors) => {
            let c = ctx.0.with_nav("admin");
            c.render_invalid(&SettingsPage {
                ctx: c.clone(),
                provinces,
                province,
                input: f.form.input.clone(),
                errors,
            })
        }
    }
}
