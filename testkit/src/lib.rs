//! The one harness every peer-suite runner shares.
//!
//! A peer suite is a folder of upstream test data under `$PEER_TESTS/<subdir>` (CI sets
//! `PEER_TESTS=../shared/peer-tests`). A runner is an integration test that opens the suite,
//! walks its files in sorted order, turns each file (or each case inside it) into a call to
//! [`Suite::case`], and ends with [`Suite::finish`]. The runner only says how to load and run a
//! case; discovery, filtering, panic isolation, counting and reporting live here.
//!
//! - Without `PEER_TESTS` (or without the folder) [`Suite::open`] prints a skip note and returns
//!   `None`: a user's `cargo test` never fails for lack of the data.
//! - `PEER_FILTER=foo,-bar` runs only cases whose id contains `foo` and not `bar`.
//! - `PEER_VERBOSE=1` prints every case's outcome.
//! - Known gaps are a checked-in list of case ids with a reason ([`Suite::known_failures`]);
//!   they still count as failed but do not fail the test, so a *new* failure fails CI and
//!   fixing a known one is reported so the list can shrink.
//!
//! ```no_run
//! use testkit::{Outcome, Suite};
//! let Some(mut suite) = Suite::open("example", "example") else { return };
//! for file in testkit::files_sorted(suite.root(), |p| p.extension().is_some_and(|e| e == "txt")) {
//!     let id = file.display().to_string();
//!     suite.case(&id, || match std::fs::read_to_string(&file) {
//!         Ok(_) => Outcome::Pass,
//!         Err(e) => Outcome::Fail(e.to_string()),
//!     });
//! }
//! suite.finish();
//! ```

use std::collections::BTreeMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

/// The result of one case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The case behaved as upstream expects.
    Pass,
    /// It did not; the string says how.
    Fail(String),
    /// Not run, with the reason (an unsupported feature, an out-of-scope format).
    Skip(String),
}

/// A peer suite being run; see the [crate docs](crate).
pub struct Suite {
    name: String,
    root: PathBuf,
    include: Vec<String>,
    exclude: Vec<String>,
    verbose: bool,
    known: BTreeMap<String, String>,
    passed: usize,
    failed: Vec<(String, String)>,
    skipped: usize,
    now_passing: Vec<String>,
    seen: std::collections::BTreeSet<String>,
}

impl Suite {
    /// Opens `$PEER_TESTS/<subdir>` as suite `name`, or prints
    /// `<name>: skipped (...)` and returns `None` when it is not there.
    pub fn open(name: &str, subdir: &str) -> Option<Suite> {
        let Some(base) = std::env::var_os("PEER_TESTS") else {
            println!("{name}: skipped (PEER_TESTS unset)");
            return None;
        };
        let root = PathBuf::from(base).join(subdir);
        if !root.is_dir() {
            println!("{name}: skipped ({} not found)", root.display());
            return None;
        }
        let (include, exclude) = parse_filter(&std::env::var("PEER_FILTER").unwrap_or_default());
        Some(Suite {
            name: name.to_string(),
            root,
            include,
            exclude,
            verbose: std::env::var("PEER_VERBOSE").is_ok_and(|v| !v.is_empty() && v != "0"),
            known: BTreeMap::new(),
            passed: 0,
            failed: Vec::new(),
            skipped: 0,
            now_passing: Vec::new(),
            seen: Default::default(),
        })
    }

    /// The suite's folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Declares known failures: one case id per line, optionally followed by `# reason`.
    /// Blank lines and lines starting with `#` are ignored.
    pub fn known_failures(mut self, text: &str) -> Suite {
        for line in text.lines() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (id, reason) = match line.split_once(" #") {
                Some((id, r)) => (id.trim(), r.trim()),
                None => (line, ""),
            };
            self.known.insert(id.to_string(), reason.to_string());
        }
        self
    }

    /// Whether the filter selects case `id`.
    pub fn selected(&self, id: &str) -> bool {
        (self.include.is_empty() || self.include.iter().any(|f| id.contains(f.as_str())))
            && !self.exclude.iter().any(|f| id.contains(f.as_str()))
    }

    /// Runs one case under `catch_unwind` (a panic is a failure) and counts it.
    pub fn case(&mut self, id: &str, f: impl FnOnce() -> Outcome) {
        if !self.selected(id) {
            return;
        }
        if !self.seen.insert(id.to_string()) {
            panic!("{}: duplicate case id {id:?}", self.name);
        }
        let outcome = match catch_unwind(AssertUnwindSafe(f)) {
            Ok(o) => o,
            Err(p) => Outcome::Fail(format!("panicked: {}", panic_message(&p))),
        };
        self.record(id, outcome);
    }

    /// Counts an outcome computed elsewhere (for runners that cannot use a closure).
    pub fn record(&mut self, id: &str, outcome: Outcome) {
        if self.verbose {
            match &outcome {
                Outcome::Pass => println!("  PASS {id}"),
                Outcome::Fail(why) => println!("  FAIL {id}: {why}"),
                Outcome::Skip(why) => println!("  SKIP {id}: {why}"),
            }
        }
        match outcome {
            Outcome::Pass => {
                self.passed += 1;
                if self.known.contains_key(id) {
                    self.now_passing.push(id.to_string());
                }
            }
            Outcome::Fail(why) => self.failed.push((id.to_string(), why)),
            Outcome::Skip(_) => self.skipped += 1,
        }
    }

    /// Counts so far: (passed, failed, skipped).
    pub fn counts(&self) -> (usize, usize, usize) {
        (self.passed, self.failed.len(), self.skipped)
    }

    /// Prints `<name>: N passed, M failed, K skipped` and panics, listing them, when any
    /// failure is not in the known-failures list.
    pub fn finish(self) {
        for id in &self.now_passing {
            println!(
                "{}: note: known failure now passes, remove it from the list: {id}",
                self.name
            );
        }
        let unexpected: Vec<_> = self
            .failed
            .iter()
            .filter(|(id, _)| !self.known.contains_key(id))
            .collect();
        let known = self.failed.len() - unexpected.len();
        if known > 0 {
            println!("{}: {known} of the failures are known (listed)", self.name);
        }
        println!(
            "{}: {} passed, {} failed, {} skipped",
            self.name,
            self.passed,
            self.failed.len(),
            self.skipped
        );
        if !unexpected.is_empty() {
            let mut msg = format!(
                "{}: {} unexpected failure(s):\n",
                self.name,
                unexpected.len()
            );
            for (id, why) in &unexpected {
                msg.push_str(&format!("  {id}: {why}\n"));
            }
            panic!("{msg}");
        }
    }
}

/// Files under `dir` (recursively) for which `pred` holds, in sorted path order.
pub fn files_sorted(dir: &Path, pred: impl Fn(&Path) -> bool) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if pred(&p) {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

fn parse_filter(s: &str) -> (Vec<String>, Vec<String>) {
    let (mut inc, mut exc) = (Vec::new(), Vec::new());
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        match part.strip_prefix('-') {
            Some(x) => exc.push(x.to_string()),
            None => inc.push(part.to_string()),
        }
    }
    (inc, exc)
}

fn panic_message(p: &Box<dyn std::any::Any + Send>) -> String {
    if let Some(s) = p.downcast_ref::<&str>() {
        s.to_string()
    } else if let Some(s) = p.downcast_ref::<String>() {
        s.clone()
    } else {
        "non-string panic".to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn suite() -> Suite {
        Suite {
            name: "t".into(),
            root: PathBuf::new(),
            include: vec![],
            exclude: vec![],
            verbose: false,
            known: BTreeMap::new(),
            passed: 0,
            failed: vec![],
            skipped: 0,
            now_passing: vec![],
            seen: Default::default(),
        }
    }

    #[test]
    fn filter_parsing() {
        let (i, e) = parse_filter("foo, -bar,,baz");
        assert_eq!(i, ["foo", "baz"]);
        assert_eq!(e, ["bar"]);
    }

    #[test]
    fn counts_and_panics_are_failures() {
        let mut s = suite().known_failures("b # not yet\n# comment\n");
        s.case("a", || Outcome::Pass);
        s.case("b", || panic!("boom"));
        s.case("c", || Outcome::Skip("feature".into()));
        assert_eq!(s.counts(), (1, 1, 1));
        s.finish(); // b is known: no panic
    }

    #[test]
    #[should_panic(expected = "unexpected failure")]
    fn unexpected_failure_panics() {
        let mut s = suite();
        s.case("x", || Outcome::Fail("wrong".into()));
        s.finish();
    }

    #[test]
    fn filter_selects() {
        let mut s = suite();
        s.include = vec!["op".into()];
        s.exclude = vec!["slow".into()];
        assert!(s.selected("operators.test:3"));
        assert!(!s.selected("operators_slow"));
        assert!(!s.selected("selectors"));
    }
}
