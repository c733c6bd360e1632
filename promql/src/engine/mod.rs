//! The evaluation engine: what does an expression evaluate to over a storage?
//!
//! [`Engine::instant_query`] and [`Engine::range_query`] evaluate a parsed
//! [`Expr`] over any [`Storage`]. Evaluation follows Prometheus 3.x:
//! left-open range windows `(t - range, t]`, a lookback window `(t - 5m, t]` for
//! instant selectors, staleness markers ending a series, `offset` and `@`,
//! subqueries aligned to absolute multiples of their step, vector matching, every
//! aggregation and the float functions, delayed `__name__` removal, start timestamps
//! in counter functions, the experimental features (`fill` modifiers,
//! `anchored`/`smoothed`, `info`, `limitk`/`limit_ratio`, the histogram trim operators),
//! and native histograms: selectors, `+ -` between histograms, `* /` by scalars,
//! `== !=`, `sum`/`avg`/`count`/`group`, `rate`/`increase`/`delta`/`irate`/`idelta`/
//! `resets`/`changes`, the `*_over_time` functions that take histograms, and the
//! `histogram_*` functions, with the mixed-type and counter-reset annotations Prometheus
//! gives. Histogram arithmetic lives in [`exposition::histogram`]; [`crate::functions::native`]
//! sequences it for range functions and aggregations.
//!
//! Every instant-vector node evaluates to series whose points sit on the query steps,
//! scalars to one value per step; an instant query is a range query with one step.
//! Range functions read a matrix selector's data one series at a time.
//!
//! | module | question it answers |
//! |---|---|
//! | `eval` | how is each node evaluated over the steps of a query (selectors, subqueries)? |
//! | `binop` | how are two operands paired and combined? |
//! | `aggregate` | how are series grouped and reduced? |
//! | `call` | how is each function applied? |
//! | `histogram` | what do `histogram_quantile`/`histogram_fraction` give over `le` buckets and native histograms? |
//! | `info` | which info-metric labels does `info()` add? |
//! | `stats` | which counter-reset hints do histograms get below `histogram_count` and co.? |
//! | [`error`] | why did a query fail? |
//! | [`Annotation`] | which warnings and infos come with the result? |

#[allow(clippy::needless_range_loop)]
mod aggregate;
mod binop;
#[allow(clippy::needless_range_loop)]
mod call;
pub mod error;
mod eval;
#[allow(clippy::needless_range_loop)]
mod histogram;
#[allow(clippy::needless_range_loop)]
mod info;
mod start_ts;
mod stats;

pub use error::EngineError;
pub(crate) use histogram::parse_go_float as parse_go_float_pub;

use crate::ast::{Expr, Span};
use crate::storage::Storage;
use crate::value::Value;

/// Tunables of an [`Engine`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct EngineOptions {
    /// How far back an instant selector looks for a sample (default 5 minutes).
    pub lookback_delta_ms: i64,
    /// Maximum number of samples the query may hold in memory at once (default 50
    /// million), as Prometheus's `--query.max-samples`: the values evaluated but not yet
    /// consumed (in subqueries too) plus the points being built. Exceeding it fails the
    /// query with [`EngineError::TooManySamples`] as soon as it happens, inside the
    /// evaluation loops.
    pub max_samples: usize,
    /// Step of a subquery written without one (`x[1h:]`), default 1 minute.
    pub default_subquery_step_ms: i64,
    /// Keep `__name__` until the end of evaluation and drop it then (Prometheus's
    /// `promql-delayed-name-removal` feature flag). Off by default, as in a Prometheus
    /// server: names go as soon as a function or operator drops them, and series left
    /// with the same labels at one timestamp fail the query there. The promqltest
    /// runner turns it on, as Prometheus's test engine does
    /// ([`crate::promqltest::RunOptions::delayed_name_removal`]).
    pub delayed_name_removal: bool,
}

impl Default for EngineOptions {
    fn default() -> Self {
        EngineOptions {
            lookback_delta_ms: 5 * 60 * 1000,
            max_samples: 50_000_000,
            default_subquery_step_ms: 60_000,
            delayed_name_removal: false,
        }
    }
}

/// Whether an annotation is a warning or an info.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AnnotationKind {
    /// Something is probably wrong with the query or data.
    Warning,
    /// Something might be wrong.
    Info,
}

/// A warning or info attached to a query result, pointing at a part of the query.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Annotation {
    /// Warning or info.
    pub kind: AnnotationKind,
    /// The message without the `PromQL warning: ` prefix.
    pub message: String,
    /// The expression the annotation refers to.
    pub span: Span,
}

impl Annotation {
    /// Prometheus's rendering: `PromQL warning: <message> (<line>:<col>)`.
    pub fn render(&self, query: &str) -> String {
        let (l, c) = self.span.line_col(query);
        let p = match self.kind {
            AnnotationKind::Warning => "PromQL warning",
            AnnotationKind::Info => "PromQL info",
        };
        format!("{p}: {} ({l}:{c})", self.message)
    }
}

/// A query's value plus the annotations collected while evaluating it.
#[derive(Debug, Clone, PartialEq)]
pub struct QueryResult {
    /// The result.
    pub value: Value,
    /// Warnings and infos, sorted and without duplicates.
    pub annotations: Vec<Annotation>,
}

/// Per-query context: a cancellation / deadline check supplied by the caller.
///
/// The library has no clock; a caller that wants a deadline passes a closure that
/// compares its own clock with the deadline. It is called once per node and per series,
/// and every 1024 iterations of the evaluation loops (per step, per sample), so a query
/// with millions of steps or deeply nested subqueries stops promptly with
/// [`EngineError::Canceled`]. Keep it cheap.
#[derive(Default, Clone, Copy)]
pub struct QueryContext<'a> {
    /// Returns `true` when the query should stop.
    pub cancel: Option<&'a dyn Fn() -> bool>,
}

/// Evaluates PromQL expressions; immutable and shareable.
///
/// ```
/// use exposition::Labels;
/// use promql::engine::Engine;
/// use promql::storage::MemStorage;
/// use promql::value::Value;
///
/// let mut db = MemStorage::new();
/// for (job, step) in [("a", 1.0), ("b", 3.0)] {
///     let l = Labels::from_pairs(&[("__name__", "requests_total"), ("job", job)]);
///     for k in 0..=10 {
///         db.append(&l, k * 60_000, k as f64 * 60.0 * step).unwrap(); // one sample a minute
///     }
/// }
/// let expr = promql::parse("sum(rate(requests_total[5m]))").unwrap();
/// let res = Engine::default().instant_query(&db, &expr, 600_000).unwrap();
/// let Value::Vector(v) = res.value else { panic!("expected a vector") };
/// assert_eq!(v.len(), 1);
/// assert!((v[0].f - 4.0).abs() < 1e-9); // 1/s + 3/s
///
/// // Range queries return a matrix sorted by labels.
/// let expr = promql::parse("rate(requests_total[5m])").unwrap();
/// let res = Engine::default().range_query(&db, &expr, 300_000, 600_000, 60_000).unwrap();
/// let Value::Matrix(m) = res.value else { panic!("expected a matrix") };
/// assert_eq!(m.len(), 2);
/// assert_eq!(m[0].floats.len(), 6);
/// ```
#[derive(Debug, Clone, Default)]
pub struct Engine {
    opts: EngineOptions,
}

impl Engine {
    /// An engine with `opts`.
    pub fn new(opts: EngineOptions) -> Engine {
        Engine { opts }
    }

    /// The engine's options.
    pub fn options(&self) -> &EngineOptions {
        &self.opts
    }

    /// Parses `query` (stable syntax) and evaluates it at `t_ms`.
    ///
    /// ```
    /// # use promql::{engine::Engine, storage::MemStorage, value::Value};
    /// let r = Engine::default().instant_query_text(&MemStorage::new(), "2 ^ 10", 0).unwrap();
    /// assert!(matches!(r.value, Value::Scalar(s) if s.v == 1024.0));
    /// assert!(Engine::default().instant_query_text(&MemStorage::new(), "sum(", 0).is_err());
    /// ```
    pub fn instant_query_text(
        &self,
        storage: &dyn Storage,
        query: &str,
        t_ms: i64,
    ) -> Result<QueryResult, EngineError> {
        let expr = crate::parse(query)?;
        self.instant_query(storage, &expr, t_ms)
    }

    /// Parses `query` (stable syntax) and evaluates it as a range query.
    pub fn range_query_text(
        &self,
        storage: &dyn Storage,
        query: &str,
        start_ms: i64,
        end_ms: i64,
        step_ms: i64,
    ) -> Result<QueryResult, EngineError> {
        let expr = crate::parse(query)?;
        self.range_query(storage, &expr, start_ms, end_ms, step_ms)
    }

    /// Evaluates `expr` at time `t_ms`.
    pub fn instant_query(
        &self,
        storage: &dyn Storage,
        expr: &Expr,
        t_ms: i64,
    ) -> Result<QueryResult, EngineError> {
        self.instant_query_with(storage, expr, t_ms, QueryContext::default())
    }

    /// [`Engine::instant_query`] with a cancellation context.
    pub fn instant_query_with(
        &self,
        storage: &dyn Storage,
        expr: &Expr,
        t_ms: i64,
        ctx: QueryContext<'_>,
    ) -> Result<QueryResult, EngineError> {
        eval::run(&self.opts, storage, expr, t_ms, t_ms, 0, true, ctx)
    }

    /// Evaluates `expr` at every `step_ms` from `start_ms` to `end_ms` (inclusive);
    /// the result is always a matrix.
    pub fn range_query(
        &self,
        storage: &dyn Storage,
        expr: &Expr,
        start_ms: i64,
        end_ms: i64,
        step_ms: i64,
    ) -> Result<QueryResult, EngineError> {
        self.range_query_with(
            storage,
            expr,
            start_ms,
            end_ms,
            step_ms,
            QueryContext::default(),
        )
    }

    /// [`Engine::range_query`] with a cancellation context.
    pub fn range_query_with(
        &self,
        storage: &dyn Storage,
        expr: &Expr,
        start_ms: i64,
        end_ms: i64,
        step_ms: i64,
        ctx: QueryContext<'_>,
    ) -> Result<QueryResult, EngineError> {
        if step_ms <= 0 {
            return Err(EngineError::InvalidArgument(
                "zero or negative query resolution step widths are not accepted".into(),
            ));
        }
        if end_ms < start_ms {
            return Err(EngineError::InvalidArgument(
                "end timestamp must not be before start time".into(),
            ));
        }
        eval::run(
            &self.opts, storage, expr, start_ms, end_ms, step_ms, false, ctx,
        )
    }
}
