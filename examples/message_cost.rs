//! The scan pool's work for one small exchange, in nanoseconds: a GET's
//! request head, its response head and a 1 KiB prose body, in the shapes
//! of the proxy bench's `small_saturation` scenario. A profiling aid for the
//! fixed cost per message that a throughput corpus does not show.
//!
//! Run: `cargo run --release --target x86_64-unknown-linux-gnu --example message_cost`.
use std::time::Instant;
use traffic_guardian::core::finding::Direction;
use traffic_guardian::core::scan::{Detector, MessageHead, ScanContext};
fn main() {
    let det = std::sync::Arc::new(
        Detector::builtin(traffic_guardian::system::detector_options())
            .expect("built-in rules compile"),
    );
    let req = MessageHead {
        method: Some("GET"),
        url: Some("http://127.0.0.1:8080/small?i=12345"),
        status: None,
        headers: vec![
            ("host", b"127.0.0.1:8080".as_slice()),
            ("user-agent", b"bench/1.0"),
            ("accept", b"*/*"),
            ("accept-encoding", b"gzip, br"),
        ],
    };
    let resp = MessageHead {
        method: None,
        url: None,
        status: Some(200),
        headers: vec![
            ("server", b"nginx/1.26.3".as_slice()),
            ("date", b"Sat, 28 Nov 2026 08:00:00 GMT"),
            ("content-type", b"application/octet-stream"),
            ("content-length", b"1024"),
            ("last-modified", b"Fri, 27 Nov 2026 10:00:00 GMT"),
            ("connection", b"keep-alive"),
            ("etag", b"\"6747e2c0-400\""),
            ("accept-ranges", b"bytes"),
        ],
    };
    let out = ScanContext::new(
        Direction::Outbound,
        "http",
        "127.0.0.1:5000",
        "127.0.0.1:8080",
    );
    let inb = ScanContext::new(
        Direction::Inbound,
        "http",
        "127.0.0.1:5000",
        "127.0.0.1:8080",
    );
    let body: Vec<u8> =
        "the proxy forwards each request to the origin and scans a copy of the body. "
            .repeat(14)
            .into_bytes()[..1024]
            .to_vec();
    for _ in 0..3 {
        let n = 200_000;
        let t = Instant::now();
        for _ in 0..n {
            std::hint::black_box(det.scan_head(&out, &req));
        }
        let a = t.elapsed().as_nanos() as f64 / n as f64;
        let t = Instant::now();
        for _ in 0..n {
            std::hint::black_box(det.scan_head(&inb, &resp));
        }
        let b = t.elapsed().as_nanos() as f64 / n as f64;
        let t = Instant::now();
        for _ in 0..n {
            let mut i = det.body_inspector(inb.clone(), "body", None);
            std::hint::black_box(i.finish_with(&body));
        }
        let c = t.elapsed().as_nanos() as f64 / n as f64;
        println!("request head {a:.0} ns, response head {b:.0} ns, 1 KiB body inspector {c:.0} ns");
    }
}
