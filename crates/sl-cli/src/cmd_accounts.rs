//! `streetlight user …` and `streetlight audit …`: accounts, roles and the audit trail.
//!
//! The command line acts as the local operator (`Actor::Local`): whoever can write the
//! database file controls it anyway. Every account change is audited by the engine with
//! no actor and source `cli`.

use std::io::BufRead;
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context as _, Result, bail};
use serde_json::{Value, json};
use sl_engine::SqliteStore;
use sl_engine::accounts::{self, Context, Role, User};
use sl_engine::audit::{self, Anchor, AuditRecord, VerifyReport};

use crate::DbArg;

#[derive(Debug, clap::Args)]
pub struct UserArgs {
    #[command(subcommand)]
    pub command: UserCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum UserCommand {
    /// Create a user. Without --password-stdin a strong password is generated and
    /// printed once; there is never a default password.
    ///
    ///   streetlight user add chief --role admin --db city.db
    ///   printf '%s\n' "$PASSWORD" | streetlight user add ada --role analyst --password-stdin
    #[command(verbatim_doc_comment)]
    Add(UserAddArgs),
    /// List users with their role and state (active, locked, disabled).
    List(UserListArgs),
    /// Change a user's role.
    Role(UserRoleArgs),
    /// Set a new password for a user and end their sessions (generated unless --password-stdin).
    Password(UserPasswordArgs),
    /// Unlock an account locked after repeated failed logins.
    Unlock(UserNameArgs),
    /// Disable an account: it cannot log in and its sessions end.
    Disable(UserNameArgs),
    /// Enable a disabled account again.
    Enable(UserNameArgs),
}

#[derive(Debug, clap::Args)]
pub struct UserAddArgs {
    #[command(flatten)]
    pub db: DbArg,
    /// User name: 1 to 64 letters, digits, `.`, `_`, `-` or `@` (case-insensitive).
    pub name: String,
    /// admin, analyst, supervisor or viewer.
    #[arg(long)]
    pub role: String,
    /// Read the password from the first line of standard input instead of generating one.
    #[arg(long)]
    pub password_stdin: bool,
    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, clap::Args)]
pub struct UserListArgs {
    #[command(flatten)]
    pub db: DbArg,
    /// Print as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, clap::Args)]
pub struct UserRoleArgs {
    #[command(flatten)]
    pub db: DbArg,
    pub name: String,
    /// admin, analyst, supervisor or viewer.
    pub role: String,
    /// Print the user as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, clap::Args)]
pub struct UserPasswordArgs {
    #[command(flatten)]
    pub db: DbArg,
    pub name: String,
    /// Read the password from the first line of standard input instead of generating one.
    #[arg(long)]
    pub password_stdin: bool,
    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, clap::Args)]
pub struct UserNameArgs {
    #[command(flatten)]
    pub db: DbArg,
    pub name: String,
    /// Print the user as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, clap::Args)]
pub struct AuditArgs {
    #[command(subcommand)]
    pub command: AuditCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum AuditCommand {
    /// Check the audit log's hash chain; exit code 4 and the records that fail when it
    /// was tampered with.
    Verify(AuditVerifyArgs),
    /// Print the latest audit records, oldest first.
    List(AuditListArgs),
}

#[derive(Debug, clap::Args)]
pub struct AuditVerifyArgs {
    #[command(flatten)]
    pub db: DbArg,
    /// Also check that record ID still has HASH (a head printed by an earlier verify and
    /// kept elsewhere): catches a log cut short or rewritten from that record back.
    #[arg(long, value_name = "ID:HASH")]
    pub anchor: Option<String>,
    /// Print as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, clap::Args)]
pub struct AuditListArgs {
    #[command(flatten)]
    pub db: DbArg,
    /// How many of the latest records to print.
    #[arg(long, default_value_t = 50)]
    pub limit: usize,
    /// Print as JSON.
    #[arg(long)]
    pub json: bool,
}

fn now_ms() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}

/// UTC milliseconds as RFC 3339 with exactly three decimals, e.g. `2026-01-01T09:30:00.250Z`.
pub fn time_ms(ms: i64) -> String {
    let (secs, frac) = (ms.div_euclid(1000), ms.rem_euclid(1000));
    match jiff::Timestamp::from_second(secs) {
        Ok(t) => format!("{}.{frac:03}Z", t.strftime("%Y-%m-%dT%H:%M:%S")),
        Err(_) => format!("{ms} ms"),
    }
}

/// Opens a database that must exist (every command here except `user add`).
fn open_existing(db: &DbArg) -> Result<SqliteStore> {
    if !db.db.is_file() {
        bail!(
            "database {} does not exist: check --db, or create it with its first admin: `streetlight user add NAME --role admin --db {}`",
            db.db.display(),
            db.db.display()
        );
    }
    SqliteStore::open(&db.db).with_context(|| format!("opening database {}", db.db.display()))
}

/// The first line of standard input, without its line ending.
fn password_from_stdin() -> Result<String> {
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("reading the password from standard input")?;
    let line = line
        .strip_suffix('\n')
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .unwrap_or(&line)
        .to_string();
    if line.is_empty() {
        bail!(
            "no password on standard input: pipe one in (printf '%s\\n' \"$PASSWORD\" | streetlight user …), or leave out --password-stdin to have one generated"
        );
    }
    Ok(line)
}

fn user_json(u: &User) -> Value {
    json!({
        "name": u.name,
        "role": u.role.as_str(),
        "created": time_ms(u.created_ms),
        "must_change_password": u.must_change_password,
        "locked": u.locked,
        "disabled": u.disabled,
    })
}

fn state(u: &User) -> &'static str {
    if u.disabled {
        "disabled"
    } else if u.locked {
        "locked"
    } else if u.must_change_password {
        "must change password"
    } else {
        "active"
    }
}

fn print_user(u: &User, json: bool, text: &str) -> Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(&user_json(u))?);
    } else {
        println!("{text}");
    }
    Ok(())
}

/// A password for `name`: from standard input, or generated (then returned as such).
fn new_password(from_stdin: bool) -> Result<(String, bool)> {
    if from_stdin {
        Ok((password_from_stdin()?, false))
    } else {
        Ok((accounts::generate_password()?, true))
    }
}

fn print_with_password(u: &User, password: Option<&str>, json: bool, done: &str) -> Result<()> {
    if json {
        let mut v = user_json(u);
        if let (Some(p), Some(m)) = (password, v.as_object_mut()) {
            m.insert("password".into(), json!(p));
        }
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(());
    }
    println!("{done}");
    if let Some(p) = password {
        println!("password: {p}");
        println!(
            "This password is shown once and cannot be read back: hand it to {} now. The account is marked to choose a new password at the first login.",
            u.name
        );
    }
    Ok(())
}

pub fn run_user(a: UserArgs) -> Result<ExitCode> {
    match a.command {
        UserCommand::Add(a) => add(a),
        UserCommand::List(a) => list(a),
        UserCommand::Role(a) => role(a),
        UserCommand::Password(a) => password(a),
        UserCommand::Unlock(a) => {
            let mut store = open_existing(&a.db)?;
            let u = accounts::unlock(&mut store, &Context::local(now_ms()), &a.name)?;
            print_user(
                &u,
                a.json,
                &format!("unlocked {} (its failed logins are forgotten)", u.name),
            )?;
            Ok(ExitCode::SUCCESS)
        }
        UserCommand::Disable(a) => {
            let mut store = open_existing(&a.db)?;
            let u = accounts::disable(&mut store, &Context::local(now_ms()), &a.name)?;
            print_user(
                &u,
                a.json,
                &format!("disabled {} (its sessions are ended)", u.name),
            )?;
            Ok(ExitCode::SUCCESS)
        }
        UserCommand::Enable(a) => {
            let mut store = open_existing(&a.db)?;
            let u = accounts::enable(&mut store, &Context::local(now_ms()), &a.name)?;
            print_user(&u, a.json, &format!("enabled {}", u.name))?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn add(a: UserAddArgs) -> Result<ExitCode> {
    let role = Role::parse(&a.role)?;
    let (password, generated) = new_password(a.password_stdin)?;
    if !a.db.db.exists() {
        // Refuse a bad name or password before creating a database file; in an
        // existing database the engine refuses them and audits the attempt.
        let name = accounts::normalise_name(&a.name)?;
        accounts::check_password(&name, &password)?;
    }
    let mut store = SqliteStore::open(&a.db.db)
        .with_context(|| format!("opening database {}", a.db.db.display()))?;
    let u = accounts::add_user(
        &mut store,
        &Context::local(now_ms()),
        &a.name,
        role,
        &password,
        generated,
    )?;
    print_with_password(
        &u,
        generated.then_some(password.as_str()),
        a.json,
        &format!("added user {} ({})", u.name, u.role),
    )?;
    Ok(ExitCode::SUCCESS)
}

fn password(a: UserPasswordArgs) -> Result<ExitCode> {
    let mut store = open_existing(&a.db)?;
    let (password, generated) = new_password(a.password_stdin)?;
    let u = accounts::set_password(
        &mut store,
        &Context::local(now_ms()),
        &a.name,
        &password,
        true,
    )?;
    print_with_password(
        &u,
        generated.then_some(password.as_str()),
        a.json,
        &format!(
            "set a new password for {} (their sessions are ended; the account is marked to choose a new password at the next login)",
            u.name
        ),
    )?;
    Ok(ExitCode::SUCCESS)
}

fn role(a: UserRoleArgs) -> Result<ExitCode> {
    let role = Role::parse(&a.role)?;
    let mut store = open_existing(&a.db)?;
    let u = accounts::set_role(&mut store, &Context::local(now_ms()), &a.name, role)?;
    print_user(&u, a.json, &format!("{} is now {}", u.name, u.role))?;
    Ok(ExitCode::SUCCESS)
}

fn list(a: UserListArgs) -> Result<ExitCode> {
    let mut store = open_existing(&a.db)?;
    let users = accounts::list_users(&mut store, &Context::local(now_ms()))?;
    if a.json {
        let v = json!({"users": users.iter().map(user_json).collect::<Vec<_>>()});
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(ExitCode::SUCCESS);
    }
    if users.is_empty() {
        println!(
            "no users yet: add the first admin with `streetlight user add NAME --role admin --db {}`",
            a.db.db.display()
        );
        return Ok(ExitCode::SUCCESS);
    }
    let rows: Vec<[String; 4]> = users
        .iter()
        .map(|u| {
            [
                u.name.clone(),
                u.role.to_string(),
                state(u).to_string(),
                time_ms(u.created_ms),
            ]
        })
        .collect();
    print!(
        "{}",
        table(&["NAME", "ROLE", "STATE", "CREATED (UTC)"], &rows)
    );
    Ok(ExitCode::SUCCESS)
}

/// Left-aligned columns separated by two spaces.
fn table<const N: usize>(header: &[&str; N], rows: &[[String; N]]) -> String {
    let mut widths = header.map(|h| h.chars().count());
    for r in rows {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let mut s = String::new();
        for (i, (c, w)) in cells.iter().zip(widths).enumerate() {
            if i + 1 == N {
                s.push_str(c);
            } else {
                s.push_str(&format!("{c:<w$}  "));
            }
        }
        s.truncate(s.trim_end().len());
        s.push('\n');
        s
    };
    let mut out = line(header.to_vec());
    for r in rows {
        out.push_str(&line(r.iter().map(String::as_str).collect()));
    }
    out
}

/// Control characters written as escapes, so that a crafted login name cannot forge
/// lines of the listing (log injection).
fn printable(s: &str) -> String {
    s.chars()
        .flat_map(|c| {
            let escaped: Vec<char> = if c.is_control() {
                c.escape_default().collect()
            } else {
                vec![c]
            };
            escaped
        })
        .collect()
}

pub fn run_audit(a: AuditArgs) -> Result<ExitCode> {
    match a.command {
        AuditCommand::Verify(a) => verify(a),
        AuditCommand::List(a) => audit_list(a),
    }
}

fn record_json(r: &AuditRecord) -> Value {
    json!({
        "id": r.id,
        "time": time_ms(r.ts_ms),
        "ts_ms": r.ts_ms,
        "actor": r.actor,
        "action": r.action,
        "object": r.object,
        "outcome": r.outcome,
        "source": r.source,
        "prev_hash": r.prev_hash,
        "hash": r.hash,
    })
}

fn audit_list(a: AuditListArgs) -> Result<ExitCode> {
    let store = open_existing(&a.db)?;
    let records = audit::list(&store, a.limit)?;
    if a.json {
        let v = json!({"records": records.iter().map(record_json).collect::<Vec<_>>()});
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(ExitCode::SUCCESS);
    }
    if records.is_empty() {
        println!("the audit log is empty");
        return Ok(ExitCode::SUCCESS);
    }
    let rows: Vec<[String; 7]> = records
        .iter()
        .map(|r| {
            [
                r.id.to_string(),
                time_ms(r.ts_ms),
                r.actor
                    .as_deref()
                    .map_or_else(|| "-".to_string(), printable),
                printable(&r.action),
                printable(&r.object),
                printable(&r.outcome),
                printable(&r.source),
            ]
        })
        .collect();
    print!(
        "{}",
        table(
            &[
                "ID",
                "TIME (UTC)",
                "ACTOR",
                "ACTION",
                "OBJECT",
                "OUTCOME",
                "SOURCE"
            ],
            &rows
        )
    );
    Ok(ExitCode::SUCCESS)
}

fn verify_json(report: &VerifyReport, anchor: Option<&Anchor>) -> Value {
    let mut v = json!({
        "ok": report.is_ok(),
        "records": report.records,
        "head": report.head.as_ref().map(|h| json!({"id": h.id, "hash": h.hash})),
        "problems": report.problems.iter().map(|p| json!({
            "id": p.id,
            "check": p.check.as_str(),
            "message": p.to_string(),
        })).collect::<Vec<_>>(),
    });
    if let (Some(a), Some(m)) = (anchor, v.as_object_mut()) {
        m.insert("anchor".into(), json!(a.to_string()));
    }
    v
}

fn verify(a: AuditVerifyArgs) -> Result<ExitCode> {
    let anchor = a.anchor.as_deref().map(str::parse::<Anchor>).transpose()?;
    let store = open_existing(&a.db)?;
    let report = match &anchor {
        Some(anchor) => audit::verify_anchored(&store, anchor)?,
        None => audit::verify(&store)?,
    };
    if a.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&verify_json(&report, anchor.as_ref()))?
        );
    } else {
        print!("{}", verify_text(&report, anchor.as_ref(), &a.db.db));
    }
    Ok(if report.is_ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(crate::EXIT_CHECK_FAILED)
    })
}

fn verify_text(report: &VerifyReport, anchor: Option<&Anchor>, db: &Path) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    if report.is_ok() {
        match &report.head {
            None => {
                let _ = writeln!(s, "ok: the audit log is empty");
            }
            Some(head) => {
                let _ = writeln!(
                    s,
                    "ok: {} audit records, every hash and link verifies{}",
                    report.records,
                    anchor.map_or(String::new(), |a| format!(
                        ", and record {} still has the anchored hash",
                        a.id
                    ))
                );
                let _ = writeln!(s, "head: {head}");
                let _ = writeln!(
                    s,
                    "(keep the head line somewhere else; `streetlight audit verify --db {} --anchor {head}` later shows whether the log was cut short or rewritten)",
                    db.display()
                );
            }
        }
        return s;
    }
    for p in &report.problems {
        let _ = writeln!(s, "problem: {p}");
    }
    if let Some(first) = report.first_problem() {
        let _ = writeln!(
            s,
            "the audit log was tampered with: {} problem(s) in {} records, the first at record {}. Keep this database file as evidence, restore the log from a backup, and look at the records around it with `streetlight audit list --db {}`",
            report.problems.len(),
            report.records,
            first.id,
            db.display()
        );
    }
    s
}
