//! What memory allocations really cost: the one rule every memory estimate in the model uses.

/// What one heap allocation of `len` bytes really occupies with a typical allocator (glibc:
/// an 8-byte header, 16-byte granularity, 32 bytes at least); 0 for no allocation. Counting
/// this instead of `len` keeps the memory budget close to the process's real size: small
/// strings cost two to three times their length.
pub const fn heap_bytes(len: usize) -> usize {
    let chunk = (len + 8).next_multiple_of(16);
    if len == 0 {
        0
    } else if chunk < 32 {
        32
    } else {
        chunk
    }
}
