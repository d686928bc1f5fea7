//! Time patterns: hand-computed matrices, seasonality, weekly trend and shifts, and a
//! real-data check on St. Louis 2019 residential burglaries (tests/data/time_patterns).

use sl_analytics::Incident;
use sl_analytics::aoristic::{AoristicConfig, AoristicError};
use sl_analytics::time_patterns::{
    PatternError, Shift, hour_week, linear_trend, monthly, shift_comparison, weekly,
};

use crate::aoristic::{at, window};

const NY: &str = "America/New_York";

fn instant(civil: &str) -> Incident {
    let t = at(NY, civil);
    window(t, t + 60)
}

/// Friday 22:00 – Saturday 06:00 (8 hours, 1/8 each) and the fall-back morning
/// (Sunday 2024-11-03 00:00–03:00 EST: four real hours 0, 1, 1, 2, so hour 1 gets 1/2).
#[test]
fn hour_week_hand_case() {
    let inc = [
        window(at(NY, "2024-01-05T22:00"), at(NY, "2024-01-06T06:00")),
        window(at(NY, "2024-11-03T00:00"), at(NY, "2024-11-03T03:00")),
        window(10, 5),
    ];
    let m =
        hour_week(&inc, Some(&[1.0, 2.0, 1.0]), NY, &AoristicConfig::default()).expect("matrix");
    assert_eq!(m.values[4][22], 0.125);
    assert_eq!(m.values[4][23], 0.125);
    for h in 0..6 {
        assert_eq!(m.values[5][h], 0.125);
    }
    assert_eq!(m.values[5][6], 0.0);
    // Weight 2 over four real hours: 0.5 per unit, hour 1 twice.
    assert_eq!(
        (m.values[6][0], m.values[6][1], m.values[6][2]),
        (0.5, 1.0, 0.5)
    );
    assert_eq!(m.total(), 3.0);
    assert_eq!(m.by_weekday(), [0.0, 0.0, 0.0, 0.0, 0.25, 0.75, 2.0]);
    assert_eq!(m.by_hour()[1], 1.125);
    assert_eq!(
        (m.tally.used, m.tally.invalid, m.tally.used_weight),
        (2, 1, 3.0)
    );
    assert!(matches!(
        hour_week(&inc, None, "Nowhere/Nothing", &AoristicConfig::default()),
        Err(AoristicError::UnknownTimeZone(_))
    ));
}

/// Jan 2023: 2 events, Feb 2023: 1, Jan 2024: 4, over the period 2023-01-01 –
/// 2024-02-01: January is covered twice (mean 3), every other month once.
#[test]
fn monthly_seasonality_hand_case() {
    let mut inc = vec![
        instant("2023-01-10T12:00"),
        instant("2023-01-31T23:59"),
        instant("2023-02-01T00:00"),
    ];
    inc.extend((0..4).map(|d| instant(&format!("2024-01-1{d}T08:00"))));
    let period = (at(NY, "2023-01-01T00:00"), at(NY, "2024-02-01T00:00"));
    let s = monthly(&inc, None, NY, Some(period), &AoristicConfig::default()).expect("seasonality");
    assert_eq!(s.series.bins.len(), 13);
    assert_eq!(
        (s.months[0].years, s.months[0].total, s.months[0].mean),
        (2, 6.0, Some(3.0))
    );
    assert_eq!((s.months[1].years, s.months[1].mean), (1, Some(1.0)));
    assert_eq!((s.months[2].years, s.months[2].mean), (1, Some(0.0)));
    // A period ending mid-February leaves February 2024 incomplete.
    let period = (at(NY, "2023-01-01T00:00"), at(NY, "2024-02-15T00:00"));
    let s = monthly(&inc, None, NY, Some(period), &AoristicConfig::default()).expect("seasonality");
    assert_eq!(s.series.bins.len(), 14);
    assert!(!s.series.bins[13].complete);
    assert_eq!(s.months[1].years, 1);
}

/// Four complete ISO weeks with 1, 3, 2, 4 events: slope 0.8, intercept 1.3,
/// RSS 1.8, SE √(0.9/5), t = 0.8/SE; for 2 degrees of freedom the two-sided
/// p-value is 1 − t/√(2 + t²).
#[test]
fn weekly_series_and_trend() {
    let mut inc = Vec::new();
    for (day, n) in [(3, 1), (10, 3), (17, 2), (24, 4)] {
        for k in 0..n {
            inc.push(instant(&format!("2024-12-{day:02}T1{k}:00")));
        }
    }
    inc.push(instant("2024-12-31T10:00"));
    let period = (at(NY, "2024-12-02T00:00"), at(NY, "2024-12-30T00:00"));
    let w = weekly(&inc, None, NY, Some(period), &AoristicConfig::default()).expect("weekly");
    let weeks: Vec<(i16, i8, f64)> = w
        .weeks
        .iter()
        .map(|b| (b.iso_year, b.iso_week, b.value))
        .collect();
    assert_eq!(
        weeks,
        vec![
            (2024, 49, 1.0),
            (2024, 50, 3.0),
            (2024, 51, 2.0),
            (2024, 52, 4.0)
        ]
    );
    assert_eq!(w.tally.outside_weight, 1.0);
    let t = w.trend.expect("trend");
    let se = (0.9f64 / 5.0).sqrt();
    assert_eq!(t.n, 4);
    assert!((t.slope - 0.8).abs() < 1e-12 && (t.intercept - 1.3).abs() < 1e-12);
    assert!((t.slope_se - se).abs() < 1e-12);
    let tv = 0.8 / se;
    assert!((t.t - tv).abs() < 1e-9);
    assert!(
        (t.p_value - (1.0 - tv / (2.0 + tv * tv).sqrt())).abs() < 1e-9,
        "{}",
        t.p_value
    );
    // Without a period, 2024-12-31 is in ISO week 2025-W01.
    let w = weekly(&inc, None, NY, None, &AoristicConfig::default()).expect("weekly");
    let last = w.weeks.last().expect("week");
    assert_eq!((last.iso_year, last.iso_week, last.value), (2025, 1, 1.0));
    // Degenerate fits.
    assert!(linear_trend(&[0.0, 1.0], &[1.0, 2.0]).is_none());
    let flat = linear_trend(&[0.0, 1.0, 2.0], &[5.0, 5.0, 5.0]).expect("fit");
    assert_eq!((flat.slope, flat.t, flat.p_value), (0.0, 0.0, 1.0));
}

/// Three eight-hour shifts. 23:30–00:30 is all night (1), 06:00–08:00 is half night
/// and half day, 14:00 is day: day 1.5, evening 0, night 1.5, expected 1 each,
/// X² = 0.25 + 1 + 0.25 = 1.5 on 2 df, p = exp(−1.5/2).
#[test]
fn shift_comparison_hand_case() {
    let night = Shift::new("night", 23, 7);
    assert_eq!(night.hours(), 8);
    assert!(night.contains(23) && night.contains(0) && night.contains(6) && !night.contains(7));
    let inc = [
        window(at(NY, "2024-01-10T23:30"), at(NY, "2024-01-11T00:30")),
        window(at(NY, "2024-01-11T06:00"), at(NY, "2024-01-11T08:00")),
        instant("2024-01-11T14:00"),
    ];
    let c = shift_comparison(
        &inc,
        None,
        NY,
        &Shift::three_eights(),
        &AoristicConfig::default(),
    )
    .expect("shifts");
    let amounts: Vec<f64> = c.shifts.iter().map(|s| s.amount).collect();
    assert_eq!(amounts, vec![1.5, 0.0, 1.5]);
    assert_eq!(c.shifts[0].share, 0.5);
    assert_eq!(c.shifts[0].per_clock_hour, 1.5 / 8.0);
    assert_eq!(c.shifts[0].rate_ratio, 1.5);
    assert_eq!(c.shifts[1].expected, 1.0);
    assert_eq!((c.chi_square, c.df, c.outside), (Some(1.5), 2, 0.0));
    assert!((c.p_value.expect("p") - (-0.75f64).exp()).abs() < 1e-12);
    // Unequal shifts: expected amounts follow shift length; uncovered hours are outside.
    let shifts = [Shift::new("early", 6, 8), Shift::new("late", 22, 2)];
    let c = shift_comparison(&inc, None, NY, &shifts, &AoristicConfig::default()).expect("shifts");
    assert_eq!(
        c.shifts.iter().map(|s| s.amount).collect::<Vec<_>>(),
        vec![1.0, 1.0]
    );
    assert_eq!(
        (c.shifts[0].expected, c.shifts[1].expected),
        (2.0 / 3.0, 4.0 / 3.0)
    );
    assert_eq!(c.outside, 1.0);
    // Overlapping or empty shifts are refused.
    let overlap = [Shift::new("a", 7, 15), Shift::new("b", 14, 22)];
    assert_eq!(
        shift_comparison(&inc, None, NY, &overlap, &AoristicConfig::default()),
        Err(PatternError::OverlappingShifts { hour: 14 })
    );
    let empty = [Shift::new("a", 7, 7)];
    assert!(matches!(
        shift_comparison(&inc, None, NY, &empty, &AoristicConfig::default()),
        Err(PatternError::BadShift { .. })
    ));
}

fn fixture(name: &str) -> String {
    let path = format!(
        "{}/tests/data/time_patterns/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).expect("fixture")
}

/// Real data: 2,390 residential burglaries in the bundled St. Louis 2019 files. The
/// hour × weekday matrix equals the Python/zoneinfo reference and sums to the number of
/// usable windows; the monthly series equals the reference month by month.
#[test]
fn stlouis_reference() {
    let inc: Vec<Incident> = fixture("incidents.csv")
        .lines()
        .skip(1)
        .map(|l| {
            let (a, b) = l.split_once(',').expect("two columns");
            window(a.parse().expect("from"), b.parse().expect("to"))
        })
        .collect();
    assert_eq!(inc.len(), 2390);
    let tz = "America/Chicago";
    let cfg = AoristicConfig::default();
    let m = hour_week(&inc, None, tz, &cfg).expect("matrix");
    assert_eq!(
        (m.tally.used, m.tally.invalid, m.tally.too_long),
        (2390, 0, 0)
    );
    assert!((m.total() - 2390.0).abs() < 1e-9);
    let reference = fixture("hour_week.csv");
    for (d, line) in reference.lines().skip(1).enumerate() {
        let values: Vec<f64> = line
            .split(',')
            .skip(1)
            .map(|v| v.parse().expect("number"))
            .collect();
        for (h, v) in values.iter().enumerate() {
            assert!(
                (m.values[d][h] - v).abs() < 1e-9,
                "weekday {d} hour {h}: {} vs {v}",
                m.values[d][h]
            );
        }
    }
    let s = monthly(&inc, None, tz, None, &cfg).expect("seasonality");
    let mut expected = std::collections::HashMap::new();
    for line in fixture("monthly.csv").lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        let key = (
            f[0].parse::<i16>().expect("year"),
            f[1].parse::<i8>().expect("month"),
        );
        expected.insert(key, f[2].parse::<f64>().expect("value"));
    }
    for b in &s.series.bins {
        let want = expected
            .remove(&(b.label.year(), b.label.month()))
            .unwrap_or(0.0);
        assert!(
            (b.value - want).abs() < 1e-9,
            "{}: {} vs {want}",
            b.label,
            b.value
        );
    }
    assert!(
        expected.is_empty(),
        "months missing from the series: {expected:?}"
    );
    // Shifts on real data: shares sum to one and the test has two degrees of freedom.
    let c = shift_comparison(&inc, None, tz, &Shift::three_eights(), &cfg).expect("shifts");
    assert!((c.shifts.iter().map(|s| s.share).sum::<f64>() - 1.0).abs() < 1e-12);
    assert_eq!(c.df, 2);
    assert!(c.p_value.is_some_and(|p| (0.0..=1.0).contains(&p)));
}
