//! End-to-end tests of the `streetlight` binary on the real datasets in `shared/data`:
//!
//! - crash safety: loads SIGKILLed at pseudo-random moments, then resumed, end up exactly
//!   where an uninterrupted load does, and the store is consistent after every kill;
//! - idempotence: loading a file again changes nothing;
//! - the `ingest --json` contract on one file of every dataset (and header variant);
//! - error messages for the usual mistakes.
//!
//! Every command runs with the repository root as its current directory, so profiles are
//! found by name under `profiles/`.
//!
//! The kill moments come from a fixed seed per scenario; set `STREETLIGHT_CRASH_SEED=<n>`
//! to replay a failure (the seed is in every failure message) or to explore other
//! schedules. Random kills find a non-atomic batch only when one lands in its window, so
//! a pass is evidence, not proof; a resume that re-reads or skips rows fails every time.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

// ---------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------

/// The repository root (profiles/ lives there).
fn repo_root() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    root.canonicalize()
        .unwrap_or_else(|e| panic!("repository root {}: {e}", root.display()))
}

/// The shared real datasets, `<repo>/../shared/data`. Missing data is a failure, not a skip.
fn data_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data");
    assert!(
        dir.is_dir(),
        "the real datasets were not found at {}: these tests need shared/data beside the \
         repository (CI copies it to ../shared/data; on a developer machine it is /work/shared/data)",
        dir.display()
    );
    dir
}

/// A file under `shared/data`, which must exist.
fn data(rel: &str) -> PathBuf {
    let p = data_dir().join(rel);
    assert!(p.is_file(), "data file {} is missing", p.display());
    p
}

/// `streetlight` with the repository root as current directory and no ambient settings.
fn streetlight() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_streetlight"));
    c.current_dir(repo_root())
        .env_remove("STREETLIGHT_DB")
        .env_remove("STREETLIGHT_PROFILES")
        .stdin(Stdio::null());
    c
}

fn describe(cmd: &Command) -> String {
    let args: Vec<String> = cmd
        .get_args()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    format!("streetlight {}", args.join(" "))
}

/// Runs a command and returns its output whatever the exit status.
fn run(cmd: &mut Command) -> Output {
    cmd.output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", describe(cmd)))
}

/// Runs a command that must succeed and print JSON on stdout.
fn run_json(cmd: &mut Command) -> Value {
    let out = run(cmd);
    assert!(
        out.status.success(),
        "{} failed with {}\nstderr:\n{}",
        describe(cmd),
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{} printed no JSON ({e}):\n{}",
            describe(cmd),
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

fn ingest_cmd(db: &Path, profile: &str, files: &[PathBuf], batch_rows: Option<usize>) -> Command {
    let mut c = streetlight();
    c.arg("ingest")
        .arg("--db")
        .arg(db)
        .arg("--profile")
        .arg(profile)
        .arg("--json")
        .arg("--quiet");
    if let Some(n) = batch_rows {
        c.arg("--batch-rows").arg(n.to_string());
    }
    c.args(files);
    c
}

fn ingest(db: &Path, profile: &str, files: &[PathBuf], batch_rows: Option<usize>) -> Value {
    run_json(&mut ingest_cmd(db, profile, files, batch_rows))
}

fn datasets(db: &Path) -> Value {
    run_json(
        streetlight()
            .arg("datasets")
            .arg("--db")
            .arg(db)
            .arg("--json"),
    )
}

/// `streetlight check --json` must report SQLite's `ok` and no invariant problem.
fn assert_check_ok(db: &Path, context: &str) {
    let out = run(streetlight().arg("check").arg("--db").arg(db).arg("--json"));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{context}: check failed with {}\nstdout:\n{stdout}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("{context}: check printed no JSON ({e}): {stdout}"));
    assert_eq!(v["ok"], Value::Bool(true), "{context}: {v:#}");
    assert_eq!(v["sqlite"], serde_json::json!(["ok"]), "{context}: {v:#}");
    assert_eq!(v["problems"], serde_json::json!([]), "{context}: {v:#}");
}

fn u64_of(v: &Value, field: &str) -> u64 {
    v[field]
        .as_u64()
        .unwrap_or_else(|| panic!("`{field}` is not a non-negative integer in {v:#}"))
}

/// The outcome counts of an ingest result (top level or one file), in a comparable form.
const COUNT_FIELDS: [&str; 8] = [
    "rows_read",
    "accepted",
    "inserted",
    "updated",
    "unchanged",
    "duplicates",
    "retracted",
    "quarantined",
];

fn counts(v: &Value) -> BTreeMap<&'static str, Value> {
    COUNT_FIELDS.iter().map(|f| (*f, v[*f].clone())).collect()
}

/// Per file (by path) counts, plus the totals under the key "".
fn all_counts(report: &Value) -> BTreeMap<String, BTreeMap<&'static str, Value>> {
    let mut m = BTreeMap::new();
    m.insert(String::new(), counts(report));
    for f in report["files"].as_array().expect("files array") {
        m.insert(f["path"].as_str().expect("path").to_string(), counts(f));
    }
    m
}

/// Asserts the ingest JSON contract on one counts object (the totals or one file).
fn assert_balanced(v: &Value, context: &str) {
    for f in [
        "rows_read",
        "accepted",
        "duplicates",
        "retracted",
        "quarantined",
    ] {
        assert!(!v[f].is_null(), "{context}: `{f}` missing in {v:#}");
    }
    let q = v["quarantined"]
        .as_object()
        .unwrap_or_else(|| panic!("{context}: `quarantined` is not an object: {v:#}"));
    let mut q_sum = 0;
    for (reason, n) in q {
        assert!(
            !reason.is_empty()
                && reason
                    .chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_'),
            "{context}: `{reason}` does not look like a reason code"
        );
        let n = n
            .as_u64()
            .unwrap_or_else(|| panic!("{context}: quarantined.{reason} is not a count"));
        assert!(
            n > 0,
            "{context}: quarantined.{reason} is listed with 0 rows"
        );
        q_sum += n;
    }
    let rows = u64_of(v, "rows_read");
    let (acc, dup, ret) = (
        u64_of(v, "accepted"),
        u64_of(v, "duplicates"),
        u64_of(v, "retracted"),
    );
    assert_eq!(
        rows,
        acc + q_sum + dup + ret,
        "{context}: rows_read != accepted + quarantined + duplicates + retracted in {v:#}"
    );
    assert_eq!(u64_of(v, "quarantined_total"), q_sum, "{context}");
    assert_eq!(
        acc,
        u64_of(v, "inserted") + u64_of(v, "updated") + u64_of(v, "unchanged"),
        "{context}"
    );
    assert_eq!(v["balanced"], Value::Bool(true), "{context}");
}

/// An export with `--include-retracted`, as (header, sorted rows), each record re-written
/// as CSV without its first column (`id`, the internal row id).
fn export_without_ids(db: &Path, dataset: &str, out: &Path) -> (String, Vec<String>) {
    run_json(
        streetlight()
            .arg("export")
            .arg("--db")
            .arg(db)
            .arg("--dataset")
            .arg(dataset)
            .arg("--output")
            .arg(out)
            .arg("--include-retracted")
            .arg("--json"),
    );
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_path(out)
        .unwrap_or_else(|e| panic!("reading export {}: {e}", out.display()));
    let mut lines = Vec::new();
    for rec in reader.byte_records() {
        let rec = rec.unwrap_or_else(|e| panic!("export {} is not CSV: {e}", out.display()));
        let mut w = csv::Writer::from_writer(Vec::new());
        w.write_record(rec.iter().skip(1)).expect("re-write record");
        let bytes = w.into_inner().expect("flush record");
        lines.push(String::from_utf8_lossy(&bytes).into_owned());
    }
    assert!(!lines.is_empty(), "export {} has no header", out.display());
    let header = lines.remove(0);
    assert!(
        header.starts_with("source_id,"),
        "unexpected export header (was `id` still the first column?): {header}"
    );
    lines.sort();
    (header, lines)
}

/// Asserts two sorted line lists are equal, showing the first differences only.
fn assert_same_lines(a: &[String], b: &[String], context: &str) {
    if a == b {
        return;
    }
    let only_a: Vec<&String> = a.iter().filter(|l| b.binary_search(l).is_err()).collect();
    let only_b: Vec<&String> = b.iter().filter(|l| a.binary_search(l).is_err()).collect();
    panic!(
        "{context}: exports differ ({} vs {} rows); {} rows only in the first, e.g. {:?}; {} only in the second, e.g. {:?}",
        a.len(),
        b.len(),
        only_a.len(),
        only_a.iter().take(3).collect::<Vec<_>>(),
        only_b.len(),
        only_b.iter().take(3).collect::<Vec<_>>()
    );
}

/// xorshift64: a tiny seeded generator, so a failing kill schedule can be replayed.
struct XorShift(u64);

impl XorShift {
    fn new(seed: u64) -> Self {
        Self(seed.max(1))
    }

    fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .expect("file name")
        .to_string_lossy()
        .into_owned()
}

// ---------------------------------------------------------------------------------------
// a. Crash safety
// ---------------------------------------------------------------------------------------

/// Rows per committed batch in the crash tests: small, so a load takes long enough to be
/// killed in the middle of many batches.
const BATCH: usize = 500;

struct CrashScenario {
    label: &'static str,
    profile: &'static str,
    files: Vec<PathBuf>,
    min_kills: usize,
    seed: u64,
}

/// The seed: `STREETLIGHT_CRASH_SEED` when set (to replay or explore), else the scenario's.
fn seed_for(s: &CrashScenario) -> u64 {
    std::env::var("STREETLIGHT_CRASH_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(s.seed)
}

/// The reference: an uninterrupted load into a fresh DB, timed, then re-run.
struct Reference {
    duration: Duration,
    first: Value,
    rerun: Value,
    full_rows: HashMap<String, u64>,
    exports: BTreeMap<String, (String, Vec<String>)>,
}

fn reference(s: &CrashScenario, dir: &Path) -> Reference {
    let db = dir.join("reference.db");
    let t0 = Instant::now();
    let first = ingest(&db, s.profile, &s.files, Some(BATCH));
    let duration = t0.elapsed();
    assert_eq!(first["interrupted"], Value::Bool(false));
    assert_balanced(&first, &format!("{} reference", s.label));
    let mut full_rows = HashMap::new();
    for f in first["files"].as_array().expect("files") {
        let name = file_name(Path::new(f["path"].as_str().expect("path")));
        full_rows.insert(name, u64_of(f, "rows_read"));
    }
    assert_eq!(full_rows.len(), s.files.len(), "one result per file");
    let rerun = ingest(&db, s.profile, &s.files, Some(BATCH));
    assert_check_ok(&db, &format!("{} reference", s.label));
    let mut exports = BTreeMap::new();
    for d in datasets(&db).as_array().expect("datasets array") {
        let name = d["name"].as_str().expect("name").to_string();
        let out = dir.join(format!("reference-{name}.csv"));
        exports.insert(name.clone(), export_without_ids(&db, &name, &out));
    }
    Reference {
        duration,
        first,
        rerun,
        full_rows,
        exports,
    }
}

/// What must hold after any kill: SQLite and the store's invariants are fine, every source
/// holds whole batches only (or the whole file), and committed rows never go backwards.
fn after_kill(db: &Path, r: &Reference, committed_before: &mut u64, context: &str) {
    if !db.exists() {
        // Killed before the database file was even created.
        assert_eq!(*committed_before, 0, "{context}: the database vanished");
        return;
    }
    assert_check_ok(db, context);
    let mut committed = 0;
    for d in datasets(db).as_array().expect("datasets array") {
        for s in d["sources"].as_array().expect("sources array") {
            let name = s["file_name"].as_str().expect("file_name");
            let full = *r
                .full_rows
                .get(name)
                .unwrap_or_else(|| panic!("{context}: unexpected source {name}"));
            let rows = u64_of(s, "rows");
            assert!(
                rows.is_multiple_of(BATCH as u64) || rows == full,
                "{context}: {name} holds {rows} rows: neither whole batches of {BATCH} nor the whole file ({full}): a partial batch was committed"
            );
            assert!(
                rows <= full,
                "{context}: {name} holds {rows} rows of {full}"
            );
            if s["complete"] == Value::Bool(true) {
                assert_eq!(rows, full, "{context}: {name} is complete with {rows} rows");
            }
            committed += rows;
        }
    }
    assert!(
        committed >= *committed_before,
        "{context}: committed rows went back from {} to {committed}",
        *committed_before
    );
    *committed_before = committed;
}

/// A DB whose load finished (after any number of kills) must equal the reference.
fn assert_like_reference(
    db: &Path,
    dir: &Path,
    s: &CrashScenario,
    r: &Reference,
    last: &Value,
    context: &str,
) {
    assert_eq!(last["interrupted"], Value::Bool(false), "{context}");
    assert_balanced(last, context);
    assert_eq!(
        counts(last),
        counts(&r.first),
        "{context}: the completing run's totals differ from an uninterrupted load"
    );
    assert_check_ok(db, context);
    let rerun = ingest(db, s.profile, &s.files, Some(BATCH));
    for f in rerun["files"].as_array().expect("files") {
        assert_eq!(f["already_loaded"], Value::Bool(true), "{context}: {f:#}");
    }
    assert_eq!(
        all_counts(&rerun),
        all_counts(&r.rerun),
        "{context}: re-run counts differ from the reference's re-run"
    );
    let names: Vec<String> = datasets(db)
        .as_array()
        .expect("datasets array")
        .iter()
        .map(|d| d["name"].as_str().expect("name").to_string())
        .collect();
    assert_eq!(
        names,
        r.exports.keys().cloned().collect::<Vec<_>>(),
        "{context}: datasets"
    );
    for (name, (ref_header, ref_rows)) in &r.exports {
        let out = dir.join(format!("export-{name}.csv"));
        let (header, rows) = export_without_ids(db, name, &out);
        assert_eq!(&header, ref_header, "{context}: export header");
        assert_same_lines(&rows, ref_rows, &format!("{context}: dataset {name}"));
    }
}

/// Kills per chain before the chain's load is let finish.
const KILLS_PER_CHAIN: usize = 5;

/// Kills loads of `s` at seeded random moments, in chains on fresh DBs: kill, check,
/// restart, kill again ... until a run completes on its own or the chain has had
/// `KILLS_PER_CHAIN` kills (then one last uninterrupted run finishes it). Each finished
/// chain must equal the reference.
///
/// Each delay is uniform over the part of the load still to do, estimated from the
/// reference duration and the rows already committed, plus 10% of the full duration so
/// that start-up, the last file's completion and retraction matching are hit too.
fn crash_chains(s: &CrashScenario) {
    let started = Instant::now();
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    let r = reference(s, dir);
    let total_rows: u64 = r.full_rows.values().sum();
    let seed = seed_for(s);
    let mut rng = XorShift::new(seed);
    let (mut kills, mut chains, mut runs, mut finished_alone) = (0usize, 0usize, 0usize, 0usize);
    // The load's duration as the delays assume it: the reference's, shrunk whenever a run
    // finishes before its kill (the reference may have run on a busier machine).
    let mut estimate = r.duration;
    while kills < s.min_kills {
        chains += 1;
        let db = dir.join(format!("chain-{chains}.db"));
        let mut committed = 0u64;
        let mut chain_kills = 0;
        let mut completed: Option<Value> = None;
        while chain_kills < KILLS_PER_CHAIN && kills < s.min_kills {
            runs += 1;
            assert!(
                runs <= 20 * s.min_kills,
                "{}: {runs} runs for {kills} kills: the loads finish before the kills",
                s.label
            );
            let left = 1.0 - committed as f64 / total_rows as f64;
            let window = estimate.mul_f64((left + 0.1).min(1.1));
            let delay = window.mul_f64(rng.unit());
            let context = format!(
                "{} seed {seed} chain {chains} run {runs} (kill #{} after {delay:?}, {committed} of {total_rows} rows committed, load estimated at {estimate:?})",
                s.label,
                kills + 1
            );
            let mut child = ingest_cmd(&db, s.profile, &s.files, Some(BATCH))
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap_or_else(|e| panic!("{context}: cannot start streetlight: {e}"));
            std::thread::sleep(delay);
            // SIGKILL on Unix; harmless if the process has already exited.
            if let Err(e) = child.kill() {
                panic!("{context}: kill failed: {e}");
            }
            let out = child
                .wait_with_output()
                .unwrap_or_else(|e| panic!("{context}: wait failed: {e}"));
            if was_killed(&out) {
                kills += 1;
                chain_kills += 1;
                after_kill(&db, &r, &mut committed, &context);
            } else {
                assert!(
                    out.status.success(),
                    "{context}: the load failed on its own with {}:\n{}",
                    out.status,
                    String::from_utf8_lossy(&out.stderr)
                );
                let v: Value = serde_json::from_slice(&out.stdout)
                    .unwrap_or_else(|e| panic!("{context}: no JSON from a finished load ({e})"));
                finished_alone += 1;
                if delay < estimate.mul_f64(left) {
                    // It did what should have taken longer: the estimate is too high.
                    estimate = estimate.mul_f64(0.8);
                }
                completed = Some(v);
                break;
            }
        }
        let last = match completed {
            Some(v) => v,
            None => ingest(&db, s.profile, &s.files, Some(BATCH)),
        };
        assert_like_reference(
            &db,
            dir,
            s,
            &r,
            &last,
            &format!("{} seed {seed} chain {chains}", s.label),
        );
    }
    eprintln!(
        "{}: {kills} kills in {chains} chains ({runs} runs, {finished_alone} finished before their kill), seed {seed}, uninterrupted load {:?} (final estimate {estimate:?}), test {:?}",
        s.label,
        r.duration,
        started.elapsed()
    );
    assert!(kills >= s.min_kills);
}

#[cfg(unix)]
fn was_killed(out: &Output) -> bool {
    use std::os::unix::process::ExitStatusExt;
    out.status.signal() == Some(9)
}

#[cfg(not(unix))]
fn was_killed(out: &Output) -> bool {
    // Child::kill is TerminateProcess there: exit code 1, like an error exit; tell them
    // apart by the missing JSON result.
    !out.status.success() && out.stdout.is_empty()
}

/// Two Vancouver years: two files, so kills also land between files and while the first
/// file is being marked complete. With the St. Louis test: 50 kills in all.
#[test]
fn crash_safety_vancouver_two_years() {
    let s = CrashScenario {
        label: "vancouver-vpd 2020+2021",
        profile: "vancouver-vpd",
        files: vec![
            data("vancouver-vpd/raw/crimedata_csv_AllNeighbourhoods_2020.csv.gz"),
            data("vancouver-vpd/raw/crimedata_csv_AllNeighbourhoods_2021.csv.gz"),
        ],
        min_kills: 20,
        seed: 0x5EED_0001,
    };
    crash_chains(&s);
}

/// Four St. Louis months: `Count = -1` retraction rows matched across files, so kills land
/// during retraction reconciliation too.
#[test]
fn crash_safety_stlouis_months_with_retractions() {
    let s = CrashScenario {
        label: "stlouis-slmpd 2014-11..2015-02",
        profile: "stlouis-slmpd",
        files: vec![
            data("stlouis-slmpd/raw/2014/november2014.csv.gz"),
            data("stlouis-slmpd/raw/2014/december2014.csv.gz"),
            data("stlouis-slmpd/raw/2015/january2015.csv.gz"),
            data("stlouis-slmpd/raw/2015/february2015.csv.gz"),
        ],
        min_kills: 30,
        seed: 0x5EED_0002,
    };
    crash_chains(&s);
}

// ---------------------------------------------------------------------------------------
// b. Idempotence
// ---------------------------------------------------------------------------------------

/// What `datasets --json` says about the stored data (not about when it was looked at).
fn stored_state(db: &Path) -> Vec<Value> {
    datasets(db)
        .as_array()
        .expect("datasets array")
        .iter()
        .map(|d| {
            serde_json::json!({
                "name": d["name"],
                "events": d["events"],
                "retracted_events": d["retracted_events"],
                "quarantined": d["quarantined"],
                "duplicates": d["duplicates"],
                "sources": d["sources"],
            })
        })
        .collect()
}

#[test]
fn loading_the_same_file_again_changes_nothing() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let db = tmp.path().join("idem.db");
    let file = data("stlouis-slmpd/raw/2015/january2015.csv.gz");
    let first = ingest(&db, "stlouis-slmpd", std::slice::from_ref(&file), None);
    assert_eq!(first["files"][0]["already_loaded"], Value::Bool(false));
    assert!(u64_of(&first, "rows_read") > 0);
    let before = stored_state(&db);

    let second = ingest(&db, "stlouis-slmpd", std::slice::from_ref(&file), None);
    assert_eq!(
        second["files"][0]["already_loaded"],
        Value::Bool(true),
        "{second:#}"
    );
    assert_eq!(second["files"][0]["resumed_from"], serde_json::json!(0));
    assert_eq!(all_counts(&second), all_counts(&first));
    assert_eq!(
        stored_state(&db),
        before,
        "datasets changed on a second load"
    );

    // The same bytes under another name and folder are the same source. (Outside the data
    // tree the profile's relative boundary path cannot be found, so it is given.)
    let copy = tmp.path().join("renamed.csv.gz");
    std::fs::copy(&file, &copy).expect("copy");
    let mut cmd = ingest_cmd(&db, "stlouis-slmpd", std::slice::from_ref(&copy), None);
    cmd.arg("--boundary")
        .arg(data("stlouis-slmpd/boundaries/stl_neighborhoods.geojson"));
    let third = run_json(&mut cmd);
    assert_eq!(
        third["files"][0]["already_loaded"],
        Value::Bool(true),
        "{third:#}"
    );
    assert_eq!(counts(&third), counts(&first));
    assert_eq!(stored_state(&db), before);
    assert_check_ok(&db, "idempotence");
}

// ---------------------------------------------------------------------------------------
// c. The ingest JSON contract, on one file of every dataset
// ---------------------------------------------------------------------------------------

/// Loads one file into a fresh DB and checks the JSON contract: the fields are there,
/// `rows_read = accepted + Σ quarantined + duplicates + retracted` (totals and per file),
/// every data row of the file is read, and `datasets` agrees with the counts.
fn contract(profile: &str, rel: &str, data_rows: u64, dataset: &str) -> Value {
    let tmp = tempfile::tempdir().expect("tempdir");
    let db = tmp.path().join("contract.db");
    let file = data(rel);
    let v = ingest(&db, profile, std::slice::from_ref(&file), None);
    let context = format!("{profile} {rel}");
    assert_eq!(v["profile"], Value::from(profile), "{context}");
    assert_eq!(v["interrupted"], Value::Bool(false), "{context}");
    assert_balanced(&v, &context);
    let files = v["files"].as_array().expect("files array");
    assert_eq!(files.len(), 1, "{context}");
    let f = &files[0];
    assert_balanced(f, &format!("{context} (file entry)"));
    assert_eq!(counts(f), counts(&v), "{context}: one file, totals = file");
    assert_eq!(f["dataset"], Value::from(dataset), "{context}");
    assert_eq!(f["already_loaded"], Value::Bool(false), "{context}");
    assert_eq!(
        u64_of(&v, "rows_read"),
        data_rows,
        "{context}: rows_read is not the file's number of data rows"
    );
    assert!(u64_of(&v, "accepted") > 0, "{context}: nothing accepted");

    // The registry says the same thing.
    let ds = datasets(&db);
    let d = ds
        .as_array()
        .expect("datasets array")
        .iter()
        .find(|d| d["name"] == dataset)
        .unwrap_or_else(|| panic!("{context}: dataset {dataset} not listed: {ds:#}"));
    assert_eq!(
        u64_of(d, "events") + u64_of(d, "retracted_events"),
        u64_of(&v, "inserted"),
        "{context}: stored events"
    );
    assert_eq!(
        u64_of(d, "retracted_events"),
        u64_of(&v, "retracted"),
        "{context}"
    );
    // docs/CLI.md: `datasets` `quarantined` has the meaning of ingest's
    // `quarantined_total` (duplicates not included) and `duplicates` is separate.
    assert_eq!(
        u64_of(d, "quarantined"),
        u64_of(&v, "quarantined_total"),
        "{context}: stored quarantine"
    );
    assert_eq!(
        u64_of(d, "duplicates"),
        u64_of(&v, "duplicates"),
        "{context}: stored duplicates"
    );
    assert_eq!(d["sources"][0]["rows"], Value::from(data_rows), "{context}");
    assert_eq!(d["sources"][0]["complete"], Value::Bool(true), "{context}");
    assert_check_ok(&db, &context);
    v
}

// Data-row counts: the per-file figures in each folder's SOURCE.md where it gives them;
// St. Louis months counted with Python's csv module (records after the header).

#[test]
fn contract_vancouver_2020() {
    contract(
        "vancouver-vpd",
        "vancouver-vpd/raw/crimedata_csv_AllNeighbourhoods_2020.csv.gz",
        37511,
        "vancouver-vpd",
    );
}

#[test]
fn contract_stlouis_header_variant_1_january_2010() {
    contract(
        "stlouis-slmpd",
        "stlouis-slmpd/raw/2010/january2010.csv.gz",
        4179,
        "stlouis-slmpd",
    );
}

#[test]
fn contract_stlouis_header_variant_2_january_2015() {
    let v = contract(
        "stlouis-slmpd",
        "stlouis-slmpd/raw/2015/january2015.csv.gz",
        3983,
        "stlouis-slmpd",
    );
    assert!(
        u64_of(&v, "retracted") > 0,
        "January 2015 has Count=-1 rows matching originals in the same file"
    );
}

#[test]
fn contract_stlouis_header_variant_3_may_2017() {
    contract(
        "stlouis-slmpd",
        "stlouis-slmpd/raw/2017/may2017.csv.gz",
        4548,
        "stlouis-slmpd",
    );
}

/// 161,442 rows: about 1.6 s in release, 4.5 s in debug, so it stays in.
#[test]
fn contract_philadelphia_2019() {
    contract(
        "philadelphia-ppd",
        "philadelphia-ppd/raw/incidents_2019.csv.zst",
        161442,
        "philadelphia-ppd",
    );
}

#[test]
fn contract_portland_nij_august_2016() {
    contract(
        "portland-nij-cfs",
        "portland-nij-cfs/NIJ2016_AUG01_AUG31.csv.gz",
        19376,
        "portland-nij-cfs",
    );
}

#[test]
fn contract_portland_chirico_burglary_extract() {
    contract(
        "portland-nij-cfs",
        "portland-nij-cfs/chirico-subsets/crimes_bur.csv",
        5364,
        "portland-nij-burglary",
    );
}

// ---------------------------------------------------------------------------------------
// d. Error messages
// ---------------------------------------------------------------------------------------

/// Runs a command that must fail; returns its stderr.
fn failing(cmd: &mut Command) -> String {
    let out = run(cmd);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        !out.status.success(),
        "{} should have failed; stdout:\n{}",
        describe(cmd),
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(
        stderr.starts_with("error: "),
        "{}: expected `error: ...` on stderr, got:\n{stderr}",
        describe(cmd)
    );
    stderr
}

#[test]
fn error_unknown_profile_says_where_it_looked_and_what_to_pass() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let db = tmp.path().join("e.db");
    let file = data("stlouis-slmpd/raw/2015/january2015.csv.gz");
    let err = failing(&mut ingest_cmd(&db, "no-such-city", &[file], None));
    assert!(err.contains("`no-such-city`"), "{err}");
    assert!(err.contains("not found"), "{err}");
    assert!(
        err.contains("profiles/no-such-city.toml"),
        "should say where it looked: {err}"
    );
    assert!(
        err.contains("pass a path to a .toml file or a name under profiles/"),
        "should say what to do: {err}"
    );
    assert!(
        !db.exists(),
        "a failed profile lookup should not create the database"
    );
}

#[test]
fn error_missing_input_file_names_it_and_says_what_to_do() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let db = tmp.path().join("e.db");
    let missing = tmp.path().join("no-such-file.csv.gz");
    let err = failing(&mut ingest_cmd(
        &db,
        "stlouis-slmpd",
        std::slice::from_ref(&missing),
        None,
    ));
    assert!(
        err.contains(&missing.display().to_string()),
        "should name the file: {err}"
    );
    assert!(err.contains("does not exist"), "{err}");
    assert!(
        err.contains("check the path"),
        "should tell the user what to do, got: {err}"
    );
}

#[test]
fn error_file_without_a_required_column_names_it_and_says_what_to_do() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let db = tmp.path().join("e.db");
    // A Vancouver export with the offence column (`TYPE`) left out.
    let file = tmp.path().join("no_type_column.csv");
    std::fs::write(
        &file,
        "YEAR,MONTH,DAY,HOUR,MINUTE,HUNDRED_BLOCK,NEIGHBOURHOOD,X,Y\n\
         2021,1,1,12,0,10XX PACIFIC ST,West End,490474.1857,5458452.4577\n",
    )
    .expect("write csv");
    let err = failing(&mut ingest_cmd(
        &db,
        "vancouver-vpd",
        std::slice::from_ref(&file),
        None,
    ));
    assert!(
        err.contains("no_type_column.csv"),
        "should name the file: {err}"
    );
    assert!(
        err.contains("offence code"),
        "should say what is missing: {err}"
    );
    assert!(
        err.contains("TYPE"),
        "should say which column it looked for: {err}"
    );
    assert!(
        err.contains("YEAR,MONTH,DAY"),
        "should show the file's header: {err}"
    );
    assert!(
        err.contains("Add the file's column name to the profile"),
        "should say what to do: {err}"
    );
    // Nothing was loaded and the store is still consistent.
    assert_check_ok(&db, "after a rejected file");
    for d in datasets(&db).as_array().expect("datasets array") {
        assert_eq!(u64_of(d, "events"), 0, "{d:#}");
    }
}

mod accounts;
mod context_layers;
mod risk_layers;
mod toolbox;
