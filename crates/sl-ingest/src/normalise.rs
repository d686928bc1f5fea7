//! The row normaliser: one raw row in, one event, retraction or rejection out.
//!
//! A [`Layout`] binds a profile to one file's header (columns are found by name, so
//! header variants and reordered columns just work). [`Layout::normalise`] is pure and
//! `Sync`, so rows are normalised in parallel; everything stateful (duplicates,
//! revisions, retraction matching) happens later, in the engine, against the store.

use std::borrow::Cow;

use csv::ByteRecord;
use jiff::tz::TimeZone;
use sl_types::{
    Areas, Category, Event, EventId, HarmTable, Location, Offence, Precision, ReasonCode,
    SourceKind, TimeWindow, Timestamp,
};
use xxhash_rust::xxh3::{xxh3_64, xxh3_128};

use crate::boundary::PolygonIndex;
use crate::crs::Reprojector;
use crate::datetime::{DateFormat, FoldPolicy, Parsed, Resolution, TimeProblem};
use crate::profile::{ColumnRef, Profile, TimeSection};
use crate::table::RawRow;

/// Everything a layout needs besides the header: resolved once per ingest.
#[derive(Debug)]
pub struct Context {
    pub tz: TimeZone,
    pub reprojector: Option<Reprojector>,
    pub bbox: Option<[f64; 4]>,
    pub boundary: Option<PolygonIndex>,
    /// The boundary's polygons (lon/lat), kept so the store can record them.
    pub jurisdiction: Option<crate::boundary::Boundary>,
    /// Rows dated after this instant are `FUTURE_DATE`.
    pub now: Timestamp,
    pub harm: HarmTable,
}

/// Why a [`Context`] could not be built from a profile.
#[derive(Debug, thiserror::Error)]
pub enum ContextError {
    #[error("dataset.time_zone: {0}")]
    TimeZone(String),
    #[error(transparent)]
    Crs(#[from] crate::crs::CrsError),
    #[error(transparent)]
    Boundary(#[from] crate::boundary::BoundaryError),
}

impl Context {
    /// Resolves a profile's time zone, reprojection and jurisdiction. `boundary` is the
    /// boundary file to use (the caller finds it; the profile only names it).
    pub fn for_profile(
        profile: &Profile,
        boundary: Option<&std::path::Path>,
        now: Timestamp,
        harm: HarmTable,
    ) -> Result<Self, ContextError> {
        let tz = TimeZone::get(&profile.dataset.time_zone)
            .map_err(|e| ContextError::TimeZone(e.to_string()))?;
        let reprojector = match &profile.location {
            Some(loc) => Some(Reprojector::new(&loc.crs, &profile.dataset.local_crs)?),
            None => None,
        };
        let jurisdiction = match boundary {
            Some(p) => Some(crate::boundary::Boundary::read(
                p,
                profile.jurisdiction.boundary_crs.as_deref(),
            )?),
            None => None,
        };
        let boundary = jurisdiction.as_ref().map(|b| b.index());
        Ok(Self {
            tz,
            reprojector,
            bbox: profile.jurisdiction.bbox,
            boundary,
            jurisdiction,
            now,
            harm,
        })
    }
}

/// A rejected row, with where and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Rejection {
    pub row: u64,
    pub line: u64,
    pub column: Option<String>,
    pub reason: ReasonCode,
    pub detail: String,
    /// The mapped fields of the row (`column=value; ...`), for review. Only columns
    /// the profile maps are kept, so unmapped person fields never reach the store.
    pub raw: String,
}

/// A row that became an event.
#[derive(Debug, Clone, PartialEq)]
pub struct Normalised {
    pub row: u64,
    pub line: u64,
    pub event: Event,
    /// Hash of the normalised content, to tell revisions from duplicates.
    pub content_hash: u64,
    /// Key that a retraction row would carry for this record (profiles with retractions).
    pub retract_key: Option<u64>,
    /// Identity of the offence (dataset, code, description, category, harm), so the
    /// store can file offences without comparing strings per event.
    pub offence_key: u64,
}

/// A retraction (cancellation) row.
#[derive(Debug, Clone, PartialEq)]
pub struct Retraction {
    pub row: u64,
    pub line: u64,
    pub key: u64,
    pub raw: String,
}

/// The outcome for one row.
#[derive(Debug, Clone, PartialEq)]
pub enum RowOutcome {
    Event(Box<Normalised>),
    Retraction(Retraction),
    /// Boxed: rejections are rare and large; keeping the enum small keeps the per-chunk
    /// outcome vectors small.
    Rejected(Box<Rejection>),
}

/// A file whose header lacks a column the profile requires.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{file}: no column for {what} (looked for {looked_for}); the header has: {header}. Add the file's column name to the profile"
)]
pub struct LayoutError {
    pub file: String,
    pub what: String,
    pub looked_for: String,
    pub header: String,
}

#[derive(Debug, Clone)]
enum Col {
    Index(usize, String),
    Const(String, String),
}

impl Col {
    fn name(&self) -> &str {
        match self {
            Col::Index(_, n) | Col::Const(n, _) => n,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Encoding {
    Utf8,
    Windows1252,
}

#[derive(Debug)]
enum TimeSource {
    Column {
        date: Col,
        time: Option<Col>,
        formats: Vec<DateFormat>,
    },
    Parts {
        year: Col,
        month: Col,
        day: Col,
        hour: Option<Col>,
        minute: Option<Col>,
    },
}

#[derive(Debug)]
struct TimeSpec {
    source: TimeSource,
    placeholders: Vec<(i16, i8, i8)>,
    earliest: Option<(i16, i8, i8)>,
    fold: FoldPolicy,
}

#[derive(Debug)]
struct RuleSpec {
    category: Category,
    codes: Vec<String>,
    range: Option<[i64; 2]>,
    prefixes: Vec<String>,
    descriptions: Vec<String>,
    column: Option<(Col, Vec<String>)>,
}

#[derive(Debug)]
enum KeyPart {
    Occurred,
    Code,
    Id,
    Column(Col),
}

/// A profile bound to one file's header.
#[derive(Debug)]
pub struct Layout {
    dataset: std::sync::Arc<str>,
    kind: SourceKind,
    time_zone: std::sync::Arc<str>,
    precision: Precision,
    encoding: Encoding,
    id_columns: Option<Vec<Col>>,
    occurred: TimeSpec,
    reported: Option<TimeSpec>,
    xy: Option<(Col, Col)>,
    zero_is_missing: bool,
    quarantine_missing: bool,
    district: Option<Col>,
    beat: Option<Col>,
    neighbourhood: Option<Col>,
    null_values: Vec<String>,
    code: Col,
    description: Option<Col>,
    numeric_codes: bool,
    rules: Vec<RuleSpec>,
    default_category: Option<Category>,
    retraction: Option<(Col, Vec<String>, Vec<KeyPart>)>,
    constants: Vec<String>,
    /// Columns shown in a rejection's `raw` summary.
    shown: Vec<Col>,
    header_fields: usize,
    keep_repeated_rows: bool,
    /// Positions of reader-added geometry columns, left out of row-content ids.
    virtual_columns: Vec<usize>,
}

struct Resolver<'a> {
    header: &'a [String],
    constants: &'a [(String, String)],
    file: &'a str,
}

impl Resolver<'_> {
    fn find(&self, r: &ColumnRef) -> Option<Col> {
        for name in r.names() {
            let wanted = name.trim();
            if let Some(i) = self
                .header
                .iter()
                .position(|h| h.eq_ignore_ascii_case(wanted))
            {
                return Some(Col::Index(i, self.header[i].clone()));
            }
            if let Some((n, v)) = self
                .constants
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(wanted))
            {
                return Some(Col::Const(n.clone(), v.clone()));
            }
        }
        None
    }

    fn require(&self, r: &ColumnRef, what: &str) -> Result<Col, LayoutError> {
        self.find(r).ok_or_else(|| LayoutError {
            file: self.file.to_string(),
            what: what.to_string(),
            looked_for: r.names().join(", "),
            header: self.header.join(","),
        })
    }

    fn optional(&self, r: &Option<ColumnRef>) -> Option<Col> {
        r.as_ref().and_then(|r| self.find(r))
    }
}

fn ymd(text: &str) -> Option<(i16, i8, i8)> {
    let mut it = text.trim().splitn(3, '-');
    let y = it.next()?.parse().ok()?;
    let m = it.next()?.parse().ok()?;
    let d = it.next()?.parse().ok()?;
    Some((y, m, d))
}

fn time_spec(section: &TimeSection, r: &Resolver<'_>, what: &str) -> Result<TimeSpec, LayoutError> {
    let source = if let Some(col) = &section.column {
        let formats = section
            .formats
            .iter()
            .map(|f| DateFormat::compile(f))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| LayoutError {
                file: r.file.to_string(),
                what: what.to_string(),
                looked_for: e.to_string(),
                header: r.header.join(","),
            })?;
        TimeSource::Column {
            date: r.require(col, what)?,
            time: match &section.time_column {
                Some(t) => Some(r.require(t, &format!("{what} time of day"))?),
                None => None,
            },
            formats,
        }
    } else if let Some(parts) = &section.parts {
        TimeSource::Parts {
            year: r.require(&parts.year, &format!("{what} year"))?,
            month: r.require(&parts.month, &format!("{what} month"))?,
            day: r.require(&parts.day, &format!("{what} day"))?,
            hour: r.optional(&parts.hour),
            minute: r.optional(&parts.minute),
        }
    } else {
        unreachable!("profile check guarantees column or parts")
    };
    Ok(TimeSpec {
        source,
        placeholders: section
            .placeholder_dates
            .iter()
            .filter_map(|d| ymd(d))
            .collect(),
        earliest: section.earliest.as_deref().and_then(ymd),
        fold: if section.on_fold.as_deref() == Some("widen") {
            FoldPolicy::Widen
        } else {
            FoldPolicy::Quarantine
        },
    })
}

impl Layout {
    /// Binds `profile` to a file's header. Fails when a required column is absent.
    pub fn new(profile: &Profile, header: &[String], file_name: &str) -> Result<Self, LayoutError> {
        let rule = profile.file_rule(file_name);
        let constants: Vec<(String, String)> = rule
            .map(|r| {
                r.constants
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect()
            })
            .unwrap_or_default();
        let r = Resolver {
            header,
            constants: &constants,
            file: file_name,
        };
        let id_columns = if profile.id.columns.is_empty() {
            None
        } else {
            profile
                .id
                .columns
                .iter()
                .map(|c| r.find(c))
                .collect::<Option<Vec<_>>>()
        };
        let occurred = time_spec(&profile.occurred, &r, "occurred")?;
        let reported = match &profile.reported {
            // The report time is optional: a file without its column has no value.
            Some(s) => time_spec(s, &r, "reported").ok(),
            None => None,
        };
        let (xy, zero_is_missing, quarantine_missing) = match &profile.location {
            Some(loc) => (
                Some((
                    r.require(&loc.x, "location x")?,
                    r.require(&loc.y, "location y")?,
                )),
                loc.zero_is_missing,
                loc.missing.as_deref() == Some("quarantine"),
            ),
            None => (None, false, false),
        };
        let code = r.require(&profile.offence.code, "offence code")?;
        let description = r.optional(&profile.offence.description);
        let mut rules = Vec::new();
        for rule in &profile.offence.rules {
            let column = match &rule.column {
                Some(c) => match r.find(c) {
                    Some(col) => Some((
                        col,
                        rule.values
                            .iter()
                            .map(|v| v.trim().to_ascii_lowercase())
                            .collect(),
                    )),
                    // A rule on a column this file lacks can never match.
                    None => continue,
                },
                None => None,
            };
            rules.push(RuleSpec {
                category: Category::from_slug(&rule.category).expect("checked by profile"),
                codes: rule
                    .codes
                    .iter()
                    .map(|c| {
                        normalise_code(c, profile.offence.code_format.as_deref() == Some("numeric"))
                    })
                    .collect(),
                range: rule.code_range,
                prefixes: rule.code_prefix.clone(),
                descriptions: rule
                    .descriptions
                    .iter()
                    .map(|d| d.trim().to_ascii_lowercase())
                    .collect(),
                column,
            });
        }
        let retraction = match &profile.retraction {
            Some(ret) => match r.find(&ret.column) {
                Some(col) => {
                    let mut parts = Vec::new();
                    for m in &ret.matching {
                        let names = m.names();
                        parts.push(match names.first().copied() {
                            Some("@occurred") => KeyPart::Occurred,
                            Some("@code") => KeyPart::Code,
                            Some("@id") => KeyPart::Id,
                            _ => KeyPart::Column(r.require(m, "retraction matching")?),
                        });
                    }
                    Some((
                        col,
                        ret.values.iter().map(|v| v.trim().to_string()).collect(),
                        parts,
                    ))
                }
                None => None,
            },
            None => None,
        };
        let district = r.optional(&profile.areas.district);
        let beat = r.optional(&profile.areas.beat);
        let neighbourhood = r.optional(&profile.areas.neighbourhood);
        let mut shown: Vec<Col> = Vec::new();
        let mut show = |c: &Option<Col>| {
            if let Some(c) = c
                && !shown.iter().any(|s| s.name() == c.name())
            {
                shown.push(c.clone());
            }
        };
        if let Some(ids) = &id_columns {
            for c in ids {
                show(&Some(c.clone()));
            }
        }
        match &occurred.source {
            TimeSource::Column { date, time, .. } => {
                show(&Some(date.clone()));
                show(time);
            }
            TimeSource::Parts {
                year,
                month,
                day,
                hour,
                minute,
            } => {
                for c in [year, month, day] {
                    show(&Some(c.clone()));
                }
                show(hour);
                show(minute);
            }
        }
        show(&Some(code.clone()));
        show(&description);
        if let Some((x, y)) = &xy {
            show(&Some(x.clone()));
            show(&Some(y.clone()));
        }
        show(&district);
        show(&beat);
        show(&neighbourhood);
        if let Some((c, _, _)) = &retraction {
            show(&Some(c.clone()));
        }
        let virtual_columns = redundant_geometry_columns(header, &xy);
        let encoding = match profile.dataset.encoding.to_ascii_lowercase().as_str() {
            "utf-8" | "utf8" => Encoding::Utf8,
            _ => Encoding::Windows1252,
        };
        Ok(Self {
            dataset: profile.dataset_for(file_name).into(),
            kind: profile.kind().expect("checked by profile"),
            time_zone: profile.dataset.time_zone.as_str().into(),
            precision: profile.precision().expect("checked by profile"),
            encoding,
            id_columns,
            occurred,
            reported,
            xy,
            zero_is_missing,
            quarantine_missing,
            district,
            beat,
            neighbourhood,
            null_values: profile
                .areas
                .null_values
                .iter()
                .map(|v| v.trim().to_string())
                .collect(),
            code,
            description,
            numeric_codes: profile.offence.code_format.as_deref() == Some("numeric"),
            rules,
            default_category: profile
                .offence
                .default_category
                .as_deref()
                .map(|c| Category::from_slug(c).expect("checked by profile")),
            retraction,
            constants: constants.into_iter().map(|(_, v)| v).collect(),
            shown,
            header_fields: header.len(),
            keep_repeated_rows: profile.id.repeated_rows.as_deref() == Some("keep"),
            virtual_columns,
        })
    }

    /// Whether identical rows in one file are numbered apart rather than collapsed
    /// (`id.repeated_rows = "keep"` with row-content ids). The caller numbers them, in
    /// file order, with [`Layout::repeat_key`].
    pub fn numbers_repeated_rows(&self) -> bool {
        self.keep_repeated_rows && self.id_columns.is_none()
    }

    /// A key equal exactly for rows that get the same content-hash id: what
    /// repeated-row numbering counts.
    pub fn repeat_key(&self, raw: &RawRow) -> u128 {
        row_content_hash(&raw.record, &self.constants, &self.virtual_columns)
    }

    fn text<'a>(&self, rec: &'a ByteRecord, col: &'a Col) -> Result<Cow<'a, str>, ()> {
        let bytes = match col {
            Col::Index(i, _) => rec.get(*i).unwrap_or(b""),
            Col::Const(_, v) => return Ok(Cow::Borrowed(v.as_str())),
        };
        let decoded: Cow<'a, str> = match std::str::from_utf8(bytes) {
            Ok(s) => Cow::Borrowed(s),
            Err(_) if self.encoding == Encoding::Windows1252 => {
                encoding_rs::WINDOWS_1252
                    .decode_without_bom_handling(bytes)
                    .0
            }
            Err(_) => return Err(()),
        };
        Ok(clean_cell(decoded))
    }

    fn summary(&self, rec: &ByteRecord) -> String {
        let mut out = String::new();
        for c in &self.shown {
            if !out.is_empty() {
                out.push_str("; ");
            }
            out.push_str(c.name());
            out.push('=');
            match self.text(rec, c) {
                Ok(v) => out.push_str(&v),
                Err(()) => out.push_str("<invalid encoding>"),
            }
        }
        out
    }

    /// Normalises one row.
    pub fn normalise<'a>(&'a self, ctx: &Context, raw: &'a RawRow) -> RowOutcome {
        let rec = &raw.record;
        let reject = |column: Option<&Col>, reason: ReasonCode, detail: String| {
            RowOutcome::Rejected(Box::new(Rejection {
                row: raw.row,
                line: raw.line,
                column: column.map(|c| c.name().to_string()),
                reason,
                detail,
                raw: self.summary(rec),
            }))
        };
        if let Some(err) = &raw.decode_error {
            return reject(None, ReasonCode::MalformedRow, err.clone());
        }
        let expected = self.field_count();
        if rec.len() != expected {
            return reject(
                None,
                ReasonCode::RaggedRow,
                format!("row has {} fields, the header has {expected}", rec.len()),
            );
        }
        let get = |col: &'a Col| self.text(rec, col);
        macro_rules! field {
            ($col:expr) => {
                match get($col) {
                    Ok(v) => v,
                    Err(()) => {
                        return reject(
                            Some($col),
                            ReasonCode::BadEncoding,
                            format!("`{}` is not valid UTF-8; set dataset.encoding = \"windows-1252\" if the file is Latin-1", $col.name()),
                        )
                    }
                }
            };
        }
        // Offence code first: retraction keys need it.
        let raw_code = field!(&self.code);
        let code = normalise_code(&raw_code, self.numeric_codes);
        let description = match &self.description {
            Some(c) => field!(c).into_owned(),
            None => String::new(),
        };
        let parsed = self.parse_time(&self.occurred, rec);
        // Retraction rows are recognised before the date, place and offence checks:
        // a cancellation with a bad date still cancels.
        if let Some((col, values, parts)) = &self.retraction {
            let v = field!(col);
            if values.iter().any(|x| *x == *v) {
                let key = match self.retract_key(rec, parts, &parsed, &code) {
                    Ok(k) => k,
                    Err(c) => {
                        return reject(
                            Some(c),
                            ReasonCode::BadEncoding,
                            "retraction key is not valid text".into(),
                        );
                    }
                };
                return RowOutcome::Retraction(Retraction {
                    row: raw.row,
                    line: raw.line,
                    key,
                    raw: self.summary(rec),
                });
            }
        }
        let date_col = self.occurred.primary_col();
        let parsed = match parsed {
            Ok(p) => p,
            Err(TimeError::Empty) => {
                return reject(
                    Some(date_col),
                    ReasonCode::MissingField,
                    "occurrence date is empty".into(),
                );
            }
            Err(TimeError::Encoding(c)) => {
                return reject(
                    Some(c),
                    ReasonCode::BadEncoding,
                    "date is not valid text".into(),
                );
            }
            Err(TimeError::Unparseable(text)) => {
                return reject(
                    Some(date_col),
                    ReasonCode::UnparseableDate,
                    format!(
                        "`{text}` matches none of the formats {}",
                        self.occurred.formats_shown()
                    ),
                );
            }
        };
        if let Some(reason) = self.occurred.placeholder(&parsed) {
            return reject(Some(date_col), ReasonCode::PlaceholderDate, reason);
        }
        let (from, to) = match parsed.to_window(&ctx.tz, self.occurred.fold) {
            Ok(w) => w,
            Err(TimeProblem::Invalid) => {
                return reject(
                    Some(date_col),
                    ReasonCode::UnparseableDate,
                    "not a real calendar date or time".into(),
                );
            }
            Err(TimeProblem::Gap) => {
                return reject(
                    Some(date_col),
                    ReasonCode::NonexistentLocalTime,
                    format!(
                        "{:02}:{:02} on {}-{:02}-{:02} does not exist in {} (daylight-saving gap)",
                        parsed.hour,
                        parsed.minute,
                        parsed.year,
                        parsed.month,
                        parsed.day,
                        self.time_zone
                    ),
                );
            }
            Err(TimeProblem::Fold) => {
                return reject(
                    Some(date_col),
                    ReasonCode::AmbiguousLocalTime,
                    format!(
                        "{:02}:{:02} on {}-{:02}-{:02} happens twice in {} (daylight-saving fold); set occurred.on_fold = \"widen\" to keep such rows",
                        parsed.hour,
                        parsed.minute,
                        parsed.year,
                        parsed.month,
                        parsed.day,
                        self.time_zone
                    ),
                );
            }
        };
        if from > ctx.now {
            return reject(
                Some(date_col),
                ReasonCode::FutureDate,
                "occurrence date is after the time of ingest".into(),
            );
        }
        let occurred = TimeWindow { from, to };
        let reported = self.reported.as_ref().and_then(|spec| {
            let p = self.parse_time(spec, rec).ok()?;
            p.to_window(&ctx.tz, FoldPolicy::Widen).ok().map(|w| w.0)
        });
        // Offence category.
        if code.is_empty() && description.is_empty() {
            return reject(
                Some(&self.code),
                ReasonCode::MissingField,
                "offence code and description are empty".into(),
            );
        }
        let category = match self.categorise(rec, &code, &description) {
            Some(c) => c,
            None => {
                return reject(
                    Some(&self.code),
                    ReasonCode::UnknownOffence,
                    format!(
                        "offence `{code}` ({description}) matches no rule in the profile's offence mapping"
                    ),
                );
            }
        };
        // Areas.
        let area = |c: &Option<Col>| -> Result<Option<String>, ()> {
            match c {
                Some(c) => {
                    let v = self.text(rec, c)?;
                    Ok(
                        (!v.is_empty() && !self.null_values.iter().any(|n| n == v.as_ref()))
                            .then(|| v.into_owned()),
                    )
                }
                None => Ok(None),
            }
        };
        let areas = match (
            area(&self.district),
            area(&self.beat),
            area(&self.neighbourhood),
        ) {
            (Ok(district), Ok(beat), Ok(neighbourhood)) => Areas {
                district,
                beat,
                neighbourhood,
            },
            _ => {
                return reject(
                    None,
                    ReasonCode::BadEncoding,
                    "an area code is not valid text".into(),
                );
            }
        };
        // Location.
        let location = match &self.xy {
            None => Location::without_point(if areas.is_empty() {
                Precision::None
            } else {
                Precision::AreaOnly
            }),
            Some((xc, yc)) => {
                let xs = field!(xc);
                let ys = field!(yc);
                let missing_loc = || {
                    Location::without_point(if areas.is_empty() {
                        Precision::None
                    } else {
                        Precision::AreaOnly
                    })
                };
                if xs.is_empty() || ys.is_empty() {
                    if self.quarantine_missing {
                        return reject(Some(xc), ReasonCode::MissingCoord, "no coordinates".into());
                    }
                    missing_loc()
                } else {
                    let (x, y) = match (xs.parse::<f64>(), ys.parse::<f64>()) {
                        (Ok(x), Ok(y)) if x.is_finite() && y.is_finite() => (x, y),
                        _ => {
                            return reject(
                                Some(xc),
                                ReasonCode::BadCoord,
                                format!("coordinates ({xs}, {ys}) are not numbers"),
                            );
                        }
                    };
                    if x == 0.0 || y == 0.0 {
                        if !self.zero_is_missing {
                            return reject(
                                Some(xc),
                                ReasonCode::ZeroCoord,
                                format!(
                                    "coordinates ({xs}, {ys}) are zero; set location.zero_is_missing = true if the source uses 0 for withheld locations"
                                ),
                            );
                        }
                        if self.quarantine_missing {
                            return reject(
                                Some(xc),
                                ReasonCode::MissingCoord,
                                "coordinates withheld (zero)".into(),
                            );
                        }
                        missing_loc()
                    } else {
                        let Some(rp) = &ctx.reprojector else {
                            return reject(
                                Some(xc),
                                ReasonCode::BadCoord,
                                "no reprojection is configured for this profile's location".into(),
                            );
                        };
                        let (lonlat, xy) = match rp.project(x, y) {
                            Ok(v) => v,
                            Err(_) => {
                                return reject(
                                    Some(xc),
                                    ReasonCode::BadCoord,
                                    format!("({xs}, {ys}) cannot be reprojected"),
                                );
                            }
                        };
                        if let Some(b) = ctx.bbox
                            && !(lonlat.0 >= b[0]
                                && lonlat.0 <= b[2]
                                && lonlat.1 >= b[1]
                                && lonlat.1 <= b[3])
                        {
                            return reject(
                                Some(xc),
                                ReasonCode::OutsideJurisdiction,
                                format!(
                                    "({xs}, {ys}) = lon {:.6}, lat {:.6} is outside the jurisdiction's bounding box",
                                    lonlat.0, lonlat.1
                                ),
                            );
                        }
                        if let Some(poly) = &ctx.boundary
                            && !poly.contains(lonlat.0, lonlat.1)
                        {
                            return reject(
                                Some(xc),
                                ReasonCode::OutsideJurisdiction,
                                format!(
                                    "({xs}, {ys}) = lon {:.6}, lat {:.6} is outside the jurisdiction boundary",
                                    lonlat.0, lonlat.1
                                ),
                            );
                        }
                        Location {
                            precision: self.precision,
                            xy: Some(xy),
                            lonlat: Some(lonlat),
                        }
                    }
                }
            }
        };
        // Identity.
        let source_id = match self.source_id(rec) {
            Ok(id) => id,
            Err(c) => {
                return reject(
                    Some(c),
                    ReasonCode::BadEncoding,
                    "id is not valid text".into(),
                );
            }
        };
        let retract_key = match &self.retraction {
            Some((_, _, parts)) => match self.retract_key(rec, parts, &Ok(parsed), &code) {
                Ok(k) => Some(k),
                Err(c) => {
                    return reject(
                        Some(c),
                        ReasonCode::BadEncoding,
                        "retraction key is not valid text".into(),
                    );
                }
            },
            None => None,
        };
        let event = Event {
            id: EventId {
                dataset: self.dataset.clone(),
                source_id,
            },
            kind: self.kind,
            occurred,
            time_zone: self.time_zone.clone(),
            reported,
            location,
            areas,
            offence: Offence {
                code,
                description,
                category,
            },
            harm: ctx.harm.weight(category),
        };
        let content_hash = content_hash(&event);
        let offence_key = offence_key(&event);
        RowOutcome::Event(Box::new(Normalised {
            row: raw.row,
            line: raw.line,
            event,
            content_hash,
            retract_key,
            offence_key,
        }))
    }

    /// Number of fields a well-formed row has (constant columns are not in the record).
    fn field_count(&self) -> usize {
        self.header_fields
    }

    fn parse_time<'s>(
        &'s self,
        spec: &'s TimeSpec,
        rec: &ByteRecord,
    ) -> Result<Parsed, TimeError<'s>> {
        match &spec.source {
            TimeSource::Column {
                date,
                time,
                formats,
            } => {
                let d = self
                    .text(rec, date)
                    .map_err(|()| TimeError::Encoding(date))?;
                let joined: Cow<'_, str> = match time {
                    Some(t) => {
                        let tv = self.text(rec, t).map_err(|()| TimeError::Encoding(t))?;
                        if tv.is_empty() {
                            d
                        } else {
                            Cow::Owned(format!("{d} {tv}"))
                        }
                    }
                    None => d,
                };
                if joined.is_empty() {
                    return Err(TimeError::Empty);
                }
                formats
                    .iter()
                    .find_map(|f| f.parse(&joined))
                    .ok_or_else(|| TimeError::Unparseable(joined.into_owned()))
            }
            TimeSource::Parts {
                year,
                month,
                day,
                hour,
                minute,
            } => {
                let num = |c: &'s Col| -> Result<Option<i64>, TimeError<'s>> {
                    let v = self.text(rec, c).map_err(|()| TimeError::Encoding(c))?;
                    if v.is_empty() {
                        return Ok(None);
                    }
                    v.parse::<f64>()
                        .ok()
                        .filter(|f| f.fract() == 0.0 && f.abs() < 100_000.0)
                        .map(|f| Some(f as i64))
                        .ok_or_else(|| TimeError::Unparseable(v.into_owned()))
                };
                let (Some(y), Some(m), Some(d)) = (num(year)?, num(month)?, num(day)?) else {
                    return Err(TimeError::Empty);
                };
                let h = match hour {
                    Some(c) => num(c)?,
                    None => None,
                };
                let mi = match minute {
                    Some(c) => num(c)?,
                    None => None,
                };
                let small = |v: i64| {
                    i8::try_from(v).map_err(|_| TimeError::Unparseable(format!("{y}-{m}-{d} {v}")))
                };
                let (hour, minute, resolution) = match (h, mi) {
                    (Some(h), Some(mi)) => (small(h)?, small(mi)?, Resolution::Minute),
                    (Some(h), None) => (small(h)?, 0, Resolution::Hour),
                    _ => (0, 0, Resolution::Day),
                };
                Ok(Parsed {
                    year: i16::try_from(y).map_err(|_| TimeError::Unparseable(y.to_string()))?,
                    month: small(m)?,
                    day: small(d)?,
                    hour,
                    minute,
                    second: 0,
                    offset: None,
                    resolution,
                })
            }
        }
    }

    fn categorise(&self, rec: &ByteRecord, code: &str, description: &str) -> Option<Category> {
        let numeric: Option<i64> = code.parse().ok();
        for rule in &self.rules {
            if !rule.codes.is_empty() && !rule.codes.iter().any(|c| c == code) {
                continue;
            }
            if let Some([lo, hi]) = rule.range
                && !numeric.is_some_and(|n| n >= lo && n <= hi)
            {
                continue;
            }
            if !rule.prefixes.is_empty()
                && !rule.prefixes.iter().any(|p| code.starts_with(p.as_str()))
            {
                continue;
            }
            if !rule.descriptions.is_empty()
                && !rule
                    .descriptions
                    .iter()
                    .any(|d| d.eq_ignore_ascii_case(description))
            {
                continue;
            }
            if let Some((col, values)) = &rule.column {
                let Ok(v) = self.text(rec, col) else { continue };
                if !values.iter().any(|x| x.eq_ignore_ascii_case(&v)) {
                    continue;
                }
            }
            return Some(rule.category);
        }
        self.default_category
    }

    fn source_id<'a>(&'a self, rec: &ByteRecord) -> Result<String, &'a Col> {
        if let Some(cols) = &self.id_columns {
            let mut id = String::new();
            let mut complete = true;
            for (i, c) in cols.iter().enumerate() {
                let v = self.text(rec, c).map_err(|()| c)?;
                let v = if self.numeric_codes && c.name() == self.code.name() {
                    Cow::Owned(normalise_code(&v, true))
                } else {
                    v
                };
                if v.is_empty() {
                    complete = false;
                    break;
                }
                if i > 0 {
                    id.push('|');
                }
                id.push_str(&v);
            }
            if complete {
                return Ok(id);
            }
        }
        Ok(row_hash_id(rec, &self.constants, &self.virtual_columns))
    }

    fn retract_key<'a>(
        &'a self,
        rec: &ByteRecord,
        parts: &'a [KeyPart],
        parsed: &Result<Parsed, TimeError<'_>>,
        code: &str,
    ) -> Result<u64, &'a Col> {
        let mut buf = String::new();
        for part in parts {
            match part {
                KeyPart::Occurred => match parsed {
                    Ok(p) => buf.push_str(&format!(
                        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
                        p.year, p.month, p.day, p.hour, p.minute, p.second
                    )),
                    Err(TimeError::Unparseable(t)) => buf.push_str(t),
                    Err(_) => {}
                },
                KeyPart::Code => buf.push_str(code),
                KeyPart::Id => buf.push_str(&self.source_id(rec)?),
                KeyPart::Column(c) => buf.push_str(&self.text(rec, c).map_err(|()| c)?),
            }
            buf.push('\u{1f}');
        }
        Ok(xxh3_64(buf.as_bytes()))
    }
}

#[derive(Debug)]
enum TimeError<'a> {
    Empty,
    Encoding(&'a Col),
    Unparseable(String),
}

impl TimeSpec {
    fn primary_col(&self) -> &Col {
        match &self.source {
            TimeSource::Column { date, .. } => date,
            TimeSource::Parts { year, .. } => year,
        }
    }

    fn formats_shown(&self) -> String {
        match &self.source {
            TimeSource::Column { formats, .. } => formats
                .iter()
                .map(|f| format!("`{}`", f.as_str()))
                .collect::<Vec<_>>()
                .join(", "),
            TimeSource::Parts { .. } => "numeric year/month/day parts".into(),
        }
    }

    /// A reason text when the local date is a placeholder.
    fn placeholder(&self, p: &Parsed) -> Option<String> {
        let d = (p.year, p.month, p.day);
        if self.placeholders.contains(&d) {
            return Some(format!(
                "{:04}-{:02}-{:02} is a placeholder date",
                p.year, p.month, p.day
            ));
        }
        if let Some(e) = self.earliest
            && d < e
        {
            return Some(format!(
                "{:04}-{:02}-{:02} is before the earliest plausible date {:04}-{:02}-{:02}",
                p.year, p.month, p.day, e.0, e.1, e.2
            ));
        }
        None
    }
}

/// Trims, and undoes spreadsheet artefacts: `="0110"` (Excel's text-preserving formula)
/// becomes `0110`, and a leading apostrophe that protects a formula-like cell is dropped.
pub fn clean_cell(value: Cow<'_, str>) -> Cow<'_, str> {
    let trimmed = value.trim();
    if let Some(inner) = trimmed
        .strip_prefix("=\"")
        .and_then(|s| s.strip_suffix('"'))
    {
        return Cow::Owned(inner.trim().to_string());
    }
    if let Some(rest) = trimmed.strip_prefix('\'')
        && rest.starts_with(['=', '+', '-', '@'])
    {
        return Cow::Owned(rest.to_string());
    }
    if trimmed.len() == value.len() {
        value
    } else {
        Cow::Owned(trimmed.to_string())
    }
}

/// Normalises an offence code: trimmed; for numeric codes, leading zeros dropped and a
/// trailing `.0` (spreadsheet float) removed, so `0110`, `110` and `110.0` agree.
pub fn normalise_code(code: &str, numeric: bool) -> String {
    let t = code.trim();
    if !numeric {
        return t.to_string();
    }
    let t = t.strip_suffix(".0").unwrap_or(t);
    if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) {
        let stripped = t.trim_start_matches('0');
        if stripped.is_empty() {
            "0".into()
        } else {
            stripped.to_string()
        }
    } else {
        t.to_string()
    }
}

/// Positions of the geometry columns a GeoJSON or shapefile reader adds that the
/// profile's location does not read: their values repeat mapped coordinate columns
/// (the NIJ packages carry x/y in the attribute table too), so row-content ids leave
/// them out and a record read from a map export and from a table export agrees. A
/// geometry column the location does read is part of the record and stays in.
fn redundant_geometry_columns(header: &[String], xy: &Option<(Col, Col)>) -> Vec<usize> {
    let mapped =
        |i: usize| matches!(xy, Some((Col::Index(x, _), Col::Index(y, _))) if *x == i || *y == i);
    header
        .iter()
        .enumerate()
        .filter(|(i, h)| {
            (*h == crate::table::GEOMETRY_X || *h == crate::table::GEOMETRY_Y) && !mapped(*i)
        })
        .map(|(i, _)| i)
        .collect()
}

/// An id for sources without record ids: `h` + [`row_content_hash`] in hex, so
/// byte-identical rows share an id and collapse as duplicates.
pub fn row_hash_id(rec: &ByteRecord, constants: &[String], skip: &[usize]) -> String {
    format!("h{:032x}", row_content_hash(rec, constants, skip))
}

/// A 128-bit hash of every field (fields at `skip` left out) and any constant columns.
fn row_content_hash(rec: &ByteRecord, constants: &[String], skip: &[usize]) -> u128 {
    let mut buf = Vec::with_capacity(rec.as_slice().len() + rec.len() + 16);
    for (i, f) in rec.iter().enumerate() {
        if skip.contains(&i) {
            continue;
        }
        buf.extend_from_slice(f);
        buf.push(0x1f);
    }
    for c in constants {
        buf.extend_from_slice(c.as_bytes());
        buf.push(0x1f);
    }
    xxh3_128(&buf)
}

/// FNV-1a over the offence's identity: dataset, code, description, category, harm.
pub fn offence_key(e: &Event) -> u64 {
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut eat = |bytes: &[u8]| {
        for b in bytes {
            h ^= u64::from(*b);
            h = h.wrapping_mul(PRIME);
        }
        h ^= 0x1f;
        h = h.wrapping_mul(PRIME);
    };
    eat(e.id.dataset.as_bytes());
    eat(e.offence.code.as_bytes());
    eat(e.offence.description.as_bytes());
    eat(e.offence.category.slug().as_bytes());
    eat(&e.harm.to_bits().to_le_bytes());
    h
}

/// Hash of an event's normalised content (everything but its id). Coordinates are
/// rounded to the centimetre so that reprojection noise is not a revision.
pub fn content_hash(e: &Event) -> u64 {
    let mut buf: Vec<u8> = Vec::with_capacity(192);
    let mut text = |t: &str| {
        buf.extend_from_slice(t.as_bytes());
        buf.push(0x1f);
    };
    text(e.kind.slug());
    text(&e.time_zone);
    text(e.location.precision.slug());
    for area in [&e.areas.district, &e.areas.beat, &e.areas.neighbourhood] {
        text(area.as_deref().unwrap_or("\u{0}"));
    }
    text(&e.offence.code);
    text(&e.offence.description);
    text(e.offence.category.slug());
    let (x, y) = e.location.xy.unwrap_or((f64::NAN, f64::NAN));
    let centimetres = |v: f64| {
        if v.is_nan() {
            i64::MIN
        } else {
            (v * 100.0).round() as i64
        }
    };
    for v in [
        e.occurred.from.0,
        e.occurred.to.0,
        e.reported.map_or(i64::MIN, |t| t.0),
        centimetres(x),
        centimetres(y),
        e.harm.to_bits() as i64,
    ] {
        buf.extend_from_slice(&v.to_le_bytes());
    }
    xxh3_64(&buf)
}
