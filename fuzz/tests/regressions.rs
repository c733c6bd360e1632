//! Replays every checked-in crash input under `fuzz/regressions/<target>/` through the same
//! entry point as the cargo-fuzz target, so fixed crashes stay fixed without cargo-fuzz.
//!
//! Inputs whose fix is still pending are listed in `tests/known_crashes.txt`
//! (`<target>/<file>  # reason`): they are reported but do not fail the test; a listed
//! input that no longer crashes is printed as a note so the line can be dropped.

use std::collections::BTreeSet;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;

const KNOWN: &str = include_str!("known_crashes.txt");

fn known() -> BTreeSet<String> {
    KNOWN
        .lines()
        .map(|l| l.split('#').next().unwrap_or("").trim())
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

#[test]
fn regressions_replay() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("regressions");
    let known = known();
    let mut ran = 0;
    let mut unexpected = Vec::new();
    let mut fixed = Vec::new();
    let mut entries: Vec<_> = std::fs::read_dir(&root)
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    entries.sort();
    for dir in entries.into_iter().filter(|p| p.is_dir()) {
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        let target = fuzz::target(&name)
            .unwrap_or_else(|| panic!("regressions/{name}: no such fuzz target"));
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.is_file())
            .collect();
        files.sort();
        for f in files {
            let id = format!("{name}/{}", f.file_name().unwrap().to_string_lossy());
            let data = std::fs::read(&f).unwrap();
            ran += 1;
            let crashed = catch_unwind(AssertUnwindSafe(|| target(&data))).is_err();
            match (crashed, known.contains(&id)) {
                (true, false) => unexpected.push(id),
                (true, true) => println!("known crash: {id}"),
                (false, true) => fixed.push(id),
                (false, false) => {}
            }
        }
    }
    for id in &fixed {
        println!("note: {id} no longer crashes; drop it from tests/known_crashes.txt");
    }
    println!(
        "regressions: {ran} inputs replayed, {} unexpected crashes",
        unexpected.len()
    );
    assert!(unexpected.is_empty(), "crashing inputs: {unexpected:?}");
}

#[test]
fn every_target_accepts_trivial_inputs() {
    for (name, target) in fuzz::TARGETS {
        for input in [&b""[..], b"\n", b"\xff\xfe", b"{}", b"[]", b"a 1\n# EOF\n"] {
            let r = catch_unwind(AssertUnwindSafe(|| target(input)));
            assert!(r.is_ok(), "{name} panics on {input:?}");
        }
    }
}
