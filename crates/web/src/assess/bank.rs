//! Question banks per resolution: the index of banks, a bank with its questions and the form to
//! add one, the xlsx export, the empty template and the import of a filled sheet (all or
//! nothing), and one question with its versions, its edit form and its retirement.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{DefaultBodyLimit, Multipart, Path, Query, State};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use domain::assess::{Difficulty, QuestionInput, QuestionKind};
use domain::ids::{OrgId, QuestionId, ResolutionId};
use domain::study::AudienceTier;
use domain::FieldErrors;
use serde::Deserialize;
use store::assess::export;
use store::assess::questions::{self, Question, Version};
use store::org::{self, Org};
use store::resolutions::{self, Resolution, ResolutionFilter};
use store::{Paging, StoreError};

use crate::app::AppState;
use crate::auth::{same_secret, CsrfForm};
use crate::error::{AppError, AppResult};
use crate::pages::{Ctx, PageCtx};
use crate::reads::Reads;

/// The largest bank file taken (the pages' own body limit).
const BANK_FILE_MAX: usize = 4 * 1024 * 1024;

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/assess/banks", get(index))
        .route("/assess/banks/template.xlsx", get(template_xlsx))
        .route("/assess/banks/{resolution_id}", get(bank_page).post(add))
        .route("/assess/banks/{resolution_id}/bank.xlsx", get(bank_xlsx))
        .route(
            "/assess/banks/{resolution_id}/import",
            post(import).layer(DefaultBodyLimit::max(BANK_FILE_MAX)),
        )
        .route("/assess/questions/{id}", get(question_page).post(edit))
        .route("/assess/questions/{id}/retire", post(retire))
}

/// The choices of a question, lettered: (A, text), (B, text)…
fn lettered(choices: &str) -> Vec<(char, String)> {
    questions::choice_list(choices)
        .into_iter()
        .enumerate()
        .map(|(i, c)| (domain::assess::letter(i), c.to_string()))
        .collect()
}

/// The organizations where the caller keeps questions (organizer and up).
async fn owner_orgs(db: &store::Db, scope: &store::Scope) -> AppResult<Vec<Org>> {
    let mut out: Vec<Org> = Vec::new();
    for g in scope
        .grants
        .iter()
        .filter(|g| g.role >= store::scope::WRITE)
    {
        if out.iter().any(|o| o.id == g.org_id.0) {
            continue;
        }
        if let Ok(o) = org::get(db, scope, g.org_id).await {
            out.push(o);
        }
    }
    Ok(out)
}

// ----- the banks' index -----

#[derive(Template)]
#[template(path = "assess/banks.html")]
struct BanksPage {
    ctx: PageCtx,
    /// Resolutions of this page with the questions of their bank the caller keeps.
    items: Vec<(Resolution, i64)>,
    q: String,
    page: i64,
    pages: i64,
}

impl BanksPage {
    /// The link to another page of the index, keeping the search.
    fn page_link(&self, page: i64) -> String {
        let mut q = form_urlencoded::Serializer::new(String::new());
        if !self.q.trim().is_empty() {
            q.append_pair("q", self.q.trim());
        }
        q.append_pair("page", &page.to_string());
        format!("/assess/banks?{}", q.finish())
    }
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
struct IndexQuery {
    q: Option<String>,
    page: Option<i64>,
}

async fn index(
    Reads(reads): Reads,
    Ctx(ctx, user): Ctx,
    Query(q): Query<IndexQuery>,
) -> AppResult<Response> {
    let scope = user.scope();
    let filter = ResolutionFilter {
        q: q.q.clone().filter(|s| !s.trim().is_empty()),
        kind: None,
    };
    let list = resolutions::list(&reads, scope, &filter, Paging::new(q.page, Some(50))).await?;
    let counts: HashMap<i64, i64> = questions::counts(&reads, scope)
        .await?
        .into_iter()
        .map(|c| (c.resolution_id, c.questions))
        .collect();
    let pages = list.pages();
    let page = list.page;
    let items = list
        .items
        .into_iter()
        .map(|r| {
            let n = counts.get(&r.id).copied().unwrap_or(0);
            (r, n)
        })
        .collect();
    let ctx = ctx.with_nav("assess");
    ctx.render(&BanksPage {
        ctx: ctx.clone(),
        items,
        q: q.q.unwrap_or_default(),
        page,
        pages,
    })
}

// ----- one bank -----

/// The add form: the owner organization and the question as typed (spelled out: a flattened
/// struct cannot be read from a form).
#[derive(Debug, Deserialize, Default, Clone)]
#[serde(default)]
struct QuestionForm {
    org_id: String,
    kind: String,
    tier: String,
    difficulty: String,
    prompt: String,
    choices: String,
    answer: String,
    points: String,
}

impl QuestionForm {
    fn input(&self) -> QuestionInput {
        QuestionInput {
            kind: self.kind.clone(),
            tier: self.tier.clone(),
            difficulty: self.difficulty.clone(),
            prompt: self.prompt.clone(),
            choices: self.choices.clone(),
            answer: self.answer.clone(),
            points: self.points.clone(),
        }
    }
}

#[derive(Template)]
#[template(path = "assess/bank.html")]
struct BankPage {
    ctx: PageCtx,
    r: Resolution,
    questions: Vec<Question>,
    /// The page shown starts after this question; the next one after `next_after`.
    after: Option<i64>,
    next_after: Option<i64>,
    /// Why no question may be kept for this resolution (a classified one).
    classified: Option<String>,
    owners: Vec<Org>,
    kinds: &'static [QuestionKind],
    tiers: &'static [AudienceTier],
    levels: &'static [Difficulty],
    input: QuestionForm,
    errors: FieldErrors,
    /// The add form's refusal that belongs to no field.
    form_error: Option<String>,
    /// Errors of an uploaded sheet (nothing was imported), and the organization chosen.
    import_errors: Vec<String>,
    import_org: String,
}

impl BankPage {
    fn err(&self, f: &str) -> &str {
        self.errors.get(f).unwrap_or("")
    }
    fn lettered(&self, choices: &str) -> Vec<(char, String)> {
        lettered(choices)
    }
}

/// What the bank page shows besides its questions: the forms as typed and their errors.
#[derive(Default)]
struct BankForms {
    input: QuestionForm,
    errors: FieldErrors,
    form_error: Option<String>,
    import_errors: Vec<String>,
    import_org: String,
}

async fn build_bank(
    db: &store::Db,
    ctx: PageCtx,
    scope: &store::Scope,
    rid: i64,
    after: Option<i64>,
    forms: BankForms,
) -> AppResult<BankPage> {
    // The bank holds the keys: organizers only.
    if !scope.has_role(store::scope::WRITE) {
        return Err(AppError::NotFound);
    }
    let r = resolutions::get(db, scope, ResolutionId(rid)).await?;
    let (list, next_after) = questions::list(db, scope, ResolutionId(rid), after).await?;
    let classified = questions::refuse_classified(&r).err().map(|e| match e {
        StoreError::Rule(v) => v.message,
        other => other.to_string(),
    });
    let owners = owner_orgs(db, scope).await?;
    let mut input = forms.input;
    if input.org_id.is_empty() {
        input.org_id = owners.first().map(|o| o.id.to_string()).unwrap_or_default();
    }
    if input.kind.is_empty() {
        input.kind = QuestionKind::Single.code().into();
    }
    if input.difficulty.is_empty() {
        input.difficulty = Difficulty::Medium.code().into();
    }
    let import_org = if forms.import_org.is_empty() {
        input.org_id.clone()
    } else {
        forms.import_org
    };
    Ok(BankPage {
        ctx: ctx.with_nav("assess"),
        r,
        questions: list,
        after,
        next_after,
        classified,
        owners,
        kinds: QuestionKind::ALL,
        tiers: AudienceTier::ALL,
        levels: Difficulty::ALL,
        input,
        errors: forms.errors,
        form_error: forms.form_error,
        import_errors: forms.import_errors,
        import_org,
    })
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
struct AfterQuery {
    after: Option<i64>,
}

async fn bank_page(
    Reads(reads): Reads,
    Ctx(ctx, user): Ctx,
    Path(rid): Path<i64>,
    Query(q): Query<AfterQuery>,
) -> AppResult<Response> {
    let page = build_bank(
        &reads,
        ctx,
        user.scope(),
        rid,
        q.after,
        BankForms::default(),
    )
    .await?;
    page.ctx.render(&page)
}

async fn add(
    State(st): State<AppState>,
    Ctx(ctx, _): Ctx,
    Path(rid): Path<i64>,
    f: CsrfForm<QuestionForm>,
) -> AppResult<Response> {
    let scope = f.user.scope();
    let r = resolutions::get(&st.db, scope, ResolutionId(rid)).await?;
    let mut errors = FieldErrors::new();
    let mut form_error = None;
    let org = f.form.org_id.trim().parse::<i64>().ok();
    if org.is_none() {
        errors.add("org_id", "Chọn tổ chức giữ câu hỏi.");
    }
    match (f.form.input().validate(), org) {
        (Ok(q), Some(org)) => match questions::create(&st.db, scope, &r, OrgId(org), &q).await {
            Ok(_) => {
                return Ok(ctx.redirect(
                    &format!("/assess/banks/{rid}"),
                    "Đã thêm câu hỏi vào ngân hàng.",
                ))
            }
            Err(StoreError::Rule(v)) if v.code == "classified_questions" => {
                form_error = Some(v.message)
            }
            Err(StoreError::Rule(v)) => errors.add("prompt", v.message),
            Err(StoreError::Forbidden | StoreError::NotFound) => errors.add(
                "org_id",
                "Bạn không giữ được câu hỏi cho tổ chức này (cần vai trò cán bộ tổ chức).",
            ),
            Err(e) => return Err(e.into()),
        },
        (Ok(_), None) => {}
        (Err(e), _) => {
            for (k, m) in e.0 {
                errors.add(k, m);
            }
        }
    }
    let forms = BankForms {
        input: f.form,
        errors,
        form_error,
        ..Default::default()
    };
    let page = build_bank(&st.db, ctx, scope, rid, None, forms).await?;
    page.ctx.render_invalid(&page)
}

/// A resolution's bank as xlsx (re-imports unchanged: the "Mã câu" column edits).
async fn bank_xlsx(
    Reads(reads): Reads,
    Ctx(_, user): Ctx,
    Path(rid): Path<i64>,
) -> AppResult<Response> {
    let scope = user.scope();
    let r = resolutions::get(&reads, scope, ResolutionId(rid)).await?;
    let all = questions::all(&reads, scope, ResolutionId(rid)).await?;
    let title = format!("Ngân hàng câu hỏi: {} — {}", r.display_name(), r.title);
    let bytes = export::bank_xlsx(&title, &all)?;
    Ok(crate::plans::action_plans::download(
        bytes,
        XLSX,
        &format!("ngan hang cau hoi {}", r.number),
        "xlsx",
    ))
}

/// The empty template to fill in (three example rows).
async fn template_xlsx(Ctx(_, _): Ctx) -> AppResult<Response> {
    let bytes = export::bank_xlsx("Mẫu ngân hàng câu hỏi", &[])?;
    Ok(crate::plans::action_plans::download(
        bytes,
        XLSX,
        "mau ngan hang cau hoi",
        "xlsx",
    ))
}

/// Imports a filled sheet: every row checked first; with any error nothing is written and the
/// errors are listed by row.
async fn import(
    State(st): State<AppState>,
    Ctx(ctx, user): Ctx,
    Path(rid): Path<i64>,
    mut mp: Multipart,
) -> AppResult<Response> {
    let scope = user.scope();
    let (mut csrf, mut org_id, mut file) = (String::new(), String::new(), None);
    while let Some(field) = mp
        .next_field()
        .await
        .map_err(|e| AppError::BadRequest(format!("Không đọc được tệp tải lên: {e}")))?
    {
        match field.name().unwrap_or("") {
            "csrf" => csrf = field.text().await.unwrap_or_default(),
            "org_id" => org_id = field.text().await.unwrap_or_default(),
            "file" => {
                let name = field.file_name().unwrap_or("tep.xlsx").to_string();
                let bytes = field.bytes().await.map_err(|_| {
                    AppError::BadRequest("Tệp quá lớn hoặc tải lên bị gián đoạn.".into())
                })?;
                file = Some((name, bytes));
            }
            _ => {}
        }
    }
    if !same_secret(&csrf, &user.csrf) {
        return Err(AppError::Csrf);
    }
    let r = resolutions::get(&st.db, scope, ResolutionId(rid)).await?;
    let mut errs: Vec<String> = Vec::new();
    let org = org_id.trim().parse::<i64>().ok();
    if org.is_none() {
        errs.push("Chọn tổ chức giữ các câu hỏi nhập vào.".into());
    }
    let file = file.filter(|(_, b)| !b.is_empty());
    if file.is_none() {
        errs.push("Chọn tệp Excel (.xlsx) điền theo mẫu.".into());
    }
    if let (Some(org), Some((name, bytes))) = (org, file) {
        match store::import::read_sheet(&name, &bytes).await {
            Ok(sheet) => match export::bank_rows(&sheet) {
                Ok(rows) if rows.is_empty() => {
                    errs.push("Tệp không có dòng câu hỏi nào.".into());
                }
                Ok(rows) => match questions::import(&st.db, scope, &r, OrgId(org), &rows).await {
                    Ok((added, edited)) => {
                        return Ok(ctx.redirect(
                            &format!("/assess/banks/{rid}"),
                            &format!("Đã nhập {added} câu mới, {edited} câu sửa."),
                        ))
                    }
                    Err(StoreError::Rule(v)) => errs.push(v.message),
                    Err(StoreError::Forbidden | StoreError::NotFound) => errs.push(
                        "Không nhập được: bạn không giữ câu hỏi cho tổ chức đã chọn, hoặc tệp sửa câu hỏi của tổ chức cấp trên (chỉ cán bộ tổ chức của tổ chức đó sửa được; giữ nguyên các dòng ấy)."
                            .into(),
                    ),
                    Err(e) => return Err(e.into()),
                },
                Err(list) => errs = list,
            },
            Err(StoreError::Rule(v)) => errs.push(v.message),
            Err(e) => return Err(e.into()),
        }
    }
    let forms = BankForms {
        import_errors: errs,
        import_org: org_id,
        ..Default::default()
    };
    let page = build_bank(&st.db, ctx, scope, rid, None, forms).await?;
    page.ctx.render_invalid(&page)
}

// ----- one question -----

#[derive(Template)]
#[template(path = "assess/question.html")]
struct QuestionPage {
    ctx: PageCtx,
    q: Question,
    r: Resolution,
    versions: Vec<Version>,
    /// The caller keeps this question (organizer of its organization).
    can_edit: bool,
    kinds: &'static [QuestionKind],
    tiers: &'static [AudienceTier],
    levels: &'static [Difficulty],
    input: QuestionInput,
    errors: FieldErrors,
}

impl QuestionPage {
    fn err(&self, f: &str) -> &str {
        self.errors.get(f).unwrap_or("")
    }
    fn lettered(&self, choices: &str) -> Vec<(char, String)> {
        lettered(choices)
    }
    fn version_answer(&self, v: &Version) -> String {
        questions::answer_label(self.q.kind(), &v.answer)
    }
}

fn input_of(q: &Question) -> QuestionInput {
    QuestionInput {
        kind: q.kind.clone(),
        tier: q.tier.clone().unwrap_or_default(),
        difficulty: q.difficulty.clone(),
        prompt: q.prompt.clone(),
        choices: q.choices.clone(),
        answer: q.answer_label(),
        points: if q.kind() == QuestionKind::Essay {
            q.points.to_string()
        } else {
            String::new()
        },
    }
}

async fn build_question(
    db: &store::Db,
    ctx: PageCtx,
    scope: &store::Scope,
    id: i64,
    input: Option<QuestionInput>,
    errors: FieldErrors,
) -> AppResult<QuestionPage> {
    let q = questions::get(db, scope, QuestionId(id)).await?;
    let r = resolutions::get(db, scope, ResolutionId(q.resolution_id)).await?;
    let versions = questions::versions(db, &q).await?;
    let can_edit = scope
        .covers(db, OrgId(q.org_id), store::scope::WRITE)
        .await?;
    Ok(QuestionPage {
        ctx: ctx.with_nav("assess"),
        input: input.unwrap_or_else(|| input_of(&q)),
        q,
        r,
        versions,
        can_edit,
        kinds: QuestionKind::ALL,
        tiers: AudienceTier::ALL,
        levels: Difficulty::ALL,
        errors,
    })
}

async fn question_page(
    State(st): State<AppState>,
    Ctx(ctx, user): Ctx,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let page = build_question(&st.db, ctx, user.scope(), id, None, FieldErrors::new()).await?;
    page.ctx.render(&page)
}

async fn edit(
    State(st): State<AppState>,
    Ctx(ctx, _): Ctx,
    Path(id): Path<i64>,
    f: CsrfForm<QuestionInput>,
) -> AppResult<Response> {
    let scope = f.user.scope();
    let q = questions::get(&st.db, scope, QuestionId(id)).await?;
    let errors = match f.form.validate() {
        Ok(new) => match questions::edit(&st.db, scope, &q, &new).await {
            Ok(()) => {
                return Ok(ctx.redirect(
                    &format!("/assess/questions/{id}"),
                    &format!(
                        "Đã lưu phiên bản {} của câu hỏi. Phiếu đã tạo vẫn giữ phiên bản cũ.",
                        q.version + 1
                    ),
                ))
            }
            Err(StoreError::Rule(v)) => {
                let mut e = FieldErrors::new();
                e.add("prompt", v.message);
                e
            }
            Err(e) => return Err(e.into()),
        },
        Err(e) => e,
    };
    let page = build_question(&st.db, ctx, scope, id, Some(f.form), errors).await?;
    page.ctx.render_invalid(&page)
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
struct RetireForm {
    retired: bool,
}

async fn retire(
    State(st): State<AppState>,
    Ctx(ctx, _): Ctx,
    Path(id): Path<i64>,
    f: CsrfForm<RetireForm>,
) -> AppResult<Response> {
    let scope = f.user.scope();
    let q = questions::get(&st.db, scope, QuestionId(id)).await?;
    questions::set_retired(&st.db, scope, &q, f.form.retired).await?;
    Ok(ctx.redirect(
        &format!("/assess/questions/{id}"),
        if f.form.retired {
            "Đã ngừng dùng câu hỏi: phiếu mới không lấy câu này nữa; phiếu đã tạo vẫn giữ."
        } else {
            "Đã dùng lại câu hỏi trong ngân hàng."
        },
    ))
}
