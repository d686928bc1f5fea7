//! The analyst's commands: `patterns`, `hotspots`, `near-repeat`, `priorities`.
//! Arguments are parsed here; the analyses are `sl_server::reports` (the API runs the
//! same ones), and results are written by [`crate::tables`] as JSON, GeoJSON or CSV.

use std::path::PathBuf;

use anyhow::Result;
use sl_engine::SqliteStore;
use sl_engine::analysis::{EventSet, Selection, select};
pub use sl_server::reports::{SelectArgs, UnitArgs};

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
    #[command(flatten)]
    pub select: SelectArgs,
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

/// The selection the filters describe, with its dataset's time zone applied.
pub fn selection(store: &SqliteStore, f: &Filters) -> Result<Selection> {
    let dataset = single_dataset(store, f.dataset.clone())?;
    sl_server::reports::selection(store, &dataset, &f.select)
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
