//! `promqltest PATH...`: runs PromQL `.test` scripts (Prometheus's test language) against
//! our engine and prints per-file counts and the total
//! `promqltest: N passed, M failed, K skipped`.
//!
//! A PATH may be a file or a directory (searched recursively for `*.test`). The engine is
//! configured like Prometheus's test engine (experimental syntax on); evals that need
//! features it does not implement (start timestamps over native histograms) are skipped.
//! Exits with status 1 when any eval failed.

use clap::Parser;
use promql::engine::Engine;
use promql::promqltest::{run_script, EvalOutcome, RunOptions};
use std::path::{Path, PathBuf};

#[derive(Parser)]
#[command(
    name = "promqltest",
    about = "Run PromQL .test scripts against the engine"
)]
struct Args {
    /// Script files or directories holding `*.test` files.
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// Print every failing eval with the reason.
    #[arg(short, long)]
    verbose: bool,
    /// Skip upstream's implicit range-mode re-check of instant evals.
    #[arg(long)]
    no_range_check: bool,
    /// Skip evals that use experimental syntax (experimental functions, fill modifiers,
    /// anchored/smoothed, ...). By default they run, as in Prometheus's own test engine.
    #[arg(long)]
    stable_only: bool,
}

fn collect(p: &Path, out: &mut Vec<PathBuf>) {
    if p.is_dir() {
        let mut entries: Vec<PathBuf> = match std::fs::read_dir(p) {
            Ok(rd) => rd.filter_map(|e| e.ok().map(|e| e.path())).collect(),
            Err(e) => {
                eprintln!("promqltest: {}: {e}", p.display());
                return;
            }
        };
        entries.sort();
        for e in entries {
            if e.is_dir() || e.extension().is_some_and(|x| x == "test") {
                collect(&e, out);
            }
        }
    } else {
        out.push(p.to_path_buf());
    }
}

fn main() {
    let args = Args::parse();
    let mut files = Vec::new();
    for p in &args.paths {
        collect(p, &mut files);
    }
    let engine = Engine::default();
    let opts = RunOptions {
        range_check: !args.no_range_check,
        experimental: !args.stable_only,
        ..RunOptions::default()
    };
    let (mut tp, mut tf, mut ts) = (0, 0, 0);
    for f in &files {
        let text = match std::fs::read_to_string(f) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("promqltest: {}: {e}", f.display());
                tf += 1;
                continue;
            }
        };
        let (mut p, mut fl, mut s) = (0, 0, 0);
        let res = run_script(&text, &engine, &opts, |e, o| match o {
            EvalOutcome::Pass => p += 1,
            EvalOutcome::Fail(why) => {
                fl += 1;
                if args.verbose {
                    println!("  FAIL {}:{}: {}\n    {why}", f.display(), e.line, e.expr);
                }
            }
            EvalOutcome::Skip(_) => s += 1,
        });
        if let Err(e) = res {
            println!("{}: script error: {e}", f.display());
            tf += 1;
            continue;
        }
        println!("{}: {p} passed, {fl} failed, {s} skipped", f.display());
        tp += p;
        tf += fl;
        ts += s;
    }
    println!("promqltest: {tp} passed, {tf} failed, {ts} skipped");
    if tf > 0 {
        std::process::exit(1);
    }
}
