//! The PromQL syntax tree: what an expression *is* once parsed.
//!
//! Every node carries a byte [`Span`] into the query text. Durations are `i64` milliseconds.
//! The tree produced by [`crate::parse`] is type checked, so the engine can rely on the
//! invariants documented on each node (for instance, [`BinaryExpr::matching`] is `Some` exactly
//! when both operands are instant vectors).
//!
//! Experimental duration expressions (`rate(x[5m + step()])`, `x offset min_of(step(), 1m)`) are
//! kept as [`DurationExpr`] trees next to the resolved millisecond value; see
//! [`resolve_durations`] for how the engine turns them into plain numbers at query time.

use crate::signatures::Function;
use exposition::Matcher;
use std::fmt;

/// A half-open byte range `start..end` into the query text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Span {
    /// Byte offset of the first byte.
    pub start: usize,
    /// Byte offset one past the last byte.
    pub end: usize,
}

impl Span {
    /// A span from `start` to `end`.
    pub const fn new(start: usize, end: usize) -> Span {
        Span { start, end }
    }

    /// The smallest span covering both `self` and `other`.
    pub fn to(self, other: Span) -> Span {
        Span {
            start: self.start.min(other.start),
            end: self.end.max(other.end),
        }
    }

    /// 1-based line and 1-based byte column of `start` within `input`.
    pub fn line_col(&self, input: &str) -> (usize, usize) {
        line_col(input, self.start)
    }
}

/// 1-based line and 1-based byte column of byte `offset` within `input`.
pub fn line_col(input: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(input.len());
    let before = &input.as_bytes()[..offset];
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let col = match before.iter().rposition(|&b| b == b'\n') {
        Some(nl) => offset - nl,
        None => offset + 1,
    };
    (line, col)
}

/// The type of value an expression evaluates to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ValueType {
    /// A single float (`1`, `time()`, `scalar(x)`).
    Scalar,
    /// An instant vector: one sample per series.
    Vector,
    /// A range vector (matrix): a window of samples per series.
    Matrix,
    /// A string literal.
    String,
}

impl ValueType {
    /// The name Prometheus uses in messages: `scalar`, `instant vector`, `range vector`, `string`.
    pub fn as_str(self) -> &'static str {
        match self {
            ValueType::Scalar => "scalar",
            ValueType::Vector => "instant vector",
            ValueType::Matrix => "range vector",
            ValueType::String => "string",
        }
    }
}

impl fmt::Display for ValueType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A PromQL expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// `1`, `-2.5e3`, `0x1F`, `Inf`, `NaN`, or a duration used as a number (`5m` = 300).
    NumberLiteral(NumberLiteral),
    /// `"text"`, `'text'` or `` `text` `` (already unescaped).
    StringLiteral(StringLiteral),
    /// `metric{label="v"} offset 5m @ 100`.
    VectorSelector(VectorSelector),
    /// `metric{label="v"}[5m]`.
    MatrixSelector(MatrixSelector),
    /// `expr[1h:5m]` or `expr[1h:]`.
    Subquery(SubqueryExpr),
    /// `-expr` or `+expr` (a sign applied to a number literal is folded into the literal).
    Unary(UnaryExpr),
    /// `lhs op [bool] [on(..)|ignoring(..)] [group_left(..)|group_right(..)] rhs`.
    Binary(BinaryExpr),
    /// `sum by (job) (x)`, `topk(3, x)`, ...
    Aggregate(AggregateExpr),
    /// `rate(x[5m])`, `label_replace(...)`, ...
    Call(Call),
    /// `(expr)`.
    Paren(ParenExpr),
}

/// A number literal.
#[derive(Debug, Clone, PartialEq)]
pub struct NumberLiteral {
    /// The value. Durations written in number position (`5m`) are in seconds.
    pub value: f64,
    /// Where the literal (including a folded sign) was written.
    pub span: Span,
}

/// A string literal, with its escapes already resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct StringLiteral {
    /// The unescaped text.
    pub value: String,
    /// Where the literal (including quotes) was written.
    pub span: Span,
}

/// The `@` modifier of a selector or subquery.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum AtModifier {
    /// `@ <unix seconds>`, stored in milliseconds.
    Timestamp(i64),
    /// `@ start()`: the start of the (range) query.
    Start,
    /// `@ end()`: the end of the (range) query.
    End,
}

/// An instant vector selector.
#[derive(Debug, Clone, PartialEq)]
pub struct VectorSelector {
    /// The metric name when written outside braces (`foo{}`) or as a quoted name inside braces
    /// (`{"foo.bar"}`). The corresponding `__name__` matcher is also present in `matchers`.
    pub name: Option<String>,
    /// All label matchers, including the `__name__="..."` matcher implied by `name`.
    /// At least one of them does not match the empty string.
    pub matchers: Vec<Matcher>,
    /// `offset` in milliseconds (negative offsets look into the future); 0 when absent.
    /// When [`VectorSelector::offset_expr`] is set and not constant, this is 0 until
    /// [`resolve_durations`] fills it in.
    pub offset: i64,
    /// The duration expression the offset was written as, when it was not a plain literal
    /// (experimental syntax).
    pub offset_expr: Option<Box<DurationExpr>>,
    /// The `@` modifier, if any.
    pub at: Option<AtModifier>,
    /// `anchored` (experimental extended range selector; only meaningful inside a matrix).
    pub anchored: bool,
    /// `smoothed` (experimental extended range selector).
    pub smoothed: bool,
    /// Where the selector (name, braces, and any modifiers) was written.
    pub span: Span,
}

/// A range vector selector: `selector[range]`.
#[derive(Debug, Clone, PartialEq)]
pub struct MatrixSelector {
    /// The vector selector; its `offset`, `at`, `anchored` and `smoothed` apply to the whole range.
    pub vector: VectorSelector,
    /// Range in milliseconds (positive). When [`MatrixSelector::range_expr`] is set and not
    /// constant, this is 0 until [`resolve_durations`] fills it in.
    pub range: i64,
    /// The duration expression the range was written as, when it was not a plain literal.
    pub range_expr: Option<Box<DurationExpr>>,
    /// Where the whole selector including modifiers was written.
    pub span: Span,
}

/// A subquery: `expr[range:step]`.
#[derive(Debug, Clone, PartialEq)]
pub struct SubqueryExpr {
    /// The inner expression (an instant vector).
    pub expr: Box<Expr>,
    /// Range in milliseconds.
    pub range: i64,
    /// The duration expression the range was written as, when it was not a plain literal.
    pub range_expr: Option<Box<DurationExpr>>,
    /// Resolution in milliseconds; `None` means the engine's default step (`expr[1h:]`).
    pub step: Option<i64>,
    /// The duration expression the step was written as, when it was not a plain literal.
    pub step_expr: Option<Box<DurationExpr>>,
    /// `offset` in milliseconds; 0 when absent.
    pub offset: i64,
    /// The duration expression the offset was written as, when it was not a plain literal.
    pub offset_expr: Option<Box<DurationExpr>>,
    /// The `@` modifier, if any.
    pub at: Option<AtModifier>,
    /// Where the subquery including modifiers was written.
    pub span: Span,
}

/// A unary operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UnaryOp {
    /// `-`
    Neg,
    /// `+`
    Pos,
}

impl UnaryOp {
    /// The operator as written.
    pub fn as_str(self) -> &'static str {
        match self {
            UnaryOp::Neg => "-",
            UnaryOp::Pos => "+",
        }
    }
}

/// `-expr` / `+expr`.
#[derive(Debug, Clone, PartialEq)]
pub struct UnaryExpr {
    /// The operator.
    pub op: UnaryOp,
    /// The operand (scalar or instant vector).
    pub expr: Box<Expr>,
    /// Where the expression including the operator was written.
    pub span: Span,
}

/// A binary operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BinaryOp {
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
    /// `%`
    Mod,
    /// `^` (right-associative)
    Pow,
    /// `atan2`
    Atan2,
    /// `==`
    Eql,
    /// `!=`
    Neq,
    /// `>`
    Gtr,
    /// `<`
    Lss,
    /// `>=`
    Gte,
    /// `<=`
    Lte,
    /// `and`
    And,
    /// `or`
    Or,
    /// `unless`
    Unless,
    /// `</` (experimental): trims the upper part of native histograms above the given bound.
    TrimUpper,
    /// `>/` (experimental): trims the lower part of native histograms below the given bound.
    TrimLower,
}

impl BinaryOp {
    /// The operator as written.
    pub fn as_str(self) -> &'static str {
        match self {
            BinaryOp::Add => "+",
            BinaryOp::Sub => "-",
            BinaryOp::Mul => "*",
            BinaryOp::Div => "/",
            BinaryOp::Mod => "%",
            BinaryOp::Pow => "^",
            BinaryOp::Atan2 => "atan2",
            BinaryOp::Eql => "==",
            BinaryOp::Neq => "!=",
            BinaryOp::Gtr => ">",
            BinaryOp::Lss => "<",
            BinaryOp::Gte => ">=",
            BinaryOp::Lte => "<=",
            BinaryOp::And => "and",
            BinaryOp::Or => "or",
            BinaryOp::Unless => "unless",
            BinaryOp::TrimUpper => "</",
            BinaryOp::TrimLower => ">/",
        }
    }

    /// Binding strength: higher binds tighter (`or` 1, `and`/`unless` 2, comparisons 3,
    /// `+ -` 4, `* / % atan2 </ >/` 5, `^` 6).
    pub fn precedence(self) -> u8 {
        match self {
            BinaryOp::Or => 1,
            BinaryOp::And | BinaryOp::Unless => 2,
            BinaryOp::Eql
            | BinaryOp::Neq
            | BinaryOp::Gtr
            | BinaryOp::Lss
            | BinaryOp::Gte
            | BinaryOp::Lte => 3,
            BinaryOp::Add | BinaryOp::Sub => 4,
            BinaryOp::Mul
            | BinaryOp::Div
            | BinaryOp::Mod
            | BinaryOp::Atan2
            | BinaryOp::TrimUpper
            | BinaryOp::TrimLower => 5,
            BinaryOp::Pow => 6,
        }
    }

    /// Whether the operator groups right to left (only `^`).
    pub fn is_right_associative(self) -> bool {
        self == BinaryOp::Pow
    }

    /// `== != > < >= <=`.
    pub fn is_comparison(self) -> bool {
        matches!(
            self,
            BinaryOp::Eql
                | BinaryOp::Neq
                | BinaryOp::Gtr
                | BinaryOp::Lss
                | BinaryOp::Gte
                | BinaryOp::Lte
        )
    }

    /// `and or unless`.
    pub fn is_set_operator(self) -> bool {
        matches!(self, BinaryOp::And | BinaryOp::Or | BinaryOp::Unless)
    }
}

impl fmt::Display for BinaryOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How the series of the two sides of a vector/vector operation are paired.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Cardinality {
    /// The default for arithmetic and comparisons.
    #[default]
    OneToOne,
    /// `group_left`: many series on the left per series on the right.
    ManyToOne,
    /// `group_right`: many series on the right per series on the left.
    OneToMany,
    /// Set operators (`and`, `or`, `unless`).
    ManyToMany,
}

/// Values substituted for a missing side by the experimental `fill` modifiers.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct FillValues {
    /// `fill_left(v)` (or `fill(v)`): value used when the left side has no match.
    pub lhs: Option<f64>,
    /// `fill_right(v)` (or `fill(v)`): value used when the right side has no match.
    pub rhs: Option<f64>,
}

impl FillValues {
    /// Whether no fill modifier was given.
    pub fn is_empty(&self) -> bool {
        self.lhs.is_none() && self.rhs.is_none()
    }
}

/// Vector matching of a binary operation between two instant vectors.
#[derive(Debug, Clone, PartialEq)]
pub struct VectorMatching {
    /// How series pair up.
    pub card: Cardinality,
    /// `true` for `on(labels)`, `false` for `ignoring(labels)` (or no clause).
    pub on: bool,
    /// The labels of `on(...)` / `ignoring(...)`.
    pub labels: Vec<String>,
    /// The extra labels of `group_left(...)` / `group_right(...)` copied from the "one" side.
    pub include: Vec<String>,
    /// Experimental `fill(v)`, `fill_left(v)`, `fill_right(v)`.
    pub fill: FillValues,
}

impl VectorMatching {
    /// One-to-one matching on all labels (what `a + b` means).
    pub fn one_to_one() -> VectorMatching {
        VectorMatching {
            card: Cardinality::OneToOne,
            on: false,
            labels: Vec::new(),
            include: Vec::new(),
            fill: FillValues::default(),
        }
    }
}

/// A binary operation.
#[derive(Debug, Clone, PartialEq)]
pub struct BinaryExpr {
    /// The operator.
    pub op: BinaryOp,
    /// Left operand.
    pub lhs: Box<Expr>,
    /// Right operand.
    pub rhs: Box<Expr>,
    /// `bool` modifier on a comparison: return 0/1 instead of filtering.
    pub return_bool: bool,
    /// Vector matching; `Some` exactly when both operands are instant vectors (set operators
    /// then have [`Cardinality::ManyToMany`]).
    pub matching: Option<VectorMatching>,
    /// Where the whole expression was written.
    pub span: Span,
}

/// An aggregation operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AggregateOp {
    /// `sum`
    Sum,
    /// `avg`
    Avg,
    /// `count`
    Count,
    /// `min`
    Min,
    /// `max`
    Max,
    /// `group`
    Group,
    /// `stddev`
    Stddev,
    /// `stdvar`
    Stdvar,
    /// `topk(k, v)`
    Topk,
    /// `bottomk(k, v)`
    Bottomk,
    /// `count_values("label", v)`
    CountValues,
    /// `quantile(q, v)`
    Quantile,
    /// `limitk(k, v)` (experimental)
    Limitk,
    /// `limit_ratio(r, v)` (experimental)
    LimitRatio,
}

impl AggregateOp {
    /// Every aggregation operator.
    pub const ALL: [AggregateOp; 14] = [
        AggregateOp::Sum,
        AggregateOp::Avg,
        AggregateOp::Count,
        AggregateOp::Min,
        AggregateOp::Max,
        AggregateOp::Group,
        AggregateOp::Stddev,
        AggregateOp::Stdvar,
        AggregateOp::Topk,
        AggregateOp::Bottomk,
        AggregateOp::CountValues,
        AggregateOp::Quantile,
        AggregateOp::Limitk,
        AggregateOp::LimitRatio,
    ];

    /// The keyword.
    pub fn as_str(self) -> &'static str {
        match self {
            AggregateOp::Sum => "sum",
            AggregateOp::Avg => "avg",
            AggregateOp::Count => "count",
            AggregateOp::Min => "min",
            AggregateOp::Max => "max",
            AggregateOp::Group => "group",
            AggregateOp::Stddev => "stddev",
            AggregateOp::Stdvar => "stdvar",
            AggregateOp::Topk => "topk",
            AggregateOp::Bottomk => "bottomk",
            AggregateOp::CountValues => "count_values",
            AggregateOp::Quantile => "quantile",
            AggregateOp::Limitk => "limitk",
            AggregateOp::LimitRatio => "limit_ratio",
        }
    }

    /// Looks an operator up by keyword (case-insensitive, as Prometheus's lexer is).
    pub fn from_name(name: &str) -> Option<AggregateOp> {
        AggregateOp::ALL
            .into_iter()
            .find(|op| op.as_str().eq_ignore_ascii_case(name))
    }

    /// The type of the parameter, for operators that take one.
    pub fn param_type(self) -> Option<ValueType> {
        match self {
            AggregateOp::Topk
            | AggregateOp::Bottomk
            | AggregateOp::Quantile
            | AggregateOp::Limitk
            | AggregateOp::LimitRatio => Some(ValueType::Scalar),
            AggregateOp::CountValues => Some(ValueType::String),
            _ => None,
        }
    }

    /// Whether the operator needs the experimental-functions flag.
    pub fn is_experimental(self) -> bool {
        matches!(self, AggregateOp::Limitk | AggregateOp::LimitRatio)
    }
}

impl fmt::Display for AggregateOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An aggregation: `op [by|without (labels)] ([param,] expr)`.
#[derive(Debug, Clone, PartialEq)]
pub struct AggregateExpr {
    /// The operator.
    pub op: AggregateOp,
    /// The aggregated instant vector.
    pub expr: Box<Expr>,
    /// The parameter of `topk`, `bottomk`, `quantile`, `count_values`, `limitk`, `limit_ratio`.
    pub param: Option<Box<Expr>>,
    /// `true` for `without (...)`, `false` for `by (...)` or no clause.
    pub without: bool,
    /// The labels of `by (...)` / `without (...)`.
    pub grouping: Vec<String>,
    /// Where the whole aggregation was written.
    pub span: Span,
}

/// A function call.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    /// The called function's signature (see [`crate::signatures`]).
    pub func: &'static Function,
    /// The arguments, already checked against the signature.
    pub args: Vec<Expr>,
    /// Where the call was written.
    pub span: Span,
}

/// A parenthesised expression.
#[derive(Debug, Clone, PartialEq)]
pub struct ParenExpr {
    /// The inner expression.
    pub expr: Box<Expr>,
    /// Where the parentheses were written.
    pub span: Span,
}

/// Arithmetic on durations (experimental): the contents of `[...]`, or what follows `offset`,
/// when it is more than one literal. Values are in seconds, as in Prometheus.
#[derive(Debug, Clone, PartialEq)]
pub enum DurationExpr {
    /// A number (seconds) or duration literal (converted to seconds).
    Number {
        /// Seconds.
        seconds: f64,
        /// Whether it was written as a duration (`5m`) rather than a number (`300`).
        is_duration: bool,
        /// Where it was written.
        span: Span,
    },
    /// `step()`: the step of the range query (0 for an instant query).
    Step(Span),
    /// `range()`: the range of the range query, `end - start` (0 for an instant query).
    Range(Span),
    /// `min_of(a, b)` or `max_of(a, b)`.
    MinMax {
        /// `true` for `max_of`.
        max: bool,
        /// First argument.
        lhs: Box<DurationExpr>,
        /// Second argument.
        rhs: Box<DurationExpr>,
        /// Where the call was written.
        span: Span,
    },
    /// `-d` or `+d`.
    Unary {
        /// The sign.
        op: UnaryOp,
        /// The operand.
        expr: Box<DurationExpr>,
        /// Where it was written.
        span: Span,
    },
    /// `a + b`, `a - b`, `a * b`, `a / b`, `a % b`, `a ^ b`.
    Binary {
        /// One of `Add Sub Mul Div Mod Pow`.
        op: BinaryOp,
        /// Left operand.
        lhs: Box<DurationExpr>,
        /// Right operand.
        rhs: Box<DurationExpr>,
        /// Where it was written.
        span: Span,
    },
    /// `(d)`.
    Paren {
        /// The inner duration expression.
        expr: Box<DurationExpr>,
        /// Where it was written.
        span: Span,
    },
}

/// Query parameters that duration expressions may refer to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DurationContext {
    /// The step of the range query in milliseconds (0 for instant queries).
    pub step_ms: i64,
    /// `end - start` of the range query in milliseconds (0 for instant queries).
    pub range_ms: i64,
}

/// Why a duration expression could not be turned into milliseconds.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum DurationError {
    /// The result is NaN, infinite or does not fit in an `i64` of milliseconds.
    #[error("duration expression result out of range: {0}")]
    OutOfRange(f64),
    /// Division or modulo by zero.
    #[error("division by zero in duration expression")]
    DivisionByZero,
}

impl DurationExpr {
    /// Where the expression was written.
    pub fn span(&self) -> Span {
        match self {
            DurationExpr::Number { span, .. }
            | DurationExpr::MinMax { span, .. }
            | DurationExpr::Unary { span, .. }
            | DurationExpr::Binary { span, .. }
            | DurationExpr::Paren { span, .. } => *span,
            DurationExpr::Step(span) | DurationExpr::Range(span) => *span,
        }
    }

    /// Whether the value does not depend on the query (`step()` / `range()`).
    pub fn is_constant(&self) -> bool {
        match self {
            DurationExpr::Number { .. } => true,
            DurationExpr::Step(_) | DurationExpr::Range(_) => false,
            DurationExpr::MinMax { lhs, rhs, .. } | DurationExpr::Binary { lhs, rhs, .. } => {
                lhs.is_constant() && rhs.is_constant()
            }
            DurationExpr::Unary { expr, .. } | DurationExpr::Paren { expr, .. } => {
                expr.is_constant()
            }
        }
    }

    /// The value in seconds.
    pub fn eval_seconds(&self, ctx: &DurationContext) -> Result<f64, DurationError> {
        Ok(match self {
            DurationExpr::Number { seconds, .. } => *seconds,
            DurationExpr::Step(_) => ctx.step_ms as f64 / 1000.0,
            DurationExpr::Range(_) => ctx.range_ms as f64 / 1000.0,
            DurationExpr::MinMax { max, lhs, rhs, .. } => {
                let (a, b) = (lhs.eval_seconds(ctx)?, rhs.eval_seconds(ctx)?);
                if *max {
                    a.max(b)
                } else {
                    a.min(b)
                }
            }
            DurationExpr::Unary { op, expr, .. } => {
                let v = expr.eval_seconds(ctx)?;
                match op {
                    UnaryOp::Neg => -v,
                    UnaryOp::Pos => v,
                }
            }
            DurationExpr::Paren { expr, .. } => expr.eval_seconds(ctx)?,
            DurationExpr::Binary { op, lhs, rhs, .. } => {
                let (a, b) = (lhs.eval_seconds(ctx)?, rhs.eval_seconds(ctx)?);
                match op {
                    BinaryOp::Add => a + b,
                    BinaryOp::Sub => a - b,
                    BinaryOp::Mul => a * b,
                    BinaryOp::Div | BinaryOp::Mod if b == 0.0 => {
                        return Err(DurationError::DivisionByZero)
                    }
                    BinaryOp::Div => a / b,
                    BinaryOp::Mod => a % b,
                    BinaryOp::Pow => a.powf(b),
                    _ => return Err(DurationError::OutOfRange(f64::NAN)),
                }
            }
        })
    }

    /// The value in milliseconds (rounded to the nearest whole millisecond).
    pub fn eval_ms(&self, ctx: &DurationContext) -> Result<i64, DurationError> {
        let s = self.eval_seconds(ctx)?;
        // Round: seconds * 1000 is not exact in floating point (65767.93 * 1000 = 65767929.99..).
        let ms = (s * 1000.0).round();
        if !ms.is_finite() || ms.abs() >= 9.2e18 {
            return Err(DurationError::OutOfRange(s));
        }
        Ok(ms as i64)
    }
}

impl Expr {
    /// The type of value the expression evaluates to.
    pub fn value_type(&self) -> ValueType {
        match self {
            Expr::NumberLiteral(_) => ValueType::Scalar,
            Expr::StringLiteral(_) => ValueType::String,
            Expr::VectorSelector(_) => ValueType::Vector,
            Expr::MatrixSelector(_) | Expr::Subquery(_) => ValueType::Matrix,
            Expr::Unary(u) => u.expr.value_type(),
            Expr::Binary(b) => {
                if b.lhs.value_type() == ValueType::Scalar
                    && b.rhs.value_type() == ValueType::Scalar
                {
                    ValueType::Scalar
                } else {
                    ValueType::Vector
                }
            }
            Expr::Aggregate(_) => ValueType::Vector,
            Expr::Call(c) => c.func.return_type,
            Expr::Paren(p) => p.expr.value_type(),
        }
    }

    /// Where the expression was written.
    pub fn span(&self) -> Span {
        match self {
            Expr::NumberLiteral(e) => e.span,
            Expr::StringLiteral(e) => e.span,
            Expr::VectorSelector(e) => e.span,
            Expr::MatrixSelector(e) => e.span,
            Expr::Subquery(e) => e.span,
            Expr::Unary(e) => e.span,
            Expr::Binary(e) => e.span,
            Expr::Aggregate(e) => e.span,
            Expr::Call(e) => e.span,
            Expr::Paren(e) => e.span,
        }
    }

    /// The direct children, left to right.
    pub fn children(&self) -> Vec<&Expr> {
        match self {
            Expr::NumberLiteral(_)
            | Expr::StringLiteral(_)
            | Expr::VectorSelector(_)
            | Expr::MatrixSelector(_) => Vec::new(),
            Expr::Subquery(e) => vec![&e.expr],
            Expr::Unary(e) => vec![&e.expr],
            Expr::Binary(e) => vec![&e.lhs, &e.rhs],
            Expr::Aggregate(e) => match &e.param {
                Some(p) => vec![p, &e.expr],
                None => vec![&e.expr],
            },
            Expr::Call(e) => e.args.iter().collect(),
            Expr::Paren(e) => vec![&e.expr],
        }
    }

    /// Calls `f` on this node and every descendant, parents before children.
    pub fn walk(&self, f: &mut dyn FnMut(&Expr)) {
        f(self);
        for c in self.children() {
            c.walk(f);
        }
    }

    /// Strips any number of enclosing parentheses.
    pub fn unparen(&self) -> &Expr {
        let mut e = self;
        while let Expr::Paren(p) = e {
            e = &p.expr;
        }
        e
    }

    /// Structural equality that ignores spans and treats NaN literals as equal to each other
    /// (the equality used by the printer's round-trip property).
    pub fn same_as(&self, other: &Expr) -> bool {
        let mut a = self.clone();
        let mut b = other.clone();
        a.normalize_for_compare();
        b.normalize_for_compare();
        a == b
    }

    /// Zeroes every span and replaces NaN number values by one canonical NaN bit pattern, so
    /// that `==` compares structure only.
    fn normalize_for_compare(&mut self) {
        fn num(v: &mut f64) {
            // NaN never equals itself; map every NaN to one sentinel so `==` can compare.
            // (A literal f64::MAX would also map here; acceptable for a test-only equality.)
            if v.is_nan() {
                *v = f64::MAX;
            }
        }
        fn dur(d: &mut DurationExpr) {
            match d {
                DurationExpr::Number { seconds, span, .. } => {
                    num(seconds);
                    *span = Span::default();
                }
                DurationExpr::Step(span) | DurationExpr::Range(span) => *span = Span::default(),
                DurationExpr::MinMax { lhs, rhs, span, .. }
                | DurationExpr::Binary { lhs, rhs, span, .. } => {
                    dur(lhs);
                    dur(rhs);
                    *span = Span::default();
                }
                DurationExpr::Unary { expr, span, .. } | DurationExpr::Paren { expr, span } => {
                    dur(expr);
                    *span = Span::default();
                }
            }
        }
        fn fill(f: &mut FillValues) {
            if let Some(v) = f.lhs.as_mut() {
                num(v);
            }
            if let Some(v) = f.rhs.as_mut() {
                num(v);
            }
        }
        fn vs(v: &mut VectorSelector) {
            v.span = Span::default();
            if let Some(d) = v.offset_expr.as_mut() {
                dur(d);
            }
        }
        match self {
            Expr::NumberLiteral(e) => {
                num(&mut e.value);
                e.span = Span::default();
            }
            Expr::StringLiteral(e) => e.span = Span::default(),
            Expr::VectorSelector(e) => vs(e),
            Expr::MatrixSelector(e) => {
                vs(&mut e.vector);
                if let Some(d) = e.range_expr.as_mut() {
                    dur(d);
                }
                e.span = Span::default();
            }
            Expr::Subquery(e) => {
                e.expr.normalize_for_compare();
                for d in [&mut e.range_expr, &mut e.step_expr, &mut e.offset_expr]
                    .into_iter()
                    .flatten()
                {
                    dur(d);
                }
                e.span = Span::default();
            }
            Expr::Unary(e) => {
                e.expr.normalize_for_compare();
                e.span = Span::default();
            }
            Expr::Binary(e) => {
                e.lhs.normalize_for_compare();
                e.rhs.normalize_for_compare();
                if let Some(m) = e.matching.as_mut() {
                    fill(&mut m.fill);
                }
                e.span = Span::default();
            }
            Expr::Aggregate(e) => {
                e.expr.normalize_for_compare();
                if let Some(p) = e.param.as_mut() {
                    p.normalize_for_compare();
                }
                e.span = Span::default();
            }
            Expr::Call(e) => {
                for a in &mut e.args {
                    a.normalize_for_compare();
                }
                e.span = Span::default();
            }
            Expr::Paren(e) => {
                e.expr.normalize_for_compare();
                e.span = Span::default();
            }
        }
    }
}

/// Fills in `range`, `offset` and `step` of every selector and subquery whose duration was
/// written as an expression depending on the query (`step()`, `range()`), evaluating it with
/// `ctx`. Constant duration expressions are already resolved by the parser; calling this on a
/// tree without duration expressions changes nothing.
pub fn resolve_durations(expr: &mut Expr, ctx: &DurationContext) -> Result<(), DurationError> {
    fn vs(v: &mut VectorSelector, ctx: &DurationContext) -> Result<(), DurationError> {
        if let Some(d) = &v.offset_expr {
            v.offset = d.eval_ms(ctx)?;
        }
        Ok(())
    }
    match expr {
        Expr::NumberLiteral(_) | Expr::StringLiteral(_) => Ok(()),
        Expr::VectorSelector(v) => vs(v, ctx),
        Expr::MatrixSelector(m) => {
            vs(&mut m.vector, ctx)?;
            if let Some(d) = &m.range_expr {
                m.range = d.eval_ms(ctx)?;
            }
            Ok(())
        }
        Expr::Subquery(s) => {
            if let Some(d) = &s.range_expr {
                s.range = d.eval_ms(ctx)?;
            }
            if let Some(d) = &s.step_expr {
                s.step = Some(d.eval_ms(ctx)?);
            }
            if let Some(d) = &s.offset_expr {
                s.offset = d.eval_ms(ctx)?;
            }
            resolve_durations(&mut s.expr, ctx)
        }
        Expr::Unary(u) => resolve_durations(&mut u.expr, ctx),
        Expr::Binary(b) => {
            resolve_durations(&mut b.lhs, ctx)?;
            resolve_durations(&mut b.rhs, ctx)
        }
        Expr::Aggregate(a) => {
            if let Some(p) = a.param.as_mut() {
                resolve_durations(p, ctx)?;
            }
            resolve_durations(&mut a.expr, ctx)
        }
        Expr::Call(c) => {
            for a in &mut c.args {
                resolve_durations(a, ctx)?;
            }
            Ok(())
        }
        Expr::Paren(p) => resolve_durations(&mut p.expr, ctx),
    }
}
