//! The keys of the vectors: one or more of every key type, each with its typed description,
//! its canonical bytes (as docs/MAPPING.md states them, written out here) and its hashes
//! through the crate's own `Key` implementations.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use loadring::hash::DEFAULT_SEED;
use loadring::route::{ClientKey, FlowKey, Protocol};
use loadring::{Key, KeyHasher, Prehashed};
use serde::Serialize;
use xxhash_rust::xxh3::xxh3_64_with_seed;

/// The secret of the `siphash13` vectors: the bytes 00 … 0f, the key of SipHash's own test
/// vectors.
pub const SIP_KEY: [u8; 16] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15];

/// A key of one of the types the crate hashes.
pub enum TestKey {
    Str(String),
    Bytes(Vec<u8>),
    Integer(Int),
    Ipv4(Ipv4Addr),
    Ipv6(Ipv6Addr),
    Socket(SocketAddr),
    /// A client address, and an optional subnet (`v4_bits`, `v6_bits`).
    Client(IpAddr, Option<(u8, u8)>),
    /// Protocol number, source, destination, symmetric.
    Flow(u8, SocketAddr, SocketAddr, bool),
    /// A hash, and what it stands for (a point of a server, say).
    Prehashed(u64, Option<String>),
    PrehashedMixed(u64),
}

macro_rules! ints {
    ($($variant:ident($t:ty as $wire:ty) = $name:literal),* $(,)?) => {
        /// An integer key of each width.
        pub enum Int { $($variant($t)),* }

        impl Int {
            fn name(&self) -> &'static str {
                match self { $(Int::$variant(_) => $name),* }
            }

            fn value(&self) -> String {
                match self { $(Int::$variant(x) => x.to_string()),* }
            }

            /// Little-endian bytes of the value's own width (`usize`/`isize` as 64 bits).
            fn bytes(&self) -> Vec<u8> {
                match self { $(Int::$variant(x) => (*x as $wire).to_le_bytes().to_vec()),* }
            }

            fn hash(&self, hasher: &KeyHasher) -> u64 {
                match self { $(Int::$variant(x) => hasher.hash(x)),* }
            }
        }
    };
}

ints!(
    U8(u8 as u8) = "u8",
    U16(u16 as u16) = "u16",
    U32(u32 as u32) = "u32",
    U64(u64 as u64) = "u64",
    U128(u128 as u128) = "u128",
    Usize(usize as u64) = "usize",
    I8(i8 as i8) = "i8",
    I16(i16 as i16) = "i16",
    I32(i32 as i32) = "i32",
    I64(i64 as i64) = "i64",
    I128(i128 as i128) = "i128",
    Isize(isize as i64) = "isize",
);

/// A key as the vectors file writes it; fields that a type lacks are left out.
#[derive(Serialize)]
pub struct KeyEntry {
    #[serde(rename = "type")]
    pub kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subnet: Option<[u8; 2]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub protocol: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub destination: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub symmetric: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    pub bytes: Option<String>,
    pub xxh3: String,
    pub siphash13: String,
    #[cfg(feature = "ketama")]
    pub md5_ketama: String,
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn hex64(x: u64) -> String {
    format!("{x:016x}")
}

/// The canonical form of an address: IPv4-mapped IPv6 is IPv4.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

fn octets(ip: IpAddr) -> Vec<u8> {
    match ip {
        IpAddr::V4(a) => a.octets().to_vec(),
        IpAddr::V6(a) => a.octets().to_vec(),
    }
}

/// An address in 16 bytes: IPv4 in its mapped form.
fn wide(ip: IpAddr) -> Vec<u8> {
    match ip {
        IpAddr::V4(a) => a.to_ipv6_mapped().octets().to_vec(),
        IpAddr::V6(a) => a.octets().to_vec(),
    }
}

fn masked(ip: IpAddr, (v4_bits, v6_bits): (u8, u8)) -> Vec<u8> {
    let bits = if ip.is_ipv4() { v4_bits } else { v6_bits };
    let mut bytes = octets(ip);
    for (i, b) in bytes.iter_mut().enumerate() {
        let keep = usize::from(bits).saturating_sub(8 * i).min(8);
        *b &= !(0xffu8.checked_shr(keep as u32).unwrap_or(0));
    }
    bytes
}

impl TestKey {
    /// The canonical bytes of docs/MAPPING.md; `None` for a prehashed key.
    pub fn bytes(&self) -> Option<Vec<u8>> {
        Some(match self {
            TestKey::Str(s) => s.as_bytes().to_vec(),
            TestKey::Bytes(b) => b.clone(),
            TestKey::Integer(x) => x.bytes(),
            TestKey::Ipv4(a) => a.octets().to_vec(),
            TestKey::Ipv6(a) => a.octets().to_vec(),
            TestKey::Socket(a) => [octets(a.ip()), a.port().to_be_bytes().to_vec()].concat(),
            TestKey::Client(ip, subnet) => masked(canonical(*ip), subnet.unwrap_or((32, 128))),
            TestKey::Flow(protocol, from, to, symmetric) => {
                let end = |a: &SocketAddr| (canonical(a.ip()), a.port());
                let (mut a, mut b) = (end(from), end(to));
                if *symmetric && (wide(a.0), a.1) > (wide(b.0), b.1) {
                    (a, b) = (b, a);
                }
                let v4 = a.0.is_ipv4() && b.0.is_ipv4();
                let mut out = vec![*protocol, if v4 { 4 } else { 6 }];
                for (ip, port) in [a, b] {
                    out.extend(if v4 { octets(ip) } else { wide(ip) });
                    out.extend(port.to_be_bytes());
                }
                out
            }
            TestKey::Prehashed(..) | TestKey::PrehashedMixed(_) => return None,
        })
    }

    /// The key's hash under `hasher`, through the crate's `Key` implementation of its type.
    pub fn hash(&self, hasher: &KeyHasher) -> u64 {
        match self {
            TestKey::Str(s) => hasher.hash(s.as_str()),
            TestKey::Bytes(b) => hasher.hash(b.as_slice()),
            TestKey::Integer(x) => x.hash(hasher),
            TestKey::Ipv4(a) => hasher.hash(a),
            TestKey::Ipv6(a) => hasher.hash(a),
            TestKey::Socket(a) => hasher.hash(a),
            TestKey::Client(ip, subnet) => {
                let key = ClientKey::new(*ip);
                let key = match subnet {
                    Some((v4, v6)) => key.subnet(*v4, *v6).expect("valid prefix"),
                    None => key,
                };
                key.hash_with(hasher)
            }
            TestKey::Flow(protocol, from, to, symmetric) => {
                let protocol = match protocol {
                    6 => Protocol::Tcp,
                    17 => Protocol::Udp,
                    n => Protocol::Other(*n),
                };
                let key = FlowKey::new(protocol, *from, *to);
                let key = if *symmetric { key.symmetric() } else { key };
                key.hash_with(hasher)
            }
            TestKey::Prehashed(x, _) => Prehashed(*x).hash_with(hasher),
            TestKey::PrehashedMixed(x) => Prehashed::mixed(*x).hash_with(hasher),
        }
    }

    /// The hashers whose values the vectors give for every key.
    fn hashers() -> Vec<KeyHasher> {
        vec![
            KeyHasher::Xxh3,
            KeyHasher::siphash13(SIP_KEY),
            #[cfg(feature = "ketama")]
            KeyHasher::Md5Ketama,
        ]
    }

    /// The key's entry in the vectors file. Panics if the crate hashes the key otherwise
    /// than its canonical bytes: the bytes in the file are the ones the crate hashes.
    pub fn entry(&self) -> KeyEntry {
        let bytes = self.bytes();
        for hasher in Self::hashers() {
            let expected = match &bytes {
                Some(b) => hasher.hash_bytes(b),
                None => self.hash(&KeyHasher::Xxh3),
            };
            assert_eq!(
                self.hash(&hasher),
                expected,
                "a {} key does not hash as its canonical bytes {:?} under {hasher:?}",
                self.kind(),
                bytes.as_deref().map(hex),
            );
        }
        let mut entry = KeyEntry {
            kind: self.kind(),
            value: None,
            subnet: None,
            protocol: None,
            source: None,
            destination: None,
            symmetric: None,
            note: None,
            bytes: bytes.as_deref().map(hex),
            xxh3: hex64(self.hash(&KeyHasher::Xxh3)),
            siphash13: hex64(self.hash(&KeyHasher::siphash13(SIP_KEY))),
            #[cfg(feature = "ketama")]
            md5_ketama: hex64(self.hash(&KeyHasher::Md5Ketama)),
        };
        match self {
            TestKey::Str(s) => entry.value = Some(s.clone()),
            TestKey::Bytes(b) => entry.value = Some(hex(b)),
            TestKey::Integer(x) => entry.value = Some(x.value()),
            TestKey::Ipv4(a) => entry.value = Some(a.to_string()),
            TestKey::Ipv6(a) => entry.value = Some(a.to_string()),
            TestKey::Socket(a) => entry.value = Some(a.to_string()),
            TestKey::Client(ip, subnet) => {
                entry.value = Some(ip.to_string());
                entry.subnet = subnet.map(|(v4, v6)| [v4, v6]);
            }
            TestKey::Flow(protocol, from, to, symmetric) => {
                entry.protocol = Some(*protocol);
                entry.source = Some(from.to_string());
                entry.destination = Some(to.to_string());
                entry.symmetric = Some(*symmetric);
            }
            TestKey::Prehashed(x, note) => {
                entry.value = Some(hex64(*x));
                entry.note = note.clone();
            }
            TestKey::PrehashedMixed(x) => entry.value = Some(hex64(*x)),
        }
        entry
    }

    /// The type's name in the vectors file.
    pub fn kind(&self) -> &'static str {
        match self {
            TestKey::Str(_) => "str",
            TestKey::Bytes(_) => "bytes",
            TestKey::Integer(x) => x.name(),
            TestKey::Ipv4(_) => "ipv4",
            TestKey::Ipv6(_) => "ipv6",
            TestKey::Socket(_) => "socket_addr",
            TestKey::Client(..) => "client",
            TestKey::Flow(..) => "flow",
            TestKey::Prehashed(..) => "prehashed",
            TestKey::PrehashedMixed(_) => "prehashed_mixed",
        }
    }
}

/// `n` characters of a fixed text: strings of every length class of XXH3 (0, 1–3, 4–8,
/// 9–16, 17–128, 129–240, above 240) and of SipHash's 8-byte blocks.
fn text(n: usize) -> TestKey {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789-";
    TestKey::Str(
        (0..n)
            .map(|i| char::from(ALPHABET[i % ALPHABET.len()]))
            .collect(),
    )
}

fn ip(s: &str) -> IpAddr {
    s.parse().expect("an IP address")
}

fn sock(s: &str) -> SocketAddr {
    s.parse().expect("a socket address")
}

/// Every key of the vectors, in the file's order.
pub fn all() -> Vec<TestKey> {
    use Int::*;
    use TestKey::*;
    let mut keys: Vec<TestKey> = [0, 1, 3, 4, 8, 9, 16, 17, 128, 129, 240, 241, 1024]
        .into_iter()
        .map(text)
        .collect();
    keys.extend([
        Str("user-42".into()),
        Str("ключ".into()),
        Str("🦀 crab".into()),
        Bytes(vec![0x00]),
        Bytes(vec![0x00, 0xff]),
        Bytes(vec![0xff, 0xfe, 0xfd]),
        Bytes(
            0x123e_4567_e89b_12d3_a456_4266_1417_4000u128
                .to_be_bytes()
                .to_vec(),
        ),
        Bytes(vec![0x80; 40]),
        Bytes((0..300).map(|i| (i % 256) as u8).collect()),
        Integer(U8(0)),
        Integer(U8(255)),
        Integer(U16(7)),
        Integer(U32(7)),
        Integer(U32(u32::MAX)),
        Integer(U64(0)),
        Integer(U64(42)),
        Integer(U64(u64::MAX)),
        Integer(U128(0x0102_0304_0506_0708_090a_0b0c_0d0e_0f10)),
        Integer(Usize(7)),
        Integer(I8(-1)),
        Integer(I16(-3)),
        Integer(I32(-4)),
        Integer(I64(-2)),
        Integer(I64(i64::MIN)),
        Integer(I128(-1)),
        Integer(Isize(-5)),
        Ipv4("192.0.2.7".parse().expect("IPv4")),
        Ipv4(Ipv4Addr::UNSPECIFIED),
        Ipv6("2001:db8::1".parse().expect("IPv6")),
        Ipv6(Ipv6Addr::LOCALHOST),
        Ipv6("::ffff:192.0.2.7".parse().expect("IPv6")),
        Socket(sock("10.0.0.1:8080")),
        Socket(sock("[2001:db8::1]:443")),
        Socket(sock("[::ffff:192.0.2.7]:51000")),
        Client(ip("192.0.2.7"), None),
        Client(ip("::ffff:192.0.2.7"), None),
        Client(ip("2001:db8::1"), None),
        Client(ip("192.0.2.7"), Some((24, 64))),
        Client(ip("2001:db8:1:2:3:4:5:6"), Some((24, 64))),
        Client(ip("::ffff:198.51.100.77"), Some((13, 48))),
        Client(ip("192.0.2.7"), Some((0, 0))),
        Client(ip("2001:db8::1"), Some((32, 128))),
        Flow(6, sock("192.0.2.7:51000"), sock("198.51.100.1:443"), false),
        Flow(6, sock("192.0.2.7:51000"), sock("198.51.100.1:443"), true),
        Flow(6, sock("198.51.100.1:443"), sock("192.0.2.7:51000"), true),
        Flow(
            17,
            sock("[2001:db8::1]:40000"),
            sock("[2001:db8::2]:53"),
            false,
        ),
        Flow(6, sock("[2001:db8::1]:40000"), sock("192.0.2.7:80"), false),
        Flow(6, sock("[2001:db8::1]:40000"), sock("192.0.2.7:80"), true),
        Flow(
            6,
            sock("[::ffff:192.0.2.7]:51000"),
            sock("[::ffff:198.51.100.1]:443"),
            false,
        ),
        Flow(47, sock("10.0.0.1:0"), sock("10.0.0.2:0"), false),
        Flow(6, sock("10.0.0.1:9000"), sock("10.0.0.1:80"), true),
        Prehashed(0, None),
        Prehashed(u64::MAX, None),
        Prehashed(1 << 63, None),
        PrehashedMixed(42),
    ]);
    keys.extend(on_points());
    keys
}

/// Keys exactly on a ring point, and just past one: a key at a point's value goes to that
/// point; one past it, to the next.
fn on_points() -> Vec<TestKey> {
    let point = |id: &str, i: u32| {
        xxh3_64_with_seed(&[id.as_bytes(), &i.to_le_bytes()].concat(), DEFAULT_SEED)
    };
    let on = |id: &str, i: u32| {
        let note = format!("point {i} of {id} on a ring");
        TestKey::Prehashed(point(id, i), Some(note))
    };
    let ketama = |p: u32, note: &str| {
        TestKey::Prehashed(u64::from(p) << 32 | u64::from(p), Some(note.into()))
    };
    #[cfg(feature = "ketama")]
    {
        assert_eq!(loadring::ketama_hash(b"10.0.1.1:11211-0"), KETAMA_POINT);
        assert_eq!(loadring::ketama_hash(b"cache-224:11211-35"), KETAMA_TIE);
        assert_eq!(loadring::ketama_hash(b"cache-738:11211-9"), KETAMA_TIE);
    }
    vec![
        on("10.0.0.1:8080", 0),
        TestKey::Prehashed(
            point("10.0.0.1:8080", 0).wrapping_add(1),
            Some("one past point 0 of 10.0.0.1:8080 on a ring".into()),
        ),
        on("node-42", 0),
        on("cache-a", 3),
        ketama(
            KETAMA_POINT,
            "the first point of 10.0.1.1:11211 on a ketama ring",
        ),
        ketama(
            KETAMA_TIE,
            "a ketama point of both cache-224:11211 (digest 35) and cache-738:11211 (digest 9)",
        ),
    ]
}

/// MD5("10.0.1.1:11211-0"), its first 4 bytes little-endian.
const KETAMA_POINT: u32 = 0x90ed_8713;
/// MD5("cache-224:11211-35") and MD5("cache-738:11211-9") begin alike: a point that two
/// servers share, found by a search over names.
const KETAMA_TIE: u32 = 0x39de_3ae6;
