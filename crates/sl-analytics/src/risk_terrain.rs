//! Risk terrain layers: the places an agency knows about (transit stops, bars, vacant
//! lots, street lights, last year's drug arrests) turned into one binary risk factor per
//! grid cell, as Risk Terrain Modeling does, so a regression can weigh them against a
//! place's own history.
//!
//! Caplan, J. M. & Kennedy, L. W. (2010). *Risk Terrain Modeling Manual*. Rutgers Center
//! on Public Security; Caplan, J. M., Kennedy, L. W. & Miller, J. (2011). Risk terrain
//! modeling: brokering criminological theory and GIS methods for crime forecasting.
//! *Justice Quarterly* 28(2), 360–381; Caplan, J. M., Kennedy, L. W. & Piza, E. L.
//! (2013). *Risk Terrain Modeling Diagnostics Utility User Manual* (RTMDx), Rutgers
//! Center on Public Security.
//!
//! # Operationalisations
//!
//! Each factor is a layer of features, an operation and a spatial influence distance
//! `d` (metres), evaluated at every masked cell's centre `z`:
//!
//! * **Proximity**: 1 when the nearest feature is within `d` of `z` (a point's distance,
//!   a line's nearest segment, 0 inside a polygon, else its nearest edge), else 0.
//! * **Density**: 1 when the quartic kernel density of the layer's points with search
//!   radius `d`, `f(z) = Σ_j 3/(π d²) (1 − ‖z − p_j‖²/d²)²` over `‖z − p_j‖ < d` (the
//!   ArcGIS *Kernel Density* tool RTM uses), is at least two standard deviations above
//!   its mean over the masked cells, and positive; else 0. Only point layers have a
//!   density.
//!
//! These are RTM's two operationalisations and its "+2 SD" reclassification of a
//! density surface (Caplan, Kennedy & Miller 2011). A factor's *relative risk value*
//! is `exp(β)` for its coefficient `β` in a log-linear count model: how many times the
//! expected count of a cell with the factor is that of an otherwise equal cell without
//! it (RTMDx's "RRV"). RTMDx chooses factors, operations and distances by an elastic
//! net and a BIC stepwise search; Streetlight does not search: the analyst names each
//! factor, and the GLM (ridge-penalised) weighs them all beside the history features.
//!
//! # Algorithm
//!
//! Features are cut into segments (a point is a zero-length segment) and bucketed in a
//! uniform grid of side `d`; polygons are registered in every bucket their bounding
//! box meets. A cell centre then looks at the 3 × 3 buckets around it: `O(C + S)` for
//! `C` cells and `S` segments when features are spread out.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::grid::MaskedGrid;
use crate::kde::Kernel;

/// One feature of a layer, in the same planar frame (metres) as the grid.
#[derive(Debug, Clone, PartialEq)]
pub enum Shape {
    Point {
        x: f64,
        y: f64,
    },
    /// A polyline through its vertices.
    Line(Vec<(f64, f64)>),
    /// Closed rings under the even-odd rule (outer rings and holes alike).
    Polygon(Vec<Vec<(f64, f64)>>),
}

/// How a layer becomes a cell's risk factor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    Proximity,
    Density,
}

impl Operation {
    /// Parses `proximity` or `density`.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "proximity" => Some(Self::Proximity),
            "density" => Some(Self::Density),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Proximity => "proximity",
            Self::Density => "density",
        }
    }
}

/// The cell values of a factor on the last grid it was evaluated on. A backtest fits
/// the GLM at every origin (and the ensemble 5 times per origin) on one grid, so the
/// layer is evaluated once instead of at every fit. Clones share it. It is a memo, not
/// part of the factor's identity: any two caches compare equal.
#[derive(Debug, Clone, Default)]
pub struct CellCache(Arc<Mutex<Option<Memo>>>);

/// A fingerprint of what the values depend on ([`values_key`]) and the values.
type Memo = (u64, Arc<Vec<f64>>);

impl PartialEq for CellCache {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

/// A fingerprint of what a factor's cell values depend on: the grid's geometry and
/// every kept cell, and the factor's operation, distance and every coordinate of its
/// shapes (so a changed copy of a factor never reads its original's memo).
fn values_key(factor: &RiskFactor, grid: &MaskedGrid) -> u64 {
    use std::hash::{Hash, Hasher};
    let g = grid.grid();
    let mut h = std::collections::hash_map::DefaultHasher::new();
    (
        g.x0.to_bits(),
        g.y0.to_bits(),
        g.cell.to_bits(),
        g.rows,
        g.cols,
    )
        .hash(&mut h);
    grid.cells().hash(&mut h);
    (factor.operation.as_str(), factor.distance.to_bits()).hash(&mut h);
    let mut point = |(x, y): (f64, f64)| (x.to_bits(), y.to_bits()).hash(&mut h);
    for shape in factor.shapes.iter() {
        match shape {
            Shape::Point { x, y } => point((*x, *y)),
            Shape::Line(v) => v.iter().copied().for_each(&mut point),
            Shape::Polygon(rings) => rings.iter().flatten().copied().for_each(&mut point),
        }
    }
    h.finish()
}

/// A named risk factor: a layer, an operation and a spatial influence distance.
#[derive(Debug, Clone, PartialEq)]
pub struct RiskFactor {
    /// The layer's name as the analyst gave it (letters, digits, `_`, `-`).
    pub layer: String,
    pub shapes: Arc<Vec<Shape>>,
    pub operation: Operation,
    /// Spatial influence distance (proximity) or search radius (density), metres.
    pub distance: f64,
    /// The last grid's cell values (`CellCache::default()` to start empty).
    pub cache: CellCache,
}

impl RiskFactor {
    /// The factor's stable label, e.g. `bars_proximity_200m`.
    pub fn label(&self) -> String {
        format!(
            "{}_{}_{}m",
            self.layer,
            self.operation.as_str(),
            format_distance(self.distance)
        )
    }

    /// Checks the distance and that a density factor's layer holds only points.
    pub fn check(&self) -> Result<(), String> {
        if !(self.distance.is_finite() && self.distance > 0.0) {
            return Err(format!(
                "risk layer {}: distance {} must be a positive number of metres",
                self.layer, self.distance
            ));
        }
        if self.shapes.is_empty() {
            return Err(format!("risk layer {} holds no features", self.layer));
        }
        if self.operation == Operation::Density
            && self
                .shapes
                .iter()
                .any(|s| !matches!(s, Shape::Point { .. }))
        {
            return Err(format!(
                "risk layer {}: density applies to point layers only; use proximity for lines and polygons",
                self.layer
            ));
        }
        Ok(())
    }

    /// The factor at every masked cell's centre: 1.0 where present, else 0.0.
    pub fn cell_values(&self, grid: &MaskedGrid) -> Result<Vec<f64>, String> {
        self.check()?;
        let key = values_key(self, grid);
        if let Ok(memo) = self.cache.0.lock()
            && let Some((k, values)) = memo.as_ref()
            && *k == key
        {
            return Ok(values.as_ref().clone());
        }
        let values = self.compute(grid);
        if let Ok(mut memo) = self.cache.0.lock() {
            *memo = Some((key, Arc::new(values.clone())));
        }
        Ok(values)
    }

    fn compute(&self, grid: &MaskedGrid) -> Vec<f64> {
        let g = grid.grid();
        let centres: Vec<(f64, f64)> = grid.cells().iter().map(|&(r, c)| g.centre(r, c)).collect();
        match self.operation {
            Operation::Proximity => {
                let index = SegmentIndex::new(&self.shapes, self.distance);
                centres
                    .iter()
                    .map(|&(x, y)| {
                        if index.within(x, y, self.distance) {
                            1.0
                        } else {
                            0.0
                        }
                    })
                    .collect()
            }
            Operation::Density => {
                let density = point_density(&self.shapes, &centres, self.distance);
                flag_two_sd(&density)
            }
        }
    }
}

/// `200`, `152.4`: the distance as written in labels.
fn format_distance(d: f64) -> String {
    if d.fract() == 0.0 && d.abs() < 1e15 {
        format!("{}", d as i64)
    } else {
        format!("{d}")
    }
}

/// The quartic kernel density of the point shapes at each centre, radius `h`.
pub fn point_density(shapes: &[Shape], centres: &[(f64, f64)], h: f64) -> Vec<f64> {
    let points: Vec<(f64, f64)> = shapes
        .iter()
        .filter_map(|s| match s {
            Shape::Point { x, y } => Some((*x, *y)),
            _ => None,
        })
        .collect();
    let mut buckets: HashMap<(i64, i64), Vec<(f64, f64)>> = HashMap::new();
    for &(x, y) in &points {
        buckets.entry(bucket(x, y, h)).or_default().push((x, y));
    }
    centres
        .iter()
        .map(|&(x, y)| {
            let (bx, by) = bucket(x, y, h);
            let mut sum = 0.0;
            for dx in -1..=1 {
                for dy in -1..=1 {
                    if let Some(list) = buckets.get(&(bx + dx, by + dy)) {
                        for &(px, py) in list {
                            let d2 = (px - x) * (px - x) + (py - y) * (py - y);
                            sum += Kernel::Quartic.value(d2, h);
                        }
                    }
                }
            }
            sum
        })
        .collect()
}

/// RTM's reclassification of a density surface: 1 where the value is positive and at
/// least the mean plus two (population) standard deviations, else 0.
pub fn flag_two_sd(values: &[f64]) -> Vec<f64> {
    let n = values.len().max(1) as f64;
    let mean = values.iter().sum::<f64>() / n;
    let var = values.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n;
    let cut = mean + 2.0 * var.sqrt();
    values
        .iter()
        .map(|&v| if v > 0.0 && v >= cut { 1.0 } else { 0.0 })
        .collect()
}

fn bucket(x: f64, y: f64, side: f64) -> Bucket {
    ((x / side).floor() as i64, (y / side).floor() as i64)
}

/// Distance from `(x, y)` to the segment `a`–`b` (a point when `a == b`).
pub fn segment_distance(x: f64, y: f64, a: (f64, f64), b: (f64, f64)) -> f64 {
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    let len2 = dx * dx + dy * dy;
    let t = if len2 > 0.0 {
        (((x - a.0) * dx + (y - a.1) * dy) / len2).clamp(0.0, 1.0)
    } else {
        0.0
    };
    let (px, py) = (a.0 + t * dx, a.1 + t * dy);
    ((x - px) * (x - px) + (y - py) * (y - py)).sqrt()
}

/// Whether `(x, y)` is inside the rings under the even-odd rule.
pub fn inside_rings(x: f64, y: f64, rings: &[Vec<(f64, f64)>]) -> bool {
    let mut inside = false;
    for ring in rings {
        let n = ring.len();
        if n < 3 {
            continue;
        }
        let mut j = n - 1;
        for i in 0..n {
            let (xi, yi) = ring[i];
            let (xj, yj) = ring[j];
            if (yi > y) != (yj > y) && x < (xj - xi) * (y - yi) / (yj - yi) + xi {
                inside = !inside;
            }
            j = i;
        }
    }
    inside
}

/// A bucket's `(column, row)` in a uniform grid.
type Bucket = (i64, i64);
/// A segment's two ends.
type Segment = ((f64, f64), (f64, f64));
/// A polygon's rings.
type Rings<'a> = &'a [Vec<(f64, f64)>];

/// Segments and polygons bucketed for "anything within d?" queries.
struct SegmentIndex<'a> {
    side: f64,
    segments: HashMap<Bucket, Vec<Segment>>,
    polygons: HashMap<Bucket, Vec<Rings<'a>>>,
}

impl<'a> SegmentIndex<'a> {
    /// Buckets of side at least `d` (so 3 × 3 buckets hold everything within `d`), and
    /// at most about 1,024 buckets across the layer, so huge polygons or long lines
    /// do not fill millions of buckets.
    fn new(shapes: &'a [Shape], d: f64) -> Self {
        let mut span = 0.0f64;
        let mut lo = (f64::INFINITY, f64::INFINITY);
        let mut hi = (f64::NEG_INFINITY, f64::NEG_INFINITY);
        let mut see = |(x, y): (f64, f64)| {
            lo = (lo.0.min(x), lo.1.min(y));
            hi = (hi.0.max(x), hi.1.max(y));
        };
        for shape in shapes {
            match shape {
                Shape::Point { x, y } => see((*x, *y)),
                Shape::Line(v) => v.iter().copied().for_each(&mut see),
                Shape::Polygon(rings) => rings.iter().flatten().copied().for_each(&mut see),
            }
        }
        if lo.0.is_finite() {
            span = (hi.0 - lo.0).max(hi.1 - lo.1);
        }
        let side = d.max(span / 1024.0);
        let mut segments: HashMap<(i64, i64), Vec<_>> = HashMap::new();
        let mut polygons: HashMap<(i64, i64), Vec<_>> = HashMap::new();
        let mut add = |a: (f64, f64), b: (f64, f64)| {
            // Every bucket the segment's bounding box meets.
            let (x0, y0) = bucket(a.0.min(b.0), a.1.min(b.1), side);
            let (x1, y1) = bucket(a.0.max(b.0), a.1.max(b.1), side);
            for bx in x0..=x1 {
                for by in y0..=y1 {
                    segments.entry((bx, by)).or_default().push((a, b));
                }
            }
        };
        for shape in shapes {
            match shape {
                Shape::Point { x, y } => add((*x, *y), (*x, *y)),
                Shape::Line(v) => {
                    if v.len() == 1 {
                        add(v[0], v[0]);
                    }
                    for w in v.windows(2) {
                        add(w[0], w[1]);
                    }
                }
                Shape::Polygon(rings) => {
                    let mut b = [
                        f64::INFINITY,
                        f64::INFINITY,
                        f64::NEG_INFINITY,
                        f64::NEG_INFINITY,
                    ];
                    for ring in rings {
                        for w in ring.windows(2) {
                            add(w[0], w[1]);
                        }
                        for &(x, y) in ring {
                            b = [b[0].min(x), b[1].min(y), b[2].max(x), b[3].max(y)];
                        }
                    }
                    if b[0].is_finite() {
                        let (x0, y0) = bucket(b[0], b[1], side);
                        let (x1, y1) = bucket(b[2], b[3], side);
                        for bx in x0..=x1 {
                            for by in y0..=y1 {
                                polygons.entry((bx, by)).or_default().push(rings.as_slice());
                            }
                        }
                    }
                }
            }
        }
        Self {
            side,
            segments,
            polygons,
        }
    }

    /// Whether any feature lies within `d ≤ side` of `(x, y)`.
    fn within(&self, x: f64, y: f64, d: f64) -> bool {
        let (bx, by) = bucket(x, y, self.side);
        if let Some(list) = self.polygons.get(&(bx, by))
            && list.iter().any(|rings| inside_rings(x, y, rings))
        {
            return true;
        }
        for dx in -1..=1 {
            for dy in -1..=1 {
                if let Some(list) = self.segments.get(&(bx + dx, by + dy))
                    && list.iter().any(|&(a, b)| segment_distance(x, y, a, b) <= d)
                {
                    return true;
                }
            }
        }
        false
    }
}
