//! `streetlight layer …`, `rates` and `nearby` on the demo's real Philadelphia data: the
//! 408 census tracts with population as a context layer, rates per 1,000 residents over
//! the fourth quarter of 2024 in JSON, CSV and GeoJSON that agree, the tract around City
//! Hall, and the usual mistakes explained.

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::{repo_root, run, run_json, streetlight};

const DATASET: &str = "philadelphia-ppd";

fn demo(rel: &str) -> PathBuf {
    repo_root().join("data/philadelphia-ppd").join(rel)
}

fn layer(db: &Path, args: &[&str]) -> std::process::Command {
    let mut c = streetlight();
    c.arg("layer")
        .arg(args[0])
        .arg("--db")
        .arg(db)
        .args(&args[1..]);
    c
}

fn stderr_of(c: &mut std::process::Command) -> String {
    let out = run(c);
    assert_eq!(out.status.code(), Some(1), "expected a user error");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn tracts_give_rates_per_1000_residents_in_three_formats() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("city.db");
    let mut ingest = streetlight();
    ingest
        .args(["ingest", "--quiet", "--json", "--profile", DATASET, "--db"])
        .arg(&db)
        .arg(demo("raw/incidents_2024q4.csv.zst"));
    run_json(&mut ingest);

    let tracts = demo("boundaries/census_tracts_pop.geojson.gz");
    let mut add = layer(
        &db,
        &[
            "add",
            "--name",
            "tracts",
            "--population-field",
            "total_pop",
            "--json",
        ],
    );
    add.arg(&tracts);
    let added = run_json(&mut add);
    assert_eq!(added["features"], 408);
    assert_eq!(added["kind"], "polygons");
    assert_eq!(added["file_name"], "census_tracts_pop.geojson.gz");
    assert_eq!(added["replaced"], false);
    let list = run_json(&mut layer(&db, &["list", "--dataset", DATASET, "--json"]));
    assert_eq!(list.as_array().map(Vec::len), Some(1));
    assert_eq!(list[0]["population_field"], "total_pop");
    assert_eq!(list[0]["sha256"], added["sha256"]);

    let csv = dir.path().join("rates.csv");
    let geojson = dir.path().join("rates.geojson");
    let mut rates = streetlight();
    rates
        .args([
            "rates",
            "--layer",
            "tracts",
            "--category",
            "robbery",
            "--json",
            "--db",
        ])
        .arg(&db)
        .arg("--csv")
        .arg(&csv)
        .arg("--geojson")
        .arg(&geojson);
    let r = run_json(&mut rates);
    let rows = r["polygons"].as_array().expect("polygons");
    assert_eq!(rows.len(), 408);
    assert_eq!(
        r["population"], 1_581_531.0,
        "the tracts' total_pop added up"
    );
    let counted: u64 = rows
        .iter()
        .map(|p| p["count"].as_u64().expect("count"))
        .sum();
    assert_eq!(Some(counted), r["in_polygons"].as_u64());
    assert_eq!(
        r["in_polygons"].as_u64().expect("in")
            + r["outside_polygons"].as_u64().expect("out")
            + r["without_point"].as_u64().expect("no point"),
        r["events"].as_u64().expect("events")
    );
    assert_eq!(r["categories"], serde_json::json!(["robbery"]));
    for p in rows {
        let population = p["population"].as_f64().expect("population");
        match p["rate_per_1000"].as_f64() {
            Some(rate) => {
                let count = p["count"].as_f64().expect("count");
                assert!((rate - 1000.0 * count / population).abs() < 1e-9, "{p}");
            }
            None => assert_eq!(population, 0.0, "{p}"),
        }
    }

    // The CSV and the GeoJSON carry the same rows.
    let mut reader = csv::Reader::from_path(&csv).expect("csv");
    let headers = reader.headers().expect("header").clone();
    let geoid = headers
        .iter()
        .position(|h| h == "GEOID")
        .expect("GEOID column");
    let count = headers
        .iter()
        .position(|h| h == "count")
        .expect("count column");
    let csv_rows: Vec<(String, u64)> = reader
        .records()
        .map(|r| {
            let r = r.expect("row");
            (r[geoid].to_string(), r[count].parse().expect("count"))
        })
        .collect();
    let json_rows: Vec<(String, u64)> = rows
        .iter()
        .map(|p| {
            (
                p["GEOID"].as_str().expect("GEOID").to_string(),
                p["count"].as_u64().expect("count"),
            )
        })
        .collect();
    assert_eq!(csv_rows, json_rows);
    let fc: Value =
        serde_json::from_str(&std::fs::read_to_string(&geojson).expect("geojson")).expect("json");
    let features = fc["features"].as_array().expect("features");
    assert_eq!(features.len(), 408);
    assert_eq!(features[7]["properties"], rows[7]);
    assert_eq!(features[7]["geometry"]["type"], "Polygon");

    // The layer as the API serves it, and what is near City Hall (inside tract 5, whose
    // 2020 population is 2,826 in the file).
    let fc = run_json(&mut layer(&db, &["get", "--name", "tracts"]));
    assert_eq!(fc["features"].as_array().map(Vec::len), Some(408));
    assert_eq!(fc["meta"]["dataset"], DATASET);
    assert_eq!(fc["meta"]["population_field"], "total_pop");
    let mut near = streetlight();
    near.args([
        "nearby",
        "--lon",
        "-75.16352",
        "--lat",
        "39.95258",
        "--json",
        "--db",
    ])
    .arg(&db);
    let n = run_json(&mut near);
    let t = &n["layers"][0];
    assert_eq!(t["layer"], "tracts");
    assert_eq!(t["nearest"]["label"], "Census Tract 5");
    assert_eq!(t["nearest"]["distance_m"], 0.0);
    assert_eq!(t["nearest"]["population"], 2826.0);
    assert_eq!(n["radius_m"], 200.0, "the default radius");

    // Mistakes, explained.
    let e = stderr_of(
        layer(
            &db,
            &["add", "--name", "tracts2", "--population-field", "pop"],
        )
        .arg(&tracts),
    );
    assert!(
        e.contains("feature 0 has no property `pop`") && e.contains("total_pop"),
        "{e}"
    );
    let e = stderr_of(layer(&db, &["add", "--name", "bad name"]).arg(&tracts));
    assert!(e.contains("letters, digits"), "{e}");
    let e = stderr_of(
        streetlight()
            .args(["rates", "--layer", "nothing", "--db"])
            .arg(&db),
    );
    assert!(
        e.contains("no context layer `nothing`") && e.contains("streetlight layer list"),
        "{e}"
    );
    let mut districts = layer(&db, &["add", "--name", "districts"]);
    districts.arg(demo("boundaries/police_districts.geojson"));
    assert!(run(&mut districts).status.success());
    let e = stderr_of(
        streetlight()
            .args(["rates", "--layer", "districts", "--db"])
            .arg(&db),
    );
    assert!(e.contains("--population-field"), "{e}");

    let out = run(&mut layer(&db, &["remove", "--name", "districts"]));
    assert!(out.status.success());
    let e = stderr_of(&mut layer(&db, &["remove", "--name", "districts"]));
    assert!(e.contains("no context layer `districts`"), "{e}");
}
