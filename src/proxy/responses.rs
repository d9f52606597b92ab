//! The only answers the guardian writes itself: about the proxy (407, 403
//! pivot guard, 400 non-proxy request, 502/504 upstream failure, 503 while
//! stopping), never upstream content.

use std::error::Error as StdError;
use std::time::Duration;

use hyper::header::{self, HeaderValue};
use hyper::{Response, StatusCode};
use tracing::debug;

use super::body::Body;
use super::error::error_in_chain;
use super::stats::ProxyStats;
use super::upstream::ResolveFailed;

/// A plain-text answer written by the guardian itself.
pub(crate) fn text_response(status: StatusCode, body: String) -> Response<Body> {
    let mut res = Response::new(Body::from(body));
    *res.status_mut() = status;
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    res
}

/// An answer of the guardian after which the client connection is closed
/// (the rest of a stalled or broken request is not read).
pub(crate) fn closing_response(status: StatusCode, text: String) -> Response<Body> {
    let mut res = text_response(status, text);
    res.headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    res
}

/// 503 to requests still arriving while the engine stops.
pub(crate) fn stopping() -> Response<Body> {
    closing_response(
        StatusCode::SERVICE_UNAVAILABLE,
        "clawsec traffic guardian is stopping\n".to_string(),
    )
}

/// 407 to a client without valid runtime credentials.
pub(crate) fn auth_required() -> Response<Body> {
    let mut res = text_response(
        StatusCode::PROXY_AUTHENTICATION_REQUIRED,
        "clawsec traffic guardian: runtime credentials required\n".to_string(),
    );
    res.headers_mut().insert(
        header::PROXY_AUTHENTICATE,
        HeaderValue::from_static("Basic realm=\"clawsec-traffic-guardian\""),
    );
    res
}

/// 400 for a request the guardian cannot act on.
pub(crate) fn bad_request(text: &str) -> Response<Body> {
    text_response(StatusCode::BAD_REQUEST, text.to_string())
}

/// 403 from the pivot guard.
pub(crate) fn pivot_refused(host: &str) -> Response<Body> {
    text_response(
        StatusCode::FORBIDDEN,
        format!(
            "clawsec traffic guardian: refusing to connect to {host} on the client's behalf.\n\
             Loopback, link-local, cloud-metadata and host-interface (e.g. docker bridge) \
             destinations of the proxy host are not reachable through this proxy (pivot guard: access control of the proxy itself, \
             not traffic filtering). Add the destination to allow_private_destinations to permit it.\n"
        ),
    )
}

/// The 502 for a failed upstream connection; a name that did not resolve
/// is said to be one (the resolver's own words stay in the debug log).
pub(crate) fn bad_gateway(err: &(dyn StdError + 'static), fallback: String) -> Response<Body> {
    let text = match error_in_chain::<ResolveFailed>(err) {
        Some(r) => format!(
            "clawsec traffic guardian: cannot resolve host `{}`\n",
            r.host
        ),
        None => fallback,
    };
    text_response(StatusCode::BAD_GATEWAY, text)
}

/// The 502 for a WebSocket whose upstream could not be opened.
pub(crate) fn websocket_bad_gateway(dest: &str) -> Response<Body> {
    let mut res = Response::new(Body::from(format!(
        "clawsec traffic guardian: cannot open the WebSocket to {dest}\n"
    )));
    *res.status_mut() = StatusCode::BAD_GATEWAY;
    res
}

/// The 504 for an upstream that kept the guardian waiting longer than `after`.
pub(crate) fn upstream_timeout(stats: &ProxyStats, after: Duration) -> Response<Body> {
    ProxyStats::inc(&stats.upstream_timeouts);
    debug!("upstream did not answer in time");
    closing_response(
        StatusCode::GATEWAY_TIMEOUT,
        format!(
            "clawsec traffic guardian: the upstream sent no response within {} s\n",
            after.as_secs()
        ),
    )
}
