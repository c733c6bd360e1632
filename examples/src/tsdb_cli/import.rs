//! `tsdb import openmetrics FILE DIR`: timestamped OpenMetrics text into native blocks,
//! like `promtool tsdb create-blocks-from openmetrics`. Samples are grouped by series,
//! sorted by time (input may be out of order), and cut into blocks aligned to the block
//! duration; each block covers its first to its last sample.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use exposition::openmetrics::OpenMetricsParser;
use exposition::{Entry, Labels};
use indicatif::{ProgressBar, ProgressStyle};
use tsdb::promblock::VecSamples;
use tsdb::{BlockMeta, BlockWriter};

use super::{CliError, Result};

/// One series' samples with the input line of each (for error messages).
#[derive(Default)]
struct SeriesSamples {
    samples: Vec<(i64, f64, usize)>,
}

/// 1-based line of byte `offset` in `text`, counting from a known `(offset, line)`.
fn line_at(text: &[u8], from: (usize, usize), offset: usize) -> (usize, usize) {
    let (start, line) = from;
    let end = offset.min(text.len());
    let n = text[start.min(end)..end]
        .iter()
        .filter(|&&b| b == b'\n')
        .count();
    (end, line + n)
}

/// Parses `file` and writes its samples as blocks in `dir`. Returns the new blocks' metas.
pub fn import_openmetrics(
    file: &Path,
    dir: &Path,
    block_ms: i64,
    now_ms: i64,
) -> Result<Vec<BlockMeta>> {
    let text = std::fs::read(file).map_err(|e| CliError::io(file, e))?;
    let bar = ProgressBar::new(text.len() as u64);
    bar.set_style(
        ProgressStyle::with_template("{msg} [{bar:30}] {bytes}/{total_bytes}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar.set_message("parsing");

    // The grammar is checked strictly; the semantic rules (family/type naming) are not,
    // as promtool does not enforce them either.
    let mut parser = OpenMetricsParser::lenient(&text);
    let mut by_text: HashMap<String, usize> = HashMap::new();
    let mut series: Vec<(Labels, SeriesSamples)> = Vec::new();
    let mut pos = (0usize, 1usize);
    let mut n_samples = 0u64;
    loop {
        let start = parser.offset();
        pos = line_at(&text, pos, start);
        let line = pos.1;
        let Some(entry) = parser.next() else { break };
        let entry = entry.map_err(|source| CliError::Parse {
            path: file.to_path_buf(),
            source,
        })?;
        let Entry::Sample(s) = entry else { continue };
        let Some(t) = s.timestamp else {
            return Err(CliError::MissingTimestamp {
                path: file.to_path_buf(),
                line,
            });
        };
        let idx = match by_text.get(s.series) {
            Some(&i) => i,
            None => {
                series.push((s.to_labels(), SeriesSamples::default()));
                by_text.insert(s.series.to_string(), series.len() - 1);
                series.len() - 1
            }
        };
        series[idx].1.samples.push((t, s.value, line));
        n_samples += 1;
        if n_samples.is_multiple_of(4096) {
            bar.set_position(start as u64);
        }
    }
    bar.set_position(text.len() as u64);

    // Sort each series by time; drop exact repeats, refuse conflicting ones.
    let mut blocks: BTreeMap<i64, Vec<usize>> = BTreeMap::new();
    for (i, (labels, s)) in series.iter_mut().enumerate() {
        s.samples.sort_by_key(|x| x.0);
        let mut out: Vec<(i64, f64, usize)> = Vec::with_capacity(s.samples.len());
        for x in s.samples.drain(..) {
            match out.last() {
                Some(p) if p.0 == x.0 && p.1.to_bits() == x.1.to_bits() => {}
                Some(p) if p.0 == x.0 => {
                    return Err(CliError::DuplicateSample {
                        path: file.to_path_buf(),
                        line: x.2,
                        series: labels.to_string(),
                        t: x.0,
                    })
                }
                _ => out.push(x),
            }
        }
        s.samples = out;
        for x in &s.samples {
            let start = x.0.div_euclid(block_ms) * block_ms;
            let v = blocks.entry(start).or_default();
            if v.last() != Some(&i) {
                v.push(i);
            }
        }
    }
    bar.finish_and_clear();

    // One block per aligned range, series in label order.
    let bar = ProgressBar::new(blocks.len() as u64);
    bar.set_style(
        ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} blocks")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar.set_message("writing");
    let mut metas = Vec::new();
    for (start, mut members) in blocks {
        let end = start + block_ms;
        members.sort_by(|&a, &b| series[a].0.cmp(&series[b].0));
        let in_range = |i: usize| -> Vec<(i64, f64)> {
            series[i]
                .1
                .samples
                .iter()
                .filter(|x| x.0 >= start && x.0 < end)
                .map(|x| (x.0, x.1))
                .collect()
        };
        let (mut mint, mut maxt) = (i64::MAX, i64::MIN);
        for &i in &members {
            let v = in_range(i);
            if let (Some(a), Some(z)) = (v.first(), v.last()) {
                mint = mint.min(a.0);
                maxt = maxt.max(z.0);
            }
        }
        let mut w = BlockWriter::create(dir, mint, maxt + 1)?;
        for &i in &members {
            w.add_series(&series[i].0, &mut VecSamples::new(in_range(i)))?;
        }
        if let Some(m) = w.finish(now_ms)? {
            metas.push(m);
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    Ok(metas)
}
