//! `rules`: promtool's rule commands over Prometheus rule files.
//!
//! - `rules check FILE...` validates rule files like `promtool check rules`: prints
//!   `Checking FILE` and `  SUCCESS: N rules found`, or `  FAILED:` and one line per problem
//!   (on stderr); exits 1 if any file fails.
//! - `rules test FILE...` runs rule unit-test files in promtool's format like
//!   `promtool test rules`: prints `Unit Testing:  FILE` and `  SUCCESS`, or `  FAILED:` and
//!   each failure with expected vs got (on stderr); exits 1 if any test fails.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use promql::rules::{load_file, unittest::run_test_file, RuleError};

#[derive(Parser)]
#[command(
    name = "rules",
    about = "Check Prometheus rule files and run rule unit tests"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Validate rule files (like `promtool check rules`).
    Check {
        /// Rule files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Run rule unit-test files (like `promtool test rules`).
    Test {
        /// Test files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
}

fn check(files: &[PathBuf]) -> bool {
    let mut ok = true;
    for f in files {
        let path = f.display().to_string();
        println!("Checking {path}");
        match load_file(&path) {
            Ok(rf) => {
                let n: usize = rf.groups.iter().map(|g| g.rules.len()).sum();
                println!("  SUCCESS: {n} rules found");
            }
            Err(e) => {
                ok = false;
                eprintln!("  FAILED:");
                match &e {
                    RuleError::Invalid { problems, .. } => {
                        for p in problems {
                            eprintln!("{path}: {p}");
                        }
                    }
                    other => eprintln!("{other}"),
                }
            }
        }
        println!();
    }
    ok
}

fn test(files: &[PathBuf]) -> bool {
    let mut ok = true;
    for f in files {
        println!("Unit Testing:  {}", f.display());
        let r = run_test_file(f);
        if r.passed() {
            println!("  SUCCESS");
        } else {
            ok = false;
            eprintln!("  FAILED:");
            for e in &r.failures {
                eprintln!("{e}");
                println!();
            }
        }
        println!();
    }
    ok
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let ok = match &cli.cmd {
        Cmd::Check { files } => check(files),
        Cmd::Test { files } => test(files),
    };
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
