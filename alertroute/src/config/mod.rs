//! `alertmanager.yml`: "what does this configuration mean, and is it valid?"
//!
//! [`Config::load`] decodes the file strictly (unknown keys are errors, naming the key),
//! applies Alertmanager's defaults and inheritance to the route tree, and validates it with
//! Alertmanager's messages (undefined receiver, root with matchers, duplicate names, unknown
//! time interval, bad matcher, bad duration, ...).
//!
//! ```
//! use alertroute::Config;
//! let cfg = Config::load("route: {receiver: a}\nreceivers: [{name: a}]").unwrap();
//! assert_eq!(cfg.route.root().group_wait_ms, 30_000);
//! assert_eq!(cfg.route.root().repeat_interval_ms, 4 * 3_600_000);
//! let err = Config::load("route: {receiver: b}\nreceivers: [{name: a}]").unwrap_err();
//! assert_eq!(err.to_string(), r#"undefined receiver "b" used in route"#);
//! ```

mod raw;
mod receivers;

use std::collections::{BTreeMap, HashSet};

use exposition::{MatchOp, Matcher};

pub use receivers::{Integration, Receiver};

use crate::duration::parse_duration;
use crate::error::{ConfigError, TimeIntervalError};
use crate::inhibit::InhibitRule;
use crate::matchers::{new_matcher, parse_matchers, shown_value};
use crate::route::{GroupBy, Route, RouteId, RouteTree};
use crate::timeinterval::{parse_location, parse_time_range, TimeInterval, TimeSpec};
use raw::{RawConfig, RawInhibitRule, RawMatchMap, RawRoute, RawTimeInterval};

/// Default `group_wait` of the root route.
pub const DEFAULT_GROUP_WAIT_MS: i64 = 30_000;
/// Default `group_interval` of the root route.
pub const DEFAULT_GROUP_INTERVAL_MS: i64 = 300_000;
/// Default `repeat_interval` of the root route.
pub const DEFAULT_REPEAT_INTERVAL_MS: i64 = 4 * 3_600_000;
/// Default `global.resolve_timeout`.
pub const DEFAULT_RESOLVE_TIMEOUT_MS: i64 = 300_000;

/// How label names in `group_by` and `equal` are checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum NameValidation {
    /// Any non-empty UTF-8 (Alertmanager's default "fallback" mode).
    #[default]
    Utf8,
    /// `[a-zA-Z_][a-zA-Z0-9_]*` (`classic-mode`, and upstream's unit tests).
    Legacy,
}

/// A loaded, validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// `global.resolve_timeout` in ms.
    pub resolve_timeout_ms: i64,
    /// The whole `global` section as JSON (for integrations the caller delivers).
    pub global: serde_json::Map<String, serde_json::Value>,
    /// The routing tree with inheritance applied.
    pub route: RouteTree,
    /// Receivers in config order.
    pub receivers: Vec<Receiver>,
    /// Inhibit rules in config order.
    pub inhibit_rules: Vec<InhibitRule>,
    /// Named time intervals (`time_intervals` and the deprecated `mute_time_intervals`).
    pub time_intervals: BTreeMap<String, TimeInterval>,
    /// Template file globs, kept as written.
    pub templates: Vec<String>,
}

impl Config {
    /// Loads and validates `alertmanager.yml` text (default name validation).
    pub fn load(text: &str) -> Result<Config, ConfigError> {
        Config::load_with(text, NameValidation::default())
    }

    /// Loads with an explicit label-name validation mode.
    pub fn load_with(text: &str, names: NameValidation) -> Result<Config, ConfigError> {
        let probe: serde_yaml_ng::Value = serde_yaml_ng::from_str(text).map_err(yaml_err)?;
        if probe.is_null() {
            return Err(ConfigError::Empty);
        }
        let raw: RawConfig = serde_yaml_ng::from_str(text).map_err(yaml_err)?;
        let order: Vec<String> = probe
            .as_mapping()
            .map(|m| {
                m.keys()
                    .filter_map(|k| k.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        check_in_document_order(&raw, names, &order)?;
        build(raw, names)
    }

    /// Reads and loads a file; I/O errors are reported as YAML errors naming the path.
    pub fn load_file(path: &std::path::Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Yaml {
            message: format!("{}: {e}", path.display()),
            line: None,
            column: None,
        })?;
        Config::load(&text)
    }

    /// A receiver by name.
    pub fn receiver(&self, name: &str) -> Option<&Receiver> {
        self.receivers.iter().find(|r| r.name == name)
    }
}

fn yaml_err(e: serde_yaml_ng::Error) -> ConfigError {
    let loc = e.location();
    // Name the section, not our decoding type.
    let mut message = e.to_string();
    for (raw, name) in [
        ("struct RawConfig", "config"),
        ("struct RawRoute", "route"),
        ("struct RawInhibitRule", "inhibit rule"),
        ("struct RawTimeInterval", "time interval"),
        ("struct RawTimeSpec", "time interval spec"),
        ("struct RawTimeRange", "time range"),
    ] {
        message = message.replace(raw, name);
    }
    ConfigError::Yaml {
        message,
        line: loc.as_ref().map(|l| l.line()),
        column: loc.as_ref().map(|l| l.column()),
    }
}

/// Alertmanager reports the problems it finds while decoding in the file's order (a bad
/// receiver written before a bad route is reported first), and only then the checks that
/// need the whole file. This pass runs the decode-time checks of each top-level section in
/// the order the sections appear; [`build`] then does the full work.
fn check_in_document_order(
    raw: &RawConfig,
    names: NameValidation,
    order: &[String],
) -> Result<(), ConfigError> {
    let empty = serde_json::Map::new();
    let mut unknown = None;
    for key in order {
        match key.as_str() {
            "global" => {
                receivers::check_global(raw.global.as_ref())?;
            }
            "route" => {
                if let Some(r) = &raw.route {
                    check_route_decode(r, names)?;
                }
            }
            "receivers" => {
                for r in raw.receivers.iter().flatten() {
                    // go-yaml reports unknown keys after the whole decode.
                    match receivers::build_receiver(r, &empty, true) {
                        Err(e @ ConfigError::UnknownField { .. }) => {
                            unknown.get_or_insert(e);
                        }
                        other => {
                            other?;
                        }
                    }
                }
            }
            "inhibit_rules" => {
                for r in raw.inhibit_rules.iter().flatten() {
                    build_inhibit_rule(r, names)?;
                }
            }
            "time_intervals" | "mute_time_intervals" => {
                let list = if key == "time_intervals" {
                    &raw.time_intervals
                } else {
                    &raw.mute_time_intervals
                };
                for ti in list.iter().flatten() {
                    let name = ti
                        .name
                        .clone()
                        .filter(|n| !n.is_empty())
                        .ok_or(ConfigError::MissingTimeIntervalName)?;
                    build_time_interval(ti)
                        .map_err(|source| ConfigError::TimeInterval { name, source })?;
                }
            }
            _ => {}
        }
    }
    unknown.map_or(Ok(()), Err)
}

/// A route's decode-time checks in Go's order: its `matchers` strings, then its children
/// (decoded as part of it), then its own fields (`match` keys, `match_re`, `group_by`, ...).
fn check_route_decode(r: &RawRoute, names: NameValidation) -> Result<(), ConfigError> {
    let only_matchers = RawRoute {
        matchers: r.matchers.clone(),
        ..RawRoute::default()
    };
    build_tree(&only_matchers, names)?;
    for c in r.routes.iter().flatten() {
        check_route_decode(c, names)?;
    }
    build_tree(
        &RawRoute {
            routes: None,
            ..r.clone()
        },
        names,
    )?;
    Ok(())
}

fn build(raw: RawConfig, names: NameValidation) -> Result<Config, ConfigError> {
    // Decode-time checks of Alertmanager: every route and inhibit rule on its own.
    let route_nodes = match &raw.route {
        Some(r) => Some(build_tree(r, names)?),
        None => None,
    };
    let inhibit_rules = raw
        .inhibit_rules
        .iter()
        .flatten()
        .map(|r| build_inhibit_rule(r, names))
        .collect::<Result<Vec<_>, _>>()?;
    let mut time_intervals = BTreeMap::new();
    let mut seen_ti = HashSet::new();
    for (list, deprecated) in [
        (&raw.mute_time_intervals, true),
        (&raw.time_intervals, false),
    ] {
        for ti in list.iter().flatten() {
            let name = ti
                .name
                .clone()
                .filter(|n| !n.is_empty())
                .ok_or(ConfigError::MissingTimeIntervalName)?;
            if !seen_ti.insert(name.clone()) {
                return Err(if deprecated {
                    ConfigError::DuplicateMuteTimeInterval(name)
                } else {
                    ConfigError::DuplicateTimeInterval(name)
                });
            }
            let interval = build_time_interval(ti).map_err(|source| ConfigError::TimeInterval {
                name: name.clone(),
                source,
            })?;
            time_intervals.insert(name, interval);
        }
    }

    let global = receivers::check_global(raw.global.as_ref())?;
    let resolve_timeout_ms = match global.get("resolve_timeout") {
        None | Some(serde_json::Value::Null) => DEFAULT_RESOLVE_TIMEOUT_MS,
        Some(v) => {
            let s = match v {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            parse_duration(&s).map_err(|source| ConfigError::Duration {
                field: "resolve_timeout".into(),
                source,
            })?
        }
    };

    let mut receivers_out = Vec::new();
    let mut names_seen = HashSet::new();
    for r in raw.receivers.iter().flatten() {
        let rc = receivers::build_receiver(r, &global, false)?;
        if !names_seen.insert(rc.name.clone()) {
            return Err(ConfigError::DuplicateReceiver(rc.name));
        }
        receivers_out.push(rc);
    }

    let (Some(raw_root), Some(nodes)) = (&raw.route, route_nodes) else {
        return Err(ConfigError::NoRoute);
    };
    if raw_root.receiver.as_deref().unwrap_or("").is_empty() {
        return Err(ConfigError::RootWithoutReceiver);
    }
    if !nodes[0].matchers.is_empty()
        || raw_root.match_eq.as_ref().is_some_and(|m| !m.is_empty())
        || raw_root.match_re.as_ref().is_some_and(|m| !m.is_empty())
    {
        return Err(ConfigError::RootWithMatchers);
    }
    if raw_root.continue_matching == Some(true) {
        return Err(ConfigError::RootWithContinue);
    }
    if raw_root
        .mute_time_intervals
        .as_ref()
        .is_some_and(|v| !v.is_empty())
    {
        return Err(ConfigError::RootWithMuteIntervals);
    }
    if raw_root
        .active_time_intervals
        .as_ref()
        .is_some_and(|v| !v.is_empty())
    {
        return Err(ConfigError::RootWithActiveIntervals);
    }
    for n in &nodes {
        if !names_seen.contains(&n.receiver) {
            return Err(ConfigError::UndefinedReceiver(n.receiver.clone()));
        }
    }
    for n in &nodes {
        for ti in n.mute_time_intervals.iter().chain(&n.active_time_intervals) {
            if !time_intervals.contains_key(ti) {
                return Err(ConfigError::UndefinedTimeInterval(ti.clone()));
            }
        }
    }
    Ok(Config {
        resolve_timeout_ms,
        global,
        route: RouteTree::from_nodes(nodes),
        receivers: receivers_out,
        inhibit_rules,
        time_intervals,
        templates: raw.templates.unwrap_or_default(),
    })
}

fn check_legacy_key(name: &str) -> Result<(), ConfigError> {
    if exposition::labels::is_valid_legacy_label_name(name) {
        Ok(())
    } else {
        Err(ConfigError::InvalidLabelName(name.to_string()))
    }
}

/// The matchers of `match`, `match_re` and `matchers`, sorted as Alertmanager sorts them.
fn collect_matchers(
    eq: Option<&RawMatchMap>,
    re: Option<&RawMatchMap>,
    list: Option<&Vec<String>>,
    context: &str,
) -> Result<Vec<Matcher>, ConfigError> {
    let wrap = |source| ConfigError::Matcher {
        context: context.to_string(),
        source,
    };
    let mut out = Vec::new();
    for (k, v) in eq.into_iter().flatten() {
        check_legacy_key(k)?;
        out.push(new_matcher(MatchOp::Equal, k, v.as_deref().unwrap_or("")).map_err(wrap)?);
    }
    for (k, v) in re.into_iter().flatten() {
        check_legacy_key(k)?;
        let v = v
            .as_deref()
            .ok_or_else(|| ConfigError::NullRegex(k.clone()))?;
        // Legacy regexes are anchored when decoded, and again when the matcher is built.
        let anchored = format!("^(?:{v})$");
        out.push(new_matcher(MatchOp::RegexMatch, k, &anchored).map_err(wrap)?);
    }
    for s in list.into_iter().flatten() {
        out.extend(parse_matchers(s).map_err(wrap)?);
    }
    out.sort_by(|a, b| {
        a.name()
            .cmp(b.name())
            .then_with(|| shown_value(a).cmp(&shown_value(b)))
            .then_with(|| a.op().cmp(&b.op()))
    });
    Ok(out)
}

fn check_names(
    list: &[String],
    which: &'static str,
    mode: NameValidation,
) -> Result<(), ConfigError> {
    for n in list {
        let ok = match mode {
            NameValidation::Utf8 => !n.is_empty(),
            NameValidation::Legacy => exposition::labels::is_valid_legacy_label_name(n),
        };
        if !ok {
            return Err(ConfigError::InvalidLabelNameInList {
                name: n.clone(),
                list: which,
            });
        }
    }
    Ok(())
}

fn duration_field(v: &Option<String>, field: &str) -> Result<Option<i64>, ConfigError> {
    v.as_deref()
        .map(|s| {
            parse_duration(s).map_err(|source| ConfigError::Duration {
                field: field.to_string(),
                source,
            })
        })
        .transpose()
}

/// Flattens the raw tree into nodes (pre-order), applying inheritance.
fn build_tree(root: &RawRoute, names: NameValidation) -> Result<Vec<Route>, ConfigError> {
    let defaults = Route {
        id: RouteId(0),
        parent: None,
        children: Vec::new(),
        receiver: String::new(),
        group_by: GroupBy::Labels(Vec::new()),
        group_wait_ms: DEFAULT_GROUP_WAIT_MS,
        group_interval_ms: DEFAULT_GROUP_INTERVAL_MS,
        repeat_interval_ms: DEFAULT_REPEAT_INTERVAL_MS,
        matchers: Vec::new(),
        continue_matching: false,
        mute_time_intervals: Vec::new(),
        active_time_intervals: Vec::new(),
        labels: BTreeMap::new(),
        key: String::new(),
    };
    let mut nodes = Vec::new();
    add_node(root, &defaults, None, names, &mut nodes)?;
    Ok(nodes)
}

fn add_node(
    raw: &RawRoute,
    parent: &Route,
    parent_id: Option<RouteId>,
    names: NameValidation,
    nodes: &mut Vec<Route>,
) -> Result<RouteId, ConfigError> {
    let matchers = collect_matchers(
        raw.match_eq.as_ref(),
        raw.match_re.as_ref(),
        raw.matchers.as_ref(),
        "route matchers",
    )?;
    let group_by = match &raw.group_by {
        None => parent.group_by.clone(),
        Some(list) => {
            // Alertmanager's order: names, then `...` with names, then duplicates. `...`
            // may repeat.
            let named: Vec<String> = list.iter().filter(|l| *l != "...").cloned().collect();
            let all = named.len() < list.len();
            check_names(&named, "group_by", names)?;
            if all && !named.is_empty() {
                return Err(ConfigError::WildcardWithOthers);
            }
            let mut seen = HashSet::new();
            for l in &named {
                if !seen.insert(l.as_str()) {
                    return Err(ConfigError::DuplicateGroupBy(l.clone()));
                }
            }
            if all {
                GroupBy::All
            } else {
                GroupBy::Labels(list.clone())
            }
        }
    };
    let group_wait_ms =
        duration_field(&raw.group_wait, "group_wait")?.unwrap_or(parent.group_wait_ms);
    let group_interval_ms =
        duration_field(&raw.group_interval, "group_interval")?.unwrap_or(parent.group_interval_ms);
    let repeat_interval_ms = duration_field(&raw.repeat_interval, "repeat_interval")?
        .unwrap_or(parent.repeat_interval_ms);
    if group_interval_ms == 0 {
        return Err(ConfigError::ZeroGroupInterval);
    }
    if repeat_interval_ms == 0 {
        return Err(ConfigError::ZeroRepeatInterval);
    }
    let mut labels = parent.labels.clone();
    if let Some(l) = &raw.labels {
        labels.extend(l.iter().map(|(k, v)| (k.clone(), v.clone())));
    }
    let own = crate::matchers::matchers_to_string(&matchers);
    let key = match parent_id {
        None => own,
        Some(_) => format!("{}/{}", parent.key, own),
    };
    let id = RouteId(nodes.len());
    let node = Route {
        id,
        parent: parent_id,
        children: Vec::new(),
        receiver: raw
            .receiver
            .clone()
            .filter(|r| !r.is_empty())
            .unwrap_or_else(|| parent.receiver.clone()),
        group_by,
        group_wait_ms,
        group_interval_ms,
        repeat_interval_ms,
        matchers,
        continue_matching: raw.continue_matching.unwrap_or(false),
        mute_time_intervals: raw.mute_time_intervals.clone().unwrap_or_default(),
        active_time_intervals: raw.active_time_intervals.clone().unwrap_or_default(),
        labels,
        key,
    };
    nodes.push(node);
    let snapshot = nodes[id.0].clone();
    let mut children = Vec::new();
    for child in raw.routes.iter().flatten() {
        children.push(add_node(child, &snapshot, Some(id), names, nodes)?);
    }
    nodes[id.0].children = children;
    Ok(id)
}

fn build_inhibit_rule(
    r: &RawInhibitRule,
    names: NameValidation,
) -> Result<InhibitRule, ConfigError> {
    let source = collect_matchers(
        r.source_match.as_ref(),
        r.source_match_re.as_ref(),
        r.source_matchers.as_ref(),
        "inhibit rule source_matchers",
    )?;
    let target = collect_matchers(
        r.target_match.as_ref(),
        r.target_match_re.as_ref(),
        r.target_matchers.as_ref(),
        "inhibit rule target_matchers",
    )?;
    let equal = r.equal.clone().unwrap_or_default();
    check_names(&equal, "equal", names)?;
    Ok(InhibitRule {
        name: r.name.clone(),
        source,
        target,
        equal,
    })
}

fn build_time_interval(
    ti: &RawTimeInterval,
) -> Result<TimeInterval, crate::error::TimeIntervalError> {
    let mut specs = Vec::new();
    for s in ti.time_intervals.iter().flatten() {
        let mut spec = TimeSpec::parse(
            &[],
            &refs(&s.weekdays),
            &refs(&s.days_of_month),
            &refs(&s.months),
            &refs(&s.years),
            None,
        )?;
        if let Some(times) = &s.times {
            let mut ranges = Vec::new();
            for t in times {
                let (Some(a), Some(b)) = (&t.start_time, &t.end_time) else {
                    return Err(TimeIntervalError::MissingTime);
                };
                ranges.push(parse_time_range(a, b)?);
            }
            spec.times = Some(ranges);
        }
        if let Some(loc) = &s.location {
            spec.location = Some(parse_location(loc)?);
        }
        specs.push(spec);
    }
    Ok(TimeInterval::new(specs))
}

fn refs(v: &Option<Vec<String>>) -> Vec<&str> {
    v.iter().flatten().map(String::as_str).collect()
}

#[cfg(test)]
mod tests;
