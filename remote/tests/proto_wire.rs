//! The hand-written prost structs against hand-built protobuf bytes: every field number
//! and wire type of remote-write 1.0 (see proto/*.proto).

use prost::Message;
use remote::proto::{
    BucketSpan, Exemplar, Histogram, HistogramCount, HistogramZeroCount, Label, MetricMetadata,
    ResetHint, Sample, TimeSeries, WriteRequest,
};

fn f64le(x: f64) -> [u8; 8] {
    x.to_le_bytes()
}

/// WriteRequest{ timeseries: [TimeSeries{ labels: [a="b"], samples: [{1.5, 7}],
/// exemplars: [{[], 2.0, 3}], histograms: [{count_int: 1}] }], metadata: [{1, "m", "h", "u"}] }
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
            histograms: vec![Histogram {
                count: Some(HistogramCount::CountInt(1)),
                ..Histogram::default()
            }],
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
        "uint64 count_int                  = 1;",
        "double count_float                = 2;",
        "double sum                          = 3;",
        "sint32 schema                       = 4;",
        "double zero_threshold               = 5;",
        "uint64 zero_count_int             = 6;",
        "double zero_count_float           = 7;",
        "repeated BucketSpan negative_spans  = 8;",
        "repeated sint64 negative_deltas     = 9;",
        "repeated double negative_counts     = 10;",
        "repeated BucketSpan positive_spans  = 11;",
        "repeated sint64 positive_deltas     = 12;",
        "repeated double positive_counts     = 13;",
        "ResetHint reset_hint                = 14;",
        "int64 timestamp                     = 15;",
        "repeated double custom_values       = 16;",
        "sint32 offset = 1;",
        "uint32 length = 2;",
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

/// An integer histogram message with every integer-kind field set, built by hand:
/// count_int 1 (varint), sum 3 (fixed64), schema 4 (zigzag), zero_threshold 5, zero_count_int
/// 6, negative_spans 8, negative_deltas 9 (packed zigzag), positive_spans 11,
/// positive_deltas 12, reset_hint 14, timestamp 15, custom_values 16 (packed fixed64).
fn int_histogram_bytes() -> Vec<u8> {
    let mut b = vec![0x08, 0x07]; // count_int = 7
    b.push(0x19); // sum (3, fixed64)
    b.extend(f64le(12.5));
    b.extend([0x20, 0x03]); // schema = -2 (zigzag 3)
    b.push(0x29); // zero_threshold (5, fixed64)
    b.extend(f64le(0.001));
    b.extend([0x30, 0x02]); // zero_count_int = 2
                            // negative_spans (8): {offset -1 (zigzag 1), length 1}
    b.extend([0x42, 0x04, 0x08, 0x01, 0x10, 0x01]);
    b.extend([0x4a, 0x01, 0x02]); // negative_deltas (9, packed): [1]
                                  // positive_spans (11): {offset 0, length 2}, {offset 3 (zigzag 6), length 1}
    b.extend([0x5a, 0x02, 0x10, 0x02]);
    b.extend([0x5a, 0x04, 0x08, 0x06, 0x10, 0x01]);
    b.extend([0x62, 0x03, 0x02, 0x01, 0x03]); // positive_deltas (12): [1, -1, -2]
    b.extend([0x70, 0x02]); // reset_hint = NO
    b.extend([0x78, 0xe8, 0x07]); // timestamp = 1000
    b.extend([0x82, 0x01, 0x08]); // custom_values (16, packed): [4.0]
    b.extend(f64le(4.0));
    b
}

fn int_histogram() -> Histogram {
    Histogram {
        count: Some(HistogramCount::CountInt(7)),
        sum: 12.5,
        schema: -2,
        zero_threshold: 0.001,
        zero_count: Some(HistogramZeroCount::ZeroCountInt(2)),
        negative_spans: vec![BucketSpan {
            offset: -1,
            length: 1,
        }],
        negative_deltas: vec![1],
        negative_counts: vec![],
        positive_spans: vec![
            BucketSpan {
                offset: 0,
                length: 2,
            },
            BucketSpan {
                offset: 3,
                length: 1,
            },
        ],
        positive_deltas: vec![1, -1, -2],
        positive_counts: vec![],
        reset_hint: ResetHint::No as i32,
        timestamp: 1000,
        custom_values: vec![4.0],
    }
}

/// The float-kind fields: count_float 2, zero_count_float 7, negative_counts 10,
/// positive_counts 13 (packed fixed64).
fn float_histogram_bytes() -> Vec<u8> {
    let mut b = vec![0x11]; // count_float (2, fixed64)
    b.extend(f64le(3.5));
    b.push(0x39); // zero_count_float (7, fixed64)
    b.extend(f64le(0.5));
    b.extend([0x42, 0x02, 0x10, 0x01]); // negative_spans: {0, 1}
    b.extend([0x52, 0x08]); // negative_counts (10)
    b.extend(f64le(1.0));
    b.extend([0x5a, 0x02, 0x10, 0x01]); // positive_spans: {0, 1}
    b.extend([0x6a, 0x08]); // positive_counts (13)
    b.extend(f64le(2.0));
    b.extend([0x70, 0x03]); // reset_hint = GAUGE
    b
}

fn float_histogram() -> Histogram {
    let span = BucketSpan {
        offset: 0,
        length: 1,
    };
    Histogram {
        count: Some(HistogramCount::CountFloat(3.5)),
        zero_count: Some(HistogramZeroCount::ZeroCountFloat(0.5)),
        negative_spans: vec![span],
        negative_counts: vec![1.0],
        positive_spans: vec![span],
        positive_counts: vec![2.0],
        reset_hint: ResetHint::Gauge as i32,
        ..Histogram::default()
    }
}

#[test]
fn histogram_fields_decode_from_hand_built_bytes() {
    assert_eq!(
        Histogram::decode(int_histogram_bytes().as_slice()).unwrap(),
        int_histogram()
    );
    assert_eq!(
        Histogram::decode(float_histogram_bytes().as_slice()).unwrap(),
        float_histogram()
    );
}

#[test]
fn histogram_fields_encode_to_the_hand_built_bytes() {
    assert_eq!(int_histogram().encode_to_vec(), int_histogram_bytes());
    assert_eq!(float_histogram().encode_to_vec(), float_histogram_bytes());
}

#[test]
fn unpacked_repeated_histogram_fields_are_accepted() {
    // positive_deltas as two unpacked varints, positive_counts as unpacked fixed64: proto3
    // parsers must accept both encodings of a repeated scalar.
    let mut b = vec![0x60, 0x02, 0x60, 0x01];
    b.push(0x69);
    b.extend(f64le(1.5));
    let h = Histogram::decode(b.as_slice()).unwrap();
    assert_eq!(h.positive_deltas, vec![1, -1]);
    assert_eq!(h.positive_counts, vec![1.5]);
    assert_eq!(
        remote::proto::locate_decode_error(&wrap_histogram(&b)),
        None
    );
}

/// `b` as the only histogram of the only series of a WriteRequest.
fn wrap_histogram(b: &[u8]) -> Vec<u8> {
    let mut ts = vec![0x22, b.len() as u8];
    ts.extend(b);
    let mut wr = vec![0x0a, ts.len() as u8];
    wr.extend(ts);
    wr
}

#[test]
fn histogram_decode_errors_are_located_like_prost_judges_them() {
    let good = wrap_histogram(&int_histogram_bytes());
    assert_eq!(remote::proto::locate_decode_error(&good), None);
    // Packed doubles whose length is not a multiple of 8 (custom_values, 3 bytes).
    let bad = wrap_histogram(&[0x82, 0x01, 0x03, 0, 0, 0]);
    assert!(WriteRequest::decode(bad.as_slice()).is_err());
    assert_eq!(remote::proto::locate_decode_error(&bad), Some(4));
    // A packed varint list ending inside a varint (positive_deltas).
    let bad = wrap_histogram(&[0x62, 0x01, 0x80]);
    assert!(WriteRequest::decode(bad.as_slice()).is_err());
    assert_eq!(remote::proto::locate_decode_error(&bad), Some(4));
    // schema (sint32) sent as fixed64.
    let mut h = vec![0x21];
    h.extend(f64le(1.0));
    let bad = wrap_histogram(&h);
    assert!(WriteRequest::decode(bad.as_slice()).is_err());
    assert_eq!(remote::proto::locate_decode_error(&bad), Some(4));
    // Every prefix of a request carrying both kinds.
    let mut both = good.clone();
    both.extend(wrap_histogram(&float_histogram_bytes()));
    for n in 0..=both.len() {
        let p = &both[..n];
        assert_eq!(
            WriteRequest::decode(p).is_ok(),
            remote::proto::locate_decode_error(p).is_none(),
            "prefix {n}"
        );
    }
}
