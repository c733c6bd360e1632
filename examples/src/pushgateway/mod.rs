//! The `pushgateway` program's logic: a Prometheus Pushgateway that batch jobs push metric
//! groups to and Prometheus scrapes, kept apart from the socket loop in
//! `src/bin/pushgateway.rs` so every rule is unit-tested.
//!
//! | module | the question it answers |
//! |---|---|
//! | [`key`] | which group does `/metrics/job/<job>/...` address? |
//! | [`store`] | what is held, how do PUT/POST/DELETE change it, which pushes are refused? |
//! | [`api`] | which request does what, with which status and body? |
//! | [`persist`] | how does the store survive a restart? |
//! | [`error`] | what went wrong? |

pub mod api;
pub mod error;
pub mod key;
pub mod persist;
pub mod store;

pub use api::{Pushgateway, Reply};
pub use error::{KeyError, PersistError, PushError};
pub use store::{Group, PushMode, Store};

#[cfg(test)]
mod protobuf_tests;
