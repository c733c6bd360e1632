//! The receiver: what gets stored, what gets refused and reported, what is an error.

mod common;

use exposition::Labels;
use remote::proto::{Label, Sample, TimeSeries, WriteRequest};
use remote::{encode_request, receive, RejectReason, RemoteError};
use tsdb::{Db, DbOptions, HeadOptions, MemDir};

fn ts(pairs: &[(&str, &str)], samples: &[(i64, f64)]) -> TimeSeries {
    TimeSeries {
        labels: pairs
            .iter()
            .map(|(n, v)| Label {
                name: n.to_string(),
                value: v.to_string(),
            })
            .collect(),
        samples: samples
            .iter()
            .map(|&(t, v)| Sample {
                value: v,
                timestamp: t,
            })
            .collect(),
        ..TimeSeries::default()
    }
}

fn body(series: Vec<TimeSeries>) -> Vec<u8> {
    encode_request(&WriteRequest {
        timeseries: series,
        metadata: vec![],
    })
    .unwrap()
}

#[test]
fn stores_everything_valid_and_reports_204() {
    let mut db = Db::in_memory(HeadOptions::default());
    let b = body(vec![
        ts(&[("__name__", "up"), ("job", "a")], &[(1, 1.0), (2, 0.0)]),
        // Unsorted labels are accepted (Prometheus sorts them).
        ts(&[("job", "b"), ("__name__", "up")], &[(1, 1.0)]),
    ]);
    let rep = receive(&b, db.appender()).unwrap();
    assert_eq!(rep.series, 2);
    assert_eq!(rep.samples_appended, 3);
    assert_eq!(rep.http_status(), 204);
    let got = common::dump(&db);
    assert_eq!(got.len(), 2);
    assert_eq!(
        got[0].0,
        Labels::from_pairs(&[("__name__", "up"), ("job", "a")])
    );
    assert_eq!(got[0].1, vec![(1, 1f64.to_bits()), (2, 0f64.to_bits())]);
}

#[test]
fn out_of_order_series_is_reported_and_the_rest_is_committed() {
    let mut db = Db::in_memory(HeadOptions::default());
    receive(
        &body(vec![ts(&[("__name__", "x")], &[(100, 1.0)])]),
        db.appender(),
    )
    .unwrap();
    let rep = receive(
        &body(vec![
            ts(&[("__name__", "y")], &[(5, 1.0)]),
            // t=50 is before the stored t=100; t=150 is fine.
            ts(&[("__name__", "x")], &[(50, 2.0), (60, 2.0), (150, 3.0)]),
            // Same timestamp, different value.
            ts(&[("__name__", "x")], &[(150, 4.0)]),
        ]),
        db.appender(),
    )
    .unwrap();
    assert_eq!(rep.http_status(), 400);
    assert_eq!(rep.samples_appended, 2);
    assert_eq!(rep.samples_rejected, 3);
    assert_eq!(rep.rejections.len(), 2);
    let r0 = &rep.rejections[0];
    assert_eq!(r0.index, 1);
    assert_eq!(r0.reason, RejectReason::OutOfOrder { last_t: 100 });
    assert_eq!((r0.first_t, r0.samples), (Some(50), 2));
    assert_eq!(r0.series, "x");
    assert_eq!(rep.rejections[1].reason, RejectReason::Duplicate);
    assert!(rep.error_text().contains("out of order sample"));
    let got = common::dump(&db);
    let x: Vec<i64> = got[0].1.iter().map(|s| s.0).collect();
    assert_eq!(x, [100, 150]);
    assert_eq!(got[1].1.len(), 1);
}

#[test]
fn invalid_label_sets_are_refused_per_series() {
    let mut db = Db::in_memory(HeadOptions::default());
    let rep = receive(
        &body(vec![
            ts(&[("job", "no-name")], &[(1, 1.0)]),
            ts(
                &[("__name__", "a"), ("dup", "1"), ("dup", "2")],
                &[(1, 1.0)],
            ),
            ts(&[("__name__", "a"), ("", "v")], &[(1, 1.0)]),
            ts(&[("__name__", "ok")], &[(1, 1.0)]),
        ]),
        db.appender(),
    )
    .unwrap();
    assert_eq!(rep.samples_appended, 1);
    assert_eq!(rep.rejections.len(), 3);
    for r in &rep.rejections {
        assert!(matches!(r.reason, RejectReason::InvalidLabels(_)), "{r}");
    }
    assert!(rep.rejections[0]
        .to_string()
        .contains("missing metric name"));
    assert_eq!(common::dump(&db).len(), 1);
}

#[test]
fn exemplars_and_metadata_are_counted_not_stored() {
    let mut db = Db::in_memory(HeadOptions::default());
    let mut s = ts(&[("__name__", "h")], &[(1, 1.0)]);
    s.exemplars = vec![remote::proto::Exemplar::default()];
    let b = encode_request(&WriteRequest {
        timeseries: vec![s],
        metadata: vec![remote::proto::MetricMetadata::default()],
    })
    .unwrap();
    let rep = receive(&b, db.appender()).unwrap();
    assert_eq!((rep.exemplars_ignored, rep.metadata_ignored), (1, 1));
    assert_eq!(rep.http_status(), 204);
}

#[test]
fn malformed_bodies_store_nothing() {
    let mut db = Db::in_memory(HeadOptions::default());
    let err = receive(b"definitely not snappy", db.appender()).unwrap_err();
    assert!(matches!(err, RemoteError::Snappy { .. }), "{err}");
    // Valid snappy, truncated protobuf.
    let mut raw = body(vec![ts(&[("__name__", "up")], &[(1, 1.0)])]);
    let mut proto = snap::raw::Decoder::new().decompress_vec(&raw).unwrap();
    proto.pop();
    raw = snap::raw::Encoder::new().compress_vec(&proto).unwrap();
    let err = receive(&raw, db.appender()).unwrap_err();
    assert!(matches!(err, RemoteError::Protobuf { .. }), "{err}");
    assert!(common::dump(&db).is_empty());
}

#[test]
fn received_samples_survive_a_reopen() {
    let dir = MemDir::new();
    {
        let mut db = Db::open(Box::new(dir.clone()), DbOptions::default()).unwrap();
        let rep = receive(
            &body(vec![ts(&[("__name__", "up")], &[(1, 1.0), (2, 2.0)])]),
            db.appender(),
        )
        .unwrap();
        assert_eq!(rep.samples_appended, 2);
    }
    let db = Db::open(Box::new(dir), DbOptions::default()).unwrap();
    assert_eq!(common::dump(&db)[0].1.len(), 2);
}
