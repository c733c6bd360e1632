//! `tsdb analyze DIR`: per block, what it holds and what drives its cardinality, in the
//! spirit of `promtool tsdb analyze`: series, samples, chunks, bytes per sample, the label
//! names with the most values, the metric names with the most series, and the label
//! pairs found on the most series.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;

use exposition::{Labels, METRIC_NAME};

use super::{format_duration, open_blocks, AnyBlock, CliError, Result};

/// What analyze found in one block.
#[derive(Debug, Clone, PartialEq)]
pub struct BlockReport {
    /// Block id.
    pub ulid: String,
    /// `native` or `prometheus`.
    pub format: &'static str,
    /// `[min_time, max_time)`.
    pub range: (i64, i64),
    /// Series, samples, chunks.
    pub series: u64,
    /// Samples.
    pub samples: u64,
    /// Chunks.
    pub chunks: u64,
    /// Bytes of the block's files.
    pub bytes: u64,
    /// Distinct label names.
    pub label_names: usize,
    /// Distinct label pairs.
    pub label_pairs: usize,
    /// Label pairs summed over series.
    pub label_pair_entries: usize,
    /// `(values, name)`, most values first.
    pub top_label_names: Vec<(usize, String)>,
    /// `(series, metric name)`, most series first.
    pub top_metrics: Vec<(usize, String)>,
    /// `(series, name=value)`, most series first.
    pub top_pairs: Vec<(usize, String)>,
}

fn dir_size(p: &Path) -> Result<u64> {
    let mut n = 0;
    for e in std::fs::read_dir(p).map_err(|e| CliError::io(p, e))? {
        let e = e.map_err(|e| CliError::io(p, e))?;
        let md = e.metadata().map_err(|err| CliError::io(e.path(), err))?;
        n += if md.is_dir() {
            dir_size(&e.path())?
        } else {
            md.len()
        };
    }
    Ok(n)
}

fn top<K: Ord + Clone>(m: HashMap<K, usize>, limit: usize) -> Vec<(usize, K)> {
    let mut v: Vec<(usize, K)> = m.into_iter().map(|(k, n)| (n, k)).collect();
    v.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    v.truncate(limit);
    v
}

/// Analyzes one block.
pub fn analyze_block(b: &AnyBlock, limit: usize) -> Result<BlockReport> {
    let labels: Vec<Labels> = b.all_labels()?;
    let mut values: HashMap<&str, BTreeSet<&str>> = HashMap::new();
    let mut metrics: HashMap<String, usize> = HashMap::new();
    let mut pairs: HashMap<(&str, &str), usize> = HashMap::new();
    let mut entries = 0;
    for l in &labels {
        if let Some(m) = l.get(METRIC_NAME) {
            *metrics.entry(m.to_string()).or_default() += 1;
        }
        for p in l.iter() {
            values.entry(&p.name).or_default().insert(&p.value);
            *pairs.entry((&p.name, &p.value)).or_default() += 1;
            entries += 1;
        }
    }
    let meta = b.meta();
    let names: HashMap<String, usize> = values
        .iter()
        .map(|(k, v)| (k.to_string(), v.len()))
        .collect();
    let label_pairs = pairs.len();
    let pairs: HashMap<String, usize> = pairs
        .into_iter()
        .map(|((n, v), c)| (format!("{n}={v}"), c))
        .collect();
    Ok(BlockReport {
        ulid: meta.ulid.clone(),
        format: b.format(),
        range: (meta.min_time, meta.max_time),
        series: labels.len() as u64,
        samples: meta.stats.num_samples,
        chunks: meta.stats.num_chunks,
        bytes: dir_size(b.path())?,
        label_names: names.len(),
        label_pairs,
        label_pair_entries: entries,
        top_label_names: top(names, limit),
        top_metrics: top(metrics, limit),
        top_pairs: top(pairs, limit),
    })
}

fn print_report(r: &BlockReport) {
    println!("Block ID: {}", r.ulid);
    println!("Format: {}", r.format);
    println!(
        "Time range: {} .. {} ({})",
        r.range.0,
        r.range.1,
        format_duration(r.range.1 - r.range.0)
    );
    println!("Series: {}", r.series);
    println!("Samples: {}", r.samples);
    println!("Chunks: {}", r.chunks);
    let bps = if r.samples > 0 {
        r.bytes as f64 / r.samples as f64
    } else {
        0.0
    };
    println!("Bytes: {} ({bps:.2} bytes/sample)", r.bytes);
    println!("Label names: {}", r.label_names);
    println!("Postings (unique label pairs): {}", r.label_pairs);
    println!(
        "Postings entries (total label pairs): {}",
        r.label_pair_entries
    );
    println!("\nHighest cardinality labels:");
    for (n, k) in &r.top_label_names {
        println!("{n} {k}");
    }
    println!("\nHighest cardinality metric names:");
    for (n, k) in &r.top_metrics {
        println!("{n} {k}");
    }
    println!("\nLabel pairs most involved (series per pair):");
    for (n, k) in &r.top_pairs {
        println!("{n} {k}");
    }
}

/// Analyzes every block in `dir` (or the block `dir`) and prints the reports, then totals.
pub fn analyze(dir: &Path, limit: usize) -> Result<Vec<BlockReport>> {
    let blocks = open_blocks(dir)?;
    let mut reports = Vec::with_capacity(blocks.len());
    let mut all_series: BTreeSet<Labels> = BTreeSet::new();
    for (i, b) in blocks.iter().enumerate() {
        if i > 0 {
            println!();
        }
        let r = analyze_block(b, limit)?;
        print_report(&r);
        all_series.extend(b.all_labels()?);
        reports.push(r);
    }
    let samples: u64 = reports.iter().map(|r| r.samples).sum();
    let bytes: u64 = reports.iter().map(|r| r.bytes).sum();
    println!(
        "\nTotal: {} blocks, {} series, {} samples, {} bytes ({:.2} bytes/sample)",
        reports.len(),
        all_series.len(),
        samples,
        bytes,
        if samples > 0 {
            bytes as f64 / samples as f64
        } else {
            0.0
        }
    );
    Ok(reports)
}
