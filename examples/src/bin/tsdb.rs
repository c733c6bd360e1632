//! `tsdb`: import and inspect tsdb directories, and move blocks to and from Prometheus's
//! on-disk format.
//!
//! - `tsdb import openmetrics FILE DIR [--block-duration 2h]`: timestamped OpenMetrics text
//!   into native blocks in DIR (like `promtool tsdb create-blocks-from openmetrics`).
//! - `tsdb analyze DIR [--limit N]`: series, samples, bytes per sample and the label
//!   cardinality leaders of each block.
//! - `tsdb dump DIR [--match SELECTOR] [--min-time MS] [--max-time MS]`: every sample as
//!   `{labels} value timestamp` (the text `promtool tsdb dump` prints).
//! - `tsdb export-prometheus SRC DST`: native blocks of SRC as Prometheus blocks in DST.
//! - `tsdb import-prometheus SRC DST`: Prometheus blocks of SRC as native blocks in DST.
//!
//! DIR may be a directory of blocks, one block, or a `server --storage.path` directory
//! (its blocks live in `DIR/blocks`: import there to serve the data). Errors go to stderr; the exit code is 1
//! for a failed command and 2 for a usage error.

#[path = "../tsdb_cli/mod.rs"]
mod tsdb_cli;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use tsdb_cli::{now_ms, parse_duration, print_block_table, Result};

#[derive(Parser)]
#[command(
    name = "tsdb",
    about = "Import, inspect and convert tsdb block directories"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Import samples from a file into blocks.
    Import {
        #[command(subcommand)]
        what: ImportCmd,
    },
    /// Describe the blocks in a directory.
    Analyze {
        /// A directory of blocks, or one block.
        dir: PathBuf,
        /// How many entries each top list shows.
        #[arg(long, default_value_t = 20)]
        limit: usize,
    },
    /// Print every sample of the blocks in a directory.
    Dump {
        /// A directory of blocks, or one block.
        dir: PathBuf,
        /// Only series matching this selector, e.g. `up{job="node"}`.
        #[arg(long = "match")]
        selector: Option<String>,
        /// Earliest timestamp (ms, inclusive).
        #[arg(long = "min-time", default_value_t = i64::MIN, allow_hyphen_values = true)]
        min_time: i64,
        /// Latest timestamp (ms, inclusive).
        #[arg(long = "max-time", default_value_t = i64::MAX, allow_hyphen_values = true)]
        max_time: i64,
    },
    /// Write our native blocks in SRC as Prometheus blocks in DST.
    ExportPrometheus {
        /// Directory of native blocks (or one block).
        src: PathBuf,
        /// Directory for the Prometheus blocks.
        dst: PathBuf,
    },
    /// Write the Prometheus blocks in SRC as our native blocks in DST.
    ImportPrometheus {
        /// Directory of Prometheus blocks (or one block).
        src: PathBuf,
        /// Directory for the native blocks.
        dst: PathBuf,
    },
}

#[derive(Subcommand)]
enum ImportCmd {
    /// OpenMetrics text with a timestamp on every sample.
    Openmetrics {
        /// The input file.
        file: PathBuf,
        /// The output directory (blocks are created inside it).
        dir: PathBuf,
        /// Block duration; blocks are aligned to multiples of it.
        #[arg(long = "block-duration", default_value = "2h")]
        block_duration: String,
    },
}

fn run(cli: Cli) -> Result<()> {
    match cli.cmd {
        Cmd::Import {
            what:
                ImportCmd::Openmetrics {
                    file,
                    dir,
                    block_duration,
                },
        } => {
            let d = parse_duration("--block-duration", &block_duration)?;
            let metas = tsdb_cli::import::import_openmetrics(&file, &dir, d, now_ms())?;
            print_block_table(&metas);
        }
        Cmd::Analyze { dir, limit } => {
            tsdb_cli::analyze::analyze(&dir, limit)?;
        }
        Cmd::Dump {
            dir,
            selector,
            min_time,
            max_time,
        } => {
            let matchers = match selector {
                Some(s) => tsdb_cli::dump::parse_selector(&s)?,
                None => Vec::new(),
            };
            let stdout = std::io::stdout();
            let mut out = std::io::BufWriter::new(stdout.lock());
            tsdb_cli::dump::dump(&dir, &matchers, min_time, max_time, &mut out)?;
            std::io::Write::flush(&mut out).map_err(|e| tsdb_cli::CliError::io("<stdout>", e))?;
        }
        Cmd::ExportPrometheus { src, dst } => {
            let (metas, skipped) = tsdb_cli::convert::export_prometheus(&src, &dst, now_ms())?;
            print_block_table(&metas);
            if skipped > 0 {
                eprintln!("skipped {skipped} block(s) already in Prometheus format");
            }
        }
        Cmd::ImportPrometheus { src, dst } => {
            let (metas, skipped) = tsdb_cli::convert::import_prometheus(&src, &dst, now_ms())?;
            print_block_table(&metas);
            if skipped > 0 {
                eprintln!("skipped {skipped} block(s) already in native format");
            }
        }
    }
    Ok(())
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tsdb: {e}");
            ExitCode::FAILURE
        }
    }
}
