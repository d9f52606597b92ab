//! Time bounds of a findings query (`since`, `until`), in one grammar: an
//! age before now — digits, then `ms`, `s`, `m`, `h`, `d` or `w` (`90s`,
//! `15m`, `1h`, `7d`, `2w`) — or an RFC 3339 time with an offset. The store
//! reads query bounds with it, the CLI's `--since`/`--until` go through it
//! (`normalizeTimeBound`), and the MCP contract, which has no addon in the
//! container, accepts a subset of it (its test checks that).
//!
//! Parsing is pure: the clock comes in as `now_ms` where an age is resolved.

use crate::core::finding::{format_timestamp, parse_timestamp_ms};

/// Why a value is not a time bound. Messages name no input beyond the kind.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TimeBoundError {
    #[error("expected an RFC 3339 time (2026-04-26T00:00:00Z) or an age like 15m, 1h, 7d")]
    Invalid,
    #[error("relative time is too large")]
    TooLarge,
    #[error("time out of range")]
    OutOfRange,
}

/// A parsed bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeBound {
    /// So long before now, in milliseconds.
    Age { ms: u64, count: u64, unit: AgeUnit },
    /// A point in time, unix milliseconds.
    At(i64),
}

/// The unit an age was written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AgeUnit {
    Millis,
    Seconds,
    Minutes,
    Hours,
    Days,
    Weeks,
}

impl AgeUnit {
    /// Suffixes, longest first so `ms` is not read as `m` + `s`.
    const ALL: [(&'static str, AgeUnit); 6] = [
        ("ms", AgeUnit::Millis),
        ("s", AgeUnit::Seconds),
        ("m", AgeUnit::Minutes),
        ("h", AgeUnit::Hours),
        ("d", AgeUnit::Days),
        ("w", AgeUnit::Weeks),
    ];

    const fn millis(self) -> u64 {
        match self {
            AgeUnit::Millis => 1,
            AgeUnit::Seconds => 1_000,
            AgeUnit::Minutes => 60_000,
            AgeUnit::Hours => 3_600_000,
            AgeUnit::Days => 86_400_000,
            AgeUnit::Weeks => 7 * 86_400_000,
        }
    }
}

/// Parses a bound; surrounding whitespace is ignored.
pub fn parse(value: &str) -> Result<TimeBound, TimeBoundError> {
    let v = value.trim();
    let age = AgeUnit::ALL.iter().find_map(|&(suffix, unit)| {
        v.strip_suffix(suffix)
            .filter(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
            .map(|n| (n, unit))
    });
    match age {
        Some((digits, unit)) => {
            let count: u64 = digits.parse().map_err(|_| TimeBoundError::TooLarge)?;
            // A huge age reaches back to the epoch rather than failing.
            let ms = count.saturating_mul(unit.millis());
            Ok(TimeBound::Age { ms, count, unit })
        }
        None => parse_timestamp_ms(v)
            .map(TimeBound::At)
            .ok_or(TimeBoundError::Invalid),
    }
}

impl TimeBound {
    /// Unix milliseconds of the bound, ages counted back from `now_ms`.
    pub fn resolve(self, now_ms: u64) -> i64 {
        match self {
            TimeBound::Age { ms, .. } => {
                i64::try_from(now_ms.saturating_sub(ms)).unwrap_or(i64::MAX)
            }
            TimeBound::At(ms) => ms,
        }
    }

    /// The bound as an RFC 3339 UTC time with milliseconds.
    pub fn to_timestamp(self, now_ms: u64) -> Result<String, TimeBoundError> {
        let ms = self.resolve(now_ms);
        let t = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
            .map_err(|_| TimeBoundError::OutOfRange)?;
        Ok(format_timestamp(t))
    }

    /// A stable spelling that means the same at any later time: an age stays
    /// an age (weeks written as days, the unit the store always took), a time
    /// becomes RFC 3339 UTC with milliseconds.
    pub fn canonical(self) -> Result<String, TimeBoundError> {
        match self {
            TimeBound::Age {
                count,
                unit: AgeUnit::Weeks,
                ..
            } => Ok(format!("{}d", count.saturating_mul(7))),
            TimeBound::Age { count, unit, .. } => {
                let suffix = AgeUnit::ALL
                    .iter()
                    .find(|(_, u)| *u == unit)
                    .map_or("ms", |(s, _)| *s);
                Ok(format!("{count}{suffix}"))
            }
            TimeBound::At(_) => self.to_timestamp(0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u64 = 1_777_161_600_000; // 2026-04-26T00:00:00Z

    #[test]
    fn ages_in_every_unit() {
        for (text, ms) in [
            ("250ms", 250),
            ("90s", 90_000),
            ("15m", 900_000),
            ("1h", 3_600_000),
            ("24h", 86_400_000),
            ("7d", 7 * 86_400_000),
            ("2w", 14 * 86_400_000),
            (" 1h ", 3_600_000),
        ] {
            match parse(text) {
                Ok(TimeBound::Age { ms: got, .. }) => assert_eq!(got, ms, "{text}"),
                other => panic!("{text}: {other:?}"),
            }
        }
        assert_eq!(
            parse("1h").map(|b| b.resolve(NOW)),
            Ok(NOW as i64 - 3_600_000)
        );
        assert_eq!(
            parse("1h").and_then(|b| b.to_timestamp(NOW)),
            Ok("2026-04-25T23:00:00.000Z".to_owned())
        );
    }

    #[test]
    fn times_with_an_offset_are_normalised_to_utc() {
        assert_eq!(
            parse("2026-01-31T12:00:00+01:00").and_then(TimeBound::canonical),
            Ok("2026-01-31T11:00:00.000Z".to_owned())
        );
        assert_eq!(parse("2026-04-26T00:00:00Z"), Ok(TimeBound::At(NOW as i64)));
    }

    #[test]
    fn canonical_ages_keep_their_unit_and_write_weeks_as_days() {
        for (text, want) in [
            ("15m", "15m"),
            ("2w", "14d"),
            ("250ms", "250ms"),
            ("7d", "7d"),
        ] {
            assert_eq!(
                parse(text).and_then(TimeBound::canonical),
                Ok(want.to_owned())
            );
        }
    }

    #[test]
    fn everything_else_is_refused() {
        for bad in [
            "",
            "h",
            "1y",
            "-1h",
            "1.5h",
            "1 h",
            "yesterday",
            "1H",
            "2026-01-31",
            "2026-01-31T12:00:00",
            "ms",
        ] {
            assert_eq!(parse(bad), Err(TimeBoundError::Invalid), "{bad:?}");
        }
        assert_eq!(
            parse("99999999999999999999d"),
            Err(TimeBoundError::TooLarge)
        );
        assert_eq!(parse("9999999999999999w").map(|b| b.resolve(NOW)), Ok(0));
    }
}
