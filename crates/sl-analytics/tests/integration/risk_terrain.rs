//! Risk terrain layers (`risk_terrain`) and the risk terrain model (`Glm` with
//! `history: false`): proximity and density by hand, the bucket index against brute
//! force, and a simulate-and-recover case whose maximum-likelihood answer is known in
//! closed form.

use std::sync::Arc;

use sl_analytics::forecast::glm::Glm;

use super::forecast_glm::{assert_same_coefficients, plain_fit};
use sl_analytics::forecast::{Event, ForecastError, Forecaster, Training};
use sl_analytics::grid::{Grid, MaskedGrid};
use sl_analytics::kde::Kernel;
use sl_analytics::risk_terrain::{
    CellCache, Operation, RiskFactor, Shape, flag_two_sd, inside_rings, segment_distance,
};
use sl_analytics::rng::{stream, unit};

fn grid5() -> MaskedGrid {
    // 5 × 5 cells of 100 m from the origin: centres at 50, 150, …, 450.
    MaskedGrid::all(Grid {
        x0: 0.0,
        y0: 0.0,
        cell: 100.0,
        rows: 5,
        cols: 5,
    })
}

fn factor(shapes: Vec<Shape>, operation: Operation, distance: f64) -> RiskFactor {
    RiskFactor {
        layer: "test".into(),
        shapes: Arc::new(shapes),
        operation,
        distance,
        cache: CellCache::default(),
    }
}

/// Flagged cells as (row, col), sorted.
fn flagged(grid: &MaskedGrid, values: &[f64]) -> Vec<(u32, u32)> {
    values
        .iter()
        .enumerate()
        .filter(|(_, v)| **v == 1.0)
        .map(|(i, _)| grid.cell(i))
        .collect()
}

#[test]
fn distances_by_hand() {
    // Perpendicular foot inside the segment, then beyond each end.
    assert_eq!(segment_distance(5.0, 3.0, (0.0, 0.0), (10.0, 0.0)), 3.0);
    assert_eq!(segment_distance(13.0, 4.0, (0.0, 0.0), (10.0, 0.0)), 5.0);
    assert_eq!(segment_distance(-3.0, -4.0, (0.0, 0.0), (10.0, 0.0)), 5.0);
    // A zero-length segment is a point.
    assert_eq!(segment_distance(3.0, 4.0, (0.0, 0.0), (0.0, 0.0)), 5.0);
    // A square with a square hole (even-odd).
    let rings = vec![
        vec![
            (0.0, 0.0),
            (10.0, 0.0),
            (10.0, 10.0),
            (0.0, 10.0),
            (0.0, 0.0),
        ],
        vec![(4.0, 4.0), (6.0, 4.0), (6.0, 6.0), (4.0, 6.0), (4.0, 4.0)],
    ];
    assert!(inside_rings(1.0, 1.0, &rings));
    assert!(!inside_rings(5.0, 5.0, &rings));
    assert!(!inside_rings(11.0, 5.0, &rings));
}

#[test]
fn proximity_by_hand() {
    let grid = grid5();
    // A point at the centre of cell (2, 2), 100 m: the cell and its 4 rook neighbours
    // (centres exactly 100 m away: within, as the distance is inclusive); diagonal
    // centres are 141 m away.
    let f = factor(
        vec![Shape::Point { x: 250.0, y: 250.0 }],
        Operation::Proximity,
        100.0,
    );
    let v = f.cell_values(&grid).expect("values");
    assert_eq!(
        flagged(&grid, &v),
        vec![(1, 2), (2, 1), (2, 2), (2, 3), (3, 2)]
    );
    assert_eq!(f.label(), "test_proximity_100m");
    // A street along y = 0: the southern row's centres are 50 m from it.
    let f = factor(
        vec![Shape::Line(vec![(0.0, 0.0), (500.0, 0.0)])],
        Operation::Proximity,
        60.0,
    );
    let v = f.cell_values(&grid).expect("values");
    assert_eq!(
        flagged(&grid, &v),
        (0..5).map(|c| (0, c)).collect::<Vec<_>>()
    );
    // A lot covering cell (3, 1) exactly, 10 m: only the centre inside it (neighbours'
    // centres are 50 m from its edges).
    let lot = vec![vec![
        (100.0, 300.0),
        (200.0, 300.0),
        (200.0, 400.0),
        (100.0, 400.0),
        (100.0, 300.0),
    ]];
    let f = factor(
        vec![Shape::Polygon(lot.clone())],
        Operation::Proximity,
        10.0,
    );
    assert_eq!(
        flagged(&grid, &f.cell_values(&grid).expect("values")),
        vec![(3, 1)]
    );
    // At 50 m the 4 rook neighbours touch its edges.
    let f = factor(vec![Shape::Polygon(lot)], Operation::Proximity, 50.0);
    assert_eq!(
        flagged(&grid, &f.cell_values(&grid).expect("values")),
        vec![(2, 1), (3, 0), (3, 1), (3, 2), (4, 1)]
    );
    // A park with a pond: the pond's centre is out, the park's in.
    let park = vec![
        vec![
            (0.0, 0.0),
            (500.0, 0.0),
            (500.0, 500.0),
            (0.0, 500.0),
            (0.0, 0.0),
        ],
        vec![
            (200.0, 200.0),
            (300.0, 200.0),
            (300.0, 300.0),
            (200.0, 300.0),
            (200.0, 200.0),
        ],
    ];
    let f = factor(vec![Shape::Polygon(park)], Operation::Proximity, 1.0);
    let v = f.cell_values(&grid).expect("values");
    assert_eq!(v.iter().sum::<f64>(), 24.0);
    assert_eq!(v[grid.index_of(2, 2).expect("cell")], 0.0);
}

#[test]
fn density_by_hand() {
    // RTM's reclassification: mean 2, population SD 4, cut 10.
    assert_eq!(
        flag_two_sd(&[0.0, 0.0, 0.0, 0.0, 10.0]),
        vec![0.0, 0.0, 0.0, 0.0, 1.0]
    );
    // A flat surface has SD 0: every positive cell is at the cut, zeros never count.
    assert_eq!(flag_two_sd(&[0.0; 4]), vec![0.0; 4]);
    assert_eq!(flag_two_sd(&[1.0; 3]), vec![1.0; 3]);
    // Three bars in cell (2, 2), one in cell (0, 0); radius 150 m. The quartic density
    // at (2, 2)'s centre is 3 K(0); at the rook neighbours 3 K(100²); at the diagonals
    // 3 K(141²) = 3 K(20,000) (inside 150 m) etc. Only (2, 2) reaches mean + 2 SD.
    let bars = vec![
        Shape::Point { x: 250.0, y: 250.0 },
        Shape::Point { x: 250.0, y: 250.0 },
        Shape::Point { x: 250.0, y: 250.0 },
        Shape::Point { x: 50.0, y: 50.0 },
    ];
    let grid = grid5();
    let centres: Vec<(f64, f64)> = grid
        .cells()
        .iter()
        .map(|&(r, c)| grid.grid().centre(r, c))
        .collect();
    let d = sl_analytics::risk_terrain::point_density(&bars, &centres, 150.0);
    let k = |d2: f64| Kernel::Quartic.value(d2, 150.0);
    let at = |r, c| d[grid.index_of(r, c).expect("cell")];
    assert!((at(2, 2) - 3.0 * k(0.0)).abs() < 1e-18);
    assert!((at(2, 3) - 3.0 * k(10_000.0)).abs() < 1e-18);
    assert!((at(3, 3) - 3.0 * k(20_000.0)).abs() < 1e-18);
    assert!((at(0, 0) - k(0.0)).abs() < 1e-18);
    assert!((at(1, 1) - 3.0 * k(20_000.0) - k(20_000.0)).abs() < 1e-18);
    assert_eq!(at(4, 4), 0.0);
    let f = factor(bars, Operation::Density, 150.0);
    assert_eq!(f.label(), "test_density_150m");
    let v = f.cell_values(&grid).expect("values");
    assert_eq!(flagged(&grid, &v), vec![(2, 2)]);
    // Errors say what to do.
    let line = factor(
        vec![Shape::Line(vec![(0.0, 0.0), (1.0, 1.0)])],
        Operation::Density,
        100.0,
    );
    let e = line.cell_values(&grid).expect_err("density of lines");
    assert!(e.contains("use proximity"), "{e}");
    let e = factor(vec![], Operation::Proximity, 100.0)
        .cell_values(&grid)
        .expect_err("empty");
    assert!(e.contains("no features"), "{e}");
    let e = factor(
        vec![Shape::Point { x: 0.0, y: 0.0 }],
        Operation::Proximity,
        -1.0,
    )
    .cell_values(&grid)
    .expect_err("negative");
    assert!(e.contains("positive"), "{e}");
}

/// The bucket index gives what a scan of every feature gives, on random points, lines
/// and polygons at several distances (including a layer far wider than the distance).
#[test]
fn proximity_index_equals_brute_force() {
    let grid = MaskedGrid::all(Grid {
        x0: -1000.0,
        y0: -1000.0,
        cell: 37.0,
        rows: 60,
        cols: 60,
    });
    let mut rng = stream(77, 0);
    let mut p = || -1200.0 + 2400.0 * unit(&mut rng);
    let mut shapes = Vec::new();
    for _ in 0..40 {
        shapes.push(Shape::Point { x: p(), y: p() });
    }
    for _ in 0..10 {
        shapes.push(Shape::Line(vec![(p(), p()), (p(), p()), (p(), p())]));
    }
    for _ in 0..5 {
        let (x, y) = (p(), p());
        shapes.push(Shape::Polygon(vec![vec![
            (x, y),
            (x + 150.0, y + 20.0),
            (x + 80.0, y + 170.0),
            (x, y),
        ]]));
    }
    // A huge polygon far from most cells makes the index's buckets wider than d.
    shapes.push(Shape::Polygon(vec![vec![
        (50_000.0, 50_000.0),
        (51_000.0, 50_000.0),
        (51_000.0, 51_000.0),
        (50_000.0, 50_000.0),
    ]]));
    for d in [5.0, 40.0, 120.0] {
        let f = factor(shapes.clone(), Operation::Proximity, d);
        let v = f.cell_values(&grid).expect("values");
        let mut n = 0.0;
        for (i, &(r, c)) in grid.cells().iter().enumerate() {
            let (x, y) = grid.grid().centre(r, c);
            let brute = shapes.iter().any(|s| match s {
                Shape::Point { x: a, y: b } => segment_distance(x, y, (*a, *b), (*a, *b)) <= d,
                Shape::Line(v) => v
                    .windows(2)
                    .any(|w| segment_distance(x, y, w[0], w[1]) <= d),
                Shape::Polygon(rings) => {
                    inside_rings(x, y, rings)
                        || rings.iter().any(|r| {
                            r.windows(2)
                                .any(|w| segment_distance(x, y, w[0], w[1]) <= d)
                        })
                }
            });
            assert_eq!(v[i] == 1.0, brute, "cell ({r}, {c}) at {d} m");
            n += v[i];
        }
        assert!(n > 0.0 && n < grid.len() as f64, "{d} m flags {n} cells");
    }
}

/// Events simulated with a known relative risk of 3 near "bars" and a risk terrain
/// model (no history features, no season, no penalty, every row): the Poisson MLE of
/// an intercept and one binary factor is known in closed form, `exp(β)` = mean count
/// of flagged cells / mean count of the others, and it lands near the true 3.
#[test]
fn risk_terrain_model_recovers_relative_risk() {
    let grid = MaskedGrid::all(Grid {
        x0: 0.0,
        y0: 0.0,
        cell: 100.0,
        rows: 40,
        cols: 40,
    });
    let mut rng = stream(5, 1);
    let bars: Vec<Shape> = (0..30)
        .map(|_| Shape::Point {
            x: 4000.0 * unit(&mut rng),
            y: 4000.0 * unit(&mut rng),
        })
        .collect();
    let f = factor(bars, Operation::Proximity, 150.0);
    let near = f.cell_values(&grid).expect("values");
    let share = near.iter().sum::<f64>() / near.len() as f64;
    assert!(share > 0.05 && share < 0.5, "share {share}");
    // Poisson events per cell per day: 0.004, × 3 near a bar.
    let (periods, horizon) = (52usize, 7.0);
    let days = periods as f64 * horizon;
    let mut events = Vec::new();
    for (i, &(r, c)) in grid.cells().iter().enumerate() {
        let lam = 0.004 * if near[i] == 1.0 { 3.0 } else { 1.0 } * days;
        // Knuth's product of uniforms.
        let limit = (-lam).exp();
        let mut prod = unit(&mut rng);
        while prod > limit {
            events.push(Event {
                x: (f64::from(c) + unit(&mut rng)) * 100.0,
                y: (f64::from(r) + unit(&mut rng)) * 100.0,
                t: unit(&mut rng) * days,
            });
            prod *= unit(&mut rng);
        }
    }
    events.sort_by(|a, b| a.t.total_cmp(&b.t));
    let rtm = Glm {
        history: false,
        seasonality: false,
        ridge: 0.0,
        zero_sampling: 1.0,
        periods,
        risk_factors: vec![f.clone()],
        ..Glm::default()
    };
    assert_eq!(rtm.name(), "rtm");
    assert_eq!(rtm.history(), None);
    assert_eq!(rtm.feature_names(), vec!["rtm_test_proximity_150m"]);
    let t = Training {
        events: &events,
        grid: &grid,
        origin: days,
        horizon,
        seed: 1,
    };
    let fc = rtm.forecast(&t).expect("forecast");
    let param = |name: &str| fc.parameters.iter().find(|p| p.0 == name).expect(name).1;
    let (mut n1, mut c1, mut n0, mut c0) = (0.0, 0.0, 0.0, 0.0);
    for e in &events {
        let i = grid.index_of_point(e.x, e.y).expect("on grid");
        if near[i] == 1.0 { n1 += 1.0 } else { n0 += 1.0 }
    }
    for v in &near {
        if *v == 1.0 { c1 += 1.0 } else { c0 += 1.0 }
    }
    let closed_form = (n1 / c1) / (n0 / c0);
    let rrv = param("rrv_test_proximity_150m");
    assert!(
        (rrv / closed_form - 1.0).abs() < 1e-9,
        "{rrv} vs {closed_form}"
    );
    assert!((rrv - 3.0).abs() < 0.3, "rrv {rrv}");
    assert!((param("cells_share_test_proximity_150m") - share).abs() < 1e-15);
    // The intercept is the weekly rate of a cell away from bars; the score of a cell is
    // that rate times the RRV where the factor is present.
    let base = (n0 / c0) / periods as f64;
    assert!((param("intercept").exp() / base - 1.0).abs() < 1e-9);
    for (s, v) in fc.scores.iter().zip(&near) {
        let want = base * if *v == 1.0 { closed_form } else { 1.0 };
        assert!((s / want - 1.0).abs() < 1e-9);
    }
    // The full GLM with the factor beside the history features runs, reports the RRV,
    // and its extra column changes the fit.
    let glm = Glm {
        risk_factors: vec![f],
        ..Glm::default()
    };
    let with = glm.forecast(&t).expect("forecast");
    assert!(
        with.parameters
            .iter()
            .any(|p| p.0 == "rrv_test_proximity_150m")
    );
    let without = Glm::default().forecast(&t).expect("forecast");
    assert_ne!(with.scores, without.scores);
    // A bad factor is a parameter error naming the layer.
    let bad = Glm {
        risk_factors: vec![factor(
            vec![Shape::Line(vec![(0.0, 0.0), (5.0, 5.0)])],
            Operation::Density,
            100.0,
        )],
        ..Glm::default()
    };
    assert!(matches!(bad.forecast(&t), Err(ForecastError::BadParameter(m)) if m.contains("test")));
}

/// The GLM with two risk factors against a plain fit: with every row kept and no
/// penalty, its coefficients equal the maximum-likelihood fit of `fit_poisson` on the
/// full cells × periods design from `Glm::features` (so merging history-free cells per
/// pattern of factors is exact), and its RRVs are `exp` of those coefficients.
#[test]
fn glm_with_factors_equals_plain_fit() {
    let grid = MaskedGrid::all(Grid {
        x0: 0.0,
        y0: 0.0,
        cell: 100.0,
        rows: 30,
        cols: 30,
    });
    let mut rng = stream(9, 2);
    let days = 2.0 * 365.0;
    // Events in the western two thirds only, so the east has history-free cells with
    // both patterns of the street factor.
    let mut events: Vec<Event> = (0..3000)
        .map(|_| Event {
            x: 2000.0 * unit(&mut rng) * unit(&mut rng).sqrt(),
            y: 3000.0 * unit(&mut rng),
            t: days * unit(&mut rng),
        })
        .collect();
    events.sort_by(|a, b| a.t.total_cmp(&b.t));
    let street = factor(
        vec![Shape::Line(vec![(0.0, 1500.0), (3000.0, 1500.0)])],
        Operation::Proximity,
        120.0,
    );
    let bars = RiskFactor {
        layer: "bars".into(),
        ..factor(
            (0..12)
                .map(|i| Shape::Point {
                    x: 200.0 + 200.0 * f64::from(i % 4),
                    y: 400.0 + 300.0 * f64::from(i / 4),
                })
                .collect(),
            Operation::Density,
            250.0,
        )
    };
    let glm = Glm {
        ridge: 0.0,
        zero_sampling: 1.0,
        periods: 20,
        risk_factors: vec![street, bars],
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
    let (table, plain, _) = plain_fit(&glm, &events, &grid, days, 20);
    let q = table.names.len();
    assert_eq!(
        &table.names[q - 2..],
        ["rtm_test_proximity_120m", "rtm_bars_density_250m"]
    );
    let param = |name: &str| f.parameters.iter().find(|p| p.0 == name).expect(name).1;
    assert!(param("fitted_rows") < param("training_rows") - 100.0);
    assert_same_coefficients(&f, &plain);
    let rrv = param("rrv_bars_density_250m");
    assert!((rrv / plain.coefficients[q].exp() - 1.0).abs() < 1e-6);
}

/// The memo gives what a fresh evaluation gives: on the same grid, on another grid,
/// and for a changed copy of the factor that shares the memo.
#[test]
fn cell_values_memo_is_transparent() {
    let grid = grid5();
    let f = factor(
        vec![Shape::Point { x: 250.0, y: 250.0 }],
        Operation::Proximity,
        100.0,
    );
    let first = f.cell_values(&grid).expect("values");
    assert_eq!(f.cell_values(&grid).expect("memo"), first);
    let wider = RiskFactor {
        distance: 150.0,
        ..f.clone()
    };
    let fresh = factor(
        vec![Shape::Point { x: 250.0, y: 250.0 }],
        Operation::Proximity,
        150.0,
    );
    assert_eq!(
        wider.cell_values(&grid).expect("values"),
        fresh.cell_values(&grid).expect("values")
    );
    assert_ne!(wider.cell_values(&grid).expect("values"), first);
    let other = MaskedGrid::new(*grid.grid(), |r, _| r < 3);
    assert_eq!(
        f.cell_values(&other).expect("values"),
        factor(
            vec![Shape::Point { x: 250.0, y: 250.0 }],
            Operation::Proximity,
            100.0
        )
        .cell_values(&other)
        .expect("values")
    );
    assert_eq!(f.cell_values(&grid).expect("values"), first);
}
