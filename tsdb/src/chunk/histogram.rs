//! The integer native-histogram chunk, and the pieces it shares with the float one
//! ([`super::float_histogram`]): the bucket layout header, the counter-reset header, and
//! the bit-level number codes.
//!
//! A chunk holds samples of one bucket layout (schema, zero threshold, spans, custom
//! bounds), written once in its header. Timestamps are delta-of-delta coded as in the XOR
//! chunk; count, zero count and every bucket (in the histogram's own delta form) are
//! delta-of-delta coded with a variable-width integer code; the sum is XOR coded. A sample
//! whose layout differs from the chunk's does not fit. When it only adds buckets (same
//! schema, zero threshold and bounds) the head re-codes the chunk into the wider layout
//! ([`HistogramAppender::widen`], as Prometheus does); otherwise it cuts a new chunk. Byte
//! layout: `FORMAT.md`, section "Native histogram chunks".

use exposition::histogram::{
    CounterResetHint, Histogram, Span, CUSTOM_BUCKETS_SCHEMA, MAX_EXPONENTIAL_SCHEMA,
    MIN_EXPONENTIAL_SCHEMA,
};

use super::bstream::{BitReader, BitWriter};
use crate::error::{Error, Result};

/// Bytes before the bit stream: the sample count (u16 BE) and the counter-reset header.
pub const HEADER_LEN: usize = 3;

/// Initial buffer capacity of a histogram chunk.
const INITIAL_CAPACITY: usize = 128;

// ---------------------------------------------------------------------------------------
// Counter-reset header.

/// The header byte for a chunk's counter-reset knowledge (stored in the top two bits).
pub fn hint_to_header(h: CounterResetHint) -> u8 {
    (match h {
        CounterResetHint::Unknown => 0u8,
        CounterResetHint::CounterReset => 1,
        CounterResetHint::NotCounterReset => 2,
        CounterResetHint::Gauge => 3,
    }) << 6
}

/// The counter-reset knowledge stored in a header byte.
pub fn header_to_hint(b: u8) -> CounterResetHint {
    match b >> 6 {
        1 => CounterResetHint::CounterReset,
        2 => CounterResetHint::NotCounterReset,
        3 => CounterResetHint::Gauge,
        _ => CounterResetHint::Unknown,
    }
}

/// The counter-reset header of a histogram chunk (`Unknown` for a buffer shorter than the
/// header).
pub fn chunk_header(chunk: &[u8]) -> CounterResetHint {
    chunk
        .get(2)
        .map_or(CounterResetHint::Unknown, |&b| header_to_hint(b))
}

/// The hint the `i`-th sample (from 0) of a chunk with `header` carries: the first one
/// the header's, the rest `NotCounterReset` (or `Gauge` in a gauge chunk).
pub(crate) fn sample_hint(header: CounterResetHint, i: u16) -> CounterResetHint {
    match (header, i) {
        (CounterResetHint::Gauge, _) => CounterResetHint::Gauge,
        (h, 0) => h,
        _ => CounterResetHint::NotCounterReset,
    }
}

// ---------------------------------------------------------------------------------------
// Number codes.

pub(crate) fn write_uvarint(w: &mut BitWriter, mut x: u64) {
    while x >= 0x80 {
        w.write_bits(u64::from(x as u8 | 0x80), 8);
        x >>= 7;
    }
    w.write_bits(x, 8);
}

pub(crate) fn write_varint(w: &mut BitWriter, x: i64) {
    write_uvarint(w, ((x << 1) ^ (x >> 63)) as u64);
}

pub(crate) fn read_uvarint(r: &mut BitReader<'_>) -> u64 {
    let mut x = 0u64;
    let mut shift = 0u32;
    for _ in 0..10 {
        let b = r.read_bits(8);
        x |= (b & 0x7f).checked_shl(shift).unwrap_or(0);
        if b < 0x80 {
            return x;
        }
        shift += 7;
    }
    x
}

pub(crate) fn read_varint(r: &mut BitReader<'_>) -> i64 {
    let u = read_uvarint(r);
    ((u >> 1) as i64) ^ -((u & 1) as i64)
}

#[inline]
fn bit_range(x: i64, nbits: u32) -> bool {
    let half = 1i64 << (nbits - 1);
    -half < x && x <= half
}

/// Widths of the variable-width integer code, by number of leading one bits.
const VARBIT_WIDTHS: [u32; 8] = [0, 3, 6, 9, 12, 18, 25, 56];

/// Writes a signed integer in the variable-width code: `0` for zero, then `k` one bits, a
/// zero and [`VARBIT_WIDTHS`]`[k]` bits (3, 6, 9, 12, 18, 25, 56), or eight one bits and 64
/// bits (two's complement truncated to the width). Small changes, the common case between
/// scrapes, cost 5 bits.
#[inline]
pub(crate) fn write_varbit(w: &mut BitWriter, x: i64) {
    if x == 0 {
        w.write_bit(false);
        return;
    }
    for (ones, &width) in VARBIT_WIDTHS.iter().enumerate().skip(1) {
        if bit_range(x, width) {
            // `ones` one bits, a zero, then the payload.
            let prefix = ((1u64 << (ones + 1)) - 2) << width;
            let n = ones as u32 + 1 + width;
            w.write_bits(prefix | (x as u64 & ((1u64 << width) - 1)), n);
            return;
        }
    }
    w.write_bits(0xff, 8);
    w.write_bits(x as u64, 64);
}

/// Reads an integer written by [`write_varbit`].
#[inline]
pub(crate) fn read_varbit(r: &mut BitReader<'_>) -> i64 {
    let mut ones = 0usize;
    while ones < 8 && r.read_bit() {
        ones += 1;
    }
    match ones {
        0 => 0,
        8 => r.read_bits(64) as i64,
        n => {
            let w = VARBIT_WIDTHS[n];
            let bits = r.read_bits(w) as i64;
            if bits > (1 << (w - 1)) {
                bits - (1 << w)
            } else {
                bits
            }
        }
    }
}

/// Writes a timestamp delta-of-delta in the XOR chunk's code.
#[inline]
pub(crate) fn write_dod(w: &mut BitWriter, dod: i64) {
    if dod == 0 {
        w.write_bit(false);
    } else if bit_range(dod, 14) {
        w.write_bits((0b10 << 14) | (dod as u64 & 0x3fff), 16);
    } else if bit_range(dod, 17) {
        w.write_bits((0b110 << 17) | (dod as u64 & 0x1_ffff), 20);
    } else if bit_range(dod, 20) {
        w.write_bits((0b1110 << 20) | (dod as u64 & 0xf_ffff), 24);
    } else {
        w.write_bits(0b1111, 4);
        w.write_bits(dod as u64, 64);
    }
}

/// Reads a timestamp delta-of-delta written by [`write_dod`].
#[inline]
pub(crate) fn read_dod(r: &mut BitReader<'_>) -> i64 {
    let mut ones = 0;
    while ones < 4 && r.read_bit() {
        ones += 1;
    }
    match ones {
        0 => 0,
        4 => r.read_bits(64) as i64,
        n => {
            let sz = [0u32, 14, 17, 20][n];
            let bits = r.read_bits(sz) as i64;
            if bits > (1 << (sz - 1)) {
                bits - (1 << sz)
            } else {
                bits
            }
        }
    }
}

/// XOR coding state of one float column (the Gorilla value code of the XOR chunk).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct XorState {
    leading: u8,
    trailing: u8,
}

impl Default for XorState {
    fn default() -> Self {
        XorState {
            leading: 0xff,
            trailing: 0,
        }
    }
}

impl XorState {
    /// Writes `cur` XORed with `prev`.
    #[inline]
    pub(crate) fn write(&mut self, w: &mut BitWriter, prev: u64, cur: u64) {
        let delta = prev ^ cur;
        if delta == 0 {
            w.write_bit(false);
            return;
        }
        let lead = (delta.leading_zeros() as u8).min(31);
        let trail = delta.trailing_zeros() as u8;
        if self.leading != 0xff && lead >= self.leading && trail >= self.trailing {
            let sig = 64 - u32::from(self.leading) - u32::from(self.trailing);
            w.write_bits(0b10, 2);
            w.write_bits(delta >> self.trailing, sig);
            return;
        }
        self.leading = lead;
        self.trailing = trail;
        let sig = 64 - u32::from(lead) - u32::from(trail);
        w.write_bits(
            (0b11 << 11) | (u64::from(lead) << 6) | u64::from(sig & 63),
            13,
        );
        w.write_bits(delta >> trail, sig);
    }

    /// Reads a value written by [`XorState::write`] and applies it to `v`.
    #[inline]
    pub(crate) fn read(&mut self, r: &mut BitReader<'_>, v: &mut u64) {
        if !r.read_bit() {
            return;
        }
        if r.read_bit() {
            let lead = (r.read_bits(5) as u8).min(63);
            let mut sig = r.read_bits(6) as u8;
            if sig == 0 {
                sig = 64;
            }
            let sig = sig.min(64 - lead);
            self.leading = lead;
            self.trailing = 64 - lead - sig;
        } else if self.leading == 0xff {
            // Damaged stream: a window reused before one was set.
            self.leading = 0;
            self.trailing = 0;
        }
        let sig = 64 - u32::from(self.leading) - u32::from(self.trailing);
        let bits = r.read_bits(sig);
        *v ^= bits.checked_shl(u32::from(self.trailing)).unwrap_or(0);
    }
}

// ---------------------------------------------------------------------------------------
// Bucket layout.

/// The part of a histogram every sample of one chunk shares: schema, zero threshold,
/// spans and custom bounds.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Layout {
    /// Schema.
    pub schema: i32,
    /// Zero threshold.
    pub zero_threshold: f64,
    /// Positive spans.
    pub positive_spans: Vec<Span>,
    /// Negative spans.
    pub negative_spans: Vec<Span>,
    /// Custom bucket bounds (custom-bucket schema only).
    pub custom_values: Vec<f64>,
}

fn span_total(spans: &[Span]) -> usize {
    spans.iter().map(|s| s.length as usize).sum()
}

fn same_floats(a: &[f64], b: &[f64]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits())
}

impl Layout {
    /// Whether a histogram with these layout fields has exactly this layout.
    pub(crate) fn matches(
        &self,
        schema: i32,
        zero_threshold: f64,
        pos: &[Span],
        neg: &[Span],
        custom: &[f64],
    ) -> bool {
        self.schema == schema
            && self.zero_threshold.to_bits() == zero_threshold.to_bits()
            && self.positive_spans == pos
            && self.negative_spans == neg
            && same_floats(&self.custom_values, custom)
    }

    /// Copies the layout fields.
    pub(crate) fn set(
        &mut self,
        schema: i32,
        zero_threshold: f64,
        pos: &[Span],
        neg: &[Span],
        custom: &[f64],
    ) {
        self.schema = schema;
        self.zero_threshold = zero_threshold;
        self.positive_spans.clear();
        self.positive_spans.extend_from_slice(pos);
        self.negative_spans.clear();
        self.negative_spans.extend_from_slice(neg);
        self.custom_values.clear();
        self.custom_values.extend_from_slice(custom);
    }

    /// Number of positive buckets.
    pub fn num_positive(&self) -> usize {
        span_total(&self.positive_spans)
    }

    /// Number of negative buckets.
    pub fn num_negative(&self) -> usize {
        span_total(&self.negative_spans)
    }

    pub(crate) fn write(&self, w: &mut BitWriter) {
        write_varint(w, i64::from(self.schema));
        w.write_bits(self.zero_threshold.to_bits(), 64);
        for spans in [&self.positive_spans, &self.negative_spans] {
            write_uvarint(w, spans.len() as u64);
            for s in spans {
                write_varint(w, i64::from(s.offset));
                write_uvarint(w, u64::from(s.length));
            }
        }
        write_uvarint(w, self.custom_values.len() as u64);
        for v in &self.custom_values {
            w.write_bits(v.to_bits(), 64);
        }
    }

    /// Reads a layout into `self` (reusing its buffers). `budget` bounds the number of
    /// spans, bounds and buckets (the chunk's byte length), so damaged bytes cannot make it
    /// allocate much. Returns false on damage.
    pub(crate) fn read(&mut self, r: &mut BitReader<'_>, budget: usize) -> bool {
        let schema = read_varint(r);
        let Ok(schema) = i32::try_from(schema) else {
            return false;
        };
        self.schema = schema;
        self.zero_threshold = f64::from_bits(r.read_bits(64));
        let mut buckets = 0usize;
        for neg in [false, true] {
            let n = read_uvarint(r);
            if n > budget as u64 {
                return false;
            }
            let spans = if neg {
                &mut self.negative_spans
            } else {
                &mut self.positive_spans
            };
            spans.clear();
            for _ in 0..n {
                let offset = i32::try_from(read_varint(r));
                let length = u32::try_from(read_uvarint(r));
                let (Ok(offset), Ok(length)) = (offset, length) else {
                    return false;
                };
                buckets = buckets.saturating_add(length as usize);
                if buckets > budget || r.overrun() {
                    return false;
                }
                spans.push(Span { offset, length });
            }
        }
        let n = read_uvarint(r);
        if n > (budget / 8) as u64 {
            return false;
        }
        self.custom_values.clear();
        for _ in 0..n {
            self.custom_values.push(f64::from_bits(r.read_bits(64)));
        }
        !r.overrun()
    }
}

// ---------------------------------------------------------------------------------------
// Validation of appended histograms.

fn check_spans(spans: &[Span], n: usize) -> std::result::Result<(), &'static str> {
    if span_total(spans) != n {
        return Err("span lengths do not match the number of buckets");
    }
    if spans.iter().skip(1).any(|s| s.offset < 0) {
        return Err("span offset negative (spans overlap)");
    }
    Ok(())
}

fn check_layout(
    schema: i32,
    zero_threshold: f64,
    pos: &[Span],
    neg: &[Span],
    custom: &[f64],
) -> std::result::Result<(), &'static str> {
    if schema == CUSTOM_BUCKETS_SCHEMA {
        if !neg.is_empty() {
            return Err("custom-bucket histogram with negative buckets");
        }
        if custom.iter().any(|v| v.is_nan()) || custom.windows(2).any(|w| w[0] >= w[1]) {
            return Err("custom bucket bounds not strictly increasing");
        }
        if custom.last().is_some_and(|v| *v == f64::INFINITY) {
            return Err("custom bucket bounds end in +Inf");
        }
        // Bucket indices run from 0 to the number of bounds (the +Inf bucket).
        let mut starts = span_starts(pos).filter(|&(_, len)| len > 0).peekable();
        if starts.peek().is_some_and(|&(start, _)| start < 0) {
            return Err("custom-bucket span starts below index 0");
        }
        if starts
            .last()
            .is_some_and(|(start, len)| start + i64::from(len) - 1 > custom.len() as i64)
        {
            return Err("custom-bucket index past the last bound");
        }
    } else {
        if !(MIN_EXPONENTIAL_SCHEMA..=MAX_EXPONENTIAL_SCHEMA).contains(&schema) {
            return Err("schema out of range");
        }
        if !custom.is_empty() {
            return Err("custom bucket bounds on an exponential schema");
        }
        if zero_threshold.is_nan() || zero_threshold < 0.0 {
            return Err("zero threshold negative or NaN");
        }
    }
    Ok(())
}

/// Checks that an integer histogram can be stored: a known schema, spans that match the
/// bucket counts, no negative bucket count, and a total count at least the sum of the
/// buckets (it may be larger: NaN observations land in no bucket).
pub fn validate_histogram(h: &Histogram) -> Result<()> {
    let inner = || -> std::result::Result<(), &'static str> {
        check_layout(
            h.schema,
            h.zero_threshold,
            &h.positive_spans,
            &h.negative_spans,
            &h.custom_values,
        )?;
        check_spans(&h.positive_spans, h.positive_buckets.len())?;
        check_spans(&h.negative_spans, h.negative_buckets.len())?;
        if h.uses_custom_buckets() && h.zero_count != 0 {
            return Err("custom-bucket histogram with a zero count");
        }
        let mut total = h.zero_count;
        for deltas in [&h.positive_buckets, &h.negative_buckets] {
            let mut acc = 0i64;
            for d in deltas.iter() {
                acc = acc.checked_add(*d).ok_or("bucket count overflows")?;
                if acc < 0 {
                    return Err("negative bucket count");
                }
                total = total.saturating_add(acc as u64);
            }
        }
        if total > h.count {
            return Err("count smaller than the sum of the buckets");
        }
        Ok(())
    };
    inner().map_err(Error::InvalidHistogram)
}

/// Checks the structure of a float histogram (schema, spans, bounds) and that no count is
/// negative.
pub fn validate_float_histogram(h: &exposition::histogram::FloatHistogram) -> Result<()> {
    let inner = || -> std::result::Result<(), &'static str> {
        check_layout(
            h.schema,
            h.zero_threshold,
            &h.positive_spans,
            &h.negative_spans,
            &h.custom_values,
        )?;
        check_spans(&h.positive_spans, h.positive_buckets.len())?;
        check_spans(&h.negative_spans, h.negative_buckets.len())?;
        let neg = |v: &f64| *v < 0.0;
        if neg(&h.count)
            || neg(&h.zero_count)
            || h.positive_buckets.iter().any(neg)
            || h.negative_buckets.iter().any(neg)
        {
            return Err("negative count");
        }
        Ok(())
    };
    inner().map_err(Error::InvalidHistogram)
}

// ---------------------------------------------------------------------------------------
// Counter-reset detection.

/// Start index and length of each span (the first offset is absolute, later ones count
/// from the end of the previous span).
pub(crate) fn span_starts(spans: &[Span]) -> impl Iterator<Item = (i64, u32)> + '_ {
    spans.iter().scan(0i64, |end, s| {
        let start = *end + i64::from(s.offset);
        *end = start + i64::from(s.length);
        Some((start, s.length))
    })
}

/// Walks `(bucket index, count)` pairs of a span list.
pub(crate) fn indexed<'a, T: 'a>(
    spans: &'a [Span],
    counts: impl Iterator<Item = T> + 'a,
) -> impl Iterator<Item = (i64, T)> + 'a {
    span_starts(spans)
        .flat_map(|(start, len)| (0..i64::from(len)).map(move |k| start + k))
        .zip(counts)
}

/// Whether some bucket of `old` (with a positive count) is missing from `new` or holds
/// less: a counter reset, when both use the same schema.
pub(crate) fn buckets_dropped<T: Copy + PartialOrd + Default>(
    old: impl Iterator<Item = (i64, T)>,
    new: impl Iterator<Item = (i64, T)>,
) -> bool {
    let mut new = new.peekable();
    for (i, c) in old {
        while new.peek().is_some_and(|&(j, _)| j < i) {
            new.next();
        }
        match new.peek() {
            Some(&(j, d)) if j == i => {
                if d < c {
                    return true;
                }
            }
            _ => {
                if c > T::default() {
                    return true;
                }
            }
        }
    }
    false
}

/// Bucket indices of a span list, in order.
fn indices(spans: &[Span]) -> impl Iterator<Item = i64> + '_ {
    span_starts(spans).flat_map(|(start, len)| (0..i64::from(len)).map(move |k| start + k))
}

/// Whether every bucket index of `old` also exists in `new`.
pub(crate) fn spans_contained(old: &[Span], new: &[Span]) -> bool {
    let mut n = indices(new).peekable();
    for i in indices(old) {
        while n.peek().is_some_and(|&j| j < i) {
            n.next();
        }
        if n.peek() != Some(&i) {
            return false;
        }
    }
    true
}

/// Maps `values` laid out by `old` onto the layout `new` (a superset), `zero` elsewhere.
pub(crate) fn expand<T: Copy>(old: &[Span], values: &[T], new: &[Span], zero: T, out: &mut Vec<T>) {
    out.clear();
    let mut o = indices(old).zip(values.iter().copied()).peekable();
    for j in indices(new) {
        match o.peek() {
            Some(&(i, v)) if i == j => {
                out.push(v);
                o.next();
            }
            _ => out.push(zero),
        }
    }
}

/// Whether a chunk with `layout` can be re-coded to the layout of a sample with these
/// fields: same schema, zero threshold and custom bounds, and every bucket kept.
pub(crate) fn widens(
    layout: &Layout,
    schema: i32,
    zero_threshold: f64,
    pos: &[Span],
    neg: &[Span],
    custom: &[f64],
) -> bool {
    layout.schema == schema
        && layout.zero_threshold.to_bits() == zero_threshold.to_bits()
        && same_floats(&layout.custom_values, custom)
        && spans_contained(&layout.positive_spans, pos)
        && spans_contained(&layout.negative_spans, neg)
}

/// Absolute counts from a delta-encoded bucket list.
pub(crate) fn absolute(deltas: &[i64]) -> impl Iterator<Item = i64> + '_ {
    deltas.iter().scan(0i64, |acc, d| {
        *acc = acc.wrapping_add(*d);
        Some(*acc)
    })
}

// ---------------------------------------------------------------------------------------
// The integer histogram chunk.

/// Builds one integer-histogram chunk. All samples share the layout of the first; use
/// [`HistogramAppender::fits`] before [`HistogramAppender::append`].
#[derive(Debug, Clone)]
pub struct HistogramAppender {
    w: BitWriter,
    num: u16,
    header: CounterResetHint,
    layout: Layout,
    min_t: i64,
    t: i64,
    t_delta: i64,
    count: u64,
    count_delta: i64,
    zero: u64,
    zero_delta: i64,
    sum: u64,
    sum_x: XorState,
    /// Last sample's buckets (positive then negative), in the histogram's delta form.
    buckets: Vec<i64>,
    /// Their change since the sample before.
    deltas: Vec<i64>,
}

impl HistogramAppender {
    /// An empty chunk for histograms with `h`'s layout and the counter-reset `header`.
    pub fn new(h: &Histogram, header: CounterResetHint) -> HistogramAppender {
        let mut buf = Vec::with_capacity(INITIAL_CAPACITY);
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
        HistogramAppender {
            w,
            num: 0,
            header,
            layout,
            min_t: i64::MIN,
            t: i64::MIN,
            t_delta: 0,
            count: 0,
            count_delta: 0,
            zero: 0,
            zero_delta: 0,
            sum: 0,
            sum_x: XorState::default(),
            buckets: Vec::new(),
            deltas: Vec::new(),
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

    /// The encoded chunk so far (valid at every point).
    pub fn bytes(&self) -> &[u8] {
        self.w.bytes()
    }

    /// Finishes the chunk, trimmed to size.
    pub fn finish(self) -> Box<[u8]> {
        self.w.into_vec().into_boxed_slice()
    }

    /// Whether `h` has this chunk's layout (and the chunk has room).
    pub fn fits(&self, h: &Histogram) -> bool {
        !self.is_full()
            && self.layout.matches(
                h.schema,
                h.zero_threshold,
                &h.positive_spans,
                &h.negative_spans,
                &h.custom_values,
            )
    }

    /// Whether `h` equals the last sample (ignoring the hint).
    pub fn last_equals(&self, h: &Histogram) -> bool {
        !self.is_empty()
            && self.fits_layout_only(h)
            && h.count == self.count
            && h.zero_count == self.zero
            && h.sum.to_bits() == self.sum
            && self.buckets.len() == h.positive_buckets.len() + h.negative_buckets.len()
            && h.positive_buckets
                .iter()
                .chain(&h.negative_buckets)
                .eq(self.buckets.iter())
    }

    fn fits_layout_only(&self, h: &Histogram) -> bool {
        self.layout.matches(
            h.schema,
            h.zero_threshold,
            &h.positive_spans,
            &h.negative_spans,
            &h.custom_values,
        )
    }

    /// Whether the chunk can be re-coded into `h`'s layout ([`HistogramAppender::widen`]):
    /// same schema, zero threshold and bounds, and `h` has every bucket of the chunk.
    pub fn can_widen(&self, h: &Histogram) -> bool {
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

    /// Re-codes the chunk into `h`'s layout (which [`can_widen`](Self::can_widen) accepted),
    /// giving the earlier samples zero counts in the new buckets, as Prometheus does when
    /// buckets appear. Returns the new chunk, with the same header.
    pub fn widen(&self, h: &Histogram) -> HistogramAppender {
        let mut out = HistogramAppender::new(h, self.header);
        let mut it = HistogramIter::new(self.bytes());
        let mut old = Histogram::default();
        let mut abs: Vec<i64> = Vec::new();
        let mut scratch = Vec::new();
        while it.next() {
            let t = it.at_histogram(&mut old);
            let mut s = h.clone();
            s.count = old.count;
            s.zero_count = old.zero_count;
            s.sum = old.sum;
            for (spans, deltas, new_spans, dst) in [
                (
                    &old.positive_spans,
                    &old.positive_buckets,
                    &h.positive_spans,
                    &mut s.positive_buckets,
                ),
                (
                    &old.negative_spans,
                    &old.negative_buckets,
                    &h.negative_spans,
                    &mut s.negative_buckets,
                ),
            ] {
                abs.clear();
                abs.extend(absolute(deltas));
                expand(spans, &abs, new_spans, 0, &mut scratch);
                dst.clear();
                let mut prev = 0i64;
                for &c in &scratch {
                    dst.push(c.wrapping_sub(prev));
                    prev = c;
                }
            }
            out.append(t, &s);
        }
        out
    }

    /// Whether `h`, following the last sample of this chunk, shows a counter reset: the
    /// count or zero count went down, the resolution went up, the zero bucket narrowed, or
    /// (same schema and bounds) a populated bucket went down or vanished.
    pub fn detect_counter_reset(&self, h: &Histogram) -> bool {
        if self.is_empty() {
            return false;
        }
        let l = &self.layout;
        if h.count < self.count || h.schema > l.schema {
            return true;
        }
        if h.zero_threshold < l.zero_threshold {
            return true;
        }
        if h.zero_threshold == l.zero_threshold && h.zero_count < self.zero {
            return true;
        }
        if h.schema != l.schema || !same_floats(&h.custom_values, &l.custom_values) {
            return false;
        }
        let np = l.num_positive();
        let (old_pos, old_neg) = self.buckets.split_at(np.min(self.buckets.len()));
        buckets_dropped(
            indexed(&l.positive_spans, absolute(old_pos)),
            indexed(&h.positive_spans, absolute(&h.positive_buckets)),
        ) || buckets_dropped(
            indexed(&l.negative_spans, absolute(old_neg)),
            indexed(&h.negative_spans, absolute(&h.negative_buckets)),
        )
    }

    /// Appends a sample. Returns false (and appends nothing) when `h` does not
    /// [fit](HistogramAppender::fits). Timestamps must increase (the head checks).
    pub fn append(&mut self, t: i64, h: &Histogram) -> bool {
        if !self.fits(h) {
            return false;
        }
        let w = &mut self.w;
        let buckets = h.positive_buckets.iter().chain(&h.negative_buckets);
        match self.num {
            0 => {
                write_varint(w, t);
                write_uvarint(w, h.count);
                write_uvarint(w, h.zero_count);
                w.write_bits(h.sum.to_bits(), 64);
                self.buckets.clear();
                self.deltas.clear();
                for &b in buckets {
                    write_varint(w, b);
                    self.buckets.push(b);
                    self.deltas.push(0);
                }
                self.min_t = t;
                self.t_delta = 0;
            }
            1 => {
                let d = t.wrapping_sub(self.t);
                write_uvarint(w, d as u64);
                self.t_delta = d;
                self.count_delta = h.count.wrapping_sub(self.count) as i64;
                self.zero_delta = h.zero_count.wrapping_sub(self.zero) as i64;
                write_varbit(w, self.count_delta);
                write_varbit(w, self.zero_delta);
                self.sum_x.write(w, self.sum, h.sum.to_bits());
                for ((old, delta), &b) in self.buckets.iter_mut().zip(&mut self.deltas).zip(buckets)
                {
                    *delta = b.wrapping_sub(*old);
                    write_varbit(w, *delta);
                    *old = b;
                }
            }
            _ => {
                let d = t.wrapping_sub(self.t);
                write_dod(w, d.wrapping_sub(self.t_delta));
                self.t_delta = d;
                let cd = h.count.wrapping_sub(self.count) as i64;
                write_varbit(w, cd.wrapping_sub(self.count_delta));
                self.count_delta = cd;
                let zd = h.zero_count.wrapping_sub(self.zero) as i64;
                write_varbit(w, zd.wrapping_sub(self.zero_delta));
                self.zero_delta = zd;
                self.sum_x.write(w, self.sum, h.sum.to_bits());
                for ((old, delta), &b) in self.buckets.iter_mut().zip(&mut self.deltas).zip(buckets)
                {
                    let nd = b.wrapping_sub(*old);
                    write_varbit(w, nd.wrapping_sub(*delta));
                    *delta = nd;
                    *old = b;
                }
            }
        }
        self.t = t;
        self.count = h.count;
        self.zero = h.zero_count;
        self.sum = h.sum.to_bits();
        self.num += 1;
        let n = self.num.to_be_bytes();
        let hdr = self.w.bytes_mut();
        hdr[0] = n[0];
        hdr[1] = n[1];
        true
    }
}

/// Decodes an integer-histogram chunk. Buffers are reused across samples and across
/// [`HistogramIter::reset`], so iteration allocates only when a chunk has more buckets than
/// any before it.
#[derive(Debug, Clone)]
pub struct HistogramIter<'a> {
    r: BitReader<'a>,
    num: u16,
    read: u16,
    header: CounterResetHint,
    layout: Layout,
    n_pos: usize,
    t: i64,
    t_delta: i64,
    count: u64,
    count_delta: i64,
    zero: u64,
    zero_delta: i64,
    sum: u64,
    sum_x: XorState,
    buckets: Vec<i64>,
    deltas: Vec<i64>,
}

impl Default for HistogramIter<'_> {
    fn default() -> Self {
        HistogramIter {
            r: BitReader::new(&[]),
            num: 0,
            read: 0,
            header: CounterResetHint::Unknown,
            layout: Layout::default(),
            n_pos: 0,
            t: i64::MIN,
            t_delta: 0,
            count: 0,
            count_delta: 0,
            zero: 0,
            zero_delta: 0,
            sum: 0,
            sum_x: XorState::default(),
            buckets: Vec::new(),
            deltas: Vec::new(),
        }
    }
}

impl<'a> HistogramIter<'a> {
    /// An iterator over an encoded chunk. Damaged bytes never panic: a bad layout yields
    /// no samples, a short stream stops early.
    pub fn new(chunk: &'a [u8]) -> HistogramIter<'a> {
        let mut it = HistogramIter::default();
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
        self.sum_x = XorState::default();
        let body = chunk.get(HEADER_LEN..).unwrap_or(&[]);
        self.r = BitReader::new(body);
        if !self.layout.read(&mut self.r, body.len()) {
            self.num = 0;
            return;
        }
        self.n_pos = self.layout.num_positive();
        let n = self.n_pos + self.layout.num_negative();
        self.buckets.clear();
        self.buckets.resize(n, 0);
        self.deltas.clear();
        self.deltas.resize(n, 0);
    }

    /// The chunk's counter-reset header.
    pub fn header(&self) -> CounterResetHint {
        self.header
    }

    /// The chunk's bucket layout.
    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    /// Whether decoding read past the end of the bytes (damage).
    pub fn overrun(&self) -> bool {
        self.r.overrun()
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
                self.count = read_uvarint(r);
                self.zero = read_uvarint(r);
                self.sum = r.read_bits(64);
                for b in &mut self.buckets {
                    *b = read_varint(r);
                }
            }
            1 => {
                self.t_delta = read_uvarint(r) as i64;
                self.t = self.t.wrapping_add(self.t_delta);
                self.count_delta = read_varbit(r);
                self.count = self.count.wrapping_add(self.count_delta as u64);
                self.zero_delta = read_varbit(r);
                self.zero = self.zero.wrapping_add(self.zero_delta as u64);
                self.sum_x.read(r, &mut self.sum);
                for (b, d) in self.buckets.iter_mut().zip(&mut self.deltas) {
                    *d = read_varbit(r);
                    *b = b.wrapping_add(*d);
                }
            }
            _ => {
                self.t_delta = self.t_delta.wrapping_add(read_dod(r));
                self.t = self.t.wrapping_add(self.t_delta);
                self.count_delta = self.count_delta.wrapping_add(read_varbit(r));
                self.count = self.count.wrapping_add(self.count_delta as u64);
                self.zero_delta = self.zero_delta.wrapping_add(read_varbit(r));
                self.zero = self.zero.wrapping_add(self.zero_delta as u64);
                self.sum_x.read(r, &mut self.sum);
                for (b, d) in self.buckets.iter_mut().zip(&mut self.deltas) {
                    *d = d.wrapping_add(read_varbit(r));
                    *b = b.wrapping_add(*d);
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
    pub fn at_histogram(&self, out: &mut Histogram) -> i64 {
        let l = &self.layout;
        out.counter_reset_hint = self.hint();
        out.schema = l.schema;
        out.zero_threshold = l.zero_threshold;
        out.zero_count = self.zero;
        out.count = self.count;
        out.sum = f64::from_bits(self.sum);
        out.positive_spans.clone_from(&l.positive_spans);
        out.negative_spans.clone_from(&l.negative_spans);
        out.custom_values.clone_from(&l.custom_values);
        let (p, n) = self.buckets.split_at(self.n_pos.min(self.buckets.len()));
        out.positive_buckets.clear();
        out.positive_buckets.extend_from_slice(p);
        out.negative_buckets.clear();
        out.negative_buckets.extend_from_slice(n);
        self.t
    }

    /// Writes the current sample into `out` as a float histogram; returns the timestamp.
    pub fn at_float_histogram(&self, out: &mut exposition::histogram::FloatHistogram) -> i64 {
        let l = &self.layout;
        out.counter_reset_hint = self.hint();
        out.schema = l.schema;
        out.zero_threshold = l.zero_threshold;
        out.zero_count = self.zero as f64;
        out.count = self.count as f64;
        out.sum = f64::from_bits(self.sum);
        out.positive_spans.clone_from(&l.positive_spans);
        out.negative_spans.clone_from(&l.negative_spans);
        out.custom_values.clone_from(&l.custom_values);
        let (p, n) = self.buckets.split_at(self.n_pos.min(self.buckets.len()));
        out.positive_buckets.clear();
        out.positive_buckets.extend(absolute(p).map(|c| c as f64));
        out.negative_buckets.clear();
        out.negative_buckets.extend(absolute(n).map(|c| c as f64));
        self.t
    }
}

/// Decodes a whole integer-histogram chunk from untrusted bytes and checks it (a header,
/// a readable layout, at least one sample, no read past the end, increasing timestamps).
pub fn validate(chunk: &[u8]) -> Result<super::ChunkMeta> {
    if chunk.len() < HEADER_LEN {
        return Err(Error::InvalidChunk("shorter than its header"));
    }
    let n = super::xor::num_samples(chunk);
    if n == 0 {
        return Err(Error::InvalidChunk("no samples"));
    }
    let mut it = HistogramIter::new(chunk);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varbit_round_trips_at_every_width_boundary() {
        let mut vals = vec![0i64, 1, -1, i64::MIN, i64::MAX];
        for &w in &VARBIT_WIDTHS[1..] {
            let half = 1i64 << (w - 1);
            vals.extend([half, half + 1, -half, -half + 1, half - 1]);
        }
        let mut w = BitWriter::default();
        for &v in &vals {
            write_varbit(&mut w, v);
        }
        let bytes = w.into_vec();
        let mut r = BitReader::new(&bytes);
        for &v in &vals {
            assert_eq!(read_varbit(&mut r), v);
        }
        assert!(!r.overrun());
        // Small changes are cheap.
        let mut w = BitWriter::default();
        write_varbit(&mut w, 3);
        write_varbit(&mut w, -3);
        assert_eq!(w.into_vec().len(), 2, "two 5-bit codes");
    }

    #[test]
    fn header_hints_round_trip() {
        for h in [
            CounterResetHint::Unknown,
            CounterResetHint::CounterReset,
            CounterResetHint::NotCounterReset,
            CounterResetHint::Gauge,
        ] {
            assert_eq!(header_to_hint(hint_to_header(h)), h);
        }
    }

    #[test]
    fn a_different_layout_does_not_fit() {
        let h = Histogram {
            count: 2,
            positive_spans: vec![Span::new(0, 2)],
            positive_buckets: vec![1, 0],
            ..Histogram::default()
        };
        let mut a = HistogramAppender::new(&h, CounterResetHint::Unknown);
        assert!(a.append(1, &h));
        let mut wider = h.clone();
        wider.positive_spans = vec![Span::new(0, 3)];
        wider.positive_buckets = vec![1, 0, 0];
        assert!(!a.fits(&wider));
        assert!(!a.append(2, &wider));
        assert!(!a.detect_counter_reset(&wider), "a new bucket is no reset");
        let mut lost = h.clone();
        lost.positive_spans = vec![Span::new(1, 1)];
        lost.positive_buckets = vec![2];
        assert!(a.detect_counter_reset(&lost), "bucket 0 vanished");
        assert_eq!(a.num_samples(), 1);
        assert!(a.last_equals(&h));
    }
}
