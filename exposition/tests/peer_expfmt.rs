//! Runs prometheus/common `expfmt` test data (`$PEER_TESTS/expfmt`): the fuzz corpus inputs
//! named `from_test_parse_*` and `minimal` must parse, `from_test_parse_error_*` must be
//! rejected (those without a final line feed are rejected again with one appended, so the
//! rule each targets is checked, except `error_0` whose only fault is that missing line
//! feed); `testdata/text` and its gzip copy must parse. Protobuf and the legacy JSON format
//! are out of scope and skipped.

mod common;

use std::io::Read;
use std::path::Path;

use common::*;
use exposition::ParseErrorKind;
use testkit::{Outcome, Suite};

fn corpus_case(path: &Path, name: &str) -> Outcome {
    let input = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) => return Outcome::Fail(e.to_string()),
    };
    if !name.starts_with("from_test_parse_error_") {
        return outcome(parse_text(&input).and_then(|c| check_sample_count(&input, &c)));
    }
    let first = exposition::text::TextParser::new(&input).collect::<Result<Vec<_>, _>>();
    let Err(err) = first else {
        return Outcome::Fail("accepted an invalid input".into());
    };
    if input.last() == Some(&b'\n') {
        return Outcome::Pass;
    }
    let mut with_lf = input.clone();
    with_lf.push(b'\n');
    let second = parse_text(&with_lf);
    if name == "from_test_parse_error_0" {
        // `bla 3.14` without a line feed: the missing line feed is the error.
        return match (&err.kind, second) {
            (ParseErrorKind::UnexpectedEof(_), Ok(_)) => Outcome::Pass,
            (k, s) => Outcome::Fail(format!("error {k:?}, with line feed: {s:?}")),
        };
    }
    match second {
        Err(_) => Outcome::Pass,
        Ok(_) => Outcome::Fail("accepted once a final line feed was appended".into()),
    }
}

fn testdata_case(path: &Path, name: &str) -> Outcome {
    let mut input = Vec::new();
    let read = std::fs::File::open(path).and_then(|mut f| {
        if name.ends_with(".gz") {
            flate2::read::GzDecoder::new(f).read_to_end(&mut input)
        } else {
            f.read_to_end(&mut input)
        }
    });
    if let Err(e) = read {
        return Outcome::Fail(e.to_string());
    }
    outcome(
        parse_text(&input)
            .and_then(|c| check_sample_count(&input, &c))
            .and_then(|()| text_round_trip(&input)),
    )
}

#[test]
fn expfmt() {
    let Some(mut suite) = Suite::open("expfmt", "expfmt") else {
        return;
    };
    let root = suite.root().to_path_buf();
    let corpus = testkit::files_sorted(&root.join("fuzz/corpus"), |_| true);
    assert!(!corpus.is_empty(), "no corpus under {}", root.display());
    for f in corpus {
        let name = f
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        suite.case(&format!("corpus/{name}"), || corpus_case(&f, &name));
    }
    for f in testkit::files_sorted(&root.join("testdata"), |_| true) {
        let name = f
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let id = format!("testdata/{name}");
        if name.starts_with("protobuf") {
            suite.case(&id, || {
                Outcome::Skip("protobuf exposition is out of scope for now".into())
            });
        } else if name.starts_with("json2") {
            suite.case(&id, || {
                Outcome::Skip("legacy JSON format 0.0.2 is out of scope".into())
            });
        } else {
            suite.case(&id, || testdata_case(&f, &name));
        }
    }
    suite.finish();
}
