//! Key hashing: how a request id becomes the 64-bit hash that hash strategies map to a server.
//!
//! Every hash strategy sees a key only through its 64-bit hash, computed by the balancer's
//! [`KeyHasher`] over the key's canonical bytes. Both the bytes and the hash functions are a
//! compatibility promise, pinned by golden-vector tests:
//!
//! | key type | canonical bytes |
//! |---|---|
//! | `str`, `String` | the UTF-8 bytes |
//! | `[u8]`, `Vec<u8>`, `[u8; N]` (e.g. a 16-byte UUID) | the bytes as they are |
//! | `u8` … `u128`, `i8` … `i128` | little-endian bytes of the value's own width |
//! | `usize`, `isize` | little-endian bytes of the value as `u64` / `i64`, on every platform |
//! | [`Ipv4Addr`] / [`Ipv6Addr`] / [`IpAddr`] | the 4 or 16 octets in network order |
//! | [`SocketAddr`] | the address's octets, then the port as 2 bytes big-endian |
//! | [`Prehashed`] | none: its `u64` is the hash, taken as it is |
//!
//! A string and a byte slice with the same bytes hash alike. `docs/MAPPING.md` (mapping v1)
//! states the bytes, the hashes and every strategy's mapping language-neutrally, with vectors.

use std::fmt;
use std::hash::Hasher as _;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use siphasher::sip::SipHasher13;
use xxhash_rust::xxh3::xxh3_64_with_seed;

/// The seed of the default XXH3-64 key hash: the ASCII bytes of `"loadring"` read as a
/// big-endian `u64`.
pub const DEFAULT_SEED: u64 = 0x6c6f_6164_7269_6e67;

/// The hash function a balancer applies to keys.
///
/// The default, [`KeyHasher::Xxh3`], is XXH3-64 with [`DEFAULT_SEED`]: fast and stable
/// everywhere. When request ids come from people you do not trust, they could craft ids that
/// all land on one server; choose [`KeyHasher::siphash13`] with a secret 128-bit key that all
/// of your balancers share, and nobody without the key can aim at a server.
///
/// ```
/// use loadring::KeyHasher;
///
/// let default = KeyHasher::default();
/// assert_eq!(default.hash("req-1"), default.hash(b"req-1".as_slice()));
///
/// let keyed = KeyHasher::siphash13(*b"sixteen byte key");
/// assert_ne!(keyed.hash("req-1"), default.hash("req-1"));
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum KeyHasher {
    /// XXH3-64 with [`DEFAULT_SEED`].
    #[default]
    Xxh3,
    /// SipHash-1-3 keyed with a secret 128-bit key (its first 8 bytes, little-endian, are
    /// `k0`, the last 8 `k1`).
    SipHash13 {
        /// The secret key.
        key: [u8; 16],
    },
    /// MD5, its first 4 bytes read as a little-endian `u32` `h`: the key hash of libketama
    /// and of libmemcached's ketama mode (feature `ketama`; see
    /// [`KetamaRing`](crate::KetamaRing), which reads the low 32 bits). The 64-bit value is
    /// `h` in both halves (`h << 32 | h`), so strategies that read the top bits spread keys
    /// too. Slow and 32 bits of entropy: for compatibility only.
    #[cfg(feature = "ketama")]
    Md5Ketama,
}

impl KeyHasher {
    /// SipHash-1-3 with the given secret key.
    pub const fn siphash13(key: [u8; 16]) -> Self {
        KeyHasher::SipHash13 { key }
    }

    /// Hashes raw bytes.
    #[inline]
    pub fn hash_bytes(&self, bytes: &[u8]) -> u64 {
        // The default stays small enough to inline into every pick; the others are calls.
        match self {
            KeyHasher::Xxh3 => xxh3_64_with_seed(bytes, DEFAULT_SEED),
            _ => self.hash_bytes_keyed(bytes),
        }
    }

    #[inline(never)]
    fn hash_bytes_keyed(&self, bytes: &[u8]) -> u64 {
        match self {
            KeyHasher::Xxh3 => xxh3_64_with_seed(bytes, DEFAULT_SEED),
            KeyHasher::SipHash13 { key } => {
                let mut h = SipHasher13::new_with_key(key);
                h.write(bytes);
                h.finish()
            }
            #[cfg(feature = "ketama")]
            KeyHasher::Md5Ketama => {
                let h = u64::from(crate::ketama_hash(bytes));
                h << 32 | h
            }
        }
    }

    /// Hashes a key through its canonical bytes (see the [module docs](self)).
    #[inline]
    pub fn hash<K: Key + ?Sized>(&self, key: &K) -> u64 {
        key.hash_with(self)
    }
}

impl fmt::Debug for KeyHasher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyHasher::Xxh3 => f.write_str("Xxh3"),
            // The key is a secret: never print it.
            KeyHasher::SipHash13 { .. } => f.write_str("SipHash13 { key: <secret> }"),
            #[cfg(feature = "ketama")]
            KeyHasher::Md5Ketama => f.write_str("Md5Ketama"),
        }
    }
}

/// A request id that can be hashed: anything with stable canonical bytes.
///
/// Implement it for your own id types by hashing their bytes:
///
/// ```
/// use loadring::{Key, KeyHasher};
///
/// struct UserId(u64);
///
/// impl Key for UserId {
///     fn hash_with(&self, hasher: &KeyHasher) -> u64 {
///         self.0.hash_with(hasher)
///     }
/// }
/// assert_eq!(KeyHasher::default().hash(&UserId(7)), KeyHasher::default().hash(&7u64));
/// ```
pub trait Key {
    /// The key's 64-bit hash under `hasher`.
    fn hash_with(&self, hasher: &KeyHasher) -> u64;
}

/// A key whose 64-bit hash the caller already holds; balancers use the value as it is.
///
/// The value must be spread over all 64 bits, as XXH3, SipHash or the top of a SHA are:
/// strategies map the **high** bits onto servers, so a narrow hash (a CRC32, a Java
/// `hashCode`, anything below 2³²) sends every key to the first server. Wrap such a value
/// with [`Prehashed::mixed`], which spreads it with the SplitMix64 finaliser (a bijection, so
/// distinct values stay distinct).
///
/// ```
/// use loadring::{Key, KeyHasher, Prehashed};
///
/// assert_eq!(KeyHasher::default().hash(&Prehashed(42)), 42);
/// let crc32: u32 = 0xcbf4_3926;
/// assert!(KeyHasher::default().hash(&Prehashed::mixed(u64::from(crc32))) > u64::from(u32::MAX));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Prehashed(pub u64);

impl Prehashed {
    /// A prehashed key from a narrow or uneven hash (below 2³², a CRC, a `hashCode`), spread
    /// over 64 bits by the SplitMix64 finaliser.
    pub fn mixed(hash: u64) -> Self {
        Prehashed(mix64(hash))
    }
}

impl Key for Prehashed {
    #[inline]
    fn hash_with(&self, _: &KeyHasher) -> u64 {
        self.0
    }
}

impl<K: Key + ?Sized> Key for &K {
    #[inline]
    fn hash_with(&self, hasher: &KeyHasher) -> u64 {
        (**self).hash_with(hasher)
    }
}

impl Key for [u8] {
    #[inline]
    fn hash_with(&self, hasher: &KeyHasher) -> u64 {
        hasher.hash_bytes(self)
    }
}

impl<const N: usize> Key for [u8; N] {
    #[inline]
    fn hash_with(&self, hasher: &KeyHasher) -> u64 {
        hasher.hash_bytes(self)
    }
}

impl Key for Vec<u8> {
    #[inline]
    fn hash_with(&self, hasher: &KeyHasher) -> u64 {
        hasher.hash_bytes(self)
    }
}

impl Key for str {
    #[inline]
    fn hash_with(&self, hasher: &KeyHasher) -> u64 {
        hasher.hash_bytes(self.as_bytes())
    }
}

impl Key for String {
    #[inline]
    fn hash_with(&self, hasher: &KeyHasher) -> u64 {
        hasher.hash_bytes(self.as_bytes())
    }
}

macro_rules! int_keys {
    ($($t:ty => $as:ty),* $(,)?) => {$(
        impl Key for $t {
            #[inline]
            fn hash_with(&self, hasher: &KeyHasher) -> u64 {
                hasher.hash_bytes(&(*self as $as).to_le_bytes())
            }
        }
    )*};
}

int_keys!(
    u8 => u8, u16 => u16, u32 => u32, u64 => u64, u128 => u128, usize => u64,
    i8 => i8, i16 => i16, i32 => i32, i64 => i64, i128 => i128, isize => i64,
);

impl Key for Ipv4Addr {
    #[inline]
    fn hash_with(&self, hasher: &KeyHasher) -> u64 {
        hasher.hash_bytes(&self.octets())
    }
}

impl Key for Ipv6Addr {
    #[inline]
    fn hash_with(&self, hasher: &KeyHasher) -> u64 {
        hasher.hash_bytes(&self.octets())
    }
}

impl Key for IpAddr {
    #[inline]
    fn hash_with(&self, hasher: &KeyHasher) -> u64 {
        match self {
            IpAddr::V4(a) => a.hash_with(hasher),
            IpAddr::V6(a) => a.hash_with(hasher),
        }
    }
}

impl Key for SocketAddr {
    #[inline]
    fn hash_with(&self, hasher: &KeyHasher) -> u64 {
        let mut buf = [0u8; 18];
        let n = match self.ip() {
            IpAddr::V4(a) => {
                buf[..4].copy_from_slice(&a.octets());
                4
            }
            IpAddr::V6(a) => {
                buf[..16].copy_from_slice(&a.octets());
                16
            }
        };
        buf[n..n + 2].copy_from_slice(&self.port().to_be_bytes());
        hasher.hash_bytes(&buf[..n + 2])
    }
}

/// Maps a 64-bit hash onto `0..n` by multiply-shift (Lemire's fast range): the high 64 bits
/// of `hash * n`. Uniform hashes give uniform buckets; cheaper than `%`.
#[inline]
pub(crate) fn fast_range(hash: u64, n: u64) -> u64 {
    ((u128::from(hash) * u128::from(n)) >> 64) as u64
}

/// The SplitMix64 finaliser: a bijective mix of 64 bits, used to derive further hashes from one.
#[inline]
pub(crate) fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The `attempt`-th rehash of a key's hash (attempt 1, 2, …), for strategies that probe
/// for another server when the first is unhealthy: `mix64(hash + attempt * 0x9e3779b97f4a7c15)`.
#[inline]
pub(crate) fn rehash(hash: u64, attempt: u64) -> u64 {
    mix64(hash.wrapping_add(attempt.wrapping_mul(0x9e37_79b9_7f4a_7c15)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fast_range_stays_in_range() {
        for n in [1u64, 2, 3, 7, 1000, u64::MAX] {
            for h in [0, 1, u64::MAX / 2, u64::MAX] {
                assert!(fast_range(h, n) < n);
            }
        }
        assert_eq!(fast_range(u64::MAX, 10), 9);
        assert_eq!(fast_range(0, 10), 0);
    }

    #[test]
    fn canonical_bytes() {
        let h = KeyHasher::default();
        assert_eq!(h.hash(&7u32), h.hash(&[7u8, 0, 0, 0]));
        assert_eq!(h.hash(&7usize), h.hash(&7u64));
        assert_eq!(h.hash("ab"), h.hash(&vec![b'a', b'b']));
        assert_eq!(h.hash(&String::from("ab")), h.hash("ab"));
        let sa: SocketAddr = "10.0.0.1:8080".parse().unwrap();
        assert_eq!(h.hash(&sa), h.hash(&[10u8, 0, 0, 1, 0x1f, 0x90]));
        let v6: SocketAddr = "[::1]:1".parse().unwrap();
        let mut b = [0u8; 18];
        b[15] = 1;
        b[17] = 1;
        assert_eq!(h.hash(&v6), h.hash(&b));
        let ip: IpAddr = "10.0.0.1".parse().unwrap();
        assert_eq!(h.hash(&ip), h.hash(&[10u8, 0, 0, 1]));
        assert_eq!(h.hash(""), h.hash(&[0u8; 0]));
    }

    #[test]
    fn wide_and_signed_integers_and_bare_addresses_use_all_their_bytes() {
        let h = KeyHasher::default();
        let wide = 0x0102_0304_0506_0708_090a_0b0c_0d0e_0f10u128;
        assert_eq!(h.hash(&wide), h.hash(&wide.to_le_bytes()));
        assert_ne!(
            h.hash(&wide),
            h.hash(&(wide as u64)),
            "no truncation to 64 bits"
        );
        assert_eq!(h.hash(&-1i128), h.hash(&[0xffu8; 16]));
        assert_eq!(h.hash(&-2i64), h.hash(&(-2i64).to_le_bytes()));
        assert_eq!(h.hash(&-1i8), h.hash(&[0xffu8]));
        assert_eq!(h.hash(&-3i16), h.hash(&(-3i16).to_le_bytes()));
        assert_eq!(h.hash(&-4i32), h.hash(&(-4i32).to_le_bytes()));
        assert_eq!(h.hash(&-5isize), h.hash(&(-5i64).to_le_bytes()));
        assert_eq!(h.hash(&7u16), h.hash(&[7u8, 0]));
        let v6: Ipv6Addr = "2001:db8::1".parse().unwrap();
        assert_eq!(h.hash(&v6), h.hash(&v6.octets()));
        assert_eq!(h.hash(&IpAddr::V6(v6)), h.hash(&v6.octets()));
        let v4: Ipv4Addr = "192.0.2.7".parse().unwrap();
        assert_eq!(h.hash(&v4), h.hash(&[192u8, 0, 2, 7]));
    }

    #[test]
    fn debug_hides_the_secret_key() {
        let k = KeyHasher::siphash13(*b"0123456789abcdef");
        assert_eq!(format!("{k:?}"), "SipHash13 { key: <secret> }");
    }

    #[test]
    fn rehash_differs_per_attempt() {
        assert_ne!(rehash(5, 1), rehash(5, 2));
        assert_ne!(rehash(5, 1), rehash(6, 1));
    }
}
