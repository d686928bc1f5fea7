//! Query strings as command-line flags. An analysis endpoint's parameters are the
//! matching CLI command's flags with `-` written as `_` (`cell_size=250` is
//! `--cell-size 250`), so each endpoint parses its query with the same `clap`
//! definitions the command line uses: the same defaults, the same validation and, once
//! the flag names are translated back, the same error messages.
//!
//! Rules: an empty value means "the default" (the parameter is left out); a boolean
//! flag takes `true`/`false` (or `1`/`0`, or no value); a list takes commas
//! (`category=robbery,residential_burglary`); a parameter may not repeat; names the
//! endpoint does not know are refused with the list of those it does.

use clap::{ArgAction, Parser};

use crate::error::ApiError;

/// The query's `name=value` pairs, percent-decoded, in order.
pub fn pairs(raw: Option<&str>) -> Result<Vec<(String, String)>, ApiError> {
    serde_urlencoded::from_str::<Vec<(String, String)>>(raw.unwrap_or(""))
        .map_err(|e| ApiError::bad_request(format!("the query string is malformed: {e}")))
}

/// The query's pairs in a canonical order (sorted by name, empty values left out): the
/// cache key of a request, so `a=1&b=2` and `b=2&a=1` share one answer.
pub fn canonical(pairs: &[(String, String)]) -> String {
    let mut kept: Vec<&(String, String)> = pairs.iter().filter(|(_, v)| !v.is_empty()).collect();
    kept.sort();
    serde_urlencoded::to_string(kept).unwrap_or_default()
}

/// Parses `pairs` into `T` as if they were `--name value` flags.
pub fn parse<T: Parser>(pairs: &[(String, String)]) -> Result<T, ApiError> {
    let command = T::command();
    let mut argv = vec!["query".to_string()];
    let mut seen: Vec<&str> = Vec::new();
    for (name, value) in pairs {
        if value.is_empty() {
            continue;
        }
        if seen.contains(&name.as_str()) {
            return Err(ApiError::bad_request(format!(
                "parameter `{name}` is given twice: give it once (lists take commas, e.g. category=robbery,residential_burglary)"
            )));
        }
        seen.push(name);
        let long = name.replace('_', "-");
        let arg = command
            .get_arguments()
            .find(|a| a.get_long() == Some(long.as_str()) && !a.is_hide_set())
            .ok_or_else(|| {
                ApiError::bad_request(format!(
                    "unknown parameter `{name}`: this endpoint takes {}",
                    known(&command)
                ))
            })?;
        if matches!(arg.get_action(), ArgAction::SetTrue) {
            match value.as_str() {
                "true" | "1" => argv.push(format!("--{long}")),
                "false" | "0" => {}
                other => {
                    return Err(ApiError::bad_request(format!(
                        "parameter `{name}` is true or false, not `{other}`"
                    )));
                }
            }
        } else {
            argv.push(format!("--{long}={value}"));
        }
    }
    T::try_parse_from(argv).map_err(|e| ApiError::bad_request(clap_message(&e)))
}

/// The parameter names an endpoint takes, comma-separated.
fn known(command: &clap::Command) -> String {
    let mut names: Vec<String> = command
        .get_arguments()
        .filter(|a| !a.is_hide_set())
        .filter_map(|a| a.get_long())
        .filter(|l| *l != "help")
        .map(|l| l.replace('-', "_"))
        .collect();
    names.sort();
    names.join(", ")
}

/// A clap error's first line with flags written as query parameters: `--cell-size
/// <METRES>` becomes `cell_size`.
fn clap_message(e: &clap::Error) -> String {
    let rendered = e.render().to_string();
    let line = rendered
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("the query is not valid")
        .trim()
        .trim_start_matches("error: ");
    flags_as_parameters(line)
}

/// Rewrites `--flag-name` (and a following ` <VALUE>`) as `flag_name` in a message, so
/// the analyses' messages, written for the command line, name query parameters.
pub fn flags_as_parameters(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("--") {
        out.push_str(&rest[..i]);
        let after = &rest[i + 2..];
        let end = after
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
            .unwrap_or(after.len());
        if end == 0 {
            out.push_str("--");
            rest = after;
            continue;
        }
        out.push_str(&after[..end].replace('-', "_"));
        rest = &after[end..];
        if let Some(stripped) = rest.strip_prefix(" <")
            && let Some(close) = stripped.find('>')
        {
            rest = &stripped[close + 1..];
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, clap::Parser)]
    struct Q {
        #[arg(long, value_delimiter = ',')]
        category: Vec<String>,
        #[arg(long)]
        cell_size: Option<f64>,
        #[arg(long)]
        adaptive: bool,
        #[arg(long, default_value_t = 999)]
        permutations: usize,
    }

    fn q(s: &str) -> Result<Q, ApiError> {
        parse(&pairs(Some(s))?)
    }

    #[test]
    fn pairs_become_flags_with_defaults_lists_and_booleans() {
        let v = q("category=robbery,residential_burglary&cell_size=250&adaptive=true").expect("ok");
        assert_eq!(v.category, ["robbery", "residential_burglary"]);
        assert_eq!(v.cell_size, Some(250.0));
        assert!(v.adaptive);
        assert_eq!(v.permutations, 999);
        let v = q("adaptive=false&cell_size=&permutations=99").expect("ok");
        assert!(!v.adaptive);
        assert_eq!(v.cell_size, None);
        assert_eq!(v.permutations, 99);
    }

    #[test]
    fn mistakes_name_the_parameter() {
        let e = q("cellsize=250").expect_err("an error");
        assert!(
            e.message
                .contains("unknown parameter `cellsize`: this endpoint takes adaptive, category, cell_size, permutations"),
            "{}",
            e.message
        );
        let e = q("cell_size=big").expect_err("an error");
        assert!(e.message.contains("'big'"), "{}", e.message);
        assert!(e.message.contains("cell_size"), "{}", e.message);
        assert!(!e.message.contains("--"), "{}", e.message);
        let e = q("adaptive=maybe").expect_err("an error");
        assert_eq!(
            e.message,
            "parameter `adaptive` is true or false, not `maybe`"
        );
        let e = q("permutations=9&permutations=99").expect_err("an error");
        assert!(e.message.contains("given twice"), "{}", e.message);
    }

    #[test]
    fn messages_name_parameters_not_flags() {
        assert_eq!(
            flags_as_parameters("--weights `x` is not queen; see --cell-size <METRES> and --x"),
            "weights `x` is not queen; see cell_size and x"
        );
        assert_eq!(flags_as_parameters("a -- b"), "a -- b");
    }

    #[test]
    fn canonical_order_ignores_order_and_empty_values() {
        let a = canonical(&pairs(Some("b=2&a=1&c=")).expect("ok"));
        let b = canonical(&pairs(Some("a=1&b=2")).expect("ok"));
        assert_eq!(a, b);
        assert_eq!(a, "a=1&b=2");
    }
}
