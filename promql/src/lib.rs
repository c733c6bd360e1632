//! promql (work in progress).
