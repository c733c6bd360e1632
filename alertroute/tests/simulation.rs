//! Simulation: scripted alert streams over simulated hours (`testdata/sim/*.sim`) must
//! produce exactly the expected notifications at exactly the expected times.
//!
//! Script format (one directive per line, `#` comments):
//! - `config:` followed by the alertmanager.yml indented by two spaces;
//! - `resend <dur>`: the sender re-posts every firing alert at this interval without
//!   `endsAt` (as Prometheus does), so alerts resolve by `resolve_timeout` if it stops;
//! - `at <t> fire <alertname> [k=v...]`: start posting the alert;
//! - `at <t> stop <alertname> [k=v...]`: post it once with `endsAt = t`, stop posting;
//! - `at <t> vanish <alertname> [k=v...]`: stop posting (it resolves after the timeout);
//! - `at <t> silence <matchers> <dur>`: add a silence for `[t, t+dur]`;
//! - `expect <t> <receiver> [firing=A,B] [resolved=C]`: one notification (alertnames in
//!   payload order); notifications at the same instant compare as a set;
//! - `end <t>`: how long to simulate.
//!
//! The driver ticks at every deadline the dispatcher reports, so the times are exact.

use std::collections::BTreeMap;

use alertroute::duration::parse_duration;
use alertroute::matchers::parse_matchers;
use alertroute::silence::Silence;
use alertroute::{Alert, Config, Dispatcher};
use exposition::Labels;

#[derive(Debug)]
enum Ev {
    Fire(Labels),
    Stop(Labels),
    Vanish(Labels),
    Silence(String, i64),
}

struct Script {
    config: String,
    resend: i64,
    events: Vec<(i64, Ev)>,
    expect: Vec<(i64, String)>,
    end: i64,
}

fn dur(s: &str) -> i64 {
    parse_duration(s).unwrap_or_else(|e| panic!("{e}"))
}

fn labels(name: &str, rest: &[&str]) -> Labels {
    let mut pairs = vec![("alertname".to_string(), name.to_string())];
    for kv in rest {
        let (k, v) = kv.split_once('=').expect("k=v");
        pairs.push((k.to_string(), v.to_string()));
    }
    Labels::from_pairs(&pairs)
}

fn parse(text: &str) -> Script {
    let mut s = Script {
        config: String::new(),
        resend: 0,
        events: Vec::new(),
        expect: Vec::new(),
        end: 0,
    };
    let mut in_config = false;
    for line in text.lines() {
        if in_config {
            if let Some(rest) = line.strip_prefix("  ") {
                s.config.push_str(rest);
                s.config.push('\n');
                continue;
            }
            in_config = false;
        }
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let w: Vec<&str> = line.split_whitespace().collect();
        match w[0] {
            "config:" => in_config = true,
            "resend" => s.resend = dur(w[1]),
            "end" => s.end = dur(w[1]),
            "at" => {
                let t = dur(w[1]);
                let ev = match w[2] {
                    "fire" => Ev::Fire(labels(w[3], &w[4..])),
                    "stop" => Ev::Stop(labels(w[3], &w[4..])),
                    "vanish" => Ev::Vanish(labels(w[3], &w[4..])),
                    "silence" => Ev::Silence(w[3].to_string(), dur(w[4])),
                    other => panic!("unknown event {other}"),
                };
                s.events.push((t, ev));
            }
            "expect" => s.expect.push((dur(w[1]), w[2..].join(" "))),
            other => panic!("unknown directive {other}"),
        }
    }
    // Events at the same instant keep their file order.
    s.events.sort_by_key(|e| e.0);
    s
}

fn describe(n: &alertroute::Notification) -> String {
    let names = |it: &mut dyn Iterator<Item = &Alert>| {
        it.map(|a| a.labels.get("alertname").unwrap_or("").to_string())
            .collect::<Vec<_>>()
            .join(",")
    };
    let mut s = n.receiver.clone();
    let f = names(&mut n.firing());
    let r = names(&mut n.resolved());
    if !f.is_empty() {
        s += &format!(" firing={f}");
    }
    if !r.is_empty() {
        s += &format!(" resolved={r}");
    }
    s
}

fn run(script: &Script) -> BTreeMap<i64, Vec<String>> {
    let cfg = Config::load(&script.config).expect("config");
    let mut d = Dispatcher::new(cfg, "sim");
    let mut got: BTreeMap<i64, Vec<String>> = BTreeMap::new();
    // Alerts the sender currently re-posts, with their first start time.
    let mut active: BTreeMap<Labels, i64> = BTreeMap::new();
    let mut next_resend = i64::MAX;
    let mut ev = 0;
    let mut now = 0;
    loop {
        // Handle everything due at `now`: scripted events first, then resends.
        while ev < script.events.len() && script.events[ev].0 <= now {
            match &script.events[ev].1 {
                Ev::Fire(l) => {
                    active.insert(l.clone(), now);
                    d.insert(Alert::new(l.clone(), now), now);
                    if next_resend == i64::MAX {
                        next_resend = now + script.resend;
                    }
                }
                Ev::Stop(l) => {
                    let start = active.remove(l).unwrap_or(now);
                    d.insert(Alert::new(l.clone(), start).with_ends_at(now), now);
                }
                Ev::Vanish(l) => {
                    active.remove(l);
                }
                Ev::Silence(m, len) => {
                    let ms = parse_matchers(m).expect("silence matchers");
                    d.silences
                        .set(Silence::new(ms, now, now + len), now)
                        .expect("silence");
                }
            }
            ev += 1;
        }
        if next_resend <= now {
            for (l, start) in &active {
                d.insert(Alert::new(l.clone(), *start), now);
            }
            next_resend = now + script.resend;
        }
        for n in d.tick(now) {
            assert_eq!(n.at, now, "flushes are stamped with their deadline");
            got.entry(n.at).or_default().push(describe(&n));
        }
        let next_event = script.events.get(ev).map_or(i64::MAX, |e| e.0);
        let next = [
            next_event,
            next_resend,
            d.next_deadline().unwrap_or(i64::MAX),
        ]
        .into_iter()
        .min()
        .unwrap();
        if next > script.end {
            break;
        }
        now = next;
    }
    for v in got.values_mut() {
        v.sort();
    }
    got
}

#[test]
fn scripted_streams_produce_expected_notifications() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/testdata/sim");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "sim"))
        .collect();
    files.sort();
    assert!(files.len() >= 2);
    for f in files {
        let script = parse(&std::fs::read_to_string(&f).unwrap());
        let mut want: BTreeMap<i64, Vec<String>> = BTreeMap::new();
        for (t, s) in &script.expect {
            want.entry(*t).or_default().push(s.clone());
        }
        for v in want.values_mut() {
            v.sort();
        }
        let got = run(&script);
        let show = |m: &BTreeMap<i64, Vec<String>>| {
            m.iter()
                .flat_map(|(t, v)| {
                    v.iter()
                        .map(move |s| format!("{} {s}", alertroute::duration::format_duration(*t)))
                })
                .collect::<Vec<_>>()
                .join("\n")
        };
        assert_eq!(show(&got), show(&want), "{}", f.display());
    }
}
