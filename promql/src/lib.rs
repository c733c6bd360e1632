//! promql (work in progress).

pub mod functions;
pub mod storage;
pub mod value;
pub mod ast;
pub mod error;
pub mod lexer;
pub mod parser;
pub mod printer;
pub mod signatures;

pub use ast::{Expr, ValueType};
pub use error::{ParseError, ParseErrorKind};
pub use parser::{parse, parse_with, ParseOptions};
pub mod engine;
pub mod promqltest;
