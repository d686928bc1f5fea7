//! H3 hexagons (Uber's hierarchical hexagonal grid, via the h3o crate) as spatial
//! units: which cell holds a point, a cell's outline, and contiguity among a set of
//! cells.
//!
//! H3 works on WGS84 longitude/latitude, so these functions take degrees, unlike the
//! square grids, which live in the dataset's local metres.

use std::collections::HashMap;

use h3o::{CellIndex, LatLng, Resolution};

use crate::weights::Weights;

/// Why an H3 request cannot be served.
#[derive(Debug, Clone, PartialEq)]
pub enum HexError {
    /// The resolution is outside 0–15.
    BadResolution(u8),
}

impl std::fmt::Display for HexError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HexError::BadResolution(r) => write!(
                f,
                "H3 resolution {r} is not in 0–15 (resolution 9 cells are about 0.1 km², 8 about 0.7 km²)"
            ),
        }
    }
}

impl std::error::Error for HexError {}

/// Checks an H3 resolution.
pub fn resolution(res: u8) -> Result<Resolution, HexError> {
    Resolution::try_from(res).map_err(|_| HexError::BadResolution(res))
}

/// The cell holding `(lon, lat)`, as its 64-bit index; `None` for invalid coordinates.
pub fn cell_of(lon: f64, lat: f64, res: Resolution) -> Option<u64> {
    LatLng::new(lat, lon)
        .ok()
        .map(|ll| u64::from(ll.to_cell(res)))
}

/// The cell's centre as `(lon, lat)`.
pub fn centre(cell: u64) -> Option<(f64, f64)> {
    let c = CellIndex::try_from(cell).ok()?;
    let ll = LatLng::from(c);
    Some((ll.lng(), ll.lat()))
}

/// The cell's outline as a closed ring of `(lon, lat)`.
pub fn ring(cell: u64) -> Option<Vec<(f64, f64)>> {
    let c = CellIndex::try_from(cell).ok()?;
    let mut ring: Vec<(f64, f64)> = c.boundary().iter().map(|ll| (ll.lng(), ll.lat())).collect();
    if let Some(&first) = ring.first() {
        ring.push(first);
    }
    Some(ring)
}

/// The cell's index in the usual hexadecimal form (e.g. `892a1008003ffff`).
pub fn label(cell: u64) -> String {
    format!("{cell:x}")
}

/// Contiguity among `cells`: two cells are neighbours when they share an edge (the
/// six cells of the first ring; pentagons have five). Cells outside the set are
/// ignored, as masked grid cells are.
pub fn contiguity(cells: &[u64]) -> Weights {
    let index: HashMap<u64, u32> = cells
        .iter()
        .enumerate()
        .map(|(i, &c)| (c, i as u32))
        .collect();
    let lists = cells
        .iter()
        .map(|&c| {
            let Ok(cell) = CellIndex::try_from(c) else {
                return Vec::new();
            };
            cell.grid_disk::<Vec<_>>(1)
                .into_iter()
                .filter(|&n| n != cell)
                .filter_map(|n| index.get(&u64::from(n)).map(|&j| (j, 1.0)))
                .collect()
        })
        .collect();
    Weights::from_lists(lists)
}
