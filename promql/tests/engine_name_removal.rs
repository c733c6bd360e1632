//! Name removal as a Prometheus server does it by default (no delayed removal): series
//! that a function or operator leaves with the same labels fail the query at that node,
//! while the promqltest runner's delayed mode only looks at the final result. Found by
//! differential testing against a real Prometheus (examples' `promql-diff`).

use exposition::Labels;
use promql::engine::{Engine, EngineError, EngineOptions};
use promql::parse;
use promql::storage::MemStorage;
use promql::value::Value;

fn store() -> MemStorage {
    let mut s = MemStorage::new();
    for name in ["lat_sum", "lat_count"] {
        let l = Labels::from_pairs(&[("__name__", name), ("job", "a")]);
        for k in 0..10 {
            s.append(&l, k * 15_000, k as f64).unwrap();
        }
    }
    s
}

#[test]
fn default_engine_drops_names_eagerly_like_prometheus() {
    assert!(!EngineOptions::default().delayed_name_removal);
    let s = store();
    let e = parse(r#"round({__name__=~"lat_.*"})"#).unwrap();
    let err = Engine::default().instant_query(&s, &e, 60_000).unwrap_err();
    assert!(matches!(err, EngineError::DuplicateLabelset), "{err}");
    let err = Engine::default()
        .range_query(&s, &e, 0, 60_000, 15_000)
        .unwrap_err();
    assert!(matches!(err, EngineError::DuplicateLabelset), "{err}");
    // An operator in between does not rescue it: the error comes from round().
    let e = parse(r#"-1 <= bool hour({__name__=~"lat_.*"})"#).unwrap();
    assert!(Engine::default().instant_query(&s, &e, 60_000).is_err());
}

#[test]
fn names_kept_for_later_are_fine_when_the_result_is_unique() {
    let s = store();
    // sum over the colliding series is unique again: both modes answer.
    let e = parse(r#"sum(round({__name__=~"lat_.*"}))"#).unwrap();
    for delayed in [false, true] {
        let mut o = EngineOptions::default();
        o.delayed_name_removal = delayed;
        let r = Engine::new(o).instant_query(&s, &e, 60_000);
        if delayed {
            let Value::Vector(v) = r.unwrap().value else {
                panic!("vector")
            };
            assert_eq!(v.len(), 1);
        } else {
            // Without delayed removal round() already collides, as in Prometheus.
            assert!(r.is_err());
        }
    }
}

#[test]
fn a_series_surviving_alone_keeps_working() {
    let s = store();
    let e = parse(r#"round(lat_sum) + 1"#).unwrap();
    let r = Engine::default().instant_query(&s, &e, 60_000).unwrap();
    let Value::Vector(v) = r.value else {
        panic!("vector")
    };
    assert_eq!(v.len(), 1);
    assert!(v[0].metric.metric_name().is_none());
}
