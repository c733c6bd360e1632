//! Differential test of our text 0.0.4 and OpenMetrics parsers against a real Prometheus:
//! runs `exposition-diff` (seeded cases, one Prometheus scraping every case, promtool
//! importing the OpenMetrics ones) and asserts it found no unexplained disagreement.
//! Prints a note and passes when `prometheus` or `promtool` is not installed.

use std::process::Command;

fn installed(bin: &str) -> bool {
    Command::new(bin)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

#[test]
fn parsers_agree_with_prometheus() {
    if !installed("prometheus") || !installed("promtool") {
        println!("exposition_diff: skipped (prometheus/promtool not installed; apt-get install prometheus)");
        return;
    }
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_exposition-diff"));
    cmd.args(["--cases", "200", "--seed", "42"]);
    // `PEER_TESTS` is relative to the workspace root; tests run in the package directory.
    let peer = std::env::var("PEER_TESTS").unwrap_or_else(|_| "../shared/peer-tests".into());
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let peer = [std::path::PathBuf::from(&peer), root.join(&peer)]
        .into_iter()
        .find(|p| p.is_dir());
    if let Some(p) = peer {
        cmd.arg("--corpus").arg(p);
    }
    let out = cmd.output().expect("run exposition-diff");
    let stdout = String::from_utf8_lossy(&out.stdout);
    println!("{stdout}");
    assert!(
        out.status.success() && stdout.contains("unexplained: 0"),
        "exposition-diff found unexplained differences:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
