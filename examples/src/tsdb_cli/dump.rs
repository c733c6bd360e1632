//! `tsdb dump DIR [--match SELECTOR]`: every sample of the blocks in DIR (either format),
//! one line each, `{labels} value timestamp`, series in label order and samples in time
//! order across blocks: the same text `promtool tsdb dump` prints.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use exposition::{Labels, Matcher};

use super::{go_float, open_blocks, promtool_labels, CliError, Result};

/// Parses a series selector (`up{job="x"}`, `{__name__=~"a.*"}`) into matchers.
pub fn parse_selector(s: &str) -> Result<Vec<Matcher>> {
    match promql::parse(s) {
        Ok(promql::Expr::VectorSelector(v)) if v.offset == 0 && v.at.is_none() => Ok(v.matchers),
        Ok(_) => Err(CliError::Selector(format!(
            "{s:?} is not a plain series selector"
        ))),
        Err(e) => Err(CliError::Selector(e.to_string())),
    }
}

/// Writes the dump of `dir` to `out`. Returns the number of samples written.
pub fn dump(
    dir: &Path,
    matchers: &[Matcher],
    mint: i64,
    maxt: i64,
    out: &mut dyn Write,
) -> Result<u64> {
    let blocks = open_blocks(dir)?;
    let mut all: BTreeMap<Labels, Vec<(i64, f64)>> = BTreeMap::new();
    for b in &blocks {
        b.for_each_series(matchers, mint, maxt, &mut |labels, it| {
            let v = all.entry(labels.clone()).or_default();
            while it.next() {
                v.push(it.at());
            }
        })?;
    }
    let mut n = 0u64;
    let mut line = String::new();
    for (labels, mut samples) in all {
        // Blocks may overlap: order by time, keep the first sample of a timestamp.
        samples.sort_by_key(|s| s.0);
        samples.dedup_by_key(|s| s.0);
        let ls = promtool_labels(&labels);
        for (t, v) in samples {
            line.clear();
            line.push_str(&ls);
            line.push(' ');
            line.push_str(&go_float(v));
            line.push(' ');
            line.push_str(&t.to_string());
            line.push('\n');
            out.write_all(line.as_bytes())
                .map_err(|e| CliError::io("<stdout>", e))?;
            n += 1;
        }
    }
    Ok(n)
}
