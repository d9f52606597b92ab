//! Ordinary agent traffic raises nothing through the full detector (built-in
//! rules, every decoded view): benign corpora both ways, and LLM API calls
//! carrying the provider's own key to the provider's own host.

use std::sync::Arc;
use traffic_guardian::core::finding::Direction;
use traffic_guardian::core::rules::corpus::{BENIGN_INBOUND, BENIGN_OUTBOUND};
use traffic_guardian::core::rules::registry::builtin_specs;
use traffic_guardian::core::rules::template::expand_seeded;
use traffic_guardian::core::scan::{Detector, MessageHead, ScanContext};

fn detector() -> Arc<Detector> {
    Arc::new(
        Detector::builtin(traffic_guardian::system::detector_options()).expect("rules compile"),
    )
}

fn key_for(rule_id: &str, seed: u64) -> String {
    let spec = builtin_specs()
        .find(|s| s.id == rule_id)
        .expect("rule exists");
    // The example's text is `... <key> ...`: take the token that starts with the key's prefix.
    let text = expand_seeded(spec.examples[0], seed)
        .expect("valid template")
        .text;
    text.split(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '=' | ':' | ','))
        .max_by_key(|t| t.len())
        .expect("a token")
        .to_owned()
}

#[test]
fn benign_corpora_raise_nothing_in_their_direction() {
    let d = detector();
    for (direction, corpus) in [
        (Direction::Inbound, BENIGN_INBOUND),
        (Direction::Outbound, BENIGN_OUTBOUND),
    ] {
        for (seed, template) in corpus.iter().enumerate() {
            let text = expand_seeded(template, seed as u64)
                .expect("valid template")
                .text;
            let ctx = ScanContext::new(direction, "https", "main", "api.example.com:443");
            let f = d.scan_text(&ctx, "body", text.as_bytes());
            assert!(f.is_empty(), "{direction}: {f:#?}\nin: {text}");
        }
    }
}

#[test]
fn exfil_rules_never_run_on_inbound_pages_that_mention_secrets() {
    let d = detector();
    let page = "<article><h1>Hardening</h1><p>Never let agents read /etc/shadow, ~/.ssh/id_rsa or .aws/credentials; \
                rotate keys like AKIAIOSFODNN7EXAMPLE.</p></article>";
    let ctx = ScanContext::new(Direction::Inbound, "https", "main", "docs.example.org:443");
    assert!(d.scan_text(&ctx, "body", page.as_bytes()).is_empty());
}

#[test]
fn provider_keys_to_their_own_provider_are_normal_traffic() {
    let d = detector();
    let cases = [
        ("anthropic_api_key", "x-api-key", "api.anthropic.com:443"),
        ("openai_project_key", "authorization", "api.openai.com:443"),
        (
            "google_api_key",
            "x-goog-api-key",
            "generativelanguage.googleapis.com:443",
        ),
        ("groq_api_key", "authorization", "api.groq.com:443"),
        ("github_pat_classic", "authorization", "api.github.com:443"),
        ("huggingface_token", "authorization", "huggingface.co:443"),
    ];
    for (seed, (rule, header, dest)) in cases.iter().enumerate() {
        let key = key_for(rule, seed as u64);
        let value = if *header == "authorization" {
            format!("Bearer {key}")
        } else {
            key.clone()
        };
        let body = format!(
            r#"{{"model":"m","api_key":"{key}","messages":[{{"role":"user","content":"Summarise the release notes for the asia-pacific team."}}]}}"#
        );
        let head = MessageHead {
            method: Some("POST"),
            url: Some("https://provider/v1/messages"),
            status: None,
            headers: vec![
                (header, value.as_bytes()),
                ("content-type", b"application/json".as_slice()),
            ],
        };
        let to_provider = ScanContext::new(Direction::Outbound, "https", "main", dest);
        let (f, _) = d.scan_message(&to_provider, &head, body.as_bytes());
        assert!(f.is_empty(), "{rule} to {dest}: {f:#?}");
        // The very same request to anywhere else is exfiltration.
        let elsewhere = ScanContext::new(
            Direction::Outbound,
            "https",
            "main",
            "paste.example.net:443",
        );
        let (f, _) = d.scan_message(&elsewhere, &head, body.as_bytes());
        assert!(
            f.iter().any(|f| f.pattern == *rule
                && f.severity >= traffic_guardian::core::finding::Severity::High),
            "{rule}: {f:#?}"
        );
    }
}
