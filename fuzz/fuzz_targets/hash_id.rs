//! Hash ids and base62: never panic; ids use only the alphabet, are prefixes of the full hash
//! and are recognised by `is_hash_id_of` for every documented length.
#![no_main]

use libfuzzer_sys::fuzz_target;
use topicscope::model::aedifion::hash_id::{self, BASE62_ALPHABET, Base62Variant, HASH_ID_LENGTHS};

fuzz_target!(|data: &[u8]| {
    for variant in [Base62Variant::Legacy, Base62Variant::Pybase62V1] {
        let text = hash_id::base62_bytes(data, variant);
        assert!(text.bytes().all(|byte| BASE62_ALPHABET.contains(&byte)));
    }
    let Ok(name) = std::str::from_utf8(data) else {
        return;
    };
    for variant in [Base62Variant::Legacy, Base62Variant::Pybase62V1] {
        let full = hash_id::full_hash(name, variant);
        assert!((20..=30).contains(&full.len()), "{full}");
        for length in HASH_ID_LENGTHS {
            let id = hash_id::hash_id_with(name, length, variant);
            assert!(full.starts_with(&id));
            assert!(hash_id::is_hash_id_of(&id, name));
        }
    }
    let candidates = hash_id::hash_id_candidates(name, 8);
    assert!(!candidates.is_empty() && candidates.len() <= 2);
});
