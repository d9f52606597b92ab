//! The sliding scan budget of long-lived streams (SSE and other event
//! streams, relayed tunnels): a token bucket per stream, refilled with the
//! clock, so that a stream is never inspected only at its start. A stream
//! that stays within its rate is scanned whole; a burst beyond it is
//! forwarded unscanned (counted as `stream_budget`), and what arrives once
//! the bucket has refilled is scanned again. The clock is read here, at the
//! proxy's edge, never by the detector; tests inject a [`ManualClock`].

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A monotonic clock (time since an arbitrary origin).
pub trait Clock: Send + Sync + fmt::Debug {
    fn now(&self) -> Duration;
}

/// The real monotonic clock.
#[derive(Debug)]
pub struct MonotonicClock {
    origin: Instant,
}

impl Default for MonotonicClock {
    fn default() -> Self {
        MonotonicClock {
            origin: Instant::now(),
        }
    }
}

impl Clock for MonotonicClock {
    fn now(&self) -> Duration {
        self.origin.elapsed()
    }
}

/// A clock that moves only when told to (tests, benches).
#[derive(Debug, Default)]
pub struct ManualClock {
    nanos: AtomicU64,
}

impl ManualClock {
    /// Moves the clock forward by `d`.
    pub fn advance(&self, d: Duration) {
        let n = u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
        self.nanos.fetch_add(n, Ordering::AcqRel);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Duration {
        Duration::from_nanos(self.nanos.load(Ordering::Acquire))
    }
}

/// Default of [`StreamBudgetSettings::period`].
pub const DEFAULT_STREAM_BUDGET_PERIOD: Duration = Duration::from_secs(60);

/// How much of a long-lived stream is scanned: up to `bytes` per `period`,
/// with bursts up to `bytes`.
#[derive(Clone)]
pub struct StreamBudgetSettings {
    /// Bytes per period and the bucket's capacity; 0 = the detector's `max_scan_bytes`.
    pub bytes: u64,
    /// Time in which an empty bucket refills completely.
    pub period: Duration,
    /// Where time comes from.
    pub clock: Arc<dyn Clock>,
}

impl fmt::Debug for StreamBudgetSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StreamBudgetSettings")
            .field("bytes", &self.bytes)
            .field("period", &self.period)
            .finish()
    }
}

impl Default for StreamBudgetSettings {
    fn default() -> Self {
        StreamBudgetSettings {
            bytes: 0,
            period: DEFAULT_STREAM_BUDGET_PERIOD,
            clock: Arc::new(MonotonicClock::default()),
        }
    }
}

/// The token bucket of one stream (one direction). Starts full.
#[derive(Debug)]
pub struct TokenBucket {
    capacity: u64,
    period: Duration,
    tokens: u64,
    /// When tokens were last added.
    refilled: Duration,
    clock: Arc<dyn Clock>,
}

impl TokenBucket {
    /// A full bucket of `capacity` bytes refilling in `period`.
    pub fn new(capacity: u64, period: Duration, clock: Arc<dyn Clock>) -> Self {
        let refilled = clock.now();
        TokenBucket {
            capacity: capacity.max(1),
            period: period.max(Duration::from_millis(1)),
            tokens: capacity.max(1),
            refilled,
            clock,
        }
    }

    fn refill(&mut self) {
        let now = self.clock.now();
        let elapsed = now.saturating_sub(self.refilled);
        let add = u128::from(self.capacity) * elapsed.as_nanos() / self.period.as_nanos().max(1);
        if add == 0 {
            return;
        }
        let room = u128::from(self.capacity - self.tokens);
        if add >= room {
            self.tokens = self.capacity;
            self.refilled = now;
        } else {
            // Only the time the added bytes stand for is used up: the
            // fraction of a byte left over counts towards the next refill.
            self.tokens += u64::try_from(add).unwrap_or(u64::MAX);
            let used = add * self.period.as_nanos() / u128::from(self.capacity);
            self.refilled += Duration::from_nanos(u64::try_from(used).unwrap_or(u64::MAX));
        }
    }

    /// Takes up to `want` bytes of budget; returns how many were granted.
    pub fn take(&mut self, want: u64) -> u64 {
        self.refill();
        let n = want.min(self.tokens);
        self.tokens -= n;
        n
    }

    /// Budget available now.
    pub fn available(&mut self) -> u64 {
        self.refill();
        self.tokens
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bucket_grants_its_capacity_then_refills_with_the_clock() {
        let clock = Arc::new(ManualClock::default());
        let mut b = TokenBucket::new(1000, Duration::from_secs(60), clock.clone());
        assert_eq!(b.take(600), 600);
        assert_eq!(b.take(600), 400);
        assert_eq!(b.take(1), 0);
        clock.advance(Duration::from_secs(6));
        assert_eq!(b.available(), 100);
        clock.advance(Duration::from_secs(600));
        assert_eq!(b.take(5000), 1000, "never more than the capacity");
        // Many tiny steps add up (no fraction lost per step beyond one byte-time).
        for _ in 0..60 {
            clock.advance(Duration::from_millis(100));
            b.refill();
        }
        assert!((95..=100).contains(&b.available()), "{}", b.available());
    }
}
