//! Clipping a run of chunks to `[mint, maxt]`: the part of a series iterator that does not
//! depend on where the chunks live (the head's memory or a block's mmap).

use super::xor::XorIter;
use super::SampleIterator;

/// A cursor over consecutive chunks that yields only samples in `[mint, maxt]`. The caller
/// supplies the next chunk through a closure, so the head's and the blocks' iterators share
/// this logic while keeping their own chunk lists.
#[derive(Debug, Clone)]
pub(crate) struct ClippedCursor<'a> {
    /// The chunk being decoded.
    pub cur: XorIter<'a>,
    /// First timestamp wanted (inclusive).
    pub mint: i64,
    /// Last timestamp wanted (inclusive).
    pub maxt: i64,
    /// Set once the range or the chunks are exhausted.
    pub done: bool,
}

impl<'a> ClippedCursor<'a> {
    /// A cursor over `[mint, maxt]` with no chunk loaded yet.
    pub fn new(mint: i64, maxt: i64) -> ClippedCursor<'a> {
        ClippedCursor {
            cur: XorIter::new(&[]),
            mint,
            maxt,
            done: mint > maxt,
        }
    }

    /// Advances to the next sample in range; `next_chunk` loads the following chunk into
    /// the iterator it is given and returns false when there is none.
    #[inline]
    pub fn next(&mut self, mut next_chunk: impl FnMut(&mut XorIter<'a>) -> bool) -> bool {
        if self.done {
            return false;
        }
        loop {
            if self.cur.next() {
                let t = self.cur.at().0;
                if t < self.mint {
                    continue;
                }
                if t > self.maxt {
                    self.done = true;
                    return false;
                }
                return true;
            }
            if !next_chunk(&mut self.cur) {
                self.done = true;
                return false;
            }
        }
    }

    /// Advances to the first sample at or after `t` (and not before `mint`) that is in range.
    pub fn seek(&mut self, t: i64, mut next_chunk: impl FnMut(&mut XorIter<'a>) -> bool) -> bool {
        if self.done {
            return false;
        }
        let t = t.max(self.mint);
        loop {
            if self.cur.seek(t) {
                if self.cur.at().0 > self.maxt {
                    self.done = true;
                    return false;
                }
                return true;
            }
            if !next_chunk(&mut self.cur) {
                self.done = true;
                return false;
            }
        }
    }
}
