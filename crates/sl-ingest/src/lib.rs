//! Streetlight ingest: readers, source profiles, reprojection and validation.
//!
//! Architecture invariant: this crate does not know the store. It turns files into
//! [`normalise::RowOutcome`]s (events, retractions, rejections with reason codes);
//! the engine decides what is new, revised, duplicated or retracted.
//!
//! Architecture invariant: a bad row never aborts a file. Every row read yields exactly
//! one outcome; only a file that cannot be opened or lacks a required column fails.

pub mod boundary;
pub mod crs;
pub mod datetime;
pub mod layer;
pub mod normalise;
pub mod profile;
pub mod source;
pub mod table;

pub use normalise::{
    Context, ContextError, Layout, LayoutError, Normalised, Rejection, Retraction, RowOutcome,
};
pub use profile::{Profile, ProfileError};
pub use table::{Format, RawRow, Table};
