//! Emerging hot spot analysis on the Philadelphia fixture cube (161 locations × 24
//! months, the same input as `benches/emerging_peer.py`), and on a synthetic
//! city-sized cube (12,000 cells × 84 months) to show how it scales.

use criterion::{Criterion, criterion_group, criterion_main};
use sl_analytics::emerging::{EmergingConfig, SpaceTimeCube, emerging_hot_spots};
use sl_analytics::grid::{Grid, MaskedGrid};
use sl_analytics::rng;
use sl_analytics::weights::Weights;
use std::hint::black_box;

fn fixture() -> (MaskedGrid, SpaceTimeCube) {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/emerging/phl_burglary_1500m_2023_2024.json"
    );
    let text = std::fs::read_to_string(path).expect("fixture is in the repository");
    let doc: serde_json::Value = serde_json::from_str(&text).expect("fixture is JSON");
    let num = |v: &serde_json::Value| v.as_f64().expect("number");
    let g = &doc["grid"];
    let grid = MaskedGrid::all(Grid {
        x0: num(&g["x0"]),
        y0: num(&g["y0"]),
        cell: num(&g["cell"]),
        rows: num(&g["rows"]) as u32,
        cols: num(&g["cols"]) as u32,
    });
    let counts: Vec<f64> = doc["counts"]
        .as_array()
        .expect("counts")
        .iter()
        .map(num)
        .collect();
    let steps = num(&doc["n_steps"]) as usize;
    let cube = SpaceTimeCube::new(grid.len(), steps, counts).expect("cube");
    (grid, cube)
}

fn synthetic() -> (MaskedGrid, SpaceTimeCube) {
    let grid =
        MaskedGrid::all(Grid::covering([0.0, 0.0, 14_999.0, 11_999.0], 125.0).expect("grid"));
    let n = grid.len();
    let mut r = rng::stream(42, 0);
    let values = (0..n * 84)
        .map(|b| {
            let i = b % n;
            (rng::below(&mut r, 3) * u64::from(i.is_multiple_of(5))
                + u64::from(i.is_multiple_of(11))) as f64
        })
        .collect();
    (grid, SpaceTimeCube::new(n, 84, values).expect("cube"))
}

fn bench(c: &mut Criterion) {
    let cfg = EmergingConfig::default();
    let (grid, cube) = fixture();
    let w = Weights::queen(&grid);
    c.bench_function("emerging_phl_1500m_24_months", |b| {
        b.iter(|| emerging_hot_spots(black_box(&cube), &w, &cfg).expect("analysis"))
    });
    let (grid, cube) = synthetic();
    let w = Weights::queen(&grid);
    let mut group = c.benchmark_group("emerging_large");
    group.sample_size(10);
    group.bench_function("emerging_11520_cells_84_months", |b| {
        b.iter(|| emerging_hot_spots(black_box(&cube), &w, &cfg).expect("analysis"))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
