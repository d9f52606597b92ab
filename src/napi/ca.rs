use crate::proxy::{ca_info as core_ca_info, ensure_ca, export_ca_cert};
use napi::{Error, Result, Status};
use napi_derive::napi;
use std::path::Path;

/// The guardian CA's public side. The private key is never returned.
#[napi(object)]
pub struct CaInfo {
    /// Path of the public certificate (PEM).
    #[napi(js_name = "cert_path")]
    pub cert_path: String,
    /// SHA-256 fingerprint of the certificate, colon-separated hex.
    pub fingerprint: String,
    /// The CA was created by this call.
    pub created: bool,
}

/// Creates the CA in `caDir` (key 0600) if absent; returns its public info.
#[napi]
pub fn ca_ensure(ca_dir: String) -> Result<CaInfo> {
    let existed = core_ca_info(Path::new(&ca_dir)).is_some();
    let info = ensure_ca(Path::new(&ca_dir))
        .map_err(|e| Error::new(Status::GenericFailure, e.to_string()))?;
    Ok(CaInfo {
        cert_path: info.cert_path.display().to_string(),
        fingerprint: info.fingerprint_sha256,
        created: !existed,
    })
}

/// The CA's public info, or null when no CA exists in `caDir`.
#[napi]
pub fn ca_info(ca_dir: String) -> Option<CaInfo> {
    core_ca_info(Path::new(&ca_dir)).map(|info| CaInfo {
        cert_path: info.cert_path.display().to_string(),
        fingerprint: info.fingerprint_sha256,
        created: false,
    })
}

/// Writes only the public certificate into `outDir` (for a directory
/// mount into containers); returns the written file's path.
#[napi]
pub fn ca_export(ca_dir: String, out_dir: String) -> Result<String> {
    export_ca_cert(Path::new(&ca_dir), Path::new(&out_dir))
        .map(|p| p.display().to_string())
        .map_err(|e| Error::new(Status::GenericFailure, e.to_string()))
}
