//! Poisson GLM forecaster (`forecast::glm`): IRLS against statsmodels and scikit-learn
//! on a fixed design, simulate-and-recover, features by hand (no leakage), and the
//! Philadelphia residential-burglary backtest (fixtures in `tests/data/forecast-glm`).

use std::time::Instant;

use sl_analytics::forecast::backtest::{BacktestConfig, backtest};
use sl_analytics::forecast::glm::{FeatureTable, Glm, PoissonFit, fit_poisson};
use sl_analytics::forecast::hotspot::Retrospective;
use sl_analytics::forecast::naive::RecentCounts;
use sl_analytics::forecast::{Event, Forecast, ForecastError, Forecaster, Training};
use sl_analytics::grid::{Grid, MaskedGrid};
use sl_analytics::rng::{stream, unit};

fn data(dir: &str, name: &str) -> String {
    let path = format!("{}/tests/data/{dir}/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn poisson(rng: &mut sl_analytics::rng::SeededRng, mean: f64) -> f64 {
    // Knuth's product of uniforms (means here are small).
    let limit = (-mean).exp();
    let mut k = 0.0;
    let mut prod = unit(rng);
    while prod > limit {
        k += 1.0;
        prod *= unit(rng);
    }
    k
}

/// The fixed design of `design.csv`: statsmodels' maximum-likelihood GLM(Poisson) and
/// scikit-learn's `PoissonRegressor(alpha)` (newton-cholesky, tol 1e-14) with the same
/// weights, to 1e-8.
#[test]
fn irls_matches_statsmodels_and_sklearn() {
    let text = data("forecast-glm", "design.csv");
    let (mut x, mut y, mut w) = (Vec::new(), Vec::new(), Vec::new());
    for line in text.lines().skip(1) {
        let v: Vec<f64> = line
            .split(',')
            .map(|s| s.parse().expect("number"))
            .collect();
        x.extend_from_slice(&[1.0, v[0], v[1], v[2]]);
        y.push(v[3]);
        w.push(v[4]);
    }
    assert_eq!(y.len(), 400);
    let reference: serde_json::Value =
        serde_json::from_str(&data("forecast-glm", "reference.json")).expect("json");
    let cases = [("mle", 0.0), ("ridge_0.01", 0.01), ("ridge_0.1", 0.1)];
    for (key, alpha) in cases {
        let fit = fit_poisson(&x, 4, &y, &w, &[0.0, alpha, alpha, alpha], 1e-12, 100).expect("fit");
        let want: Vec<f64> = reference[key]
            .as_array()
            .expect("array")
            .iter()
            .map(|v| v.as_f64().expect("number"))
            .collect();
        for (j, (a, b)) in fit.coefficients.iter().zip(&want).enumerate() {
            assert!((a - b).abs() < 1e-8, "{key} β{j}: {a} vs {b}");
        }
        assert!(fit.iterations < 20, "{key}: {} iterations", fit.iterations);
    }
}

/// Counts simulated from known β (n = 20,000): the maximum-likelihood fit recovers β
/// within 4 standard errors (from the inverse information at the truth), and a hand
/// case: one binary feature gives the log of each group's mean exactly.
#[test]
fn irls_recovers_known_coefficients() {
    let beta = [-1.0, 0.5, -0.7, 0.3];
    let n = 20_000;
    let mut rng = stream(7, 0);
    let (mut x, mut y) = (Vec::new(), Vec::new());
    for _ in 0..n {
        let row = [
            1.0,
            unit(&mut rng) * 2.0 - 1.0,
            unit(&mut rng),
            f64::from(unit(&mut rng) < 0.5),
        ];
        let eta: f64 = row.iter().zip(&beta).map(|(a, b)| a * b).sum();
        y.push(poisson(&mut rng, eta.exp()));
        x.extend_from_slice(&row);
    }
    let w = vec![1.0; n];
    let fit = fit_poisson(&x, 4, &y, &w, &[0.0; 4], 1e-10, 100).expect("fit");
    // Standard errors: sqrt(diag((Σ μ x xᵀ)⁻¹)), by Gauss–Jordan on the 4 × 4 matrix.
    let mut info = [[0.0; 8]; 4];
    for i in 0..n {
        let r = &x[i * 4..i * 4 + 4];
        let mu = r.iter().zip(&beta).map(|(a, b)| a * b).sum::<f64>().exp();
        for a in 0..4 {
            for b in 0..4 {
                info[a][b] += mu * r[a] * r[b];
            }
        }
    }
    for (a, row) in info.iter_mut().enumerate() {
        row[4 + a] = 1.0;
    }
    for c in 0..4 {
        let piv = info[c][c];
        for v in info[c].iter_mut() {
            *v /= piv;
        }
        for r in 0..4 {
            if r != c {
                let f = info[r][c];
                let pivot_row = info[c];
                for (v, p) in info[r].iter_mut().zip(pivot_row) {
                    *v -= f * p;
                }
            }
        }
    }
    for j in 0..4 {
        let se = info[j][4 + j].sqrt();
        let err = fit.coefficients[j] - beta[j];
        assert!(
            err.abs() < 4.0 * se,
            "β{j}: {} vs {} (se {se})",
            fit.coefficients[j],
            beta[j]
        );
        assert!(se < 0.05);
    }

    // Hand case: groups x = 0 (y = 1, 2, 3; mean 2) and x = 1 (y = 4, 6; mean 5):
    // β₀ = ln 2, β₁ = ln 5 − ln 2.
    let x = [1.0, 0.0, 1.0, 0.0, 1.0, 0.0, 1.0, 1.0, 1.0, 1.0];
    let y = [1.0, 2.0, 3.0, 4.0, 6.0];
    let fit = fit_poisson(&x, 2, &y, &[1.0; 5], &[0.0; 2], 1e-12, 100).expect("fit");
    assert!((fit.coefficients[0] - 2f64.ln()).abs() < 1e-12);
    assert!((fit.coefficients[1] - (5f64.ln() - 2f64.ln())).abs() < 1e-12);
    // Weights are frequency weights: a weight of 2 is the row twice.
    let fit2 = fit_poisson(
        &[1.0, 0.0, 1.0, 0.0, 1.0, 1.0],
        2,
        &[1.0, 3.0, 5.0],
        &[1.0, 1.0, 2.0],
        &[0.0; 2],
        1e-12,
        100,
    )
    .expect("fit");
    assert!((fit2.coefficients[0] - 2f64.ln()).abs() < 1e-12);
    assert!((fit2.coefficients[1] - (5f64.ln() - 2f64.ln())).abs() < 1e-12);
    // No events: nothing to fit.
    assert!(matches!(
        fit_poisson(&x, 2, &[0.0; 5], &[1.0; 5], &[0.0; 2], 1e-12, 100),
        Err(ForecastError::TooFewEvents { .. })
    ));
}

fn tiny_grid() -> MaskedGrid {
    // 3 × 3 cells of 100 m; the north-east corner (row 2, col 2) masked out.
    MaskedGrid::new(
        Grid {
            x0: 0.0,
            y0: 0.0,
            cell: 100.0,
            rows: 3,
            cols: 3,
        },
        |r, c| (r, c) != (2, 2),
    )
}

/// Features written out by hand on a 3 × 3 grid, and no leakage: an event at the
/// period start does not count.
#[test]
fn features_by_hand() {
    let grid = tiny_grid();
    let events = [
        Event {
            x: 150.0,
            y: 150.0,
            t: 0.0,
        }, // centre cell (1,1), masked index 4
        Event {
            x: 160.0,
            y: 140.0,
            t: 20.0,
        }, // centre cell
        Event {
            x: 50.0,
            y: 50.0,
            t: 25.0,
        }, // (0,0), index 0
        Event {
            x: 250.0,
            y: 250.0,
            t: 26.0,
        }, // (2,2), masked out
        Event {
            x: 150.0,
            y: 150.0,
            t: 30.0,
        }, // centre, at the period start: excluded
    ];
    let glm = Glm {
        half_lives: vec![10.0],
        recent_days: 7.0,
        neighbour_half_life: 20.0,
        kernel_radius: 150.0,
        kernel_half_life: 5.0,
        near_repeat_radius: 100.0,
        near_repeat_days: 6.0,
        ..Glm::default()
    };
    let names = glm.feature_names();
    assert_eq!(
        names,
        [
            "log_decay_10d",
            "log_recent_7d",
            "log_neighbours",
            "log_kernel",
            "log_near_repeat",
            "season_sin",
            "season_cos"
        ]
    );
    let q = names.len();
    let table = glm
        .features(&events, &grid, &[22.0, 30.0], 7.0)
        .expect("features");
    let f = |period: usize, cell: usize, j: usize| table.values[period][cell * q + j];
    let close = |a: f64, b: f64| (a - b).abs() < 1e-12;
    let h = |age: f64, hl: f64| 0.5f64.powf(age / hl);
    // Period starting at 22: centre cell has events at 0 and 20.
    assert!(close(f(0, 4, 0), (1.0 + h(22.0, 10.0) + h(2.0, 10.0)).ln()));
    assert!(close(f(0, 4, 1), 2f64.ln())); // one event in [15, 22)
    assert!(close(f(0, 0, 0), 0.0)); // (0,0)'s event is at 25, after 22
    // Period starting at 30: the event at 30 is not seen.
    assert!(close(
        f(1, 4, 0),
        (1.0 + h(30.0, 10.0) + h(10.0, 10.0)).ln()
    ));
    assert!(close(f(1, 4, 1), 0.0)); // nothing in [23, 30) in the centre
    assert!(close(f(1, 0, 1), 2f64.ln())); // (0,0): the event at 25
    // Neighbours of (0,0), index 0: (0,1), (1,0), (1,1) → only the centre's events.
    assert!(close(
        f(1, 0, 2),
        (1.0 + h(30.0, 20.0) + h(10.0, 20.0)).ln()
    ));
    // Neighbours of the centre: (0,0) has the event at 25; (2,2) is masked out.
    assert!(close(f(1, 4, 2), (1.0 + h(5.0, 20.0)).ln()));
    // Kernel at the centre cell (150, 150): events within 150 m at 0 (d = 0), 20
    // (d² = 200), 25 (d² = 20,000), 26 (d² = 20,000, masked-out cell but counted).
    let k = |d2: f64| 3.0 / (std::f64::consts::PI * 150.0 * 150.0) * (1.0 - d2 / 22_500.0).powi(2);
    let want = 10_000.0
        * (k(0.0) * h(30.0, 5.0)
            + k(200.0) * h(10.0, 5.0)
            + k(20_000.0) * h(5.0, 5.0)
            + k(20_000.0) * h(4.0, 5.0));
    assert!(close(f(1, 4, 3), want.ln_1p()));
    // Near repeats within 100 m of each centre in [24, 30): events at 25 and 26.
    // Centre (150,150): both are 141 m away → 0. Cell (0,0) centre (50,50): the event
    // at 25 (d = 0) → 1. Cell (1,2) (index 5, centre (250,150)): the event at 26
    // (d = 100) → 1.
    assert!(close(f(1, 4, 4), 0.0));
    assert!(close(f(1, 0, 4), 2f64.ln()));
    assert!(close(f(1, 5, 4), 2f64.ln()));
    // Seasonality at the period's midpoint.
    let phase = std::f64::consts::TAU * 33.5 / 365.2425;
    assert!(close(f(1, 3, 5), phase.sin()) && close(f(1, 3, 6), phase.cos()));
}

fn static_case() -> (MaskedGrid, Vec<f64>, Vec<Event>) {
    let grid = MaskedGrid::all(Grid {
        x0: 0.0,
        y0: 0.0,
        cell: 150.0,
        rows: 40,
        cols: 40,
    });
    let rate: Vec<f64> = grid
        .cells()
        .iter()
        .map(|&(r, c)| {
            let (dx, dy) = (f64::from(c) - 12.0, f64::from(r) - 25.0);
            0.002 + 0.04 * (-(dx * dx + dy * dy) / 30.0).exp()
        })
        .collect(); // events per day
    let mut rng = stream(11, 0);
    let days = 3.0 * 365.0;
    let mut events = Vec::new();
    for (i, &lam) in rate.iter().enumerate() {
        let (r, c) = grid.cell(i);
        let n = poisson(&mut rng, lam * days) as usize;
        for _ in 0..n {
            events.push(Event {
                x: (f64::from(c) + unit(&mut rng)) * 150.0,
                y: (f64::from(r) + unit(&mut rng)) * 150.0,
                t: unit(&mut rng) * days,
            });
        }
    }
    events.sort_by(|a, b| a.t.total_cmp(&b.t));
    (grid, rate, events)
}

/// The full cells × weeks design of `glm` over the `periods` weeks before `origin`
/// (features from `Glm::features`, counted targets, every row, weight 1) fitted by
/// `fit_poisson` without penalty: the feature table (its last entry is the origin's),
/// the fit, and the number of rows.
pub(crate) fn plain_fit(
    glm: &Glm,
    events: &[Event],
    grid: &MaskedGrid,
    origin: f64,
    periods: usize,
) -> (FeatureTable, PoissonFit, usize) {
    let starts: Vec<f64> = (0..=periods)
        .map(|j| origin - (periods - j) as f64 * 7.0)
        .collect();
    let table = glm.features(events, grid, &starts, 7.0).expect("features");
    let q = table.names.len();
    let (mut x, mut y) = (Vec::new(), Vec::new());
    for j in 0..periods {
        let mut counts = vec![0.0; grid.len()];
        for e in events
            .iter()
            .filter(|e| e.t >= starts[j] && e.t < starts[j + 1])
        {
            counts[grid.index_of_point(e.x, e.y).expect("on grid")] += 1.0;
        }
        for (c, row) in table.values[j].chunks(q).enumerate() {
            x.push(1.0);
            x.extend_from_slice(row);
            y.push(counts[c]);
        }
    }
    let w = vec![1.0; y.len()];
    let plain = fit_poisson(&x, q + 1, &y, &w, &vec![0.0; q + 1], 1e-11, 100).expect("fit");
    (table, plain, y.len())
}

/// The forecast's intercept and feature coefficients (its first parameters) equal the
/// plain fit's to 1e-6.
pub(crate) fn assert_same_coefficients(f: &Forecast, plain: &PoissonFit) {
    for (j, b) in plain.coefficients.iter().enumerate() {
        let got = f.parameters[j].1;
        assert!(
            (got - b).abs() < 1e-6 * b.abs().max(1.0),
            "{}: {got} vs {b}",
            f.parameters[j].0
        );
    }
}

/// The whole pipeline against a plain fit: with every row kept and no penalty, the
/// forecaster's coefficients (after merging all-zero rows and standardising) equal the
/// maximum-likelihood fit of `fit_poisson` on the full, raw cells × periods design built
/// from `Glm::features` and counted targets, and its scores are that fit's means at the
/// origin.
#[test]
fn forecast_equals_plain_fit_on_full_design() {
    let (grid, _, events) = static_case();
    // Ten more columns to the east without events: all-zero rows, merged by the model.
    let grid = MaskedGrid::all(Grid {
        cols: 50,
        ..*grid.grid()
    });
    let days = 3.0 * 365.0;
    let glm = Glm {
        ridge: 0.0,
        zero_sampling: 1.0,
        periods: 20,
        ..Glm::default()
    };
    let t = Training {
        events: &events,
        grid: &grid,
        origin: days,
        horizon: 7.0,
        seed: 5,
    };
    let f = glm.forecast(&t).expect("forecast");
    let (table, plain, rows) = plain_fit(&glm, &events, &grid, days, 20);
    let q = table.names.len();
    let param = |name: &str| f.parameters.iter().find(|p| p.0 == name).expect(name).1;
    assert_eq!(param("training_rows"), rows as f64);
    assert!(param("fitted_rows") < param("training_rows") - 100.0);
    assert_same_coefficients(&f, &plain);
    for (c, row) in table.values[20].chunks(q).enumerate() {
        let eta = plain.coefficients[0]
            + row
                .iter()
                .zip(&plain.coefficients[1..])
                .map(|(a, b)| a * b)
                .sum::<f64>();
        assert!((f.scores[c] / eta.exp() - 1.0).abs() < 1e-6);
    }
}

/// Simulates events on a 40 × 40 grid with a known static rate per cell (a smooth
/// surface, some cells 20× others) for 3 years: the forecast's total approaches the
/// true total for the week, its scores rank like the true rates, and the fit is
/// deterministic.
#[test]
fn forecast_recovers_static_rates() {
    let (grid, rate, events) = static_case();
    let days = 3.0 * 365.0;
    let t = Training {
        events: &events,
        grid: &grid,
        origin: days,
        horizon: 7.0,
        seed: 3,
    };
    let glm = Glm::default();
    let f = glm.forecast(&t).expect("forecast");
    assert!(f.expected_counts);
    assert_eq!(glm.name(), "glm");
    let total: f64 = f.scores.iter().sum();
    let truth: f64 = rate.iter().sum::<f64>() * 7.0;
    assert!((total / truth - 1.0).abs() < 0.1, "{total} vs {truth}");
    // Pearson correlation of log scores with log rates.
    let (a, b): (Vec<f64>, Vec<f64>) = f
        .scores
        .iter()
        .zip(&rate)
        .map(|(s, r)| (s.ln(), r.ln()))
        .unzip();
    let m = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    let (ma, mb) = (m(&a), m(&b));
    let cov: f64 = a.iter().zip(&b).map(|(x, y)| (x - ma) * (y - mb)).sum();
    let va: f64 = a.iter().map(|x| (x - ma) * (x - ma)).sum();
    let vb: f64 = b.iter().map(|y| (y - mb) * (y - mb)).sum();
    let corr = cov / (va * vb).sqrt();
    assert!(corr > 0.9, "correlation {corr}");
    let names: Vec<&str> = f.parameters.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names[0], "intercept");
    assert!(names.contains(&"log_decay_365d") && names.contains(&"ridge"));
    // Deterministic; the seed only picks the subsample of zero rows, so with all rows
    // kept nothing depends on it.
    assert_eq!(f, glm.forecast(&t).expect("forecast"));
    let all = Glm {
        zero_sampling: 1.0,
        ..Glm::default()
    };
    assert_eq!(
        all.forecast(&t).expect("forecast"),
        all.forecast(&Training { seed: 99, ..t }).expect("forecast")
    );
    // Errors.
    assert!(matches!(
        Glm {
            ridge: -1.0,
            ..Glm::default()
        }
        .forecast(&t),
        Err(ForecastError::BadParameter(_))
    ));
    assert!(matches!(
        glm.forecast(&Training { events: &[], ..t }),
        Err(ForecastError::TooFewEvents { .. })
    ));
}

fn philadelphia() -> (Vec<Event>, MaskedGrid) {
    let reference: serde_json::Value =
        serde_json::from_str(&data("forecast-etas", "reference.json")).expect("json");
    let g = &reference["grid"];
    let grid = Grid {
        x0: g["x0"].as_f64().expect("x0"),
        y0: g["y0"].as_f64().expect("y0"),
        cell: g["cell"].as_f64().expect("cell"),
        rows: g["rows"].as_u64().expect("rows") as u32,
        cols: g["cols"].as_u64().expect("cols") as u32,
    };
    let keep: std::collections::HashSet<(u32, u32)> = data("forecast-etas", "mask.csv")
        .lines()
        .skip(1)
        .map(|l| {
            let (r, c) = l.split_once(',').expect("row,col");
            (r.parse().expect("row"), c.parse().expect("col"))
        })
        .collect();
    let grid = MaskedGrid::new(grid, |r, c| keep.contains(&(r, c)));
    let events: Vec<Event> = data("forecast-glm", "phl_events.csv")
        .lines()
        .skip(1)
        .map(|l| {
            let v: Vec<f64> = l.split(',').map(|s| s.parse().expect("number")).collect();
            Event {
                x: v[0],
                y: v[1],
                t: v[2],
            }
        })
        .collect();
    (events, grid)
}

/// Philadelphia residential burglaries, the PEERS.md setup: 11,884 cells of 150 m,
/// weekly origins from 2024-01-01 (day 1826 since 2019-01-01), 7-day horizon. The GLM
/// (4 years of training events; also every row kept, and only 365 days) against naive
/// counts (365 days) and the retrospective quartic 200 m hot spot (365 days). Run with `--ignored --nocapture` for the figures.
#[test]
#[ignore = "a 52-origin backtest: run with --ignored --nocapture"]
fn philadelphia_backtest() {
    let (events, grid) = philadelphia();
    let start = 1826.0; // 2024-01-01
    let cfg = |train: f64| BacktestConfig {
        start,
        origins: 52,
        step: 7.0,
        train,
        horizon: 7.0,
        coverages: vec![0.01, 0.02, 0.05],
        seed: 2024,
        cell_area: 150.0 * 150.0,
        study_area: grid.area(),
    };
    let glm = Glm::default();
    // One fit on its own (the first origin, 4 years of events).
    let lo = events.partition_point(|e| e.t < start - 4.0 * 365.0);
    let hi = events.partition_point(|e| e.t < start);
    let t = Training {
        events: &events[lo..hi],
        grid: &grid,
        origin: start,
        horizon: 7.0,
        seed: 1,
    };
    for g in [
        Glm::default(),
        Glm {
            zero_sampling: 1.0,
            ..Glm::default()
        },
    ] {
        let t0 = Instant::now();
        let f = g.forecast(&t).expect("forecast");
        println!(
            "one fit, zero_sampling {}: {:.3} s, {} events",
            g.zero_sampling,
            t0.elapsed().as_secs_f64(),
            hi - lo
        );
        println!("{:?}", f.parameters);
    }
    let models: Vec<(Box<dyn Forecaster>, f64)> = vec![
        (Box::new(RecentCounts { window: 365.0 }), 365.0),
        (Box::new(Retrospective::default()), 365.0),
        (Box::new(glm), 4.0 * 365.0),
        (
            Box::new(Glm {
                zero_sampling: 1.0,
                ..Glm::default()
            }),
            4.0 * 365.0,
        ),
        (Box::new(Glm::default()), 365.0),
    ];
    let mut per_origin: Vec<Vec<[f64; 2]>> = Vec::new();
    for (model, train) in models {
        let t0 = Instant::now();
        let b = backtest(&events, &grid, model.as_ref(), &cfg(train));
        per_origin.push(
            b.origins
                .iter()
                .map(|o| [o.coverage[0].pai, o.coverage[2].pai])
                .collect(),
        );
        let secs = t0.elapsed().as_secs_f64();
        let errors = b.origins.iter().filter(|o| o.error.is_some()).count();
        println!(
            "{:>14} PAI@1% {:.2} ± {:.2}  @2% {:.2}  @5% {:.2} ± {:.2}  LL {:?}  {secs:.1} s ({errors} errors)",
            b.name,
            b.summary[0].pai,
            b.summary[0].pai_se,
            b.summary[1].pai,
            b.summary[2].pai,
            b.summary[2].pai_se,
            b.mean_log_likelihood
        );
        if b.name == "glm" {
            println!("{:?}", b.origins[0].parameters);
        }
    }
    // Paired differences over origins: GLM (sampled) − retrospective, at 1% and 5%.
    for (k, level) in [(0, "1%"), (1, "5%")] {
        let d: Vec<f64> = per_origin[2]
            .iter()
            .zip(&per_origin[1])
            .map(|(a, b)| a[k] - b[k])
            .collect();
        let n = d.len() as f64;
        let m = d.iter().sum::<f64>() / n;
        let se = (d.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (n - 1.0) / n).sqrt();
        println!("glm − retrospective PAI@{level}: {m:+.2} ± {se:.2}");
        assert!(m > 0.0);
    }
}

/// Choosing the ridge penalty on 2023 (52 weekly origins from day 1461), so that 2024
/// stays a held-out year. Run with `--ignored --nocapture`.
#[test]
#[ignore = "a ridge sweep over 52 origins: run with --ignored --nocapture"]
fn philadelphia_ridge_2023() {
    let (events, grid) = philadelphia();
    let cfg = BacktestConfig {
        start: 1461.0,
        origins: 52,
        step: 7.0,
        train: 4.0 * 365.0,
        horizon: 7.0,
        coverages: vec![0.01, 0.05],
        seed: 2023,
        cell_area: 150.0 * 150.0,
        study_area: grid.area(),
    };
    for ridge in [0.0, 1e-5, 1e-4, 1e-3, 1e-2] {
        let b = backtest(
            &events,
            &grid,
            &Glm {
                ridge,
                ..Glm::default()
            },
            &cfg,
        );
        println!(
            "ridge {ridge:e}: PAI@1% {:.2} ± {:.2}  @5% {:.2} ± {:.2}  LL {:.2}",
            b.summary[0].pai,
            b.summary[0].pai_se,
            b.summary[1].pai,
            b.summary[1].pai_se,
            b.mean_log_likelihood.unwrap_or(f64::NAN)
        );
    }
}
