//! Streetlight's analytics: pure, deterministic algorithms over places and times.
//!
//! Architecture invariant: this crate does no IO, spawns no runtime, reads no clock and
//! takes every random seed as an argument. The same inputs and seed give the same
//! output bit for bit, whatever the number of threads (see [`rng`]).
//!
//! Architecture invariant: inputs are places and times ([`Incident`]), never people.

pub mod aoristic;
pub mod concentration;
pub mod emerging;
pub mod fdr;
pub mod forecast;
pub mod gistar;
pub mod grid;
pub mod hex;
pub mod kde;
pub mod knox;
pub mod mann_kendall;
pub mod near_repeat;
pub mod priorities;
pub mod risk_terrain;
pub mod rng;
pub mod time_patterns;
pub mod weights;

/// One event as the analytics see it: a point in the dataset's local metric CRS
/// (metres) and the UTC window `[from, to)` (seconds) in which it occurred. An event
/// known to the second has `to = from + 1`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Incident {
    pub x: f64,
    pub y: f64,
    pub from: i64,
    pub to: i64,
}

/// The standard normal distribution's upper tail `P(Z > z)` (used for analytic
/// p-values). statrs' `erfc` agrees with scipy's `norm.sf` to about 5·10⁻¹¹ relative,
/// also far in the tails; tests compare p-values at 10⁻⁹ relative for that reason.
pub fn normal_upper_tail(z: f64) -> f64 {
    0.5 * statrs::function::erf::erfc(z / std::f64::consts::SQRT_2)
}
