use sl_analytics::concentration::{Located, concentration, repeats};

/// Hand case: values (0, 0, 1, 3) → ascending ranks 1..4 give Σ i·x = 3·1 + 4·3 = 15;
/// G = 2·15 / (4·4) − 5/4 = 1.875 − 1.25 = 0.625. The same from the mean absolute
/// difference: Σ_i Σ_j |x_i − x_j| = 2·(0+1+3+1+3+2) = 20; 20 / (2·16·1) = 0.625.
#[test]
fn gini_and_lorenz_hand_case() {
    let c = concentration(&[1.0, 0.0, 3.0, 0.0]);
    assert!((c.gini - 0.625).abs() < 1e-15);
    assert_eq!(c.lorenz[0], (0.0, 0.0));
    assert_eq!(c.lorenz[1], (0.25, 0.75));
    assert_eq!(c.lorenz[4], (1.0, 1.0));
    // Top 25% of places (1 place) hold 75%; the top 10% rounds up to one place too.
    assert_eq!(c.share_at_top(0.25), 0.75);
    assert_eq!(c.share_at_top(0.10), 0.75);
    assert_eq!(c.places_for_share(0.5), 0.25);
    assert_eq!(c.places_for_share(1.0), 0.5);
    assert_eq!(c.events_per_place, 1.0);
    // Perfect equality and emptiness.
    assert_eq!(concentration(&[2.0, 2.0, 2.0]).gini, 0.0);
    assert_eq!(concentration(&[0.0, 0.0]).gini, 0.0);
}

#[test]
fn repeats_by_location_category_and_window() {
    let day = 86_400;
    let ev = |location, time, category| Located {
        location,
        time,
        category,
    };
    let events = [
        ev(1, 0, 0),
        ev(1, 3 * day, 0),  // repeat (3 days after, window 7 days)
        ev(1, 11 * day, 0), // 8 days after the last: not a repeat
        ev(1, 12 * day, 1), // other category: not a repeat
        ev(2, 0, 0),
        ev(2, 7 * day, 0), // exactly the window: not a repeat (half-open)
        ev(3, 5, 0),
        ev(3, 5, 0), // simultaneous: the second is a repeat
    ];
    let r = repeats(&events, 7 * day);
    assert_eq!(
        r.is_repeat,
        vec![false, true, false, false, false, false, false, true]
    );
    assert_eq!(r.repeat_events, 2);
    assert_eq!(r.repeat_locations, 2);
    assert_eq!(r.locations, 3);
    assert_eq!(r.by_category, vec![(0, 7, 2), (1, 1, 0)]);
    assert!((r.repeat_rate() - 0.25).abs() < 1e-15);
}
