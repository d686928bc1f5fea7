//! Kernel density: hand-computed cases and a reference run on real Vancouver points
//! (tests/data/kde, produced by make_fixture.py with scikit-learn and numpy).

use std::f64::consts::{LN_2, PI};

use sl_analytics::grid::{Grid, MaskedGrid};
use sl_analytics::kde::{
    Bandwidth, KdeConfig, KdeError, Kernel, adaptive_bandwidths, default_bandwidth, kde_grid,
};

const FIXED_QUARTIC_300: KdeConfig = KdeConfig {
    kernel: Kernel::Quartic,
    bandwidth: Bandwidth::Fixed(300.0),
};

fn grid_1km() -> MaskedGrid {
    MaskedGrid::all(Grid::covering([0.0, 0.0, 999.0, 999.0], 100.0).expect("grid"))
}

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol * b.abs().max(1e-300)
}

/// One event at the centre of cell (4, 4), h = 300 m = 0.3 km:
/// K(0) = 3/(π·0.09) per km²; one cell east (d = 100 m) it is K(0)·(1 − 1/9)² = K(0)·64/81;
/// three cells east d = h exactly, and the quartic is zero there.
#[test]
fn quartic_single_point() {
    let g = grid_1km();
    let d = kde_grid(&[(450.0, 450.0)], None, &g, &FIXED_QUARTIC_300).expect("kde");
    let k0 = 3.0 / (PI * 0.09);
    let at = |r, c| d[g.index_of(r, c).expect("kept")];
    assert!(close(at(4, 4), k0, 1e-14));
    assert!(close(at(4, 5), k0 * 64.0 / 81.0, 1e-14));
    // Diagonal neighbour: d² = 2·100², (1 − 2/9)² = 49/81.
    assert!(close(at(5, 5), k0 * 49.0 / 81.0, 1e-14));
    assert_eq!(at(4, 7), 0.0);
    assert_eq!(at(0, 0), 0.0);
}

/// Two events, weights 2 and 0.5: the surface is the weighted sum of the kernels.
#[test]
fn quartic_two_weighted_points() {
    let g = grid_1km();
    let pts = [(450.0, 450.0), (650.0, 450.0)];
    let d = kde_grid(&pts, Some(&[2.0, 0.5]), &g, &FIXED_QUARTIC_300).expect("kde");
    let k0 = 3.0 / (PI * 0.09);
    let at = |r, c| d[g.index_of(r, c).expect("kept")];
    // Cell (4, 5) is 100 m from both events.
    assert!(close(at(4, 5), 2.5 * k0 * 64.0 / 81.0, 1e-14));
    // Cell (4, 4): d = 0 from the first, 200 m from the second ((1 − 4/9)² = 25/81).
    assert!(close(at(4, 4), k0 * (2.0 + 0.5 * 25.0 / 81.0), 1e-14));
    // Unweighted equals weights of one.
    let a = kde_grid(&pts, None, &g, &FIXED_QUARTIC_300).expect("kde");
    let b = kde_grid(&pts, Some(&[1.0, 1.0]), &g, &FIXED_QUARTIC_300).expect("kde");
    assert_eq!(a, b);
}

/// The Gaussian at d: exp(−d²/2h²)/(2πh²); zero beyond the cutoff.
#[test]
fn gaussian_single_point_and_cutoff() {
    let g = grid_1km();
    let h = 100.0;
    let cfg = KdeConfig {
        kernel: Kernel::GAUSSIAN,
        bandwidth: Bandwidth::Fixed(h),
    };
    let d = kde_grid(&[(50.0, 50.0)], None, &g, &cfg).expect("kde");
    let k0 = 1.0e6 / (2.0 * PI * h * h);
    let at = |r, c| d[g.index_of(r, c).expect("kept")];
    assert!(close(at(0, 0), k0, 1e-14));
    assert!(close(at(0, 3), k0 * (-4.5f64).exp(), 1e-14));
    // d = 400 = 4h is inside (≤), d = 500 outside.
    assert!(close(at(0, 4), k0 * (-8.0f64).exp(), 1e-14));
    assert_eq!(at(0, 5), 0.0);
    assert_eq!(at(3, 3), 0.0); // d = 424 m > 4h
}

/// Density × cell area summed over a fine grid recovers the number of events.
#[test]
fn surface_integrates_to_event_count() {
    let g = MaskedGrid::all(Grid::covering([-1000.0, -1000.0, 999.0, 999.0], 10.0).expect("grid"));
    let pts = [(0.0, 0.0), (123.0, -77.0), (-300.0, 250.0)];
    let area_km2 = 1e-4;
    let quartic = KdeConfig {
        kernel: Kernel::Quartic,
        bandwidth: Bandwidth::Fixed(200.0),
    };
    let q: f64 = kde_grid(&pts, None, &g, &quartic)
        .expect("kde")
        .iter()
        .sum::<f64>()
        * area_km2;
    assert!((q - 3.0).abs() < 1e-3, "quartic integral {q}");
    let gaussian = KdeConfig {
        kernel: Kernel::GAUSSIAN,
        bandwidth: Bandwidth::Fixed(100.0),
    };
    let s: f64 = kde_grid(&pts, None, &g, &gaussian)
        .expect("kde")
        .iter()
        .sum::<f64>()
        * area_km2;
    let expected = 3.0 * (1.0 - (-8.0f64).exp());
    assert!((s - expected).abs() < 1e-3, "gaussian integral {s}");
    // Weighted: the integral is the sum of weights.
    let w: f64 = kde_grid(&pts, Some(&[0.5, 2.0, 4.0]), &g, &quartic)
        .expect("kde")
        .iter()
        .sum::<f64>()
        * area_km2;
    assert!((w - 6.5).abs() < 3e-3, "weighted integral {w}");
}

/// A mask only removes cells: kept cells have the full grid's values.
#[test]
fn mask_keeps_values() {
    let grid = Grid::covering([0.0, 0.0, 999.0, 999.0], 100.0).expect("grid");
    let full = MaskedGrid::all(grid);
    let masked = MaskedGrid::new(grid, |r, c| (r + c) % 3 != 0);
    let pts = [(420.0, 480.0), (610.0, 200.0), (100.0, 900.0)];
    let a = kde_grid(&pts, None, &full, &FIXED_QUARTIC_300).expect("kde");
    let b = kde_grid(&pts, None, &masked, &FIXED_QUARTIC_300).expect("kde");
    assert_eq!(b.len(), masked.len());
    for (i, &(r, c)) in masked.cells().iter().enumerate() {
        assert_eq!(b[i], a[full.index_of(r, c).expect("kept")]);
    }
}

/// Abramson by hand: pilot quartic h_p = 100; A = (0, 0), B = (60, 0), C = (1000, 0).
/// f̃(A) = f̃(B) = k·(1 + 0.64²) = k·1.4096, f̃(C) = k; g = k·1.4096^(2/3);
/// λ_A = λ_B = 1.4096^(−1/6), λ_C = 1.4096^(1/3).
#[test]
fn abramson_hand_case() {
    let pts = [(0.0, 0.0), (60.0, 0.0), (1000.0, 0.0)];
    let h = adaptive_bandwidths(&pts, None, Kernel::Quartic, 100.0, 250.0).expect("bandwidths");
    let r = 1.4096f64;
    assert!(close(h[0], 250.0 * r.powf(-1.0 / 6.0), 1e-13));
    assert!(close(h[1], 250.0 * r.powf(-1.0 / 6.0), 1e-13));
    assert!(close(h[2], 250.0 * r.powf(1.0 / 3.0), 1e-13));
    // The geometric mean of λ is 1.
    let prod: f64 = h.iter().map(|v| v / 250.0).product();
    assert!(close(prod, 1.0, 1e-13));
}

/// With a uniform pilot (all events equally dense) adaptive equals fixed.
#[test]
fn adaptive_reduces_to_fixed_when_pilot_is_uniform() {
    let g = MaskedGrid::all(Grid::covering([0.0, 0.0, 2999.0, 2999.0], 50.0).expect("grid"));
    // Isolated events: each pilot density is K(0) alone.
    let far = [(500.0, 500.0), (2500.0, 600.0), (1500.0, 2400.0)];
    // Vertices of a square: equal neighbourhoods by symmetry.
    let square = [
        (1400.0, 1400.0),
        (1600.0, 1400.0),
        (1600.0, 1600.0),
        (1400.0, 1600.0),
    ];
    for (kernel, pts) in [
        (Kernel::Quartic, &far[..]),
        (Kernel::GAUSSIAN, &far[..]),
        (Kernel::Quartic, &square[..]),
    ] {
        let fixed = kde_grid(
            pts,
            None,
            &g,
            &KdeConfig {
                kernel,
                bandwidth: Bandwidth::Fixed(200.0),
            },
        )
        .expect("kde");
        let adaptive = kde_grid(
            pts,
            None,
            &g,
            &KdeConfig {
                kernel,
                bandwidth: Bandwidth::Adaptive {
                    pilot: 300.0,
                    global: 200.0,
                },
            },
        )
        .expect("kde");
        for (a, b) in fixed.iter().zip(&adaptive) {
            assert!((a - b).abs() <= 1e-12 * a.abs().max(1.0), "{a} vs {b}");
        }
    }
}

/// The same result bit for bit on one thread and on several.
#[test]
fn thread_count_does_not_change_results() {
    let g = MaskedGrid::all(Grid::covering([0.0, 0.0, 4999.0, 4999.0], 50.0).expect("grid"));
    let pts: Vec<(f64, f64)> = (0..2000)
        .map(|i| {
            let t = f64::from(i);
            (
                2500.0 + 2000.0 * (t * 0.37).sin(),
                2500.0 + 2000.0 * (t * 0.61).cos(),
            )
        })
        .collect();
    let cfg = KdeConfig {
        kernel: Kernel::Quartic,
        bandwidth: Bandwidth::Adaptive {
            pilot: 250.0,
            global: 250.0,
        },
    };
    let run = |threads| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .expect("pool")
            .install(|| kde_grid(&pts, None, &g, &cfg).expect("kde"))
    };
    let one = run(1);
    assert!(one.iter().any(|v| *v > 0.0));
    assert_eq!(one, run(2));
    assert_eq!(one, run(5));
}

#[test]
fn bad_inputs_are_errors() {
    let g = grid_1km();
    let pts = [(1.0, 1.0)];
    let fixed = |h| KdeConfig {
        kernel: Kernel::Quartic,
        bandwidth: Bandwidth::Fixed(h),
    };
    assert_eq!(
        kde_grid(&pts, None, &g, &fixed(0.0)),
        Err(KdeError::BadBandwidth(0.0))
    );
    assert!(matches!(
        kde_grid(&pts, Some(&[-1.0]), &g, &fixed(10.0)),
        Err(KdeError::BadWeight { index: 0, .. })
    ));
    assert!(matches!(
        kde_grid(&pts, Some(&[]), &g, &fixed(10.0)),
        Err(KdeError::WeightCount {
            points: 1,
            weights: 0
        })
    ));
    assert_eq!(
        kde_grid(&[(f64::NAN, 0.0)], None, &g, &fixed(10.0)),
        Err(KdeError::BadPoint { index: 0 })
    );
    let bad_cutoff = KdeConfig {
        kernel: Kernel::Gaussian { cutoff: 0.0 },
        bandwidth: Bandwidth::Fixed(10.0),
    };
    assert_eq!(
        kde_grid(&pts, None, &g, &bad_cutoff),
        Err(KdeError::BadCutoff(0.0))
    );
    // No events: a zero surface.
    assert!(
        kde_grid(&[], None, &g, &fixed(10.0))
            .expect("kde")
            .iter()
            .all(|v| *v == 0.0)
    );
}

/// ArcGIS Pro's rule by hand. Four points on the unit circle: SD = 1, Dm = 1,
/// min(1, √(1/ln 2)) = 1, h = 0.9·4^(−0.2). With two far outliers at ±20 the median
/// distance (1) wins: h = 0.9·√(1/ln 2)·6^(−0.2).
#[test]
fn default_bandwidth_hand_cases() {
    let circle = [(1.0, 0.0), (-1.0, 0.0), (0.0, 1.0), (0.0, -1.0)];
    let h = default_bandwidth(&circle).expect("bandwidth");
    assert!(close(h, 0.9 * 4f64.powf(-0.2), 1e-14));
    let mut outliers = circle.to_vec();
    outliers.extend([(20.0, 0.0), (-20.0, 0.0)]);
    let h = default_bandwidth(&outliers).expect("bandwidth");
    assert!(close(h, 0.9 * (1.0 / LN_2).sqrt() * 6f64.powf(-0.2), 1e-14));
    assert_eq!(default_bandwidth(&[(1.0, 1.0)]), None);
    assert_eq!(default_bandwidth(&[(1.0, 1.0), (1.0, 1.0)]), None);
}

fn fixture(name: &str) -> String {
    let path = format!("{}/tests/data/kde/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).expect("fixture")
}

fn rows(text: &str) -> Vec<Vec<f64>> {
    text.lines()
        .skip(1)
        .map(|l| l.split(',').map(|v| v.parse().expect("number")).collect())
        .collect()
}

/// Real data: 886 residential break-ins, Vancouver 2025, against scikit-learn's
/// Gaussian KernelDensity and a numpy brute force for the quartic (fixed and adaptive).
#[test]
fn vancouver_reference() {
    let pts: Vec<(f64, f64)> = rows(&fixture("points.csv"))
        .iter()
        .map(|r| (r[0], r[1]))
        .collect();
    assert_eq!(pts.len(), 886);
    let reference = rows(&fixture("densities.csv"));
    let keep: std::collections::HashSet<(u32, u32)> = reference
        .iter()
        .map(|r| (r[0] as u32, r[1] as u32))
        .collect();
    let grid =
        Grid::covering([490_000.0, 5_455_000.0, 492_999.0, 5_457_999.0], 100.0).expect("grid");
    let g = MaskedGrid::new(grid, |r, c| keep.contains(&(r, c)));
    assert_eq!(g.len(), reference.len());
    let run = |kernel, bandwidth| {
        kde_grid(&pts, None, &g, &KdeConfig { kernel, bandwidth }).expect("kde")
    };

    let quartic = run(Kernel::Quartic, Bandwidth::Fixed(300.0));
    let gaussian_exact = run(Kernel::Gaussian { cutoff: 40.0 }, Bandwidth::Fixed(200.0));
    let gaussian = run(Kernel::GAUSSIAN, Bandwidth::Fixed(200.0));
    let adaptive = run(
        Kernel::Quartic,
        Bandwidth::Adaptive {
            pilot: 300.0,
            global: 300.0,
        },
    );
    // The truncated Gaussian loses at most K(4h) per event at any cell.
    let bound = 886.0 * 1e6 / (2.0 * PI * 200.0 * 200.0) * (-8.0f64).exp();
    let (mut worst_q, mut worst_g, mut worst_a, mut worst_cut) = (0.0f64, 0.0f64, 0.0f64, 0.0f64);
    for (i, r) in reference.iter().enumerate() {
        assert_eq!(g.cell(i), (r[0] as u32, r[1] as u32));
        let rel = |a: f64, b: f64| (a - b).abs() / b.abs().max(1e-9);
        worst_q = worst_q.max(rel(quartic[i], r[2]));
        worst_g = worst_g.max(rel(gaussian_exact[i], r[3]));
        worst_a = worst_a.max(rel(adaptive[i], r[4]));
        worst_cut = worst_cut.max(r[3] - gaussian[i]);
        assert!(gaussian[i] <= r[3] * (1.0 + 1e-12));
    }
    assert!(worst_q < 1e-10, "quartic vs numpy: {worst_q}");
    assert!(worst_g < 1e-10, "gaussian vs scikit-learn: {worst_g}");
    assert!(worst_a < 1e-10, "adaptive vs numpy: {worst_a}");
    assert!(worst_cut <= bound, "cutoff loss {worst_cut} > {bound}");
    // Some cells are non-zero and some zero: the window is informative.
    assert!(quartic.iter().filter(|v| **v > 0.0).count() > 100);

    let h_ref: Vec<f64> = rows(&fixture("adaptive_bandwidths.csv"))
        .iter()
        .map(|r| r[0])
        .collect();
    let h = adaptive_bandwidths(&pts, None, Kernel::Quartic, 300.0, 300.0).expect("bandwidths");
    for (a, b) in h.iter().zip(&h_ref) {
        assert!(close(*a, *b, 1e-11), "{a} vs {b}");
    }
    let d_ref: f64 = fixture("default_bandwidth.txt")
        .trim()
        .parse()
        .expect("number");
    let d = default_bandwidth(&pts).expect("bandwidth");
    assert!(close(d, d_ref, 1e-12), "{d} vs {d_ref}");
}
