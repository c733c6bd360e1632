//! OpenMetrics 2.0: one test input modelled on each kind of example line the 2.0.0-rc0
//! draft shows (written here, not copied), the malformed inputs its ABNF and rules forbid
//! (each must fail with a line and column), and parse → encode → parse on all of them.

use exposition::histogram::{CounterResetHint, Span};
use exposition::openmetrics2::{self, ClassicBucket, Entry, Family, OpenMetrics2Parser, Value};
use exposition::{MetricType, ParseErrorKind};

fn parse(s: &str) -> Vec<Family> {
    openmetrics2::parse_families(s.as_bytes()).unwrap_or_else(|e| panic!("{s:?}: {e}"))
}

fn with_eof(body: &str) -> String {
    format!("{body}# EOF\n")
}

/// Every accepted input: families equal after encode and parse again, and the encoding is
/// a fixed point.
fn round_trip(s: &str) -> Vec<Family> {
    let a = parse(s);
    let mut out = String::new();
    openmetrics2::encode(&a, &mut out);
    let b = openmetrics2::parse_families(out.as_bytes())
        .unwrap_or_else(|e| panic!("re-parse of {out:?}: {e}"));
    assert_eq!(format!("{a:?}"), format!("{b:?}"), "{out}");
    let mut again = String::new();
    openmetrics2::encode(&b, &mut again);
    assert_eq!(out, again);
    a
}

const VALID: &[&str] = &[
    // Gauges: no labels, labels, no metrics, timestamps, several samples of one metric.
    "# TYPE temp gauge\ntemp 21.5\n",
    "# TYPE temp gauge\ntemp{room=\"a\"} 20.0\ntemp{room=\"bb\"} 19.0\n",
    "# TYPE temp gauge\n",
    "# TYPE temp gauge\ntemp{room=\"a\"} 20.0 1700000000.250\n",
    "# TYPE temp gauge\ntemp 20.0 100\ntemp 21.0 200\n",
    // Counters with and without timestamp and start timestamp, and an exemplar.
    "# TYPE jobs_total counter\njobs_total 4.0\n",
    "# TYPE jobs_total counter\njobs_total 4.0 1700000000.5\n",
    "# TYPE jobs_total counter\njobs_total 4.0 st@1690000000.001\n",
    "# TYPE jobs_total counter\njobs_total 4.0 1700000000.5 st@1690000000.001\n",
    "# TYPE jobs counter\njobs 4.0 1700000000.5 st@1700000000.5\n",
    "# TYPE jobs_total counter\njobs_total 4.0 1700000000.5 st@1690000000.001 # {trace_id=\"abc123\"} 0.5 1699999999.9\n",
    // Metadata: unit infix, unit without suffix, escaped help, empty help and unit.
    "# TYPE job_seconds_total counter\n# UNIT job_seconds_total seconds\n# HELP job_seconds_total Time \\n with \\\" and \\\\ escapes\n",
    "# TYPE jobs_total counter\n# UNIT jobs_total seconds\n",
    "# HELP quiet \n# UNIT quiet \nquiet 1\n",
    // Samples with and without braces; escaped label values; quoted names.
    "size_count 0\n",
    "size_count{} 0\n",
    "size_count{x=\"p\",y=\"quote\\\" and \\n line\"} 0\n",
    "{\"\\\"odd\\\".name.count\",\"k\\\\\"=\"quote\\\" and \\n line\"} 0\n",
    "# TYPE \"disk.reads\" counter\n# UNIT \"disk.reads\" bytes\n# HELP \"disk.reads\" Reads.\n{\"disk.reads\",\"host.name\"=\"h1\"} 123\n",
    "# TYPE \"plain_name\" gauge\n{\"plain_name\",\"a\"=\"b\"} 4.5\n",
    // Statesets (several groups and timestamps) and infos.
    "# TYPE mode stateset\nmode{mode=\"x\"} 0\nmode{mode=\"yy\"} 1\nmode{mode=\"zzz\"} 0\n",
    "# TYPE mode stateset\nmode{node=\"a\",mode=\"x\"} 1.0 1000.000\nmode{node=\"a\",mode=\"x\"} 0.0 1001.000\nmode{node=\"a\",mode=\"y\"} 1.0 1000.000\nmode{node=\"b\",mode=\"x\"} 0.0 1000.000\n",
    "# TYPE build_info info\nbuild_info{name=\"svc\",version=\"1.2.3\"} 1\n",
    "# TYPE build_info info\nbuild_info{node=\"a\",version=\"1\"} 1.0\nbuild_info{node=\"b\",version=\"2\"} 1.0\n",
    // Summaries: empty quantiles, several quantiles.
    "# TYPE lat summary\nlat {count:9,sum:12.5,quantile:[]} st@1690000000.123\n",
    "# TYPE lat summary\nlat {count:0,sum:0.0,quantile:[0.5:1.5,0.99:NaN]} st@1690000000.123\n",
    "# TYPE lat summary\n# UNIT lat seconds\n# HELP lat Latency.\nlat{path=\"/a\",method=\"GET\"} {count:807,sum:90.32,quantile:[0.95:2,0.99:20]} st@1605281325.0\n",
    // Histograms: classic only (odd bounds), native with both sides, native empty,
    // both, multiple exemplars, -Inf bucket.
    "# TYPE req histogram\nreq {count:17,sum:324.5,bucket:[0.0:0,1e-05:0,0.0001:5,0.1:8,1.0:10,1e+06:15,1.1e+23:16,+Inf:17]} st@1690000000.123\n",
    "# TYPE req histogram\nreq{path=\"/\"} {count:59,sum:1.2e2,schema:7,zero_threshold:1e-4,zero_count:0,negative_spans:[1:2],negative_buckets:[5,7],positive_spans:[-1:2,3:4],positive_buckets:[5,7,10,9,8,8]} st@1690000000.123\n",
    "# TYPE req histogram\nreq{path=\"/\"} {count:0,sum:0,schema:3,zero_threshold:1e-4,zero_count:0} st@1690000000.123\n",
    "# TYPE req histogram\nreq{path=\"/\"} {count:2,sum:1.2e2,schema:0,zero_threshold:1e-4,zero_count:0,positive_spans:[1:2],positive_buckets:[1,1],bucket:[0.5:1,1:2,+Inf:2]}\n",
    "# TYPE req histogram\nreq {count:17,sum:324.5,schema:0,zero_threshold:1e-4,zero_count:0,positive_spans:[0:2],positive_buckets:[5,12]} st@1690000000.123 # {trace_id=\"a1\"} 0.67 1690000001.789 # {trace_id=\"b2\"} 1.2 1690000002.589\n",
    "# TYPE req histogram\nreq {count:17,sum:324.5,bucket:[0.01:0,0.1:8,1.0:11,10.0:17,+Inf:17]} st@1690000000.123 # {} 0.054 1690000001.7 # {trace_id=\"c3\"} 1.67 1690000002.890\n",
    "# TYPE req histogram\nreq {count:3,sum:-1,bucket:[-Inf:1,0:2,+Inf:3]}\n",
    "# TYPE req histogram\nreq {count:17,sum:324.5,schema:0,zero_threshold:1e-4,zero_count:0,positive_spans:[0:2],positive_buckets:[5,12],bucket:[0.01:0,0.1:8,1.0:11,10.0:17,+Inf:17]} st@1690000000.123 # {} 0.054 1690000001.7 # {trace_id=\"c3\"} 1.67 1690000002.890 # {trace_id=\"d4\"} 9.8 1690000003.789\n",
    // Gauge histograms: classic, native, both; no start timestamp.
    "# TYPE queue gaugehistogram\nqueue {gcount:42,gsum:3289.3,bucket:[0.01:20,0.1:25,1:34,+Inf:42]}\n",
    "# TYPE queue gaugehistogram\nqueue{path=\"/\"} {gcount:59,gsum:1.2e2,schema:7,zero_threshold:1e-4,zero_count:0,negative_spans:[1:2],negative_buckets:[5,7],positive_spans:[-1:2,3:4],positive_buckets:[5,7,10,9,8,8]}\n",
    "# TYPE queue:rate5m gaugehistogram\nqueue:rate5m {gcount:0.01,gsum:2.0,schema:0,zero_threshold:1e-4,zero_count:0.0,positive_spans:[1:2],positive_buckets:[0.005,0.005],bucket:[1:0.005,+Inf:0.01]}\n",
    // Unknown with a number, without metadata, with composite values.
    "# TYPE misc unknown\nmisc 42.23\n",
    "misc 42.23\n",
    "misc {count:1,sum:2,bucket:[+Inf:1]}\nother {count:1,sum:2,quantile:[0.5:2]}\n",
    // Numbers the ABNF allows: leading zeros, case-insensitive inf and nan, exponent forms.
    "# TYPE g gauge\ng{a=\"1\"} 0042\ng{a=\"2\"} -infinity\ng{a=\"3\"} nan\ng{a=\"4\"} 1E3\ng{a=\"5\"} .5\ng{a=\"6\"} 7.\n",
];

#[test]
fn every_example_parses_and_round_trips() {
    for body in VALID {
        round_trip(&with_eof(body));
    }
    // The last line feed after # EOF is optional.
    round_trip("a 1\n# EOF");
    round_trip("# EOF\n");
}

#[test]
fn the_complete_exposition_example() {
    let body = concat!(
        "# TYPE acme_router_seconds summary\n",
        "# UNIT acme_router_seconds seconds\n",
        "# HELP acme_router_seconds Router latency.\n",
        "acme_router_seconds{path=\"/api/v1\",method=\"GET\"} {count:807283,sum:9036.32,quantile:[0.95:2,0.99:20]} st@1605281325.0\n",
        "acme_router_seconds{path=\"/api/v2\",method=\"GET\"} {count:34,sum:479.3,quantile:[0.95:2.5,0.99:2.9]} st@1605301325.0\n",
        "# TYPE go_goroutines gauge\n",
        "go_goroutines 69\n",
        "# TYPE cpu_seconds_total counter\n",
        "cpu_seconds_total 4.20072246e+06\n",
        "# TYPE acme_seconds histogram\n",
        "acme_seconds{path=\"/api/v1\",method=\"GET\"} {count:2,sum:1.2e2,schema:0,zero_threshold:1e-4,zero_count:0,positive_spans:[1:2],positive_buckets:[1,1],bucket:[0.5:1,1:2,+Inf:2]} st@1605301325.0\n",
        "# TYPE \"foodb.read.errors\" counter\n",
        "{\"foodb.read.errors\",\"service.name\"=\"my_service\"} 3482\n",
        "# EOF\n",
    );
    let f = round_trip(body);
    let names: Vec<_> = f
        .iter()
        .map(|f| (f.name.as_str(), f.ty, f.samples.len()))
        .collect();
    assert_eq!(
        names,
        vec![
            ("acme_router_seconds", MetricType::Summary, 2),
            ("go_goroutines", MetricType::Gauge, 1),
            ("cpu_seconds_total", MetricType::Counter, 1),
            ("acme_seconds", MetricType::Histogram, 1),
            ("foodb.read.errors", MetricType::Counter, 1),
        ]
    );
    assert_eq!(f[0].unit.as_deref(), Some("seconds"));
    assert_eq!(f[0].samples[1].start_timestamp, Some(1_605_301_325_000));
    let Value::Histogram(h) = &f[3].samples[0].value else {
        panic!()
    };
    let n = h.native.as_ref().unwrap();
    assert_eq!(
        (n.count, n.sum, n.schema, n.zero_threshold),
        (2.0, 120.0, 0, 1e-4)
    );
    assert_eq!(n.positive_spans, vec![Span::new(1, 2)]);
    assert_eq!(n.counter_reset_hint, CounterResetHint::Unknown);
    assert_eq!(
        h.classic.as_ref().unwrap()[2],
        ClassicBucket {
            le: f64::INFINITY,
            count: 2.0
        }
    );
    assert_eq!(
        f[4].samples[0].labels.get("service.name"),
        Some("my_service")
    );
}

#[test]
fn entries_borrow_and_keep_the_series_text() {
    let input = b"{\"a.b\",c=\"d\"} 1 # {x=\"y\"} 2 3\n# EOF\n";
    let e: Vec<Entry> = OpenMetrics2Parser::new(input)
        .collect::<Result<_, _>>()
        .unwrap();
    let Entry::Sample(s) = &e[0] else { panic!() };
    assert!(matches!(s.name, std::borrow::Cow::Borrowed("a.b")));
    assert_eq!(s.series, "{\"a.b\",c=\"d\"}");
    assert_eq!(s.labels.get("c").as_deref(), Some("d"));
    assert_eq!(s.exemplars[0].timestamp, Some(3000));
}

/// (input without `# EOF` unless it matters, 1-based line, 1-based column).
const INVALID: &[(&str, usize, usize)] = &[
    // Structure of the exposition.
    ("a 1\n", 2, 1),
    ("a 1\n\n# EOF\n", 2, 1),
    (" a 1\n# EOF\n", 1, 1),
    ("a 1\n# EOF\n\n", 3, 1),
    ("a 1\n# EOF extra\n", 2, 6),
    ("# comment\n# EOF\n", 1, 1),
    ("a 1\r\n# EOF\n", 1, 4),
    // Blanks: double spaces, trailing space, spaces inside braces and composites.
    ("a  1\n# EOF\n", 1, 3),
    ("a 1 \n# EOF\n", 1, 5),
    ("a{b=\"c\", d=\"e\"} 1\n# EOF\n", 1, 9),
    ("a {count:1, sum:1,bucket:[+Inf:1]}\n# EOF\n", 1, 11),
    ("a\t1\n# EOF\n", 1, 2),
    // Metadata lines.
    ("# TYPE a Gauge\n# EOF\n", 1, 10),
    ("# TYPE a untyped\n# EOF\n", 1, 10),
    ("# TYPE a\n# EOF\n", 1, 9),
    ("# HELP a say \"hi\"\n# EOF\n", 1, 14),
    ("# HELP a trailing \\\n# EOF\n", 1, 20),
    ("# UNIT a sec.onds\n# EOF\n", 1, 13),
    ("# TYPE \"\" gauge\n# EOF\n", 1, 8),
    // Names and labels.
    ("0a 1\n# EOF\n", 1, 1),
    ("a{0b=\"c\"} 1\n# EOF\n", 1, 3),
    ("a{b=\"c\",b=\"d\"} 1\n# EOF\n", 1, 9),
    ("a{b=\"c\",\"b\"=\"d\"} 1\n# EOF\n", 1, 9),
    ("a{b=\"c\",} 1\n# EOF\n", 1, 9),
    ("a{\"\"=\"c\"} 1\n# EOF\n", 1, 3),
    ("{\"a\"=\"b\"} 1\n# EOF\n", 1, 2),
    ("{b=\"c\"} 1\n# EOF\n", 1, 2),
    ("a{\"x\",b=\"c\"} 1\n# EOF\n", 1, 6),
    ("a{b=\"c\\\nd\"} 1\n# EOF\n", 1, 8),
    // Numbers and timestamps.
    ("a 0x1\n# EOF\n", 1, 4),
    ("a 1_0\n# EOF\n", 1, 4),
    ("a +nan\n# EOF\n", 1, 3),
    ("a 1e\n# EOF\n", 1, 3),
    ("a 1 NaN\n# EOF\n", 1, 5),
    ("a 1 +Inf\n# EOF\n", 1, 5),
    ("a 1 1e400\n# EOF\n", 1, 5),
    ("a 1 st@\n# EOF\n", 1, 8),
    ("a 1 st@1 2\n# EOF\n", 1, 10),
    ("a 1 st@1 st@2\n# EOF\n", 1, 10),
    ("a 1 S@1\n# EOF\n", 1, 5),
    // Exemplars: timestamp required, no trailing text, labels in braces.
    ("# TYPE c counter\nc 1 # {a=\"b\"} 1\n# EOF\n", 2, 16),
    ("# TYPE c counter\nc 1 # a 1 2\n# EOF\n", 2, 7),
    ("# TYPE c counter\nc 1 # {a=\"b\"} 1 2 3\n# EOF\n", 2, 19),
    ("# TYPE c counter\nc 1 #{} 1 2\n# EOF\n", 2, 6),
    ("# TYPE c counter\nc 1 # {} 1 2 st@1\n# EOF\n", 2, 14),
    // Composite grammar.
    ("a {count:1,sum:1}\n# EOF\n", 1, 17),
    ("a {count:1,sum:1,bucket:[1:1]}\n# EOF\n", 1, 29),
    ("a {sum:1,count:1,bucket:[+Inf:1]}\n# EOF\n", 1, 4),
    ("a {count:1,gsum:1,bucket:[+Inf:1]}\n# EOF\n", 1, 11),
    ("a {Count:1,sum:1,bucket:[+Inf:1]}\n# EOF\n", 1, 4),
    ("a {count:1,sum:1,bucket:[+inf:1]}\n# EOF\n", 1, 26),
    ("a {count:1,sum:1,schema:0,zero_threshold:0,zero_count:0,positive_spans:[0:1]}\n# EOF\n", 1, 77),
    ("a {count:1,sum:1,schema:0,zero_threshold:0}\n# EOF\n", 1, 43),
    ("a {count:1,sum:1,bucket:[+Inf:1],schema:0,zero_threshold:0,zero_count:0}\n# EOF\n", 1, 33),
    // Semantics: families.
    ("a 1\nb 1\na 2\n# EOF\n", 3, 1),
    ("# TYPE a gauge\n# TYPE a gauge\n# EOF\n", 2, 1),
    ("# HELP a x\n# HELP a y\n# EOF\n", 2, 1),
    ("a 1\n# TYPE a gauge\n# EOF\n", 2, 1),
    ("# TYPE a gauge\nb 1\n# TYPE a gauge\n# EOF\n", 3, 1),
    ("a 1\na 2\n# EOF\n", 2, 1),
    ("a{x=\"1\"} 1\na{x=\"2\"} 1\na{x=\"1\"} 1\n# EOF\n", 3, 1),
    ("a 1 2\na 1 1\n# EOF\n", 2, 1),
    ("a{x=\"1\",y=\"2\"} 1\na{y=\"2\",x=\"1\"} 1\n# EOF\n", 2, 1),
    // Stateset groups (the labels besides the state) interleaved.
    ("# TYPE m stateset\nm{g=\"1\",m=\"a\"} 1\nm{g=\"2\",m=\"a\"} 1\nm{g=\"1\",m=\"b\"} 0\n# EOF\n", 4, 1),
    ("# TYPE m stateset\nm{e=\"c\",env=\"d\",m=\"a\"} 1\nm{e=\"c\",env=\"p\",m=\"a\"} 1\nm{e=\"c\",env=\"d\",m=\"b\"} 0\n# EOF\n", 4, 1),
    // Semantics: value kinds and values per type.
    ("# TYPE c counter\nc -1\n# EOF\n", 2, 1),
    ("# TYPE c counter\nc NaN\n# EOF\n", 2, 1),
    ("# TYPE c counter\nc {count:1,sum:1,bucket:[+Inf:1]}\n# EOF\n", 2, 1),
    ("# TYPE g gauge\ng {count:1,sum:1,quantile:[]}\n# EOF\n", 2, 1),
    ("# TYPE h histogram\nh 1\n# EOF\n", 2, 1),
    ("# TYPE h histogram\nh {gcount:1,gsum:1,bucket:[+Inf:1]}\n# EOF\n", 2, 1),
    ("# TYPE h histogram\nh {count:1,sum:1,quantile:[]}\n# EOF\n", 2, 1),
    ("# TYPE h gaugehistogram\nh {count:1,sum:1,bucket:[+Inf:1]}\n# EOF\n", 2, 1),
    ("# TYPE s summary\ns {count:1,sum:1,bucket:[+Inf:1]}\n# EOF\n", 2, 1),
    ("# TYPE i_info info\ni_info 2\n# EOF\n", 2, 1),
    ("# TYPE i info\n# EOF\n", 1, 1),
    ("# TYPE i_info info\n# UNIT i_info bytes\n# EOF\n", 2, 1),
    ("# TYPE s stateset\ns{s=\"a\"} 2\n# EOF\n", 2, 1),
    ("# TYPE s stateset\ns{t=\"a\"} 1\n# EOF\n", 2, 1),
    // Semantics: histogram structure.
    ("# TYPE h histogram\nh {count:2,sum:1,bucket:[+Inf:1]}\n# EOF\n", 2, 1),
    ("# TYPE h histogram\nh {count:1,sum:1,bucket:[2:1,1:1,+Inf:1]}\n# EOF\n", 2, 1),
    ("# TYPE h histogram\nh {count:1,sum:1,bucket:[1:1,1:1,+Inf:1]}\n# EOF\n", 2, 1),
    ("# TYPE h histogram\nh {count:1,sum:1,bucket:[1:2,+Inf:1]}\n# EOF\n", 2, 1),
    ("# TYPE h histogram\nh {count:-1,sum:1,bucket:[+Inf:-1]}\n# EOF\n", 2, 1),
    ("# TYPE h histogram\nh{le=\"1\"} {count:1,sum:1,bucket:[+Inf:1]}\n# EOF\n", 2, 1),
    ("# TYPE h histogram\nh {count:1,sum:1,schema:9,zero_threshold:0,zero_count:1}\n# EOF\n", 2, 1),
    ("# TYPE h histogram\nh {count:1,sum:1,schema:-53,zero_threshold:0,zero_count:1}\n# EOF\n", 2, 1),
    ("# TYPE h histogram\nh {count:1,sum:1,schema:0,zero_threshold:-1,zero_count:1}\n# EOF\n", 2, 1),
    ("# TYPE h histogram\nh {count:1,sum:1,schema:0,zero_threshold:0,zero_count:0,positive_spans:[0:2],positive_buckets:[1]}\n# EOF\n", 2, 1),
    ("# TYPE h histogram\nh {count:1,sum:1,schema:0,zero_threshold:0,zero_count:0,positive_spans:[0:1],positive_buckets:[-1]}\n# EOF\n", 2, 1),
    ("# TYPE h gaugehistogram\nh {gcount:1,gsum:1,bucket:[+Inf:1]} st@1\n# EOF\n", 2, 1),
    // Semantics: summaries.
    ("# TYPE s summary\ns {count:1.5,sum:1,quantile:[]}\n# EOF\n", 2, 1),
    ("# TYPE s summary\ns {count:1,sum:NaN,quantile:[]}\n# EOF\n", 2, 1),
    ("# TYPE s summary\ns {count:1,sum:1,quantile:[1.5:1]}\n# EOF\n", 2, 1),
    ("# TYPE s summary\ns {count:1,sum:1,quantile:[0.9:1,0.5:1]}\n# EOF\n", 2, 1),
    ("# TYPE s summary\ns {count:1,sum:1,quantile:[0.5:-1]}\n# EOF\n", 2, 1),
    ("# TYPE s summary\ns{quantile=\"0.5\"} {count:1,sum:1,quantile:[]}\n# EOF\n", 2, 1),
    // Semantics: where start timestamps and exemplars go.
    ("# TYPE g gauge\ng 1 st@1\n# EOF\n", 2, 1),
    ("# TYPE g gauge\ng 1 # {} 1 1\n# EOF\n", 2, 1),
    ("# TYPE s summary\ns {count:1,sum:1,quantile:[]} # {} 1 1\n# EOF\n", 2, 1),
];

#[test]
fn malformed_inputs_fail_with_position() {
    let mut wrong = Vec::new();
    for &(input, line, column) in INVALID {
        match openmetrics2::parse_families(input.as_bytes()) {
            Ok(f) => wrong.push(format!("accepted {input:?}: {f:?}")),
            Err(e) if (e.line, e.column) != (line, column) => wrong.push(format!(
                "{input:?}: got {}:{} ({e}), want {line}:{column}",
                e.line, e.column
            )),
            Err(_) => {}
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn errors_are_typed() {
    let kind_b = |s: &[u8]| openmetrics2::parse_families(s).unwrap_err().kind;
    let kind = |s: &str| kind_b(s.as_bytes());
    assert!(matches!(kind("a 1\nb 1\na 1\n# EOF\n"), ParseErrorKind::ClashingName(n) if n == "a"));
    assert!(matches!(
        kind("# TYPE g gauge\ng 1 st@1\n# EOF\n"),
        ParseErrorKind::StartTimestampNotAllowed { ty: "gauge", .. }
    ));
    assert!(matches!(kind("a 1\n"), ParseErrorKind::UnexpectedEof(_)));
    assert!(matches!(
        kind("a 1\n# EOF\nb"),
        ParseErrorKind::TextAfterEof
    ));
    assert!(matches!(
        kind_b(b"a{b=\"\xff\"} 1\n# EOF\n"),
        ParseErrorKind::InvalidUtf8
    ));
    assert!(matches!(
        kind("# TYPE h histogram\nh {count:2,sum:1,bucket:[+Inf:1]}\n# EOF\n"),
        ParseErrorKind::Structure { .. }
    ));
}

#[test]
fn lenient_checks_grammar_only() {
    let input = b"# TYPE g gauge\ng {count:1,sum:1,quantile:[]} st@1\ng 1\n# EOF\n";
    assert!(openmetrics2::parse_families(input).is_err());
    let all: Result<Vec<_>, _> = OpenMetrics2Parser::lenient(input).collect();
    assert_eq!(all.unwrap().len(), 4);
    assert!(OpenMetrics2Parser::lenient(b"g {count:1}\n# EOF\n")
        .collect::<Result<Vec<_>, _>>()
        .is_err());
}

#[test]
fn empty_label_values_count_as_absent() {
    let f = round_trip("a{x=\"\"} 1 1\na 2 2\n# EOF\n");
    assert_eq!(f[0].samples.len(), 2);
    assert!(f[0].samples[0].labels.is_empty());
}
