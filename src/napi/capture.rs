//! Saved traffic for the offline scan: raw HTTP/1.x messages and HAR
//! captures, read by [`crate::capture`]. The results are the shape
//! `scanMessage` takes.

use super::types::Direction;
use crate::capture::{self, HarError, HttpError, Message, MessageKind};
use napi::bindgen_prelude::Buffer;
use napi::{Error, Result, Status};
use napi_derive::napi;
use std::collections::BTreeMap;

/// Which kind of HTTP message bytes start with.
#[napi(string_enum = "lowercase")]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HttpMessageKind {
    /// `METHOD TARGET HTTP/1.1`: scanned outbound.
    Request,
    /// `HTTP/1.1 200 OK`: scanned inbound.
    Response,
}

/// A saved message, ready for `scanMessage`.
#[napi(object)]
pub struct CapturedMessage {
    /// A request is `outbound`, a response `inbound`.
    pub direction: Direction,
    pub method: Option<String>,
    pub url: Option<String>,
    pub status: Option<u32>,
    /// Lower-case names; repeated headers joined (`, `, or `; ` for cookie).
    pub headers: BTreeMap<String, String>,
    /// The body as sent, de-chunked (still `content-encoding`-encoded).
    pub body: Buffer,
    /// `host:port` derived from the message, when it says.
    pub dest: Option<String>,
}

impl From<Message> for CapturedMessage {
    fn from(m: Message) -> Self {
        CapturedMessage {
            direction: m.direction.into(),
            method: m.method,
            url: m.url,
            status: m.status.map(u32::from),
            headers: m.headers,
            body: m.body.into(),
            dest: m.dest,
        }
    }
}

/// One HAR entry: its request (outbound) and, when captured, its response (inbound).
#[napi(object)]
pub struct HarEntryMessages {
    /// Position in `log.entries`, from 0.
    pub index: u32,
    pub method: String,
    /// `host:port` of the request URL.
    pub dest: Option<String>,
    pub request: CapturedMessage,
    pub response: Option<CapturedMessage>,
}

/// Whether bytes start like an HTTP/1.x request or response (first line only).
#[napi]
pub fn http_message_kind(data: Buffer) -> Option<HttpMessageKind> {
    capture::message_kind(data.as_ref()).map(|k| match k {
        MessageKind::Request => HttpMessageKind::Request,
        MessageKind::Response => HttpMessageKind::Response,
    })
}

/// Parses one raw HTTP/1.x message. Throws (code `InvalidArg`) when the
/// bytes are not one, saying which line is wrong.
#[napi]
pub fn parse_http_message(data: Buffer) -> Result<CapturedMessage> {
    capture::parse_http_message(data.as_ref())
        .map(CapturedMessage::from)
        .map_err(|e: HttpError| Error::new(Status::InvalidArg, e.to_string()))
}

/// What kind of HAR failure a thrown error's `code` names.
pub enum HarErrorCode {
    /// `HAR_NOT_JSON`: the bytes are not JSON.
    NotJson,
    /// `HAR_NOT_HAR`: JSON, but no `log.entries` array.
    NotHar,
}

impl AsRef<str> for HarErrorCode {
    fn as_ref(&self) -> &str {
        match self {
            HarErrorCode::NotJson => "HAR_NOT_JSON",
            HarErrorCode::NotHar => "HAR_NOT_HAR",
        }
    }
}

/// Reads a HAR capture. Throws with `code` `HAR_NOT_JSON` or `HAR_NOT_HAR`
/// and a message that completes "the input …" (`is not valid JSON: … at
/// line 3 column 7`).
#[napi]
pub fn parse_har(data: Buffer) -> std::result::Result<Vec<HarEntryMessages>, Error<HarErrorCode>> {
    let entries = capture::parse_har(data.as_ref()).map_err(|e| {
        let code = match e {
            HarError::Json(_) => HarErrorCode::NotJson,
            HarError::NotHar => HarErrorCode::NotHar,
        };
        Error::new(code, e.to_string())
    })?;
    Ok(entries
        .into_iter()
        .map(|e| HarEntryMessages {
            index: u32::try_from(e.index).unwrap_or(u32::MAX),
            method: e.method,
            dest: e.dest,
            request: e.request.into(),
            response: e.response.map(CapturedMessage::from),
        })
        .collect())
}
