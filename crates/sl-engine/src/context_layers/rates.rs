//! Rates per 1,000 residents: the selected events counted in each polygon of a layer
//! with a population field (census tracts, blocks), divided by its population.
//!
//! # Algorithm
//! Each polygon gets a banded point-in-polygon index over all its rings (the one the
//! jurisdiction boundary uses: even-odd rule, so holes and multipolygons need no special
//! case). Every selected event with a point is tested against every polygon whose
//! bounding box holds it: O(events × polygons) box tests, a few dozen edges per full
//! test. An event inside two overlapping polygons counts in both and is reported in
//! `in_several`; tracts tile their county, so this is zero for them.
//!
//! # Returns
//! Per polygon: `count`, `population` and `rate_per_1000 = 1000 × count / population`
//! (`None` where nobody lives: a rate over zero residents means nothing). The totals:
//! events selected, those without a point, inside at least one polygon, outside every
//! polygon, and the rate over all polygons (events inside / all residents).
//!
//! # Notes
//! A rate is events in the selected period per 1,000 residents, not per year: compare
//! rates of equal periods. Residents are where people live, not where they are (a
//! downtown tract with few residents and many visitors has a high rate), which is why
//! the count stays beside the rate.

use sl_ingest::boundary::PolygonIndex;
use sl_ingest::layer::LayerShape;
use sl_store::Store;

use super::{ContextLayer, LayerError, LayerKind, get};
use crate::analysis::{EventSet, Selection, select};

/// One polygon's count and rate.
#[derive(Debug, Clone, PartialEq)]
pub struct PolygonRate {
    /// The feature's index in the layer.
    pub feature: usize,
    pub count: u64,
    pub population: f64,
    /// Events per 1,000 residents in the period; `None` when the population is 0.
    pub rate_per_1000: Option<f64>,
}

/// Counts and rates over a layer's polygons for one selection.
#[derive(Debug, Clone)]
pub struct Rates {
    pub layer: ContextLayer,
    /// Dataset name.
    pub dataset: String,
    pub selection: Selection,
    pub polygons: Vec<PolygonRate>,
    /// Selected events.
    pub events: usize,
    /// Selected events without a point (not placed in any polygon).
    pub without_point: usize,
    /// Events with a point inside at least one polygon.
    pub in_polygons: usize,
    /// Events with a point outside every polygon.
    pub outside: usize,
    /// Events inside more than one polygon (overlapping polygons).
    pub in_several: usize,
    /// Residents of all polygons.
    pub population: f64,
    /// `1000 × in_polygons / population`; `None` when the population is 0.
    pub rate_per_1000: Option<f64>,
}

/// Reads the selection and the layer, then counts (see the module documentation).
pub fn rates<S: Store>(store: &S, selection: &Selection, layer: &str) -> Result<Rates, LayerError> {
    let layer = get(store, &selection.dataset, layer)?;
    check(&layer)?;
    let set = select(store, selection)?;
    rates_for(&set, layer)
}

fn check(layer: &ContextLayer) -> Result<(), LayerError> {
    if layer.summary.kind != LayerKind::Polygons {
        return Err(LayerError::NotPolygons {
            name: layer.summary.name.clone(),
            kind: layer.summary.kind,
        });
    }
    if layer.summary.population_field.is_none() {
        return Err(LayerError::NoPopulation {
            name: layer.summary.name.clone(),
        });
    }
    Ok(())
}

/// The count per polygon for events already selected.
pub fn rates_for(set: &EventSet, layer: ContextLayer) -> Result<Rates, LayerError> {
    check(&layer)?;
    let indexes: Vec<PolygonIndex> = layer
        .features
        .iter()
        .map(|f| {
            PolygonIndex::new(f.shapes.iter().flat_map(|s| match s {
                LayerShape::Polygon(rings) => rings.iter(),
                _ => [].iter(),
            }))
        })
        .collect();
    let mut counts = vec![0u64; indexes.len()];
    let (mut in_polygons, mut outside, mut in_several, mut without_point) = (0, 0, 0, 0);
    for e in &set.events {
        if !(e.lon.is_finite() && e.lat.is_finite()) {
            without_point += 1;
            continue;
        }
        let mut hits = 0;
        for (i, index) in indexes.iter().enumerate() {
            if index.contains(e.lon, e.lat) {
                counts[i] += 1;
                hits += 1;
            }
        }
        match hits {
            0 => outside += 1,
            1 => in_polygons += 1,
            _ => {
                in_polygons += 1;
                in_several += 1;
            }
        }
    }
    let rate =
        |count: f64, population: f64| (population > 0.0).then(|| 1000.0 * count / population);
    let mut population = 0.0;
    let mut polygons = Vec::with_capacity(counts.len());
    for (feature, &count) in counts.iter().enumerate() {
        // Validated at upload: every polygon of a layer with a population field has one.
        let residents = layer
            .population(feature)
            .ok_or_else(|| LayerError::Corrupt {
                name: layer.summary.name.clone(),
                message: format!("feature {feature} has no population"),
            })?;
        population += residents;
        polygons.push(PolygonRate {
            feature,
            count,
            population: residents,
            rate_per_1000: rate(count as f64, residents),
        });
    }
    Ok(Rates {
        dataset: set.dataset.name.clone(),
        selection: set.selection.clone(),
        polygons,
        events: set.events.len(),
        without_point,
        in_polygons,
        outside,
        in_several,
        population,
        rate_per_1000: rate(in_polygons as f64, population),
        layer,
    })
}
