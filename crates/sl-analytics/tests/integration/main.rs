//! sl-analytics integration tests: one binary, one module per method.

mod aoristic;
mod concentration;
mod emerging;
mod forecast;
mod forecast_etas;
mod forecast_glm;
mod forecast_hotspot;
mod forecast_sepp;
mod gistar;
mod grid;
mod hex;
mod kde;
mod knox;
mod mann_kendall;
mod priorities;
mod risk_terrain;
mod time_patterns;
