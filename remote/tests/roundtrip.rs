//! Property tests: samples pushed into the queue come out of the request bodies unchanged
//! (bit for bit, per series, in order), and receiving those bodies into a tsdb stores
//! exactly them.

mod common;

use std::collections::BTreeMap;

use exposition::Labels;
use proptest::prelude::*;
use remote::{decode_request, receive, QueueConfig, WriteQueue};
use tsdb::{Db, HeadOptions};

fn labels_for(i: u8, value: &str) -> Labels {
    Labels::from_pairs(&[("__name__", format!("m{}", i % 3).as_str()), ("k", value)])
}

/// Series: (name index, label value); samples: (series index, t, value bits); batch size.
type Input = (Vec<(u8, String)>, Vec<(usize, i64, u64)>, usize);

fn input() -> impl Strategy<Value = Input> {
    (
        prop::collection::vec((0u8..3, "[a-zA-Z0-9 _é\"\\\\]{1,8}"), 1..6),
        prop::collection::vec((0usize..6, any::<i64>(), any::<u64>()), 0..200),
        1usize..50,
    )
}

fn drain(q: &mut WriteQueue) -> Vec<Vec<u8>> {
    let mut bodies = Vec::new();
    q.flush();
    while let Some(r) = q.next_request(0) {
        bodies.push(r.body);
        q.on_response(200, None, 0);
        q.flush();
    }
    bodies
}

proptest! {
    #[test]
    fn encode_decode_gives_the_same_samples((series, samples, max) in input()) {
        let series: Vec<Labels> = series.iter().map(|(i, v)| labels_for(*i, v)).collect();
        let mut q = WriteQueue::new(QueueConfig {
            max_samples_per_send: max,
            capacity: 1_000,
            ..QueueConfig::default()
        });
        let mut want: BTreeMap<Labels, Vec<(i64, u64)>> = BTreeMap::new();
        for &(s, t, v) in &samples {
            let l = &series[s % series.len()];
            q.push(l, t, f64::from_bits(v)).unwrap();
            want.entry(l.clone()).or_default().push((t, v));
        }
        let mut got: BTreeMap<Labels, Vec<(i64, u64)>> = BTreeMap::new();
        let bodies = drain(&mut q);
        prop_assert_eq!(bodies.len(), samples.len().div_ceil(max));
        for b in bodies {
            for ts in decode_request(&b).unwrap().timeseries {
                let pairs: Vec<(String, String)> =
                    ts.labels.iter().map(|l| (l.name.clone(), l.value.clone())).collect();
                let l = Labels::from_pairs(&pairs);
                prop_assert_eq!(l.len(), ts.labels.len());
                let e = got.entry(l).or_default();
                e.extend(ts.samples.iter().map(|s| (s.timestamp, s.value.to_bits())));
            }
        }
        prop_assert_eq!(got, want);
    }

    #[test]
    fn receiving_stores_exactly_the_sent_samples((series, samples, max) in input()) {
        let series: Vec<Labels> = series.iter().map(|(i, v)| labels_for(*i, v)).collect();
        let mut q = WriteQueue::new(QueueConfig {
            max_samples_per_send: max,
            capacity: 1_000,
            ..QueueConfig::default()
        });
        // Strictly increasing timestamps per series, any value bits.
        let mut next_t: BTreeMap<Labels, i64> = BTreeMap::new();
        let mut want: BTreeMap<Labels, Vec<(i64, u64)>> = BTreeMap::new();
        for &(s, t, v) in &samples {
            let l = &series[s % series.len()];
            let nt = next_t.entry(l.clone()).or_insert(0);
            *nt += 1 + (t.unsigned_abs() % 1000) as i64;
            q.push(l, *nt, f64::from_bits(v)).unwrap();
            want.entry(l.clone()).or_default().push((*nt, v));
        }
        let mut db = Db::in_memory(HeadOptions::default());
        for b in drain(&mut q) {
            let rep = receive(&b, db.appender()).unwrap();
            prop_assert_eq!(rep.http_status(), 204, "{}", rep.error_text());
        }
        let got: BTreeMap<Labels, Vec<(i64, u64)>> = common::dump(&db).into_iter().collect();
        prop_assert_eq!(got, want);
    }
}
