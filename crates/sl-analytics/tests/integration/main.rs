//! sl-analytics integration tests: one binary, one module per method.

mod grid;
mod knox;
