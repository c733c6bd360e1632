//! Differential testing of our PromQL engine against a real Prometheus 2.x: a seeded
//! data set ([`data`]) loaded into both, a seeded query grammar ([`gen`]), answers compared
//! series by series ([`compare`]), and every mismatch either explained by a documented
//! 2.x -> 3.x change ([`classify`], verified by re-asking Prometheus with the change
//! emulated, [`rewrite`]) or counted as unexplained. [`harness`] starts the servers and
//! runs cases; the `promql-diff` program and `tests/promql_diff.rs` drive it.
//!
//! | module | the question it answers |
//! |---|---|
//! | [`rng`] | which random numbers, reproducibly? |
//! | [`data`] | what samples do both servers hold? |
//! | [`gen`] | which queries are asked? |
//! | [`compare`] | do two API answers agree? |
//! | [`rewrite`] | how is 2.42 made to answer with 3.x semantics? |
//! | [`classify`] | which documented change explains a mismatch? |
//! | [`harness`] | how are the servers started, asked, and the outcomes counted? |

pub mod classify;
pub mod compare;
pub mod data;
pub mod gen;
pub mod harness;
pub mod rewrite;
pub mod rng;
