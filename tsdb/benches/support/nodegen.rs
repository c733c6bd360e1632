//! A deterministic generator of node_exporter-like series at a 15 s scrape interval.
//!
//! The mix follows one node_exporter on a small Linux host: per-CPU mode counters with
//! 0.01 s resolution, memory gauges in 4 KiB pages, network and disk counters (busy and
//! idle devices), filesystem gauges, load averages, and Go runtime/process metrics.

use exposition::Labels;

/// A tiny deterministic PRNG (xorshift64*).
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }
    pub fn chance(&mut self, pct: u64) -> bool {
        self.below(100) < pct
    }
}

/// How one series evolves per scrape.
#[derive(Clone, Copy)]
enum Kind {
    /// Never changes.
    Constant,
    /// Counter in 0.01 units growing by about `rate` per scrape.
    CentiCounter { rate: u64 },
    /// Integer counter: grows by 0..`max` per scrape, and only `pct`% of the time.
    IntCounter { max: u64, pct: u64 },
    /// Gauge moving in steps of `step`, `pct`% of scrapes.
    StepGauge { step: u64, pct: u64 },
    /// Gauge with two decimals (load average style).
    Decimal2,
    /// Seconds with millisecond precision that advance with time.
    Clock,
}

pub struct NodeSeries {
    pub labels: Labels,
    kind: Kind,
    v: f64,
}

fn l(name: &str, inst: &str, extra: &[(&str, &str)]) -> Labels {
    let mut p: Vec<(&str, &str)> = vec![("__name__", name), ("instance", inst), ("job", "node")];
    p.extend_from_slice(extra);
    Labels::from_pairs(&p)
}

/// The series of one host.
pub fn host_series(inst: &str, rng: &mut Rng) -> Vec<NodeSeries> {
    let mut out = Vec::new();
    let mut push = |labels: Labels, kind: Kind, rng: &mut Rng| {
        let v = match kind {
            Kind::Constant => (rng.below(1 << 20) * 4096) as f64,
            Kind::CentiCounter { .. } => rng.below(10_000_000) as f64 / 100.0,
            Kind::IntCounter { .. } => rng.below(1 << 30) as f64,
            Kind::StepGauge { step, .. } => (rng.below(1 << 18) * step) as f64,
            Kind::Decimal2 => rng.below(400) as f64 / 100.0,
            Kind::Clock => 1.7e9,
        };
        out.push(NodeSeries { labels, kind, v });
    };
    for cpu in 0..4 {
        let c = cpu.to_string();
        for (mode, kind) in [
            ("idle", Kind::CentiCounter { rate: 1400 }),
            ("user", Kind::CentiCounter { rate: 60 }),
            ("system", Kind::CentiCounter { rate: 25 }),
            ("iowait", Kind::CentiCounter { rate: 1 }),
            ("irq", Kind::Constant),
            ("softirq", Kind::CentiCounter { rate: 1 }),
            ("steal", Kind::Constant),
            ("nice", Kind::Constant),
        ] {
            push(
                l(
                    "node_cpu_seconds_total",
                    inst,
                    &[("cpu", &c), ("mode", mode)],
                ),
                kind,
                rng,
            );
        }
    }
    for i in 0..45 {
        let name = format!("node_memory_m{i}_bytes");
        let kind = if i < 20 {
            Kind::Constant
        } else {
            Kind::StepGauge {
                step: 4096,
                pct: 40,
            }
        };
        push(l(&name, inst, &[]), kind, rng);
    }
    for (dev, busy) in [
        ("eth0", true),
        ("lo", true),
        ("docker0", false),
        ("eth1", false),
    ] {
        for i in 0..16 {
            let name = format!("node_network_c{i}_total");
            let kind = if !busy || i >= 8 {
                Kind::Constant
            } else if i % 2 == 0 {
                Kind::IntCounter {
                    max: 200_000,
                    pct: 95,
                }
            } else {
                Kind::IntCounter { max: 150, pct: 95 }
            };
            push(l(&name, inst, &[("device", dev)]), kind, rng);
        }
    }
    for (dev, busy) in [
        ("sda", true),
        ("sdb", false),
        ("dm-0", true),
        ("sr0", false),
    ] {
        for i in 0..17 {
            let name = format!("node_disk_c{i}_total");
            let kind = if busy {
                Kind::IntCounter { max: 64, pct: 50 }
            } else {
                Kind::Constant
            };
            push(l(&name, inst, &[("device", dev)]), kind, rng);
        }
    }
    for fs in ["/", "/boot", "/home", "/var", "/run"] {
        for (name, kind) in [
            ("node_filesystem_size_bytes", Kind::Constant),
            (
                "node_filesystem_avail_bytes",
                Kind::StepGauge {
                    step: 4096,
                    pct: 20,
                },
            ),
            (
                "node_filesystem_free_bytes",
                Kind::StepGauge {
                    step: 4096,
                    pct: 20,
                },
            ),
            ("node_filesystem_files", Kind::Constant),
            (
                "node_filesystem_files_free",
                Kind::StepGauge { step: 1, pct: 10 },
            ),
            ("node_filesystem_readonly", Kind::Constant),
            ("node_filesystem_device_error", Kind::Constant),
        ] {
            push(l(name, inst, &[("mountpoint", fs)]), kind, rng);
        }
    }
    for name in ["node_load1", "node_load5", "node_load15"] {
        push(l(name, inst, &[]), Kind::Decimal2, rng);
    }
    push(l("node_time_seconds", inst, &[]), Kind::Clock, rng);
    push(l("node_boot_time_seconds", inst, &[]), Kind::Constant, rng);
    for i in 0..40 {
        let name = format!("go_or_process_m{i}");
        let kind = match i % 4 {
            0 => Kind::StepGauge { step: 8, pct: 90 },
            1 => Kind::IntCounter { max: 50, pct: 90 },
            _ => Kind::Constant,
        };
        push(l(&name, inst, &[]), kind, rng);
    }
    out
}

impl NodeSeries {
    /// The value at the next scrape.
    pub fn step(&mut self, rng: &mut Rng, t_ms: i64) -> f64 {
        match self.kind {
            Kind::Constant => {}
            Kind::CentiCounter { rate } => {
                let inc = rate + rng.below(rate / 5 + 2);
                self.v = ((self.v * 100.0).round() + inc as f64) / 100.0;
            }
            Kind::IntCounter { max, pct } => {
                if rng.chance(pct) {
                    self.v += rng.below(max) as f64;
                }
            }
            Kind::StepGauge { step, pct } => {
                if rng.chance(pct) {
                    let d = (rng.below(64) * step) as f64;
                    if rng.chance(50) || self.v < d {
                        self.v += d;
                    } else {
                        self.v -= d;
                    }
                }
            }
            Kind::Decimal2 => {
                let d = rng.below(11) as f64 - 5.0;
                self.v = ((self.v * 100.0 + d).max(0.0)).round() / 100.0;
            }
            Kind::Clock => {
                self.v = (t_ms + rng.below(5) as i64) as f64 / 1000.0;
            }
        }
        self.v
    }
}
