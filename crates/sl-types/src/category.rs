//! The offence taxonomy: the normalised groups every source's codes map into.
//!
//! The groups follow the split most US and Canadian portals publish (UCR Part I
//! offences, the common Part II groups), with burglary and theft divided the way
//! place-based prevention needs them (residence vs business, from a vehicle vs of a
//! vehicle). Calls for service are not confirmed crimes, so they get their own
//! `cfs_*` groups rather than being folded into crime categories.

/// A normalised offence group. See `docs/METHODS.md` for what each group holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Category {
    Homicide,
    Robbery,
    AggravatedAssault,
    SimpleAssault,
    SexualOffence,
    ResidentialBurglary,
    CommercialBurglary,
    TheftFromVehicle,
    VehicleTheft,
    OtherTheft,
    Vandalism,
    Arson,
    Drugs,
    Weapons,
    Disorder,
    Fraud,
    Traffic,
    Other,
    /// Calls for service about a burglary (including prowlers).
    CfsBurglary,
    /// Calls for service about a stolen vehicle.
    CfsVehicleTheft,
    /// Calls for service about crimes against persons.
    CfsPerson,
    /// Calls for service about property crimes other than burglary and vehicle theft.
    CfsProperty,
    /// Calls for service about disorder (noise, disturbances, fights reported).
    CfsDisorder,
    /// Calls for service about suspicious people, vehicles or circumstances.
    CfsSuspicious,
    /// Calls for service about traffic (collisions, hazards, enforcement).
    CfsTraffic,
    /// Non-criminal or administrative calls (welfare checks, alarms, assists).
    CfsService,
}

/// A category slug that is not in the taxonomy.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown category `{0}`: use one of {list}", list = Category::slugs_joined())]
pub struct UnknownCategory(pub String);

impl Category {
    /// Every category, in declaration order.
    pub const ALL: [Category; 26] = [
        Category::Homicide,
        Category::Robbery,
        Category::AggravatedAssault,
        Category::SimpleAssault,
        Category::SexualOffence,
        Category::ResidentialBurglary,
        Category::CommercialBurglary,
        Category::TheftFromVehicle,
        Category::VehicleTheft,
        Category::OtherTheft,
        Category::Vandalism,
        Category::Arson,
        Category::Drugs,
        Category::Weapons,
        Category::Disorder,
        Category::Fraud,
        Category::Traffic,
        Category::Other,
        Category::CfsBurglary,
        Category::CfsVehicleTheft,
        Category::CfsPerson,
        Category::CfsProperty,
        Category::CfsDisorder,
        Category::CfsSuspicious,
        Category::CfsTraffic,
        Category::CfsService,
    ];

    /// The stable snake_case slug used in profiles, the store and outputs.
    pub fn slug(self) -> &'static str {
        match self {
            Category::Homicide => "homicide",
            Category::Robbery => "robbery",
            Category::AggravatedAssault => "aggravated_assault",
            Category::SimpleAssault => "simple_assault",
            Category::SexualOffence => "sexual_offence",
            Category::ResidentialBurglary => "residential_burglary",
            Category::CommercialBurglary => "commercial_burglary",
            Category::TheftFromVehicle => "theft_from_vehicle",
            Category::VehicleTheft => "vehicle_theft",
            Category::OtherTheft => "other_theft",
            Category::Vandalism => "vandalism",
            Category::Arson => "arson",
            Category::Drugs => "drugs",
            Category::Weapons => "weapons",
            Category::Disorder => "disorder",
            Category::Fraud => "fraud",
            Category::Traffic => "traffic",
            Category::Other => "other",
            Category::CfsBurglary => "cfs_burglary",
            Category::CfsVehicleTheft => "cfs_vehicle_theft",
            Category::CfsPerson => "cfs_person",
            Category::CfsProperty => "cfs_property",
            Category::CfsDisorder => "cfs_disorder",
            Category::CfsSuspicious => "cfs_suspicious",
            Category::CfsTraffic => "cfs_traffic",
            Category::CfsService => "cfs_service",
        }
    }

    /// Parses a slug (case-insensitive, `-` or `_`).
    pub fn from_slug(slug: &str) -> Result<Self, UnknownCategory> {
        let wanted = slug.trim().to_ascii_lowercase().replace('-', "_");
        Self::ALL
            .into_iter()
            .find(|c| c.slug() == wanted)
            .ok_or_else(|| UnknownCategory(slug.to_string()))
    }

    /// True for the calls-for-service groups.
    pub fn is_call_for_service(self) -> bool {
        self.slug().starts_with("cfs_")
    }

    fn slugs_joined() -> String {
        Self::ALL.map(Category::slug).join(", ")
    }
}

impl std::fmt::Display for Category {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.slug())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_round_trip() {
        for c in Category::ALL {
            assert_eq!(Category::from_slug(c.slug()), Ok(c));
        }
        assert_eq!(
            Category::from_slug("Residential-Burglary"),
            Ok(Category::ResidentialBurglary)
        );
        let err = Category::from_slug("burglary").expect_err("not a slug");
        assert!(err.to_string().contains("residential_burglary"));
    }

    #[test]
    fn cfs_groups_are_flagged() {
        assert!(Category::CfsSuspicious.is_call_for_service());
        assert!(!Category::Robbery.is_call_for_service());
    }
}
