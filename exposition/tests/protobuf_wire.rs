//! Pins the wire contract of `exposition::protobuf::proto`: hand-assembled bytes, built
//! from the field numbers and wire types of `proto/metrics.proto`, must decode into the
//! expected fields. A wrong tag or type in a prost attribute makes these fail.

use exposition::protobuf::{decode_messages, proto, reader::DelimitedReader};

/// A tiny protobuf writer for the tests.
#[derive(Default)]
struct W(Vec<u8>);

impl W {
    fn varint(&mut self, mut v: u64) -> &mut Self {
        while v >= 0x80 {
            self.0.push((v as u8) | 0x80);
            v >>= 7;
        }
        self.0.push(v as u8);
        self
    }
    fn key(&mut self, tag: u64, wire: u64) -> &mut Self {
        self.varint(tag << 3 | wire)
    }
    fn uint(&mut self, tag: u64, v: u64) -> &mut Self {
        self.key(tag, 0).varint(v)
    }
    fn sint(&mut self, tag: u64, v: i64) -> &mut Self {
        self.key(tag, 0).varint(((v << 1) ^ (v >> 63)) as u64)
    }
    fn double(&mut self, tag: u64, v: f64) -> &mut Self {
        self.key(tag, 1);
        self.0.extend_from_slice(&v.to_le_bytes());
        self
    }
    fn bytes(&mut self, tag: u64, b: &[u8]) -> &mut Self {
        self.key(tag, 2).varint(b.len() as u64);
        self.0.extend_from_slice(b);
        self
    }
    fn msg(&mut self, tag: u64, f: impl FnOnce(&mut W)) -> &mut Self {
        let mut inner = W::default();
        f(&mut inner);
        self.bytes(tag, &inner.0)
    }
    fn delimited(self) -> Vec<u8> {
        let mut out = W::default();
        out.varint(self.0.len() as u64);
        out.0.extend_from_slice(&self.0);
        out.0
    }
}

fn label(w: &mut W, tag: u64, name: &str, value: &str) {
    w.msg(tag, |l| {
        l.bytes(1, name.as_bytes()).bytes(2, value.as_bytes());
    });
}

fn ts(w: &mut W, tag: u64, seconds: u64, nanos: u64) {
    w.msg(tag, |t| {
        t.uint(1, seconds).uint(2, nanos);
    });
}

fn exemplar(w: &mut W, tag: u64) {
    w.msg(tag, |e| {
        label(e, 1, "trace_id", "abc");
        e.double(2, 0.5);
        ts(e, 3, 1_700_000_000, 250_000_000);
    });
}

fn one(bytes: Vec<u8>) -> proto::MetricFamily {
    let mut fams = decode_messages(&bytes).expect("decodes");
    assert_eq!(fams.len(), 1);
    fams.remove(0)
}

#[test]
fn family_metric_and_simple_values() {
    let mut w = W::default();
    w.bytes(1, b"jobs_total")
        .bytes(2, b"help text")
        .uint(3, 0)
        .bytes(5, b"");
    w.msg(4, |m| {
        label(m, 1, "queue", "a");
        label(m, 1, "zone", "eu");
        m.msg(3, |c| {
            c.double(1, 42.5);
            exemplar(c, 2);
            ts(c, 3, 10, 5_000_000);
        });
        m.uint(6, 1234);
    });
    w.msg(4, |m| {
        m.msg(2, |g| {
            g.double(1, -1.0);
        });
        m.msg(5, |u| {
            u.double(1, 7.0);
        });
    });
    let f = one(w.delimited());
    assert_eq!(f.name, "jobs_total");
    assert_eq!(f.help, "help text");
    assert_eq!(f.r#type, proto::MetricType::Counter as i32);
    assert_eq!(f.metric.len(), 2);
    let m = &f.metric[0];
    assert_eq!(m.label[1].name, "zone");
    assert_eq!(m.label[1].value, "eu");
    assert_eq!(m.timestamp_ms, 1234);
    let c = m.counter.as_ref().unwrap();
    assert_eq!(c.value, 42.5);
    let e = c.exemplar.as_ref().unwrap();
    assert_eq!((e.label[0].name.as_str(), e.value), ("trace_id", 0.5));
    assert_eq!(e.timestamp.unwrap().to_millis(), 1_700_000_000_250);
    assert_eq!(c.created_timestamp.unwrap().to_millis(), 10_005);
    assert_eq!(f.metric[1].gauge.unwrap().value, -1.0);
    assert_eq!(f.metric[1].untyped.unwrap().value, 7.0);
}

#[test]
fn summary_fields() {
    let mut w = W::default();
    w.bytes(1, b"rpc").uint(3, 2).bytes(5, b"");
    w.msg(4, |m| {
        m.msg(4, |s| {
            s.uint(1, 9).double(2, 3.5);
            s.msg(3, |q| {
                q.double(1, 0.99).double(2, 1.25);
            });
            ts(s, 4, 3, 0);
        });
    });
    let f = one(w.delimited());
    assert_eq!(f.r#type, proto::MetricType::Summary as i32);
    let s = f.metric[0].summary.as_ref().unwrap();
    assert_eq!((s.sample_count, s.sample_sum), (9, 3.5));
    assert_eq!(
        s.quantile[0],
        proto::Quantile {
            quantile: 0.99,
            value: 1.25
        }
    );
    assert_eq!(s.created_timestamp.unwrap().to_millis(), 3000);
}

fn histogram_bytes(packed: bool) -> Vec<u8> {
    let mut w = W::default();
    w.bytes(1, b"lat_seconds").uint(3, 4).bytes(5, b"seconds");
    w.msg(4, |m| {
        m.msg(7, |h| {
            h.uint(1, 11).double(4, 11.5).double(2, 99.0);
            h.msg(3, |b| {
                b.uint(1, 4).double(4, 4.5).double(2, 0.25);
                exemplar(b, 3);
            });
            ts(h, 15, 20, 0);
            h.sint(5, -2).double(6, 0.001).uint(7, 3).double(8, 3.5);
            h.msg(9, |s| {
                s.sint(1, -3).uint(2, 2);
            });
            h.msg(12, |s| {
                s.sint(1, 5).uint(2, 1);
            });
            if packed {
                let mut deltas = W::default();
                deltas.varint(3).varint(2); // zigzag -2, 1
                h.bytes(10, &deltas.0);
                let mut counts = Vec::new();
                counts.extend_from_slice(&1.5f64.to_le_bytes());
                counts.extend_from_slice(&2.5f64.to_le_bytes());
                h.bytes(11, &counts);
            } else {
                h.sint(10, -2).sint(10, 1);
                h.double(11, 1.5).double(11, 2.5);
            }
            h.sint(13, 7);
            h.double(14, 8.0);
            exemplar(h, 16);
        });
    });
    w.delimited()
}

#[test]
fn histogram_fields_packed_and_unpacked() {
    for packed in [true, false] {
        let f = one(histogram_bytes(packed));
        assert_eq!(f.r#type, proto::MetricType::Histogram as i32);
        assert_eq!(f.unit, "seconds");
        let h = f.metric[0].histogram.as_ref().unwrap();
        assert_eq!(
            (h.sample_count, h.sample_count_float, h.sample_sum),
            (11, 11.5, 99.0)
        );
        let b = &h.bucket[0];
        assert_eq!(
            (b.cumulative_count, b.cumulative_count_float, b.upper_bound),
            (4, 4.5, 0.25)
        );
        assert!(b.exemplar.is_some());
        assert_eq!(h.created_timestamp.unwrap().seconds, 20);
        assert_eq!(h.schema, -2);
        assert_eq!(
            (h.zero_threshold, h.zero_count, h.zero_count_float),
            (0.001, 3, 3.5)
        );
        assert_eq!(
            h.negative_span,
            vec![proto::BucketSpan {
                offset: -3,
                length: 2
            }]
        );
        assert_eq!(
            h.positive_span,
            vec![proto::BucketSpan {
                offset: 5,
                length: 1
            }]
        );
        assert_eq!(h.negative_delta, vec![-2, 1], "packed={packed}");
        assert_eq!(h.negative_count, vec![1.5, 2.5], "packed={packed}");
        assert_eq!(h.positive_delta, vec![7]);
        assert_eq!(h.positive_count, vec![8.0]);
        assert_eq!(h.exemplars.len(), 1);
    }
}

#[test]
fn unknown_fields_are_skipped() {
    let mut w = W::default();
    w.bytes(1, b"up").uint(3, 1);
    w.uint(99, 5).double(98, 1.0).bytes(97, b"xyz");
    // An unknown group (wire types 3/4) with a varint inside.
    w.key(96, 3).uint(1, 1).key(96, 4);
    w.msg(4, |m| {
        m.msg(2, |g| {
            g.double(1, 1.0);
        });
    });
    let f = one(w.delimited());
    assert_eq!(f.name, "up");
    assert_eq!(f.metric[0].gauge.unwrap().value, 1.0);
}

#[test]
fn message_offsets_are_reported() {
    let mut body = Vec::new();
    let mut a = W::default();
    a.bytes(1, b"a");
    body.extend(a.delimited());
    let mut b = W::default();
    b.bytes(1, b"b");
    body.extend(b.delimited());
    let got: Vec<(usize, String)> = DelimitedReader::new(&body)
        .map(|r| r.map(|(o, f)| (o, f.name)).unwrap())
        .collect();
    assert_eq!(got, vec![(0, "a".to_string()), (4, "b".to_string())]);
}
