//! Accounts: password policy, Argon2id hashes, lockout, session expiry, logout, token
//! storage and the audit records each operation leaves. Time is injected (`now_ms`),
//! never waited for.

use sl_store::{SqliteStore, Store};

use super::password::{CURRENT_PREFIX, DUMMY_HASH, is_trivial_pattern, needs_rehash};
use super::*;
use crate::audit;

/// 2026-01-01T00:00:00Z.
const T0: i64 = 1_767_225_600_000;
const MIN: i64 = 60_000;
const HOUR: i64 = 60 * MIN;
const PW: &str = "tangerine ferry quartz";

fn store() -> SqliteStore {
    SqliteStore::in_memory().expect("in-memory store")
}

fn add(store: &mut SqliteStore, name: &str, role: Role) -> User {
    add_user(store, &Context::local(T0), name, role, PW, false).expect("add user")
}

/// (actor, action, object, outcome) of every audit record, oldest first.
fn audit_trail(store: &SqliteStore) -> Vec<(Option<String>, String, String, String)> {
    audit::list(store, 1000)
        .expect("audit list")
        .into_iter()
        .map(|r| (r.actor, r.action, r.object, r.outcome))
        .collect()
}

fn row(
    actor: Option<&str>,
    action: &str,
    object: &str,
    outcome: &str,
) -> (Option<String>, String, String, String) {
    (
        actor.map(str::to_string),
        action.to_string(),
        object.to_string(),
        outcome.to_string(),
    )
}

// ---------------------------------------------------------------------------------------
// Password policy and hashing
// ---------------------------------------------------------------------------------------

#[test]
fn policy_length_window_counts_characters_not_bytes() {
    assert_eq!(
        check_password("ada", "qz7#vb"),
        Err(PasswordProblem::TooShort { chars: 6 })
    );
    assert_eq!(
        check_password("ada", "qz7#vbm"),
        Err(PasswordProblem::TooShort { chars: 7 })
    );
    assert_eq!(check_password("ada", "qz7#vbmw"), Ok(()));
    // Eight characters, sixteen bytes.
    assert_eq!(check_password("ada", "ÿçĝĥĵķľñ"), Ok(()));
    // Unicode of every kind, spaces included, up to 128 characters.
    let varied: String = "Straße, 東京 и 🚓 ñandú! "
        .chars()
        .cycle()
        .take(MAX_PASSWORD_CHARS)
        .collect();
    assert_eq!(varied.chars().count(), 128);
    assert!(varied.len() > 128, "multi-byte characters");
    assert_eq!(check_password("ada", &varied), Ok(()));
    let longer: String = "Straße, 東京 и 🚓 ñandú! "
        .chars()
        .cycle()
        .take(MAX_PASSWORD_CHARS + 1)
        .collect();
    assert_eq!(
        check_password("ada", &longer),
        Err(PasswordProblem::TooLong { chars: 129 })
    );
}

#[test]
fn policy_refuses_common_context_and_trivial_passwords() {
    // On the list, whatever the case.
    for common in [
        "password",
        "Password1",
        "QWERTYUIOP",
        "iloveyou",
        "trustno1",
    ] {
        assert_eq!(
            check_password("ada", common),
            Err(PasswordProblem::Common),
            "{common}"
        );
    }
    // The list is the embedded file, in full.
    assert_eq!(password::common_passwords().len(), 30_000);
    // The user's own name (when 4 characters or more), or the product's.
    assert_eq!(
        check_password("grace", "Grace-2026-04"),
        Err(PasswordProblem::ContextWord)
    );
    assert_eq!(
        check_password("al", "al"),
        Err(PasswordProblem::TooShort { chars: 2 })
    );
    assert_eq!(check_password("al", "royal flush 44"), Ok(()));
    assert_eq!(
        check_password("ada", "my streetlight pw"),
        Err(PasswordProblem::ContextWord)
    );
    // Repeats and straight runs.
    assert_eq!(
        check_password("ada", "ßßßßßßßßß"),
        Err(PasswordProblem::Pattern)
    );
    assert_eq!(
        check_password("ada", "mnopqrstuv"),
        Err(PasswordProblem::Pattern)
    );
    assert_eq!(
        check_password("ada", "9876543210zyx"),
        Ok(()),
        "only a run over the whole password is trivial"
    );
    assert!(is_trivial_pattern("zyxwvuts"));
    assert!(!is_trivial_pattern("acegikmo"));
}

#[test]
fn argon2id_phc_string_carries_the_parameters_and_a_fresh_salt() {
    let a = hash_password(PW).expect("hash");
    let b = hash_password(PW).expect("hash");
    assert!(a.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{a}");
    assert_eq!(CURRENT_PREFIX, "$argon2id$v=19$m=19456,t=2,p=1$");
    assert_ne!(a, b, "every hash has its own random salt");
    // $argon2id$v=19$params$salt$hash: a 16-byte salt (22 base64 characters) and a
    // 32-byte hash (43).
    let parts: Vec<&str> = a.split('$').collect();
    assert_eq!(parts.len(), 6, "{a}");
    assert_eq!((parts[4].len(), parts[5].len()), (22, 43), "{a}");
    assert!(verify_password(PW, &a).expect("verify"));
    assert!(!verify_password("tangerine ferry quartz ", &a).expect("verify"));
    assert!(!verify_password("Tangerine ferry quartz", &a).expect("verify"));
    assert!(verify_password(PW, "not a phc string").is_err());
    // The stand-in for unknown users costs the same: same algorithm and parameters.
    assert!(DUMMY_HASH.starts_with(CURRENT_PREFIX));
    assert!(!verify_password(PW, DUMMY_HASH).expect("dummy parses"));
    assert!(!needs_rehash(&a));
    assert!(needs_rehash(
        "$argon2id$v=19$m=4096,t=3,p=1$c2FsdHNhbHQ$aGFzaGhhc2g"
    ));
}

#[test]
fn generated_passwords_are_long_random_and_meet_the_policy() {
    let a = generate_password().expect("generate");
    let b = generate_password().expect("generate");
    assert_ne!(a, b);
    for p in [&a, &b] {
        assert_eq!(p.len(), 29, "{p}");
        let groups: Vec<&str> = p.split('-').collect();
        assert_eq!(groups.len(), 6, "{p}");
        assert!(groups.iter().all(|g| g.len() == 4), "{p}");
        assert!(
            p.chars()
                .all(|c| c == '-' || (c.is_ascii_alphanumeric() && !"0O1lI".contains(c))),
            "{p}"
        );
        assert_eq!(check_password("ada", p), Ok(()));
    }
}

#[test]
fn roles_parse_and_print() {
    for r in Role::ALL {
        assert_eq!(Role::parse(r.as_str()).expect("parse"), r);
        assert_eq!(r.to_string(), r.as_str());
    }
    assert_eq!(
        "Supervisor".parse::<Role>().expect("parse"),
        Role::Supervisor
    );
    let e = Role::parse("chief").expect_err("not a role");
    assert_eq!(
        e.to_string(),
        "`chief` is not a role: use admin, analyst, supervisor or viewer"
    );
}

#[test]
fn names_are_case_insensitive_and_restricted() {
    assert_eq!(
        normalise_name("Ada.Lovelace@PD").expect("valid"),
        "ada.lovelace@pd"
    );
    for bad in ["", "-ada", "ada lovelace", "ädä", &"a".repeat(65)] {
        assert!(
            matches!(normalise_name(bad), Err(AccountError::InvalidName(_))),
            "{bad}"
        );
    }
    let mut s = store();
    add(&mut s, "Ada", Role::Viewer);
    let e = add_user(&mut s, &Context::local(T0), "ADA", Role::Admin, PW, false)
        .expect_err("same name");
    assert!(
        matches!(e, AccountError::NameTaken(ref n) if n == "ada"),
        "{e}"
    );
}

// ---------------------------------------------------------------------------------------
// Logins and lockout
// ---------------------------------------------------------------------------------------

#[test]
fn five_failures_within_fifteen_minutes_lock_until_an_admin_unlocks() {
    let mut s = store();
    add(&mut s, "ada", Role::Analyst);
    for i in 0..4 {
        let e = login(&mut s, "ada", "wrong guess here", T0 + i * MIN, "10.0.0.9")
            .expect_err("wrong password");
        assert!(matches!(e, AccountError::BadCredentials), "{e}");
    }
    // The fifth, 14:59.999 after the first, locks.
    let e = login(
        &mut s,
        "ada",
        "wrong guess here",
        T0 + 15 * MIN - 1,
        "10.0.0.9",
    )
    .expect_err("fifth failure");
    assert!(
        matches!(e, AccountError::Locked(ref n) if n == "ada"),
        "{e}"
    );
    assert_eq!(
        e.to_string(),
        "account `ada` is locked after repeated failed logins: ask an administrator to unlock it (`streetlight user unlock ada`)"
    );
    // Locked: the right password fails too, with the same distinct error, hours later.
    let e = login(&mut s, "ada", PW, T0 + 5 * HOUR, "10.0.0.9").expect_err("locked");
    assert!(matches!(e, AccountError::Locked(_)), "{e}");
    assert!(s.user("ada").expect("read").expect("ada").locked);
    // A non-admin may not unlock; the attempt is audited.
    let viewer = add(&mut s, "vic", Role::Viewer);
    let e = unlock(
        &mut s,
        &Context::user(&viewer, "10.0.0.5", T0 + 5 * HOUR),
        "ada",
    )
    .expect_err("viewer");
    assert!(matches!(e, AccountError::Forbidden(_)), "{e}");
    // An admin unlocks; the right password works again.
    let u = unlock(&mut s, &Context::local(T0 + 6 * HOUR), "ada").expect("unlock");
    assert!(!u.locked);
    let (_, u) = login(&mut s, "ada", PW, T0 + 6 * HOUR + 1, "10.0.0.9").expect("login");
    assert_eq!(u.name, "ada");
    let trail = audit_trail(&s);
    let tail: Vec<_> = trail[1..].to_vec();
    let mut expected = vec![row(None, "login", "user:ada", "wrong_password"); 5];
    expected.extend([
        row(None, "user.lock", "user:ada", "ok"),
        row(None, "login", "user:ada", "locked"),
        row(None, "user.add", "user:vic role:viewer", "ok"),
        row(Some("vic"), "user.unlock", "user:ada", "denied"),
        row(None, "user.unlock", "user:ada", "ok"),
        row(Some("ada"), "login", "user:ada", "ok"),
    ]);
    assert_eq!(tail, expected);
    assert!(audit::verify(&s).expect("verify").is_ok());
}

#[test]
fn failures_spread_over_more_than_fifteen_minutes_do_not_lock() {
    let mut s = store();
    add(&mut s, "ada", Role::Analyst);
    // Five failures at 0, 1, 2, 3 and 15:00.000 minutes: the first has left the window
    // (now − 15 min, now] when the fifth comes.
    for t in [0, MIN, 2 * MIN, 3 * MIN, 15 * MIN] {
        let e = login(&mut s, "ada", "wrong guess here", T0 + t, "10.0.0.9")
            .expect_err("wrong password");
        assert!(matches!(e, AccountError::BadCredentials), "at {t} ms: {e}");
    }
    // Then one every four minutes, forever: never five in a window.
    for k in 1..=10 {
        let t = 15 * MIN + k * 4 * MIN;
        let e = login(&mut s, "ada", "wrong guess here", T0 + t, "10.0.0.9")
            .expect_err("wrong password");
        assert!(matches!(e, AccountError::BadCredentials), "at {t} ms: {e}");
    }
    login(&mut s, "ada", PW, T0 + 2 * HOUR, "10.0.0.9").expect("not locked");
}

#[test]
fn a_successful_login_forgets_earlier_failures() {
    let mut s = store();
    add(&mut s, "ada", Role::Analyst);
    for i in 0..4 {
        let _ = login(&mut s, "ada", "wrong guess here", T0 + i, "10.0.0.9");
    }
    login(&mut s, "ada", PW, T0 + 10, "10.0.0.9").expect("login");
    for i in 0..4 {
        let e =
            login(&mut s, "ada", "wrong guess here", T0 + 20 + i, "10.0.0.9").expect_err("wrong");
        assert!(matches!(e, AccountError::BadCredentials), "{e}");
    }
    login(&mut s, "ada", PW, T0 + 30, "10.0.0.9").expect("still not locked");
}

#[test]
fn unknown_and_disabled_accounts_look_like_wrong_passwords() {
    let mut s = store();
    add(&mut s, "root", Role::Admin);
    add(&mut s, "ada", Role::Analyst);
    let (token, _) = login(&mut s, "ada", PW, T0, "10.0.0.9").expect("login");
    let u = disable(&mut s, &Context::local(T0 + 1), "ada").expect("disable");
    assert!(u.disabled);
    // Disabling ended the open session.
    let e = authenticate(&mut s, token.as_str(), T0 + 2).expect_err("disabled");
    assert!(matches!(e, AccountError::NoSession), "{e}");
    for name in ["ada", "nobody", "not a valid name!"] {
        let e = login(&mut s, name, PW, T0 + 3, "10.0.0.9").expect_err(name);
        assert!(matches!(e, AccountError::BadCredentials), "{name}: {e}");
        assert_eq!(
            e.to_string(),
            "wrong user name or password: check both and try again (5 failures within 15 minutes lock the account)"
        );
    }
    let trail = audit_trail(&s);
    assert_eq!(
        trail[trail.len() - 3..],
        [
            row(None, "login", "user:ada", "disabled"),
            row(None, "login", "user:nobody", "unknown_user"),
            row(None, "login", "user:not a valid name!", "unknown_user"),
        ]
    );
    // Enabled again, the old password works.
    enable(&mut s, &Context::local(T0 + 4), "ada").expect("enable");
    login(&mut s, "ada", PW, T0 + 5, "10.0.0.9").expect("login again");
}

#[test]
fn a_huge_login_name_is_cut_in_the_audit_log() {
    let mut s = store();
    let name = "x".repeat(10_000);
    let _ = login(&mut s, &name, PW, T0, "10.0.0.9");
    let r = audit::list(&s, 1).expect("list");
    assert_eq!(r[0].object, format!("user:{}…", "x".repeat(MAX_NAME_CHARS)));
}

#[test]
fn a_hash_with_old_parameters_is_replaced_at_login() {
    let mut s = store();
    let u = add(&mut s, "ada", Role::Analyst);
    let weak = argon2::Argon2::new(
        argon2::Algorithm::Argon2id,
        argon2::Version::V0x13,
        argon2::Params::new(4096, 1, 1, None).expect("params"),
    );
    let old =
        argon2::PasswordHasher::hash_password_with_salt(&weak, PW.as_bytes(), b"0123456789abcdef")
            .expect("hash")
            .to_string();
    assert!(old.starts_with("$argon2id$v=19$m=4096,t=1,p=1$"), "{old}");
    s.set_user_password(u.id, &old, false)
        .expect("store old hash");
    login(&mut s, "ada", PW, T0, "10.0.0.9").expect("login with the old hash");
    let stored = s.user("ada").expect("read").expect("ada").password_hash;
    assert!(stored.starts_with(CURRENT_PREFIX), "{stored}");
    assert!(verify_password(PW, &stored).expect("verify"));
}

// ---------------------------------------------------------------------------------------
// Sessions
// ---------------------------------------------------------------------------------------

#[test]
fn idle_sessions_end_after_thirty_minutes() {
    let mut s = store();
    add(&mut s, "ada", Role::Analyst);
    let (token, _) = login(&mut s, "ada", PW, T0, "10.0.0.9").expect("login");
    // Used at 29:59.999: still live, and the idle clock restarts from there.
    let t1 = T0 + 30 * MIN - 1;
    authenticate(&mut s, token.as_str(), t1).expect("live");
    authenticate(&mut s, token.as_str(), t1 + 30 * MIN - 1).expect("live again");
    // Exactly 30 minutes after the last use: over.
    let t2 = t1 + 30 * MIN - 1;
    let e = authenticate(&mut s, token.as_str(), t2 + 30 * MIN).expect_err("idle");
    assert!(matches!(e, AccountError::IdleTimeout), "{e}");
    // And stays over, even if the clock were to go back.
    let e = authenticate(&mut s, token.as_str(), t2 + 1).expect_err("revoked");
    assert!(matches!(e, AccountError::NoSession), "{e}");
}

#[test]
fn sessions_end_after_twelve_hours_however_active() {
    let mut s = store();
    add(&mut s, "ada", Role::Analyst);
    let (token, _) = login(&mut s, "ada", PW, T0, "10.0.0.9").expect("login");
    let mut t = T0;
    while t + 20 * MIN < T0 + 12 * HOUR {
        t += 20 * MIN;
        authenticate(&mut s, token.as_str(), t).expect("active session");
    }
    authenticate(&mut s, token.as_str(), T0 + 12 * HOUR - 1).expect("last millisecond");
    let e = authenticate(&mut s, token.as_str(), T0 + 12 * HOUR).expect_err("absolute");
    assert!(matches!(e, AccountError::SessionExpired), "{e}");
    assert_eq!(
        e.to_string(),
        "the session reached its 12-hour limit: log in again"
    );
}

#[test]
fn logout_ends_only_that_session() {
    let mut s = store();
    add(&mut s, "ada", Role::Analyst);
    let (phone, _) = login(&mut s, "ada", PW, T0, "10.0.0.9").expect("login");
    let (desk, _) = login(&mut s, "ada", PW, T0 + 1, "10.0.0.10").expect("login");
    assert_ne!(phone, desk);
    assert!(logout(&mut s, phone.as_str(), T0 + 2, "10.0.0.9").expect("logout"));
    let e = authenticate(&mut s, phone.as_str(), T0 + 3).expect_err("logged out");
    assert!(matches!(e, AccountError::NoSession), "{e}");
    assert_eq!(
        authenticate(&mut s, desk.as_str(), T0 + 3)
            .expect("other")
            .name,
        "ada"
    );
    assert!(!logout(&mut s, phone.as_str(), T0 + 4, "10.0.0.9").expect("twice"));
    assert!(!logout(&mut s, "garbage", T0 + 4, "10.0.0.9").expect("garbage"));
    let e = authenticate(&mut s, "garbage", T0 + 4).expect_err("garbage");
    assert!(matches!(e, AccountError::NoSession), "{e}");
    let trail = audit_trail(&s);
    assert_eq!(
        trail.last(),
        Some(&row(Some("ada"), "logout", "user:ada", "ok"))
    );
}

#[test]
fn tokens_are_random_256_bit_and_only_their_hash_is_stored() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("s.db");
    let mut s = SqliteStore::open(&path).expect("open");
    add(&mut s, "ada", Role::Analyst);
    let (token, _) = login(&mut s, "ada", PW, T0, "10.0.0.9").expect("login");
    let text = token.as_str().to_string();
    assert_eq!(text.len(), 43);
    assert!(
        text.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    );
    let decoded = Base64UrlUnpadded::decode_vec(&text).expect("base64url");
    assert_eq!(decoded.len(), 32);
    assert_eq!(format!("{token:?}"), "SessionToken(…)");
    let hash = token_hash(&text);
    assert!(s.session(&hash).expect("read").is_some());
    drop(s);
    // Every byte SQLite wrote (database, WAL, shared memory): the hash is there, the
    // token is not.
    let mut bytes = Vec::new();
    for entry in std::fs::read_dir(dir.path()).expect("list") {
        bytes.extend(std::fs::read(entry.expect("entry").path()).expect("read"));
    }
    let contains = |needle: &[u8]| bytes.windows(needle.len()).any(|w| w == needle);
    assert!(
        contains(hash.as_bytes()),
        "positive control: the hash is stored"
    );
    assert!(!contains(text.as_bytes()), "the raw token is not stored");
    assert!(!contains(&decoded), "nor its bytes");
}

// ---------------------------------------------------------------------------------------
// Account management
// ---------------------------------------------------------------------------------------

#[test]
fn only_admins_manage_accounts_and_the_last_admin_stays() {
    let mut s = store();
    let root = add(&mut s, "root", Role::Admin);
    let ana = add(&mut s, "ana", Role::Analyst);
    let as_ana = Context::user(&ana, "10.0.0.5", T0 + 1);
    for e in [
        add_user(&mut s, &as_ana, "eve", Role::Admin, PW, false).map(|_| ()),
        set_role(&mut s, &as_ana, "ana", Role::Admin).map(|_| ()),
        disable(&mut s, &as_ana, "root").map(|_| ()),
        list_users(&mut s, &as_ana).map(|_| ()),
    ] {
        let e = e.expect_err("analyst");
        assert!(matches!(e, AccountError::Forbidden(_)), "{e}");
    }
    assert!(s.user("eve").expect("read").is_none());
    assert_eq!(s.user("ana").expect("read").expect("ana").role, "analyst");
    // The only admin can be neither demoted nor disabled.
    let as_root = Context::user(&root, "10.0.0.1", T0 + 2);
    let e = set_role(&mut s, &as_root, "root", Role::Viewer).expect_err("last admin");
    assert!(matches!(e, AccountError::LastAdmin(_)), "{e}");
    let e = disable(&mut s, &as_root, "root").expect_err("last admin");
    assert!(matches!(e, AccountError::LastAdmin(_)), "{e}");
    // With a second admin both work.
    let u = set_role(&mut s, &as_root, "ana", Role::Admin).expect("promote");
    assert_eq!(u.role, Role::Admin);
    let u = set_role(&mut s, &as_root, "root", Role::Supervisor).expect("demote");
    assert_eq!(u.role, Role::Supervisor);
    let names: Vec<(String, Role)> = list_users(&mut s, &Context::local(T0 + 3))
        .expect("list")
        .into_iter()
        .map(|u| (u.name, u.role))
        .collect();
    assert_eq!(
        names,
        [
            ("ana".to_string(), Role::Admin),
            ("root".to_string(), Role::Supervisor)
        ]
    );
    let e = set_role(&mut s, &Context::local(T0), "nobody", Role::Viewer).expect_err("unknown");
    assert_eq!(
        e.to_string(),
        "no user named `nobody`: list users with `streetlight user list`"
    );
    let trail = audit_trail(&s);
    assert_eq!(
        trail[2..],
        [
            row(Some("ana"), "user.add", "user:eve role:admin", "denied"),
            row(
                Some("ana"),
                "user.role",
                "user:ana role:analyst->admin",
                "denied"
            ),
            row(Some("ana"), "user.disable", "user:root", "denied"),
            row(Some("ana"), "user.list", "users", "denied"),
            row(
                Some("root"),
                "user.role",
                "user:root role:admin->viewer",
                "refused"
            ),
            row(Some("root"), "user.disable", "user:root", "refused"),
            row(
                Some("root"),
                "user.role",
                "user:ana role:analyst->admin",
                "ok"
            ),
            row(
                Some("root"),
                "user.role",
                "user:root role:admin->supervisor",
                "ok"
            ),
            row(None, "user.role", "user:nobody role:?->viewer", "refused"),
        ]
    );
}

#[test]
fn weak_passwords_are_refused_when_adding_users() {
    let mut s = store();
    let e = add_user(
        &mut s,
        &Context::local(T0),
        "ada",
        Role::Viewer,
        "password1",
        false,
    )
    .expect_err("common");
    assert_eq!(
        e.to_string(),
        "the password is one of the 30,000 most common passwords: choose one that is not"
    );
    assert!(s.user("ada").expect("read").is_none());
    assert_eq!(
        audit_trail(&s),
        [row(None, "user.add", "user:ada role:viewer", "refused")]
    );
}

#[test]
fn temporary_passwords_are_flagged_until_the_user_changes_them() {
    let mut s = store();
    let generated = generate_password().expect("generate");
    let u = add_user(
        &mut s,
        &Context::local(T0),
        "ada",
        Role::Analyst,
        &generated,
        true,
    )
    .expect("add");
    assert!(u.must_change_password);
    let (first, u) = login(&mut s, "ada", &generated, T0 + 1, "10.0.0.9").expect("login");
    assert!(u.must_change_password);
    // A wrong current password counts towards the lockout like a failed login.
    let e = change_password(
        &mut s,
        "ada",
        "not the password",
        "new phrase for ada",
        T0 + 2,
        "10.0.0.9",
    )
    .expect_err("wrong current");
    assert!(matches!(e, AccountError::BadCredentials), "{e}");
    // A weak new one is refused and changes nothing.
    let e = change_password(&mut s, "ada", &generated, "password", T0 + 3, "10.0.0.9")
        .expect_err("weak");
    assert!(
        matches!(e, AccountError::Password(PasswordProblem::Common)),
        "{e}"
    );
    authenticate(&mut s, first.as_str(), T0 + 4).expect("unchanged");
    let (second, u) = change_password(
        &mut s,
        "ada",
        &generated,
        "new phrase for ada",
        T0 + 5,
        "10.0.0.9",
    )
    .expect("change");
    assert!(!u.must_change_password);
    // Every earlier session ended; the new one works; so does the new password.
    let e = authenticate(&mut s, first.as_str(), T0 + 6).expect_err("ended");
    assert!(matches!(e, AccountError::NoSession), "{e}");
    authenticate(&mut s, second.as_str(), T0 + 6).expect("new session");
    login(&mut s, "ada", "new phrase for ada", T0 + 7, "10.0.0.9").expect("new password");
    // An admin's reset sets the flag again and ends the sessions.
    let u = set_password(
        &mut s,
        &Context::local(T0 + 8),
        "ada",
        "reset by admin 7",
        true,
    )
    .expect("reset");
    assert!(u.must_change_password);
    let e = authenticate(&mut s, second.as_str(), T0 + 9).expect_err("ended by reset");
    assert!(matches!(e, AccountError::NoSession), "{e}");
    let trail = audit_trail(&s);
    assert_eq!(
        trail[1..],
        [
            row(Some("ada"), "login", "user:ada", "ok"),
            row(None, "user.password", "user:ada", "wrong_password"),
            row(Some("ada"), "user.password", "user:ada", "refused"),
            row(Some("ada"), "user.password", "user:ada", "ok"),
            row(Some("ada"), "login", "user:ada", "ok"),
            row(None, "user.password", "user:ada", "ok"),
        ]
    );
    assert!(audit::verify(&s).expect("verify").is_ok());
}
