//! Context layers over HTTP: an analyst uploads census tracts, any role reads them back,
//! rates per 1,000 residents on a hand-built case, what is near a point, refusals with
//! their codes, and the audit records.

use std::path::Path;

use serde_json::{Value, json};
use sl_engine::accounts::Role;
use sl_engine::ingest::{IngestOptions, ingest};

use super::{get_as, login, start, users};

const PROFILE: &str = r#"
[dataset]
name = "toy"
kind = "incident_report"
time_zone = "America/New_York"
local_crs = "EPSG:26918"

[id]
columns = ["id"]

[occurred]
column = "when"
formats = ["%Y-%m-%d %H:%M"]

[location]
x = "lon"
y = "lat"
crs = "EPSG:4326"

[jurisdiction]
bbox = [-76.0, 39.0, -74.0, 41.0]

[offence]
code = "code"
[[offence.rules]]
category = "robbery"
codes = ["R"]
[[offence.rules]]
category = "residential_burglary"
codes = ["B"]
"#;

/// The hand case of `sl_engine::context_layers`' tests: tract A (2,000 residents) with a
/// hole, tract B (nobody), events in A, in the hole, in B, far away and without a point.
const EVENTS: &str = "id,when,lon,lat,code
1,2024-01-10 10:00,-75.198,39.952,R
2,2024-01-11 10:00,-75.182,39.968,R
3,2024-01-12 10:00,-75.190,39.952,B
4,2024-01-13 10:00,-75.190,39.960,R
5,2024-01-14 10:00,-75.170,39.960,R
6,2024-01-15 10:00,-75.100,39.900,R
7,2024-01-16 10:00,,,R
8,2024-02-20 10:00,-75.199,39.969,R
";

fn square(x0: f64, y0: f64, x1: f64, y1: f64) -> Value {
    json!([[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]])
}

fn tracts() -> String {
    json!({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"name": "A", "pop": 2000},
         "geometry": {"type": "Polygon", "coordinates": [
             square(-75.20, 39.95, -75.18, 39.97), square(-75.195, 39.955, -75.185, 39.965)]}},
        {"type": "Feature", "properties": {"name": "B", "pop": 0},
         "geometry": {"type": "Polygon", "coordinates": [square(-75.18, 39.95, -75.16, 39.97)]}}
    ]})
    .to_string()
}

fn ingest_toy(db: &Path, dir: &Path) {
    let csv = dir.join("events.csv");
    std::fs::write(&csv, EVENTS).expect("csv");
    let mut store = sl_engine::SqliteStore::open(db).expect("store");
    let profile = sl_engine::Profile::parse(PROFILE, Path::new("toy.toml")).expect("profile");
    let mut opts = IngestOptions::new(vec![csv]);
    opts.now = Some(sl_types::Timestamp(1_800_000_000));
    ingest(&mut store, &profile, &opts, &|_| {}).expect("ingest");
}

/// Sends `method` with an optional cookie, content type and body; returns the status and
/// the JSON body (null when there is none).
pub async fn send_as(
    method: reqwest::Method,
    url: &str,
    cookie: Option<&str>,
    content_type: Option<&str>,
    body: Option<String>,
) -> (u16, Value) {
    let mut req = reqwest::Client::new().request(method, url);
    if let Some(c) = cookie {
        req = req.header("cookie", c);
    }
    if let Some(t) = content_type {
        req = req.header("content-type", t);
    }
    if let Some(b) = body {
        req = req.body(b);
    }
    let r = req.send().await.expect("request");
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

const GEO: Option<&str> = Some("application/geo+json");

#[tokio::test]
async fn analysts_upload_layers_and_everyone_reads_rates() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("s.db");
    let base = start(&db).await;
    let people = users(&db);
    ingest_toy(&db, dir.path());
    let cookie_of = |role: Role| {
        let (_, name, password) = people.iter().find(|(r, _, _)| *r == role).expect("role");
        (name.clone(), password.clone())
    };
    let (analyst, pw) = cookie_of(Role::Analyst);
    let analyst = login(&base, &analyst, &pw).await.1.expect("analyst cookie");
    let (viewer, pw) = cookie_of(Role::Viewer);
    let viewer = login(&base, &viewer, &pw).await.1.expect("viewer cookie");
    let post = reqwest::Method::POST;
    let layer_url = format!("{base}/api/datasets/toy/layers/tracts");

    // Only analysts and admins upload; nobody without a session.
    let (status, e) = send_as(
        post.clone(),
        &format!("{layer_url}?population_field=pop"),
        Some(&viewer),
        GEO,
        Some(tracts()),
    )
    .await;
    assert_eq!(status, 403, "{e}");
    assert_eq!(e["error"]["code"], "forbidden");
    let (status, e) = send_as(post.clone(), &layer_url, None, GEO, Some(tracts())).await;
    assert_eq!(status, 401, "{e}");

    let (status, added) = send_as(
        post.clone(),
        &format!("{layer_url}?population_field=pop&file_name=tracts2020.geojson"),
        Some(&analyst),
        GEO,
        Some(tracts()),
    )
    .await;
    assert_eq!(status, 200, "{added}");
    assert_eq!(added["name"], "tracts");
    assert_eq!(added["kind"], "polygons");
    assert_eq!(added["features"], 2);
    assert_eq!(added["file_name"], "tracts2020.geojson");
    assert_eq!(added["population_field"], "pop");
    assert_eq!(added["replaced"], false);
    assert_eq!(added["sha256"].as_str().map(str::len), Some(64));

    // Any logged-in role lists and reads it back.
    let (status, list) = get_as(&format!("{base}/api/datasets/toy/layers"), Some(&viewer)).await;
    assert_eq!(status, 200, "{list}");
    assert_eq!(list[0]["name"], "tracts");
    assert_eq!(list[0]["features"], 2);
    let r = reqwest::Client::new()
        .get(format!("{layer_url}.geojson"))
        .header("cookie", &viewer)
        .send()
        .await
        .expect("request");
    assert_eq!(r.headers()["content-type"], "application/geo+json");
    let fc: Value = r.json().await.expect("json");
    assert_eq!(fc["type"], "FeatureCollection");
    assert_eq!(fc["meta"]["dataset"], "toy");
    assert_eq!(fc["meta"]["population_field"], "pop");
    assert_eq!(fc["features"][0]["properties"]["name"], "A");
    assert_eq!(
        fc["features"][0]["geometry"]["coordinates"]
            .as_array()
            .map(Vec::len),
        Some(2),
        "the hole is kept"
    );

    // Rates in January: tract A holds events 1, 2, 3 of 2,000 residents (1.5 per 1,000),
    // tract B event 5 and nobody (null); 4 is in the hole, 6 far away, 7 has no point.
    let rates =
        format!("{base}/api/datasets/toy/rates.geojson?layer=tracts&from=2024-01-01&to=2024-02-01");
    let (status, r) = get_as(&rates, Some(&viewer)).await;
    assert_eq!(status, 200, "{r}");
    let props = |i: usize| r["features"][i]["properties"].clone();
    assert_eq!(
        (props(0)["name"].clone(), props(0)["count"].clone()),
        (json!("A"), json!(3))
    );
    assert_eq!(props(0)["rate_per_1000"], 1.5);
    assert_eq!(props(0)["population"], 2000.0);
    assert_eq!(props(1)["count"], 1);
    assert_eq!(props(1)["rate_per_1000"], Value::Null);
    let m = &r["meta"];
    assert_eq!(
        [
            &m["events"],
            &m["in_polygons"],
            &m["outside_polygons"],
            &m["without_point"]
        ],
        [&json!(7), &json!(4), &json!(2), &json!(1)]
    );
    assert_eq!(m["rate_per_1000"], 2.0);
    assert_eq!(
        m["from"], "2024-01-01T05:00:00Z",
        "local midnight in New York"
    );
    let (_, robbery) = get_as(&format!("{rates}&category=robbery"), Some(&viewer)).await;
    assert_eq!(robbery["features"][0]["properties"]["count"], 2);
    assert_eq!(robbery["meta"]["categories"], json!(["robbery"]));

    // Near a point inside tract A: the tract, 0 m away.
    let (status, n) = get_as(
        &format!("{base}/api/datasets/toy/nearby?lon=-75.182&lat=39.951&radius=50"),
        Some(&viewer),
    )
    .await;
    assert_eq!(status, 200, "{n}");
    let t = &n["layers"][0];
    assert_eq!(
        (t["layer"].clone(), t["within"].clone()),
        (json!("tracts"), json!(1))
    );
    assert_eq!(t["nearest"]["label"], "A");
    assert_eq!(t["nearest"]["distance_m"], 0.0);
    assert_eq!(t["nearest"]["population"], 2000.0);

    // Mistakes, each with its code and a message that names the problem.
    let mixed = json!({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {}, "geometry": {"type": "Point", "coordinates": [-75.1, 39.9]}},
        {"type": "Feature", "properties": {}, "geometry": {"type": "LineString", "coordinates": [[-75.1, 39.9], [-75.2, 39.9]]}}
    ]});
    let (status, e) = send_as(
        post.clone(),
        &format!("{base}/api/datasets/toy/layers/stops"),
        Some(&analyst),
        GEO,
        Some(mixed.to_string()),
    )
    .await;
    assert_eq!(status, 400, "{e}");
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("feature 1 is a line"),
        "{e}"
    );
    let (status, e) = send_as(
        post.clone(),
        &format!("{base}/api/datasets/toy/layers/stops"),
        Some(&analyst),
        Some("text/plain"),
        Some(mixed.to_string()),
    )
    .await;
    assert_eq!(
        (status, e["error"]["code"].clone()),
        (400, json!("bad_request")),
        "{e}"
    );
    let huge = format!(
        "{{\"type\": \"FeatureCollection\", \"features\": [], \"pad\": \"{}\"}}",
        "x".repeat(21 << 20)
    );
    let (status, e) = send_as(
        post.clone(),
        &format!("{base}/api/datasets/toy/layers/huge"),
        Some(&analyst),
        GEO,
        Some(huge),
    )
    .await;
    assert_eq!(
        (status, e["error"]["code"].clone()),
        (422, json!("limit_exceeded")),
        "{e}"
    );
    let (status, e) = get_as(
        &format!("{base}/api/datasets/toy/rates.geojson"),
        Some(&viewer),
    )
    .await;
    assert_eq!(status, 400, "layer is required: {e}");
    let (status, e) = get_as(
        &format!("{base}/api/datasets/toy/rates.geojson?layer=nothing"),
        Some(&viewer),
    )
    .await;
    assert_eq!(status, 404, "{e}");
    let (status, e) = get_as(&format!("{rates}&from=January"), Some(&viewer)).await;
    assert_eq!(status, 400, "{e}");
    let (status, e) = get_as(
        &format!("{base}/api/datasets/toy/nearby?lon=-75.18&lat=39.95&radius=9000"),
        Some(&viewer),
    )
    .await;
    assert_eq!(status, 400, "{e}");
    let (status, e) = get_as(
        &format!("{base}/api/datasets/toy/nearby?lat=39.95"),
        Some(&viewer),
    )
    .await;
    assert_eq!(status, 400, "{e}");
    let (status, _) = get_as(&layer_url, Some(&viewer)).await;
    assert_eq!(status, 404, "the GeoJSON path ends in .geojson");

    // Removing: viewers may not; analysts may, once.
    let delete = reqwest::Method::DELETE;
    let (status, _) = send_as(delete.clone(), &layer_url, Some(&viewer), None, None).await;
    assert_eq!(status, 403);
    let (status, _) = send_as(delete.clone(), &layer_url, Some(&analyst), None, None).await;
    assert_eq!(status, 204);
    let (status, _) = send_as(delete, &layer_url, Some(&analyst), None, None).await;
    assert_eq!(status, 404);
    let (status, _) = get_as(&format!("{layer_url}.geojson"), Some(&viewer)).await;
    assert_eq!(status, 404);

    // The audit trail: uploads and removals with the user's name (the viewer's denied,
    // the analyst's refused file too), and the reads.
    let store = sl_engine::SqliteStore::open(&db).expect("store");
    assert!(sl_engine::audit::verify(&store).expect("verify").is_ok());
    let records = sl_engine::audit::list(&store, 1000).expect("list");
    let of = |action: &str, object: &str| -> Vec<(Option<String>, String)> {
        records
            .iter()
            .filter(|r| r.action == action && r.object == object)
            .map(|r| (r.actor.clone(), r.outcome.clone()))
            .collect()
    };
    let analyst_name = Some("analyst1".to_string());
    let viewer_denied = (Some("viewer1".to_string()), "denied".to_string());
    assert_eq!(
        of("layer.upload", "layer:toy/tracts"),
        [
            viewer_denied.clone(),
            (analyst_name.clone(), "ok".to_string())
        ]
    );
    assert_eq!(
        of("layer.upload", "layer:toy/stops"),
        [(analyst_name.clone(), "refused".to_string())]
    );
    assert_eq!(
        of("layer.remove", "layer:toy/tracts"),
        [
            viewer_denied,
            (analyst_name.clone(), "ok".to_string()),
            (analyst_name, "refused".to_string())
        ]
    );
    assert_eq!(of("data.read", "rates:toy/tracts").len(), 2);
    assert_eq!(of("data.read", "layer:toy/tracts").len(), 1);
    assert_eq!(of("data.read", "nearby:toy").len(), 1);
}

/// The endpoints are in the OpenAPI document, with their methods.
#[tokio::test]
async fn context_endpoints_are_in_the_openapi_document() {
    let dir = tempfile::tempdir().expect("tempdir");
    let base = start(&dir.path().join("s.db")).await;
    let (status, doc) = get_as(&format!("{base}/api/openapi.json"), None).await;
    assert_eq!(status, 200);
    for (path, method) in [
        ("/api/datasets/{name}/layers", "get"),
        ("/api/datasets/{name}/layers/{layer}.geojson", "get"),
        ("/api/datasets/{name}/layers/{layer}", "post"),
        ("/api/datasets/{name}/layers/{layer}", "delete"),
        ("/api/datasets/{name}/rates.geojson", "get"),
        ("/api/datasets/{name}/nearby", "get"),
    ] {
        assert!(
            doc["paths"][path][method].is_object(),
            "{method} {path} missing from OpenAPI"
        );
    }
    assert!(doc["components"]["schemas"]["LayerInfo"].is_object());
    assert!(
        doc["paths"]["/api/health"].is_object(),
        "the main document is kept"
    );
}

/// The dataset list is kept between requests, and a load made while the server runs
/// shows at the next request: a new dataset, then more events in it.
#[tokio::test]
async fn the_dataset_list_follows_loads_made_while_serving() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("s.db");
    let base = start(&db).await;
    let people = users(&db);
    let (_, name, password) = people
        .iter()
        .find(|(r, _, _)| *r == Role::Viewer)
        .expect("viewer");
    let viewer = login(&base, name, password).await.1.expect("viewer cookie");
    let list = format!("{base}/api/datasets");

    let (status, before) = get_as(&list, Some(&viewer)).await;
    assert_eq!((status, before.clone()), (200, json!([])));

    ingest_toy(&db, dir.path());
    let (status, first) = get_as(&list, Some(&viewer)).await;
    assert_eq!(status, 200);
    assert_eq!(first.as_array().map(Vec::len), Some(1), "{first}");
    assert_eq!(first[0]["name"], "toy");
    assert_eq!(first[0]["events"], 8, "{first}");
    let (status, one) = get_as(&format!("{base}/api/datasets/toy"), Some(&viewer)).await;
    assert_eq!((status, &one), (200, &first[0]));

    let more = dir.path().join("more.csv");
    std::fs::write(
        &more,
        "id,when,lon,lat,code\n9,2024-03-01 10:00,-75.19,39.96,R\n10,2024-03-02 10:00,-75.19,39.96,B\n",
    )
    .expect("csv");
    let mut store = sl_engine::SqliteStore::open(&db).expect("store");
    let profile = sl_engine::Profile::parse(PROFILE, Path::new("toy.toml")).expect("profile");
    ingest(
        &mut store,
        &profile,
        &IngestOptions::new(vec![more]),
        &|_| {},
    )
    .expect("ingest");
    drop(store);
    let (status, second) = get_as(&list, Some(&viewer)).await;
    assert_eq!(status, 200);
    assert_eq!(second[0]["events"], 10, "{second}");
    assert_eq!(second[0]["sources"].as_array().map(Vec::len), Some(2));
    assert_eq!(
        second[0]["last_occurrence"], "2024-03-02 10:00 EST",
        "{second}"
    );
}
