"""The key hashes and helper functions of docs/MAPPING.md ("Conventions", "Key hashes").

XXH3-64 comes from the `xxhash` package; SipHash is written out here, since Python's own
SipHash is neither exposed nor the 1-3 variant.
"""

import hashlib

import xxhash

MASK = (1 << 64) - 1

# The default key hash's seed: the ASCII bytes of "loadring" read big-endian.
SEED = int.from_bytes(b"loadring", "big")


def fast_range(h, n):
    """The high 64 bits of the 128-bit product h * n: a value in 0..n."""
    return (h * n) >> 64


def mix64(z):
    """The SplitMix64 finaliser."""
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
    return z ^ (z >> 31)


def rehash(h, attempt):
    return mix64((h + attempt * 0x9E3779B97F4A7C15) & MASK)


def xxh3(data, seed=SEED):
    """XXH3-64 with a seed (the default key hash's, unless given)."""
    return xxhash.xxh3_64_intdigest(data, seed)


def _rotl(x, b):
    return ((x << b) | (x >> (64 - b))) & MASK


def _sipround(v0, v1, v2, v3):
    v0 = (v0 + v1) & MASK
    v1 = _rotl(v1, 13) ^ v0
    v0 = _rotl(v0, 32)
    v2 = (v2 + v3) & MASK
    v3 = _rotl(v3, 16) ^ v2
    v0 = (v0 + v3) & MASK
    v3 = _rotl(v3, 21) ^ v0
    v2 = (v2 + v1) & MASK
    v1 = _rotl(v1, 17) ^ v2
    v2 = _rotl(v2, 32)
    return v0, v1, v2, v3


def siphash(key, data, c_rounds=1, d_rounds=3):
    """SipHash-c-d of `data` with a 16-byte `key`; SipHash-1-3 unless told otherwise."""
    k0 = int.from_bytes(key[:8], "little")
    k1 = int.from_bytes(key[8:16], "little")
    v = (
        k0 ^ 0x736F6D6570736575,
        k1 ^ 0x646F72616E646F6D,
        k0 ^ 0x6C7967656E657261,
        k1 ^ 0x7465646279746573,
    )
    # The message in 8-byte little-endian words; the last one holds the leftover bytes and,
    # in its top byte, the length modulo 256.
    tail = len(data) - len(data) % 8
    words = [int.from_bytes(data[i : i + 8], "little") for i in range(0, tail, 8)]
    words.append(int.from_bytes(data[tail:], "little") | ((len(data) & 0xFF) << 56))
    for m in words:
        v = (v[0], v[1], v[2], v[3] ^ m)
        for _ in range(c_rounds):
            v = _sipround(*v)
        v = (v[0] ^ m, v[1], v[2], v[3])
    v = (v[0], v[1], v[2] ^ 0xFF, v[3])
    for _ in range(d_rounds):
        v = _sipround(*v)
    return v[0] ^ v[1] ^ v[2] ^ v[3]


def md5_ketama(data):
    """MD5's first 4 bytes as a little-endian 32-bit p, in both halves of 64 bits."""
    p = int.from_bytes(hashlib.md5(data).digest()[:4], "little")
    return (p << 32) | p


def self_test():
    """SipHash's own published vector (SipHash-2-4, key and message 00 01 02 …), so that a
    mistake in the rounds shows here before it shows as a wrong server."""
    key = bytes(range(16))
    assert siphash(key, bytes(range(15)), 2, 4) == 0xA129CA6149BE45E5, "SipHash-2-4 vector"
