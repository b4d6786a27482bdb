//! Heap accounting: a counting global allocator, to measure the bytes a strategy keeps.
//! Implementing an allocator takes `unsafe`; it only forwards to the system allocator.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

/// Counts the bytes this thread has on the heap.
struct Counting;

thread_local! {
    static LIVE: Cell<isize> = const { Cell::new(0) };
}

fn count(delta: isize) {
    // `try_with`: a thread being torn down has no counter left, and needs none.
    let _ = LIVE.try_with(|live| live.set(live.get() + delta));
}

/// Heap bytes allocated and not freed by this thread so far.
pub fn live_bytes() -> isize {
    LIVE.with(Cell::get)
}

// SAFETY: every call forwards to `System` with the same arguments; only a counter is added.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count(layout.size() as isize);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        count(-(layout.size() as isize));
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count(new_size as isize - layout.size() as isize);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_what_is_held() {
        let before = live_bytes();
        let v = std::hint::black_box(vec![0u8; 4096]);
        assert_eq!(live_bytes() - before, 4096);
        drop(v);
        assert_eq!(live_bytes(), before);
    }
}
