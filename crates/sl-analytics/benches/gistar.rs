//! Gi* with 999 conditional permutations on the Philadelphia fixture (11,884 cells of
//! 150 m, 2024 incident counts, queen contiguity), weights built inside the loop as
//! esda's run builds its own. `cargo bench -p sl-analytics --bench gistar`.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use sl_analytics::gistar::{GiStarConfig, Transform, gi_star};
use sl_analytics::grid::{Grid, MaskedGrid};
use sl_analytics::weights::Weights;

fn fixture() -> (MaskedGrid, Vec<f64>) {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/gistar/cells.csv");
    let text = std::fs::read_to_string(path).expect("fixture cells.csv");
    let mut cells = Vec::new();
    let mut y = Vec::new();
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        cells.push((
            f[0].parse::<u32>().expect("row"),
            f[1].parse::<u32>().expect("col"),
        ));
        y.push(f[2].parse::<f64>().expect("count"));
    }
    let rows = cells.iter().map(|c| c.0).max().expect("cells") + 1;
    let cols = cells.iter().map(|c| c.1).max().expect("cells") + 1;
    let keep: std::collections::HashSet<(u32, u32)> = cells.into_iter().collect();
    let grid = Grid {
        x0: 0.0,
        y0: 0.0,
        cell: 150.0,
        rows,
        cols,
    };
    (MaskedGrid::new(grid, |r, c| keep.contains(&(r, c))), y)
}

fn bench(c: &mut Criterion) {
    let (grid, y) = fixture();
    for (name, transform) in [("B", Transform::Binary), ("R", Transform::RowStandardised)] {
        let cfg = GiStarConfig {
            transform,
            permutations: 999,
            seed: 1,
        };
        c.bench_function(&format!("gistar_queen_999_{name}_phl2024"), |b| {
            b.iter(|| {
                let w = Weights::queen(&grid);
                black_box(gi_star(black_box(&y), &w, &cfg).expect("gi*"))
            })
        });
    }
    let w = Weights::queen(&grid);
    let cfg = GiStarConfig {
        transform: Transform::Binary,
        permutations: 0,
        seed: 1,
    };
    c.bench_function("gistar_queen_analytic_B_phl2024", |b| {
        b.iter(|| black_box(gi_star(black_box(&y), &w, &cfg).expect("gi*")))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
