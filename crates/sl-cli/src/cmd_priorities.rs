//! `streetlight priorities`: the places that cause the most harm, and why each is on
//! the list.

use std::process::ExitCode;

use anyhow::Result;
use sl_server::reports::priorities::{PriorityParams, explain, priorities};

use crate::analyse::{Filters, OutputArgs, UnitArgs, load, spinner, warn_if_empty};
use crate::tables::write_files;

#[derive(Debug, clap::Args)]
pub struct PrioritiesArgs {
    #[command(flatten)]
    pub filters: Filters,
    #[command(flatten)]
    pub units: UnitArgs,
    #[command(flatten)]
    pub params: PriorityParams,
    #[command(flatten)]
    pub output: OutputArgs,
}

pub fn run(a: PrioritiesArgs) -> Result<ExitCode> {
    if a.filters.select.from.is_none() || a.filters.select.to.is_none() {
        anyhow::bail!(
            "priorities compare a period with the one before it: pass --from and --to (e.g. --from 2024-10-01 --to 2025-01-01)"
        );
    }
    let loaded = load(&a.filters)?;
    let set = &loaded.set;
    warn_if_empty(set);
    let bar = spinner("ranking places by harm");
    let out = priorities(&loaded.store, set, &a.units, &a.params);
    bar.finish_and_clear();
    let out = out?;
    write_files(
        &out.table,
        Some(&out.units),
        a.output.csv.as_deref(),
        a.output.geojson.as_deref(),
    )?;
    if a.output.json {
        println!("{}", serde_json::to_string_pretty(&out.report.doc)?);
    } else {
        let r = &out.ranking;
        let tz = set.time_zone()?;
        let local = |t: i64| {
            jiff::Timestamp::from_second(t)
                .map(|t| {
                    t.to_zoned(tz.clone())
                        .strftime("%Y-%m-%d %H:%M")
                        .to_string()
                })
                .unwrap_or_default()
        };
        println!(
            "{}: top {} of {} units by harm, {} to {} (prior period {} to {}; local time, end excluded)",
            set.dataset.name,
            r.places.len(),
            out.units.len(),
            local(r.current.0),
            local(r.current.1),
            local(r.prior.0),
            local(r.prior.1)
        );
        let c = &r.count_concentration;
        println!(
            "concentration: the top 5% of units hold {:.0}% of events (Gini {:.2}); {:.0}% of located events repeat an earlier one at the same point within {} days",
            100.0 * c.share_at_top(0.05),
            c.gini,
            100.0 * r.repeats.repeat_rate(),
            a.params.repeat_days
        );
        for p in &r.places {
            println!(
                "{:>3}. {:<12} {}",
                p.rank,
                out.units.labels[p.unit as usize],
                explain(p, &out.names)
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
