//! `streetlight near-repeat`: does one event raise the risk nearby, soon after? The
//! Knox test over space and time bands, and each event's near-repeat role.

use std::fmt::Write as _;
use std::io::Write as _;
use std::process::ExitCode;

use anyhow::{Context as _, Result, bail};
use serde_json::{Map, Value, json};
use sl_engine::sl_analytics::knox::{
    Bands, DayClock, Distance, KnoxConfig, KnoxTable, knox, points_from_incidents,
};
use sl_engine::sl_analytics::near_repeat::{NearRepeatRole, NearRepeatWindow, classify};

use crate::analyse::{Filters, OutputArgs, load, warn_if_empty};
use crate::tables::{Table, instant, num};

#[derive(Debug, clap::Args)]
pub struct NearRepeatArgs {
    #[command(flatten)]
    pub filters: Filters,
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
    #[command(flatten)]
    pub output: OutputArgs,
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

fn table_text(t: &KnoxTable) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "Knox ratios (observed / mean of {} permutations); * p < 0.05, ** p < 0.01",
        t.permutations
    );
    let _ = write!(s, "{:>16}", "metres \\ days");
    for j in 0..t.time_bands {
        let c = t.cell(0, j);
        let _ = write!(s, " {:>14}", format!("[{}, {})", c.time.0, c.time.1));
    }
    let _ = writeln!(s);
    for i in 0..t.space_bands {
        let c0 = t.cell(i, 0);
        let _ = write!(s, "{:>16}", format!("[{}, {})", c0.space.0, c0.space.1));
        for j in 0..t.time_bands {
            let c = t.cell(i, j);
            let stars = if c.p < 0.01 {
                "**"
            } else if c.p < 0.05 {
                "*"
            } else {
                ""
            };
            let _ = write!(
                s,
                " {:>14}",
                format!("{:.2}{stars} ({})", c.knox_ratio, c.observed)
            );
        }
        let _ = writeln!(s);
    }
    s
}

pub fn run(a: NearRepeatArgs) -> Result<ExitCode> {
    let distance = match a.distance.as_str() {
        "manhattan" => Distance::Manhattan,
        "euclidean" => Distance::Euclidean,
        other => bail!("--distance `{other}` is not manhattan or euclidean"),
    };
    let space = parse_breaks(&a.space_bands, "--space-bands")?;
    let time = parse_breaks(&a.time_bands, "--time-bands")?;
    let classify_window = a.classify.as_deref().map(parse_classify).transpose()?;
    if a.output.geojson.is_some() && classify_window.is_none() {
        bail!("--geojson maps each event's near-repeat role: pass --classify SPACE,DAYS too");
    }
    let loaded = load(&a.filters)?;
    let set = &loaded.set;
    warn_if_empty(set);
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
    let bar = crate::analyse::spinner(format!(
        "Knox test: {} events, {} permutations",
        points.len(),
        a.permutations
    ));
    let t = knox(&points, &cfg);
    bar.finish_and_clear();
    let t = t?;
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
    if let Some(p) = &a.output.csv {
        rows.write_csv(p)?;
        eprintln!("wrote {}", p.display());
    }
    let mut classification = Value::Null;
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
        if let Some(path) = &a.output.geojson {
            let file = std::fs::File::create(path)
                .with_context(|| format!("cannot create {}", path.display()))?;
            let mut out = std::io::BufWriter::new(file);
            write!(out, "{{\"type\":\"FeatureCollection\",\"features\":[")?;
            for (k, (e, r)) in located.iter().zip(&roles).enumerate() {
                if k > 0 {
                    write!(out, ",")?;
                }
                let role = match r {
                    NearRepeatRole::Originator => "originator",
                    NearRepeatRole::NearRepeat => "near_repeat",
                    NearRepeatRole::Repeat => "repeat",
                    NearRepeatRole::Isolated => "isolated",
                };
                let f = json!({
                    "type": "Feature",
                    "geometry": {"type": "Point", "coordinates": [e.lon, e.lat]},
                    "properties": {
                        "role": role,
                        "category": set.categories[e.category as usize],
                        "from": instant(e.from),
                    },
                });
                serde_json::to_writer(&mut out, &f)?;
            }
            writeln!(out, "]}}")?;
            out.flush()?;
            eprintln!(
                "wrote {} events with their roles to {}",
                roles.len(),
                path.display()
            );
        }
    }
    if a.output.json {
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
        println!("{}", serde_json::to_string_pretty(&doc)?);
    } else {
        println!(
            "{}: {} located events, {} pairs",
            set.dataset.name, t.events, t.pairs
        );
        print!("{}", table_text(&t));
        if !classification.is_null() {
            println!(
                "roles within {} m and {} days: {} originators, {} near repeats, {} repeats, {} isolated",
                classification["space_m"],
                classification["days"],
                classification["originator"],
                classification["near_repeat"],
                classification["repeat"],
                classification["isolated"]
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
