//! sl-analytics integration tests: one binary, one module per method.

mod gistar;
mod grid;
