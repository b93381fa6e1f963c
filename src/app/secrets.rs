//! Secrets handed out by the application (session cookies, CSRF tokens,
//! participant links, API tokens): random, compared in constant time, and
//! stored only as their SHA-256.

use rand::TryRngCore;
use sha2::{Digest, Sha256};

/// 256 random bits from the operating system, as hex.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.try_fill_bytes(&mut bytes).expect("the operating system's random source failed");
    hex(&bytes)
}

/// Whether a text has the shape of `random_token`'s output (checked before
/// any lookup, so that junk never reaches the database).
pub fn looks_like_token(token: &str) -> bool {
    token.len() == 64 && token.bytes().all(|b| b.is_ascii_hexdigit())
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn token_hash(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

/// HMAC-SHA256 (RFC 2104).
pub fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    let mut block = [0u8; 64];
    if key.len() > 64 {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let pad = |byte: u8| block.map(|b| b ^ byte);
    let inner = Sha256::new().chain_update(pad(0x36)).chain_update(message).finalize();
    Sha256::new().chain_update(pad(0x5c)).chain_update(inner).finalize().into()
}

static LINK_SECRET: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();

/// The environment variable holding the secret that participants' link
/// tokens are derived from (it wins over the secret file).
pub const LINK_SECRET_ENV: &str = "UNDERCURRENT_LINK_SECRET";

fn secret_from_env() -> Option<Vec<u8>> {
    std::env::var(LINK_SECRET_ENV).ok().map(|v| v.trim().as_bytes().to_vec()).filter(|v| v.len() >= 32)
}

/// Loads the links' secret for this process: `UNDERCURRENT_LINK_SECRET`
/// (at least 32 characters), else the file `path`, created with 256 random
/// bits and mode 0600 on first use. Several instances serving one database
/// must share it (the same variable, or a copy of the file). Never stored in
/// the database: a copy of the database alone opens no participant's link.
pub fn load_link_secret(path: &std::path::Path) -> anyhow::Result<&'static str> {
    use anyhow::Context;
    let (secret, from) = match secret_from_env() {
        Some(s) => (s, LINK_SECRET_ENV),
        None => {
            (read_or_create_secret(path).with_context(|| format!("the link secret file {}", path.display()))?, "file")
        }
    };
    let _ = LINK_SECRET.set(secret);
    Ok(from)
}

fn read_or_create_secret(path: &std::path::Path) -> std::io::Result<Vec<u8>> {
    if let Ok(text) = std::fs::read_to_string(path) {
        let text = text.trim();
        if text.len() >= 32 {
            return Ok(text.as_bytes().to_vec());
        }
        return Err(std::io::Error::other("it holds fewer than 32 characters"));
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    // Written aside, then linked into place: two processes starting at once
    // end up with the same secret (the second link fails and reads it).
    let aside = path.with_extension(format!("tmp{}", std::process::id()));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    {
        use std::io::Write;
        let mut f = options.open(&aside)?;
        f.write_all(random_token().as_bytes())?;
        f.sync_all()?;
    }
    let linked = std::fs::hard_link(&aside, path);
    let _ = std::fs::remove_file(&aside);
    match linked {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(e),
    }
    Ok(std::fs::read_to_string(path)?.trim().as_bytes().to_vec())
}

/// The links' secret: as loaded by `load_link_secret`, else from the
/// environment, else (a process that never loaded one, such as a test)
/// random for this process.
fn link_secret() -> &'static [u8] {
    LINK_SECRET.get_or_init(|| secret_from_env().unwrap_or_else(|| random_token().into_bytes()))
}

/// The token of a participant's link, derived from the secret: `kind` is
/// `i` (an invitation's booking page), `o` (its opt-out link) or `s` (a
/// survey invitation), `id` the row it opens. Only its hash is stored; the
/// outbox keeps a placeholder (`link_placeholder`) rendered when sending.
pub fn link_token(kind: &str, id: i64) -> String {
    hex(&hmac_sha256(link_secret(), format!("undercurrent-link:{kind}:{id}").as_bytes()))
}

/// What queued messages hold instead of a link's token.
pub fn link_placeholder(kind: &str, id: i64) -> String {
    format!("{{{{link-token:{kind}:{id}}}}}")
}

/// Compares two secrets in time independent of where they differ.
pub fn same_secret(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// An e-mail address as logs and lists may show it: the first letter and
/// the domain (`p…@corp.example`).
pub fn mask_email(email: &str) -> String {
    match email.split_once('@') {
        Some((local, domain)) => format!("{}…@{domain}", local.chars().next().unwrap_or('?')),
        None => "…".into(),
    }
}

/// Masks every e-mail address in a text (an SMTP server's answer often
/// quotes the recipient), so that logs carry no personal data.
pub fn mask_emails(text: &str) -> String {
    text.split_inclusive(|c: char| c.is_whitespace() || "<>,;\"'()[]".contains(c))
        .map(|part| {
            let end = part.len()
                - part
                    .chars()
                    .last()
                    .filter(|c| c.is_whitespace() || "<>,;\"'()[]".contains(*c))
                    .map_or(0, char::len_utf8);
            let (word, tail) = part.split_at(end);
            if word.contains('@') && word.split_once('@').is_some_and(|(l, d)| !l.is_empty() && d.contains('.')) {
                format!("{}{tail}", mask_email(word))
            } else {
                part.to_string()
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_matches_rfc_4231() {
        // Test case 2 of RFC 4231.
        let mac = hmac_sha256(b"Jefe", b"what do ya want for nothing?");
        assert_eq!(hex(&mac), "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
        assert_eq!(link_placeholder("i", 42), "{{link-token:i:42}}");
        assert!(looks_like_token(&link_token("i", 42)));
        assert_ne!(link_token("i", 42), link_token("o", 42));
    }

    #[test]
    fn addresses_are_masked_wherever_they_appear() {
        assert_eq!(mask_email("p000@corp.example"), "p…@corp.example");
        assert_eq!(
            mask_emails("550 5.1.1 <p000@corp.example>: Recipient address rejected, ask bob.smith@x.org"),
            "550 5.1.1 <p…@corp.example>: Recipient address rejected, ask b…@x.org"
        );
        assert_eq!(mask_emails("no address here @ all"), "no address here @ all");
        assert!(same_secret("abc", "abc") && !same_secret("abc", "abd"));
    }
}
