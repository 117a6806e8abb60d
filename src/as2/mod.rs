//! AS2 (RFC 4130): opening what partners send (decrypt, decompress, verify, compute the MIC),
//! answering with MDNs, and building what we send them, then reading their MDNs.
//!
//! Pure functions over bytes and certificates: the HTTP endpoint is `sources::as2`, the
//! sending loop `sinks::transport`, the receipts and transmissions live in the store.

pub mod certs;
pub mod cms;
pub mod mdn;
pub mod message;
pub mod mime;

/// Why an AS2 message or MDN could not be taken; each kind is one RFC 4130 disposition.
#[derive(Clone, Debug, thiserror::Error)]
#[error("{detail}")]
pub struct As2Error {
    pub kind: As2ErrorKind,
    pub detail: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum As2ErrorKind {
    /// AS2-From or AS2-To names no trading partnership we have.
    UnknownPartner,
    Decryption,
    /// Signed by a certificate not in the partner's profile.
    Authentication,
    /// The signature does not match the content: altered in transit.
    Integrity,
    Decompression,
    /// Unsigned or unencrypted where the profile requires it.
    InsufficientSecurity,
    /// Malformed MIME or headers, or our own failure.
    Unexpected,
}

impl As2Error {
    fn new(kind: As2ErrorKind, detail: impl Into<String>) -> As2Error {
        As2Error { kind, detail: detail.into() }
    }
    pub fn unknown_partner(detail: impl Into<String>) -> As2Error {
        As2Error::new(As2ErrorKind::UnknownPartner, detail)
    }
    pub fn decryption(detail: impl Into<String>) -> As2Error {
        As2Error::new(As2ErrorKind::Decryption, detail)
    }
    pub fn authentication(detail: impl Into<String>) -> As2Error {
        As2Error::new(As2ErrorKind::Authentication, detail)
    }
    pub fn integrity(detail: impl Into<String>) -> As2Error {
        As2Error::new(As2ErrorKind::Integrity, detail)
    }
    pub fn decompression(detail: impl Into<String>) -> As2Error {
        As2Error::new(As2ErrorKind::Decompression, detail)
    }
    pub fn insufficient_security(detail: impl Into<String>) -> As2Error {
        As2Error::new(As2ErrorKind::InsufficientSecurity, detail)
    }
    pub fn malformed(detail: impl Into<String>) -> As2Error {
        As2Error::new(As2ErrorKind::Unexpected, detail)
    }
    pub fn crypto(detail: impl Into<String>) -> As2Error {
        As2Error::new(As2ErrorKind::Unexpected, detail)
    }

    /// The disposition modifier of RFC 4130 section 7.5.3 (and the common
    /// `unknown-trading-partner` extension) an MDN carries for this error.
    pub fn disposition_modifier(&self) -> &'static str {
        match self.kind {
            As2ErrorKind::UnknownPartner => "unknown-trading-partner",
            As2ErrorKind::Decryption => "decryption-failed",
            As2ErrorKind::Authentication => "authentication-failed",
            As2ErrorKind::Integrity => "integrity-check-failed",
            As2ErrorKind::Decompression => "decompression-failed",
            As2ErrorKind::InsufficientSecurity => "insufficient-message-security",
            As2ErrorKind::Unexpected => "unexpected-processing-error",
        }
    }
}

/// An AS2 name as a header carries it: RFC 4130 allows it quoted.
pub fn unquote_name(value: &str) -> String {
    let value = value.trim();
    match value.strip_prefix('"').and_then(|v| v.strip_suffix('"')) {
        Some(inner) => inner.replace("\\\"", "\"").replace("\\\\", "\\"),
        None => value.to_owned(),
    }
}

/// An AS2 name for a header: quoted when it has a space, a quote or a backslash.
pub fn quote_name(name: &str) -> String {
    if name.contains([' ', '"', '\\']) {
        format!("\"{}\"", name.replace('\\', "\\\\").replace('"', "\\\""))
    } else {
        name.to_owned()
    }
}

/// A Message-ID without its angle brackets.
pub fn bare_message_id(value: &str) -> String {
    value.trim().trim_start_matches('<').trim_end_matches('>').to_owned()
}
