//! One 128-bit vector type for the bitsliced AES: wasm simd128 `v128` when compiled for wasm32
//! with `+simd128`, a plain `u128` everywhere else (native `cargo test`). Both versions offer the
//! same few operations; every byte permutation takes its indices from constants, never from data,
//! so neither version has key- or data-dependent memory accesses or branches.

use core::ops::{BitAnd, BitXor, BitXorAssign, Not};

/// The operations the S-box circuit needs; implemented by `V` and by `u32` (key schedule, tests).
pub trait Bits: Copy + BitXor<Output = Self> + BitAnd<Output = Self> + Not<Output = Self> {}
impl Bits for u32 {}

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod imp {
    use core::arch::wasm32::*;

    #[derive(Clone, Copy)]
    pub struct V(pub v128);

    const SHIFT_ROWS: v128 = u8x16(0, 1, 2, 3, 5, 6, 7, 4, 10, 11, 8, 9, 15, 12, 13, 14);
    const INV_SHIFT_ROWS: v128 = u8x16(0, 1, 2, 3, 7, 4, 5, 6, 10, 11, 8, 9, 13, 14, 15, 12);

    impl V {
        #[inline(always)]
        pub fn zero() -> V {
            V(u64x2(0, 0))
        }
        #[inline(always)]
        pub fn from_u128(x: u128) -> V {
            V(u64x2(x as u64, (x >> 64) as u64))
        }
        #[inline(always)]
        pub fn splat_byte(b: u8) -> V {
            V(u8x16_splat(b))
        }
        /// # Safety: `p` must be valid for 16 bytes of reads.
        #[inline(always)]
        pub unsafe fn load(p: *const u8) -> V {
            V(v128_load(p as *const v128))
        }
        /// # Safety: `p` must be valid for 16 bytes of writes.
        #[inline(always)]
        pub unsafe fn store(self, p: *mut u8) {
            v128_store(p as *mut v128, self.0)
        }
        #[inline(always)]
        pub fn shr<const N: u32>(self) -> V {
            V(u64x2_shr(self.0, N))
        }
        #[inline(always)]
        pub fn shl<const N: u32>(self) -> V {
            V(u64x2_shl(self.0, N))
        }
        /// ShiftRows in the row-major byte order (byte 4 * row + column): row r rotates left by
        /// r columns inside its own 32-bit lane. A swizzle by a constant mask rather than an
        /// `i8x16.shuffle`: V8 lowers a shuffle that matches none of its special patterns to
        /// `pshufb` plus about four instructions rebuilding the 16-byte mask on every use, while
        /// a swizzle whose indices are a constant below 16 is a bare `pshufb` and the mask, being
        /// loop-invariant, is built once outside the round loop. The indices are constants, so
        /// this is no data-dependent lookup.
        #[inline(always)]
        pub fn shift_rows(self) -> V {
            V(i8x16_swizzle(self.0, SHIFT_ROWS))
        }
        #[inline(always)]
        pub fn inv_shift_rows(self) -> V {
            V(i8x16_swizzle(self.0, INV_SHIFT_ROWS))
        }
        /// Row r of each column takes the byte of row r+1 (mod 4): with rows as 32-bit lanes this
        /// is a lane rotation, which engines lower to one `pshufd`-style instruction (a general
        /// byte shuffle costs a table shuffle plus rebuilding its 16-byte mask).
        #[inline(always)]
        pub fn rot1(self) -> V {
            V(i32x4_shuffle::<1, 2, 3, 0>(self.0, self.0))
        }
        #[inline(always)]
        pub fn rot2(self) -> V {
            V(i32x4_shuffle::<2, 3, 0, 1>(self.0, self.0))
        }
        /// Column-major (the AES byte order) to row-major and back: a 4x4 byte transpose.
        #[inline(always)]
        pub fn to_rows(self) -> V {
            V(i8x16_shuffle::<0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15>(self.0, self.0))
        }
    }
    impl core::ops::BitXor for V {
        type Output = V;
        #[inline(always)]
        fn bitxor(self, o: V) -> V {
            V(v128_xor(self.0, o.0))
        }
    }
    impl core::ops::BitAnd for V {
        type Output = V;
        #[inline(always)]
        fn bitand(self, o: V) -> V {
            V(v128_and(self.0, o.0))
        }
    }
    impl core::ops::Not for V {
        type Output = V;
        #[inline(always)]
        fn not(self) -> V {
            V(v128_not(self.0))
        }
    }
}

#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
mod imp {
    #[derive(Clone, Copy)]
    pub struct V(pub u128);

    // Row-major byte order (byte 4 * row + column), as in the wasm version.
    const SHIFT_ROWS: [usize; 16] = [0, 1, 2, 3, 5, 6, 7, 4, 10, 11, 8, 9, 15, 12, 13, 14];
    const INV_SHIFT_ROWS: [usize; 16] = [0, 1, 2, 3, 7, 4, 5, 6, 10, 11, 8, 9, 13, 14, 15, 12];
    const ROT1: [usize; 16] = [4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3];
    const ROT2: [usize; 16] = [8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7];
    const TO_ROWS: [usize; 16] = [0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15];

    #[inline(always)]
    fn permute(x: u128, idx: &[usize; 16]) -> u128 {
        let b = x.to_le_bytes();
        let mut o = [0u8; 16];
        for (i, &j) in idx.iter().enumerate() {
            o[i] = b[j];
        }
        u128::from_le_bytes(o)
    }
    // Per 64-bit lane, like wasm's u64x2 shifts (the callers mask bits that cross a byte anyway).
    const LO: u128 = u64::MAX as u128;

    impl V {
        #[inline(always)]
        pub fn zero() -> V {
            V(0)
        }
        #[inline(always)]
        pub fn from_u128(x: u128) -> V {
            V(x)
        }
        #[inline(always)]
        pub fn splat_byte(b: u8) -> V {
            V(u128::from_le_bytes([b; 16]))
        }
        /// # Safety: `p` must be valid for 16 bytes of reads.
        #[inline(always)]
        pub unsafe fn load(p: *const u8) -> V {
            V(u128::from_le_bytes(core::ptr::read_unaligned(p as *const [u8; 16])))
        }
        /// # Safety: `p` must be valid for 16 bytes of writes.
        #[inline(always)]
        pub unsafe fn store(self, p: *mut u8) {
            core::ptr::write_unaligned(p as *mut [u8; 16], self.0.to_le_bytes())
        }
        #[inline(always)]
        pub fn shr<const N: u32>(self) -> V {
            let lo = (self.0 & LO) >> N;
            let hi = ((self.0 >> 64) >> N) << 64;
            V(lo | hi)
        }
        #[inline(always)]
        pub fn shl<const N: u32>(self) -> V {
            let lo = ((self.0 & LO) << N) & LO;
            let hi = (self.0 >> 64) << (64 + N);
            V(lo | hi)
        }
        #[inline(always)]
        pub fn shift_rows(self) -> V {
            V(permute(self.0, &SHIFT_ROWS))
        }
        #[inline(always)]
        pub fn inv_shift_rows(self) -> V {
            V(permute(self.0, &INV_SHIFT_ROWS))
        }
        #[inline(always)]
        pub fn rot1(self) -> V {
            V(permute(self.0, &ROT1))
        }
        #[inline(always)]
        pub fn rot2(self) -> V {
            V(permute(self.0, &ROT2))
        }
        #[inline(always)]
        pub fn to_rows(self) -> V {
            V(permute(self.0, &TO_ROWS))
        }
    }
    impl core::ops::BitXor for V {
        type Output = V;
        #[inline(always)]
        fn bitxor(self, o: V) -> V {
            V(self.0 ^ o.0)
        }
    }
    impl core::ops::BitAnd for V {
        type Output = V;
        #[inline(always)]
        fn bitand(self, o: V) -> V {
            V(self.0 & o.0)
        }
    }
    impl core::ops::Not for V {
        type Output = V;
        #[inline(always)]
        fn not(self) -> V {
            V(!self.0)
        }
    }
}

pub use imp::V;
impl Bits for V {}

impl V {
    pub fn to_bytes(self) -> [u8; 16] {
        let mut b = [0u8; 16];
        // SAFETY: `b` is 16 writable bytes.
        unsafe { self.store(b.as_mut_ptr()) };
        b
    }
}

impl BitXorAssign for V {
    #[inline(always)]
    fn bitxor_assign(&mut self, o: V) {
        *self = *self ^ o;
    }
}
