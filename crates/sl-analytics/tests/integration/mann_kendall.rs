//! Mann–Kendall: hand-computed cases (with ties and a missing value) and pymannkendall's
//! `original_test` on real monthly series (tests/data/mann_kendall).

use sl_analytics::mann_kendall::{Trend, mann_kendall};

/// Relative tolerance for p-values: `normal_upper_tail` uses statrs' `erfc`, whose
/// relative error is about 5e-11 (scipy's `norm.sf` is exact to a few ulps).
const P_TOL: f64 = 1e-9;

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol * (1.0 + b.abs())
}

#[test]
fn strictly_increasing_series() {
    // S = C(5,2) = 10, Var = 5·4·15/18 = 300/18, Z = 9/√(300/18) = 2.2045…,
    // p = 2·P(N > 2.2045…) = 0.027486…, τ = 1, every pairwise slope 1, intercept
    // median(x) − median(0..4)·1 = 3 − 2 = 1.
    let r = mann_kendall(&[1.0, 2.0, 3.0, 4.0, 5.0]);
    assert_eq!(r.n, 5);
    assert_eq!(r.s, 10.0);
    assert!(close(r.var_s, 300.0 / 18.0, 1e-15));
    assert!(close(r.z, 2.2045407685048604, 1e-14));
    assert!(close(r.p, 0.02748633611151033, P_TOL));
    assert_eq!(r.tau, 1.0);
    assert_eq!(r.sen_slope, 1.0);
    assert_eq!(r.intercept, 1.0);
    assert_eq!(r.trend(0.05), Trend::Increasing);
    assert_eq!(r.trend(0.01), Trend::NoTrend);
}

#[test]
fn ties_reduce_the_variance() {
    // x = [1, 2, 2, 3]: signs (1,2)+ (1,2)+ (1,3)+ (2,2)0 (2,3)+ (2,3)+ → S = 5.
    // Var = (4·3·13 − 2·1·9)/18 = 138/18; Z = 4/√(138/18) = 1.44463…; τ = 5/6.
    // Slopes 1, 1/2, 2/3, 0, 1/2, 1 → median (1/2 + 2/3)/2 = 7/12;
    // intercept 2 − 1.5·7/12 = 1.125.
    let r = mann_kendall(&[1.0, 2.0, 2.0, 3.0]);
    assert_eq!(r.s, 5.0);
    assert!(close(r.var_s, 138.0 / 18.0, 1e-15));
    assert!(close(r.z, 1.4446302370292303, 1e-14));
    assert!(close(r.p, 0.14856177489186864, P_TOL));
    assert!(close(r.tau, 5.0 / 6.0, 1e-15));
    assert!(close(r.sen_slope, 7.0 / 12.0, 1e-15));
    assert!(close(r.intercept, 1.125, 1e-15));
    assert_eq!(r.trend(0.10), Trend::NoTrend);
}

#[test]
fn missing_values_are_skipped_but_keep_the_time_scale() {
    // [3, NaN, 1]: S = −1 over n = 2, Var = 2·1·9/18 = 1, Z = (−1 + 1)/1 = 0, p = 1,
    // τ = −1; the one slope spans two steps: (1 − 3)/2 = −1; intercept
    // median(3, 1) − median(0, 2)·(−1) = 2 + 1 = 3.
    let r = mann_kendall(&[3.0, f64::NAN, 1.0]);
    assert_eq!((r.n, r.s, r.var_s, r.z, r.p), (2, -1.0, 1.0, 0.0, 1.0));
    assert_eq!((r.tau, r.sen_slope, r.intercept), (-1.0, -1.0, 3.0));
}

#[test]
fn constant_and_degenerate_series() {
    let r = mann_kendall(&[2.0, 2.0, 2.0]);
    assert_eq!(
        (r.s, r.var_s, r.z, r.p, r.sen_slope),
        (0.0, 0.0, 0.0, 1.0, 0.0)
    );
    assert_eq!(r.trend(0.5), Trend::NoTrend);
    let one = mann_kendall(&[7.0]);
    assert_eq!((one.n, one.s, one.z, one.p), (1, 0.0, 0.0, 1.0));
    assert!(one.tau.is_nan() && one.sen_slope.is_nan());
    let none = mann_kendall(&[]);
    assert_eq!((none.n, none.z, none.p), (0, 0.0, 1.0));
}

#[test]
fn decreasing_trend_direction() {
    let r = mann_kendall(&[9.0, 7.0, 8.0, 5.0, 4.0, 4.0, 2.0, 1.0, 0.0, 0.0]);
    assert!(r.s < 0.0 && r.z < 0.0);
    assert_eq!(r.trend(0.05), Trend::Decreasing);
    assert_eq!(Trend::Decreasing.slug(), "decreasing");
}

#[test]
fn matches_pymannkendall_on_philadelphia_monthly_burglaries() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/mann_kendall/phl_burglary_district_months.json"
    );
    let text = std::fs::read_to_string(path).expect("fixture is in the repository");
    let doc: serde_json::Value = serde_json::from_str(&text).expect("fixture is JSON");
    let series = doc["series"].as_array().expect("series array");
    assert!(series.len() >= 20, "one series per district");
    let mut trends = 0;
    for s in series {
        let values: Vec<f64> = s["values"]
            .as_array()
            .expect("values")
            .iter()
            .map(|v| v.as_f64().expect("number"))
            .collect();
        assert_eq!(values.len(), 84);
        let f = |k: &str| s[k].as_f64().expect("number");
        let r = mann_kendall(&values);
        let name = s["district"].as_str().expect("district");
        assert_eq!(r.s, f("s"), "S of district {name}");
        assert_eq!(r.var_s, f("var_s"), "Var(S) of district {name}");
        assert!(close(r.z, f("z"), 1e-13), "z of district {name}");
        assert!(close(r.p, f("p"), P_TOL), "p of district {name}");
        assert!(close(r.tau, f("tau"), 1e-15), "tau of district {name}");
        assert!(close(r.sen_slope, f("sen_slope"), 1e-13), "slope of {name}");
        assert!(
            close(r.intercept, f("intercept"), 1e-13),
            "intercept of {name}"
        );
        let expected = match s["trend_at_0_10"].as_str().expect("trend") {
            "increasing" => Trend::Increasing,
            "decreasing" => Trend::Decreasing,
            _ => Trend::NoTrend,
        };
        assert_eq!(r.trend(0.10), expected, "trend of district {name}");
        trends += usize::from(expected != Trend::NoTrend);
    }
    // The fixture exercises both outcomes.
    assert!(trends > 0 && trends < series.len());
}
