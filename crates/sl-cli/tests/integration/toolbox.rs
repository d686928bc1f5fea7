//! The analyst's commands (`hotspots`, `near-repeat`, `patterns`, `priorities`) on the
//! bundled St. Louis 2019 extract: the JSON contracts, known answers recomputed here
//! from the exported events, reproducibility under a seed, and the usual mistakes.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use serde_json::Value;

use super::{ingest, repo_root, run, run_json, streetlight};

pub(super) const DATASET: &str = "stlouis-slmpd";
const BURGLARY: &str = "residential_burglary";

/// One database with the bundled St. Louis 2019 files, built once for all tests here.
pub(super) fn db() -> &'static Path {
    static DB: OnceLock<PathBuf> = OnceLock::new();
    DB.get_or_init(|| {
        let dir = tempfile::tempdir().expect("tempdir").keep();
        let db = dir.join("toolbox.db");
        let raw = repo_root().join("data/stlouis-slmpd/raw/2019");
        let mut files: Vec<PathBuf> = std::fs::read_dir(&raw)
            .expect("bundled St. Louis extract")
            .map(|e| e.expect("entry").path())
            .filter(|p| p.to_string_lossy().ends_with(".csv.gz"))
            .collect();
        files.sort();
        assert_eq!(files.len(), 12, "twelve monthly files in {}", raw.display());
        ingest(&db, "stlouis-slmpd", &files, None);
        db
    })
}

/// `streetlight ARGS[0] --db DB --dataset stlouis-slmpd ARGS[1..]` on the shared store.
pub(super) fn cmd(args: &[&str]) -> std::process::Command {
    let mut c = streetlight();
    c.arg(args[0])
        .arg("--db")
        .arg(db())
        .args(["--dataset", DATASET])
        .args(&args[1..]);
    c
}

fn f64_of(v: &Value, k: &str) -> f64 {
    v[k].as_f64()
        .unwrap_or_else(|| panic!("field {k} is not a number in {v}"))
}

/// Residential burglaries of 2019 (local dates) with a point, from `export`: (x, y,
/// local day number).
fn burglary_points() -> Vec<(f64, f64, i64)> {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("b.csv");
    let status = streetlight()
        .args(["export", "--db"])
        .arg(db())
        .args(["--dataset", DATASET, "--category", BURGLARY, "--output"])
        .arg(&out)
        .output()
        .expect("export");
    assert!(status.status.success());
    let mut r = csv::Reader::from_path(&out).expect("csv");
    let h = r.headers().expect("header").clone();
    let col = |name: &str| h.iter().position(|c| c == name).expect(name);
    let (cx, cy, ct) = (col("x"), col("y"), col("occurred_from"));
    let tz = jiff::tz::TimeZone::get("America/Chicago").expect("tz");
    let from = jiff::civil::date(2019, 1, 1)
        .to_zoned(tz.clone())
        .expect("from");
    let to = jiff::civil::date(2020, 1, 1)
        .to_zoned(tz.clone())
        .expect("to");
    let mut pts = Vec::new();
    for rec in r.records() {
        let rec = rec.expect("record");
        let (Ok(x), Ok(y)) = (rec[cx].parse::<f64>(), rec[cy].parse::<f64>()) else {
            continue;
        };
        let t: jiff::Timestamp = rec[ct].parse().expect("instant");
        if t < from.timestamp() || t >= to.timestamp() {
            continue;
        }
        let day = t.to_zoned(tz.clone()).date();
        let days = day
            .since(jiff::civil::date(1970, 1, 1))
            .expect("span")
            .get_days();
        pts.push((x, y, i64::from(days)));
    }
    pts
}

#[test]
fn gistar_contract_one_entry_per_masked_cell_and_independent_z() {
    let args = [
        "hotspots",
        "--method",
        "gistar",
        "--category",
        BURGLARY,
        "--from",
        "2019-01-01",
        "--to",
        "2020-01-01",
        "--cell-size",
        "300",
        "--weights",
        "queen",
        "--permutations",
        "999",
        "--seed",
        "1",
        "--json",
    ];
    let v = run_json(&mut cmd(&args));
    let cells = v["cells"].as_array().expect("cells");
    assert_eq!(
        cells.len() as u64,
        v["units"]["cells"].as_u64().expect("cell count")
    );
    assert_eq!(v["units"]["mask"], "boundary");
    for c in cells {
        for k in ["row", "col", "count", "z", "p", "p_fdr"] {
            assert!(c.get(k).is_some(), "cell lacks {k}: {c}");
        }
    }
    // Zero-count cells are included, and the counts add up to the located events.
    assert!(cells.iter().any(|c| c["count"] == 0));
    let total: u64 = cells
        .iter()
        .map(|c| c["count"].as_u64().expect("count"))
        .sum();
    let events = v["events"].as_u64().expect("events");
    let outside = v["events_outside_units"].as_u64().expect("outside");
    assert_eq!(total, events - outside);

    // Recompute z from the counts with queen neighbours and binary weights (Ord &
    // Getis 1995), independently of the library.
    let by_cell: HashMap<(i64, i64), f64> = cells
        .iter()
        .map(|c| {
            (
                (
                    c["row"].as_i64().expect("row"),
                    c["col"].as_i64().expect("col"),
                ),
                f64_of(c, "count"),
            )
        })
        .collect();
    let n = cells.len() as f64;
    let sum: f64 = by_cell.values().sum();
    let mean = sum / n;
    let s2 = by_cell.values().map(|v| v * v).sum::<f64>() / n - mean * mean;
    for c in cells.iter().step_by(37) {
        let (r, col) = (
            c["row"].as_i64().expect("row"),
            c["col"].as_i64().expect("col"),
        );
        let (mut lag, mut k) = (0.0, 0.0);
        for dr in -1..=1 {
            for dc in -1..=1 {
                if let Some(v) = by_cell.get(&(r + dr, col + dc)) {
                    lag += v;
                    k += 1.0;
                }
            }
        }
        let z = (lag - k * mean) / (s2.sqrt() * ((n * k - k * k) / (n - 1.0)).sqrt());
        assert!(
            (z - f64_of(c, "z")).abs() < 1e-9,
            "cell ({r}, {col}): z {z} recomputed vs {}",
            c["z"]
        );
    }
    // Without permutations, spots are labelled from the two-sided normal p.
    let mut analytic = args.to_vec();
    let perm_at = analytic
        .iter()
        .position(|a| *a == "--permutations")
        .expect("perm")
        + 1;
    analytic[perm_at] = "0";
    let an = run_json(&mut cmd(&analytic));
    for c in an["cells"].as_array().expect("cells").iter().step_by(101) {
        if c["p_norm"].is_number() {
            let two = (2.0 * f64_of(c, "p_norm")).min(1.0);
            assert!((f64_of(c, "p_spot") - two).abs() < 1e-15, "{c}");
        }
    }
    // Bit-for-bit reproducible under the same seed; another seed moves some p.
    let again = run_json(&mut cmd(&args));
    assert_eq!(v["cells"], again["cells"]);
    let mut other = args.to_vec();
    let seed_at = other.iter().position(|a| *a == "--seed").expect("seed") + 1;
    other[seed_at] = "2";
    let moved = run_json(&mut cmd(&other));
    assert_ne!(v["cells"], moved["cells"]);
}

#[test]
fn near_repeat_contract_and_brute_force_counts() {
    let v = run_json(&mut cmd(&[
        "near-repeat",
        "--category",
        BURGLARY,
        "--from",
        "2019-01-01",
        "--to",
        "2020-01-01",
        "--space-bands",
        "0,1,200,400",
        "--time-bands",
        "0,1,7,14",
        "--permutations",
        "99",
        "--seed",
        "1",
        "--json",
    ]));
    let bands = v["bands"].as_array().expect("bands");
    assert_eq!(bands.len(), 9);
    assert_eq!(v["distance"], "manhattan");
    // Brute force over the exported points: Manhattan distance, whole local days,
    // half-open bands [a, b).
    let pts = burglary_points();
    assert_eq!(v["events"].as_u64(), Some(pts.len() as u64));
    let sb = [0.0, 1.0, 200.0, 400.0];
    let tb = [0i64, 1, 7, 14];
    let mut counts = [[0u64; 3]; 3];
    for i in 0..pts.len() {
        for j in i + 1..pts.len() {
            let d = (pts[i].0 - pts[j].0).abs() + (pts[i].1 - pts[j].1).abs();
            let t = (pts[i].2 - pts[j].2).abs();
            let s = (0..3).find(|&k| d >= sb[k] && d < sb[k + 1]);
            let q = (0..3).find(|&k| t >= tb[k] && t < tb[k + 1]);
            if let (Some(s), Some(q)) = (s, q) {
                counts[s][q] += 1;
            }
        }
    }
    for b in bands {
        let lower = b["space_band"][0].as_f64().expect("lower edge");
        let s = sb.iter().position(|x| *x == lower).expect("space band");
        let q = tb
            .iter()
            .position(|x| *x as f64 == b["time_band"][0].as_f64().expect("a"))
            .expect("time band");
        assert_eq!(b["observed"].as_u64(), Some(counts[s][q]), "band {b}");
        let p = f64_of(b, "p");
        assert!(p > 0.0 && p <= 1.0);
        assert!(f64_of(b, "knox_ratio") >= 0.0);
    }
}

#[test]
fn patterns_add_up_and_shifts_cover_the_day() {
    let v = run_json(&mut cmd(&[
        "patterns",
        "--category",
        BURGLARY,
        "--from",
        "2019-01-01",
        "--to",
        "2020-01-01",
        "--json",
    ]));
    let g = &v["groups"][0];
    let known = f64_of(g, "time_known");
    let hw: f64 = g["hour_week"]["values"]
        .as_array()
        .expect("rows")
        .iter()
        .flat_map(|r| {
            r.as_array()
                .expect("row")
                .iter()
                .map(|x| x.as_f64().expect("num"))
        })
        .sum();
    assert!(
        (hw - known).abs() < 1e-6,
        "hour × weekday sums to {hw}, not {known}"
    );
    let shifts: f64 = g["shifts"]["shifts"]
        .as_array()
        .expect("shifts")
        .iter()
        .map(|s| f64_of(s, "amount"))
        .sum();
    assert!((shifts - known).abs() < 1e-6);
    assert_eq!(g["shifts"]["shifts"].as_array().map(Vec::len), Some(3));
    let months = g["monthly"]["series"].as_array().expect("months");
    assert_eq!(months.len(), 12);
    assert!(g["weekly"]["trend"]["slope_per_week"].is_number());
    // Grouped by category: one group per category, events adding up.
    let all = run_json(&mut cmd(&[
        "patterns",
        "--from",
        "2019-01-01",
        "--to",
        "2020-01-01",
        "--group-by",
        "category",
        "--json",
    ]));
    let groups = all["groups"].as_array().expect("groups");
    assert!(groups.len() > 10);
    let total: u64 = groups
        .iter()
        .map(|g| g["events"].as_u64().expect("n"))
        .sum();
    assert_eq!(Some(total), all["events"].as_u64());
}

#[test]
fn priorities_rank_by_harm_and_explain() {
    let dir = tempfile::tempdir().expect("tempdir");
    let geo = dir.path().join("p.geojson");
    let csv_path = dir.path().join("p.csv");
    let mut c = cmd(&[
        "priorities",
        "--from",
        "2019-10-01",
        "--to",
        "2020-01-01",
        "--cell-size",
        "250",
        "--top",
        "10",
        "--json",
    ]);
    c.arg("--geojson").arg(&geo).arg("--csv").arg(&csv_path);
    let v = run_json(&mut c);
    let places = v["places"].as_array().expect("places");
    assert_eq!(places.len(), 10);
    for (i, p) in places.iter().enumerate() {
        assert_eq!(p["rank"].as_u64(), Some(i as u64 + 1));
        assert!(!p["why"].as_str().expect("why").is_empty());
        if i > 0 {
            assert!(f64_of(&places[i - 1], "harm") >= f64_of(p, "harm"));
        }
    }
    // The prior period is the quarter before, from local midnight (CDT, UTC−5).
    assert_eq!(v["prior_from"], "2019-07-01T05:00:00Z");
    assert_eq!(v["prior_to"], "2019-10-01T05:00:00Z");
    let gini = f64_of(&v["concentration"]["events"], "gini");
    assert!(gini > 0.0 && gini < 1.0);
    let geo: Value = serde_json::from_str(&std::fs::read_to_string(&geo).expect("geojson"))
        .expect("valid GeoJSON");
    assert_eq!(geo["features"].as_array().map(Vec::len), Some(10));
    let ring = &geo["features"][0]["geometry"]["coordinates"][0];
    let lon = ring[0][0].as_f64().expect("lon");
    assert!(
        (-91.0..-90.0).contains(&lon),
        "St. Louis longitude, got {lon}"
    );
    let rows = csv::Reader::from_path(&csv_path)
        .expect("csv")
        .records()
        .count();
    assert_eq!(rows, 10);
}

#[test]
fn kde_emerging_hexagons_and_areas_run() {
    let v = run_json(&mut cmd(&[
        "hotspots",
        "--method",
        "kde",
        "--category",
        BURGLARY,
        "--cell-size",
        "200",
        "--bandwidth",
        "400",
        "--json",
    ]));
    let cells = v["cells"].as_array().expect("cells");
    // Quartic density × cell area sums to about the events inside the grid (edge
    // losses at the boundary only).
    let mass: f64 = cells.iter().map(|c| f64_of(c, "density") * 0.04).sum();
    let used = v["parameters"]["events_used"].as_f64().expect("used");
    assert!(
        mass > 0.9 * used && mass < 1.01 * used,
        "mass {mass} of {used}"
    );
    let e = run_json(&mut cmd(&[
        "hotspots",
        "--method",
        "emerging",
        "--from",
        "2019-01-01",
        "--to",
        "2020-01-01",
        "--cell-size",
        "1000",
        "--json",
    ]));
    assert_eq!(e["parameters"]["steps"], 12);
    let patterns = e["parameters"]["patterns"].as_object().expect("patterns");
    let n: u64 = patterns.values().map(|x| x.as_u64().expect("n")).sum();
    assert_eq!(Some(n), e["units"]["cells"].as_u64());
    // A grid rotated by 30° and offset: every event still lands in exactly one cell,
    // and the cells' first edge runs at 30° from the local CRS's x axis.
    let dir = tempfile::tempdir().expect("tempdir");
    let geo = dir.path().join("rot.geojson");
    let mut c = cmd(&[
        "hotspots",
        "--method",
        "gistar",
        "--category",
        BURGLARY,
        "--cell-size",
        "300",
        "--grid-rotation",
        "30",
        "--grid-offset",
        "40,70",
        "--permutations",
        "0",
        "--json",
    ]);
    c.arg("--geojson").arg(&geo);
    let rot = run_json(&mut c);
    assert_eq!(rot["units"]["rotation_deg"], 30.0);
    let counted: f64 = rot["cells"]
        .as_array()
        .expect("cells")
        .iter()
        .map(|c| f64_of(c, "count"))
        .sum();
    let outside = rot["events_outside_units"].as_f64().expect("outside");
    assert_eq!(counted + outside, rot["events"].as_f64().expect("events"));
    let map: Value =
        serde_json::from_str(&std::fs::read_to_string(&geo).expect("geojson")).expect("GeoJSON");
    let ring = &map["features"][0]["geometry"]["coordinates"][0];
    let (lon0, lat0) = (
        ring[0][0].as_f64().expect("x"),
        ring[0][1].as_f64().expect("y"),
    );
    let (lon1, lat1) = (
        ring[1][0].as_f64().expect("x"),
        ring[1][1].as_f64().expect("y"),
    );
    let dx = (lon1 - lon0) * lat0.to_radians().cos() * 111_320.0;
    let dy = (lat1 - lat0) * 110_574.0;
    let angle = dy.atan2(dx).to_degrees();
    // The rotation is in the local CRS (UTM 15N, central meridian 93° W): on the map it
    // is 30° less the meridian convergence γ ≈ (λ − λ0)·sin φ (about 1.75° here).
    let gamma = (lon0 + 93.0) * lat0.to_radians().sin();
    assert!(
        (angle - (30.0 - gamma)).abs() < 0.3,
        "first edge at {angle}°, expected {}°",
        30.0 - gamma
    );
    let h = run_json(&mut cmd(&[
        "hotspots",
        "--method",
        "gistar",
        "--hex",
        "8",
        "--permutations",
        "99",
        "--json",
    ]));
    assert_eq!(h["units"]["kind"], "h3");
    assert!(h["cells"][0]["h3"].is_string());
    let a = run_json(&mut cmd(&[
        "priorities",
        "--from",
        "2019-07-01",
        "--to",
        "2020-01-01",
        "--area-units",
        "district",
        "--json",
    ]));
    assert!(a["places"][0]["district"].is_string());
    // The stored boundary's features as units, events placed by point-in-polygon:
    // St. Louis's 88 neighbourhoods.
    let b = run_json(&mut cmd(&[
        "priorities",
        "--from",
        "2019-07-01",
        "--to",
        "2020-01-01",
        "--area-units",
        "boundary",
        "--top",
        "88",
        "--json",
    ]));
    // Area units are the dataset's codes, not just the selection's: a rare category
    // keeps every neighbourhood (zeros included) in the concentration.
    let rare = run_json(&mut cmd(&[
        "priorities",
        "--category",
        "homicide",
        "--from",
        "2019-01-01",
        "--to",
        "2019-02-01",
        "--area-units",
        "neighbourhood",
        "--json",
    ]));
    let all = run_json(&mut cmd(&[
        "priorities",
        "--from",
        "2019-01-01",
        "--to",
        "2019-02-01",
        "--area-units",
        "neighbourhood",
        "--json",
    ]));
    assert_eq!(
        rare["units"]["areas"], all["units"]["areas"],
        "units depend on the dataset, not the selection"
    );
    assert_eq!(
        rare["concentration"]["events"]["places"],
        rare["units"]["areas"]
    );
    assert_eq!(b["units"]["kind"], "boundary");
    assert_eq!(b["units"]["areas"], 88);
    assert!(b["places"][0]["area"].is_string());
    let placed: u64 = b["places"]
        .as_array()
        .expect("places")
        .iter()
        .map(|p| p["events"].as_u64().expect("events"))
        .sum();
    assert!(placed > 0 && placed <= b["events"].as_u64().expect("events"));
    // The aoristic cube gives the same counts when every window is within one step
    // (St. Louis times are to the minute).
    let aoristic = run_json(&mut cmd(&[
        "hotspots",
        "--method",
        "emerging",
        "--from",
        "2019-01-01",
        "--to",
        "2020-01-01",
        "--cell-size",
        "1000",
        "--aoristic",
        "--json",
    ]));
    assert_eq!(aoristic["parameters"]["assignment"], "aoristic");
    assert_eq!(
        aoristic["parameters"]["events_in_cube"],
        e["parameters"]["events_in_cube"]
    );
}

#[test]
fn analysis_mistakes_are_explained() {
    let cases: [(&[&str], &str); 5] = [
        (
            &["hotspots", "--method", "magic"],
            "is not kde, gistar or emerging",
        ),
        (
            &[
                "hotspots",
                "--method",
                "gistar",
                "--from",
                "2020-01-01",
                "--to",
                "2019-01-01",
            ],
            "--from must be before --to",
        ),
        (
            &["hotspots", "--method", "emerging"],
            "pass --from and --to",
        ),
        (&["priorities"], "pass --from and --to"),
        (
            &["near-repeat", "--distance", "chebyshev"],
            "is not manhattan or euclidean",
        ),
    ];
    for (args, message) in cases {
        let out = run(&mut cmd(args));
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(message), "{args:?}: {err}");
    }
}

/// A city that is in no shared folder, taken on by a profile alone
/// (`profiles/chicago-code.toml`), and Ratcliffe's Near Repeat Calculator as a third
/// reference: its "observed frequencies distribution" for this very file
/// (`data/chicago-code/reference/…_NRverbose_….csv`, NRC 1.3, Manhattan distance) is
/// the Knox table with the half-open bands `[0, 1), [1, 100), [100, 200), [200, 300),
/// [300, ∞)` m × `[0, 7), [7, 14), [14, 21), [21, ∞)` days (the NRC's labels are one
/// off, as the NearRepeat vignette "NRC" shows; the counts are these).
#[test]
fn new_city_by_profile_only_matches_the_near_repeat_calculator() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("chicago.db");
    let file = repo_root().join("data/chicago-code/raw/chicago_be_month1.csv");
    let report = ingest(&db, "chicago-code", &[file], None);
    assert_eq!(report["accepted"], 970, "{report}");
    assert_eq!(report["quarantined_total"], 0, "{report}");
    let base = |cmd: &str| {
        let mut c = streetlight();
        c.arg(cmd).arg("--db").arg(&db);
        c
    };
    let v = run_json(base("near-repeat").args([
        "--space-bands",
        "0,1,100,200,300,inf",
        "--time-bands",
        "0,7,14,21,inf",
        "--distance",
        "manhattan",
        "--permutations",
        "19",
        "--json",
    ]));
    let nrc: [[u64; 4]; 5] = [
        [28, 5, 5, 2],
        [44, 13, 8, 4],
        [97, 56, 19, 16],
        [77, 67, 45, 20],
        [182_194, 146_149, 95_237, 45_879],
    ];
    let bands = v["bands"].as_array().expect("bands");
    assert_eq!(bands.len(), 20);
    for (k, b) in bands.iter().enumerate() {
        assert_eq!(
            b["observed"].as_u64(),
            Some(nrc[k / 4][k % 4]),
            "band {k}: {b}"
        );
    }
    assert_eq!(v["pairs"], 970 * 969 / 2);
    // Day-resolution times: each event is spread over its whole day, so any 8-hour
    // shift holds exactly a third of a period's events.
    let shift = run_json(base("forecast").args([
        "--model",
        "historical",
        "--cell-size",
        "300",
        "--at",
        "2016-01-25",
        "--horizon-days",
        "7",
        "--train-days",
        "24",
        "--shift",
        "day=07-15",
        "--json",
    ]));
    assert!((f64_of(&shift["shift"], "share") - 1.0 / 3.0).abs() < 1e-12);
    // The other commands run on the new city too.
    for args in [
        &[
            "hotspots",
            "--method",
            "gistar",
            "--cell-size",
            "500",
            "--json",
        ][..],
        &[
            "hotspots",
            "--method",
            "kde",
            "--cell-size",
            "250",
            "--json",
        ][..],
        &["patterns", "--json"][..],
        &[
            "priorities",
            "--from",
            "2016-01-16",
            "--to",
            "2016-02-01",
            "--cell-size",
            "300",
            "--json",
        ][..],
    ] {
        let mut c = base(args[0]);
        c.args(&args[1..]);
        let out = run_json(&mut c);
        assert_eq!(out["dataset"], "chicago-code-burglary", "{args:?}");
    }
}

/// The backtest contract: per model, `name`, the parameters, and per coverage level
/// the means over origins of `pai`, `hit_rate` and `pei_star`; the HTML report is
/// self-contained; `forecast` ranks every cell.
#[test]
fn backtest_contract_report_and_forecast() {
    let dir = tempfile::tempdir().expect("tempdir");
    let html = dir.path().join("report.html");
    let mut c = cmd(&[
        "backtest",
        "--category",
        BURGLARY,
        "--models",
        "naive,historical",
        "--cell-size",
        "250",
        "--train-days",
        "120",
        "--horizon-days",
        "7",
        "--origins",
        "8",
        "--start",
        "2019-07-01",
        "--coverage",
        "1,5",
        "--json",
    ]);
    c.arg("--html").arg(&html);
    let v = run_json(&mut c);
    let models = v["models"].as_array().expect("models");
    assert_eq!(models.len(), 2);
    for m in models {
        assert!(m["name"].is_string());
        assert!(m["parameters"].is_object(), "{m}");
        let cov = m["coverage"].as_array().expect("coverage");
        assert_eq!(cov.len(), 2);
        for k in ["pai", "hit_rate", "pei_star"] {
            assert!(cov[0][k].is_number(), "{k} in {m}");
        }
        let origins = m["origins"].as_array().expect("origins");
        assert_eq!(origins.len(), 8);
        // The mean PAI is the mean of the origins' PAI at that level.
        let pais: Vec<f64> = origins
            .iter()
            .filter_map(|o| o["pai"][0].as_f64())
            .collect();
        let mean = pais.iter().sum::<f64>() / pais.len() as f64;
        assert!((mean - f64_of(&cov[0], "pai")).abs() < 1e-9);
        // PEI* never exceeds 1 and hit rate is a share.
        let pei = f64_of(&cov[1], "pei_star");
        assert!((0.0..=1.0).contains(&pei));
    }
    let page = std::fs::read_to_string(&html).expect("report");
    assert!(page.contains("<svg") && page.contains("Leaderboard"));
    assert!(!page.contains("http://") || page.contains("xmlns=\"http://www.w3.org/2000/svg\""));
    assert!(!page.contains("<script"));

    // NIJ rules: 600 ft cells, flagged areas of 0.25–0.75 sq mi, PAI's area from the
    // boundary (St. Louis's neighbourhoods, about 161 km²).
    let nij = run_json(&mut cmd(&[
        "backtest",
        "--category",
        BURGLARY,
        "--nij",
        "--train-days",
        "120",
        "--origins",
        "4",
        "--start",
        "2019-07-01",
        "--json",
    ]));
    assert!((f64_of(&nij, "cell_size_m") - 182.88).abs() < 1e-9);
    let area = f64_of(&nij, "study_area_km2");
    assert!((150.0..175.0).contains(&area), "St. Louis area {area} km²");
    for c in nij["models"][0]["coverage"].as_array().expect("coverage") {
        let sqmi = f64_of(c, "area_sqmi");
        assert!((0.2..=0.75).contains(&sqmi), "flagged {sqmi} sq mi");
    }
    let bad = run(&mut cmd(&[
        "backtest",
        "--nij",
        "--area-budget",
        "2",
        "--start",
        "2019-07-01",
    ]));
    assert_eq!(bad.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("0.25–0.75 sq mi"));

    let f = run_json(&mut cmd(&[
        "forecast",
        "--category",
        BURGLARY,
        "--model",
        "historical",
        "--cell-size",
        "250",
        "--at",
        "2019-12-01",
        "--coverage",
        "2",
        "--json",
    ]));
    assert_eq!(f["model"], "historical");
    // Forecasts for hexagons and the boundary's areas: the model runs on a 100 m base
    // grid whose cells are summed into the units, so the units' expected counts add up
    // to the base grid's (less the few edge cells whose centre is in no unit).
    let total = |v: &Value| -> f64 {
        v["top"]
            .as_array()
            .expect("top")
            .iter()
            .map(|r| f64_of(r, "score"))
            .sum()
    };
    let grid_f = run_json(&mut cmd(&[
        "forecast",
        "--category",
        BURGLARY,
        "--model",
        "historical",
        "--cell-size",
        "100",
        "--at",
        "2019-12-01",
        "--coverage",
        "100",
        "--json",
    ]));
    for units in [&["--area-units", "boundary"][..], &["--hex", "8"][..]] {
        let mut c = cmd(&[
            "forecast",
            "--category",
            BURGLARY,
            "--model",
            "historical",
            "--at",
            "2019-12-01",
            "--coverage",
            "100",
            "--json",
        ]);
        c.args(units);
        let v = run_json(&mut c);
        assert_eq!(v["base_cell_size_m"], 100.0);
        let (sum, whole) = (total(&v), total(&grid_f));
        assert!(
            sum <= whole * (1.0 + 1e-9) && sum >= 0.95 * whole,
            "{units:?}: {sum} of {whole}"
        );
        // Units of unequal areas are ranked by score per unit area, as backtests rank
        // them.
        let top = v["top"].as_array().expect("top");
        for w in top.windows(2) {
            assert!(f64_of(&w[0], "score_per_km2") >= f64_of(&w[1], "score_per_km2"));
        }
        for r in top {
            let (score, area) = (f64_of(r, "score"), f64_of(r, "area_km2"));
            assert!((f64_of(r, "score_per_km2") * area - score).abs() <= 1e-9 * score.max(1.0));
        }
    }
    // Saved forecasts keep their settings and parameters; the same settings give the
    // same forecast again.
    let saved_db = dir.path().join("saved.db");
    std::fs::copy(db(), &saved_db).expect("copy db");
    let save = |extra: &[&str]| {
        let mut c = streetlight();
        c.args(["forecast", "--db"])
            .arg(&saved_db)
            .args([
                "--dataset",
                DATASET,
                "--category",
                BURGLARY,
                "--model",
                "etas-grid",
            ])
            .args(["--cell-size", "400", "--at", "2019-11-01", "--json"])
            .args(extra);
        run_json(&mut c)
    };
    let first = save(&["--save"]);
    assert_eq!(first["saved_id"], 1);
    let again = save(&[]);
    assert_eq!(first["top"], again["top"]);
    assert_eq!(first["parameters"], again["parameters"]);
    let mut list = streetlight();
    list.args(["forecast", "--db"])
        .arg(&saved_db)
        .args(["--dataset", DATASET, "--list-saved"]);
    let listed = run_json(&mut list);
    assert_eq!(listed[0]["model"], "etas-grid");
    assert_eq!(listed[0]["parameters"], first["parameters"]);
    assert_eq!(listed[0]["settings"]["origin"], first["origin"]);
    // A night shift over a whole week: its share of events is the night hours' share of
    // the training window's hour profile (the same aoristic matrix `patterns` prints).
    let night = run_json(&mut cmd(&[
        "forecast",
        "--category",
        BURGLARY,
        "--model",
        "historical",
        "--cell-size",
        "250",
        "--at",
        "2019-12-01",
        "--horizon-days",
        "7",
        "--train-days",
        "365",
        "--shift",
        "night=23-07",
        "--json",
    ]));
    let p = run_json(&mut cmd(&[
        "patterns",
        "--category",
        BURGLARY,
        "--from",
        "2018-12-01",
        "--to",
        "2019-12-01",
        "--json",
    ]));
    let by_hour: Vec<f64> = p["groups"][0]["hour_week"]["by_hour"]
        .as_array()
        .expect("by_hour")
        .iter()
        .map(|v| v.as_f64().expect("number"))
        .collect();
    let total: f64 = by_hour.iter().sum();
    let nightly: f64 = [23usize, 0, 1, 2, 3, 4, 5, 6]
        .iter()
        .map(|&h| by_hour[h])
        .sum();
    let share = f64_of(&night["shift"], "share");
    assert!(
        (share - nightly / total).abs() < 1e-9,
        "{share} vs {}",
        nightly / total
    );
    let whole = f64_of(&f["top"][0], "score");
    assert!(whole > 0.0);
    let top = f["top"].as_array().expect("top");
    assert_eq!(
        top.len() as u64,
        f["flagged_cells"].as_u64().expect("flagged")
    );
    assert_eq!(top[0]["rank"], 1);
    for w in top.windows(2) {
        assert!(f64_of(&w[0], "score") >= f64_of(&w[1], "score"));
    }
}

/// Backtests on H3 cells and on the stored boundary's areas (St. Louis's 88
/// neighbourhoods): the models run on a 100 m base grid whose cells are summed into the
/// units, and coverage is measured by area. The JSON keeps the grid backtest's shape;
/// at every origin the flagged units fit the area budget (or are the top unit alone),
/// PAI is the hit rate over the flagged area's share, hit rate and PEI* are shares, and
/// flagging every unit gives hit rate, PAI and PEI* 1.
#[test]
fn backtest_on_hexagons_and_boundary_areas() {
    let dir = tempfile::tempdir().expect("tempdir");
    let base = [
        "backtest",
        "--category",
        BURGLARY,
        "--models",
        "naive,historical",
        "--train-days",
        "120",
        "--origins",
        "4",
        "--start",
        "2019-07-01",
        "--json",
    ];
    let mut boundary_area = None;
    for (units, kind) in [
        (&["--hex", "8"][..], "h3"),
        (&["--area-units", "boundary"][..], "boundary"),
    ] {
        let html = dir.path().join(format!("{kind}.html"));
        let mut c = cmd(&base);
        c.args(units).args(["--coverage", "1,5,20,100"]);
        c.arg("--html").arg(&html);
        let v = run_json(&mut c);
        assert_eq!(v["units"]["kind"], kind);
        assert_eq!(v["base_cell_size_m"], 100.0);
        assert!(v["cell_size_m"].is_null());
        assert_eq!(v["study_area_from"], "units");
        let area = f64_of(&v, "study_area_km2");
        assert_eq!(area, f64_of(&v, "units_area_km2"));
        if kind == "boundary" {
            // The neighbourhoods tile the city: their areas add up to the boundary's.
            assert_eq!(v["units"]["areas"], 88);
            boundary_area = Some(area);
        }
        let models = v["models"].as_array().expect("models");
        assert_eq!(models.len(), 2);
        for m in models {
            assert!(m["name"].is_string() && m["parameters"].is_object(), "{m}");
            let cov = m["coverage"].as_array().expect("coverage");
            assert_eq!(cov.len(), 4);
            for c in cov {
                for k in ["pai", "hit_rate", "pei_star", "units", "area_km2"] {
                    assert!(c[k].is_number(), "{k} in {c}");
                }
            }
            let origins = m["origins"].as_array().expect("origins");
            assert_eq!(origins.len(), 4);
            for o in origins {
                assert!(o["error"].is_null(), "{o}");
                assert!(o["test_events"].as_u64().expect("test events") > 0);
                for (j, pct) in [1.0, 5.0, 20.0, 100.0].iter().enumerate() {
                    let (pai, hit, pei) = (
                        o["pai"][j].as_f64().expect("pai"),
                        o["hit_rate"][j].as_f64().expect("hit rate"),
                        o["pei_star"][j].as_f64().expect("PEI*"),
                    );
                    let flagged = o["area_km2"][j].as_f64().expect("area");
                    let n = o["units"][j].as_u64().expect("units");
                    assert!(n >= 1 && flagged > 0.0);
                    assert!(
                        n == 1 || flagged <= pct / 100.0 * area * (1.0 + 1e-9),
                        "{kind} {pct}%: {flagged} km² of {area}"
                    );
                    assert!((0.0..=1.0).contains(&hit) && (0.0..=1.0).contains(&pei));
                    assert!(pai.is_finite());
                    assert!((pai * flagged / area - hit).abs() < 1e-9, "{o}");
                }
                // Everything flagged: every event of the units is a hit.
                assert_eq!(o["hit_rate"][3], 1.0);
                assert!((o["pai"][3].as_f64().expect("pai") - 1.0).abs() < 1e-12);
                assert_eq!(o["pei_star"][3], 1.0);
            }
            // The mean PAI is the mean of the origins'.
            let pais: Vec<f64> = origins
                .iter()
                .filter_map(|o| o["pai"][1].as_f64())
                .collect();
            let mean = pais.iter().sum::<f64>() / pais.len() as f64;
            assert!((mean - f64_of(&cov[1], "pai")).abs() < 1e-9);
        }
        let page = std::fs::read_to_string(&html).expect("report");
        assert!(page.contains("<svg") && page.contains("Leaderboard"));

        // Area budgets: the top units that fit at every origin.
        let mut c = cmd(&base);
        c.args(units)
            .args(["--area-budget", "5,20", "--area-unit", "km2"]);
        let v = run_json(&mut c);
        for m in v["models"].as_array().expect("models") {
            for o in m["origins"].as_array().expect("origins") {
                for (j, budget) in [5.0, 20.0].iter().enumerate() {
                    let flagged = o["area_km2"][j].as_f64().expect("area");
                    let n = o["units"][j].as_u64().expect("units");
                    assert!(n == 1 || flagged <= budget * (1.0 + 1e-9), "{flagged} km²");
                }
            }
        }
    }
    // The neighbourhoods' areas add up to the jurisdiction's, NIJ's PAI area.
    let nij = run_json(&mut cmd(&[
        "backtest",
        "--category",
        BURGLARY,
        "--nij",
        "--train-days",
        "120",
        "--origins",
        "1",
        "--start",
        "2019-07-01",
        "--json",
    ]));
    let jurisdiction = f64_of(&nij, "study_area_km2");
    let summed = boundary_area.expect("boundary run");
    assert!((summed - jurisdiction).abs() < 1e-9 * jurisdiction);

    // Area codes have no outlines to sum cells into; budgets below every unit are refused.
    let bad = run(&mut cmd(&[
        "backtest",
        "--area-units",
        "neighbourhood",
        "--start",
        "2019-07-01",
    ]));
    assert_eq!(bad.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("use --area-units boundary, --hex"));
    let small = run(&mut cmd(&[
        "backtest",
        "--hex",
        "8",
        "--area-budget",
        "0.01",
        "--area-unit",
        "km2",
        "--start",
        "2019-07-01",
    ]));
    assert_eq!(small.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&small.stderr).contains("smaller than the smallest unit"));
    let nij_hex = run(&mut cmd(&[
        "backtest",
        "--nij",
        "--hex",
        "8",
        "--start",
        "2019-07-01",
    ]));
    assert_eq!(nij_hex.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&nij_hex.stderr).contains("--nij scores square grid cells"));
}
