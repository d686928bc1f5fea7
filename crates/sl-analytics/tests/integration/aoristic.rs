//! Aoristic spreading: hand-computed windows in local time, across DST changes.

use jiff::civil::DateTime;
use jiff::tz::TimeZone;
use sl_analytics::Incident;
use sl_analytics::aoristic::{
    AoristicConfig, Piece, Share, TimeUnit, WindowStatus, series, spread, time_zone,
};

/// UTC seconds of a local civil time (earlier instant when ambiguous).
pub fn at(tz: &str, civil: &str) -> i64 {
    let dt: DateTime = civil.parse().expect("civil time");
    TimeZone::get(tz)
        .expect("zone")
        .to_ambiguous_timestamp(dt)
        .compatible()
        .expect("instant")
        .as_second()
}

pub fn window(from: i64, to: i64) -> Incident {
    Incident {
        x: 0.0,
        y: 0.0,
        from,
        to,
    }
}

fn pieces(
    tz: &str,
    unit: TimeUnit,
    share: Share,
    from: i64,
    to: i64,
) -> (WindowStatus, Vec<Piece>) {
    let zone = time_zone(tz).expect("zone");
    let cfg = AoristicConfig {
        share,
        ..AoristicConfig::default()
    };
    let mut out = Vec::new();
    let status = spread(&window(from, to), &zone, unit, &cfg, &mut out);
    (status, out)
}

const NY: &str = "America/New_York";

/// A burglary between 22:00 and 06:00 touches eight hours, 1/8 each.
#[test]
fn overnight_burglary_spreads_over_eight_hours() {
    let (from, to) = (at(NY, "2024-01-05T22:00"), at(NY, "2024-01-06T06:00"));
    for share in [Share::EqualPerUnit, Share::ProportionalToOverlap] {
        let (status, p) = pieces(NY, TimeUnit::Hour, share, from, to);
        assert_eq!(status, WindowStatus::Used);
        let hours: Vec<i8> = p.iter().map(|p| p.label.hour()).collect();
        assert_eq!(hours, vec![22, 23, 0, 1, 2, 3, 4, 5]);
        assert!(p.iter().all(|p| p.weight == 0.125));
        assert_eq!(p[0].start, from);
        assert_eq!(p[7].end, to);
    }
}

/// 22:30 to 00:10 touches 22, 23 and 0: 1/3 each (Ratcliffe); 30, 60 and 10 of 100
/// minutes (proportional).
#[test]
fn partial_hours_equal_and_proportional() {
    let (from, to) = (at(NY, "2024-01-05T22:30"), at(NY, "2024-01-06T00:10"));
    let (_, p) = pieces(NY, TimeUnit::Hour, Share::EqualPerUnit, from, to);
    assert_eq!(p.len(), 3);
    assert!(p.iter().all(|p| p.weight == 1.0 / 3.0));
    assert_eq!(p[0].start, at(NY, "2024-01-05T22:00"));
    let (_, p) = pieces(NY, TimeUnit::Hour, Share::ProportionalToOverlap, from, to);
    let w: Vec<f64> = p.iter().map(|p| p.weight).collect();
    assert_eq!(w, vec![0.3, 0.6, 0.1]);
    assert_eq!(p[2].label.date(), jiff::civil::date(2024, 1, 6));
}

/// Zero-length and one-second windows are instants; reversed windows are invalid;
/// windows over the cap are unknown time (exactly 7 days is still used).
#[test]
fn degenerate_and_long_windows() {
    let t = at(NY, "2024-01-05T13:59:59");
    for to in [t, t + 1] {
        let (status, p) = pieces(NY, TimeUnit::Hour, Share::EqualPerUnit, t, to);
        assert_eq!(status, WindowStatus::Used);
        assert_eq!(p.len(), 1);
        assert_eq!((p[0].label.hour(), p[0].weight), (13, 1.0));
    }
    // [13:59:59, 14:00:00) is inside 13:00; [13:59:59, 14:00:01) touches 14:00 too.
    let (_, p) = pieces(NY, TimeUnit::Hour, Share::ProportionalToOverlap, t, t + 2);
    assert_eq!(
        p.iter().map(|p| p.weight).collect::<Vec<_>>(),
        vec![0.5, 0.5]
    );
    assert_eq!(
        pieces(NY, TimeUnit::Hour, Share::EqualPerUnit, t, t - 1).0,
        WindowStatus::Invalid
    );
    let week = 7 * 86_400;
    let (status, p) = pieces(NY, TimeUnit::Hour, Share::EqualPerUnit, t, t + week);
    assert_eq!(status, WindowStatus::Used);
    assert_eq!(p.len(), 169); // 13:59:59 to 13:59:59 a week later touches 169 hours
    assert_eq!(
        pieces(NY, TimeUnit::Hour, Share::EqualPerUnit, t, t + week + 1).0,
        WindowStatus::TooLong
    );
    assert!((p.iter().map(|p| p.weight).sum::<f64>() - 1.0).abs() < 1e-12);
}

/// Spring forward (2024-03-10, New York): from 00:00 EST to 04:00 EDT is three real
/// hours, local hours 0, 1 and 3; hour 2 does not exist.
/// Fall back (2024-11-03): from 00:00 EDT to 03:00 EST is four real hours, local hours
/// 0, 1, 1 and 2: the repeated hour counts twice.
#[test]
fn windows_across_dst_changes() {
    let (from, to) = (at(NY, "2024-03-10T00:00"), at(NY, "2024-03-10T04:00"));
    assert_eq!(to - from, 3 * 3600);
    let (_, p) = pieces(NY, TimeUnit::Hour, Share::EqualPerUnit, from, to);
    assert_eq!(
        p.iter().map(|p| p.label.hour()).collect::<Vec<_>>(),
        vec![0, 1, 3]
    );
    assert!(p.iter().all(|p| p.weight == 1.0 / 3.0));

    let (from, to) = (at(NY, "2024-11-03T00:00"), at(NY, "2024-11-03T03:00"));
    assert_eq!(to - from, 4 * 3600);
    let (_, p) = pieces(NY, TimeUnit::Hour, Share::EqualPerUnit, from, to);
    assert_eq!(
        p.iter().map(|p| p.label.hour()).collect::<Vec<_>>(),
        vec![0, 1, 1, 2]
    );
    assert!(
        p.iter()
            .all(|p| p.weight == 0.25 && p.end - p.start == 3600)
    );

    // The day units of those dates are 23 and 25 hours long, one unit each.
    let (_, p) = pieces(
        NY,
        TimeUnit::Day,
        Share::EqualPerUnit,
        at(NY, "2024-03-10T12:00"),
        at(NY, "2024-03-10T12:01"),
    );
    assert_eq!((p.len(), p[0].end - p[0].start), (1, 23 * 3600));
    let (_, p) = pieces(
        NY,
        TimeUnit::Day,
        Share::EqualPerUnit,
        at(NY, "2024-11-03T12:00"),
        at(NY, "2024-11-03T12:01"),
    );
    assert_eq!(p[0].end - p[0].start, 25 * 3600);
}

/// A zone with a half-hour offset: local hour boundaries are at UTC :30.
#[test]
fn half_hour_offset_zone() {
    let tz = "Asia/Kolkata";
    let (from, to) = (at(tz, "2024-06-01T10:00"), at(tz, "2024-06-01T11:00"));
    assert_eq!(from.rem_euclid(3600), 1800);
    let (_, p) = pieces(tz, TimeUnit::Hour, Share::EqualPerUnit, from, to);
    assert_eq!(p.len(), 1);
    assert_eq!((p[0].start, p[0].end, p[0].label.hour()), (from, to, 10));
}

/// Days, ISO weeks and months: equal shares over the units touched.
#[test]
fn days_weeks_months() {
    // 23:00 to 01:00 touches two days: 1/2 each, both ways.
    let (from, to) = (at(NY, "2024-01-05T23:00"), at(NY, "2024-01-06T01:00"));
    for share in [Share::EqualPerUnit, Share::ProportionalToOverlap] {
        let (_, p) = pieces(NY, TimeUnit::Day, share, from, to);
        assert_eq!(
            p.iter().map(|p| p.weight).collect::<Vec<_>>(),
            vec![0.5, 0.5]
        );
    }
    // Sunday 23:00 to Monday 01:00: two ISO weeks labelled by their Mondays.
    let (_, p) = pieces(
        NY,
        TimeUnit::IsoWeek,
        Share::EqualPerUnit,
        at(NY, "2024-01-07T23:00"),
        at(NY, "2024-01-08T01:00"),
    );
    let mondays: Vec<String> = p.iter().map(|p| p.label.date().to_string()).collect();
    assert_eq!(mondays, vec!["2024-01-01", "2024-01-08"]);
    assert_eq!(p[0].end - p[0].start, 7 * 86_400);
    // Jan 31 12:00 to Feb 1 18:00: two months; proportionally 12 of 30 hours in January.
    let (from, to) = (at(NY, "2024-01-31T12:00"), at(NY, "2024-02-01T18:00"));
    let (_, p) = pieces(NY, TimeUnit::Month, Share::EqualPerUnit, from, to);
    assert_eq!(
        p.iter()
            .map(|p| (p.label.month(), p.weight))
            .collect::<Vec<_>>(),
        vec![(1, 0.5), (2, 0.5)]
    );
    let (_, p) = pieces(NY, TimeUnit::Month, Share::ProportionalToOverlap, from, to);
    assert!((p[0].weight - 0.4).abs() < 1e-15 && (p[1].weight - 0.6).abs() < 1e-15);
    assert_eq!(p[0].end - p[0].start, 31 * 86_400);
}

/// A daily series over a study period that starts at noon: the first day is
/// incomplete, an event after the period is reported as outside, zero days are listed.
#[test]
fn daily_series_with_period() {
    let zone = time_zone(NY).expect("zone");
    let incidents = [
        window(at(NY, "2024-01-01T13:00"), at(NY, "2024-01-01T13:01")),
        window(at(NY, "2024-01-03T23:00"), at(NY, "2024-01-04T01:00")),
        window(at(NY, "2024-01-09T08:00"), at(NY, "2024-01-09T08:00")),
        window(at(NY, "2024-01-02T08:00"), at(NY, "2024-01-01T08:00")),
        window(at(NY, "2023-12-01T08:00"), at(NY, "2024-01-01T08:00")),
    ];
    let period = (at(NY, "2024-01-01T12:00"), at(NY, "2024-01-05T00:00"));
    let s = series(
        &incidents,
        Some(&[1.0, 2.0, 1.0, 1.0, 1.0]),
        &zone,
        TimeUnit::Day,
        Some(period),
        &AoristicConfig::default(),
    )
    .expect("series");
    let got: Vec<(i8, f64, bool)> = s
        .bins
        .iter()
        .map(|b| (b.label.day(), b.value, b.complete))
        .collect();
    assert_eq!(
        got,
        vec![
            (1, 1.0, false),
            (2, 0.0, true),
            (3, 1.0, true),
            (4, 1.0, true)
        ]
    );
    assert_eq!(
        (
            s.tally.incidents,
            s.tally.used,
            s.tally.invalid,
            s.tally.too_long
        ),
        (5, 3, 1, 1)
    );
    assert_eq!((s.tally.used_weight, s.tally.outside_weight), (4.0, 1.0));
    // Without a period: from the first to the last day touched, zeros included.
    let s = series(
        &incidents,
        None,
        &zone,
        TimeUnit::Day,
        None,
        &AoristicConfig::default(),
    )
    .expect("series");
    assert_eq!(s.bins.len(), 9);
    assert_eq!(s.bins.iter().map(|b| b.value).sum::<f64>(), 3.0);
    assert!(s.bins.windows(2).all(|w| w[0].end == w[1].start));
}

#[test]
fn unknown_zone_is_an_error() {
    assert!(time_zone("Mars/Olympus_Mons").is_err());
}
