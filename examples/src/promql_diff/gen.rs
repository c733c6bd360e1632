//! A seeded grammar of PromQL queries over the data set of [`super::data`].
//!
//! Every expression is generated for a type (instant vector, scalar, range vector) with a
//! depth budget, so the output always parses; semantic errors (many-to-many matching,
//! wrong argument values) are possible on purpose, because both engines must then fail.
//! Functions and modifiers of Prometheus 3.x only (`limitk`, `info`, `mad_over_time`,
//! ...) are never generated: Prometheus 2.42 cannot answer them.

use super::rng::Rng;

/// Generates queries; one generator yields a reproducible stream for its seed.
#[derive(Debug, Clone)]
pub struct QueryGen {
    rng: Rng,
    /// Data span, for `@` timestamps: (first, last) in milliseconds.
    span_ms: (i64, i64),
}

const LABELS: [&str; 8] = [
    "job", "instance", "method", "code", "le", "sensor", "version", "nope",
];
const RANGES: [&str; 9] = ["30s", "1m", "90s", "2m", "5m", "10m", "15m", "30m", "1h"];
const SUB_STEPS: [&str; 6] = ["", "15s", "20s", "30s", "1m", "5m"];
const OFFSETS: [&str; 5] = ["30s", "1m", "5m", "-2m", "1h"];

impl QueryGen {
    /// A generator for `seed` over data spanning `span_ms`.
    pub fn new(seed: u64, span_ms: (i64, i64)) -> Self {
        QueryGen {
            rng: Rng::new(seed),
            span_ms,
        }
    }

    /// The next query (a top-level instant vector or scalar).
    pub fn query(&mut self) -> String {
        if self.rng.chance(0.08) {
            self.scalar(2)
        } else {
            let d = 1 + self.rng.below(4) as u32;
            self.vector(d)
        }
    }

    fn metric(&mut self) -> (&'static str, &'static [&'static str]) {
        const M: [(&str, &[&str]); 10] = [
            ("dt_requests_total", &["job", "instance", "method", "code"]),
            ("dt_requests_total", &["job", "instance", "method", "code"]),
            ("dt_temp_celsius", &["instance", "sensor"]),
            ("dt_latency_seconds_bucket", &["job", "instance", "le"]),
            ("dt_latency_seconds_sum", &["job", "instance"]),
            ("dt_latency_seconds_count", &["job", "instance"]),
            ("dt_up", &["job", "instance"]),
            ("dt_build_info", &["instance", "version"]),
            ("dt_gappy", &["instance"]),
            ("dt_grid", &["instance"]),
        ];
        if self.rng.chance(0.04) {
            return ("dt_nan", &[]);
        }
        self.rng.pick(&M)
    }

    fn value_for(&mut self, label: &str) -> &'static str {
        match label {
            "job" => self.rng.pick(&["api", "web", "nope"]),
            "instance" => self.rng.pick(&["i0", "i1", "i2", "i9"]),
            "method" => self.rng.pick(&["GET", "POST"]),
            "code" => self.rng.pick(&["200", "500"]),
            "le" => self.rng.pick(&["0.1", "1", "1.0", "+Inf"]),
            "sensor" => self.rng.pick(&["a", "b"]),
            "version" => self.rng.pick(&["1.2.0", "1.3.0-rc.1"]),
            _ => "x",
        }
    }

    fn regex_for(&mut self, label: &str) -> &'static str {
        match label {
            "job" => self.rng.pick(&["a.*", "api|web", "w.b", ".+", ""]),
            "instance" => self.rng.pick(&["i[01]", "i.", "i0|i2", ".*", "I0"]),
            "method" => self.rng.pick(&["GET|PUT", "P.*", "(?i)get"]),
            "code" => self.rng.pick(&["2..", "5.*", "[0-9]+"]),
            "le" => self.rng.pick(&["0\\\\..*", "1|\\\\+Inf", ".*5"]),
            "sensor" => self.rng.pick(&["a|b", "b?"]),
            "version" => self.rng.pick(&["a.b.c", "1\\\\..*", ".*", "[^1].*"]),
            _ => self.rng.pick(&[".*", ".+", "x"]),
        }
    }

    /// A selector with zero or more matchers of every kind.
    fn selector(&mut self) -> String {
        let (name, labels) = self.metric();
        let mut ms = Vec::new();
        let n = if labels.is_empty() {
            0
        } else {
            self.rng.below(3)
        };
        for _ in 0..n {
            let l = self.rng.pick(labels);
            let l = if self.rng.chance(0.05) { "nope" } else { l };
            let m = match self.rng.below(4) {
                0 => format!("{l}=\"{}\"", self.value_for(l)),
                1 => format!("{l}!=\"{}\"", self.value_for(l)),
                2 => format!("{l}=~\"{}\"", self.regex_for(l)),
                _ => format!("{l}!~\"{}\"", self.regex_for(l)),
            };
            ms.push(m);
        }
        if self.rng.chance(0.05) {
            // Name as a matcher.
            let m = if self.rng.chance(0.5) {
                format!("__name__=\"{name}\"")
            } else {
                format!("__name__=~\"{}.*\"", name.get(..5).unwrap_or(name))
            };
            ms.push(m);
            return format!("{{{}}}", ms.join(","));
        }
        if ms.is_empty() {
            name.to_string()
        } else {
            format!("{name}{{{}}}", ms.join(","))
        }
    }

    fn modifiers(&mut self) -> String {
        let mut s = String::new();
        if self.rng.chance(0.12) {
            s.push_str(" offset ");
            s.push_str(self.rng.pick(&OFFSETS));
        }
        if self.rng.chance(0.1) {
            let at = match self.rng.below(4) {
                0 => "start()".to_string(),
                1 => "end()".to_string(),
                _ => {
                    let (a, b) = self.span_ms;
                    let secs = (a + (self.rng.unit() * (b - a) as f64) as i64) / 1000;
                    if self.rng.chance(0.5) {
                        format!("{secs}")
                    } else {
                        format!("{secs}.5")
                    }
                }
            };
            s.push_str(" @ ");
            s.push_str(&at);
        }
        s
    }

    fn instant_selector(&mut self) -> String {
        let s = self.selector();
        let m = self.modifiers();
        format!("{s}{m}")
    }

    /// A range vector: a selector with a range, or a subquery.
    fn range(&mut self, depth: u32) -> String {
        if depth > 0 && self.rng.chance(0.2) {
            let inner = self.vector(depth - 1);
            let r = self.rng.pick(&RANGES[2..]);
            let st = self.rng.pick(&SUB_STEPS);
            let m = self.modifiers();
            return format!("({inner})[{r}:{st}]{m}");
        }
        let s = self.selector();
        let r = self.rng.pick(&RANGES);
        let m = self.modifiers();
        format!("{s}[{r}]{m}")
    }

    fn grouping(&mut self) -> String {
        match self.rng.below(3) {
            0 => String::new(),
            k => {
                let n = self.rng.below(3);
                let ls: Vec<&str> = (0..n).map(|_| self.rng.pick(&LABELS)).collect();
                let mut ls2 = ls.clone();
                ls2.dedup();
                let kw = if k == 1 { "by" } else { "without" };
                format!(" {kw} ({})", ls2.join(", "))
            }
        }
    }

    fn number(&mut self) -> String {
        self.rng
            .pick(&[
                "0", "1", "2", "0.5", "-1", "3", "10", "0.25", "100", "1e3", "-0.5", "0.9", "0.99",
                "NaN", "Inf", "-Inf", "2.5",
            ])
            .to_string()
    }

    /// A scalar expression.
    pub fn scalar(&mut self, depth: u32) -> String {
        if depth == 0 {
            return self.number();
        }
        match self.rng.below(8) {
            0..=2 => self.number(),
            3 => format!("scalar({})", self.vector(depth - 1)),
            4 => "time()".to_string(),
            5 => {
                let op = self
                    .rng
                    .pick(&["+", "-", "*", "/", "%", "^", "atan2", ">", "==", "<="]);
                let b = if matches!(op, ">" | "==" | "<=") {
                    " bool"
                } else {
                    ""
                };
                format!(
                    "({} {op}{b} {})",
                    self.scalar(depth - 1),
                    self.scalar(depth - 1)
                )
            }
            6 => self.rng.pick(&["pi()", "-2", "(1)"]).to_string(),
            _ => format!("-{}", self.scalar(depth - 1)),
        }
    }

    /// An instant-vector expression.
    pub fn vector(&mut self, depth: u32) -> String {
        if depth == 0 {
            return self.instant_selector();
        }
        let d = depth - 1;
        match self.rng.below(20) {
            0 | 1 => self.instant_selector(),
            2..=4 => self.range_function(d),
            5 | 6 => self.math_function(d),
            7 => self.label_function(d),
            8 => self.histogram(d),
            9..=11 => self.aggregation(d),
            12..=14 => self.binary(d),
            15 => self.set_op(d),
            16 => self.scalar_binary(d),
            17 => format!("vector({})", self.scalar(d.min(1))),
            18 => format!("-{}", self.vector(d)),
            _ => self.time_function(d),
        }
    }

    fn range_function(&mut self, d: u32) -> String {
        let f = self.rng.pick(&[
            "rate",
            "irate",
            "increase",
            "delta",
            "idelta",
            "deriv",
            "changes",
            "resets",
            "avg_over_time",
            "min_over_time",
            "max_over_time",
            "sum_over_time",
            "count_over_time",
            "stddev_over_time",
            "stdvar_over_time",
            "last_over_time",
            "present_over_time",
            "absent_over_time",
            "quantile_over_time",
            "predict_linear",
            "holt_winters",
        ]);
        let r = self.range(d);
        match f {
            "quantile_over_time" => {
                let q = self.rng.pick(&["0", "0.5", "0.9", "1", "-1", "2", "NaN"]);
                format!("quantile_over_time({q}, {r})")
            }
            "predict_linear" => {
                let t = self.rng.pick(&["0", "60", "3600", "-300"]);
                format!("predict_linear({r}, {t})")
            }
            "holt_winters" => {
                if self.rng.chance(0.3) {
                    format!("holt_winters({r}, 0.5, 0.5)")
                } else {
                    format!("rate({r})")
                }
            }
            _ => format!("{f}({r})"),
        }
    }

    fn math_function(&mut self, d: u32) -> String {
        let v = self.vector(d);
        match self.rng.below(8) {
            0 => format!("round({v}, {})", self.rng.pick(&["0.1", "5", "0", "-2"])),
            1 => format!(
                "clamp({v}, {}, {})",
                self.rng.pick(&["-1", "0", "10"]),
                self.rng.pick(&["5", "100", "-5"])
            ),
            2 => format!(
                "{}({v}, {})",
                self.rng.pick(&["clamp_min", "clamp_max"]),
                self.scalar(d.min(1))
            ),
            3 => format!(
                "{}({v})",
                self.rng
                    .pick(&["timestamp", "absent", "sort", "sort_desc", "sgn"])
            ),
            _ => {
                let f = self.rng.pick(&[
                    "abs", "ceil", "floor", "exp", "ln", "log2", "log10", "sqrt", "round", "sin",
                    "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "tanh", "asinh", "acosh",
                    "atanh", "deg", "rad",
                ]);
                format!("{f}({v})")
            }
        }
    }

    fn time_function(&mut self, d: u32) -> String {
        let f = self.rng.pick(&[
            "minute",
            "hour",
            "day_of_week",
            "day_of_month",
            "day_of_year",
            "days_in_month",
            "month",
            "year",
        ]);
        if self.rng.chance(0.4) {
            format!("{f}()")
        } else {
            format!("{f}({})", self.vector(d))
        }
    }

    fn label_function(&mut self, d: u32) -> String {
        let v = self.vector(d);
        if self.rng.chance(0.5) {
            let dst = self
                .rng
                .pick(&["dst", "instance", "__name__", "job", "a-b"]);
            let repl = self.rng.pick(&["$1", "x$1y", "", "${1}_$2", "$name"]);
            let src = self.rng.pick(&LABELS);
            let re = self.rng.pick(&[
                "(.*)",
                "i(.)",
                "(a|w)(.*)",
                ".*",
                "(.+)\\\\.(.+)",
                "[",
                "(?P<name>.)",
            ]);
            format!("label_replace({v}, \"{dst}\", \"{repl}\", \"{src}\", \"{re}\")")
        } else {
            let dst = self.rng.pick(&["dst", "instance", "job"]);
            let sep = self.rng.pick(&["-", "", ","]);
            let n = self.rng.below(3);
            let srcs: Vec<String> = (0..n)
                .map(|_| format!("\"{}\"", self.rng.pick(&LABELS)))
                .collect();
            let tail = if srcs.is_empty() {
                String::new()
            } else {
                format!(", {}", srcs.join(", "))
            };
            format!("label_join({v}, \"{dst}\", \"{sep}\"{tail})")
        }
    }

    fn histogram(&mut self, d: u32) -> String {
        let q = self
            .rng
            .pick(&["0.5", "0.9", "0.99", "0", "1", "-0.1", "1.5", "NaN"]);
        let r = self.rng.pick(&RANGES[1..]);
        let sel = if self.rng.chance(0.3) {
            format!(
                "dt_latency_seconds_bucket{{job=\"{}\"}}",
                self.rng.pick(&JOBS_Q)
            )
        } else {
            "dt_latency_seconds_bucket".to_string()
        };
        let inner = match self.rng.below(4) {
            0 => format!("rate({sel}[{r}])"),
            1 => format!("sum by (le) (rate({sel}[{r}]))"),
            2 => format!(
                "sum by (le, {}) (increase({sel}[{r}]))",
                self.rng.pick(&["job", "instance"])
            ),
            _ => {
                if d > 0 {
                    format!("sum without (instance) ({sel}{})", self.modifiers())
                } else {
                    sel
                }
            }
        };
        format!("histogram_quantile({q}, {inner})")
    }

    fn aggregation(&mut self, d: u32) -> String {
        let op = self.rng.pick(&[
            "sum",
            "avg",
            "min",
            "max",
            "count",
            "stddev",
            "stdvar",
            "group",
            "topk",
            "bottomk",
            "quantile",
            "count_values",
        ]);
        let v = self.vector(d);
        let g = self.grouping();
        let param = match op {
            "topk" | "bottomk" => Some(
                self.rng
                    .pick(&["1", "2", "5", "0", "-1", "1.5"])
                    .to_string(),
            ),
            "quantile" => Some(
                self.rng
                    .pick(&["0.5", "0.1", "0.99", "0", "1", "-1", "2"])
                    .to_string(),
            ),
            "count_values" => Some(format!("\"{}\"", self.rng.pick(&["value", "job", "x"]))),
            _ => None,
        };
        let args = match param {
            Some(p) => format!("{p}, {v}"),
            None => v,
        };
        if self.rng.chance(0.5) {
            format!("{op}{g} ({args})")
        } else {
            format!("{op} ({args}){g}")
        }
    }

    fn matching(&mut self) -> String {
        let mut s = String::new();
        match self.rng.below(4) {
            0 | 1 => {}
            k => {
                let n = self.rng.below(3);
                let ls: Vec<&str> = (0..n).map(|_| self.rng.pick(&LABELS)).collect();
                let kw = if k == 2 { "on" } else { "ignoring" };
                s = format!(" {kw}({})", ls.join(", "));
                if self.rng.chance(0.35) {
                    let side = if self.rng.chance(0.5) {
                        "group_left"
                    } else {
                        "group_right"
                    };
                    let m: Vec<&str> = (0..self.rng.below(2))
                        .map(|_| self.rng.pick(&LABELS))
                        .collect();
                    if m.is_empty() && self.rng.chance(0.5) {
                        s.push(' ');
                        s.push_str(side);
                    } else {
                        s.push_str(&format!(" {side}({})", m.join(", ")));
                    }
                }
            }
        }
        s
    }

    fn binary(&mut self, d: u32) -> String {
        let op = self.rng.pick(&[
            "+", "-", "*", "/", "%", "^", "atan2", "==", "!=", ">", "<", ">=", "<=",
        ]);
        let cmp = matches!(op, "==" | "!=" | ">" | "<" | ">=" | "<=");
        let b = if cmp && self.rng.chance(0.4) {
            " bool"
        } else {
            ""
        };
        let m = self.matching();
        if self.rng.chance(0.4) {
            // Both sides over the same selector: matching finds partners.
            let s = self.instant_selector();
            let l = if self.rng.chance(0.5) {
                s.clone()
            } else {
                format!("rate({}[5m])", strip_modifiers(&s))
            };
            return format!("({l} {op}{b}{m} {s})");
        }
        if self.rng.chance(0.2) {
            // A join with the info-like metric.
            let l = self.vector(d);
            let side = self.rng.pick(&["group_left(version)", "group_left"]);
            return format!("({l} {op}{b} on(instance) {side} dt_build_info)");
        }
        format!("({} {op}{b}{m} {})", self.vector(d), self.vector(d))
    }

    fn set_op(&mut self, d: u32) -> String {
        let op = self.rng.pick(&["and", "or", "unless"]);
        let m = match self.rng.below(3) {
            0 => String::new(),
            1 => format!(
                " on({})",
                self.rng.pick(&["instance", "job", "", "job, instance"])
            ),
            _ => format!(" ignoring({})", self.rng.pick(&["code", "method", "le"])),
        };
        format!("({} {op}{m} {})", self.vector(d), self.vector(d))
    }

    fn scalar_binary(&mut self, d: u32) -> String {
        let op = self.rng.pick(&[
            "+", "-", "*", "/", "%", "^", "==", "!=", ">", "<", ">=", "<=",
        ]);
        let cmp = matches!(op, "==" | "!=" | ">" | "<" | ">=" | "<=");
        let b = if cmp && self.rng.chance(0.5) {
            " bool"
        } else {
            ""
        };
        let v = self.vector(d);
        let s = self.scalar(d.min(1));
        if self.rng.chance(0.5) {
            format!("({v} {op}{b} {s})")
        } else {
            format!("({s} {op}{b} {v})")
        }
    }
}

const JOBS_Q: [&str; 2] = ["api", "web"];

/// A selector text without its ` offset ...` / ` @ ...` modifiers.
fn strip_modifiers(s: &str) -> String {
    let cut = [s.find(" offset "), s.find(" @ ")]
        .into_iter()
        .flatten()
        .min()
        .unwrap_or(s.len());
    s[..cut].to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_queries_parse_and_repeat() {
        let mut a = QueryGen::new(11, (0, 3_600_000));
        let mut b = QueryGen::new(11, (0, 3_600_000));
        for _ in 0..2000 {
            let q = a.query();
            assert_eq!(q, b.query());
            if q.contains("holt_winters") {
                continue; // Renamed in 3.x: our parser rejects it on purpose.
            }
            // The one syntax error generated on purpose: both engines must reject it.
            if let Err(e) = promql::parser::parse(&q) {
                assert!(
                    e.to_string()
                        .contains("must not occur in ON and GROUP clause"),
                    "{q}: {e}"
                );
            }
        }
    }

    #[test]
    fn strip_modifiers_cuts_at_first_modifier() {
        assert_eq!(strip_modifiers("a{b=\"c\"} offset 5m @ 10"), "a{b=\"c\"}");
        assert_eq!(strip_modifiers("a @ end()"), "a");
        assert_eq!(strip_modifiers("a"), "a");
    }
}
