//! Sticky sessions: a token that pins a user to a server while that server can serve.

use std::fmt;
use std::hash::Hasher;

use siphasher::sip128::{Hasher128, SipHasher24};

use crate::{Balancer, BalancerExt, Key, PickError, Server};

/// What the MAC covers before the server id, so that a token's MAC never equals another use
/// of the same secret.
const CONTEXT: &[u8] = b"loadring sticky v1\0";

/// The longest server id a token names, in bytes.
const MAX_ID: usize = 1024;

/// The longest token read (longer ones are not parsed at all).
const MAX_TOKEN: usize = 2 * MAX_ID + 1 + 32;

/// Sticky sessions: a token (for a cookie or a header) that keeps a user on one server while
/// that server is healthy and not draining.
///
/// A token is the server's id in hex, a dot, and a SipHash-2-4 MAC (128 bits, hex) of the id
/// under the service's 16-byte secret: never an index, so it survives changes of membership
/// and order. A token that is forged, from another secret, malformed, or names a server that
/// left or cannot serve, falls back to a normal pick by the request's key (a user id, a
/// client address) and comes with a fresh token to set.
///
/// ```
/// use loadring::route::Sticky;
/// use loadring::RoundRobin;
///
/// let sticky = Sticky::new(*b"a secret 16 byte");
/// let rr = RoundRobin::new(["a", "b", "c"])?;
/// let first = sticky.pick(&rr, None, "user-42")?; // no cookie yet
/// let cookie = first.new_token.expect("a token to set");
/// for _ in 0..10 {
///     let again = sticky.pick(&rr, Some(&cookie), "user-42")?;
///     assert_eq!(again.server.id(), first.server.id()); // round-robin, yet sticky
///     assert!(again.new_token.is_none());
/// }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct Sticky {
    secret: [u8; 16],
}

/// A sticky pick: the server, and the token to set when the request brought none that holds.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct StickyPick<'a> {
    /// The server for the request.
    pub server: &'a Server,
    /// A fresh token naming `server`, when the request's token was missing or no longer holds.
    pub new_token: Option<String>,
}

impl fmt::Debug for Sticky {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The secret is a secret: never print it.
        f.write_str("Sticky { secret: <secret> }")
    }
}

impl Sticky {
    /// Tokens under `secret` (keep it secret, and the same across the service's instances).
    pub fn new(secret: [u8; 16]) -> Self {
        Sticky { secret }
    }

    /// The token that names `server`.
    pub fn token(&self, server: &Server) -> String {
        let id = server.id().as_bytes();
        let mut out = String::with_capacity(2 * id.len() + 1 + 32);
        push_hex(&mut out, id);
        out.push('.');
        push_hex(&mut out, &self.mac(id));
        out
    }

    /// The server `token` names, if the token is authentic and that server is in `balancer`
    /// and available (healthy, not draining).
    pub fn pinned<'a, B: Balancer + ?Sized>(
        &self,
        balancer: &'a B,
        token: &str,
    ) -> Option<&'a Server> {
        if token.len() > MAX_TOKEN {
            return None;
        }
        let (id_hex, mac_hex) = token.split_once('.')?;
        // Decoded on the stack: a pinned request allocates nothing.
        let mut id = [0u8; MAX_ID];
        let id = from_hex(id_hex, &mut id)?;
        let mut mac = [0u8; 16];
        if from_hex(mac_hex, &mut mac)?.len() != mac.len() {
            return None;
        }
        // Constant time over the MAC, so that timing tells nothing of how much of it matched.
        let diff = self
            .mac(id)
            .iter()
            .zip(&mac)
            .fold(0, |d, (a, b)| d | (a ^ b));
        if diff != 0 {
            return None;
        }
        let server = balancer.server(std::str::from_utf8(id).ok()?)?;
        server.is_available().then_some(server)
    }

    /// The server for a request that brought `token` (if any): the pinned server while the
    /// token holds, else the pick for `key` with a fresh token.
    ///
    /// Errors: those of the pick, when the token does not hold.
    pub fn pick<'a, B, K>(
        &self,
        balancer: &'a B,
        token: Option<&str>,
        key: &K,
    ) -> Result<StickyPick<'a>, PickError>
    where
        B: Balancer + ?Sized,
        K: Key + ?Sized,
    {
        if let Some(server) = token.and_then(|t| self.pinned(balancer, t)) {
            return Ok(StickyPick {
                server,
                new_token: None,
            });
        }
        let server = balancer.pick(key)?;
        Ok(StickyPick {
            server,
            new_token: Some(self.token(server)),
        })
    }

    fn mac(&self, id: &[u8]) -> [u8; 16] {
        let mut h = SipHasher24::new_with_key(&self.secret);
        h.write(CONTEXT);
        h.write(id);
        h.finish128().as_bytes()
    }
}

fn push_hex(out: &mut String, bytes: &[u8]) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for &b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 15)]));
    }
}

/// Lower- or upper-case hex to bytes, written into `out`; `None` for anything else, or for
/// more bytes than `out` holds.
fn from_hex<'o>(hex: &str, out: &'o mut [u8]) -> Option<&'o [u8]> {
    if hex.len() % 2 != 0 || hex.len() / 2 > out.len() {
        return None;
    }
    let digit = |c: u8| {
        char::from(c)
            .to_digit(16)
            .and_then(|d| u8::try_from(d).ok())
    };
    let out = &mut out[..hex.len() / 2];
    for (byte, pair) in out.iter_mut().zip(hex.as_bytes().chunks_exact(2)) {
        *byte = digit(pair[0])? << 4 | digit(pair[1])?;
    }
    Some(out)
}
