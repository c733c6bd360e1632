//! Binary operators (modifiers and type checks), function calls and aggregations.

use super::{PResult, Parser};
use crate::ast::*;
use crate::error::ParseErrorKind;
use crate::lexer::{parse_number, Token, TokenKind};
use crate::signatures;

impl Parser<'_> {
    // ---------------------------------------------------------------- binary operators

    pub(super) fn label_list(&mut self) -> PResult<Vec<String>> {
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

    pub(super) fn binary_modifiers(&mut self, op: BinaryOp) -> PResult<BinModifiers> {
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

    pub(super) fn fill_number(&mut self) -> PResult<f64> {
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

    pub(super) fn binary(
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
    pub(super) fn call_args(&mut self, bypass_empty: Option<usize>) -> PResult<(Vec<Expr>, Span)> {
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

    pub(super) fn call(&mut self, name_tok: Token) -> PResult<Expr> {
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

    pub(super) fn expect_type(
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

    pub(super) fn grouping(&mut self) -> PResult<Option<(bool, Vec<String>)>> {
        let t = self.peek();
        if self.is_word(t, "by") || self.is_word(t, "without") {
            self.bump();
            let labels = self.label_list()?;
            return Ok(Some((self.is_word(t, "without"), labels)));
        }
        Ok(None)
    }

    pub(super) fn aggregate(&mut self, op: AggregateOp, op_tok: Token) -> PResult<Expr> {
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
pub(super) struct BinModifiers {
    return_bool: bool,
    on: bool,
    labels: Vec<String>,
    include: Vec<String>,
    card: Cardinality,
    fill: FillValues,
    span: Option<Span>,
}
