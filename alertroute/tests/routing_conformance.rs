//! Routing conformance against receivers captured from `amtool config routes test` 0.25
//! (`testdata/amtool_routes.tsv`). Rows for our own `testdata/routing.yml` always run; rows
//! for upstream fixtures (`peer:<path>`) run when `PEER_TESTS` is set.

use std::path::PathBuf;

use alertroute::Config;
use exposition::Labels;

fn load(cfg: &str) -> Option<Config> {
    let path = if let Some(p) = cfg.strip_prefix("peer:") {
        let base = std::env::var_os("PEER_TESTS")?;
        PathBuf::from(base).join("alertmanager/testdata").join(p)
    } else {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/testdata")
            .join(cfg)
    };
    Some(Config::load_file(&path).unwrap_or_else(|e| panic!("{cfg}: {e}")))
}

#[test]
fn receivers_match_amtool() {
    let table = include_str!("testdata/amtool_routes.tsv");
    let mut checked = 0;
    let mut failures = Vec::new();
    let mut cache: std::collections::HashMap<String, Option<Config>> = Default::default();
    for line in table
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let cols: Vec<&str> = line.split('\t').collect();
        assert_eq!(cols.len(), 3, "bad row {line:?}");
        let cfg = cache
            .entry(cols[0].to_string())
            .or_insert_with(|| load(cols[0]));
        let Some(cfg) = cfg else { continue };
        let pairs: Vec<(String, String)> = cols[1]
            .split_whitespace()
            .map(|kv| {
                let m = alertroute::matchers::parse_matcher_classic(kv).unwrap();
                (m.name().to_string(), m.value().to_string())
            })
            .collect();
        let got = cfg.route.receivers_for(&Labels::from_pairs(&pairs));
        checked += 1;
        if got != cols[2] {
            failures.push(format!(
                "{} [{}]: want {}, got {got}",
                cols[0], cols[1], cols[2]
            ));
        }
    }
    assert!(checked >= 300, "only {checked} rows checked");
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn show_matches_amtool_layout() {
    let cfg = load("routing.yml").unwrap();
    let shown = cfg.route.show();
    assert!(shown.starts_with("Routing tree:\n.\n└── default-route  receiver: default\n"));
    assert!(shown.contains("├── {audit=\"yes\"}  continue: true  receiver: audit\n"));
    assert!(shown.contains("│\u{a0}\u{a0} ├── {severity=\"critical\"}  receiver: db-pager\n"));
    assert!(shown.contains("{dc=~\"^(?:eu-.*|us-east)$\"}  receiver: dc\n"));
    assert!(shown.ends_with("\n\n"));
}
