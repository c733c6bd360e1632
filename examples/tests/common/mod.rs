//! Helpers shared by the `examples` integration tests: child processes that serve HTTP
//! (started on 127.0.0.1:0, address read from their first stdout line, killed on drop),
//! polling with a deadline, a free port, an in-memory log sink, and an in-process
//! [`Stack`] over a test database with a way to read back every stored sample.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use examples::api::RulesSnapshot;
use examples::stack::config::Config;
use examples::stack::runner::Stack;
use examples::telemetry::Registry;
use exposition::{Labels, Matcher};
use tsdb::chunk::SampleIterator as _;
use tsdb::{Db, HeadOptions, Queryable as _};

/// A child process killed (and reaped) on drop, with the base URL it serves and the
/// temporary directory it owns, if any.
pub struct Proc {
    /// The running program.
    pub child: Child,
    /// `http://host:port` it listens on.
    pub base: String,
    /// Kept alive as long as the process runs.
    pub dir: Option<tempfile::TempDir>,
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The first line the child wrote to its (piped) stdout.
pub fn first_stdout_line(child: &mut Child) -> String {
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout is piped"))
        .read_line(&mut line)
        .unwrap();
    line
}

/// The address that follows `marker` in `line` (up to the next blank, without a
/// trailing `,` or `)`); panics naming the line when there is none.
pub fn address_after(line: &str, marker: &str) -> String {
    line.split(marker)
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .unwrap_or_else(|| panic!("no address after {marker:?} in {line:?}"))
        .trim_end_matches([',', ')'])
        .to_string()
}

/// Runs `cmd` with `--web.listen-address 127.0.0.1:0` appended and stdout piped, and
/// reads the `http://` address it announces on its first line.
pub fn spawn_serving(mut cmd: Command) -> Proc {
    let mut child = cmd
        .args(["--web.listen-address", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let line = first_stdout_line(&mut child);
    let addr = address_after(&line, "http://");
    Proc {
        child,
        base: format!("http://{addr}"),
        dir: None,
    }
}

/// Starts one of our programs (`bin` is its path) with `args`; see [`spawn_serving`].
pub fn ours(bin: &str, args: &[&str]) -> Proc {
    let mut cmd = Command::new(bin);
    cmd.args(args);
    spawn_serving(cmd)
}

/// Starts the `server` binary over the tsdb directory `storage`, with `extra` flags.
pub fn server_at(storage: &Path, extra: &[&str]) -> Proc {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_server"));
    cmd.arg("--storage.path").arg(storage).args(extra);
    spawn_serving(cmd)
}

/// Starts the `server` binary over `dir`, which the returned process then owns.
pub fn server_owning(dir: tempfile::TempDir, extra: &[&str]) -> Proc {
    let mut p = server_at(dir.path(), extra);
    p.dir = Some(dir);
    p
}

/// A TCP port that was free a moment ago on 127.0.0.1.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Calls `f` every 200 ms until it returns `Some` or `limit` has passed (then `None`).
pub fn poll<T>(limit: Duration, mut f: impl FnMut() -> Option<T>) -> Option<T> {
    let end = Instant::now() + limit;
    loop {
        if let Some(v) = f() {
            return Some(v);
        }
        if Instant::now() >= end {
            return None;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// An in-memory, cloneable log sink (a stack's output), readable with [`Log::text`].
#[derive(Clone, Default)]
pub struct Log(pub Arc<Mutex<Vec<u8>>>);

impl Write for Log {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Log {
    /// Everything written so far (lossy UTF-8).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

/// A stack over `cfg` and `db` with no rule files, an Alertmanager config that routes
/// everything to one receiver, fresh rules view, and `out` as its log.
pub fn new_stack(
    cfg: &Config,
    db: &Arc<RwLock<Db>>,
    telemetry: Arc<Registry>,
    external_url: &str,
    out: Box<dyn Write + Send>,
) -> Stack {
    let am = alertroute::Config::load("route:\n  receiver: x\nreceivers:\n  - name: x\n").unwrap();
    Stack::new(
        cfg,
        &[],
        am,
        Arc::clone(db),
        Arc::new(RwLock::new(RulesSnapshot::default())),
        telemetry,
        external_url,
        out,
    )
    .unwrap()
}

/// A stack from `yaml` (relative paths against `base`) over an in-memory database,
/// logging into the returned [`Log`].
pub fn in_memory_stack(yaml: &str, base: &Path) -> (Stack, Arc<RwLock<Db>>, Log) {
    let cfg = Config::load(yaml, base).unwrap();
    let db = Arc::new(RwLock::new(Db::in_memory(HeadOptions::default())));
    let log = Log::default();
    let s = new_stack(
        &cfg,
        &db,
        Arc::new(Registry::new()),
        "http://stack",
        Box::new(log.clone()),
    );
    (s, db, log)
}

/// Every series matching `sel`, with all its samples.
pub fn dump(db: &RwLock<Db>, sel: &[Matcher]) -> Vec<(Labels, Vec<(i64, f64)>)> {
    let db = db.read().unwrap();
    let q = db.querier(i64::MIN / 2, i64::MAX / 2).unwrap();
    q.select(sel, &Default::default())
        .unwrap()
        .map(|s| {
            let mut it = s.iter();
            let mut v = Vec::new();
            while it.next() {
                v.push(it.at());
            }
            (s.labels().clone(), v)
        })
        .collect()
}

/// Reads the first line the `stack` program prints (`stack: API on <url> ...`) from
/// `reader`; returns that line and the API's base URL.
pub fn stack_api(reader: &mut impl BufRead) -> (String, String) {
    let mut first = String::new();
    reader.read_line(&mut first).unwrap();
    let api = address_after(&first, "API on ");
    (first, api)
}

/// `GET url`, which must succeed, with its body parsed as JSON.
pub fn fetch_json(url: &str) -> serde_json::Value {
    let body = ureq::get(url).call().unwrap().into_string().unwrap();
    serde_json::from_str(&body).unwrap()
}

/// Runs `cmd` (stdout and stderr discarded) for a program that will listen on
/// 127.0.0.1:`port`, and checks `ready(base)` every 100 ms until it holds; panics
/// ("`what` did not become ready") after `limit`.
pub fn spawn_on_port(
    mut cmd: Command,
    port: u16,
    what: &str,
    limit: Duration,
    ready: impl Fn(&str) -> bool,
) -> Proc {
    let child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("{what}: {e}"));
    let proc = Proc {
        child,
        base: format!("http://127.0.0.1:{port}"),
        dir: None,
    };
    let deadline = Instant::now() + limit;
    while !ready(&proc.base) {
        assert!(Instant::now() < deadline, "{what} did not become ready");
        std::thread::sleep(Duration::from_millis(100));
    }
    proc
}
