//! Slow start: a server that joins or recovers takes a share of its weight that grows over a
//! window, instead of its whole share the moment it appears, cold caches and all.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;

use super::{Clock, SystemClock};
use crate::{Balancer, Error};

/// Options of a [`SlowStart`].
///
/// ```
/// use std::time::Duration;
/// use loadring::health::SlowStartOptions;
///
/// let options = SlowStartOptions::default()
///     .with_window(Duration::from_secs(60))
///     .with_aggression(2.0);
/// assert_eq!(options.min_share, 0.1);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(default, deny_unknown_fields))]
#[non_exhaustive]
pub struct SlowStartOptions {
    /// How long a ramp lasts. Default 30 s (`"30s"` in configuration).
    #[cfg_attr(feature = "serde", serde(with = "crate::health::duration"))]
    pub window: Duration,
    /// How fast the share grows (Envoy's `aggression`): the share after a fraction t of the
    /// window is t^(1 / aggression); 1 (the default) is linear, above 1 rises faster early.
    pub aggression: f64,
    /// The share a ramp starts from and never goes below (Envoy's `min_weight_percent`,
    /// as a share): in (0, 1], default 0.1.
    pub min_share: f64,
}

impl Default for SlowStartOptions {
    fn default() -> Self {
        SlowStartOptions {
            window: Duration::from_secs(30),
            aggression: 1.0,
            min_share: 0.1,
        }
    }
}

impl SlowStartOptions {
    /// Sets how long a ramp lasts.
    pub fn with_window(mut self, window: Duration) -> Self {
        self.window = window;
        self
    }

    /// Sets the aggression.
    pub fn with_aggression(mut self, aggression: f64) -> Self {
        self.aggression = aggression;
        self
    }

    /// Sets the share a ramp starts from.
    pub fn with_min_share(mut self, min_share: f64) -> Self {
        self.min_share = min_share;
        self
    }

    fn check(&self) -> Result<(), Error> {
        if self.window.is_zero() {
            return Err(Error::option("window", "must be longer than zero"));
        }
        if !(self.aggression.is_finite() && self.aggression > 0.0) {
            return Err(Error::option(
                "aggression",
                format!("must be finite and above 0, not {}", self.aggression),
            ));
        }
        if !(self.min_share > 0.0 && self.min_share <= 1.0) {
            return Err(Error::option(
                "min_share",
                format!("must be in (0, 1], not {}", self.min_share),
            ));
        }
        Ok(())
    }
}

/// Slow start (Envoy's, nginx's `slow_start`): a server that joins the fleet, or becomes
/// available again after being unhealthy or draining, takes a share of its weight that grows
/// over a window, `max(min_share, (elapsed / window)^(1 / aggression))`, instead of its whole
/// share at once.
///
/// Round-robin gives a server at share r that share of its slots (a slot it turns down goes to
/// the next server), so it takes r × its weight's share of the picks; least-loaded by requests
/// in flight or reported loads counts its weight at r (with one more request in flight, as
/// Envoy's least-request does), so an idle newcomer does not win every pick; by peak-EWMA
/// latency, a newcomer already takes one request at a time until it has answered. Hash strategies and fill-first ignore slow start: a key's
/// server is fixed by the mapping, and ramping a weight would move keys in and out; fill-first
/// goes by capacity.
///
/// [`tick`](SlowStart::tick) follows a balancer's servers: call it every second or so (from a
/// thread or a timer task). Servers present at the first tick are taken as warm. Picks pay
/// nothing while no server is in slow start; time comes from a [`Clock`], so tests move it
/// by hand.
///
/// ```
/// use std::time::Duration;
/// use loadring::health::{ManualClock, SlowStart, SlowStartOptions};
/// use loadring::{Balancer, RoundRobin, Shared};
///
/// let shared = Shared::new(RoundRobin::new(["a", "b", "c"])?);
/// let clock = ManualClock::new();
/// let options = SlowStartOptions::default().with_window(Duration::from_secs(10));
/// let slow_start = SlowStart::with_clock(options, clock.clone())?;
/// slow_start.tick(&*shared.snapshot()); // a, b and c are warm
///
/// shared.add("d")?;
/// slow_start.tick(&*shared.snapshot());
/// assert_eq!(shared.snapshot().server("d").unwrap().ramp(), 0.1);
/// clock.advance(Duration::from_secs(5));
/// slow_start.tick(&*shared.snapshot());
/// assert_eq!(shared.snapshot().server("d").unwrap().ramp(), 0.5);
/// clock.advance(Duration::from_secs(5));
/// slow_start.tick(&*shared.snapshot());
/// assert_eq!(shared.snapshot().server("d").unwrap().ramp(), 1.0);
/// # Ok::<(), loadring::Error>(())
/// ```
#[derive(Debug)]
pub struct SlowStart<C: Clock = SystemClock> {
    options: SlowStartOptions,
    clock: C,
    tracks: Mutex<Tracks>,
}

/// What the ticks have seen.
#[derive(Debug, Default)]
struct Tracks {
    ticked: bool,
    servers: HashMap<Arc<str>, Track>,
}

/// One server as the last tick saw it.
#[derive(Debug)]
struct Track {
    available: bool,
    /// When its ramp began, while it lasts.
    since: Option<Duration>,
}

impl SlowStart {
    /// Slow start on the system's clock.
    ///
    /// Errors: [`Error::InvalidOption`] for a zero window, an aggression that is not finite
    /// and above 0, or a `min_share` outside (0, 1].
    pub fn new(options: SlowStartOptions) -> Result<Self, Error> {
        Self::with_clock(options, SystemClock::new())
    }
}

impl<C: Clock> SlowStart<C> {
    /// Slow start on `clock` (a [`ManualClock`](super::ManualClock) in tests).
    ///
    /// Errors: as [`SlowStart::new`].
    pub fn with_clock(options: SlowStartOptions, clock: C) -> Result<Self, Error> {
        options.check()?;
        Ok(SlowStart {
            options,
            clock,
            tracks: Mutex::default(),
        })
    }

    /// The options it runs with.
    pub fn options(&self) -> SlowStartOptions {
        self.options
    }

    /// The share of its weight a server takes `elapsed` into its ramp.
    pub fn share_after(&self, elapsed: Duration) -> f64 {
        let t = (elapsed.as_secs_f64() / self.options.window.as_secs_f64()).min(1.0);
        t.powf(1.0 / self.options.aggression)
            .max(self.options.min_share)
    }

    /// Starts the ramp of every server of `balancer` that joined since the last tick (not at
    /// the first) or became available again, moves every ramp to its share for the time
    /// now, and ends those past the window. Returns how many servers are in slow start.
    pub fn tick<B: Balancer + ?Sized>(&self, balancer: &B) -> usize {
        let now = self.clock.now();
        let mut tracks = self.tracks.lock();
        let first = !tracks.ticked;
        tracks.ticked = true;
        let mut seen = HashMap::with_capacity(balancer.len());
        let mut ramping = 0;
        for server in balancer.servers() {
            let available = server.is_available();
            let since = match tracks.servers.remove(server.id()) {
                Some(track) if available && !track.available => Some(now),
                Some(track) => track.since,
                None if first => None,
                None => Some(now),
            };
            let since = since.filter(|&t| now.saturating_sub(t) < self.options.window);
            match since {
                Some(t) if available => {
                    server.set_ramp(Some(self.share_after(now.saturating_sub(t))));
                    ramping += 1;
                }
                _ => server.set_ramp(None),
            }
            let id = Arc::clone(server.id_arc());
            seen.insert(id, Track { available, since });
        }
        tracks.servers = seen;
        ramping
    }
}
