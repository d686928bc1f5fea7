//! Which events an analysis reads (dataset, categories, local-day period, area) and
//! which spatial units it counts them in. The command line's `--category`, `--from`,
//! `--to`, `--area`, `--cell-size`, `--hex`, … and the API's query parameters of the
//! same names (with `_` for `-`) are these two structs.

use anyhow::{Context as _, Result, bail};
use sl_engine::analysis::selection::local_midnight;
use sl_engine::analysis::{
    AreaFilter, AreaLevel, EventSet, MaskMode, Selection, UnitSpec, Units, select,
};
use sl_engine::{SqliteStore, Store};
use sl_types::Category;

/// Which events to analyse (the dataset is named separately: `--dataset` or the path).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct SelectArgs {
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
pub fn selection(store: &SqliteStore, dataset: &str, f: &SelectArgs) -> Result<Selection> {
    let info = sl_engine::analysis::selection::dataset_info(store, dataset)?;
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
        dataset: dataset.to_string(),
        categories,
        area,
    })
}

/// Reads the selected events of `dataset`.
pub fn load(store: &SqliteStore, dataset: &str, f: &SelectArgs) -> Result<EventSet> {
    let sel = selection(store, dataset, f)?;
    Ok(select(store, &sel)?)
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
pub fn build_units<S: Store>(store: &S, set: &EventSet, u: &UnitArgs) -> Result<Units> {
    Ok(sl_engine::analysis::build_units(store, set, unit_spec(u)?)?)
}
