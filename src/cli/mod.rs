//! The command line: parses arguments and calls the application services.
//! Each subcommand has its own file.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use chrono::NaiveDate;
use clap::{Parser, Subcommand, ValueEnum};

use crate::ingest::vendor::DateOrder;
use crate::storage::{DEFAULT_DATABASE_URL, Db};

mod backup;
pub mod demo;
mod import;
mod metrics;
mod oidc;
mod retention;
pub mod serve;
mod settings;

#[derive(Parser, Debug)]
#[command(name = "undercurrent", version, about = "Finds the real activity under a messaging tool's login rate")]
pub struct Cli {
    /// Database URL: sqlite://PATH or postgres://USER@HOST/DB. Overrides DATABASE_URL.
    #[arg(long, global = true)]
    pub database_url: Option<String>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Apply database migrations (they also run on every start).
    Migrate,
    /// Copy the SQLite database to FILE, consistently, while it is in use (PostgreSQL: pg_dump).
    Backup { file: PathBuf },
    /// Replace the SQLite database with a backup (stop the server first; PostgreSQL: pg_restore).
    Restore { file: PathBuf },
    /// Import a directory or event files.
    Import(ImportArgs),
    /// Read and change organisation settings.
    #[command(subcommand)]
    Settings(SettingsCommand),
    /// Per-person metrics and headline figures.
    #[command(subcommand)]
    Metrics(MetricsCommand),
    /// Synthetic demo data.
    #[command(subcommand)]
    Demo(DemoCommand),
    /// Apply the retention setting (`retention.days`): delete older raw events.
    #[command(subcommand)]
    Retention(RetentionCommand),
    /// Run the web application.
    Serve {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8080")]
        bind: String,
        /// Start with a generated demo organisation and a demo administrator (on an empty database).
        #[arg(long)]
        demo: bool,
        /// Mark cookies Secure (default: on unless listening on a loopback address; set it when TLS ends at a proxy).
        #[arg(long)]
        secure_cookies: Option<bool>,
        /// Serve pages only: no outbox worker and no recurring rounds here (another instance runs them).
        #[arg(long)]
        no_worker: bool,
        /// Where e-mail is written as .eml files when no SMTP server is configured.
        #[arg(long, default_value = "data/outbox")]
        outbox_dir: std::path::PathBuf,
        /// Where uploads wait while they are imported (default: the system's temporary folder). With several
        /// instances, a folder they all share, so that a column mapping started on one can finish on another.
        #[arg(long, env = "UNDERCURRENT_UPLOAD_DIR")]
        upload_dir: Option<std::path::PathBuf>,
        /// Addresses of reverse proxies whose X-Forwarded-For header names the client (comma-separated), for
        /// sign-in throttling and the audit log.
        #[arg(long, env = "UNDERCURRENT_TRUSTED_PROXIES", value_delimiter = ',')]
        trusted_proxies: Vec<std::net::IpAddr>,
        /// The file holding the secret participants' link tokens are derived from (created, mode 0600, on first
        /// start). UNDERCURRENT_LINK_SECRET (at least 32 characters) wins; several instances must share it.
        #[arg(long, default_value = "data/link-secret")]
        secret_file: std::path::PathBuf,
        /// How often the outbox worker looks for due messages, in milliseconds (a queued message also wakes it).
        #[arg(long, default_value_t = 5000, value_parser = clap::value_parser!(u64).range(10..))]
        outbox_poll_ms: u64,
    },
    /// Accounts that sign in to the web application.
    #[command(subcommand)]
    User(UserCommand),
    /// OpenID Connect identity providers people sign in with.
    #[command(subcommand)]
    Oidc(OidcCommand),
}

#[derive(Subcommand, Debug)]
pub enum OidcCommand {
    /// Add a provider, or change the one with this short name. The client secret is read from
    /// UNDERCURRENT_OIDC_SECRET (sealed when stored, never shown), or named with --client-secret-env.
    Add(OidcAddArgs),
    /// The providers, without their secrets.
    List,
    /// Remove a provider (its accounts stay).
    Remove { slug: String },
    /// Turn local passwords on or off; off keeps them for the --break-glass accounts.
    Passwords {
        /// on or off.
        state: String,
        #[arg(long = "break-glass", value_name = "EMAIL")]
        break_glass: Vec<String>,
    },
}

#[derive(clap::Args, Debug)]
pub struct OidcAddArgs {
    /// Short name, part of the redirect URI: /auth/oidc/SLUG/callback.
    pub slug: String,
    #[arg(long)]
    pub issuer: String,
    #[arg(long)]
    pub client_id: String,
    /// The name on the sign-in button.
    #[arg(long)]
    pub name: String,
    /// Read the client secret from this environment variable of the server at each sign-in.
    #[arg(long)]
    pub client_secret_env: Option<String>,
    #[arg(long, default_value = "openid email profile")]
    pub scopes: String,
    /// Create an account at a person's first sign-in.
    #[arg(long)]
    pub jit: bool,
    /// Take the e-mail claim as verified without email_verified (Entra ID, Feishu): only for a provider that
    /// owns the e-mail domain.
    #[arg(long)]
    pub trust_email: bool,
    #[arg(long, default_value = "groups")]
    pub groups_claim: String,
    /// GROUP=ROLE, repeated; the first group the person is in gives the role.
    #[arg(long, value_name = "GROUP=ROLE")]
    pub map: Vec<String>,
    /// The role when no group maps, or `refuse`.
    #[arg(long, default_value = "manager")]
    pub unmapped: String,
}

#[derive(Subcommand, Debug)]
pub enum UserCommand {
    /// Create an account. The password is read from UNDERCURRENT_PASSWORD, or generated and printed.
    Add {
        #[arg(long)]
        email: String,
        /// admin, researcher, analyst or manager.
        #[arg(long)]
        role: String,
        #[arg(long, default_value = "")]
        name: String,
    },
}

/// `--date-order`: `day-first` or `month-first`.
fn date_order(text: &str) -> Result<DateOrder, String> {
    DateOrder::parse(text).ok_or_else(|| format!("`{text}` is not a date order; expected day-first or month-first"))
}

/// `undercurrent import [--encoding NAME] KIND FILES...`: what every import
/// subcommand shares.
#[derive(clap::Args, Debug)]
pub struct ImportArgs {
    /// Read the files in this encoding instead of detecting it: utf-8, gbk, gb18030, big5, utf-16le,
    /// utf-16be, windows-1252, shift_jis or any other name encoding_rs knows.
    #[arg(long, global = true, value_name = "NAME", value_parser = encoding_arg)]
    pub encoding: Option<&'static encoding_rs::Encoding>,
    #[command(subcommand)]
    pub command: ImportCommand,
}

fn encoding_arg(label: &str) -> Result<&'static encoding_rs::Encoding, String> {
    crate::ingest::source::parse_encoding(label)?.ok_or_else(|| "name an encoding, e.g. gbk".to_string())
}

#[derive(Subcommand, Debug)]
pub enum ImportCommand {
    /// Import a directory CSV (user_id required; name, email, department, title, location, start_date; other columns kept as attributes).
    People {
        file: PathBuf,
        /// Read the file through the saved column mapping preset NAME (any CSV layout).
        #[arg(long, value_name = "NAME")]
        mapping: Option<String>,
    },
    /// Import event files: CSV or NDJSON, optionally gzipped. Each file is all-or-nothing.
    Events {
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Read the files (CSV) through the saved column mapping preset NAME, e.g. a DingTalk or WeCom export.
        #[arg(long, value_name = "NAME")]
        mapping: Option<String>,
    },
    /// Import Microsoft Teams user activity user detail exports (CSV).
    Teams {
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// The day a daily report (Report Period 1) is for, as YYYY-MM-DD..YYYY-MM-DD (the same day twice), when the
        /// file name does not carry it.
        #[arg(long)]
        period: Option<String>,
        /// How to read slashed dates such as 5/6/2025 when the file does not show it: day-first or month-first.
        #[arg(long, value_name = "ORDER", value_parser = date_order)]
        date_order: Option<DateOrder>,
    },
    /// Import Slack member analytics: the dashboard CSV or admin.analytics.getFile NDJSON(.gz).
    Slack {
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// The dashboard export's period, YYYY-MM-DD..YYYY-MM-DD, when the file name does not carry it.
        #[arg(long)]
        period: Option<String>,
        /// How to read slashed dates such as 5/6/2025 when the file does not show it: day-first or month-first.
        #[arg(long, value_name = "ORDER", value_parser = date_order)]
        date_order: Option<DateOrder>,
    },
    /// Import Feishu / Lark admin_user_stats rows (NDJSON or a JSON array).
    Feishu {
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// How to read slashed dates such as 5/6/2025 when the file does not show it: day-first or month-first.
        #[arg(long, value_name = "ORDER", value_parser = date_order)]
        date_order: Option<DateOrder>,
    },
    /// Import Google Workspace user usage reports (chat parameters).
    GoogleChat {
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// How to read slashed dates such as 5/6/2025 when the file does not show it: day-first or month-first.
        #[arg(long, value_name = "ORDER", value_parser = date_order)]
        date_order: Option<DateOrder>,
    },
    /// Import a Mattermost bulk export (the ZIP `mmctl export create` writes, or the .jsonl inside it, optionally
    /// gzipped): posts, replies, reactions and files as events.
    Mattermost {
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Import a Mattermost audit log (JSON lines): sign-ins and sign-outs, audited posts and file uploads.
    MattermostAudit {
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Import a Zulip export (the .tar.gz of `./manage.py export`): messages and presence intervals.
    Zulip {
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Import the Microsoft 365 unified audit log exported from Purview (CSV): Teams sign-ins, messages, meetings.
    M365Audit {
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Import Slack workspace exports (the ZIP from Settings, Export data): messages, threads and files, as events.
    SlackExport {
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Import Slack audit logs (Audit Logs API entries: the API's JSON, a JSON array or NDJSON, maybe gzipped):
    /// logins, logouts and files, as events.
    SlackAudit {
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Import platform exports, recognising Teams user activity, Slack, Feishu or Google Chat by each report's own
    /// columns (CSV header or JSON keys, raw API responses included); a Slack workspace export by its ZIP, a Slack
    /// audit log by its entries, and the Mattermost export and audit log, the Zulip export and the Microsoft 365
    /// unified audit log by their content; other reports are refused.
    Auto {
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// A Slack dashboard export's period, YYYY-MM-DD..YYYY-MM-DD, when the file name does not carry it; for a Teams
        /// daily report (Report Period 1), its day, the same day twice.
        #[arg(long)]
        period: Option<String>,
        /// How to read slashed dates such as 5/6/2025 when the file does not show it: day-first or month-first.
        #[arg(long, value_name = "ORDER", value_parser = date_order)]
        date_order: Option<DateOrder>,
    },
}

#[derive(Subcommand, Debug)]
pub enum SettingsCommand {
    /// Set a setting (see `settings list`).
    Set { key: String, value: String },
    /// Print a setting's value in force.
    Get { key: String },
    /// Return a setting to its default.
    Unset { key: String },
    /// Every setting with its value in force.
    List,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum ExportFormat {
    Csv,
    Json,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum SummaryFormat {
    Text,
    Json,
}

#[derive(Subcommand, Debug)]
pub enum MetricsCommand {
    /// One row per listed person (spec section 7 columns, then department and the profile's indicators).
    Export {
        /// As-of date YYYY-MM-DD (default: the latest day with data).
        #[arg(long)]
        as_of: Option<NaiveDate>,
        /// Window in days (default: the profile's).
        #[arg(long)]
        window: Option<u32>,
        #[arg(long, value_enum, default_value = "csv")]
        format: ExportFormat,
        /// Write here instead of standard output.
        #[arg(long)]
        output: Option<PathBuf>,
    },
    /// Headline figures (login rate, deep rate, gap) and tier counts, overall and by department.
    Summary {
        #[arg(long)]
        as_of: Option<NaiveDate>,
        #[arg(long)]
        window: Option<u32>,
        #[arg(long, value_enum, default_value = "text")]
        format: SummaryFormat,
    },
}

#[derive(Subcommand, Debug)]
pub enum RetentionCommand {
    /// Delete raw events older than `retention.days`, in batches; facts, people and history stay.
    Run {
        /// Events deleted per transaction.
        #[arg(long, default_value_t = crate::app::retention::DEFAULT_BATCH)]
        batch_size: i64,
        /// Count the days kept back from this date instead of today (YYYY-MM-DD).
        #[arg(long)]
        today: Option<NaiveDate>,
    },
}

#[derive(Subcommand, Debug)]
pub enum DemoCommand {
    /// Write a synthetic organisation (people.csv, events.csv) to a folder.
    Generate {
        #[arg(long, default_value_t = 1500)]
        people: u32,
        #[arg(long, default_value_t = 120)]
        days: u32,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        #[arg(long)]
        out: PathBuf,
        /// Last day of data (default: today in the demo's time zone, Asia/Shanghai).
        #[arg(long)]
        end: Option<NaiveDate>,
    },
}

/// The database URL: the flag, else DATABASE_URL, else the embedded default.
pub fn database_url(flag: Option<&str>) -> String {
    flag.map(str::to_string)
        .or_else(|| std::env::var("DATABASE_URL").ok().filter(|s| !s.is_empty()))
        .unwrap_or_else(|| DEFAULT_DATABASE_URL.to_string())
}

pub async fn run(cli: Cli) -> Result<ExitCode> {
    if let Command::Demo(DemoCommand::Generate { people, days, seed, out, end }) = &cli.command {
        demo::generate(*people, *days, *seed, out, *end)?;
        return Ok(ExitCode::SUCCESS);
    }
    let url = database_url(cli.database_url.as_deref());
    match &cli.command {
        Command::Backup { file } => return backup::backup(&url, file).await,
        Command::Restore { file } => return backup::restore(&url, file).await,
        _ => {}
    }
    let db = Db::connect(&url).await?;
    let code = match cli.command {
        Command::Migrate => {
            println!("Database is up to date ({}).", db.backend());
            ExitCode::SUCCESS
        }
        Command::Import(args) => import::run(&db, args.command, args.encoding).await?,
        Command::Settings(cmd) => settings::run(&db, cmd).await?,
        Command::Metrics(cmd) => metrics::run(&db, cmd).await?,
        Command::Retention(cmd) => retention::run(&db, cmd).await?,
        Command::Demo(_) | Command::Backup { .. } | Command::Restore { .. } => ExitCode::SUCCESS,
        Command::Serve {
            bind,
            demo,
            secure_cookies,
            no_worker,
            outbox_dir,
            upload_dir,
            trusted_proxies,
            secret_file,
            outbox_poll_ms,
        } => {
            let options = serve::ServeOptions {
                bind,
                demo,
                secure_cookies,
                worker: !no_worker,
                outbox_dir,
                upload_dir,
                trusted_proxies,
                secret_file,
                outbox_every: std::time::Duration::from_millis(outbox_poll_ms),
            };
            return serve::serve(db, options).await;
        }
        Command::User(UserCommand::Add { email, role, name }) => serve::add_user(&db, &email, &name, &role).await?,
        Command::Oidc(cmd) => oidc::run(&db, cmd).await?,
    };
    db.close().await;
    Ok(code)
}
