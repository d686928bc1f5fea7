//! When crime happens: hour × weekday, months, weekly trend and shifts.

use anyhow::{Context as _, Result, bail};
use serde_json::{Map, Value, json};
use sl_engine::analysis::toolbox::{GroupBy, GroupPatterns, patterns};
use sl_engine::analysis::{AreaLevel, EventSet};
use sl_engine::sl_analytics::aoristic::{AoristicConfig, Share};
use sl_engine::sl_analytics::time_patterns::Shift;

use super::{Report, Table, instant, num};

#[derive(Debug, Clone, clap::Args)]
pub struct PatternParams {
    /// Shifts to compare, as NAME=HH-HH (local clock hours, end excluded; may cross
    /// midnight). Default: day=07-15,evening=15-23,night=23-07.
    #[arg(long, value_delimiter = ',', value_name = "NAME=HH-HH")]
    pub shifts: Vec<String>,
    /// One set of patterns per category, or per area code (district, beat,
    /// neighbourhood), instead of one for all selected events.
    #[arg(long, value_name = "category|district|beat|neighbourhood")]
    pub group_by: Option<String>,
    /// How an event known only within a window spreads over hours: `equal` (1/k to
    /// each of the k clock hours touched, Ratcliffe's aoristic method; the default) or
    /// `overlap` (in proportion to the time inside each hour).
    #[arg(long, default_value = "equal")]
    pub share: String,
    /// Events whose window is longer than this many hours are "time unknown": counted,
    /// but left out of every time pattern.
    #[arg(long, default_value_t = 168)]
    pub max_window_hours: i64,
}

/// A shift as NAME=HH-HH (local clock hours, end excluded; may cross midnight).
pub fn parse_shift(text: &str) -> Result<Shift> {
    let (name, span) = match text.split_once('=') {
        Some((n, s)) => (n.trim().to_string(), s.trim()),
        None => (text.trim().to_string(), text.trim()),
    };
    let (a, b) = span
        .split_once('-')
        .with_context(|| format!("shift `{text}` must look like night=23-07"))?;
    let hour = |s: &str| -> Result<u8> {
        let h: u8 = s
            .trim()
            .parse()
            .with_context(|| format!("shift `{text}`: `{s}` is not an hour 0-23"))?;
        if h > 23 {
            bail!("shift `{text}`: hour {h} is not 0-23 (use 00 for midnight)");
        }
        Ok(h)
    };
    Ok(Shift::new(&name, hour(a)?, hour(b)?))
}

pub const WEEKDAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

fn group_json(g: &GroupPatterns) -> Value {
    let hw = &g.hour_week;
    let months: Vec<Value> = g
        .monthly
        .series
        .bins
        .iter()
        .map(|b| {
            json!({
                "month": format!("{:04}-{:02}", b.label.year(), b.label.month()),
                "value": num(b.value),
                "complete": b.complete,
            })
        })
        .collect();
    let season: Vec<Value> = g
        .monthly
        .months
        .iter()
        .map(|m| json!({"month": m.month, "years": m.years, "total": num(m.total), "mean": m.mean.map(num)}))
        .collect();
    let weeks: Vec<Value> = g
        .weekly
        .weeks
        .iter()
        .map(|w| {
            json!({
                "week": format!("{:04}-W{:02}", w.iso_year, w.iso_week),
                "start": instant(w.start),
                "value": num(w.value),
                "complete": w.complete,
            })
        })
        .collect();
    let trend = g.weekly.trend.map(|t| {
        json!({
            "method": "ols",
            "weeks": t.n,
            "slope_per_week": num(t.slope),
            "intercept": num(t.intercept),
            "slope_se": num(t.slope_se),
            "t": num(t.t),
            "p": num(t.p_value),
        })
    });
    let s = &g.shifts;
    let shifts: Vec<Value> = s
        .shifts
        .iter()
        .map(|x| {
            json!({
                "name": x.name,
                "hours": x.hours,
                "amount": num(x.amount),
                "share": num(x.share),
                "per_clock_hour": num(x.per_clock_hour),
                "rate_ratio": num(x.rate_ratio),
                "expected": num(x.expected),
            })
        })
        .collect();
    json!({
        "group": g.group,
        "events": g.events,
        "time_known": hw.tally.used,
        "time_unknown": hw.tally.too_long,
        "time_invalid": hw.tally.invalid,
        "hour_week": {
            "weekdays": WEEKDAYS,
            "values": hw.values.iter().map(|r| r.iter().map(|v| num(*v)).collect::<Vec<_>>()).collect::<Vec<_>>(),
            "by_hour": hw.by_hour().iter().map(|v| num(*v)).collect::<Vec<_>>(),
            "by_weekday": hw.by_weekday().iter().map(|v| num(*v)).collect::<Vec<_>>(),
        },
        "monthly": {"series": months, "month_of_year": season},
        "weekly": {"weeks": weeks, "trend": trend},
        "shifts": {
            "shifts": shifts,
            "outside": num(s.outside),
            "chi_square": s.chi_square.map(num),
            "df": s.df,
            "p": s.p_value.map(num),
        },
    })
}

/// Every figure as (group, table, key, value) rows, for CSV.
pub fn csv_rows(groups: &[GroupPatterns]) -> Table {
    let mut t = Table::default();
    let mut push = |group: &str, table: &str, key: String, value: f64| {
        let mut m = Map::new();
        m.insert("group".into(), json!(group));
        m.insert("table".into(), json!(table));
        m.insert("key".into(), json!(key));
        m.insert("value".into(), num(value));
        t.push(None, m);
    };
    for g in groups {
        for (d, row) in g.hour_week.values.iter().enumerate() {
            for (h, v) in row.iter().enumerate() {
                push(&g.group, "hour_week", format!("{} {h:02}", WEEKDAYS[d]), *v);
            }
        }
        for b in &g.monthly.series.bins {
            push(
                &g.group,
                "month",
                format!("{:04}-{:02}", b.label.year(), b.label.month()),
                b.value,
            );
        }
        for w in &g.weekly.weeks {
            push(
                &g.group,
                "week",
                format!("{:04}-W{:02}", w.iso_year, w.iso_week),
                w.value,
            );
        }
        for s in &g.shifts.shifts {
            push(&g.group, "shift", s.name.clone(), s.amount);
        }
    }
    t
}

/// A p-value for people: `= 0.017`, or `< 0.001`.
/// The time patterns of the selected events, with the engine's groups (for text).
pub fn time_patterns(set: &EventSet, a: &PatternParams) -> Result<(Report, Vec<GroupPatterns>)> {
    let shifts = if a.shifts.is_empty() {
        Shift::three_eights()
    } else {
        a.shifts
            .iter()
            .map(|s| parse_shift(s))
            .collect::<Result<_>>()?
    };
    let group_by = match a.group_by.as_deref() {
        None => GroupBy::All,
        Some("category") => GroupBy::Category,
        Some(level) => GroupBy::Area(AreaLevel::parse(level).with_context(|| {
            format!("--group-by `{level}` is not category, district, beat or neighbourhood")
        })?),
    };
    let share = match a.share.as_str() {
        "equal" => Share::EqualPerUnit,
        "overlap" => Share::ProportionalToOverlap,
        other => bail!("--share `{other}` is not equal or overlap"),
    };
    if a.max_window_hours <= 0 {
        bail!("--max-window-hours must be positive");
    }
    let cfg = AoristicConfig {
        share,
        max_span: a.max_window_hours * 3600,
    };
    let groups = patterns(set, group_by, &shifts, &cfg)?;
    let doc = json!({
        "dataset": set.dataset.name,
        "time_zone": set.dataset.time_zone,
        "categories": set.selection.categories,
        "from": set.selection.from.map(instant),
        "to": set.selection.to.map(instant),
        "events": set.events.len(),
        "aoristic": {
            "share": match share { Share::EqualPerUnit => "equal", Share::ProportionalToOverlap => "overlap" },
            "max_window_hours": a.max_window_hours,
        },
        "groups": groups.iter().map(group_json).collect::<Vec<_>>(),
    });
    Ok((
        Report {
            doc,
            rows_key: None,
        },
        groups,
    ))
}
