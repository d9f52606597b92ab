//! Load patterns and what they record: closed-loop saturation, open-loop
//! fixed rate, SSE streams. Every request is timed individually; latency
//! percentiles come from the full sorted sample, not from buckets.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures::future::join_all;
use http_body_util::BodyExt;
use hyper::Method;
use tokio::time::Instant as TokioInstant;

use super::client::{exchange, Sender, Target};
use super::upstream::now_ns;
use super::BenchResult;

/// What one measurement (or several merged rounds) observed.
#[derive(Default, Debug)]
pub struct Sample {
    /// Requests completed inside the measurement window.
    pub completed: u64,
    /// Logical payload bytes moved by those requests (request or decoded response size).
    pub bytes: u64,
    /// Bytes on the wire for those requests' bodies (differs for gzip).
    pub wire_bytes: u64,
    pub errors: u64,
    pub first_error: Option<String>,
    /// Length of the measurement window(s).
    pub window: Duration,
    /// Per-request latency, ns.
    pub lat_ns: Vec<u64>,
    /// Extra per-event samples (SSE delivery latency), ns.
    pub extra_ns: Vec<u64>,
    /// CPU time of the whole bench process (client, origin, proxies) inside the window(s), s.
    pub cpu_s: f64,
}

impl Sample {
    pub fn merge(&mut self, o: Sample) {
        self.completed += o.completed;
        self.bytes += o.bytes;
        self.wire_bytes += o.wire_bytes;
        self.errors += o.errors;
        if self.first_error.is_none() {
            self.first_error = o.first_error;
        }
        self.window += o.window;
        self.lat_ns.extend(o.lat_ns);
        self.extra_ns.extend(o.extra_ns);
        self.cpu_s += o.cpu_s;
    }

    fn error(&mut self, e: String) {
        self.errors += 1;
        if self.first_error.is_none() {
            self.first_error = Some(e);
        }
    }

    pub fn per_sec(&self) -> f64 {
        let s = self.window.as_secs_f64();
        if s > 0.0 {
            self.completed as f64 / s
        } else {
            0.0
        }
    }

    /// Logical MB/s (10^6 bytes).
    pub fn mb_per_sec(&self) -> f64 {
        let s = self.window.as_secs_f64();
        if s > 0.0 {
            self.bytes as f64 / s / 1e6
        } else {
            0.0
        }
    }
}

/// CPU time (user + system) used so far by this process, in seconds,
/// from `CLOCK_PROCESS_CPUTIME_ID` (nanoseconds: `/proc/self/stat` counts
/// 10 ms ticks, 3 % of a 0.3 s window). CPU time, unlike wall time, is not
/// inflated by other processes competing for the cores.
pub fn process_cpu_s() -> f64 {
    seconds(rustix::time::clock_gettime(
        rustix::time::ClockId::ProcessCPUTime,
    ))
}

fn seconds(t: rustix::time::Timespec) -> f64 {
    t.tv_sec as f64 + t.tv_nsec as f64 * 1e-9
}

/// Measures process CPU time between two instants (spawned, so it runs
/// alongside the load).
fn cpu_between(from: TokioInstant, to: TokioInstant) -> tokio::task::JoinHandle<f64> {
    tokio::spawn(async move {
        tokio::time::sleep_until(from).await;
        let a = process_cpu_s();
        tokio::time::sleep_until(to).await;
        process_cpu_s() - a
    })
}

/// Latency summary in microseconds.
#[derive(Debug, Clone, Copy, Default)]
pub struct Pcts {
    pub n: usize,
    pub p50: f64,
    pub p99: f64,
    pub p999: f64,
    pub max: f64,
    pub mean: f64,
}

pub fn percentiles(v: &mut [u64]) -> Pcts {
    if v.is_empty() {
        return Pcts::default();
    }
    v.sort_unstable();
    let at = |q: f64| {
        let idx = ((v.len() as f64 * q).ceil() as usize).saturating_sub(1);
        v.get(idx.min(v.len() - 1)).copied().unwrap_or(0) as f64 / 1e3
    };
    let sum: u128 = v.iter().map(|&x| u128::from(x)).sum();
    Pcts {
        n: v.len(),
        p50: at(0.50),
        p99: at(0.99),
        p999: at(0.999),
        max: v.last().copied().unwrap_or(0) as f64 / 1e3,
        mean: sum as f64 / v.len() as f64 / 1e3,
    }
}

/// One request shape and the answer it must get.
#[derive(Clone)]
pub struct Shape {
    pub method: Method,
    pub path: String,
    pub body: Bytes,
    /// Expected response body length (wire).
    pub expect_len: usize,
    /// Logical payload size counted for MB/s.
    pub logical_len: usize,
}

/// The per-connection samples of one measurement window merged, with the
/// process CPU time spent inside it.
async fn window_total(
    window: Duration,
    tasks: impl IntoIterator<Item = tokio::task::JoinHandle<Sample>>,
    cpu: tokio::task::JoinHandle<f64>,
) -> BenchResult<Sample> {
    let mut total = Sample {
        window,
        ..Sample::default()
    };
    for r in join_all(tasks).await {
        let mut s = r?;
        s.window = Duration::ZERO;
        total.merge(s);
    }
    total.cpu_s = cpu.await?;
    Ok(total)
}

async fn open_all(target: &Target, n: usize) -> BenchResult<Vec<Sender>> {
    let conns = join_all((0..n).map(|_| target.connect())).await;
    conns.into_iter().collect()
}

fn ns(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

async fn one(target: &Target, conn: &mut Sender, shape: &Shape) -> Result<(), String> {
    let req = target
        .request(shape.method.clone(), &shape.path, shape.body.clone())
        .map_err(|e| e.to_string())?;
    match exchange(conn, req).await {
        Ok((200, n)) if n == shape.expect_len => Ok(()),
        Ok((status, n)) => Err(format!(
            "status {status}, {n} body bytes (expected 200, {})",
            shape.expect_len
        )),
        Err(e) => Err(e.to_string()),
    }
}

/// Closed loop: `conns` keep-alive connections, each sending the next
/// request as soon as the previous answer is read, for `warmup + window`.
/// Only completions inside the window count.
pub async fn closed_loop(
    target: &Target,
    shape: &Shape,
    conns: usize,
    warmup: Duration,
    window: Duration,
) -> BenchResult<Sample> {
    let senders = open_all(target, conns).await?;
    let begin = Instant::now();
    let measure_from = begin + warmup;
    let end = measure_from + window;
    let cpu = cpu_between(
        TokioInstant::from_std(measure_from),
        TokioInstant::from_std(end),
    );
    let shape = Arc::new(shape.clone());
    let tasks = senders.into_iter().map(|mut conn| {
        let target = target.clone();
        let shape = Arc::clone(&shape);
        tokio::spawn(async move {
            let mut s = Sample::default();
            loop {
                let t0 = Instant::now();
                if t0 >= end {
                    break;
                }
                let r = one(&target, &mut conn, &shape).await;
                let t1 = Instant::now();
                match r {
                    Ok(()) => {
                        if t1 >= measure_from && t1 <= end {
                            s.completed += 1;
                            s.bytes += shape.logical_len as u64;
                            s.wire_bytes += shape.expect_len.max(shape.body.len()) as u64;
                            s.lat_ns.push(ns(t1 - t0));
                        }
                    }
                    Err(e) => {
                        s.error(e);
                        match target.connect().await {
                            Ok(c) => conn = c,
                            Err(_) => break,
                        }
                    }
                }
            }
            s
        })
    });
    window_total(window, tasks, cpu).await
}

/// Open loop: `rate` requests per second spread evenly over `conns`
/// connections; latency is measured from the actual send.
pub async fn fixed_rate(
    target: &Target,
    shape: &Shape,
    conns: usize,
    rate: f64,
    warmup: Duration,
    window: Duration,
) -> BenchResult<Sample> {
    let senders = open_all(target, conns).await?;
    let begin = TokioInstant::now() + Duration::from_millis(5);
    let measure_from = begin + warmup;
    let end = measure_from + window;
    let cpu = cpu_between(measure_from, end);
    let shape = Arc::new(shape.clone());
    let k = conns.max(1);
    let tasks = senders.into_iter().enumerate().map(|(j, mut conn)| {
        let target = target.clone();
        let shape = Arc::clone(&shape);
        tokio::spawn(async move {
            let mut s = Sample::default();
            let mut i: u64 = 0;
            loop {
                let slot_idx = j as f64 + (k as f64) * (i as f64);
                let slot = begin + Duration::from_secs_f64(slot_idx / rate);
                i += 1;
                if slot >= end {
                    break;
                }
                tokio::time::sleep_until(slot).await;
                let t0 = TokioInstant::now();
                let r = one(&target, &mut conn, &shape).await;
                let t1 = TokioInstant::now();
                match r {
                    Ok(()) => {
                        if t0 >= measure_from && t1 <= end {
                            s.completed += 1;
                            s.bytes += shape.logical_len as u64;
                            s.lat_ns.push(ns(t1 - t0));
                        }
                    }
                    Err(e) => {
                        s.error(e);
                        match target.connect().await {
                            Ok(c) => conn = c,
                            Err(_) => break,
                        }
                    }
                }
            }
            s
        })
    });
    window_total(window, tasks, cpu).await
}

/// `streams` concurrent SSE requests of `events` events `every_ms` apart.
/// `lat_ns` gets time to first event (from the request being sent),
/// `extra_ns` the delivery latency of every event (origin stamp → client).
pub async fn sse(
    target: &Target,
    streams: usize,
    events: u64,
    every_ms: u64,
) -> BenchResult<Sample> {
    let senders = open_all(target, streams).await?;
    let path = format!("/sse?n={events}&ms={every_ms}");
    let tasks = senders.into_iter().map(|mut conn| {
        let target = target.clone();
        let path = path.clone();
        tokio::spawn(async move {
            let mut s = Sample::default();
            let run = async {
                let req = target.request(Method::GET, &path, Bytes::new())?;
                conn.ready().await?;
                let sent = now_ns();
                let res = conn.send_request(req).await?;
                if res.status() != 200 {
                    return Err(format!("SSE status {}", res.status()).into());
                }
                let mut body = res.into_body();
                let mut first = true;
                let mut seen = 0u64;
                let mut carry = String::new();
                while let Some(frame) = body.frame().await {
                    let frame = frame?;
                    let Some(d) = frame.data_ref() else { continue };
                    let at = now_ns();
                    if first {
                        s.lat_ns.push(at.saturating_sub(sent));
                        first = false;
                    }
                    carry.push_str(&String::from_utf8_lossy(d));
                    // Complete events end with a blank line; keep any partial tail.
                    while let Some(end) = carry.find("\n\n") {
                        let ev: String = carry.drain(..end + 2).collect();
                        if let Some(t) = ev
                            .split("{\"t\":")
                            .nth(1)
                            .and_then(|r| r.split(',').next())
                            .and_then(|n| n.parse::<u64>().ok())
                        {
                            s.extra_ns.push(at.saturating_sub(t));
                            seen += 1;
                        }
                    }
                }
                if seen != events {
                    return Err(format!("SSE: {seen} of {events} events").into());
                }
                s.completed += 1;
                Ok::<(), super::BenchError>(())
            };
            if let Err(e) = run.await {
                s.error(e.to_string());
            }
            s
        })
    });
    let mut total = Sample::default();
    for r in join_all(tasks).await {
        total.merge(r?);
    }
    Ok(total)
}
