//! [`Figures`]: what a reporter publishes about its server, and their text in Redis.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::Error;

/// The longest figures text, in bytes: a longer value does not parse, and a poller reads no
/// more than one byte past it. A reporter's own line is at most about 450 bytes (a load
/// such as `1e300` is written out in full); the rest leaves room for fields of later
/// versions.
pub(crate) const MAX_TEXT: usize = 512;

/// One server's figures as its reporter publishes them: requests in flight, a load (CPU, a
/// queue length, any figure where less means less loaded), a latency, when they were taken,
/// and optionally the weight the server asks for.
///
/// In Redis they are one line of `name=value` fields, in any order, and readers skip fields
/// they do not know, so that later versions can add some:
///
/// ```text
/// in_flight=3 load=0.42 latency_us=1500 at_ms=1767225600000 weight=2
/// ```
///
/// `load` is a finite, non-negative decimal; `in_flight`, `latency_us` (microseconds) and
/// `at_ms` (the Unix time in milliseconds) are whole numbers; `weight`, which may be left
/// out, is a whole number below 2³². A poller whose member set drives the fleet
/// ([`Poller::with_members`](super::Poller::with_members)) gives the server that weight, and
/// a weight of 0 drains it (see [`Update::sync`](crate::Update::sync)). A value without all four, with
/// one out of range, or longer than 512 bytes does not parse: pollers count it and ignore
/// it (and read no more than its first 513 bytes). A reporter never writes an empty value:
/// pollers read one as no figures at all, as Redis answers for a missing key.
///
/// ```
/// use std::time::Duration;
/// use loadring::redis::Figures;
///
/// let figures = Figures::new(3, 0.42)?.with_latency(Duration::from_micros(1500));
/// assert_eq!((figures.in_flight(), figures.load()), (3, 0.42));
/// assert_eq!(figures.with_weight(2).weight(), Some(2));
/// assert!(Figures::new(0, f64::NAN).is_err());
/// # Ok::<(), loadring::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Figures {
    in_flight: u64,
    load: f64,
    latency: Duration,
    at: SystemTime,
    weight: Option<u32>,
}

/// Why a published value did not parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Unparsable;

impl Figures {
    /// Figures taken now, with no latency figure.
    ///
    /// Errors: [`Error::InvalidLoad`] for a NaN, infinite or negative load.
    pub fn new(in_flight: u64, load: f64) -> Result<Self, Error> {
        if !load.is_finite() || load < 0.0 {
            return Err(Error::InvalidLoad { value: load });
        }
        Ok(Figures {
            in_flight,
            load,
            latency: Duration::ZERO,
            at: SystemTime::now(),
            weight: None,
        })
    }

    /// Sets the latency figure (published in whole microseconds).
    pub fn with_latency(mut self, latency: Duration) -> Self {
        self.latency = latency;
        self
    }

    /// Sets the weight the server asks for: 0 drains it. Only a poller whose member set
    /// drives the fleet applies it.
    pub fn with_weight(mut self, weight: u32) -> Self {
        self.weight = Some(weight);
        self
    }

    /// The weight the server asks for, if it names one.
    pub fn weight(&self) -> Option<u32> {
        self.weight
    }

    /// Requests in flight on the server.
    pub fn in_flight(&self) -> u64 {
        self.in_flight
    }

    /// The load: what a poller reports to the balancer
    /// ([`Server::report_load`](crate::Server::report_load)).
    pub fn load(&self) -> f64 {
        self.load
    }

    /// The latency figure.
    pub fn latency(&self) -> Duration {
        self.latency
    }

    /// When the figures were taken (a reporter stamps them as it writes them), by the
    /// reporting machine's clock.
    pub fn at(&self) -> SystemTime {
        self.at
    }

    /// The same figures, taken now.
    pub(crate) fn stamped_now(mut self) -> Self {
        self.at = SystemTime::now();
        self
    }

    /// The text written to Redis.
    pub(crate) fn encode(&self) -> String {
        let mut text = format!(
            "in_flight={} load={} latency_us={} at_ms={}",
            self.in_flight,
            self.load,
            u64::try_from(self.latency.as_micros()).unwrap_or(u64::MAX),
            unix_ms(self.at),
        );
        if let Some(weight) = self.weight {
            text += &format!(" weight={weight}");
        }
        text
    }

    /// Reads a value written by [`encode`](Figures::encode) (or a later version).
    pub(crate) fn parse(bytes: &[u8]) -> Result<Self, Unparsable> {
        if bytes.len() > MAX_TEXT {
            return Err(Unparsable);
        }
        let text = std::str::from_utf8(bytes).map_err(|_| Unparsable)?;
        let (mut in_flight, mut load, mut latency, mut at) = (None, None, None, None);
        let mut weight = None;
        for field in text.split_ascii_whitespace() {
            let (name, value) = field.split_once('=').ok_or(Unparsable)?;
            let whole = || value.parse::<u64>().map_err(|_| Unparsable);
            match name {
                "in_flight" => in_flight = Some(whole()?),
                "load" => load = Some(value.parse::<f64>().map_err(|_| Unparsable)?),
                "latency_us" => latency = Some(Duration::from_micros(whole()?)),
                "at_ms" => {
                    let ms = Duration::from_millis(whole()?);
                    at = Some(UNIX_EPOCH.checked_add(ms).ok_or(Unparsable)?);
                }
                "weight" => weight = Some(value.parse::<u32>().map_err(|_| Unparsable)?),
                _ => {}
            }
        }
        let (Some(in_flight), Some(load), Some(latency), Some(at)) = (in_flight, load, latency, at)
        else {
            return Err(Unparsable);
        };
        let figures = Figures::new(in_flight, load).map_err(|_| Unparsable)?;
        Ok(Figures {
            latency,
            at,
            weight,
            ..figures
        })
    }
}

impl fmt::Display for Figures {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.encode())
    }
}

/// `t` as whole milliseconds since the Unix epoch (0 before it, saturating far after).
pub(crate) fn unix_ms(t: SystemTime) -> u64 {
    let since = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    u64::try_from(since.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_survive_their_text() {
        let f = Figures::new(7, 0.125)
            .unwrap()
            .with_latency(Duration::from_micros(1500));
        let back = Figures::parse(f.encode().as_bytes()).unwrap();
        assert_eq!(
            (back.in_flight(), back.load(), back.latency(), back.weight()),
            (7, 0.125, f.latency(), None)
        );
        for weight in [0, 3, u32::MAX] {
            let text = f.with_weight(weight).encode();
            assert!(text.ends_with(&format!(" weight={weight}")), "{text}");
            assert_eq!(
                Figures::parse(text.as_bytes()).unwrap().weight(),
                Some(weight)
            );
        }
        assert_eq!(unix_ms(back.at()), unix_ms(f.at()));
        assert_eq!(f.to_string(), f.encode());
    }

    #[test]
    fn fields_come_in_any_order_and_unknown_ones_are_skipped() {
        let text = "at_ms=1000 cpu=0.9 load=2 latency_us=5 in_flight=1";
        let f = Figures::parse(text.as_bytes()).unwrap();
        assert_eq!((f.in_flight(), f.load()), (1, 2.0));
        assert_eq!(f.at(), UNIX_EPOCH + Duration::from_secs(1));
    }

    #[test]
    fn the_longest_figures_fit_the_cap() {
        let subnormal = (0..10_000u64).map(|i| f64::from_bits(0x000f_ffff_ffff_ffff - i * 7919));
        let loads = [
            0.0,
            1.0 / 3.0,
            f64::MAX,
            f64::MIN_POSITIVE,
            f64::from_bits(1),
        ]
        .into_iter()
        .chain(subnormal);
        let mut longest = 0;
        for load in loads {
            let f = Figures {
                in_flight: u64::MAX,
                load,
                latency: Duration::MAX,
                at: UNIX_EPOCH + Duration::from_millis(u64::MAX),
                weight: Some(u32::MAX),
            };
            let text = f.encode();
            longest = longest.max(text.len());
            assert_eq!(Figures::parse(text.as_bytes()).map(|f| f.load()), Ok(load));
        }
        assert!(longest <= 460, "{longest} bytes");
        let padded = format!(
            "in_flight=1 load=1 latency_us=1 at_ms=1 pad={}",
            "x".repeat(468)
        );
        assert_eq!(padded.len(), MAX_TEXT);
        assert!(Figures::parse(padded.as_bytes()).is_ok());
        let longer = format!("{padded}x");
        assert_eq!(
            Figures::parse(longer.as_bytes()),
            Err(Unparsable),
            "past the cap"
        );
    }

    #[test]
    fn garbage_does_not_parse() {
        let bad: [&[u8]; 12] = [
            b"",
            b"garbage",
            b"\xff\xfe",
            b"in_flight=1 load=2 latency_us=3",
            b"in_flight=1 load=NaN latency_us=3 at_ms=4",
            b"in_flight=1 load=-1 latency_us=3 at_ms=4",
            b"in_flight=1 load=inf latency_us=3 at_ms=4",
            b"in_flight=-1 load=1 latency_us=3 at_ms=4",
            b"in_flight=1 load=1 latency_us=3 at_ms=99999999999999999999",
            b"in_flight=1 load=1 latency_us=3 at_ms=4 stray",
            b"in_flight=1 load=1 latency_us=3 at_ms=4 weight=-1",
            b"in_flight=1 load=1 latency_us=3 at_ms=4 weight=4294967296",
        ];
        for text in bad {
            assert_eq!(Figures::parse(text), Err(Unparsable), "{text:?}");
        }
    }
}
