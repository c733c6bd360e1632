//! The Prometheus HTTP API over a shared [`tsdb::Db`]: which endpoint answers what, with
//! Prometheus's JSON shapes, status codes and `errorType` values.
//!
//! [`Api::handle`] is a pure function from a [`Request`] to a [`Reply`]; the socket side
//! lives in [`crate::http`]. Endpoints: `/api/v1/query`, `/api/v1/query_range`,
//! `/api/v1/series`, `/api/v1/labels`, `/api/v1/label/<name>/values`, `/api/v1/rules`,
//! `/api/v1/alerts`, `/api/v1/status/buildinfo`, `/api/v1/metadata`,
//! `/api/v1/query_exemplars`, `/federate`, `/metrics`, `/-/healthy`, `/-/ready`; the query
//! page ([`ui`]) at `/`, `/graph` and `/static/...`, and
//! `POST /api/v1/write` (remote-write 1.0 receiver).
//!
//! Every read spans the persisted blocks and the head with deletions applied
//! ([`tsdb::Db::db_querier`] for the metadata endpoints and `/federate`; the promql
//! storage over [`tsdb::Db`] for queries), so data cut from the head by maintenance stays
//! visible.

pub mod json;
pub mod params;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use exposition::{Labels, Matcher};
use promql::engine::{AnnotationKind, Engine, EngineError, QueryContext, QueryResult};
use promql::Expr;
use tsdb::chunk::{MixedIterator as _, SampleIterator as _, ValueType};
use tsdb::{Db, DbQuerier};

use crate::telemetry::{negotiate, Registry};
pub use params::Params;

/// One HTTP request, already taken apart.
#[derive(Debug, Clone)]
pub struct Request<'a> {
    /// `GET`, `POST`, ...
    pub method: &'a str,
    /// The path without the query string.
    pub path: &'a str,
    /// Decoded parameters (URL query plus form body).
    pub params: Params,
    /// The `Accept` header, if any.
    pub accept: Option<&'a str>,
    /// The raw body.
    pub body: Vec<u8>,
}

impl<'a> Request<'a> {
    /// Splits `url` (`/path?query`) and decodes a form body when `content_type` says so.
    pub fn new(
        method: &'a str,
        url: &'a str,
        content_type: Option<&str>,
        body: &[u8],
        accept: Option<&'a str>,
    ) -> Request<'a> {
        let (path, query) = url.split_once('?').unwrap_or((url, ""));
        let form = content_type
            .is_some_and(|c| c.starts_with("application/x-www-form-urlencoded"))
            .then_some(body);
        Request {
            method,
            path,
            params: Params::parse(query, form),
            accept,
            body: body.to_vec(),
        }
    }

    /// The body parsed as JSON, if it is.
    pub fn body_json(&self) -> Option<serde_json::Value> {
        serde_json::from_slice(&self.body).ok()
    }
}

/// An HTTP response.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    /// Status code.
    pub status: u16,
    /// `Content-Type`.
    pub content_type: String,
    /// Body bytes.
    pub body: Vec<u8>,
}

const JSON: &str = "application/json";

impl Reply {
    /// A JSON reply.
    pub fn json(status: u16, body: String) -> Reply {
        Reply {
            status,
            content_type: JSON.into(),
            body: body.into_bytes(),
        }
    }

    /// A plain-text reply.
    pub fn text(status: u16, content_type: &str, body: String) -> Reply {
        Reply {
            status,
            content_type: content_type.into(),
            body: body.into_bytes(),
        }
    }

    fn success(data: &str) -> Reply {
        Reply::json(200, json::success(data, &[], &[]))
    }
}

/// An API error: Prometheus's `errorType` and the status code that goes with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// `bad_data`, `execution`, `timeout`, `canceled`, `internal`, `not_found`.
    pub kind: &'static str,
    /// The message.
    pub message: String,
}

impl ApiError {
    fn bad_data(message: impl Into<String>) -> ApiError {
        ApiError {
            kind: "bad_data",
            message: message.into(),
        }
    }

    fn status(&self) -> u16 {
        match self.kind {
            "bad_data" => 400,
            "execution" => 422,
            "timeout" | "canceled" | "unavailable" => 503,
            "not_found" => 404,
            _ => 500,
        }
    }

    fn reply(&self) -> Reply {
        Reply::json(self.status(), json::error(self.kind, &self.message))
    }
}

/// What the rule and scrape managers last reported, already encoded as JSON arrays
/// (`groups` of `/api/v1/rules`, `alerts` of `/api/v1/alerts`, `activeTargets` of
/// `/api/v1/targets`). A plain server has none.
#[derive(Debug, Clone)]
pub struct RulesSnapshot {
    /// JSON array of rule groups.
    pub groups_json: String,
    /// JSON array of active alerts.
    pub alerts_json: String,
    /// JSON array of scrape targets.
    pub targets_json: String,
}

impl Default for RulesSnapshot {
    fn default() -> Self {
        RulesSnapshot {
            groups_json: "[]".into(),
            alerts_json: "[]".into(),
            targets_json: "[]".into(),
        }
    }
}

/// An extra route: called first with the path; `Some` answers the request.
pub type ExtraRoute = Box<dyn Fn(&Request<'_>) -> Option<Reply> + Send + Sync>;

/// Settings of an [`Api`].
#[derive(Debug, Clone, Copy)]
pub struct ApiOptions {
    /// Default (and maximum) query timeout.
    pub timeout: Duration,
    /// Maximum samples a query may hold in memory.
    pub max_samples: usize,
    /// Lookback for `/federate`.
    pub lookback_ms: i64,
}

impl Default for ApiOptions {
    fn default() -> Self {
        ApiOptions {
            timeout: Duration::from_secs(120),
            max_samples: 50_000_000,
            lookback_ms: 5 * 60_000,
        }
    }
}

/// The API: shared database, engine, limits, rules view and self-instrumentation.
pub struct Api {
    db: Arc<RwLock<Db>>,
    engine: Engine,
    opts: ApiOptions,
    rules: Arc<RwLock<RulesSnapshot>>,
    telemetry: Arc<Registry>,
    extra: Vec<ExtraRoute>,
}

/// The wall clock in ms (the API defaults `time` to now, as Prometheus does).
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

impl Api {
    /// An API over `db`.
    pub fn new(db: Arc<RwLock<Db>>, opts: ApiOptions) -> Api {
        let mut eo = promql::engine::EngineOptions::default();
        eo.max_samples = opts.max_samples;
        eo.lookback_delta_ms = opts.lookback_ms;
        Api {
            db,
            engine: Engine::new(eo),
            opts,
            rules: Arc::new(RwLock::new(RulesSnapshot::default())),
            telemetry: Arc::new(Registry::new()),
            extra: Vec::new(),
        }
    }

    /// Shares `rules` as the source of `/api/v1/rules` and `/api/v1/alerts`.
    pub fn with_rules(mut self, rules: Arc<RwLock<RulesSnapshot>>) -> Api {
        self.rules = rules;
        self
    }

    /// Serves `/metrics` from `telemetry`.
    pub fn with_telemetry(mut self, telemetry: Arc<Registry>) -> Api {
        self.telemetry = telemetry;
        self
    }

    /// Adds a route tried before the built-in ones.
    pub fn with_route(mut self, route: ExtraRoute) -> Api {
        self.extra.push(route);
        self
    }

    /// The registry `/metrics` serves.
    pub fn telemetry(&self) -> &Arc<Registry> {
        &self.telemetry
    }

    /// Answers one request.
    pub fn handle(&self, req: &Request<'_>) -> Reply {
        for r in &self.extra {
            if let Some(rep) = r(req) {
                return rep;
            }
        }
        let started = Instant::now();
        let (handler, reply) = self.route(req);
        self.telemetry.inc(
            "prometheus_http_requests",
            "Counter of HTTP requests.",
            &[("handler", handler), ("code", &reply.status.to_string())],
            1.0,
        );
        self.telemetry.inc(
            "prometheus_http_request_seconds",
            "Total time spent answering HTTP requests.",
            &[("handler", handler)],
            started.elapsed().as_secs_f64(),
        );
        reply
    }

    fn route(&self, req: &Request<'_>) -> (&'static str, Reply) {
        let p = &req.params;
        if matches!(req.method, "GET" | "HEAD") {
            if let Some(a) = crate::ui::asset(req.path) {
                let reply = Reply::text(200, a.content_type, a.body.to_string());
                return (crate::ui::handler_name(req.path), reply);
            }
        }
        let get_post = matches!(req.method, "GET" | "POST");
        if !get_post {
            return (
                "other",
                Reply::text(405, "text/plain", "method not allowed\n".into()),
            );
        }
        let res = match req.path {
            "/api/v1/write" => ("/api/v1/write", self.remote_write(req)),
            "/api/v1/query" => ("/api/v1/query", self.query(p)),
            "/api/v1/query_range" => ("/api/v1/query_range", self.query_range(p)),
            "/api/v1/series" => ("/api/v1/series", self.series(p)),
            "/api/v1/labels" => ("/api/v1/labels", self.labels(p)),
            "/api/v1/rules" => ("/api/v1/rules", Ok(self.rules_reply(true))),
            "/api/v1/alerts" => ("/api/v1/alerts", Ok(self.rules_reply(false))),
            "/api/v1/targets" => ("/api/v1/targets", Ok(self.targets_reply())),
            "/api/v1/status/buildinfo" => ("/api/v1/status/buildinfo", Ok(buildinfo())),
            "/api/v1/metadata" => ("/api/v1/metadata", Ok(Reply::success("{}"))),
            "/api/v1/query_exemplars" => ("/api/v1/query_exemplars", Ok(Reply::success("[]"))),
            "/federate" => ("/federate", self.federate(p, req.accept)),
            "/metrics" => {
                let f = negotiate(req.accept);
                (
                    "/metrics",
                    Ok(Reply::text(200, f.content_type(), self.telemetry.encode(f))),
                )
            }
            "/-/healthy" | "/-/ready" => (
                "/-/healthy",
                Ok(Reply::text(
                    200,
                    "text/plain",
                    "Prometheus Server is Healthy.\n".into(),
                )),
            ),
            path => match path
                .strip_prefix("/api/v1/label/")
                .and_then(|r| r.strip_suffix("/values"))
            {
                Some(name) => ("/api/v1/label/:name/values", self.label_values(name, p)),
                None if path.starts_with("/api/") => (
                    "other",
                    Err(ApiError {
                        kind: "not_found",
                        message: format!("unknown API endpoint {path}"),
                    }),
                ),
                None => (
                    "other",
                    Ok(Reply::text(
                        404,
                        "text/plain",
                        "404 page not found\n".into(),
                    )),
                ),
            },
        };
        (res.0, res.1.unwrap_or_else(|e| e.reply()))
    }

    fn parse_query(&self, p: &Params) -> Result<Expr, ApiError> {
        let q = p.get("query").unwrap_or("");
        promql::parse(q)
            .map_err(|e| ApiError::bad_data(format!("invalid parameter \"query\": {e}")))
    }

    fn deadline(&self, p: &Params) -> Result<Instant, ApiError> {
        let mut timeout = self.opts.timeout;
        if let Some(s) = p.get("timeout") {
            let ms = params::parse_duration(s)
                .filter(|ms| *ms > 0)
                .ok_or_else(|| {
                    ApiError::bad_data(format!(
                        "invalid parameter \"timeout\": cannot parse {s:?} to a valid duration"
                    ))
                })?;
            timeout = timeout.min(Duration::from_millis(ms as u64));
        }
        Ok(Instant::now() + timeout)
    }

    fn run(
        &self,
        query: &str,
        deadline: Instant,
        f: impl FnOnce(&Db, QueryContext<'_>) -> Result<QueryResult, EngineError>,
    ) -> Result<Reply, ApiError> {
        let cancel = || Instant::now() >= deadline;
        let ctx = QueryContext {
            cancel: Some(&cancel),
        };
        let db = self.db.read().unwrap_or_else(|e| e.into_inner());
        let started = Instant::now();
        let res = f(&db, ctx);
        drop(db);
        self.telemetry.inc(
            "prometheus_engine_query_seconds",
            "Total time spent evaluating queries.",
            &[],
            started.elapsed().as_secs_f64(),
        );
        let res = res.map_err(|e| engine_error(e, Instant::now() >= deadline))?;
        let mut data = String::new();
        json::push_value(&mut data, &res.value);
        let mut warnings = Vec::new();
        let mut infos = Vec::new();
        for a in &res.annotations {
            match a.kind {
                AnnotationKind::Warning => warnings.push(a.render(query)),
                AnnotationKind::Info => infos.push(a.render(query)),
            }
        }
        Ok(Reply::json(200, json::success(&data, &warnings, &infos)))
    }

    fn query(&self, p: &Params) -> Result<Reply, ApiError> {
        let t = match p.get("time") {
            Some(s) if !s.is_empty() => time_param("time", s)?,
            _ => now_ms(),
        };
        let expr = self.parse_query(p)?;
        let deadline = self.deadline(p)?;
        let q = p.get("query").unwrap_or("");
        self.run(q, deadline, |db, ctx| {
            self.engine.instant_query_with(db, &expr, t, ctx)
        })
    }

    fn query_range(&self, p: &Params) -> Result<Reply, ApiError> {
        let start = time_param("start", p.get("start").unwrap_or(""))?;
        let end = time_param("end", p.get("end").unwrap_or(""))?;
        if end < start {
            return Err(ApiError::bad_data(
                "end timestamp must not be before start time",
            ));
        }
        let step_s = p.get("step").unwrap_or("");
        let step = params::parse_duration(step_s).ok_or_else(|| {
            ApiError::bad_data(format!(
                "invalid parameter \"step\": cannot parse {step_s:?} to a valid duration"
            ))
        })?;
        if step <= 0 {
            return Err(ApiError::bad_data(
                "zero or negative query resolution step widths are not accepted. Try a positive integer",
            ));
        }
        if (end - start) / step > 11_000 {
            return Err(ApiError::bad_data(
                "exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)",
            ));
        }
        let expr = self.parse_query(p)?;
        let deadline = self.deadline(p)?;
        let q = p.get("query").unwrap_or("");
        self.run(q, deadline, |db, ctx| {
            self.engine
                .range_query_with(db, &expr, start, end, step, ctx)
        })
    }

    /// `/api/v1/series`: the series each `match[]` selects that hold a sample in
    /// `[start, end]` (all time by default), read from the blocks and the head with
    /// deletions applied.
    fn series(&self, p: &Params) -> Result<Reply, ApiError> {
        let sets = match_params(p)?;
        if sets.is_empty() {
            return Err(ApiError::bad_data("no match[] parameter provided"));
        }
        let (start, end) = range_params(p)?;
        let db = self.db.read().unwrap_or_else(|e| e.into_inner());
        let q = db.db_querier(start, end);
        let mut all: BTreeSet<Labels> = BTreeSet::new();
        for ms in &sets {
            live_series(&q, ms, |l| {
                all.insert(l.clone());
            })?;
        }
        drop(db);
        let limit = limit_param(p)?;
        let mut data = String::from("[");
        for (i, l) in all.iter().take(limit).enumerate() {
            if i > 0 {
                data.push(',');
            }
            json::push_labels(&mut data, l);
        }
        data.push(']');
        Ok(truncated_reply(&data, all.len() > limit))
    }

    /// `/api/v1/labels`: label names over `[start, end]` (all time by default) in the
    /// blocks and the head. With `match[]`, `start`/`end`, or while deletions are pending,
    /// only series with a sample left in the range count; otherwise the label indexes
    /// answer.
    fn labels(&self, p: &Params) -> Result<Reply, ApiError> {
        let sets = match_params(p)?;
        let (start, end) = range_params(p)?;
        let db = self.db.read().unwrap_or_else(|e| e.into_inner());
        let q = db.db_querier(start, end);
        let mut names = BTreeSet::new();
        if sets.is_empty() && whole_range(start, end) && !has_deletions(&db) {
            names.extend(q.label_names(&[]).map_err(internal)?);
        } else {
            let all: [Vec<Matcher>; 1] = [Vec::new()];
            let sets = if sets.is_empty() { &all[..] } else { &sets[..] };
            for ms in sets {
                live_series(&q, ms, |l| {
                    for lb in l.iter() {
                        if !names.contains(lb.name.as_str()) {
                            names.insert(lb.name.to_string());
                        }
                    }
                })?;
            }
        }
        drop(db);
        let limit = limit_param(p)?;
        Ok(truncated_reply(
            &string_array(names.iter().take(limit)),
            names.len() > limit,
        ))
    }

    /// `/api/v1/label/<name>/values`: as [`Api::labels`], for the values of one label.
    fn label_values(&self, name: &str, p: &Params) -> Result<Reply, ApiError> {
        let name = form_urlencoded::parse(format!("n={name}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default();
        if name.is_empty() || name.contains('/') {
            return Err(ApiError::bad_data(format!("invalid label name: {name:?}")));
        }
        let sets = match_params(p)?;
        let (start, end) = range_params(p)?;
        let db = self.db.read().unwrap_or_else(|e| e.into_inner());
        let q = db.db_querier(start, end);
        let mut values = BTreeSet::new();
        if sets.is_empty() && whole_range(start, end) && !has_deletions(&db) {
            values.extend(q.label_values(&name, &[]).map_err(internal)?);
        } else {
            // Only series carrying the label can contribute: select them directly.
            let has = Matcher::new(exposition::MatchOp::NotEqual, &name, "").map_err(internal)?;
            let all: [Vec<Matcher>; 1] = [Vec::new()];
            let sets = if sets.is_empty() { &all[..] } else { &sets[..] };
            for ms in sets {
                let mut ms = ms.clone();
                ms.push(has.clone());
                live_series(&q, &ms, |l| {
                    if let Some(v) = l.get(&name) {
                        if !values.contains(v) {
                            values.insert(v.to_string());
                        }
                    }
                })?;
            }
        }
        drop(db);
        let limit = limit_param(p)?;
        Ok(truncated_reply(
            &string_array(values.iter().take(limit)),
            values.len() > limit,
        ))
    }

    fn rules_reply(&self, groups: bool) -> Reply {
        let r = self.rules.read().unwrap_or_else(|e| e.into_inner());
        let data = if groups {
            format!("{{\"groups\":{}}}", r.groups_json)
        } else {
            format!("{{\"alerts\":{}}}", r.alerts_json)
        };
        Reply::success(&data)
    }

    fn targets_reply(&self) -> Reply {
        let r = self.rules.read().unwrap_or_else(|e| e.into_inner());
        Reply::success(&format!(
            "{{\"activeTargets\":{},\"droppedTargets\":[]}}",
            r.targets_json
        ))
    }

    /// `POST /api/v1/write`: a remote-write 1.0 body (snappy block, protobuf) appended in
    /// one transaction. `204` when everything was stored; `400` with one line per refused
    /// series (out of order, duplicate, out of bounds, invalid labels) while the rest is
    /// kept, or for a body that does not decode; `500` when storage failed (the sender
    /// retries); `405` for any other method.
    fn remote_write(&self, req: &Request<'_>) -> Result<Reply, ApiError> {
        if req.method != "POST" {
            return Ok(Reply::text(
                405,
                "text/plain",
                "method not allowed: remote write takes POST\n".into(),
            ));
        }
        // Decode outside the lock: queries are not held up by a large body.
        let wr = match remote::decode_request(&req.body) {
            Ok(wr) => wr,
            Err(e) => return Ok(Reply::text(400, "text/plain", format!("{e}\n"))),
        };
        let mut db = self.db.write().unwrap_or_else(|e| e.into_inner());
        let mut app = db.appender();
        let res = match remote::append_request(&wr, &mut app) {
            Ok(report) => app
                .commit()
                .map(|()| report)
                .map_err(remote::RemoteError::Storage),
            Err(e) => {
                app.rollback();
                Err(e)
            }
        };
        drop(db);
        Ok(match res {
            Ok(report) if report.http_status() == 204 => {
                Reply::text(204, "text/plain", String::new())
            }
            Ok(report) => Reply::text(report.http_status(), "text/plain", report.error_text()),
            // Storage failed: 500, so the sender retries.
            Err(e) => Reply::text(500, "text/plain", format!("{e}\n")),
        })
    }

    /// `/federate`: the latest sample (within the lookback) of every series the `match[]`
    /// selectors pick, with timestamps. As text 0.0.4 unless the `Accept` header
    /// negotiates the delimited protobuf format; only protobuf carries native histograms
    /// (untyped floats, `HISTOGRAM` / `GAUGE_HISTOGRAM` families with float counts, as
    /// Prometheus's federation writes them), text leaves them out as Prometheus does.
    fn federate(&self, p: &Params, accept: Option<&str>) -> Result<Reply, ApiError> {
        let sets = match_params(p)?;
        let protobuf = exposition::content_type::negotiate(accept).is_none();
        let now = now_ms();
        let db = self.db.read().unwrap_or_else(|e| e.into_inner());
        // Blocks too: a head that was just cut may hold none of a series' latest samples.
        let q = db.db_querier(now - self.opts.lookback_ms, now);
        let mut latest: BTreeMap<Labels, (i64, Federated)> = BTreeMap::new();
        for ms in &sets {
            for s in q
                .select(ms, &tsdb::SelectHints::default())
                .map_err(internal)?
            {
                if let Some(last) = federate_last(&s) {
                    latest.insert(s.labels().clone(), last);
                }
            }
        }
        drop(db);
        if protobuf {
            let mut out = Vec::new();
            exposition::protobuf::encode_delimited(&federate_families(latest), &mut out);
            return Ok(Reply {
                status: 200,
                content_type: exposition::protobuf::CONTENT_TYPE.into(),
                body: out,
            });
        }
        let mut fams: BTreeMap<String, exposition::MetricFamily> = BTreeMap::new();
        for (l, (t, v)) in latest {
            let Federated::Float(v) = v else {
                continue; // text formats cannot carry native histograms
            };
            let name = l.metric_name().unwrap_or("").to_string();
            let fam = fams.entry(name.clone()).or_insert_with(|| {
                exposition::MetricFamily::new(name.clone(), exposition::MetricType::Unknown)
            });
            fam.samples.push(exposition::FamilySample {
                name,
                labels: l.without_metric_name(),
                value: v,
                timestamp: Some(t),
                exemplar: None,
            });
        }
        let fams: Vec<_> = fams.into_values().collect();
        let mut out = String::new();
        exposition::text::encode(&fams, &mut out);
        Ok(Reply::text(200, exposition::text::CONTENT_TYPE, out))
    }
}

/// Calls `f` with the labels of every series `matchers` select in `q` that still has a
/// sample (float or histogram) in the querier's range once deletions are applied.
fn live_series(
    q: &DbQuerier<'_>,
    matchers: &[Matcher],
    mut f: impl FnMut(&Labels),
) -> Result<(), ApiError> {
    for s in q
        .select(matchers, &tsdb::SelectHints::default())
        .map_err(internal)?
    {
        if s.mixed_iter().next() != ValueType::None {
            f(s.labels());
        }
    }
    Ok(())
}

/// Whether `[start, end]` is all time (no `start`/`end` given): then the label indexes
/// answer without reading samples.
fn whole_range(start: i64, end: i64) -> bool {
    start <= params::MIN_TIME_MS && end >= params::MAX_TIME_MS
}

/// Whether any deletion (tombstone) is pending in the head or a block: the label indexes
/// still list series whose samples are all deleted until compaction rewrites them.
fn has_deletions(db: &Db) -> bool {
    !db.head_tombstones().is_empty() || db.blocks().iter().any(|b| !b.tombstones().is_empty())
}

fn internal(e: impl std::fmt::Display) -> ApiError {
    ApiError {
        kind: "internal",
        message: e.to_string(),
    }
}

fn engine_error(e: EngineError, past_deadline: bool) -> ApiError {
    match e {
        EngineError::Canceled(w) if past_deadline => ApiError {
            kind: "timeout",
            message: format!("query timed out in {w}"),
        },
        EngineError::Canceled(_) => ApiError {
            kind: "canceled",
            message: e.to_string(),
        },
        EngineError::Storage(_) => internal(e),
        EngineError::Parse(_) => ApiError::bad_data(e.to_string()),
        _ => ApiError {
            kind: "execution",
            message: e.to_string(),
        },
    }
}

fn time_param(name: &str, s: &str) -> Result<i64, ApiError> {
    params::parse_time(s).ok_or_else(|| {
        ApiError::bad_data(format!(
            "invalid parameter {name:?}: cannot parse {s:?} to a valid timestamp"
        ))
    })
}

fn range_params(p: &Params) -> Result<(i64, i64), ApiError> {
    let start = match p.get("start") {
        Some(s) if !s.is_empty() => time_param("start", s)?,
        _ => params::MIN_TIME_MS,
    };
    let end = match p.get("end") {
        Some(s) if !s.is_empty() => time_param("end", s)?,
        _ => params::MAX_TIME_MS,
    };
    if end < start {
        return Err(ApiError::bad_data(
            "end timestamp must not be before start time",
        ));
    }
    Ok((start, end))
}

/// Parses every `match[]` as a series selector.
fn match_params(p: &Params) -> Result<Vec<Vec<Matcher>>, ApiError> {
    p.all("match[]")
        .into_iter()
        .map(|s| {
            let bad = |m: String| ApiError::bad_data(format!("invalid parameter \"match[]\": {m}"));
            match promql::parse(s) {
                Ok(Expr::VectorSelector(vs)) => Ok(vs.matchers),
                Ok(_) => Err(bad(format!("{s:?} is not a series selector"))),
                Err(e) => Err(bad(e.to_string())),
            }
        })
        .collect()
}

/// The `limit` parameter of the metadata endpoints (0 or absent: no limit).
fn limit_param(p: &Params) -> Result<usize, ApiError> {
    match p.get("limit") {
        None | Some("") => Ok(usize::MAX),
        Some(s) => match s.parse::<i64>() {
            Ok(0) => Ok(usize::MAX),
            Ok(n) if n > 0 => Ok(n as usize),
            _ => Err(ApiError::bad_data(format!(
                "invalid parameter \"limit\": cannot parse {s:?} to a valid limit"
            ))),
        },
    }
}

/// A success reply, with Prometheus's warning when `limit` cut the result.
fn truncated_reply(data: &str, truncated: bool) -> Reply {
    let warnings = if truncated {
        vec!["results truncated due to limit".to_string()]
    } else {
        Vec::new()
    };
    Reply::json(200, json::success(data, &warnings, &[]))
}

fn string_array<'a>(items: impl Iterator<Item = &'a String>) -> String {
    let mut out = String::from("[");
    for (i, s) in items.enumerate() {
        if i > 0 {
            out.push(',');
        }
        json::push_str(&mut out, s);
    }
    out.push(']');
    out
}

fn buildinfo() -> Reply {
    let data = serde_json::json!({
        "version": env!("CARGO_PKG_VERSION"),
        "revision": "unknown",
        "branch": "main",
        "buildUser": "examples",
        "buildDate": "unknown",
        "goVersion": "rust",
    });
    Reply::success(&data.to_string())
}

/// The latest sample of a federated series.
#[derive(Debug, Clone, PartialEq)]
enum Federated {
    Float(f64),
    Histogram(exposition::histogram::FloatHistogram),
}

/// The newest sample of `s` in the querier's range, unless it is a staleness marker
/// (federation drops those, as Prometheus does).
fn federate_last(s: &tsdb::MergedSeries<'_>) -> Option<(i64, Federated)> {
    let mut last = None;
    if s.has_histograms() {
        let mut it = s.mixed_iter();
        loop {
            match it.next() {
                ValueType::None => break,
                ValueType::Float => {
                    let (t, v) = it.at();
                    last = Some((t, Federated::Float(v)));
                }
                _ => {
                    let mut h = exposition::histogram::FloatHistogram::default();
                    let t = it.at_float_histogram(&mut h);
                    last = Some((t, Federated::Histogram(h)));
                }
            }
        }
    } else {
        let mut it = s.iter();
        while it.next() {
            let (t, v) = it.at();
            last = Some((t, Federated::Float(v)));
        }
    }
    match &last {
        Some((_, Federated::Float(v))) if tsdb::storage::is_stale_nan(*v) => None,
        Some((_, Federated::Histogram(h))) if tsdb::storage::is_stale_nan(h.sum) => None,
        _ => last,
    }
}

/// Protobuf families for `/federate`, as Prometheus's federation groups them: series in
/// metric-name order; a new family whenever the name, the sample type (float or
/// histogram) or the histogram kind (counter or gauge) changes, so one name can appear
/// in several families. Floats are `UNTYPED`; histograms carry float counts.
fn federate_families(
    latest: BTreeMap<Labels, (i64, Federated)>,
) -> Vec<exposition::protobuf::proto::MetricFamily> {
    use exposition::histogram::CounterResetHint;
    use exposition::protobuf::proto;
    let mut series: Vec<(Labels, (i64, Federated))> = latest.into_iter().collect();
    series.sort_by(|a, b| a.0.metric_name().cmp(&b.0.metric_name()));
    let mut fams: Vec<proto::MetricFamily> = Vec::new();
    let mut last_key: Option<(String, i32)> = None;
    for (l, (t, v)) in series {
        let Some(name) = l.metric_name().filter(|n| !n.is_empty()) else {
            continue; // nameless series are not federated
        };
        let ty = match &v {
            Federated::Float(_) => proto::MetricType::Untyped,
            Federated::Histogram(h) if h.counter_reset_hint == CounterResetHint::Gauge => {
                proto::MetricType::GaugeHistogram
            }
            Federated::Histogram(_) => proto::MetricType::Histogram,
        } as i32;
        let key = (name.to_string(), ty);
        if last_key.as_ref() != Some(&key) {
            fams.push(proto::MetricFamily {
                name: name.to_string(),
                r#type: ty,
                ..Default::default()
            });
            last_key = Some(key);
        }
        let label = l
            .without_metric_name()
            .iter()
            .filter(|p| !p.value.is_empty())
            .map(|p| proto::LabelPair {
                name: p.name.to_string(),
                value: p.value.to_string(),
            })
            .collect();
        let spans = |s: &[exposition::histogram::Span]| {
            s.iter()
                .map(|s| proto::BucketSpan {
                    offset: s.offset,
                    length: s.length,
                })
                .collect::<Vec<_>>()
        };
        let mut m = proto::Metric {
            label,
            timestamp_ms: t,
            ..Default::default()
        };
        match v {
            Federated::Float(v) => m.untyped = Some(proto::Untyped { value: v }),
            Federated::Histogram(h) => {
                m.histogram = Some(proto::Histogram {
                    sample_count_float: h.count,
                    sample_sum: h.sum,
                    schema: h.schema,
                    zero_threshold: h.zero_threshold,
                    zero_count_float: h.zero_count,
                    negative_span: spans(&h.negative_spans),
                    negative_count: h.negative_buckets,
                    positive_span: spans(&h.positive_spans),
                    positive_count: h.positive_buckets,
                    ..Default::default()
                })
            }
        }
        if let Some(f) = fams.last_mut() {
            f.metric.push(m);
        }
    }
    fams
}
