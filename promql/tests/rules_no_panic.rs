//! Malformed rule files and templates never panic: every truncation of the checked-in rule
//! files, and seeded random edits of them and of template snippets, load (or expand) or
//! return an error. (The same property is fuzzed by `fuzz/fuzz_targets/rule_file.rs`.)

use exposition::Labels;
use promql::rules::template::{ExpandContext, Template, TemplateData};
use promql::rules::{load_str, Group, GroupOptions};
use promql::storage::MemStorage;

const FILES: &[&str] = &[
    include_str!("../testdata/rules/alerts.yml"),
    include_str!("../testdata/rules/recording.yml"),
    include_str!("../testdata/rules/bad_rules.yml"),
];

const TEMPLATES: &[&str] = &[
    "{{ $labels.instance }} {{ $value | humanize }}",
    "{{ if gt $value 1.0 }}a{{ else if lt $value 0.5 }}b{{ else }}c{{ end }}",
    "{{ range $k, $v := $labels }}{{ $k }}={{ $v }}{{ end }}",
    "{{ printf \"%5.2f %s %d\" $value \"x\" 3 }}",
    "{{ with $labels.job }}{{ . | toUpper | title }}{{ end }}",
    "{{ (args 1 2).arg0 }} {{ index $labels \"job\" }} {{ len $labels }}",
    "{{- /* c */ -}} {{ reReplaceAll \"(a+)\" \"$1b\" \"aaa\" }}",
    "{{ $x := 1 }}{{ $x = 2 }}{{ $x }}{{ range 3 }}{{ . }}{{ break }}{{ end }}",
];

struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) as usize
    }
}

const NOISE: &[&str] = &[
    "{{",
    "}}",
    "(",
    ")",
    "|",
    "\"",
    "'",
    "`",
    ":",
    "- ",
    "\n",
    "  ",
    "$",
    ".",
    "[",
    "]",
    "-",
    "*",
    "\u{0}",
    "é",
    "0x",
    "1e308",
    "for: ",
    "expr: ",
    "{{ end }}",
    "{{ range }}",
    "{{ if }}",
];

fn mutate(rng: &mut Lcg, s: &str) -> String {
    let mut v: Vec<char> = s.chars().collect();
    for _ in 0..1 + rng.next() % 4 {
        let at = if v.is_empty() {
            0
        } else {
            rng.next() % v.len()
        };
        match rng.next() % 3 {
            0 if !v.is_empty() => {
                let n = (1 + rng.next() % 8).min(v.len() - at);
                v.drain(at..at + n);
            }
            _ => {
                let ins: Vec<char> = NOISE[rng.next() % NOISE.len()].chars().collect();
                v.splice(at..at, ins);
            }
        }
    }
    v.into_iter().collect()
}

fn exercise_file(text: &str) {
    let Ok(f) = load_str("m.yml", text) else {
        return;
    };
    let mut db = MemStorage::new();
    let up = Labels::from_pairs(&[("__name__", "up"), ("job", "a"), ("instance", "h:1")]);
    for g in &f.groups {
        let Ok(mut g) = Group::new(g, &GroupOptions::default()) else {
            continue;
        };
        for k in 0..2 {
            db.append(&up, k * 60_000, 0.0).ok();
            let r = g.eval(k * 60_000, &mut db);
            for a in &r.alerts_to_send {
                let _ = a.to_json();
            }
        }
    }
}

fn exercise_template(src: &str) {
    if let Ok(t) = Template::parse(src) {
        let d = TemplateData::new(Labels::from_pairs(&[("job", "a")]), 2.5);
        let _ = t.expand(&d, &ExpandContext::default());
    }
}

#[test]
fn truncated_rule_files_do_not_panic() {
    for f in FILES {
        for (i, _) in f.char_indices() {
            exercise_file(&f[..i]);
        }
    }
}

#[test]
fn edited_rule_files_and_templates_do_not_panic() {
    // RULES_SWEEP=N multiplies the number of cases (for longer local runs).
    let k: usize = std::env::var("RULES_SWEEP")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1);
    let mut rng = Lcg(7 + k as u64);
    for _ in 0..400 * k {
        let f = FILES[rng.next() % FILES.len()];
        exercise_file(&mutate(&mut rng, f));
    }
    for _ in 0..4000 * k {
        let t = TEMPLATES[rng.next() % TEMPLATES.len()];
        exercise_template(&mutate(&mut rng, t));
    }
    for t in TEMPLATES {
        for (i, _) in t.char_indices() {
            exercise_template(&t[..i]);
        }
    }
}

#[test]
fn runaway_templates_are_stopped() {
    let d = TemplateData::new(Labels::empty(), 0.0);
    for src in [
        "{{ range 100000000 }}x{{ end }}",
        "{{ range 900000 }}{{ range 900000 }}{{ end }}{{ end }}",
        "{{ range 1000 }}{{ printf \"%60000s\" \"\" }}{{ end }}",
    ] {
        let t = Template::parse(src).unwrap();
        assert!(t.expand(&d, &ExpandContext::default()).is_err(), "{src}");
    }
}
