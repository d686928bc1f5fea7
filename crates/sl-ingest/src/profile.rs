//! Source profiles: a TOML description of how one portal's files map to events.
//!
//! A profile names columns by header (several variants allowed, matched after trimming
//! and case-folding), so that a new city is added by writing a profile, not code.
//! `docs/PROFILES.md` documents every key; this module parses and checks them.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use sl_types::{Category, Precision, SourceKind};

/// A column reference: one header name or a list of accepted variants.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(untagged)]
pub enum ColumnRef {
    One(String),
    Any(Vec<String>),
}

impl ColumnRef {
    /// The accepted header names, in order of preference.
    pub fn names(&self) -> Vec<&str> {
        match self {
            ColumnRef::One(s) => vec![s.as_str()],
            ColumnRef::Any(v) => v.iter().map(String::as_str).collect(),
        }
    }
}

/// A parsed, checked profile.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    pub dataset: DatasetSection,
    #[serde(default)]
    pub id: IdSection,
    pub occurred: TimeSection,
    pub reported: Option<TimeSection>,
    #[serde(default)]
    pub location: Option<LocationSection>,
    #[serde(default)]
    pub jurisdiction: JurisdictionSection,
    #[serde(default)]
    pub areas: AreasSection,
    pub offence: OffenceSection,
    pub retraction: Option<RetractionSection>,
    #[serde(default)]
    pub files: Vec<FileRule>,
    /// Where the profile was read from (set by [`Profile::load`]).
    #[serde(skip)]
    pub origin: Option<PathBuf>,
    /// The profile's text, kept for provenance.
    #[serde(skip)]
    pub text: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatasetSection {
    /// Dataset name (the store's key), e.g. `stlouis-slmpd`.
    pub name: String,
    #[serde(default)]
    pub title: String,
    /// `call_for_service`, `incident_report` or `arrest`.
    pub kind: String,
    /// IANA time zone of local times in the source.
    pub time_zone: String,
    /// `utf-8` (default), `windows-1252` or `latin-1`.
    #[serde(default = "default_encoding")]
    pub encoding: String,
    /// The dataset's local metric CRS for projected x/y in metres (EPSG code or proj string).
    pub local_crs: String,
    /// Precision of published points: `exact` or `block`.
    #[serde(default = "default_precision")]
    pub precision: String,
    /// Licence and origin, copied into the datasets registry.
    #[serde(default)]
    pub provenance: String,
    /// Column names for CSV files that have no header row (every row is data), in
    /// file order, e.g. `["x", "y", "date"]`. Leave out for files with a header.
    #[serde(default)]
    pub csv_columns: Option<Vec<String>>,
}

fn default_encoding() -> String {
    "utf-8".into()
}
fn default_precision() -> String {
    "block".into()
}

/// How a record's stable id is formed.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdSection {
    /// Columns whose trimmed values, joined, form the source record id. When any is
    /// missing from a file's header (or empty in a row), the row-content hash is used.
    #[serde(default)]
    pub columns: Vec<ColumnRef>,
    /// For row-content ids only: `collapse` (default) makes byte-identical rows one
    /// record (the later copies are duplicates); `keep` numbers identical rows within a
    /// file (`#2`, `#3`, ...) so they stay separate records, for sources whose privacy
    /// masking makes distinct incidents identical. Re-loading the same file, or a later
    /// file repeating it, still recognises every row.
    pub repeated_rows: Option<String>,
}

/// How an instant (occurrence or report time) is read.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimeSection {
    /// One column holding date and time (or date only).
    pub column: Option<ColumnRef>,
    /// A second column holding the time of day, joined to `column` with a space.
    pub time_column: Option<ColumnRef>,
    /// Separate numeric parts (year, month, day, hour, minute).
    pub parts: Option<PartsSection>,
    /// Formats tried in order: `%Y %m %d %H %M %S` (1 digit or more), `%z` (UTC offset
    /// such as `+00`, `-0500`, `+05:30`), any other character literally.
    #[serde(default)]
    pub formats: Vec<String>,
    /// Local dates that stand for "unknown" (e.g. `1900-01-01`).
    #[serde(default)]
    pub placeholder_dates: Vec<String>,
    /// Dates before this (local, `YYYY-MM-DD`) are treated as placeholders.
    pub earliest: Option<String>,
    /// `quarantine` (default) or `widen`: on a daylight-saving fold, widen the window to
    /// cover both readings instead of quarantining the row.
    #[serde(default)]
    pub on_fold: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PartsSection {
    pub year: ColumnRef,
    pub month: ColumnRef,
    pub day: ColumnRef,
    pub hour: Option<ColumnRef>,
    pub minute: Option<ColumnRef>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LocationSection {
    /// Easting or longitude column.
    pub x: ColumnRef,
    /// Northing or latitude column.
    pub y: ColumnRef,
    /// CRS of x/y: `EPSG:n` or a proj string.
    pub crs: String,
    /// When true, a zero coordinate means "withheld", not an error: the row is
    /// accepted without a point (as sources that suppress sensitive locations do).
    #[serde(default)]
    pub zero_is_missing: bool,
    /// `accept` (default): rows without coordinates are kept with precision
    /// `area_only`/`none`; `quarantine`: they are rejected as `MISSING_COORD`.
    #[serde(default)]
    pub missing: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JurisdictionSection {
    /// Boundary polygons (GeoJSON, ESRI Shapefile, or a zip holding one), searched
    /// relative to each input file's folder and its parents, then the profile's folder.
    pub boundary: Option<String>,
    /// CRS of the boundary file when it is not WGS84 (`.prj` files are not read).
    pub boundary_crs: Option<String>,
    /// WGS84 bounding box `[min_lon, min_lat, max_lon, max_lat]`.
    pub bbox: Option<[f64; 4]>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AreasSection {
    pub district: Option<ColumnRef>,
    pub beat: Option<ColumnRef>,
    pub neighbourhood: Option<ColumnRef>,
    /// Values that mean "unknown" (compared after trimming), e.g. `0`.
    #[serde(default)]
    pub null_values: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OffenceSection {
    pub code: ColumnRef,
    pub description: Option<ColumnRef>,
    /// `text` (default: trimmed) or `numeric` (leading zeros and spaces removed, so
    /// Excel's "0110" → "110" mangling does not change the code).
    #[serde(default)]
    pub code_format: Option<String>,
    /// Category for codes no rule matches; without it such rows are quarantined as
    /// `UNKNOWN_OFFENCE`.
    pub default_category: Option<String>,
    #[serde(default)]
    pub rules: Vec<CategoryRule>,
}

/// One mapping rule; the first rule whose every condition holds gives the category.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CategoryRule {
    pub category: String,
    /// Exact codes (after normalisation).
    #[serde(default)]
    pub codes: Vec<String>,
    /// Inclusive numeric code range.
    pub code_range: Option<[i64; 2]>,
    /// Code prefixes.
    #[serde(default)]
    pub code_prefix: Vec<String>,
    /// Exact descriptions (trimmed, case-insensitive).
    #[serde(default)]
    pub descriptions: Vec<String>,
    /// Another column that must hold one of `values` (trimmed, case-insensitive).
    pub column: Option<ColumnRef>,
    #[serde(default)]
    pub values: Vec<String>,
}

/// Rows that cancel an earlier record (St. Louis `Count = -1`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetractionSection {
    pub column: ColumnRef,
    /// Values (trimmed) that mark a retraction row.
    pub values: Vec<String>,
    /// What identifies the original: `@occurred`, `@code`, `@id` or column references.
    pub matching: Vec<ColumnRef>,
}

/// Settings for files whose name matches a glob (`*` and `?`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileRule {
    pub glob: String,
    /// Store these rows under another dataset name.
    pub dataset: Option<String>,
    /// Constant columns added to every row (used when a file leaves out a column
    /// that is constant for it, e.g. a single-category extract).
    #[serde(default)]
    pub constants: std::collections::BTreeMap<String, String>,
}

/// A profile could not be read or is inconsistent.
#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    #[error("cannot read profile {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("profile {path} is not valid TOML for a source profile: {message}")]
    Parse { path: PathBuf, message: String },
    #[error(
        "profile `{name}` not found: looked for {tried}; pass a path to a .toml file or a name under profiles/"
    )]
    NotFound { name: String, tried: String },
    #[error("profile {path}: {message}")]
    Invalid { path: PathBuf, message: String },
}

impl Profile {
    /// Reads and checks a profile from a file.
    pub fn load(path: &Path) -> Result<Self, ProfileError> {
        let text = std::fs::read_to_string(path).map_err(|source| ProfileError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let mut profile = Self::parse(&text, path)?;
        profile.origin = Some(path.to_path_buf());
        Ok(profile)
    }

    /// Parses and checks profile text; `path` is used in messages only.
    pub fn parse(text: &str, path: &Path) -> Result<Self, ProfileError> {
        let mut profile: Profile = toml::from_str(text).map_err(|e| ProfileError::Parse {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        profile.text = text.to_string();
        profile.check().map_err(|message| ProfileError::Invalid {
            path: path.to_path_buf(),
            message,
        })?;
        Ok(profile)
    }

    /// Finds a profile by name (`profiles/<name>.toml` under `search_dirs`) or path.
    pub fn resolve(name_or_path: &str, search_dirs: &[PathBuf]) -> Result<Self, ProfileError> {
        let as_path = Path::new(name_or_path);
        if as_path.extension().is_some_and(|e| e == "toml") || as_path.components().count() > 1 {
            return Self::load(as_path);
        }
        let mut tried = Vec::new();
        for dir in search_dirs {
            let candidate = dir.join(format!("{name_or_path}.toml"));
            if candidate.is_file() {
                return Self::load(&candidate);
            }
            tried.push(candidate.display().to_string());
        }
        Err(ProfileError::NotFound {
            name: name_or_path.to_string(),
            tried: tried.join(", "),
        })
    }

    fn check(&self) -> Result<(), String> {
        self.kind()?;
        self.precision()?;
        jiff::tz::TimeZone::get(&self.dataset.time_zone).map_err(|e| {
            format!(
                "dataset.time_zone `{}` is not an IANA time zone ({e})",
                self.dataset.time_zone
            )
        })?;
        match self.dataset.encoding.to_ascii_lowercase().as_str() {
            "utf-8" | "utf8" | "windows-1252" | "cp1252" | "latin-1" | "latin1" | "iso-8859-1" => {}
            other => {
                return Err(format!(
                    "dataset.encoding `{other}` is not supported: use utf-8, windows-1252 or latin-1"
                ));
            }
        }
        check_time_section("occurred", &self.occurred)?;
        if let Some(b) = self.jurisdiction.bbox
            && !(b[0] < b[2]
                && b[1] < b[3]
                && b[0] >= -180.0
                && b[2] <= 180.0
                && b[1] >= -90.0
                && b[3] <= 90.0)
        {
            return Err(format!(
                "jurisdiction.bbox {b:?} must be [min_lon, min_lat, max_lon, max_lat] in WGS84 degrees with min < max"
            ));
        }
        if let Some(r) = &self.reported {
            check_time_section("reported", r)?;
        }
        if let Some(loc) = &self.location
            && let Some(m) = &loc.missing
            && m != "accept"
            && m != "quarantine"
        {
            return Err(format!(
                "location.missing `{m}` must be `accept` or `quarantine`"
            ));
        }
        match self.id.repeated_rows.as_deref() {
            None | Some("collapse") | Some("keep") => {}
            Some(other) => {
                return Err(format!(
                    "id.repeated_rows `{other}` must be `collapse` or `keep`"
                ));
            }
        }
        if let Some(def) = &self.offence.default_category {
            Category::from_slug(def).map_err(|e| format!("offence.default_category: {e}"))?;
        }
        match self.offence.code_format.as_deref() {
            None | Some("text") | Some("numeric") => {}
            Some(other) => {
                return Err(format!(
                    "offence.code_format `{other}` must be `text` or `numeric`"
                ));
            }
        }
        for (i, rule) in self.offence.rules.iter().enumerate() {
            Category::from_slug(&rule.category).map_err(|e| format!("offence.rules[{i}]: {e}"))?;
            let has_condition = !rule.codes.is_empty()
                || rule.code_range.is_some()
                || !rule.code_prefix.is_empty()
                || !rule.descriptions.is_empty()
                || rule.column.is_some();
            if !has_condition {
                return Err(format!(
                    "offence.rules[{i}] (category {}) has no condition: give codes, code_range, code_prefix, descriptions or column/values",
                    rule.category
                ));
            }
            if rule.column.is_some() == rule.values.is_empty() {
                return Err(format!(
                    "offence.rules[{i}]: `column` and `values` go together"
                ));
            }
        }
        if let Some(r) = &self.retraction
            && (r.values.is_empty() || r.matching.is_empty())
        {
            return Err("retraction needs `values` and `matching`".into());
        }
        Ok(())
    }

    /// The record kind.
    pub fn kind(&self) -> Result<SourceKind, String> {
        SourceKind::from_slug(&self.dataset.kind).ok_or_else(|| {
            format!(
                "dataset.kind `{}` must be call_for_service, incident_report or arrest",
                self.dataset.kind
            )
        })
    }

    /// Precision of published points.
    pub fn precision(&self) -> Result<Precision, String> {
        match Precision::from_slug(&self.dataset.precision) {
            Some(p @ (Precision::Exact | Precision::Block)) => Ok(p),
            _ => Err(format!(
                "dataset.precision `{}` must be `exact` or `block`",
                self.dataset.precision
            )),
        }
    }

    /// The file rule for a file name, if any.
    pub fn file_rule(&self, file_name: &str) -> Option<&FileRule> {
        self.files.iter().find(|r| glob_match(&r.glob, file_name))
    }

    /// Dataset name for a file (a file rule may redirect it).
    pub fn dataset_for(&self, file_name: &str) -> &str {
        self.file_rule(file_name)
            .and_then(|r| r.dataset.as_deref())
            .unwrap_or(&self.dataset.name)
    }
}

fn check_time_section(name: &str, t: &TimeSection) -> Result<(), String> {
    match (&t.column, &t.parts) {
        (Some(_), None) => {
            if t.formats.is_empty() {
                return Err(format!("{name}.formats: give at least one date format"));
            }
            for f in &t.formats {
                crate::datetime::DateFormat::compile(f)
                    .map_err(|e| format!("{name}.formats: {e}"))?;
            }
        }
        (None, Some(_)) => {}
        _ => {
            return Err(format!(
                "{name}: give either `column` (with `formats`) or `parts`"
            ));
        }
    }
    if t.time_column.is_some() && t.column.is_none() {
        return Err(format!("{name}.time_column needs `column`"));
    }
    for d in t.placeholder_dates.iter().chain(t.earliest.iter()) {
        let ok = d.split('-').count() == 3
            && d.split('-')
                .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
        if !ok {
            return Err(format!("{name}: `{d}` is not a date in YYYY-MM-DD form"));
        }
    }
    if let Some(f) = &t.on_fold
        && f != "quarantine"
        && f != "widen"
    {
        return Err(format!("{name}.on_fold must be `quarantine` or `widen`"));
    }
    Ok(())
}

/// Matches `*` (any run) and `?` (one character) against a whole file name.
pub fn glob_match(pattern: &str, name: &str) -> bool {
    fn go(p: &[u8], n: &[u8]) -> bool {
        match (p.first(), n.first()) {
            (None, None) => true,
            (Some(b'*'), _) => go(&p[1..], n) || (!n.is_empty() && go(p, &n[1..])),
            (Some(b'?'), Some(_)) => go(&p[1..], &n[1..]),
            (Some(a), Some(b)) if a == b => go(&p[1..], &n[1..]),
            _ => false,
        }
    }
    go(pattern.as_bytes(), name.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob_match("crimes_bur*.csv", "crimes_bur.csv"));
        assert!(glob_match("*.csv.gz", "jan2015.csv.gz"));
        assert!(!glob_match("crimes_veh*.csv", "crimes_bur.csv"));
        assert!(glob_match("a?c", "abc"));
    }

    #[test]
    fn rejects_rule_without_condition() {
        let text = r#"
            [dataset]
            name = "t"
            kind = "incident_report"
            time_zone = "UTC"
            local_crs = "EPSG:32618"
            [occurred]
            column = "d"
            formats = ["%Y-%m-%d"]
            [offence]
            code = "c"
            [[offence.rules]]
            category = "robbery"
        "#;
        let err = Profile::parse(text, Path::new("t.toml")).expect_err("must fail");
        assert!(err.to_string().contains("has no condition"), "{err}");
    }

    #[test]
    fn rejects_unknown_time_zone() {
        let text = r#"
            [dataset]
            name = "t"
            kind = "incident_report"
            time_zone = "Mars/Olympus"
            local_crs = "EPSG:32618"
            [occurred]
            column = "d"
            formats = ["%Y-%m-%d"]
            [offence]
            code = "c"
        "#;
        let err = Profile::parse(text, Path::new("t.toml")).expect_err("must fail");
        assert!(err.to_string().contains("IANA"), "{err}");
    }
}
