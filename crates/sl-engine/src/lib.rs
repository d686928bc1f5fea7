//! Streetlight's application layer: ingest files into the store, build quality
//! reports, export events, manage accounts and sessions, keep the audit trail. The
//! edges (CLI, server) call this crate only.
//!
//! Architecture invariant: the types here are plain data. Serialising them to JSON or
//! any wire format is the edge's job.

pub mod accounts;
pub mod analysis;
pub mod audit;
pub mod context_layers;
pub mod export;
pub mod harm;
pub mod ingest;
pub mod quality;

pub use sl_analytics;
pub use sl_ingest::boundary::{Boundary, polygons_with_holes, ring_containers};
pub use sl_ingest::{Profile, ProfileError};
pub use sl_store::{
    AuditEntry, AuditRecord, DatasetInfo, EventFilter, ForecastRecord, IntegrityReport,
    QuarantinedRow, SourceInfo, SqliteStore, Store, StoreError,
};

/// Errors the engine reports to the edges. Each message says what to do.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Profile(#[from] sl_ingest::ProfileError),
    #[error(transparent)]
    Store(#[from] sl_store::StoreError),
    #[error(transparent)]
    Layout(#[from] sl_ingest::LayoutError),
    #[error(transparent)]
    Table(#[from] sl_ingest::table::TableError),
    #[error(transparent)]
    Boundary(#[from] sl_ingest::boundary::BoundaryError),
    #[error(transparent)]
    Crs(#[from] sl_ingest::crs::CrsError),
    #[error(transparent)]
    Context(#[from] sl_ingest::ContextError),
    #[error("cannot read {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{0}")]
    Invalid(String),
}

pub type Result<T> = std::result::Result<T, EngineError>;
