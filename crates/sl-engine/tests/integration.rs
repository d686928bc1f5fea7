//! sl-engine integration tests: classification (new, revised, duplicate, unchanged),
//! retractions, idempotence, resumption after an interrupted load, and real data.

use std::path::{Path, PathBuf};

use sl_engine::ingest::{IngestOptions, IngestReport, ingest};
use sl_engine::quality::quality_report;
use sl_engine::{EventFilter, Profile, SqliteStore, Store};
use sl_types::Timestamp;

const PROFILE: &str = r#"
[dataset]
name = "toy"
kind = "incident_report"
time_zone = "America/Chicago"
local_crs = "EPSG:26915"

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
bbox = [-91.0, 38.0, -90.0, 39.0]

[offence]
code = "code"
[[offence.rules]]
category = "robbery"
codes = ["R"]
[[offence.rules]]
category = "residential_burglary"
codes = ["B"]

[retraction]
column = "count"
values = ["-1"]
matching = ["@occurred", "@code", "addr"]
"#;

const HEADER: &str = "id,when,lon,lat,code,addr,count\n";

fn profile() -> Profile {
    Profile::parse(PROFILE, Path::new("toy.toml")).expect("toy profile")
}

fn write(dir: &Path, name: &str, rows: &[&str]) -> PathBuf {
    let p = dir.join(name);
    let mut text = HEADER.to_string();
    for r in rows {
        text.push_str(r);
        text.push('\n');
    }
    std::fs::write(&p, text).expect("write csv");
    p
}

fn run(store: &mut SqliteStore, files: &[PathBuf]) -> IngestReport {
    let mut opts = IngestOptions::new(files.to_vec());
    opts.now = Some(Timestamp(1_900_000_000));
    ingest(store, &profile(), &opts, &|_| {}).expect("ingest")
}

fn events(
    store: &SqliteStore,
    dataset: &str,
    retracted: bool,
) -> Vec<(String, String, Option<f64>, bool)> {
    let id = store
        .dataset_id(dataset)
        .expect("query")
        .expect("dataset exists");
    let mut out = Vec::new();
    let filter = EventFilter {
        include_retracted: retracted,
        ..EventFilter::default()
    };
    store
        .scan_events(id, &filter, &mut |e| {
            out.push((e.source_key.clone(), e.code.clone(), e.lon, e.retracted))
        })
        .expect("scan");
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

#[test]
fn new_revised_duplicate_and_unchanged() {
    let dir = tempfile::tempdir().expect("tempdir");
    let a = write(
        dir.path(),
        "a.csv",
        &[
            "1,2020-01-01 10:00,-90.2,38.6,R,1 MAIN,1",
            "2,2020-01-01 11:00,-90.2,38.6,B,2 MAIN,1",
            "2,2020-01-01 11:00,-90.2,38.6,B,2 MAIN,1", // exact repeat of the row above
        ],
    );
    let b = write(
        dir.path(),
        "b.csv",
        &[
            "1,2020-01-01 10:00,-90.3,38.6,R,1 MAIN,1", // revision: moved point
            "3,2020-01-02 09:00,-90.2,38.7,R,3 MAIN,1",
        ],
    );
    let mut store = SqliteStore::in_memory().expect("store");
    let r = run(&mut store, &[a.clone(), b.clone()]);
    let t = &r.totals;
    assert_eq!(
        (t.rows_read, t.accepted, t.inserted, t.updated, t.duplicates),
        (5, 4, 3, 1, 1)
    );
    assert!(t.balanced());
    let ev = events(&store, "toy", false);
    assert_eq!(ev.len(), 3);
    assert_eq!(ev[0].0, "1");
    assert_eq!(
        ev[0].2,
        Some(-90.3),
        "the revision replaced the original point"
    );

    // Loading the same files again changes nothing and reports the same counts.
    let again = run(&mut store, &[a, b]);
    assert!(again.files.iter().all(|f| f.already_loaded));
    assert_eq!(again.totals, r.totals);
    assert_eq!(events(&store, "toy", false), ev);
    assert!(store.check_integrity().expect("check").is_ok());
}

#[test]
fn retractions_cancel_one_original_each_and_orphans_are_reported() {
    let dir = tempfile::tempdir().expect("tempdir");
    let a = write(
        dir.path(),
        "a.csv",
        &[
            "1,2020-01-01 10:00,-90.2,38.6,R,1 MAIN,1",
            "2,2020-01-01 10:00,-90.2,38.6,R,1 MAIN,1", // same incident key, second record
            "3,2020-01-03 10:00,-90.2,38.6,B,5 MAIN,1",
        ],
    );
    let b = write(
        dir.path(),
        "b.csv",
        &[
            "9,01/01/2020,0,0,R,1 MAIN,-1", // bad date and no point: still a retraction row
            "10,2020-01-01 10:00,0,0,R,1 MAIN,-1",
            "11,2020-01-01 10:00,0,0,R,1 MAIN,-1", // a third cancellation: no original left
            "12,2020-02-01 10:00,0,0,B,5 MAIN,-1", // matches nothing
        ],
    );
    let mut store = SqliteStore::in_memory().expect("store");
    let r = run(&mut store, &[a, b]);
    let t = &r.totals;
    assert_eq!(t.rows_read, 7);
    assert_eq!(t.retracted, 2);
    assert_eq!(t.quarantined.get("RETRACTION_WITHOUT_ORIGINAL"), Some(&2));
    assert!(t.balanced(), "{t:?}");
    let all = events(&store, "toy", true);
    let retracted: Vec<&str> = all.iter().filter(|e| e.3).map(|e| e.0.as_str()).collect();
    assert_eq!(
        retracted,
        ["1", "2"],
        "earliest originals are cancelled first"
    );
    assert_eq!(events(&store, "toy", false).len(), 1);
    let q = quality_report(&store, "toy").expect("report");
    assert_eq!((q.retractions_matched, q.retractions_unmatched), (2, 2));
    assert!(store.check_integrity().expect("check").is_ok());
}

#[test]
fn an_interrupted_load_resumes_to_the_same_result() {
    let dir = tempfile::tempdir().expect("tempdir");
    let rows: Vec<String> = (0..1000)
        .map(|i| {
            let code = if i % 3 == 0 { "B" } else { "R" };
            let lon = if i % 17 == 0 {
                "-95.0".to_string()
            } else {
                format!("-90.{:03}", i % 997)
            };
            format!(
                "{},2020-03-{:02} 10:{:02},{lon},38.6,{code},{} MAIN,1",
                i % 900,
                1 + i % 28,
                i % 60,
                i % 50
            )
        })
        .collect();
    let refs: Vec<&str> = rows.iter().map(String::as_str).collect();
    let f = write(dir.path(), "big.csv", &refs);

    let mut whole = SqliteStore::in_memory().expect("store");
    let mut opts = IngestOptions::new(vec![f.clone()]);
    opts.now = Some(Timestamp(1_900_000_000));
    opts.batch_rows = 64;
    let expected = ingest(&mut whole, &profile(), &opts, &|_| {}).expect("ingest");

    let mut partial = SqliteStore::in_memory().expect("store");
    for stop in [3u64, 2, 5] {
        let mut o = opts.clone();
        o.stop_after_batches = Some(stop);
        let r = ingest(&mut partial, &profile(), &o, &|_| {}).expect("partial ingest");
        assert!(r.interrupted);
        assert!(partial.check_integrity().expect("check").is_ok());
        let rows = partial
            .sources(partial.dataset_id("toy").expect("q").expect("ds"))
            .expect("sources")[0]
            .rows_committed;
        assert_eq!(rows % 64, 0, "only whole batches are committed");
    }
    let resumed = ingest(&mut partial, &profile(), &opts, &|_| {}).expect("resume");
    assert!(resumed.files[0].resumed_from > 0);
    assert_eq!(resumed.totals, expected.totals);
    assert_eq!(events(&partial, "toy", true), events(&whole, "toy", true));
}

#[test]
fn a_file_without_a_required_column_fails_with_a_clear_message() {
    let dir = tempfile::tempdir().expect("tempdir");
    let p = dir.path().join("bad.csv");
    std::fs::write(
        &p,
        "id,date,lon,lat,code\n1,2020-01-01 10:00,-90.2,38.6,R\n",
    )
    .expect("write");
    let mut store = SqliteStore::in_memory().expect("store");
    let opts = IngestOptions::new(vec![p]);
    let err = ingest(&mut store, &profile(), &opts, &|_| {}).expect_err("must fail");
    let msg = err.to_string();
    assert!(
        msg.contains("no column for occurred") && msg.contains("when"),
        "{msg}"
    );
}

mod real_data {
    use super::*;

    fn shared() -> PathBuf {
        let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data");
        assert!(
            p.is_dir(),
            "real datasets expected at {} (CI places shared/ beside the clone)",
            p.display()
        );
        p
    }

    fn repo_profile(name: &str) -> Profile {
        let p = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../profiles")
            .join(format!("{name}.toml"));
        Profile::load(&p).expect("shipped profile")
    }

    fn load(name: &str, files: Vec<PathBuf>) -> (SqliteStore, IngestReport) {
        let mut store = SqliteStore::in_memory().expect("store");
        let mut opts = IngestOptions::new(files);
        opts.now = Some(Timestamp(1_800_000_000));
        let r = ingest(&mut store, &repo_profile(name), &opts, &|_| {}).expect("ingest");
        assert!(r.totals.balanced(), "{name}: {:?}", r.totals);
        assert!(store.check_integrity().expect("check").is_ok());
        (store, r)
    }

    #[test]
    fn stlouis_header_variants_and_retractions() {
        let d = shared().join("stlouis-slmpd/raw");
        let files = vec![
            d.join("2013/may2013.csv.gz"),
            d.join("2013/june2013.csv.gz"),
            d.join("2017/may2017.csv.gz"),
        ];
        let (store, r) = load("stlouis-slmpd", files);
        // Every file of the three header variants produced events.
        for f in &r.files {
            assert!(f.counts.accepted > 3000, "{}: {:?}", f.path, f.counts);
        }
        assert!(r.totals.retracted > 0, "Count = -1 rows retract originals");
        let q = quality_report(&store, "stlouis-slmpd").expect("report");
        assert!(
            q.without_location_total > 0,
            "sex offences are published without a point"
        );
        assert_eq!(q.retractions_matched, r.totals.retracted);
    }

    #[test]
    fn portland_calls_and_subsets_go_to_their_datasets() {
        let d = shared().join("portland-nij-cfs");
        let (store, r) = load(
            "portland-nij-cfs",
            vec![
                d.join("NIJ2016_AUG01_AUG31.csv.gz"),
                d.join("chirico-subsets/crimes_bur.csv"),
            ],
        );
        assert_eq!(r.files[0].dataset, "portland-nij-cfs");
        assert_eq!(r.files[1].dataset, "portland-nij-burglary");
        assert_eq!(r.files[0].counts.rows_read, 19_376);
        assert_eq!(r.files[1].counts.rows_read, 5_364);
        let id = store
            .dataset_id("portland-nij-burglary")
            .expect("q")
            .expect("ds");
        let mut n = 0;
        let mut whole_days = true;
        store
            .scan_events(id, &EventFilter::default(), &mut |e| {
                n += 1;
                whole_days &= e.category == "cfs_burglary"
                    && matches!(e.t_to - e.t_from, 82_800 | 86_400 | 90_000);
            })
            .expect("scan");
        assert!(n > 5000);
        assert!(whole_days, "day-resolution calls span their local day");
    }
}

#[test]
fn repeated_rows_kept_apart_survive_reload_and_resume() {
    let text = PROFILE.replace(
        "[id]\ncolumns = [\"id\"]\n",
        "[id]\nrepeated_rows = \"keep\"\n",
    );
    let profile = Profile::parse(&text, Path::new("keep.toml")).expect("profile");
    let dir = tempfile::tempdir().expect("tempdir");
    let mut rows = Vec::new();
    for i in 0..300 {
        // Every row appears three times: three incidents the source cannot tell apart.
        let row = format!(
            "x,2020-01-{:02} 10:00,-90.2,38.6,R,{} MAIN,1",
            1 + i % 28,
            i
        );
        rows.extend([row.clone(), row.clone(), row]);
    }
    let refs: Vec<&str> = rows.iter().map(String::as_str).collect();
    let f = write(dir.path(), "same.csv", &refs);
    let mut opts = IngestOptions::new(vec![f.clone()]);
    opts.now = Some(Timestamp(1_900_000_000));
    opts.batch_rows = 100;

    let mut whole = SqliteStore::in_memory().expect("store");
    let r = ingest(&mut whole, &profile, &opts, &|_| {}).expect("ingest");
    assert_eq!((r.totals.inserted, r.totals.duplicates), (900, 0));

    let mut partial = SqliteStore::in_memory().expect("store");
    let mut stop = opts.clone();
    stop.stop_after_batches = Some(4);
    ingest(&mut partial, &profile, &stop, &|_| {}).expect("partial");
    let resumed = ingest(&mut partial, &profile, &opts, &|_| {}).expect("resume");
    assert_eq!(resumed.totals, r.totals);
    assert_eq!(events(&partial, "toy", true), events(&whole, "toy", true));

    // The same rows in a later export (one new row at its end) are recognised as the
    // records already stored.
    let mut later = refs.clone();
    later.push("x,2020-02-01 10:00,-90.2,38.6,R,NEW MAIN,1");
    let g = write(dir.path(), "later.csv", &later);
    let again = run_with(&mut whole, &profile, &[g]);
    assert_eq!((again.totals.inserted, again.totals.duplicates), (1, 900));
}

fn run_with(store: &mut SqliteStore, profile: &Profile, files: &[PathBuf]) -> IngestReport {
    let mut opts = IngestOptions::new(files.to_vec());
    opts.now = Some(Timestamp(1_900_000_000));
    ingest(store, profile, &opts, &|_| {}).expect("ingest")
}

#[test]
fn exports_open_as_csv_geojson_and_geopackage() {
    use sl_engine::export::{ExportFormat, export};
    let dir = tempfile::tempdir().expect("tempdir");
    let a = write(
        dir.path(),
        "a.csv",
        &[
            "1,2020-01-01 10:00,-90.2,38.6,R,1 MAIN,1",
            "2,2020-01-01 11:00,,,B,=HYPERLINK(\"x\"),1", // no point; formula-like text
        ],
    );
    let mut store = SqliteStore::in_memory().expect("store");
    run(&mut store, &[a]);
    let filter = EventFilter::default();

    let csv_path = dir.path().join("e.csv");
    let s = export(&store, "toy", &filter, &csv_path, ExportFormat::Csv).expect("csv");
    assert_eq!((s.events, s.without_point), (2, 1));
    let text = std::fs::read_to_string(&csv_path).expect("read csv");
    assert!(
        text.lines()
            .next()
            .expect("header")
            .starts_with("id,source_id,kind,occurred_from")
    );
    assert!(
        text.contains("2020-01-01T16:00:00Z"),
        "UTC instants: {text}"
    );

    let gj_path = dir.path().join("e.geojson");
    let s = export(&store, "toy", &filter, &gj_path, ExportFormat::GeoJson).expect("geojson");
    assert_eq!((s.events, s.without_point), (1, 1));
    let gj: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&gj_path).expect("read"))
            .expect("valid JSON");
    let f = &gj["features"][0];
    assert_eq!(f["geometry"]["coordinates"][0].as_f64(), Some(-90.2));
    assert_eq!(f["properties"]["category"], "robbery");

    let gpkg = dir.path().join("e.gpkg");
    let s = export(&store, "toy", &filter, &gpkg, ExportFormat::GeoPackage).expect("gpkg");
    assert_eq!((s.events, s.without_point), (2, 1));
    let conn = rusqlite::Connection::open(&gpkg).expect("open gpkg");
    let app: i64 = conn
        .query_row("PRAGMA application_id", [], |r| r.get(0))
        .expect("app id");
    assert_eq!(app, 0x4750_4B47, "GeoPackage application id 'GPKG'");
    let (kind, srs): (String, i64) = conn
        .query_row("SELECT geometry_type_name, srs_id FROM gpkg_geometry_columns WHERE table_name='events'", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .expect("geometry column registered");
    assert_eq!((kind.as_str(), srs), ("POINT", 4326));
    let blob: Vec<u8> = conn
        .query_row("SELECT geom FROM events WHERE geom IS NOT NULL", [], |r| {
            r.get(0)
        })
        .expect("geometry");
    assert_eq!(&blob[..2], b"GP");
    assert_eq!(
        f64::from_le_bytes(blob[13..21].try_into().expect("x")),
        -90.2
    );
    let n: i64 = conn
        .query_row("SELECT COUNT(*) FROM events", [], |r| r.get(0))
        .expect("count");
    assert_eq!(n, 2);
    let ok: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .expect("check");
    assert_eq!(ok, "ok");
}

#[test]
fn a_changed_profile_replaces_the_earlier_load_of_a_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let a = write(
        dir.path(),
        "a.csv",
        &[
            "1,2020-01-01 10:00,-90.2,38.6,R,1 MAIN,1",
            "2,2020-01-01 11:00,-95.0,38.6,B,2 MAIN,1", // outside the bbox
            "3,2020-01-01 11:00,-90.2,38.6,X,3 MAIN,1", // unknown offence
        ],
    );
    let mut store = SqliteStore::in_memory().expect("store");
    let first = run(&mut store, std::slice::from_ref(&a));
    assert_eq!(
        (first.totals.accepted, first.totals.quarantined_total()),
        (1, 2)
    );
    // The new profile knows offence X and widens the jurisdiction.
    let text = PROFILE
        .replace(
            "bbox = [-91.0, 38.0, -90.0, 39.0]",
            "bbox = [-96.0, 38.0, -90.0, 39.0]",
        )
        .replace("codes = [\"B\"]", "codes = [\"B\", \"X\"]");
    let wider = Profile::parse(&text, Path::new("wider.toml")).expect("profile");
    let second = run_with(&mut store, &wider, &[a]);
    assert_eq!(
        (second.totals.inserted, second.totals.quarantined_total()),
        (3, 0)
    );
    let id = store.dataset_id("toy").expect("q").expect("ds");
    assert_eq!(
        store.sources(id).expect("sources").len(),
        1,
        "the earlier load is gone"
    );
    assert_eq!(events(&store, "toy", false).len(), 3);
    let q = quality_report(&store, "toy").expect("report");
    assert!(
        q.reasons.is_empty(),
        "no stale quarantine rows: {:?}",
        q.reasons
    );
    assert!(store.check_integrity().expect("check").is_ok());
}

#[test]
fn map_exports_keep_points_in_row_ids_only_when_the_location_reads_them() {
    let dir = tempfile::tempdir().expect("tempdir");
    // Two features with equal properties at different points: two records.
    let gj = dir.path().join("points.geojson");
    std::fs::write(
        &gj,
        r#"{"type":"FeatureCollection","features":[
          {"type":"Feature","properties":{"when":"2020-01-01 10:00","code":"R"},"geometry":{"type":"Point","coordinates":[-90.2,38.6]}},
          {"type":"Feature","properties":{"when":"2020-01-01 10:00","code":"R"},"geometry":{"type":"Point","coordinates":[-90.3,38.6]}}]}"#,
    )
    .expect("write");
    let text = PROFILE
        .replace("[id]\ncolumns = [\"id\"]\n", "")
        .replace("x = \"lon\"\ny = \"lat\"", "x = \"geometry_x\"\ny = \"geometry_y\"")
        .replace(
            "[retraction]\ncolumn = \"count\"\nvalues = [\"-1\"]\nmatching = [\"@occurred\", \"@code\", \"addr\"]\n",
            "",
        );
    let profile = Profile::parse(&text, Path::new("points.toml")).expect("profile");
    let mut store = SqliteStore::in_memory().expect("store");
    let r = run_with(&mut store, &profile, &[gj]);
    assert_eq!(
        (r.totals.inserted, r.totals.duplicates, r.totals.updated),
        (2, 0, 0)
    );
    let lons: Vec<Option<f64>> = events(&store, "toy", false)
        .into_iter()
        .map(|e| e.2)
        .collect();
    assert!(
        lons.contains(&Some(-90.2)) && lons.contains(&Some(-90.3)),
        "{lons:?}"
    );
}
