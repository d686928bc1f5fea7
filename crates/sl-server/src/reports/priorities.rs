//! The places that cause the most harm, and why each is on the list.

use std::fmt::Write as _;

use anyhow::{Result, bail};
use serde_json::{Value, json};
use sl_engine::analysis::toolbox::{
    Priorities as PlaceRanking, prior_period, priority_category_names, rank_places,
};
use sl_engine::analysis::{EventSet, Units, select};
use sl_engine::sl_analytics::concentration::Concentration;
use sl_engine::sl_analytics::priorities::PlacePriority;

use super::{Report, Table, instant, num, unit_columns, units_json};

#[derive(Debug, Clone, clap::Args)]
pub struct PriorityParams {
    /// How many places to list.
    #[arg(long, default_value_t = 20)]
    pub top: usize,
    /// Repeat window in days: an event repeats an earlier one of the same category at
    /// the same point within this many days.
    #[arg(long, default_value_t = 28)]
    pub repeat_days: i64,
    /// Only these units' rows (their labels, as in the `unit` column, e.g.
    /// r43c44,r44c42), whatever their rank; ranks stay the ranks among all units. A
    /// unit without an event in the period has no row.
    #[arg(long, value_delimiter = ',', value_name = "UNIT,…")]
    pub units: Vec<String>,
}

pub fn hour_range(h: u8) -> String {
    format!("{h:02}:00–{:02}:00", (h + 1) % 24)
}

/// One sentence a commander can read.
pub fn explain(p: &PlacePriority, names: &[String]) -> String {
    let mut s = String::new();
    let mut cats: Vec<String> = p
        .by_category
        .iter()
        .take(3)
        .map(|c| format!("{} {}", c.events, names[c.category as usize]))
        .collect();
    let rest: usize = p.by_category.iter().skip(3).map(|c| c.events).sum();
    if rest > 0 {
        cats.push(format!("{rest} of other kinds"));
    }
    let _ = write!(
        s,
        "{} {} ({}) with harm {:.0}, {:.1}% of all harm",
        p.events,
        if p.events == 1 { "event" } else { "events" },
        cats.join(", "),
        p.harm,
        100.0 * p.harm_share
    );
    match p.rate_ratio {
        Some(r) => {
            let direction = if r > 1.0 {
                "up"
            } else if r < 1.0 {
                "down"
            } else {
                "unchanged"
            };
            let significance = if p.change_p < 0.05 {
                format!("p = {:.3}", p.change_p)
            } else {
                "within chance".to_string()
            };
            let _ = write!(
                s,
                "; {direction} on the prior period ({} {}, rate ×{r:.2}, {significance})",
                p.prior_events,
                if p.prior_events == 1 {
                    "event"
                } else {
                    "events"
                }
            );
        }
        None => {
            let _ = write!(s, "; new: no events in the prior period");
        }
    }
    if p.repeat_rate > 0.0 {
        let _ = write!(s, "; {:.0}% repeats", 100.0 * p.repeat_rate);
    }
    if let Some((h, n)) = p.peak_hours.first() {
        let unit = if *n == 1 { "event" } else { "events" };
        let _ = write!(s, "; peak {} ({n} {unit})", hour_range(*h));
    }
    s
}

fn conc_json(c: &Concentration) -> Value {
    json!({
        "places": c.places,
        "total": num(c.total),
        "gini": num(c.gini),
        "per_place": num(c.events_per_place),
        "share_at_top_1pct": num(c.share_at_top(0.01)),
        "share_at_top_5pct": num(c.share_at_top(0.05)),
        "share_at_top_10pct": num(c.share_at_top(0.10)),
        "places_for_25pct": num(c.places_for_share(0.25)),
        "places_for_50pct": num(c.places_for_share(0.50)),
        "lorenz": lorenz_points(c),
    })
}

/// The Lorenz curve at 1% steps of places (101 points), enough to draw it.
fn lorenz_points(c: &Concentration) -> Vec<[f64; 2]> {
    (0..=100)
        .map(|k| {
            let f = f64::from(k) / 100.0;
            [f, if k == 0 { 0.0 } else { c.share_at_top(f) }]
        })
        .collect()
}

/// A harm ranking with its units, table and the engine's result (for text).
#[derive(Debug)]
pub struct Priorities {
    pub report: Report,
    pub units: Units,
    pub table: Table,
    pub ranking: PlaceRanking,
    /// Category names by the ranking's category index.
    pub names: Vec<String>,
}

/// Ranks the units by the harm of the selected events against the prior period of
/// the same length. The selection must have both ends.
pub fn priorities(
    store: &sl_engine::SqliteStore,
    set: &EventSet,
    unit_args: &super::UnitArgs,
    a: &PriorityParams,
) -> Result<Priorities> {
    if !(1..=36_500).contains(&a.repeat_days) {
        bail!("--repeat-days must be between 1 and 36500 (a hundred years)");
    }
    if set.selection.from.is_none() || set.selection.to.is_none() {
        bail!(
            "priorities compare a period with the one before it: pass --from and --to (e.g. --from 2024-10-01 --to 2025-01-01)"
        );
    }
    let units = super::build_units(store, set, unit_args)?;
    let (prior_from, prior_to) = prior_period(set)?;
    let mut prior_sel = set.selection.clone();
    prior_sel.from = Some(prior_from);
    prior_sel.to = Some(prior_to);
    let prior = select(store, &prior_sel)?;
    let top = if a.units.is_empty() {
        a.top
    } else {
        units.len()
    };
    let mut r = rank_places(set, &prior, &units, top, a.repeat_days * 86_400)?;
    if !a.units.is_empty() {
        r.places
            .retain(|p| a.units.iter().any(|u| *u == units.labels[p.unit as usize]));
    }
    let names = priority_category_names(set, &prior);
    let mut table = Table::default();
    for p in &r.places {
        let i = p.unit as usize;
        let mut m = unit_columns(&units, i);
        m.insert("rank".into(), json!(p.rank));
        m.insert("harm".into(), num(p.harm));
        m.insert("harm_share".into(), num(p.harm_share));
        m.insert("events".into(), json!(p.events));
        m.insert("prior_events".into(), json!(p.prior_events));
        m.insert("prior_harm".into(), num(p.prior_harm));
        m.insert("rate_ratio".into(), p.rate_ratio.map_or(Value::Null, num));
        m.insert("change_p".into(), num(p.change_p));
        m.insert("repeat_rate".into(), num(p.repeat_rate));
        m.insert(
            "peak_hours".into(),
            json!(
                p.peak_hours
                    .iter()
                    .map(|(h, n)| format!("{}: {n}", hour_range(*h)))
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
        );
        m.insert(
            "by_category".into(),
            json!(
                p.by_category
                    .iter()
                    .map(|c| format!(
                        "{}: {} (harm {:.0})",
                        names[c.category as usize], c.events, c.harm
                    ))
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
        );
        m.insert("why".into(), json!(explain(p, &names)));
        table.push(Some(i), m);
    }
    let rep = &r.repeats;
    let by_cat: Vec<Value> = rep
        .by_category
        .iter()
        .map(|(c, n, k)| {
            json!({"category": set.categories[*c as usize], "events": n, "repeats": k,
                   "repeat_rate": num(if *n > 0 { *k as f64 / *n as f64 } else { 0.0 })})
        })
        .collect();
    let doc = json!({
        "dataset": set.dataset.name,
        "categories": set.selection.categories,
        "from": instant(r.current.0),
        "to": instant(r.current.1),
        "prior_from": instant(r.prior.0),
        "prior_to": instant(r.prior.1),
        "events": set.events.len(),
        "prior_events": prior.events.len(),
        "units": units_json(&units, &set.dataset.local_crs),
        "harm_table": set.dataset.harm_source,
        "concentration": {
            "harm": conc_json(&r.harm_concentration),
            "events": conc_json(&r.count_concentration),
        },
        "repeats": {
            "window_days": a.repeat_days,
            "events": rep.events,
            "repeat_events": rep.repeat_events,
            "repeat_rate": num(rep.repeat_rate()),
            "locations": rep.locations,
            "repeat_locations": rep.repeat_locations,
            "by_category": by_cat,
        },
        "places": table.json(),
    });
    Ok(Priorities {
        report: Report {
            doc,
            rows_key: Some("places"),
        },
        units,
        table,
        ranking: r,
        names,
    })
}
