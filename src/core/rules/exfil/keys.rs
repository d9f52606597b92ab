//! Private key material in files and JSON (PEM, PuTTY, WhatsApp/Baileys
//! keys).

use super::SECRET;
use crate::core::finding::Severity;
use crate::core::rules::spec::RuleSpec;

pub(super) const RULES: &[RuleSpec] = &[
    RuleSpec {
        id: "private_key_pem",
        description: "PEM private key block (RSA, EC, DSA, OPENSSH, PKCS#8, ENCRYPTED, PGP, SSH2) with its body",
        severity: Severity::Critical,
        // Headers (`Proc-Type`, `DEK-Info`) must not carry a fill past the floor.
        min_entropy: 3.5,
        keywords: &["private key"],
        pattern: named!(r"-{4,5} ?BEGIN (?:[A-Z0-9]{1,10} ){0,3}PRIVATE KEY(?: BLOCK)? ?-{4,5}(?P<secret>(?:[A-Za-z0-9+/=\s:,]|\\[nr]|-[A-Za-z0-9]){40,})"),
        examples: &[
            "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA«b64:60»\n«b64:64»\n-----END RSA PRIVATE KEY-----\n",
            r#"{"private_key": "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBg«b64:50»\n«b64:64»\n-----END PRIVATE KEY-----\n"}"#,
            "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA«b64:60»\n-----END OPENSSH PRIVATE KEY-----",
            "-----BEGIN PGP PRIVATE KEY BLOCK-----\n\nlQdGBF«b64:64»\n=«b64:4»\n-----END PGP PRIVATE KEY BLOCK-----",
            "-----BEGIN EC PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,«uhex:32»\n\n«b64:64»\n-----END EC PRIVATE KEY-----",
        ],
        counter_examples: &[
            "To start a key file, look for the line -----BEGIN RSA PRIVATE KEY----- at the top.",
            "-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA«b64:64»\n-----END PUBLIC KEY-----",
        ],
        ..SECRET
    },
    RuleSpec {
        id: "putty_private_key",
        description: "PuTTY private key file (PuTTY-User-Key-File-2/3) with its private lines",
        severity: Severity::Critical,
        keywords: &["private-lines:"],
        // From `Private-Lines: N` to the `Private-MAC:` every key file ends
        // its private lines with: an explicit end, so the run cannot go on
        // into the lines after a key cut short. (It used to start at the
        // header, 3000 bytes back, and run greedily over 4000 characters,
        // longer than a body's carry-over, so a split body found another
        // value.) A private block longer than the carry-over (RSA keys of
        // 2048 bits and more) is carried whole while its match is open.
        pattern: named!(r"Private-Lines:[ \t]{0,3}[0-9]{1,3}[ \t]{0,3}\r?\n(?P<secret>[A-Za-z0-9+/=]{32,64}(?:\r?\n[A-Za-z0-9+/=]{1,64}){0,63}?)\r?\nPrivate-MAC:"),
        // The public line is fixed text: it is not secret, and the match
        // does not cover it.
        examples: &["PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\nComment: me\nPublic-Lines: 2\nAAAAC3NzaC1lZDI1NTE5AAAAIPublicKeyPublicKeyPublicKeyPublicKeyPub\nPrivate-Lines: 1\nAAAAI«b64:40»\nPrivate-MAC: «hex:64»\n", "PuTTY-User-Key-File-2: ssh-rsa\r\nEncryption: none\r\nPrivate-Lines: 2\r\n«b64:64»\r\n«b64:64»\r\nPrivate-MAC: «hex:40»\r\n"],
        counter_examples: &["PuTTY-User-Key-File-3: ssh-ed25519 (header only)", "Private-Lines: 14\n(see the PuTTY manual)", "Private-Lines: 2\n«b64:64»\n«b64:64»\n", "Private-Lines: 1\n«b64:80»\nPrivate-MAC: «hex:64»\n"],
        ..SECRET
    },
    RuleSpec {
        id: "whatsapp_identity_private_key",
        description: "WhatsApp (Baileys) creds.json key material: noise/identity/pairing private key",
        severity: Severity::Critical,
        keywords: &["noisekey", "signedidentitykey", "pairingephemeralkeypair"],
        pattern: named!(r#""(?:noiseKey|signedIdentityKey|pairingEphemeralKeyPair)"\s{0,3}:\s{0,3}\{\s{0,3}"private"\s{0,3}:\s{0,3}\{\s{0,3}"type"\s{0,3}:\s{0,3}"Buffer"\s{0,3},\s{0,3}"data"\s{0,3}:\s{0,3}"(?P<secret>[A-Za-z0-9+/]{42,44}={0,2})""#),
        expected_hosts: &[],
        examples: &[r#"{"noiseKey":{"private":{"type":"Buffer","data":"«b64:43»="},"public":{"type":"Buffer","data":"x"}}}"#, r#""signedIdentityKey": { "private": { "type": "Buffer", "data": "«b64:44»" } }"#],
        counter_examples: &[r#"{"noiseKey":{"public":{"type":"Buffer","data":"«b64:43»="}}}"#],
        ..SECRET
    },
    RuleSpec {
        id: "whatsapp_adv_secret_key",
        description: "WhatsApp (Baileys) creds.json advSecretKey",
        severity: Severity::Critical,
        keywords: &["advsecretkey"],
        pattern: named!(r#""advSecretKey"\s{0,3}:\s{0,3}"(?P<secret>[A-Za-z0-9+/]{42,44}={0,2})""#),
        examples: &[r#"{"advSecretKey":"«b64:43»=","processedHistoryMessages":[]}"#, r#""advSecretKey": "«b64:44»""#],
        counter_examples: &[r#""advSecretKey": """#],
        ..SECRET
    },
];
