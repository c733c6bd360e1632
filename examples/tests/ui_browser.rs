//! The query page, end to end.
//!
//! `static_files_have_their_content_types` needs no browser: it starts `server` and fetches
//! the page and every static file over HTTP.
//!
//! `query_page_in_headless_chromium` drives Debian's chromium through chromedriver with raw
//! WebDriver HTTP calls (no async runtime): it types queries into the page served by
//! `server` over a tsdb this test fills, checks the table, the graph (canvas, legend, hover
//! values, custom end time and step) and the error marker, then opens the alerts and rules
//! views of a `stack` that evaluates a small rule file. It saves a screenshot of the graph
//! to `target/ui-screenshot.png`.
//!
//! `query_page_against_real_prometheus` serves the same files from a small front end that
//! passes every other request to Debian's `prometheus`, and checks that the page reads
//! Prometheus's own answers (table, graph, parse-error position, alerts, rules).
//!
//! Without chromium and chromedriver the browser tests print
//! `ui_browser: skipped (chromium not installed)` and pass; without `prometheus` the second
//! prints a note and passes. `CHROMEDRIVER`, `CHROMIUM` and `PROMETHEUS` name the binaries
//! when they are not on `PATH`.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use exposition::Labels;
use serde_json::{json, Value};

mod common;
#[path = "browser/webdriver.rs"]
mod webdriver;
use common::spawn_on_port;
use webdriver::{
    browser, find_program, free_port, Chromedriver, Proc, Session, ENTER, RELEASE, SHIFT,
};

// ---------------------------------------------------------------------------------------------
// Programs under test.

/// The wall clock in ms: the data has to be recent for the page's default "now".
fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

const JOBS: [(&str, &str); 3] = [("api", "a:1"), ("api", "b:2"), ("web", "c:3")];

/// `server` over a tsdb holding `demo_requests_total` for three targets, one sample every
/// 15 s over the two hours up to `now`, each growing at its own rate (1, 2, 3 per second).
fn start_server(now: i64) -> (Proc, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    {
        let mut db = tsdb::Db::open_path(dir.path(), tsdb::DbOptions::default()).unwrap();
        let mut app = db.appender();
        for (i, (job, inst)) in JOBS.iter().enumerate() {
            let l = Labels::from_pairs(&[
                ("__name__", "demo_requests_total"),
                ("job", job),
                ("instance", inst),
            ]);
            let first = now - 2 * 3_600_000;
            for k in 0..=480i64 {
                let t = first + k * 15_000;
                app.append(&l, t, (k * 15 * (i as i64 + 1)) as f64).unwrap();
            }
        }
        app.commit().unwrap();
    }
    let mut child = Command::new(env!("CARGO_BIN_EXE_server"))
        .arg("--storage.path")
        .arg(dir.path())
        .args(["--web.listen-address", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let line = first_line(&mut child);
    let base = address_after(&line, "http://");
    (
        Proc {
            child,
            base,
            dir: None,
        },
        dir,
    )
}

/// `stack` scraping `target` (`host:port`) and evaluating a rule file: one recording rule
/// and one alert that fires at the first evaluation.
fn start_stack(dir: &Path, target: &str) -> Proc {
    std::fs::write(
        dir.join("prometheus.yml"),
        format!("global:\n  scrape_interval: 200ms\n  evaluation_interval: 200ms\nrule_files: [rules.yml]\nscrape_configs:\n  - job_name: server\n    static_configs:\n      - targets: ['{target}']\n"),
    )
    .unwrap();
    std::fs::write(
        dir.join("rules.yml"),
        "groups:\n  - name: ui\n    rules:\n      - record: ui:one\n        expr: vector(1)\n      - alert: UiAlwaysFiring\n        expr: vector(1) > 0\n        labels: {severity: page}\n        annotations: {summary: shown on the alerts view}\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("alertmanager.yml"),
        "route:\n  receiver: none\nreceivers:\n  - name: none\n",
    )
    .unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_stack"))
        .arg("--config.file")
        .arg(dir.join("prometheus.yml"))
        .arg("--alertmanager.config")
        .arg(dir.join("alertmanager.yml"))
        .arg("--storage.path")
        .arg(dir.join("data"))
        .args(["--web.listen-address", "127.0.0.1:0", "--duration", "5m"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let line = first_line(&mut child);
    let base = address_after(&line, "API on ");
    // Keep reading its progress lines so it never blocks on a full pipe.
    let mut rest = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        let mut sink = Vec::new();
        let _ = rest.read_to_end(&mut sink);
    });
    Proc {
        child,
        base,
        dir: None,
    }
}

fn first_line(child: &mut Child) -> String {
    let stdout = child.stdout.take().unwrap();
    let mut reader = BufReader::new(stdout);
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    child.stdout = Some(reader.into_inner());
    line
}

fn address_after(line: &str, marker: &str) -> String {
    let rest = line
        .split(marker)
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .unwrap_or_else(|| panic!("no address after {marker:?} in {line:?}"));
    if rest.starts_with("http") {
        rest.to_string()
    } else {
        format!("http://{rest}")
    }
}

/// GET: status, content type, body.
fn get(url: &str) -> (u16, String, String) {
    let resp = match ureq::get(url).call() {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("{url}: {e}"),
    };
    let ct = resp.header("Content-Type").unwrap_or("").to_string();
    (resp.status(), ct, resp.into_string().unwrap())
}

// ---------------------------------------------------------------------------------------------
// The non-browser test.

#[test]
fn static_files_have_their_content_types() {
    let (srv, _dir) = start_server(now_ms());
    for path in ["/", "/graph", "/alerts", "/rules", "/targets"] {
        let (st, ct, body) = get(&format!("{}{path}", srv.base));
        assert_eq!(st, 200, "{path}");
        assert_eq!(ct, "text/html; charset=utf-8", "{path}");
        assert!(body.starts_with("<!doctype html>"), "{path}: {body:.60}");
        assert!(body.contains("id=\"expr\""), "{path}");
    }
    let (_, _, html) = get(&format!("{}/", srv.base));
    for (file, ct, needle) in [
        (
            "static/app.js",
            "text/javascript; charset=utf-8",
            "api/v1/query_range",
        ),
        ("static/app.css", "text/css; charset=utf-8", ".legend-item"),
        (
            "static/vendor/uPlot.iife.min.js",
            "text/javascript; charset=utf-8",
            "var uPlot=",
        ),
        (
            "static/vendor/uPlot.min.css",
            "text/css; charset=utf-8",
            ".uplot",
        ),
    ] {
        assert!(html.contains(&format!("\"{file}\"")), "page links {file}");
        let (st, got, body) = get(&format!("{}/{file}", srv.base));
        assert_eq!((st, got.as_str()), (200, ct), "{file}");
        assert!(body.contains(needle), "{file} lacks {needle:?}");
    }
    let (st, ct, body) = get(&format!("{}/static/vendor/uPlot.LICENSE", srv.base));
    assert_eq!((st, ct.as_str()), (200, "text/plain; charset=utf-8"));
    assert!(body.contains("MIT License"));
    // Unknown static files are 404s, and the API still answers beside the page.
    let (st, _, _) = get(&format!("{}/static/missing.js", srv.base));
    assert_eq!(st, 404);
    let (st, ct, _) = get(&format!("{}/api/v1/query?query=1", srv.base));
    assert_eq!((st, ct.as_str()), (200, "application/json"));
    // The parse error the page marks: bad_data with line:column.
    let (st, _, body) = get(&format!("{}/api/v1/query?query=sum(up", srv.base));
    assert_eq!(st, 400);
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["errorType"], "bad_data");
    assert!(
        v["error"].as_str().unwrap().contains("1:7: parse error"),
        "{v}"
    );
}

// ---------------------------------------------------------------------------------------------
// A minimal WebDriver client: a handful of endpoints over ureq and serde_json.

/// What the query page adds to a session.
trait PageExt {
    /// Replaces the query, runs it with Enter, and waits for the page to settle.
    fn run_query(&self, q: &str);
}

impl PageExt for Session {
    fn run_query(&self, q: &str) {
        self.clear("#expr");
        self.type_text("#expr", &format!("{q}{ENTER}"));
        self.wait_for(
            "the query to finish",
            "return document.body.classList.contains('loading') ? null : 1;",
            |v| !v.is_null(),
        );
    }
}

/// `target/`, found from the binary cargo built for this test.
fn target_dir() -> PathBuf {
    let bin = Path::new(env!("CARGO_BIN_EXE_server"));
    bin.parent()
        .and_then(Path::parent)
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("target"))
}

// ---------------------------------------------------------------------------------------------
// The browser test.

#[test]
fn query_page_in_headless_chromium() {
    let Some((driver, chromium)) = browser() else {
        println!("ui_browser: skipped (chromium not installed)");
        return;
    };
    let now = now_ms();
    let (srv, _dir) = start_server(now);
    let cd = Chromedriver::start(&driver);
    let s = cd.session(&chromium);

    s.goto(&format!("{}/graph", srv.base));
    assert_eq!(s.js("return document.title;"), "Query — prometheus-core-rs");
    assert_eq!(
        s.js("return typeof uPlot;"),
        "function",
        "vendored uPlot loaded"
    );

    // --- The metric picker lists the names the API knows and inserts one at the cursor.
    s.click("#metric-names");
    s.wait_for(
        "metric names",
        "return document.querySelectorAll('#metric-names option').length;",
        |v| v == 2,
    );
    s.type_text("#expr", "count()");
    s.js("var e = document.getElementById('expr'); e.setSelectionRange(6, 6); return 1;");
    s.click("#metric-names option[value=demo_requests_total]");
    assert_eq!(
        s.js("return document.getElementById('expr').value;"),
        "count(demo_requests_total)"
    );
    s.type_text("#expr", ENTER);
    s.wait_for(
        "the count",
        "return document.getElementById('result-count').textContent;",
        |v| v == "1 result",
    );
    assert_eq!(s.cells("#result-table tbody tr.result-row"), ["{}", "3"]);

    // --- Table: an instant query typed and run with Enter.
    s.run_query("demo_requests_total");
    let rows =
        s.js("return document.querySelectorAll('#result-table tbody tr.result-row').length;");
    assert_eq!(rows, 3, "one row per series");
    assert_eq!(s.text("#result-count"), "3 results");
    let first =
        s.js("return document.querySelector('#result-table tbody tr.result-row td').textContent;");
    assert_eq!(
        first, "demo_requests_total{instance=\"a:1\", job=\"api\"}",
        "labels in PromQL form"
    );
    let value = s.js("return document.querySelector('#result-table tbody tr.result-row td:last-child').textContent;");
    assert_eq!(value, "7200", "the latest sample, 480 * 15");
    assert!(s.text("#stats").starts_with("Load time: "));
    // Aggregation, a scalar and a string.
    s.run_query("sum by (job) (demo_requests_total)");
    assert_eq!(s.text("#result-count"), "2 results");
    s.screenshot(&target_dir().join("ui-screenshot-table.png"));
    s.run_query("1 + 2");
    assert_eq!(s.text("#result-count"), "1 result");
    assert_eq!(
        s.cells("#result-table tbody tr.result-row"),
        ["scalar", "3"]
    );
    s.run_query("\"hello\"");
    assert_eq!(
        s.cells("#result-table tbody tr.result-row"),
        ["string", "hello"]
    );
    // A range vector in the table: every sample of the window.
    s.run_query("demo_requests_total{instance=\"c:3\"}[1m]");
    let samples = s.js(
        "return document.querySelector('#result-table .sample-list').textContent.split('\\n').length;",
    );
    assert_eq!(samples, 4, "4 samples 15 s apart in a left-open 1m window");
    // An empty result says so.
    s.run_query("nothing_here");
    assert_eq!(s.text("#result-count"), "0 results");

    // --- A parse error: the API's message with its position, and a mark on the input.
    let bad = "rate(demo_requests_total[5m]) +* 2";
    s.run_query(bad);
    let col = bad.find('*').unwrap() + 1;
    let err = s.text("#error");
    assert!(err.starts_with("bad_data: "), "{err}");
    assert!(
        err.contains(&format!("1:{col}: parse error")),
        "the position in the message: {err}"
    );
    assert_eq!(
        s.js("return document.querySelector('#expr-backdrop mark.error-mark').textContent;"),
        "*",
        "the mark sits on the offending token"
    );
    assert_eq!(
        s.js("return document.getElementById('expr').classList.contains('has-error');"),
        true
    );
    // Error at end of input: the mark is a blank cell after the last character.
    s.run_query("sum(demo_requests_total");
    assert!(s.text("#error").contains("1:24: parse error"));
    assert_eq!(
        s.js("return document.querySelector('#expr-backdrop mark.error-mark').textContent;"),
        " "
    );
    // Editing clears the mark.
    s.type_text("#expr", ")");
    assert_eq!(
        s.js("return document.querySelectorAll('#expr-backdrop mark').length;"),
        0
    );
    // The API counts columns in bytes: a multi-byte character before the error.
    let wide = "demo_requests_total{job=\"é→\"} +* 1";
    s.run_query(wide);
    let col = wide.find('*').unwrap() + 1;
    assert!(s.text("#error").contains(&format!("1:{col}: parse error")));
    assert_eq!(
        s.js("return document.querySelector('#expr-backdrop mark.error-mark').textContent;"),
        "*"
    );
    // Shift+Enter starts a new line instead of running; an error on line 2 is marked there.
    s.clear("#expr");
    s.type_text(
        "#expr",
        &format!("sum by (job) ({SHIFT}{ENTER}{RELEASE}  rate(demo_requests_total[5m]) +* 2)"),
    );
    assert_eq!(
        s.js("return document.getElementById('expr').value;"),
        "sum by (job) (\n  rate(demo_requests_total[5m]) +* 2)"
    );
    assert_eq!(
        s.js("return new URLSearchParams(window.location.search).get('g0.expr');"),
        wide,
        "Shift+Enter did not run the query"
    );
    s.type_text("#expr", ENTER);
    s.wait_for(
        "the error on line 2",
        "return document.getElementById('error').textContent;",
        |v| v.as_str().is_some_and(|t| t.contains("2:")),
    );
    assert!(
        s.text("#error").contains("2:34: parse error"),
        "{}",
        s.text("#error")
    );
    assert_eq!(
        s.js("var m = document.querySelector('#expr-backdrop mark.error-mark'); return [m.textContent, m.title];"),
        json!(["*", "line 2, column 34"])
    );
    // The page's own helpers: durations, times, auto step.
    assert_eq!(
        s.js("var u = window.promUI; return [u.parseDuration('1h30m'), u.parseDuration('90'), u.parseDuration('250ms'), u.parseDuration('1x'), u.parseDuration('m5'), u.formatDuration(5400), u.formatDuration(0.25), u.parseTime('1970-01-01T00:01:00Z'), u.parseTime('1970-01-01 00:02:00'), u.parseTime('120.5'), u.parseTime(''), u.parseTime('soon'), u.autoStep(86400), u.autoStep(60)];"),
        json!([5400, 90, 0.25, null, null, "1h30m", "250ms", 60, 120, 120.5, null, null, 345, 1])
    );

    // --- Graph: a range query over the default hour, one line per series.
    s.run_query("rate(demo_requests_total[1m])");
    assert!(s.text("#error").is_empty(), "the fixed query runs");
    s.click("#tab-graph");
    s.wait_for(
        "the chart",
        "return document.querySelectorAll('#chart canvas').length;",
        |v| v.as_u64() == Some(1),
    );
    s.wait_for(
        "the legend",
        "return document.querySelectorAll('#legend .legend-item').length;",
        |v| v == 3,
    );
    assert_eq!(
        s.text("#legend .legend-item .legend-label"),
        "{instance=\"a:1\", job=\"api\"}"
    );
    assert_eq!(
        s.text("#step-used"),
        "resolution 14s (auto)",
        "3600 / 250, floored"
    );
    let (st, end) = (
        s.js("return window.promUI.plot().data[0][0];"),
        s.js("return window.promUI.plot().data[0].slice(-1)[0];"),
    );
    let (st, end) = (st.as_f64().unwrap(), end.as_f64().unwrap());
    assert!(end - st <= 3600.0 && end - st > 3500.0, "{st}..{end}");
    // Hovering the plot shows the values under the cursor in the legend.
    s.hover("#chart .u-over", 0, 0);
    let hovered = s.wait_for(
        "hover values",
        "return Array.from(document.querySelectorAll('#legend .legend-value')).map(e => e.textContent);",
        |v| v.as_array().is_some_and(|a| a.iter().all(|x| x != "")),
    );
    assert_eq!(
        hovered,
        json!(["1", "2", "3"]),
        "rates of 1, 2 and 3 per second"
    );
    assert!(s.text("#hover").ends_with('Z'), "the hovered time, UTC");
    s.screenshot(&target_dir().join("ui-screenshot.png"));
    // Clicking a legend entry hides its line.
    s.click("#legend .legend-item:nth-child(2)");
    assert_eq!(s.js("return window.promUI.plot().series[2].show;"), false);

    // Custom end time, range and step.
    let end_s = now / 1000 - 3600;
    s.type_text("#end-time", &end_s.to_string());
    s.js("var r = document.getElementById('range'); r.value = '900'; return 1;");
    s.type_text("#step", &format!("1m{ENTER}"));
    s.wait_for(
        "the 15m graph at a 1m step",
        "return window.promUI.plot() ? window.promUI.plot().data[0].length : 0;",
        |v| v == 16,
    );
    let last = s.js("return window.promUI.plot().data[0].slice(-1)[0];");
    assert_eq!(last, end_s, "the range ends at the chosen end time");
    assert_eq!(s.text("#step-used"), "resolution 1m");
    let url = s.js("return window.location.search;");
    let url = url.as_str().unwrap();
    assert!(
        url.contains("g0.tab=0") && url.contains("g0.range_input=15m"),
        "{url}"
    );
    // The URL restores the query, tab and range on reload.
    s.js("window.location.reload(); return 1;");
    s.wait_for(
        "the graph after reload",
        "return window.promUI && window.promUI.plot() ? window.promUI.plot().data[0].length : 0;",
        |v| v == 16,
    );
    assert_eq!(
        s.js("return document.getElementById('expr').value;"),
        "rate(demo_requests_total[1m])"
    );
    // ‹ moves the end back by half the range; + picks the next longer range.
    s.click("#end-back");
    let back = end_s - 450;
    s.wait_for(
        "the graph half a range earlier",
        "return window.promUI.plot() ? window.promUI.plot().data[0].slice(-1)[0] : null;",
        |v| *v == back,
    );
    assert_eq!(
        s.js("return window.promUI.parseTime(document.getElementById('end-time').value);"),
        back
    );
    s.click("#range-plus");
    s.wait_for(
        "the 30m graph",
        "return window.promUI.plot() ? window.promUI.plot().data[0].length : 0;",
        |v| v == 31,
    );
    assert_eq!(
        s.js("return document.getElementById('range').value;"),
        "1800"
    );
    // Dragging across the plot zooms to the selected window: a custom range and end.
    s.drag("#chart .u-over", -200, 200);
    let zoomed = s.wait_for(
        "the zoomed graph",
        "var r = document.getElementById('range'); return r.value !== '1800' ? [parseFloat(r.value), r.options[r.selectedIndex].textContent, window.promUI.parseTime(document.getElementById('end-time').value)] : null;",
        |v| !v.is_null(),
    );
    let (range, end) = (zoomed[0].as_f64().unwrap(), zoomed[2].as_f64().unwrap());
    assert!(
        (400.0..900.0).contains(&range),
        "400 px of a ~1200 px wide 30m plot: {zoomed}"
    );
    assert!(
        end > (back - 1800) as f64 && end < back as f64,
        "{zoomed} within the old window"
    );
    assert_eq!(
        zoomed[1],
        s.js(&format!("return window.promUI.formatDuration({range});"))
    );
    s.wait_for(
        "the graph of the zoomed window",
        "var p = window.promUI.plot(); return p ? p.data[0][0] : null;",
        |v| v.as_f64() == Some(end - range),
    );

    // --- A string result cannot be graphed: the error says so.
    s.run_query("\"x\"");
    assert!(!s.text("#error").is_empty());

    // --- Alerts and rules views against `stack`, which evaluates a rule file.
    let stack_dir = tempfile::tempdir().unwrap();
    let stack = start_stack(stack_dir.path(), srv.base.trim_start_matches("http://"));
    s.goto(&format!("{}/", stack.base));
    s.click("#nav-alerts");
    s.wait_for(
        "a firing alert",
        "window.promUI.showView(); return document.querySelectorAll('#alerts-table tr.alert-row').length;",
        |v| v == 1,
    );
    let alert = s.cells("#alerts-table tr.alert-row");
    assert_eq!(
        alert[..4],
        [
            "firing",
            "UiAlwaysFiring",
            "alertname=\"UiAlwaysFiring\", severity=\"page\"",
            "summary=\"shown on the alerts view\""
        ],
        "{alert:?}"
    );
    assert!(alert[4].ends_with('Z'), "active since, RFC 3339: {alert:?}");
    assert_eq!(alert[5], "1", "{alert:?}");
    assert_eq!(s.text("#alerts-count"), "1 active alert");
    s.screenshot(&target_dir().join("ui-screenshot-alerts.png"));
    s.click("#nav-rules");
    s.wait_for(
        "the rules table",
        "return document.querySelectorAll('#rules-groups tr.rule-row').length;",
        |v| v == 2,
    );
    assert_eq!(s.text("#rules-count"), "2 rules in 1 group");
    s.screenshot(&target_dir().join("ui-screenshot-rules.png"));
    assert!(s.text("#rules-groups h3").starts_with("ui"));
    let rec = s.cells("#rules-groups tr.rule-row:nth-child(1)");
    assert_eq!(rec[..3], ["ui:one", "recording", "vector(1)"], "{rec:?}");
    let alerting = s.cells("#rules-groups tr.rule-row:nth-child(2)");
    assert_eq!(
        alerting[..3],
        ["UiAlwaysFiring", "alerting", "vector(1) > 0"],
        "{alerting:?}"
    );
    assert_eq!(alerting[4], "firing (1)", "{alerting:?}");
    s.click("#nav-targets");
    let target = s.wait_for(
        "the scraped server",
        "window.promUI.showView(); var r = document.querySelector('#targets-table tr.target-row'); return r && r.cells[1].textContent === 'up' ? Array.from(r.cells).map(c => c.textContent) : null;",
        |v| !v.is_null(),
    );
    assert_eq!(target[0], format!("{}/metrics", srv.base), "{target}");
    assert_eq!(
        target[2],
        format!(
            "instance=\"{}\", job=\"server\"",
            srv.base.trim_start_matches("http://")
        ),
        "{target}"
    );
    assert!(target[4].as_str().unwrap().ends_with(" ms"), "{target}");
    assert_eq!(s.text("#targets-count"), "1 of 1 target up");
    // Back to the query view.
    s.click("#nav-query");
    assert_eq!(
        s.js("return document.getElementById('view-query').hidden;"),
        false
    );
    drop(stack);
    println!("ui_browser: screenshot at target/ui-screenshot.png");
}

// ---------------------------------------------------------------------------------------------
// The same page in front of a real Prometheus.

/// Debian's `prometheus` (2.x) on a free port, evaluating the same rule file as the stack
/// test; ready when `/-/ready` answers 200.
fn start_prometheus(program: &Path, dir: &Path) -> Proc {
    let port = free_port();
    std::fs::write(
        dir.join("prometheus.yml"),
        format!("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nrule_files: [rules.yml]\nscrape_configs:\n  - job_name: prometheus\n    static_configs:\n      - targets: ['127.0.0.1:{port}']\n"),
    )
    .unwrap();
    std::fs::write(
        dir.join("rules.yml"),
        "groups:\n  - name: ui\n    rules:\n      - record: ui:one\n        expr: vector(1)\n      - alert: UiAlwaysFiring\n        expr: vector(1) > 0\n        labels: {severity: page}\n        annotations: {summary: shown on the alerts view}\n",
    )
    .unwrap();
    let mut cmd = Command::new(program);
    cmd.arg(format!(
        "--config.file={}",
        dir.join("prometheus.yml").display()
    ))
    .arg(format!(
        "--storage.tsdb.path={}",
        dir.join("data").display()
    ))
    .arg(format!("--web.listen-address=127.0.0.1:{port}"));
    spawn_on_port(cmd, port, "prometheus", Duration::from_secs(30), |base| {
        ureq::get(&format!("{base}/-/ready")).call().is_ok()
    })
}

/// A front end on 127.0.0.1:0 that serves our page's files and passes every other request
/// (method, query string, form body) to `upstream`, as a reverse proxy in front of
/// Prometheus would. Returns its base URL.
fn page_in_front_of(upstream: String) -> String {
    let server = tiny_http::Server::http("127.0.0.1:0").unwrap();
    let base = format!("http://{}", server.server_addr().to_ip().unwrap());
    std::thread::spawn(move || {
        for mut req in server.incoming_requests() {
            let url = req.url().to_string();
            let path = url.split('?').next().unwrap_or("");
            let (status, ctype, body) = match examples::ui::asset(path) {
                Some(a) => (200, a.content_type.to_string(), a.body.as_bytes().to_vec()),
                None => {
                    let mut body = Vec::new();
                    let _ = req.as_reader().read_to_end(&mut body);
                    let ct = req
                        .headers()
                        .iter()
                        .find(|h| h.field.equiv("Content-Type"))
                        .map(|h| h.value.as_str().to_string());
                    let mut out = ureq::request(req.method().as_str(), &format!("{upstream}{url}"));
                    if let Some(ct) = &ct {
                        out = out.set("Content-Type", ct);
                    }
                    let resp = match out.send_bytes(&body) {
                        Ok(r) | Err(ureq::Error::Status(_, r)) => r,
                        Err(e) => {
                            let _ = req.respond(
                                tiny_http::Response::from_string(e.to_string())
                                    .with_status_code(502),
                            );
                            continue;
                        }
                    };
                    let status = resp.status();
                    let ct = resp.content_type().to_string();
                    let mut bytes = Vec::new();
                    let _ = resp.into_reader().read_to_end(&mut bytes);
                    (status, ct, bytes)
                }
            };
            let mut r = tiny_http::Response::from_data(body).with_status_code(status);
            if let Ok(h) = tiny_http::Header::from_bytes("Content-Type", ctype.as_bytes()) {
                r.add_header(h);
            }
            let _ = req.respond(r);
        }
    });
    base
}

#[test]
fn query_page_against_real_prometheus() {
    let Some((driver, chromium)) = browser() else {
        println!("ui_browser: skipped (chromium not installed)");
        return;
    };
    let Some(prometheus) = find_program("PROMETHEUS", &["prometheus"]) else {
        println!("ui_browser: real-Prometheus check skipped (prometheus not installed)");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let prom = start_prometheus(&prometheus, dir.path());
    let front = page_in_front_of(prom.base.clone());
    let cd = Chromedriver::start(&driver);
    let s = cd.session(&chromium);
    s.goto(&format!("{front}/graph"));

    // Two synthetic series: no scraped data needed.
    let two = "label_replace(vector(1), \"x\", \"a\", \"\", \"\") or label_replace(vector(2), \"x\", \"b\", \"\", \"\")";
    s.run_query(two);
    assert_eq!(s.text("#result-count"), "2 results");
    assert_eq!(
        s.cells("#result-table tbody tr.result-row"),
        ["{x=\"a\"}", "1"]
    );
    s.run_query("time()");
    assert_eq!(s.cells("#result-table tbody tr.result-row")[0], "scalar");

    // Prometheus's own parse error: its message and the mark on the offending token.
    s.run_query("1 +* 2");
    let err = s.text("#error");
    assert!(
        err.starts_with("bad_data: ") && err.contains("1:4: parse error"),
        "{err}"
    );
    assert_eq!(
        s.js("return document.querySelector('#expr-backdrop mark.error-mark').textContent;"),
        "*"
    );

    // Graph: two lines, two legend entries.
    s.run_query(two);
    s.click("#tab-graph");
    s.wait_for(
        "the legend",
        "return document.querySelectorAll('#legend .legend-item').length;",
        |v| v == 2,
    );
    assert_eq!(
        s.js("return document.querySelectorAll('#chart canvas').length;"),
        1
    );
    assert_eq!(
        s.js("return window.promUI.plot().data[0].length;"),
        258,
        "1h at the auto step of 14 s: 3600 / 14 + 1 points"
    );

    // Alerts and rules as Prometheus reports them.
    s.goto(&format!("{front}/alerts"));
    let alert = s.wait_for(
        "a firing alert",
        "window.promUI.showView(); var r = document.querySelector('#alerts-table tr.alert-row'); return r ? Array.from(r.cells).map(c => c.textContent) : null;",
        |v| !v.is_null(),
    );
    assert_eq!(alert[0], "firing", "{alert}");
    assert_eq!(alert[1], "UiAlwaysFiring", "{alert}");
    assert_eq!(alert[3], "summary=\"shown on the alerts view\"", "{alert}");
    s.goto(&format!("{front}/rules"));
    s.wait_for(
        "the rules table",
        "return document.querySelectorAll('#rules-groups tr.rule-row').length;",
        |v| v == 2,
    );
    assert_eq!(s.text("#rules-count"), "2 rules in 1 group");
    s.goto(&format!("{front}/targets"));
    let target = s.wait_for(
        "Prometheus scraping itself",
        "window.promUI.showView(); var r = document.querySelector('#targets-table tr.target-row'); return r && r.cells[1].textContent === 'up' ? Array.from(r.cells).map(c => c.textContent) : null;",
        |v| !v.is_null(),
    );
    assert_eq!(target[0], format!("{}/metrics", prom.base), "{target}");
    assert_eq!(s.text("#targets-count"), "1 of 1 target up");
    s.goto(&format!("{front}/rules"));
    s.wait_for(
        "the rules table",
        "return document.querySelectorAll('#rules-groups tr.rule-row').length;",
        |v| v == 2,
    );
    let alerting = s.cells("#rules-groups tr.rule-row:nth-child(2)");
    assert_eq!(
        alerting[..6],
        [
            "UiAlwaysFiring",
            "alerting",
            "vector(1) > 0",
            "severity=\"page\"",
            "firing (1)",
            "ok"
        ],
        "{alerting:?}"
    );
    assert!(alerting[6].ends_with(" ms)"), "{alerting:?}");
    assert_eq!(
        s.js("return Array.from(document.querySelectorAll('#rules-groups th')).map(h => h.textContent).join(',');"),
        "Rule,Type,Query,Labels,State,Health,Last evaluation"
    );
}
