//! `pushgateway`: a Prometheus Pushgateway. Batch jobs push metric groups with
//! `PUT`/`POST`/`DELETE /metrics/job/<job>{/<label>/<value>}`; Prometheus scrapes
//! `GET /metrics`. The rules live in `examples::pushgateway`; this file is the worker threads,
//! the persistence timer and signal handling.
//!
//! ```text
//! pushgateway [--web.listen-address 127.0.0.1:9091] [--persistence.file FILE]
//!             [--persistence.interval 5m] [--web.enable-admin-api]
//! ```
//!
//! On start it prints `pushgateway listening on http://ADDR`. SIGINT/SIGTERM write the
//! persistence file one last time and exit 0. A persistence file that cannot be read is a
//! startup error (exit 1), never an empty store.

use std::io::{Read as _, Write as _};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use clap::Parser;
use examples::pushgateway::{persist, Pushgateway};

/// Threads answering requests (bodies are read outside the store's lock, so one slow
/// client does not hold up the others).
const WORKERS: usize = 4;

/// Largest push body accepted.
const MAX_BODY: u64 = 64 << 20;

#[derive(Parser, Debug)]
#[command(name = "pushgateway", about = "A Prometheus Pushgateway")]
struct Args {
    /// Address to listen on (port 0 picks a free one).
    #[arg(long = "web.listen-address", default_value = "127.0.0.1:9091")]
    listen: String,
    /// File to keep the pushed metrics in across restarts (none: memory only).
    #[arg(long = "persistence.file")]
    persistence_file: Option<PathBuf>,
    /// How often changed metrics are written to the persistence file (e.g. 5m, 30s, 500ms).
    #[arg(long = "persistence.interval", default_value = "5m", value_parser = parse_duration)]
    persistence_interval: Duration,
    /// Enable `PUT /api/v1/admin/wipe`.
    #[arg(long = "web.enable-admin-api")]
    admin_api: bool,
}

fn parse_duration(s: &str) -> Result<Duration, String> {
    let split = s
        .find(|c: char| !c.is_ascii_digit())
        .ok_or_else(|| format!("duration {s:?} needs a unit (ms, s, m, h)"))?;
    let (n, unit) = s.split_at(split);
    let n: u64 = n.parse().map_err(|_| format!("bad duration {s:?}"))?;
    let ms = match unit {
        "ms" => 1,
        "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        _ => return Err(format!("bad duration unit in {s:?} (ms, s, m, h)")),
    };
    Ok(Duration::from_millis(n.saturating_mul(ms)))
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

fn header<'a>(req: &'a tiny_http::Request, name: &'static str) -> Option<&'a str> {
    req.headers()
        .iter()
        .find(|h| h.field.equiv(name))
        .map(|h| h.value.as_str())
}

fn answer(pg: &Mutex<Pushgateway>, mut req: tiny_http::Request) {
    let mut body = Vec::new();
    if let Err(e) = req.as_reader().take(MAX_BODY + 1).read_to_end(&mut body) {
        let _ = req.respond(
            tiny_http::Response::from_string(format!("reading body: {e}\n")).with_status_code(400),
        );
        return;
    }
    if body.len() as u64 > MAX_BODY {
        let _ =
            req.respond(tiny_http::Response::from_string("body too large\n").with_status_code(413));
        return;
    }
    let method = req.method().as_str().to_string();
    let url = req.url().to_string();
    let ct = header(&req, "Content-Type").map(str::to_string);
    let accept = header(&req, "Accept").map(str::to_string);
    let reply = {
        let mut pg = pg.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        pg.handle(
            &method,
            &url,
            ct.as_deref(),
            accept.as_deref(),
            &body,
            now_ms(),
        )
    };
    let mut resp = tiny_http::Response::from_data(if method == "HEAD" {
        Vec::new()
    } else {
        reply.body
    })
    .with_status_code(reply.status);
    if let Ok(h) = tiny_http::Header::from_bytes("Content-Type", reply.content_type.as_bytes()) {
        resp.add_header(h);
    }
    let _ = req.respond(resp);
}

/// Writes the persistence file if anything changed: serialised under the lock, written
/// outside it.
fn save(pg: &Mutex<Pushgateway>, file: &Option<PathBuf>) {
    let Some(path) = file else { return };
    let bytes = {
        let mut pg = pg.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if !pg.dirty {
            return;
        }
        pg.dirty = false;
        persist::to_bytes(&pg.store)
    };
    if let Err(e) = persist::save_bytes(path, &bytes) {
        eprintln!("pushgateway: persisting: {e}");
        pg.lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .dirty = true;
    }
}

/// Binds with `TCP_NODELAY` (inherited by accepted sockets on Linux), so a reply written as
/// headers then body is not held back by Nagle's algorithm until the client's delayed ACK.
fn listen(addr: &str) -> Result<std::net::TcpListener, String> {
    use std::net::ToSocketAddrs;
    let mut last = format!("{addr}: no address to listen on");
    for a in addr.to_socket_addrs().map_err(|e| e.to_string())? {
        let attempt = (|| {
            let sock = socket2::Socket::new(
                socket2::Domain::for_address(a),
                socket2::Type::STREAM,
                Some(socket2::Protocol::TCP),
            )?;
            sock.set_reuse_address(true)?;
            sock.set_nodelay(true)?;
            sock.bind(&a.into())?;
            sock.listen(1024)?;
            Ok::<_, std::io::Error>(sock.into())
        })();
        match attempt {
            Ok(l) => return Ok(l),
            Err(e) => last = e.to_string(),
        }
    }
    Err(last)
}

fn main() {
    let args = Args::parse();
    let store = match &args.persistence_file {
        Some(p) => match persist::load(p) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("pushgateway: {e}");
                std::process::exit(1);
            }
        },
        None => Default::default(),
    };
    let pg = Arc::new(Mutex::new(Pushgateway::new(store, args.admin_api)));
    let server = match listen(&args.listen)
        .and_then(|l| tiny_http::Server::from_listener(l, None).map_err(|e| e.to_string()))
    {
        Ok(s) => s,
        Err(e) => {
            eprintln!("pushgateway: listening on {}: {e}", args.listen);
            std::process::exit(1);
        }
    };
    let stop = Arc::new(AtomicBool::new(false));
    {
        let stop = Arc::clone(&stop);
        if let Err(e) = ctrlc::set_handler(move || stop.store(true, Ordering::SeqCst)) {
            eprintln!("pushgateway: installing signal handler: {e}");
            std::process::exit(1);
        }
    }
    match server.server_addr().to_ip() {
        Some(addr) => println!("pushgateway listening on http://{addr}"),
        None => println!("pushgateway listening on {}", args.listen),
    }
    let _ = std::io::stdout().flush();
    let server = Arc::new(server);
    let workers: Vec<_> = (0..WORKERS)
        .map(|_| {
            let server = Arc::clone(&server);
            let pg = Arc::clone(&pg);
            std::thread::spawn(move || {
                while let Ok(req) = server.recv() {
                    answer(&pg, req);
                }
            })
        })
        .collect();
    let mut last_save = Instant::now();
    while !stop.load(Ordering::SeqCst) {
        std::thread::sleep(Duration::from_millis(50));
        if last_save.elapsed() >= args.persistence_interval {
            save(&pg, &args.persistence_file);
            last_save = Instant::now();
        }
    }
    for _ in &workers {
        server.unblock();
    }
    for w in workers {
        let _ = w.join();
    }
    save(&pg, &args.persistence_file);
    eprintln!("pushgateway: stopped");
}
