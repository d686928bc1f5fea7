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
    /// Newline offsets of the CSV byte stream, for line numbers (see [`LineCounter`]).
    lines: Option<LineCounter>,
}

/// Line numbers for CSV records, counted from the bytes themselves.
///
/// The CSV reader's own line positions are taken before it skips blank lines and
/// before the `\n` of a CRLF pair, so they drift. Instead the decompressed stream is
/// scanned for `\n` as it is read, and a record's last line is the number of newlines
/// before the reader's position after the record (plus one if the record did not end
/// with a newline); its first line subtracts the newlines inside its quoted fields.
#[derive(Debug, Clone)]
struct LineCounter {
    log: std::sync::Arc<std::sync::Mutex<NewlineLog>>,
    /// Newlines counted so far (all before the last record's end).
    seen: u64,
    last_newline: Option<(u64, bool)>,
}

#[derive(Debug, Default)]
struct NewlineLog {
    /// Offset of each `\n`, and whether a closing quote comes right before it (ignoring
    /// one `\r`): that tells a record terminator after a quoted field ending in a newline
    /// from a newline inside a quote that never closes.
    offsets: VecDeque<(u64, bool)>,
    scanned: u64,
    /// The last two bytes scanned, oldest first.
    tail: [u8; 2],
    /// A `\r` that ended the previous read: a line end unless a `\n` follows.
    pending_cr: Option<(u64, bool)>,
}

impl LineCounter {
    /// 1-based first line of a record that ended at byte offset `end`.
    fn first_line(&mut self, end: u64, record: &ByteRecord) -> u64 {
        let mut log = self.log.lock().unwrap_or_else(|e| e.into_inner());
        while let Some(&(off, after_quote)) = log.offsets.front() {
            if off >= end {
                break;
            }
            log.offsets.pop_front();
            self.seen += 1;
            self.last_newline = Some((off, after_quote));
        }
        let newline_at_end =
            matches!(self.last_newline, Some((off, _)) if end > 0 && off == end - 1);
        // If the record's data itself ends with a newline, the final newline is a
        // terminator only when a closing quote precedes it.
        let terminated = newline_at_end
            && (!matches!(record.as_slice().last(), Some(b'\n' | b'\r'))
                || matches!(self.last_newline, Some((_, true))));
        let last = if terminated { self.seen } else { self.seen + 1 };
        let data = record.as_slice();
        let embedded = memchr::memchr_iter(b'\n', data).count() as u64
            + memchr::memchr_iter(b'\r', data)
                .filter(|&i| data.get(i + 1) != Some(&b'\n'))
                .count() as u64;
        last.saturating_sub(embedded).max(1)
    }
}

/// Passes bytes through, logging the offset of every `\n`.
struct NewlineLogger<R> {
    inner: R,
    log: std::sync::Arc<std::sync::Mutex<NewlineLog>>,
}

impl<R: Read> Read for NewlineLogger<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        let mut log = self.log.lock().unwrap_or_else(|e| e.into_inner());
        let base = log.scanned;
        let tail = log.tail;
        let byte_at = |j: isize| -> u8 {
            if j >= 0 {
                buf[j as usize]
            } else {
                tail[(2 + j) as usize]
            }
        };
        if let Some(cr) = log.pending_cr.take()
            && (n == 0 || buf[0] != b'\n')
        {
            log.offsets.push_back(cr);
        }
        // Line ends are `\n`, `\r\n` (counted at the `\n`) and a lone `\r` (old Mac files).
        for i in memchr::memchr2_iter(b'\n', b'\r', &buf[..n]) {
            let i = i as isize;
            let is_lf = buf[i as usize] == b'\n';
            if !is_lf {
                let next = (i as usize) + 1;
                if next == n {
                    let before = byte_at(i - 1);
                    log.pending_cr = Some((base + i as u64, before == b'"'));
                    continue;
                }
                if buf[next] == b'\n' {
                    continue;
                }
            }
            let before = if is_lf && byte_at(i - 1) == b'\r' {
                byte_at(i - 2)
            } else {
                byte_at(i - 1)
            };
            log.offsets.push_back((base + i as u64, before == b'"'));
        }
        if n >= 2 {
            log.tail = [buf[n - 2], buf[n - 1]];
        } else if n == 1 {
            log.tail = [log.tail[1], buf[0]];
        }
        log.scanned += n as u64;
        Ok(n)
    }
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
                let log = std::sync::Arc::new(std::sync::Mutex::new(NewlineLog::default()));
                let reader: Box<dyn Read + Send> = Box::new(NewlineLogger {
                    inner: source::open_decompressed(path).map_err(|e| err(e.to_string()))?,
                    log: log.clone(),
                });
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
                    lines: Some(LineCounter {
                        log,
                        seen: 0,
                        last_newline: None,
                    }),
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
                    lines: None,
                })
            }
            Format::Parquet => {
                let (header, rows) = parquet_rows(path).map_err(err)?;
                Ok(Self {
                    header,
                    inner: Inner::Memory(rows),
                    next_row: 1,
                    lines: None,
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
                            let end = csv.position().byte();
                            let line = self
                                .lines
                                .as_mut()
                                .map_or(0, |l| l.first_line(end, &record));
                            out.push(RawRow {
                                record,
                                row: self.next_row,
                                line,
                                decode_error: None,
                            });
                        }
                        Ok(false) => break,
                        Err(e) => {
                            // A read error has no trustworthy position: line unknown (0).
                            let line = 0;
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
        for (name, text) in [
            ("lf.csv", "a,b\n1,2\n3,4\n"),
            ("crlf.csv", "a,b\r\n1,2\r\n3,4\r\n"),
        ] {
            let p = dir.path().join(name);
            std::fs::write(&p, text).expect("write");
            let mut t = Table::open(&p, Format::Csv).expect("open");
            let rows = t.read_chunk(10);
            let lines: Vec<(u64, u64)> = rows.iter().map(|r| (r.row, r.line)).collect();
            assert_eq!(lines, [(1, 2), (2, 3)], "{name}");
        }
    }
}
