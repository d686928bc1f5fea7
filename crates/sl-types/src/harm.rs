//! Harm weights per category, so places can be ranked by harm rather than count.
//!
//! The default table uses the Cambridge Crime Harm Index (Sherman, Neyroud & Neyroud
//! 2016): the harm of an offence is the number of days of imprisonment that the
//! England & Wales sentencing guidelines give as the starting point for a first
//! offender. Each default is the median over the offence codes of the matching Home
//! Office subgroup in the CCHI 2026 values sheet. Fraud, traffic and the calls-for-
//! service groups have no CCHI value: those defaults are Streetlight's own and are
//! marked as such in `docs/METHODS.md`. Users replace the table with their own.

use std::collections::BTreeMap;

use crate::Category;

/// A harm weight for every category.
#[derive(Debug, Clone, PartialEq)]
pub struct HarmTable {
    weights: BTreeMap<Category, f64>,
    /// Where the weights come from (shown in reports).
    pub source: String,
}

/// A harm table that cannot be used.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum HarmTableError {
    #[error("harm weight for `{category}` is {weight}: weights must be finite and not negative")]
    BadWeight { category: Category, weight: f64 },
}

/// Default weights in CCHI days (see the module documentation).
const DEFAULT_WEIGHTS: [(Category, f64); 26] = [
    (Category::Homicide, 5475.0),
    (Category::Robbery, 365.0),
    (Category::AggravatedAssault, 365.0),
    (Category::SimpleAssault, 10.0),
    (Category::SexualOffence, 1825.0),
    (Category::ResidentialBurglary, 273.5),
    (Category::CommercialBurglary, 183.5),
    (Category::TheftFromVehicle, 5.0),
    (Category::VehicleTheft, 5.0),
    (Category::OtherTheft, 2.0),
    (Category::Vandalism, 2.0),
    (Category::Arson, 185.0),
    (Category::Drugs, 3.0),
    (Category::Weapons, 273.75),
    (Category::Disorder, 7.5),
    (Category::Fraud, 10.0),
    (Category::Traffic, 10.0),
    (Category::Other, 10.0),
    (Category::CfsBurglary, 1.0),
    (Category::CfsVehicleTheft, 1.0),
    (Category::CfsPerson, 1.0),
    (Category::CfsProperty, 1.0),
    (Category::CfsDisorder, 1.0),
    (Category::CfsSuspicious, 1.0),
    (Category::CfsTraffic, 1.0),
    (Category::CfsService, 0.0),
];

impl Default for HarmTable {
    fn default() -> Self {
        Self {
            weights: DEFAULT_WEIGHTS.into_iter().collect(),
            source: "Cambridge Crime Harm Index (Sherman, Neyroud & Neyroud 2016), CCHI 2026 subgroup medians, days; fraud, traffic, other and cfs_* are Streetlight defaults".into(),
        }
    }
}

impl HarmTable {
    /// The default table with some weights replaced.
    pub fn with_overrides(
        overrides: impl IntoIterator<Item = (Category, f64)>,
        source: String,
    ) -> Result<Self, HarmTableError> {
        let mut table = Self::default();
        for (category, weight) in overrides {
            if !weight.is_finite() || weight < 0.0 {
                return Err(HarmTableError::BadWeight { category, weight });
            }
            table.weights.insert(category, weight);
        }
        table.source = source;
        Ok(table)
    }

    /// The weight of a category.
    pub fn weight(&self, category: Category) -> f64 {
        self.weights.get(&category).copied().unwrap_or(0.0)
    }

    /// All weights in category order.
    pub fn iter(&self) -> impl Iterator<Item = (Category, f64)> + '_ {
        self.weights.iter().map(|(c, w)| (*c, *w))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_covers_every_category() {
        let t = HarmTable::default();
        for c in Category::ALL {
            assert!(t.iter().any(|(k, _)| k == c), "{c} has no weight");
        }
        assert_eq!(t.weight(Category::Homicide), 5475.0);
        assert!(t.weight(Category::Homicide) > t.weight(Category::Robbery));
    }

    #[test]
    fn overrides_replace_and_validate() {
        let t =
            HarmTable::with_overrides([(Category::Robbery, 547.0)], "local".into()).expect("valid");
        assert_eq!(t.weight(Category::Robbery), 547.0);
        assert_eq!(t.weight(Category::Homicide), 5475.0);
        assert!(HarmTable::with_overrides([(Category::Robbery, -1.0)], "x".into()).is_err());
        assert!(HarmTable::with_overrides([(Category::Robbery, f64::NAN)], "x".into()).is_err());
    }
}
