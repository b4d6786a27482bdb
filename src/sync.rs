//! The primitives the crate synchronises with: std's atomics, parking_lot's mutex and
//! arc-swap's cell; or, built with `RUSTFLAGS="--cfg loom"`, loom's models of them, so that
//! `tests/loom.rs` checks every interleaving of the crate's own code.

#[cfg(not(loom))]
pub(crate) use std::sync::atomic::{AtomicU8, AtomicU32, AtomicU64};

#[cfg(not(loom))]
pub(crate) use parking_lot::{Mutex, MutexGuard};

#[cfg(not(loom))]
pub(crate) use arc_swap::ArcSwap;

/// What a load from an [`ArcSwap`] holds.
#[cfg(not(loom))]
pub(crate) type Loaded<T> = arc_swap::Guard<std::sync::Arc<T>>;

/// A reader's cached load of an [`ArcSwap`].
#[cfg(not(loom))]
pub(crate) type Cache<'a, T> = arc_swap::Cache<&'a ArcSwap<T>, std::sync::Arc<T>>;

#[cfg(loom)]
pub(crate) use loom::sync::atomic::{AtomicU8, AtomicU32, AtomicU64};

#[cfg(loom)]
pub(crate) use model::{ArcSwap, Cache, Loaded, Mutex, MutexGuard};

/// Models with loom's primitives, for the calls the crate makes.
#[cfg(loom)]
mod model {
    use std::sync::{Arc, PoisonError};

    /// parking_lot's mutex: `lock` returns the guard.
    #[derive(Debug)]
    pub(crate) struct Mutex<T>(loom::sync::Mutex<T>);

    pub(crate) type MutexGuard<'a, T> = loom::sync::MutexGuard<'a, T>;

    impl<T> Mutex<T> {
        pub(crate) fn new(value: T) -> Self {
            Mutex(loom::sync::Mutex::new(value))
        }

        pub(crate) fn lock(&self) -> MutexGuard<'_, T> {
            self.0.lock().unwrap_or_else(PoisonError::into_inner)
        }
    }

    /// arc-swap's cell: a lock around the current `Arc`, so that loom sees every load and
    /// store as a point where another thread may run.
    #[derive(Debug)]
    pub(crate) struct ArcSwap<T>(loom::sync::RwLock<Arc<T>>);

    pub(crate) type Loaded<T> = Arc<T>;

    impl<T> ArcSwap<T> {
        pub(crate) fn from_pointee(value: T) -> Self {
            ArcSwap(loom::sync::RwLock::new(Arc::new(value)))
        }

        pub(crate) fn load(&self) -> Arc<T> {
            Arc::clone(&self.0.read().unwrap_or_else(PoisonError::into_inner))
        }

        pub(crate) fn store(&self, value: Arc<T>) {
            *self.0.write().unwrap_or_else(PoisonError::into_inner) = value;
        }
    }

    /// arc-swap's cache: it loads afresh every time.
    pub(crate) struct Cache<'a, T> {
        cell: &'a ArcSwap<T>,
        last: Arc<T>,
    }

    impl<'a, T> Cache<'a, T> {
        pub(crate) fn new(cell: &'a ArcSwap<T>) -> Self {
            Cache {
                last: cell.load(),
                cell,
            }
        }

        pub(crate) fn load(&mut self) -> &Arc<T> {
            self.last = self.cell.load();
            &self.last
        }

        pub(crate) fn arc_swap(&self) -> &'a ArcSwap<T> {
            self.cell
        }
    }
}
