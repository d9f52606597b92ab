//! Lifecycle: start/stop/start, double start and stop, bind failure (and a
//! later successful start), stop with an in-flight request, grace period.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use tokio::io::AsyncReadExt;
use traffic_guardian::proxy::{
    parse_upstream_proxy, ProxyEngine, ProxyError, ProxySettings, ProxyState,
};

#[tokio::test(flavor = "multi_thread")]
async fn start_stop_start_and_typed_errors() {
    let (up, _) = spawn_http_upstream().await;
    let sink = Arc::new(TestSink::default());
    let engine = ProxyEngine::new(test_settings(), Some(detector()), sink);
    assert_eq!(engine.status().state, ProxyState::Stopped);
    assert!(matches!(
        engine.stop().await,
        Err(ProxyError::NotRunning { .. })
    ));

    let first = engine.start().await.unwrap();
    assert_ne!(first.port, 0);
    let st = engine.status();
    assert_eq!(st.state, ProxyState::Running);
    assert_eq!(
        st.listen.as_deref(),
        Some(format!("127.0.0.1:{}", first.port).as_str())
    );
    assert!(st.started_at.is_some());
    let err = engine.start().await.unwrap_err();
    assert!(matches!(err, ProxyError::AlreadyRunning { .. }), "{err}");
    let url = format!("http://{up}/plain");
    let p1 = format!("http://127.0.0.1:{}", first.port);
    assert_eq!(curl(Some(&p1), &url, &[]).await.status, 200);

    engine.stop().await.unwrap();
    assert_eq!(engine.status().state, ProxyState::Stopped);
    assert!(engine.status().listen.is_none());
    assert!(matches!(
        engine.stop().await,
        Err(ProxyError::NotRunning { .. })
    ));
    // The listener is gone.
    assert!(tokio::net::TcpStream::connect(("127.0.0.1", first.port))
        .await
        .is_err());

    let second = engine.start().await.unwrap();
    let p2 = format!("http://127.0.0.1:{}", second.port);
    assert_eq!(curl(Some(&p2), &url, &[]).await.status, 200);
    assert!(
        engine.status().counters.requests >= 2,
        "counters are cumulative"
    );
    engine.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn bind_failure_is_a_typed_error_and_start_works_once_the_port_is_free() {
    // Between freeing the port and the restart, any socket on the machine
    // may be handed it (CI machines differ in their ephemeral port range,
    // and another test's connection once took it): such a lost race is
    // retried on another port; the restart must succeed on one of them.
    for attempt in 0..20u16 {
        let taken = (0..10_000u16)
            .map(|i| {
                20_000
                    + (std::process::id() as u16)
                        .wrapping_add(i)
                        .wrapping_add(attempt.wrapping_mul(997))
                        % 10_000
            })
            .find_map(|port| std::net::TcpListener::bind(("127.0.0.1", port)).ok())
            .expect("a free port in 20000-29999");
        let addr = taken.local_addr().unwrap();
        let settings = ProxySettings {
            listen: addr,
            ..test_settings()
        };
        let engine = ProxyEngine::new(settings, Some(detector()), Arc::new(TestSink::default()));
        let err = engine.start().await.unwrap_err();
        assert!(matches!(err, ProxyError::Bind { .. }), "{err}");
        assert!(err.to_string().contains(&addr.to_string()));
        let st = engine.status();
        assert_eq!(st.state, ProxyState::Failed);
        assert!(st.last_error.is_some());
        assert!(matches!(
            engine.stop().await,
            Err(ProxyError::NotRunning { .. })
        ));
        drop(taken);
        let info = match engine.start().await {
            Ok(info) => info,
            // Someone else bound the freed port first: try another.
            Err(ProxyError::Bind { .. }) => continue,
            Err(e) => panic!("restart failed: {e}"),
        };
        assert_eq!(info.port, addr.port());
        assert_eq!(engine.status().state, ProxyState::Running);
        assert!(engine.status().last_error.is_none());
        engine.stop().await.unwrap();
        return;
    }
    panic!("20 freed ports were all taken before the restart");
}

#[tokio::test(flavor = "multi_thread")]
async fn stop_lets_an_in_flight_request_finish() {
    let (up, state) = spawn_http_upstream().await;
    // A grace far longer than the guard below: stop returning at all proves
    // it ended when the request did, not when the grace ran out (no clock
    // is compared, so a loaded machine cannot fail it).
    let settings = ProxySettings {
        shutdown_grace: Duration::from_secs(600),
        ..test_settings()
    };
    let (engine, _sink, paddr) = start_proxy(settings).await;
    let proxy = proxy_url(paddr);
    let url = format!("http://{up}/slow");
    let client = tokio::spawn(async move { curl(Some(&proxy), &url, &[]).await });
    // Stop once the request is in flight (upstream has it), not after a
    // fixed sleep: a loaded box may take longer than that to spawn curl,
    // and a stop before the request arrives refuses it.
    tokio::time::timeout(Duration::from_secs(120), state.slow_started.notified())
        .await
        .expect("the request reached the upstream");
    tokio::time::timeout(Duration::from_secs(120), engine.stop())
        .await
        .expect("stop waited for the grace period, not for the request")
        .unwrap();
    let res = client.await.unwrap();
    assert_eq!(res.status, 200);
    assert_eq!(res.body, b"slow done\n");
    assert!(tokio::net::TcpStream::connect(paddr).await.is_err());
}

#[tokio::test(flavor = "multi_thread")]
async fn stop_closes_lingering_tunnels_after_the_grace_period() {
    let (up, _) = spawn_http_upstream().await;
    let settings = ProxySettings {
        shutdown_grace: Duration::from_millis(400),
        ..test_settings()
    };
    let (engine, _sink, paddr) = start_proxy(settings).await;
    let mut tcp = connect_through(paddr, up).await;
    // Waiting at least the grace is a lower bound a slow machine only makes
    // longer; the end is proven by the tunnel closing, not by a clock.
    let t0 = Instant::now();
    engine.stop().await.unwrap();
    let took = t0.elapsed();
    assert!(took >= Duration::from_millis(350), "{took:?}");
    let mut buf = [0u8; 1];
    let n = tokio::time::timeout(Duration::from_secs(60), tcp.read(&mut buf))
        .await
        .expect("tunnel closed after stop");
    assert!(matches!(n, Ok(0) | Err(_)));
    assert_eq!(engine.status().counters.tunnels, 1);
}

/// A malformed upstream proxy URL is refused by the one parser with an
/// error that names the setting and the expected form without repeating
/// the value (it can carry credentials). A well-formed one the proxy
/// cannot chain to (the config accepts `https://`) fails `start` the same
/// way; the status shows the value only with its credentials masked.
#[tokio::test(flavor = "multi_thread")]
async fn malformed_upstream_proxy_errors_never_echo_the_value() {
    let mut pw = [0u8; 9];
    getrandom::fill(&mut pw).unwrap();
    let pw: String = pw.iter().map(|b| format!("{b:02x}")).collect();
    let check = |err: &ProxyError, raw: &str| {
        assert!(matches!(err, ProxyError::UpstreamProxy(_)), "{err}");
        let shown = format!("{err} {err:?}");
        for part in [pw.as_str(), "gwuser", "10.9.8.7", "gwhost.internal"] {
            assert!(!shown.contains(part), "{raw} leaks {part}: {shown}");
        }
        assert!(err.to_string().contains("upstream_proxy"), "{err}");
        assert!(
            err.to_string().contains("http://[user:pass@]host:port"),
            "{err}"
        );
    };
    for raw in [
        format!("socks5://gwuser:{pw}@10.9.8.7:1080"),
        format!("http://gwuser:{pw}@[::1:3128"),
        format!("http://gwuser:{pw}@gwhost.internal:70000"),
    ] {
        let err = parse_upstream_proxy(&raw).unwrap_err();
        check(&err, &raw);
    }
    let raw = format!("https://gwuser:{pw}@gwhost.internal:3128");
    let report = traffic_guardian::home_guardian::check_config(
        &traffic_guardian::core::config::ConfigInput {
            env: Default::default(),
            config_path: None,
            overrides: serde_json::json!({ "home": "/nonexistent-tg-home", "upstream_proxy": raw }),
        },
    );
    let upstream = report.config.and_then(|c| c.upstream_proxy);
    assert!(upstream.is_some(), "{:?}", report.errors);
    let settings = ProxySettings {
        upstream_proxy: upstream,
        ..test_settings()
    };
    let engine = ProxyEngine::new(settings, Some(detector()), Arc::new(TestSink::default()));
    let err = engine.start().await.unwrap_err();
    check(&err, &raw);
    let status = format!("{:?}", engine.status());
    assert!(
        !status.contains(&pw) && !status.contains("gwuser"),
        "{status}"
    );
    assert_eq!(engine.status().state, ProxyState::Failed);
}
