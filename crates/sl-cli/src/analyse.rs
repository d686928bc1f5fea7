//! The analyst's commands: `patterns`, `hotspots`, `near-repeat`, `priorities`.
//! Arguments are parsed here, the work is done by sl-engine, and results are written
//! by [`crate::tables`] as JSON, GeoJSON or CSV.

use std::path::PathBuf;

use anyhow::{Context as _, Result, bail};
use sl_engine::analysis::selection::local_midnight;
use sl_engine::analysis::{
    AreaFilter, AreaLevel, EventSet, MaskMode, Selection, UnitSpec, Units, build_units, select,
};
use sl_engine::{SqliteStore, Store};
use sl_types::Category;

use crate::DbArg;
use crate::commands::{open_existing, single_dataset};

/// Which events to analyse.
#[derive(Debug, Clone, clap::Args)]
pub struct Filters {
    #[command(flatten)]
    pub db: DbArg,
    /// Dataset name; may be left out when the store holds one.
    #[arg(long)]
    pub dataset: Option<String>,
    /// Only these categories (repeat or comma-separate), e.g. residential_burglary.
    #[arg(long, value_delimiter = ',')]
    pub category: Vec<String>,
    /// First day included: a local date in the dataset's time zone (YYYY-MM-DD) or an
    /// RFC 3339 instant.
    #[arg(long)]
    pub from: Option<String>,
    /// First day left out: the period is [from, to). `--from 2024-01-01 --to 2025-01-01`
    /// is the year 2024.
    #[arg(long)]
    pub to: Option<String>,
    /// Only events with this area code, as LEVEL=CODE (district=12, beat=114,
    /// neighbourhood=Downtown).
    #[arg(long, value_name = "LEVEL=CODE")]
    pub area: Option<String>,
}

/// Which spatial units to use.
#[derive(Debug, Clone, clap::Args)]
pub struct UnitArgs {
    /// Square grid cells of this many metres (in the dataset's local CRS). Default 150.
    #[arg(long, value_name = "METRES")]
    pub cell_size: Option<f64>,
    /// H3 hexagons at this resolution instead (0–15; 9 ≈ 0.1 km², 8 ≈ 0.7 km²).
    #[arg(long, value_name = "RES", conflicts_with = "cell_size")]
    pub hex: Option<u8>,
    /// The dataset's own areas instead: district, beat or neighbourhood (by the codes
    /// the source publishes), or `boundary` (the polygons of the stored jurisdiction
    /// boundary, events placed by point-in-polygon).
    #[arg(long, value_name = "LEVEL", conflicts_with_all = ["cell_size", "hex"])]
    pub area_units: Option<String>,
    /// Grid cells to keep: `boundary` (cells overlapping the jurisdiction, the
    /// default), `events` (cells that ever held an event of the dataset) or `extent`
    /// (the whole rectangle).
    #[arg(long, default_value = "boundary")]
    pub mask: String,
    /// Rotate the grid counter-clockwise by this many degrees (e.g. to follow a street
    /// grid).
    #[arg(long, value_name = "DEGREES", default_value_t = 0.0)]
    pub grid_rotation: f64,
    /// Shift the grid's cell boundaries by DX,DY metres (cells are otherwise aligned to
    /// multiples of the cell size).
    #[arg(long, value_name = "DX,DY", value_delimiter = ',')]
    pub grid_offset: Vec<f64>,
}

/// Where results go. Without --json, a short text summary is printed.
#[derive(Debug, Clone, clap::Args)]
pub struct OutputArgs {
    /// Print the full result as JSON on stdout (field names in docs/CLI.md).
    #[arg(long)]
    pub json: bool,
    /// Also write a GeoJSON map layer (WGS84) to this file.
    #[arg(long, value_name = "FILE")]
    pub geojson: Option<PathBuf>,
    /// Also write the per-unit (or per-band) table as CSV to this file.
    #[arg(long, value_name = "FILE")]
    pub csv: Option<PathBuf>,
}

/// An opened store with the resolved selection.
pub struct Loaded {
    pub store: SqliteStore,
    pub set: EventSet,
}

fn parse_time(text: &str, what: &str, time_zone: &str) -> Result<i64> {
    if let Ok(ts) = text.parse::<jiff::Timestamp>() {
        return Ok(ts.as_second());
    }
    if let Ok(d) = text.parse::<jiff::civil::Date>() {
        return Ok(local_midnight(time_zone, d)?);
    }
    bail!(
        "{what} `{text}` is not a date (YYYY-MM-DD, local to the dataset) or an RFC 3339 instant (2024-01-01T00:00:00Z)"
    )
}

/// The selection the filters describe, with its dataset's time zone applied.
pub fn selection(store: &SqliteStore, f: &Filters) -> Result<Selection> {
    let dataset = single_dataset(store, f.dataset.clone())?;
    let info = sl_engine::analysis::selection::dataset_info(store, &dataset)?;
    let categories = f
        .category
        .iter()
        .map(|c| Category::from_slug(c).map(|c| c.slug().to_string()))
        .collect::<Result<Vec<_>, _>>()?;
    let area = match &f.area {
        None => None,
        Some(text) => {
            let (level, code) = text
                .split_once('=')
                .with_context(|| format!("--area `{text}` must be LEVEL=CODE, e.g. district=12"))?;
            let level = AreaLevel::parse(level.trim()).with_context(|| {
                format!("--area level `{level}` is not district, beat or neighbourhood")
            })?;
            Some(AreaFilter {
                level,
                code: code.trim().to_string(),
            })
        }
    };
    Ok(Selection {
        from: f
            .from
            .as_deref()
            .map(|t| parse_time(t, "--from", &info.time_zone))
            .transpose()?,
        to: f
            .to
            .as_deref()
            .map(|t| parse_time(t, "--to", &info.time_zone))
            .transpose()?,
        dataset,
        categories,
        area,
    })
}

/// Opens the store and reads the selected events.
pub fn load(f: &Filters) -> Result<Loaded> {
    let store = open_existing(&f.db)?;
    let sel = selection(&store, f)?;
    let bar = spinner(format!("reading events of {}", sel.dataset));
    let set = select(&store, &sel)?;
    bar.finish_and_clear();
    Ok(Loaded { store, set })
}

/// The unit spec the arguments ask for.
pub fn unit_spec(u: &UnitArgs) -> Result<UnitSpec> {
    if let Some(res) = u.hex {
        return Ok(UnitSpec::Hex { resolution: res });
    }
    if let Some(level) = &u.area_units {
        if level == "boundary" {
            return Ok(UnitSpec::BoundaryFeatures);
        }
        let level = AreaLevel::parse(level).with_context(|| {
            format!("--area-units `{level}` is not district, beat, neighbourhood or boundary")
        })?;
        return Ok(UnitSpec::Area(level));
    }
    let mask = MaskMode::parse(&u.mask)
        .with_context(|| format!("--mask `{}` is not boundary, events or extent", u.mask))?;
    let offset = match u.grid_offset.as_slice() {
        [] => (0.0, 0.0),
        [dx, dy] => (*dx, *dy),
        _ => bail!("--grid-offset takes two numbers, DX,DY in metres"),
    };
    Ok(UnitSpec::Grid {
        cell: u.cell_size.unwrap_or(150.0),
        mask,
        frame: sl_engine::analysis::GridFrame {
            rotation_deg: u.grid_rotation,
            offset,
        },
    })
}

/// Builds the units for a loaded selection.
pub fn units<S: Store>(store: &S, set: &EventSet, u: &UnitArgs) -> Result<Units> {
    let bar = spinner("building spatial units");
    let units = build_units(store, set, unit_spec(u)?)?;
    bar.finish_and_clear();
    Ok(units)
}

/// A spinner on stderr while a long step runs, shown only when stderr is a terminal
/// (so piped `--json` output and logs stay clean). Clear it with `finish_and_clear`.
pub fn spinner(message: impl Into<String>) -> indicatif::ProgressBar {
    use std::io::IsTerminal as _;
    let bar = if std::io::stderr().is_terminal() {
        indicatif::ProgressBar::new_spinner()
    } else {
        indicatif::ProgressBar::hidden()
    };
    bar.set_message(message.into());
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
    bar
}

/// Warns on stderr when a selection is empty, so an empty table is not mistaken for a
/// quiet city.
pub fn warn_if_empty(set: &EventSet) {
    if set.events.is_empty() {
        eprintln!(
            "warning: no events of dataset {} match the filters (check --category slugs with `streetlight quality`, the --from/--to period and --area)",
            set.dataset.name
        );
    }
}
