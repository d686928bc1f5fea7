//! The audit trail: an append-only log of security-relevant events (logins, account
//! changes, data reads and exports, forecasts run), each record chained to the one
//! before it by SHA-256 so that editing, deleting or inserting a record is detectable.
//!
//! # The chain
//!
//! Record `n` (ids run 1, 2, 3, … in the order of writing) stores `prev_hash`, the
//! `hash` of record `n − 1` ([`GENESIS_HASH`] for record 1), and its own `hash`:
//!
//! ```text
//! hash = hex(SHA-256( "streetlight-audit-v1"
//!                     || i64(id) || str(prev_hash) || i64(ts_ms)
//!                     || opt(actor) || str(action) || str(object)
//!                     || str(outcome) || str(source) ))
//!
//! i64(x)  = x as 8 bytes, big-endian two's complement
//! str(s)  = the UTF-8 byte length of s as 8 bytes big-endian, then the bytes of s
//! opt(a)  = the byte 0x00 when a is absent; the byte 0x01 then str(a) when present
//! hex(d)  = the 32 digest bytes as 64 lower-case hexadecimal characters
//! ```
//!
//! Every variable-length field is length-prefixed and the absent actor is distinct from
//! an empty one, so no two different records share an encoding.
//!
//! [`verify`] recomputes every hash and checks every link. It names each record that
//! fails a check: its own hash (the record was edited), its link (a record before it
//! was deleted, inserted or rewritten) or its id (the ids skip or repeat).
//!
//! # What the chain cannot show
//!
//! The hash has no secret key. Someone who can write the database file can rewrite the
//! whole chain from any record onward, or drop records from its end, and the chain
//! still verifies. [`verify`] reports the head (last id and hash); an operator who
//! keeps that pair somewhere else (a printed report, another machine) can later check
//! it with [`verify_anchored`], which fails when that record is gone or differs.
//!
//! Architecture invariant: the store only appends. Its `audit_log` table refuses
//! `UPDATE` and `DELETE` (SQLite triggers), and the store takes the write lock before
//! reading the head, so concurrent writers never fork the chain.

use std::fmt;
use std::str::FromStr;

use sha2::{Digest, Sha256};
use sl_store::Store;
pub use sl_store::{AuditEntry, AuditRecord};

use crate::accounts::Context;
use crate::{EngineError, Result};

#[cfg(test)]
mod tests;

/// `prev_hash` of the first record.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Domain separation: the hash input of an audit record starts with these bytes.
const DOMAIN: &[u8] = b"streetlight-audit-v1";

/// What happened. The stored text ([`Action::as_str`]) is stable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// A login attempt (successful or not).
    Login,
    /// A session ended by its user.
    Logout,
    /// A user account created.
    UserAdd,
    /// A user's role changed.
    UserRole,
    /// A user's password set by an admin or changed by the user.
    UserPassword,
    /// An account locked automatically after repeated failed logins.
    UserLock,
    /// An account unlocked by an admin.
    UserUnlock,
    /// An account disabled.
    UserDisable,
    /// An account enabled again.
    UserEnable,
    /// The list of users read.
    UserList,
    /// Data read (events, aggregates, reports).
    DataRead,
    /// Data exported to a file.
    DataExport,
    /// A forecast or backtest run.
    ForecastRun,
    /// A context layer added or replaced (object `layer:DATASET/NAME`).
    LayerUpload,
    /// A context layer removed.
    LayerRemove,
}

impl Action {
    /// Every action.
    pub const ALL: [Action; 15] = [
        Action::Login,
        Action::Logout,
        Action::UserAdd,
        Action::UserRole,
        Action::UserPassword,
        Action::UserLock,
        Action::UserUnlock,
        Action::UserDisable,
        Action::UserEnable,
        Action::UserList,
        Action::DataRead,
        Action::DataExport,
        Action::ForecastRun,
        Action::LayerUpload,
        Action::LayerRemove,
    ];

    /// The stable name stored in the log.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Login => "login",
            Action::Logout => "logout",
            Action::UserAdd => "user.add",
            Action::UserRole => "user.role",
            Action::UserPassword => "user.password",
            Action::UserLock => "user.lock",
            Action::UserUnlock => "user.unlock",
            Action::UserDisable => "user.disable",
            Action::UserEnable => "user.enable",
            Action::UserList => "user.list",
            Action::DataRead => "data.read",
            Action::DataExport => "data.export",
            Action::ForecastRun => "forecast.run",
            Action::LayerUpload => "layer.upload",
            Action::LayerRemove => "layer.remove",
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How it ended. The stored text ([`Outcome::as_str`]) is stable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// Done.
    Ok,
    /// The actor's role does not allow it.
    Denied,
    /// A login (or password change) with a wrong password for an existing account.
    WrongPassword,
    /// A login for a name that is not an account.
    UnknownUser,
    /// Refused because the account is locked.
    Locked,
    /// Refused because the account is disabled.
    Disabled,
    /// Refused as invalid: a weak password, a name taken, the last admin, and so on.
    Refused,
    /// Failed for an internal reason (storage, hashing).
    Error,
}

impl Outcome {
    /// The stable name stored in the log.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Denied => "denied",
            Outcome::WrongPassword => "wrong_password",
            Outcome::UnknownUser => "unknown_user",
            Outcome::Locked => "locked",
            Outcome::Disabled => "disabled",
            Outcome::Refused => "refused",
            Outcome::Error => "error",
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

fn put_str(h: &mut Sha256, s: &str) {
    h.update((s.len() as u64).to_be_bytes());
    h.update(s.as_bytes());
}

/// The hash of a record with this id and `prev_hash` (see the module documentation for
/// the exact encoding).
pub fn record_hash(id: i64, prev_hash: &str, entry: &AuditEntry) -> String {
    let mut h = Sha256::new();
    h.update(DOMAIN);
    h.update(id.to_be_bytes());
    put_str(&mut h, prev_hash);
    h.update(entry.ts_ms.to_be_bytes());
    match &entry.actor {
        None => h.update([0u8]),
        Some(a) => {
            h.update([1u8]);
            put_str(&mut h, a);
        }
    }
    put_str(&mut h, &entry.action);
    put_str(&mut h, &entry.object);
    put_str(&mut h, &entry.outcome);
    put_str(&mut h, &entry.source);
    format!("{:x}", h.finalize())
}

/// Appends, returning the store's own error (for callers with their own error type).
pub(crate) fn append_entry<S: Store + ?Sized>(
    store: &mut S,
    entry: &AuditEntry,
) -> sl_store::Result<AuditRecord> {
    store.append_audit(entry, GENESIS_HASH, &record_hash)
}

/// Appends one record to the log and returns it with its id and hashes.
pub fn append<S: Store + ?Sized>(store: &mut S, entry: &AuditEntry) -> Result<AuditRecord> {
    Ok(append_entry(store, entry)?)
}

/// The entry for an event in a context (who, from where, when).
pub fn entry(ctx: &Context<'_>, action: Action, object: &str, outcome: Outcome) -> AuditEntry {
    AuditEntry {
        ts_ms: ctx.now_ms,
        actor: ctx.actor_name().map(str::to_string),
        action: action.as_str().to_string(),
        object: object.to_string(),
        outcome: outcome.as_str().to_string(),
        source: ctx.source.to_string(),
    }
}

/// Records an event: `ctx` says who, from where and when; `object` what it concerned
/// (by convention `kind:name`, e.g. `dataset:stlouis-slmpd`).
///
/// # Examples
///
/// ```
/// use sl_engine::accounts::Context;
/// use sl_engine::audit::{self, Action, Outcome};
///
/// let mut store = sl_engine::SqliteStore::in_memory()?;
/// let ctx = Context::local(1_767_225_600_000);
/// let r = audit::record(&mut store, &ctx, Action::DataExport, "dataset:stlouis-slmpd", Outcome::Ok)?;
/// assert_eq!((r.id, r.prev_hash.as_str()), (1, audit::GENESIS_HASH));
/// assert!(audit::verify(&store)?.is_ok());
/// # Ok::<(), sl_engine::EngineError>(())
/// ```
pub fn record<S: Store + ?Sized>(
    store: &mut S,
    ctx: &Context<'_>,
    action: Action,
    object: &str,
    outcome: Outcome,
) -> Result<AuditRecord> {
    append(store, &entry(ctx, action, object, outcome))
}

/// The last `limit` records, oldest first.
pub fn list<S: Store + ?Sized>(store: &S, limit: usize) -> Result<Vec<AuditRecord>> {
    Ok(store.audit_tail(limit)?)
}

/// A record's id and hash, kept elsewhere to check later that the log still holds it.
/// Written and parsed as `ID:HASH`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Anchor {
    pub id: i64,
    pub hash: String,
}

impl fmt::Display for Anchor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.id, self.hash)
    }
}

impl FromStr for Anchor {
    type Err = EngineError;

    fn from_str(s: &str) -> Result<Self> {
        let bad = || {
            EngineError::Invalid(format!(
                "anchor `{s}` is not ID:HASH: pass the record id and its 64-character hash as `audit verify` printed them, e.g. 42:{GENESIS_HASH}"
            ))
        };
        let (id, hash) = s.split_once(':').ok_or_else(bad)?;
        let id: i64 = id.trim().parse().map_err(|_| bad())?;
        let hash = hash.trim().to_ascii_lowercase();
        if id < 1 || hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(bad());
        }
        Ok(Anchor { id, hash })
    }
}

/// Which check a record failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Check {
    /// The record's id is not the one after the previous record's (records were deleted
    /// or renumbered).
    Sequence { expected: i64 },
    /// Its `prev_hash` is not the previous record's `hash` (a record before it was
    /// deleted, inserted or rewritten).
    Link,
    /// Its stored `hash` does not match its contents (the record was edited).
    Hash,
    /// The anchor's record is not in the log any more (the log was cut short).
    AnchorMissing,
    /// The anchor's record has another hash now (the log was rewritten up to there).
    AnchorMismatch { expected: String },
}

impl Check {
    /// A stable short name: `sequence`, `link`, `hash`, `anchor_missing`, `anchor_mismatch`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Check::Sequence { .. } => "sequence",
            Check::Link => "link",
            Check::Hash => "hash",
            Check::AnchorMissing => "anchor_missing",
            Check::AnchorMismatch { .. } => "anchor_mismatch",
        }
    }
}

/// One failed check, on one record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The record's id.
    pub id: i64,
    pub check: Check,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let id = self.id;
        match &self.check {
            Check::Sequence { expected } if id > *expected => write!(
                f,
                "record {id}: ids jump from {} to {id}, so records {expected} to {} were deleted",
                expected - 1,
                id - 1
            ),
            Check::Sequence { expected } => write!(
                f,
                "record {id}: expected id {expected} here, so records were renumbered or inserted"
            ),
            Check::Link => write!(
                f,
                "record {id}: its prev_hash is not the hash of the record before it, so a record before it was deleted, inserted or rewritten"
            ),
            Check::Hash => write!(
                f,
                "record {id}: its stored hash does not match its contents, so the record was altered after it was written"
            ),
            Check::AnchorMissing => write!(
                f,
                "record {id}: the anchored record is no longer in the log, so the log was cut short"
            ),
            Check::AnchorMismatch { expected } => write!(
                f,
                "record {id}: its hash is no longer the anchored {expected}, so the log was rewritten up to this record"
            ),
        }
    }
}

/// What [`verify`] found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VerifyReport {
    /// Records read.
    pub records: u64,
    /// The last record's id and hash (`None` for an empty log): keep it elsewhere and
    /// check it later with [`verify_anchored`].
    pub head: Option<Anchor>,
    /// Every failed check, in record order with the anchor's check last (empty when
    /// the chain verifies).
    pub problems: Vec<Problem>,
}

impl VerifyReport {
    /// True when every record verifies.
    pub fn is_ok(&self) -> bool {
        self.problems.is_empty()
    }

    /// The first record that does not verify, and why.
    pub fn first_problem(&self) -> Option<&Problem> {
        self.problems.first()
    }
}

/// Checks the whole chain: ids 1, 2, 3, … without gaps, each `prev_hash` equal to the
/// previous record's `hash`, each `hash` equal to [`record_hash`] of its record.
/// Reads the log once, in id order, holding one record at a time.
pub fn verify<S: Store + ?Sized>(store: &S) -> Result<VerifyReport> {
    verify_inner(store, None)
}

/// [`verify`], and also that the record `anchor.id` still has the hash `anchor.hash`.
pub fn verify_anchored<S: Store + ?Sized>(store: &S, anchor: &Anchor) -> Result<VerifyReport> {
    verify_inner(store, Some(anchor))
}

fn verify_inner<S: Store + ?Sized>(store: &S, anchor: Option<&Anchor>) -> Result<VerifyReport> {
    let mut report = VerifyReport::default();
    let mut expected_id = 1_i64;
    let mut prev = GENESIS_HASH.to_string();
    let mut anchored: Option<String> = None;
    store.scan_audit(&mut |r| {
        report.records += 1;
        if r.id != expected_id {
            report.problems.push(Problem {
                id: r.id,
                check: Check::Sequence {
                    expected: expected_id,
                },
            });
        }
        if r.prev_hash != prev {
            report.problems.push(Problem {
                id: r.id,
                check: Check::Link,
            });
        }
        if record_hash(r.id, &r.prev_hash, &r.entry()) != r.hash {
            report.problems.push(Problem {
                id: r.id,
                check: Check::Hash,
            });
        }
        if anchor.is_some_and(|a| a.id == r.id) {
            anchored = Some(r.hash.clone());
        }
        prev.clone_from(&r.hash);
        expected_id = r.id.saturating_add(1);
        report.head = Some(Anchor {
            id: r.id,
            hash: r.hash.clone(),
        });
    })?;
    if let Some(a) = anchor {
        match anchored {
            None => report.problems.push(Problem {
                id: a.id,
                check: Check::AnchorMissing,
            }),
            Some(h) if h != a.hash => report.problems.push(Problem {
                id: a.id,
                check: Check::AnchorMismatch {
                    expected: a.hash.clone(),
                },
            }),
            Some(_) => {}
        }
    }
    Ok(report)
}
