//! Replays inputs recorded against a real Prometheus 2.42 by `exposition-diff --save`
//! (`examples/src/bin/exposition-diff.rs`), without Prometheus: each case holds the input and
//! the oracle's verdict (`reject`, or `accept` and the samples it stored), and our parser
//! must give the same.
//!
//! - `prometheus_diff/text.cases`: text 0.0.4 scraped by Prometheus, against
//!   [`TextParser::scrape`];
//! - `prometheus_diff/om-scrape.cases`: OpenMetrics scraped by Prometheus, and
//!   `prometheus_diff/om-import.cases`: OpenMetrics imported by `promtool tsdb
//!   create-blocks-from openmetrics`, both against [`OpenMetricsParser::lenient`].
//!
//! A case's verdict lines are one per distinct sample: sorted labels with `__name__` (empty
//! values dropped, as Prometheus stores them, values in Rust's `{:?}` quoting), the value's
//! bits in hex (every NaN the same) and the timestamp in ms or `-`. Scraped cases then have
//! one `meta` line per family with the type, help and unit Prometheus's metadata API showed
//! (the last of each; `unknown` when no TYPE was given).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use exposition::openmetrics::OpenMetricsParser;
use exposition::text::TextParser;
use exposition::{Entry, ParseError};

struct Case {
    id: String,
    body: Vec<u8>,
    verdict: String,
}

/// Reads `case N LEN\n<LEN bytes>\n<verdict lines>.\n` records.
fn load(path: &Path) -> Vec<Case> {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut cases = Vec::new();
    let mut p = 0;
    while p < bytes.len() {
        let nl = p + bytes[p..].iter().position(|&b| b == b'\n').expect("header");
        let header = std::str::from_utf8(&bytes[p..nl]).expect("utf-8 header");
        let mut f = header.split(' ');
        assert_eq!(f.next(), Some("case"), "{header}");
        let id = f.next().expect("id").to_string();
        let len: usize = f.next().and_then(|l| l.parse().ok()).expect("length");
        let body = bytes[nl + 1..nl + 1 + len].to_vec();
        let mut q = nl + 1 + len + 1;
        let start = q;
        loop {
            let e = q + bytes[q..]
                .iter()
                .position(|&b| b == b'\n')
                .expect("verdict");
            if &bytes[q..e] == b"." {
                let verdict = String::from_utf8(bytes[start..q].to_vec()).expect("utf-8");
                cases.push(Case { id, body, verdict });
                p = e + 1;
                break;
            }
            q = e + 1;
        }
    }
    cases
}

fn verdict<'a>(entries: impl Iterator<Item = Result<Entry<'a>, ParseError>>, meta: bool) -> String {
    let mut set = BTreeSet::new();
    let mut fams: BTreeMap<String, (String, String, String)> = BTreeMap::new();
    for e in entries {
        match e {
            Err(_) => return "reject\n".into(),
            Ok(Entry::Type { name, ty }) => {
                fams.entry(name.to_string()).or_default().0 = ty.as_openmetrics().to_string();
            }
            Ok(Entry::Help { name, help }) => {
                fams.entry(name.to_string()).or_default().1 = help.to_string();
            }
            Ok(Entry::Unit { name, unit }) => {
                fams.entry(name.to_string()).or_default().2 = unit.to_string();
            }
            Ok(Entry::Sample(s)) => {
                let mut labels: Vec<(String, String)> = s
                    .labels
                    .iter()
                    .filter(|(_, v)| !v.is_empty())
                    .map(|(n, v)| (n.into_owned(), v.into_owned()))
                    .collect();
                labels.push(("__name__".into(), s.name.to_string()));
                labels.sort();
                let bits = if s.value.is_nan() {
                    f64::NAN.to_bits()
                } else {
                    s.value.to_bits()
                };
                set.insert((labels, bits, s.timestamp));
            }
            Ok(_) => {}
        }
    }
    let mut out = String::from("accept\n");
    for (labels, bits, ts) in set {
        let l: Vec<String> = labels.iter().map(|(n, v)| format!("{n}={v:?}")).collect();
        let ts = ts.map_or("-".to_string(), |t| t.to_string());
        out.push_str(&format!("{}\t{bits:016x}\t{ts}\n", l.join(",")));
    }
    if meta {
        for (name, (ty, help, unit)) in fams {
            let ty = if ty.is_empty() {
                "unknown".to_string()
            } else {
                ty
            };
            out.push_str(&format!("meta\t{name:?}\t{ty}\t{help:?}\t{unit:?}\n"));
        }
    }
    out
}

fn replay(file: &str, parse: fn(&[u8]) -> String) -> usize {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/prometheus_diff")
        .join(file);
    let cases = load(&path);
    assert!(!cases.is_empty(), "no cases in {}", path.display());
    let mut failures = Vec::new();
    for c in &cases {
        let got = parse(&c.body);
        if got != c.verdict {
            failures.push(format!(
                "{file} case {}: input {:?}\n  prometheus: {}  ours: {}",
                c.id,
                String::from_utf8_lossy(&c.body),
                c.verdict,
                got
            ));
        }
    }
    println!(
        "prometheus_diff {file}: {} passed, {} failed",
        cases.len() - failures.len(),
        failures.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    cases.len()
}

#[test]
fn text_scrapes_match_prometheus() {
    replay("text.cases", |b| verdict(TextParser::scrape(b), true));
}

#[test]
fn openmetrics_scrapes_match_prometheus() {
    replay("om-scrape.cases", |b| {
        verdict(OpenMetricsParser::lenient(b), true)
    });
}

#[test]
fn openmetrics_imports_match_promtool() {
    replay("om-import.cases", |b| {
        verdict(OpenMetricsParser::lenient(b), false)
    });
}
