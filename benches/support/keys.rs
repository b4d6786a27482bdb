//! The request ids of the cold regime, shared by this crate's pick bench and bench-peers, so
//! both measure the same keys.

/// `n` distinct 20-byte request ids (`n` a power of two).
pub fn keys(n: usize) -> Vec<[u8; 20]> {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    (0..n as u64)
        .map(|i| {
            let mut k = *b"req-0000000000000000";
            let v = i.wrapping_mul(0x9e37_79b9);
            for (d, byte) in k[4..].iter_mut().enumerate() {
                *byte = HEX[(v >> (60 - 4 * d) & 15) as usize];
            }
            k
        })
        .collect()
}
