//! Diagnostics for operators: tracing events go to stderr when `RUST_LOG`
//! (or `NANOCLAW_TRAFFIC_GUARDIAN_LOG`) asks for them, and nowhere otherwise.
//!
//! Only this crate's own events are ever enabled, whatever the filter says:
//! third-party crates (hudsucker's `proxy` span, hyper) record full request
//! URIs, which can carry secrets in query strings. Our own events carry only
//! lifecycle facts, destinations and counters — never header values, bodies,
//! paths or queries (the hardening tests run with `RUST_LOG=trace` to prove it).

use crate::core::redact::mask_labels;
use std::sync::Once;

static INIT: Once = Once::new();
const LEVELS: [&str; 5] = ["trace", "debug", "info", "warn", "error"];

/// The level asked for `traffic_guardian` in an env-filter string: a bare
/// level, or a `traffic_guardian=<level>` directive; `info` otherwise.
fn requested_level(filter: &str) -> &'static str {
    let mut level = None;
    for directive in filter.split(',').map(str::trim) {
        let (target, lvl) = match directive.split_once('=') {
            Some((t, l)) => (Some(t.trim()), l.trim()),
            None => (None, directive),
        };
        let lvl = lvl.to_ascii_lowercase();
        let Some(known) = LEVELS.iter().find(|l| **l == lvl) else {
            continue;
        };
        match target {
            Some(t) if t.starts_with("traffic_guardian") => return known,
            None => level = Some(*known),
            Some(_) => {}
        }
    }
    level.unwrap_or("info")
}

/// Writes each formatted event with every credential-like label masked
/// (see [`mask_labels`]): hosts and targets in our events come from clients,
/// and a client can put a key in a host name. The formatter hands over one
/// whole event per write.
struct MaskingWriter<W>(W);

impl<W: std::io::Write> std::io::Write for MaskingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let masked = mask_labels(&String::from_utf8_lossy(buf), |_| false);
        self.0.write_all(masked.as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}

/// Installs the stderr subscriber once per process, if a filter is set.
pub fn init() {
    INIT.call_once(|| {
        let filter = std::env::var(crate::core::config::ENV_LOG)
            .or_else(|_| std::env::var("RUST_LOG"))
            .ok()
            .filter(|f| !f.trim().is_empty());
        if let Some(filter) = filter {
            let directives = format!("off,traffic_guardian={}", requested_level(&filter));
            let subscriber = tracing_subscriber::fmt()
                .with_env_filter(tracing_subscriber::EnvFilter::new(directives))
                .with_writer(|| MaskingWriter(std::io::stderr()))
                .with_ansi(false)
                .finish();
            // Another subscriber (an embedding host's) wins; that is fine.
            let _ = tracing::subscriber::set_global_default(subscriber);
        }
    });
}

#[cfg(test)]
mod tests {
    use super::requested_level;

    #[test]
    fn only_our_level_is_taken_from_the_filter() {
        assert_eq!(requested_level("trace"), "trace");
        assert_eq!(
            requested_level("hyper=trace,traffic_guardian=debug"),
            "debug"
        );
        assert_eq!(requested_level("hudsucker=trace"), "info");
        assert_eq!(requested_level("bogus"), "info");
    }
}
