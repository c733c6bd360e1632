//! Alert templates: Go `text/template` as Prometheus uses it for rule labels and annotations.
//!
//! ```text
//! source ──lexer──► text + action tokens ──parser──► nodes ──exec (+ functions)──► text
//! ```
//!
//! Every template sees the predefined variables `$labels`, `$externalLabels`, `$externalURL`
//! and `$value`, and dot holds `.Labels`, `.ExternalLabels`, `.ExternalURL`, `.Value`. Missing
//! map keys expand to the empty string (`missingkey=zero`, as in Prometheus). Unknown functions
//! and unsupported actions (`define`, `template`, `block`) are parse errors. When the alert's
//! sample is a native histogram, `$value` is the histogram ([`TemplateData::histogram`]),
//! printed as Go's `FloatHistogram.String()` does; numeric functions reject it as Go does.
//!
//! ```
//! use exposition::Labels;
//! use promql::rules::template::{Template, TemplateData, ExpandContext};
//! let t = Template::parse("{{ $labels.job }} is at {{ $value | humanizePercentage }}").unwrap();
//! let data = TemplateData::new(Labels::from_pairs(&[("job", "api")]), 0.1234);
//! assert_eq!(t.expand(&data, &ExpandContext::default()).unwrap(), "api is at 12.34%");
//! ```

pub mod exec;
pub mod functions;
pub mod lexer;
pub mod parser;
pub mod value;

use exposition::histogram::FloatHistogram;
use exposition::Labels;
use std::sync::Arc;
pub use value::TValue;

/// Why a template failed to parse or to expand.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TemplateError {
    /// The template text does not parse.
    #[error("template: {line}:{col}: {msg}")]
    Syntax {
        /// Byte offset in the template source.
        offset: usize,
        /// 1-based line (filled in by [`Template::parse`]).
        line: usize,
        /// 1-based byte column.
        col: usize,
        /// What is wrong.
        msg: String,
    },
    /// A construct this implementation does not support.
    #[error("template: {line}:{col}: unsupported construct {what}")]
    Unsupported {
        /// Byte offset in the template source.
        offset: usize,
        /// 1-based line.
        line: usize,
        /// 1-based byte column.
        col: usize,
        /// The construct.
        what: String,
    },
    /// Expansion failed (bad function argument, failed query, ...).
    #[error("template: {0}")]
    Exec(String),
}

impl TemplateError {
    pub(crate) fn syntax(offset: usize, msg: impl Into<String>) -> TemplateError {
        TemplateError::Syntax {
            offset,
            line: 0,
            col: 0,
            msg: msg.into(),
        }
    }

    pub(crate) fn unsupported(offset: usize, what: impl Into<String>) -> TemplateError {
        TemplateError::Unsupported {
            offset,
            line: 0,
            col: 0,
            what: what.into(),
        }
    }

    /// Go's wording for a template named `name`: `template: NAME:LINE: message`.
    pub fn go_message(&self, name: &str) -> String {
        match self {
            TemplateError::Syntax { line, msg, .. } => format!("template: {name}:{line}: {msg}"),
            TemplateError::Unsupported { line, what, .. } => {
                format!("template: {name}:{line}: unsupported construct {what}")
            }
            TemplateError::Exec(m) => format!("template: {name}: {m}"),
        }
    }

    fn with_position(mut self, src: &str) -> TemplateError {
        match &mut self {
            TemplateError::Syntax {
                offset, line, col, ..
            }
            | TemplateError::Unsupported {
                offset, line, col, ..
            } => {
                let (l, c) = crate::ast::line_col(src, *offset);
                *line = l;
                *col = c;
            }
            TemplateError::Exec(_) => {}
        }
        self
    }
}

/// One sample returned by the `query` template function.
#[derive(Debug, Clone, PartialEq)]
pub struct QuerySample {
    /// The series labels.
    pub labels: Labels,
    /// The value.
    pub value: f64,
}

/// The data an alert template is expanded with.
#[derive(Debug, Clone, PartialEq)]
pub struct TemplateData {
    /// The alert's labels (`$labels`, `.Labels`).
    pub labels: Labels,
    /// The external labels (`$externalLabels`).
    pub external_labels: Labels,
    /// The external URL (`$externalURL`).
    pub external_url: String,
    /// The sample value (`$value`).
    pub value: f64,
    /// The sample's native histogram, when the alert expression returned one: then
    /// `$value` and `.Value` are this histogram (as in Prometheus 3.x), not `value`.
    pub histogram: Option<Arc<FloatHistogram>>,
}

impl TemplateData {
    /// Data with labels and a value, no external labels or URL.
    pub fn new(labels: Labels, value: f64) -> TemplateData {
        TemplateData {
            labels,
            external_labels: Labels::empty(),
            external_url: String::new(),
            value,
            histogram: None,
        }
    }

    /// Makes `$value` the histogram `h` (builder style).
    pub fn with_histogram(mut self, h: Arc<FloatHistogram>) -> TemplateData {
        self.histogram = Some(h);
        self
    }
}

/// A PromQL query hook for the `query` function: expression in, samples or a message out.
pub type QueryFn<'a> = &'a dyn Fn(&str) -> Result<Vec<QuerySample>, String>;

/// What expansion may call out to.
#[derive(Default, Clone, Copy)]
pub struct ExpandContext<'a> {
    /// Runs `query "..."`; without it the function fails with an error.
    pub query: Option<QueryFn<'a>>,
    /// The external URL, for `externalURL` and `pathPrefix`.
    pub external_url: &'a str,
}

/// A parsed template.
#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    src: String,
    nodes: Vec<parser::Node>,
}

impl Template {
    /// Parses `src`; an error names the line and column and what is wrong or unsupported.
    pub fn parse(src: &str) -> Result<Template, TemplateError> {
        let nodes = parser::parse(src).map_err(|e| e.with_position(src))?;
        Ok(Template {
            src: src.to_string(),
            nodes,
        })
    }

    /// The source text.
    pub fn source(&self) -> &str {
        &self.src
    }

    /// Whether the template is plain text (no actions); expansion then returns it unchanged.
    pub fn is_literal(&self) -> bool {
        self.nodes
            .iter()
            .all(|n| matches!(n, parser::Node::Text(_)))
    }

    /// Expands the template for one alert.
    pub fn expand(
        &self,
        data: &TemplateData,
        ctx: &ExpandContext<'_>,
    ) -> Result<String, TemplateError> {
        let lmap =
            |l: &Labels| TValue::str_map(l.iter().map(|x| (x.name.as_str(), x.value.as_str())));
        let labels = lmap(&data.labels);
        let ext = lmap(&data.external_labels);
        let url = TValue::Str(data.external_url.clone());
        let value = match &data.histogram {
            Some(h) => TValue::Histogram(h.clone()),
            None => TValue::Float(data.value),
        };
        let mut dot = std::collections::BTreeMap::new();
        dot.insert("Labels".to_string(), labels.clone());
        dot.insert("ExternalLabels".to_string(), ext.clone());
        dot.insert("ExternalURL".to_string(), url.clone());
        dot.insert("Value".to_string(), value.clone());
        let vars = vec![
            ("$labels".to_string(), labels),
            ("$externalLabels".to_string(), ext),
            ("$externalURL".to_string(), url),
            ("$value".to_string(), value),
        ];
        let ctx = ExpandContext {
            query: ctx.query,
            external_url: if ctx.external_url.is_empty() {
                &data.external_url
            } else {
                ctx.external_url
            },
        };
        exec::execute(&self.nodes, &TValue::Map(dot), vars, &ctx).map_err(TemplateError::Exec)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exp(src: &str, labels: &[(&str, &str)], v: f64) -> String {
        let t = Template::parse(src).unwrap_or_else(|e| panic!("{src}: {e}"));
        t.expand(
            &TemplateData::new(Labels::from_pairs(labels), v),
            &ExpandContext::default(),
        )
        .unwrap_or_else(|e| panic!("{src}: {e}"))
    }

    #[test]
    fn common_alert_templates() {
        let l = [("instance", "host:9100"), ("job", "node")];
        assert_eq!(
            exp("{{ $labels.instance }} down", &l, 0.0),
            "host:9100 down"
        );
        assert_eq!(exp("{{ .Labels.job }}/{{ .Value }}", &l, 2.5), "node/2.5");
        assert_eq!(exp("{{ $labels.missing }}", &l, 0.0), "");
        assert_eq!(exp("{{ $value | humanize }}", &l, 123456.0), "123.5k");
        assert_eq!(exp("{{ humanize1024 $value }}", &l, 2048.0), "2ki");
        assert_eq!(
            exp("{{ $labels.instance | stripPort | toUpper }}", &l, 0.0),
            "HOST"
        );
        assert_eq!(
            exp("{{ if gt $value 1.0 }}high{{ else }}low{{ end }}", &l, 2.0),
            "high"
        );
        assert_eq!(
            exp(
                "{{ if eq $labels.job \"node\" }}n{{ else if true }}x{{ end }}",
                &l,
                0.0
            ),
            "n"
        );
        assert_eq!(
            exp(
                "{{ range $k, $v := $labels }}{{ $k }}={{ $v }};{{ end }}",
                &l,
                0.0
            ),
            "instance=host:9100;job=node;"
        );
        assert_eq!(exp("{{ printf \"%.1f%%\" $value }}", &l, 12.345), "12.3%");
        assert_eq!(exp("{{ $x := 3 }}{{ $x }}", &l, 0.0), "3");
        assert_eq!(
            exp(
                "{{ reReplaceAll \"(.*):.*\" \"$1\" $labels.instance }}",
                &l,
                0.0
            ),
            "host"
        );
        assert_eq!(exp("{{ match \"^ho\" $labels.instance }}", &l, 0.0), "true");
        assert_eq!(exp("{{ title \"hello world\" }}", &l, 0.0), "Hello World");
        assert_eq!(
            exp("{{ with $labels.job }}[{{ . }}]{{ end }}", &l, 0.0),
            "[node]"
        );
        assert_eq!(exp("{{ (args 1 \"a\").arg1 }}", &l, 0.0), "a");
        assert_eq!(exp("  {{- \"x\" -}}  y", &l, 0.0), "xy");
    }

    #[test]
    fn query_functions() {
        let q = |e: &str| -> Result<Vec<QuerySample>, String> {
            assert_eq!(e, "up");
            Ok(vec![
                QuerySample {
                    labels: Labels::from_pairs(&[("__name__", "up"), ("i", "b")]),
                    value: 2.0,
                },
                QuerySample {
                    labels: Labels::from_pairs(&[("__name__", "up"), ("i", "a")]),
                    value: 1.0,
                },
            ])
        };
        let ctx = ExpandContext {
            query: Some(&q),
            external_url: "",
        };
        let t = Template::parse("{{ with query \"up\" }}{{ . | first | value }}{{ end }} {{ range query \"up\" | sortByLabel \"i\" }}{{ .Labels.i }}{{ label \"i\" . }}{{ end }}").unwrap();
        let d = TemplateData::new(Labels::empty(), 0.0);
        assert_eq!(t.expand(&d, &ctx).unwrap(), "2 aabb");
        // Without a query hook the call fails instead of expanding to "".
        assert!(t.expand(&d, &ExpandContext::default()).is_err());
    }

    #[test]
    fn errors_have_positions() {
        let e = Template::parse("ok\n  {{ humanise $value }}").unwrap_err();
        assert_eq!(
            e.to_string(),
            "template: 2:3: function \"humanise\" not defined"
        );
        let e = Template::parse("{{ define \"x\" }}{{ end }}").unwrap_err();
        assert!(matches!(e, TemplateError::Unsupported { .. }), "{e}");
        let t = Template::parse("{{ first (args) }}").unwrap();
        assert!(t
            .expand(
                &TemplateData::new(Labels::empty(), 0.0),
                &ExpandContext::default()
            )
            .is_err());
    }
}
