//! Knox test and near-repeat classification: band edges, hand-computed tables, brute
//! force O(n²) checks of observed and permuted tables, reproducibility across thread
//! counts, and pointpats' Knox on real Philadelphia burglaries (fixtures in
//! tests/data/knox, see its README.md).

use sl_analytics::Incident;
use sl_analytics::knox::{
    Bands, DayClock, Distance, Intervals, KnoxConfig, KnoxError, PERMUTATIONS_PER_CHUNK,
    SpaceTimePoint, knox, points_from_incidents,
};
use sl_analytics::near_repeat::{NearRepeatRole, NearRepeatWindow, classify};
use sl_analytics::rng;

const INF: f64 = f64::INFINITY;

fn pts(v: &[(f64, f64, f64)]) -> Vec<SpaceTimePoint> {
    v.iter()
        .map(|&(x, y, t)| SpaceTimePoint { x, y, t })
        .collect()
}

/// R's `cut(d, breaks, right, include.lowest = right)` written independently of the
/// library, for brute-force checks.
fn cut(d: f64, breaks: &[f64], intervals: Intervals) -> Option<usize> {
    for m in 0..breaks.len() - 1 {
        let (lo, hi) = (breaks[m], breaks[m + 1]);
        let inside = match intervals {
            Intervals::LeftClosed => lo <= d && d < hi,
            Intervals::RightClosed if m == 0 => lo <= d && d <= hi,
            Intervals::RightClosed => lo < d && d <= hi,
        };
        if inside {
            return Some(m);
        }
    }
    None
}

/// The observed table by brute force over all i < j, with times `t`.
fn brute_table(p: &[SpaceTimePoint], t: &[f64], cfg: &KnoxConfig) -> Vec<u64> {
    let ks = cfg.space.breaks.len() - 1;
    let kt = cfg.time.breaks.len() - 1;
    let mut out = vec![0u64; ks * kt];
    for i in 0..p.len() {
        for j in i + 1..p.len() {
            let (dx, dy) = (p[i].x - p[j].x, p[i].y - p[j].y);
            let d = match cfg.distance {
                Distance::Manhattan => dx.abs() + dy.abs(),
                Distance::Euclidean => (dx * dx + dy * dy).sqrt(),
            };
            let s = cut(d, &cfg.space.breaks, cfg.space.intervals);
            let tb = cut((t[i] - t[j]).abs(), &cfg.time.breaks, cfg.time.intervals);
            if let (Some(s), Some(tb)) = (s, tb) {
                out[s * kt + tb] += 1;
            }
        }
    }
    out
}

fn observed(table: &sl_analytics::knox::KnoxTable) -> Vec<u64> {
    table.cells.iter().map(|c| c.observed).collect()
}

/// A small seeded point pattern with clusters, exact repeats, integer days and some
/// coordinates exactly on band edges.
fn synthetic(n: usize, seed: u64) -> Vec<SpaceTimePoint> {
    let mut r = rng::stream(seed, 0);
    let mut out = Vec::with_capacity(n);
    for k in 0..n {
        let (x, y) = if k % 7 == 3 && k > 0 {
            // an exact repeat of an earlier place
            let e: &SpaceTimePoint = &out[rng::below(&mut r, k as u64) as usize];
            (e.x, e.y)
        } else {
            // a 50 m lattice, so many distances are exact multiples of 50
            (
                50.0 * rng::below(&mut r, 30) as f64,
                50.0 * rng::below(&mut r, 30) as f64,
            )
        };
        out.push(SpaceTimePoint {
            x,
            y,
            t: rng::below(&mut r, 60) as f64,
        });
    }
    out
}

#[test]
fn band_edges_are_half_open_by_default() {
    let b = Bands::left_closed([0.0, 1.0, 200.0, 400.0]);
    assert_eq!(b.band_of(0.0), Some(0)); // same location
    assert_eq!(b.band_of(0.999), Some(0));
    assert_eq!(b.band_of(1.0), Some(1));
    assert_eq!(b.band_of(199.999), Some(1));
    assert_eq!(b.band_of(200.0), Some(2)); // exactly 200 falls in [200, 400)
    assert_eq!(b.band_of(399.999), Some(2));
    assert_eq!(b.band_of(400.0), None); // the last break is excluded
    let open = Bands::left_closed([0.0, 200.0, INF]);
    assert_eq!(open.band_of(200.0), Some(1));
    assert_eq!(open.band_of(1e300), Some(1));
    let from_ten = Bands::left_closed([10.0, 20.0]);
    assert_eq!(from_ten.band_of(9.99), None);
    let rc = Bands::right_closed([0.0, 200.0, 400.0]);
    assert_eq!(rc.band_of(0.0), Some(0)); // include.lowest
    assert_eq!(rc.band_of(200.0), Some(0)); // [0, 200]
    assert_eq!(rc.band_of(200.001), Some(1));
    assert_eq!(rc.band_of(400.0), Some(1));
    assert_eq!(rc.band_of(400.001), None);
}

/// Five events, every pair worked out by hand (Manhattan distances, whole days):
///
/// ```text
///   event  x    y    day
///   A      0    0    0
///   B      0    0    2      A–B: d 0,    Δt 2
///   C      120  80   3      A–C: d 200,  Δt 3   B–C: d 200, Δt 1
///   D      300  0    10     A–D: d 300,  Δt 10  B–D: d 300, Δt 8   C–D: d 260, Δt 7
///   E      0    0.5  7      A–E: d 0.5,  Δt 7   B–E: d 0.5, Δt 5   C–E: d 199.5, Δt 4
///                           D–E: d 300.5, Δt 3
/// ```
///
/// Bands: space [0,1) [1,200) [200,400) [400,∞); time [0,3) [3,7) [7,∞).
#[test]
fn hand_computed_table() {
    let p = pts(&[
        (0.0, 0.0, 0.0),
        (0.0, 0.0, 2.0),
        (120.0, 80.0, 3.0),
        (300.0, 0.0, 10.0),
        (0.0, 0.5, 7.0),
    ]);
    let mut cfg = KnoxConfig::new([0.0, 1.0, 200.0, 400.0, INF], [0.0, 3.0, 7.0, INF], 7);
    cfg.permutations = 99;
    let t = knox(&p, &cfg).expect("valid");
    #[rustfmt::skip]
    let want = [
        // [0,3) [3,7) [7,∞)
        1, 1, 1, // [0,1): A–B (Δt 2), B–E (5), A–E (7)
        0, 1, 0, // [1,200): C–E (Δt 4)
        1, 2, 3, // [200,400): B–C (1); A–C (3), D–E (3); A–D (10), B–D (8), C–D (7)
        0, 0, 0, // [400,∞)
    ];
    assert_eq!(observed(&t), want);
    assert_eq!(t.pairs, 10);
    assert_eq!(t.cell(2, 1).space, (200.0, 400.0));
    assert_eq!(t.cell(2, 1).time, (3.0, 7.0));
    // Euclidean: A–C is √(120² + 80²) ≈ 144.2, B–C too; C–D is √(180² + 80²) ≈ 197.0,
    // D–E ≈ 300.0004, A–D and B–D 300.
    cfg.distance = Distance::Euclidean;
    let t = knox(&p, &cfg).expect("valid");
    #[rustfmt::skip]
    let want = [
        1, 1, 1, // [0,1)
        1, 2, 1, // [1,200): B–C (1); A–C (3), C–E (4); C–D (7)
        0, 1, 2, // [200,400): D–E (3); A–D (10), B–D (8)
        0, 0, 0,
    ];
    assert_eq!(observed(&t), want);
}

#[test]
fn observed_matches_brute_force_for_all_band_kinds() {
    let p = synthetic(300, 11);
    let times: Vec<f64> = p.iter().map(|q| q.t).collect();
    let configs = [
        (
            vec![0.0, 1.0, 100.0, 200.0, 400.0, INF],
            vec![0.0, 1.0, 7.0, 14.0, INF],
        ),
        (
            vec![0.0, 1.0, 100.0, 200.0, 400.0],
            vec![0.0, 7.0, 14.0, 21.0],
        ),
        (vec![50.0, 150.0, 300.0, INF], vec![1.0, 3.0, INF]),
        (vec![0.0, INF], vec![0.0, 2.0]),
        (vec![0.0, 250.0], vec![0.0, INF]),
    ];
    for (sb, tb) in configs {
        for distance in [Distance::Manhattan, Distance::Euclidean] {
            for (si, ti) in [
                (Intervals::LeftClosed, Intervals::LeftClosed),
                (Intervals::RightClosed, Intervals::RightClosed),
                (Intervals::LeftClosed, Intervals::RightClosed),
            ] {
                let cfg = KnoxConfig {
                    space: Bands {
                        breaks: sb.clone(),
                        intervals: si,
                    },
                    time: Bands {
                        breaks: tb.clone(),
                        intervals: ti,
                    },
                    distance,
                    permutations: 2,
                    seed: 1,
                };
                let t = knox(&p, &cfg).expect("valid");
                assert_eq!(observed(&t), brute_table(&p, &times, &cfg), "{cfg:?}");
            }
        }
    }
}

/// Replays the documented permutation scheme (chunk c uses rng::stream(seed, c), each
/// permutation a Fisher–Yates shuffle of the original times) and checks every
/// simulated table by brute force, including the open-ended band derived by
/// subtraction.
#[test]
fn permuted_tables_match_brute_force() {
    let whole = synthetic(200, 5);
    // Fractional times take the generic (non-table) binning path.
    let fractional: Vec<SpaceTimePoint> = whole
        .iter()
        .map(|p| SpaceTimePoint {
            t: p.t * 0.37 + 0.1,
            ..*p
        })
        .collect();
    let near_repeat = KnoxConfig::new([0.0, 1.0, 150.0, 300.0, INF], [0.0, 3.0, 10.0, INF], 99);
    // 300 space bands need the wide pair index (more than 256 rows).
    let many: Vec<f64> = (0..=300).map(|k| f64::from(k) * 2.0).collect();
    let wide = KnoxConfig::new(many, [0.0, 2.0, 5.0, 9.0], 3);
    for (p, mut cfg) in [
        (&whole, near_repeat.clone()),
        (&fractional, near_repeat),
        (&whole, wide.clone()),
        (&fractional, wide),
    ] {
        cfg.permutations = 2 * PERMUTATIONS_PER_CHUNK + 3;
        let times: Vec<f64> = p.iter().map(|q| q.t).collect();
        let t = knox(p, &cfg).expect("valid");
        assert_eq!(observed(&t), brute_table(p, &times, &cfg));
        let cells = t.cells.len();
        for perm in 0..cfg.permutations {
            let chunk = perm / PERMUTATIONS_PER_CHUNK;
            let mut r = rng::stream(cfg.seed, chunk as u64);
            let mut shuffled = times.clone();
            for _ in 0..=perm % PERMUTATIONS_PER_CHUNK {
                shuffled.copy_from_slice(&times);
                rng::shuffle(&mut r, &mut shuffled);
            }
            let want = brute_table(p, &shuffled, &cfg);
            let got: Vec<u64> = (0..cells).map(|k| t.cells[k].simulated[perm]).collect();
            assert_eq!(got, want, "permutation {perm}");
        }
    }
}

#[test]
fn summary_statistics_follow_near_repeat() {
    let p = synthetic(250, 3);
    let mut cfg = KnoxConfig::new([0.0, 1.0, 200.0, INF], [0.0, 7.0, 14.0, INF], 2024);
    cfg.permutations = 100; // even: the median averages the middle two
    let t = knox(&p, &cfg).expect("valid");
    for c in &t.cells {
        assert_eq!(c.simulated.len(), 100);
        let mean = c.simulated.iter().sum::<u64>() as f64 / 100.0;
        let mut s = c.simulated.clone();
        s.sort_unstable();
        let median = (s[49] + s[50]) as f64 / 2.0;
        let ge = c.simulated.iter().filter(|&&v| v >= c.observed).count();
        assert_eq!(c.mean_simulated, mean);
        assert_eq!(c.median_simulated, median);
        assert_eq!(c.p, (ge + 1) as f64 / 101.0);
        assert_eq!(c.knox_ratio.to_bits(), (c.observed as f64 / mean).to_bits());
        assert_eq!(
            c.knox_ratio_median.to_bits(),
            (c.observed as f64 / median).to_bits()
        );
    }
    // Every permutation keeps the total number of pairs over the whole table when both
    // last bands are open-ended.
    for perm in 0..100 {
        let total: u64 = t.cells.iter().map(|c| c.simulated[perm]).sum();
        assert_eq!(total, t.pairs);
    }
    // The same-day band of exact repeats: ratio 0/0 is NaN, x/0 is ∞, as in R.
    let p = pts(&[(0.0, 0.0, 0.0), (0.0, 0.0, 0.0), (500.0, 0.0, 30.0)]);
    let mut cfg = KnoxConfig::new([0.0, 1.0, INF], [0.0, 1.0, INF], 1);
    cfg.permutations = 2;
    let t = knox(&p, &cfg).expect("valid");
    // Times {0, 0, 30} permuted: the same-place pair is same-day only if it keeps both
    // zeros, so its simulated count is 0 or 1.
    assert_eq!(t.cell(0, 0).observed, 1);
    for c in &t.cells {
        if c.mean_simulated == 0.0 {
            if c.observed == 0 {
                assert!(c.knox_ratio.is_nan());
            } else {
                assert_eq!(c.knox_ratio, INF);
            }
        }
    }
}

#[test]
fn mean_of_permutations_approaches_exact_expectation() {
    let p = synthetic(400, 8);
    let mut cfg = KnoxConfig::new([0.0, 1.0, 200.0, 400.0, INF], [0.0, 7.0, 14.0, INF], 77);
    cfg.permutations = 999;
    let t = knox(&p, &cfg).expect("valid");
    for c in &t.cells {
        let n = c.simulated.len() as f64;
        let var = c
            .simulated
            .iter()
            .map(|&v| (v as f64 - c.mean_simulated).powi(2))
            .sum::<f64>()
            / (n - 1.0);
        let se = (var / n).sqrt();
        assert!(
            (c.mean_simulated - c.expected).abs() <= 4.0 * se + 1e-9,
            "{:?}: mean {} vs exact {} (se {se})",
            (c.space, c.time),
            c.mean_simulated,
            c.expected
        );
    }
}

#[test]
fn reproducible_whatever_the_thread_count() {
    let p = synthetic(500, 21);
    let mut cfg = KnoxConfig::new([0.0, 1.0, 100.0, 200.0, INF], [0.0, 3.0, 7.0, INF], 5150);
    cfg.permutations = 99;
    let run = |threads: usize| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .expect("pool")
            .install(|| knox(&p, &cfg).expect("valid"))
    };
    let one = run(1);
    assert_eq!(one, run(2));
    assert_eq!(one, run(5));
    cfg.seed += 1;
    let other = knox(&p, &cfg).expect("valid");
    assert_eq!(observed(&one), observed(&other));
    assert_ne!(
        one.cells
            .iter()
            .map(|c| c.simulated.clone())
            .collect::<Vec<_>>(),
        other
            .cells
            .iter()
            .map(|c| c.simulated.clone())
            .collect::<Vec<_>>()
    );
}

#[test]
fn invalid_input_is_rejected_with_a_reason() {
    let p = pts(&[(0.0, 0.0, 0.0), (1.0, 1.0, 1.0)]);
    let ok = KnoxConfig::new([0.0, 100.0], [0.0, 7.0], 0);
    let with = |f: &dyn Fn(&mut KnoxConfig)| {
        let mut c = ok.clone();
        f(&mut c);
        knox(&p, &c).err()
    };
    assert_eq!(with(&|_| {}), None);
    assert!(matches!(
        with(&|c| c.space.breaks = vec![0.0]),
        Some(KnoxError::TooFewBreaks { .. })
    ));
    assert!(matches!(
        with(&|c| c.space.breaks = vec![0.0, 200.0, 100.0]),
        Some(KnoxError::BadBreak { index: 2, .. })
    ));
    assert!(matches!(
        with(&|c| c.time.breaks = vec![0.0, INF, INF]),
        Some(KnoxError::BadBreak { index: 1, .. })
    ));
    assert!(matches!(
        with(&|c| c.time.breaks = vec![-1.0, 7.0]),
        Some(KnoxError::BadBreak { index: 0, .. })
    ));
    assert!(matches!(
        with(&|c| c.permutations = 1),
        Some(KnoxError::TooFewPermutations(1))
    ));
    assert_eq!(knox(&p[..1], &ok).err(), Some(KnoxError::TooFewEvents(1)));
    let bad = pts(&[(0.0, 0.0, 0.0), (f64::NAN, 1.0, 1.0)]);
    assert_eq!(
        knox(&bad, &ok).err(),
        Some(KnoxError::NonFinite { index: 1 })
    );
    assert!(!KnoxError::TooFewPermutations(1).to_string().is_empty());
}

#[test]
fn calendar_days_follow_local_dates() {
    let tz = jiff::tz::TimeZone::get("America/New_York").expect("tz");
    // 2024-03-09 23:50 EST (04:50Z on the 10th) and 2024-03-10 00:10 EST (05:10Z):
    // one calendar day apart locally though 20 minutes apart.
    let a = Incident {
        x: 0.0,
        y: 0.0,
        from: 1_710_046_200,
        to: 1_710_046_201,
    };
    let b = Incident {
        x: 0.0,
        y: 0.0,
        from: 1_710_047_400,
        to: 1_710_047_401,
    };
    // 2024-03-10 23:30 EDT (03:30Z on the 11th), after the spring-forward gap.
    let c = Incident {
        x: 0.0,
        y: 0.0,
        from: 1_710_127_800,
        to: 1_710_127_801,
    };
    let cal = points_from_incidents(&[a, b, c], &DayClock::Calendar(tz)).expect("in range");
    assert_eq!(cal[1].t - cal[0].t, 1.0);
    assert_eq!(cal[2].t - cal[1].t, 0.0);
    assert_eq!(cal[1].t, 19_792.0); // days from 1970-01-01 to 2024-03-10
    let frac = points_from_incidents(&[a, b], &DayClock::Fractional).expect("in range");
    assert!((frac[1].t - frac[0].t - 1200.0 / 86_400.0).abs() < 1e-9);
}

fn brute_roles(p: &[SpaceTimePoint], w: &NearRepeatWindow) -> Vec<NearRepeatRole> {
    let n = p.len();
    let before = |a: usize, b: usize| (p[a].t, a) < (p[b].t, b);
    (0..n)
        .map(|k| {
            let linked = |o: usize| {
                let d = match w.distance {
                    Distance::Manhattan => (p[k].x - p[o].x).abs() + (p[k].y - p[o].y).abs(),
                    Distance::Euclidean => (p[k].x - p[o].x).hypot(p[k].y - p[o].y),
                };
                let dt = (p[k].t - p[o].t).abs();
                (o != k && d < w.space && dt < w.time).then_some(d)
            };
            let earlier: Vec<f64> = (0..n)
                .filter(|&o| before(o, k))
                .filter_map(linked)
                .collect();
            let later = (0..n)
                .filter(|&o| before(k, o))
                .any(|o| linked(o).is_some());
            if earlier.iter().any(|&d| d < w.same_location) {
                NearRepeatRole::Repeat
            } else if !earlier.is_empty() {
                NearRepeatRole::NearRepeat
            } else if later {
                NearRepeatRole::Originator
            } else {
                NearRepeatRole::Isolated
            }
        })
        .collect()
}

#[test]
fn classification_by_hand_and_by_brute_force() {
    use NearRepeatRole::*;
    // A at day 0; B 150 m away on day 3: a near repeat of A. C at A's place on day 6:
    // a repeat of A (6 < 7). D at A's place on day 13: 7 days after C, outside [0, 7),
    // and 10 after B, so isolated. E 200 m from A on day 1: 200 is outside [0, 200), but
    // E is 50 m from B two days before it, so E originates too and B stays a near
    // repeat. F and G the same day 0.5 m apart: the first in input order originates.
    let p = pts(&[
        (0.0, 0.0, 0.0),     // A
        (150.0, 0.0, 3.0),   // B
        (0.0, 0.0, 6.0),     // C
        (0.0, 0.0, 13.0),    // D
        (200.0, 0.0, 1.0),   // E
        (5000.0, 0.0, 40.0), // F
        (5000.0, 0.5, 40.0), // G
    ]);
    let w = NearRepeatWindow::new(200.0, 7.0);
    let roles = classify(&p, &w).expect("valid");
    assert_eq!(
        roles,
        vec![
            Originator, NearRepeat, Repeat, Isolated, Originator, Originator, Repeat
        ]
    );
    assert_eq!(roles, brute_roles(&p, &w));
    for seed in 0..4 {
        let p = synthetic(300, seed);
        for w in [
            NearRepeatWindow::new(200.0, 7.0),
            NearRepeatWindow {
                distance: Distance::Euclidean,
                ..NearRepeatWindow::new(120.0, 3.0)
            },
            NearRepeatWindow {
                same_location: 0.0,
                ..NearRepeatWindow::new(100.0, 14.0)
            },
        ] {
            assert_eq!(classify(&p, &w).expect("valid"), brute_roles(&p, &w));
        }
    }
    assert_eq!(
        classify(&p, &NearRepeatWindow::new(0.0, 7.0)).err(),
        Some(KnoxError::BadWindow)
    );
}

// ---- pointpats on real data ----------------------------------------------------------

struct Fixture {
    day: Vec<SpaceTimePoint>,
    frac: Vec<SpaceTimePoint>,
    reference: serde_json::Value,
}

fn fixture() -> Fixture {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/knox");
    let csv = std::fs::read_to_string(format!("{dir}/phl_burglary_2024.csv")).expect("fixture");
    let mut day = Vec::new();
    let mut frac = Vec::new();
    for line in csv.lines().skip(1) {
        let f: Vec<f64> = line
            .split(',')
            .map(|v| v.parse().expect("number"))
            .collect();
        day.push(SpaceTimePoint {
            x: f[0],
            y: f[1],
            t: f[2],
        });
        frac.push(SpaceTimePoint {
            x: f[0],
            y: f[1],
            t: f[3] / 86_400.0,
        });
    }
    let json = std::fs::read_to_string(format!("{dir}/pointpats_knox.json")).expect("fixture");
    Fixture {
        day,
        frac,
        reference: serde_json::from_str(&json).expect("json"),
    }
}

/// pointpats counts pairs with Euclidean distance ≤ δ and |Δt| ≤ τ: right-closed bands
/// [0, δ] × [0, τ] with an open-ended rest reproduce its 2×2 table exactly, and its
/// permutation null within Monte Carlo error.
#[test]
fn reproduces_pointpats_knox_on_philadelphia_burglaries() {
    let fx = fixture();
    assert_eq!(fx.day.len(), 3289);
    assert_eq!(fx.reference["n"], 3289);
    let runs = fx.reference["runs"].as_array().expect("runs");
    assert_eq!(runs.len(), 4);
    for run in runs {
        let delta = run["delta"].as_f64().expect("delta");
        let tau = run["tau"].as_f64().expect("tau");
        let points = if run["time"] == "day" {
            &fx.day
        } else {
            &fx.frac
        };
        let cfg = KnoxConfig {
            space: Bands::right_closed([0.0, delta, INF]),
            time: Bands::right_closed([0.0, tau, INF]),
            distance: Distance::Euclidean,
            permutations: 999,
            seed: 2024,
        };
        let t = knox(points, &cfg).expect("valid");
        let obs = &run["observed"];
        let exp = &run["expected"];
        for (s, t_) in [(0, 0), (0, 1), (1, 0), (1, 1)] {
            assert_eq!(
                t.cell(s, t_).observed as f64,
                obs[s][t_].as_f64().expect("count"),
                "δ {delta} τ {tau} cell {s},{t_}"
            );
            let e = exp[s][t_].as_f64().expect("expected");
            assert!(
                (t.cell(s, t_).expected - e).abs() <= 1e-9 * e,
                "{} vs {e}",
                t.cell(s, t_).expected
            );
        }
        assert_eq!(t.cell(0, 0).observed, run["nst"].as_u64().expect("nst"));
        // Permutation null: same mean within Monte Carlo error of both runs.
        let c = t.cell(0, 0);
        let sd = run["sim_sd"].as_f64().expect("sd");
        let pp_mean = run["sim_mean"].as_f64().expect("mean");
        let se = sd * (2.0f64 / 999.0).sqrt();
        assert!(
            (c.mean_simulated - pp_mean).abs() < 4.0 * se,
            "{} vs {pp_mean}",
            c.mean_simulated
        );
        // Every one of these is far in the tail: p is the minimum 1/1000, as pointpats says.
        assert_eq!(c.p, run["p_sim"].as_f64().expect("p"));
        assert_eq!(c.p, 0.001);
    }
    // PEERS.md's 726 pairs against 587.7 expected came from fractional UTC days.
    let run = &runs[3];
    assert_eq!(run["nst"], 726);
}

/// With whole days, NearRepeat's default [0, 15) equals pointpats' [0, 14]; and no pair
/// sits exactly at 200 m, so [0, 200) gives the same pairs as [0, 200].
#[test]
fn near_repeat_defaults_on_philadelphia_burglaries() {
    let fx = fixture();
    let mut cfg = KnoxConfig::new([0.0, 200.0, INF], [0.0, 15.0, INF], 1);
    cfg.distance = Distance::Euclidean;
    cfg.permutations = 99;
    let t = knox(&fx.day, &cfg).expect("valid");
    assert_eq!(t.cell(0, 0).observed, 748);
    // A NearRepeat-style table with a same-location band and Manhattan distance, checked
    // by brute force over all 5.4 million pairs.
    let cfg = KnoxConfig {
        permutations: 19,
        ..KnoxConfig::new(
            [0.0, 1.0, 200.0, 400.0, 600.0, INF],
            [0.0, 1.0, 7.0, 14.0, 28.0, INF],
            9,
        )
    };
    let t = knox(&fx.day, &cfg).expect("valid");
    let times: Vec<f64> = fx.day.iter().map(|p| p.t).collect();
    assert_eq!(observed(&t), brute_table(&fx.day, &times, &cfg));
    assert!(
        t.cell(0, 0).knox_ratio > 2.0,
        "same place, same day: strong repeat"
    );
}

/// Pairs exactly at the largest break, with right-closed bands, on coordinates far from
/// the origin and not multiples of the band: none may be lost by the bucket grid.
#[test]
fn pairs_exactly_at_the_reach_are_found() {
    let mut r = rng::stream(31, 0);
    for x0 in [0.0, 0.3, 488_034.85, 4_430_640.6] {
        let p: Vec<SpaceTimePoint> = (0..400)
            .map(|k| SpaceTimePoint {
                x: x0 + 12.5 * f64::from(k % 80),
                y: x0 + 200.0 * f64::from(k / 80),
                t: rng::below(&mut r, 30) as f64,
            })
            .collect();
        let times: Vec<f64> = p.iter().map(|q| q.t).collect();
        for distance in [Distance::Manhattan, Distance::Euclidean] {
            let cfg = KnoxConfig {
                space: Bands::right_closed([0.0, 100.0, 200.0]),
                time: Bands::right_closed([0.0, 7.0, INF]),
                distance,
                permutations: 2,
                seed: 0,
            };
            let t = knox(&p, &cfg).expect("valid");
            assert_eq!(observed(&t), brute_table(&p, &times, &cfg), "x0 {x0}");
            let total: u64 = observed(&t).iter().sum();
            assert!(total > 1000, "many pairs at or below 200: {total}");
        }
    }
}
