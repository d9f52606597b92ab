//! Every text field of a finding, where a secret must never appear: what
//! the eval's leak checks search (`detection_eval.rs`, `case_file.rs`).

use traffic_guardian::core::finding::Finding;

pub fn fields(f: &Finding) -> String {
    format!(
        "{}\n{}\n{}\n{}\n{}\n{}",
        f.snippet,
        f.dest,
        f.location,
        f.source,
        f.fingerprint,
        f.decoded.as_deref().unwrap_or("")
    )
}
