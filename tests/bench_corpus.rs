//! The realistic benchmark corpus (`benches/common/corpus.rs`): deterministic,
//! capped, never reading hidden or credential-like files, and its generated
//! API payloads in the shapes the benches claim.
use std::path::Path;

#[path = "../benches/common/corpus.rs"]
mod corpus;

use corpus::{Class, Sources};

/// A fake AWS access key id, generated at test time.
fn fake_secret() -> String {
    traffic_guardian::system::expand_template("AKIA«b32:16»").text
}

fn contains(hay: &[u8], needle: &str) -> bool {
    hay.windows(needle.len()).any(|w| w == needle.as_bytes())
}

#[test]
fn corpus_is_deterministic_and_capped() {
    let cap = 256 << 10;
    let a = corpus::build(&Sources::machine(), cap);
    let b = corpus::build(&Sources::machine(), cap);
    assert_eq!(a.classes.len(), Class::ALL.len());
    for (x, y) in a.classes.iter().zip(&b.classes) {
        assert_eq!(x.class, y.class);
        assert!(x.bytes.len() <= cap, "{} exceeds the cap", x.class.name());
        assert!(
            x.bytes == y.bytes,
            "{} differs between builds",
            x.class.name()
        );
    }
    // The generated classes never depend on what the machine has.
    for class in [Class::ApiJson, Class::Base64] {
        let c = a.get(class).expect("class present");
        assert_eq!(c.bytes.len(), cap, "{} is filled to the cap", class.name());
    }
}

#[test]
fn hidden_and_credential_like_paths_are_excluded() {
    for p in [
        ".env",
        "pkg/.npmrc",
        "a/.git/config",
        "id_rsa",
        "docs/credentials.json",
        "server.key",
        "tls/cert.pem",
        "my_secret_notes.txt",
        "Token.md",
    ] {
        assert!(corpus::is_excluded(Path::new(p)), "{p} should be excluded");
    }
    for p in [
        "README.md",
        "lib/index.js",
        "src/keyboard.rs",
        "dist/app.min.js",
    ] {
        assert!(!corpus::is_excluded(Path::new(p)), "{p} should be read");
    }
}

#[test]
fn builder_never_reads_hidden_or_credential_files() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    let secret = fake_secret();
    let plain = "The quick reference for the garden hose manual, chapter one.";
    for sub in ["doc/pkg", "doc/.hidden", "nm/pkg", "nm/.cache"] {
        std::fs::create_dir_all(root.join(sub)).expect("mkdir");
    }
    std::fs::write(root.join("doc/pkg/README.md"), plain).expect("write");
    std::fs::write(root.join("doc/pkg/credentials.txt"), &secret).expect("write");
    std::fs::write(root.join("doc/.hidden/README.md"), &secret).expect("write");
    std::fs::write(root.join("nm/pkg/README.md"), plain).expect("write");
    std::fs::write(root.join("nm/.cache/README.md"), &secret).expect("write");
    std::fs::write(
        root.join("nm/pkg/secret.js"),
        format!("var k = '{secret}';"),
    )
    .expect("write");
    let src = Sources {
        doc_root: root.join("doc"),
        share_root: root.join("doc"),
        bin_root: root.join("bin"),
        node_modules: root.join("nm"),
        cargo_src: None,
        lockfiles: Vec::new(),
    };
    let c = corpus::build(&src, 64 << 10);
    let docs = c.get(Class::Docs).expect("docs");
    assert!(contains(&docs.bytes, plain), "the plain README is read");
    for class in &c.classes {
        assert!(
            !contains(&class.bytes, &secret),
            "{} contains a file it must not read",
            class.class.name()
        );
    }
}

#[test]
fn proxy_payloads_are_realistic_json_of_exact_size() {
    let prose = "Release notes: the scheduler now retries failed jobs. ".repeat(4000);
    let down = corpus::chat_response_body(&prose, 1 << 20);
    assert_eq!(down.len(), 1 << 20);
    let v: serde_json::Value = serde_json::from_slice(&down).expect("response parses");
    assert_eq!(v["type"], "message");
    let blocks = v["content"].as_array().expect("content blocks");
    assert!(blocks.iter().any(|b| b["type"] == "text"));
    assert!(blocks.iter().any(|b| b["type"] == "tool_use"));

    let up = corpus::chat_request_body(&prose, 64 << 10);
    assert_eq!(up.len(), 64 << 10);
    let v: serde_json::Value = serde_json::from_slice(&up).expect("request parses");
    assert!(v["messages"].as_array().is_some_and(|m| m.len() > 3));
    assert!(v["tools"].as_array().is_some_and(|t| !t.is_empty()));
}

#[test]
fn api_json_streams_carry_short_text_deltas() {
    let c = corpus::build(&Sources::machine(), 1 << 20);
    let api = c.get(Class::ApiJson).expect("api_json");
    let text = String::from_utf8_lossy(&api.bytes);
    let (mut anthropic, mut openai) = (0, 0);
    for line in text.lines() {
        let Some(data) = line.strip_prefix("data: ") else {
            continue;
        };
        let Ok(v) = serde_json::from_str::<serde_json::Value>(data) else {
            continue; // `[DONE]`, or the stream cut by the cap
        };
        let delta = if v["type"] == "content_block_delta" {
            anthropic += 1;
            v["delta"]["text"].as_str()
        } else if v["object"] == "chat.completion.chunk" {
            openai += 1;
            v["choices"][0]["delta"]["content"].as_str()
        } else {
            None
        };
        if let Some(d) = delta.filter(|d| !d.is_empty()) {
            let n = d.chars().count();
            assert!((3..=12).contains(&n), "delta of {n} characters");
        }
    }
    assert!(
        anthropic > 100 && openai > 100,
        "{anthropic} / {openai} deltas"
    );
}
