//! Reprojection between a source CRS, WGS84 and the dataset's local metric CRS, in
//! pure Rust (proj4rs). Geographic coordinates are degrees at this module's edge;
//! proj4rs works in radians inside.

use proj4rs::Proj;

/// A CRS string that could not be understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown CRS `{crs}` ({reason}): use `EPSG:<code>` or a proj string such as `+proj=utm +zone=18 +datum=NAD83 +units=m`"
)]
pub struct CrsError {
    pub crs: String,
    pub reason: String,
}

/// Parses `EPSG:n`, `WGS84` or a proj string.
pub fn parse_crs(text: &str) -> Result<Proj, CrsError> {
    let trimmed = text.trim();
    let upper = trimmed.to_ascii_uppercase();
    let proj = if let Some(code) = upper.strip_prefix("EPSG:") {
        let code: u16 = code.parse().map_err(|_| CrsError {
            crs: text.to_string(),
            reason: "EPSG code is not a number up to 65535".into(),
        })?;
        Proj::from_epsg_code(code)
    } else {
        Proj::from_user_string(trimmed)
    };
    proj.map_err(|e| CrsError {
        crs: text.to_string(),
        reason: e.to_string(),
    })
}

/// Converts source coordinates to WGS84 degrees and to local metres.
#[derive(Debug)]
pub struct Reprojector {
    source: Proj,
    wgs84: Proj,
    local: Proj,
    source_is_geographic: bool,
    local_to_metre: f64,
}

/// `((lon, lat) degrees, (x, y) local metres)`.
pub type Projected = ((f64, f64), (f64, f64));

/// A point that could not be reprojected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReprojectFailed;

impl Reprojector {
    /// Builds a reprojector from the source CRS to WGS84 and to `local` (metric).
    pub fn new(source: &str, local: &str) -> Result<Self, CrsError> {
        let source = parse_crs(source)?;
        let local_proj = parse_crs(local)?;
        if local_proj.is_latlong() {
            return Err(CrsError {
                crs: local.to_string(),
                reason: "the local CRS must be projected (metres), not geographic".into(),
            });
        }
        let local_to_metre = local_proj.to_meter();
        Ok(Self {
            source_is_geographic: source.is_latlong(),
            source,
            wgs84: parse_crs("EPSG:4326")?,
            local: local_proj,
            local_to_metre,
        })
    }

    /// Source (x, y) → ((lon, lat) degrees, (x, y) local metres).
    pub fn project(&self, x: f64, y: f64) -> Result<Projected, ReprojectFailed> {
        let mut p = if self.source_is_geographic {
            (x.to_radians(), y.to_radians(), 0.0)
        } else {
            (x, y, 0.0)
        };
        let mut geo = p;
        if !self.source_is_geographic {
            proj4rs::transform::transform(&self.source, &self.wgs84, &mut geo)
                .map_err(|_| ReprojectFailed)?;
        }
        proj4rs::transform::transform(&self.source, &self.local, &mut p)
            .map_err(|_| ReprojectFailed)?;
        let lonlat = (geo.0.to_degrees(), geo.1.to_degrees());
        let xy = (p.0 * self.local_to_metre, p.1 * self.local_to_metre);
        if !(lonlat.0.is_finite() && lonlat.1.is_finite() && xy.0.is_finite() && xy.1.is_finite()) {
            return Err(ReprojectFailed);
        }
        Ok((lonlat, xy))
    }

    /// Whether source coordinates are longitude/latitude degrees.
    pub fn source_is_geographic(&self) -> bool {
        self.source_is_geographic
    }
}

/// Converts points of any CRS to WGS84 degrees (for boundary files).
pub fn to_wgs84(crs: &str, points: &mut [(f64, f64)]) -> Result<(), CrsError> {
    let source = parse_crs(crs)?;
    if source.is_latlong() {
        return Ok(());
    }
    let wgs84 = parse_crs("EPSG:4326")?;
    for pt in points.iter_mut() {
        let mut p = (pt.0, pt.1, 0.0);
        proj4rs::transform::transform(&source, &wgs84, &mut p).map_err(|e| CrsError {
            crs: crs.to_string(),
            reason: e.to_string(),
        })?;
        *pt = (p.0.to_degrees(), p.1.to_degrees());
    }
    Ok(())
}
