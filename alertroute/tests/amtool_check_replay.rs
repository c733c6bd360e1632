//! Replays `amtool check-config` 0.25 verdicts captured by the differential test
//! (`examples/tests/routes_diff.rs`) for the differences it found and we fixed
//! (`testdata/amtool_check.tsv`), so they stay fixed without amtool installed.

use alertroute::Config;

#[test]
fn check_config_verdicts_match_amtool() {
    let table = include_str!("testdata/amtool_check.tsv");
    let mut failures = Vec::new();
    let mut n = 0;
    for line in table
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let (yaml, want) = line.split_once('\t').expect("two columns");
        let yaml: String = serde_json::from_str(yaml).expect("JSON string");
        n += 1;
        match (Config::load(&yaml), want.strip_prefix("ERR:")) {
            (Ok(_), None) => {}
            (Err(e), Some(text)) if e.to_string().contains(text) => {}
            (got, _) => failures.push(format!(
                "{yaml:?}: want {want}, got {:?}",
                got.map(|_| "OK").map_err(|e| e.to_string())
            )),
        }
    }
    assert!(n >= 20, "only {n} rows");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
