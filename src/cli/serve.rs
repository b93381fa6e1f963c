//! `undercurrent serve` and `undercurrent user add`.

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};

use crate::app::accounts::{CreateError, create};
use crate::app::import::{import_events, import_people};
use crate::app::outbox::Worker;
use crate::app::outreach::Outreach;
use crate::app::settings;
use crate::domain::account::Role;
use crate::ingest::source::open;
use crate::mail::transport::Mailer;
use crate::storage::{Db, accounts, dataset};
use crate::web::{AppState, session::random_token, start};

pub const DEMO_ADMIN: &str = "admin@demo.example";

/// Seeds of the demo organisation and of its study.
const DEMO_SEED: u64 = 1;

/// Fills an empty database with the demo organisation (data ending today),
/// a demo admin and, over the data, a finished study made through the app's
/// services; returns the admin's password when one was created.
pub async fn prepare_demo(db: &Db, dir: &Path, people: u32, links_base: &str) -> Result<Option<String>> {
    let fresh = dataset::totals(db).await?.people == 0;
    if fresh {
        let end = super::demo::today();
        println!("Generating the demo organisation ({people} people, 8 departments, 120 days to {end})...");
        super::demo::generate(people, 120, DEMO_SEED, dir, Some(end))?;
        settings::set(db, "timezone", super::demo::DEMO_TZ.name()).await?;
        let tz = settings::load(db).await?.timezone;
        let people = dir.join("people.csv");
        let input = open(&people.display().to_string(), std::fs::File::open(&people)?)?;
        import_people(db, input).await?;
        let events = dir.join("events.csv");
        let input = open(&events.display().to_string(), std::fs::File::open(&events)?)?;
        let summary = import_events(db, tz, input).await?;
        println!("Imported {} events.", summary.events_added);
    }
    let (admin, password) = match accounts::find_for_login(db, DEMO_ADMIN).await? {
        Some((account, _)) => (account.id, None),
        None => {
            // Long enough and mixed enough for the password policy.
            let password = format!("Demo-{}", &random_token()[..16]);
            match create(db, DEMO_ADMIN, "Demo administrator", Role::Admin, &password, None).await? {
                Ok(id) => (id, Some(password)),
                Err(e) => anyhow::bail!("creating the demo administrator: {e:?}"),
            }
        }
    };
    if fresh {
        let (outreach, _) = settings::outreach(db, links_base).await?;
        let end = crate::app::evaluate::latest_data_day(db, &settings::load(db).await?).await?;
        let s = crate::app::demo::seed_study(db, admin, &outreach, end, DEMO_SEED).await?;
        println!(
            "Made a finished study: {} invited, {} interviews, {} held out, {} survey responses.",
            s.invited, s.interviews, s.held_out, s.survey_responses
        );
    }
    Ok(password)
}

pub struct ServeOptions {
    pub bind: String,
    pub demo: bool,
    pub secure_cookies: Option<bool>,
    /// Run the outbox worker, recurring rounds and the reading of
    /// interviewers' calendars in this process.
    pub worker: bool,
    pub outbox_dir: PathBuf,
    pub upload_dir: Option<PathBuf>,
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// The links' secret file (`UNDERCURRENT_LINK_SECRET` wins).
    pub secret_file: PathBuf,
    /// How often the outbox worker looks for due messages.
    pub outbox_every: Duration,
}

pub async fn serve(db: Db, options: ServeOptions) -> Result<ExitCode> {
    let ServeOptions {
        bind,
        demo,
        secure_cookies,
        worker,
        outbox_dir,
        upload_dir,
        trusted_proxies,
        secret_file,
        outbox_every,
    } = options;
    crate::app::secrets::load_link_secret(&secret_file)?;
    let upgraded = crate::app::outbox::upgrade_link_tokens(&db).await?;
    if upgraded > 0 {
        tracing::info!(rows = upgraded, "participants' links moved to derived tokens");
    }
    let listener = TcpListener::bind(&bind).with_context(|| format!("binding {bind}"))?;
    let addr: SocketAddr = listener.local_addr()?;
    let secure = secure_cookies.unwrap_or(!addr.ip().is_loopback());
    let url =
        if addr.ip().is_unspecified() { format!("http://127.0.0.1:{}", addr.port()) } else { format!("http://{addr}") };
    let demo_password = if demo { prepare_demo(&db, Path::new("data/demo"), 1500, &url).await? } else { None };
    let first_run = accounts::count(&db).await? == 0;
    // Links in e-mails: `public_url`, else the address bound to, unless
    // that is unspecified (0.0.0.0 says nothing participants could reach).
    let configured = (!addr.ip().is_unspecified()).then(|| url.clone());
    let base = settings::links_base(&db, configured.as_deref()).await?;
    let (outreach, smtp) = settings::outreach(&db, base.as_deref().unwrap_or("about:invalid")).await?;
    let mailer = Arc::new(Mailer::new(smtp.as_deref(), &outbox_dir)?);
    let mut state = AppState::new(db.clone(), secure);
    state.mail_description = Arc::from(mailer.describe());
    state.mail_to_folder = mailer.is_folder();
    if let Some(dir) = upload_dir {
        std::fs::create_dir_all(&dir).with_context(|| format!("creating the upload folder {}", dir.display()))?;
        state.upload_dir = Arc::from(dir);
    }
    state.trusted_proxies = Arc::from(trusted_proxies);
    state.form_key = Arc::from(crate::app::secrets::server_key(&db).await?);
    state.base_url = configured.map(Arc::from);
    let wake = state.outbox.clone();
    let cache = state.cache.clone();
    let server = start(state, listener)?;
    if worker {
        // The default view's results, unless stored for the data and
        // settings as they are (then the first page reads them).
        cache.refresh(db.clone());
        start_background_work(db, mailer.clone(), outreach.clone(), outbox_every, wake);
    }
    println!("Undercurrent is running at {url}/");
    if base.is_none() {
        println!(
            "Links in e-mails: unknown (bound to an unspecified address); set public_url or UNDERCURRENT_PUBLIC_URL to send invitations."
        );
    }
    println!("E-mail: {}{}", mailer.describe(), if worker { "" } else { " (no worker in this process)" });
    if demo {
        match demo_password {
            Some(p) => println!("Demo sign-in: {DEMO_ADMIN} / {p}"),
            None => println!(
                "Demo sign-in: {DEMO_ADMIN} (password as printed on the first demo start; reset with `undercurrent user add --email {DEMO_ADMIN} --role admin`)"
            ),
        }
    } else if first_run {
        println!("No account yet: open {url}/setup to create the first administrator.");
    }
    server.await?;
    Ok(ExitCode::SUCCESS)
}

/// What an instance with the worker runs beside the pages: interviewers'
/// calendars, retention, the outbox.
fn start_background_work(
    db: Db,
    mailer: Arc<Mailer>,
    outreach: Outreach,
    outbox_every: Duration,
    wake: Arc<tokio::sync::Notify>,
) {
    // Interviewers' own calendars, read every quarter hour.
    let calendars = crate::app::interviewer_calendar::run(db.clone(), crate::app::interviewer_calendar::REFRESH_EVERY);
    tokio::spawn(calendars);
    // Raw events past `retention.days`, deleted in short batches.
    tokio::spawn(crate::app::retention::background(db.clone(), crate::app::retention::EVERY));
    let from = outreach.from.clone();
    let worker = Worker { db, mailer, name: format!("{}-{}", std::process::id(), &random_token()[..8]), from };
    tokio::spawn(worker.run(outreach, outbox_every, wake));
}

/// Creates an account from the shell; the password comes from the
/// UNDERCURRENT_PASSWORD variable or is generated and printed.
pub async fn add_user(db: &Db, email: &str, name: &str, role: &str) -> Result<ExitCode> {
    let Some(role) = Role::parse(role) else {
        eprintln!("error: unknown role `{role}`; expected admin, researcher, analyst or manager");
        return Ok(ExitCode::FAILURE);
    };
    let (password, generated) = match std::env::var("UNDERCURRENT_PASSWORD") {
        Ok(p) if !p.is_empty() => (p, false),
        _ => (format!("Uc-{}", &random_token()[..18]), true),
    };
    match create(db, email, name, role, &password, None).await? {
        Ok(_) => {
            println!("Created {role} account {}.", email.trim().to_lowercase());
            if generated {
                println!("Password: {password}");
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(CreateError::Email(m)) => {
            eprintln!("error: {m}");
            Ok(ExitCode::FAILURE)
        }
        Err(CreateError::Password(key)) => {
            eprintln!(
                "error: the password does not meet the policy ({key}): at least 10 characters, two kinds of characters"
            );
            Ok(ExitCode::FAILURE)
        }
        Err(CreateError::Taken) => {
            eprintln!("error: an account with this e-mail already exists");
            Ok(ExitCode::FAILURE)
        }
    }
}
