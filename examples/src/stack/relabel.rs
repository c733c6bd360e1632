//! Prometheus relabelling: `replace`, `keep`, `drop`, `labeldrop`, `labelkeep`, `labelmap`,
//! `hashmod`, `lowercase`, `uppercase`, `keepequal`, `dropequal`, applied in order to a
//! label set. Regexes are anchored at both ends, as in Prometheus.

use exposition::{Labels, LabelsBuilder};
use regex::Regex;
use serde::Deserialize;

/// Why a relabel rule is invalid.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RelabelError {
    /// The regex did not compile.
    #[error("invalid regex {regex:?}: {message}")]
    Regex {
        /// The pattern.
        regex: String,
        /// The compiler's message.
        message: String,
    },
    /// Unknown `action`.
    #[error("unknown relabel action {0:?}")]
    UnknownAction(String),
    /// A required field is missing for the action.
    #[error("relabel configuration for {action} action requires {field}")]
    Missing {
        /// The action.
        action: &'static str,
        /// The field.
        field: &'static str,
    },
}

/// The YAML form of one rule.
#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RawRelabel {
    #[serde(default)]
    source_labels: Vec<String>,
    separator: Option<String>,
    regex: Option<String>,
    modulus: Option<u64>,
    target_label: Option<String>,
    replacement: Option<String>,
    action: Option<String>,
}

/// What a rule does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Write `replacement` (expanded) into `target_label` when the regex matches.
    Replace,
    /// Drop the series unless the regex matches.
    Keep,
    /// Drop the series if the regex matches.
    Drop,
    /// Remove labels whose name matches.
    LabelDrop,
    /// Remove labels whose name does not match.
    LabelKeep,
    /// Copy labels whose name matches to the name `replacement` expands to.
    LabelMap,
    /// `target_label` = hash(source) mod `modulus`.
    HashMod,
    /// `target_label` = lowercase(source).
    Lowercase,
    /// `target_label` = uppercase(source).
    Uppercase,
    /// Keep when source equals the value of `target_label`.
    KeepEqual,
    /// Drop when source equals the value of `target_label`.
    DropEqual,
}

/// One validated rule.
#[derive(Debug, Clone)]
pub struct RelabelConfig {
    /// Labels whose values are joined to form the source value.
    pub source_labels: Vec<String>,
    /// Join separator (default `;`).
    pub separator: String,
    /// The anchored regex.
    pub regex: Regex,
    /// For `hashmod`.
    pub modulus: u64,
    /// The target label (may contain `$1` references for `replace`).
    pub target_label: String,
    /// The replacement (default `$1`).
    pub replacement: String,
    /// The action.
    pub action: Action,
}

impl RelabelConfig {
    /// Validates a YAML rule.
    pub fn from_raw(r: RawRelabel) -> Result<RelabelConfig, RelabelError> {
        let action = match r
            .action
            .as_deref()
            .unwrap_or("replace")
            .to_ascii_lowercase()
            .as_str()
        {
            "replace" => Action::Replace,
            "keep" => Action::Keep,
            "drop" => Action::Drop,
            "labeldrop" => Action::LabelDrop,
            "labelkeep" => Action::LabelKeep,
            "labelmap" => Action::LabelMap,
            "hashmod" => Action::HashMod,
            "lowercase" => Action::Lowercase,
            "uppercase" => Action::Uppercase,
            "keepequal" => Action::KeepEqual,
            "dropequal" => Action::DropEqual,
            other => return Err(RelabelError::UnknownAction(other.to_string())),
        };
        let pattern = r.regex.unwrap_or_else(|| "(.*)".into());
        let regex = Regex::new(&format!("^(?s:{pattern})$")).map_err(|e| RelabelError::Regex {
            regex: pattern.clone(),
            message: e.to_string(),
        })?;
        let target_label = r.target_label.unwrap_or_default();
        let needs_target = matches!(
            action,
            Action::Replace
                | Action::HashMod
                | Action::Lowercase
                | Action::Uppercase
                | Action::KeepEqual
                | Action::DropEqual
        );
        let name = |a: Action| match a {
            Action::Replace => "replace",
            Action::HashMod => "hashmod",
            Action::Lowercase => "lowercase",
            Action::Uppercase => "uppercase",
            Action::KeepEqual => "keepequal",
            _ => "dropequal",
        };
        if needs_target && target_label.is_empty() {
            return Err(RelabelError::Missing {
                action: name(action),
                field: "target_label",
            });
        }
        if action == Action::HashMod && r.modulus.unwrap_or(0) == 0 {
            return Err(RelabelError::Missing {
                action: "hashmod",
                field: "a non-zero modulus",
            });
        }
        Ok(RelabelConfig {
            source_labels: r.source_labels,
            separator: r.separator.unwrap_or_else(|| ";".into()),
            regex,
            modulus: r.modulus.unwrap_or(0),
            target_label,
            replacement: r.replacement.unwrap_or_else(|| "$1".into()),
            action,
        })
    }
}

/// Applies `rules` in order; `None` when a rule drops the series.
pub fn process(labels: &Labels, rules: &[RelabelConfig]) -> Option<Labels> {
    if rules.is_empty() {
        return Some(labels.clone());
    }
    let mut b = labels.builder();
    for r in rules {
        if !apply(&mut b, r) {
            return None;
        }
    }
    Some(b.build())
}

fn apply(b: &mut LabelsBuilder, r: &RelabelConfig) -> bool {
    let src = r
        .source_labels
        .iter()
        .map(|n| b.get(n).unwrap_or(""))
        .collect::<Vec<_>>()
        .join(&r.separator);
    match r.action {
        Action::Keep => return r.regex.is_match(&src),
        Action::Drop => return !r.regex.is_match(&src),
        Action::KeepEqual => return b.get(&r.target_label).unwrap_or("") == src,
        Action::DropEqual => return b.get(&r.target_label).unwrap_or("") != src,
        Action::Replace => {
            let Some(caps) = r.regex.captures(&src) else {
                return true;
            };
            let mut target = String::new();
            caps.expand(&r.target_label, &mut target);
            let mut value = String::new();
            caps.expand(&r.replacement, &mut value);
            if target.is_empty() || !exposition::labels::is_valid_utf8_name(&target) {
                return true;
            }
            if value.is_empty() {
                b.del(&target);
            } else {
                b.set(&target, &value);
            }
        }
        Action::Lowercase => {
            let v = src.to_lowercase();
            b.set(&r.target_label, &v);
        }
        Action::Uppercase => {
            let v = src.to_uppercase();
            b.set(&r.target_label, &v);
        }
        Action::HashMod => {
            // Prometheus: first 8 bytes of md5, big-endian, mod modulus. We use FNV-1a (the
            // spread over targets is what matters; the exact shard differs from Prometheus).
            let h = fnv1a(src.as_bytes()) % r.modulus;
            b.set(&r.target_label, &h.to_string());
        }
        Action::LabelMap => {
            let current = b.build();
            for l in current.iter() {
                if let Some(caps) = r.regex.captures(&l.name) {
                    let mut name = String::new();
                    caps.expand(&r.replacement, &mut name);
                    if !name.is_empty() {
                        b.set(&name, &l.value);
                    }
                }
            }
        }
        Action::LabelDrop => {
            b.retain(|l| !r.regex.is_match(&l.name));
        }
        Action::LabelKeep => {
            b.retain(|l| r.regex.is_match(&l.name));
        }
    }
    true
}

fn fnv1a(b: &[u8]) -> u64 {
    // A small FNV-1a: no extra dependency for a demo-grade hashmod.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &x in b {
        h ^= u64::from(x);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(yaml: &str) -> RelabelConfig {
        RelabelConfig::from_raw(serde_yaml_ng::from_str(yaml).unwrap()).unwrap()
    }

    fn l(pairs: &[(&str, &str)]) -> Labels {
        Labels::from_pairs(pairs)
    }

    #[test]
    fn replace_with_groups_and_defaults() {
        let r = rule("source_labels: [__address__]\nregex: '([^:]+):(\\d+)'\ntarget_label: host\nreplacement: '${1}_$2'\n");
        let out = process(&l(&[("__address__", "db1:9100")]), std::slice::from_ref(&r)).unwrap();
        assert_eq!(out.get("host"), Some("db1_9100"));
        // No match: unchanged. The regex is anchored.
        let out = process(&l(&[("__address__", "xdb1:9100:1")]), &[r]).unwrap();
        assert_eq!(out.get("host"), None);
        // Default regex (.*) and replacement $1 copy a label.
        let r = rule("source_labels: [a, b]\ntarget_label: c\n");
        let out = process(&l(&[("a", "x"), ("b", "y")]), &[r]).unwrap();
        assert_eq!(out.get("c"), Some("x;y"));
        // An empty result deletes the target.
        let r = rule("source_labels: [nope]\ntarget_label: a\n");
        assert_eq!(process(&l(&[("a", "x")]), &[r]).unwrap().get("a"), None);
    }

    #[test]
    fn keep_drop_and_label_actions() {
        let keep = rule("source_labels: [__name__]\nregex: 'up|node_.*'\naction: keep\n");
        assert!(process(
            &l(&[("__name__", "node_load1")]),
            std::slice::from_ref(&keep)
        )
        .is_some());
        assert!(process(&l(&[("__name__", "go_gc")]), std::slice::from_ref(&keep)).is_none());
        let drop = rule("source_labels: [__name__]\nregex: 'go_.*'\naction: drop\n");
        assert!(process(&l(&[("__name__", "go_gc")]), &[drop]).is_none());
        let map = rule("regex: '__meta_(.+)'\naction: labelmap\n");
        let out = process(&l(&[("__meta_zone", "eu"), ("a", "1")]), &[map]).unwrap();
        assert_eq!(out.get("zone"), Some("eu"));
        assert_eq!(out.get("__meta_zone"), Some("eu"));
        let ld = rule("regex: '__meta_.*'\naction: labeldrop\n");
        let out = process(&l(&[("__meta_zone", "eu"), ("a", "1")]), &[ld]).unwrap();
        assert_eq!(out, l(&[("a", "1")]));
        let lk = rule("regex: 'a|__name__'\naction: labelkeep\n");
        let out = process(&l(&[("__name__", "m"), ("a", "1"), ("b", "2")]), &[lk]).unwrap();
        assert_eq!(out, l(&[("__name__", "m"), ("a", "1")]));
        let hm = rule("source_labels: [a]\nmodulus: 4\ntarget_label: shard\naction: hashmod\n");
        let s: u64 = process(&l(&[("a", "x")]), &[hm])
            .unwrap()
            .get("shard")
            .unwrap()
            .parse()
            .unwrap();
        assert!(s < 4);
    }

    #[test]
    fn invalid_rules_are_rejected() {
        let bad =
            |y: &str| RelabelConfig::from_raw(serde_yaml_ng::from_str(y).unwrap()).unwrap_err();
        assert!(matches!(bad("regex: '('\n"), RelabelError::Regex { .. }));
        assert!(matches!(
            bad("action: explode\n"),
            RelabelError::UnknownAction(_)
        ));
        assert!(matches!(
            bad("action: replace\n"),
            RelabelError::Missing { .. }
        ));
        assert!(matches!(
            bad("action: hashmod\ntarget_label: x\n"),
            RelabelError::Missing { .. }
        ));
    }
}
