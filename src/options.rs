//! The options type of a strategy that has no options yet.

/// Defines `$options`, an options type with no fields, and `with_options` and `options` on
/// `$balancer`, so that a strategy without options builds and reads its configuration as the
/// others do.
macro_rules! no_options {
    ($balancer:ident, $options:ident) => {
        #[doc = concat!("Options of a [`", stringify!($balancer), "`]: none yet. The type exists")]
        /// so that every strategy builds the same way (`with_options(servers, options)`) and
        /// reads the same configuration, and so that options can come without a break.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
        #[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
        #[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
        #[non_exhaustive]
        pub struct $options {}

        impl $balancer {
            #[doc = concat!("Builds with `options` (see [`", stringify!($options), "`]).")]
            pub fn with_options<I>(servers: I, options: $options) -> Result<Self, crate::Error>
            where
                I: IntoIterator,
                I::Item: Into<crate::Server>,
            {
                let $options {} = options;
                Self::new(servers)
            }

            /// The options the balancer was built with.
            pub fn options(&self) -> $options {
                $options {}
            }
        }
    };
}
