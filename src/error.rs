//! The crate's one error type.

use std::fmt;

/// Everything that can go wrong when building a balancer or picking a server.
///
/// Bad input is always reported through this type; no constructor or pick panics on it.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Error {
    /// The balancer holds no servers (an empty fleet, or the last one was removed).
    NoServers,
    /// Every server is marked unhealthy.
    NoHealthyServer,
    /// Every healthy server is at its capacity.
    Saturated,
    /// Two servers share one id.
    DuplicateServer {
        /// The repeated id.
        id: String,
    },
    /// No server has this id.
    UnknownServer {
        /// The id that was asked for.
        id: String,
    },
    /// A caller's `accept` turned down every candidate it was offered.
    NoneAccepted {
        /// How many candidates were offered.
        tried: usize,
    },
    /// A server was given weight 0.
    ZeroWeight {
        /// The server's id.
        id: String,
    },
    /// A server was given capacity 0 where a capacity is required to be positive.
    ZeroCapacity {
        /// The server's id.
        id: String,
    },
    /// A server has no capacity where the strategy requires one (see
    /// [`Server::with_capacity`](crate::Server::with_capacity)).
    MissingCapacity {
        /// The server's id.
        id: String,
    },
    /// The weights would need more ring points (or table slots) than the documented cap.
    TooManyPoints {
        /// Points the weights ask for.
        requested: u64,
        /// The cap.
        max: u64,
    },
    /// A reported load was NaN, infinite or negative.
    InvalidLoad {
        /// The rejected value.
        value: f64,
    },
    /// An option was out of its range.
    InvalidOption {
        /// The option's name.
        name: &'static str,
        /// What the option requires.
        reason: &'static str,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::NoServers => f.write_str("the balancer has no servers"),
            Error::NoHealthyServer => f.write_str("no server is healthy"),
            Error::Saturated => f.write_str("every healthy server is at its capacity"),
            Error::NoneAccepted { tried } => {
                write!(f, "none of the {tried} candidates offered was accepted")
            }
            Error::DuplicateServer { id } => write!(f, "server id {id:?} appears more than once"),
            Error::UnknownServer { id } => write!(f, "no server has id {id:?}"),
            Error::ZeroWeight { id } => write!(f, "server {id:?} has weight 0; weights start at 1"),
            Error::ZeroCapacity { id } => {
                write!(f, "server {id:?} has capacity 0; capacities start at 1")
            }
            Error::MissingCapacity { id } => {
                write!(f, "server {id:?} has no capacity; this strategy needs one")
            }
            Error::TooManyPoints { requested, max } => write!(
                f,
                "the weights ask for {requested} points, more than the cap of {max}"
            ),
            Error::InvalidLoad { value } => {
                write!(f, "load {value} is not a finite, non-negative number")
            }
            Error::InvalidOption { name, reason } => write!(f, "option `{name}`: {reason}"),
        }
    }
}

impl std::error::Error for Error {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_the_culprit() {
        let e = Error::DuplicateServer { id: "a:1".into() };
        assert_eq!(e.to_string(), r#"server id "a:1" appears more than once"#);
        let e = Error::InvalidOption {
            name: "points_per_weight",
            reason: "must be at least 1",
        };
        assert_eq!(
            e.to_string(),
            "option `points_per_weight`: must be at least 1"
        );
        let e = Error::InvalidLoad { value: f64::NAN };
        assert!(e.to_string().contains("NaN"));
    }
}
