//! Parse errors: what went wrong in a query, and where?
//!
//! A [`ParseError`] carries a [`ParseErrorKind`] (the condition, with a message close to
//! Prometheus's), the byte [`Span`] it refers to, and the 1-based line and column of the span's
//! start. `Display` prints `line:col: parse error: message`, like Prometheus;
//! [`ParseError::message`] gives the message alone and [`ParseError::render`] adds the query
//! line with a marker under the offending bytes.

use crate::ast::{line_col, DurationError, Span, ValueType};
use exposition::MatcherError;

/// What went wrong while lexing, parsing or type checking a query.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseErrorKind {
    /// The query is empty or only whitespace and comments.
    #[error("no expression found in input")]
    EmptyInput,
    /// A character that starts no token.
    #[error("unexpected character: {0:?}")]
    UnexpectedCharacter(char),
    /// A string literal without its closing quote.
    #[error("unterminated quoted string")]
    UnterminatedString,
    /// A bad escape sequence inside a string literal.
    #[error("invalid escape sequence in string: {0}")]
    InvalidEscape(String),
    /// A number literal that does not parse.
    #[error("bad number or duration syntax: {0:?}")]
    InvalidNumber(String),
    /// A duration literal that does not parse or is out of range.
    #[error("bad duration syntax: {0:?}")]
    InvalidDuration(String),
    /// A token that does not fit the grammar here.
    #[error("unexpected {found}{}", expected_suffix(expected))]
    Unexpected {
        /// Description of what was found (`"identifier \"foo\""`, `"end of input"`, ...).
        found: String,
        /// What the grammar wanted, if one thing stands out.
        expected: Option<String>,
    },
    /// `f(a, b,)`.
    #[error("trailing commas not allowed in function call args")]
    TrailingComma,
    /// A call to a function that does not exist.
    #[error("unknown function with name {0:?}")]
    UnknownFunction(String),
    /// A call to an experimental function while experimental functions are disabled.
    #[error("function {0:?} is not enabled")]
    ExperimentalFunction(String),
    /// Experimental syntax that is disabled in [`crate::ParseOptions`].
    #[error("{0} is not enabled")]
    ExperimentalSyntax(&'static str),
    /// Wrong number of arguments for a fixed-arity function.
    #[error("expected {expected} argument(s) in call to {func:?}, got {got}")]
    ArgCount {
        /// The function.
        func: &'static str,
        /// The required count.
        expected: usize,
        /// The count given.
        got: usize,
    },
    /// Too few arguments for a variadic function.
    #[error("expected at least {expected} argument(s) in call to {func:?}, got {got}")]
    TooFewArgs {
        /// The function.
        func: &'static str,
        /// The minimum.
        expected: usize,
        /// The count given.
        got: usize,
    },
    /// Too many arguments for a variadic function.
    #[error("expected at most {expected} argument(s) in call to {func:?}, got {got}")]
    TooManyArgs {
        /// The function.
        func: &'static str,
        /// The maximum.
        expected: usize,
        /// The count given.
        got: usize,
    },
    /// Wrong number of arguments to an aggregation.
    #[error("wrong number of arguments for aggregate expression provided, expected {expected}, got {got}")]
    AggregateArgCount {
        /// Required count.
        expected: usize,
        /// Given count.
        got: usize,
    },
    /// An operand of the wrong type.
    #[error("expected type {expected} in {context}, got {got}")]
    TypeMismatch {
        /// Where the operand sits (`"call to function \"rate\""`, `"aggregation expression"`, ...).
        context: String,
        /// The type required.
        expected: ValueType,
        /// The type found.
        got: ValueType,
    },
    /// `-x` / `+x` where `x` is a string or range vector.
    #[error("unary expression only allowed on expressions of type scalar or instant vector, got \"{0}\"")]
    UnaryOperandType(ValueType),
    /// A binary operator applied to an operand type it does not accept.
    #[error("binary expression must contain only scalar and instant vector types")]
    BinaryOperandType,
    /// A label matcher that is invalid (bad regex, ...).
    #[error("{0}")]
    Matcher(#[from] MatcherError),
    /// A selector whose matchers all match the empty string.
    #[error("vector selector must contain at least one non-empty matcher")]
    EmptySelector,
    /// The metric name given both before the braces and inside them.
    #[error("metric name must not be set twice: {0:?} or {1:?}")]
    DuplicateMetricName(String, String),
    /// `offset` or `@` given twice.
    #[error("{0} may not be set multiple times")]
    DuplicateModifier(&'static str),
    /// A modifier (`offset`, `@`, `[range]`, ...) on something it does not apply to.
    #[error("{0}")]
    MisplacedModifier(&'static str),
    /// `bool` on an operator that is not a comparison.
    #[error("bool modifier can only be used on comparison operators")]
    BoolWithoutComparison,
    /// A comparison between two scalars without `bool`.
    #[error("comparisons between scalars must use BOOL modifier")]
    ComparisonWithoutBool,
    /// A set operator with a scalar operand.
    #[error("set operator {0:?} not allowed in binary scalar expression")]
    SetOperatorOnScalar(&'static str),
    /// `on`/`ignoring` labels between operands that are not both instant vectors.
    #[error("vector matching only allowed between instant vectors")]
    VectorMatchingNotVectors,
    /// `group_left`/`group_right` on a set operator.
    #[error("no grouping allowed for {0:?} operation")]
    GroupingOnSetOperator(&'static str),
    /// A label listed in both `on(...)` and `group_x(...)`.
    #[error("label {0:?} must not occur in ON and GROUP clause at once")]
    LabelInOnAndGroup(String),
    /// `[range]` after something that is not a vector selector.
    #[error("ranges only allowed for vector selectors")]
    RangeOnNonSelector,
    /// A subquery over something that is not an instant vector.
    #[error("subquery is only allowed on instant vector, got {0} instead")]
    SubqueryOnNonVector(ValueType),
    /// A zero or negative range, or an out-of-range duration.
    #[error("{0}")]
    BadDuration(&'static str),
    /// The `@` timestamp is NaN, infinite or out of the representable range.
    #[error("timestamp out of bounds for @ modifier: {0}")]
    AtOutOfRange(f64),
    /// A duration expression that cannot be evaluated.
    #[error("{0}")]
    Duration(#[from] DurationError),
    /// The query nests deeper than the parser allows.
    #[error("expression nested too deeply (more than {0} levels)")]
    TooDeep(usize),
}

fn expected_suffix(expected: &Option<String>) -> String {
    match expected {
        Some(e) => format!(", expected {e}"),
        None => String::new(),
    }
}

/// A parse error with its position.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{line}:{column}: parse error: {kind}")]
pub struct ParseError {
    kind: ParseErrorKind,
    span: Span,
    line: usize,
    column: usize,
}

impl ParseError {
    /// An error of `kind` at `span` of `input`.
    pub fn new(kind: ParseErrorKind, span: Span, input: &str) -> ParseError {
        let (line, column) = line_col(input, span.start);
        ParseError {
            kind,
            span,
            line,
            column,
        }
    }

    /// The condition.
    pub fn kind(&self) -> &ParseErrorKind {
        &self.kind
    }

    /// The bytes of the query the error refers to.
    pub fn span(&self) -> Span {
        self.span
    }

    /// 1-based line of the span start.
    pub fn line(&self) -> usize {
        self.line
    }

    /// 1-based byte column of the span start.
    pub fn column(&self) -> usize {
        self.column
    }

    /// The message without position, as Prometheus's error strings in test expectations.
    pub fn message(&self) -> String {
        self.kind.to_string()
    }

    /// The error, the line of `input` it is on, and a `^~~` marker under the span.
    pub fn render(&self, input: &str) -> String {
        let start = self.span.start.min(input.len());
        let line_start = input[..start].rfind('\n').map_or(0, |i| i + 1);
        let line_end = input[start..].find('\n').map_or(input.len(), |i| start + i);
        let text = &input[line_start..line_end];
        let pad = input[line_start..start].chars().count();
        let end = self.span.end.clamp(start, line_end);
        let width = input[start..end].chars().count().max(1);
        format!(
            "{self}\n  {text}\n  {}^{}",
            " ".repeat(pad),
            "~".repeat(width - 1)
        )
    }
}
