//! The proxy's [`Body`] and its wrappers. [`InspectedBody`] hands a cheap clone of every data frame
//! to the scan pool as it passes and hands the frame on unchanged at once:
//! no collecting, no buffering, no waiting for a scan (SSE events stream
//! through as they come). [`IdleTimeoutBody`] bounds how long a client may stall inside a
//! request body, and tells the forwarder how the body ended.

use std::error::Error as StdError;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::combinators::BoxBody;
use http_body_util::{Empty, Full};
use hyper::body::{Body as HttpBody, Frame, Incoming, SizeHint};

use tokio::io::{AsyncRead, ReadBuf};
use tokio::sync::Notify;
use tokio::time::{Instant, Sleep};

use super::inspect::BodyScan;
use super::limits::ConnPermit;
use super::stats::ProxyStats;

/// Why a [`Body`] failed: the peer's connection (hyper), or a condition the
/// guardian raised (a request body's idle timeout). The cause is kept as
/// the error's source.
#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    #[error("network error")]
    Network(#[from] hyper::Error),
    #[error("io error")]
    Io(#[from] io::Error),
}

/// Every request and response body the proxy handles: as received
/// (`Incoming`, unboxed), written by the guardian, or wrapped to be observed.
#[derive(Debug)]
pub struct Body(BodyKind);

#[derive(Debug)]
enum BodyKind {
    Incoming(Incoming),
    Full(Full<Bytes>),
    Empty(Empty<Bytes>),
    Boxed(BoxBody<Bytes, BodyError>),
}

impl Body {
    /// A body without bytes.
    pub fn empty() -> Self {
        Body(BodyKind::Empty(Empty::new()))
    }
}

impl HttpBody for Body {
    type Data = Bytes;
    type Error = BodyError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BodyError>>> {
        match &mut self.0 {
            BodyKind::Incoming(b) => Pin::new(b).poll_frame(cx).map_err(BodyError::from),
            BodyKind::Full(b) => Pin::new(b).poll_frame(cx).map_err(|e| match e {}),
            BodyKind::Empty(b) => Pin::new(b).poll_frame(cx).map_err(|e| match e {}),
            BodyKind::Boxed(b) => Pin::new(b).poll_frame(cx),
        }
    }

    fn is_end_stream(&self) -> bool {
        match &self.0 {
            BodyKind::Incoming(b) => b.is_end_stream(),
            BodyKind::Full(b) => b.is_end_stream(),
            BodyKind::Empty(b) => b.is_end_stream(),
            BodyKind::Boxed(b) => b.is_end_stream(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.0 {
            BodyKind::Incoming(b) => b.size_hint(),
            BodyKind::Full(b) => b.size_hint(),
            BodyKind::Empty(b) => b.size_hint(),
            BodyKind::Boxed(b) => b.size_hint(),
        }
    }
}

impl From<Incoming> for Body {
    fn from(b: Incoming) -> Self {
        Body(BodyKind::Incoming(b))
    }
}

impl From<BoxBody<Bytes, BodyError>> for Body {
    fn from(b: BoxBody<Bytes, BodyError>) -> Self {
        Body(BodyKind::Boxed(b))
    }
}

impl From<Bytes> for Body {
    fn from(b: Bytes) -> Self {
        Body(BodyKind::Full(Full::new(b)))
    }
}

impl From<String> for Body {
    fn from(s: String) -> Self {
        Body::from(Bytes::from(s))
    }
}

impl From<&'static str> for Body {
    fn from(s: &'static str) -> Self {
        Body::from(Bytes::from_static(s.as_bytes()))
    }
}

/// Wraps `inner`; frames, size hint and end-of-stream are passed through as is.
pub struct InspectedBody {
    inner: Body,
    // A Mutex only to make the wrapper `Sync` (`BoxBody` needs it);
    // it is never contended: one task polls a body.
    scan: Mutex<BodyScan>,
}

impl InspectedBody {
    /// Wraps `inner` into a body that feeds `scan`.
    pub fn wrap(inner: Body, scan: BodyScan) -> Body {
        Body::from(BoxBody::new(InspectedBody {
            inner,
            scan: Mutex::new(scan),
        }))
    }

    fn with_scan(&self, f: impl FnOnce(&mut BodyScan)) {
        if let Ok(mut s) = self.scan.lock() {
            f(&mut s);
        }
    }
}

impl HttpBody for InspectedBody {
    type Data = Bytes;
    type Error = BodyError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        match &polled {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    if self.inner.is_end_stream() {
                        // The last frame (its length was known): the
                        // stream ends with it, scanned in one pass.
                        self.with_scan(|s| s.push_last(data));
                    } else {
                        self.with_scan(|s| s.push(data));
                    }
                } else if let Some(fields) = frame.trailers_ref() {
                    self.with_scan(|s| s.trailers(fields));
                }
            }
            Poll::Ready(Some(Err(_))) | Poll::Ready(None) => self.with_scan(BodyScan::finish),
            Poll::Pending => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// A request body's fate, shared between its [`IdleTimeoutBody`] and the
/// exchange forwarding it.
#[derive(Debug, Default)]
pub struct BodyWatch {
    state: AtomicU8,
    pulled: AtomicBool,
    changed: Notify,
}

/// What a guarded request body has come to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyState {
    /// Still being received.
    Streaming,
    /// Received completely (or dropped by the forwarder).
    Done,
    /// The client sent nothing for the idle timeout.
    IdleTimeout,
    /// The client broke the body framing (invalid chunk, bad length).
    ProtocolError,
    /// The client went away mid-body.
    Aborted,
}

impl BodyWatch {
    const STATES: [BodyState; 5] = [
        BodyState::Streaming,
        BodyState::Done,
        BodyState::IdleTimeout,
        BodyState::ProtocolError,
        BodyState::Aborted,
    ];

    /// The current state.
    pub fn state(&self) -> BodyState {
        Self::STATES
            .get(usize::from(self.state.load(Ordering::Acquire)))
            .copied()
            .unwrap_or(BodyState::Done)
    }

    /// Moves out of `Streaming` once; later outcomes are ignored.
    fn settle(&self, to: BodyState) {
        let code = Self::STATES.iter().position(|s| *s == to).unwrap_or(1) as u8;
        if self
            .state
            .compare_exchange(0, code, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
        {
            self.changed.notify_one();
        }
    }

    /// Whether the forwarder has started pulling the body (the upstream
    /// connection is ready for it).
    pub fn pulled(&self) -> bool {
        self.pulled.load(Ordering::Acquire)
    }

    /// Resolves once the body is no longer streaming.
    pub async fn settled(&self) {
        while self.state() == BodyState::Streaming {
            self.changed.notified().await;
        }
    }
}

/// Fault bookkeeping of one client connection. The first fault counted
/// there wins, so a connection that breaks framing is not counted again when
/// hyper closes it. It also tracks whether the client sent bytes that no
/// request has consumed yet, which tells a trickled head (slowloris) from an
/// idle keep-alive connection when hyper's header timeout fires.
///
/// It also keeps what the idle watch of [`super::server`] needs: when the
/// client last sent a byte and how many exchanges are in flight.
#[derive(Debug)]
pub struct ConnFaults {
    counted: AtomicBool,
    unconsumed: AtomicBool,
    born: Instant,
    /// Milliseconds after `born` of the last read or finished exchange, plus
    /// one; 0 while the client has sent nothing.
    last_activity_ms: AtomicU64,
    in_flight: AtomicU32,
}

impl Default for ConnFaults {
    fn default() -> Self {
        ConnFaults {
            counted: AtomicBool::new(false),
            unconsumed: AtomicBool::new(false),
            born: Instant::now(),
            last_activity_ms: AtomicU64::new(0),
            in_flight: AtomicU32::new(0),
        }
    }
}

impl ConnFaults {
    /// Counts a fault of this connection in `counter` unless one was counted already.
    pub fn count(&self, counter: &std::sync::atomic::AtomicU64) {
        if !self.counted.swap(true, Ordering::AcqRel) {
            ProxyStats::inc(counter);
        }
    }

    /// The client sent bytes.
    pub fn note_read(&self) {
        self.unconsumed.store(true, Ordering::Release);
        self.touch();
    }

    fn touch(&self) {
        let ms = u64::try_from(self.born.elapsed().as_millis()).unwrap_or(u64::MAX - 1);
        self.last_activity_ms.store(ms + 1, Ordering::Release);
    }

    /// When the client last sent a byte or an exchange last finished;
    /// `None` while the client has sent nothing.
    pub fn last_activity(&self) -> Option<Instant> {
        match self.last_activity_ms.load(Ordering::Acquire) {
            0 => None,
            ms => Some(self.born + Duration::from_millis(ms - 1)),
        }
    }

    /// When the connection was accepted.
    pub fn born(&self) -> Instant {
        self.born
    }

    /// Exchanges whose request arrived and whose response is not yet fully sent.
    pub fn in_flight(&self) -> u32 {
        self.in_flight.load(Ordering::Acquire)
    }

    /// A request head (or a whole request body) has been consumed.
    pub fn note_consumed(&self) {
        self.unconsumed.store(false, Ordering::Release);
    }

    /// Whether bytes arrived after the last consumed head or body.
    pub fn has_unconsumed(&self) -> bool {
        self.unconsumed.load(Ordering::Acquire)
    }
}

/// One exchange of a connection, from its request head until its response
/// body is dropped (fully sent, or the connection is gone).
#[derive(Debug)]
pub struct Exchange(Arc<ConnFaults>);

impl Exchange {
    pub fn start(faults: Arc<ConnFaults>) -> Self {
        faults.in_flight.fetch_add(1, Ordering::AcqRel);
        Exchange(faults)
    }
}

impl Drop for Exchange {
    fn drop(&mut self) {
        self.0.touch();
        self.0.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

/// A response body that ends its [`Exchange`] when dropped; frames, size
/// hint and end-of-stream are passed through as is.
pub struct ExchangeBody {
    inner: Body,
    _exchange: Exchange,
}

impl ExchangeBody {
    pub fn wrap(inner: Body, exchange: Exchange) -> Body {
        Body::from(BoxBody::new(ExchangeBody {
            inner,
            _exchange: exchange,
        }))
    }
}

impl HttpBody for ExchangeBody {
    type Data = Bytes;
    type Error = BodyError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// A client connection's stream that reports reads to its [`ConnFaults`].
/// It holds the connection's [`ConnPermit`], so that the slot stays taken
/// for as long as the socket is open, through CONNECT and upgrades too.
pub struct NotedIo<T> {
    inner: T,
    faults: Arc<ConnFaults>,
    _permit: Option<ConnPermit>,
}

impl<T> NotedIo<T> {
    pub fn new(inner: T, faults: Arc<ConnFaults>) -> Self {
        NotedIo {
            inner,
            faults,
            _permit: None,
        }
    }

    /// Like [`NotedIo::new`], holding the client's connection slot.
    pub fn with_permit(inner: T, faults: Arc<ConnFaults>, permit: ConnPermit) -> Self {
        NotedIo {
            inner,
            faults,
            _permit: Some(permit),
        }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for NotedIo<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let res = Pin::new(&mut self.inner).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.faults.note_read();
        }
        res
    }
}

forward_async_write!(NotedIo);

/// Whether an error (or a cause) means the peer broke HTTP framing, as
/// opposed to going away or timing out.
pub fn is_protocol_violation(err: &(dyn StdError + 'static)) -> bool {
    let mut cur = Some(err);
    while let Some(e) = cur {
        if let Some(h) = e.downcast_ref::<hyper::Error>() {
            if h.is_parse() || h.is_parse_too_large() || h.is_parse_version_h2() {
                return true;
            }
        }
        if let Some(io) = e.downcast_ref::<io::Error>() {
            if matches!(
                io.kind(),
                io::ErrorKind::InvalidData | io::ErrorKind::InvalidInput
            ) {
                return true;
            }
        }
        cur = e.source();
    }
    false
}

/// Wraps a client's request body: frames pass unchanged, but if no frame
/// arrives for `idle` while the forwarder waits for one, the body ends with
/// an error so the upstream request is dropped instead of held forever.
/// Only request bodies are guarded; response bodies may idle for minutes.
pub struct IdleTimeoutBody {
    inner: Body,
    idle: Duration,
    timer: Option<Pin<Box<Sleep>>>,
    watch: Arc<BodyWatch>,
    stats: Arc<ProxyStats>,
    faults: Arc<ConnFaults>,
}

impl IdleTimeoutBody {
    /// Wraps `inner`; an already finished body settles `watch` at once.
    pub fn wrap(
        inner: Body,
        idle: Duration,
        watch: Arc<BodyWatch>,
        stats: Arc<ProxyStats>,
        faults: Arc<ConnFaults>,
    ) -> Body {
        if inner.is_end_stream() {
            watch.settle(BodyState::Done);
        }
        Body::from(BoxBody::new(IdleTimeoutBody {
            inner,
            idle,
            timer: None,
            watch,
            stats,
            faults,
        }))
    }
}

impl HttpBody for IdleTimeoutBody {
    type Data = Bytes;
    type Error = BodyError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let this = &mut *self;
        this.watch.pulled.store(true, Ordering::Release);
        if this.watch.state() == BodyState::IdleTimeout {
            return Poll::Ready(None);
        }
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                this.timer = None;
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(None) => {
                this.faults.note_consumed();
                this.watch.settle(BodyState::Done);
                Poll::Ready(None)
            }
            Poll::Ready(Some(Err(e))) => {
                if is_protocol_violation(&e) {
                    this.faults.count(&this.stats.client_protocol_errors);
                    this.watch.settle(BodyState::ProtocolError);
                } else {
                    this.watch.settle(BodyState::Aborted);
                }
                Poll::Ready(Some(Err(e)))
            }
            Poll::Pending => {
                let idle = this.idle;
                let timer = this
                    .timer
                    .get_or_insert_with(|| Box::pin(tokio::time::sleep(idle)));
                if timer.as_mut().poll(cx).is_pending() {
                    return Poll::Pending;
                }
                this.faults.count(&this.stats.client_timeouts);
                this.watch.settle(BodyState::IdleTimeout);
                Poll::Ready(Some(Err(BodyError::Io(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "no request body byte within the idle timeout",
                )))))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

impl Drop for IdleTimeoutBody {
    fn drop(&mut self) {
        // Dropped before its end (the upstream answered early or failed): nothing more will come.
        self.watch.settle(BodyState::Done);
    }
}
