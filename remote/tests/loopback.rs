//! Our sender posting to our receiver over real HTTP on 127.0.0.1 (tiny_http server,
//! ureq client): every sample arrives once, a 503 with Retry-After is retried, a 400 for
//! out-of-order samples is dropped, not retried; native histograms tailed from a WAL arrive
//! bit for bit.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;

use exposition::Labels;
use remote::{receive, QueueConfig, RemoteError, ResponseOutcome, WriteQueue};
use tsdb::{Db, HeadOptions};

struct Receiver {
    url: String,
    server: Arc<tiny_http::Server>,
    db: Arc<Mutex<Db>>,
    requests: Arc<AtomicUsize>,
    handle: Option<thread::JoinHandle<()>>,
}

fn header<'a>(req: &'a tiny_http::Request, name: &str) -> Option<&'a str> {
    req.headers()
        .iter()
        .find(|h| h.field.as_str().as_str().eq_ignore_ascii_case(name))
        .map(|h| h.value.as_str())
}

/// A remote-write receiver; requests whose 1-based number is in `fail_with_503` get a 503
/// with `Retry-After: 2`.
fn start(fail_with_503: &'static [usize]) -> Receiver {
    let server = Arc::new(tiny_http::Server::http("127.0.0.1:0").unwrap());
    let addr = server.server_addr().to_ip().unwrap();
    let db = Arc::new(Mutex::new(Db::in_memory(HeadOptions::default())));
    let requests = Arc::new(AtomicUsize::new(0));
    let (s, d, n) = (server.clone(), db.clone(), requests.clone());
    let handle = thread::spawn(move || {
        for mut req in s.incoming_requests() {
            let k = n.fetch_add(1, Ordering::SeqCst) + 1;
            let ok_headers = req.url() == "/api/v1/write"
                && header(&req, "Content-Encoding") == Some("snappy")
                && header(&req, "Content-Type") == Some("application/x-protobuf")
                && header(&req, "X-Prometheus-Remote-Write-Version") == Some("0.1.0")
                && header(&req, "User-Agent").is_some();
            if !ok_headers {
                let _ = req.respond(tiny_http::Response::empty(415));
                continue;
            }
            if fail_with_503.contains(&k) {
                let h = tiny_http::Header::from_bytes("Retry-After", "2").unwrap();
                let _ = req.respond(tiny_http::Response::empty(503).with_header(h));
                continue;
            }
            let mut body = Vec::new();
            std::io::Read::read_to_end(req.as_reader(), &mut body).unwrap();
            let mut db = d.lock().unwrap();
            let resp = match receive(&body, db.appender()) {
                Ok(rep) if rep.http_status() == 204 => {
                    tiny_http::Response::from_string("").with_status_code(204)
                }
                Ok(rep) => tiny_http::Response::from_string(rep.error_text()).with_status_code(400),
                Err(e @ RemoteError::Storage(_)) => {
                    tiny_http::Response::from_string(e.to_string()).with_status_code(500)
                }
                Err(e) => tiny_http::Response::from_string(e.to_string()).with_status_code(400),
            };
            let _ = req.respond(resp);
        }
    });
    Receiver {
        url: format!("http://{addr}/api/v1/write"),
        server,
        db,
        requests,
        handle: Some(handle),
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.server.unblock();
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

/// Posts until the queue is idle, with a simulated clock that jumps to each deadline.
/// Returns every outcome.
fn run(q: &mut WriteQueue, url: &str) -> Vec<ResponseOutcome> {
    let mut now = 0i64;
    let mut outcomes = Vec::new();
    q.flush();
    for _ in 0..1_000 {
        if q.is_idle() {
            break;
        }
        let Some(req) = q.next_request(now) else {
            now = now.max(q.next_deadline().unwrap_or(now));
            q.flush();
            continue;
        };
        let mut call = ureq::post(url);
        for (k, v) in &req.headers {
            call = call.set(k, v);
        }
        let outcome = match call.send_bytes(&req.body) {
            Ok(resp) => q.on_response(resp.status(), None, now),
            Err(ureq::Error::Status(code, resp)) => {
                let ra = resp.header("Retry-After").map(str::to_string);
                q.on_response(code, ra.as_deref(), now)
            }
            Err(ureq::Error::Transport(_)) => q.on_send_error(now),
        };
        outcomes.push(outcome);
    }
    outcomes
}

fn series(i: usize) -> Labels {
    Labels::from_pairs(&[("__name__", "loop_total"), ("shard", &i.to_string())])
}

#[test]
fn sender_to_receiver_over_http() {
    let rx = start(&[2]);
    let mut q = WriteQueue::new(QueueConfig {
        max_samples_per_send: 100,
        capacity: 100_000,
        ..QueueConfig::default()
    });
    for t in 0..250 {
        for i in 0..4 {
            q.push(&series(i), t * 15_000, (t * i as i64) as f64)
                .unwrap();
        }
    }
    let outcomes = run(&mut q, &rx.url);
    // 1000 samples in 10 requests; the second was answered 503 and retried after 2 s.
    assert_eq!(outcomes.len(), 11, "{outcomes:?}");
    assert_eq!(outcomes[1], ResponseOutcome::Retry { at_ms: 2_000 });
    assert_eq!(rx.requests.load(Ordering::SeqCst), 11);
    let s = q.stats();
    assert_eq!((s.delivered, s.dropped, s.retries), (1000, 0, 1));
    let db = rx.db.lock().unwrap();
    let got = common::dump(&*db);
    assert_eq!(got.len(), 4);
    for (labels, samples) in &got {
        let i: i64 = labels.get("shard").unwrap().parse().unwrap();
        assert_eq!(samples.len(), 250);
        assert_eq!(samples[249], (249 * 15_000, ((249 * i) as f64).to_bits()));
    }
}

#[test]
fn out_of_order_samples_are_dropped_not_retried() {
    let rx = start(&[]);
    let mut q = WriteQueue::new(QueueConfig::default());
    q.push(&series(0), 10_000, 1.0).unwrap();
    q.push(&series(1), 10_000, 1.0).unwrap();
    assert!(matches!(
        run(&mut q, &rx.url)[..],
        [ResponseOutcome::Delivered { samples: 2 }]
    ));
    // Older than what the receiver has for shard 0; shard 2 is new and fine.
    q.push(&series(0), 5_000, 2.0).unwrap();
    q.push(&series(2), 5_000, 2.0).unwrap();
    let out = run(&mut q, &rx.url);
    assert_eq!(
        out,
        [ResponseOutcome::Dropped {
            samples: 2,
            status: 400
        }]
    );
    assert_eq!(rx.requests.load(Ordering::SeqCst), 2);
    let db = rx.db.lock().unwrap();
    let got = common::dump(&*db);
    // The valid series of the refused request was still stored.
    assert_eq!(got.len(), 3);
    assert_eq!(got[0].1, vec![(10_000, 1f64.to_bits())]);
}

#[test]
fn an_unreachable_receiver_is_retried_with_backoff() {
    // Bind and drop a listener to get a port nobody answers on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut q = WriteQueue::new(QueueConfig {
        min_backoff_ms: 30,
        max_backoff_ms: 100,
        ..QueueConfig::default()
    });
    q.push(&series(0), 1, 1.0).unwrap();
    q.flush();
    let req = q.next_request(0).unwrap();
    let err = ureq::post(&format!("http://127.0.0.1:{port}/api/v1/write")).send_bytes(&req.body);
    assert!(matches!(err, Err(ureq::Error::Transport(_))));
    assert_eq!(q.on_send_error(0), ResponseOutcome::Retry { at_ms: 30 });
    assert_eq!(q.next_request(30).unwrap().attempt, 2);
}

#[test]
fn a_tsdb_replicated_through_its_wal_over_http() {
    use remote::{WalPosition, WalTailer};
    use tsdb::{DbOptions, MemDir};
    let rx = start(&[3]);
    let dir = MemDir::new();
    let mut src = Db::open(Box::new(dir.clone()), DbOptions::default()).unwrap();
    let mut q = WriteQueue::new(QueueConfig {
        max_samples_per_send: 50,
        capacity: 200,
        ..QueueConfig::default()
    });
    let mut tailer = WalTailer::new(WalPosition::default());
    for round in 0..40i64 {
        let mut app = src.appender();
        for i in 0..7 {
            let v = if round == 39 {
                tsdb::storage::stale_nan()
            } else {
                (round + i as i64) as f64
            };
            app.append(&series(i), round * 10_000, v).unwrap();
        }
        app.commit().unwrap();
        if round % 10 == 9 {
            loop {
                let rep = tailer.poll(&dir, &mut q).unwrap();
                run(&mut q, &rx.url);
                if !rep.queue_full {
                    break;
                }
            }
        }
    }
    assert_eq!(q.committed_position(), Some(tailer.position()));
    assert_eq!(q.stats().delivered, 280);
    let db = rx.db.lock().unwrap();
    // Same series, same samples, bit for bit (staleness markers included).
    assert_eq!(common::dump(&*db), common::dump(&src));
}

#[test]
fn native_histograms_replicate_over_http() {
    use exposition::histogram::{FloatHistogram, Histogram, Span};
    use remote::{WalPosition, WalTailer};
    use tsdb::{DbOptions, MemDir};
    let rx = start(&[2]);
    let dir = MemDir::new();
    let mut src = Db::open(Box::new(dir.clone()), DbOptions::default()).unwrap();
    let mut q = WriteQueue::new(QueueConfig {
        max_samples_per_send: 10,
        ..QueueConfig::default()
    });
    let mut tailer = WalTailer::new(WalPosition::default());
    for round in 0..30u64 {
        let mut app = src.appender();
        let t = round as i64 * 15_000;
        let h = Histogram {
            schema: 2,
            count: 3 * round,
            sum: round as f64 * 0.5,
            zero_count: round,
            zero_threshold: 1e-9,
            positive_spans: vec![Span::new(-3, 1), Span::new(4, 1)],
            positive_buckets: vec![round as i64, 0],
            ..Histogram::default()
        };
        app.append_histogram(&series(0), t, &h).unwrap();
        let f = FloatHistogram {
            schema: -1,
            count: round as f64 * 1.5,
            sum: -(round as f64),
            negative_spans: vec![Span::new(0, 1)],
            negative_buckets: vec![round as f64 * 1.5],
            ..FloatHistogram::default()
        };
        app.append_float_histogram(&series(1), t, &f).unwrap();
        app.append(&series(2), t, round as f64).unwrap();
        app.commit().unwrap();
        if round % 10 == 9 {
            tailer.poll(&dir, &mut q).unwrap();
            run(&mut q, &rx.url);
        }
    }
    // 90 samples in requests of 10, one of them retried after a 503.
    assert_eq!(q.stats().delivered, 90);
    assert_eq!(q.stats().retries, 1);
    let db = rx.db.lock().unwrap();
    let got = common::dump_all(&*db);
    assert_eq!(got.len(), 3);
    assert_eq!(got, common::dump_all(&src));
}
