//! alertroute (work in progress).
