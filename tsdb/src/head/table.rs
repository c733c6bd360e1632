//! Series by ref: a paged table, so refs can stay dense and stable forever without a
//! high, sparse ref (after much churn, or from a damaged WAL) costing memory for every
//! ref below it.

use super::series::MemSeries;

const PAGE_BITS: u32 = 12;
const PAGE: usize = 1 << PAGE_BITS;

type Page = Box<[Option<Box<MemSeries>>]>;

/// Live series indexed by ref, in pages of 4096 slots allocated on first use and freed
/// when their last series goes.
#[derive(Debug, Default)]
pub(crate) struct SeriesTable {
    pages: Vec<Option<Page>>,
    live_in_page: Vec<u16>,
    next_ref: u32,
}

impl SeriesTable {
    /// One more than the highest ref ever inserted or reserved.
    pub(crate) fn next_ref(&self) -> u32 {
        self.next_ref
    }

    /// Keeps `r` from being handed out to a new series (a WAL ref that replay mapped onto
    /// another series may still appear in older segments).
    pub(crate) fn reserve(&mut self, r: u32) {
        self.next_ref = self.next_ref.max(r.saturating_add(1));
    }

    #[inline]
    pub(crate) fn get(&self, r: u32) -> Option<&MemSeries> {
        let page = self.pages.get((r >> PAGE_BITS) as usize)?.as_ref()?;
        page[r as usize & (PAGE - 1)].as_deref()
    }

    #[inline]
    pub(crate) fn get_mut(&mut self, r: u32) -> Option<&mut MemSeries> {
        let page = self.pages.get_mut((r >> PAGE_BITS) as usize)?.as_mut()?;
        page[r as usize & (PAGE - 1)].as_deref_mut()
    }

    pub(crate) fn contains(&self, r: u32) -> bool {
        self.get(r).is_some()
    }

    /// Puts `s` at `r` (which must be free).
    pub(crate) fn insert(&mut self, r: u32, s: MemSeries) {
        let p = (r >> PAGE_BITS) as usize;
        if self.pages.len() <= p {
            self.pages.resize_with(p + 1, || None);
            self.live_in_page.resize(p + 1, 0);
        }
        let page = self.pages[p].get_or_insert_with(|| (0..PAGE).map(|_| None).collect());
        let slot = &mut page[r as usize & (PAGE - 1)];
        if slot.is_none() {
            self.live_in_page[p] += 1;
        }
        *slot = Some(Box::new(s));
        self.next_ref = self.next_ref.max(r.saturating_add(1));
    }

    /// Takes the series at `r` out, freeing its page when it was the last one.
    pub(crate) fn remove(&mut self, r: u32) -> Option<Box<MemSeries>> {
        let p = (r >> PAGE_BITS) as usize;
        let page = self.pages.get_mut(p)?.as_mut()?;
        let s = page[r as usize & (PAGE - 1)].take()?;
        self.live_in_page[p] -= 1;
        if self.live_in_page[p] == 0 {
            self.pages[p] = None;
        }
        Some(s)
    }

    /// Live series in ref order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (u32, &MemSeries)> {
        self.pages.iter().enumerate().flat_map(|(p, page)| {
            page.iter().flat_map(move |slots| {
                slots
                    .iter()
                    .enumerate()
                    .filter_map(move |(i, s)| Some((((p << PAGE_BITS) | i) as u32, s.as_deref()?)))
            })
        })
    }

    /// Live series in ref order, mutably.
    pub(crate) fn iter_mut(&mut self) -> impl Iterator<Item = (u32, &mut MemSeries)> {
        self.pages.iter_mut().enumerate().flat_map(|(p, page)| {
            page.iter_mut().flat_map(move |slots| {
                slots.iter_mut().enumerate().filter_map(move |(i, s)| {
                    Some((((p << PAGE_BITS) | i) as u32, s.as_deref_mut()?))
                })
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use exposition::Labels;

    fn s(i: u32) -> MemSeries {
        MemSeries::new(Labels::from_pairs(&[("i", i.to_string())]))
    }

    #[test]
    fn sparse_refs_cost_only_their_pages() {
        let mut t = SeriesTable::default();
        t.insert(3, s(3));
        t.insert(u32::MAX - 1, s(9));
        t.insert(5000, s(5000));
        assert_eq!(t.next_ref(), u32::MAX);
        assert_eq!(t.pages.iter().filter(|p| p.is_some()).count(), 3);
        assert_eq!(t.get(5000).unwrap().labels().get("i"), Some("5000"));
        assert!(t.get(4).is_none() && t.get(1 << 20).is_none());
        let refs: Vec<u32> = t.iter().map(|(r, _)| r).collect();
        assert_eq!(refs, vec![3, 5000, u32::MAX - 1]);
        assert!(t.remove(5000).is_some());
        assert!(t.remove(5000).is_none());
        assert_eq!(
            t.pages.iter().filter(|p| p.is_some()).count(),
            2,
            "empty page freed"
        );
        assert_eq!(t.iter_mut().count(), 2);
        assert!(t.contains(3));
    }
}
