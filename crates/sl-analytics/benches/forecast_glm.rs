//! Poisson GLM benchmark: one fit + scoring on a city-sized synthetic case, 12,000
//! cells of 150 m (120 × 100) and 15,000 events over 4 × 365 days
//! (70% in 50 Gaussian clusters of σ = 300 m, 30% uniform), the size of the
//! Philadelphia residential-burglary backtest in /work/shared/PEERS.md.
//!
//! ```text
//! cargo bench -p sl-analytics --bench forecast_glm
//! ```

use criterion::{Criterion, criterion_group, criterion_main};
use sl_analytics::forecast::glm::Glm;
use sl_analytics::forecast::{Event, Forecaster, Training};
use sl_analytics::grid::{Grid, MaskedGrid};
use sl_analytics::rng::{stream, unit};

fn events(n: usize, w: f64, h: f64, days: f64) -> Vec<Event> {
    let mut rng = stream(42, 0);
    let centres: Vec<(f64, f64)> = (0..50)
        .map(|_| (unit(&mut rng) * w, unit(&mut rng) * h))
        .collect();
    let mut ev: Vec<Event> = (0..n)
        .map(|_| {
            let t = unit(&mut rng) * days;
            if unit(&mut rng) < 0.7 {
                let (cx, cy) = centres[(unit(&mut rng) * 50.0) as usize];
                // Box–Muller.
                let (u1, u2) = (unit(&mut rng).max(1e-300), unit(&mut rng));
                let r = 300.0 * (-2.0 * u1.ln()).sqrt();
                let a = std::f64::consts::TAU * u2;
                Event {
                    x: cx + r * a.cos(),
                    y: cy + r * a.sin(),
                    t,
                }
            } else {
                Event {
                    x: unit(&mut rng) * w,
                    y: unit(&mut rng) * h,
                    t,
                }
            }
        })
        .collect();
    ev.sort_by(|a, b| a.t.total_cmp(&b.t));
    ev
}

fn bench(c: &mut Criterion) {
    let grid = MaskedGrid::all(Grid {
        x0: 0.0,
        y0: 0.0,
        cell: 150.0,
        rows: 100,
        cols: 120,
    });
    let ev = events(15_000, 120.0 * 150.0, 100.0 * 150.0, 4.0 * 365.0);
    let t = Training {
        events: &ev,
        grid: &grid,
        origin: 4.0 * 365.0,
        horizon: 7.0,
        seed: 1,
    };
    let mut group = c.benchmark_group("forecast_glm");
    group.sample_size(10);
    for (name, glm) in [
        ("glm defaults (zero rows sampled 0.1)", Glm::default()),
        (
            "glm every row",
            Glm {
                zero_sampling: 1.0,
                ..Glm::default()
            },
        ),
    ] {
        group.bench_function(name, |b| b.iter(|| glm.forecast(&t).expect("forecast")));
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
