//! How a message leaves: the MIME structure calendars understand, and the
//! two ways out (an SMTP server, or the outbox folder when none is set).
//! Errors say whether trying again later can help, which is what the
//! outbox worker needs to know.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};
use lettre::message::header::ContentType;
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use super::Outgoing;
use super::ics::CalendarPart;

/// How long to wait for the TCP (and TLS) connection to an SMTP server.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(20);
/// How long a whole SMTP conversation, connection included, may take.
/// lettre's async transport bounds only the connection, so a server that
/// accepts and then says nothing would otherwise hold the worker for ever.
const SEND_TIMEOUT: Duration = Duration::from_secs(20);

/// Where messages go: built once from the settings, shared by the outbox
/// worker. SMTP connections are not pooled: each message gets its own, so a
/// restarted server needs no reconnect logic.
pub enum Mailer {
    Smtp { transport: AsyncSmtpTransport<Tokio1Executor>, description: String },
    Folder { transport: AsyncFileTransport<Tokio1Executor>, dir: PathBuf },
}

/// Why a message was not delivered, sorted by what the worker should do.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// The message itself is wrong (a bad address, say): sending it again
    /// cannot help.
    #[error("the message cannot be built: {0}")]
    Build(String),
    /// Delivery failed; `permanent` for an SMTP 5xx answer, otherwise
    /// (no connection, a 4xx answer, no answer in time) worth a retry.
    #[error("{}: {message}", if *permanent { "delivery refused" } else { "delivery failed for now" })]
    Transport { permanent: bool, message: String },
}

impl SendError {
    /// Whether retrying the same message can never succeed.
    pub fn is_permanent(&self) -> bool {
        match self {
            SendError::Build(_) => true,
            SendError::Transport { permanent, .. } => *permanent,
        }
    }
}

impl Mailer {
    /// `smtp_url` like lettre's `from_url`: `smtp://host:port` (plain, for a
    /// local relay), `smtp://user:pass@host:587?tls=required` (STARTTLS),
    /// `smtps://host:465` (implicit TLS); `None` (or an empty string): the
    /// outbox folder `dir` (created if missing), where each message lands as
    /// an `.eml` file.
    pub fn new(smtp_url: Option<&str>, dir: &Path) -> anyhow::Result<Mailer> {
        match smtp_url.map(str::trim).filter(|url| !url.is_empty()) {
            Some(url) => {
                let description = describe_url(url)?;
                // lettre's errors name no part of the URL, so no password.
                let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                    .with_context(|| format!("the SMTP URL for {description}"))?
                    .timeout(Some(CONNECT_TIMEOUT))
                    .build();
                Ok(Mailer::Smtp { transport, description })
            }
            None => {
                std::fs::create_dir_all(dir)
                    .with_context(|| format!("creating the outbox folder {}", dir.display()))?;
                private_dir(dir).with_context(|| format!("restricting the outbox folder {}", dir.display()))?;
                Ok(Mailer::Folder { transport: AsyncFileTransport::new(dir), dir: dir.to_path_buf() })
            }
        }
    }

    pub fn is_folder(&self) -> bool {
        matches!(self, Mailer::Folder { .. })
    }

    /// For the UI and logs: host, port and TLS mode, never the password; or
    /// the folder path.
    pub fn describe(&self) -> String {
        match self {
            Mailer::Smtp { description, .. } => description.clone(),
            Mailer::Folder { dir, .. } => format!("outbox folder {}", dir.display()),
        }
    }

    pub async fn send(&self, msg: &Outgoing) -> Result<(), SendError> {
        let message = build(msg)?;
        match self {
            Mailer::Smtp { transport, description } => {
                match tokio::time::timeout(SEND_TIMEOUT, transport.send(message)).await {
                    Ok(Ok(_response)) => Ok(()),
                    Ok(Err(e)) => Err(SendError::Transport {
                        permanent: e.is_permanent(),
                        message: format!("{description}: {e}"),
                    }),
                    Err(_elapsed) => Err(SendError::Transport {
                        permanent: false,
                        message: format!("{description}: no answer within {} s", SEND_TIMEOUT.as_secs()),
                    }),
                }
            }
            Mailer::Folder { transport, dir } => {
                let failed = |e: &dyn fmt::Display| SendError::Transport {
                    permanent: false,
                    message: format!("writing to {}: {e}", dir.display()),
                };
                let id = transport.send(message).await.map_err(|e| failed(&e))?;
                // Messages carry participants' links: readable by this user only.
                private(&dir.join(format!("{id}.eml"))).map_err(|e| failed(&e))
            }
        }
    }
}

/// Makes a written message readable and writable by its owner only (0600).
fn private(path: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

/// The outbox folder: its owner only may list or enter it (0700).
fn private_dir(path: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o700))?;
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

/// By hand, so that the transport's credentials never reach a log.
impl fmt::Debug for Mailer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Mailer({})", self.describe())
    }
}

/// The MIME message. With a calendar: multipart/mixed holding a
/// multipart/alternative (the text, then the calendar as
/// `text/calendar; method=...`, which is what makes mail programs show an
/// invitation) and the same calendar as an `invite.ics` attachment, for
/// those that only import files. Without: plain text.
pub fn build(msg: &Outgoing) -> Result<Message, SendError> {
    let from: Mailbox = msg.from.parse().map_err(|e| SendError::Build(format!("sender {:?}: {e}", msg.from)))?;
    let to: Mailbox = msg.to.parse().map_err(|e| SendError::Build(format!("recipient {:?}: {e}", msg.to)))?;
    check_message_id(&msg.message_id)?;
    let builder = Message::builder().message_id(Some(msg.message_id.clone())).from(from).to(to).subject(&msg.subject);
    let text = SinglePart::plain(msg.text.clone());
    let built = match &msg.calendar {
        None => builder.singlepart(text),
        Some(calendar) => builder.multipart(
            MultiPart::mixed()
                .multipart(MultiPart::alternative().singlepart(text).singlepart(calendar_part(calendar)?))
                .singlepart(
                    Attachment::new("invite.ics".to_owned())
                        .body(calendar.text.clone(), content_type("application/ics; name=\"invite.ics\"")?),
                ),
        ),
    };
    built.map_err(|e| SendError::Build(e.to_string()))
}

fn calendar_part(calendar: &CalendarPart) -> Result<SinglePart, SendError> {
    let mime = format!("text/calendar; charset=UTF-8; method={}", calendar.method.as_str());
    Ok(SinglePart::builder().header(content_type(&mime)?).body(calendar.text.clone()))
}

fn content_type(mime: &str) -> Result<ContentType, SendError> {
    ContentType::parse(mime).map_err(|e| SendError::Build(format!("content type {mime}: {e}")))
}

/// `<left@right>` with nothing that could break the header.
fn check_message_id(id: &str) -> Result<(), SendError> {
    let inner = id.strip_prefix('<').and_then(|rest| rest.strip_suffix('>'));
    let ok = inner.is_some_and(|inner| {
        inner.split_once('@').is_some_and(|(left, right)| !left.is_empty() && !right.is_empty())
            && inner.chars().all(|c| c.is_ascii_graphic() && !matches!(c, '<' | '>'))
    });
    if ok { Ok(()) } else { Err(SendError::Build(format!("Message-ID {id:?} is not like <left@right>"))) }
}

/// "SMTP host:port (TLS mode)" from the URL, without the user or password;
/// refuses what lettre's `from_url` would not understand.
fn describe_url(url: &str) -> anyhow::Result<String> {
    let Some((scheme, rest)) = url.split_once("://") else {
        bail!(
            "an SMTP URL looks like smtp://host:port, smtp://user:password@host:587?tls=required or smtps://host:465"
        );
    };
    let (location, query) = rest.split_once('?').unwrap_or((rest, ""));
    let authority = location.split('/').next().unwrap_or_default();
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, host_port)| host_port);
    let tls = query.split('&').find_map(|pair| pair.strip_prefix("tls="));
    let (mode, default_port) = match (scheme, tls) {
        ("smtp", None) => ("no TLS", 25),
        ("smtp", Some("required")) => ("STARTTLS", 587),
        ("smtp", Some("opportunistic")) => ("STARTTLS if offered", 587),
        ("smtps", _) => ("implicit TLS", 465),
        _ => bail!(
            "unknown SMTP scheme {scheme:?} or tls mode {tls:?}: use smtp://, smtp://...?tls=required or smtps://"
        ),
    };
    let has_port = host_port
        .rsplit_once(':')
        .is_some_and(|(_, port)| !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()));
    if host_port.is_empty() || host_port.starts_with(':') {
        bail!("the SMTP URL has no host");
    }
    Ok(if has_port {
        format!("SMTP {host_port} ({mode})")
    } else {
        format!("SMTP {host_port}:{default_port} ({mode})")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptions_name_host_port_and_tls_but_no_credentials() {
        let cases = [
            ("smtp://127.0.0.1:2525", "SMTP 127.0.0.1:2525 (no TLS)"),
            ("smtp://bob:s3cret@mail.example.com?tls=required", "SMTP mail.example.com:587 (STARTTLS)"),
            (
                "smtp://bob:s3cret@mail.example.com:2587/?tls=opportunistic",
                "SMTP mail.example.com:2587 (STARTTLS if offered)",
            ),
            ("smtps://bob%40example.com:p%3Aw@mail.example.com", "SMTP mail.example.com:465 (implicit TLS)"),
            ("smtp://[::1]", "SMTP [::1]:25 (no TLS)"),
        ];
        for (url, expected) in cases {
            assert_eq!(describe_url(url).unwrap(), expected, "{url}");
        }
        for bad in ["mail.example.com", "http://mail.example.com", "smtp://host?tls=maybe", "smtp://:25"] {
            assert!(describe_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn message_ids_must_be_angle_addr_without_spaces() {
        assert!(check_message_id("<outbox-42.abcd@undercurrent>").is_ok());
        for bad in ["outbox-42@undercurrent", "<outbox 42@undercurrent>", "<x@y>\r\nBcc: z@w", "<@y>", "<x@>", "<xy>"] {
            assert!(check_message_id(bad).is_err(), "{bad:?}");
        }
    }
}
