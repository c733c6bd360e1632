//! The pieces of `stack`: configuration, service discovery, relabelling, scraping (with
//! limits), remote-write, the embedded demo, and the loop that ties scraping, rule
//! evaluation, alert routing and remote-write together.
//!
//! | module | the question it answers |
//! |---|---|
//! | [`config`] | which `prometheus.yml` fields does `stack` read, and what do they mean? |
//! | [`discovery`] | which targets do `file_sd_configs` and `http_sd_configs` name right now? |
//! | [`pool`] | which scrape loops run for a job, and what happens when a target goes away? |
//! | [`relabel`] | what does a relabel rule do to a label set? |
//! | [`scrape`] | what does one scrape append (limits, staleness, synthetic series)? |
//! | [`remote_write`] | how do new samples reach a `remote_write` URL? |
//! | [`runner`] | what does the loop do each round? |
//! | [`demo`] | what does the embedded demo configure? |

pub mod config;
pub mod demo;
pub mod discovery;
pub mod pool;
pub mod relabel;
pub mod remote_write;
pub mod runner;
pub mod scrape;
