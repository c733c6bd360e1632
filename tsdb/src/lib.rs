//! tsdb (work in progress).
