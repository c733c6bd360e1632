//! The real file system.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use super::{Dir, DirFile};
use crate::error::{Error, Result};

/// A directory on disk. Creating one creates the directory if needed.
#[derive(Debug, Clone)]
pub struct FsDir {
    root: PathBuf,
}

impl FsDir {
    /// Opens (creating if needed) the directory at `root`.
    pub fn open(root: impl AsRef<Path>) -> Result<FsDir> {
        let root = root.as_ref().to_path_buf();
        std::fs::create_dir_all(&root).map_err(|e| Error::io(&root, e))?;
        Ok(FsDir { root })
    }

    /// Opens a directory that must already exist (nothing is created).
    pub fn open_existing(root: impl AsRef<Path>) -> Result<FsDir> {
        let root = root.as_ref().to_path_buf();
        let md = std::fs::metadata(&root).map_err(|e| Error::io(&root, e))?;
        if !md.is_dir() {
            let e = std::io::Error::new(std::io::ErrorKind::NotADirectory, "not a directory");
            return Err(Error::io(&root, e));
        }
        Ok(FsDir { root })
    }

    /// The directory's path.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Maps a file read-only into memory: pages are read by the OS only when touched, so
    /// mapping a large file costs nothing until its bytes are used. An empty file gives an
    /// empty map.
    ///
    /// The caller must not modify or truncate the file while the map lives: blocks, the
    /// files this is for, are immutable once written.
    pub fn map(&self, name: &str) -> Result<Mapped> {
        let path = self.path(name);
        let file = File::open(&path).map_err(|e| Error::io(&path, e))?;
        let len = file.metadata().map_err(|e| Error::io(&path, e))?.len();
        if len == 0 {
            return Ok(Mapped { map: None });
        }
        // SAFETY: the map is read-only and the files mapped through this method are
        // immutable block files that the crate never writes or truncates after their
        // directory has been renamed into place; a concurrent external modification is
        // outside the contract documented above.
        let map = unsafe { memmap2::Mmap::map(&file) }.map_err(|e| Error::io(&path, e))?;
        Ok(Mapped { map: Some(map) })
    }
}

/// A read-only memory map of a whole file (see [`FsDir::map`]); derefs to its bytes.
#[derive(Debug)]
pub struct Mapped {
    map: Option<memmap2::Mmap>,
}

impl std::ops::Deref for Mapped {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        self.map.as_deref().unwrap_or(&[])
    }
}

#[derive(Debug)]
struct FsFile {
    file: File,
    path: PathBuf,
    len: u64,
}

impl DirFile for FsFile {
    fn write_all(&mut self, buf: &[u8]) -> Result<()> {
        self.file
            .write_all(buf)
            .map_err(|e| Error::io(&self.path, e))?;
        self.len += buf.len() as u64;
        Ok(())
    }

    fn sync(&mut self) -> Result<()> {
        self.file.sync_data().map_err(|e| Error::io(&self.path, e))
    }

    fn len(&self) -> u64 {
        self.len
    }
}

impl Dir for FsDir {
    fn list(&self) -> Result<Vec<String>> {
        let rd = std::fs::read_dir(&self.root).map_err(|e| Error::io(&self.root, e))?;
        let mut out = Vec::new();
        for ent in rd {
            let ent = ent.map_err(|e| Error::io(&self.root, e))?;
            if ent.file_type().map(|t| t.is_file()).unwrap_or(false) {
                if let Some(n) = ent.file_name().to_str() {
                    out.push(n.to_string());
                }
            }
        }
        out.sort();
        Ok(out)
    }

    fn read(&self, name: &str) -> Result<Vec<u8>> {
        let p = self.path(name);
        std::fs::read(&p).map_err(|e| Error::io(p, e))
    }

    fn create(&self, name: &str) -> Result<Box<dyn DirFile>> {
        let path = self.path(name);
        let file = File::create(&path).map_err(|e| Error::io(&path, e))?;
        Ok(Box::new(FsFile { file, path, len: 0 }))
    }

    fn append(&self, name: &str) -> Result<Box<dyn DirFile>> {
        let path = self.path(name);
        let file = OpenOptions::new()
            .append(true)
            .open(&path)
            .map_err(|e| Error::io(&path, e))?;
        let len = file.metadata().map_err(|e| Error::io(&path, e))?.len();
        Ok(Box::new(FsFile { file, path, len }))
    }

    fn truncate(&self, name: &str, len: u64) -> Result<()> {
        let path = self.path(name);
        let f = OpenOptions::new()
            .write(true)
            .open(&path)
            .map_err(|e| Error::io(&path, e))?;
        f.set_len(len).map_err(|e| Error::io(&path, e))?;
        f.sync_all().map_err(|e| Error::io(&path, e))
    }

    fn rename(&self, from: &str, to: &str) -> Result<()> {
        let (a, b) = (self.path(from), self.path(to));
        std::fs::rename(&a, &b).map_err(|e| Error::io(a, e))
    }

    fn remove(&self, name: &str) -> Result<()> {
        let p = self.path(name);
        std::fs::remove_file(&p).map_err(|e| Error::io(p, e))
    }

    fn sync_dir(&self) -> Result<()> {
        let d = File::open(&self.root).map_err(|e| Error::io(&self.root, e))?;
        d.sync_all().map_err(|e| Error::io(&self.root, e))
    }

    fn path(&self, name: &str) -> PathBuf {
        self.root.join(name)
    }
}
