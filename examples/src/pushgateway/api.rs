//! Which request does what? The Pushgateway's HTTP API as a pure function from (method,
//! path, headers, body, time) to a reply, so it is testable without sockets.

use std::collections::BTreeMap;

use exposition::{family::MetricFamily, Format, MetricType};
use serde_json::{json, Map, Value};

use super::key::parse_grouping_key;
use super::store::{parse_push, time_family, Group, PushMode, Store, PUSH_FAILURE_TIME, PUSH_TIME};

/// An HTTP reply.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    /// Status code.
    pub status: u16,
    /// `Content-Type`.
    pub content_type: &'static str,
    /// Body.
    pub body: Vec<u8>,
}

impl Reply {
    fn text(status: u16, body: impl Into<String>) -> Reply {
        Reply {
            status,
            content_type: "text/plain; charset=utf-8",
            body: body.into().into_bytes(),
        }
    }
}

/// The Pushgateway: a [`Store`] behind the HTTP API.
#[derive(Debug, Default)]
pub struct Pushgateway {
    /// What is held.
    pub store: Store,
    /// Whether `PUT /api/v1/admin/wipe` is allowed (`--web.enable-admin-api`).
    pub admin_api: bool,
    /// Set by every change; the persistence loop clears it after writing.
    pub dirty: bool,
}

impl Pushgateway {
    /// A gateway over `store`.
    pub fn new(store: Store, admin_api: bool) -> Pushgateway {
        Pushgateway {
            store,
            admin_api,
            dirty: false,
        }
    }

    /// Answers one request. `url` is the request target (path and optional query).
    ///
    /// ```
    /// use examples::pushgateway::api::Pushgateway;
    /// let mut pg = Pushgateway::default();
    /// let r = pg.handle("PUT", "/metrics/job/batch", None, None, b"done 1\n", 10_000);
    /// assert_eq!(r.status, 200);
    /// let r = pg.handle("GET", "/metrics", None, None, b"", 11_000);
    /// let body = String::from_utf8(r.body).unwrap();
    /// assert!(body.contains("done{job=\"batch\"} 1\n"), "{body}");
    /// assert!(body.contains("push_time_seconds{job=\"batch\"} 10\n"), "{body}");
    /// ```
    pub fn handle(
        &mut self,
        method: &str,
        url: &str,
        content_type: Option<&str>,
        accept: Option<&str>,
        body: &[u8],
        now_ms: i64,
    ) -> Reply {
        let path = url.split(['?', '#']).next().unwrap_or("");
        let path = path.strip_prefix("/pushgateway").unwrap_or(path);
        match (method, path) {
            ("GET" | "HEAD", "/metrics") => self.exposition(accept),
            ("GET" | "HEAD", "/api/v1/metrics") => self.json(),
            ("GET" | "HEAD", "/-/healthy" | "/-/ready") => Reply::text(200, "OK\n"),
            ("PUT", "/api/v1/admin/wipe") => {
                if !self.admin_api {
                    return Reply::text(
                        403,
                        "admin API is disabled; start with --web.enable-admin-api\n",
                    );
                }
                self.store.wipe();
                self.dirty = true;
                Reply::text(202, "")
            }
            (
                _,
                "/metrics" | "/api/v1/metrics" | "/-/healthy" | "/-/ready" | "/api/v1/admin/wipe",
            ) => Reply::text(405, format!("method {method} not allowed on {path}\n")),
            (_, p) if p.starts_with("/metrics/") => {
                self.group_request(method, &p["/metrics/".len()..], content_type, body, now_ms)
            }
            _ => Reply::text(404, format!("no such endpoint: {path}\n")),
        }
    }

    fn group_request(
        &mut self,
        method: &str,
        rest: &str,
        content_type: Option<&str>,
        body: &[u8],
        now_ms: i64,
    ) -> Reply {
        let mode = match method {
            "PUT" => PushMode::Replace,
            "POST" => PushMode::Merge,
            "DELETE" => PushMode::Replace,
            _ => {
                return Reply::text(
                    405,
                    format!("method {method} not allowed on /metrics/...\n"),
                )
            }
        };
        let key = match parse_grouping_key(rest) {
            Ok(k) => k,
            Err(e) => return Reply::text(400, format!("bad grouping key: {e}\n")),
        };
        if method == "DELETE" {
            self.store.delete(&key);
            self.dirty = true;
            return Reply::text(202, "");
        }
        self.dirty = true;
        let (fams, natives) = match parse_push(content_type, body) {
            Ok(f) => f,
            Err(e @ super::error::PushError::UnsupportedMediaType(_)) => {
                self.store.record_failure(&key, now_ms);
                return Reply::text(415, format!("{e}\n"));
            }
            Err(e) => {
                self.store.record_failure(&key, now_ms);
                return Reply::text(400, format!("{e}\n"));
            }
        };
        match self
            .store
            .push_with_natives(&key, fams, natives, mode, now_ms)
        {
            Ok(()) => Reply::text(200, ""),
            Err(e) => Reply::text(
                400,
                format!("pushed metrics are invalid or inconsistent with existing metrics: {e}\n"),
            ),
        }
    }

    fn exposition(&self, accept: Option<&str>) -> Reply {
        let fams = self.store.gather();
        if exposition::content_type::negotiate(accept).is_none() {
            // Delimited protobuf, asked for first (as Prometheus does with native
            // histograms on).
            let histograms = self.store.gather_natives(&fams);
            let scrape = exposition::protobuf::Scrape {
                families: fams,
                histograms,
            };
            let mut body = Vec::new();
            exposition::protobuf::encode_delimited(
                &exposition::protobuf::to_messages(&scrape),
                &mut body,
            );
            return Reply {
                status: 200,
                content_type: exposition::protobuf::CONTENT_TYPE,
                body,
            };
        }
        let mut out = String::new();
        let format = if wants_openmetrics(accept) {
            exposition::openmetrics::encode(&openmetrics_view(fams), &mut out);
            Format::OpenMetrics
        } else {
            exposition::text::encode(&fams, &mut out);
            Format::Text
        };
        Reply {
            status: 200,
            content_type: format.content_type(),
            body: out.into_bytes(),
        }
    }

    fn json(&self) -> Reply {
        let data: Vec<Value> = self.store.groups().map(group_json).collect();
        let body = json!({"status": "success", "data": data});
        Reply {
            status: 200,
            content_type: "application/json",
            body: serde_json::to_vec(&body).unwrap_or_default(),
        }
    }
}

/// The families as OpenMetrics: counters renamed (`x_total` -> `x`), and any family whose
/// name OpenMetrics would read as a sample of another family left out. Those are the
/// `x_created` gauges text 0.0.4 clients push beside their counters, histograms and
/// summaries; the text 0.0.4 view still has them.
fn openmetrics_view(fams: Vec<MetricFamily>) -> Vec<MetricFamily> {
    let fams = exposition::family::to_openmetrics(fams);
    let clashes: std::collections::HashSet<usize> = fams
        .iter()
        .enumerate()
        .filter(|(i, f)| {
            fams.iter().enumerate().any(|(j, g)| {
                j != *i && f.name != g.name && g.owns_sample(Format::OpenMetrics, &f.name)
            })
        })
        .map(|(i, _)| i)
        .collect();
    fams.into_iter()
        .enumerate()
        .filter(|(i, f)| !clashes.contains(i) && valid_openmetrics(f))
        .map(|(_, f)| f)
        .collect()
}

/// Whether a counter, histogram or summary pushed as lax text 0.0.4 is also valid
/// OpenMetrics (a histogram without its `+Inf` bucket or a negative counter is not; such a
/// family is left out of the OpenMetrics view so the rest stays scrapeable).
fn valid_openmetrics(f: &MetricFamily) -> bool {
    if !matches!(
        f.ty,
        MetricType::Counter | MetricType::Histogram | MetricType::Summary
    ) {
        return true;
    }
    let mut out = String::new();
    exposition::openmetrics::encode(std::slice::from_ref(f), &mut out);
    exposition::openmetrics::parse_families(out.as_bytes()).is_ok()
}

/// Whether an `Accept` header prefers OpenMetrics over text 0.0.4 (by q-value; a tie goes
/// to OpenMetrics, absence of OpenMetrics means text).
fn wants_openmetrics(accept: Option<&str>) -> bool {
    let Some(accept) = accept else { return false };
    let (mut om, mut text) = (None::<f32>, None::<f32>);
    for part in accept.split(',') {
        let mut params = part.split(';');
        let media = params.next().unwrap_or("").trim().to_ascii_lowercase();
        let q = params
            .filter_map(|p| p.trim().strip_prefix("q="))
            .find_map(|q| q.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        match media.as_str() {
            "application/openmetrics-text" => om = Some(om.map_or(q, |o| o.max(q))),
            "text/plain" => text = Some(text.map_or(q, |t| t.max(q))),
            _ => {}
        }
    }
    match (om, text) {
        (Some(o), Some(t)) => o > 0.0 && o >= t,
        (Some(o), None) => o > 0.0,
        _ => false,
    }
}

fn rfc3339(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms)
        .map(|t| t.to_string())
        .unwrap_or_default()
}

fn labels_json(l: &exposition::Labels) -> Value {
    Value::Object(
        l.iter()
            .map(|l| (l.name.clone(), Value::String(l.value.clone())))
            .collect(),
    )
}

fn value_text(v: f64) -> String {
    let mut s = String::new();
    exposition::text::encode(
        &[MetricFamily {
            samples: vec![exposition::FamilySample {
                name: "x".into(),
                labels: exposition::Labels::default(),
                value: v,
                timestamp: None,
                exemplar: None,
            }],
            ..MetricFamily::new("x", MetricType::Unknown)
        }],
        &mut s,
    );
    s.lines()
        .last()
        .and_then(|l| l.strip_prefix("x "))
        .unwrap_or("NaN")
        .to_string()
}

/// One group in the shape of the real `/api/v1/metrics`: `labels`, `last_push_successful`
/// and one object per family with `time_stamp`, `type`, `help` and `metrics`. Histogram and
/// summary metrics carry `buckets`/`quantiles`, `count` and `sum`; the others `value`.
fn group_json(g: &Group) -> Value {
    let mut obj = Map::new();
    obj.insert("labels".into(), labels_json(&g.key));
    obj.insert(
        "last_push_successful".into(),
        Value::Bool(g.last_push_successful()),
    );
    for (name, ms) in [
        (PUSH_TIME, g.push_time_ms),
        (PUSH_FAILURE_TIME, g.push_failure_time_ms),
    ] {
        obj.insert(
            name.into(),
            family_json(&time_family(name, &g.key, ms), g.push_time_ms),
        );
    }
    for (name, f) in &g.families {
        let ts = g.family_times.get(name).copied().unwrap_or(g.push_time_ms);
        obj.insert(name.clone(), family_json(f, ts));
    }
    Value::Object(obj)
}

fn family_json(f: &MetricFamily, ts_ms: i64) -> Value {
    let metrics: Vec<Value> = match f.ty {
        MetricType::Histogram | MetricType::Summary => compound_metrics(f),
        _ => f
            .samples
            .iter()
            .map(|s| json!({"labels": labels_json(&s.labels), "value": value_text(s.value)}))
            .collect(),
    };
    json!({
        "time_stamp": rfc3339(ts_ms),
        "type": f.ty.as_text().to_ascii_uppercase(),
        "help": f.help.clone().unwrap_or_default(),
        "metrics": metrics,
    })
}

/// Folds the flat samples of a histogram or summary into one object per label set.
fn compound_metrics(f: &MetricFamily) -> Vec<Value> {
    let (part_label, part_key) = if f.ty == MetricType::Histogram {
        ("le", "buckets")
    } else {
        ("quantile", "quantiles")
    };
    let mut order: Vec<exposition::Labels> = Vec::new();
    let mut objs: BTreeMap<exposition::Labels, Map<String, Value>> = BTreeMap::new();
    for s in &f.samples {
        let base = s.labels.without(&[part_label]);
        let obj = objs.entry(base.clone()).or_insert_with(|| {
            order.push(base.clone());
            let mut m = Map::new();
            m.insert("labels".into(), labels_json(&base));
            m.insert(part_key.into(), Value::Object(Map::new()));
            m
        });
        let v = Value::String(value_text(s.value));
        if s.name.ends_with("_count") && s.name.len() == f.name.len() + 6 {
            obj.insert("count".into(), v);
        } else if s.name.ends_with("_sum") && s.name.len() == f.name.len() + 4 {
            obj.insert("sum".into(), v);
        } else if let Some(part) = s.labels.get(part_label) {
            if let Some(Value::Object(parts)) = obj.get_mut(part_key) {
                parts.insert(part.to_string(), v);
            }
        }
    }
    order
        .into_iter()
        .filter_map(|l| objs.remove(&l).map(Value::Object))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(r: &Reply) -> String {
        String::from_utf8(r.body.clone()).unwrap()
    }

    #[test]
    fn routes_and_statuses() {
        let mut pg = Pushgateway::new(Store::new(), false);
        assert_eq!(pg.handle("GET", "/nope", None, None, b"", 0).status, 404);
        assert_eq!(
            pg.handle("POST", "/metrics", None, None, b"", 0).status,
            405
        );
        assert_eq!(
            pg.handle("GET", "/metrics/job/a", None, None, b"", 0)
                .status,
            405
        );
        assert_eq!(
            pg.handle("PUT", "/metrics/instance/a", None, None, b"", 0)
                .status,
            400
        );
        assert_eq!(
            pg.handle("PUT", "/metrics/job/a", None, None, b"m{", 0)
                .status,
            400
        );
        assert!(pg.dirty);
        assert_eq!(
            pg.handle(
                "PUT",
                "/metrics/job/a",
                Some("application/vnd.google.protobuf"),
                None,
                b"",
                0
            )
            .status,
            415
        );
        assert_eq!(
            pg.handle("PUT", "/api/v1/admin/wipe", None, None, b"", 0)
                .status,
            403
        );
        assert_eq!(
            pg.handle("GET", "/-/healthy", None, None, b"", 0).status,
            200
        );
    }

    #[test]
    fn parse_error_message_has_position() {
        let mut pg = Pushgateway::default();
        let r = pg.handle(
            "PUT",
            "/metrics/job/a",
            None,
            None,
            b"ok 1\nbad{ 1\n",
            7_000,
        );
        assert_eq!(r.status, 400);
        assert!(body(&r).contains("2:"), "{}", body(&r));
        let g = pg.store.groups().next().unwrap();
        assert_eq!(g.push_failure_time_ms, 7_000);
        assert!(g.families.is_empty());
    }

    #[test]
    fn delete_and_wipe() {
        let mut pg = Pushgateway::new(Store::new(), true);
        assert_eq!(
            pg.handle("PUT", "/metrics/job/a", None, None, b"m 1\n", 1)
                .status,
            200
        );
        assert_eq!(
            pg.handle("PUT", "/metrics/job/b/x/y", None, None, b"m 1\n", 1)
                .status,
            200
        );
        assert_eq!(
            pg.handle("DELETE", "/metrics/job/a", None, None, b"", 2)
                .status,
            202
        );
        let out = body(&pg.handle("GET", "/metrics", None, None, b"", 3));
        assert!(!out.contains("job=\"a\""), "{out}");
        assert!(
            out.contains("m{job=\"b\", x=\"y\"} 1") || out.contains("m{job=\"b\",x=\"y\"} 1"),
            "{out}"
        );
        assert_eq!(
            pg.handle("PUT", "/api/v1/admin/wipe", None, None, b"", 4)
                .status,
            202
        );
        assert_eq!(body(&pg.handle("GET", "/metrics", None, None, b"", 5)), "");
    }

    #[test]
    fn openmetrics_negotiation() {
        let mut pg = Pushgateway::default();
        pg.handle(
            "PUT",
            "/metrics/job/a",
            None,
            None,
            b"# TYPE c_total counter\nc_total 2\n",
            1_000,
        );
        let r = pg.handle("GET", "/metrics", None, Some(Format::ACCEPT), b"", 2);
        assert!(r.content_type.starts_with("application/openmetrics-text"));
        let out = body(&r);
        assert!(out.ends_with("# EOF\n"), "{out}");
        assert!(
            out.contains("# TYPE c counter\nc_total{job=\"a\"} 2\n"),
            "{out}"
        );
        assert!(
            exposition::openmetrics::parse_families(out.as_bytes()).is_ok(),
            "{out}"
        );
        let r = pg.handle(
            "GET",
            "/metrics",
            None,
            Some("text/plain;q=1,application/openmetrics-text;q=0.5"),
            b"",
            2,
        );
        assert!(r.content_type.starts_with("text/plain"));
        assert!(!wants_openmetrics(Some("*/*")));
    }

    #[test]
    fn json_api_shape() {
        let mut pg = Pushgateway::default();
        let push = "# HELP h Lat.\n# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 3\nh_sum 4.5\nh_count 3\n# TYPE g gauge\ng{x=\"1\"} 1.5\n";
        assert_eq!(
            pg.handle("PUT", "/metrics/job/j", None, None, push.as_bytes(), 1_000)
                .status,
            200
        );
        let v: Value =
            serde_json::from_slice(&pg.handle("GET", "/api/v1/metrics", None, None, b"", 2).body)
                .unwrap();
        assert_eq!(v["status"], "success");
        let g = &v["data"][0];
        assert_eq!(g["labels"]["job"], "j");
        assert_eq!(g["last_push_successful"], true);
        assert_eq!(g["push_time_seconds"]["metrics"][0]["value"], "1");
        assert_eq!(g["push_time_seconds"]["time_stamp"], "1970-01-01T00:00:01Z");
        assert_eq!(g["g"]["type"], "GAUGE");
        assert_eq!(g["g"]["metrics"][0]["labels"]["x"], "1");
        assert_eq!(g["g"]["metrics"][0]["value"], "1.5");
        let h = &g["h"]["metrics"][0];
        assert_eq!(g["h"]["help"], "Lat.");
        assert_eq!(h["buckets"]["+Inf"], "3");
        assert_eq!(h["count"], "3");
        assert_eq!(h["sum"], "4.5");
        assert_eq!(h["labels"]["job"], "j");
    }

    /// Random requests built from fragments never panic, always answer a known status, and
    /// leave a store whose exposition parses back.
    #[test]
    fn random_requests_never_panic() {
        const METHODS: &[&str] = &["GET", "PUT", "POST", "DELETE", "PATCH"];
        const PATHS: &[&str] = &[
            "/metrics",
            "/metrics/",
            "/metrics/job/a",
            "/metrics/job/b/instance/x",
            "/metrics/job@base64/",
            "/metrics/job@base64/%",
            "/metrics/job/a/b@base64/w_8",
            "/metrics/job/%ff",
            "/metrics/job/a/__x/y",
            "/api/v1/metrics",
            "/api/v1/admin/wipe",
            "/-/ready",
            "/",
            "/metrics/job/a/instance",
            "/metrics/job/c/le/0.5",
        ];
        const BODIES: &[&str] = &[
            "",
            "m 1\n",
            "# TYPE m counter\nm 2\n",
            "# HELP m x\nm 3\n",
            "m{a=\"1\"} 1\nm{a=\"1\"} 2\n",
            "m{",
            "# TYPE h histogram\nh_bucket{le=\"+Inf\"} 1\nh_count 1\nh_sum 0\n",
            "# TYPE m gauge\nm NaN\n",
            "# TYPE hh histogram\nhh_bucket{le=\"1\"} 1\n",
            "# TYPE neg counter\nneg -1\n",
            "m 1 12\n",
            "\u{0}\u{1}garbage",
            "# EOF\n",
            "x 1\n# EOF\n",
        ];
        const TYPES: &[Option<&str>] = &[
            None,
            Some("text/plain; version=0.0.4"),
            Some("application/openmetrics-text; version=1.0.0"),
            Some("application/vnd.google.protobuf"),
            Some("nonsense"),
        ];
        let mut pg = Pushgateway::new(Store::new(), true);
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = |n: usize| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x % n as u64) as usize
        };
        for i in 0..3_000 {
            let method = METHODS[next(METHODS.len())];
            let path = PATHS[next(PATHS.len())];
            let body = BODIES[next(BODIES.len())];
            let ct = TYPES[next(TYPES.len())];
            let r = pg.handle(method, path, ct, None, body.as_bytes(), i);
            assert!(
                [200, 202, 400, 404, 405, 415].contains(&r.status),
                "{method} {path} {body:?} -> {}",
                r.status
            );
            if i % 100 == 0 {
                let out = body_text(&pg.handle("GET", "/metrics", None, None, b"", i));
                exposition::text::parse_families(out.as_bytes())
                    .unwrap_or_else(|e| panic!("{e}\n{out}"));
                let om = pg.handle("GET", "/metrics", None, Some(Format::ACCEPT), b"", i);
                exposition::openmetrics::parse_families(&om.body)
                    .unwrap_or_else(|e| panic!("{e}\n{}", String::from_utf8_lossy(&om.body)));
            }
        }
    }

    #[test]
    fn created_gauges_left_out_of_openmetrics() {
        let mut pg = Pushgateway::default();
        let push = "# TYPE c_total counter\nc_total 1\n# TYPE c_created gauge\nc_created 5\n# TYPE s summary\ns_count 1\ns_sum 2\n# TYPE s_created gauge\ns_created 5\n";
        assert_eq!(
            pg.handle("PUT", "/metrics/job/a", None, None, push.as_bytes(), 1)
                .status,
            200
        );
        let text = body_text(&pg.handle("GET", "/metrics", None, None, b"", 2));
        assert!(text.contains("c_created{job=\"a\"} 5"), "{text}");
        let om = pg.handle("GET", "/metrics", None, Some(Format::ACCEPT), b"", 2);
        let fams = exposition::openmetrics::parse_families(&om.body).unwrap();
        let names: Vec<&str> = fams.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(
            names,
            ["c", "push_failure_time_seconds", "push_time_seconds", "s"]
        );
    }

    fn body_text(r: &Reply) -> String {
        String::from_utf8(r.body.clone()).unwrap()
    }
}
