//! What does the Pushgateway hold? Groups of metric families keyed by grouping labels, the
//! PUT/POST/DELETE merge rules and the consistency checks that keep the whole store
//! scrapeable as one exposition.

use std::collections::{BTreeMap, HashMap, HashSet};

use exposition::protobuf::{NativeHistogram, NativeHistogramSample};
use exposition::{family::FamilySample, family::MetricFamily, Format, Labels, MetricType, Parser};

use super::error::PushError;

/// The gauge holding the time of each group's last successful push.
pub const PUSH_TIME: &str = "push_time_seconds";
/// The gauge holding the time of each group's last failed push.
pub const PUSH_FAILURE_TIME: &str = "push_failure_time_seconds";
const PUSH_TIME_HELP: &str = "Unix time of the last successful change to this group.";
const PUSH_FAILURE_TIME_HELP: &str = "Unix time of the last refused change to this group.";

/// How a push combines with what a group holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PushMode {
    /// `PUT`: the push becomes the whole group.
    Replace,
    /// `POST`: the pushed families replace same-named ones; the others stay.
    Merge,
}

/// One group: everything pushed under one grouping key.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Group {
    /// The grouping key (always has `job`).
    pub key: Labels,
    /// Families by name, in text 0.0.4 form; every sample carries the grouping labels.
    pub families: BTreeMap<String, MetricFamily>,
    /// When each family was last pushed, in milliseconds.
    pub family_times: BTreeMap<String, i64>,
    /// Native histograms pushed in protobuf, by family name (grouping labels applied).
    /// Their family in `families` holds the classic view of the same series.
    pub natives: BTreeMap<String, Vec<NativeHistogramSample>>,
    /// Last successful push in milliseconds (0: never).
    pub push_time_ms: i64,
    /// Last refused push in milliseconds (0: never).
    pub push_failure_time_ms: i64,
}

impl Group {
    /// An empty group.
    pub fn new(key: Labels) -> Group {
        Group {
            key,
            ..Group::default()
        }
    }

    /// Whether the last push to this group succeeded.
    pub fn last_push_successful(&self) -> bool {
        self.push_failure_time_ms <= self.push_time_ms
    }
}

/// All groups, with the merge rules and consistency checks.
#[derive(Debug, Clone, Default)]
pub struct Store {
    groups: BTreeMap<Labels, Group>,
}

/// Parses a push body by its `Content-Type` into families in text 0.0.4 form. A missing or
/// unknown type is read as text 0.0.4 (as the real Pushgateway does). Delimited protobuf
/// (`exposition::protobuf::CONTENT_TYPE`) is read with classic buckets kept; a native
/// histogram is held through its classic buckets (its native part is not stored), and one
/// without classic buckets is refused. Other protobuf encodings are refused.
///
/// ```
/// use examples::pushgateway::store::parse_body;
/// let fams = parse_body(Some("application/openmetrics-text"), b"# TYPE jobs counter\njobs_total 3\n# EOF\n").unwrap();
/// assert_eq!(fams[0].name, "jobs_total");
/// ```
pub fn parse_body(content_type: Option<&str>, body: &[u8]) -> Result<Vec<MetricFamily>, PushError> {
    parse_push(content_type, body).map(|(families, _)| families)
}

/// [`parse_body`], plus the native histograms of a protobuf push (empty for text).
pub fn parse_push(
    content_type: Option<&str>,
    body: &[u8],
) -> Result<(Vec<MetricFamily>, Vec<NativeHistogramSample>), PushError> {
    let format = match content_type {
        Some(ct) if exposition::content_type::is_protobuf(ct) => return parse_protobuf(body),
        Some(ct) if ct.to_ascii_lowercase().contains("protobuf") => {
            return Err(PushError::UnsupportedMediaType(ct.to_string()))
        }
        Some(ct) => Format::from_content_type(ct).unwrap_or(Format::Text),
        None => Format::Text,
    };
    let fams = exposition::family::group(format, Parser::new(format, body))?;
    if format == Format::Text {
        return Ok((fams, Vec::new()));
    }
    let fams = fams
        .into_iter()
        .map(from_openmetrics)
        .collect::<Result<_, _>>()?;
    Ok((fams, Vec::new()))
}

/// Reads a delimited protobuf push: text 0.0.4 families (classic buckets kept) and the
/// native histograms. A native histogram without classic buckets gets the classic series
/// client libraries expose for it in text (`_bucket{le="+Inf"}`, `_sum`, `_count`), so the
/// text view and the consistency checks cover it too.
///
/// ```
/// use examples::pushgateway::store::parse_body;
/// use exposition::protobuf::{self, proto};
/// let fam = proto::MetricFamily {
///     name: "jobs_total".into(),
///     r#type: proto::MetricType::Counter as i32,
///     metric: vec![proto::Metric { counter: Some(proto::Counter { value: 3.0, ..Default::default() }), ..Default::default() }],
///     ..Default::default()
/// };
/// let mut body = Vec::new();
/// protobuf::encode_delimited(&[fam], &mut body);
/// let fams = parse_body(Some(protobuf::CONTENT_TYPE), &body).unwrap();
/// assert_eq!((fams[0].name.as_str(), fams[0].samples[0].value), ("jobs_total", 3.0));
/// ```
fn parse_protobuf(
    body: &[u8],
) -> Result<(Vec<MetricFamily>, Vec<NativeHistogramSample>), PushError> {
    let opts = exposition::protobuf::DecodeOptions {
        keep_classic_histograms: true,
        ..Default::default()
    };
    let scrape = exposition::protobuf::decode(body, &opts)?;
    let mut fams = scrape.families;
    for h in &scrape.histograms {
        let count = format!("{}_count", h.name);
        let Some(f) = fams.get_mut(h.family) else {
            continue;
        };
        if f.samples
            .iter()
            .any(|s| s.name == count && s.labels == h.labels)
        {
            continue;
        }
        let (n, sum) = match &h.histogram {
            NativeHistogram::Int(x) => (x.count as f64, x.sum),
            NativeHistogram::Float(x) => (x.count, x.sum),
        };
        let mut inf = h.labels.builder();
        inf.set("le", "+Inf");
        for (suffix, labels, value) in [
            ("_bucket", inf.build(), n),
            ("_sum", h.labels.clone(), sum),
            ("_count", h.labels.clone(), n),
        ] {
            f.samples.push(FamilySample {
                name: format!("{}{suffix}", h.name),
                labels,
                value,
                timestamp: h.timestamp,
                exemplar: None,
            });
        }
    }
    for f in &mut fams {
        if f.ty == MetricType::GaugeHistogram {
            return Err(PushError::UnsupportedType {
                family: std::mem::take(&mut f.name),
                ty: MetricType::GaugeHistogram.as_openmetrics(),
            });
        }
        // Text 0.0.4 has no units; keep the store's families in that form.
        f.unit = None;
    }
    Ok((fams, scrape.histograms))
}

/// Brings an OpenMetrics family to the text 0.0.4 form the store holds: a counter `x`
/// becomes `x_total`, `_created` samples are dropped (0.0.4 has no such series), an info
/// `x` becomes the gauge `x_info`, a stateset becomes a gauge.
fn from_openmetrics(mut f: MetricFamily) -> Result<MetricFamily, PushError> {
    match f.ty {
        MetricType::Counter => {
            f.samples.retain(|s| !s.name.ends_with("_created"));
            f.name.push_str("_total");
        }
        MetricType::Histogram | MetricType::Summary => {
            f.samples.retain(|s| !s.name.ends_with("_created"));
        }
        MetricType::Info => {
            f.name.push_str("_info");
            f.ty = MetricType::Gauge;
        }
        MetricType::StateSet => f.ty = MetricType::Gauge,
        MetricType::GaugeHistogram => {
            return Err(PushError::UnsupportedType {
                family: f.name,
                ty: MetricType::GaugeHistogram.as_openmetrics(),
            })
        }
        _ => {}
    }
    Ok(f)
}

impl Store {
    /// An empty store.
    pub fn new() -> Store {
        Store::default()
    }

    /// The groups, ordered by grouping key.
    pub fn groups(&self) -> impl Iterator<Item = &Group> {
        self.groups.values()
    }

    /// The group of `key`, if any.
    pub fn group(&self, key: &Labels) -> Option<&Group> {
        self.groups.get(key)
    }

    /// Puts a group in place as it is (used when loading the persistence file).
    pub fn insert_group(&mut self, group: Group) {
        self.groups.insert(group.key.clone(), group);
    }

    /// Applies a push. On success the group's `push_time_seconds` becomes `now_ms`; on any
    /// error nothing of the push is stored and the group's `push_failure_time_seconds`
    /// becomes `now_ms` (the group is created for that if it did not exist).
    ///
    /// ```
    /// use examples::pushgateway::store::{parse_body, PushMode, Store};
    /// use exposition::Labels;
    /// let mut s = Store::new();
    /// let key = Labels::from_pairs(&[("job", "batch")]);
    /// s.push(&key, parse_body(None, b"done 1\n").unwrap(), PushMode::Replace, 5_000).unwrap();
    /// // Another group may not hold `done` with another type.
    /// let other = Labels::from_pairs(&[("job", "other")]);
    /// let bad = parse_body(None, b"# TYPE done counter\ndone 2\n").unwrap();
    /// assert!(s.push(&other, bad, PushMode::Merge, 6_000).is_err());
    /// assert_eq!(s.group(&other).unwrap().push_failure_time_ms, 6_000);
    /// assert!(s.group(&other).unwrap().families.is_empty());
    /// ```
    pub fn push(
        &mut self,
        key: &Labels,
        families: Vec<MetricFamily>,
        mode: PushMode,
        now_ms: i64,
    ) -> Result<(), PushError> {
        self.push_with_natives(key, families, Vec::new(), mode, now_ms)
    }

    /// [`Store::push`] with the native histograms of a protobuf push (see
    /// [`parse_push`]): each replaces the natives held for its family, as its family does.
    pub fn push_with_natives(
        &mut self,
        key: &Labels,
        families: Vec<MetricFamily>,
        natives: Vec<NativeHistogramSample>,
        mode: PushMode,
        now_ms: i64,
    ) -> Result<(), PushError> {
        match self.candidate(key, families, natives, mode, now_ms) {
            Ok(group) => {
                self.groups.insert(key.clone(), group);
                Ok(())
            }
            Err(e) => {
                self.groups
                    .entry(key.clone())
                    .or_insert_with(|| Group::new(key.clone()))
                    .push_failure_time_ms = now_ms;
                Err(e)
            }
        }
    }

    /// Records a push that failed before its body could be used (unparsable body).
    pub fn record_failure(&mut self, key: &Labels, now_ms: i64) {
        self.groups
            .entry(key.clone())
            .or_insert_with(|| Group::new(key.clone()))
            .push_failure_time_ms = now_ms;
    }

    /// Deletes a group; whether it existed.
    pub fn delete(&mut self, key: &Labels) -> bool {
        self.groups.remove(key).is_some()
    }

    /// Deletes every group.
    pub fn wipe(&mut self) {
        self.groups.clear();
    }

    /// The group as it would be after the push, checked against the rest of the store.
    fn candidate(
        &self,
        key: &Labels,
        families: Vec<MetricFamily>,
        natives: Vec<NativeHistogramSample>,
        mode: PushMode,
        now_ms: i64,
    ) -> Result<Group, PushError> {
        let mut group = match (mode, self.groups.get(key)) {
            (PushMode::Merge, Some(g)) => g.clone(),
            (PushMode::Replace, Some(g)) => Group {
                push_failure_time_ms: g.push_failure_time_ms,
                ..Group::new(key.clone())
            },
            (_, None) => Group::new(key.clone()),
        };
        if mode == PushMode::Replace {
            group.families.clear();
            group.family_times.clear();
            group.natives.clear();
        }
        for f in &families {
            group.natives.remove(&f.name);
        }
        for mut h in natives {
            if h.timestamp.is_some() {
                return Err(PushError::Timestamp { sample: h.name });
            }
            let mut b = h.labels.builder();
            for l in key.iter() {
                b.set(&l.name, &l.value);
            }
            h.labels = b.build();
            group.natives.entry(h.name.clone()).or_default().push(h);
        }
        for mut f in families {
            if f.name == PUSH_TIME || f.name == PUSH_FAILURE_TIME {
                return Err(PushError::Reserved(f.name));
            }
            let structural = match f.ty {
                MetricType::Histogram => Some("le"),
                MetricType::Summary => Some("quantile"),
                _ => None,
            };
            if let Some(label) = structural.filter(|l| key.contains(l)) {
                return Err(PushError::StructuralGroupingLabel {
                    family: f.name,
                    label,
                });
            }
            for s in &mut f.samples {
                if s.timestamp.is_some() {
                    return Err(PushError::Timestamp {
                        sample: s.name.clone(),
                    });
                }
                // Grouping labels override pushed ones.
                if key
                    .iter()
                    .any(|l| s.labels.get(&l.name) != Some(l.value.as_str()))
                {
                    let mut b = s.labels.builder();
                    for l in key.iter() {
                        b.set(&l.name, &l.value);
                    }
                    s.labels = b.build();
                }
            }
            group.family_times.insert(f.name.clone(), now_ms);
            group.families.insert(f.name.clone(), f);
        }
        group.push_time_ms = now_ms;
        self.check(&group)?;
        Ok(group)
    }

    /// The consistency checks: within the group no series twice; against every other
    /// group, same-named families agree on type and help and share no series.
    fn check(&self, group: &Group) -> Result<(), PushError> {
        let key_text = group.key.to_string();
        for f in group.families.values() {
            let mut seen: HashSet<(&str, &Labels)> = HashSet::with_capacity(f.samples.len());
            for s in &f.samples {
                if !seen.insert((s.name.as_str(), &s.labels)) {
                    return Err(PushError::DuplicateSeries {
                        series: series_text(&s.name, &s.labels),
                        group: key_text,
                    });
                }
            }
            for other in self.groups.values().filter(|g| g.key != group.key) {
                let Some(held) = other.families.get(&f.name) else {
                    continue;
                };
                if held.ty.as_text() != f.ty.as_text() {
                    return Err(PushError::TypeConflict {
                        family: f.name.clone(),
                        pushed: f.ty.as_text(),
                        held: held.ty.as_text(),
                        group: other.key.to_string(),
                    });
                }
                let (ph, hh) = (
                    f.help.as_deref().unwrap_or(""),
                    held.help.as_deref().unwrap_or(""),
                );
                if ph != hh {
                    return Err(PushError::HelpConflict {
                        family: f.name.clone(),
                        pushed: ph.to_string(),
                        held: hh.to_string(),
                        group: other.key.to_string(),
                    });
                }
                // Every sample carries its group's key, so two groups whose keys give one
                // label different values cannot share a series: skip the sample scan.
                if keys_disjoint(&group.key, &other.key) {
                    continue;
                }
                if let Some(s) = held
                    .samples
                    .iter()
                    .find(|s| seen.contains(&(s.name.as_str(), &s.labels)))
                {
                    return Err(PushError::DuplicateSeries {
                        series: series_text(&s.name, &s.labels),
                        group: other.key.to_string(),
                    });
                }
            }
        }
        Ok(())
    }

    /// The native histograms held, for the families of [`Store::gather`] (each sample's
    /// `family` index points into that list).
    pub fn gather_natives(&self, families: &[MetricFamily]) -> Vec<NativeHistogramSample> {
        let index: HashMap<&str, usize> = families
            .iter()
            .enumerate()
            .map(|(i, f)| (f.name.as_str(), i))
            .collect();
        let mut out = Vec::new();
        for g in self.groups.values() {
            for (name, hs) in &g.natives {
                let Some(&i) = index.get(name.as_str()) else {
                    continue;
                };
                out.extend(hs.iter().cloned().map(|mut h| {
                    h.family = i;
                    h
                }));
            }
        }
        out.sort_by_key(|h| h.family);
        out
    }

    /// Everything held, as one exposition: families sorted by name, each with the samples
    /// of every group (in grouping-key order), plus `push_time_seconds` and
    /// `push_failure_time_seconds` for each group.
    pub fn gather(&self) -> Vec<MetricFamily> {
        let mut by_name: BTreeMap<&str, MetricFamily> = BTreeMap::new();
        let mut push = MetricFamily::new(PUSH_TIME, MetricType::Gauge);
        push.help = Some(PUSH_TIME_HELP.to_string());
        let mut fail = MetricFamily::new(PUSH_FAILURE_TIME, MetricType::Gauge);
        fail.help = Some(PUSH_FAILURE_TIME_HELP.to_string());
        for g in self.groups.values() {
            for (name, f) in &g.families {
                let out = by_name
                    .entry(name.as_str())
                    .or_insert_with(|| MetricFamily {
                        samples: Vec::new(),
                        ..f.clone()
                    });
                out.samples.extend(f.samples.iter().cloned());
            }
            push.samples
                .push(gauge_sample(PUSH_TIME, &g.key, g.push_time_ms));
            fail.samples.push(gauge_sample(
                PUSH_FAILURE_TIME,
                &g.key,
                g.push_failure_time_ms,
            ));
        }
        let mut out: Vec<MetricFamily> = by_name.into_values().collect();
        if !push.samples.is_empty() {
            out.push(push);
            out.push(fail);
            out.sort_by(|a, b| a.name.cmp(&b.name));
        }
        out
    }
}

/// Synthetic families of one group, for the JSON API.
pub(crate) fn time_family(name: &str, key: &Labels, ms: i64) -> MetricFamily {
    let mut f = MetricFamily::new(name, MetricType::Gauge);
    f.help = Some(
        if name == PUSH_TIME {
            PUSH_TIME_HELP
        } else {
            PUSH_FAILURE_TIME_HELP
        }
        .to_string(),
    );
    f.samples.push(gauge_sample(name, key, ms));
    f
}

fn gauge_sample(name: &str, key: &Labels, ms: i64) -> exposition::FamilySample {
    exposition::FamilySample {
        name: name.to_string(),
        labels: key.clone(),
        value: ms as f64 / 1000.0,
        timestamp: None,
        exemplar: None,
    }
}

/// Whether some label name is in both keys with different values.
fn keys_disjoint(a: &Labels, b: &Labels) -> bool {
    a.iter()
        .any(|l| b.get(&l.name).is_some_and(|v| v != l.value))
}

fn series_text(name: &str, labels: &Labels) -> String {
    let mut b = labels.builder();
    b.set(exposition::METRIC_NAME, name);
    b.build().to_string()
}

/// Groups families' samples by family name (helper for tests and callers that want a
/// lookup rather than a list).
pub fn by_name(fams: &[MetricFamily]) -> HashMap<&str, &MetricFamily> {
    fams.iter().map(|f| (f.name.as_str(), f)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(job: &str) -> Labels {
        Labels::from_pairs(&[("job", job)])
    }

    fn text(s: &str) -> Vec<MetricFamily> {
        parse_body(None, s.as_bytes()).unwrap()
    }

    fn exposition(store: &Store) -> String {
        let mut out = String::new();
        exposition::text::encode(&store.gather(), &mut out);
        out
    }

    #[test]
    fn put_replaces_post_merges() {
        let mut s = Store::new();
        let k = key("j");
        s.push(&k, text("a 1\nb 2\n"), PushMode::Replace, 1_000)
            .unwrap();
        s.push(&k, text("b 3\nc 4\n"), PushMode::Merge, 2_000)
            .unwrap();
        let g = s.group(&k).unwrap();
        assert_eq!(g.families.keys().collect::<Vec<_>>(), ["a", "b", "c"]);
        assert_eq!(g.families["b"].samples[0].value, 3.0);
        assert_eq!(g.family_times["a"], 1_000);
        assert_eq!(g.family_times["b"], 2_000);
        s.push(&k, text("d 5\n"), PushMode::Replace, 3_000).unwrap();
        let g = s.group(&k).unwrap();
        assert_eq!(g.families.keys().collect::<Vec<_>>(), ["d"]);
        assert_eq!(g.push_time_ms, 3_000);
        assert!(g.last_push_successful());
    }

    #[test]
    fn merge_replaces_whole_family_not_series() {
        let mut s = Store::new();
        let k = key("j");
        s.push(
            &k,
            text("m{x=\"1\"} 1\nm{x=\"2\"} 2\n"),
            PushMode::Replace,
            1,
        )
        .unwrap();
        s.push(&k, text("m{x=\"3\"} 3\n"), PushMode::Merge, 2)
            .unwrap();
        let f = &s.group(&k).unwrap().families["m"];
        assert_eq!(f.samples.len(), 1);
        assert_eq!(f.samples[0].labels.get("x"), Some("3"));
    }

    #[test]
    fn grouping_labels_override_pushed() {
        let mut s = Store::new();
        let k = Labels::from_pairs(&[("job", "j"), ("instance", "i1")]);
        s.push(
            &k,
            text("m{job=\"other\",instance=\"x\",a=\"b\"} 1\n"),
            PushMode::Replace,
            1,
        )
        .unwrap();
        let f = &s.group(&k).unwrap().families["m"];
        assert_eq!(
            f.samples[0].labels,
            Labels::from_pairs(&[("job", "j"), ("instance", "i1"), ("a", "b")])
        );
    }

    #[test]
    fn exposition_has_push_times() {
        let mut s = Store::new();
        s.push(
            &key("b"),
            text("# HELP m Help.\n# TYPE m gauge\nm 2\n"),
            PushMode::Replace,
            2_500,
        )
        .unwrap();
        s.push(
            &key("a"),
            text("# HELP m Help.\n# TYPE m gauge\nm 1\n"),
            PushMode::Replace,
            1_000,
        )
        .unwrap();
        let out = exposition(&s);
        assert!(out.contains("m{job=\"a\"} 1\nm{job=\"b\"} 2\n"), "{out}");
        assert!(out.contains("push_time_seconds{job=\"a\"} 1\n"), "{out}");
        assert!(out.contains("push_time_seconds{job=\"b\"} 2.5\n"), "{out}");
        assert!(
            out.contains("push_failure_time_seconds{job=\"a\"} 0\n"),
            "{out}"
        );
        // Families sorted by name.
        let m = out.find("# TYPE m gauge").unwrap();
        let f = out.find("# TYPE push_failure_time_seconds gauge").unwrap();
        let p = out.find("# TYPE push_time_seconds gauge").unwrap();
        assert!(m < f && f < p, "{out}");
    }

    #[test]
    fn conflicts_store_nothing() {
        let mut s = Store::new();
        s.push(
            &key("a"),
            text("# HELP m One.\n# TYPE m gauge\nm 1\n"),
            PushMode::Replace,
            1,
        )
        .unwrap();
        let before = exposition(&s);
        let e = s
            .push(
                &key("b"),
                text("# TYPE m counter\nm 1\nok 1\n"),
                PushMode::Replace,
                2,
            )
            .unwrap_err();
        assert!(matches!(e, PushError::TypeConflict { .. }), "{e}");
        let e = s
            .push(
                &key("b"),
                text("# HELP m Two.\n# TYPE m gauge\nm 1\n"),
                PushMode::Replace,
                3,
            )
            .unwrap_err();
        assert!(matches!(e, PushError::HelpConflict { .. }), "{e}");
        assert!(e.to_string().contains("Two."), "{e}");
        // Nothing of b but its failure time.
        let g = s.group(&key("b")).unwrap();
        assert!(g.families.is_empty());
        assert_eq!((g.push_time_ms, g.push_failure_time_ms), (0, 3));
        assert!(!g.last_push_successful());
        assert!(exposition(&s).starts_with(&before[..before.find("# HELP push").unwrap()]));
        // Same family, same type and help: fine.
        s.push(
            &key("b"),
            text("# HELP m One.\n# TYPE m gauge\nm 2\n"),
            PushMode::Replace,
            4,
        )
        .unwrap();
        assert!(s.group(&key("b")).unwrap().last_push_successful());
    }

    #[test]
    fn duplicate_series() {
        let mut s = Store::new();
        let e = s
            .push(
                &key("a"),
                text("m{x=\"1\"} 1\nm{x=\"1\"} 2\n"),
                PushMode::Replace,
                1,
            )
            .unwrap_err();
        assert!(matches!(e, PushError::DuplicateSeries { .. }), "{e}");
        // Across groups: {job=a} pushing instance=i collides with group {job=a,instance=i}.
        let ai = Labels::from_pairs(&[("job", "a"), ("instance", "i")]);
        s.push(&ai, text("m 1\n"), PushMode::Replace, 2).unwrap();
        let e = s
            .push(
                &key("a"),
                text("m{instance=\"i\"} 1\n"),
                PushMode::Replace,
                3,
            )
            .unwrap_err();
        assert!(
            e.to_string().contains(r#"m{instance="i", job="a"}"#)
                || e.to_string().contains("instance=\"i\""),
            "{e}"
        );
    }

    #[test]
    fn timestamps_and_reserved_names_refused() {
        let mut s = Store::new();
        assert!(matches!(
            s.push(&key("a"), text("m 1 1000\n"), PushMode::Replace, 1),
            Err(PushError::Timestamp { .. })
        ));
        assert!(matches!(
            s.push(
                &key("a"),
                text("push_time_seconds 1\n"),
                PushMode::Replace,
                1
            ),
            Err(PushError::Reserved(_))
        ));
        // A grouping label may not overwrite the bucket bound of a histogram.
        let le = Labels::from_pairs(&[("job", "a"), ("le", "0.5")]);
        let h = "# TYPE h histogram\nh_bucket{le=\"+Inf\"} 1\nh_count 1\nh_sum 0\n";
        assert!(matches!(
            s.push(&le, text(h), PushMode::Replace, 1),
            Err(PushError::StructuralGroupingLabel { label: "le", .. })
        ));
        s.push(&le, text("g 1\n"), PushMode::Replace, 1).unwrap();
    }

    #[test]
    fn openmetrics_bodies() {
        let fams = parse_body(
            Some("application/openmetrics-text; version=1.0.0"),
            b"# TYPE c counter\nc_total 1\nc_created 5\n# TYPE i info\ni_info{v=\"1\"} 1\n# EOF\n",
        )
        .unwrap();
        let m = by_name(&fams);
        assert_eq!(m["c_total"].samples.len(), 1);
        assert_eq!(m["i_info"].ty, MetricType::Gauge);
        assert!(matches!(
            parse_body(Some("application/openmetrics-text"), b"a 1\n"),
            Err(PushError::Parse(_))
        ));
        assert!(matches!(
            parse_body(Some("application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=text"), b""),
            Err(PushError::UnsupportedMediaType(_))
        ));
        // Delimited protobuf is read (tests in `protobuf_tests`); an empty body is no family.
        assert_eq!(
            parse_body(Some(exposition::protobuf::CONTENT_TYPE), b""),
            Ok(Vec::new())
        );
        // Text pushed counters and OpenMetrics pushed counters land in the same family.
        let mut s = Store::new();
        s.push(
            &key("a"),
            text("# TYPE c_total counter\nc_total 1\n"),
            PushMode::Replace,
            1,
        )
        .unwrap();
        s.push(&key("b"), fams, PushMode::Replace, 1).unwrap();
        assert_eq!(by_name(&s.gather())["c_total"].samples.len(), 2);
    }

    #[test]
    fn delete_and_wipe() {
        let mut s = Store::new();
        s.push(&key("a"), text("m 1\n"), PushMode::Replace, 1)
            .unwrap();
        s.push(&key("b"), text("m 1\n"), PushMode::Replace, 1)
            .unwrap();
        assert!(s.delete(&key("a")));
        assert!(!s.delete(&key("a")));
        assert_eq!(s.groups().count(), 1);
        s.wipe();
        assert!(s.gather().is_empty());
    }
}
