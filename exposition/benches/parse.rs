//! Parse and encode throughput on the real node_exporter scrape.
//!
//! Input: `$PEER_TESTS/scrapes/node_exporter.prom` (falling back to
//! `../../shared/peer-tests/...` from the crate, then to a generated scrape of the same shape).
//! The OpenMetrics input is the same scrape converted with `family::to_openmetrics`.
//!
//! Groups report bytes/s (`*_bytes`) and samples/s (`*_samples`). `prometheus-parse` is the
//! crate most Rust projects use today; it materialises every sample's labels, so compare it
//! with `text/parse+labels` as well as with the zero-copy `text/parse`.
//!
//! Run: `cargo bench -p exposition --bench parse -- --warm-up-time 1 --measurement-time 3`

use std::hint::black_box;
use std::path::PathBuf;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use exposition::family::to_openmetrics;
use exposition::openmetrics::{self, OpenMetricsParser};
use exposition::text::{self, TextParser};
use exposition::Entry;

fn load_scrape() -> (String, &'static str) {
    let mut candidates = Vec::new();
    if let Some(base) = std::env::var_os("PEER_TESTS") {
        candidates.push(PathBuf::from(base).join("scrapes/node_exporter.prom"));
    }
    candidates.push(
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../shared/peer-tests/scrapes/node_exporter.prom"),
    );
    for c in candidates {
        if let Ok(s) = std::fs::read_to_string(&c) {
            return (s, "node_exporter.prom");
        }
    }
    (generated_scrape(), "generated")
}

/// A scrape shaped like node_exporter's: ~280 families, HELP/TYPE each, 1-10 samples with
/// 0-4 labels, counters, gauges and a summary.
fn generated_scrape() -> String {
    let mut s = String::new();
    for f in 0..283 {
        let (ty, name) = match f % 4 {
            0 => ("counter", format!("node_subsystem{f}_events_total")),
            3 => ("untyped", format!("node_subsystem{f}_info")),
            _ => ("gauge", format!("node_subsystem{f}_bytes")),
        };
        s.push_str(&format!(
            "# HELP {name} Metric number {f} of a node exporter like scrape.\n# TYPE {name} {ty}\n"
        ));
        for i in 0..(1 + f % 3) {
            match f % 5 {
                0 => s.push_str(&format!("{name} {}\n", f * 1000 + i)),
                1 => s.push_str(&format!("{name}{{device=\"sda{i}\"}} {}.{}e+06\n", f, i)),
                _ => s.push_str(&format!(
                    "{name}{{cpu=\"{i}\",mode=\"idle\",device=\"eth{i}\",fstype=\"ext4\"}} {}.25\n",
                    f * 31 + i
                )),
            }
        }
    }
    s
}

fn count_samples<'a>(it: impl Iterator<Item = Result<Entry<'a>, exposition::ParseError>>) -> usize {
    let mut n = 0;
    for e in it {
        if let Entry::Sample(s) = e.expect("valid input") {
            black_box(s.value);
            n += 1;
        }
    }
    n
}

fn count_with_labels<'a>(
    it: impl Iterator<Item = Result<Entry<'a>, exposition::ParseError>>,
) -> usize {
    let mut n = 0;
    for e in it {
        if let Entry::Sample(s) = e.expect("valid input") {
            for (k, v) in s.labels.iter() {
                black_box((k, v));
            }
            n += 1;
        }
    }
    n
}

fn bench(c: &mut Criterion) {
    let (text_in, source) = load_scrape();
    let fams = text::parse_families(text_in.as_bytes()).expect("scrape parses");
    let om_fams = to_openmetrics(fams.clone());
    let mut om_in = String::new();
    openmetrics::encode(&om_fams, &mut om_in);
    let samples = count_samples(TextParser::new(text_in.as_bytes())) as u64;
    let om_samples = count_samples(OpenMetricsParser::new(om_in.as_bytes())) as u64;
    eprintln!(
        "input: {source}, text {} bytes / {samples} samples, OpenMetrics {} bytes / {om_samples} samples",
        text_in.len(),
        om_in.len()
    );

    for (unit, tp_text, tp_om) in [
        (
            "bytes",
            Throughput::Bytes(text_in.len() as u64),
            Throughput::Bytes(om_in.len() as u64),
        ),
        (
            "samples",
            Throughput::Elements(samples),
            Throughput::Elements(om_samples),
        ),
    ] {
        let mut g = c.benchmark_group(format!("parse_{unit}"));
        g.throughput(tp_text.clone());
        g.bench_function("text/parse", |b| {
            b.iter(|| count_samples(TextParser::new(black_box(text_in.as_bytes()))))
        });
        g.bench_function("text/parse+labels", |b| {
            b.iter(|| count_with_labels(TextParser::new(black_box(text_in.as_bytes()))))
        });
        g.bench_function("text/families", |b| {
            b.iter(|| text::parse_families(black_box(text_in.as_bytes())).map(|f| f.len()))
        });
        g.bench_function("prometheus-parse", |b| {
            b.iter(|| {
                let lines = black_box(text_in.as_str())
                    .lines()
                    .map(|l| Ok(l.to_owned()));
                prometheus_parse::Scrape::parse(lines).map(|s| s.samples.len())
            })
        });
        g.throughput(tp_om.clone());
        g.bench_function("openmetrics/parse", |b| {
            b.iter(|| count_samples(OpenMetricsParser::new(black_box(om_in.as_bytes()))))
        });
        g.bench_function("openmetrics/parse-lenient", |b| {
            b.iter(|| count_samples(OpenMetricsParser::lenient(black_box(om_in.as_bytes()))))
        });
        g.finish();

        let mut g = c.benchmark_group(format!("encode_{unit}"));
        g.throughput(tp_text);
        g.bench_function("text", |b| {
            b.iter(|| {
                let mut out = String::with_capacity(text_in.len());
                text::encode(black_box(&fams), &mut out);
                out.len()
            })
        });
        g.throughput(tp_om);
        g.bench_function("openmetrics", |b| {
            b.iter(|| {
                let mut out = String::with_capacity(om_in.len());
                openmetrics::encode(black_box(&om_fams), &mut out);
                out.len()
            })
        });
        g.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
