//! A raw HTTP/1.x message, as saved from a proxy log or `curl -v`, parsed
//! with `httparse`.
//!
//! Saved messages are looser than wire messages, so the head is tidied
//! before `httparse` reads it: bare-LF line ends are accepted, folded
//! (obsolete multi-line) headers are unfolded, a head without its blank line
//! is ended, and an `HTTP/2` or `HTTP/1` version token (as `curl -v` prints
//! for an HTTP/2 exchange) is read as HTTP/1.1, the same text form. Header
//! lines that are not headers are skipped. A `Transfer-Encoding: chunked`
//! body is de-chunked with `httparse::parse_chunk_size`; a malformed one is
//! kept as it is. The `content-encoding` is left for the scanner to decode.

use super::{add_header, dest_from_url, Message};
use crate::core::finding::Direction;
use std::collections::BTreeMap;

/// The longest first line looked at to tell an HTTP message from a body.
const SNIFF_LINE: usize = 8192;
/// At most this many chunks are de-chunked; beyond, the body is kept as is.
const MAX_CHUNKS: usize = 1_000_000;
/// A head with more lines than this is not an HTTP head (real ones have tens).
pub const MAX_HEAD_LINES: usize = 100_000;

/// Which kind of HTTP message bytes start with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageKind {
    /// `METHOD TARGET HTTP/1.1`
    Request,
    /// `HTTP/1.1 200 OK`
    Response,
}

/// Why bytes could not be read as an HTTP message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HttpError {
    #[error("not an HTTP/1.x message: the first line is neither a request line (\"METHOD TARGET HTTP/1.1\") nor a status line (\"HTTP/1.1 200 OK\")")]
    NotHttp,
    /// `httparse` rejected a line of the head; `line` counts from 1.
    #[error("the head (up to the first blank line) has more than {max} lines; an HTTP head has tens", max = MAX_HEAD_LINES)]
    HeadTooLong,
    #[error("line {line} ({part}): {problem}")]
    Malformed {
        line: usize,
        part: &'static str,
        problem: httparse::Error,
    },
}

fn is_js_space(b: u8) -> bool {
    // `\s` of the Latin-1 text the first line is read as.
    matches!(b, b'\t' | b'\n' | 0x0b | 0x0c | b'\r' | b' ' | 0xa0)
}

/// `HTTP/<digit>` or `HTTP/<digit>.<digit>`, the whole of `v`.
fn is_version(v: &[u8]) -> bool {
    match v.strip_prefix(b"HTTP/") {
        Some([d]) => d.is_ascii_digit(),
        Some([d, b'.', m]) => d.is_ascii_digit() && m.is_ascii_digit(),
        _ => false,
    }
}

/// The first line, without its line end.
fn first_line(data: &[u8]) -> &[u8] {
    let end = memchr::memchr(b'\n', data).unwrap_or(data.len());
    let line = &data[..end];
    line.strip_suffix(b"\r").unwrap_or(line)
}

fn is_request_line(line: &[u8]) -> bool {
    let mut parts = line.splitn(3, |&b| b == b' ');
    let (Some(method), Some(target), Some(version)) = (parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    let method_ok = (2..=20).contains(&method.len())
        && method.first().is_some_and(u8::is_ascii_uppercase)
        && method[1..]
            .iter()
            .all(|&b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
    method_ok
        && !target.is_empty()
        && !target.iter().any(|&b| is_js_space(b))
        && is_version(version)
}

fn is_status_line(line: &[u8]) -> bool {
    let mut parts = line.splitn(3, |&b| b == b' ');
    let (Some(version), Some(code)) = (parts.next(), parts.next()) else {
        return false;
    };
    let reason_ok = parts.next().is_none_or(|r| !r.contains(&b'\r'));
    is_version(version) && code.len() == 3 && code.iter().all(u8::is_ascii_digit) && reason_ok
}

/// Whether the bytes start like an HTTP/1.x request or response (their
/// first line only; the rest may be anything).
pub fn message_kind(data: &[u8]) -> Option<MessageKind> {
    let line = first_line(&data[..data.len().min(SNIFF_LINE)]);
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    if is_request_line(line) {
        Some(MessageKind::Request)
    } else if is_status_line(line) {
        Some(MessageKind::Response)
    } else {
        None
    }
}

/// Where the head ends: the earliest blank line, and its length.
fn head_end(data: &[u8]) -> Option<(usize, usize)> {
    let crlf = memchr::memmem::find(data, b"\r\n\r\n");
    let lf = memchr::memmem::find(data, b"\n\n");
    match (crlf, lf) {
        (Some(c), Some(l)) if l < c => Some((l, 2)),
        (Some(c), _) => Some((c, 4)),
        (None, Some(l)) => Some((l, 2)),
        (None, None) => None,
    }
}

/// The first line as `httparse` takes it: the version token made HTTP/1.x.
fn normalised_first_line(line: &[u8], kind: MessageKind) -> Vec<u8> {
    let (before, version, after): (&[u8], &[u8], &[u8]) = match kind {
        MessageKind::Request => match line.iter().rposition(|&b| b == b' ') {
            Some(p) => (&line[..=p], &line[p + 1..], b""),
            None => (b"", line, b""),
        },
        MessageKind::Response => match line.iter().position(|&b| b == b' ') {
            Some(p) => (b"", &line[..p], &line[p..]),
            None => (b"", line, b""),
        },
    };
    let version: &[u8] = if version == b"HTTP/1.0" || version == b"HTTP/1.1" {
        version
    } else {
        b"HTTP/1.1"
    };
    [before, version, after].concat()
}

/// Header lines with folded continuations joined, each with the number of
/// the line it starts on (the first line of the message is line 1).
fn header_lines(rest: &[u8]) -> Vec<(usize, Vec<u8>)> {
    let mut out: Vec<(usize, Vec<u8>)> = Vec::new();
    for (i, raw) in rest.split(|&b| b == b'\n').enumerate() {
        let line = raw.strip_suffix(b"\r").unwrap_or(raw);
        let folded = matches!(line.first(), Some(b' ' | b'\t'));
        match out.last_mut() {
            Some((_, prev)) if folded => {
                let cont = line.trim_ascii();
                if !cont.is_empty() {
                    prev.push(b' ');
                    prev.extend_from_slice(cont);
                }
            }
            _ => out.push((i + 2, line.to_vec())),
        }
    }
    out
}

fn parser_config() -> httparse::ParserConfig {
    let mut c = httparse::ParserConfig::default();
    c.ignore_invalid_headers_in_requests(true)
        .ignore_invalid_headers_in_responses(true)
        .allow_spaces_after_header_name_in_responses(true);
    c
}

/// A parsed head: method, target, status, and the headers as text.
struct Head {
    method: Option<String>,
    target: Option<String>,
    status: Option<u16>,
    headers: Vec<(String, String)>,
}

fn latin1(bytes: &[u8]) -> String {
    bytes.iter().map(|&b| char::from(b)).collect()
}

/// Runs `httparse` over a tidied head (ending in a blank line).
fn parse_head(buf: &[u8], kind: MessageKind, header_count: usize) -> httparse::Result<Head> {
    let config = parser_config();
    let mut slots = vec![httparse::EMPTY_HEADER; header_count + 1];
    let collect = |headers: &[httparse::Header<'_>]| {
        headers
            .iter()
            .map(|h| (h.name.to_owned(), latin1(h.value).trim().to_owned()))
            .collect()
    };
    match kind {
        MessageKind::Request => {
            let mut req = httparse::Request::new(&mut slots);
            Ok(match config.parse_request(&mut req, buf)? {
                httparse::Status::Partial => httparse::Status::Partial,
                httparse::Status::Complete(_) => httparse::Status::Complete(Head {
                    method: req.method.map(str::to_owned),
                    target: req.path.map(str::to_owned),
                    status: None,
                    headers: collect(req.headers),
                }),
            })
        }
        MessageKind::Response => {
            let mut res = httparse::Response::new(&mut slots);
            Ok(match config.parse_response(&mut res, buf)? {
                httparse::Status::Partial => httparse::Status::Partial,
                httparse::Status::Complete(_) => httparse::Status::Complete(Head {
                    method: None,
                    target: None,
                    status: res.code,
                    headers: collect(res.headers),
                }),
            })
        }
    }
}

/// Which line `httparse` stopped at: each line is parsed alone after the
/// first, so the error names the line the operator has to look at.
fn locate_error(
    first: &[u8],
    lines: &[(usize, Vec<u8>)],
    kind: MessageKind,
    problem: httparse::Error,
) -> HttpError {
    let part = match kind {
        MessageKind::Request => "the request line",
        MessageKind::Response => "the status line",
    };
    let alone = [first, b"\r\n\r\n"].concat();
    if let Err(e) = parse_head(&alone, kind, 0) {
        return HttpError::Malformed {
            line: 1,
            part,
            problem: e,
        };
    }
    for (no, line) in lines {
        let buf = [first, b"\r\n", line, b"\r\n\r\n"].concat();
        if let Err(e) = parse_head(&buf, kind, 1) {
            return HttpError::Malformed {
                line: *no,
                part: "a header",
                problem: e,
            };
        }
    }
    HttpError::Malformed {
        line: 1,
        part,
        problem,
    }
}

/// Whether a `transfer-encoding` value names `chunked` (as a whole word).
fn names_chunked(value: &str) -> bool {
    let v = value.to_ascii_lowercase();
    let word = |b: Option<&u8>| b.is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_');
    v.match_indices("chunked").any(|(at, w)| {
        let bytes = v.as_bytes();
        !word(at.checked_sub(1).and_then(|i| bytes.get(i))) && !word(bytes.get(at + w.len()))
    })
}

/// Decodes `Transfer-Encoding: chunked`; `None` when malformed. A last
/// chunk cut short keeps what is there.
fn dechunk(body: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(body.len());
    let mut pos = 0usize;
    for _ in 0..MAX_CHUNKS {
        let rest = body.get(pos..)?;
        let nl = memchr::memchr(b'\n', rest)?;
        let line = &rest[..nl];
        let line = line.strip_suffix(b"\r").unwrap_or(line).trim_ascii();
        if !line.first().is_some_and(u8::is_ascii_hexdigit) {
            return None;
        }
        // httparse wants CRLF; saved messages may have bare LF.
        let size = match httparse::parse_chunk_size(&[line, b"\r\n"].concat()) {
            Ok(httparse::Status::Complete((_, size))) => size,
            _ => return None,
        };
        pos += nl + 1;
        if size == 0 {
            return Some(out);
        }
        let data = body.get(pos..).unwrap_or_default();
        let take = usize::try_from(size).map_or(data.len(), |s| s.min(data.len()));
        out.extend_from_slice(&data[..take]);
        if take < usize::try_from(size).unwrap_or(usize::MAX) {
            return Some(out);
        }
        pos += take;
        if body.get(pos) == Some(&b'\r') {
            pos += 1;
        }
        if body.get(pos) == Some(&b'\n') {
            pos += 1;
        }
    }
    None
}

/// `host:port` from a `Host` header; `None` when it is not one.
fn dest_from_host(host: &str, default_port: u16) -> Option<String> {
    let h = host.trim();
    if h.is_empty() || h.chars().any(|c| c.is_whitespace() || c == '/' || c == '@') {
        return None;
    }
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let bracketed = |s: &str| {
        s.strip_prefix('[')
            .and_then(|s| s.strip_suffix(']'))
            .is_some_and(|inner| !inner.is_empty() && !inner.contains(']'))
    };
    // `[v6]:port` or `name:port`
    if let Some((host_part, port)) = h.rsplit_once(':') {
        if digits(port)
            && (bracketed(host_part) || (!host_part.is_empty() && !host_part.contains(':')))
        {
            return Some(h.to_owned());
        }
    }
    if bracketed(h) || !h.contains(':') {
        return Some(format!("{h}:{default_port}"));
    }
    None
}

/// Whether a request target is an absolute URL (`scheme://…`).
fn is_absolute(target: &str) -> bool {
    let Some((scheme, _)) = target.split_once("://") else {
        return false;
    };
    let mut b = scheme.bytes();
    b.next().is_some_and(|c| c.is_ascii_alphabetic())
        && b.all(|c| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'.' | b'-'))
}

/// Parses one raw HTTP/1.x message (the head up to the first blank line,
/// the rest its body). Never panics; errors say which line is wrong.
pub fn parse_http_message(data: &[u8]) -> Result<Message, HttpError> {
    let kind = message_kind(data).ok_or(HttpError::NotHttp)?;
    let (head, body) = match head_end(data) {
        Some((at, sep)) => (&data[..at], data.get(at + sep..).unwrap_or_default()),
        None => (data, &[][..]),
    };
    let first = first_line(head);
    let rest = match memchr::memchr(b'\n', head) {
        Some(nl) => &head[nl + 1..],
        None => &[][..],
    };
    if memchr::memchr_iter(b'\n', rest).count() >= MAX_HEAD_LINES {
        return Err(HttpError::HeadTooLong);
    }
    let first = normalised_first_line(first, kind);
    let lines = if rest.is_empty() {
        Vec::new()
    } else {
        header_lines(rest)
    };
    let mut buf = first.clone();
    buf.extend_from_slice(b"\r\n");
    for (_, line) in &lines {
        buf.extend_from_slice(line);
        buf.extend_from_slice(b"\r\n");
    }
    buf.extend_from_slice(b"\r\n");
    let parsed = match parse_head(&buf, kind, lines.len()) {
        Ok(httparse::Status::Complete(h)) => h,
        // The buffer ends in a blank line, so the head is complete.
        Ok(httparse::Status::Partial) => {
            return Err(locate_error(&first, &lines, kind, httparse::Error::NewLine))
        }
        Err(e) => return Err(locate_error(&first, &lines, kind, e)),
    };
    let mut headers = BTreeMap::new();
    for (name, value) in &parsed.headers {
        add_header(&mut headers, name, value);
    }
    let mut body = body.to_vec();
    if headers
        .get("transfer-encoding")
        .is_some_and(|v| names_chunked(v))
    {
        if let Some(decoded) = dechunk(&body) {
            body = decoded;
            headers.remove("transfer-encoding");
        }
    }
    match kind {
        MessageKind::Request => {
            let target = parsed.target.unwrap_or_else(|| "/".to_owned());
            let mut url = target.clone();
            let mut dest = if is_absolute(&target) {
                dest_from_url(&target)
            } else {
                None
            };
            if dest.is_none() {
                if let Some(host) = headers.get("host") {
                    dest = dest_from_host(host, 80);
                    if dest.is_some() && target.starts_with('/') {
                        url = format!("http://{}{target}", host.trim());
                    }
                }
            }
            Ok(Message {
                direction: Direction::Outbound,
                method: Some(parsed.method.unwrap_or_else(|| "GET".to_owned())),
                url: Some(url),
                status: None,
                headers,
                body,
                dest,
            })
        }
        MessageKind::Response => Ok(Message {
            direction: Direction::Inbound,
            method: None,
            url: None,
            status: parsed.status,
            headers,
            body,
            dest: None,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn header<'a>(m: &'a Message, name: &str) -> Option<&'a str> {
        m.headers.get(name).map(String::as_str)
    }

    #[test]
    fn recognises_request_and_status_lines_only() {
        assert_eq!(
            message_kind(b"GET /x HTTP/1.1\r\nHost: a\r\n\r\n"),
            Some(MessageKind::Request)
        );
        assert_eq!(
            message_kind(b"HTTP/1.0 404 Not Found\n\n"),
            Some(MessageKind::Response)
        );
        assert_eq!(message_kind(b"HTTP/2 200\n"), Some(MessageKind::Response));
        assert_eq!(message_kind(b"GET is a verb\n"), None);
        assert_eq!(message_kind(b"{\"log\":{}}"), None);
        assert_eq!(message_kind(b"get / HTTP/1.1\n"), None);
        assert_eq!(message_kind(b"GET  / HTTP/1.1\n"), None);
        assert_eq!(message_kind(b"HTTP/1.1 20 OK\n"), None);
        assert_eq!(message_kind(b""), None);
    }

    #[test]
    fn parses_an_origin_form_request_with_folded_and_repeated_headers() {
        let m = parse_http_message(
            b"POST /api?q=1 HTTP/1.1\r\nHost: api.example:8443\r\nX-A: one\r\n two\r\nCookie: a=1\r\nCookie: b=2\r\n\r\nbody",
        )
        .unwrap();
        assert_eq!(m.direction, Direction::Outbound);
        assert_eq!(m.method.as_deref(), Some("POST"));
        assert_eq!(m.url.as_deref(), Some("http://api.example:8443/api?q=1"));
        assert_eq!(m.dest.as_deref(), Some("api.example:8443"));
        assert_eq!(header(&m, "x-a"), Some("one two"));
        assert_eq!(header(&m, "cookie"), Some("a=1; b=2"));
        assert_eq!(m.body, b"body");
    }

    #[test]
    fn takes_the_destination_from_an_absolute_url() {
        let m = parse_http_message(b"GET https://h.example/p HTTP/1.1\n\n").unwrap();
        assert_eq!(m.dest.as_deref(), Some("h.example:443"));
        let m = parse_http_message(b"GET http://[::1]:81/ HTTP/1.1\n\n").unwrap();
        assert_eq!(m.dest.as_deref(), Some("[::1]:81"));
        // No URL and no Host: no destination.
        let m = parse_http_message(b"GET /p HTTP/1.1\n\n").unwrap();
        assert_eq!((m.dest, m.url.as_deref()), (None, Some("/p")));
    }

    #[test]
    fn host_headers_become_destinations() {
        assert_eq!(
            dest_from_host(" a.example ", 80).as_deref(),
            Some("a.example:80")
        );
        assert_eq!(dest_from_host("[::1]", 80).as_deref(), Some("[::1]:80"));
        assert_eq!(
            dest_from_host("[::1]:8080", 80).as_deref(),
            Some("[::1]:8080")
        );
        assert_eq!(dest_from_host("::1", 80), None);
        assert_eq!(dest_from_host("a b", 80), None);
        assert_eq!(dest_from_host("u@h", 80), None);
        assert_eq!(dest_from_host("h:x", 80), None);
    }

    #[test]
    fn decodes_a_chunked_body_and_drops_transfer_encoding() {
        let m = parse_http_message(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6;x=y\r\n world\r\n0\r\n\r\n",
        )
        .unwrap();
        assert_eq!((m.direction, m.status), (Direction::Inbound, Some(200)));
        assert_eq!(m.body, b"hello world");
        assert_eq!(header(&m, "transfer-encoding"), None);
        // Bare LF, and a last chunk cut short.
        let m = parse_http_message(
            b"HTTP/1.1 200 OK\nTransfer-Encoding: gzip, Chunked\n\n3\nabc\nff\nxyz",
        )
        .unwrap();
        assert_eq!(m.body, b"abcxyz");
    }

    #[test]
    fn keeps_a_malformed_chunked_body_as_it_is() {
        for body in [
            &b"not chunked at all"[..],
            b"\r\n",
            b"5\r\nhello",
            b"-1\r\nx\r\n0\r\n\r\n",
            b"zz\r\n",
        ] {
            let raw = [
                &b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"[..],
                body,
            ]
            .concat();
            let m = parse_http_message(&raw).unwrap();
            assert_eq!(m.body, body, "{body:?}");
            assert_eq!(header(&m, "transfer-encoding"), Some("chunked"));
        }
        // `chunkedx` is not `chunked`.
        let m = parse_http_message(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunkedx\r\n\r\n1\r\na\r\n0\r\n\r\n",
        )
        .unwrap();
        assert_eq!(m.body, b"1\r\na\r\n0\r\n\r\n");
    }

    #[test]
    fn keeps_body_bytes_exactly() {
        let body = [0x1f, 0x8b, 0x08, 0x00, 0xff, 0x0d, 0x0a, 0x0d, 0x0a, 0x00];
        let raw = [
            &b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\n\r\n"[..],
            &body,
        ]
        .concat();
        let m = parse_http_message(&raw).unwrap();
        assert_eq!(m.body, body);
        assert_eq!(header(&m, "content-encoding"), Some("gzip"));
    }

    #[test]
    fn reads_saved_heads_leniently() {
        // curl -v prints HTTP/2; a head may have no blank line; a non-header line is skipped.
        let m =
            parse_http_message(b"HTTP/2 201\r\ncontent-type: text/plain\r\nnot a header\r\nX-B: 1")
                .unwrap();
        assert_eq!(m.status, Some(201));
        assert_eq!(header(&m, "content-type"), Some("text/plain"));
        assert_eq!(header(&m, "x-b"), Some("1"));
        assert_eq!(m.headers.len(), 2);
        assert!(m.body.is_empty());
        let m = parse_http_message(b"PUT /u HTTP/1\nHost: h\n\nB").unwrap();
        assert_eq!(
            (m.method.as_deref(), m.body.as_slice()),
            (Some("PUT"), &b"B"[..])
        );
        // Latin-1 header bytes are kept as characters.
        let m = parse_http_message(b"GET / HTTP/1.1\r\nX-N: caf\xe9\r\n\r\n").unwrap();
        assert_eq!(header(&m, "x-n"), Some("caf\u{e9}"));
    }

    #[test]
    fn errors_name_the_line() {
        assert_eq!(parse_http_message(b"hello world"), Err(HttpError::NotHttp));
        let e = parse_http_message(b"GET / HTTP/1.1\r\nA: 1\r\nB: x\0y\r\n\r\n").unwrap_err();
        assert!(
            matches!(
                e,
                HttpError::Malformed {
                    line: 3,
                    part: "a header",
                    ..
                }
            ),
            "{e:?}"
        );
        assert!(e.to_string().starts_with("line 3 (a header): "), "{e}");
        let e = parse_http_message(b"GET /\x01 HTTP/1.1\r\n\r\n").unwrap_err();
        assert!(matches!(e, HttpError::Malformed { line: 1, .. }), "{e:?}");
        assert!(HttpError::NotHttp
            .to_string()
            .contains("neither a request line"));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]
        #[test]
        fn never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = message_kind(&bytes);
            let _ = parse_http_message(&bytes);
            let _ = dechunk(&bytes);
        }

        #[test]
        fn never_panics_on_near_http(
            first in prop::sample::select(vec!["GET / HTTP/1.1", "HTTP/1.1 200 OK", "POST http://a:1/ HTTP/2", "HTTP/1.0 500"]),
            lines in proptest::collection::vec("[ -~\t\r\u{0}\u{80}-\u{ff}]{0,30}", 0..8),
            body in proptest::collection::vec(any::<u8>(), 0..64),
            chunked in any::<bool>(),
            lf in any::<bool>(),
        ) {
            let nl = if lf { "\n" } else { "\r\n" };
            let mut raw = format!("{first}{nl}").into_bytes();
            if chunked {
                raw.extend_from_slice(format!("Transfer-Encoding: chunked{nl}").as_bytes());
            }
            for l in &lines {
                raw.extend(l.chars().map(|c| c as u32 as u8));
                raw.extend_from_slice(nl.as_bytes());
            }
            raw.extend_from_slice(nl.as_bytes());
            raw.extend_from_slice(&body);
            let _ = parse_http_message(&raw);
        }
    }
}
