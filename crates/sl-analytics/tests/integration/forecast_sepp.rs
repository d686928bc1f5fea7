use sl_analytics::forecast::sepp::{Sepp, SeppParams};
use sl_analytics::forecast::{Event, ForecastError, Forecaster, Training};
use sl_analytics::grid::{Grid, MaskedGrid};
use sl_analytics::rng::{self, SeededRng};

fn normal(r: &mut SeededRng) -> f64 {
    // Box–Muller; 1 − u avoids ln 0.
    let u = 1.0 - rng::unit(r);
    let v = rng::unit(r);
    (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
}

fn poisson(r: &mut SeededRng, mean: f64) -> usize {
    // Knuth's product of uniforms (small means only).
    let limit = (-mean).exp();
    let mut k = 0;
    let mut p = rng::unit(r);
    while p > limit {
        k += 1;
        p *= rng::unit(r);
    }
    k
}

/// Simulates the model as a branching (cluster) process: background events form a
/// Poisson process of `rate` per day on `[0, T)`, placed by `place`; every event has
/// Poisson(θ) children, each after an Exp(ω) delay and displaced by N2(0, σ²);
/// children at or after `T` are dropped. Returned in time order.
fn simulate(
    seed: u64,
    rate: f64,
    t_end: f64,
    p: SeppParams,
    mut place: impl FnMut(&mut SeededRng) -> (f64, f64),
) -> Vec<Event> {
    let mut r = rng::stream(seed, 0);
    let mut all = Vec::new();
    let mut t = 0.0;
    loop {
        t += -(1.0 - rng::unit(&mut r)).ln() / rate;
        if t >= t_end {
            break;
        }
        let (x, y) = place(&mut r);
        all.push(Event { x, y, t });
    }
    let mut next = 0;
    while next < all.len() {
        let parent = all[next];
        next += 1;
        for _ in 0..poisson(&mut r, p.theta) {
            let t = parent.t - (1.0 - rng::unit(&mut r)).ln() / p.omega;
            if t < t_end {
                let x = parent.x + p.sigma * normal(&mut r);
                let y = parent.y + p.sigma * normal(&mut r);
                all.push(Event { x, y, t });
            }
        }
    }
    all.sort_by(|a, b| a.t.total_cmp(&b.t));
    all
}

const TRUTH: SeppParams = SeppParams {
    theta: 0.5,
    omega: 0.1,
    sigma: 50.0,
};

fn uniform_square(side: f64) -> impl FnMut(&mut SeededRng) -> (f64, f64) {
    move |r| (side * rng::unit(r), side * rng::unit(r))
}

/// Hand E-step: e0 = (0, 0, day 0), e1 = (30, 40, day 2) 50 m from e0, e2 = (1000, 0,
/// day 5) far from both; σ_b = 100 m, all background weights 1, window 10 days,
/// θ = 0.5, ω = 0.1, σ = 50.
/// K_b(d²) = e^{−d²/2·10⁴} / (2π·10⁴): μ0 = μ1 = (K_b(0) + K_b(2500)) / 10
/// = 2.996087·10⁻⁶, μ2 = K_b(0)/10 = 1.591549·10⁻⁶;
/// g01 = 0.5 · 0.1 · e^{−0.2} · e^{−2500/5000} / (2π·2500) = 1.580680·10⁻⁶;
/// p11 = μ1 / (μ1 + g01) = 0.654630, p01 = 0.345370; e0 and e2 are background (p = 1).
#[test]
fn e_step_hand_case() {
    let events = [
        Event {
            x: 0.0,
            y: 0.0,
            t: 0.0,
        },
        Event {
            x: 30.0,
            y: 40.0,
            t: 2.0,
        },
        Event {
            x: 1000.0,
            y: 0.0,
            t: 5.0,
        },
    ];
    let model = Sepp {
        background_bandwidth: 100.0,
        ..Sepp::default()
    };
    let e = model.e_step(&events, &[1.0; 3], 10.0, &TRUTH);
    let kb = |d2: f64| (-d2 / 2e4).exp() / (2.0 * std::f64::consts::PI * 1e4);
    let mu1 = (kb(0.0) + kb(2500.0)) / 10.0;
    let mu2 = kb(0.0) / 10.0;
    let g = 0.05 * (-0.2f64).exp() * (-0.5f64).exp() / (2.0 * std::f64::consts::PI * 2500.0);
    assert!((mu1 - 2.996087e-6).abs() < 1e-12);
    assert!((g - 1.580680e-6).abs() < 1e-12);
    let p01 = g / (mu1 + g);
    assert!((p01 - 0.345370).abs() < 1e-6, "{p01}");
    assert_eq!(e.background[0], 1.0);
    assert!((e.background[1] - (1.0 - p01)).abs() < 1e-14);
    assert_eq!(e.background[2], 1.0);
    assert!((e.offspring - p01).abs() < 1e-14);
    assert!((e.lag_sum - 2.0 * p01).abs() < 1e-14);
    assert!((e.distance2_sum - 2500.0 * p01).abs() < 1e-10);
    let ll = mu1.ln() + (mu1 + g).ln() + mu2.ln();
    assert!((e.log_intensity_sum - ll).abs() < 1e-10);

    // M-step without edge correction (closed forms): θ = P/n, ω = P/D = 1/2,
    // σ² = S/(2P) = 1250 (no floor on σ).
    let closed = Sepp {
        background_bandwidth: 100.0,
        initial: TRUTH,
        edge_correction: false,
        max_iterations: 1,
        min_events: 3,
        min_sigma: 0.0,
        ..Sepp::default()
    };
    // fit() starts from background weights 1 − θ0 = 0.5: redo the E-step with them.
    let e_half = closed.e_step(&events, &[0.5; 3], 10.0, &TRUTH);
    let fit = closed.fit(&events, 0.0, 10.0).expect("fit");
    assert_eq!(fit.iterations, 1);
    assert!(!fit.converged);
    assert!((fit.params.theta - e_half.offspring / 3.0).abs() < 1e-14);
    assert!((fit.params.omega - 0.5).abs() < 1e-12);
    assert!((fit.params.sigma - 1250f64.sqrt()).abs() < 1e-9);
    assert_eq!(fit.background_weights, e_half.background);
    // The default 50 m floor binds: σ = max(√1250, 50) = 50, θ and ω unchanged.
    let floored = Sepp {
        min_sigma: 50.0,
        ..closed
    }
    .fit(&events, 0.0, 10.0)
    .expect("fit");
    assert_eq!(floored.params.sigma, 50.0);
    assert_eq!(floored.params.theta, fit.params.theta);
    assert_eq!(floored.params.omega, fit.params.omega);

    // With edge correction: θ and ω satisfy the two stationarity equations
    // P/θ = Σ(1 − e^{−ωτ}), P/ω − D − θ Σ τ e^{−ωτ} = 0 (τ = 10 − t_i).
    let edge = Sepp {
        edge_correction: true,
        ..closed
    };
    let f = edge.fit(&events, 0.0, 10.0).expect("fit");
    let (th, w) = (f.params.theta, f.params.omega);
    let taus = [10.0, 8.0, 5.0];
    let s1: f64 = taus.iter().map(|t: &f64| 1.0 - (-w * t).exp()).sum();
    let s2: f64 = taus.iter().map(|t: &f64| t * (-w * t).exp()).sum();
    assert!((e_half.offspring / th - s1).abs() < 1e-9 * s1);
    let r = e_half.offspring / w - e_half.lag_sum - th * s2;
    assert!(r.abs() < 1e-9 * (e_half.offspring / w), "{r}");
    // Fewer offspring than without the correction would suggest (some of them
    // would fall after the window).
    assert!(th > fit.params.theta);
}

/// Simulate-and-recover: ≈ 6,000 events from θ = 0.5, ω = 0.1/day, σ = 50 m over a
/// 10 km square and 1,000 days (homogeneous background, 3 per day).
#[test]
fn recovers_simulated_parameters() {
    let events = simulate(7, 3.0, 1000.0, TRUTH, uniform_square(10_000.0));
    assert!(events.len() > 5000, "{}", events.len());
    let model = Sepp {
        background_bandwidth: 500.0,
        initial: SeppParams {
            theta: 0.2,
            omega: 0.5,
            sigma: 20.0,
        },
        ..Sepp::default()
    };
    let fit = model.fit(&events, 0.0, 1000.0).expect("fit");
    let p = fit.params;
    eprintln!(
        "n = {}, θ = {:.4}, ω = {:.4}, σ = {:.2}, iterations {}, background {:.0}",
        events.len(),
        p.theta,
        p.omega,
        p.sigma,
        fit.iterations,
        fit.background_weights.iter().sum::<f64>()
    );
    assert!(fit.converged);
    assert!((p.theta - 0.5).abs() < 0.04, "θ = {}", p.theta);
    assert!((p.omega - 0.1).abs() < 0.012, "ω = {}", p.omega);
    assert!((p.sigma - 50.0).abs() < 3.0, "σ = {}", p.sigma);
}

/// Events at shared points (background events at 300 "addresses", as block-level
/// geocoding places repeat burglaries) make the likelihood unbounded as σ → 0. Without
/// a floor the EM shrinks σ below a metre and the triggering degenerates; with a 10 m
/// floor σ stops there and θ stays well above 0; and on data without
/// shared points the floor changes nothing.
#[test]
fn sigma_floor_keeps_snapped_points_from_degenerating() {
    let mut a = rng::stream(99, 0);
    let addresses: Vec<(f64, f64)> = (0..300)
        .map(|_| (10_000.0 * rng::unit(&mut a), 10_000.0 * rng::unit(&mut a)))
        .collect();
    let events = simulate(7, 3.0, 1000.0, TRUTH, |r| {
        addresses[((rng::unit(r) * 300.0) as usize).min(299)]
    });
    let fit = |min_sigma: f64| {
        Sepp {
            background_bandwidth: 100.0,
            min_sigma,
            ..Sepp::default()
        }
        .fit(&events, 0.0, 1000.0)
        .expect("fit")
        .params
    };
    let free = fit(0.0);
    assert!(free.sigma < 1.0, "σ = {} without a floor", free.sigma);
    let floored = fit(10.0);
    assert_eq!(Sepp::default().min_sigma, 50.0);
    assert!(floored.sigma >= 10.0, "σ = {}", floored.sigma);
    assert!(floored.theta > 0.2, "θ = {}", floored.theta);
    // On unsnapped data the floor is not binding: the same fit as without it.
    let exact = simulate(7, 3.0, 1000.0, TRUTH, uniform_square(10_000.0));
    let with = |min_sigma: f64| {
        Sepp {
            background_bandwidth: 500.0,
            min_sigma,
            ..Sepp::default()
        }
        .fit(&exact, 0.0, 1000.0)
        .expect("fit")
        .params
    };
    assert_eq!(with(0.0), with(10.0));
    assert!(matches!(
        Sepp {
            min_sigma: -1.0,
            ..Sepp::default()
        }
        .fit(&exact, 0.0, 1000.0),
        Err(ForecastError::BadParameter(_))
    ));
}

/// Given more history than its span (as an ensemble gives its members the longest
/// history any member asks for), the model fits its window only: the same forecast as
/// from the window's events alone.
#[test]
fn longer_history_than_the_span_is_ignored() {
    let events = simulate(3, 1.0, 400.0, TRUTH, uniform_square(3000.0));
    let grid =
        MaskedGrid::all(Grid::covering([-500.0, -500.0, 3500.0, 3500.0], 250.0).expect("grid"));
    let model = Sepp {
        span: Some(100.0),
        ..Sepp::default()
    };
    let all = Training {
        events: &events,
        grid: &grid,
        origin: 400.0,
        horizon: 7.0,
        seed: 1,
    };
    let first = events.partition_point(|e| e.t < 300.0);
    assert!(first > 100);
    let window = Training {
        events: &events[first..],
        ..all
    };
    assert_eq!(
        model.forecast(&all).expect("forecast with long history"),
        model.forecast(&window).expect("forecast")
    );
}

/// The forecast's total over a grid that holds every kernel equals the intensity's
/// integral: h/T · Σ p_kk + Σ_i θ (e^{−ω(T1 − t_i)} − e^{−ω(T1 + h − t_i)}).
#[test]
fn forecast_total_is_the_integrated_intensity() {
    let events = simulate(11, 1.0, 300.0, TRUTH, uniform_square(3000.0));
    let model = Sepp {
        background_bandwidth: 300.0,
        ..Sepp::default()
    };
    let grid =
        MaskedGrid::all(Grid::covering([-2000.0, -2000.0, 5000.0, 5000.0], 150.0).expect("grid"));
    let t = Training {
        events: &events,
        grid: &grid,
        origin: 300.0,
        horizon: 7.0,
        seed: 1,
    };
    let fc = model.forecast(&t).expect("forecast");
    assert!(fc.expected_counts);
    let fit = model.fit(&events, events[0].t, 300.0).expect("fit");
    let p = fit.params;
    let span = 300.0 - events[0].t;
    let bg: f64 = fit.background_weights.iter().sum::<f64>() * 7.0 / span;
    let trig: f64 = events
        .iter()
        .map(|e| p.theta * ((-p.omega * (300.0 - e.t)).exp() - (-p.omega * (307.0 - e.t)).exp()))
        .sum();
    let total: f64 = fc.scores.iter().sum();
    assert!(
        (total - (bg + trig)).abs() < 3e-4 * (bg + trig),
        "{total} vs {}",
        bg + trig
    );
    let get = |k: &str| fc.parameters.iter().find(|(n, _)| n == k).expect("ok").1;
    assert_eq!(get("theta"), p.theta);
    assert_eq!(get("omega_per_day"), p.omega);
    assert_eq!(get("sigma_m"), p.sigma);
    assert_eq!(get("converged"), 1.0);
    // Cells near the most recent events score above the background.
    let last = events.last().expect("ok");
    let i = grid.index_of_point(last.x, last.y).expect("ok");
    let median = {
        let mut s = fc.scores.clone();
        s.sort_by(f64::total_cmp);
        s[s.len() / 2]
    };
    assert!(fc.scores[i] > median);
}

/// Single-point forecast by hand: one cell of 100 m centred on a lone recent event,
/// with θ fixed by a one-iteration fit without pairs (θ = 0): the expected count is
/// h/T · mass of N2(σ_b) in the cell = h/T · (2Φ(50/σ_b) − 1)².
#[test]
fn forecast_cell_mass_hand_case() {
    let events: Vec<Event> = (0..10)
        .map(|k| Event {
            x: 50.0 + 100_000.0 * f64::from(k),
            y: 50.0,
            t: f64::from(k),
        })
        .collect();
    let model = Sepp {
        background_bandwidth: 100.0,
        span: Some(20.0),
        ..Sepp::default()
    };
    let grid = MaskedGrid::all(Grid::covering([0.0, 0.0, 99.0, 99.0], 100.0).expect("grid"));
    assert_eq!(grid.len(), 1);
    let fc = model
        .forecast(&Training {
            events: &events,
            grid: &grid,
            origin: 15.0,
            horizon: 5.0,
            seed: 0,
        })
        .expect("ok");
    // No pairs within the cutoffs: θ = 0, every event background with weight 1.
    let get = |k: &str| fc.parameters.iter().find(|(n, _)| n == k).expect("ok").1;
    assert_eq!(get("theta"), 0.0);
    assert_eq!(get("background_events"), 10.0);
    let phi = 1.0 - sl_analytics::normal_upper_tail(0.5);
    let expected = 5.0 / 20.0 * (2.0 * phi - 1.0).powi(2);
    assert!((fc.scores[0] - expected).abs() < 1e-12, "{}", fc.scores[0]);
}

/// Same bits whatever the number of threads.
#[test]
fn deterministic_under_thread_counts() {
    let events = simulate(3, 2.0, 400.0, TRUTH, uniform_square(5000.0));
    let model = Sepp::default();
    let grid = MaskedGrid::all(Grid::covering([0.0, 0.0, 5000.0, 5000.0], 150.0).expect("grid"));
    let run = |threads: usize| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .expect("ok")
            .install(|| {
                model
                    .forecast(&Training {
                        events: &events,
                        grid: &grid,
                        origin: 400.0,
                        horizon: 7.0,
                        seed: 0,
                    })
                    .expect("ok")
            })
    };
    let a = run(1);
    let b = run(2);
    let c = run(3);
    assert_eq!(a, b);
    assert_eq!(a, c);
}

#[test]
fn rejects_bad_settings_and_too_few_events() {
    let events = [Event {
        x: 0.0,
        y: 0.0,
        t: 0.0,
    }; 3];
    let grid = MaskedGrid::all(Grid::covering([0.0, 0.0, 10.0, 10.0], 10.0).expect("grid"));
    let t = Training {
        events: &events,
        grid: &grid,
        origin: 1.0,
        horizon: 1.0,
        seed: 0,
    };
    assert!(matches!(
        Sepp::default().forecast(&t),
        Err(sl_analytics::forecast::ForecastError::TooFewEvents { needed: 10, got: 3 })
    ));
    let bad = Sepp {
        background_bandwidth: 0.0,
        min_events: 1,
        ..Sepp::default()
    };
    assert!(matches!(
        bad.forecast(&t),
        Err(sl_analytics::forecast::ForecastError::BadParameter(_))
    ));
}

/// ≈ 20,000 events (θ = 0.5 over a 20 km square, 2,000 days), started away from the
/// truth: recovery and the fit's time (printed; run with `--nocapture`).
#[test]
fn fits_twenty_thousand_events_quickly() {
    let events = simulate(5, 5.0, 2000.0, TRUTH, uniform_square(20_000.0));
    assert!(events.len() > 18_000, "{}", events.len());
    let model = Sepp {
        background_bandwidth: 500.0,
        initial: SeppParams {
            theta: 0.2,
            omega: 0.5,
            sigma: 20.0,
        },
        ..Sepp::default()
    };
    let t0 = std::time::Instant::now();
    let fit = model.fit(&events, 0.0, 2000.0).expect("fit");
    let secs = t0.elapsed().as_secs_f64();
    let p = fit.params;
    eprintln!(
        "20k fit: n = {}, {:.2} s, {} iterations, θ = {:.4}, ω = {:.4}, σ = {:.2}",
        events.len(),
        secs,
        fit.iterations,
        p.theta,
        p.omega,
        p.sigma
    );
    assert!((p.theta - 0.5).abs() < 0.03, "θ = {}", p.theta);
    assert!((p.omega - 0.1).abs() < 0.01, "ω = {}", p.omega);
    assert!((p.sigma - 50.0).abs() < 2.5, "σ = {}", p.sigma);
}

/// A city-like inhomogeneous background on a 16.5 km square: 70% of background events
/// around 150 hot spots (N2 with 250 m spread), 30% uniform.
fn city(seed: u64) -> impl FnMut(&mut SeededRng) -> (f64, f64) {
    let mut r = rng::stream(seed, 1);
    let spots: Vec<(f64, f64)> = (0..300)
        .map(|_| (16_500.0 * rng::unit(&mut r), 16_500.0 * rng::unit(&mut r)))
        .collect();
    move |r| {
        if rng::unit(r) < 0.7 {
            let (cx, cy) = spots[rng::below(r, spots.len() as u64) as usize];
            (cx + 250.0 * normal(r), cy + 250.0 * normal(r))
        } else {
            (16_500.0 * rng::unit(r), 16_500.0 * rng::unit(r))
        }
    }
}

const CITY_TRUTH: SeppParams = SeppParams {
    theta: 0.3,
    omega: 0.2,
    sigma: 80.0,
};

/// Simulate-and-recover with an inhomogeneous (hot-spot) background and the default
/// settings (σ_b = 250 m, started away from the truth): ≈ 6,000 events in a year.
#[test]
fn recovers_parameters_over_hot_spot_background() {
    let events = simulate(21, 12.0, 365.0, CITY_TRUTH, city(21));
    let fit = Sepp::default().fit(&events, 0.0, 365.0).expect("fit");
    let p = fit.params;
    eprintln!(
        "city: n = {}, θ = {:.4}, ω = {:.4}, σ = {:.2}, iterations {}",
        events.len(),
        p.theta,
        p.omega,
        p.sigma,
        fit.iterations
    );
    assert!(fit.converged);
    assert!((p.theta - 0.3).abs() < 0.05, "θ = {}", p.theta);
    assert!((p.omega - 0.2).abs() < 0.04, "ω = {}", p.omega);
    assert!((p.sigma - 80.0).abs() < 8.0, "σ = {}", p.sigma);
}

/// City-scale timing (run with `--ignored --nocapture`): a 52-origin weekly backtest,
/// 365-day training (≈ 6,000 events), 7-day horizon, on the ≈ 12,100 cells of 150 m.
#[test]
#[ignore]
fn city_backtest_timing() {
    use sl_analytics::forecast::backtest::{BacktestConfig, backtest};
    let events = simulate(22, 12.0, 800.0, CITY_TRUTH, city(22));
    let grid =
        MaskedGrid::all(Grid::covering([0.0, 0.0, 16_499.0, 16_499.0], 150.0).expect("grid"));
    let cfg = BacktestConfig {
        start: 400.0,
        origins: 52,
        step: 7.0,
        train: 365.0,
        horizon: 7.0,
        coverages: vec![0.01, 0.05],
        seed: 1,
        cell_area: grid.grid().cell_area(),
        study_area: grid.area(),
    };
    let model = Sepp {
        span: Some(365.0),
        ..Sepp::default()
    };
    let t0 = std::time::Instant::now();
    let r = backtest(&events, &grid, &model, &cfg);
    let secs = t0.elapsed().as_secs_f64();
    let iters: f64 = r
        .origins
        .iter()
        .map(|o| {
            o.parameters
                .iter()
                .find(|(n, _)| n == "iterations")
                .expect("ok")
                .1
        })
        .sum();
    eprintln!(
        "cells {}, events {}, 52 origins in {:.2} s ({:.3} s per fit, {:.1} iterations per fit), PAI@1% {:.2}, PAI@5% {:.2}",
        grid.len(),
        r.origins[0].train_events,
        secs,
        secs / 52.0,
        iters / 52.0,
        r.summary[0].pai,
        r.summary[1].pai
    );
    assert!(r.origins.iter().all(|o| o.error.is_none()));
}

fn fixture(name: &str) -> String {
    let path = format!(
        "{}/tests/data/forecast-sepp/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).expect("fixture")
}

/// Same fit and forecast as an independent dense numpy implementation (all pairs, no
/// cutoffs, no index; tests/data/forecast-sepp/make_fixture.py) on 655 simulated
/// events, both iterated to 10⁻¹¹ (both take 125 iterations with, 104 without edge
/// correction): parameters, background total and log-likelihood to 10⁻¹⁰ relative
/// (they agree to ≈ 10⁻¹³), every cell's expected count to 10⁻¹⁰ of the largest. The
/// cutoffs are widened (10 σ, tail 10⁻³⁰) so that they cannot matter at this
/// precision.
#[test]
fn matches_dense_numpy_reference() {
    let events: Vec<Event> = fixture("events.csv")
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
    let r: serde_json::Value = serde_json::from_str(&fixture("reference.json")).expect("json");
    assert_eq!(events.len() as u64, r["n"].as_u64().expect("n"));
    let num = |v: &serde_json::Value| v.as_f64().expect("number");
    let rel = |a: f64, b: f64| (a - b).abs() / b.abs();
    let model = Sepp {
        background_bandwidth: num(&r["sigma_b"]),
        space_cutoff: 10.0,
        time_tail: 1e-30,
        tolerance: 1e-11,
        max_iterations: 10_000,
        ..Sepp::default()
    };
    for (key, edge) in [("edge_corrected", true), ("no_edge_correction", false)] {
        let m = Sepp {
            edge_correction: edge,
            ..model
        };
        let fit = m.fit(&events, 0.0, 200.0).expect("fit");
        let want = &r[key];
        let p = fit.params;
        eprintln!("{key}: {p:?} in {} iterations vs {want}", fit.iterations);
        assert!(fit.converged);
        assert!(rel(p.theta, num(&want["theta"])) < 1e-10, "{key} θ");
        assert!(rel(p.omega, num(&want["omega"])) < 1e-10, "{key} ω");
        assert!(rel(p.sigma, num(&want["sigma"])) < 1e-10, "{key} σ");
        let bg: f64 = fit.background_weights.iter().sum();
        assert!(rel(bg, num(&want["background_events"])) < 1e-10, "{key} bg");
        assert!(
            rel(fit.log_likelihood, num(&want["log_likelihood"])) < 1e-10,
            "{key} ll"
        );
        if edge {
            let grid =
                MaskedGrid::all(Grid::covering([0.0, 0.0, 1999.9, 1999.9], 100.0).expect("grid"));
            let scores = m.expected_counts(&fit, &events, &grid, 7.0);
            let expected: Vec<(u32, u32, f64)> = fixture("expected.csv")
                .lines()
                .skip(1)
                .map(|l| {
                    let v: Vec<&str> = l.split(',').collect();
                    (
                        v[0].parse().expect("row"),
                        v[1].parse().expect("col"),
                        v[2].parse().expect("value"),
                    )
                })
                .collect();
            assert_eq!(expected.len(), grid.len());
            let max = expected.iter().map(|e| e.2).fold(0.0, f64::max);
            for (row, col, want) in expected {
                let i = grid.index_of(row, col).expect("cell");
                assert!(
                    (scores[i] - want).abs() < 1e-10 * max,
                    "cell ({row}, {col}): {} vs {want}",
                    scores[i]
                );
            }
        }
    }
}
