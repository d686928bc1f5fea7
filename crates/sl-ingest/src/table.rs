//! Readers that turn an input file into a header plus rows of raw byte fields, so
//! that one normaliser serves CSV, GeoJSON, Parquet and point shapefiles alike.
//!
//! CSV is streamed (a 275 MB Philadelphia year never sits in memory); GeoJSON,
//! Parquet and shapefile inputs are read into memory whole, which suits the sizes
//! portals publish.

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
    /// An ESRI point shapefile: a `.shp` with its `.dbf` beside it, or a `.zip`
    /// holding one `.shp` and its `.dbf`.
    Shapefile,
}

impl Format {
    /// Chooses by file name (after any `.gz`/`.zst`); `.shp` and `.zip` are shapefiles.
    pub fn from_path(path: &Path) -> Format {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().to_ascii_lowercase())
            .unwrap_or_default();
        let stem = name
            .trim_end_matches(".gz")
            .trim_end_matches(".zst")
            .trim_end_matches(".zstd");
        if name.ends_with(".shp") || name.ends_with(".zip") {
            Format::Shapefile
        } else if stem.ends_with(".geojson") || stem.ends_with(".json") {
            Format::GeoJson
        } else if stem.ends_with(".parquet") || stem.ends_with(".pq") {
            Format::Parquet
        } else {
            Format::Csv
        }
    }
}

/// Virtual columns the GeoJSON and shapefile point readers add.
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
        Self::open_with(path, format, None)
    }

    /// Opens a file; `csv_columns` names the columns of a CSV file that has no header
    /// row (its first line is then data).
    pub fn open_with(
        path: &Path,
        format: Format,
        csv_columns: Option<&[String]>,
    ) -> Result<Self, TableError> {
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
                    .has_headers(csv_columns.is_none())
                    .buffer_capacity(1 << 20)
                    .from_reader(reader);
                let header = match csv_columns {
                    Some(names) => names.iter().map(|n| n.trim().to_string()).collect(),
                    None => csv
                        .byte_headers()
                        .map_err(|e| err(e.to_string()))?
                        .iter()
                        .map(header_name)
                        .collect(),
                };
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
            Format::Shapefile => {
                let (header, rows) = shapefile_rows(path).map_err(err)?;
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
        let mut out = Vec::new();
        self.read_chunk_into(&mut out, max);
        out
    }

    /// Reads up to `max` rows into `out`, reusing the rows (and their field buffers)
    /// already there, so a caller that hands chunks back reads without allocating.
    /// Afterwards `out` holds exactly the rows read; empty means the end.
    pub fn read_chunk_into(&mut self, out: &mut Vec<RawRow>, max: usize) {
        let mut n = 0;
        while n < max {
            if n == out.len() {
                out.push(RawRow {
                    record: ByteRecord::new(),
                    row: 0,
                    line: 0,
                    decode_error: None,
                });
            }
            let slot = &mut out[n];
            slot.row = self.next_row;
            slot.decode_error = None;
            match &mut self.inner {
                Inner::Csv(csv) => match csv.read_byte_record(&mut slot.record) {
                    Ok(true) => {
                        let end = csv.position().byte();
                        slot.line = self
                            .lines
                            .as_mut()
                            .map_or(0, |l| l.first_line(end, &slot.record));
                    }
                    Ok(false) => break,
                    Err(e) => {
                        // A read error has no trustworthy position: line unknown (0).
                        slot.line = 0;
                        slot.decode_error = Some(e.to_string());
                        if matches!(e.kind(), csv::ErrorKind::Io(_)) {
                            // The stream itself failed (e.g. truncated gzip): stop here;
                            // the error row records where.
                            self.inner = Inner::Memory(VecDeque::new());
                        }
                    }
                },
                Inner::Memory(rows) => match rows.pop_front() {
                    Some(record) => {
                        slot.record = record;
                        slot.line = self.next_row + 1;
                    }
                    None => break,
                },
            }
            n += 1;
            self.next_row += 1;
        }
        out.truncate(n);
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
                    // The parquet crate prints 0.0 as `0E0` and every negative or large
                    // float in exponent form (-123.1 as `-1.231E2`).
                    Field::Double(v) => float_text(*v),
                    Field::Float(v) => float_text(*v),
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

/// Reads a point shapefile: a `.shp` with its `.dbf` beside it, or a `.zip` holding one
/// `.shp` and its `.dbf` (as the NIJ and many police portals publish them).
///
/// The attribute table is taken from the `.dbf` bytes as stored, so each field is the
/// text the file holds: character fields keep their bytes (the padding after them
/// removed; the profile's encoding decodes them, as for CSV), numbers lose only their
/// padding and the zeros that pad the field's fixed decimals (`   7660085.000000` →
/// `7660085.0`, as the NIJ CSV extracts print them), dates become `YYYY-MM-DD`. Records
/// marked deleted are skipped. Each record's point gives the virtual columns
/// [`GEOMETRY_X`] and [`GEOMETRY_Y`] (both empty for a null shape or a "no data" point).
fn shapefile_rows(path: &Path) -> Result<(Vec<String>, VecDeque<ByteRecord>), String> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    let (shp, dbf) = if name.ends_with(".zip") {
        zipped_shapefile(path)?
    } else {
        let shp = std::fs::read(path).map_err(|e| e.to_string())?;
        (shp, sibling_dbf(path)?)
    };
    point_table(shp, &dbf)
}

/// The `.dbf` next to a `.shp` (same stem, extension in any case).
fn sibling_dbf(shp: &Path) -> Result<Vec<u8>, String> {
    let wanted = shp.with_extension("dbf");
    let stem = shp
        .file_stem()
        .map(|s| s.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    let dir = match shp.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    let found = std::fs::read_dir(&dir).ok().and_then(|entries| {
        entries.filter_map(Result::ok).map(|e| e.path()).find(|p| {
            p.file_stem().map(|s| s.to_string_lossy().to_lowercase()) == Some(stem.clone())
                && p.extension()
                    .is_some_and(|x| x.to_string_lossy().eq_ignore_ascii_case("dbf"))
        })
    });
    let dbf = found.ok_or_else(|| {
        format!(
            "its attribute table {} is missing: a shapefile's .dbf must sit next to its .shp",
            wanted.display()
        )
    })?;
    std::fs::read(&dbf).map_err(|e| format!("{}: {e}", dbf.display()))
}

/// The `.shp` and `.dbf` bytes of the one shapefile in a zip.
fn zipped_shapefile(path: &Path) -> Result<(Vec<u8>, Vec<u8>), String> {
    let file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let mut zip = zip::ZipArchive::new(std::io::BufReader::new(file))
        .map_err(|e| format!("not a readable zip: {e}"))?;
    let names: Vec<String> = zip.file_names().map(str::to_string).collect();
    // macOS archivers add `__MACOSX/` folders and `._name` resource forks.
    let is_junk = |n: &str| {
        n.starts_with("__MACOSX/") || n.rsplit('/').next().is_some_and(|b| b.starts_with("._"))
    };
    let shps: Vec<&String> = names
        .iter()
        .filter(|n| !is_junk(n) && n.to_ascii_lowercase().ends_with(".shp"))
        .collect();
    let shp_name = match shps.as_slice() {
        [one] => (*one).clone(),
        [] => {
            return Err(
                "the zip holds no .shp file: give a zip holding one point shapefile (.shp and .dbf)"
                    .into(),
            );
        }
        many => {
            let listed: Vec<&str> = many.iter().map(|s| s.as_str()).collect();
            return Err(format!(
                "the zip holds {} shapefiles ({}): give a zip holding exactly one",
                many.len(),
                listed.join(", ")
            ));
        }
    };
    // ".shp" is ASCII, so cutting 4 bytes stays on a character boundary.
    let dbf_wanted = format!("{}.dbf", &shp_name[..shp_name.len() - 4]).to_ascii_lowercase();
    let dbf_name = names
        .iter()
        .find(|n| n.to_ascii_lowercase() == dbf_wanted)
        .cloned()
        .ok_or_else(|| {
            format!("the zip holds {shp_name} but not its attribute table ({dbf_wanted})")
        })?;
    let mut read = |name: &str| -> Result<Vec<u8>, String> {
        let mut entry = zip.by_name(name).map_err(|e| format!("{name}: {e}"))?;
        let mut bytes = Vec::with_capacity(entry.size().min(1 << 28) as usize);
        entry
            .read_to_end(&mut bytes)
            .map_err(|e| format!("{name}: {e}"))?;
        Ok(bytes)
    };
    let shp = read(&shp_name)?;
    let dbf = read(&dbf_name)?;
    Ok((shp, dbf))
}

/// Pairs each `.dbf` record with its point (the n-th record goes with the n-th shape).
fn point_table(shp: Vec<u8>, dbf: &[u8]) -> Result<(Vec<String>, VecDeque<ByteRecord>), String> {
    use shapefile::dbase::FieldType;
    use shapefile::{Shape, ShapeType};

    let mut shapes = shapefile::ShapeReader::new(std::io::Cursor::new(shp))
        .map_err(|e| format!("the .shp: {e}"))?;
    let kind = shapes.header().shape_type;
    if !matches!(
        kind,
        ShapeType::Point | ShapeType::PointM | ShapeType::PointZ | ShapeType::NullShape
    ) {
        return Err(format!(
            "the shapefile holds {kind} shapes, but only point shapefiles can be read as records \
             (a polygon shapefile of areas is a boundary: give it as jurisdiction.boundary or --boundary)"
        ));
    }
    let mut points: Vec<Option<(f64, f64)>> = Vec::new();
    for (i, shape) in shapes.iter_shapes().enumerate() {
        let shape = shape.map_err(|e| format!("the .shp, shape {}: {e}", i + 1))?;
        points.push(match shape {
            Shape::NullShape => None,
            Shape::Point(p) => Some((p.x, p.y)),
            Shape::PointM(p) => Some((p.x, p.y)),
            Shape::PointZ(p) => Some((p.x, p.y)),
            other => {
                return Err(format!(
                    "shape {} is a {}, not a point: only point shapefiles can be read as records",
                    i + 1,
                    other.shapetype()
                ));
            }
        });
    }

    // The dbase reader checks the header and field descriptors; the field values are
    // then cut from the record bytes, so that they keep the text the file holds (the
    // reader would parse numbers into floats and decode text with one fixed encoding).
    let reader = shapefile::dbase::ReaderBuilder::new()
        .with_encoding(shapefile::dbase::UnicodeLossy)
        .build(std::io::Cursor::new(dbf))
        .map_err(|e| format!("the .dbf: {e}"))?;
    let fields: Vec<(String, FieldType, usize)> = reader
        .fields()
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let name = if f.name().contains('\u{FFFD}') {
                // Not UTF-8: take the descriptor's bytes as Latin-1, as for CSV headers.
                let raw = dbf.get(32 + 32 * i..32 + 32 * i + 11).unwrap_or(&[]);
                header_name(raw.split(|&b| b == 0).next().unwrap_or(&[]))
            } else {
                f.name()
                    .trim_matches(|c: char| c == '\0' || c.is_whitespace())
                    .to_string()
            };
            (name, f.field_type(), usize::from(f.length()))
        })
        .collect();
    if let Some((name, _, _)) = fields.iter().find(|f| f.1 == FieldType::Memo) {
        return Err(format!(
            "field {name} of the .dbf is a memo field, which shapefiles do not use; memo fields cannot be read"
        ));
    }
    let header = reader.header();
    let count = header.num_records as usize;
    let start = usize::from(header.offset_to_first_record);
    let size = usize::from(header.size_of_record);
    let used = 1 + fields.iter().map(|f| f.2).sum::<usize>();
    if size < used {
        return Err(format!(
            "the .dbf header is inconsistent: records of {size} bytes cannot hold fields of {used}"
        ));
    }
    if points.len() != count {
        return Err(format!(
            "the .shp holds {} shapes but the .dbf {count} records: they are not one shapefile",
            points.len()
        ));
    }

    let mut names: Vec<String> = fields.iter().map(|f| f.0.clone()).collect();
    names.push(GEOMETRY_X.into());
    names.push(GEOMETRY_Y.into());
    let mut rows = VecDeque::with_capacity(count);
    let mut text = Vec::with_capacity(256);
    for (i, point) in points.iter().enumerate() {
        let record = start
            .checked_add(i * size)
            .and_then(|from| dbf.get(from..from + size))
            .ok_or_else(|| {
                format!(
                    "the .dbf ends inside record {} of {count}: the file is truncated",
                    i + 1
                )
            })?;
        if record[0] == b'*' {
            continue; // deleted
        }
        let mut rec = ByteRecord::new();
        let mut at = 1;
        for (_, kind, len) in &fields {
            text.clear();
            dbf_field_text(*kind, &record[at..at + len], &mut text);
            rec.push_field(&text);
            at += len;
        }
        match point {
            Some((x, y)) if real_coordinate(*x) && real_coordinate(*y) => {
                rec.push_field(x.to_string().as_bytes());
                rec.push_field(y.to_string().as_bytes());
            }
            _ => {
                rec.push_field(b"");
                rec.push_field(b"");
            }
        }
        rows.push_back(rec);
    }
    Ok((names, rows))
}

/// One `.dbf` field's stored bytes as text (see [`shapefile_rows`]).
fn dbf_field_text(kind: shapefile::dbase::FieldType, bytes: &[u8], out: &mut Vec<u8>) {
    use shapefile::dbase::FieldType;
    let trimmed = bytes.trim_ascii();
    match kind {
        FieldType::Character | FieldType::Memo => {
            // Text ends at a NUL (C-style padding) and loses trailing blanks; leading
            // blanks are data (the NIJ `CALL_GROUP` value " SUSPICIOUS").
            let text = bytes.split(|&b| b == 0).next().unwrap_or(&[]);
            let end = text.iter().rposition(|&b| b != b' ').map_or(0, |i| i + 1);
            out.extend_from_slice(&text[..end]);
        }
        FieldType::Numeric | FieldType::Float => number_text(trim_nul(trimmed), out),
        FieldType::Date => {
            let t = trim_nul(trimmed);
            if t.iter().all(|&b| b == b'0') {
                // blank or 00000000: no date
            } else if t.len() == 8 && t.iter().all(u8::is_ascii_digit) {
                out.extend_from_slice(&t[..4]);
                out.push(b'-');
                out.extend_from_slice(&t[4..6]);
                out.push(b'-');
                out.extend_from_slice(&t[6..]);
            } else {
                out.extend_from_slice(t); // not a date: left for the date check to report
            }
        }
        FieldType::Logical => match trim_nul(trimmed) {
            [] | [b'?'] => {}
            [b'T' | b't' | b'Y' | b'y'] => out.extend_from_slice(b"true"),
            [b'F' | b'f' | b'N' | b'n'] => out.extend_from_slice(b"false"),
            other => out.extend_from_slice(other),
        },
        FieldType::Integer => {
            if let Some(b) = bytes.first_chunk::<4>() {
                out.extend_from_slice(i32::from_le_bytes(*b).to_string().as_bytes());
            }
        }
        FieldType::Double => {
            if let Some(b) = bytes.first_chunk::<8>() {
                let v = f64::from_le_bytes(*b);
                if v.is_finite() {
                    out.extend_from_slice(float_text(v).as_bytes());
                }
            }
        }
        FieldType::Currency => {
            // Visual FoxPro currency: a 64-bit integer of ten-thousandths.
            if let Some(b) = bytes.first_chunk::<8>() {
                let v = i64::from_le_bytes(*b);
                let sign = if v < 0 { "-" } else { "" };
                let a = v.unsigned_abs();
                let t = format!("{sign}{}.{:04}", a / 10_000, a % 10_000);
                number_text(t.as_bytes(), out);
            }
        }
        FieldType::DateTime => {
            // Visual FoxPro datetime: Julian day number and milliseconds after midnight.
            if let (Some(d), Some(m)) = (
                bytes.first_chunk::<4>(),
                bytes.get(4..).and_then(|b| b.first_chunk::<4>()),
            ) {
                let (jdn, ms) = (i32::from_le_bytes(*d), i32::from_le_bytes(*m));
                let date = jiff::civil::date(1970, 1, 1)
                    .checked_add(jiff::Span::new().days(i64::from(jdn) - 2_440_588))
                    .ok();
                if let (true, Some(date), 0..86_400_000) = (jdn != 0, date, ms) {
                    let s = ms / 1000;
                    out.extend_from_slice(
                        format!("{date} {:02}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
                            .as_bytes(),
                    );
                }
            }
        }
    }
}

/// Whether a shapefile coordinate is a value rather than a "no data" mark: ESRI writes
/// an empty point as -1.8e308 (`-DBL_MAX`), and the format treats anything below
/// -1e38 as no data (the NIJ package's one call without a location is such a point).
fn real_coordinate(v: f64) -> bool {
    v.is_finite() && v.abs() < 1e38
}

fn trim_nul(bytes: &[u8]) -> &[u8] {
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    bytes[..end].trim_ascii()
}

/// A stored dBase number as a number's text: padding, a `+` sign, leading zeros and the
/// zeros that only fill the fixed decimals go, one decimal stays (`802.000000` →
/// `802.0`, `0012` → `12`, `.50` → `0.5`); blank or `*` (overflow) is empty; anything
/// that is not plain decimal notation is kept as stored.
fn number_text(t: &[u8], out: &mut Vec<u8>) {
    if t.iter().all(|&b| b == b'*') {
        return;
    }
    let (negative, digits) = match t {
        [b'-', rest @ ..] => (true, rest),
        [b'+', rest @ ..] => (false, rest),
        _ => (false, t),
    };
    let (int, frac) = match digits.iter().position(|&b| b == b'.') {
        Some(p) => (&digits[..p], Some(&digits[p + 1..])),
        None => (digits, None),
    };
    let plain = |s: &[u8]| s.iter().all(u8::is_ascii_digit);
    if !plain(int)
        || !frac.is_none_or(plain)
        || (int.is_empty() && frac.is_none_or(<[u8]>::is_empty))
    {
        out.extend_from_slice(t);
        return;
    }
    if negative {
        out.push(b'-');
    }
    let int = match int.iter().position(|&b| b != b'0') {
        Some(p) => &int[p..],
        None => b"0",
    };
    out.extend_from_slice(int);
    if let Some(frac) = frac {
        let end = frac.iter().rposition(|&b| b != b'0').map_or(0, |i| i + 1);
        out.push(b'.');
        out.extend_from_slice(if end == 0 { b"0" } else { &frac[..end] });
    }
}

/// A float as plain decimal text: the shortest digits that read back as the same value,
/// never an exponent, and `.0` on whole numbers (`490245.3494`, `0.0`, `-75.1817798`,
/// `2026.0`), as pandas writes floats to CSV.
fn float_text<F: std::fmt::Display + Into<f64> + Copy>(v: F) -> String {
    let wide: f64 = v.into();
    if wide.is_finite() && wide.fract() == 0.0 && wide.abs() < 1e16 {
        format!("{wide:.1}")
    } else {
        v.to_string()
    }
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

#[cfg(test)]
mod shapefile_tests {
    use super::*;
    use std::io::Write;

    /// A `.shp` of the given header type and shapes (`None`: a null shape).
    fn shp(kind: i32, points: &[Option<(f64, f64)>]) -> Vec<u8> {
        let mut records = Vec::new();
        for (i, p) in points.iter().enumerate() {
            records.extend_from_slice(&(i as i32 + 1).to_be_bytes());
            match p {
                Some((x, y)) => {
                    records.extend_from_slice(&10i32.to_be_bytes());
                    records.extend_from_slice(&1i32.to_le_bytes());
                    records.extend_from_slice(&x.to_le_bytes());
                    records.extend_from_slice(&y.to_le_bytes());
                }
                None => {
                    records.extend_from_slice(&2i32.to_be_bytes());
                    records.extend_from_slice(&0i32.to_le_bytes());
                }
            }
        }
        let mut out = Vec::new();
        out.extend_from_slice(&9994i32.to_be_bytes());
        out.extend_from_slice(&[0; 20]);
        out.extend_from_slice(&(((100 + records.len()) / 2) as i32).to_be_bytes());
        out.extend_from_slice(&1000i32.to_le_bytes());
        out.extend_from_slice(&kind.to_le_bytes());
        for v in [0.0f64, 0.0, 10.0, 10.0, 0.0, 0.0, 0.0, 0.0] {
            out.extend_from_slice(&v.to_le_bytes());
        }
        out.extend_from_slice(&records);
        out
    }

    /// A dBase III `.dbf`: fields (name, type, length, decimals) and records (deletion
    /// flag followed by the fields' bytes, each already padded to its length).
    fn dbf(fields: &[(&str, u8, u8, u8)], records: &[(u8, Vec<&[u8]>)]) -> Vec<u8> {
        let record_size: u16 = 1 + fields.iter().map(|f| u16::from(f.2)).sum::<u16>();
        let header_size = 32 + 32 * fields.len() as u16 + 1;
        let mut out = vec![0x03, 116, 8, 1];
        out.extend_from_slice(&(records.len() as u32).to_le_bytes());
        out.extend_from_slice(&header_size.to_le_bytes());
        out.extend_from_slice(&record_size.to_le_bytes());
        out.extend_from_slice(&[0; 20]);
        for (name, kind, len, decimals) in fields {
            let mut n = [0u8; 11];
            n[..name.len()].copy_from_slice(name.as_bytes());
            out.extend_from_slice(&n);
            out.push(*kind);
            out.extend_from_slice(&[0; 4]);
            out.push(*len);
            out.push(*decimals);
            out.extend_from_slice(&[0; 14]);
        }
        out.push(0x0D);
        for (flag, values) in records {
            out.push(*flag);
            for (v, f) in values.iter().zip(fields) {
                assert_eq!(v.len(), usize::from(f.2), "test record field {}", f.0);
                out.extend_from_slice(v);
            }
        }
        out.push(0x1A);
        out
    }

    const FIELDS: [(&str, u8, u8, u8); 5] = [
        ("NAME", b'C', 12, 0),
        ("VAL", b'N', 10, 4),
        ("DAY", b'D', 8, 0),
        ("FLAG", b'L', 1, 0),
        ("CNT", b'N', 5, 0),
    ];

    fn sample() -> (Vec<u8>, Vec<u8>) {
        let records: Vec<(u8, Vec<&[u8]>)> = vec![
            (
                b' ',
                vec![b" lead space ", b"   12.5000", b"20160810", b"T", b"   42"],
            ),
            (
                b'*',
                vec![b"deleted     ", b"    1.0000", b"20160811", b"F", b"    1"],
            ),
            (
                b' ',
                vec![
                    b"nul\0\0\0\0\0\0\0\0\0",
                    b"          ",
                    b"        ",
                    b"?",
                    b"*****",
                ],
            ),
            (
                b' ',
                vec![
                    b"Caf\xE9        ",
                    b"   -0.5000",
                    b"00000000",
                    b"n",
                    b"00007",
                ],
            ),
        ];
        let points = [
            Some((1.5, 2.25)),
            Some((9.0, 9.0)),
            None,
            Some((-f64::MAX, -f64::MAX)),
        ];
        (shp(1, &points), dbf(&FIELDS, &records))
    }

    fn check_sample(t: &mut Table) {
        assert_eq!(
            t.header(),
            ["NAME", "VAL", "DAY", "FLAG", "CNT", GEOMETRY_X, GEOMETRY_Y]
        );
        let rows = t.read_chunk(10);
        let got: Vec<Vec<&[u8]>> = rows.iter().map(|r| r.record.iter().collect()).collect();
        let want: Vec<Vec<&[u8]>> = vec![
            vec![
                b" lead space",
                b"12.5",
                b"2016-08-10",
                b"true",
                b"42",
                b"1.5",
                b"2.25",
            ],
            // The deleted record is skipped; a null shape has no point.
            vec![b"nul", b"", b"", b"", b"", b"", b""],
            // Text bytes are kept for the profile's encoding; -DBL_MAX is "no data".
            vec![b"Caf\xE9", b"-0.5", b"", b"false", b"7", b"", b""],
        ];
        assert_eq!(got, want);
        let numbers: Vec<(u64, u64)> = rows.iter().map(|r| (r.row, r.line)).collect();
        assert_eq!(numbers, [(1, 2), (2, 3), (3, 4)]);
        assert!(t.read_chunk(10).is_empty());
    }

    #[test]
    fn plain_and_zipped_point_shapefiles() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (shp_bytes, dbf_bytes) = sample();
        let shp_path = dir.path().join("calls.shp");
        std::fs::write(&shp_path, &shp_bytes).expect("write");
        std::fs::write(dir.path().join("calls.dbf"), &dbf_bytes).expect("write");
        assert_eq!(Format::from_path(&shp_path), Format::Shapefile);
        check_sample(&mut Table::open(&shp_path, Format::Shapefile).expect("open .shp"));

        let zip_path = dir.path().join("Calls.ZIP");
        let mut w = zip::ZipWriter::new(std::fs::File::create(&zip_path).expect("create"));
        for (name, bytes) in [
            ("__MACOSX/data/._calls.shp", &b"junk"[..]),
            ("data/calls.SHP", &shp_bytes),
            ("data/calls.DBF", &dbf_bytes),
            ("data/calls.prj", b"PROJCS[...]"),
        ] {
            w.start_file(name, zip::write::SimpleFileOptions::default())
                .expect("member");
            w.write_all(bytes).expect("write member");
        }
        w.finish().expect("finish");
        assert_eq!(Format::from_path(&zip_path), Format::Shapefile);
        check_sample(&mut Table::open(&zip_path, Format::Shapefile).expect("open .zip"));
    }

    #[test]
    fn non_point_and_mismatched_shapefiles_are_errors() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (_, dbf_bytes) = sample();
        let open = |shp_bytes: Vec<u8>| {
            let p = dir.path().join("x.shp");
            std::fs::write(&p, shp_bytes).expect("write");
            std::fs::write(dir.path().join("x.dbf"), &dbf_bytes).expect("write");
            Table::open(&p, Format::Shapefile)
                .expect_err("refused")
                .to_string()
        };
        let polyline = open(shp(3, &[]));
        assert!(
            polyline.contains("Polyline") && polyline.contains("only point shapefiles"),
            "{polyline}"
        );
        let short = open(shp(1, &[Some((1.0, 1.0))]));
        assert!(short.contains("1 shapes but the .dbf 4 records"), "{short}");
        let mut truncated = sample().1;
        truncated.truncate(truncated.len() - 20);
        let p = dir.path().join("x.shp");
        std::fs::write(&p, sample().0).expect("write");
        std::fs::write(dir.path().join("x.dbf"), &truncated).expect("write");
        let err = Table::open(&p, Format::Shapefile)
            .expect_err("truncated")
            .to_string();
        assert!(err.contains("record 4 of 4"), "{err}");
    }

    #[test]
    fn dbf_numbers_read_as_number_text() {
        for (stored, want) in [
            ("7660085.000000", "7660085.0"),
            ("802.000000", "802.0"),
            ("0.000000", "0.0"),
            ("-0.500", "-0.5"),
            (".5", "0.5"),
            ("+3.10", "3.1"),
            ("0012", "12"),
            ("0", "0"),
            ("-12", "-12"),
            ("***", ""),
            ("", ""),
            ("1.5e3", "1.5e3"),
            ("12-3", "12-3"),
            (".", "."),
        ] {
            let mut out = Vec::new();
            number_text(stored.as_bytes(), &mut out);
            assert_eq!(String::from_utf8(out).expect("utf-8"), want, "{stored:?}");
        }
    }

    #[test]
    fn floats_read_as_plain_decimals() {
        assert_eq!(float_text(0.0), "0.0");
        assert_eq!(float_text(-75.1817798), "-75.1817798");
        assert_eq!(float_text(490245.3494), "490245.3494");
        assert_eq!(float_text(2026.0), "2026.0");
        assert_eq!(float_text(1e20), "100000000000000000000");
        assert_eq!(float_text(1e-7), "0.0000001");
        assert_eq!(float_text(0.1f32), "0.1");
        assert_eq!(float_text(f64::NAN), "NaN");
    }
}
