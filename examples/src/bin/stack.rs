//! `stack`: the whole stack end to end — scrape, store, evaluate rules, route alerts,
//! notify — plus the Prometheus HTTP API over what it stored.
//!
//! With no `--config.file` it runs an embedded demo that needs no network: it serves its
//! own `/metrics` and a demo target that goes down on a timer, and shows an alert going
//! pending, firing, routed (printed and POSTed as a webhook) and resolved, then exits.

use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use clap::Parser;
use examples::api::{now_ms, params, Api, ApiOptions, RulesSnapshot};
use examples::http::HttpServer;
use examples::stack::config::Config;
use examples::stack::demo::{self, DemoTarget, DemoTimings};
use examples::stack::runner::Stack;
use examples::telemetry::Registry;

/// Scrape, store, evaluate, route and notify, end to end.
#[derive(Parser, Debug)]
#[command(name = "stack")]
struct Args {
    /// A prometheus.yml (subset); without it the embedded demo runs.
    #[arg(long = "config.file")]
    config: Option<PathBuf>,
    /// An alertmanager.yml; without it alerts go to one receiver that only prints.
    #[arg(long = "alertmanager.config")]
    alertmanager: Option<PathBuf>,
    /// The tsdb directory (default: a temporary directory removed at exit).
    #[arg(long = "storage.path")]
    storage: Option<PathBuf>,
    /// Address of the HTTP API, /metrics and the demo target. When the default port is
    /// busy, a free one is picked.
    #[arg(long = "web.listen-address")]
    listen: Option<String>,
    /// How long to run (Prometheus duration). The demo stops earlier once its alert has
    /// been resolved and notified.
    #[arg(long, default_value = "90s")]
    duration: String,
    /// Run the demo four times faster (for tests and the impatient).
    #[arg(long = "demo.fast")]
    demo_fast: bool,
}

fn fail(msg: impl std::fmt::Display) -> ! {
    eprintln!("stack: {msg}");
    std::process::exit(1);
}

fn main() {
    let args = Args::parse();
    let duration_ms = match params::parse_duration(&args.duration) {
        Some(ms) if ms > 0 => ms,
        _ => fail(format!("invalid --duration {:?}", args.duration)),
    };
    let demo_mode = args.config.is_none();
    let timings = if args.demo_fast {
        DemoTimings::fast()
    } else {
        DemoTimings::normal()
    };

    // Storage.
    let mut _tmp = None;
    let dir = match &args.storage {
        Some(p) => p.clone(),
        None => {
            let t = tempfile::Builder::new()
                .prefix("stack-data-")
                .tempdir()
                .unwrap_or_else(|e| fail(format!("creating a temporary directory: {e}")));
            let p = t.path().to_path_buf();
            _tmp = Some(t);
            p
        }
    };
    let db = tsdb::Db::open_path(&dir, tsdb::DbOptions::default())
        .unwrap_or_else(|e| fail(format!("opening {}: {e}", dir.display())));
    let db = Arc::new(RwLock::new(db));

    // HTTP: the API, our own /metrics, and (demo) the misbehaving target + webhook sink.
    let telemetry = Arc::new(Registry::new());
    telemetry.set(
        "stack_start_time_seconds",
        "When the stack started.",
        &[],
        now_ms() as f64 / 1000.0,
    );
    let rules_view = Arc::new(RwLock::new(RulesSnapshot::default()));
    let demo_target = Arc::new(DemoTarget::new(timings));
    let mut api = Api::new(Arc::clone(&db), ApiOptions::default())
        .with_rules(Arc::clone(&rules_view))
        .with_telemetry(Arc::clone(&telemetry));
    if demo_mode {
        let d = Arc::clone(&demo_target);
        api = api.with_route(Box::new(move |req| d.route(req)));
    }
    let api = Arc::new(api);
    let server = match &args.listen {
        Some(a) => HttpServer::start(a, Arc::clone(&api), 4)
            .unwrap_or_else(|e| fail(format!("listening on {a}: {e}"))),
        None => HttpServer::start("127.0.0.1:9090", Arc::clone(&api), 4)
            .or_else(|_| HttpServer::start("127.0.0.1:0", Arc::clone(&api), 4))
            .unwrap_or_else(|e| fail(format!("listening on 127.0.0.1: {e}"))),
    };
    let addr = server.addr().to_string();
    let external_url = format!("http://{addr}");

    // Configuration.
    let (cfg, rule_texts, am_text) = if demo_mode {
        let cfg = Config::load(
            &demo::prometheus_yml(&addr, &timings),
            std::path::Path::new("."),
        )
        .unwrap_or_else(|e| fail(format!("embedded config: {e}")));
        (
            cfg,
            vec![("demo.rules.yml".to_string(), demo::rules_yml(&timings))],
            demo::alertmanager_yml(&addr, &timings),
        )
    } else {
        let path = args.config.as_ref().expect("config given");
        let cfg =
            Config::load_file(path).unwrap_or_else(|e| fail(format!("{}: {e}", path.display())));
        let mut texts = Vec::new();
        for f in &cfg.rule_files {
            let t = std::fs::read_to_string(f)
                .unwrap_or_else(|e| fail(format!("reading rule file {}: {e}", f.display())));
            texts.push((f.display().to_string(), t));
        }
        let am = match &args.alertmanager {
            Some(p) => std::fs::read_to_string(p)
                .unwrap_or_else(|e| fail(format!("reading {}: {e}", p.display()))),
            None => "route:\n  receiver: stdout\nreceivers:\n  - name: stdout\n".to_string(),
        };
        (cfg, texts, am)
    };
    let am = alertroute::Config::load(&am_text)
        .unwrap_or_else(|e| fail(format!("alertmanager config: {e}")));

    let mut stack = Stack::new(
        &cfg,
        &rule_texts,
        am,
        Arc::clone(&db),
        rules_view,
        telemetry,
        &external_url,
        Box::new(std::io::stdout()),
    )
    .unwrap_or_else(|e| fail(e));

    println!(
        "stack: API on {external_url} (try {external_url}/api/v1/query?query=up), data in {}",
        dir.display()
    );
    println!(
        "stack: {} targets{}, {} rule groups{}, running for at most {}{}",
        stack.target_count(),
        if cfg
            .scrape_configs
            .iter()
            .any(|j| !j.file_sd_configs.is_empty() || !j.http_sd_configs.is_empty())
        {
            " (plus discovered ones)"
        } else {
            ""
        },
        stack.group_count(),
        match stack.remote_write_count() {
            0 => String::new(),
            n => format!(", {n} remote_write destinations"),
        },
        args.duration,
        if demo_mode {
            format!(
                "; demo: the target goes down at {:.1}s and comes back at {:.1}s",
                timings.down_from_ms as f64 / 1000.0,
                timings.down_until_ms as f64 / 1000.0
            )
        } else {
            String::new()
        }
    );
    let deadline = now_ms() + duration_ms;
    let grace = timings.interval_ms;
    let done_at = std::cell::Cell::new(None::<i64>);
    let stop = |s: &examples::stack::runner::RunSummary| {
        if !demo_mode || !s.resolved_notified {
            return false;
        }
        let now = now_ms();
        let t = *done_at.get().get_or_insert(now);
        done_at.set(Some(t));
        now >= t + grace
    };
    stack.run(deadline, &stop);

    let s = stack.summary.clone();
    let received = demo_target.webhooks();
    let received = received.lock().map(|v| v.len()).unwrap_or(0);
    println!(
        "stack: done: {} scrapes, {} rule evaluations, {} notifications ({} webhook POSTs delivered{})",
        s.scrapes,
        s.evaluations,
        s.notifications,
        s.webhooks_ok,
        if demo_mode {
            format!(", {received} received by the demo sink")
        } else {
            String::new()
        }
    );
    for (name, st) in stack.remote_write_stats() {
        println!(
            "stack: remote_write {name}: {} samples delivered, {} dropped, {} requests ({} retries)",
            st.delivered, st.dropped, st.requests, st.retries
        );
    }
    server.stop();
    std::thread::sleep(Duration::from_millis(10));
    if demo_mode {
        let story = ["pending", "firing", "resolved"]
            .iter()
            .all(|st| s.transitions.iter().any(|(_, x)| x == st));
        if story && s.resolved_notified {
            println!("stack: demo complete: pending -> firing -> routed -> resolved");
        } else {
            println!("stack: demo incomplete (ran out of time?)");
            std::process::exit(3);
        }
    }
}
