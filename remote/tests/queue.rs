//! The write queue: batching, deadlines, one request in flight, retries and drops, and
//! the committed WAL position.

use exposition::Labels;
use remote::{decode_request, QueueConfig, ResponseOutcome, WalPosition, WriteQueue};

fn cfg(max: usize) -> QueueConfig {
    QueueConfig {
        max_samples_per_send: max,
        batch_send_deadline_ms: 1_000,
        capacity: 10,
        min_backoff_ms: 100,
        max_backoff_ms: 400,
        ..QueueConfig::default()
    }
}

fn l(name: &str) -> Labels {
    Labels::from_pairs(&[("__name__", name)])
}

#[test]
fn full_batch_goes_at_once_partial_waits_for_the_deadline() {
    let mut q = WriteQueue::new(cfg(3));
    q.push(&l("a"), 1, 1.0).unwrap();
    assert!(q.next_request(0).is_none(), "partial batch waits");
    assert_eq!(q.next_deadline(), Some(1_000));
    assert!(q.next_request(999).is_none());
    let r = q.next_request(1_000).expect("deadline passed");
    assert_eq!((r.samples, r.series, r.attempt), (1, 1, 1));
    assert_eq!(
        q.on_response(200, None, 1_001),
        ResponseOutcome::Delivered { samples: 1 }
    );

    for t in 0..4 {
        q.push(&l("b"), t, 0.0).unwrap();
    }
    let r = q.next_request(2_000).expect("a full batch is due now");
    assert_eq!(r.samples, 3);
    assert!(q.next_request(2_000).is_none(), "one request in flight");
    q.on_response(204, None, 2_001);
    // The leftover sample waits for its own deadline, counted from the cut.
    assert!(q.next_request(2_500).is_none());
    assert_eq!(q.next_request(3_000).unwrap().samples, 1);
}

#[test]
fn batches_group_samples_by_series_in_push_order() {
    let mut q = WriteQueue::new(cfg(10));
    q.push(&l("a"), 1, 1.0).unwrap();
    q.push(&l("b"), 1, 2.0).unwrap();
    q.push(&l("a"), 2, 3.0).unwrap();
    q.flush();
    let r = q.next_request(0).unwrap();
    let wr = decode_request(&r.body).unwrap();
    assert_eq!(wr.timeseries.len(), 2);
    assert_eq!(wr.timeseries[0].labels[0].value, "a");
    let ts: Vec<i64> = wr.timeseries[0]
        .samples
        .iter()
        .map(|s| s.timestamp)
        .collect();
    assert_eq!(ts, [1, 2]);
    assert_eq!(wr.timeseries[1].samples[0].value, 2.0);
}

#[test]
fn headers_are_set() {
    let mut q = WriteQueue::new(QueueConfig {
        user_agent: "test/1".into(),
        ..cfg(1)
    });
    q.push(&l("a"), 1, 1.0).unwrap();
    let r = q.next_request(0).unwrap();
    let h: Vec<(&str, &str)> = r.headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_eq!(
        h,
        [
            ("Content-Encoding", "snappy"),
            ("Content-Type", "application/x-protobuf"),
            ("User-Agent", "test/1"),
            ("X-Prometheus-Remote-Write-Version", "0.1.0"),
        ]
    );
}

#[test]
fn capacity_refuses_pushes() {
    let mut q = WriteQueue::new(cfg(100));
    for t in 0..10 {
        q.push(&l("a"), t, 0.0).unwrap();
    }
    let e = q.push(&l("a"), 10, 0.0).unwrap_err();
    assert_eq!(e.capacity, 10);
    assert!(q.is_full());
}

#[test]
fn server_errors_retry_with_backoff_and_the_same_body() {
    let mut q = WriteQueue::new(cfg(1));
    q.push(&l("a"), 1, 1.0).unwrap();
    let first = q.next_request(0).unwrap();
    assert_eq!(
        q.on_response(500, None, 10),
        ResponseOutcome::Retry { at_ms: 110 }
    );
    assert_eq!(q.next_deadline(), Some(110));
    assert!(q.next_request(109).is_none());
    let again = q.next_request(110).unwrap();
    assert_eq!((again.id, again.attempt), (first.id, 2));
    assert_eq!(again.body, first.body);
    assert_eq!(q.on_send_error(200), ResponseOutcome::Retry { at_ms: 400 });
    q.next_request(400).unwrap();
    assert_eq!(
        q.on_response(503, None, 400),
        ResponseOutcome::Retry { at_ms: 800 }
    );
    q.next_request(800).unwrap();
    // Capped at max_backoff.
    assert_eq!(
        q.on_response(502, None, 800),
        ResponseOutcome::Retry { at_ms: 1_200 }
    );
    q.next_request(1_200).unwrap();
    assert_eq!(
        q.on_response(200, None, 1_300),
        ResponseOutcome::Delivered { samples: 1 }
    );
    // Backoff resets after a success.
    q.push(&l("a"), 2, 1.0).unwrap();
    q.next_request(1_300).unwrap();
    assert_eq!(
        q.on_response(500, None, 2_000),
        ResponseOutcome::Retry { at_ms: 2_100 }
    );
    let s = q.stats();
    assert_eq!((s.retries, s.delivered, s.requests), (5, 1, 6));
}

#[test]
fn retry_after_is_honoured_for_429_and_5xx() {
    let mut q = WriteQueue::new(cfg(1));
    q.push(&l("a"), 1, 1.0).unwrap();
    q.next_request(0).unwrap();
    assert_eq!(
        q.on_response(429, Some("7"), 1_000),
        ResponseOutcome::Retry { at_ms: 8_000 }
    );
    q.next_request(8_000).unwrap();
    // An HTTP date: 1970-01-01T00:00:20Z.
    assert_eq!(
        q.on_response(503, Some("Thu, 01 Jan 1970 00:00:20 GMT"), 9_000),
        ResponseOutcome::Retry { at_ms: 20_000 }
    );
    q.next_request(20_000).unwrap();
    // Unparseable: fall back to backoff (the previous wait doubled, capped).
    assert_eq!(
        q.on_response(503, Some("later"), 20_000),
        ResponseOutcome::Retry { at_ms: 20_400 }
    );
}

#[test]
fn client_errors_drop_the_batch() {
    let mut q = WriteQueue::new(cfg(2));
    q.push(&l("a"), 1, 1.0).unwrap();
    q.push(&l("a"), 2, 1.0).unwrap();
    q.next_request(0).unwrap();
    assert_eq!(
        q.on_response(400, None, 1),
        ResponseOutcome::Dropped {
            samples: 2,
            status: 400
        }
    );
    assert!(q.is_idle());
    assert_eq!(q.stats().dropped, 2);
    // 429 without retry_on_http_429 is dropped too.
    let mut q = WriteQueue::new(QueueConfig {
        retry_on_http_429: false,
        ..cfg(1)
    });
    q.push(&l("a"), 1, 1.0).unwrap();
    q.next_request(0).unwrap();
    assert!(matches!(
        q.on_response(429, Some("1"), 1),
        ResponseOutcome::Dropped { .. }
    ));
}

#[test]
fn answers_without_a_request_change_nothing() {
    let mut q = WriteQueue::new(cfg(1));
    assert_eq!(q.on_response(200, None, 0), ResponseOutcome::NotInFlight);
    q.push(&l("a"), 1, 1.0).unwrap();
    q.next_request(0).unwrap();
    q.on_response(500, None, 0);
    // Waiting to retry: nothing is outstanding.
    assert_eq!(q.on_response(200, None, 1), ResponseOutcome::NotInFlight);
    assert_eq!(q.on_send_error(1), ResponseOutcome::NotInFlight);
}

#[test]
fn committed_position_follows_settled_samples() {
    let pos = |o| WalPosition {
        segment: 3,
        offset: o,
    };
    let mut q = WriteQueue::new(cfg(2));
    q.mark(pos(10));
    assert_eq!(q.committed_position(), Some(pos(10)), "nothing pending");
    q.push(&l("a"), 1, 1.0).unwrap();
    q.push(&l("a"), 2, 1.0).unwrap();
    q.mark(pos(20));
    q.push(&l("a"), 3, 1.0).unwrap();
    q.mark(pos(30));
    q.next_request(0).unwrap();
    assert_eq!(q.committed_position(), Some(pos(10)));
    q.on_response(500, None, 0);
    assert_eq!(
        q.committed_position(),
        Some(pos(10)),
        "retry does not settle"
    );
    q.next_request(1_000).unwrap();
    q.on_response(200, None, 1_000);
    assert_eq!(q.committed_position(), Some(pos(20)));
    q.flush();
    q.next_request(1_000).unwrap();
    q.on_response(400, None, 1_000);
    assert_eq!(
        q.committed_position(),
        Some(pos(30)),
        "dropped samples settle too"
    );
}
