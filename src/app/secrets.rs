//! Secrets handed out by the application (session cookies, CSRF tokens,
//! participant links, API tokens): random, compared in constant time, and
//! stored only as their SHA-256.

use hmac::{Hmac, KeyInit, Mac};
use rand::TryRngCore;
use sha2::{Digest, Sha256};

use crate::storage::{Db, server_secrets};

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
    // An HMAC takes a key of any length: this cannot fail.
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes a key of any length");
    mac.update(message);
    mac.finalize().into_bytes().into()
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

/// The key that seals secrets kept in the database (an interviewer's
/// calendar password): derived from the links' secret, which is never in the
/// database, so a copy of the database alone opens none of them.
fn sealing_key() -> ring::aead::LessSafeKey {
    let bytes = hmac_sha256(link_secret(), b"undercurrent-sealed-secrets");
    // A 32-byte key is what ChaCha20-Poly1305 takes: this cannot fail.
    let key = ring::aead::UnboundKey::new(&ring::aead::CHACHA20_POLY1305, &bytes).expect("a 32-byte key");
    ring::aead::LessSafeKey::new(key)
}

/// Encrypts `plain` (ChaCha20-Poly1305, a random nonce) for storage;
/// `context` (what it is and whose, e.g. `calendar-password:7`) is
/// authenticated, so a sealed value moved to another row does not open.
pub fn seal(plain: &str, context: &str) -> String {
    let mut nonce = [0u8; ring::aead::NONCE_LEN];
    rand::rngs::OsRng.try_fill_bytes(&mut nonce).expect("the operating system's random source failed");
    let mut data = plain.as_bytes().to_vec();
    sealing_key()
        .seal_in_place_append_tag(
            ring::aead::Nonce::assume_unique_for_key(nonce),
            ring::aead::Aad::from(context.as_bytes()),
            &mut data,
        )
        // Fails only for inputs of gigabytes.
        .expect("sealing a short secret");
    format!("v1:{}{}", hex(&nonce), hex(&data))
}

/// The text `seal` sealed with `context`; `None` when it was sealed under
/// another links' secret, for another context, or altered.
pub fn open_sealed(sealed: &str, context: &str) -> Option<String> {
    let raw = unhex(sealed.strip_prefix("v1:")?)?;
    if raw.len() < ring::aead::NONCE_LEN {
        return None;
    }
    let (nonce, data) = raw.split_at(ring::aead::NONCE_LEN);
    let nonce = ring::aead::Nonce::try_assume_unique_for_key(nonce).ok()?;
    let mut data = data.to_vec();
    let plain = sealing_key().open_in_place(nonce, ring::aead::Aad::from(context.as_bytes()), &mut data).ok()?.to_vec();
    String::from_utf8(plain).ok()
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len()).step_by(2).map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok()).collect()
}

/// Compares two secrets in time independent of where they differ.
pub fn same_secret(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The server's key for signing visitors' form tokens: derived from
/// `UNDERCURRENT_SECRET_KEY` when set, else generated at the first start and
/// kept in the database, so that every instance shares it.
pub async fn server_key(db: &Db) -> anyhow::Result<Vec<u8>> {
    let secret = match std::env::var("UNDERCURRENT_SECRET_KEY") {
        Ok(v) if !v.trim().is_empty() => v,
        _ => server_secrets::get_or_insert(db, "form_key", &random_token()).await?,
    };
    Ok(Sha256::digest(secret.as_bytes()).to_vec())
}

/// A fresh key for one process (tests, or before the shared one is read).
pub fn process_key() -> Vec<u8> {
    Sha256::digest(random_token().as_bytes()).to_vec()
}

fn visitor_mac(key: &[u8], nonce: &str) -> String {
    hex(&hmac_sha256(key, format!("visitor-form-token\n{nonce}").as_bytes())[..16])
}

/// A visitor's form token (the double-submit cookie of the sign-in and
/// set-up forms): 128 random bits and their HMAC under the server's key,
/// 64 hex digits, so that no one without the key can make one up.
pub fn visitor_token(key: &[u8]) -> String {
    let nonce = random_token()[..32].to_string();
    let mac = visitor_mac(key, &nonce);
    nonce + &mac
}

/// Whether `token` is one of `visitor_token`'s under `key`.
pub fn is_visitor_token(key: &[u8], token: &str) -> bool {
    if !looks_like_token(token) {
        return false;
    }
    let (nonce, mac) = token.split_at(32);
    same_secret(mac, &visitor_mac(key, nonce))
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
    fn a_sealed_secret_opens_only_in_its_context_and_unaltered() {
        let sealed = seal("s3cret password", "calendar-password:7");
        assert!(sealed.starts_with("v1:") && !sealed.contains("s3cret"));
        assert_ne!(sealed, seal("s3cret password", "calendar-password:7"), "a fresh nonce each time");
        assert_eq!(open_sealed(&sealed, "calendar-password:7").as_deref(), Some("s3cret password"));
        assert_eq!(open_sealed(&sealed, "calendar-password:8"), None);
        let mut altered = sealed.clone().into_bytes();
        let last = altered.len() - 1;
        altered[last] = if altered[last] == b'0' { b'1' } else { b'0' };
        assert_eq!(open_sealed(&String::from_utf8(altered).unwrap(), "calendar-password:7"), None);
        for junk in ["", "v1:", "v1:zz", "v1:00", "plain"] {
            assert_eq!(open_sealed(junk, "calendar-password:7"), None, "{junk}");
        }
    }

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

    #[test]
    fn visitor_tokens_carry_the_servers_signature() {
        let key = process_key();
        let token = visitor_token(&key);
        assert!(looks_like_token(&token) && is_visitor_token(&key, &token));
        assert!(!is_visitor_token(&process_key(), &token), "another server's key");
        assert!(!is_visitor_token(&key, &"a".repeat(64)));
        let mut forged = token.clone();
        forged.replace_range(..1, if token.starts_with('0') { "1" } else { "0" });
        assert!(!is_visitor_token(&key, &forged), "another nonce, the same signature");
    }
}
