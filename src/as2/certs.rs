//! Certificates and keys: the partners' public certificates (PEM files named by profiles),
//! the gateway's own certificate and private key, and self-signed pairs for onboarding.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};
use std::time::SystemTime;

use openssl::asn1::{Asn1Integer, Asn1Time};
use openssl::bn::BigNum;
use openssl::hash::MessageDigest;
use openssl::pkey::{PKey, Private};
use openssl::rsa::Rsa;
use openssl::x509::extension::{BasicConstraints, KeyUsage, SubjectKeyIdentifier};
use openssl::x509::{X509NameBuilder, X509};

use crate::config::secret::Secret;

/// The gateway's own AS2 identity: what it signs and decrypts with.
#[derive(Clone)]
pub struct Identity {
    pub as2_id: String,
    pub certificate: X509,
    pub key: PKey<Private>,
}

/// Every certificate in a PEM file.
pub fn load_certificates(path: &Path) -> Result<Vec<X509>, String> {
    let pem = std::fs::read(path).map_err(|e| format!("cannot read the certificate file {}: {e}", path.display()))?;
    let certs = X509::stack_from_pem(&pem).map_err(|_| format!("{} is not a PEM certificate file", path.display()))?;
    if certs.is_empty() {
        return Err(format!("{} holds no certificate", path.display()));
    }
    Ok(certs)
}

/// The certificates of several files (a partner's, during a rollover), in order.
///
/// Parsed once per file version: a file is read again only when its modification time or size
/// changes (parsing PEM took longer than decrypting a message).
pub fn load_all(paths: &[std::path::PathBuf]) -> Result<Vec<X509>, String> {
    type Cache = HashMap<PathBuf, (Option<SystemTime>, u64, Vec<X509>)>;
    static CACHE: OnceLock<Mutex<Cache>> = OnceLock::new();
    let cache = CACHE.get_or_init(|| Mutex::new(HashMap::new()));
    let mut out = Vec::new();
    for path in paths {
        let meta =
            std::fs::metadata(path).map_err(|e| format!("cannot read the certificate file {}: {e}", path.display()))?;
        let version = (meta.modified().ok(), meta.len());
        let cached = cache
            .lock()
            .ok()
            .and_then(|c| c.get(path).filter(|(m, l, _)| (*m, *l) == version).map(|(_, _, certs)| certs.clone()));
        let certs = match cached {
            Some(certs) => certs,
            None => {
                let certs = load_certificates(path)?;
                if let Ok(mut c) = cache.lock() {
                    c.insert(path.clone(), (version.0, version.1, certs.clone()));
                }
                certs
            }
        };
        out.extend(certs);
    }
    Ok(out)
}

pub fn load_identity(as2_id: &str, certificate: &Path, key: &Secret) -> Result<Identity, String> {
    let certificate = load_certificates(certificate)?.remove(0);
    let pem = key.resolve_bytes().map_err(|e| format!("as2.private_key: {e}"))?;
    let key = PKey::private_key_from_pem(&pem).map_err(|_| "as2.private_key is not a PEM private key".to_owned())?;
    let matches = certificate.public_key().map(|public| public.public_eq(&key)).unwrap_or(false);
    if !matches {
        return Err("as2.private_key does not belong to as2.certificate".into());
    }
    Ok(Identity { as2_id: as2_id.to_owned(), certificate, key })
}

/// Seconds since the Unix epoch when `cert` expires.
pub fn expires_at(cert: &X509) -> Option<i64> {
    let epoch = Asn1Time::from_unix(0).ok()?;
    let diff = epoch.diff(cert.not_after()).ok()?;
    Some(i64::from(diff.days) * 86_400 + i64::from(diff.secs))
}

/// A self-signed RSA-2048 certificate (PEM) and its private key (PEM, PKCS #8) for `as2_id`.
pub fn self_signed(as2_id: &str, days: u32) -> Result<(String, String), openssl::error::ErrorStack> {
    let key = PKey::from_rsa(Rsa::generate(2048)?)?;
    let mut name = X509NameBuilder::new()?;
    name.append_entry_by_text("CN", as2_id)?;
    name.append_entry_by_text("O", "Crossdock AS2")?;
    let name = name.build();
    let mut cert = X509::builder()?;
    cert.set_version(2)?;
    let serial = BigNum::from_slice(&uuid::Uuid::now_v7().into_bytes()[..16])?;
    cert.set_serial_number(Asn1Integer::from_bn(&serial)?.as_ref())?;
    cert.set_subject_name(&name)?;
    cert.set_issuer_name(&name)?;
    cert.set_pubkey(&key)?;
    cert.set_not_before(Asn1Time::days_from_now(0)?.as_ref())?;
    cert.set_not_after(Asn1Time::days_from_now(days)?.as_ref())?;
    cert.append_extension(BasicConstraints::new().critical().build()?)?;
    cert.append_extension(
        KeyUsage::new().critical().digital_signature().key_encipherment().data_encipherment().build()?,
    )?;
    let ski = SubjectKeyIdentifier::new().build(&cert.x509v3_context(None, None))?;
    cert.append_extension(ski)?;
    cert.sign(&key, MessageDigest::sha256())?;
    let cert = cert.build();
    let cert_pem = String::from_utf8_lossy(&cert.to_pem()?).into_owned();
    let key_pem = String::from_utf8_lossy(&key.private_key_to_pem_pkcs8()?).into_owned();
    Ok((cert_pem, key_pem))
}
