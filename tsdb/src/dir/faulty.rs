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
    /// Fail the Nth `create` (nothing is created).
    pub fail_create: u64,
    /// Fail the Nth `remove` (nothing is removed).
    pub fail_remove: u64,
    /// Fail the Nth `sync_dir`.
    pub fail_sync_dir: u64,
}

/// How many operations of each kind a [`FaultyDir`] has seen since its plan was last set
/// (failed ones included). A test runs a workload once without faults, reads the counts,
/// then replays it failing each operation in turn.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OpCounts {
    /// `write_all` calls.
    pub writes: u64,
    /// File `sync` calls.
    pub syncs: u64,
    /// `rename` calls.
    pub renames: u64,
    /// `truncate` calls.
    pub truncates: u64,
    /// `create` calls.
    pub creates: u64,
    /// `remove` calls.
    pub removes: u64,
    /// `sync_dir` calls.
    pub dir_syncs: u64,
}

impl OpCounts {
    /// All operations together.
    pub fn total(&self) -> u64 {
        self.writes
            + self.syncs
            + self.renames
            + self.truncates
            + self.creates
            + self.removes
            + self.dir_syncs
    }
}

#[derive(Debug, Default)]
struct State {
    plan: FaultPlan,
    counts: OpCounts,
    /// Faults injected since the plan was set.
    injected: u64,
}

impl State {
    /// Counts one operation and says whether it is the one to fail.
    fn hit(&mut self, pick: fn(&mut OpCounts) -> &mut u64, nth: fn(&FaultPlan) -> u64) -> bool {
        let n = {
            let c = pick(&mut self.counts);
            *c += 1;
            *c
        };
        let fail = nth(&self.plan) == n;
        if fail {
            self.injected += 1;
        }
        fail
    }
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

    /// Operations seen since the plan was last set.
    pub fn counts(&self) -> OpCounts {
        lock(&self.state).counts
    }

    /// Faults injected since the plan was last set.
    pub fn injected(&self) -> u64 {
        lock(&self.state).injected
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
            let tear = s.plan.tear_bytes;
            s.hit(|c| &mut c.writes, |p| p.fail_write).then_some(tear)
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
        let fail = { lock(&self.state).hit(|c| &mut c.syncs, |p| p.fail_sync) };
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
        if lock(&self.state).hit(|c| &mut c.creates, |p| p.fail_create) {
            return Err(injected(self.inner.path(name), "create"));
        }
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
        let fail = { lock(&self.state).hit(|c| &mut c.truncates, |p| p.fail_truncate) };
        if fail {
            return Err(injected(self.inner.path(name), "truncate"));
        }
        self.inner.truncate(name, len)
    }

    fn rename(&self, from: &str, to: &str) -> Result<()> {
        let fail = { lock(&self.state).hit(|c| &mut c.renames, |p| p.fail_rename) };
        if fail {
            return Err(injected(self.inner.path(from), "rename"));
        }
        self.inner.rename(from, to)
    }

    fn remove(&self, name: &str) -> Result<()> {
        if lock(&self.state).hit(|c| &mut c.removes, |p| p.fail_remove) {
            return Err(injected(self.inner.path(name), "remove"));
        }
        self.inner.remove(name)
    }

    fn sync_dir(&self) -> Result<()> {
        if lock(&self.state).hit(|c| &mut c.dir_syncs, |p| p.fail_sync_dir) {
            return Err(injected(self.inner.path(""), "directory sync"));
        }
        self.inner.sync_dir()
    }

    fn path(&self, name: &str) -> PathBuf {
        self.inner.path(name)
    }
}
