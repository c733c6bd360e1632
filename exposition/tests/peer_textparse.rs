//! Runs Prometheus's `model/textparse` test data (`$PEER_TESTS/textparse`): every file must
//! parse under its format with one sample per sample line and survive an encode/parse round
//! trip; the metadata-free variants must give the same sample counts as the originals; and
//! `alltypes.5mfs.om.txt` (negative histogram `_sum`) must be rejected by the strict
//! OpenMetrics parser and accepted by the lenient one.

mod common;

use std::path::Path;

use common::*;
use exposition::openmetrics::OpenMetricsParser;
use testkit::{Outcome, Suite};

fn is_openmetrics(rel: &str) -> bool {
    rel.contains(".om.") || rel.contains("omcounterdata") || rel.contains("dump-openmetrics")
}

fn run(path: &Path, rel: &str) -> Result<(), String> {
    let input = std::fs::read(path).map_err(|e| e.to_string())?;
    if rel == "alltypes.5mfs.om.txt" {
        if parse_om(&input).is_ok() {
            return Err("strict OpenMetrics accepted a histogram with a negative _sum".into());
        }
        let c = count(OpenMetricsParser::lenient(&input)).map_err(|e| e.to_string())?;
        return check_sample_count(&input, &c);
    }
    if is_openmetrics(rel) {
        let c = parse_om(&input)?;
        check_sample_count(&input, &c)?;
        om_round_trip(&input)
    } else {
        let c = parse_text(&input)?;
        check_sample_count(&input, &c)?;
        text_round_trip(&input)
    }
}

fn same_counts(root: &Path, a: &str, b: &str) -> Result<(), String> {
    let read = |f: &str| std::fs::read(root.join(f)).map_err(|e| format!("{f}: {e}"));
    let (ca, cb) = (parse_text(&read(a)?)?, parse_text(&read(b)?)?);
    if ca.samples != cb.samples {
        return Err(format!("{a}: {} samples, {b}: {}", ca.samples, cb.samples));
    }
    Ok(())
}

#[test]
fn textparse() {
    let Some(mut suite) = Suite::open("textparse", "textparse") else {
        return;
    };
    let root = suite.root().to_path_buf();
    let files = testkit::files_sorted(&root, |p| {
        let name = p.file_name().map(|n| n.to_string_lossy().into_owned());
        !matches!(name.as_deref(), Some("SOURCE.md" | "LICENSE"))
    });
    assert!(!files.is_empty(), "no files under {}", root.display());
    for f in files {
        let rel = f
            .strip_prefix(&root)
            .unwrap_or(&f)
            .to_string_lossy()
            .into_owned();
        suite.case(&rel, || outcome(run(&f, &rel)));
    }
    for (a, b) in [
        (
            "alltypes.237mfs.prom.txt",
            "alltypes.237mfs.nometa.prom.txt",
        ),
        (
            "historic/promtestdata.txt",
            "historic/promtestdata.nometa.txt",
        ),
    ] {
        suite.case(&format!("{a} vs {b}: same sample count"), || {
            outcome(same_counts(&root, a, b))
        });
    }
    let _ = Outcome::Pass;
    suite.finish();
}
