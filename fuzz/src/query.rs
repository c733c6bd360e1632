//! Targets over the `promql` crate: the expression parser and printer, rule files and
//! alert templates.

use exposition::Labels;
use promql::rules::template::{ExpandContext, Template, TemplateData};
use promql::rules::{load_str, Group, GroupOptions};
use promql::storage::MemStorage;

/// The PromQL parser never panics or loops on any input, and every tree it accepts prints
/// to text that parses back to the same tree.
pub fn promql_parse(data: &[u8]) {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    for opts in [promql::ParseOptions::default(), promql::ParseOptions::all()] {
        if let Ok(e) = promql::parse_with(s, opts) {
            let printed = promql::printer::print(&e);
            let again = promql::parse_with(&printed, opts)
                .unwrap_or_else(|err| panic!("printed form {printed:?} of {s:?} fails: {err}"));
            assert!(
                again.same_as(&e),
                "round trip changed {s:?} via {printed:?}"
            );
        }
    }
}

/// Rule files and alert templates: any input loads or returns an error, never panics; a
/// loaded file's groups evaluate over a small store; the input as a template parses or
/// errors, and a parsed template expands or errors.
pub fn rule_file(data: &[u8]) {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(t) = Template::parse(s) {
        let d = TemplateData::new(
            Labels::from_pairs(&[("job", "a"), ("instance", "h:1")]),
            1.5,
        );
        let _ = t.expand(&d, &ExpandContext::default());
    }
    let Ok(file) = load_str("fuzz.yml", s) else {
        return;
    };
    let mut db = MemStorage::new();
    let up = Labels::from_pairs(&[("__name__", "up"), ("job", "a")]);
    for spec in file.groups.iter().take(4) {
        let Ok(mut g) = Group::new(spec, &GroupOptions::default()) else {
            continue;
        };
        for k in 0..3i64 {
            let _ = db.append(&up, k * 60_000, (k % 2) as f64);
            let r = g.eval(k * 60_000, &mut db);
            for a in &r.alerts_to_send {
                let _ = a.to_json();
            }
        }
        let _ = g.next_eval_ms(123_456);
    }
}
