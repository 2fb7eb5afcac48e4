//! aedifion hash ids: the short topic postfix an edge device publishes each datapoint on.
//!
//! Algorithm (reference §4.2): SHA-1 over the raw UTF-8 datapoint name (no escaping, trimming
//! or Unicode normalisation), base62 of the whole 20-byte digest read as a big-endian unsigned
//! integer (alphabet `0-9A-Za-z`, most significant digit first), then the first `length`
//! characters. Encoding first and cutting second is what every id published by aedifion shows.
//!
//! The Python library aedifion uses (pybase62) changed how it encodes leading zero bytes in
//! 1.0.0, which changes the id of about 1 name in 256. Which version the platform runs is not
//! known, so [`hash_id`] follows the older (<= 0.6.0) integer encoding that was current when the
//! documented ids were produced, and [`hash_id_candidates`] gives both so topics can be matched
//! either way.

use sha1::{Digest, Sha1};

/// pybase62's default alphabet: digits, then upper case, then lower case.
pub const BASE62_ALPHABET: &[u8; 62] =
    b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// The hash id length aedifion projects use unless configured otherwise.
pub const DEFAULT_HASH_ID_LENGTH: usize = 8;

/// The documented range of per-project hash id lengths.
pub const HASH_ID_LENGTHS: std::ops::RangeInclusive<usize> = 4..=12;

/// How a byte string is turned into base62 text; the two differ only for leading zero bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Base62Variant {
    /// pybase62 <= 0.6.0 (`encode(int.from_bytes(digest, "big"))`): leading zero bytes vanish.
    /// The default, because the documented ids date from when this was current.
    Legacy,
    /// pybase62 1.0.0 `encodebytes`: each run of up to 61 leading zero bytes is first written
    /// as `"0"` followed by the alphabet character for the run length.
    Pybase62V1,
}

/// The hash id of a datapoint name: the first `length` characters of [`full_hash`] with the
/// [`Base62Variant::Legacy`] encoding. A `length` beyond the full string gives the full string.
pub fn hash_id(name: &str, length: usize) -> String {
    hash_id_with(name, length, Base62Variant::Legacy)
}

/// Like [`hash_id`], with an explicit base62 variant.
pub fn hash_id_with(name: &str, length: usize, variant: Base62Variant) -> String {
    let mut full = full_hash(name, variant);
    // The alphabet is ASCII, so a byte index is a char index.
    full.truncate(length);
    full
}

/// Every hash id the platform might use for `name` (both pybase62 variants), legacy first,
/// without duplicates (the variants agree for 255 names in 256).
pub fn hash_id_candidates(name: &str, length: usize) -> Vec<String> {
    let legacy = hash_id_with(name, length, Base62Variant::Legacy);
    let v1 = hash_id_with(name, length, Base62Variant::Pybase62V1);
    if legacy == v1 {
        vec![legacy]
    } else {
        vec![legacy, v1]
    }
}

/// Whether a topic postfix is a hash id of `name` under either variant. Postfixes shorter than
/// the documented minimum length never match, so a one-letter level is not taken for an id.
pub fn is_hash_id_of(postfix: &str, name: &str) -> bool {
    if postfix.len() < *HASH_ID_LENGTHS.start() {
        return false;
    }
    [Base62Variant::Legacy, Base62Variant::Pybase62V1]
        .into_iter()
        .any(|variant| full_hash(name, variant).starts_with(postfix))
}

/// The complete base62 text of the SHA-1 digest of `name` (26 to 28 characters).
pub fn full_hash(name: &str, variant: Base62Variant) -> String {
    let digest: [u8; 20] = Sha1::digest(name.as_bytes()).into();
    base62_bytes(&digest, variant)
}

/// Base62 text of a big-endian byte string.
pub fn base62_bytes(bytes: &[u8], variant: Base62Variant) -> String {
    let leading_zeros = bytes.iter().take_while(|&&byte| byte == 0).count();
    let mut text = String::new();
    if variant == Base62Variant::Pybase62V1 {
        push_zero_run_prefix(&mut text, leading_zeros);
        if leading_zeros == bytes.len() {
            // pybase62 1.0.0 writes only the run prefix for all-zero (and empty) input.
            return text;
        }
    }
    text.push_str(&base62_integer(&bytes[leading_zeros..]));
    text
}

/// pybase62 1.0.0: a leading zero run of length k is written as `"0" + ALPHABET[k]`, in chunks
/// of at most 61 (the last alphabet index).
fn push_zero_run_prefix(text: &mut String, mut run_length: usize) {
    let max_run = BASE62_ALPHABET.len() - 1;
    while run_length > 0 {
        let chunk = run_length.min(max_run);
        text.push('0');
        text.push(char::from(BASE62_ALPHABET[chunk]));
        run_length -= chunk;
    }
}

/// Base62 of a big-endian unsigned integer of any size; `"0"` for zero.
///
/// Schoolbook long division by 62: a 160-bit digest does not fit any primitive integer.
fn base62_integer(big_endian: &[u8]) -> String {
    let mut number: Vec<u8> = big_endian
        .iter()
        .copied()
        .skip_while(|&byte| byte == 0)
        .collect();
    let mut digits_reversed = Vec::with_capacity(28);
    while !number.is_empty() {
        let mut remainder: u32 = 0;
        for byte in &mut number {
            let accumulator = (remainder << 8) | u32::from(*byte);
            // accumulator < 62 * 256, so the quotient fits a byte.
            *byte = u8::try_from(accumulator / 62).unwrap_or(u8::MAX);
            remainder = accumulator % 62;
        }
        digits_reversed.push(BASE62_ALPHABET[remainder as usize]);
        let leading_zeros = number.iter().take_while(|&&byte| byte == 0).count();
        number.drain(..leading_zeros);
    }
    if digits_reversed.is_empty() {
        return "0".to_owned();
    }
    digits_reversed
        .iter()
        .rev()
        .map(|&digit| char::from(digit))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documented_names_give_documented_ids() {
        assert_eq!(hash_id("RoomTemperature", 8), "Pm2cx76I");
        assert_eq!(hash_id("bacnet221-AbsPower_SI", 8), "GSw38tZd");
        assert_eq!(
            hash_id("bacnet100-4120-Real-room-temperature-setpoint-RTs_real", 12),
            "7fSjkcIHwKiq"
        );
        assert_eq!(hash_id("datapoint_within_your_office", 8), "Jw0EdgdG");
    }

    #[test]
    fn raw_and_escaped_names_hash_differently() {
        assert_eq!(hash_id("Room Temperature 1.OG", 8), "WacN8155");
        assert_eq!(hash_id("Room\\ Temperature\\ 1.OG", 8), "EIsEp2lG");
    }

    #[test]
    fn one_leading_zero_byte_splits_the_variants() {
        assert_eq!(hash_id("dp-64", 8), "5KyL5sGB");
        assert_eq!(
            hash_id_with("dp-64", 8, Base62Variant::Pybase62V1),
            "015KyL5s"
        );
        assert_eq!(
            hash_id_candidates("dp-64", 8),
            vec!["5KyL5sGB".to_owned(), "015KyL5s".to_owned()]
        );
    }

    #[test]
    fn two_leading_zero_bytes_give_a_02_prefix() {
        assert_eq!(
            full_hash("dp-58946", Base62Variant::Pybase62V1),
            "02sz4OS0g42QNUHwYrUL5dRY9v"
        );
        assert_eq!(
            full_hash("dp-58946", Base62Variant::Legacy),
            "sz4OS0g42QNUHwYrUL5dRY9v"
        );
    }

    #[test]
    fn candidates_are_deduplicated_when_variants_agree() {
        assert_eq!(hash_id_candidates("dp-9", 8), vec!["9UJsnI1g".to_owned()]);
    }

    #[test]
    fn a_length_beyond_the_full_hash_gives_the_full_hash() {
        assert_eq!(
            hash_id("RoomTemperature", 100),
            "Pm2cx76ItxFzIvHLWV4hGXBtMMk"
        );
    }

    #[test]
    fn zero_and_empty_inputs_encode_like_pybase62() {
        assert_eq!(base62_bytes(&[0, 0], Base62Variant::Legacy), "0");
        assert_eq!(base62_bytes(&[0, 0], Base62Variant::Pybase62V1), "02");
        assert_eq!(base62_bytes(&[], Base62Variant::Pybase62V1), "");
        assert_eq!(base62_bytes(&[61], Base62Variant::Legacy), "z");
        assert_eq!(base62_bytes(&[0, 62], Base62Variant::Pybase62V1), "0110");
    }

    #[test]
    fn postfix_matching_accepts_either_variant_and_refuses_short_levels() {
        assert!(is_hash_id_of("GSw38tZd", "bacnet221-AbsPower_SI"));
        assert!(is_hash_id_of("015KyL5s", "dp-64"));
        assert!(is_hash_id_of("5KyL5sGB", "dp-64"));
        assert!(!is_hash_id_of("GSw", "bacnet221-AbsPower_SI"));
        assert!(!is_hash_id_of("XXXXXXXX", "bacnet221-AbsPower_SI"));
    }
}
