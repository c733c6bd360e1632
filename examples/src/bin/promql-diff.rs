//! `promql-diff`: differential testing of our PromQL engine (the `server` program) against
//! a real Prometheus 2.x, over the same seeded data set and seeded random queries. Every
//! mismatch is classified as a documented 2.x -> 3.x change or as unexplained; the exit
//! code is 1 when any mismatch is unexplained.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use examples::promql_diff::classify::{AGREE, RULES, UNEXPLAINED};
use examples::promql_diff::data::DataSpec;
use examples::promql_diff::harness::{run_case, CaseGen, Client, Programs, Servers, Tally};
use indicatif::{ProgressBar, ProgressStyle};

/// Compares our PromQL engine with a real Prometheus 2.x on random queries.
#[derive(Parser, Debug)]
#[command(name = "promql-diff", version)]
struct Args {
    /// Number of random queries (each runs as an instant and as a range query).
    #[arg(short = 'n', long, default_value_t = 500)]
    queries: u64,
    /// Seed of the queries and evaluation times.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Seed of the data set.
    #[arg(long, default_value_t = 42)]
    data_seed: u64,
    /// Span of the data set in minutes.
    #[arg(long, default_value_t = 180)]
    minutes: i64,
    /// Our `server` binary (default: next to this program).
    #[arg(long)]
    server: Option<PathBuf>,
    /// The Prometheus 2.x binary.
    #[arg(long, default_value = "/usr/bin/prometheus")]
    prometheus: PathBuf,
    /// promtool of the same version.
    #[arg(long, default_value = "/usr/bin/promtool")]
    promtool: PathBuf,
    /// Print at most this many unexplained mismatches.
    #[arg(long, default_value_t = 30)]
    show: usize,
    /// Write every unexplained mismatch (one JSON object a line) to this file.
    #[arg(long)]
    report: Option<PathBuf>,
    /// Print the classification rules and exit.
    #[arg(long)]
    rules: bool,
    /// Start the servers, print their URLs, and keep them up until standard input closes
    /// (for asking them by hand).
    #[arg(long)]
    serve: bool,
    /// No progress bar.
    #[arg(long, short = 'q')]
    quiet: bool,
}

fn main() -> ExitCode {
    let args = Args::parse();
    if args.rules {
        for r in RULES {
            println!("{}: {}", r.name, r.what);
        }
        return ExitCode::SUCCESS;
    }
    let server = args.server.clone().unwrap_or_else(|| {
        std::env::current_exe()
            .ok()
            .and_then(|p| p.parent().map(|d| d.join("server")))
            .unwrap_or_else(|| PathBuf::from("server"))
    });
    let progs = Programs {
        server,
        prometheus: args.prometheus.clone(),
        promtool: args.promtool.clone(),
    };
    let spec = DataSpec {
        seed: args.data_seed,
        minutes: args.minutes.max(10),
    };
    // Interrupted (Ctrl-C, SIGTERM): end our servers too, since no destructor runs.
    let _ = ctrlc::set_handler(|| {
        for id in examples::promql_diff::harness::running_children() {
            let _ = std::process::Command::new("kill")
                .arg(id.to_string())
                .status();
        }
        std::process::exit(130);
    });
    let servers = match Servers::start(&progs, &spec) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("promql-diff: {e}");
            return ExitCode::from(2);
        }
    };
    if args.serve {
        println!(
            "ours {}\ntheirs {}\ntheirs-left-open {}",
            servers.ours.base, servers.theirs.base, servers.theirs_left_open.base
        );
        let mut sink = String::new();
        while std::io::stdin()
            .read_line(&mut sink)
            .map(|n| n > 0)
            .unwrap_or(false)
        {
            sink.clear();
        }
        return ExitCode::SUCCESS;
    }
    let client = Client::default();
    let mut cases = CaseGen::new(args.seed, &spec);
    let mut tally = Tally::default();
    let bar = if args.quiet {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(args.queries)
    };
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} queries {msg} [{elapsed} / eta {eta}]")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    for _ in 0..args.queries {
        for case in cases.next_pair() {
            let o = run_case(&client, &servers, &case);
            tally.add(&case, &o);
        }
        bar.set_message(format!("{} unexplained", tally.total(UNEXPLAINED)));
        bar.inc(1);
    }
    bar.finish_and_clear();
    if let Some(p) = &args.report {
        let lines: String = tally
            .unexplained
            .iter()
            .map(|(c, d)| {
                serde_json::json!({"kind": c.kind(), "case": c.describe(), "query": c.query(), "diff": d})
                    .to_string()
                    + "\n"
            })
            .collect();
        if let Err(e) = std::fs::write(p, lines) {
            eprintln!("promql-diff: {}: {e}", p.display());
        }
    }
    for (c, d) in tally.unexplained.iter().take(args.show) {
        eprintln!("UNEXPLAINED {}\n    {d}", c.describe());
    }
    print!("{}", tally.table());
    let n = tally.total(UNEXPLAINED);
    println!(
        "promql-diff: {} queries, {} cases, {} agree, {} explained, {} unexplained",
        args.queries,
        args.queries * 2,
        tally.total(AGREE),
        args.queries * 2 - tally.total(AGREE) - n,
        n
    );
    if n > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
