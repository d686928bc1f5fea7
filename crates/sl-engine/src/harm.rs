//! Loading a user's harm table (TOML: `category = weight` lines, plus an optional
//! `source = "..."` naming where the weights come from).

use std::path::Path;

use sl_types::{Category, HarmTable};

use crate::{EngineError, Result};

/// Reads a harm table file; categories it leaves out keep their default weight.
pub fn load_harm_table(path: &Path) -> Result<HarmTable> {
    let text = std::fs::read_to_string(path).map_err(|source| EngineError::Io {
        path: path.display().to_string(),
        source,
    })?;
    parse_harm_table(&text, &path.display().to_string())
}

/// Parses harm table text; `origin` names it in messages.
pub fn parse_harm_table(text: &str, origin: &str) -> Result<HarmTable> {
    let value: toml::Table = toml::from_str(text)
        .map_err(|e| EngineError::Invalid(format!("harm table {origin}: {e}")))?;
    let mut source = format!("user table {origin}");
    let mut overrides = Vec::new();
    for (k, v) in value {
        if k == "source" {
            source = v.as_str().unwrap_or_default().to_string();
            continue;
        }
        let category = Category::from_slug(&k)
            .map_err(|e| EngineError::Invalid(format!("harm table {origin}: {e}")))?;
        let weight = v
            .as_float()
            .or_else(|| v.as_integer().map(|i| i as f64))
            .ok_or_else(|| {
                EngineError::Invalid(format!(
                    "harm table {origin}: weight for `{k}` must be a number"
                ))
            })?;
        overrides.push((category, weight));
    }
    HarmTable::with_overrides(overrides, source)
        .map_err(|e| EngineError::Invalid(format!("harm table {origin}: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_overrides() {
        let t = parse_harm_table(
            "source = \"local sentencing\"\nrobbery = 500\nhomicide = 7000.5\n",
            "t",
        )
        .expect("valid");
        assert_eq!(t.weight(Category::Robbery), 500.0);
        assert_eq!(t.weight(Category::Homicide), 7000.5);
        assert_eq!(t.source, "local sentencing");
        assert!(parse_harm_table("burglary = 3", "t").is_err());
        assert!(parse_harm_table("robbery = \"x\"", "t").is_err());
    }
}
