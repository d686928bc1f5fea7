//! The in-memory readers on real data: Parquet (`vancouver_2026_head200.parquet`),
//! GeoJSON points (`philadelphia_2025_head50.geojson`) and point shapefiles (the
//! official NIJ Portland package in /work/shared/data). Each file is read with
//! [`Table`] and every row normalised with a [`Layout`]; the expected events come from
//! `*.expected.csv`, computed by `tests/data/make_parquet.py` with zoneinfo and pyproj,
//! independently of Streetlight (see `tests/data/README.md`).

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use sl_ingest::table::{GEOMETRY_X, GEOMETRY_Y};
use sl_ingest::{Context, Format, Layout, Normalised, Profile, RawRow, RowOutcome, Table};
use sl_types::{Category, HarmTable, Precision, Timestamp};

/// "Now" for these tests: 2026-03-01T00:00:00Z, after every fixture row.
const NOW: Timestamp = Timestamp(1_772_323_200);

fn manifest() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn fixture(name: &str) -> PathBuf {
    manifest().join("tests").join("data").join(name)
}

fn repo_profile(name: &str) -> Profile {
    let path = manifest().join("../../profiles").join(name);
    Profile::load(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn fixture_profile(name: &str) -> Profile {
    let path = fixture(name);
    Profile::load(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The shared real-data folder (/work/shared/data beside the repository).
fn shared_data() -> PathBuf {
    let dir = manifest().join("../../../shared/data");
    assert!(
        dir.join("README.md").is_file(),
        "the real-data folder {} is missing: these tests read the NIJ Portland shapefile \
         package from it (see tests/data/README.md, \"Real-data reader fixtures\")",
        dir.display()
    );
    dir
}

fn nij(file: &str) -> PathBuf {
    let path = shared_data().join("portland-nij-cfs").join(file);
    assert!(path.is_file(), "{} is missing", path.display());
    path
}

/// A context as the engine builds it; the boundary file, if any, is given.
fn context(profile: &Profile, boundary: Option<&Path>) -> Context {
    Context::for_profile(profile, boundary, NOW, HarmTable::default()).expect("context")
}

/// Every row of a file, read in odd-sized chunks, with its header.
fn read_all(path: &Path, format: Format) -> (Vec<String>, Vec<RawRow>) {
    let mut table = Table::open(path, format).unwrap_or_else(|e| panic!("{e}"));
    let header = table.header().to_vec();
    let mut rows = Vec::new();
    loop {
        let chunk = table.read_chunk(7);
        if chunk.is_empty() {
            break;
        }
        rows.extend(chunk);
    }
    (header, rows)
}

fn field(row: &RawRow, i: usize) -> &str {
    std::str::from_utf8(&row.record[i]).expect("UTF-8 field")
}

fn fields(row: &RawRow) -> Vec<&str> {
    (0..row.record.len()).map(|i| field(row, i)).collect()
}

/// In-memory readers number rows 1, 2, ... and put row n on line n + 1.
fn assert_numbered(rows: &[RawRow]) {
    for (i, r) in rows.iter().enumerate() {
        assert_eq!((r.row, r.line), (i as u64 + 1, i as u64 + 2));
        assert!(
            r.decode_error.is_none(),
            "row {}: {:?}",
            r.row,
            r.decode_error
        );
    }
}

fn normalise_all(
    profile: &Profile,
    ctx: &Context,
    header: &[String],
    file: &str,
    rows: &[RawRow],
) -> Vec<RowOutcome> {
    let layout = Layout::new(profile, header, file).unwrap_or_else(|e| panic!("{e}"));
    rows.iter().map(|r| layout.normalise(ctx, r)).collect()
}

fn event(o: &RowOutcome) -> &Normalised {
    match o {
        RowOutcome::Event(n) => n,
        other => panic!("want an event, got {other:#?}"),
    }
}

/// The rows of an `*.expected.csv`, as name → value maps.
fn expected(name: &str) -> Vec<std::collections::HashMap<String, String>> {
    let mut rd = csv::Reader::from_path(fixture(name)).expect("expected file");
    let header: Vec<String> = rd
        .headers()
        .expect("header")
        .iter()
        .map(str::to_string)
        .collect();
    rd.records()
        .map(|r| {
            let r = r.expect("record");
            header
                .iter()
                .cloned()
                .zip(r.iter().map(str::to_string))
                .collect()
        })
        .collect()
}

fn number(text: &str) -> f64 {
    text.parse()
        .unwrap_or_else(|e| panic!("{text:?} is not a number: {e}"))
}

/// Checks an event's point against the expected lon/lat (empty: no point).
fn assert_point(at: &str, n: &Normalised, lon: &str, lat: &str, tolerance_deg: f64) {
    let loc = &n.event.location;
    if lon.is_empty() {
        assert_eq!(loc.lonlat, None, "{at}: no point");
        assert_eq!(loc.xy, None, "{at}: no point");
        return;
    }
    let (got_lon, got_lat) = loc.lonlat.unwrap_or_else(|| panic!("{at}: no lon/lat"));
    let (want_lon, want_lat) = (number(lon), number(lat));
    assert!(
        (got_lon - want_lon).abs() <= tolerance_deg && (got_lat - want_lat).abs() <= tolerance_deg,
        "{at}: lon/lat ({got_lon}, {got_lat}), want ({want_lon}, {want_lat})"
    );
    assert!(loc.xy.is_some(), "{at}: a point has local x/y");
    assert_eq!(loc.precision, Precision::Block, "{at}");
}

// ---------------------------------------------------------------------------------
// Parquet: VPD 2026, first 200 rows.

const VANCOUVER_PARQUET: &str = "vancouver_2026_head200.parquet";

#[test]
fn parquet_fixture_reads_with_its_header_and_values() {
    let path = fixture(VANCOUVER_PARQUET);
    assert_eq!(Format::from_path(&path), Format::Parquet);
    let (header, rows) = read_all(&path, Format::Parquet);
    assert_eq!(
        header,
        [
            "TYPE",
            "YEAR",
            "MONTH",
            "DAY",
            "HOUR",
            "MINUTE",
            "HUNDRED_BLOCK",
            "NEIGHBOURHOOD",
            "X",
            "Y"
        ]
    );
    assert_eq!(rows.len(), 200);
    assert_numbered(&rows);
    assert_eq!(
        fields(&rows[0]),
        [
            "Break and Enter Commercial",
            "2026",
            "1",
            "19",
            "0",
            "15",
            "17XX ALBERNI ST",
            "West End",
            "490245.3494",
            "5459922.7012"
        ]
    );
    // The location-suppressed homicide: doubles 0.0 read as `0.0` (not the parquet
    // crate's own `0E0`).
    assert_eq!(
        fields(&rows[172]),
        [
            "Homicide",
            "2026",
            "1",
            "20",
            "0",
            "0",
            "OFFSET TO PROTECT PRIVACY",
            "Grandview-Woodland",
            "0.0",
            "0.0"
        ]
    );
}

/// The Parquet rows hold what the published CSV holds, field for field.
#[test]
fn parquet_fixture_matches_its_csv_source() {
    let source =
        shared_data().join("vancouver-vpd/raw/crimedata_csv_AllNeighbourhoods_2026.csv.gz");
    let (csv_header, csv_rows) = read_all(&source, Format::Csv);
    let (header, rows) = read_all(&fixture(VANCOUVER_PARQUET), Format::Parquet);
    assert_eq!(header, csv_header);
    for (p, c) in rows.iter().zip(&csv_rows) {
        for (i, name) in header.iter().enumerate() {
            let (got, want) = (field(p, i), field(c, i));
            if name == "X" || name == "Y" {
                assert_eq!(number(got), number(want), "row {} {name}", p.row);
            } else {
                assert_eq!(got, want, "row {} {name}", p.row);
            }
        }
    }
}

#[test]
fn parquet_rows_normalise_with_the_vancouver_profile() {
    let profile = repo_profile("vancouver-vpd.toml");
    assert!(profile.jurisdiction.boundary.is_none());
    let ctx = context(&profile, None);
    let (header, rows) = read_all(&fixture(VANCOUVER_PARQUET), Format::Parquet);
    let outcomes = normalise_all(&profile, &ctx, &header, VANCOUVER_PARQUET, &rows);
    let want = expected("vancouver_2026_head200.expected.csv");
    assert_eq!(outcomes.len(), want.len());
    let category = |t: &str| match t {
        "Break and Enter Commercial" => Category::CommercialBurglary,
        "Break and Enter Residential/Other" => Category::ResidentialBurglary,
        "Homicide" => Category::Homicide,
        "Mischief" => Category::Vandalism,
        other => panic!("type {other} is not in the fixture"),
    };
    let mut points = 0;
    for (o, w) in outcomes.iter().zip(&want) {
        let at = format!("{VANCOUVER_PARQUET} row {}", w["row"]);
        let n = event(o);
        assert_eq!(n.row.to_string(), w["row"], "{at}");
        let e = &n.event;
        assert_eq!(&*e.id.dataset, "vancouver-vpd", "{at}");
        assert!(e.id.source_id.starts_with('h'), "{at}: row-content id");
        assert_eq!(e.occurred.from.0, number(&w["from"]) as i64, "{at}: from");
        assert_eq!(e.occurred.to.0, number(&w["to"]) as i64, "{at}: to");
        assert_eq!(&*e.time_zone, "America/Vancouver");
        assert_eq!(e.offence.code, w["type"], "{at}");
        assert_eq!(e.offence.category, category(&w["type"]), "{at}");
        assert_eq!(
            e.areas.neighbourhood.as_deref(),
            Some(w["neighbourhood"].as_str()),
            "{at}"
        );
        // pyproj and proj4rs agree to well under a centimetre in UTM 10N.
        assert_point(&at, n, &w["lon"], &w["lat"], 1e-7);
        if w["lon"].is_empty() {
            assert_eq!(e.location.precision, Precision::AreaOnly, "{at}");
        } else {
            points += 1;
        }
    }
    assert_eq!(points, 199, "one row (the homicide) is location-suppressed");
}

// ---------------------------------------------------------------------------------
// GeoJSON: Philadelphia 2025, first 50 rows as Point features.

const PHILADELPHIA_GEOJSON: &str = "philadelphia_2025_head50.geojson";

#[test]
fn geojson_fixture_reads_with_its_header_and_values() {
    let path = fixture(PHILADELPHIA_GEOJSON);
    assert_eq!(Format::from_path(&path), Format::GeoJson);
    let (header, rows) = read_all(&path, Format::GeoJson);
    // Property names in the order the reader meets them (serde_json keeps them sorted),
    // then the point's two virtual columns.
    assert_eq!(
        header,
        [
            "cartodb_id",
            "dc_dist",
            "dc_key",
            "dispatch_date",
            "dispatch_date_time",
            "dispatch_time",
            "hour",
            "location_block",
            "objectid",
            "psa",
            "text_general_code",
            "ucr_general",
            GEOMETRY_X,
            GEOMETRY_Y
        ]
    );
    assert_eq!(rows.len(), 50);
    assert_numbered(&rows);
    let col = |name: &str| header.iter().position(|h| h == name).expect("column");
    // Row 1: a homicide published without a point.
    let r1 = &rows[0];
    assert_eq!(field(r1, col("objectid")), "35969988");
    assert_eq!(field(r1, col("dc_dist")), "15");
    assert_eq!(
        field(r1, col("dispatch_date_time")),
        "2025-01-02 05:00:00+00"
    );
    assert_eq!(field(r1, col("dc_key")), "202515000310.00000000");
    assert_eq!(field(r1, col("ucr_general")), "100");
    assert_eq!(field(r1, col("hour")), "10");
    assert_eq!(field(r1, col(GEOMETRY_X)), "");
    assert_eq!(field(r1, col(GEOMETRY_Y)), "");
    // Row 4: the first with a point.
    let r4 = &rows[3];
    assert_eq!(field(r4, col("objectid")), "35970594");
    assert_eq!(field(r4, col("location_block")), "2400 BLOCK N CORLIES ST");
    assert_eq!(field(r4, col(GEOMETRY_X)), "-75.1817798");
    assert_eq!(field(r4, col(GEOMETRY_Y)), "39.99281806");
    let with_points = rows
        .iter()
        .filter(|r| !field(r, col(GEOMETRY_X)).is_empty())
        .count();
    assert_eq!(with_points, 47);
}

#[test]
fn geojson_rows_normalise_with_the_geometry_columns() {
    let profile = fixture_profile("philadelphia_geojson.toml");
    let ctx = context(&profile, None);
    let (header, rows) = read_all(&fixture(PHILADELPHIA_GEOJSON), Format::GeoJson);
    let outcomes = normalise_all(&profile, &ctx, &header, PHILADELPHIA_GEOJSON, &rows);
    let want = expected("philadelphia_2025_head50.expected.csv");
    assert_eq!(outcomes.len(), want.len());
    let category = |code: &str| match code {
        "100" => Category::Homicide,
        "700" => Category::VehicleTheft,
        "800" => Category::SimpleAssault,
        "1400" => Category::Vandalism,
        "1500" => Category::Weapons,
        "2600" => Category::Other,
        other => panic!("code {other} is not in the fixture"),
    };
    for (o, w) in outcomes.iter().zip(&want) {
        let at = format!("{PHILADELPHIA_GEOJSON} row {}", w["row"]);
        let n = event(o);
        let e = &n.event;
        assert_eq!(n.row.to_string(), w["row"], "{at}");
        assert_eq!(e.id.source_id, w["objectid"], "{at}: id from objectid");
        assert_eq!(e.occurred.from.0, number(&w["from"]) as i64, "{at}: from");
        assert_eq!(e.occurred.to.0, number(&w["to"]) as i64, "{at}: to");
        assert_eq!(e.offence.code, w["ucr_general"], "{at}");
        assert_eq!(e.offence.category, category(&w["ucr_general"]), "{at}");
        assert_eq!(e.areas.district.as_deref(), Some(w["district"].as_str()));
        assert_eq!(e.areas.beat.as_deref(), Some(w["beat"].as_str()));
        // EPSG:4326 in, so the published lon/lat come out unchanged.
        assert_point(&at, n, &w["lon"], &w["lat"], 1e-9);
        if w["lon"].is_empty() {
            assert_eq!(e.location.precision, Precision::AreaOnly, "{at}");
        }
    }
}

// ---------------------------------------------------------------------------------
// Shapefile: the official NIJ package for August 2016 (point shapefile in a zip).

const NIJ_ZIP: &str = "raw/080116_083116_Data.zip";
const NIJ_CSV: &str = "NIJ2016_AUG01_AUG31.csv.gz";
const NIJ_FIELDS: [&str; 8] = [
    "CATEGORY",
    "CALL_GROUP",
    "final_case",
    "CASE_DESC",
    "occ_date",
    "x_coordina",
    "y_coordina",
    "census_tra",
];

#[test]
fn nij_zip_reads_as_a_point_shapefile() {
    let path = nij(NIJ_ZIP);
    assert_eq!(Format::from_path(&path), Format::Shapefile);
    let (header, rows) = read_all(&path, Format::Shapefile);
    let mut want_header: Vec<&str> = NIJ_FIELDS.to_vec();
    want_header.extend([GEOMETRY_X, GEOMETRY_Y]);
    assert_eq!(header, want_header);
    assert_eq!(rows.len(), 19_376);
    assert_numbered(&rows);
    // Character fields keep a leading blank (" SUSPICIOUS") but lose their padding;
    // N(16,6) numbers print as the CSV extract prints them; dates are ISO.
    assert_eq!(
        fields(&rows[0])[..8],
        [
            "BURGLARY",
            " SUSPICIOUS",
            "PROWLP",
            "PROWLER",
            "2016-08-10",
            "7660085.0",
            "672910.0",
            "802.0"
        ]
    );
    // The point is the shape's; it is the attribute table's x/y. The one call without
    // a location (x/y 0 in the table) has a "no data" point (-DBL_MAX): no geometry.
    let mut without_point = Vec::new();
    for r in &rows {
        let (x, y) = (field(r, 8), field(r, 9));
        if x.is_empty() && y.is_empty() {
            without_point.push((r.row, field(r, 5), field(r, 6)));
            continue;
        }
        assert_eq!(number(x), number(field(r, 5)), "row {} x", r.row);
        assert_eq!(number(y), number(field(r, 6)), "row {} y", r.row);
    }
    assert_eq!(without_point, [(19_376, "0.0", "0.0")]);
}

/// The zip's attribute table and the CSV extract of it hold the same text, row by row.
#[test]
fn nij_zip_fields_equal_the_csv_extract() {
    let (zip_header, zip_rows) = read_all(&nij(NIJ_ZIP), Format::Shapefile);
    let (csv_header, csv_rows) = read_all(&nij(NIJ_CSV), Format::Csv);
    assert_eq!(csv_header, NIJ_FIELDS);
    assert_eq!(zip_header[..8], csv_header[..]);
    assert_eq!(zip_rows.len(), csv_rows.len());
    for (z, c) in zip_rows.iter().zip(&csv_rows) {
        assert_eq!(
            &fields(z)[..8],
            &fields(c)[..],
            "row {}: the shapefile and the CSV differ",
            z.row
        );
    }
}

/// Loaded with profiles/portland-nij-cfs.toml, the zip gives the CSV's outcomes row by
/// row: the same events (ids aside: row-content ids hash the point columns too) and
/// the same rejections.
#[test]
fn nij_zip_normalises_like_the_csv_extract() {
    let profile = repo_profile("portland-nij-cfs.toml");
    let boundary = nij("boundaries/portland-police-districts.zip");
    let ctx = context(&profile, Some(&boundary));
    let (zh, zrows) = read_all(&nij(NIJ_ZIP), Format::Shapefile);
    let (ch, crows) = read_all(&nij(NIJ_CSV), Format::Csv);
    let zip_out = normalise_all(&profile, &ctx, &zh, "080116_083116_Data.zip", &zrows);
    let csv_out = normalise_all(&profile, &ctx, &ch, NIJ_CSV, &crows);
    let (mut events, mut rejected) = (0, 0);
    for (z, c) in zip_out.iter().zip(&csv_out) {
        match (z, c) {
            (RowOutcome::Event(z), RowOutcome::Event(c)) => {
                let mut ze = z.event.clone();
                ze.id.source_id.clone_from(&c.event.id.source_id);
                assert_eq!(ze, c.event, "row {}", z.row);
                assert_eq!(z.content_hash, c.content_hash, "row {}", z.row);
                events += 1;
            }
            (RowOutcome::Rejected(z), RowOutcome::Rejected(c)) => {
                assert_eq!(
                    (z.reason, &z.column),
                    (c.reason, &c.column),
                    "row {}",
                    z.row
                );
                assert_eq!(z.raw, c.raw, "row {}", z.row);
                rejected += 1;
            }
            (z, c) => panic!("zip {z:#?} but CSV {c:#?}"),
        }
    }
    // 19,039 accepted + 257 duplicates (the engine's call) = 19,296 events; 80 rejected.
    assert_eq!((events, rejected), (19_296, 80));
}

/// The NIJ `.shp` and `.dbf` taken out of the zip into a temporary folder.
fn unzipped_nij(dir: &Path, dbf_extension: &str) -> PathBuf {
    let mut zip =
        zip::ZipArchive::new(std::fs::File::open(nij(NIJ_ZIP)).expect("zip")).expect("zip archive");
    let stem = "NIJ2016_AUG01_AUG31";
    for (ext, out) in [("shp", "shp"), ("dbf", dbf_extension)] {
        let mut bytes = Vec::new();
        zip.by_name(&format!("{stem}.{ext}"))
            .expect("member")
            .read_to_end(&mut bytes)
            .expect("read member");
        std::fs::write(dir.join(format!("{stem}.{out}")), bytes).expect("write");
    }
    dir.join(format!("{stem}.shp"))
}

#[test]
fn plain_shp_reads_its_dbf_from_beside_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    // An upper-case .DBF extension is found too.
    let shp = unzipped_nij(dir.path(), "DBF");
    assert_eq!(Format::from_path(&shp), Format::Shapefile);
    let (header, rows) = read_all(&shp, Format::Shapefile);
    let (zip_header, zip_rows) = read_all(&nij(NIJ_ZIP), Format::Shapefile);
    assert_eq!(header, zip_header);
    assert_eq!(rows.len(), zip_rows.len());
    for (a, b) in rows.iter().zip(&zip_rows) {
        assert_eq!(a.record, b.record, "row {}", a.row);
    }

    std::fs::remove_file(dir.path().join("NIJ2016_AUG01_AUG31.DBF")).expect("remove");
    let err = Table::open(&shp, Format::Shapefile).expect_err("no .dbf");
    assert!(err.to_string().contains(".dbf"), "{err}");
}

#[test]
fn polygon_shapefile_is_refused_with_a_clear_error() {
    let path = nij("boundaries/portland-police-districts.zip");
    let err = Table::open(&path, Format::Shapefile).expect_err("polygons are not records");
    let text = err.to_string();
    assert!(
        text.contains("Polygon") && text.contains("only point shapefiles"),
        "{text}"
    );
}

#[test]
fn zips_without_exactly_one_shapefile_are_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let write_zip = |name: &str, members: &[&str]| -> PathBuf {
        let path = dir.path().join(name);
        let mut w = zip::ZipWriter::new(std::fs::File::create(&path).expect("create"));
        for m in members {
            w.start_file(*m, zip::write::SimpleFileOptions::default())
                .expect("member");
            w.write_all(b"not a shapefile").expect("write");
        }
        w.finish().expect("finish");
        path
    };
    let cases = [
        (
            write_zip("none.zip", &["readme.txt", "data.xlsx"]),
            "no .shp",
        ),
        (
            write_zip("two.zip", &["a.shp", "a.dbf", "b.shp", "b.dbf"]),
            "2 shapefiles",
        ),
        (write_zip("nodbf.zip", &["a.shp", "a.shx"]), "a.dbf"),
    ];
    for (path, want) in cases {
        let err = Table::open(&path, Format::from_path(&path)).expect_err("refused");
        assert!(err.to_string().contains(want), "{}: {err}", path.display());
    }
    let junk = dir.path().join("junk.zip");
    std::fs::write(&junk, b"PK not really").expect("write");
    assert!(Table::open(&junk, Format::Shapefile).is_err());
}
