//! Stable reason codes for rows that did not become events.

/// Why a row was quarantined (or set aside as a duplicate or retraction).
///
/// The string forms are stable: reports, the store and user scripts depend on them.
/// Add new codes at the end; never rename one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ReasonCode {
    /// The row has no coordinates and the profile requires a location.
    MissingCoord,
    /// A coordinate is zero (either one): the location was lost, not withheld.
    ZeroCoord,
    /// A coordinate could not be read as a number, or reprojection failed.
    BadCoord,
    /// The point lies outside the jurisdiction boundary or bounding box.
    OutsideJurisdiction,
    /// The occurrence date or time could not be parsed with any configured format.
    UnparseableDate,
    /// The occurrence date is a known placeholder (e.g. 1900-01-01) or implausibly old.
    PlaceholderDate,
    /// The occurrence date lies in the future relative to the time of ingest.
    FutureDate,
    /// The local time does not exist (it falls in a daylight-saving gap).
    NonexistentLocalTime,
    /// The local time happens twice (daylight-saving fold) and the source cannot say which.
    AmbiguousLocalTime,
    /// The offence code is not covered by the profile's category mapping.
    UnknownOffence,
    /// A field is not valid in the file's declared text encoding.
    BadEncoding,
    /// The row repeats a record already stored (same source id and content).
    Duplicate,
    /// The row has a different number of fields from the header.
    RaggedRow,
    /// The CSV (or other) decoder could not read the row at all.
    MalformedRow,
    /// A required field (the occurrence date, or both offence code and description) is empty.
    MissingField,
    /// A retraction or cancellation row whose original record is not in the data.
    RetractionWithoutOriginal,
}

impl ReasonCode {
    /// Every code, in declaration order.
    pub const ALL: [ReasonCode; 16] = [
        ReasonCode::MissingCoord,
        ReasonCode::ZeroCoord,
        ReasonCode::BadCoord,
        ReasonCode::OutsideJurisdiction,
        ReasonCode::UnparseableDate,
        ReasonCode::PlaceholderDate,
        ReasonCode::FutureDate,
        ReasonCode::NonexistentLocalTime,
        ReasonCode::AmbiguousLocalTime,
        ReasonCode::UnknownOffence,
        ReasonCode::BadEncoding,
        ReasonCode::Duplicate,
        ReasonCode::RaggedRow,
        ReasonCode::MalformedRow,
        ReasonCode::MissingField,
        ReasonCode::RetractionWithoutOriginal,
    ];

    /// The stable upper-case code, e.g. `BAD_COORD`.
    pub fn as_str(self) -> &'static str {
        match self {
            ReasonCode::MissingCoord => "MISSING_COORD",
            ReasonCode::ZeroCoord => "ZERO_COORD",
            ReasonCode::BadCoord => "BAD_COORD",
            ReasonCode::OutsideJurisdiction => "OUTSIDE_JURISDICTION",
            ReasonCode::UnparseableDate => "UNPARSEABLE_DATE",
            ReasonCode::PlaceholderDate => "PLACEHOLDER_DATE",
            ReasonCode::FutureDate => "FUTURE_DATE",
            ReasonCode::NonexistentLocalTime => "NONEXISTENT_LOCAL_TIME",
            ReasonCode::AmbiguousLocalTime => "AMBIGUOUS_LOCAL_TIME",
            ReasonCode::UnknownOffence => "UNKNOWN_OFFENCE",
            ReasonCode::BadEncoding => "BAD_ENCODING",
            ReasonCode::Duplicate => "DUPLICATE",
            ReasonCode::RaggedRow => "RAGGED_ROW",
            ReasonCode::MalformedRow => "MALFORMED_ROW",
            ReasonCode::MissingField => "MISSING_FIELD",
            ReasonCode::RetractionWithoutOriginal => "RETRACTION_WITHOUT_ORIGINAL",
        }
    }

    /// Parses a stable code back; `None` for anything else.
    pub fn parse(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == code)
    }

    /// A one-line explanation for reports.
    pub fn explain(self) -> &'static str {
        match self {
            ReasonCode::MissingCoord => "no coordinates, and the profile requires a location",
            ReasonCode::ZeroCoord => "a coordinate is 0 (location lost)",
            ReasonCode::BadCoord => "coordinates are not numbers or cannot be reprojected",
            ReasonCode::OutsideJurisdiction => "point lies outside the jurisdiction",
            ReasonCode::UnparseableDate => "occurrence date matches no configured format",
            ReasonCode::PlaceholderDate => "occurrence date is a placeholder (e.g. 1900-01-01)",
            ReasonCode::FutureDate => "occurrence date is after the time of ingest",
            ReasonCode::NonexistentLocalTime => "local time falls in a daylight-saving gap",
            ReasonCode::AmbiguousLocalTime => "local time is repeated by a daylight-saving fold",
            ReasonCode::UnknownOffence => "offence code is not in the profile's mapping",
            ReasonCode::BadEncoding => "text is not valid in the declared encoding",
            ReasonCode::Duplicate => "same record (id and content) was already loaded",
            ReasonCode::RaggedRow => "row has a different number of fields from the header",
            ReasonCode::MalformedRow => "row could not be decoded",
            ReasonCode::MissingField => "a required field is empty",
            ReasonCode::RetractionWithoutOriginal => {
                "retraction row whose original record is not in the data"
            }
        }
    }
}

impl std::fmt::Display for ReasonCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for code in ReasonCode::ALL {
            assert!(seen.insert(code.as_str()), "duplicate code {code}");
            assert_eq!(ReasonCode::parse(code.as_str()), Some(code));
        }
        assert_eq!(ReasonCode::parse("NOPE"), None);
    }
}
