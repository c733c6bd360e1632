//! The YAML shape of `alertmanager.yml`, decoded strictly (unknown keys are errors).
//!
//! Scalars that Alertmanager reads as strings are decoded from their raw source text, so
//! `code: 500` is `"500"` and `flag: yes` is `"yes"`, as in Go's YAML decoder.

use std::collections::BTreeMap;

use serde::Deserialize;

/// `match`/`match_re` maps: a null value is `None`.
pub type RawMatchMap = BTreeMap<String, Option<String>>;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    pub global: Option<serde_yaml_ng::Mapping>,
    pub route: Option<RawRoute>,
    pub receivers: Option<Vec<serde_yaml_ng::Mapping>>,
    pub inhibit_rules: Option<Vec<RawInhibitRule>>,
    pub time_intervals: Option<Vec<RawTimeInterval>>,
    pub mute_time_intervals: Option<Vec<RawTimeInterval>>,
    pub templates: Option<Vec<String>>,
    /// Accepted (master has it) and ignored: this crate does no tracing.
    #[allow(dead_code)]
    pub tracing: Option<serde_yaml_ng::Value>,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRoute {
    pub receiver: Option<String>,
    #[serde(default, deserialize_with = "string_list")]
    pub group_by: Option<Vec<String>>,
    #[serde(rename = "match")]
    pub match_eq: Option<RawMatchMap>,
    pub match_re: Option<RawMatchMap>,
    #[serde(default, deserialize_with = "string_list")]
    pub matchers: Option<Vec<String>>,
    #[serde(rename = "continue", default, deserialize_with = "yaml11_bool")]
    pub continue_matching: Option<bool>,
    pub routes: Option<Vec<RawRoute>>,
    pub group_wait: Option<String>,
    pub group_interval: Option<String>,
    pub repeat_interval: Option<String>,
    #[serde(default, deserialize_with = "string_list")]
    pub mute_time_intervals: Option<Vec<String>>,
    #[serde(default, deserialize_with = "string_list")]
    pub active_time_intervals: Option<Vec<String>>,
    pub labels: Option<BTreeMap<String, String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawInhibitRule {
    pub name: Option<String>,
    pub source_match: Option<RawMatchMap>,
    pub source_match_re: Option<RawMatchMap>,
    #[serde(default, deserialize_with = "string_list")]
    pub source_matchers: Option<Vec<String>>,
    pub target_match: Option<RawMatchMap>,
    pub target_match_re: Option<RawMatchMap>,
    #[serde(default, deserialize_with = "string_list")]
    pub target_matchers: Option<Vec<String>>,
    #[serde(default, deserialize_with = "string_list")]
    pub equal: Option<Vec<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTimeInterval {
    pub name: Option<String>,
    pub time_intervals: Option<Vec<RawTimeSpec>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTimeSpec {
    pub times: Option<Vec<RawTimeRange>>,
    pub weekdays: Option<Vec<String>>,
    pub days_of_month: Option<Vec<String>>,
    pub months: Option<Vec<String>>,
    pub years: Option<Vec<String>>,
    pub location: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTimeRange {
    pub start_time: Option<String>,
    pub end_time: Option<String>,
}

/// A YAML 1.1 boolean as Go's YAML decoder reads one: `true`/`false` and also the plain words
/// `yes`/`no`, `on`/`off`, `y`/`n` in their three spellings (`yes`, `Yes`, `YES`).
pub fn yaml11_bool_word(s: &str) -> Option<bool> {
    match s {
        "y" | "Y" | "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => {
            Some(true)
        }
        "n" | "N" | "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => {
            Some(false)
        }
        _ => None,
    }
}

fn yaml11_bool<'de, D>(d: D) -> Result<Option<bool>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    use serde::de::Error;
    match Option::<serde_yaml_ng::Value>::deserialize(d)? {
        None | Some(serde_yaml_ng::Value::Null) => Ok(None),
        Some(serde_yaml_ng::Value::Bool(b)) => Ok(Some(b)),
        Some(serde_yaml_ng::Value::String(s)) => yaml11_bool_word(&s)
            .map(Some)
            .ok_or_else(|| D::Error::custom(format!("cannot unmarshal !!str `{s}` into bool"))),
        Some(other) => Err(D::Error::custom(format!(
            "cannot unmarshal {} into bool",
            match other {
                serde_yaml_ng::Value::Number(n) => format!("!!int `{n}`"),
                serde_yaml_ng::Value::Sequence(_) => "!!seq".into(),
                _ => "!!map".into(),
            }
        ))),
    }
}

/// A list of strings where a null entry (`[a, ~]`) is the empty string, as Go decodes it.
fn string_list<'de, D>(d: D) -> Result<Option<Vec<String>>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    Ok(Option::<Vec<Option<String>>>::deserialize(d)?
        .map(|v| v.into_iter().map(Option::unwrap_or_default).collect()))
}
