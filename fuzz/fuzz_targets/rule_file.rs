#![no_main]
//! Rule files and alert templates: any input loads or returns a RuleError, never panics; a
//! loaded file's groups evaluate over a small store; the input as a template parses or
//! errors, and a parsed template expands or errors.
use exposition::Labels;
use promql::rules::template::{ExpandContext, Template, TemplateData};
use promql::rules::{load_str, Group, GroupOptions};
use promql::storage::MemStorage;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
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
});
