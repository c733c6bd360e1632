//! The engine over a real database: [`Storage`] for [`tsdb::Db`] and [`tsdb::Head`].
//!
//! Selecting goes through tsdb's postings index and each selected series streams its
//! samples straight out of the compressed chunks through tsdb's iterator: nothing is
//! copied per series beyond the iterator itself.
//!
//! A query over a [`tsdb::Db`] spans its persisted blocks and its head, merged by series
//! and by time with duplicates removed and deletions applied
//! ([`tsdb::Db::db_querier`]). When no block overlaps the range and nothing was deleted,
//! it reads the head directly (the fast path, no merge).
//!
//! ```
//! use exposition::Labels;
//! use promql::engine::Engine;
//! use promql::value::Value;
//! use tsdb::{Db, HeadOptions};
//!
//! let mut db = Db::in_memory(HeadOptions::default());
//! let mut app = db.appender();
//! let l = Labels::from_pairs(&[("__name__", "up"), ("job", "node")]);
//! app.append(&l, 10_000, 1.0).unwrap();
//! app.commit().unwrap();
//! let expr = promql::parse("up == 1").unwrap();
//! let res = Engine::default().instant_query(&db, &expr, 20_000).unwrap();
//! let Value::Vector(v) = res.value else { panic!() };
//! assert_eq!(v.len(), 1);
//! ```

use std::sync::Arc;

use exposition::histogram::FloatHistogram;
use exposition::{Labels, Matcher};
use tsdb::chunk::{SampleIterator as _, ValueType};
use tsdb::head::{HeadSampleIter, SeriesIter};

use crate::storage::{
    Querier, SampleIterator, SampleValue, SelectHints, Storage, StorageError, StorageSeries,
};

fn backend(e: tsdb::Error) -> StorageError {
    StorageError::Backend(Box::new(e))
}

impl Storage for tsdb::Head {
    fn querier(&self, mint: i64, maxt: i64) -> Result<Box<dyn Querier + '_>, StorageError> {
        let q = tsdb::Queryable::querier(self, mint, maxt).map_err(backend)?;
        Ok(Box::new(TsdbQuerier { q }))
    }
}

impl Storage for tsdb::Db {
    fn querier(&self, mint: i64, maxt: i64) -> Result<Box<dyn Querier + '_>, StorageError> {
        if self.head_only(mint, maxt) {
            let q = tsdb::Queryable::querier(self, mint, maxt).map_err(backend)?;
            return Ok(Box::new(TsdbQuerier { q }));
        }
        Ok(Box::new(MergedQuerier {
            q: self.db_querier(mint, maxt),
        }))
    }
}

/// A promql querier over the head and blocks of a [`tsdb::Db`].
struct MergedQuerier<'a> {
    q: tsdb::DbQuerier<'a>,
}

impl Querier for MergedQuerier<'_> {
    fn select(
        &self,
        hints: &SelectHints,
        matchers: &[Matcher],
    ) -> Result<Vec<Box<dyn StorageSeries + '_>>, StorageError> {
        let _ = hints;
        let set = self
            .q
            .select(matchers, &tsdb::SelectHints::default())
            .map_err(backend)?;
        Ok(set
            .map(|s| Box::new(MergedSeries { s }) as Box<dyn StorageSeries + '_>)
            .collect())
    }

    fn label_names(&self, matchers: &[Matcher]) -> Result<Vec<String>, StorageError> {
        self.q.label_names(matchers).map_err(backend)
    }

    fn label_values(&self, name: &str, matchers: &[Matcher]) -> Result<Vec<String>, StorageError> {
        self.q.label_values(name, matchers).map_err(backend)
    }
}

struct MergedSeries<'a> {
    s: tsdb::MergedSeries<'a>,
}

impl StorageSeries for MergedSeries<'_> {
    fn labels(&self) -> &Labels {
        self.s.labels()
    }

    fn iter(&self) -> Box<dyn SampleIterator + '_> {
        Box::new(MergedIter {
            it: self.s.iter(),
            mixed: self.s.has_histograms().then(|| self.s.mixed_iter()),
        })
    }
}

struct MergedIter<'a> {
    /// Float samples of every source (the fast path).
    it: tsdb::merge::MergedIter<'a>,
    /// Every sample, when a source may hold native histograms.
    mixed: Option<tsdb::merge::MergedMixedIter<'a>>,
}

impl SampleIterator for MergedIter<'_> {
    fn next_value(&mut self) -> Option<(i64, SampleValue)> {
        use tsdb::chunk::MixedIterator as _;
        let Some(m) = &mut self.mixed else {
            return self.next().map(|(t, v)| (t, SampleValue::Float(v)));
        };
        match m.next() {
            ValueType::None => None,
            ValueType::Float => {
                let (t, v) = m.at();
                Some((t, SampleValue::Float(v)))
            }
            ValueType::Histogram | ValueType::FloatHistogram => {
                let mut h = FloatHistogram::default();
                let t = m.at_float_histogram(&mut h);
                Some((t, SampleValue::Histogram(Arc::new(h))))
            }
        }
    }

    fn next(&mut self) -> Option<(i64, f64)> {
        self.it.next().then(|| self.it.at())
    }

    fn seek(&mut self, t: i64) -> Option<(i64, f64)> {
        self.it.seek(t).then(|| self.it.at())
    }
}

/// A promql querier over a tsdb querier.
struct TsdbQuerier<'a> {
    q: tsdb::Querier<'a>,
}

impl Querier for TsdbQuerier<'_> {
    fn select(
        &self,
        hints: &SelectHints,
        matchers: &[Matcher],
    ) -> Result<Vec<Box<dyn StorageSeries + '_>>, StorageError> {
        // The engine's hints are advisory; the querier's own range already bounds
        // what is read, so select over all of it.
        let _ = hints;
        let set = self
            .q
            .select(matchers, &tsdb::SelectHints::default())
            .map_err(backend)?;
        Ok(set
            .map(|s| Box::new(TsdbSeries { s }) as Box<dyn StorageSeries + '_>)
            .collect())
    }

    fn label_names(&self, matchers: &[Matcher]) -> Result<Vec<String>, StorageError> {
        self.q.label_names(matchers).map_err(backend)
    }

    fn label_values(&self, name: &str, matchers: &[Matcher]) -> Result<Vec<String>, StorageError> {
        self.q.label_values(name, matchers).map_err(backend)
    }
}

struct TsdbSeries<'a> {
    s: tsdb::Series<'a>,
}

impl StorageSeries for TsdbSeries<'_> {
    fn labels(&self) -> &Labels {
        self.s.labels()
    }

    fn iter(&self) -> Box<dyn SampleIterator + '_> {
        Box::new(TsdbIter {
            it: self.s.iter(),
            all: self.s.has_histograms().then(|| self.s.sample_iter()),
        })
    }
}

struct TsdbIter<'a> {
    /// Float samples (the fast path).
    it: SeriesIter<'a>,
    /// Every sample, for series that hold native histograms.
    all: Option<HeadSampleIter<'a>>,
}

impl SampleIterator for TsdbIter<'_> {
    fn next_value(&mut self) -> Option<(i64, SampleValue)> {
        let Some(all) = &mut self.all else {
            return self.next().map(|(t, v)| (t, SampleValue::Float(v)));
        };
        match all.next() {
            ValueType::None => None,
            ValueType::Float => {
                let (t, v) = all.at();
                Some((t, SampleValue::Float(v)))
            }
            ValueType::Histogram | ValueType::FloatHistogram => {
                let mut h = FloatHistogram::default();
                let t = all.at_float_histogram(&mut h);
                Some((t, SampleValue::Histogram(Arc::new(h))))
            }
        }
    }

    fn next(&mut self) -> Option<(i64, f64)> {
        self.it.next().then(|| self.it.at())
    }

    fn seek(&mut self, t: i64) -> Option<(i64, f64)> {
        self.it.seek(t).then(|| self.it.at())
    }
}

/// Rule output into a [`tsdb::Db`]: reads go to the database, appends are buffered and
/// written in one tsdb transaction at [`Appendable::commit`](crate::rules::Appendable::commit)
/// (after each rule, so later rules of a group see earlier output). Histogram results are
/// written as float histograms.
///
/// ```
/// use exposition::Labels;
/// use promql::rules::{load_str, Group, GroupOptions};
/// use promql::tsdb_storage::TsdbRuleStorage;
/// use tsdb::{Db, HeadOptions};
///
/// let mut db = Db::in_memory(HeadOptions::default());
/// let mut app = db.appender();
/// app.append(&Labels::from_pairs(&[("__name__", "up"), ("job", "a")]), 0, 0.0).unwrap();
/// app.commit().unwrap();
/// let f = load_str("r.yml", "groups:\n- name: g\n  rules:\n  - record: job:up:sum\n    expr: sum by (job) (up)\n").unwrap();
/// let mut g = Group::new(&f.groups[0], &GroupOptions::default()).unwrap();
/// let report = g.eval(1_000, &mut TsdbRuleStorage::new(&mut db));
/// assert_eq!(report.samples_written, 1);
/// assert_eq!(db.head().num_series(), 2);
/// ```
pub struct TsdbRuleStorage<'a> {
    db: &'a mut tsdb::Db,
    pending: Vec<(Labels, i64, PendingValue)>,
}

/// A buffered rule-output sample: the tsdb head stores histograms as float histograms.
enum PendingValue {
    Float(f64),
    Histogram(Arc<FloatHistogram>),
}

impl<'a> TsdbRuleStorage<'a> {
    /// Wraps `db` for one or more group evaluations.
    pub fn new(db: &'a mut tsdb::Db) -> TsdbRuleStorage<'a> {
        TsdbRuleStorage {
            db,
            pending: Vec::new(),
        }
    }
}

impl Storage for TsdbRuleStorage<'_> {
    fn querier(&self, mint: i64, maxt: i64) -> Result<Box<dyn Querier + '_>, StorageError> {
        Storage::querier(&*self.db, mint, maxt)
    }
}

impl crate::rules::Appendable for TsdbRuleStorage<'_> {
    fn append(&mut self, labels: &Labels, t_ms: i64, v: f64) -> Result<(), StorageError> {
        self.pending
            .push((labels.clone(), t_ms, PendingValue::Float(v)));
        Ok(())
    }

    /// Buffers a histogram result; it is written as a float histogram at commit.
    fn append_histogram(
        &mut self,
        labels: &Labels,
        t_ms: i64,
        h: Arc<FloatHistogram>,
    ) -> Result<(), StorageError> {
        self.pending
            .push((labels.clone(), t_ms, PendingValue::Histogram(h)));
        Ok(())
    }

    /// Writes the buffered samples in one transaction. Rejected samples (out of order,
    /// duplicates) do not stop the others; the first rejection is returned after commit.
    fn commit(&mut self) -> Result<(), StorageError> {
        let mut first_err = None;
        let mut app = self.db.appender();
        for (l, t, v) in self.pending.drain(..) {
            let res = match v {
                PendingValue::Float(v) => app.append(&l, t, v),
                PendingValue::Histogram(h) => app.append_float_histogram(&l, t, &h),
            };
            if let Err(e) = res {
                first_err.get_or_insert(e);
            }
        }
        app.commit().map_err(backend)?;
        match first_err {
            Some(e) => Err(backend(e)),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::Engine;
    use crate::storage::MemStorage;
    use crate::value::Value;
    use tsdb::{Db, HeadOptions};

    /// A small data set with counters, a gauge with a gap, and a staleness marker,
    /// written to both stores.
    fn stores() -> (MemStorage, Db) {
        let mut mem = MemStorage::new();
        let mut db = Db::in_memory(HeadOptions::default());
        let mut app = db.appender();
        for job in ["api", "web", "db"] {
            for inst in 0..3 {
                let inst_s = format!("host{inst}:9100");
                let l = Labels::from_pairs(&[
                    ("__name__", "http_requests_total"),
                    ("job", job),
                    ("instance", &inst_s),
                ]);
                for k in 0..200i64 {
                    let t = k * 15_000;
                    let v = (k * (inst + 1)) as f64 + job.len() as f64;
                    mem.append(&l, t, v).unwrap();
                    app.append(&l, t, v).unwrap();
                }
                let g = Labels::from_pairs(&[
                    ("__name__", "temperature"),
                    ("job", job),
                    ("instance", &inst_s),
                ]);
                for k in 0..200i64 {
                    if (50..80).contains(&k) {
                        continue;
                    }
                    let t = k * 15_000 + 1_000;
                    let v = if k == 150 && inst == 1 {
                        crate::value::stale_nan()
                    } else {
                        ((k * 7 + inst * 13) % 40) as f64 - 10.0
                    };
                    mem.append(&g, t, v).unwrap();
                    app.append(&g, t, v).unwrap();
                }
            }
        }
        app.commit().unwrap();
        (mem, db)
    }

    fn same(a: &Value, b: &Value) -> bool {
        format!("{a:?}") == format!("{b:?}")
    }

    const QUERIES: &[&str] = &[
        "http_requests_total",
        "rate(http_requests_total[1m])",
        "sum by (job) (rate(http_requests_total{job=~\"a.*|web\"}[5m]))",
        "temperature",
        "max_over_time(temperature[10m])",
        "topk(2, temperature) > 0",
        "histogram_quantile(0.5, sum by (le) (rate(http_requests_total[5m])))",
        "count(temperature offset 10m)",
        "avg_over_time(rate(http_requests_total[1m])[10m:30s])",
        "absent(nope)",
        "http_requests_total{instance!~\"host1.*\"} / on(job, instance) temperature",
    ];

    #[test]
    fn tsdb_gives_the_same_answers_as_mem_storage() {
        let (mem, db) = stores();
        let e = Engine::default();
        for q in QUERIES {
            let expr = crate::parse(q).unwrap();
            for t in [
                0, 300_000, 900_000, 1_200_000, 2_250_000, 3_000_000, 4_000_000,
            ] {
                let a = e.instant_query(&mem, &expr, t).unwrap();
                let b = e.instant_query(&db, &expr, t).unwrap();
                assert!(same(&a.value, &b.value), "{q} at {t}: {a:?} vs {b:?}");
            }
            let a = e.range_query(&mem, &expr, 0, 3_000_000, 45_000).unwrap();
            let b = e.range_query(&db, &expr, 0, 3_000_000, 45_000).unwrap();
            assert!(same(&a.value, &b.value), "{q} range");
            if let Value::Matrix(m) = &b.value {
                if *q == "http_requests_total" {
                    assert_eq!(m.len(), 9);
                }
            }
        }
        // The head works directly too.
        let expr = crate::parse("count(temperature)").unwrap();
        let r = e.instant_query(db.head(), &expr, 1_000_000).unwrap();
        let Value::Vector(v) = r.value else { panic!() };
        assert_eq!(v[0].f, 9.0);
    }

    /// Native histograms read from the head's histogram chunks answer like the same
    /// histograms in the in-memory store (including a counter reset and a series that
    /// switches from floats to histograms).
    #[test]
    fn head_histograms_answer_like_mem_storage() {
        use exposition::histogram::{Histogram, Span};
        let mut mem = MemStorage::new();
        let mut db = Db::in_memory(HeadOptions::default());
        let mut app = db.appender();
        for inst in 0..2i64 {
            let l = Labels::from_pairs(&[
                ("__name__", "rpc_seconds"),
                ("instance", if inst == 0 { "a" } else { "b" }),
            ]);
            for k in 0..200i64 {
                let t = k * 15_000;
                if inst == 1 && k < 20 {
                    mem.append(&l, t, k as f64).unwrap();
                    app.append(&l, t, k as f64).unwrap();
                    continue;
                }
                // A reset at k = 100 for instance a.
                let n = if inst == 0 && k >= 100 { k - 100 } else { k } as u64;
                let (b0, b1, b2) = (n, 2 * n + inst as u64, n / 3);
                let h = Histogram {
                    schema: 0,
                    zero_threshold: 1e-3,
                    zero_count: n / 2,
                    count: b0 + b1 + b2 + n / 2,
                    sum: n as f64 * 1.25,
                    positive_spans: vec![Span::new(-1, 3)],
                    positive_buckets: vec![b0 as i64, b1 as i64 - b0 as i64, b2 as i64 - b1 as i64],
                    ..Histogram::default()
                };
                mem.append_histogram(&l, t, std::sync::Arc::new(h.to_float()))
                    .unwrap();
                app.append_histogram(&l, t, &h).unwrap();
            }
        }
        app.commit().unwrap();
        let e = Engine::default();
        for q in [
            "histogram_count(rpc_seconds)",
            "histogram_sum(rate(rpc_seconds[1m]))",
            "histogram_count(increase(rpc_seconds[5m]))",
            "histogram_quantile(0.9, rate(rpc_seconds[5m]))",
            "sum(histogram_count(rpc_seconds))",
            "count_over_time(rpc_seconds[2m])",
        ] {
            let expr = crate::parse(q).unwrap();
            let a = e.range_query(&mem, &expr, 0, 3_000_000, 30_000).unwrap();
            let b = e.range_query(&db, &expr, 0, 3_000_000, 30_000).unwrap();
            assert!(same(&a.value, &b.value), "{q}: {a:?} vs {b:?}");
            let Value::Matrix(m) = &b.value else { panic!() };
            assert!(!m.is_empty(), "{q}");
        }
    }

    /// The same data cut into blocks (plus an overlapping duplicate block and a deletion)
    /// answers like the in-memory store.
    #[test]
    fn blocks_and_head_answer_like_mem_storage() {
        let (mut mem, _) = stores();
        let root = std::env::temp_dir().join(format!("promql-tsdb-blocks-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let opts = tsdb::DbOptions {
            block_range_ms: 600_000,
            retention_ms: 0,
            ..tsdb::DbOptions::default()
        };
        let mut db = Db::open_path(root.join("wal"), opts).unwrap();
        db.open_blocks(root.join("blocks")).unwrap();
        // The same samples as `stores`, written in 5 batches with maintenance between.
        let all: Vec<(Labels, Vec<(i64, f64)>)> = {
            let q = Storage::querier(&mem, i64::MIN, i64::MAX).unwrap();
            let m = Matcher::new(exposition::MatchOp::RegexMatch, "__name__", ".+").unwrap();
            let sel = q.select(&SelectHints::default(), &[m]).unwrap();
            let out = sel
                .iter()
                .map(|s| {
                    let mut it = s.iter();
                    let mut v = Vec::new();
                    while let Some(x) = it.next() {
                        v.push(x);
                    }
                    (s.labels().clone(), v)
                })
                .collect();
            out
        };
        for part in 0..5i64 {
            let mut app = db.appender();
            for (l, v) in &all {
                for &(t, x) in v.iter().filter(|(t, _)| t / 600_000 == part) {
                    app.append(l, t, x).unwrap();
                }
            }
            app.commit().unwrap();
            db.maintenance(1_000 + part).unwrap();
        }
        assert!(db.blocks().len() >= 2, "{} blocks", db.blocks().len());
        // A deletion in both stores.
        let m = [Matcher::equal("job", "web")];
        db.delete(&m, 100_000, 700_000).unwrap();
        for (l, _) in all.iter().filter(|(l, _)| l.get("job") == Some("web")) {
            mem.delete_range(l, 100_000, 700_000);
        }
        let e = Engine::default();
        for q in QUERIES {
            let expr = crate::parse(q).unwrap();
            let a = e.range_query(&mem, &expr, 0, 3_000_000, 45_000).unwrap();
            let b = e.range_query(&db, &expr, 0, 3_000_000, 45_000).unwrap();
            assert!(same(&a.value, &b.value), "{q} range: {a:?} vs {b:?}");
        }
        drop(db);
        let _ = std::fs::remove_dir_all(&root);
    }

    /// A head series with native histograms is still read whole when blocks overlap the
    /// query (the merged path), after the blocks' float samples of other series.
    #[test]
    fn head_histograms_survive_the_merged_path() {
        use exposition::histogram::Histogram;
        let root = std::env::temp_dir().join(format!("promql-tsdb-hist-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let opts = tsdb::DbOptions {
            block_range_ms: 600_000,
            retention_ms: 0,
            ..tsdb::DbOptions::default()
        };
        let mut db = Db::open_path(root.join("wal"), opts).unwrap();
        db.open_blocks(root.join("blocks")).unwrap();
        let f = Labels::from_pairs(&[("__name__", "f"), ("job", "a")]);
        let h = Labels::from_pairs(&[("__name__", "h"), ("job", "a")]);
        let mut app = db.appender();
        for k in 0..200i64 {
            app.append(&f, k * 15_000, k as f64).unwrap();
        }
        app.commit().unwrap();
        db.maintenance(1).unwrap();
        assert!(!db.blocks().is_empty());
        let mut app = db.appender();
        for k in 0..10i64 {
            let hist = Histogram {
                count: k as u64,
                ..Histogram::default()
            };
            app.append_histogram(&h, 2_900_000 + k * 15_000, &hist)
                .unwrap();
        }
        app.commit().unwrap();
        assert!(!db.head_only(0, 4_000_000));
        let q = Storage::querier(&db, 0, 4_000_000).unwrap();
        let sel = q
            .select(&SelectHints::default(), &[Matcher::equal("job", "a")])
            .unwrap();
        assert_eq!(sel.len(), 2);
        let hs = sel.iter().find(|s| s.labels() == &h).unwrap();
        let mut it = hs.iter();
        let mut n = 0;
        while let Some((_, v)) = it.next_value() {
            let SampleValue::Histogram(x) = v else {
                panic!("float where a histogram was stored")
            };
            assert_eq!(x.count, n as f64);
            n += 1;
        }
        assert_eq!(n, 10);
        let fs = sel.iter().find(|s| s.labels() == &f).unwrap();
        let mut it = fs.iter();
        let mut m = 0;
        while it.next_value().is_some() {
            m += 1;
        }
        assert_eq!(m, 200);
        let _ = std::fs::remove_dir_all(&root);
    }

    #[test]
    fn rules_write_through_to_tsdb() {
        use crate::rules::{load_str, Group, GroupOptions};
        let (_, mut db) = stores();
        let f = load_str(
            "r.yml",
            "groups:\n- name: g\n  rules:\n  - record: job:req:rate\n    expr: sum by (job) (rate(http_requests_total[1m]))\n  - record: job:req:rate2\n    expr: job:req:rate * 2\n  - alert: Hot\n    expr: temperature > 0\n",
        )
        .unwrap();
        let mut g = Group::new(&f.groups[0], &GroupOptions::default()).unwrap();
        let r = g.eval(600_000, &mut TsdbRuleStorage::new(&mut db));
        assert!(r.failures.is_empty(), "{:?}", r.failures);
        // The second rule saw the first one's output.
        let e = Engine::default();
        let expr = crate::parse("job:req:rate2 / job:req:rate").unwrap();
        let Value::Vector(v) = e.instant_query(&db, &expr, 600_000).unwrap().value else {
            panic!()
        };
        assert_eq!(v.len(), 3);
        assert!(v.iter().all(|s| s.f == 2.0));
        let expr = crate::parse("count(ALERTS{alertname=\"Hot\"})").unwrap();
        let Value::Vector(v) = e.instant_query(&db, &expr, 600_000).unwrap().value else {
            panic!()
        };
        assert!(v[0].f >= 1.0);
        // Re-appending the same timestamp with another value is rejected but reported.
        let mut s = TsdbRuleStorage::new(&mut db);
        let l = Labels::from_pairs(&[("__name__", "job:req:rate"), ("job", "api")]);
        crate::rules::Appendable::append(&mut s, &l, 600_000, -1.0).unwrap();
        assert!(crate::rules::Appendable::commit(&mut s).is_err());
    }

    #[test]
    fn label_queries_go_through_the_index() {
        let (_, db) = stores();
        let q = Storage::querier(&db, 0, i64::MAX).unwrap();
        assert_eq!(
            q.label_names(&[]).unwrap(),
            vec!["__name__", "instance", "job"]
        );
        let m = Matcher::new(exposition::MatchOp::Equal, "job", "web").unwrap();
        assert_eq!(
            q.label_values("__name__", &[m]).unwrap(),
            vec!["http_requests_total", "temperature"]
        );
        let sel = q
            .select(
                &SelectHints::default(),
                &[Matcher::equal("__name__", "temperature")],
            )
            .unwrap();
        assert_eq!(sel.len(), 9);
        let mut it = sel[0].iter();
        assert_eq!(it.seek(1_000), Some((1_000, -10.0)));
        assert_eq!(it.seek(0), Some((1_000, -10.0)));
        assert!(it.next().is_some());
    }
}
