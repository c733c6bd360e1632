//! The alert as Alertmanager holds it: labels, annotations, start and end, and its identities.
//!
//! ```
//! use alertroute::Alert;
//! use exposition::Labels;
//! let a = Alert::new(Labels::from_pairs(&[("alertname", "F")]), 1_000);
//! assert!(!a.resolved_at(2_000));
//! assert_eq!(Alert::new(Labels::empty(), 0).fingerprint_hex(), "cbf29ce484222325");
//! ```

use exposition::Labels;

/// One alert. Times are milliseconds since the epoch.
#[derive(Debug, Clone, PartialEq)]
pub struct Alert {
    /// Identifying labels (never an empty value; see [`Alert::new`]).
    pub labels: Labels,
    /// Annotations (not part of the identity).
    pub annotations: Labels,
    /// When the alert started firing.
    pub starts_at: i64,
    /// When it resolves. `None` on input means "resolve after `resolve_timeout`"; the
    /// dispatcher fills it in on [`insert`](crate::Dispatcher::insert).
    pub ends_at: Option<i64>,
    /// Link back to the source of the alert.
    pub generator_url: String,
    /// When this copy was last updated (set by the dispatcher).
    pub updated_at: i64,
    /// Whether `ends_at` was derived from `resolve_timeout` rather than given by the sender.
    pub timeout: bool,
}

impl Alert {
    /// A firing alert with no end; labels with empty values are dropped, as the API does.
    pub fn new(labels: Labels, starts_at: i64) -> Alert {
        let labels = if labels.iter().any(|l| l.value.is_empty()) {
            Labels::from_sorted_unchecked(
                labels
                    .into_vec()
                    .into_iter()
                    .filter(|l| !l.value.is_empty())
                    .collect(),
            )
        } else {
            labels
        };
        Alert {
            labels,
            annotations: Labels::empty(),
            starts_at,
            ends_at: None,
            generator_url: String::new(),
            updated_at: starts_at,
            timeout: false,
        }
    }

    /// Sets `ends_at` (builder style).
    pub fn with_ends_at(mut self, ends_at: i64) -> Alert {
        self.ends_at = Some(ends_at);
        self
    }

    /// Sets the annotations (builder style).
    pub fn with_annotations(mut self, annotations: Labels) -> Alert {
        self.annotations = annotations;
        self
    }

    /// Whether the alert is resolved at `now_ms` (`ends_at <= now`).
    pub fn resolved_at(&self, now_ms: i64) -> bool {
        matches!(self.ends_at, Some(e) if e <= now_ms)
    }

    /// The label fingerprint (FNV-1a 64, as Prometheus's `model.LabelSet.Fingerprint`).
    pub fn fingerprint(&self) -> u64 {
        fingerprint(&self.labels)
    }

    /// The fingerprint as 16 hex digits, as in webhook payloads.
    pub fn fingerprint_hex(&self) -> String {
        format!("{:016x}", self.fingerprint())
    }

    /// Merges a newer copy of the same alert into this one, as `types.Alert.Merge` does: the
    /// newer update wins, the earliest start is kept, and an explicit end beats a timeout.
    pub fn merge(&self, newer: &Alert) -> Alert {
        let (old, new) = if newer.updated_at < self.updated_at {
            (newer, self)
        } else {
            (self, newer)
        };
        let mut res = new.clone();
        if old.starts_at < new.starts_at {
            res.starts_at = old.starts_at;
        }
        // An explicit end set by the sender is kept when the newer copy only has a
        // timeout-derived one that would extend it.
        if new.timeout && !old.timeout {
            if let (Some(oe), Some(ne)) = (old.ends_at, new.ends_at) {
                if oe < ne {
                    res.ends_at = Some(oe);
                    res.timeout = false;
                }
            }
        }
        res
    }
}

const FNV_OFFSET: u64 = 0xcbf29ce484222325;
const FNV_PRIME: u64 = 0x100000001b3;

/// FNV-1a 64 over `name 0xFF value 0xFF` for labels sorted by name.
pub fn fingerprint(labels: &Labels) -> u64 {
    let mut h = FNV_OFFSET;
    for l in labels.iter() {
        for b in l
            .name
            .bytes()
            .chain([0xff])
            .chain(l.value.bytes())
            .chain([0xff])
        {
            h ^= u64::from(b);
            h = h.wrapping_mul(FNV_PRIME);
        }
    }
    h
}

/// The dedup hash of an alert: xxHash64 over `name 0xFF value 0xFF`, labels only.
pub fn alert_hash(labels: &Labels) -> u64 {
    alert_hash_with(labels, &mut Vec::new())
}

/// [`alert_hash`] using a caller-provided scratch buffer (no allocation once it is grown).
pub fn alert_hash_with(labels: &Labels, buf: &mut Vec<u8>) -> u64 {
    buf.clear();
    for l in labels.iter() {
        buf.extend_from_slice(l.name.as_bytes());
        buf.push(0xff);
        buf.extend_from_slice(l.value.as_bytes());
        buf.push(0xff);
    }
    xxhash_rust::xxh64::xxh64(buf, 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprint_matches_prometheus() {
        assert_eq!(fingerprint(&Labels::empty()), 0xcbf29ce484222325);
        // Captured from the live 0.25 server (SEMANTICS.md §9).
        let l = Labels::from_pairs(&[
            ("alertname", "F"),
            ("cluster", "y"),
            ("severity", "warning"),
        ]);
        assert_eq!(format!("{:016x}", fingerprint(&l)), "7e0886d1a60105c4");
        // The dedup hash is xxh64 over the concatenated bytes.
        let bytes = b"alertname\xffF\xffcluster\xffy\xffseverity\xffwarning\xff";
        assert_eq!(alert_hash(&l), xxhash_rust::xxh64::xxh64(bytes, 0));
    }

    #[test]
    fn empty_values_are_dropped() {
        let a = Alert::new(Labels::from_pairs(&[("a", ""), ("b", "1")]), 0);
        assert_eq!(a.labels, Labels::from_pairs(&[("b", "1")]));
    }

    #[test]
    fn merge_keeps_earliest_start_and_explicit_end() {
        let l = Labels::from_pairs(&[("a", "1")]);
        let mut old = Alert::new(l.clone(), 100).with_ends_at(500);
        old.updated_at = 100;
        let mut new = Alert::new(l, 200).with_ends_at(900);
        new.updated_at = 200;
        new.timeout = true;
        let m = old.merge(&new);
        assert_eq!(m.starts_at, 100);
        assert_eq!(m.ends_at, Some(500));
        new.timeout = false;
        assert_eq!(old.merge(&new).ends_at, Some(900));
        assert_eq!(new.merge(&old).ends_at, Some(900));
    }
}
