//! In-memory postings: which series carry a given `name="value"` pair.
//!
//! One [`RoaringBitmap`] per label pair plus one for all series. Series refs are dense
//! integers, so the bitmaps stay small; names and values are kept in ordered maps so label
//! names and values come out sorted and prefix matchers can scan a range.

use std::collections::BTreeMap;

use exposition::Labels;
use roaring::RoaringBitmap;

/// The inverted index of the head.
#[derive(Debug, Default, Clone)]
pub struct MemPostings {
    by_name: BTreeMap<String, BTreeMap<String, RoaringBitmap>>,
    all: RoaringBitmap,
}

impl MemPostings {
    /// Indexes series `r` under each of its label pairs.
    pub fn add(&mut self, r: u32, labels: &Labels) {
        self.all.insert(r);
        for l in labels {
            let values = match self.by_name.get_mut(l.name.as_str()) {
                Some(v) => v,
                None => self.by_name.entry(l.name.clone()).or_default(),
            };
            match values.get_mut(l.value.as_str()) {
                Some(b) => {
                    b.insert(r);
                }
                None => {
                    let mut b = RoaringBitmap::new();
                    b.insert(r);
                    values.insert(l.value.clone(), b);
                }
            }
        }
    }

    /// Removes series `r` (indexed with `labels`); empty bitmaps and names are dropped.
    pub fn remove(&mut self, r: u32, labels: &Labels) {
        self.all.remove(r);
        for l in labels {
            let Some(values) = self.by_name.get_mut(l.name.as_str()) else {
                continue;
            };
            if let Some(b) = values.get_mut(l.value.as_str()) {
                b.remove(r);
                if b.is_empty() {
                    values.remove(l.value.as_str());
                }
            }
            if values.is_empty() {
                self.by_name.remove(l.name.as_str());
            }
        }
    }

    /// Sets the series of `name="value"` to `bitmap` (added to the all-series bitmap too);
    /// used to load a block's serialized postings.
    pub(crate) fn insert_bitmap(&mut self, name: &str, value: &str, bitmap: RoaringBitmap) {
        self.all |= &bitmap;
        self.by_name
            .entry(name.to_string())
            .or_default()
            .insert(value.to_string(), bitmap);
    }

    /// Replaces the all-series bitmap.
    pub(crate) fn set_all(&mut self, all: RoaringBitmap) {
        self.all = all;
    }

    /// Every series.
    pub fn all(&self) -> &RoaringBitmap {
        &self.all
    }

    /// The series with `name="value"`.
    pub fn get(&self, name: &str, value: &str) -> Option<&RoaringBitmap> {
        self.by_name.get(name)?.get(value)
    }

    /// The values of `name`, sorted, each with its series.
    pub fn values(&self, name: &str) -> Option<&BTreeMap<String, RoaringBitmap>> {
        self.by_name.get(name)
    }

    /// Label names that at least one series carries, sorted.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.by_name.keys().map(String::as_str)
    }

    /// Number of distinct label pairs.
    pub fn num_pairs(&self) -> usize {
        self.by_name.values().map(BTreeMap::len).sum()
    }
}
