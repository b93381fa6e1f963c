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
    // An HMAC accepts a key of any length, so this cannot fail.
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key) else { return String::new() };
    mac.update(b"visitor-form-token\n");
    mac.update(nonce.as_bytes());
    hex(&mac.finalize().into_bytes()[..16])
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
