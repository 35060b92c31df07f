//! The `quantriet` binary: serve (default), init, migrate, demo, create-admin, import, export,
//! bench.

mod bench;
mod bench_checkin;
mod bench_conduct;
mod bench_contest;
mod bench_pages;
mod bench_plans;
mod config;

use anyhow::Context;
use clap::{Parser, Subcommand, ValueEnum};
use domain::auth::{Clearance, Role};
use domain::ids::OrgId;
use fixtures::demo::{self, Scale};
use store::Db;

use crate::config::{Config, ConfigArgs};

/// Học tập, quán triệt nghị quyết — study and implementation of Party resolutions.
///
/// Configuration comes from flags, then `QUANTRIET_*` environment variables, then the TOML file
/// given by `--config` (or `QUANTRIET_CONFIG`), then the defaults shown here.
#[derive(Parser, Debug)]
#[command(name = "quantriet", version)]
struct Cli {
    #[command(flatten)]
    config: ConfigArgs,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Serve the web application (the default). Loads the demo province into an empty database
    /// only with `--demo` (the default when no database is configured: the trial run).
    Serve,
    /// First start on real data: the root organization and the first administrator, no demo.
    /// Refused when the database already has an administrator.
    Init {
        /// Code of the root organization (e.g. T01).
        #[arg(long)]
        org_code: String,
        /// Its name (e.g. "Đảng bộ tỉnh Gia Lai").
        #[arg(long)]
        org_name: String,
        /// The name of its level.
        #[arg(long, default_value = "Tỉnh ủy")]
        level_name: String,
        #[arg(long, default_value = "admin")]
        username: String,
        /// The name shown for the administrator [default: the username].
        #[arg(long)]
        display_name: Option<String>,
        /// Read from QUANTRIET_ADMIN_PASSWORD when not given (keep it out of the shell history).
        #[arg(long, env = "QUANTRIET_ADMIN_PASSWORD", hide_env_values = true)]
        password: String,
        /// none, confidential, secret, top_secret.
        #[arg(long, default_value = "none")]
        clearance: String,
    },
    /// Apply the database migrations and exit.
    Migrate,
    /// Write a consistent copy of the database to FILE while the server keeps running (SQLite:
    /// VACUUM INTO; PostgreSQL: pg_dump, custom format).
    Backup {
        /// The backup file to write (must not exist).
        file: std::path::PathBuf,
    },
    /// Replace the database with a backup made by `backup` (stop the server first). A file from
    /// another program or a newer schema is refused and nothing changes.
    Restore { file: std::path::PathBuf },
    /// Load generated demo data (deterministic for a seed) into the database.
    Demo {
        #[arg(long, value_enum, default_value_t = DemoScale::Small)]
        scale: DemoScale,
        #[arg(long, default_value_t = 2026)]
        seed: u64,
    },
    /// Create an administrator account on an organization (by code), cleared as given.
    CreateAdmin {
        #[arg(long)]
        username: String,
        /// Read from QUANTRIET_ADMIN_PASSWORD when not given.
        #[arg(long, env = "QUANTRIET_ADMIN_PASSWORD", hide_env_values = true)]
        password: String,
        /// Code of the organization the admin manages (e.g. T01).
        #[arg(long)]
        org_code: String,
        #[arg(long, default_value = "none")]
        clearance: String,
    },
    /// Import the organization tree or the member list from an xlsx or csv file (dry run first).
    Import {
        #[command(subcommand)]
        what: ImportWhat,
    },
    /// Export the member list of an organization's subtree to xlsx (the layout the import reads).
    Export {
        /// Code of the organization (e.g. T01-X001).
        #[arg(long)]
        org: String,
        /// The xlsx file to write.
        #[arg(long)]
        out: std::path::PathBuf,
        /// Act with the rights of this account.
        #[arg(long, default_value = "admin")]
        user: String,
    },
    /// Benchmarks that print ratios against a baseline measured in the same run.
    Bench {
        #[command(subcommand)]
        which: bench::Which,
        /// Print one JSON object instead of text (before or after the benchmark's name).
        #[arg(long, global = true)]
        json: bool,
    },
}

#[derive(Subcommand, Debug)]
enum ImportWhat {
    /// Members (Mẫu 7-HSĐV columns or the usual exports) into an organization's subtree.
    Members {
        file: std::path::PathBuf,
        /// Code of the organization the file covers (members are matched and placed inside it).
        #[arg(long)]
        org: String,
        /// Check and report only; write nothing.
        #[arg(long)]
        dry_run: bool,
        /// Act with the rights of this account.
        #[arg(long, default_value = "admin")]
        user: String,
    },
    /// Organizations: columns Mã, Tên, Mã cấp trên, Cấp, Loại.
    Orgs {
        file: std::path::PathBuf,
        #[arg(long)]
        dry_run: bool,
        #[arg(long, default_value = "admin")]
        user: String,
    },
}

#[derive(Copy, Clone, Debug, ValueEnum)]
enum DemoScale {
    Small,
    Province,
    National,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let config = Config::load(&cli.config)?;
    let filter = tracing_subscriber::EnvFilter::try_from_env("QUANTRIET_LOG")
        .unwrap_or_else(|_| "info,sqlx=warn".into());
    if config.json_logs {
        tracing_subscriber::fmt()
            .json()
            .with_current_span(true)
            .with_env_filter(filter)
            .init();
    } else {
        tracing_subscriber::fmt().with_env_filter(filter).init();
    }
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(&config).await,
        Command::Init {
            org_code,
            org_name,
            level_name,
            username,
            display_name,
            password,
            clearance,
        } => {
            let db = open(&config).await?;
            let clearance = Clearance::parse(&clearance)
                .map_err(|_| anyhow::anyhow!("unknown clearance {clearance}"))?;
            let first = store::setup::FirstStart {
                display_name: display_name.unwrap_or_else(|| username.clone()),
                org_code,
                org_name,
                level_name,
                username,
                password,
                clearance,
            };
            match store::setup::init(&db, &first).await {
                Ok((org, _)) => {
                    println!(
                        "created {} ({}, id {}) and its administrator {}; log in and enroll the second factor, then import the organization tree and the members:",
                        first.org_name.trim(), first.org_code.trim(), org.0, first.username.trim()
                    );
                    println!(
                        "  quantriet import orgs FILE --user {0}
  quantriet import members FILE --org CODE --user {0}",
                        first.username.trim()
                    );
                    Ok(())
                }
                Err(e) => Err(explain(e)),
            }
        }
        Command::Backup { file } => {
            let db = Db::connect(&config.database_url)
                .await
                .with_context(|| format!("cannot open the database {}", config.redacted_url()))?;
            let started = std::time::Instant::now();
            let info = store::backup::backup(&db, &config.database_url, &file)
                .await
                .map_err(explain)?;
            println!(
                "wrote {} ({:.1} MB, schema {}) in {:.1} s",
                file.display(),
                info.bytes as f64 / 1e6,
                info.schema_version,
                started.elapsed().as_secs_f64()
            );
            Ok(())
        }
        Command::Restore { file } => {
            let info = store::backup::restore(&config.database_url, &file)
                .await
                .map_err(explain)?;
            let db = open(&config).await?;
            println!(
                "restored {} (schema {}) into {} ({}), migrated to schema {}",
                file.display(),
                info.schema_version,
                config.redacted_url(),
                db.engine(),
                db.schema_version().await?
            );
            Ok(())
        }
        Command::Migrate => {
            let db = open(&config).await?;
            println!("migrations applied ({})", db.engine());
            Ok(())
        }
        Command::Demo { scale, seed } => {
            let db = open(&config).await?;
            let scale = match scale {
                DemoScale::Small => Scale::Small,
                DemoScale::Province => Scale::Province,
                DemoScale::National => Scale::National,
            };
            let accounts = demo::is_empty(&db).await?;
            let started = std::time::Instant::now();
            let r = demo::load(&db, scale, seed, accounts).await?;
            println!(
                "loaded {} province(s), {} organizations, {} people in {:.1} s{}",
                r.provinces,
                r.orgs,
                r.people,
                started.elapsed().as_secs_f64(),
                if accounts {
                    " (with demo accounts)"
                } else {
                    ""
                }
            );
            Ok(())
        }
        Command::CreateAdmin {
            username,
            password,
            org_code,
            clearance,
        } => {
            let db = open(&config).await?;
            let clearance = Clearance::parse(&clearance)
                .map_err(|_| anyhow::anyhow!("unknown clearance {clearance}"))?;
            let org = store::org::find_by_code(&db, &org_code)
                .await?
                .with_context(|| format!("no organization with code {org_code}"))?;
            let id =
                store::auth::create_account(&db, &username, &password, &username, None, clearance)
                    .await?;
            store::auth::grant(&db, id, OrgId(org), Role::Admin).await?;
            println!("created admin {username} on {org_code}");
            Ok(())
        }
        Command::Bench { which, json } => bench::run(which, json, &config).await,
        Command::Import { what } => import(what, &config).await,
        Command::Export { org, out, user } => {
            let db = open(&config).await?;
            let scope = store::auth::scope_of(&db, &user)
                .await
                .with_context(|| format!("no account {user}"))?;
            let org_id = store::org::find_by_code(&db, &org)
                .await?
                .with_context(|| format!("no organization with code {org}"))?;
            let bytes = store::import::export_members(&db, &scope, OrgId(org_id)).await?;
            std::fs::write(&out, bytes)
                .with_context(|| format!("cannot write {}", out.display()))?;
            println!("wrote {}", out.display());
            Ok(())
        }
    }
}

async fn import(what: ImportWhat, config: &Config) -> anyhow::Result<()> {
    let db = open(config).await?;
    let (file, user) = match &what {
        ImportWhat::Members { file, user, .. } | ImportWhat::Orgs { file, user, .. } => {
            (file, user)
        }
    };
    let scope = store::auth::scope_of(&db, user)
        .await
        .with_context(|| format!("no account {user}"))?;
    let started = std::time::Instant::now();
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let src = store::import::Source::File(file.clone());
    let shown = file.display().to_string();
    match what {
        ImportWhat::Members { org, dry_run, .. } => {
            let org_id = OrgId(
                store::org::find_by_code(&db, &org)
                    .await?
                    .with_context(|| format!("no organization with code {org}"))?,
            );
            eprintln!(
                "{} {} in one pass{}…",
                if dry_run {
                    "checking"
                } else {
                    "checking and writing"
                },
                shown,
                if dry_run { "" } else { " and one transaction" }
            );
            let bar = indicatif::ProgressBar::new(1000).with_style(
                indicatif::ProgressStyle::with_template("{bar:40} {percent:>3}% {msg} {elapsed}")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            let progress = |p: store::import::Progress| {
                bar.set_position((p.done.clamp(0.0, 1.0) * 1000.0) as u64);
                bar.set_message(format!("{} rows", p.rows));
            };
            let opts = store::import::Options {
                write: !dry_run,
                max_bytes: u64::MAX,
                progress: &progress,
                ..Default::default()
            };
            let out =
                store::import::import_members(&db, &scope, org_id, &name, &src, &opts).await?;
            bar.finish_and_clear();
            let plan = &out.plan;
            for (heading, col) in &plan.mapping {
                eprintln!(
                    "  column «{heading}» → {}",
                    col.map_or("(ignored)", |c| c.label())
                );
            }
            println!(
                "{} rows: {} new, {} changed, {} unchanged, {} in the organization but not in the file, {} errors",
                plan.rows,
                plan.new,
                plan.changed_total,
                plan.unchanged,
                plan.missing_total,
                plan.error_total
            );
            for e in plan.errors.iter().take(200) {
                println!("  {e}");
            }
            for c in plan.changed.iter().take(50) {
                let fields: Vec<String> = c
                    .fields
                    .iter()
                    .map(|(f, b, a)| format!("{f}: {b} → {a}"))
                    .collect();
                println!(
                    "  dòng {}: {} (theo {}) — {}",
                    c.row,
                    c.full_name,
                    c.matched_by,
                    fields.join("; ")
                );
            }
            if !plan.is_clean() {
                anyhow::bail!("the file has errors: nothing was written");
            }
            match out.applied {
                Some(a) => println!(
                    "written: {} new, {} updated in {:.1} s",
                    a.inserted,
                    a.updated,
                    started.elapsed().as_secs_f64()
                ),
                None => println!("dry run: nothing written"),
            }
        }
        ImportWhat::Orgs { dry_run, .. } => {
            let sheet = store::import::read_sheet_from(&name, &src, u64::MAX).await?;
            match store::import::import_orgs(&db, &scope, &sheet, dry_run).await? {
                Ok(n) if dry_run => println!("dry run: {n} new organizations would be created"),
                Ok(n) => println!(
                    "created {n} organizations in {:.1} s",
                    started.elapsed().as_secs_f64()
                ),
                Err(errors) => {
                    for e in &errors {
                        println!("  {e}");
                    }
                    anyhow::bail!("{} errors: nothing was written", errors.len());
                }
            }
        }
    }
    Ok(())
}

/// A store error for the console: a refusal by its message and code, anything else as it is.
fn explain(e: store::StoreError) -> anyhow::Error {
    match e {
        store::StoreError::Rule(v) => anyhow::anyhow!("{} ({})", v.message, v.code),
        e => e.into(),
    }
}

/// Connects and migrates.
async fn open(config: &Config) -> anyhow::Result<Db> {
    let db = Db::connect(&config.database_url)
        .await
        .with_context(|| format!("cannot open the database {}", config.redacted_url()))?;
    db.migrate().await.context("migrations failed")?;
    if let Some(t) = config.retake_threshold_percent {
        domain::study::Percent::new(i64::from(t))
            .map_err(|e| anyhow::anyhow!("retake_threshold_percent: {e}"))?;
        db.set_setting("retake_threshold_percent", &t.to_string())
            .await?;
    }
    // The default of every province that has not set its own (R8.3, issue 13.2).
    db.set_setting(
        "publication_deadline_days",
        &config.publication_deadline_days.to_string(),
    )
    .await?;
    Ok(db)
}

async fn serve(config: &Config) -> anyhow::Result<()> {
    let setup = open(config).await?;
    let empty = demo::is_empty(&setup).await?;
    if empty && config.demo {
        tracing::info!("empty database: loading the demo province");
        let r = demo::load(&setup, Scale::Small, 2026, true).await?;
        tracing::info!(orgs = r.orgs, people = r.people, "demo province loaded");
    } else if empty {
        tracing::warn!(
            "empty database: create the root organization and the first administrator with `quantriet init`, or serve with --demo to try the demo province"
        );
    }
    // Issue 13.1: a database whose demo accounts keep the published password says so in the
    // log and on every page.
    let demo_accounts = demo::published_accounts(&setup).await?;
    if !demo_accounts.is_empty() {
        tracing::warn!(
            accounts = demo_accounts.join(", "),
            "this database has demo accounts with the published password: for trying only, never for real data"
        );
    }
    setup.close().await;
    // The app's own pool bounds every statement by the request timeout (issue 10.15); the
    // migrations and the demo above ran without that bound.
    let db = Db::connect_bounded(&config.database_url, Some(web::app::REQUEST_TIMEOUT))
        .await
        .with_context(|| format!("cannot open the database {}", config.redacted_url()))?;
    let replica = match &config.read_database_url {
        Some(url) => {
            anyhow::ensure!(
                matches!(db, Db::Postgres(_)),
                "read_database_url: a replica serves a PostgreSQL primary, not a SQLite file"
            );
            let r = store::replica::Replica::connect(url, Some(web::app::REQUEST_TIMEOUT))
                .await
                .with_context(|| format!("cannot open the replica {}", config::redact(url)))?;
            tracing::info!(replica = %config::redact(url), "lists, reports and exports read from the replica while it is close behind");
            Some(r)
        }
        None => None,
    };
    let shown = demo_accounts.clone();
    let web_config = web::app::WebConfig {
        demo_accounts,
        replica,
        ..config.web()
    };
    let app = web::app::App::build(db.clone(), &config.listen, web_config)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    let addr = app.local_addr()?;
    println!(
        "quantriet is serving http://{addr}/ (database: {}, {})",
        db.engine(),
        config.redacted_url()
    );
    if !shown.is_empty() {
        println!(
            "Demo accounts: admin (province admin, cleared for secret), organizer (one commune), secretary (one cell), member — password: {}",
            demo::DEMO_PASSWORD
        );
    }
    app.serve(shutdown()).await?;
    db.close().await;
    Ok(())
}

async fn shutdown() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutting down");
}
