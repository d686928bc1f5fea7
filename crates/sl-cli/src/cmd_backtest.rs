//! `streetlight backtest` and `streetlight forecast`: how good each model is on the
//! department's own history, and the forecast for the next period.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context as _, Result};
use serde_json::{Value, json};
use sl_engine::Store as _;
use sl_server::reports::backtest::{BacktestParams, backtest};
use sl_server::reports::forecast::{ForecastParams, forecast};

use crate::analyse::{Filters, UnitArgs, selection, spinner};
use crate::commands::open_existing;
use crate::report::backtest_html;
use crate::tables::write_files;

#[derive(Debug, clap::Args)]
pub struct BacktestArgs {
    #[command(flatten)]
    pub filters: Filters,
    #[command(flatten)]
    pub units: UnitArgs,
    #[command(flatten)]
    pub params: BacktestParams,
    #[command(flatten)]
    pub risk: crate::risk_layers::RiskLayerArgs,
    /// Print the full result as JSON on stdout (fields in docs/CLI.md).
    #[arg(long)]
    pub json: bool,
    /// Also write an HTML report (leaderboard and PAI-vs-coverage curves, no external assets).
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
}

pub fn run_backtest(a: BacktestArgs) -> Result<ExitCode> {
    let store = open_existing(&a.filters.db)?;
    let base = selection(&store, &a.filters)?;
    let bar = spinner(format!(
        "backtesting {} model(s) over {} origins",
        a.params.models.len(),
        a.params.origins
    ));
    let risk = |models: &[&str], grid: &sl_engine::analysis::Units| {
        crate::risk_layers::load(&a.risk.risk_layer, models, grid)
    };
    let out = backtest(&store, base, &a.units, &a.params, &risk);
    bar.finish_and_clear();
    let out = out?;
    let doc = &out.report.doc;
    if doc["events"].as_u64() == Some(0) {
        eprintln!(
            "warning: no events of dataset {} match the filters in the backtest's period (check --category slugs with `streetlight quality`, --start and --area)",
            doc["dataset"].as_str().unwrap_or_default()
        );
    }
    if let Some(path) = &a.html {
        std::fs::write(path, backtest_html(doc))
            .with_context(|| format!("cannot write {}", path.display()))?;
        eprintln!("wrote report to {}", path.display());
    }
    if a.json {
        println!("{}", serde_json::to_string_pretty(doc)?);
    } else {
        print!("{}", out.summary);
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(Debug, clap::Args)]
pub struct ForecastArgs {
    #[command(flatten)]
    pub filters: Filters,
    #[command(flatten)]
    pub units: UnitArgs,
    #[command(flatten)]
    pub params: ForecastParams,
    /// Save the forecast in the database (settings, fitted parameters and every cell's
    /// score) so it can be reproduced and audited later; prints its id.
    #[arg(long)]
    pub save: bool,
    /// List the forecasts saved for the dataset (as JSON) instead of making one.
    #[arg(long)]
    pub list_saved: bool,
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
    let mut store = open_existing(&a.filters.db)?;
    let base = selection(&store, &a.filters)?;
    if a.list_saved {
        let info = sl_engine::analysis::selection::dataset_info(&store, &base.dataset)?;
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
    let dataset_id = sl_engine::analysis::selection::dataset_info(&store, &base.dataset)?.id;
    let bar = spinner(format!("fitting {}", a.params.model));
    let risk = |models: &[&str], grid: &sl_engine::analysis::Units| {
        crate::risk_layers::load(&a.risk.risk_layer, models, grid)
    };
    let out = forecast(&store, base, &a.units, &a.params, &risk);
    bar.finish_and_clear();
    let mut out = out?;
    for w in &out.warnings {
        eprintln!("warning: {w}");
    }
    write_files(
        &out.table,
        Some(&out.units),
        a.csv.as_deref(),
        a.geojson.as_deref(),
    )?;
    if a.save {
        let id = store.save_forecast(dataset_id, &out.record)?;
        eprintln!("saved as forecast {id} (list with --list-saved)");
        out.report.doc["saved_id"] = json!(id);
    }
    if a.json {
        println!("{}", serde_json::to_string_pretty(&out.report.doc)?);
    } else {
        println!("{}", out.summary);
        for row in out.table.rows.iter().take(out.flagged.min(10)) {
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
