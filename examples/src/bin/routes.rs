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
        /// Also print the matched part of the routing tree (as amtool's `--tree`).
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

/// amtool's `--tree`: the matched part of the routing tree, each node named by its matchers
/// (`default-route` without any), with the receiver on the nodes the alert ends at.
fn matching_tree(tree: &alertroute::RouteTree, labels: &Labels) -> String {
    fn slug(r: &alertroute::Route, final_node: bool) -> String {
        let mut s = if r.matchers.is_empty() {
            "default-route".to_string()
        } else {
            alertroute::matchers::matchers_to_string(&r.matchers)
        };
        if final_node {
            s.push_str("  receiver: ");
            s.push_str(&r.receiver);
        }
        s
    }
    fn branch(
        tree: &alertroute::RouteTree,
        node: &alertroute::Route,
        labels: &Labels,
        prefix: &str,
        last: bool,
        out: &mut String,
    ) {
        let mut matched = Vec::new();
        for &c in &node.children {
            let Some(child) = tree.get(c) else { continue };
            if child.matches(labels) {
                matched.push(child);
                if !child.continue_matching {
                    break;
                }
            }
        }
        out.push_str(prefix);
        out.push_str(if last { "└── " } else { "├── " });
        out.push_str(&slug(node, matched.is_empty()));
        out.push('\n');
        // treeprint's continuation bar is followed by two no-break spaces and a space.
        let next = format!("{prefix}{}", if last { "    " } else { "│\u{a0}\u{a0} " });
        let n = matched.len();
        for (i, child) in matched.into_iter().enumerate() {
            branch(tree, child, labels, &next, i + 1 == n, out);
        }
    }
    let mut out = String::from(".\n");
    branch(tree, tree.root(), labels, "", true, &mut out);
    out
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
                println!("Matching routes:");
                print!("{}", matching_tree(&cfg.route, &labels));
                println!();
                println!();
            }
            let got = routes
                .iter()
                .map(|r| r.receiver.as_str())
                .collect::<Vec<_>>()
                .join(",");
            println!("{got}");
            if let Some(want) = verify_receivers {
                if want != got {
                    println!("WARNING: Expected receivers did not match resolved receivers.");
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
