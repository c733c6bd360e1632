//! Grammar, type checking, error positions and canonical printing of the PromQL parser.

use promql::ast::*;
use promql::printer::print;
use promql::{parse, parse_with, ParseErrorKind, ParseOptions};

fn p(s: &str) -> Expr {
    parse_with(s, ParseOptions::all()).unwrap_or_else(|e| panic!("{s:?}: {}", e.render(s)))
}

fn err(s: &str) -> promql::ParseError {
    match parse_with(s, ParseOptions::all()) {
        Ok(e) => panic!("{s:?} parsed as {e}"),
        Err(e) => e,
    }
}

fn bin(e: &Expr) -> &BinaryExpr {
    match e {
        Expr::Binary(b) => b,
        other => panic!("not binary: {other:?}"),
    }
}

#[test]
fn precedence_and_associativity() {
    let e = p("1 + 2 * 3");
    assert_eq!(bin(&e).op, BinaryOp::Add);
    assert_eq!(bin(&bin(&e).rhs).op, BinaryOp::Mul);

    let e = p("2 ^ 3 ^ 2");
    assert_eq!(bin(&e).op, BinaryOp::Pow);
    assert!(matches!(*bin(&e).lhs, Expr::NumberLiteral(_)));
    assert_eq!(bin(&bin(&e).rhs).op, BinaryOp::Pow);

    let e = p("a - b - c");
    assert_eq!(bin(&bin(&e).lhs).op, BinaryOp::Sub);

    let e = p("a or b and c unless d");
    assert_eq!(bin(&e).op, BinaryOp::Or);
    assert_eq!(bin(&bin(&e).rhs).op, BinaryOp::Unless);

    // Unary minus binds looser than ^ but tighter than *.
    assert!(matches!(p("-2 ^ 2"), Expr::Unary(_)));
    let e = p("-a * b");
    assert!(matches!(*bin(&e).lhs, Expr::Unary(_)));
    // A sign on a literal folds into it.
    match p("- -1") {
        Expr::NumberLiteral(n) => assert_eq!(n.value, 1.0),
        other => panic!("{other:?}"),
    }
    assert!(matches!(p("a > bool 1 == bool 2"), Expr::Binary(_)));
}

#[test]
fn literals() {
    let num = |s: &str| match p(s) {
        Expr::NumberLiteral(n) => n.value,
        other => panic!("{other:?}"),
    };
    assert_eq!(num("0x1F"), 31.0);
    assert_eq!(num("1e3"), 1000.0);
    assert_eq!(num(".5"), 0.5);
    assert_eq!(num("-inF"), f64::NEG_INFINITY);
    assert!(num("NaN").is_nan());
    assert_eq!(num("5m"), 300.0);
    assert_eq!(num("1h30m"), 5400.0);
    let s = |src: &str| match p(src) {
        Expr::StringLiteral(s) => s.value,
        other => panic!("{other:?}"),
    };
    assert_eq!(s(r#""a\tb""#), "a\tb");
    assert_eq!(s("'it\\'s'"), "it's");
    assert_eq!(s("`raw\\n`"), "raw\\n");
}

#[test]
fn selectors_and_modifiers() {
    let Expr::VectorSelector(v) = p(r#"{"http.requests", job="a"}"#) else {
        panic!()
    };
    assert_eq!(v.name.as_deref(), Some("http.requests"));
    assert_eq!(v.matchers.len(), 2);

    let Expr::VectorSelector(v) = p("foo offset -5m @ 100.5") else {
        panic!()
    };
    assert_eq!(v.offset, -300_000);
    assert_eq!(v.at, Some(AtModifier::Timestamp(100_500)));
    let Expr::VectorSelector(v) = p("foo @ end() offset 1h") else {
        panic!()
    };
    assert_eq!((v.offset, v.at), (3_600_000, Some(AtModifier::End)));

    let Expr::MatrixSelector(m) = p("foo:bar{a=~\"x.*\"}[1m30s] offset 1m") else {
        panic!()
    };
    assert_eq!(m.range, 90_000);
    assert_eq!(m.vector.offset, 60_000);

    let Expr::Subquery(s) = p("rate(foo[5m])[1h:]") else {
        panic!()
    };
    assert_eq!((s.range, s.step), (3_600_000, None));
    let Expr::Subquery(s) = p("foo[1h:5m] @ start()") else {
        panic!()
    };
    assert_eq!((s.step, s.at), (Some(300_000), Some(AtModifier::Start)));

    // Floats act as durations (seconds).
    let Expr::MatrixSelector(m) = p("foo[90]") else {
        panic!()
    };
    assert_eq!(m.range, 90_000);
}

#[test]
fn aggregations_and_calls() {
    let a = p("sum(x) by (job, \"a.b\")");
    let b = p("sum by (job, \"a.b\") (x)");
    assert!(a.same_as(&b));
    let Expr::Aggregate(t) = p("topk(3, x) without (a)") else {
        panic!()
    };
    assert_eq!(t.op, AggregateOp::Topk);
    assert!(t.without);
    assert!(t.param.is_some());
    assert!(matches!(p("count_values(\"v\", x)"), Expr::Aggregate(_)));
    let Expr::Call(c) = p("label_join(x, \"d\", \",\", \"a\", \"b\", \"c\")") else {
        panic!()
    };
    assert_eq!(c.args.len(), 6);
    assert!(matches!(p("round(x)"), Expr::Call(_)));
    assert!(matches!(p("round(x, 0.5)"), Expr::Call(_)));
    assert_eq!(p("time()").value_type(), ValueType::Scalar);
    assert_eq!(p("foo[5m]").value_type(), ValueType::Matrix);
}

#[test]
fn vector_matching() {
    let e = p("a * on(job) group_left(instance) b");
    let m = bin(&e).matching.as_ref().unwrap();
    assert_eq!(m.card, Cardinality::ManyToOne);
    assert!(m.on);
    assert_eq!(m.labels, vec!["job"]);
    assert_eq!(m.include, vec!["instance"]);
    let e = p("a and b");
    assert_eq!(
        bin(&e).matching.as_ref().unwrap().card,
        Cardinality::ManyToMany
    );
    assert!(bin(&p("a + 1")).matching.is_none());
    let e = p("a + fill_left(1) fill_right(2) b");
    let f = bin(&e).matching.as_ref().unwrap().fill;
    assert_eq!((f.lhs, f.rhs), (Some(1.0), Some(2.0)));
}

#[test]
fn duration_expressions() {
    let Expr::MatrixSelector(m) = p("foo[2m*(10+5)]") else {
        panic!()
    };
    assert_eq!(m.range, 1_800_000);
    assert!(m.range_expr.is_some());
    let Expr::MatrixSelector(mut m) = p("foo[step() + 1m]") else {
        panic!()
    };
    assert_eq!(m.range, 0);
    let mut e = Expr::MatrixSelector(m.clone());
    resolve_durations(
        &mut e,
        &DurationContext {
            step_ms: 15_000,
            range_ms: 0,
        },
    )
    .unwrap();
    let Expr::MatrixSelector(r) = e else { panic!() };
    assert_eq!(r.range, 75_000);
    m.range = 1;
    // offset takes one atom: `x offset 100 + 2` is `(x offset 100) + 2`.
    assert!(matches!(p("x offset 100 + 2"), Expr::Binary(_)));
    let Expr::VectorSelector(v) = p("x offset (100 + 2)") else {
        panic!()
    };
    assert_eq!(v.offset, 102_000);
}

#[test]
fn type_errors_read_like_prometheus() {
    let cases: &[(&str, &str)] = &[
        (
            "rate(foo)",
            "expected type range vector in call to function \"rate\", got instant vector",
        ),
        (
            "1 > 2",
            "comparisons between scalars must use BOOL modifier",
        ),
        (
            "a and on(x) group_left b",
            "no grouping allowed for \"and\" operation",
        ),
        (
            "{}",
            "vector selector must contain at least one non-empty matcher",
        ),
        (
            "{a=\"\"}",
            "vector selector must contain at least one non-empty matcher",
        ),
        (
            "a + on(x) 1",
            "vector matching only allowed between instant vectors",
        ),
        (
            "1 and a",
            "set operator \"and\" not allowed in binary scalar expression",
        ),
        (
            "a + bool b",
            "bool modifier can only be used on comparison operators",
        ),
        (
            "clamp(x, 1)",
            "expected 3 argument(s) in call to \"clamp\", got 2",
        ),
        (
            "label_join(x)",
            "expected at least 3 argument(s) in call to \"label_join\", got 1",
        ),
        (
            "round(x, 1, 2)",
            "expected at most 2 argument(s) in call to \"round\", got 3",
        ),
        (
            "sum(a, b)",
            "wrong number of arguments for aggregate expression provided, expected 1, got 2",
        ),
        (
            "topk(a)",
            "wrong number of arguments for aggregate expression provided, expected 2, got 1",
        ),
        ("foo[5m][1m]", "ranges only allowed for vector selectors"),
        (
            "foo[5m][1h:]",
            "subquery is only allowed on instant vector, got range vector instead",
        ),
        (
            "foo offset 1m offset 2m",
            "offset may not be set multiple times",
        ),
        ("nosuch(x)", "unknown function with name \"nosuch\""),
        (
            "a * on(x) group_left(x) b",
            "label \"x\" must not occur in ON and GROUP clause at once",
        ),
        ("foo[0s]", "duration must be greater than 0"),
        (
            "foo[5m] + bar[5m]",
            "binary expression must contain only scalar and instant vector types",
        ),
        (
            "count_values(1, x)",
            "expected type string in aggregation parameter, got scalar",
        ),
        ("", "no expression found in input"),
        ("rate(x[5m],)", "trailing commas not allowed in function call args"),
        ("-foo[5m]", "unary expression only allowed on expressions of type scalar or instant vector, got \"range vector\""),
        ("foo{__name__=\"bar\"}", "metric name must not be set twice: \"foo\" or \"bar\""),
        ("{\"foo\", \"bar\"}", "metric name must not be set twice: \"foo\" or \"bar\""),
    ];
    for (src, msg) in cases {
        assert_eq!(&err(src).message(), msg, "for {src:?}");
    }
}

#[test]
fn error_positions() {
    let e = err("sum(rate(foo))");
    assert_eq!((e.line(), e.column()), (1, 10));
    assert_eq!(e.span(), Span::new(9, 12));
    let e = err("foo +\n  bar{a=1}");
    assert_eq!((e.line(), e.column()), (2, 9));
    assert!(e
        .to_string()
        .starts_with("2:9: parse error: unexpected number 1"));
    let r = err("x + ~").render("x + ~");
    assert!(r.ends_with("x + ~\n      ^"), "{r}");
    let e = err("foo{a=\"b\"");
    assert!(e.message().contains("end of input"), "{}", e.message());
}

#[test]
fn experimental_syntax_needs_options() {
    for src in [
        "sort_by_label(x, \"a\")",
        "limitk(2, x)",
        "rate(x[5m] anchored)",
        "a + fill(0) b",
    ] {
        let e = parse(src).unwrap_err();
        assert!(
            matches!(
                e.kind(),
                ParseErrorKind::ExperimentalFunction(_) | ParseErrorKind::ExperimentalSyntax(_)
            ),
            "{src}: {e}"
        );
        assert!(parse_with(src, ParseOptions::all()).is_ok(), "{src}");
    }
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    let src = format!("{}1{}", "(".repeat(5000), ")".repeat(5000));
    assert!(matches!(err(&src).kind(), ParseErrorKind::TooDeep(_)));
    let src = format!("{}1", "-".repeat(5000));
    assert!(matches!(err(&src).kind(), ParseErrorKind::TooDeep(_)));
    let long_chain = format!("{}a", "a or ".repeat(990));
    let e = p(&long_chain);
    assert!(p(&print(&e)).same_as(&e));
    assert!(p(&promql::printer::pretty(&e)).same_as(&e));
    drop(e);
    let src = format!("{}a", "a or ".repeat(5000));
    assert!(matches!(err(&src).kind(), ParseErrorKind::TooDeep(_)));
    let src = format!("foo[{}1m]", "1m + ".repeat(5000));
    assert!(matches!(err(&src).kind(), ParseErrorKind::TooDeep(_)));
    let src = format!("foo[{}1m{}]", "(".repeat(5000), ")".repeat(5000));
    assert!(matches!(err(&src).kind(), ParseErrorKind::TooDeep(_)));
}

#[test]
fn canonical_printing() {
    let cases: &[(&str, &str)] = &[
        ("sum(rate(x[5m]))by(job)", "sum by (job) (rate(x[5m]))"),
        ("foo{a='b',c!~\"d\"}", "foo{a=\"b\", c!~\"d\"}"),
        ("{__name__=\"foo\"}", "{__name__=\"foo\"}"),
        ("{\"foo.bar\",x=\"y\"}", "{\"foo.bar\", x=\"y\"}"),
        ("a*on(b)group_left(c)d", "a * on (b) group_left (c) d"),
        ("a+ignoring(b)c", "a + ignoring (b) c"),
        ("x[90s:1m] offset 1h30m", "x[1m30s:1m] offset 1h30m"),
        ("x offset -5m @ 1.5", "x @ 1.5 offset -5m"),
        ("topk(3,x)", "topk(3, x)"),
        ("1 > bool 2", "1 > bool 2"),
        ("-(1)", "-(1)"),
        ("+Inf", "+Inf"),
        ("x[step()+1m]", "x[step() + 1m]"),
        ("x[1s%4+8001ms]", "x[1s % 4 + 8s1ms]"),
        ("\"a\\nb\"", "\"a\\nb\""),
    ];
    for (src, want) in cases {
        let e = p(src);
        assert_eq!(&print(&e), want, "for {src:?}");
        assert!(p(want).same_as(&e), "round trip of {src:?}");
    }
}

#[test]
fn dashboard_corpus_parses() {
    for line in include_str!("../testdata/parse_dashboard.txt").lines() {
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let e = p(line);
        assert!(p(&print(&e)).same_as(&e), "{line}");
    }
}

#[test]
fn query_parser_reuses_regexes_and_agrees_with_parse() {
    let mut qp = promql::QueryParser::new(ParseOptions::all());
    let queries = [
        "up{job=~\"api|web\"}",
        "rate(x{job=~\"api|web\", i!~\"a.*\"}[5m])",
        "y{a=~\"api|web\"}",
        "z{job!~\"api|web\"}",
    ];
    for q in queries {
        let a = qp.parse(q).unwrap();
        assert!(a.same_as(&p(q)), "{q}");
    }
    assert_eq!(qp.cached_patterns(), 2);
    let e = qp.parse("up{job=~\"(\"}").unwrap_err();
    assert!(matches!(e.kind(), ParseErrorKind::Matcher(_)));
    let Expr::VectorSelector(v) = qp.parse("z{job!~\"api|web\"}").unwrap() else {
        panic!()
    };
    assert!(v.matchers[1].matches("db") && !v.matchers[1].matches("web"));
}

#[test]
fn pretty_form_splits_long_expressions() {
    let src = "histogram_quantile(0.99, sum by (le, service) (rate(http_request_duration_seconds_bucket{cluster=\"prod-eu-1\", namespace=~\"frontend|checkout\"}[5m]))) > bool 0.5";
    let want = "\
histogram_quantile(
  0.99,
  sum by (le, service) (
    rate(
      http_request_duration_seconds_bucket{cluster=\"prod-eu-1\", namespace=~\"frontend|checkout\"}[5m]
    )
  )
)
> bool
0.5";
    let e = p(src);
    assert_eq!(promql::printer::pretty(&e), want);
    assert!(p(want).same_as(&e));
    assert_eq!(promql::printer::pretty(&p("a + b")), "a + b");
}

#[test]
fn comments_and_whitespace() {
    let e = p("# leading comment\nsum(x) # total\n  + 1 # one\n");
    assert_eq!(print(&e), "sum(x) + 1");
    assert!(p("foo{a=\"b\",}").same_as(&p("foo{a=\"b\"}")));
    assert!(p("sum by (a,) (x)").same_as(&p("sum by (a) (x)")));
    let e = err("# only a comment");
    assert_eq!(e.message(), "no expression found in input");
}

#[test]
fn keywords_as_metric_names() {
    for (src, name) in [
        ("sum", "sum"),
        ("offset{a=\"b\"}", "offset"),
        ("by", "by"),
        ("AND", "AND"),
    ] {
        let Expr::VectorSelector(v) = p(src) else {
            panic!("{src}")
        };
        assert_eq!(v.name.as_deref(), Some(name));
        assert!(p(&print(&Expr::VectorSelector(v.clone()))).same_as(&Expr::VectorSelector(v)));
    }
    // Still operators/aggregations where the grammar says so.
    assert!(matches!(p("sum + count"), Expr::Binary(_)));
    assert!(matches!(p("sum by (a) (x)"), Expr::Aggregate(_)));
    assert!(matches!(p("a and and"), Expr::Binary(_)));
    assert!(matches!(
        err("on").kind(),
        ParseErrorKind::Unexpected { .. }
    ));
}
