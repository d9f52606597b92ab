//! WebSocket upgrades, bridged by the guardian itself rather than by
//! hudsucker, so that they use the same connector as every other request
//! (pivot guard on resolved addresses, upstream proxy chaining, verified
//! TLS). Text and UTF-8 binary messages are scanned both ways and every
//! message is forwarded as received. `Sec-WebSocket-Extensions` is not
//! offered upstream: compressed frames could not be inspected.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use bytes::Bytes;
use futures::{SinkExt, StreamExt};
use http_body_util::Empty;
use hudsucker::hyper::header::{self, HeaderValue};
use hudsucker::hyper::upgrade::OnUpgrade;
use hudsucker::hyper::{Request, Response, StatusCode, Uri};
use hudsucker::hyper_util::rt::TokioIo;
use hudsucker::tokio_tungstenite::tungstenite::protocol::Role;
use hudsucker::tokio_tungstenite::tungstenite::Message;
use hudsucker::tokio_tungstenite::WebSocketStream;
use hudsucker::Body;
use tokio::sync::watch;
use tracing::debug;

use crate::core::finding::Direction;
use crate::core::scan::ScanContext;

use super::handler::Shared;
use super::stats::ProxyStats;

/// Scans one message if it is text or UTF-8 binary.
fn scan_message(shared: &Shared, direction: Direction, source: &str, dest: &str, msg: &Message) {
    let bytes: Bytes = match msg {
        Message::Text(t) => Bytes::from(t.clone()),
        Message::Binary(b) if std::str::from_utf8(b).is_ok() => b.clone(),
        _ => return,
    };
    ProxyStats::inc(&shared.stats.websocket_messages);
    if let Some(insp) = &shared.inspection {
        let ctx = ScanContext::new(direction, "websocket", source, dest);
        insp.scan_websocket(&ctx, bytes);
    }
}

/// Relays messages from `from` to `to` until either side ends or the proxy stops.
async fn pump<R, W>(
    mut from: R,
    mut to: W,
    shared: Arc<Shared>,
    direction: Direction,
    source: Arc<str>,
    dest: Arc<str>,
) where
    R: futures::Stream<Item = Result<Message, hudsucker::tokio_tungstenite::tungstenite::Error>>
        + Unpin,
    W: futures::Sink<Message, Error = hudsucker::tokio_tungstenite::tungstenite::Error> + Unpin,
{
    while let Some(next) = from.next().await {
        match next {
            Ok(msg) => {
                scan_message(&shared, direction, &source, &dest, &msg);
                let closing = msg.is_close();
                if to.send(msg).await.is_err() || closing {
                    break;
                }
            }
            Err(e) => {
                debug!(error = %e, "websocket read ended");
                break;
            }
        }
    }
    let _ = to.close().await;
}

fn bad_gateway(dest: &str) -> Response<Body> {
    let mut res = Response::new(Body::from(format!(
        "clawsec traffic guardian: cannot open the WebSocket to {dest}\n"
    )));
    *res.status_mut() = StatusCode::BAD_GATEWAY;
    res
}

/// Forwards the upgrade request upstream and, on 101, bridges both sides.
/// `target` is the absolute URI (`http`/`https` scheme) of the destination.
pub async fn bridge(
    shared: Arc<Shared>,
    mut req: Request<Body>,
    target: Uri,
    source: String,
    dest: String,
    via_upstream_plain: bool,
) -> Response<Body> {
    let Some(client_upgrade) = req.extensions_mut().remove::<OnUpgrade>() else {
        let mut res = Response::new(Body::from("WebSocket request cannot be upgraded\n"));
        *res.status_mut() = StatusCode::BAD_REQUEST;
        return res;
    };
    let io = match shared
        .connector
        .clone()
        .http1_only()
        .connect_uri(target.clone())
        .await
    {
        Ok(io) => io,
        Err(e) => {
            if super::handler::is_pivot_refusal(e.as_ref()) {
                ProxyStats::inc(&shared.stats.pivot_refusals);
                return super::handler::pivot_response(&super::guard::normalize_host(
                    target.host().unwrap_or_default(),
                ));
            }
            ProxyStats::inc(&shared.stats.upstream_errors);
            debug!(dest = %dest, error = %e, "websocket connect failed");
            return bad_gateway(&dest);
        }
    };
    let (mut sender, conn) = match hudsucker::hyper::client::conn::http1::handshake(io).await {
        Ok(pair) => pair,
        Err(e) => {
            ProxyStats::inc(&shared.stats.upstream_errors);
            debug!(dest = %dest, error = %e, "websocket handshake failed");
            return bad_gateway(&dest);
        }
    };
    tokio::spawn(async move {
        let _ = conn.with_upgrades().await;
    });

    // Same request line and headers; origin-form unless it goes to an upstream proxy in the clear.
    let (parts, _) = req.into_parts();
    let mut up_req = Request::new(Empty::<Bytes>::new());
    *up_req.method_mut() = parts.method;
    *up_req.headers_mut() = parts.headers;
    *up_req.uri_mut() = if via_upstream_plain {
        target.clone()
    } else {
        target
            .path_and_query()
            .map(|pq| pq.as_str())
            .unwrap_or("/")
            .parse()
            .unwrap_or_else(|_| Uri::from_static("/"))
    };
    up_req
        .headers_mut()
        .remove(header::SEC_WEBSOCKET_EXTENSIONS);
    if !up_req.headers().contains_key(header::HOST) {
        if let Some(a) = target.authority() {
            if let Ok(v) = HeaderValue::from_str(a.as_str()) {
                up_req.headers_mut().insert(header::HOST, v);
            }
        }
    }
    if via_upstream_plain {
        if let Some(auth) = shared
            .upstream
            .as_ref()
            .and_then(|u| u.authorization.as_deref())
        {
            if let Ok(v) = HeaderValue::from_str(auth) {
                up_req.headers_mut().insert(header::PROXY_AUTHORIZATION, v);
            }
        }
    }
    let mut res = match sender.send_request(up_req).await {
        Ok(res) => res,
        Err(e) => {
            ProxyStats::inc(&shared.stats.upstream_errors);
            debug!(dest = %dest, error = %e, "websocket upgrade request failed");
            return bad_gateway(&dest);
        }
    };
    ProxyStats::inc(&shared.stats.responses);
    if res.status() != StatusCode::SWITCHING_PROTOCOLS {
        // Refused upgrade: the server's answer goes back unchanged.
        return res.map(Body::from);
    }
    let server_upgrade = hudsucker::hyper::upgrade::on(&mut res);
    let (parts, _) = res.into_parts();

    let mut cancel: watch::Receiver<bool> = shared.cancel.clone();
    let active = Arc::clone(&shared.active_tunnels);
    active.fetch_add(1, Ordering::SeqCst);
    tokio::spawn(async move {
        let (client, server) = match tokio::join!(client_upgrade, server_upgrade) {
            (Ok(c), Ok(s)) => (c, s),
            _ => {
                debug!("websocket upgrade did not complete");
                active.fetch_sub(1, Ordering::SeqCst);
                return;
            }
        };
        let client =
            WebSocketStream::from_raw_socket(TokioIo::new(client), Role::Server, None).await;
        let server =
            WebSocketStream::from_raw_socket(TokioIo::new(server), Role::Client, None).await;
        let (c_sink, c_stream) = client.split();
        let (s_sink, s_stream) = server.split();
        let source: Arc<str> = Arc::from(source.as_str());
        let dest: Arc<str> = Arc::from(dest.as_str());
        let up = pump(
            c_stream,
            s_sink,
            Arc::clone(&shared),
            Direction::Outbound,
            Arc::clone(&source),
            Arc::clone(&dest),
        );
        let down = pump(
            s_stream,
            c_sink,
            Arc::clone(&shared),
            Direction::Inbound,
            source,
            dest,
        );
        tokio::select! {
            _ = async { tokio::join!(up, down) } => {}
            _ = cancel.wait_for(|stop| *stop) => debug!("websocket closed by proxy stop"),
        }
        active.fetch_sub(1, Ordering::SeqCst);
    });
    Response::from_parts(parts, Body::empty())
}
