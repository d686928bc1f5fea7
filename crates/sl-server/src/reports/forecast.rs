//! The forecast for the next period: one model fitted on the department's history,
//! its units ranked by score and the top ones flagged. Also the helpers backtests share.

use anyhow::{Context as _, Result, bail};
use serde_json::{Value, json};
use sl_engine::analysis::forecasting::{
    DAY, MODEL_NAMES, ModelContext, aggregate_to_units, build_model, forecast_at, shift_share,
};
use sl_engine::analysis::selection::local_midnight;
use sl_engine::analysis::{EventSet, Selection, Units, select};
use sl_engine::sl_analytics::forecast::metrics;
use sl_engine::sl_analytics::risk_terrain::RiskFactor;

use super::{Report, Table, num, unit_columns, units_json};

/// Loads risk terrain layers for `models` on the grid the models fit on, returning the
/// factors and their JSON description. The command line reads `--risk-layer` files;
/// the API takes none ([`no_risk_layers`]).
pub type RiskLoader<'a> = dyn Fn(&[&str], &Units) -> Result<(Vec<RiskFactor>, Value)> + 'a;

/// A [`RiskLoader`] without layers: fine for every model but `rtm`, which needs some.
pub fn no_risk_layers(models: &[&str], _: &Units) -> Result<(Vec<RiskFactor>, Value)> {
    if models.contains(&"rtm") {
        bail!(
            "model `rtm` regresses counts on risk layers, which this request cannot give: run it with the command line's --risk-layer"
        );
    }
    Ok((Vec::new(), json!([])))
}

#[derive(Debug, Clone, clap::Args)]
pub struct ForecastParams {
    /// The model to fit.
    #[arg(long, default_value = "historical")]
    pub model: String,
    /// First day forecast (a local date); default: the day after the last event.
    #[arg(long)]
    pub at: Option<String>,
    /// Days of history the fit sees.
    #[arg(long, default_value_t = 365)]
    pub train_days: u32,
    /// Days the forecast covers.
    #[arg(long, default_value_t = 7)]
    pub horizon_days: u32,
    /// Flag the top cells covering this share of the area, in percent.
    #[arg(long, default_value_t = 1.0)]
    pub coverage: f64,
    /// Flag as many top cells as fit in this area instead of --coverage (units: --area-unit).
    #[arg(long, value_name = "AREA", conflicts_with = "top_cells")]
    pub area_budget: Option<f64>,
    /// Unit of --area-budget: sqmi (default) or km2.
    #[arg(long, default_value = "sqmi")]
    pub area_unit: String,
    /// Flag exactly this many top cells instead of --coverage.
    #[arg(long, value_name = "N")]
    pub top_cells: Option<usize>,
    /// With --hex or --area-units boundary: the cell size in metres of the grid the
    /// model runs on before its cells are summed into the units.
    #[arg(long, value_name = "METRES", default_value_t = 100.0)]
    pub base_cell_size: f64,
    /// Cell size in feet instead of --cell-size metres.
    #[arg(long, value_name = "FEET", conflicts_with = "cell_size")]
    pub cell_size_ft: Option<f64>,
    /// Forecast one shift of each day, as NAME=HH-HH in local clock hours (e.g.
    /// night=23-07): the period's expected events are split by the training events'
    /// hour × weekday profile.
    #[arg(long, value_name = "NAME=HH-HH")]
    pub shift: Option<String>,
    /// Seed for tie-breaking and any randomness in fitting.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

/// Square metres in a square mile (international foot).
pub const SQ_MILE_M2: f64 = 2_589_988.110_336;
/// Metres in an international foot.
pub const FOOT_M: f64 = 0.3048;

/// Square metres in one unit of `--area-unit`.
pub fn area_unit_m2(unit: &str) -> Result<f64> {
    match unit {
        "sqmi" => Ok(SQ_MILE_M2),
        "km2" => Ok(1e6),
        other => bail!("--area-unit `{other}` is not sqmi or km2"),
    }
}

/// A `--cell-size-ft` value in metres.
pub fn feet_to_metres(ft: f64) -> Result<f64> {
    if !(ft.is_finite() && ft > 0.0) {
        bail!("--cell-size-ft must be a positive number of feet");
    }
    Ok(ft * FOOT_M)
}

/// The units the arguments ask for and, when they are not grid cells (H3 cells or the
/// boundary's areas), the base grid of `base_cell_size` metres the models run on (same
/// mask, rotation and offset), whose cells are then summed into the units.
pub fn units_and_base<S: sl_engine::Store>(
    store: &S,
    set: &EventSet,
    unit_args: &super::UnitArgs,
    base_cell_size: f64,
) -> Result<(Units, Option<Units>)> {
    let target = super::build_units(store, set, unit_args)?;
    if target.grid().is_some() {
        return Ok((target, None));
    }
    if !(base_cell_size.is_finite() && base_cell_size > 0.0) {
        bail!("--base-cell-size must be a positive number of metres");
    }
    let mut base_args = unit_args.clone();
    base_args.hex = None;
    base_args.area_units = None;
    base_args.cell_size = Some(base_cell_size);
    let base = super::build_units(store, set, &base_args)?;
    Ok((target, Some(base)))
}

/// What the units are, for text output: `1234 cells`, `3456 H3 cells (resolution 9)`,
/// `21 areas of police_districts.geojson`.
pub fn units_phrase(units: &Units) -> String {
    use sl_engine::analysis::UnitKind;
    match &units.kind {
        UnitKind::Grid(g) => format!("{} cells", g.len()),
        UnitKind::Hex(c) => format!(
            "{} H3 cells (resolution {})",
            c.len(),
            units.hex_resolution().unwrap_or_default()
        ),
        UnitKind::Area(level) => format!("{} {} areas", units.len(), level.slug()),
        UnitKind::Boundary(_) => format!(
            "{} areas of {}",
            units.len(),
            units.boundary_file.as_deref().unwrap_or("the boundary")
        ),
    }
}

pub fn params_json(p: &[(String, f64)]) -> Value {
    Value::Object(p.iter().map(|(k, v)| (k.clone(), num(*v))).collect())
}

pub fn iso_day(t: f64) -> String {
    jiff::Timestamp::from_second((t * DAY).round() as i64)
        .map(|t| t.to_string())
        .unwrap_or_default()
}

/// A forecast with its units, table (every unit, best first) and what saving it needs.
#[derive(Debug)]
pub struct Forecast {
    pub report: Report,
    pub units: Units,
    /// Every unit, ranked (best first), with `score`, `rank`, `flagged`.
    pub table: Table,
    pub flagged: usize,
    /// What `--save` stores: the settings and parameters, and every unit's score.
    pub record: sl_engine::ForecastRecord,
    /// Things a person should know (written to stderr by the command line).
    pub warnings: Vec<String>,
    /// A one-paragraph summary for people.
    pub summary: String,
}

/// Fits `a.model` on the history before the origin (`a.at`, or the day after the last
/// selected event) and ranks the units by the forecast.
pub fn forecast(
    store: &sl_engine::SqliteStore,
    base: Selection,
    unit_args: &super::UnitArgs,
    a: &ForecastParams,
    risk: &RiskLoader<'_>,
) -> Result<Forecast> {
    if !MODEL_NAMES.contains(&a.model.as_str()) {
        bail!(
            "--model `{}` is not one of {}",
            a.model,
            MODEL_NAMES.join(", ")
        );
    }
    if !(a.coverage > 0.0 && a.coverage <= 100.0) {
        bail!("--coverage is a percentage of the area in (0, 100]");
    }
    let info = sl_engine::analysis::selection::dataset_info(store, &base.dataset)?;
    let origin = match &a.at {
        Some(d) => {
            let date: jiff::civil::Date = d
                .parse()
                .with_context(|| format!("--at `{d}` is not a date (YYYY-MM-DD)"))?;
            local_midnight(&info.time_zone, date)? as f64 / DAY
        }
        None => {
            // Only here is the whole history read: to find the last event.
            let all = select(
                store,
                &Selection {
                    from: None,
                    to: None,
                    ..base.clone()
                },
            )?;
            let last = all
                .events
                .iter()
                .map(|e| e.from)
                .max()
                .context("no events match the filters: nothing to forecast from")?;
            let tz = all.time_zone()?;
            let day = jiff::Timestamp::from_second(last)?
                .to_zoned(tz)
                .date()
                .tomorrow()?;
            local_midnight(&info.time_zone, day)? as f64 / DAY
        }
    };
    let (train, horizon) = (f64::from(a.train_days), f64::from(a.horizon_days));
    let no_layers = ModelContext {
        train,
        horizon,
        risk_factors: &[],
    };
    // Risk layers do not change how much history a model reads.
    let history = build_model(&a.model, no_layers)?
        .history()
        .map_or(train, |h| h.max(train));
    let set: EventSet = select(
        store,
        &Selection {
            from: Some(((origin - history) * DAY).floor() as i64),
            to: Some((origin * DAY).ceil() as i64),
            ..base
        },
    )?;
    let mut unit_args = unit_args.clone();
    if let Some(ft) = a.cell_size_ft {
        unit_args.cell_size = Some(feet_to_metres(ft)?);
    }
    // Models score grid cells. For hexagons or the boundary's areas, forecast on a fine
    // base grid and sum the cells into the units by their centres.
    let (target, base) = units_and_base(store, &set, &unit_args, a.base_cell_size)?;
    let coarse = base.is_some();
    let base_units = base.as_ref().unwrap_or(&target);
    let grid = base_units
        .grid()
        .context("the base grid could not be built")?;
    let (risk_factors, risk_json) = risk(&[a.model.as_str()], base_units)?;
    let model = build_model(
        &a.model,
        ModelContext {
            risk_factors: &risk_factors,
            ..no_layers
        },
    )?;
    let mut f = forecast_at(
        &set,
        base_units,
        model.as_ref(),
        origin,
        train,
        horizon,
        a.seed,
    )?;
    let shift = match &a.shift {
        Some(text) => {
            let s = super::patterns::parse_shift(text)?;
            let share = shift_share(&set, &s, origin, horizon)?;
            for v in &mut f.forecast.scores {
                *v *= share;
            }
            Some((s, share))
        }
        None => None,
    };
    let units = &target;
    let areas = units.unit_area_m2();
    // Units of unequal areas are ranked by score per unit area, as backtests rank them.
    let (scores, density, order) = if coarse {
        let summed = aggregate_to_units(base_units, &f.forecast.scores, units)?;
        let density: Vec<f64> = summed.iter().zip(&areas).map(|(s, a)| s / a).collect();
        let order = metrics::rank(&density, a.seed);
        (summed, Some(density), order)
    } else {
        (f.forecast.scores.clone(), None, f.order.clone())
    };
    let flagged = match (a.top_cells, a.area_budget) {
        (Some(n), _) => n.clamp(1, units.len()),
        (None, Some(b)) => {
            let budget = b * area_unit_m2(&a.area_unit)?;
            if areas.iter().any(|x| !x.is_finite()) {
                bail!(
                    "--area-budget needs unit areas: use grid cells, --hex or --area-units boundary, or --top-cells"
                );
            }
            let smallest = areas.iter().copied().fold(f64::INFINITY, f64::min);
            if budget < smallest {
                bail!(
                    "--area-budget {b} {} is smaller than one unit ({:.4} {})",
                    a.area_unit,
                    smallest / area_unit_m2(&a.area_unit)?,
                    a.area_unit
                );
            }
            // As many of the top units as fit in the budget (at least the first).
            metrics::units_within(&order, &areas, budget)
        }
        (None, None) if coarse => {
            let total: f64 = areas.iter().sum();
            metrics::units_within(&order, &areas, a.coverage / 100.0 * total)
        }
        (None, None) => metrics::cells_for(a.coverage / 100.0, units.len()),
    };
    let flagged_area: f64 = order.iter().take(flagged).map(|&i| areas[i as usize]).sum();
    let mut warnings = Vec::new();
    if let Some(b) = a.area_budget
        && a.top_cells.is_none()
        && flagged_area > b * area_unit_m2(&a.area_unit)? * (1.0 + 1e-12)
    {
        warnings.push(format!(
            "the top-ranked unit alone ({:.4} {}) is larger than --area-budget {b}; it is flagged on its own",
            flagged_area / area_unit_m2(&a.area_unit)?,
            a.area_unit
        ));
    }
    let mut rank_of = vec![0usize; units.len()];
    for (r, &i) in order.iter().enumerate() {
        rank_of[i as usize] = r + 1;
    }
    let mut table = Table::default();
    for &i in &order {
        let i = i as usize;
        let mut m = unit_columns(units, i);
        m.insert("score".into(), num(scores[i]));
        if let Some(d) = &density {
            m.insert("area_km2".into(), num(areas[i] / 1e6));
            m.insert("score_per_km2".into(), num(d[i] * 1e6));
        }
        m.insert("rank".into(), json!(rank_of[i]));
        m.insert("flagged".into(), json!(rank_of[i] <= flagged));
        table.push(Some(i), m);
    }
    let settings = json!({
        "dataset": set.dataset.name,
        "categories": set.selection.categories,
        "area": set.selection.area.as_ref().map(|a| format!("{}={}", a.level.slug(), a.code)),
        "units": units_json(units, &set.dataset.local_crs),
        "base_cell_size_m": grid.grid().cell,
        "grid_origin": [grid.grid().x0, grid.grid().y0],
        "mask": unit_args.mask,
        "model": f.model,
        "origin": iso_day(f.origin),
        "horizon_days": horizon,
        "train_days": train,
        "train_events": f.train_events,
        "seed": a.seed,
        "shift": a.shift,
        "risk_layers": risk_json,
        "expected_counts": f.forecast.expected_counts,
    });
    let unit_scores: Vec<Value> = (0..units.len())
        .map(|i| {
            let mut row = unit_columns(units, i);
            row.insert("score".into(), num(scores[i]));
            Value::Object(row)
        })
        .collect();
    let record = sl_engine::ForecastRecord {
        model: f.model.clone(),
        settings: settings.to_string(),
        parameters: params_json(&f.forecast.parameters).to_string(),
        scores: Value::Array(unit_scores).to_string(),
    };
    let top: Vec<Value> = table
        .rows
        .iter()
        .take(flagged)
        .cloned()
        .map(Value::Object)
        .collect();
    let doc = json!({
        "dataset": set.dataset.name,
        "categories": set.selection.categories,
        "model": f.model,
        "parameters": params_json(&f.forecast.parameters),
        "expected_counts": f.forecast.expected_counts,
        "origin": iso_day(f.origin),
        "horizon_days": horizon,
        "train_days": train,
        "train_events": f.train_events,
        "seed": a.seed,
        "units": units_json(units, &set.dataset.local_crs),
        "base_cell_size_m": coarse.then_some(grid.grid().cell),
        "coverage_pct": a.coverage,
        "flagged_cells": flagged,
        "flagged_area_km2": num(flagged_area / 1e6),
        "seconds": f.seconds,
        "shift": shift.as_ref().map(|(s, share)| json!({
            "name": s.name, "start_hour": s.start_hour, "end_hour": s.end_hour,
            "share": share,
            "note": "scores are expected events during the shift's hours of each day of the horizon",
        })),
        "saved_id": Value::Null,
        "risk_layers": risk_json,
        "top": top,
    });
    let mut summary = String::new();
    if let Some((s, share)) = &shift {
        summary.push_str(&format!(
            "shift {} ({:02}-{:02}): {:.1}% of the period's events expected in it (hour × weekday profile of the training events)\n",
            s.name,
            s.start_hour,
            s.end_hour,
            100.0 * share
        ));
    }
    summary.push_str(&format!(
        "{}: {} forecast for {} days from {} ({} training events): top {} of {} units{}",
        set.dataset.name,
        f.model,
        a.horizon_days,
        iso_day(f.origin),
        f.train_events,
        flagged,
        units.len(),
        if flagged_area.is_finite() {
            format!(" ({:.2} km²)", flagged_area / 1e6)
        } else {
            String::new()
        }
    ));
    Ok(Forecast {
        report: Report {
            doc,
            rows_key: Some("top"),
        },
        units: target,
        table,
        flagged,
        record,
        warnings,
        summary,
    })
}
