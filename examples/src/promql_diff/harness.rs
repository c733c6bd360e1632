//! Starting the servers, asking them, and classifying each case.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::classify::{AGREE, UNEXPLAINED};
use super::compare::{
    adopt_nan_for_zero, diff, drop_names, normalise_le, parse_answer, rename_label,
    round_numeric_labels, same_shape, values_by_time, Answer, Tolerance,
};
use super::data::{openmetrics, DataSpec, START_MS};
use super::gen::QueryGen;
use super::rewrite::{dot_all_regexes, left_open_ranges};
use super::rng::Rng;

/// Errors of setting up or talking to the servers.
#[derive(Debug, thiserror::Error)]
pub enum DiffError {
    /// A file or directory could not be written.
    #[error("{path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A program could not be started or failed.
    #[error("{program}: {message}")]
    Program {
        /// The program.
        program: String,
        /// What went wrong.
        message: String,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> DiffError + '_ {
    move |source| DiffError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn program(p: &str, m: impl Into<String>) -> DiffError {
    DiffError::Program {
        program: p.to_string(),
        message: m.into(),
    }
}

/// Process ids of every child started and not yet reaped, so that a program can end
/// them when it is interrupted (drop handlers do not run then).
static CHILDREN: std::sync::Mutex<Vec<u32>> = std::sync::Mutex::new(Vec::new());

/// Ids of the children still running (for a signal handler: `kill` each, then exit).
pub fn running_children() -> Vec<u32> {
    CHILDREN.lock().map(|c| c.clone()).unwrap_or_default()
}

fn track(child: &Child) {
    if let Ok(mut c) = CHILDREN.lock() {
        c.push(child.id());
    }
}

/// A child process killed and reaped on drop.
#[derive(Debug)]
pub struct Served {
    child: Child,
    /// `http://127.0.0.1:port`.
    pub base: String,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if let Ok(mut c) = CHILDREN.lock() {
            c.retain(|&id| id != self.child.id());
        }
    }
}

/// Where the programs are.
#[derive(Debug, Clone)]
pub struct Programs {
    /// Our `server` binary.
    pub server: PathBuf,
    /// Prometheus 2.x.
    pub prometheus: PathBuf,
    /// promtool of the same version.
    pub promtool: PathBuf,
}

/// The three endpoints: ours, Prometheus as is, and Prometheus with a lookback 1 ms
/// shorter (for the left-open rule).
#[derive(Debug)]
pub struct Servers {
    /// Our server.
    pub ours: Served,
    /// Prometheus 2.42 with the default lookback.
    pub theirs: Served,
    /// Prometheus 2.42 with a 1 ms shorter lookback.
    pub theirs_left_open: Served,
    _dir: tempfile::TempDir,
}

fn free_port() -> Result<u16, DiffError> {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| program("bind", e.to_string()))
}

fn copy_dir(from: &Path, to: &Path) -> Result<(), DiffError> {
    std::fs::create_dir_all(to).map_err(io(to))?;
    for e in std::fs::read_dir(from).map_err(io(from))? {
        let e = e.map_err(io(from))?;
        let p = e.path();
        let t = to.join(e.file_name());
        if p.is_dir() {
            copy_dir(&p, &t)?;
        } else {
            std::fs::copy(&p, &t).map_err(io(&t))?;
        }
    }
    Ok(())
}

fn wait_ready(base: &str, limit: Duration) -> bool {
    let end = Instant::now() + limit;
    let agent = ureq::AgentBuilder::new()
        .timeout(Duration::from_secs(2))
        .build();
    while Instant::now() < end {
        if let Ok(r) = agent.get(&format!("{base}/-/ready")).call() {
            if r.status() == 200 {
                return true;
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    false
}

fn start_prometheus(
    progs: &Programs,
    dir: &Path,
    data: &Path,
    lookback: &str,
) -> Result<Served, DiffError> {
    let cfg = dir.join("prometheus.yml");
    std::fs::write(&cfg, "global:\n  scrape_interval: 1m\n").map_err(io(&cfg))?;
    let port = free_port()?;
    let child = Command::new(&progs.prometheus)
        .arg(format!("--config.file={}", cfg.display()))
        .arg(format!("--storage.tsdb.path={}", data.display()))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .arg(format!("--query.lookback-delta={lookback}"))
        .arg("--storage.tsdb.retention.time=100y")
        .arg("--log.level=error")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| program(&progs.prometheus.display().to_string(), e.to_string()))?;
    track(&child);
    let s = Served {
        child,
        base: format!("http://127.0.0.1:{port}"),
    };
    if !wait_ready(&s.base, Duration::from_secs(60)) {
        return Err(program("prometheus", "did not become ready in 60 s"));
    }
    Ok(s)
}

fn start_ours(progs: &Programs, storage: &Path, om: &Path) -> Result<Served, DiffError> {
    let name = progs.server.display().to_string();
    let mut child = Command::new(&progs.server)
        .arg("--storage.path")
        .arg(storage)
        .arg("--import.openmetrics")
        .arg(om)
        .args(["--web.listen-address", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| program(&name, e.to_string()))?;
    track(&child);
    let Some(out) = child.stdout.take() else {
        return Err(program(&name, "no stdout"));
    };
    let mut reader = BufReader::new(out);
    let mut line = String::new();
    loop {
        line.clear();
        match reader.read_line(&mut line) {
            Ok(0) | Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(program(&name, "exited before announcing its address"));
            }
            Ok(_) => {}
        }
        if let Some(rest) = line.split("http://").nth(1) {
            let addr = rest.split_whitespace().next().unwrap_or_default();
            // Keep draining stdout so the server never blocks on a full pipe.
            std::thread::spawn(move || {
                let mut sink = String::new();
                while reader.read_line(&mut sink).map(|n| n > 0).unwrap_or(false) {
                    sink.clear();
                }
            });
            return Ok(Served {
                base: format!("http://{addr}"),
                child,
            });
        }
    }
}

impl Servers {
    /// Writes the data set, loads it into our server and (via promtool's blocks) into two
    /// Prometheus instances, and waits until all three answer.
    pub fn start(progs: &Programs, spec: &DataSpec) -> Result<Servers, DiffError> {
        let dir = tempfile::tempdir().map_err(|e| program("tempdir", e.to_string()))?;
        let om = dir.path().join("data.om");
        std::fs::write(&om, openmetrics(spec)).map_err(io(&om))?;
        let a = dir.path().join("prom-a");
        let out = Command::new(&progs.promtool)
            .args(["tsdb", "create-blocks-from", "openmetrics"])
            .arg(&om)
            .arg(&a)
            .output()
            .map_err(|e| program("promtool", e.to_string()))?;
        if !out.status.success() {
            return Err(program(
                "promtool",
                String::from_utf8_lossy(&out.stderr).into_owned(),
            ));
        }
        let b = dir.path().join("prom-b");
        copy_dir(&a, &b)?;
        let ours = start_ours(progs, &dir.path().join("ours"), &om)?;
        let theirs = start_prometheus(progs, &dir.path().join("prom-a"), &a, "5m")?;
        let theirs_left_open =
            start_prometheus(progs, &dir.path().join("prom-b"), &b, "4m59s999ms")?;
        Ok(Servers {
            ours,
            theirs,
            theirs_left_open,
            _dir: dir,
        })
    }
}

/// One query as an instant or a range query.
#[derive(Debug, Clone, PartialEq)]
pub enum Case {
    /// `/api/v1/query` at a time (ms).
    Instant {
        /// The query.
        query: String,
        /// Evaluation time, ms.
        time: i64,
    },
    /// `/api/v1/query_range`.
    Range {
        /// The query.
        query: String,
        /// Start, ms.
        start: i64,
        /// End, ms.
        end: i64,
        /// Step, ms.
        step: i64,
    },
}

impl Case {
    /// The query text.
    pub fn query(&self) -> &str {
        match self {
            Case::Instant { query, .. } | Case::Range { query, .. } => query,
        }
    }

    fn with_query(&self, q: String) -> Case {
        match self {
            Case::Instant { time, .. } => Case::Instant {
                query: q,
                time: *time,
            },
            Case::Range {
                start, end, step, ..
            } => Case::Range {
                query: q,
                start: *start,
                end: *end,
                step: *step,
            },
        }
    }

    /// Path and query string of the request.
    pub fn url_path(&self) -> String {
        let secs = |ms: i64| format!("{}.{:03}", ms.div_euclid(1000), ms.rem_euclid(1000));
        let mut f = form_urlencoded::Serializer::new(String::new());
        match self {
            Case::Instant { query, time } => {
                f.append_pair("query", query)
                    .append_pair("time", &secs(*time));
                format!("/api/v1/query?{}", f.finish())
            }
            Case::Range {
                query,
                start,
                end,
                step,
            } => {
                f.append_pair("query", query)
                    .append_pair("start", &secs(*start))
                    .append_pair("end", &secs(*end))
                    .append_pair("step", &secs(*step));
                format!("/api/v1/query_range?{}", f.finish())
            }
        }
    }

    /// `instant` or `range`.
    pub fn kind(&self) -> &'static str {
        match self {
            Case::Instant { .. } => "instant",
            Case::Range { .. } => "range",
        }
    }

    /// A one-line description (kind, times, query).
    pub fn describe(&self) -> String {
        match self {
            Case::Instant { query, time } => format!("instant @{time}: {query}"),
            Case::Range {
                query,
                start,
                end,
                step,
            } => format!("range {start}..{end} step {step}: {query}"),
        }
    }
}

/// Generates cases: every query as an instant and as a range query, with evaluation
/// times drawn from the data span (a third of them on the 15 s grid).
#[derive(Debug, Clone)]
pub struct CaseGen {
    queries: QueryGen,
    rng: Rng,
    end_ms: i64,
}

impl CaseGen {
    /// Cases for `seed` over the data set `spec`.
    pub fn new(seed: u64, spec: &DataSpec) -> Self {
        CaseGen {
            queries: QueryGen::new(seed, (START_MS, spec.end_ms())),
            rng: Rng::new(seed.wrapping_add(0x5EED)),
            end_ms: spec.end_ms(),
        }
    }

    fn time(&mut self, lo: i64, hi: i64) -> i64 {
        let span = ((hi - lo) / 1000).max(1) as usize;
        let t = lo + self.rng.below(span) as i64 * 1000;
        if self.rng.chance(0.33) {
            t - t.rem_euclid(15_000)
        } else {
            t
        }
    }

    /// The next query, as an instant case and a range case.
    pub fn next_pair(&mut self) -> [Case; 2] {
        let q = self.queries.query();
        let time = self.time(START_MS + 10 * 60_000, self.end_ms + 10 * 60_000);
        let step = self
            .rng
            .pick(&[15_000, 30_000, 37_000, 60_000, 120_000, 300_000]);
        let start = self.time(START_MS, self.end_ms);
        let end = start + self.rng.below(61) as i64 * 60_000;
        [
            Case::Instant {
                query: q.clone(),
                time,
            },
            Case::Range {
                query: q,
                start,
                end,
                step,
            },
        ]
    }
}

/// Asks the servers.
#[derive(Debug)]
pub struct Client {
    agent: ureq::Agent,
}

impl Default for Client {
    fn default() -> Self {
        Client {
            agent: ureq::AgentBuilder::new()
                .timeout(Duration::from_secs(120))
                .build(),
        }
    }
}

impl Client {
    /// The normalised answer of `base` to `case` (transport failures are errors too;
    /// HTTP error statuses carry the API's error body).
    pub fn ask(&self, base: &str, case: &Case) -> Answer {
        let url = format!("{base}{}", case.url_path());
        match self.agent.get(&url).call() {
            Ok(r) => parse_answer(&r.into_string().unwrap_or_default()),
            Err(ureq::Error::Status(_, r)) => parse_answer(&r.into_string().unwrap_or_default()),
            Err(e) => Answer::Error(format!("transport: {e}")),
        }
    }
}

/// The outcome of one case.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// [`AGREE`], a rule name of [`super::classify::RULES`] (or several joined with `+`
    /// when rewrites were combined), or [`UNEXPLAINED`].
    pub class: String,
    /// The first difference against Prometheus as is (when they differ).
    pub detail: Option<String>,
}

/// Runs `case` on all servers it needs and classifies the outcome.
pub fn run_case(client: &Client, s: &Servers, case: &Case) -> Outcome {
    let strict = Tolerance::default();
    let loose = Tolerance {
        rel: 1e-4,
        abs: 1e-9,
    };
    let ours = client.ask(&s.ours.base, case);
    let theirs = client.ask(&s.theirs.base, case);
    let Some(detail) = diff(&ours, &theirs, strict) else {
        return Outcome {
            class: AGREE.into(),
            detail: None,
        };
    };
    let q = case.query();
    if q.contains("holt_winters")
        && matches!(ours, Answer::Error(_))
        && !matches!(theirs, Answer::Error(_))
    {
        return Outcome {
            class: "holt_winters-renamed".into(),
            detail: Some(detail),
        };
    }
    // atan2: compare without metric names from here on (3.x drops them).
    let atan = q.contains("atan2");
    let norm = |a: Answer| if atan { drop_names(&a) } else { a };
    let (ours, theirs) = (norm(ours), norm(theirs));
    let mut prefix = String::new();
    if atan {
        if diff(&ours, &theirs, strict).is_none() {
            return Outcome {
                class: "atan2-drops-name".into(),
                detail: Some(detail),
            };
        }
        prefix.push_str("atan2-drops-name+");
    }
    // UTF-8 label names: ask 2.42 for a legal name and rename ours; the remaining rules
    // then run on that pair, and a match is reported with both names.
    let (q, ours, theirs) = if q.contains("\"a-b\"") {
        let q2 = q.replace("\"a-b\"", "\"a_b\"");
        let t = norm(client.ask(&s.theirs.base, &case.with_query(q2.clone())));
        let o = rename_label(&ours, "a-b", "a_b");
        if diff(&o, &t, strict).is_none() {
            return Outcome {
                class: format!("{prefix}utf8-label-names"),
                detail: Some(detail),
            };
        }
        prefix.push_str("utf8-label-names+");
        (q2, o, t)
    } else {
        (q.to_string(), ours, theirs)
    };
    let case = &case.with_query(q.clone());
    let q = q.as_str();
    let ask = |base: &str, query: String| norm(client.ask(base, &case.with_query(query)));
    let done = |name: &str| Outcome {
        class: if name == UNEXPLAINED {
            name.to_string()
        } else {
            format!("{prefix}{name}")
        },
        detail: Some(detail.clone()),
    };
    if q.contains("stddev") || q.contains("stdvar") {
        if diff(&ours, &adopt_nan_for_zero(&ours, &theirs), strict).is_none() {
            return done("stddev-of-nan");
        }
        if let Some(guarded) = super::rewrite::nan_aware_stddev(q) {
            let t = ask(&s.theirs.base, guarded);
            if diff(&ours, &t, strict).is_none() {
                return done("stddev-of-nan");
            }
        }
    }
    if q.contains("count_values")
        && diff(
            &round_numeric_labels(&ours),
            &round_numeric_labels(&theirs),
            loose,
        )
        .is_none()
    {
        return done("count_values-float-digits");
    }
    if let Answer::Error(e) = &ours {
        let ambiguous = e.contains("many-to-one matching must be explicit")
            || e.contains("grouping labels must ensure unique matches");
        let compares = ["==", "!=", ">", "<"].iter().any(|op| q.contains(op));
        if ambiguous && compares && !matches!(theirs, Answer::Error(_)) {
            return done("filtered-matches-count");
        }
    }
    if diff(&ours, &normalise_le(&theirs), strict).is_none() {
        return done("le-normalisation");
    }
    let re = dot_all_regexes(q);
    if re != q {
        let t = ask(&s.theirs.base, re.clone());
        if diff(&ours, &t, strict).is_none() {
            return done("regex-dot-newline");
        }
    }
    let lo = left_open_ranges(q);
    let t = ask(&s.theirs_left_open.base, lo);
    if diff(&ours, &t, loose).is_none() {
        return done("left-open-range");
    }
    if re != q {
        let t = ask(&s.theirs_left_open.base, left_open_ranges(&re));
        if diff(&ours, &t, loose).is_none() {
            return done("left-open-range+regex-dot-newline");
        }
    }
    if (q.contains("topk") || q.contains("bottomk"))
        && diff(&values_by_time(&ours), &values_by_time(&theirs), strict).is_none()
    {
        return done("topk-tie-choice");
    }
    if let Some(per_step) = instants_of(client, &s.theirs.base, case).map(norm) {
        if diff(&ours, &per_step, strict).is_none() {
            return done("2.42-range-query-bug");
        }
        let lo_case = case.with_query(left_open_ranges(q));
        if let Some(per_step) = instants_of(client, &s.theirs_left_open.base, &lo_case).map(norm) {
            if diff(&ours, &per_step, loose).is_none() {
                return done("left-open-range+2.42-range-query-bug");
            }
        }
    }
    if let Some(arg) = super::rewrite::amplifier_argument(q) {
        let (o, t) = (
            ask(&s.ours.base, arg.clone()),
            ask(&s.theirs.base, arg.clone()),
        );
        let tight = Tolerance {
            rel: 1e-12,
            abs: 0.0,
        };
        if diff(&o, &t, tight).is_none() && same_shape(&ours, &theirs) {
            return done("ulp-amplified");
        }
    }
    if matches!(case, Case::Instant { .. }) && (q.contains("@ start()") || q.contains("@ end()")) {
        let plain = q.replace(" @ start()", "").replace(" @ end()", "");
        let t = ask(&s.theirs.base, plain);
        if diff(&ours, &t, strict).is_none() {
            return done("2.42-at-modifier-bug");
        }
    }
    if q.contains("timestamp(") && q.contains(" offset ") && q.contains(" @ ") {
        if let (Answer::Series { series: o, .. }, Answer::Series { series: t, .. }) =
            (&ours, &theirs)
        {
            let ours_labels: Vec<_> = o.iter().map(|x| &x.0).collect();
            if t.len() < o.len() && t.iter().all(|x| ours_labels.contains(&&x.0)) {
                return done("2.42-timestamp-offset-at-bug");
            }
        }
    }
    let aggregates = ["sum", "avg", "stddev", "stdvar"]
        .iter()
        .any(|f| q.contains(f));
    let amplifies = ["%", "floor(", "ceil(", "round("]
        .iter()
        .any(|f| q.contains(f));
    if aggregates && amplifies && same_shape(&ours, &theirs) {
        return done("rounding-amplified");
    }
    if (q.contains("rate(") || q.contains("increase(")) && same_shape(&ours, &theirs) {
        return done("counter-zero-extrapolation");
    }
    done(UNEXPLAINED)
}

/// A range case asked as one instant query per step (at most 300 steps), assembled into
/// a matrix; `None` for instant cases, long ranges and failures.
fn instants_of(client: &Client, base: &str, case: &Case) -> Option<Answer> {
    let Case::Range {
        query,
        start,
        end,
        step,
    } = case
    else {
        return None;
    };
    if (end - start) / step > 300 {
        return None;
    }
    // `start()`/`end()` mean the range's ends, not the instant's time.
    let secs = |ms: i64| format!("{}.{:03}", ms.div_euclid(1000), ms.rem_euclid(1000));
    let query = query
        .replace("@ start()", &format!("@ {}", secs(*start)))
        .replace("@ end()", &format!("@ {}", secs(*end)));
    let mut by_labels: BTreeMap<BTreeMap<String, String>, Vec<(i64, f64)>> = BTreeMap::new();
    let mut t = *start;
    while t <= *end {
        let a = client.ask(
            base,
            &Case::Instant {
                query: query.clone(),
                time: t,
            },
        );
        match a {
            Answer::Series { series, .. } => {
                for (l, p) in series {
                    by_labels.entry(l).or_default().extend(p);
                }
            }
            Answer::Scalar(ts, v) => by_labels.entry(BTreeMap::new()).or_default().push((ts, v)),
            _ => return None,
        }
        t += step;
    }
    Some(Answer::Series {
        kind: "matrix".into(),
        series: by_labels.into_iter().collect(),
    })
}

/// Counts per class, split by instant/range.
#[derive(Debug, Default, Clone)]
pub struct Tally {
    /// (class, kind) -> count.
    pub counts: BTreeMap<(String, String), u64>,
    /// The unexplained cases with their first difference.
    pub unexplained: Vec<(Case, String)>,
}

impl Tally {
    /// Records one outcome.
    pub fn add(&mut self, case: &Case, o: &Outcome) {
        *self
            .counts
            .entry((o.class.clone(), case.kind().to_string()))
            .or_default() += 1;
        if o.class == UNEXPLAINED {
            self.unexplained
                .push((case.clone(), o.detail.clone().unwrap_or_default()));
        }
    }

    /// Total count of a class over both kinds.
    pub fn total(&self, class: &str) -> u64 {
        self.counts
            .iter()
            .filter(|((c, _), _)| c == class)
            .map(|(_, n)| n)
            .sum()
    }

    /// A table: class, instant, range.
    pub fn table(&self) -> String {
        let mut classes: Vec<&String> = self.counts.keys().map(|(c, _)| c).collect();
        classes.dedup();
        let mut s = format!("{:<36} {:>8} {:>8}\n", "class", "instant", "range");
        for c in classes {
            let g = |k: &str| {
                self.counts
                    .get(&(c.clone(), k.to_string()))
                    .copied()
                    .unwrap_or(0)
            };
            s.push_str(&format!(
                "{:<36} {:>8} {:>8}\n",
                c,
                g("instant"),
                g("range")
            ));
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cases_are_reproducible_and_in_span() {
        let spec = DataSpec {
            seed: 1,
            minutes: 60,
        };
        let mut a = CaseGen::new(5, &spec);
        let mut b = CaseGen::new(5, &spec);
        for _ in 0..200 {
            let (x, y) = (a.next_pair(), b.next_pair());
            assert_eq!(x, y);
            if let Case::Range {
                start, end, step, ..
            } = &x[1]
            {
                assert!(start <= end && *step > 0 && *start >= START_MS);
            }
            assert!(x[0].url_path().starts_with("/api/v1/query?query="));
        }
    }

    #[test]
    fn tally_counts_and_tables() {
        let mut t = Tally::default();
        let c = Case::Instant {
            query: "a".into(),
            time: 0,
        };
        t.add(
            &c,
            &Outcome {
                class: AGREE.into(),
                detail: None,
            },
        );
        t.add(
            &c,
            &Outcome {
                class: UNEXPLAINED.into(),
                detail: Some("x".into()),
            },
        );
        assert_eq!(t.total(AGREE), 1);
        assert_eq!(t.unexplained.len(), 1);
        assert!(t.table().contains("unexplained"));
    }
}
