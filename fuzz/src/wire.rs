//! Target over the `remote` crate: the remote-write receiver.

use remote::{decode_request, encode_request, receive};

/// A snappy block holding `data` as one literal.
fn snappy_literal(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + 10);
    let mut n = data.len() as u64;
    while n >= 0x80 {
        out.push(n as u8 | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
    if !data.is_empty() {
        let m = data.len() - 1;
        if m < 60 {
            out.push((m as u8) << 2);
        } else {
            let bytes = (m as u32).to_le_bytes();
            let k = if m < 1 << 8 {
                1
            } else if m < 1 << 16 {
                2
            } else if m < 1 << 24 {
                3
            } else {
                4
            };
            out.push(((59 + k) as u8) << 2);
            out.extend_from_slice(&bytes[..k]);
        }
        out.extend_from_slice(data);
    }
    out
}

fn check(body: &[u8]) {
    let mut db = tsdb::Db::in_memory(tsdb::HeadOptions::default());
    let _ = receive(body, db.appender());
    if let Ok(req) = decode_request(body) {
        let once = encode_request(&req).expect("a decoded request re-encodes");
        let again = decode_request(&once).expect("our own body decodes");
        assert_eq!(encode_request(&again).expect("re-encodes"), once);
    }
}

/// Arbitrary bytes as a remote-write body (a snappy block) and, wrapped in a valid snappy
/// literal, as a raw protobuf: errors are fine, panics are not, and whatever decodes
/// re-encodes to a stable body.
pub fn remote_write_decode(data: &[u8]) {
    check(data);
    check(&snappy_literal(data));
}
