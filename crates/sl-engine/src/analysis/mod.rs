//! Analyses over stored events: selection, spatial units, and the analyst's toolbox
//! (patterns, hot spots, near-repeats, priorities). The math lives in sl-analytics;
//! this layer reads the store, builds units and hands plain data to the edges.

pub mod forecasting;
pub mod risk_layers;
pub mod selection;
pub mod toolbox;
pub mod units;

pub use selection::{AnalysisEvent, AreaFilter, AreaLevel, EventSet, Selection, select};
pub use units::{GridFrame, MaskMode, UnitKind, UnitSpec, Units, build_units};
