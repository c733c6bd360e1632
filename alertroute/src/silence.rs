//! Silences: "is this alert muted by a person right now, and by which silence?"
//!
//! A silence holds matchers (ANDed) and a time window; it is *pending* before `starts_at`,
//! *active* from `starts_at` to `ends_at` (both inclusive) and *expired* after. Only active
//! silences mute. Creating and updating follow Alertmanager: a start in the past is moved to
//! now; an update keeps the id only when the matchers are unchanged and the change is
//! allowed for the silence's state, otherwise the old silence is expired and a new id is made.
//!
//! State replicates like Alertmanager's gossip: [`Silences::snapshot`] gives bytes,
//! [`Silences::merge`] folds another replica's snapshot in, keeping per id the copy with the
//! newest `updated_at` (ties broken deterministically), so replicas converge whatever the
//! order of merges.
//!
//! ```
//! use alertroute::silence::{Silence, Silences, SilenceState};
//! use alertroute::matchers::parse_matchers;
//! use exposition::Labels;
//! let mut s = Silences::new("replica-a");
//! let id = s.set(Silence::new(parse_matchers("job=api").unwrap(), 0, 3_600_000), 0).unwrap();
//! let labels = Labels::from_pairs(&[("job", "api")]);
//! assert_eq!(s.mutes(&labels, 60_000), vec![id.clone()]);
//! assert_eq!(s.get(&id).unwrap().state(7_200_000), SilenceState::Expired);
//! ```

use std::collections::{BTreeMap, HashMap};

use exposition::{Labels, MatchOp, Matcher};
use serde::{Deserialize, Serialize};

use crate::error::SilenceError;
use crate::matchers::new_matcher;

/// Where a silence is in its life at a given instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SilenceState {
    /// Before `starts_at`.
    Pending,
    /// Between `starts_at` and `ends_at`, inclusive.
    Active,
    /// After `ends_at`.
    Expired,
}

/// One silence. Times are milliseconds since the epoch.
#[derive(Debug, Clone, PartialEq)]
pub struct Silence {
    /// The id (assigned on creation; empty on a new silence).
    pub id: String,
    /// Matchers, ANDed.
    pub matchers: Vec<Matcher>,
    /// Start of the window.
    pub starts_at: i64,
    /// End of the window.
    pub ends_at: i64,
    /// Last change (set by [`Silences`]).
    pub updated_at: i64,
    /// Who made it.
    pub created_by: String,
    /// Why.
    pub comment: String,
}

impl Silence {
    /// A new silence (no id yet) for the window `[starts_at, ends_at]`.
    pub fn new(matchers: Vec<Matcher>, starts_at: i64, ends_at: i64) -> Silence {
        Silence {
            id: String::new(),
            matchers,
            starts_at,
            ends_at,
            updated_at: 0,
            created_by: String::new(),
            comment: String::new(),
        }
    }

    /// The state at `now_ms`.
    pub fn state(&self, now_ms: i64) -> SilenceState {
        if now_ms < self.starts_at {
            SilenceState::Pending
        } else if now_ms > self.ends_at {
            SilenceState::Expired
        } else {
            SilenceState::Active
        }
    }

    /// Whether every matcher holds for `labels` (absent labels read as "").
    pub fn matches(&self, labels: &Labels) -> bool {
        exposition::matches_all(&self.matchers, labels)
    }

    fn validate(&self) -> Result<(), SilenceError> {
        if self.matchers.is_empty() {
            return Err(SilenceError::NoMatchers);
        }
        let mut all_empty = true;
        for m in &self.matchers {
            if m.name().is_empty() {
                return Err(SilenceError::InvalidLabelName(String::new()));
            }
            let empty = match m.op() {
                MatchOp::Equal | MatchOp::RegexMatch => m.matches(""),
                _ => false,
            };
            all_empty &= empty;
        }
        if all_empty {
            return Err(SilenceError::AllMatchEmpty);
        }
        if self.ends_at < self.starts_at {
            return Err(SilenceError::EndBeforeStart);
        }
        Ok(())
    }

    /// Total order used to break ties between two copies with equal `updated_at`.
    fn tiebreak(&self) -> (i64, i64, i64, &str, &str) {
        (
            self.updated_at,
            self.ends_at,
            self.starts_at,
            &self.comment,
            &self.created_by,
        )
    }
}

/// The silence store of one replica.
#[derive(Debug, Clone)]
pub struct Silences {
    replica: String,
    seq: u64,
    by_id: BTreeMap<String, Silence>,
    index: MatchIndex,
    version: u64,
}

/// Copies of the silences filed under one of their equality matchers (`name` -> `value`),
/// so [`Silences::mutes`] only checks silences that can match; the rest are always checked.
/// Rebuilt after every change.
#[derive(Debug, Clone, Default)]
struct MatchIndex {
    eq: HashMap<String, HashMap<String, Vec<Silence>>>,
    rest: Vec<Silence>,
}

impl MatchIndex {
    fn build(by_id: &BTreeMap<String, Silence>) -> MatchIndex {
        let mut idx = MatchIndex::default();
        for s in by_id.values() {
            let key = s
                .matchers
                .iter()
                .find(|m| m.op() == MatchOp::Equal && !m.value().is_empty());
            match key {
                Some(m) => idx
                    .eq
                    .entry(m.name().to_string())
                    .or_default()
                    .entry(m.value().to_string())
                    .or_default()
                    .push(s.clone()),
                None => idx.rest.push(s.clone()),
            }
        }
        idx
    }
}

#[derive(Serialize, Deserialize)]
struct WireMatcher {
    name: String,
    op: String,
    value: String,
}

#[derive(Serialize, Deserialize)]
struct WireSilence {
    id: String,
    matchers: Vec<WireMatcher>,
    starts_at: i64,
    ends_at: i64,
    updated_at: i64,
    created_by: String,
    comment: String,
}

fn op_from_str(s: &str) -> Option<MatchOp> {
    Some(match s {
        "=" => MatchOp::Equal,
        "!=" => MatchOp::NotEqual,
        "=~" => MatchOp::RegexMatch,
        "!~" => MatchOp::RegexNoMatch,
        _ => return None,
    })
}

pub(crate) fn json_error_offset(bytes: &[u8], e: &serde_json::Error) -> usize {
    // Convert serde_json's line/column into a byte offset.
    let mut line = 1;
    let mut offset = 0;
    for (i, b) in bytes.iter().enumerate() {
        if line == e.line() {
            offset = i;
            break;
        }
        if *b == b'\n' {
            line += 1;
        }
    }
    (offset + e.column().saturating_sub(1)).min(bytes.len())
}

impl Silences {
    /// An empty store; `replica` names this instance and seeds its ids.
    pub fn new(replica: &str) -> Silences {
        Silences {
            replica: replica.to_string(),
            seq: 0,
            by_id: BTreeMap::new(),
            index: MatchIndex::default(),
            version: 0,
        }
    }

    fn new_id(&mut self, now_ms: i64) -> String {
        loop {
            self.seq += 1;
            let seed = format!("{}\u{0}{}\u{0}{}", self.replica, self.seq, now_ms);
            let h = xxhash_rust::xxh3::xxh3_128(seed.as_bytes());
            // Format as a version-4-shaped UUID.
            let b = h.to_be_bytes();
            let id = format!(
                "{:02x}{:02x}{:02x}{:02x}-{:02x}{:02x}-4{:01x}{:02x}-{:01x}{:01x}{:02x}-{:02x}{:02x}{:02x}{:02x}{:02x}{:02x}",
                b[0], b[1], b[2], b[3], b[4], b[5], b[6] & 0xf, b[7], 8 | (b[8] & 0x3), b[8] >> 4, b[9],
                b[10], b[11], b[12], b[13], b[14], b[15]
            );
            if !self.by_id.contains_key(&id) {
                return id;
            }
        }
    }

    /// Creates or updates a silence and returns its id (a new one when the update could
    /// not be done in place). An unknown non-empty id is an error.
    pub fn set(&mut self, mut s: Silence, now_ms: i64) -> Result<String, SilenceError> {
        s.validate()?;
        if !s.id.is_empty() {
            let prev = self
                .by_id
                .get(&s.id)
                .cloned()
                .ok_or_else(|| SilenceError::NotFound(s.id.clone()))?;
            if can_update(&prev, &s, now_ms) {
                s.updated_at = now_ms;
                self.by_id.insert(s.id.clone(), s.clone());
                self.reindex();
                return Ok(s.id);
            }
            if prev.state(now_ms) != SilenceState::Expired {
                self.expire(&prev.id, now_ms)?;
            }
        }
        if s.starts_at < now_ms {
            s.starts_at = now_ms;
        }
        if s.ends_at < s.starts_at {
            return Err(SilenceError::EndBeforeStart);
        }
        s.id = self.new_id(now_ms);
        s.updated_at = now_ms;
        let id = s.id.clone();
        self.by_id.insert(id.clone(), s);
        self.reindex();
        Ok(id)
    }

    /// Expires a silence: an active one ends now, a pending one starts and ends now, an
    /// expired one is left alone.
    pub fn expire(&mut self, id: &str, now_ms: i64) -> Result<(), SilenceError> {
        let s = self
            .by_id
            .get_mut(id)
            .ok_or_else(|| SilenceError::NotFound(id.to_string()))?;
        match s.state(now_ms) {
            SilenceState::Expired => return Ok(()),
            SilenceState::Active => s.ends_at = now_ms,
            SilenceState::Pending => {
                s.starts_at = now_ms;
                s.ends_at = now_ms;
            }
        }
        s.updated_at = now_ms;
        self.reindex();
        Ok(())
    }

    /// A silence by id.
    pub fn get(&self, id: &str) -> Option<&Silence> {
        self.by_id.get(id)
    }

    /// Number of silences held (all states).
    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    /// Whether no silence is held.
    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    /// Silences that carry every one of `filter` (same name, operator and value) and, when
    /// `state` is given, are in that state at `now_ms`.
    pub fn query(
        &self,
        filter: &[Matcher],
        state: Option<SilenceState>,
        now_ms: i64,
    ) -> Vec<&Silence> {
        self.by_id
            .values()
            .filter(|s| filter.iter().all(|f| s.matchers.contains(f)))
            .filter(|s| match state {
                None => true,
                Some(st) => s.state(now_ms) == st,
            })
            .collect()
    }

    /// Ids of the active silences that mute `labels` at `now_ms`, sorted.
    pub fn mutes(&self, labels: &Labels, now_ms: i64) -> Vec<String> {
        self.scan(labels, Some(now_ms))
    }

    /// Ids of every silence (in any state) whose matchers match `labels`, sorted. Matching
    /// does not depend on time, so callers can cache this per alert until
    /// [`version`](Self::version) changes and filter with [`active_among`](Self::active_among).
    pub fn matching(&self, labels: &Labels) -> Vec<String> {
        self.scan(labels, None)
    }

    /// The ids in `ids` whose silence is active at `now_ms`.
    pub fn active_among(&self, ids: &[String], now_ms: i64) -> Vec<String> {
        ids.iter()
            .filter(|id| {
                self.by_id
                    .get(*id)
                    .is_some_and(|s| s.state(now_ms) == SilenceState::Active)
            })
            .cloned()
            .collect()
    }

    /// A counter that changes whenever the set of silences or any of them changes.
    pub fn version(&self) -> u64 {
        self.version
    }

    fn scan(&self, labels: &Labels, now_ms: Option<i64>) -> Vec<String> {
        let mut out = Vec::new();
        let mut check = |s: &Silence| {
            let live = match now_ms {
                Some(t) => s.state(t) == SilenceState::Active,
                None => true,
            };
            if live && s.matches(labels) {
                out.push(s.id.clone());
            }
        };
        self.index.rest.iter().for_each(&mut check);
        if !self.index.eq.is_empty() {
            for l in labels.iter() {
                if let Some(list) = self.index.eq.get(&l.name).and_then(|m| m.get(&l.value)) {
                    list.iter().for_each(&mut check);
                }
            }
        }
        out.sort();
        out
    }

    fn reindex(&mut self) {
        self.index = MatchIndex::build(&self.by_id);
        self.version += 1;
    }

    /// Drops silences expired for longer than `retention_ms`.
    pub fn gc(&mut self, now_ms: i64, retention_ms: i64) {
        let before = self.by_id.len();
        self.by_id
            .retain(|_, s| s.ends_at.saturating_add(retention_ms) >= now_ms);
        if self.by_id.len() != before {
            self.reindex();
        }
    }

    /// The whole state as bytes (JSON), sorted by id.
    pub fn snapshot(&self) -> Vec<u8> {
        let wire: Vec<WireSilence> = self
            .by_id
            .values()
            .map(|s| WireSilence {
                id: s.id.clone(),
                matchers: s
                    .matchers
                    .iter()
                    .map(|m| WireMatcher {
                        name: m.name().to_string(),
                        op: m.op().as_str().to_string(),
                        value: crate::matchers::shown_value(m).into_owned(),
                    })
                    .collect(),
                starts_at: s.starts_at,
                ends_at: s.ends_at,
                updated_at: s.updated_at,
                created_by: s.created_by.clone(),
                comment: s.comment.clone(),
            })
            .collect();
        serde_json::to_vec(&wire).unwrap_or_default()
    }

    fn decode(bytes: &[u8]) -> Result<Vec<Silence>, SilenceError> {
        let wire: Vec<WireSilence> =
            serde_json::from_slice(bytes).map_err(|e| SilenceError::CorruptSnapshot {
                offset: json_error_offset(bytes, &e),
                reason: e.to_string(),
            })?;
        let mut out = Vec::with_capacity(wire.len());
        for w in wire {
            let mut matchers = Vec::new();
            for m in w.matchers {
                let op = op_from_str(&m.op).ok_or_else(|| SilenceError::CorruptSnapshot {
                    offset: 0,
                    reason: format!("unknown operator {:?}", m.op),
                })?;
                matchers.push(new_matcher(op, &m.name, &m.value).map_err(|e| {
                    SilenceError::CorruptSnapshot {
                        offset: 0,
                        reason: e.to_string(),
                    }
                })?);
            }
            out.push(Silence {
                id: w.id,
                matchers,
                starts_at: w.starts_at,
                ends_at: w.ends_at,
                updated_at: w.updated_at,
                created_by: w.created_by,
                comment: w.comment,
            });
        }
        Ok(out)
    }

    /// Replaces the state with a snapshot's.
    pub fn restore(&mut self, bytes: &[u8]) -> Result<(), SilenceError> {
        let list = Silences::decode(bytes)?;
        self.by_id = list.into_iter().map(|s| (s.id.clone(), s)).collect();
        self.reindex();
        Ok(())
    }

    /// Folds another replica's snapshot in; per id the newer `updated_at` wins.
    /// Returns how many silences changed here.
    pub fn merge(&mut self, bytes: &[u8]) -> Result<usize, SilenceError> {
        let mut changed = 0;
        for s in Silences::decode(bytes)? {
            let take = match self.by_id.get(&s.id) {
                None => true,
                Some(cur) => s.tiebreak() > cur.tiebreak(),
            };
            if take {
                self.by_id.insert(s.id.clone(), s);
                changed += 1;
            }
        }
        if changed > 0 {
            self.reindex();
        }
        Ok(changed)
    }
}

fn can_update(prev: &Silence, new: &Silence, now_ms: i64) -> bool {
    if prev.matchers != new.matchers {
        return false;
    }
    match prev.state(now_ms) {
        SilenceState::Active => new.starts_at == prev.starts_at && new.ends_at >= now_ms,
        SilenceState::Pending => new.starts_at >= now_ms,
        SilenceState::Expired => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matchers::parse_matchers;

    fn sil(m: &str, s: i64, e: i64) -> Silence {
        Silence::new(parse_matchers(m).unwrap(), s, e)
    }

    #[test]
    fn states_are_inclusive() {
        let s = sil("a=1", 10, 20);
        assert_eq!(s.state(9), SilenceState::Pending);
        assert_eq!(s.state(10), SilenceState::Active);
        assert_eq!(s.state(20), SilenceState::Active);
        assert_eq!(s.state(21), SilenceState::Expired);
    }

    #[test]
    fn validation() {
        let mut st = Silences::new("r");
        assert_eq!(st.set(sil("", 0, 10), 0), Err(SilenceError::NoMatchers));
        assert_eq!(
            st.set(sil(r#"foo="""#, 0, 10), 0),
            Err(SilenceError::AllMatchEmpty)
        );
        assert!(st.set(sil(r#"foo=~".*", bar!="""#, 0, 10), 0).is_ok());
        assert_eq!(
            st.set(sil("a=1", 10, 5), 0),
            Err(SilenceError::EndBeforeStart)
        );
    }

    #[test]
    fn create_moves_start_to_now() {
        let mut st = Silences::new("r");
        let id = st.set(sil("a=1", 0, 100), 50).unwrap();
        assert_eq!(st.get(&id).unwrap().starts_at, 50);
        assert_eq!(id.len(), 36);
    }

    #[test]
    fn update_in_place_or_replace() {
        let mut st = Silences::new("r");
        let id = st.set(sil("a=1", 0, 100), 0).unwrap();
        // Active, same start, new end in the future: in place.
        let mut upd = st.get(&id).unwrap().clone();
        upd.ends_at = 200;
        assert_eq!(st.set(upd.clone(), 10).unwrap(), id);
        assert_eq!(st.get(&id).unwrap().ends_at, 200);
        // Changed matchers: old one expired, new id.
        upd.matchers = parse_matchers("a=2").unwrap();
        let id2 = st.set(upd, 20).unwrap();
        assert_ne!(id2, id);
        assert_eq!(st.get(&id).unwrap().ends_at, 20);
        assert_eq!(st.get(&id).unwrap().state(21), SilenceState::Expired);
        // Unknown id.
        let mut ghost = sil("a=1", 0, 10);
        ghost.id = "nope".into();
        assert_eq!(st.set(ghost, 0), Err(SilenceError::NotFound("nope".into())));
    }

    #[test]
    fn expire_by_state() {
        let mut st = Silences::new("r");
        let pending = st.set(sil("a=1", 100, 200), 0).unwrap();
        let active = st.set(sil("a=2", 0, 200), 0).unwrap();
        st.expire(&pending, 50).unwrap();
        st.expire(&active, 50).unwrap();
        let p = st.get(&pending).unwrap();
        assert_eq!((p.starts_at, p.ends_at), (50, 50));
        assert_eq!(st.get(&active).unwrap().ends_at, 50);
        assert!(st.mutes(&Labels::from_pairs(&[("a", "2")]), 51).is_empty());
    }

    #[test]
    fn pending_does_not_mute_and_query_filters() {
        let mut st = Silences::new("r");
        let id = st.set(sil("a=1", 100, 200), 0).unwrap();
        let l = Labels::from_pairs(&[("a", "1")]);
        assert!(st.mutes(&l, 50).is_empty());
        assert_eq!(st.mutes(&l, 150), vec![id.clone()]);
        let f = parse_matchers("a=1").unwrap();
        assert_eq!(st.query(&f, Some(SilenceState::Pending), 50).len(), 1);
        assert_eq!(st.query(&f, Some(SilenceState::Active), 50).len(), 0);
        assert_eq!(st.query(&parse_matchers("a=2").unwrap(), None, 50).len(), 0);
    }

    /// The index finds exactly what a scan of every silence finds.
    #[test]
    fn indexed_mutes_equal_full_scan() {
        let mut st = Silences::new("r");
        let shapes = [
            "job=j{i}",
            r#"job=~"j{i}|x""#,
            "job=j{i},env!=prod",
            r#"env="", job!=j{i}"#,
            r#"inst=~"i{i}.*""#,
        ];
        for i in 0..60 {
            let m = shapes[i % shapes.len()].replace("{i}", &(i % 9).to_string());
            let start = (i as i64 % 4) * 10;
            st.set(sil(&m, start, start + 100), 0).unwrap();
        }
        for j in 0..9 {
            for env in ["prod", "dev", ""] {
                for t in [0, 15, 105, 200] {
                    let inst = format!("i{j}x");
                    let job = format!("j{j}");
                    let l = Labels::from_pairs(&[
                        ("job", job.as_str()),
                        ("env", env),
                        ("inst", inst.as_str()),
                    ]);
                    let want: Vec<String> = st
                        .by_id
                        .values()
                        .filter(|s| s.state(t) == SilenceState::Active && s.matches(&l))
                        .map(|s| s.id.clone())
                        .collect();
                    assert_eq!(st.mutes(&l, t), want, "{l} at {t}");
                }
            }
        }
    }

    /// Three replicas doing random creates, expiries and pairwise merges converge to the
    /// same state once everyone has merged everyone.
    #[test]
    fn three_replicas_converge() {
        let mut x: u64 = 99;
        let mut rnd = move |n: u64| {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (x >> 33) % n
        };
        for round in 0..50 {
            let mut rs = [Silences::new("a"), Silences::new("b"), Silences::new("c")];
            let mut now = 0;
            for _ in 0..40 {
                now += rnd(1000) as i64;
                let i = rnd(3) as usize;
                match rnd(4) {
                    0 | 1 => {
                        let m = format!("k=v{}", rnd(5));
                        rs[i]
                            .set(sil(&m, now, now + rnd(5000) as i64), now)
                            .unwrap();
                    }
                    2 => {
                        let ids: Vec<String> = rs[i].by_id.keys().cloned().collect();
                        if !ids.is_empty() {
                            let id = &ids[rnd(ids.len() as u64) as usize];
                            rs[i].expire(id, now).unwrap();
                        }
                    }
                    _ => {
                        let j = rnd(3) as usize;
                        let snap = rs[j].snapshot();
                        rs[i].merge(&snap).unwrap();
                    }
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
            assert_eq!(rs[0].snapshot(), rs[1].snapshot(), "round {round}");
            assert_eq!(rs[1].snapshot(), rs[2].snapshot(), "round {round}");
        }
    }

    #[test]
    fn snapshot_restore_and_merge_converge() {
        let mut a = Silences::new("a");
        let mut b = Silences::new("b");
        let ia = a.set(sil("x=1", 0, 100), 0).unwrap();
        let ib = b.set(sil("y=1", 0, 100), 5).unwrap();
        b.merge(&a.snapshot()).unwrap();
        a.merge(&b.snapshot()).unwrap();
        assert_eq!(a.snapshot(), b.snapshot());
        // A newer change on one side wins on both.
        a.expire(&ib, 20).unwrap();
        b.merge(&a.snapshot()).unwrap();
        assert_eq!(b.get(&ib).unwrap().ends_at, 20);
        assert_eq!(b.merge(&a.snapshot()).unwrap(), 0, "idempotent");
        let mut c = Silences::new("c");
        c.restore(&b.snapshot()).unwrap();
        assert!(c.get(&ia).is_some());
        assert!(matches!(
            c.restore(b"[{"),
            Err(SilenceError::CorruptSnapshot { .. })
        ));
    }
}
