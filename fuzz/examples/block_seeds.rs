//! Writes the seed corpora of the block fuzz targets: the real files of freshly written
//! blocks, as `DIR/<target>/<seed>` (run by `fuzz/run-all`).
//!
//! ```text
//! cargo run -p fuzz --example block_seeds -- fuzz/corpus
//! ```

fn main() {
    let Some(dir) = std::env::args_os().nth(1) else {
        eprintln!("usage: block_seeds CORPUS_DIR");
        std::process::exit(2);
    };
    let dir = std::path::PathBuf::from(dir);
    for (target, name, bytes) in fuzz::blocks::seed_files() {
        let d = dir.join(target);
        if let Err(e) =
            std::fs::create_dir_all(&d).and_then(|()| std::fs::write(d.join(&name), &bytes))
        {
            eprintln!("block_seeds: {}: {e}", d.display());
            std::process::exit(1);
        }
        println!("{target}/{name}: {} bytes", bytes.len());
    }
}
