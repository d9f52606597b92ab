//! The scanner: one pure entry point from bytes and context to redacted
//! findings. The proxy, the offline `scan` command, the addon's
//! `scanText`/`scanMessage`, the benches and the fuzzers all come here.
//!
//! A text is scanned as several *views*: the raw bytes, then (bounded, at
//! most [`MAX_VIEW_DEPTH`] levels deep) its percent- (and form-), JSON-,
//! HTML-, hex-, base64- and base64-gzip-decoded forms, and its shell- and
//! Unicode-normalised forms (see [`normalize`]). In each view the keyword prefilter picks the
//! rules whose keywords occur and only those regexes run. Matches become
//! findings already redacted; one secret seen through several views is one
//! finding, tagged with the decoding chain that revealed it first.

use crate::core::decode::{self, DecodeStop, StreamDecoder};
use crate::core::finding::{Direction, Finding, FindingStamp, PLATFORM, SCHEMA_VERSION};
use crate::core::json_location::JsonLocator;
use crate::core::known_secrets::{KnownHit, KnownSecrets};
use crate::core::normalize;
use crate::core::redact::{self, Redaction, SnippetMode};
use crate::core::rules::registry::builtin_for;
use crate::core::rules::{Rule, RuleError, RuleKind, RuleSet, RuleSpec};
use crate::core::triggers;
use regex_automata::{Anchored, Input};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::ops::Range;
use std::sync::Arc;

use crate::core::config::{DEFAULT_MAX_SCAN_BYTES, MAX_MAX_SCAN_BYTES, MIN_MAX_SCAN_BYTES};

pub mod event_stream;
pub use crate::core::rules::derived::MODEL_TOOL_CALL;
use event_stream::{EventParser, Piece, StreamFormat};
pub use event_stream::{ModelText, MODEL_PROVIDER_HOSTS};
/// Decoded views nest at most this deep (e.g. `base64>percent`).
pub const MAX_VIEW_DEPTH: usize = 2;
/// Bytes kept from one frame to the next so a match split across frames is
/// still seen whole.
pub const CARRY_BYTES: usize = 1024;
/// In a frame that is not the last, matches ending in its final
/// `HOLDBACK_BYTES` are judged in the next scan, when they can be seen whole:
/// a regex may stop early on a value the next frame continues.
pub const HOLDBACK_BYTES: usize = 256;
/// An encoded region (percent, JSON or HTML escapes) that reaches into the
/// carry-over is carried from its start, up to this many bytes back, so the
/// next scan decodes it whole: a percent-encoded match up to a third of
/// this is found wherever the body is split.
pub const ENCODED_CARRY_BYTES: usize = 8 * 1024;

/// Which matches one scan of a buffer reports: those ending in
/// `(judged, hold]`. Matches ending at or before `judged` were judged by the
/// previous scan of the same body; those ending after `hold` wait for the next.
#[derive(Debug, Clone, Copy)]
struct Window {
    judged: usize,
    hold: usize,
}

impl Window {
    /// Everything in a complete text.
    fn whole(len: usize) -> Window {
        Window {
            judged: 0,
            hold: len,
        }
    }
}

/// Where and between whom the scanned bytes travel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanContext {
    pub direction: Direction,
    /// `http`, `https`, `websocket`, or `text` for offline scans.
    pub protocol: String,
    /// Client address or runtime label.
    pub source: String,
    /// `host:port`.
    pub dest: String,
}

impl ScanContext {
    pub fn new(direction: Direction, protocol: &str, source: &str, dest: &str) -> Self {
        ScanContext {
            direction,
            protocol: protocol.to_owned(),
            source: source.to_owned(),
            dest: dest.to_owned(),
        }
    }

    /// The destination host, lowercased, without port or IPv6 brackets.
    pub fn dest_host(&self) -> String {
        host_of(&self.dest)
    }
}

fn host_of(dest: &str) -> String {
    let d = dest.trim();
    let host = if let Some(rest) = d.strip_prefix('[') {
        rest.split(']').next().unwrap_or(rest)
    } else if d.matches(':').count() > 1 {
        d // bare IPv6 without port
    } else {
        d.split(':').next().unwrap_or(d)
    };
    host.trim_end_matches('.').to_ascii_lowercase()
}

/// Whether `host` (lower-cased, no port) matches an entry: an exact host,
/// or `.suffix` for the domain and its subdomains.
pub fn host_in(host: &str, entries: &[impl AsRef<str>]) -> bool {
    entries.iter().any(|e| {
        let e = e.as_ref().trim();
        match e.strip_prefix('.') {
            Some(suffix) => crate::core::config::is_domain_or_subdomain(host, suffix),
            None => host.eq_ignore_ascii_case(e),
        }
    })
}

/// The request line or status line and headers of one HTTP message.
#[derive(Debug, Clone, Default)]
pub struct MessageHead<'a> {
    pub method: Option<&'a str>,
    pub url: Option<&'a str>,
    pub status: Option<u16>,
    pub headers: Vec<(&'a str, &'a [u8])>,
}

impl<'a> MessageHead<'a> {
    /// The head of an ordinary exchange going `direction`: a `POST` of
    /// `url` going out, a `200` response coming in (`url` unused), with
    /// `headers` either way. For offline scans, benchmarks and evaluations.
    pub fn exchange(direction: Direction, url: &'a str, headers: Vec<(&'a str, &'a [u8])>) -> Self {
        match direction {
            Direction::Outbound => MessageHead {
                method: Some("POST"),
                url: Some(url),
                status: None,
                headers,
            },
            Direction::Inbound => MessageHead {
                method: None,
                url: None,
                status: Some(200),
                headers,
            },
        }
    }
}

/// A decoder producing a derived view, or `None` when it changes nothing.
type ViewTransform = fn(&[u8]) -> Option<Vec<u8>>;

/// Headers never scanned: the guardian's own proxy credentials.
const SKIPPED_HEADERS: &[&str] = &["proxy-authorization"];

/// Options of a [`Detector`].
#[derive(Clone)]
pub struct DetectorOptions {
    /// Bytes inspected per message body; clamped to the config bounds.
    pub max_scan_bytes: usize,
    pub snippet_mode: SnippetMode,
    /// Key for finding fingerprints (see [`redact::fingerprint`]).
    pub fingerprint_key: [u8; 32],
    /// Extra expected destinations per rule id (exact host or `.suffix`).
    pub expected_destinations: BTreeMap<String, Vec<String>>,
    /// Findings in the text a model provider streams (not its tool calls).
    pub model_text: ModelText,
    /// Hosts treated as model providers besides [`MODEL_PROVIDER_HOSTS`]
    /// (exact host or `.suffix`), e.g. a local gateway.
    pub model_hosts: Vec<String>,
    /// Values the host knows and canaries, by keyed hash (see [`KnownSecrets`]).
    pub known_secrets: Option<Arc<KnownSecrets>>,
    /// Each finding's id and timestamp (the detector reads no clock and
    /// draws no randomness of its own).
    pub stamp: Arc<dyn FindingStamp>,
}

impl std::fmt::Debug for DetectorOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DetectorOptions")
            .field("max_scan_bytes", &self.max_scan_bytes)
            .field("snippet_mode", &self.snippet_mode)
            .field("fingerprint_key", &"****")
            .field("expected_destinations", &self.expected_destinations)
            .field("model_text", &self.model_text)
            .field("model_hosts", &self.model_hosts)
            .field("known_secrets", &self.known_secrets)
            .field("stamp", &"FindingStamp")
            .finish()
    }
}

impl DetectorOptions {
    /// The default options, with the caller's fingerprint key and stamp
    /// (the edge's are `crate::system::detector_options()`).
    pub fn new(fingerprint_key: [u8; 32], stamp: Arc<dyn FindingStamp>) -> Self {
        DetectorOptions {
            max_scan_bytes: DEFAULT_MAX_SCAN_BYTES as usize,
            snippet_mode: SnippetMode::Full,
            fingerprint_key,
            expected_destinations: BTreeMap::new(),
            model_text: ModelText::default(),
            model_hosts: Vec::new(),
            known_secrets: None,
            stamp,
        }
    }
}

/// Compiled rules for both directions plus scanning options. Cheap to share
/// (`Arc<Detector>`), `Send + Sync`, no interior mutability.
#[derive(Debug)]
pub struct Detector {
    outbound: RuleSet,
    inbound: RuleSet,
    opts: DetectorOptions,
    /// Fingerprints under `opts.fingerprint_key`, the key prepared once.
    fingerprints: redact::Fingerprinter,
}

/// Counters a scan reports besides its findings.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BodyStats {
    pub scanned_bytes: u64,
    /// Bytes beyond `max_scan_bytes` were forwarded uninspected.
    pub truncated: bool,
    /// The body's content-encoding could not be decoded.
    pub decode_failed: bool,
}

struct Hit {
    rule: usize,
    full: Range<usize>,
    secret: Range<usize>,
    /// Reported by this scan (inside its window). Hits outside it were or
    /// will be reported by another scan of the same bytes, but still take
    /// part in redaction and in which overlapping match wins, so the verdict
    /// does not depend on where the frame ended.
    judged_here: bool,
}

impl Detector {
    /// A detector over explicit rule lists (outbound EXFIL, inbound INJECTION).
    pub fn with_rules(
        outbound: impl IntoIterator<Item = &'static RuleSpec>,
        inbound: impl IntoIterator<Item = &'static RuleSpec>,
        mut opts: DetectorOptions,
    ) -> Result<Detector, RuleError> {
        opts.max_scan_bytes = opts
            .max_scan_bytes
            .clamp(MIN_MAX_SCAN_BYTES as usize, MAX_MAX_SCAN_BYTES as usize);
        for hosts in opts.expected_destinations.values_mut() {
            for h in hosts.iter_mut() {
                *h = h.trim().to_ascii_lowercase();
            }
        }
        Ok(Detector {
            outbound: RuleSet::compile(outbound)?,
            inbound: RuleSet::compile(inbound)?,
            fingerprints: redact::Fingerprinter::new(&opts.fingerprint_key),
            opts,
        })
    }

    /// A detector over the built-in rule registry.
    pub fn builtin(opts: DetectorOptions) -> Result<Detector, RuleError> {
        Detector::with_rules(
            builtin_for(Direction::Outbound),
            builtin_for(Direction::Inbound),
            opts,
        )
    }

    pub fn options(&self) -> &DetectorOptions {
        &self.opts
    }

    pub fn max_scan_bytes(&self) -> usize {
        self.opts.max_scan_bytes
    }

    /// The rules that run on traffic going `direction`.
    pub fn rules(&self, direction: Direction) -> &RuleSet {
        match direction {
            Direction::Outbound => &self.outbound,
            Direction::Inbound => &self.inbound,
        }
    }

    /// Scans one complete text (a WebSocket message, an offline body).
    /// At most `max_scan_bytes` are inspected.
    pub fn scan_text(&self, ctx: &ScanContext, location: &str, bytes: &[u8]) -> Vec<Finding> {
        let (text, out) = self.scan_whole(ctx, location, bytes, None);
        locate_in_json(text, location, out)
    }

    /// Scans at most `max_scan_bytes` of a complete text, reached through
    /// `chain` (`None` for the text itself): every match inside it is judged.
    /// Returns the part scanned with what was found in it.
    fn scan_whole<'t>(
        &self,
        ctx: &ScanContext,
        location: &str,
        bytes: &'t [u8],
        chain: Option<&str>,
    ) -> (&'t [u8], Vec<Located>) {
        let text = &bytes[..bytes.len().min(self.opts.max_scan_bytes)];
        let mut out = Vec::new();
        let mut seen = HashSet::new();
        self.scan_view(
            ctx,
            location,
            text,
            chain,
            0,
            Window::whole(text.len()),
            &mut seen,
            &mut out,
        );
        (text, out)
    }

    /// Scans the URL and headers of a message. The guardian's own
    /// `Proxy-Authorization` is skipped.
    pub fn scan_head(&self, ctx: &ScanContext, head: &MessageHead<'_>) -> Vec<Finding> {
        let mut out: Vec<Located> = Vec::new();
        let mut seen = HashSet::new();
        if let Some(url) = head.url {
            let limit = url.len().min(self.opts.max_scan_bytes);
            let url = &url.as_bytes()[..limit];
            self.scan_view(
                ctx,
                "url",
                url,
                None,
                0,
                Window::whole(url.len()),
                &mut seen,
                &mut out,
            );
        }
        // Each header is scanned as `name: value`, so context rules (e.g.
        // `x-api-key: …`) see the name.
        let (joined, lines) = self.header_lines_to_scan(ctx, head);
        let mut location = String::new();
        for (name, range) in lines {
            let line = joined.get(range).unwrap_or_default();
            location.clear();
            location.push_str("header:");
            location.extend(name.chars().map(|c| c.to_ascii_lowercase()));
            self.scan_view(
                ctx,
                &location,
                line,
                None,
                0,
                Window::whole(line.len()),
                &mut seen,
                &mut out,
            );
        }
        out.into_iter().map(|l| l.finding).collect()
    }

    /// The `name: value` lines of a head's headers that can raise a
    /// finding. A scan of one short line costs a few hundred nanoseconds
    /// of fixed work whatever it holds (a 1 KiB GET's two heads were two
    /// thirds of the guardian's scan time per request), and most header
    /// lines hold nothing a scan can find. A line can raise a finding only
    /// through a keyword occurrence (every rule match has one), a base64
    /// run (the encoded views), a view trigger (the local views), or a
    /// known secret: the first two are found once in all lines joined by
    /// `\n` (a separator no keyword or run crosses), the triggers line by
    /// line (a trigger may depend on where its text ends), and with known
    /// secrets registered every line is scanned.
    ///
    /// Returns the joined lines and, in order, the name and range there of
    /// each line to scan.
    fn header_lines_to_scan<'h>(
        &self,
        ctx: &ScanContext,
        head: &MessageHead<'h>,
    ) -> (Vec<u8>, Vec<(&'h str, Range<usize>)>) {
        let mut joined = Vec::new();
        let mut lines: Vec<(&'h str, Range<usize>)> = Vec::new();
        for (name, value) in &head.headers {
            if SKIPPED_HEADERS.iter().any(|s| name.eq_ignore_ascii_case(s)) {
                continue;
            }
            let start = joined.len();
            joined.extend_from_slice(name.as_bytes());
            joined.extend_from_slice(b": ");
            joined.extend_from_slice(&value[..value.len().min(self.opts.max_scan_bytes)]);
            lines.push((name, start..joined.len()));
            joined.push(b'\n');
        }
        if self.opts.known_secrets.is_some() {
            return (joined, lines); // every line: no search can rule one out
        }
        let mut wanted = vec![false; lines.len()];
        let mut mark = |range: Range<usize>| {
            // Lines are in order: the first ending after the range's start.
            let first = lines.partition_point(|(_, l)| l.end <= range.start);
            for (i, (_, l)) in lines.iter().enumerate().skip(first) {
                if l.start >= range.end.max(range.start + 1) {
                    break;
                }
                wanted[i] = true;
            }
        };
        self.rules(ctx.direction)
            .keyword_occurrences(&joined, &mut mark);
        for (start, end, _) in decode::base64_runs(&joined) {
            mark(start..end);
        }
        for (i, (_, l)) in lines.iter().enumerate() {
            if !wanted[i] {
                wanted[i] = joined
                    .get(l.clone())
                    .is_some_and(|t| !triggers::find(t).is_empty());
            }
        }
        let picked = lines
            .into_iter()
            .zip(wanted)
            .filter_map(|(line, w)| w.then_some(line))
            .collect();
        (joined, picked)
    }

    /// A streaming inspector for one message body. `content_encoding` is the
    /// message's header value; the inspector decodes a copy of the bytes.
    pub fn body_inspector(
        self: &Arc<Self>,
        ctx: ScanContext,
        location: &str,
        content_encoding: Option<&str>,
    ) -> BodyInspector {
        BodyInspector::new(Arc::clone(self), ctx, location, content_encoding)
    }

    /// Scans a whole message: URL, headers, then the body honouring its
    /// `content-encoding` header, exactly as the proxy would.
    pub fn scan_message(
        self: &Arc<Self>,
        ctx: &ScanContext,
        head: &MessageHead<'_>,
        body: &[u8],
    ) -> (Vec<Finding>, BodyStats) {
        let mut out = self.scan_head(ctx, head);
        let encoding = head
            .headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case("content-encoding"))
            .and_then(|(_, v)| std::str::from_utf8(v).ok());
        let content_type = head
            .headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case("content-type"))
            .and_then(|(_, v)| std::str::from_utf8(v).ok());
        let mut inspector = self
            .body_inspector(ctx.clone(), "body", encoding)
            .with_content_type(content_type);
        let mut body_findings = inspector.feed(body);
        body_findings.extend(inspector.finish());
        if out.is_empty() {
            return (body_findings, inspector.stats());
        }
        // What the head reported already, by borrowed keys: nothing is
        // copied per body finding (a body may hold thousands).
        let fresh: Vec<Finding> = {
            let known: HashSet<(&str, &str)> = out
                .iter()
                .map(|f| (f.pattern.as_str(), f.fingerprint.as_str()))
                .collect();
            body_findings
                .into_iter()
                .filter(|f| !known.contains(&(f.pattern.as_str(), f.fingerprint.as_str())))
                .collect()
        };
        out.extend(fresh);
        (out, inspector.stats())
    }

    /// `dest` as a finding shows it: every host label that a credential
    /// rule matches (as written or upper-cased: hosts arrive lower-cased)
    /// or that looks like a credential becomes `[MASKED]`. A secret sent as
    /// a DNS label must not come back through the finding's `dest`.
    pub fn mask_dest(&self, dest: &str) -> String {
        redact::mask_labels(dest, |label| self.is_credential_label(label))
    }

    /// A host label, path segment or log field that a credential rule
    /// matches, or that is a known secret or canary in any form.
    fn is_credential_label(&self, label: &[u8]) -> bool {
        self.outbound.has_credential(label)
            || self
                .opts
                .known_secrets
                .as_ref()
                .is_some_and(|k| k.is_known(label))
    }

    /// Whether `host` is a model API (built-in list or `model_hosts`).
    pub fn is_model_host(&self, host: &str) -> bool {
        host_in(host, MODEL_PROVIDER_HOSTS) || host_in(host, &self.opts.model_hosts)
    }

    /// Scans a text that stands alone, reached through `chain` (a text
    /// reassembled from a stream): every match inside it is judged.
    fn scan_detached(
        &self,
        ctx: &ScanContext,
        location: &str,
        text: &[u8],
        chain: &str,
    ) -> Vec<Finding> {
        let (_, out) = self.scan_whole(ctx, location, text, Some(chain));
        out.into_iter().map(|l| l.finding).collect()
    }

    fn expected_destination(&self, spec: &RuleSpec, host: &str) -> bool {
        host_in(host, spec.expected_hosts)
            || self
                .opts
                .expected_destinations
                .get(spec.id)
                .is_some_and(|hosts| host_in(host, hosts))
    }

    /// Whether a match is reported, is a known-benign credential (a documented
    /// example, or sent to its own provider), or is not a credential at all.
    fn verdict(&self, spec: &RuleSpec, value: &[u8], host: &str) -> Verdict {
        if spec.allow.iter().any(|a| a.as_bytes() == value) {
            return Verdict::Benign;
        }
        if spec.rejects_value(value) {
            return Verdict::Rejected;
        }
        if spec.kind == RuleKind::Secret && self.expected_destination(spec, host) {
            return Verdict::Benign;
        }
        Verdict::Accepted
    }

    /// Scans `text` and (below [`MAX_VIEW_DEPTH`]) its decoded views,
    /// reporting the matches of the raw text inside `window`. Decoded views'
    /// offsets do not map onto the frame: only their held-back tail follows
    /// the frame's, and the `seen` set folds what a later scan finds again.
    #[allow(clippy::too_many_arguments)]
    fn scan_view(
        &self,
        ctx: &ScanContext,
        location: &str,
        text: &[u8],
        chain: Option<&str>,
        depth: usize,
        window: Window,
        seen: &mut HashSet<(usize, String)>,
        out: &mut Vec<Located>,
    ) {
        self.scan_view_carrying(
            ctx, location, text, chain, depth, window, None, None, seen, out,
        );
    }

    /// [`Detector::scan_view`] of a frame that is not the last, whose
    /// carry-over would start at `carry.0`: lowers `carry.0` to the start of
    /// every encoded region or base64 run it would cut, so the next scan
    /// decodes them whole, and of every match the next scan judges (still
    /// open at the holdback); leaves base64 runs still open at the end for
    /// that scan.
    #[allow(clippy::too_many_arguments)]
    fn scan_view_carrying(
        &self,
        ctx: &ScanContext,
        location: &str,
        text: &[u8],
        chain: Option<&str>,
        depth: usize,
        window: Window,
        mut carry: Option<&mut usize>,
        cursor: Option<&mut RuleCursor>,
        seen: &mut HashSet<(usize, String)>,
        out: &mut Vec<Located>,
    ) {
        let set = self.rules(ctx.direction);
        let mut spans = Vec::new();
        set.spans(text, &mut spans);
        let mut known = Vec::new();
        if let (Some(k), Direction::Outbound) = (&self.opts.known_secrets, ctx.direction) {
            k.find(text, &mut known);
        }
        if !spans.is_empty() {
            self.match_rules(
                ctx,
                location,
                text,
                chain,
                window,
                set,
                &spans,
                &known,
                cursor,
                // Only the body's own buffer is carried; a decoded view's
                // region is carried through its raw bytes (below).
                if depth == 0 {
                    carry.as_deref_mut()
                } else {
                    None
                },
                seen,
                out,
            );
        }
        if !known.is_empty() {
            self.report_known(ctx, location, chain, window, &known, seen, out);
        }
        if depth >= MAX_VIEW_DEPTH {
            return;
        }
        // Percent, JSON and HTML views are decoded only around what they
        // change: elsewhere they equal the text just scanned.
        let mut views: Vec<(&str, Vec<u8>, Window)> = Vec::new();
        let floor = if carry.is_some() {
            region_carry_floor(text)
        } else {
            0
        };
        for (label, transform, regions) in view_regions(text) {
            for region in regions {
                if let Some(from) = carry.as_deref_mut() {
                    if region.start < *from && region.end > *from {
                        *from = region.start.max(floor).min(*from);
                    }
                }
                let Some(decoded) = text.get(region.clone()).and_then(transform) else {
                    continue;
                };
                // A region reaching into the frame's held-back tail gets a
                // holdback of its own: its end may be cut by the frame's end,
                // even where the cut escape (`…%5`) ends it a little earlier.
                // It is carried whole, so the next scan judges what is held.
                let sub_window = if window.hold >= text.len() || region.end <= window.hold {
                    Window::whole(decoded.len())
                } else {
                    Window {
                        judged: 0,
                        hold: decoded.len().saturating_sub(HOLDBACK_BYTES),
                    }
                };
                views.push((label, decoded, sub_window));
            }
        }
        // Base64 (and hex, and gzip in base64) segments come from anywhere
        // and are judged whole. A gzip member inflates to at most the scan
        // limit. A run still open at a frame's end is judged in the next
        // scan, carried whole.
        let segments = match carry {
            Some(from) => {
                decode::encoded_segments_carrying(text, self.opts.max_scan_bytes, window.hold, from)
            }
            None => decode::encoded_segments(text, self.opts.max_scan_bytes),
        };
        for (label, decoded) in [
            ("base64", segments.base64),
            ("hex", segments.hex),
            ("base64>gzip", segments.gzip),
        ] {
            if let Some(decoded) = decoded {
                let whole = Window::whole(decoded.len());
                views.push((label, decoded, whole));
            }
        }
        for (label, decoded, sub_window) in views {
            let sub_chain = match chain {
                Some(c) => format!("{c}>{label}"),
                None => label.to_owned(),
            };
            // A decoded region reaching the end of a frame that is not the
            // last may go on in the next one: so may a base64 run at its end,
            // decoded once whole (the region is carried whole).
            let mut open_end = decoded.len();
            let nested_carry = (sub_window.hold < decoded.len()).then_some(&mut open_end);
            self.scan_view_carrying(
                ctx,
                location,
                &decoded,
                Some(&sub_chain),
                depth + 1,
                sub_window,
                nested_carry,
                None,
                seen,
                out,
            );
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn match_rules(
        &self,
        ctx: &ScanContext,
        location: &str,
        text: &[u8],
        chain: Option<&str>,
        window: Window,
        set: &RuleSet,
        spans: &[(usize, Range<usize>)],
        known: &[KnownHit],
        mut cursor: Option<&mut RuleCursor>,
        mut carry: Option<&mut usize>,
        seen: &mut HashSet<(usize, String)>,
        out: &mut Vec<Located>,
    ) {
        let mut hits: Vec<Hit> = Vec::new();
        // Where a match judged by the next scan may lower the carry to:
        // found once per text, at the first such match.
        let mut carry_floor: Option<usize> = None;
        for (ri, span) in spans {
            let Some(rule) = set.rules().get(*ri) else {
                continue;
            };
            // A rule's matches are found left to right, each search resuming
            // where the last match ended: a streamed body resumes each rule
            // where its last judged match ended, as one scan of the whole
            // would. Matches ending before that point were judged already;
            // they are collected only to rank overlapping matches.
            let resume = cursor.as_deref().and_then(|c| c.resume.get(ri)).copied();
            let last_end = cursor
                .as_deref_mut()
                .map(|c| c.last_end.entry(*ri).or_insert(0));
            let mut last = 0;
            if let Some(r) = resume.filter(|&r| r > span.start) {
                find_in_span(rule, text, span.start..r.min(span.end), |full, secret| {
                    if full.end <= r && !secret.is_empty() {
                        hits.push(Hit {
                            rule: *ri,
                            full,
                            secret,
                            judged_here: false,
                        });
                    }
                });
            }
            let mut span = span.clone();
            if let Some(r) = resume {
                span.start = span.start.max(r);
            }
            if span.start < span.end {
                find_in_span(rule, text, span, |full, secret| {
                    if full.end <= window.hold {
                        last = last.max(full.end);
                    } else if let Some(from) = carry.as_deref_mut() {
                        // Judged by the next scan: the carry keeps all of it
                        // (a match longer than the carry-over, such as a
                        // PuTTY key's private lines, was lost otherwise,
                        // even in a body fed whole before its end).
                        // At most as far back as a view region is kept, and
                        // at a line's start: a carry cutting a line inside a
                        // long percent-encoded region made the next scan
                        // decode half a line, and read an order on it again
                        // (body_split fuzz target).
                        let floor = *carry_floor.get_or_insert_with(|| region_carry_floor(text));
                        *from = full.start.max(floor).min(*from);
                    }
                    // Judged by the previous scan, or by the next, when outside.
                    let judged_here = full.end > window.judged && full.end <= window.hold;
                    if !secret.is_empty() {
                        hits.push(Hit {
                            rule: *ri,
                            full,
                            secret,
                            judged_here,
                        });
                    }
                });
            }
            if let Some(e) = last_end {
                *e = (*e).max(last);
            }
        }
        if !hits.iter().any(|h| h.judged_here) {
            return;
        }
        // Every secret is redacted in every snippet, including secrets whose
        // own finding is suppressed (expected destination, allow-list).
        let mut redactions: Vec<Redaction> = hits
            .iter()
            .filter_map(|h| {
                let rule = set.rules().get(h.rule)?;
                rule.is_secret().then(|| Redaction {
                    range: h.secret.clone(),
                    label: rule.spec.id,
                })
            })
            .chain(known.iter().map(|k| Redaction {
                range: k.range.clone(),
                label: crate::core::known_secrets::KNOWN_SECRET_PATTERN,
            }))
            .collect();
        // Sorted by start, with the furthest end so far: a snippet's window
        // finds the redactions it meets by two binary searches, not a pass
        // over all of them (finding-dense text has thousands per buffer).
        redactions.sort_by_key(|r| r.range.start);
        let reach: Vec<usize> = redactions
            .iter()
            .scan(0, |m, r| {
                *m = r.range.end.max(*m);
                Some(*m)
            })
            .collect();
        // Secrets of the other direction found around snippets (below).
        let mut around: Vec<Redaction> = Vec::new();
        let mut nearby: Vec<Redaction> = Vec::new();
        // Rules of the other direction do not run here (an inbound body is
        // not searched for credentials or known secrets), but a credential
        // echoed back by a server must not show in an injection finding's
        // snippet either: both are searched around each snippet shown.
        let other_secrets = !std::ptr::eq(set, &self.outbound);
        let host = ctx.dest_host();
        let verdicts: Vec<Verdict> = hits
            .iter()
            .map(|hit| match set.rules().get(hit.rule) {
                Some(rule) if rule.spec.rejects_match(text, hit.full.clone()) => Verdict::Rejected,
                Some(rule) => self.verdict(rule.spec, &text[hit.secret.clone()], &host),
                None => Verdict::Rejected,
            })
            .collect();
        let outranked = outranked_secrets(set, &hits, &verdicts);
        // Every finding of this text goes to the same destination: mask it once.
        let mut shown_dest: Option<String> = None;
        let mut shown_location: Option<String> = None;
        // One time for the findings of one scan of a text: formatting the
        // clock per finding was a measurable share on finding-dense text.
        let mut timestamp: Option<String> = None;
        for (i, hit) in hits.iter().enumerate() {
            if !hit.judged_here || verdicts[i] != Verdict::Accepted || outranked[i] {
                continue;
            }
            let Some(rule) = set.rules().get(hit.rule) else {
                continue;
            };
            let spec = rule.spec;
            let value = &text[hit.secret.clone()];
            let fingerprint = match spec.kind {
                RuleKind::Secret => self.fingerprints.fingerprint(spec.id, value),
                RuleKind::Indicator => self
                    .fingerprints
                    .fingerprint(spec.id, &redact::normalize_indicator(value)),
            };
            if !seen.insert((hit.rule, fingerprint.clone())) {
                continue;
            }
            let shown = redact::window(text.len(), hit.full.clone(), self.opts.snippet_mode);
            if other_secrets {
                self.secrets_around(text, shown.clone(), &mut around);
            }
            // The redactions that can meet the window: starting before its
            // end, and not all ending at or before its start.
            let lo = reach.partition_point(|&end| end <= shown.start);
            let hi = redactions.partition_point(|r| r.range.start < shown.end);
            let meeting: &[Redaction] = match redactions.get(lo..hi) {
                Some(part) if around.is_empty() => part,
                part => {
                    nearby.clear();
                    nearby.extend_from_slice(part.unwrap_or_default());
                    nearby.extend_from_slice(&around);
                    &nearby
                }
            };
            let snippet = redact::snippet(text, hit.full.clone(), meeting, self.opts.snippet_mode);
            let finding = Finding {
                schema_version: SCHEMA_VERSION.to_owned(),
                platform: PLATFORM.to_owned(),
                id: self.opts.stamp.finding_id(),
                direction: ctx.direction,
                protocol: ctx.protocol.clone(),
                threat_type: spec.threat,
                pattern: spec.id.to_owned(),
                severity: spec.severity,
                source: ctx.source.clone(),
                dest: shown_dest
                    .get_or_insert_with(|| self.mask_dest(&ctx.dest))
                    .clone(),
                location: shown_location
                    .get_or_insert_with(|| {
                        redact::mask_labels(location, |l| self.is_credential_label(l))
                    })
                    .clone(),
                snippet,
                fingerprint,
                count: 1,
                decoded: chain.map(str::to_owned),
                context: Default::default(),
                timestamp: timestamp
                    .get_or_insert_with(|| self.opts.stamp.timestamp())
                    .clone(),
                rule: None,
                repeats_of: None,
            };
            out.push(Located {
                finding,
                // The secret, not the match: an assignment rule's match
                // starts in the key, and the path should name that key.
                raw_start: chain.is_none().then_some(hit.secret.start),
            });
        }
    }
}

impl Detector {
    /// Adds to `out` the matches of the outbound secret rules, and the
    /// known secrets, that overlap `shown` (a snippet's window). The searched part reaches
    /// [`SNIPPET_SECRET_MARGIN`] further each side, to the ends of the tokens
    /// there, so a credential crossing the window's edge is found whole.
    fn secrets_around(&self, text: &[u8], shown: Range<usize>, out: &mut Vec<Redaction>) {
        if shown.is_empty() {
            return;
        }
        let from = token_start(text, shown.start.saturating_sub(SNIPPET_SECRET_MARGIN));
        let to = token_end(
            text,
            shown
                .end
                .saturating_add(SNIPPET_SECRET_MARGIN)
                .min(text.len()),
        );
        let Some(part) = text.get(from..to) else {
            return;
        };
        if let Some(ks) = &self.opts.known_secrets {
            let mut known = Vec::new();
            ks.find(part, &mut known);
            for k in known {
                let range = k.range.start + from..k.range.end + from;
                if range.start < shown.end && range.end > shown.start {
                    out.push(Redaction {
                        range,
                        label: crate::core::known_secrets::KNOWN_SECRET_PATTERN,
                    });
                }
            }
        }
        let set = &self.outbound;
        let mut spans = Vec::new();
        set.spans(part, &mut spans);
        for (ri, span) in spans {
            let Some(rule) = set.rules().get(ri).filter(|r| r.is_secret()) else {
                continue;
            };
            find_in_span(rule, part, span, |_, secret| {
                let range = secret.start + from..secret.end + from;
                if !secret.is_empty() && range.start < shown.end && range.end > shown.start {
                    out.push(Redaction {
                        range,
                        label: rule.spec.id,
                    });
                }
            });
        }
    }

    /// Findings for known secrets and canaries seen in one view: critical,
    /// labelled with the value's name, never its bytes.
    #[allow(clippy::too_many_arguments)]
    fn report_known(
        &self,
        ctx: &ScanContext,
        location: &str,
        chain: Option<&str>,
        window: Window,
        known: &[KnownHit],
        seen: &mut HashSet<(usize, String)>,
        out: &mut Vec<Located>,
    ) {
        let Some(ks) = &self.opts.known_secrets else {
            return;
        };
        let host = ctx.dest_host();
        for hit in known {
            if hit.range.end <= window.judged || hit.range.end > window.hold {
                continue;
            }
            let Some(label) = ks.label(hit.entry) else {
                continue;
            };
            if label.expected_at(&host) {
                continue;
            }
            let pattern = label.pattern();
            let shown = label.display();
            let fingerprint = self.fingerprints.fingerprint(pattern, shown.as_bytes());
            if !seen.insert((usize::MAX, fingerprint.clone())) {
                continue;
            }
            out.push(Located {
                finding: Finding {
                    schema_version: SCHEMA_VERSION.to_owned(),
                    platform: PLATFORM.to_owned(),
                    id: self.opts.stamp.finding_id(),
                    direction: ctx.direction,
                    protocol: ctx.protocol.clone(),
                    threat_type: crate::core::finding::ThreatType::Exfil,
                    pattern: pattern.to_owned(),
                    severity: crate::core::finding::Severity::Critical,
                    source: ctx.source.clone(),
                    dest: self.mask_dest(&ctx.dest),
                    location: redact::mask_labels(location, |l| self.is_credential_label(l)),
                    snippet: format!("[REDACTED:{pattern}] {shown} ({})", hit.form.as_str()),
                    fingerprint,
                    count: 1,
                    decoded: chain.map(str::to_owned),
                    rule: None,
                    context: Default::default(),
                    timestamp: self.opts.stamp.timestamp(),
                    repeats_of: None,
                },
                raw_start: chain.is_none().then_some(hit.range.start),
            });
        }
    }
}

/// Bytes of context a decoded region keeps on each side of what its view
/// changes: a match reaching further than this from every decoded byte is
/// not seen through that view (the raw view still sees its undecoded form).
pub const VIEW_MARGIN: usize = 512;

/// How far around a snippet's window the secret rules are run when the
/// scanned direction does not run them: far enough for the longest token
/// credentials to be matched whole.
const SNIPPET_SECRET_MARGIN: usize = 256;

/// How far a view region's edge moves to reach the end of a token it would
/// otherwise cut.
const TOKEN_EDGE_MAX: usize = 512;

/// `at`, moved back to the start of the token it falls inside (bounded).
/// A region edge that cut a token would show a view a shorter token than
/// the raw text holds, and where the edge falls depends on how the body was
/// split into frames: that cut token was a finding of its own only in some
/// splits (issue 19, item 3).
fn token_start(text: &[u8], at: usize) -> usize {
    redact::run_start(text, at, TOKEN_EDGE_MAX, is_token_byte)
}

/// `at`, moved forward to the end of the token it falls inside (bounded).
fn token_end(text: &[u8], at: usize) -> usize {
    redact::run_end(text, at, TOKEN_EDGE_MAX, is_token_byte)
}

/// How far a view region's end moves over a block of token lines.
const BLOCK_EDGE_MAX: usize = ENCODED_CARRY_BYTES;

/// `end`, a view region's end at the end of a token, moved on over the
/// block of token lines it ends a line of (a PEM, PuTTY or base64 block,
/// bounded by [`BLOCK_EDGE_MAX`]), past the line break after the block.
/// A multi-line match holds whitespace, so the token edge alone stopped
/// inside it; where that margin ended depended on where the frame ended
/// (a later escape's region, merged in the whole body, reached further),
/// and a view cutting a key's body showed a shorter key, a finding of its
/// own only in some splits. Read off the bytes around the edge only, so
/// the edge does not depend on the frame either.
fn block_end(text: &[u8], end: usize) -> usize {
    let break_len = |at: usize| match text.get(at..) {
        Some([b'\n', ..]) => Some(1),
        Some([b'\r', b'\n', ..]) => Some(2),
        Some([]) => Some(0),
        _ => None,
    };
    let line_start = redact::run_start(text, end, TOKEN_EDGE_MAX, is_token_byte);
    let whole_line = line_start < end && (line_start == 0 || text[line_start - 1] == b'\n');
    let Some(mut brk) = break_len(end).filter(|_| whole_line) else {
        return end;
    };
    let mut at = end;
    loop {
        let next = at + brk;
        let line_end = redact::run_end(text, next, BLOCK_EDGE_MAX, is_token_byte);
        match break_len(line_end) {
            Some(b) if line_end > next && line_end + b - end <= BLOCK_EDGE_MAX => {
                at = line_end;
                brk = b;
            }
            _ => return next,
        }
    }
}

/// The lowest the carry-over may start to keep a view region whole:
/// [`ENCODED_CARRY_BYTES`] back, moved to the start of its line when that is
/// at most [`TOKEN_EDGE_MAX`] further back. A region longer than that (a
/// percent-encoded body) is cut by the carry; cut inside a command on one
/// line, the next scan decoded the rest of the line and reported a shorter,
/// different match of the command a second time.
fn region_carry_floor(text: &[u8]) -> usize {
    let floor = text.len().saturating_sub(ENCODED_CARRY_BYTES);
    let from = floor.saturating_sub(TOKEN_EDGE_MAX);
    match text
        .get(from..floor)
        .and_then(|t| memchr::memrchr(b'\n', t))
    {
        Some(i) => from + i + 1,
        // The text's own start is where the previous carry began: as good
        // a place as a line start, and it keeps the line whole.
        None if from == 0 => 0,
        None => floor,
    }
}

/// The local views, each with the parts of `text` where it differs from
/// `text`, each part widened by [`VIEW_MARGIN`] and merged with its
/// neighbours, its ends moved out of the tokens and token-line blocks they
/// would cut. One pass per trigger byte: the backslashes serve the JSON,
/// hex and shell views together.
fn view_regions(text: &[u8]) -> [(&'static str, ViewTransform, Vec<Range<usize>>); 8] {
    let widen = |changed: Vec<Range<usize>>| {
        let mut regions: Vec<Range<usize>> = Vec::new();
        for c in changed {
            let start = token_start(text, c.start.saturating_sub(VIEW_MARGIN));
            let end = block_end(
                text,
                token_end(text, c.end.saturating_add(VIEW_MARGIN).min(text.len())),
            );
            match regions.last_mut() {
                Some(last) if start <= last.end => last.end = last.end.max(end),
                _ => regions.push(start..end),
            }
        }
        regions
    };
    // One pass finds every view's triggers (see `triggers`).
    let t = triggers::find(text);
    let percent = widen(t.percent);
    [
        (
            "percent",
            decode::percent_decode as ViewTransform,
            percent.clone(),
        ),
        // The form view differs from the percent view only by `+`, which
        // `form_decode` looks for in each region.
        ("form", decode::form_decode, percent),
        ("json", decode::json_unescape, widen(t.json)),
        (
            "json",
            decode::json_unescape_lines,
            json_line_regions(text, &t.json_line),
        ),
        ("html", decode::html_unescape, widen(t.html)),
        ("hex", decode::hex_unescape, widen(t.hex)),
        ("shell", normalize::shell_normalize, widen(t.shell)),
        ("unicode", normalize::unicode_normalize, widen(t.unicode)),
    ]
}

/// Most bytes of a JSON line region: a command or a chat turn after an
/// escaped line break, read to the end of its string.
const JSON_LINE_BYTES: usize = 1024;

/// The regions of the JSON line view: from each escaped line break that
/// starts a line worth reading (`decode::LINE_STARTS`) to the end of its
/// JSON string (the next unescaped `"`), at most [`JSON_LINE_BYTES`], merged.
/// Narrow, unlike the other views' regions: such breaks are common in JSON
/// (every README a code block), and only the lines after them read
/// differently.
fn json_line_regions(text: &[u8], breaks: &[Range<usize>]) -> Vec<Range<usize>> {
    let mut regions: Vec<Range<usize>> = Vec::new();
    for b in breaks {
        // A break inside the last region reads to the same string's end.
        if regions.last().is_some_and(|last| b.start < last.end) {
            continue;
        }
        let limit = b.start.saturating_add(JSON_LINE_BYTES).min(text.len());
        let mut end = limit;
        let mut from = b.end.min(limit);
        while let Some(q) = text.get(from..limit).and_then(|t| memchr::memchr(b'"', t)) {
            let at = from + q;
            // Escaped unless after an odd run of backslashes.
            let slashes = text[..at].iter().rev().take_while(|&&c| c == b'\\').count();
            if slashes % 2 == 0 {
                end = at;
                break;
            }
            from = at + 1;
        }
        match regions.last_mut() {
            Some(last) if b.start <= last.end => last.end = last.end.max(end),
            _ => regions.push(b.start..end),
        }
    }
    regions
}

/// Calls `found(match, secret)` for each match of `rule` that starts in
/// `span`, left to right. The bytes around the span still count for
/// look-around (`\b`, `^`, `$`), so a match here is a match in the whole text.
/// A rule whose secret can be read off the whole match (a token rule, see
/// [`SecretTrim`](crate::core::rules::secret_trim::SecretTrim)) runs a plain
/// search; others a capture search.
fn find_in_span(
    rule: &Rule,
    text: &[u8],
    span: Range<usize>,
    found: impl FnMut(Range<usize>, Range<usize>),
) {
    find_in_span_as(rule, text, span, rule.secret_trim.is_some(), found)
}

/// [`find_in_span`], trimming (`trim`, when the rule has a trim) or with
/// the capture search.
fn find_in_span_as(
    rule: &Rule,
    text: &[u8],
    span: Range<usize>,
    trim: bool,
    mut found: impl FnMut(Range<usize>, Range<usize>),
) {
    let mut input = Input::new(text).span(span.clone());
    let trim = rule.secret_trim.as_ref().filter(|_| trim);
    let mut caps = match (trim, rule.secret_group) {
        (None, Some(_)) => Some(rule.regex.create_captures()),
        _ => None,
    };
    loop {
        // Where the next match is, found with the opened pattern when it
        // can tell (see `RelaxedFind`); the pattern itself then runs only
        // over that match, anchored at its start, and only for captures.
        let mut known = None;
        let mut search = input.clone();
        if let Some(walker) = rule.spec.walker {
            let Some(m) = walker.find(text, input.get_span().range()) else {
                return;
            };
            known = Some(m.clone());
            search = input.clone().range(m).anchored(Anchored::Yes);
        } else if let Some(relaxed) = &rule.relaxed {
            let Some(m) = relaxed.regex.search(&input) else {
                return; // the pattern matches a subset: none here either
            };
            if m.len() <= relaxed.bound {
                known = Some(m.range());
                search = input.clone().range(m.range()).anchored(Anchored::Yes);
            }
        }
        let (full, secret) = match (caps.as_mut(), known) {
            (Some(caps), known) => {
                rule.regex.search_captures(&search, caps);
                if caps.get_match().is_none() && known.is_some() {
                    // Cannot happen (see `RelaxedFind`); were it to, the
                    // whole span is searched as without the opened pattern.
                    rule.regex.search_captures(&input, caps);
                }
                let Some(m) = caps.get_match() else { return };
                let full = m.range();
                let secret = rule
                    .secret_group
                    .and_then(|g| caps.get_group(g))
                    .map_or(full.clone(), |s| s.range());
                (full, secret)
            }
            (None, found) => {
                let full = match found {
                    Some(full) => full,
                    None => match rule.regex.search(&search) {
                        Some(m) => m.range(),
                        None => return,
                    },
                };
                let secret = match trim {
                    Some(t) => t.secret(text, full.clone()),
                    None => full.clone(),
                };
                (full, secret)
            }
        };
        // A rule read by its cues judges the line around its anchor: the
        // match is that window, for the verdict, the snippet and the carry.
        let (full, secret) = rule.spec.judged_match(text, full, secret);
        found(full.clone(), secret);
        // Step past an empty match so the search always moves on.
        let next = if full.is_empty() {
            full.end + 1
        } else {
            full.end
        };
        if next >= span.end {
            return;
        }
        input.set_start(next);
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    Accepted,
    /// A credential, but an expected one: reported by no rule.
    Benign,
    /// Not a credential (e.g. too little entropy): has no say over others.
    Rejected,
}

/// When credential matches of different rules overlap, one explanation of
/// the span wins: a benign verdict (expected destination, documented
/// example) silences every overlapping rule, and otherwise the most severe,
/// then the longest, then the first rule is reported. So a generic rule
/// never re-reports a provider key its own rule judged expected traffic.
/// Matches of one rule never overlap, so each span meets at most one match
/// per rule: linear in the number of hits.
fn outranked_secrets(set: &RuleSet, hits: &[Hit], verdicts: &[Verdict]) -> Vec<bool> {
    let secret = |i: usize| set.rules().get(hits[i].rule).filter(|r| r.is_secret());
    let mut order: Vec<usize> = (0..hits.len()).filter(|&i| secret(i).is_some()).collect();
    order.sort_by_key(|&i| hits[i].secret.start);
    let mut out = vec![false; hits.len()];
    let rank = |i: usize| {
        let sev = secret(i).map(|r| r.spec.severity);
        (sev, hits[i].secret.len(), std::cmp::Reverse(hits[i].rule))
    };
    for (k, &i) in order.iter().enumerate() {
        for &j in &order[k + 1..] {
            if hits[j].secret.start >= hits[i].secret.end {
                break;
            }
            if hits[i].rule == hits[j].rule {
                continue;
            }
            match (verdicts[i], verdicts[j]) {
                (Verdict::Benign, _) => out[j] = true,
                (_, Verdict::Benign) => out[i] = true,
                (Verdict::Accepted, Verdict::Accepted) => {
                    if rank(i) >= rank(j) {
                        out[j] = true;
                    } else {
                        out[i] = true;
                    }
                }
                _ => {}
            }
        }
    }
    out
}

/// Bytes a credential token is made of (base64, URL-safe base64, hex, ids).
fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'_' | b'=' | b'-' | b'.')
}

/// Streaming inspection of one message body, frame by frame, in bounded
/// memory: a carry-over window of [`CARRY_BYTES`] joins frames, a copy is
/// decoded for `Content-Encoding`, and at most `max_scan_bytes` (decoded)
/// are inspected.
pub struct BodyInspector {
    detector: Arc<Detector>,
    ctx: ScanContext,
    location: String,
    decoder: Option<StreamDecoder>,
    carry: Vec<u8>,
    scanned: u64,
    /// Bytes inspected at most (the detector's `max_scan_bytes` unless set).
    limit: u64,
    truncated: bool,
    decode_failed: bool,
    finished: bool,
    /// Bytes at the start of `carry` whose matches were already judged.
    judged: usize,
    seen: HashSet<(usize, String)>,
    /// Whether `carry` still starts at the body's first byte. Only then is
    /// a JSON path resolved (by parsing from there, and only for a buffer
    /// with findings): tracking every body's structure continuously would
    /// cost about as much as scanning it.
    from_start: bool,
    /// The decoding chain this inspector's text was reached through (a
    /// stream's reassembled text), `None` for a message body itself.
    chain: Option<String>,
    /// The body's content type, until the stream framing is decided.
    content_type: Option<String>,
    stream: StreamState,
    cursor: RuleCursor,
}

/// Whether a body is reassembled as an event stream (decided on its first
/// bytes).
enum StreamState {
    Undecided,
    Plain,
    Events(Box<StreamView>),
}

impl std::fmt::Debug for BodyInspector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BodyInspector")
            .field("location", &self.location)
            .field("scanned", &self.scanned)
            .field("truncated", &self.truncated)
            .finish()
    }
}

impl BodyInspector {
    fn new(
        detector: Arc<Detector>,
        ctx: ScanContext,
        location: &str,
        content_encoding: Option<&str>,
    ) -> Self {
        let mut decode_failed = false;
        let decoder = match content_encoding.map(decode::parse_content_encoding) {
            Some(Ok(codings)) if !codings.is_empty() => {
                Some(StreamDecoder::new(&codings, detector.max_scan_bytes()))
            }
            Some(Err(_)) => {
                decode_failed = true;
                None
            }
            _ => None,
        };
        let limit = detector.max_scan_bytes() as u64;
        BodyInspector {
            detector,
            ctx,
            location: location.to_owned(),
            decoder,
            carry: Vec::new(),
            scanned: 0,
            limit,
            truncated: false,
            decode_failed,
            finished: false,
            judged: 0,
            seen: HashSet::new(),
            from_start: true,
            chain: None,
            content_type: None,
            stream: StreamState::Undecided,
            cursor: RuleCursor::default(),
        }
    }

    /// The body's `Content-Type`: `text/event-stream` and NDJSON bodies are
    /// also reassembled into the texts their events carry (see
    /// [`event_stream`]); without one, a body that starts like an event
    /// stream is taken for one.
    pub fn with_content_type(mut self, content_type: Option<&str>) -> Self {
        self.content_type = content_type.map(str::to_owned);
        self
    }

    /// Inspects at most `limit` bytes instead of the detector's
    /// `max_scan_bytes`: that bounds a proxied body, while an offline scan
    /// streams a file of any size through the same windows.
    pub fn set_limit(&mut self, limit: u64) {
        self.limit = limit;
        if let StreamState::Events(view) = &mut self.stream {
            view.text.set_limit(limit);
        }
    }

    /// Inspects the next frame of the body (as forwarded, still encoded).
    pub fn feed(&mut self, chunk: &[u8]) -> Vec<Finding> {
        // Past the limit the rest is forwarded uninspected.
        if self.finished || self.truncated || chunk.is_empty() {
            return Vec::new();
        }
        let mut out = match self.decoder.as_mut() {
            Some(d) => {
                let decoded = d.push(chunk);
                self.note_decoder_state();
                let mut out = self.scan_chunk(&decoded, false);
                self.stream_feed(&decoded, &mut out);
                out
            }
            None if self.decode_failed => Vec::new(),
            None => {
                let mut out = self.scan_chunk(chunk, false);
                self.stream_feed(chunk, &mut out);
                out
            }
        };
        self.stream_policy(&mut out);
        out
    }

    /// Feeds what the raw scan just saw to the stream reassembly, deciding
    /// on the first bytes whether the body is an event stream.
    fn stream_feed(&mut self, data: &[u8], out: &mut Vec<Finding>) {
        if data.is_empty() {
            return;
        }
        if matches!(self.stream, StreamState::Undecided) {
            self.stream = match StreamFormat::detect(self.content_type.as_deref(), data) {
                Some(format) if self.chain.is_none() => {
                    let provider = self.detector.is_model_host(&self.ctx.dest_host());
                    let mut view = StreamView::new(
                        &self.detector,
                        &self.ctx,
                        &self.location,
                        format,
                        provider,
                    );
                    // The reassembled text is bounded like the body itself.
                    view.text.set_limit(self.limit);
                    StreamState::Events(Box::new(view))
                }
                _ => StreamState::Plain,
            };
        }
        if let StreamState::Events(view) = &mut self.stream {
            view.feed(&self.detector, &self.ctx, &self.location, data, out);
        }
    }

    /// On a model provider's stream, findings in what the model says (not
    /// its tool calls) follow `model_text`; every finding of an event
    /// stream is reported once across the raw body and its reassembly.
    fn stream_policy(&mut self, out: &mut Vec<Finding>) {
        let StreamState::Events(view) = &mut self.stream else {
            return;
        };
        let policy = view.text_policy(&self.detector, self.ctx.direction);
        out.retain_mut(|f| {
            if f.pattern != MODEL_TOOL_CALL {
                match policy {
                    ModelText::Off => return false,
                    ModelText::Low => f.severity = crate::core::finding::Severity::Low,
                    ModelText::Full => {}
                }
            }
            view.reported
                .insert((f.pattern.clone(), f.fingerprint.clone()))
        });
    }

    /// Ends the body: flushes the decoder and scans what was held back.
    pub fn finish(&mut self) -> Vec<Finding> {
        self.end(true)
    }

    /// Inspects the body's last frame and ends the body: what
    /// `feed(last)` then `finish()` report, in one pass. A body that
    /// arrives whole (most small messages) is then scanned once, not once
    /// with a held-back tail and again for that tail at its end.
    pub fn finish_with(&mut self, last: &[u8]) -> Vec<Finding> {
        if self.decoder.is_some() || self.decode_failed || self.finished || self.truncated {
            let mut out = self.feed(last);
            out.extend(self.finish());
            return out;
        }
        let mut out = self.scan_chunk(last, true);
        self.stream_feed(last, &mut out);
        if let StreamState::Events(view) = &mut self.stream {
            view.finish(&self.detector, &self.ctx, &self.location, &mut out);
        }
        self.stream_policy(&mut out);
        self.finished = true;
        self.carry = Vec::new();
        out
    }

    /// Ends the body; `flush` is false when its bytes stopped short (a gap
    /// in a decoded body), where flushing would only report the cut as a
    /// decoding failure.
    fn end(&mut self, flush: bool) -> Vec<Finding> {
        if self.finished {
            return Vec::new();
        }
        let tail = match self.decoder.as_mut().filter(|_| flush) {
            Some(d) => {
                let t = d.finish();
                self.note_decoder_state();
                t
            }
            None => Vec::new(),
        };
        let mut out = self.scan_chunk(&tail, true);
        self.stream_feed(&tail, &mut out);
        if let StreamState::Events(view) = &mut self.stream {
            view.finish(&self.detector, &self.ctx, &self.location, &mut out);
        }
        self.stream_policy(&mut out);
        self.finished = true;
        self.carry = Vec::new();
        out
    }

    /// Bytes were skipped (not fed) after what was fed so far: judges what
    /// was held back, as at the end of a body, and resumes with the next
    /// frame as a fresh start (nothing carried across the gap, not
    /// truncated). A decoder cannot skip bytes: a decoded body ends at its
    /// first gap, with what was decoded so far judged.
    pub fn skip(&mut self) -> Vec<Finding> {
        if self.decoder.is_some() {
            return self.end(false);
        }
        if self.finished {
            return Vec::new();
        }
        let mut out = self.scan_chunk(&[], true);
        // The events around a gap cannot be joined: judge what the stream
        // view holds and start a fresh one after it.
        if let StreamState::Events(view) = &mut self.stream {
            view.finish(&self.detector, &self.ctx, &self.location, &mut out);
        }
        self.stream_policy(&mut out);
        if matches!(self.stream, StreamState::Events(_)) {
            self.stream = StreamState::Undecided;
        }
        self.carry = Vec::new();
        self.judged = 0;
        self.cursor = RuleCursor::default();
        self.from_start = false;
        self.truncated = false;
        out
    }

    pub fn stats(&self) -> BodyStats {
        BodyStats {
            scanned_bytes: self.scanned,
            truncated: self.truncated,
            decode_failed: self.decode_failed,
        }
    }

    fn note_decoder_state(&mut self) {
        match self.decoder.as_ref().and_then(StreamDecoder::stopped) {
            Some(DecodeStop::Capped) => self.truncated = true,
            Some(DecodeStop::Failed) => self.decode_failed = true,
            None => {}
        }
    }

    fn scan_chunk(&mut self, data: &[u8], is_final: bool) -> Vec<Finding> {
        let room = usize::try_from(self.limit.saturating_sub(self.scanned)).unwrap_or(usize::MAX);
        let take = data.len().min(room);
        if take < data.len() {
            self.truncated = true;
        }
        if take == 0 && self.carry.is_empty() {
            return Vec::new();
        }
        self.scanned += take as u64;
        // Only the carry is copied: a frame with nothing carried before it
        // (a whole body, the first frame) is scanned where it lies.
        let carried = std::mem::take(&mut self.carry);
        let buf: std::borrow::Cow<'_, [u8]> = if carried.is_empty() {
            std::borrow::Cow::Borrowed(&data[..take])
        } else {
            let mut joined = carried;
            joined.extend_from_slice(&data[..take]);
            std::borrow::Cow::Owned(joined)
        };
        // Past the limit nothing more is coming for the scanner: this is the final view.
        let is_final = is_final || self.truncated;
        let window = Window {
            judged: self.judged,
            hold: if is_final {
                buf.len()
            } else {
                buf.len().saturating_sub(HOLDBACK_BYTES)
            },
        };
        // Where the carry-over starts: after a separator at most
        // CARRY_BYTES back, so a token cut in half at its left edge is not
        // rescanned as a shorter, different match; then lowered by the scan
        // to the start of any encoded run it would cut.
        let mut start = buf.len().saturating_sub(CARRY_BYTES);
        if start > 0 {
            let window_end = buf.len().min(start + 256);
            if let Some(p) = buf[start..window_end]
                .iter()
                .position(|&b| !is_token_byte(b))
            {
                start += p;
            }
        }
        let mut located = Vec::new();
        self.detector.scan_view_carrying(
            &self.ctx,
            &self.location,
            &buf,
            self.chain.as_deref(),
            0,
            window,
            (!is_final).then_some(&mut start),
            // The last scan of a body needs the cursor only to resume
            // rules a previous frame left mid-way: a body scanned whole has
            // none, and its rules need no bookkeeping.
            (!is_final || !self.cursor.resume.is_empty()).then_some(&mut self.cursor),
            &mut self.seen,
            &mut located,
        );
        let out = if self.from_start {
            locate_in_json(&buf, &self.location, located)
        } else {
            located.into_iter().map(|l| l.finding).collect()
        };
        if !is_final {
            self.from_start &= start == 0;
            self.carry = match buf {
                std::borrow::Cow::Owned(mut joined) => {
                    joined.drain(..start);
                    joined
                }
                std::borrow::Cow::Borrowed(frame) => {
                    frame.get(start..).unwrap_or_default().to_vec()
                }
            };
            // What this scan judged, in the next buffer's coordinates.
            self.judged = window.hold.saturating_sub(start);
            self.cursor.shift(start);
        }
        out
    }
}

/// Where each rule's left-to-right search stands in a streamed body, so the
/// matches a frame reports are the ones a scan of the whole body finds
/// (regex matches never overlap: where one ended decides the next).
#[derive(Debug, Default)]
struct RuleCursor {
    /// Rule → offset in this buffer where its search resumes.
    resume: HashMap<usize, usize>,
    /// Rule → end of its last match judged by this scan or before.
    last_end: HashMap<usize, usize>,
}

impl RuleCursor {
    /// Moves the cursor to a buffer that starts `start` bytes into this one.
    fn shift(&mut self, start: usize) {
        let last = std::mem::take(&mut self.last_end);
        for (rule, end) in last {
            let r = self.resume.entry(rule).or_insert(0);
            *r = (*r).max(end);
        }
        self.resume.retain(|_, r| {
            *r = r.saturating_sub(start);
            *r > 0
        });
    }
}

/// Open tool calls kept per stream; one more ends (and scans) the oldest.
const MAX_OPEN_TOOL_CALLS: usize = 16;

/// The texts an event stream carries, rebuilt from its events: the text
/// channel (what the model or server writes, joined across events and fed
/// in batches of [`CARRY_BYTES`] so 5-byte deltas do not each cost a scan)
/// and each tool call's arguments, scanned whole when the call ends.
struct StreamView {
    parser: EventParser,
    /// The stream comes from a model API: its text is the agent's own
    /// model speaking.
    provider: bool,
    text: BodyInspector,
    pending: Vec<u8>,
    tools: Vec<ToolCall>,
    pieces: Vec<Piece>,
    /// `(rule, fingerprint)` already reported from this body.
    reported: HashSet<(String, String)>,
}

struct ToolCall {
    key: String,
    name: String,
    args: Vec<u8>,
}

impl StreamView {
    fn new(
        detector: &Arc<Detector>,
        ctx: &ScanContext,
        location: &str,
        format: StreamFormat,
        provider: bool,
    ) -> Self {
        let mut text = BodyInspector::new(Arc::clone(detector), ctx.clone(), location, None);
        text.chain = Some("stream".to_owned());
        text.stream = StreamState::Plain;
        text.from_start = false;
        StreamView {
            parser: EventParser::new(format),
            provider,
            text,
            pending: Vec::new(),
            tools: Vec::new(),
            pieces: Vec::new(),
            reported: HashSet::new(),
        }
    }

    fn text_policy(&self, detector: &Detector, direction: Direction) -> ModelText {
        if self.provider && direction == Direction::Inbound {
            detector.opts.model_text
        } else {
            ModelText::Full
        }
    }

    fn feed(
        &mut self,
        detector: &Detector,
        ctx: &ScanContext,
        location: &str,
        data: &[u8],
        out: &mut Vec<Finding>,
    ) {
        let mut pieces = std::mem::take(&mut self.pieces);
        self.parser.push(data, &mut |payload| {
            event_stream::pieces(payload, &mut pieces)
        });
        self.apply(detector, ctx, location, &mut pieces, out);
        self.pieces = pieces;
        if self.pending.len() >= CARRY_BYTES {
            let batch = std::mem::take(&mut self.pending);
            out.extend(self.text.feed(&batch));
        }
    }

    fn finish(
        &mut self,
        detector: &Detector,
        ctx: &ScanContext,
        location: &str,
        out: &mut Vec<Finding>,
    ) {
        let mut pieces = std::mem::take(&mut self.pieces);
        self.parser
            .finish(&mut |payload| event_stream::pieces(payload, &mut pieces));
        self.apply(detector, ctx, location, &mut pieces, out);
        let batch = std::mem::take(&mut self.pending);
        out.extend(self.text.feed(&batch));
        out.extend(self.text.finish());
        for call in std::mem::take(&mut self.tools) {
            Self::scan_tool_call(detector, ctx, location, call, out);
        }
    }

    fn apply(
        &mut self,
        detector: &Detector,
        ctx: &ScanContext,
        location: &str,
        pieces: &mut Vec<Piece>,
        out: &mut Vec<Finding>,
    ) {
        let cap = detector.max_scan_bytes();
        for piece in pieces.drain(..) {
            match piece {
                Piece::Text(t) => {
                    if self.pending.len() + t.len() <= cap {
                        self.pending.extend_from_slice(t.as_bytes());
                    }
                }
                Piece::Whole(t) => {
                    out.extend(detector.scan_detached(ctx, location, t.as_bytes(), "stream"));
                }
                Piece::ToolName { key, name } => {
                    self.tool(detector, ctx, location, &key, out).name = name
                }
                Piece::ToolArgs { key, text } => {
                    // All open calls of a stream together hold at most the scan limit.
                    let held: usize = self.tools.iter().map(|c| c.args.len()).sum();
                    let call = self.tool(detector, ctx, location, &key, out);
                    if held + text.len() <= cap {
                        call.args.extend_from_slice(text.as_bytes());
                    }
                }
                Piece::ToolEnd { key } => {
                    // `o0.` ends every call of choice 0 (an OpenAI finish reason).
                    let ends = |k: &str| k == key || (key.ends_with('.') && k.starts_with(&key));
                    let (ended, open): (Vec<ToolCall>, Vec<ToolCall>) =
                        std::mem::take(&mut self.tools)
                            .into_iter()
                            .partition(|c| ends(&c.key));
                    self.tools = open;
                    for call in ended {
                        Self::scan_tool_call(detector, ctx, location, call, out);
                    }
                }
            }
        }
    }

    /// The open tool call `key`, opened if new (ending the oldest when too
    /// many are open).
    fn tool(
        &mut self,
        detector: &Detector,
        ctx: &ScanContext,
        location: &str,
        key: &str,
        out: &mut Vec<Finding>,
    ) -> &mut ToolCall {
        let at = match self.tools.iter().position(|c| c.key == key) {
            Some(i) => i,
            None => {
                if self.tools.len() >= MAX_OPEN_TOOL_CALLS {
                    let oldest = self.tools.remove(0);
                    Self::scan_tool_call(detector, ctx, location, oldest, out);
                }
                self.tools.push(ToolCall {
                    key: key.to_owned(),
                    name: String::new(),
                    args: Vec::new(),
                });
                self.tools.len() - 1
            }
        };
        &mut self.tools[at]
    }

    /// Scans one complete tool call's arguments (their JSON string values,
    /// escapes decoded). Inbound, what matches is a `model_tool_call`: the
    /// agent is about to run it.
    fn scan_tool_call(
        detector: &Detector,
        ctx: &ScanContext,
        location: &str,
        call: ToolCall,
        out: &mut Vec<Finding>,
    ) {
        if call.args.is_empty() {
            return;
        }
        let text = match serde_json::from_slice::<serde_json::Value>(&call.args) {
            Ok(v) => {
                let mut s = String::new();
                event_stream::string_values(&v, &mut s, 0);
                s.into_bytes()
            }
            Err(_) => call.args,
        };
        let name: String = call
            .name
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
            .take(64)
            .collect();
        let location = if name.is_empty() {
            format!("{location}:tool_call")
        } else {
            format!("{location}:tool_call:{name}")
        };
        for mut f in detector.scan_detached(ctx, &location, &text, "stream>tool_call") {
            if ctx.direction == Direction::Inbound {
                f.rule = Some(std::mem::replace(
                    &mut f.pattern,
                    MODEL_TOOL_CALL.to_owned(),
                ));
            }
            out.push(f);
        }
    }
}

/// A finding with where its match starts in the raw (undecoded) scanned
/// text, for locating it in a JSON document.
struct Located {
    finding: Finding,
    raw_start: Option<usize>,
}

/// Turns `location` into `location:json:<path>` for findings whose match
/// starts inside a JSON document beginning at the start of `text`. The
/// document is parsed only up to the last finding, and only when there are
/// findings: text without findings is never parsed.
fn locate_in_json(text: &[u8], location: &str, mut located: Vec<Located>) -> Vec<Finding> {
    let mut order: Vec<(usize, usize)> = located
        .iter()
        .enumerate()
        .filter_map(|(i, l)| Some((l.raw_start?, i)))
        .collect();
    if !order.is_empty() {
        order.sort_unstable();
        let mut tracker = JsonLocator::new();
        let mut pos = 0;
        for (start, i) in order {
            let start = start.min(text.len());
            tracker.advance(text.get(pos..start).unwrap_or_default());
            pos = pos.max(start);
            if let (Some(path), Some(l)) = (tracker.path(), located.get_mut(i)) {
                l.finding.location = format!("{location}:json:{path}");
            }
        }
    }
    located.into_iter().map(|l| l.finding).collect()
}

#[cfg(test)]
mod tests;
