use super::*;
use base64::engine::general_purpose::{STANDARD, URL_SAFE};
use base64::Engine;

fn key() -> [u8; 32] {
    crate::system::random_key()
}

fn random_value(len: usize) -> Vec<u8> {
    const ALPHA: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/!@#-_";
    let mut raw = vec![0u8; len];
    crate::system::fill_random(&mut raw).unwrap();
    raw.iter()
        .map(|b| ALPHA[usize::from(*b) % ALPHA.len()])
        .collect()
}

fn known(name: &str) -> SecretLabel {
    SecretLabel::Known {
        name: name.to_owned(),
        expected_hosts: Vec::new(),
    }
}

fn found(ks: &KnownSecrets, text: &[u8]) -> Vec<KnownHit> {
    let mut out = Vec::new();
    ks.find(text, &mut out);
    out
}

/// Every spelling the issue lists, at every offset in a surrounding text.
#[test]
fn every_encoding_is_found_at_any_position() {
    for len in [8usize, 13, 20, 41, 64] {
        let value = random_value(len);
        let mut ks = KnownSecrets::new(&key());
        ks.register(known("DB_PASSWORD"), &value).unwrap();
        let s = String::from_utf8(value.clone()).unwrap();
        let mut rev = value.clone();
        rev.reverse();
        let mut spellings: Vec<(Vec<u8>, &str)> = vec![
            (value.clone(), "raw"),
            (rev, "reversed"),
            (hex::encode(&value).into_bytes(), "hex"),
            (hex::encode_upper(&value).into_bytes(), "hex"),
            (
                url::form_urlencoded::byte_serialize(&value)
                    .collect::<String>()
                    .replace('+', "%20")
                    .into_bytes(),
                "percent",
            ),
            (serde_json::to_string(&s).unwrap().into_bytes(), "json"),
        ];
        // Base64 of the value after 0, 1 and 2 other bytes (e.g. `user:` in Basic auth).
        for prefix in ["", "u", "us", "user:"] {
            let mut plain = prefix.as_bytes().to_vec();
            plain.extend_from_slice(&value);
            plain.extend_from_slice(b"\n");
            spellings.push((STANDARD.encode(&plain).into_bytes(), "base64"));
            spellings.push((URL_SAFE.encode(&plain).into_bytes(), "base64url"));
        }
        for (spelled, what) in &spellings {
            for pad in 0..40 {
                let mut text = vec![b'x'; pad];
                text.extend_from_slice(b" data=");
                text.extend_from_slice(spelled);
                text.extend_from_slice(b"&more=1 trailing text");
                let hits = found(&ks, &text);
                assert!(
                    !hits.is_empty(),
                    "{what} (len {len}) not found at pad {pad}"
                );
                assert!(hits.iter().all(|h| h.entry == 0));
            }
        }
    }
}

#[test]
fn hex_like_values_match_case_folded_and_others_do_not() {
    let mut ks = KnownSecrets::new(&key());
    ks.register(known("HEXTOKEN"), b"0a1b2c3d4e5f60718293a4b5c6d7e8f9")
        .unwrap();
    ks.register(known("MIXED"), b"Tr0ub4dor&3-horse").unwrap();
    assert_eq!(found(&ks, b"t=0A1B2C3D4E5F60718293A4B5C6D7E8F9;").len(), 1);
    assert!(found(&ks, b"pw=tr0ub4dor&3-horse").is_empty());
    assert!(found(&ks, b"pw=TR0UB4DOR&3-HORSE").is_empty());
    assert_eq!(found(&ks, b"pw=Tr0ub4dor&3-horse").len(), 1);
}

#[test]
fn nothing_is_found_in_unrelated_text() {
    let mut ks = KnownSecrets::new(&key());
    for i in 0..200 {
        ks.register(known(&format!("V{i}")), &random_value(12 + i % 50))
            .unwrap();
    }
    let mut text = Vec::new();
    for i in 0..20_000 {
        text.extend_from_slice(format!("line {i}: the quick brown fox {} ", i * 7919).as_bytes());
    }
    text.extend_from_slice(&random_value(100_000));
    assert!(found(&ks, &text).is_empty());
}

#[test]
fn registration_refuses_bad_names_and_lengths_without_the_value() {
    let mut ks = KnownSecrets::new(&key());
    let e = ks.register(known("SHORT"), b"abc1234").unwrap_err();
    assert!(
        e.to_string().contains("SHORT") && !e.to_string().contains("abc1234"),
        "{e}"
    );
    let e = ks
        .register(known("bad name"), b"abcdefgh12345")
        .unwrap_err();
    assert!(matches!(e, KnownSecretError::BadName(_)));
    assert!(!e.to_string().contains("abcdefgh12345"));
    assert!(ks.is_empty());
}

#[test]
fn hashed_forms_round_trip_under_the_same_key_only() {
    let k = key();
    let value = random_value(40);
    let forms = KnownSecrets::new(&k).hash_forms("c1", &value).unwrap();
    let text = serde_json::to_string(&forms).unwrap();
    assert!(!text.contains(std::str::from_utf8(&value).unwrap()));
    let label = SecretLabel::Canary {
        id: "c1".into(),
        group: "main".into(),
        kind: "generic".into(),
    };
    let mut same = KnownSecrets::new(&k);
    same.add_hashed(label.clone(), &forms).unwrap();
    assert_eq!(found(&same, &value).len(), 1);
    let mut other = KnownSecrets::new(&key());
    other.add_hashed(label, &forms).unwrap();
    assert!(found(&other, &value).is_empty());
}

#[test]
fn expected_hosts_match_exact_and_suffix() {
    let l = SecretLabel::Known {
        name: "N".into(),
        expected_hosts: vec!["db.internal".into(), ".corp.example".into()],
    };
    assert!(l.expected_at("db.internal"));
    assert!(l.expected_at("a.corp.example"));
    assert!(l.expected_at("corp.example"));
    assert!(!l.expected_at("xcorp.example"));
    assert!(!l.expected_at("evil.example"));
}

#[test]
fn work_is_one_probe_per_stride() {
    let mut ks = KnownSecrets::new(&key());
    ks.register(known("LONG"), &random_value(40)).unwrap();
    // The shortest form is the raw value (or a base64 inner part): the stride
    // grows with it, so long values cost few probes.
    assert!(ks.stride >= 16, "stride {}", ks.stride);
}

/// Registration indexes a new value's grams alone unless it shortens the
/// stride, then everything again: in either order every value is found, in
/// every encoding, at every offset (also in the four-probe fast loop).
#[test]
fn every_value_is_found_whatever_the_registration_order() {
    let lens = [40usize, 64, 11, 30, 8, 90];
    for order in [lens.to_vec(), lens.iter().rev().copied().collect()] {
        let values: Vec<Vec<u8>> = order.iter().map(|&l| random_value(l)).collect();
        let mut ks = KnownSecrets::new(&key());
        for (i, v) in values.iter().enumerate() {
            ks.register(known(&format!("V{i}")), v).unwrap();
        }
        assert_eq!(ks.stride, 3, "the 8-byte value sets the stride");
        for (i, v) in values.iter().enumerate() {
            for spelled in [
                v.clone(),
                STANDARD.encode(v).into_bytes(),
                hex::encode(v).into_bytes(),
            ] {
                for pad in 0..5 {
                    let mut text = vec![b' '; 100 + pad];
                    text.extend_from_slice(&spelled);
                    text.extend_from_slice(&[b' '; 100]);
                    let hits = found(&ks, &text);
                    assert!(
                        hits.iter()
                            .any(|h| h.entry == i && h.range.start <= 100 + pad + 2),
                        "value {i} ({} bytes) at pad {pad} not found",
                        v.len()
                    );
                }
            }
        }
    }
}
