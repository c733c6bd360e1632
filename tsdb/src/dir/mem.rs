//! An in-memory directory for tests and embedding, able to simulate a machine crash.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};

use super::{Dir, DirFile};
use crate::error::{Error, Result};

#[derive(Debug, Default, Clone)]
struct MemFile {
    data: Vec<u8>,
    /// Bytes known durable (written before the last `sync`).
    synced: usize,
}

type Files = Arc<Mutex<BTreeMap<String, MemFile>>>;

/// Files kept in memory. Clones share the same files, so a test can keep a handle, drop
/// the database, [`MemDir::crash`] and reopen. Renames and removals are durable at once.
#[derive(Debug, Clone, Default)]
pub struct MemDir {
    files: Files,
}

fn lock(files: &Files) -> MutexGuard<'_, BTreeMap<String, MemFile>> {
    // A poisoned lock only means another holder panicked; the map itself is intact.
    files.lock().unwrap_or_else(|p| p.into_inner())
}

fn not_found(name: &str) -> Error {
    Error::io(
        name,
        std::io::Error::new(std::io::ErrorKind::NotFound, "no such file"),
    )
}

impl MemDir {
    /// An empty directory.
    pub fn new() -> MemDir {
        MemDir::default()
    }

    /// Simulates a power loss: every file loses the bytes written since its last sync.
    pub fn crash(&self) {
        for f in lock(&self.files).values_mut() {
            f.data.truncate(f.synced);
        }
    }

    /// A copy of a file's bytes (for tests that damage files).
    pub fn get(&self, name: &str) -> Option<Vec<u8>> {
        lock(&self.files).get(name).map(|f| f.data.clone())
    }

    /// Replaces a file's bytes, marking them durable (for tests that damage files).
    pub fn put(&self, name: &str, data: Vec<u8>) {
        let synced = data.len();
        lock(&self.files).insert(name.to_string(), MemFile { data, synced });
    }

    /// Total bytes held.
    pub fn total_bytes(&self) -> usize {
        lock(&self.files).values().map(|f| f.data.len()).sum()
    }
}

#[derive(Debug)]
struct MemWriter {
    files: Files,
    name: String,
}

impl DirFile for MemWriter {
    fn write_all(&mut self, buf: &[u8]) -> Result<()> {
        let mut g = lock(&self.files);
        let f = g.get_mut(&self.name).ok_or_else(|| not_found(&self.name))?;
        f.data.extend_from_slice(buf);
        Ok(())
    }

    fn sync(&mut self) -> Result<()> {
        let mut g = lock(&self.files);
        let f = g.get_mut(&self.name).ok_or_else(|| not_found(&self.name))?;
        f.synced = f.data.len();
        Ok(())
    }

    fn len(&self) -> u64 {
        lock(&self.files)
            .get(&self.name)
            .map_or(0, |f| f.data.len() as u64)
    }
}

impl Dir for MemDir {
    fn list(&self) -> Result<Vec<String>> {
        Ok(lock(&self.files).keys().cloned().collect())
    }

    fn read(&self, name: &str) -> Result<Vec<u8>> {
        self.get(name).ok_or_else(|| not_found(name))
    }

    fn create(&self, name: &str) -> Result<Box<dyn DirFile>> {
        lock(&self.files).insert(name.to_string(), MemFile::default());
        Ok(Box::new(MemWriter {
            files: self.files.clone(),
            name: name.to_string(),
        }))
    }

    fn append(&self, name: &str) -> Result<Box<dyn DirFile>> {
        if !lock(&self.files).contains_key(name) {
            return Err(not_found(name));
        }
        Ok(Box::new(MemWriter {
            files: self.files.clone(),
            name: name.to_string(),
        }))
    }

    fn truncate(&self, name: &str, len: u64) -> Result<()> {
        let mut g = lock(&self.files);
        let f = g.get_mut(name).ok_or_else(|| not_found(name))?;
        f.data.truncate(len as usize);
        f.synced = f.data.len();
        Ok(())
    }

    fn rename(&self, from: &str, to: &str) -> Result<()> {
        let mut g = lock(&self.files);
        let f = g.remove(from).ok_or_else(|| not_found(from))?;
        g.insert(to.to_string(), f);
        Ok(())
    }

    fn remove(&self, name: &str) -> Result<()> {
        lock(&self.files)
            .remove(name)
            .map(|_| ())
            .ok_or_else(|| not_found(name))
    }

    fn sync_dir(&self) -> Result<()> {
        Ok(())
    }

    fn path(&self, name: &str) -> PathBuf {
        PathBuf::from(format!("mem:{name}"))
    }
}
