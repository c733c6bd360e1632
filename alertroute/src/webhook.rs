//! The webhook payload (version "4"): "what JSON do I POST for this notification?"
//!
//! Field names and shapes follow Alertmanager's `notify/webhook`: `receiver` is regex-quoted,
//! firing alerts carry `endsAt: "0001-01-01T00:00:00Z"`, times are RFC 3339 with nanoseconds
//! trimmed of trailing zeros, `truncatedAlerts` counts what `max_alerts` cut off.
//!
//! ```
//! use alertroute::{Alert, Config, Dispatcher, webhook};
//! use exposition::Labels;
//! let cfg = Config::load("route: {receiver: crit.hook, group_by: [alertname], group_wait: 0s}\nreceivers: [{name: crit.hook}]").unwrap();
//! let mut d = Dispatcher::new(cfg, "r");
//! d.insert(Alert::new(Labels::from_pairs(&[("alertname", "F")]), 0), 0);
//! let n = &d.tick(0)[0];
//! let v = webhook::payload(n, "http://am:9093", 0);
//! assert_eq!(v["receiver"], r"crit\.hook");
//! assert_eq!(v["groupKey"], r#"{}:{alertname="F"}"#);
//! assert_eq!(v["alerts"][0]["endsAt"], "0001-01-01T00:00:00Z");
//! ```

use serde_json::{json, Map, Value};

use exposition::Labels;

use crate::alert::Alert;
use crate::dispatch::Notification;

/// RFC 3339 with up to nanosecond precision, trailing zeros trimmed (Go's `RFC3339Nano`).
pub fn format_time(ms: i64) -> String {
    match jiff::Timestamp::from_millisecond(ms) {
        Ok(ts) => {
            let s = ts.strftime("%Y-%m-%dT%H:%M:%S").to_string();
            let frac = ms.rem_euclid(1000);
            if frac == 0 {
                format!("{s}Z")
            } else {
                let f = format!("{frac:03}");
                format!("{s}.{}Z", f.trim_end_matches('0'))
            }
        }
        Err(_) => "0001-01-01T00:00:00Z".to_string(),
    }
}

/// Go's `regexp.QuoteMeta`.
pub fn quote_meta(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if r"\.+*?()|[]{}^$".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn labels_obj(l: &Labels) -> Value {
    Value::Object(
        l.iter()
            .map(|x| (x.name.clone(), Value::String(x.value.clone())))
            .collect(),
    )
}

fn common(sets: &[&Labels]) -> Value {
    let Some(first) = sets.first() else {
        return Value::Object(Map::new());
    };
    let mut m = Map::new();
    for l in first.iter() {
        if sets
            .iter()
            .all(|s| s.get(&l.name) == Some(l.value.as_str()))
        {
            m.insert(l.name.clone(), Value::String(l.value.clone()));
        }
    }
    Value::Object(m)
}

fn alert_obj(a: &Alert) -> Value {
    json!({
        "status": if a.ends_at.is_some() { "resolved" } else { "firing" },
        "labels": labels_obj(&a.labels),
        "annotations": labels_obj(&a.annotations),
        "startsAt": format_time(a.starts_at),
        "endsAt": a.ends_at.map(format_time).unwrap_or_else(|| "0001-01-01T00:00:00Z".into()),
        "generatorURL": a.generator_url,
        "fingerprint": a.fingerprint_hex(),
    })
}

/// The version-4 payload. `max_alerts` = 0 means unlimited; as in Alertmanager the alerts
/// are truncated first, and the status and common labels describe what is sent.
pub fn payload(n: &Notification, external_url: &str, max_alerts: usize) -> Value {
    let (shown, truncated) = if max_alerts > 0 && n.alerts.len() > max_alerts {
        (&n.alerts[..max_alerts], n.alerts.len() - max_alerts)
    } else {
        (&n.alerts[..], 0)
    };
    let labels: Vec<&Labels> = shown.iter().map(|a| &a.labels).collect();
    let annotations: Vec<&Labels> = shown.iter().map(|a| &a.annotations).collect();
    let mut v = json!({
        "receiver": quote_meta(&n.receiver),
        "status": if shown.iter().any(|a| a.ends_at.is_none()) { "firing" } else { "resolved" },
        "alerts": shown.iter().map(alert_obj).collect::<Vec<_>>(),
        "groupLabels": labels_obj(&n.group_labels),
        "commonLabels": common(&labels),
        "commonAnnotations": common(&annotations),
        "externalURL": external_url,
        "version": "4",
        "groupKey": n.group_key,
        "truncatedAlerts": truncated,
    });
    if !n.route_labels.is_empty() {
        v["routeLabels"] = Value::Object(
            n.route_labels
                .iter()
                .map(|(k, x)| (k.clone(), Value::String(x.clone())))
                .collect(),
        );
    }
    v
}

/// The payload as bytes, ready to POST with `Content-Type: application/json`; `max_alerts`
/// is taken from the notification's webhook integration when it has one.
pub fn encode(n: &Notification, external_url: &str) -> Vec<u8> {
    let max = n.integration.as_ref().map_or(0, |i| i.max_alerts());
    serde_json::to_vec(&payload(n, external_url, max)).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Config, Dispatcher};

    fn flush(yaml: &str, alerts: Vec<Alert>) -> Vec<Notification> {
        let mut d = Dispatcher::new(Config::load(yaml).unwrap(), "t");
        for a in alerts {
            d.insert(a, 1_000);
        }
        d.tick(1_000)
    }

    /// The payload captured from the live 0.25 server (SEMANTICS.md §9), with our
    /// millisecond start time.
    #[test]
    fn matches_captured_payload() {
        let mut a = Alert::new(
            Labels::from_pairs(&[
                ("alertname", "F"),
                ("cluster", "y"),
                ("severity", "warning"),
            ]),
            1_795_619_524_916,
        );
        a.generator_url = "http://prom/graph".into();
        let n = flush(
            "route: {receiver: hook, group_by: [alertname], group_wait: 0s}\nreceivers: [{name: hook, webhook_configs: [{url: 'http://h'}]}]",
            vec![a],
        );
        let v = payload(&n[0], "http://vm:19093", 0);
        let want: Value = serde_json::from_str(
            r#"{"receiver":"hook","status":"firing",
 "alerts":[{"status":"firing","labels":{"alertname":"F","cluster":"y","severity":"warning"},
            "annotations":{},"startsAt":"2026-11-25T15:12:04.916Z",
            "endsAt":"0001-01-01T00:00:00Z","generatorURL":"http://prom/graph",
            "fingerprint":"7e0886d1a60105c4"}],
 "groupLabels":{"alertname":"F"},
 "commonLabels":{"alertname":"F","cluster":"y","severity":"warning"},
 "commonAnnotations":{},"externalURL":"http://vm:19093",
 "version":"4","groupKey":"{}:{alertname=\"F\"}","truncatedAlerts":0}"#,
        )
        .unwrap();
        assert_eq!(v, want);
    }

    #[test]
    fn truncation_common_labels_and_resolved_status() {
        let mk = |i: &str, sev: &str| {
            Alert::new(
                Labels::from_pairs(&[("alertname", "A"), ("instance", i), ("severity", sev)]),
                0,
            )
            .with_annotations(Labels::from_pairs(&[("summary", "s")]))
        };
        let n = flush(
            "route: {receiver: r, group_wait: 0s}\nreceivers: [{name: r, webhook_configs: [{url: 'http://h', max_alerts: 2}]}]",
            vec![mk("1", "page"), mk("2", "page"), mk("3", "info")],
        );
        let body: Value = serde_json::from_slice(&encode(&n[0], "http://am")).unwrap();
        assert_eq!(body["truncatedAlerts"], 1);
        assert_eq!(body["alerts"].as_array().unwrap().len(), 2);
        assert_eq!(body["alerts"][0]["labels"]["instance"], "1");
        // Computed over what is sent: instances 1 and 2 share severity=page.
        assert_eq!(body["commonLabels"]["severity"], "page");
        assert_eq!(body["commonAnnotations"]["summary"], "s");
        assert!(body["commonLabels"].get("instance").is_none());
        let resolved = flush(
            "route: {receiver: r, group_wait: 0s}\nreceivers: [{name: r}]",
            vec![mk("1", "page").with_ends_at(500)],
        );
        assert!(
            resolved.is_empty(),
            "never-notified resolved alert is not sent"
        );
    }

    #[test]
    fn times_and_quoting() {
        assert_eq!(format_time(0), "1970-01-01T00:00:00Z");
        assert_eq!(format_time(1_500), "1970-01-01T00:00:01.5Z");
        assert_eq!(format_time(1_234), "1970-01-01T00:00:01.234Z");
        assert_eq!(quote_meta("crit.hook"), r"crit\.hook");
        assert_eq!(quote_meta("a(b)|c"), r"a\(b\)\|c");
    }
}
