//! Saved traffic turned into the messages the scanner takes, for the
//! offline `traffic-guardian scan`: a raw HTTP/1.x request or response (as
//! copied from a proxy log or `curl -v`), parsed with `httparse`, or every
//! entry of a HAR capture, read with serde.
//!
//! Parsing is lenient, because the point is to scan what is there: a header
//! line that is not a header is skipped, a malformed chunked body is kept as
//! it is, an odd field of a HAR entry counts as absent. What cannot be read
//! at all is a typed error ([`HttpError`], [`HarError`]) that says what is
//! wrong and where. Nothing here panics on any input, evaluates anything,
//! or decodes a `content-encoding` (the scanner does that, as in the proxy).

pub mod har;
pub mod http;

pub use har::{parse_har, HarEntry, HarError};
pub use http::{message_kind, parse_http_message, HttpError, MessageKind};

use crate::core::finding::Direction;
use std::collections::BTreeMap;

/// One message ready for the scanner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// A request is `Outbound`, a response `Inbound`.
    pub direction: Direction,
    pub method: Option<String>,
    pub url: Option<String>,
    pub status: Option<u16>,
    /// Lower-case names; repeated headers joined with `, ` (`; ` for `cookie`).
    pub headers: BTreeMap<String, String>,
    /// The body as sent, de-chunked (still `content-encoding`-encoded).
    pub body: Vec<u8>,
    /// `host:port` derived from the message, when it says.
    pub dest: Option<String>,
}

/// Adds a header the way a receiver folds repeated fields into one.
fn add_header(headers: &mut BTreeMap<String, String>, name: &str, value: &str) {
    let key = name.trim().to_ascii_lowercase();
    if key.is_empty() {
        return;
    }
    let sep = if key == "cookie" { "; " } else { ", " };
    match headers.get_mut(&key) {
        Some(prev) => {
            prev.push_str(sep);
            prev.push_str(value);
        }
        None => {
            headers.insert(key, value.to_owned());
        }
    }
}

/// `host:port` of an absolute URL, with the scheme's default port (443 for
/// `https`/`wss`, else 80). `None` when it is not a URL with a host.
pub fn dest_from_url(url: &str) -> Option<String> {
    let u = url::Url::parse(url).ok()?;
    let host = u.host_str().filter(|h| !h.is_empty())?;
    let port = u.port().unwrap_or(match u.scheme() {
        "https" | "wss" => 443,
        _ => 80,
    });
    if host.contains(':') && !host.starts_with('[') {
        Some(format!("[{host}]:{port}"))
    } else {
        Some(format!("{host}:{port}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dest_from_url_takes_the_scheme_port() {
        assert_eq!(
            dest_from_url("https://h.example/p").as_deref(),
            Some("h.example:443")
        );
        assert_eq!(
            dest_from_url("wss://h.example/p").as_deref(),
            Some("h.example:443")
        );
        assert_eq!(
            dest_from_url("http://[::1]:81/").as_deref(),
            Some("[::1]:81")
        );
        assert_eq!(
            dest_from_url("HTTP://A.Example:8080/").as_deref(),
            Some("a.example:8080")
        );
        assert_eq!(dest_from_url("not a url"), None);
        assert_eq!(dest_from_url("file:///etc/passwd"), None);
    }

    #[test]
    fn repeated_headers_join_as_a_receiver_would() {
        let mut h = BTreeMap::new();
        add_header(&mut h, "Cookie", "a=1");
        add_header(&mut h, "cookie", "b=2");
        add_header(&mut h, "X-A", "1");
        add_header(&mut h, "x-a", "2");
        add_header(&mut h, "  ", "ignored");
        assert_eq!(h.get("cookie").map(String::as_str), Some("a=1; b=2"));
        assert_eq!(h.get("x-a").map(String::as_str), Some("1, 2"));
        assert_eq!(h.len(), 2);
    }
}
