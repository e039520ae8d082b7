//! Device buffers as kernel arguments, checked against the buffer's size: the one place a
//! buffer becomes a kernel argument, so that no kernel is handed a length its buffer lacks.

use cubecl::prelude::*;
use cubecl::server::Handle;

/// A kernel argument for the first `len` elements of type `T` in `handle`.
///
/// # Panics
/// If `handle` holds fewer than `len` elements of `T`: a kernel bounded by `len` would read or
/// write past the buffer.
pub fn arg<T>(handle: &Handle, len: usize) -> BufferArg {
    let bytes = handle.size_in_used();
    let needed = len as u64 * size_of::<T>() as u64;
    assert!(
        needed <= bytes,
        "a buffer of {bytes} bytes cannot hold {len} elements of {} bytes",
        size_of::<T>()
    );
    // SAFETY: the handle holds at least `len` elements of `T` (checked above).
    unsafe { BufferArg::from_raw_parts(handle.clone(), len) }
}

/// A kernel argument for the first `len` elements of type `T` in `handle` as vectors of
/// `lanes` elements (`len / lanes` of them).
///
/// # Panics
/// If `lanes` does not divide `len`, or as [`arg`].
pub fn vectors<T>(handle: &Handle, len: usize, lanes: usize) -> BufferArg {
    assert!(
        len.is_multiple_of(lanes),
        "{len} elements are not whole vectors of {lanes}"
    );
    let _ = arg::<T>(handle, len);
    // SAFETY: the handle holds `len` elements of `T` (checked by `arg`).
    unsafe { BufferArg::from_raw_parts(handle.clone(), len / lanes) }
}

/// A kernel argument for every whole element of type `T` in `handle`.
pub fn whole<T>(handle: &Handle) -> BufferArg {
    arg::<T>(handle, handle.size_in_used() as usize / size_of::<T>())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[should_panic(expected = "cannot hold 5 elements")]
    fn a_length_past_the_buffer_is_refused() {
        let client = crate::device::default_device()
            .expect("a compute device (see README)")
            .client();
        let h = client.create_from_slice(f32::as_bytes(&[0.0; 4]));
        let _ = arg::<f32>(&h, 5);
    }
}
