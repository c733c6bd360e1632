//! Group evaluation driven by the caller's clock: ordering, staleness, limits, alert state,
//! the Alertmanager hand-off and `for` state restoration.

use exposition::Labels;
use promql::engine::Engine;
use promql::rules::{load_str, AlertState, EvalError, Group, GroupOptions};
use promql::storage::MemStorage;
use promql::value::Value;

const M: i64 = 60_000;

fn group(yaml: &str, opts: &GroupOptions) -> Group {
    let f = load_str("r.yml", yaml).unwrap_or_else(|e| panic!("{e}"));
    Group::new(&f.groups[0], opts).unwrap()
}

fn query(db: &MemStorage, q: &str, t: i64) -> Vec<(String, f64)> {
    let e = promql::parse(q).unwrap();
    match Engine::default().instant_query(db, &e, t).unwrap().value {
        Value::Vector(v) => v.into_iter().map(|s| (s.metric.to_string(), s.f)).collect(),
        other => panic!("{other:?}"),
    }
}

fn up(db: &mut MemStorage, job: &str, t: i64, v: f64) {
    db.append(
        &Labels::from_pairs(&[("__name__", "up"), ("job", job)]),
        t,
        v,
    )
    .unwrap();
}

#[test]
fn disappearing_output_gets_a_staleness_marker() {
    let mut g = group(
        "groups:\n- name: g\n  rules:\n  - record: job:up\n    expr: up\n",
        &GroupOptions::default(),
    );
    let mut db = MemStorage::new();
    up(&mut db, "a", 0, 1.0);
    up(&mut db, "b", 0, 1.0);
    let r = g.eval(0, &mut db);
    assert_eq!((r.samples_written, r.stale_written), (2, 0));
    // b's input goes stale; the rule's b output must end right away, not after 5m lookback.
    up(&mut db, "a", M, 1.0);
    up(&mut db, "b", M, promql::value::stale_nan());
    let r = g.eval(M, &mut db);
    assert_eq!((r.samples_written, r.stale_written), (2, 1));
    assert_eq!(query(&db, "job:up", M + 1).len(), 1);
}

#[test]
fn duplicate_output_labels_fail_only_that_rule() {
    let mut g = group(
        "groups:\n- name: g\n  rules:\n  - record: x\n    expr: up\n    labels:\n      job: same\n  - record: y\n    expr: sum(up)\n",
        &GroupOptions::default(),
    );
    let mut db = MemStorage::new();
    up(&mut db, "a", 0, 1.0);
    up(&mut db, "b", 0, 1.0);
    let r = g.eval(0, &mut db);
    assert_eq!(r.failures.len(), 1);
    assert_eq!(r.failures[0].name, "x");
    assert!(matches!(
        r.failures[0].error,
        EvalError::DuplicateLabelset { .. }
    ));
    assert!(r.failures[0].error.to_string().contains("same labelset"));
    assert_eq!(query(&db, "y", 0), vec![("y".to_string(), 2.0)]);
}

#[test]
fn limit_fails_the_evaluation() {
    let mut g = group(
        "groups:\n- name: g\n  limit: 1\n  rules:\n  - record: x\n    expr: up\n  - alert: A\n    expr: up\n",
        &GroupOptions::default(),
    );
    let mut db = MemStorage::new();
    up(&mut db, "a", 0, 1.0);
    up(&mut db, "b", 0, 1.0);
    let r = g.eval(0, &mut db);
    let msgs: Vec<String> = r.failures.iter().map(|f| f.error.to_string()).collect();
    assert_eq!(
        msgs,
        vec![
            "exceeded limit of 1 with 2 series",
            "exceeded limit of 1 with 2 alerts"
        ]
    );
    assert!(g.active_alerts().is_empty());
    assert!(query(&db, "x", 0).is_empty());
}

#[test]
fn pending_firing_resolved_and_alerts_series() {
    let mut g = group(
        "groups:\n- name: g\n  rules:\n  - alert: Down\n    expr: up == 0\n    for: 2m\n",
        &GroupOptions::default(),
    );
    let mut db = MemStorage::new();
    let vals = [0.0, 0.0, 0.0, 1.0];
    let mut states = Vec::new();
    for (i, v) in vals.iter().enumerate() {
        let t = i as i64 * M;
        up(&mut db, "a", t, *v);
        g.eval(t, &mut db);
        states.push(g.active_alerts().first().map(|a| a.state));
    }
    assert_eq!(
        states,
        vec![
            Some(AlertState::Pending),
            Some(AlertState::Pending),
            Some(AlertState::Firing),
            None
        ]
    );
    assert_eq!(
        query(&db, "ALERTS", 2 * M),
        vec![(
            "ALERTS{alertname=\"Down\", alertstate=\"firing\", job=\"a\"}".to_string(),
            1.0
        )]
    );
    assert_eq!(query(&db, "ALERTS_FOR_STATE", 2 * M)[0].1, 0.0);
    // Resolved: ALERTS is stale at once.
    assert!(query(&db, "ALERTS", 3 * M).is_empty());
    // A pending alert that clears is forgotten, not resolved.
    let mut g2 = group(
        "groups:\n- name: g\n  rules:\n  - alert: Down\n    expr: up == 0\n    for: 5m\n",
        &GroupOptions::default(),
    );
    let mut db = MemStorage::new();
    up(&mut db, "a", 0, 0.0);
    g2.eval(0, &mut db);
    up(&mut db, "a", M, 1.0);
    let r = g2.eval(M, &mut db);
    assert!(r.alerts_to_send.is_empty());
    assert_eq!(
        match &g2.rules()[0] {
            promql::rules::Rule::Alerting(a) => a.all_alerts().count(),
            _ => unreachable!(),
        },
        0
    );
}

#[test]
fn resend_rule_and_alertmanager_shape() {
    let opts = GroupOptions::default()
        .with_external_url("http://prom.example:9090")
        .with_external_labels(Labels::from_pairs(&[("cluster", "eu1"), ("job", "ext")]));
    let mut g = group(
        "groups:\n- name: g\n  interval: 15s\n  rules:\n  - alert: Down\n    expr: up == 0\n    annotations:\n      summary: '{{ $labels.job }} down'\n",
        &opts,
    );
    let mut db = MemStorage::new();
    let mut sent = Vec::new();
    for k in 0..=8 {
        let t = k * 15_000;
        up(&mut db, "a", t, if k < 8 { 0.0 } else { 1.0 });
        let r = g.eval(t, &mut db);
        for a in r.alerts_to_send {
            sent.push((t, a));
        }
    }
    // Firing at 0, re-sent once the resend delay (1m) has passed (at 75s), resolved at 120s.
    let times: Vec<i64> = sent.iter().map(|(t, _)| *t).collect();
    assert_eq!(times, vec![0, 75_000, 120_000]);
    let (_, first) = &sent[0];
    assert_eq!(first.starts_at_ms, 0);
    assert_eq!(first.ends_at_ms, 4 * 60_000); // 4 x max(resend 1m, interval 15s)
    assert_eq!(first.labels.get("cluster"), Some("eu1"));
    assert_eq!(
        first.labels.get("job"),
        Some("a"),
        "alert labels win over external ones"
    );
    assert_eq!(first.annotations.get("summary"), Some("a down"));
    assert_eq!(
        first.generator_url,
        "http://prom.example:9090/graph?g0.expr=up+%3D%3D+0&g0.tab=1"
    );
    let (_, resolved) = &sent[2];
    assert_eq!(resolved.ends_at_ms, 120_000);
    assert!(resolved.resolved_at(120_000));
    let j = first.to_json();
    assert_eq!(j["startsAt"], "1970-01-01T00:00:00Z");
    assert_eq!(j["endsAt"], "1970-01-01T00:04:00Z");
    assert_eq!(j["labels"]["alertname"], "Down");
    assert_eq!(j["annotations"]["summary"], "a down");
    assert_eq!(j["generatorURL"], first.generator_url.as_str());
}

#[test]
fn resolved_alerts_are_kept_fifteen_minutes() {
    let mut g = group(
        "groups:\n- name: g\n  rules:\n  - alert: Down\n    expr: up == 0\n",
        &GroupOptions::default(),
    );
    let mut db = MemStorage::new();
    let count = |g: &Group| match &g.rules()[0] {
        promql::rules::Rule::Alerting(a) => a.all_alerts().count(),
        _ => unreachable!(),
    };
    up(&mut db, "a", 0, 0.0);
    g.eval(0, &mut db);
    for k in 1..=17 {
        up(&mut db, "a", k * M, 1.0);
        g.eval(k * M, &mut db);
        // Resolved at 1m; still tracked while now - resolved <= 15m.
        assert_eq!(count(&g), usize::from(k <= 16), "k={k}");
    }
}

#[test]
fn query_offset_shifts_the_query_and_output_time() {
    let mut g = group(
        "groups:\n- name: g\n  query_offset: 1m\n  rules:\n  - record: x\n    expr: up\n",
        &GroupOptions::default(),
    );
    let mut db = MemStorage::new();
    up(&mut db, "a", 0, 5.0);
    up(&mut db, "a", 2 * M, 7.0);
    g.eval(2 * M, &mut db);
    // Evaluated at 1m, so it saw the value from t=0 and wrote it at t=1m.
    assert_eq!(query(&db, "x", M), vec![("x{job=\"a\"}".to_string(), 5.0)]);
}

#[test]
fn evaluation_slots_are_spread_by_group_hash() {
    let mk = |name: &str| {
        group(
            &format!(
                "groups:\n- name: {name}\n  interval: 1m\n  rules:\n  - record: x\n    expr: up\n"
            ),
            &GroupOptions::default(),
        )
    };
    let (a, b) = (mk("a"), mk("b"));
    let now = 1_700_000_000_123;
    for g in [&a, &b] {
        let slot = g.eval_timestamp(now);
        assert!(slot <= now && now - slot < M);
        let next = g.next_eval_ms(now);
        assert!(next > now && next - slot == M, "{slot} {next}");
        // Same offset in every interval.
        assert_eq!(g.eval_timestamp(now + 7 * M), slot + 7 * M);
        assert_eq!(g.next_eval_ms(slot), slot + M);
    }
    assert_ne!(
        a.eval_timestamp(now).rem_euclid(M),
        b.eval_timestamp(now).rem_euclid(M),
        "different groups get different offsets"
    );
}

#[test]
fn for_state_is_restored_after_a_restart() {
    let yaml = "groups:\n- name: g\n  rules:\n  - alert: Slow\n    expr: up == 0\n    for: 30m\n";
    let mut db = MemStorage::new();
    let mut g = group(yaml, &GroupOptions::default());
    for k in 0..=5 {
        up(&mut db, "a", k * M, 0.0);
        g.eval(k * M, &mut db);
    }
    assert_eq!(g.active_alerts()[0].active_at_ms, 0);
    // "Restart" at 20m after 15m of downtime: the new group restores active_at by the
    // downtime (grace period 10m < remaining 25m): 0 + (20m - 5m) = 15m.
    let mut g2 = group(yaml, &GroupOptions::default().with_restore_for_state(true));
    up(&mut db, "a", 20 * M, 0.0);
    let r = g2.eval(20 * M, &mut db);
    assert!(r.failures.is_empty());
    assert_eq!(g2.active_alerts()[0].active_at_ms, 15 * M);
    // Without restoring, the alert would have restarted its `for` at 20m.
    let mut g3 = group(yaml, &GroupOptions::default());
    g3.eval(20 * M, &mut db);
    assert_eq!(g3.active_alerts()[0].active_at_ms, 20 * M);
}

#[test]
fn template_errors_expand_to_a_marker_not_a_crash() {
    let mut g = group(
        "groups:\n- name: g\n  rules:\n  - alert: A\n    expr: up\n    annotations:\n      s: '{{ humanize \"abc\" }}'\n",
        &GroupOptions::default(),
    );
    let mut db = MemStorage::new();
    up(&mut db, "a", 0, 1.0);
    g.eval(0, &mut db);
    let s = g.active_alerts()[0]
        .annotations
        .get("s")
        .unwrap()
        .to_string();
    assert!(s.starts_with("<error expanding template: "), "{s}");
}

#[test]
fn for_state_restore_grace_period_and_short_for() {
    let run = |for_: &str, down_at_min: i64, restart_min: i64| -> i64 {
        let yaml = format!(
            "groups:\n- name: g\n  rules:\n  - alert: Slow\n    expr: up == 0\n    for: {for_}\n"
        );
        let mut db = MemStorage::new();
        let mut g = group(&yaml, &GroupOptions::default());
        for k in 0..=down_at_min {
            up(&mut db, "a", k * M, 0.0);
            g.eval(k * M, &mut db);
        }
        let mut g2 = group(&yaml, &GroupOptions::default().with_restore_for_state(true));
        up(&mut db, "a", restart_min * M, 0.0);
        g2.eval(restart_min * M, &mut db);
        g2.active_alerts()[0].active_at_ms
    };
    // 5m of `for` left at the outage (< 10m grace): it may fire 10m after the restart.
    assert_eq!(run("30m", 25, 40), (40 + 10 - 30) * M);
    // `for` shorter than the grace period: not restored, `for` starts over.
    assert_eq!(run("5m", 3, 20), 20 * M);
    // Firing before the outage (nothing left): the original start is kept.
    assert_eq!(run("10m", 12, 30), 0);
}
