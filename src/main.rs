//! The `crossdock` binary: a thin shell over the library, so tests drive the same code.

use std::alloc::{GlobalAlloc, Layout};
use std::ffi::c_void;
use std::process::ExitCode;

use libmimalloc_sys::{
    mi_free, mi_malloc, mi_malloc_aligned, mi_realloc, mi_realloc_aligned, mi_zalloc, mi_zalloc_aligned,
};

/// mimalloc: translation allocates many small strings and maps; the system allocator spent a
/// third of `crossdock translate`'s time in malloc and free.
///
/// Asked through its plain entry points wherever the alignment is one every block has (a
/// word, as std's own allocator does for malloc): the `mimalloc` crate asks for every block
/// by alignment, and mimalloc 3 serves a request for, say, 24 bytes aligned to 8 by
/// over-allocating into a larger size class once the page of its own class is full, so it
/// never refills that page (150,000 such allocations in translating 4 MB of 850s).
struct Mimalloc;

/// An alignment every block `mi_malloc` returns has: its smallest size class is a word.
const WORD: usize = std::mem::size_of::<usize>();

impl Mimalloc {
    /// Whether a block of `size` bytes aligned to `align` can come from the plain entry points.
    fn plain(align: usize, size: usize) -> bool {
        align <= WORD && align <= size
    }
}

// SAFETY: each method hands mimalloc a size and alignment it serves and returns its block
// (or null). `mi_free` frees a block from either entry point; `mi_realloc` is used only where
// word alignment is all the block needs, the aligned resize otherwise.
unsafe impl GlobalAlloc for Mimalloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if Mimalloc::plain(layout.align(), layout.size()) {
            unsafe { mi_malloc(layout.size()) as *mut u8 }
        } else {
            unsafe { mi_malloc_aligned(layout.size(), layout.align()) as *mut u8 }
        }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if Mimalloc::plain(layout.align(), layout.size()) {
            unsafe { mi_zalloc(layout.size()) as *mut u8 }
        } else {
            unsafe { mi_zalloc_aligned(layout.size(), layout.align()) as *mut u8 }
        }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, _layout: Layout) {
        unsafe { mi_free(ptr as *mut c_void) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if Mimalloc::plain(layout.align(), new_size) {
            unsafe { mi_realloc(ptr as *mut c_void, new_size) as *mut u8 }
        } else {
            unsafe { mi_realloc_aligned(ptr as *mut c_void, new_size, layout.align()) as *mut u8 }
        }
    }
}

#[global_allocator]
static ALLOCATOR: Mimalloc = Mimalloc;

fn main() -> ExitCode {
    crossdock::cli::main()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_have_their_alignment_and_keep_their_bytes_when_resized() {
        let allocator = Mimalloc;
        for align in [1, 2, 4, 8, 16, 32, 64, 4096] {
            for size in [1, 2, 3, 7, 8, 9, 24, 48, 100, 336, 1000, 1025, 70_000] {
                let Ok(layout) = Layout::from_size_align(size, align) else { continue };
                for (zeroed, new_size) in [(false, size * 3), (true, size.div_ceil(2))] {
                    // SAFETY: a non-zero layout; the block is written within its size, resized,
                    // and freed with the layout it then has.
                    unsafe {
                        let block = if zeroed { allocator.alloc_zeroed(layout) } else { allocator.alloc(layout) };
                        assert!(!block.is_null());
                        assert_eq!(block as usize % align, 0, "{size} bytes aligned to {align}");
                        if zeroed {
                            assert!((0..size).all(|i| *block.add(i) == 0), "{size} bytes zeroed");
                        }
                        (0..size).for_each(|i| *block.add(i) = i as u8);
                        let block = allocator.realloc(block, layout, new_size);
                        assert_eq!(block as usize % align, 0, "{size} to {new_size} bytes aligned to {align}");
                        let kept = size.min(new_size);
                        assert!((0..kept).all(|i| *block.add(i) == i as u8), "{size} to {new_size} bytes kept");
                        allocator.dealloc(block, Layout::from_size_align(new_size, align).unwrap());
                    }
                }
            }
        }
    }
}
