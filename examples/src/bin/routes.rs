//! `routes`: amtool's route commands over an `alertmanager.yml`.
//!
//! - `routes test --config.file F label=value...` prints the receivers the alert goes to,
//!   comma-separated, in match order (as `amtool config routes test`). With
//!   `--verify.receivers a,b` it exits 1 when they differ.
//! - `routes show --config.file F` prints the routing tree (as `amtool config routes show`).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use alertroute::Config;
use clap::{Parser, Subcommand};
use exposition::{Labels, MatchOp};

#[derive(Parser)]
#[command(name = "routes", about = "Test and show Alertmanager routing trees")]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Print the receivers an alert with these labels is routed to.
    Test {
        /// The alertmanager.yml to load.
        #[arg(long = "config.file")]
        config_file: PathBuf,
        /// Expected receivers, comma-separated; exit 1 when the result differs.
        #[arg(long = "verify.receivers")]
        verify_receivers: Option<String>,
        /// Also print the matched routes' keys.
        #[arg(long)]
        tree: bool,
        /// Labels as name=value (quote values with spaces; `\"`, `\\`, `\n` escapes).
        labels: Vec<String>,
    },
    /// Print the routing tree.
    Show {
        /// The alertmanager.yml to load.
        #[arg(long = "config.file")]
        config_file: PathBuf,
    },
}

fn load(path: &Path) -> Result<Config, String> {
    Config::load_file(path).map_err(|e| format!("{}: {e}", path.display()))
}

fn parse_labels(args: &[String]) -> Result<Labels, String> {
    let mut pairs = Vec::new();
    for a in args {
        let m = alertroute::matchers::parse_matcher_classic(a).map_err(|e| format!("{a}: {e}"))?;
        if m.op() != MatchOp::Equal {
            return Err(alertroute::MatcherParseError::NotEquality.to_string());
        }
        // amtool keeps the last value given for a name.
        pairs.retain(|(n, _): &(String, String)| n != m.name());
        pairs.push((m.name().to_string(), m.value().to_string()));
    }
    Labels::try_from_pairs(&pairs).map_err(|e| e.to_string())
}

fn run() -> Result<ExitCode, String> {
    match Cli::parse().cmd {
        Cmd::Test {
            config_file,
            verify_receivers,
            tree,
            labels,
        } => {
            let cfg = load(&config_file)?;
            let labels = parse_labels(&labels)?;
            let routes = cfg.route.route(&labels);
            if tree {
                for r in &routes {
                    println!("{}  receiver: {}", r.key, r.receiver);
                }
            }
            let got = routes
                .iter()
                .map(|r| r.receiver.as_str())
                .collect::<Vec<_>>()
                .join(",");
            println!("{got}");
            if let Some(want) = verify_receivers {
                if want != got {
                    eprintln!("WARNING: Expected receivers did not match resolved receivers.");
                    return Ok(ExitCode::from(1));
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Show { config_file } => {
            let cfg = load(&config_file)?;
            print!("{}", cfg.route.show());
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn main() -> ExitCode {
    match run() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("routes: {e}");
            ExitCode::from(2)
        }
    }
}
