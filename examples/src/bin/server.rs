//! `server --storage.path DIR [--web.listen-address ADDR]`: the Prometheus HTTP API over
//! a tsdb directory, so that Grafana and `promtool query` can read it.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use clap::Parser;
use examples::api::{params, Api, ApiOptions};
use examples::http::HttpServer;

/// Serves the Prometheus HTTP API over a tsdb directory.
#[derive(Parser, Debug)]
#[command(name = "server")]
struct Args {
    /// The tsdb directory (created if missing).
    #[arg(long = "storage.path")]
    storage_path: std::path::PathBuf,
    /// Address to listen on (port 0 picks a free port; the bound address is printed).
    #[arg(long = "web.listen-address", default_value = "127.0.0.1:9090")]
    listen: String,
    /// Maximum time a query may run (Prometheus duration, e.g. 2m).
    #[arg(long = "query.timeout", default_value = "2m")]
    timeout: String,
    /// Maximum number of samples a single query can load into memory.
    #[arg(long = "query.max-samples", default_value_t = 50_000_000)]
    max_samples: usize,
    /// Lookback of instant selectors (Prometheus duration).
    #[arg(long = "query.lookback-delta", default_value = "5m")]
    lookback: String,
    /// Worker threads answering requests.
    #[arg(long = "web.threads", default_value_t = 4)]
    threads: usize,
    /// Before serving, append every sample of this OpenMetrics file (with timestamps, as
    /// `shared/bench/gen_openmetrics.py` writes) into the directory.
    #[arg(long = "import.openmetrics")]
    import: Option<std::path::PathBuf>,
}

/// Appends every sample of an OpenMetrics file; the head accepts any time order across
/// series while importing (one chunk range spanning the data).
fn import(db: &mut tsdb::Db, path: &std::path::Path) -> Result<(u64, u64), String> {
    let bytes = std::fs::read(path).map_err(|e| format!("reading {}: {e}", path.display()))?;
    let mut app = db.appender();
    let mut n = 0u64;
    let mut rejected = 0u64;
    let mut last: Option<(exposition::Labels, tsdb::SeriesRef)> = None;
    for e in exposition::openmetrics::OpenMetricsParser::new(&bytes) {
        let e = e.map_err(|e| format!("{}: {e}", path.display()))?;
        let exposition::Entry::Sample(s) = e else {
            continue;
        };
        let Some(t) = s.timestamp else {
            return Err(format!(
                "{}: sample {} has no timestamp",
                path.display(),
                s.name
            ));
        };
        let labels = s.to_labels();
        let res = match &last {
            Some((l, r)) if *l == labels => app.append_ref(*r, t, s.value).map(|_| *r),
            _ => app.append(&labels, t, s.value),
        };
        match res {
            Ok(r) => {
                n += 1;
                last = Some((labels, r));
            }
            Err(_) => rejected += 1,
        }
    }
    app.commit().map_err(|e| format!("commit: {e}"))?;
    Ok((n, rejected))
}

fn main() {
    let args = Args::parse();
    let dur = |flag: &str, s: &str| match params::parse_duration(s) {
        Some(ms) if ms > 0 => ms,
        _ => {
            eprintln!("server: invalid {flag} {s:?}");
            std::process::exit(2);
        }
    };
    let opts = ApiOptions {
        timeout: Duration::from_millis(dur("--query.timeout", &args.timeout) as u64),
        max_samples: args.max_samples,
        lookback_ms: dur("--query.lookback-delta", &args.lookback),
    };
    let mut dbo = tsdb::DbOptions::default();
    if args.import.is_some() {
        // One chunk range over any realistic data span: nothing is out of bounds.
        dbo.head.chunk_range_ms = i64::MAX / 4;
    }
    let mut db = match tsdb::Db::open_path(&args.storage_path, dbo) {
        Ok(db) => db,
        Err(e) => {
            eprintln!("server: opening {}: {e}", args.storage_path.display());
            std::process::exit(1);
        }
    };
    if let Some(p) = &args.import {
        let t0 = std::time::Instant::now();
        match import(&mut db, p) {
            Ok((n, rejected)) => println!(
                "server: imported {n} samples ({rejected} rejected) from {} in {:.1} s",
                p.display(),
                t0.elapsed().as_secs_f64()
            ),
            Err(e) => {
                eprintln!("server: import: {e}");
                std::process::exit(1);
            }
        }
    }
    // Blocks live in `<storage.path>/blocks`; the head is cut into them by the
    // maintenance loop below.
    let blocks = args.storage_path.join("blocks");
    if let Err(e) = db.open_blocks(&blocks) {
        eprintln!("server: opening blocks in {}: {e}", blocks.display());
        std::process::exit(1);
    }
    let series = db.head().num_series();
    let db = Arc::new(RwLock::new(db));
    let api = Arc::new(Api::new(db.clone(), opts));
    let srv = match HttpServer::start(&args.listen, api, args.threads) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("server: listening on {}: {e}", args.listen);
            std::process::exit(1);
        }
    };
    println!(
        "server: listening on http://{} ({} series from {})",
        srv.addr(),
        series,
        args.storage_path.display()
    );
    // The library runs no threads and reads no clock: this loop drives its lifecycle
    // work (head cut into blocks, compaction, retention) once a minute.
    loop {
        std::thread::sleep(Duration::from_secs(60));
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64);
        let res = db
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .maintenance(now);
        match res {
            Ok(rep) if !rep.is_empty() => println!(
                "server: tsdb maintenance: {} head blocks, {} compacted, {} expired",
                rep.head_blocks.len(),
                rep.compacted.len(),
                rep.retention_deleted.len()
            ),
            Ok(_) => {}
            Err(e) => eprintln!("server: tsdb maintenance: {e}"),
        }
    }
}
