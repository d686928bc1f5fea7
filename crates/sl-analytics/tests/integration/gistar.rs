//! Gi* (analytic and permutation), distance-band weights and Benjamini–Hochberg:
//! hand-computed cases, and esda/scipy reference outputs on real Philadelphia counts
//! (fixtures and the script that made them in tests/data/gistar/).

use std::path::PathBuf;

use sl_analytics::fdr::benjamini_hochberg;
use sl_analytics::gistar::{GiStar, GiStarConfig, Transform, gi_star, star_weights};
use sl_analytics::grid::{Grid, MaskedGrid};
use sl_analytics::weights::{BandWeight, Weights};

fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/gistar")
}

/// Columns of a small CSV with a header, parsed as f64 ("nan" included).
fn read_csv(name: &str) -> Vec<Vec<f64>> {
    let text = std::fs::read_to_string(data_dir().join(name)).expect("fixture file");
    let mut lines = text.lines();
    let ncol = lines.next().expect("header").split(',').count();
    let mut cols = vec![Vec::new(); ncol];
    for line in lines.filter(|l| !l.is_empty()) {
        for (c, field) in line.split(',').enumerate() {
            cols[c].push(field.parse::<f64>().expect("number"));
        }
    }
    cols
}

fn meta() -> serde_json::Value {
    let text = std::fs::read_to_string(data_dir().join("meta.json")).expect("meta.json");
    serde_json::from_str(&text).expect("json")
}

/// Rebuilds the masked grid from the fixture's (row, col) list; the fixture lists cells
/// in row-major order, which must be the MaskedGrid's own order.
fn masked_grid(rows: &[f64], cols: &[f64], x0: f64, y0: f64, cell: f64) -> MaskedGrid {
    let nrows = rows.iter().fold(0.0f64, |a, &b| a.max(b)) as u32 + 1;
    let ncols = cols.iter().fold(0.0f64, |a, &b| a.max(b)) as u32 + 1;
    let grid = Grid {
        x0,
        y0,
        cell,
        rows: nrows,
        cols: ncols,
    };
    let keep: std::collections::HashSet<(u32, u32)> = rows
        .iter()
        .zip(cols)
        .map(|(&r, &c)| (r as u32, c as u32))
        .collect();
    let m = MaskedGrid::new(grid, |r, c| keep.contains(&(r, c)));
    for (i, (&r, &c)) in rows.iter().zip(cols).enumerate() {
        assert_eq!(m.cell(i), (r as u32, c as u32), "fixture cell order");
    }
    m
}

fn line_points(n: usize) -> Vec<(f64, f64)> {
    (0..n).map(|i| (i as f64, 0.0)).collect()
}

fn cfg(transform: Transform, permutations: usize, seed: u64) -> GiStarConfig {
    GiStarConfig {
        transform,
        permutations,
        seed,
    }
}

#[test]
fn hand_computed_binary_and_row_standardised() {
    // Four units on a line, linked to the adjacent ones; y = 1, 2, 3, 6.
    // Σy = 12, ȳ = 3, s² = 50/4 − 9 = 3.5, n = 4.
    let w = Weights::distance_band(&line_points(4), 1.0, BandWeight::Binary).expect("band");
    let y = [1.0, 2.0, 3.0, 6.0];
    let b = gi_star(&y, &w, &cfg(Transform::Binary, 0, 0)).expect("gi*");
    // Unit 0, binary: links {0, 1}, G = 3/12, E = 2/4, Var = 2·2/3 · 1/16 · 3.5/9 = 7/216.
    assert!((b.g[0] - 0.25).abs() < 1e-15);
    assert!((b.expected[0] - 0.5).abs() < 1e-15);
    assert!((b.variance[0] - 7.0 / 216.0).abs() < 1e-15);
    let z0 = -0.25 * (216.0f64 / 7.0).sqrt();
    assert!((b.z[0] - z0).abs() < 1e-12);
    // p_norm is one-sided on |z|: scipy.stats.norm.sf(0.25 * sqrt(216 / 7)).
    assert!(
        (b.p_norm[0] / 0.082_457_411_276_650_74 - 1.0).abs() < 1e-9,
        "{}",
        b.p_norm[0]
    );
    assert!(b.p_sim.is_none());
    // Unit 1, row-standardised: links {0, 1, 2} at 1/3, G = (6/3)/12 = 1/6, E = 1/4,
    // Var = 1·3/3 · 1/16 · 3.5/9 = 7/288.
    let r = gi_star(&y, &w, &cfg(Transform::RowStandardised, 0, 0)).expect("gi*");
    assert!((r.g[1] - 1.0 / 6.0).abs() < 1e-15);
    assert!((r.expected[1] - 0.25).abs() < 1e-15);
    assert!((r.variance[1] - 7.0 / 288.0).abs() < 1e-15);
    assert!((r.z[1] + (288.0f64 / 7.0).sqrt() / 12.0).abs() < 1e-12);
}

#[test]
fn esda_docstring_example() {
    // esda's G_Local docstring: DistanceBand(points, threshold=15), star=True.
    let pts = [
        (10.0, 10.0),
        (20.0, 10.0),
        (40.0, 10.0),
        (15.0, 20.0),
        (30.0, 20.0),
        (30.0, 30.0),
    ];
    let y = [2.0, 3.0, 3.2, 5.0, 8.0, 7.0];
    let w = Weights::distance_band(&pts, 15.0, BandWeight::Binary).expect("band");
    let b = gi_star(&y, &w, &cfg(Transform::Binary, 0, 0)).expect("gi*");
    let want_b = [
        -1.39727626,
        -0.28917762,
        0.65064964,
        -0.28917762,
        1.23452088,
        2.02424331,
    ];
    let r = gi_star(&y, &w, &cfg(Transform::RowStandardised, 0, 0)).expect("gi*");
    let want_r = [
        -0.62488094,
        -0.09144599,
        0.41150696,
        -0.09144599,
        0.24690418,
        1.28024388,
    ];
    for i in 0..6 {
        assert!((b.z[i] - want_b[i]).abs() < 5e-9, "B {i}: {}", b.z[i]);
        assert!((r.z[i] - want_r[i]).abs() < 5e-9, "R {i}: {}", r.z[i]);
    }
}

#[test]
fn star_weights_follow_esda() {
    // Inverse-distance band on a line: row max becomes the self weight under 'R'.
    let w = Weights::distance_band(&line_points(3), 2.0, BandWeight::Power(-1.0)).expect("band");
    assert_eq!(w.row(0), (&[1u32, 2][..], &[1.0, 0.5][..]));
    let r = star_weights(&w, Transform::RowStandardised);
    // Unit 0: self 1 (= max of 1, 0.5), then / 2.5.
    assert_eq!(r.row(0).0, &[0, 1, 2]);
    let want = [0.4, 0.4, 0.2];
    for (a, b) in r.row(0).1.iter().zip(want) {
        assert!((a - b).abs() < 1e-15);
    }
    let b = star_weights(&w, Transform::Binary);
    assert_eq!(b.row(1), (&[0u32, 1, 2][..], &[1.0, 1.0, 1.0][..]));
    // An island keeps a lone self-link: weight 1 under 'B', 0 under 'R' (esda).
    let iso =
        Weights::distance_band(&[(0.0, 0.0), (10.0, 0.0)], 1.0, BandWeight::Binary).expect("band");
    assert_eq!(
        star_weights(&iso, Transform::Binary).row(0),
        (&[0u32][..], &[1.0][..])
    );
    assert_eq!(
        star_weights(&iso, Transform::RowStandardised).row(0),
        (&[0u32][..], &[0.0][..])
    );
}

#[test]
fn distance_band_is_closed_and_skips_coincident_points() {
    // Grid centres 150 m apart: a 300 m band reaches (±2, 0) but not (±2, ±1) (335 m);
    // 150·1.5 reproduces queen contiguity.
    let g = Grid::covering([0.0, 0.0, 1499.0, 1499.0], 150.0).expect("grid");
    let m = MaskedGrid::new(g, |r, c| (r + c) % 7 != 3);
    let band = Weights::distance_band_cells(&m, 225.0, BandWeight::Binary).expect("band");
    assert_eq!(band, Weights::queen(&m));
    let rook = Weights::distance_band_cells(&m, 150.0, BandWeight::Binary).expect("band");
    assert_eq!(rook, Weights::rook(&m));
    let b300 = Weights::distance_band_cells(&m, 300.0, BandWeight::Binary).expect("band");
    let centre = m.index_of(5, 4).expect("kept");
    let (js, _) = b300.row(centre);
    let mut want = Vec::new();
    for i in 0..m.len() {
        let (r, c) = m.cell(i);
        let (dr, dc) = (f64::from(r) - 5.0, f64::from(c) - 4.0);
        let d2 = dr * dr + dc * dc;
        if d2 > 0.0 && d2 <= 4.0 {
            want.push(i as u32);
        }
    }
    assert_eq!(js, &want[..]);
    assert!(js.contains(&(m.index_of(7, 4).expect("kept") as u32)));
    assert!(!js.contains(&(m.index_of(7, 5).expect("kept") as u32)));
    // Coincident points are not neighbours (libpysal drops zero distances).
    let w = Weights::distance_band(
        &[(0.0, 0.0), (0.0, 0.0), (1.0, 0.0)],
        1.0,
        BandWeight::Binary,
    )
    .expect("band");
    assert_eq!(w.row(0).0, &[2]);
    assert!(Weights::distance_band(&[(0.0, 0.0)], 0.0, BandWeight::Binary).is_err());
    assert!(Weights::distance_band(&[(f64::NAN, 0.0)], 1.0, BandWeight::Binary).is_err());
}

#[test]
fn all_ties_fold_to_the_smallest_p_as_esda_does() {
    // Units 0 and 1 linked, unit 2 an island; y = 1, 2, 2. Unit 0's one neighbour is
    // drawn from units 1 and 2, both 2, so every simulated G* equals the observed one:
    // larger = P, folded to 0, p = 1/(P+1). The island has no test (NaN).
    let pts = [(0.0, 0.0), (1.0, 0.0), (10.0, 0.0)];
    let w = Weights::distance_band(&pts, 1.0, BandWeight::Binary).expect("band");
    let out = gi_star(&[1.0, 2.0, 2.0], &w, &cfg(Transform::Binary, 99, 7)).expect("gi*");
    assert!(out.z[0].is_finite());
    let p = out.p_sim.expect("p_sim");
    assert_eq!(p[0], 0.01);
    assert!(p[2].is_nan());
    // The tie-aware p counts the ties on both sides: (min(P, P) + 1)/(P + 1) = 1.
    let t = out.p_sim_ties.expect("p_sim_ties");
    assert_eq!(t[0], 1.0);
    assert!(t[2].is_nan());
}

#[test]
fn permutation_p_matches_the_exact_conditional_distribution() {
    // Six units on a line, y = 9, 1, 0, 3, 2, 4. Unit 0's one neighbour has y = 1; a
    // random neighbour from {1, 0, 3, 2, 4} is ≥ 1 with probability 4/5, so the folded
    // p takes the low side: (P·1/5 + 1)/(P + 1). Unit 5’s neighbour has y = 2; from
    // {9, 1, 0, 3, 2} P(≥ 2) = 3/5: p ≈ 2/5. Unit 2 (neighbours 1 and 3, sum 4): pairs
    // from {9, 1, 3, 2, 4}, sums ≥ 4 in 9 of 10 pairs (not 1 + 2), so p ≈ 1/10.
    let w = Weights::distance_band(&line_points(6), 1.0, BandWeight::Binary).expect("band");
    let y = [9.0, 1.0, 0.0, 3.0, 2.0, 4.0];
    let perms = 20_000;
    let out = gi_star(&y, &w, &cfg(Transform::Binary, perms, 42)).expect("gi*");
    let p = out.p_sim.expect("p_sim");
    for (i, q) in [(0usize, 0.2), (5, 0.4), (2, 0.1)] {
        let expected = (perms as f64 * q + 1.0) / (perms as f64 + 1.0);
        let se = (q * (1.0 - q) / perms as f64).sqrt();
        assert!(
            (p[i] - expected).abs() < 4.0 * se,
            "unit {i}: {} vs {expected}",
            p[i]
        );
    }
    // Tie-aware p, min(P(sim ≥ obs), P(sim ≤ obs)): unit 0 (obs 1): ≤ 1 is {1, 0},
    // 2/5; unit 5 (obs 2): ≥ 2 {9, 3, 2} and ≤ 2 {1, 0, 2}, both 3/5; unit 2 (sum 4):
    // sums ≤ 4 are 1 + 3 and 1 + 2, 2/10.
    let t = out.p_sim_ties.expect("p_sim_ties");
    for (i, q) in [(0usize, 0.4), (5, 0.6), (2, 0.2)] {
        let expected = (perms as f64 * q + 1.0) / (perms as f64 + 1.0);
        let se = (q * (1.0 - q) / perms as f64).sqrt();
        assert!(
            (t[i] - expected).abs() < 4.0 * se,
            "unit {i}: {} vs {expected}",
            t[i]
        );
    }
}

#[test]
fn permutation_p_is_reproducible_whatever_the_threads() {
    let g = Grid::covering([0.0, 0.0, 2999.0, 2999.0], 100.0).expect("grid");
    let m = MaskedGrid::all(g);
    let w = Weights::queen(&m);
    let y: Vec<f64> = (0..m.len()).map(|i| ((i * 7919) % 13) as f64).collect();
    let run = |threads: usize| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .expect("pool")
            .install(|| gi_star(&y, &w, &cfg(Transform::Binary, 999, 2024)).expect("gi*"))
    };
    let one: GiStar = run(1);
    let three = run(3);
    let p1 = one.p_sim.as_ref().expect("p_sim");
    let p3 = three.p_sim.as_ref().expect("p_sim");
    assert!(p1.iter().zip(p3).all(|(a, b)| a.to_bits() == b.to_bits()));
    let other_seed = gi_star(&y, &w, &cfg(Transform::Binary, 999, 2025)).expect("gi*");
    assert_ne!(other_seed.p_sim.as_ref(), Some(p1));
}

#[test]
fn benjamini_hochberg_hand_case() {
    // m = 5 (NaN not counted). Sorted: 0.005, 0.01, 0.03, 0.04, 0.5; p·m/rank =
    // 0.025, 0.025, 0.05, 0.05, 0.5; running minimum from the top leaves them as is.
    let adj = benjamini_hochberg(&[0.01, 0.04, 0.03, 0.005, 0.5, f64::NAN]);
    let want = [0.025, 0.05, 0.05, 0.025, 0.5];
    for (a, b) in adj.iter().zip(want) {
        assert!((a - b).abs() < 1e-15, "{adj:?}");
    }
    assert!(adj[5].is_nan());
    // The step-up minimum: a larger p with a smaller ratio pulls earlier ranks down, and
    // values are capped at 1.
    let adj = benjamini_hochberg(&[0.02, 0.021, 0.9, 1.0]);
    // ratios 0.08, 0.042, 1.2, 1.0 -> running min from the top 0.042, 0.042, 1, 1.
    let want = [0.042, 0.042, 1.0, 1.0];
    for (a, b) in adj.iter().zip(want) {
        assert!((a - b).abs() < 1e-15, "{adj:?}");
    }
    assert!(benjamini_hochberg(&[]).is_empty());
}

/// Checks our z against esda's to 1e-9 (NaN where esda has NaN) and our p_sim against
/// esda's within Monte Carlo error. Returns the fractions significant at 0.05 (ours,
/// esda's) over the units compared.
fn compare(
    name: &str,
    ours: &GiStar,
    esda_z: &[f64],
    esda_p: &[f64],
    skip_p: &[usize],
) -> (f64, f64) {
    assert_eq!(ours.z.len(), esda_z.len());
    for (i, (&a, &b)) in ours.z.iter().zip(esda_z).enumerate() {
        if b.is_nan() {
            assert!(a.is_nan(), "{name} unit {i}: z {a} vs NaN");
        } else {
            assert!((a - b).abs() <= 1e-9, "{name} unit {i}: z {a} vs {b}");
        }
    }
    let perms = 999.0;
    let p = ours.p_sim.as_ref().expect("p_sim");
    let (mut sig_ours, mut sig_esda, mut compared, mut worst) = (0usize, 0usize, 0usize, 0.0f64);
    for i in 0..p.len() {
        if skip_p.contains(&i) || esda_z[i].is_nan() {
            continue;
        }
        compared += 1;
        let (a, b) = (p[i], esda_p[i]);
        // Each pseudo p estimates a tail probability q from P draws: the difference of
        // two independent estimates has variance 2 q (1 − q) / P.
        let q = ((a + b) / 2.0).max(1.0 / perms);
        let se = (2.0 * q * (1.0 - q) / perms).sqrt();
        worst = worst.max((a - b).abs() / se);
        // esda stores p_sim as float32, so its 50/1000 reads 0.0500000007: compare
        // with a margin far below the 1/1000 resolution.
        sig_ours += usize::from(a <= 0.05 + 1e-6);
        sig_esda += usize::from(b <= 0.05 + 1e-6);
    }
    assert!(
        worst <= 4.5,
        "{name}: largest p_sim difference {worst:.2} standard errors"
    );
    let (fo, fe) = (
        sig_ours as f64 / compared as f64,
        sig_esda as f64 / compared as f64,
    );
    // Fractions significant: their difference has a standard error below 0.5/sqrt(n).
    assert!(
        (fo - fe).abs() <= 4.0 * 0.5 / (compared as f64).sqrt(),
        "{name}: significant {fo} vs {fe}"
    );
    eprintln!(
        "{name}: worst p_sim difference {worst:.2} SE; significant at 0.05: ours {fo:.4}, esda {fe:.4} of {compared}"
    );
    (fo, fe)
}

#[test]
fn philadelphia_queen_matches_esda() {
    let meta = meta();
    let f = |k: &str| meta[k].as_f64().expect("number");
    let cells = read_csv("cells.csv");
    let grid = masked_grid(&cells[0], &cells[1], f("x0"), f("y0"), f("cell"));
    assert_eq!(grid.len(), 11_884);
    let y = &cells[2];
    let w = Weights::queen(&grid);
    let islands: Vec<usize> = meta["queen_islands"]
        .as_array()
        .expect("islands")
        .iter()
        .map(|v| v.as_u64().expect("index") as usize)
        .collect();
    let found: Vec<usize> = (0..w.n()).filter(|&i| w.cardinality(i) == 0).collect();
    assert_eq!(found, islands, "our queen islands are libpysal's");
    let moments = read_csv("queen_moments.csv");
    for (t, name, col) in [
        (Transform::Binary, "queen_B.csv", 1),
        (Transform::RowStandardised, "queen_R.csv", 3),
    ] {
        let out = gi_star(y, &w, &cfg(t, 999, 20240101)).expect("gi*");
        let esda = read_csv(name);
        // Moments by number of links (self included): esda's EG and VG.
        for i in 0..w.n() {
            let k = w.cardinality(i) + 1;
            let row = moments[0].iter().position(|&v| v as usize == k).expect("k");
            let (eg, vg) = (moments[col][row], moments[col + 1][row]);
            assert!(
                (out.expected[i] - eg).abs() <= 1e-15 * eg.abs().max(1e-300) + 1e-20,
                "{name} EG {i}"
            );
            assert!(
                (out.variance[i] - vg).abs() <= 1e-12 * vg.abs(),
                "{name} VG {i}"
            );
        }
        // Islands: esda reports 1/(P+1) (an artefact), Streetlight NaN.
        let p = out.p_sim.as_ref().expect("p_sim");
        for &i in &islands {
            assert!(p[i].is_nan());
            assert!((esda[1][i] - 0.001).abs() < 1e-9);
        }
        compare(name, &out, &esda[0], &esda[1], &islands);
    }
}

#[test]
fn philadelphia_distance_bands_match_esda_and_scipy_bh() {
    let meta = meta();
    let f = |k: &str| meta[k].as_f64().expect("number");
    let cells = read_csv("band.csv");
    let grid = masked_grid(&cells[0], &cells[1], f("x0"), f("y0"), f("cell"));
    let y = &cells[2];
    for case in meta["band_cases"].as_array().expect("cases") {
        let name = case["name"].as_str().expect("name");
        let threshold = case["threshold"].as_f64().expect("threshold");
        let weight = if case["binary"].as_bool().expect("binary") {
            BandWeight::Binary
        } else {
            BandWeight::Power(case["alpha"].as_f64().expect("alpha"))
        };
        let transform = match case["transform"].as_str().expect("transform") {
            "B" => Transform::Binary,
            _ => Transform::RowStandardised,
        };
        let w = Weights::distance_band_cells(&grid, threshold, weight).expect("band");
        let out = gi_star(y, &w, &cfg(transform, 999, 7)).expect("gi*");
        let esda = read_csv(&format!("band_{name}.csv"));
        let islands: Vec<usize> = (0..w.n()).filter(|&i| w.cardinality(i) == 0).collect();
        compare(name, &out, &esda[0], &esda[1], &islands);
        // Benjamini–Hochberg on esda's own p_sim, against scipy (checked equal to
        // statsmodels when the fixture was made).
        let bh = benjamini_hochberg(&esda[1]);
        for (i, (a, b)) in bh.iter().zip(&esda[2]).enumerate() {
            assert!((a - b).abs() <= 1e-15, "{name} BH {i}: {a} vs {b}");
        }
    }
}
