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
