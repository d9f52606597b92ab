//! The scan pool: inspection runs on its own bounded set of std threads,
//! never on the async workers that forward traffic. Forwarding copies each
//! frame into its stream's queue and moves on at once.
//!
//! Frames are copied, not kept as `Bytes` clones: a body frame slices the
//! read buffer it came from (hyper's reads are up to a few hundred KiB), so
//! a small queued clone pins its whole buffer. Counted by frame length, a
//! 64 MiB queue of such clones held over 1 GB under a download load
//! (`heaptrack` on `benches/proxy.rs --only load_memory`). Copies go into
//! chunks of [`CHUNK_BYTES`], and the queues count their capacity, which is
//! the memory they really hold.
//!
//! A stream's inspector (its decoder above all) is queue memory too, held
//! from the stream's start until the pool has run its end: each stream
//! reserves an estimate of it up front, and a stream that finds no room is
//! not inspected at all (its bytes are counted as `overload`). Without this,
//! a pool that falls behind a gzip download load kept thousands of zlib
//! states alive (over 400 MB).
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
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Instant;

use tokio::sync::Notify;

use super::stats::ProxyStats;
use crate::core::config::ScanPriority;

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
    /// The scan threads' CPU priority on busy cores.
    pub priority: ScanPriority,
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
            priority: ScanPriority::Background,
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
    /// (forwarded past the stream's scan budget, or not queued under
    /// overload): the next frame, if any, does not continue the previous one.
    fn gap(&mut self) {}
    /// The forwarding side stopped queueing at the scan limit with more
    /// bytes to come (the work may have seen exactly the limit, and could
    /// not tell a truncated message from a complete one).
    fn past_limit(&mut self) {}
    /// Scans the stream's last frame and ends it: `feed` then `finish`,
    /// which a work may do in one pass (a small body queued whole).
    fn feed_last(&mut self, frame: &[u8]) {
        self.feed(frame);
        self.finish();
    }
}

/// The nice value of scan threads at [`ScanPriority::Background`]: when
/// the cores are busy, forwarding (the async workers, at the process's own
/// priority) runs first and the pool falls behind, which the queue bounds
/// turn into counted unscanned bytes rather than slower traffic. On an idle
/// core scans run at full speed. (On 2 cores saturated by the proxy bench,
/// 5–48 % of the bytes were scanned at nice 10; at the process's priority
/// 1 KiB GETs were all scanned, at 0.61–0.68 of the bare proxy's rate
/// instead of 0.77–0.79: BENCHMARKS.md.)
pub const SCAN_THREAD_NICE: i32 = 10;

/// Lowers the calling (scan) thread's CPU priority to [`SCAN_THREAD_NICE`]
/// when `priority` is background; a normal one keeps the process's.
/// Linux applies a `PRIO_PROCESS` nice to the one thread named by its id.
fn set_scan_priority(priority: ScanPriority) {
    if priority == ScanPriority::Normal {
        return;
    }
    #[cfg(target_os = "linux")]
    {
        let tid = rustix::thread::gettid();
        if let Err(e) = rustix::process::setpriority_process(Some(tid), SCAN_THREAD_NICE) {
            tracing::debug!(error = %e, "scan thread keeps the process priority");
        }
    }
}

/// How long a worker woken by new work waits for more before running it:
/// the pool then wakes about once per window rather than once per job
/// (three or four jobs per small exchange). Findings come this much later;
/// forwarding never waits for the pool either way.
pub const GATHER: std::time::Duration = std::time::Duration::from_millis(2);

/// Smallest chunk a stream's queued bytes are copied into: small frames
/// (SSE events, tunnel reads) share one allocation instead of one each.
pub const CHUNK_BYTES: usize = 16 * 1024;

/// One queued item of a stream.
enum Frame {
    /// Copied frames, in order, filling up to the chunk's capacity;
    /// `reserved` bytes of the queue are held for it.
    Data { bytes: Vec<u8>, reserved: usize },
    /// Unscanned bytes were skipped here.
    Gap,
    /// The forwarding side reached the scan limit: more bytes follow, none
    /// of them queued.
    Limit,
}

impl Frame {
    /// Queue bytes the frame holds: its allocation, not its length.
    fn cost(&self) -> usize {
        match self {
            Frame::Data { reserved, .. } => *reserved,
            Frame::Gap | Frame::Limit => 0,
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
    /// Workers waiting for work: only then does scheduling pay for a wake-up
    /// (a futex syscall on the forwarding thread).
    sleeping: usize,
}

/// What reserved bytes of the total queue hold.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Held {
    /// Frames and jobs waiting for (or being run by) a worker.
    Queued,
    /// A stream's inspector, from its start until its end has run.
    State,
}

struct Inner {
    ready: Mutex<Ready>,
    /// Bytes reserved of `settings.total_queue_bytes` (queued and state).
    held: AtomicU64,
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
        let wake = r.sleeping > 0 && !r.paused;
        drop(r);
        if wake {
            self.wake.notify_one();
        }
    }

    /// Reserves `n` bytes of the total queue, or `false` when full.
    /// Queued bytes and stream state share the bound; only queued bytes
    /// are shown as the queue's depth.
    fn reserve(&self, n: usize, kind: Held) -> bool {
        let n = n as u64;
        let before = self.held.fetch_add(n, Ordering::AcqRel);
        if before.saturating_add(n) > self.settings.total_queue_bytes as u64 {
            self.held.fetch_sub(n, Ordering::AcqRel);
            return false;
        }
        if kind == Held::Queued {
            let now = self.stats.scan_queue_bytes.fetch_add(n, Ordering::AcqRel) + n;
            self.stats
                .scan_queue_peak_bytes
                .fetch_max(now, Ordering::Relaxed);
        }
        true
    }

    fn release(&self, n: usize, kind: Held) {
        let n = n as u64;
        self.held.fetch_sub(n, Ordering::AcqRel);
        if kind == Held::Queued {
            self.stats.scan_queue_bytes.fetch_sub(n, Ordering::AcqRel);
        }
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
            r.sleeping += 1;
            r = self.wake.wait(r).unwrap_or_else(|e| e.into_inner());
            r.sleeping -= 1;
            if !r.shutdown && !r.paused && !r.queue.is_empty() {
                // Woken for new work: let more of it arrive before running
                // it. Producers wake only sleeping workers, so the jobs of
                // this window cost no wake-up each (a futex call on the
                // forwarding thread and a context switch here, which on a
                // VM cost more than scanning a small message).
                r = self
                    .wake
                    .wait_timeout(r, GATHER)
                    .map(|(g, _)| g)
                    .unwrap_or_else(|e| e.into_inner().0);
            }
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
                    self.release(cost, Held::Queued);
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
        let bytes: usize = frames.iter().map(Frame::cost).sum();
        self.timed(|| {
            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                if let Some(w) = work.as_mut() {
                    let last = frames.len().wrapping_sub(1);
                    let mut finished = false;
                    for (i, f) in frames.iter().enumerate() {
                        let f = match f {
                            Frame::Data { bytes, .. } => bytes,
                            Frame::Gap => {
                                w.gap();
                                continue;
                            }
                            Frame::Limit => {
                                w.past_limit();
                                continue;
                            }
                        };
                        if q.saturated.load(Ordering::Acquire) {
                            self.stats.count_unscanned(Unscanned::Limit, f.len() as u64);
                            continue;
                        }
                        if finish && i == last {
                            // The stream's end is queued right behind its
                            // last frame: one pass for both.
                            w.feed_last(f);
                            finished = true;
                            continue;
                        }
                        w.feed(f);
                        if w.saturated() {
                            q.saturated.store(true, Ordering::Release);
                        }
                    }
                    if finish && !finished {
                        w.finish();
                    }
                }
            }));
        });
        {
            let mut st = lock(&q.state);
            st.bytes = st.bytes.saturating_sub(bytes);
            if finish {
                drop(work);
                self.release(q.state_bytes, Held::State);
            } else {
                st.work = work;
            }
            if st.frames.is_empty() && !st.finish {
                st.scheduled = false;
            } else {
                self.schedule(Work::Stream(Arc::clone(&q)));
            }
        }
        self.release(bytes, Held::Queued);
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
                sleeping: 0,
            }),
            wake: Condvar::new(),
            settings,
            stats,
            pending: AtomicUsize::new(0),
            open_bodies: AtomicUsize::new(0),
            held: AtomicU64::new(0),
            idle: Notify::new(),
        });
        for i in 0..settings.effective_threads() {
            let worker = Arc::clone(&inner);
            std::thread::Builder::new()
                .name(format!("tg-scan-{i}"))
                .spawn(move || {
                    set_scan_priority(settings.priority);
                    worker.run()
                })?;
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
        if !self.inner.reserve(cost, Held::Queued) {
            self.inner
                .stats
                .count_unscanned(Unscanned::Overload, cost as u64);
            return;
        }
        self.inner.pending.fetch_add(1, Ordering::AcqRel);
        self.inner.schedule(Work::Once(Box::new(job), cost));
    }

    /// Opens a stream whose frames the work made by `make` scans in order.
    /// `state_bytes` estimates what that work holds (its decoder, its
    /// buffers): it is reserved from the total queue until the stream's end
    /// has run. Without room, `make` is not called and the stream's bytes
    /// are only counted (`overload`). `body` streams count for
    /// [`ScanPool::idle`] until they end.
    pub fn stream(
        &self,
        state_bytes: usize,
        body: bool,
        make: impl FnOnce() -> Box<dyn StreamWork>,
    ) -> StreamHandle {
        let admitted = self.inner.reserve(state_bytes, Held::State);
        if body && admitted {
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
                    work: admitted.then(make),
                }),
                saturated: AtomicBool::new(false),
                state_bytes: if admitted { state_bytes } else { 0 },
            }),
            stopped: (!admitted).then_some(Unscanned::Overload),
            resumable: false,
            body: body && admitted,
            admitted,
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
    /// Queue bytes reserved for the stream's work until its end has run.
    state_bytes: usize,
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
    /// Whether the stream got its work (room for its state) at the start.
    admitted: bool,
    ended: bool,
}

impl StreamHandle {
    /// Makes overload skip frames rather than stop the stream (see `resumable`).
    pub fn set_resumable(&mut self) {
        self.resumable = true;
    }

    /// Stops scanning this stream: its later bytes are counted under `reason`.
    pub fn stop(&mut self, reason: Unscanned) {
        if reason == Unscanned::Limit && !self.ended && !self.stopped() {
            self.mark(Frame::Limit);
        }
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

    /// Copies a frame into the stream's queue, or counts it as unscanned.
    pub fn push(&mut self, frame: &[u8]) {
        if self.ended || frame.is_empty() {
            return;
        }
        if self.stopped() {
            self.push_counted(frame.len());
            return;
        }
        let mut st = lock(&self.queue.state);
        // Fill the chunk at the tail first (not yet taken by a worker).
        let mut rest = frame;
        if let Some(Frame::Data {
            bytes: tail,
            reserved,
        }) = st.frames.back_mut()
        {
            let room = reserved.saturating_sub(tail.len());
            let (now, later) = rest.split_at(room.min(rest.len()));
            tail.extend_from_slice(now);
            rest = later;
        }
        if rest.is_empty() {
            return;
        }
        let cap = rest.len().max(CHUNK_BYTES);
        let over_stream = st.bytes.saturating_add(cap) > self.pool.settings.stream_queue_bytes;
        if over_stream || !self.pool.reserve(cap, Held::Queued) {
            drop(st);
            self.count(Unscanned::Overload, rest.len() as u64);
            // The inspector learns that its bytes stop short here (a decoded
            // body then ends without reporting a decoding failure).
            self.gap();
            if !self.resumable {
                self.stopped = Some(Unscanned::Overload);
            }
            return;
        }
        let mut chunk = Vec::with_capacity(cap);
        chunk.extend_from_slice(rest);
        st.bytes += cap;
        st.frames.push_back(Frame::Data {
            bytes: chunk,
            reserved: cap,
        });
        self.pool.pending.fetch_add(1, Ordering::AcqRel);
        if !st.scheduled {
            st.scheduled = true;
            self.pool.schedule(Work::Stream(Arc::clone(&self.queue)));
        }
    }

    /// Copies the stream's last frame into its queue and ends the stream,
    /// so that the pool runs both together (see [`StreamWork::feed_last`]).
    /// The frame gets a chunk of its own size: a whole small body does not
    /// hold (or allocate) a [`CHUNK_BYTES`] chunk.
    pub fn push_last(&mut self, frame: &[u8]) {
        if self.ended {
            return;
        }
        if frame.is_empty() || self.stopped() || !self.admitted {
            self.push(frame);
            self.end();
            return;
        }
        let queued = {
            let mut st = lock(&self.queue.state);
            let fits_tail = matches!(
                st.frames.back(),
                Some(Frame::Data { bytes, reserved }) if reserved.saturating_sub(bytes.len()) >= frame.len()
            );
            let cap = frame.len();
            let queued = if fits_tail {
                if let Some(Frame::Data { bytes, .. }) = st.frames.back_mut() {
                    bytes.extend_from_slice(frame);
                }
                true
            } else if st.bytes.saturating_add(cap) <= self.pool.settings.stream_queue_bytes
                && self.pool.reserve(cap, Held::Queued)
            {
                st.bytes += cap;
                st.frames.push_back(Frame::Data {
                    bytes: frame.to_vec(),
                    reserved: cap,
                });
                self.pool.pending.fetch_add(1, Ordering::AcqRel);
                true
            } else {
                false
            };
            if queued {
                // Under the same lock: no worker takes the frame without its end.
                st.finish = true;
                self.pool.pending.fetch_add(1, Ordering::AcqRel);
                if !st.scheduled {
                    st.scheduled = true;
                    self.pool.schedule(Work::Stream(Arc::clone(&self.queue)));
                }
            }
            queued
        };
        if !queued {
            // Not queued: the usual path counts it and stops the stream.
            self.push(frame);
            self.end();
            return;
        }
        self.ended = true;
        if self.body {
            self.pool.close_body();
        }
    }

    /// Marks a gap: bytes were forwarded here without being queued (past
    /// the stream's scan budget). The scan resumes with the next frame.
    pub fn gap(&mut self) {
        if self.ended || self.stopped() {
            return;
        }
        if matches!(lock(&self.queue.state).frames.back(), Some(Frame::Gap)) {
            return;
        }
        self.mark(Frame::Gap);
    }

    /// Queues a marker frame for the stream's work.
    fn mark(&mut self, frame: Frame) {
        if !self.admitted {
            return;
        }
        let mut st = lock(&self.queue.state);
        st.frames.push_back(frame);
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
        if !self.admitted {
            // Nothing to run at the end of a stream that was never inspected.
            return;
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicU64;

    /// Counts what it is fed; shares its counters with the test.
    struct Counting {
        fed: Arc<AtomicU64>,
        finished: Arc<AtomicUsize>,
    }

    impl StreamWork for Counting {
        fn feed(&mut self, frame: &[u8]) {
            self.fed.fetch_add(frame.len() as u64, Ordering::Relaxed);
        }
        fn finish(&mut self) {
            self.finished.fetch_add(1, Ordering::Relaxed);
        }
        fn saturated(&self) -> bool {
            false
        }
        fn past_limit(&mut self) {
            self.finished.fetch_add(1000, Ordering::Relaxed);
        }
    }

    fn pool(total: usize) -> (ScanPool, Arc<ProxyStats>) {
        pool_at(total, ScanPriority::Background)
    }

    fn pool_at(total: usize, priority: ScanPriority) -> (ScanPool, Arc<ProxyStats>) {
        let stats = Arc::new(ProxyStats::default());
        let settings = ScanPoolSettings {
            threads: 1,
            stream_queue_bytes: total,
            total_queue_bytes: total,
            priority,
        };
        (
            ScanPool::start(settings, Arc::clone(&stats)).expect("threads start"),
            stats,
        )
    }

    /// The nice value of the calling thread.
    #[cfg(target_os = "linux")]
    fn own_nice() -> Option<i32> {
        let stat = std::fs::read_to_string("/proc/thread-self/stat").ok()?;
        // Fields after the parenthesised name: state is field 3, nice field 19.
        let (_, after) = stat.rsplit_once(')')?;
        after.split_whitespace().nth(16)?.parse().ok()
    }

    /// The nice value a job of a pool at `priority` runs at.
    #[cfg(target_os = "linux")]
    async fn job_nice(priority: ScanPriority) -> Option<i32> {
        let (pool, _) = pool_at(1 << 20, priority);
        let seen = Arc::new(Mutex::new(None));
        let slot = Arc::clone(&seen);
        pool.submit(0, move || *lock(&slot) = Some(own_nice()));
        pool.idle().await;
        pool.shutdown();
        let nice = *lock(&seen);
        nice.flatten()
    }

    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn scan_threads_run_below_the_forwarding_priority_unless_told_otherwise() {
        let process = own_nice().expect("own nice readable");
        assert_eq!(
            job_nice(ScanPriority::Background).await,
            Some(SCAN_THREAD_NICE.max(process)),
            "a background job runs at nice 10"
        );
        assert_eq!(
            job_nice(ScanPriority::Normal).await,
            Some(process),
            "a normal job keeps the priority of the thread that started the pool"
        );
    }

    #[tokio::test]
    async fn a_stream_without_room_for_its_state_is_never_built_and_only_counted() {
        const STATE: usize = 10_000;
        let (pool, stats) = pool(3 * STATE);
        let fed = Arc::new(AtomicU64::new(0));
        let finished = Arc::new(AtomicUsize::new(0));
        let built = Arc::new(AtomicUsize::new(0));
        let pause = pool.pause();
        let mut handles: Vec<StreamHandle> = (0..5)
            .map(|_| {
                let (fed, finished, built) = (fed.clone(), finished.clone(), built.clone());
                pool.stream(STATE, true, move || {
                    built.fetch_add(1, Ordering::Relaxed);
                    Box::new(Counting { fed, finished })
                })
            })
            .collect();
        assert_eq!(built.load(Ordering::Relaxed), 3, "room for three states");
        for h in &mut handles {
            h.push(b"0123456789");
        }
        // The three admitted streams hold their state; the pushes above did
        // not fit a chunk beside it, so all five count their bytes.
        assert_eq!(stats.unscanned_overload_bytes.load(Ordering::Relaxed), 50);
        assert_eq!(pool.queued_bytes(), 0);
        for h in &mut handles {
            h.end();
        }
        drop(pause);
        pool.idle().await;
        assert_eq!(
            finished.load(Ordering::Relaxed),
            3,
            "only built streams end"
        );
        assert_eq!(fed.load(Ordering::Relaxed), 0);
        assert_eq!(pool.inner.held.load(Ordering::Acquire), 0, "state released");
        pool.shutdown();
    }

    /// A body whose frames end exactly at the scan limit looks complete to
    /// its inspector: the stop at the limit tells it (once) that more came.
    #[tokio::test]
    async fn a_stop_at_the_limit_reaches_the_work_once() {
        let (pool, stats) = pool(1 << 20);
        let fed = Arc::new(AtomicU64::new(0));
        // Ends count 1 each, limit notices 1000 each.
        let finished = Arc::new(AtomicUsize::new(0));
        let mut h = {
            let (fed, finished) = (fed.clone(), finished.clone());
            pool.stream(0, true, move || Box::new(Counting { fed, finished }))
        };
        h.push(b"exactly the limit");
        h.stop(Unscanned::Limit);
        h.stop(Unscanned::Limit);
        h.count(Unscanned::Limit, 5);
        h.end();
        pool.idle().await;
        assert_eq!(finished.load(Ordering::Relaxed), 1001);
        assert_eq!(fed.load(Ordering::Relaxed), 17);
        assert_eq!(stats.unscanned_limit_bytes.load(Ordering::Relaxed), 5);
        pool.shutdown();
    }

    #[tokio::test]
    async fn small_frames_share_a_chunk_and_the_queue_counts_the_chunk() {
        let (pool, stats) = pool(1 << 20);
        let fed = Arc::new(AtomicU64::new(0));
        let finished = Arc::new(AtomicUsize::new(0));
        let pause = pool.pause();
        let mut h = {
            let (fed, finished) = (fed.clone(), finished.clone());
            pool.stream(0, true, move || Box::new(Counting { fed, finished }))
        };
        for _ in 0..100 {
            h.push(&[b'x'; 100]); // 10,000 bytes: one chunk
        }
        assert_eq!(pool.queued_bytes(), CHUNK_BYTES as u64);
        // Fills the chunk; the other 10,000 bytes start a second one.
        h.push(&[b'y'; CHUNK_BYTES]);
        assert_eq!(pool.queued_bytes(), 2 * CHUNK_BYTES as u64);
        // Fills the second chunk; the rest (2 chunks + 10,000 bytes) gets a
        // chunk of exactly its own size.
        h.push(&vec![b'z'; 3 * CHUNK_BYTES]);
        assert_eq!(pool.queued_bytes(), 4 * CHUNK_BYTES as u64 + 10_000);
        h.end();
        drop(pause);
        pool.idle().await;
        assert_eq!(fed.load(Ordering::Relaxed), 10_000 + 4 * CHUNK_BYTES as u64);
        assert_eq!(finished.load(Ordering::Relaxed), 1);
        assert_eq!(pool.queued_bytes(), 0);
        assert_eq!(stats.unscanned_overload_bytes.load(Ordering::Relaxed), 0);
        pool.shutdown();
    }

    /// Counts its calls: frames fed one by one, last frames with the end.
    #[derive(Default, Clone)]
    struct Calls(Arc<Mutex<(usize, usize, usize)>>);

    impl StreamWork for Calls {
        fn feed(&mut self, _: &[u8]) {
            lock(&self.0).0 += 1;
        }
        fn feed_last(&mut self, _: &[u8]) {
            lock(&self.0).1 += 1;
        }
        fn finish(&mut self) {
            lock(&self.0).2 += 1;
        }
        fn saturated(&self) -> bool {
            false
        }
    }

    #[tokio::test]
    async fn a_last_frame_is_run_with_the_end_in_one_call_and_one_job() {
        let (pool, stats) = pool(1 << 20);
        let calls = Calls::default();
        // Whole: one frame that is also the last.
        let mut h = {
            let c = calls.clone();
            pool.stream(0, true, move || Box::new(c))
        };
        h.push_last(&[b'x'; 1000]);
        h.end();
        pool.idle().await;
        assert_eq!(*lock(&calls.0), (0, 1, 0));
        assert_eq!(stats.scan_jobs.load(Ordering::Relaxed), 1);
        // Its own size, not a whole chunk, was queued.
        assert_eq!(stats.scan_queue_peak_bytes.load(Ordering::Relaxed), 1000);
        // Earlier frames queued while the pool is paused share the run.
        let calls = Calls::default();
        let pause = pool.pause();
        let mut h = {
            let c = calls.clone();
            pool.stream(0, true, move || Box::new(c))
        };
        h.push(&[b'a'; 100]);
        h.push_last(&[b'b'; 100]);
        drop(pause);
        pool.idle().await;
        // The two frames share a chunk: fed as one, with the end.
        assert_eq!(*lock(&calls.0), (0, 1, 0));
        assert_eq!(stats.scan_jobs.load(Ordering::Relaxed), 2);
        // An ended stream takes nothing more; an empty last frame just ends.
        let calls = Calls::default();
        let mut h = {
            let c = calls.clone();
            pool.stream(0, true, move || Box::new(c))
        };
        h.push_last(&[]);
        h.push_last(b"late");
        pool.idle().await;
        assert_eq!(*lock(&calls.0), (0, 0, 1));
        assert_eq!(pool.queued_bytes(), 0);
        pool.shutdown();
    }
}
