//! Differential test of our PromQL engine against a real Prometheus 2.x (when
//! `/usr/bin/prometheus` and `/usr/bin/promtool` are installed): a few hundred seeded
//! random queries, each as an instant and a range query, must show no mismatch that a
//! documented 2.x -> 3.x change (see `promql_diff::classify::RULES`) does not explain.

use std::path::{Path, PathBuf};

use examples::promql_diff::classify::{AGREE, UNEXPLAINED};
use examples::promql_diff::data::DataSpec;
use examples::promql_diff::harness::{run_case, CaseGen, Client, Programs, Servers, Tally};

#[test]
fn random_queries_agree_with_prometheus_or_are_explained() {
    let (prom, tool) = (
        Path::new("/usr/bin/prometheus"),
        Path::new("/usr/bin/promtool"),
    );
    if !prom.exists() || !tool.exists() {
        println!("promql_diff: /usr/bin/prometheus or /usr/bin/promtool not installed; skipped");
        return;
    }
    let progs = Programs {
        server: PathBuf::from(env!("CARGO_BIN_EXE_server")),
        prometheus: prom.to_path_buf(),
        promtool: tool.to_path_buf(),
    };
    let spec = DataSpec {
        seed: 42,
        minutes: 150,
    };
    let servers = Servers::start(&progs, &spec).expect("servers start");
    let client = Client::default();
    let mut tally = Tally::default();
    let queries = 400;
    for seed in [7u64, 8] {
        let mut cases = CaseGen::new(seed, &spec);
        for _ in 0..queries / 2 {
            for case in cases.next_pair() {
                let o = run_case(&client, &servers, &case);
                tally.add(&case, &o);
            }
        }
    }
    print!("{}", tally.table());
    let bad: Vec<String> = tally
        .unexplained
        .iter()
        .map(|(c, d)| format!("{}\n    {d}", c.describe()))
        .collect();
    assert!(
        bad.is_empty(),
        "{} unexplained:\n{}",
        bad.len(),
        bad.join("\n")
    );
    // The comparison ran for real: most cases agree outright.
    assert!(
        tally.total(AGREE) > queries * 2 * 9 / 10,
        "only {} of {} cases agree",
        tally.total(AGREE),
        queries * 2
    );
    assert_eq!(tally.total(UNEXPLAINED), 0);
}
