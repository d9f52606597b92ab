//! A HAR capture (HTTP Archive 1.2, as browsers and proxies export it),
//! read with serde: each entry becomes an outbound request and, when the
//! capture has one, an inbound response.
//!
//! HAR files in the wild carry nulls, missing fields and odd types; a field
//! of the wrong type counts as absent ([`Loose`]) so one odd entry does not
//! lose the capture. HAR bodies are stored decoded, so the framing headers
//! that would make the scanner decode them again are dropped.

use super::{add_header, dest_from_url, Message};
use crate::core::finding::Direction;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine as _;
use serde::de::{DeserializeOwned, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use std::collections::BTreeMap;

/// Why bytes could not be read as a HAR capture.
#[derive(Debug, thiserror::Error)]
pub enum HarError {
    /// Not JSON at all; serde's message says where (`line L column C`).
    #[error("is not valid JSON: {0}")]
    Json(serde_json::Error),
    #[error("is JSON but not a HAR capture: it has no log.entries array")]
    NotHar,
}

/// One HAR entry as messages to scan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HarEntry {
    /// Position in `log.entries`, from 0.
    pub index: usize,
    pub method: String,
    /// `host:port` of the request URL.
    pub dest: Option<String>,
    pub request: Message,
    pub response: Option<Message>,
}

/// A value of type `T`, or `None` when the JSON has another shape (or null).
#[derive(Debug)]
struct Loose<T>(Option<T>);

impl<T> Default for Loose<T> {
    fn default() -> Self {
        Loose(None)
    }
}

impl<'de, T: DeserializeOwned> Deserialize<'de> for Loose<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = serde_json::Value::deserialize(d)?;
        Ok(Loose(T::deserialize(value).ok()))
    }
}

/// The top level: any JSON value; only an object's `log` is looked at.
struct Doc {
    log: Option<Log>,
}

impl<'de> Deserialize<'de> for Doc {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Top;
        impl<'de> Visitor<'de> for Top {
            type Value = Doc;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON value")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Doc, A::Error> {
                let mut log = None;
                while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
                    if key == "log" {
                        log = map.next_value::<Loose<Log>>()?.0;
                    } else {
                        map.next_value::<IgnoredAny>()?;
                    }
                }
                Ok(Doc { log })
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Doc, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Doc { log: None })
            }
            fn visit_bool<E>(self, _: bool) -> Result<Doc, E> {
                Ok(Doc { log: None })
            }
            fn visit_i64<E>(self, _: i64) -> Result<Doc, E> {
                Ok(Doc { log: None })
            }
            fn visit_u64<E>(self, _: u64) -> Result<Doc, E> {
                Ok(Doc { log: None })
            }
            fn visit_f64<E>(self, _: f64) -> Result<Doc, E> {
                Ok(Doc { log: None })
            }
            fn visit_str<E>(self, _: &str) -> Result<Doc, E> {
                Ok(Doc { log: None })
            }
            fn visit_unit<E>(self) -> Result<Doc, E> {
                Ok(Doc { log: None })
            }
        }
        d.deserialize_any(Top)
    }
}

#[derive(Deserialize)]
struct Log {
    entries: Vec<Loose<Entry>>,
}

#[derive(Deserialize, Default)]
struct Entry {
    #[serde(default)]
    request: Loose<Request>,
    #[serde(default)]
    response: Loose<Response>,
}

#[derive(Deserialize, Default)]
struct NameValue {
    #[serde(default)]
    name: Loose<String>,
    #[serde(default)]
    value: Loose<String>,
}

#[derive(Deserialize, Default)]
struct Request {
    #[serde(default)]
    method: Loose<String>,
    #[serde(default)]
    url: Loose<String>,
    #[serde(default)]
    headers: Loose<Vec<Loose<NameValue>>>,
    #[serde(default, rename = "postData")]
    post_data: Loose<PostData>,
}

#[derive(Deserialize, Default)]
struct PostData {
    #[serde(default)]
    text: Loose<String>,
    #[serde(default)]
    encoding: Loose<String>,
    #[serde(default)]
    params: Loose<Vec<Loose<NameValue>>>,
}

#[derive(Deserialize, Default)]
struct Response {
    #[serde(default)]
    status: Loose<f64>,
    #[serde(default)]
    headers: Loose<Vec<Loose<NameValue>>>,
    #[serde(default)]
    content: Loose<Content>,
}

#[derive(Deserialize, Default)]
struct Content {
    #[serde(default)]
    text: Loose<String>,
    #[serde(default)]
    encoding: Loose<String>,
}

/// Framing headers of the wire form; a HAR body is already unframed and decoded.
const DROP_HEADERS: [&str; 3] = ["content-encoding", "content-length", "transfer-encoding"];

fn headers(list: Loose<Vec<Loose<NameValue>>>) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for h in list.0.unwrap_or_default().into_iter().filter_map(|h| h.0) {
        let (Some(name), Some(value)) = (h.name.0, h.value.0) else {
            continue;
        };
        // HTTP/2 pseudo-headers (`:authority`) are not headers of the message.
        if name.starts_with(':') || DROP_HEADERS.iter().any(|d| name.eq_ignore_ascii_case(d)) {
            continue;
        }
        add_header(&mut out, &name, &value);
    }
    out
}

/// Base64 as Node's `Buffer.from(s, 'base64')` reads it: either alphabet,
/// anything else skipped, padding optional, stopping at the first `=`.
fn lenient_base64(text: &str) -> Vec<u8> {
    const ENGINE: GeneralPurpose = GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        GeneralPurposeConfig::new()
            .with_decode_padding_mode(DecodePaddingMode::RequireNone)
            .with_decode_allow_trailing_bits(true),
    );
    let mut clean: Vec<u8> = text
        .bytes()
        .take_while(|&b| b != b'=')
        .filter_map(|b| match b {
            b'-' => Some(b'+'),
            b'_' => Some(b'/'),
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'+' | b'/' => Some(b),
            _ => None,
        })
        .collect();
    // A lone last character holds no whole byte.
    if clean.len() % 4 == 1 {
        clean.pop();
    }
    ENGINE.decode(&clean).unwrap_or_default()
}

fn body(text: Loose<String>, encoding: &Loose<String>) -> Vec<u8> {
    match text.0 {
        None => Vec::new(),
        Some(t) if encoding.0.as_deref() == Some("base64") => lenient_base64(&t),
        Some(t) => t.into_bytes(),
    }
}

fn entry(index: usize, e: Entry) -> HarEntry {
    let rq = e.request.0.unwrap_or_default();
    let url = rq.url.0;
    let method = rq.method.0.unwrap_or_else(|| "GET".to_owned());
    let dest = url.as_deref().and_then(dest_from_url);
    let post = rq.post_data.0.unwrap_or_default();
    let mut req_body = body(post.text, &post.encoding);
    if req_body.is_empty() {
        if let Some(params) = post.params.0 {
            // A form given as fields: sent as application/x-www-form-urlencoded.
            let mut form = url::form_urlencoded::Serializer::new(String::new());
            for p in params.into_iter().filter_map(|p| p.0) {
                if let Some(name) = p.name.0 {
                    form.append_pair(&name, p.value.0.as_deref().unwrap_or(""));
                }
            }
            req_body = form.finish().into_bytes();
        }
    }
    let request = Message {
        direction: Direction::Outbound,
        method: Some(method.clone()),
        url,
        status: None,
        headers: headers(rq.headers),
        body: req_body,
        dest: dest.clone(),
    };
    let response = e.response.0.map(|rs| {
        let content = rs.content.0.unwrap_or_default();
        // 0 (or absent) is how HAR says there was no response status.
        let status = rs
            .status
            .0
            .filter(|s| *s >= 1.0 && *s <= f64::from(u16::MAX) && s.fract() == 0.0)
            .map(|s| s as u16);
        Message {
            direction: Direction::Inbound,
            method: None,
            url: None,
            status,
            headers: headers(rs.headers),
            body: body(content.text, &content.encoding),
            dest: None,
        }
    });
    HarEntry {
        index,
        method,
        dest,
        request,
        response,
    }
}

/// Reads a HAR capture (UTF-8; invalid sequences read as U+FFFD).
pub fn parse_har(data: &[u8]) -> Result<Vec<HarEntry>, HarError> {
    let text = String::from_utf8_lossy(data);
    // `Doc` and `Loose` accept any value: every error is a syntax error.
    let doc: Doc = serde_json::from_str(&text).map_err(HarError::Json)?;
    let log = doc.log.ok_or(HarError::NotHar)?;
    Ok(log
        .entries
        .into_iter()
        .enumerate()
        .map(|(i, e)| entry(i, e.0.unwrap_or_default()))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const HAR: &str = r#"{"log":{"entries":[
      {"request":{"method":"POST","url":"https://a.example/x",
        "headers":[{"name":":authority","value":"a.example"},{"name":"Content-Encoding","value":"gzip"},{"name":"X-K","value":"v"},{"name":5,"value":"x"}],
        "postData":{"params":[{"name":"k","value":"v w"},{"name":"e"}]}},
       "response":{"status":201,"headers":[{"name":"Content-Length","value":"3"}],"content":{"text":"aGV5","encoding":"base64"}}},
      {"request":{"url":"http://b.example:8080/"}},
      null,
      {"request":"odd","response":{"status":0,"content":{"text":"plain"}}}
    ]}}"#;

    #[test]
    fn maps_entries_to_an_outbound_request_and_an_inbound_response() {
        let entries = parse_har(HAR.as_bytes()).unwrap();
        assert_eq!(entries.len(), 4);
        let a = &entries[0];
        assert_eq!(a.dest.as_deref(), Some("a.example:443"));
        assert_eq!(a.request.direction, Direction::Outbound);
        assert_eq!(a.request.method.as_deref(), Some("POST"));
        // HAR bodies are stored decoded: content-encoding would make the scanner decode twice.
        assert_eq!(a.request.headers.keys().collect::<Vec<_>>(), ["x-k"]);
        assert_eq!(a.request.body, b"k=v+w&e=");
        let r = a.response.as_ref().unwrap();
        assert_eq!((r.direction, r.status), (Direction::Inbound, Some(201)));
        assert_eq!(r.body, b"hey");
        assert!(r.headers.is_empty());
        let b = &entries[1];
        assert_eq!(
            (b.method.as_str(), b.dest.as_deref()),
            ("GET", Some("b.example:8080"))
        );
        assert!(b.response.is_none());
        assert!(entries[2].request.body.is_empty());
        assert_eq!(entries[2].index, 2);
        let d = entries[3].response.as_ref().unwrap();
        assert_eq!((d.status, d.body.as_slice()), (None, &b"plain"[..]));
    }

    #[test]
    fn errors_say_what_is_wrong() {
        assert!(matches!(parse_har(br#"{"log":{}}"#), Err(HarError::NotHar)));
        assert!(matches!(
            parse_har(br#"{"log":{"entries":{}}}"#),
            Err(HarError::NotHar)
        ));
        assert!(matches!(parse_har(b"[1,2]"), Err(HarError::NotHar)));
        assert!(matches!(parse_har(b"{}"), Err(HarError::NotHar)));
        assert!(matches!(parse_har(b"\"log\""), Err(HarError::NotHar)));
        assert!(matches!(
            parse_har(br#"{"x":[1,{"log":2}],"log":null}"#),
            Err(HarError::NotHar)
        ));
        let e = parse_har(b"{\"log\":\n{\"entries\": [}").unwrap_err();
        assert!(matches!(e, HarError::Json(_)));
        assert!(e.to_string().contains("line 2 column"), "{e}");
        assert!(matches!(parse_har(b""), Err(HarError::Json(_))));
    }

    #[test]
    fn base64_is_read_as_node_reads_it() {
        assert_eq!(lenient_base64("aGV5"), b"hey");
        assert_eq!(lenient_base64("aGVsbG8="), b"hello");
        assert_eq!(lenient_base64("aGVsbG8"), b"hello");
        assert_eq!(lenient_base64("aG Vs\nbG8"), b"hello");
        assert_eq!(lenient_base64("_-8"), [0xff, 0xef]);
        assert_eq!(lenient_base64("a"), b"");
        assert_eq!(lenient_base64("!!"), b"");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1000))]
        #[test]
        fn never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = parse_har(&bytes);
        }

        #[test]
        fn odd_values_anywhere_never_fail_a_har(
            v in prop::sample::select(vec!["null", "1", "-5.5", "\"s\"", "[]", "{}", "[null]", "true", "1e400"]),
            slot in 0usize..8,
        ) {
            let fields = ["method", "url", "headers", "postData", "status", "content", "text", "encoding"];
            let f = fields[slot];
            let doc = format!(
                r#"{{"log":{{"entries":[{{"request":{{"{f}":{v}}},"response":{{"{f}":{v},"content":{{"{f}":{v}}}}}}},{v}]}}}}"#
            );
            let entries = parse_har(doc.as_bytes());
            prop_assert!(entries.is_ok() || v == "1e400", "{doc}");
        }
    }
}
