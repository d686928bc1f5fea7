//! Times `gi_star` (queen contiguity, binary transform, 999 permutations) on the
//! Philadelphia fixture: 11,884 cells of 150 m with their 2024 incident counts.
//! Prints one JSON line with the median and minimum wall time in milliseconds.
//!
//! `cargo run -p sl-analytics --release --example gistar_timing -- [runs] [transform B|R]`

use std::time::Instant;

use sl_analytics::gistar::{GiStarConfig, Transform, gi_star};
use sl_analytics::grid::{Grid, MaskedGrid};
use sl_analytics::weights::Weights;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let runs: usize = args.next().map_or(Ok(21), |a| a.parse())?;
    let transform = match args.next().as_deref() {
        Some("R") => Transform::RowStandardised,
        _ => Transform::Binary,
    };
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/gistar");
    let text = std::fs::read_to_string(format!("{dir}/cells.csv"))?;
    let mut cells = Vec::new();
    let mut y = Vec::new();
    for line in text.lines().skip(1) {
        let mut f = line.split(',');
        let mut next = || f.next().ok_or("short line");
        let (r, c, n): (u32, u32, f64) = (next()?.parse()?, next()?.parse()?, next()?.parse()?);
        cells.push((r, c));
        y.push(n);
    }
    let rows = cells.iter().map(|c| c.0).max().ok_or("no cells")? + 1;
    let cols = cells.iter().map(|c| c.1).max().ok_or("no cells")? + 1;
    let keep: std::collections::HashSet<(u32, u32)> = cells.iter().copied().collect();
    let grid = Grid {
        x0: 0.0,
        y0: 0.0,
        cell: 150.0,
        rows,
        cols,
    };
    let masked = MaskedGrid::new(grid, |r, c| keep.contains(&(r, c)));
    let cfg = GiStarConfig {
        transform,
        permutations: 999,
        seed: 1,
    };
    let mut times = Vec::with_capacity(runs);
    let mut significant = 0;
    for _ in 0..runs {
        let t = Instant::now();
        // Weights are built inside the timed region: esda's run includes its own.
        let w = Weights::queen(&masked);
        let out = gi_star(&y, &w, &cfg)?;
        times.push(t.elapsed().as_secs_f64() * 1e3);
        significant = out
            .p_sim
            .as_ref()
            .map_or(0, |p| p.iter().filter(|&&p| p <= 0.05).count());
    }
    times.sort_by(f64::total_cmp);
    println!(
        "{{\"cells\": {}, \"runs\": {runs}, \"median_ms\": {:.3}, \"min_ms\": {:.3}, \"threads\": {}, \"significant\": {significant}}}",
        y.len(),
        times[runs / 2],
        times[0],
        rayon::current_num_threads()
    );
    Ok(())
}
