//! Rule errors: why did a rule file fail to load, or a rule fail to evaluate?

use crate::engine::EngineError;
use crate::storage::StorageError;
use std::fmt;

/// One validation problem in a rule file, with where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// 1-based line in the file (0 when unknown).
    pub line: usize,
    /// The group's name (empty for file-level problems).
    pub group: String,
    /// 1-based index of the rule within its group, if the problem is in a rule.
    pub rule: Option<usize>,
    /// The rule's `record`/`alert` name.
    pub rule_name: String,
    /// What is wrong.
    pub msg: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line > 0 {
            write!(f, "{}: ", self.line)?;
        }
        // Group-level messages name the group themselves, as Prometheus's do.
        if let Some(r) = self.rule {
            write!(
                f,
                "group {:?}, rule {r}, {:?}: ",
                self.group, self.rule_name
            )?;
        }
        f.write_str(&self.msg)
    }
}

/// Why a rule file (or a rule test file) could not be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RuleError {
    /// The file could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The YAML does not parse or has the wrong shape.
    #[error("{path}:{line}:{column}: {msg}")]
    Yaml {
        /// The file.
        path: String,
        /// 1-based line (0 when the YAML library gives none).
        line: usize,
        /// 1-based column (0 when unknown).
        column: usize,
        /// The YAML library's message.
        msg: String,
    },
    /// The file parses but breaks the rules of the format (one entry per problem).
    #[error("{path}: {}", join(problems))]
    Invalid {
        /// The file.
        path: String,
        /// Every problem found.
        problems: Vec<Problem>,
    },
}

fn join(p: &[Problem]) -> String {
    p.iter()
        .map(|x| x.to_string())
        .collect::<Vec<_>>()
        .join("; ")
}

impl RuleError {
    /// The validation problems, when this is [`RuleError::Invalid`].
    pub fn problems(&self) -> &[Problem] {
        match self {
            RuleError::Invalid { problems, .. } => problems,
            _ => &[],
        }
    }
}

/// Why one rule failed one evaluation.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EvalError {
    /// The query failed.
    #[error(transparent)]
    Query(#[from] EngineError),
    /// The expression returned a string or matrix.
    #[error("rule result is not a vector or scalar, got {0}")]
    NotAVector(&'static str),
    /// Two result series have the same labels once the rule's labels are applied.
    #[error(
        "vector contains metrics with the same labelset after applying {what} labels: {labels}"
    )]
    DuplicateLabelset {
        /// `rule` (recording) or `alert` (alerting).
        what: &'static str,
        /// The duplicated label set.
        labels: String,
    },
    /// More series (or alerts) than the group's `limit`.
    #[error("exceeded limit of {limit} with {got} {what}")]
    LimitExceeded {
        /// The limit.
        limit: usize,
        /// How many there were.
        got: usize,
        /// `series` or `alerts`.
        what: &'static str,
    },
    /// Writing the output failed.
    #[error("appending rule output: {0}")]
    Append(#[from] StorageError),
}
