//! Hot-spot forecasters: hand cases, and the same scores as open_cp on a Philadelphia
//! extract (tests/data/forecast-hotspot, see its README).

use sl_analytics::forecast::hotspot::{
    CellDistance, Prospective, Retrospective, SpaceTimeKde, classic_weight,
};
use sl_analytics::forecast::{Event, Forecast, ForecastError, Forecaster, Training};
use sl_analytics::grid::{Grid, MaskedGrid};
use sl_analytics::kde::Kernel;

/// 2024-07-01 00:00 UTC in days since 2024-01-01 00:00 UTC.
const ORIGIN: f64 = 182.0;

fn data(name: &str) -> String {
    let path = format!(
        "{}/tests/data/forecast-hotspot/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn fixture_events() -> Vec<Event> {
    data("events.csv")
        .lines()
        .skip(1)
        .map(|l| {
            let v: Vec<&str> = l.split(',').collect();
            Event {
                x: v[0].parse().expect("valid test input"),
                y: v[1].parse().expect("valid test input"),
                t: v[2].parse::<f64>().expect("valid test input") / 86_400.0,
            }
        })
        .collect()
}

/// The fixture grid and one column of open_cp scores per name, in masked order.
fn fixture_scores() -> (Grid, Vec<String>, Vec<Vec<f64>>) {
    let text = data("scores.csv");
    let mut lines = text.lines();
    let head = lines.next().expect("valid test input");
    let get = |k: &str| -> f64 {
        let s = head
            .split(&format!("{k}="))
            .nth(1)
            .expect("valid test input");
        s.split_whitespace()
            .next()
            .expect("valid test input")
            .parse()
            .expect("valid test input")
    };
    let grid = Grid {
        x0: get("x0"),
        y0: get("y0"),
        cell: get("cell"),
        rows: get("rows") as u32,
        cols: get("cols") as u32,
    };
    let names: Vec<String> = lines
        .next()
        .expect("valid test input")
        .split(',')
        .skip(2)
        .map(String::from)
        .collect();
    let mut cols = vec![Vec::new(); names.len()];
    for (i, l) in lines.enumerate() {
        let v: Vec<&str> = l.split(',').collect();
        let (r, c): (u32, u32) = (
            v[0].parse().expect("valid test input"),
            v[1].parse().expect("valid test input"),
        );
        assert_eq!((r * grid.cols + c) as usize, i, "row-major order");
        for (j, col) in cols.iter_mut().enumerate() {
            col.push(v[2 + j].parse::<f64>().expect("valid test input"));
        }
    }
    (grid, names, cols)
}

fn column<'a>(names: &[String], cols: &'a [Vec<f64>], name: &str) -> &'a [f64] {
    &cols[names
        .iter()
        .position(|n| n == name)
        .expect("valid test input")]
}

/// Every cell within 1e-9 relative of open_cp's value.
fn assert_close(ours: &[f64], theirs: &[f64], what: &str) {
    assert_eq!(ours.len(), theirs.len());
    let mut worst = 0.0f64;
    for (i, (a, b)) in ours.iter().zip(theirs).enumerate() {
        let rel = (a - b).abs() / b.abs().max(1e-300);
        assert!(
            (a - b).abs() <= 1e-9 * b.abs() || (*a == 0.0 && *b == 0.0),
            "{what}: cell {i}: ours {a} open_cp {b}"
        );
        worst = worst.max(if *b == 0.0 { 0.0 } else { rel });
    }
    eprintln!("{what}: worst relative difference {worst:e}");
}

fn training<'a>(events: &'a [Event], grid: &'a MaskedGrid, horizon: f64) -> Training<'a> {
    Training {
        events,
        grid,
        origin: ORIGIN,
        horizon,
        seed: 1,
    }
}

fn param(f: &Forecast, name: &str) -> f64 {
    f.parameters
        .iter()
        .find(|(n, _)| n == name)
        .map(|p| p.1)
        .expect("valid test input")
}

/// Bowers, Johnson & Pease's weight by hand: an event in the cell itself this week
/// weighs 1, in a neighbouring cell 1/2, two cells away and three whole weeks ago
/// 1/((1+2)(1+3)) = 1/12; at the bandwidths (8 cells, 8 weeks) nothing.
#[test]
fn classic_weight_is_the_papers_formula() {
    assert_eq!(classic_weight(0.0, 0.0, 8.0, 8.0), 1.0);
    assert_eq!(classic_weight(1.0, 0.0, 8.0, 8.0), 0.5);
    assert!((classic_weight(2.0, 3.0, 8.0, 8.0) - 1.0 / 12.0).abs() < 1e-16);
    assert!((classic_weight(7.0, 7.0, 8.0, 8.0) - 1.0 / 64.0).abs() < 1e-16);
    assert_eq!(classic_weight(8.0, 0.0, 8.0, 8.0), 0.0);
    assert_eq!(classic_weight(0.0, 8.0, 8.0, 8.0), 0.0);
    assert_eq!(CellDistance::Chebyshev.between(-2, 1), 2.0);
    assert_eq!(CellDistance::Manhattan.between(-2, 1), 3.0);
    assert!((CellDistance::Euclidean.between(3, -4) - 5.0).abs() < 1e-15);
}

/// A 5 × 5 grid of 100 m cells. Event A in cell (2, 2) 10 days before the origin
/// (1 whole week), event B in cell (0, 0) 2 days before (0 weeks), event C in cell
/// (2, 2) 60 days before (8 weeks: beyond the bandwidth). With a 3-cell, 8-week
/// bandwidth: cell (2, 2) gets A 1/(1·2) + B 1/(3·1) (Chebyshev 2) = 5/6; cell (1, 1)
/// gets A 1/(2·2) + B 1/(2·1) = 3/4; cell (4, 4) gets A 1/(3·2) = 1/6 (B is 4 away);
/// cell (0, 4) gets A 1/6 only. With Manhattan distance cell (1, 1) gets A 1/(3·2) +
/// B 1/(3·1) = 1/2.
#[test]
fn prospective_hand_case() {
    let grid =
        MaskedGrid::all(Grid::covering([0.0, 0.0, 499.0, 499.0], 100.0).expect("valid test input"));
    let events = [
        Event {
            x: 250.0,
            y: 260.0,
            t: ORIGIN - 60.0,
        },
        Event {
            x: 240.0,
            y: 230.0,
            t: ORIGIN - 10.0,
        },
        Event {
            x: 10.0,
            y: 90.0,
            t: ORIGIN - 2.0,
        },
    ];
    let model = Prospective {
        space_bandwidth: 3,
        ..Prospective::default()
    };
    let f = model
        .forecast(&training(&events, &grid, 7.0))
        .expect("valid test input");
    assert!(!f.expected_counts);
    let at = |r, c| f.scores[grid.index_of(r, c).expect("valid test input")];
    assert!((at(2, 2) - 5.0 / 6.0).abs() < 1e-15);
    assert!((at(1, 1) - 0.75).abs() < 1e-15);
    assert!((at(4, 4) - 1.0 / 6.0).abs() < 1e-15);
    assert!((at(0, 4) - 1.0 / 6.0).abs() < 1e-15);
    let l1 = Prospective {
        space_bandwidth: 3,
        distance: CellDistance::Manhattan,
        ..Prospective::default()
    };
    let f = l1
        .forecast(&training(&events, &grid, 7.0))
        .expect("valid test input");
    assert!((f.scores[grid.index_of(1, 1).expect("valid test input")] - 0.5).abs() < 1e-15);
    assert_eq!(param(&f, "space_bandwidth_cells"), 3.0);
}

/// One event at the centre of cell (2, 2) of 150 m cells, quartic 200 m, cell centres:
/// its own cell weighs 1, a side neighbour (150 m) (1 − 150²/200²)² = 0.19140625, a
/// diagonal neighbour (212 m) nothing. As expected counts over 7 days of a 70-day
/// window, the scores sum to 1 · 7/70.
#[test]
fn retrospective_hand_case() {
    let grid =
        MaskedGrid::all(Grid::covering([0.0, 0.0, 749.0, 749.0], 150.0).expect("valid test input"));
    let events = [Event {
        x: 375.0,
        y: 375.0,
        t: ORIGIN - 5.0,
    }];
    let model = Retrospective {
        subgrid: 1,
        window: Some(70.0),
        ..Retrospective::default()
    };
    let raw = model.raw_scores(&grid, &events).expect("valid test input");
    let at = |r, c| raw[grid.index_of(r, c).expect("valid test input")];
    assert_eq!(at(2, 2), 1.0);
    assert!((at(2, 3) - 0.19140625).abs() < 1e-15);
    assert!((at(1, 2) - 0.19140625).abs() < 1e-15);
    assert_eq!(at(1, 1), 0.0);
    let f = model
        .forecast(&training(&events, &grid, 7.0))
        .expect("valid test input");
    assert!(f.expected_counts);
    let sum: f64 = f.scores.iter().sum();
    assert!((sum - 0.1).abs() < 1e-15, "{sum}");
    assert!(
        (f.scores[grid.index_of(2, 2).expect("valid test input")] - 0.1 / (1.0 + 4.0 * 0.19140625))
            .abs()
            < 1e-15
    );
}

/// The exponential time weight by hand: two events at the same place, 0 and 30 days
/// old, τ = 30: weights 1 and e⁻¹, so with a quartic kernel the density at the event
/// is 3/(π h²) exactly (normalised by the weight sum); moving the old event away by
/// more than h leaves 3/(π h²) · 1/(1 + e⁻¹) at the recent one.
#[test]
fn stkde_hand_case() {
    let grid = MaskedGrid::all(
        Grid::covering([0.0, 0.0, 1499.0, 1499.0], 100.0).expect("valid test input"),
    );
    let model = SpaceTimeKde {
        subgrid: 1,
        ..SpaceTimeKde::default()
    };
    let peak = 3.0 / (std::f64::consts::PI * 200.0 * 200.0);
    let same = [
        Event {
            x: 250.0,
            y: 250.0,
            t: ORIGIN - 30.0,
        },
        Event {
            x: 250.0,
            y: 250.0,
            t: ORIGIN,
        },
    ];
    let raw = model
        .raw_scores(&grid, &same, ORIGIN)
        .expect("valid test input");
    assert!((raw[grid.index_of(2, 2).expect("valid test input")] - peak).abs() < 1e-18);
    let apart = [
        Event {
            x: 1250.0,
            y: 1250.0,
            t: ORIGIN - 30.0,
        },
        Event {
            x: 250.0,
            y: 250.0,
            t: ORIGIN,
        },
    ];
    let raw = model
        .raw_scores(&grid, &apart, ORIGIN)
        .expect("valid test input");
    let want = peak / (1.0 + (-1.0f64).exp());
    assert!((raw[grid.index_of(2, 2).expect("valid test input")] - want).abs() < 1e-18);
    let old = peak * (-1.0f64).exp() / (1.0 + (-1.0f64).exp());
    assert!((raw[grid.index_of(12, 12).expect("valid test input")] - old).abs() < 1e-18);
}

/// Retrospective hot spot = open_cp's RetroHotSpotGrid (cell centres) and RetroHotSpot
/// on a 2 × 2 subgrid (`samples = -2`), whole window and a 90-day window.
#[test]
fn retrospective_matches_open_cp() {
    let (g, names, cols) = fixture_scores();
    let grid = MaskedGrid::all(g);
    let events = fixture_events();
    let centre = Retrospective {
        subgrid: 1,
        ..Retrospective::default()
    };
    let ours = centre.raw_scores(&grid, &events).expect("valid test input");
    assert_close(&ours, column(&names, &cols, "retro_centre"), "retro centre");
    let f = Retrospective::default()
        .forecast(&training(&events, &grid, 7.0))
        .expect("valid test input");
    let raw: Vec<f64> = f.scores.iter().map(|v| v / param(&f, "scale")).collect();
    assert_close(&raw, column(&names, &cols, "retro_sub2"), "retro 2x2");
    let w90 = Retrospective {
        window: Some(90.0),
        ..Retrospective::default()
    };
    let f = w90
        .forecast(&training(&events, &grid, 7.0))
        .expect("valid test input");
    let raw: Vec<f64> = f.scores.iter().map(|v| v / param(&f, "scale")).collect();
    assert_close(
        &raw,
        column(&names, &cols, "retro90_sub2"),
        "retro 90 d 2x2",
    );
    // Expected counts: the 90-day window's events in the grid, per 7 days.
    let from = ORIGIN - 90.0;
    let inside = events
        .iter()
        .filter(|e| e.t >= from && grid.index_of_point(e.x, e.y).is_some())
        .count() as f64;
    let sum: f64 = f.scores.iter().sum();
    assert!(
        (sum - inside * 7.0 / 90.0).abs() < 1e-9,
        "{sum} vs {inside}"
    );
}

/// Prospective hot spot = open_cp's ProspectiveHotSpot with ClassicWeight defaults
/// (8 cells, 8 weeks, DistanceDiagonalsSame), and with 4 cells, 6 weeks, l1 distance.
#[test]
fn prospective_matches_open_cp() {
    let (g, names, cols) = fixture_scores();
    let grid = MaskedGrid::all(g);
    let events = fixture_events();
    let f = Prospective::default()
        .forecast(&training(&events, &grid, 7.0))
        .expect("valid test input");
    assert_close(
        &f.scores,
        column(&names, &cols, "prospective"),
        "prospective",
    );
    let l1 = Prospective {
        space_bandwidth: 4,
        time_bandwidth: 6,
        distance: CellDistance::Manhattan,
        ..Prospective::default()
    };
    let f = l1
        .forecast(&training(&events, &grid, 7.0))
        .expect("valid test input");
    assert_close(
        &f.scores,
        column(&names, &cols, "prospective_l1_4_6"),
        "prospective l1 4/6",
    );
}

/// Space-time KDE = open_cp's kde.KDE with GaussianFixedBandwidthProvider(100) and
/// ExponentialTimeKernel(30) over the last 365 days, 2 × 2 subgrid. open_cp's Gaussian
/// is untruncated: a cutoff of 12 bandwidths leaves out exp(−72) ≈ 5·10⁻³².
#[test]
fn stkde_matches_open_cp() {
    let (g, names, cols) = fixture_scores();
    let grid = MaskedGrid::all(g);
    let events = fixture_events();
    let model = SpaceTimeKde {
        kernel: Kernel::Gaussian { cutoff: 12.0 },
        bandwidth: 100.0,
        time_scale: 30.0,
        window: Some(365.0),
        subgrid: 2,
    };
    let f = model
        .forecast(&training(&events, &grid, 7.0))
        .expect("valid test input");
    let raw: Vec<f64> = f.scores.iter().map(|v| v / param(&f, "scale")).collect();
    assert_close(
        &raw,
        column(&names, &cols, "kde_gauss100_exp30_sub2"),
        "stkde",
    );
    assert_eq!(param(&f, "time_scale_days"), 30.0);
}

/// A mask only drops cells: the kept cells score as on the full grid (events in
/// masked-out cells still count), and results do not depend on the number of threads.
#[test]
fn masked_cells_and_threads_do_not_change_scores() {
    let (g, _, _) = fixture_scores();
    let full = MaskedGrid::all(g);
    let masked = MaskedGrid::new(g, |r, c| (r + 2 * c) % 3 != 0);
    let events = fixture_events();
    let models: Vec<Box<dyn Forecaster>> = vec![
        Box::new(Retrospective::default()),
        Box::new(Prospective::default()),
        Box::new(SpaceTimeKde {
            kernel: Kernel::GAUSSIAN,
            bandwidth: 120.0,
            ..SpaceTimeKde::default()
        }),
    ];
    for m in &models {
        let a = m
            .forecast(&training(&events, &full, 7.0))
            .expect("valid test input");
        let b = m
            .forecast(&training(&events, &masked, 7.0))
            .expect("valid test input");
        let (sa, sb) = if a.expected_counts {
            (param(&a, "scale"), param(&b, "scale"))
        } else {
            (1.0, 1.0)
        };
        for (i, &(r, c)) in masked.cells().iter().enumerate() {
            let va = a.scores[full.index_of(r, c).expect("valid test input")] / sa;
            let vb = b.scores[i] / sb;
            assert!(
                (va - vb).abs() <= 1e-12 * va.abs(),
                "{}: {va} {vb}",
                m.name()
            );
        }
        let one = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .expect("valid test input")
            .install(|| {
                m.forecast(&training(&events, &full, 7.0))
                    .expect("valid test input")
            });
        assert_eq!(one, a, "{}", m.name());
    }
}

/// Settings out of range are errors that name them; an empty window scores zero.
#[test]
fn bad_settings_and_empty_windows() {
    let grid =
        MaskedGrid::all(Grid::covering([0.0, 0.0, 299.0, 299.0], 100.0).expect("valid test input"));
    let events = [Event {
        x: 50.0,
        y: 50.0,
        t: ORIGIN - 400.0,
    }];
    let t = training(&events, &grid, 7.0);
    let bads: Vec<Box<dyn Forecaster>> = vec![
        Box::new(Retrospective {
            bandwidth: 0.0,
            ..Retrospective::default()
        }),
        Box::new(Retrospective {
            subgrid: 0,
            ..Retrospective::default()
        }),
        Box::new(Retrospective {
            window: Some(-1.0),
            ..Retrospective::default()
        }),
        Box::new(Prospective {
            space_bandwidth: 0,
            ..Prospective::default()
        }),
        Box::new(Prospective {
            time_unit: f64::NAN,
            ..Prospective::default()
        }),
        Box::new(SpaceTimeKde {
            time_scale: 0.0,
            ..SpaceTimeKde::default()
        }),
        Box::new(SpaceTimeKde {
            kernel: Kernel::Gaussian { cutoff: -1.0 },
            ..SpaceTimeKde::default()
        }),
    ];
    for m in &bads {
        assert!(
            matches!(m.forecast(&t), Err(ForecastError::BadParameter(_))),
            "{}",
            m.name()
        );
    }
    let f = Retrospective {
        window: Some(30.0),
        ..Retrospective::default()
    }
    .forecast(&t)
    .expect("valid test input");
    assert!(f.scores.iter().all(|&v| v == 0.0));
    let f = Prospective::default()
        .forecast(&t)
        .expect("valid test input");
    assert!(f.scores.iter().all(|&v| v == 0.0));
    let f = SpaceTimeKde::default()
        .forecast(&training(&[], &grid, 7.0))
        .expect("valid test input");
    assert!(f.scores.iter().all(|&v| v == 0.0));
}
