//! `streetlight patterns`: when crime happens — hour × weekday, months, weekly trend
//! and shifts.

use std::fmt::Write as _;
use std::process::ExitCode;

use anyhow::Result;
use sl_engine::analysis::toolbox::GroupPatterns;
use sl_server::reports::patterns::{PatternParams, WEEKDAYS, csv_rows, time_patterns};

use crate::analyse::{Filters, load, warn_if_empty};
use crate::tables::write_csv;

#[derive(Debug, clap::Args)]
pub struct PatternsArgs {
    #[command(flatten)]
    pub filters: Filters,
    #[command(flatten)]
    pub params: PatternParams,
    /// Print the full result as JSON on stdout (field names in docs/CLI.md).
    #[arg(long)]
    pub json: bool,
    /// Also write every figure as CSV rows (group, table, key, value) to this file.
    #[arg(long, value_name = "FILE")]
    pub csv: Option<std::path::PathBuf>,
}

fn p_text(p: f64) -> String {
    if p < 0.001 {
        "< 0.001".to_string()
    } else {
        format!("= {p:.3}")
    }
}

fn text(groups: &[GroupPatterns]) -> String {
    let mut s = String::new();
    for g in groups {
        let hw = &g.hour_week;
        let _ = writeln!(
            s,
            "{}: {} events ({} with a usable time window)",
            g.group, g.events, hw.tally.used
        );
        let by_hour = hw.by_hour();
        let mut hours: Vec<(usize, f64)> = by_hour.iter().copied().enumerate().collect();
        hours.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        let peak: Vec<String> = hours
            .iter()
            .take(3)
            .map(|(h, v)| format!("{h:02}:00 ({v:.1})"))
            .collect();
        let _ = writeln!(s, "  peak hours: {}", peak.join(", "));
        let by_day = hw.by_weekday();
        let day: Vec<String> = by_day
            .iter()
            .enumerate()
            .map(|(d, v)| format!("{} {v:.0}", WEEKDAYS[d]))
            .collect();
        let _ = writeln!(s, "  by weekday: {}", day.join(", "));
        for x in &g.shifts.shifts {
            let _ = writeln!(
                s,
                "  shift {:<8} {:>2} h  {:>8.1} events  {:>5.1}%  rate ×{:.2}",
                x.name,
                x.hours,
                x.amount,
                100.0 * x.share,
                x.rate_ratio
            );
        }
        if let Some(p) = g.shifts.p_value {
            let _ = writeln!(s, "  shifts differ from an even spread: p {}", p_text(p));
        }
        if let Some(t) = g.weekly.trend {
            let _ = writeln!(
                s,
                "  weekly trend: {:+.2} events/week per week over {} weeks (p {})",
                t.slope,
                t.n,
                p_text(t.p_value)
            );
        }
    }
    s
}

pub fn run(a: PatternsArgs) -> Result<ExitCode> {
    let loaded = load(&a.filters)?;
    let set = &loaded.set;
    warn_if_empty(set);
    let (report, groups) = time_patterns(set, &a.params)?;
    if let Some(p) = &a.csv {
        write_csv(&csv_rows(&groups), p)?;
        eprintln!("wrote {}", p.display());
    }
    if a.json {
        println!("{}", serde_json::to_string_pretty(&report.doc)?);
    } else {
        print!("{}", text(&groups));
    }
    Ok(ExitCode::SUCCESS)
}
