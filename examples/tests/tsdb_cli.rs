//! The `tsdb` program end to end: import OpenMetrics text, analyze, dump (compared with
//! what promtool made and printed for the same input), convert both ways, and the
//! error paths (exit code 1 with a message on stderr, 2 for usage errors).

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use common::server_at;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_tsdb"))
}

fn run(args: &[&str]) -> Output {
    bin().args(args).output().unwrap()
}

fn ok(args: &[&str]) -> String {
    let o = run(args);
    assert!(
        o.status.success(),
        "tsdb {args:?} failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).unwrap()
}

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tsdb/tests/fixtures/promblock")
}

fn tmpdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("tsdb-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Dump of the blocks promtool wrote from input.om (read through our Prometheus reader).
fn fixture_dump() -> String {
    ok(&["dump", s(&fixture().join("blocks"))])
}

#[test]
fn import_openmetrics_matches_promtool() {
    let d = tmpdir("import");
    let native = d.join("native");
    let out = ok(&[
        "import",
        "openmetrics",
        s(&fixture().join("input.om")),
        s(&native),
    ]);
    // The same three blocks promtool made: 2h-aligned windows, each from its first to
    // one past its last sample.
    assert!(out.starts_with("BLOCK ULID"), "{out}");
    let rows: Vec<Vec<&str>> = out
        .lines()
        .skip(1)
        .map(|l| l.split_whitespace().collect())
        .collect();
    let ranges: Vec<(&str, &str, &str)> = rows.iter().map(|r| (r[1], r[2], r[4])).collect();
    assert_eq!(
        ranges,
        [
            ("1700000000000", "1700006000001", "194"),
            ("1700006600000", "1700013200001", "13"),
            ("1700013800000", "1700013800001", "1"),
        ]
    );
    // Same samples as promtool's blocks, printed the way promtool prints them.
    let dump = ok(&["dump", s(&native)]);
    assert_eq!(dump.lines().count(), 208);
    assert_eq!(dump, fixture_dump());
    let temp = "{__name__=\"node_temp_celsius\", sensor=\"cpu\", site=\"zürich\"}";
    assert!(
        dump.contains(&format!("{temp} +Inf 1700001800000\n")),
        "{dump}"
    );
    assert!(
        dump.contains(&format!("{temp} NaN 1700001200000\n")),
        "{dump}"
    );
    assert!(
        dump.contains(&format!("{temp} 1e-300 1700003600000\n")),
        "{dump}"
    );

    let a = ok(&["analyze", s(&native), "--limit", "2"]);
    assert!(a.contains("Format: native"), "{a}");
    assert!(a.contains("Series: 3\nSamples: 194\n"), "{a}");
    assert!(
        a.contains("Highest cardinality labels:\n2 __name__\n2 code\n"),
        "{a}"
    );
    assert!(
        a.contains("Highest cardinality metric names:\n2 http_requests_total\n"),
        "{a}"
    );
    assert!(a.contains("Total: 3 blocks, 4 series, 208 samples"), "{a}");

    let m = ok(&[
        "dump",
        s(&native),
        "--match",
        r#"http_requests_total{code=~"5.."}"#,
    ]);
    assert_eq!(
        m,
        "{__name__=\"http_requests_total\", code=\"500\", handler=\"/api\"} 0 1700000000500\n\
         {__name__=\"http_requests_total\", code=\"500\", handler=\"/api\"} 1 1700000900500\n\
         {__name__=\"http_requests_total\", code=\"500\", handler=\"/api\"} 2 1700001800500\n"
    );
    let r = ok(&[
        "dump",
        s(&native),
        "--match",
        "{code=\"500\"}",
        "--min-time",
        "1700000900500",
        "--max-time",
        "1700000900500",
    ]);
    assert_eq!(r.lines().count(), 1);
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn out_of_order_input_and_block_duration() {
    let d = tmpdir("ooo");
    let input = d.join("in.om");
    // Out of order within a series, interleaved series, an exact repeat (dropped).
    std::fs::write(
        &input,
        "# TYPE a gauge\n\
         a{x=\"1\"} 3 300\n\
         a{x=\"2\"} 1 100\n\
         a{x=\"1\"} 1 100\n\
         a{x=\"1\"} 2 200\n\
         a{x=\"1\"} 2 200\n\
         a{x=\"1\"} 9 4000\n\
         # EOF\n",
    )
    .unwrap();
    let out = ok(&[
        "import",
        "openmetrics",
        s(&input),
        s(&d.join("db")),
        "--block-duration",
        "1h",
    ]);
    assert_eq!(out.lines().count(), 3, "two 1h blocks: {out}");
    let dump = ok(&["dump", s(&d.join("db"))]);
    assert_eq!(
        dump,
        "{__name__=\"a\", x=\"1\"} 1 100000\n{__name__=\"a\", x=\"1\"} 2 200000\n\
         {__name__=\"a\", x=\"1\"} 3 300000\n{__name__=\"a\", x=\"1\"} 9 4000000\n\
         {__name__=\"a\", x=\"2\"} 1 100000\n"
    );
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn convert_both_ways_keeps_samples() {
    let d = tmpdir("convert");
    let back = d.join("back");
    let native = d.join("native");
    // Prometheus blocks (promtool's) -> native -> Prometheus -> native.
    let out = ok(&[
        "import-prometheus",
        s(&fixture().join("blocks")),
        s(&native),
    ]);
    assert_eq!(out.lines().count(), 4, "{out}");
    assert_eq!(ok(&["dump", s(&native)]), fixture_dump());
    let prom = d.join("prom");
    ok(&["export-prometheus", s(&native), s(&prom)]);
    let a = ok(&["analyze", s(&prom)]);
    assert!(a.contains("Format: prometheus"), "{a}");
    assert_eq!(ok(&["dump", s(&prom)]), fixture_dump());
    ok(&["import-prometheus", s(&prom), s(&back)]);
    assert_eq!(ok(&["dump", s(&back)]), fixture_dump());
    // Blocks of the other format are skipped with a note.
    let o = run(&["export-prometheus", s(&prom), s(&d.join("none"))]);
    assert!(o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("skipped 3 block(s)"));

    // promtool reads what we exported and prints the same dump.
    let have = Command::new("promtool")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok();
    if have {
        std::fs::create_dir_all(prom.join("wal")).unwrap();
        let o = Command::new("promtool")
            .args(["tsdb", "dump", s(&prom)])
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        assert_eq!(String::from_utf8(o.stdout).unwrap(), fixture_dump());
    } else {
        println!("promtool not installed: promtool dump comparison skipped");
    }
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn errors_exit_nonzero_with_a_message() {
    let d = tmpdir("errors");
    let no_ts = d.join("no_ts.om");
    std::fs::write(&no_ts, "# TYPE a gauge\na 1 10\na 2\n# EOF\n").unwrap();
    let o = run(&["import", "openmetrics", s(&no_ts), s(&d.join("x"))]);
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("no_ts.om:3: sample has no timestamp"), "{err}");

    let dup = d.join("dup.om");
    std::fs::write(&dup, "a 1 10\na 2 10\n# EOF\n").unwrap();
    let o = run(&["import", "openmetrics", s(&dup), s(&d.join("x"))]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("dup.om:2: duplicate sample"));

    let bad = d.join("bad.om");
    std::fs::write(&bad, "a{ 1 10\n# EOF\n").unwrap();
    let o = run(&["import", "openmetrics", s(&bad), s(&d.join("x"))]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("bad.om:1:"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );

    let o = run(&[
        "import",
        "openmetrics",
        s(&bad),
        s(&d.join("x")),
        "--block-duration",
        "2x",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--block-duration"));

    let o = run(&["dump", s(&d), "--match", "rate(a[5m])"]);
    assert_eq!(o.status.code(), Some(1));
    let o = run(&["analyze", s(&d.join("missing"))]);
    assert_eq!(o.status.code(), Some(1));
    let o = run(&["analyze", s(&d)]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("no blocks found"));
    assert_eq!(run(&["frobnicate"]).status.code(), Some(2));
    assert_eq!(run(&["import", "openmetrics"]).status.code(), Some(2));
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn imported_blocks_are_served_by_our_server() {
    let d = tmpdir("serve");
    // Recent timestamps, so the server's retention keeps the block.
    let now_s = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let t0 = now_s - 3 * 3600;
    let mut text = String::from("# TYPE cli_demo counter\n");
    for k in 0..100i64 {
        text.push_str(&format!(
            "cli_demo_total{{job=\"x\"}} {k} {}\n",
            t0 + 15 * k
        ));
    }
    text.push_str("# EOF\n");
    let input = d.join("in.om");
    std::fs::write(&input, text).unwrap();
    ok(&["import", "openmetrics", s(&input), s(&d.join("blocks"))]);
    let a = ok(&["analyze", s(&d)]);
    assert!(a.contains("Samples: "), "{a}");

    let server = server_at(&d, &[]);
    let t = t0 + 15 * 50;
    let url = format!("{}/api/v1/query?query=cli_demo_total&time={t}", server.base);
    let body = ureq::get(&url).call().map(|r| r.into_string().unwrap());
    drop(server);
    let body = body.unwrap();
    assert!(body.contains(&format!("[{t},\"50\"]")), "{body}");
    std::fs::remove_dir_all(&d).unwrap();
}
