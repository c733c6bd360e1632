//! Rule files: how is a Prometheus rule file (YAML) loaded and validated?
//!
//! The format is Prometheus's: `groups:` with `name`, `interval`, `query_offset`, `limit`,
//! `labels` and `rules:`; each rule has `record` or `alert`, `expr`, and for alerts `for`,
//! `keep_firing_for`, `labels` and `annotations`. Validation follows `promtool check rules`
//! and reports every problem with its line, group and rule.

use super::error::{Problem, RuleError};
use super::template::Template;
use crate::ast::Expr;
use exposition::labels::{is_valid_legacy_label_name, is_valid_legacy_metric_name};
use exposition::Labels;
use serde::Deserialize;
use std::collections::BTreeMap;

/// A loaded, validated rule file.
#[derive(Debug, Clone)]
pub struct RuleFile {
    /// Where it came from (as given to the loader).
    pub path: String,
    /// Its groups, in file order.
    pub groups: Vec<GroupSpec>,
}

/// One group as written in a rule file.
#[derive(Debug, Clone)]
pub struct GroupSpec {
    /// The group name (unique in its file).
    pub name: String,
    /// The file the group came from.
    pub file: String,
    /// `interval` in ms, if set (otherwise the global evaluation interval applies).
    pub interval_ms: Option<i64>,
    /// `query_offset` in ms, if set.
    pub query_offset_ms: Option<i64>,
    /// `limit` (0 = none).
    pub limit: usize,
    /// Group `labels`, added to every rule (rule labels win).
    pub labels: Labels,
    /// The rules, in order.
    pub rules: Vec<RuleSpec>,
}

/// One rule as written in a rule file.
#[derive(Debug, Clone)]
pub struct RuleSpec {
    /// Recording or alerting, with the kind-specific fields.
    pub kind: RuleKind,
    /// The expression text.
    pub expr_text: String,
    /// The parsed expression.
    pub expr: Expr,
    /// Rule labels (unexpanded templates for alerts).
    pub labels: Labels,
    /// 1-based line of the rule in the file (0 when unknown).
    pub line: usize,
}

/// What kind of rule it is.
#[derive(Debug, Clone, PartialEq)]
pub enum RuleKind {
    /// `record: name`.
    Recording {
        /// The output metric name.
        record: String,
    },
    /// `alert: name`.
    Alerting {
        /// The alert name.
        alert: String,
        /// `for` in ms.
        for_ms: i64,
        /// `keep_firing_for` in ms.
        keep_firing_for_ms: i64,
        /// Annotations (unexpanded templates).
        annotations: Labels,
    },
}

impl RuleSpec {
    /// The `record` or `alert` name.
    pub fn name(&self) -> &str {
        match &self.kind {
            RuleKind::Recording { record } => record,
            RuleKind::Alerting { alert, .. } => alert,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    groups: Vec<RawGroup>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGroup {
    #[serde(default)]
    name: String,
    interval: Option<String>,
    query_offset: Option<String>,
    #[serde(default)]
    limit: usize,
    labels: Option<BTreeMap<String, serde_yaml_ng::Value>>,
    #[serde(default)]
    rules: Vec<RawRule>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    record: Option<String>,
    alert: Option<String>,
    expr: Option<serde_yaml_ng::Value>,
    #[serde(rename = "for")]
    for_: Option<String>,
    keep_firing_for: Option<String>,
    labels: Option<BTreeMap<String, serde_yaml_ng::Value>>,
    annotations: Option<BTreeMap<String, serde_yaml_ng::Value>>,
}

/// A YAML scalar as the string Go's YAML library would give for a string field.
pub(crate) fn scalar(v: &serde_yaml_ng::Value) -> Option<String> {
    match v {
        serde_yaml_ng::Value::String(s) => Some(s.clone()),
        serde_yaml_ng::Value::Number(n) => Some(n.to_string()),
        serde_yaml_ng::Value::Bool(b) => Some(b.to_string()),
        serde_yaml_ng::Value::Null => Some(String::new()),
        _ => None,
    }
}

/// Parses a Prometheus duration (`1h30m`, `5m`, `0s`, `0`).
pub fn parse_duration(s: &str) -> Option<i64> {
    if s == "0" {
        return Some(0);
    }
    crate::lexer::parse_duration_ms(s).filter(|d| *d >= 0)
}

/// Reads and loads the rule file at `path`.
pub fn load_file(path: &str) -> Result<RuleFile, RuleError> {
    let text = std::fs::read_to_string(path).map_err(|e| RuleError::Io {
        path: path.to_string(),
        source: e,
    })?;
    load_str(path, &text)
}

/// Loads a rule file from `text`; `path` is used in errors and as the groups' file.
pub fn load_str(path: &str, text: &str) -> Result<RuleFile, RuleError> {
    let raw: RawFile = if text.trim().is_empty() {
        RawFile { groups: Vec::new() }
    } else {
        serde_yaml_ng::from_str(text).map_err(|e| {
            let (line, column) = e.location().map_or((0, 0), |l| (l.line(), l.column()));
            RuleError::Yaml {
                path: path.to_string(),
                line,
                column,
                msg: e.to_string(),
            }
        })?
    };
    let lines = rule_lines(text);
    let mut problems = Vec::new();
    let mut groups = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (gi, g) in raw.groups.into_iter().enumerate() {
        let gline = lines.get(gi).map_or(0, |x| x.0);
        let gp = |msg: String| Problem {
            line: gline,
            group: g.name.clone(),
            rule: None,
            rule_name: String::new(),
            msg,
        };
        if g.name.is_empty() {
            problems.push(gp("Groupname must not be empty".into()));
        } else if !seen.insert(g.name.clone()) {
            problems.push(gp(format!(
                "groupname: {:?} is repeated in the same file",
                g.name
            )));
        }
        let dur = |s: &Option<String>, what: &str, problems: &mut Vec<Problem>| -> Option<i64> {
            let s = s.as_ref()?;
            match parse_duration(s) {
                Some(d) => Some(d),
                None => {
                    problems.push(gp(format!(
                        "group {:?}: invalid {what} duration {s:?}",
                        g.name
                    )));
                    None
                }
            }
        };
        let interval_ms = dur(&g.interval, "interval", &mut problems);
        if interval_ms == Some(0) {
            problems.push(gp(format!("group {:?}: interval must be positive", g.name)));
        }
        let query_offset_ms = dur(&g.query_offset, "query_offset", &mut problems);
        let labels = label_map(&g.labels, &mut |m| problems.push(gp(m)));
        for l in labels.iter() {
            if !is_valid_legacy_label_name(&l.name) || l.name == "__name__" {
                problems.push(gp(format!(
                    "group {:?}: invalid label name: {}",
                    g.name, l.name
                )));
            }
        }
        let mut rules = Vec::new();
        for (ri, r) in g.rules.into_iter().enumerate() {
            let (line, expr_line) = lines
                .get(gi)
                .and_then(|x| x.1.get(ri))
                .copied()
                .unwrap_or((gline, gline));
            let name = r.alert.clone().or(r.record.clone()).unwrap_or_default();
            let mut rp = |msg: String| {
                let at_expr = msg.starts_with("could not parse expression");
                problems.push(Problem {
                    line: if at_expr { expr_line } else { line },
                    group: g.name.clone(),
                    rule: Some(ri + 1),
                    rule_name: name.clone(),
                    msg,
                })
            };
            if let Some(spec) = check_rule(r, line, &mut rp) {
                rules.push(spec);
            }
        }
        groups.push(GroupSpec {
            name: g.name,
            file: path.to_string(),
            interval_ms,
            query_offset_ms,
            limit: g.limit,
            labels,
            rules,
        });
    }
    if !problems.is_empty() {
        return Err(RuleError::Invalid {
            path: path.to_string(),
            problems,
        });
    }
    Ok(RuleFile {
        path: path.to_string(),
        groups,
    })
}

fn label_map(
    m: &Option<BTreeMap<String, serde_yaml_ng::Value>>,
    bad: &mut dyn FnMut(String),
) -> Labels {
    let Some(m) = m else {
        return Labels::empty();
    };
    let mut pairs = Vec::new();
    for (k, v) in m {
        match scalar(v) {
            Some(s) => pairs.push((k.clone(), s)),
            None => bad(format!("label {k:?} must have a scalar value")),
        }
    }
    Labels::from_pairs(&pairs)
}

fn check_rule(r: RawRule, line: usize, p: &mut dyn FnMut(String)) -> Option<RuleSpec> {
    let mut ok = true;
    let mut fail = |m: String| {
        ok = false;
        p(m)
    };
    match (&r.record, &r.alert) {
        (Some(_), Some(_)) => fail("only one of 'record' and 'alert' must be set".into()),
        (None, None) => fail("one of 'record' or 'alert' must be set".into()),
        _ => {}
    }
    let expr_text = r.expr.as_ref().and_then(scalar).unwrap_or_default();
    let expr = if expr_text.trim().is_empty() {
        fail("field 'expr' must be set in rule".into());
        None
    } else {
        match crate::parse(&expr_text) {
            Ok(e) => Some(e),
            Err(e) => {
                fail(format!("could not parse expression: {e}"));
                None
            }
        }
    };
    let labels = label_map(&r.labels, &mut fail);
    let annotations = label_map(&r.annotations, &mut fail);
    for l in labels.iter() {
        if !is_valid_legacy_label_name(&l.name) || l.name == "__name__" {
            fail(format!("invalid label name: {}", l.name));
        }
    }
    for l in annotations.iter() {
        if !is_valid_legacy_label_name(&l.name) {
            fail(format!("invalid annotation name: {}", l.name));
        }
    }
    let dur = |s: &Option<String>, what: &str, fail: &mut dyn FnMut(String)| -> i64 {
        match s {
            None => 0,
            Some(s) => parse_duration(s).unwrap_or_else(|| {
                fail(format!("invalid '{what}' duration {s:?}"));
                0
            }),
        }
    };
    let kind = if let Some(record) = &r.record {
        if !is_valid_legacy_metric_name(record) {
            fail(format!("invalid recording rule name: {record}"));
        }
        if r.annotations.is_some() {
            fail("invalid field 'annotations' in recording rule".into());
        }
        if r.for_.is_some() {
            fail("invalid field 'for' in recording rule".into());
        }
        if r.keep_firing_for.is_some() {
            fail("invalid field 'keep_firing_for' in recording rule".into());
        }
        RuleKind::Recording {
            record: record.clone(),
        }
    } else {
        let alert = r.alert.clone().unwrap_or_default();
        if r.alert.is_some() && alert.is_empty() {
            fail("invalid alert name: \"\"".into());
        }
        // Templates must parse (promtool checks this too).
        for (what, set) in [("label", &labels), ("annotation", &annotations)] {
            for l in set.iter() {
                if let Err(e) = Template::parse(&l.value) {
                    fail(format!(
                        "{what} {:?}: {}",
                        l.name,
                        e.go_message(&format!("__alert_{alert}"))
                    ));
                }
            }
        }
        let for_ms = dur(&r.for_, "for", &mut fail);
        let keep_firing_for_ms = dur(&r.keep_firing_for, "keep_firing_for", &mut fail);
        RuleKind::Alerting {
            alert,
            for_ms,
            keep_firing_for_ms,
            annotations,
        }
    };
    if !ok {
        return None;
    }
    Some(RuleSpec {
        kind,
        expr_text,
        expr: expr?,
        labels,
        line,
    })
}

/// Best-effort line numbers: for each group, the line of its `- name:` item and, for each
/// rule item under its `rules:` key, the line of the item and of its `expr:` (serde's data model does not keep positions).
fn rule_lines(text: &str) -> Vec<(usize, Vec<(usize, usize)>)> {
    let mut out: Vec<(usize, Vec<(usize, usize)>)> = Vec::new();
    let mut group_indent: Option<usize> = None;
    let mut rules_indent: Option<usize> = None;
    let mut item_indent: Option<usize> = None;
    for (i, raw) in text.lines().enumerate() {
        let line = raw.split(" #").next().unwrap_or("");
        let t = line.trim_start();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        let ind = line.len() - t.len();
        if t.starts_with("groups:") && ind == 0 {
            group_indent = None;
            continue;
        }
        if t.starts_with("- ") || t == "-" {
            if (group_indent.is_none() || group_indent == Some(ind))
                && rules_indent.is_none_or(|r| ind <= r)
            {
                group_indent = Some(ind);
                out.push((i + 1, Vec::new()));
                rules_indent = None;
                item_indent = None;
                continue;
            }
            if let Some(r) = rules_indent {
                if ind >= r && item_indent.is_none_or(|x| x == ind) {
                    item_indent = Some(ind);
                    if let Some(g) = out.last_mut() {
                        g.1.push((i + 1, i + 1));
                    }
                }
            }
        }
        let key = t.trim_start_matches("- ").trim_start();
        if key.starts_with("expr:") && item_indent.is_some_and(|x| ind >= x) {
            if let Some(r) = out.last_mut().and_then(|g| g.1.last_mut()) {
                r.1 = i + 1;
            }
        }
        if key.starts_with("rules:") {
            rules_indent = Some(ind);
            item_indent = None;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "groups:\n- name: g\n  interval: 30s\n  labels:\n    team: a\n  rules:\n  - record: job:up:sum\n    expr: sum by (job) (up)\n  - alert: Down\n    expr: up == 0\n    for: 5m\n    labels:\n      severity: page\n    annotations:\n      summary: '{{ $labels.instance }} down'\n";

    #[test]
    fn loads_groups_and_rules() {
        let f = load_str("r.yml", GOOD).unwrap();
        let g = &f.groups[0];
        assert_eq!(g.interval_ms, Some(30_000));
        assert_eq!(g.labels.get("team"), Some("a"));
        assert_eq!(g.rules.len(), 2);
        assert_eq!(g.rules[0].name(), "job:up:sum");
        assert_eq!(g.rules[0].line, 7);
        assert_eq!(g.rules[1].line, 9);
        assert!(matches!(
            g.rules[1].kind,
            RuleKind::Alerting {
                for_ms: 300_000,
                ..
            }
        ));
    }

    #[test]
    fn reports_every_problem_with_position() {
        let bad = "groups:\n- name: g\n  rules:\n  - record: a\n    alert: b\n    expr: up\n  - alert: X\n    expr: sum(\n  - record: bad-name\n    expr: up\n    annotations:\n      a: b\n- name: g\n  rules:\n  - alert: T\n    expr: up\n    annotations:\n      x: '{{ nosuch }}'\n";
        let e = load_str("bad.yml", bad).unwrap_err();
        let p = e.problems();
        let msgs: Vec<String> = p.iter().map(|x| x.to_string()).collect();
        assert!(
            msgs[0].starts_with("4: group \"g\", rule 1, \"b\": only one of"),
            "{msgs:?}"
        );
        assert!(msgs.iter().any(|m| m.starts_with("8: group \"g\", rule 2, \"X\": could not parse expression")), "{msgs:?}");
        assert!(
            msgs.iter()
                .any(|m| m.contains("invalid recording rule name: bad-name")),
            "{msgs:?}"
        );
        assert!(
            msgs.iter()
                .any(|m| m.contains("invalid field 'annotations'")),
            "{msgs:?}"
        );
        assert!(
            msgs.iter()
                .any(|m| m.contains("is repeated in the same file")),
            "{msgs:?}"
        );
        assert!(
            msgs.iter()
                .any(|m| m.contains("function \"nosuch\" not defined")),
            "{msgs:?}"
        );
    }

    #[test]
    fn yaml_errors_have_lines() {
        let e = load_str("y.yml", "groups:\n- name: g\n  rulez: []\n").unwrap_err();
        assert!(matches!(e, RuleError::Yaml { line: 3, .. }), "{e}");
    }
}
