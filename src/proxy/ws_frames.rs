//! Reads WebSocket messages from a copy of one direction of a relayed
//! WebSocket connection (RFC 6455), so that the relayed bytes themselves
//! are never re-framed: frames are parsed as they pass, client frames are
//! unmasked, fragments are joined and `permessage-deflate` (RFC 7692)
//! messages are inflated, all on copies. A pure state machine: bytes in,
//! complete messages out, bounded by `max` bytes per message (what goes
//! beyond is counted, not kept).

use flate2::{Decompress, FlushDecompress, Status};

/// One complete data message as read from the wire (inflated when it was
/// compressed), cut at the bound.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WsMessage {
    pub text: bool,
    pub payload: Vec<u8>,
    /// Bytes of the message beyond the bound (not kept, not scanned).
    pub dropped: u64,
}

/// Why a direction stopped being parsed (the rest is relayed unparsed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WsStop {
    /// Not a valid frame sequence (or an inflate error).
    Malformed,
}

/// The parser of one direction.
pub struct WsReader {
    max: usize,
    deflate: Option<Decompress>,
    buf: Vec<u8>,
    /// Payload bytes still to read of the current frame, its mask and position.
    frame_left: u64,
    mask: Option<[u8; 4]>,
    mask_pos: usize,
    control: bool,
    fin: bool,
    /// The message being assembled: text?, compressed?, raw payload, dropped.
    msg: Option<(bool, bool, Vec<u8>, u64)>,
    stopped: Option<WsStop>,
}

impl WsReader {
    /// `deflate`: `permessage-deflate` was negotiated for the connection.
    pub fn new(max: usize, deflate: bool) -> Self {
        WsReader {
            max,
            deflate: deflate.then(|| Decompress::new(false)),
            buf: Vec::new(),
            frame_left: 0,
            mask: None,
            mask_pos: 0,
            control: false,
            fin: false,
            msg: None,
            stopped: None,
        }
    }

    pub fn stopped(&self) -> Option<WsStop> {
        self.stopped
    }

    /// Feeds relayed bytes; returns the messages they complete.
    pub fn feed(&mut self, mut bytes: &[u8]) -> Vec<WsMessage> {
        let mut out = Vec::new();
        while self.stopped.is_none() && !bytes.is_empty() {
            if self.frame_left > 0 {
                let n = usize::try_from(self.frame_left)
                    .unwrap_or(usize::MAX)
                    .min(bytes.len());
                let (now, rest) = bytes.split_at(n);
                self.take_payload(now);
                bytes = rest;
                self.frame_left -= n as u64;
                if self.frame_left == 0 {
                    self.end_frame(&mut out);
                }
                continue;
            }
            // Header: at most 14 bytes; buffered until complete.
            let need = 14usize.saturating_sub(self.buf.len()).min(bytes.len());
            let (head, _) = bytes.split_at(need);
            self.buf.extend_from_slice(head);
            match self.parse_header() {
                Ok(Some(used)) => {
                    // Bytes of this feed that were not part of the header go back.
                    let consumed_here = used.saturating_sub(self.buf.len() - need);
                    bytes = bytes.get(consumed_here..).unwrap_or_default();
                    self.buf.clear();
                    if self.frame_left == 0 {
                        self.end_frame(&mut out);
                    }
                }
                Ok(None) => bytes = bytes.get(need..).unwrap_or_default(),
                Err(stop) => self.stopped = Some(stop),
            }
        }
        out
    }

    /// Parses the buffered header: `Some(header length)` when complete.
    fn parse_header(&mut self) -> Result<Option<usize>, WsStop> {
        let b = &self.buf;
        let (Some(&b0), Some(&b1)) = (b.first(), b.get(1)) else {
            return Ok(None);
        };
        let fin = b0 & 0x80 != 0;
        let rsv1 = b0 & 0x40 != 0;
        let opcode = b0 & 0x0f;
        let masked = b1 & 0x80 != 0;
        let (len, mut at) = match b1 & 0x7f {
            126 => match b.get(2..4) {
                Some(l) => (u64::from(u16::from_be_bytes([l[0], l[1]])), 4),
                None => return Ok(None),
            },
            127 => match b.get(2..10).and_then(|l| <[u8; 8]>::try_from(l).ok()) {
                Some(l) => (u64::from_be_bytes(l), 10),
                None => return Ok(None),
            },
            n => (u64::from(n), 2),
        };
        let mask = if masked {
            match b.get(at..at + 4).and_then(|m| <[u8; 4]>::try_from(m).ok()) {
                Some(m) => {
                    at += 4;
                    Some(m)
                }
                None => return Ok(None),
            }
        } else {
            None
        };
        let control = opcode & 0x08 != 0;
        match opcode {
            0x0 => {
                if self.msg.is_none() {
                    return Err(WsStop::Malformed);
                }
            }
            0x1 | 0x2 => {
                if self.msg.is_some() {
                    return Err(WsStop::Malformed);
                }
                if rsv1 && self.deflate.is_none() {
                    return Err(WsStop::Malformed);
                }
                self.msg = Some((opcode == 0x1, rsv1, Vec::new(), 0));
            }
            0x8..=0xa => {
                if !fin || len > 125 {
                    return Err(WsStop::Malformed);
                }
            }
            _ => return Err(WsStop::Malformed),
        }
        self.frame_left = len;
        self.mask = mask;
        self.mask_pos = 0;
        self.control = control;
        self.fin = fin;
        Ok(Some(at))
    }

    fn take_payload(&mut self, bytes: &[u8]) {
        if self.control {
            return; // control payloads (ping, pong, close) are not messages
        }
        let Some((_, _, payload, dropped)) = self.msg.as_mut() else {
            return;
        };
        let room = self.max.saturating_sub(payload.len()).min(bytes.len());
        let start = payload.len();
        payload.extend_from_slice(bytes.get(..room).unwrap_or_default());
        *dropped += (bytes.len() - room) as u64;
        if let Some(mask) = self.mask {
            for (i, b) in payload.iter_mut().skip(start).enumerate() {
                *b ^= mask[(self.mask_pos + i) % 4];
            }
        }
        self.mask_pos = (self.mask_pos + bytes.len()) % 4;
    }

    fn end_frame(&mut self, out: &mut Vec<WsMessage>) {
        if self.control || !self.fin {
            return;
        }
        let Some((text, compressed, raw, dropped)) = self.msg.take() else {
            return;
        };
        if !compressed {
            out.push(WsMessage {
                text,
                payload: raw,
                dropped,
            });
            return;
        }
        match self.inflate(raw, dropped) {
            Ok(msg) => out.push(WsMessage { text, ..msg }),
            Err(stop) => self.stopped = Some(stop),
        }
    }

    /// Inflates one compressed message (context kept across messages, as
    /// the sender may take it over), at most `max` bytes of output.
    fn inflate(&mut self, raw: Vec<u8>, dropped: u64) -> Result<WsMessage, WsStop> {
        let Some(mut z) = self.deflate.take() else {
            return Err(WsStop::Malformed);
        };
        let out = Self::inflate_with(&mut z, self.max, raw, dropped)?;
        // A cut message leaves the shared context unknown: later messages
        // cannot be inflated (the reader stops at the next compressed one).
        if dropped == 0 {
            self.deflate = Some(z);
        }
        Ok(out)
    }

    fn inflate_with(
        z: &mut Decompress,
        max: usize,
        mut raw: Vec<u8>,
        dropped: u64,
    ) -> Result<WsMessage, WsStop> {
        raw.extend_from_slice(&[0x00, 0x00, 0xff, 0xff]);
        let mut out: Vec<u8> = Vec::with_capacity(raw.len().saturating_mul(2).min(max));
        let mut input = raw.as_slice();
        let mut more = dropped;
        loop {
            if out.len() >= max {
                // Bound reached: the rest is not inflated (counted as unknown).
                more = more.max(1);
                break;
            }
            let before_in = z.total_in();
            let before_out = z.total_out();
            out.reserve((max - out.len()).min(64 * 1024));
            let spare = out.capacity() - out.len();
            let status = z
                .decompress_vec(input, &mut out, FlushDecompress::Sync)
                .map_err(|_| WsStop::Malformed)?;
            let used = usize::try_from(z.total_in() - before_in).unwrap_or(usize::MAX);
            input = input.get(used..).unwrap_or_default();
            let produced = z.total_out() - before_out;
            if status == Status::StreamEnd || (input.is_empty() && (produced as usize) < spare) {
                break;
            }
            if used == 0 && produced == 0 {
                break;
            }
        }
        out.truncate(max);
        Ok(WsMessage {
            text: false,
            payload: out,
            dropped: more,
        })
    }
}

/// Whether a `Sec-WebSocket-Extensions` value (the server's answer) accepts
/// `permessage-deflate`.
pub fn negotiated_deflate(extensions: &str) -> bool {
    extensions.split(',').any(|ext| {
        ext.split(';')
            .next()
            .is_some_and(|name| name.trim().eq_ignore_ascii_case("permessage-deflate"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::{Compress, Compression, FlushCompress};

    fn frame(fin: bool, rsv1: bool, opcode: u8, payload: &[u8], mask: Option<[u8; 4]>) -> Vec<u8> {
        let mut f = vec![(u8::from(fin) << 7) | (u8::from(rsv1) << 6) | opcode];
        let m = if mask.is_some() { 0x80 } else { 0 };
        match payload.len() {
            n if n < 126 => f.push(m | n as u8),
            n if n < 65536 => {
                f.push(m | 126);
                f.extend_from_slice(&(n as u16).to_be_bytes());
            }
            n => {
                f.push(m | 127);
                f.extend_from_slice(&(n as u64).to_be_bytes());
            }
        }
        match mask {
            Some(k) => {
                f.extend_from_slice(&k);
                f.extend(payload.iter().enumerate().map(|(i, b)| b ^ k[i % 4]));
            }
            None => f.extend_from_slice(payload),
        }
        f
    }

    fn deflate(z: &mut Compress, data: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(data.len() + 64);
        z.compress_vec(data, &mut out, FlushCompress::Sync).unwrap();
        assert!(out.ends_with(&[0, 0, 0xff, 0xff]));
        out.truncate(out.len() - 4);
        out
    }

    #[test]
    fn masked_fragmented_and_binary_messages_are_read_at_any_split() {
        let mut wire = Vec::new();
        wire.extend(frame(false, false, 0x1, b"hello ", Some([1, 2, 3, 4])));
        wire.extend(frame(true, false, 0x9, b"ping", Some([9, 9, 9, 9])));
        wire.extend(frame(false, false, 0x0, b"wor", Some([5, 6, 7, 8])));
        wire.extend(frame(true, false, 0x0, b"ld", Some([0, 1, 0, 1])));
        wire.extend(frame(true, false, 0x2, &[0x82, 0xa1, 0xff, 0x00], None));
        let big = vec![b'x'; 70_000];
        wire.extend(frame(true, false, 0x2, &big, Some([7, 7, 7, 7])));
        for cut in [1, 2, 3, 7, 13, 100] {
            let mut r = WsReader::new(1 << 20, false);
            let mut got = Vec::new();
            for chunk in wire.chunks(cut) {
                got.extend(r.feed(chunk));
            }
            assert_eq!(r.stopped(), None);
            assert_eq!(got.len(), 3, "cut {cut}");
            assert_eq!(got[0].payload, b"hello world");
            assert!(got[0].text);
            assert_eq!(got[1].payload, [0x82, 0xa1, 0xff, 0x00]);
            assert!(!got[1].text);
            assert_eq!(got[2].payload, big);
        }
    }

    #[test]
    fn deflated_messages_are_inflated_with_context_takeover_and_bounded() {
        let mut z = Compress::new(Compression::default(), false);
        let one = b"first message with some words".repeat(3);
        let two = b"first message with some words again".to_vec();
        let mut wire = frame(true, true, 0x1, &deflate(&mut z, &one), Some([3, 1, 4, 1]));
        wire.extend(frame(
            true,
            true,
            0x1,
            &deflate(&mut z, &two),
            Some([2, 7, 1, 8]),
        ));
        let mut r = WsReader::new(1 << 20, true);
        let got = r.feed(&wire);
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].payload, one);
        assert_eq!(got[1].payload, two);
        // A bomb is cut at the bound.
        let mut z = Compress::new(Compression::default(), false);
        let bomb = vec![b'a'; 5 << 20];
        let wire = frame(true, true, 0x2, &deflate(&mut z, &bomb), None);
        let mut r = WsReader::new(64 << 10, true);
        let got = r.feed(&wire);
        assert_eq!(got[0].payload.len(), 64 << 10);
        assert!(got[0].dropped > 0);
    }

    #[test]
    fn garbage_stops_the_reader_and_extensions_are_recognised() {
        let mut r = WsReader::new(1024, false);
        assert!(r.feed(&frame(true, false, 0x0, b"x", None)).is_empty());
        assert_eq!(r.stopped(), Some(WsStop::Malformed));
        assert!(negotiated_deflate(
            "permessage-deflate; client_max_window_bits"
        ));
        assert!(negotiated_deflate("x-foo, Permessage-Deflate"));
        assert!(!negotiated_deflate("x-permessage-deflate"));
    }
}
