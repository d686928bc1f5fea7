//! `--risk-layer` for `backtest` and `forecast`: loads each layer into the frame of the
//! grid the models run on, says on stderr what each layer covers, and describes the
//! layers for the JSON output and saved forecasts.

use anyhow::{Result, bail};
use serde_json::{Value, json};
use sl_engine::analysis::Units;
use sl_engine::analysis::risk_layers::{RiskLayerSpec, load_risk_factor};
use sl_engine::sl_analytics::risk_terrain::RiskFactor;

/// `--risk-layer`, shared by `backtest` and `forecast`.
#[derive(Debug, Clone, clap::Args)]
pub struct RiskLayerArgs {
    /// A risk terrain layer (RTM) for the glm, rtm and ensemble models:
    /// NAME=FILE[,operation=proximity|density][,distance=METRES][,crs=EPSG:XXXX].
    /// FILE is GeoJSON (WGS84) or a shapefile of points, lines or polygons; each layer
    /// becomes one 0/1 feature per cell, reported with its relative risk value.
    /// Repeat for several layers.
    #[arg(long, value_name = "NAME=FILE[,…]")]
    pub risk_layer: Vec<String>,
}

/// Models that take risk layers as features.
const LAYER_MODELS: &[&str] = &["glm", "rtm", "ensemble"];

/// Loads the `specs` for `models` on `grid_units` (the grid the models fit on). Returns
/// the factors and a JSON description of each (name, file, operation, distance,
/// shapes, cells flagged).
pub fn load(
    specs: &[String],
    models: &[&str],
    grid_units: &Units,
) -> Result<(Vec<RiskFactor>, Value)> {
    if specs.is_empty() {
        if models.contains(&"rtm") {
            bail!(
                "model `rtm` regresses counts on risk layers and needs at least one: add e.g. --risk-layer bars=bars.geojson"
            );
        }
        return Ok((Vec::new(), json!([])));
    }
    if !models.iter().any(|m| LAYER_MODELS.contains(m)) {
        bail!(
            "--risk-layer feeds the {} models: add one of them to the models",
            LAYER_MODELS.join(", ")
        );
    }
    let Some(grid) = grid_units.grid() else {
        bail!("risk layers are evaluated on grid cells, and no grid was built");
    };
    let mut factors = Vec::new();
    let mut described = Vec::new();
    for text in specs {
        let spec = RiskLayerSpec::parse(text)?;
        let (factor, summary) = load_risk_factor(&spec, grid_units)?;
        if factors
            .iter()
            .any(|f: &RiskFactor| f.label() == factor.label())
        {
            bail!(
                "--risk-layer {} is given twice with the same operation and distance",
                spec.name
            );
        }
        let flagged = factor
            .cell_values(grid)
            .map_err(anyhow::Error::msg)?
            .iter()
            .sum::<f64>() as usize;
        if summary.without_geometry + summary.unprojectable > 0 {
            eprintln!(
                "risk layer {}: {} features without a geometry and {} that could not be projected were left out",
                spec.name, summary.without_geometry, summary.unprojectable
            );
        }
        if flagged == 0 || flagged == grid.len() {
            eprintln!(
                "risk layer {}: {} of the {} cells have the factor ({} of {} m), so it cannot tell cells apart: check the file's coordinates (GeoJSON is WGS84 lon/lat; give crs=EPSG:XXXX otherwise) or change the distance",
                spec.name,
                flagged,
                grid.len(),
                factor.operation.as_str(),
                factor.distance
            );
        }
        described.push(json!({
            "name": spec.name,
            "label": factor.label(),
            "file": summary.path,
            "operation": factor.operation.as_str(),
            "distance_m": factor.distance,
            "crs": spec.crs,
            "shapes": summary.shapes,
            "cells_flagged": flagged,
            "cells": grid.len(),
        }));
        factors.push(factor);
    }
    Ok((factors, Value::Array(described)))
}
