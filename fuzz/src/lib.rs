//! Fuzzing entry points for every reader of untrusted bytes in the workspace.
//!
//! Each `pub fn <target>(data: &[u8])` holds the whole body of the cargo-fuzz target of the
//! same name (`fuzz_targets/<target>.rs` is a one-line call into it), so the checked-in
//! crash inputs under `fuzz/regressions/<target>/` can be replayed by a plain `cargo test`
//! (`tests/regressions.rs`) without cargo-fuzz or a nightly toolchain. A target returns
//! normally for any input; a panic (including a failed assertion) is a finding.
//!
//! # Module map
//!
//! | module | the question it answers |
//! |---|---|
//! | [`expo`] | do the text 0.0.4 / OpenMetrics parsers, encoders and matchers survive any bytes, and agree? |
//! | [`storage`] | do the WAL reader and the XOR chunk decoder survive any bytes? |
//! | [`blocks`] | do the block readers (our index and chunks, Prometheus's index) survive damaged files? |
//! | [`query`] | do the PromQL parser and the rule-file loader survive any text? |
//! | [`alerting`] | do Alertmanager matchers, config and silence/nflog snapshots survive any input? |
//! | [`wire`] | does the remote-write receiver survive any body? |
//! | [`protobuf`] | does the protobuf exposition reader survive any body, and round-trip what it accepts? |
//! | [`server`] | do the example programs' HTTP API and stack config survive any request/text? |
//!
//! # Example
//!
//! ```
//! // Every target accepts every input; this one parses text exposition.
//! fuzz::text_parse(b"up{job=\"a\"} 1\n");
//! assert!(fuzz::TARGETS.iter().any(|(name, _)| *name == "text_parse"));
//! for (_, target) in fuzz::TARGETS {
//!     target(b"");
//! }
//! ```
#![warn(missing_docs)]

pub mod alerting;
pub mod blocks;
pub mod expo;
pub mod protobuf;
pub mod query;
pub mod server;
pub mod storage;
pub mod wire;

pub use alerting::{am_config, am_matchers, nflog_snapshot, silence_snapshot};
pub use blocks::{block_chunks, block_index, promblock_index};
pub use expo::{
    exposition_roundtrip, matcher_regex, openmetrics_parse, text_openmetrics_diff, text_parse,
};
pub use protobuf::protobuf_parse;
pub use query::{promql_parse, rule_file};
pub use server::{api_request, stack_config};
pub use storage::{chunk_decode, wal_reader};
pub use wire::remote_write_decode;

/// A fuzz target's entry point.
pub type Target = fn(&[u8]);

/// Every target by name (the names of the `[[bin]]`s in `fuzz/Cargo.toml`).
pub const TARGETS: &[(&str, Target)] = &[
    ("am_config", am_config),
    ("am_matchers", am_matchers),
    ("api_request", api_request),
    ("block_chunks", block_chunks),
    ("block_index", block_index),
    ("chunk_decode", chunk_decode),
    ("exposition_roundtrip", exposition_roundtrip),
    ("matcher_regex", matcher_regex),
    ("nflog_snapshot", nflog_snapshot),
    ("openmetrics_parse", openmetrics_parse),
    ("promblock_index", promblock_index),
    ("promql_parse", promql_parse),
    ("protobuf_parse", protobuf_parse),
    ("remote_write_decode", remote_write_decode),
    ("rule_file", rule_file),
    ("silence_snapshot", silence_snapshot),
    ("stack_config", stack_config),
    ("text_openmetrics_diff", text_openmetrics_diff),
    ("text_parse", text_parse),
    ("wal_reader", wal_reader),
];

/// The target called `name`, if there is one.
pub fn target(name: &str) -> Option<Target> {
    TARGETS.iter().find(|(n, _)| *n == name).map(|(_, t)| *t)
}
