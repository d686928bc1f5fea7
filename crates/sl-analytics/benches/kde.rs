//! KDE benchmark: Philadelphia 2024 incidents (≈154k located points, UTM 18N metres)
//! onto the 150 m cells of their bounding box that hold at least one incident.
//!
//! The points come from `tests/data/kde/bench_points.py` (see docs/BENCHMARKS.md, "The analyst's toolbox"):
//!
//! ```text
//! python tests/data/kde/bench_points.py \
//!     /work/shared/data/philadelphia-ppd/raw/incidents_2024.csv.zst /tmp/phl2024_utm.csv
//! SL_BENCH_POINTS=/tmp/phl2024_utm.csv cargo bench -p sl-analytics --bench kde
//! ```
//!
//! Without `SL_BENCH_POINTS` the benchmark says so and measures nothing.

use criterion::{Criterion, criterion_group, criterion_main};
use sl_analytics::grid::{Grid, MaskedGrid};
use sl_analytics::kde::{Bandwidth, KdeConfig, Kernel, kde_grid};

fn load(path: &str) -> Vec<(f64, f64)> {
    std::fs::read_to_string(path)
        .expect("read SL_BENCH_POINTS")
        .lines()
        .skip(1)
        .map(|l| {
            let (x, y) = l.split_once(',').expect("x,y");
            (x.parse().expect("x"), y.parse().expect("y"))
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let Ok(path) = std::env::var("SL_BENCH_POINTS") else {
        eprintln!("SL_BENCH_POINTS is not set: see the module doc to create the points file");
        return;
    };
    let pts = load(&path);
    let mut extent = [f64::MAX, f64::MAX, f64::MIN, f64::MIN];
    for &(x, y) in &pts {
        extent = [
            extent[0].min(x),
            extent[1].min(y),
            extent[2].max(x),
            extent[3].max(y),
        ];
    }
    let grid = Grid::covering(extent, 150.0).expect("grid");
    let mut occupied = vec![false; grid.len()];
    for &(x, y) in &pts {
        if let Some((r, c)) = grid.cell_of(x, y) {
            occupied[r as usize * grid.cols as usize + c as usize] = true;
        }
    }
    let cells = MaskedGrid::new(grid, |r, c| {
        occupied[r as usize * grid.cols as usize + c as usize]
    });
    eprintln!(
        "{} points, {} cells of {}",
        pts.len(),
        cells.len(),
        grid.len()
    );
    let mut group = c.benchmark_group("kde");
    group.sample_size(10);
    for (name, kernel, bandwidth) in [
        (
            "quartic_fixed_300m",
            Kernel::Quartic,
            Bandwidth::Fixed(300.0),
        ),
        (
            "gaussian_fixed_300m",
            Kernel::GAUSSIAN,
            Bandwidth::Fixed(300.0),
        ),
        (
            "quartic_adaptive_300m",
            Kernel::Quartic,
            Bandwidth::Adaptive {
                pilot: 300.0,
                global: 300.0,
            },
        ),
    ] {
        let cfg = KdeConfig { kernel, bandwidth };
        group.bench_function(name, |b| {
            b.iter(|| kde_grid(&pts, None, &cells, &cfg).expect("kde"))
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
