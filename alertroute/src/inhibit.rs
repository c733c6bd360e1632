//! Inhibition: "is this alert muted because a related alert is firing?"
//!
//! An alert T is muted by rule R when T matches R's target matchers and some alert S that
//! matches R's source matchers is firing and has the same values as T for every label in
//! `equal` (a missing label counts as ""). If T also matches the source side, sources that
//! also match the target side are skipped, so an alert never inhibits itself and two alerts
//! matching both sides never inhibit each other. Any qualifying source counts (v0.25 meaning).
//!
//! ```
//! use alertroute::{Alert, inhibit::{Inhibitor, InhibitRule}};
//! use alertroute::matchers::parse_matchers;
//! use exposition::Labels;
//! let rule = InhibitRule {
//!     name: None,
//!     source: parse_matchers(r#"severity="critical""#).unwrap(),
//!     target: parse_matchers(r#"severity="warning""#).unwrap(),
//!     equal: vec!["cluster".into()],
//! };
//! let mut inh = Inhibitor::new(vec![rule]);
//! inh.observe(&Alert::new(Labels::from_pairs(&[("severity", "critical"), ("cluster", "a")]), 0));
//! let warn_a = Labels::from_pairs(&[("severity", "warning"), ("cluster", "a")]);
//! let warn_b = Labels::from_pairs(&[("severity", "warning"), ("cluster", "b")]);
//! assert!(inh.inhibited_by(&warn_a, 10).is_some());
//! assert!(inh.inhibited_by(&warn_b, 10).is_none());
//! ```

use std::collections::HashMap;

use exposition::{matches_all, Labels, Matcher};

use crate::alert::Alert;

/// One inhibit rule, with legacy and new matcher forms merged.
#[derive(Debug, Clone)]
pub struct InhibitRule {
    /// Optional name (master).
    pub name: Option<String>,
    /// Source matchers (ANDed).
    pub source: Vec<Matcher>,
    /// Target matchers (ANDed).
    pub target: Vec<Matcher>,
    /// Labels that must be equal between source and target.
    pub equal: Vec<String>,
}

impl InhibitRule {
    fn equal_hash(&self, labels: &Labels) -> u64 {
        let mut h = xxhash_rust::xxh3::Xxh3Default::new();
        for n in &self.equal {
            h.update(labels.get(n).unwrap_or("").as_bytes());
            h.update(&[0xff]);
        }
        h.digest()
    }

    fn equal_on(&self, a: &Labels, b: &Labels) -> bool {
        self.equal
            .iter()
            .all(|n| a.get(n).unwrap_or("") == b.get(n).unwrap_or(""))
    }
}

#[derive(Debug, Default, Clone)]
struct SourceCache {
    /// Source alerts by fingerprint.
    alerts: HashMap<u64, Alert>,
    /// Fingerprints by hash of the `equal` label values.
    by_equal: HashMap<u64, Vec<u64>>,
}

/// The rules plus a cache of the alerts that match each rule's source side.
#[derive(Debug, Clone, Default)]
pub struct Inhibitor {
    rules: Vec<InhibitRule>,
    caches: Vec<SourceCache>,
}

impl Inhibitor {
    /// An inhibitor for `rules`, with empty caches.
    pub fn new(rules: Vec<InhibitRule>) -> Inhibitor {
        let caches = vec![SourceCache::default(); rules.len()];
        Inhibitor { rules, caches }
    }

    /// The rules.
    pub fn rules(&self) -> &[InhibitRule] {
        &self.rules
    }

    /// Records an alert (every alert, whatever its routing, silencing or inhibition).
    pub fn observe(&mut self, alert: &Alert) {
        let fp = alert.fingerprint();
        for (rule, cache) in self.rules.iter().zip(&mut self.caches) {
            if !matches_all(&rule.source, &alert.labels) {
                continue;
            }
            if cache.alerts.insert(fp, alert.clone()).is_none() {
                cache
                    .by_equal
                    .entry(rule.equal_hash(&alert.labels))
                    .or_default()
                    .push(fp);
            }
        }
    }

    /// Forgets sources resolved at or before `now_ms`.
    pub fn gc(&mut self, now_ms: i64) {
        for (rule, cache) in self.rules.iter().zip(&mut self.caches) {
            let gone: Vec<u64> = cache
                .alerts
                .iter()
                .filter(|(_, a)| a.resolved_at(now_ms))
                .map(|(fp, _)| *fp)
                .collect();
            for fp in gone {
                if let Some(a) = cache.alerts.remove(&fp) {
                    let h = rule.equal_hash(&a.labels);
                    if let Some(v) = cache.by_equal.get_mut(&h) {
                        v.retain(|x| *x != fp);
                        if v.is_empty() {
                            cache.by_equal.remove(&h);
                        }
                    }
                }
            }
        }
    }

    /// The fingerprint of a firing source that mutes an alert with `labels`, if any.
    pub fn inhibited_by(&self, labels: &Labels, now_ms: i64) -> Option<u64> {
        for (rule, cache) in self.rules.iter().zip(&self.caches) {
            if !matches_all(&rule.target, labels) {
                continue;
            }
            let Some(fps) = cache.by_equal.get(&rule.equal_hash(labels)) else {
                continue;
            };
            let target_is_source = matches_all(&rule.source, labels);
            for fp in fps {
                let src = &cache.alerts[fp];
                if src.resolved_at(now_ms) || !rule.equal_on(&src.labels, labels) {
                    continue;
                }
                if target_is_source && matches_all(&rule.target, &src.labels) {
                    continue;
                }
                return Some(*fp);
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matchers::parse_matchers;

    fn rule(src: &str, tgt: &str, equal: &[&str]) -> InhibitRule {
        InhibitRule {
            name: None,
            source: parse_matchers(src).unwrap(),
            target: parse_matchers(tgt).unwrap(),
            equal: equal.iter().map(|s| s.to_string()).collect(),
        }
    }

    fn alert(pairs: &[(&str, &str)]) -> Alert {
        Alert::new(Labels::from_pairs(pairs), 0)
    }

    #[test]
    fn missing_equal_label_equals_missing() {
        let mut inh = Inhibitor::new(vec![rule("alertname=E", "alertname=D", &["cluster"])]);
        inh.observe(&alert(&[("alertname", "E")]));
        assert!(inh
            .inhibited_by(&Labels::from_pairs(&[("alertname", "D")]), 1)
            .is_some());
        assert!(inh
            .inhibited_by(
                &Labels::from_pairs(&[("alertname", "D"), ("cluster", "x")]),
                1
            )
            .is_none());
    }

    #[test]
    fn never_inhibits_itself_or_two_sided_peers() {
        let mut inh = Inhibitor::new(vec![rule(
            r#"severity="critical""#,
            r#"severity=~"critical|warning""#,
            &[],
        )]);
        let a = alert(&[("alertname", "A"), ("severity", "critical")]);
        let b = alert(&[("alertname", "B"), ("severity", "critical")]);
        let c = alert(&[("alertname", "C"), ("severity", "warning")]);
        for x in [&a, &b, &c] {
            inh.observe(x);
        }
        assert!(inh.inhibited_by(&a.labels, 1).is_none());
        assert!(inh.inhibited_by(&b.labels, 1).is_none());
        assert!(inh.inhibited_by(&c.labels, 1).is_some());
    }

    #[test]
    fn resolved_sources_do_not_inhibit() {
        let mut inh = Inhibitor::new(vec![rule("a=src", "a=tgt", &[])]);
        inh.observe(&Alert::new(Labels::from_pairs(&[("a", "src")]), 0).with_ends_at(100));
        let t = Labels::from_pairs(&[("a", "tgt")]);
        assert!(inh.inhibited_by(&t, 99).is_some());
        assert!(inh.inhibited_by(&t, 100).is_none());
        inh.gc(100);
        assert!(inh.inhibited_by(&t, 50).is_none());
    }

    #[test]
    fn empty_equal_mutes_every_target() {
        let mut inh = Inhibitor::new(vec![rule("a=src", "b=~.+", &[])]);
        inh.observe(&alert(&[("a", "src"), ("z", "1")]));
        assert!(inh
            .inhibited_by(&Labels::from_pairs(&[("b", "x"), ("z", "2")]), 1)
            .is_some());
        assert!(inh
            .inhibited_by(&Labels::from_pairs(&[("c", "x")]), 1)
            .is_none());
    }
}
