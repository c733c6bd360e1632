//! Starts the `pushgateway` binary on 127.0.0.1:0 and drives it over HTTP: PUT vs POST,
//! DELETE, conflicts, OpenMetrics, the JSON API, persistence across restarts (on SIGTERM
//! and on the interval), a corrupt persistence file, and real clients (`curl`, Python's
//! `prometheus_client`) when they are installed.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use common::{ours, Proc as Gateway};

/// The `pushgateway` binary as a [`Gateway`] (a [`common::Proc`]) and its HTTP calls.
impl Gateway {
    fn start(extra: &[&str]) -> Gateway {
        ours(env!("CARGO_BIN_EXE_pushgateway"), extra)
    }

    /// Sends SIGTERM and waits for a clean exit.
    fn terminate(mut self) {
        // The shell's builtin `kill`, so no procps package is needed.
        let st = Command::new("sh")
            .args(["-c", &format!("kill -TERM {}", self.child.id())])
            .status()
            .unwrap();
        assert!(st.success());
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(st) = self.child.try_wait().unwrap() {
                assert!(st.success(), "exit status {st}");
                return;
            }
            assert!(
                Instant::now() < deadline,
                "pushgateway did not stop on SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn send(&self, method: &str, path: &str, ct: Option<&str>, body: &str) -> (u16, String) {
        let mut req = ureq::request(method, &format!("{}{}", self.base, path));
        if let Some(ct) = ct {
            req = req.set("Content-Type", ct);
        }
        let res = if body.is_empty() && method == "DELETE" {
            req.call()
        } else {
            req.send_string(body)
        };
        match res {
            Ok(r) => (r.status(), r.into_string().unwrap()),
            Err(ureq::Error::Status(code, r)) => (code, r.into_string().unwrap()),
            Err(e) => panic!("{method} {path}: {e}"),
        }
    }

    fn metrics(&self) -> String {
        let (code, body) = self.send("GET", "/metrics", None, "");
        assert_eq!(code, 200);
        body
    }
}

/// Lines of an exposition that are samples of `name` (any labels).
fn samples<'a>(exposition: &'a str, name: &str) -> Vec<&'a str> {
    exposition
        .lines()
        .filter(|l| l.starts_with(&format!("{name}{{")) || l.starts_with(&format!("{name} ")))
        .collect()
}

#[test]
fn put_post_delete_and_conflicts() {
    let g = Gateway::start(&["--web.enable-admin-api"]);
    assert_eq!(g.metrics(), "");

    let body = "# HELP jobs_done Jobs done.\n# TYPE jobs_done gauge\njobs_done{kind=\"x\"} 3\nlast_run 17\n";
    assert_eq!(
        g.send("PUT", "/metrics/job/batch/instance/h1", None, body)
            .0,
        200
    );
    let m = g.metrics();
    assert_eq!(
        samples(&m, "jobs_done"),
        [r#"jobs_done{instance="h1",job="batch",kind="x"} 3"#]
    );
    assert_eq!(samples(&m, "push_time_seconds").len(), 1, "{m}");
    assert_eq!(
        samples(&m, "push_failure_time_seconds"),
        [r#"push_failure_time_seconds{instance="h1",job="batch"} 0"#]
    );

    // POST replaces only the pushed families.
    assert_eq!(
        g.send(
            "POST",
            "/metrics/job/batch/instance/h1",
            None,
            "jobs_done{kind=\"y\"} 5\n"
        )
        .0,
        200
    );
    let m = g.metrics();
    assert_eq!(
        samples(&m, "jobs_done"),
        [r#"jobs_done{instance="h1",job="batch",kind="y"} 5"#]
    );
    assert_eq!(samples(&m, "last_run").len(), 1, "{m}");

    // PUT replaces the whole group.
    assert_eq!(
        g.send("PUT", "/metrics/job/batch/instance/h1", None, "other 1\n")
            .0,
        200
    );
    let m = g.metrics();
    assert!(samples(&m, "jobs_done").is_empty(), "{m}");
    assert!(samples(&m, "last_run").is_empty(), "{m}");
    assert_eq!(
        samples(&m, "other"),
        [r#"other{instance="h1",job="batch"} 1"#]
    );

    // Grouping labels override pushed ones; base64 values may hold slashes.
    assert_eq!(
        g.send(
            "PUT",
            "/metrics/job@base64/YS9i/path@base64/L3Zhcg",
            None,
            "other{job=\"zzz\",path=\"p\"} 2\n"
        )
        .0,
        200
    );
    assert!(samples(&g.metrics(), "other").contains(&r#"other{job="a/b",path="/var"} 2"#));

    // Conflicts: another type, another help, a duplicate series -> 400, nothing stored.
    let before = samples(&g.metrics(), "other").join("\n");
    let (code, msg) = g.send(
        "PUT",
        "/metrics/job/c",
        None,
        "# TYPE other counter\nother 1\nfresh 1\n",
    );
    assert_eq!(code, 400);
    assert!(msg.contains("other") && msg.contains("counter"), "{msg}");
    let (code, msg) = g.send(
        "PUT",
        "/metrics/job/c",
        None,
        "# HELP other Different.\nother 1\n",
    );
    assert_eq!(code, 400, "{msg}");
    let (code, msg) = g.send(
        "PUT",
        "/metrics/job/c",
        None,
        "fresh{a=\"1\"} 1\nfresh{a=\"1\"} 2\n",
    );
    assert_eq!(code, 400);
    assert!(msg.contains("duplicate"), "{msg}");
    let (code, msg) = g.send("PUT", "/metrics/job/c", None, "fresh 1\nbroken{ 2\n");
    assert_eq!(code, 400);
    assert!(msg.contains("2:"), "position in {msg}");
    let m = g.metrics();
    assert!(samples(&m, "fresh").is_empty(), "{m}");
    assert_eq!(samples(&m, "other").join("\n"), before);
    // The failed group shows its failure time, not a push time.
    assert_eq!(
        samples(&m, "push_time_seconds")
            .iter()
            .filter(|l| l.contains("job=\"c\""))
            .count(),
        1
    );
    assert!(
        samples(&m, "push_time_seconds").contains(&r#"push_time_seconds{job="c"} 0"#),
        "{m}"
    );
    let (_, json) = g.send("GET", "/api/v1/metrics", None, "");
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let c = v["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["labels"]["job"] == "c")
        .unwrap();
    assert_eq!(c["last_push_successful"], false);

    // Bad grouping keys.
    assert_eq!(g.send("PUT", "/metrics/job/a/lonely", None, "").0, 400);
    assert_eq!(g.send("PUT", "/metrics/job@base64/%21%21", None, "").0, 400);

    // DELETE removes one group.
    assert_eq!(
        g.send("DELETE", "/metrics/job/batch/instance/h1", None, "")
            .0,
        202
    );
    let m = g.metrics();
    assert!(!m.contains("job=\"batch\""), "{m}");
    assert!(m.contains("job=\"a/b\""), "{m}");

    // Wipe removes everything.
    assert_eq!(g.send("PUT", "/api/v1/admin/wipe", None, "").0, 202);
    assert_eq!(g.metrics(), "");
}

#[test]
fn openmetrics_in_and_out() {
    let g = Gateway::start(&[]);
    let om = "# TYPE req counter\n# HELP req Requests.\nreq_total{code=\"200\"} 7\nreq_created{code=\"200\"} 1.5e9\n# EOF\n";
    let (code, msg) = g.send(
        "PUT",
        "/metrics/job/om",
        Some("application/openmetrics-text; version=1.0.0; charset=utf-8"),
        om,
    );
    assert_eq!(code, 200, "{msg}");
    // A text push of the same counter family agrees with it.
    let text = "# HELP req_total Requests.\n# TYPE req_total counter\nreq_total{code=\"500\"} 1\n";
    assert_eq!(
        g.send(
            "PUT",
            "/metrics/job/text",
            Some("text/plain; version=0.0.4"),
            text
        )
        .0,
        200
    );
    let m = g.metrics();
    assert!(m.contains("# TYPE req_total counter\n"), "{m}");
    assert_eq!(samples(&m, "req_total").len(), 2, "{m}");
    // OpenMetrics without # EOF is refused.
    assert_eq!(
        g.send(
            "PUT",
            "/metrics/job/om2",
            Some("application/openmetrics-text"),
            "x 1\n"
        )
        .0,
        400
    );

    let r = ureq::get(&format!("{}/metrics", g.base))
        .set(
            "Accept",
            "application/openmetrics-text;version=1.0.0;q=0.9,text/plain;q=0.5",
        )
        .call()
        .unwrap();
    assert!(r.content_type().starts_with("application/openmetrics-text"));
    let out = r.into_string().unwrap();
    assert!(out.contains("# TYPE req counter\n"), "{out}");
    assert!(out.ends_with("# EOF\n"), "{out}");
    exposition::openmetrics::parse_families(out.as_bytes()).unwrap();
}

#[test]
fn persistence_across_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("pushgateway.json");
    let file_s = file.to_str().unwrap();

    // Written at shutdown (SIGTERM), even with a long interval.
    let g = Gateway::start(&["--persistence.file", file_s, "--persistence.interval", "1h"]);
    assert_eq!(
        g.send(
            "PUT",
            "/metrics/job/keep/instance/i",
            None,
            "# TYPE kept gauge\nkept 42\n"
        )
        .0,
        200
    );
    let before = g.metrics();
    g.terminate();
    assert!(file.exists());
    let g = Gateway::start(&["--persistence.file", file_s]);
    assert_eq!(g.metrics(), before);

    // Written on the interval: a SIGKILL after the interval loses nothing.
    let g2 = {
        drop(g);
        Gateway::start(&[
            "--persistence.file",
            file_s,
            "--persistence.interval",
            "100ms",
        ])
    };
    assert_eq!(
        g2.send("POST", "/metrics/job/keep/instance/i", None, "more 1\n")
            .0,
        200
    );
    let expected = g2.metrics();
    wait_for(&file, |text| text.contains("more"));
    drop(g2); // SIGKILL
    let g3 = Gateway::start(&["--persistence.file", file_s]);
    assert_eq!(g3.metrics(), expected);
}

fn wait_for(file: &Path, pred: impl Fn(&str) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if pred(&std::fs::read_to_string(file).unwrap_or_default()) {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("{} never reached the expected content", file.display());
}

#[test]
fn corrupt_persistence_file_is_a_startup_error() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("pg.json");
    std::fs::write(
        &file,
        "{\"format\":\"pushgateway-rs/1\",\"groups\":[{\"labels\"",
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_pushgateway"))
        .args(["--web.listen-address", "127.0.0.1:0", "--persistence.file"])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("corrupt persistence file at line 1"), "{err}");
    // The file is left as it was for the operator to look at.
    assert!(std::fs::read_to_string(&file)
        .unwrap()
        .ends_with("\"labels\""));
}

#[test]
fn curl_client() {
    if Command::new("curl").arg("--version").output().is_err() {
        println!("pushgateway curl: skipped (curl not installed)");
        return;
    }
    let g = Gateway::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    let body = dir.path().join("body.txt");
    std::fs::write(
        &body,
        "# TYPE some_metric counter\nsome_metric{label=\"val1\"} 42\n",
    )
    .unwrap();
    let curl = |args: &[&str]| {
        let out = Command::new("curl")
            .args(["-s", "-o", "/dev/null", "-w", "%{http_code}"])
            .args(args)
            .output()
            .unwrap();
        String::from_utf8(out.stdout).unwrap()
    };
    let url = format!("{}/metrics/job/some_job/instance/some_instance", g.base);
    let at_body = format!("@{}", body.display());
    assert_eq!(curl(&["--data-binary", &at_body, &url]), "200");
    let m = g.metrics();
    assert_eq!(
        samples(&m, "some_metric"),
        [r#"some_metric{instance="some_instance",job="some_job",label="val1"} 42"#]
    );
    assert_eq!(curl(&["-X", "DELETE", &url]), "202");
    assert!(samples(&g.metrics(), "some_metric").is_empty());
}

#[test]
fn python_prometheus_client() {
    let have = Command::new("python3")
        .args(["-c", "import prometheus_client"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !have {
        println!("pushgateway python: skipped (python3 -c 'import prometheus_client' fails)");
        return;
    }
    let g = Gateway::start(&[]);
    let addr = g.base.trim_start_matches("http://").to_string();
    let script = r#"
import sys
from prometheus_client import CollectorRegistry, Gauge, Counter, Histogram, Summary, Info, push_to_gateway, pushadd_to_gateway, delete_from_gateway
gw, step = sys.argv[1], sys.argv[2]
reg = CollectorRegistry()
if step == "push":
    Gauge('job_last_success_unixtime', 'Last time the batch job succeeded.', registry=reg).set(1234.5)
    Counter('records', 'Records processed.', ['kind'], registry=reg).labels('a').inc(3)
    Histogram('run_seconds', 'Run time.', registry=reg).observe(0.3)
    Summary('batch_size', 'Batch size.', registry=reg).observe(3)
    Info('build', 'Build.', registry=reg).info({'version': '1'})
    push_to_gateway(gw, job='py/batch', registry=reg, grouping_key={'instance': 'h/1'})
elif step == "pushadd":
    Gauge('extra', 'Added later.', registry=reg).set(7)
    pushadd_to_gateway(gw, job='py/batch', registry=reg, grouping_key={'instance': 'h/1'})
elif step == "conflict":
    Gauge('job_last_success_unixtime', 'Other help.', registry=reg).set(1)
    try:
        push_to_gateway(gw, job='py_other', registry=reg)
    except Exception as e:
        print("refused:", e)
        sys.exit(0)
    sys.exit(3)
else:
    delete_from_gateway(gw, job='py/batch', grouping_key={'instance': 'h/1'})
"#;
    let run = |step: &str| {
        let out = Command::new("python3")
            .args(["-c", script, &addr, step])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{step}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).to_string()
    };
    run("push");
    let m = g.metrics();
    assert_eq!(
        samples(&m, "job_last_success_unixtime"),
        [r#"job_last_success_unixtime{instance="h/1",job="py/batch"} 1234.5"#]
    );
    assert_eq!(
        samples(&m, "records_total"),
        [r#"records_total{instance="h/1",job="py/batch",kind="a"} 3"#]
    );
    assert!(
        m.contains(r#"run_seconds_bucket{instance="h/1",job="py/batch",le="+Inf"} 1"#),
        "{m}"
    );
    assert!(
        m.contains(r#"build_info{instance="h/1",job="py/batch",version="1"} 1"#),
        "{m}"
    );
    // Both exposition formats of what a real client pushed parse strictly.
    exposition::text::parse_families(m.as_bytes()).unwrap();
    let om = ureq::get(&format!("{}/metrics", g.base))
        .set("Accept", exposition::Format::ACCEPT)
        .call()
        .unwrap()
        .into_string()
        .unwrap();
    let fams = exposition::openmetrics::parse_families(om.as_bytes())
        .unwrap_or_else(|e| panic!("{e}\n{om}"));
    assert!(fams
        .iter()
        .any(|f| f.name == "records" && f.ty == exposition::MetricType::Counter));
    run("pushadd");
    let m = g.metrics();
    assert_eq!(samples(&m, "extra").len(), 1, "{m}");
    assert_eq!(samples(&m, "records_total").len(), 1, "{m}");
    let refused = run("conflict");
    assert!(refused.contains("400"), "{refused}");
    run("delete");
    let m = g.metrics();
    assert!(!m.contains("py/batch"), "{m}");
}

#[test]
fn slow_client_does_not_block_others() {
    use std::io::Write as _;
    let g = Gateway::start(&[]);
    let addr = g.base.trim_start_matches("http://").to_string();
    let mut slow = std::net::TcpStream::connect(&addr).unwrap();
    // Headers promise 100 bytes; only a few arrive.
    slow.write_all(b"PUT /metrics/job/slow HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nm 1")
        .unwrap();
    std::thread::sleep(Duration::from_millis(200));
    let t = Instant::now();
    assert_eq!(g.send("PUT", "/metrics/job/fast", None, "f 1\n").0, 200);
    assert!(samples(&g.metrics(), "f").len() == 1);
    assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());
    drop(slow);
}
