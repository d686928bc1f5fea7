//! The analyses behind both edges. Each function reads the store, runs one analysis
//! and returns the document `streetlight <command> --json` prints, with the per-unit
//! table that CSV files and map layers are made from. The command line prints or
//! writes it; the API answers with it. One implementation, so the two cannot drift.
//!
//! Architecture invariant: nothing here writes files, prints, or reads the clock; the
//! parameter structs are `clap::Args` so the command line flattens them and the API
//! parses its query strings with the same definitions ([`crate::query`]).

pub mod backtest;
pub mod forecast;
pub mod hotspots;
pub mod near_repeat;
pub mod patterns;
pub mod priorities;
pub mod select;
pub mod table;

pub use select::{SelectArgs, UnitArgs, build_units, load, selection, unit_spec};
pub use table::{Table, instant, num, unit_columns, units_json};

/// A finished analysis: the JSON document, and where its rows sit in it.
#[derive(Debug)]
pub struct Report {
    /// What `--json` prints.
    pub doc: serde_json::Value,
    /// The key of the row array in `doc` (`cells`, `top`, `places`, `bands`), if any.
    pub rows_key: Option<&'static str>,
}

impl Report {
    /// The document without its row array: the `meta` of a map layer.
    pub fn meta(&self) -> serde_json::Value {
        let mut meta = self.doc.clone();
        if let (Some(key), Some(m)) = (self.rows_key, meta.as_object_mut()) {
            m.remove(key);
        }
        meta
    }
}
