//! A scrape job's pool of targets: target groups from every provider of the job (static
//! configs, file SD, HTTP SD), turned into targets, each with its own scrape loop.
//!
//! ```text
//! static ─┐
//! file SD ┼─► groups per provider ──targets_of (relabel)──► targets ──sync──► scrape loops
//! HTTP SD ┘                                                           │
//!                                              gone targets: stop() ──┴─► staleness markers
//! ```
//!
//! A target is identified by its URL and final labels: when either changes, the old loop
//! stops (its series get staleness markers) and a new one starts.

use std::collections::HashMap;

use exposition::Labels;

use super::config::ScrapeConfig;
use super::discovery::{FileSd, HttpSd, SdError, SdUpdate, TargetGroup};
use super::scrape::{static_groups, targets_of, ScrapeLoop};

/// What a [`ScrapePool::discover`] call changed.
#[derive(Debug, Default)]
pub struct SyncReport {
    /// Targets started.
    pub added: usize,
    /// Targets stopped.
    pub removed: usize,
    /// Staleness markers of the stopped targets, to append.
    pub stale: Vec<(Labels, i64, f64)>,
    /// Discovery problems (the providers keep their last good groups).
    pub errors: Vec<SdError>,
}

/// One scrape job's providers and scrape loops.
#[derive(Debug)]
pub struct ScrapePool {
    /// The job.
    pub job: ScrapeConfig,
    files: Vec<FileSd>,
    https: Vec<HttpSd>,
    /// Groups per provider: static first, then file SD, then HTTP SD.
    groups: Vec<Vec<TargetGroup>>,
    /// One loop per target, in target order.
    pub loops: Vec<ScrapeLoop>,
}

impl ScrapePool {
    /// A pool with the job's static targets; discovered ones arrive with
    /// [`ScrapePool::discover`].
    pub fn new(job: ScrapeConfig, now_ms: i64) -> ScrapePool {
        let files: Vec<FileSd> = job
            .file_sd_configs
            .iter()
            .cloned()
            .map(FileSd::new)
            .collect();
        let https: Vec<HttpSd> = job
            .http_sd_configs
            .iter()
            .cloned()
            .map(HttpSd::new)
            .collect();
        let mut groups = vec![static_groups(&job)];
        groups.resize(1 + files.len() + https.len(), Vec::new());
        let mut pool = ScrapePool {
            job,
            files,
            https,
            groups,
            loops: Vec::new(),
        };
        pool.sync(now_ms);
        pool
    }

    /// Whether any provider discovers targets (file or HTTP SD).
    pub fn has_discovery(&self) -> bool {
        !self.files.is_empty() || !self.https.is_empty()
    }

    /// Polls the discovery providers and, when their groups changed, starts loops for
    /// new targets and stops loops of targets that are gone.
    pub fn discover(&mut self, now_ms: i64) -> SyncReport {
        let mut updates: Vec<(usize, SdUpdate)> = Vec::new();
        for (i, f) in self.files.iter_mut().enumerate() {
            updates.push((1 + i, f.poll(now_ms)));
        }
        let off = 1 + self.files.len();
        for (i, h) in self.https.iter_mut().enumerate() {
            updates.push((off + i, h.poll(now_ms)));
        }
        let mut changed = false;
        let mut errors = Vec::new();
        for (slot, up) in updates {
            errors.extend(up.errors);
            if let Some(g) = up.groups {
                if self.groups[slot] != g {
                    self.groups[slot] = g;
                    changed = true;
                }
            }
        }
        let mut report = if changed {
            self.sync(now_ms)
        } else {
            SyncReport::default()
        };
        report.errors = errors;
        report
    }

    /// Reconciles the loops with the current groups.
    fn sync(&mut self, now_ms: i64) -> SyncReport {
        let all: Vec<TargetGroup> = self.groups.iter().flatten().cloned().collect();
        let mut wanted = targets_of(&self.job, &all);
        // The same target from two groups is scraped once.
        let mut seen = std::collections::HashSet::new();
        wanted.retain(|t| seen.insert((t.url.clone(), t.labels.clone())));
        let mut old: HashMap<(String, Labels), ScrapeLoop> = self
            .loops
            .drain(..)
            .map(|l| ((l.target.url.clone(), l.target.labels.clone()), l))
            .collect();
        let mut report = SyncReport::default();
        for t in wanted {
            match old.remove(&(t.url.clone(), t.labels.clone())) {
                Some(mut lp) => {
                    lp.target.discovered = t.discovered;
                    self.loops.push(lp);
                }
                None => {
                    report.added += 1;
                    self.loops.push(ScrapeLoop::new(t, now_ms));
                }
            }
        }
        // Over target_limit, every target of the job fails without being scraped (its
        // series go stale), as in Prometheus.
        let limit = self.job.limits.target_limit;
        let n = self.loops.len();
        let forced = (limit > 0 && n as u64 > limit).then_some((n, limit));
        for lp in &mut self.loops {
            lp.forced_error = forced;
        }
        let mut gone: Vec<ScrapeLoop> = old.into_values().collect();
        gone.sort_by(|a, b| a.target.url.cmp(&b.target.url));
        for mut lp in gone {
            report.removed += 1;
            report.stale.extend(lp.stop(now_ms));
        }
        report
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stack::config::Config;

    #[test]
    fn file_targets_come_and_go() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = Config::load(
            "scrape_configs:\n- job_name: sd\n  static_configs: [{targets: ['s:1']}]\n  file_sd_configs:\n  - files: ['*.json']\n  relabel_configs:\n  - regex: '__meta_filepath'\n    action: labeldrop\n",
            dir.path(),
        )
        .unwrap();
        let mut pool = ScrapePool::new(cfg.scrape_configs[0].clone(), 0);
        assert_eq!(pool.loops.len(), 1);
        let f = dir.path().join("t.json");
        std::fs::write(&f, r#"[{"targets":["a:1","b:2"],"labels":{"team":"x"}}]"#).unwrap();
        let r = pool.discover(10);
        assert_eq!((r.added, r.removed), (2, 0));
        assert_eq!(pool.loops.len(), 3);
        let a = pool
            .loops
            .iter()
            .find(|l| l.target.url == "http://a:1/metrics")
            .unwrap();
        assert_eq!(a.target.labels.get("team"), Some("x"));
        assert_eq!(a.target.labels.get("job"), Some("sd"));
        assert_eq!(
            a.target.discovered.get("__meta_filepath"),
            Some(f.display().to_string().as_str())
        );
        // Unchanged file: nothing happens.
        let r = pool.discover(20);
        assert_eq!((r.added, r.removed), (0, 0));
        // b goes away; a's labels change (a new target).
        std::fs::write(&f, r#"[{"targets":["a:1"],"labels":{"team":"y"}}]"#).unwrap();
        let r = pool.discover(30);
        assert_eq!((r.added, r.removed), (1, 2));
        // Never scraped: no staleness markers to write.
        assert!(r.stale.is_empty());
        assert_eq!(pool.loops.len(), 2);
    }

    #[test]
    fn a_broken_file_keeps_its_targets() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = Config::load(
            "scrape_configs:\n- job_name: sd\n  file_sd_configs:\n  - files: ['t.yml']\n",
            dir.path(),
        )
        .unwrap();
        let f = dir.path().join("t.yml");
        std::fs::write(&f, "- targets: ['a:1']\n").unwrap();
        let mut pool = ScrapePool::new(cfg.scrape_configs[0].clone(), 0);
        assert!(pool.loops.is_empty());
        assert_eq!(pool.discover(1).added, 1);
        std::fs::write(&f, "- targets: [a:1\n").unwrap();
        let r = pool.discover(2);
        assert_eq!(r.errors.len(), 1, "{:?}", r.errors);
        assert_eq!(pool.loops.len(), 1);
    }
}
