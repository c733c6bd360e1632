//! The promqltest runner: Prometheus's `.test` script language.
//!
//! A script loads series (`load 1m` + lines in series notation), evaluates queries
//! (`eval instant at 5m expr`, `eval range from 0 to 10m step 1m expr`) and states the
//! expected result, failure or annotations. [`script`] parses scripts; [`runner`] runs
//! them over a [`MemStorage`](crate::storage::MemStorage) with the [`Engine`](crate::engine::Engine).
//!
//! ```
//! use promql::engine::Engine;
//! use promql::promqltest::{run_script, EvalOutcome, RunOptions};
//! let script = "load 1m\n  up{job=\"a\"} 1 2 3\n\neval instant at 2m up * 2\n  {job=\"a\"} 6\n";
//! let mut outcomes = Vec::new();
//! run_script(script, &Engine::default(), &RunOptions::default(), |_, o| outcomes.push(o)).unwrap();
//! assert_eq!(outcomes, vec![EvalOutcome::Pass]);
//! ```

pub mod runner;
pub mod script;

pub use runner::{almost_equal, run_script, EvalOutcome, RunOptions};
pub use script::{parse_histogram, parse_script, Command, Eval, EvalKind, ScriptError};
