//! Context layers: the places an agency knows about (transit stops, bars, schools,
//! street lights, vacant lots), read from GeoJSON or ESRI Shapefile as points, lines
//! and polygons in WGS84 degrees. Risk terrain factors and map layers start here.
//!
//! Multi-part geometries become one shape per part (a MultiPoint of 3 stops is 3
//! points), because what counts is each place; each shape remembers its feature, and
//! every feature keeps its properties (GeoJSON `properties`, a shapefile's `.dbf`
//! record), so stored context layers can carry a population per census tract. Features
//! without a geometry are skipped and counted, so the caller can say so.

use std::io::Read;
use std::path::Path;

use serde_json::{Map, Value};

use crate::crs;

/// One shape in lon/lat degrees.
#[derive(Debug, Clone, PartialEq)]
pub enum LayerShape {
    Point(f64, f64),
    Line(Vec<(f64, f64)>),
    /// Rings under the even-odd rule (outer rings and holes alike).
    Polygon(Vec<Vec<(f64, f64)>>),
}

/// A layer file's shapes.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Layer {
    pub shapes: Vec<LayerShape>,
    /// For each shape, the index of the feature it came from (into `properties`).
    pub feature_of: Vec<usize>,
    /// Every feature's properties in file order, with a geometry or not (empty when the
    /// file has none), so a feature's index is its position in the file.
    pub properties: Vec<Map<String, Value>>,
    /// Features that had no geometry (null in GeoJSON, a null shape in a shapefile).
    pub without_geometry: usize,
}

/// A layer file that could not be used.
#[derive(Debug, thiserror::Error)]
pub enum LayerError {
    #[error("cannot read layer file {path}: {message}")]
    Read { path: String, message: String },
    #[error("layer file {path} holds no points, lines or polygons")]
    Empty { path: String },
    #[error("layer file {path}: {source}")]
    Crs { path: String, source: crs::CrsError },
}

impl Layer {
    /// Reads `.geojson`/`.json` (optionally `.gz` or `.zst`), `.shp` (with the `.dbf`
    /// beside it, when there is one, for properties), or a `.zip` holding one `.shp`.
    /// GeoJSON is WGS84 lon/lat (RFC 7946); other CRSs need `crs` (e.g. `EPSG:2272`),
    /// which is also how a shapefile in a projected CRS is read.
    pub fn read(path: &Path, crs: Option<&str>) -> Result<Self, LayerError> {
        let shown = path.display().to_string();
        let read_err = |message: String| LayerError::Read {
            path: shown.clone(),
            message,
        };
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().to_ascii_lowercase())
            .unwrap_or_default();
        let layer = if name.ends_with(".zip") {
            let (shp, dbf) = crate::boundary::shapefile_in_zip(path).map_err(read_err)?;
            read_shp(shp, dbf).map_err(read_err)?
        } else if name.ends_with(".shp") {
            let shp = std::fs::read(path).map_err(|e| read_err(e.to_string()))?;
            let dbf = sibling_dbf(path)
                .map(|p| std::fs::read(p).map_err(|e| read_err(e.to_string())))
                .transpose()?;
            read_shp(shp, dbf).map_err(read_err)?
        } else {
            let mut text = String::new();
            crate::source::open_decompressed(path)
                .map_err(|e| read_err(e.to_string()))?
                .read_to_string(&mut text)
                .map_err(|e| read_err(e.to_string()))?;
            read_geojson(&text).map_err(read_err)?
        };
        layer.finish(&shown, crs)
    }

    /// Reads GeoJSON text (an uploaded body, a stored layer); `label` names it in
    /// errors. `crs` as for [`Layer::read`].
    pub fn from_geojson(text: &str, label: &str, crs: Option<&str>) -> Result<Self, LayerError> {
        read_geojson(text)
            .map_err(|message| LayerError::Read {
                path: label.to_string(),
                message,
            })?
            .finish(label, crs)
    }

    /// Refuses a layer without shapes and reprojects it to lon/lat.
    fn finish(mut self, shown: &str, crs: Option<&str>) -> Result<Self, LayerError> {
        if self.shapes.is_empty() {
            return Err(LayerError::Empty {
                path: shown.to_string(),
            });
        }
        if let Some(crs) = crs {
            let crs_err = |source| LayerError::Crs {
                path: shown.to_string(),
                source,
            };
            for shape in &mut self.shapes {
                match shape {
                    LayerShape::Point(x, y) => {
                        let mut p = [(*x, *y)];
                        crs::to_wgs84(crs, &mut p).map_err(crs_err)?;
                        (*x, *y) = p[0];
                    }
                    LayerShape::Line(v) => crs::to_wgs84(crs, v).map_err(crs_err)?,
                    LayerShape::Polygon(rings) => {
                        for r in rings {
                            crs::to_wgs84(crs, r).map_err(crs_err)?;
                        }
                    }
                }
            }
        }
        Ok(self)
    }

    /// Adds one feature: its properties and the shapes of its geometry (none when it
    /// has no geometry).
    fn push_feature(&mut self, properties: Map<String, Value>, shapes: Option<Vec<LayerShape>>) {
        let index = self.properties.len();
        self.properties.push(properties);
        match shapes {
            Some(shapes) => {
                self.feature_of
                    .extend(std::iter::repeat_n(index, shapes.len()));
                self.shapes.extend(shapes);
            }
            None => self.without_geometry += 1,
        }
    }
}

/// `x.dbf` (or `x.DBF`) beside `x.shp`, if it exists.
fn sibling_dbf(shp: &Path) -> Option<std::path::PathBuf> {
    ["dbf", "DBF"]
        .iter()
        .map(|ext| shp.with_extension(ext))
        .find(|p| p.is_file())
}

fn read_geojson(text: &str) -> Result<Layer, String> {
    let gj: geojson::GeoJson = text.parse().map_err(|e: geojson::Error| e.to_string())?;
    let mut layer = Layer::default();
    let mut take = |props: Option<&Map<String, Value>>, g: Option<&geojson::Geometry>| {
        let shapes = g.map(|g| {
            let mut out = Vec::new();
            collect(&g.value, &mut out);
            out
        });
        layer.push_feature(props.cloned().unwrap_or_default(), shapes);
    };
    match &gj {
        geojson::GeoJson::FeatureCollection(fc) => fc
            .features
            .iter()
            .for_each(|f| take(f.properties.as_ref(), f.geometry.as_ref())),
        geojson::GeoJson::Feature(f) => take(f.properties.as_ref(), f.geometry.as_ref()),
        geojson::GeoJson::Geometry(g) => take(None, Some(g)),
    }
    Ok(layer)
}

fn collect(value: &geojson::GeometryValue, out: &mut Vec<LayerShape>) {
    use geojson::GeometryValue as G;
    let line = |v: &Vec<geojson::Position>| -> Vec<(f64, f64)> {
        v.iter()
            .filter(|p| p.len() >= 2)
            .map(|p| (p[0], p[1]))
            .collect()
    };
    match value {
        G::Point { coordinates: p } if p.len() >= 2 => out.push(LayerShape::Point(p[0], p[1])),
        G::MultiPoint { coordinates } => out.extend(
            coordinates
                .iter()
                .filter(|p| p.len() >= 2)
                .map(|p| LayerShape::Point(p[0], p[1])),
        ),
        G::LineString { coordinates } => out.push(LayerShape::Line(line(coordinates))),
        G::MultiLineString { coordinates } => {
            out.extend(coordinates.iter().map(|l| LayerShape::Line(line(l))));
        }
        G::Polygon { coordinates } => {
            out.push(LayerShape::Polygon(coordinates.iter().map(line).collect()));
        }
        G::MultiPolygon { coordinates } => out.extend(
            coordinates
                .iter()
                .map(|p| LayerShape::Polygon(p.iter().map(line).collect())),
        ),
        G::GeometryCollection { geometries } => {
            geometries.iter().for_each(|g| collect(&g.value, out));
        }
        _ => {}
    }
}

fn read_shp(shp: Vec<u8>, dbf: Option<Vec<u8>>) -> Result<Layer, String> {
    use shapefile::Shape as S;
    let reader =
        shapefile::ShapeReader::new(std::io::Cursor::new(shp)).map_err(|e| e.to_string())?;
    let shapes = reader.read().map_err(|e| e.to_string())?;
    let mut records = match dbf {
        Some(bytes) => {
            let mut r = shapefile::dbase::Reader::new(std::io::Cursor::new(bytes))
                .map_err(|e| format!("the .dbf attribute table: {e}"))?;
            let records = r
                .read()
                .map_err(|e| format!("the .dbf attribute table: {e}"))?;
            if records.len() != shapes.len() {
                return Err(format!(
                    "the .dbf holds {} records for {} shapes: export the layer again",
                    records.len(),
                    shapes.len()
                ));
            }
            records.into_iter().map(dbf_properties).collect()
        }
        None => vec![Map::new(); shapes.len()],
    }
    .into_iter();
    let mut layer = Layer::default();
    for shape in shapes {
        let props = records.next().unwrap_or_default();
        let parts = match shape {
            S::NullShape => None,
            S::Point(p) => Some(vec![LayerShape::Point(p.x, p.y)]),
            S::PointZ(p) => Some(vec![LayerShape::Point(p.x, p.y)]),
            S::PointM(p) => Some(vec![LayerShape::Point(p.x, p.y)]),
            S::Multipoint(m) => Some(
                m.points()
                    .iter()
                    .map(|p| LayerShape::Point(p.x, p.y))
                    .collect(),
            ),
            S::Polyline(l) => Some(
                l.parts()
                    .iter()
                    .map(|part| LayerShape::Line(part.iter().map(|p| (p.x, p.y)).collect()))
                    .collect(),
            ),
            S::Polygon(p) => {
                let rings: Vec<Vec<(f64, f64)>> = p
                    .rings()
                    .iter()
                    .map(|r| r.points().iter().map(|pt| (pt.x, pt.y)).collect())
                    .collect();
                Some(vec![LayerShape::Polygon(rings)])
            }
            other => {
                return Err(format!(
                    "shape type {} is not supported: export points, lines or polygons",
                    other.shapetype()
                ));
            }
        };
        layer.push_feature(props, parts);
    }
    Ok(layer)
}

/// A `.dbf` record as JSON properties: numbers stay numbers (whole ones as integers),
/// text is trimmed of the padding dBase adds, empty fields are null.
fn dbf_properties(record: shapefile::dbase::Record) -> Map<String, Value> {
    use shapefile::dbase::FieldValue as F;
    let number = |v: f64| {
        if v.fract() == 0.0 && v.abs() < 9.0e15 {
            Value::from(v as i64)
        } else {
            serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number)
        }
    };
    record
        .into_iter()
        .map(|(name, value)| {
            let v = match value {
                F::Character(s) => s.map_or(Value::Null, |s| Value::from(s.trim_end())),
                F::Numeric(n) => n.map_or(Value::Null, number),
                F::Float(n) => n.map_or(Value::Null, |n| number(f64::from(n))),
                F::Integer(n) => Value::from(n),
                F::Currency(n) | F::Double(n) => number(n),
                F::Logical(b) => b.map_or(Value::Null, Value::from),
                F::Date(d) => d.map_or(Value::Null, |d| {
                    Value::from(format!("{:04}-{:02}-{:02}", d.year(), d.month(), d.day()))
                }),
                F::DateTime(t) => Value::from(t.to_unix_timestamp()),
                F::Memo(s) => Value::from(s),
            };
            (name, v)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each shape knows its feature and every feature keeps its properties, geometry or
    /// not; multi-part geometries split into one shape per part.
    #[test]
    fn geojson_features_keep_their_properties() {
        let text = r#"{"type": "FeatureCollection", "features": [
            {"type": "Feature", "properties": {"name": "a", "pop": 10},
             "geometry": {"type": "MultiPoint", "coordinates": [[1, 2], [3, 4]]}},
            {"type": "Feature", "properties": {"name": "b"}, "geometry": null},
            {"type": "Feature", "properties": null,
             "geometry": {"type": "Point", "coordinates": [5, 6]}}
        ]}"#;
        let l = Layer::from_geojson(text, "body", None).expect("layer");
        assert_eq!(
            l.shapes,
            [
                LayerShape::Point(1.0, 2.0),
                LayerShape::Point(3.0, 4.0),
                LayerShape::Point(5.0, 6.0)
            ]
        );
        assert_eq!(l.feature_of, [0, 0, 2]);
        assert_eq!(l.properties.len(), 3);
        assert_eq!(l.properties[0]["pop"], 10);
        assert_eq!(l.properties[1]["name"], "b");
        assert!(l.properties[2].is_empty());
        assert_eq!(l.without_geometry, 1);
    }

    #[test]
    fn text_without_shapes_is_refused_by_name() {
        let e = Layer::from_geojson(
            r#"{"type": "FeatureCollection", "features": []}"#,
            "upload.geojson",
            None,
        )
        .expect_err("empty");
        assert!(matches!(e, LayerError::Empty { .. }), "{e}");
        assert!(e.to_string().contains("upload.geojson"), "{e}");
        let e = Layer::from_geojson("{not json", "upload.geojson", None).expect_err("bad");
        assert!(
            e.to_string()
                .starts_with("cannot read layer file upload.geojson"),
            "{e}"
        );
    }

    /// A point shapefile with its .dbf, written with the shapefile crate: properties
    /// come from the attribute table (numbers as numbers, text trimmed), also from a zip.
    #[test]
    fn shapefile_properties_come_from_the_dbf() {
        use shapefile::dbase::{FieldName, FieldValue, Record, TableWriterBuilder};
        let dir = tempfile::tempdir().expect("tempdir");
        let shp = dir.path().join("stops.shp");
        let table = TableWriterBuilder::new()
            .add_character_field(FieldName::try_from("name").expect("name"), 20)
            .add_numeric_field(FieldName::try_from("riders").expect("name"), 10, 0);
        let mut w = shapefile::Writer::from_path(&shp, table).expect("writer");
        for (x, y, name, riders) in [(1.0, 2.0, "Broad", 120.0), (3.0, 4.0, "Market", 75.0)] {
            let mut r = Record::default();
            r.insert("name".into(), FieldValue::Character(Some(name.into())));
            r.insert("riders".into(), FieldValue::Numeric(Some(riders)));
            w.write_shape_and_record(&shapefile::Point::new(x, y), &r)
                .expect("write");
        }
        drop(w);
        let l = Layer::read(&shp, None).expect("read");
        assert_eq!(
            l.shapes,
            [LayerShape::Point(1.0, 2.0), LayerShape::Point(3.0, 4.0)]
        );
        assert_eq!(l.properties[0]["name"], "Broad");
        assert_eq!(l.properties[1]["riders"], 75);

        let zip_path = dir.path().join("stops.zip");
        {
            use std::io::Write;
            let mut z = zip::ZipWriter::new(std::fs::File::create(&zip_path).expect("zip"));
            for ext in ["shp", "shx", "dbf"] {
                z.start_file(
                    format!("stops/stops.{ext}"),
                    zip::write::SimpleFileOptions::default(),
                )
                .expect("entry");
                z.write_all(&std::fs::read(shp.with_extension(ext)).expect("file"))
                    .expect("bytes");
            }
            z.finish().expect("finish");
        }
        let z = Layer::read(&zip_path, None).expect("read zip");
        assert_eq!(z.properties, l.properties);
        assert_eq!(z.shapes, l.shapes);
    }
}
