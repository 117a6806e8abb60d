//! Message Disposition Notifications (RFC 3798 as RFC 4130 uses them): the receipt we answer,
//! and reading the receipt a partner answers.

use openssl::x509::X509;

use super::certs::Identity;
use super::cms::{self, Digest};
use super::mime::{self, Entity};
use super::{bare_message_id, As2Error};

/// What an MDN says about one message.
#[derive(Clone, Debug)]
pub struct Disposition {
    pub original_message_id: String,
    /// `None` for processed; else the failure modifier (`decryption-failed`...).
    pub error: Option<String>,
    /// The MIC and its algorithm name, when the message was processed.
    pub mic: Option<(String, String)>,
}

/// An MDN built: its headers (Content-Type and the AS2 headers) and body.
#[derive(Clone, Debug)]
pub struct BuiltMdn {
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

pub struct MdnParties<'a> {
    /// Our AS2 name (AS2-From of the MDN), and the partner's (AS2-To).
    pub ours: &'a str,
    pub theirs: &'a str,
}

/// Builds the MDN for a message; signed with `sign` when the sender asked for a signed
/// receipt and we have an identity.
pub fn build(
    parties: &MdnParties<'_>,
    disposition: &Disposition,
    sign: Option<(Digest, &Identity)>,
) -> Result<BuiltMdn, As2Error> {
    let inner_boundary = mime::boundary();
    let (text, status) = match &disposition.error {
        None => (
            "The AS2 message was received and its payload stored. This receipt does not say \
             anything about the payload's content."
                .to_owned(),
            "processed".to_owned(),
        ),
        Some(modifier) => {
            (format!("The AS2 message could not be processed: {modifier}."), format!("processed/error: {modifier}"))
        }
    };
    let mut report = format!(
        "Reporting-UA: Crossdock/{version}\r\n\
         Original-Recipient: rfc822; {ours}\r\n\
         Final-Recipient: rfc822; {ours}\r\n\
         Original-Message-ID: <{id}>\r\n\
         Disposition: automatic-action/MDN-sent-automatically; {status}\r\n",
        version = env!("CARGO_PKG_VERSION"),
        ours = parties.ours,
        id = disposition.original_message_id,
    );
    if let (None, Some((mic, alg))) = (&disposition.error, &disposition.mic) {
        report.push_str(&format!("Received-Content-MIC: {mic}, {alg}\r\n"));
    }
    let mut body = Vec::new();
    body.extend_from_slice(format!("--{inner_boundary}\r\nContent-Type: text/plain; charset=us-ascii\r\nContent-Transfer-Encoding: 7bit\r\n\r\n{text}\r\n").as_bytes());
    body.extend_from_slice(
        format!("--{inner_boundary}\r\nContent-Type: message/disposition-notification\r\nContent-Transfer-Encoding: 7bit\r\n\r\n{report}").as_bytes(),
    );
    body.extend_from_slice(format!("--{inner_boundary}--\r\n").as_bytes());
    let report_type = format!("multipart/report; report-type=disposition-notification; boundary=\"{inner_boundary}\"");
    let (content_type, body) = match sign {
        None => (report_type, body),
        Some((digest, identity)) => {
            let mut content = format!("Content-Type: {report_type}\r\n\r\n").into_bytes();
            content.extend_from_slice(&body);
            let mut signed = super::message::sign_entity(&content, identity, digest, cms::SignatureScheme::Pkcs1)?;
            (signed.headers.remove(0).1, signed.body)
        }
    };
    let headers = vec![
        ("Content-Type".to_owned(), content_type),
        ("MIME-Version".to_owned(), "1.0".to_owned()),
        ("AS2-Version".to_owned(), "1.2".to_owned()),
        ("AS2-From".to_owned(), super::quote_name(parties.ours)),
        ("AS2-To".to_owned(), super::quote_name(parties.theirs)),
        ("Message-ID".to_owned(), format!("<{}>", new_message_id(parties.ours))),
    ];
    Ok(BuiltMdn { headers, body })
}

/// A fresh Message-ID (without brackets).
pub fn new_message_id(as2_id: &str) -> String {
    let host: String = as2_id.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '.').collect();
    let host = if host.is_empty() { "crossdock".to_owned() } else { host.to_ascii_lowercase() };
    format!("{}@{host}.crossdock", uuid::Uuid::now_v7().simple())
}

/// An MDN read: what it says, and whether it was signed (and verified).
#[derive(Clone, Debug)]
pub struct ReadMdn {
    pub disposition: Disposition,
    pub signed: bool,
}

/// Reads an MDN whose top-level Content-Type is `content_type`, verifying its signature with
/// the partner's certificates when it is signed.
pub fn read(content_type: &str, body: &[u8], partner_certificates: &[X509]) -> Result<ReadMdn, As2Error> {
    let mut entity = Entity { headers: vec![("Content-Type".into(), content_type.to_owned())], body: body.to_vec() };
    let mut signed = false;
    let ct = entity.content_type();
    if ct.is("multipart/signed") {
        let boundary = ct.param("boundary").ok_or_else(|| As2Error::malformed("a signed MDN without a boundary"))?;
        let parts = mime::split_multipart(&entity.body, boundary)?;
        let [content, signature] = parts[..] else {
            return Err(As2Error::malformed("a signed MDN that is not the report and its signature"));
        };
        let signature = Entity::parse(signature)?.decoded_body()?;
        cms::verify(content, &signature, partner_certificates)?;
        signed = true;
        entity = Entity::parse(content)?;
    }
    let ct = entity.content_type();
    if !ct.is("multipart/report") {
        return Err(As2Error::malformed(format!("an MDN of type {}; expected multipart/report", ct.mime)));
    }
    let boundary = ct.param("boundary").ok_or_else(|| As2Error::malformed("an MDN report without a boundary"))?;
    let notification = mime::split_multipart(&entity.body, boundary)?
        .into_iter()
        .filter_map(|part| Entity::parse(part).ok())
        .find(|part| part.content_type().is("message/disposition-notification"))
        .ok_or_else(|| As2Error::malformed("an MDN report without a message/disposition-notification part"))?;
    Ok(ReadMdn { disposition: fields(&notification.decoded_body()?)?, signed })
}

/// The fields of a message/disposition-notification body.
pub fn fields(body: &[u8]) -> Result<Disposition, As2Error> {
    let fields = Entity::parse(body)?;
    let original_message_id = fields
        .header("original-message-id")
        .map(bare_message_id)
        .ok_or_else(|| As2Error::malformed("an MDN without Original-Message-ID"))?;
    let disposition = fields.header("disposition").ok_or_else(|| As2Error::malformed("an MDN without Disposition"))?;
    // "automatic-action/MDN-sent-automatically; processed/error: decryption-failed"
    let status = disposition.rsplit(';').next().unwrap_or_default().trim();
    let (kind, modifier) = match status.split_once(':') {
        Some((kind, modifier)) => (kind.trim(), Some(modifier.trim())),
        None => (status, None),
    };
    let kind = kind.to_ascii_lowercase();
    let error = if kind == "processed" && modifier.is_none() {
        None
    } else if kind.starts_with("processed/warning") {
        // A warning still means processed (RFC 4130 7.5.3 lets a receiver warn).
        None
    } else {
        Some(modifier.map(str::to_owned).unwrap_or(kind))
    };
    let mic = fields.header("received-content-mic").map(|value| {
        let (mic, alg) = value.split_once(',').unwrap_or((value, ""));
        (mic.trim().to_owned(), alg.trim().to_owned())
    });
    Ok(Disposition { original_message_id, error, mic })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signed_mdn_reads_back_and_a_forged_one_does_not() {
        let (cert, key) = crate::as2::certs::self_signed("US", 30).unwrap();
        let identity = Identity {
            as2_id: "US".into(),
            certificate: X509::from_pem(cert.as_bytes()).unwrap(),
            key: openssl::pkey::PKey::private_key_from_pem(key.as_bytes()).unwrap(),
        };
        let disposition = Disposition {
            original_message_id: "abc@them".into(),
            error: None,
            mic: Some(("bWlj".into(), "sha-256".into())),
        };
        let parties = MdnParties { ours: "US", theirs: "THEM" };
        let mdn = build(&parties, &disposition, Some((Digest::Sha256, &identity))).unwrap();
        let read_back = read(&mdn.headers[0].1, &mdn.body, std::slice::from_ref(&identity.certificate)).unwrap();
        assert!(read_back.signed);
        assert_eq!(read_back.disposition.original_message_id, "abc@them");
        assert_eq!(read_back.disposition.error, None);
        assert_eq!(read_back.disposition.mic, Some(("bWlj".into(), "sha-256".into())));

        let forged =
            String::from_utf8(mdn.body).unwrap().replace("; processed", "; processed/error: decryption-failed");
        assert!(read(&mdn.headers[0].1, forged.as_bytes(), &[identity.certificate]).is_err());

        let failed = Disposition { error: Some("decryption-failed".into()), ..disposition };
        let mdn = build(&parties, &failed, None).unwrap();
        let read_back = read(&mdn.headers[0].1, &mdn.body, &[]).unwrap();
        assert_eq!(read_back.disposition.error.as_deref(), Some("decryption-failed"));
        assert_eq!(read_back.disposition.mic, None);
    }
}
