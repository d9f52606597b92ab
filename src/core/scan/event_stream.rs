//! Reassembly of streamed output: Server-Sent Events and newline-delimited
//! JSON, as model APIs, MCP Streamable HTTP and tool servers send them.
//!
//! A model streams its answer as many small events, each carrying 3–12
//! characters of text (`choices[].delta.content`, `delta.text`, …) or of a
//! tool call's JSON arguments (`input_json_delta`, `tool_calls[].function
//! .arguments`). A command split over events never appears whole in the raw
//! body, so this module turns the events back into the texts the model
//! wrote: one *text channel* per stream, and one *tool call* per call id.
//!
//! Everything here is pure and bounded: the parser keeps at most one event
//! ([`MAX_EVENT_BYTES`]), a tool call at most the scan limit.

use serde_json::Value;

/// One event larger than this is not reassembled (its raw bytes are still
/// scanned like any body).
pub const MAX_EVENT_BYTES: usize = 256 * 1024;

/// How a body is framed into events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamFormat {
    /// `text/event-stream`: `data:` lines, events end at a blank line.
    Sse,
    /// One JSON document per line (`application/x-ndjson`, Ollama).
    Ndjson,
    /// One JSON value per line after a one-character type and a colon: the
    /// Vercel AI SDK data stream (`0:"text"`, `9:{tool call}`, `e:{…}`),
    /// sent as `text/plain`.
    PrefixedJson,
}

impl StreamFormat {
    /// The framing a body declares by its content type, or shows in its first
    /// bytes when it declares none (or `text/plain`).
    pub fn detect(content_type: Option<&str>, first: &[u8]) -> Option<StreamFormat> {
        let essence = content_type
            .map(|ct| {
                ct.split(';')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .to_ascii_lowercase()
            })
            .unwrap_or_default();
        match essence.as_str() {
            "text/event-stream" => return Some(StreamFormat::Sse),
            "application/x-ndjson"
            | "application/ndjson"
            | "application/jsonl"
            | "application/x-jsonlines"
            | "application/jsonlines" => return Some(StreamFormat::Ndjson),
            "" | "text/plain" => {}
            _ => return None,
        }
        let start = first
            .iter()
            .position(|b| !b.is_ascii_whitespace())
            .unwrap_or(first.len());
        let head = &first[start..];
        let head = head.strip_prefix(b"\xef\xbb\xbf").unwrap_or(head);
        if ["data:", "event:", "id:", "retry:"]
            .iter()
            .any(|f| head.starts_with(f.as_bytes()))
        {
            return Some(StreamFormat::Sse);
        }
        type_prefixed(head).then_some(StreamFormat::PrefixedJson)
    }
}

/// Whether `line` starts as a data-stream line: a digit or lowercase letter,
/// a colon, then a JSON object, array or string.
fn type_prefixed(line: &[u8]) -> bool {
    matches!(line, [t, b':', b'{' | b'[' | b'"', ..] if t.is_ascii_digit() || t.is_ascii_lowercase())
}

/// Splits a byte stream into event payloads, incrementally: an SSE event's
/// joined `data:` lines, or an NDJSON line.
#[derive(Debug)]
pub struct EventParser {
    format: StreamFormat,
    line: Vec<u8>,
    data: Vec<u8>,
    has_data: bool,
    /// The current line or event outgrew [`MAX_EVENT_BYTES`]: skipped.
    oversized: bool,
    /// The previous chunk ended in `\r`: a leading `\n` belongs to it.
    after_cr: bool,
}

impl EventParser {
    pub fn new(format: StreamFormat) -> Self {
        EventParser {
            format,
            line: Vec::new(),
            data: Vec::new(),
            has_data: false,
            oversized: false,
            after_cr: false,
        }
    }

    /// Feeds bytes; calls `event` with each complete event's payload.
    pub fn push(&mut self, mut bytes: &[u8], event: &mut dyn FnMut(&[u8])) {
        if self.after_cr {
            self.after_cr = false;
            if let Some(rest) = bytes.strip_prefix(b"\n") {
                bytes = rest;
            }
        }
        while !bytes.is_empty() {
            let Some(end) = memchr::memchr2(b'\n', b'\r', bytes) else {
                self.extend_line(bytes);
                return;
            };
            self.extend_line(&bytes[..end]);
            let mut next = end + 1;
            if bytes[end] == b'\r' {
                match bytes.get(next) {
                    Some(b'\n') => next += 1,
                    Some(_) => {}
                    None => self.after_cr = true,
                }
            }
            self.end_line(event);
            bytes = &bytes[next..];
        }
    }

    /// Ends the stream: a last event without its blank line still counts.
    pub fn finish(&mut self, event: &mut dyn FnMut(&[u8])) {
        if !self.line.is_empty() || self.oversized {
            self.end_line(event);
        }
        if self.format == StreamFormat::Sse {
            self.dispatch(event);
        }
    }

    fn extend_line(&mut self, part: &[u8]) {
        if self.oversized || self.line.len() + part.len() > MAX_EVENT_BYTES {
            self.oversized = true;
            self.line.clear();
        } else {
            self.line.extend_from_slice(part);
        }
    }

    fn end_line(&mut self, event: &mut dyn FnMut(&[u8])) {
        let line = std::mem::take(&mut self.line);
        let oversized = std::mem::replace(&mut self.oversized, false);
        match self.format {
            StreamFormat::Ndjson => {
                if !oversized && !line.iter().all(u8::is_ascii_whitespace) {
                    event(&line);
                }
            }
            StreamFormat::PrefixedJson => {
                if !oversized && !line.iter().all(u8::is_ascii_whitespace) {
                    // A line in another shape is read as it is.
                    event(if type_prefixed(&line) {
                        &line[2..]
                    } else {
                        &line
                    });
                }
            }
            StreamFormat::Sse => {
                if oversized {
                    // A data line too large to keep spoils its whole event.
                    self.data.clear();
                    self.has_data = false;
                    return;
                }
                if line.is_empty() {
                    self.dispatch(event);
                    return;
                }
                let (field, value) = match memchr::memchr(b':', &line) {
                    Some(0) => return, // a comment
                    Some(i) => {
                        let v = &line[i + 1..];
                        (&line[..i], v.strip_prefix(b" ").unwrap_or(v))
                    }
                    None => (line.as_slice(), &b""[..]),
                };
                if field == b"data" {
                    if self.data.len() + value.len() + 1 > MAX_EVENT_BYTES {
                        self.data.clear();
                        self.has_data = false;
                        return;
                    }
                    if self.has_data {
                        self.data.push(b'\n');
                    }
                    self.data.extend_from_slice(value);
                    self.has_data = true;
                }
            }
        }
    }

    fn dispatch(&mut self, event: &mut dyn FnMut(&[u8])) {
        if self.has_data {
            event(&self.data);
        }
        self.data.clear();
        self.has_data = false;
    }
}

/// What one event contributes to the reassembled stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    /// Text the model (or a tool server) wrote, to append to the text channel.
    Text(String),
    /// A text that stands alone (a whole tool result): scanned as one unit.
    Whole(String),
    /// A tool call begins or is named.
    ToolName { key: String, name: String },
    /// More of a tool call's JSON arguments.
    ToolArgs { key: String, text: String },
    /// A tool call is complete.
    ToolEnd { key: String },
}

/// The pieces of one event payload. JSON events are read in the shapes of
/// the Anthropic, OpenAI (chat completions and responses), Gemini and Ollama
/// streaming APIs; other JSON yields its string values as one whole text
/// (MCP results, tool output: their escapes decoded), MCP's streamed text
/// besides ([`mcp`]), and non-JSON data is text.
pub fn pieces(payload: &[u8], out: &mut Vec<Piece>) {
    let trimmed = payload.trim_ascii();
    if trimmed.is_empty() || trimmed == b"[DONE]" {
        return;
    }
    let value: Value = match serde_json::from_slice(trimmed) {
        Ok(v) => v,
        Err(_) => {
            out.push(Piece::Text(String::from_utf8_lossy(payload).into_owned()));
            return;
        }
    };
    // A JSON string event (`data: "tok"`, a data stream's `0:"tok"`) is a
    // piece of the stream's text.
    if let Value::String(t) = &value {
        out.push(Piece::Text(t.clone()));
        return;
    }
    let before = out.len();
    let known = anthropic(&value, out)
        || openai_chat(&value, out)
        || openai_responses(&value, out)
        || gemini(&value, out)
        || ollama(&value, out);
    if !known && out.len() == before {
        mcp(&value, out);
        if out.len() == before {
            generic_deltas(&value, out);
        }
        // The event's strings are still read as one text too: a delta
        // event may carry more (an error message beside a short `text`).
        let mut text = String::new();
        string_values(&value, &mut text, 0);
        if !text.is_empty() {
            out.push(Piece::Whole(text));
        }
    }
}

/// Keys under which the streaming APIs not read by name put each new piece
/// of text: Vercel AI SDK UI streams (`{"type":"text-delta","delta":…}`),
/// Cohere v2 (`delta.message.content.text`), TGI (`token.text`), and
/// plain `{"token":…}` or `{"text":…}` events.
const DELTA_KEYS: [&str; 4] = ["delta", "text", "token", "content"];

/// The longest string read as a delta: pieces of a stream are short, and a
/// longer value (a whole document in an event) stays a text of its own.
const DELTA_MAX: usize = 512;

/// Stream text of an event in no shape read by name: every string under a
/// [`DELTA_KEYS`] key (nested 6 deep at most), when there is one and none
/// is longer than [`DELTA_MAX`]. Joined across events, a command such an
/// API streams a few characters at a time is read whole. (Within one event
/// the strings come in key order; these APIs put one delta in an event.)
fn generic_deltas(v: &Value, out: &mut Vec<Piece>) {
    fn collect<'a>(v: &'a Value, under_key: bool, depth: usize, found: &mut Vec<&'a str>) -> bool {
        if depth > 6 {
            return false;
        }
        match v {
            Value::String(s) if under_key => {
                found.push(s);
                s.len() <= DELTA_MAX
            }
            Value::Object(m) => m.iter().all(|(k, x)| {
                let key = DELTA_KEYS.contains(&k.as_str());
                match x {
                    Value::String(_) if !key => true,
                    _ => collect(x, key || under_key, depth + 1, found),
                }
            }),
            Value::Array(a) => a.iter().all(|x| collect(x, under_key, depth + 1, found)),
            _ => true,
        }
    }
    let mut found = Vec::new();
    if collect(v, false, 0, &mut found) {
        out.extend(
            found
                .into_iter()
                .filter(|t| !t.is_empty())
                .map(|t| Piece::Text(t.to_owned())),
        );
    }
}

/// MCP over Streamable HTTP (JSON-RPC): the text a server may stream a few
/// characters at a time, as stream text, so a command split across a
/// result's text blocks or across progress or log notifications is read
/// whole: a tool result's `content[].text`, a `notifications/progress`
/// message and a `notifications/message` string `data`.
fn mcp(v: &Value, out: &mut Vec<Piece>) {
    if v.get("jsonrpc").is_none() {
        return;
    }
    if let Some(blocks) = v
        .get("result")
        .and_then(|r| r.get("content"))
        .and_then(Value::as_array)
    {
        // A result ends what notifications streamed before it: a line
        // break on each side keeps `… | bash` from running into its text.
        let texts: Vec<Piece> = blocks
            .iter()
            .filter_map(|b| b.get("text").and_then(Value::as_str))
            .map(|t| Piece::Text(t.to_owned()))
            .collect();
        if !texts.is_empty() {
            out.push(Piece::Text("\n".into()));
            out.extend(texts);
            out.push(Piece::Text("\n".into()));
        }
    }
    let streamed = match v.get("method").and_then(Value::as_str) {
        Some("notifications/progress") => str_at(v, &["params", "message"]),
        Some("notifications/message") => str_at(v, &["params", "data"]),
        _ => None,
    };
    out.extend(streamed.map(|t| Piece::Text(t.to_owned())));
}

fn str_at<'a>(v: &'a Value, path: &[&str]) -> Option<&'a str> {
    let mut cur = v;
    for p in path {
        cur = cur.get(*p)?;
    }
    cur.as_str()
}

/// Anthropic Messages streaming: `content_block_start|delta|stop`.
fn anthropic(v: &Value, out: &mut Vec<Piece>) -> bool {
    let Some(kind) = v.get("type").and_then(Value::as_str) else {
        return false;
    };
    let key = || format!("a{}", v.get("index").and_then(Value::as_u64).unwrap_or(0));
    match kind {
        "content_block_start" => {
            let Some(block) = v.get("content_block") else {
                return true;
            };
            match block.get("type").and_then(Value::as_str) {
                Some("tool_use" | "server_tool_use") => {
                    let name = str_at(block, &["name"]).unwrap_or("").to_owned();
                    out.push(Piece::ToolName { key: key(), name });
                    if let Some(input) = block.get("input").filter(|i| !is_empty_json(i)) {
                        out.push(Piece::ToolArgs {
                            key: key(),
                            text: input.to_string(),
                        });
                    }
                }
                Some("text") => {
                    if let Some(t) = str_at(block, &["text"]).filter(|t| !t.is_empty()) {
                        out.push(Piece::Text(t.to_owned()));
                    }
                }
                _ => {}
            }
            true
        }
        "content_block_delta" => {
            let Some(delta) = v.get("delta") else {
                return true;
            };
            match delta.get("type").and_then(Value::as_str) {
                Some("text_delta") => {
                    if let Some(t) = str_at(delta, &["text"]) {
                        out.push(Piece::Text(t.to_owned()));
                    }
                }
                Some("thinking_delta") => {
                    if let Some(t) = str_at(delta, &["thinking"]) {
                        out.push(Piece::Text(t.to_owned()));
                    }
                }
                Some("input_json_delta") => {
                    if let Some(t) = str_at(delta, &["partial_json"]) {
                        out.push(Piece::ToolArgs {
                            key: key(),
                            text: t.to_owned(),
                        });
                    }
                }
                _ => {}
            }
            true
        }
        "content_block_stop" => {
            out.push(Piece::ToolEnd { key: key() });
            true
        }
        "message_start" | "message_delta" | "message_stop" | "ping" => true,
        _ => false,
    }
}

/// OpenAI chat completions (`chat.completion.chunk`) and legacy completions.
fn openai_chat(v: &Value, out: &mut Vec<Piece>) -> bool {
    let Some(choices) = v.get("choices").and_then(Value::as_array) else {
        return false;
    };
    for (ci, choice) in choices.iter().enumerate() {
        let ci = choice
            .get("index")
            .and_then(Value::as_u64)
            .unwrap_or(ci as u64);
        if let Some(t) = str_at(choice, &["text"]) {
            out.push(Piece::Text(t.to_owned()));
        }
        // A non-streamed answer carries `message` where a chunk has `delta`.
        let delta = choice.get("delta").or_else(|| choice.get("message"));
        if let Some(delta) = delta {
            for field in ["content", "reasoning_content", "reasoning", "refusal"] {
                if let Some(t) = str_at(delta, &[field]) {
                    out.push(Piece::Text(t.to_owned()));
                }
            }
            if let Some(calls) = delta.get("tool_calls").and_then(Value::as_array) {
                for (ti, call) in calls.iter().enumerate() {
                    let ti = call
                        .get("index")
                        .and_then(Value::as_u64)
                        .unwrap_or(ti as u64);
                    let key = format!("o{ci}.{ti}");
                    if let Some(name) = str_at(call, &["function", "name"]) {
                        out.push(Piece::ToolName {
                            key: key.clone(),
                            name: name.to_owned(),
                        });
                    }
                    match call.get("function").and_then(|f| f.get("arguments")) {
                        Some(Value::String(s)) if !s.is_empty() => out.push(Piece::ToolArgs {
                            key,
                            text: s.clone(),
                        }),
                        Some(args @ Value::Object(_)) => out.push(Piece::ToolArgs {
                            key,
                            text: args.to_string(),
                        }),
                        _ => {}
                    }
                }
            }
        }
        if choice.get("finish_reason").is_some_and(|r| !r.is_null()) {
            // Ends every tool call of this choice.
            out.push(Piece::ToolEnd {
                key: format!("o{ci}."),
            });
        }
    }
    true
}

/// OpenAI Responses API streaming events (`response.*`).
fn openai_responses(v: &Value, out: &mut Vec<Piece>) -> bool {
    let Some(kind) = v.get("type").and_then(Value::as_str) else {
        return false;
    };
    if !kind.starts_with("response.") {
        return false;
    }
    let key = || {
        let id = str_at(v, &["item_id"])
            .map(str::to_owned)
            .or_else(|| str_at(v, &["item", "id"]).map(str::to_owned))
            .unwrap_or_else(|| {
                v.get("output_index")
                    .and_then(Value::as_u64)
                    .unwrap_or(0)
                    .to_string()
            });
        format!("r{id}")
    };
    match kind {
        "response.output_text.delta"
        | "response.reasoning_text.delta"
        | "response.reasoning_summary_text.delta"
        | "response.refusal.delta" => {
            if let Some(t) = str_at(v, &["delta"]) {
                out.push(Piece::Text(t.to_owned()));
            }
        }
        "response.output_item.added" if str_at(v, &["item", "type"]) == Some("function_call") => {
            let name = str_at(v, &["item", "name"]).unwrap_or("").to_owned();
            out.push(Piece::ToolName { key: key(), name });
        }
        "response.function_call_arguments.delta" => {
            if let Some(t) = str_at(v, &["delta"]) {
                out.push(Piece::ToolArgs {
                    key: key(),
                    text: t.to_owned(),
                });
            }
        }
        "response.function_call_arguments.done" | "response.output_item.done" => {
            out.push(Piece::ToolEnd { key: key() });
        }
        _ => {}
    }
    true
}

/// Gemini `streamGenerateContent` (`candidates[].content.parts[]`).
fn gemini(v: &Value, out: &mut Vec<Piece>) -> bool {
    let Some(cands) = v.get("candidates").and_then(Value::as_array) else {
        return false;
    };
    for (ci, cand) in cands.iter().enumerate() {
        let Some(parts) = cand
            .get("content")
            .and_then(|c| c.get("parts"))
            .and_then(Value::as_array)
        else {
            continue;
        };
        for (pi, part) in parts.iter().enumerate() {
            if let Some(t) = str_at(part, &["text"]) {
                out.push(Piece::Text(t.to_owned()));
            }
            if let Some(call) = part.get("functionCall") {
                let key = format!("g{ci}.{pi}.{}", out.len());
                let name = str_at(call, &["name"]).unwrap_or("").to_owned();
                out.push(Piece::ToolName {
                    key: key.clone(),
                    name,
                });
                if let Some(args) = call.get("args") {
                    out.push(Piece::ToolArgs {
                        key: key.clone(),
                        text: args.to_string(),
                    });
                }
                out.push(Piece::ToolEnd { key });
            }
        }
    }
    true
}

/// Ollama `/api/chat` and `/api/generate` NDJSON lines.
fn ollama(v: &Value, out: &mut Vec<Piece>) -> bool {
    if v.get("model").is_none() || v.get("done").is_none() {
        return false;
    }
    if let Some(t) = str_at(v, &["response"]) {
        out.push(Piece::Text(t.to_owned()));
    }
    if let Some(msg) = v.get("message") {
        if let Some(t) = str_at(msg, &["content"]) {
            out.push(Piece::Text(t.to_owned()));
        }
        if let Some(calls) = msg.get("tool_calls").and_then(Value::as_array) {
            for call in calls {
                let key = format!("l{}", out.len());
                let name = str_at(call, &["function", "name"]).unwrap_or("").to_owned();
                out.push(Piece::ToolName {
                    key: key.clone(),
                    name,
                });
                if let Some(args) = call.get("function").and_then(|f| f.get("arguments")) {
                    let text = match args {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    };
                    out.push(Piece::ToolArgs {
                        key: key.clone(),
                        text,
                    });
                }
                out.push(Piece::ToolEnd { key });
            }
        }
    }
    true
}

fn is_empty_json(v: &Value) -> bool {
    match v {
        Value::Object(m) => m.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Null => true,
        _ => false,
    }
}

/// Appends every string value of `v` (keys skipped), one per line.
pub fn string_values(v: &Value, out: &mut String, depth: usize) {
    if depth > 64 {
        return;
    }
    match v {
        Value::String(s) => {
            if !out.is_empty() {
                out.push('\n');
            }
            out.push_str(s);
        }
        Value::Array(a) => a.iter().for_each(|x| string_values(x, out, depth + 1)),
        Value::Object(m) => m.values().for_each(|x| string_values(x, out, depth + 1)),
        _ => {}
    }
}

/// What becomes of findings in the text a model provider streams back
/// (see [`MODEL_PROVIDER_HOSTS`]): that text is the agent's own model
/// explaining things, such as an install with `curl … | sh`.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Default,
    serde::Serialize,
    serde::Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum ModelText {
    /// Not reported.
    Off,
    /// Reported at severity `low`.
    #[default]
    Low,
    /// Reported at the rule's own severity.
    Full,
}

impl ModelText {
    pub const ALL: [(&'static str, ModelText); 3] = [
        ("off", ModelText::Off),
        ("low", ModelText::Low),
        ("full", ModelText::Full),
    ];
}

/// Hosts of model APIs: on a stream from these, the text is the agent's
/// own model speaking (see `DetectorOptions::model_text`).
pub const MODEL_PROVIDER_HOSTS: &[&str] = &[
    "api.anthropic.com",
    "api.openai.com",
    "generativelanguage.googleapis.com",
    ".aiplatform.googleapis.com",
    ".openai.azure.com",
    "api.mistral.ai",
    "api.groq.com",
    "api.deepseek.com",
    "api.x.ai",
    "openrouter.ai",
    "api.together.xyz",
    "api.fireworks.ai",
    "api.cohere.com",
    "api.perplexity.ai",
];

#[cfg(test)]
mod tests {
    use super::super::host_in;
    use super::*;

    fn events(format: StreamFormat, chunks: &[&[u8]]) -> Vec<String> {
        let mut p = EventParser::new(format);
        let mut got = Vec::new();
        for c in chunks {
            p.push(c, &mut |e| {
                got.push(String::from_utf8_lossy(e).into_owned())
            });
        }
        p.finish(&mut |e| got.push(String::from_utf8_lossy(e).into_owned()));
        got
    }

    #[test]
    fn sse_events_join_data_lines_whatever_the_line_endings_and_splits() {
        let body = b"event: x\r\ndata: one\r\ndata:two\r\n\r\n: comment\n\ndata: three\rid: 4\r\rdata: last";
        let whole = events(StreamFormat::Sse, &[body]);
        assert_eq!(whole, ["one\ntwo", "three", "last"]);
        for cut in 0..body.len() {
            let (a, b) = body.split_at(cut);
            assert_eq!(events(StreamFormat::Sse, &[a, b]), whole, "cut at {cut}");
        }
    }

    #[test]
    fn an_oversized_event_is_skipped_and_the_next_one_kept() {
        let mut body = b"data: ".to_vec();
        body.extend(std::iter::repeat_n(b'a', MAX_EVENT_BYTES + 10));
        body.extend_from_slice(b"\n\ndata: after\n\n");
        assert_eq!(events(StreamFormat::Sse, &[&body]), ["after"]);
    }

    #[test]
    fn ndjson_lines_are_events() {
        assert_eq!(
            events(StreamFormat::Ndjson, &[b"{\"a\":1}\n\n{\"b\"", b":2}"]),
            ["{\"a\":1}", "{\"b\":2}"]
        );
    }

    #[test]
    fn the_format_comes_from_the_content_type_or_the_first_bytes() {
        use StreamFormat::*;
        assert_eq!(
            StreamFormat::detect(Some("text/event-stream; charset=utf-8"), b""),
            Some(Sse)
        );
        assert_eq!(
            StreamFormat::detect(Some("application/x-ndjson"), b""),
            Some(Ndjson)
        );
        assert_eq!(StreamFormat::detect(None, b"\n\ndata: {}"), Some(Sse));
        assert_eq!(StreamFormat::detect(Some("text/html"), b"data: x"), None);
        assert_eq!(StreamFormat::detect(None, b"HTTP/1.1 200 OK"), None);
        assert_eq!(
            StreamFormat::detect(
                Some("text/plain; charset=utf-8"),
                b"f:{\"messageId\":\"m\"}\n0:\"a\""
            ),
            Some(PrefixedJson)
        );
        assert_eq!(StreamFormat::detect(Some("text/plain"), b"a: note"), None);
        assert_eq!(
            events(
                PrefixedJson,
                &[b"f:{\"m\":1}\n0:\"cu\"\n0", b":\"rl\"\ne:{}\n"]
            ),
            ["{\"m\":1}", "\"cu\"", "\"rl\"", "{}"]
        );
    }

    fn all(payloads: &[&str]) -> Vec<Piece> {
        let mut out = Vec::new();
        for p in payloads {
            pieces(p.as_bytes(), &mut out);
        }
        out
    }

    /// Streams in no shape read by name (Vercel AI SDK, Cohere v2, TGI,
    /// bare `token` events) give their delta strings as stream text, and
    /// nothing of their ids or types; a long string stays a whole text.
    #[test]
    fn other_streams_give_their_deltas_as_text() {
        let got = all(&[
            r#"{"type":"text-delta","id":"0","delta":"cu"}"#,
            r#"{"type":"content-delta","index":0,"delta":{"message":{"content":{"text":"rl -s"}}}}"#,
            r#"{"index":3,"token":{"id":71278,"text":" x.sh","logprob":-0.25,"special":false},"generated_text":null}"#,
            r#"{"token":" | sh"}"#,
        ]);
        let text: Vec<Piece> = ["cu", "rl -s", " x.sh", " | sh"]
            .iter()
            .map(|t| Piece::Text((*t).into()))
            .collect();
        let deltas: Vec<Piece> = got
            .into_iter()
            .filter(|p| matches!(p, Piece::Text(_)))
            .collect();
        assert_eq!(deltas, text);
        // The rest of an event is still read: here an error beside a delta.
        let got = all(&[r#"{"text":"ok","error":{"message":"run this"}}"#]);
        assert!(got.contains(&Piece::Text("ok".into())), "{got:?}");
        assert!(
            got.iter()
                .any(|p| matches!(p, Piece::Whole(w) if w.contains("run this"))),
            "{got:?}"
        );
        let long = format!(r#"{{"text":"{}"}}"#, "a".repeat(DELTA_MAX + 1));
        assert!(matches!(
            all(&[long.as_str()]).as_slice(),
            [Piece::Whole(_)]
        ));
    }

    #[test]
    fn provider_shapes_yield_text_and_tool_calls() {
        let got = all(&[
            r#"{"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"t","name":"Bash","input":{}}}"#,
            r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"hi"}}"#,
            r#"{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"cmd\":"}}"#,
            r#"{"type":"content_block_stop","index":1}"#,
            r#"{"object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"yo","tool_calls":[{"index":0,"function":{"name":"run","arguments":"{\"a"}}]},"finish_reason":null}]}"#,
            r#"{"type":"response.function_call_arguments.delta","item_id":"fc_1","delta":"x"}"#,
            r#"{"candidates":[{"content":{"parts":[{"text":"g"}]}}]}"#,
            r#"{"model":"llama","message":{"role":"assistant","content":"o"},"done":false}"#,
            r#"{"jsonrpc":"2.0","result":{"content":[{"type":"text","text":"a \"q\""}]}}"#,
            r#"{"jsonrpc":"2.0","method":"notifications/progress","params":{"message":"To f","progressToken":"pt-1"}}"#,
            "plain text",
            "[DONE]",
        ]);
        let expect = vec![
            Piece::ToolName {
                key: "a1".into(),
                name: "Bash".into(),
            },
            Piece::Text("hi".into()),
            Piece::ToolArgs {
                key: "a1".into(),
                text: "{\"cmd\":".into(),
            },
            Piece::ToolEnd { key: "a1".into() },
            Piece::Text("yo".into()),
            Piece::ToolName {
                key: "o0.0".into(),
                name: "run".into(),
            },
            Piece::ToolArgs {
                key: "o0.0".into(),
                text: "{\"a".into(),
            },
            Piece::ToolArgs {
                key: "rfc_1".into(),
                text: "x".into(),
            },
            Piece::Text("g".into()),
            Piece::Text("o".into()),
            Piece::Text("\n".into()),
            Piece::Text("a \"q\"".into()),
            Piece::Text("\n".into()),
            Piece::Whole("2.0\na \"q\"\ntext".into()),
            Piece::Text("To f".into()),
            Piece::Whole("2.0\nnotifications/progress\nTo f\npt-1".into()),
            Piece::Text("plain text".into()),
        ];
        assert_eq!(got, expect);
    }

    #[test]
    fn provider_hosts_match_exactly_or_by_suffix() {
        assert!(host_in("api.openai.com", MODEL_PROVIDER_HOSTS));
        assert!(host_in("x.openai.azure.com", MODEL_PROVIDER_HOSTS));
        assert!(!host_in("evilapi.openai.com.example", MODEL_PROVIDER_HOSTS));
        assert!(!host_in("notapi.anthropic.com", MODEL_PROVIDER_HOSTS));
    }
}
