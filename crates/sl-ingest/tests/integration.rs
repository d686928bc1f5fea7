//! The bad-input corpus (`tests/data`, described in `tests/data/README.md`): every
//! row of every file is read with [`Table`], normalised with [`Layout`] and checked
//! against its exact outcome (event, retraction, or rejection with reason code and
//! column), and every file yields exactly one outcome per row read.
//!
//! `DUPLICATE` and `RETRACTION_WITHOUT_ORIGINAL` are decided by the engine against the
//! store, not here: `duplicates.csv` holds rows for those, and the tests below only
//! check what the engine will rely on (equal ids and content hashes, retraction keys).

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};

use sl_ingest::boundary::Boundary;
use sl_ingest::{
    Context, Format, Layout, Normalised, Profile, RawRow, Rejection, Retraction, RowOutcome, Table,
};
use sl_types::{Category, HarmTable, Precision, ReasonCode, Timestamp};

#[path = "integration/readers.rs"]
mod readers;
#[path = "integration/reprojection.rs"]
mod reprojection;
/// The fixed "now" of every test: 2024-06-01T00:00:00Z (2024-05-31 19:00 in Chicago).
const NOW: Timestamp = Timestamp(1_717_200_000);

/// 2020-01-15 10:30 America/Chicago (CST, UTC-6) = 16:30Z, the corpus's usual time.
const JAN15_1030: i64 = 1_579_105_800;

/// The main profile: UTF-8, lon/lat, bbox and boundary polygon, numeric codes.
const MAIN: &str = "bad_input.toml";
/// The second profile: Windows-1252, projected x/y, date parts, MISSING_COORD.
const STRICT: &str = "bad_input_strict.toml";

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("data")
}

fn profile(name: &str) -> Profile {
    let path = data_dir().join(name);
    Profile::load(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A context built as the engine builds it, with a fixed `now` and the boundary file
/// looked up in the corpus folder.
fn context(profile: &Profile) -> Context {
    let boundary = profile
        .jurisdiction
        .boundary
        .as_ref()
        .map(|rel| data_dir().join(rel));
    Context::for_profile(profile, boundary.as_deref(), NOW, HarmTable::default()).expect("context")
}

/// One file read and normalised.
struct Loaded {
    header: Vec<String>,
    rows: Vec<RawRow>,
    outcomes: Vec<RowOutcome>,
}

/// Reads every row of `path` (in small chunks, to cross chunk boundaries) and
/// normalises it; checks that every row read has exactly one outcome.
fn load(profile_name: &str, path: &Path) -> Loaded {
    let profile = profile(profile_name);
    let ctx = context(&profile);
    load_with(&profile, &ctx, path)
}

fn load_with(profile: &Profile, ctx: &Context, path: &Path) -> Loaded {
    let mut table = Table::open(path, Format::from_path(path))
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let header = table.header().to_vec();
    let file_name = path.file_name().expect("file name").to_string_lossy();
    let layout = Layout::new(profile, &header, &file_name).unwrap_or_else(|e| panic!("{e}"));
    let mut rows = Vec::new();
    loop {
        let chunk = table.read_chunk(3);
        if chunk.is_empty() {
            break;
        }
        rows.extend(chunk);
    }
    let outcomes: Vec<RowOutcome> = rows.iter().map(|r| layout.normalise(ctx, r)).collect();
    assert_accounted(&rows, &outcomes);
    Loaded {
        header,
        rows,
        outcomes,
    }
}

/// Every row read has one outcome, rows are numbered 1, 2, 3, ... and each outcome
/// carries its row's number.
fn assert_accounted(rows: &[RawRow], outcomes: &[RowOutcome]) {
    assert_eq!(outcomes.len(), rows.len(), "one outcome per row read");
    for (i, (raw, outcome)) in rows.iter().zip(outcomes).enumerate() {
        assert_eq!(raw.row, i as u64 + 1, "rows are numbered consecutively");
        let row = match outcome {
            RowOutcome::Event(n) => n.row,
            RowOutcome::Retraction(r) => r.row,
            RowOutcome::Rejected(r) => r.row,
        };
        assert_eq!(row, raw.row, "outcome carries its row number");
    }
}

fn corpus(file: &str) -> PathBuf {
    data_dir().join(file)
}

/// The expected outcome of one row.
#[derive(Debug, Clone, Copy)]
enum Want {
    /// An event with this source id (`""`: a row-content hash id).
    Event(&'static str),
    /// A retraction row whose review summary contains this text.
    Retraction(&'static str),
    /// A rejection whose review summary contains the text (`""`: not checked), with
    /// this reason and column.
    Rejected(&'static str, ReasonCode, Option<&'static str>),
}

use Want::{Event as Ev, Rejected as Rej, Retraction as Ret};

fn check(file: &str, loaded: &Loaded, want: &[Want]) {
    assert_eq!(
        loaded.outcomes.len(),
        want.len(),
        "{file}: number of rows read; outcomes: {:#?}",
        loaded.outcomes
    );
    for (i, (got, want)) in loaded.outcomes.iter().zip(want).enumerate() {
        let at = format!("{file} row {}", i + 1);
        match (got, *want) {
            (RowOutcome::Event(n), Ev(id)) => {
                if id.is_empty() {
                    assert!(
                        n.event.id.source_id.starts_with('h'),
                        "{at}: hash id, got {:?}",
                        n.event.id
                    );
                } else {
                    assert_eq!(n.event.id.source_id, id, "{at}");
                }
            }
            (RowOutcome::Retraction(r), Ret(text)) => {
                assert!(
                    r.raw.contains(text),
                    "{at}: summary {:?} lacks {text:?}",
                    r.raw
                );
            }
            (RowOutcome::Rejected(r), Rej(text, reason, column)) => {
                assert_eq!(
                    (r.reason, r.column.as_deref()),
                    (reason, column),
                    "{at}: {} ({})",
                    r.detail,
                    r.raw
                );
                assert!(
                    r.raw.contains(text),
                    "{at}: summary {:?} lacks {text:?}",
                    r.raw
                );
                assert!(!r.detail.is_empty(), "{at}: a rejection explains itself");
            }
            (got, want) => panic!("{at}: want {want:?}, got {got:#?}"),
        }
    }
}

fn event(o: &RowOutcome) -> &Normalised {
    match o {
        RowOutcome::Event(n) => n,
        other => panic!("want an event, got {other:#?}"),
    }
}

fn rejection(o: &RowOutcome) -> &Rejection {
    match o {
        RowOutcome::Rejected(r) => r,
        other => panic!("want a rejection, got {other:#?}"),
    }
}

fn retraction(o: &RowOutcome) -> &Retraction {
    match o {
        RowOutcome::Retraction(r) => r,
        other => panic!("want a retraction, got {other:#?}"),
    }
}

fn reasons(loaded: &Loaded) -> impl Iterator<Item = ReasonCode> + '_ {
    loaded.outcomes.iter().filter_map(|o| match o {
        RowOutcome::Rejected(r) => Some(r.reason),
        _ => None,
    })
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(bytes).expect("gzip");
    enc.finish().expect("gzip finish")
}

mod corpus_files {
    use super::*;
    use ReasonCode::*;

    #[test]
    fn profiles_load() {
        let main = profile(MAIN);
        assert_eq!(main.dataset.name, "bad-input");
        assert!(main.retraction.is_some());
        let strict = profile(STRICT);
        assert_eq!(strict.dataset.encoding, "windows-1252");
        let loc = strict.location.as_ref().expect("location");
        assert_eq!(loc.missing.as_deref(), Some("quarantine"));
        let b = Boundary::read(&corpus("boundary.geojson"), None).expect("boundary");
        assert_eq!(b.features.len(), 1);
        assert_eq!(b.bbox(), [-90.35, 38.55, -90.15, 38.75]);
    }

    #[test]
    fn coordinates() {
        let l = load(MAIN, &corpus("coords.csv"));
        check(
            "coords.csv",
            &l,
            &[
                Ev("C01"),
                Rej("C02", ZeroCoord, Some("lon")),
                Rej("C03", ZeroCoord, Some("lon")),
                Rej("C04", BadCoord, Some("lon")),
                Rej("C05", BadCoord, Some("lon")),
                Rej("C06", BadCoord, Some("lon")),
                Rej("C07", BadCoord, Some("lon")),
                Rej("C08", BadCoord, Some("lon")),
                Rej("C09", BadCoord, Some("lon")),
                Rej("C10", OutsideJurisdiction, Some("lon")),
                Rej("C11", OutsideJurisdiction, Some("lon")),
                Rej("C12", OutsideJurisdiction, Some("lon")),
                Ev("C13"),
                Ev("C14"),
                Ev("C15"),
                Ev("C16"),
            ],
        );
        let c01 = &event(&l.outcomes[0]).event;
        assert_eq!(c01.location.precision, Precision::Block);
        let (lon, lat) = c01.location.lonlat.expect("lon/lat");
        assert!(
            (lon + 90.30).abs() < 1e-9 && (lat - 38.60).abs() < 1e-9,
            "{lon} {lat}"
        );
        let (x, y) = c01.location.xy.expect("local x/y");
        // NAD83 / UTM 15N of (-90.30, 38.60).
        assert!(
            (x - 735_127.86).abs() < 0.5 && (y - 4_275_847.45).abs() < 0.5,
            "{x} {y}"
        );
        assert_eq!(c01.areas.district.as_deref(), Some("5"));
        assert_eq!(c01.occurred.from, Timestamp(JAN15_1030));
        assert_eq!(c01.occurred.seconds(), 60);
        assert_eq!(c01.offence.category, Category::Homicide);
        assert_eq!(c01.harm, HarmTable::default().weight(Category::Homicide));
        // The bbox and polygon rejections say which test failed.
        assert!(rejection(&l.outcomes[9]).detail.contains("bounding box"));
        assert!(
            rejection(&l.outcomes[11])
                .detail
                .contains("jurisdiction boundary")
        );
        // No point: kept without one (the profile accepts missing locations).
        let c13 = &event(&l.outcomes[12]).event;
        assert_eq!(c13.location.precision, Precision::AreaOnly);
        assert_eq!((c13.location.xy, c13.location.lonlat), (None, None));
        let c14 = &event(&l.outcomes[13]).event;
        assert_eq!(
            c14.location.precision,
            Precision::None,
            "district 0 is a null value"
        );
        assert_eq!(c14.areas.district, None);
        let c15 = &event(&l.outcomes[14]).event;
        assert_eq!(
            c15.location.precision,
            Precision::AreaOnly,
            "one coordinate is no point"
        );
        // Padded coordinates are trimmed.
        assert_eq!(event(&l.outcomes[15]).event.location, c01.location);
    }

    #[test]
    fn dates() {
        let l = load(MAIN, &corpus("dates.csv"));
        check(
            "dates.csv",
            &l,
            &[
                Rej("D01", UnparseableDate, Some("occurred")),
                Rej("D02", UnparseableDate, Some("occurred")),
                Rej("D03", UnparseableDate, Some("occurred")),
                Rej("D04", PlaceholderDate, Some("occurred")),
                Rej("D05", PlaceholderDate, Some("occurred")),
                Rej("D06", FutureDate, Some("occurred")),
                Ev("D07"),
                Rej("D08", FutureDate, Some("occurred")),
                Rej("D09", NonexistentLocalTime, Some("occurred")),
                Rej("D10", AmbiguousLocalTime, Some("occurred")),
                Ev("D11"),
                Rej("D12", MissingField, Some("occurred")),
                Ev("D13"),
                Ev("D14"),
                Ev("D15"),
                Rej("D16", FutureDate, Some("occurred")),
            ],
        );
        assert!(rejection(&l.outcomes[0]).detail.contains("`yesterday`"));
        assert!(
            rejection(&l.outcomes[3])
                .detail
                .contains("1900-01-01 is a placeholder")
        );
        assert!(
            rejection(&l.outcomes[4])
                .detail
                .contains("before the earliest plausible date")
        );
        // 05/31/2024 19:00 CDT is exactly `now`: not in the future.
        assert_eq!(event(&l.outcomes[6]).event.occurred.from, NOW);
        // An explicit UTC offset resolves the fold hour (01:30 CDT = 06:30Z).
        let d11 = &event(&l.outcomes[10]).event;
        assert_eq!(
            (d11.occurred.from.0, d11.occurred.seconds()),
            (1_446_359_400, 1)
        );
        // Unpadded 1/5/2020 7:05 CST = 13:05Z.
        assert_eq!(event(&l.outcomes[12]).event.occurred.from.0, 1_578_229_500);
        // A date without a time is the whole local day (06:00Z to 06:00Z in winter).
        let d14 = &event(&l.outcomes[13]).event;
        assert_eq!(
            (d14.occurred.from.0, d14.occurred.seconds()),
            (1_579_068_000, 86_400)
        );
        let d15 = &event(&l.outcomes[14]).event;
        assert_eq!(
            (d15.occurred.from.0, d15.occurred.seconds()),
            (JAN15_1030 + 45, 1)
        );
        for n in l.outcomes.iter().filter_map(|o| match o {
            RowOutcome::Event(n) => Some(n),
            _ => None,
        }) {
            assert_eq!(&*n.event.time_zone, "America/Chicago");
            assert!(n.event.occurred.from <= NOW);
        }
    }

    #[test]
    fn offence_codes() {
        let l = load(MAIN, &corpus("offences.csv"));
        check(
            "offences.csv",
            &l,
            &[
                Ev("O01"),
                Ev("O02"),
                Ev("O03"),
                Ev("O04"),
                Ev("O05"),
                Ev("O06"),
                Ev("O07"),
                Ev("O08"),
                Ev("O09"),
                Ev("O10"),
                Rej("O11", UnknownOffence, Some("code")),
                Rej("O12", MissingField, Some("code")),
                Ev("O13"),
                Rej("O14", UnknownOffence, Some("code")),
                Rej("O15", UnknownOffence, Some("code")),
                Rej("O16", UnknownOffence, Some("code")),
            ],
        );
        let offence = |i: usize| {
            let o = &event(&l.outcomes[i]).event.offence;
            (o.code.as_str(), o.description.as_str(), o.category)
        };
        // "110", "0110", "110.0", ="0110" (bare and CSV-quoted), " 0110 ": all "110".
        for i in 0..6 {
            assert_eq!(
                offence(i),
                ("110", "Homicide", Category::Homicide),
                "row {}",
                i + 1
            );
        }
        assert_eq!(offence(6), ("350", "Robbery", Category::Robbery));
        assert_eq!(offence(7), ("350", "Robbery", Category::Robbery));
        // Descriptions are trimmed and matched case-insensitively, but kept as written.
        assert_eq!(offence(8), ("999", "SHOPLIFTING", Category::OtherTheft));
        assert_eq!(
            offence(9),
            ("510", "Burglary", Category::ResidentialBurglary)
        );
        // An empty code with a mapped description is still an event.
        assert_eq!(offence(12), ("", "Shoplifting", Category::OtherTheft));
        assert!(rejection(&l.outcomes[10]).detail.contains("`9999`"));
        // "000" is normalised to "0"; "110.00" keeps its decimals (only ".0" is undone).
        assert!(rejection(&l.outcomes[14]).detail.contains("`0`"));
        assert!(rejection(&l.outcomes[15]).detail.contains("`110.00`"));
    }

    #[test]
    fn formula_cells_are_kept_as_text() {
        let l = load(MAIN, &corpus("formulas.csv"));
        check(
            "formulas.csv",
            &l,
            &[
                Ev("F01"),
                Ev("F02"),
                Ev("F03"),
                Ev("F04"),
                Ev("F05"),
                Ev("F06"),
                Ev("F07"),
                Rej("F08", UnknownOffence, Some("code")),
            ],
        );
        let desc = |i: usize| event(&l.outcomes[i]).event.offence.description.clone();
        assert_eq!(desc(0), r#"=HYPERLINK("http://evil.example/","click")"#);
        assert_eq!(desc(1), "+cmd|' /C calc'!A0");
        assert_eq!(desc(2), "@SUM(1+1)");
        // The apostrophe that protected a formula-like cell is dropped; the text stays.
        assert_eq!(desc(3), "=1+2");
        assert_eq!(desc(4), "-2+3");
        assert_eq!(desc(5), "'Hello");
        // Excel's ="..." text wrapper is undone in descriptions too.
        assert_eq!(desc(6), "Shoplifting");
        assert_eq!(
            event(&l.outcomes[6]).event.offence.category,
            Category::OtherTheft
        );
        for i in 0..6 {
            assert_eq!(
                event(&l.outcomes[i]).event.offence.category,
                Category::Homicide
            );
        }
        assert!(rejection(&l.outcomes[7]).detail.contains("`=1+1`"));
    }

    #[test]
    fn invalid_utf8() {
        let l = load(MAIN, &corpus("bad_utf8.csv"));
        check(
            "bad_utf8.csv",
            &l,
            &[
                Rej("U01", BadEncoding, Some("description")),
                Rej("U02", BadEncoding, Some("code")),
                Rej("U03", BadEncoding, Some("occurred")),
                Rej("U04", BadEncoding, None),
                Ev("U05"),
                Rej("U06", BadEncoding, Some("lon")),
                Rej(
                    "incident_id=<invalid encoding>",
                    BadEncoding,
                    Some("incident_id"),
                ),
                Rej("U08", BadEncoding, Some("address")),
                Rej("U09", BadEncoding, Some("count")),
                Rej("U10", BadEncoding, Some("description")),
                Rej("U11", BadEncoding, Some("description")),
                Rej("U12", BadEncoding, Some("description")),
                Ev("U13"),
                Ev("U14"),
            ],
        );
        // The review summary marks the bad field and keeps the others.
        let u01 = rejection(&l.outcomes[0]);
        assert!(
            u01.raw.contains("description=<invalid encoding>"),
            "{}",
            u01.raw
        );
        assert!(u01.raw.contains("code=110"), "{}", u01.raw);
        assert!(
            u01.detail.contains("windows-1252"),
            "the detail suggests the fix"
        );
        // Unmapped columns are never decoded (and never reach the summary).
        assert!(!u01.raw.contains("notes"));
        assert_eq!(
            event(&l.outcomes[12]).event.offence.description,
            "Café ☕ 日本"
        );
        assert_eq!(
            event(&l.outcomes[13]).event.offence.description,
            "nul\0byte"
        );
    }

    #[test]
    fn ragged_rows_and_blank_lines() {
        let l = load(MAIN, &corpus("ragged.csv"));
        check(
            "ragged.csv",
            &l,
            &[
                Ev("R01"),
                Rej("R02", RaggedRow, None),
                Rej("R03", RaggedRow, None),
                Rej("incident_id=garbage", RaggedRow, None),
                Rej("", RaggedRow, None),
                Ev("R06"),
                Ev("R07"),
                Ev("R08"),
            ],
        );
        assert!(
            rejection(&l.outcomes[1])
                .detail
                .contains("9 fields, the header has 10")
        );
        assert!(rejection(&l.outcomes[2]).detail.contains("11 fields"));
        // Blank lines (mid-file and trailing) are not rows. (Their effect on line
        // numbers is checked in `line_numbers_count_blank_lines_and_crlf`.)
        let r07 = &event(&l.outcomes[6]).event;
        assert_eq!(r07.offence.description, "two\nlines");
        // A CRLF line ending leaves no `\r` in the last field.
        assert_eq!(l.rows[5].record.get(9), Some(&b""[..]));
    }

    #[test]
    fn crlf_line_endings() {
        let l = load(MAIN, &corpus("crlf.csv"));
        check(
            "crlf.csv",
            &l,
            &[
                Ev("L01"),
                Rej("L02", ZeroCoord, Some("lon")),
                Ev("L03"),
                Ev("L04"),
            ],
        );
        assert_eq!(l.header[9], "notes", "no `\\r` in the last header name");
        assert!(
            l.rows
                .iter()
                .all(|r| r.record.iter().next_back() == Some(&b""[..]))
        );
        // A line break inside quotes is kept as written.
        assert_eq!(
            event(&l.outcomes[2]).event.offence.description,
            "two\r\nlines"
        );
        assert_eq!(event(&l.outcomes[0]).event, {
            let mut e = event(&l.outcomes[3]).event.clone();
            e.id.source_id = "L01".into();
            e
        });
    }

    #[test]
    fn crlf_line_numbers() {
        let l = load(MAIN, &corpus("crlf.csv"));
        let lines: Vec<u64> = l.rows.iter().map(|r| r.line).collect();
        assert_eq!(lines, [2, 3, 4, 6], "L03 spans lines 4 and 5");
        assert_eq!(rejection(&l.outcomes[1]).line, 3, "L02 is on line 3");
        assert_eq!(event(&l.outcomes[3]).line, 6);
    }

    /// `RawRow::line` (and so `Rejection::line`) is the 1-based line a row starts on.
    /// csv's `ByteRecord::position()` is taken before the reader skips blank lines and
    /// the `\n` left over from a CRLF pair; the reader's single per-file shift (taken
    /// from the first row) cannot follow a shift that changes mid-file.
    #[test]

    fn line_numbers_after_blank_lines() {
        let l = load(MAIN, &corpus("ragged.csv"));
        let lines: Vec<u64> = l.rows.iter().map(|r| r.line).collect();
        // R06 follows a blank line; R07 follows R06's CRLF line end.
        assert_eq!(lines, [2, 3, 4, 5, 6, 8, 9, 11], "ragged.csv");
        let dir = tempfile::tempdir().expect("tempdir");
        for (name, text, want) in [
            ("lf_blank.csv", "a,b\n1,2\n\n3,4\n", [2, 4]),
            ("crlf_blank.csv", "a,b\r\n1,2\r\n\r\n3,4\r\n", [2, 4]),
            ("lf_blank_first.csv", "a,b\n\n1,2\n3,4\n", [3, 4]),
            ("crlf_blank_first.csv", "a,b\r\n\r\n1,2\r\n3,4\r\n", [3, 4]),
            (
                "crlf_two_line_header.csv",
                "\"a\r\nx\",b\r\n1,2\r\n3,4\r\n",
                [3, 4],
            ),
            ("cr_only.csv", "a,b\r1,2\r3,4\r", [2, 3]),
        ] {
            let p = dir.path().join(name);
            std::fs::write(&p, text).expect("write");
            let mut t = Table::open(&p, Format::Csv).expect("open");
            let lines: Vec<u64> = t.read_chunk(10).iter().map(|r| r.line).collect();
            assert_eq!(lines, want, "{name}");
        }
    }

    #[test]
    fn unterminated_quote() {
        let l = load(MAIN, &corpus("unterminated_quote.csv"));
        // The quote opened in Q02 runs to the end of the file, swallowing Q03 and Q04:
        // the decoder sees one short record, which is ragged.
        check(
            "unterminated_quote.csv",
            &l,
            &[Ev("Q01"), Rej("Q02", RaggedRow, None)],
        );
        assert_eq!(
            event(&l.outcomes[0]).event.offence.description,
            "Joe's \"Bar\" & Grill"
        );
        let q02 = &l.rows[1];
        assert_eq!(q02.record.len(), 4);
        assert!(
            q02.record[3]
                .ends_with(b"Q04,01/15/2020 10:30,110,Homicide,-90.30,38.60,5,100 MAIN ST,1,\n")
        );
        assert_eq!(q02.line, 3);
    }

    #[test]
    fn utf8_bom_is_stripped_from_the_header() {
        for file in ["bom.csv", "bom_quoted.csv"] {
            let bytes = std::fs::read(corpus(file)).expect("read");
            assert!(
                bytes.starts_with(b"\xEF\xBB\xBF"),
                "{file} starts with a BOM"
            );
            let l = load(MAIN, &corpus(file));
            assert_eq!(l.header[0], "incident_id", "{file}");
            assert_eq!(l.header.len(), 10, "{file}");
        }
        let l = load(MAIN, &corpus("bom.csv"));
        // The id comes from the first column, so the BOM-prefixed name was matched.
        check("bom.csv", &l, &[Ev("B01"), Ev("B02")]);
        assert_eq!(event(&l.outcomes[1]).event.offence.code, "350");
        let l = load(MAIN, &corpus("bom_quoted.csv"));
        check("bom_quoted.csv", &l, &[Ev("BQ1")]);
    }

    #[test]
    fn duplicates_and_retractions_for_the_engine() {
        let l = load(MAIN, &corpus("duplicates.csv"));
        check(
            "duplicates.csv",
            &l,
            &[
                Ev("X01"),
                Ev("X01"),
                Ev("X01"),
                Ev(""),
                Ev(""),
                Ret("count=-1"),
                Ret("incident_id=X05"),
            ],
        );
        let e = |i: usize| event(&l.outcomes[i]);
        // Exact duplicates: same id, same content (the engine reports DUPLICATE).
        assert_eq!(e(0).event.id, e(1).event.id);
        assert_eq!(e(0).content_hash, e(1).content_hash);
        assert_eq!(e(0).event, e(1).event);
        // Same id, changed content: a revision, not a duplicate.
        assert_eq!(e(2).event.id, e(0).event.id);
        assert_ne!(e(2).content_hash, e(0).content_hash);
        // No id: byte-identical rows share a row-content hash id.
        assert_eq!(e(3).event.id, e(4).event.id);
        assert_eq!(e(3).content_hash, e(4).content_hash);
        assert_ne!(e(3).event.id.source_id, "");
        assert_eq!(&*e(3).event.id.dataset, "bad-input");
        // A retraction row matches its original on occurred time, code ("0110" and
        // "110" agree) and address; coordinates and the padded " -1 " do not matter.
        let original = e(0).retract_key.expect("retraction profile gives keys");
        assert_eq!(retraction(&l.outcomes[5]).key, original);
        assert_eq!(e(1).retract_key, Some(original));
        // The second retraction matches nothing in the data: the engine reports
        // RETRACTION_WITHOUT_ORIGINAL.
        let orphan = retraction(&l.outcomes[6]).key;
        for i in 0..5 {
            assert_ne!(e(i).retract_key, Some(orphan));
        }
    }

    #[test]
    fn header_variants_and_reordered_columns() {
        let l = load(MAIN, &corpus("header_variant.csv"));
        check("header_variant.csv", &l, &[Ev("V01")]);
        let v = &event(&l.outcomes[0]).event;
        assert_eq!(v.offence.code, "110");
        assert_eq!(v.occurred.from, Timestamp(JAN15_1030));
        let (lon, lat) = v.location.lonlat.expect("point");
        assert!((lon + 90.30).abs() < 1e-9 && (lat - 38.60).abs() < 1e-9);
    }

    #[test]
    fn header_only_and_missing_columns() {
        let l = load(MAIN, &corpus("header_only.csv"));
        assert!(l.rows.is_empty() && l.outcomes.is_empty());
        let p = profile(MAIN);
        let t = Table::open(&corpus("no_code_column.csv"), Format::Csv).expect("open");
        let err = Layout::new(&p, t.header(), "no_code_column.csv").expect_err("no code column");
        assert_eq!(err.what, "offence code");
        assert!(err.to_string().contains("no_code_column.csv"), "{err}");
        // An empty file has no header at all.
        let dir = tempfile::tempdir().expect("tempdir");
        let empty = dir.path().join("empty.csv");
        std::fs::write(&empty, b"").expect("write");
        let t = Table::open(&empty, Format::Csv).expect("open");
        assert!(t.header().is_empty());
        assert!(Layout::new(&p, t.header(), "empty.csv").is_err());
    }

    #[test]
    fn windows_1252() {
        let l = load(STRICT, &corpus("windows1252.csv"));
        check(
            "windows1252.csv",
            &l,
            &[
                Ev("W01"),
                Ev("W02"),
                Ev("W03"),
                Ev("W04"),
                Ev("W05"),
                Ev("W06"),
                Ev("W07"),
                Ev("W08"),
                Rej("W09", UnparseableDate, Some("year")),
                Rej("W10", MissingField, Some("year")),
                Rej("W11", UnparseableDate, Some("year")),
                Ev("W12"),
                Rej("W13", NonexistentLocalTime, Some("year")),
                Rej("W14", UnknownOffence, Some("offense")),
            ],
        );
        // The Latin-1 header name is decoded (it is not mapped, so only shown here).
        assert_eq!(l.header[11], "résumé");
        let e = |i: usize| &event(&l.outcomes[i]).event;
        assert_eq!(e(0).offence.description, "CAFÉ \u{201C}NOIR\u{201D}");
        assert_eq!(e(1).offence.description, "Don\u{2019}t \u{20AC} 5");
        assert_eq!(e(2).offence.code, "VOL À L'ÉTALAGE");
        assert_eq!(
            e(2).offence.category,
            Category::OtherTheft,
            "rule codes match decoded text"
        );
        assert_eq!(e(2).offence.description, "épicerie");
        // A field that is valid UTF-8 is read as UTF-8, even in a Windows-1252 file.
        assert_eq!(e(3).offence.description, "CAFÉ (UTF-8 bytes)");
        assert_eq!(e(3).offence.category, Category::Robbery);
        // 0x81 is undefined in Windows-1252; it decodes to U+0081, not an error.
        assert_eq!(e(4).offence.description, "undefined \u{81} byte");
        assert_eq!(e(4).areas.beat.as_deref(), Some("Nº5"));
        // Date parts: spreadsheet floats, hour only, day only.
        assert_eq!(
            (e(5).occurred.from.0, e(5).occurred.seconds()),
            (JAN15_1030, 60)
        );
        assert_eq!(
            (e(6).occurred.from.0, e(6).occurred.seconds()),
            (JAN15_1030 - 1800, 3600)
        );
        assert_eq!(
            (e(7).occurred.from.0, e(7).occurred.seconds()),
            (1_579_068_000, 86_400)
        );
        // on_fold = "widen": 01:30 on 2015-11-01 covers 06:30Z (CDT) to 07:31Z (CST).
        assert_eq!(
            (e(11).occurred.from.0, e(11).occurred.to.0),
            (1_446_359_400, 1_446_363_060)
        );
        // Projected x/y in the local CRS: the point is kept, lon/lat derived.
        assert_eq!(e(0).location.precision, Precision::Exact);
        let (x, y) = e(0).location.xy.expect("xy");
        assert!((x - 734_000.0).abs() < 1e-3 && (y - 4_276_000.0).abs() < 1e-3);
        let (lon, lat) = e(0).location.lonlat.expect("lonlat");
        assert!(
            (lon + 90.3129).abs() < 1e-3 && (lat - 38.6017).abs() < 1e-3,
            "{lon} {lat}"
        );
        assert_eq!(&*e(0).id.dataset, "bad-input-strict");
    }

    #[test]
    fn missing_coordinates_are_quarantined() {
        let l = load(STRICT, &corpus("missing_coord.csv"));
        check(
            "missing_coord.csv",
            &l,
            &[
                Ev("M01"),
                Rej("M02", MissingCoord, Some("x")),
                Rej("M03", MissingCoord, Some("x")),
                Rej("M04", MissingCoord, Some("x")),
                Rej("M05", MissingCoord, Some("x")),
                Rej("M06", BadCoord, Some("x")),
                Rej("M07", OutsideJurisdiction, Some("x")),
                Rej("M08", BadCoord, Some("x")),
            ],
        );
        assert!(rejection(&l.outcomes[3]).detail.contains("withheld"));
        assert!(rejection(&l.outcomes[5]).detail.contains("reprojected"));
    }

    #[test]
    fn gzip_copy_reads_like_the_original() {
        let dir = tempfile::tempdir().expect("tempdir");
        for file in ["coords.csv", "bad_utf8.csv", "bom.csv"] {
            let plain = corpus(file);
            let gz = dir.path().join(format!("{file}.gz"));
            std::fs::write(&gz, gzip(&std::fs::read(&plain).expect("read"))).expect("write");
            assert_eq!(Format::from_path(&gz), Format::Csv);
            let a = load(MAIN, &plain);
            let b = load(MAIN, &gz);
            assert_eq!(a.header, b.header, "{file}");
            assert_eq!(a.outcomes, b.outcomes, "{file}");
        }
    }

    /// A gzip stream that ends early is the one way a CSV row fails to decode.
    #[test]
    fn truncated_gzip_is_a_malformed_row() {
        let text = std::fs::read(corpus("coords.csv")).expect("read");
        let (header, body) =
            text.split_at(text.iter().position(|&b| b == b'\n').expect("header") + 1);
        let good = &body[..body.iter().position(|&b| b == b'\n').expect("row") + 1];
        let mut big = header.to_vec();
        for _ in 0..300 {
            big.extend_from_slice(good);
        }
        let gz = gzip(&big);
        let dir = tempfile::tempdir().expect("tempdir");
        // Without the 8-byte trailer every row decodes, then the stream fails.
        // Cut in half, the rows before the cut decode, then the stream fails.
        for (cut, whole) in [(gz.len() - 8, true), (gz.len() / 2, false)] {
            let path = dir.path().join("cut.csv.gz");
            std::fs::write(&path, &gz[..cut]).expect("write");
            let l = load(MAIN, &path);
            let (last, before) = l.outcomes.split_last().expect("rows");
            if whole {
                assert_eq!(before.len(), 300);
            } else {
                assert!(!before.is_empty() && before.len() < 300, "{}", before.len());
            }
            assert!(before.iter().all(|o| matches!(o, RowOutcome::Event(_))));
            let r = rejection(last);
            assert_eq!((r.reason, r.column.as_deref()), (MalformedRow, None));
            assert!(!r.detail.is_empty());
        }
    }

    /// The malformed row of a broken stream has no position: its line should say
    /// "unknown" (0), not point at the header.
    #[test]

    fn malformed_row_line_is_unknown_not_the_header() {
        let gz = gzip(&std::fs::read(corpus("crlf.csv")).expect("read"));
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("crlf.csv.gz");
        std::fs::write(&path, &gz[..gz.len() - 8]).expect("write");
        let l = load(MAIN, &path);
        let r = rejection(l.outcomes.last().expect("rows"));
        assert_eq!(r.reason, MalformedRow);
        assert_eq!(r.line, 0, "{r:?}");
    }

    /// Every reason code sl-ingest can give appears somewhere in the corpus.
    #[test]
    fn corpus_covers_every_ingest_reason_code() {
        let mut seen = BTreeSet::new();
        for file in [
            "coords.csv",
            "dates.csv",
            "offences.csv",
            "formulas.csv",
            "bad_utf8.csv",
            "ragged.csv",
            "unterminated_quote.csv",
            "bom.csv",
            "bom_quoted.csv",
            "crlf.csv",
            "duplicates.csv",
            "header_variant.csv",
            "header_only.csv",
        ] {
            seen.extend(reasons(&load(MAIN, &corpus(file))));
        }
        for file in ["windows1252.csv", "missing_coord.csv"] {
            seen.extend(reasons(&load(STRICT, &corpus(file))));
        }
        // MALFORMED_ROW needs a broken stream, made at run time.
        let dir = tempfile::tempdir().expect("tempdir");
        let gz = gzip(&std::fs::read(corpus("coords.csv")).expect("read"));
        let path = dir.path().join("coords.csv.gz");
        std::fs::write(&path, &gz[..gz.len() - 4]).expect("write");
        seen.extend(reasons(&load(MAIN, &path)));
        let engine_only = [ReasonCode::Duplicate, ReasonCode::RetractionWithoutOriginal];
        let missing: Vec<_> = ReasonCode::ALL
            .into_iter()
            .filter(|c| !engine_only.contains(c) && !seen.contains(c))
            .collect();
        assert!(missing.is_empty(), "no corpus row gives {missing:?}");
    }
}

/// Arbitrary bytes through the CSV reader and the normaliser: no panic, and exactly
/// one outcome per row read.
mod fuzz {
    use std::sync::OnceLock;

    use proptest::prelude::*;

    use super::*;

    const MAIN_HEADER: &[u8] =
        b"incident_id,occurred,code,description,lon,lat,district,address,count,notes\n";
    const STRICT_HEADER: &[u8] = b"id,year,month,day,hour,minute,offense,description,x,y,beat\n";

    fn setup(name: &'static str) -> &'static (Profile, Context) {
        static MAIN_SETUP: OnceLock<(Profile, Context)> = OnceLock::new();
        static STRICT_SETUP: OnceLock<(Profile, Context)> = OnceLock::new();
        let cell = if name == MAIN {
            &MAIN_SETUP
        } else {
            &STRICT_SETUP
        };
        cell.get_or_init(|| {
            let p = profile(name);
            let c = context(&p);
            (p, c)
        })
    }

    /// Bytes that stress the CSV decoder and the cell cleaner.
    fn junk() -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![
            4 => proptest::collection::vec(any::<u8>(), 0..8),
            1 => Just(b",".to_vec()),
            1 => Just(b"\"".to_vec()),
            1 => Just(b"\"\"".to_vec()),
            1 => Just(b"\n".to_vec()),
            1 => Just(b"\r\n".to_vec()),
            1 => Just(b"\r".to_vec()),
            1 => Just(b"\0".to_vec()),
            1 => Just(b"\xEF\xBB\xBF".to_vec()),
            1 => Just(b"\xFF\xFE".to_vec()),
            1 => Just(b"\xC3".to_vec()),
            1 => Just(b"=\"".to_vec()),
            1 => Just(b"'=".to_vec()),
            1 => Just(b"-1".to_vec()),
            1 => Just(b" ".to_vec()),
        ]
    }

    fn num(range: std::ops::Range<i64>) -> impl Strategy<Value = Vec<u8>> {
        range.prop_map(|n| n.to_string().into_bytes())
    }

    /// Mostly in `likely`, sometimes anywhere in `wide`.
    fn int(likely: std::ops::Range<i64>, wide: std::ops::Range<i64>) -> impl Strategy<Value = i64> {
        prop_oneof![8 => likely, 1 => wide]
    }

    /// A coordinate: mostly inside the jurisdiction, sometimes anything.
    fn coord(likely: std::ops::Range<f64>, decimals: usize) -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![
            12 => likely.prop_map(move |f| format!("{f:.decimals$}").into_bytes()),
            1 => any::<f64>().prop_map(|f| f.to_string().into_bytes()),
            1 => (-1e7f64..1e7).prop_map(|f| f.to_string().into_bytes()),
            1 => Just(b"0".to_vec()),
            1 => Just(b"".to_vec()),
        ]
    }

    /// A date in one of the profile's shapes; out-of-range parts now and then.
    fn date() -> impl Strategy<Value = Vec<u8>> {
        (
            int(1995..2026, 0..10_000),
            int(1..13, 0..15),
            int(1..29, 0..34),
            int(0..24, 0..27),
            int(0..60, 0..63),
            int(0..60, 0..63),
            0u8..4,
        )
            .prop_map(|(y, mo, d, h, mi, s, shape)| {
                match shape {
                    0 => format!("{mo:02}/{d:02}/{y} {h}:{mi:02}"),
                    1 => format!("{mo}/{d}/{y} {h:02}:{mi:02}:{s:02}"),
                    2 => format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02}+{:02}", h % 15),
                    _ => format!("{mo}/{d}/{y}"),
                }
                .into_bytes()
            })
    }

    /// Offence codes, Excel-mangled or not; some map to a category, some do not.
    fn code() -> impl Strategy<Value = Vec<u8>> {
        let n = prop_oneof![Just(110i64), 300i64..400, 500i64..600, 0i64..10_000];
        (n, 0u8..4).prop_map(|(n, shape)| {
            match shape {
                0 => n.to_string(),
                1 => format!("{n:04}"),
                2 => format!("{n}.0"),
                _ => format!("=\"{n:04}\""),
            }
            .into_bytes()
        })
    }

    fn text(options: &'static [&'static [u8]]) -> impl Strategy<Value = Vec<u8>> {
        proptest::sample::select(options).prop_map(<[u8]>::to_vec)
    }

    /// A field that is plausible for its column nine times in ten, junk otherwise.
    fn field<S: Strategy<Value = Vec<u8>> + 'static>(plausible: S) -> BoxedStrategy<Vec<u8>> {
        prop_oneof![9 => plausible, 1 => proptest::collection::vec(junk(), 0..4).prop_map(|v| v.concat())]
            .boxed()
    }

    fn line(fields: Vec<Vec<u8>>) -> Vec<u8> {
        let mut row = fields.join(&b","[..]);
        row.push(b'\n');
        row
    }

    fn main_row() -> impl Strategy<Value = Vec<u8>> {
        vec![
            field(prop_oneof![text(&[b"A1", b""]), num(0..50)]),
            field(date()),
            field(code()),
            field(text(&[
                b"Shoplifting",
                b" shoplifting ",
                b"",
                b"=HYPERLINK(\"x\")",
                b"'=1+2",
            ])),
            field(coord(-90.34..-90.16, 5)),
            field(coord(38.56..38.64, 5)),
            field(text(&[b"0", b"5", b""])),
            field(text(&[b"100 MAIN ST", b""])),
            field(prop_oneof![6 => text(&[b"1", b""]), 1 => text(&[b"-1", b" -1 "])]),
            field(text(&[b""])),
        ]
        .prop_map(line)
    }

    fn strict_row() -> impl Strategy<Value = Vec<u8>> {
        vec![
            field(num(0..50)),
            field(prop_oneof![
                int(1995..2026, 0..10_000).prop_map(|y| y.to_string().into_bytes()),
                text(&[b"2015.0"])
            ]),
            field(int(1..13, 0..15).prop_map(|n| n.to_string().into_bytes())),
            field(int(1..29, 0..34).prop_map(|n| n.to_string().into_bytes())),
            field(prop_oneof![
                int(0..24, 0..27).prop_map(|n| n.to_string().into_bytes()),
                text(&[b""])
            ]),
            field(prop_oneof![
                int(0..60, 0..63).prop_map(|n| n.to_string().into_bytes()),
                text(&[b""])
            ]),
            field(text(&[
                b"THEFT",
                b"ROBBERY",
                b"VOL \xC0 L'\xC9TALAGE",
                b"ARSON",
            ])),
            field(text(&[b"CAF\xC9", b"Don\x92t", b"CAF\xC3\x89", b""])),
            field(coord(720_000.0..760_000.0, 1)),
            field(coord(4_265_000.0..4_290_000.0, 1)),
            field(text(&[b"B1", b"N\xBA5", b""])),
        ]
        .prop_map(line)
    }

    /// Rows, with now and then a run of junk bytes between them.
    fn body(row: BoxedStrategy<Vec<u8>>) -> impl Strategy<Value = Vec<u8>> {
        proptest::collection::vec(
            prop_oneof![6 => row, 1 => proptest::collection::vec(junk(), 0..12).prop_map(|v| v.concat())],
            0..10,
        )
        .prop_map(|parts| parts.concat())
    }

    /// Writes header + body to a temporary CSV file and normalises every row read.
    fn read_and_normalise(
        name: &'static str,
        header: &[u8],
        body: &[u8],
    ) -> Result<(), TestCaseError> {
        let (profile, ctx) = setup(name);
        let mut file = tempfile::Builder::new()
            .suffix(".csv")
            .tempfile()
            .expect("tempfile");
        file.write_all(header).expect("write");
        file.write_all(body).expect("write");
        file.flush().expect("flush");
        let mut table = Table::open(file.path(), Format::Csv).expect("a file with a header opens");
        let layout = Layout::new(profile, table.header(), "fuzz.csv").expect("fixed header binds");
        let mut rows = Vec::new();
        loop {
            let chunk = table.read_chunk(4);
            if chunk.is_empty() {
                break;
            }
            rows.extend(chunk);
        }
        let outcomes: Vec<RowOutcome> = rows.iter().map(|r| layout.normalise(ctx, r)).collect();
        prop_assert_eq!(outcomes.len(), rows.len());
        assert_accounted(&rows, &outcomes);
        for (raw, o) in rows.iter().zip(&outcomes) {
            match o {
                RowOutcome::Event(n) => {
                    prop_assert!(n.event.occurred.to > n.event.occurred.from);
                    prop_assert!(n.event.occurred.from <= NOW);
                    if let Some((lon, lat)) = n.event.location.lonlat {
                        prop_assert!(
                            (-90.40..=-90.10).contains(&lon) && (38.50..=38.80).contains(&lat)
                        );
                    }
                }
                RowOutcome::Rejected(r) => {
                    prop_assert_eq!(r.line, raw.line);
                    prop_assert!(!r.detail.is_empty());
                }
                RowOutcome::Retraction(r) => prop_assert_eq!(r.line, raw.line),
            }
        }
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

        #[test]
        fn arbitrary_bytes_never_panic(body in proptest::collection::vec(any::<u8>(), 0..512)) {
            read_and_normalise(MAIN, MAIN_HEADER, &body)?;
        }

        #[test]
        fn row_like_bytes_give_one_outcome_per_row(body in body(main_row().boxed())) {
            read_and_normalise(MAIN, MAIN_HEADER, &body)?;
        }

        #[test]
        fn windows_1252_rows_give_one_outcome_per_row(body in body(strict_row().boxed())) {
            read_and_normalise(STRICT, STRICT_HEADER, &body)?;
        }
    }
}
