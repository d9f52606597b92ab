//! Exchange context on proxy findings: method, redacted path, status,
//! content type, connection and request ids, size, decode chain. A real
//! keep-alive client on loopback sends a request carrying secrets (one in
//! the URL path) and then a request whose response carries an injection;
//! every field of both findings is checked, and no secret appears in any
//! finding.

mod common;

use common::*;
use http_body_util::BodyExt;
use hyper::Request;
use traffic_guardian::core::finding::{Direction, Finding};

use common::fake::github_token as fake_github_token;

/// `<4 hex>.c<n>`.
fn is_connection_id(id: &str) -> bool {
    let Some((run, conn)) = id.split_once('.') else {
        return false;
    };
    run.len() == 4
        && run.bytes().all(|b| b.is_ascii_hexdigit())
        && conn
            .strip_prefix('c')
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

#[tokio::test(flavor = "multi_thread")]
async fn findings_carry_their_exchange_without_secrets() {
    let (up, _) = spawn_http_upstream().await;
    let (engine, sink, paddr) = start_proxy_with(test_settings(), builtin_detector()).await;
    let (token, body_key, query_key) = (fake_github_token(), fake_aws_key(), fake_aws_key());
    let body = format!("{{\"aws\":\"{body_key}\"}}");

    // One connection, two exchanges.
    let mut send = proxy_conn(paddr).await;
    let req = Request::post(format!("http://{up}/upload/{token}/x?k={query_key}"))
        .header("host", up.to_string())
        .header("content-type", "application/json; charset=utf-8")
        .header("content-length", body.len().to_string())
        .body(body_of(body.clone()))
        .unwrap();
    let res = send.send_request(req).await.unwrap();
    assert_eq!(res.status(), 404);
    res.into_body().collect().await.unwrap();
    send.ready().await.unwrap();
    let req = Request::get(format!("http://{up}/gzip"))
        .header("host", up.to_string())
        .body(body_of(""))
        .unwrap();
    let res = send.send_request(req).await.unwrap();
    assert_eq!(res.status(), 200);
    let gz_len = res.into_body().collect().await.unwrap().to_bytes().len() as u64;
    engine.scan_idle().await;

    let all = sink.all();
    let find = |pred: &dyn Fn(&Finding) -> bool| -> Finding {
        all.iter()
            .find(|f| pred(f))
            .cloned()
            .unwrap_or_else(|| panic!("no such finding in {all:#?}"))
    };
    let in_body = find(&|f| f.direction == Direction::Outbound && f.location.starts_with("body"));
    let in_url = find(&|f| f.pattern == "github_pat_classic" && f.location == "url");
    let inbound = find(&|f| f.direction == Direction::Inbound && f.location.starts_with("body"));

    // The request's findings: body and URL share the exchange.
    for f in [&in_body, &in_url] {
        let c = &f.context;
        assert_eq!(c.method.as_deref(), Some("POST"), "{f:?}");
        assert_eq!(c.path.as_deref(), Some("/upload/[MASKED]/x"), "{f:?}");
        assert_eq!(c.status, None, "a request has no status: {f:?}");
        assert_eq!(c.content_type.as_deref(), Some("application/json"));
        assert_eq!(c.size_bytes, Some(body.len() as u64));
        let conn = c.connection_id.as_deref().unwrap();
        assert!(is_connection_id(conn), "{conn}");
        assert_eq!(c.request_id, Some(format!("{conn}.r1")));
    }
    assert_eq!(in_body.decoded, None);
    assert_eq!(in_body.pattern, "aws_access_key_id");

    // The response's finding: its own status, type and size; the request's method and path.
    let c = &inbound.context;
    assert_eq!(c.method.as_deref(), Some("GET"));
    assert_eq!(c.path.as_deref(), Some("/gzip"));
    assert_eq!(c.status, Some(200));
    assert_eq!(c.content_type.as_deref(), Some("text/html"));
    assert_eq!(c.size_bytes, Some(gz_len), "Content-Length of the response");
    assert_eq!(c.connection_id, in_body.context.connection_id);
    assert_eq!(
        c.request_id,
        Some(format!(
            "{}.r2",
            in_body.context.connection_id.as_deref().unwrap()
        ))
    );
    // The content coding is undone before scanning; it is no decode step.
    assert_eq!(inbound.decoded, None, "{inbound:?}");

    // A second connection gets its own id.
    let res = curl(Some(&proxy_url(paddr)), &format!("http://{up}/inject"), &[]).await;
    assert_eq!(res.status, 200);
    engine.scan_idle().await;
    let other = sink
        .all()
        .into_iter()
        .find(|f| f.context.path.as_deref() == Some("/inject"))
        .expect("finding from the second connection");
    assert_ne!(other.context.connection_id, in_body.context.connection_id);
    assert!(other
        .context
        .request_id
        .as_deref()
        .unwrap()
        .ends_with(".r1"));

    // Nothing secret anywhere in the findings as written.
    let json = serde_json::to_string(&sink.all()).unwrap();
    for secret in [&token, &body_key, &query_key] {
        assert!(!json.contains(secret.as_str()), "a secret leaked: {json}");
    }
    // The keys are top-level JSON keys of the v1 schema.
    let v: serde_json::Value = serde_json::to_value(&inbound).unwrap();
    assert_eq!(v["schema_version"], "clawsec-traffic-finding/v1");
    assert_eq!(v["status"], 200);
    assert_eq!(v["path"], "/gzip");
    assert!(v.get("context").is_none());
    let back: Finding = serde_json::from_value(v).unwrap();
    assert_eq!(back, inbound);
    engine.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn bytes_relayed_in_a_tunnel_carry_the_connect_exchange() {
    let (up, _) = spawn_http_upstream().await;
    let (engine, sink, paddr) = start_proxy_with(test_settings(), builtin_detector()).await;
    let key = fake_aws_key();
    let mut tcp = connect_through(paddr, up).await;
    let body = format!("{{\"aws\":\"{key}\"}}");
    let req = format!(
        "POST /echo HTTP/1.1\r\nHost: {up}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    tokio::io::AsyncWriteExt::write_all(&mut tcp, req.as_bytes())
        .await
        .unwrap();
    let mut answer = Vec::new();
    tokio::io::AsyncReadExt::read_to_end(&mut tcp, &mut answer)
        .await
        .unwrap();
    assert!(answer.starts_with(b"HTTP/1.1 200"));
    drop(tcp);
    // The relay ends its scans when both sides have closed; poll (no time bound).
    let f = loop {
        engine.scan_idle().await;
        if let Some(f) = sink
            .all()
            .into_iter()
            .find(|f| f.location == "tunnel" && f.direction == Direction::Outbound)
        {
            break f;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    };
    let c = &f.context;
    assert_eq!(c.method.as_deref(), Some("CONNECT"));
    assert_eq!(
        (c.path.as_deref(), c.status, c.content_type.as_deref()),
        (None, None, None)
    );
    let conn = c.connection_id.as_deref().unwrap();
    assert!(is_connection_id(conn), "{conn}");
    assert_eq!(c.request_id, Some(format!("{conn}.r1")));
    assert!(c.size_bytes.is_some_and(|n| n > 0));
    let json = serde_json::to_string(&sink.all()).unwrap();
    assert!(!json.contains(&key));
    engine.stop().await.unwrap();
}
