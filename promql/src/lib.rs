//! PromQL for embedding: the query language of Prometheus 3.x as a library — parser, evaluation
//! engine and rules — with no runtime of its own (no threads, no clock, no sockets; time is an
//! argument).
//!
//! The front end turns query text into a type-checked syntax tree that the engine evaluates
//! directly, and prints trees back as canonical PromQL:
//!
//! ```text
//! text ──lexer──► tokens ──parser──► ast::Expr (typed, with spans) ──printer──► canonical text
//!                                        │
//!                                        └──► engine (over a Storage) ──► value
//! ```
//!
//! # Module map
//!
//! | module | the question it answers |
//! |---|---|
//! | [`lexer`] | which tokens does a query consist of? |
//! | [`parser`] | how does text become a type-checked [`Expr`]? ([`parse`], [`parse_with`], [`ParseOptions`], [`QueryParser`]) |
//! | [`ast`] | what is a parsed expression made of (nodes, spans, value types, duration expressions)? |
//! | [`printer`] | how is a tree written back as canonical PromQL, on one line or pretty-printed? |
//! | [`signatures`] | which functions exist, and what do they take and return? |
//! | [`error`] | what went wrong in a query, and where (line:column, byte span)? |
//! | `engine` | what does an expression evaluate to at a time or over a range? |
//! | `functions` | how is each PromQL function computed? |
//! | `storage` | where does the engine read series from? |
//! | `value` | what do results look like (scalars, vectors, matrices)? |
//! | `promqltest` | does the engine pass Prometheus's `.test` scripts? |
//!
//! # Example
//!
//! ```
//! use promql::{parse, printer::print, ValueType};
//!
//! let e = parse("sum(rate(http_requests_total{job=~\"api|web\"}[5m]))by(job)").unwrap();
//! assert_eq!(e.value_type(), ValueType::Vector);
//! // The canonical form parses back to the same tree.
//! let text = print(&e);
//! assert_eq!(text, "sum by (job) (rate(http_requests_total{job=~\"api|web\"}[5m]))");
//! assert!(parse(&text).unwrap().same_as(&e));
//!
//! // Errors carry a position and read like Prometheus's.
//! let err = parse("rate(http_requests_total)").unwrap_err();
//! assert_eq!(err.to_string(), "1:6: parse error: expected type range vector in call to \
//!     function \"rate\", got instant vector");
//! ```
//!
//! Experimental syntax (experimental functions, `limitk`/`limit_ratio`, `anchored`/`smoothed`,
//! `fill(...)` modifiers) is accepted with [`ParseOptions::all`]; duration arithmetic
//! (`x[5m + step()]`) is on by default, as in Prometheus 3.14.

pub mod ast;
pub mod error;
pub mod functions;
pub mod lexer;
pub mod parser;
pub mod printer;
pub mod signatures;
pub mod storage;
pub mod tsdb_storage;
pub mod value;

pub use ast::{Expr, ValueType};
pub use error::{ParseError, ParseErrorKind};
pub use parser::{parse, parse_with, ParseOptions, QueryParser};
pub mod engine;
pub mod promqltest;
pub mod rules;
