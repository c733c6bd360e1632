//! Targets over persisted blocks: a real block is written once per process with the public
//! writers, then each input replaces one of its files (the index, or the chunk segment)
//! and the block is opened and queried through the public API. Errors are expected;
//! panics are findings.
//!
//! The seed corpora are the real files of such blocks ([`seed_files`], written by the
//! `block_seeds` example that `fuzz/run-all` runs), so libFuzzer starts from valid bytes
//! and damages them.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use exposition::{histogram::FloatHistogram, Labels, MatchOp, Matcher};
use tsdb::chunk::{MixedIterator, SampleIterator, ValueType};
use tsdb::promblock::{PromBlock, PromBlockWriter, VecSamples};
use tsdb::{Block, BlockWriter, SelectHints};

/// The block's time range.
const MAXT: i64 = 7_200_000;
/// The `now_ms` the block ids are made from (fixed, so runs are reproducible).
const NOW_MS: i64 = 1_700_000_000_000;
/// Upper bound on samples read per series, so a damaged count cannot make an input slow.
const MAX_SAMPLES: usize = 100_000;

/// The series of the template block, sorted by labels: `(labels, samples)`.
fn template_series(small: bool) -> Vec<(Labels, Vec<(i64, f64)>)> {
    let mut out = Vec::new();
    let n = if small { 1 } else { 9 };
    for i in 0..n {
        let name = if i % 3 == 0 {
            "http_requests_total"
        } else {
            "up"
        };
        let l = Labels::from_pairs(&[
            ("__name__", name),
            ("instance", &format!("host-{i}:9100")),
            ("job", if i % 2 == 0 { "node" } else { "api" }),
        ]);
        // One long series (several chunks), the others short; values of every kind.
        let count = if i == 0 && !small { 1_100 } else { 3 + i * 7 };
        let samples = (0..count)
            .map(|k| {
                let t = 1_000 + k as i64 * 6_000;
                let v = match k % 7 {
                    0 => f64::NAN,
                    1 => -0.0,
                    2 => f64::INFINITY,
                    _ => k as f64 * 1.5 + i as f64,
                };
                (t, v)
            })
            .filter(|&(t, _)| t < MAXT)
            .collect();
        out.push((l, samples));
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// Writes a block in our format under `root`; returns its directory.
fn write_native(root: &Path, small: bool) -> PathBuf {
    let mut w = BlockWriter::create(root, 0, MAXT).expect("block writer");
    for (l, s) in template_series(small) {
        w.add_series(&l, &mut VecSamples::new(s))
            .expect("add series");
    }
    let meta = w.finish(NOW_MS).expect("finish").expect("block has series");
    root.join(meta.ulid)
}

/// Writes a block in Prometheus's format under `root`; returns its directory.
fn write_prom(root: &Path, small: bool) -> PathBuf {
    let mut w = PromBlockWriter::create(root, 0, MAXT).expect("promblock writer");
    for (l, s) in template_series(small) {
        w.add_series(&l, &mut VecSamples::new(s))
            .expect("add series");
    }
    let meta = w.finish(NOW_MS).expect("finish").expect("block has series");
    root.join(meta.ulid)
}

fn scratch_root(tag: &str) -> PathBuf {
    let base = if Path::new("/dev/shm").is_dir() {
        PathBuf::from("/dev/shm")
    } else {
        std::env::temp_dir()
    };
    remove_stale(&base);
    // Unique per call: test threads of one process may write blocks at the same time.
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let p = base.join(format!("fuzz-blocks-{}-{n}-{tag}", std::process::id()));
    let _ = std::fs::remove_dir_all(&p);
    p
}

/// Removes the scratch blocks of processes that are gone (statics are never dropped, so a
/// process cannot clean up its own).
fn remove_stale(base: &Path) {
    if !Path::new("/proc/self").exists() {
        return; // no way to tell live processes from dead ones
    }
    let Ok(rd) = std::fs::read_dir(base) else {
        return;
    };
    for e in rd.flatten() {
        let name = e.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|n| n.strip_prefix("fuzz-blocks-"))
            .and_then(|n| n.split('-').next())
            .and_then(|p| p.parse::<u32>().ok())
        else {
            continue;
        };
        if pid != std::process::id() && !Path::new(&format!("/proc/{pid}")).exists() {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}

/// The first chunk segment file of a block directory.
fn first_segment(block: &Path) -> PathBuf {
    let mut names: Vec<PathBuf> = std::fs::read_dir(block.join("chunks"))
        .expect("chunks dir")
        .flatten()
        .map(|e| e.path())
        .collect();
    names.sort();
    names.into_iter().next().expect("a chunk segment")
}

/// One template block per target, behind a lock: each input overwrites a file of it, so
/// two inputs (test threads) must not run on it at once.
struct Template {
    dir: PathBuf,
    /// The file inputs replace.
    file: PathBuf,
}

fn with_template(
    slot: &'static Mutex<Option<Template>>,
    make: impl FnOnce() -> Template,
    data: &[u8],
    f: impl FnOnce(&Path),
) {
    let mut g: MutexGuard<'_, Option<Template>> = slot.lock().unwrap_or_else(|p| p.into_inner());
    let t = g.get_or_insert_with(make);
    std::fs::write(&t.file, data).expect("write the input into the block");
    f(&t.dir);
}

fn matchers() -> Vec<Vec<Matcher>> {
    let m = |op, n: &str, v: &str| Matcher::new(op, n, v).expect("valid matcher");
    vec![
        vec![m(MatchOp::RegexMatch, "__name__", ".+")],
        vec![m(MatchOp::Equal, "job", "node")],
        vec![
            m(MatchOp::Equal, "__name__", "up"),
            m(MatchOp::RegexNoMatch, "instance", "host-[13].*"),
        ],
        vec![m(MatchOp::NotEqual, "job", "")],
    ]
}

/// Reads everything a native block offers; errors end a path, panics are findings.
fn query_native(b: &Block) {
    let _ = b.verify_index();
    let _ = b.verify_chunks();
    let _ = b.size_bytes();
    for (mint, maxt) in [(i64::MIN, i64::MAX), (100_000, 200_000)] {
        let q = b.querier(mint, maxt);
        let _ = q.label_names(&[]);
        let _ = q.label_values("job", &[]);
        for ms in matchers() {
            let _ = q.label_values("instance", &ms);
            let Ok(set) = q.select(&ms, &SelectHints::default()) else {
                continue;
            };
            for s in set {
                let _ = s.labels().to_string();
                let mut it = s.iter();
                let mut n = 0;
                while n < MAX_SAMPLES && it.next() {
                    let _ = it.at();
                    n += 1;
                }
                let mut it = s.iter();
                if it.seek(150_000) {
                    let _ = it.at();
                    let _ = it.next();
                }
                let mut it = s.sample_iter();
                let mut fh = FloatHistogram::default();
                let mut n = 0;
                loop {
                    match it.next() {
                        ValueType::None => break,
                        ValueType::Float => {
                            let _ = it.at();
                        }
                        _ => {
                            let _ = it.at_float_histogram(&mut fh);
                        }
                    }
                    n += 1;
                    if n >= MAX_SAMPLES {
                        break;
                    }
                }
            }
        }
    }
}

fn native_query_both_ways(dir: &Path) {
    if let Ok(b) = Block::open(dir) {
        query_native(&b);
    }
    // Lazily opened, damage in the index sections surfaces in the queries instead.
    if let Ok(b) = Block::open_lazy(dir) {
        query_native(&b);
    }
}

static BLOCK_INDEX: Mutex<Option<Template>> = Mutex::new(None);
static BLOCK_CHUNKS: Mutex<Option<Template>> = Mutex::new(None);
static PROMBLOCK_INDEX: Mutex<Option<Template>> = Mutex::new(None);

/// Arbitrary bytes as the `index` file of an otherwise intact block (our format): opening
/// (eager and lazy), verifying and querying return errors, never panic.
pub fn block_index(data: &[u8]) {
    let make = || {
        let dir = write_native(&scratch_root("block_index"), false);
        Template {
            file: dir.join("index"),
            dir,
        }
    };
    with_template(&BLOCK_INDEX, make, data, native_query_both_ways);
}

/// Arbitrary bytes as the chunk segment of an otherwise intact block (our format):
/// opening, verifying and reading every series' samples return errors, never panic.
pub fn block_chunks(data: &[u8]) {
    let make = || {
        let dir = write_native(&scratch_root("block_chunks"), false);
        Template {
            file: first_segment(&dir),
            dir,
        }
    };
    with_template(&BLOCK_CHUNKS, make, data, native_query_both_ways);
}

/// Arbitrary bytes as the `index` file of an otherwise intact Prometheus-format block:
/// opening, selecting, reading samples and verifying return errors, never panic.
pub fn promblock_index(data: &[u8]) {
    let make = || {
        let dir = write_prom(&scratch_root("promblock_index"), false);
        Template {
            file: dir.join("index"),
            dir,
        }
    };
    with_template(&PROMBLOCK_INDEX, make, data, |dir| {
        let Ok(b) = PromBlock::open(dir) else {
            return;
        };
        let _ = b.verify_chunks();
        let _ = b.label_names();
        let _ = b.label_values("job");
        let _ = b.series().len();
        for ms in matchers() {
            for s in b.select(&ms, i64::MIN, i64::MAX) {
                let _ = s.labels().to_string();
                let _ = s.raw_chunks();
                if let Ok(mut it) = s.iter() {
                    let mut n = 0;
                    while n < MAX_SAMPLES && it.next() {
                        let _ = it.at();
                        n += 1;
                    }
                }
            }
        }
        for s in b.all_series() {
            if s.chunks().len() < 1_000 {
                let _ = s.samples();
            }
        }
    });
}

/// The real files the block targets start from: `(target, seed name, bytes)`, from a
/// one-series block and a nine-series one (one series spanning several chunks).
pub fn seed_files() -> Vec<(&'static str, String, Vec<u8>)> {
    let mut out = Vec::new();
    let root = scratch_root("seeds");
    for small in [true, false] {
        let tag = if small { "small" } else { "nine-series" };
        let dir = write_native(&root.join(format!("native-{tag}")), small);
        let read = |p: PathBuf| std::fs::read(p).expect("read block file");
        out.push((
            "block_index",
            format!("seed-{tag}-index"),
            read(dir.join("index")),
        ));
        out.push((
            "block_chunks",
            format!("seed-{tag}-chunks"),
            read(first_segment(&dir)),
        ));
        let dir = write_prom(&root.join(format!("prom-{tag}")), small);
        out.push((
            "promblock_index",
            format!("seed-{tag}-index"),
            read(dir.join("index")),
        ));
    }
    let _ = std::fs::remove_dir_all(&root);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_are_accepted_and_read_back() {
        let seeds = seed_files();
        assert_eq!(seeds.len(), 6);
        for (target, name, bytes) in &seeds {
            assert!(!bytes.is_empty(), "{target}/{name}");
            crate::target(target).expect("a target")(bytes);
        }
        // The seeds are the real files: put back, the block reads as written.
        let (_, _, index) = &seeds[3];
        assert_eq!(seeds[3].0, "block_index");
        with_template(
            &BLOCK_INDEX,
            || {
                let dir = write_native(&scratch_root("block_index-t"), false);
                Template {
                    file: dir.join("index"),
                    dir,
                }
            },
            index,
            |dir| {
                let b = Block::open(dir).expect("intact block opens");
                let q = b.querier(i64::MIN, i64::MAX);
                let all = vec![Matcher::new(MatchOp::RegexMatch, "__name__", ".+").unwrap()];
                let set = q.select(&all, &SelectHints::default()).unwrap();
                let mut samples = 0;
                for s in set {
                    let mut it = s.iter();
                    while it.next() {
                        samples += 1;
                    }
                }
                let want: usize = template_series(false).iter().map(|s| s.1.len()).sum();
                assert_eq!(samples, want);
            },
        );
    }

    #[test]
    fn every_single_byte_flip_and_truncation_of_the_seeds_is_survived() {
        let mut runs = 0;
        for (target, _, bytes) in seed_files() {
            let f = crate::target(target).expect("a target");
            let step = (bytes.len() / 400).max(1);
            for pos in (0..bytes.len()).step_by(step) {
                let mut d = bytes.clone();
                d[pos] ^= 0xFF;
                f(&d);
                runs += 1;
            }
            for cut in 0..16 {
                f(&bytes[..bytes.len() * cut / 16]);
                runs += 1;
            }
        }
        assert!(runs > 1_000, "{runs}");
    }
}
