//! Prometheus's native-histogram chunk encodings (`2` integer, `3` float), as its blocks
//! store them. Our own histogram chunks ([`crate::chunk::histogram`]) carry the same
//! information in a different bit layout, so export and import re-encode through here.
//!
//! ```text
//! num_samples u16 BE ‖ header u8 (counter reset: 0b10 reset, 0b01 not a reset, 0b11 gauge,
//! in the top two bits) ‖ bit stream:
//!   layout: zero threshold (1 byte: 0 → 0, 1..=254 → 2^(b-243)/2, 255 → 64 raw bits)
//!           ‖ schema varbit-int ‖ positive spans ‖ negative spans ‖ [custom bounds if -53]
//!           spans: count varbit-uint, then per span length varbit-uint ‖ offset varbit-int
//!           bounds: count varbit-uint, then per bound varbit-uint(bound·1000 + 1) when the
//!           bound is a multiple of 0.001 in 0..=33554.43, else a 0 bit + 64 raw bits
//!   sample 0: t varbit-int ‖ (int) count, zero count varbit-uint ‖ sum 64 raw bits ‖
//!             buckets varbit-int (the histogram's own deltas)
//!             (float) count, zero count, sum, buckets 64 raw bits each
//!   sample n: t delta-of-delta varbit-int ‖ (int) count, zero count and each bucket
//!             delta-of-delta varbit-int, sum XOR-coded ‖ (float) every column XOR-coded
//!             with its own leading/trailing-zero window
//! ```
//!
//! `varbit` is the bucketed code `0` | `10`+3 | `110`+6 | `1110`+9 | `11110`+12 |
//! `111110`+18 | `1111110`+25 | `11111110`+56 | `11111111`+64 bits (signed values are
//! two's complement in the width; a payload above `2^(w-1)` is negative). A sample whose
//! sum is the staleness marker carries no buckets. Decoding never panics: a stream that
//! ends early, a bad prefix or a layout larger than the chunk could hold is an error.

use exposition::histogram::{
    CounterResetHint, FloatHistogram, Histogram, Span, CUSTOM_BUCKETS_SCHEMA,
};

use crate::chunk::bstream::{BitReader, BitWriter};
use crate::storage::is_stale_nan;

/// The integer native-histogram chunk encoding byte.
pub const ENCODING_HISTOGRAM: u8 = 2;
/// The float native-histogram chunk encoding byte.
pub const ENCODING_FLOAT_HISTOGRAM: u8 = 3;

/// Why a histogram chunk does not decode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodeError(pub &'static str);

type DResult<T> = std::result::Result<T, DecodeError>;

/// The counter-reset header byte Prometheus writes for a hint.
pub fn header_byte(h: CounterResetHint) -> u8 {
    match h {
        CounterResetHint::Unknown => 0,
        CounterResetHint::CounterReset => 0b1000_0000,
        CounterResetHint::NotCounterReset => 0b0100_0000,
        CounterResetHint::Gauge => 0b1100_0000,
    }
}

/// The hint a header byte stands for (its top two bits).
pub fn header_hint(b: u8) -> CounterResetHint {
    match b >> 6 {
        0b10 => CounterResetHint::CounterReset,
        0b01 => CounterResetHint::NotCounterReset,
        0b11 => CounterResetHint::Gauge,
        _ => CounterResetHint::Unknown,
    }
}

/// The hint Prometheus's iterator gives the `i`-th sample (from 0) of a chunk.
fn sample_hint(header: CounterResetHint, i: usize) -> CounterResetHint {
    match (header, i) {
        (CounterResetHint::Gauge, _) => CounterResetHint::Gauge,
        (_, i) if i > 0 => CounterResetHint::NotCounterReset,
        (CounterResetHint::CounterReset, _) => CounterResetHint::CounterReset,
        _ => CounterResetHint::Unknown,
    }
}

// ---------------------------------------------------------------------------------------
// varbit codes

const WIDTHS: [u32; 8] = [3, 6, 9, 12, 18, 25, 56, 64];

fn fits_signed(v: i64, n: u32) -> bool {
    // -(2^(n-1) - 1) ..= 2^(n-1)
    let half = 1i64 << (n - 1);
    v > -half && v <= half
}

fn put_varbit_int(w: &mut BitWriter, v: i64) {
    if v == 0 {
        w.write_bit(false);
        return;
    }
    for (k, &n) in WIDTHS.iter().enumerate() {
        if n == 64 || fits_signed(v, n) {
            let prefix_len = (k + 2).min(8) as u32;
            let prefix = if n == 64 {
                0xff
            } else {
                (1u64 << prefix_len) - 2
            };
            w.write_bits(prefix, prefix_len);
            let mask = if n == 64 { u64::MAX } else { (1u64 << n) - 1 };
            w.write_bits(v as u64 & mask, n);
            return;
        }
    }
}

fn put_varbit_uint(w: &mut BitWriter, v: u64) {
    if v == 0 {
        w.write_bit(false);
        return;
    }
    for (k, &n) in WIDTHS.iter().enumerate() {
        if n == 64 || v < (1u64 << n) {
            let prefix_len = (k + 2).min(8) as u32;
            let prefix = if n == 64 {
                0xff
            } else {
                (1u64 << prefix_len) - 2
            };
            w.write_bits(prefix, prefix_len);
            w.write_bits(v, n);
            return;
        }
    }
}

/// The payload width a varbit prefix announces (0 for the value zero).
fn read_varbit_width(r: &mut BitReader<'_>) -> DResult<u32> {
    let mut ones = 0;
    while ones < 8 && r.read_bit() {
        ones += 1;
    }
    let width = match ones {
        0 => 0,
        k => WIDTHS[k - 1],
    };
    if r.overrun() {
        return Err(DecodeError("bit stream ends inside a number"));
    }
    Ok(width)
}

fn read_varbit_int(r: &mut BitReader<'_>) -> DResult<i64> {
    let n = read_varbit_width(r)?;
    let v = match n {
        0 => 0,
        64 => r.read_bits(64) as i64,
        n => {
            let bits = r.read_bits(n);
            if bits > (1u64 << (n - 1)) {
                (bits as i64) - (1i64 << n)
            } else {
                bits as i64
            }
        }
    };
    if r.overrun() {
        return Err(DecodeError("bit stream ends inside a number"));
    }
    Ok(v)
}

fn read_varbit_uint(r: &mut BitReader<'_>) -> DResult<u64> {
    let n = read_varbit_width(r)?;
    let v = r.read_bits(n);
    if r.overrun() {
        return Err(DecodeError("bit stream ends inside a number"));
    }
    Ok(v)
}

// ---------------------------------------------------------------------------------------
// XOR value code (the XOR chunk's), with a per-column window

#[derive(Debug, Clone, Copy)]
struct XorCol {
    value: u64,
    leading: u8,
    trailing: u8,
}

impl XorCol {
    fn new(value: u64) -> XorCol {
        XorCol {
            value,
            leading: 0xff,
            trailing: 0,
        }
    }

    fn write(&mut self, w: &mut BitWriter, new: u64) {
        let delta = new ^ self.value;
        self.value = new;
        if delta == 0 {
            w.write_bit(false);
            return;
        }
        w.write_bit(true);
        let lead = (delta.leading_zeros() as u8).min(31);
        let trail = delta.trailing_zeros() as u8;
        if self.leading != 0xff && lead >= self.leading && trail >= self.trailing {
            w.write_bit(false);
            let sig = 64 - u32::from(self.leading) - u32::from(self.trailing);
            w.write_bits(delta >> self.trailing, sig);
            return;
        }
        self.leading = lead;
        self.trailing = trail;
        w.write_bit(true);
        w.write_bits(u64::from(lead), 5);
        let sig = 64 - u32::from(lead) - u32::from(trail);
        // 64 significant bits are written as 0 (6 bits hold 0..=63).
        w.write_bits(u64::from(sig) & 0x3f, 6);
        w.write_bits(delta >> trail, sig);
    }

    fn read(&mut self, r: &mut BitReader<'_>) -> DResult<()> {
        if !r.read_bit() {
            return Ok(());
        }
        let (lead, sig) = if !r.read_bit() {
            if self.leading == 0xff {
                return Err(DecodeError("XOR value reuses a window it never set"));
            }
            (
                u32::from(self.leading),
                64 - u32::from(self.leading) - u32::from(self.trailing),
            )
        } else {
            let lead = r.read_bits(5) as u32;
            let mut sig = r.read_bits(6) as u32;
            if sig == 0 {
                sig = 64;
            }
            if lead + sig > 64 {
                return Err(DecodeError("XOR value window wider than 64 bits"));
            }
            self.leading = lead as u8;
            self.trailing = (64 - lead - sig) as u8;
            (lead, sig)
        };
        let bits = r.read_bits(sig);
        if r.overrun() {
            return Err(DecodeError("bit stream ends inside a value"));
        }
        self.value ^= bits << (64 - lead - sig);
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------
// layout

/// The bucket layout every sample of a chunk shares.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Layout {
    /// Bucket schema.
    pub schema: i32,
    /// Zero bucket width.
    pub zero_threshold: f64,
    /// Positive spans.
    pub positive_spans: Vec<Span>,
    /// Negative spans.
    pub negative_spans: Vec<Span>,
    /// Custom bounds (schema -53 only).
    pub custom_values: Vec<f64>,
}

impl Layout {
    /// The layout of an integer histogram.
    pub fn of(h: &Histogram) -> Layout {
        Layout {
            schema: h.schema,
            zero_threshold: h.zero_threshold,
            positive_spans: h.positive_spans.clone(),
            negative_spans: h.negative_spans.clone(),
            custom_values: h.custom_values.clone(),
        }
    }

    /// The layout of a float histogram.
    pub fn of_float(h: &FloatHistogram) -> Layout {
        Layout {
            schema: h.schema,
            zero_threshold: h.zero_threshold,
            positive_spans: h.positive_spans.clone(),
            negative_spans: h.negative_spans.clone(),
            custom_values: h.custom_values.clone(),
        }
    }

    /// Whether `h` has this layout (bit-exact thresholds and bounds).
    pub fn matches(&self, schema: i32, zt: f64, pos: &[Span], neg: &[Span], cv: &[f64]) -> bool {
        self.schema == schema
            && self.zero_threshold.to_bits() == zt.to_bits()
            && self.positive_spans == pos
            && self.negative_spans == neg
            && self.custom_values.len() == cv.len()
            && self
                .custom_values
                .iter()
                .zip(cv)
                .all(|(a, b)| a.to_bits() == b.to_bits())
    }

    fn buckets(spans: &[Span]) -> usize {
        spans.iter().map(|s| s.length as usize).sum()
    }

    fn write(&self, w: &mut BitWriter) {
        let zt = self.zero_threshold;
        let (frac, exp) = frexp(zt);
        if zt == 0.0 {
            w.write_bits(0, 8);
        } else if frac == 0.5 && (-242..=11).contains(&exp) {
            w.write_bits((exp + 243) as u64, 8);
        } else {
            w.write_bits(255, 8);
            w.write_bits(zt.to_bits(), 64);
        }
        put_varbit_int(w, i64::from(self.schema));
        for spans in [&self.positive_spans, &self.negative_spans] {
            put_varbit_uint(w, spans.len() as u64);
            for s in spans.iter() {
                put_varbit_uint(w, u64::from(s.length));
                put_varbit_int(w, i64::from(s.offset));
            }
        }
        if self.schema == CUSTOM_BUCKETS_SCHEMA {
            put_varbit_uint(w, self.custom_values.len() as u64);
            for &b in &self.custom_values {
                let tf = b * 1000.0;
                if (0.0..=33_554_430.0).contains(&tf) && ((tf.round()) / 1000.0) == b {
                    put_varbit_uint(w, tf.round() as u64 + 1);
                } else {
                    w.write_bit(false);
                    w.write_bits(b.to_bits(), 64);
                }
            }
        }
    }

    fn read(r: &mut BitReader<'_>, chunk_bits: usize) -> DResult<Layout> {
        let zb = r.read_bits(8);
        let zero_threshold = match zb {
            0 => 0.0,
            255 => f64::from_bits(r.read_bits(64)),
            b => ldexp_half(b as i32 - 243),
        };
        let schema = read_varbit_int(r)?;
        let schema = i32::try_from(schema).map_err(|_| DecodeError("schema out of range"))?;
        let mut sides = [Vec::new(), Vec::new()];
        for side in &mut sides {
            let n = read_varbit_uint(r)?;
            // Every span takes at least two bits: more than the chunk holds is damage.
            if n > (chunk_bits / 2) as u64 {
                return Err(DecodeError("more spans than the chunk could hold"));
            }
            for _ in 0..n {
                let length = read_varbit_uint(r)?;
                let offset = read_varbit_int(r)?;
                side.push(Span::new(
                    i32::try_from(offset).map_err(|_| DecodeError("span offset out of range"))?,
                    u32::try_from(length).map_err(|_| DecodeError("span length out of range"))?,
                ));
            }
        }
        let [positive_spans, negative_spans] = sides;
        // Every bucket takes at least one bit in the first sample.
        if Layout::buckets(&positive_spans) + Layout::buckets(&negative_spans) > chunk_bits {
            return Err(DecodeError("more buckets than the chunk could hold"));
        }
        let mut custom_values = Vec::new();
        if schema == CUSTOM_BUCKETS_SCHEMA {
            let n = read_varbit_uint(r)?;
            if n > chunk_bits as u64 {
                return Err(DecodeError("more custom bounds than the chunk could hold"));
            }
            for _ in 0..n {
                let v = read_varbit_uint(r)?;
                custom_values.push(if v == 0 {
                    f64::from_bits(r.read_bits(64))
                } else {
                    (v - 1) as f64 / 1000.0
                });
            }
        }
        if r.overrun() {
            return Err(DecodeError("bit stream ends inside the layout"));
        }
        Ok(Layout {
            schema,
            zero_threshold,
            positive_spans,
            negative_spans,
            custom_values,
        })
    }
}

/// `(frac, exp)` with `x = frac * 2^exp` and `frac` in `[0.5, 1)` (as C's `frexp`), for
/// finite non-zero normal and subnormal `x`; `(x, 0)` otherwise.
fn frexp(x: f64) -> (f64, i32) {
    if x == 0.0 || !x.is_finite() {
        return (x, 0);
    }
    let bits = x.to_bits();
    let exp = ((bits >> 52) & 0x7ff) as i32;
    if exp == 0 {
        // Subnormal: scale up first.
        let (f, e) = frexp(x * f64::from_bits(0x4350_0000_0000_0000)); // 2^54
        return (f, e - 54);
    }
    let frac = f64::from_bits((bits & !(0x7ff << 52)) | (1022 << 52));
    (frac, exp - 1022)
}

/// `0.5 * 2^exp` for `exp` in -242..=11.
fn ldexp_half(exp: i32) -> f64 {
    let mut v = 0.5f64;
    let mut e = exp;
    while e > 0 {
        v *= 2.0;
        e -= 1;
    }
    while e < 0 {
        v /= 2.0;
        e += 1;
    }
    v
}

fn start(header: CounterResetHint) -> BitWriter {
    BitWriter::from_vec(vec![0, 0, header_byte(header)])
}

fn finish(w: BitWriter, n: usize) -> Vec<u8> {
    let mut out = w.into_vec();
    let n = n.min(usize::from(u16::MAX)) as u16;
    out[..2].copy_from_slice(&n.to_be_bytes());
    out
}

/// Encodes integer histograms sharing one layout (the first sample's; callers cut chunks
/// where the layout changes) as a Prometheus chunk with counter-reset `header`. Callers
/// keep staleness markers out (they go in XOR chunks): Prometheus's reader treats a stale
/// sum specially.
pub fn encode_histograms(header: CounterResetHint, samples: &[(i64, &Histogram)]) -> Vec<u8> {
    let mut w = start(header);
    let Some((_, first)) = samples.first() else {
        return finish(w, 0);
    };
    Layout::of(first).write(&mut w);
    let nb = Layout::buckets(&first.positive_spans) + Layout::buckets(&first.negative_spans);
    let (mut t, mut t_delta) = (0i64, 0i64);
    let (mut cnt, mut cnt_delta, mut zc, mut zc_delta) = (0i64, 0i64, 0i64, 0i64);
    let mut sum = XorCol::new(0);
    let mut buckets = vec![0i64; nb];
    let mut bucket_deltas = vec![0i64; nb];
    for (i, (ts, h)) in samples.iter().enumerate() {
        let own = h
            .positive_buckets
            .iter()
            .chain(&h.negative_buckets)
            .take(nb);
        if i == 0 {
            put_varbit_int(&mut w, *ts);
            put_varbit_uint(&mut w, h.count);
            put_varbit_uint(&mut w, h.zero_count);
            w.write_bits(h.sum.to_bits(), 64);
            sum = XorCol::new(h.sum.to_bits());
            for (k, b) in own.enumerate() {
                put_varbit_int(&mut w, *b);
                buckets[k] = *b;
            }
        } else {
            let td = ts.wrapping_sub(t);
            let cd = (h.count as i64).wrapping_sub(cnt);
            let zd = (h.zero_count as i64).wrapping_sub(zc);
            put_varbit_int(&mut w, td.wrapping_sub(t_delta));
            put_varbit_int(&mut w, cd.wrapping_sub(cnt_delta));
            put_varbit_int(&mut w, zd.wrapping_sub(zc_delta));
            sum.write(&mut w, h.sum.to_bits());
            for (k, b) in own.enumerate() {
                let d = b.wrapping_sub(buckets[k]);
                put_varbit_int(&mut w, d.wrapping_sub(bucket_deltas[k]));
                bucket_deltas[k] = d;
                buckets[k] = *b;
            }
            (t_delta, cnt_delta, zc_delta) = (td, cd, zd);
        }
        t = *ts;
        cnt = h.count as i64;
        zc = h.zero_count as i64;
    }
    finish(w, samples.len())
}

/// Encodes float histograms sharing one layout as a Prometheus chunk (see
/// [`encode_histograms`]).
pub fn encode_float_histograms(
    header: CounterResetHint,
    samples: &[(i64, &FloatHistogram)],
) -> Vec<u8> {
    let mut w = start(header);
    let Some((_, first)) = samples.first() else {
        return finish(w, 0);
    };
    Layout::of_float(first).write(&mut w);
    let nb = Layout::buckets(&first.positive_spans) + Layout::buckets(&first.negative_spans);
    let (mut t, mut t_delta) = (0i64, 0i64);
    let mut cols: Vec<XorCol> = Vec::new();
    for (i, (ts, h)) in samples.iter().enumerate() {
        let vals = [h.count, h.zero_count, h.sum]
            .into_iter()
            .chain(
                h.positive_buckets
                    .iter()
                    .chain(&h.negative_buckets)
                    .take(nb)
                    .copied(),
            )
            .map(f64::to_bits);
        if i == 0 {
            put_varbit_int(&mut w, *ts);
            for v in vals {
                w.write_bits(v, 64);
                cols.push(XorCol::new(v));
            }
            cols.resize(3 + nb, XorCol::new(0));
        } else {
            let td = ts.wrapping_sub(t);
            put_varbit_int(&mut w, td.wrapping_sub(t_delta));
            for (k, v) in vals.enumerate() {
                cols[k].write(&mut w, v);
            }
            t_delta = td;
        }
        t = *ts;
    }
    finish(w, samples.len())
}

/// One decoded sample of a histogram chunk.
#[derive(Debug, Clone, PartialEq)]
pub enum Decoded {
    /// An integer histogram.
    Int(i64, Histogram),
    /// A float histogram.
    Float(i64, FloatHistogram),
    /// A staleness marker (a sample whose sum is the stale NaN; it has no buckets).
    Stale(i64),
}

impl Decoded {
    /// The sample's timestamp.
    pub fn t(&self) -> i64 {
        match self {
            Decoded::Int(t, _) | Decoded::Float(t, _) | Decoded::Stale(t) => *t,
        }
    }
}

fn split(flat: &[i64], np: usize) -> (Vec<i64>, Vec<i64>) {
    (flat[..np].to_vec(), flat[np..].to_vec())
}

/// Decodes a Prometheus histogram chunk of encoding `enc` (2 or 3).
pub fn decode(enc: u8, chunk: &[u8]) -> DResult<Vec<Decoded>> {
    if chunk.len() < 3 {
        return Err(DecodeError("histogram chunk shorter than its header"));
    }
    let n = usize::from(u16::from_be_bytes([chunk[0], chunk[1]]));
    let header = header_hint(chunk[2]);
    let body = &chunk[3..];
    let bits = body.len() * 8;
    if n == 0 {
        return Ok(Vec::new());
    }
    if n > bits {
        return Err(DecodeError("more samples than the chunk could hold"));
    }
    let mut r = BitReader::new(body);
    let layout = Layout::read(&mut r, bits)?;
    let np = Layout::buckets(&layout.positive_spans);
    let nb = np + Layout::buckets(&layout.negative_spans);
    let mut out = Vec::with_capacity(n);
    let (mut t, mut t_delta) = (0i64, 0i64);
    let mut prev_t = i64::MIN;
    match enc {
        ENCODING_HISTOGRAM => {
            let (mut cnt, mut cnt_delta, mut zc, mut zc_delta) = (0i64, 0i64, 0i64, 0i64);
            let mut sum = XorCol::new(0);
            let mut buckets = vec![0i64; nb];
            let mut bucket_deltas = vec![0i64; nb];
            for i in 0..n {
                let stale;
                if i == 0 {
                    t = read_varbit_int(&mut r)?;
                    cnt = read_varbit_uint(&mut r)? as i64;
                    zc = read_varbit_uint(&mut r)? as i64;
                    sum = XorCol::new(r.read_bits(64));
                    stale = is_stale_nan(f64::from_bits(sum.value));
                    if !stale {
                        for b in buckets.iter_mut() {
                            *b = read_varbit_int(&mut r)?;
                        }
                    }
                } else {
                    t_delta = t_delta.wrapping_add(read_varbit_int(&mut r)?);
                    t = t.wrapping_add(t_delta);
                    cnt_delta = cnt_delta.wrapping_add(read_varbit_int(&mut r)?);
                    zc_delta = zc_delta.wrapping_add(read_varbit_int(&mut r)?);
                    cnt = cnt.wrapping_add(cnt_delta);
                    zc = zc.wrapping_add(zc_delta);
                    sum.read(&mut r)?;
                    stale = is_stale_nan(f64::from_bits(sum.value));
                    if !stale {
                        for k in 0..nb {
                            bucket_deltas[k] =
                                bucket_deltas[k].wrapping_add(read_varbit_int(&mut r)?);
                            buckets[k] = buckets[k].wrapping_add(bucket_deltas[k]);
                        }
                    }
                }
                if r.overrun() {
                    return Err(DecodeError("bit stream ends inside a sample"));
                }
                if t <= prev_t {
                    return Err(DecodeError("timestamps not increasing"));
                }
                prev_t = t;
                if stale {
                    out.push(Decoded::Stale(t));
                    continue;
                }
                let (pb, nbk) = split(&buckets, np);
                out.push(Decoded::Int(
                    t,
                    Histogram {
                        counter_reset_hint: sample_hint(header, i),
                        schema: layout.schema,
                        zero_threshold: layout.zero_threshold,
                        zero_count: zc as u64,
                        count: cnt as u64,
                        sum: f64::from_bits(sum.value),
                        positive_spans: layout.positive_spans.clone(),
                        negative_spans: layout.negative_spans.clone(),
                        positive_buckets: pb,
                        negative_buckets: nbk,
                        custom_values: layout.custom_values.clone(),
                    },
                ));
            }
        }
        ENCODING_FLOAT_HISTOGRAM => {
            let mut cols = vec![XorCol::new(0); 3 + nb];
            for i in 0..n {
                if i == 0 {
                    t = read_varbit_int(&mut r)?;
                    for c in cols.iter_mut().take(3) {
                        *c = XorCol::new(r.read_bits(64));
                    }
                    if !is_stale_nan(f64::from_bits(cols[2].value)) {
                        for c in cols.iter_mut().skip(3) {
                            *c = XorCol::new(r.read_bits(64));
                        }
                    }
                } else {
                    t_delta = t_delta.wrapping_add(read_varbit_int(&mut r)?);
                    t = t.wrapping_add(t_delta);
                    for c in cols.iter_mut().take(3) {
                        c.read(&mut r)?;
                    }
                    if !is_stale_nan(f64::from_bits(cols[2].value)) {
                        for c in cols.iter_mut().skip(3) {
                            c.read(&mut r)?;
                        }
                    }
                }
                if r.overrun() {
                    return Err(DecodeError("bit stream ends inside a sample"));
                }
                if t <= prev_t {
                    return Err(DecodeError("timestamps not increasing"));
                }
                prev_t = t;
                let f = |c: &XorCol| f64::from_bits(c.value);
                if is_stale_nan(f(&cols[2])) {
                    out.push(Decoded::Stale(t));
                    continue;
                }
                let vals: Vec<f64> = cols[3..].iter().map(f).collect();
                out.push(Decoded::Float(
                    t,
                    FloatHistogram {
                        counter_reset_hint: sample_hint(header, i),
                        schema: layout.schema,
                        zero_threshold: layout.zero_threshold,
                        zero_count: f(&cols[1]),
                        count: f(&cols[0]),
                        sum: f(&cols[2]),
                        positive_spans: layout.positive_spans.clone(),
                        negative_spans: layout.negative_spans.clone(),
                        positive_buckets: vals[..np].to_vec(),
                        negative_buckets: vals[np..].to_vec(),
                        custom_values: layout.custom_values.clone(),
                    },
                ));
            }
        }
        _ => return Err(DecodeError("not a histogram chunk encoding")),
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bits_of(f: impl FnOnce(&mut BitWriter)) -> Vec<u8> {
        let mut w = BitWriter::from_vec(Vec::new());
        f(&mut w);
        w.into_vec()
    }

    #[test]
    fn varbit_int_widths_and_edges() {
        // 4 fits 3 bits (range -3..=4), 5 does not; -3 fits, -4 does not.
        assert_eq!(bits_of(|w| put_varbit_int(w, 4)), vec![0b1010_0000]);
        assert_eq!(bits_of(|w| put_varbit_int(w, -3)), vec![0b1010_1000]);
        assert_eq!(
            bits_of(|w| put_varbit_int(w, 5)),
            vec![0b1100_0010, 0b1000_0000]
        );
        for v in [
            0,
            1,
            -1,
            4,
            5,
            -4,
            32,
            -31,
            33,
            256,
            2048,
            131_072,
            16_777_216,
            1 << 40,
            i64::MAX,
            i64::MIN,
            -(1 << 55) + 1,
        ] {
            let b = bits_of(|w| put_varbit_int(w, v));
            let mut r = BitReader::new(&b);
            assert_eq!(read_varbit_int(&mut r), Ok(v), "{v}");
        }
    }

    #[test]
    fn varbit_uint_round_trips() {
        assert_eq!(bits_of(|w| put_varbit_uint(w, 7)), vec![0b1011_1000]);
        for v in [
            0,
            7,
            8,
            63,
            64,
            4095,
            262_143,
            33_554_431,
            1 << 56,
            u64::MAX,
        ] {
            let b = bits_of(|w| put_varbit_uint(w, v));
            let mut r = BitReader::new(&b);
            assert_eq!(read_varbit_uint(&mut r), Ok(v), "{v}");
        }
    }

    #[test]
    fn zero_thresholds_use_one_byte_for_powers_of_two() {
        let l = |zt| Layout {
            zero_threshold: zt,
            ..Layout::default()
        };
        // 2^-128 = 0.5 * 2^-127 → byte 116 (Prometheus's default threshold).
        let b = bits_of(|w| l(2f64.powi(-128)).write(w));
        assert_eq!(b[0], 116);
        assert_eq!(bits_of(|w| l(0.0).write(w))[0], 0);
        let b = bits_of(|w| l(0.001).write(w));
        assert_eq!(b[0], 255);
        for zt in [0.0, 2f64.powi(-128), 0.001, 1024.0, 2f64.powi(-243)] {
            let b = bits_of(|w| l(zt).write(w));
            let mut r = BitReader::new(&b);
            assert_eq!(
                Layout::read(&mut r, b.len() * 8).unwrap().zero_threshold,
                zt
            );
        }
    }

    #[test]
    fn custom_bounds_round_trip_both_codes() {
        let l = Layout {
            schema: CUSTOM_BUCKETS_SCHEMA,
            positive_spans: vec![Span::new(0, 3)],
            custom_values: vec![0.005, 1.0, 2.5, -1.0, 0.1234567, 1e9],
            ..Layout::default()
        };
        let b = bits_of(|w| l.write(w));
        let mut r = BitReader::new(&b);
        assert_eq!(Layout::read(&mut r, b.len() * 8).unwrap(), l);
    }

    #[test]
    fn headers_are_prometheus_bits() {
        assert_eq!(header_byte(CounterResetHint::CounterReset), 0x80);
        assert_eq!(header_byte(CounterResetHint::NotCounterReset), 0x40);
        assert_eq!(header_byte(CounterResetHint::Gauge), 0xc0);
        for h in [
            CounterResetHint::Unknown,
            CounterResetHint::CounterReset,
            CounterResetHint::NotCounterReset,
            CounterResetHint::Gauge,
        ] {
            assert_eq!(header_hint(header_byte(h)), h);
        }
    }

    #[test]
    fn frexp_matches_the_definition() {
        assert_eq!(frexp(1.0), (0.5, 1));
        assert_eq!(frexp(0.75), (0.75, 0));
        // 2^-1070 is subnormal (bit 4 of the mantissa).
        assert_eq!(frexp(f64::from_bits(16)), (0.5, -1069));
        assert_eq!(ldexp_half(1), 1.0);
        assert_eq!(ldexp_half(-127), 2f64.powi(-128));
    }

    #[test]
    fn truncated_and_garbage_chunks_are_errors() {
        let h = Histogram {
            count: 3,
            sum: 1.5,
            schema: 0,
            positive_spans: vec![Span::new(0, 2)],
            positive_buckets: vec![1, 1],
            ..Histogram::default()
        };
        let c = encode_histograms(CounterResetHint::Unknown, &[(1, &h), (2, &h), (3, &h)]);
        assert_eq!(decode(ENCODING_HISTOGRAM, &c).unwrap().len(), 3);
        for n in 0..c.len() {
            // Never panics; short chunks are errors (a shorter header-only prefix may
            // claim 0 samples only if the count bytes say so).
            let _ = decode(ENCODING_HISTOGRAM, &c[..n]);
            let _ = decode(ENCODING_FLOAT_HISTOGRAM, &c[..n]);
        }
        assert!(decode(ENCODING_HISTOGRAM, &c[..c.len() - 2]).is_err());
        let mut huge = vec![0xff, 0xff, 0];
        huge.extend([0xff; 40]);
        assert!(decode(ENCODING_HISTOGRAM, &huge).is_err());
        assert!(decode(ENCODING_FLOAT_HISTOGRAM, &huge).is_err());
        assert!(decode(7, &c).is_err());
    }
}
