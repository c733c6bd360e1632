//! `tsdb export-prometheus SRC DST` and `tsdb import-prometheus SRC DST`: every block of
//! one format in SRC rewritten in the other format in DST, same time ranges and samples.

use std::path::Path;

use indicatif::ProgressBar;
use tsdb::promblock::export_native_block;
use tsdb::BlockMeta;

use super::{open_blocks, AnyBlock, Result};

/// Writes each native block of `src` as a Prometheus block in `dst`. Prometheus-format
/// blocks found in `src` are left alone (reported as skipped).
pub fn export_prometheus(src: &Path, dst: &Path, now_ms: i64) -> Result<(Vec<BlockMeta>, usize)> {
    let blocks = open_blocks(src)?;
    let bar = ProgressBar::new(blocks.len() as u64);
    let (mut out, mut skipped) = (Vec::new(), 0);
    for b in &blocks {
        match b {
            AnyBlock::Native(nb) => out.extend(export_native_block(nb, dst, now_ms)?),
            AnyBlock::Prometheus(_) => skipped += 1,
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    Ok((out, skipped))
}

/// Converts each Prometheus block of `src` into a native block in `dst`: float and
/// native-histogram chunks (encodings 1 to 3), tombstoned ranges left out; series in any
/// other chunk encoding are skipped with a note on stderr. Native blocks found in `src`
/// are left alone (reported as skipped).
pub fn import_prometheus(src: &Path, dst: &Path, now_ms: i64) -> Result<(Vec<BlockMeta>, usize)> {
    let blocks = open_blocks(src)?;
    let bar = ProgressBar::new(blocks.len() as u64);
    let (mut out, mut skipped) = (Vec::new(), 0);
    for b in &blocks {
        match b {
            AnyBlock::Prometheus(pb) => {
                let report = pb.convert_to_native(dst, now_ms)?;
                for l in &report.skipped_series {
                    eprintln!(
                        "{}: skipped {l}: chunk encoding other than float or histogram",
                        pb.meta().ulid
                    );
                }
                out.extend(report.meta);
            }
            AnyBlock::Native(_) => skipped += 1,
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    Ok((out, skipped))
}
