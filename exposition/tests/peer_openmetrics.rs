//! Runs the OpenMetrics conformance suite (`$PEER_TESTS/openmetrics/parsers/*/test.json`):
//! every case is parsed in strict mode and the outcome compared with `shouldParse`. Valid
//! cases must also survive a round trip: group, encode as OpenMetrics, parse again, and get
//! the same families.

use exposition::openmetrics::{self, OpenMetricsParser};
use exposition::Entry;
use testkit::{Outcome, Suite};

fn run_case(dir: &std::path::Path) -> Outcome {
    let spec: serde_json::Value =
        match std::fs::read(dir.join("test.json")).map(|b| serde_json::from_slice(&b)) {
            Ok(Ok(v)) => v,
            Ok(Err(e)) => return Outcome::Fail(format!("bad test.json: {e}")),
            Err(e) => return Outcome::Fail(format!("reading test.json: {e}")),
        };
    if spec["type"] != "text" {
        return Outcome::Skip(format!("exposition type {} is not text", spec["type"]));
    }
    let Some(file) = spec["file"].as_str() else {
        return Outcome::Fail("test.json has no file".into());
    };
    let Some(should_parse) = spec["shouldParse"].as_bool() else {
        return Outcome::Fail("test.json has no shouldParse".into());
    };
    let input = match std::fs::read(dir.join(file)) {
        Ok(b) => b,
        Err(e) => return Outcome::Fail(format!("reading {file}: {e}")),
    };
    let result: Result<Vec<Entry>, _> = OpenMetricsParser::new(&input).collect();
    match (should_parse, result) {
        (true, Ok(entries)) => {
            if entries.last() != Some(&Entry::Eof) {
                return Outcome::Fail("parsed without yielding Eof".into());
            }
            round_trip(&input)
        }
        (false, Err(e)) => {
            if std::env::var_os("PEER_VERBOSE").is_some() {
                println!("  {}: rejected as expected: {e}", dir.display());
            }
            Outcome::Pass
        }
        (true, Err(e)) => Outcome::Fail(format!("rejected a valid input: {e}")),
        (false, Ok(_)) => Outcome::Fail("accepted an invalid input".into()),
    }
}

fn round_trip(input: &[u8]) -> Outcome {
    let fams = match openmetrics::parse_families(input) {
        Ok(f) => f,
        Err(e) => return Outcome::Fail(format!("grouping failed: {e}")),
    };
    let mut out = String::new();
    openmetrics::encode(&fams, &mut out);
    match openmetrics::parse_families(out.as_bytes()) {
        Ok(again) if format!("{again:?}") == format!("{fams:?}") => Outcome::Pass,
        Ok(_) => Outcome::Fail(format!("round trip changed the families:\n{out}")),
        Err(e) => Outcome::Fail(format!("re-encoded output rejected: {e}\n{out}")),
    }
}

#[test]
fn openmetrics() {
    let Some(suite) = Suite::open("openmetrics", "openmetrics") else {
        return;
    };
    let mut suite = suite.known_failures(include_str!("known_failures/openmetrics.txt"));
    let root = suite.root().join("parsers");
    let cases = testkit::files_sorted(&root, |p| p.file_name().is_some_and(|n| n == "test.json"));
    assert!(!cases.is_empty(), "no cases under {}", root.display());
    for json in cases {
        let Some(dir) = json.parent() else { continue };
        let id = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        suite.case(&id, || run_case(dir));
    }
    suite.finish();
}
