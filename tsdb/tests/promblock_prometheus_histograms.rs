//! A real Prometheus reads native histograms from our exported blocks, and we read them
//! from blocks Prometheus wrote:
//!
//! 1. A block exported from our tsdb (integer counter histograms with a counter reset,
//!    float gauge histograms, floats) is placed in `--storage.tsdb.path` of
//!    `prometheus --enable-feature=native-histograms` (Debian's 2.42); its HTTP API then
//!    serves every histogram we wrote (count, sum, every bucket count).
//! 2. Prometheus scrapes a native histogram and writes a block of its head through the
//!    admin snapshot API; our Prometheus block reader imports it and holds the histograms
//!    Prometheus's API serves.
//!
//! Each test prints a note and passes when `prometheus` is not installed.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use exposition::histogram::{CounterResetHint, FloatHistogram, Histogram, Span};
use exposition::{Labels, Matcher};
use tsdb::chunk::{MixedIterator, ValueType};
use tsdb::promblock::{export_db, histogram_chunk, PromBlock};
use tsdb::{Db, HeadOptions};

const T0: i64 = 1_700_000_000_000;

fn have_prometheus() -> bool {
    let found = Command::new("prometheus")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok();
    if !found {
        println!("prometheus not installed: skipped");
    }
    found
}

fn tmpdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("promblock-nh-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `method path` over HTTP/1.0; the body of a 200 answer.
fn http(port: u16, method: &str, path: &str) -> Option<String> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    write!(
        s,
        "{method} {path} HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n"
    )
    .ok()?;
    let mut resp = String::new();
    s.read_to_string(&mut resp).ok()?;
    let (head, body) = resp.split_once("\r\n\r\n")?;
    head.contains(" 200 ").then(|| body.to_string())
}

struct Kill(std::process::Child);

impl Drop for Kill {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts Prometheus (native histograms on) over `data` with `config`; waits for ready.
fn prometheus(root: &Path, data: &Path, config: &str, extra: &[&str]) -> (Kill, u16) {
    let cfg = root.join("prometheus.yml");
    std::fs::write(&cfg, config).unwrap();
    let port = free_port();
    let child = Command::new("prometheus")
        .arg(format!("--config.file={}", cfg.display()))
        .arg(format!("--storage.tsdb.path={}", data.display()))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .args([
            "--enable-feature=native-histograms",
            "--storage.tsdb.retention.time=100y",
            "--log.level=warn",
        ])
        .args(extra)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut child = Kill(child);
    let deadline = Instant::now() + Duration::from_secs(60);
    while http(port, "GET", "/-/ready").is_none() {
        if let Ok(Some(st)) = child.0.try_wait() {
            let mut err = String::new();
            if let Some(mut e) = child.0.stderr.take() {
                let _ = e.read_to_string(&mut err);
            }
            panic!("prometheus exited with {st}: {err}");
        }
        assert!(Instant::now() < deadline, "prometheus not ready in 60 s");
        std::thread::sleep(Duration::from_millis(200));
    }
    (child, port)
}

/// The `histograms` of the one series `sel[range]` returns at `t_ms`, as
/// `(t_ms, count, sum, bucket counts)`.
fn api_histograms(port: u16, sel: &str, t_ms: i64) -> Vec<(i64, f64, f64, Vec<f64>)> {
    let q: String = sel
        .bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'_' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect();
    let path = format!("/api/v1/query?query={q}&time={}", t_ms as f64 / 1000.0);
    let body = http(port, "GET", &path).unwrap_or_else(|| panic!("GET {path} failed"));
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    let result = v["data"]["result"].as_array().cloned().unwrap_or_default();
    assert_eq!(result.len(), 1, "{sel}: {body}");
    let num = |x: &serde_json::Value| x.as_str().unwrap().parse::<f64>().unwrap();
    result[0]["histograms"]
        .as_array()
        .unwrap_or_else(|| panic!("{sel}: no histograms in {body}"))
        .iter()
        .map(|p| {
            let t = (p[0].as_f64().unwrap() * 1000.0).round() as i64;
            let h = &p[1];
            let buckets = h["buckets"]
                .as_array()
                .map(|b| b.iter().map(|x| num(&x[3])).collect())
                .unwrap_or_default();
            (t, num(&h["count"]), num(&h["sum"]), buckets)
        })
        .collect()
}

/// Non-empty bucket counts in Prometheus's API order (negative buckets from the most
/// negative, the zero bucket, positive buckets upwards).
fn api_buckets(h: &FloatHistogram) -> Vec<f64> {
    let mut out = Vec::new();
    for b in h.all_buckets() {
        if b.count != 0.0 {
            out.push(b.count);
        }
    }
    out
}

fn counter(k: i64) -> Histogram {
    Histogram {
        schema: 2,
        zero_threshold: 2f64.powi(-128),
        zero_count: k as u64,
        count: 6 * k as u64 + 1,
        sum: 1.5 * k as f64,
        positive_spans: vec![Span::new(-1, 2), Span::new(2, 1)],
        // Absolute 2k, 2k, k+1.
        positive_buckets: vec![2 * k, 0, 1 - k],
        negative_spans: vec![Span::new(0, 1)],
        negative_buckets: vec![0],
        ..Histogram::default()
    }
}

#[test]
fn prometheus_serves_native_histograms_from_our_block() {
    if !have_prometheus() {
        return;
    }
    let root = tmpdir("export");
    let data = root.join("data");
    let mut db = Db::in_memory(HeadOptions::default());
    let ints = Labels::from_pairs(&[("__name__", "rpc_seconds"), ("job", "ours")]);
    let gauge = Labels::from_pairs(&[("__name__", "queue_fill"), ("job", "ours")]);
    let mut want_int = Vec::new();
    let mut want_gauge = Vec::new();
    {
        let mut app = db.appender();
        for k in 0..200i64 {
            let t = T0 + k * 15_000;
            // A counter reset at k = 130.
            let h = counter(if k >= 130 { k - 130 } else { k } + 1);
            app.append_histogram(&ints, t, &h).unwrap();
            want_int.push((t, h.to_float()));
            let g = FloatHistogram {
                counter_reset_hint: CounterResetHint::Gauge,
                schema: 0,
                zero_threshold: 0.0,
                count: 4.5 + (k % 5) as f64,
                sum: 10.0 - k as f64 * 0.25,
                positive_spans: vec![Span::new(1, 2)],
                positive_buckets: vec![2.25, 2.25 + (k % 5) as f64],
                ..FloatHistogram::default()
            };
            app.append_float_histogram(&gauge, t, &g).unwrap();
            want_gauge.push((t, g));
        }
        app.commit().unwrap();
    }
    export_db(&db, &data, T0, T0 + 7_200_000, T0)
        .unwrap()
        .unwrap();
    let (_p, port) = prometheus(&root, &data, "global:\n  scrape_interval: 1h\n", &[]);

    let end = T0 + 199 * 15_000;
    for (sel, want) in [
        ("rpc_seconds{job=\"ours\"}[1h]", &want_int),
        ("queue_fill{job=\"ours\"}[1h]", &want_gauge),
    ] {
        let got = api_histograms(port, sel, end);
        // Every sample in (end - 1h, end].
        let expect: Vec<_> = want.iter().filter(|(t, _)| *t > end - 3_600_000).collect();
        assert_eq!(got.len(), expect.len(), "{sel}");
        for ((gt, gc, gs, gb), (wt, wh)) in got.iter().zip(expect) {
            assert_eq!(*gt, *wt, "{sel}");
            assert_eq!((*gc, *gs), (wh.count, wh.sum), "{sel} at {wt}");
            assert_eq!(*gb, api_buckets(wh), "{sel} at {wt}");
        }
    }
    drop(_p);
    std::fs::remove_dir_all(&root).unwrap();
}

/// A loopback target serving one growing native histogram as delimited protobuf, built
/// by hand (MetricFamily{name 1, type 3 = HISTOGRAM (4), metric 4: Metric{histogram 7}}).
fn protobuf_target() -> u16 {
    fn varint(mut x: u64, out: &mut Vec<u8>) {
        while x >= 0x80 {
            out.push(x as u8 | 0x80);
            x >>= 7;
        }
        out.push(x as u8);
    }
    fn field(tag: u32, wire: u8, out: &mut Vec<u8>) {
        varint(u64::from(tag << 3 | u32::from(wire)), out);
    }
    fn bytes(tag: u32, b: &[u8], out: &mut Vec<u8>) {
        field(tag, 2, out);
        varint(b.len() as u64, out);
        out.extend_from_slice(b);
    }
    fn body(n: u64) -> Vec<u8> {
        // Histogram: sample_count 1, sample_sum 2 (double), schema 5 (sint32),
        // zero_threshold 6, zero_count 7, positive_span 12 {offset 1, length 2},
        // positive_delta 13 (sint64).
        let mut h = Vec::new();
        field(1, 0, &mut h);
        varint(3 * n, &mut h);
        field(2, 1, &mut h);
        h.extend_from_slice(&(0.5 * n as f64).to_le_bytes());
        field(5, 0, &mut h);
        varint(2, &mut h); // schema 1
        field(6, 1, &mut h);
        h.extend_from_slice(&2f64.powi(-128).to_le_bytes());
        field(7, 0, &mut h);
        varint(n, &mut h);
        let mut span = Vec::new();
        field(1, 0, &mut span);
        varint(0, &mut span);
        field(2, 0, &mut span);
        varint(2, &mut span);
        bytes(12, &span, &mut h);
        let mut deltas = Vec::new();
        varint(2 * n, &mut deltas); // +n (zigzag)
        varint(0, &mut deltas);
        bytes(13, &deltas, &mut h);
        let mut m = Vec::new();
        bytes(7, &h, &mut m);
        let mut fam = Vec::new();
        bytes(1, b"job_seconds", &mut fam);
        field(3, 0, &mut fam);
        varint(4, &mut fam);
        bytes(4, &m, &mut fam);
        let mut out = Vec::new();
        varint(fam.len() as u64, &mut out);
        out.extend(fam);
        out
    }
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for (n, s) in l.incoming().enumerate() {
            let Ok(mut s) = s else { continue };
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf);
            let b = body(n as u64 + 1);
            let _ = write!(
                s,
                "HTTP/1.0 200 OK\r\nContent-Type: application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited\r\nContent-Length: {}\r\n\r\n",
                b.len()
            );
            let _ = s.write_all(&b);
        }
    });
    port
}

#[test]
fn we_import_native_histograms_from_a_block_prometheus_wrote() {
    if !have_prometheus() {
        return;
    }
    let root = tmpdir("import");
    let data = root.join("data");
    let target = protobuf_target();
    let (_p, port) = prometheus(
        &root,
        &data,
        &format!(
            "global:\n  scrape_interval: 200ms\nscrape_configs:\n  - job_name: nh\n    static_configs: [{{targets: ['127.0.0.1:{target}']}}]\n"
        ),
        &["--web.enable-admin-api"],
    );
    // Wait for a few scraped histograms.
    let deadline = Instant::now() + Duration::from_secs(20);
    let sel = "job_seconds{job=\"nh\"}[1h]";
    let served = loop {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis() as i64;
        let path = format!(
            "/api/v1/query?query=job_seconds%5B1h%5D&time={}",
            now as f64 / 1000.0
        );
        let body = http(port, "GET", &path).unwrap_or_default();
        if body.matches(r#""count""#).count() >= 10 {
            break now;
        }
        assert!(
            Instant::now() < deadline,
            "Prometheus scraped no histograms: {body}"
        );
        std::thread::sleep(Duration::from_millis(300));
    };
    // Snapshot the head into a block, and read the histograms Prometheus serves up to then.
    let snap = http(port, "POST", "/api/v1/admin/tsdb/snapshot").expect("snapshot");
    let v: serde_json::Value = serde_json::from_str(&snap).unwrap();
    let name = v["data"]["name"].as_str().unwrap().to_string();
    let snap_dir = data.join("snapshots").join(&name);
    let want = api_histograms(port, sel, served + 60_000);
    drop(_p);

    let blocks: Vec<PathBuf> = std::fs::read_dir(&snap_dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("meta.json").exists())
        .collect();
    assert_eq!(blocks.len(), 1, "{blocks:?}");
    let block = PromBlock::open(&blocks[0]).unwrap();
    block.verify_chunks().unwrap();
    let found = block.select(
        &[Matcher::equal("__name__", "job_seconds")],
        i64::MIN,
        i64::MAX,
    );
    assert_eq!(found.len(), 1);
    let mut it = found[0].mixed_iter().unwrap();
    let mut got = Vec::new();
    loop {
        match it.next() {
            ValueType::None => break,
            ValueType::Histogram | ValueType::FloatHistogram => {
                let mut h = FloatHistogram::default();
                let t = it.at_float_histogram(&mut h);
                got.push((t, h.count, h.sum, api_buckets(&h)));
            }
            ValueType::Float => panic!("a float sample in a histogram series: {:?}", it.at()),
        }
    }
    // The snapshot may hold samples scraped after the query: compare the common prefix.
    assert!(
        got.len() >= want.len().min(10),
        "{} vs {}",
        got.len(),
        want.len()
    );
    let n = want.len().min(got.len());
    assert!(n >= 10, "too few histograms: {n}");
    assert_eq!(got[..n], want[..n]);
    // Our encoder writes Prometheus's chunks byte for byte: decode each histogram chunk
    // and encode its samples again with the same header.
    let mut chunks = 0;
    for (enc, data) in found[0].encoded_chunks().unwrap() {
        assert_eq!(enc, histogram_chunk::ENCODING_HISTOGRAM);
        let decoded = histogram_chunk::decode(enc, data).unwrap();
        let hs: Vec<(i64, Histogram)> = decoded
            .into_iter()
            .map(|d| match d {
                histogram_chunk::Decoded::Int(t, h) => (t, h),
                other => panic!("{other:?}"),
            })
            .collect();
        let refs: Vec<(i64, &Histogram)> = hs.iter().map(|(t, h)| (*t, h)).collect();
        let again =
            histogram_chunk::encode_histograms(histogram_chunk::header_hint(data[2]), &refs);
        assert_eq!(again, data, "chunk of {} samples", hs.len());
        chunks += 1;
    }
    assert!(chunks >= 1);
    // And they convert into one of our blocks.
    let report = block.convert_to_native(root.join("native"), T0).unwrap();
    assert!(report.skipped_series.is_empty());
    println!(
        "imported {} histograms from Prometheus block {}",
        got.len(),
        blocks[0].display()
    );
    std::fs::remove_dir_all(&root).unwrap();
}
