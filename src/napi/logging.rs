//! Diagnostics for operators: tracing events go to stderr when `RUST_LOG`
//! (or `NANOCLAW_TRAFFIC_GUARDIAN_LOG`) asks for them, and nowhere otherwise.
//!
//! Only this crate's own events are ever enabled, whatever the filter says:
//! third-party crates (hudsucker's `proxy` span, hyper) record full request
//! URIs, which can carry secrets in query strings. Our own events carry only
//! lifecycle facts, destinations and counters — never header values, bodies,
//! paths or queries (the hardening tests run with `RUST_LOG=trace` to prove it).

use crate::core::finding::Direction;
use crate::core::redact::mask_labels;
use crate::core::rules::registry::builtin_for;
use crate::core::rules::RuleSet;
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
        let masked = mask_labels(&String::from_utf8_lossy(buf), |label| {
            credential_rules().is_some_and(|rules| rules.has_credential(label))
        });
        self.0.write_all(masked.as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}

/// The built-in credential rules, for masking log labels the shape
/// heuristic lets through (a lower-cased key without digits).
fn credential_rules() -> Option<&'static RuleSet> {
    static RULES: std::sync::OnceLock<Option<RuleSet>> = std::sync::OnceLock::new();
    RULES
        .get_or_init(|| RuleSet::compile(builtin_for(Direction::Outbound)).ok())
        .as_ref()
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

    /// Hosts arrive lower-cased: an AWS key id of letters only has no digit
    /// and no upper case for the shape heuristic, so the rules catch it.
    #[test]
    fn log_lines_mask_keys_in_host_labels_whatever_their_shape() {
        use std::io::Write as _;
        let alphabet = b"abcdefghijklmnopqrstuvwxyz";
        for round in 0..50usize {
            let mut bytes = [0u8; 16];
            let _ = getrandom::fill(&mut bytes);
            let random: String = bytes
                .iter()
                .map(|b| char::from(alphabet[usize::from(*b) % alphabet.len()]))
                .collect();
            let key = format!("akia{random}");
            let mut out = super::MaskingWriter(Vec::new());
            let line =
                format!("DEBUG CONNECT: blind tunnel dest={key}.exfil.invalid:443 round={round}\n");
            out.write_all(line.as_bytes()).expect("write");
            let text = String::from_utf8(out.0).expect("utf-8");
            assert!(!text.contains(&key[4..]), "{text}");
            assert!(text.contains("[MASKED].exfil.invalid:443"), "{text}");
        }
        let mut out = super::MaskingWriter(Vec::new());
        out.write_all(b"dest=objects.githubusercontent.com:443 path=/usr/share/doc\n")
            .expect("write");
        assert_eq!(
            out.0,
            b"dest=objects.githubusercontent.com:443 path=/usr/share/doc\n".to_vec()
        );
    }

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
