//! Round-trip property of the printer over generated syntax trees: for every well-typed tree
//! `t` (with parentheses where the grammar needs them), `parse(print(t))` equals `t` up to spans,
//! and printing is a fixed point: `print(parse(print(t))) == print(t)`.

use exposition::{MatchOp, Matcher, METRIC_NAME};
use promql::ast::*;
use promql::printer::print;
use promql::signatures::lookup;
use promql::{parse_with, ParseOptions};
use proptest::prelude::*;

const SP: Span = Span { start: 0, end: 0 };

fn paren(e: Expr) -> Expr {
    Expr::Paren(ParenExpr {
        expr: Box::new(e),
        span: SP,
    })
}

fn call(name: &str, args: Vec<Expr>) -> Expr {
    Expr::Call(Call {
        func: lookup(name).unwrap(),
        args,
        span: SP,
    })
}

fn as_vector(e: Expr) -> Expr {
    if e.value_type() == ValueType::Scalar {
        call("vector", vec![e])
    } else {
        e
    }
}

fn label_name() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("job".to_string()),
        Just("instance".to_string()),
        Just("on".to_string()),
        Just("le".to_string()),
        Just("service.name".to_string()),
        "[a-z_][a-z0-9_]{0,6}",
    ]
}

fn metric_name() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("http_requests_total".to_string()),
        Just("node:cpu:rate5m".to_string()),
        Just("http.server.duration".to_string()),
        Just("sum".to_string()),
        Just("offset".to_string()),
        Just("nan".to_string()),
        "[a-z_:][a-z0-9_:]{0,8}",
    ]
}

fn label_value() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z0-9]{1,5}",
        "\\PC{0,6}",
        Just("a\"b\\c\nd\u{1}".to_string())
    ]
}

fn selector() -> impl Strategy<Value = VectorSelector> {
    (
        metric_name(),
        prop::collection::vec((label_name(), 0..4u8, label_value()), 0..3),
        prop_oneof![Just(0i64), -100_000_000i64..100_000_000],
        prop::option::of(prop_oneof![
            Just(AtModifier::Start),
            Just(AtModifier::End),
            (-10_000_000_000i64..10_000_000_000).prop_map(AtModifier::Timestamp),
        ]),
    )
        .prop_map(|(name, labels, offset, at)| {
            let mut matchers =
                vec![Matcher::new(MatchOp::Equal, METRIC_NAME, name.as_str()).unwrap()];
            for (l, op, v) in labels {
                let op = [
                    MatchOp::Equal,
                    MatchOp::NotEqual,
                    MatchOp::RegexMatch,
                    MatchOp::RegexNoMatch,
                ][op as usize];
                let v = if matches!(op, MatchOp::RegexMatch | MatchOp::RegexNoMatch) {
                    regex_syntax_safe(&v)
                } else {
                    v
                };
                matchers.push(Matcher::new(op, l.as_str(), v).unwrap());
            }
            VectorSelector {
                name: Some(name),
                matchers,
                offset,
                offset_expr: None,
                at,
                anchored: false,
                smoothed: false,
                span: SP,
            }
        })
}

/// Keeps only characters that cannot make an invalid regex.
fn regex_syntax_safe(v: &str) -> String {
    v.chars().filter(|c| c.is_ascii_alphanumeric()).collect()
}

fn number() -> impl Strategy<Value = f64> {
    prop_oneof![
        0.0f64..1e9,
        Just(f64::INFINITY),
        Just(f64::NAN),
        Just(1e-9),
        Just(1.5e300),
        (0u32..10_000).prop_map(f64::from),
    ]
}

fn duration() -> impl Strategy<Value = i64> {
    prop_oneof![1i64..100_000_000, Just(60_000), Just(31_536_000_000)]
}

fn leaf() -> impl Strategy<Value = Expr> {
    prop_oneof![
        number().prop_map(|value| Expr::NumberLiteral(NumberLiteral { value, span: SP })),
        selector().prop_map(Expr::VectorSelector),
        (selector(), duration()).prop_map(|(v, range)| call(
            "rate",
            vec![Expr::MatrixSelector(MatrixSelector {
                vector: v,
                range,
                range_expr: None,
                span: SP,
            })]
        )),
        Just(call("time", vec![])),
    ]
}

const OPS: [BinaryOp; 16] = [
    BinaryOp::Add,
    BinaryOp::Sub,
    BinaryOp::Mul,
    BinaryOp::Div,
    BinaryOp::Mod,
    BinaryOp::Pow,
    BinaryOp::Atan2,
    BinaryOp::Eql,
    BinaryOp::Neq,
    BinaryOp::Gtr,
    BinaryOp::Lss,
    BinaryOp::Gte,
    BinaryOp::Lte,
    BinaryOp::And,
    BinaryOp::Or,
    BinaryOp::Unless,
];

#[allow(clippy::too_many_arguments)]
fn binary(
    op: BinaryOp,
    lhs: Expr,
    rhs: Expr,
    bool_flag: bool,
    on: bool,
    labels: Vec<String>,
    group: u8,
    include: Vec<String>,
) -> Expr {
    let (lt, rt) = (lhs.value_type(), rhs.value_type());
    let both_vec = lt == ValueType::Vector && rt == ValueType::Vector;
    let op = if op.is_set_operator() && !both_vec {
        BinaryOp::Add
    } else {
        op
    };
    let return_bool =
        op.is_comparison() && (bool_flag || (lt == ValueType::Scalar && rt == ValueType::Scalar));
    let matching = both_vec.then(|| {
        let card = if op.is_set_operator() {
            Cardinality::ManyToMany
        } else {
            [
                Cardinality::OneToOne,
                Cardinality::ManyToOne,
                Cardinality::OneToMany,
            ][group as usize]
        };
        let grouped = matches!(card, Cardinality::ManyToOne | Cardinality::OneToMany);
        VectorMatching {
            card,
            on,
            include: if grouped {
                include
                    .into_iter()
                    .filter(|l| !on || !labels.contains(l))
                    .collect()
            } else {
                Vec::new()
            },
            labels,
            fill: FillValues::default(),
        }
    });
    Expr::Binary(BinaryExpr {
        op,
        lhs: Box::new(paren(lhs)),
        rhs: Box::new(paren(rhs)),
        return_bool,
        matching,
        span: SP,
    })
}

fn expr() -> impl Strategy<Value = Expr> {
    leaf().prop_recursive(5, 48, 3, |inner| {
        prop_oneof![
            (
                0..16usize,
                inner.clone(),
                inner.clone(),
                any::<bool>(),
                any::<bool>(),
                prop::collection::vec(label_name(), 0..3),
                0..3u8,
                prop::collection::vec(label_name(), 0..2),
            )
                .prop_map(|(op, l, r, b, on, labels, g, inc)| binary(
                    OPS[op], l, r, b, on, labels, g, inc
                )),
            (
                0..8usize,
                inner.clone(),
                any::<bool>(),
                prop::collection::vec(label_name(), 0..3),
                number()
            )
                .prop_map(|(op, e, without, grouping, k)| {
                    let op = AggregateOp::ALL[op];
                    Expr::Aggregate(AggregateExpr {
                        op,
                        expr: Box::new(as_vector(e)),
                        param: None,
                        without,
                        grouping: if without || k > 0.5 {
                            grouping
                        } else {
                            Vec::new()
                        },
                        span: SP,
                    })
                }),
            (inner.clone(), number(), "[a-z]{1,4}").prop_map(|(e, k, l)| {
                let (op, param) = if k > 1e6 {
                    (
                        AggregateOp::CountValues,
                        Expr::StringLiteral(StringLiteral { value: l, span: SP }),
                    )
                } else {
                    (
                        AggregateOp::Topk,
                        Expr::NumberLiteral(NumberLiteral { value: k, span: SP }),
                    )
                };
                Expr::Aggregate(AggregateExpr {
                    op,
                    expr: Box::new(as_vector(e)),
                    param: Some(Box::new(param)),
                    without: false,
                    grouping: Vec::new(),
                    span: SP,
                })
            }),
            inner.clone().prop_map(|e| Expr::Unary(UnaryExpr {
                op: UnaryOp::Neg,
                expr: Box::new(paren(e)),
                span: SP,
            })),
            (inner.clone(), inner.clone()).prop_map(|(v, s)| {
                let s = if s.value_type() == ValueType::Scalar {
                    s
                } else {
                    call("scalar", vec![s])
                };
                call("round", vec![as_vector(v), s])
            }),
            (inner.clone(), "\\PC{0,4}").prop_map(|(v, s)| call(
                "label_replace",
                vec![
                    as_vector(v),
                    Expr::StringLiteral(StringLiteral {
                        value: "dst".into(),
                        span: SP
                    }),
                    Expr::StringLiteral(StringLiteral { value: s, span: SP }),
                    Expr::StringLiteral(StringLiteral {
                        value: "src".into(),
                        span: SP
                    }),
                    Expr::StringLiteral(StringLiteral {
                        value: "(.*)".into(),
                        span: SP
                    }),
                ]
            )),
            (
                inner,
                duration(),
                prop::option::of(duration()),
                prop_oneof![Just(0i64), duration()]
            )
                .prop_map(|(e, range, step, offset)| call(
                    "max_over_time",
                    vec![Expr::Subquery(SubqueryExpr {
                        expr: Box::new(paren(as_vector(e))),
                        range,
                        range_expr: None,
                        step,
                        step_expr: None,
                        offset,
                        offset_expr: None,
                        at: None,
                        span: SP,
                    })]
                )),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn print_then_parse_is_identity(tree in expr()) {
        let text = print(&tree);
        let parsed = parse_with(&text, ParseOptions::all())
            .map_err(|e| TestCaseError::fail(format!("{text:?} does not parse: {e}")))?;
        prop_assert!(parsed.same_as(&tree), "tree changed through {:?}:\n{:?}", text, parsed);
        prop_assert_eq!(print(&parsed), text);
        let multi = promql::printer::pretty(&tree);
        let reparsed = parse_with(&multi, ParseOptions::all())
            .map_err(|e| TestCaseError::fail(format!("pretty form {multi:?} does not parse: {e}")))?;
        prop_assert!(reparsed.same_as(&tree), "pretty form changed the tree:\n{}", multi);
    }

    #[test]
    fn parser_never_panics(s in "\\PC{0,40}") {
        let _ = parse_with(&s, ParseOptions::all());
    }

    #[test]
    fn parser_never_panics_on_promql_like_text(
        parts in prop::collection::vec(prop_oneof![
            Just("sum"), Just("("), Just(")"), Just("{"), Just("}"), Just("["), Just("]"),
            Just("foo"), Just("=~"), Just("\"a\""), Just(","), Just("5m"), Just(":"),
            Just("offset"), Just("@"), Just("by"), Just("+"), Just("-"), Just("^"), Just("1"),
            Just("rate"), Just("on"), Just("group_left"), Just("bool"), Just(">"), Just("and"),
            Just("step()"), Just("start()"), Just("'x"), Just("#"), Just("\n"), Just("anchored"),
        ], 0..30)
    ) {
        let s = parts.join(" ");
        if let Ok(e) = parse_with(&s, ParseOptions::all()) {
            let again = parse_with(&print(&e), ParseOptions::all()).unwrap();
            prop_assert!(again.same_as(&e), "{}", s);
        }
    }
}
