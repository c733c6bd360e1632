//! The `tsdb` program's commands: import OpenMetrics text into blocks, analyze and dump
//! block directories, and convert blocks to and from Prometheus's on-disk format.
//!
//! | module | the question it answers |
//! |---|---|
//! | [`import`] | how does timestamped OpenMetrics text become blocks? |
//! | [`analyze`] | what is in these blocks (cardinality, bytes per sample)? |
//! | [`dump`] | which samples do these blocks hold? |
//! | [`convert`] | how do blocks move between our format and Prometheus's? |

pub mod analyze;
pub mod convert;
pub mod dump;
pub mod import;

use std::path::{Path, PathBuf};

use exposition::{Labels, Matcher};
use tsdb::chunk::SampleIterator;
use tsdb::promblock::{PromBlock, PromBlockError};
use tsdb::{Block, BlockMeta, SelectHints};

/// Everything a command can fail with; printed on stderr, exit code 1.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CliError {
    /// Reading or writing a file or directory.
    #[error("{path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The input text does not parse (the parser's error carries line and column).
    #[error("{path}:{source}")]
    Parse {
        /// The input file.
        path: PathBuf,
        /// The parser's error.
        source: exposition::ParseError,
    },
    /// A sample without a timestamp (block import needs one on every sample).
    #[error("{path}:{line}: sample has no timestamp")]
    MissingTimestamp {
        /// The input file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
    },
    /// Two different values for one series at one timestamp.
    #[error(
        "{path}:{line}: duplicate sample for {series} at timestamp {t} with a different value"
    )]
    DuplicateSample {
        /// The input file.
        path: PathBuf,
        /// 1-based line of the second sample.
        line: usize,
        /// The series.
        series: String,
        /// The timestamp.
        t: i64,
    },
    /// A `--block-duration` or time flag that does not parse.
    #[error("invalid {what} {value:?}: {reason}")]
    InvalidFlag {
        /// The flag.
        what: &'static str,
        /// What was given.
        value: String,
        /// Why it is refused.
        reason: &'static str,
    },
    /// A `--match` selector that does not parse.
    #[error("invalid --match selector: {0}")]
    Selector(String),
    /// A directory holding no block.
    #[error("{0}: no blocks found")]
    NoBlocks(PathBuf),
    /// Our tsdb failed.
    #[error(transparent)]
    Tsdb(#[from] tsdb::Error),
    /// Reading or writing a Prometheus-format block failed.
    #[error(transparent)]
    PromBlock(#[from] PromBlockError),
}

impl CliError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> CliError {
        CliError::Io {
            path: path.into(),
            source,
        }
    }
}

/// Result alias for the commands.
pub type Result<T, E = CliError> = std::result::Result<T, E>;

/// A block of either format.
pub enum AnyBlock {
    /// One of our native blocks.
    Native(Block),
    /// A block in Prometheus's format.
    Prometheus(PromBlock),
}

/// Whether the block directory's index is in Prometheus's format (big-endian magic).
pub fn is_prometheus_block(dir: &Path) -> bool {
    use std::io::Read;
    let mut magic = [0u8; 4];
    std::fs::File::open(dir.join("index"))
        .and_then(|mut f| f.read_exact(&mut magic))
        .is_ok()
        && magic == tsdb::promblock::INDEX_MAGIC.to_be_bytes()
}

impl AnyBlock {
    /// Opens the block at `dir`, detecting its format.
    pub fn open(dir: &Path) -> Result<AnyBlock> {
        if is_prometheus_block(dir) {
            Ok(AnyBlock::Prometheus(PromBlock::open(dir)?))
        } else {
            Ok(AnyBlock::Native(Block::open(dir)?))
        }
    }

    /// The block's meta.json.
    pub fn meta(&self) -> &BlockMeta {
        match self {
            AnyBlock::Native(b) => b.meta(),
            AnyBlock::Prometheus(b) => b.meta(),
        }
    }

    /// `native` or `prometheus`.
    pub fn format(&self) -> &'static str {
        match self {
            AnyBlock::Native(_) => "native",
            AnyBlock::Prometheus(_) => "prometheus",
        }
    }

    /// The block's directory.
    pub fn path(&self) -> &Path {
        match self {
            AnyBlock::Native(b) => b.path(),
            AnyBlock::Prometheus(b) => b.path(),
        }
    }

    /// Calls `f` for every series matching `matchers` with samples in `[mint, maxt]`.
    pub fn for_each_series(
        &self,
        matchers: &[Matcher],
        mint: i64,
        maxt: i64,
        f: &mut dyn FnMut(&Labels, &mut dyn SampleIterator),
    ) -> Result<()> {
        match self {
            AnyBlock::Native(b) => {
                let q = b.querier(mint, maxt);
                for s in q.select(matchers, &SelectHints::default())? {
                    let mut it = s.iter();
                    f(s.labels(), &mut it);
                }
            }
            AnyBlock::Prometheus(b) => {
                for s in b.select(matchers, mint, maxt) {
                    let mut it = s.iter()?;
                    f(s.labels(), &mut it);
                }
            }
        }
        Ok(())
    }

    /// The label sets of every series.
    pub fn all_labels(&self) -> Result<Vec<Labels>> {
        let mut out = Vec::new();
        match self {
            AnyBlock::Native(b) => {
                let q = b.querier(i64::MIN, i64::MAX);
                for s in q.select(&[], &SelectHints::default())? {
                    out.push(s.labels().clone());
                }
            }
            AnyBlock::Prometheus(b) => {
                out.extend(b.series().iter().map(|s| s.labels.clone()));
            }
        }
        Ok(out)
    }
}

/// The blocks in `dir` and in `dir/blocks` (where `server --storage.path dir` keeps
/// them), or `dir` itself when it is a block; sorted by min time.
pub fn open_blocks(dir: &Path) -> Result<Vec<AnyBlock>> {
    if dir.join("meta.json").is_file() {
        return Ok(vec![AnyBlock::open(dir)?]);
    }
    let mut dirs = Vec::new();
    let nested = dir.join("blocks");
    let roots: &[&Path] = if nested.is_dir() {
        &[dir, &nested]
    } else {
        &[dir]
    };
    for root in roots {
        for ent in std::fs::read_dir(root).map_err(|e| CliError::io(*root, e))? {
            let ent = ent.map_err(|e| CliError::io(*root, e))?;
            let p = ent.path();
            let name = ent.file_name().to_string_lossy().into_owned();
            if p.join("meta.json").is_file() && tsdb::block::meta::is_block_id(&name) {
                dirs.push(p);
            }
        }
    }
    let mut blocks = dirs
        .iter()
        .map(|d| AnyBlock::open(d))
        .collect::<Result<Vec<_>>>()?;
    if blocks.is_empty() {
        return Err(CliError::NoBlocks(dir.to_path_buf()));
    }
    blocks.sort_by_key(|b| (b.meta().min_time, b.meta().ulid.clone()));
    Ok(blocks)
}

/// Parses a Prometheus duration (`2h`, `90m`, `1h30m`, `500ms`, `1d`) into milliseconds.
pub fn parse_duration(what: &'static str, s: &str) -> Result<i64> {
    let bad = |reason| CliError::InvalidFlag {
        what,
        value: s.to_string(),
        reason,
    };
    let mut rest = s;
    let mut total: i64 = 0;
    if rest.is_empty() {
        return Err(bad("empty"));
    }
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return Err(bad("expected a number"));
        }
        let n: i64 = rest[..digits]
            .parse()
            .map_err(|_| bad("number too large"))?;
        rest = &rest[digits..];
        let unit_len = rest.bytes().take_while(u8::is_ascii_alphabetic).count();
        let unit = match &rest[..unit_len] {
            "ms" => 1,
            "s" => 1_000,
            "m" => 60_000,
            "h" => 3_600_000,
            "d" => 86_400_000,
            "w" => 7 * 86_400_000,
            "y" => 365 * 86_400_000,
            _ => return Err(bad("unknown unit (use ms, s, m, h, d, w, y)")),
        };
        rest = &rest[unit_len..];
        total = n
            .checked_mul(unit)
            .and_then(|v| total.checked_add(v))
            .ok_or_else(|| bad("too large"))?;
    }
    if total <= 0 {
        return Err(bad("must be positive"));
    }
    Ok(total)
}

/// A duration in milliseconds the way Go prints one (`2h0m0s`, `1h40m0.001s`).
pub fn format_duration(ms: i64) -> String {
    if ms < 1000 {
        return if ms == 0 {
            "0s".into()
        } else {
            format!("{ms}ms")
        };
    }
    let (h, rem) = (ms / 3_600_000, ms % 3_600_000);
    let (m, rem) = (rem / 60_000, rem % 60_000);
    let (s, milli) = (rem / 1000, rem % 1000);
    let secs = if milli == 0 {
        format!("{s}s")
    } else {
        let frac = format!("{milli:03}");
        format!("{s}.{}s", frac.trim_end_matches('0'))
    };
    if h > 0 {
        format!("{h}h{m}m{secs}")
    } else if m > 0 {
        format!("{m}m{secs}")
    } else {
        secs
    }
}

/// A float the way Go's `%g` prints it (what `promtool tsdb dump` writes).
pub fn go_float(v: f64) -> String {
    if v.is_nan() {
        return "NaN".into();
    }
    if v.is_infinite() {
        return if v > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        };
    }
    if v == 0.0 {
        return if v.is_sign_negative() {
            "-0".into()
        } else {
            "0".into()
        };
    }
    // Shortest round-trip digits, in scientific form: "d.ddde<exp>". Go's shortest %g
    // uses the exponent form when the exponent is below -4 or at least 6.
    let sci = format!("{v:e}");
    let (mant, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if !(-4..6).contains(&exp) {
        let sign = if exp < 0 { '-' } else { '+' };
        return format!("{mant}e{sign}{:02}", exp.abs());
    }
    format!("{v}")
}

/// `{a="b", c="d"}`, the way promtool prints a label set.
pub fn promtool_labels(l: &Labels) -> String {
    let mut s = String::from("{");
    for (i, p) in l.iter().enumerate() {
        if i > 0 {
            s.push_str(", ");
        }
        s.push_str(&p.name);
        s.push('=');
        s.push_str(&format!("{:?}", p.value));
    }
    s.push('}');
    s
}

/// The wall clock in milliseconds (the time part of new block ids).
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// Prints the promtool-style table of written blocks.
pub fn print_block_table(metas: &[BlockMeta]) {
    println!(
        "{:<27} {:<14} {:<14} {:<12} {:<12} {:<12} {:<12}",
        "BLOCK ULID", "MIN TIME", "MAX TIME", "DURATION", "NUM SAMPLES", "NUM CHUNKS", "NUM SERIES"
    );
    for m in metas {
        println!(
            "{:<27} {:<14} {:<14} {:<12} {:<12} {:<12} {:<12}",
            m.ulid,
            m.min_time,
            m.max_time,
            format_duration(m.max_time - m.min_time),
            m.stats.num_samples,
            m.stats.num_chunks,
            m.stats.num_series
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_and_print_like_go() {
        assert_eq!(parse_duration("d", "2h").unwrap(), 7_200_000);
        assert_eq!(parse_duration("d", "1h30m").unwrap(), 5_400_000);
        assert_eq!(parse_duration("d", "500ms").unwrap(), 500);
        for bad in ["", "h", "2", "2x", "0s", "99999999999999999y"] {
            assert!(parse_duration("d", bad).is_err(), "{bad}");
        }
        assert_eq!(format_duration(7_200_000), "2h0m0s");
        assert_eq!(format_duration(6_000_001), "1h40m0.001s");
        assert_eq!(format_duration(1), "1ms");
        assert_eq!(format_duration(90_500), "1m30.5s");
    }

    #[test]
    fn floats_print_like_go_percent_g() {
        let cases = [
            (1e10, "1e+10"),
            (15.5, "15.5"),
            (12.0, "12"),
            (123456.0, "123456"),
            (1234567.0, "1.234567e+06"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (-3.25, "-3.25"),
            (f64::NAN, "NaN"),
            (f64::INFINITY, "+Inf"),
            (f64::NEG_INFINITY, "-Inf"),
            (-0.0, "-0"),
            (1.7976931348623157e308, "1.7976931348623157e+308"),
            (1e-300, "1e-300"),
        ];
        for (v, want) in cases {
            assert_eq!(go_float(v), want, "{v}");
        }
    }
}
