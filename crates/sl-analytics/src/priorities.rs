//! A harm-weighted priority list of places, with the reasons a place is on it.
//!
//! Places are ranked by the total harm of their events in the current period, in the
//! spirit of the Cambridge Crime Harm Index (Sherman, Neyroud & Neyroud 2016,
//! *Policing* 10(3), 171–183): a place with a few serious offences can outrank one
//! with many minor ones. Each place carries what a commander needs to judge the
//! ranking: counts and harm by category, the change from the prior period with an
//! exact test of whether the change exceeds chance, the repeat rate and peak hours.
//!
//! # Algorithm
//!
//! Events of each place are split into the current period `[c0, c1)` and the prior
//! period `[p0, p1)`. The change test is the conditional test for two Poisson rates
//! (Przyborowski & Wilenski 1940): given `k = current + prior` events, the current
//! count is Binomial(`k`, `r`) with `r = L_c / (L_c + L_p)` (period lengths) under no
//! change; the two-sided p sums the probabilities of all outcomes no more likely than
//! the one observed. Ties in harm are broken by more events, then by the lower unit
//! index, so the order is total and reproducible.
//!
//! # Notes
//!
//! `O(n log n)` in events.

use std::collections::HashMap;

use statrs::distribution::{Binomial, Discrete};

use crate::concentration::{Located, repeats};

/// One event of a place, as the priority list needs it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PlaceEvent {
    /// The place (unit index).
    pub unit: u32,
    /// Category index (the caller keeps the names).
    pub category: u16,
    /// Harm weight of the event.
    pub harm: f64,
    /// Occurrence time, UTC seconds.
    pub time: i64,
    /// Hour of day in local time (0–23), when known to the hour.
    pub local_hour: Option<u8>,
    /// Location key for repeats (e.g. the block point rounded to a metre); `None` for
    /// an event without a point, which then takes no part in repeats.
    pub location: Option<u64>,
}

/// Periods and options.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PriorityConfig {
    /// Current period `[from, to)`, UTC seconds.
    pub current: (i64, i64),
    /// Prior period `[from, to)`, UTC seconds (usually the same length, just before).
    pub prior: (i64, i64),
    /// Repeat window in seconds (see [`crate::concentration::repeats`]).
    pub repeat_window: i64,
    /// How many places to return.
    pub top: usize,
}

/// Harm and count of one category at a place.
#[derive(Debug, Clone, PartialEq)]
pub struct CategoryShare {
    pub category: u16,
    pub events: usize,
    pub harm: f64,
}

/// One place on the list, with its explanation.
#[derive(Debug, Clone, PartialEq)]
pub struct PlacePriority {
    /// 1 for the most harmful place.
    pub rank: usize,
    pub unit: u32,
    /// Total harm in the current period.
    pub harm: f64,
    /// This place's share of the current period's harm over all places.
    pub harm_share: f64,
    /// Events in the current period.
    pub events: usize,
    /// By category, most harmful first.
    pub by_category: Vec<CategoryShare>,
    /// Events and harm in the prior period.
    pub prior_events: usize,
    pub prior_harm: f64,
    /// Current events per day over prior events per day (`None` when the prior had none).
    pub rate_ratio: Option<f64>,
    /// Two-sided p of the conditional Poisson test of a change in rate.
    pub change_p: f64,
    /// Share of current-period events that repeat an earlier same-category event at
    /// the same location within the repeat window (earlier events from the prior
    /// period count as originals). The denominator is all current events, so events
    /// without a point count as non-repeats.
    pub repeat_rate: f64,
    /// Up to three local hours with most current-period events, most first.
    pub peak_hours: Vec<(u8, usize)>,
}

/// Ranks places by current-period harm and explains each.
pub fn priorities(events: &[PlaceEvent], cfg: &PriorityConfig) -> Vec<PlacePriority> {
    let in_period = |t: i64, (a, b): (i64, i64)| t >= a && t < b;
    let total_harm: f64 = events
        .iter()
        .filter(|e| in_period(e.time, cfg.current))
        .map(|e| e.harm)
        .sum();
    let mut by_unit: HashMap<u32, Vec<&PlaceEvent>> = HashMap::new();
    for e in events {
        if in_period(e.time, cfg.current) || in_period(e.time, cfg.prior) {
            by_unit.entry(e.unit).or_default().push(e);
        }
    }
    let len_c = (cfg.current.1 - cfg.current.0).max(1) as f64;
    let len_p = (cfg.prior.1 - cfg.prior.0).max(1) as f64;
    let mut places: Vec<PlacePriority> = by_unit
        .into_iter()
        .filter_map(|(unit, evs)| {
            let current: Vec<&&PlaceEvent> = evs
                .iter()
                .filter(|e| in_period(e.time, cfg.current))
                .collect();
            if current.is_empty() {
                return None;
            }
            let prior: Vec<&&PlaceEvent> = evs
                .iter()
                .filter(|e| in_period(e.time, cfg.prior))
                .collect();
            let harm: f64 = current.iter().map(|e| e.harm).sum();
            let mut cats: HashMap<u16, (usize, f64)> = HashMap::new();
            let mut hours = [0usize; 24];
            for e in &current {
                let c = cats.entry(e.category).or_default();
                c.0 += 1;
                c.1 += e.harm;
                if let Some(h) = e.local_hour.filter(|&h| h < 24) {
                    hours[h as usize] += 1;
                }
            }
            let mut by_category: Vec<CategoryShare> = cats
                .into_iter()
                .map(|(category, (events, harm))| CategoryShare {
                    category,
                    events,
                    harm,
                })
                .collect();
            by_category.sort_by(|a, b| {
                b.harm
                    .total_cmp(&a.harm)
                    .then(b.events.cmp(&a.events))
                    .then(a.category.cmp(&b.category))
            });
            let mut peak: Vec<(u8, usize)> = hours
                .iter()
                .enumerate()
                .filter(|(_, n)| **n > 0)
                .map(|(h, n)| (h as u8, *n))
                .collect();
            peak.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
            peak.truncate(3);
            // Repeats: prior events may be the originals of current repeats. Events
            // without a point have no location to repeat at.
            let with_point: Vec<&&PlaceEvent> =
                evs.iter().filter(|e| e.location.is_some()).collect();
            let located: Vec<Located> = with_point
                .iter()
                .map(|e| Located {
                    location: e.location.unwrap_or_default(),
                    time: e.time,
                    category: e.category,
                })
                .collect();
            let rep = repeats(&located, cfg.repeat_window);
            let current_repeats = with_point
                .iter()
                .zip(&rep.is_repeat)
                .filter(|(e, r)| **r && in_period(e.time, cfg.current))
                .count();
            let (nc, np) = (current.len(), prior.len());
            Some(PlacePriority {
                rank: 0,
                unit,
                harm,
                harm_share: if total_harm > 0.0 {
                    harm / total_harm
                } else {
                    0.0
                },
                events: nc,
                by_category,
                prior_events: np,
                prior_harm: prior.iter().map(|e| e.harm).sum(),
                rate_ratio: (np > 0).then(|| (nc as f64 / len_c) / (np as f64 / len_p)),
                change_p: rate_change_p(nc as u64, np as u64, len_c / (len_c + len_p)),
                repeat_rate: current_repeats as f64 / nc as f64,
                peak_hours: peak,
            })
        })
        .collect();
    places.sort_by(|a, b| {
        b.harm
            .total_cmp(&a.harm)
            .then(b.events.cmp(&a.events))
            .then(a.unit.cmp(&b.unit))
    });
    places.truncate(cfg.top);
    for (i, p) in places.iter_mut().enumerate() {
        p.rank = i + 1;
    }
    places
}

/// Two-sided p of the conditional test for two Poisson rates: `current` out of
/// `current + prior` events, each falling in the current period with probability `r`
/// under no change.
pub fn rate_change_p(current: u64, prior: u64, r: f64) -> f64 {
    let k = current + prior;
    if k == 0 {
        return 1.0;
    }
    let Ok(b) = Binomial::new(r.clamp(0.0, 1.0), k) else {
        return 1.0;
    };
    let observed = b.pmf(current);
    // Outcomes no more likely than the observed one (with a relative tolerance for
    // floating-point ties, as R's binom.test uses).
    let p: f64 = (0..=k)
        .map(|x| b.pmf(x))
        .filter(|&q| q <= observed * (1.0 + 1e-7))
        .sum();
    p.min(1.0)
}
