//! The pieces of `stack`: configuration, relabelling, scraping, the embedded demo, and the
//! loop that ties scraping, rule evaluation and alert routing together.

pub mod config;
pub mod demo;
pub mod relabel;
pub mod runner;
pub mod scrape;
