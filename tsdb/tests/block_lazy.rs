//! Lazy block opening: `Block::open_lazy` reads only meta.json and the index header and
//! TOC; damage inside an index section is reported by the first query (and by every later
//! one), never a panic or a wrong answer, and a database opened over such a block refuses
//! the query instead of answering without it.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};

use exposition::{Labels, Matcher};
use tsdb::{write_head_block, Block, Db, DbOptions, Error, Head, SelectHints};

struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        static N: AtomicU32 = AtomicU32::new(0);
        let p = std::env::temp_dir().join(format!(
            "tsdb-block-lazy-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn head() -> Head {
    let mut h = Head::default();
    let mut app = h.appender();
    for i in 0..20 {
        let l = Labels::from_pairs(&[("__name__", "m"), ("i", &i.to_string())]);
        for k in 0..50 {
            app.append(&l, k * 1000, (i * k) as f64).unwrap();
        }
    }
    app.commit();
    h
}

fn read_u64(b: &[u8], at: usize) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(a)
}

#[test]
fn damage_in_a_section_shows_at_first_use() {
    let dir = TempDir::new("damage");
    let blocks = dir.0.join("blocks");
    let meta = write_head_block(&head(), &blocks, 0, 100_000, 1)
        .unwrap()
        .unwrap();
    let path = blocks.join(&meta.ulid);
    // A good block opens lazily and answers like an eagerly opened one.
    let lazy = Block::open_lazy(&path).unwrap();
    lazy.verify_index().unwrap();
    let q = lazy.querier(0, 100_000);
    assert_eq!(q.select(&[], &SelectHints::default()).unwrap().len(), 20);
    drop(lazy);

    // Flip a byte inside the postings section (the TOC names where it is).
    let idx = path.join("index");
    let mut b = std::fs::read(&idx).unwrap();
    let toc = b.len() - 72;
    let postings_off = read_u64(&b, toc + 3 * 16) as usize;
    b[postings_off + 5] ^= 0x20;
    std::fs::write(&idx, &b).unwrap();

    let lazy = Block::open_lazy(&path).unwrap();
    for _ in 0..2 {
        match lazy
            .querier(0, 100_000)
            .select(&[], &SelectHints::default())
        {
            Err(Error::BlockCorruption { section, .. }) => assert_eq!(section, "postings"),
            other => panic!("{other:?}"),
        }
    }
    assert!(lazy.verify_index().is_err());
    assert!(matches!(
        Block::open(&path),
        Err(Error::BlockCorruption {
            section: "postings",
            ..
        })
    ));

    // A database over it opens, and refuses queries that need the block.
    let mut db = Db::open_path(
        dir.0.join("wal"),
        DbOptions {
            retention_ms: 0,
            ..DbOptions::default()
        },
    )
    .unwrap();
    db.open_blocks(&blocks).unwrap();
    let ms = [Matcher::equal("__name__", "m")];
    assert!(db
        .db_querier(0, 100_000)
        .select(&ms, &SelectHints::default())
        .is_err());
    // A range the block does not cover still answers.
    let set = db
        .db_querier(200_000, 300_000)
        .select(&ms, &SelectHints::default())
        .unwrap();
    assert!(set.is_empty());
}

#[test]
fn a_broken_toc_is_refused_at_open() {
    let dir = TempDir::new("toc");
    let meta = write_head_block(&head(), &dir.0, 0, 100_000, 1)
        .unwrap()
        .unwrap();
    let path = dir.0.join(&meta.ulid);
    let idx = path.join("index");
    let mut b = std::fs::read(&idx).unwrap();
    let n = b.len();
    b[n - 20] ^= 1;
    std::fs::write(&idx, &b).unwrap();
    assert!(matches!(
        Block::open_lazy(&path),
        Err(Error::BlockCorruption { section: "toc", .. })
    ));
    // Truncations are refused at open too, never a panic.
    for len in [0, 7, 8, 70, n - 1] {
        std::fs::write(&idx, &b[..len]).unwrap();
        assert!(Block::open_lazy(&path).is_err(), "length {len}");
    }
}
