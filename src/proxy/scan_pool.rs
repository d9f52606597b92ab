//! The scan pool: inspection runs on its own bounded set of std threads,
//! never on the async workers that forward traffic. Forwarding hands each
//! frame (a cheap `Bytes` clone) to the pool and moves on at once.
//!
//! Each stream (a message body, one direction of a tunnel) keeps its own
//! inspector and a FIFO of pending frames; the stream is scheduled onto the
//! pool while it has work, and at most one worker runs it at a time, so its
//! frames are scanned in order. One-off jobs (message heads, WebSocket
//! messages) are independent of each other.
//!
//! Memory is bounded: a frame that would push its stream's queue or the
//! pool's total queue past its bound is not queued; the stream's inspection
//! stops there (marked incomplete) and the bytes are counted as unscanned
//! (`overload`). Forwarding never waits for the pool.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Instant;

use bytes::Bytes;
use tokio::sync::Notify;

use super::stats::ProxyStats;

/// Why forwarded bytes were not scanned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unscanned {
    /// The scan queues were full (the pool is behind); forwarding went on.
    Overload,
    /// Past `max_scan_bytes` of the message.
    Limit,
    /// A binary body (image, audio, video, font, archive, wasm).
    Binary,
    /// A long-lived stream beyond its sliding scan budget (bytes per
    /// minute): skipped for now, scanned again once the budget refills.
    StreamBudget,
}

impl ProxyStats {
    /// Counts `n` forwarded bytes that were not scanned, by reason.
    pub fn count_unscanned(&self, reason: Unscanned, n: u64) {
        if n == 0 {
            return;
        }
        Self::add(
            match reason {
                Unscanned::Overload => &self.unscanned_overload_bytes,
                Unscanned::Limit => &self.unscanned_limit_bytes,
                Unscanned::Binary => &self.unscanned_binary_bytes,
                Unscanned::StreamBudget => &self.unscanned_stream_budget_bytes,
            },
            n,
        );
    }
}

/// Sizing of the scan pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScanPoolSettings {
    /// Scan threads; 0 = available cores − 1 (at least 1).
    pub threads: usize,
    /// Bytes one stream may have waiting for the pool.
    pub stream_queue_bytes: usize,
    /// Bytes all streams together may have waiting for the pool.
    pub total_queue_bytes: usize,
}

/// Default of [`ScanPoolSettings::stream_queue_bytes`].
pub const DEFAULT_STREAM_QUEUE_BYTES: usize = 4 * 1024 * 1024;
/// Default of [`ScanPoolSettings::total_queue_bytes`].
pub const DEFAULT_TOTAL_QUEUE_BYTES: usize = 64 * 1024 * 1024;

impl Default for ScanPoolSettings {
    fn default() -> Self {
        ScanPoolSettings {
            threads: 0,
            stream_queue_bytes: DEFAULT_STREAM_QUEUE_BYTES,
            total_queue_bytes: DEFAULT_TOTAL_QUEUE_BYTES,
        }
    }
}

impl ScanPoolSettings {
    /// The thread count `threads = 0` resolves to.
    pub fn effective_threads(&self) -> usize {
        if self.threads > 0 {
            return self.threads;
        }
        std::thread::available_parallelism()
            .map(|n| n.get().saturating_sub(1))
            .unwrap_or(1)
            .max(1)
    }
}

/// The pool side of a stream: what a worker does with its frames.
pub trait StreamWork: Send + 'static {
    /// Scans the next frame.
    fn feed(&mut self, frame: &[u8]);
    /// Ends the stream (called once).
    fn finish(&mut self);
    /// Whether the stream wants no more bytes (past its scan limit).
    fn saturated(&self) -> bool;
    /// Bytes between the previous frame and the next were not scanned
    /// (forwarded past the stream's scan budget): the next frame does not
    /// continue the previous one.
    fn gap(&mut self) {}
}

/// One queued item of a stream.
enum Frame {
    Data(Bytes),
    /// Unscanned bytes were skipped here.
    Gap,
}

impl Frame {
    fn len(&self) -> usize {
        match self {
            Frame::Data(b) => b.len(),
            Frame::Gap => 0,
        }
    }
}

type OnceJob = Box<dyn FnOnce() + Send + 'static>;

enum Work {
    Stream(Arc<StreamQueue>),
    Once(OnceJob, usize),
}

struct Ready {
    queue: VecDeque<Work>,
    paused: bool,
    shutdown: bool,
}

struct Inner {
    ready: Mutex<Ready>,
    wake: Condvar,
    settings: ScanPoolSettings,
    stats: Arc<ProxyStats>,
    /// Jobs queued or running (frames, stream ends, one-off jobs).
    pending: AtomicUsize,
    /// Message bodies whose end has not been handed to the pool yet.
    open_bodies: AtomicUsize,
    idle: Notify,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panicking scan job must not take the pool down with it.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Inner {
    fn schedule(&self, work: Work) {
        let mut r = lock(&self.ready);
        if r.shutdown {
            return;
        }
        r.queue.push_back(work);
        drop(r);
        self.wake.notify_one();
    }

    /// Reserves `n` bytes of the total queue, or `false` when full.
    fn reserve(&self, n: usize) -> bool {
        let n = n as u64;
        let queued = &self.stats.scan_queue_bytes;
        let before = queued.fetch_add(n, Ordering::AcqRel);
        if before.saturating_add(n) > self.settings.total_queue_bytes as u64 {
            queued.fetch_sub(n, Ordering::AcqRel);
            return false;
        }
        let now = before + n;
        self.stats
            .scan_queue_peak_bytes
            .fetch_max(now, Ordering::Relaxed);
        true
    }

    fn release(&self, n: usize) {
        self.stats
            .scan_queue_bytes
            .fetch_sub(n as u64, Ordering::AcqRel);
    }

    fn done(&self, jobs: usize) {
        if jobs > 0 && self.pending.fetch_sub(jobs, Ordering::AcqRel) == jobs {
            self.idle.notify_waiters();
        }
    }

    fn close_body(&self) {
        if self.open_bodies.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.idle.notify_waiters();
        }
    }

    fn is_idle(&self) -> bool {
        self.pending.load(Ordering::Acquire) == 0 && self.open_bodies.load(Ordering::Acquire) == 0
    }

    fn next(&self) -> Option<Work> {
        let mut r = lock(&self.ready);
        loop {
            if r.shutdown {
                return None;
            }
            if !r.paused {
                if let Some(w) = r.queue.pop_front() {
                    return Some(w);
                }
            }
            r = self.wake.wait(r).unwrap_or_else(|e| e.into_inner());
        }
    }

    fn timed(&self, f: impl FnOnce()) {
        let started = Instant::now();
        f();
        let ns = u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX);
        self.stats.observe_scan(ns);
    }

    fn run(self: &Arc<Self>) {
        while let Some(work) = self.next() {
            match work {
                Work::Once(job, cost) => {
                    // A panic in one job loses that job's findings, not the worker.
                    self.timed(|| {
                        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
                    });
                    self.release(cost);
                    self.done(1);
                }
                Work::Stream(q) => self.run_stream(q),
            }
        }
    }

    /// Drains what one stream has queued, in order, then requeues it (at
    /// the back, for fairness) if more arrived meanwhile.
    fn run_stream(self: &Arc<Self>, q: Arc<StreamQueue>) {
        let (frames, finish, mut work) = {
            let mut st = lock(&q.state);
            let frames = std::mem::take(&mut st.frames);
            let finish = std::mem::take(&mut st.finish);
            (frames, finish, st.work.take())
        };
        let bytes: usize = frames.iter().map(Frame::len).sum();
        self.timed(|| {
            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                if let Some(w) = work.as_mut() {
                    for f in &frames {
                        let f = match f {
                            Frame::Data(f) => f,
                            Frame::Gap => {
                                w.gap();
                                continue;
                            }
                        };
                        if q.saturated.load(Ordering::Acquire) {
                            self.stats.count_unscanned(Unscanned::Limit, f.len() as u64);
                            continue;
                        }
                        w.feed(f);
                        if w.saturated() {
                            q.saturated.store(true, Ordering::Release);
                        }
                    }
                    if finish {
                        w.finish();
                    }
                }
            }));
        });
        {
            let mut st = lock(&q.state);
            st.bytes = st.bytes.saturating_sub(bytes);
            if !finish {
                st.work = work;
            }
            if st.frames.is_empty() && !st.finish {
                st.scheduled = false;
            } else {
                self.schedule(Work::Stream(Arc::clone(&q)));
            }
        }
        self.release(bytes);
        self.done(frames.len() + usize::from(finish));
    }
}

/// The scan pool of one engine. Dropping the last handle from the engine
/// ([`ScanPool::shutdown`]) ends its threads.
#[derive(Clone)]
pub struct ScanPool {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for ScanPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScanPool")
            .field("settings", &self.inner.settings)
            .finish()
    }
}

/// Holds the pool's workers until dropped (test and diagnostics hook).
#[must_use = "the pool resumes when this is dropped"]
pub struct ScanPause {
    inner: Arc<Inner>,
}

impl Drop for ScanPause {
    fn drop(&mut self) {
        lock(&self.inner.ready).paused = false;
        self.inner.wake.notify_all();
    }
}

impl ScanPool {
    /// Starts the pool's threads.
    pub fn start(settings: ScanPoolSettings, stats: Arc<ProxyStats>) -> std::io::Result<Self> {
        let inner = Arc::new(Inner {
            ready: Mutex::new(Ready {
                queue: VecDeque::new(),
                paused: false,
                shutdown: false,
            }),
            wake: Condvar::new(),
            settings,
            stats,
            pending: AtomicUsize::new(0),
            open_bodies: AtomicUsize::new(0),
            idle: Notify::new(),
        });
        for i in 0..settings.effective_threads() {
            let worker = Arc::clone(&inner);
            std::thread::Builder::new()
                .name(format!("tg-scan-{i}"))
                .spawn(move || worker.run())?;
        }
        Ok(ScanPool { inner })
    }

    /// Ends the threads once they finish their current job; queued work is dropped.
    pub fn shutdown(&self) {
        let mut r = lock(&self.inner.ready);
        r.shutdown = true;
        r.queue.clear();
        drop(r);
        self.inner.wake.notify_all();
    }

    /// Bytes currently waiting for (or being scanned by) the pool.
    pub fn queued_bytes(&self) -> u64 {
        self.inner.stats.scan_queue_bytes.load(Ordering::Acquire)
    }

    /// Holds every worker (after its current job) until the guard is dropped.
    pub fn pause(&self) -> ScanPause {
        lock(&self.inner.ready).paused = true;
        ScanPause {
            inner: Arc::clone(&self.inner),
        }
    }

    /// Resolves once every queued job has run and every message body's
    /// end has been scanned (tunnels and WebSockets excepted: they may stay
    /// open indefinitely).
    pub async fn idle(&self) {
        loop {
            let notified = self.inner.idle.notified();
            if self.inner.is_idle() {
                return;
            }
            notified.await;
        }
    }

    /// Queues an independent job costing `cost` bytes of queue; counted as
    /// unscanned (`overload`) instead when the queue is full.
    pub fn submit(&self, cost: usize, job: impl FnOnce() + Send + 'static) {
        if !self.inner.reserve(cost) {
            self.inner
                .stats
                .count_unscanned(Unscanned::Overload, cost as u64);
            return;
        }
        self.inner.pending.fetch_add(1, Ordering::AcqRel);
        self.inner.schedule(Work::Once(Box::new(job), cost));
    }

    /// Opens a stream whose frames `work` scans in order. `body` streams
    /// count for [`ScanPool::idle`] until they end.
    pub fn stream(&self, work: Box<dyn StreamWork>, body: bool) -> StreamHandle {
        if body {
            self.inner.open_bodies.fetch_add(1, Ordering::AcqRel);
        }
        StreamHandle {
            pool: Arc::clone(&self.inner),
            queue: Arc::new(StreamQueue {
                state: Mutex::new(StreamState {
                    frames: VecDeque::new(),
                    bytes: 0,
                    finish: false,
                    scheduled: false,
                    work: Some(work),
                }),
                saturated: AtomicBool::new(false),
            }),
            stopped: None,
            resumable: false,
            body,
            ended: false,
        }
    }
}

struct StreamState {
    frames: VecDeque<Frame>,
    bytes: usize,
    finish: bool,
    /// In the ready queue or being run by a worker.
    scheduled: bool,
    /// `None` while a worker runs it, and after its end.
    work: Option<Box<dyn StreamWork>>,
}

struct StreamQueue {
    state: Mutex<StreamState>,
    /// Set by the worker once the stream's scan limit is reached.
    saturated: AtomicBool,
}

/// The forwarding side of a stream: never blocks.
pub struct StreamHandle {
    pool: Arc<Inner>,
    queue: Arc<StreamQueue>,
    /// Once set, later bytes are only counted, under this reason.
    stopped: Option<Unscanned>,
    /// A long-lived stream: a frame that does not fit the queues is
    /// counted and skipped (a gap), and later frames are queued again once
    /// there is room, instead of the stream's inspection stopping for good.
    resumable: bool,
    body: bool,
    ended: bool,
}

impl StreamHandle {
    /// Makes overload skip frames rather than stop the stream (see `resumable`).
    pub fn set_resumable(&mut self) {
        self.resumable = true;
    }

    /// Stops scanning this stream: its later bytes are counted under `reason`.
    pub fn stop(&mut self, reason: Unscanned) {
        self.stopped.get_or_insert(reason);
    }

    /// Counts `n` bytes as unscanned under `reason`.
    pub fn count(&self, reason: Unscanned, n: u64) {
        self.pool.stats.count_unscanned(reason, n);
    }

    /// Whether this stream's later bytes are only counted, not queued.
    pub fn stopped(&mut self) -> bool {
        if self.stopped.is_none() && self.queue.saturated.load(Ordering::Acquire) {
            self.stopped = Some(Unscanned::Limit);
        }
        self.stopped.is_some()
    }

    /// Counts `n` bytes of a stopped stream under its stop reason.
    pub fn push_counted(&mut self, n: usize) {
        if let Some(reason) = self.stopped {
            self.count(reason, n as u64);
        }
    }

    /// Hands a frame to the pool, or counts it as unscanned.
    pub fn push(&mut self, frame: Bytes) {
        if self.ended || frame.is_empty() {
            return;
        }
        if self.stopped() {
            self.push_counted(frame.len());
            return;
        }
        let n = frame.len();
        let mut st = lock(&self.queue.state);
        let over_stream = st.bytes.saturating_add(n) > self.pool.settings.stream_queue_bytes;
        if over_stream || !self.pool.reserve(n) {
            drop(st);
            self.count(Unscanned::Overload, n as u64);
            if self.resumable {
                self.gap();
            } else {
                self.stopped = Some(Unscanned::Overload);
            }
            return;
        }
        st.bytes += n;
        st.frames.push_back(Frame::Data(frame));
        self.pool.pending.fetch_add(1, Ordering::AcqRel);
        if !st.scheduled {
            st.scheduled = true;
            self.pool.schedule(Work::Stream(Arc::clone(&self.queue)));
        }
    }

    /// Marks a gap: bytes were forwarded here without being queued (past
    /// the stream's scan budget). The scan resumes with the next frame.
    pub fn gap(&mut self) {
        if self.ended || self.stopped() {
            return;
        }
        let mut st = lock(&self.queue.state);
        if matches!(st.frames.back(), Some(Frame::Gap)) {
            return;
        }
        st.frames.push_back(Frame::Gap);
        self.pool.pending.fetch_add(1, Ordering::AcqRel);
        if !st.scheduled {
            st.scheduled = true;
            self.pool.schedule(Work::Stream(Arc::clone(&self.queue)));
        }
    }

    /// Ends the stream: the pool finishes its inspection after its frames.
    pub fn end(&mut self) {
        if self.ended {
            return;
        }
        self.ended = true;
        {
            let mut st = lock(&self.queue.state);
            st.finish = true;
            self.pool.pending.fetch_add(1, Ordering::AcqRel);
            if !st.scheduled {
                st.scheduled = true;
                self.pool.schedule(Work::Stream(Arc::clone(&self.queue)));
            }
        }
        if self.body {
            self.pool.close_body();
        }
    }
}

impl Drop for StreamHandle {
    fn drop(&mut self) {
        self.end();
    }
}
