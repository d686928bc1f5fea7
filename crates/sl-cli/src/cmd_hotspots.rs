//! `streetlight hotspots`: where crime concentrates — kernel density, Getis–Ord Gi\*,
//! or emerging hot spot analysis over a space-time cube.

use std::process::ExitCode;

use anyhow::Result;
use sl_server::reports::hotspots::{HotspotParams, hotspots};

use crate::analyse::{Filters, OutputArgs, UnitArgs, load, spinner, warn_if_empty};
use crate::tables::write_files;

#[derive(Debug, clap::Args)]
pub struct HotspotsArgs {
    #[command(flatten)]
    pub filters: Filters,
    #[command(flatten)]
    pub units: UnitArgs,
    #[command(flatten)]
    pub params: HotspotParams,
    #[command(flatten)]
    pub output: OutputArgs,
}

pub fn run(a: HotspotsArgs) -> Result<ExitCode> {
    let loaded = load(&a.filters)?;
    let set = &loaded.set;
    warn_if_empty(set);
    let bar = spinner(format!("{} over the units", a.params.method));
    let out = hotspots(&loaded.store, set, &a.units, &a.params);
    bar.finish_and_clear();
    let out = out?;
    write_files(
        &out.table,
        Some(&out.units),
        a.output.csv.as_deref(),
        a.output.geojson.as_deref(),
    )?;
    if a.output.json {
        println!("{}", serde_json::to_string_pretty(&out.report.doc)?);
    } else {
        println!(
            "{}: {} events in {} units ({} without a point or outside the units)",
            set.dataset.name,
            set.events.len() - out.outside,
            out.units.len(),
            out.outside
        );
        if a.units.mask == "boundary"
            && a.units.hex.is_none()
            && a.units.area_units.is_none()
            && out.units.mask == Some(sl_engine::analysis::MaskMode::Events)
        {
            println!(
                "note: dataset {} has no stored boundary, so the grid keeps the cells that ever held an event (as --mask events)",
                set.dataset.name
            );
        }
        println!("{}", out.summary);
    }
    Ok(ExitCode::SUCCESS)
}
