//! Runs prometheus/common `expfmt` test data (`$PEER_TESTS/expfmt`): the fuzz corpus inputs
//! named `from_test_parse_*` and `minimal` must parse, `from_test_parse_error_*` must be
//! rejected (those without a final line feed are rejected again with one appended, so the
//! rule each targets is checked, except `error_0` whose only fault is that missing line
//! feed); `testdata/text` and its gzip copy must parse. The delimited protobuf files
//! (`testdata/protobuf*`) must decode, survive decode -> encode -> decode unchanged, and,
//! where a text twin exists (`protobuf` and its gzip copy were taken from the same scrape
//! as `text`), expose exactly the text twin's families and samples. The legacy JSON format
//! is out of scope and skipped.

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

fn read_maybe_gz(path: &Path) -> Result<Vec<u8>, String> {
    let mut input = Vec::new();
    std::fs::File::open(path)
        .and_then(|mut f| {
            if path.extension().is_some_and(|e| e == "gz") {
                flate2::read::GzDecoder::new(f).read_to_end(&mut input)
            } else {
                f.read_to_end(&mut input)
            }
        })
        .map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(input)
}

/// A sample reduced to what both formats must agree on: name, labels (with `le` and
/// `quantile` as numbers, since the two formats spell them differently) and value bits.
fn sample_key(s: &exposition::FamilySample) -> String {
    let mut labels: Vec<String> = s
        .labels
        .iter()
        .map(|l| {
            let v = if l.name == "le" || l.name == "quantile" {
                match l.value.as_str() {
                    "+Inf" => f64::INFINITY,
                    v => v.parse::<f64>().unwrap_or(f64::NAN),
                }
                .to_string()
            } else {
                l.value.to_string()
            };
            format!("{}={v:?}", l.name)
        })
        .collect();
    labels.sort();
    format!(
        "{}{{{}}} {:x} {:?}",
        s.name,
        labels.join(","),
        s.value.to_bits(),
        s.timestamp
    )
}

fn protobuf_case(root: &Path, path: &Path, name: &str) -> Result<(), String> {
    use exposition::protobuf::{self, DecodeOptions};
    let input = read_maybe_gz(path)?;
    let opts = DecodeOptions::default();
    let scrape = protobuf::decode(&input, &opts).map_err(|e| e.to_string())?;
    let messages = protobuf::decode_messages(&input).map_err(|e| e.to_string())?;
    if scrape.families.len() != messages.len() || messages.is_empty() {
        return Err(format!(
            "{} families from {} messages",
            scrape.families.len(),
            messages.len()
        ));
    }
    // Messages -> bytes -> messages is the identity.
    let mut bytes = Vec::new();
    protobuf::encode_delimited(&messages, &mut bytes);
    if protobuf::decode_messages(&bytes).map_err(|e| e.to_string())? != messages {
        return Err("message re-encoding changed the messages".into());
    }
    // Scrape -> messages -> bytes -> scrape is the identity.
    let mut bytes = Vec::new();
    protobuf::encode_delimited(&protobuf::to_messages(&scrape), &mut bytes);
    let again = protobuf::decode(&bytes, &opts).map_err(|e| format!("re-decode: {e}"))?;
    if again != scrape {
        return Err("scrape re-encoding changed the scrape".into());
    }
    // Every metric of every family shows up as at least one sample.
    for (f, m) in scrape.families.iter().zip(&messages) {
        if f.samples.len() < m.metric.len() {
            return Err(format!(
                "{}: {} samples from {} metrics",
                f.name,
                f.samples.len(),
                m.metric.len()
            ));
        }
    }
    if name.starts_with("protobuf-multimessage") {
        return Ok(());
    }
    // The text twin holds the same scrape.
    let text = read_maybe_gz(&root.join("testdata/text"))?;
    let text_fams = exposition::text::parse_families(&text).map_err(|e| e.to_string())?;
    let mut want: Vec<(String, String, Vec<String>)> = text_fams
        .iter()
        .map(|f| {
            let mut s: Vec<String> = f.samples.iter().map(sample_key).collect();
            s.sort();
            (f.name.clone(), f.ty.to_string(), s)
        })
        .collect();
    let mut got: Vec<(String, String, Vec<String>)> = scrape
        .families
        .iter()
        .map(|f| {
            let mut s: Vec<String> = f.samples.iter().map(sample_key).collect();
            s.sort();
            (f.name.clone(), f.ty.to_string(), s)
        })
        .collect();
    want.sort();
    got.sort();
    if got.len() != want.len() {
        return Err(format!(
            "{} families, text twin has {}",
            got.len(),
            want.len()
        ));
    }
    for (g, w) in got.iter().zip(&want) {
        if g != w {
            let diff: Vec<&String> = g.2.iter().filter(|s| !w.2.contains(s)).take(3).collect();
            return Err(format!(
                "family {} ({}, {} samples) differs from the text twin's {} ({}, {} samples); e.g. {diff:?}",
                g.0,
                g.1,
                g.2.len(),
                w.0,
                w.1,
                w.2.len()
            ));
        }
    }
    Ok(())
}

fn testdata_case(path: &Path, _name: &str) -> Outcome {
    let input = match read_maybe_gz(path) {
        Ok(b) => b,
        Err(e) => return Outcome::Fail(e),
    };
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
            suite.case(&id, || outcome(protobuf_case(&root, &f, &name)));
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
