//! `streetlight backtest` and `streetlight forecast`: how good each model is on the
//! department's own history, and the forecast for the next period.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context as _, Result, bail};
use serde_json::{Map, Value, json};
use sl_engine::Store as _;
use sl_engine::analysis::forecasting::{
    DAY, MODEL_NAMES, ModelContext, aggregate_to_units, build_model, forecast_at, history_needed,
    run_backtests, run_unit_backtests, shift_share,
};
use sl_engine::analysis::selection::local_midnight;
use sl_engine::analysis::{EventSet, Selection, Units, select};
use sl_engine::sl_analytics::forecast::backtest::BacktestConfig;
use sl_engine::sl_analytics::forecast::metrics;

use crate::analyse::{Filters, UnitArgs, selection, spinner, units, warn_if_empty};
use crate::commands::open_existing;
use crate::report::backtest_html;
use crate::tables::{Table, num, unit_columns, units_json};

#[derive(Debug, clap::Args)]
pub struct BacktestArgs {
    #[command(flatten)]
    pub filters: Filters,
    #[command(flatten)]
    pub units: UnitArgs,
    /// Models to compare (comma-separated).
    #[arg(long, value_delimiter = ',', default_value = "naive,historical")]
    pub models: Vec<String>,
    /// Days of history each fit sees before its origin.
    #[arg(long, default_value_t = 365)]
    pub train_days: u32,
    /// Days each forecast covers.
    #[arg(long, default_value_t = 7)]
    pub horizon_days: u32,
    /// Days between origins (default: the horizon, so test periods tile).
    #[arg(long)]
    pub step_days: Option<u32>,
    /// Number of origins.
    #[arg(long, default_value_t = 52)]
    pub origins: usize,
    /// First origin: a local date (the first forecast covers that day onwards).
    #[arg(long)]
    pub start: String,
    /// Coverage levels in percent of the area (the masked grid's, or the units' total
    /// area with --hex or --area-units boundary).
    #[arg(long, value_delimiter = ',', default_value = "0.5,1,2,5")]
    pub coverage: Vec<f64>,
    /// Seed for tie-breaking and any randomness in fitting.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Cell size in feet instead of metres (NIJ's challenge is stated in feet).
    #[arg(long, value_name = "FEET", conflicts_with_all = ["cell_size", "hex", "area_units"])]
    pub cell_size_ft: Option<f64>,
    /// With --hex or --area-units boundary: the cell size in metres of the grid the
    /// models run on before their cells are summed into the units.
    #[arg(long, value_name = "METRES", default_value_t = 100.0)]
    pub base_cell_size: f64,
    /// Flag cells (or units) up to these areas instead of --coverage percentages
    /// (units: --area-unit).
    #[arg(long, value_delimiter = ',', value_name = "AREA,…")]
    pub area_budget: Vec<f64>,
    /// Unit of --area-budget: sqmi (default) or km2.
    #[arg(long, default_value = "sqmi")]
    pub area_unit: String,
    /// NIJ Crime Forecasting Challenge rules: cells in feet (600 ft unless
    /// --cell-size-ft), flagged areas of 0.25–0.75 sq mi (default 0.25,0.5,0.75), and
    /// PAI's area A from the jurisdiction boundary instead of the masked grid.
    #[arg(long)]
    pub nij: bool,
    #[command(flatten)]
    pub risk: crate::risk_layers::RiskLayerArgs,
    /// Print the full result as JSON on stdout (fields in docs/CLI.md).
    #[arg(long)]
    pub json: bool,
    /// Also write an HTML report (leaderboard and PAI-vs-coverage curves, no external assets).
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
}

/// Square metres in a square mile (international foot).
const SQ_MILE_M2: f64 = 2_589_988.110_336;
/// Metres in an international foot.
const FOOT_M: f64 = 0.3048;

/// Square metres in one unit of `--area-unit`.
fn area_unit_m2(unit: &str) -> Result<f64> {
    match unit {
        "sqmi" => Ok(SQ_MILE_M2),
        "km2" => Ok(1e6),
        other => bail!("--area-unit `{other}` is not sqmi or km2"),
    }
}

/// A `--cell-size-ft` value in metres.
fn feet_to_metres(ft: f64) -> Result<f64> {
    if !(ft.is_finite() && ft > 0.0) {
        bail!("--cell-size-ft must be a positive number of feet");
    }
    Ok(ft * FOOT_M)
}

/// The units the arguments ask for and, when they are not grid cells (H3 cells or the
/// boundary's areas), the base grid of `base_cell_size` metres the models run on (same
/// mask, rotation and offset), whose cells are then summed into the units.
fn units_and_base<S: sl_engine::Store>(
    store: &S,
    set: &EventSet,
    unit_args: &UnitArgs,
    base_cell_size: f64,
) -> Result<(Units, Option<Units>)> {
    let target = units(store, set, unit_args)?;
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
    let base = units(store, set, &base_args)?;
    Ok((target, Some(base)))
}

/// What the units are, for text output: `1234 cells`, `3456 H3 cells (resolution 9)`,
/// `21 areas of police_districts.geojson`.
fn units_phrase(units: &Units) -> String {
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

fn params_json(p: &[(String, f64)]) -> Value {
    Value::Object(p.iter().map(|(k, v)| (k.clone(), num(*v))).collect())
}

fn iso_day(t: f64) -> String {
    jiff::Timestamp::from_second((t * DAY).round() as i64)
        .map(|t| t.to_string())
        .unwrap_or_default()
}

pub fn run_backtest(a: BacktestArgs) -> Result<ExitCode> {
    for m in &a.models {
        if !MODEL_NAMES.contains(&m.as_str()) {
            bail!("--models: `{m}` is not one of {}", MODEL_NAMES.join(", "));
        }
    }
    if a.coverage.iter().any(|c| !(*c > 0.0 && *c <= 100.0)) {
        bail!("--coverage values are percentages of the area, each in (0, 100]");
    }
    let unit_m2 = area_unit_m2(&a.area_unit)?;
    let mut budgets = a.area_budget.clone();
    if a.nij && (a.units.hex.is_some() || a.units.area_units.is_some()) {
        bail!(
            "--nij scores square grid cells, as the challenge did: leave out --hex and --area-units (or leave out --nij and use --area-budget)"
        );
    }
    if a.nij {
        if budgets.is_empty() {
            budgets = vec![0.25, 0.5, 0.75];
        }
        for b in &budgets {
            let sqmi = b * unit_m2 / SQ_MILE_M2;
            if !(0.25 - 1e-9..=0.75 + 1e-9).contains(&sqmi) {
                bail!(
                    "--nij: flagged areas must be 0.25–0.75 sq mi, got {b} {}",
                    a.area_unit
                );
            }
        }
    }
    if budgets.iter().any(|b| !(*b > 0.0 && b.is_finite())) {
        bail!("--area-budget values must be positive areas");
    }
    let mut unit_args = a.units.clone();
    if let Some(ft) = a.cell_size_ft.or(a.nij.then_some(600.0))
        && a.units.cell_size.is_none()
    {
        unit_args.cell_size = Some(feet_to_metres(ft)?);
    }
    if a.origins == 0 || a.horizon_days == 0 || a.train_days == 0 {
        bail!("--origins, --horizon-days and --train-days must be positive");
    }
    let store = open_existing(&a.filters.db)?;
    let base = selection(&store, &a.filters)?;
    let info = sl_engine::analysis::selection::dataset_info(&store, &base.dataset)?;
    let start_date: jiff::civil::Date = a
        .start
        .parse()
        .with_context(|| format!("--start `{}` is not a date (YYYY-MM-DD)", a.start))?;
    let start = local_midnight(&info.time_zone, start_date)? as f64 / DAY;
    let step = f64::from(a.step_days.unwrap_or(a.horizon_days));
    let (train, horizon) = (f64::from(a.train_days), f64::from(a.horizon_days));
    let last_end = start + (a.origins - 1) as f64 * step + horizon;
    let build = |risk_factors| {
        a.models
            .iter()
            .map(|m| {
                build_model(
                    m,
                    ModelContext {
                        train,
                        horizon,
                        risk_factors,
                    },
                )
            })
            .collect::<Result<Vec<_>, _>>()
    };
    // Risk layers do not change how much history a model reads.
    let history = history_needed(&build(&[])?, train);
    // Read only what the backtest touches: the earliest history any model asks for
    // (the training window, or longer for the GLM) to the last test period.
    let sel = Selection {
        from: Some(((start - history) * DAY).floor() as i64),
        to: Some((last_end * DAY).ceil() as i64),
        ..base
    };
    let bar = spinner(format!("reading events of {}", sel.dataset));
    let set = select(&store, &sel)?;
    bar.finish_and_clear();
    warn_if_empty(&set);
    // Models score grid cells. For hexagons or the boundary's areas they run on a fine
    // base grid whose cells are summed into the units, which are then scored by area.
    let (units, base) = units_and_base(&store, &set, &unit_args, a.base_cell_size)?;
    let grid = base
        .as_ref()
        .unwrap_or(&units)
        .grid()
        .context("the base grid could not be built")?;
    // Risk layers are evaluated on the grid the models fit on (the base grid on units).
    let model_names: Vec<&str> = a.models.iter().map(String::as_str).collect();
    let (risk_factors, risk_json) = crate::risk_layers::load(
        &a.risk.risk_layer,
        &model_names,
        base.as_ref().unwrap_or(&units),
    )?;
    let models = build(&risk_factors)?;
    let unit_areas = base.is_some().then(|| units.unit_area_m2());
    if let Some(areas) = &unit_areas
        && areas.iter().any(|x| !x.is_finite())
    {
        bail!(
            "area codes (--area-units {}) have no outlines or areas to score a backtest by: use --area-units boundary, --hex or grid cells",
            unit_args.area_units.as_deref().unwrap_or_default()
        );
    }
    // The scored units' total area: the masked grid's, or the units' added up.
    let units_area = unit_areas
        .as_ref()
        .map_or_else(|| grid.area(), |areas| areas.iter().sum());
    let study_area = if a.nij {
        units.boundary_area_m2.context(
            "--nij takes PAI's area from the jurisdiction boundary, and this dataset has none stored: ingest it with a boundary",
        )?
    } else {
        units_area
    };
    // Area budgets become coverages. On a grid: as many whole cells as fit in each
    // budget. On units of unequal areas: the budget's share of the study area, filled
    // with the top units at each origin.
    let coverages: Vec<f64> = if budgets.is_empty() {
        a.coverage.iter().map(|c| c / 100.0).collect()
    } else if let Some(areas) = &unit_areas {
        let smallest = areas.iter().copied().fold(f64::INFINITY, f64::min);
        budgets
            .iter()
            .map(|b| {
                if b * unit_m2 < smallest {
                    bail!(
                        "--area-budget {b} {} is smaller than the smallest unit ({:.4} {}): use a larger budget or smaller units",
                        a.area_unit,
                        smallest / unit_m2,
                        a.area_unit
                    );
                }
                Ok(b * unit_m2 / study_area)
            })
            .collect::<Result<_>>()?
    } else {
        budgets
            .iter()
            .map(|b| {
                let k = (b * unit_m2 / grid.grid().cell_area()).floor();
                if k < 1.0 {
                    bail!(
                        "--area-budget {b} {} is smaller than one cell ({:.4} {})",
                        a.area_unit,
                        grid.grid().cell_area() / unit_m2,
                        a.area_unit
                    );
                }
                Ok(k / grid.len() as f64)
            })
            .collect::<Result<_>>()?
    };
    let cfg = BacktestConfig {
        start,
        origins: a.origins,
        step,
        train,
        horizon,
        coverages: coverages.clone(),
        seed: a.seed,
        cell_area: grid.grid().cell_area(),
        study_area,
    };
    let bar = spinner(format!(
        "backtesting {} model(s) over {} origins",
        models.len(),
        a.origins
    ));
    let results = match &base {
        None => run_backtests(&set, &units, &models, &cfg)?,
        Some(base) => run_unit_backtests(&set, base, &units, &models, &cfg)?,
    };
    let on_units = base.is_some();
    bar.finish_and_clear();

    let models_json: Vec<Value> = results
        .iter()
        .map(|r| {
            let m = &r.result;
            let coverage: Vec<Value> = m
                .summary
                .iter()
                .map(|s| {
                    if on_units {
                        // Units of unequal areas: how many are flagged, and their area,
                        // vary by origin; the means are reported.
                        json!({
                            "coverage_pct": s.coverage * 100.0,
                            "units": num(s.mean_cells),
                            "area_km2": num(s.area / 1e6),
                            "area_sqmi": num(s.area / SQ_MILE_M2),
                            "pai": num(s.pai),
                            "pai_se": num(s.pai_se),
                            "hit_rate": num(s.hit_rate),
                            "pei_star": num(s.pei_star),
                        })
                    } else {
                        json!({
                            "coverage_pct": s.coverage * 100.0,
                            "cells": s.cells,
                            "area_km2": s.cells as f64 * grid.grid().cell_area() / 1e6,
                            "area_sqmi": s.cells as f64 * grid.grid().cell_area() / SQ_MILE_M2,
                            "pai": num(s.pai),
                            "pai_se": num(s.pai_se),
                            "hit_rate": num(s.hit_rate),
                            "pei_star": num(s.pei_star),
                        })
                    }
                })
                .collect();
            let origins: Vec<Value> = m
                .origins
                .iter()
                .map(|o| {
                    let mut row = Map::new();
                    row.insert("origin".into(), json!(iso_day(o.origin)));
                    row.insert("train_events".into(), json!(o.train_events));
                    row.insert("test_events".into(), json!(o.test_events));
                    row.insert(
                        "pai".into(),
                        json!(o.coverage.iter().map(|c| num(c.pai)).collect::<Vec<_>>()),
                    );
                    row.insert(
                        "hit_rate".into(),
                        json!(o.coverage.iter().map(|c| num(c.hit_rate)).collect::<Vec<_>>()),
                    );
                    row.insert(
                        "pei_star".into(),
                        json!(o.coverage.iter().map(|c| num(c.pei_star)).collect::<Vec<_>>()),
                    );
                    if on_units {
                        row.insert(
                            "units".into(),
                            json!(o.coverage.iter().map(|c| c.cells).collect::<Vec<_>>()),
                        );
                        row.insert(
                            "area_km2".into(),
                            json!(
                                o.coverage
                                    .iter()
                                    .map(|c| num(c.area / 1e6))
                                    .collect::<Vec<_>>()
                            ),
                        );
                    }
                    row.insert(
                        "log_likelihood".into(),
                        o.log_likelihood.map_or(Value::Null, num),
                    );
                    row.insert("parameters".into(), params_json(&o.parameters));
                    row.insert("error".into(), json!(o.error));
                    Value::Object(row)
                })
                .collect();
            let ok = m.origins.iter().filter(|o| o.error.is_none()).count();
            json!({
                "name": m.name,
                "coverage": coverage,
                "mean_log_likelihood": m.mean_log_likelihood.map(num),
                "parameters": m.origins.iter().find(|o| o.error.is_none()).map(|o| params_json(&o.parameters)),
                "origins_ok": ok,
                "seconds": r.seconds,
                "ms_per_fit": 1000.0 * r.seconds / a.origins as f64,
                "origins": origins,
            })
        })
        .collect();
    let doc = json!({
        "dataset": set.dataset.name,
        "categories": set.selection.categories,
        "units": units_json(&units, &set.dataset.local_crs),
        "start": iso_day(start),
        "origins": a.origins,
        "step_days": step,
        "train_days": train,
        "horizon_days": horizon,
        "coverage_pct": coverages.iter().map(|c| c * 100.0).collect::<Vec<_>>(),
        "area_budget": if budgets.is_empty() { Value::Null } else { json!({"unit": a.area_unit, "values": budgets}) },
        "nij": a.nij,
        "cell_size_m": (!on_units).then_some(grid.grid().cell),
        "base_cell_size_m": on_units.then_some(grid.grid().cell),
        "seed": a.seed,
        "units_area_km2": units_area / 1e6,
        "study_area_km2": study_area / 1e6,
        "study_area_from": if a.nij { "jurisdiction boundary" } else if on_units { "units" } else { "masked grid" },
        "events": set.events.len(),
        "ranking": if on_units {
            "each model runs on the base grid; its cells' scores are summed into the unit holding each cell's centre, units are ranked by score per unit area, and at each coverage the top units are flagged while their areas add up to at most coverage × study area (at least one unit)"
        } else {
            "cells ranked by score; at each coverage the top round(coverage × cells) cells are flagged (at least one)"
        },
        "ties": if on_units {
            "units with equal scores per unit area are ordered by a seeded random permutation"
        } else {
            "cells with equal scores are ordered by a seeded random permutation"
        },
        "risk_layers": risk_json,
        "models": models_json,
    });
    if let Some(path) = &a.html {
        std::fs::write(path, backtest_html(&doc))
            .with_context(|| format!("cannot write {}", path.display()))?;
        eprintln!("wrote report to {}", path.display());
    }
    if a.json {
        println!("{}", serde_json::to_string_pretty(&doc)?);
    } else {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "{}: {} origins from {}, {} days of training, {}-day horizon, {}{}",
            set.dataset.name,
            a.origins,
            a.start,
            a.train_days,
            a.horizon_days,
            units_phrase(&units),
            if on_units {
                format!(
                    " ({:.1} km², models on {} m base cells)",
                    units_area / 1e6,
                    grid.grid().cell
                )
            } else {
                String::new()
            }
        );
        let _ = write!(s, "{:<14}", "model");
        if budgets.is_empty() {
            for c in &coverages {
                let _ = write!(s, " {:>14}", format!("PAI@{:.2}%", c * 100.0));
            }
        } else {
            let unit = if a.area_unit == "sqmi" {
                "mi²"
            } else {
                "km²"
            };
            for b in &budgets {
                let _ = write!(s, " {:>14}", format!("PAI@{b}{unit}"));
            }
        }
        let _ = writeln!(s, " {:>10}", "ms/fit");
        for r in &results {
            let _ = write!(s, "{:<14}", r.result.name);
            for c in &r.result.summary {
                let cell = if c.pai_se.is_finite() {
                    format!("{:.2} ±{:.2}", c.pai, c.pai_se)
                } else {
                    format!("{:.2}", c.pai)
                };
                let _ = write!(s, " {:>14}", cell);
            }
            let _ = writeln!(s, " {:>10.1}", 1000.0 * r.seconds / a.origins as f64);
        }
        print!("{s}");
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(Debug, clap::Args)]
pub struct ForecastArgs {
    #[command(flatten)]
    pub filters: Filters,
    #[command(flatten)]
    pub units: UnitArgs,
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
    /// Save the forecast in the database (settings, fitted parameters and every cell's
    /// score) so it can be reproduced and audited later; prints its id.
    #[arg(long)]
    pub save: bool,
    /// List the forecasts saved for the dataset (as JSON) instead of making one.
    #[arg(long)]
    pub list_saved: bool,
    /// Forecast one shift of each day, as NAME=HH-HH in local clock hours (e.g.
    /// night=23-07): the period's expected events are split by the training events'
    /// hour × weekday profile.
    #[arg(long, value_name = "NAME=HH-HH")]
    pub shift: Option<String>,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    #[command(flatten)]
    pub risk: crate::risk_layers::RiskLayerArgs,
    /// Print the forecast as JSON on stdout.
    #[arg(long)]
    pub json: bool,
    /// Write the cells with score and rank as GeoJSON.
    #[arg(long, value_name = "FILE")]
    pub geojson: Option<PathBuf>,
    /// Write the cells with score and rank as CSV.
    #[arg(long, value_name = "FILE")]
    pub csv: Option<PathBuf>,
}

pub fn run_forecast(a: ForecastArgs) -> Result<ExitCode> {
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
    let mut store = open_existing(&a.filters.db)?;
    let base = selection(&store, &a.filters)?;
    let info = sl_engine::analysis::selection::dataset_info(&store, &base.dataset)?;
    if a.list_saved {
        let saved: Vec<Value> = store
            .forecasts(info.id)?
            .into_iter()
            .map(|(id, created, r)| {
                let parse = |t: &str| serde_json::from_str::<Value>(t).unwrap_or(Value::Null);
                json!({
                    "id": id,
                    "created_at": created,
                    "model": r.model,
                    "settings": parse(&r.settings),
                    "parameters": parse(&r.parameters),
                })
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&saved)?);
        return Ok(ExitCode::SUCCESS);
    }
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
                &store,
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
    let set = select(
        &store,
        &Selection {
            from: Some(((origin - history) * DAY).floor() as i64),
            to: Some((origin * DAY).ceil() as i64),
            ..base
        },
    )?;
    warn_if_empty(&set);
    let mut unit_args = a.units.clone();
    if let Some(ft) = a.cell_size_ft {
        unit_args.cell_size = Some(feet_to_metres(ft)?);
    }
    // Models score grid cells. For hexagons or the boundary's areas, forecast on a fine
    // base grid and sum the cells into the units by their centres.
    let (target, base) = units_and_base(&store, &set, &unit_args, a.base_cell_size)?;
    let coarse = base.is_some();
    let base_units = base.as_ref().unwrap_or(&target);
    let grid = base_units
        .grid()
        .context("the base grid could not be built")?;
    let (risk_factors, risk_json) =
        crate::risk_layers::load(&a.risk.risk_layer, &[a.model.as_str()], base_units)?;
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
            let s = crate::cmd_patterns::parse_shift(text)?;
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
    if let Some(b) = a.area_budget
        && a.top_cells.is_none()
        && flagged_area > b * area_unit_m2(&a.area_unit)? * (1.0 + 1e-12)
    {
        eprintln!(
            "warning: the top-ranked unit alone ({:.4} {}) is larger than --area-budget {b}; it is flagged on its own",
            flagged_area / area_unit_m2(&a.area_unit)?,
            a.area_unit
        );
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
    table.write_files(Some(units), a.csv.as_deref(), a.geojson.as_deref())?;
    let saved_id = if a.save {
        let settings = json!({
            "dataset": set.dataset.name,
            "categories": set.selection.categories,
            "area": a.filters.area,
            "units": units_json(units, &set.dataset.local_crs),
            "base_cell_size_m": grid.grid().cell,
            "grid_origin": [grid.grid().x0, grid.grid().y0],
            "mask": a.units.mask,
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
        let scores: Vec<Value> = (0..units.len())
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
            scores: Value::Array(scores).to_string(),
        };
        let id = store.save_forecast(info.id, &record)?;
        eprintln!("saved as forecast {id} (list with --list-saved)");
        Some(id)
    } else {
        None
    };
    let top: Vec<Value> = table
        .rows
        .iter()
        .take(flagged)
        .cloned()
        .map(Value::Object)
        .collect();
    if a.json {
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
            "saved_id": saved_id,
            "risk_layers": risk_json,
            "top": top,
        });
        println!("{}", serde_json::to_string_pretty(&doc)?);
    } else {
        if let Some((s, share)) = &shift {
            println!(
                "shift {} ({:02}-{:02}): {:.1}% of the period's events expected in it (hour × weekday profile of the training events)",
                s.name,
                s.start_hour,
                s.end_hour,
                100.0 * share
            );
        }
        println!(
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
        );
        for row in table.rows.iter().take(flagged.min(10)) {
            println!(
                "  {:>4}. {:<12} score {}",
                row["rank"],
                row["unit"].as_str().unwrap_or_default(),
                row["score"]
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
