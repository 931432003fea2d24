//! XTS-AES-256 for Disk Lab: byte-compatible with Linux dm-crypt `aes-xts-plain64`, built from a
//! constant-time bitsliced AES (no key- or data-dependent table lookups or branches), compiled to
//! wasm with simd128 and consumed from TypeScript through a raw C ABI:
//!
//! - `xts_alloc(len) -> ptr`, `xts_free(ptr, len)`: buffers in linear memory (freed zeroed).
//! - `xts_set_key(ptr) -> status`: reads 64 bytes (data key, then tweak key); 1 = equal halves.
//! - `xts_clear_key()`: drops and zeroises the expanded key.
//! - `xts_encrypt` / `xts_decrypt(ptr, len, first_sector: u64, iv_offset: u64, sector_size: u32)
//!   -> status`: in place over `len / sector_size` sectors; sector i's tweak is
//!   first_sector + iv_offset + i as a 128-bit little-endian integer. 2 = no key, 3 = bad length.
//!
//! One instance holds one key: the loader instantiates the module once per key.

pub mod aes;
pub mod sbox;
pub mod vector;
pub mod xts;

use crate::xts::{Xts, XtsError};

/// Overwrites `x` with zero bytes in a way the optimiser may not remove.
pub fn wipe<T>(x: &mut T) {
    let p = x as *mut T as *mut u8;
    for i in 0..core::mem::size_of::<T>() {
        // SAFETY: `p + i` is inside `*x`; any bit pattern of zeroes is only ever dropped or overwritten.
        unsafe { core::ptr::write_volatile(p.add(i), 0) };
    }
    core::sync::atomic::compiler_fence(core::sync::atomic::Ordering::SeqCst);
}

pub const STATUS_OK: i32 = 0;
pub const STATUS_EQUAL_HALVES: i32 = 1;
pub const STATUS_NO_KEY: i32 = 2;
pub const STATUS_BAD_LENGTH: i32 = 3;

static mut KEY: Option<Xts> = None;

#[no_mangle]
pub extern "C" fn xts_alloc(len: usize) -> *mut u8 {
    let mut v: Vec<u8> = Vec::with_capacity(len.max(1));
    let p = v.as_mut_ptr();
    core::mem::forget(v);
    p
}

/// # Safety
/// `ptr` and `len` must come from one `xts_alloc` call, freed once.
#[no_mangle]
pub unsafe extern "C" fn xts_free(ptr: *mut u8, len: usize) {
    for i in 0..len {
        core::ptr::write_volatile(ptr.add(i), 0);
    }
    drop(Vec::from_raw_parts(ptr, 0, len.max(1)));
}

/// # Safety
/// `ptr` must be valid for 64 bytes of reads.
#[no_mangle]
pub unsafe extern "C" fn xts_set_key(ptr: *const u8) -> i32 {
    xts_clear_key();
    let key = &*(ptr as *const [u8; 64]);
    match Xts::new(key) {
        Ok(x) => {
            KEY = Some(x);
            STATUS_OK
        }
        Err(_) => STATUS_EQUAL_HALVES,
    }
}

#[no_mangle]
pub extern "C" fn xts_clear_key() {
    // SAFETY: wasm instances are single-threaded; Drop of Aes256 zeroises the round keys.
    unsafe { KEY = None };
}

unsafe fn run(ptr: *mut u8, len: usize, first: u64, iv_offset: u64, sector_size: u32, encrypt: bool) -> i32 {
    let key = match &*core::ptr::addr_of!(KEY) {
        Some(k) => k,
        None => return STATUS_NO_KEY,
    };
    let buf = core::slice::from_raw_parts_mut(ptr, len);
    let first = first as u128 + iv_offset as u128;
    let r = if encrypt {
        key.encrypt_sectors(buf, first, sector_size as usize)
    } else {
        key.decrypt_sectors(buf, first, sector_size as usize)
    };
    match r {
        Ok(()) => STATUS_OK,
        Err(XtsError::BadLength) | Err(XtsError::EqualHalves) => STATUS_BAD_LENGTH,
    }
}

/// # Safety
/// `ptr` must be valid for `len` bytes of reads and writes.
#[no_mangle]
pub unsafe extern "C" fn xts_encrypt(ptr: *mut u8, len: usize, first_sector: u64, iv_offset: u64, sector_size: u32) -> i32 {
    run(ptr, len, first_sector, iv_offset, sector_size, true)
}

/// # Safety
/// `ptr` must be valid for `len` bytes of reads and writes.
#[no_mangle]
pub unsafe extern "C" fn xts_decrypt(ptr: *mut u8, len: usize, first_sector: u64, iv_offset: u64, sector_size: u32) -> i32 {
    run(ptr, len, first_sector, iv_offset, sector_size, false)
}
