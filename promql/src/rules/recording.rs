//! Recording rules: which series does a recording rule write at one evaluation?

use super::error::EvalError;
use crate::ast::Expr;
use crate::engine::Engine;
use crate::storage::Storage;
use crate::value::{Sample, Value};
use exposition::{Labels, METRIC_NAME};

/// A recording rule: evaluates `expr` and writes the result under `record`.
#[derive(Debug, Clone)]
pub struct RecordingRule {
    name: String,
    expr: Expr,
    expr_text: String,
    labels: Labels,
}

impl RecordingRule {
    /// A rule writing `expr` as `name` with extra `labels`.
    pub fn new(name: &str, expr: Expr, expr_text: &str, labels: Labels) -> RecordingRule {
        RecordingRule {
            name: name.to_string(),
            expr,
            expr_text: expr_text.to_string(),
            labels,
        }
    }

    /// The output metric name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The expression text as written.
    pub fn expr_text(&self) -> &str {
        &self.expr_text
    }

    /// The rule's labels.
    pub fn labels(&self) -> &Labels {
        &self.labels
    }

    /// Evaluates at `query_ts` and returns the output samples (timestamped `query_ts`),
    /// sorted by labels. `limit` > 0 caps the number of series.
    pub fn eval(
        &self,
        engine: &Engine,
        storage: &dyn Storage,
        query_ts: i64,
        limit: usize,
    ) -> Result<Vec<Sample>, EvalError> {
        let res = engine.instant_query(storage, &self.expr, query_ts)?;
        let mut out = vector_of(res.value, query_ts)?;
        for s in &mut out {
            let mut b = s.metric.builder();
            b.set(METRIC_NAME, &self.name);
            for l in self.labels.iter() {
                b.set(&l.name, &l.value);
            }
            s.metric = b.build();
            s.t = query_ts;
        }
        out.sort_by(|a, b| a.metric.cmp(&b.metric));
        if let Some(w) = out.windows(2).find(|w| w[0].metric == w[1].metric) {
            return Err(EvalError::DuplicateLabelset {
                what: "rule",
                labels: w[0].metric.to_string(),
            });
        }
        if limit > 0 && out.len() > limit {
            return Err(EvalError::LimitExceeded {
                limit,
                got: out.len(),
                what: "series",
            });
        }
        Ok(out)
    }
}

/// A query result as a vector: scalars become one sample without labels.
pub(crate) fn vector_of(v: Value, t: i64) -> Result<Vec<Sample>, EvalError> {
    match v {
        Value::Vector(v) => Ok(v),
        Value::Scalar(s) => Ok(vec![Sample {
            h: None,
            metric: Labels::empty(),
            t,
            f: s.v,
            drop_name: false,
        }]),
        other => Err(EvalError::NotAVector(other.type_name())),
    }
}
