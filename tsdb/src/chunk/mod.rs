//! Chunks: how a run of samples is stored compactly, and how it is read back.
//!
//! ```text
//! samples ──► XorAppender ──► bytes (header + bit stream) ──► XorIter (next / seek / at)
//! ```
//!
//! [`xor`] is the Gorilla encoding (delta-of-delta timestamps, XOR floats) over the bit
//! streams of [`bstream`]. Iterators implement [`SampleIterator`], the shape every sample
//! source in the crate shares. Native histograms have their own chunks: [`histogram`]
//! (integer counts) and [`float_histogram`]; every chunk is tagged with its [`Encoding`].

pub mod bstream;
mod clip;
pub mod float_histogram;
pub mod histogram;
pub mod xor;

pub(crate) use clip::ClippedCursor;
pub use float_histogram::{FloatHistogramAppender, FloatHistogramIter};
pub use histogram::{HistogramAppender, HistogramIter};
pub use xor::{validate, ChunkMeta, XorAppender, XorIter};

/// How a chunk's bytes are encoded (the numbers match Prometheus's chunk encodings).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[repr(u8)]
pub enum Encoding {
    /// Float samples, Gorilla XOR ([`xor`]).
    #[default]
    Xor = 1,
    /// Integer native histograms ([`histogram`]).
    Histogram = 2,
    /// Float native histograms ([`float_histogram`]).
    FloatHistogram = 3,
}

impl Encoding {
    /// The encoding with this byte value, if any.
    pub fn from_u8(b: u8) -> Option<Encoding> {
        match b {
            1 => Some(Encoding::Xor),
            2 => Some(Encoding::Histogram),
            3 => Some(Encoding::FloatHistogram),
            _ => None,
        }
    }

    /// Decodes and checks a chunk of this encoding from untrusted bytes.
    pub fn validate(self, chunk: &[u8]) -> crate::error::Result<ChunkMeta> {
        match self {
            Encoding::Xor => xor::validate(chunk),
            Encoding::Histogram => histogram::validate(chunk),
            Encoding::FloatHistogram => float_histogram::validate(chunk),
        }
    }
}

/// A forward iterator over samples of every type (floats and native histograms), in the
/// shape of Prometheus's `chunkenc.Iterator`: `next`/`seek` say which type the current
/// sample has and the matching `at*` method reads it (the others return meaningless
/// values). Implemented by the head's and the blocks' mixed iterators.
pub trait MixedIterator {
    /// Moves to the next sample; [`ValueType::None`] at the end.
    fn next(&mut self) -> ValueType;
    /// Moves to the first sample at or after `t`, never backwards.
    fn seek(&mut self, t: i64) -> ValueType;
    /// Timestamp of the current sample.
    fn at_t(&self) -> i64;
    /// The current float sample.
    fn at(&self) -> (i64, f64);
    /// Writes the current integer histogram into `out`; returns its timestamp.
    fn at_histogram(&self, out: &mut exposition::histogram::Histogram) -> i64;
    /// Writes the current histogram (either kind) into `out` as a float histogram.
    fn at_float_histogram(&self, out: &mut exposition::histogram::FloatHistogram) -> i64;
}

/// What kind of sample an iterator over mixed chunks is at (Prometheus's `ValueType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ValueType {
    /// No sample: the iterator is exhausted.
    None,
    /// A float sample.
    Float,
    /// An integer native histogram.
    Histogram,
    /// A float native histogram.
    FloatHistogram,
}

/// Default target number of samples per chunk (as in Prometheus).
pub const SAMPLES_PER_CHUNK: usize = 120;

/// A forward iterator over samples in increasing time order.
///
/// After construction the iterator sits before the first sample: call [`next`] or
/// [`seek`] before [`at`]. Checksums are verified when bytes are loaded, so iteration
/// itself cannot fail.
///
/// [`next`]: SampleIterator::next
/// [`seek`]: SampleIterator::seek
/// [`at`]: SampleIterator::at
pub trait SampleIterator {
    /// Moves to the next sample; `false` when there is none.
    fn next(&mut self) -> bool;
    /// Moves to the first sample with timestamp `>= t`, never backwards: when the current
    /// sample already qualifies it stays. `false` when there is none.
    fn seek(&mut self, t: i64) -> bool;
    /// The current sample `(timestamp ms, value)`. Only meaningful after `next` or `seek`
    /// returned `true`.
    fn at(&self) -> (i64, f64);
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Prometheus's staleness marker.
    const STALE: u64 = 0x7ff0_0000_0000_0002;

    fn encode(samples: &[(i64, f64)]) -> Box<[u8]> {
        let mut a = XorAppender::default();
        for &(t, v) in samples {
            a.append(t, v);
        }
        a.finish()
    }

    fn decode(bytes: &[u8]) -> Vec<(i64, u64)> {
        let mut it = XorIter::new(bytes);
        let mut out = Vec::new();
        while it.next() {
            let (t, v) = it.at();
            out.push((t, v.to_bits()));
        }
        out
    }

    #[test]
    fn special_floats_keep_their_bits() {
        let vals = [
            f64::from_bits(STALE),
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            -0.0,
            0.0,
            f64::from_bits(STALE),
            f64::MIN_POSITIVE,
            f64::MAX,
            1.5,
        ];
        let samples: Vec<(i64, f64)> = vals
            .iter()
            .enumerate()
            .map(|(i, &v)| (1000 * i as i64, v))
            .collect();
        let got = decode(&encode(&samples));
        let want: Vec<(i64, u64)> = samples.iter().map(|&(t, v)| (t, v.to_bits())).collect();
        assert_eq!(got, want);
        assert_ne!(
            got[0].1,
            f64::NAN.to_bits(),
            "stale marker must differ from NaN"
        );
    }

    #[test]
    fn all_timestamp_buckets_round_trip() {
        let mut t = -5_000_000_000i64;
        let mut samples = vec![];
        for d in [
            1,
            15_000,
            15_000,
            15_001,
            14_000,
            30_000,
            200_000,
            1_000_000,
            5,
            1 << 40,
            1,
            7,
        ] {
            t += d;
            samples.push((t, t as f64));
        }
        let got = decode(&encode(&samples));
        assert_eq!(got.len(), samples.len());
        for (g, s) in got.iter().zip(&samples) {
            assert_eq!(g.0, s.0);
        }
    }

    #[test]
    fn seek_moves_forward_only() {
        let samples: Vec<(i64, f64)> = (0..100).map(|i| (i * 10, i as f64)).collect();
        let bytes = encode(&samples);
        let mut it = XorIter::new(&bytes);
        assert!(it.seek(55));
        assert_eq!(it.at(), (60, 6.0));
        assert!(it.seek(10), "seek backwards stays put");
        assert_eq!(it.at().0, 60);
        assert!(it.seek(990));
        assert_eq!(it.at().0, 990);
        assert!(!it.seek(991));
        assert!(!it.next());
    }

    #[test]
    fn reset_reuses_iterator() {
        let a = encode(&[(1, 1.0), (2, 2.0)]);
        let b = encode(&[(7, 7.0)]);
        let mut it = XorIter::new(&a);
        assert!(it.next());
        it.reset(&b);
        assert!(it.next());
        assert_eq!(it.at(), (7, 7.0));
        assert!(!it.next());
    }

    #[test]
    fn validate_rejects_garbage() {
        assert!(validate(&[]).is_err());
        assert!(validate(&[0, 0]).is_err());
        assert!(validate(&[0, 200, 1]).is_err());
        let ok = encode(&[(1, 1.0), (5, 2.0), (9, 3.0)]);
        let m = validate(&ok).unwrap();
        assert_eq!((m.num_samples, m.min_t, m.max_t), (3, 1, 9));
    }

    #[test]
    fn a_truncated_chunk_stops_where_its_bytes_end() {
        let samples: Vec<(i64, f64)> = (0..50)
            .map(|i| (i * 1000 + i * i, i as f64 * 1.1))
            .collect();
        let bytes = encode(&samples);
        let half = &bytes[..bytes.len() / 2];
        let got = decode(half);
        assert!(!got.is_empty() && got.len() < 50, "{}", got.len());
        assert!(validate(half).is_err());
    }

    fn sorted_series() -> impl Strategy<Value = Vec<(i64, u64)>> {
        (
            any::<i64>(),
            prop::collection::vec(
                (
                    prop_oneof![1i64..100, 1i64..100_000, 1i64..i64::MAX / 512],
                    prop_oneof![
                        any::<u64>(),
                        Just(STALE),
                        Just(f64::NAN.to_bits()),
                        Just((-0.0f64).to_bits()),
                        (0u32..1000).prop_map(|x| f64::from(x).to_bits()),
                    ],
                ),
                1..300,
            ),
        )
            .prop_map(|(start, steps)| {
                let mut t = start / 4;
                steps
                    .into_iter()
                    .map(|(d, v)| {
                        t = t.saturating_add(d);
                        (t, v)
                    })
                    .collect::<Vec<_>>()
            })
            .prop_filter("strictly increasing", |s| {
                s.windows(2).all(|w| w[0].0 < w[1].0)
            })
    }

    proptest! {
        #[test]
        fn any_sorted_series_round_trips(s in sorted_series()) {
            let samples: Vec<(i64, f64)> = s.iter().map(|&(t, v)| (t, f64::from_bits(v))).collect();
            let bytes = encode(&samples);
            prop_assert_eq!(decode(&bytes), s.clone());
            let m = validate(&bytes).unwrap();
            prop_assert_eq!(m.num_samples, s.len());
        }

        #[test]
        fn decoding_garbage_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
            let got = decode(&bytes);
            if validate(&bytes).is_ok() {
                // Whatever validates re-encodes to the same samples.
                let samples: Vec<(i64, f64)> =
                    got.iter().map(|&(t, v)| (t, f64::from_bits(v))).collect();
                prop_assert_eq!(decode(&encode(&samples)), got);
            }
        }
    }
}
