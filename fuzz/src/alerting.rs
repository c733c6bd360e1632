//! Targets over the `alertroute` crate: matcher syntax, `alertmanager.yml`, and the
//! silence and notification-log snapshots a replica restores from disk or a peer.

use alertroute::nflog::NotificationLog;
use alertroute::silence::Silences;
use exposition::{Labels, LabelsBuilder, MatchOp};

/// Alertmanager matcher syntax: both grammars and the fallback combination return a value
/// or an error, never panic; a parsed list prints and re-parses to a list of equal length.
pub fn am_matchers(data: &[u8]) {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    let _ = alertroute::matchers::parse_matchers_utf8(s);
    let _ = alertroute::matchers::parse_matchers_classic(s);
    let _ = alertroute::matchers::parse_matcher(s);
    if let Ok(ms) = alertroute::matchers::parse_matchers(s) {
        let printed = alertroute::matchers::matchers_to_string(&ms);
        if let Ok(again) = alertroute::matchers::parse_matchers_utf8(&printed) {
            assert_eq!(again.len(), ms.len(), "{printed}");
        }
    }
}

/// `alertmanager.yml` loading: any input loads or returns a `ConfigError`, never panics; a
/// loaded config routes an alert to at least one route and prints its tree.
pub fn am_config(data: &[u8]) {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(cfg) = alertroute::Config::load(s) {
        let l = Labels::from_pairs(&[("alertname", "x"), ("severity", "page")]);
        assert!(!cfg.route.route(&l).is_empty());
        let _ = cfg.route.show();
    }
}

/// Silence snapshots: any bytes restore or error, never panic. A restored store snapshots
/// to bytes that restore to the same snapshot, merging it into an empty store takes every
/// silence, and the match index agrees with each silence's own matchers.
pub fn silence_snapshot(data: &[u8]) {
    let mut s = Silences::new("fuzz");
    let _ = s.merge(data);
    let mut s = Silences::new("fuzz");
    if s.restore(data).is_err() {
        return;
    }
    let snap = s.snapshot();
    let mut again = Silences::new("other");
    again.restore(&snap).expect("our own snapshot restores");
    assert_eq!(again.snapshot(), snap, "snapshot is not stable");
    let mut merged = Silences::new("other");
    let n = merged.merge(&snap).expect("our own snapshot merges");
    assert_eq!(n, s.len());
    assert_eq!(merged.snapshot(), snap);

    let all = s.query(&[], None, 0);
    // Probe label sets: each silence's equality matchers, plus a fixed alert.
    let mut probes = vec![Labels::from_pairs(&[("alertname", "x")])];
    for sil in all.iter().take(8) {
        let mut b = LabelsBuilder::new();
        for m in &sil.matchers {
            if m.op() == MatchOp::Equal && !m.name().is_empty() {
                b.set(m.name(), m.value());
            }
        }
        probes.push(b.build());
    }
    for l in &probes {
        let mut want: Vec<String> = all
            .iter()
            .filter(|x| x.matches(l))
            .map(|x| x.id.clone())
            .collect();
        want.sort();
        assert_eq!(s.matching(l), want, "index disagrees for {l}");
        for now in [i64::MIN, 0, 1_000, i64::MAX] {
            let active = s.active_among(&want, now);
            assert_eq!(s.mutes(l, now), active, "mutes at {now} for {l}");
        }
    }
    s.gc(0, 1_000);
}

/// Notification-log snapshots: any bytes restore or error, never panic; a restored log
/// snapshots to bytes that restore to the same snapshot and merge into an empty log whole.
pub fn nflog_snapshot(data: &[u8]) {
    let mut log = NotificationLog::new();
    let _ = log.merge(data);
    let mut log = NotificationLog::new();
    if log.restore(data).is_err() {
        return;
    }
    let snap = log.snapshot();
    let mut again = NotificationLog::new();
    again.restore(&snap).expect("our own snapshot restores");
    assert_eq!(again.snapshot(), snap, "snapshot is not stable");
    let mut merged = NotificationLog::new();
    let n = merged.merge(&snap).expect("our own snapshot merges");
    assert_eq!(n, log.len());
    assert_eq!(merged.snapshot(), snap);
    log.gc(0);
    log.gc(i64::MAX);
}
