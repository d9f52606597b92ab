//! Secrets stay out of diagnostics: with tracing at `trace` for the guardian
//! (every crate, the proxy's dependencies included), a
//! request carrying secrets in its query, headers and body, and a MITM'd
//! exchange, leave no secret in the captured log output.

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};

use common::*;
use traffic_guardian::proxy::ProxySettings;

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn no_secret_reaches_the_logs_at_trace_level() {
    let captured = Captured::default();
    let writer = captured.clone();
    // Every crate at trace: nothing the proxy runs may log a secret.
    let filter = std::env::var("PROXY_LOG_TEST_FILTER").unwrap_or_else(|_| "trace".to_string());
    tracing::subscriber::set_global_default(
        tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .finish(),
    )
    .unwrap();

    let pki = test_pki();
    let (https_up, _) = spawn_https_upstream(&pki).await;
    let (http_up, _) = spawn_http_upstream().await;
    let home = tempfile::tempdir().unwrap();
    let settings = ProxySettings {
        mitm_enabled: true,
        trusted_runtimes: traffic_guardian::core::config::TrustedRuntimes::All,
        ca_dir: home.path().join("ca"),
        extra_ca_bundle: Some(pki.ca_pem_path.clone()),
        runtimes: vec![("agent".into(), "runtime-token-xyz123".into())],
        ..test_settings()
    };
    let ca_cert = home.path().join("ca").join("ca-cert.pem");
    let (engine, sink, paddr) = start_proxy(settings).await;
    let secrets = [
        fake_aws_key(),
        fake_aws_key(),
        fake_aws_key(),
        fake_aws_key(),
    ];
    let proxy = proxy_url(paddr);
    let res = curl(
        Some(&proxy),
        &format!("http://{http_up}/echo?key={}", secrets[0]),
        &[
            "-H",
            &format!("X-Key: {}", secrets[1]),
            "--data-binary",
            &format!("k={}", secrets[2]),
            "--proxy-user",
            "agent:runtime-token-xyz123",
        ],
    )
    .await;
    assert_eq!(res.status, 200);
    let res = curl(
        Some(&proxy),
        &format!("https://{https_up}/echo?key={}", secrets[3]),
        &[
            "--cacert",
            ca_cert.to_str().unwrap(),
            "--data-binary",
            "x=1",
        ],
    )
    .await;
    assert_eq!(res.status, 200);
    // The pivot guard and an upstream failure also log.
    let _ = curl(
        Some(&proxy),
        &format!("http://169.254.169.254/?k={}", secrets[0]),
        &[],
    )
    .await;
    assert!(
        sink.all().len() >= 4,
        "the secrets were seen: {}",
        sink.all().len()
    );
    engine.stop().await.unwrap();

    let text = String::from_utf8_lossy(&captured.0.lock().unwrap()).into_owned();
    assert!(text.contains("proxy started"), "logging was captured");
    for s in secrets
        .iter()
        .map(String::as_str)
        .chain(["runtime-token-xyz123"])
    {
        assert!(!text.contains(s), "a secret reached the logs");
    }
    let token_b64 = {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.encode("agent:runtime-token-xyz123")
    };
    assert!(!text.contains(&token_b64));
}
