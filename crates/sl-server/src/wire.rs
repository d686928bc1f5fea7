//! The wire forms shared by both edges: the API returns them and the command line's
//! `--json` prints them, so a script can move between the two. Field names are
//! documented in docs/CLI.md and docs/API.md.

use serde_json::{Value, json};
use sl_engine::QuarantinedRow;
use sl_engine::quality::QualityReport;

use crate::api::{Dataset, Source};

/// A dataset's registry entry with its source files.
pub fn dataset(d: sl_engine::DatasetInfo, sources: Vec<sl_engine::SourceInfo>) -> Dataset {
    Dataset {
        name: d.name,
        title: d.title,
        kind: d.kind,
        time_zone: d.time_zone,
        local_crs: d.local_crs,
        profile: d.profile_name,
        profile_sha256: d.profile_sha256,
        provenance: d.provenance,
        harm_source: d.harm_source,
        created_at: d.created_at,
        updated_at: d.updated_at,
        first_occurrence: None,
        last_occurrence: None,
        events: d.events,
        retracted_events: d.retracted_events,
        quarantined: d.quarantined,
        duplicates: d.duplicates,
        sources: sources
            .into_iter()
            .map(|s| Source {
                file_name: s.file_name,
                path: s.file_path,
                sha256: s.sha256,
                size_bytes: s.size_bytes,
                profile_sha256: s.profile_sha256,
                started_at: s.started_at,
                finished_at: s.finished_at,
                complete: s.complete,
                rows: s.rows_committed,
            })
            .collect(),
    }
}

/// A dataset's quality report, with the quarantined rows asked for.
pub fn quality_json(q: &QualityReport, rows: &[QuarantinedRow]) -> Value {
    json!({
        "dataset": q.dataset,
        "time_zone": q.time_zone,
        "events": q.events,
        "retracted_events": q.retracted_events,
        "first_occurrence": q.first_occurrence,
        "last_occurrence": q.last_occurrence,
        "reasons": q.reasons.iter().map(|r| json!({"code": r.code, "count": r.count, "explanation": r.explanation})).collect::<Vec<_>>(),
        "duplicates": q.duplicates,
        "retractions": {"matched": q.retractions_matched, "unmatched": q.retractions_unmatched},
        "by_year": q.by_year.iter().map(|(y, cats)| (y.to_string(), json!(cats))).collect::<serde_json::Map<_, _>>(),
        "without_location": {
            "total": q.without_location_total,
            "note": "events without a point are kept: they count in totals and trends, not on maps",
            "by_category": q.without_location.iter().map(|g| json!({
                "category": g.category,
                "events": g.events,
                "without_point": g.without_point,
                "share": if g.events > 0 { g.without_point as f64 / g.events as f64 } else { 0.0 },
            })).collect::<Vec<_>>(),
        },
        "drift": q.drift.iter().map(|d| json!({
            "category": d.category,
            "from_year": d.from_year,
            "to_year": d.to_year,
            "share_before_pct": d.share_before,
            "share_after_pct": d.share_after,
            "count_before": d.count_before,
            "count_after": d.count_after,
        })).collect::<Vec<_>>(),
        "drift_rule": q.drift_rule,
        "quarantined_rows": rows.iter().map(quarantined_json).collect::<Vec<_>>(),
    })
}

fn quarantined_json(r: &QuarantinedRow) -> Value {
    json!({
        "file": r.file_name,
        "row": r.row,
        "line": r.line,
        "column": r.column,
        "reason": r.reason,
        "detail": r.detail,
        "raw": r.raw,
    })
}
