//! How does the store survive a restart? A JSON file (grouping key, push times and the
//! group's metrics as text 0.0.4) written atomically: temp file, fsync, rename, fsync of
//! the directory. Reading it back is strict: a corrupt file is an error, never an empty
//! store. Units and exemplars have no 0.0.4 form and are not kept. Native histograms
//! (pushed in protobuf) are kept as a hex-encoded delimited protobuf body per group.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::error::PersistError;
use super::store::{Group, Store};

const FORMAT: &str = "pushgateway-rs/1";

#[derive(Serialize, Deserialize)]
struct FileRepr {
    format: String,
    groups: Vec<GroupRepr>,
}

#[derive(Serialize, Deserialize)]
struct GroupRepr {
    labels: BTreeMap<String, String>,
    push_time_ms: i64,
    push_failure_time_ms: i64,
    #[serde(default)]
    family_times: BTreeMap<String, i64>,
    metrics: String,
    /// Native histograms as a hex-encoded delimited protobuf body (absent when none).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    natives: String,
}

fn natives_hex(g: &Group) -> String {
    if g.natives.is_empty() {
        return String::new();
    }
    let scrape = exposition::protobuf::Scrape {
        families: Vec::new(),
        histograms: g.natives.values().flatten().cloned().collect(),
    };
    let mut body = Vec::new();
    exposition::protobuf::encode_delimited(&exposition::protobuf::to_messages(&scrape), &mut body);
    body.iter().map(|b| format!("{b:02x}")).collect()
}

fn natives_from_hex(
    hex: &str,
) -> Result<BTreeMap<String, Vec<exposition::protobuf::NativeHistogramSample>>, String> {
    let mut out: BTreeMap<String, Vec<_>> = BTreeMap::new();
    if hex.is_empty() {
        return Ok(out);
    }
    let bytes = (0..hex.len())
        .step_by(2)
        .map(|i| {
            hex.get(i..i + 2)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| format!("natives: bad hex at {i}"))
        })
        .collect::<Result<Vec<u8>, String>>()?;
    let scrape = exposition::protobuf::decode(&bytes, &Default::default())
        .map_err(|e| format!("natives: {e}"))?;
    for h in scrape.histograms {
        out.entry(h.name.clone()).or_default().push(h);
    }
    Ok(out)
}

/// Serialises the store.
pub fn to_bytes(store: &Store) -> Vec<u8> {
    let groups = store
        .groups()
        .map(|g| {
            let fams: Vec<_> = g.families.values().cloned().collect();
            let mut metrics = String::new();
            exposition::text::encode(&fams, &mut metrics);
            GroupRepr {
                labels: g
                    .key
                    .iter()
                    .map(|l| (l.name.clone(), l.value.clone()))
                    .collect(),
                push_time_ms: g.push_time_ms,
                push_failure_time_ms: g.push_failure_time_ms,
                family_times: g.family_times.clone(),
                metrics,
                natives: natives_hex(g),
            }
        })
        .collect();
    let repr = FileRepr {
        format: FORMAT.to_string(),
        groups,
    };
    // Serialising plain strings and integers cannot fail.
    serde_json::to_vec_pretty(&repr).unwrap_or_default()
}

/// Reads a store back; `path` only names the source in errors.
pub fn from_bytes(path: &str, bytes: &[u8]) -> Result<Store, PersistError> {
    let repr: FileRepr = serde_json::from_slice(bytes).map_err(|e| PersistError::Json {
        path: path.to_string(),
        line: e.line(),
        column: e.column(),
        message: e.to_string(),
    })?;
    if repr.format != FORMAT {
        return Err(PersistError::Format {
            path: path.to_string(),
            found: repr.format,
        });
    }
    let mut store = Store::new();
    for (i, g) in repr.groups.into_iter().enumerate() {
        let bad = |message: String| PersistError::Group {
            path: path.to_string(),
            group: i,
            message,
        };
        let pairs: Vec<(String, String)> = g.labels.into_iter().collect();
        let key = exposition::Labels::try_from_pairs(&pairs).map_err(|e| bad(e.to_string()))?;
        if key.get("job").is_none() {
            return Err(bad("grouping key has no job".to_string()));
        }
        if store.group(&key).is_some() {
            return Err(bad(format!("grouping key {key} appears twice")));
        }
        let fams = exposition::text::parse_families(g.metrics.as_bytes())
            .map_err(|e| bad(format!("metrics: {e}")))?;
        let natives = natives_from_hex(&g.natives).map_err(bad)?;
        store.insert_group(Group {
            key,
            natives,
            families: fams.into_iter().map(|f| (f.name.clone(), f)).collect(),
            family_times: g.family_times,
            push_time_ms: g.push_time_ms,
            push_failure_time_ms: g.push_failure_time_ms,
        });
    }
    Ok(store)
}

/// Loads the file; a missing file is an empty store, anything unreadable is an error.
pub fn load(path: &Path) -> Result<Store, PersistError> {
    let name = path.display().to_string();
    match std::fs::read(path) {
        Ok(bytes) => from_bytes(&name, &bytes),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Store::new()),
        Err(source) => Err(PersistError::Io { path: name, source }),
    }
}

/// Writes the file atomically: a temporary file in the same directory, fsync, rename over
/// the old file, fsync of the directory.
pub fn save(path: &Path, store: &Store) -> Result<(), PersistError> {
    save_bytes(path, &to_bytes(store))
}

/// Writes already serialised bytes (from [`to_bytes`]) atomically, as [`save`] does; lets a
/// caller serialise under a lock and do the I/O outside it.
pub fn save_bytes(path: &Path, bytes: &[u8]) -> Result<(), PersistError> {
    let io = |source| PersistError::Io {
        path: path.display().to_string(),
        source,
    };
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(io)?;
    tmp.write_all(bytes).map_err(io)?;
    tmp.as_file().sync_all().map_err(io)?;
    tmp.persist(path).map_err(|e| io(e.error))?;
    // Make the rename itself durable; not every platform lets a directory be synced.
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pushgateway::store::{parse_body, PushMode};
    use exposition::Labels;

    fn sample_store() -> Store {
        let mut s = Store::new();
        let a = Labels::from_pairs(&[("job", "a"), ("instance", "x/y")]);
        let body = "# HELP h Latency.\n# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 3\nh_sum 4.5\nh_count 3\n# TYPE c_total counter\nc_total{path=\"q\\\"\"} 7\n";
        s.push(
            &a,
            parse_body(None, body.as_bytes()).unwrap(),
            PushMode::Replace,
            1_500,
        )
        .unwrap();
        let b = Labels::from_pairs(&[("job", "b")]);
        s.push(
            &b,
            parse_body(None, b"u 1\n").unwrap(),
            PushMode::Replace,
            2_000,
        )
        .unwrap();
        s.record_failure(&b, 3_000);
        s
    }

    #[test]
    fn round_trip() {
        let s = sample_store();
        let back = from_bytes("mem", &to_bytes(&s)).unwrap();
        let a: Vec<_> = s.groups().cloned().collect();
        let b: Vec<_> = back.groups().cloned().collect();
        assert_eq!(a, b);
    }

    #[test]
    fn save_and_load_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("pg.json");
        assert_eq!(load(&p).unwrap().groups().count(), 0);
        save(&p, &sample_store()).unwrap();
        save(&p, &sample_store()).unwrap();
        assert_eq!(load(&p).unwrap().groups().count(), 2);
        // Only the file itself remains: the temporary was renamed.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn corrupt_files_are_errors() {
        let good = String::from_utf8(to_bytes(&sample_store())).unwrap();
        let truncated = &good[..good.len() / 2];
        assert!(matches!(
            from_bytes("f", truncated.as_bytes()),
            Err(PersistError::Json { .. })
        ));
        assert!(matches!(
            from_bytes("f", b""),
            Err(PersistError::Json { .. })
        ));
        let other = good.replace(FORMAT, "something-else");
        assert!(matches!(
            from_bytes("f", other.as_bytes()),
            Err(PersistError::Format { .. })
        ));
        let bad_metrics = good.replace("} 4.5", "} four");
        assert_ne!(bad_metrics, good);
        let e = from_bytes("f", bad_metrics.as_bytes()).unwrap_err();
        assert!(matches!(e, PersistError::Group { group: 0, .. }), "{e}");
        let no_job = good.replace("\"job\": \"b\"", "\"jab\": \"b\"");
        assert!(matches!(
            from_bytes("f", no_job.as_bytes()),
            Err(PersistError::Group { group: 1, .. })
        ));
    }
}
