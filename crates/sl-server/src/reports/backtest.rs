//! How good each model is on the department's own history: rolling-origin backtests
//! scored by PAI, hit rate and PEI\* at each coverage.

use std::fmt::Write as _;

use anyhow::{Context as _, Result, bail};
use serde_json::{Map, Value, json};
use sl_engine::analysis::forecasting::{
    DAY, MODEL_NAMES, ModelContext, build_model, history_needed, run_backtests, run_unit_backtests,
};
use sl_engine::analysis::selection::local_midnight;
use sl_engine::analysis::{Selection, select};
use sl_engine::sl_analytics::forecast::backtest::BacktestConfig;

use super::forecast::{
    RiskLoader, SQ_MILE_M2, area_unit_m2, feet_to_metres, iso_day, params_json, units_and_base,
    units_phrase,
};
use super::{Report, num, units_json};

#[derive(Debug, Clone, clap::Args)]
pub struct BacktestParams {
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
}

/// A backtest's document (what `--json` prints) and its leaderboard as text.
#[derive(Debug)]
pub struct Backtest {
    pub report: Report,
    pub summary: String,
}

/// Backtests `a.models` over rolling origins on the selection `base` (its period is
/// ignored: the origins set what is read).
pub fn backtest(
    store: &sl_engine::SqliteStore,
    base: Selection,
    unit_args: &super::UnitArgs,
    a: &BacktestParams,
    risk: &RiskLoader<'_>,
) -> Result<Backtest> {
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
    if a.nij && (unit_args.hex.is_some() || unit_args.area_units.is_some()) {
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
    let mut unit_args = unit_args.clone();
    if let Some(ft) = a.cell_size_ft.or(a.nij.then_some(600.0))
        && unit_args.cell_size.is_none()
    {
        unit_args.cell_size = Some(feet_to_metres(ft)?);
    }
    if a.origins == 0 || a.horizon_days == 0 || a.train_days == 0 {
        bail!("--origins, --horizon-days and --train-days must be positive");
    }
    let info = sl_engine::analysis::selection::dataset_info(store, &base.dataset)?;
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
    let set = select(store, &sel)?;
    // Models score grid cells. For hexagons or the boundary's areas they run on a fine
    // base grid whose cells are summed into the units, which are then scored by area.
    let (units, base) = units_and_base(store, &set, &unit_args, a.base_cell_size)?;
    let grid = base
        .as_ref()
        .unwrap_or(&units)
        .grid()
        .context("the base grid could not be built")?;
    // Risk layers are evaluated on the grid the models fit on (the base grid on units).
    let model_names: Vec<&str> = a.models.iter().map(String::as_str).collect();
    let (risk_factors, risk_json) = risk(&model_names, base.as_ref().unwrap_or(&units))?;
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
    let results = match &base {
        None => run_backtests(&set, &units, &models, &cfg)?,
        Some(base) => run_unit_backtests(&set, base, &units, &models, &cfg)?,
    };
    let on_units = base.is_some();

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
    Ok(Backtest {
        report: Report {
            doc,
            rows_key: None,
        },
        summary: s,
    })
}
