//! Service discovery: where the target groups of a scrape job come from besides
//! `static_configs`.
//!
//! ```text
//! file_sd_configs: glob ──stat (mtime, size) each poll──► changed? ──read + parse──► groups (+ __meta_filepath)
//! http_sd_configs: every refresh_interval ──GET url──► 200 + JSON? ──► groups (+ __meta_url)
//!                                                        └─ failure: keep the last good list
//! ```
//!
//! Both providers are polled from the `stack` loop (no threads, no file watcher): a poll is
//! cheap when nothing is due, and returns the provider's full list of groups only when it
//! changed. The groups then go through the job's target relabelling like static ones.

use std::collections::hash_map::DefaultHasher;
use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use serde::Deserialize;

use super::config::{FileSdConfig, HttpSdConfig};

/// A set of targets sharing labels, from one source (a static config, one entry of a
/// target file, one entry of an HTTP SD answer).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetGroup {
    /// Where it came from (`<file>:<index>`, `<url>:<index>`, `static:<index>`).
    pub source: String,
    /// `host:port` addresses.
    pub targets: Vec<String>,
    /// Labels of every target in the group (including `__meta_*` ones).
    pub labels: BTreeMap<String, String>,
}

/// Why a discovery source could not be used (the provider keeps its last good groups).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SdError {
    /// A target file or directory could not be read.
    #[error("reading {path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A target file or HTTP answer is not a list of target groups.
    #[error("{source_name}:{line}:{column}: {message}")]
    Parse {
        /// The file or URL.
        source_name: String,
        /// 1-based line (0 when unknown).
        line: usize,
        /// 1-based column (0 when unknown).
        column: usize,
        /// What was wrong.
        message: String,
    },
    /// A group has an invalid label name.
    #[error("{source_name}: invalid label name {name:?} in target group {index}")]
    InvalidLabel {
        /// The file or URL.
        source_name: String,
        /// The group's index in the list.
        index: usize,
        /// The offending name.
        name: String,
    },
    /// The HTTP SD endpoint could not be fetched or answered something else than
    /// `200` with JSON.
    #[error("fetching {url}: {message}")]
    Http {
        /// The URL.
        url: String,
        /// What went wrong.
        message: String,
    },
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGroup {
    #[serde(default)]
    targets: Vec<String>,
    #[serde(default)]
    labels: BTreeMap<String, String>,
}

fn valid_label_name(n: &str) -> bool {
    let mut b = n.bytes();
    matches!(b.next(), Some(c) if c.is_ascii_alphabetic() || c == b'_')
        && b.all(|c| c.is_ascii_alphanumeric() || c == b'_')
}

/// Parses a list of target groups (`[{"targets": [...], "labels": {...}}]`) as JSON or
/// YAML, adds `meta` (`__meta_filepath` / `__meta_url`) to each group's labels and checks
/// label names.
pub fn parse_groups(
    source_name: &str,
    text: &[u8],
    json: bool,
    meta: (&str, &str),
) -> Result<Vec<TargetGroup>, SdError> {
    let raw: Vec<RawGroup> = if json {
        serde_json::from_slice(text).map_err(|e| SdError::Parse {
            source_name: source_name.to_string(),
            line: e.line(),
            column: e.column(),
            message: e.to_string(),
        })?
    } else {
        let text = std::str::from_utf8(text).map_err(|e| SdError::Parse {
            source_name: source_name.to_string(),
            line: 0,
            column: 0,
            message: format!("not UTF-8: {e}"),
        })?;
        if text.trim().is_empty() {
            Vec::new()
        } else {
            serde_yaml_ng::from_str(text).map_err(|e| {
                let (line, column) = e
                    .location()
                    .map(|l| (l.line(), l.column()))
                    .unwrap_or((0, 0));
                SdError::Parse {
                    source_name: source_name.to_string(),
                    line,
                    column,
                    message: e.to_string(),
                }
            })?
        }
    };
    let mut out = Vec::with_capacity(raw.len());
    for (index, g) in raw.into_iter().enumerate() {
        if let Some(name) = g.labels.keys().find(|n| !valid_label_name(n)) {
            return Err(SdError::InvalidLabel {
                source_name: source_name.to_string(),
                index,
                name: name.clone(),
            });
        }
        let mut labels = g.labels;
        labels.insert(meta.0.to_string(), meta.1.to_string());
        out.push(TargetGroup {
            source: format!("{source_name}:{index}"),
            targets: g.targets,
            labels,
        });
    }
    Ok(out)
}

/// Whether `name` matches `pattern`, where `*` matches any run of characters and `?` one
/// character (no `/` is ever involved: patterns apply to the last path element).
fn wildcard(pattern: &[u8], name: &[u8]) -> bool {
    match (pattern.first(), name.first()) {
        (None, None) => true,
        (Some(b'*'), _) => {
            wildcard(&pattern[1..], name) || (!name.is_empty() && wildcard(pattern, &name[1..]))
        }
        (Some(b'?'), Some(_)) => wildcard(&pattern[1..], &name[1..]),
        (Some(p), Some(n)) if p == n => wildcard(&pattern[1..], &name[1..]),
        _ => false,
    }
}

/// The files a pattern names now, sorted.
fn expand(pattern: &Path) -> Result<Vec<PathBuf>, SdError> {
    let name = pattern
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    if !name.contains(['*', '?']) {
        return Ok(if pattern.is_file() {
            vec![pattern.to_path_buf()]
        } else {
            Vec::new()
        });
    }
    let dir = pattern
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        // A directory that does not exist (yet) simply has no files.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => {
            return Err(SdError::Io {
                path: dir.to_path_buf(),
                source,
            })
        }
    };
    let mut out: Vec<PathBuf> = entries
        .filter_map(|e| e.ok())
        .filter(|e| wildcard(name.as_bytes(), e.file_name().to_string_lossy().as_bytes()))
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .collect();
    out.sort();
    Ok(out)
}

/// What a poll found.
#[derive(Debug, Default)]
pub struct SdUpdate {
    /// The provider's complete list of groups, when it changed since the last poll.
    pub groups: Option<Vec<TargetGroup>>,
    /// Problems met (the previous groups of a failing source are kept).
    pub errors: Vec<SdError>,
}

/// `file_sd_configs`: target files found by glob, re-read when a file appears,
/// disappears, or changes modification time or size, and in full every
/// `refresh_interval`; groups only count as changed when the parsed content differs.
#[derive(Debug)]
pub struct FileSd {
    cfg: FileSdConfig,
    next_full_ms: i64,
    stamps: BTreeMap<PathBuf, (Option<SystemTime>, u64)>,
    files: BTreeMap<PathBuf, (u64, Vec<TargetGroup>)>,
    first: bool,
}

impl FileSd {
    /// A provider whose first poll reads every file.
    pub fn new(cfg: FileSdConfig) -> FileSd {
        FileSd {
            cfg,
            next_full_ms: i64::MIN,
            stamps: BTreeMap::new(),
            files: BTreeMap::new(),
            first: true,
        }
    }

    /// Looks at the files at `now_ms` and re-reads them when something changed or the
    /// refresh interval is up. A file that fails to read or parse keeps its previous
    /// groups; a file that is gone loses them.
    pub fn poll(&mut self, now_ms: i64) -> SdUpdate {
        let mut up = SdUpdate::default();
        let mut stamps = BTreeMap::new();
        for p in &self.cfg.files {
            match expand(p) {
                Ok(found) => {
                    for f in found {
                        let st = std::fs::metadata(&f)
                            .map(|m| (m.modified().ok(), m.len()))
                            .unwrap_or((None, 0));
                        stamps.insert(f, st);
                    }
                }
                Err(e) => up.errors.push(e),
            }
        }
        if stamps == self.stamps && now_ms < self.next_full_ms && up.errors.is_empty() {
            return up;
        }
        self.next_full_ms = now_ms.saturating_add(self.cfg.refresh_interval_ms);
        let mut files = BTreeMap::new();
        for path in stamps.keys() {
            let name = path.display().to_string();
            let json = path
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("json"));
            let parsed = std::fs::read(path)
                .map_err(|source| SdError::Io {
                    path: path.clone(),
                    source,
                })
                .and_then(|bytes| {
                    let mut h = DefaultHasher::new();
                    bytes.hash(&mut h);
                    let groups = parse_groups(&name, &bytes, json, ("__meta_filepath", &name))?;
                    Ok((h.finish(), groups))
                });
            match parsed {
                Ok(v) => {
                    files.insert(path.clone(), v);
                }
                Err(e) => {
                    up.errors.push(e);
                    if let Some(prev) = self.files.get(path) {
                        files.insert(path.clone(), prev.clone());
                    }
                }
            }
        }
        self.stamps = stamps;
        let changed = files.len() != self.files.len()
            || files
                .iter()
                .zip(&self.files)
                .any(|((pa, (ha, _)), (pb, (hb, _)))| pa != pb || ha != hb);
        if changed || self.first {
            self.first = false;
            up.groups = Some(
                files
                    .values()
                    .flat_map(|(_, g)| g.iter().cloned())
                    .collect(),
            );
        }
        self.files = files;
        up
    }
}

/// `http_sd_configs`: GET the URL every `refresh_interval`; a `200` with a JSON list of
/// groups replaces the list, anything else keeps the last good one.
pub struct HttpSd {
    cfg: HttpSdConfig,
    agent: ureq::Agent,
    next_ms: i64,
    last: Option<Vec<TargetGroup>>,
}

impl std::fmt::Debug for HttpSd {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpSd")
            .field("cfg", &self.cfg)
            .field("next_ms", &self.next_ms)
            .field("last", &self.last)
            .finish()
    }
}

impl HttpSd {
    /// A provider whose first poll fetches at once.
    pub fn new(cfg: HttpSdConfig) -> HttpSd {
        let timeout = Duration::from_millis(cfg.refresh_interval_ms.clamp(100, 10_000) as u64);
        HttpSd {
            cfg,
            agent: ureq::AgentBuilder::new().timeout(timeout).build(),
            next_ms: i64::MIN,
            last: None,
        }
    }

    /// When the next fetch is due.
    pub fn next_ms(&self) -> i64 {
        self.next_ms
    }

    fn fetch(&self) -> Result<Vec<TargetGroup>, SdError> {
        let url = &self.cfg.url;
        let http = |message: String| SdError::Http {
            url: url.clone(),
            message,
        };
        let resp = self
            .agent
            .get(url)
            .set("Accept", "application/json")
            .set(
                "X-Prometheus-Refresh-Interval-Seconds",
                &format!("{}", self.cfg.refresh_interval_ms as f64 / 1000.0),
            )
            .call()
            .map_err(|e| match e {
                ureq::Error::Status(code, _) => http(format!("server returned HTTP status {code}")),
                // The transport error's text repeats the URL; keep its kind and message.
                ureq::Error::Transport(t) => {
                    let mut m = t.kind().to_string();
                    if let Some(x) = t.message() {
                        m.push_str(&format!(": {x}"));
                    }
                    if let Some(src) = std::error::Error::source(&t) {
                        m.push_str(&format!(": {src}"));
                    }
                    http(m)
                }
            })?;
        let ct = resp.header("Content-Type").unwrap_or("").to_string();
        if !ct.trim_start().starts_with("application/json") {
            return Err(http(format!("unsupported content type {ct:?}")));
        }
        let mut body = Vec::new();
        std::io::Read::read_to_end(&mut resp.into_reader().take(16 << 20), &mut body)
            .map_err(|e| http(e.to_string()))?;
        parse_groups(url, &body, true, ("__meta_url", url))
    }

    /// Fetches when due; returns the new list when it differs from the last good one.
    pub fn poll(&mut self, now_ms: i64) -> SdUpdate {
        let mut up = SdUpdate::default();
        if now_ms < self.next_ms {
            return up;
        }
        self.next_ms = now_ms.saturating_add(self.cfg.refresh_interval_ms);
        match self.fetch() {
            Ok(groups) => {
                if self.last.as_ref() != Some(&groups) {
                    up.groups = Some(groups.clone());
                    self.last = Some(groups);
                }
            }
            Err(e) => up.errors.push(e),
        }
        up
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_match_the_last_element() {
        assert!(wildcard(b"*.json", b"a.json"));
        assert!(wildcard(b"t-?.yml", b"t-1.yml"));
        assert!(!wildcard(b"t-?.yml", b"t-12.yml"));
        assert!(wildcard(b"*", b""));
        assert!(!wildcard(b"*.json", b"a.yaml"));
    }

    #[test]
    fn groups_parse_from_json_and_yaml_with_meta_labels() {
        let g = parse_groups(
            "f.json",
            br#"[{"targets":["a:1","b:2"],"labels":{"env":"prod"}},{"targets":["c:3"]}]"#,
            true,
            ("__meta_filepath", "f.json"),
        )
        .unwrap();
        assert_eq!(g.len(), 2);
        assert_eq!(g[0].targets, vec!["a:1", "b:2"]);
        assert_eq!(g[0].labels["env"], "prod");
        assert_eq!(g[1].labels["__meta_filepath"], "f.json");
        assert_eq!(g[1].source, "f.json:1");
        let y = parse_groups(
            "f.yml",
            b"- targets: ['x:1']\n  labels: {zone: eu}\n",
            false,
            ("__meta_filepath", "f.yml"),
        )
        .unwrap();
        assert_eq!(y[0].labels["zone"], "eu");
        assert!(parse_groups("e.yml", b"", false, ("m", "v"))
            .unwrap()
            .is_empty());
    }

    #[test]
    fn bad_files_say_where() {
        let e = parse_groups("f.json", b"[{\"targets\": [1]}]", true, ("m", "v")).unwrap_err();
        assert!(matches!(e, SdError::Parse { line: 1, .. }), "{e}");
        let e =
            parse_groups("f.yml", b"- targets: [a]\n  bogus: 1\n", false, ("m", "v")).unwrap_err();
        assert!(matches!(e, SdError::Parse { line: 2, .. }), "{e}");
        let e =
            parse_groups("f.json", br#"[{"labels":{"1x":"v"}}]"#, true, ("m", "v")).unwrap_err();
        assert!(matches!(e, SdError::InvalidLabel { index: 0, .. }), "{e}");
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..200)) {
            let _ = parse_groups("f.json", &bytes, true, ("m", "v"));
            let _ = parse_groups("f.yml", &bytes, false, ("m", "v"));
        }

        #[test]
        fn groups_round_trip_through_json_and_yaml(
            groups in proptest::collection::vec(
                (
                    proptest::collection::vec("[a-z0-9.:-]{1,12}", 0..4),
                    proptest::collection::btree_map("[a-zA-Z_][a-zA-Z0-9_]{0,8}", "\\PC{0,10}", 0..4),
                ),
                0..4,
            )
        ) {
            let raw: Vec<serde_json::Value> = groups
                .iter()
                .map(|(t, l)| serde_json::json!({"targets": t, "labels": l}))
                .collect();
            let json = serde_json::to_vec(&raw).unwrap();
            let yaml = serde_yaml_ng::to_string(&raw).unwrap();
            for (text, is_json) in [(json, true), (yaml.into_bytes(), false)] {
                let got = parse_groups("f", &text, is_json, ("__meta_x", "y")).unwrap();
                proptest::prop_assert_eq!(got.len(), groups.len());
                for (g, (t, l)) in got.iter().zip(&groups) {
                    proptest::prop_assert_eq!(&g.targets, t);
                    let mut want = l.clone();
                    want.insert("__meta_x".into(), "y".into());
                    proptest::prop_assert_eq!(&g.labels, &want);
                }
            }
        }
    }

    #[test]
    fn file_sd_sees_changes_and_keeps_last_good_content() {
        let dir = tempfile::tempdir().unwrap();
        let mut sd = FileSd::new(FileSdConfig {
            files: vec![dir.path().join("*.json")],
            refresh_interval_ms: 300_000,
        });
        // No files: an empty list, once.
        assert_eq!(sd.poll(0).groups, Some(vec![]));
        assert!(sd.poll(1).groups.is_none());
        let f = dir.path().join("a.json");
        std::fs::write(&f, r#"[{"targets":["h:1"]}]"#).unwrap();
        let g = sd.poll(2).groups.expect("a new file is seen");
        assert_eq!(g[0].targets, vec!["h:1"]);
        assert_eq!(g[0].labels["__meta_filepath"], f.display().to_string());
        assert!(sd.poll(3).groups.is_none());
        // Broken content: an error, and the old groups stay (no change reported).
        std::fs::write(&f, r#"[{"targets":["h:1"]"#).unwrap();
        let up = sd.poll(4);
        assert_eq!(up.errors.len(), 1);
        assert!(up.groups.is_none());
        std::fs::write(&f, r#"[{"targets":["h:1","h:2"]}]"#).unwrap();
        assert_eq!(sd.poll(5).groups.unwrap()[0].targets.len(), 2);
        std::fs::remove_file(&f).unwrap();
        assert_eq!(sd.poll(6).groups, Some(vec![]));
    }
}
