//! The float native-histogram chunk: like the integer one ([`super::histogram`]) but every
//! count, the zero count, the sum and each (absolute) bucket is its own XOR-coded float
//! column. Header and layout are shared with the integer chunk; see `FORMAT.md`.

use exposition::histogram::{CounterResetHint, FloatHistogram};

use super::bstream::{BitReader, BitWriter};
use super::histogram::{
    buckets_dropped, chunk_header, expand, hint_to_header, indexed, read_dod, read_uvarint,
    read_varint, sample_hint, widens, write_dod, write_uvarint, write_varint, Layout, XorState,
    HEADER_LEN,
};
use crate::error::{Error, Result};

/// Builds one float-histogram chunk; all samples share the layout of the first.
#[derive(Debug, Clone)]
pub struct FloatHistogramAppender {
    w: BitWriter,
    num: u16,
    header: CounterResetHint,
    layout: Layout,
    min_t: i64,
    t: i64,
    t_delta: i64,
    /// Bits of count, zero count, sum, then each bucket (positive then negative).
    cols: Vec<u64>,
    states: Vec<XorState>,
}

/// Columns before the buckets: count, zero count, sum.
const FIXED_COLS: usize = 3;

fn columns(h: &FloatHistogram) -> impl Iterator<Item = u64> + '_ {
    [h.count, h.zero_count, h.sum]
        .into_iter()
        .chain(h.positive_buckets.iter().copied())
        .chain(h.negative_buckets.iter().copied())
        .map(f64::to_bits)
}

impl FloatHistogramAppender {
    /// An empty chunk for histograms with `h`'s layout and the counter-reset `header`.
    pub fn new(h: &FloatHistogram, header: CounterResetHint) -> FloatHistogramAppender {
        let mut buf = Vec::with_capacity(256);
        buf.extend_from_slice(&[0, 0, hint_to_header(header)]);
        let mut w = BitWriter::from_vec(buf);
        let mut layout = Layout::default();
        layout.set(
            h.schema,
            h.zero_threshold,
            &h.positive_spans,
            &h.negative_spans,
            &h.custom_values,
        );
        layout.write(&mut w);
        FloatHistogramAppender {
            w,
            num: 0,
            header,
            layout,
            min_t: i64::MIN,
            t: i64::MIN,
            t_delta: 0,
            cols: Vec::new(),
            states: Vec::new(),
        }
    }

    /// The counter-reset header.
    pub fn header(&self) -> CounterResetHint {
        self.header
    }

    /// Number of samples.
    pub fn num_samples(&self) -> usize {
        usize::from(self.num)
    }

    /// Whether the chunk holds no samples.
    pub fn is_empty(&self) -> bool {
        self.num == 0
    }

    /// Whether the sample counter is at its maximum.
    pub fn is_full(&self) -> bool {
        self.num == u16::MAX
    }

    /// First timestamp (`i64::MIN` when empty).
    pub fn min_t(&self) -> i64 {
        self.min_t
    }

    /// Last timestamp (`i64::MIN` when empty).
    pub fn max_t(&self) -> i64 {
        self.t
    }

    /// The encoded chunk so far.
    pub fn bytes(&self) -> &[u8] {
        self.w.bytes()
    }

    /// Finishes the chunk, trimmed to size.
    pub fn finish(self) -> Box<[u8]> {
        self.w.into_vec().into_boxed_slice()
    }

    fn layout_matches(&self, h: &FloatHistogram) -> bool {
        self.layout.matches(
            h.schema,
            h.zero_threshold,
            &h.positive_spans,
            &h.negative_spans,
            &h.custom_values,
        )
    }

    /// Whether `h` has this chunk's layout (and the chunk has room).
    pub fn fits(&self, h: &FloatHistogram) -> bool {
        !self.is_full() && self.layout_matches(h)
    }

    /// Whether `h` equals the last sample bit for bit (ignoring the hint).
    pub fn last_equals(&self, h: &FloatHistogram) -> bool {
        !self.is_empty() && self.layout_matches(h) && columns(h).eq(self.cols.iter().copied())
    }

    /// Whether the chunk can be re-coded into `h`'s layout (see
    /// [`super::histogram::HistogramAppender::can_widen`]).
    pub fn can_widen(&self, h: &FloatHistogram) -> bool {
        !self.is_full()
            && widens(
                &self.layout,
                h.schema,
                h.zero_threshold,
                &h.positive_spans,
                &h.negative_spans,
                &h.custom_values,
            )
    }

    /// Re-codes the chunk into `h`'s layout, earlier samples getting zero counts in the new
    /// buckets; returns the new chunk with the same header.
    pub fn widen(&self, h: &FloatHistogram) -> FloatHistogramAppender {
        let mut out = FloatHistogramAppender::new(h, self.header);
        let mut it = FloatHistogramIter::new(self.bytes());
        let mut old = FloatHistogram::default();
        while it.next() {
            let t = it.at_float_histogram(&mut old);
            let mut s = h.clone();
            s.count = old.count;
            s.zero_count = old.zero_count;
            s.sum = old.sum;
            expand(
                &old.positive_spans,
                &old.positive_buckets,
                &h.positive_spans,
                0.0,
                &mut s.positive_buckets,
            );
            expand(
                &old.negative_spans,
                &old.negative_buckets,
                &h.negative_spans,
                0.0,
                &mut s.negative_buckets,
            );
            out.append(t, &s);
        }
        out
    }

    /// Whether `h`, following the last sample, shows a counter reset (see
    /// [`super::histogram::HistogramAppender::detect_counter_reset`]).
    pub fn detect_counter_reset(&self, h: &FloatHistogram) -> bool {
        if self.is_empty() {
            return false;
        }
        let l = &self.layout;
        let col = |i: usize| f64::from_bits(self.cols.get(i).copied().unwrap_or(0));
        let (count, zero) = (col(0), col(1));
        if h.count < count || h.schema > l.schema || h.zero_threshold < l.zero_threshold {
            return true;
        }
        if h.zero_threshold == l.zero_threshold && h.zero_count < zero {
            return true;
        }
        let same_bounds = h.custom_values.len() == l.custom_values.len()
            && h.custom_values
                .iter()
                .zip(&l.custom_values)
                .all(|(a, b)| a.to_bits() == b.to_bits());
        if h.schema != l.schema || !same_bounds {
            return false;
        }
        let np = l.num_positive();
        let buckets = self.cols.get(FIXED_COLS..).unwrap_or(&[]);
        let (op, on) = buckets.split_at(np.min(buckets.len()));
        let f = |b: &u64| f64::from_bits(*b);
        buckets_dropped(
            indexed(&l.positive_spans, op.iter().map(f)),
            indexed(&h.positive_spans, h.positive_buckets.iter().copied()),
        ) || buckets_dropped(
            indexed(&l.negative_spans, on.iter().map(f)),
            indexed(&h.negative_spans, h.negative_buckets.iter().copied()),
        )
    }

    /// Appends a sample; false (nothing appended) when `h` does not fit.
    pub fn append(&mut self, t: i64, h: &FloatHistogram) -> bool {
        if !self.fits(h) {
            return false;
        }
        let w = &mut self.w;
        match self.num {
            0 => {
                write_varint(w, t);
                self.cols.clear();
                for c in columns(h) {
                    w.write_bits(c, 64);
                    self.cols.push(c);
                }
                self.states.clear();
                self.states.resize(self.cols.len(), XorState::default());
                self.min_t = t;
            }
            n => {
                let d = t.wrapping_sub(self.t);
                if n == 1 {
                    write_uvarint(w, d as u64);
                } else {
                    write_dod(w, d.wrapping_sub(self.t_delta));
                }
                self.t_delta = d;
                for ((old, st), c) in self.cols.iter_mut().zip(&mut self.states).zip(columns(h)) {
                    st.write(w, *old, c);
                    *old = c;
                }
            }
        }
        self.t = t;
        self.num += 1;
        let n = self.num.to_be_bytes();
        let hdr = self.w.bytes_mut();
        hdr[0] = n[0];
        hdr[1] = n[1];
        true
    }
}

/// Decodes a float-histogram chunk, reusing its buffers across samples and chunks.
#[derive(Debug, Clone)]
pub struct FloatHistogramIter<'a> {
    r: BitReader<'a>,
    num: u16,
    read: u16,
    header: CounterResetHint,
    layout: Layout,
    n_pos: usize,
    t: i64,
    t_delta: i64,
    cols: Vec<u64>,
    states: Vec<XorState>,
}

impl Default for FloatHistogramIter<'_> {
    fn default() -> Self {
        FloatHistogramIter {
            r: BitReader::new(&[]),
            num: 0,
            read: 0,
            header: CounterResetHint::Unknown,
            layout: Layout::default(),
            n_pos: 0,
            t: i64::MIN,
            t_delta: 0,
            cols: Vec::new(),
            states: Vec::new(),
        }
    }
}

impl<'a> FloatHistogramIter<'a> {
    /// An iterator over an encoded chunk; damaged bytes never panic.
    pub fn new(chunk: &'a [u8]) -> FloatHistogramIter<'a> {
        let mut it = FloatHistogramIter::default();
        it.reset(chunk);
        it
    }

    /// Points the iterator at another chunk, keeping its buffers.
    pub fn reset(&mut self, chunk: &'a [u8]) {
        self.num = super::xor::num_samples(chunk) as u16;
        self.header = chunk_header(chunk);
        self.read = 0;
        self.t = i64::MIN;
        self.t_delta = 0;
        let body = chunk.get(HEADER_LEN..).unwrap_or(&[]);
        self.r = BitReader::new(body);
        if !self.layout.read(&mut self.r, body.len()) {
            self.num = 0;
            return;
        }
        self.n_pos = self.layout.num_positive();
        let n = FIXED_COLS + self.n_pos + self.layout.num_negative();
        self.cols.clear();
        self.cols.resize(n, 0);
        self.states.clear();
        self.states.resize(n, XorState::default());
    }

    /// The chunk's counter-reset header.
    pub fn header(&self) -> CounterResetHint {
        self.header
    }

    /// Moves to the next sample; false when there is none.
    // A lending cursor (the sample is read with `at*`), not an `Iterator`.
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> bool {
        if self.read >= self.num {
            return false;
        }
        let r = &mut self.r;
        match self.read {
            0 => {
                self.t = read_varint(r);
                for c in &mut self.cols {
                    *c = r.read_bits(64);
                }
            }
            n => {
                if n == 1 {
                    self.t_delta = read_uvarint(r) as i64;
                } else {
                    self.t_delta = self.t_delta.wrapping_add(read_dod(r));
                }
                self.t = self.t.wrapping_add(self.t_delta);
                for (c, st) in self.cols.iter_mut().zip(&mut self.states) {
                    st.read(r, c);
                }
            }
        }
        if self.r.overrun() {
            self.read = self.num;
            return false;
        }
        self.read += 1;
        true
    }

    /// Moves to the first sample at or after `t`, never backwards.
    pub fn seek(&mut self, t: i64) -> bool {
        if self.read > 0 && self.t >= t {
            return true;
        }
        while self.next() {
            if self.t >= t {
                return true;
            }
        }
        false
    }

    /// The current timestamp.
    pub fn t(&self) -> i64 {
        self.t
    }

    /// The current sample's counter-reset hint.
    pub fn hint(&self) -> CounterResetHint {
        sample_hint(self.header, self.read.saturating_sub(1))
    }

    /// Writes the current sample into `out`, reusing its buffers; returns the timestamp.
    pub fn at_float_histogram(&self, out: &mut FloatHistogram) -> i64 {
        let l = &self.layout;
        let f = |b: &u64| f64::from_bits(*b);
        out.counter_reset_hint = self.hint();
        out.schema = l.schema;
        out.zero_threshold = l.zero_threshold;
        let col = |i: usize| f64::from_bits(self.cols.get(i).copied().unwrap_or(0));
        out.count = col(0);
        out.zero_count = col(1);
        out.sum = col(2);
        out.positive_spans.clone_from(&l.positive_spans);
        out.negative_spans.clone_from(&l.negative_spans);
        out.custom_values.clone_from(&l.custom_values);
        let buckets = self.cols.get(FIXED_COLS..).unwrap_or(&[]);
        let (p, n) = buckets.split_at(self.n_pos.min(buckets.len()));
        out.positive_buckets.clear();
        out.positive_buckets.extend(p.iter().map(f));
        out.negative_buckets.clear();
        out.negative_buckets.extend(n.iter().map(f));
        self.t
    }
}

/// Decodes a whole float-histogram chunk from untrusted bytes and checks it.
pub fn validate(chunk: &[u8]) -> Result<super::ChunkMeta> {
    if chunk.len() < HEADER_LEN {
        return Err(Error::InvalidChunk("shorter than its header"));
    }
    let n = super::xor::num_samples(chunk);
    if n == 0 {
        return Err(Error::InvalidChunk("no samples"));
    }
    let mut it = FloatHistogramIter::new(chunk);
    if it.num == 0 {
        return Err(Error::InvalidChunk("damaged bucket layout"));
    }
    let (mut min_t, mut prev, mut i) = (0, i64::MIN, 0);
    while it.next() {
        let t = it.t();
        if i == 0 {
            min_t = t;
        } else if t <= prev {
            return Err(Error::InvalidChunk("timestamps not increasing"));
        }
        prev = t;
        i += 1;
    }
    if i != n {
        return Err(Error::InvalidChunk("bit stream ends early"));
    }
    Ok(super::ChunkMeta {
        num_samples: n,
        min_t,
        max_t: prev,
    })
}
