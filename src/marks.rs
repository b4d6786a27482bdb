//! Where servers keep their marks (the [`Flag`](crate::server) bits that keep a server from
//! new requests): one byte a server, packed side by side in blocks, so that the marks of a
//! fleet's servers fill a few cache lines rather than a line each.
//!
//! Every pick reads the mark of the server it lands on. With a line a server, a fleet of
//! 1000 puts 64 KB of marks in the picks' path, more than a core's first-level cache holds
//! beside the tables; packed, it puts 1000 bytes (16 lines). A server takes a byte when it
//! is created ([`Slot::take`]) and gives it back when its last clone drops. Blocks live as
//! long as the process: the memory held is the most servers ever alive at once, one byte
//! each rounded up to a block of 4 KiB, plus 8 bytes for each byte given back and not yet
//! taken again.
//!
//! The marks stay atomic bytes written by `fetch_or` and `fetch_and`; only their place
//! changes. Built for loom, each server's byte is an allocation of its own.

use std::fmt;

use crate::sync::AtomicU8;

/// A server's mark byte, as its clones hold it.
#[cfg(not(loom))]
pub(crate) type Marks = &'static AtomicU8;

/// A server's mark byte, as its clones hold it (loom: a shared allocation).
#[cfg(loom)]
pub(crate) type Marks = std::sync::Arc<AtomicU8>;

/// A server's claim on its byte: held by the cells its clones share, and given back when
/// they drop.
pub(crate) struct Slot(Marks);

impl Slot {
    /// A byte of its own, all marks clear.
    pub(crate) fn take() -> Slot {
        Slot(board::take())
    }

    /// The byte, for a server to hold beside its cells.
    pub(crate) fn marks(&self) -> Marks {
        #[cfg(not(loom))]
        return self.0;
        #[cfg(loom)]
        return std::sync::Arc::clone(&self.0);
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        #[cfg(not(loom))]
        board::give(self.0);
    }
}

impl fmt::Debug for Slot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let marks = self.0.load(std::sync::atomic::Ordering::Relaxed);
        f.debug_tuple("Slot").field(&marks).finish()
    }
}

#[cfg(not(loom))]
mod board {
    use std::sync::atomic::{AtomicU8, Ordering};

    use parking_lot::Mutex;

    /// Bytes in a block: 64 cache lines.
    const BLOCK: usize = 4096;

    /// The block being handed out and the bytes given back.
    pub(super) struct Board {
        block: &'static [AtomicU8],
        used: usize,
        free: Vec<&'static AtomicU8>,
    }

    static BOARD: Mutex<Board> = Mutex::new(Board::new());

    impl Board {
        pub(super) const fn new() -> Self {
            Board {
                block: &[],
                used: 0,
                free: Vec::new(),
            }
        }

        /// A byte nobody holds, cleared: the last one given back, else the next of the
        /// current block.
        pub(super) fn take(&mut self) -> &'static AtomicU8 {
            let byte = match self.free.pop() {
                Some(byte) => byte,
                None => {
                    if self.used == self.block.len() {
                        let block: Box<[AtomicU8]> = (0..BLOCK).map(|_| AtomicU8::new(0)).collect();
                        self.block = Box::leak(block);
                        self.used = 0;
                    }
                    self.used += 1;
                    let block: &'static [AtomicU8] = self.block;
                    &block[self.used - 1]
                }
            };
            // A byte given back carries its last server's marks. The new server reaches
            // other threads only through a release (a balancer's publication, a channel, a
            // spawn), so they see it cleared.
            byte.store(0, Ordering::Relaxed);
            byte
        }

        /// Takes back a byte whose server is gone.
        pub(super) fn give(&mut self, byte: &'static AtomicU8) {
            self.free.push(byte);
        }
    }

    pub(super) fn take() -> &'static AtomicU8 {
        BOARD.lock().take()
    }

    pub(super) fn give(byte: &'static AtomicU8) {
        BOARD.lock().give(byte);
    }
}

#[cfg(loom)]
mod board {
    use std::sync::Arc;

    use crate::sync::AtomicU8;

    pub(super) fn take() -> Arc<AtomicU8> {
        Arc::new(AtomicU8::new(0))
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use std::collections::BTreeSet;
    use std::sync::atomic::Ordering;

    use super::board::Board;
    use super::*;

    fn addr(byte: &AtomicU8) -> usize {
        byte as *const AtomicU8 as usize
    }

    #[test]
    fn bytes_taken_in_a_row_are_neighbours() {
        let mut board = Board::new();
        let bytes: Vec<usize> = (0..1000).map(|_| addr(board.take())).collect();
        assert!(
            bytes.windows(2).all(|w| w[1] == w[0] + 1),
            "one byte after another"
        );
        let lines: BTreeSet<usize> = bytes.iter().map(|a| a / 64).collect();
        assert!(lines.len() <= 17, "1000 bytes over {} lines", lines.len());
        // Past a block, a new one.
        let more: BTreeSet<usize> = (0..5000).map(|_| addr(board.take())).collect();
        assert_eq!(more.len(), 5000);
        assert!(more.iter().all(|a| !bytes.contains(a)));
    }

    #[test]
    fn a_byte_given_back_is_taken_again_cleared() {
        let mut board = Board::new();
        let byte = board.take();
        byte.store(0b101, Ordering::Relaxed);
        let other = board.take();
        board.give(byte);
        let again = board.take();
        assert!(
            std::ptr::eq(again, byte),
            "the byte given back is taken first"
        );
        assert_eq!(again.load(Ordering::Relaxed), 0, "and cleared");
        assert!(!std::ptr::eq(board.take(), other));
    }

    #[test]
    fn the_marks_are_the_slots_byte() {
        let slot = Slot::take();
        let marks = slot.marks();
        marks.store(1, Ordering::Relaxed);
        assert_eq!(
            slot.0.load(Ordering::Relaxed),
            1,
            "one byte, seen through both"
        );
        assert_eq!(format!("{slot:?}"), "Slot(1)");
    }
}
