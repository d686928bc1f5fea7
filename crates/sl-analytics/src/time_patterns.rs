//! Time patterns of events in local time: the hour-of-day × day-of-week matrix,
//! seasonality by month, a weekly series with a linear trend, and a comparison of
//! patrol shifts. All are aoristic (see [`crate::aoristic`]): an event known only
//! within a window contributes a share of one to every unit its window touches.
//!
//! The engine calls these per category and per area after filtering incidents, so each
//! function takes a slice of [`Incident`], optional weights (e.g. harm) and an IANA time
//! zone name, and returns plain data.
//!
//! References:
//! - Ratcliffe, J. H. (2002). Aoristic signatures and the spatio-temporal analysis of
//!   high volume crime patterns. *Journal of Quantitative Criminology* 18(1), 23–43.
//! - Draper, N. R., & Smith, H. (1998). *Applied Regression Analysis* (3rd ed.). Wiley,
//!   ch. 1 (ordinary least squares slope, its standard error and t test).
//! - Pearson, K. (1900). On the criterion that a given system of deviations from the
//!   probable… *Philosophical Magazine* 50(302), 157–175 (chi-square goodness of fit).
//!
//! # Algorithm
//!
//! - [`hour_week`]: spread over local hour units; each unit adds its share to
//!   (weekday of its label, hour of its label). Monday is row 0. On the fall-back day the
//!   repeated hour (two real hours) adds to the same cell twice; on the spring-forward
//!   day the missing hour receives nothing.
//! - [`monthly`]: the series by local month; for each month of the year, the mean over
//!   the years in which that month is complete (wholly inside the study period).
//! - [`weekly`]: the series by ISO week; an OLS line `value = a + b·i` over the
//!   complete weeks (`i` = week number from the first bin), with the slope's standard
//!   error `√(σ̂² / Σ(i − ī)²)`, `σ̂² = RSS/(n − 2)`, and a two-sided t test on `n − 2`
//!   degrees of freedom. Weekly counts are autocorrelated and seasonal, so the p-value
//!   is a screen, not proof of trend.
//! - [`shift_comparison`]: the hour-of-day profile summed over each shift's clock
//!   hours; a chi-square test of the null that events fall in each shift in proportion
//!   to its length: `X² = Σ (O_k − E_k)²/E_k`, `E_k = T · hours_k / Σ hours`, with
//!   `K − 1` degrees of freedom.
//!
//! # Notes
//!
//! Each function makes one pass over the incidents, `O(Σ k_i)` for `k_i` units touched.

use statrs::distribution::{ChiSquared, ContinuousCDF, StudentsT};

use crate::Incident;
use crate::aoristic::{self, AoristicConfig, AoristicError, Bin, Series, Tally, TimeUnit};

/// Aoristic sums by day of week (row 0 = Monday) and local hour of day.
#[derive(Debug, Clone, PartialEq)]
pub struct HourWeekMatrix {
    /// `values[weekday][hour]`, weekday 0 = Monday … 6 = Sunday.
    pub values: [[f64; 24]; 7],
    pub tally: Tally,
}

impl HourWeekMatrix {
    /// Sums by hour of day.
    pub fn by_hour(&self) -> [f64; 24] {
        let mut out = [0.0; 24];
        for row in &self.values {
            for (h, v) in row.iter().enumerate() {
                out[h] += v;
            }
        }
        out
    }

    /// Sums by day of week (Monday first).
    pub fn by_weekday(&self) -> [f64; 7] {
        let mut out = [0.0; 7];
        for (d, row) in self.values.iter().enumerate() {
            out[d] = row.iter().sum();
        }
        out
    }

    /// Sum of all cells (the used weight, up to rounding).
    pub fn total(&self) -> f64 {
        self.values.iter().flatten().sum()
    }
}

/// The aoristic hour-of-day × day-of-week matrix in local time `tz`.
///
/// # Examples
///
/// ```
/// use sl_analytics::Incident;
/// use sl_analytics::aoristic::AoristicConfig;
/// use sl_analytics::time_patterns::hour_week;
///
/// // Friday 2024-01-05 22:00 to Saturday 06:00, New York (UTC−5): eight hours.
/// let from = 1_704_510_000;
/// let inc = Incident { x: 0.0, y: 0.0, from, to: from + 8 * 3600 };
/// let m = hour_week(&[inc], None, "America/New_York", &AoristicConfig::default()).unwrap();
/// assert_eq!(m.values[4][22], 0.125);
/// assert_eq!(m.values[5][5], 0.125);
/// ```
pub fn hour_week(
    incidents: &[Incident],
    weights: Option<&[f64]>,
    tz: &str,
    cfg: &AoristicConfig,
) -> Result<HourWeekMatrix, AoristicError> {
    let zone = aoristic::time_zone(tz)?;
    aoristic::check_weights(incidents.len(), weights)?;
    if cfg.max_span < 0 {
        return Err(AoristicError::BadMaxSpan(cfg.max_span));
    }
    let mut values = [[0.0; 24]; 7];
    let mut tally = Tally::default();
    let mut pieces = Vec::new();
    for (i, inc) in incidents.iter().enumerate() {
        let w = weights.map_or(1.0, |w| w[i]);
        let status = aoristic::spread(inc, &zone, TimeUnit::Hour, cfg, &mut pieces);
        tally.count(status, w);
        for p in &pieces {
            let d = p.label.date().weekday().to_monday_zero_offset() as usize;
            values[d][p.label.hour() as usize] += w * p.weight;
        }
    }
    Ok(HourWeekMatrix { values, tally })
}

/// One month of the year across the study's years.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MonthOfYear {
    /// 1 = January … 12 = December.
    pub month: u8,
    /// Number of complete months of this calendar month in the period.
    pub years: u32,
    /// Sum over those complete months.
    pub total: f64,
    /// `total / years`, `None` when no year covers the month.
    pub mean: Option<f64>,
}

/// Seasonality by month: the monthly series and the mean per month of year.
#[derive(Debug, Clone, PartialEq)]
pub struct Seasonality {
    pub series: Series,
    /// January first.
    pub months: Vec<MonthOfYear>,
}

/// Seasonality by local calendar month.
///
/// `period` is the study period `[from, to)` (UTC seconds); months partly outside it
/// are listed but not averaged. Without a period, every month from the first to the
/// last touched counts as complete (pass the period when the data starts or ends
/// mid-month).
pub fn monthly(
    incidents: &[Incident],
    weights: Option<&[f64]>,
    tz: &str,
    period: Option<(i64, i64)>,
    cfg: &AoristicConfig,
) -> Result<Seasonality, AoristicError> {
    let zone = aoristic::time_zone(tz)?;
    let series = aoristic::series(incidents, weights, &zone, TimeUnit::Month, period, cfg)?;
    let mut months: Vec<MonthOfYear> = (1..=12)
        .map(|month| MonthOfYear {
            month,
            years: 0,
            total: 0.0,
            mean: None,
        })
        .collect();
    for b in series.bins.iter().filter(|b| b.complete) {
        let m = &mut months[b.label.month() as usize - 1];
        m.years += 1;
        m.total += b.value;
    }
    for m in &mut months {
        m.mean = (m.years > 0).then(|| m.total / f64::from(m.years));
    }
    Ok(Seasonality { series, months })
}

/// One ISO week of a weekly series.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WeekBin {
    pub iso_year: i16,
    pub iso_week: i8,
    /// UTC seconds of local Monday 00:00 and of the next Monday 00:00.
    pub start: i64,
    pub end: i64,
    pub value: f64,
    /// Wholly inside the study period.
    pub complete: bool,
}

/// An ordinary least squares line through a series.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LinearTrend {
    /// Number of points fitted.
    pub n: usize,
    /// Change per unit (per week) and the fitted value at index 0.
    pub slope: f64,
    pub intercept: f64,
    /// Standard error of the slope.
    pub slope_se: f64,
    /// `slope / slope_se` and its two-sided p-value on `n − 2` degrees of freedom
    /// (`t = 0`, `p = 1` for a perfectly flat series; `p = 0` for a perfect non-flat
    /// line).
    pub t: f64,
    pub p_value: f64,
}

/// A weekly series with its trend.
#[derive(Debug, Clone, PartialEq)]
pub struct WeeklySeries {
    pub weeks: Vec<WeekBin>,
    /// OLS over the complete weeks; `None` with fewer than three.
    pub trend: Option<LinearTrend>,
    pub tally: Tally,
}

/// OLS fit of `y` on `x` with the slope's standard error and t test.
///
/// Returns `None` for fewer than three points or when all `x` are equal.
pub fn linear_trend(x: &[f64], y: &[f64]) -> Option<LinearTrend> {
    let n = x.len().min(y.len());
    if n < 3 {
        return None;
    }
    let nf = n as f64;
    let mx = x[..n].iter().sum::<f64>() / nf;
    let my = y[..n].iter().sum::<f64>() / nf;
    let (mut sxx, mut sxy) = (0.0, 0.0);
    for i in 0..n {
        sxx += (x[i] - mx) * (x[i] - mx);
        sxy += (x[i] - mx) * (y[i] - my);
    }
    if sxx == 0.0 {
        return None;
    }
    let slope = sxy / sxx;
    let intercept = my - slope * mx;
    let rss: f64 = (0..n)
        .map(|i| {
            let r = y[i] - intercept - slope * x[i];
            r * r
        })
        .sum();
    let df = nf - 2.0;
    let slope_se = (rss / df / sxx).sqrt();
    let (t, p_value) = if slope_se > 0.0 {
        let t = slope / slope_se;
        let dist = StudentsT::new(0.0, 1.0, df).ok()?;
        (t, 2.0 * dist.sf(t.abs()))
    } else if slope == 0.0 {
        (0.0, 1.0)
    } else {
        (slope.signum() * f64::INFINITY, 0.0)
    };
    Some(LinearTrend {
        n,
        slope,
        intercept,
        slope_se,
        t,
        p_value,
    })
}

/// The weekly (ISO 8601, local time) aoristic series and its OLS trend per week over
/// the complete weeks. See [`monthly`] for `period`.
pub fn weekly(
    incidents: &[Incident],
    weights: Option<&[f64]>,
    tz: &str,
    period: Option<(i64, i64)>,
    cfg: &AoristicConfig,
) -> Result<WeeklySeries, AoristicError> {
    let zone = aoristic::time_zone(tz)?;
    let series = aoristic::series(incidents, weights, &zone, TimeUnit::IsoWeek, period, cfg)?;
    let weeks: Vec<WeekBin> = series
        .bins
        .iter()
        .map(|b: &Bin| {
            let iso = b.label.date().iso_week_date();
            WeekBin {
                iso_year: iso.year(),
                iso_week: iso.week(),
                start: b.start,
                end: b.end,
                value: b.value,
                complete: b.complete,
            }
        })
        .collect();
    let (xs, ys): (Vec<f64>, Vec<f64>) = weeks
        .iter()
        .enumerate()
        .filter(|(_, w)| w.complete)
        .map(|(i, w)| (i as f64, w.value))
        .unzip();
    Ok(WeeklySeries {
        trend: linear_trend(&xs, &ys),
        weeks,
        tally: series.tally,
    })
}

/// A shift in local clock hours, `[start_hour, end_hour)`; it may cross midnight
/// (23 → 7 covers 23:00–06:59).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shift {
    pub name: String,
    pub start_hour: u8,
    pub end_hour: u8,
}

impl Shift {
    pub fn new(name: &str, start_hour: u8, end_hour: u8) -> Self {
        Self {
            name: name.to_string(),
            start_hour,
            end_hour,
        }
    }

    /// Length in clock hours.
    pub fn hours(&self) -> u8 {
        (self.end_hour + 24 - self.start_hour) % 24
    }

    /// True when the clock hour `hour` (0–23) is in the shift.
    pub fn contains(&self, hour: u8) -> bool {
        (hour + 24 - self.start_hour) % 24 < self.hours()
    }

    /// The common three-shift day: 07–15, 15–23, 23–07.
    pub fn three_eights() -> Vec<Shift> {
        vec![
            Shift::new("day", 7, 15),
            Shift::new("evening", 15, 23),
            Shift::new("night", 23, 7),
        ]
    }
}

/// One shift's figures.
#[derive(Debug, Clone, PartialEq)]
pub struct ShiftStat {
    pub name: String,
    pub hours: u8,
    /// Aoristic sum of (weighted) events in the shift's clock hours.
    pub amount: f64,
    /// `amount` over the sum of all shifts' amounts.
    pub share: f64,
    /// `amount / hours`: events per clock hour of the shift, summed over the days of
    /// the data (divide by the number of days for an hourly rate).
    pub per_clock_hour: f64,
    /// `per_clock_hour` relative to the mean over all shifts' hours (1 = average).
    pub rate_ratio: f64,
    /// Expected amount if events were spread evenly over the shifts' hours.
    pub expected: f64,
}

/// Shifts compared.
#[derive(Debug, Clone, PartialEq)]
pub struct ShiftComparison {
    pub shifts: Vec<ShiftStat>,
    /// Amount in clock hours that belong to no shift.
    pub outside: f64,
    /// Pearson's X², its degrees of freedom (`K − 1`) and p-value; `None` with fewer
    /// than two shifts or nothing in them. The test assumes counts: with weights it is
    /// computed on the weighted amounts and is only indicative.
    pub chi_square: Option<f64>,
    pub df: usize,
    pub p_value: Option<f64>,
    pub tally: Tally,
}

/// Why a time pattern cannot be computed.
#[derive(Debug, Clone, PartialEq)]
pub enum PatternError {
    Aoristic(AoristicError),
    /// A shift hour is not 0–23 or the shift is empty (start = end).
    BadShift {
        name: String,
    },
    /// Two shifts share a clock hour.
    OverlappingShifts {
        hour: u8,
    },
}

impl std::fmt::Display for PatternError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PatternError::Aoristic(e) => e.fmt(f),
            PatternError::BadShift { name } => write!(
                f,
                "shift {name:?} needs start and end hours 0-23 that differ (e.g. 23 to 7)"
            ),
            PatternError::OverlappingShifts { hour } => write!(
                f,
                "two shifts both cover hour {hour}: shifts must not overlap"
            ),
        }
    }
}

impl std::error::Error for PatternError {}

impl From<AoristicError> for PatternError {
    fn from(e: AoristicError) -> Self {
        PatternError::Aoristic(e)
    }
}

/// Compares shifts: each shift's aoristic amount, share, events per clock hour, and a
/// chi-square test of uniformity across shifts weighted by shift length.
pub fn shift_comparison(
    incidents: &[Incident],
    weights: Option<&[f64]>,
    tz: &str,
    shifts: &[Shift],
    cfg: &AoristicConfig,
) -> Result<ShiftComparison, PatternError> {
    let mut owner = [None::<usize>; 24];
    for (k, s) in shifts.iter().enumerate() {
        if s.start_hour > 23 || s.end_hour > 23 || s.start_hour == s.end_hour {
            return Err(PatternError::BadShift {
                name: s.name.clone(),
            });
        }
        for hour in 0..24u8 {
            if s.contains(hour) {
                if owner[hour as usize].is_some() {
                    return Err(PatternError::OverlappingShifts { hour });
                }
                owner[hour as usize] = Some(k);
            }
        }
    }
    let m = hour_week(incidents, weights, tz, cfg)?;
    let by_hour = m.by_hour();
    let mut amounts = vec![0.0; shifts.len()];
    let mut outside = 0.0;
    for (hour, v) in by_hour.iter().enumerate() {
        match owner[hour] {
            Some(k) => amounts[k] += v,
            None => outside += v,
        }
    }
    let total: f64 = amounts.iter().sum();
    let total_hours: f64 = shifts.iter().map(|s| f64::from(s.hours())).sum();
    let mean_rate = if total_hours > 0.0 {
        total / total_hours
    } else {
        0.0
    };
    let stats: Vec<ShiftStat> = shifts
        .iter()
        .zip(&amounts)
        .map(|(s, &amount)| {
            let hours = f64::from(s.hours());
            let per_clock_hour = amount / hours;
            ShiftStat {
                name: s.name.clone(),
                hours: s.hours(),
                amount,
                share: if total > 0.0 { amount / total } else { 0.0 },
                per_clock_hour,
                rate_ratio: if mean_rate > 0.0 {
                    per_clock_hour / mean_rate
                } else {
                    0.0
                },
                expected: total * hours / total_hours,
            }
        })
        .collect();
    let df = shifts.len().saturating_sub(1);
    let (chi_square, p_value) = if df >= 1 && total > 0.0 {
        let x2: f64 = stats
            .iter()
            .map(|s| (s.amount - s.expected).powi(2) / s.expected)
            .sum();
        let p = ChiSquared::new(df as f64).ok().map(|d| d.sf(x2));
        (Some(x2), p)
    } else {
        (None, None)
    };
    Ok(ShiftComparison {
        shifts: stats,
        outside,
        chi_square,
        df,
        p_value,
        tally: m.tally,
    })
}
