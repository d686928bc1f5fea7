//! The analysis endpoints on real data (the bundled St. Louis 2019 extract): each
//! answers with exactly what `sl_server::reports` (the CLI's `--json`) produces, keeps
//! its response shape (snapshots in tests/snapshots/), is cached, audited, and refuses
//! mistakes and oversized requests with the documented codes.
//!
//! Snapshots hold the *shape* of each answer (keys and value types, the first element
//! of each array), not its numbers. After an intended change of a response, rewrite
//! them with `UPDATE_SNAPSHOTS=1 cargo test -p sl-server --test integration` and review
//! the diff.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use serde_json::{Value, json};
use sl_engine::accounts::Role;
use sl_server::reports;

use super::{login, start, users};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A store with the bundled St. Louis 2019 data, ingested once per test run.
fn stlouis() -> &'static Path {
    static DB: OnceLock<PathBuf> = OnceLock::new();
    DB.get_or_init(|| {
        let dir = tempfile::tempdir().expect("tempdir").keep();
        let db = dir.join("stl.db");
        let mut store = sl_engine::SqliteStore::open(&db).expect("store");
        let profile =
            sl_engine::Profile::load(&repo().join("profiles/stlouis-slmpd.toml")).expect("profile");
        let mut files: Vec<PathBuf> = std::fs::read_dir(repo().join("data/stlouis-slmpd/raw/2019"))
            .expect("data/stlouis-slmpd/raw/2019")
            .map(|e| e.expect("entry").path())
            .collect();
        files.sort();
        let opts = sl_engine::ingest::IngestOptions::new(files);
        sl_engine::ingest::ingest(&mut store, &profile, &opts, &|_| {}).expect("ingest");
        db
    })
}

/// Keys and value types of a JSON answer, with each array reduced to its first
/// element: what clients rely on, without the numbers.
fn shape(v: &Value) -> Value {
    match v {
        Value::Null => json!("null"),
        Value::Bool(_) => json!("bool"),
        Value::Number(_) => json!("number"),
        Value::String(_) => json!("string"),
        Value::Array(a) => Value::Array(a.first().map(shape).into_iter().collect()),
        Value::Object(m) => Value::Object(m.iter().map(|(k, v)| (k.clone(), shape(v))).collect()),
    }
}

fn check_snapshot(name: &str, answer: &Value) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/snapshots")
        .join(format!("{name}.json"));
    let got = serde_json::to_string_pretty(&shape(answer)).expect("json") + "\n";
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::create_dir_all(path.parent().expect("dir")).expect("mkdir");
        std::fs::write(&path, &got).expect("write snapshot");
        return;
    }
    let want = std::fs::read_to_string(&path).unwrap_or_else(|_| {
        panic!(
            "no snapshot {}: run with UPDATE_SNAPSHOTS=1 to write it",
            path.display()
        )
    });
    assert_eq!(
        got, want,
        "the shape of {name} changed: if intended, run with UPDATE_SNAPSHOTS=1 and review the diff"
    );
}

struct Client {
    base: String,
    cookie: String,
}

impl Client {
    async fn as_role(role: Role) -> Self {
        let db = stlouis();
        let base = start(db).await;
        let (_, name, password) = users_once(db)
            .iter()
            .find(|(r, _, _)| *r == role)
            .expect("user")
            .clone();
        let (status, cookie, _) = login(&base, &name, &password).await;
        assert_eq!(status, 200);
        Self {
            base,
            cookie: cookie.expect("cookie"),
        }
    }

    /// GET a dataset path; returns status, headers and body bytes.
    async fn get(&self, path: &str) -> (u16, reqwest::header::HeaderMap, Vec<u8>) {
        let r = reqwest::Client::new()
            .get(format!("{}/api/datasets/stlouis-slmpd/{path}", self.base))
            .header("cookie", &self.cookie)
            .send()
            .await
            .expect("request");
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        (status, headers, r.bytes().await.expect("body").to_vec())
    }

    async fn json(&self, path: &str) -> Value {
        let (status, _, body) = self.get(path).await;
        let v: Value = serde_json::from_slice(&body).expect("json");
        assert_eq!(status, 200, "{path}: {v}");
        v
    }

    async fn error(&self, path: &str) -> (u16, String, String) {
        let (status, _, body) = self.get(path).await;
        let v: Value = serde_json::from_slice(&body).expect("json");
        (
            status,
            v["error"]["code"].as_str().unwrap_or_default().to_string(),
            v["error"]["message"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
        )
    }
}

/// The users of the shared store, made once.
fn users_once(db: &Path) -> &'static Vec<(Role, String, String)> {
    static USERS: OnceLock<Vec<(Role, String, String)>> = OnceLock::new();
    USERS.get_or_init(|| users(db))
}

/// Every analysis endpoint answers 200 with its documented shape, and the analyses'
/// answers are byte for byte what `sl_server::reports` (the CLI's `--json`) gives.
#[tokio::test]
async fn analysis_endpoints_answer_as_the_cli_with_stable_shapes() {
    let c = Client::as_role(Role::Analyst).await;
    let cases = [
        ("boundary", "boundary.geojson"),
        (
            "events",
            "events.geojson?category=residential_burglary&from=2019-03-01&to=2019-04-01&limit=50",
        ),
        ("aggregate", "aggregate.geojson?cell_size=500&nonzero=true"),
        (
            "hotspots",
            "hotspots.geojson?method=gistar&cell_size=500&permutations=99",
        ),
        (
            "forecast",
            "forecast.geojson?category=residential_burglary&cell_size=500&model=retrospective&at=2019-12-01&cells=flagged",
        ),
        (
            "priorities",
            "priorities.geojson?from=2019-10-01&to=2020-01-01&cell_size=500&top=5",
        ),
        ("patterns", "patterns?category=residential_burglary"),
        (
            "near-repeat",
            "near-repeat?category=residential_burglary&permutations=19",
        ),
        (
            "backtest",
            "backtest?category=residential_burglary&models=naive,historical&start=2019-11-01&origins=2&cell_size=500",
        ),
    ];
    for (name, path) in cases {
        let (status, headers, _) = c.get(path).await;
        assert_eq!(status, 200, "{path}");
        let ct = headers["content-type"].to_str().expect("type");
        if path.contains(".geojson") {
            assert_eq!(ct, "application/geo+json", "{path}");
        } else {
            assert_eq!(ct, "application/json", "{path}");
        }
        assert_eq!(headers["cache-control"], "no-store", "{path}");
        let v = c.json(path).await;
        if path.contains(".geojson") {
            assert_eq!(v["type"], "FeatureCollection", "{path}");
            assert!(v["meta"].is_object(), "{path}");
            assert!(
                !v["features"].as_array().expect("features").is_empty(),
                "{path} has no features"
            );
        }
        check_snapshot(name, &v);
    }

    // The same analyses through the library the CLI prints: identical bytes.
    let store = sl_engine::SqliteStore::open(stlouis()).expect("store");
    let select = reports::SelectArgs {
        category: vec!["residential_burglary".into()],
        ..Default::default()
    };
    let set = reports::load(&store, "stlouis-slmpd", &select).expect("load");
    let params = reports::patterns::PatternParams {
        shifts: vec![],
        group_by: None,
        share: "equal".into(),
        max_window_hours: 168,
    };
    let (report, _) = reports::patterns::time_patterns(&set, &params).expect("patterns");
    let (_, _, api) = c.get("patterns?category=residential_burglary").await;
    assert_eq!(api, serde_json::to_vec(&report.doc).expect("json"));
    let knox = reports::near_repeat::NearRepeatParams {
        space_bands: ["0", "1", "200", "400"].map(String::from).to_vec(),
        time_bands: ["0", "1", "7", "14"].map(String::from).to_vec(),
        distance: "manhattan".into(),
        days: "calendar".into(),
        permutations: 19,
        seed: 1,
        classify: None,
    };
    let out = reports::near_repeat::near_repeat(&set, &knox).expect("knox");
    let (_, _, api) = c
        .get("near-repeat?category=residential_burglary&permutations=19")
        .await;
    assert_eq!(api, serde_json::to_vec(&out.report.doc).expect("json"));

    // The aggregate layer counts every located event of the selection once.
    let all =
        reports::load(&store, "stlouis-slmpd", &reports::SelectArgs::default()).expect("load");
    let agg = c.json("aggregate.geojson?cell_size=500&nonzero=true").await;
    let counted: u64 = agg["features"]
        .as_array()
        .expect("features")
        .iter()
        .map(|f| f["properties"]["count"].as_u64().expect("count"))
        .sum();
    let meta = &agg["meta"];
    assert_eq!(meta["events"].as_u64(), Some(all.events.len() as u64));
    assert_eq!(
        counted + meta["events_outside_units"].as_u64().expect("outside"),
        all.events.len() as u64
    );

    // `units=` gives exactly the named units' rows, with their ranks among all units.
    let top = c
        .json("priorities.geojson?from=2019-10-01&to=2020-01-01&cell_size=500&top=5")
        .await;
    let second = &top["features"][1]["properties"];
    let unit = second["unit"].as_str().expect("unit");
    let only = c
        .json(&format!(
            "priorities.geojson?from=2019-10-01&to=2020-01-01&cell_size=500&units={unit}"
        ))
        .await;
    let rows = only["features"].as_array().expect("features");
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["properties"], *second);

    // The events layer carries no description, address or source id.
    let ev = c
        .json("events.geojson?category=residential_burglary&from=2019-03-01&to=2019-04-01&limit=50")
        .await;
    let props = ev["features"][0]["properties"]
        .as_object()
        .expect("properties");
    let mut keys: Vec<&str> = props.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "category",
            "id",
            "occurred_from",
            "occurred_to",
            "precision"
        ]
    );
    assert_eq!(ev["meta"]["returned"], 50);
    assert_eq!(ev["meta"]["truncated"], true);
}

/// A repeated request is answered from the cache with the same bytes; a different
/// order of the same parameters is the same request; every answer is audited.
#[tokio::test]
async fn answers_are_cached_by_request_and_audited() {
    let c = Client::as_role(Role::Supervisor).await;
    let path = "forecast.geojson?category=residential_burglary&cell_size=250&model=historical&at=2019-11-01";
    let (s1, h1, b1) = c.get(path).await;
    let reordered = "forecast.geojson?at=2019-11-01&model=historical&cell_size=250&category=residential_burglary";
    let (s2, h2, b2) = c.get(reordered).await;
    assert_eq!((s1, s2), (200, 200));
    assert_eq!(h1["x-streetlight-cache"], "miss");
    assert_eq!(h2["x-streetlight-cache"], "hit");
    assert_eq!(b1, b2);
    let store = sl_engine::SqliteStore::open(stlouis()).expect("store");
    let records = sl_engine::audit::list(&store, 10_000).expect("audit");
    let runs = records
        .iter()
        .filter(|r| {
            r.action == sl_engine::audit::Action::ForecastRun.as_str()
                && r.object.starts_with("forecast:stlouis-slmpd?")
                && r.object.contains("at=2019-11-01")
                && r.object.contains("model=historical")
        })
        .count();
    assert!(runs >= 2, "both requests audited, found {runs}");
    assert!(sl_engine::audit::verify(&store).expect("verify").is_ok());
}

/// Clients that accept gzip get the same answer compressed (kept beside the plain one);
/// the others, and small answers, get it as it is.
#[tokio::test]
async fn answers_go_gzip_compressed_to_clients_that_accept_it() {
    let c = Client::as_role(Role::Analyst).await;
    let path = "aggregate.geojson?cell_size=500&nonzero=true";
    let get = |encoding: &'static str| {
        let url = format!("{}/api/datasets/stlouis-slmpd/{path}", c.base);
        let cookie = c.cookie.clone();
        async move {
            let r = reqwest::Client::new()
                .get(url)
                .header("cookie", cookie)
                .header("accept-encoding", encoding)
                .send()
                .await
                .expect("request");
            assert_eq!(r.status().as_u16(), 200);
            let headers = r.headers().clone();
            (headers, r.bytes().await.expect("body").to_vec())
        }
    };
    let (h_plain, plain) = get("identity").await;
    assert!(h_plain.get("content-encoding").is_none());
    assert_eq!(h_plain["vary"], "accept-encoding");
    for encoding in ["gzip", "br;q=1, gzip;q=0.5", "*"] {
        let (h, body) = get(encoding).await;
        assert_eq!(h["content-encoding"], "gzip", "{encoding}");
        assert_eq!(h["x-streetlight-cache"], "hit");
        assert!(
            body.len() * 4 < plain.len(),
            "{} vs {}",
            body.len(),
            plain.len()
        );
        let mut out = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&body[..]), &mut out)
            .expect("gunzip");
        assert_eq!(out, plain, "{encoding}");
    }
    let (h, body) = get("gzip;q=0, *").await;
    assert!(h.get("content-encoding").is_none());
    assert_eq!(body, plain);
}

/// Mistakes name the parameter; limits answer 422 with the limit; viewers get
/// aggregates but no event points, and their refusal is audited.
#[tokio::test]
async fn mistakes_limits_and_roles() {
    let c = Client::as_role(Role::Analyst).await;
    let (status, code, message) = c.error("aggregate.geojson?cell_size=big").await;
    assert_eq!((status, code.as_str()), (400, "bad_request"));
    assert!(
        message.contains("cell_size") && !message.contains("--"),
        "{message}"
    );
    let (status, _, message) = c
        .error("hotspots.geojson?method=gistar&weights=kings")
        .await;
    assert_eq!(status, 400);
    assert_eq!(
        message,
        "weights `kings` is not queen, rook or distance:METRES"
    );
    let (status, _, message) = c.error("aggregate.geojson?category=burglaryy").await;
    assert_eq!(status, 400);
    assert!(message.contains("burglaryy"), "{message}");
    let (status, code, message) = c
        .error("events.geojson?from=2015-01-01&to=2019-06-01")
        .await;
    assert_eq!((status, code.as_str()), (422, "limit_exceeded"));
    assert!(message.contains("1096 days"), "{message}");
    let (status, code, _) = c.error("near-repeat?permutations=100000").await;
    assert_eq!((status, code.as_str()), (422, "limit_exceeded"));
    let (status, _, message) = c
        .error("backtest?start=2019-11-01&origins=100&models=naive,historical,retrospective,prospective,stkde,glm")
        .await;
    assert_eq!(status, 422);
    assert!(message.contains("600 fits"), "{message}");
    let (status, _, message) = c
        .error("forecast.geojson?model=rtm&category=residential_burglary")
        .await;
    assert_eq!(status, 400);
    assert!(message.contains("risk layers"), "{message}");

    let viewer = Client::as_role(Role::Viewer).await;
    let (status, code, _) = viewer.error("events.geojson?limit=5").await;
    assert_eq!((status, code.as_str()), (403, "forbidden"));
    let agg = viewer
        .json("aggregate.geojson?cell_size=500&nonzero=true")
        .await;
    assert!(agg["features"].as_array().is_some_and(|f| !f.is_empty()));
    let store = sl_engine::SqliteStore::open(stlouis()).expect("store");
    let denied = sl_engine::audit::list(&store, 10_000)
        .expect("audit")
        .into_iter()
        .filter(|r| r.object == "events:stlouis-slmpd?limit=5" && r.outcome == "denied")
        .count();
    assert!(denied >= 1, "the refused read is in the audit log");
}
