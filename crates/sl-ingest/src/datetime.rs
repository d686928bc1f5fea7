//! Date-time parsing for source formats, and conversion of local times to UTC with
//! daylight-saving gaps and folds reported rather than guessed.
//!
//! The format language is a small subset of strftime chosen for speed and for the
//! sloppiness of real exports: numeric fields accept one digit or more (St. Louis writes
//! both `01/01/2003 15:00` and `1/1/2001 0:01`), and `%z` accepts `+00`, `-0500` and
//! `+05:30` (Carto writes `+00`).

use jiff::civil::{Date, DateTime};
use jiff::tz::{AmbiguousOffset, TimeZone};
use sl_types::Timestamp;

/// How fine a parsed value is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Resolution {
    Second,
    Minute,
    Hour,
    Day,
}

impl Resolution {
    /// Length in seconds (a day is handled in local time, not as 86,400 s).
    pub fn seconds(self) -> i64 {
        match self {
            Resolution::Second => 1,
            Resolution::Minute => 60,
            Resolution::Hour => 3600,
            Resolution::Day => 86_400,
        }
    }
}

/// A parsed local (or offset) date-time before time-zone resolution.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Parsed {
    pub year: i16,
    pub month: i8,
    pub day: i8,
    pub hour: i8,
    pub minute: i8,
    pub second: i8,
    /// UTC offset in seconds when the text carried one.
    pub offset: Option<i32>,
    pub resolution: Resolution,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Year,
    Month,
    Day,
    Hour,
    Minute,
    Second,
    Offset,
    /// Optional fractional seconds `.123`.
    Fraction,
    Literal(u8),
}

/// A compiled date format.
#[derive(Debug, Clone)]
pub struct DateFormat {
    tokens: Vec<Token>,
    resolution: Resolution,
    source: String,
}

/// A format string the parser does not understand.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("date format `{format}`: {message}")]
pub struct FormatError {
    pub format: String,
    pub message: String,
}

impl DateFormat {
    /// Compiles a format such as `%m/%d/%Y %H:%M`.
    pub fn compile(format: &str) -> Result<Self, FormatError> {
        let err = |message: &str| FormatError {
            format: format.to_string(),
            message: message.to_string(),
        };
        let mut tokens = Vec::new();
        let bytes = format.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'%' {
                let Some(&spec) = bytes.get(i + 1) else {
                    return Err(err("ends with a lone `%`"));
                };
                tokens.push(match spec {
                    b'Y' => Token::Year,
                    b'm' => Token::Month,
                    b'd' => Token::Day,
                    b'H' => Token::Hour,
                    b'M' => Token::Minute,
                    b'S' => Token::Second,
                    b'z' => Token::Offset,
                    b'f' => Token::Fraction,
                    b'%' => Token::Literal(b'%'),
                    _ => return Err(err("supported fields are %Y %m %d %H %M %S %f %z")),
                });
                i += 2;
            } else {
                tokens.push(Token::Literal(bytes[i]));
                i += 1;
            }
        }
        for needed in [Token::Year, Token::Month, Token::Day] {
            if !tokens.contains(&needed) {
                return Err(err("needs %Y, %m and %d"));
            }
        }
        let resolution = if tokens.contains(&Token::Second) {
            Resolution::Second
        } else if tokens.contains(&Token::Minute) {
            Resolution::Minute
        } else if tokens.contains(&Token::Hour) {
            Resolution::Hour
        } else {
            Resolution::Day
        };
        Ok(Self {
            tokens,
            resolution,
            source: format.to_string(),
        })
    }

    /// The format text.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// Parses `text` (already trimmed) or returns `None`.
    pub fn parse(&self, text: &str) -> Option<Parsed> {
        let s = text.as_bytes();
        let mut pos = 0;
        let mut p = Parsed {
            year: 0,
            month: 0,
            day: 0,
            hour: 0,
            minute: 0,
            second: 0,
            offset: None,
            resolution: self.resolution,
        };
        for token in &self.tokens {
            match token {
                Token::Literal(c) => {
                    if s.get(pos) != Some(c) {
                        return None;
                    }
                    pos += 1;
                }
                Token::Year => p.year = i16::try_from(number(s, &mut pos, 4)?).ok()?,
                Token::Month => p.month = i8::try_from(number(s, &mut pos, 2)?).ok()?,
                Token::Day => p.day = i8::try_from(number(s, &mut pos, 2)?).ok()?,
                Token::Hour => p.hour = i8::try_from(number(s, &mut pos, 2)?).ok()?,
                Token::Minute => p.minute = i8::try_from(number(s, &mut pos, 2)?).ok()?,
                Token::Second => p.second = i8::try_from(number(s, &mut pos, 2)?).ok()?,
                Token::Fraction => {
                    if s.get(pos) == Some(&b'.') {
                        pos += 1;
                        while s.get(pos).is_some_and(u8::is_ascii_digit) {
                            pos += 1;
                        }
                    }
                }
                Token::Offset => p.offset = Some(offset(s, &mut pos)?),
            }
        }
        if pos != s.len() {
            return None;
        }
        Some(p)
    }
}

/// Reads 1..=max_digits ASCII digits.
fn number(s: &[u8], pos: &mut usize, max_digits: usize) -> Option<i32> {
    let start = *pos;
    let mut value: i32 = 0;
    while *pos < s.len() && *pos - start < max_digits && s[*pos].is_ascii_digit() {
        value = value * 10 + i32::from(s[*pos] - b'0');
        *pos += 1;
    }
    (*pos > start).then_some(value)
}

/// Reads `Z`, `+HH`, `+HHMM` or `+HH:MM`.
fn offset(s: &[u8], pos: &mut usize) -> Option<i32> {
    let sign = match s.get(*pos)? {
        b'Z' => {
            *pos += 1;
            return Some(0);
        }
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    *pos += 1;
    let two = |pos: &mut usize| -> Option<i32> {
        let a = *s.get(*pos)?;
        let b = *s.get(*pos + 1)?;
        if !(a.is_ascii_digit() && b.is_ascii_digit()) {
            return None;
        }
        *pos += 2;
        Some(i32::from(a - b'0') * 10 + i32::from(b - b'0'))
    };
    let hours = two(pos)?;
    if s.get(*pos) == Some(&b':') {
        *pos += 1;
    }
    let minutes = if *pos < s.len() { two(pos)? } else { 0 };
    Some(sign * (hours * 3600 + minutes * 60))
}

/// Why a date could not become a UTC window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeProblem {
    /// Not a real calendar date or clock time.
    Invalid,
    /// Local time in a daylight-saving gap.
    Gap,
    /// Local time in a daylight-saving fold.
    Fold,
}

/// What to do on a daylight-saving fold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FoldPolicy {
    Quarantine,
    /// Widen the window to cover both readings.
    Widen,
}

impl Parsed {
    /// The local calendar date.
    pub fn date(&self) -> Option<Date> {
        Date::new(self.year, self.month, self.day).ok()
    }

    /// Converts to a UTC window `[from, to)` in the given zone.
    ///
    /// A day-resolution value becomes the whole local day (start of day to start of the
    /// next day, so 23 or 25 hours across a daylight-saving change). A value with an
    /// explicit offset ignores the zone. Gaps are never guessed; folds are quarantined
    /// or widened as the profile says.
    pub fn to_window(
        &self,
        tz: &TimeZone,
        fold: FoldPolicy,
    ) -> Result<(Timestamp, Timestamp), TimeProblem> {
        let date = self.date().ok_or(TimeProblem::Invalid)?;
        if self.resolution == Resolution::Day {
            let start = day_start(tz, date)?;
            let next = date.tomorrow().map_err(|_| TimeProblem::Invalid)?;
            let end = day_start(tz, next)?;
            return Ok((start, end));
        }
        let dt = DateTime::new(
            self.year,
            self.month,
            self.day,
            self.hour,
            self.minute,
            self.second,
            0,
        )
        .map_err(|_| TimeProblem::Invalid)?;
        let len = self.resolution.seconds();
        if let Some(off) = self.offset {
            let local = dt
                .to_zoned(TimeZone::UTC)
                .map_err(|_| TimeProblem::Invalid)?;
            let from = local.timestamp().as_second() - i64::from(off);
            return Ok((Timestamp(from), Timestamp(from + len)));
        }
        let amb = tz.to_ambiguous_timestamp(dt);
        match amb.offset() {
            AmbiguousOffset::Unambiguous { offset } => {
                let from = local_seconds(dt) - i64::from(offset.seconds());
                Ok((Timestamp(from), Timestamp(from + len)))
            }
            AmbiguousOffset::Gap { .. } => Err(TimeProblem::Gap),
            AmbiguousOffset::Fold { before, after } => match fold {
                FoldPolicy::Quarantine => Err(TimeProblem::Fold),
                FoldPolicy::Widen => {
                    let early = local_seconds(dt) - i64::from(before.seconds());
                    let late = local_seconds(dt) - i64::from(after.seconds());
                    Ok((Timestamp(early.min(late)), Timestamp(early.max(late) + len)))
                }
            },
        }
    }
}

/// Seconds since the epoch of a civil date-time read as if it were UTC.
fn local_seconds(dt: DateTime) -> i64 {
    days_from_civil(
        i64::from(dt.year()),
        i64::from(dt.month()),
        i64::from(dt.day()),
    ) * 86_400
        + i64::from(dt.hour()) * 3600
        + i64::from(dt.minute()) * 60
        + i64::from(dt.second())
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Hinnant's `days_from_civil`).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// First instant of a local day (midnight, or the first valid time after a gap).
fn day_start(tz: &TimeZone, date: Date) -> Result<Timestamp, TimeProblem> {
    let zoned = date
        .to_zoned(tz.clone())
        .map_err(|_| TimeProblem::Invalid)?;
    Ok(Timestamp(zoned.timestamp().as_second()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chicago() -> TimeZone {
        TimeZone::get("America/Chicago").expect("tz")
    }

    #[test]
    fn parses_unpadded_and_padded() {
        let f = DateFormat::compile("%m/%d/%Y %H:%M").expect("format");
        let a = f.parse("1/1/2001 0:01").expect("unpadded");
        assert_eq!(
            (a.year, a.month, a.day, a.hour, a.minute),
            (2001, 1, 1, 0, 1)
        );
        let b = f.parse("01/01/2003 15:00").expect("padded");
        assert_eq!((b.year, b.hour), (2003, 15));
        assert!(f.parse("01/01/2003").is_none());
        assert!(f.parse("01/01/2003 15:00x").is_none());
        assert_eq!(a.resolution, Resolution::Minute);
    }

    #[test]
    fn carto_utc_offset() {
        let f = DateFormat::compile("%Y-%m-%d %H:%M:%S%z").expect("format");
        let p = f.parse("2024-01-04 05:00:00+00").expect("parse");
        let (from, to) = p
            .to_window(&chicago(), FoldPolicy::Quarantine)
            .expect("window");
        // 2024-01-04T05:00:00Z
        assert_eq!(from.0, 1_704_344_400);
        assert_eq!(to.0 - from.0, 1);
        let q = f.parse("2024-01-04 00:00:00-05:00").expect("parse");
        assert_eq!(
            q.to_window(&chicago(), FoldPolicy::Quarantine)
                .expect("w")
                .0
                .0,
            1_704_344_400
        );
    }

    #[test]
    fn local_time_in_chicago() {
        let f = DateFormat::compile("%m/%d/%Y %H:%M").expect("format");
        // 2015-01-01 00:01 CST = 06:01 UTC
        let p = f.parse("01/01/2015 00:01").expect("parse");
        let (from, to) = p
            .to_window(&chicago(), FoldPolicy::Quarantine)
            .expect("window");
        assert_eq!(from.0, 1_420_092_060);
        assert_eq!(to.0 - from.0, 60);
    }

    #[test]
    fn dst_gap_and_fold_are_reported() {
        let f = DateFormat::compile("%m/%d/%Y %H:%M").expect("format");
        // US spring forward 2015-03-08 02:00 -> 03:00; fall back 2015-11-01 02:00 -> 01:00.
        let gap = f.parse("03/08/2015 02:30").expect("parse");
        assert_eq!(
            gap.to_window(&chicago(), FoldPolicy::Quarantine),
            Err(TimeProblem::Gap)
        );
        let fold = f.parse("11/01/2015 01:30").expect("parse");
        assert_eq!(
            fold.to_window(&chicago(), FoldPolicy::Quarantine),
            Err(TimeProblem::Fold)
        );
        let (from, to) = fold
            .to_window(&chicago(), FoldPolicy::Widen)
            .expect("widened");
        // 01:30 CDT = 06:30Z, 01:30 CST = 07:30Z; window covers both minutes.
        assert_eq!(from.0, 1_446_359_400);
        assert_eq!(to.0, 1_446_363_000 + 60);
    }

    #[test]
    fn day_resolution_spans_local_day() {
        let f = DateFormat::compile("%Y-%m-%d").expect("format");
        let pacific = TimeZone::get("America/Los_Angeles").expect("tz");
        let p = f.parse("2016-08-10").expect("parse");
        let (from, to) = p
            .to_window(&pacific, FoldPolicy::Quarantine)
            .expect("window");
        assert_eq!(from.0, 1_470_812_400); // 2016-08-10T07:00:00Z
        assert_eq!(to.0 - from.0, 86_400);
        // The day clocks spring forward is 23 hours long.
        let short = f.parse("2016-03-13").expect("parse");
        let (a, b) = short
            .to_window(&pacific, FoldPolicy::Quarantine)
            .expect("window");
        assert_eq!(b.0 - a.0, 23 * 3600);
    }

    #[test]
    fn civil_days_match_known_dates() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(days_from_civil(1900, 1, 1), -25_567);
    }

    #[test]
    fn invalid_dates_are_rejected() {
        let f = DateFormat::compile("%Y-%m-%d").expect("format");
        let p = f.parse("2019-02-30").expect("shape parses");
        assert_eq!(
            p.to_window(&chicago(), FoldPolicy::Quarantine),
            Err(TimeProblem::Invalid)
        );
        assert!(DateFormat::compile("%d/%m").is_err());
        assert!(DateFormat::compile("%Y-%m-%d %Q").is_err());
    }
}
