//! Which message bodies cannot carry text: images, audio, video, fonts,
//! archives and WebAssembly are forwarded without being scanned as text.
//! The decision needs both the declared `Content-Type` *and* the body's
//! first bytes (its magic number): a body that lies about its type (text
//! served as `image/png`) does not start with a binary signature and is
//! scanned. PDF can carry text and is always scanned, as is SVG (XML text).
//! A pure function of its inputs.

/// What to do with a body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyVerdict {
    /// Scan it as text (the default whenever in doubt).
    Scan,
    /// A binary format that carries no text: forward without scanning.
    Binary,
}

/// Whether a declared media type is an event stream: a body that can stay
/// open for hours, one event after another (Server-Sent Events, the
/// transport of MCP Streamable HTTP and of streamed LLM answers, and
/// newline-delimited JSON streams). Such bodies get the sliding scan budget
/// of [`super::budget`] instead of the one-time `max_scan_bytes`.
pub fn event_stream_type(content_type: &str) -> bool {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    matches!(
        essence.as_str(),
        "text/event-stream"
            | "application/x-ndjson"
            | "application/ndjson"
            | "application/jsonl"
            | "application/x-jsonlines"
            | "application/json-seq"
            | "application/stream+json"
    )
}

/// Whether a declared media type names a format family that cannot carry
/// text (parameters and case ignored). `application/octet-stream` counts:
/// its body is skipped only when its first bytes are a known binary format.
fn binary_type(content_type: &str) -> bool {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    let Some((top, sub)) = essence.split_once('/') else {
        return false;
    };
    match top {
        // SVG is XML text; everything else under image/ is a raster format.
        "image" => !sub.contains("svg"),
        "audio" | "video" | "font" => true,
        "application" => matches!(
            sub,
            "octet-stream"
                | "zip"
                | "gzip"
                | "x-gzip"
                | "x-tar"
                | "x-bzip2"
                | "x-xz"
                | "zstd"
                | "x-7z-compressed"
                | "wasm"
                | "font-woff"
                | "font-woff2"
                | "x-font-woff"
                | "x-font-ttf"
                | "x-font-otf"
                | "vnd.ms-fontobject"
                | "ogg"
                | "mp4"
        ),
        _ => false,
    }
}

/// Whether `first` (a body's first bytes) starts with the signature of a
/// binary format: PNG, JPEG, GIF, WebP/WAV/AVI (RIFF), ISO media (MP4,
/// MOV, AVIF, HEIC: `ftyp`), Ogg, Matroska/WebM, FLAC, MP3, WOFF, WOFF2,
/// TrueType/OpenType, ZIP, gzip, bzip2, xz, zstd, 7z, WebAssembly.
fn binary_magic(first: &[u8]) -> bool {
    const PREFIXES: &[&[u8]] = &[
        b"\x89PNG\r\n\x1a\n",
        b"\xff\xd8\xff",
        b"GIF87a",
        b"GIF89a",
        b"OggS",
        b"\x1a\x45\xdf\xa3",
        b"fLaC",
        b"ID3",
        b"wOFF",
        b"wOF2",
        b"\x00\x01\x00\x00",
        b"OTTO",
        b"PK\x03\x04",
        b"PK\x05\x06",
        b"\x1f\x8b",
        b"BZh",
        b"\xfd7zXZ\x00",
        b"\x28\xb5\x2f\xfd",
        b"7z\xbc\xaf\x27\x1c",
        b"\x00asm",
    ];
    if PREFIXES.iter().any(|p| first.starts_with(p)) {
        return true;
    }
    if first.starts_with(b"RIFF") {
        return matches!(first.get(8..12), Some(b"WEBP" | b"WAVE" | b"AVI "));
    }
    if first.get(4..8) == Some(b"ftyp") {
        return true;
    }
    // MPEG audio frame sync (MP3 without an ID3 tag).
    matches!(first, [0xff, b, ..] if b & 0xe0 == 0xe0)
}

/// Decides from the declared type, the content coding and the first bytes
/// of a body. A body with a `Content-Encoding` (other than `identity`) is
/// always scanned: its first bytes are those of the coding, not of the body.
pub fn body_verdict(
    content_type: Option<&str>,
    content_encoding: Option<&str>,
    first: &[u8],
) -> BodyVerdict {
    let encoded = content_encoding
        .map(str::trim)
        .is_some_and(|e| !e.is_empty() && !e.eq_ignore_ascii_case("identity"));
    match content_type {
        Some(t) if !encoded && binary_type(t) && binary_magic(first) => BodyVerdict::Binary,
        _ => BodyVerdict::Scan,
    }
}

#[cfg(test)]
mod tests {
    use super::{body_verdict, BodyVerdict};

    const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
    const JPEG: &[u8] = b"\xff\xd8\xff\xe0\0\x10JFIF";
    const MP4: &[u8] = b"\0\0\0\x20ftypisom\0\0\x02\0";
    const WEBP: &[u8] = b"RIFF\x24\0\0\0WEBPVP8 ";
    const GZIP: &[u8] = b"\x1f\x8b\x08\0\0\0\0\0";
    const WASM: &[u8] = b"\0asm\x01\0\0\0";

    #[test]
    fn binary_formats_with_matching_types_are_skipped() {
        for (ct, first) in [
            ("image/png", PNG),
            ("IMAGE/JPEG; q=1", JPEG),
            ("image/gif", &b"GIF89a\x01\0"[..]),
            ("image/webp", WEBP),
            ("video/mp4", MP4),
            ("audio/ogg", &b"OggS\0\x02"[..]),
            ("font/woff2", &b"wOF2\0\x01"[..]),
            ("font/woff", &b"wOFF\0\x01"[..]),
            ("application/zip", &b"PK\x03\x04\x14\0"[..]),
            ("application/gzip", GZIP),
            ("application/octet-stream", GZIP),
            ("application/wasm", WASM),
            ("audio/mpeg", &b"ID3\x04\0"[..]),
        ] {
            assert_eq!(
                body_verdict(Some(ct), None, first),
                BodyVerdict::Binary,
                "{ct}"
            );
        }
    }

    #[test]
    fn bodies_that_lie_about_their_type_are_scanned() {
        let text = b"{\"token\": \"AKIA...\"}";
        for ct in [
            "image/png",
            "video/mp4",
            "application/octet-stream",
            "application/gzip",
            "font/woff2",
        ] {
            assert_eq!(
                body_verdict(Some(ct), None, text),
                BodyVerdict::Scan,
                "{ct}"
            );
        }
    }

    #[test]
    fn text_types_pdf_svg_and_unknown_are_scanned() {
        for (ct, first) in [
            (Some("application/pdf"), &b"%PDF-1.7\n"[..]),
            (Some("image/svg+xml"), b"<svg xmlns="),
            (Some("text/plain"), PNG),
            (Some("application/json"), GZIP),
            (None, PNG),
            (Some("garbage"), PNG),
        ] {
            assert_eq!(body_verdict(ct, None, first), BodyVerdict::Scan, "{ct:?}");
        }
    }

    #[test]
    fn content_encoded_bodies_and_short_starts_are_scanned() {
        // The gzip magic here is the transfer coding's, not the body's type.
        assert_eq!(
            body_verdict(Some("image/png"), Some("gzip"), GZIP),
            BodyVerdict::Scan
        );
        assert_eq!(
            body_verdict(Some("image/png"), Some("identity"), PNG),
            BodyVerdict::Binary
        );
        assert_eq!(
            body_verdict(Some("image/png"), None, b""),
            BodyVerdict::Scan
        );
        assert_eq!(
            body_verdict(Some("video/mp4"), None, b"\0\0"),
            BodyVerdict::Scan
        );
    }
}
