//! The dispatcher: "given the alerts so far, what must be sent now, and when should I call
//! again?"
//!
//! No threads and no clock: the caller passes `now` (ms) to [`Dispatcher::insert`] and
//! [`Dispatcher::tick`], and asks [`Dispatcher::next_deadline`] when to tick next. Each due
//! group is flushed *at its own deadline* (the flush time is the deadline, not the tick's
//! `now`), and `insert` first runs every flush that was due strictly before it, so any tick
//! schedule yields the same notifications as ticking exactly at every deadline. At one
//! instant, inserts come before the flush: insert the batch for time `t`, then `tick(t)`.
//!
//! A flush runs Alertmanager's pipeline for the route's receiver: inhibition, active and mute
//! time intervals, silences, then for each integration the dedup check against the
//! notification log, the send (a [`Notification`] handed to the caller) and the log write.
//! Resolved alerts that were part of a flush are then forgotten by the group.
//!
//! ```
//! use alertroute::{Alert, Config, Dispatcher};
//! use exposition::Labels;
//! let cfg = Config::load("route: {receiver: hook, group_wait: 10s}\nreceivers: [{name: hook}]").unwrap();
//! let mut d = Dispatcher::new(cfg, "replica-0");
//! d.insert(Alert::new(Labels::from_pairs(&[("alertname", "Down")]), 0), 0);
//! assert_eq!(d.next_deadline(), Some(10_000));
//! assert!(d.tick(9_999).is_empty());
//! let sent = d.tick(10_000);
//! assert_eq!(sent.len(), 1);
//! assert_eq!(sent[0].group_key, "{}:{}");
//! ```

use std::collections::{BTreeSet, HashMap};

use exposition::Labels;

use crate::alert::Alert;
use crate::config::{Config, Integration};
use crate::group::{Group, GroupId};
use crate::inhibit::Inhibitor;
use crate::nflog::{needs_update, Key, NotificationLog, Reason};
use crate::route::{group_key, Route, RouteId};
use crate::silence::Silences;

/// Knobs of the dispatcher.
#[derive(Debug, Clone)]
pub struct DispatcherOptions {
    /// Put the muted alerts and what muted them into each notification.
    pub report_muted: bool,
    /// Cap on notification-log entry lifetime (`--data.retention`, default 120h).
    pub retention_ms: i64,
}

impl Default for DispatcherOptions {
    fn default() -> Self {
        DispatcherOptions {
            report_muted: false,
            retention_ms: 120 * 3_600_000,
        }
    }
}

/// An alert that a flush left out, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct MutedAlert {
    /// The alert's fingerprint.
    pub fingerprint: u64,
    /// Fingerprint of the firing source alert that inhibits it.
    pub inhibited_by: Option<u64>,
    /// Ids of the active silences that match it.
    pub silenced_by: Vec<String>,
    /// Whether a mute or active time interval muted the whole flush.
    pub time_muted: bool,
}

/// One message for one integration of a receiver: what the caller should deliver.
#[derive(Debug, Clone)]
pub struct Notification {
    /// The flush time (ms) this notification belongs to.
    pub at: i64,
    /// The receiver name.
    pub receiver: String,
    /// The integration (`None` for a receiver that has no integrations configured).
    pub integration: Option<Integration>,
    /// The route node the group belongs to.
    pub route: RouteId,
    /// Route labels (master's `routeLabels`).
    pub route_labels: std::collections::BTreeMap<String, String>,
    /// The group key string.
    pub group_key: String,
    /// The group labels.
    pub group_labels: Labels,
    /// Firing alerts (with `ends_at` cleared) and, if the integration sends them, resolved
    /// ones, in Alertmanager's order.
    pub alerts: Vec<Alert>,
    /// Why this is sent.
    pub reason: Reason,
    /// Muted alerts of the group, when [`DispatcherOptions::report_muted`] is on.
    pub muted: Vec<MutedAlert>,
}

impl Notification {
    /// Whether any alert in the message is firing (`status: firing`).
    pub fn is_firing(&self) -> bool {
        self.alerts.iter().any(|a| a.ends_at.is_none())
    }

    /// Firing alerts.
    pub fn firing(&self) -> impl Iterator<Item = &Alert> {
        self.alerts.iter().filter(|a| a.ends_at.is_none())
    }

    /// Resolved alerts.
    pub fn resolved(&self) -> impl Iterator<Item = &Alert> {
        self.alerts.iter().filter(|a| a.ends_at.is_some())
    }
}

struct Stored {
    alert: Alert,
    groups: usize,
}

/// Routes alerts into groups and decides, at each flush, what to notify.
pub struct Dispatcher {
    config: Config,
    opts: DispatcherOptions,
    alerts: HashMap<u64, Stored>,
    groups: HashMap<GroupId, Group>,
    index: HashMap<RouteId, HashMap<Labels, GroupId>>,
    schedule: BTreeSet<(i64, GroupId)>,
    next_group: u64,
    inhibitor: Inhibitor,
    /// The silences consulted at flush time (add, expire and merge through it).
    pub silences: Silences,
    /// The notification log consulted and written at flush time.
    pub nflog: NotificationLog,
    outbox: Vec<Notification>,
    route_buf: Vec<RouteId>,
    /// Per alert fingerprint: the silences version and the ids of the silences (any
    /// state) that match it, so unchanged silences are not re-matched at every flush.
    silence_cache: HashMap<u64, (u64, Vec<String>)>,
}

impl Dispatcher {
    /// A dispatcher for `config`; `replica` names this instance (silence ids are seeded
    /// with it).
    pub fn new(config: Config, replica: &str) -> Dispatcher {
        Dispatcher::with_options(config, replica, DispatcherOptions::default())
    }

    /// A dispatcher with explicit options.
    pub fn with_options(config: Config, replica: &str, opts: DispatcherOptions) -> Dispatcher {
        let inhibitor = Inhibitor::new(config.inhibit_rules.clone());
        Dispatcher {
            config,
            opts,
            alerts: HashMap::new(),
            groups: HashMap::new(),
            index: HashMap::new(),
            schedule: BTreeSet::new(),
            next_group: 0,
            inhibitor,
            silences: Silences::new(replica),
            nflog: NotificationLog::new(),
            outbox: Vec::new(),
            route_buf: Vec::new(),
            silence_cache: HashMap::new(),
        }
    }

    /// The configuration in use.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Number of alerts held.
    pub fn alert_count(&self) -> usize {
        self.alerts.len()
    }

    /// Number of aggregation groups.
    pub fn group_count(&self) -> usize {
        self.groups.len()
    }

    /// The groups (unordered).
    pub fn groups(&self) -> impl Iterator<Item = &Group> {
        self.groups.values()
    }

    /// Adds or updates an alert at `now_ms`. An alert without `ends_at` resolves after
    /// `resolve_timeout`; re-posting it extends that.
    pub fn insert(&mut self, mut alert: Alert, now_ms: i64) {
        // Flushes due strictly before `now` happen first; a flush due at `now` sees every
        // alert inserted at `now` (insert the batch for an instant, then tick it).
        self.run_due(now_ms.saturating_sub(1));
        if alert.ends_at.is_none() {
            alert.ends_at = Some(now_ms.saturating_add(self.config.resolve_timeout_ms));
            alert.timeout = true;
        }
        alert.updated_at = now_ms;
        let fp = alert.fingerprint();
        let alert = match self.alerts.get(&fp) {
            Some(old) if !old.alert.resolved_at(now_ms) => old.alert.merge(&alert),
            _ => alert,
        };
        self.inhibitor.observe(&alert);

        let mut ids = std::mem::take(&mut self.route_buf);
        ids.clear();
        ids.extend(self.config.route.route(&alert.labels).iter().map(|r| r.id));
        let mut added = 0;
        for &rid in &ids {
            let route = self.config.route.get(rid).expect("route id from this tree");
            let gl = route.group_by.group_labels(&alert.labels);
            let gid = match self.index.get(&rid).and_then(|m| m.get(&gl)) {
                Some(g) => *g,
                None => {
                    let gid = GroupId(self.next_group);
                    self.next_group += 1;
                    let mut next = now_ms.saturating_add(route.group_wait_ms);
                    if alert.starts_at.saturating_add(route.group_wait_ms) < now_ms {
                        next = now_ms;
                    }
                    let key = group_key(&route.key, &gl);
                    self.groups
                        .insert(gid, Group::new(gid, rid, gl.clone(), key, now_ms, next));
                    self.index.entry(rid).or_default().insert(gl, gid);
                    self.schedule.insert((next, gid));
                    gid
                }
            };
            let g = self.groups.get_mut(&gid).expect("indexed group exists");
            if g.upsert(fp, alert.clone()) {
                added += 1;
            }
        }
        self.route_buf = ids;
        let entry = self.alerts.entry(fp).or_insert(Stored {
            alert: alert.clone(),
            groups: 0,
        });
        entry.alert = alert;
        entry.groups += added;
    }

    /// Switches to a new configuration at `now_ms`, as Alertmanager's reload does: silences,
    /// the notification log and the alerts are kept; groups are rebuilt by routing every
    /// held alert through the new tree (so alerts older than `group_wait` flush at once,
    /// and the log keeps unchanged groups from being notified again).
    pub fn reload(&mut self, config: Config, now_ms: i64) {
        self.run_due(now_ms.saturating_sub(1));
        let alerts: Vec<Alert> = self.alerts.drain().map(|(_, s)| s.alert).collect();
        self.inhibitor = Inhibitor::new(config.inhibit_rules.clone());
        self.config = config;
        self.groups.clear();
        self.index.clear();
        self.schedule.clear();
        // Resolved alerts not yet forgotten are replayed too: the log decides whether a
        // "resolved" message is still owed.
        for a in alerts {
            self.reinsert(a, now_ms);
        }
    }

    /// Inserts an alert that is already held (keeps its times and update stamp).
    fn reinsert(&mut self, alert: Alert, now_ms: i64) {
        let updated = alert.updated_at;
        let timeout = alert.timeout;
        self.insert(alert.clone(), now_ms);
        if let Some(s) = self.alerts.get_mut(&alert.fingerprint()) {
            s.alert.updated_at = updated;
            s.alert.timeout = timeout;
        }
    }

    /// An alert held by the dispatcher, by fingerprint.
    pub fn alert(&self, fingerprint: u64) -> Option<&Alert> {
        self.alerts.get(&fingerprint).map(|s| &s.alert)
    }

    /// Why an alert would be muted at `now_ms` (the API's `suppressed` state with
    /// `inhibitedBy` / `silencedBy`); `None` when it is not held.
    pub fn status(&self, fingerprint: u64, now_ms: i64) -> Option<MutedAlert> {
        let a = &self.alerts.get(&fingerprint)?.alert;
        Some(MutedAlert {
            fingerprint,
            inhibited_by: self.inhibitor.inhibited_by(&a.labels, now_ms),
            silenced_by: self.silences.mutes(&a.labels, now_ms),
            time_muted: false,
        })
    }

    /// Inserts a batch of alerts received at `now_ms`.
    pub fn insert_all(&mut self, alerts: impl IntoIterator<Item = Alert>, now_ms: i64) {
        for a in alerts {
            self.insert(a, now_ms);
        }
    }

    /// Runs every flush due at or before `now_ms` and returns the notifications to send.
    pub fn tick(&mut self, now_ms: i64) -> Vec<Notification> {
        self.run_due(now_ms);
        self.inhibitor.gc(now_ms);
        self.nflog.gc(now_ms);
        self.silences.gc(now_ms, self.opts.retention_ms);
        std::mem::take(&mut self.outbox)
    }

    /// When [`tick`](Self::tick) next has something to do (a flush time, or an already due
    /// notification), or `None` when no group exists.
    pub fn next_deadline(&self) -> Option<i64> {
        let pending = self.outbox.iter().map(|n| n.at).min();
        let sched = self.schedule.first().map(|(d, _)| *d);
        match (pending, sched) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    fn run_due(&mut self, now_ms: i64) {
        while let Some(&(at, gid)) = self.schedule.first() {
            if at > now_ms {
                break;
            }
            self.schedule.pop_first();
            self.flush(gid, at);
        }
    }

    fn flush(&mut self, gid: GroupId, at: i64) {
        let Some(group) = self.groups.get_mut(&gid) else {
            return;
        };
        if group.is_empty() {
            self.drop_group(gid);
            return;
        }
        let route = self
            .config
            .route
            .get(group.route)
            .expect("group route from this tree");
        group.next_flush = at.saturating_add(route.group_interval_ms);
        // At the end of time the timer cannot move forward; flush once more and stop.
        let saturated = group.next_flush <= at;
        self.schedule.insert((group.next_flush, gid));
        group.ensure_sorted();
        let group = &*group;
        let ordered = group.ordered();
        let cx = FlushCtx {
            config: &self.config,
            inhibitor: &self.inhibitor,
            silences: &self.silences,
            nflog: &mut self.nflog,
            outbox: &mut self.outbox,
            opts: &self.opts,
            silence_cache: &mut self.silence_cache,
        };
        cx.notify(route, group, &ordered, at);
        drop(ordered);

        // Forget the alerts that were resolved in this flush. (Nothing can update them
        // between the flush and here: the caller is not running concurrently.)
        let group = self.groups.get_mut(&gid).expect("group still present");
        let removed = group.remove_resolved(at);
        let empty = group.is_empty();
        for fp in removed {
            if let Some(s) = self.alerts.get_mut(&fp) {
                s.groups = s.groups.saturating_sub(1);
                if s.groups == 0 {
                    self.alerts.remove(&fp);
                    self.silence_cache.remove(&fp);
                }
            }
        }
        if empty || saturated {
            self.drop_group(gid);
        }
    }

    fn drop_group(&mut self, gid: GroupId) {
        if let Some(g) = self.groups.remove(&gid) {
            self.schedule.remove(&(g.next_flush, gid));
            if let Some(m) = self.index.get_mut(&g.route) {
                m.remove(&g.labels);
            }
        }
    }
}

/// What a flush reads and writes, borrowed from the dispatcher field by field.
struct FlushCtx<'a> {
    config: &'a Config,
    inhibitor: &'a Inhibitor,
    silences: &'a Silences,
    nflog: &'a mut NotificationLog,
    outbox: &'a mut Vec<Notification>,
    opts: &'a DispatcherOptions,
    silence_cache: &'a mut HashMap<u64, (u64, Vec<String>)>,
}

impl FlushCtx<'_> {
    fn time_muted(&self, route: &Route, at: i64) -> bool {
        let ti = &self.config.time_intervals;
        if !route.active_time_intervals.is_empty()
            && !route
                .active_time_intervals
                .iter()
                .any(|n| ti.get(n).is_some_and(|i| i.contains(at)))
        {
            return true;
        }
        route
            .mute_time_intervals
            .iter()
            .any(|n| ti.get(n).is_some_and(|i| i.contains(at)))
    }

    /// Active silences muting an alert at `at`, through the per-alert match cache.
    fn silenced_by(&mut self, a: &Alert, fp: u64, at: i64) -> Vec<String> {
        let version = self.silences.version();
        if self.silences.is_empty() {
            return Vec::new();
        }
        let entry = self
            .silence_cache
            .entry(fp)
            .or_insert((u64::MAX, Vec::new()));
        if entry.0 != version {
            *entry = (version, self.silences.matching(&a.labels));
        }
        if entry.1.is_empty() {
            return Vec::new();
        }
        self.silences.active_among(&entry.1, at)
    }

    fn notify(mut self, route: &Route, group: &Group, alerts: &[(&Alert, u64, u64)], at: i64) {
        let key = group.key.as_str();
        let labels = &group.labels;
        let report = self.opts.report_muted;
        let mut muted = Vec::new();
        let mut kept: Vec<(&Alert, u64)> = Vec::with_capacity(alerts.len());
        let time_muted = self.time_muted(route, at);
        for &(a, fp, h) in alerts {
            let inhibited_by = self.inhibitor.inhibited_by(&a.labels, at);
            let silenced_by = if inhibited_by.is_none() || report {
                self.silenced_by(a, fp, at)
            } else {
                Vec::new()
            };
            if inhibited_by.is_none() && !time_muted && silenced_by.is_empty() {
                kept.push((a, h));
            } else if report {
                muted.push(MutedAlert {
                    fingerprint: fp,
                    inhibited_by,
                    silenced_by,
                    time_muted,
                });
            }
        }
        if kept.is_empty() {
            return;
        }
        let mut firing = Vec::with_capacity(kept.len());
        let mut resolved = Vec::new();
        for &(a, h) in &kept {
            if a.resolved_at(at) {
                resolved.push(h);
            } else {
                firing.push(h);
            }
        }
        let Some(receiver) = self.config.receiver(&route.receiver) else {
            return;
        };
        let integrations: Vec<Option<&Integration>> = if receiver.integrations.is_empty() {
            vec![None]
        } else {
            receiver.integrations.iter().map(Some).collect()
        };
        let expiry = route
            .repeat_interval_ms
            .saturating_mul(2)
            .min(self.opts.retention_ms);
        for integ in integrations {
            let (kind, index, send_resolved) = match integ {
                Some(i) => (i.kind.to_string(), i.index, i.send_resolved),
                None => ("none".to_string(), 0, true),
            };
            let nkey = Key {
                group_key: key.to_string(),
                receiver: route.receiver.clone(),
                integration: kind,
                index,
            };
            let Some(reason) = needs_update(
                self.nflog.get(&nkey),
                &firing,
                &resolved,
                send_resolved,
                route.repeat_interval_ms,
                at,
            ) else {
                continue;
            };
            let out: Vec<Alert> = kept
                .iter()
                .map(|(a, _)| *a)
                .filter(|a| send_resolved || !a.resolved_at(at))
                .map(|a| {
                    let mut c = a.clone();
                    if !c.resolved_at(at) {
                        c.ends_at = None;
                    }
                    c
                })
                .collect();
            if !out.is_empty() {
                self.outbox.push(Notification {
                    at,
                    receiver: route.receiver.clone(),
                    integration: integ.cloned(),
                    route: route.id,
                    route_labels: route.labels.clone(),
                    group_key: key.to_string(),
                    group_labels: labels.clone(),
                    alerts: out,
                    reason,
                    muted: muted.clone(),
                });
            }
            self.nflog.log(
                nkey,
                firing.clone(),
                resolved.clone(),
                at,
                at.saturating_add(expiry),
            );
        }
    }
}

#[cfg(test)]
mod tests;
