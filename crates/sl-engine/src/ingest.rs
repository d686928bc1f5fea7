//! Ingest: files → normalised rows → classified against the store → atomic batches.
//!
//! # Pipeline
//! A reader thread decompresses and splits CSV rows; the calling thread normalises
//! each chunk in parallel (rayon) and classifies rows in file order against the
//! dataset's stored keys (new, revision, duplicate, unchanged); a writer thread commits
//! batches. A batch is acknowledged (progress reported) only after its commit.
//!
//! # Crash safety
//! Each batch commits the file's row counter in the same transaction as its rows, so
//! after a crash the store holds whole batches and says how many rows of the file it
//! has. The next run skips those rows and continues; the stored keys make the
//! continuation classify exactly as an uninterrupted run would.
//!
//! # Idempotence
//! A file is known by its SHA-256 and the profile's SHA-256. Loading a file that is
//! already complete changes nothing and reports the stored counts.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use crossbeam_channel::bounded;
use rayon::prelude::*;
use sl_ingest::{
    Context, Format, Layout, Normalised, Profile, Rejection, Retraction, RowOutcome, Table,
};
use sl_store::{
    Batch, DatasetId, DatasetSpec, EventWrite, QuarantineWrite, RetractionWrite, SourceFile,
    SourceId, Store, StoredKey,
};
use sl_types::{HarmTable, ReasonCode, Timestamp};
use xxhash_rust::xxh3::xxh3_64;

use crate::{EngineError, Result};

/// Rows read per chunk handed to the parallel normaliser.
const CHUNK_ROWS: usize = 16_384;

/// What to ingest and how.
#[derive(Debug, Clone)]
pub struct IngestOptions {
    pub files: Vec<PathBuf>,
    /// Rows per committed batch.
    pub batch_rows: usize,
    /// "Now" for the future-date check (defaults to the wall clock).
    pub now: Option<Timestamp>,
    pub harm: HarmTable,
    /// Replaces the profile's boundary file.
    pub boundary: Option<PathBuf>,
    /// Stop (as if killed) after committing this many batches; for crash tests.
    pub stop_after_batches: Option<u64>,
}

impl IngestOptions {
    /// Defaults for the given files.
    pub fn new(files: Vec<PathBuf>) -> Self {
        Self {
            files,
            batch_rows: 50_000,
            now: None,
            harm: HarmTable::default(),
            boundary: None,
            stop_after_batches: None,
        }
    }
}

/// Progress notices for the edge to render.
#[derive(Debug, Clone)]
pub enum Progress {
    FileStarted {
        file: String,
        index: usize,
        of: usize,
        resume_from: u64,
    },
    RowsCommitted {
        file: String,
        rows: u64,
    },
    FileSkipped {
        file: String,
    },
    FileFinished {
        file: String,
        rows: u64,
    },
    Reconciling {
        dataset: String,
    },
}

/// Outcome counts; `rows_read = accepted + quarantined + duplicates + retracted`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counts {
    pub rows_read: u64,
    /// Rows that are (or confirm) stored events: inserted + updated + unchanged.
    pub accepted: u64,
    pub inserted: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub duplicates: u64,
    /// Retraction rows matched to their original.
    pub retracted: u64,
    /// Quarantined rows by reason code (unmatched retractions included, duplicates not).
    pub quarantined: BTreeMap<String, u64>,
}

impl Counts {
    /// Total quarantined rows.
    pub fn quarantined_total(&self) -> u64 {
        self.quarantined.values().sum()
    }

    fn add(&mut self, o: &Counts) {
        self.rows_read += o.rows_read;
        self.accepted += o.accepted;
        self.inserted += o.inserted;
        self.updated += o.updated;
        self.unchanged += o.unchanged;
        self.duplicates += o.duplicates;
        self.retracted += o.retracted;
        for (k, v) in &o.quarantined {
            *self.quarantined.entry(k.clone()).or_default() += v;
        }
    }

    /// Whether every row is accounted for.
    pub fn balanced(&self) -> bool {
        self.rows_read
            == self.accepted + self.quarantined_total() + self.duplicates + self.retracted
    }
}

/// One file's result.
#[derive(Debug, Clone)]
pub struct FileReport {
    pub path: String,
    pub dataset: String,
    pub sha256: String,
    /// The file was already fully loaded with this profile; nothing was written.
    pub already_loaded: bool,
    /// Rows skipped because an interrupted earlier run had committed them.
    pub resumed_from: u64,
    pub counts: Counts,
    source: SourceId,
}

/// The result of an ingest run.
#[derive(Debug, Clone)]
pub struct IngestReport {
    pub profile: String,
    pub files: Vec<FileReport>,
    pub totals: Counts,
    /// True when the run stopped early on request (crash tests).
    pub interrupted: bool,
}

/// Loads files with a profile into the store.
pub fn ingest<S: Store + Send>(
    store: &mut S,
    profile: &Profile,
    opts: &IngestOptions,
    progress: &(dyn Fn(Progress) + Sync),
) -> Result<IngestReport> {
    if opts.files.is_empty() {
        return Err(EngineError::Invalid(
            "no input files: give one or more CSV, GeoJSON, Parquet or point-shapefile files"
                .into(),
        ));
    }
    for f in &opts.files {
        if !f.is_file() {
            return Err(EngineError::Invalid(format!(
                "input {} does not exist or is not a file: check the path (a shell pattern that matches nothing is passed on as it is)",
                f.display()
            )));
        }
    }
    let now = opts
        .now
        .unwrap_or_else(|| Timestamp(jiff::Timestamp::now().as_second()));
    let (ctx, ctx_boundary_path) = build_context(profile, opts, now)?;
    let profile_sha = sl_ingest::source::sha256_bytes(profile.text.as_bytes());
    // A file's load is identified by its bytes and by everything that shapes its events:
    // the profile and, when not the default, the harm table.
    let config_sha = if opts.harm == HarmTable::default() {
        profile_sha.clone()
    } else {
        let mut text = profile.text.clone();
        text.push_str("\n# harm table\n");
        for (c, w) in opts.harm.iter() {
            text.push_str(&format!("{c} = {w}\n"));
        }
        sl_ingest::source::sha256_bytes(text.as_bytes())
    };
    let profile_name = profile
        .origin
        .as_ref()
        .and_then(|p| p.file_stem())
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| profile.dataset.name.clone());

    let mut datasets: HashMap<String, (DatasetId, KeyMap)> = HashMap::new();
    let mut reports = Vec::new();
    let mut plans: Vec<FilePlan> = Vec::new();
    // First register every file (checking its header), so that one pipeline can then
    // run through all of them without draining between files.
    for (index, path) in opts.files.iter().enumerate() {
        let file_name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let dataset_name = profile.dataset_for(&file_name).to_string();
        if !datasets.contains_key(&dataset_name) {
            let id = store.upsert_dataset(&DatasetSpec {
                name: dataset_name.clone(),
                title: profile.dataset.title.clone(),
                kind: profile.dataset.kind.clone(),
                time_zone: profile.dataset.time_zone.clone(),
                local_crs: profile.dataset.local_crs.clone(),
                profile_name: profile_name.clone(),
                profile_sha256: profile_sha.clone(),
                profile_text: profile.text.clone(),
                provenance: profile.dataset.provenance.clone(),
                harm_source: opts.harm.source.clone(),
            })?;
            if let (Some(b), Some(path)) = (&ctx.jurisdiction, &ctx_boundary_path) {
                let name = path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                store.set_boundary(id, &name, &b.to_json())?;
            }
            let keys = KeyMap::from_stored(store.load_keys(id)?, &store.sources(id)?);
            datasets.insert(dataset_name.clone(), (id, keys));
        }
        let io_err = |source| EngineError::Io {
            path: path.display().to_string(),
            source,
        };
        let sha256 = sl_ingest::source::sha256_file(path).map_err(io_err)?;
        let size_bytes = std::fs::metadata(path).map_err(io_err)?.len();
        // Check the header before registering the file, so a file the profile cannot
        // read leaves no trace in the registry. The reader opens it again later: keeping
        // every file of a long list open at once would cost a decoder buffer each.
        let layout = {
            let table = Table::open_with(
                path,
                Format::from_path(path),
                profile.dataset.csv_columns.as_deref(),
            )?;
            Layout::new(profile, table.header(), &file_name)?
        };
        let (dataset_id, keys) = datasets.get_mut(&dataset_name).expect("inserted above");
        // The same bytes loaded earlier under another profile or harm table: that load
        // is replaced, not added to.
        if store.supersede_file(*dataset_id, &sha256, &config_sha)? {
            *keys =
                KeyMap::from_stored(store.load_keys(*dataset_id)?, &store.sources(*dataset_id)?);
        }
        let state = store.open_source(
            *dataset_id,
            &SourceFile {
                file_name: file_name.clone(),
                file_path: path.display().to_string(),
                sha256: sha256.clone(),
                size_bytes,
                profile_sha256: config_sha.clone(),
            },
        )?;
        // The same bytes named twice in one run are loaded once.
        let repeat = plans.iter().any(|p| p.source == state.id);
        reports.push(FileReport {
            path: path.display().to_string(),
            dataset: dataset_name.clone(),
            already_loaded: state.complete || repeat,
            resumed_from: if state.complete || repeat {
                0
            } else {
                state.rows_committed
            },
            counts: Counts::default(),
            source: state.id,
            sha256: sha256.clone(),
        });
        if state.complete || repeat {
            progress(Progress::FileSkipped { file: file_name });
        } else {
            plans.push(FilePlan {
                index,
                path: path.clone(),
                file_name,
                file_hash: xxh3_64(sha256.as_bytes()),
                dataset_name,
                dataset: *dataset_id,
                source: state.id,
                resume_from: state.rows_committed,
                layout,
                csv_columns: profile.dataset.csv_columns.clone(),
            });
        }
    }
    let interrupted = if plans.is_empty() {
        false
    } else {
        run_pipeline(store, &plans, &mut datasets, &ctx, opts, progress)?
    };
    // Retractions are matched over the whole dataset once its files are in.
    let mut totals = Counts::default();
    if !interrupted {
        for (name, (id, _)) in &datasets {
            progress(Progress::Reconciling {
                dataset: name.clone(),
            });
            store.reconcile_retractions(*id)?;
        }
    }
    for r in &mut reports {
        r.counts = counts_of(store, r.source)?;
        totals.add(&r.counts);
    }
    Ok(IngestReport {
        profile: profile_name,
        files: reports,
        totals,
        interrupted,
    })
}

fn counts_of<S: Store>(store: &S, source: SourceId) -> Result<Counts> {
    let sc = store.source_counts(source)?;
    let mut c = Counts {
        rows_read: sc.rows_committed,
        inserted: sc.inserted,
        updated: sc.updated,
        unchanged: sc.unchanged,
        accepted: sc.inserted + sc.updated + sc.unchanged,
        retracted: sc.retracted,
        ..Counts::default()
    };
    for (reason, n) in sc.reasons {
        if reason == ReasonCode::Duplicate.as_str() {
            c.duplicates += n;
        } else {
            *c.quarantined.entry(reason).or_default() += n;
        }
    }
    if sc.retraction_orphans > 0 {
        *c.quarantined
            .entry(ReasonCode::RetractionWithoutOriginal.as_str().to_string())
            .or_default() += sc.retraction_orphans;
    }
    Ok(c)
}

/// Resolves the time zone, reprojection and jurisdiction once per run.
fn build_context(
    profile: &Profile,
    opts: &IngestOptions,
    now: Timestamp,
) -> Result<(Context, Option<PathBuf>)> {
    let boundary_path = match (&opts.boundary, &profile.jurisdiction.boundary) {
        (Some(p), _) => Some(p.clone()),
        (None, Some(rel)) => Some(find_boundary(rel, &opts.files, profile.origin.as_deref())?),
        (None, None) => None,
    };
    let ctx = Context::for_profile(profile, boundary_path.as_deref(), now, opts.harm.clone())?;
    Ok((ctx, boundary_path))
}

/// Looks for a boundary path relative to each input's folder and its parents, then the
/// profile's folder and its parents.
fn find_boundary(rel: &str, inputs: &[PathBuf], profile: Option<&Path>) -> Result<PathBuf> {
    let direct = Path::new(rel);
    if direct.is_absolute() {
        return if direct.is_file() {
            Ok(direct.to_path_buf())
        } else {
            Err(EngineError::Invalid(format!(
                "boundary file {rel} does not exist"
            )))
        };
    }
    let mut starts: Vec<PathBuf> = inputs
        .iter()
        .filter_map(|p| p.parent().map(Path::to_path_buf))
        .collect();
    if let Some(p) = profile.and_then(Path::parent) {
        starts.push(p.to_path_buf());
    }
    let mut tried = Vec::new();
    for start in starts {
        let mut dir = Some(start.as_path());
        for _ in 0..4 {
            let Some(d) = dir else { break };
            let candidate = d.join(rel);
            if candidate.is_file() {
                return Ok(candidate);
            }
            if tried.len() < 8 {
                tried.push(candidate.display().to_string());
            }
            dir = d.parent();
        }
    }
    Err(EngineError::Invalid(format!(
        "the profile's boundary file `{rel}` was not found (looked in {}); pass --boundary FILE or remove jurisdiction.boundary from the profile",
        tried.join(", ")
    )))
}

/// Where a stored event's current version came from: the file's content (so a file
/// re-read under a revised profile is recognised as itself) and the source entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Origin {
    file: u64,
    source: SourceId,
    row: u64,
}

type KeyHashMap<V> = HashMap<u64, V, std::hash::BuildHasherDefault<sl_store::IdHasher>>;
type KeyHashMap128 = HashMap<u128, u32>;

/// Stored keys of one dataset, updated as rows are classified.
#[derive(Debug, Default)]
pub(crate) struct KeyMap {
    /// key hash → (content hash, origin, event id)
    map: KeyHashMap<(u64, Origin, i64)>,
}

impl KeyMap {
    fn from_stored(keys: Vec<StoredKey>, sources: &[sl_store::SourceInfo]) -> Self {
        let file_of: HashMap<SourceId, u64> = sources
            .iter()
            .map(|s| (s.id, xxh3_64(s.sha256.as_bytes())))
            .collect();
        let mut map = KeyHashMap::with_capacity_and_hasher(keys.len() * 2, Default::default());
        for k in keys {
            let origin = Origin {
                file: file_of.get(&k.origin_source).copied().unwrap_or(0),
                source: k.origin_source,
                row: k.origin_row,
            };
            map.insert(k.key_hash, (k.content_hash, origin, k.event_id));
        }
        Self { map }
    }
}

/// The classification of an event row against stored keys.
enum Class {
    /// A new record, with the event id assigned to it.
    Insert(i64),
    /// A revision of the stored event with this id.
    Update(i64),
    Unchanged,
    Duplicate {
        of_source: SourceId,
        of_row: u64,
    },
}

struct OwnedBatch {
    /// Index of the file (in the run's plan) the batch belongs to.
    plan: usize,
    /// Events with their key hash and event id.
    inserts: Vec<(Box<Normalised>, u64, i64)>,
    updates: Vec<(Box<Normalised>, u64, i64)>,
    quarantine: Vec<Rejection>,
    /// Duplicates with the retraction key of the record they copy.
    duplicates: Vec<(Rejection, Option<u64>)>,
    retractions: Vec<Retraction>,
    unchanged: u64,
    rows_committed: u64,
    /// The file ends with this batch: the writer marks it complete after committing.
    finishes_file: bool,
}

impl OwnedBatch {
    fn new(plan: usize) -> Self {
        Self {
            plan,
            inserts: Vec::new(),
            updates: Vec::new(),
            quarantine: Vec::new(),
            duplicates: Vec::new(),
            retractions: Vec::new(),
            unchanged: 0,
            rows_committed: 0,
            finishes_file: false,
        }
    }

    /// Rows the batch accounts for.
    fn rows(&self) -> u64 {
        (self.inserts.len()
            + self.updates.len()
            + self.quarantine.len()
            + self.duplicates.len()
            + self.retractions.len()) as u64
            + self.unchanged
    }

    /// Files one row's outcome, classifying events against the stored keys.
    fn add(
        &mut self,
        outcome: RowOutcome,
        keys: &mut KeyMap,
        next_id: &mut i64,
        file_hash: u64,
        source: SourceId,
    ) {
        match outcome {
            RowOutcome::Event(n) => {
                let key_hash = xxh3_64(n.event.id.source_id.as_bytes());
                let here = Origin {
                    file: file_hash,
                    source,
                    row: n.row,
                };
                match classify(keys, next_id, key_hash, &n, here) {
                    Class::Insert(id) => self.inserts.push((n, key_hash, id)),
                    Class::Update(id) => self.updates.push((n, key_hash, id)),
                    Class::Unchanged => self.unchanged += 1,
                    Class::Duplicate { of_source, of_row } => {
                        let detail = if of_source == source {
                            format!(
                                "same record as row {of_row} of this file (id {})",
                                n.event.id.source_id
                            )
                        } else {
                            format!(
                                "same record as row {of_row} of source #{} (id {})",
                                of_source.0, n.event.id.source_id
                            )
                        };
                        self.duplicates.push((
                            Rejection {
                                row: n.row,
                                line: n.line,
                                column: None,
                                reason: ReasonCode::Duplicate,
                                detail,
                                raw: format!("id={}", n.event.id.source_id),
                            },
                            n.retract_key,
                        ));
                    }
                }
            }
            RowOutcome::Retraction(r) => self.retractions.push(r),
            RowOutcome::Rejected(r) => self.quarantine.push(*r),
        }
    }

    /// The store's view of the batch.
    fn view(&self, dataset: DatasetId, source: SourceId) -> Batch<'_> {
        Batch {
            dataset,
            source,
            inserts: self
                .inserts
                .iter()
                .map(|(n, k, id)| event_write(n, *k, *id))
                .collect(),
            updates: self
                .updates
                .iter()
                .map(|(n, k, id)| event_write(n, *k, *id))
                .collect(),
            quarantine: self
                .quarantine
                .iter()
                .map(|r| (r, None))
                .chain(self.duplicates.iter().map(|(r, k)| (r, *k)))
                .map(|(r, retract_key)| QuarantineWrite {
                    row: r.row,
                    line: r.line,
                    column: r.column.as_deref(),
                    reason: r.reason,
                    detail: &r.detail,
                    raw: &r.raw,
                    retract_key,
                })
                .collect(),
            retractions: self
                .retractions
                .iter()
                .map(|r| RetractionWrite {
                    row: r.row,
                    line: r.line,
                    key: r.key,
                    raw: &r.raw,
                })
                .collect(),
            unchanged: self.unchanged,
            rows_committed: self.rows_committed,
        }
    }
}

/// A file registered for loading in this run.
struct FilePlan {
    index: usize,
    path: PathBuf,
    file_name: String,
    file_hash: u64,
    dataset_name: String,
    dataset: DatasetId,
    source: SourceId,
    resume_from: u64,
    layout: Layout,
    /// Column names for a headerless CSV file (the profile's `dataset.csv_columns`).
    csv_columns: Option<Vec<String>>,
}

/// What the reader sends: rows of a file (skipped ones only for counting repeats), or
/// the end of a file.
enum ReadMsg {
    Rows {
        plan: usize,
        rows: Vec<sl_ingest::RawRow>,
        skipped: bool,
    },
    End {
        plan: usize,
    },
    Failed {
        error: EngineError,
    },
}

/// Runs every planned file through one reader → normaliser → writer pipeline, so that
/// the writer commits one file's last batch while the next file is being read.
/// Returns whether the run stopped early on request.
fn run_pipeline<S: Store + Send>(
    store: &mut S,
    plans: &[FilePlan],
    datasets: &mut HashMap<String, (DatasetId, KeyMap)>,
    ctx: &Context,
    opts: &IngestOptions,
    progress: &(dyn Fn(Progress) + Sync),
) -> Result<bool> {
    let batch_rows = opts.batch_rows.max(1);
    let budget = opts.stop_after_batches;
    // Event ids are handed out in file order; batches commit in that order, so after a
    // crash the store's next free id is exactly where the resumed run continues.
    let mut next_id = store.next_event_id()?;
    let (read_tx, read_rx) = bounded::<ReadMsg>(4);
    // Chunks go back to the reader once normalised, so rows and their field buffers
    // are reused instead of allocated for every row.
    let (recycle_tx, recycle_rx) = bounded::<Vec<sl_ingest::RawRow>>(6);
    let (batch_tx, batch_rx) = bounded::<OwnedBatch>(2);
    // Committed batches are freed on their own thread: a batch holds tens of thousands
    // of small allocations, and the writer is the pipeline's bottleneck.
    let (spent_tx, spent_rx) = bounded::<OwnedBatch>(2);
    let of = opts.files.len();
    std::thread::scope(|scope| -> Result<bool> {
        // Reader: decompression and CSV splitting, file after file.
        let reader = std::thread::Builder::new()
            .name("sl-read".into())
            .spawn_scoped(scope, move || {
                for (i, plan) in plans.iter().enumerate() {
                    let mut table = match Table::open_with(
                        &plan.path,
                        Format::from_path(&plan.path),
                        plan.csv_columns.as_deref(),
                    ) {
                        Ok(t) => t,
                        Err(e) => {
                            let _ = read_tx.send(ReadMsg::Failed { error: e.into() });
                            return;
                        }
                    };
                    // Repeated-row numbering counts rows from the top of the file, so
                    // rows skipped on a resume are still sent, marked as skipped.
                    let counts_skipped = plan.layout.numbers_repeated_rows();
                    let mut left = plan.resume_from;
                    if !counts_skipped {
                        table.skip(left);
                        left = 0;
                    }
                    loop {
                        let mut rows = recycle_rx.try_recv().unwrap_or_default();
                        let want = if left > 0 {
                            left.min(CHUNK_ROWS as u64) as usize
                        } else {
                            CHUNK_ROWS
                        };
                        table.read_chunk_into(&mut rows, want);
                        if rows.is_empty() {
                            break;
                        }
                        let skipped = left > 0;
                        left = left.saturating_sub(rows.len() as u64);
                        if read_tx
                            .send(ReadMsg::Rows {
                                plan: i,
                                rows,
                                skipped,
                            })
                            .is_err()
                        {
                            return;
                        }
                    }
                    if read_tx.send(ReadMsg::End { plan: i }).is_err() {
                        return;
                    }
                }
            });
        if let Err(e) = reader {
            return Err(EngineError::Invalid(format!(
                "cannot start the reader thread: {e}"
            )));
        }
        std::thread::Builder::new()
            .name("sl-free".into())
            .spawn_scoped(scope, move || spent_rx.into_iter().for_each(drop))
            .map_err(|e| EngineError::Invalid(format!("cannot start a thread: {e}")))?;
        // Writer: commits batches in order; a batch counts only once committed, and a
        // file is marked complete once its last batch is in.
        let writer = std::thread::Builder::new()
            .name("sl-write".into())
            .spawn_scoped(scope, move || -> Result<bool> {
                let mut batches = 0u64;
                for b in batch_rx {
                    let plan = &plans[b.plan];
                    if b.rows() > 0 {
                        if budget.is_some_and(|budget| batches >= budget) {
                            return Ok(true);
                        }
                        store.commit_batch(&b.view(plan.dataset, plan.source))?;
                        batches += 1;
                        progress(Progress::RowsCommitted {
                            file: plan.file_name.clone(),
                            rows: b.rows_committed,
                        });
                    }
                    if b.finishes_file {
                        store.finish_source(plan.source)?;
                        progress(Progress::FileFinished {
                            file: plan.file_name.clone(),
                            rows: b.rows_committed,
                        });
                    }
                    let _ = spent_tx.send(b);
                }
                Ok(false)
            })
            .map_err(|e| EngineError::Invalid(format!("cannot start the writer thread: {e}")))?;
        // Normalise in parallel, classify in order.
        let mut batch = OwnedBatch::new(0);
        let mut outcomes: Vec<RowOutcome> = Vec::new();
        let mut current: Option<usize> = None;
        let mut rows_done = 0u64;
        let mut pending = 0usize;
        let mut repeats: Option<KeyHashMap128> = None;
        let mut read_error = None;
        'messages: for msg in read_rx {
            let (i, rows, skipped) = match msg {
                ReadMsg::Rows {
                    plan,
                    rows,
                    skipped,
                } => (plan, rows, skipped),
                ReadMsg::End { plan } => {
                    if current != Some(plan) {
                        // A file with no rows to read (empty, or all committed before).
                        batch = OwnedBatch::new(plan);
                        rows_done = plans[plan].resume_from;
                    }
                    batch.rows_committed = rows_done;
                    batch.finishes_file = true;
                    if batch_tx
                        .send(std::mem::replace(&mut batch, OwnedBatch::new(plan)))
                        .is_err()
                    {
                        break 'messages;
                    }
                    pending = 0;
                    current = None;
                    continue;
                }
                ReadMsg::Failed { error } => {
                    read_error = Some(error);
                    break 'messages;
                }
            };
            let plan = &plans[i];
            if current != Some(i) {
                current = Some(i);
                rows_done = plan.resume_from;
                batch = OwnedBatch::new(i);
                repeats = plan
                    .layout
                    .numbers_repeated_rows()
                    .then(KeyHashMap128::default);
                progress(Progress::FileStarted {
                    file: plan.file_name.clone(),
                    index: plan.index,
                    of,
                    resume_from: plan.resume_from,
                });
            }
            if skipped {
                if let Some(counts) = repeats.as_mut() {
                    for raw in &rows {
                        *counts.entry(plan.layout.repeat_key(raw)).or_default() += 1;
                    }
                }
                let _ = recycle_tx.try_send(rows);
                continue;
            }
            let keys = &mut datasets
                .get_mut(&plan.dataset_name)
                .expect("planned dataset")
                .1;
            rows.par_iter()
                .map(|raw| plan.layout.normalise(ctx, raw))
                .collect_into_vec(&mut outcomes);
            let copies: Vec<u32> = match repeats.as_mut() {
                Some(counts) => rows
                    .iter()
                    .map(|raw| {
                        let n = counts.entry(plan.layout.repeat_key(raw)).or_default();
                        *n += 1;
                        *n
                    })
                    .collect(),
                None => Vec::new(),
            };
            for (k, mut outcome) in outcomes.drain(..).enumerate() {
                if let (Some(&copy), RowOutcome::Event(n)) = (copies.get(k), &mut outcome)
                    && copy > 1
                {
                    n.event.id.source_id.push_str(&format!("#{copy}"));
                }
                rows_done += 1;
                pending += 1;
                batch.add(outcome, keys, &mut next_id, plan.file_hash, plan.source);
                if pending >= batch_rows {
                    batch.rows_committed = rows_done;
                    if batch_tx
                        .send(std::mem::replace(&mut batch, OwnedBatch::new(i)))
                        .is_err()
                    {
                        break 'messages;
                    }
                    pending = 0;
                }
            }
            let _ = recycle_tx.try_send(rows);
        }
        drop(batch_tx);
        let stopped = writer.join().expect("writer thread panicked")?;
        if let Some(e) = read_error {
            return Err(e);
        }
        Ok(stopped)
    })
}

fn event_write(n: &Normalised, key_hash: u64, event_id: i64) -> EventWrite<'_> {
    EventWrite {
        event_id,
        event: &n.event,
        key_hash,
        content_hash: n.content_hash,
        retract_key: n.retract_key,
        offence_key: n.offence_key,
        origin_row: n.row,
    }
}

/// New, revision, re-read of the same row, or duplicate of another row.
fn classify(
    keys: &mut KeyMap,
    next_id: &mut i64,
    key_hash: u64,
    n: &Normalised,
    here: Origin,
) -> Class {
    match keys.map.get(&key_hash).copied() {
        None => {
            let id = *next_id;
            *next_id += 1;
            keys.map.insert(key_hash, (n.content_hash, here, id));
            Class::Insert(id)
        }
        Some((content, o, id)) if o.file == here.file && o.row == here.row => {
            // The very row that stored this event (the same file re-read under a revised
            // profile): replace when the content changed, otherwise nothing to do.
            if content == n.content_hash {
                Class::Unchanged
            } else {
                keys.map.insert(key_hash, (n.content_hash, here, id));
                Class::Update(id)
            }
        }
        Some((content, o, _)) if content == n.content_hash => Class::Duplicate {
            of_source: o.source,
            of_row: o.row,
        },
        Some((_, _, id)) => {
            keys.map.insert(key_hash, (n.content_hash, here, id));
            Class::Update(id)
        }
    }
}
