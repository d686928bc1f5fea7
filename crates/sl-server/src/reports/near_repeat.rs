//! Does one event raise the risk nearby, soon after? The Knox test over space and time
//! bands, and each event's near-repeat role.

use anyhow::{Context as _, Result, bail};
use serde_json::{Map, Value, json};
use sl_engine::analysis::EventSet;
use sl_engine::sl_analytics::knox::{
    Bands, DayClock, Distance, KnoxConfig, KnoxTable, knox, points_from_incidents,
};
use sl_engine::sl_analytics::near_repeat::{NearRepeatRole, NearRepeatWindow, classify};

use super::{Report, Table, instant, num};

#[derive(Debug, Clone, clap::Args)]
pub struct NearRepeatParams {
    /// Space band breaks in metres: `0,1,200,400` gives the bands [0, 1) (same
    /// location), [1, 200) and [200, 400). End with `inf` for an open last band.
    #[arg(long, value_delimiter = ',', default_value = "0,1,200,400")]
    pub space_bands: Vec<String>,
    /// Time band breaks in days: `0,1,7,14` gives [0, 1), [1, 7) and [7, 14).
    #[arg(long, value_delimiter = ',', default_value = "0,1,7,14")]
    pub time_bands: Vec<String>,
    /// manhattan (|dx| + |dy|, the Near Repeat Calculator's default) or euclidean.
    #[arg(long, default_value = "manhattan")]
    pub distance: String,
    /// How time differences are counted: `calendar` (whole local days between dates,
    /// as NearRepeat; the default) or `fractional` (exact elapsed days).
    #[arg(long, default_value = "calendar")]
    pub days: String,
    /// Monte Carlo permutations of the event times.
    #[arg(long, default_value_t = 999)]
    pub permutations: usize,
    /// Seed of the permutations (same seed, same result, bit for bit).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Classify every event as originator, near repeat, repeat or isolated within
    /// SPACE metres and DAYS days (e.g. 200,14). The same-location band is the first
    /// space band [0, b1).
    #[arg(long, value_name = "SPACE,DAYS")]
    pub classify: Option<String>,
}

fn parse_breaks(items: &[String], what: &str) -> Result<Vec<f64>> {
    items
        .iter()
        .map(|s| {
            let s = s.trim();
            if s.eq_ignore_ascii_case("inf") {
                Ok(f64::INFINITY)
            } else {
                s.parse::<f64>()
                    .with_context(|| format!("{what}: `{s}` is not a number"))
            }
        })
        .collect()
}

/// `SPACE,DAYS` of `--classify`, both positive.
fn parse_classify(spec: &str) -> Result<(f64, f64)> {
    let (s, d) = spec
        .split_once(',')
        .context("--classify must be SPACE,DAYS, e.g. 200,14")?;
    let s: f64 = s
        .trim()
        .parse()
        .context("--classify: SPACE is not a number of metres")?;
    let d: f64 = d
        .trim()
        .parse()
        .context("--classify: DAYS is not a number of days")?;
    if !(s > 0.0 && s.is_finite() && d > 0.0 && d.is_finite()) {
        bail!("--classify {spec}: SPACE and DAYS must be positive, e.g. 200,14");
    }
    Ok((s, d))
}

fn band(a: f64, b: f64) -> Value {
    json!([
        a,
        if b.is_finite() {
            json!(b)
        } else {
            json!("inf")
        }
    ])
}

/// A Knox test with its band table, and each located event's role when asked for.
#[derive(Debug)]
pub struct NearRepeat {
    pub report: Report,
    pub knox: KnoxTable,
    pub bands: Table,
    /// Each located event's role as a point feature (only with `classify`).
    pub roles: Option<Vec<Value>>,
}

/// The role's name on the wire.
pub fn role_name(r: NearRepeatRole) -> &'static str {
    match r {
        NearRepeatRole::Originator => "originator",
        NearRepeatRole::NearRepeat => "near_repeat",
        NearRepeatRole::Repeat => "repeat",
        NearRepeatRole::Isolated => "isolated",
    }
}

/// Runs the Knox test (and the classification, with `classify`) on the selected events.
pub fn near_repeat(set: &EventSet, a: &NearRepeatParams) -> Result<NearRepeat> {
    let distance = match a.distance.as_str() {
        "manhattan" => Distance::Manhattan,
        "euclidean" => Distance::Euclidean,
        other => bail!("--distance `{other}` is not manhattan or euclidean"),
    };
    let space = parse_breaks(&a.space_bands, "--space-bands")?;
    let time = parse_breaks(&a.time_bands, "--time-bands")?;
    let classify_window = a.classify.as_deref().map(parse_classify).transpose()?;
    let located: Vec<_> = set.located().collect();
    let incidents: Vec<_> = located.iter().map(|e| e.incident()).collect();
    let clock = match a.days.as_str() {
        "calendar" => DayClock::Calendar(set.time_zone()?),
        "fractional" => DayClock::Fractional,
        other => bail!("--days `{other}` is not calendar or fractional"),
    };
    let points = points_from_incidents(&incidents, &clock)?;
    let cfg = KnoxConfig {
        space: Bands::left_closed(space.clone()),
        time: Bands::left_closed(time),
        distance,
        permutations: a.permutations,
        seed: a.seed,
    };
    let t = knox(&points, &cfg)?;
    let mut rows = Table::default();
    for c in &t.cells {
        let mut m = Map::new();
        m.insert("space_band".into(), band(c.space.0, c.space.1));
        m.insert("time_band".into(), band(c.time.0, c.time.1));
        m.insert("observed".into(), json!(c.observed));
        m.insert("expected".into(), num(c.expected));
        m.insert("mean_simulated".into(), num(c.mean_simulated));
        m.insert("median_simulated".into(), num(c.median_simulated));
        m.insert("knox_ratio".into(), num(c.knox_ratio));
        m.insert("knox_ratio_median".into(), num(c.knox_ratio_median));
        m.insert("p".into(), num(c.p));
        rows.push(None, m);
    }
    let mut classification = Value::Null;
    let mut role_features = None;
    if let Some((s, d)) = classify_window {
        let same = space
            .get(1)
            .copied()
            .filter(|b| b.is_finite())
            .unwrap_or(1.0);
        let window = NearRepeatWindow {
            same_location: same.min(s),
            space: s,
            time: d,
            distance,
        };
        let roles = classify(&points, &window)?;
        let count = |r: NearRepeatRole| roles.iter().filter(|&&x| x == r).count();
        classification = json!({
            "space_m": s,
            "days": d,
            "same_location_m": window.same_location,
            "originator": count(NearRepeatRole::Originator),
            "near_repeat": count(NearRepeatRole::NearRepeat),
            "repeat": count(NearRepeatRole::Repeat),
            "isolated": count(NearRepeatRole::Isolated),
        });
        role_features = Some(
            located
                .iter()
                .zip(&roles)
                .map(|(e, r)| {
                    json!({
                        "type": "Feature",
                        "geometry": {"type": "Point", "coordinates": [e.lon, e.lat]},
                        "properties": {
                            "role": role_name(*r),
                            "category": set.categories[e.category as usize],
                            "from": instant(e.from),
                        },
                    })
                })
                .collect(),
        );
    }
    let doc = json!({
        "dataset": set.dataset.name,
        "categories": set.selection.categories,
        "from": set.selection.from.map(instant),
        "to": set.selection.to.map(instant),
        "events": t.events,
        "events_without_point": set.events.len() - located.len(),
        "pairs": t.pairs,
        "distance": a.distance,
        "days": a.days,
        "intervals": "[a, b): a pair at distance exactly b belongs to the next band",
        "permutations": t.permutations,
        "seed": a.seed,
        "p": "(1 + #{simulated >= observed}) / (permutations + 1)",
        "bands": rows.json(),
        "classification": classification,
    });
    Ok(NearRepeat {
        report: Report {
            doc,
            rows_key: Some("bands"),
        },
        knox: t,
        bands: rows,
        roles: role_features,
    })
}
