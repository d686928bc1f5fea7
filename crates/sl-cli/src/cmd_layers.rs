//! `streetlight layer …` (context layers: add, list, get, remove), `streetlight rates`
//! (events per 1,000 residents per polygon of a layer) and `streetlight nearby` (what
//! each layer has near a point). The checks, the storage and the
//! math are `sl_engine::context_layers`; the JSON is `sl_server::context::wire`, the
//! same the API returns. Adding and removing are audited by the engine as the local
//! operator (source `cli`).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context as _, Result};
use serde_json::Value;
use sl_engine::accounts::Context;
use sl_engine::context_layers::{self as layers, LayerInput, LayerKind};
use sl_server::context::wire;

use crate::DbArg;
use crate::analyse::{Filters, OutputArgs, selection, spinner};
use crate::commands::{open_existing, single_dataset};
use crate::tables::Table;

#[derive(Debug, clap::Args)]
pub struct LayerArgs {
    #[command(subcommand)]
    pub command: LayerCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum LayerCommand {
    /// Add a context layer (GeoJSON, .geojson.gz, shapefile or zipped shapefile); a layer
    /// of the same name is replaced.
    ///
    ///   streetlight layer add --dataset philadelphia-ppd --name tracts \
    ///       --population-field total_pop census_tracts_pop.geojson.gz
    ///   streetlight layer add --dataset philadelphia-ppd --name stops --crs EPSG:2272 stops.zip
    #[command(verbatim_doc_comment)]
    Add(LayerAddArgs),
    /// List a dataset's context layers.
    List(LayerListArgs),
    /// Print a layer as GeoJSON (WGS84) with its entry as `meta`, as the API serves it.
    Get(LayerNameArgs),
    /// Remove a context layer.
    Remove(LayerNameArgs),
}

#[derive(Debug, clap::Args)]
pub struct LayerAddArgs {
    #[command(flatten)]
    pub db: DbArg,
    /// Dataset name; may be left out when the store holds one.
    #[arg(long)]
    pub dataset: Option<String>,
    /// The layer's name: letters, digits, `_` or `-` (e.g. transit_stops, tracts).
    #[arg(long)]
    pub name: String,
    /// The property holding each polygon's population (e.g. total_pop), for rates per
    /// 1,000 residents. Every polygon must have it.
    #[arg(long, value_name = "FIELD")]
    pub population_field: Option<String>,
    /// The file's CRS when it is not WGS84 lon/lat (e.g. EPSG:2272 for a shapefile in
    /// Pennsylvania South state plane feet).
    #[arg(long, value_name = "CRS")]
    pub crs: Option<String>,
    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,
    /// The layer file: .geojson or .json (optionally .gz or .zst), .shp (with its .dbf)
    /// or a .zip holding a shapefile.
    pub file: PathBuf,
}

#[derive(Debug, clap::Args)]
pub struct LayerListArgs {
    #[command(flatten)]
    pub db: DbArg,
    /// Dataset name; may be left out when the store holds one.
    #[arg(long)]
    pub dataset: Option<String>,
    /// Print as JSON.
    #[arg(long)]
    pub json: bool,
}

/// One layer by name (`layer get`, `layer remove`).
#[derive(Debug, clap::Args)]
pub struct LayerNameArgs {
    #[command(flatten)]
    pub db: DbArg,
    /// Dataset name; may be left out when the store holds one.
    #[arg(long)]
    pub dataset: Option<String>,
    /// The layer's name (`layer list` shows them).
    #[arg(long)]
    pub name: String,
}

#[derive(Debug, clap::Args)]
pub struct RatesArgs {
    #[command(flatten)]
    pub filters: Filters,
    /// A polygon layer added with a population field (e.g. tracts).
    #[arg(long)]
    pub layer: String,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, clap::Args)]
pub struct NearbyArgs {
    #[command(flatten)]
    pub db: DbArg,
    /// Dataset name; may be left out when the store holds one.
    #[arg(long)]
    pub dataset: Option<String>,
    /// Longitude of the place, WGS84 degrees.
    #[arg(long, allow_negative_numbers = true)]
    pub lon: f64,
    /// Latitude of the place, WGS84 degrees.
    #[arg(long, allow_negative_numbers = true)]
    pub lat: f64,
    /// Count features within this many metres (at most 5,000).
    #[arg(long, default_value_t = 200.0)]
    pub radius: f64,
    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,
}

fn now_ms() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}

pub fn run_layer(a: LayerArgs) -> Result<ExitCode> {
    match a.command {
        LayerCommand::Add(a) => add(a),
        LayerCommand::List(a) => list(a),
        LayerCommand::Get(a) => get(a),
        LayerCommand::Remove(a) => remove(a),
    }
}

fn add(a: LayerAddArgs) -> Result<ExitCode> {
    let mut store = open_existing(&a.db)?;
    let dataset = single_dataset(&store, a.dataset)?;
    let bar = spinner(format!("reading {}", a.file.display()));
    let added = layers::add(
        &mut store,
        &Context::local(now_ms()),
        &dataset,
        &a.name,
        LayerInput::File {
            path: &a.file,
            crs: a.crs.as_deref(),
        },
        a.population_field.as_deref(),
    );
    bar.finish_and_clear();
    let added = added?;
    if a.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&wire::layer_added(&added))?
        );
        return Ok(ExitCode::SUCCESS);
    }
    let s = &added.summary;
    let kind = match s.kind {
        LayerKind::Points => "point",
        LayerKind::Lines => "line",
        LayerKind::Polygons => "polygon",
    };
    println!(
        "{} layer {} of {dataset}: {} {kind} features from {}{}{}",
        if added.replaced { "replaced" } else { "added" },
        s.name,
        s.features,
        s.file_name,
        s.population_field
            .as_deref()
            .map(|f| format!(", population in `{f}`"))
            .unwrap_or_default(),
        if added.without_geometry > 0 {
            format!(
                " ({} features without a geometry left out)",
                added.without_geometry
            )
        } else {
            String::new()
        }
    );
    Ok(ExitCode::SUCCESS)
}

fn list(a: LayerListArgs) -> Result<ExitCode> {
    let store = open_existing(&a.db)?;
    let dataset = single_dataset(&store, a.dataset)?;
    let list = layers::list(&store, &dataset)?;
    if a.json {
        let rows: Vec<wire::LayerInfo> = list.iter().map(wire::layer_info).collect();
        println!("{}", serde_json::to_string_pretty(&rows)?);
        return Ok(ExitCode::SUCCESS);
    }
    if list.is_empty() {
        println!(
            "{dataset} has no context layers: add one with `streetlight layer add --dataset {dataset} --name NAME FILE`"
        );
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "{:<20} {:<9} {:>8}  {:<16} {:<24} file",
        "layer", "kind", "features", "population", "uploaded"
    );
    for s in &list {
        println!(
            "{:<20} {:<9} {:>8}  {:<16} {:<24} {}",
            s.name,
            s.kind,
            s.features,
            s.population_field.as_deref().unwrap_or("-"),
            s.uploaded_at(),
            s.file_name
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn get(a: LayerNameArgs) -> Result<ExitCode> {
    let store = open_existing(&a.db)?;
    let dataset = single_dataset(&store, a.dataset)?;
    let (summary, text) = layers::stored_geojson(&store, &dataset, &a.name)?;
    let fc = wire::layer_geojson(&dataset, &summary, &text).map_err(|e| {
        anyhow::anyhow!(
            "the stored layer {} is not JSON ({e}): add it again",
            a.name
        )
    })?;
    println!("{}", serde_json::to_string(&fc)?);
    Ok(ExitCode::SUCCESS)
}

fn remove(a: LayerNameArgs) -> Result<ExitCode> {
    let mut store = open_existing(&a.db)?;
    let dataset = single_dataset(&store, a.dataset)?;
    layers::remove(&mut store, &Context::local(now_ms()), &dataset, &a.name)?;
    println!("removed layer {} of {dataset}", a.name);
    Ok(ExitCode::SUCCESS)
}

/// How many polygons the text output lists.
const TEXT_ROWS: usize = 10;

pub fn run_rates(a: RatesArgs) -> Result<ExitCode> {
    let store = open_existing(&a.filters.db)?;
    let sel = selection(&store, &a.filters)?;
    let bar = spinner(format!("counting events of {} per polygon", sel.dataset));
    let r = layers::rates(&store, &sel, &a.layer);
    bar.finish_and_clear();
    let r = r?;
    if r.events == 0 {
        eprintln!(
            "warning: no events of dataset {} match the filters (check --category slugs with `streetlight quality`, the --from/--to period and --area)",
            r.dataset
        );
    }
    let mut table = Table::default();
    for row in wire::rate_rows(&r) {
        table.push(None, row);
    }
    if let Some(p) = &a.output.csv {
        crate::tables::write_csv(&table, p)?;
        eprintln!("wrote {} rows to {}", table.rows.len(), p.display());
    }
    if let Some(p) = &a.output.geojson {
        let mut fc = wire::rates_geojson(&r);
        if let Value::Object(m) = &mut fc {
            m.remove("meta");
        }
        let text = serde_json::to_string(&fc)?;
        std::fs::write(p, text).with_context(|| format!("cannot write {}", p.display()))?;
        eprintln!("wrote map layer to {}", p.display());
    }
    if a.output.json {
        println!("{}", serde_json::to_string_pretty(&wire::rates_json(&r))?);
        return Ok(ExitCode::SUCCESS);
    }
    let per_1000 = |v: Option<f64>| v.map_or_else(|| "–".to_string(), |v| format!("{v:.2}"));
    println!(
        "{}, layer {} ({} polygons, {:.0} residents): {} of {} selected events inside, {} per 1,000 residents",
        r.dataset,
        r.layer.summary.name,
        r.polygons.len(),
        r.population,
        r.in_polygons,
        r.events,
        per_1000(r.rate_per_1000)
    );
    println!(
        "{} events outside every polygon, {} without a point{}; rates are per the selected period, not per year",
        r.outside,
        r.without_point,
        if r.in_several > 0 {
            format!(
                ", {} inside more than one (overlapping polygons)",
                r.in_several
            )
        } else {
            String::new()
        }
    );
    let mut ranked: Vec<_> = r
        .polygons
        .iter()
        .filter_map(|p| p.rate_per_1000.map(|rate| (rate, p)))
        .collect();
    ranked.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.feature.cmp(&b.1.feature)));
    println!("highest rates (a small population makes a rate jumpy: read it with its count):");
    for (rate, p) in ranked.iter().take(TEXT_ROWS) {
        println!(
            "  {:<36} {:>9.2}  ({} events, {:.0} residents)",
            r.layer.label(p.feature),
            rate,
            p.count,
            p.population
        );
    }
    let empty = r.polygons.len() - ranked.len();
    if empty > 0 {
        println!("{empty} polygons have no residents and no rate");
    }
    Ok(ExitCode::SUCCESS)
}

pub fn run_nearby(a: NearbyArgs) -> Result<ExitCode> {
    let store = open_existing(&a.db)?;
    let dataset = single_dataset(&store, a.dataset)?;
    let n = layers::nearby(&store, &dataset, a.lon, a.lat, a.radius)?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&wire::nearby_json(&n))?);
        return Ok(ExitCode::SUCCESS);
    }
    if n.layers.is_empty() {
        println!(
            "{dataset} has no context layers: add one with `streetlight layer add --dataset {dataset} --name NAME FILE`"
        );
    }
    for l in &n.layers {
        let nearest = match &l.nearest {
            Some(f) if f.distance_m == 0.0 => format!("inside {}", f.label),
            Some(f) => format!("nearest {:.0} m away ({})", f.distance_m, f.label),
            None => "no features".to_string(),
        };
        println!(
            "{:<20} {:>6} of {:>6} {} within {:.0} m; {nearest}",
            l.layer, l.within, l.features, l.kind, n.radius_m
        );
    }
    Ok(ExitCode::SUCCESS)
}
