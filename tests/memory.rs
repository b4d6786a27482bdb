//! Memory: building a large fleet needs little beyond the tables it leaves behind.
//!
//! The binary counts every allocation, so it holds this one test alone.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use loadring::{HashRing, Server};

/// The system allocator, counting the bytes held now and at most since the last reset.
struct Counting;

static HELD: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is passed to `System` unchanged; the counters only watch.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract for `alloc`, passed on.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let held = HELD.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(held, Ordering::Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, p: *mut u8, layout: Layout) {
        // SAFETY: the caller's contract for `dealloc`, passed on.
        unsafe { System.dealloc(p, layout) };
        HELD.fetch_sub(layout.size(), Ordering::Relaxed);
    }
}

#[global_allocator]
static COUNTING: Counting = Counting;

/// A ring over 100,000 servers at the default 160 points each holds 276 MB of tables; its
/// build may hold at most a quarter more at its peak (an array the size of the index), never
/// a second copy of the points.
#[test]
fn a_100k_server_ring_builds_within_a_quarter_over_its_tables() {
    let servers: Vec<Server> = (0..100_000)
        .map(|i| Server::new(format!("10.{}.{}.{}:80", i >> 16, (i >> 8) & 255, i & 255)))
        .collect();
    let before = HELD.load(Ordering::Relaxed);
    PEAK.store(before, Ordering::Relaxed);
    let ring = HashRing::new(servers).unwrap();
    let transient = PEAK.load(Ordering::Relaxed) - before;
    let kept = HELD.load(Ordering::Relaxed) - before;
    let tables = ring.table_bytes();
    // What the ring keeps is its tables and the fleet's id index: `table_bytes` tells true.
    assert!(
        tables <= kept && kept <= tables + tables / 20,
        "{kept} vs {tables}"
    );
    eprintln!(
        "100,000 servers: {} MB of tables, {} MB at the peak of the build",
        tables >> 20,
        transient >> 20
    );
    assert_eq!(ring.point_count(), 16_000_000);
    assert!(
        transient <= tables + tables / 4,
        "{transient} > 1.25 × {tables}"
    );
}
