use sl_analytics::forecast::backtest::{BacktestConfig, UnitScoring, backtest, backtest_units};
use sl_analytics::forecast::metrics::{
    cells_for, evaluate, evaluate_areas, least_area_for_counts, poisson_log_likelihood, rank,
    units_within,
};
use sl_analytics::forecast::naive::{HistoricalAverage, RecentCounts};
use sl_analytics::forecast::{Event, Forecast, ForecastError, Forecaster, Training};
use sl_analytics::grid::{Grid, MaskedGrid};

/// Hand case: 10 cells, scores rank cells 3, 7, 1 first; the period's counts put 4
/// events in cell 3, 1 in cell 1, 5 in cell 9 (N = 10). At 20% coverage (k = 2: cells
/// 3 and 7): hits 4, hit rate 0.4, area share 0.2, PAI 2; the best 2 cells hold 9, so
/// PEI* = 4/9. At 30% (k = 3: + cell 1): hits 5, PAI 0.5/0.3, best 3 hold 10, PEI* 0.5.
#[test]
fn hit_rate_pai_and_pei_star_hand_case() {
    let mut scores = vec![0.0; 10];
    scores[3] = 9.0;
    scores[7] = 5.0;
    scores[1] = 2.0;
    let mut actual = vec![0.0; 10];
    actual[3] = 4.0;
    actual[1] = 1.0;
    actual[9] = 5.0;
    let order = rank(&scores, 1);
    assert_eq!(&order[..3], &[3, 7, 1]);
    let r = evaluate(&order, &actual, &[0.2, 0.3], 1.0, 10.0);
    assert_eq!((r[0].cells, r[0].hits), (2, 4.0));
    assert!((r[0].hit_rate - 0.4).abs() < 1e-15);
    assert!((r[0].pai - 2.0).abs() < 1e-12);
    assert!((r[0].pei_star - 4.0 / 9.0).abs() < 1e-15);
    assert_eq!((r[1].cells, r[1].hits), (3, 5.0));
    assert!((r[1].pai - 0.5 / 0.3).abs() < 1e-12);
    assert!((r[1].pei_star - 0.5).abs() < 1e-15);
    assert_eq!(cells_for(0.001, 10), 1);
}

/// Hand case on four units of unequal areas 1, 2, 3, 4 (A = 10) holding 1, 0, 6 and 3 of
/// the period's 10 events, ranked 1, 0, 3, 2:
/// - 10% (budget 1): unit 1 alone is larger than the budget but at least one unit is
///   flagged: area 2, no hits, PAI 0; the best within area 2 is unit 0's 1 event, PEI* 0;
/// - 30% (budget 3): units 1 and 0 (area exactly 3): 1 hit, hit rate 0.1, PAI 0.1/0.3;
///   within area 3 unit 2 alone holds 6, so PEI* 1/6;
/// - 80% (budget 8): units 1, 0, 3 (area 7; unit 2 would make 10): 4 hits, PAI 0.4/0.7;
///   within area 7 units 2 and 3 hold 9, PEI* 4/9;
/// - 100%: every unit, PAI 1, PEI* 1.
#[test]
fn unequal_areas_hand_case() {
    let areas = [1.0, 2.0, 3.0, 4.0];
    let actual = [1.0, 0.0, 6.0, 3.0];
    let order = [1, 0, 3, 2];
    let r = evaluate_areas(&order, &actual, &areas, &[0.1, 0.3, 0.8, 1.0], 10.0);
    let expect = [
        // (units, area, hits, hit rate, PAI, PEI*)
        (1, 2.0, 0.0, 0.0, 0.0, 0.0),
        (2, 3.0, 1.0, 0.1, 0.1 / 0.3, 1.0 / 6.0),
        (3, 7.0, 4.0, 0.4, 0.4 / 0.7, 4.0 / 9.0),
        (4, 10.0, 10.0, 1.0, 1.0, 1.0),
    ];
    for (c, e) in r.iter().zip(expect) {
        assert_eq!((c.cells, c.area, c.hits), (e.0, e.1, e.2), "{c:?}");
        assert!((c.hit_rate - e.3).abs() < 1e-15, "{c:?}");
        assert!((c.pai - e.4).abs() < 1e-12, "{c:?}");
        assert!((c.pei_star - e.5).abs() < 1e-15, "{c:?}");
    }
    // A budget given as a share and multiplied back takes the units that make it up.
    assert_eq!(units_within(&order, &areas, 0.3 * 10.0), 2);
    assert_eq!(units_within(&[], &[], 5.0), 0);
}

/// PEI*'s best possible hits is a knapsack, not a greedy choice: with units holding 5
/// events in area 4 and 3 events in area 2 twice, the busiest unit first gives 5
/// within area 4, but the two small units give 6.
#[test]
fn best_possible_hits_solve_the_knapsack() {
    let least = least_area_for_counts(&[5.0, 3.0, 3.0, 0.0], &[4.0, 2.0, 2.0, 0.5]);
    assert_eq!(
        least,
        [0.0, 2.0, 2.0, 2.0, 4.0, 4.0, 4.0, 6.0, 6.0, 8.0, 8.0, 8.0]
    );
    // Flagging the 5-event unit alone: 5 hits, but 6 were possible in its area.
    let r = evaluate_areas(
        &[0, 1, 2, 3],
        &[5.0, 3.0, 3.0, 0.0],
        &[4.0, 2.0, 2.0, 0.5],
        &[0.4],
        8.5,
    );
    assert_eq!((r[0].cells, r[0].hits), (1, 5.0));
    assert!((r[0].pei_star - 5.0 / 6.0).abs() < 1e-15);
}

/// The dynamic programme against brute force: on 300 seeded random cases of 8 units
/// (areas 0.1–3, counts 0–5), the least area holding at least `v` events equals the
/// minimum over all 256 subsets, for every `v`.
#[test]
fn least_area_matches_brute_force() {
    use sl_analytics::rng;
    for case in 0..300 {
        let mut r = rng::stream(11, case);
        let areas: Vec<f64> = (0..8).map(|_| 0.1 + 2.9 * rng::unit(&mut r)).collect();
        let counts: Vec<f64> = (0..8).map(|_| rng::below(&mut r, 6) as f64).collect();
        let least = least_area_for_counts(&counts, &areas);
        let total = counts.iter().sum::<f64>() as usize;
        assert_eq!(least.len(), total + 1);
        let mut brute = vec![f64::INFINITY; total + 1];
        for set in 0u32..256 {
            let (mut n, mut a) = (0usize, 0.0);
            for i in 0..8 {
                if set & (1 << i) != 0 {
                    n += counts[i] as usize;
                    a += areas[i];
                }
            }
            for b in &mut brute[..=n] {
                *b = b.min(a);
            }
        }
        for (v, (x, y)) in least.iter().zip(&brute).enumerate() {
            assert!((x - y).abs() < 1e-12, "case {case}, {v} events: {x} vs {y}");
        }
    }
}

/// With equal areas the area rules give the grid's: the same cells, PAI and PEI* as
/// the ten-cell hand case above.
#[test]
fn equal_areas_agree_with_the_grid_rules() {
    let mut scores = vec![0.0; 10];
    scores[3] = 9.0;
    scores[7] = 5.0;
    scores[1] = 2.0;
    let mut actual = vec![0.0; 10];
    actual[3] = 4.0;
    actual[1] = 1.0;
    actual[9] = 5.0;
    let order = rank(&scores, 1);
    let coverages = [0.1, 0.2, 0.3, 0.5, 1.0];
    let grid = evaluate(&order, &actual, &coverages, 1.0, 10.0);
    let units = evaluate_areas(&order, &actual, &[1.0; 10], &coverages, 10.0);
    assert_eq!(grid, units);
}

/// Ties are broken by a seeded permutation: reproducible under a seed, and over many
/// seeds each tied cell comes first about equally often.
#[test]
fn ties_are_broken_fairly_and_reproducibly() {
    let scores = [1.0, 1.0, 1.0, 0.0];
    assert_eq!(rank(&scores, 5), rank(&scores, 5));
    let mut first = [0usize; 4];
    for seed in 0..3000 {
        first[rank(&scores, seed)[0] as usize] += 1;
    }
    assert_eq!(first[3], 0);
    for c in &first[..3] {
        assert!((*c as f64 - 1000.0).abs() < 100.0, "{first:?}");
    }
}

/// Poisson log-likelihood by hand: μ = (1, 2), y = (0, 3):
/// (0 − 1 − 0) + (3 ln 2 − 2 − ln 6).
#[test]
fn poisson_log_likelihood_hand_case() {
    let ll = poisson_log_likelihood(&[1.0, 2.0], &[0.0, 3.0]);
    let expected = -1.0 + 3.0 * 2f64.ln() - 2.0 - 6f64.ln();
    assert!((ll - expected).abs() < 1e-12);
}

/// A model that fails the test if it is shown any event at or after its origin.
struct NoPeeking;

impl Forecaster for NoPeeking {
    fn name(&self) -> String {
        "no-peeking".into()
    }
    fn forecast(&self, t: &Training<'_>) -> Result<Forecast, ForecastError> {
        assert!(
            t.events.iter().all(|e| e.t < t.origin),
            "an event at or after the origin {} leaked into training",
            t.origin
        );
        assert!(t.events.iter().all(|e| e.t >= t.origin - 30.0));
        Ok(Forecast {
            scores: vec![1.0; t.grid.len()],
            expected_counts: false,
            parameters: Vec::new(),
        })
    }
}

fn line_grid() -> MaskedGrid {
    MaskedGrid::all(Grid::covering([0.0, 0.0, 999.0, 99.0], 100.0).expect("grid"))
}

#[test]
fn backtest_shows_no_future_events_and_counts_the_truth() {
    let grid = line_grid();
    // One event a day, walking along the 10 cells; some exactly at origins.
    let events: Vec<Event> = (0..200)
        .map(|d| Event {
            x: f64::from(d % 10) * 100.0 + 50.0,
            y: 50.0,
            t: f64::from(d),
        })
        .collect();
    let cfg = BacktestConfig {
        start: 60.0,
        origins: 10,
        step: 7.0,
        train: 30.0,
        horizon: 7.0,
        coverages: vec![0.1, 0.5],
        seed: 1,
        cell_area: 1.0,
        study_area: 10.0,
    };
    let r = backtest(&events, &grid, &NoPeeking, &cfg);
    assert_eq!(r.origins.len(), 10);
    for o in &r.origins {
        assert!(o.error.is_none());
        assert_eq!(o.train_events, 30);
        assert_eq!(o.test_events, 7);
    }
    // Same seed, same result.
    assert_eq!(r, backtest(&events, &grid, &NoPeeking, &cfg));
}

/// A unit backtest fits the model exactly as the grid backtest does (same training
/// events, same parameters, no event at or after the origin) and scores units: on the
/// ten-cell line, units 0 (cells 0–1, area 2), 1 (cells 2–5, area 4) and 2 (cells 6–9,
/// area 4; A = 10). Every week holds 2 events in unit 0 (cells 0, 1), 3 in unit 1
/// (cells 2, 3, 4) and 1 in cell 8 that is placed in no unit (as an event outside
/// every district would be), so it is not part of the truth (N = 5). The historical
/// average gives unit 1 the larger sum (3 against 2 a week) but unit 0 the larger
/// density (1 against 0.75 per unit of area), so at 20% (budget 2) unit 0 is flagged:
/// hit rate 2/5, PAI 0.4/0.2 = 2, and PEI* 1 (no set of area ≤ 2 holds more than 2).
/// Ranked by sum, unit 1 would have been flagged alone (PAI 1.5).
#[test]
fn unit_backtest_fits_like_the_grid_and_scores_by_area() {
    let grid = line_grid();
    let cell_unit: Vec<Option<u32>> = (0..10)
        .map(|c| {
            Some(if c < 2 {
                0
            } else if c < 6 {
                1
            } else {
                2
            })
        })
        .collect();
    let mut events = Vec::new();
    let mut event_unit = Vec::new();
    for week in 0..12 {
        let t0 = f64::from(week) * 7.0;
        let week_events = [
            (0, Some(0)),
            (1, Some(0)),
            (2, Some(1)),
            (3, Some(1)),
            (4, Some(1)),
            (8, None),
        ];
        for (k, (cell, unit)) in week_events.into_iter().enumerate() {
            events.push(Event {
                x: f64::from(cell) * 100.0 + 50.0,
                y: 50.0,
                t: t0 + 0.5 + k as f64,
            });
            event_unit.push(unit);
        }
    }
    let scoring = UnitScoring {
        cell_unit,
        event_unit,
        area: vec![2.0, 4.0, 4.0],
    };
    let cfg = BacktestConfig {
        start: 28.0,
        origins: 4,
        step: 7.0,
        train: 28.0,
        horizon: 7.0,
        coverages: vec![0.2, 1.0],
        seed: 3,
        cell_area: 1.0,
        study_area: 10.0,
    };
    let model = HistoricalAverage { span: 28.0 };
    let on_grid = backtest(&events, &grid, &model, &cfg);
    let on_units = backtest_units(&events, &grid, &scoring, &model, &cfg);
    let peek = backtest_units(&events, &grid, &scoring, &NoPeeking, &cfg);
    assert!(peek.origins.iter().all(|o| o.error.is_none()));
    for (g, u) in on_grid.origins.iter().zip(&on_units.origins) {
        assert_eq!(g.train_events, u.train_events);
        assert_eq!(g.parameters, u.parameters);
        // The grid counts the event in cell 8; the units leave it out.
        assert_eq!((g.test_events, u.test_events), (6, 5));
        let c = &u.coverage[0];
        assert_eq!((c.cells, c.area, c.hits), (1, 2.0, 2.0));
        assert!((c.hit_rate - 0.4).abs() < 1e-15);
        assert!((c.pai - 2.0).abs() < 1e-12);
        assert_eq!(c.pei_star, 1.0);
        // Everything flagged: all of the units' events, PAI 1.
        let all = &u.coverage[1];
        assert_eq!((all.cells, all.hits, all.pai), (3, 5.0, 1.0));
    }
    assert_eq!(on_units.summary[0].mean_cells, 1.0);
    assert_eq!(on_units.summary[0].area, 2.0);
}

/// The naive model scores each cell by its events in the window, scaled to the horizon;
/// the historical average by all training events.
#[test]
fn naive_and_historical_baselines() {
    let grid = line_grid();
    let events = [
        Event {
            x: 50.0,
            y: 50.0,
            t: 1.0,
        },
        Event {
            x: 50.0,
            y: 50.0,
            t: 25.0,
        },
        Event {
            x: 150.0,
            y: 50.0,
            t: 27.0,
        },
        Event {
            x: 150.0,
            y: 50.0,
            t: 28.0,
        },
    ];
    let t = Training {
        events: &events,
        grid: &grid,
        origin: 30.0,
        horizon: 7.0,
        seed: 1,
    };
    let naive = RecentCounts { window: 7.0 }.forecast(&t).expect("naive");
    assert_eq!(&naive.scores[..3], &[1.0, 2.0, 0.0]);
    let hist = HistoricalAverage { span: 28.0 }
        .forecast(&t)
        .expect("historical");
    assert_eq!(&hist.scores[..3], &[0.5, 0.5, 0.0]);
    assert!(RecentCounts { window: 0.0 }.forecast(&t).is_err());
}

/// Scores one fixed cell, whatever the data: a deliberately wrong member.
struct AlwaysCell(usize);

impl Forecaster for AlwaysCell {
    fn name(&self) -> String {
        format!("always-{}", self.0)
    }
    fn forecast(&self, t: &Training<'_>) -> Result<Forecast, ForecastError> {
        let mut scores = vec![0.0; t.grid.len()];
        scores[self.0] = 1.0;
        Ok(Forecast {
            scores,
            expected_counts: true,
            parameters: Vec::new(),
        })
    }
}

/// Every event happens in cell 2: the historical average is right in every validation
/// week (PAI 10 at 10% of ten cells), a member always pointing at cell 7 never is, so
/// the ensemble gives the first weight 1 and the second 0, and forecasts like the first.
#[test]
fn ensemble_weights_members_by_validation_pai() {
    use sl_analytics::forecast::ensemble::Ensemble;
    let grid = line_grid();
    let events: Vec<Event> = (0..100)
        .map(|d| Event {
            x: 250.0,
            y: 50.0,
            t: f64::from(d),
        })
        .collect();
    let t = Training {
        events: &events,
        grid: &grid,
        origin: 100.0,
        horizon: 7.0,
        seed: 1,
    };
    let ensemble = Ensemble {
        members: vec![
            Box::new(HistoricalAverage { span: 100.0 }),
            Box::new(AlwaysCell(7)),
        ],
        validation_periods: 4,
        coverage: 0.1,
    };
    let f = ensemble.forecast(&t).expect("ensemble");
    let weight = |name: &str| {
        f.parameters
            .iter()
            .find(|(n, _)| n == name)
            .map(|p| p.1)
            .expect("weight")
    };
    assert_eq!(weight("weight_historical"), 1.0);
    assert_eq!(weight("weight_always-7"), 0.0);
    assert!((weight("validation_pai_historical") - 10.0).abs() < 1e-12);
    let h = HistoricalAverage { span: 100.0 }
        .forecast(&t)
        .expect("historical");
    for (a, b) in f.scores.iter().zip(&h.scores) {
        assert!((a - b).abs() < 1e-12);
    }
    assert!(f.expected_counts);
}
