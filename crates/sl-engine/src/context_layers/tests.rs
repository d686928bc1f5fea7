//! Context layers: checks at upload with the feature named, the stored round trip,
//! replacement and the audit trail, rates on a hand-built case (a tract with a hole,
//! an empty tract, events in the hole, outside and without a point), distances known
//! by hand, and the real Philadelphia census tracts.

use std::io::Read as _;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use sl_ingest::layer::LayerShape;
use sl_types::Timestamp;

use super::*;
use crate::analysis::Selection;
use crate::analysis::selection::local_midnight;
use crate::ingest::{IngestOptions, ingest};
use crate::{Profile, SqliteStore};

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

/// Tract A: the square lon [-75.20, -75.18] × lat [39.95, 39.97] with a hole
/// [-75.195, -75.185] × [39.955, 39.965], 2,000 residents. Tract B: the square east of
/// it, lon [-75.18, -75.16], nobody living there (population given as the string "0").
const EVENTS: &[&str] = &[
    "1,2024-01-10 10:00,-75.198,39.952,R", // A
    "2,2024-01-11 10:00,-75.182,39.968,R", // A
    "3,2024-01-12 10:00,-75.190,39.952,B", // A, below the hole
    "4,2024-01-13 10:00,-75.190,39.960,R", // in the hole: outside every tract
    "5,2024-01-14 10:00,-75.170,39.960,R", // B
    "6,2024-01-15 10:00,-75.100,39.900,R", // no tract
    "7,2024-01-16 10:00,,,R",              // no point
    "8,2024-02-20 10:00,-75.199,39.969,R", // A, but in February
];

fn square(x0: f64, y0: f64, x1: f64, y1: f64) -> Value {
    json!([[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]])
}

fn tracts() -> String {
    json!({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"name": "A", "pop": 2000},
         "geometry": {"type": "Polygon", "coordinates": [
             square(-75.20, 39.95, -75.18, 39.97), square(-75.195, 39.955, -75.185, 39.965)]}},
        {"type": "Feature", "properties": {"name": "B", "pop": "0"},
         "geometry": {"type": "Polygon", "coordinates": [square(-75.18, 39.95, -75.16, 39.97)]}}
    ]})
    .to_string()
}

/// A store holding the toy dataset with [`EVENTS`].
fn store_with_events(dir: &Path) -> SqliteStore {
    let csv = dir.join("events.csv");
    let mut text = "id,when,lon,lat,code\n".to_string();
    for r in EVENTS {
        text.push_str(r);
        text.push('\n');
    }
    std::fs::write(&csv, text).expect("csv");
    let mut store = SqliteStore::in_memory().expect("store");
    let profile = Profile::parse(PROFILE, Path::new("toy.toml")).expect("profile");
    let mut opts = IngestOptions::new(vec![csv]);
    opts.now = Some(Timestamp(1_800_000_000));
    let r = ingest(&mut store, &profile, &opts, &|_| {}).expect("ingest");
    assert_eq!(r.totals.accepted, EVENTS.len() as u64, "{:?}", r.totals);
    store
}

fn ctx() -> Context<'static> {
    Context::local(1_767_225_600_000)
}

fn add_text(
    store: &mut SqliteStore,
    name: &str,
    text: &str,
    population: Option<&str>,
) -> Result<Added, LayerError> {
    add(
        store,
        &ctx(),
        "toy",
        name,
        LayerInput::GeoJson {
            text,
            file_name: "upload.geojson",
        },
        population,
    )
}

fn january(categories: &[&str]) -> Selection {
    let day = |d: &str| local_midnight("America/New_York", d.parse().expect("date")).expect("day");
    Selection {
        dataset: "toy".into(),
        categories: categories.iter().map(|c| c.to_string()).collect(),
        from: Some(day("2024-01-01")),
        to: Some(day("2024-02-01")),
        area: None,
    }
}

#[test]
fn rates_count_events_per_polygon_with_holes_and_empty_tracts() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut store = store_with_events(dir.path());
    let added = add_text(&mut store, "tracts", &tracts(), Some("pop")).expect("add");
    assert_eq!(added.summary.kind, LayerKind::Polygons);
    assert_eq!(added.summary.features, 2);

    // January, all categories: events 1–7 (8 is in February).
    let r = rates(&store, &january(&[]), "tracts").expect("rates");
    assert_eq!(
        r.polygons,
        [
            PolygonRate {
                feature: 0,
                count: 3,
                population: 2000.0,
                rate_per_1000: Some(1.5) // 1000 × 3 / 2000
            },
            PolygonRate {
                feature: 1,
                count: 1,
                population: 0.0,
                rate_per_1000: None // nobody lives there
            },
        ]
    );
    assert_eq!(r.events, 7);
    assert_eq!(r.without_point, 1, "event 7");
    assert_eq!(r.in_polygons, 4, "events 1, 2, 3 and 5");
    assert_eq!(r.outside, 2, "event 4 in the hole, event 6 far away");
    assert_eq!(r.in_several, 0);
    assert_eq!(r.population, 2000.0);
    assert_eq!(r.rate_per_1000, Some(2.0), "1000 × 4 / 2000");

    // Robberies only: event 3 (a burglary) drops out of tract A.
    let r = rates(&store, &january(&["robbery"]), "tracts").expect("rates");
    let counts: Vec<u64> = r.polygons.iter().map(|p| p.count).collect();
    assert_eq!(counts, [2, 1]);
    assert_eq!(r.polygons[0].rate_per_1000, Some(1.0));
    assert_eq!((r.events, r.in_polygons, r.outside), (6, 3, 2));

    // All time: event 8 joins tract A.
    let all = Selection {
        dataset: "toy".into(),
        ..Selection::default()
    };
    let r = rates(&store, &all, "tracts").expect("rates");
    assert_eq!(r.polygons[0].count, 4);
    assert_eq!(r.polygons[0].rate_per_1000, Some(2.0));
}

#[test]
fn overlapping_polygons_count_an_event_in_each_and_say_so() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut store = store_with_events(dir.path());
    // Tract A without its hole, and a square over its lower half.
    let overlap = json!({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"pop": 100},
         "geometry": {"type": "Polygon", "coordinates": [square(-75.20, 39.95, -75.18, 39.97)]}},
        {"type": "Feature", "properties": {"pop": 50},
         "geometry": {"type": "Polygon", "coordinates": [square(-75.20, 39.95, -75.18, 39.958)]}}
    ]});
    add_text(&mut store, "overlap", &overlap.to_string(), Some("pop")).expect("add");
    let r = rates(&store, &january(&[]), "overlap").expect("rates");
    // Events 1 and 3 lie in both squares, 2 and 4 in the first only.
    let counts: Vec<u64> = r.polygons.iter().map(|p| p.count).collect();
    assert_eq!(counts, [4, 2]);
    assert_eq!((r.in_polygons, r.in_several, r.outside), (4, 2, 2));
}

#[test]
fn rates_need_polygons_with_population() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut store = store_with_events(dir.path());
    add_text(&mut store, "plain", &tracts(), None).expect("add without population");
    let points = json!({"type": "Feature", "properties": {},
        "geometry": {"type": "Point", "coordinates": [-75.19, 39.96]}});
    add_text(&mut store, "stops", &points.to_string(), None).expect("add points");
    let sel = january(&[]);
    let e = rates(&store, &sel, "plain").expect_err("no population field");
    assert!(matches!(e, LayerError::NoPopulation { .. }), "{e}");
    assert!(e.to_string().contains("--population-field"), "{e}");
    let e = rates(&store, &sel, "stops").expect_err("points");
    assert!(matches!(e, LayerError::NotPolygons { .. }), "{e}");
    let e = rates(&store, &sel, "nothing").expect_err("no such layer");
    assert!(matches!(e, LayerError::NotFound { .. }), "{e}");
    assert!(e.to_string().contains("streetlight layer list"), "{e}");
}

/// Distances known by hand: 0.001° of latitude is 111.195 m on the mean sphere
/// (6,371,008.8 m × π / 180 = 111,195.08 m per degree); 0.002° of longitude at 39.95°
/// is 111,195.08 × 0.002 × cos 39.95° = 170.485 m.
#[test]
fn nearby_counts_within_the_radius_and_measures_the_nearest() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut store = store_with_events(dir.path());
    let (lon, lat) = (-75.19, 39.95);
    let stops = json!({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"name": "north 333"},
         "geometry": {"type": "Point", "coordinates": [lon, lat + 0.003]}},
        {"type": "Feature", "properties": {"name": "east 170"},
         "geometry": {"type": "Point", "coordinates": [lon + 0.002, lat]}},
        {"type": "Feature", "properties": {"name": "north 111"},
         "geometry": {"type": "Point", "coordinates": [lon, lat + 0.001]}}
    ]});
    add_text(&mut store, "stops", &stops.to_string(), None).expect("stops");
    // A street 0.0005° north (55.598 m), running east–west well past the point.
    let street = json!({"type": "Feature", "properties": {"name": "Main St"},
        "geometry": {"type": "LineString", "coordinates": [[lon - 0.01, lat + 0.0005], [lon + 0.01, lat + 0.0005]]}});
    add_text(&mut store, "streets", &street.to_string(), None).expect("streets");
    add_text(&mut store, "tracts", &tracts(), Some("pop")).expect("tracts");

    let n = nearby(&store, "toy", lon, lat, 200.0).expect("nearby");
    let by_name = |name: &str| {
        n.layers
            .iter()
            .find(|l| l.layer == name)
            .unwrap_or_else(|| panic!("layer {name}"))
    };
    let s = by_name("stops");
    assert_eq!(
        (s.features, s.within),
        (3, 2),
        "111 m and 170 m are within 200 m"
    );
    let nearest = s.nearest.as_ref().expect("nearest");
    assert_eq!((nearest.feature, nearest.label.as_str()), (2, "north 111"));
    assert!(
        (nearest.distance_m - 111.195_080).abs() < 1e-3,
        "{}",
        nearest.distance_m
    );
    let st = by_name("streets");
    let d = st.nearest.as_ref().expect("street").distance_m;
    assert!((d - 55.597_540).abs() < 1e-3, "{d}");
    assert_eq!(st.within, 1);
    // 0.001° north of tract A's southern edge is inside A (east of its hole): distance 0.
    let inside = nearby(&store, "toy", lon + 0.008, lat + 0.001, 50.0).expect("inside");
    let t = inside
        .layers
        .iter()
        .find(|l| l.layer == "tracts")
        .expect("tracts");
    let a = t.nearest.as_ref().expect("tract");
    assert_eq!(
        (a.label.as_str(), a.distance_m, a.population),
        ("A", 0.0, Some(2000.0))
    );
    assert_eq!(t.within, 1);
    let south = nearby(&store, "toy", lon + 0.008, lat - 0.001, 150.0).expect("south");
    let t = south
        .layers
        .iter()
        .find(|l| l.layer == "tracts")
        .expect("tracts");
    let a = t.nearest.as_ref().expect("tract");
    assert!(
        (a.distance_m - 111.195_080).abs() < 1e-3,
        "{}",
        a.distance_m
    );
    // Tract B's corner is 0.002° of longitude and 0.001° of latitude away: 203.5 m.
    assert_eq!(t.within, 1, "only tract A is within 150 m");
    // At the centre of tract A's hole: outside A, the nearest edge is the hole's west or
    // east side, 0.005° of longitude at 39.96°: 111,195.08 × 0.005 × cos 39.96° = 426.151 m
    // (its north and south sides are 0.005° of latitude, 555.975 m, away).
    let hole = nearby(&store, "toy", -75.19, 39.96, 100.0).expect("hole");
    let t = hole
        .layers
        .iter()
        .find(|l| l.layer == "tracts")
        .expect("tracts");
    let d = t.nearest.as_ref().expect("tract").distance_m;
    assert!((d - 426.151_257).abs() < 1e-3, "{d}");
    assert_eq!(t.within, 0);

    let e = nearby(&store, "toy", lon, lat, 0.0).expect_err("radius 0");
    assert!(e.to_string().contains("radius"), "{e}");
    let e = nearby(&store, "toy", 2_700_000.0, lat, 100.0).expect_err("not lon/lat");
    assert!(e.to_string().contains("longitude"), "{e}");
}

#[test]
fn refusals_name_the_feature_and_say_what_to_do() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut store = store_with_events(dir.path());
    let fc = |features: Vec<Value>| {
        json!({"type": "FeatureCollection", "features": features}).to_string()
    };
    let point = |x: f64, y: f64, props: Value| json!({"type": "Feature", "properties": props, "geometry": {"type": "Point", "coordinates": [x, y]}});
    let poly = |props: Value| {
        json!({"type": "Feature", "properties": props,
               "geometry": {"type": "Polygon", "coordinates": [square(-75.2, 39.9, -75.1, 40.0)]}})
    };

    let e = add_text(&mut store, "empty", &fc(vec![]), None).expect_err("empty");
    assert!(
        e.to_string().contains("holds no points, lines or polygons"),
        "{e}"
    );

    let line = json!({"type": "Feature", "properties": {},
        "geometry": {"type": "LineString", "coordinates": [[-75.1, 39.9], [-75.2, 39.95]]}});
    let e = add_text(
        &mut store,
        "mixed",
        &fc(vec![
            point(-75.1, 39.9, json!({})),
            json!({"type": "Feature", "properties": {}, "geometry": null}),
            line,
        ]),
        None,
    )
    .expect_err("mixed");
    assert!(
        matches!(
            e,
            LayerError::MixedKinds {
                first: 0,
                feature: 2,
                ..
            }
        ),
        "{e}"
    );
    assert!(
        e.to_string()
            .contains("feature 2 is a line but feature 0 is a point"),
        "{e}"
    );

    let e = add_text(
        &mut store,
        "tracts",
        &fc(vec![
            poly(json!({"pop": 10})),
            poly(json!({"POP": 12, "area": 3.5})),
        ]),
        Some("pop"),
    )
    .expect_err("missing");
    assert!(
        matches!(e, LayerError::PopulationMissing { feature: 1, .. }),
        "{e}"
    );
    assert!(
        e.to_string()
            .contains("numeric properties of this feature: POP, area"),
        "{e}"
    );

    for bad in [json!("about 40"), json!(-3), json!(true)] {
        let e = add_text(
            &mut store,
            "tracts",
            &fc(vec![
                poly(json!({"pop": 10})),
                poly(json!({"pop": 1})),
                poly(json!({"pop": bad})),
            ]),
            Some("pop"),
        )
        .expect_err("not numeric");
        assert!(
            matches!(e, LayerError::PopulationNotNumeric { feature: 2, .. }),
            "{e}"
        );
    }

    let e = add_text(
        &mut store,
        "stops",
        &fc(vec![point(-75.1, 39.9, json!({"pop": 1}))]),
        Some("pop"),
    )
    .expect_err("population on points");
    assert!(
        matches!(e, LayerError::PopulationNeedsPolygons { .. }),
        "{e}"
    );

    let e = add_text(
        &mut store,
        "stops",
        &fc(vec![
            point(-75.1, 39.9, json!({})),
            point(2_694_000.0, 236_000.0, json!({})),
        ]),
        None,
    )
    .expect_err("projected");
    assert!(matches!(e, LayerError::NotLonLat { feature: 1, .. }), "{e}");
    assert!(e.to_string().contains("--crs"), "{e}");

    let sliver = json!({"type": "Feature", "properties": {},
        "geometry": {"type": "Polygon", "coordinates": [[[-75.1, 39.9], [-75.2, 39.9], [-75.1, 39.9]]]}});
    let e =
        add_text(&mut store, "lots", &fc(vec![poly(json!({})), sliver]), None).expect_err("sliver");
    assert!(
        matches!(e, LayerError::BadGeometry { feature: 1, .. }),
        "{e}"
    );

    for name in ["", "bus stops", "a/b", &"x".repeat(65)] {
        let e = add_text(
            &mut store,
            name,
            &fc(vec![point(-75.1, 39.9, json!({}))]),
            None,
        )
        .expect_err(name);
        assert!(matches!(e, LayerError::BadName(_)), "{e}");
    }
    let e = add(
        &mut store,
        &ctx(),
        "nowhere",
        "stops",
        LayerInput::GeoJson {
            text: &fc(vec![point(-75.1, 39.9, json!({}))]),
            file_name: "x.geojson",
        },
        None,
    )
    .expect_err("no dataset");
    assert!(
        e.is_user_error() && e.to_string().contains("streetlight datasets"),
        "{e}"
    );

    let big = " ".repeat(MAX_GEOJSON_BYTES + 1);
    let e = add_text(&mut store, "big", &big, None).expect_err("too large");
    assert!(matches!(e, LayerError::TooLarge { .. }), "{e}");

    let many: Vec<Value> = (0..=MAX_FEATURES)
        .map(|i| {
            point(
                -75.2 + (i % 1000) as f64 * 1e-4,
                39.9 + (i / 1000) as f64 * 1e-4,
                json!({}),
            )
        })
        .collect();
    let e = add_text(&mut store, "lights", &fc(many), None).expect_err("too many");
    assert!(
        matches!(e, LayerError::TooManyFeatures { features, .. } if features == MAX_FEATURES + 1),
        "{e}"
    );

    assert!(
        list(&store, "toy").expect("list").is_empty(),
        "nothing refused was stored"
    );
}

#[test]
fn layers_round_trip_replace_and_are_audited() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut store = store_with_events(dir.path());
    // A shapefile-style polygon: one flat list of rings holding two outer rings and a
    // hole, which must come back as a MultiPolygon with the hole in the first part.
    let flat = json!({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"name": "lots", "n": 2},
         "geometry": {"type": "Polygon", "coordinates": [
             square(-75.20, 39.95, -75.18, 39.97), square(-75.195, 39.955, -75.185, 39.965),
             square(-75.10, 39.95, -75.09, 39.96)]}},
        {"type": "Feature", "properties": {"name": "nothing"}, "geometry": null}
    ]});
    let added = add_text(&mut store, "lots", &flat.to_string(), None).expect("add");
    assert!(!added.replaced);
    assert_eq!(added.without_geometry, 1);
    assert_eq!(added.summary.file_name, "upload.geojson");
    assert_eq!(
        added.summary.sha256,
        sl_ingest::source::sha256_bytes(flat.to_string().as_bytes())
    );
    assert_eq!(added.summary.uploaded_at(), "2026-01-01T00:00:00Z");

    let (_, text) = stored_geojson(&store, "toy", "lots").expect("stored");
    let stored: Value = serde_json::from_str(&text).expect("json");
    assert_eq!(stored["features"].as_array().map(Vec::len), Some(1));
    let g = &stored["features"][0]["geometry"];
    assert_eq!(g["type"], "MultiPolygon");
    assert_eq!(g["coordinates"].as_array().map(Vec::len), Some(2));
    assert_eq!(
        g["coordinates"][0].as_array().map(Vec::len),
        Some(2),
        "outer + hole"
    );
    assert_eq!(
        stored["features"][0]["properties"],
        json!({"name": "lots", "n": 2})
    );

    let layer = get(&store, "toy", "lots").expect("get");
    assert_eq!(layer.features.len(), 1);
    assert_eq!(layer.label(0), "lots");
    let rings: usize = layer.features[0]
        .shapes
        .iter()
        .map(|s| match s {
            LayerShape::Polygon(r) => r.len(),
            _ => 0,
        })
        .sum();
    assert_eq!(rings, 3);

    let again = add_text(&mut store, "lots", &tracts(), None).expect("replace");
    assert!(again.replaced);
    assert_eq!(get(&store, "toy", "lots").expect("get").features.len(), 2);
    assert!(add_text(&mut store, "lots", "{broken", None).is_err());
    remove(&mut store, &ctx(), "toy", "lots").expect("remove");
    let e = remove(&mut store, &ctx(), "toy", "lots").expect_err("gone");
    assert!(matches!(e, LayerError::NotFound { .. }), "{e}");

    let log: Vec<(String, String, String)> = audit::list(&store, 100)
        .expect("audit")
        .into_iter()
        .filter(|r| r.object.starts_with("layer:"))
        .map(|r| (r.action, r.object, r.outcome))
        .collect();
    let rec = |a: &str, o: &str| (a.to_string(), "layer:toy/lots".to_string(), o.to_string());
    assert_eq!(
        log,
        [
            rec("layer.upload", "ok"),
            rec("layer.upload", "ok"),
            rec("layer.upload", "refused"),
            rec("layer.remove", "ok"),
            rec("layer.remove", "refused"),
        ]
    );
    assert!(audit::verify(&store).expect("verify").is_ok());
}

/// A file on disk: gzip GeoJSON, as the Philadelphia tracts ship, and a projected file
/// read with its CRS.
#[test]
fn files_are_read_with_compression_and_crs() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut store = store_with_events(dir.path());
    // Philadelphia City Hall in PA South state plane feet (EPSG:2272): 2,694,0xx E,
    // 236,0xx N is about (-75.1635, 39.9526).
    let projected = json!({"type": "Feature", "properties": {"name": "City Hall"},
        "geometry": {"type": "Point", "coordinates": [2_694_000.0, 236_000.0]}});
    let path = dir.path().join("hall.geojson");
    std::fs::write(&path, projected.to_string()).expect("write");
    let e = add(
        &mut store,
        &ctx(),
        "toy",
        "hall",
        LayerInput::File {
            path: &path,
            crs: None,
        },
        None,
    )
    .expect_err("needs its CRS");
    assert!(matches!(e, LayerError::NotLonLat { .. }), "{e}");
    add(
        &mut store,
        &ctx(),
        "toy",
        "hall",
        LayerInput::File {
            path: &path,
            crs: Some("EPSG:2272"),
        },
        None,
    )
    .expect("with its CRS");
    let layer = get(&store, "toy", "hall").expect("get");
    let LayerShape::Point(lon, lat) = layer.features[0].shapes[0] else {
        panic!("a point");
    };
    assert!(
        (lon + 75.164).abs() < 0.01 && (lat - 39.952).abs() < 0.01,
        "({lon}, {lat})"
    );
    assert_eq!(layer.summary.file_name, "hall.geojson");
    assert_eq!(
        layer.summary.sha256,
        sl_ingest::source::sha256_file(&path).expect("sha")
    );
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The real Philadelphia census tracts (2020, with population) and the demo's real
/// incidents of the fourth quarter of 2024.
#[test]
fn philadelphia_tracts_give_every_tract_a_rate() {
    let tracts = repo().join("data/philadelphia-ppd/boundaries/census_tracts_pop.geojson.gz");
    // The file's own sums, read independently of the layer reader.
    let mut text = String::new();
    read_decompressed(&tracts, &mut text);
    let file: Value = serde_json::from_str(&text).expect("tracts json");
    let features = file["features"].as_array().expect("features");
    let file_population: f64 = features
        .iter()
        .map(|f| f["properties"]["total_pop"].as_f64().expect("total_pop"))
        .sum();
    let zero_tracts = features
        .iter()
        .filter(|f| f["properties"]["total_pop"].as_f64() == Some(0.0))
        .count();
    assert_eq!(features.len(), 408);
    assert_eq!(file_population, 1_581_531.0);

    let mut store = SqliteStore::in_memory().expect("store");
    let profile = Profile::load(&repo().join("profiles/philadelphia-ppd.toml")).expect("profile");
    let mut opts = IngestOptions::new(vec![
        repo().join("data/philadelphia-ppd/raw/incidents_2024q4.csv.zst"),
    ]);
    opts.now = Some(Timestamp(1_800_000_000));
    ingest(&mut store, &profile, &opts, &|_| {}).expect("ingest the demo extract");
    let added = add(
        &mut store,
        &ctx(),
        "philadelphia-ppd",
        "tracts",
        LayerInput::File {
            path: &tracts,
            crs: None,
        },
        Some("total_pop"),
    )
    .expect("add tracts");
    assert_eq!(added.summary.features, 408);

    let sel = Selection {
        dataset: "philadelphia-ppd".into(),
        ..Selection::default()
    };
    let r = rates(&store, &sel, "tracts").expect("rates");
    assert_eq!(r.polygons.len(), 408, "every tract has a row");
    assert_eq!(r.population, file_population);
    let summed: f64 = r.polygons.iter().map(|p| p.population).sum();
    assert_eq!(summed, file_population);
    for p in &r.polygons {
        assert_eq!(
            p.rate_per_1000.is_some(),
            p.population > 0.0,
            "tract {}",
            p.feature
        );
        if let Some(rate) = p.rate_per_1000 {
            assert!((rate - 1000.0 * p.count as f64 / p.population).abs() < 1e-9);
        }
    }
    assert_eq!(
        r.polygons
            .iter()
            .filter(|p| p.rate_per_1000.is_none())
            .count(),
        zero_tracts
    );
    // Tracts tile the county: no event is in two, and every event is accounted for.
    assert_eq!(r.in_several, 0);
    assert_eq!(r.in_polygons + r.outside + r.without_point, r.events);
    let counted: u64 = r.polygons.iter().map(|p| p.count).sum();
    assert_eq!(counted as usize, r.in_polygons);
    assert!(r.events > 38_000, "{}", r.events);
    assert!(
        r.outside * 1000 < r.events,
        "located events fall inside the county's tracts: {} outside",
        r.outside
    );
}

/// Reads a gzip file with the ingest crate's decompression (the same crate the layer
/// reader uses, but not the layer reader itself).
fn read_decompressed(path: &Path, text: &mut String) {
    sl_ingest::source::open_decompressed(path)
        .expect("open")
        .read_to_string(text)
        .expect("read");
}
