//! How concentrated events are among places: the Lorenz curve, the Gini coefficient,
//! the share of events at the top x% of places, and repeat locations.
//!
//! The "law of crime concentration at place" (Weisburd 2015, *Criminology* 53(2),
//! 133–157) is usually stated as the share of places that holds 50% (or 25%) of events;
//! the Lorenz curve (Lorenz 1905, *Publications of the American Statistical
//! Association* 9(70), 209–219) shows the whole relationship and the Gini coefficient
//! (Gini 1912) summarises it in one number.
//!
//! # Notes
//!
//! When there are fewer events than places, even a perfectly even spread leaves most
//! places empty and the Gini coefficient is high for that reason alone (Bernasco &
//! Steenbeek 2017, *J. Quantitative Criminology* 33(3), 451–467). [`Concentration`]
//! therefore reports the events-to-places ratio beside the Gini, so a reader can tell.

use std::collections::HashMap;

/// Concentration of events (or harm) among places.
#[derive(Debug, Clone, PartialEq)]
pub struct Concentration {
    /// Number of places (including places with zero events).
    pub places: usize,
    /// Total of the values (events or harm).
    pub total: f64,
    /// The Lorenz curve with places sorted from most to least: `(share of places,
    /// cumulative share of the total)`, starting at `(0, 0)` and ending at `(1, 1)`.
    pub lorenz: Vec<(f64, f64)>,
    /// The Gini coefficient in `[0, 1)`: 0 when every place has the same value.
    pub gini: f64,
    /// Events per place; below 1 the Gini is inflated by sparseness (see the notes).
    pub events_per_place: f64,
}

impl Concentration {
    /// The share of the total held by the top `fraction` of places (the top
    /// `ceil(fraction × places)` places, most first).
    pub fn share_at_top(&self, fraction: f64) -> f64 {
        if self.places == 0 || self.total <= 0.0 {
            return 0.0;
        }
        let k = (fraction.clamp(0.0, 1.0) * self.places as f64).ceil() as usize;
        self.lorenz[k.min(self.places)].1
    }

    /// The smallest share of places holding at least `share` of the total.
    pub fn places_for_share(&self, share: f64) -> f64 {
        if self.total <= 0.0 {
            return 0.0;
        }
        self.lorenz
            .iter()
            .find(|&&(_, s)| s >= share - 1e-12)
            .map_or(1.0, |&(p, _)| p)
    }
}

/// Computes the Lorenz curve and Gini coefficient of per-place values (counts or harm;
/// negative values are not allowed and are treated as zero).
///
/// # Algorithm
///
/// Values sorted ascending `x_(1) ≤ … ≤ x_(n)` give
/// `G = 2 Σ i·x_(i) / (n Σ x) − (n + 1) / n`, the mean absolute difference over
/// twice the mean. `O(n log n)`.
pub fn concentration(values: &[f64]) -> Concentration {
    let n = values.len();
    let mut sorted: Vec<f64> = values.iter().map(|v| v.max(0.0)).collect();
    sorted.sort_by(|a, b| b.total_cmp(a));
    let total: f64 = sorted.iter().sum();
    let mut lorenz = Vec::with_capacity(n + 1);
    lorenz.push((0.0, 0.0));
    let mut cum = 0.0;
    for (i, v) in sorted.iter().enumerate() {
        cum += v;
        let share = if total > 0.0 { cum / total } else { 0.0 };
        lorenz.push(((i + 1) as f64 / n as f64, share));
    }
    let gini = if n == 0 || total <= 0.0 {
        0.0
    } else {
        // `sorted` is descending: the ascending rank of element k is n − k.
        let weighted: f64 = sorted
            .iter()
            .enumerate()
            .map(|(k, v)| (n - k) as f64 * v)
            .sum();
        2.0 * weighted / (n as f64 * total) - (n as f64 + 1.0) / n as f64
    };
    Concentration {
        places: n,
        total,
        lorenz,
        gini,
        events_per_place: if n == 0 { 0.0 } else { total / n as f64 },
    }
}

/// One event for the repeat analysis: where (a location key, e.g. the block point
/// rounded to a metre), when (UTC seconds) and what (a category index).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Located {
    pub location: u64,
    pub time: i64,
    pub category: u16,
}

/// Repeat victimisation of places (Farrell & Pease 1993; Johnson 2008): an event is a
/// *repeat* when an earlier event of the same category happened at the same location
/// less than `window` seconds before it (`0 ≤ t − t_prev < window`; simultaneous
/// events at one place count as repeats of each other in input order).
#[derive(Debug, Clone, PartialEq)]
pub struct Repeats {
    /// Events analysed.
    pub events: usize,
    /// Events that are repeats.
    pub repeat_events: usize,
    /// Distinct locations with at least one repeat.
    pub repeat_locations: usize,
    /// Distinct locations.
    pub locations: usize,
    /// Per category index: (events, repeat events).
    pub by_category: Vec<(u16, usize, usize)>,
    /// For each input event, whether it is a repeat.
    pub is_repeat: Vec<bool>,
}

impl Repeats {
    /// Share of events that are repeats.
    pub fn repeat_rate(&self) -> f64 {
        if self.events == 0 {
            0.0
        } else {
            self.repeat_events as f64 / self.events as f64
        }
    }
}

/// Finds repeat events. `O(n log n)`.
pub fn repeats(events: &[Located], window: i64) -> Repeats {
    let mut order: Vec<usize> = (0..events.len()).collect();
    order.sort_by_key(|&i| (events[i].location, events[i].category, events[i].time, i));
    let mut is_repeat = vec![false; events.len()];
    for pair in order.windows(2) {
        let (a, b) = (&events[pair[0]], &events[pair[1]]);
        if a.location == b.location && a.category == b.category && b.time - a.time < window {
            is_repeat[pair[1]] = true;
        }
    }
    let mut locations: HashMap<u64, bool> = HashMap::new();
    let mut by_cat: HashMap<u16, (usize, usize)> = HashMap::new();
    for (e, &r) in events.iter().zip(&is_repeat) {
        *locations.entry(e.location).or_default() |= r;
        let c = by_cat.entry(e.category).or_default();
        c.0 += 1;
        c.1 += usize::from(r);
    }
    let mut by_category: Vec<(u16, usize, usize)> =
        by_cat.into_iter().map(|(k, (n, r))| (k, n, r)).collect();
    by_category.sort_unstable();
    Repeats {
        events: events.len(),
        repeat_events: is_repeat.iter().filter(|&&r| r).count(),
        repeat_locations: locations.values().filter(|&&r| r).count(),
        locations: locations.len(),
        by_category,
        is_repeat,
    }
}
