//! Compact encoding of a chunk of float points.
//!
//! Logging speed is bound by the bytes the store writes (the WAL, then the checkpoint), so a
//! chunk is stored as three columns, each in the form that makes typical training data small:
//! - steps: whole numbers (the usual 0, 1, 2, …) as zigzag varint deltas — one byte a point;
//!   other steps as raw f64;
//! - timestamps (Unix ms): zigzag varint deltas — one byte a point while logging is fast;
//! - values: the XOR with the previous value, without its zero bytes at both ends (one header
//!   byte, then the bytes in between): bit-exact, so NaN and ±Inf survive.

/// A float point as the store keeps it: its step is known (given, or assigned on apply).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Stored {
    pub step: f64,
    pub value: f64,
    pub timestamp_ms: i64,
}

const FORMAT: u8 = 1;
const STEPS_RAW: u8 = 0;
const STEPS_INT: u8 = 1;
/// Whole-number steps beyond this are stored raw (f64 is exact up to 2^53).
const MAX_INT_STEP: f64 = 9_007_199_254_740_992.0;

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

fn unzigzag(v: u64) -> i64 {
    ((v >> 1) as i64) ^ -((v & 1) as i64)
}

/// Encodes points into `out` (appended).
pub(crate) fn encode(points: &[Stored], out: &mut Vec<u8>) {
    out.reserve(points.len() * 10 + 2);
    out.push(FORMAT);
    let int_steps = points
        .iter()
        .all(|p| p.step.fract() == 0.0 && p.step.abs() <= MAX_INT_STEP);
    if int_steps {
        out.push(STEPS_INT);
        let mut prev = 0i64;
        for p in points {
            let s = p.step as i64;
            put_varint(out, zigzag(s.wrapping_sub(prev)));
            prev = s;
        }
    } else {
        out.push(STEPS_RAW);
        for p in points {
            out.extend_from_slice(&p.step.to_le_bytes());
        }
    }
    let mut prev = 0i64;
    for p in points {
        put_varint(out, zigzag(p.timestamp_ms.wrapping_sub(prev)));
        prev = p.timestamp_ms;
    }
    let mut prev = 0u64;
    for p in points {
        let bits = p.value.to_bits();
        let x = bits ^ prev;
        prev = bits;
        if x == 0 {
            out.push(0);
            continue;
        }
        let lead = (x.leading_zeros() / 8) as usize;
        let trail = (x.trailing_zeros() / 8) as usize;
        out.push(1 + (lead * 8 + trail) as u8);
        let bytes = x.to_le_bytes();
        out.extend_from_slice(&bytes[trail..8 - lead]);
    }
}

/// Reads a chunk back; `None` when the bytes are not a valid chunk of `n` points.
pub(crate) struct Decoder<'a> {
    data: &'a [u8],
    at: usize,
}

impl<'a> Decoder<'a> {
    fn byte(&mut self) -> Option<u8> {
        let b = *self.data.get(self.at)?;
        self.at += 1;
        Some(b)
    }

    fn varint(&mut self) -> Option<u64> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            v |= u64::from(b & 0x7f) << shift;
            if b < 0x80 {
                return Some(v);
            }
        }
        None
    }

    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let s = self.data.get(self.at..self.at.checked_add(n)?)?;
        self.at += n;
        Some(s)
    }
}

/// Decodes a chunk of `n` points into the three columns (appended).
pub(crate) fn decode(
    data: &[u8],
    n: usize,
    steps: &mut Vec<f64>,
    values: &mut Vec<f64>,
    timestamps: &mut Vec<i64>,
) -> Option<()> {
    let mut d = Decoder { data, at: 0 };
    if d.byte()? != FORMAT {
        return None;
    }
    match d.byte()? {
        STEPS_INT => {
            let mut prev = 0i64;
            for _ in 0..n {
                prev = prev.wrapping_add(unzigzag(d.varint()?));
                steps.push(prev as f64);
            }
        }
        STEPS_RAW => {
            for _ in 0..n {
                let b: [u8; 8] = d.take(8)?.try_into().ok()?;
                steps.push(f64::from_le_bytes(b));
            }
        }
        _ => return None,
    }
    let mut prev = 0i64;
    for _ in 0..n {
        prev = prev.wrapping_add(unzigzag(d.varint()?));
        timestamps.push(prev);
    }
    let mut prev = 0u64;
    for _ in 0..n {
        let h = d.byte()?;
        if h != 0 {
            let code = usize::from(h - 1);
            let (lead, trail) = (code / 8, code % 8);
            if lead + trail >= 8 {
                return None;
            }
            let mut bytes = [0u8; 8];
            bytes[trail..8 - lead].copy_from_slice(d.take(8 - lead - trail)?);
            prev ^= u64::from_le_bytes(bytes);
        }
        values.push(f64::from_bits(prev));
    }
    (d.at == data.len()).then_some(())
}

/// Decodes a chunk into points.
pub(crate) fn decode_points(data: &[u8], n: usize) -> Option<Vec<Stored>> {
    let (mut s, mut v, mut t) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    decode(data, n, &mut s, &mut v, &mut t)?;
    Some(
        s.into_iter()
            .zip(v)
            .zip(t)
            .map(|((step, value), timestamp_ms)| Stored {
                step,
                value,
                timestamp_ms,
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(points: &[Stored]) -> usize {
        let mut buf = Vec::new();
        encode(points, &mut buf);
        let back = decode_points(&buf, points.len()).expect("decodes");
        assert_eq!(back.len(), points.len());
        for (a, b) in points.iter().zip(&back) {
            assert_eq!(a.step.to_bits(), b.step.to_bits());
            assert_eq!(a.value.to_bits(), b.value.to_bits());
            assert_eq!(a.timestamp_ms, b.timestamp_ms);
        }
        buf.len()
    }

    #[test]
    fn typical_training_data_is_small() {
        let pts: Vec<Stored> = (0..4096)
            .map(|i| Stored {
                step: i as f64,
                value: 1.0 / (1.0 + i as f64),
                timestamp_ms: 1_700_000_000_000 + i / 3,
            })
            .collect();
        let size = round_trip(&pts);
        assert!(size < 4096 * 11, "{size} bytes");
    }

    #[test]
    fn every_kind_of_value_survives() {
        let specials = [
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            -0.0,
            0.0,
            f64::MIN_POSITIVE,
            f64::MAX,
            1e-300,
        ];
        let pts: Vec<Stored> = specials
            .iter()
            .enumerate()
            .map(|(i, v)| Stored {
                step: i as f64 * 0.5 - 3.25,
                value: *v,
                timestamp_ms: i64::MIN / 2 + i as i64 * 1_000_000_007,
            })
            .collect();
        round_trip(&pts);
        let big = [
            Stored {
                step: 1e300,
                value: 1.0,
                timestamp_ms: i64::MAX,
            },
            Stored {
                step: 2e300,
                value: 1.0,
                timestamp_ms: i64::MIN,
            },
        ];
        round_trip(&big);
        round_trip(&[]);
    }

    #[test]
    fn garbage_is_refused_not_panicked_on() {
        let mut buf = Vec::new();
        encode(
            &[Stored {
                step: 0.0,
                value: 0.5,
                timestamp_ms: 5,
            }],
            &mut buf,
        );
        assert!(decode_points(&buf, 2).is_none());
        for cut in 0..buf.len() {
            assert!(decode_points(&buf[..cut], 1).is_none());
        }
        assert!(decode_points(&[9, 9, 9], 1).is_none());
        assert!(decode_points(&[FORMAT, STEPS_INT, 0, 0, 0xff], 1).is_none());
    }
}
