//! `streetlight backtest` and `streetlight forecast`: how good each model is on the
//! department's own history, and the forecast for the next period.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context as _, Result, bail};
use serde_json::{Map, Value, json};
use sl_engine::analysis::forecasting::{
    DAY, MODEL_NAMES, ModelContext, build_model, forecast_at, run_backtests,
};
use sl_engine::analysis::selection::local_midnight;
use sl_engine::analysis::{Selection, select};
use sl_engine::sl_analytics::forecast::backtest::BacktestConfig;

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
    /// Coverage levels in percent of the masked area.
    #[arg(long, value_delimiter = ',', default_value = "0.5,1,2,5")]
    pub coverage: Vec<f64>,
    /// Seed for tie-breaking and any randomness in fitting.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Print the full result as JSON on stdout (fields in docs/CLI.md).
    #[arg(long)]
    pub json: bool,
    /// Also write an HTML report (leaderboard and PAI-vs-coverage curves, no external assets).
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
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
    // Read only what the backtest touches: the first training window to the last test period.
    let sel = Selection {
        from: Some(((start - train) * DAY).floor() as i64),
        to: Some((last_end * DAY).ceil() as i64),
        ..base
    };
    let bar = spinner(format!("reading events of {}", sel.dataset));
    let set = select(&store, &sel)?;
    bar.finish_and_clear();
    warn_if_empty(&set);
    let units = units(&store, &set, &a.units)?;
    let grid = units
        .grid()
        .context("backtests score grid cells: pass --cell-size, not --hex or --area-units")?;
    let ctx = ModelContext { train, horizon };
    let models = a
        .models
        .iter()
        .map(|m| build_model(m, ctx))
        .collect::<Result<Vec<_>, _>>()?;
    let cfg = BacktestConfig {
        start,
        origins: a.origins,
        step,
        train,
        horizon,
        coverages: a.coverage.iter().map(|c| c / 100.0).collect(),
        seed: a.seed,
        cell_area: grid.grid().cell_area(),
        study_area: grid.area(),
    };
    let bar = spinner(format!(
        "backtesting {} model(s) over {} origins",
        models.len(),
        a.origins
    ));
    let results = run_backtests(&set, &units, &models, &cfg)?;
    bar.finish_and_clear();

    let models_json: Vec<Value> = results
        .iter()
        .map(|r| {
            let m = &r.result;
            let coverage: Vec<Value> = m
                .summary
                .iter()
                .map(|s| {
                    json!({
                        "coverage_pct": s.coverage * 100.0,
                        "cells": s.cells,
                        "pai": num(s.pai),
                        "pai_se": num(s.pai_se),
                        "hit_rate": num(s.hit_rate),
                        "pei_star": num(s.pei_star),
                    })
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
        "coverage_pct": a.coverage,
        "seed": a.seed,
        "study_area_km2": grid.area() / 1e6,
        "events": set.events.len(),
        "ties": "cells with equal scores are ordered by a seeded random permutation",
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
            "{}: {} origins from {}, {} days of training, {}-day horizon, {} cells",
            set.dataset.name,
            a.origins,
            a.start,
            a.train_days,
            a.horizon_days,
            grid.len()
        );
        let _ = write!(s, "{:<14}", "model");
        for c in &a.coverage {
            let _ = write!(s, " {:>14}", format!("PAI@{c}%"));
        }
        let _ = writeln!(s, " {:>10}", "ms/fit");
        for r in &results {
            let _ = write!(s, "{:<14}", r.result.name);
            for c in &r.result.summary {
                let _ = write!(s, " {:>14}", format!("{:.2} ±{:.2}", c.pai, c.pai_se));
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
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
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
    let store = open_existing(&a.filters.db)?;
    let base = selection(&store, &a.filters)?;
    let info = sl_engine::analysis::selection::dataset_info(&store, &base.dataset)?;
    let all = select(
        &store,
        &Selection {
            from: None,
            to: None,
            ..base.clone()
        },
    )?;
    let origin = match &a.at {
        Some(d) => {
            let date: jiff::civil::Date = d
                .parse()
                .with_context(|| format!("--at `{d}` is not a date (YYYY-MM-DD)"))?;
            local_midnight(&info.time_zone, date)? as f64 / DAY
        }
        None => {
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
    let set = select(
        &store,
        &Selection {
            from: Some(((origin - train) * DAY).floor() as i64),
            to: Some((origin * DAY).ceil() as i64),
            ..base
        },
    )?;
    warn_if_empty(&set);
    let units = units(&store, &set, &a.units)?;
    let grid = units
        .grid()
        .context("forecasts score grid cells: pass --cell-size, not --hex or --area-units")?;
    let model = build_model(&a.model, ModelContext { train, horizon })?;
    let f = forecast_at(&set, &units, model.as_ref(), origin, train, horizon, a.seed)?;
    let flagged =
        sl_engine::sl_analytics::forecast::metrics::cells_for(a.coverage / 100.0, grid.len());
    let mut rank_of = vec![0usize; grid.len()];
    for (r, &i) in f.order.iter().enumerate() {
        rank_of[i as usize] = r + 1;
    }
    let mut table = Table::default();
    for &i in &f.order {
        let i = i as usize;
        let mut m = unit_columns(&units, i);
        m.insert("score".into(), num(f.forecast.scores[i]));
        m.insert("rank".into(), json!(rank_of[i]));
        m.insert("flagged".into(), json!(rank_of[i] <= flagged));
        table.push(Some(i), m);
    }
    table.write_files(Some(&units), a.csv.as_deref(), a.geojson.as_deref())?;
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
            "units": units_json(&units, &set.dataset.local_crs),
            "coverage_pct": a.coverage,
            "flagged_cells": flagged,
            "flagged_area_km2": flagged as f64 * grid.grid().cell_area() / 1e6,
            "seconds": f.seconds,
            "top": top,
        });
        println!("{}", serde_json::to_string_pretty(&doc)?);
    } else {
        println!(
            "{}: {} forecast for {} days from {} ({} training events): top {} cells ({:.2} km²)",
            set.dataset.name,
            f.model,
            a.horizon_days,
            iso_day(f.origin),
            f.train_events,
            flagged,
            flagged as f64 * grid.grid().cell_area() / 1e6
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
