//! Prometheus remote-write 1.0 for our tsdb: a sender-side queue that turns samples (from
//! an append stream or by tailing the tsdb WAL) into request bodies with the headers a
//! sender must set, a retry schedule that never sleeps, and a receiver that decodes a body
//! and appends it to a tsdb, reporting per-series refusals.
//!
//! Use it to ship samples to anything that speaks remote-write 1.0 (Prometheus with
//! `--web.enable-remote-write-receiver`, Mimir, Thanos, VictoriaMetrics, …) or to accept
//! remote-write into a [`tsdb::Db`]. It opens no sockets, spawns no threads and reads no
//! clock: the caller does the HTTP and passes `now_ms`. Float samples and native histograms
//! (integer and float) go both ways; exemplars and metadata are counted by the receiver,
//! not stored, and not sent.
//!
//! ```text
//! sender:   push / WalTailer::poll ──► WriteQueue ──next_request(now)──► body + headers ──► POST
//!                                          ▲                                                │
//!                                          └─────── on_response(status, Retry-After, now) ◄─┘
//! receiver: POST body ──► receive(body, appender) ──► snappy ─► protobuf ─► Appender ─► ReceiveReport
//! ```
//!
//! # Module map
//!
//! | module | the question it answers |
//! |---|---|
//! | [`proto`] | what are the messages on the wire (field numbers of remote-write 1.0)? |
//! | [`codec`] | how does a request become a body (protobuf + snappy block), and which headers go with it? |
//! | [`histogram`] | how does a native histogram look on the wire, and is this one well-formed? |
//! | [`queue`] | which samples go in the next request, and what happens after the answer? |
//! | [`retry`] | is this status retried, and when is the next try (backoff, `Retry-After`)? |
//! | [`wal_tail`] | which samples has the tsdb WAL got since a position, and where do I resume? |
//! | [`receive`](mod@receive) | how does a body get into the tsdb, and which series were refused? |
//! | [`error`] | what went wrong? |
//!
//! The `.proto` files the structs mirror are in `proto/` in the crate.
//!
//! # Example
//!
//! ```
//! use exposition::Labels;
//! use remote::{receive, QueueConfig, ResponseOutcome, WriteQueue};
//! use tsdb::{Db, HeadOptions};
//!
//! // Sender: queue samples and cut a request.
//! let mut queue = WriteQueue::new(QueueConfig { max_samples_per_send: 2, ..QueueConfig::default() });
//! let up = Labels::from_pairs(&[("__name__", "up"), ("job", "node")]);
//! queue.push(&up, 1_000, 1.0).unwrap();
//! queue.push(&up, 2_000, 1.0).unwrap();
//! let req = queue.next_request(0).expect("a full batch is sent at once");
//! assert_eq!(req.headers[0], ("Content-Encoding", "snappy".to_string()));
//!
//! // Receiver: the body goes into a tsdb (here in memory).
//! let mut db = Db::in_memory(HeadOptions::default());
//! let report = receive(&req.body, db.appender()).unwrap();
//! assert_eq!((report.samples_appended, report.http_status()), (2, 204));
//!
//! // Sender again: the answer settles the request.
//! assert_eq!(queue.on_response(204, None, 10), ResponseOutcome::Delivered { samples: 2 });
//! assert!(queue.is_idle());
//! ```
#![warn(missing_docs)]

pub mod codec;
pub mod error;
pub mod histogram;
pub mod proto;
pub mod queue;
pub mod receive;
pub mod retry;
pub mod wal_tail;

pub use codec::{decode_request, encode_request, request_headers};
pub use error::RemoteError;
pub use histogram::HistogramDecodeError;
pub use queue::{OutgoingRequest, QueueConfig, QueueFull, QueueStats, ResponseOutcome, WriteQueue};
pub use receive::{
    append_request, receive, HistogramAppender, ReceiveReport, RejectReason, SeriesRejection,
};
pub use retry::{classify_status, parse_retry_after, Backoff, ResponseClass};
pub use wal_tail::{TailReport, WalPosition, WalTailer};
