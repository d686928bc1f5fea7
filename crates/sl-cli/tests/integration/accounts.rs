//! `streetlight user` and `streetlight audit`: the first admin's generated password logs
//! in, passwords from standard input are checked, mistakes are explained, and a row of
//! the audit log changed with raw SQL is named by `audit verify`.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use serde_json::Value;
use sl_engine::SqliteStore;
use sl_engine::accounts::{self, AccountError, Role};

use super::{describe, failing, run, run_json, streetlight};

fn user(db: &Path, args: &[&str]) -> Command {
    let mut c = streetlight();
    c.arg("user")
        .arg(args[0])
        .arg("--db")
        .arg(db)
        .args(&args[1..]);
    c
}

fn audit(db: &Path, args: &[&str]) -> Command {
    let mut c = streetlight();
    c.arg("audit")
        .arg(args[0])
        .arg("--db")
        .arg(db)
        .args(&args[1..]);
    c
}

/// Runs a command with `input` on standard input.
fn with_stdin(cmd: &mut Command, input: &str) -> Output {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", describe(cmd)));
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes())
        .expect("write stdin");
    child.wait_with_output().expect("wait")
}

fn now_ms() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}

#[test]
fn the_first_admin_gets_a_generated_password_that_logs_in() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let db = tmp.path().join("new.db");
    // Text output: the password appears once, on its own line.
    let out = run(&mut user(&db, &["add", "Chief", "--role", "admin"]));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines[0], "added user chief (admin)", "{stdout}");
    let password = lines[1]
        .strip_prefix("password: ")
        .unwrap_or_else(|| panic!("no password line: {stdout}"))
        .to_string();
    assert_eq!(password.len(), 29, "{password}");
    assert_eq!(stdout.matches(&password).count(), 1, "{stdout}");

    let mut store = SqliteStore::open(&db).expect("open");
    let t = now_ms();
    let (token, chief) =
        accounts::login(&mut store, "chief", &password, t, "127.0.0.1").expect("login");
    assert_eq!(chief.role, Role::Admin);
    assert!(
        chief.must_change_password,
        "a generated password is temporary"
    );
    assert_eq!(
        accounts::authenticate(&mut store, token.as_str(), t + 1)
            .expect("session")
            .name,
        "chief"
    );
    let e = accounts::login(&mut store, "chief", "not the password", t + 2, "127.0.0.1")
        .expect_err("wrong password");
    assert!(matches!(e, AccountError::BadCredentials), "{e}");
    drop(store);

    // JSON output carries the generated password; the database holds only its hash.
    let v = run_json(&mut user(
        &db,
        &["add", "ada", "--role", "analyst", "--json"],
    ));
    let generated = v["password"].as_str().expect("password").to_string();
    assert_eq!(v["name"], "ada");
    assert_eq!(v["role"], "analyst");
    assert_eq!(v["must_change_password"], true);
    let mut bytes = Vec::new();
    for entry in std::fs::read_dir(tmp.path()).expect("list") {
        bytes.extend(std::fs::read(entry.expect("entry").path()).expect("read"));
    }
    for secret in [&password, &generated] {
        assert!(
            !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
            "a password is stored in clear"
        );
    }
    // `user list` shows both, without any password.
    let list = run_json(&mut user(&db, &["list", "--json"]));
    let names: Vec<&str> = list["users"]
        .as_array()
        .expect("users")
        .iter()
        .map(|u| u["name"].as_str().expect("name"))
        .collect();
    assert_eq!(names, ["ada", "chief"]);
    for u in list["users"].as_array().expect("users") {
        assert!(u.get("password").is_none(), "{u}");
        assert!(!u.to_string().contains(&password), "{u}");
    }
}

#[test]
fn a_password_from_stdin_is_checked_and_is_not_temporary() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let db = tmp.path().join("s.db");
    // A common password is refused before any database is created.
    let out = with_stdin(
        &mut user(&db, &["add", "root", "--role", "admin", "--password-stdin"]),
        "Password1\n",
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "error: the password is one of the 30,000 most common passwords: choose one that is not\n"
    );
    assert!(
        !db.exists(),
        "a refused first admin leaves no database behind"
    );
    // Spaces and Unicode are kept as typed; only the line ending goes.
    let chosen = " Zwölf Boxkämpfer jagen Viktor ";
    let out = with_stdin(
        &mut user(
            &db,
            &[
                "add",
                "root",
                "--role",
                "admin",
                "--password-stdin",
                "--json",
            ],
        ),
        &format!("{chosen}\r\n"),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["must_change_password"], false);
    assert!(v.get("password").is_none(), "{v}");
    let mut store = SqliteStore::open(&db).expect("open");
    accounts::login(&mut store, "root", chosen, now_ms(), "127.0.0.1").expect("login as typed");
    assert!(accounts::login(&mut store, "root", chosen.trim(), now_ms(), "127.0.0.1").is_err());
    drop(store);
    // In an existing database the engine refuses, and the refusal is audited.
    let out = with_stdin(
        &mut user(&db, &["add", "bob", "--role", "viewer", "--password-stdin"]),
        "short\n",
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("the password has 5 characters; use at least 8"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let records = run_json(&mut audit(&db, &["list", "--json"]));
    let last = records["records"]
        .as_array()
        .and_then(|r| r.last())
        .expect("a record");
    assert_eq!(last["action"], "user.add");
    assert_eq!(last["object"], "user:bob role:viewer");
    assert_eq!(last["outcome"], "refused");
    assert_eq!(last["source"], "cli");
    assert_eq!(last["actor"], Value::Null);
}

#[test]
fn user_mistakes_are_explained() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let db = tmp.path().join("m.db");
    let err = failing(&mut user(&db, &["list"]));
    assert!(err.contains("does not exist"), "{err}");
    assert!(
        err.contains("streetlight user add NAME --role admin"),
        "{err}"
    );
    let err = failing(&mut user(&db, &["add", "ada", "--role", "chief"]));
    assert_eq!(
        err,
        "error: `chief` is not a role: use admin, analyst, supervisor or viewer\n"
    );
    let err = failing(&mut user(&db, &["add", "ada lovelace", "--role", "viewer"]));
    assert!(
        err.contains("user name `ada lovelace` is not allowed"),
        "{err}"
    );
    assert!(!db.exists());
    run_json(&mut user(
        &db,
        &["add", "root", "--role", "admin", "--json"],
    ));
    let err = failing(&mut user(&db, &["add", "ROOT", "--role", "viewer"]));
    assert!(err.contains("user `root` already exists"), "{err}");
    let err = failing(&mut user(&db, &["role", "nobody", "viewer"]));
    assert!(err.contains("no user named `nobody`"), "{err}");
    let err = failing(&mut user(&db, &["disable", "root"]));
    assert!(err.contains("last enabled admin"), "{err}");
    let err = failing(&mut with_stdin_cmd(&db));
    assert!(err.contains("no password on standard input"), "{err}");
}

/// `user password NAME --password-stdin` with nothing on standard input.
fn with_stdin_cmd(db: &Path) -> Command {
    let mut c = user(db, &["password", "root", "--password-stdin"]);
    c.stdin(Stdio::null());
    c
}

#[test]
fn audit_verify_names_the_row_changed_with_raw_sql() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let db = tmp.path().join("a.db");
    run_json(&mut user(
        &db,
        &["add", "root", "--role", "admin", "--json"],
    ));
    run_json(&mut user(
        &db,
        &["add", "ada", "--role", "viewer", "--json"],
    ));
    run_json(&mut user(&db, &["role", "ada", "analyst", "--json"]));
    run_json(&mut user(&db, &["unlock", "ada", "--json"]));
    run_json(&mut user(&db, &["disable", "ada", "--json"]));

    let ok = run_json(&mut audit(&db, &["verify", "--json"]));
    assert_eq!(ok["ok"], true, "{ok:#}");
    assert_eq!(ok["records"], 5);
    assert_eq!(ok["head"]["id"], 5);
    let head = format!(
        "{}:{}",
        ok["head"]["id"],
        ok["head"]["hash"].as_str().expect("hash")
    );
    let text = run(&mut audit(&db, &["verify"]));
    assert!(text.status.success());
    assert!(
        String::from_utf8_lossy(&text.stdout)
            .starts_with("ok: 5 audit records, every hash and link verifies\n"),
        "{}",
        String::from_utf8_lossy(&text.stdout)
    );
    let list = run_json(&mut audit(&db, &["list", "--json", "--limit", "2"]));
    let actions: Vec<&str> = list["records"]
        .as_array()
        .expect("records")
        .iter()
        .map(|r| r["action"].as_str().expect("action"))
        .collect();
    assert_eq!(actions, ["user.unlock", "user.disable"]);

    // The append-only trigger stops a plain edit…
    let conn = rusqlite::Connection::open(&db).expect("raw open");
    let e = conn
        .execute("UPDATE audit_log SET outcome='denied' WHERE id=3", [])
        .expect_err("trigger");
    assert!(e.to_string().contains("append-only"), "{e}");
    // …and once it is dropped, the chain shows the edit.
    conn.execute_batch("DROP TRIGGER audit_log_no_update")
        .expect("drop trigger");
    conn.execute(
        "UPDATE audit_log SET object='user:eve role:analyst->admin' WHERE id=3",
        [],
    )
    .expect("tamper");
    drop(conn);

    let out = run(&mut audit(&db, &["verify"]));
    assert_eq!(out.status.code(), Some(4), "tampering exits with code 4");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.starts_with(
            "problem: record 3: its stored hash does not match its contents, so the record was altered after it was written\n"
        ),
        "{stdout}"
    );
    assert!(stdout.contains("the first at record 3"), "{stdout}");
    let out = run(&mut audit(&db, &["verify", "--json"]));
    assert_eq!(out.status.code(), Some(4));
    let v: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["ok"], false);
    assert_eq!(v["problems"].as_array().map(Vec::len), Some(1), "{v:#}");
    assert_eq!(v["problems"][0]["id"], 3);
    assert_eq!(v["problems"][0]["check"], "hash");

    // An anchor taken before the edit still matches (record 5 was not touched), and one
    // on a record that does not exist is reported.
    let out = run(&mut audit(&db, &["verify", "--json", "--anchor", &head]));
    let v: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["anchor"], head.as_str());
    assert_eq!(v["problems"].as_array().map(Vec::len), Some(1), "{v:#}");
    let missing = format!("9:{}", &head[2..]);
    let out = run(&mut audit(&db, &["verify", "--json", "--anchor", &missing]));
    let v: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["problems"][1]["id"], 9, "{v:#}");
    assert_eq!(v["problems"][1]["check"], "anchor_missing");
}
