//! Configuration: flags, then `QUANTRIET_*` variables, then a TOML file, then defaults.

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use serde::Deserialize;

/// Settings given on the command line or in the environment.
#[derive(Args, Debug, Default)]
pub struct ConfigArgs {
    /// TOML file with any of the settings below (keys as in snake_case, e.g. `database_url`).
    #[arg(long, env = "QUANTRIET_CONFIG", global = true)]
    pub config: Option<PathBuf>,
    /// `postgres://user@host/db` for PostgreSQL, or a SQLite file path [default: ./data/quantriet.db].
    #[arg(long, env = "QUANTRIET_DATABASE_URL", global = true)]
    pub database_url: Option<String>,
    /// A streaming replica of the PostgreSQL database (`postgres://…`) for lists, reports and
    /// exports, used while it is close behind the primary [default: none — all reads on the primary].
    #[arg(
        long,
        env = "QUANTRIET_READ_DATABASE_URL",
        global = true,
        hide_env_values = true
    )]
    pub read_database_url: Option<String>,
    /// Address to listen on [default: 127.0.0.1:8080].
    #[arg(long, env = "QUANTRIET_LISTEN", global = true)]
    pub listen: Option<String>,
    /// R3.5/R8.3: percent of class time above which a retake is owed [default: 40].
    #[arg(long, env = "QUANTRIET_RETAKE_THRESHOLD_PERCENT", global = true)]
    pub retake_threshold_percent: Option<u8>,
    /// R6.1: days after release by which a resolution must be published [default: 2].
    #[arg(long, env = "QUANTRIET_PUBLICATION_DEADLINE_DAYS", global = true)]
    pub publication_deadline_days: Option<u32>,
    /// API requests per minute per client address; 0 turns the limit off [default: 600].
    #[arg(long, env = "QUANTRIET_API_RATE_PER_MINUTE", global = true)]
    pub api_rate_per_minute: Option<u32>,
    /// Minutes a login may sit unused before it ends [default: 120].
    #[arg(long, env = "QUANTRIET_IDLE_MINUTES", global = true)]
    pub idle_minutes: Option<u32>,
    /// The same for admins and accounts cleared for classified resolutions [default: 30].
    #[arg(long, env = "QUANTRIET_IDLE_MINUTES_PRIVILEGED", global = true)]
    pub idle_minutes_privileged: Option<u32>,
    /// Proxies whose X-Forwarded-For and X-Forwarded-Proto are believed: addresses or networks,
    /// comma-separated (e.g. `127.0.0.1,10.0.0.0/8`) [default: none — the headers are ignored].
    #[arg(
        long,
        env = "QUANTRIET_TRUSTED_PROXIES",
        global = true,
        value_delimiter = ','
    )]
    pub trusted_proxies: Option<Vec<String>>,
    /// Networks besides the machine itself that may read /metrics (e.g. the Prometheus server's
    /// address) [default: none].
    #[arg(
        long,
        env = "QUANTRIET_METRICS_FROM",
        global = true,
        value_delimiter = ','
    )]
    pub metrics_from: Option<Vec<String>>,
    /// SMTP server for e-mailing notifications: `smtp://host:25`, `smtp://user:pass@host:587?tls=required`,
    /// `smtps://host:465` [default: none — notifications wait in the outbox].
    #[arg(
        long,
        env = "QUANTRIET_SMTP_URL",
        global = true,
        hide_env_values = true
    )]
    pub smtp_url: Option<String>,
    /// The sender of those e-mails [default: Quán triệt <quantriet@localhost>].
    #[arg(long, env = "QUANTRIET_MAIL_FROM", global = true)]
    pub mail_from: Option<String>,
    /// The address users open the application at, for links in e-mails (e.g.
    /// https://quantriet.tinhuy.gialai.vn) [default: http://LISTEN].
    #[arg(long, env = "QUANTRIET_PUBLIC_URL", global = true)]
    pub public_url: Option<String>,
    /// Log format: `text` or `json` (one JSON object a line) [default: text].
    #[arg(long, env = "QUANTRIET_LOG_FORMAT", global = true)]
    pub log_format: Option<String>,
    /// Load the demo province into an empty database when serving [default: only when no
    /// database is configured, i.e. the trial run of `cargo run --release`].
    #[arg(long, env = "QUANTRIET_DEMO", global = true, num_args = 0..=1, default_missing_value = "true")]
    pub demo: Option<bool>,
    /// Always set the Secure flag on cookies (it is set anyway behind a trusted proxy sending X-Forwarded-Proto: https).
    #[arg(long, env = "QUANTRIET_SECURE_COOKIES", global = true)]
    pub secure_cookies: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    database_url: Option<String>,
    read_database_url: Option<String>,
    listen: Option<String>,
    retake_threshold_percent: Option<u8>,
    publication_deadline_days: Option<u32>,
    secure_cookies: Option<bool>,
    api_rate_per_minute: Option<u32>,
    idle_minutes: Option<u32>,
    idle_minutes_privileged: Option<u32>,
    demo: Option<bool>,
    trusted_proxies: Option<Vec<String>>,
    metrics_from: Option<Vec<String>>,
    log_format: Option<String>,
    smtp_url: Option<String>,
    mail_from: Option<String>,
    public_url: Option<String>,
}

/// The settings in force.
#[derive(Debug, Clone)]
pub struct Config {
    pub database_url: String,
    /// The replica for lag-tolerant reads (issue 13.6).
    pub read_database_url: Option<String>,
    pub listen: String,
    pub retake_threshold_percent: Option<u8>,
    pub publication_deadline_days: u32,
    pub secure_cookies: bool,
    pub api_rate_per_minute: u32,
    pub idle_minutes: u32,
    pub idle_minutes_privileged: u32,
    /// Serve loads the demo into an empty database (issue 13.1).
    pub demo: bool,
    pub trusted_proxies: web::proxy::TrustedProxies,
    pub metrics_from: web::proxy::TrustedProxies,
    /// One JSON object a log line.
    pub json_logs: bool,
    pub mail: Option<web::mail::MailConfig>,
}

impl Config {
    pub fn load(args: &ConfigArgs) -> anyhow::Result<Self> {
        let file = match &args.config {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("cannot read {}", path.display()))?;
                toml::from_str::<FileConfig>(&text)
                    .with_context(|| format!("invalid configuration in {}", path.display()))?
            }
            None => FileConfig::default(),
        };
        let configured_db = args.database_url.is_some() || file.database_url.is_some();
        let trusted_proxies = web::proxy::TrustedProxies::parse(
            &args
                .trusted_proxies
                .clone()
                .or(file.trusted_proxies)
                .unwrap_or_default(),
        )
        .map_err(|e| anyhow::anyhow!("trusted_proxies: {e}"))?;
        let metrics_from = web::proxy::TrustedProxies::parse(
            &args
                .metrics_from
                .clone()
                .or(file.metrics_from)
                .unwrap_or_default(),
        )
        .map_err(|e| anyhow::anyhow!("metrics_from: {e}"))?;
        let json_logs = match args.log_format.clone().or(file.log_format).as_deref() {
            None | Some("text") => false,
            Some("json") => true,
            Some(other) => anyhow::bail!("log_format: {other:?} is neither text nor json"),
        };
        let listen_default = args
            .listen
            .clone()
            .or(file.listen.clone())
            .unwrap_or_else(|| "127.0.0.1:8080".into());
        let mail = args
            .smtp_url
            .clone()
            .or(file.smtp_url)
            .map(|smtp_url| web::mail::MailConfig {
                smtp_url,
                from: args
                    .mail_from
                    .clone()
                    .or(file.mail_from.clone())
                    .unwrap_or_else(|| "Quán triệt <quantriet@localhost>".into()),
                public_url: args
                    .public_url
                    .clone()
                    .or(file.public_url.clone())
                    .unwrap_or_else(|| format!("http://{listen_default}")),
            });
        if let Some(m) = &mail {
            web::mail::Mailer::new(m).map_err(|e| anyhow::anyhow!("{e}"))?;
        }
        let read_database_url = args.read_database_url.clone().or(file.read_database_url);
        if let Some(url) = &read_database_url {
            if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
                anyhow::bail!(
                    "read_database_url: a replica is a PostgreSQL database (postgres://…)"
                );
            }
        }
        Ok(Self {
            read_database_url,
            mail,
            trusted_proxies,
            metrics_from,
            json_logs,
            demo: args.demo.or(file.demo).unwrap_or(!configured_db),
            database_url: args
                .database_url
                .clone()
                .or(file.database_url)
                .unwrap_or_else(|| "./data/quantriet.db".into()),
            listen: args
                .listen
                .clone()
                .or(file.listen)
                .unwrap_or_else(|| "127.0.0.1:8080".into()),
            retake_threshold_percent: args
                .retake_threshold_percent
                .or(file.retake_threshold_percent),
            publication_deadline_days: args
                .publication_deadline_days
                .or(file.publication_deadline_days)
                .unwrap_or(2),
            secure_cookies: args.secure_cookies.or(file.secure_cookies).unwrap_or(false),
            api_rate_per_minute: args
                .api_rate_per_minute
                .or(file.api_rate_per_minute)
                .unwrap_or(600),
            idle_minutes: args.idle_minutes.or(file.idle_minutes).unwrap_or(120),
            idle_minutes_privileged: args
                .idle_minutes_privileged
                .or(file.idle_minutes_privileged)
                .unwrap_or(30),
        })
    }

    pub fn web(&self) -> web::app::WebConfig {
        web::app::WebConfig {
            secure_cookies: self.secure_cookies,
            publication_deadline_days: self.publication_deadline_days,
            api_rate_per_minute: self.api_rate_per_minute,
            idle_minutes: self.idle_minutes,
            idle_minutes_privileged: self.idle_minutes_privileged,
            demo_accounts: Vec::new(),
            trusted_proxies: self.trusted_proxies.clone(),
            metrics_from: self.metrics_from.clone(),
            mail: self.mail.clone(),
            replica: None,
            reminder_every: Some(std::time::Duration::from_secs(15 * 60)),
        }
    }

    /// The database URL without its password, for logs.
    pub fn redacted_url(&self) -> String {
        redact(&self.database_url)
    }
}

/// A database URL without its password, for logs.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            let user = creds.split(':').next().unwrap_or("");
            format!("{}{}@{}", &url[..s + 3], user, &url[at + 1..])
        }
        _ => url.to_string(),
    }
}
