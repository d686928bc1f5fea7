//! Passwords: the policy new passwords must meet, Argon2id hashing and verification,
//! and generated passwords.
//!
//! The policy follows NIST SP 800-63B §5.1.1.2 and OWASP ASVS 5.0 V6.2: a length
//! window and a check against common passwords and context words; no composition rules
//! (no "one digit, one capital"), every Unicode character allowed, and the password is
//! hashed exactly as received (no trimming, case folding or Unicode normalisation, ASVS
//! V6.2.8).

use std::collections::HashSet;
use std::sync::OnceLock;

use argon2::{Algorithm, Argon2, Params, PasswordHasher, PasswordVerifier, Version};

use super::AccountError;

/// Fewest characters (Unicode scalar values) a password may have.
pub const MIN_PASSWORD_CHARS: usize = 8;
/// Most characters a password may have. Longer ones are refused rather than truncated;
/// the bound keeps hashing cost per request bounded.
pub const MAX_PASSWORD_CHARS: usize = 128;

/// Argon2id memory cost in KiB (19 MiB), OWASP Password Storage Cheat Sheet.
pub const ARGON2_M_KIB: u32 = 19 * 1024;
/// Argon2id passes.
pub const ARGON2_T: u32 = 2;
/// Argon2id lanes.
pub const ARGON2_P: u32 = 1;
/// Salt bytes drawn from the operating system's CSPRNG for every hash.
const SALT_BYTES: usize = 16;

/// The PHC prefix every hash made with the current parameters starts with.
pub(super) const CURRENT_PREFIX: &str = "$argon2id$v=19$m=19456,t=2,p=1$";

/// A PHC string with the current parameters whose salt and output are random bytes (no
/// password is known to produce it): logins for names that are not accounts are checked
/// against it, so they take as long as a wrong password for a real account.
pub(super) const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$47/iat9kWHfWHf9PtwcHFQ$seJFcIQ2fwzrqb/uM8aYuRm6YR2yEJS/enl8oJs2C6Y";

/// The 30,000 most common passwords (zxcvbn's list; provenance in `data/README.md`).
const COMMON_PASSWORDS: &str = include_str!("../../data/common-passwords.txt");

/// Words that make a password easy to guess here, besides the user's own name.
pub const CONTEXT_WORDS: [&str; 1] = ["streetlight"];

/// Why a new password is refused. Each message says what to do instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordProblem {
    #[error(
        "the password has {chars} characters; use at least {MIN_PASSWORD_CHARS} (a phrase of several words is long and easy to remember)"
    )]
    TooShort { chars: usize },
    #[error(
        "the password has {chars} characters; the most allowed is {MAX_PASSWORD_CHARS}: choose a shorter one"
    )]
    TooLong { chars: usize },
    #[error("the password is one of the 30,000 most common passwords: choose one that is not")]
    Common,
    #[error("the password contains the user name or `streetlight`: choose one that does not")]
    ContextWord,
    #[error(
        "the password is one character repeated or a straight run like `abcdefgh`: choose a less predictable one"
    )]
    Pattern,
}

pub(super) fn common_passwords() -> &'static HashSet<&'static str> {
    static SET: OnceLock<HashSet<&'static str>> = OnceLock::new();
    SET.get_or_init(|| COMMON_PASSWORDS.lines().collect())
}

/// One character repeated, or consecutive code points all rising or all falling by one
/// (`aaaaaaaa`, `abcdefgh`, `98765432`).
pub(super) fn is_trivial_pattern(password: &str) -> bool {
    let cps: Vec<i64> = password.chars().map(|c| i64::from(u32::from(c))).collect();
    let Some(step) = cps.windows(2).next().map(|w| w[1] - w[0]) else {
        return true;
    };
    matches!(step, -1..=1) && cps.windows(2).all(|w| w[1] - w[0] == step)
}

/// Checks a new password for the account `name` (already normalised) against the
/// policy. Lengths count Unicode scalar values, so `"pässwört"` has 8 characters.
pub fn check_password(name: &str, password: &str) -> Result<(), PasswordProblem> {
    let chars = password.chars().count();
    if chars < MIN_PASSWORD_CHARS {
        return Err(PasswordProblem::TooShort { chars });
    }
    if chars > MAX_PASSWORD_CHARS {
        return Err(PasswordProblem::TooLong { chars });
    }
    let lower = password.to_lowercase();
    if common_passwords().contains(lower.as_str()) {
        return Err(PasswordProblem::Common);
    }
    let name = name.to_lowercase();
    // Short names (`al`) occur inside ordinary words; only refuse them exactly.
    let names_it = if name.chars().count() >= 4 {
        lower.contains(&name)
    } else {
        lower == name
    };
    if names_it || CONTEXT_WORDS.iter().any(|w| lower.contains(w)) {
        return Err(PasswordProblem::ContextWord);
    }
    if is_trivial_pattern(&lower) {
        return Err(PasswordProblem::Pattern);
    }
    Ok(())
}

fn hasher() -> Result<Argon2<'static>, AccountError> {
    let params = Params::new(ARGON2_M_KIB, ARGON2_T, ARGON2_P, None)
        .map_err(|e| AccountError::Hash(e.to_string()))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// Fills `buf` from the operating system's CSPRNG.
pub(super) fn random_bytes(buf: &mut [u8]) -> Result<(), AccountError> {
    getrandom::fill(buf).map_err(|e| AccountError::Random(e.to_string()))
}

/// Hashes a password with Argon2id (m = 19 MiB, t = 2, p = 1) and a fresh 16-byte salt
/// from the operating system; returns the PHC string, e.g.
/// `$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>`. It does not check the policy.
pub fn hash_password(password: &str) -> Result<String, AccountError> {
    let mut salt = [0u8; SALT_BYTES];
    random_bytes(&mut salt)?;
    let hash = hasher()?
        .hash_password_with_salt(password.as_bytes(), &salt)
        .map_err(|e| AccountError::Hash(e.to_string()))?;
    Ok(hash.to_string())
}

/// Whether `password` matches the PHC string `phc`, with the parameters written in it.
/// A malformed PHC string is an error, not a mismatch.
pub fn verify_password(password: &str, phc: &str) -> Result<bool, AccountError> {
    match hasher()?.verify_password(password.as_bytes(), phc) {
        Ok(()) => Ok(true),
        Err(argon2::password_hash::Error::PasswordInvalid) => Ok(false),
        Err(e) => Err(AccountError::Hash(format!(
            "stored password hash cannot be checked ({e}): reset the password with `streetlight user password NAME`"
        ))),
    }
}

/// Spends the time of one verification on nothing (for names that are not accounts).
pub(super) fn verify_dummy(password: &str) {
    // The result is meaningless by design; only the time spent matters.
    let _ = verify_password(password, DUMMY_HASH);
}

/// Whether a stored hash was made with other parameters than today's (and should be
/// replaced after the next successful login).
pub(super) fn needs_rehash(phc: &str) -> bool {
    !phc.starts_with(CURRENT_PREFIX)
}

/// Letters and digits that cannot be mistaken for one another (no 0/O, 1/l/I).
const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
const GROUPS: usize = 6;
const GROUP_LEN: usize = 4;

/// A random password of 24 characters from a 57-letter alphabet (about 140 bits), in
/// groups of four: `Xk7q-MvR2-…`. Drawn from the operating system's CSPRNG by rejection
/// sampling, so every letter is equally likely.
pub fn generate_password() -> Result<String, AccountError> {
    let n = ALPHABET.len();
    // The largest multiple of n that fits in a byte: bytes at or above it are dropped.
    let limit = 256 - 256 % n;
    let mut out = String::with_capacity(GROUPS * (GROUP_LEN + 1));
    let mut drawn = 0;
    let mut buf = [0u8; 64];
    while drawn < GROUPS * GROUP_LEN {
        random_bytes(&mut buf)?;
        for &b in &buf {
            if drawn == GROUPS * GROUP_LEN {
                break;
            }
            if usize::from(b) >= limit {
                continue;
            }
            if drawn > 0 && drawn % GROUP_LEN == 0 {
                out.push('-');
            }
            out.push(char::from(ALPHABET[usize::from(b) % n]));
            drawn += 1;
        }
    }
    Ok(out)
}
