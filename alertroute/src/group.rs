//! Aggregation groups: "which alerts are notified together, and when is the next flush?"
//!
//! A group is identified by (route node, group labels). It holds its own copy of each alert
//! and one timer: the first flush at `group_wait` after creation (or at once for an alert that
//! started more than `group_wait` ago), then every `group_interval`.

use std::cmp::Ordering;
use std::collections::HashMap;

use exposition::Labels;

use crate::alert::Alert;
use crate::route::RouteId;

/// Identity of a group inside a [`Dispatcher`](crate::Dispatcher).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct GroupId(pub u64);

/// One aggregation group.
#[derive(Debug, Clone)]
pub struct Group {
    /// Its id.
    pub id: GroupId,
    /// The route node it belongs to.
    pub route: RouteId,
    /// The group labels.
    pub labels: Labels,
    /// The group key string (`<route key>:<group labels>`).
    pub key: String,
    /// The next flush time, ms.
    pub next_flush: i64,
    /// When the group was created, ms.
    pub created_at: i64,
    /// Alerts by fingerprint, with their dedup hash (cached: it depends on labels only).
    alerts: HashMap<u64, (Alert, u64)>,
    /// Fingerprints in notification order (valid when `sorted`).
    order: Vec<u64>,
    sorted: bool,
}

/// Alertmanager's notification order: by `job`, then `instance` (alerts lacking the label
/// after those that have it), then the whole label set.
pub fn alert_order(a: &Alert, b: &Alert) -> Ordering {
    for key in ["job", "instance"] {
        match (a.labels.get(key), b.labels.get(key)) {
            (None, None) => continue,
            (None, Some(_)) => return Ordering::Greater,
            (Some(_), None) => return Ordering::Less,
            (Some(x), Some(y)) => {
                if x != y {
                    return x.cmp(y);
                }
            }
        }
    }
    a.labels.cmp(&b.labels)
}

/// Sorts alerts into notification order, looking up `job` and `instance` once per alert.
pub fn sort_alerts(alerts: &mut [&Alert]) {
    let mut keyed: Vec<(Option<&str>, Option<&str>, &Alert)> = alerts
        .iter()
        .map(|a| (a.labels.get("job"), a.labels.get("instance"), *a))
        .collect();
    // `None` sorts after `Some`, unlike Option's own order.
    let cmp_opt = |x: Option<&str>, y: Option<&str>| match (x, y) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Greater,
        (Some(_), None) => Ordering::Less,
        (Some(a), Some(b)) => a.cmp(b),
    };
    keyed.sort_by(|a, b| {
        cmp_opt(a.0, b.0)
            .then_with(|| cmp_opt(a.1, b.1))
            .then_with(|| a.2.labels.cmp(&b.2.labels))
    });
    for (slot, (_, _, a)) in alerts.iter_mut().zip(keyed) {
        *slot = a;
    }
}

impl Group {
    /// An empty group.
    pub(crate) fn new(
        id: GroupId,
        route: RouteId,
        labels: Labels,
        key: String,
        now: i64,
        next: i64,
    ) -> Group {
        Group {
            id,
            route,
            labels,
            key,
            next_flush: next,
            created_at: now,
            alerts: HashMap::new(),
            order: Vec::new(),
            sorted: true,
        }
    }

    /// Number of alerts held.
    pub fn len(&self) -> usize {
        self.alerts.len()
    }

    /// Whether the group holds no alert.
    pub fn is_empty(&self) -> bool {
        self.alerts.is_empty()
    }

    /// The alert with fingerprint `fp`.
    pub fn get(&self, fp: u64) -> Option<&Alert> {
        self.alerts.get(&fp).map(|(a, _)| a)
    }

    /// Adds or replaces an alert; true when it is new to the group.
    pub(crate) fn upsert(&mut self, fp: u64, alert: Alert) -> bool {
        match self.alerts.get_mut(&fp) {
            Some(slot) => {
                slot.0 = alert;
                false
            }
            None => {
                let h = crate::alert::alert_hash(&alert.labels);
                self.alerts.insert(fp, (alert, h));
                self.order.push(fp);
                self.sorted = false;
                true
            }
        }
    }

    /// Removes the alerts resolved at `at`; returns their fingerprints.
    pub(crate) fn remove_resolved(&mut self, at: i64) -> Vec<u64> {
        let gone: Vec<u64> = self
            .alerts
            .iter()
            .filter(|(_, (a, _))| a.resolved_at(at))
            .map(|(fp, _)| *fp)
            .collect();
        if !gone.is_empty() {
            for fp in &gone {
                self.alerts.remove(fp);
            }
            self.order.retain(|fp| self.alerts.contains_key(fp));
        }
        gone
    }

    /// Restores notification order if alerts joined since the last sort.
    pub(crate) fn ensure_sorted(&mut self) {
        if !self.sorted {
            let alerts = &self.alerts;
            let mut refs: Vec<&Alert> = self.order.iter().map(|fp| &alerts[fp].0).collect();
            sort_alerts(&mut refs);
            self.order = refs.iter().map(|a| a.fingerprint()).collect();
            self.sorted = true;
        }
    }

    /// The alerts with their fingerprints and dedup hashes, in notification order (call
    /// [`ensure_sorted`](Self::ensure_sorted) first).
    pub(crate) fn ordered(&self) -> Vec<(&Alert, u64, u64)> {
        self.order
            .iter()
            .map(|fp| {
                let (a, h) = &self.alerts[fp];
                (a, *fp, *h)
            })
            .collect()
    }

    /// The group's alerts in notification order.
    pub fn sorted_alerts(&self) -> Vec<&Alert> {
        let mut v: Vec<&Alert> = self.alerts.values().map(|(a, _)| a).collect();
        sort_alerts(&mut v);
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_job_instance_then_labels() {
        let mk = |p: &[(&str, &str)]| Alert::new(Labels::from_pairs(p), 0);
        let mut v = [
            mk(&[("alertname", "z")]),
            mk(&[("job", "b"), ("instance", "1")]),
            mk(&[("job", "a"), ("instance", "2")]),
            mk(&[("job", "a")]),
            mk(&[("job", "a"), ("instance", "1")]),
            mk(&[("alertname", "a")]),
        ];
        let mut refs: Vec<&Alert> = v.iter().collect();
        sort_alerts(&mut refs);
        let fast: Vec<String> = refs.iter().map(|a| a.labels.to_string()).collect();
        v.sort_by(alert_order);
        let got: Vec<String> = v.iter().map(|a| a.labels.to_string()).collect();
        assert_eq!(fast, got);
        assert_eq!(
            got,
            [
                r#"{instance="1", job="a"}"#,
                r#"{instance="2", job="a"}"#,
                r#"{job="a"}"#,
                r#"{instance="1", job="b"}"#,
                r#"{alertname="a"}"#,
                r#"{alertname="z"}"#,
            ]
        );
    }
}
