//! The sign-in throttle. Each attempt on an account is counted in the
//! database *before* its password is checked, so that parallel guesses,
//! on one instance or several, get no more checks than the limit allows:
//! after `MAX_FAILURES` failures in `THROTTLE_SECONDS` the account refuses
//! every password until the window ends. An address is never locked out
//! (behind a proxy or an office NAT one address is everyone); instead each
//! failure of one account from one address doubles the wait before that
//! pair may try again, which slows a guesser and leaves the colleague who
//! knows their password alone. Keys are hashed, so the table holds no
//! e-mail or address in the clear.

use anyhow::Result;

use crate::app::secrets::token_hash;
use crate::storage::{Db, sign_in_throttle as store};

/// Failed attempts allowed per account in `THROTTLE_SECONDS`.
pub const MAX_FAILURES: i64 = 5;
pub const THROTTLE_SECONDS: i64 = 15 * 60;
/// How long an account and address pair's failures are remembered...
pub const PAIR_WINDOW_SECONDS: i64 = 24 * 3600;
/// ...and the longest wait they impose.
pub const MAX_PAIR_DELAY_SECONDS: i64 = 3600;

/// Whether an attempt may have its password checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attempt {
    /// Counted; report the outcome with `succeeded` or `failed`.
    Allowed,
    /// This address failed on this account moments ago: wait a little.
    SlowDown,
    /// The account has used up its failures for now.
    Locked,
}

fn account_key(email: &str) -> String {
    format!("account:{}", token_hash(email))
}

fn pair_key(email: &str, address: &str) -> String {
    format!("pair:{}", token_hash(&format!("{email}\n{address}")))
}

/// The wait after a pair's `failures`-th failure: 1, 2, 4... seconds.
pub fn pair_delay(failures: i64) -> i64 {
    if failures <= 0 { 0 } else { (1i64 << (failures - 1).min(20)).min(MAX_PAIR_DELAY_SECONDS) }
}

/// Counts an attempt to sign in to `email` (or to confirm its password)
/// from `address` (`None`: the address does not matter, as for a signed-in
/// account).
pub async fn begin(db: &Db, email: &str, address: Option<&str>, now: i64) -> Result<Attempt> {
    if let Some(address) = address
        && store::not_before(db, &pair_key(email, address), now - PAIR_WINDOW_SECONDS).await? > now
    {
        return Ok(Attempt::SlowDown);
    }
    let (attempts, _) = store::count(db, &account_key(email), now, now - THROTTLE_SECONDS).await?;
    Ok(if attempts > MAX_FAILURES { Attempt::Locked } else { Attempt::Allowed })
}

/// The password was right: the attempt is given back and the pair's
/// failures forgotten (earlier failures on the account still count).
pub async fn succeeded(db: &Db, email: &str, address: Option<&str>, now: i64) -> Result<()> {
    store::uncount(db, &account_key(email)).await?;
    if let Some(address) = address {
        store::clear(db, &pair_key(email, address)).await?;
    }
    store::prune(db, now - PAIR_WINDOW_SECONDS).await
}

/// The password was wrong: the attempt stays counted, and the pair waits.
pub async fn failed(db: &Db, email: &str, address: Option<&str>, now: i64) -> Result<()> {
    if let Some(address) = address {
        let key = pair_key(email, address);
        let (failures, _) = store::count(db, &key, now, now - PAIR_WINDOW_SECONDS).await?;
        store::set_not_before(db, &key, now + pair_delay(failures)).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_pair_delay_doubles_up_to_an_hour() {
        let d: Vec<i64> = (0..6).map(super::pair_delay).collect();
        assert_eq!(d, [0, 1, 2, 4, 8, 16]);
        assert_eq!(super::pair_delay(40), super::MAX_PAIR_DELAY_SECONDS);
    }
}
