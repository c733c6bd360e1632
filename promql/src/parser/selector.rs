//! Selectors and their modifiers: `{...}`, `[range]`, `[range:step]`, `offset`, `@`, and the
//! duration expressions allowed inside brackets and after `offset`.

use super::{PResult, Parser, MAX_TREE_DEPTH};
use crate::ast::*;
use crate::error::ParseErrorKind;
use crate::lexer::{parse_duration_ms, parse_number, Token, TokenKind};
use exposition::{MatchOp, Matcher, METRIC_NAME};

impl Parser<'_> {
    // ---------------------------------------------------------------- selectors

    /// `{...}` after an optional metric name token.
    pub(super) fn selector(&mut self, name_tok: Option<Token>, start: Span) -> PResult<Expr> {
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
                            // The name matcher goes first, as for `name{...}`, so the
                            // printer (which writes the name first) round-trips.
                            matchers.insert(0, m);
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
    pub(super) fn range_or_subquery(&mut self, e: Expr) -> PResult<Expr> {
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
    pub(super) fn duration_arg(
        &mut self,
        what: &'static str,
    ) -> PResult<(i64, Option<Box<DurationExpr>>)> {
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
    pub(super) fn duration_expr(&mut self, min_prec: u8) -> PResult<DurationExpr> {
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

    pub(super) fn duration_unary(&mut self) -> PResult<DurationExpr> {
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

    pub(super) fn duration_atom(&mut self) -> PResult<DurationExpr> {
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
    pub(super) fn offset_value(&mut self) -> PResult<(i64, Option<Box<DurationExpr>>, usize)> {
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
    pub(super) fn at_value(&mut self) -> PResult<(AtModifier, usize)> {
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

    pub(super) fn set_offset(
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

    pub(super) fn set_at(
        &self,
        mut e: Expr,
        at: AtModifier,
        kw: Span,
        end: usize,
    ) -> PResult<Expr> {
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
}
