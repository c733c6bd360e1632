//! Kills the `crashtest` writer with SIGKILL at random moments and checks that every
//! acknowledged commit survives, exactly, and nothing else appears.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const BIN: &str = env!("CARGO_BIN_EXE_crashtest");

struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

fn stream_args(dir: &Path, seed: u64, sync: &str) -> Vec<String> {
    vec![
        "--sync".into(),
        sync.into(),
        "--dir".into(),
        dir.display().to_string(),
        "--seed".into(),
        seed.to_string(),
        "--series".into(),
        "100".into(),
        "--truncate-every".into(),
        "10".into(),
        "--keep".into(),
        "20".into(),
    ]
}

/// Runs the writer, kills it after `acks` acknowledgements plus `delay_us`, and returns
/// the last acknowledged sample count.
fn write_and_kill(dir: &Path, seed: u64, sync: &str, acks: u64, delay_us: u64) -> u64 {
    let mut child = Command::new(BIN)
        .arg("write")
        .args(stream_args(dir, seed, sync))
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn crashtest write");
    let mut out = BufReader::new(child.stdout.take().expect("stdout"));
    let mut last = 0u64;
    let mut line = String::new();
    let mut seen = 0;
    while seen < acks {
        line.clear();
        if out.read_line(&mut line).expect("read ack") == 0 {
            break;
        }
        last = parse_ack(&line);
        seen += 1;
    }
    std::thread::sleep(Duration::from_micros(delay_us));
    child.kill().expect("SIGKILL the writer");
    // Acks printed before the kill count too.
    loop {
        line.clear();
        match out.read_line(&mut line) {
            Ok(0) | Err(_) => break,
            Ok(_) => last = parse_ack(&line),
        }
    }
    let status = child.wait().expect("wait");
    assert!(
        status.code().is_none(),
        "writer should die by signal, got {status}"
    );
    last
}

fn parse_ack(line: &str) -> u64 {
    line.trim()
        .strip_prefix("acked ")
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("unexpected writer output {line:?}"))
}

fn verify(dir: &Path, seed: u64, acked: u64) -> (bool, String) {
    let out = Command::new(BIN)
        .arg("verify")
        .args(stream_args(dir, seed, "commit"))
        .args(["--acked", &acked.to_string()])
        .output()
        .expect("run crashtest verify");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    (out.status.success(), text)
}

#[test]
fn sigkill_never_loses_acknowledged_commits() {
    let seed = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(1)
        | 1;
    println!("crashtest seed {seed}");
    let mut rng = Rng(seed);
    let dir = std::env::temp_dir().join(format!("crashtest-{}-{seed}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut acked = 0;
    for round in 0..6 {
        let acks = 1 + rng.below(40);
        let delay = rng.below(3000);
        // A process kill loses nothing under any fsync policy.
        let sync = ["commit", "interval", "manual"][round % 3];
        // Each round resumes on the same directory, so torn tails from the previous kill
        // are repaired and written past.
        acked = acked.max(write_and_kill(&dir, seed, sync, acks, delay));
        let (ok, msg) = verify(&dir, seed, acked);
        println!("round {round} (sync {sync}): killed after {acks} acks + {delay}us: {msg}");
        assert!(ok, "round {round}: {msg}");
    }
    // The verifier can fail: more acknowledged than present, or the wrong stream.
    let (ok, msg) = verify(&dir, seed, acked + 1_000_000);
    assert!(!ok && msg.contains("lost data"), "{msg}");
    let (ok, _) = verify(&dir, seed ^ 2, 0);
    assert!(!ok);
    std::fs::remove_dir_all(&dir).expect("clean up");
}
