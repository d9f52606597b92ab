//! The guardian's certificate authority: created once in `<home>/ca` (dir
//! 0700, key 0600, cert 0644) or loaded from there (a key another user owns
//! or can read is refused), and the leaf issuer used
//! for MITM. Leaves carry IP SANs for IP hosts (hudsucker's rcgen authority
//! puts every host in a DNS SAN, which clients reject for `https://127.0.0.1`).
//! The private key never leaves this module: only the certificate PEM, its
//! fingerprint and its path are exposed.

use std::collections::{HashMap, VecDeque};
use std::fs;
use std::io::Write;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use rcgen::{
    self, BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose,
    IsCa, Issuer, KeyPair, KeyUsagePurpose, SanType,
};
use sha2::{Digest, Sha256};
use tokio_rustls::rustls::crypto::CryptoProvider;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio_rustls::rustls::server::{ClientHello, ResolvesServerCert};
use tokio_rustls::rustls::sign::CertifiedKey;
use tokio_rustls::rustls::ServerConfig;
use tracing::{debug, info, warn};

use super::error::ProxyError;
use super::pivot::normalize_host;

/// File name of the CA certificate inside the CA directory.
pub const CA_CERT_FILE: &str = "ca-cert.pem";
/// File name of the CA private key inside the CA directory (never exported).
pub const CA_KEY_FILE: &str = "ca-key.pem";
/// Bound of the leaf certificate cache.
pub const LEAF_CACHE_CAPACITY: usize = 1000;
/// Leaves are re-issued after this long (they are valid for 30 days).
const LEAF_REFRESH_SECS: u64 = 24 * 3600;
const LEAF_VALID_DAYS: i64 = 30;
const CA_VALID_DAYS: i64 = 3650;

/// Public facts about the CA (no key material).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CaInfo {
    /// Path of the public certificate PEM.
    pub cert_path: PathBuf,
    /// SHA-256 of the DER certificate, uppercase hex with colons (openssl style).
    pub fingerprint_sha256: String,
    /// The public certificate, PEM.
    pub cert_pem: String,
}

fn store_err(path: &Path, reason: impl std::fmt::Display) -> ProxyError {
    ProxyError::CaStore {
        path: path.to_path_buf(),
        reason: reason.to_string(),
    }
}

/// SHA-256 fingerprint of DER bytes, formatted like `openssl x509 -fingerprint -sha256`.
pub fn fingerprint_sha256(der: &[u8]) -> String {
    Sha256::digest(der)
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

fn first_cert_der(pem: &str) -> Option<CertificateDer<'static>> {
    rustls_pemfile::certs(&mut pem.as_bytes())
        .next()
        .and_then(|r| r.ok())
}

/// Reads the CA certificate's public facts, if a CA exists in `ca_dir`.
pub fn ca_info(ca_dir: &Path) -> Option<CaInfo> {
    let cert_path = ca_dir.join(CA_CERT_FILE);
    let cert_pem = fs::read_to_string(&cert_path).ok()?;
    let der = first_cert_der(&cert_pem)?;
    Some(CaInfo {
        fingerprint_sha256: fingerprint_sha256(&der),
        cert_path,
        cert_pem,
    })
}

/// Creates the CA in `ca_dir` if absent (tightening a too-open directory;
/// refusing a key another user owns or can read)
/// and returns its public facts.
pub fn ensure_ca(ca_dir: &Path) -> Result<CaInfo, ProxyError> {
    load_or_create(ca_dir).map(|(info, _)| info)
}

/// Copies only the public CA certificate to `out_dir`; returns the written path.
pub fn export_ca_cert(ca_dir: &Path, out_dir: &Path) -> Result<PathBuf, ProxyError> {
    let info = ca_info(ca_dir).ok_or_else(|| store_err(ca_dir, "no CA certificate here"))?;
    fs::create_dir_all(out_dir).map_err(|e| store_err(out_dir, e))?;
    let out = out_dir.join("clawsec-traffic-guardian-ca.pem");
    write_file(&out, info.cert_pem.as_bytes(), 0o644)?;
    Ok(out)
}

/// Writes a file atomically (temp file + rename) with the given Unix mode from the start.
fn write_file(path: &Path, bytes: &[u8], mode: u32) -> Result<(), ProxyError> {
    let dir = path.parent().unwrap_or_else(|| Path::new("."));
    let tmp = dir.join(format!(
        ".{}.tmp-{}",
        path.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        std::process::id()
    ));
    let mut opts = fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(mode);
    }
    #[cfg(not(unix))]
    let _ = mode;
    let mut f = opts.open(&tmp).map_err(|e| store_err(&tmp, e))?;
    f.write_all(bytes)
        .and_then(|_| f.sync_all())
        .map_err(|e| store_err(&tmp, e))?;
    drop(f);
    set_mode(&tmp, mode)?;
    fs::rename(&tmp, path).map_err(|e| store_err(path, e))
}

#[cfg(unix)]
fn set_mode(path: &Path, mode: u32) -> Result<(), ProxyError> {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).map_err(|e| store_err(path, e))
}

#[cfg(not(unix))]
fn set_mode(_path: &Path, _mode: u32) -> Result<(), ProxyError> {
    Ok(())
}

/// Tightens a path's mode to at most `max_mode` (warns when it had to).
#[cfg(unix)]
fn tighten(path: &Path, max_mode: u32) -> Result<(), ProxyError> {
    use std::os::unix::fs::PermissionsExt;
    let meta = fs::metadata(path).map_err(|e| store_err(path, e))?;
    let mode = meta.permissions().mode() & 0o777;
    if mode & !max_mode != 0 {
        warn!(path = %path.display(), mode = format!("{mode:o}"), "CA store permissions too open; tightening");
        set_mode(path, mode & max_mode)?;
    }
    Ok(())
}

#[cfg(not(unix))]
fn tighten(_path: &Path, _max_mode: u32) -> Result<(), ProxyError> {
    Ok(())
}

/// A CA key that another user owns or can read is refused: it may have
/// been planted (and would sign every MITM leaf), or already copied.
#[cfg(unix)]
fn refuse_unprivate_key(ca_dir: &Path, key_path: &Path) -> Result<(), ProxyError> {
    let meta = fs::metadata(key_path).map_err(|e| store_err(key_path, e))?;
    let regenerate = format!(
        "delete the CA to regenerate it (rm -r {}; then re-export the new certificate to containers)",
        ca_dir.display()
    );
    crate::storage::keyfile::check_private_file(key_path, &meta, &regenerate)
        .map_err(|e| store_err(key_path, format!("refusing the CA key: {e}")))
}

#[cfg(not(unix))]
fn refuse_unprivate_key(_ca_dir: &Path, _key_path: &Path) -> Result<(), ProxyError> {
    Ok(())
}

fn ca_params() -> CertificateParams {
    let mut params = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, "ClawSec Traffic Guardian Local CA");
    dn.push(DnType::OrganizationName, "ClawSec Traffic Guardian");
    params.distinguished_name = dn;
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let now = time::OffsetDateTime::now_utc();
    params.not_before = now - time::Duration::days(1);
    params.not_after = now + time::Duration::days(CA_VALID_DAYS);
    params.serial_number = Some(random_serial());
    params
}

fn random_serial() -> rcgen::SerialNumber {
    let mut buf = [0u8; 16];
    if getrandom::fill(&mut buf).is_err() {
        // Fall back to the clock: serials must be unique, not secret.
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        buf = nanos.to_be_bytes();
    }
    buf[0] &= 0x7f; // positive
    buf[0] |= 0x01; // no leading zero byte
    rcgen::SerialNumber::from_slice(&buf)
}

/// Loads the CA from `ca_dir`, creating it first if the directory holds none.
fn load_or_create(ca_dir: &Path) -> Result<(CaInfo, KeyPair), ProxyError> {
    let cert_path = ca_dir.join(CA_CERT_FILE);
    let key_path = ca_dir.join(CA_KEY_FILE);
    if ca_dir.exists() {
        tighten(ca_dir, 0o700)?; // says so in the log when it had to
    }
    // Created owner-only from the start (not created, then chmod-ed: the
    // directory that will hold the CA key was never open to others).
    crate::storage::private_dir::ensure_private_dir(ca_dir).map_err(|e| store_err(ca_dir, e))?;
    match (cert_path.exists(), key_path.exists()) {
        (true, true) => {
            refuse_unprivate_key(ca_dir, &key_path)?;
            let key_pem = fs::read_to_string(&key_path).map_err(|e| store_err(&key_path, e))?;
            let key = KeyPair::from_pem(&key_pem)
                .map_err(|_| store_err(&key_path, "CA key is not a valid PEM private key"))?;
            let info = ca_info(ca_dir)
                .ok_or_else(|| store_err(&cert_path, "CA certificate is not a valid PEM"))?;
            let der = first_cert_der(&info.cert_pem)
                .ok_or_else(|| store_err(&cert_path, "CA certificate is not a valid PEM"))?;
            let (_, parsed) = x509_parser::parse_x509_certificate(&der)
                .map_err(|_| store_err(&cert_path, "CA certificate does not parse"))?;
            // The key must belong to the certificate, or every leaf would be rejected.
            if parsed.public_key().subject_public_key.data.as_ref() != key.public_key_raw() {
                return Err(store_err(&key_path, "CA key does not match the CA certificate"));
            }
            debug!(path = %ca_dir.display(), "loaded CA");
            Ok((info, key))
        }
        (false, false) => {
            let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)
                .map_err(|e| ProxyError::Certificate(format!("generating CA key: {e}")))?;
            let cert = ca_params()
                .self_signed(&key)
                .map_err(|e| ProxyError::Certificate(format!("self-signing CA: {e}")))?;
            write_file(&key_path, key.serialize_pem().as_bytes(), 0o600)?;
            write_file(&cert_path, cert.pem().as_bytes(), 0o644)?;
            let info = ca_info(ca_dir)
                .ok_or_else(|| store_err(&cert_path, "CA certificate just written is unreadable"))?;
            info!(path = %ca_dir.display(), fingerprint = %info.fingerprint_sha256, "created CA");
            Ok((info, key))
        }
        _ => Err(store_err(
            ca_dir,
            "only one of ca-cert.pem / ca-key.pem exists; restore the missing file or remove both to create a new CA",
        )),
    }
}

/// Resolver that offers no certificate: the TLS handshake fails cleanly.
/// Used only if issuing a leaf fails, so that no path panics.
#[derive(Debug)]
struct NoCert;

impl ResolvesServerCert for NoCert {
    fn resolve(&self, _client_hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        None
    }
}

struct LeafCache {
    map: HashMap<String, (Arc<ServerConfig>, Instant)>,
    order: VecDeque<String>,
}

/// Issues (and caches) MITM leaf certificates signed by the guardian's CA.
pub struct GuardianCa {
    issuer: Issuer<'static, KeyPair>,
    leaf_key: KeyPair,
    leaf_key_der: PrivateKeyDer<'static>,
    provider: Arc<CryptoProvider>,
    cache: Mutex<LeafCache>,
    fallback: Arc<ServerConfig>,
    info: CaInfo,
}

impl GuardianCa {
    /// Loads or creates the CA in `ca_dir`.
    pub fn open(ca_dir: &Path, provider: Arc<CryptoProvider>) -> Result<Self, ProxyError> {
        let (info, key) = load_or_create(ca_dir)?;
        let issuer = Issuer::from_ca_cert_pem(&info.cert_pem, key)
            .map_err(|e| ProxyError::Certificate(format!("loading CA: {e}")))?;
        // One key for every leaf: generating a key per host costs time and buys nothing here.
        let leaf_key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)
            .map_err(|e| ProxyError::Certificate(format!("generating leaf key: {e}")))?;
        let leaf_key_der = PrivateKeyDer::from(PrivatePkcs8KeyDer::from(leaf_key.serialize_der()));
        let fallback = no_cert_config(Arc::clone(&provider))?;
        Ok(GuardianCa {
            issuer,
            leaf_key,
            leaf_key_der,
            provider,
            cache: Mutex::new(LeafCache {
                map: HashMap::new(),
                order: VecDeque::new(),
            }),
            fallback,
            info,
        })
    }

    /// Public facts of the CA.
    pub fn info(&self) -> &CaInfo {
        &self.info
    }

    /// Number of cached leaf configurations (bounded by [`LEAF_CACHE_CAPACITY`]).
    pub fn cached_leaves(&self) -> usize {
        self.cache.lock().map(|c| c.map.len()).unwrap_or(0)
    }

    fn leaf_params(host: &str) -> Result<CertificateParams, ProxyError> {
        let mut params = CertificateParams::default();
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, host);
        params.distinguished_name = dn;
        let san = match host.parse::<IpAddr>() {
            Ok(ip) => SanType::IpAddress(ip),
            Err(_) => SanType::DnsName(
                host.try_into()
                    .map_err(|_| ProxyError::Certificate("host is not a valid DNS name".into()))?,
            ),
        };
        params.subject_alt_names = vec![san];
        params.is_ca = IsCa::ExplicitNoCa;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.use_authority_key_identifier_extension = true;
        let now = time::OffsetDateTime::now_utc();
        params.not_before = now - time::Duration::seconds(60);
        params.not_after = now + time::Duration::days(LEAF_VALID_DAYS);
        params.serial_number = Some(random_serial());
        Ok(params)
    }

    /// Issues a server config for `host` (no cache).
    pub fn issue(&self, host: &str) -> Result<Arc<ServerConfig>, ProxyError> {
        let cert = Self::leaf_params(host)?
            .signed_by(&self.leaf_key, &self.issuer)
            .map_err(|e| ProxyError::Certificate(format!("signing leaf: {e}")))?;
        let mut cfg = ServerConfig::builder_with_provider(Arc::clone(&self.provider))
            .with_safe_default_protocol_versions()
            .map_err(|e| ProxyError::Tls(e.to_string()))?
            .with_no_client_auth()
            .with_single_cert(vec![cert.der().clone()], self.leaf_key_der.clone_key())
            .map_err(|e| ProxyError::Tls(e.to_string()))?;
        // The client chooses HTTP/2 or HTTP/1.1; the upstream is chosen
        // independently (see `upstream::build_client_tls`).
        cfg.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok(Arc::new(cfg))
    }

    /// Cached server config for `host`, issuing one if needed.
    pub fn server_config_for(&self, host: &str) -> Arc<ServerConfig> {
        let host = normalize_host(host);
        if let Ok(cache) = self.cache.lock() {
            if let Some((cfg, at)) = cache.map.get(&host) {
                if at.elapsed().as_secs() < LEAF_REFRESH_SECS {
                    return Arc::clone(cfg);
                }
            }
        }
        match self.issue(&host) {
            Ok(cfg) => {
                if let Ok(mut cache) = self.cache.lock() {
                    if cache
                        .map
                        .insert(host.clone(), (Arc::clone(&cfg), Instant::now()))
                        .is_none()
                    {
                        cache.order.push_back(host);
                    }
                    while cache.map.len() > LEAF_CACHE_CAPACITY {
                        match cache.order.pop_front() {
                            Some(old) => {
                                cache.map.remove(&old);
                            }
                            None => break,
                        }
                    }
                }
                cfg
            }
            Err(e) => {
                warn!(error = %e, "could not issue a MITM leaf; the client handshake will fail");
                Arc::clone(&self.fallback)
            }
        }
    }
}

/// A server config that offers no certificate (handshakes fail cleanly).
pub fn no_cert_config(provider: Arc<CryptoProvider>) -> Result<Arc<ServerConfig>, ProxyError> {
    Ok(Arc::new(
        ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| ProxyError::Tls(e.to_string()))?
            .with_no_client_auth()
            .with_cert_resolver(Arc::new(NoCert)),
    ))
}
