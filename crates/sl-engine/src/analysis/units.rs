//! Spatial units for analyses: masked square grids in local metres, H3 hexagons, and
//! the dataset's own areas. Each unit set knows how to place an event, its label, its
//! outline in WGS84 for maps, and (for grids and hexagons) its contiguity.

use std::collections::HashMap;

use sl_analytics::grid::{Grid, MaskedGrid};
use sl_analytics::hex;
use sl_analytics::weights::Weights;
use sl_ingest::boundary::{Boundary, PolygonIndex};
use sl_ingest::crs::Reprojector;
use sl_store::Store;

use super::selection::{AnalysisEvent, AreaLevel, EventSet};
use crate::{EngineError, Result};

/// A unit's outline: one or more closed rings of `(lon, lat)`.
pub type Rings = Vec<Vec<(f64, f64)>>;

/// Which grid cells to keep.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MaskMode {
    /// Cells that overlap the jurisdiction boundary stored with the dataset (a cell
    /// overlaps when its centre, a corner or an edge midpoint is inside), plus every
    /// cell holding an event of the dataset. Falls back to `Events` when the dataset
    /// has no boundary.
    Boundary,
    /// Cells holding at least one event of the dataset (any category, any time).
    Events,
    /// Every cell of the rectangle covering the dataset's events and boundary.
    Extent,
}

impl MaskMode {
    /// Parses `boundary`, `events` or `extent`.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "boundary" => Some(Self::Boundary),
            "events" => Some(Self::Events),
            "extent" | "none" => Some(Self::Extent),
            _ => None,
        }
    }
}

/// How a grid sits in the local CRS: rotated counter-clockwise by `rotation_deg` about
/// the CRS origin, then its cell boundaries shifted by `offset` metres, so cells need
/// not follow the CRS axes (e.g. a street grid at 29°) nor multiples of the cell size.
/// Rotation and translation keep distances, so every model works unchanged in the
/// grid's frame.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct GridFrame {
    pub rotation_deg: f64,
    pub offset: (f64, f64),
}

impl GridFrame {
    /// True for the plain axis-aligned grid.
    pub fn is_identity(&self) -> bool {
        self.rotation_deg == 0.0 && self.offset == (0.0, 0.0)
    }

    /// Local metres → grid frame.
    pub fn to_frame(&self, x: f64, y: f64) -> (f64, f64) {
        if self.is_identity() {
            return (x, y);
        }
        let (s, c) = (-self.rotation_deg.to_radians()).sin_cos();
        (c * x - s * y - self.offset.0, s * x + c * y - self.offset.1)
    }

    /// Grid frame → local metres.
    pub fn from_frame(&self, u: f64, v: f64) -> (f64, f64) {
        if self.is_identity() {
            return (u, v);
        }
        let (u, v) = (u + self.offset.0, v + self.offset.1);
        let (s, c) = self.rotation_deg.to_radians().sin_cos();
        (c * u - s * v, s * u + c * v)
    }
}

/// How to cut space into units.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum UnitSpec {
    /// Square cells of `cell` metres, masked, in a possibly rotated and offset frame.
    Grid {
        cell: f64,
        mask: MaskMode,
        frame: GridFrame,
    },
    /// H3 hexagons at a resolution (0–15); the units are the cells whose centre is
    /// inside the boundary, plus every cell holding an event of the dataset.
    Hex { resolution: u8 },
    /// The dataset's area codes at a level (events without a code are left out).
    Area(AreaLevel),
    /// The features of the stored boundary (e.g. Philadelphia's police districts, St.
    /// Louis's neighbourhoods), events placed by point-in-polygon on their lon/lat.
    BoundaryFeatures,
}

/// What the units are.
#[derive(Debug, Clone)]
pub enum UnitKind {
    Grid(MaskedGrid),
    Hex(Vec<u64>),
    Area(AreaLevel),
    /// One unit per boundary feature, with its point-in-polygon index (lon/lat).
    Boundary(Vec<PolygonIndex>),
}

/// A set of spatial units.
#[derive(Debug, Clone)]
pub struct Units {
    pub kind: UnitKind,
    /// Human-readable label per unit (`r12c40`, an H3 index, or an area code).
    pub labels: Vec<String>,
    /// The mask actually used for grids (`Boundary` may fall back to `Events`).
    pub mask: Option<MaskMode>,
    /// Name of the stored boundary file, if one shaped the units.
    pub boundary_file: Option<String>,
    /// Area inside the stored jurisdiction boundary, square metres (NIJ's study area).
    pub boundary_area_m2: Option<f64>,
    /// Area of each boundary feature unit, square metres (empty for other units).
    feature_area_m2: Vec<f64>,
    local_crs: String,
    /// The grid's frame (identity for other units).
    frame: GridFrame,
    hex_resolution: Option<h3o::Resolution>,
    hex_index: HashMap<u64, usize>,
    area_index: HashMap<String, usize>,
    /// Area outlines (lon/lat rings) by label, when the boundary's features are named
    /// by the same codes.
    area_rings: HashMap<String, Vec<Vec<(f64, f64)>>>,
}

/// The dataset's boundary projected to local metres, with its lon/lat form.
struct LocalBoundary {
    file: String,
    lonlat: Boundary,
    local_index: PolygonIndex,
    local_bbox: [f64; 4],
    /// Area inside the boundary, square metres: the features' areas (holes
    /// subtracted) added up.
    area_m2: f64,
    /// Each feature's area (holes subtracted), square metres, in feature order.
    feature_area_m2: Vec<f64>,
}

/// Area enclosed by one feature's flat rings under the even-odd rule: a ring inside an
/// odd number of the others is a hole and subtracts its area.
fn even_odd_area(rings: &[Vec<(f64, f64)>]) -> f64 {
    let shoelace = |r: &[(f64, f64)]| {
        r.windows(2)
            .map(|w| w[0].0 * w[1].1 - w[1].0 * w[0].1)
            .sum::<f64>()
            .abs()
            / 2.0
    };
    let containers = sl_ingest::boundary::ring_containers(rings);
    rings
        .iter()
        .zip(&containers)
        .map(|(r, within)| {
            if within.len().is_multiple_of(2) {
                shoelace(r)
            } else {
                -shoelace(r)
            }
        })
        .sum()
}

fn local_boundary<S: Store>(store: &S, set: &EventSet) -> Result<Option<LocalBoundary>> {
    let Some((file, body)) = store.boundary(set.dataset.id)? else {
        return Ok(None);
    };
    let lonlat = Boundary::from_json(&body).map_err(|e| {
        EngineError::Invalid(format!(
            "the stored boundary of dataset {} cannot be read ({e}): re-ingest the dataset",
            set.dataset.name
        ))
    })?;
    let proj = Reprojector::new("EPSG:4326", &set.dataset.local_crs)?;
    let mut rings = Vec::new();
    let mut area_m2 = 0.0;
    let mut feature_area_m2 = Vec::with_capacity(lonlat.features.len());
    let mut bbox = [
        f64::INFINITY,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NEG_INFINITY,
    ];
    for f in &lonlat.features {
        let first_ring = rings.len();
        for r in &f.rings {
            let mut ring = Vec::with_capacity(r.len());
            for &(lon, lat) in r {
                if let Ok((_, (x, y))) = proj.project(lon, lat) {
                    bbox = [
                        bbox[0].min(x),
                        bbox[1].min(y),
                        bbox[2].max(x),
                        bbox[3].max(y),
                    ];
                    ring.push((x, y));
                }
            }
            rings.push(ring);
        }
        // Holes are rings of the same feature; features (districts, neighbourhoods)
        // tile the jurisdiction, so their areas add up.
        let feature = even_odd_area(&rings[first_ring..]);
        area_m2 += feature;
        feature_area_m2.push(feature);
    }
    Ok(Some(LocalBoundary {
        file,
        area_m2,
        feature_area_m2,
        local_index: PolygonIndex::new(rings.iter()),
        lonlat,
        local_bbox: bbox,
    }))
}

/// Builds the units for an event set. Grids and hexagons depend only on the dataset
/// (its boundary and all its events), never on the selection, so two analyses of one
/// dataset with the same unit spec use the same cells.
pub fn build_units<S: Store>(store: &S, set: &EventSet, spec: UnitSpec) -> Result<Units> {
    let boundary = local_boundary(store, set)?;
    let mut units = Units {
        kind: UnitKind::Area(AreaLevel::District),
        labels: Vec::new(),
        mask: None,
        boundary_file: boundary.as_ref().map(|b| b.file.clone()),
        boundary_area_m2: boundary.as_ref().map(|b| b.area_m2),
        feature_area_m2: Vec::new(),
        local_crs: set.dataset.local_crs.clone(),
        frame: GridFrame::default(),
        hex_resolution: None,
        hex_index: HashMap::new(),
        area_index: HashMap::new(),
        area_rings: HashMap::new(),
    };
    match spec {
        UnitSpec::Grid { cell, mask, frame } => {
            if !(frame.rotation_deg.is_finite()
                && frame.offset.0.is_finite()
                && frame.offset.1.is_finite())
            {
                return Err(EngineError::Invalid(
                    "--grid-rotation and --grid-offset must be finite numbers".into(),
                ));
            }
            units.frame = frame;
            let mut points = Vec::new();
            store.scan_points(set.dataset.id, &mut |x, y, _, _| {
                points.push(frame.to_frame(x, y));
            })?;
            let mut ext = [
                f64::INFINITY,
                f64::INFINITY,
                f64::NEG_INFINITY,
                f64::NEG_INFINITY,
            ];
            for &(x, y) in &points {
                ext = [ext[0].min(x), ext[1].min(y), ext[2].max(x), ext[3].max(y)];
            }
            if let Some(b) = &boundary {
                // The boundary's box, its corners taken into the grid's frame.
                let bb = b.local_bbox;
                for (x, y) in [
                    (bb[0], bb[1]),
                    (bb[2], bb[1]),
                    (bb[0], bb[3]),
                    (bb[2], bb[3]),
                ] {
                    let (u, v) = frame.to_frame(x, y);
                    ext = [ext[0].min(u), ext[1].min(v), ext[2].max(u), ext[3].max(v)];
                }
            }
            let grid =
                Grid::covering(ext, cell).map_err(|e| EngineError::Invalid(e.to_string()))?;
            let mut occupied = vec![false; grid.len()];
            for &(x, y) in &points {
                if let Some((r, c)) = grid.cell_of(x, y) {
                    occupied[r as usize * grid.cols as usize + c as usize] = true;
                }
            }
            let mode = match (mask, &boundary) {
                (MaskMode::Boundary, None) => MaskMode::Events,
                (m, _) => m,
            };
            let masked = MaskedGrid::new(grid, |r, c| {
                let held = occupied[r as usize * grid.cols as usize + c as usize];
                match mode {
                    MaskMode::Extent => true,
                    MaskMode::Events => held,
                    MaskMode::Boundary => {
                        held || boundary.as_ref().is_some_and(|b| {
                            let x0 = grid.x0 + f64::from(c) * grid.cell;
                            let y0 = grid.y0 + f64::from(r) * grid.cell;
                            [0.0, 0.5, 1.0].iter().any(|fx| {
                                [0.0, 0.5, 1.0].iter().any(|fy| {
                                    let (x, y) =
                                        frame.from_frame(x0 + fx * grid.cell, y0 + fy * grid.cell);
                                    b.local_index.contains(x, y)
                                })
                            })
                        })
                    }
                }
            });
            units.labels = masked
                .cells()
                .iter()
                .map(|&(r, c)| format!("r{r}c{c}"))
                .collect();
            units.mask = Some(mode);
            units.kind = UnitKind::Grid(masked);
        }
        UnitSpec::Hex { resolution } => {
            let res =
                hex::resolution(resolution).map_err(|e| EngineError::Invalid(e.to_string()))?;
            let mut cells: Vec<u64> = Vec::new();
            let mut seen = std::collections::HashSet::new();
            let proj = Reprojector::new("EPSG:4326", &set.dataset.local_crs)?;
            // Cells of every event of the dataset.
            store.scan_points(set.dataset.id, &mut |_, _, lon, lat| {
                if let Some(c) = hex::cell_of(lon, lat, res)
                    && seen.insert(c)
                {
                    cells.push(c);
                }
            })?;
            // Cells whose centre is inside the boundary: sample the boundary's extent
            // more finely than the cells' inner radius, keep sampled cells whose centre
            // is inside.
            if let Some(b) = &boundary {
                let bb = b.lonlat.bbox();
                let edge_deg = h3o::Resolution::try_from(resolution)
                    .map(|r| r.edge_length_m() / 111_320.0)
                    .unwrap_or(0.01);
                let step = (edge_deg * 0.4).max(1e-6);
                let lat_mid = ((bb[1] + bb[3]) / 2.0).to_radians().cos().max(0.1);
                let (nx, ny) = (
                    ((bb[2] - bb[0]) / (step / lat_mid)).ceil() as u64 + 1,
                    ((bb[3] - bb[1]) / step).ceil() as u64 + 1,
                );
                if nx.saturating_mul(ny) > 20_000_000 {
                    return Err(EngineError::Invalid(format!(
                        "H3 resolution {resolution} is too fine for this jurisdiction: choose a lower resolution"
                    )));
                }
                for iy in 0..ny {
                    for ix in 0..nx {
                        let lon = bb[0] + ix as f64 * step / lat_mid;
                        let lat = bb[1] + iy as f64 * step;
                        if let Some(c) = hex::cell_of(lon, lat, res)
                            && !seen.contains(&c)
                            && let Some((clon, clat)) = hex::centre(c)
                            && let Ok((_, (x, y))) = proj.project(clon, clat)
                            && b.local_index.contains(x, y)
                        {
                            seen.insert(c);
                            cells.push(c);
                        }
                    }
                }
            }
            cells.sort_unstable();
            units.hex_resolution = Some(res);
            units.hex_index = cells.iter().enumerate().map(|(i, &c)| (c, i)).collect();
            units.labels = cells.iter().map(|&c| hex::label(c)).collect();
            units.kind = UnitKind::Hex(cells);
        }
        UnitSpec::BoundaryFeatures => {
            let b = boundary.as_ref().ok_or_else(|| {
                EngineError::Invalid(format!(
                    "dataset {} has no stored boundary (its profile gives a bounding box only): use --area-units district|beat|neighbourhood, --hex or grid cells",
                    set.dataset.name
                ))
            })?;
            let mut indexes = Vec::new();
            for (k, f) in b.lonlat.features.iter().enumerate() {
                if f.rings.is_empty() {
                    continue;
                }
                let label = f
                    .name
                    .clone()
                    .unwrap_or_else(|| format!("feature {}", k + 1));
                units
                    .area_rings
                    .entry(label.clone())
                    .or_default()
                    .extend(f.rings.iter().cloned());
                units.labels.push(label);
                units.feature_area_m2.push(b.feature_area_m2[k]);
                indexes.push(PolygonIndex::new(f.rings.iter()));
            }
            units.kind = UnitKind::Boundary(indexes);
        }
        UnitSpec::Area(level) => {
            // Every code the dataset has at this level, not just the selection's, so
            // areas without events count (as zeros) in concentration and rankings.
            let codes = store.area_codes(set.dataset.id, level.slug())?;
            if codes.is_empty() {
                return Err(EngineError::Invalid(format!(
                    "dataset {} has no {} codes: use --area-units with another level, --area-units boundary, --hex or grid cells",
                    set.dataset.name,
                    level.slug()
                )));
            }
            units.area_index = codes
                .iter()
                .enumerate()
                .map(|(i, c)| (c.clone(), i))
                .collect();
            if let Some(b) = &boundary {
                for f in &b.lonlat.features {
                    if let Some(name) = &f.name
                        && units.area_index.contains_key(name)
                    {
                        units
                            .area_rings
                            .entry(name.clone())
                            .or_default()
                            .extend(f.rings.iter().cloned());
                    }
                }
            }
            units.labels = codes;
            units.kind = UnitKind::Area(level);
        }
    }
    Ok(units)
}

impl Units {
    /// Number of units.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// True when there is no unit.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// The unit holding an event, if any.
    pub fn unit_of(&self, set: &EventSet, e: &AnalysisEvent) -> Option<usize> {
        match &self.kind {
            UnitKind::Area(level) => {
                let code = set.area_code(e, *level)?;
                self.area_index.get(code).copied()
            }
            // Events without a point have NaN coordinates, which no cell, hexagon or
            // polygon holds.
            _ => self.unit_of_point(e.x, e.y, e.lon, e.lat),
        }
    }

    /// The unit holding a point given in local metres and WGS84 degrees; `None` for
    /// area-code units, which have no geometry to place a point in.
    pub fn unit_of_point(&self, x: f64, y: f64, lon: f64, lat: f64) -> Option<usize> {
        match &self.kind {
            UnitKind::Grid(g) => {
                let (u, v) = self.frame.to_frame(x, y);
                g.index_of_point(u, v)
            }
            UnitKind::Hex(_) => {
                let c = hex::cell_of(lon, lat, self.hex_resolution?)?;
                self.hex_index.get(&c).copied()
            }
            UnitKind::Area(_) => None,
            UnitKind::Boundary(indexes) => indexes.iter().position(|ix| ix.contains(lon, lat)),
        }
    }

    /// The H3 resolution, when the units are hexagons.
    pub fn hex_resolution(&self) -> Option<u8> {
        self.hex_resolution.map(u8::from)
    }

    /// Contiguity weights (queen for grids, edge-sharing for hexagons); `None` for
    /// areas, whose outlines may be unknown.
    pub fn contiguity(&self, queen: bool) -> Option<Weights> {
        match &self.kind {
            UnitKind::Grid(g) => Some(if queen {
                Weights::queen(g)
            } else {
                Weights::rook(g)
            }),
            UnitKind::Hex(cells) => Some(hex::contiguity(cells)),
            UnitKind::Area(_) | UnitKind::Boundary(_) => None,
        }
    }

    /// The grid's frame (identity for hexagons and areas).
    pub fn frame(&self) -> GridFrame {
        self.frame
    }

    /// The dataset's local metric CRS the units are built in.
    pub fn local_crs(&self) -> &str {
        &self.local_crs
    }

    /// The masked grid, when the units are grid cells.
    pub fn grid(&self) -> Option<&MaskedGrid> {
        match &self.kind {
            UnitKind::Grid(g) => Some(g),
            _ => None,
        }
    }

    /// Unit centres in local metres (areas: NaN, their centres are not known).
    pub fn centres_local(&self) -> Result<Vec<(f64, f64)>> {
        Ok(match &self.kind {
            UnitKind::Grid(g) => g
                .cells()
                .iter()
                .map(|&(r, c)| {
                    let (u, v) = g.grid().centre(r, c);
                    self.frame.from_frame(u, v)
                })
                .collect(),
            UnitKind::Hex(cells) => {
                let proj = Reprojector::new("EPSG:4326", &self.local_crs)?;
                cells
                    .iter()
                    .map(|&c| {
                        hex::centre(c)
                            .and_then(|(lon, lat)| proj.project(lon, lat).ok())
                            .map_or((f64::NAN, f64::NAN), |(_, xy)| xy)
                    })
                    .collect()
            }
            UnitKind::Area(_) | UnitKind::Boundary(_) => vec![(f64::NAN, f64::NAN); self.len()],
        })
    }

    /// Each unit's outline as lon/lat rings (empty for areas without a known outline).
    pub fn rings_lonlat(&self) -> Result<Vec<Rings>> {
        Ok(match &self.kind {
            UnitKind::Grid(g) => {
                let mut out = Vec::with_capacity(g.len());
                for &(r, c) in g.cells() {
                    let mut ring: Vec<(f64, f64)> = g
                        .grid()
                        .ring(r, c)
                        .iter()
                        .map(|&(u, v)| self.frame.from_frame(u, v))
                        .collect();
                    sl_ingest::crs::to_wgs84(&self.local_crs, &mut ring)?;
                    out.push(vec![ring]);
                }
                out
            }
            UnitKind::Hex(cells) => cells
                .iter()
                .map(|&c| hex::ring(c).map(|r| vec![r]).unwrap_or_default())
                .collect(),
            UnitKind::Area(_) | UnitKind::Boundary(_) => self
                .labels
                .iter()
                .map(|l| self.area_rings.get(l).cloned().unwrap_or_default())
                .collect(),
        })
    }

    /// Area of each unit in square metres: grid cells and boundary features in the
    /// local CRS, hexagons on H3's sphere; NaN for area codes, whose outlines are not
    /// known.
    pub fn unit_area_m2(&self) -> Vec<f64> {
        match &self.kind {
            UnitKind::Grid(g) => vec![g.grid().cell_area(); g.len()],
            UnitKind::Hex(cells) => cells
                .iter()
                .map(|&c| {
                    h3o::CellIndex::try_from(c)
                        .map(|c| c.area_m2())
                        .unwrap_or(f64::NAN)
                })
                .collect(),
            UnitKind::Boundary(_) => self.feature_area_m2.clone(),
            UnitKind::Area(_) => vec![f64::NAN; self.len()],
        }
    }

    /// Counts (or sums of `weight`) of the set's events per unit; events outside every
    /// unit are returned as the second value.
    pub fn aggregate(
        &self,
        set: &EventSet,
        weight: impl Fn(&AnalysisEvent) -> f64,
    ) -> (Vec<f64>, usize) {
        let mut out = vec![0.0; self.len()];
        let mut outside = 0;
        for e in &set.events {
            match self.unit_of(set, e) {
                Some(i) => out[i] += weight(e),
                None => outside += 1,
            }
        }
        (out, outside)
    }
}

#[cfg(test)]
mod tests {
    use super::even_odd_area;

    fn square(x0: f64, y0: f64, side: f64) -> Vec<(f64, f64)> {
        vec![
            (x0, y0),
            (x0 + side, y0),
            (x0 + side, y0 + side),
            (x0, y0 + side),
            (x0, y0),
        ]
    }

    /// 10 × 10 with a 2 × 2 hole and a 1 × 1 island inside the hole: 100 − 4 + 1.
    #[test]
    fn feature_area_subtracts_holes() {
        let rings = [
            square(0.0, 0.0, 10.0),
            square(4.0, 4.0, 2.0),
            square(4.5, 4.5, 1.0),
        ];
        assert!((even_odd_area(&rings) - 97.0).abs() < 1e-12);
    }
}

#[cfg(test)]
mod frame_tests {
    use super::GridFrame;

    /// A 90° frame takes the local x axis to the frame's −y axis; the offset moves the
    /// cell boundaries; from_frame undoes to_frame.
    #[test]
    fn grid_frame_rotates_shifts_and_inverts() {
        let f = GridFrame {
            rotation_deg: 90.0,
            offset: (10.0, 20.0),
        };
        let (u, v) = f.to_frame(1.0, 0.0);
        assert!((u - (0.0 - 10.0)).abs() < 1e-12 && (v - (-1.0 - 20.0)).abs() < 1e-12);
        for &(x, y) in &[(0.0, 0.0), (123.4, -56.7), (1e5, 2e5)] {
            let (u, v) = f.to_frame(x, y);
            let (x2, y2) = f.from_frame(u, v);
            assert!((x - x2).abs() < 1e-6 && (y - y2).abs() < 1e-6);
        }
        assert_eq!(GridFrame::default().to_frame(3.0, 4.0), (3.0, 4.0));
    }
}
