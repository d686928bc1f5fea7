//! sl-analytics integration tests: one binary, one module per method.

mod concentration;
mod gistar;
mod grid;
mod hex;
mod priorities;
mod emerging;
mod mann_kendall;
mod aoristic;
mod kde;
mod time_patterns;
mod knox;
