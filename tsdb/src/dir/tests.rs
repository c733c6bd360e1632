//! Contract tests run against every `Dir` implementation.

use super::*;

fn contract(d: &dyn Dir) {
    assert!(d.list().unwrap().is_empty());
    let mut f = d.create("b").unwrap();
    f.write_all(b"hello ").unwrap();
    f.write_all(b"world").unwrap();
    f.sync().unwrap();
    assert_eq!(f.len(), 11);
    drop(f);
    assert_eq!(d.read("b").unwrap(), b"hello world");
    let mut f = d.append("b").unwrap();
    assert_eq!(f.len(), 11);
    f.write_all(b"!").unwrap();
    drop(f);
    assert_eq!(d.read("b").unwrap(), b"hello world!");
    d.truncate("b", 5).unwrap();
    assert_eq!(d.read("b").unwrap(), b"hello");
    d.create("a").unwrap();
    assert_eq!(d.list().unwrap(), vec!["a", "b"]);
    d.rename("b", "a").unwrap();
    assert_eq!(d.list().unwrap(), vec!["a"]);
    assert_eq!(d.read("a").unwrap(), b"hello");
    d.remove("a").unwrap();
    d.sync_dir().unwrap();
    assert!(d.list().unwrap().is_empty());
    assert!(d.read("a").is_err());
    assert!(d.append("zz").is_err());
    assert!(d.remove("zz").is_err());
}

fn temp_root(tag: &str) -> std::path::PathBuf {
    let p = std::env::temp_dir().join(format!("tsdb-dir-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&p);
    p
}

#[test]
fn fs_dir_contract() {
    let root = temp_root("fs");
    contract(&FsDir::open(&root).unwrap());
    std::fs::remove_dir_all(root).unwrap();
}

#[test]
fn mem_dir_contract() {
    contract(&MemDir::new());
}

#[test]
fn faulty_dir_contract_without_faults() {
    contract(&FaultyDir::new(MemDir::new()));
}

#[test]
fn mem_dir_crash_drops_unsynced_bytes() {
    let d = MemDir::new();
    let mut f = d.create("x").unwrap();
    f.write_all(b"abc").unwrap();
    f.sync().unwrap();
    f.write_all(b"def").unwrap();
    d.crash();
    assert_eq!(d.read("x").unwrap(), b"abc");
}

#[test]
fn faulty_dir_fails_and_tears_the_nth_write() {
    let d = FaultyDir::new(MemDir::new());
    d.set_plan(FaultPlan {
        fail_write: 2,
        tear_bytes: 2,
        fail_sync: 1,
        ..FaultPlan::default()
    });
    let mut f = d.create("x").unwrap();
    f.write_all(b"one").unwrap();
    assert!(f.write_all(b"two").is_err());
    assert!(f.sync().is_err());
    f.write_all(b"3").unwrap();
    assert_eq!(d.read("x").unwrap(), b"onetw3");
    d.set_plan(FaultPlan {
        fail_rename: 1,
        fail_truncate: 1,
        ..FaultPlan::default()
    });
    assert!(d.rename("x", "y").is_err());
    assert!(d.truncate("x", 0).is_err());
    d.rename("x", "y").unwrap();
}

#[test]
fn fs_dir_maps_files_read_only() {
    let root = std::env::temp_dir().join(format!("tsdb-dir-map-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let d = FsDir::open(&root).unwrap();
    let mut f = d.create("data").unwrap();
    f.write_all(b"mapped bytes").unwrap();
    f.sync().unwrap();
    drop(f);
    d.create("empty").unwrap();
    assert_eq!(&*d.map("data").unwrap(), b"mapped bytes");
    assert!(d.map("empty").unwrap().is_empty());
    assert!(matches!(d.map("missing"), Err(crate::Error::Io { .. })));
    assert!(FsDir::open_existing(root.join("nope")).is_err());
    std::fs::remove_dir_all(&root).unwrap();
}

#[test]
fn faulty_dir_fails_create_remove_and_dir_sync_and_counts_operations() {
    let d = FaultyDir::new(MemDir::new());
    d.set_plan(FaultPlan {
        fail_create: 2,
        fail_remove: 1,
        fail_sync_dir: 1,
        ..FaultPlan::default()
    });
    let mut f = d.create("a").unwrap();
    f.write_all(b"x").unwrap();
    f.sync().unwrap();
    assert!(d.create("b").is_err());
    assert_eq!(
        d.list().unwrap(),
        vec!["a"],
        "a failed create creates nothing"
    );
    assert!(d.remove("a").is_err());
    assert_eq!(
        d.list().unwrap(),
        vec!["a"],
        "a failed remove removes nothing"
    );
    assert!(d.sync_dir().is_err());
    d.sync_dir().unwrap();
    d.remove("a").unwrap();
    let c = d.counts();
    assert_eq!(
        c,
        OpCounts {
            writes: 1,
            syncs: 1,
            creates: 2,
            removes: 2,
            dir_syncs: 2,
            ..OpCounts::default()
        }
    );
    assert_eq!(c.total(), 8);
    assert_eq!(d.injected(), 3);
    d.set_plan(FaultPlan::default());
    assert_eq!((d.counts(), d.injected()), (OpCounts::default(), 0));
}
