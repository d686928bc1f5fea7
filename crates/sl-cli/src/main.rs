//! `streetlight`: the command-line edge. It parses arguments, calls `sl-engine`, and
//! renders results as text or JSON. No analytics or storage logic lives here.

mod analyse;
mod cmd_accounts;
mod cmd_backtest;
mod cmd_hotspots;
mod cmd_layers;
mod cmd_near_repeat;
mod cmd_patterns;
mod cmd_priorities;
mod cmd_serve;
mod commands;
mod output;
mod report;
mod risk_layers;
mod tables;

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
    /// When crime happens: hour × weekday, months, weekly trend, shift comparison.
    ///
    /// Events known only within a window (a burglary found in the morning) are spread
    /// over the hours the window covers (aoristic method, Ratcliffe 2002).
    ///
    ///   streetlight patterns --category residential_burglary --from 2024-01-01 --to 2025-01-01
    #[command(verbatim_doc_comment)]
    Patterns(cmd_patterns::PatternsArgs),
    /// Where crime concentrates: kernel density, Gi* hot spots, emerging hot spots.
    ///
    ///   streetlight hotspots --method gistar --category residential_burglary \
    ///       --from 2024-01-01 --to 2025-01-01 --cell-size 150 --weights queen --json
    ///   streetlight hotspots --method kde --bandwidth 300 --geojson kde.geojson
    ///   streetlight hotspots --method emerging --step month --from 2023-01-01 --to 2025-01-01
    #[command(verbatim_doc_comment)]
    Hotspots(cmd_hotspots::HotspotsArgs),
    /// Near-repeat analysis: the Knox test over space and time bands, and each event's role.
    ///
    ///   streetlight near-repeat --category residential_burglary --from 2024-01-01 \
    ///       --to 2025-01-01 --space-bands 0,1,200,400 --time-bands 0,1,7,14 --classify 200,14
    #[command(verbatim_doc_comment)]
    NearRepeat(cmd_near_repeat::NearRepeatArgs),
    /// The places that cause the most harm in a period, and why each is on the list.
    ///
    ///   streetlight priorities --from 2024-10-01 --to 2025-01-01 --cell-size 150 --top 20
    #[command(verbatim_doc_comment)]
    Priorities(cmd_priorities::PrioritiesArgs),
    /// Compare forecasting models on the department's own history (rolling origins).
    ///
    ///   streetlight backtest --category residential_burglary --models naive,historical \
    ///       --cell-size 150 --train-days 365 --horizon-days 7 --origins 52 --start 2024-01-01 \
    ///       --coverage 0.5,1,2,5 --html report.html
    #[command(verbatim_doc_comment)]
    Backtest(cmd_backtest::BacktestArgs),
    /// Forecast where risk is elevated next, with any model; cells with score and rank.
    ///
    ///   streetlight forecast --category residential_burglary --model historical \
    ///       --cell-size 150 --horizon-days 7 --geojson forecast.geojson
    #[command(verbatim_doc_comment)]
    Forecast(cmd_backtest::ForecastArgs),
    /// Serve the HTTP API over a store (JSON under /api/, OpenAPI at /api/openapi.json).
    ///
    ///   streetlight serve --db city.db --addr 127.0.0.1:8080
    #[command(verbatim_doc_comment)]
    Serve(cmd_serve::ServeArgs),
    /// Accounts and roles: add, list, change role, reset password, unlock, disable.
    ///
    ///   streetlight user add chief --role admin      (prints a generated password once)
    ///   streetlight user list
    #[command(verbatim_doc_comment)]
    User(cmd_accounts::UserArgs),
    /// The audit trail: list records, verify the hash chain.
    ///
    ///   streetlight audit verify     (exit code 4 names the records that were tampered with)
    ///   streetlight audit list --limit 20
    #[command(verbatim_doc_comment)]
    Audit(cmd_accounts::AuditArgs),
    /// Context layers: transit stops, schools, census tracts with population (add, list, remove).
    Layer(cmd_layers::LayerArgs),
    /// Events per 1,000 residents in each polygon of a layer with population.
    Rates(cmd_layers::RatesArgs),
    /// What each context layer has near a place: features within a radius, the nearest one.
    Nearby(cmd_layers::NearbyArgs),
}

/// The store file, shared by every command.
#[derive(Debug, Clone, clap::Args)]
pub struct DbArg {
    /// SQLite database file (`ingest` and `user add` create it when missing).
    #[arg(long, env = "STREETLIGHT_DB", default_value = "streetlight.db")]
    pub db: PathBuf,
}

/// Exit codes: 0 success; 1 an error (message on stderr); 2 bad usage (clap);
/// 3 ingest stopped early on request; 4 `check` or `audit verify` found problems.
pub const EXIT_ERROR: u8 = 1;
pub const EXIT_INTERRUPTED: u8 = 3;
pub const EXIT_CHECK_FAILED: u8 = 4;

/// `streetlight … | head` closes stdout early; printing then fails with a broken pipe.
/// That is the reader's choice, not a bug: leave quietly with the shell's SIGPIPE status
/// instead of a panic trace.
fn quiet_on_broken_pipe() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let message = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or("");
        if message.contains("Broken pipe") {
            std::process::exit(141);
        }
        default(info);
    }));
}

fn main() -> ExitCode {
    quiet_on_broken_pipe();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Ingest(a) => commands::ingest(a),
        Command::Quality(a) => commands::quality(a),
        Command::Datasets(a) => commands::datasets(a),
        Command::Export(a) => commands::export(a),
        Command::Check(a) => commands::check(a),
        Command::Patterns(a) => cmd_patterns::run(a),
        Command::Hotspots(a) => cmd_hotspots::run(a),
        Command::NearRepeat(a) => cmd_near_repeat::run(a),
        Command::Priorities(a) => cmd_priorities::run(a),
        Command::Backtest(a) => cmd_backtest::run_backtest(a),
        Command::Forecast(a) => cmd_backtest::run_forecast(a),
        Command::Serve(a) => cmd_serve::run(a),
        Command::User(a) => cmd_accounts::run_user(a),
        Command::Audit(a) => cmd_accounts::run_audit(a),
        Command::Layer(a) => cmd_layers::run_layer(a),
        Command::Rates(a) => cmd_layers::run_rates(a),
        Command::Nearby(a) => cmd_layers::run_nearby(a),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(EXIT_ERROR)
        }
    }
}
