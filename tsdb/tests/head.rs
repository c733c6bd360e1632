//! Head behaviour through the public API: append rules, transactions, querying, GC.

use exposition::{Labels, MatchOp, Matcher};
use tsdb::chunk::SampleIterator;
use tsdb::storage::{is_stale_nan, stale_nan};
use tsdb::{Appender, Error, Head, HeadOptions, Queryable, SelectHints, SeriesRef};

fn lbl(pairs: &[(&str, &str)]) -> Labels {
    Labels::from_pairs(pairs)
}

fn m(op: MatchOp, n: &str, v: &str) -> Matcher {
    Matcher::new(op, n, v).unwrap()
}

fn samples(head: &Head, ms: &[Matcher], mint: i64, maxt: i64) -> Vec<(String, Vec<(i64, u64)>)> {
    let q = head.querier(mint, maxt).unwrap();
    let mut out = vec![];
    for s in q.select(ms, &SelectHints::default()).unwrap() {
        let mut it = s.iter();
        let mut v = vec![];
        while it.next() {
            let (t, x) = it.at();
            v.push((t, x.to_bits()));
        }
        out.push((s.labels().to_string(), v));
    }
    out
}

#[test]
fn commit_makes_samples_visible_and_rollback_drops_them() {
    let mut head = Head::default();
    let a = lbl(&[("__name__", "up"), ("job", "a")]);
    let mut app = head.appender();
    let r = app.append(&a, 1000, 1.0).unwrap();
    app.append_ref(r, 2000, 2.0).unwrap();
    app.commit();
    let mut app = head.appender();
    app.append_ref(r, 3000, 3.0).unwrap();
    app.rollback();
    let got = samples(&head, &[Matcher::equal("job", "a")], i64::MIN, i64::MAX);
    assert_eq!(got.len(), 1);
    assert_eq!(
        got[0].1,
        vec![(1000, 1f64.to_bits()), (2000, 2f64.to_bits())]
    );
    // After rollback the same timestamp can be appended again.
    let mut app = head.appender();
    app.append_ref(r, 3000, 4.0).unwrap();
    drop(app); // dropping rolls back too
    let mut app = head.appender();
    app.append_ref(r, 3000, 5.0).unwrap();
    app.commit();
    let got = samples(&head, &[Matcher::equal("job", "a")], 2500, i64::MAX);
    assert_eq!(got[0].1, vec![(3000, 5f64.to_bits())]);
}

#[test]
fn bad_samples_are_rejected_and_the_batch_continues() {
    let mut head = Head::default();
    let a = lbl(&[("__name__", "x")]);
    let mut app = head.appender();
    let r = app.append(&a, 10_000, 1.0).unwrap();
    assert!(matches!(
        app.append_ref(r, 9_000, 1.0),
        Err(Error::OutOfOrderSample {
            t: 9_000,
            last_t: 10_000
        })
    ));
    assert!(matches!(
        app.append_ref(r, 10_000, 2.0),
        Err(Error::DuplicateSample { t: 10_000 })
    ));
    app.append_ref(r, 10_000, 1.0)
        .expect("same value is accepted");
    app.append_ref(r, 11_000, 3.0).unwrap();
    assert!(matches!(
        app.append_ref(SeriesRef(999), 1, 1.0),
        Err(Error::UnknownSeries(999))
    ));
    app.commit();
    let got = samples(
        &head,
        &[Matcher::equal("__name__", "x")],
        i64::MIN,
        i64::MAX,
    );
    assert_eq!(got[0].1.len(), 2);

    // Out of order against committed data, in a new transaction.
    let mut app = head.appender();
    assert!(matches!(
        app.append_ref(r, 10_500, 1.0),
        Err(Error::OutOfOrderSample { .. })
    ));
    // Too old: more than half a chunk range behind the newest sample.
    let range = HeadOptions::default().chunk_range_ms;
    assert!(matches!(
        app.append_ref(r, 11_000 - range, 1.0),
        Err(Error::OutOfBounds { .. })
    ));
    let e = app.append(&Labels::empty(), 20_000, 1.0).unwrap_err();
    assert!(matches!(e, Error::EmptyLabels), "{e}");
    assert!(e.is_sample_rejection());
    app.commit();
}

#[test]
fn invalid_label_sets_are_rejected() {
    let mut head = Head::default();
    let mut app = head.appender();
    let dup = Labels::from_sorted_unchecked(vec![]);
    assert!(app.append(&dup, 1, 1.0).is_err());
    // Empty values mean "no label": these two are the same series.
    let a = app.append(&lbl(&[("a", "1"), ("b", "")]), 1, 1.0).unwrap();
    let b = app.append(&lbl(&[("a", "1")]), 2, 1.0).unwrap();
    assert_eq!(a, b);
    app.commit();
    assert_eq!(head.num_series(), 1);
}

#[test]
fn stale_marker_survives_and_differs_from_nan() {
    let mut head = Head::default();
    let mut app = head.appender();
    let r = app.append(&lbl(&[("__name__", "s")]), 1, f64::NAN).unwrap();
    app.append_ref(r, 2, stale_nan()).unwrap();
    app.commit();
    let got = samples(&head, &[], i64::MIN, i64::MAX);
    assert_eq!(got[0].1[0].1, f64::NAN.to_bits());
    assert!(is_stale_nan(f64::from_bits(got[0].1[1].1)));
    assert!(!is_stale_nan(f64::NAN));
}

fn fixture() -> Head {
    let mut head = Head::default();
    let mut app = head.appender();
    for (i, (job, inst, extra)) in [
        ("api", "a", Some("x")),
        ("api", "b", None),
        ("web", "a", Some("y")),
        ("web", "c", None),
        ("db", "d", Some("")),
    ]
    .iter()
    .enumerate()
    {
        let mut p = vec![("__name__", "up"), ("job", *job), ("instance", *inst)];
        if let Some(e) = extra {
            p.push(("env", e));
        }
        let r = app.append(&lbl(&p), 1000, i as f64).unwrap();
        app.append_ref(r, 2000, i as f64 + 0.5).unwrap();
    }
    app.commit();
    head
}

fn names(head: &Head, ms: &[Matcher]) -> Vec<String> {
    samples(head, ms, i64::MIN, i64::MAX)
        .into_iter()
        .map(|(l, _)| l)
        .collect()
}

#[test]
fn matchers_follow_prometheus_semantics() {
    let h = fixture();
    use MatchOp::*;
    assert_eq!(names(&h, &[m(Equal, "job", "api")]).len(), 2);
    assert_eq!(names(&h, &[m(NotEqual, "job", "api")]).len(), 3);
    assert_eq!(names(&h, &[m(RegexMatch, "job", "api|db")]).len(), 3);
    assert_eq!(names(&h, &[m(RegexMatch, "job", "w.*")]).len(), 2);
    assert_eq!(names(&h, &[m(RegexMatch, "instance", ".*[bc]")]).len(), 2);
    assert_eq!(names(&h, &[m(RegexNoMatch, "job", "api|web")]).len(), 1);
    // Matching the empty string selects series without the label.
    assert_eq!(names(&h, &[m(Equal, "env", "")]).len(), 3);
    assert_eq!(names(&h, &[m(RegexNoMatch, "env", ".+")]).len(), 3);
    assert_eq!(names(&h, &[m(NotEqual, "env", "")]).len(), 2);
    assert_eq!(names(&h, &[m(RegexMatch, "env", "x|")]).len(), 4);
    assert_eq!(names(&h, &[m(NotEqual, "env", "x")]).len(), 4);
    assert_eq!(names(&h, &[m(Equal, "nope", "")]).len(), 5);
    assert_eq!(names(&h, &[m(Equal, "nope", "x")]).len(), 0);
    // Combination and label order of the output.
    let got = names(&h, &[m(Equal, "job", "web"), m(NotEqual, "instance", "c")]);
    assert_eq!(
        got,
        vec![r#"up{env="y", instance="a", job="web"}"#.to_string()]
    );
    let all = names(&h, &[m(RegexMatch, "__name__", ".+")]);
    let mut sorted = all.clone();
    sorted.sort();
    assert_eq!(all.len(), 5);
    let sets: Vec<Labels> = h
        .querier(i64::MIN, i64::MAX)
        .unwrap()
        .select(&[], &SelectHints::default())
        .unwrap()
        .map(|s| s.labels().clone())
        .collect();
    assert!(
        sets.windows(2).all(|w| w[0] < w[1]),
        "series come in label order"
    );
    assert_eq!(sets.len(), sorted.len());
}

#[test]
fn select_clips_to_range_and_hints() {
    let h = fixture();
    let got = samples(&h, &[Matcher::equal("job", "api")], 1500, 3000);
    assert!(got.iter().all(|(_, s)| s.len() == 1 && s[0].0 == 2000));
    let q = h.querier(0, 10_000).unwrap();
    let hints = SelectHints {
        start: 0,
        end: 1000,
    };
    let set = q.select(&[Matcher::equal("job", "api")], &hints).unwrap();
    for s in set {
        let mut it = s.iter();
        assert!(it.next());
        assert_eq!(it.at().0, 1000);
        assert!(!it.next());
    }
    // No samples in range: the series is left out.
    assert!(samples(&h, &[], 5000, 6000).is_empty());
}

#[test]
fn label_names_values_and_counts() {
    let h = fixture();
    let q = h.querier(i64::MIN, i64::MAX).unwrap();
    assert_eq!(
        q.label_names(&[]).unwrap(),
        vec!["__name__", "env", "instance", "job"]
    );
    assert_eq!(
        q.label_names(&[Matcher::equal("job", "api")]).unwrap(),
        vec!["__name__", "env", "instance", "job"]
    );
    assert_eq!(
        q.label_names(&[Matcher::equal("job", "db")]).unwrap(),
        vec!["__name__", "instance", "job"]
    );
    assert_eq!(
        q.label_values("job", &[]).unwrap(),
        vec!["api", "db", "web"]
    );
    assert_eq!(
        q.label_values("instance", &[Matcher::equal("job", "web")])
            .unwrap(),
        vec!["a", "c"]
    );
    assert_eq!(q.series_count(&[Matcher::equal("instance", "a")]), 2);
    assert_eq!(
        q.label_value_counts("instance"),
        vec![
            ("a".into(), 2),
            ("b".into(), 1),
            ("c".into(), 1),
            ("d".into(), 1)
        ]
    );
}

#[test]
fn chunks_cut_by_count_and_aligned_time() {
    let mut h = Head::default();
    let mut app = h.appender();
    let r = app.append(&lbl(&[("a", "b")]), 0, 0.0).unwrap();
    // 15 s interval over 4 h: 960 samples, chunk boundaries at 2 h.
    for i in 1..960 {
        app.append_ref(r, i * 15_000, i as f64).unwrap();
    }
    app.commit();
    let s = h.series(r).unwrap();
    assert_eq!(s.num_samples(), 960);
    let st = h.stats();
    assert_eq!(st.num_samples, 960);
    assert_eq!(st.max_time, 959 * 15_000);
    let mut it = s.iter(i64::MIN, i64::MAX);
    let mut n = 0;
    while it.next() {
        assert_eq!(it.at(), (n * 15_000, n as f64));
        n += 1;
    }
    assert_eq!(n, 960);
    // Seek across chunks.
    let mut it = s.iter(i64::MIN, i64::MAX);
    assert!(it.seek(7_200_000 + 1));
    assert_eq!(it.at().0, 7_215_000);
    assert!(it.seek(14_385_000));
    assert!(!it.seek(14_385_001));
}

#[test]
fn truncate_drops_old_chunks_and_collects_empty_series() {
    let mut h = Head::new(HeadOptions {
        chunk_range_ms: 1000,
        samples_per_chunk: 8,
        max_series: 0,
    });
    let mut app = h.appender();
    let old = app.append(&lbl(&[("s", "old")]), 0, 1.0).unwrap();
    app.append_ref(old, 100, 1.0).unwrap();
    let keep = app.append(&lbl(&[("s", "keep")]), 0, 1.0).unwrap();
    for t in 1..50 {
        app.append_ref(keep, t * 100, 1.0).unwrap();
    }
    app.commit();
    assert_eq!(h.num_series(), 2);
    assert_eq!(h.truncate(2000), 1);
    assert_eq!(h.num_series(), 1);
    assert!(h.series(old).is_none());
    assert!(h.lookup(&lbl(&[("s", "old")])).is_none());
    let q = h.querier(i64::MIN, i64::MAX).unwrap();
    assert_eq!(q.label_values("s", &[]).unwrap(), vec!["keep"]);
    let got = samples(&h, &[], i64::MIN, i64::MAX);
    assert_eq!(
        got[0].1.first().unwrap().0,
        2000,
        "querier clips at truncation"
    );
    // Re-creating the series gets a new ref.
    let mut app = h.appender();
    assert!(matches!(
        app.append(&lbl(&[("s", "old")]), 1000, 1.0),
        Err(Error::OutOfBounds { .. })
    ));
    let again = app.append(&lbl(&[("s", "old")]), 5000, 1.0).unwrap();
    assert_ne!(again, old);
    app.commit();
}

#[test]
fn appender_trait_works_generically() {
    fn write<A: Appender>(mut a: A, l: &Labels) -> SeriesRef {
        let r = a.append(None, l, 1, 1.0).unwrap();
        assert_eq!(a.append(Some(r), l, 2, 2.0).unwrap(), r);
        a.commit().unwrap();
        r
    }
    let mut h = Head::default();
    let l = lbl(&[("a", "b")]);
    let r = write(h.appender(), &l);
    assert_eq!(h.series(r).unwrap().num_samples(), 2);
}

#[test]
fn select_order_mixes_ranked_and_new_series() {
    let mut h = Head::default();
    let mut app = h.appender();
    for i in (0..50).step_by(2) {
        app.append(&lbl(&[("a", &format!("{i:03}"))]), 1, 1.0)
            .unwrap();
    }
    app.commit();
    h.rebuild_order();
    let mut app = h.appender();
    for i in (1..50).step_by(2) {
        app.append(&lbl(&[("a", &format!("{i:03}"))]), 1, 1.0)
            .unwrap();
    }
    app.append(&lbl(&[("a", "000"), ("b", "x")]), 1, 1.0)
        .unwrap();
    app.commit();
    let sets: Vec<Labels> = h
        .querier(i64::MIN, i64::MAX)
        .unwrap()
        .select(&[], &SelectHints::default())
        .unwrap()
        .map(|s| s.labels().clone())
        .collect();
    assert_eq!(sets.len(), 51);
    assert!(sets.windows(2).all(|w| w[0] < w[1]), "{sets:?}");
    // Truncation rebuilds the order; still sorted.
    h.truncate(0);
    let sets2: Vec<Labels> = h
        .querier(i64::MIN, i64::MAX)
        .unwrap()
        .select(
            &[m(MatchOp::RegexMatch, "a", "0[0-4].")],
            &SelectHints::default(),
        )
        .unwrap()
        .map(|s| s.labels().clone())
        .collect();
    assert_eq!(sets2.len(), 51);
    assert!(sets2.windows(2).all(|w| w[0] < w[1]));
}

#[test]
fn active_series_cap_refuses_new_series_only() {
    let mut h = Head::new(HeadOptions {
        max_series: 2,
        ..HeadOptions::default()
    });
    let mut app = h.appender();
    let a = app.append(&lbl(&[("s", "a")]), 0, 1.0).unwrap();
    app.append(&lbl(&[("s", "b")]), 0, 1.0).unwrap();
    let err = app.append(&lbl(&[("s", "c")]), 0, 1.0).unwrap_err();
    assert!(matches!(err, Error::TooManySeries { limit: 2 }), "{err:?}");
    assert!(err.is_sample_rejection());
    assert!(err.to_string().contains("limit of 2"), "{err}");
    // Existing series keep ingesting, by labels and by ref.
    app.append(&lbl(&[("s", "a")]), 1000, 2.0).unwrap();
    app.append_ref(a, 2000, 3.0).unwrap();
    app.commit();
    assert_eq!(h.num_series(), 2);

    // Series collected by truncation make room again.
    let mut app = h.appender();
    app.append(&lbl(&[("s", "a")]), 10_000_000, 4.0).unwrap();
    app.commit();
    assert_eq!(h.truncate(5_000_000), 1, "series b has nothing left");
    let mut app = h.appender();
    app.append(&lbl(&[("s", "c")]), 10_000_000, 1.0).unwrap();
    app.commit();
    assert_eq!(h.num_series(), 2);
}
