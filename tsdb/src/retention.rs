//! Retention: which blocks are old enough, or push the total size far enough, to delete.
//!
//! ```text
//! blocks (oldest first) ──► by time: newest maxTime − block maxTime ≥ retention
//!                       └──► by size: oldest first while the total exceeds the limit
//! ```
//!
//! As in Prometheus, time retention is measured from the newest block's end (not from a
//! clock), so a database that stops ingesting keeps its last blocks.

/// Indexes of the blocks to delete. `blocks` is `(min_time, max_time, size_bytes)` per
/// block sorted oldest first; `retention_ms` and `max_bytes` of 0 mean "no limit".
pub fn beyond_retention(
    blocks: &[(i64, i64, u64)],
    retention_ms: i64,
    max_bytes: u64,
) -> Vec<usize> {
    let mut out = Vec::new();
    let Some(newest) = blocks.iter().map(|b| b.1).max() else {
        return out;
    };
    if retention_ms > 0 {
        for (i, b) in blocks.iter().enumerate() {
            if newest.saturating_sub(b.1) >= retention_ms {
                out.push(i);
            }
        }
    }
    if max_bytes > 0 {
        let mut total: u64 = blocks
            .iter()
            .enumerate()
            .filter(|(i, _)| !out.contains(i))
            .map(|(_, b)| b.2)
            .sum();
        for (i, b) in blocks.iter().enumerate() {
            if total <= max_bytes {
                break;
            }
            if !out.contains(&i) {
                out.push(i);
                total -= b.2;
            }
        }
    }
    out.sort_unstable();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: i64 = 3_600_000;

    #[test]
    fn by_time_from_the_newest_block() {
        let b = [(0, 2 * H, 10), (2 * H, 4 * H, 10), (4 * H, 6 * H, 10)];
        assert_eq!(beyond_retention(&b, 4 * H, 0), vec![0]);
        assert_eq!(beyond_retention(&b, 2 * H, 0), vec![0, 1]);
        assert!(beyond_retention(&b, 5 * H, 0).is_empty());
        assert!(beyond_retention(&b, 0, 0).is_empty());
        assert!(beyond_retention(&[], H, 1).is_empty());
    }

    #[test]
    fn by_size_oldest_first() {
        let b = [(0, 2 * H, 10), (2 * H, 4 * H, 20), (4 * H, 6 * H, 30)];
        assert_eq!(beyond_retention(&b, 0, 60), Vec::<usize>::new());
        assert_eq!(beyond_retention(&b, 0, 59), vec![0]);
        assert_eq!(beyond_retention(&b, 0, 30), vec![0, 1]);
        assert_eq!(beyond_retention(&b, 0, 29), vec![0, 1, 2]);
        // Both limits together.
        assert_eq!(beyond_retention(&b, 4 * H, 45), vec![0, 1]);
    }
}
