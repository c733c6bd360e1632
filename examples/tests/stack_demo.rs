//! End to end: `stack` on its embedded demo (four times faster) must show the alert going
//! pending, firing, routed (printed and POSTed to the webhook sink) and resolved, and end
//! on its own.

use std::process::Command;
use std::time::Instant;

#[test]
fn embedded_demo_notifies_and_resolves() {
    let started = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_stack"))
        .args([
            "--demo.fast",
            "--duration",
            "45s",
            "--web.listen-address",
            "127.0.0.1:0",
        ])
        .output()
        .expect("stack runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "status {:?}\n{stdout}\n{stderr}",
        out.status
    );
    let pos = |needle: &str| {
        stdout
            .find(needle)
            .unwrap_or_else(|| panic!("no {needle:?} in output:\n{stdout}"))
    };
    // The story, in order.
    let down = pos("demo DOWN (server returned HTTP status 503");
    let pending = pos("alert DemoTargetDown pending");
    let firing = pos("alert DemoTargetDown firing");
    let routed = pos("notify: receiver=oncall FIRING {alertname=\"DemoTargetDown\"");
    let resolved = pos("notify: receiver=oncall RESOLVED {alertname=\"DemoTargetDown\"");
    assert!(
        down <= pending && pending < firing && firing < routed && routed < resolved,
        "{stdout}"
    );
    // Staleness markers were written when the target went down and for the batch series.
    assert!(stdout.contains(" stale)"), "{stdout}");
    // Webhooks went out and arrived.
    assert!(stdout.contains("-> webhook http://"), "{stdout}");
    let received: usize = stdout
        .split(" received by the demo sink")
        .next()
        .and_then(|head| head.rsplit(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no sink count in:\n{stdout}"));
    assert!(received >= 2, "{received} webhooks received\n{stdout}");
    assert!(stdout.contains("stack: demo complete"), "{stdout}");
    // It stopped on its own, well before --duration.
    assert!(
        started.elapsed().as_secs() < 40,
        "took {:?}",
        started.elapsed()
    );
}
