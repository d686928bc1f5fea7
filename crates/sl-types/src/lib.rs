//! Streetlight's domain vocabulary.
//!
//! Architecture invariant: this crate does no IO, spawns nothing and knows no wire
//! format. It names things (events, categories, harm weights, reason codes) so that
//! every other crate speaks the same language.
//!
//! Architecture invariant: there is no type for a person. An [`Event`] is an offence
//! at a place and a time; it has no field that could hold a name, a birth date or an
//! individual's age, and none may be added.

mod category;
mod event;
mod harm;
mod reason;
mod time;

pub use category::{Category, UnknownCategory};
pub use event::{Areas, Event, EventId, Location, Offence, Precision, SourceKind};
pub use harm::{HarmTable, HarmTableError};
pub use reason::ReasonCode;
pub use time::{TimeWindow, Timestamp};
