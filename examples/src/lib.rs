//! Shared pieces of the example programs: the Prometheus HTTP API over a tsdb (`server`,
//! and inside `stack`), self-instrumentation, and (for `stack`) configuration, scraping,
//! relabelling and the embedded demo.
//!
//! This is the only crate of the workspace that opens sockets, starts threads and reads
//! the clock; the libraries it composes take time as an argument.
//!
//! # Module map
//!
//! | module | the question it answers |
//! |---|---|
//! | [`api`] | which endpoint answers what, in Prometheus's JSON shapes? |
//! | [`http`] | how do requests get from a socket to the API? |
//! | [`telemetry`] | what does our own `/metrics` say? |
//! | [`bench`] | what data set and queries does `bench-queries` time? |
//! | [`promql_diff`] | does our PromQL engine answer like a real Prometheus (the `promql-diff` program)? |
//! | [`pushgateway`] | what does the `pushgateway` program hold and answer? |
//! | [`stack`] | how does `stack` read its config, scrape, discover, relabel, evaluate, route and remote-write? |
//! | [`ui`] | what page does `GET /` serve (the query page: table, graph, alerts, rules, targets)? |
//!
//! # Example
//!
//! ```
//! use std::sync::{Arc, RwLock};
//! use examples::api::{Api, ApiOptions, Request};
//! use exposition::Labels;
//! use tsdb::{Db, HeadOptions};
//!
//! let mut db = Db::in_memory(HeadOptions::default());
//! let mut app = db.appender();
//! app.append(&Labels::from_pairs(&[("__name__", "up"), ("job", "a")]), 1_000, 1.0).unwrap();
//! app.commit().unwrap();
//! let api = Api::new(Arc::new(RwLock::new(db)), ApiOptions::default());
//! let reply = api.handle(&Request::new("GET", "/api/v1/query?query=up&time=2", None, b"", None));
//! assert_eq!(reply.status, 200);
//! let body = String::from_utf8(reply.body).unwrap();
//! assert!(body.contains(r#""value":[2,"1"]"#), "{body}");
//! ```
#![warn(missing_docs)]

pub mod api;
pub mod bench;
pub mod http;
pub mod promql_diff;
pub mod pushgateway;
pub mod stack;
pub mod telemetry;
pub mod ui;
