//! `--risk-layer` on `backtest` and `forecast` (bundled St. Louis 2019): drug incidents
//! of the first half year exported as a point layer, a street as a line layer and a
//! park as a polygon layer feed the `rtm` and `glm` models; the JSON describes each
//! layer and reports each factor's relative risk value; and the usual mistakes are
//! explained.

use super::toolbox::{DATASET, cmd, db};
use super::{run, run_json, streetlight};

fn stderr_of(c: &mut std::process::Command) -> String {
    let out = run(c);
    assert_eq!(out.status.code(), Some(1), "expected a user error");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn risk_layers_feed_rtm_and_glm() {
    let dir = tempfile::tempdir().expect("tempdir");
    let drugs = dir.path().join("drugs.geojson");
    let mut export = streetlight();
    export
        .args(["export", "--db"])
        .arg(db())
        .args(["--dataset", DATASET, "--category", "drugs"])
        .args(["--from", "2019-01-01", "--to", "2019-07-01", "--output"])
        .arg(&drugs);
    assert!(run(&mut export).status.success());
    // Market Street west from the riverfront, and a block of Forest Park.
    let street = dir.path().join("street.geojson");
    std::fs::write(
        &street,
        r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{},
           "geometry":{"type":"LineString","coordinates":[[-90.185,38.627],[-90.21,38.630],[-90.25,38.633]]}},
           {"type":"Feature","properties":{},"geometry":null}]}"#,
    )
    .expect("write");
    let park = dir.path().join("park.geojson");
    std::fs::write(
        &park,
        r#"{"type":"Feature","properties":{},"geometry":{"type":"Polygon","coordinates":
           [[[-90.30,38.632],[-90.28,38.632],[-90.28,38.642],[-90.30,38.642],[-90.30,38.632]]]}}"#,
    )
    .expect("write");
    let layer =
        |name: &str, path: &std::path::Path, opts: &str| format!("{name}={}{opts}", path.display());
    let specs = [
        layer("drugs", &drugs, ",distance=250"),
        layer("drugs", &drugs, ",operation=density,distance=500"),
        layer("market", &street, ",distance=150"),
        layer("park", &park, ",op=proximity,distance=100"),
    ];
    let mut c = cmd(&[
        "backtest",
        "--category",
        "residential_burglary",
        "--models",
        "rtm,glm",
        "--cell-size",
        "250",
        "--train-days",
        "180",
        "--horizon-days",
        "7",
        "--origins",
        "4",
        "--start",
        "2019-09-02",
        "--json",
    ]);
    for s in &specs {
        c.args(["--risk-layer", s]);
    }
    let v = run_json(&mut c);
    let layers = v["risk_layers"].as_array().expect("risk_layers");
    assert_eq!(layers.len(), 4);
    let labels: Vec<&str> = layers
        .iter()
        .map(|l| l["label"].as_str().expect("label"))
        .collect();
    assert_eq!(
        labels,
        [
            "drugs_proximity_250m",
            "drugs_density_500m",
            "market_proximity_150m",
            "park_proximity_100m"
        ]
    );
    for l in layers {
        let flagged = l["cells_flagged"].as_u64().expect("cells_flagged");
        let cells = l["cells"].as_u64().expect("cells");
        assert!(flagged > 0 && flagged < cells, "{l}");
    }
    assert_eq!(layers[2]["shapes"], 1);
    // The street runs about 5.7 km; cells within 150 m of it form a band.
    let band = layers[2]["cells_flagged"].as_u64().expect("band");
    assert!((20..80).contains(&band), "market band {band} cells");
    for m in v["models"].as_array().expect("models") {
        let p = &m["parameters"];
        for label in &labels {
            let rrv = p[format!("rrv_{label}")].as_f64().expect("rrv");
            let beta = p[format!("rtm_{label}")].as_f64().expect("coefficient");
            assert!((rrv - beta.exp()).abs() < 1e-12 * rrv.max(1.0), "{label}");
        }
        assert_eq!(m["origins_ok"], 4, "{m}");
        assert!(m["coverage"][0]["pai"].is_number());
    }
    // The risk terrain model has no history features: its forecast takes one value
    // per pattern of the 4 factors, so at most 16 distinct scores.
    let mut f = cmd(&[
        "forecast",
        "--category",
        "residential_burglary",
        "--model",
        "rtm",
        "--cell-size",
        "250",
        "--at",
        "2019-09-02",
        "--coverage",
        "100",
        "--json",
    ]);
    for s in &specs {
        f.args(["--risk-layer", s]);
    }
    let fv = run_json(&mut f);
    assert_eq!(fv["model"], "rtm");
    assert_eq!(fv["risk_layers"].as_array().map(Vec::len), Some(4));
    let mut scores: Vec<f64> = fv["top"]
        .as_array()
        .expect("top")
        .iter()
        .map(|r| r["score"].as_f64().expect("score"))
        .collect();
    scores.sort_by(f64::total_cmp);
    scores.dedup();
    assert!(
        scores.len() > 1 && scores.len() <= 16,
        "{} distinct scores",
        scores.len()
    );
    let names: Vec<&String> = fv["parameters"]
        .as_object()
        .expect("parameters")
        .keys()
        .filter(|k| k.starts_with("rtm_"))
        .collect();
    assert_eq!(names.len(), 4, "{names:?}");
}

#[test]
fn risk_layer_mistakes_are_explained() {
    let dir = tempfile::tempdir().expect("tempdir");
    let street = dir.path().join("street.geojson");
    std::fs::write(
        &street,
        r#"{"type":"LineString","coordinates":[[-90.185,38.627],[-90.25,38.633]]}"#,
    )
    .expect("write");
    let base = [
        "backtest",
        "--category",
        "residential_burglary",
        "--cell-size",
        "250",
        "--train-days",
        "120",
        "--origins",
        "2",
        "--start",
        "2019-09-02",
    ];
    let with = |models: &str, spec: Option<String>| {
        let mut c = cmd(&base);
        c.args(["--models", models]);
        if let Some(s) = spec {
            c.args(["--risk-layer", &s]);
        }
        stderr_of(&mut c)
    };
    let s = street.display();
    let e = with("rtm", None);
    assert!(
        e.contains("needs at least one") && e.contains("--risk-layer"),
        "{e}"
    );
    let e = with("historical", Some(format!("market={s}")));
    assert!(e.contains("glm, rtm, ensemble"), "{e}");
    let e = with("glm", Some(format!("market={s},operation=density")));
    assert!(e.contains("use proximity"), "{e}");
    let e = with("glm", Some(format!("market={s},distance=-3")));
    assert!(e.contains("positive number of metres"), "{e}");
    let e = with("glm", Some(format!("market={s},colour=red")));
    assert!(e.contains("unknown option `colour`"), "{e}");
    let e = with("glm", Some(s.to_string()));
    assert!(e.contains("NAME=FILE"), "{e}");
    let e = with("glm", Some("market=/nonexistent/layer.geojson".into()));
    assert!(e.contains("cannot read layer file"), "{e}");
}
