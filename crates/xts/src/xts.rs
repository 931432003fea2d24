//! XTS-AES-256 (IEEE 1619-2007) over whole sectors, as Linux dm-crypt's `aes-xts-plain64` does it:
//! the data unit is one sector and its tweak is the sector number as a 128-bit little-endian
//! integer. Sector sizes are multiples of 128 bytes, so there is never ciphertext stealing, and
//! every sector is a whole number of 8-block batches for the bitsliced AES.
//!
//! Tweaks for up to eight sectors are encrypted together in one bitsliced batch; the tweak of each
//! following block is the previous one times alpha in GF(2^128), computed without branches.

use crate::aes::{Aes256, State};
use crate::vector::V;

#[derive(Debug, PartialEq, Eq)]
pub enum XtsError {
    /// The two 32-byte halves of the key are equal (IEEE 1619 5.1 and dm-crypt refuse such keys).
    EqualHalves,
    /// The sector size is not a power of two between 512 and 4096, or the buffer is not whole sectors.
    BadLength,
}

pub struct Xts {
    data: Aes256,
    tweak: Aes256,
}

/// Tweak times alpha: a left shift of the 128-bit little-endian value, folding the carry back in
/// with the polynomial x^128 + x^7 + x^2 + x + 1 (0x87), masked rather than branched.
#[inline(always)]
pub fn mul_alpha(t: u128) -> u128 {
    let carry = (t >> 127) as u8;
    (t << 1) ^ (0x87 & 0u8.wrapping_sub(carry)) as u128
}

impl Xts {
    pub fn new(key: &[u8; 64]) -> Result<Xts, XtsError> {
        // Compare the halves without an early exit: the comparison itself must not leak.
        let diff = key[..32].iter().zip(&key[32..]).fold(0u8, |acc, (a, b)| acc | (a ^ b));
        if diff == 0 {
            return Err(XtsError::EqualHalves);
        }
        let mut k1 = [0u8; 32];
        let mut k2 = [0u8; 32];
        k1.copy_from_slice(&key[..32]);
        k2.copy_from_slice(&key[32..]);
        let xts = Xts { data: Aes256::new(&k1), tweak: Aes256::new(&k2) };
        crate::wipe(&mut k1);
        crate::wipe(&mut k2);
        Ok(xts)
    }

    pub fn encrypt_sectors(&self, buf: &mut [u8], first: u128, sector_size: usize) -> Result<(), XtsError> {
        self.run(buf, first, sector_size, true)
    }

    pub fn decrypt_sectors(&self, buf: &mut [u8], first: u128, sector_size: usize) -> Result<(), XtsError> {
        self.run(buf, first, sector_size, false)
    }

    fn run(&self, buf: &mut [u8], first: u128, sector_size: usize, encrypt: bool) -> Result<(), XtsError> {
        if !sector_size.is_power_of_two() || !(512..=4096).contains(&sector_size) || buf.len() % sector_size != 0 {
            return Err(XtsError::BadLength);
        }
        let sectors = buf.len() / sector_size;
        let mut group = 0;
        while group < sectors {
            let n = core::cmp::min(8, sectors - group);
            let mut tweaks: State = [V::zero(); 8];
            for (i, t) in tweaks.iter_mut().enumerate().take(n) {
                *t = V::from_u128(first.wrapping_add((group + i) as u128));
            }
            self.tweak.encrypt8(&mut tweaks);
            for (i, t) in tweaks.iter().enumerate().take(n) {
                let start = (group + i) * sector_size;
                let sector = &mut buf[start..start + sector_size];
                self.sector(sector, u128::from_le_bytes(t.to_bytes()), encrypt);
            }
            crate::wipe(&mut tweaks);
            group += n;
        }
        Ok(())
    }

    #[inline(always)]
    fn sector(&self, sector: &mut [u8], mut t: u128, encrypt: bool) {
        let ptr = sector.as_mut_ptr();
        for batch in 0..sector.len() / 128 {
            let mut tw: State = [V::zero(); 8];
            let mut s: State = [V::zero(); 8];
            for b in 0..8 {
                tw[b] = V::from_u128(t);
                t = mul_alpha(t);
                // SAFETY: batch * 128 + b * 16 + 16 <= sector.len() by the loop bounds.
                s[b] = unsafe { V::load(ptr.add(batch * 128 + b * 16)) } ^ tw[b];
            }
            if encrypt {
                self.data.encrypt8(&mut s);
            } else {
                self.data.decrypt8(&mut s);
            }
            for b in 0..8 {
                // SAFETY: as above.
                unsafe { (s[b] ^ tw[b]).store(ptr.add(batch * 128 + b * 16)) };
            }
        }
    }
}
