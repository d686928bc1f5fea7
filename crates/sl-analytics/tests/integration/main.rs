//! sl-analytics integration tests: one binary, one module per method.

mod aoristic;
mod grid;
mod kde;
mod time_patterns;
