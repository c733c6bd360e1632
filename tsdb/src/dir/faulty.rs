//! Fault injection: a directory that fails chosen operations.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};

use super::{Dir, DirFile};
use crate::error::{Error, Result};

/// Which operations fail. Counters are 1-based and count across all files; `0` means
/// never. Clones share state, so a test can change the plan while a database runs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FaultPlan {
    /// Fail the Nth `write_all`.
    pub fail_write: u64,
    /// When a write fails, first write this many bytes of it (a torn write).
    pub tear_bytes: usize,
    /// Fail the Nth file `sync`.
    pub fail_sync: u64,
    /// Fail the Nth `rename`.
    pub fail_rename: u64,
    /// Fail the Nth `truncate`.
    pub fail_truncate: u64,
}

#[derive(Debug, Default)]
struct State {
    plan: FaultPlan,
    writes: u64,
    syncs: u64,
    renames: u64,
    truncates: u64,
}

/// Wraps any [`Dir`] and fails operations as its [`FaultPlan`] says.
#[derive(Debug, Clone)]
pub struct FaultyDir<D: Dir> {
    inner: D,
    state: Arc<Mutex<State>>,
}

fn lock(s: &Arc<Mutex<State>>) -> MutexGuard<'_, State> {
    s.lock().unwrap_or_else(|p| p.into_inner())
}

fn injected(path: PathBuf, what: &str) -> Error {
    Error::io(
        path,
        std::io::Error::other(format!("injected {what} failure")),
    )
}

impl<D: Dir> FaultyDir<D> {
    /// Wraps `inner` with no faults planned.
    pub fn new(inner: D) -> FaultyDir<D> {
        FaultyDir {
            inner,
            state: Arc::default(),
        }
    }

    /// Replaces the plan and resets the counters.
    pub fn set_plan(&self, plan: FaultPlan) {
        *lock(&self.state) = State {
            plan,
            ..State::default()
        };
    }

    /// The wrapped directory.
    pub fn inner(&self) -> &D {
        &self.inner
    }
}

#[derive(Debug)]
struct FaultyFile {
    inner: Box<dyn DirFile>,
    state: Arc<Mutex<State>>,
    path: PathBuf,
}

impl DirFile for FaultyFile {
    fn write_all(&mut self, buf: &[u8]) -> Result<()> {
        let tear = {
            let mut s = lock(&self.state);
            s.writes += 1;
            (s.plan.fail_write == s.writes).then_some(s.plan.tear_bytes)
        };
        if let Some(n) = tear {
            if n > 0 {
                self.inner.write_all(&buf[..n.min(buf.len())])?;
            }
            return Err(injected(self.path.clone(), "write"));
        }
        self.inner.write_all(buf)
    }

    fn sync(&mut self) -> Result<()> {
        let fail = {
            let mut s = lock(&self.state);
            s.syncs += 1;
            s.plan.fail_sync == s.syncs
        };
        if fail {
            return Err(injected(self.path.clone(), "sync"));
        }
        self.inner.sync()
    }

    fn len(&self) -> u64 {
        self.inner.len()
    }
}

impl<D: Dir> Dir for FaultyDir<D> {
    fn list(&self) -> Result<Vec<String>> {
        self.inner.list()
    }

    fn read(&self, name: &str) -> Result<Vec<u8>> {
        self.inner.read(name)
    }

    fn create(&self, name: &str) -> Result<Box<dyn DirFile>> {
        Ok(Box::new(FaultyFile {
            inner: self.inner.create(name)?,
            state: self.state.clone(),
            path: self.inner.path(name),
        }))
    }

    fn append(&self, name: &str) -> Result<Box<dyn DirFile>> {
        Ok(Box::new(FaultyFile {
            inner: self.inner.append(name)?,
            state: self.state.clone(),
            path: self.inner.path(name),
        }))
    }

    fn truncate(&self, name: &str, len: u64) -> Result<()> {
        let fail = {
            let mut s = lock(&self.state);
            s.truncates += 1;
            s.plan.fail_truncate == s.truncates
        };
        if fail {
            return Err(injected(self.inner.path(name), "truncate"));
        }
        self.inner.truncate(name, len)
    }

    fn rename(&self, from: &str, to: &str) -> Result<()> {
        let fail = {
            let mut s = lock(&self.state);
            s.renames += 1;
            s.plan.fail_rename == s.renames
        };
        if fail {
            return Err(injected(self.inner.path(from), "rename"));
        }
        self.inner.rename(from, to)
    }

    fn remove(&self, name: &str) -> Result<()> {
        self.inner.remove(name)
    }

    fn sync_dir(&self) -> Result<()> {
        self.inner.sync_dir()
    }

    fn path(&self, name: &str) -> PathBuf {
        self.inner.path(name)
    }
}
