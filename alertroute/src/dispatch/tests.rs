//! Timing, muting and dedup semantics of SEMANTICS.md §3–§6, driven with explicit time.

use super::*;
use crate::matchers::parse_matchers;
use crate::silence::Silence;

const S: i64 = 1_000;
const M: i64 = 60 * S;

fn cfg(yaml: &str) -> Config {
    Config::load(yaml).unwrap()
}

fn basic() -> Config {
    cfg("route: {receiver: r, group_by: [alertname], group_wait: 30s, group_interval: 5m, repeat_interval: 1h}\nreceivers: [{name: r}]")
}

fn alert(name: &str, extra: &[(&str, &str)], start: i64) -> Alert {
    let mut pairs = vec![("alertname", name)];
    pairs.extend_from_slice(extra);
    Alert::new(Labels::from_pairs(&pairs), start).with_ends_at(i64::MAX / 2)
}

/// Ticks at every deadline up to `until` and returns (time, receiver, alertnames, reason).
fn run(d: &mut Dispatcher, until: i64) -> Vec<(i64, String, Vec<String>, Reason)> {
    let mut out = Vec::new();
    while let Some(t) = d.next_deadline() {
        if t > until {
            break;
        }
        for n in d.tick(t) {
            let names = n
                .alerts
                .iter()
                .map(|a| {
                    let s = a.labels.get("alertname").unwrap_or("").to_string();
                    if a.ends_at.is_some() {
                        format!("{s}(resolved)")
                    } else {
                        s
                    }
                })
                .collect();
            out.push((n.at, n.receiver.clone(), names, n.reason));
        }
    }
    out
}

#[test]
fn first_notification_after_group_wait() {
    let mut d = Dispatcher::new(basic(), "t");
    d.insert(alert("A", &[], 0), 0);
    d.insert(alert("A", &[("x", "1")], 10 * S), 10 * S);
    let sent = run(&mut d, 31 * S);
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].0, 30 * S);
    assert_eq!(sent[0].2, ["A", "A"]);
    assert_eq!(sent[0].3, Reason::FirstNotification);
}

#[test]
fn new_alert_waits_for_group_interval_not_group_wait() {
    let mut d = Dispatcher::new(basic(), "t");
    d.insert(alert("A", &[], 0), 0);
    assert_eq!(run(&mut d, 30 * S).len(), 1);
    d.insert(alert("A", &[("x", "2")], M), M);
    // Not at 1m + 30s: at the next flush on the grid, 30s + 5m.
    let sent = run(&mut d, 10 * M);
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].0, 30 * S + 5 * M);
    assert_eq!(sent[0].3, Reason::NewAlertsAdded);
}

#[test]
fn repeat_interval_rounds_up_to_the_flush_grid() {
    let mut d = Dispatcher::new(basic(), "t");
    d.insert(alert("A", &[], 0), 0);
    let sent = run(&mut d, 3 * 3_600 * S);
    let times: Vec<i64> = sent.iter().map(|s| s.0).collect();
    // 30s, then the first flush where last_sent < now - 1h (strict): 30s + 65m.
    assert_eq!(times, [30 * S, 30 * S + 65 * M, 30 * S + 130 * M]);
    assert_eq!(sent[1].3, Reason::RepeatIntervalElapsed);
}

#[test]
fn resolved_alert_is_sent_once_then_forgotten() {
    // No group_by: A and B share the route's single group.
    let c = cfg("route: {receiver: r, group_wait: 30s, group_interval: 5m, repeat_interval: 1h}\nreceivers: [{name: r}]");
    let mut d = Dispatcher::new(c, "t");
    d.insert(alert("A", &[], 0), 0);
    d.insert(alert("B", &[], 0), 0);
    run(&mut d, 30 * S);
    // A resolves at 1m: reported at the next flush (5m30s), then dropped from the group.
    d.insert(alert("A", &[], 0).with_ends_at(M), M);
    let sent = run(&mut d, 6 * M);
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].0, 30 * S + 5 * M);
    assert_eq!(sent[0].2, ["A(resolved)", "B"]);
    assert_eq!(sent[0].3, Reason::SomeAlertsResolved);
    assert_eq!(d.alert_count(), 1);
    // B resolves: "all alerts resolved", then the group is gone.
    d.insert(alert("B", &[], 0).with_ends_at(7 * M), 7 * M);
    let sent = run(&mut d, 20 * M);
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].2, ["B(resolved)"]);
    assert_eq!(sent[0].3, Reason::AllAlertsResolved);
    assert_eq!(d.group_count(), 0);
    assert_eq!(d.next_deadline(), None);
}

#[test]
fn alert_without_ends_at_resolves_after_resolve_timeout() {
    let c = cfg("global: {resolve_timeout: 2m}\nroute: {receiver: r, group_wait: 10s, group_interval: 1m}\nreceivers: [{name: r}]");
    let mut d = Dispatcher::new(c, "t");
    d.insert(Alert::new(Labels::from_pairs(&[("alertname", "A")]), 0), 0);
    let sent = run(&mut d, 10 * M);
    let times: Vec<(i64, Reason)> = sent.iter().map(|s| (s.0, s.3)).collect();
    // Fires at 10s; ends_at = 2m, so the flush at 2m10s reports it resolved.
    assert_eq!(
        times,
        [
            (10 * S, Reason::FirstNotification),
            (2 * M + 10 * S, Reason::AllAlertsResolved)
        ]
    );
    // Re-posting extends the timeout.
    let mut d = Dispatcher::new(cfg("global: {resolve_timeout: 2m}\nroute: {receiver: r, group_wait: 10s, group_interval: 1m}\nreceivers: [{name: r}]"), "t");
    let a = Alert::new(Labels::from_pairs(&[("alertname", "A")]), 0);
    d.insert(a.clone(), 0);
    d.insert(a, 90 * S);
    let sent = run(&mut d, 10 * M);
    // Ends at 3m30s; the flush at 3m10s is before that, the one at 4m10s reports it.
    assert_eq!(sent[1].0, 4 * M + 10 * S);
}

#[test]
fn fire_and_resolve_within_group_wait_sends_nothing() {
    let mut d = Dispatcher::new(basic(), "t");
    d.insert(alert("A", &[], 0), 0);
    d.insert(alert("A", &[], 0).with_ends_at(10 * S), 10 * S);
    assert!(run(&mut d, 20 * M).is_empty());
    assert_eq!(d.group_count(), 0);
}

#[test]
fn old_alert_flushes_immediately() {
    let mut d = Dispatcher::new(basic(), "t");
    d.insert(alert("A", &[], 0), 10 * M);
    let sent = run(&mut d, 11 * M);
    assert_eq!(sent[0].0, 10 * M);
}

#[test]
fn each_matched_route_is_its_own_group() {
    let c = cfg(r#"
route:
  receiver: default
  group_wait: 0s
  routes:
    - {matchers: ['team=~"a|b"'], receiver: audit, continue: true}
    - {matchers: ['team="a"'], receiver: ta}
receivers: [{name: default}, {name: audit}, {name: ta}]
"#);
    let mut d = Dispatcher::new(c, "t");
    d.insert(alert("X", &[("team", "a")], 0), 0);
    d.insert(alert("Y", &[("team", "z")], 0), 0);
    let mut recv: Vec<String> = run(&mut d, S).into_iter().map(|s| s.1).collect();
    recv.sort();
    assert_eq!(recv, ["audit", "default", "ta"]);
    assert_eq!(d.group_count(), 3);
}

#[test]
fn inhibition_is_evaluated_at_flush_time() {
    let c = cfg(r#"
route: {receiver: r, group_by: [alertname], group_wait: 0s, group_interval: 1m}
receivers: [{name: r}]
inhibit_rules:
  - source_matchers: [severity="critical"]
    target_matchers: [severity="warning"]
    equal: [cluster]
"#);
    let mut d = Dispatcher::with_options(
        c,
        "t",
        DispatcherOptions {
            report_muted: true,
            ..Default::default()
        },
    );
    d.insert(
        alert("Crit", &[("severity", "critical"), ("cluster", "x")], 0),
        0,
    );
    d.insert(
        alert("Warn", &[("severity", "warning"), ("cluster", "x")], 0),
        0,
    );
    d.insert(
        alert("Warn2", &[("severity", "warning"), ("cluster", "y")], 0),
        0,
    );
    let out = d.tick(0);
    let names: Vec<&str> = out
        .iter()
        .map(|n| n.group_labels.get("alertname").unwrap())
        .collect();
    assert!(names.contains(&"Crit") && names.contains(&"Warn2") && !names.contains(&"Warn"));
    // The source resolves: the target is sent at its group's next flush, as new.
    d.insert(
        alert("Crit", &[("severity", "critical"), ("cluster", "x")], 0).with_ends_at(30 * S),
        30 * S,
    );
    let out = d.tick(M);
    let warn = out
        .iter()
        .find(|n| n.group_labels.get("alertname") == Some("Warn"))
        .expect("Warn sent after its source resolved");
    assert_eq!(warn.reason, Reason::FirstNotification);
    assert_eq!(warn.at, M);
}

#[test]
fn silences_mute_and_are_reported() {
    let mut d = Dispatcher::with_options(
        basic(),
        "t",
        DispatcherOptions {
            report_muted: true,
            ..Default::default()
        },
    );
    let id = d
        .silences
        .set(Silence::new(parse_matchers("x=1").unwrap(), 0, 10 * M), 0)
        .unwrap();
    d.insert(alert("A", &[("x", "1")], 0), 0);
    d.insert(alert("A", &[("x", "2")], 0), 0);
    let out = d.tick(30 * S);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].alerts.len(), 1);
    assert_eq!(out[0].muted.len(), 1);
    assert_eq!(out[0].muted[0].silenced_by, vec![id.clone()]);
    let fp = alert("A", &[("x", "1")], 0).fingerprint();
    assert_eq!(d.status(fp, 60 * S).unwrap().silenced_by, vec![id.clone()]);
    assert!(d.status(fp, 11 * M).unwrap().silenced_by.is_empty());
    assert!(d.alert(fp).is_some());
    // When the silence ends the alert looks new and is sent at the next flush.
    let sent = run(&mut d, 20 * M);
    assert_eq!(sent[0].0, 30 * S + 10 * M);
    assert_eq!(sent[0].3, Reason::NewAlertsAdded);
    // Pending silences do nothing.
    let mut d = Dispatcher::new(basic(), "t");
    d.silences
        .set(
            Silence::new(parse_matchers("x=1").unwrap(), 3_600 * S, 7_200 * S),
            0,
        )
        .unwrap();
    d.insert(alert("A", &[("x", "1")], 0), 0);
    assert_eq!(d.tick(30 * S).len(), 1);
}

#[test]
fn silence_changes_after_a_flush_take_effect() {
    let c = cfg("route: {receiver: r, group_wait: 0s, group_interval: 1m, repeat_interval: 1m}\nreceivers: [{name: r}]");
    let mut d = Dispatcher::new(c, "t");
    // A pending silence that becomes active later, with no change to the silences.
    d.silences
        .set(
            Silence::new(parse_matchers("a=2").unwrap(), 90 * S, 10 * M),
            0,
        )
        .unwrap();
    d.insert(alert("A", &[("a", "1")], 0), 0);
    d.insert(alert("B", &[("a", "2")], 0), 0);
    let n = d.tick(0);
    assert_eq!(n[0].alerts.len(), 2, "the silence is still pending");
    // Added after the first flush: the match cache must notice.
    d.silences
        .set(
            Silence::new(parse_matchers("a=1").unwrap(), 0, 10 * M),
            30 * S,
        )
        .unwrap();
    let n = d.tick(M);
    assert!(
        n.is_empty(),
        "A silenced, B unchanged: {:?}",
        n.first().map(|x| &x.alerts)
    );
    let n = d.tick(2 * M);
    assert!(n.is_empty(), "both silenced now");
}

#[test]
fn mute_and_active_time_intervals_at_flush_time() {
    let c = cfg(r#"
route:
  receiver: r
  group_wait: 0s
  group_interval: 1h
  repeat_interval: 30m
  routes:
    - {matchers: [k=mute], mute_time_intervals: [first-half-day]}
    - {matchers: [k=active], active_time_intervals: [first-half-day]}
time_intervals:
  - name: first-half-day
    time_intervals: [{times: [{start_time: "00:00", end_time: "12:00"}]}]
receivers: [{name: r}]
"#);
    let mut d = Dispatcher::new(c, "t");
    d.insert(alert("A", &[("k", "mute")], 0), 0);
    d.insert(alert("B", &[("k", "active")], 0), 0);
    let sent = run(&mut d, 24 * 3_600 * S - 1);
    let a: Vec<i64> = sent
        .iter()
        .filter(|s| s.2 == ["A"])
        .map(|s| s.0 / 3_600_000)
        .collect();
    let b: Vec<i64> = sent
        .iter()
        .filter(|s| s.2 == ["B"])
        .map(|s| s.0 / 3_600_000)
        .collect();
    // A is muted in the morning; first sent at 12:00, then every repeat (1h) until 23:00.
    assert_eq!(a, (12..24).collect::<Vec<_>>());
    // B is only active in the morning: sent 00:00 … 11:00 and then muted.
    assert_eq!(b, (0..12).collect::<Vec<_>>());
}

#[test]
fn send_resolved_false_logs_but_does_not_send() {
    let c = cfg(r#"
route: {receiver: r, group_wait: 0s, group_interval: 1m}
receivers: [{name: r, webhook_configs: [{url: 'http://a', send_resolved: false}, {url: 'http://b'}]}]
"#);
    let mut d = Dispatcher::new(c, "t");
    d.insert(alert("A", &[], 0), 0);
    assert_eq!(d.tick(0).len(), 2);
    d.insert(alert("A", &[], 0).with_ends_at(30 * S), 30 * S);
    let out = d.tick(M);
    assert_eq!(out.len(), 1, "only the integration with send_resolved");
    assert_eq!(out[0].integration.as_ref().unwrap().url(), Some("http://b"));
    assert_eq!(
        d.nflog.len(),
        2,
        "both integrations logged the all-resolved state"
    );
}

#[test]
fn annotation_changes_do_not_trigger_a_send() {
    let mut d = Dispatcher::new(basic(), "t");
    d.insert(alert("A", &[], 0), 0);
    run(&mut d, 30 * S);
    let changed = alert("A", &[], 0).with_annotations(Labels::from_pairs(&[("summary", "new")]));
    d.insert(changed, M);
    assert!(run(&mut d, 30 * M).is_empty());
}

#[test]
fn snapshot_of_nflog_prevents_resend_on_a_peer() {
    let mut a = Dispatcher::new(basic(), "a");
    let mut b = Dispatcher::new(basic(), "b");
    a.insert(alert("A", &[], 0), 0);
    b.insert(alert("A", &[], 0), 0);
    assert_eq!(a.tick(30 * S).len(), 1);
    b.nflog.merge(&a.nflog.snapshot()).unwrap();
    assert!(
        b.tick(30 * S).is_empty(),
        "the peer's log says it was already sent"
    );
}

/// Any tick schedule yields the same notifications as ticking exactly at each deadline.
#[test]
fn tick_schedule_does_not_change_what_is_sent() {
    fn script() -> Vec<(i64, Alert)> {
        let mut v = Vec::new();
        for i in 0..40i64 {
            let name = format!("A{}", i % 7);
            let inst = format!("{}", i % 3);
            let t = i * 37 * S;
            let mut a = Alert::new(
                Labels::from_pairs(&[("alertname", name.as_str()), ("instance", inst.as_str())]),
                t,
            );
            if i % 5 == 0 {
                a = a.with_ends_at(t + 3 * M);
            }
            v.push((t, a));
        }
        v
    }
    let summarize = |ns: Vec<Notification>| -> Vec<String> {
        ns.iter()
            .map(|n| {
                format!(
                    "{} {} {:?} {}",
                    n.at,
                    n.group_key,
                    n.reason,
                    n.alerts
                        .iter()
                        .map(|a| a.labels.to_string())
                        .collect::<Vec<_>>()
                        .join(";")
                )
            })
            .collect()
    };
    let end = 3 * 3_600 * S;
    // Exact: tick at every deadline before each insert (inserts at an instant come first).
    let mut exact = Vec::new();
    let mut d = Dispatcher::new(basic(), "t");
    for (t, a) in script() {
        while let Some(dl) = d.next_deadline().filter(|&dl| dl < t) {
            exact.extend(summarize(d.tick(dl)));
        }
        d.insert(a, t);
    }
    while let Some(dl) = d.next_deadline().filter(|&dl| dl <= end) {
        exact.extend(summarize(d.tick(dl)));
    }
    // Sloppy: tick only every 7 minutes, inserting without ticking first.
    for step in [7 * M, 13 * S, 61 * M] {
        let mut sloppy = Vec::new();
        let mut d = Dispatcher::new(basic(), "t");
        let mut next_tick = 0;
        for (t, a) in script() {
            while next_tick < t {
                sloppy.extend(summarize(d.tick(next_tick)));
                next_tick += step;
            }
            d.insert(a, t);
        }
        while next_tick <= end + step {
            sloppy.extend(summarize(d.tick(next_tick.min(end))));
            next_tick += step;
        }
        assert!(!exact.is_empty());
        assert_eq!(sloppy, exact, "tick step {step}");
    }
}

mod schedule_property {
    use super::*;
    use proptest::prelude::*;

    fn summarize(ns: Vec<Notification>) -> Vec<String> {
        ns.iter()
            .map(|n| {
                let alerts: Vec<String> = n
                    .alerts
                    .iter()
                    .map(|a| {
                        format!(
                            "{}{}",
                            a.labels,
                            if a.ends_at.is_some() { "/r" } else { "" }
                        )
                    })
                    .collect();
                format!(
                    "{} {} {:?} {}",
                    n.at,
                    n.group_key,
                    n.reason,
                    alerts.join(";")
                )
            })
            .collect()
    }

    fn config() -> Config {
        cfg(r#"
route: {receiver: r, group_by: [alertname], group_wait: 20s, group_interval: 2m, repeat_interval: 7m}
receivers: [{name: r}]
inhibit_rules: [{source_matchers: [sev=crit], target_matchers: [sev=warn], equal: [alertname]}]
"#)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        /// Random alert streams: ticking on any grid gives what ticking at every deadline gives.
        #[test]
        fn any_tick_grid_matches_exact_deadlines(
            events in proptest::collection::vec((0i64..5_400, 0u8..4, 0u8..2, proptest::option::of(1i64..600)), 1..40),
            step in 1i64..900,
        ) {
            let mut script: Vec<(i64, Alert)> = events
                .into_iter()
                .map(|(t, name, sev, end)| {
                    let t = t * S;
                    let n = format!("A{name}");
                    let sev = if sev == 0 { "crit" } else { "warn" };
                    let mut a = Alert::new(Labels::from_pairs(&[("alertname", n.as_str()), ("sev", sev)]), t);
                    if let Some(e) = end {
                        a = a.with_ends_at(t + e * S);
                    }
                    (t, a)
                })
                .collect();
            script.sort_by_key(|(t, _)| *t);
            let end = 3 * 3_600 * S;

            let mut exact = Vec::new();
            let mut d = Dispatcher::new(config(), "x");
            for (t, a) in script.clone() {
                while let Some(dl) = d.next_deadline().filter(|&dl| dl < t) {
                    exact.extend(summarize(d.tick(dl)));
                }
                d.insert(a, t);
            }
            while let Some(dl) = d.next_deadline().filter(|&dl| dl <= end) {
                exact.extend(summarize(d.tick(dl)));
            }

            let step = step * S;
            let mut grid = Vec::new();
            let mut d = Dispatcher::new(config(), "x");
            let mut next = 0;
            for (t, a) in script {
                while next < t {
                    grid.extend(summarize(d.tick(next)));
                    next += step;
                }
                d.insert(a, t);
            }
            while next <= end {
                grid.extend(summarize(d.tick(next)));
                next += step;
            }
            grid.extend(summarize(d.tick(end)));
            prop_assert_eq!(grid, exact);
        }
    }
}

#[test]
fn reload_keeps_state_and_rebuilds_groups() {
    let mut d = Dispatcher::new(basic(), "t");
    d.insert(alert("A", &[], 0), 0);
    d.insert(alert("B", &[], 0), 0);
    assert_eq!(d.tick(30 * S).len(), 2);
    // Same routing: the rebuilt groups flush at once (old alerts), but the log says
    // nothing changed, so nothing is sent.
    d.reload(basic(), M);
    assert_eq!(d.group_count(), 2);
    assert!(d.tick(M).is_empty());
    // New routing: B now goes to another receiver, which has not been told yet.
    let c = cfg("route: {receiver: r, group_by: [alertname], routes: [{matchers: [alertname=B], receiver: other}]}\nreceivers: [{name: r}, {name: other}]");
    d.reload(c, 2 * M);
    let out = d.tick(2 * M);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].receiver, "other");
    assert_eq!(out[0].group_key, r#"{}/{alertname="B"}:{alertname="B"}"#);
}

#[test]
fn extreme_times_do_not_overflow() {
    let mut d = Dispatcher::new(basic(), "t");
    d.insert(
        Alert::new(Labels::from_pairs(&[("alertname", "A")]), i64::MIN),
        i64::MAX - 5,
    );
    d.insert(
        Alert::new(Labels::from_pairs(&[("alertname", "B")]), 0),
        i64::MIN,
    );
    let _ = d.tick(i64::MAX);
    let _ = d.tick(i64::MAX);
    assert_eq!(
        d.next_deadline(),
        None,
        "every group flushed for the last time"
    );
}
