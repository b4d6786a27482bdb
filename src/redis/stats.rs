//! The figures of interest: [`LinkStats`] for a connection to Redis, [`PollStats`] for a
//! poller.

use std::time::Duration;

/// How one reporter's or poller's connection to Redis has fared.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct LinkStats {
    /// Round trips that succeeded (a reporter's writes, a poller's reads).
    pub round_trips: u64,
    /// Attempts that failed: no connection, a timeout, an error reply.
    pub failures: u64,
    /// Connections opened.
    pub connects: u64,
    /// Connections opened after the first, each after a failure dropped the one before.
    pub reconnects: u64,
    /// The time the last successful round trip took.
    pub round_trip: Option<Duration>,
    /// Rounds a reporter skipped because its figures callback answered an error.
    pub skipped: u64,
    /// The last error, as text.
    pub last_error: Option<String>,
}

/// What a [`Poller`](super::Poller) has seen, as [`Poller::stats`](super::Poller::stats)
/// reads it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct PollStats {
    /// The connection: round trips, their last time, failures, reconnects.
    pub link: LinkStats,
    /// Polls that ended well.
    pub polls: u64,
    /// Values that did not parse, ever, each counted once a poll (as
    /// [`PollReport::parse_errors`](super::PollReport::parse_errors) counts them).
    pub parse_errors: u64,
    /// The age of the figures in use: the time since the last successful poll (or since the
    /// poller was made, before its first).
    pub stale_age: Duration,
    /// Whether Redis has been out of reach longer than the staleness limit, so the
    /// fallback holds (see [`Poller`](super::Poller)).
    pub in_fallback: bool,
    /// Servers the poller marks unhealthy now, their figures missing.
    pub expired: usize,
}
