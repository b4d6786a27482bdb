//! Errors by phase: [`PickError`] from picks and leases (small, `Copy`), [`Error`] from
//! building, configuring and changing a balancer.

use std::fmt;

/// Why a pick, a lease or a fail-over walk found no server.
///
/// Small and `Copy`, so the hot path returns it without allocating. It converts into
/// [`Error`] with `?`, for functions that build and pick alike.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PickError {
    /// The balancer holds no servers (an empty fleet, or the last one was removed).
    NoServers,
    /// No server takes new requests: every one is unhealthy or draining.
    NoHealthyServer,
    /// Every healthy server is at its capacity.
    Saturated,
    /// A caller's `accept` turned down every candidate it was offered.
    NoneAccepted {
        /// How many candidates were offered.
        tried: usize,
    },
}

impl fmt::Display for PickError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PickError::NoServers => f.write_str("the balancer has no servers"),
            PickError::NoHealthyServer => {
                f.write_str("no server is available (every one is unhealthy or draining)")
            }
            PickError::Saturated => f.write_str("every healthy server is at its capacity"),
            PickError::NoneAccepted { tried } => {
                write!(f, "none of the {tried} candidates offered was accepted")
            }
        }
    }
}

impl std::error::Error for PickError {}

/// Everything that can go wrong when building, configuring or changing a balancer, and
/// (through [`Error::Pick`]) when picking.
///
/// Bad input is always reported through this type; no constructor or update panics on it.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Error {
    /// A pick found no server.
    Pick(PickError),
    /// Two servers share one id.
    DuplicateServer {
        /// The repeated id.
        id: String,
    },
    /// Two servers with different ids would hash alike (libmemcached's ketama names a server
    /// on port 11211 by its host alone), so they could not be told apart.
    SameHash {
        /// The later server's id.
        id: String,
        /// The earlier server's id.
        other: String,
    },
    /// No server has this id.
    UnknownServer {
        /// The id that was asked for.
        id: String,
    },
    /// A server was given weight 0.
    ZeroWeight {
        /// The server's id.
        id: String,
    },
    /// A strategy that cannot honour weights was given a weight other than 1.
    WeightsUnsupported {
        /// The strategy's name.
        strategy: &'static str,
        /// The server's id.
        id: String,
        /// The weight it was given.
        weight: u32,
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
    /// A change to a [`Shared`](crate::Shared) balancer was made from inside another change
    /// of the same one (an `update` closure), where it would wait for itself forever.
    Reentrant,
    /// An option was out of its range.
    InvalidOption {
        /// The option's name.
        name: String,
        /// What the option requires.
        reason: String,
    },
}

impl Error {
    /// An [`Error::InvalidOption`].
    pub(crate) fn option(name: &str, reason: impl Into<String>) -> Self {
        Error::InvalidOption {
            name: name.into(),
            reason: reason.into(),
        }
    }

    /// An [`Error::UnknownServer`].
    pub(crate) fn unknown(id: &str) -> Self {
        Error::UnknownServer { id: id.into() }
    }
}

impl From<PickError> for Error {
    fn from(e: PickError) -> Self {
        Error::Pick(e)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Pick(e) => e.fmt(f),
            Error::DuplicateServer { id } => write!(f, "server id {id:?} appears more than once"),
            Error::SameHash { id, other } => write!(
                f,
                "servers {other:?} and {id:?} would hash alike; give them distinct names"
            ),
            Error::UnknownServer { id } => write!(f, "no server has id {id:?}"),
            Error::ZeroWeight { id } => write!(f, "server {id:?} has weight 0; weights start at 1"),
            Error::WeightsUnsupported {
                strategy,
                id,
                weight,
            } => write!(
                f,
                "server {id:?} has weight {weight}, but {strategy} cannot honour weights; \
                 give every server weight 1 or choose a weighted strategy"
            ),
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
            Error::Reentrant => f.write_str(
                "a change to a shared balancer was made from inside another change of it",
            ),
            Error::InvalidOption { name, reason } => write!(f, "option `{name}`: {reason}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Pick(e) => Some(e),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_the_culprit() {
        let e = Error::DuplicateServer { id: "a:1".into() };
        assert_eq!(e.to_string(), r#"server id "a:1" appears more than once"#);
        let e = Error::option("points_per_weight", "must be at least 1");
        assert_eq!(
            e.to_string(),
            "option `points_per_weight`: must be at least 1"
        );
        let e = Error::InvalidLoad { value: f64::NAN };
        assert!(e.to_string().contains("NaN"));
        let e = Error::WeightsUnsupported {
            strategy: "jump",
            id: "a".into(),
            weight: 9,
        };
        assert!(e.to_string().contains("jump cannot honour weights"), "{e}");
        let e: Error = PickError::Saturated.into();
        assert_eq!(e.to_string(), PickError::Saturated.to_string());
    }
}
