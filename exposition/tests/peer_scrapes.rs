//! Runs the real scrapes (`$PEER_TESTS/scrapes`): each `.prom` file parses as text 0.0.4
//! and each `.om` file as strict OpenMetrics, with one sample per sample line and one
//! HELP/TYPE entry per HELP/TYPE line, and survives an encode/parse round trip. The `.prom`
//! files are not valid OpenMetrics (no `# EOF`, `_total` family names) and the strict parser
//! must say so; the Python client's two scrapes must agree on the sample count.

mod common;

use std::path::Path;

use common::*;
use testkit::Suite;

fn run(path: &Path, om: bool) -> Result<(), String> {
    let input = std::fs::read(path).map_err(|e| e.to_string())?;
    let c = if om {
        parse_om(&input)?
    } else {
        parse_text(&input)?
    };
    check_sample_count(&input, &c)?;
    let (helps, types) = (
        lines_starting(&input, "# HELP "),
        lines_starting(&input, "# TYPE "),
    );
    if (c.helps, c.types) != (helps, types) {
        return Err(format!(
            "{} HELP / {} TYPE entries, {helps} / {types} lines",
            c.helps, c.types
        ));
    }
    if om {
        om_round_trip(&input)
    } else {
        text_round_trip(&input)
    }
}

#[test]
fn scrapes() {
    let Some(mut suite) = Suite::open("scrapes", "scrapes") else {
        return;
    };
    let root = suite.root().to_path_buf();
    let files = testkit::files_sorted(&root, |p| {
        p.extension().is_some_and(|e| e == "prom" || e == "om")
    });
    assert!(!files.is_empty(), "no scrapes under {}", root.display());
    for f in &files {
        let name = f
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let om = name.ends_with(".om");
        suite.case(&name, || outcome(run(f, om)));
        if !om {
            suite.case(&format!("{name} is not OpenMetrics"), || {
                outcome(match std::fs::read(f) {
                    Ok(input) if parse_om(&input).is_err() => Ok(()),
                    Ok(_) => Err("strict OpenMetrics accepted a 0.0.4 scrape".into()),
                    Err(e) => Err(e.to_string()),
                })
            });
        }
    }
    suite.case(
        "python_client.prom vs python_client.om: same sample count",
        || {
            outcome((|| {
                let a = parse_text(
                    &std::fs::read(root.join("python_client.prom")).map_err(|e| e.to_string())?,
                )?;
                let b = parse_om(
                    &std::fs::read(root.join("python_client.om")).map_err(|e| e.to_string())?,
                )?;
                if a.samples != b.samples {
                    return Err(format!("{} vs {} samples", a.samples, b.samples));
                }
                Ok(())
            })())
        },
    );
    suite.finish();
}
