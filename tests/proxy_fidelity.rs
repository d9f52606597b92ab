//! Protocol fidelity under MITM (issue #19 items 2, 4, 5, 6): protocols that
//! work without the guardian must work through it unchanged, and what they
//! carry must be inspected or visibly counted as not inspected.

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use common::*;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use traffic_guardian::core::finding::Direction;
use traffic_guardian::proxy::ProxySettings;

fn mitm_settings(home: &std::path::Path) -> ProxySettings {
    ProxySettings {
        mitm_enabled: true,
        trusted_runtimes: vec!["*".into()],
        ca_dir: home.join("ca"),
        ..test_settings()
    }
}

const BANNER: &str = "220 banner.test ESMTP ready\r\n";

/// A server that speaks first (SMTP-like): a banner, then `250 <line>` per line.
async fn spawn_banner_server() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            tokio::spawn(async move {
                let (r, mut w) = tcp.into_split();
                if w.write_all(BANNER.as_bytes()).await.is_err() {
                    return;
                }
                let mut lines = BufReader::new(r).lines();
                while let Ok(Some(line)) = lines.next_line().await {
                    if w.write_all(format!("250 {line}\r\n").as_bytes()).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    addr
}

/// Opens a CONNECT tunnel through the proxy and returns the stream after `200`.
async fn connect_through(proxy: SocketAddr, target: SocketAddr) -> TcpStream {
    let mut tcp = TcpStream::connect(proxy).await.unwrap();
    tcp.write_all(format!("CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        head.push(tcp.read_u8().await.unwrap());
    }
    assert!(
        head.starts_with(b"HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&head)
    );
    tcp
}

async fn read_line(tcp: &mut TcpStream) -> String {
    let mut line = Vec::new();
    let read = async {
        while !line.ends_with(b"\r\n") {
            line.push(tcp.read_u8().await.unwrap());
        }
    };
    // Generous: only a broken relay (nothing ever arrives) runs into it.
    tokio::time::timeout(Duration::from_secs(20), read)
        .await
        .expect("the line arrives");
    String::from_utf8(line).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn server_speaks_first_inside_an_intercepted_connect() {
    let banner = spawn_banner_server().await;
    let home = tempfile::tempdir().unwrap();
    let (engine, sink, addr) = start_proxy(mitm_settings(home.path())).await;
    let mut tcp = connect_through(addr, banner).await;
    // The client sends nothing until the server greets it.
    assert_eq!(read_line(&mut tcp).await, BANNER);
    let key = fake_aws_key();
    tcp.write_all(format!("MAIL FROM:<a@b> key={key}\r\n").as_bytes())
        .await
        .unwrap();
    assert_eq!(
        read_line(&mut tcp).await,
        format!("250 MAIL FROM:<a@b> key={key}\r\n")
    );
    drop(tcp);
    let f = sink
        .wait_for(|f| f.direction == Direction::Outbound && f.location == "tunnel")
        .await
        .expect("what the client wrote in the relayed tunnel is scanned");
    assert_eq!(f.dest, banner.to_string());
    assert!(!format!("{:?}", sink.all()).contains(&key));
    let st = engine.status();
    assert_eq!(st.counters.mitm_connections, 1);
    assert_eq!(st.counters.client_timeouts, 0);
    engine.stop().await.unwrap();
}
