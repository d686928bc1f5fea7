//! Readers that turn an input file into a header plus rows of raw byte fields, so
//! that one normaliser serves CSV, GeoJSON and Parquet alike.
//!
//! CSV is streamed (a 275 MB Philadelphia year never sits in memory); GeoJSON and
//! Parquet files are read into memory whole, which suits the sizes portals publish.

use std::collections::VecDeque;
use std::io::Read;
use std::path::Path;

use csv::ByteRecord;

use crate::source;

/// One input row as read: its fields, 1-based data-row number and 1-based line.
#[derive(Debug, Clone)]
pub struct RawRow {
    pub record: ByteRecord,
    pub row: u64,
    pub line: u64,
    /// Set when the decoder could not read the row; `record` then holds what it could.
    pub decode_error: Option<String>,
}

/// Input formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    GeoJson,
    Parquet,
}

impl Format {
    /// Chooses by file name (after any `.gz`/`.zst`).
    pub fn from_path(path: &Path) -> Format {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().to_ascii_lowercase())
            .unwrap_or_default();
        let stem = name
            .trim_end_matches(".gz")
            .trim_end_matches(".zst")
            .trim_end_matches(".zstd");
        if stem.ends_with(".geojson") || stem.ends_with(".json") {
            Format::GeoJson
        } else if stem.ends_with(".parquet") || stem.ends_with(".pq") {
            Format::Parquet
        } else {
            Format::Csv
        }
    }
}

/// Virtual columns a GeoJSON point reader adds.
pub const GEOMETRY_X: &str = "geometry_x";
pub const GEOMETRY_Y: &str = "geometry_y";

/// An open input table.
pub struct Table {
    header: Vec<String>,
    inner: Inner,
    next_row: u64,
    /// Added to the CSV reader's line numbers. With CRLF line ends the reader reports
    /// each record one line early; the first record (which follows the header, so
    /// cannot start before line 2) reveals the shift.
    line_shift: Option<u64>,
}

impl std::fmt::Debug for Table {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Table")
            .field("header", &self.header)
            .field("next_row", &self.next_row)
            .finish()
    }
}

enum Inner {
    Csv(Box<csv::Reader<Box<dyn Read + Send>>>),
    Memory(VecDeque<ByteRecord>),
}

/// A file that could not be opened as a table.
#[derive(Debug, thiserror::Error)]
#[error("cannot read {path} as {format:?}: {message}")]
pub struct TableError {
    pub path: String,
    pub format: Format,
    pub message: String,
}

impl Table {
    /// Opens a file of the given format.
    pub fn open(path: &Path, format: Format) -> Result<Self, TableError> {
        let err = |message: String| TableError {
            path: path.display().to_string(),
            format,
            message,
        };
        match format {
            Format::Csv => {
                let reader = source::open_decompressed(path).map_err(|e| err(e.to_string()))?;
                let mut csv = csv::ReaderBuilder::new()
                    .flexible(true)
                    .has_headers(true)
                    .buffer_capacity(1 << 20)
                    .from_reader(reader);
                let header = csv
                    .byte_headers()
                    .map_err(|e| err(e.to_string()))?
                    .iter()
                    .map(header_name)
                    .collect();
                Ok(Self {
                    header,
                    inner: Inner::Csv(Box::new(csv)),
                    next_row: 1,
                    line_shift: None,
                })
            }
            Format::GeoJson => {
                let mut text = String::new();
                source::open_decompressed(path)
                    .map_err(|e| err(e.to_string()))?
                    .read_to_string(&mut text)
                    .map_err(|e| err(e.to_string()))?;
                let (header, rows) = geojson_rows(&text).map_err(err)?;
                Ok(Self {
                    header,
                    inner: Inner::Memory(rows),
                    next_row: 1,
                    line_shift: Some(0),
                })
            }
            Format::Parquet => {
                let (header, rows) = parquet_rows(path).map_err(err)?;
                Ok(Self {
                    header,
                    inner: Inner::Memory(rows),
                    next_row: 1,
                    line_shift: Some(0),
                })
            }
        }
    }

    /// Header names (BOM removed, trimmed).
    pub fn header(&self) -> &[String] {
        &self.header
    }

    /// Reads up to `max` rows; an empty vector means the end.
    pub fn read_chunk(&mut self, max: usize) -> Vec<RawRow> {
        let mut out = Vec::with_capacity(max.min(1 << 16));
        while out.len() < max {
            match &mut self.inner {
                Inner::Csv(csv) => {
                    let mut record = ByteRecord::new();
                    match csv.read_byte_record(&mut record) {
                        Ok(true) => {
                            let raw_line = record.position().map_or(0, |p| p.line());
                            let shift = *self.line_shift.get_or_insert(2u64.saturating_sub(raw_line));
                            let line = raw_line + shift;
                            out.push(RawRow {
                                record,
                                row: self.next_row,
                                line,
                                decode_error: None,
                            });
                        }
                        Ok(false) => break,
                        Err(e) => {
                            let line = e.position().map_or(0, |p| p.line())
                                + self.line_shift.unwrap_or(0);
                            out.push(RawRow {
                                record,
                                row: self.next_row,
                                line,
                                decode_error: Some(e.to_string()),
                            });
                            if matches!(e.kind(), csv::ErrorKind::Io(_)) {
                                // The stream itself failed (e.g. truncated gzip): stop here;
                                // the error row records where.
                                self.inner = Inner::Memory(VecDeque::new());
                            }
                        }
                    }
                }
                Inner::Memory(rows) => match rows.pop_front() {
                    Some(record) => out.push(RawRow {
                        record,
                        row: self.next_row,
                        line: self.next_row + 1,
                        decode_error: None,
                    }),
                    None => break,
                },
            }
            self.next_row += 1;
        }
        out
    }

    /// Skips `n` rows (used to resume an interrupted load).
    pub fn skip(&mut self, mut n: u64) {
        while n > 0 {
            let take = n.min(65_536) as usize;
            let got = self.read_chunk(take).len();
            if got == 0 {
                break;
            }
            n -= got as u64;
        }
    }
}

/// Header names: strip a UTF-8 BOM and surrounding whitespace; decode as Latin-1 when
/// not UTF-8 (header names are matched, not stored).
fn header_name(bytes: &[u8]) -> String {
    let bytes = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF][..]).unwrap_or(bytes);
    match std::str::from_utf8(bytes) {
        Ok(s) => s.trim().to_string(),
        Err(_) => bytes
            .iter()
            .map(|&b| b as char)
            .collect::<String>()
            .trim()
            .to_string(),
    }
}

fn geojson_rows(text: &str) -> Result<(Vec<String>, VecDeque<ByteRecord>), String> {
    let gj: geojson::GeoJson = text.parse().map_err(|e: geojson::Error| e.to_string())?;
    let features = match gj {
        geojson::GeoJson::FeatureCollection(fc) => fc.features,
        geojson::GeoJson::Feature(f) => vec![f],
        geojson::GeoJson::Geometry(_) => {
            return Err("a bare geometry has no records: give a FeatureCollection".into());
        }
    };
    let mut header: Vec<String> = Vec::new();
    for f in &features {
        if let Some(props) = &f.properties {
            for k in props.keys() {
                if !header.iter().any(|h| h == k) {
                    header.push(k.clone());
                }
            }
        }
    }
    header.push(GEOMETRY_X.into());
    header.push(GEOMETRY_Y.into());
    let mut rows = VecDeque::with_capacity(features.len());
    for f in &features {
        let mut rec = ByteRecord::new();
        for k in &header[..header.len() - 2] {
            let v = f.properties.as_ref().and_then(|p| p.get(k));
            match v {
                None | Some(serde_json::Value::Null) => rec.push_field(b""),
                Some(serde_json::Value::String(s)) => rec.push_field(s.as_bytes()),
                Some(other) => rec.push_field(other.to_string().as_bytes()),
            }
        }
        match f.geometry.as_ref().map(|g| &g.value) {
            Some(geojson::GeometryValue::Point { coordinates }) if coordinates.len() >= 2 => {
                rec.push_field(coordinates[0].to_string().as_bytes());
                rec.push_field(coordinates[1].to_string().as_bytes());
            }
            _ => {
                rec.push_field(b"");
                rec.push_field(b"");
            }
        }
        rows.push_back(rec);
    }
    Ok((header, rows))
}

fn parquet_rows(path: &Path) -> Result<(Vec<String>, VecDeque<ByteRecord>), String> {
    use parquet::file::reader::{FileReader, SerializedFileReader};
    use parquet::record::Field;
    let file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let reader = SerializedFileReader::new(file).map_err(|e| e.to_string())?;
    let schema = reader.metadata().file_metadata().schema_descr();
    let header: Vec<String> = schema
        .columns()
        .iter()
        .map(|c| c.name().to_string())
        .collect();
    let mut rows = VecDeque::new();
    for row in reader.get_row_iter(None).map_err(|e| e.to_string())? {
        let row = row.map_err(|e| e.to_string())?;
        let mut rec = ByteRecord::new();
        let mut values: Vec<(String, String)> = row
            .get_column_iter()
            .map(|(name, field)| {
                let text = match field {
                    Field::Null => String::new(),
                    Field::Str(s) => s.clone(),
                    Field::Bytes(b) => String::from_utf8_lossy(b.data()).into_owned(),
                    other => other.to_string(),
                };
                (name.clone(), text)
            })
            .collect();
        for h in &header {
            let pos = values.iter().position(|(n, _)| n == h);
            let v = pos.map(|p| values.swap_remove(p).1).unwrap_or_default();
            rec.push_field(v.as_bytes());
        }
        rows.push_back(rec);
    }
    Ok((header, rows))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_with_bom_and_ragged_rows() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("t.csv");
        std::fs::write(&p, b"\xEF\xBB\xBFa, b ,c\n1,2,3\n4,5\n6,7,8,9\n").expect("write");
        let mut t = Table::open(&p, Format::Csv).expect("open");
        assert_eq!(t.header(), ["a", "b", "c"]);
        let rows = t.read_chunk(10);
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[1].record.len(), 2);
        assert_eq!(rows[2].record.len(), 4);
        assert_eq!((rows[0].row, rows[0].line), (1, 2));
        assert!(t.read_chunk(10).is_empty());
    }

    #[test]
    fn geojson_points_become_rows() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("t.geojson");
        std::fs::write(
            &p,
            r#"{"type":"FeatureCollection","features":[
              {"type":"Feature","properties":{"id":"a","n":3},"geometry":{"type":"Point","coordinates":[-75.1,39.9]}},
              {"type":"Feature","properties":{"id":"b"},"geometry":null}]}"#,
        )
        .expect("write");
        let mut t = Table::open(&p, Format::GeoJson).expect("open");
        assert_eq!(t.header(), ["id", "n", GEOMETRY_X, GEOMETRY_Y]);
        let rows = t.read_chunk(10);
        assert_eq!(&rows[0].record[1], b"3");
        assert_eq!(&rows[0].record[2], b"-75.1");
        assert_eq!(&rows[1].record[2], b"");
    }
}

#[cfg(test)]
mod line_tests {
    use super::*;

    #[test]
    fn line_numbers_count_the_header_with_lf_and_crlf() {
        let dir = tempfile::tempdir().expect("tempdir");
        for (name, text) in [("lf.csv", "a,b\n1,2\n3,4\n"), ("crlf.csv", "a,b\r\n1,2\r\n3,4\r\n")] {
            let p = dir.path().join(name);
            std::fs::write(&p, text).expect("write");
            let mut t = Table::open(&p, Format::Csv).expect("open");
            let rows = t.read_chunk(10);
            let lines: Vec<(u64, u64)> = rows.iter().map(|r| (r.row, r.line)).collect();
            assert_eq!(lines, [(1, 2), (2, 3)], "{name}");
        }
    }
}
