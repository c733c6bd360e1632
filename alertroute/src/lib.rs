//! alertroute: Alertmanager's routing tree, grouping and timing, inhibition, silences and
//! dedup, as an embeddable library.
//!
//! A service links this crate to decide *who is told what, and when*: load an
//! `alertmanager.yml` unchanged, feed alerts in, tick the dispatcher with the current time,
//! and deliver the [`Notification`]s it hands back (for example as the version-4 webhook JSON
//! from [`webhook`]). The semantics are Alertmanager's (see the peer notes in
//! `shared/peer-tests/alertmanager/SEMANTICS.md`); the crate never starts threads, never
//! reads the clock and never opens sockets: time is always an argument in milliseconds.
//!
//! # Should I use this?
//! Use it to embed Alertmanager-compatible routing and notification timing in a Rust
//! program. It does not deliver notifications (no HTTP, no SMTP) and it does not gossip by
//! itself: silences and the notification log snapshot to bytes and merge, and moving those
//! bytes between replicas is the caller's job.
//!
//! # Module map
//! | module | the question it answers |
//! |---|---|
//! | [`config`] | what does this `alertmanager.yml` mean, and is it valid? |
//! | [`matchers`] | what does `foo=~"a\|b", bar!=baz` parse to? |
//! | [`goregex`] | does Go's RE2 accept this pattern, and as what? |
//! | [`duration`] | how long is `1h30m`? |
//! | [`route`] | which routes (receivers) does this alert go to? |
//! | [`group`] | which alerts are notified together? |
//! | [`dispatch`] | what must be sent now, and when should I call again? |
//! | [`inhibit`] | is this alert muted by a related firing alert? |
//! | [`silence`] | is this alert silenced, and by which silence? |
//! | [`nflog`] | was this already sent, or must it be sent again? |
//! | [`timeinterval`] | is this instant inside the named time interval? |
//! | [`webhook`] | what JSON do I POST? |
//! | [`alert`] | what is an alert, and what is its fingerprint? |
//! | [`error`] | what went wrong? |
//!
//! # Example: the main path
//! ```
//! use alertroute::{Alert, Config, Dispatcher};
//! use exposition::Labels;
//!
//! let cfg = Config::load(r#"
//! route:
//!   receiver: default
//!   group_by: [alertname]
//!   group_wait: 30s
//!   group_interval: 5m
//!   routes:
//!     - matchers: ['severity="page"']
//!       receiver: pager
//! receivers:
//!   - name: default
//!   - name: pager
//!     webhook_configs: [{url: "http://pager.example/hook"}]
//! "#).unwrap();
//! let mut d = Dispatcher::new(cfg, "am-0");
//! let alert = Alert::new(Labels::from_pairs(&[("alertname", "DiskFull"), ("severity", "page")]), 0);
//! d.insert(alert.clone(), 0);
//! assert_eq!(d.next_deadline(), Some(30_000));
//! let out = d.tick(30_000);
//! assert_eq!(out.len(), 1);
//! assert_eq!(out[0].receiver, "pager");
//! let body = alertroute::webhook::encode(&out[0], "http://am.example");
//! assert!(body.starts_with(b"{"));
//! // The sender re-posts the alert before resolve_timeout (5m) runs out; nothing changed,
//! // so the next flush (5m later) sends nothing until repeat_interval.
//! d.insert(alert, 300_000);
//! assert!(d.tick(330_000).is_empty());
//! ```
//!
//! # Differences from Alertmanager
//! - Regexes use the `regex` crate through `exposition::Matcher` (RE2 syntax, anchored); `.`
//!   also matches a newline there, while Go's does not.
//! - A receiver with no integrations still yields one [`Notification`] per send decision
//!   (integration `None`, `send_resolved` on), so callers can observe routing and timing.
//! - Flushes are stamped with their deadline, not with the completion time of a send.
//! - A notification counts as sent when [`Dispatcher::tick`] hands it out; retrying a failed
//!   delivery is the caller's job.

#![warn(missing_docs)]

pub mod alert;
pub mod config;
pub mod dispatch;
pub mod duration;
pub mod error;
pub mod goregex;
pub mod group;
pub mod inhibit;
pub mod matchers;
pub mod nflog;
pub mod route;
pub mod silence;
pub mod timeinterval;
pub mod webhook;

pub use alert::Alert;
pub use config::{Config, Integration, Receiver};
pub use dispatch::{Dispatcher, DispatcherOptions, MutedAlert, Notification};
pub use error::{ConfigError, Error, MatcherParseError, SilenceError};
pub use route::{GroupBy, Route, RouteId, RouteTree};
