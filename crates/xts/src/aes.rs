//! Bitsliced AES-256 over eight blocks at once (the Käsper–Schwabe layout): after `to_planes`,
//! register j holds bit j of every byte of the eight blocks, with the 16 byte positions of the AES
//! state as the vector's 16 bytes and the eight blocks as the 8 bits inside each byte. The bytes
//! are kept row-major (byte 4 * row + column, not AES's column-major order), so each state row is
//! one 32-bit lane: MixColumns' row rotations are then 32-bit lane rotations (one `pshufd` each in
//! V8) and ShiftRows is one constant byte shuffle. SubBytes is a boolean circuit: no table
//! lookups, no branches on key or data.

use crate::sbox::{inv_sbox_raw, sbox_raw, sub_word};
use crate::vector::V;

/// `[f(0), .., f(7)]` written out: `core::array::from_fn` keeps arrays in memory on Rust 1.63's
/// wasm backend, a literal lets LLVM keep all eight planes in locals.
macro_rules! arr8 {
    (|$j:ident| $e:expr) => {{
        let f = |$j: usize| $e;
        [f(0), f(1), f(2), f(3), f(4), f(5), f(6), f(7)]
    }};
}

pub const ROUNDS: usize = 14;

/// Eight 16-byte blocks (or, after `transpose`, eight bit-planes).
pub type State = [V; 8];

/// Expanded AES-256 key with each round key stored as bit-planes (byte = 0x00 or 0xff).
///
/// Round keys 1..14 also carry the S-box's 0x63 constant, so the rounds use the circuit without
/// it: in encryption the constant passes unchanged through ShiftRows and MixColumns (a column of
/// equal bytes c maps to (2+3+1+1)c = c) to the next key addition; in decryption it reaches the
/// next inverse S-box through InvMixColumns ((14+11+13+9)c = c) and InvShiftRows, and S^-1 wants
/// its input plus 0x63 anyway. Round key 0 is added last in decryption and stays plain.
pub struct Aes256 {
    planes: [[V; 8]; ROUNDS + 1],
}

#[inline(always)]
fn swap_move<const N: u32>(s: &mut State, a: usize, b: usize, mask: V) {
    let t = (s[a].shr::<N>() ^ s[b]) & mask;
    s[b] ^= t;
    s[a] ^= t.shl::<N>();
}

/// 8x8 bit transpose inside every byte position across the eight registers (an involution).
#[inline(always)]
pub fn transpose(s: &mut State) {
    let m1 = V::splat_byte(0x55);
    let m2 = V::splat_byte(0x33);
    let m4 = V::splat_byte(0x0f);
    swap_move::<1>(s, 0, 1, m1);
    swap_move::<1>(s, 2, 3, m1);
    swap_move::<1>(s, 4, 5, m1);
    swap_move::<1>(s, 6, 7, m1);
    swap_move::<2>(s, 0, 2, m2);
    swap_move::<2>(s, 1, 3, m2);
    swap_move::<2>(s, 4, 6, m2);
    swap_move::<2>(s, 5, 7, m2);
    swap_move::<4>(s, 0, 4, m4);
    swap_move::<4>(s, 1, 5, m4);
    swap_move::<4>(s, 2, 6, m4);
    swap_move::<4>(s, 3, 7, m4);
}

/// Eight blocks to bit-planes: each block's bytes to row-major order (so MixColumns' row
/// rotations are 32-bit lane rotations), then the bit transpose.
#[inline(always)]
pub fn to_planes(s: &mut State) {
    for v in s.iter_mut() {
        *v = v.to_rows();
    }
    transpose(s);
}

/// The inverse of `to_planes` (both steps are involutions).
#[inline(always)]
pub fn from_planes(s: &mut State) {
    transpose(s);
    for v in s.iter_mut() {
        *v = v.to_rows();
    }
}

/// Multiplication by x in GF(2^8) (modulus 0x11b) on bit-planes.
#[inline(always)]
fn xtime(y: &State) -> State {
    [y[7], y[0] ^ y[7], y[1], y[2] ^ y[7], y[3] ^ y[7], y[4], y[5], y[6]]
}

/// ShiftRows followed by MixColumns: out_r = 2(a_r + a_r+1) + a_r+1 + (a_r+2 + a_r+3).
#[inline(always)]
fn shift_mix(s: &State) -> State {
    let a: State = arr8!(|j| s[j].shift_rows());
    let r1: State = arr8!(|j| a[j].rot1());
    let y: State = arr8!(|j| a[j] ^ r1[j]);
    let x = xtime(&y);
    arr8!(|j| x[j] ^ r1[j] ^ y[j].rot2())
}

#[inline(always)]
fn mix_columns(a: &State) -> State {
    let r1: State = arr8!(|j| a[j].rot1());
    let y: State = arr8!(|j| a[j] ^ r1[j]);
    let x = xtime(&y);
    arr8!(|j| x[j] ^ r1[j] ^ y[j].rot2())
}

/// InvMixColumns = MixColumns after multiplying each column by 4x^2 + 5:
/// b_r = a_r + 4(a_r + a_r+2), since (3x^3 + x^2 + x + 2)(4x^2 + 5) = 11x^3 + 13x^2 + 9x + 14.
#[inline(always)]
fn inv_mix_columns(a: &State) -> State {
    let t: State = arr8!(|j| a[j] ^ a[j].rot2());
    let t4 = xtime(&xtime(&t));
    let b: State = arr8!(|j| a[j] ^ t4[j]);
    mix_columns(&b)
}

#[inline(always)]
fn add_key(s: &mut State, k: &[V; 8]) {
    for j in 0..8 {
        s[j] ^= k[j];
    }
}

impl Aes256 {
    pub fn new(key: &[u8; 32]) -> Aes256 {
        let mut w = [[0u8; 4]; 4 * (ROUNDS + 1)];
        for (i, word) in w.iter_mut().take(8).enumerate() {
            word.copy_from_slice(&key[4 * i..4 * i + 4]);
        }
        let mut rcon = 1u8;
        for i in 8..w.len() {
            let mut t = w[i - 1];
            if i % 8 == 0 {
                t = sub_word([t[1], t[2], t[3], t[0]]);
                t[0] ^= rcon;
                rcon = (rcon << 1) ^ (0x1b & 0u8.wrapping_sub(rcon >> 7));
            } else if i % 8 == 4 {
                t = sub_word(t);
            }
            for b in 0..4 {
                w[i][b] = w[i - 8][b] ^ t[b];
            }
        }
        let mut planes = [[V::zero(); 8]; ROUNDS + 1];
        for (r, round) in planes.iter_mut().enumerate() {
            for (j, plane) in round.iter_mut().enumerate() {
                let mut bytes = [0u8; 16];
                // Row-major, as the rounds keep the state: byte p is row p / 4, column p % 4.
                for (p, byte) in bytes.iter_mut().enumerate() {
                    // 0xff where bit j of key byte p is set, without a branch.
                    *byte = 0u8.wrapping_sub((w[4 * r + p % 4][p / 4] >> j) & 1);
                }
                // Bits 0, 1, 5, 6 of 0x63.
                let fold = if r > 0 && matches!(j, 0 | 1 | 5 | 6) { 0xff } else { 0 };
                for byte in bytes.iter_mut() {
                    *byte ^= fold;
                }
                *plane = V::from_u128(u128::from_le_bytes(bytes));
                crate::wipe(&mut bytes);
            }
        }
        crate::wipe(&mut w);
        Aes256 { planes }
    }

    /// Encrypts eight blocks held as bit-planes (see `transpose`).
    #[inline(always)]
    pub fn encrypt_planes(&self, s: &mut State) {
        add_key(s, &self.planes[0]);
        for r in 1..ROUNDS {
            let t = sbox_raw(s);
            *s = shift_mix(&t);
            add_key(s, &self.planes[r]);
        }
        let t = sbox_raw(s);
        *s = arr8!(|j| t[j].shift_rows());
        add_key(s, &self.planes[ROUNDS]);
    }

    /// Decrypts eight blocks held as bit-planes.
    #[inline(always)]
    pub fn decrypt_planes(&self, s: &mut State) {
        add_key(s, &self.planes[ROUNDS]);
        for r in (1..ROUNDS).rev() {
            let t: State = arr8!(|j| s[j].inv_shift_rows());
            *s = inv_sbox_raw(&t);
            add_key(s, &self.planes[r]);
            *s = inv_mix_columns(s);
        }
        let t: State = arr8!(|j| s[j].inv_shift_rows());
        *s = inv_sbox_raw(&t);
        add_key(s, &self.planes[0]);
    }

    /// Encrypts eight blocks (block b in `s[b]`) in place.
    pub fn encrypt8(&self, s: &mut State) {
        to_planes(s);
        self.encrypt_planes(s);
        from_planes(s);
    }

    /// Decrypts eight blocks (block b in `s[b]`) in place.
    pub fn decrypt8(&self, s: &mut State) {
        to_planes(s);
        self.decrypt_planes(s);
        from_planes(s);
    }
}

impl Drop for Aes256 {
    fn drop(&mut self) {
        crate::wipe(&mut self.planes);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
    }

    #[test]
    fn fips197_aes256_vector() {
        // FIPS-197 appendix C.3.
        let key: [u8; 32] = hex("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f").try_into().unwrap();
        let pt = hex("00112233445566778899aabbccddeeff");
        let ct = hex("8ea2b7ca516745bfeafc49904b496089");
        let aes = Aes256::new(&key);
        let mut s = [V::zero(); 8];
        for (b, v) in s.iter_mut().enumerate() {
            let mut blk = [0u8; 16];
            blk.copy_from_slice(&pt);
            blk[15] ^= b as u8; // different blocks in each slot
            *v = V::from_u128(u128::from_le_bytes(blk));
        }
        let orig = s;
        aes.encrypt8(&mut s);
        assert_eq!(s[0].to_bytes(), ct[..]);
        aes.decrypt8(&mut s);
        for b in 0..8 {
            assert_eq!(s[b].to_bytes(), orig[b].to_bytes());
        }
    }
}
