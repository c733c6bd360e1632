//! The hand-written prost structs against hand-built protobuf bytes: every field number
//! and wire type of remote-write 1.0 (see proto/*.proto).

use prost::Message;
use remote::proto::{Exemplar, Label, MetricMetadata, Sample, TimeSeries, WriteRequest};

fn f64le(x: f64) -> [u8; 8] {
    x.to_le_bytes()
}

/// WriteRequest{ timeseries: [TimeSeries{ labels: [a="b"], samples: [{1.5, 7}],
/// exemplars: [{[], 2.0, 3}], histograms: [<08 01>] }], metadata: [{1, "m", "h", "u"}] }
fn hand_built() -> Vec<u8> {
    // Label: name (1, string) = "a", value (2, string) = "b".
    let label = [0x0a, 0x01, b'a', 0x12, 0x01, b'b'];
    // Sample: value (1, fixed64 double), timestamp (2, varint int64).
    let mut sample = vec![0x09];
    sample.extend(f64le(1.5));
    sample.extend([0x10, 0x07]);
    // Exemplar: value (2, double), timestamp (3, varint).
    let mut exemplar = vec![0x11];
    exemplar.extend(f64le(2.0));
    exemplar.extend([0x18, 0x03]);
    let mut ts = vec![0x0a, label.len() as u8];
    ts.extend(label);
    ts.extend([0x12, sample.len() as u8]);
    ts.extend(&sample);
    ts.extend([0x1a, exemplar.len() as u8]);
    ts.extend(&exemplar);
    // histograms (4, length-delimited message).
    ts.extend([0x22, 0x02, 0x08, 0x01]);
    // MetricMetadata: type (1, enum varint), metric_family_name (2), help (4), unit (5).
    let md = [
        0x08, 0x01, 0x12, 0x01, b'm', 0x22, 0x01, b'h', 0x2a, 0x01, b'u',
    ];
    let mut wr = vec![0x0a, ts.len() as u8];
    wr.extend(&ts);
    wr.extend([0x1a, md.len() as u8]);
    wr.extend(md);
    wr
}

fn expected() -> WriteRequest {
    WriteRequest {
        timeseries: vec![TimeSeries {
            labels: vec![Label {
                name: "a".into(),
                value: "b".into(),
            }],
            samples: vec![Sample {
                value: 1.5,
                timestamp: 7,
            }],
            exemplars: vec![Exemplar {
                labels: vec![],
                value: 2.0,
                timestamp: 3,
            }],
            histograms: vec![vec![0x08, 0x01]],
        }],
        metadata: vec![MetricMetadata {
            r#type: 1,
            metric_family_name: "m".into(),
            help: "h".into(),
            unit: "u".into(),
        }],
    }
}

#[test]
fn hand_built_bytes_decode_to_the_expected_message() {
    let got = WriteRequest::decode(hand_built().as_slice()).unwrap();
    assert_eq!(got, expected());
}

#[test]
fn encoding_produces_the_hand_built_bytes() {
    assert_eq!(expected().encode_to_vec(), hand_built());
}

#[test]
fn negative_timestamps_are_plain_int64_varints() {
    // int64 (not sint64): -1 is ten bytes of 0xff..0x01.
    let mut b = vec![0x09];
    b.extend(f64le(0.0));
    b.extend([
        0x10, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01,
    ]);
    let s = Sample::decode(b.as_slice()).unwrap();
    assert_eq!(s.timestamp, -1);
}

#[test]
fn reserved_and_unknown_fields_are_skipped() {
    // Field 2 of WriteRequest (reserved) and field 9 of TimeSeries are ignored.
    let mut b = vec![0x12, 0x01, 0x00];
    b.extend([0x0a, 0x03, 0x4a, 0x01, 0x00]);
    let got = WriteRequest::decode(b.as_slice()).unwrap();
    assert_eq!(got.timeseries.len(), 1);
    assert!(got.timeseries[0].labels.is_empty());
}

#[test]
fn proto_files_declare_the_same_numbers() {
    // Keeps proto/*.proto in sync with the structs above.
    let types = include_str!("../proto/types.proto");
    let remote = include_str!("../proto/remote.proto");
    for line in [
        "double value    = 1;",
        "int64 timestamp = 2;",
        "string name  = 1;",
        "string value = 2;",
        "repeated Label labels       = 1;",
        "repeated Sample samples     = 2;",
        "repeated Exemplar exemplars = 3;",
        "repeated Histogram histograms = 4;",
        "string help               = 4;",
        "string unit               = 5;",
    ] {
        assert!(types.contains(line), "types.proto lacks {line:?}");
    }
    assert!(remote.contains("repeated prometheus.TimeSeries timeseries   = 1;"));
    assert!(remote.contains("reserved 2;"));
    assert!(remote.contains("repeated prometheus.MetricMetadata metadata = 3;"));
}

#[test]
fn decode_errors_are_located() {
    use remote::proto::locate_decode_error;
    let good = hand_built();
    assert_eq!(locate_decode_error(&good), None);
    // Truncated anywhere inside the first TimeSeries: the error is at its key (offset 0).
    assert!(WriteRequest::decode(&good[..10]).is_err());
    assert_eq!(locate_decode_error(&good[..10]), Some(0));
    // Label value "b" (byte 9) made invalid UTF-8: the error is at the key of the value
    // field, offset 7 (request key+len 2, label key+len 2, name field 3).
    let mut bad = good.clone();
    assert_eq!(bad[9], b'b');
    bad[9] = 0xff;
    assert!(WriteRequest::decode(bad.as_slice()).is_err());
    assert_eq!(locate_decode_error(&bad), Some(7));
    // A known field with the wrong wire type: Sample.timestamp as fixed64.
    let mut s = vec![0x11];
    s.extend(f64le(1.0));
    let mut ts = vec![0x12, s.len() as u8];
    ts.extend(&s);
    let mut wr = vec![0x0a, ts.len() as u8];
    wr.extend(&ts);
    assert!(WriteRequest::decode(wr.as_slice()).is_err());
    assert_eq!(locate_decode_error(&wr), Some(4));
    // Tag 0.
    assert_eq!(locate_decode_error(&[0x00, 0x01]), Some(0));
}

#[test]
fn every_prefix_is_judged_like_prost_judges_it() {
    let mut good = hand_built();
    good.extend(hand_built());
    for n in 0..=good.len() {
        let p = &good[..n];
        let ok = WriteRequest::decode(p).is_ok();
        let located = remote::proto::locate_decode_error(p);
        assert_eq!(
            ok,
            located.is_none(),
            "prefix {n}: prost ok={ok}, located={located:?}"
        );
    }
}
