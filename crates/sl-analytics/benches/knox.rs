//! Knox test benchmarks on real Philadelphia residential burglaries (2024, 3,289 events,
//! the test fixture).
//!
//! `cargo bench -p sl-analytics --bench knox` runs the criterion benchmarks.
//!
//! The same binary has a one-shot mode used by `bench/knox_vs_pointpats.py`, which runs
//! pointpats and this code on the same input in one run:
//!
//! ```text
//! knox-<hash> --oneshot input=<csv with x,y,day> space=0,200,inf time=0,14,inf \
//!     intervals=right|left distance=euclidean|manhattan permutations=999 seed=1 repeats=5
//! ```
//!
//! It prints one JSON line: the median and all wall-clock seconds of `repeats` runs
//! (indexing and permutations included, CSV reading excluded), the observed counts and
//! the number of indexed pairs.

use std::hint::black_box;
use std::time::Instant;

use criterion::{Criterion, criterion_group};
use sl_analytics::knox::{Bands, Distance, KnoxConfig, SpaceTimePoint, knox};
use sl_analytics::near_repeat::{NearRepeatWindow, classify};

fn read_points(path: &str) -> Vec<SpaceTimePoint> {
    let text = std::fs::read_to_string(path).expect("readable CSV");
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().expect("a header").split(',').collect();
    let col = |name: &str| {
        header
            .iter()
            .position(|h| *h == name)
            .expect("columns x, y and day")
    };
    let (cx, cy, ct) = (col("x"), col("y"), col("day"));
    lines
        .map(|line| {
            let f: Vec<&str> = line.split(',').collect();
            let num = |k: usize| f[k].parse::<f64>().expect("a number");
            SpaceTimePoint {
                x: num(cx),
                y: num(cy),
                t: num(ct),
            }
        })
        .collect()
}

fn fixture() -> Vec<SpaceTimePoint> {
    read_points(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/knox/phl_burglary_2024.csv"
    ))
}

fn parse_breaks(s: &str) -> Vec<f64> {
    s.split(',')
        .map(|v| match v {
            "inf" | "Inf" => f64::INFINITY,
            _ => v.parse().expect("a break"),
        })
        .collect()
}

fn oneshot(args: &[String]) {
    let get = |key: &str, default: &str| -> String {
        args.iter()
            .find_map(|a| a.strip_prefix(&format!("{key}=")).map(str::to_string))
            .unwrap_or_else(|| default.to_string())
    };
    let points = read_points(&get("input", ""));
    let space = parse_breaks(&get("space", "0,200,inf"));
    let time = parse_breaks(&get("time", "0,14,inf"));
    let (space, time) = match get("intervals", "right").as_str() {
        "right" => (Bands::right_closed(space), Bands::right_closed(time)),
        _ => (Bands::left_closed(space), Bands::left_closed(time)),
    };
    let cfg = KnoxConfig {
        space,
        time,
        distance: match get("distance", "euclidean").as_str() {
            "manhattan" => Distance::Manhattan,
            _ => Distance::Euclidean,
        },
        permutations: get("permutations", "999").parse().expect("permutations"),
        seed: get("seed", "1").parse().expect("seed"),
    };
    let repeats: usize = get("repeats", "5").parse().expect("repeats");
    let mut secs = Vec::with_capacity(repeats);
    let mut last = None;
    for _ in 0..repeats {
        let start = Instant::now();
        let table = knox(black_box(&points), &cfg).expect("valid input");
        secs.push(start.elapsed().as_secs_f64());
        last = Some(table);
    }
    let table = last.expect("at least one repeat");
    let mut sorted = secs.clone();
    sorted.sort_by(f64::total_cmp);
    let observed: Vec<u64> = table.cells.iter().map(|c| c.observed).collect();
    let round = |v: f64| (v * 1000.0).round() / 1000.0;
    let ratio: Vec<f64> = table.cells.iter().map(|c| round(c.knox_ratio)).collect();
    let ratio_median: Vec<f64> = table
        .cells
        .iter()
        .map(|c| round(c.knox_ratio_median))
        .collect();
    let p: Vec<f64> = table.cells.iter().map(|c| c.p).collect();
    let roles = get("classify", "");
    let roles = if roles.is_empty() {
        String::new()
    } else {
        let w: Vec<f64> = parse_breaks(&roles);
        let window = NearRepeatWindow {
            distance: cfg.distance,
            ..NearRepeatWindow::new(w[0], w[1])
        };
        let r = classify(&points, &window).expect("valid window");
        let n = |role| r.iter().filter(|&&x| x == role).count();
        use sl_analytics::near_repeat::NearRepeatRole::*;
        format!(
            ", \"roles\": {{\"originator\": {}, \"near_repeat\": {}, \"repeat\": {}, \"isolated\": {}}}",
            n(Originator),
            n(NearRepeat),
            n(Repeat),
            n(Isolated)
        )
    };
    let first = table.cell(0, 0);
    println!(
        "{{\"n\": {}, \"median_seconds\": {}, \"seconds\": {:?}, \"observed\": {:?}, \
         \"expected_00\": {}, \"mean_simulated_00\": {}, \"p_00\": {}, \"indexed_pairs\": {}, \
         \"threads\": {}, \"knox_ratio\": {:?}, \"knox_ratio_median\": {:?}, \"p\": {:?}{}}}",
        points.len(),
        sorted[sorted.len() / 2],
        secs,
        observed,
        first.expected,
        first.mean_simulated,
        first.p,
        table.indexed_pairs,
        rayon::current_num_threads(),
        ratio,
        ratio_median,
        p,
        roles
    );
}

fn benches(c: &mut Criterion) {
    let points = fixture();
    let mut group = c.benchmark_group("knox_phl_2024");
    group.sample_size(10);
    let pointpats_like = KnoxConfig {
        space: Bands::right_closed([0.0, 200.0, f64::INFINITY]),
        time: Bands::right_closed([0.0, 14.0, f64::INFINITY]),
        distance: Distance::Euclidean,
        permutations: 999,
        seed: 1,
    };
    group.bench_function("2x2_200m_14d_999perm", |b| {
        b.iter(|| knox(black_box(&points), &pointpats_like).expect("valid"))
    });
    let near_repeat = KnoxConfig::new(
        [0.0, 1.0, 200.0, 400.0, 600.0, f64::INFINITY],
        [0.0, 7.0, 14.0, 21.0, f64::INFINITY],
        1,
    );
    group.bench_function("5x4_nearrepeat_999perm", |b| {
        b.iter(|| knox(black_box(&points), &near_repeat).expect("valid"))
    });
    group.bench_function("classify_200m_14d", |b| {
        b.iter(|| classify(black_box(&points), &NearRepeatWindow::new(200.0, 14.0)).expect("valid"))
    });
    group.finish();
}

criterion_group!(knox_benches, benches);

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.iter().any(|a| a == "--oneshot") {
        oneshot(&args);
        return;
    }
    knox_benches();
    Criterion::default().configure_from_args().final_summary();
}
