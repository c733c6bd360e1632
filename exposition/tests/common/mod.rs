//! Helpers shared by the peer-suite runners.
#![allow(dead_code)]

use exposition::openmetrics::{self, OpenMetricsParser};
use exposition::text::{self, TextParser};
use exposition::Entry;

/// Number of lines that hold a sample: not blank, not starting (after blanks) with `#`.
pub fn sample_lines(input: &[u8]) -> usize {
    input
        .split(|&b| b == b'\n')
        .filter(|l| {
            let t: &[u8] = match l.iter().position(|&b| b != b' ' && b != b'\t') {
                Some(i) => &l[i..],
                None => &[],
            };
            !t.is_empty() && t[0] != b'#'
        })
        .count()
}

/// Lines starting with `prefix`.
pub fn lines_starting(input: &[u8], prefix: &str) -> usize {
    input
        .split(|&b| b == b'\n')
        .filter(|l| l.starts_with(prefix.as_bytes()))
        .count()
}

/// What a parse produced.
#[derive(Debug, Default)]
pub struct Counts {
    pub samples: usize,
    pub helps: usize,
    pub types: usize,
    pub eof: bool,
}

pub fn count<'a>(
    entries: impl Iterator<Item = Result<Entry<'a>, exposition::ParseError>>,
) -> Result<Counts, exposition::ParseError> {
    let mut c = Counts::default();
    for e in entries {
        match e? {
            Entry::Sample(_) => c.samples += 1,
            Entry::Help { .. } => c.helps += 1,
            Entry::Type { .. } => c.types += 1,
            Entry::Eof => c.eof = true,
            _ => {}
        }
    }
    Ok(c)
}

pub fn parse_text(input: &[u8]) -> Result<Counts, String> {
    count(TextParser::new(input)).map_err(|e| e.to_string())
}

pub fn parse_om(input: &[u8]) -> Result<Counts, String> {
    count(OpenMetricsParser::new(input)).map_err(|e| e.to_string())
}

/// Checks that the parse saw one sample per sample line.
pub fn check_sample_count(input: &[u8], c: &Counts) -> Result<(), String> {
    let want = sample_lines(input);
    if c.samples != want {
        return Err(format!("{} samples parsed, {want} sample lines", c.samples));
    }
    Ok(())
}

/// Families -> text 0.0.4 -> families gives the same families.
pub fn text_round_trip(input: &[u8]) -> Result<(), String> {
    let fams = text::parse_families(input).map_err(|e| e.to_string())?;
    let mut out = String::new();
    text::encode(&fams, &mut out);
    let again = text::parse_families(out.as_bytes()).map_err(|e| format!("re-parse: {e}"))?;
    if format!("{again:?}") != format!("{fams:?}") {
        return Err("text round trip changed the families".into());
    }
    Ok(())
}

/// Families -> OpenMetrics -> families gives the same families.
pub fn om_round_trip(input: &[u8]) -> Result<(), String> {
    let fams = openmetrics::parse_families(input).map_err(|e| e.to_string())?;
    let mut out = String::new();
    openmetrics::encode(&fams, &mut out);
    let again =
        openmetrics::parse_families(out.as_bytes()).map_err(|e| format!("re-parse: {e}"))?;
    if format!("{again:?}") != format!("{fams:?}") {
        return Err("OpenMetrics round trip changed the families".into());
    }
    Ok(())
}

pub fn outcome(r: Result<(), String>) -> testkit::Outcome {
    match r {
        Ok(()) => testkit::Outcome::Pass,
        Err(e) => testkit::Outcome::Fail(e),
    }
}
