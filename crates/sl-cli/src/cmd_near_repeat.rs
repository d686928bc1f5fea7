//! `streetlight near-repeat`: does one event raise the risk nearby, soon after? The
//! Knox test over space and time bands, and each event's near-repeat role.

use std::fmt::Write as _;
use std::io::Write as _;
use std::process::ExitCode;

use anyhow::{Context as _, Result, bail};
use sl_engine::sl_analytics::knox::KnoxTable;
use sl_server::reports::near_repeat::{NearRepeatParams, near_repeat};

use crate::analyse::{Filters, OutputArgs, load, spinner, warn_if_empty};
use crate::tables::write_csv;

#[derive(Debug, clap::Args)]
pub struct NearRepeatArgs {
    #[command(flatten)]
    pub filters: Filters,
    #[command(flatten)]
    pub params: NearRepeatParams,
    #[command(flatten)]
    pub output: OutputArgs,
}

fn table_text(t: &KnoxTable) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "Knox ratios (observed / mean of {} permutations); * p < 0.05, ** p < 0.01",
        t.permutations
    );
    let _ = write!(s, "{:>16}", "metres \\ days");
    for j in 0..t.time_bands {
        let c = t.cell(0, j);
        let _ = write!(s, " {:>14}", format!("[{}, {})", c.time.0, c.time.1));
    }
    let _ = writeln!(s);
    for i in 0..t.space_bands {
        let c0 = t.cell(i, 0);
        let _ = write!(s, "{:>16}", format!("[{}, {})", c0.space.0, c0.space.1));
        for j in 0..t.time_bands {
            let c = t.cell(i, j);
            let stars = if c.p < 0.01 {
                "**"
            } else if c.p < 0.05 {
                "*"
            } else {
                ""
            };
            let _ = write!(
                s,
                " {:>14}",
                format!("{:.2}{stars} ({})", c.knox_ratio, c.observed)
            );
        }
        let _ = writeln!(s);
    }
    s
}

pub fn run(a: NearRepeatArgs) -> Result<ExitCode> {
    if a.output.geojson.is_some() && a.params.classify.is_none() {
        bail!("--geojson maps each event's near-repeat role: pass --classify SPACE,DAYS too");
    }
    let loaded = load(&a.filters)?;
    let set = &loaded.set;
    warn_if_empty(set);
    let bar = spinner(format!("Knox test: {} permutations", a.params.permutations));
    let out = near_repeat(set, &a.params);
    bar.finish_and_clear();
    let out = out?;
    if let Some(p) = &a.output.csv {
        write_csv(&out.bands, p)?;
        eprintln!("wrote {}", p.display());
    }
    if let (Some(path), Some(roles)) = (&a.output.geojson, &out.roles) {
        let file = std::fs::File::create(path)
            .with_context(|| format!("cannot create {}", path.display()))?;
        let mut w = std::io::BufWriter::new(file);
        write!(w, "{{\"type\":\"FeatureCollection\",\"features\":[")?;
        for (k, f) in roles.iter().enumerate() {
            if k > 0 {
                write!(w, ",")?;
            }
            serde_json::to_writer(&mut w, f)?;
        }
        writeln!(w, "]}}")?;
        w.flush()?;
        eprintln!(
            "wrote {} events with their roles to {}",
            roles.len(),
            path.display()
        );
    }
    let doc = &out.report.doc;
    if a.output.json {
        println!("{}", serde_json::to_string_pretty(doc)?);
    } else {
        println!(
            "{}: {} located events, {} pairs",
            set.dataset.name, out.knox.events, out.knox.pairs
        );
        print!("{}", table_text(&out.knox));
        let c = &doc["classification"];
        if !c.is_null() {
            println!(
                "roles within {} m and {} days: {} originators, {} near repeats, {} repeats, {} isolated",
                c["space_m"],
                c["days"],
                c["originator"],
                c["near_repeat"],
                c["repeat"],
                c["isolated"]
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
