//! The audit chain: known-answer hashes (computed independently from the documented
//! encoding), verification, and tampering through raw SQL: edits, deletions, a
//! rewritten tail and a truncated log, each named by record id and check.

use std::path::Path;

use rusqlite::{Connection, params};
use sl_store::{SqliteStore, Store};

use super::*;

const T0: i64 = 1_767_225_600_000;

fn entry(
    ts_ms: i64,
    actor: Option<&str>,
    action: &str,
    object: &str,
    outcome: &str,
    source: &str,
) -> AuditEntry {
    AuditEntry {
        ts_ms,
        actor: actor.map(str::to_string),
        action: action.into(),
        object: object.into(),
        outcome: outcome.into(),
        source: source.into(),
    }
}

/// A log of `n` records in a file, and the file's path.
fn log_file(dir: &Path, n: i64) -> std::path::PathBuf {
    let path = dir.join("audit.db");
    let mut s = SqliteStore::open(&path).expect("open");
    for i in 1..=n {
        let name = format!("user:u{i}");
        append(
            &mut s,
            &entry(T0 + i, Some("root"), "user.add", &name, "ok", "cli"),
        )
        .expect("append");
    }
    path
}

/// A raw connection with the append-only triggers dropped: what an intruder with write
/// access to the file can do.
fn intruder(path: &Path) -> Connection {
    let c = Connection::open(path).expect("raw open");
    c.execute_batch("DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete;")
        .expect("drop triggers");
    c
}

fn verify_file(path: &Path) -> VerifyReport {
    verify(&SqliteStore::open(path).expect("open")).expect("verify")
}

#[test]
fn record_hash_matches_the_documented_encoding() {
    // Expected values computed with Python's hashlib from the encoding in the module
    // documentation, not with this code.
    let first = entry(
        T0 + 123,
        Some("alice"),
        "login",
        "user:alice",
        "ok",
        "127.0.0.1",
    );
    let h1 = record_hash(1, GENESIS_HASH, &first);
    assert_eq!(
        h1,
        "11b4afc071d4950a7f51ada2e991df1dfe6e48d44807c4458cddb86e7907458d"
    );
    let second = entry(
        T0 + 1_000,
        None,
        "login",
        "user:bob",
        "unknown_user",
        "10.0.0.7",
    );
    assert_eq!(
        record_hash(2, &h1, &second),
        "1db446ff1b08d556010a3380071e7a00fbf7e6624eb0321ff723da584f862f81"
    );
}

#[test]
fn the_encoding_is_unambiguous() {
    let base = entry(T0, None, "ab", "c", "ok", "cli");
    let h = |e: &AuditEntry| record_hash(1, GENESIS_HASH, e);
    let mut shifted = base.clone();
    shifted.action = "a".into();
    shifted.object = "bc".into();
    assert_ne!(h(&base), h(&shifted), "field boundaries");
    let mut empty_actor = base.clone();
    empty_actor.actor = Some(String::new());
    assert_ne!(h(&base), h(&empty_actor), "no actor vs an empty one");
    assert_ne!(h(&base), record_hash(2, GENESIS_HASH, &base), "the id");
    let mut later = base.clone();
    later.ts_ms += 1;
    assert_ne!(h(&base), h(&later), "the millisecond");
}

#[test]
fn an_untouched_log_verifies_and_reports_its_head() {
    let mut s = SqliteStore::in_memory().expect("store");
    let empty = verify(&s).expect("verify");
    assert_eq!(empty, VerifyReport::default());
    assert!(empty.is_ok());
    let mut last = None;
    for action in Action::ALL {
        let ctx = crate::accounts::Context::local(T0);
        last = Some(record(&mut s, &ctx, action, "dataset:x", Outcome::Ok).expect("record"));
    }
    let last = last.expect("records");
    let report = verify(&s).expect("verify");
    assert!(report.is_ok(), "{report:?}");
    assert_eq!(report.records, Action::ALL.len() as u64);
    assert_eq!(
        report.head,
        Some(Anchor {
            id: last.id,
            hash: last.hash.clone()
        })
    );
    let anchor: Anchor = format!("{}:{}", last.id, last.hash.to_uppercase())
        .parse()
        .expect("anchor");
    assert!(verify_anchored(&s, &anchor).expect("verify").is_ok());
    let names: Vec<String> = list(&s, 3)
        .expect("list")
        .into_iter()
        .map(|r| r.action)
        .collect();
    assert_eq!(names, ["forecast.run", "layer.upload", "layer.remove"]);
}

#[test]
fn an_edited_record_is_named_by_its_hash() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = log_file(dir.path(), 5);
    let n = intruder(&path)
        .execute("UPDATE audit_log SET outcome='denied' WHERE id=3", [])
        .expect("tamper");
    assert_eq!(n, 1);
    let report = verify_file(&path);
    assert_eq!(
        report.problems,
        [Problem {
            id: 3,
            check: Check::Hash
        }]
    );
    assert_eq!(
        report.first_problem().map(ToString::to_string).as_deref(),
        Some(
            "record 3: its stored hash does not match its contents, so the record was altered after it was written"
        )
    );
}

#[test]
fn an_edit_with_a_recomputed_hash_breaks_the_next_link() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = log_file(dir.path(), 5);
    let c = intruder(&path);
    let prev: String = c
        .query_row("SELECT prev_hash FROM audit_log WHERE id=3", [], |r| {
            r.get(0)
        })
        .expect("read");
    let forged = entry(T0 + 3, Some("root"), "user.add", "user:u3", "denied", "cli");
    c.execute(
        "UPDATE audit_log SET outcome='denied', hash=?1 WHERE id=3",
        params![record_hash(3, &prev, &forged)],
    )
    .expect("tamper");
    assert_eq!(
        verify_file(&path).problems,
        [Problem {
            id: 4,
            check: Check::Link
        }]
    );
}

#[test]
fn a_deleted_record_is_named_by_the_one_after_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = log_file(dir.path(), 5);
    intruder(&path)
        .execute("DELETE FROM audit_log WHERE id=3", [])
        .expect("tamper");
    let report = verify_file(&path);
    assert_eq!(
        report.problems,
        [
            Problem {
                id: 4,
                check: Check::Sequence { expected: 3 }
            },
            Problem {
                id: 4,
                check: Check::Link
            },
        ]
    );
    assert_eq!(
        report.problems[0].to_string(),
        "record 4: ids jump from 2 to 4, so records 3 to 3 were deleted"
    );
}

#[test]
fn a_rewritten_or_truncated_tail_is_caught_only_by_an_anchor() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = log_file(dir.path(), 5);
    let head = verify_file(&path).head.expect("head");
    assert_eq!(head.id, 5);
    // Cut the last record: the chain still verifies, the anchor does not.
    intruder(&path)
        .execute("DELETE FROM audit_log WHERE id=5", [])
        .expect("truncate");
    assert!(verify_file(&path).is_ok());
    let s = SqliteStore::open(&path).expect("open");
    assert_eq!(
        verify_anchored(&s, &head).expect("verify").problems,
        [Problem {
            id: 5,
            check: Check::AnchorMissing
        }]
    );
    drop(s);
    // Rewrite records 2 to 4 with consistent hashes: the chain verifies, an anchor on
    // record 4 does not.
    let anchor4 = Anchor {
        id: 4,
        hash: SqliteStore::open(&path)
            .expect("open")
            .audit_tail(1)
            .expect("tail")[0]
            .hash
            .clone(),
    };
    let c = intruder(&path);
    let mut prev: String = c
        .query_row("SELECT hash FROM audit_log WHERE id=1", [], |r| r.get(0))
        .expect("read");
    for id in 2..=4 {
        let forged = entry(
            T0 + id,
            Some("root"),
            "user.add",
            &format!("user:u{id}"),
            "denied",
            "cli",
        );
        let hash = record_hash(id, &prev, &forged);
        c.execute(
            "UPDATE audit_log SET outcome='denied', prev_hash=?2, hash=?3 WHERE id=?1",
            params![id, prev, hash],
        )
        .expect("rewrite");
        prev = hash;
    }
    drop(c);
    assert!(verify_file(&path).is_ok(), "a full rewrite verifies");
    let s = SqliteStore::open(&path).expect("open");
    let report = verify_anchored(&s, &anchor4).expect("verify");
    assert_eq!(
        report.problems,
        [Problem {
            id: 4,
            check: Check::AnchorMismatch {
                expected: anchor4.hash.clone()
            }
        }]
    );
}

#[test]
fn anchors_parse_strictly() {
    for bad in [
        "",
        "5",
        "5:abc",
        "x:".to_string().as_str(),
        &format!("0:{GENESIS_HASH}"),
        &format!("5:{}", "g".repeat(64)),
    ] {
        let e = bad.parse::<Anchor>().expect_err(bad);
        assert!(e.to_string().contains("is not ID:HASH"), "{e}");
    }
    let a: Anchor = format!(" 7 : {} ", "AB".repeat(32))
        .parse()
        .expect("anchor");
    assert_eq!((a.id, a.hash), (7, "ab".repeat(32)));
}

/// Two connections appending at once never fork the chain: the store takes the write
/// lock before it reads the head.
#[test]
fn concurrent_writers_keep_one_chain() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("audit.db");
    drop(SqliteStore::open(&path).expect("create"));
    let writers: Vec<_> = (0..2)
        .map(|w| {
            let path = path.clone();
            std::thread::spawn(move || {
                let mut s = SqliteStore::open(&path).expect("open");
                for i in 0..100 {
                    let object = format!("writer:{w} item:{i}");
                    append(
                        &mut s,
                        &entry(T0 + i, None, "data.read", &object, "ok", "cli"),
                    )
                    .expect("append");
                }
            })
        })
        .collect();
    for w in writers {
        w.join().expect("writer thread");
    }
    let report = verify_file(&path);
    assert!(report.is_ok(), "{:?}", report.problems);
    assert_eq!(report.records, 200);
    assert_eq!(report.head.map(|h| h.id), Some(200));
}
