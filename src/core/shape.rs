//! Exfiltration by volume and shape: what no single message shows, over a
//! sliding window per destination and per group (source): bytes sent, the
//! count of high-entropy fragments (URL path segments and query values that
//! look like pieces of an encoded secret), and many unique high-entropy
//! subdomains of one registrable domain (DNS-label exfiltration).
//!
//! Pure: the caller passes the time (`now_ms`, from the proxy's clock) with
//! every observation. Evidence is summarised (counts, sizes, the domain with
//! its labels masked), never raw.

use crate::core::rules::entropy::shannon_entropy;
use std::collections::{HashMap, VecDeque};

/// Thresholds of the shape detectors. Defaults stay silent on normal agent
/// traffic (model API calls with large contexts, package installs, git
/// clones, container pulls): see the tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct ShapeThresholds {
    /// Length of the sliding window, seconds.
    pub window_secs: u64,
    /// Request bytes to one destination host within the window.
    pub dest_bytes: u64,
    /// Request bytes from one group (source) within the window.
    pub group_bytes: u64,
    /// High-entropy URL fragments to one destination within the window.
    pub dest_fragments: u32,
    /// Unique high-entropy subdomain labels of one registrable domain.
    pub dns_unique_labels: u32,
}

impl Default for ShapeThresholds {
    fn default() -> Self {
        ShapeThresholds {
            window_secs: 300,
            dest_bytes: 256 << 20,
            group_bytes: 1 << 30,
            dest_fragments: 150,
            dns_unique_labels: 25,
        }
    }
}

/// One anomaly, already summarised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShapeAlert {
    /// `volume_anomaly`, `dns_label_exfil` or `fragmented_exfil`.
    pub pattern: &'static str,
    /// What the evidence is about: a host, `group:<name>`, or a masked domain.
    pub subject: String,
    pub summary: String,
}

pub const VOLUME_PATTERN: &str = "volume_anomaly";
pub const DNS_LABEL_PATTERN: &str = "dns_label_exfil";
pub const FRAGMENTED_PATTERN: &str = "fragmented_exfil";

#[derive(Default)]
struct Series {
    /// (time, amount), oldest first.
    events: VecDeque<(u64, u64)>,
    total: u64,
    /// When this series last raised an alert.
    alerted_at: Option<u64>,
}

impl Series {
    fn add(&mut self, now: u64, amount: u64, window_ms: u64) -> u64 {
        self.events.push_back((now, amount));
        self.total = self.total.saturating_add(amount);
        while let Some(&(t, a)) = self.events.front() {
            if now.saturating_sub(t) <= window_ms {
                break;
            }
            self.total = self.total.saturating_sub(a);
            self.events.pop_front();
        }
        self.total
    }

    /// Whether to alert now: over the threshold, and not alerted within the window.
    fn should_alert(&mut self, now: u64, over: bool, window_ms: u64) -> bool {
        if !over
            || self
                .alerted_at
                .is_some_and(|t| now.saturating_sub(t) <= window_ms)
        {
            return false;
        }
        self.alerted_at = Some(now);
        true
    }
}

#[derive(Default)]
struct Labels {
    /// label hash → last seen.
    seen: HashMap<u64, u64>,
    alerted_at: Option<u64>,
}

/// Most keys tracked per kind; the least recently used are forgotten.
const MAX_KEYS: usize = 4096;

/// The sliding-window state of every destination, group and domain.
pub struct ShapeTracker {
    t: ShapeThresholds,
    dest_bytes: HashMap<String, Series>,
    group_bytes: HashMap<String, Series>,
    dest_fragments: HashMap<String, Series>,
    domains: HashMap<String, Labels>,
}

impl ShapeTracker {
    pub fn new(t: ShapeThresholds) -> Self {
        ShapeTracker {
            t,
            dest_bytes: HashMap::new(),
            group_bytes: HashMap::new(),
            dest_fragments: HashMap::new(),
            domains: HashMap::new(),
        }
    }

    fn window_ms(&self) -> u64 {
        self.t.window_secs.saturating_mul(1000)
    }

    /// One outbound request head: its destination host (lowercase, no port)
    /// and URL. Counts high-entropy URL fragments and subdomain labels.
    pub fn observe_request(&mut self, now_ms: u64, host: &str, url: &str) -> Vec<ShapeAlert> {
        let w = self.window_ms();
        let mut out = Vec::new();
        let frags = count_fragments(url);
        if frags > 0 {
            let s = entry(&mut self.dest_fragments, host);
            let total = s.add(now_ms, frags as u64, w);
            if s.should_alert(now_ms, total >= u64::from(self.t.dest_fragments), w) {
                out.push(ShapeAlert {
                    pattern: FRAGMENTED_PATTERN,
                    subject: host.to_owned(),
                    summary: format!(
                        "{total} high-entropy URL fragments sent to {host} within {}s (threshold {})",
                        self.t.window_secs, self.t.dest_fragments
                    ),
                });
            }
        }
        if let Some((labels, domain)) = split_domain(host) {
            let fresh: Vec<&str> = labels
                .iter()
                .copied()
                .filter(|l| label_is_random(l))
                .collect();
            if !fresh.is_empty() {
                let d = self.domains.entry(domain.to_owned()).or_default();
                for l in &fresh {
                    d.seen.insert(hash_label(l), now_ms);
                }
                d.seen.retain(|_, t| now_ms.saturating_sub(*t) <= w);
                let unique = d.seen.len();
                let over = unique >= self.t.dns_unique_labels as usize;
                if over && d.alerted_at.is_none_or(|t| now_ms.saturating_sub(t) > w) {
                    d.alerted_at = Some(now_ms);
                    out.push(ShapeAlert {
                        pattern: DNS_LABEL_PATTERN,
                        subject: format!("[MASKED].{domain}"),
                        summary: format!(
                            "{unique} unique high-entropy subdomain labels of {domain} within {}s (threshold {}), e.g. [MASKED].{domain}",
                            self.t.window_secs, self.t.dns_unique_labels
                        ),
                    });
                }
            }
            trim(&mut self.domains);
        }
        trim(&mut self.dest_fragments);
        out
    }

    /// Bytes of one outbound request body, from `group` to `host`.
    pub fn observe_bytes(
        &mut self,
        now_ms: u64,
        group: &str,
        host: &str,
        bytes: u64,
    ) -> Vec<ShapeAlert> {
        let w = self.window_ms();
        let mut out = Vec::new();
        if bytes == 0 {
            return out;
        }
        let s = entry(&mut self.dest_bytes, host);
        let total = s.add(now_ms, bytes, w);
        if s.should_alert(now_ms, total >= self.t.dest_bytes, w) {
            out.push(ShapeAlert {
                pattern: VOLUME_PATTERN,
                subject: host.to_owned(),
                summary: format!(
                    "{} sent to {host} within {}s (threshold {})",
                    size(total),
                    self.t.window_secs,
                    size(self.t.dest_bytes)
                ),
            });
        }
        let g = entry(&mut self.group_bytes, group);
        let total = g.add(now_ms, bytes, w);
        if g.should_alert(now_ms, total >= self.t.group_bytes, w) {
            out.push(ShapeAlert {
                pattern: VOLUME_PATTERN,
                subject: format!("group:{group}"),
                summary: format!(
                    "{} sent by {group} within {}s (threshold {})",
                    size(total),
                    self.t.window_secs,
                    size(self.t.group_bytes)
                ),
            });
        }
        trim(&mut self.dest_bytes);
        trim(&mut self.group_bytes);
        out
    }
}

fn entry<'a>(m: &'a mut HashMap<String, Series>, key: &str) -> &'a mut Series {
    m.entry(key.to_owned()).or_default()
}

/// Bounds memory: past [`MAX_KEYS`], forgets the keys idle the longest.
fn trim<V: LastSeen>(m: &mut HashMap<String, V>) {
    if m.len() <= MAX_KEYS {
        return;
    }
    let mut ages: Vec<(u64, String)> = m.iter().map(|(k, v)| (v.last_seen(), k.clone())).collect();
    ages.sort_unstable();
    for (_, k) in ages.into_iter().take(m.len() - MAX_KEYS / 2) {
        m.remove(&k);
    }
}

trait LastSeen {
    fn last_seen(&self) -> u64;
}

impl LastSeen for Series {
    fn last_seen(&self) -> u64 {
        self.events.back().map_or(0, |e| e.0)
    }
}

impl LastSeen for Labels {
    fn last_seen(&self) -> u64 {
        self.seen.values().copied().max().unwrap_or(0)
    }
}

fn size(n: u64) -> String {
    if n >= 1 << 20 {
        format!("{:.1} MiB", n as f64 / f64::from(1u32 << 20))
    } else if n >= 1 << 10 {
        format!("{:.1} KiB", n as f64 / 1024.0)
    } else {
        format!("{n} B")
    }
}

fn hash_label(l: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    l.hash(&mut h);
    h.finish()
}

/// A token that looks like a piece of an encoded secret: 16 to 128 bytes of
/// the base64/base32 alphabets, mixing letters and digits, random-looking,
/// and not a plain hex digest or UUID (content addresses, commit ids).
pub fn fragment_is_random(t: &str) -> bool {
    let b = t.as_bytes();
    if b.len() < 16 || b.len() > 128 {
        return false;
    }
    if !b
        .iter()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'/' | b'=' | b'_' | b'-'))
    {
        return false;
    }
    if b.iter().all(|c| c.is_ascii_hexdigit() || *c == b'-') {
        return false;
    }
    let digits = b.iter().filter(|c| c.is_ascii_digit()).count();
    let upper = b.iter().filter(|c| c.is_ascii_uppercase()).count();
    let lower = b.iter().filter(|c| c.is_ascii_lowercase()).count();
    if digits == 0 || (upper == 0 && lower == 0) {
        return false;
    }
    // Near the most a string of this length can hold.
    let max = (b.len().min(64) as f32).log2();
    shannon_entropy(b) >= 0.8 * max
}

/// High-entropy fragments in a URL's path segments and query values.
pub fn count_fragments(url: &str) -> usize {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let path = rest.find('/').map_or("", |i| &rest[i..]);
    let path = path.split('#').next().unwrap_or("");
    let (p, q) = path.split_once('?').unwrap_or((path, ""));
    let segs = p.split('/');
    let vals = q
        .split('&')
        .filter_map(|kv| kv.split_once('=').map(|(_, v)| v));
    segs.chain(vals).filter(|t| fragment_is_random(t)).count()
}

/// A subdomain label that looks random: 12 or more bytes, with digits, and
/// random-looking. Ordinary labels (`api`, `us-east-1`, `cdn-4f2a`) are not.
pub fn label_is_random(l: &str) -> bool {
    let b = l.as_bytes();
    if b.len() < 12 || !b.iter().any(u8::is_ascii_digit) || !b.iter().any(u8::is_ascii_alphabetic) {
        return false;
    }
    let max = (b.len().min(63) as f32).log2();
    shannon_entropy(b) >= 0.75 * max
}

/// `(subdomain labels, registrable domain)`: the last two labels, or three
/// under a two-letter country code with a short second level (`co.uk`).
/// `None` for IP addresses and hosts without subdomains.
pub fn split_domain(host: &str) -> Option<(Vec<&str>, &str)> {
    if host.parse::<std::net::IpAddr>().is_ok() || host.starts_with('[') {
        return None;
    }
    let labels: Vec<&str> = host.trim_end_matches('.').split('.').collect();
    let n = labels.len();
    if n < 3 {
        return None;
    }
    let keep = if labels[n - 1].len() == 2 && labels[n - 2].len() <= 3 {
        3
    } else {
        2
    };
    if n <= keep {
        return None;
    }
    let cut: usize = labels[..n - keep].iter().map(|l| l.len() + 1).sum();
    Some((labels[..n - keep].to_vec(), &host[cut..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Fake random runs from the rule catalogue's template expander.
    fn rand_token(len: usize) -> String {
        crate::system::expand_template(&format!("«alnum:{len}»")).text
    }

    fn rand_label(len: usize) -> String {
        crate::system::expand_template(&format!("«loalnum:{len}»")).text
    }

    #[test]
    fn dns_label_exfil_is_found_and_summarised_masked() {
        let mut t = ShapeTracker::new(ShapeThresholds::default());
        let mut alerts = Vec::new();
        for i in 0..40u64 {
            let label = rand_label(30);
            alerts.extend(t.observe_request(i * 1000, &format!("{label}.exfil.example"), "/"));
        }
        assert_eq!(alerts.len(), 1, "{alerts:?}");
        let a = &alerts[0];
        assert_eq!(a.pattern, DNS_LABEL_PATTERN);
        assert_eq!(a.subject, "[MASKED].exfil.example");
        assert!(a.summary.contains("25 unique"), "{}", a.summary);
    }

    #[test]
    fn fragmented_exfil_is_found() {
        let mut t = ShapeTracker::new(ShapeThresholds::default());
        let mut alerts = Vec::new();
        for i in 0..200u64 {
            let url = format!("http://collect.example/p?d={}&i={i}", rand_token(24));
            alerts.extend(t.observe_request(i * 500, "collect.example", &url));
        }
        assert_eq!(alerts.len(), 1, "{alerts:?}");
        assert_eq!(alerts[0].pattern, FRAGMENTED_PATTERN);
    }

    #[test]
    fn volume_is_found_per_destination_and_per_group_and_the_window_slides() {
        let t0 = ShapeThresholds {
            dest_bytes: 10 << 20,
            group_bytes: 15 << 20,
            ..ShapeThresholds::default()
        };
        let mut t = ShapeTracker::new(t0);
        // 1 MiB every 60 s never fills a 5-minute window to 10 MiB.
        for i in 0..100u64 {
            assert!(t
                .observe_bytes(i * 60_000, "main", "upload.example", 1 << 20)
                .is_empty());
        }
        let mut t = ShapeTracker::new(t0);
        let mut alerts = Vec::new();
        for i in 0..12u64 {
            alerts.extend(t.observe_bytes(200_000_000 + i * 1000, "main", "a.example", 1 << 20));
            alerts.extend(t.observe_bytes(200_000_000 + i * 1000, "main", "b.example", 1 << 20));
        }
        let subjects: Vec<&str> = alerts.iter().map(|a| a.subject.as_str()).collect();
        assert_eq!(
            subjects,
            ["group:main", "a.example", "b.example"],
            "{alerts:?}"
        );
        assert!(alerts.iter().all(|a| a.pattern == VOLUME_PATTERN));
    }

    /// Normal shapes over a long session: model API calls with large
    /// contexts, package installs, git clones, container pulls, CDN hosts.
    #[test]
    fn normal_traffic_shapes_stay_silent() {
        let mut t = ShapeTracker::new(ShapeThresholds::default());
        let mut alerts = Vec::new();
        let mut now = 0u64;
        for i in 0..2000u64 {
            now += 1500;
            // A model API call every 1.5 s with a 400 KB context.
            alerts.extend(t.observe_request(
                now,
                "api.anthropic.com",
                "https://api.anthropic.com/v1/messages",
            ));
            alerts.extend(t.observe_bytes(now, "main", "api.anthropic.com", 400_000));
            // npm install: tarballs and packuments.
            let pkg = format!("pkg{}", i % 300);
            alerts.extend(t.observe_request(
                now,
                "registry.npmjs.org",
                &format!(
                    "https://registry.npmjs.org/{pkg}/-/{pkg}-1.{}.0.tgz",
                    i % 17
                ),
            ));
            // git clone over smart HTTP, with commit ids.
            alerts.extend(t.observe_request(
                now,
                "github.com",
                &format!(
                    "https://github.com/org/repo{}.git/info/refs?service=git-upload-pack",
                    i % 5
                ),
            ));
            alerts.extend(t.observe_bytes(now, "main", "github.com", 2_000));
            // Container layers by digest; CDN edges with a few fixed hashed names.
            let digest = hex::encode(i.to_le_bytes()).repeat(4);
            alerts.extend(t.observe_request(
                now,
                "production.cloudfront.docker.com",
                &format!("https://registry-1.docker.io/v2/library/node/blobs/sha256:{digest}"),
            ));
            let edge = ["d1a2b3c4d5e6f7", "d9z8y7x6w5v4u3", "dk3j5h6g7f8d9s"][(i % 3) as usize];
            alerts.extend(t.observe_request(now, &format!("{edge}.cloudfront.net"), "/asset.js"));
            // pip: files.pythonhosted.org paths carry blake2 hex digests.
            alerts.extend(t.observe_request(
                now,
                "files.pythonhosted.org",
                &format!(
                    "https://files.pythonhosted.org/packages/ab/cd/{}/pkg-1.0.tar.gz",
                    hex::encode((i * 7919).to_le_bytes()).repeat(3)
                ),
            ));
        }
        assert!(alerts.is_empty(), "{alerts:?}");
    }

    #[test]
    fn domains_split_and_labels_classify() {
        assert_eq!(
            split_domain("a.b.example.com"),
            Some((vec!["a", "b"], "example.com"))
        );
        assert_eq!(split_domain("x.bbc.co.uk"), Some((vec!["x"], "bbc.co.uk")));
        assert_eq!(split_domain("example.com"), None);
        assert_eq!(split_domain("10.0.0.1"), None);
        assert!(!label_is_random("us-east-1"));
        assert!(!label_is_random("api"));
        assert!(label_is_random("q8x2m4k9z1w7p3"));
        assert!(!fragment_is_random("0123456789abcdef0123456789abcdef"));
        assert!(!fragment_is_random("550e8400-e29b-41d4-a716-446655440000"));
        assert!(fragment_is_random("aZ3k9QmX2pL7vB4nR8tY"));
    }
}
