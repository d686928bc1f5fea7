//! The data-quality report: what was rejected and why, what was accepted by year and
//! category, which categories lack locations, which categories' coding drifts between
//! years, and how many rows were duplicates or retractions.

use std::collections::BTreeMap;

use sl_store::{EventFilter, Store};
use sl_types::ReasonCode;

use crate::{EngineError, Result};

/// A category whose share of a year's events moved sharply from the year before.
#[derive(Debug, Clone, PartialEq)]
pub struct Drift {
    pub category: String,
    pub from_year: i32,
    pub to_year: i32,
    /// Share of the year's events, in percent.
    pub share_before: f64,
    pub share_after: f64,
    pub count_before: u64,
    pub count_after: u64,
}

/// Accepted events and the share without a point, for one category.
#[derive(Debug, Clone, PartialEq)]
pub struct LocationGap {
    pub category: String,
    pub events: u64,
    pub without_point: u64,
}

/// One reason code's count.
#[derive(Debug, Clone, PartialEq)]
pub struct ReasonCount {
    pub code: String,
    pub count: u64,
    pub explanation: &'static str,
}

/// The whole report.
#[derive(Debug, Clone)]
pub struct QualityReport {
    pub dataset: String,
    pub time_zone: String,
    pub events: u64,
    pub retracted_events: u64,
    pub first_occurrence: Option<String>,
    pub last_occurrence: Option<String>,
    /// Quarantined rows by reason (duplicates and unmatched retractions included).
    pub reasons: Vec<ReasonCount>,
    pub duplicates: u64,
    pub retractions_matched: u64,
    pub retractions_unmatched: u64,
    /// Accepted, non-retracted events: year → category → count.
    pub by_year: BTreeMap<i32, BTreeMap<String, u64>>,
    pub without_location: Vec<LocationGap>,
    pub without_location_total: u64,
    pub drift: Vec<Drift>,
    /// The drift rule, stated for readers.
    pub drift_rule: String,
}

/// Minimum change in share (percentage points) for a drift flag.
pub const DRIFT_MIN_POINTS: f64 = 1.0;
/// Minimum relative change in share for a drift flag (0.5 = ±50%).
pub const DRIFT_MIN_RELATIVE: f64 = 0.5;
/// Minimum events in the larger of the two years for a drift flag.
pub const DRIFT_MIN_EVENTS: u64 = 30;
/// Both years must hold at least this share of the busiest year's events, so that
/// sparse years (late reports of old crimes, a year just begun) are not compared.
pub const DRIFT_MIN_YEAR_SHARE: f64 = 0.25;

/// An instant (UTC seconds) as the report writes occurrence times: local time to the
/// minute with the zone's abbreviation, e.g. `2019-01-01 00:05 CST`.
pub fn local_minute(tz: &jiff::tz::TimeZone, t: i64) -> String {
    jiff::Timestamp::from_second(t)
        .map(|ts| {
            ts.to_zoned(tz.clone())
                .strftime("%Y-%m-%d %H:%M %Z")
                .to_string()
        })
        .unwrap_or_default()
}

/// Builds the quality report of one dataset.
pub fn quality_report<S: Store>(store: &S, dataset: &str) -> Result<QualityReport> {
    let info = store
        .datasets()?
        .into_iter()
        .find(|d| d.name == dataset)
        .ok_or_else(|| sl_store::StoreError::UnknownDataset(dataset.to_string()))?;
    let tz = jiff::tz::TimeZone::get(&info.time_zone)
        .map_err(|e| EngineError::Invalid(format!("dataset time zone: {e}")))?;
    let mut by_year: BTreeMap<i32, BTreeMap<String, u64>> = BTreeMap::new();
    let mut gaps: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    let mut first: Option<i64> = None;
    let mut last: Option<i64> = None;
    let mut year_cache: Option<(i64, i64, i32)> = None;
    store.scan_events(info.id, &EventFilter::default(), &mut |e| {
        first = Some(first.map_or(e.t_from, |f| f.min(e.t_from)));
        last = Some(last.map_or(e.t_from, |l| l.max(e.t_from)));
        let year = match year_cache {
            Some((lo, hi, y)) if e.t_from >= lo && e.t_from < hi => y,
            _ => {
                let (lo, hi, y) = local_year_bounds(&tz, e.t_from);
                year_cache = Some((lo, hi, y));
                y
            }
        };
        *by_year
            .entry(year)
            .or_default()
            .entry(e.category.clone())
            .or_default() += 1;
        let g = gaps.entry(e.category.clone()).or_default();
        g.0 += 1;
        if e.lon.is_none() {
            g.1 += 1;
        }
    })?;
    let reasons: Vec<ReasonCount> = store
        .reason_counts(info.id)?
        .into_iter()
        .map(|(code, count)| ReasonCount {
            explanation: ReasonCode::parse(&code).map_or("", ReasonCode::explain),
            code,
            count,
        })
        .collect();
    let duplicates = reasons
        .iter()
        .find(|r| r.code == ReasonCode::Duplicate.as_str())
        .map_or(0, |r| r.count);
    let (matched, unmatched) = store.retraction_counts(info.id)?;
    let without_location: Vec<LocationGap> = gaps
        .into_iter()
        .map(|(category, (events, without_point))| LocationGap {
            category,
            events,
            without_point,
        })
        .collect();
    let fmt = |t: i64| local_minute(&tz, t);
    Ok(QualityReport {
        dataset: info.name.clone(),
        time_zone: info.time_zone.clone(),
        events: info.events,
        retracted_events: info.retracted_events,
        first_occurrence: first.map(fmt),
        last_occurrence: last.map(fmt),
        reasons,
        duplicates,
        retractions_matched: matched,
        retractions_unmatched: unmatched,
        drift: drift(&by_year),
        without_location_total: without_location.iter().map(|g| g.without_point).sum(),
        without_location,
        by_year,
        drift_rule: format!(
            "a category is flagged when its share of a year's events changes from the previous year by at least {DRIFT_MIN_POINTS} percentage point and by at least {:.0}% of its earlier share, with at least {DRIFT_MIN_EVENTS} events in one of the two years; years with fewer than {:.0}% of the busiest year's events are not compared",
            DRIFT_MIN_RELATIVE * 100.0,
            DRIFT_MIN_YEAR_SHARE * 100.0
        ),
    })
}

/// The local year holding instant `t`, and that year's UTC bounds `[lo, hi)`.
fn local_year_bounds(tz: &jiff::tz::TimeZone, t: i64) -> (i64, i64, i32) {
    let Ok(ts) = jiff::Timestamp::from_second(t) else {
        return (t, t + 1, 0);
    };
    let year = ts.to_zoned(tz.clone()).year();
    let start = |y: i16| {
        jiff::civil::date(y, 1, 1)
            .to_zoned(tz.clone())
            .map(|z| z.timestamp().as_second())
            .unwrap_or(t)
    };
    (start(year), start(year.saturating_add(1)), i32::from(year))
}

/// Flags sharp year-to-year changes in category shares (see [`QualityReport::drift_rule`]).
pub fn drift(by_year: &BTreeMap<i32, BTreeMap<String, u64>>) -> Vec<Drift> {
    let mut out = Vec::new();
    let busiest = by_year
        .values()
        .map(|m| m.values().sum::<u64>())
        .max()
        .unwrap_or(0) as f64;
    let years: Vec<&i32> = by_year.keys().collect();
    for pair in years.windows(2) {
        let (a, b) = (*pair[0], *pair[1]);
        if b != a + 1 {
            continue;
        }
        let (ya, yb) = (&by_year[&a], &by_year[&b]);
        let (ta, tb) = (
            ya.values().sum::<u64>() as f64,
            yb.values().sum::<u64>() as f64,
        );
        if ta < busiest * DRIFT_MIN_YEAR_SHARE
            || tb < busiest * DRIFT_MIN_YEAR_SHARE
            || ta == 0.0
            || tb == 0.0
        {
            continue;
        }
        let mut cats: Vec<&String> = ya.keys().chain(yb.keys()).collect();
        cats.sort();
        cats.dedup();
        for c in cats {
            let (ca, cb) = (
                ya.get(c).copied().unwrap_or(0),
                yb.get(c).copied().unwrap_or(0),
            );
            let (sa, sb) = (ca as f64 / ta * 100.0, cb as f64 / tb * 100.0);
            let points = (sb - sa).abs();
            let relative = if sa > 0.0 { points / sa } else { f64::INFINITY };
            if points >= DRIFT_MIN_POINTS
                && relative >= DRIFT_MIN_RELATIVE
                && ca.max(cb) >= DRIFT_MIN_EVENTS
            {
                out.push(Drift {
                    category: c.clone(),
                    from_year: a,
                    to_year: b,
                    share_before: sa,
                    share_after: sb,
                    count_before: ca,
                    count_after: cb,
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn year(pairs: &[(&str, u64)]) -> BTreeMap<String, u64> {
        pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect()
    }

    #[test]
    fn drift_flags_only_sharp_changes() {
        let mut by_year = BTreeMap::new();
        // fraud jumps from 2% to 10%; theft moves 50% -> 46% (not flagged: 8% relative).
        by_year.insert(
            2020,
            year(&[("fraud", 20), ("other_theft", 500), ("other", 480)]),
        );
        by_year.insert(
            2021,
            year(&[("fraud", 100), ("other_theft", 460), ("other", 440)]),
        );
        let d = drift(&by_year);
        assert_eq!(d.len(), 1, "{d:?}");
        assert_eq!(d[0].category, "fraud");
        assert!((d[0].share_before - 2.0).abs() < 1e-9);
        assert!((d[0].share_after - 10.0).abs() < 1e-9);
    }

    #[test]
    fn drift_skips_gaps_and_small_counts() {
        let mut by_year = BTreeMap::new();
        by_year.insert(2019, year(&[("arson", 1), ("other", 99)]));
        by_year.insert(2020, year(&[("arson", 5), ("other", 95)]));
        by_year.insert(2022, year(&[("arson", 50), ("other", 50)]));
        assert!(drift(&by_year).is_empty());
    }

    #[test]
    fn drift_ignores_sparse_years() {
        let mut by_year = BTreeMap::new();
        // 2018 holds only late reports (40 events vs 1000): no comparison with it.
        by_year.insert(2018, year(&[("fraud", 30), ("other", 10)]));
        by_year.insert(2019, year(&[("fraud", 100), ("other", 900)]));
        assert!(drift(&by_year).is_empty());
    }
}
