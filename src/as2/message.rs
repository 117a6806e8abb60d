//! AS2 messages: opening one a partner sent, building one to send.
//!
//! Opening peels the layers in whatever order the sender wrapped them: enveloped-data
//! (decrypt), compressed-data (inflate), multipart/signed (verify), any of them nested in any
//! order, up to `MAX_LAYERS`. The MIC (RFC 4130 section 7.3.1) is computed over the signed part
//! exactly as it arrived when the message is signed, otherwise over the innermost entity.

use openssl::x509::X509;

use super::certs::Identity;
use super::cms::{self, Digest};
use super::mime::{self, ContentType, Entity};
use super::As2Error;

/// Wrappers deeper than this are refused (a legitimate message has at most three).
const MAX_LAYERS: usize = 6;

/// What the sender asked of the MDN (Disposition-Notification-To / -Options,
/// Receipt-Delivery-Option).
#[derive(Clone, Debug, Default)]
pub struct MdnRequest {
    /// Whether an MDN is asked for at all.
    pub wanted: bool,
    /// Asynchronous: where to POST it.
    pub async_url: Option<String>,
    /// Signed, and with which digest, spelled as the sender spelled it.
    pub signed: Option<(Digest, String)>,
    /// The first MIC algorithm the sender listed that we support, in its spelling.
    pub micalg: Option<(Digest, String)>,
}

impl MdnRequest {
    pub fn from_headers(get: impl Fn(&str) -> Option<String>) -> MdnRequest {
        let wanted = get("disposition-notification-to").is_some();
        let async_url = get("receipt-delivery-option").map(|u| u.trim().to_owned()).filter(|u| !u.is_empty());
        let mut request = MdnRequest { wanted, async_url, ..MdnRequest::default() };
        let Some(options) = get("disposition-notification-options") else { return request };
        // signed-receipt-protocol=optional, pkcs7-signature; signed-receipt-micalg=optional, sha-256, sha1
        let mut wants_signature = false;
        for option in options.split(';') {
            let Some((name, value)) = option.split_once('=') else { continue };
            let mut values = value.split(',').map(str::trim);
            let _importance = values.next();
            match name.trim().to_ascii_lowercase().as_str() {
                "signed-receipt-protocol" => {
                    wants_signature = values.any(|v| v.eq_ignore_ascii_case("pkcs7-signature"));
                }
                "signed-receipt-micalg" => {
                    request.micalg = values.find_map(|v| Digest::from_name(v).map(|d| (d, v.to_owned())));
                }
                _ => {}
            }
        }
        if wants_signature {
            request.signed = Some(request.micalg.clone().unwrap_or((Digest::Sha256, "sha-256".into())));
        }
        request
    }
}

/// An AS2 message opened.
#[derive(Clone, Debug)]
pub struct Opened {
    /// The payload, transfer encoding undone: the bytes the sender's application sent.
    pub payload: Vec<u8>,
    pub payload_type: String,
    pub filename: Option<String>,
    /// The digest the signature used, when signed.
    pub signed: Option<Digest>,
    pub encrypted: bool,
    pub compressed: bool,
    /// The base64 MIC and the algorithm name to answer it with.
    pub mic: (String, String),
    /// An asynchronous MDN that came to /as2: the disposition-notification entity.
    pub mdn: Option<Entity>,
}

/// What the receiving side needs to open a message.
pub struct Keys<'a> {
    pub identity: Option<&'a Identity>,
    pub partner_certificates: &'a [X509],
}

/// Opens a message whose top-level entity is `content_type` (with `transfer_encoding`, which
/// some senders put in the HTTP headers) and `body`.
pub fn open(
    content_type: &str,
    transfer_encoding: Option<&str>,
    body: &[u8],
    keys: &Keys<'_>,
    request: &MdnRequest,
    limit: usize,
) -> Result<Opened, As2Error> {
    let mut entity = Entity {
        headers: vec![("Content-Type".into(), content_type.to_owned())],
        body: mime::decode_transfer(transfer_encoding, body)?,
    };
    let (mut signed, mut encrypted, mut compressed) = (None, false, false);
    let mut mic_content: Option<Vec<u8>> = None;
    for _ in 0..MAX_LAYERS {
        let ct = entity.content_type();
        if ct.is("application/pkcs7-mime") || ct.is("application/x-pkcs7-mime") {
            let der = entity.decoded_body()?;
            let smime_type = ct.param("smime-type").map(str::to_ascii_lowercase);
            let is_compressed = smime_type.as_deref() == Some("compressed-data")
                || (smime_type.is_none() && der.windows(11).take(64).any(|w| w == COMPRESSED_DATA_OID));
            if is_compressed {
                let inflated = cms::decompress(&der, limit)?;
                compressed = true;
                entity = Entity::parse(&inflated)?;
            } else {
                let identity = keys.identity.ok_or_else(|| {
                    As2Error::decryption(
                        "the message is encrypted but the gateway has no AS2 certificate and key configured",
                    )
                })?;
                let decrypted = cms::decrypt(&der, &identity.certificate, &identity.key)?;
                encrypted = true;
                // Garbage out of a decryption that "worked" is a corrupted or misdirected
                // envelope, not a MIME problem of the sender's.
                entity = Entity::parse(&decrypted).map_err(|e| {
                    As2Error::decryption(format!(
                        "the decrypted content is not a MIME entity ({}): corrupted in transit, or encrypted for another key",
                        e.detail
                    ))
                })?;
            }
            continue;
        }
        if ct.is("multipart/signed") {
            let boundary =
                ct.param("boundary").ok_or_else(|| As2Error::malformed("multipart/signed without a boundary"))?;
            let parts = mime::split_multipart(&entity.body, boundary)?;
            let [content, signature] = parts[..] else {
                return Err(As2Error::malformed(format!(
                    "multipart/signed with {} parts; expected the content and its signature",
                    parts.len()
                )));
            };
            let signature_entity = Entity::parse(signature)?;
            let signature_type = signature_entity.content_type();
            if !(signature_type.is("application/pkcs7-signature") || signature_type.is("application/x-pkcs7-signature"))
            {
                return Err(As2Error::malformed(format!(
                    "the second part of multipart/signed is {}; expected application/pkcs7-signature",
                    signature_type.mime
                )));
            }
            let digest = cms::verify(content, &signature_entity.decoded_body()?, keys.partner_certificates)?;
            signed = Some(digest.unwrap_or(Digest::Sha256));
            mic_content.get_or_insert_with(|| content.to_vec());
            entity = Entity::parse(content)?;
            continue;
        }
        let mic_alg = request.micalg.clone().unwrap_or_else(|| {
            let digest = signed.unwrap_or(Digest::Sha256);
            (digest, digest.micalg().to_owned())
        });
        let mic_bytes = mic_content.unwrap_or_else(|| entity.to_bytes());
        let mic = (mic_alg.0.mic(&mic_bytes), mic_alg.1);
        let mdn = if ct.is("multipart/report") { Some(entity.clone()) } else { None };
        let filename = entity
            .header("content-disposition")
            .map(ContentType::parse)
            .and_then(|d| d.param("filename").map(str::to_owned));
        return Ok(Opened {
            payload: entity.decoded_body()?,
            payload_type: ct.mime,
            filename,
            signed,
            encrypted,
            compressed,
            mic,
            mdn,
        });
    }
    Err(As2Error::malformed(format!("the message is wrapped more than {MAX_LAYERS} layers deep")))
}

/// id-ct-compressedData as DER, to recognise a compressed body whose smime-type is missing.
const COMPRESSED_DATA_OID: &[u8] = &[0x06, 0x0b, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x10, 0x01, 0x09];

/// How to wrap an outbound message.
pub struct Wrapping<'a> {
    pub sign: Option<Digest>,
    pub signature: cms::SignatureScheme,
    pub encrypt: Option<openssl::symm::Cipher>,
    pub key_transport: cms::KeyTransport,
    pub compress: bool,
    pub identity: &'a Identity,
    pub partner_certificates: &'a [X509],
}

/// A message ready to POST.
#[derive(Clone, Debug)]
pub struct Built {
    /// The HTTP headers of the top-level entity (Content-Type, and Content-Transfer-Encoding
    /// when needed); the AS2 headers are the caller's.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// The MIC the MDN should return: base64 and its algorithm.
    pub mic: (String, Digest),
}

/// Wraps `payload` (content type `payload_type`): compress, then sign, then encrypt, the order
/// RFC 5402 recommends and most partners expect.
pub fn build(payload: &[u8], payload_type: &str, filename: &str, wrapping: &Wrapping<'_>) -> Result<Built, As2Error> {
    let mut entity = Entity {
        headers: vec![
            ("Content-Type".into(), payload_type.to_owned()),
            ("Content-Transfer-Encoding".into(), "binary".into()),
            ("Content-Disposition".into(), format!("attachment; filename={}", mime::quote(filename))),
        ],
        body: payload.to_vec(),
    };
    let mic_digest = wrapping.sign.unwrap_or(Digest::Sha256);
    let mut mic = mic_digest.mic(&entity.to_bytes());
    if wrapping.compress {
        entity = Entity {
            headers: vec![
                ("Content-Type".into(), "application/pkcs7-mime; smime-type=compressed-data; name=smime.p7z".into()),
                ("Content-Transfer-Encoding".into(), "binary".into()),
                ("Content-Disposition".into(), "attachment; filename=smime.p7z".into()),
            ],
            body: cms::compress(&entity.to_bytes()),
        };
    }
    if let Some(digest) = wrapping.sign {
        let content = entity.to_bytes();
        mic = digest.mic(&content);
        entity = sign_entity(&content, wrapping.identity, digest, wrapping.signature)?;
    }
    if let Some(cipher) = wrapping.encrypt {
        let enveloped =
            cms::encrypt(&entity.to_bytes(), wrapping.partner_certificates, cipher, wrapping.key_transport)?;
        entity = Entity {
            headers: vec![
                ("Content-Type".into(), "application/pkcs7-mime; smime-type=enveloped-data; name=smime.p7m".into()),
                ("Content-Transfer-Encoding".into(), "binary".into()),
                ("Content-Disposition".into(), "attachment; filename=smime.p7m".into()),
            ],
            body: enveloped,
        };
    }
    Ok(Built { headers: entity.headers, body: entity.body, mic: (mic, mic_digest) })
}

/// `content` (a whole MIME entity) and its detached signature as multipart/signed
/// (RFC 1847): the first part is exactly `content`, the bytes the signature covers.
pub fn sign_entity(
    content: &[u8],
    identity: &Identity,
    digest: Digest,
    scheme: cms::SignatureScheme,
) -> Result<Entity, As2Error> {
    let signature = cms::sign(content, &identity.certificate, &identity.key, digest, scheme)?;
    let boundary = mime::boundary();
    let mut body = Vec::with_capacity(content.len() + signature.len() * 2 + 512);
    body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
    body.extend_from_slice(content);
    body.extend_from_slice(format!("\r\n--{boundary}\r\n").as_bytes());
    body.extend_from_slice(
        b"Content-Type: application/pkcs7-signature; name=smime.p7s; smime-type=signed-data\r\n\
          Content-Transfer-Encoding: base64\r\n\
          Content-Disposition: attachment; filename=smime.p7s\r\n\r\n",
    );
    body.extend_from_slice(&mime::base64_lines(&signature));
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    let content_type = format!(
        "multipart/signed; protocol=\"application/pkcs7-signature\"; micalg={}; boundary=\"{boundary}\"",
        digest.micalg()
    );
    Ok(Entity { headers: vec![("Content-Type".into(), content_type)], body })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::as2::certs;

    fn identity(id: &str) -> Identity {
        let (cert, key) = certs::self_signed(id, 30).unwrap();
        Identity {
            as2_id: id.into(),
            certificate: X509::from_pem(cert.as_bytes()).unwrap(),
            key: openssl::pkey::PKey::private_key_from_pem(key.as_bytes()).unwrap(),
        }
    }

    #[test]
    fn every_wrapping_opens_to_the_same_bytes_with_the_mic_the_sender_expects() {
        let (us, them) = (identity("US"), identity("THEM"));
        let payload = b"ISA*00*~\r\nGS*PO~\n\x00binary\r\n";
        for sign in [None, Some(Digest::Sha1), Some(Digest::Sha256), Some(Digest::Sha512)] {
            for encrypt in
                [None, Some(openssl::symm::Cipher::aes_256_cbc()), Some(openssl::symm::Cipher::des_ede3_cbc())]
            {
                for compress in [false, true] {
                    let certs = [us.certificate.clone()];
                    // RSASSA-PSS and RSAES-OAEP along with compression, PKCS #1 v1.5 without.
                    let (signature, key_transport) = if compress {
                        (cms::SignatureScheme::Pss, cms::KeyTransport::Oaep)
                    } else {
                        (cms::SignatureScheme::Pkcs1, cms::KeyTransport::Pkcs1)
                    };
                    let wrapping = Wrapping {
                        sign,
                        signature,
                        encrypt,
                        key_transport,
                        compress,
                        identity: &them,
                        partner_certificates: &certs,
                    };
                    let built = build(payload, "application/edi-x12", "po.edi", &wrapping).unwrap();
                    let their_certs = [them.certificate.clone()];
                    let keys = Keys { identity: Some(&us), partner_certificates: &their_certs };
                    let micalg = sign.map(|d| (d, d.micalg().to_owned()));
                    let request = MdnRequest { wanted: true, micalg, ..MdnRequest::default() };
                    let opened = open(&built.headers[0].1, None, &built.body, &keys, &request, 1 << 20).unwrap();
                    assert_eq!(opened.payload, payload, "sign {sign:?} compress {compress}");
                    assert_eq!(opened.signed, sign);
                    assert_eq!(opened.encrypted, encrypt.is_some());
                    assert_eq!(opened.compressed, compress);
                    if sign.is_some() {
                        assert_eq!(opened.mic.0, built.mic.0, "the MIC");
                    }
                }
            }
        }
    }

    #[test]
    fn sign_then_compress_and_a_base64_body_open_too() {
        let (us, them) = (identity("US"), identity("THEM"));
        let certs = [us.certificate.clone()];
        let wrapping = Wrapping {
            sign: Some(Digest::Sha256),
            signature: cms::SignatureScheme::Pkcs1,
            encrypt: None,
            key_transport: cms::KeyTransport::Pkcs1,
            compress: false,
            identity: &them,
            partner_certificates: &certs,
        };
        let signed = build(b"UNB+UNOC:3+X+Y'", "application/edifact", "o.edi", &wrapping).unwrap();
        let signed_entity = Entity { headers: signed.headers.clone(), body: signed.body.clone() };
        // Sign, then compress the signed entity, then send it base64 with the encoding in the
        // HTTP headers.
        let compressed = cms::compress(&signed_entity.to_bytes());
        let base64 = mime::base64_lines(&compressed);
        let their_certs = [them.certificate.clone()];
        let keys = Keys { identity: Some(&us), partner_certificates: &their_certs };
        let request =
            MdnRequest { wanted: true, micalg: Some((Digest::Sha256, "sha256".into())), ..MdnRequest::default() };
        let opened = open(
            "application/pkcs7-mime; smime-type=compressed-data",
            Some("base64"),
            &base64,
            &keys,
            &request,
            1 << 20,
        )
        .unwrap();
        assert_eq!(opened.payload, b"UNB+UNOC:3+X+Y'");
        assert!(opened.compressed && opened.signed.is_some() && !opened.encrypted);
        assert_eq!(opened.mic.0, signed.mic.0, "the MIC is over the signed part, wherever it sits");
        assert_eq!(opened.mic.1, "sha256", "answered in the sender's spelling");
    }

    #[test]
    fn a_wrong_signer_a_changed_body_and_a_wrong_recipient_are_told_apart() {
        let (us, them, stranger) = (identity("US"), identity("THEM"), identity("STRANGER"));
        let certs = [us.certificate.clone()];
        let wrapping = Wrapping {
            sign: Some(Digest::Sha256),
            signature: cms::SignatureScheme::Pkcs1,
            encrypt: None,
            key_transport: cms::KeyTransport::Pkcs1,
            compress: false,
            identity: &stranger,
            partner_certificates: &certs,
        };
        let built = build(b"ISA~", "application/edi-x12", "a", &wrapping).unwrap();
        let their_certs = [them.certificate.clone()];
        let keys = Keys { identity: Some(&us), partner_certificates: &their_certs };
        let err = open(&built.headers[0].1, None, &built.body, &keys, &MdnRequest::default(), 1 << 20).unwrap_err();
        assert_eq!(err.disposition_modifier(), "authentication-failed", "{err}");

        let wrapping = Wrapping { identity: &them, ..wrapping };
        let built = build(b"ISA*00~", "application/edi-x12", "a", &wrapping).unwrap();
        let tampered = String::from_utf8(built.body.clone()).unwrap().replacen("ISA*00~", "ISA*01~", 1);
        let err =
            open(&built.headers[0].1, None, tampered.as_bytes(), &keys, &MdnRequest::default(), 1 << 20).unwrap_err();
        assert_eq!(err.disposition_modifier(), "integrity-check-failed", "{err}");

        let wrapping = Wrapping { sign: None, encrypt: Some(openssl::symm::Cipher::aes_128_cbc()), ..wrapping };
        let stranger_certs = [stranger.certificate.clone()];
        let wrapping = Wrapping { partner_certificates: &stranger_certs, ..wrapping };
        let built = build(b"ISA~", "application/edi-x12", "a", &wrapping).unwrap();
        let err = open(&built.headers[0].1, None, &built.body, &keys, &MdnRequest::default(), 1 << 20).unwrap_err();
        assert_eq!(err.disposition_modifier(), "decryption-failed", "{err}");
    }

    #[test]
    fn mdn_options_in_either_spelling() {
        let options = "signed-receipt-protocol=optional, pkcs7-signature; signed-receipt-micalg=optional, sha256, sha1";
        let request = MdnRequest::from_headers(|name| match name {
            "disposition-notification-to" => Some("x@y".into()),
            "disposition-notification-options" => Some(options.into()),
            _ => None,
        });
        assert!(request.wanted);
        assert_eq!(request.micalg, Some((Digest::Sha256, "sha256".into())));
        assert_eq!(request.signed, Some((Digest::Sha256, "sha256".into())));
        assert!(request.async_url.is_none());
    }
}
