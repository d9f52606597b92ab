//! WebSocket upgrades, bridged by the guardian itself, so that they use the same connector as every other request
//! (pivot guard on resolved addresses, upstream proxy chaining, verified
//! TLS). After `101` the connection is relayed byte for byte: frames,
//! fragmentation, masking and negotiated extensions (`permessage-deflate`)
//! pass unchanged. A copy of each direction is parsed into messages
//! (unmasked, joined, inflated) and every data message, text or binary,
//! is scanned as bytes.

use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body_util::Empty;
use hyper::header::{self, HeaderValue};
use hyper::upgrade::OnUpgrade;
use hyper::{Request, Response, StatusCode, Uri};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWriteExt, ReadBuf};
use tokio::sync::watch;
use tracing::debug;

use crate::core::finding::Direction;
use crate::core::scan::ScanContext;

use super::body::Body;
use super::handler::WebSocketTarget;
use super::inspect::{MessageMeta, MessageTag};
use super::pivot::{is_pivot_refusal, normalize_host};
use super::responses::{pivot_refused, websocket_bad_gateway as bad_gateway};
use super::state::Shared;
use super::stats::ProxyStats;
use super::ws_frames::{negotiated_deflate, WsReader};

/// Shows the bytes read through it to a WebSocket message reader, and
/// hands the messages it completes to the scanner.
struct Observed<T> {
    inner: T,
    reader: Option<WsReader>,
    shared: Arc<Shared>,
    ctx: ScanContext,
    /// The upgrade exchange; messages are stamped with it.
    tag: MessageTag,
}

impl<T> Observed<T> {
    fn observe(&mut self, bytes: &[u8]) {
        let Some(reader) = self.reader.as_mut() else {
            return;
        };
        let messages = reader.feed(bytes);
        if reader.stopped().is_some() {
            debug!("websocket frames unreadable; the rest is relayed uninspected");
            self.reader = None;
        }
        for msg in messages {
            ProxyStats::inc(&self.shared.stats.websocket_messages);
            if let Some(insp) = &self.shared.inspection {
                if msg.dropped > 0 {
                    insp.count_truncated(msg.dropped);
                }
                insp.scan_websocket(&self.ctx, Bytes::from(msg.payload), Some(&self.tag));
            }
        }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for Observed<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let this = &mut *self;
        let res = Pin::new(&mut this.inner).poll_read(cx, buf);
        if let Some(fresh) = buf.filled().get(before..).filter(|f| !f.is_empty()) {
            let fresh = fresh.to_vec();
            this.observe(&fresh);
        }
        res
    }
}

forward_async_write!(Observed);

/// Carries out a WebSocket decision: forwards the upgrade request
/// upstream and, on 101, bridges both sides.
pub async fn bridge(
    shared: Arc<Shared>,
    mut req: Request<Body>,
    ws: WebSocketTarget,
) -> Response<Body> {
    let WebSocketTarget {
        target,
        connector,
        source,
        dest,
        via_upstream_plain,
        exchange,
    } = ws;
    let Some(client_upgrade) = req.extensions_mut().remove::<OnUpgrade>() else {
        let mut res = Response::new(Body::from("WebSocket request cannot be upgraded\n"));
        *res.status_mut() = StatusCode::BAD_REQUEST;
        return res;
    };
    let io = match connector
        .clone()
        .http1_only()
        .connect_uri(target.clone())
        .await
    {
        Ok(io) => io,
        Err(e) => {
            if is_pivot_refusal(e.as_ref()) {
                ProxyStats::inc(&shared.stats.pivot_refusals);
                return pivot_refused(&normalize_host(target.host().unwrap_or_default()));
            }
            ProxyStats::inc(&shared.stats.upstream_errors);
            debug!(dest = %dest, error = %e, "websocket connect failed");
            return bad_gateway(&dest);
        }
    };
    let (mut sender, conn) = match hyper::client::conn::http1::handshake(io).await {
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
            .and_then(|u| u.basic_authorization())
        {
            if let Ok(v) = HeaderValue::from_str(&auth) {
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
    let server_upgrade = hyper::upgrade::on(&mut res);
    let (parts, _) = res.into_parts();
    let deflate = parts
        .headers
        .get_all(header::SEC_WEBSOCKET_EXTENSIONS)
        .iter()
        .any(|v| v.to_str().is_ok_and(negotiated_deflate));
    let max = shared.inspection.as_ref().and_then(|i| i.max_scan_bytes());

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
        let ctx = |direction| ScanContext::new(direction, "websocket", &source, &dest);
        let client = Observed {
            inner: TokioIo::new(client),
            reader: max.map(|m| WsReader::new(m, deflate)),
            shared: Arc::clone(&shared),
            ctx: ctx(Direction::Outbound),
            tag: MessageTag {
                exchange: Arc::clone(&exchange),
                meta: MessageMeta::default(),
            },
        };
        let server = Observed {
            inner: TokioIo::new(server),
            reader: max.map(|m| WsReader::new(m, deflate)),
            shared: Arc::clone(&shared),
            ctx: ctx(Direction::Inbound),
            tag: MessageTag {
                exchange: Arc::clone(&exchange),
                meta: MessageMeta {
                    status: Some(101),
                    ..MessageMeta::default()
                },
            },
        };
        // A WebSocket has no half-close: when either side's stream ends
        // (after its close frame, or cut), what it sent is delivered and
        // the other side is closed too.
        let (mut client_read, mut client_write) = tokio::io::split(client);
        let (mut server_read, mut server_write) = tokio::io::split(server);
        let up = async {
            let res = tokio::io::copy(&mut client_read, &mut server_write).await;
            let _ = server_write.shutdown().await;
            res
        };
        let down = async {
            let res = tokio::io::copy(&mut server_read, &mut client_write).await;
            let _ = client_write.shutdown().await;
            res
        };
        tokio::select! {
            res = up => if let Err(e) = res {
                debug!(error = %e, "websocket relay (outbound) ended with an error");
            },
            res = down => if let Err(e) = res {
                debug!(error = %e, "websocket relay (inbound) ended with an error");
            },
            _ = cancel.wait_for(|stop| *stop) => debug!("websocket closed by proxy stop"),
        }
        active.fetch_sub(1, Ordering::SeqCst);
    });
    Response::from_parts(parts, Body::empty())
}
