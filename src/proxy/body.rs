//! A body wrapper that shows every data frame to the detector as it passes
//! and hands it on unchanged: no collecting, no buffering, no added delay
//! beyond the scan of that frame (SSE events stream through as they come).

use std::pin::Pin;
use std::sync::Mutex;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body_util::combinators::BoxBody;
use hudsucker::hyper::body::{Body as HttpBody, Frame, SizeHint};
use hudsucker::Body;

use super::inspect::BodyScan;

/// Wraps `inner`; frames, size hint and end-of-stream are passed through as is.
pub struct InspectedBody {
    inner: Body,
    // A Mutex only to make the wrapper `Sync` (hudsucker's boxed body needs it);
    // it is never contended: one task polls a body.
    scan: Mutex<BodyScan>,
}

impl InspectedBody {
    /// Wraps `inner` into a hudsucker body that feeds `scan`.
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
    type Error = hudsucker::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        match &polled {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    self.with_scan(|s| s.feed(data));
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
