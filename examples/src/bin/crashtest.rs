//! `crashtest`: durability torture for the tsdb WAL.
//!
//! `crashtest write --dir D --seed S` appends a deterministic stream of samples over many
//! series, one commit at a time, printing `acked <total samples>` (and flushing) after each
//! commit returns. Every few commits it truncates the head, which checkpoints the WAL.
//! If D already holds data from an earlier (killed) run with the same seed, it resumes
//! after the last commit found, first redoing the truncation that commit called for (a kill
//! may have cut it short), so every truncation before the newest commit has completed.
//!
//! `crashtest verify --dir D --seed S --acked N` reopens D and checks that the data is
//! exactly a prefix of the stream made of whole commits, covering at least the first N
//! samples, less only what the writer's own truncations dropped (the one after the newest
//! commit may or may not have run). Exit 0 when so, 1 with a message when not.
//!
//! Stream: sample `k` belongs to series `k % series`, is that series' `j = k / series`-th
//! sample, has timestamp `T0 + j * 1000` and a value derived from `(seed, k)` that is
//! sometimes NaN, the staleness marker, ±Inf or -0.0, so values are compared bit for bit.

use std::io::Write;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use exposition::{Labels, Matcher};
use tsdb::chunk::SampleIterator;
use tsdb::storage::STALE_NAN_BITS;
use tsdb::{Db, DbOptions, Queryable, SelectHints, SeriesRef, SyncPolicy, WalOptions};

const T0: i64 = 1_700_000_000_000;
const METRIC: &str = "crashtest_samples";

#[derive(Parser)]
#[command(name = "crashtest", about = "WAL durability torture test")]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Append the stream until killed (or until --commits).
    Write {
        #[command(flatten)]
        s: Stream,
        /// Stop after this many commits in total (default: run until killed).
        #[arg(long)]
        commits: Option<u64>,
    },
    /// Check a directory against the stream.
    Verify {
        #[command(flatten)]
        s: Stream,
        /// Samples the writer acknowledged.
        #[arg(long)]
        acked: u64,
    },
}

#[derive(Args, Clone)]
struct Stream {
    /// Database directory.
    #[arg(long)]
    dir: std::path::PathBuf,
    /// Seed of the stream.
    #[arg(long)]
    seed: u64,
    /// Number of series.
    #[arg(long, default_value_t = 200)]
    series: u64,
    /// Samples per series in each commit.
    #[arg(long, default_value_t = 5)]
    per_commit: u64,
    /// Truncate (and checkpoint) after every this many commits; 0 = never.
    #[arg(long, default_value_t = 25)]
    truncate_every: u64,
    /// Samples per series kept by a truncation.
    #[arg(long, default_value_t = 60)]
    keep: u64,
    /// WAL fsync policy: `commit` (every commit), `interval` (every 100 ms of the
    /// writer's clock) or `manual` (never). A SIGKILL loses nothing under any of them: the
    /// bytes are in the OS page cache once `commit` returns.
    #[arg(long, default_value = "commit")]
    sync: SyncArg,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum SyncArg {
    Commit,
    Interval,
    Manual,
}

impl Stream {
    fn batch(&self) -> u64 {
        self.series * self.per_commit
    }

    /// Per-series index of the first sample kept by the truncation after commit `c`
    /// (1-based count of commits), when that commit truncates.
    fn trunc_j(&self, c: u64) -> Option<u64> {
        (self.truncate_every > 0 && c > 0 && c.is_multiple_of(self.truncate_every))
            .then(|| (c * self.per_commit).saturating_sub(self.keep))
    }
}

fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// The value bits of sample `k`.
fn value_bits(seed: u64, k: u64) -> u64 {
    let h = splitmix(seed ^ splitmix(k));
    match h % 101 {
        0 => STALE_NAN_BITS,
        1 => f64::NAN.to_bits(),
        2 => f64::INFINITY.to_bits(),
        3 => (-0.0f64).to_bits(),
        4..=40 => (((h >> 20) % 1000) as f64).to_bits(),
        _ => ((h >> 11) as f64 / (1u64 << 53) as f64 * 1e6).to_bits(),
    }
}

fn labels(seed: u64, i: u64) -> Labels {
    Labels::from_pairs(&[
        ("__name__", METRIC),
        ("series", &i.to_string()),
        ("seed", &seed.to_string()),
    ])
}

fn open(dir: &std::path::Path, sync: SyncArg) -> Result<Db, String> {
    let sync = match sync {
        SyncArg::Commit => SyncPolicy::EveryCommit,
        SyncArg::Interval => SyncPolicy::Interval { ms: 100 },
        SyncArg::Manual => SyncPolicy::Manual,
    };
    let opts = DbOptions {
        wal: WalOptions {
            sync,
            ..WalOptions::default()
        },
        ..DbOptions::default()
    };
    Db::open_path(dir, opts).map_err(|e| format!("open {}: {e}", dir.display()))
}

/// Samples present, per series index: (j, value bits).
fn read_back(db: &Db, s: &Stream) -> Result<Vec<Vec<(u64, u64)>>, String> {
    let q = db.querier(i64::MIN, i64::MAX).map_err(|e| e.to_string())?;
    let mut out = vec![Vec::new(); s.series as usize];
    let set = q
        .select(
            &[Matcher::equal("__name__", METRIC)],
            &SelectHints::default(),
        )
        .map_err(|e| e.to_string())?;
    for series in set {
        let l = series.labels();
        let i: u64 = l
            .get("series")
            .and_then(|v| v.parse().ok())
            .filter(|&i| i < s.series)
            .ok_or_else(|| format!("unexpected series {l}"))?;
        if l.get("seed") != Some(&s.seed.to_string()) || *l != labels(s.seed, i) {
            return Err(format!("unexpected series {l}"));
        }
        let mut it = series.iter();
        while it.next() {
            let (t, v) = it.at();
            let dt = t - T0;
            if dt < 0 || dt % 1000 != 0 {
                return Err(format!("series {i}: unexpected timestamp {t}"));
            }
            out[i as usize].push(((dt / 1000) as u64, v.to_bits()));
        }
    }
    Ok(out)
}

/// Number of whole commits present (from the newest sample), checking every series
/// agrees.
fn commits_present(data: &[Vec<(u64, u64)>], s: &Stream) -> Result<u64, String> {
    let ends: Vec<Option<u64>> = data.iter().map(|v| v.last().map(|x| x.0 + 1)).collect();
    let Some(end) = ends.iter().flatten().max().copied() else {
        return Ok(0);
    };
    if let Some((i, e)) = ends.iter().enumerate().find(|(_, e)| **e != Some(end)) {
        return Err(format!(
            "commit not atomic: series {i} ends at sample {e:?}, others at {end}"
        ));
    }
    if !end.is_multiple_of(s.per_commit) {
        return Err(format!("partial commit: series hold {end} samples each"));
    }
    Ok(end / s.per_commit)
}

fn write(s: Stream, max_commits: Option<u64>) -> Result<(), String> {
    let mut db = open(&s.dir, s.sync)?;
    let data = read_back(&db, &s)?;
    let mut c = commits_present(&data, &s)?;
    // A truncation that was due after the last commit may have been cut short by a kill:
    // redo it before writing more, so every commit after it finds it done.
    if let Some(j) = s.trunc_j(c) {
        db.truncate(T0 + j as i64 * 1000)
            .map_err(|e| format!("truncate after commit {c} (resumed): {e}"))?;
    }
    let mut refs: Vec<Option<SeriesRef>> = vec![None; s.series as usize];
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let started = std::time::Instant::now();
    loop {
        if max_commits.is_some_and(|m| c >= m) {
            return Ok(());
        }
        let mut app = db.appender();
        for k in c * s.batch()..(c + 1) * s.batch() {
            let i = k % s.series;
            let t = T0 + (k / s.series) as i64 * 1000;
            let v = f64::from_bits(value_bits(s.seed, k));
            let slot = &mut refs[i as usize];
            match *slot {
                Some(r) => app.append_ref(r, t, v),
                None => app
                    .append(&labels(s.seed, i), t, v)
                    .map(|r| *slot = Some(r)),
            }
            .map_err(|e| format!("append sample {k}: {e}"))?;
        }
        app.commit().map_err(|e| format!("commit {c}: {e}"))?;
        // The caller drives the interval fsync policy with its own clock.
        db.tick(started.elapsed().as_millis() as i64)
            .map_err(|e| format!("sync after commit {c}: {e}"))?;
        c += 1;
        writeln!(out, "acked {}", c * s.batch()).map_err(|e| e.to_string())?;
        out.flush().map_err(|e| e.to_string())?;
        if let Some(j) = s.trunc_j(c) {
            db.truncate(T0 + j as i64 * 1000)
                .map_err(|e| format!("truncate after commit {c}: {e}"))?;
        }
    }
}

fn verify(s: Stream, acked: u64) -> Result<String, String> {
    let db = open(&s.dir, s.sync)?;
    let data = read_back(&db, &s)?;
    let c = commits_present(&data, &s)?;
    let present = c * s.batch();
    if present < acked {
        return Err(format!(
            "lost data: {acked} samples acked but only {c} commits ({present} samples) present"
        ));
    }
    // The truncation after commit c may or may not have run; earlier ones did.
    let lo_def = (1..c).filter_map(|x| s.trunc_j(x)).max().unwrap_or(0);
    let lo_poss = s.trunc_j(c).unwrap_or(lo_def).max(lo_def);
    let end = c * s.per_commit;
    let bar = indicatif::ProgressBar::new(s.series);
    let mut lo_seen: Option<u64> = None;
    for (i, got) in data.iter().enumerate() {
        bar.inc(1);
        let first = got.first().map_or(end, |x| x.0);
        if first != lo_def && first != lo_poss {
            return Err(format!(
                "series {i}: starts at sample {first}, expected {lo_def} or {lo_poss}"
            ));
        }
        if *lo_seen.get_or_insert(first) != first {
            return Err(format!("series {i}: truncated differently from the others"));
        }
        if got.len() as u64 != end - first {
            return Err(format!(
                "series {i}: {} samples, expected {}",
                got.len(),
                end - first
            ));
        }
        for (n, &(j, v)) in got.iter().enumerate() {
            let want_j = first + n as u64;
            let k = want_j * s.series + i as u64;
            let want_v = value_bits(s.seed, k);
            if j != want_j || v != want_v {
                return Err(format!(
                    "series {i}: sample {n} is (j={j}, bits={v:#x}), expected (j={want_j}, bits={want_v:#x})"
                ));
            }
        }
    }
    bar.finish_and_clear();
    let rep = db.replay_report();
    Ok(format!(
        "ok: {c} commits ({present} samples, acked {acked}); replay: {} records{}{}",
        rep.records,
        rep.torn_tail
            .as_ref()
            .map(|(s, o)| format!(", torn tail cut in {s} at {o}"))
            .unwrap_or_default(),
        rep.checkpoint
            .as_ref()
            .map(|c| format!(", from {c}"))
            .unwrap_or_default(),
    ))
}

fn main() -> ExitCode {
    match Cli::parse().cmd {
        Cmd::Write { s, commits } => match write(s, commits) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("crashtest write: {e}");
                ExitCode::from(2)
            }
        },
        Cmd::Verify { s, acked } => match verify(s, acked) {
            Ok(msg) => {
                println!("{msg}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                println!("crashtest verify: FAILED: {e}");
                ExitCode::from(1)
            }
        },
    }
}
