use sl_analytics::forecast::backtest::{BacktestConfig, backtest};
use sl_analytics::forecast::metrics::{cells_for, evaluate, poisson_log_likelihood, rank};
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
