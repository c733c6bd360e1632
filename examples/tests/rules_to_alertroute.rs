//! The hand-off from `promql::rules` to `alertroute`: alerts leave the rule engine in
//! Alertmanager's API shape (JSON: labels, annotations, startsAt, endsAt, generatorURL),
//! are read back as `alertroute::Alert`s, and route, group and resolve as Alertmanager would.

use alertroute::{Alert, Config, Dispatcher};
use exposition::Labels;
use promql::rules::{load_str, Group, GroupOptions, NotifierAlert};
use promql::storage::MemStorage;

/// Reads one element of Alertmanager's `POST /api/v2/alerts` body into an alertroute alert.
fn alert_from_api_json(v: &serde_json::Value) -> Result<Alert, String> {
    let labels = |key: &str| -> Result<Labels, String> {
        let obj = v[key]
            .as_object()
            .ok_or(format!("{key} is not an object"))?;
        let pairs: Vec<(String, String)> = obj
            .iter()
            .map(|(k, x)| (k.clone(), x.as_str().unwrap_or_default().to_string()))
            .collect();
        Labels::try_from_pairs(&pairs).map_err(|e| e.to_string())
    };
    let time = |key: &str| -> Result<i64, String> {
        let s = v[key].as_str().ok_or(format!("{key} missing"))?;
        let ts: jiff::Timestamp = s.parse().map_err(|e| format!("{key}: {e}"))?;
        Ok(ts.as_millisecond())
    };
    let mut a = Alert::new(labels("labels")?, time("startsAt")?)
        .with_annotations(labels("annotations")?)
        .with_ends_at(time("endsAt")?);
    a.generator_url = v["generatorURL"].as_str().unwrap_or_default().to_string();
    Ok(a)
}

/// What the HTTP hop would carry: the JSON array as text.
fn over_the_wire(alerts: &[NotifierAlert]) -> Vec<Alert> {
    let body =
        serde_json::to_string(&alerts.iter().map(|a| a.to_json()).collect::<Vec<_>>()).unwrap();
    let parsed: Vec<serde_json::Value> = serde_json::from_str(&body).unwrap();
    parsed
        .iter()
        .map(|v| alert_from_api_json(v).unwrap())
        .collect()
}

const RULES: &str = r#"
groups:
  - name: availability
    interval: 30s
    rules:
      - alert: InstanceDown
        expr: up == 0
        for: 1m
        labels:
          severity: page
        annotations:
          summary: '{{ $labels.instance }} is down'
"#;

const AM: &str = r#"
route:
  receiver: default
  group_by: [alertname]
  group_wait: 30s
  group_interval: 5m
  routes:
    - matchers: ['severity="page"']
      receiver: pager
receivers:
  - name: default
  - name: pager
    webhook_configs: [{url: "http://pager.example/hook", send_resolved: true}]
"#;

#[test]
fn alerts_round_trip_into_alertroute_and_route() {
    let file = load_str("rules.yml", RULES).unwrap();
    let opts = GroupOptions::default()
        .with_external_url("http://prometheus.example:9090")
        .with_external_labels(Labels::from_pairs(&[("replica", "r1")]));
    let mut group = Group::new(&file.groups[0], &opts).unwrap();
    let mut db = MemStorage::new();
    let up = Labels::from_pairs(&[
        ("__name__", "up"),
        ("instance", "web-1:9090"),
        ("job", "api"),
    ]);
    let mut dispatcher = Dispatcher::new(Config::load(AM).unwrap(), "am-0");
    let mut notifications = Vec::new();
    let mut handed_off = Vec::new();
    // Down from 30s to 3m, back up afterwards; evaluate every 30s up to 5m.
    for k in 0..=10 {
        let t = k * 30_000;
        let v = if (1..=6).contains(&k) { 0.0 } else { 1.0 };
        db.append(&up, t, v).unwrap();
        let report = group.eval(t, &mut db);
        assert!(report.failures.is_empty());
        let received = over_the_wire(&report.alerts_to_send);
        // The JSON hop loses nothing.
        for (sent, got) in report.alerts_to_send.iter().zip(&received) {
            assert_eq!(got.labels, sent.labels);
            assert_eq!(got.annotations, sent.annotations);
            assert_eq!(got.starts_at, sent.starts_at_ms);
            assert_eq!(got.ends_at, Some(sent.ends_at_ms));
            assert_eq!(got.generator_url, sent.generator_url);
        }
        handed_off.extend(received.iter().map(|a| (t, a.clone())));
        for a in received {
            dispatcher.insert(a, t);
        }
        notifications.extend(dispatcher.tick(t));
    }
    // Fired at 1m30s (pending from 30s, for: 1m); re-sent once more than the resend delay
    // (1m) has passed, at 3m; resolved at 3m30s and the resolution re-sent at 5m.
    let times: Vec<i64> = handed_off.iter().map(|(t, _)| *t).collect();
    assert_eq!(times, vec![90_000, 180_000, 210_000, 300_000]);
    let first = &handed_off[0].1;
    assert_eq!(
        first.labels,
        Labels::from_pairs(&[
            ("alertname", "InstanceDown"),
            ("instance", "web-1:9090"),
            ("job", "api"),
            ("replica", "r1"),
            ("severity", "page"),
        ])
    );
    assert_eq!(first.annotations.get("summary"), Some("web-1:9090 is down"));
    assert_eq!(first.ends_at, Some(90_000 + 4 * 60_000));
    assert_eq!(
        first.generator_url,
        "http://prometheus.example:9090/graph?g0.expr=up+%3D%3D+0&g0.tab=1"
    );
    let resolved = &handed_off[2].1;
    assert_eq!(resolved.ends_at, Some(210_000));
    assert!(resolved.resolved_at(210_000));
    // Routed to the pager after group_wait: one firing notification, then the resolution
    // at the next group_interval flush (no later than 5m after the first).
    assert!(!notifications.is_empty());
    assert_eq!(notifications[0].receiver, "pager");
    assert_eq!(notifications[0].at, 120_000);
    assert_eq!(notifications[0].alerts.len(), 1);
    assert_eq!(notifications[0].firing().count(), 1);
    let mut later = dispatcher.tick(dispatcher.next_deadline().unwrap());
    notifications.append(&mut later);
    let last = notifications.last().unwrap();
    assert_eq!(last.receiver, "pager");
    assert_eq!(
        last.firing().count(),
        0,
        "the last notification is the resolution"
    );
    assert!(last.alerts[0].resolved_at(last.at));
}
