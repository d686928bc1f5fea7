//! `streetlight`: the command-line edge. It parses arguments, calls `sl-engine`, and
//! renders results as text or JSON. No analytics or storage logic lives here.

mod commands;
mod output;

/// Ingest allocates a few small strings per row across several threads; mimalloc's
/// thread-local free lists make that markedly cheaper than the system allocator.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Streetlight: place-based crime analysis from open data, on one laptop.
///
/// A typical first session:
///
///   streetlight ingest --db city.db --profile philadelphia-ppd data/philadelphia-ppd/raw/*.csv.zst
///   streetlight quality --db city.db --dataset philadelphia-ppd
///   streetlight export --db city.db --dataset philadelphia-ppd --output events.gpkg
#[derive(Debug, Parser)]
#[command(
    name = "streetlight",
    version,
    about,
    long_about,
    verbatim_doc_comment,
    max_term_width = 100
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Load raw portal files into the store with a source profile.
    ///
    /// Every row ends up in exactly one place: an event, the quarantine (with a reason
    /// code), the duplicates, or the retractions. Loading the same file again changes
    /// nothing; an interrupted load resumes where its last committed batch ended.
    Ingest(commands::IngestArgs),
    /// Print a dataset's data-quality report.
    Quality(commands::QualityArgs),
    /// List datasets in the store with their provenance.
    Datasets(commands::DatasetsArgs),
    /// Write events as CSV, GeoJSON or GeoPackage (opens in QGIS and ArcGIS).
    Export(commands::ExportArgs),
    /// Check the store's integrity (SQLite's own check plus Streetlight's invariants).
    Check(commands::CheckArgs),
}

/// The store file, shared by every command.
#[derive(Debug, Clone, clap::Args)]
pub struct DbArg {
    /// SQLite database file (`ingest` creates it when missing).
    #[arg(long, env = "STREETLIGHT_DB", default_value = "streetlight.db")]
    pub db: PathBuf,
}

/// Exit codes: 0 success; 1 an error (message on stderr); 2 bad usage (clap);
/// 3 ingest stopped early on request; 4 `check` found problems.
pub const EXIT_ERROR: u8 = 1;
pub const EXIT_INTERRUPTED: u8 = 3;
pub const EXIT_CHECK_FAILED: u8 = 4;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Ingest(a) => commands::ingest(a),
        Command::Quality(a) => commands::quality(a),
        Command::Datasets(a) => commands::datasets(a),
        Command::Export(a) => commands::export(a),
        Command::Check(a) => commands::check(a),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(EXIT_ERROR)
        }
    }
}
