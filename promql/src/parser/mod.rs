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
use exposition::{MatchOp, Matcher, METRIC_NAME};
use std::collections::HashMap;

mod operators;
mod selector;

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
}
