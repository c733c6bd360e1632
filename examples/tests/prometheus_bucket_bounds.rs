//! Native-histogram bucket bounds as a real Prometheus (the Debian `prometheus` package,
//! 2.42) reports them, against `exposition::histogram::exponential_bound`.
//!
//! Prometheus does not compute exponential bucket bounds with `exp2`: it keeps a table of
//! fractions in `[0.5, 1)` per schema, some of them one ulp away from the correctly rounded
//! `2^(j/2^s - 1)`. Our table, `exposition/src/histogram/bounds_table.rs`, was captured
//! with this test:
//!
//! 1. Prometheus runs with `--enable-feature=native-histograms` and
//!    `--web.enable-remote-write-receiver`.
//! 2. For each schema `s` in `0..=8` we remote-write (our `remote` crate) one histogram
//!    `bucket_bounds{schema="s"}` whose positive buckets are indices `-2*2^s .. 2^s - 1`,
//!    one observation each.
//! 3. `/api/v1/query` returns every bucket as `[rule, lower, upper, count]`, bounds printed
//!    as the shortest decimal that parses back to the same double. The upper bound of
//!    index `j < 2^s` is exactly `2 * frac[j]`, so halving it recovers the fraction bit
//!    for bit.
//!
//! Normally the test re-captures the bounds and asserts that every one of them (all
//! indices written, upper and lower bounds) equals `exponential_bound`. With
//! `WRITE_BOUNDS_TABLE=1` it also rewrites `bounds_table.rs` from the capture:
//!
//! ```text
//! WRITE_BOUNDS_TABLE=1 cargo test -p examples --test prometheus_bucket_bounds
//! ```
//!
//! A second test checks `exposition::histogram::go_log2`, which bucket interpolation
//! uses, against Prometheus's own `log2()` on the schema-8 bucket bounds and values in
//! between (Go's `math.Log2` differs from the C library's in the last bit on about one
//! input in five).
//!
//! Both print a note and pass when `prometheus` is not on `PATH`.

mod common;

use std::process::Command;
use std::time::Duration;

use common::{free_port, poll, spawn_on_port, Proc};

use examples::api::now_ms;
use exposition::histogram::{exponential_bound, go_log2, Histogram, Span};
use exposition::Labels;
use remote::{QueueConfig, WriteQueue};
use serde_json::Value;

/// Schemas whose fractions the table holds (schema 0's is the single `0.5`).
const SCHEMAS: std::ops::RangeInclusive<i32> = 0..=8;

/// `prometheus --version`'s first line, or `None` when it is not installed.
fn prometheus_version() -> Option<String> {
    let out = Command::new("prometheus").arg("--version").output().ok()?;
    if !out.status.success() {
        return None;
    }
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    text.lines().next().map(|l| l.trim().to_string())
}

/// Prometheus with native histograms and the remote-write receiver on, ready.
fn prometheus() -> Proc {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("prometheus.yml");
    std::fs::write(&cfg, "global:\n  scrape_interval: 1m\n").unwrap();
    let port = free_port();
    let mut cmd = Command::new("prometheus");
    cmd.arg(format!("--config.file={}", cfg.display()))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.path().join("data").display()
        ))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .args([
            "--enable-feature=native-histograms",
            "--web.enable-remote-write-receiver",
            "--log.level=warn",
        ]);
    let mut p = spawn_on_port(cmd, port, "prometheus", Duration::from_secs(15), |base| {
        ureq::get(&format!("{base}/-/ready"))
            .call()
            .is_ok_and(|r| r.status() == 200)
    });
    p.dir = Some(dir);
    p
}

/// The first bucket index written for `schema`: two full powers of two below index 0, so
/// that the capture also covers negative exponents.
fn first_index(schema: i32) -> i32 {
    -2 * (1 << schema)
}

/// One histogram per schema with one observation in each bucket from
/// [`first_index`] up to `2^schema - 1`.
fn bounds_histogram(schema: i32) -> Histogram {
    let n = 3u32 << schema;
    let mut deltas = vec![0i64; n as usize];
    deltas[0] = 1;
    Histogram {
        schema,
        count: u64::from(n),
        sum: 0.0,
        positive_spans: vec![Span::new(first_index(schema), n)],
        positive_buckets: deltas,
        ..Histogram::default()
    }
}

/// Remote-writes [`bounds_histogram`] for every schema at `t`.
fn write_histograms(base: &str, t: i64) {
    let mut q = WriteQueue::new(QueueConfig::default());
    for schema in SCHEMAS {
        let l = Labels::from_pairs(&[
            ("__name__", "bucket_bounds"),
            ("schema", &schema.to_string()),
        ]);
        q.push_histogram(&l, t, &bounds_histogram(schema)).unwrap();
    }
    q.flush();
    let req = q.next_request(0).unwrap();
    let mut post = ureq::post(&format!("{base}/api/v1/write"));
    for (k, v) in &req.headers {
        post = post.set(k, v);
    }
    let resp = post.send_bytes(&req.body).unwrap();
    assert_eq!(resp.status(), 204, "remote write refused");
}

/// One captured bucket: index, lower bound, upper bound.
type Captured = (i32, f64, f64);

/// The buckets of `bucket_bounds{schema="s"}` at `t` per schema, by index, or `None` while
/// Prometheus does not answer with all of them.
fn read_buckets(base: &str, t: i64) -> Option<Vec<Vec<Captured>>> {
    let url = format!(
        "{base}/api/v1/query?query=bucket_bounds&time={}",
        t as f64 / 1000.0
    );
    let body = ureq::get(&url).call().ok()?.into_string().ok()?;
    let v: Value = serde_json::from_str(&body).ok()?;
    let result = v["data"]["result"].as_array()?;
    let mut out = vec![Vec::new(); SCHEMAS.count()];
    for series in result {
        let schema: i32 = series["metric"]["schema"].as_str()?.parse().ok()?;
        let slot = out.get_mut(usize::try_from(schema).ok()?)?;
        let buckets = series["histogram"][1]["buckets"].as_array()?;
        let parse = |x: &Value| x.as_str().and_then(|s| s.parse::<f64>().ok());
        let mut bounds: Vec<(f64, f64)> = buckets
            .iter()
            .map(|b| Some((parse(&b[1])?, parse(&b[2])?)))
            .collect::<Option<_>>()?;
        bounds.sort_by(|a, b| a.1.total_cmp(&b.1));
        *slot = bounds
            .into_iter()
            .zip(first_index(schema)..)
            .map(|((lo, hi), idx)| (idx, lo, hi))
            .collect();
    }
    let complete = SCHEMAS.zip(&out).all(|(s, b)| b.len() == (3usize << s));
    complete.then_some(out)
}

/// The fractions of `schema` (`frac[j]` for `j` in `0..2^schema`) out of its buckets.
fn fractions(schema: i32, buckets: &[Captured]) -> Vec<f64> {
    let n = 1i32 << schema;
    let fr: Vec<f64> = buckets
        .iter()
        .filter(|(idx, _, _)| (0..n).contains(idx))
        .map(|(_, _, hi)| hi / 2.0)
        .collect();
    assert_eq!(fr.len(), n as usize, "schema {schema}: {buckets:?}");
    fr
}

/// The source of `bounds_table.rs` for the captured fractions.
fn table_source(version: &str, fracs: &[Vec<f64>]) -> String {
    let mut s = format!(
        "\
//! GENERATED FILE, do not edit: the fractions Prometheus's exponential bucket bounds
//! are built from, for schemas 0..=8 (`FRACTIONS[s][j]`, `j` in `0..2^s`).
//!
//! Captured from a real Prometheus,
//! `{version}`,
//! by `examples/tests/prometheus_bucket_bounds.rs` with `WRITE_BOUNDS_TABLE=1`: one
//! remote-written native histogram per schema with one observation in each bucket
//! from index `-2^(s+1)` to `2^s - 1`, read back through `/api/v1/query`; the upper
//! bound of index `j` in `0..2^s` is exactly `2 * frac[j]`.
//! Each value is printed as the shortest decimal that parses back to the same double.

/// Fractions in `[0.5, 1)`: the upper bound of positive bucket `idx` of schema `s` is
/// `FRACTIONS[s][idx & (2^s - 1)] * 2^((idx >> s) + 1)`.
#[rustfmt::skip]
#[allow(clippy::approx_constant)]
pub(crate) static FRACTIONS: [&[f64]; {n}] = [
",
        n = fracs.len()
    );
    for (schema, fr) in fracs.iter().enumerate() {
        let plural = if fr.len() == 1 { "" } else { "s" };
        s.push_str(&format!(
            "    // Schema {schema}: {} fraction{plural}.\n    &[\n",
            fr.len()
        ));
        for chunk in fr.chunks(4) {
            let vals: Vec<String> = chunk.iter().map(|v| format!("{v:?}")).collect();
            s.push_str(&format!("        {},\n", vals.join(", ")));
        }
        s.push_str("    ],\n");
    }
    s.push_str("];\n");
    s
}

#[test]
fn exponential_bounds_match_prometheus() {
    let Some(version) = prometheus_version() else {
        println!(
            "prometheus_bucket_bounds: skipped (prometheus not installed; apt-get install prometheus)"
        );
        return;
    };
    let p = prometheus();
    let t = now_ms() - 10_000;
    write_histograms(&p.base, t);
    let captured = poll(Duration::from_secs(10), || read_buckets(&p.base, t))
        .expect("Prometheus never returned every bucket_bounds histogram");

    let fracs: Vec<Vec<f64>> = SCHEMAS
        .zip(&captured)
        .map(|(s, b)| fractions(s, b))
        .collect();
    if std::env::var_os("WRITE_BOUNDS_TABLE").is_some() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../exposition/src/histogram/bounds_table.rs"
        );
        std::fs::write(path, table_source(&version, &fracs)).unwrap();
        println!("prometheus_bucket_bounds: wrote {path} from {version}");
    }

    let mut wrong = Vec::new();
    let mut checked = 0;
    for (schema, buckets) in SCHEMAS.zip(&captured) {
        for &(idx, lo, hi) in buckets {
            for (what, i, want) in [("upper", idx, hi), ("lower", idx - 1, lo)] {
                checked += 1;
                let got = exponential_bound(i, schema);
                if got.to_bits() != want.to_bits() {
                    wrong.push(format!(
                        "schema {schema} index {i} ({what} of {idx}): prometheus {want:?}, ours {got:?}"
                    ));
                }
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "{} of {checked} bounds differ from {version}:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
    println!("prometheus_bucket_bounds: {checked} bounds over schemas 0..=8 equal {version}'s");
}

#[test]
fn go_log2_matches_prometheus_log2() {
    let Some(version) = prometheus_version() else {
        println!("prometheus_bucket_bounds log2: skipped (prometheus not installed)");
        return;
    };
    let p = prometheus();
    let mut inputs: Vec<f64> = (-256..256).map(|i| exponential_bound(i, 8)).collect();
    inputs.extend((1..200).map(|i| 1.0 + i as f64 / 199.0 * 0.987_654_321));
    inputs.extend([1e-300, 3e-7, 0.1, 12345.678, 1e300]);
    let mut wrong = Vec::new();
    let mut libm_differs = 0;
    for x in &inputs {
        let q = format!("log2(vector({x:?}))");
        let url = format!(
            "{}/api/v1/query?query={}&time=1000",
            p.base,
            form_urlencoded::byte_serialize(q.as_bytes()).collect::<String>()
        );
        let body = ureq::get(&url).call().unwrap().into_string().unwrap();
        let v: Value = serde_json::from_str(&body).unwrap();
        let want: f64 = v["data"]["result"][0]["value"][1]
            .as_str()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("{q}: {body}"));
        if go_log2(*x).to_bits() != want.to_bits() {
            wrong.push(format!(
                "log2({x:?}): prometheus {want:?}, ours {:?}",
                go_log2(*x)
            ));
        }
        if x.log2().to_bits() != want.to_bits() {
            libm_differs += 1;
        }
    }
    assert!(
        wrong.is_empty(),
        "{} of {} differ from {version}:\n{}",
        wrong.len(),
        inputs.len(),
        wrong.join("\n")
    );
    println!(
        "prometheus_bucket_bounds: go_log2 equals {version}'s log2() on {} inputs (libm's log2 differs on {libm_differs})",
        inputs.len()
    );
}
