//! Where crime concentrates: kernel density, Getis–Ord Gi\*, emerging hot spots over a
//! space-time cube, and plain counts per unit (the map's aggregate layer).

use anyhow::{Context as _, Result, bail};
use serde_json::{Value, json};
use sl_engine::analysis::EventSet;
use sl_engine::analysis::toolbox::{Step, StepAssignment, Weighting, counts, emerging, kde};
use sl_engine::analysis::units::Units;
use sl_engine::sl_analytics::aoristic::AoristicConfig;
use sl_engine::sl_analytics::emerging::{BinClass, Correction, EmergingConfig, Locations};
use sl_engine::sl_analytics::fdr::benjamini_hochberg;
use sl_engine::sl_analytics::gistar::{GiStarConfig, Transform, gi_star};
use sl_engine::sl_analytics::kde::{Bandwidth, KdeConfig, Kernel, default_bandwidth};
use sl_engine::sl_analytics::weights::{BandWeight, Weights};

use super::{Report, Table, instant, num, unit_columns, units_json};

#[derive(Debug, Clone, clap::Args)]
pub struct HotspotParams {
    /// kde (kernel density surface), gistar (Getis–Ord Gi* hot and cold spots) or
    /// emerging (emerging hot spot patterns over time).
    #[arg(long)]
    pub method: String,
    /// Gi* and emerging: neighbours — queen or rook contiguity, or distance:METRES
    /// (every unit whose centre is within that distance).
    #[arg(long, default_value = "queen")]
    pub weights: String,
    /// Gi*: weights transform, binary (the classic Gi*, default) or row (row-standardised, esda's default).
    #[arg(long, default_value = "binary")]
    pub transform: String,
    /// Gi*: conditional permutations for the pseudo p-value (0 = analytic p only).
    #[arg(long, default_value_t = 999)]
    pub permutations: usize,
    /// Gi*: seed of the permutations (same seed, same p-values, bit for bit).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Gi*: significance level applied to the FDR-adjusted p-values to label hot/cold spots.
    #[arg(long, default_value_t = 0.05)]
    pub alpha: f64,
    /// kde: quartic (default) or gaussian.
    #[arg(long, default_value = "quartic")]
    pub kernel: String,
    /// kde: bandwidth in metres, or `auto` for the ArcGIS Pro rule (see docs/METHODS.md).
    #[arg(long, default_value = "auto")]
    pub bandwidth: String,
    /// kde: adaptive bandwidths (Abramson's square-root law) around the chosen bandwidth.
    #[arg(long)]
    pub adaptive: bool,
    /// kde: weight events by `count` (default) or by `harm`.
    #[arg(long, default_value = "count")]
    pub weight: String,
    /// emerging: time step, month (default) or week.
    #[arg(long, default_value = "month")]
    pub step: String,
    /// emerging: number of earlier steps in each bin's neighbourhood (ArcGIS default 1).
    #[arg(long, default_value_t = 1)]
    pub time_neighbourhood: usize,
    /// emerging: confidence for a bin to be a hot or cold spot, after FDR (0.90, 0.95 or 0.99).
    #[arg(long, default_value_t = 0.90)]
    pub confidence: f64,
    /// emerging: spread each event over the steps its occurrence window covers
    /// (aoristic, 1/k to each of k steps; windows over 7 days left out) instead of
    /// counting it in the step where its window starts.
    #[arg(long)]
    pub aoristic: bool,
}

fn neighbours(units: &Units, spec: &str) -> Result<(Weights, String)> {
    if let Some(d) = spec.strip_prefix("distance:") {
        let d: f64 = d
            .parse()
            .with_context(|| format!("--weights `{spec}`: `{d}` is not a distance in metres"))?;
        let w = match units.grid() {
            Some(g) => Weights::distance_band_cells(g, d, BandWeight::Binary)?,
            None => {
                let centres = units.centres_local()?;
                if centres.iter().any(|c| !c.0.is_finite()) {
                    bail!(
                        "gistar and emerging need units with centres or contiguity: use grid cells (--cell-size) or H3 hexagons (--hex), not --area-units"
                    );
                }
                Weights::distance_band(&centres, d, BandWeight::Binary)?
            }
        };
        return Ok((w, format!("distance band {d} m")));
    }
    let queen = match spec {
        "queen" => true,
        "rook" => false,
        other => bail!("--weights `{other}` is not queen, rook or distance:METRES"),
    };
    let w = units.contiguity(queen).context(
        "gistar and emerging need units with centres or contiguity: use grid cells (--cell-size) or H3 hexagons (--hex), not --area-units",
    )?;
    Ok((w, spec.to_string()))
}

/// Counts are whole numbers: written as integers.
fn count_json(v: f64) -> Value {
    if v.fract() == 0.0 && (0.0..9e15).contains(&v) {
        json!(v as u64)
    } else {
        num(v)
    }
}

struct Outcome {
    table: Table,
    meta: Value,
    summary: String,
}

fn run_gistar(a: &HotspotParams, units: &Units, y: &[f64]) -> Result<Outcome> {
    let (w, wname) = neighbours(units, &a.weights)?;
    let transform = match a.transform.as_str() {
        "binary" | "b" | "B" => Transform::Binary,
        "row" | "r" | "R" => Transform::RowStandardised,
        other => bail!("--transform `{other}` is not binary or row"),
    };
    if !(a.alpha > 0.0 && a.alpha < 1.0) {
        bail!("--alpha must be between 0 and 1");
    }
    let cfg = GiStarConfig {
        transform,
        permutations: a.permutations,
        seed: a.seed,
    };
    let r = gi_star(y, &w, &cfg)?;
    // `p` is esda's folded pseudo p when permutations ran (else its one-sided normal
    // p). Spots are labelled from `p_spot`: the tie-aware permutation p, which does not
    // call a zero cell among zeros significant, or without permutations the two-sided
    // normal p (see docs/METHODS.md).
    let p: Vec<f64> = r.p_sim.clone().unwrap_or_else(|| r.p_norm.clone());
    let p_fdr = benjamini_hochberg(&p);
    let p_spot: Vec<f64> = match &r.p_sim_ties {
        Some(t) => t.clone(),
        None => r.p_norm.iter().map(|q| (2.0 * q).min(1.0)).collect(),
    };
    let p_spot_fdr = benjamini_hochberg(&p_spot);
    let mut table = Table::default();
    let (mut hot, mut cold) = (0, 0);
    for i in 0..y.len() {
        let significant = p_spot_fdr[i] < a.alpha;
        let label = if significant && r.z[i] > 0.0 {
            hot += 1;
            "hot"
        } else if significant && r.z[i] < 0.0 {
            cold += 1;
            "cold"
        } else {
            ""
        };
        let mut m = unit_columns(units, i);
        m.insert("count".into(), count_json(y[i]));
        m.insert("g".into(), num(r.g[i]));
        m.insert("z".into(), num(r.z[i]));
        m.insert("p".into(), num(p[i]));
        m.insert("p_fdr".into(), num(p_fdr[i]));
        m.insert("p_spot".into(), num(p_spot[i]));
        m.insert("p_spot_fdr".into(), num(p_spot_fdr[i]));
        m.insert("p_norm".into(), num(r.p_norm[i]));
        m.insert("spot".into(), json!(label));
        table.push(Some(i), m);
    }
    let floor = 1.0 / (a.permutations as f64 + 1.0);
    let at_floor = p_spot.iter().filter(|&&q| q <= floor).count();
    let hint = if hot + cold == 0 && a.permutations > 0 && at_floor > 0 {
        format!(
            "\n  note: {at_floor} units reach the smallest p {floor:.4} that {} permutations allow, too few for FDR over {} units; more permutations (e.g. --permutations 9999) resolve smaller p",
            a.permutations,
            y.len()
        )
    } else {
        String::new()
    };
    Ok(Outcome {
        table,
        meta: json!({
            "weights": wname,
            "transform": match transform { Transform::Binary => "binary", Transform::RowStandardised => "row" },
            "permutations": a.permutations,
            "seed": a.seed,
            "alpha": a.alpha,
            "p": if a.permutations > 0 { "folded conditional-permutation pseudo p (esda p_sim)" } else { "one-sided normal p of |z| (esda p_norm)" },
            "p_spot": if a.permutations > 0 { "tie-aware conditional-permutation pseudo p" } else { "two-sided normal p, 2 x p_norm" },
            "spots": "hot or cold (by the sign of z) where the Benjamini-Hochberg adjusted p_spot (p_spot_fdr) is below alpha",
            "hot_spots": hot,
            "cold_spots": cold,
        }),
        summary: format!(
            "Gi* ({wname}, {} weights, {} permutations, seed {}): {hot} hot and {cold} cold spots at FDR {}{hint}",
            a.transform, a.permutations, a.seed, a.alpha
        ),
    })
}

fn run_kde(
    a: &HotspotParams,
    units: &Units,
    set: &sl_engine::analysis::EventSet,
) -> Result<Outcome> {
    let kernel = match a.kernel.as_str() {
        "quartic" => Kernel::Quartic,
        "gaussian" => Kernel::GAUSSIAN,
        other => bail!("--kernel `{other}` is not quartic or gaussian"),
    };
    let weighting = match a.weight.as_str() {
        "count" => Weighting::Count,
        "harm" => Weighting::Harm,
        other => bail!("--weight `{other}` is not count or harm"),
    };
    let h = if a.bandwidth == "auto" {
        let pts: Vec<(f64, f64)> = set.located().map(|e| (e.x, e.y)).collect();
        default_bandwidth(&pts)
            .context("the automatic bandwidth needs at least two distinct located events: pass --bandwidth METRES")?
    } else {
        a.bandwidth
            .parse::<f64>()
            .ok()
            .filter(|h| h.is_finite() && *h > 0.0)
            .with_context(|| {
                format!(
                    "--bandwidth `{}` is not a positive number of metres or auto",
                    a.bandwidth
                )
            })?
    };
    let bandwidth = if a.adaptive {
        Bandwidth::Adaptive {
            pilot: h,
            global: h,
        }
    } else {
        Bandwidth::Fixed(h)
    };
    let surface = kde(set, units, &KdeConfig { kernel, bandwidth }, weighting)?;
    let mut table = Table::default();
    for i in 0..units.len() {
        let mut m = unit_columns(units, i);
        m.insert("count".into(), count_json(surface.counts[i]));
        m.insert("density".into(), num(surface.density[i]));
        table.push(Some(i), m);
    }
    let max = surface.density.iter().copied().fold(0.0, f64::max);
    Ok(Outcome {
        table,
        meta: json!({
            "kernel": a.kernel,
            "bandwidth_m": h,
            "bandwidth_rule": if a.bandwidth == "auto" { "arcgis-pro" } else { "given" },
            "adaptive": a.adaptive,
            "weight": a.weight,
            "density_unit": if weighting == Weighting::Harm { "harm per km²" } else { "events per km²" },
            "events_used": surface.used,
        }),
        summary: format!(
            "{} kernel, bandwidth {h:.0} m{}: {} events, peak density {max:.1} per km²",
            a.kernel,
            if a.adaptive { " (adaptive)" } else { "" },
            surface.used
        ),
    })
}

fn run_emerging(
    a: &HotspotParams,
    units: &Units,
    set: &sl_engine::analysis::EventSet,
) -> Result<Outcome> {
    let (w, wname) = neighbours(units, &a.weights)?;
    let step = match a.step.as_str() {
        "month" => Step::Month,
        "week" => Step::Week,
        other => bail!("--step `{other}` is not month or week"),
    };
    let cfg = EmergingConfig {
        time_neighbourhood: a.time_neighbourhood,
        confidence: a.confidence,
        correction: Correction::Fdr,
        locations: Locations::WithData,
        ..EmergingConfig::default()
    };
    let assignment = if a.aoristic {
        StepAssignment::Aoristic(AoristicConfig::default())
    } else {
        StepAssignment::Start
    };
    let e = emerging(set, units, &w, step, assignment, &cfg)?;
    let r = &e.result;
    let mut table = Table::default();
    let mut tally: std::collections::BTreeMap<&str, usize> = Default::default();
    for (i, u) in r.units.iter().enumerate() {
        *tally.entry(u.pattern.slug()).or_default() += 1;
        let last = r.bins[(r.n_steps - 1) * r.n_units + i];
        let mut m = unit_columns(units, i);
        m.insert("count".into(), count_json(e.counts[i]));
        m.insert("pattern".into(), json!(u.pattern.slug()));
        m.insert("label".into(), json!(u.pattern.label()));
        m.insert("hot_steps".into(), json!(u.hot_steps));
        m.insert("cold_steps".into(), json!(u.cold_steps));
        m.insert("trend_z".into(), num(u.z_trend.z));
        m.insert("trend_p".into(), num(u.z_trend.p));
        m.insert("count_trend_z".into(), num(u.count_trend.z));
        m.insert("count_trend_p".into(), num(u.count_trend.p));
        m.insert(
            "last_step".into(),
            json!(match last {
                BinClass::Hot => "hot",
                BinClass::Cold => "cold",
                BinClass::NotSignificant => "",
            }),
        );
        table.push(Some(i), m);
    }
    let steps: Vec<Value> = e.edges.iter().map(|&t| instant(t)).collect();
    Ok(Outcome {
        table,
        meta: json!({
            "weights": wname,
            "step": a.step,
            "steps": r.n_steps,
            "step_edges": steps,
            "time_neighbourhood": a.time_neighbourhood,
            "confidence": a.confidence,
            "correction": "fdr",
            "p_threshold": num(r.p_threshold),
            "units_analysed": r.n_analysed,
            "assignment": if a.aoristic { "aoristic" } else { "start" },
            "events_in_cube": e.counted,
            "events_left_out": e.left_out,
            "patterns": tally,
        }),
        summary: format!(
            "emerging hot spots over {} {}s ({wname}, time neighbourhood {}): {}",
            r.n_steps,
            a.step,
            a.time_neighbourhood,
            tally
                .iter()
                .filter(|(k, _)| **k != "no_pattern")
                .map(|(k, v)| format!("{v} {k}"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    })
}

/// A hot spot analysis with its units, table and a one-line summary for people.
#[derive(Debug)]
pub struct Hotspots {
    pub report: Report,
    pub units: Units,
    pub table: Table,
    pub summary: String,
    /// Selected events without a point or outside every unit.
    pub outside: usize,
}

/// The fields every per-unit result starts with.
fn base_doc(set: &EventSet, units: &Units, outside: usize) -> serde_json::Map<String, Value> {
    let mut m = serde_json::Map::new();
    m.insert("dataset".into(), json!(set.dataset.name));
    m.insert("categories".into(), json!(set.selection.categories));
    m.insert(
        "from".into(),
        set.selection.from.map_or(Value::Null, instant),
    );
    m.insert("to".into(), set.selection.to.map_or(Value::Null, instant));
    m.insert("events".into(), json!(set.events.len()));
    m.insert("events_outside_units".into(), json!(outside));
    m.insert("units".into(), units_json(units, &set.dataset.local_crs));
    m
}

/// Runs `a.method` (kde, gistar or emerging) over the selected events in the units.
pub fn hotspots<S: sl_engine::Store>(
    store: &S,
    set: &EventSet,
    unit_args: &super::UnitArgs,
    a: &HotspotParams,
) -> Result<Hotspots> {
    if !matches!(a.method.as_str(), "gistar" | "gi*" | "kde" | "emerging") {
        bail!("--method `{}` is not kde, gistar or emerging", a.method);
    }
    let units = super::build_units(store, set, unit_args)?;
    let (y, outside) = counts(set, &units);
    let out = match a.method.as_str() {
        "gistar" | "gi*" => run_gistar(a, &units, &y)?,
        "kde" => run_kde(a, &units, set)?,
        _ => run_emerging(a, &units, set)?,
    };
    let mut doc = serde_json::Map::new();
    doc.insert("method".into(), json!(a.method));
    doc.extend(base_doc(set, &units, outside));
    doc.insert("parameters".into(), out.meta);
    doc.insert("cells".into(), out.table.json());
    Ok(Hotspots {
        report: Report {
            doc: Value::Object(doc),
            rows_key: Some("cells"),
        },
        units,
        table: out.table,
        summary: out.summary,
        outside,
    })
}

/// Event counts per unit, nothing else: the map's aggregate layer. With `nonzero`, units
/// without an event are left out of the table (the document says how many units there
/// are in `units`).
pub fn aggregate<S: sl_engine::Store>(
    store: &S,
    set: &EventSet,
    unit_args: &super::UnitArgs,
    nonzero: bool,
) -> Result<Hotspots> {
    let units = super::build_units(store, set, unit_args)?;
    let (y, outside) = counts(set, &units);
    let mut table = Table::default();
    for (i, &v) in y.iter().enumerate() {
        if nonzero && v == 0.0 {
            continue;
        }
        let mut m = unit_columns(&units, i);
        m.insert("count".into(), count_json(v));
        table.push(Some(i), m);
    }
    let mut doc = base_doc(set, &units, outside);
    doc.insert("nonzero".into(), json!(nonzero));
    doc.insert("cells".into(), table.json());
    let summary = format!(
        "{} units with events",
        y.iter().filter(|&&v| v > 0.0).count()
    );
    Ok(Hotspots {
        report: Report {
            doc: Value::Object(doc),
            rows_key: Some("cells"),
        },
        units,
        table,
        summary,
        outside,
    })
}
