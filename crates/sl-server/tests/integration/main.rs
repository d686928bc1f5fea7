//! sl-server integration tests: a real server on loopback (one test binary).

use std::net::SocketAddr;
use std::path::Path;

mod analytics;
mod context;

use serde_json::Value;
use sl_engine::accounts::{Context, Role, add_user, generate_password};
use sl_server::auth::{Access, allows};
use sl_server::error::ERROR_TABLE;
use sl_server::{AppState, router};

/// Starts the API over `db` on a free loopback port; returns its base URL.
pub(crate) async fn start(db: &Path) -> String {
    // Create the store's tables, as `ingest` would.
    sl_engine::SqliteStore::open(db).expect("store");
    let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let app = router(AppState::new(db.to_path_buf(), false));
    tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .expect("serve");
    });
    format!("http://{addr}")
}

async fn get(url: &str) -> (u16, Value) {
    let r = reqwest::get(url).await.expect("request");
    let status = r.status().as_u16();
    (status, r.json().await.expect("json body"))
}

#[tokio::test]
async fn health_errors_openapi_and_datasets() {
    let dir = tempfile::tempdir().expect("tempdir");
    let base = start(&dir.path().join("s.db")).await;

    let (status, health) = get(&format!("{base}/api/health")).await;
    assert_eq!(status, 200);
    assert_eq!(health["status"], "ok");

    // The error table, served as it is in the code.
    let (_, table) = get(&format!("{base}/api/errors")).await;
    let codes: Vec<&str> = table
        .as_array()
        .expect("array")
        .iter()
        .map(|e| e["code"].as_str().expect("code"))
        .collect();
    assert_eq!(codes.len(), ERROR_TABLE.len());
    assert!(codes.contains(&"unauthenticated") && codes.contains(&"internal"));

    // OpenAPI 3, generated from the handlers, lists every route the code registers
    // (read from the router's source, so a new route missing from the document fails).
    let (_, doc) = get(&format!("{base}/api/openapi.json")).await;
    assert!(doc["openapi"].as_str().expect("version").starts_with("3."));
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut routes = Vec::new();
    for file in ["api.rs", "context.rs"] {
        let text = std::fs::read_to_string(src.join(file)).expect("router source");
        for part in text.split(".route(").skip(1) {
            let path = part.trim_start().trim_start_matches('"');
            let path = &path[..path.find('"').expect("quoted path")];
            if path != "/api/openapi.json" && !path.contains('*') {
                routes.push(path.to_string());
            }
        }
    }
    assert!(routes.len() >= 30, "{routes:?}");
    for path in &routes {
        assert!(
            doc["paths"][path.as_str()].is_object(),
            "{path} missing from OpenAPI"
        );
    }

    // Without a session the registry is refused, with the one error shape.
    let (status, e) = get(&format!("{base}/api/datasets")).await;
    assert_eq!(status, 401);
    assert_eq!(e["error"]["code"], "unauthenticated");
    assert!(
        e["error"]["message"]
            .as_str()
            .expect("message")
            .contains("/api/auth/login")
    );
    let (status, e) = get(&format!("{base}/api/no-such-thing")).await;
    assert_eq!(status, 404);
    assert_eq!(e["error"]["code"], "not_found");
}

/// docs/API.md prints the error table; it must match the code's.
#[test]
fn docs_list_every_error_code() {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/API.md"))
        .expect("docs/API.md");
    for (_, info) in ERROR_TABLE {
        let row = format!("| `{}` | {} | {:?} |", info.code, info.status, info.kind).to_lowercase();
        assert!(
            doc.to_lowercase().contains(&row),
            "docs/API.md lacks the row starting {row}"
        );
    }
}

/// The web UI is served from the binary: `/` is index.html with the content-security
/// policy, MapLibre's module worker is JavaScript, and unknown files are JSON 404s.
/// Without a built UI `/` says how to build it.
#[tokio::test]
async fn serves_the_embedded_ui() {
    let dir = tempfile::tempdir().expect("tempdir");
    let base = start(&dir.path().join("s.db")).await;
    let r = reqwest::get(format!("{base}/")).await.expect("request");
    assert_eq!(r.status().as_u16(), 200);
    let html = r.text().await.expect("text");
    if sl_server::ui::is_built() {
        assert!(
            html.contains("<script") && html.contains("app.js"),
            "{html}"
        );
        let w = reqwest::get(format!("{base}/maplibre-gl-worker.mjs"))
            .await
            .expect("request");
        assert_eq!(w.status().as_u16(), 200);
        assert!(
            w.headers()["content-type"]
                .to_str()
                .expect("type")
                .starts_with("text/javascript")
        );
        let csp = w.headers()["content-security-policy"]
            .to_str()
            .expect("csp");
        assert!(csp.contains("default-src 'self'"));
    } else {
        assert!(html.contains("make ui"), "{html}");
    }
    let (status, e) = get(&format!("{base}/nothing.js")).await;
    assert_eq!(status, 404);
    assert_eq!(e["error"]["code"], "not_found");
    assert_eq!(
        sl_server::ui::content_type("x.mjs"),
        "text/javascript; charset=utf-8"
    );
}

/// Users of every role in a fresh store, each with a password; returns (role, name, password).
pub(crate) fn users(db: &Path) -> Vec<(Role, String, String)> {
    let mut store = sl_engine::SqliteStore::open(db).expect("store");
    let ctx = Context::local(0);
    Role::ALL
        .iter()
        .map(|&role| {
            let name = format!("{}1", role.as_str());
            let password = generate_password().expect("password");
            add_user(&mut store, &ctx, &name, role, &password, false).expect("add user");
            (role, name, password)
        })
        .collect()
}

/// Logs in; returns the status and the session cookie (`name=value`), if set.
pub(crate) async fn login(base: &str, name: &str, password: &str) -> (u16, Option<String>, Value) {
    let r = reqwest::Client::new()
        .post(format!("{base}/api/auth/login"))
        .json(&serde_json::json!({"name": name, "password": password}))
        .send()
        .await
        .expect("request");
    let status = r.status().as_u16();
    let cookie = r
        .headers()
        .get("set-cookie")
        .map(|v| v.to_str().expect("ascii").to_string());
    if let Some(c) = &cookie {
        assert!(
            c.contains("HttpOnly") && c.contains("SameSite=Strict"),
            "{c}"
        );
    }
    let cookie = cookie.map(|c| c.split(';').next().expect("pair").to_string());
    (status, cookie, r.json().await.unwrap_or(Value::Null))
}

async fn get_as(url: &str, cookie: Option<&str>) -> (u16, Value) {
    let mut req = reqwest::Client::new().get(url);
    if let Some(c) = cookie {
        req = req.header("cookie", c);
    }
    let r = req.send().await.expect("request");
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// Every endpoint as every role and as nobody: public endpoints answer everyone, the
/// others 401 without a session and their status by the role table with one. The
/// public (no session) can read nothing but the public endpoints.
#[tokio::test]
async fn authorisation_matrix() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("s.db");
    let base = start(&db).await;
    let people = users(&db);
    // (path, access, status when allowed)
    let endpoints: &[(&str, Access, u16)] = &[
        ("/api/health", Access::Public, 200),
        ("/api/errors", Access::Public, 200),
        ("/api/openapi.json", Access::Public, 200),
        ("/api/datasets", Access::Read, 200),
        ("/api/datasets/nowhere", Access::Read, 404),
        ("/api/auth/me", Access::Read, 200),
        ("/api/datasets/nowhere/quality", Access::Read, 404),
        ("/api/datasets/nowhere/quality?rows=5", Access::Analyse, 404),
        (
            "/api/datasets/nowhere/quality?rows=501",
            Access::Analyse,
            422,
        ),
        (
            "/api/datasets/nowhere/quality?reason=NOPE",
            Access::Read,
            400,
        ),
        ("/api/admin/users", Access::Admin, 200),
        ("/api/admin/audit?limit=5", Access::Admin, 200),
        ("/api/admin/audit?limit=10001", Access::Admin, 422),
        ("/api/admin/audit/verify", Access::Admin, 200),
        ("/api/datasets/nowhere/boundary.geojson", Access::Read, 404),
        ("/api/datasets/nowhere/events.geojson", Access::Events, 404),
        (
            "/api/datasets/nowhere/events.geojson?limit=50001",
            Access::Events,
            422,
        ),
        (
            "/api/datasets/nowhere/aggregate.geojson?cell_size=250",
            Access::Read,
            404,
        ),
        (
            "/api/datasets/nowhere/aggregate.geojson?cellsize=250",
            Access::Read,
            400,
        ),
        (
            "/api/datasets/nowhere/hotspots.geojson?method=gistar",
            Access::Read,
            404,
        ),
        (
            "/api/datasets/nowhere/hotspots.geojson?method=gistar&permutations=10000",
            Access::Read,
            422,
        ),
        ("/api/datasets/nowhere/forecast.geojson", Access::Read, 404),
        (
            "/api/datasets/nowhere/priorities.geojson?from=2019-10-01&to=2020-01-01",
            Access::Read,
            404,
        ),
        ("/api/datasets/nowhere/patterns", Access::Read, 404),
        ("/api/datasets/nowhere/near-repeat", Access::Read, 404),
        (
            "/api/datasets/nowhere/backtest?start=2019-09-01",
            Access::Analyse,
            404,
        ),
        (
            "/api/datasets/nowhere/backtest?start=2019-09-01&origins=600",
            Access::Analyse,
            422,
        ),
        ("/api/datasets/nowhere/layers", Access::Read, 404),
        (
            "/api/datasets/nowhere/layers/tracts.geojson",
            Access::Read,
            404,
        ),
        (
            "/api/datasets/nowhere/rates.geojson?layer=tracts",
            Access::Read,
            404,
        ),
        (
            "/api/datasets/nowhere/nearby?lon=-75.16&lat=39.95",
            Access::Read,
            404,
        ),
    ];
    // Endpoints that change data: (method, path, access, status when allowed, body). The
    // account changes name an account nobody has (404 for admins), or one that exists
    // (a new account with a taken name: 400), so the matrix changes nothing.
    let point = r#"{"type": "Feature", "properties": {}, "geometry": {"type": "Point", "coordinates": [-75.16, 39.95]}}"#;
    let post = reqwest::Method::POST;
    let writes: &[(reqwest::Method, &str, Access, u16, &str)] = &[
        (
            post.clone(),
            "/api/datasets/nowhere/layers/tracts",
            Access::Analyse,
            404,
            point,
        ),
        (
            reqwest::Method::DELETE,
            "/api/datasets/nowhere/layers/tracts",
            Access::Analyse,
            404,
            point,
        ),
        (
            post.clone(),
            "/api/admin/users",
            Access::Admin,
            400,
            r#"{"name": "admin1", "role": "viewer"}"#,
        ),
        (
            post.clone(),
            "/api/admin/users/nobody/role",
            Access::Admin,
            404,
            r#"{"role": "viewer"}"#,
        ),
        (
            post.clone(),
            "/api/admin/users/nobody/password",
            Access::Admin,
            404,
            "{}",
        ),
        (
            post.clone(),
            "/api/admin/users/nobody/unlock",
            Access::Admin,
            404,
            "{}",
        ),
        (
            post.clone(),
            "/api/admin/users/nobody/disable",
            Access::Admin,
            404,
            "{}",
        ),
        (
            post.clone(),
            "/api/admin/users/nobody/enable",
            Access::Admin,
            404,
            "{}",
        ),
    ];
    let mut sessions = vec![(None, None)];
    for (role, name, password) in &people {
        let (status, cookie, me) = login(&base, name, password).await;
        assert_eq!(status, 200, "{name}");
        assert_eq!(me["role"], role.as_str());
        sessions.push((Some(*role), cookie));
    }
    for (path, access, ok) in endpoints {
        for (role, cookie) in &sessions {
            let (status, body) = get_as(&format!("{base}{path}"), cookie.as_deref()).await;
            let want = match role {
                _ if *access == Access::Public => *ok,
                None => 401,
                Some(r) if allows(*r, *access) => *ok,
                Some(_) => 403,
            };
            assert_eq!(status, want, "{path} as {role:?}: {body}");
        }
    }
    for (method, path, access, ok, body) in writes {
        let content_type = if path.contains("/layers/") {
            "application/geo+json"
        } else {
            "application/json"
        };
        for (role, cookie) in &sessions {
            let (status, body) = context::send_as(
                method.clone(),
                &format!("{base}{path}"),
                cookie.as_deref(),
                Some(content_type),
                Some(body.to_string()),
            )
            .await;
            let want = match role {
                None => 401,
                Some(r) if allows(*r, *access) => *ok,
                Some(_) => 403,
            };
            assert_eq!(status, want, "{method} {path} as {role:?}: {body}");
        }
    }
    // Every read was audited, with the client's address, and the chain verifies.
    let store = sl_engine::SqliteStore::open(&db).expect("store");
    let report = sl_engine::audit::verify(&store).expect("verify");
    assert!(report.is_ok(), "{:?}", report.problems);
    let records = sl_engine::audit::list(&store, 1000).expect("list");
    let reads: Vec<_> = records
        .iter()
        .filter(|r| r.action == sl_engine::audit::Action::DataRead.as_str())
        .collect();
    let datasets_reads = reads.iter().filter(|r| r.object == "datasets").count();
    assert_eq!(datasets_reads, 4, "one datasets read per role");
    assert_eq!(
        reads.iter().filter(|r| r.object == "audit_log").count(),
        1,
        "the admin read the log once within the limit"
    );
    assert!(reads.iter().all(|r| r.source == "127.0.0.1"));
}

/// The fifth wrong password locks the account (423, even with the right one, until an admin
/// unlocks it); logout ends the session on the server.
#[tokio::test]
async fn lockout_and_logout_over_http() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("s.db");
    let base = start(&db).await;
    let people = users(&db);
    let (_, name, password) = &people[1];
    let (status, cookie, _) = login(&base, name, password).await;
    assert_eq!(status, 200);
    let cookie = cookie.expect("cookie");
    let (status, _) = get_as(&format!("{base}/api/auth/me"), Some(&cookie)).await;
    assert_eq!(status, 200);
    let r = reqwest::Client::new()
        .post(format!("{base}/api/auth/logout"))
        .header("cookie", &cookie)
        .send()
        .await
        .expect("logout");
    assert_eq!(r.status().as_u16(), 204);
    let (status, e) = get_as(&format!("{base}/api/auth/me"), Some(&cookie)).await;
    assert_eq!(status, 401, "the old cookie no longer works: {e}");

    for _ in 0..4 {
        let (status, _, e) = login(&base, name, "not the password").await;
        assert_eq!(status, 401, "{e}");
        assert_eq!(e["error"]["code"], "unauthenticated");
    }
    // The fifth failure within 15 minutes locks the account.
    let (status, _, e) = login(&base, name, "not the password").await;
    assert_eq!(status, 423, "{e}");
    let (status, cookie, e) = login(&base, name, password).await;
    assert_eq!(status, 423, "{e}");
    assert_eq!(e["error"]["code"], "account_locked");
    assert!(cookie.is_none());
    let mut store = sl_engine::SqliteStore::open(&db).expect("store");
    sl_engine::accounts::unlock(&mut store, &Context::local(0), name).expect("unlock");
    let (status, _, _) = login(&base, name, password).await;
    assert_eq!(status, 200);
}

/// The server ends sessions on its own clock: one left unused for 30 minutes, and one
/// 12 hours old however busy, answer 401 with the reason, and stay ended. (The clock
/// is moved by ageing the sessions' times in the store; the boundaries to the
/// millisecond are tested in `sl_engine::accounts`.)
#[tokio::test]
async fn idle_and_old_sessions_end_over_http() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("s.db");
    let base = start(&db).await;
    let people = users(&db);
    let cookie_of = |i: usize| {
        let (_, name, password) = &people[i];
        (name.clone(), password.clone())
    };
    let (idle_name, pw) = cookie_of(1);
    let idle = login(&base, &idle_name, &pw).await.1.expect("cookie");
    let (old_name, pw) = cookie_of(2);
    let old = login(&base, &old_name, &pw).await.1.expect("cookie");
    let me = format!("{base}/api/auth/me");
    assert_eq!(get_as(&me, Some(&idle)).await.0, 200);
    assert_eq!(get_as(&me, Some(&old)).await.0, 200);

    let age = |sql: &str, name: &str| {
        let conn = rusqlite::Connection::open(&db).expect("store");
        let n = conn
            .execute(
                &format!(
                    "UPDATE sessions SET {sql} WHERE user_id=(SELECT id FROM users WHERE name=?1)"
                ),
                [name],
            )
            .expect("age");
        assert_eq!(n, 1, "{name}'s session");
    };
    const MIN: i64 = 60_000;
    // Last used 30 minutes and a second ago.
    age(
        &format!("last_seen_ms = last_seen_ms - {}", 30 * MIN + 1_000),
        &idle_name,
    );
    // Made 12 hours and a second ago, used a minute ago: busy, but too old.
    age(
        &format!(
            "created_ms = created_ms - {}, last_seen_ms = last_seen_ms - {MIN}",
            12 * 60 * MIN + 1_000
        ),
        &old_name,
    );
    let (status, e) = get_as(&me, Some(&idle)).await;
    assert_eq!(
        (status, &e["error"]["code"]),
        (401, &Value::from("unauthenticated")),
        "{e}"
    );
    assert!(
        e["error"]["message"]
            .as_str()
            .expect("message")
            .contains("30 minutes"),
        "{e}"
    );
    let (status, e) = get_as(&me, Some(&old)).await;
    assert_eq!(status, 401, "{e}");
    assert!(
        e["error"]["message"]
            .as_str()
            .expect("message")
            .contains("12-hour"),
        "{e}"
    );
    // Ended for good: the next request is not let in either.
    for cookie in [&idle, &old] {
        let (status, e) = get_as(&me, Some(cookie)).await;
        assert_eq!(status, 401, "{e}");
    }
}

/// Admins check the chain over HTTP: it verifies, then a row changed behind the
/// server's back is named by id and check.
#[tokio::test]
async fn admin_verifies_the_audit_chain() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("s.db");
    let base = start(&db).await;
    let people = users(&db);
    let (role, name, password) = &people[0];
    assert_eq!(*role, Role::Admin);
    let (_, cookie, _) = login(&base, name, password).await;
    let cookie = cookie.expect("cookie");
    let (status, v) = get_as(&format!("{base}/api/admin/audit/verify"), Some(&cookie)).await;
    assert_eq!(status, 200);
    assert_eq!(v["ok"], true, "{v}");
    let (_, users_list) = get_as(&format!("{base}/api/admin/users"), Some(&cookie)).await;
    assert_eq!(users_list.as_array().map(Vec::len), Some(4));
    assert!(users_list[0].get("password_hash").is_none());
    // Tamper with record 2 through SQLite directly (the triggers refuse UPDATE, so drop
    // them first, as an attacker with the file could).
    let conn = rusqlite::Connection::open(&db).expect("sqlite");
    let triggers: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit_log'")
        .expect("prepare")
        .query_map([], |r| r.get(0))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("names");
    for t in triggers {
        conn.execute_batch(&format!("DROP TRIGGER {t}"))
            .expect("drop");
    }
    conn.execute("UPDATE audit_log SET outcome = 'denied' WHERE id = 2", [])
        .expect("tamper");
    let (_, v) = get_as(&format!("{base}/api/admin/audit/verify"), Some(&cookie)).await;
    assert_eq!(v["ok"], false, "{v}");
    assert_eq!(v["problems"][0]["id"], 2, "{v}");
    assert_eq!(v["problems"][0]["check"], "hash", "{v}");
}

/// An account whose password an administrator set may do nothing but read who it is,
/// choose its own password and log out; changing the password ends its other sessions.
#[tokio::test]
async fn a_temporary_password_must_be_changed_first() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("s.db");
    let base = start(&db).await;
    let password = generate_password().expect("password");
    {
        let mut store = sl_engine::SqliteStore::open(&db).expect("store");
        add_user(
            &mut store,
            &Context::local(0),
            "newcomer",
            Role::Analyst,
            &password,
            true,
        )
        .expect("add user");
    }
    let (status, cookie, me) = login(&base, "newcomer", &password).await;
    assert_eq!(status, 200);
    assert_eq!(me["must_change_password"], true);
    let cookie = cookie.expect("cookie");
    let (status, e) = get_as(&format!("{base}/api/datasets"), Some(&cookie)).await;
    assert_eq!(status, 403);
    assert_eq!(e["error"]["code"], "password_change_required");
    let (status, _) = get_as(&format!("{base}/api/auth/me"), Some(&cookie)).await;
    assert_eq!(status, 200);

    let change = |current: String, new: String| {
        let (base, cookie) = (base.clone(), cookie.clone());
        async move {
            let r = reqwest::Client::new()
                .post(format!("{base}/api/auth/password"))
                .header("cookie", cookie)
                .json(&serde_json::json!({"current_password": current, "new_password": new}))
                .send()
                .await
                .expect("request");
            let status = r.status().as_u16();
            let set = r.headers().get("set-cookie").map(|v| {
                v.to_str()
                    .expect("ascii")
                    .split(';')
                    .next()
                    .expect("pair")
                    .to_string()
            });
            (status, set, r.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let (status, _, e) = change("wrong-password-1".into(), "a fine new passphrase".into()).await;
    assert_eq!(status, 401, "{e}");
    let (status, _, e) = change(password.clone(), "password".into()).await;
    assert_eq!(status, 400, "{e}");
    assert_eq!(e["error"]["code"], "bad_request");
    let (status, fresh, me) = change(password.clone(), "a fine new passphrase".into()).await;
    assert_eq!(status, 200, "{me}");
    assert_eq!(me["must_change_password"], false);
    let fresh = fresh.expect("a new session cookie");
    assert_ne!(fresh, cookie);
    // The old session ended with the change; the new one reads data.
    let (status, _) = get_as(&format!("{base}/api/auth/me"), Some(&cookie)).await;
    assert_eq!(status, 401);
    let (status, _) = get_as(&format!("{base}/api/datasets"), Some(&fresh)).await;
    assert_eq!(status, 200);
    let (status, _, _) = login(&base, "newcomer", "a fine new passphrase").await;
    assert_eq!(status, 200);
}

/// An admin runs accounts over HTTP: adds an analyst (the temporary password is good
/// only for choosing one's own), changes the role, unlocks the account after five
/// failures, resets the password, disables and enables it; the last admin stays; every
/// change, and an analyst's refused attempt, is in the audit log with who and where.
#[tokio::test]
async fn admins_run_accounts_over_http() {
    use reqwest::Method;
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("s.db");
    let base = start(&db).await;
    let people = users(&db);
    let cookie_of = |role: Role| {
        let (_, name, password) = people.iter().find(|(r, _, _)| *r == role).expect("role");
        (name.clone(), password.clone())
    };
    let (admin_name, pw) = cookie_of(Role::Admin);
    let admin = login(&base, &admin_name, &pw)
        .await
        .1
        .expect("admin cookie");
    let (analyst_name, pw) = cookie_of(Role::Analyst);
    let analyst = login(&base, &analyst_name, &pw)
        .await
        .1
        .expect("analyst cookie");
    let send = |method: Method, path: &str, cookie: &str, body: &str| {
        let url = format!("{base}{path}");
        let (cookie, body) = (cookie.to_string(), body.to_string());
        async move {
            context::send_as(
                method,
                &url,
                Some(&cookie),
                Some("application/json"),
                Some(body),
            )
            .await
        }
    };

    // Add: 201 with a temporary password, which must be replaced before anything else.
    let (status, added) = send(
        Method::POST,
        "/api/admin/users",
        &admin,
        r#"{"name": "Dana.Lee", "role": "analyst"}"#,
    )
    .await;
    assert_eq!(status, 201, "{added}");
    assert_eq!(added["user"]["name"], "dana.lee");
    assert_eq!(added["user"]["role"], "analyst");
    assert_eq!(added["user"]["must_change_password"], true);
    let temporary = added["temporary_password"]
        .as_str()
        .expect("password")
        .to_string();
    assert!(temporary.len() >= 16, "{temporary}");
    let (status, dana, _) = login(&base, "dana.lee", &temporary).await;
    assert_eq!(status, 200);
    let dana = dana.expect("cookie");
    let (status, e) = get_as(&format!("{base}/api/datasets"), Some(&dana)).await;
    assert_eq!(
        (status, &e["error"]["code"]),
        (403, &Value::from("password_change_required"))
    );

    // A temporary password cannot change accounts either; the refusal is audited.
    let (status, e) = send(Method::POST, "/api/admin/users/admin1/disable", &dana, "{}").await;
    assert_eq!(status, 403, "{e}");
    assert_eq!(e["error"]["code"], "password_change_required");

    // A body that is not JSON, or none, is refused in the API's error shape.
    let (status, e) = send(Method::POST, "/api/admin/users/dana.lee/unlock", &admin, "").await;
    assert_eq!(
        (status, &e["error"]["code"]),
        (400, &Value::from("bad_request")),
        "{e}"
    );
    let (status, e) = context::send_as(
        Method::POST,
        &format!("{base}/api/auth/login"),
        None,
        Some("text/plain"),
        Some(r#"{"name": "dana.lee", "password": "x"}"#.into()),
    )
    .await;
    assert_eq!(status, 400, "{e}");
    assert!(
        e["error"]["message"]
            .as_str()
            .expect("message")
            .contains("application/json"),
        "{e}"
    );

    // A page of another origin may not send changes, even with the admin's cookie.
    let r = reqwest::Client::new()
        .post(format!("{base}/api/admin/users/dana.lee/disable"))
        .header("cookie", &admin)
        .header("origin", "http://intranet.example:8080")
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .expect("request");
    assert_eq!(r.status().as_u16(), 403);
    let e: Value = r.json().await.expect("json");
    assert!(
        e["error"]["message"]
            .as_str()
            .expect("message")
            .contains("another origin"),
        "{e}"
    );
    let same = base.trim_start_matches("http://").to_string();
    let r = reqwest::Client::new()
        .post(format!("{base}/api/admin/users/nobody/unlock"))
        .header("cookie", &admin)
        .header("origin", format!("http://{same}"))
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .expect("request");
    assert_eq!(r.status().as_u16(), 404, "the page's own origin passes");

    // Mistakes are named: a taken name, an unknown role.
    for (body, named) in [
        (r#"{"name": "dana.lee", "role": "analyst"}"#, "dana.lee"),
        (r#"{"name": "eve", "role": "chief"}"#, "chief"),
    ] {
        let (status, e) = send(Method::POST, "/api/admin/users", &admin, body).await;
        assert_eq!(status, 400, "{e}");
        let message = e["error"]["message"].as_str().expect("message");
        assert!(message.contains(named), "{e}");
    }

    // An analyst may not add accounts, whatever the role named: refused, and audited.
    let (status, e) = send(
        Method::POST,
        "/api/admin/users",
        &analyst,
        r#"{"name": "eve", "role": "chief"}"#,
    )
    .await;
    assert_eq!(status, 403, "{e}");
    // An analyst may not add accounts: refused, and the refusal audited.
    let (status, e) = send(
        Method::POST,
        "/api/admin/users",
        &analyst,
        r#"{"name": "eve", "role": "admin"}"#,
    )
    .await;
    assert_eq!(
        (status, &e["error"]["code"]),
        (403, &Value::from("forbidden")),
        "{e}"
    );

    // Role change applies at the next request.
    let (status, row) = send(
        Method::POST,
        "/api/admin/users/dana.lee/role",
        &admin,
        r#"{"role": "supervisor"}"#,
    )
    .await;
    assert_eq!(
        (status, &row["role"]),
        (200, &Value::from("supervisor")),
        "{row}"
    );

    // Five failures lock the account; an admin unlocks it.
    for _ in 0..5 {
        login(&base, "dana.lee", "not the password").await;
    }
    let (status, _, e) = login(&base, "dana.lee", &temporary).await;
    assert_eq!(status, 423, "{e}");
    let (status, list) = get_as(&format!("{base}/api/admin/users"), Some(&admin)).await;
    assert_eq!(status, 200);
    let row = |list: &Value| {
        list.as_array()
            .expect("users")
            .iter()
            .find(|u| u["name"] == "dana.lee")
            .cloned()
            .expect("dana.lee listed")
    };
    assert_eq!(row(&list)["locked"], true);
    let (status, unlocked) = send(
        Method::POST,
        "/api/admin/users/dana.lee/unlock",
        &admin,
        "{}",
    )
    .await;
    assert_eq!(
        (status, &unlocked["locked"]),
        (200, &Value::from(false)),
        "{unlocked}"
    );
    let (status, _, _) = login(&base, "dana.lee", &temporary).await;
    assert_eq!(status, 200);

    // A reset gives a new temporary password and ends the old one's sessions.
    let (status, reset) = send(
        Method::POST,
        "/api/admin/users/dana.lee/password",
        &admin,
        "{}",
    )
    .await;
    assert_eq!(status, 200, "{reset}");
    let fresh = reset["temporary_password"].as_str().expect("password");
    assert_ne!(fresh, temporary);
    let (status, _) = get_as(&format!("{base}/api/auth/me"), Some(&dana)).await;
    assert_eq!(status, 401, "the reset ended the session");
    assert_eq!(login(&base, "dana.lee", &temporary).await.0, 401);
    assert_eq!(login(&base, "dana.lee", fresh).await.0, 200);

    // Disabled accounts cannot sign in until enabled again.
    for (action, disabled, login_status) in [("disable", true, 401), ("enable", false, 200)] {
        let path = format!("/api/admin/users/dana.lee/{action}");
        let (status, row) = send(Method::POST, &path, &admin, "{}").await;
        assert_eq!(
            (status, &row["disabled"]),
            (200, &Value::from(disabled)),
            "{row}"
        );
        assert_eq!(
            login(&base, "dana.lee", fresh).await.0,
            login_status,
            "{action}"
        );
    }

    // The only admin can neither step down nor be disabled.
    let path = format!("/api/admin/users/{admin_name}/role");
    let (status, e) = send(Method::POST, &path, &admin, r#"{"role": "analyst"}"#).await;
    assert_eq!(status, 403, "{e}");
    let path = format!("/api/admin/users/{admin_name}/disable");
    let (status, e) = send(Method::POST, &path, &admin, "{}").await;
    assert_eq!(status, 403, "{e}");

    // The audit log: each change with its actor, outcome and address.
    let store = sl_engine::SqliteStore::open(&db).expect("store");
    assert!(sl_engine::audit::verify(&store).expect("verify").is_ok());
    let records = sl_engine::audit::list(&store, 1000).expect("list");
    let find = |action: &str, outcome: &str| {
        records
            .iter()
            .filter(|r| r.action == action && r.outcome == outcome && r.source == "127.0.0.1")
            .map(|r| (r.actor.clone().unwrap_or_default(), r.object.clone()))
            .collect::<Vec<_>>()
    };
    let admin_did = |object: &str| (admin_name.clone(), object.to_string());
    assert!(find("user.add", "ok").contains(&admin_did("user:dana.lee role:analyst")));
    assert!(
        find("user.add", "denied").contains(&(analyst_name.clone(), "user:eve role:admin".into()))
    );
    assert!(find("user.role", "ok").contains(&admin_did("user:dana.lee role:analyst->supervisor")));
    for action in [
        "user.unlock",
        "user.password",
        "user.disable",
        "user.enable",
    ] {
        assert!(
            find(action, "ok").contains(&admin_did("user:dana.lee")),
            "{action}"
        );
    }
    assert!(find("user.add", "refused").contains(&admin_did("user:eve role:chief")));
    let analyst_denied = find("user.add", "denied");
    assert!(analyst_denied.contains(&(analyst_name.clone(), "user:eve role:chief".into())));
    assert!(find("user.disable", "denied").contains(&("dana.lee".into(), "user:admin1".into())));
    // Refusals for a reason other than the role are recorded as `refused`.
    for action in ["user.role", "user.disable"] {
        assert_eq!(
            find(action, "refused").len(),
            1,
            "{action}: the last admin stays"
        );
    }
}
