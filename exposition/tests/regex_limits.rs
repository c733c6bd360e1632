//! Regex matchers cannot be turned against the process: huge alternations and
//! pathological patterns build and match in time linear in the input (the `regex` crate
//! never backtracks), and a pattern whose compiled form is too big is a clear
//! `MatcherError` rather than a memory blow-up.
//!
//! No timing assertions: the pathological cases run on 100 KB inputs, where a
//! backtracking engine would need more steps than there are atoms in the universe, so
//! merely completing inside the test is the proof; results are checked against what the
//! pattern must answer.

use exposition::matcher::REGEX_SIZE_LIMIT;
use exposition::{FastRegex, MatchOp, Matcher, MatcherError};

const KB100: usize = 100 * 1024;

#[test]
fn ten_thousand_literal_alternatives_build_and_match() {
    let alts: Vec<String> = (0..10_000).map(|i| format!("value-{i:05}")).collect();
    let m = Matcher::new(MatchOp::RegexMatch, "x", alts.join("|")).unwrap();
    // A pure alternation of literals becomes a set lookup.
    assert_eq!(m.set_matches().map(|s| s.len()), Some(10_000));
    for v in ["value-00000", "value-04567", "value-09999"] {
        assert!(m.matches(v), "{v}");
    }
    for v in ["value-10000", "value-0000", "value-00000x", ""] {
        assert!(!m.matches(v), "{v}");
    }
    let long = "value-00001".repeat(KB100 / 11);
    assert!(!m.matches(&long));
}

#[test]
fn ten_thousand_regex_alternatives_build_and_match() {
    // Not literals, so the regex engine itself holds all 10 000 branches.
    let alts: Vec<String> = (0..10_000).map(|i| format!("v{i}[a-z]+")).collect();
    let pattern = alts.join("|");
    let re = FastRegex::new(&pattern).unwrap();
    assert!(re.set_matches().is_none());
    assert!(re.is_match("v9999abc"));
    assert!(re.is_match("v0z"));
    assert!(!re.is_match("v10000abc"));
    assert!(!re.is_match("v17"));
    // 100 KB inputs: one that matches to the end, one that fails at the last byte.
    let mut ok = String::from("v42");
    ok.push_str(&"q".repeat(KB100));
    assert!(re.is_match(&ok));
    ok.push('0');
    assert!(!re.is_match(&ok));
}

#[test]
fn nested_quantifiers_match_in_linear_time() {
    // Exponential for a backtracking engine when the input almost matches.
    let a = "a".repeat(KB100);
    let re = FastRegex::new("(a*)*b").unwrap();
    assert!(!re.is_match(&a));
    assert!(re.is_match(&format!("{a}b")));

    let x = "x".repeat(KB100);
    let re = FastRegex::new("(x+x+)+y").unwrap();
    assert!(!re.is_match(&x));
    assert!(re.is_match(&format!("{x}y")));
    // One x is not enough for `x+x+`.
    assert!(!re.is_match("xy"));

    let re = FastRegex::new("(.*a){20}").unwrap();
    let mut s = "a".repeat(19);
    s.push_str(&"b".repeat(KB100));
    assert!(!re.is_match(&s));
    s.push('a');
    assert!(re.is_match(&s));

    // Through the Matcher API, negated as well.
    let m = Matcher::new(MatchOp::RegexNoMatch, "x", "(a|aa)+c").unwrap();
    assert!(m.matches(&a));
    assert!(!m.matches(&format!("{a}c")));
}

#[test]
fn a_pattern_over_the_size_limit_is_a_clear_error() {
    assert_eq!(REGEX_SIZE_LIMIT, 10 << 20);
    for pattern in [
        r"(\w{100}){100}",
        r"[\p{L}\p{N}]{50000}",
        "(((a{100}){100}){100})",
    ] {
        match FastRegex::new(pattern) {
            Err(MatcherError::InvalidRegex { pattern: p, reason }) => {
                assert_eq!(p, pattern);
                assert!(reason.contains("size limit"), "{reason}");
                assert!(reason.contains(&REGEX_SIZE_LIMIT.to_string()), "{reason}");
            }
            Err(e) => panic!("{pattern}: unexpected error {e}"),
            Ok(_) => panic!("{pattern} compiled"),
        }
        let err = Matcher::new(MatchOp::RegexMatch, "x", pattern).unwrap_err();
        assert!(err.to_string().contains("size limit"), "{err}");
    }
    // Just under: large counted repetitions that fit are fine.
    let re = FastRegex::new(r"a{1000}").unwrap();
    assert!(re.is_match(&"a".repeat(1000)));
    assert!(!re.is_match(&"a".repeat(1001)));
}

#[test]
fn a_syntax_error_is_still_reported_as_such() {
    let Err(MatcherError::InvalidRegex { reason, .. }) = FastRegex::new("(a") else {
        panic!("expected an error")
    };
    assert!(!reason.contains("size limit"), "{reason}");
}
