//! The CMS / PKCS #7 operations AS2 needs, on the system OpenSSL (the `openssl` crate), plus
//! RFC 3274 compressed-data, which the system OpenSSL is built without (zlib through flate2,
//! and the few DER bytes around it written and read here).

use std::io::{Read, Write};
use std::os::raw::c_int;

use foreign_types::ForeignType;
use openssl::cms::{CMSOptions, CmsContentInfo};
use openssl::hash::MessageDigest;
use openssl::pkcs7::{Pkcs7, Pkcs7Flags};
use openssl::pkey::{PKey, Private};
use openssl::stack::Stack;
use openssl::symm::Cipher;
use openssl::x509::store::X509StoreBuilder;
use openssl::x509::X509;

use super::As2Error;

/// A digest for signatures and MICs, by the names AS2 uses for it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Digest {
    Sha1,
    Sha256,
    Sha384,
    Sha512,
}

impl Digest {
    /// `sha256`, `sha-256`, `SHA256`... (RFC 5751 names and the older dashless ones).
    pub fn from_name(name: &str) -> Option<Digest> {
        match name.trim().to_ascii_lowercase().replace('-', "").as_str() {
            "sha1" => Some(Digest::Sha1),
            "sha256" => Some(Digest::Sha256),
            "sha384" => Some(Digest::Sha384),
            "sha512" => Some(Digest::Sha512),
            _ => None,
        }
    }

    /// The RFC 5751 `micalg` name.
    pub fn micalg(self) -> &'static str {
        match self {
            Digest::Sha1 => "sha-1",
            Digest::Sha256 => "sha-256",
            Digest::Sha384 => "sha-384",
            Digest::Sha512 => "sha-512",
        }
    }

    fn message_digest(self) -> MessageDigest {
        match self {
            Digest::Sha1 => MessageDigest::sha1(),
            Digest::Sha256 => MessageDigest::sha256(),
            Digest::Sha384 => MessageDigest::sha384(),
            Digest::Sha512 => MessageDigest::sha512(),
        }
    }

    /// The base64 digest of `bytes`, as a Received-Content-MIC carries it.
    pub fn mic(self, bytes: &[u8]) -> String {
        use base64::Engine;
        let digest = openssl::hash::hash(self.message_digest(), bytes).map(|d| d.to_vec()).unwrap_or_default();
        base64::engine::general_purpose::STANDARD.encode(digest)
    }
}

/// Content encryption for enveloped-data.
pub fn cipher(name: &str) -> Option<Cipher> {
    match name {
        "aes128-cbc" => Some(Cipher::aes_128_cbc()),
        "aes192-cbc" => Some(Cipher::aes_192_cbc()),
        "aes256-cbc" => Some(Cipher::aes_256_cbc()),
        "3des" => Some(Cipher::des_ede3_cbc()),
        _ => None,
    }
}

/// How we sign what we send, as the partner's profile asks: PKCS #1 v1.5, which every AS2
/// product reads, or RSASSA-PSS.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SignatureScheme {
    #[default]
    Pkcs1,
    Pss,
}

/// How we encrypt the content key for the partner: PKCS #1 v1.5 or RSAES-OAEP.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum KeyTransport {
    #[default]
    Pkcs1,
    Oaep,
}

// CMS functions openssl-sys does not declare; the signatures are those of OpenSSL 3's cms.h.
extern "C" {
    fn CMS_add1_signer(
        cms: *mut openssl_sys::CMS_ContentInfo,
        signcert: *mut openssl_sys::X509,
        pkey: *mut openssl_sys::EVP_PKEY,
        md: *const openssl_sys::EVP_MD,
        flags: std::os::raw::c_uint,
    ) -> *mut std::ffi::c_void;
    fn CMS_SignerInfo_get0_pkey_ctx(si: *mut std::ffi::c_void) -> *mut openssl_sys::EVP_PKEY_CTX;
    fn CMS_add1_recipient_cert(
        cms: *mut openssl_sys::CMS_ContentInfo,
        recip: *mut openssl_sys::X509,
        flags: std::os::raw::c_uint,
    ) -> *mut std::ffi::c_void;
    fn CMS_RecipientInfo_get0_pkey_ctx(ri: *mut std::ffi::c_void) -> *mut openssl_sys::EVP_PKEY_CTX;
    fn CMS_final(
        cms: *mut openssl_sys::CMS_ContentInfo,
        data: *mut openssl_sys::BIO,
        dcont: *mut openssl_sys::BIO,
        flags: std::os::raw::c_uint,
    ) -> c_int;
}

/// Builds a CMS structure with OpenSSL's partial API: `start` makes it, `add` adds signers or
/// recipients (and sets their padding), then `content` is streamed in and it is encoded.
fn cms_partial(
    content: &[u8],
    what: &str,
    flags: CMSOptions,
    start: impl FnOnce(CMSOptions) -> *mut openssl_sys::CMS_ContentInfo,
    add: impl FnOnce(*mut openssl_sys::CMS_ContentInfo) -> Result<(), &'static str>,
) -> Result<Vec<u8>, As2Error> {
    let failed = |step: &str| As2Error::crypto(format!("cannot {what}: {step}: {}", openssl::error::ErrorStack::get()));
    let len =
        c_int::try_from(content.len()).map_err(|_| As2Error::crypto(format!("cannot {what}: content over 2 GiB")))?;
    let raw = start(flags | CMSOptions::PARTIAL);
    if raw.is_null() {
        return Err(failed("start"));
    }
    // SAFETY: `raw` is a fresh CMS_ContentInfo, owned by `cms` at once so that it is freed on
    // every path; the BIO reads `content`, which outlives it, and is freed before returning.
    unsafe {
        let cms = CmsContentInfo::from_ptr(raw);
        add(cms.as_ptr()).map_err(failed)?;
        let bio = openssl_sys::BIO_new_mem_buf(content.as_ptr().cast(), len);
        if bio.is_null() {
            return Err(failed("BIO_new_mem_buf"));
        }
        let done = CMS_final(cms.as_ptr(), bio, std::ptr::null_mut(), flags.bits());
        openssl_sys::BIO_free_all(bio);
        if done != 1 {
            return Err(failed("CMS_final"));
        }
        cms.to_der().map_err(|e| As2Error::crypto(format!("cannot {what}: encoding: {e}")))
    }
}

/// A detached signature (DER) over `content` with the chosen digest: PKCS #1 v1.5, or
/// RSASSA-PSS with the salt as long as the digest and MGF1 over the digest, its parameters
/// written out as RFC 4055 requires.
///
/// The `openssl` crate signs with OpenSSL's default digest and padding only; choosing them
/// takes the partial CMS API and the signer's key context.
pub fn sign(
    content: &[u8],
    cert: &X509,
    key: &PKey<Private>,
    digest: Digest,
    scheme: SignatureScheme,
) -> Result<Vec<u8>, As2Error> {
    let flags = CMSOptions::DETACHED | CMSOptions::BINARY | CMSOptions::NOSMIMECAP;
    cms_partial(
        content,
        "sign",
        flags,
        // SAFETY: CMS_sign with no signer and CMS_PARTIAL only allocates an empty structure.
        |flags| unsafe {
            openssl_sys::CMS_sign(
                std::ptr::null_mut(),
                std::ptr::null_mut(),
                std::ptr::null_mut(),
                std::ptr::null_mut(),
                flags.bits(),
            )
        },
        // SAFETY: the certificate and key are live and OpenSSL takes its own references; the
        // signer's key context belongs to the signer and is only configured here.
        |cms| unsafe {
            let signer = CMS_add1_signer(
                cms,
                cert.as_ptr(),
                key.as_ptr(),
                digest.message_digest().as_ptr(),
                (flags | CMSOptions::KEY_PARAM).bits(),
            );
            if signer.is_null() {
                return Err("CMS_add1_signer");
            }
            if scheme == SignatureScheme::Pss {
                let context = CMS_SignerInfo_get0_pkey_ctx(signer);
                if context.is_null()
                    || openssl_sys::EVP_PKEY_CTX_set_rsa_padding(context, openssl_sys::RSA_PKCS1_PSS_PADDING) <= 0
                    || openssl_sys::EVP_PKEY_CTX_set_rsa_pss_saltlen(context, -1) <= 0
                {
                    return Err("RSASSA-PSS padding");
                }
            }
            Ok(())
        },
    )
}

/// Enveloped data for `certs`, the content key sent with PKCS #1 v1.5 or RSAES-OAEP (SHA-1
/// and MGF1-SHA-1, the defaults every OAEP reader knows).
pub fn encrypt(
    content: &[u8],
    certs: &[X509],
    cipher: Cipher,
    key_transport: KeyTransport,
) -> Result<Vec<u8>, As2Error> {
    let flags = CMSOptions::BINARY;
    cms_partial(
        content,
        "encrypt",
        flags,
        // SAFETY: CMS_encrypt with no recipients and CMS_PARTIAL only allocates the structure.
        |flags| unsafe {
            openssl_sys::CMS_encrypt(std::ptr::null_mut(), std::ptr::null_mut(), cipher.as_ptr(), flags.bits())
        },
        // SAFETY: each certificate is live and OpenSSL takes its own reference; the recipient's
        // key context belongs to the recipient and is only configured here.
        |cms| unsafe {
            for cert in certs {
                let recipient = CMS_add1_recipient_cert(cms, cert.as_ptr(), (flags | CMSOptions::KEY_PARAM).bits());
                if recipient.is_null() {
                    return Err("CMS_add1_recipient_cert");
                }
                if key_transport == KeyTransport::Oaep {
                    let context = CMS_RecipientInfo_get0_pkey_ctx(recipient);
                    if context.is_null()
                        || openssl_sys::EVP_PKEY_CTX_set_rsa_padding(context, openssl_sys::RSA_PKCS1_OAEP_PADDING) <= 0
                    {
                        return Err("RSAES-OAEP padding");
                    }
                }
            }
            Ok(())
        },
    )
}

/// Verifies a detached signature over `content` by one of `certs` (the partner's, pinned:
/// no chain is built and no certificate inside the signature is trusted). Returns the digest
/// the signer used.
pub fn verify(content: &[u8], signature: &[u8], certs: &[X509]) -> Result<Option<Digest>, As2Error> {
    let p7 = Pkcs7::from_der(signature)
        .map_err(|_| As2Error::authentication("the signature part is not a PKCS #7 / CMS signed-data structure"))?;
    let mut stack = Stack::new().map_err(|e| As2Error::crypto(e.to_string()))?;
    for cert in certs {
        stack.push(cert.clone()).map_err(|e| As2Error::crypto(e.to_string()))?;
    }
    let store = X509StoreBuilder::new().map_err(|e| As2Error::crypto(e.to_string()))?.build();
    let flags = Pkcs7Flags::NOVERIFY | Pkcs7Flags::NOINTERN | Pkcs7Flags::BINARY | Pkcs7Flags::DETACHED;
    if p7.signers(&stack, flags).is_err() {
        return Err(As2Error::authentication(
            "the message is signed by a certificate that is not in the partner's profile",
        ));
    }
    // The signature itself through the CMS API, which knows RSASSA-PSS as well as PKCS #1 v1.5
    // signatures; the PKCS #7 one (enough to find the signer above) knows only the latter.
    let mut cms = CmsContentInfo::from_der(signature)
        .map_err(|_| As2Error::authentication("the signature part is not a PKCS #7 / CMS signed-data structure"))?;
    let flags = CMSOptions::NO_SIGNER_CERT_VERIFY | CMSOptions::NOINTERN | CMSOptions::BINARY | CMSOptions::DETACHED;
    if cms.verify(Some(&stack), Some(&store), Some(content), None, flags).is_err()
        && !pss_without_parameters_verifies(content, signature, certs)
    {
        return Err(As2Error::integrity("the signature does not match the signed content: it was changed in transit"));
    }
    Ok(signer_digest(signature))
}

/// Digest algorithm OIDs, as DER content bytes.
const DIGEST_OIDS: [(&[u8], Digest); 4] = [
    (&[0x2b, 0x0e, 0x03, 0x02, 0x1a], Digest::Sha1),
    (&[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01], Digest::Sha256),
    (&[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02], Digest::Sha384),
    (&[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03], Digest::Sha512),
];

/// id-RSASSA-PSS (RFC 4055), and the PKCS #9 message-digest attribute, as DER content bytes.
const ID_RSASSA_PSS: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0a];
const ID_MESSAGE_DIGEST: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x04];

/// Whether a signature whose RSASSA-PSS algorithm identifier leaves out its parameters verifies
/// as pyas2lib (and the oscrypto library under it) signs: with the signer's digest, MGF1 over
/// the same digest, and a salt of the digest's length (under OpenSSL 1.x) or of the most the
/// key allows (OpenSSL 3), which the verification reads from the signature. RFC 4055 requires
/// the parameters in a signature (absent, they mean SHA-1, which those senders do not use), so
/// OpenSSL refuses these; the signature is still checked in full, with the partner's pinned
/// certificate, over the signed attributes, whose message digest must be the content's.
fn pss_without_parameters_verifies(content: &[u8], signature: &[u8], certs: &[X509]) -> bool {
    let Some(signer) = first_signer_info(signature) else { return false };
    let mut fields = Der::new(signer);
    let _version = fields.expect(0x02);
    let _signer_id = fields.next();
    let Some(digest) = fields.sequence().and_then(|mut algorithm| algorithm.expect(0x06)).and_then(|oid| {
        DIGEST_OIDS.iter().find(|(known, _)| *known == oid.as_slice()).map(|(_, digest)| digest.message_digest())
    }) else {
        return false;
    };
    let Some((0xa0, attributes)) = fields.next() else { return false };
    let Some(mut algorithm) = fields.sequence() else { return false };
    if algorithm.expect(0x06).as_deref() != Some(ID_RSASSA_PSS) || algorithm.next().is_some() {
        return false;
    }
    let Some(signature_value) = fields.expect(0x04) else { return false };
    // The signed attributes must hold the content's digest.
    let Ok(content_digest) = openssl::hash::hash(digest, content) else { return false };
    let mut attribute_list = Der::new(attributes);
    let mut message_digests = Vec::new();
    while let Some(mut attribute) = attribute_list.sequence() {
        if attribute.expect(0x06).as_deref() == Some(ID_MESSAGE_DIGEST) {
            message_digests.push(attribute.explicit(0x31).and_then(|mut values| values.expect(0x04)));
        }
    }
    // Exactly one message-digest attribute (RFC 5652 5.3), and it is the content's.
    if message_digests != [Some(content_digest.to_vec())] {
        return false;
    }
    // What was signed is the attributes as a SET OF, not with the [0] tag they are sent with.
    let signed = tlv(0x31, attributes);
    certs.iter().any(|cert| {
        let Ok(key) = cert.public_key() else { return false };
        let Ok(mut verifier) = openssl::sign::Verifier::new(digest, &key) else { return false };
        verifier.set_rsa_padding(openssl::rsa::Padding::PKCS1_PSS).is_ok()
            && verifier.set_rsa_mgf1_md(digest).is_ok()
            // -2, which for a verification means "read the salt length from the signature".
            && verifier.set_rsa_pss_saltlen(openssl::sign::RsaPssSaltlen::MAXIMUM_LENGTH).is_ok()
            && verifier.verify_oneshot(&signature_value, &signed).unwrap_or(false)
    })
}

/// The DER content of the first SignerInfo of a signed-data ContentInfo.
fn first_signer_info(signature: &[u8]) -> Option<&[u8]> {
    let mut content_info = Der::new(signature).sequence()?;
    content_info.expect(0x06)?;
    let mut signed_data = content_info.explicit(0xa0)?.sequence()?;
    // version, digestAlgorithms, encapContentInfo, then optional certificates [0] and CRLs [1].
    while let Some((tag, content)) = signed_data.next() {
        if tag == 0x31 && signed_data.rest.is_empty() {
            return Der::new(content).next().filter(|(tag, _)| *tag == 0x30).map(|(_, signer)| signer);
        }
    }
    None
}

/// The digest algorithm of the first signer, read from the DER (OpenSSL does not expose it).
fn signer_digest(signature: &[u8]) -> Option<Digest> {
    // The OIDs occur in digestAlgorithms and in the SignerInfo.
    DIGEST_OIDS
        .iter()
        .filter_map(|(oid, digest)| {
            let mut tagged = vec![0x06, oid.len() as u8];
            tagged.extend_from_slice(oid);
            memchr::memmem::find(signature, &tagged).map(|at| (at, *digest))
        })
        .min_by_key(|(at, _)| *at)
        .map(|(_, digest)| digest)
}

/// Decrypts for our certificate, whichever key transport the sender used: PKCS #1 v1.5 or
/// RSAES-OAEP. The CMS API reads OAEP as OpenSSL writes it; the PKCS #7 API, which read
/// pyas2lib's, did not.
pub fn decrypt(enveloped: &[u8], cert: &X509, key: &PKey<Private>) -> Result<Vec<u8>, As2Error> {
    let cms = CmsContentInfo::from_der(enveloped)
        .map_err(|_| As2Error::decryption("the encrypted body is not a PKCS #7 / CMS enveloped-data structure"))?;
    cms.decrypt(key, cert).map_err(|_| {
        As2Error::decryption("cannot decrypt: the message is not encrypted for our certificate, or it was corrupted")
    })
}

// RFC 3274 compressed-data, DER:
// ContentInfo ::= SEQUENCE { contentType id-ct-compressedData, content [0] EXPLICIT CompressedData }
// CompressedData ::= SEQUENCE { version 0, compressionAlgorithm SEQUENCE { id-alg-zlibCompress },
//                               encapContentInfo SEQUENCE { eContentType, eContent [0] EXPLICIT OCTET STRING } }
const ID_CT_COMPRESSED_DATA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x10, 0x01, 0x09];
const ID_ALG_ZLIB: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x10, 0x03, 0x08];
const ID_DATA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x01];
/// A decompressed body may be at most this many times the compressed one (a zip bomb guard),
/// and never more than `limit`.
const MAX_RATIO: usize = 1000;

pub fn compress(content: &[u8]) -> Vec<u8> {
    let mut zlib = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    // Writing to a Vec cannot fail.
    let _ = zlib.write_all(content);
    let compressed = zlib.finish().unwrap_or_default();
    let econtent = tlv(0xa0, &tlv(0x04, &compressed));
    let encap = tlv(0x30, &[tlv(0x06, ID_DATA), econtent].concat());
    let algorithm = tlv(0x30, &tlv(0x06, ID_ALG_ZLIB));
    let compressed_data = tlv(0x30, &[tlv(0x02, &[0]), algorithm, encap].concat());
    tlv(0x30, &[tlv(0x06, ID_CT_COMPRESSED_DATA), tlv(0xa0, &compressed_data)].concat())
}

pub fn decompress(der: &[u8], limit: usize) -> Result<Vec<u8>, As2Error> {
    let bad = |what: &str| As2Error::decompression(format!("the compressed-data structure is malformed: {what}"));
    let mut info = Der::new(der).sequence().ok_or_else(|| bad("no ContentInfo"))?;
    if info.expect(0x06).as_deref() != Some(ID_CT_COMPRESSED_DATA) {
        return Err(bad("the content type is not id-ct-compressedData"));
    }
    let mut data = info.explicit(0xa0).and_then(|mut d| d.sequence()).ok_or_else(|| bad("no CompressedData"))?;
    data.expect(0x02).ok_or_else(|| bad("no version"))?;
    let mut algorithm = data.sequence().ok_or_else(|| bad("no compression algorithm"))?;
    if algorithm.expect(0x06).as_deref() != Some(ID_ALG_ZLIB) {
        return Err(As2Error::decompression("the compression algorithm is not zlib (RFC 3274)"));
    }
    let mut encap = data.sequence().ok_or_else(|| bad("no encapsulated content"))?;
    encap.expect(0x06).ok_or_else(|| bad("no content type"))?;
    let mut content = encap.explicit(0xa0).ok_or_else(|| bad("no content"))?;
    let compressed = content.octets(8).ok_or_else(|| bad("the content is not an OCTET STRING"))?;
    let cap = limit.min(compressed.len().saturating_mul(MAX_RATIO)).max(1024);
    let mut out = Vec::new();
    flate2::read::ZlibDecoder::new(&compressed[..])
        .take(cap as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|e| As2Error::decompression(format!("the zlib stream does not inflate: {e}")))?;
    if out.len() > cap {
        return Err(As2Error::decompression(format!(
            "the compressed content inflates beyond {cap} bytes; refused as a compression bomb"
        )));
    }
    Ok(out)
}

fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|b| **b == 0).count();
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
    out.extend_from_slice(content);
    out
}

/// A reader over DER (and the definite-length BER that some senders write).
struct Der<'a> {
    rest: &'a [u8],
}

impl<'a> Der<'a> {
    fn new(bytes: &'a [u8]) -> Der<'a> {
        Der { rest: bytes }
    }

    fn next(&mut self) -> Option<(u8, &'a [u8])> {
        let (&tag, rest) = self.rest.split_first()?;
        let (&first, mut rest) = rest.split_first()?;
        let len = if first < 0x80 {
            first as usize
        } else {
            let n = (first & 0x7f) as usize;
            if n == 0 || n > 4 || rest.len() < n {
                return None;
            }
            let len = rest[..n].iter().fold(0usize, |acc, b| (acc << 8) | *b as usize);
            rest = &rest[n..];
            len
        };
        if rest.len() < len {
            return None;
        }
        let (content, rest) = rest.split_at(len);
        self.rest = rest;
        Some((tag, content))
    }

    fn expect(&mut self, tag: u8) -> Option<Vec<u8>> {
        self.next().filter(|(t, _)| *t == tag).map(|(_, c)| c.to_vec())
    }

    fn sequence(&mut self) -> Option<Der<'a>> {
        self.next().filter(|(t, _)| *t == 0x30).map(|(_, c)| Der::new(c))
    }

    fn explicit(&mut self, tag: u8) -> Option<Der<'a>> {
        self.next().filter(|(t, _)| *t == tag).map(|(_, c)| Der::new(c))
    }

    /// An OCTET STRING, primitive or constructed (BER chunks, nested at most `depth` deep: a
    /// hostile body could otherwise nest deep enough to exhaust the stack).
    fn octets(&mut self, depth: usize) -> Option<Vec<u8>> {
        match self.next()? {
            (0x04, content) => Some(content.to_vec()),
            (0x24, content) if depth > 0 => {
                let mut inner = Der::new(content);
                let mut out = Vec::new();
                while !inner.rest.is_empty() {
                    out.extend(inner.octets(depth - 1)?);
                }
                Some(out)
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compressed_data_round_trips_and_bombs_are_refused() {
        let content = b"ISA*00*...~".repeat(1000);
        let der = compress(&content);
        assert_eq!(decompress(&der, 1 << 20).unwrap(), content);
        let err = decompress(&der, 1024).unwrap_err();
        assert!(err.to_string().contains("compression bomb"), "{err}");
        assert!(decompress(&der[..der.len() - 3], 1 << 20).is_err(), "truncated");
        assert!(decompress(b"\x30\x03\x06\x01\x00", 1 << 20).is_err(), "not compressed-data");
        // Constructed OCTET STRINGs: chunks are read, nesting past the limit is refused (a
        // hostile body nested deep enough would otherwise exhaust the stack).
        let nest = |depth: usize| (0..depth).fold(tlv(0x04, b"x"), |inner, _| tlv(0x24, &inner));
        assert_eq!(Der::new(&nest(8)).octets(8), Some(b"x".to_vec()));
        assert!(Der::new(&nest(9)).octets(8).is_none());
    }

    /// Signs `content` with the OpenSSL command line (an implementation of CMS signing that is
    /// not ours), `padding` being `pkcs1` or `pss`; returns the detached signature (DER) and
    /// the signer's certificate.
    fn signed_by_openssl(content: &[u8], padding: &str) -> (Vec<u8>, X509) {
        let dir = tempfile::tempdir().unwrap();
        let run = |args: &[&str]| {
            let status = std::process::Command::new("openssl")
                .args(args)
                .current_dir(dir.path())
                .stderr(std::process::Stdio::null())
                .status()
                .expect("the openssl command line is needed for this test (Debian package openssl)");
            assert!(status.success(), "openssl {args:?} failed");
        };
        std::fs::write(dir.path().join("content"), content).unwrap();
        run(&["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "key.pem", "-out", "cert.pem"]
            .into_iter()
            .chain(["-subj", "/CN=partner", "-days", "2"])
            .collect::<Vec<_>>());
        let keyopt = format!("rsa_padding_mode:{padding}");
        run(&[
            "cms",
            "-sign",
            "-binary",
            "-in",
            "content",
            "-signer",
            "cert.pem",
            "-inkey",
            "key.pem",
            "-md",
            "sha384",
            "-keyopt",
            &keyopt,
            "-outform",
            "DER",
            "-out",
            "signature.der",
        ]);
        let cert = X509::from_pem(&std::fs::read(dir.path().join("cert.pem")).unwrap()).unwrap();
        (std::fs::read(dir.path().join("signature.der")).unwrap(), cert)
    }

    #[test]
    fn rsassa_pss_and_pkcs1_signatures_verify() {
        let content = b"ISA*00*          *00*...~\r\nGS*PO~\r\n";
        for padding in ["pss", "pkcs1"] {
            let (signature, cert) = signed_by_openssl(content, padding);
            assert_eq!(
                verify(content, &signature, std::slice::from_ref(&cert)).unwrap(),
                Some(Digest::Sha384),
                "{padding}"
            );
            let mut changed = content.to_vec();
            changed[0] = b'J';
            let err = verify(&changed, &signature, &[cert]).unwrap_err();
            assert!(err.to_string().contains("changed in transit"), "{padding}: {err}");
        }
    }

    #[test]
    fn we_sign_with_pss_and_encrypt_with_oaep_and_read_both_back() {
        let (cert_pem, key_pem) = crate::as2::certs::self_signed("US", 2).unwrap();
        let cert = X509::from_pem(cert_pem.as_bytes()).unwrap();
        let key = PKey::private_key_from_pem(key_pem.as_bytes()).unwrap();
        let content = b"Content-Type: application/edi-x12\r\n\r\nISA*00*~";
        let contains = |der: &[u8], oid: &[u8]| memchr::memmem::find(der, oid).is_some();

        let signature = sign(content, &cert, &key, Digest::Sha384, SignatureScheme::Pss).unwrap();
        // rsassaPss, then its parameters (a SEQUENCE that is not empty), as RFC 4055 requires.
        let at = memchr::memmem::find(&signature, ID_RSASSA_PSS).expect("an RSASSA-PSS signature");
        assert!(signature[at + ID_RSASSA_PSS.len()] == 0x30 && signature[at + ID_RSASSA_PSS.len() + 1] > 0);
        assert_eq!(verify(content, &signature, std::slice::from_ref(&cert)).unwrap(), Some(Digest::Sha384));
        assert!(verify(b"changed", &signature, std::slice::from_ref(&cert)).is_err());

        let enveloped =
            encrypt(content, std::slice::from_ref(&cert), Cipher::aes_256_cbc(), KeyTransport::Oaep).unwrap();
        let id_rsaes_oaep = [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x07];
        assert!(contains(&enveloped, &id_rsaes_oaep), "RSAES-OAEP key transport");
        assert_eq!(decrypt(&enveloped, &cert, &key).unwrap(), content);
        // PKCS #1 v1.5 as before, for contrast.
        let plain = encrypt(content, std::slice::from_ref(&cert), Cipher::aes_256_cbc(), KeyTransport::Pkcs1).unwrap();
        assert_eq!(decrypt(&plain, &cert, &key).unwrap(), content);
        assert!(!contains(&plain, &id_rsaes_oaep));
    }

    #[test]
    fn digest_names_in_both_spellings() {
        assert_eq!(Digest::from_name("sha-256"), Some(Digest::Sha256));
        assert_eq!(Digest::from_name(" SHA256"), Some(Digest::Sha256));
        assert_eq!(Digest::from_name("md5"), None);
        assert_eq!(Digest::Sha1.mic(b"abc"), "qZk+NkcGgWq6PiVxeFDCbJzQ2J0=");
    }
}
