//! The AES S-box as a boolean circuit (the 32-AND, 83-XOR/XNOR design of Boyar and Peralta,
//! "A depth-16 circuit for the AES S-box", 2011), written over any `Bits` type so the same gates
//! run on 128-bit vectors (8 blocks at once) and on `u32` (the key schedule). A circuit has no
//! tables and no branches, which is what makes the cipher constant-time.
//!
//! Register `x[j]` holds bit `j` (bit 0 = least significant) of every byte being substituted.
//! The inverse S-box reuses the forward circuit: with S(x) = A(inv(x)) + 0x63 for the affine
//! map A, S^-1(y) = inv(A^-1(y + 0x63)) = A^-1(S(z) + 0x63) where z = A^-1(y) + 0x05.

use crate::vector::Bits;

/// S(x) + 0x63: the circuit without its output constant (`sbox` adds it back).
#[inline(always)]
pub fn sbox_raw<T: Bits>(x: &[T; 8]) -> [T; 8] {
    let (u0, u1, u2, u3, u4, u5, u6, u7) = (x[7], x[6], x[5], x[4], x[3], x[2], x[1], x[0]);
    // Top linear layer.
    let t1 = u0 ^ u3;
    let t2 = u0 ^ u5;
    let t3 = u0 ^ u6;
    let t4 = u3 ^ u5;
    let t5 = u4 ^ u6;
    let t6 = t1 ^ t5;
    let t7 = u1 ^ u2;
    let t8 = u7 ^ t6;
    let t9 = u7 ^ t7;
    let t10 = t6 ^ t7;
    let t11 = u1 ^ u5;
    let t12 = u2 ^ u5;
    let t13 = t3 ^ t4;
    let t14 = t6 ^ t11;
    let t15 = t5 ^ t11;
    let t16 = t5 ^ t12;
    let t17 = t9 ^ t16;
    let t18 = u3 ^ u7;
    let t19 = t7 ^ t18;
    let t20 = t1 ^ t19;
    let t21 = u6 ^ u7;
    let t22 = t7 ^ t21;
    let t23 = t2 ^ t22;
    let t24 = t2 ^ t10;
    let t25 = t20 ^ t17;
    let t26 = t3 ^ t16;
    let t27 = t1 ^ t12;
    let d = u7;
    // Shared nonlinear middle: inversion in GF(2^8) through a tower field.
    let m1 = t13 & t6;
    let m2 = t23 & t8;
    let m3 = t14 ^ m1;
    let m4 = t19 & d;
    let m5 = m4 ^ m1;
    let m6 = t3 & t16;
    let m7 = t22 & t9;
    let m8 = t26 ^ m6;
    let m9 = t20 & t17;
    let m10 = m9 ^ m6;
    let m11 = t1 & t15;
    let m12 = t4 & t27;
    let m13 = m12 ^ m11;
    let m14 = t2 & t10;
    let m15 = m14 ^ m11;
    let m16 = m3 ^ m2;
    let m17 = m5 ^ t24;
    let m18 = m8 ^ m7;
    let m19 = m10 ^ m15;
    let m20 = m16 ^ m13;
    let m21 = m17 ^ m15;
    let m22 = m18 ^ m13;
    let m23 = m19 ^ t25;
    let m24 = m22 ^ m23;
    let m25 = m22 & m20;
    let m26 = m21 ^ m25;
    let m27 = m20 ^ m21;
    let m28 = m23 ^ m25;
    let m29 = m28 & m27;
    let m30 = m26 & m24;
    let m31 = m20 & m23;
    let m32 = m27 & m31;
    let m33 = m27 ^ m25;
    let m34 = m21 & m22;
    let m35 = m24 & m34;
    let m36 = m24 ^ m25;
    let m37 = m21 ^ m29;
    let m38 = m32 ^ m33;
    let m39 = m23 ^ m30;
    let m40 = m35 ^ m36;
    let m41 = m38 ^ m40;
    let m42 = m37 ^ m39;
    let m43 = m37 ^ m38;
    let m44 = m39 ^ m40;
    let m45 = m42 ^ m41;
    let m46 = m44 & t6;
    let m47 = m40 & t8;
    let m48 = m39 & d;
    let m49 = m43 & t16;
    let m50 = m38 & t9;
    let m51 = m37 & t17;
    let m52 = m42 & t15;
    let m53 = m45 & t27;
    let m54 = m41 & t10;
    let m55 = m44 & t13;
    let m56 = m40 & t23;
    let m57 = m39 & t19;
    let m58 = m43 & t3;
    let m59 = m38 & t22;
    let m60 = m37 & t20;
    let m61 = m42 & t1;
    let m62 = m45 & t4;
    let m63 = m41 & t2;
    // Bottom linear layer.
    let l0 = m61 ^ m62;
    let l1 = m50 ^ m56;
    let l2 = m46 ^ m48;
    let l3 = m47 ^ m55;
    let l4 = m54 ^ m58;
    let l5 = m49 ^ m61;
    let l6 = m62 ^ l5;
    let l7 = m46 ^ l3;
    let l8 = m51 ^ m59;
    let l9 = m52 ^ m53;
    let l10 = m53 ^ l4;
    let l11 = m60 ^ l2;
    let l12 = m48 ^ m51;
    let l13 = m50 ^ l0;
    let l14 = m52 ^ m61;
    let l15 = m55 ^ l1;
    let l16 = m56 ^ l0;
    let l17 = m57 ^ l1;
    let l18 = m58 ^ l8;
    let l19 = m63 ^ l4;
    let l20 = l0 ^ l1;
    let l21 = l1 ^ l7;
    let l22 = l3 ^ l12;
    let l23 = l18 ^ l2;
    let l24 = l15 ^ l9;
    let l25 = l6 ^ l10;
    let l26 = l7 ^ l9;
    let l27 = l8 ^ l10;
    let l28 = l11 ^ l14;
    let l29 = l11 ^ l17;
    // Outputs s0 (msb) .. s7 (lsb); the published circuit complements s1, s2, s6, s7 (= + 0x63).
    let s0 = l6 ^ l24;
    let s1 = l16 ^ l26;
    let s2 = l19 ^ l28;
    let s3 = l6 ^ l21;
    let s4 = l20 ^ l22;
    let s5 = l25 ^ l29;
    let s6 = l13 ^ l27;
    let s7 = l6 ^ l23;
    [s7, s6, s5, s4, s3, s2, s1, s0]
}

/// The AES S-box on 8 bit-planes.
#[inline(always)]
pub fn sbox<T: Bits>(x: &[T; 8]) -> [T; 8] {
    let s = sbox_raw(x);
    // + 0x63: bits 0, 1, 5, 6.
    [!s[0], !s[1], s[2], s[3], s[4], !s[5], !s[6], s[7]]
}

/// The linear part of the inverse affine map: out_i = in_(i+2) + in_(i+5) + in_(i+7) (mod 8).
/// Only the tests use it directly: `inv_sbox_raw` has it folded into the circuit's linear layers.
#[cfg(test)]
#[inline(always)]
fn affine_inv_linear<T: Bits>(x: &[T; 8]) -> [T; 8] {
    let f = |i: usize| x[(i + 2) & 7] ^ x[(i + 5) & 7] ^ x[(i + 7) & 7];
    [f(0), f(1), f(2), f(3), f(4), f(5), f(6), f(7)]
}

/// The inverse AES S-box on 8 bit-planes.
#[inline(always)]
pub fn inv_sbox<T: Bits>(y: &[T; 8]) -> [T; 8] {
    // + 0x63 before A^-1 is + 0x05 after it.
    let c: [T; 8] = [!y[0], !y[1], y[2], y[3], y[4], !y[5], !y[6], y[7]];
    inv_sbox_raw(&c)
}

/// S^-1(y + 0x63): the inverse S-box of input that still carries the 0x63 constant, equal to
/// A^-1 . sbox_raw . A^-1 with A^-1 the linear part of the inverse affine map (a test checks this
/// for all bytes). Each A^-1 (16 XORs) is folded into the neighbouring linear layer of the
/// forward circuit and the composed layers re-derived with Paar's greedy common-pair heuristic:
/// 31 XORs on top instead of 16 + 27, 35 at the bottom instead of 30 + 16. The nonlinear middle
/// (m1..m63) is `sbox_raw`'s, line for line.
#[inline(always)]
pub fn inv_sbox_raw<T: Bits>(y: &[T; 8]) -> [T; 8] {
    let (y0, y1, y2, y3, y4, y5, y6, y7) = (y[0], y[1], y[2], y[3], y[4], y[5], y[6], y[7]);
    // Top linear layer: the forward circuit's, composed with A^-1.
    let p0 = y0 ^ y6;
    let p1 = y1 ^ p0;
    let p2 = y3 ^ y4;
    let p3 = y2 ^ y7;
    let p4 = y4 ^ y5;
    let p5 = y6 ^ y7;
    let p6 = y0 ^ p2;
    let p7 = y3 ^ p1;
    let p8 = y4 ^ p1;
    let p9 = y5 ^ p3;
    let p10 = y1 ^ p6;
    let p11 = p2 ^ p5;
    let p12 = y2 ^ y6;
    let p13 = p12 ^ p4;
    let p14 = y4 ^ p5;
    let p15 = y3 ^ y7;
    let p16 = p15 ^ p0;
    let p17 = y7 ^ p1;
    let p18 = p3 ^ p7;
    let p19 = p3 ^ p8;
    let p20 = y1 ^ y3;
    let p21 = p20 ^ y5;
    let p22 = p21 ^ y6;
    let p23 = p1 ^ p4;
    let p24 = y4 ^ y6;
    let p25 = y4 ^ y7;
    let p26 = y0 ^ y3;
    let p27 = y5 ^ p2;
    let p28 = p0 ^ p4;
    let p29 = y1 ^ y2;
    let p30 = p29 ^ p2;
    let d = p9;
    let t1 = p2;
    let t2 = p5;
    let t3 = p10;
    let t4 = p11;
    let t6 = p13;
    let t8 = p14;
    let t9 = p6;
    let t10 = p16;
    let t13 = p17;
    let t14 = p18;
    let t15 = p19;
    let t16 = p22;
    let t17 = p23;
    let t19 = p8;
    let t20 = p7;
    let t22 = p24;
    let t23 = p25;
    let t24 = p26;
    let t25 = p27;
    let t26 = p28;
    let t27 = p30;
    // Shared nonlinear middle, as in `sbox_raw`.
    let m1 = t13 & t6;
    let m2 = t23 & t8;
    let m3 = t14 ^ m1;
    let m4 = t19 & d;
    let m5 = m4 ^ m1;
    let m6 = t3 & t16;
    let m7 = t22 & t9;
    let m8 = t26 ^ m6;
    let m9 = t20 & t17;
    let m10 = m9 ^ m6;
    let m11 = t1 & t15;
    let m12 = t4 & t27;
    let m13 = m12 ^ m11;
    let m14 = t2 & t10;
    let m15 = m14 ^ m11;
    let m16 = m3 ^ m2;
    let m17 = m5 ^ t24;
    let m18 = m8 ^ m7;
    let m19 = m10 ^ m15;
    let m20 = m16 ^ m13;
    let m21 = m17 ^ m15;
    let m22 = m18 ^ m13;
    let m23 = m19 ^ t25;
    let m24 = m22 ^ m23;
    let m25 = m22 & m20;
    let m26 = m21 ^ m25;
    let m27 = m20 ^ m21;
    let m28 = m23 ^ m25;
    let m29 = m28 & m27;
    let m30 = m26 & m24;
    let m31 = m20 & m23;
    let m32 = m27 & m31;
    let m33 = m27 ^ m25;
    let m34 = m21 & m22;
    let m35 = m24 & m34;
    let m36 = m24 ^ m25;
    let m37 = m21 ^ m29;
    let m38 = m32 ^ m33;
    let m39 = m23 ^ m30;
    let m40 = m35 ^ m36;
    let m41 = m38 ^ m40;
    let m42 = m37 ^ m39;
    let m43 = m37 ^ m38;
    let m44 = m39 ^ m40;
    let m45 = m42 ^ m41;
    let m46 = m44 & t6;
    let m47 = m40 & t8;
    let m48 = m39 & d;
    let m49 = m43 & t16;
    let m50 = m38 & t9;
    let m51 = m37 & t17;
    let m52 = m42 & t15;
    let m53 = m45 & t27;
    let m54 = m41 & t10;
    let m55 = m44 & t13;
    let m56 = m40 & t23;
    let m57 = m39 & t19;
    let m58 = m43 & t3;
    let m59 = m38 & t22;
    let m60 = m37 & t20;
    let m61 = m42 & t1;
    let m62 = m45 & t4;
    let m63 = m41 & t2;
    // Bottom linear layer composed with A^-1.
    let q0 = m52 ^ m61;
    let q1 = m58 ^ q0;
    let q2 = m59 ^ q1;
    let q3 = m54 ^ m62;
    let q4 = m46 ^ q2;
    let q5 = m47 ^ m50;
    let q6 = m48 ^ m56;
    let q7 = m49 ^ m60;
    let q8 = m49 ^ q2;
    let q9 = m50 ^ m53;
    let q10 = m51 ^ q3;
    let q11 = m55 ^ m63;
    let q12 = m57 ^ q6;
    let q13 = q5 ^ q7;
    let q14 = m57 ^ m61;
    let q15 = q14 ^ q11;
    let q16 = m62 ^ q8;
    let q17 = q16 ^ q9;
    let q18 = q4 ^ q5;
    let q19 = q18 ^ q10;
    let q20 = m51 ^ m63;
    let q21 = q20 ^ q4;
    let q22 = q21 ^ q9;
    let q23 = q22 ^ q12;
    let q24 = m48 ^ q3;
    let q25 = q24 ^ q4;
    let q26 = q1 ^ q3;
    let q27 = q26 ^ q12;
    let q28 = q27 ^ q13;
    let q29 = m54 ^ m59;
    let q30 = q29 ^ q0;
    let q31 = q30 ^ q6;
    let q32 = q31 ^ q11;
    let q33 = q32 ^ q13;
    let q34 = q8 ^ q10;
    [q15, q17, q19, q23, q25, q28, q33, q34]
}

/// S-box of four bytes at once in constant time (for the key schedule): bytes become bit-planes
/// of a u32, pass through the circuit, and come back.
pub fn sub_word(w: [u8; 4]) -> [u8; 4] {
    let mut planes = [0u32; 8];
    for (j, p) in planes.iter_mut().enumerate() {
        for (k, &b) in w.iter().enumerate() {
            *p |= (((b >> j) & 1) as u32) << k;
        }
    }
    let s = sbox(&planes);
    let mut out = [0u8; 4];
    for (k, o) in out.iter_mut().enumerate() {
        for (j, p) in s.iter().enumerate() {
            *o |= (((p >> k) & 1) as u8) << j;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reference S-box from its definition: multiplicative inverse in GF(2^8), then the affine map.
    fn reference_sbox(x: u8) -> u8 {
        fn mul(mut a: u8, mut b: u8) -> u8 {
            let mut p = 0u8;
            while b != 0 {
                if b & 1 != 0 {
                    p ^= a;
                }
                let hi = a & 0x80;
                a <<= 1;
                if hi != 0 {
                    a ^= 0x1b;
                }
                b >>= 1;
            }
            p
        }
        let inv = if x == 0 { 0 } else { (1..=255u8).find(|&y| mul(x, y) == 1).unwrap() };
        inv ^ inv.rotate_left(1) ^ inv.rotate_left(2) ^ inv.rotate_left(3) ^ inv.rotate_left(4) ^ 0x63
    }

    fn apply(f: fn(&[u32; 8]) -> [u32; 8], bytes: [u8; 32]) -> [u8; 32] {
        let mut planes = [0u32; 8];
        for (j, p) in planes.iter_mut().enumerate() {
            for (k, &b) in bytes.iter().enumerate() {
                *p |= (((b >> j) & 1) as u32) << k;
            }
        }
        let s = f(&planes);
        let mut out = [0u8; 32];
        for (k, o) in out.iter_mut().enumerate() {
            for (j, p) in s.iter().enumerate() {
                *o |= (((p >> k) & 1) as u8) << j;
            }
        }
        out
    }

    #[test]
    fn circuit_matches_definition_for_all_bytes() {
        let known = [(0x00u8, 0x63u8), (0x01, 0x7c), (0x53, 0xed), (0xff, 0x16)];
        for (x, s) in known {
            assert_eq!(reference_sbox(x), s);
        }
        for base in (0..256).step_by(32) {
            let input: [u8; 32] = core::array::from_fn(|i| (base + i) as u8);
            let fwd = apply(sbox, input);
            let back = apply(inv_sbox, fwd);
            for i in 0..32 {
                assert_eq!(fwd[i], reference_sbox(input[i]), "S({:#x})", input[i]);
                assert_eq!(back[i], input[i], "S^-1(S({:#x}))", input[i]);
            }
        }
        assert_eq!(sub_word([0x00, 0x01, 0x53, 0xff]), [0x63, 0x7c, 0xed, 0x16]);
    }

    #[test]
    fn folded_inverse_circuit_equals_affine_sbox_affine() {
        for base in (0..256).step_by(32) {
            let input: [u8; 32] = core::array::from_fn(|i| (base + i) as u8);
            let folded = apply(inv_sbox_raw, input);
            let composed = apply(|y| affine_inv_linear(&sbox_raw(&affine_inv_linear(y))), input);
            assert_eq!(folded, composed);
        }
    }
}
