//! One function per subcommand.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Mutex;

use anyhow::{Context as _, Result, bail};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use sl_engine::EventFilter;
use sl_engine::export::{ExportFormat, export as export_events};
use sl_engine::ingest::{IngestOptions, Progress, ingest as run_ingest};
use sl_engine::quality::quality_report;
use sl_engine::{SqliteStore, Store};
use sl_types::{Category, Timestamp};

use crate::DbArg;
use crate::output;

#[derive(Debug, clap::Args)]
pub struct IngestArgs {
    #[command(flatten)]
    pub db: DbArg,
    /// Source profile: a name under profiles/ (e.g. `stlouis-slmpd`) or a path to a TOML file.
    #[arg(long)]
    pub profile: String,
    /// Input files: CSV (plain, .gz, .zst), GeoJSON, Parquet, or a point shapefile (.shp, or a .zip holding one).
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,
    /// Rows per committed batch (smaller batches lose less on a crash, load slower).
    #[arg(long, default_value_t = 50_000)]
    pub batch_rows: usize,
    /// Harm table (TOML `category = weight`) replacing the default weights.
    #[arg(long)]
    pub harm_table: Option<PathBuf>,
    /// Jurisdiction boundary file replacing the profile's.
    #[arg(long)]
    pub boundary: Option<PathBuf>,
    /// Treat this instant (RFC 3339, e.g. 2026-01-01T00:00:00Z) as "now" for the future-date check.
    #[arg(long)]
    pub now: Option<String>,
    /// Hide progress bars.
    #[arg(long)]
    pub quiet: bool,
    /// Stop after committing N batches, as if killed (for crash-recovery tests).
    #[arg(long, hide = true)]
    pub stop_after_batches: Option<u64>,
}

#[derive(Debug, clap::Args)]
pub struct QualityArgs {
    #[command(flatten)]
    pub db: DbArg,
    /// Dataset name (see `streetlight datasets`); may be left out when the store holds one.
    #[arg(long)]
    pub dataset: Option<String>,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
    /// Also list up to N quarantined rows with file, row, column and reason.
    #[arg(long, default_value_t = 0)]
    pub show_rows: usize,
    /// Only list quarantined rows with this reason code (lists 20 unless --show-rows says otherwise).
    #[arg(long)]
    pub reason: Option<String>,
}

#[derive(Debug, clap::Args)]
pub struct DatasetsArgs {
    #[command(flatten)]
    pub db: DbArg,
    /// Print as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, clap::Args)]
pub struct ExportArgs {
    #[command(flatten)]
    pub db: DbArg,
    /// Dataset name; may be left out when the store holds one.
    #[arg(long)]
    pub dataset: Option<String>,
    /// Output file; the format follows its extension (.csv, .geojson, .gpkg) unless --format is given.
    #[arg(long, short)]
    pub output: PathBuf,
    /// csv, geojson or gpkg.
    #[arg(long)]
    pub format: Option<String>,
    /// Only these categories (repeat or comma-separate), e.g. residential_burglary.
    #[arg(long, value_delimiter = ',')]
    pub category: Vec<String>,
    /// Occurrence on or after this date (YYYY-MM-DD, UTC) or instant (RFC 3339).
    #[arg(long)]
    pub from: Option<String>,
    /// Occurrence before this date (YYYY-MM-DD, UTC) or instant (RFC 3339).
    #[arg(long)]
    pub to: Option<String>,
    /// Include retracted events (marked in a `retracted` column).
    #[arg(long)]
    pub include_retracted: bool,
    /// Print the summary as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub db: DbArg,
    /// Print as JSON.
    #[arg(long)]
    pub json: bool,
}

fn open_store(db: &DbArg) -> Result<SqliteStore> {
    SqliteStore::open(&db.db).with_context(|| format!("opening database {}", db.db.display()))
}

pub(crate) fn open_existing(db: &DbArg) -> Result<SqliteStore> {
    if !db.db.is_file() {
        bail!(
            "database {} does not exist: load data first with `streetlight ingest --db {} --profile NAME FILE...`",
            db.db.display(),
            db.db.display()
        );
    }
    open_store(db)
}

/// Where named profiles are looked up: ./profiles, $STREETLIGHT_PROFILES, and the
/// repository's profiles/ next to the binary (target/<profile>/streetlight).
fn profile_dirs() -> Vec<PathBuf> {
    let mut dirs = vec![PathBuf::from("profiles")];
    if let Some(p) = std::env::var_os("STREETLIGHT_PROFILES") {
        dirs.insert(0, PathBuf::from(p));
    }
    if let Ok(exe) = std::env::current_exe()
        && let Some(dir) = exe.parent()
    {
        dirs.push(dir.join("profiles"));
        dirs.push(dir.join("../../profiles"));
    }
    dirs
}

fn parse_instant(text: &str, what: &str) -> Result<i64> {
    if let Ok(ts) = text.parse::<jiff::Timestamp>() {
        return Ok(ts.as_second());
    }
    if let Ok(d) = text.parse::<jiff::civil::Date>() {
        return Ok(d
            .to_zoned(jiff::tz::TimeZone::UTC)
            .context("date out of range")?
            .timestamp()
            .as_second());
    }
    bail!(
        "{what} `{text}` is not a date (YYYY-MM-DD) or an RFC 3339 instant (2024-01-01T00:00:00Z)"
    )
}

pub(crate) fn single_dataset(store: &SqliteStore, given: Option<String>) -> Result<String> {
    if let Some(d) = given {
        return Ok(d);
    }
    let all = store.datasets()?;
    match all.as_slice() {
        [one] => Ok(one.name.clone()),
        [] => bail!("the database holds no dataset yet: run `streetlight ingest` first"),
        many => bail!(
            "the database holds {} datasets; choose one with --dataset ({})",
            many.len(),
            many.iter()
                .map(|d| d.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

pub fn ingest(a: IngestArgs) -> Result<ExitCode> {
    let profile = sl_engine::Profile::resolve(&a.profile, &profile_dirs())?;
    let mut opts = IngestOptions::new(a.files.clone());
    opts.batch_rows = a.batch_rows;
    opts.boundary = a.boundary.clone();
    opts.stop_after_batches = a.stop_after_batches;
    if let Some(now) = &a.now {
        opts.now = Some(Timestamp(parse_instant(now, "--now")?));
    }
    if let Some(h) = &a.harm_table {
        opts.harm = sl_engine::harm::load_harm_table(h)?;
    }
    // Check the inputs before creating a database, so a mistyped path leaves nothing behind.
    for f in &a.files {
        if !f.is_file() {
            bail!(
                "input {} does not exist or is not a file: check the path (a shell pattern that matches nothing is passed on as it is)",
                f.display()
            );
        }
    }
    let mut store = open_store(&a.db)?;
    let bars = ProgressBars::new(a.quiet);
    let report = run_ingest(&mut store, &profile, &opts, &|p| bars.update(p))?;
    bars.finish();
    if a.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&output::ingest_json(&report))?
        );
    } else {
        print!("{}", output::ingest_text(&report));
    }
    Ok(if report.interrupted {
        ExitCode::from(crate::EXIT_INTERRUPTED)
    } else {
        ExitCode::SUCCESS
    })
}

/// Progress bars on stderr: one per file, counting committed rows.
struct ProgressBars {
    multi: Option<MultiProgress>,
    current: Mutex<Option<ProgressBar>>,
}

impl ProgressBars {
    fn new(quiet: bool) -> Self {
        let multi = (!quiet).then(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr()));
        Self {
            multi,
            current: Mutex::new(None),
        }
    }

    fn update(&self, p: Progress) {
        let Some(multi) = &self.multi else { return };
        let mut current = self.current.lock().unwrap_or_else(|e| e.into_inner());
        match p {
            Progress::FileStarted {
                file,
                index,
                of,
                resume_from,
            } => {
                let bar = multi.add(ProgressBar::new_spinner());
                bar.set_style(
                    ProgressStyle::with_template(
                        "{spinner} [{elapsed_precise}] {prefix} {human_pos} rows ({per_sec}) {msg}",
                    )
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
                );
                bar.set_prefix(format!("{}/{} {file}", index + 1, of));
                bar.set_position(resume_from);
                if resume_from > 0 {
                    bar.set_message(format!("resuming after row {resume_from}"));
                }
                bar.enable_steady_tick(std::time::Duration::from_millis(200));
                *current = Some(bar);
            }
            Progress::RowsCommitted { rows, .. } => {
                if let Some(b) = current.as_ref() {
                    b.set_position(rows);
                }
            }
            Progress::FileFinished { rows, .. } => {
                if let Some(b) = current.take() {
                    b.set_position(rows);
                    b.finish_with_message("done");
                }
            }
            Progress::FileSkipped { file } => {
                let _ = multi.println(format!(
                    "  {file}: already loaded with this profile, nothing to do"
                ));
            }
            Progress::Reconciling { dataset } => {
                let _ = multi.println(format!(
                    "  {dataset}: matching retractions to their originals"
                ));
            }
        }
    }

    fn finish(&self) {
        if let Some(b) = self
            .current
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
        {
            b.abandon();
        }
    }
}

pub fn quality(a: QualityArgs) -> Result<ExitCode> {
    let store = open_existing(&a.db)?;
    let dataset = single_dataset(&store, a.dataset)?;
    let report = quality_report(&store, &dataset)?;
    let id = store.dataset_id(&dataset)?.context("dataset vanished")?;
    let show_rows = if a.reason.is_some() && a.show_rows == 0 {
        20
    } else {
        a.show_rows
    };
    let rows = if show_rows > 0 {
        if let Some(r) = &a.reason
            && sl_types::ReasonCode::parse(r).is_none()
        {
            bail!(
                "--reason `{r}` is not a reason code; use one of {}",
                sl_types::ReasonCode::ALL.map(|c| c.as_str()).join(", ")
            );
        }
        store.quarantined(id, a.reason.as_deref(), show_rows)?
    } else {
        Vec::new()
    };
    if a.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&sl_server::wire::quality_json(&report, &rows))?
        );
    } else {
        print!("{}", output::quality_text(&report, &rows));
    }
    Ok(ExitCode::SUCCESS)
}

pub fn datasets(a: DatasetsArgs) -> Result<ExitCode> {
    let store = open_existing(&a.db)?;
    let all = store.datasets()?;
    let mut with_sources = Vec::new();
    for d in all {
        let sources = store.sources(d.id)?;
        with_sources.push((d, sources));
    }
    if a.json {
        println!(
            "{}",
            serde_json::to_string_pretty(
                &with_sources
                    .iter()
                    .map(|(d, sources)| sl_server::wire::dataset(d.clone(), sources.clone()))
                    .collect::<Vec<_>>()
            )?
        );
    } else {
        print!("{}", output::datasets_text(&with_sources));
    }
    Ok(ExitCode::SUCCESS)
}

pub fn export(a: ExportArgs) -> Result<ExitCode> {
    let store = open_existing(&a.db)?;
    let dataset = single_dataset(&store, a.dataset)?;
    let format = match a.format.as_deref() {
        Some("csv") => ExportFormat::Csv,
        Some("geojson") => ExportFormat::GeoJson,
        Some("gpkg" | "geopackage") => ExportFormat::GeoPackage,
        Some(other) => bail!("--format `{other}` is not one of csv, geojson, gpkg"),
        None => ExportFormat::from_path(&a.output).with_context(|| {
            format!(
                "cannot tell the format of {} from its extension: use .csv, .geojson or .gpkg, or pass --format",
                a.output.display()
            )
        })?,
    };
    for c in &a.category {
        Category::from_slug(c)?;
    }
    let filter = EventFilter {
        categories: a
            .category
            .iter()
            .map(|c| Category::from_slug(c).map(|c| c.slug().to_string()))
            .collect::<Result<_, _>>()?,
        from: a
            .from
            .as_deref()
            .map(|t| parse_instant(t, "--from"))
            .transpose()?,
        to: a
            .to
            .as_deref()
            .map(|t| parse_instant(t, "--to"))
            .transpose()?,
        include_retracted: a.include_retracted,
        with_point_only: false,
    };
    let summary = export_events(&store, &dataset, &filter, Path::new(&a.output), format)?;
    if a.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&output::export_json(&summary))?
        );
    } else {
        println!("wrote {} events to {}", summary.events, summary.path);
        if summary.without_point > 0 {
            println!(
                "{} events without a point {} (they count in totals, not on maps)",
                summary.without_point,
                if format == ExportFormat::GeoJson {
                    "were left out"
                } else {
                    "have an empty geometry"
                }
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub fn check(a: CheckArgs) -> Result<ExitCode> {
    let store = open_existing(&a.db)?;
    let report = store.check_integrity()?;
    if a.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({
                "ok": report.is_ok(),
                "sqlite": report.sqlite,
                "problems": report.problems,
            }))?
        );
    } else if report.is_ok() {
        println!("ok: SQLite integrity check passed and every committed row is accounted for");
    } else {
        for line in report
            .sqlite
            .iter()
            .filter(|l| *l != "ok")
            .chain(report.problems.iter())
        {
            println!("problem: {line}");
        }
    }
    Ok(if report.is_ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(crate::EXIT_CHECK_FAILED)
    })
}
