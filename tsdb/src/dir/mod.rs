//! Where the WAL's files live: a small directory abstraction with a real file-system
//! implementation, an in-memory one that can simulate a crash, and a fault-injecting
//! wrapper for tests.
//!
//! ```text
//! Wal ──► dyn Dir ──┬── FsDir     (std::fs, fsync)
//!                   ├── MemDir    (a map of byte vectors; crash() drops unsynced bytes)
//!                   └── FaultyDir (wraps any Dir; fails the Nth write/sync/rename/create/…, tears writes)
//! ```
//!
//! Files are flat (no subdirectories), written append-only, and replaced atomically with
//! [`Dir::rename`].

mod faulty;
mod fs;
mod mem;

use std::path::PathBuf;

pub use faulty::{FaultPlan, FaultyDir, OpCounts};
pub use fs::{FsDir, Mapped};
pub use mem::MemDir;

use crate::error::Result;

/// A flat directory of files.
pub trait Dir: std::fmt::Debug + Send + Sync {
    /// File names in the directory, sorted.
    fn list(&self) -> Result<Vec<String>>;
    /// The whole contents of a file.
    fn read(&self, name: &str) -> Result<Vec<u8>>;
    /// Creates (or empties) a file and opens it for writing.
    fn create(&self, name: &str) -> Result<Box<dyn DirFile>>;
    /// Opens an existing file for appending at its end.
    fn append(&self, name: &str) -> Result<Box<dyn DirFile>>;
    /// Cuts a file to `len` bytes (durably).
    fn truncate(&self, name: &str, len: u64) -> Result<()>;
    /// Atomically renames `from` to `to`, replacing `to`.
    fn rename(&self, from: &str, to: &str) -> Result<()>;
    /// Deletes a file.
    fn remove(&self, name: &str) -> Result<()>;
    /// Makes creations, renames and removals durable.
    fn sync_dir(&self) -> Result<()>;
    /// The path a name stands for, for error messages.
    fn path(&self, name: &str) -> PathBuf;
}

/// A file open for writing.
pub trait DirFile: std::fmt::Debug + Send + Sync {
    /// Appends all of `buf`.
    fn write_all(&mut self, buf: &[u8]) -> Result<()>;
    /// Makes what was written durable.
    fn sync(&mut self) -> Result<()>;
    /// Current length in bytes.
    fn len(&self) -> u64;
    /// Whether the file is empty.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests;
