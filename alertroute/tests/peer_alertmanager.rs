//! Peer suite `alertmanager`: the upstream config fixtures load or fail as
//! `testdata/SOURCE.md` says (master column, with the same reason), and the upstream routing
//! expectations hold.
//!
//! The expectations are read from the SOURCE.md tables themselves, so the suite follows the
//! peer data rather than a copy of it. Run with
//! `PEER_TESTS=/work/shared/peer-tests cargo test -p alertroute --test peer_alertmanager`.

use std::collections::BTreeMap;
use std::path::Path;

use alertroute::{Config, ConfigError};
use exposition::Labels;
use testkit::{Outcome, Suite};

/// One row of the fixture table.
struct Expect {
    valid: bool,
    /// The first backticked text of the "master error / note" column.
    error: Option<String>,
}

fn cells(line: &str) -> Vec<String> {
    // Split a markdown table row on '|' that are not escaped as '\|'.
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut chars = line.trim().trim_start_matches('|').chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&'|') => {
                cur.push('|');
                chars.next();
            }
            '|' => {
                out.push(cur.trim().to_string());
                cur.clear();
            }
            c => cur.push(c),
        }
    }
    if !cur.trim().is_empty() {
        out.push(cur.trim().to_string());
    }
    out
}

fn backticked(s: &str) -> Option<String> {
    let start = s.find('`')? + 1;
    let end = start + s[start..].find('`')?;
    Some(s[start..end].to_string())
}

/// (config file, label arguments, expected receivers in order).
type RoutingCase = (String, Vec<String>, Vec<String>);

fn parse_source(text: &str) -> (BTreeMap<String, Expect>, Vec<RoutingCase>) {
    let mut files = BTreeMap::new();
    let mut routing = Vec::new();
    let mut section = "";
    for line in text.lines() {
        if line.starts_with("| file |") {
            section = "files";
            continue;
        }
        if line.starts_with("| config | labels |") {
            section = "routing";
            continue;
        }
        if !line.starts_with('|') {
            if line.starts_with("##") {
                section = "";
            }
            continue;
        }
        if line.starts_with("|---") {
            continue;
        }
        let c = cells(line);
        match section {
            "files" if c.len() >= 3 => {
                let Some(file) = backticked(&c[0]) else {
                    continue;
                };
                let valid = c[1].trim() == "valid";
                let error = if valid { None } else { backticked(&c[2]) };
                files.insert(file, Expect { valid, error });
            }
            "routing" if c.len() >= 3 => {
                let Some(file) = backticked(&c[0]) else {
                    continue;
                };
                let labels: Vec<String> = c[1].split(',').filter_map(backticked).collect();
                let receivers: Vec<String> = c[2].split(',').filter_map(backticked).collect();
                routing.push((file, labels, receivers));
            }
            _ => {}
        }
    }
    (files, routing)
}

/// Whether our error carries the reason upstream asserts.
fn same_reason(err: &ConfigError, want: &str) -> bool {
    let msg = err.to_string();
    let want = want.replace("\\n", "\n");
    if msg.contains(&want) {
        return true;
    }
    // Go's strict-YAML message names the unknown field; ours names it too.
    if let Some(rest) = want.split("field ").nth(1) {
        if let Some(field) = rest.split(' ').next() {
            return match err {
                ConfigError::UnknownField { field: f, .. } => f == field,
                ConfigError::Yaml { message, .. } => message.contains(&format!("`{field}`")),
                _ => false,
            };
        }
    }
    false
}

fn check_file(path: &Path, expect: &Expect) -> Outcome {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => return Outcome::Fail(format!("read: {e}")),
    };
    match (Config::load(&text), expect.valid) {
        (Ok(_), true) => Outcome::Pass,
        (Err(e), true) => Outcome::Fail(format!("should load, got: {e}")),
        (Ok(_), false) => Outcome::Fail(format!(
            "should fail with {:?}, but loaded",
            expect.error.as_deref().unwrap_or("an error")
        )),
        (Err(e), false) => match &expect.error {
            None => Outcome::Pass,
            Some(want) if same_reason(&e, want) => Outcome::Pass,
            Some(want) => Outcome::Fail(format!("wrong reason: want {want:?}, got {e:?} ({e})")),
        },
    }
}

#[test]
fn peer_alertmanager() {
    let Some(suite) = Suite::open("alertmanager", "alertmanager") else {
        return;
    };
    let mut suite = suite.known_failures(include_str!("peer_alertmanager_known_failures.txt"));
    let root = suite.root().join("testdata");
    let source = std::fs::read_to_string(root.join("SOURCE.md")).expect("SOURCE.md");
    let (files, routing) = parse_source(&source);
    assert!(
        files.len() > 40,
        "SOURCE.md table not found ({} rows)",
        files.len()
    );

    for path in testkit::files_sorted(&root, |p| p.extension().is_some_and(|e| e == "yml")) {
        let rel = path
            .strip_prefix(&root)
            .expect("under root")
            .to_string_lossy()
            .replace('\\', "/");
        let id = format!("load/{rel}");
        match files.get(&rel) {
            Some(expect) => suite.case(&id, || check_file(&path, expect)),
            None => suite.case(&id, || Outcome::Skip("not in SOURCE.md".into())),
        }
    }

    for (i, (file, labels, receivers)) in routing.iter().enumerate() {
        let id = format!("route/{i}/{file}/{}", labels.join(","));
        let path = root.join(file);
        suite.case(&id, || {
            let cfg = match Config::load_file(&path) {
                Ok(c) => c,
                Err(e) => return Outcome::Fail(format!("load: {e}")),
            };
            let mut pairs = Vec::new();
            for l in labels {
                let m = match alertroute::matchers::parse_matcher_classic(l) {
                    Ok(m) => m,
                    Err(e) => return Outcome::Fail(format!("label {l}: {e}")),
                };
                pairs.push((m.name().to_string(), m.value().to_string()));
            }
            let got = cfg.route.receivers_for(&Labels::from_pairs(&pairs));
            let want = receivers.join(",");
            if got == want {
                Outcome::Pass
            } else {
                Outcome::Fail(format!("receivers: want {want}, got {got}"))
            }
        });
    }
    suite.finish();
}
