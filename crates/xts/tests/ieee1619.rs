//! IEEE 1619-2007 XTS-AES-256 vectors 10-14 (data units of 512 bytes, sequence numbers 0xff ..
//! 0xffffffffff), read from the JSON file the TypeScript tests share, plus crate-level checks.

use xts::xts::{mul_alpha, Xts, XtsError};

const VECTORS: &str = include_str!("ieee1619-xts-aes-256.json");

fn hex(s: &str) -> Vec<u8> {
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
}

/// The string value of every `"name": "..."` in the file, in order (the file is flat and simple).
fn values(name: &str) -> Vec<String> {
    let pat = format!("\"{}\": \"", name);
    VECTORS.match_indices(&pat).map(|(i, _)| {
        let rest = &VECTORS[i + pat.len()..];
        rest[..rest.find('"').unwrap()].to_string()
    }).collect()
}

fn key() -> [u8; 64] {
    let k = hex(&(values("key1")[0].clone() + &values("key2")[0]));
    k.try_into().unwrap()
}

#[test]
fn ieee1619_vectors_10_to_14() {
    let xts = Xts::new(&key()).unwrap();
    let plain: Vec<u8> = (0..512).map(|i| i as u8).collect();
    let seqs = values("dataUnitSequenceNumber");
    let cts = values("ciphertext");
    assert_eq!(seqs.len(), 5);
    for (seq, ct) in seqs.iter().zip(&cts) {
        let n = u128::from_str_radix(seq.trim_start_matches("0x"), 16).unwrap();
        let mut buf = plain.clone();
        xts.encrypt_sectors(&mut buf, n, 512).unwrap();
        assert_eq!(buf, hex(ct), "encrypt, sequence number {}", seq);
        xts.decrypt_sectors(&mut buf, n, 512).unwrap();
        assert_eq!(buf, plain, "decrypt, sequence number {}", seq);
    }
}

#[test]
fn many_sectors_in_one_call_equal_one_sector_at_a_time() {
    let mut k = key();
    k[5] ^= 0x40;
    let xts = Xts::new(&k).unwrap();
    for &size in &[512usize, 1024, 4096] {
        for &count in &[1usize, 7, 8, 9, 17] {
            let data: Vec<u8> = (0..size * count).map(|i| (i * 31 + i / 7) as u8).collect();
            let first = (1u128 << 64) - 3; // crosses 2^64: the tweak is a 128-bit number
            let mut whole = data.clone();
            xts.encrypt_sectors(&mut whole, first, size).unwrap();
            for s in 0..count {
                let mut one = data[s * size..(s + 1) * size].to_vec();
                xts.encrypt_sectors(&mut one, first + s as u128, size).unwrap();
                assert_eq!(one, whole[s * size..(s + 1) * size]);
            }
            xts.decrypt_sectors(&mut whole, first, size).unwrap();
            assert_eq!(whole, data);
        }
    }
}

#[test]
fn refuses_equal_halves_and_bad_lengths() {
    let mut k = [7u8; 64];
    assert_eq!(Xts::new(&k).err(), Some(XtsError::EqualHalves));
    k[63] = 8;
    let xts = Xts::new(&k).unwrap();
    assert_eq!(xts.encrypt_sectors(&mut [0u8; 1000], 0, 500), Err(XtsError::BadLength));
    assert_eq!(xts.encrypt_sectors(&mut [0u8; 768], 0, 512), Err(XtsError::BadLength));
    assert_eq!(xts.encrypt_sectors(&mut [0u8; 8192], 0, 8192), Err(XtsError::BadLength));
    assert!(xts.encrypt_sectors(&mut [], 0, 512).is_ok());
}

#[test]
fn alpha_multiplication_follows_ieee1619_5_2() {
    assert_eq!(mul_alpha(1), 2);
    assert_eq!(mul_alpha(1u128 << 127), 0x87);
    assert_eq!(mul_alpha((1u128 << 127) | 1), 0x85);
}

#[test]
fn c_abi_round_trip_and_status_codes() {
    unsafe {
        xts::xts_clear_key();
        let p = xts::xts_alloc(1024);
        assert_eq!(xts::xts_encrypt(p, 1024, 0, 0, 512), xts::STATUS_NO_KEY);
        let k = key();
        let kp = xts::xts_alloc(64);
        core::ptr::copy_nonoverlapping(k.as_ptr(), kp, 64);
        assert_eq!(xts::xts_set_key(kp), xts::STATUS_OK);
        for i in 0..1024 {
            *p.add(i) = (i & 0xff) as u8;
        }
        // Sector 0xfe + iv offset 1 = tweak 0xff: vector 10.
        assert_eq!(xts::xts_encrypt(p, 512, 0xfe, 1, 512), xts::STATUS_OK);
        let ct = hex(&values("ciphertext")[0]);
        assert_eq!(core::slice::from_raw_parts(p, 512), &ct[..]);
        assert_eq!(xts::xts_decrypt(p, 512, 0xff, 0, 512), xts::STATUS_OK);
        assert_eq!(*p.add(511), 0xff);
        assert_eq!(xts::xts_encrypt(p, 1000, 0, 0, 512), xts::STATUS_BAD_LENGTH);
        let eq = [3u8; 64];
        core::ptr::copy_nonoverlapping(eq.as_ptr(), kp, 64);
        assert_eq!(xts::xts_set_key(kp), xts::STATUS_EQUAL_HALVES);
        assert_eq!(xts::xts_encrypt(p, 512, 0, 0, 512), xts::STATUS_NO_KEY);
        xts::xts_free(p, 1024);
        xts::xts_free(kp, 64);
    }
}
