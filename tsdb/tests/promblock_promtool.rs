//! Prometheus's own tools read our exported blocks: `promtool tsdb analyze` and
//! `promtool tsdb dump` accept them and dump exactly our samples, and a `prometheus`
//! server started over them answers a query with our value. Each test prints a note and
//! passes when the binary is not installed (`apt-get install prometheus`).

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use exposition::Labels;
use tsdb::promblock::{PromBlockWriter, VecSamples};

const T0: i64 = 1_700_000_000_000;

fn have(bin: &str) -> bool {
    let found = Command::new(bin)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok();
    if !found {
        println!("{bin} not installed: skipped");
    }
    found
}

fn tmpdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("promblock-tool-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Series written for the tools to read: (labels, samples).
fn data() -> Vec<(Labels, Vec<(i64, f64)>)> {
    let mut out = Vec::new();
    for pod in 0..6 {
        let l = Labels::from_pairs(&[
            ("__name__", "demo_requests_total"),
            ("job", "demo"),
            ("pod", &format!("pod-{pod}")),
        ]);
        // 250 samples: three chunks per series.
        let s = (0..250i64)
            .map(|k| (T0 + k * 15_000 + pod, (k * (pod + 1)) as f64 * 0.5))
            .collect();
        out.push((l, s));
    }
    let g = Labels::from_pairs(&[("__name__", "demo_temperature"), ("room", "lab")]);
    let vals = [
        21.5,
        -3.25,
        1e10,
        f64::INFINITY,
        f64::NEG_INFINITY,
        0.1,
        7.0,
    ];
    out.push((
        g,
        vals.iter()
            .enumerate()
            .map(|(i, &v)| (T0 + 60_000 * i as i64, v))
            .collect(),
    ));
    out
}

/// Exports `data()` as one block under `root`; returns its ULID.
fn export(root: &Path) -> String {
    export_with_segments(root, 512 << 20)
}

/// Like [`export`], cutting chunk segment files at `segment_size` bytes.
fn export_with_segments(root: &Path, segment_size: u64) -> String {
    let mut w = PromBlockWriter::with_segment_size(root, T0, T0 + 7_200_000, segment_size).unwrap();
    for (l, s) in data() {
        w.add_series(&l, &mut VecSamples::new(s)).unwrap();
    }
    w.finish(T0).unwrap().unwrap().ulid
}

/// `{a="b", c="d"}` as promtool prints a label set.
fn promtool_labels(l: &Labels) -> String {
    let parts: Vec<String> = l
        .iter()
        .map(|p| format!("{}={:?}", p.name, p.value))
        .collect();
    format!("{{{}}}", parts.join(", "))
}

#[test]
fn promtool_analyze_and_dump_accept_our_block() {
    if !have("promtool") {
        return;
    }
    for (name, seg) in [("dump", 512u64 << 20), ("dump-segments", 600)] {
        check_with_promtool(name, seg);
    }
}

fn check_with_promtool(name: &str, segment_size: u64) {
    let root = tmpdir(name);
    let ulid = export_with_segments(&root, segment_size);
    let segments = std::fs::read_dir(root.join(&ulid).join("chunks"))
        .unwrap()
        .count();
    assert_eq!(segments > 1, segment_size < 1000, "{segments} segments");
    let out = Command::new("promtool")
        .args(["tsdb", "analyze"])
        .arg(&root)
        .arg(&ulid)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "analyze failed: {text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains(&format!("Block ID: {ulid}")), "{text}");
    assert!(text.contains("Series: 7"), "{text}");
    assert!(text.contains("demo_requests_total"), "{text}");

    // dump (2.42) opens the directory as a database and wants a WAL directory.
    std::fs::create_dir_all(root.join("wal")).unwrap();
    let out = Command::new("promtool")
        .args(["tsdb", "dump"])
        .arg(&root)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "dump failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let mut got = BTreeSet::new();
    for line in text.lines() {
        // `{labels} value timestamp`
        let (rest, ts) = line.rsplit_once(' ').unwrap();
        let (labels, value) = rest.rsplit_once(' ').unwrap();
        let v: f64 = value.parse().unwrap_or_else(|_| panic!("value in {line}"));
        got.insert((labels.to_string(), ts.parse::<i64>().unwrap(), v.to_bits()));
    }
    let mut want = BTreeSet::new();
    for (l, s) in data() {
        for (t, v) in s {
            want.insert((promtool_labels(&l), t, v.to_bits()));
        }
    }
    assert_eq!(got.len(), 6 * 250 + 7);
    assert_eq!(got, want);
    std::fs::remove_dir_all(&root).unwrap();
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn http_get(port: u16, path: &str) -> Option<String> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(s, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").ok()?;
    let mut body = String::new();
    s.read_to_string(&mut body).ok()?;
    Some(body)
}

struct Kill(std::process::Child);

impl Drop for Kill {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn prometheus_serves_our_block() {
    if !have("prometheus") {
        return;
    }
    let root = tmpdir("server");
    let data_dir = root.join("data");
    export(&data_dir);
    let cfg = root.join("prometheus.yml");
    std::fs::write(&cfg, "global:\n  scrape_interval: 1h\nscrape_configs: []\n").unwrap();
    let port = free_port();
    let child = Command::new("prometheus")
        .arg(format!("--config.file={}", cfg.display()))
        .arg(format!("--storage.tsdb.path={}", data_dir.display()))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        // The block is from 2023: keep it inside retention.
        .arg("--storage.tsdb.retention.time=100y")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut child = Kill(child);
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if http_get(port, "/-/ready")
            .is_some_and(|b| b.starts_with("HTTP/1.0 200") || b.starts_with("HTTP/1.1 200"))
        {
            break;
        }
        if let Ok(Some(st)) = child.0.try_wait() {
            let mut err = String::new();
            child
                .0
                .stderr
                .take()
                .unwrap()
                .read_to_string(&mut err)
                .unwrap();
            panic!("prometheus exited with {st}: {err}");
        }
        assert!(Instant::now() < deadline, "prometheus not ready in 60 s");
        std::thread::sleep(Duration::from_millis(200));
    }
    // pod-3 at k = 100: t = T0 + 1_500_000 + 3, value 100 * 4 * 0.5 = 200.
    let t = (T0 + 1_500_003) as f64 / 1000.0;
    let q = format!("/api/v1/query?query=demo_requests_total%7Bpod%3D%22pod-3%22%7D&time={t}");
    let body = http_get(port, &q).unwrap();
    assert!(body.contains(r#""status":"success""#), "{body}");
    assert!(body.contains(r#""pod":"pod-3""#), "{body}");
    assert!(body.contains(&format!(r#"[{t},"200"]"#)), "{body}");
    let q = format!("/api/v1/query?query=count(demo_requests_total)&time={t}");
    let body = http_get(port, &q).unwrap();
    assert!(body.contains(r#""6"]"#), "{body}");
    drop(child);
    std::fs::remove_dir_all(&root).unwrap();
}
