use sl_analytics::priorities::{PlaceEvent, PriorityConfig, priorities, rate_change_p};

const DAY: i64 = 86_400;

fn ev(unit: u32, category: u16, harm: f64, day: i64, hour: u8, location: u64) -> PlaceEvent {
    PlaceEvent {
        unit,
        category,
        harm,
        time: day * DAY + i64::from(hour) * 3600,
        local_hour: Some(hour),
        location: Some(location),
    }
}

#[test]
fn harm_outranks_counts_and_each_place_is_explained() {
    let cfg = PriorityConfig {
        current: (28 * DAY, 56 * DAY),
        prior: (0, 28 * DAY),
        repeat_window: 7 * DAY,
        top: 10,
    };
    let mut events = vec![
        // Place 1: one serious event (harm 365) now, none before.
        ev(1, 0, 365.0, 30, 23, 10),
        // Place 2: five minor events (harm 2 each) now, two before; repeats at one spot.
        ev(2, 1, 2.0, 29, 14, 20),
        ev(2, 1, 2.0, 31, 14, 20),
        ev(2, 1, 2.0, 40, 15, 21),
        ev(2, 1, 2.0, 45, 14, 22),
        ev(2, 1, 2.0, 50, 9, 23),
        ev(2, 1, 2.0, 5, 14, 24),
        ev(2, 1, 2.0, 27, 14, 20),
    ];
    // Place 3: only prior-period events; not listed.
    events.push(ev(3, 0, 365.0, 3, 1, 30));
    // Two events without a point at place 4, same day and category: not repeats.
    for _ in 0..2 {
        let mut e = ev(4, 1, 1.0, 40, 12, 0);
        e.location = None;
        events.push(e);
    }
    let list = priorities(&events, &cfg);
    assert_eq!(list.len(), 3);
    assert_eq!((list[2].unit, list[2].repeat_rate), (4, 0.0));
    assert_eq!((list[0].unit, list[0].rank), (1, 1));
    assert_eq!((list[1].unit, list[1].rank), (2, 2));
    let p2 = &list[1];
    assert_eq!((p2.events, p2.prior_events), (5, 2));
    assert_eq!(p2.harm, 10.0);
    // Total current harm: 365 + 10 + 2 (place 4).
    assert!((p2.harm_share - 10.0 / 377.0).abs() < 1e-12);
    // Equal period lengths: rate ratio 5/2.
    assert_eq!(p2.rate_ratio, Some(2.5));
    // Day 29 repeats day 27 (prior period) and day 31 repeats day 29 at location 20.
    assert!((p2.repeat_rate - 2.0 / 5.0).abs() < 1e-12);
    assert_eq!(p2.peak_hours, vec![(14, 3), (9, 1), (15, 1)]);
    assert_eq!(list[0].rate_ratio, None);
}

/// Hand case: 5 current vs 2 prior with r = 0.5: P(X = x) for Binomial(7, 0.5) is
/// C(7, x)/128. P(5) = 21/128; outcomes no more likely: x ∈ {0,1,2,5,6,7} →
/// (1 + 7 + 21 + 21 + 7 + 1)/128 = 58/128 = 0.453125 (R: binom.test(5, 7)$p.value).
#[test]
fn rate_change_test_hand_case() {
    assert!((rate_change_p(5, 2, 0.5) - 58.0 / 128.0).abs() < 1e-12);
    assert_eq!(rate_change_p(0, 0, 0.5), 1.0);
    // 10 vs 0 is significant: 2 / 1024.
    assert!((rate_change_p(10, 0, 0.5) - 2.0 / 1024.0).abs() < 1e-12);
}
