//! The parser: how does query text become a type-checked [`Expr`]?
//!
//! A hand-written precedence-climbing parser over the tokens of [`crate::lexer`]. Types are
//! checked while the tree is built, so an error points at the smallest offending sub-expression.
//!
//! Operator precedence, loosest first: `or`; `and unless`; `== != <= < >= >`; `+ -`;
//! `* / % atan2`; unary `-`/`+`; `^` (right-associative); then the postfix forms
//! `[range]`, `[range:step]`, `offset`, `@`, which bind to the nearest operand.

use crate::ast::*;
use crate::error::{ParseError, ParseErrorKind};
use crate::lexer::{lex, parse_duration_ms, parse_number, unquote, Token, TokenKind};
use crate::signatures;
use exposition::{MatchOp, Matcher, METRIC_NAME};
use std::collections::HashMap;

/// Switches for experimental syntax. [`ParseOptions::default`] accepts the stable
/// Prometheus 3.x language (duration expressions are stable since 3.14);
/// [`ParseOptions::all`] accepts everything the peer tests use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ParseOptions {
    /// Experimental functions (`info`, `sort_by_label`, `mad_over_time`, ...) and the
    /// aggregations `limitk` and `limit_ratio`.
    pub experimental_functions: bool,
    /// Duration arithmetic in `[...]`, after `offset`, and `step()`, `range()`, `min_of`, `max_of`.
    pub duration_expressions: bool,
    /// The `anchored` and `smoothed` range-selector modifiers.
    pub extended_range_selectors: bool,
    /// The binary-operator modifiers `fill(v)`, `fill_left(v)`, `fill_right(v)`.
    pub binop_fill_modifiers: bool,
}

impl Default for ParseOptions {
    fn default() -> Self {
        ParseOptions {
            experimental_functions: false,
            duration_expressions: true,
            extended_range_selectors: false,
            binop_fill_modifiers: false,
        }
    }
}

impl ParseOptions {
    /// Every experimental feature enabled (the configuration of Prometheus's test engine).
    pub fn all() -> ParseOptions {
        ParseOptions {
            experimental_functions: true,
            duration_expressions: true,
            extended_range_selectors: true,
            binop_fill_modifiers: true,
        }
    }
}

/// Parses a query with the default (stable) options.
///
/// ```
/// let e = promql::parse("sum by (job) (rate(http_requests_total[5m]))").unwrap();
/// assert_eq!(e.value_type(), promql::ValueType::Vector);
/// ```
pub fn parse(input: &str) -> Result<Expr, ParseError> {
    parse_with(input, ParseOptions::default())
}

/// Parses a query with `options`.
pub fn parse_with(input: &str, options: ParseOptions) -> Result<Expr, ParseError> {
    parse_inner(input, options, None)
}

fn parse_inner(
    input: &str,
    options: ParseOptions,
    cache: Option<&mut MatcherCache>,
) -> Result<Expr, ParseError> {
    let tokens = lex(input)?;
    let mut p = Parser {
        input,
        tokens,
        pos: 0,
        opts: options,
        depth: 0,
        allow_empty_selector: false,
        chain: 0,
        cache,
    };
    if p.peek().kind == TokenKind::Eof {
        return Err(p.error(ParseErrorKind::EmptyInput, Span::new(0, input.len())));
    }
    let expr = p.expr(0)?;
    let t = p.peek();
    if t.kind != TokenKind::Eof {
        return Err(p.unexpected(t, None));
    }
    Ok(expr)
}

/// Compiled regex matchers by pattern; each entry lists the (operator, label) variants seen.
type MatcherCache = HashMap<String, Vec<Matcher>>;

/// A reusable parser that remembers the regex matchers it has compiled.
///
/// Building a `=~`/`!~` matcher compiles its regex, which costs more than parsing the rest of a
/// typical query. A service that parses the same queries again and again (a query frontend,
/// dashboards refreshing, rule files reloaded) can keep one `QueryParser` and skip that work.
/// The cache holds at most [`QueryParser::CACHE_LIMIT`] patterns and is emptied when full.
///
/// ```
/// let mut p = promql::QueryParser::new(promql::ParseOptions::default());
/// let a = p.parse("up{job=~\"api|web\"}").unwrap();
/// let b = p.parse("rate(http_requests_total{job=~\"api|web\"}[5m])").unwrap();
/// assert_eq!(p.cached_patterns(), 1);
/// # let _ = (a, b);
/// ```
#[derive(Clone, Default)]
pub struct QueryParser {
    options: ParseOptions,
    cache: MatcherCache,
}

impl QueryParser {
    /// The most regex patterns kept before the cache is emptied.
    pub const CACHE_LIMIT: usize = 4096;

    /// A parser with `options` and an empty cache.
    pub fn new(options: ParseOptions) -> QueryParser {
        QueryParser {
            options,
            cache: MatcherCache::new(),
        }
    }

    /// Parses `input` exactly as [`parse_with`] does, reusing compiled regex matchers.
    pub fn parse(&mut self, input: &str) -> Result<Expr, ParseError> {
        if self.cache.len() >= Self::CACHE_LIMIT {
            self.cache.clear();
        }
        parse_inner(input, self.options, Some(&mut self.cache))
    }

    /// How many distinct regex patterns are cached.
    pub fn cached_patterns(&self) -> usize {
        self.cache.len()
    }
}

/// How deep expressions may nest before the parser gives up. This guards the stack: a debug
/// build uses about 12 KiB of stack per level, so 100 levels fit in a 2 MiB thread stack.
pub const MAX_DEPTH: usize = 100;

/// How deep the resulting tree may be, counting each operator of a chain like `a or b or c`
/// as a level: the printer, `Drop` and the engine walk trees recursively, so the depth is
/// bounded (a chain of up to about 1000 operators parses).
pub const MAX_TREE_DEPTH: usize = 1000;

struct Parser<'a> {
    input: &'a str,
    tokens: Vec<Token>,
    pos: usize,
    opts: ParseOptions,
    depth: usize,
    /// Set while parsing the second argument of `info`, whose selector may match everything.
    allow_empty_selector: bool,
    /// Binary operators chained on the current path (see [`MAX_TREE_DEPTH`]).
    chain: usize,
    /// Compiled regex matchers to reuse (see [`QueryParser`]).
    cache: Option<&'a mut MatcherCache>,
}

type PResult<T> = Result<T, ParseError>;

fn binary_op(kind: TokenKind, text: &str) -> Option<BinaryOp> {
    Some(match kind {
        TokenKind::Add => BinaryOp::Add,
        TokenKind::Sub => BinaryOp::Sub,
        TokenKind::Mul => BinaryOp::Mul,
        TokenKind::Div => BinaryOp::Div,
        TokenKind::Mod => BinaryOp::Mod,
        TokenKind::Pow => BinaryOp::Pow,
        TokenKind::EqlEq => BinaryOp::Eql,
        TokenKind::Neq => BinaryOp::Neq,
        TokenKind::Gtr => BinaryOp::Gtr,
        TokenKind::Lss => BinaryOp::Lss,
        TokenKind::Gte => BinaryOp::Gte,
        TokenKind::Lte => BinaryOp::Lte,
        TokenKind::TrimUpper => BinaryOp::TrimUpper,
        TokenKind::TrimLower => BinaryOp::TrimLower,
        TokenKind::Ident => {
            if text.eq_ignore_ascii_case("and") {
                BinaryOp::And
            } else if text.eq_ignore_ascii_case("or") {
                BinaryOp::Or
            } else if text.eq_ignore_ascii_case("unless") {
                BinaryOp::Unless
            } else if text.eq_ignore_ascii_case("atan2") {
                BinaryOp::Atan2
            } else {
                return None;
            }
        }
        _ => return None,
    })
}

/// Keywords that cannot be a bare metric name. Other keywords (`sum`, `and`, `offset`, `by`,
/// ...) name a metric when they stand where an operand is expected, as in Prometheus.
fn is_reserved(word: &str) -> bool {
    const RESERVED: [&str; 6] = [
        "on",
        "ignoring",
        "group_left",
        "group_right",
        "bool",
        "atan2",
    ];
    RESERVED.iter().any(|r| r.eq_ignore_ascii_case(word))
}

impl<'a> Parser<'a> {
    fn peek(&self) -> Token {
        self.tokens[self.pos]
    }

    fn peek_at(&self, n: usize) -> Token {
        self.tokens[(self.pos + n).min(self.tokens.len() - 1)]
    }

    fn bump(&mut self) -> Token {
        let t = self.tokens[self.pos];
        if t.kind != TokenKind::Eof {
            self.pos += 1;
        }
        t
    }

    fn text(&self, t: Token) -> &'a str {
        &self.input[t.span.start..t.span.end]
    }

    fn prev_end(&self) -> usize {
        if self.pos == 0 {
            0
        } else {
            self.tokens[self.pos - 1].span.end
        }
    }

    fn error(&self, kind: ParseErrorKind, span: Span) -> ParseError {
        ParseError::new(kind, span, self.input)
    }

    fn unexpected(&self, t: Token, expected: Option<&str>) -> ParseError {
        let found = match t.kind {
            TokenKind::Eof => "end of input".to_string(),
            TokenKind::Ident => format!("identifier {:?}", self.text(t)),
            TokenKind::Number | TokenKind::Duration | TokenKind::String => {
                format!("{} {}", t.kind.describe(), self.text(t))
            }
            k => k.describe().to_string(),
        };
        self.error(
            ParseErrorKind::Unexpected {
                found,
                expected: expected.map(str::to_string),
            },
            t.span,
        )
    }

    fn expect(&mut self, kind: TokenKind, what: &str) -> PResult<Token> {
        let t = self.peek();
        if t.kind == kind {
            Ok(self.bump())
        } else {
            Err(self.unexpected(t, Some(what)))
        }
    }

    fn is_word(&self, t: Token, word: &str) -> bool {
        t.kind == TokenKind::Ident && self.text(t).eq_ignore_ascii_case(word)
    }

    fn enter(&mut self, span: Span) -> PResult<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.error(ParseErrorKind::TooDeep(MAX_DEPTH), span));
        }
        Ok(())
    }

    // ---------------------------------------------------------------- expressions

    /// Parses a binary expression whose operators bind at least as tightly as `min_prec`.
    fn expr(&mut self, min_prec: u8) -> PResult<Expr> {
        self.enter(self.peek().span)?;
        let saved_chain = self.chain;
        let mut lhs = self.unary()?;
        loop {
            let t = self.peek();
            let Some(op) = binary_op(t.kind, self.text(t)) else {
                break;
            };
            let prec = op.precedence();
            if prec < min_prec {
                break;
            }
            self.bump();
            let modifiers = self.binary_modifiers(op)?;
            let next_min = if op.is_right_associative() {
                prec
            } else {
                prec + 1
            };
            let rhs = self.expr(next_min)?;
            lhs = self.binary(op, lhs, rhs, modifiers, t.span)?;
            // Each operator of a left-associative chain deepens the tree by one level.
            self.chain += 1;
            if self.depth + self.chain > MAX_TREE_DEPTH {
                return Err(self.error(ParseErrorKind::TooDeep(MAX_TREE_DEPTH), t.span));
            }
        }
        self.chain = saved_chain;
        self.depth -= 1;
        Ok(lhs)
    }

    /// A possibly signed operand: `-x ^ 2` is `-(x ^ 2)`.
    fn unary(&mut self) -> PResult<Expr> {
        let t = self.peek();
        let op = match t.kind {
            TokenKind::Sub => UnaryOp::Neg,
            TokenKind::Add => UnaryOp::Pos,
            _ => return self.postfix(),
        };
        self.bump();
        self.enter(t.span)?;
        let operand = self.expr(BinaryOp::Pow.precedence())?;
        self.depth -= 1;
        let span = t.span.to(operand.span());
        if let Expr::NumberLiteral(n) = operand {
            let value = if op == UnaryOp::Neg {
                -n.value
            } else {
                n.value
            };
            return Ok(Expr::NumberLiteral(NumberLiteral { value, span }));
        }
        let ty = operand.value_type();
        if ty != ValueType::Scalar && ty != ValueType::Vector {
            return Err(self.error(ParseErrorKind::UnaryOperandType(ty), operand.span()));
        }
        Ok(Expr::Unary(UnaryExpr {
            op,
            expr: Box::new(operand),
            span,
        }))
    }

    /// A primary expression followed by any `[...]`, `offset`, `@`, `anchored`, `smoothed`.
    fn postfix(&mut self) -> PResult<Expr> {
        let mut e = self.primary()?;
        loop {
            let t = self.peek();
            match t.kind {
                TokenKind::LBracket => e = self.range_or_subquery(e)?,
                TokenKind::At => {
                    self.bump();
                    let (at, end) = self.at_value()?;
                    e = self.set_at(e, at, t.span, end)?;
                }
                TokenKind::Ident if self.is_word(t, "offset") => {
                    self.bump();
                    let (ms, dexpr, end) = self.offset_value()?;
                    e = self.set_offset(e, ms, dexpr, t.span, end)?;
                }
                TokenKind::Ident if self.is_word(t, "anchored") || self.is_word(t, "smoothed") => {
                    if !self.opts.extended_range_selectors {
                        return Err(self.error(
                            ParseErrorKind::ExperimentalSyntax(
                                "the anchored/smoothed range selector modifier",
                            ),
                            t.span,
                        ));
                    }
                    self.bump();
                    let anchored = self.is_word(t, "anchored");
                    match &mut e {
                        Expr::MatrixSelector(m) => {
                            if m.vector.anchored || m.vector.smoothed {
                                return Err(self.error(
                                    ParseErrorKind::DuplicateModifier("anchored/smoothed"),
                                    t.span,
                                ));
                            }
                            if anchored {
                                m.vector.anchored = true;
                            } else {
                                m.vector.smoothed = true;
                            }
                            m.span.end = t.span.end;
                        }
                        Expr::VectorSelector(v) => {
                            if v.anchored || v.smoothed {
                                return Err(self.error(
                                    ParseErrorKind::DuplicateModifier("anchored/smoothed"),
                                    t.span,
                                ));
                            }
                            if anchored {
                                v.anchored = true;
                            } else {
                                v.smoothed = true;
                            }
                            v.span.end = t.span.end;
                        }
                        _ => {
                            return Err(self.error(
                                ParseErrorKind::MisplacedModifier(
                                    "anchored and smoothed modifiers can only be used on selectors",
                                ),
                                t.span,
                            ))
                        }
                    }
                }
                _ => break,
            }
        }
        Ok(e)
    }

    fn primary(&mut self) -> PResult<Expr> {
        let t = self.peek();
        match t.kind {
            TokenKind::Number => {
                self.bump();
                let text = self.text(t);
                let value = parse_number(text).ok_or_else(|| {
                    self.error(ParseErrorKind::InvalidNumber(text.to_string()), t.span)
                })?;
                Ok(Expr::NumberLiteral(NumberLiteral {
                    value,
                    span: t.span,
                }))
            }
            TokenKind::Duration => {
                self.bump();
                let ms = self.duration_literal(t)?;
                Ok(Expr::NumberLiteral(NumberLiteral {
                    value: ms as f64 / 1000.0,
                    span: t.span,
                }))
            }
            TokenKind::String => {
                self.bump();
                let value = self.string_value(t)?;
                Ok(Expr::StringLiteral(StringLiteral {
                    value,
                    span: t.span,
                }))
            }
            TokenKind::LParen => {
                self.bump();
                let inner = self.expr(0)?;
                let close = self.expect(TokenKind::RParen, "\")\"")?;
                Ok(Expr::Paren(ParenExpr {
                    expr: Box::new(inner),
                    span: t.span.to(close.span),
                }))
            }
            TokenKind::LBrace => self.selector(None, t.span),
            TokenKind::Ident => self.ident_primary(t),
            _ => Err(self.unexpected(t, Some("expression"))),
        }
    }

    fn ident_primary(&mut self, t: Token) -> PResult<Expr> {
        let text = self.text(t);
        if let Some(op) = AggregateOp::from_name(text) {
            let next = self.peek_at(1);
            if next.kind == TokenKind::LParen
                || self.is_word(next, "by")
                || self.is_word(next, "without")
            {
                return self.aggregate(op, t);
            }
        }
        if text.eq_ignore_ascii_case("inf") || text.eq_ignore_ascii_case("nan") {
            self.bump();
            let value = if text.eq_ignore_ascii_case("inf") {
                f64::INFINITY
            } else {
                f64::NAN
            };
            return Ok(Expr::NumberLiteral(NumberLiteral {
                value,
                span: t.span,
            }));
        }
        if self.peek_at(1).kind == TokenKind::LParen {
            return self.call(t);
        }
        if is_reserved(text) {
            return Err(self.unexpected(t, Some("expression")));
        }
        self.bump();
        if self.peek().kind == TokenKind::LBrace {
            self.selector(Some(t), t.span)
        } else {
            let m = Matcher::new(MatchOp::Equal, METRIC_NAME, text)
                .map_err(|e| self.error(ParseErrorKind::Matcher(e), t.span))?;
            Ok(Expr::VectorSelector(VectorSelector {
                name: Some(text.to_string()),
                matchers: vec![m],
                offset: 0,
                offset_expr: None,
                at: None,
                anchored: false,
                smoothed: false,
                span: t.span,
            }))
        }
    }

    /// Builds a matcher, taking compiled regex matchers from the cache when there is one.
    fn matcher(
        &mut self,
        op: MatchOp,
        label: String,
        value: String,
    ) -> Result<Matcher, exposition::MatcherError> {
        let regex = matches!(op, MatchOp::RegexMatch | MatchOp::RegexNoMatch);
        let Some(cache) = self.cache.as_deref_mut().filter(|_| regex) else {
            return Matcher::new(op, label, value);
        };
        if let Some(found) = cache
            .get(&value)
            .and_then(|v| v.iter().find(|m| m.op() == op && m.name() == label))
        {
            return Ok(found.clone());
        }
        let m = Matcher::new(op, label, value)?;
        cache
            .entry(m.value().to_string())
            .or_default()
            .push(m.clone());
        Ok(m)
    }

    fn string_value(&self, t: Token) -> PResult<String> {
        unquote(self.text(t)).map_err(|k| self.error(k, t.span))
    }

    fn duration_literal(&self, t: Token) -> PResult<i64> {
        let text = self.text(t);
        parse_duration_ms(text)
            .ok_or_else(|| self.error(ParseErrorKind::InvalidDuration(text.to_string()), t.span))
    }

    // ---------------------------------------------------------------- selectors

    /// `{...}` after an optional metric name token.
    fn selector(&mut self, name_tok: Option<Token>, start: Span) -> PResult<Expr> {
        self.expect(TokenKind::LBrace, "\"{\"")?;
        let mut name = name_tok.map(|t| self.text(t).to_string());
        let mut matchers = Vec::new();
        if let Some(n) = &name {
            let m = Matcher::new(MatchOp::Equal, METRIC_NAME, n.as_str())
                .map_err(|e| self.error(ParseErrorKind::Matcher(e), start))?;
            matchers.push(m);
        }
        loop {
            let t = self.peek();
            match t.kind {
                TokenKind::RBrace => break,
                TokenKind::Ident | TokenKind::String => {
                    self.bump();
                    let label = if t.kind == TokenKind::String {
                        self.string_value(t)?
                    } else {
                        self.text(t).to_string()
                    };
                    let op_tok = self.peek();
                    let op = match op_tok.kind {
                        TokenKind::Assign => Some(MatchOp::Equal),
                        TokenKind::Neq => Some(MatchOp::NotEqual),
                        TokenKind::RegexMatch => Some(MatchOp::RegexMatch),
                        TokenKind::RegexNoMatch => Some(MatchOp::RegexNoMatch),
                        _ => None,
                    };
                    match op {
                        Some(op) => {
                            self.bump();
                            let v = self.expect(TokenKind::String, "label matching value")?;
                            let value = self.string_value(v)?;
                            if let (Some(outer), METRIC_NAME) = (name_tok, label.as_str()) {
                                return Err(self.error(
                                    ParseErrorKind::DuplicateMetricName(
                                        self.text(outer).to_string(),
                                        value,
                                    ),
                                    t.span.to(v.span),
                                ));
                            }
                            let m = self.matcher(op, label, value).map_err(|e| {
                                self.error(ParseErrorKind::Matcher(e), t.span.to(v.span))
                            })?;
                            matchers.push(m);
                        }
                        None if t.kind == TokenKind::String => {
                            // A quoted metric name: {"http.requests"}.
                            if let Some(old) = &name {
                                return Err(self.error(
                                    ParseErrorKind::DuplicateMetricName(old.clone(), label),
                                    t.span,
                                ));
                            }
                            let m = Matcher::new(MatchOp::Equal, METRIC_NAME, label.as_str())
                                .map_err(|e| self.error(ParseErrorKind::Matcher(e), t.span))?;
                            matchers.push(m);
                            name = Some(label);
                        }
                        None => {
                            return Err(self.unexpected(op_tok, Some("label matching operator")))
                        }
                    }
                }
                _ => return Err(self.unexpected(t, Some("label matcher"))),
            }
            let t = self.peek();
            match t.kind {
                TokenKind::Comma => {
                    self.bump();
                }
                TokenKind::RBrace => {}
                _ => return Err(self.unexpected(t, Some("\",\" or \"}\""))),
            }
        }
        let close = self.bump();
        let span = start.to(close.span);
        let bypass = std::mem::take(&mut self.allow_empty_selector);
        if !bypass && matchers.iter().all(|m| m.matches_empty()) {
            return Err(self.error(ParseErrorKind::EmptySelector, span));
        }
        Ok(Expr::VectorSelector(VectorSelector {
            name,
            matchers,
            offset: 0,
            offset_expr: None,
            at: None,
            anchored: false,
            smoothed: false,
            span,
        }))
    }

    /// `[range]` on a selector, or `[range:step]` on any instant vector.
    fn range_or_subquery(&mut self, e: Expr) -> PResult<Expr> {
        let open = self.bump();
        let (range, range_expr) = self.duration_arg("range")?;
        let t = self.peek();
        if t.kind == TokenKind::Colon {
            self.bump();
            let (step, step_expr) = if self.peek().kind == TokenKind::RBracket {
                (None, None)
            } else {
                let (s, se) = self.duration_arg("step")?;
                (Some(s), se)
            };
            let close = self.expect(TokenKind::RBracket, "\"]\"")?;
            let ty = e.value_type();
            if ty != ValueType::Vector {
                return Err(self.error(ParseErrorKind::SubqueryOnNonVector(ty), e.span()));
            }
            let span = e.span().to(close.span);
            return Ok(Expr::Subquery(SubqueryExpr {
                expr: Box::new(e),
                range,
                range_expr,
                step,
                step_expr,
                offset: 0,
                offset_expr: None,
                at: None,
                span,
            }));
        }
        let close = self.expect(TokenKind::RBracket, "\"]\" or \":\"")?;
        match e {
            Expr::VectorSelector(v) => {
                if v.offset != 0 || v.offset_expr.is_some() {
                    return Err(self.error(
                        ParseErrorKind::MisplacedModifier(
                            "no offset modifiers allowed before range",
                        ),
                        open.span,
                    ));
                }
                if v.at.is_some() {
                    return Err(self.error(
                        ParseErrorKind::MisplacedModifier("no @ modifiers allowed before range"),
                        open.span,
                    ));
                }
                let span = v.span.to(close.span);
                Ok(Expr::MatrixSelector(MatrixSelector {
                    vector: v,
                    range,
                    range_expr,
                    span,
                }))
            }
            other => Err(self.error(ParseErrorKind::RangeOnNonSelector, other.span())),
        }
    }

    /// A range or step inside brackets: a literal or (with the option) a duration expression.
    /// Returns the constant value (0 when it depends on the query) and the expression when it
    /// was not a single literal.
    fn duration_arg(&mut self, what: &'static str) -> PResult<(i64, Option<Box<DurationExpr>>)> {
        let start = self.peek();
        let d = self.duration_expr(0)?;
        let literal = matches!(d, DurationExpr::Number { .. });
        if !literal && !self.opts.duration_expressions {
            return Err(self.error(
                ParseErrorKind::ExperimentalSyntax("duration expressions"),
                d.span(),
            ));
        }
        let value = if d.is_constant() {
            let ms = d
                .eval_ms(&DurationContext::default())
                .map_err(|e| self.error(ParseErrorKind::Duration(e), d.span()))?;
            if ms <= 0 {
                let msg = if what == "step" {
                    "step must be greater than 0"
                } else {
                    "duration must be greater than 0"
                };
                return Err(self.error(ParseErrorKind::BadDuration(msg), start.span.to(d.span())));
            }
            ms
        } else {
            0
        };
        Ok((value, if literal { None } else { Some(Box::new(d)) }))
    }

    /// Duration arithmetic with precedence climbing (`+ -` < `* / %` < unary < `^`).
    fn duration_expr(&mut self, min_prec: u8) -> PResult<DurationExpr> {
        self.enter(self.peek().span)?;
        let saved_chain = self.chain;
        let mut lhs = self.duration_unary()?;
        loop {
            let t = self.peek();
            let op = match t.kind {
                TokenKind::Add => BinaryOp::Add,
                TokenKind::Sub => BinaryOp::Sub,
                TokenKind::Mul => BinaryOp::Mul,
                TokenKind::Div => BinaryOp::Div,
                TokenKind::Mod => BinaryOp::Mod,
                TokenKind::Pow => BinaryOp::Pow,
                _ => break,
            };
            let prec = op.precedence();
            if prec < min_prec {
                break;
            }
            self.bump();
            let next = if op.is_right_associative() {
                prec
            } else {
                prec + 1
            };
            let rhs = self.duration_expr(next)?;
            let span = lhs.span().to(rhs.span());
            lhs = DurationExpr::Binary {
                op,
                lhs: Box::new(lhs),
                rhs: Box::new(rhs),
                span,
            };
            self.chain += 1;
            if self.depth + self.chain > MAX_TREE_DEPTH {
                return Err(self.error(ParseErrorKind::TooDeep(MAX_TREE_DEPTH), t.span));
            }
        }
        self.chain = saved_chain;
        self.depth -= 1;
        Ok(lhs)
    }

    fn duration_unary(&mut self) -> PResult<DurationExpr> {
        let t = self.peek();
        let op = match t.kind {
            TokenKind::Sub => UnaryOp::Neg,
            TokenKind::Add => UnaryOp::Pos,
            _ => return self.duration_atom(),
        };
        self.bump();
        self.enter(t.span)?;
        let inner = self.duration_expr(BinaryOp::Pow.precedence())?;
        self.depth -= 1;
        let span = t.span.to(inner.span());
        if let DurationExpr::Number {
            seconds,
            is_duration,
            ..
        } = inner
        {
            let seconds = if op == UnaryOp::Neg {
                -seconds
            } else {
                seconds
            };
            return Ok(DurationExpr::Number {
                seconds,
                is_duration,
                span,
            });
        }
        Ok(DurationExpr::Unary {
            op,
            expr: Box::new(inner),
            span,
        })
    }

    fn duration_atom(&mut self) -> PResult<DurationExpr> {
        let t = self.peek();
        match t.kind {
            TokenKind::Duration => {
                self.bump();
                let ms = self.duration_literal(t)?;
                Ok(DurationExpr::Number {
                    seconds: ms as f64 / 1000.0,
                    is_duration: true,
                    span: t.span,
                })
            }
            TokenKind::Number => {
                self.bump();
                let text = self.text(t);
                let seconds = parse_number(text).ok_or_else(|| {
                    self.error(ParseErrorKind::InvalidNumber(text.to_string()), t.span)
                })?;
                Ok(DurationExpr::Number {
                    seconds,
                    is_duration: false,
                    span: t.span,
                })
            }
            TokenKind::LParen => {
                self.bump();
                let inner = self.duration_expr(0)?;
                let close = self.expect(TokenKind::RParen, "\")\"")?;
                Ok(DurationExpr::Paren {
                    expr: Box::new(inner),
                    span: t.span.to(close.span),
                })
            }
            TokenKind::Ident if self.peek_at(1).kind == TokenKind::LParen => {
                let text = self.text(t);
                let lower = text.to_ascii_lowercase();
                match lower.as_str() {
                    "step" | "range" => {
                        self.bump();
                        self.bump();
                        let close = self.expect(TokenKind::RParen, "\")\"")?;
                        let span = t.span.to(close.span);
                        Ok(if lower == "step" {
                            DurationExpr::Step(span)
                        } else {
                            DurationExpr::Range(span)
                        })
                    }
                    "min_of" | "max_of" => {
                        self.bump();
                        self.bump();
                        let a = self.duration_expr(0)?;
                        self.expect(TokenKind::Comma, "\",\"")?;
                        let b = self.duration_expr(0)?;
                        let close = self.expect(TokenKind::RParen, "\")\"")?;
                        Ok(DurationExpr::MinMax {
                            max: lower == "max_of",
                            lhs: Box::new(a),
                            rhs: Box::new(b),
                            span: t.span.to(close.span),
                        })
                    }
                    _ => Err(self.unexpected(t, Some("duration"))),
                }
            }
            _ => Err(self.unexpected(t, Some("duration"))),
        }
    }

    /// What follows `offset`: a signed literal, or (with the option) a signed parenthesised
    /// duration expression, `step()`, `range()`, `min_of(..)`, `max_of(..)`.
    fn offset_value(&mut self) -> PResult<(i64, Option<Box<DurationExpr>>, usize)> {
        let t = self.peek();
        let (neg, first) = match t.kind {
            TokenKind::Sub => (true, self.peek_at(1)),
            TokenKind::Add => (false, self.peek_at(1)),
            _ => (false, t),
        };
        if matches!(first.kind, TokenKind::Duration | TokenKind::Number) {
            if first.span != t.span {
                self.bump();
            }
            self.bump();
            let ms = if first.kind == TokenKind::Duration {
                self.duration_literal(first)?
            } else {
                let text = self.text(first);
                let v = parse_number(text).ok_or_else(|| {
                    self.error(ParseErrorKind::InvalidNumber(text.to_string()), first.span)
                })?;
                let ms = (v * 1000.0).round();
                if !ms.is_finite() || ms.abs() >= 9.2e18 {
                    return Err(self.error(
                        ParseErrorKind::BadDuration("offset out of range"),
                        first.span,
                    ));
                }
                ms as i64
            };
            return Ok((if neg { -ms } else { ms }, None, first.span.end));
        }
        // A duration expression atom, optionally signed.
        if !self.opts.duration_expressions {
            return Err(self.unexpected(first, Some("duration")));
        }
        let d = if t.kind == TokenKind::Sub || t.kind == TokenKind::Add {
            self.bump();
            let inner = self.duration_atom()?;
            DurationExpr::Unary {
                op: if neg { UnaryOp::Neg } else { UnaryOp::Pos },
                span: t.span.to(inner.span()),
                expr: Box::new(inner),
            }
        } else {
            self.duration_atom()?
        };
        let end = d.span().end;
        let ms = if d.is_constant() {
            d.eval_ms(&DurationContext::default())
                .map_err(|e| self.error(ParseErrorKind::Duration(e), d.span()))?
        } else {
            0
        };
        Ok((ms, Some(Box::new(d)), end))
    }

    /// What follows `@`: a signed number (unix seconds), `start()` or `end()`.
    fn at_value(&mut self) -> PResult<(AtModifier, usize)> {
        let t = self.peek();
        if t.kind == TokenKind::Ident
            && (self.is_word(t, "start") || self.is_word(t, "end"))
            && self.peek_at(1).kind == TokenKind::LParen
        {
            let is_start = self.is_word(t, "start");
            self.bump();
            self.bump();
            let close = self.expect(TokenKind::RParen, "\")\"")?;
            let at = if is_start {
                AtModifier::Start
            } else {
                AtModifier::End
            };
            return Ok((at, close.span.end));
        }
        let (neg, num) = match t.kind {
            TokenKind::Sub => (true, self.peek_at(1)),
            TokenKind::Add => (false, self.peek_at(1)),
            _ => (false, t),
        };
        let value = match num.kind {
            TokenKind::Number => parse_number(self.text(num)),
            TokenKind::Duration => parse_duration_ms(self.text(num)).map(|ms| ms as f64 / 1000.0),
            TokenKind::Ident if self.is_word(num, "inf") => Some(f64::INFINITY),
            TokenKind::Ident if self.is_word(num, "nan") => Some(f64::NAN),
            _ => return Err(self.unexpected(num, Some("timestamp, start() or end()"))),
        }
        .ok_or_else(|| {
            self.error(
                ParseErrorKind::InvalidNumber(self.text(num).to_string()),
                num.span,
            )
        })?;
        if num.span != t.span {
            self.bump();
        }
        self.bump();
        let secs = if neg { -value } else { value };
        let ms = (secs * 1000.0).round();
        if !ms.is_finite() || ms.abs() > i64::MAX as f64 / 2.0 {
            return Err(self.error(ParseErrorKind::AtOutOfRange(secs), t.span.to(num.span)));
        }
        Ok((AtModifier::Timestamp(ms as i64), num.span.end))
    }

    fn set_offset(
        &self,
        mut e: Expr,
        ms: i64,
        dexpr: Option<Box<DurationExpr>>,
        kw: Span,
        end: usize,
    ) -> PResult<Expr> {
        let dup = |p: &Self| p.error(ParseErrorKind::DuplicateModifier("offset"), kw);
        match &mut e {
            Expr::VectorSelector(v) => {
                if v.offset != 0 || v.offset_expr.is_some() {
                    return Err(dup(self));
                }
                v.offset = ms;
                v.offset_expr = dexpr;
                v.span.end = end;
            }
            Expr::MatrixSelector(m) => {
                if m.vector.offset != 0 || m.vector.offset_expr.is_some() {
                    return Err(dup(self));
                }
                m.vector.offset = ms;
                m.vector.offset_expr = dexpr;
                m.span.end = end;
            }
            Expr::Subquery(s) => {
                if s.offset != 0 || s.offset_expr.is_some() {
                    return Err(dup(self));
                }
                s.offset = ms;
                s.offset_expr = dexpr;
                s.span.end = end;
            }
            _ => {
                return Err(self.error(
                    ParseErrorKind::MisplacedModifier(
                        "offset modifier must be preceded by an instant vector selector or range vector selector or a subquery",
                    ),
                    kw,
                ))
            }
        }
        Ok(e)
    }

    fn set_at(&self, mut e: Expr, at: AtModifier, kw: Span, end: usize) -> PResult<Expr> {
        let dup = |p: &Self| p.error(ParseErrorKind::DuplicateModifier("@ <timestamp>"), kw);
        match &mut e {
            Expr::VectorSelector(v) => {
                if v.at.is_some() {
                    return Err(dup(self));
                }
                v.at = Some(at);
                v.span.end = end;
            }
            Expr::MatrixSelector(m) => {
                if m.vector.at.is_some() {
                    return Err(dup(self));
                }
                m.vector.at = Some(at);
                m.span.end = end;
            }
            Expr::Subquery(s) => {
                if s.at.is_some() {
                    return Err(dup(self));
                }
                s.at = Some(at);
                s.span.end = end;
            }
            _ => {
                return Err(self.error(
                    ParseErrorKind::MisplacedModifier(
                        "@ modifier must be preceded by an instant vector selector or range vector selector or a subquery",
                    ),
                    kw,
                ))
            }
        }
        Ok(e)
    }

    // ---------------------------------------------------------------- binary operators

    fn label_list(&mut self) -> PResult<Vec<String>> {
        self.expect(TokenKind::LParen, "\"(\"")?;
        let mut labels = Vec::new();
        loop {
            let t = self.peek();
            match t.kind {
                TokenKind::RParen => break,
                TokenKind::Ident => {
                    self.bump();
                    labels.push(self.text(t).to_string());
                }
                TokenKind::String => {
                    self.bump();
                    labels.push(self.string_value(t)?);
                }
                _ => return Err(self.unexpected(t, Some("label"))),
            }
            let t = self.peek();
            match t.kind {
                TokenKind::Comma => {
                    self.bump();
                }
                TokenKind::RParen => {}
                _ => return Err(self.unexpected(t, Some("\",\" or \")\""))),
            }
        }
        self.bump();
        Ok(labels)
    }

    fn binary_modifiers(&mut self, op: BinaryOp) -> PResult<BinModifiers> {
        let mut m = BinModifiers::default();
        let t = self.peek();
        if self.is_word(t, "bool") {
            self.bump();
            if !op.is_comparison() {
                return Err(self.error(ParseErrorKind::BoolWithoutComparison, t.span));
            }
            m.return_bool = true;
        }
        let t = self.peek();
        if self.is_word(t, "on") || self.is_word(t, "ignoring") {
            self.bump();
            m.on = self.is_word(t, "on");
            m.labels = self.label_list()?;
            m.span = Some(t.span);
            let g = self.peek();
            if self.is_word(g, "group_left") || self.is_word(g, "group_right") {
                self.bump();
                m.card = if self.is_word(g, "group_left") {
                    Cardinality::ManyToOne
                } else {
                    Cardinality::OneToMany
                };
                if self.peek().kind == TokenKind::LParen {
                    m.include = self.label_list()?;
                }
                if op.is_set_operator() {
                    return Err(
                        self.error(ParseErrorKind::GroupingOnSetOperator(op.as_str()), g.span)
                    );
                }
            }
        }
        loop {
            let f = self.peek();
            let which = if self.is_word(f, "fill") {
                0
            } else if self.is_word(f, "fill_left") {
                1
            } else if self.is_word(f, "fill_right") {
                2
            } else {
                break;
            };
            if self.peek_at(1).kind != TokenKind::LParen {
                break;
            }
            if !self.opts.binop_fill_modifiers {
                return Err(self.error(
                    ParseErrorKind::ExperimentalSyntax("the fill modifier"),
                    f.span,
                ));
            }
            self.bump();
            self.bump();
            let v = self.fill_number()?;
            self.expect(TokenKind::RParen, "\")\"")?;
            if (which != 2 && m.fill.lhs.is_some()) || (which != 1 && m.fill.rhs.is_some()) {
                return Err(self.error(ParseErrorKind::DuplicateModifier("fill"), f.span));
            }
            if which != 2 {
                m.fill.lhs = Some(v);
            }
            if which != 1 {
                m.fill.rhs = Some(v);
            }
            m.span.get_or_insert(f.span);
        }
        Ok(m)
    }

    fn fill_number(&mut self) -> PResult<f64> {
        let t = self.peek();
        let (neg, num) = match t.kind {
            TokenKind::Sub => (true, self.peek_at(1)),
            TokenKind::Add => (false, self.peek_at(1)),
            _ => (false, t),
        };
        let v = match num.kind {
            TokenKind::Number => parse_number(self.text(num)),
            TokenKind::Ident if self.is_word(num, "inf") => Some(f64::INFINITY),
            TokenKind::Ident if self.is_word(num, "nan") => Some(f64::NAN),
            _ => None,
        }
        .ok_or_else(|| self.unexpected(num, Some("number")))?;
        if num.span != t.span {
            self.bump();
        }
        self.bump();
        Ok(if neg { -v } else { v })
    }

    fn binary(
        &self,
        op: BinaryOp,
        lhs: Expr,
        rhs: Expr,
        m: BinModifiers,
        op_span: Span,
    ) -> PResult<Expr> {
        let (lt, rt) = (lhs.value_type(), rhs.value_type());
        let span = lhs.span().to(rhs.span());
        for (side, ty) in [(&lhs, lt), (&rhs, rt)] {
            if ty != ValueType::Scalar && ty != ValueType::Vector {
                return Err(self.error(ParseErrorKind::BinaryOperandType, side.span()));
            }
        }
        let both_scalar = lt == ValueType::Scalar && rt == ValueType::Scalar;
        if op.is_comparison() && both_scalar && !m.return_bool {
            return Err(self.error(ParseErrorKind::ComparisonWithoutBool, span));
        }
        if op.is_set_operator() && (lt == ValueType::Scalar || rt == ValueType::Scalar) {
            return Err(self.error(ParseErrorKind::SetOperatorOnScalar(op.as_str()), span));
        }
        let matching = if lt == ValueType::Vector && rt == ValueType::Vector {
            let card = if op.is_set_operator() {
                Cardinality::ManyToMany
            } else {
                m.card
            };
            if m.on {
                if let Some(l) = m.include.iter().find(|l| m.labels.contains(l)) {
                    return Err(self.error(
                        ParseErrorKind::LabelInOnAndGroup(l.clone()),
                        m.span.unwrap_or(op_span),
                    ));
                }
            }
            Some(VectorMatching {
                card,
                on: m.on,
                labels: m.labels,
                include: m.include,
                fill: m.fill,
            })
        } else {
            if !m.labels.is_empty() || m.card != Cardinality::OneToOne {
                return Err(self.error(
                    ParseErrorKind::VectorMatchingNotVectors,
                    m.span.unwrap_or(op_span),
                ));
            }
            None
        };
        Ok(Expr::Binary(BinaryExpr {
            op,
            lhs: Box::new(lhs),
            rhs: Box::new(rhs),
            return_bool: m.return_bool,
            matching,
            span,
        }))
    }

    // ---------------------------------------------------------------- calls and aggregations

    /// `(arg, ...)`. The argument at index `bypass_empty` (if any) may be a selector whose
    /// matchers all match the empty string (the label selector of `info`).
    fn call_args(&mut self, bypass_empty: Option<usize>) -> PResult<(Vec<Expr>, Span)> {
        let open = self.expect(TokenKind::LParen, "\"(\"")?;
        let mut args = Vec::new();
        if self.peek().kind != TokenKind::RParen {
            loop {
                self.allow_empty_selector = bypass_empty == Some(args.len());
                let arg = self.expr(0);
                self.allow_empty_selector = false;
                args.push(arg?);
                let t = self.peek();
                match t.kind {
                    TokenKind::Comma => {
                        self.bump();
                        if self.peek().kind == TokenKind::RParen {
                            return Err(self.error(ParseErrorKind::TrailingComma, t.span));
                        }
                    }
                    TokenKind::RParen => break,
                    _ => return Err(self.unexpected(t, Some("\",\" or \")\""))),
                }
            }
        }
        let close = self.expect(TokenKind::RParen, "\")\"")?;
        Ok((args, open.span.to(close.span)))
    }

    fn call(&mut self, name_tok: Token) -> PResult<Expr> {
        let name = self.text(name_tok);
        let func = signatures::lookup(name).ok_or_else(|| {
            self.error(
                ParseErrorKind::UnknownFunction(name.to_string()),
                name_tok.span,
            )
        })?;
        if func.experimental && !self.opts.experimental_functions {
            return Err(self.error(
                ParseErrorKind::ExperimentalFunction(name.to_string()),
                name_tok.span,
            ));
        }
        self.bump();
        let bypass = (func.name == "info").then_some(1);
        let (args, arg_span) = self.call_args(bypass)?;
        let span = name_tok.span.to(arg_span);
        let got = args.len();
        if func.variadic == 0 {
            if got != func.arg_types.len() {
                return Err(self.error(
                    ParseErrorKind::ArgCount {
                        func: func.name,
                        expected: func.arg_types.len(),
                        got,
                    },
                    span,
                ));
            }
        } else if got < func.min_args() {
            return Err(self.error(
                ParseErrorKind::TooFewArgs {
                    func: func.name,
                    expected: func.min_args(),
                    got,
                },
                span,
            ));
        } else if let Some(max) = func.max_args() {
            if got > max {
                return Err(self.error(
                    ParseErrorKind::TooManyArgs {
                        func: func.name,
                        expected: max,
                        got,
                    },
                    span,
                ));
            }
        }
        for (i, a) in args.iter().enumerate() {
            let want = func.arg_type(i).unwrap_or(ValueType::Scalar);
            self.expect_type(a, want, || format!("call to function {:?}", func.name))?;
        }
        Ok(Expr::Call(Call { func, args, span }))
    }

    fn expect_type(
        &self,
        e: &Expr,
        want: ValueType,
        context: impl FnOnce() -> String,
    ) -> PResult<()> {
        let got = e.value_type();
        if got != want {
            return Err(self.error(
                ParseErrorKind::TypeMismatch {
                    context: context(),
                    expected: want,
                    got,
                },
                e.span(),
            ));
        }
        Ok(())
    }

    fn grouping(&mut self) -> PResult<Option<(bool, Vec<String>)>> {
        let t = self.peek();
        if self.is_word(t, "by") || self.is_word(t, "without") {
            self.bump();
            let labels = self.label_list()?;
            return Ok(Some((self.is_word(t, "without"), labels)));
        }
        Ok(None)
    }

    fn aggregate(&mut self, op: AggregateOp, op_tok: Token) -> PResult<Expr> {
        if op.is_experimental() && !self.opts.experimental_functions {
            return Err(self.error(
                ParseErrorKind::ExperimentalFunction(op.as_str().to_string()),
                op_tok.span,
            ));
        }
        self.bump();
        let before = self.grouping()?;
        let (mut args, arg_span) = self.call_args(None)?;
        let after = if before.is_none() {
            self.grouping()?
        } else {
            None
        };
        let mut span = op_tok.span.to(arg_span);
        if after.is_some() {
            span.end = self.prev_end();
        }
        let (without, grouping) = before.or(after).unwrap_or((false, Vec::new()));
        let want = if op.param_type().is_some() { 2 } else { 1 };
        if args.len() != want {
            return Err(self.error(
                ParseErrorKind::AggregateArgCount {
                    expected: want,
                    got: args.len(),
                },
                span,
            ));
        }
        let expr = args.pop().expect("checked length");
        let param = args.pop();
        self.expect_type(&expr, ValueType::Vector, || {
            "aggregation expression".to_string()
        })?;
        if let (Some(p), Some(pt)) = (&param, op.param_type()) {
            self.expect_type(p, pt, || "aggregation parameter".to_string())?;
        }
        Ok(Expr::Aggregate(AggregateExpr {
            op,
            expr: Box::new(expr),
            param: param.map(Box::new),
            without,
            grouping,
            span,
        }))
    }
}

#[derive(Default)]
struct BinModifiers {
    return_bool: bool,
    on: bool,
    labels: Vec<String>,
    include: Vec<String>,
    card: Cardinality,
    fill: FillValues,
    span: Option<Span>,
}
