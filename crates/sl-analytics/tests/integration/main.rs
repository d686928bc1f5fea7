//! sl-analytics integration tests: one binary, one module per method.

mod emerging;
mod grid;
mod mann_kendall;
