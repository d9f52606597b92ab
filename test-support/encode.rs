//! Content codings as upstreams and clients send them.

use std::io::Write as _;

/// gzip at the default level (what web servers typically send).
pub fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let done = e.write_all(data).and_then(|()| e.finish());
    done.unwrap_or_else(|e| panic!("gzip failed: {e}"))
}

/// Encodes `data` with one `Content-Encoding` (`gzip`, `x-gzip`, `deflate`
/// as zlib, or raw deflate when `raw`, `br`, `zstd`; anything else is left
/// as is), at the fastest level.
pub fn encode(coding: &str, data: &[u8], raw: bool) -> Vec<u8> {
    use flate2::Compression;
    let r: std::io::Result<Vec<u8>> = (|| match coding {
        "gzip" | "x-gzip" => {
            let mut e = flate2::write::GzEncoder::new(Vec::new(), Compression::fast());
            e.write_all(data)?;
            e.finish()
        }
        "deflate" if raw => {
            let mut e = flate2::write::DeflateEncoder::new(Vec::new(), Compression::fast());
            e.write_all(data)?;
            e.finish()
        }
        "deflate" => {
            let mut e = flate2::write::ZlibEncoder::new(Vec::new(), Compression::fast());
            e.write_all(data)?;
            e.finish()
        }
        "br" => {
            let mut out = Vec::new();
            {
                let mut w = brotli::CompressorWriter::new(&mut out, 4096, 1, 20);
                w.write_all(data)?;
            }
            Ok(out)
        }
        "zstd" => zstd::encode_all(data, 1),
        _ => Ok(data.to_vec()),
    })();
    match r {
        Ok(v) => v,
        Err(e) => panic!("encoder failed: {e}"),
    }
}
