//! Accounts, roles and sessions: who may use Streetlight, and proof that a request
//! comes from them.
//!
//! - **Users** have a unique name, one [`Role`], an Argon2id password hash, and can be
//!   locked (after failed logins) or disabled. Names are case-insensitive and stored in
//!   lower case.
//! - **Passwords** meet the policy in [`check_password`] (8 to 128 characters, not
//!   common, not the user name) and are stored only as Argon2id hashes.
//! - **Logins** ([`login`]) that fail [`MAX_FAILED_LOGINS`] times within
//!   [`FAILED_LOGIN_WINDOW_MS`] lock the account until an admin runs [`unlock`]. A
//!   locked account refuses even its correct password, with [`AccountError::Locked`].
//! - **Sessions** are 256-bit random tokens; the store keeps only their SHA-256.
//!   [`authenticate`] ends a session [`IDLE_TIMEOUT_MS`] after its last use or
//!   [`ABSOLUTE_LIFETIME_MS`] after login, whichever comes first; [`logout`] ends it at
//!   once.
//! - **Account changes** ([`add_user`], [`set_role`], [`set_password`], [`unlock`],
//!   [`disable`], [`enable`], [`list_users`]) take a [`Context`] that says who acts; only
//!   an admin (or the local operator of the command line) may make them.
//!
//! Every login, logout and account change writes an audit record (see [`crate::audit`]),
//! successful or not. Time is never read from the clock here: every function takes
//! `now_ms` (UTC milliseconds since the Unix epoch), so tests can move time.
//!
//! # Examples
//!
//! ```
//! use sl_engine::accounts::{self, Context, Role};
//!
//! let mut store = sl_engine::SqliteStore::in_memory()?;
//! let t0 = 1_767_225_600_000; // 2026-01-01T00:00:00Z
//! accounts::add_user(&mut store, &Context::local(t0), "Ada", Role::Analyst, "correct horse battery", false)?;
//! let (token, user) = accounts::login(&mut store, "ada", "correct horse battery", t0 + 1_000, "127.0.0.1")?;
//! assert_eq!((user.name.as_str(), user.role), ("ada", Role::Analyst));
//! // 29 minutes later the session still works, and the clock restarts.
//! let again = accounts::authenticate(&mut store, token.as_str(), t0 + 1_000 + 29 * 60_000)?;
//! assert_eq!(again.id, user.id);
//! accounts::logout(&mut store, token.as_str(), t0 + 2_000_000, "127.0.0.1")?;
//! assert!(accounts::authenticate(&mut store, token.as_str(), t0 + 2_000_001).is_err());
//! # Ok::<(), accounts::AccountError>(())
//! ```

use std::fmt;
use std::str::FromStr;

use base64ct::{Base64UrlUnpadded, Encoding};
use sha2::{Digest, Sha256};
use sl_store::{NewUser, SessionRecord, Store, StoreError, UserRecord};

use crate::audit::{self, Action, Outcome};

mod password;
#[cfg(test)]
mod tests;

pub use password::{
    ARGON2_M_KIB, ARGON2_P, ARGON2_T, CONTEXT_WORDS, MAX_PASSWORD_CHARS, MIN_PASSWORD_CHARS,
    PasswordProblem, check_password, generate_password, hash_password, verify_password,
};

/// Failed logins within [`FAILED_LOGIN_WINDOW_MS`] that lock an account.
pub const MAX_FAILED_LOGINS: u32 = 5;
/// The sliding window over which failed logins are counted: 15 minutes.
pub const FAILED_LOGIN_WINDOW_MS: i64 = 15 * 60 * 1000;
/// A session unused for this long is over: 30 minutes.
pub const IDLE_TIMEOUT_MS: i64 = 30 * 60 * 1000;
/// A session this old is over, however active: 12 hours.
pub const ABSOLUTE_LIFETIME_MS: i64 = 12 * 60 * 60 * 1000;
/// Longest user name, in characters.
pub const MAX_NAME_CHARS: usize = 64;
/// Random bytes in a session token (256 bits).
const TOKEN_BYTES: usize = 32;
/// Characters of a session token: 32 bytes in unpadded base64url.
const TOKEN_CHARS: usize = 43;

/// What a user may do. The server maps roles to endpoints; here only [`Role::Admin`]
/// matters, as the one role that may manage accounts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// Manages accounts, and everything an analyst does.
    Admin,
    /// Loads and analyses data, runs forecasts, exports.
    Analyst,
    /// Reads briefings, maps and forecasts for their shift.
    Supervisor,
    /// Reads dashboards.
    Viewer,
}

impl Role {
    /// Every role, most privileged first.
    pub const ALL: [Role; 4] = [Role::Admin, Role::Analyst, Role::Supervisor, Role::Viewer];

    /// The stable name (`admin`, `analyst`, `supervisor`, `viewer`).
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Analyst => "analyst",
            Role::Supervisor => "supervisor",
            Role::Viewer => "viewer",
        }
    }

    /// Parses a role name, ignoring ASCII case.
    pub fn parse(text: &str) -> Result<Role, AccountError> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str().eq_ignore_ascii_case(text.trim()))
            .ok_or_else(|| AccountError::UnknownRole(text.to_string()))
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = AccountError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::parse(s)
    }
}

/// A user account. The password hash stays in the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: i64,
    /// Lower case.
    pub name: String,
    pub role: Role,
    /// UTC milliseconds.
    pub created_ms: i64,
    /// The password was generated or set by an admin: the user should choose their own
    /// (with [`change_password`]) before doing anything else. The engine reports it; the
    /// server enforces it.
    pub must_change_password: bool,
    /// Locked after repeated failed logins, until an admin unlocks it.
    pub locked: bool,
    /// Disabled: cannot log in, keeps no session.
    pub disabled: bool,
}

impl User {
    fn from_record(r: UserRecord) -> Result<User, AccountError> {
        let role = Role::parse(&r.role).map_err(|_| {
            StoreError::Corrupt(format!(
                "user `{}` has the unknown role `{}`: set one with `streetlight user role {} ROLE`",
                r.name, r.role, r.name
            ))
        })?;
        Ok(User {
            id: r.id,
            name: r.name,
            role,
            created_ms: r.created_ms,
            must_change_password: r.must_change_password,
            locked: r.locked,
            disabled: r.disabled,
        })
    }

    /// An admin whose account is enabled.
    pub fn is_active_admin(&self) -> bool {
        self.role == Role::Admin && !self.disabled
    }
}

/// Who acts.
#[derive(Debug, Clone, Copy)]
pub enum Actor<'a> {
    /// The operator of the command line on the machine that holds the database file.
    /// Whoever can write that file controls it anyway, so the local operator may do
    /// anything; audit records name no user for them.
    Local,
    /// A user proven by [`authenticate`] (or [`login`]).
    User(&'a User),
    /// Nobody proven: a failed login, or a visitor of public pages. May not manage
    /// accounts; audit records name no user.
    Anonymous,
}

/// Who acts, from where, and when: stamped on the audit record of every action.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    pub actor: Actor<'a>,
    /// Where the request came from: the client's address for the server, `cli` for the
    /// command line.
    pub source: &'a str,
    /// UTC milliseconds since the Unix epoch.
    pub now_ms: i64,
}

impl<'a> Context<'a> {
    /// The local operator of the command line (source `cli`).
    pub fn local(now_ms: i64) -> Context<'static> {
        Context {
            actor: Actor::Local,
            source: "cli",
            now_ms,
        }
    }

    /// An authenticated user acting from `source`.
    pub fn user(user: &'a User, source: &'a str, now_ms: i64) -> Context<'a> {
        Context {
            actor: Actor::User(user),
            source,
            now_ms,
        }
    }

    /// The acting user's name, as audit records carry it (`None` for the local operator).
    pub fn actor_name(&self) -> Option<&str> {
        match self.actor {
            Actor::Local | Actor::Anonymous => None,
            Actor::User(u) => Some(&u.name),
        }
    }

    /// Whether this actor may manage accounts: the local operator, or an enabled admin.
    pub fn may_manage_accounts(&self) -> bool {
        match self.actor {
            Actor::Local => true,
            Actor::User(u) => u.is_active_admin(),
            Actor::Anonymous => false,
        }
    }
}

/// A session token as handed to the client (e.g. in an HttpOnly cookie). `Debug` does
/// not print it.
#[derive(Clone, PartialEq, Eq)]
pub struct SessionToken(String);

impl SessionToken {
    /// The token's text: 43 characters of unpadded base64url.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The token's text, owned.
    pub fn into_string(self) -> String {
        self.0
    }
}

impl fmt::Debug for SessionToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SessionToken(…)")
    }
}

/// Why an account operation failed. Each message says what to do.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    /// Wrong password, or a name that is not an active account (the two are not told
    /// apart, so logins cannot probe for names).
    #[error(
        "wrong user name or password: check both and try again ({MAX_FAILED_LOGINS} failures within 15 minutes lock the account)"
    )]
    BadCredentials,
    /// The account is locked after repeated failed logins.
    #[error(
        "account `{0}` is locked after repeated failed logins: ask an administrator to unlock it (`streetlight user unlock {0}`)"
    )]
    Locked(String),
    /// No live session has this token (never issued, logged out, or revoked).
    #[error("not logged in, or the session was ended: log in again")]
    NoSession,
    /// The session was unused for [`IDLE_TIMEOUT_MS`].
    #[error("the session ended after 30 minutes without activity: log in again")]
    IdleTimeout,
    /// The session is [`ABSOLUTE_LIFETIME_MS`] old.
    #[error("the session reached its 12-hour limit: log in again")]
    SessionExpired,
    /// A new password does not meet the policy.
    #[error(transparent)]
    Password(#[from] PasswordProblem),
    #[error(
        "user name `{0}` is not allowed: use 1 to 64 letters, digits, `.`, `_`, `-` or `@`, starting with a letter or digit"
    )]
    InvalidName(String),
    #[error(
        "user `{0}` already exists: choose another name, or change its role with `streetlight user role {0} ROLE`"
    )]
    NameTaken(String),
    #[error("no user named `{0}`: list users with `streetlight user list`")]
    UnknownUser(String),
    #[error("`{0}` is not a role: use admin, analyst, supervisor or viewer")]
    UnknownRole(String),
    /// The acting user is not an (enabled) admin.
    #[error("only an admin may {0}: ask an administrator")]
    Forbidden(&'static str),
    /// The change would leave no enabled admin.
    #[error("user `{0}` is the last enabled admin: make another user admin first")]
    LastAdmin(String),
    #[error("cannot hash the password: {0}")]
    Hash(String),
    #[error(
        "the operating system's random number generator failed ({0}): check the system's entropy source and try again"
    )]
    Random(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl AccountError {
    /// How an audit record reports this failure.
    fn outcome(&self) -> Outcome {
        match self {
            AccountError::BadCredentials => Outcome::WrongPassword,
            AccountError::Locked(_) => Outcome::Locked,
            AccountError::Forbidden(_) => Outcome::Denied,
            AccountError::NoSession | AccountError::IdleTimeout | AccountError::SessionExpired => {
                Outcome::Denied
            }
            AccountError::Password(_)
            | AccountError::InvalidName(_)
            | AccountError::NameTaken(_)
            | AccountError::UnknownUser(_)
            | AccountError::UnknownRole(_)
            | AccountError::LastAdmin(_) => Outcome::Refused,
            AccountError::Hash(_) | AccountError::Random(_) | AccountError::Store(_) => {
                Outcome::Error
            }
        }
    }
}

type Result<T, E = AccountError> = std::result::Result<T, E>;

/// Normalises a user name: ASCII lower case; 1 to [`MAX_NAME_CHARS`] letters, digits,
/// `.`, `_`, `-` or `@`, starting with a letter or digit.
pub fn normalise_name(name: &str) -> Result<String> {
    let ok = !name.is_empty()
        && name.len() <= MAX_NAME_CHARS
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-@".contains(&b))
        && name.as_bytes()[0].is_ascii_alphanumeric();
    if !ok {
        return Err(AccountError::InvalidName(name.to_string()));
    }
    Ok(name.to_ascii_lowercase())
}

/// The audit object naming a user: `user:NAME`, with a name that is not a valid one cut
/// to [`MAX_NAME_CHARS`] characters so that a huge login name cannot bloat the log.
fn user_object(name: &str) -> String {
    match normalise_name(name) {
        Ok(n) => format!("user:{n}"),
        Err(_) => {
            let cut: String = name.chars().take(MAX_NAME_CHARS).collect();
            let more = if cut.len() < name.len() { "…" } else { "" };
            format!("user:{cut}{more}")
        }
    }
}

/// Runs an account operation and audits its outcome, success or failure. An operation
/// that succeeded but whose audit record cannot be written reports the storage error.
fn audited<S: Store + ?Sized, T>(
    store: &mut S,
    ctx: &Context<'_>,
    action: Action,
    object: &str,
    op: impl FnOnce(&mut S) -> Result<T>,
) -> Result<T> {
    let result = op(store);
    let outcome = match &result {
        Ok(_) => Outcome::Ok,
        Err(e) => e.outcome(),
    };
    audit::append_entry(store, &audit::entry(ctx, action, object, outcome))?;
    result
}

fn require_admin(ctx: &Context<'_>, what: &'static str) -> Result<()> {
    if ctx.may_manage_accounts() {
        Ok(())
    } else {
        Err(AccountError::Forbidden(what))
    }
}

fn find_user<S: Store + ?Sized>(store: &S, name: &str) -> Result<UserRecord> {
    let key = normalise_name(name)?;
    store
        .user(&key)?
        .ok_or_else(|| AccountError::UnknownUser(key))
}

fn reload<S: Store + ?Sized>(store: &S, id: i64) -> Result<User> {
    let r = store.user_by_id(id)?.ok_or_else(|| {
        StoreError::Corrupt(format!("user {id} vanished while it was being changed"))
    })?;
    User::from_record(r)
}

/// Refuses a change that leaves no enabled admin besides `target`.
fn keep_an_admin<S: Store + ?Sized>(store: &S, target: &UserRecord) -> Result<()> {
    if target.role != Role::Admin.as_str() || target.disabled {
        return Ok(());
    }
    let others = store
        .users()?
        .iter()
        .filter(|u| u.id != target.id && u.role == Role::Admin.as_str() && !u.disabled)
        .count();
    if others == 0 {
        return Err(AccountError::LastAdmin(target.name.clone()));
    }
    Ok(())
}

/// Creates a user with a role and a password (checked against the policy, stored as an
/// Argon2id hash). `temporary` marks a password the user did not choose (generated, or
/// told to them): [`User::must_change_password`] is then set. Admins only.
///
/// Audited as `user.add` on `user:NAME role:ROLE`.
pub fn add_user<S: Store + ?Sized>(
    store: &mut S,
    ctx: &Context<'_>,
    name: &str,
    role: Role,
    password: &str,
    temporary: bool,
) -> Result<User> {
    let object = format!("{} role:{role}", user_object(name));
    audited(store, ctx, Action::UserAdd, &object, |store| {
        require_admin(ctx, "add users")?;
        let name = normalise_name(name)?;
        if store.user(&name)?.is_some() {
            return Err(AccountError::NameTaken(name));
        }
        check_password(&name, password)?;
        let hash = hash_password(password)?;
        let id = store.insert_user(&NewUser {
            name: &name,
            role: role.as_str(),
            password_hash: &hash,
            must_change_password: temporary,
            created_ms: ctx.now_ms,
        })?;
        reload(store, id)
    })
}

/// Changes a user's role. The role of the last enabled admin cannot be lowered. The
/// change applies to the user's open sessions at their next request. Admins only.
///
/// Audited as `user.role` on `user:NAME role:OLD->NEW`.
pub fn set_role<S: Store + ?Sized>(
    store: &mut S,
    ctx: &Context<'_>,
    name: &str,
    role: Role,
) -> Result<User> {
    let current = normalise_name(name)
        .ok()
        .and_then(|n| store.user(&n).ok().flatten());
    let object = match &current {
        Some(u) => format!("user:{} role:{}->{role}", u.name, u.role),
        None => format!("{} role:?->{role}", user_object(name)),
    };
    audited(store, ctx, Action::UserRole, &object, |store| {
        require_admin(ctx, "change roles")?;
        let user = find_user(store, name)?;
        if role != Role::Admin {
            keep_an_admin(store, &user)?;
        }
        store.set_user_role(user.id, role.as_str())?;
        reload(store, user.id)
    })
}

/// Sets a user's password for them (an admin's reset) and ends all their sessions.
/// `temporary` as in [`add_user`]. Admins only.
///
/// Audited as `user.password` on `user:NAME`.
pub fn set_password<S: Store + ?Sized>(
    store: &mut S,
    ctx: &Context<'_>,
    name: &str,
    password: &str,
    temporary: bool,
) -> Result<User> {
    let object = user_object(name);
    audited(store, ctx, Action::UserPassword, &object, |store| {
        require_admin(ctx, "set other users' passwords")?;
        let user = find_user(store, name)?;
        check_password(&user.name, password)?;
        let hash = hash_password(password)?;
        store.set_user_password(user.id, &hash, temporary)?;
        store.revoke_user_sessions(user.id)?;
        reload(store, user.id)
    })
}

/// Unlocks an account locked by failed logins and forgets those failures. Admins only.
///
/// Audited as `user.unlock` on `user:NAME`.
pub fn unlock<S: Store + ?Sized>(store: &mut S, ctx: &Context<'_>, name: &str) -> Result<User> {
    let object = user_object(name);
    audited(store, ctx, Action::UserUnlock, &object, |store| {
        require_admin(ctx, "unlock accounts")?;
        let user = find_user(store, name)?;
        store.unlock_user(user.id)?;
        reload(store, user.id)
    })
}

/// Disables an account and ends all its sessions; it can no longer log in. The last
/// enabled admin cannot be disabled. Admins only.
///
/// Audited as `user.disable` on `user:NAME`.
pub fn disable<S: Store + ?Sized>(store: &mut S, ctx: &Context<'_>, name: &str) -> Result<User> {
    let object = user_object(name);
    audited(store, ctx, Action::UserDisable, &object, |store| {
        require_admin(ctx, "disable accounts")?;
        let user = find_user(store, name)?;
        keep_an_admin(store, &user)?;
        store.set_user_disabled(user.id, true)?;
        store.revoke_user_sessions(user.id)?;
        reload(store, user.id)
    })
}

/// Enables a disabled account again (with its old password and role). Admins only.
///
/// Audited as `user.enable` on `user:NAME`.
pub fn enable<S: Store + ?Sized>(store: &mut S, ctx: &Context<'_>, name: &str) -> Result<User> {
    let object = user_object(name);
    audited(store, ctx, Action::UserEnable, &object, |store| {
        require_admin(ctx, "enable accounts")?;
        let user = find_user(store, name)?;
        store.set_user_disabled(user.id, false)?;
        reload(store, user.id)
    })
}

/// Every user, by name. Admins only; a refused attempt is audited (`user.list`,
/// `denied`), a permitted one is not.
pub fn list_users<S: Store + ?Sized>(store: &mut S, ctx: &Context<'_>) -> Result<Vec<User>> {
    if let Err(e) = require_admin(ctx, "list users") {
        let entry = audit::entry(ctx, Action::UserList, "users", e.outcome());
        audit::append_entry(store, &entry)?;
        return Err(e);
    }
    store.users()?.into_iter().map(User::from_record).collect()
}

fn token_hash(token: &str) -> String {
    format!("{:x}", Sha256::digest(token.as_bytes()))
}

/// Only well-formed tokens reach the store.
fn plausible_token(token: &str) -> bool {
    token.len() == TOKEN_CHARS
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn new_session<S: Store + ?Sized>(
    store: &mut S,
    user_id: i64,
    now_ms: i64,
) -> Result<SessionToken> {
    let mut bytes = [0u8; TOKEN_BYTES];
    password::random_bytes(&mut bytes)?;
    let token = Base64UrlUnpadded::encode_string(&bytes);
    store.insert_session(&SessionRecord {
        token_hash: token_hash(&token),
        user_id,
        created_ms: now_ms,
        last_seen_ms: now_ms,
        revoked: false,
    })?;
    Ok(SessionToken(token))
}

/// Checks a name and password and, when they match an enabled, unlocked account,
/// starts a session: returns its token (256 random bits, base64url) and the user.
///
/// - A wrong password counts towards the lockout: the [`MAX_FAILED_LOGINS`]th failure
///   within [`FAILED_LOGIN_WINDOW_MS`] locks the account and returns
///   [`AccountError::Locked`]; earlier ones return [`AccountError::BadCredentials`].
/// - A locked account returns [`AccountError::Locked`] whatever the password, so a
///   locked account cannot be used to test guesses.
/// - An unknown name or a disabled account returns [`AccountError::BadCredentials`],
///   like a wrong password, after spending the same Argon2id time, so that neither
///   the message nor the response time tells which names exist.
/// - A success forgets the account's failures, and replaces a hash made with older
///   parameters.
///
/// Audited as `login` on `user:NAME` with outcome `ok`, `wrong_password`,
/// `unknown_user`, `locked` or `disabled`; a lock adds a `user.lock` record.
pub fn login<S: Store + ?Sized>(
    store: &mut S,
    name: &str,
    password: &str,
    now_ms: i64,
    source: &str,
) -> Result<(SessionToken, User)> {
    let record = check_credentials(store, name, password, now_ms, source, Action::Login)?;
    store.clear_login_failures(record.id)?;
    if password::needs_rehash(&record.password_hash) {
        let hash = hash_password(password)?;
        store.set_user_password(record.id, &hash, record.must_change_password)?;
    }
    store.purge_sessions(now_ms.saturating_sub(ABSOLUTE_LIFETIME_MS))?;
    let token = new_session(store, record.id, now_ms)?;
    let user = User::from_record(record)?;
    let ctx = Context::user(&user, source, now_ms);
    let object = format!("user:{}", user.name);
    audit::append_entry(
        store,
        &audit::entry(&ctx, Action::Login, &object, Outcome::Ok),
    )?;
    Ok((token, user))
}

/// Checks a name and password for `action` (a login or a password change). On a match
/// with an enabled, unlocked account returns its record and audits nothing; otherwise
/// audits the failure (actor none: nobody is proven) and returns the error to report.
fn check_credentials<S: Store + ?Sized>(
    store: &mut S,
    name: &str,
    password: &str,
    now_ms: i64,
    source: &str,
    action: Action,
) -> Result<UserRecord> {
    let object = user_object(name);
    let anonymous = Context {
        actor: Actor::Anonymous,
        source,
        now_ms,
    };
    let log = |store: &mut S, action: Action, outcome: Outcome| {
        audit::append_entry(store, &audit::entry(&anonymous, action, &object, outcome))
    };
    let record = match normalise_name(name) {
        Ok(key) => store.user(&key)?,
        Err(_) => None,
    };
    let Some(record) = record else {
        password::verify_dummy(password);
        log(store, action, Outcome::UnknownUser)?;
        return Err(AccountError::BadCredentials);
    };
    // Always verify, whatever the account's state, so that time tells nothing.
    let matches = verify_password(password, &record.password_hash)?;
    if record.disabled {
        log(store, action, Outcome::Disabled)?;
        return Err(AccountError::BadCredentials);
    }
    if record.locked {
        log(store, action, Outcome::Locked)?;
        return Err(AccountError::Locked(record.name));
    }
    if !matches {
        let failures = store.record_login_failure(
            record.id,
            now_ms,
            FAILED_LOGIN_WINDOW_MS,
            MAX_FAILED_LOGINS,
        )?;
        log(store, action, Outcome::WrongPassword)?;
        if failures.locked_now {
            log(store, Action::UserLock, Outcome::Ok)?;
            return Err(AccountError::Locked(record.name));
        }
        return Err(AccountError::BadCredentials);
    }
    Ok(record)
}

/// The user a session token belongs to, if the session is live at `now_ms`; records
/// the use, which restarts the idle clock.
///
/// A session is over (and revoked, so it stays over) once `now_ms - created` reaches
/// [`ABSOLUTE_LIFETIME_MS`] ([`AccountError::SessionExpired`]) or `now_ms - last use`
/// reaches [`IDLE_TIMEOUT_MS`] ([`AccountError::IdleTimeout`]). An unknown, logged-out
/// or revoked token, or one whose user is disabled, gives [`AccountError::NoSession`].
/// Sessions of a locked user stay valid: the lock stops password guessing, and a lock
/// caused by someone else's guesses should not end the owner's shift.
///
/// Not audited (it runs on every request); the server audits what the request does.
pub fn authenticate<S: Store + ?Sized>(store: &mut S, token: &str, now_ms: i64) -> Result<User> {
    if !plausible_token(token) {
        return Err(AccountError::NoSession);
    }
    let hash = token_hash(token);
    let Some(session) = store.session(&hash)? else {
        return Err(AccountError::NoSession);
    };
    if session.revoked {
        return Err(AccountError::NoSession);
    }
    if now_ms.saturating_sub(session.created_ms) >= ABSOLUTE_LIFETIME_MS {
        store.revoke_session(&hash)?;
        return Err(AccountError::SessionExpired);
    }
    if now_ms.saturating_sub(session.last_seen_ms) >= IDLE_TIMEOUT_MS {
        store.revoke_session(&hash)?;
        return Err(AccountError::IdleTimeout);
    }
    let user = match store.user_by_id(session.user_id)? {
        Some(u) if !u.disabled => User::from_record(u)?,
        _ => {
            store.revoke_session(&hash)?;
            return Err(AccountError::NoSession);
        }
    };
    store.touch_session(&hash, now_ms)?;
    Ok(user)
}

/// Ends a session server-side: its token never authenticates again. Returns whether a
/// live session was ended (`false` for an unknown or already ended token, which is not
/// an error: logging out twice is harmless).
///
/// Audited as `logout` on `user:NAME` when a session was ended.
pub fn logout<S: Store + ?Sized>(
    store: &mut S,
    token: &str,
    now_ms: i64,
    source: &str,
) -> Result<bool> {
    if !plausible_token(token) {
        return Ok(false);
    }
    let hash = token_hash(token);
    let Some(session) = store.session(&hash)? else {
        return Ok(false);
    };
    if !store.revoke_session(&hash)? {
        return Ok(false);
    }
    let user = reload(store, session.user_id)?;
    let ctx = Context::user(&user, source, now_ms);
    let object = format!("user:{}", user.name);
    audit::append_entry(
        store,
        &audit::entry(&ctx, Action::Logout, &object, Outcome::Ok),
    )?;
    Ok(true)
}

/// A user changes their own password: the current one must match (a wrong one counts
/// towards the lockout, as in [`login`]), the new one must meet the policy. All the
/// user's sessions end and a new one starts, whose token is returned;
/// [`User::must_change_password`] is cleared.
///
/// Audited as `user.password` on `user:NAME`, with the user as actor when it succeeds.
pub fn change_password<S: Store + ?Sized>(
    store: &mut S,
    name: &str,
    current: &str,
    new: &str,
    now_ms: i64,
    source: &str,
) -> Result<(SessionToken, User)> {
    let record = check_credentials(store, name, current, now_ms, source, Action::UserPassword)?;
    let user = User::from_record(record)?;
    let ctx = Context::user(&user, source, now_ms);
    let object = format!("user:{}", user.name);
    audited(store, &ctx, Action::UserPassword, &object, |store| {
        check_password(&user.name, new)?;
        let hash = hash_password(new)?;
        store.set_user_password(user.id, &hash, false)?;
        store.clear_login_failures(user.id)?;
        store.revoke_user_sessions(user.id)?;
        let token = new_session(store, user.id, now_ms)?;
        Ok((token, reload(store, user.id)?))
    })
}
