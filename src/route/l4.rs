//! Layer-4 keys: a client's address, a subnet, a connection's five-tuple.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use crate::{Error, Key, KeyHasher};

/// An address as the keys see it: an IPv4-mapped IPv6 address (`::ffff:a.b.c.d`, as
/// dual-stack listeners report IPv4 clients) is the IPv4 address.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(v6),
        },
        v4 => v4,
    }
}

/// The client's address alone, without its port: the affinity key that keeps a client on one
/// server across its connections (a `SocketAddr` key would hash the ephemeral port, so every
/// connection would land somewhere else).
///
/// Its canonical bytes are the address's octets, 4 for IPv4 (IPv4-mapped IPv6 included) and
/// 16 for IPv6, so a `ClientKey` hashes as the bare [`Ipv4Addr`] or [`Ipv6Addr`] does. With a
/// [`subnet`](ClientKey::subnet) prefix the bits past the prefix are zero: every client of
/// the subnet has one key.
/// Stated language-neutrally, with test vectors, in `docs/MAPPING.md` (mapping v1).
///
/// ```
/// use std::net::SocketAddr;
/// use loadring::route::ClientKey;
/// use loadring::{BalancerExt, HashRing};
///
/// let ring = HashRing::new(["10.0.0.1:80", "10.0.0.2:80", "10.0.0.3:80"])?;
/// let first: SocketAddr = "192.0.2.7:51000".parse().unwrap();
/// let again: SocketAddr = "[::ffff:192.0.2.7]:62001".parse().unwrap(); // dual-stack listener
/// assert_eq!(
///     ring.pick(&ClientKey::of(first))?.id(),
///     ring.pick(&ClientKey::of(again))?.id(),
/// );
/// # Ok::<(), loadring::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ClientKey {
    ip: IpAddr,
}

impl ClientKey {
    /// The key of a client address.
    pub fn new(ip: impl Into<IpAddr>) -> Self {
        ClientKey {
            ip: canonical(ip.into()),
        }
    }

    /// The key of a connection's peer address: its IP, without the port.
    pub fn of(peer: SocketAddr) -> Self {
        ClientKey::new(peer.ip())
    }

    /// Keys the client's whole subnet: its first `v4_bits` bits for an IPv4 client, the first
    /// `v6_bits` for an IPv6 one (say /24 and /64).
    ///
    /// Errors: [`Error::InvalidOption`] for more than 32 (IPv4) or 128 (IPv6) bits.
    pub fn subnet(self, v4_bits: u8, v6_bits: u8) -> Result<Self, Error> {
        if v4_bits > 32 {
            return Err(Error::option(
                "v4_bits",
                format!("at most 32, not {v4_bits}"),
            ));
        }
        if v6_bits > 128 {
            return Err(Error::option(
                "v6_bits",
                format!("at most 128, not {v6_bits}"),
            ));
        }
        let ip = match self.ip {
            IpAddr::V4(a) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(v4_bits)).unwrap_or(0);
                IpAddr::V4(Ipv4Addr::from(u32::from(a) & mask))
            }
            IpAddr::V6(a) => {
                let mask = u128::MAX.checked_shl(128 - u32::from(v6_bits)).unwrap_or(0);
                IpAddr::V6(Ipv6Addr::from(u128::from(a) & mask))
            }
        };
        Ok(ClientKey { ip })
    }

    /// The address the key stands for (canonical; masked to its subnet).
    pub fn ip(&self) -> IpAddr {
        self.ip
    }
}

impl Key for ClientKey {
    #[inline]
    fn hash_with(&self, hasher: &KeyHasher) -> u64 {
        self.ip.hash_with(hasher)
    }
}

/// The transport protocol of a [`FlowKey`], by its IANA number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Protocol {
    /// TCP (6).
    Tcp,
    /// UDP (17).
    Udp,
    /// Any other protocol, by number.
    Other(u8),
}

impl Protocol {
    /// The IANA protocol number.
    pub fn number(self) -> u8 {
        match self {
            Protocol::Tcp => 6,
            Protocol::Udp => 17,
            Protocol::Other(n) => n,
        }
    }
}

/// A connection's five-tuple (source and destination address and port, protocol), for
/// spreading flows rather than clients; [`symmetric`](FlowKey::symmetric) gives both
/// directions of a flow one key. Hashing never looks at payload.
///
/// Canonical bytes: the protocol number; a family byte, 4 when both addresses are IPv4
/// (IPv4-mapped IPv6 counts as IPv4) and 6 otherwise; then source address, source port,
/// destination address and destination port, each address in 4 bytes (family 4) or 16
/// (family 6, an IPv4 address in its mapped form), ports big-endian. A symmetric key puts
/// the lesser endpoint (by those address bytes, then port) first.
/// Stated language-neutrally, with test vectors, in `docs/MAPPING.md` (mapping v1).
///
/// ```
/// use loadring::route::{FlowKey, Protocol};
/// use loadring::{Key, KeyHasher};
///
/// let client = "192.0.2.7:51000".parse().unwrap();
/// let server = "198.51.100.1:443".parse().unwrap();
/// let out = FlowKey::new(Protocol::Tcp, client, server).symmetric();
/// let back = FlowKey::new(Protocol::Tcp, server, client).symmetric();
/// let h = KeyHasher::default();
/// assert_eq!(h.hash(&out), h.hash(&back));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FlowKey {
    protocol: Protocol,
    source: SocketAddr,
    destination: SocketAddr,
}

impl FlowKey {
    /// The five-tuple of a flow from `source` to `destination`.
    pub fn new(protocol: Protocol, source: SocketAddr, destination: SocketAddr) -> Self {
        let canon = |a: SocketAddr| SocketAddr::new(canonical(a.ip()), a.port());
        FlowKey {
            protocol,
            source: canon(source),
            destination: canon(destination),
        }
    }

    /// The same key for both directions of the flow: the endpoints in canonical order.
    pub fn symmetric(self) -> Self {
        let (a, b) = (self.source, self.destination);
        if endpoint_bytes(a, true) <= endpoint_bytes(b, true) {
            self
        } else {
            FlowKey {
                source: b,
                destination: a,
                ..self
            }
        }
    }

    /// The protocol.
    pub fn protocol(&self) -> Protocol {
        self.protocol
    }

    /// The source endpoint (canonical).
    pub fn source(&self) -> SocketAddr {
        self.source
    }

    /// The destination endpoint (canonical).
    pub fn destination(&self) -> SocketAddr {
        self.destination
    }
}

/// An endpoint's address (in 16 bytes when `wide`, else 4) and port, for ordering and encoding.
fn endpoint_bytes(a: SocketAddr, wide: bool) -> ([u8; 16], usize, u16) {
    let mut out = [0u8; 16];
    let len = match a.ip() {
        IpAddr::V4(v4) if !wide => {
            out[..4].copy_from_slice(&v4.octets());
            4
        }
        IpAddr::V4(v4) => {
            out.copy_from_slice(&v4.to_ipv6_mapped().octets());
            16
        }
        IpAddr::V6(v6) => {
            out.copy_from_slice(&v6.octets());
            16
        }
    };
    (out, len, a.port())
}

impl Key for FlowKey {
    fn hash_with(&self, hasher: &KeyHasher) -> u64 {
        let wide = !(self.source.is_ipv4() && self.destination.is_ipv4());
        let mut buf = [0u8; 2 + 2 * (16 + 2)];
        buf[0] = self.protocol.number();
        buf[1] = if wide { 6 } else { 4 };
        let mut n = 2;
        for endpoint in [self.source, self.destination] {
            let (ip, len, port) = endpoint_bytes(endpoint, wide);
            buf[n..n + len].copy_from_slice(&ip[..len]);
            buf[n + len..n + len + 2].copy_from_slice(&port.to_be_bytes());
            n += len + 2;
        }
        hasher.hash_bytes(&buf[..n])
    }
}
