//! The notification log: "what was last sent for this group to this integration, and must
//! it be sent again?"
//!
//! An entry is keyed by (group key, receiver, integration kind, integration index) and holds
//! the hashes of the firing and resolved alerts last sent (labels only, so annotation changes
//! never trigger a send) and the flush time. [`needs_update`] is Alertmanager's dedup rule.
//! Like silences, the log snapshots to bytes and merges with another replica's (newer
//! timestamp wins), which is how a cluster avoids sending the same thing twice.
//!
//! ```
//! use alertroute::nflog::{needs_update, Entry, Reason};
//! let e = Entry { firing: vec![1, 2], resolved: vec![], timestamp: 0, expires_at: 100 };
//! assert_eq!(needs_update(None, &[1], &[], true, 50, 10), Some(Reason::FirstNotification));
//! assert_eq!(needs_update(Some(&e), &[1, 2], &[], true, 50, 10), None);
//! assert_eq!(needs_update(Some(&e), &[1, 2, 3], &[], true, 50, 10), Some(Reason::NewAlertsAdded));
//! assert_eq!(needs_update(Some(&e), &[1, 2], &[], true, 50, 51), Some(Reason::RepeatIntervalElapsed));
//! ```

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::NflogError;

/// Why a notification is sent (master's `notification_reason`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reason {
    /// Nothing was sent before for this group and integration, or nothing firing was.
    FirstNotification,
    /// A firing alert that was not in the last notification.
    NewAlertsAdded,
    /// Every alert resolved since the last notification.
    AllAlertsResolved,
    /// Some alerts resolved (integrations with `send_resolved`).
    SomeAlertsResolved,
    /// Unchanged, but `repeat_interval` has passed.
    RepeatIntervalElapsed,
}

impl Reason {
    /// The text Alertmanager puts in the payload.
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::FirstNotification => "first notification",
            Reason::NewAlertsAdded => "new alerts added",
            Reason::AllAlertsResolved => "all alerts resolved",
            Reason::SomeAlertsResolved => "some alerts resolved",
            Reason::RepeatIntervalElapsed => "repeat interval elapsed",
        }
    }
}

/// The identity of a log entry.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Key {
    /// The group key string.
    pub group_key: String,
    /// The receiver name.
    pub receiver: String,
    /// The integration kind (`webhook`, ...; `none` for a receiver without integrations).
    pub integration: String,
    /// The integration's index among those of its kind.
    pub index: usize,
}

/// What was last sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// Sorted hashes of the firing alerts sent.
    pub firing: Vec<u64>,
    /// Sorted hashes of the resolved alerts sent.
    pub resolved: Vec<u64>,
    /// The flush time of that send, ms.
    pub timestamp: i64,
    /// When the entry may be forgotten, ms.
    pub expires_at: i64,
}

fn subset(a: &[u64], sorted_b: &[u64]) -> bool {
    a.iter().all(|x| sorted_b.binary_search(x).is_ok())
}

/// Alertmanager's dedup decision: `Some(reason)` when the current firing and resolved sets
/// (alert hashes) must be sent, given the last entry.
pub fn needs_update(
    entry: Option<&Entry>,
    firing: &[u64],
    resolved: &[u64],
    send_resolved: bool,
    repeat_interval_ms: i64,
    now_ms: i64,
) -> Option<Reason> {
    let Some(e) = entry else {
        return (!firing.is_empty()).then_some(Reason::FirstNotification);
    };
    if !subset(firing, &e.firing) {
        return Some(if e.firing.is_empty() {
            Reason::FirstNotification
        } else {
            Reason::NewAlertsAdded
        });
    }
    if firing.is_empty() {
        return (!e.firing.is_empty()).then_some(Reason::AllAlertsResolved);
    }
    if send_resolved && !subset(resolved, &e.resolved) {
        return Some(Reason::SomeAlertsResolved);
    }
    (e.timestamp < now_ms.saturating_sub(repeat_interval_ms))
        .then_some(Reason::RepeatIntervalElapsed)
}

/// The log of one replica.
#[derive(Debug, Clone, Default)]
pub struct NotificationLog {
    entries: BTreeMap<Key, Entry>,
}

#[derive(Serialize, Deserialize)]
struct WireEntry {
    key: Key,
    entry: Entry,
}

impl NotificationLog {
    /// An empty log.
    pub fn new() -> NotificationLog {
        NotificationLog::default()
    }

    /// The entry for `key`.
    pub fn get(&self, key: &Key) -> Option<&Entry> {
        self.entries.get(key)
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the log is empty.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Records a send (hash lists are sorted here).
    pub fn log(
        &mut self,
        key: Key,
        mut firing: Vec<u64>,
        mut resolved: Vec<u64>,
        now_ms: i64,
        expires_at: i64,
    ) {
        firing.sort_unstable();
        firing.dedup();
        resolved.sort_unstable();
        resolved.dedup();
        self.entries.insert(
            key,
            Entry {
                firing,
                resolved,
                timestamp: now_ms,
                expires_at,
            },
        );
    }

    /// Drops entries expired at `now_ms`; returns how many.
    pub fn gc(&mut self, now_ms: i64) -> usize {
        let before = self.entries.len();
        self.entries.retain(|_, e| e.expires_at > now_ms);
        before - self.entries.len()
    }

    /// The whole log as bytes (JSON).
    pub fn snapshot(&self) -> Vec<u8> {
        let wire: Vec<WireEntry> = self
            .entries
            .iter()
            .map(|(k, e)| WireEntry {
                key: k.clone(),
                entry: e.clone(),
            })
            .collect();
        serde_json::to_vec(&wire).unwrap_or_default()
    }

    fn decode(bytes: &[u8]) -> Result<Vec<WireEntry>, NflogError> {
        serde_json::from_slice(bytes).map_err(|e| NflogError {
            offset: crate::silence::json_error_offset(bytes, &e),
            reason: e.to_string(),
        })
    }

    /// Replaces the log with a snapshot's.
    pub fn restore(&mut self, bytes: &[u8]) -> Result<(), NflogError> {
        self.entries = NotificationLog::decode(bytes)?
            .into_iter()
            .map(|w| (w.key, w.entry))
            .collect();
        Ok(())
    }

    /// Folds another replica's snapshot in (per key, the newer timestamp wins; ties go to
    /// the larger entry so merges commute). Returns how many entries changed.
    pub fn merge(&mut self, bytes: &[u8]) -> Result<usize, NflogError> {
        let mut changed = 0;
        for w in NotificationLog::decode(bytes)? {
            let take = match self.entries.get(&w.key) {
                None => true,
                Some(cur) => {
                    (
                        w.entry.timestamp,
                        &w.entry.firing,
                        &w.entry.resolved,
                        w.entry.expires_at,
                    ) > (cur.timestamp, &cur.firing, &cur.resolved, cur.expires_at)
                }
            };
            if take {
                self.entries.insert(w.key, w.entry);
                changed += 1;
            }
        }
        Ok(changed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(f: &[u64], r: &[u64], ts: i64) -> Entry {
        Entry {
            firing: f.to_vec(),
            resolved: r.to_vec(),
            timestamp: ts,
            expires_at: i64::MAX,
        }
    }

    #[test]
    fn dedup_table() {
        // No entry: only when something fires.
        assert_eq!(needs_update(None, &[], &[1], true, 10, 0), None);
        // An alert disappearing without a new one appearing does not trigger.
        let e = entry(&[1, 2], &[], 0);
        assert_eq!(needs_update(Some(&e), &[1], &[], true, 100, 5), None);
        // All resolved: sent whatever send_resolved says.
        assert_eq!(
            needs_update(Some(&e), &[], &[1, 2], false, 100, 5),
            Some(Reason::AllAlertsResolved)
        );
        // Nothing firing before and now: no.
        assert_eq!(
            needs_update(Some(&entry(&[], &[1], 0)), &[], &[1], true, 100, 5),
            None
        );
        // Firing after an all-resolved entry is a first notification again.
        assert_eq!(
            needs_update(Some(&entry(&[], &[1], 0)), &[1], &[], true, 100, 5),
            Some(Reason::FirstNotification)
        );
        // New resolved alert, only with send_resolved.
        let e = entry(&[1, 2], &[], 0);
        assert_eq!(
            needs_update(Some(&e), &[1], &[2], true, 100, 5),
            Some(Reason::SomeAlertsResolved)
        );
        assert_eq!(needs_update(Some(&e), &[1], &[2], false, 100, 5), None);
        // Repeat is strict.
        assert_eq!(needs_update(Some(&e), &[1, 2], &[], true, 100, 100), None);
        assert_eq!(
            needs_update(Some(&e), &[1, 2], &[], true, 100, 101),
            Some(Reason::RepeatIntervalElapsed)
        );
    }

    fn key(g: &str) -> Key {
        Key {
            group_key: g.into(),
            receiver: "r".into(),
            integration: "webhook".into(),
            index: 0,
        }
    }

    /// Three replicas logging and merging in arbitrary order converge.
    #[test]
    fn three_replicas_converge() {
        let mut x: u64 = 7;
        let mut rnd = move |n: u64| {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (x >> 33) % n
        };
        for _ in 0..50 {
            let mut rs = [
                NotificationLog::new(),
                NotificationLog::new(),
                NotificationLog::new(),
            ];
            for step in 0..60i64 {
                let i = rnd(3) as usize;
                if rnd(3) == 0 {
                    let j = rnd(3) as usize;
                    let snap = rs[j].snapshot();
                    rs[i].merge(&snap).unwrap();
                } else {
                    let g = format!("g{}", rnd(4));
                    // Equal timestamps on different replicas must still converge.
                    let ts = step / 2;
                    rs[i].log(key(&g), vec![rnd(5)], vec![], ts, ts + 1000);
                }
            }
            for _ in 0..2 {
                for i in 0..3 {
                    for j in 0..3 {
                        let snap = rs[j].snapshot();
                        rs[i].merge(&snap).unwrap();
                    }
                }
            }
            assert_eq!(rs[0].snapshot(), rs[1].snapshot());
            assert_eq!(rs[1].snapshot(), rs[2].snapshot());
        }
    }

    #[test]
    fn snapshot_merge_gc() {
        let mut a = NotificationLog::new();
        let mut b = NotificationLog::new();
        a.log(key("g1"), vec![2, 1], vec![], 10, 100);
        b.log(key("g1"), vec![3], vec![], 20, 200);
        b.log(key("g2"), vec![4], vec![], 5, 50);
        let sa = a.snapshot();
        let sb = b.snapshot();
        assert_eq!(a.merge(&sb).unwrap(), 2);
        assert_eq!(b.merge(&sa).unwrap(), 0);
        assert_eq!(a.snapshot(), b.snapshot());
        assert_eq!(a.get(&key("g1")).unwrap().firing, vec![3]);
        assert_eq!(a.gc(60), 1);
        let mut c = NotificationLog::new();
        c.restore(&a.snapshot()).unwrap();
        assert_eq!(c.len(), 1);
        assert!(c.merge(b"{not json").is_err());
    }
}
