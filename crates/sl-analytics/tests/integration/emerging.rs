//! Emerging hot spot analysis: every pattern built by hand from its definition, the
//! boundary rules, the space-time neighbourhood, and esda / pymannkendall / scipy on a
//! real Philadelphia cube (tests/data/emerging).

use sl_analytics::Incident;
use sl_analytics::emerging::{
    BinClass, Correction, EmergingConfig, EmergingError, Locations, Pattern, SpaceTimeCube,
    classify, emerging_hot_spots, space_time_weights,
};
use sl_analytics::gistar::gi_star_analytic;
use sl_analytics::grid::{Grid, MaskedGrid};
use sl_analytics::mann_kendall::MannKendall;
use sl_analytics::rng;
use sl_analytics::weights::Weights;

/// Steps from a picture: `H` hot, `C` cold, `.` not significant, oldest first.
fn steps(s: &str) -> Vec<BinClass> {
    s.chars()
        .map(|c| match c {
            'H' => BinClass::Hot,
            'C' => BinClass::Cold,
            _ => BinClass::NotSignificant,
        })
        .collect()
}

/// A trend test result with the given z and p (the other fields do not matter here).
fn mk(z: f64, p: f64) -> MannKendall {
    MannKendall {
        n: 10,
        s: 0.0,
        var_s: 0.0,
        z,
        p,
        tau: 0.0,
        sen_slope: 0.0,
        intercept: 0.0,
    }
}

const NONE: (f64, f64) = (0.3, 0.76);
const UP: (f64, f64) = (2.5, 0.012);
const DOWN: (f64, f64) = (-2.5, 0.012);

fn class(s: &str, trend: (f64, f64)) -> Pattern {
    classify(&steps(s), &mk(trend.0, trend.1), 0.10)
}

#[test]
fn no_pattern() {
    assert_eq!(class("..........", NONE), Pattern::NoPattern);
    assert_eq!(class("..........", UP), Pattern::NoPattern);
    assert_eq!(class("H.H.C.....", NONE), Pattern::NoPattern);
    assert_eq!(classify(&[], &mk(0.0, 1.0), 0.1), Pattern::NoPattern);
}

#[test]
fn new_spots_are_significant_only_in_the_final_step() {
    assert_eq!(class(".........H", NONE), Pattern::NewHotSpot);
    assert_eq!(class(".........C", NONE), Pattern::NewColdSpot);
    // The trend does not matter below 90 %.
    assert_eq!(class(".........H", DOWN), Pattern::NewHotSpot);
}

#[test]
fn consecutive_spots_are_one_final_run_of_two_or_more() {
    assert_eq!(class("......HHHH", NONE), Pattern::ConsecutiveHotSpot);
    assert_eq!(class("........HH", UP), Pattern::ConsecutiveHotSpot);
    assert_eq!(class("......CCCC", NONE), Pattern::ConsecutiveColdSpot);
    // A run of 8 of 10 steps is 80 %: still consecutive.
    assert_eq!(class("..HHHHHHHH", NONE), Pattern::ConsecutiveHotSpot);
}

#[test]
fn intensifying_spots_need_90_percent_and_a_significant_strengthening_trend() {
    assert_eq!(class(".HHHHHHHHH", UP), Pattern::IntensifyingHotSpot);
    assert_eq!(class("HHHHHHHHHH", UP), Pattern::IntensifyingHotSpot);
    // Colder and colder: z-scores fall.
    assert_eq!(class(".CCCCCCCCC", DOWN), Pattern::IntensifyingColdSpot);
}

#[test]
fn persistent_spots_need_90_percent_and_no_significant_trend() {
    assert_eq!(class("HHHHHHHHHH", NONE), Pattern::PersistentHotSpot);
    assert_eq!(class("H.HHHHHHHH", NONE), Pattern::PersistentHotSpot);
    assert_eq!(class("CCCCCCCCCC", NONE), Pattern::PersistentColdSpot);
}

#[test]
fn diminishing_spots_need_90_percent_and_a_significant_weakening_trend() {
    assert_eq!(class("HHHHHHHHHH", DOWN), Pattern::DiminishingHotSpot);
    // Less cold over time: z-scores rise.
    assert_eq!(class("CCCCCCCCCC", UP), Pattern::DiminishingColdSpot);
}

#[test]
fn sporadic_spots_are_on_and_off_never_the_opposite() {
    assert_eq!(class("H..H...H.H", NONE), Pattern::SporadicHotSpot);
    assert_eq!(class("H.......HH", UP), Pattern::SporadicHotSpot);
    assert_eq!(class(".C..C....C", NONE), Pattern::SporadicColdSpot);
}

#[test]
fn oscillating_spots_were_the_opposite_before() {
    assert_eq!(class("C...H...HH", NONE), Pattern::OscillatingHotSpot);
    assert_eq!(class("H....C...C", NONE), Pattern::OscillatingColdSpot);
    // A cold past outranks "new" and "consecutive" (the final step decides).
    assert_eq!(class("C........H", NONE), Pattern::OscillatingHotSpot);
    assert_eq!(class("C.......HH", NONE), Pattern::OscillatingHotSpot);
    // Cold in the final step after 90 % hot steps: oscillating cold, not historical hot.
    assert_eq!(class("HHHHHHHHHC", NONE), Pattern::OscillatingColdSpot);
}

#[test]
fn historical_spots_were_90_percent_significant_but_not_in_the_final_step() {
    assert_eq!(class("HHHHHHHHH.", NONE), Pattern::HistoricalHotSpot);
    assert_eq!(class("CCCCCCCCC.", DOWN), Pattern::HistoricalColdSpot);
    assert_eq!(class("HHHHHHHH..", NONE), Pattern::NoPattern);
}

#[test]
fn the_90_percent_rule_counts_exactly_90_percent_in() {
    // 18 of 20 steps hot, including the final one: exactly 90 %.
    let s18 = format!("{}{}", "..", "H".repeat(18));
    assert_eq!(class(&s18, NONE), Pattern::PersistentHotSpot);
    // 17 of 20 (85 %) in one final run: consecutive; with a gap: sporadic.
    let s17 = format!("...{}", "H".repeat(17));
    assert_eq!(class(&s17, NONE), Pattern::ConsecutiveHotSpot);
    let s17_gap = format!("{}{}{}", "..H.", "H".repeat(7), "H".repeat(9));
    assert_eq!(class(&s17_gap, NONE), Pattern::SporadicHotSpot);
    // A final run of 9 of 10 is 90 %: persistent, not consecutive.
    assert_eq!(class(".HHHHHHHHH", NONE), Pattern::PersistentHotSpot);
    // Historical at exactly 90 % with the final step not significant.
    assert_eq!(
        class(&format!("{}.", "H".repeat(18)), NONE).slug(),
        "historical_hot_spot"
    );
    assert_eq!(
        class(&format!("{}..", "H".repeat(17)), NONE),
        Pattern::NoPattern
    );
    // 27 of 30 = 90 %.
    assert_eq!(
        class(&format!("...{}", "C".repeat(27)), UP),
        Pattern::DiminishingColdSpot
    );
    assert_eq!(
        class(&format!("....{}", "C".repeat(26)), UP),
        Pattern::ConsecutiveColdSpot
    );
}

#[test]
fn the_trend_is_significant_at_p_equal_to_alpha() {
    let all_hot = steps("HHHHHHHHHH");
    assert_eq!(
        classify(&all_hot, &mk(1.7, 0.10), 0.10),
        Pattern::IntensifyingHotSpot
    );
    assert_eq!(
        classify(&all_hot, &mk(1.6, 0.1000001), 0.10),
        Pattern::PersistentHotSpot
    );
    assert_eq!(
        classify(&all_hot, &mk(-1.7, 0.05), 0.01),
        Pattern::PersistentHotSpot
    );
}

#[test]
fn patterns_have_distinct_names_and_sides() {
    let slugs: std::collections::BTreeSet<&str> = Pattern::ALL.iter().map(|p| p.slug()).collect();
    assert_eq!(slugs.len(), 17);
    assert_eq!(Pattern::ALL.iter().filter(|p| p.is_hot()).count(), 8);
    assert_eq!(Pattern::ALL.iter().filter(|p| p.is_cold()).count(), 8);
    assert_eq!(
        Pattern::IntensifyingColdSpot.label(),
        "Intensifying Cold Spot"
    );
    assert_eq!(Pattern::NoPattern.label(), "No Pattern Detected");
}

/// Three units in a row: 0 – 1 – 2.
fn line3() -> Weights {
    Weights::from_lists(vec![
        vec![(1, 1.0)],
        vec![(0, 1.0), (2, 1.0)],
        vec![(1, 1.0)],
    ])
}

#[test]
fn space_time_neighbourhood_looks_back_k_steps() {
    let w = space_time_weights(&line3(), 3, 1);
    assert_eq!(w.n(), 9);
    // Bin index t·3 + i.
    assert_eq!(w.row(1).0, &[0, 1, 2]); // (t 0, unit 1): no earlier step
    assert_eq!(w.row(3).0, &[0, 1, 3, 4]); // (t 1, unit 0)
    assert_eq!(w.row(8).0, &[4, 5, 7, 8]); // (t 2, unit 2): not step 0
    assert!(w.row(8).1.iter().all(|&v| v == 1.0));
    assert_eq!(space_time_weights(&line3(), 3, 0).row(7).0, &[6, 7, 8]);
    assert_eq!(
        space_time_weights(&line3(), 3, 2).row(7).0,
        &[0, 1, 2, 3, 4, 5, 6, 7, 8]
    );
}

/// A 4 × 5 grid cube of 12 steps with pseudo-random counts, some units always empty.
fn synthetic(seed: u64) -> (MaskedGrid, SpaceTimeCube) {
    let grid = Grid::covering([0.0, 0.0, 499.0, 399.0], 100.0).expect("grid");
    let masked = MaskedGrid::all(grid);
    let n = masked.len();
    let mut r = rng::stream(seed, 0);
    let values: Vec<f64> = (0..12 * n)
        .map(|b| {
            let i = b % n;
            if i % 7 == 3 {
                0.0
            } else {
                (rng::below(&mut r, 4) + (i as u64 % 3) * (b / n) as u64 / 4) as f64
            }
        })
        .collect();
    let cube = SpaceTimeCube::new(n, 12, values).expect("cube");
    (masked, cube)
}

#[test]
fn space_time_gi_star_equals_gi_star_analytic_bit_for_bit() {
    let (grid, cube) = synthetic(7);
    let w = Weights::queen(&grid);
    for k in [0, 1, 3] {
        let cfg = EmergingConfig {
            time_neighbourhood: k,
            locations: Locations::All,
            ..EmergingConfig::default()
        };
        let res = emerging_hot_spots(&cube, &w, &cfg).expect("analysis");
        let reference = gi_star_analytic(cube.values(), &space_time_weights(&w, 12, k));
        for (a, b) in res.z.iter().zip(&reference.z) {
            assert_eq!(a.to_bits(), b.to_bits(), "k = {k}");
        }
    }
}

#[test]
fn locations_without_data_take_no_part() {
    let (grid, cube) = synthetic(11);
    let w = Weights::queen(&grid);
    let res = emerging_hot_spots(&cube, &w, &EmergingConfig::default()).expect("analysis");
    let empty: Vec<usize> = (0..cube.n_units())
        .filter(|&i| cube.series(i).iter().all(|&v| v == 0.0))
        .collect();
    assert!(!empty.is_empty());
    assert_eq!(res.n_analysed, cube.n_units() - empty.len());
    for &i in &empty {
        let u = &res.units[i];
        assert!(!u.analysed);
        assert_eq!(u.pattern, Pattern::NoPattern);
        assert_eq!((u.hot_steps, u.cold_steps, u.z_trend.n), (0, 0, 0));
        assert!((0..12).all(|t| res.z[t * cube.n_units() + i].is_nan()));
    }
    // The analysed bins equal Gi* on the cube of analysed units alone.
    let keep: Vec<usize> = (0..cube.n_units()).filter(|i| !empty.contains(i)).collect();
    let sub_lists = keep
        .iter()
        .map(|&i| {
            let (js, _) = w.row(i);
            js.iter()
                .filter_map(|&j| keep.iter().position(|&k| k == j as usize))
                .map(|a| (a as u32, 1.0))
                .collect()
        })
        .collect();
    let sub_w = Weights::from_lists(sub_lists);
    let y: Vec<f64> = (0..12)
        .flat_map(|t| keep.iter().map(move |&i| (t, i)))
        .map(|(t, i)| cube.value(i, t))
        .collect();
    let reference = gi_star_analytic(&y, &space_time_weights(&sub_w, 12, 1));
    for t in 0..12 {
        for (a, &i) in keep.iter().enumerate() {
            let got = res.z[t * cube.n_units() + i];
            assert_eq!(got.to_bits(), reference.z[t * keep.len() + a].to_bits());
        }
    }
}

#[test]
fn correction_none_uses_the_plain_cut_off() {
    let (grid, cube) = synthetic(5);
    let w = Weights::queen(&grid);
    let plain = EmergingConfig {
        correction: Correction::None,
        confidence: 0.95,
        ..EmergingConfig::default()
    };
    let res = emerging_hot_spots(&cube, &w, &plain).expect("analysis");
    assert!((res.p_threshold - 0.05).abs() < 1e-15);
    for (b, (&z, &p)) in res.z.iter().zip(&res.p).enumerate() {
        let expected = if p <= 0.05 && z > 0.0 {
            BinClass::Hot
        } else if p <= 0.05 && z < 0.0 {
            BinClass::Cold
        } else {
            BinClass::NotSignificant
        };
        assert_eq!(res.bins[b], expected);
    }
    // FDR is never more permissive than the uncorrected test at the same level.
    let fdr = emerging_hot_spots(
        &cube,
        &w,
        &EmergingConfig {
            correction: Correction::Fdr,
            ..plain
        },
    )
    .expect("analysis");
    assert!(fdr.p_threshold <= 0.05);
    let sig = |r: &sl_analytics::emerging::EmergingResult| {
        r.bins
            .iter()
            .filter(|&&c| c != BinClass::NotSignificant)
            .count()
    };
    assert!(sig(&fdr) <= sig(&res));
}

#[test]
fn bad_inputs_are_refused() {
    let (grid, cube) = synthetic(1);
    let w = Weights::queen(&grid);
    assert!(matches!(
        SpaceTimeCube::new(3, 10, vec![0.0; 29]),
        Err(EmergingError::Shape { .. })
    ));
    let mut v = vec![0.0; 30];
    v[13] = f64::NAN;
    assert_eq!(
        SpaceTimeCube::new(3, 10, v),
        Err(EmergingError::BadValue { unit: 1, step: 4 })
    );
    let short = SpaceTimeCube::new(3, 9, vec![1.0; 27]).expect("cube");
    assert_eq!(
        emerging_hot_spots(&short, &line3(), &EmergingConfig::default()),
        Err(EmergingError::TooFewSteps { steps: 9 })
    );
    assert!(matches!(
        emerging_hot_spots(&cube, &line3(), &EmergingConfig::default()),
        Err(EmergingError::WeightsMismatch { .. })
    ));
    let bad = EmergingConfig {
        confidence: 1.0,
        ..EmergingConfig::default()
    };
    assert_eq!(
        emerging_hot_spots(&cube, &w, &bad),
        Err(EmergingError::BadConfidence(1.0))
    );
    let msg = EmergingError::TooFewSteps { steps: 9 }.to_string();
    assert!(msg.contains("at least 10"));
}

#[test]
fn counting_incidents_into_the_cube() {
    let grid = MaskedGrid::all(Grid::covering([0.0, 0.0, 199.0, 99.0], 100.0).expect("grid"));
    let edges = [0, 10, 20, 30];
    let at = |x: f64, from: i64| Incident {
        x,
        y: 50.0,
        from,
        to: from + 1,
    };
    let incidents = [
        at(50.0, 0),   // unit 0, step 0 (first edge is in)
        at(50.0, 9),   // unit 0, step 0
        at(150.0, 10), // unit 1, step 1 (an edge starts the next step)
        at(150.0, 29), // unit 1, step 2
        at(150.0, 30), // the last edge is out
        at(150.0, -1), // before the first edge
        at(250.0, 5),  // off the grid
    ];
    let (cube, summary) = SpaceTimeCube::count(&grid, &incidents, &edges).expect("cube");
    assert_eq!((cube.n_units(), cube.n_steps()), (2, 3));
    assert_eq!(cube.values(), &[2.0, 0.0, 0.0, 1.0, 0.0, 1.0]);
    assert_eq!(
        (summary.counted, summary.outside_steps, summary.off_grid),
        (4, 2, 1)
    );
    assert_eq!(
        SpaceTimeCube::count(&grid, &incidents, &[0, 10, 10]),
        Err(EmergingError::BadStepEdges)
    );
}

struct Fixture {
    grid: MaskedGrid,
    cube: SpaceTimeCube,
    doc: serde_json::Value,
}

fn fixture() -> Fixture {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/emerging/phl_burglary_1500m_2023_2024.json"
    );
    let text = std::fs::read_to_string(path).expect("fixture is in the repository");
    let doc: serde_json::Value = serde_json::from_str(&text).expect("fixture is JSON");
    let g = &doc["grid"];
    let num = |v: &serde_json::Value| v.as_f64().expect("number");
    let grid = Grid {
        x0: num(&g["x0"]),
        y0: num(&g["y0"]),
        cell: num(&g["cell"]),
        rows: num(&g["rows"]) as u32,
        cols: num(&g["cols"]) as u32,
    };
    let grid = MaskedGrid::all(grid);
    let steps = num(&doc["n_steps"]) as usize;
    let counts: Vec<f64> = doc["counts"]
        .as_array()
        .expect("counts")
        .iter()
        .map(num)
        .collect();
    let cube = SpaceTimeCube::new(grid.len(), steps, counts).expect("cube");
    Fixture { grid, cube, doc }
}

#[test]
fn matches_esda_scipy_and_pymannkendall_on_philadelphia_burglaries() {
    let Fixture { grid, cube, doc } = fixture();
    let num = |v: &serde_json::Value| v.as_f64().expect("number");
    let w = Weights::queen(&grid);
    let cfg = EmergingConfig::default();
    assert_eq!(
        cfg.time_neighbourhood,
        num(&doc["time_neighbourhood"]) as usize
    );
    assert!((1.0 - cfg.confidence - num(&doc["fdr_q"])).abs() < 1e-12);
    let res = emerging_hot_spots(&cube, &w, &cfg).expect("analysis");

    let with_data: Vec<usize> = doc["with_data"]
        .as_array()
        .expect("with_data")
        .iter()
        .map(|v| num(v) as usize)
        .collect();
    let analysed: Vec<usize> = (0..cube.n_units())
        .filter(|&i| res.units[i].analysed)
        .collect();
    assert_eq!(analysed, with_data);
    let na = with_data.len();
    let n = cube.n_units();

    let z_ref: Vec<f64> = doc["z"].as_array().expect("z").iter().map(num).collect();
    let class_ref: Vec<f64> = doc["bin_class"]
        .as_array()
        .expect("classes")
        .iter()
        .map(num)
        .collect();
    let mut max_diff: f64 = 0.0;
    for t in 0..cube.n_steps() {
        for (a, &i) in with_data.iter().enumerate() {
            let (got, want) = (res.z[t * n + i], z_ref[t * na + a]);
            max_diff = max_diff.max((got - want).abs());
            assert!(
                (got - want).abs() <= 1e-10 * (1.0 + want.abs()),
                "z of bin ({i}, {t})"
            );
            let expected = match class_ref[t * na + a] as i64 {
                1 => BinClass::Hot,
                -1 => BinClass::Cold,
                _ => BinClass::NotSignificant,
            };
            assert_eq!(res.bins[t * n + i], expected, "class of bin ({i}, {t})");
        }
    }
    eprintln!("max |z - esda z| = {max_diff:e}");
    let cut = num(&doc["p_cutoff"]);
    // statrs' erfc differs from scipy's norm.sf by about 5e-11 relative.
    assert!(
        (res.p_threshold - cut).abs() <= 1e-9 * cut,
        "BH cut-off {} vs {cut}",
        res.p_threshold
    );

    for (a, &i) in with_data.iter().enumerate() {
        let r = &doc["z_trend"][a];
        let u = &res.units[i].z_trend;
        assert_eq!(u.s, num(&r[0]), "S of location {i}");
        assert_eq!(u.var_s, num(&r[1]), "Var(S) of location {i}");
        assert!((u.z - num(&r[2])).abs() < 1e-12, "trend z of location {i}");
        assert!(
            (u.p - num(&r[3])).abs() <= 1e-9 * num(&r[3]),
            "trend p of location {i}"
        );
        assert!(
            (u.sen_slope - num(&r[5])).abs() < 1e-9,
            "Sen slope of location {i}"
        );
    }

    // Invariants: one pattern per unit, empty locations have none, and a summary.
    let mut counts = std::collections::BTreeMap::new();
    for (i, u) in res.units.iter().enumerate() {
        *counts.entry(u.pattern.slug()).or_insert(0usize) += 1;
        if cube.series(i).iter().all(|&v| v == 0.0) {
            assert_eq!(u.pattern, Pattern::NoPattern);
        }
        let hot_final = res.bins[(cube.n_steps() - 1) * n + i] == BinClass::Hot;
        if matches!(
            u.pattern,
            Pattern::NewHotSpot
                | Pattern::ConsecutiveHotSpot
                | Pattern::IntensifyingHotSpot
                | Pattern::PersistentHotSpot
                | Pattern::DiminishingHotSpot
                | Pattern::SporadicHotSpot
                | Pattern::OscillatingHotSpot
        ) {
            assert!(hot_final);
        }
    }
    assert_eq!(counts.values().sum::<usize>(), n);
    eprintln!(
        "{} units, {} analysed, patterns: {counts:?}",
        n, res.n_analysed
    );
    assert!(counts.len() >= 4, "real data shows several patterns");
}

#[test]
fn results_do_not_depend_on_the_number_of_threads() {
    let Fixture { grid, cube, .. } = fixture();
    let w = Weights::queen(&grid);
    let run = |threads: usize| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .expect("thread pool")
            .install(|| {
                emerging_hot_spots(&cube, &w, &EmergingConfig::default()).expect("analysis")
            })
    };
    let one = run(1);
    let three = run(3);
    let again = run(3);
    let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    for other in [&three, &again] {
        assert_eq!(bits(&one.z), bits(&other.z));
        assert_eq!(bits(&one.p), bits(&other.p));
        assert_eq!(one.bins, other.bins);
        assert_eq!(one.p_threshold.to_bits(), other.p_threshold.to_bits());
        let patterns = |r: &sl_analytics::emerging::EmergingResult| {
            r.units.iter().map(|u| u.pattern).collect::<Vec<_>>()
        };
        assert_eq!(patterns(&one), patterns(other));
    }
}
