//! Rendering engine results as JSON (stable field names, documented in docs/CLI.md)
//! and as text for people.

use std::fmt::Write;

use serde_json::{Value, json};
use sl_engine::export::{ExportFormat, ExportSummary};
use sl_engine::ingest::{Counts, IngestReport};
use sl_engine::quality::QualityReport;
use sl_engine::{DatasetInfo, QuarantinedRow, SourceInfo};

fn counts_json(c: &Counts) -> serde_json::Map<String, Value> {
    let mut m = serde_json::Map::new();
    m.insert("rows_read".into(), json!(c.rows_read));
    m.insert("accepted".into(), json!(c.accepted));
    m.insert("inserted".into(), json!(c.inserted));
    m.insert("updated".into(), json!(c.updated));
    m.insert("unchanged".into(), json!(c.unchanged));
    m.insert("duplicates".into(), json!(c.duplicates));
    m.insert("retracted".into(), json!(c.retracted));
    m.insert("quarantined".into(), json!(c.quarantined));
    m.insert("quarantined_total".into(), json!(c.quarantined_total()));
    m.insert("balanced".into(), json!(c.balanced()));
    m
}

pub fn ingest_json(r: &IngestReport) -> Value {
    let mut top = counts_json(&r.totals);
    top.insert("profile".into(), json!(r.profile));
    top.insert("interrupted".into(), json!(r.interrupted));
    let files: Vec<Value> = r
        .files
        .iter()
        .map(|f| {
            let mut m = counts_json(&f.counts);
            m.insert("path".into(), json!(f.path));
            m.insert("dataset".into(), json!(f.dataset));
            m.insert("sha256".into(), json!(f.sha256));
            m.insert("already_loaded".into(), json!(f.already_loaded));
            m.insert("resumed_from".into(), json!(f.resumed_from));
            Value::Object(m)
        })
        .collect();
    top.insert("files".into(), json!(files));
    Value::Object(top)
}

pub fn ingest_text(r: &IngestReport) -> String {
    let mut s = String::new();
    let t = &r.totals;
    let skipped = r.files.iter().filter(|f| f.already_loaded).count();
    let _ = writeln!(
        s,
        "profile {}: {} file(s), {} already loaded",
        r.profile,
        r.files.len(),
        skipped
    );
    let _ = writeln!(s, "  rows read     {:>10}", t.rows_read);
    let _ = writeln!(
        s,
        "  accepted      {:>10}  ({} new, {} revised, {} unchanged)",
        t.accepted, t.inserted, t.updated, t.unchanged
    );
    let _ = writeln!(s, "  duplicates    {:>10}", t.duplicates);
    let _ = writeln!(
        s,
        "  retracted     {:>10}  (retraction rows matched to their original)",
        t.retracted
    );
    let _ = writeln!(s, "  quarantined   {:>10}", t.quarantined_total());
    for (code, n) in &t.quarantined {
        let _ = writeln!(s, "    {code:<28} {n:>8}");
    }
    if !t.balanced() {
        let _ = writeln!(
            s,
            "WARNING: counts do not add up to rows read; run `streetlight check`"
        );
    }
    if r.interrupted {
        let _ = writeln!(
            s,
            "stopped early: run the same command again to finish the load"
        );
    }
    s
}

pub fn quality_text(q: &QualityReport, rows: &[QuarantinedRow]) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "Data quality: {} ({})", q.dataset, q.time_zone);
    let _ = writeln!(
        s,
        "  {} events, {} retracted; occurrences {} .. {}",
        q.events,
        q.retracted_events,
        q.first_occurrence.as_deref().unwrap_or("-"),
        q.last_occurrence.as_deref().unwrap_or("-")
    );
    let _ = writeln!(s, "\nRows set aside, by reason");
    if q.reasons.is_empty() {
        let _ = writeln!(s, "  none");
    }
    for r in &q.reasons {
        let _ = writeln!(s, "  {:<28} {:>8}  {}", r.code, r.count, r.explanation);
    }
    let _ = writeln!(
        s,
        "\nRetractions: {} matched to their original, {} without an original",
        q.retractions_matched, q.retractions_unmatched
    );
    let _ = writeln!(s, "Duplicates: {}", q.duplicates);
    // Years holding under 1% of events (typically late reports of old crimes) are
    // merged into one "earlier" column here; the JSON keeps every year.
    let total: u64 = q.by_year.values().flat_map(|m| m.values()).sum();
    let main_years: Vec<i32> = q
        .by_year
        .iter()
        .filter(|(_, m)| m.values().sum::<u64>() * 100 >= total)
        .map(|(y, _)| *y)
        .collect();
    let first_main = main_years.first().copied().unwrap_or(i32::MAX);
    let minor: Vec<&std::collections::BTreeMap<String, u64>> = q
        .by_year
        .iter()
        .filter(|(y, _)| !main_years.contains(y))
        .map(|(_, m)| m)
        .collect();
    let _ = writeln!(s, "\nAccepted events by year and category (local time)");
    let mut cats: Vec<&String> = q.by_year.values().flat_map(|m| m.keys()).collect();
    cats.sort();
    cats.dedup();
    let _ = write!(s, "  {:<22}", "category");
    if !minor.is_empty() {
        let _ = write!(s, "{:>9}", "other yrs");
    }
    for y in &main_years {
        let _ = write!(s, "{y:>8}");
    }
    let _ = writeln!(s);
    for c in &cats {
        let _ = write!(s, "  {c:<22}");
        if !minor.is_empty() {
            let n: u64 = minor.iter().map(|m| m.get(*c).copied().unwrap_or(0)).sum();
            let _ = write!(s, "{n:>9}");
        }
        for y in &main_years {
            let _ = write!(s, "{:>8}", q.by_year[y].get(*c).copied().unwrap_or(0));
        }
        let _ = writeln!(s);
    }
    if !minor.is_empty() {
        let _ = writeln!(
            s,
            "  (\"other yrs\": {} years each holding under 1% of events, mostly before {first_main})",
            minor.len()
        );
    }
    let _ = writeln!(
        s,
        "\nWithout a location: {} events (kept: they count in totals and trends, not on maps)",
        q.without_location_total
    );
    for g in q.without_location.iter().filter(|g| g.without_point > 0) {
        let _ = writeln!(
            s,
            "  {:<22} {:>8} of {:>8}  ({:.1}%)",
            g.category,
            g.without_point,
            g.events,
            100.0 * g.without_point as f64 / g.events.max(1) as f64
        );
    }
    let _ = writeln!(s, "\nCategory coding drift ({})", q.drift_rule);
    if q.drift.is_empty() {
        let _ = writeln!(s, "  none flagged");
    }
    for d in &q.drift {
        let _ = writeln!(
            s,
            "  {:<22} {}→{}: {:.1}% → {:.1}% of events ({} → {})",
            d.category,
            d.from_year,
            d.to_year,
            d.share_before,
            d.share_after,
            d.count_before,
            d.count_after
        );
    }
    if !rows.is_empty() {
        let _ = writeln!(s, "\nQuarantined rows");
        for r in rows {
            let _ = writeln!(
                s,
                "  {} row {} (line {}){}: {} — {} [{}]",
                r.file_name,
                r.row,
                r.line,
                r.column
                    .as_deref()
                    .map(|c| format!(", column {c}"))
                    .unwrap_or_default(),
                r.reason,
                r.detail,
                r.raw
            );
        }
    }
    s
}

pub fn datasets_text(all: &[(DatasetInfo, Vec<SourceInfo>)]) -> String {
    let mut s = String::new();
    if all.is_empty() {
        let _ = writeln!(s, "no datasets yet: load one with `streetlight ingest`");
    }
    for (d, sources) in all {
        let _ = writeln!(
            s,
            "{}  {} events ({} retracted), {} quarantined, {} duplicates, {} file(s), profile {}, {}",
            d.name,
            d.events,
            d.retracted_events,
            d.quarantined,
            d.duplicates,
            sources.len(),
            d.profile_name,
            d.time_zone
        );
        if !d.provenance.is_empty() {
            let _ = writeln!(s, "  provenance: {}", d.provenance);
        }
        for src in sources {
            let _ = writeln!(
                s,
                "  {} {} rows{} sha256 {}…",
                src.file_name,
                src.rows_committed,
                if src.complete {
                    ""
                } else {
                    " (incomplete: run ingest again)"
                },
                &src.sha256[..12.min(src.sha256.len())]
            );
        }
    }
    s
}

pub fn export_json(e: &ExportSummary) -> Value {
    json!({
        "path": e.path,
        "format": match e.format { ExportFormat::Csv => "csv", ExportFormat::GeoJson => "geojson", ExportFormat::GeoPackage => "gpkg" },
        "events": e.events,
        "without_point": e.without_point,
    })
}
