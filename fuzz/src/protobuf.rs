//! Target over the delimited protobuf exposition reader (`exposition::protobuf`).

use exposition::protobuf::{self, proto, DecodeOptions};

/// Whether some family has two metrics with the same label set (empty values ignored);
/// `to_messages` documents its round trip for scrapes without such duplicates.
fn has_duplicate_series(fams: &[proto::MetricFamily]) -> bool {
    fams.iter().any(|f| {
        let mut seen = std::collections::HashSet::new();
        !f.metric.iter().all(|m| {
            let mut key: Vec<(&str, &str)> = m
                .label
                .iter()
                .filter(|l| !l.value.is_empty())
                .map(|l| (l.name.as_str(), l.value.as_str()))
                .collect();
            key.sort_unstable();
            seen.insert(key)
        })
    })
}

/// A debug rendering in which `-0.0` and `0.0` are the same: proto3 encoding leaves out
/// zero scalars, and `-0.0 == 0.0`, so a negative zero on the wire reads back as `0.0`
/// once re-encoded (Prometheus's proto3 reader behaves the same).
fn canonical(debug: String) -> String {
    debug.replace("-0.0", "0.0")
}

/// Decodes any bytes as a delimited protobuf body without panicking; when they decode,
/// re-encoding the messages decodes to the same messages, and re-encoding the decoded
/// scrape (`to_messages`) decodes to the same scrape, with and without classic buckets
/// kept. Errors must point inside the input.
pub fn protobuf_parse(data: &[u8]) {
    let messages = match protobuf::decode_messages(data) {
        Ok(m) => m,
        Err(e) => {
            assert!(e.offset <= data.len(), "offset {} past the input", e.offset);
            let again = protobuf::decode(data, &DecodeOptions::default());
            assert!(again.is_err(), "decode accepted what the reader refused");
            return;
        }
    };
    let mut bytes = Vec::new();
    protobuf::encode_delimited(&messages, &mut bytes);
    let back = protobuf::decode_messages(&bytes).expect("re-encoded messages decode");
    assert_eq!(
        canonical(format!("{back:?}")),
        canonical(format!("{messages:?}")),
        "message round trip"
    );

    for keep_classic_histograms in [false, true] {
        let opts = DecodeOptions {
            keep_classic_histograms,
            ..DecodeOptions::default()
        };
        let scrape = match protobuf::decode(data, &opts) {
            Ok(s) => s,
            Err(e) => {
                assert!(e.offset <= data.len(), "offset {} past the input", e.offset);
                continue;
            }
        };
        if has_duplicate_series(&messages) {
            continue;
        }
        let mut bytes = Vec::new();
        protobuf::encode_delimited(&protobuf::to_messages(&scrape), &mut bytes);
        let again = protobuf::decode(&bytes, &opts).expect("re-encoded scrape decodes");
        assert_eq!(
            canonical(format!("{again:?}")),
            canonical(format!("{scrape:?}")),
            "scrape round trip"
        );
    }
}
