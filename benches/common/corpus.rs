//! A realistic benchmark corpus, built at bench time from what is on this
//! machine (nothing is downloaded) and from generators fed with that text.
//!
//! Classes (see [`Class`]): prose documentation, source code, JSON API
//! traffic (chat-completion requests and responses, SSE delta streams,
//! GitHub API answers, npm registry documents, the real package-lock files),
//! HTML pages, minified JavaScript, base64-heavy bodies (data URIs of real
//! images, JSON carrying generated fake JWTs, base64 file contents) and
//! binary bodies (real PNG, gzip and ELF bytes).
//!
//! Deterministic: directory walks are sorted, files are picked in an order
//! fixed by a seeded hash of their path relative to the walked root, and the
//! generators use a fixed-seed xorshift. Every class is capped in size.
//!
//! No secret can come in from the usual places: nothing is read from `/etc`
//! or from dotfiles of `$HOME`; the only directories walked are
//! `/usr/share/doc`, `/usr/share` (images), `/usr/bin` (ELF), the project's
//! `node_modules` and `~/.cargo/registry/src`; below them any hidden path
//! component and any file whose name looks like key material or credentials
//! is skipped ([`is_excluded`]). JWTs are generated here and fake.
//!
//! One module, used by the scanner bench (`benches/scanner.rs`), the proxy
//! bench (`benches/proxy.rs`, through `common`), the `scan_corpus` example
//! and the corpus test (`tests/bench_corpus.rs`), each with `#[path]`/`mod`.
#![allow(dead_code)]

use std::fmt::Write as _;
use std::io::Read as _;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use serde_json::{json, Value};

/// Default size cap of one class (bytes).
pub const CLASS_CAP: usize = 4 << 20;
/// The piece size the proxy feeds the detector (default `max_scan_bytes`).
pub const PIECE: usize = 1 << 20;
/// At most this much is taken from one file, so a class mixes many files.
const FILE_CAP: usize = 96 << 10;
/// Seed of every choice the builder makes.
const SEED: u64 = 0x7261_6666_6963_2d67;

/// What kind of body a class imitates.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Class {
    Docs,
    Code,
    ApiJson,
    Html,
    MinifiedJs,
    Base64,
    Binary,
}

impl Class {
    pub const ALL: [Class; 7] = [
        Class::Docs,
        Class::Code,
        Class::ApiJson,
        Class::Html,
        Class::MinifiedJs,
        Class::Base64,
        Class::Binary,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Class::Docs => "docs",
            Class::Code => "code",
            Class::ApiJson => "api_json",
            Class::Html => "html",
            Class::MinifiedJs => "minified_js",
            Class::Base64 => "base64",
            Class::Binary => "binary",
        }
    }

    /// The `content-type` a body of this class would carry.
    pub fn content_type(self) -> &'static str {
        match self {
            Class::Docs => "text/plain; charset=utf-8",
            Class::Code => "text/plain; charset=utf-8",
            Class::ApiJson | Class::Base64 => "application/json",
            Class::Html => "text/html; charset=utf-8",
            Class::MinifiedJs => "application/javascript",
            Class::Binary => "application/octet-stream",
        }
    }
}

/// Where the builder reads from. [`Sources::machine`] gives the defaults.
#[derive(Clone, Debug)]
pub struct Sources {
    pub doc_root: PathBuf,
    pub share_root: PathBuf,
    pub bin_root: PathBuf,
    pub node_modules: PathBuf,
    pub cargo_src: Option<PathBuf>,
    /// Real package-lock files (the project's own).
    pub lockfiles: Vec<PathBuf>,
}

impl Sources {
    /// This machine: `/usr/share/doc`, `/usr/share`, `/usr/bin`, the
    /// project's `node_modules` and lock files, `~/.cargo/registry/src`.
    pub fn machine() -> Sources {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        let cargo_home = std::env::var_os("CARGO_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")));
        Sources {
            doc_root: "/usr/share/doc".into(),
            share_root: "/usr/share".into(),
            bin_root: "/usr/bin".into(),
            node_modules: root.join("node_modules"),
            cargo_src: cargo_home.map(|c| c.join("registry").join("src")),
            lockfiles: vec![
                root.join("package-lock.json"),
                root.join("node_modules").join(".package-lock.json"),
            ],
        }
    }
}

/// One class: its bytes (documents joined by `\n`) and how many files fed it.
#[derive(Clone, Debug)]
pub struct ClassCorpus {
    pub class: Class,
    pub bytes: Vec<u8>,
    pub files: usize,
}

impl ClassCorpus {
    /// Consecutive pieces of at most `size` bytes, as a proxy feeds a body.
    pub fn pieces(&self, size: usize) -> impl Iterator<Item = &[u8]> {
        self.bytes.chunks(size.max(1))
    }
}

/// The whole corpus, one entry per [`Class`] in [`Class::ALL`] order.
#[derive(Clone, Debug)]
pub struct Corpus {
    pub classes: Vec<ClassCorpus>,
}

impl Corpus {
    pub fn get(&self, class: Class) -> Option<&ClassCorpus> {
        self.classes.iter().find(|c| c.class == class)
    }
}

/// Builds every class, each capped at `cap` bytes.
pub fn build(src: &Sources, cap: usize) -> Corpus {
    let docs = docs(src, cap);
    let prose = String::from_utf8_lossy(&docs.bytes).into_owned();
    let classes = vec![
        docs,
        code(src, cap),
        api_json(src, cap, &prose),
        html(src, cap),
        minified_js(src, cap),
        base64_heavy(src, cap, &prose),
        binary(src, cap),
    ];
    Corpus { classes }
}

// ---------------------------------------------------------------- files

/// Whether a path (relative to a walked root) must never be read: hidden
/// components (dotfiles, `.git`, `.env`…) and names that look like keys or
/// credentials.
pub fn is_excluded(rel: &Path) -> bool {
    const NAMES: &[&str] = &[
        "credential",
        "secret",
        "password",
        "passwd",
        "token",
        "private",
        "id_rsa",
        "id_dsa",
        "id_ecdsa",
        "id_ed25519",
        "netrc",
        "npmrc",
        "htpasswd",
        "keystore",
        "keychain",
    ];
    const EXTS: &[&str] = &[
        ".pem", ".key", ".p12", ".pfx", ".jks", ".crt", ".cer", ".der", ".asc", ".gpg", ".kdbx",
    ];
    rel.components().any(|c| {
        let s = c.as_os_str().to_string_lossy().to_ascii_lowercase();
        s.starts_with('.')
            || NAMES.iter().any(|n| s.contains(n))
            || EXTS.iter().any(|e| s.ends_with(e))
    })
}

/// Every regular file under `root` (no symlinks followed), relative paths
/// sorted, excluded paths left out, keeping those `keep` accepts. Each root is
/// listed once per process (the classes share `node_modules` and `/usr/share`).
fn walk(root: &Path, keep: &dyn Fn(&Path) -> bool) -> Vec<PathBuf> {
    use std::collections::HashMap;
    use std::sync::{Arc, Mutex, OnceLock};
    static LISTED: OnceLock<Mutex<HashMap<PathBuf, Arc<Vec<PathBuf>>>>> = OnceLock::new();
    let listed = LISTED.get_or_init(Default::default);
    let cached = listed.lock().ok().and_then(|m| m.get(root).cloned());
    let all = match cached {
        Some(all) => all,
        None => {
            let all = Arc::new(list(root));
            if let Ok(mut m) = listed.lock() {
                m.insert(root.to_path_buf(), Arc::clone(&all));
            }
            all
        }
    };
    all.iter().filter(|p| keep(p)).cloned().collect()
}

fn list(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![PathBuf::new()];
    while let Some(rel) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(root.join(&rel)) else {
            continue;
        };
        for e in rd.filter_map(Result::ok) {
            let r = rel.join(e.file_name());
            if is_excluded(&r) {
                continue;
            }
            let Ok(ft) = e.file_type() else { continue };
            if ft.is_dir() {
                stack.push(r);
            } else if ft.is_file() {
                out.push(r);
            }
        }
    }
    out.sort();
    out
}

/// FNV-1a of `bytes`, seeded: the order in which files are picked.
fn hash(seed: u64, bytes: &[u8]) -> u64 {
    let mut h = 0xcbf2_9ce4_8422_2325 ^ seed;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// `files` in a fixed pseudo-random order (so a class mixes packages).
fn shuffled(mut files: Vec<PathBuf>, seed: u64) -> Vec<PathBuf> {
    files.sort_by_cached_key(|p| (hash(seed, p.as_os_str().as_encoded_bytes()), p.clone()));
    files
}

/// At most `cap` bytes of a file; `.gz` files are inflated.
fn read_capped(path: &Path, cap: usize) -> Option<Vec<u8>> {
    let f = std::fs::File::open(path).ok()?;
    let mut out = Vec::new();
    let limit = cap as u64;
    if path.extension().is_some_and(|e| e == "gz") {
        flate2::read::GzDecoder::new(f)
            .take(limit)
            .read_to_end(&mut out)
            .ok()?;
    } else {
        f.take(limit).read_to_end(&mut out).ok()?;
    }
    (!out.is_empty()).then_some(out)
}

/// Appends files (in the given order, each capped) until `cap` is reached.
fn fill(
    out: &mut Vec<u8>,
    root: &Path,
    files: &[PathBuf],
    cap: usize,
    accept: &dyn Fn(&[u8]) -> bool,
) -> usize {
    let mut used = 0;
    for rel in files {
        if out.len() >= cap {
            break;
        }
        let Some(data) = read_capped(&root.join(rel), FILE_CAP) else {
            continue;
        };
        if !accept(&data) {
            continue;
        }
        let room = cap - out.len();
        out.extend_from_slice(&data[..data.len().min(room)]);
        if out.len() < cap {
            out.push(b'\n');
        }
        used += 1;
    }
    out.truncate(cap);
    used
}

fn name_of(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default()
}

fn ext_in(p: &Path, exts: &[&str]) -> bool {
    let n = name_of(p);
    exts.iter().any(|e| n.ends_with(e))
}

/// Text, not binary: no NUL and (almost) valid UTF-8 in the first 4 KiB.
fn is_text(d: &[u8]) -> bool {
    let sample = &d[..d.len().min(4096)];
    !sample.contains(&0)
        && String::from_utf8_lossy(sample)
            .chars()
            .filter(|c| *c == '\u{fffd}')
            .count()
            < 4
}

/// Mean line length: minified and bundled files have very long lines.
fn mean_line(d: &[u8]) -> usize {
    d.len() / (memchr::memchr_iter(b'\n', d).count() + 1)
}

// ---------------------------------------------------------------- classes

fn docs(src: &Sources, cap: usize) -> ClassCorpus {
    let doc_files = walk(&src.doc_root, &|p| {
        let n = name_of(p);
        ext_in(p, &[".txt", ".md", ".rst", ".txt.gz", ".md.gz"])
            || n.starts_with("readme")
            || n.starts_with("changelog")
            || n.starts_with("news")
            || n == "copyright"
    });
    let nm_files = walk(&src.node_modules, &|p| {
        let n = name_of(p);
        (n.starts_with("readme") || n.starts_with("changelog") || n.starts_with("history"))
            && ext_in(p, &[".md", ".markdown", ".txt"])
    });
    let mut bytes = Vec::with_capacity(cap);
    let mut files = fill(
        &mut bytes,
        &src.doc_root,
        &shuffled(doc_files, SEED),
        cap / 2,
        &is_text,
    );
    files += fill(
        &mut bytes,
        &src.node_modules,
        &shuffled(nm_files, SEED),
        cap,
        &is_text,
    );
    ClassCorpus {
        class: Class::Docs,
        bytes,
        files,
    }
}

fn code(src: &Sources, cap: usize) -> ClassCorpus {
    let js = walk(&src.node_modules, &|p| {
        ext_in(p, &[".js", ".mjs", ".cjs", ".ts"])
            && !ext_in(p, &[".min.js", ".d.ts"])
            && !p.components().any(|c| c.as_os_str() == "dist")
    });
    let mut bytes = Vec::with_capacity(cap);
    let js_cap = if src.cargo_src.is_some() {
        cap / 2
    } else {
        cap
    };
    let mut files = fill(
        &mut bytes,
        &src.node_modules,
        &shuffled(js, SEED),
        js_cap,
        &|d| is_text(d) && mean_line(d) < 120,
    );
    if let Some(cargo) = &src.cargo_src {
        let rs = walk(cargo, &|p| ext_in(p, &[".rs"]));
        files += fill(&mut bytes, cargo, &shuffled(rs, SEED), cap, &is_text);
    }
    ClassCorpus {
        class: Class::Code,
        bytes,
        files,
    }
}

fn html(src: &Sources, cap: usize) -> ClassCorpus {
    let pages = walk(&src.doc_root, &|p| {
        ext_in(p, &[".html", ".htm", ".html.gz"])
    });
    let mut bytes = Vec::with_capacity(cap);
    let mut files = fill(
        &mut bytes,
        &src.doc_root,
        &shuffled(pages, SEED),
        cap,
        &is_text,
    );
    if bytes.len() < cap {
        let more = walk(&src.node_modules, &|p| ext_in(p, &[".html", ".htm"]));
        files += fill(
            &mut bytes,
            &src.node_modules,
            &shuffled(more, SEED),
            cap,
            &is_text,
        );
    }
    ClassCorpus {
        class: Class::Html,
        bytes,
        files,
    }
}

fn minified_js(src: &Sources, cap: usize) -> ClassCorpus {
    let bundles = walk(&src.node_modules, &|p| {
        ext_in(p, &[".min.js", ".min.mjs"])
            || ext_in(p, &[".js", ".mjs", ".cjs"])
                && p.components()
                    .any(|c| matches!(c.as_os_str().to_str(), Some("dist" | "umd" | "bundle")))
    });
    let mut bytes = Vec::with_capacity(cap);
    let files = fill(
        &mut bytes,
        &src.node_modules,
        &shuffled(bundles, SEED),
        cap,
        &|d| is_text(d) && (mean_line(d) >= 200 || d.len() >= 32 << 10),
    );
    ClassCorpus {
        class: Class::MinifiedJs,
        bytes,
        files,
    }
}

fn binary(src: &Sources, cap: usize) -> ClassCorpus {
    let pngs = walk(&src.share_root, &|p| ext_in(p, &[".png"]));
    let gz = walk(&src.doc_root, &|p| ext_in(p, &[".gz"]));
    let elf = walk(&src.bin_root, &|_| true);
    let mut bytes = Vec::with_capacity(cap);
    let raw = |p: &Path| -> Option<Vec<u8>> {
        let f = std::fs::File::open(p).ok()?;
        let mut out = Vec::new();
        f.take(FILE_CAP as u64).read_to_end(&mut out).ok()?;
        Some(out)
    };
    let mut files = 0;
    for (root, list, magic, share) in [
        (&src.share_root, pngs, &b"\x89PNG"[..], cap / 3),
        (&src.doc_root, gz, &b"\x1f\x8b"[..], 2 * cap / 3),
        (&src.bin_root, elf, &b"\x7fELF"[..], cap),
    ] {
        for rel in shuffled(list, SEED) {
            if bytes.len() >= share {
                break;
            }
            let Some(d) = raw(&root.join(&rel)) else {
                continue;
            };
            if !d.starts_with(magic) {
                continue;
            }
            bytes.extend_from_slice(&d[..d.len().min(share - bytes.len())]);
            files += 1;
        }
    }
    ClassCorpus {
        class: Class::Binary,
        bytes,
        files,
    }
}

// ---------------------------------------------------------------- generators

/// xorshift64*: reproducible across runs and machines.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed | 1)
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }

    fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + self.below(hi - lo + 1)
    }

    fn hex(&mut self, n: usize) -> String {
        let mut s = String::with_capacity(n);
        while s.len() < n {
            let _ = write!(s, "{:016x}", self.next_u64());
        }
        s.truncate(n);
        s
    }

    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next_u64() as u8).collect()
    }
}

/// Cuts of real prose: `take(n)` returns the next `n` characters (cycling).
pub struct Prose<'a> {
    text: &'a str,
    at: usize,
}

impl<'a> Prose<'a> {
    pub fn new(text: &'a str) -> Self {
        Prose { text, at: 0 }
    }

    pub fn take(&mut self, n: usize) -> String {
        if self.text.is_empty() {
            return "lorem ipsum ".repeat(n / 12 + 1)[..n].to_string();
        }
        let mut out = String::with_capacity(n + 4);
        while out.chars().count() < n {
            if self.at >= self.text.len() {
                self.at = 0;
            }
            let rest = &self.text[self.at..];
            let Some(c) = rest.chars().next() else {
                self.at = 0;
                continue;
            };
            self.at += c.len_utf8();
            out.push(c);
        }
        out
    }
}

/// Real `package.json` manifests (parsed) from `node_modules`, sorted.
fn manifests(src: &Sources, max: usize) -> Vec<Value> {
    let files = walk(&src.node_modules, &|p| name_of(p) == "package.json");
    shuffled(files, SEED)
        .into_iter()
        .filter_map(|rel| {
            let d = read_capped(&src.node_modules.join(rel), 256 << 10)?;
            let v: Value = serde_json::from_slice(&d).ok()?;
            (v.get("name")?.is_string() && v.get("version")?.is_string()).then_some(v)
        })
        .take(max)
        .collect()
}

fn ts(rng: &mut Rng) -> String {
    format!(
        "20{:02}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        20 + rng.below(6),
        1 + rng.below(12),
        1 + rng.below(28),
        rng.below(24),
        rng.below(60),
        rng.below(60)
    )
}

/// One turn of a chat conversation: a user or assistant message, or (every
/// third turn) an assistant tool call and the tool's answer.
fn chat_turn(rng: &mut Rng, prose: &mut Prose, i: usize) -> Vec<Value> {
    if i % 3 == 2 {
        let id = format!("call_{}", rng.hex(24));
        let args = json!({"query": prose.take(40), "limit": 5}).to_string();
        vec![
            json!({"role": "assistant", "content": null, "tool_calls": [{
                "id": id, "type": "function",
                "function": {"name": "search_docs", "arguments": args}}]}),
            json!({"role": "tool", "tool_call_id": id, "content": prose.take(rng.range(300, 2000))}),
        ]
    } else {
        let role = if i.is_multiple_of(2) {
            "user"
        } else {
            "assistant"
        };
        vec![json!({"role": role, "content": prose.take(rng.range(80, 1500))})]
    }
}

/// An OpenAI `/v1/chat/completions` request envelope around `messages`.
fn chat_envelope(prose: &mut Prose, messages: Vec<Value>) -> Value {
    json!({
        "model": "gpt-4o-mini",
        "messages": messages,
        "temperature": 0.2,
        "max_tokens": 2048,
        "stream": false,
        "tools": [
            {"type": "function", "function": {"name": "search_docs", "description": prose.take(120),
                "parameters": {"type": "object", "properties": {
                    "query": {"type": "string", "description": "What to look for"},
                    "limit": {"type": "integer", "minimum": 1, "maximum": 50}}, "required": ["query"]}}},
            {"type": "function", "function": {"name": "read_file", "description": prose.take(100),
                "parameters": {"type": "object", "properties": {
                    "path": {"type": "string"}, "start_line": {"type": "integer"}}, "required": ["path"]}}}
        ]
    })
}

/// An OpenAI `/v1/chat/completions` request with a conversation and tools.
pub fn chat_request(rng: &mut Rng, prose: &mut Prose, turns: usize) -> Value {
    let mut messages = vec![json!({"role": "system", "content": prose.take(rng.range(200, 800))})];
    for i in 0..turns {
        messages.extend(chat_turn(rng, prose, i));
    }
    chat_envelope(prose, messages)
}

/// One content block of a Messages API response: text, or every fourth a tool_use.
fn response_block(rng: &mut Rng, prose: &mut Prose, i: usize) -> Value {
    if i % 4 == 3 {
        let file: String = prose
            .take(8)
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect();
        json!({"type": "tool_use", "id": format!("toolu_01{}", rng.hex(22)), "name": "read_file",
               "input": {"path": format!("src/{file}.rs"), "start_line": rng.below(400)}})
    } else {
        json!({"type": "text", "text": prose.take(rng.range(200, 3000))})
    }
}

/// An Anthropic Messages API response envelope around `content`.
fn response_envelope(rng: &mut Rng, content: Vec<Value>) -> Value {
    json!({
        "id": format!("msg_01{}", rng.hex(22)),
        "type": "message",
        "role": "assistant",
        "model": "claude-sonnet-4-5",
        "content": content,
        "stop_reason": "end_turn",
        "stop_sequence": null,
        "usage": {"input_tokens": rng.range(100, 90000), "output_tokens": rng.range(10, 4000),
                  "cache_creation_input_tokens": 0, "cache_read_input_tokens": rng.below(50000)}
    })
}

/// An Anthropic Messages API response with text and tool_use content blocks.
pub fn messages_response(rng: &mut Rng, prose: &mut Prose, blocks: usize) -> Value {
    let content = (0..blocks).map(|i| response_block(rng, prose, i)).collect();
    response_envelope(rng, content)
}

/// An SSE stream of `chat.completion.chunk` deltas of 3–12 characters.
fn openai_sse(rng: &mut Rng, prose: &mut Prose, events: usize) -> String {
    let id = format!("chatcmpl-{}", rng.hex(29));
    let created = 1_735_000_000 + rng.below(30_000_000);
    let mut s = String::new();
    for i in 0..events {
        let delta = if i == 0 {
            json!({"role": "assistant", "content": ""})
        } else {
            json!({"content": prose.take(rng.range(3, 12))})
        };
        let chunk = json!({"id": id, "object": "chat.completion.chunk", "created": created,
            "model": "gpt-4o-mini-2024-07-18", "system_fingerprint": format!("fp_{}", rng.hex(10)),
            "choices": [{"index": 0, "delta": delta, "logprobs": null, "finish_reason": null}]});
        let _ = write!(s, "data: {chunk}\n\n");
    }
    s.push_str("data: [DONE]\n\n");
    s
}

/// An Anthropic Messages SSE stream (`content_block_delta` text deltas).
fn anthropic_sse(rng: &mut Rng, prose: &mut Prose, events: usize) -> String {
    let mut s = String::new();
    let start = json!({"type": "message_start", "message": {"id": format!("msg_01{}", rng.hex(22)),
        "type": "message", "role": "assistant", "model": "claude-sonnet-4-5", "content": [],
        "stop_reason": null, "usage": {"input_tokens": rng.range(50, 9000), "output_tokens": 1}}});
    let _ = write!(s, "event: message_start\ndata: {start}\n\n");
    let _ = write!(s, "event: content_block_start\ndata: {{\"type\":\"content_block_start\",\"index\":0,\"content_block\":{{\"type\":\"text\",\"text\":\"\"}}}}\n\n");
    for i in 0..events {
        if (i + 1).is_multiple_of(40) {
            s.push_str("event: ping\ndata: {\"type\": \"ping\"}\n\n");
        }
        let d = json!({"type": "content_block_delta", "index": 0,
                       "delta": {"type": "text_delta", "text": prose.take(rng.range(3, 12))}});
        let _ = write!(s, "event: content_block_delta\ndata: {d}\n\n");
    }
    s.push_str(
        "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n",
    );
    let _ = write!(s, "event: message_delta\ndata: {{\"type\":\"message_delta\",\"delta\":{{\"stop_reason\":\"end_turn\",\"stop_sequence\":null}},\"usage\":{{\"output_tokens\":{events}}}}}\n\n");
    s.push_str("event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n");
    s
}

fn gh_user(rng: &mut Rng, login: &str) -> Value {
    let id = rng.range(1000, 99_999_999);
    json!({"login": login, "id": id, "node_id": format!("MDQ6VXNlcj{}", rng.hex(8)),
        "avatar_url": format!("https://avatars.githubusercontent.com/u/{id}?v=4"), "gravatar_id": "",
        "url": format!("https://api.github.com/users/{login}"),
        "html_url": format!("https://github.com/{login}"),
        "followers_url": format!("https://api.github.com/users/{login}/followers"),
        "repos_url": format!("https://api.github.com/users/{login}/repos"),
        "type": "User", "site_admin": false})
}

fn login_of(name: &str) -> String {
    name.trim_start_matches('@')
        .split('/')
        .next()
        .unwrap_or("octocat")
        .to_string()
}

/// A GitHub `GET /orgs/{org}/repos` answer built from real package manifests.
fn github_repos(rng: &mut Rng, pkgs: &[Value]) -> Value {
    Value::Array(
        pkgs.iter()
            .map(|p| {
                let name = p["name"].as_str().unwrap_or("repo");
                let owner = login_of(name);
                let repo = name.rsplit('/').next().unwrap_or(name);
                let full = format!("{owner}/{repo}");
                let api = format!("https://api.github.com/repos/{full}");
                json!({"id": rng.range(1_000_000, 900_000_000), "node_id": format!("R_kgDO{}", rng.hex(8)),
                    "name": repo, "full_name": full, "private": false, "owner": gh_user(rng, &owner),
                    "html_url": format!("https://github.com/{full}"), "description": p.get("description").cloned().unwrap_or(Value::Null),
                    "fork": false, "url": api, "issues_url": format!("{api}/issues{{/number}}"),
                    "pulls_url": format!("{api}/pulls{{/number}}"), "contents_url": format!("{api}/contents/{{+path}}"),
                    "created_at": ts(rng), "updated_at": ts(rng), "pushed_at": ts(rng),
                    "homepage": p.get("homepage").cloned().unwrap_or(Value::Null),
                    "size": rng.below(200_000), "stargazers_count": rng.below(60_000), "watchers_count": rng.below(60_000),
                    "language": "TypeScript", "has_issues": true, "forks_count": rng.below(5000),
                    "open_issues_count": rng.below(900), "license": {"key": "mit", "name": "MIT License", "spdx_id": p.get("license").cloned().unwrap_or(Value::Null)},
                    "topics": p.get("keywords").cloned().unwrap_or(json!([])), "visibility": "public", "default_branch": "main"})
            })
            .collect(),
    )
}

/// A GitHub `GET /repos/{owner}/{repo}/issues` answer with prose bodies.
fn github_issues(rng: &mut Rng, prose: &mut Prose, n: usize) -> Value {
    Value::Array(
        (0..n)
            .map(|_| {
                let number = rng.range(1, 40_000);
                let api = "https://api.github.com/repos/nodejs/undici";
                json!({"url": format!("{api}/issues/{number}"), "id": rng.range(1_000_000, 3_000_000_000u64 as usize),
                    "number": number, "title": prose.take(rng.range(20, 80)), "user": gh_user(rng, "contributor"),
                    "labels": [{"id": rng.range(1, 9_999_999), "name": "bug", "color": "d73a4a", "default": true}],
                    "state": "open", "locked": false, "comments": rng.below(60), "created_at": ts(rng), "updated_at": ts(rng),
                    "author_association": "CONTRIBUTOR", "body": prose.take(rng.range(200, 4000)),
                    "reactions": {"total_count": rng.below(30), "+1": rng.below(20)}})
            })
            .collect(),
    )
}

/// An npm registry document (`GET /{package}`) built from a real manifest.
fn npm_document(rng: &mut Rng, prose: &mut Prose, pkg: &Value) -> Value {
    use sha2::Digest as _;
    let name = pkg["name"].as_str().unwrap_or("pkg");
    let latest = pkg["version"].as_str().unwrap_or("1.0.0");
    let mut versions = serde_json::Map::new();
    let mut time = serde_json::Map::new();
    for minor in 0..rng.range(2, 8) {
        let v = if minor == 0 {
            latest.to_string()
        } else {
            format!("0.{minor}.{}", rng.below(10))
        };
        let mut m = pkg.clone();
        let tarball = format!(
            "https://registry.npmjs.org/{name}/-/{}-{v}.tgz",
            name.rsplit('/').next().unwrap_or(name)
        );
        let digest = sha2::Sha512::digest(format!("{name}@{v}").as_bytes());
        if let Value::Object(o) = &mut m {
            o.insert("version".into(), json!(v));
            o.insert("_id".into(), json!(format!("{name}@{v}")));
            o.insert("dist".into(), json!({
                "integrity": format!("sha512-{}", base64::engine::general_purpose::STANDARD.encode(digest)),
                "shasum": rng.hex(40), "tarball": tarball, "fileCount": rng.range(3, 400), "unpackedSize": rng.range(1000, 4_000_000)}));
        }
        time.insert(v.clone(), json!(ts(rng)));
        versions.insert(v, m);
    }
    json!({"_id": name, "_rev": format!("{}-{}", rng.range(1, 900), rng.hex(32)), "name": name,
        "description": pkg.get("description").cloned().unwrap_or(Value::Null),
        "dist-tags": {"latest": latest}, "versions": versions, "time": time,
        "maintainers": [{"name": login_of(name), "email": format!("{}@users.noreply.example", login_of(name))}],
        "readme": prose.take(rng.range(500, 6000)), "readmeFilename": "README.md"})
}

fn api_json(src: &Sources, cap: usize, text: &str) -> ClassCorpus {
    let mut rng = Rng::new(SEED);
    let mut prose = Prose::new(text);
    let pkgs = manifests(src, 400);
    let mut bytes = Vec::with_capacity(cap);
    let mut files = 0;
    // The real package-lock files first (each at most a quarter of the class).
    for lock in &src.lockfiles {
        if let Some(d) = read_capped(lock, cap / 4) {
            bytes.extend_from_slice(&d);
            bytes.push(b'\n');
            files += 1;
        }
    }
    let mut i = 0usize;
    while bytes.len() < cap {
        let doc = match i % 7 {
            0 => chat_request(&mut rng, &mut prose, 12).to_string(),
            1 => messages_response(&mut rng, &mut prose, 8).to_string(),
            2 => openai_sse(&mut rng, &mut prose, 400),
            3 => anthropic_sse(&mut rng, &mut prose, 400),
            4 if !pkgs.is_empty() => {
                let at = rng.below(pkgs.len());
                let end = (at + 30).min(pkgs.len());
                github_repos(&mut rng, &pkgs[at..end]).to_string()
            }
            5 => github_issues(&mut rng, &mut prose, 30).to_string(),
            6 if !pkgs.is_empty() => {
                let p = &pkgs[rng.below(pkgs.len())];
                npm_document(&mut rng, &mut prose, p).to_string()
            }
            _ => chat_request(&mut rng, &mut prose, 6).to_string(),
        };
        bytes.extend_from_slice(doc.as_bytes());
        bytes.push(b'\n');
        i += 1;
    }
    bytes.truncate(cap);
    ClassCorpus {
        class: Class::ApiJson,
        bytes,
        files: files + pkgs.len(),
    }
}

fn b64(data: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(data)
}

fn b64url(data: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(data)
}

/// A generated, fake HS256 JWT (random signature; signs nothing real).
pub fn fake_jwt(rng: &mut Rng) -> String {
    let header = b64url(br#"{"alg":"HS256","typ":"JWT"}"#);
    let iat = 1_735_000_000 + rng.below(30_000_000);
    let claims = json!({"sub": format!("user_{}", rng.hex(12)), "iss": "https://auth.example.test",
        "aud": "bench", "iat": iat, "exp": iat + 3600, "scope": "read write"});
    let sig = b64url(&rng.bytes(32));
    format!("{header}.{}.{sig}", b64url(claims.to_string().as_bytes()))
}

fn base64_heavy(src: &Sources, cap: usize, text: &str) -> ClassCorpus {
    let mut rng = Rng::new(SEED ^ 0xb64);
    let mut prose = Prose::new(text);
    let pngs = shuffled(walk(&src.share_root, &|p| ext_in(p, &[".png"])), SEED);
    let texts = shuffled(
        walk(&src.doc_root, &|p| {
            ext_in(p, &[".txt", ".md"]) || name_of(p) == "copyright"
        }),
        SEED ^ 1,
    );
    let mut bytes = Vec::with_capacity(cap);
    let mut files = 0;
    let (mut png_i, mut text_i) = (0, 0);
    let mut i = 0usize;
    while bytes.len() < cap {
        let doc = match i % 3 {
            // An HTML fragment with an inline data-URI image (real PNG bytes).
            0 if png_i < pngs.len() => {
                let rel = &pngs[png_i];
                png_i += 1;
                let Some(d) = read_capped(&src.share_root.join(rel), FILE_CAP) else {
                    i += 1;
                    continue;
                };
                files += 1;
                format!(
                    "<figure><img alt=\"{}\" src=\"data:image/png;base64,{}\"><figcaption>{}</figcaption></figure>",
                    name_of(rel),
                    b64(&d),
                    prose.take(rng.range(20, 120))
                )
            }
            // A JSON session answer carrying generated fake JWTs.
            1 => json!({"token_type": "Bearer", "expires_in": 3600,
                "access_token": fake_jwt(&mut rng), "id_token": fake_jwt(&mut rng),
                "user": {"id": rng.hex(24), "name": prose.take(16)},
                "sessions": (0..rng.range(4, 20)).map(|_| json!({"id": rng.hex(16), "jwt": fake_jwt(&mut rng), "created_at": ts(&mut rng)})).collect::<Vec<_>>()})
            .to_string(),
            // A GitHub contents API answer: base64 of a real text file.
            _ if text_i < texts.len() => {
                let rel = &texts[text_i];
                text_i += 1;
                let Some(d) = read_capped(&src.doc_root.join(rel), 32 << 10) else {
                    i += 1;
                    continue;
                };
                files += 1;
                let mut wrapped = String::new();
                for line in b64(&d).as_bytes().chunks(60) {
                    wrapped.push_str(&String::from_utf8_lossy(line));
                    wrapped.push('\n');
                }
                json!({"type": "file", "encoding": "base64", "size": d.len(), "name": name_of(rel),
                    "path": rel.to_string_lossy(), "sha": rng.hex(40), "content": wrapped})
                .to_string()
            }
            _ => json!({"access_token": fake_jwt(&mut rng), "refresh_token": b64url(&rng.bytes(48))})
                .to_string(),
        };
        bytes.extend_from_slice(doc.as_bytes());
        bytes.push(b'\n');
        i += 1;
    }
    bytes.truncate(cap);
    ClassCorpus {
        class: Class::Base64,
        bytes,
        files,
    }
}

// ---------------------------------------------------------------- proxy payloads

/// Pads a JSON document with trailing spaces to exactly `len` bytes
/// (documents longer than `len` are returned as they are).
fn pad(mut s: String, len: usize) -> Vec<u8> {
    while s.len() < len {
        s.push(' ');
    }
    s.into_bytes()
}

/// Items from `next` while the serialized array still fits in `room` bytes.
fn fitting(room: usize, mut next: impl FnMut(usize) -> Vec<Value>) -> Vec<Value> {
    let mut items = Vec::new();
    let mut used = 2; // `[]`
    for i in 0.. {
        let more = next(i);
        let add: usize = more.iter().map(|v| v.to_string().len() + 1).sum();
        if used + add > room || i > 1_000_000 {
            break;
        }
        used += add;
        items.extend(more);
    }
    items
}

/// A realistic chat-completion JSON response (Anthropic Messages API, text
/// and tool_use blocks of real prose) of exactly `len` bytes.
pub fn chat_response_body(prose_text: &str, len: usize) -> Vec<u8> {
    let mut rng = Rng::new(SEED ^ 0xd0);
    let mut prose = Prose::new(prose_text);
    let base = response_envelope(&mut Rng::new(1), Vec::new())
        .to_string()
        .len()
        + 16;
    let content = fitting(len.saturating_sub(base), |i| {
        vec![response_block(&mut rng, &mut prose, i)]
    });
    pad(response_envelope(&mut rng, content).to_string(), len)
}

/// A realistic OpenAI chat-completion request (messages and tools, real
/// prose) of exactly `len` bytes.
pub fn chat_request_body(prose_text: &str, len: usize) -> Vec<u8> {
    let mut rng = Rng::new(SEED ^ 0xa1);
    let mut prose = Prose::new(prose_text);
    let base = chat_envelope(&mut Prose::new(prose_text), Vec::new())
        .to_string()
        .len()
        + 16;
    let messages = fitting(len.saturating_sub(base), |i| {
        chat_turn(&mut rng, &mut prose, i)
    });
    pad(chat_envelope(&mut prose, messages).to_string(), len)
}

/// The docs text the generators draw from (UTF-8, lossy), capped at `cap`.
pub fn prose(src: &Sources, cap: usize) -> String {
    String::from_utf8_lossy(&docs(src, cap).bytes).into_owned()
}
