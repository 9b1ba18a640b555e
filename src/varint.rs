//! LEB128 varints and zigzag signs: the packed lists of a two-pass run (pass 1's marks, the placed
//! positions) store small differences in a byte or two.

/// A signed number as an unsigned one, small for small numbers of either sign.
pub fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

/// The signed number [`zigzag`] made `v` from.
pub fn unzigzag(v: u64) -> i64 {
    ((v >> 1) as i64) ^ -((v & 1) as i64)
}

/// Append `v` as LEB128: seven bits a byte, low first, the high bit set on all but the last.
pub fn put(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// The LEB128 number at `*at`, moving past it; `None` at the end or on a number over 64 bits.
pub fn take(bytes: &[u8], at: &mut usize) -> Option<u64> {
    let mut v = 0u64;
    for shift in (0..64).step_by(7) {
        let b = *bytes.get(*at)?;
        *at += 1;
        v |= u64::from(b & 0x7f).checked_shl(shift)?;
        if b & 0x80 == 0 {
            return Some(v);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_round_trip_at_their_edges() {
        for v in [0, 1, 127, 128, 16_383, 16_384, u64::MAX / 2, u64::MAX] {
            let mut out = Vec::new();
            put(&mut out, v);
            let mut at = 0;
            assert_eq!(take(&out, &mut at), Some(v));
            assert_eq!(at, out.len());
        }
        for v in [0i64, -1, 1, i64::MIN, i64::MAX] {
            assert_eq!(unzigzag(zigzag(v)), v);
        }
        assert_eq!(zigzag(-1), 1);
        assert_eq!(zigzag(1), 2);
        // Cut short, or longer than 64 bits: no number, no panic.
        assert_eq!(take(&[0x80], &mut 0), None);
        assert_eq!(take(&[0xff; 11], &mut 0), None);
    }
}
