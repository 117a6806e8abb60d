//! Partner profiles: one TOML file per trading partner (`partners/<id>.toml`).
//!
//! Loading goes raw (serde, `deny_unknown_fields`) then resolved (checked, defaults applied,
//! cross-reference tables read). Every problem is collected and reported as
//! `file:line: message`; one bad file never hides the others.

use std::collections::HashMap;
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

use crossdock_parsers::Delimiters;
use indexmap::IndexMap;
use serde::Deserialize;
use toml::Spanned;

use super::secret::Secret;
use crate::canonical::{DocumentKind, QualifiedId, Standard};
use crate::translate::Xref;

/// One problem in a profile.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    pub path: PathBuf,
    pub line: usize,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.path.display(), self.line, self.message)
    }
}

// ---- raw ---------------------------------------------------------------------------------

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProfile {
    id: Spanned<String>,
    name: Option<String>,
    x12: Option<Spanned<RawX12>>,
    edifact: Option<Spanned<RawEdifact>>,
    documents: Option<RawDocuments>,
    erp: Option<RawErp>,
    as2: Option<Spanned<RawAs2>>,
    sftp: Option<Spanned<RawSftp>>,
    webhook: Option<Spanned<RawWebhook>>,
    duplicates: Option<RawDuplicates>,
    xref: Option<RawXref>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawX12 {
    interchange_id: Spanned<String>,
    our_interchange_id: Option<Spanned<String>>,
    application_id: Option<String>,
    our_application_id: Option<String>,
    version: Option<Spanned<String>>,
    delimiters: Option<Spanned<RawDelimiters>>,
    acknowledgment: Option<Spanned<String>>,
    ta1: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDelimiters {
    element: Option<String>,
    segment: Option<String>,
    component: Option<String>,
    repetition: Option<String>,
    release: Option<String>,
    decimal: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEdifact {
    interchange_id: Spanned<String>,
    our_interchange_id: Option<Spanned<String>>,
    version: Option<Spanned<String>>,
    syntax: Option<Spanned<String>>,
    acknowledgment: Option<Spanned<String>>,
    association_code: Option<String>,
    delimiters: Option<Spanned<RawDelimiters>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDocuments {
    receive: Option<Vec<Spanned<String>>>,
    send: Option<Vec<Spanned<String>>>,
    send_via: Option<Spanned<String>>,
    acknowledgment_deadline_seconds: Option<u64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawErp {
    url: Option<Spanned<String>>,
    headers: Option<IndexMap<String, Spanned<String>>>,
    timeout_seconds: Option<u64>,
    retry: Option<RawRetry>,
    max_in_flight: Option<u32>,
    max_requests_per_second: Option<u32>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRetry {
    max_attempts: Option<u32>,
    initial_backoff_seconds: Option<u64>,
    max_backoff_seconds: Option<u64>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAs2 {
    as2_id: String,
    url: Option<Spanned<String>>,
    certificate: Spanned<OneOrMany>,
    sign: Option<Spanned<String>>,
    sign_padding: Option<Spanned<String>>,
    encrypt: Option<Spanned<String>>,
    encrypt_padding: Option<Spanned<String>>,
    compress: Option<bool>,
    mdn: Option<Spanned<String>>,
    mdn_signed: Option<bool>,
    require_signed: Option<bool>,
    require_encrypted: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSftp {
    host: String,
    port: Option<u16>,
    user: String,
    private_key: Spanned<String>,
    host_key_sha256: Spanned<String>,
    inbox: String,
    archive: Option<String>,
    after_download: Option<Spanned<String>>,
    outbox: Option<String>,
    poll_interval_seconds: Option<u64>,
    timeout_seconds: Option<u64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWebhook {
    secret: Spanned<String>,
    url: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDuplicates {
    policy: Option<Spanned<String>>,
    window_days: Option<u32>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawXref {
    uom: Option<IndexMap<String, String>>,
    items: Option<Spanned<String>>,
    partner_item_id: Option<Spanned<String>>,
}

// ---- resolved ----------------------------------------------------------------------------

/// Which functional acknowledgment a partner gets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AckKind {
    X997,
    X999,
    Contrl,
    None,
}

/// When a TA1 interchange acknowledgment is sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ta1Policy {
    Always,
    OnError,
    Never,
}

#[derive(Clone, Debug)]
pub struct X12Profile {
    /// ISA05:ISA06 the partner sends from.
    pub interchange_id: QualifiedId,
    /// ISA07:ISA08 it sends to.
    pub our_interchange_id: QualifiedId,
    /// GS02 it sends from (and GS03 we send to it).
    pub application_id: Option<String>,
    pub our_application_id: String,
    /// What we send: `004010` or `005010`.
    pub version: String,
    pub delimiters: Delimiters,
    pub acknowledgment: AckKind,
    pub ta1: Ta1Policy,
}

#[derive(Clone, Debug)]
pub struct EdifactProfile {
    /// UNB sender (id and qualifier).
    pub interchange_id: QualifiedId,
    pub our_interchange_id: QualifiedId,
    /// What we send: `D96A`, `D01B`.
    pub version: String,
    /// UNB syntax identifier and version: (`UNOC`, 3).
    pub syntax: (String, u8),
    pub acknowledgment: AckKind,
    /// UNH association assigned code (`EAN008`).
    pub association_code: Option<String>,
    pub delimiters: Delimiters,
}

/// The transports a partner can be sent documents over.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    As2,
    Sftp,
    Webhook,
}

#[derive(Clone, Debug)]
pub struct Documents {
    pub receive: Vec<String>,
    pub send: Vec<String>,
    pub send_via: Option<Transport>,
    /// Seconds within which the partner acknowledges (997/999/CONTRL/TA1) what we send; past
    /// it the message is flagged. None: no acknowledgment is expected.
    pub acknowledgment_deadline_seconds: Option<u64>,
}

#[derive(Clone, Debug)]
pub struct RetryPolicy {
    pub max_attempts: u32,
    pub initial_backoff_seconds: u64,
    pub max_backoff_seconds: u64,
}

#[derive(Clone, Debug)]
pub struct ErpProfile {
    pub url: Option<String>,
    /// Header name and value; values that name credentials are secret references.
    pub headers: Vec<(String, HeaderValue)>,
    pub timeout_seconds: u64,
    pub retry: RetryPolicy,
    pub max_in_flight: u32,
    pub max_requests_per_second: u32,
}

#[derive(Clone, Debug)]
pub enum HeaderValue {
    Literal(String),
    Secret(Secret),
}

#[derive(Clone, Debug)]
pub struct As2Profile {
    pub as2_id: String,
    pub url: Option<String>,
    pub certificates: Vec<PathBuf>,
    pub sign: String,
    /// `pkcs1` (PKCS #1 v1.5) or `pss` (RSASSA-PSS).
    pub signature: crate::as2::cms::SignatureScheme,
    pub encrypt: String,
    /// `pkcs1` (PKCS #1 v1.5) or `oaep` (RSAES-OAEP).
    pub key_transport: crate::as2::cms::KeyTransport,
    pub compress: bool,
    pub mdn: String,
    pub mdn_signed: bool,
    pub require_signed: bool,
    pub require_encrypted: bool,
}

#[derive(Clone, Debug)]
pub struct SftpProfile {
    pub host: String,
    pub port: u16,
    pub user: String,
    pub private_key: Secret,
    pub host_key_sha256: String,
    pub inbox: String,
    pub archive: Option<String>,
    pub delete_after_download: bool,
    pub outbox: Option<String>,
    pub poll_interval_seconds: u64,
    pub timeout_seconds: u64,
}

#[derive(Clone, Debug)]
pub struct WebhookProfile {
    pub secret: Secret,
    pub url: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DuplicatePolicy {
    Reject,
    Flag,
    Accept,
}

#[derive(Clone, Debug)]
pub struct Duplicates {
    pub policy: DuplicatePolicy,
    pub window_days: u32,
}

/// A partner profile, checked and resolved.
#[derive(Clone, Debug)]
pub struct Partner {
    pub id: String,
    pub name: String,
    pub path: PathBuf,
    pub x12: Option<X12Profile>,
    pub edifact: Option<EdifactProfile>,
    pub documents: Documents,
    pub erp: Option<ErpProfile>,
    pub as2: Option<As2Profile>,
    pub sftp: Option<SftpProfile>,
    pub webhook: Option<WebhookProfile>,
    pub duplicates: Duplicates,
    pub xref: Xref,
}

impl Partner {
    /// Whether we accept this document type (`850`, `ORDERS`) from the partner.
    pub fn receives(&self, document_type: &str) -> bool {
        self.documents.receive.iter().any(|d| d == document_type)
    }

    /// Whether we may send this document kind to the partner, in its standard.
    pub fn sends(&self, kind: DocumentKind) -> bool {
        self.documents.send.iter().any(|d| d == kind.x12_transaction_set() || d == kind.edifact_message())
    }

    /// The standard we send it in: X12 when it has an X12 section, else EDIFACT.
    pub fn standard(&self) -> Option<Standard> {
        if self.x12.is_some() {
            Some(Standard::X12)
        } else if self.edifact.is_some() {
            Some(Standard::Edifact)
        } else {
            None
        }
    }

    /// The envelope of interchanges we send it, in `standard`.
    pub fn envelope_spec(&self, standard: Standard) -> Option<crate::translate::render::envelope::EnvelopeSpec> {
        use crate::translate::render::envelope::EnvelopeSpec;
        match standard {
            Standard::X12 => self.x12.as_ref().map(|x| EnvelopeSpec {
                standard,
                version: x.version.clone(),
                delimiters: x.delimiters,
                sender: x.our_interchange_id.clone(),
                receiver: x.interchange_id.clone(),
                application_sender: x.our_application_id.clone(),
                application_receiver: x.application_id.clone().unwrap_or_else(|| x.interchange_id.id.clone()),
                syntax: ("UNOC".into(), 3),
                association_code: None,
                test: false,
            }),
            Standard::Edifact => self.edifact.as_ref().map(|e| EnvelopeSpec {
                standard,
                version: e.version.clone(),
                delimiters: e.delimiters,
                sender: e.our_interchange_id.clone(),
                receiver: e.interchange_id.clone(),
                application_sender: String::new(),
                application_receiver: String::new(),
                syntax: e.syntax.clone(),
                association_code: e.association_code.clone(),
                test: false,
            }),
        }
    }

    /// The functional acknowledgment it gets for a standard.
    pub fn acknowledgment(&self, standard: Standard) -> AckKind {
        match standard {
            Standard::X12 => self.x12.as_ref().map(|x| x.acknowledgment).unwrap_or(AckKind::None),
            Standard::Edifact => self.edifact.as_ref().map(|e| e.acknowledgment).unwrap_or(AckKind::None),
        }
    }
}

// ---- loading -----------------------------------------------------------------------------

/// Collects problems with line numbers while a file is resolved.
struct Checker<'a> {
    path: &'a Path,
    text: &'a str,
    problems: Vec<Problem>,
}

impl Checker<'_> {
    fn line(&self, span: Range<usize>) -> usize {
        self.text[..span.start.min(self.text.len())].bytes().filter(|b| *b == b'\n').count() + 1
    }

    fn problem(&mut self, span: Range<usize>, message: impl Into<String>) {
        let line = self.line(span);
        self.problems.push(Problem { path: self.path.to_owned(), line, message: message.into() });
    }

    /// `value` must be one of `allowed`.
    fn choice<'v>(&mut self, field: &str, value: &'v Spanned<String>, allowed: &[&str]) -> Option<&'v str> {
        let v = value.get_ref().as_str();
        if allowed.contains(&v) {
            return Some(v);
        }
        self.problem(value.span(), format!("{field} must be one of {}, not {v:?}", allowed.join(", ")));
        None
    }

    fn secret(&mut self, field: &str, value: &Spanned<String>) -> Option<Secret> {
        match Secret::parse(value.get_ref()) {
            Ok(secret) => Some(secret),
            Err(err) => {
                self.problem(value.span(), format!("{field}: {err}"));
                None
            }
        }
    }
}

/// `QQ:ID` (X12) or `ID:QQ` (EDIFACT).
fn qualified(
    checker: &mut Checker<'_>,
    field: &str,
    value: &Spanned<String>,
    standard: Standard,
) -> Option<QualifiedId> {
    let text = value.get_ref();
    let parts: Vec<&str> = text.splitn(2, ':').collect();
    let (qualifier, id) = match (standard, parts.as_slice()) {
        (Standard::X12, [q, id]) => (*q, *id),
        (Standard::Edifact, [id, q]) => (*q, *id),
        (Standard::Edifact, [id]) => ("", *id),
        _ => ("", ""),
    };
    let valid = match standard {
        Standard::X12 => qualifier.len() == 2 && !id.is_empty() && id.len() <= 15,
        Standard::Edifact => !id.is_empty() && id.len() <= 35 && qualifier.len() <= 4,
    };
    if !valid {
        let form = match standard {
            Standard::X12 => {
                "QUALIFIER:ID, a 2-character ISA05 qualifier and an id of up to 15 characters (ZZ:ACMESUPPLY)"
            }
            Standard::Edifact => "ID:QUALIFIER, as in UNB (5412345000013:14)",
        };
        checker.problem(value.span(), format!("{field} must be {form}, not {text:?}"));
        return None;
    }
    Some(QualifiedId { qualifier: qualifier.to_owned(), id: id.to_owned() })
}

fn delimiters(checker: &mut Checker<'_>, raw: Option<&Spanned<RawDelimiters>>, standard: Standard) -> Delimiters {
    let base = match standard {
        Standard::X12 => Delimiters::X12,
        Standard::Edifact => Delimiters::EDIFACT,
    };
    let Some(raw) = raw else { return base };
    let span = raw.span();
    let raw = raw.get_ref();
    let mut bad = false;
    let mut one = |name: &str, value: &Option<String>, default: Option<u8>| -> Option<u8> {
        match value.as_deref() {
            None => default,
            Some("none") | Some("") if name == "repetition" || name == "release" => None,
            Some(v) if v.len() == 1 => v.bytes().next(),
            Some(v) => {
                bad = true;
                let message = format!("delimiters.{name} must be one character, not {v:?}");
                let line = checker.line(span.clone());
                checker.problems.push(Problem { path: checker.path.to_owned(), line, message });
                default
            }
        }
    };
    let d = Delimiters {
        element: one("element", &raw.element, Some(base.element)).unwrap_or(base.element),
        component: one("component", &raw.component, Some(base.component)).unwrap_or(base.component),
        repetition: one("repetition", &raw.repetition, base.repetition),
        segment: one("segment", &raw.segment, Some(base.segment)).unwrap_or(base.segment),
        release: if standard == Standard::X12 { None } else { one("release", &raw.release, base.release) },
        decimal: one("decimal", &raw.decimal, Some(base.decimal)).unwrap_or(base.decimal),
    };
    if bad {
        return base;
    }
    if let Err(conflict) = d.check(match standard {
        Standard::X12 => crossdock_parsers::Standard::X12,
        Standard::Edifact => crossdock_parsers::Standard::Edifact,
    }) {
        checker.problem(span, format!("delimiters cannot be used: {conflict}"));
        return base;
    }
    d
}

const DOCUMENT_TYPES: &[&str] = &["850", "855", "856", "ORDERS", "ORDRSP", "DESADV"];
const CREDENTIAL_HEADERS: &[&str] = &["authorization", "token", "key", "secret", "password", "cookie"];

/// Reads one profile file. `Err` carries every problem found.
pub fn load_file(path: &Path) -> Result<Partner, Vec<Problem>> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| vec![Problem { path: path.to_owned(), line: 0, message: format!("cannot read: {e}") }])?;
    let raw: RawProfile = toml::from_str(&text).map_err(|e| {
        let line =
            e.span().map(|s| text[..s.start.min(text.len())].bytes().filter(|b| *b == b'\n').count() + 1).unwrap_or(1);
        vec![Problem { path: path.to_owned(), line, message: e.message().trim_end_matches('.').to_owned() }]
    })?;
    let mut checker = Checker { path, text: &text, problems: Vec::new() };
    let partner = resolve(&mut checker, raw, path);
    if checker.problems.is_empty() {
        Ok(partner)
    } else {
        Err(checker.problems)
    }
}

fn resolve(c: &mut Checker<'_>, raw: RawProfile, path: &Path) -> Partner {
    let id = raw.id.get_ref().clone();
    let valid_id = !id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !valid_id {
        c.problem(raw.id.span(), format!("id must be letters, digits, - and _, not {id:?}"));
    }
    let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or_default();
    if valid_id && stem != id {
        c.problem(raw.id.span(), format!("id {id:?} must match the file name ({stem}.toml)"));
    }

    let x12 = raw.x12.as_ref().map(|spanned| {
        let x = spanned.get_ref();
        let interchange_id = qualified(c, "x12.interchange_id", &x.interchange_id, Standard::X12);
        let our = x.our_interchange_id.as_ref().and_then(|o| qualified(c, "x12.our_interchange_id", o, Standard::X12));
        let version =
            x.version.as_ref().and_then(|v| c.choice("x12.version", v, &["004010", "005010"])).unwrap_or("004010");
        let acknowledgment =
            match x.acknowledgment.as_ref().and_then(|a| c.choice("x12.acknowledgment", a, &["997", "999", "none"])) {
                Some("999") => AckKind::X999,
                Some("none") => AckKind::None,
                _ if version == "005010" && x.acknowledgment.is_none() => AckKind::X999,
                _ => AckKind::X997,
            };
        let ta1 = match x.ta1.as_ref().and_then(|t| c.choice("x12.ta1", t, &["always", "on_error", "never"])) {
            Some("always") => Ta1Policy::Always,
            Some("never") => Ta1Policy::Never,
            _ => Ta1Policy::OnError,
        };
        X12Profile {
            interchange_id: interchange_id.unwrap_or_default(),
            our_interchange_id: our.unwrap_or_else(|| QualifiedId { qualifier: "ZZ".into(), id: "CROSSDOCK".into() }),
            application_id: x.application_id.clone(),
            our_application_id: x.our_application_id.clone().unwrap_or_else(|| "CROSSDOCK".into()),
            version: version.to_owned(),
            delimiters: delimiters(c, x.delimiters.as_ref(), Standard::X12),
            acknowledgment,
            ta1,
        }
    });

    let edifact = raw.edifact.as_ref().map(|spanned| {
        let e = spanned.get_ref();
        let interchange_id = qualified(c, "edifact.interchange_id", &e.interchange_id, Standard::Edifact);
        let our = e
            .our_interchange_id
            .as_ref()
            .and_then(|o| qualified(c, "edifact.our_interchange_id", o, Standard::Edifact));
        let version = match &e.version {
            Some(v) => {
                let text = v.get_ref();
                let b = text.as_bytes();
                let valid = b.len() == 4
                    && b[0] == b'D'
                    && b[1].is_ascii_digit()
                    && b[2].is_ascii_digit()
                    && b[3].is_ascii_uppercase();
                if !valid {
                    c.problem(
                        v.span(),
                        format!("edifact.version must be a UN/EDIFACT directory like D96A or D01B, not {text:?}"),
                    );
                }
                text.clone()
            }
            None => "D96A".into(),
        };
        let syntax = match &e.syntax {
            Some(s) => {
                let text = s.get_ref();
                let parsed = text.split_once(':').and_then(|(id, v)| {
                    let valid = id.len() == 4 && id.starts_with("UNO") && (b'A'..=b'Y').contains(&id.as_bytes()[3]);
                    let version: u8 = v.parse().ok().filter(|v| (1..=4).contains(v))?;
                    valid.then(|| (id.to_owned(), version))
                });
                parsed.unwrap_or_else(|| {
                    c.problem(
                        s.span(),
                        format!("edifact.syntax must be like UNOC:3 (UNOA to UNOY, version 1 to 4), not {text:?}"),
                    );
                    ("UNOC".into(), 3)
                })
            }
            None => ("UNOC".into(), 3),
        };
        let acknowledgment =
            match e.acknowledgment.as_ref().and_then(|a| c.choice("edifact.acknowledgment", a, &["CONTRL", "none"])) {
                Some("none") => AckKind::None,
                _ => AckKind::Contrl,
            };
        EdifactProfile {
            interchange_id: interchange_id.unwrap_or_default(),
            our_interchange_id: our.unwrap_or_else(|| QualifiedId { qualifier: "ZZZ".into(), id: "CROSSDOCK".into() }),
            version,
            acknowledgment,
            association_code: e.association_code.clone(),
            delimiters: {
                let mut d = delimiters(c, e.delimiters.as_ref(), Standard::Edifact);
                // Syntax version 4 has a repetition separator: `*` unless the profile says.
                if syntax.1 >= 4 && e.delimiters.as_ref().is_none_or(|r| r.get_ref().repetition.is_none()) {
                    d.repetition = Some(b'*');
                }
                d
            },
            syntax,
        }
    });
    if x12.is_none() && edifact.is_none() {
        c.problems.push(Problem {
            path: path.to_owned(),
            line: 1,
            message: "a profile needs an [x12] or an [edifact] section to identify the partner".into(),
        });
    }

    let as2 = raw.as2.as_ref().map(|spanned| {
        let a = spanned.get_ref();
        let certificates = match a.certificate.get_ref() {
            OneOrMany::One(p) => vec![PathBuf::from(p)],
            OneOrMany::Many(ps) => ps.iter().map(PathBuf::from).collect(),
        };
        if certificates.is_empty() {
            c.problem(a.certificate.span(), "as2.certificate needs at least one certificate file");
        }
        // Checked now, so a typo or a private key in place of the certificate is reported at
        // load and not when the partner's first message arrives.
        for path in &certificates {
            if let Err(e) = crate::as2::certs::load_certificates(path) {
                c.problem(a.certificate.span(), format!("as2.certificate: {e}"));
            }
        }
        if a.as2_id.is_empty() || a.as2_id.len() > 128 || a.as2_id.chars().any(|ch| ch.is_control()) {
            c.problem(spanned.span(), format!("as2.as2_id must be 1 to 128 printable characters, not {:?}", a.as2_id));
        }
        As2Profile {
            as2_id: a.as2_id.clone(),
            url: a.url.as_ref().and_then(|u| url(c, "as2.url", u)),
            certificates,
            sign: a
                .sign
                .as_ref()
                .and_then(|s| c.choice("as2.sign", s, &["sha1", "sha256", "sha384", "sha512", "none"]))
                .unwrap_or("sha256")
                .to_owned(),
            encrypt: a
                .encrypt
                .as_ref()
                .and_then(|s| c.choice("as2.encrypt", s, &["aes128-cbc", "aes192-cbc", "aes256-cbc", "3des", "none"]))
                .unwrap_or("aes256-cbc")
                .to_owned(),
            signature: match a.sign_padding.as_ref().and_then(|s| c.choice("as2.sign_padding", s, &["pkcs1", "pss"])) {
                Some("pss") => crate::as2::cms::SignatureScheme::Pss,
                _ => crate::as2::cms::SignatureScheme::Pkcs1,
            },
            key_transport: match a
                .encrypt_padding
                .as_ref()
                .and_then(|s| c.choice("as2.encrypt_padding", s, &["pkcs1", "oaep"]))
            {
                Some("oaep") => crate::as2::cms::KeyTransport::Oaep,
                _ => crate::as2::cms::KeyTransport::Pkcs1,
            },
            compress: a.compress.unwrap_or(false),
            mdn: a
                .mdn
                .as_ref()
                .and_then(|s| c.choice("as2.mdn", s, &["sync", "async", "none"]))
                .unwrap_or("sync")
                .to_owned(),
            mdn_signed: a.mdn_signed.unwrap_or(true),
            require_signed: a.require_signed.unwrap_or(true),
            require_encrypted: a.require_encrypted.unwrap_or(true),
        }
    });

    let sftp = raw.sftp.as_ref().and_then(|spanned| {
        let s = spanned.get_ref();
        let private_key = c.secret("sftp.private_key", &s.private_key);
        let fingerprint = s.host_key_sha256.get_ref();
        let valid_fingerprint = fingerprint.strip_prefix("SHA256:").is_some_and(|b64| b64.len() >= 43 && b64.len() <= 44);
        if !valid_fingerprint {
            c.problem(
                s.host_key_sha256.span(),
                "sftp.host_key_sha256 must be the server's key fingerprint as ssh-keygen -l prints it (SHA256:…, 43 base64 characters)",
            );
        }
        let delete = matches!(
            s.after_download.as_ref().and_then(|a| c.choice("sftp.after_download", a, &["archive", "delete"])),
            Some("delete")
        );
        if !delete && s.archive.is_none() {
            c.problem(spanned.span(), "sftp.archive is required unless after_download = \"delete\"");
        }
        Some(SftpProfile {
            host: s.host.clone(),
            port: s.port.unwrap_or(22),
            user: s.user.clone(),
            private_key: private_key?,
            host_key_sha256: fingerprint.clone(),
            inbox: s.inbox.clone(),
            archive: s.archive.clone(),
            delete_after_download: delete,
            outbox: s.outbox.clone(),
            poll_interval_seconds: s.poll_interval_seconds.unwrap_or(60).max(1),
            timeout_seconds: s.timeout_seconds.unwrap_or(30).max(1),
        })
    });

    let webhook = raw.webhook.as_ref().and_then(|spanned| {
        let w = spanned.get_ref();
        let secret = c.secret("webhook.secret", &w.secret)?;
        Some(WebhookProfile { secret, url: w.url.as_ref().and_then(|u| url(c, "webhook.url", u)) })
    });

    let documents = {
        let raw_docs = raw.documents.as_ref();
        let list = |c: &mut Checker<'_>, field: &str, values: Option<&Vec<Spanned<String>>>| -> Vec<String> {
            values
                .map(|vs| vs.iter().filter_map(|v| c.choice(field, v, DOCUMENT_TYPES).map(str::to_owned)).collect())
                .unwrap_or_default()
        };
        let receive = match raw_docs.and_then(|d| d.receive.as_ref()) {
            Some(values) => list(c, "documents.receive", Some(values)),
            // By default a partner may send us what its standard has.
            None => match (&x12, &edifact) {
                (Some(_), _) => vec!["850".into(), "855".into(), "856".into()],
                (None, Some(_)) => vec!["ORDERS".into(), "ORDRSP".into(), "DESADV".into()],
                _ => Vec::new(),
            },
        };
        let send = list(c, "documents.send", raw_docs.and_then(|d| d.send.as_ref()));
        let send_via = match raw_docs.and_then(|d| d.send_via.as_ref()) {
            Some(v) => match c.choice("documents.send_via", v, &["as2", "sftp", "webhook"]) {
                Some("as2") if as2.is_none() => {
                    c.problem(v.span(), "documents.send_via = \"as2\" needs an [as2] section");
                    None
                }
                Some("sftp") if raw.sftp.is_none() => {
                    c.problem(v.span(), "documents.send_via = \"sftp\" needs an [sftp] section");
                    None
                }
                Some("webhook") if webhook.as_ref().is_none_or(|w| w.url.is_none()) => {
                    c.problem(v.span(), "documents.send_via = \"webhook\" needs a [webhook] section with a url");
                    None
                }
                Some("as2") => Some(Transport::As2),
                Some("sftp") => Some(Transport::Sftp),
                Some("webhook") => Some(Transport::Webhook),
                _ => None,
            },
            None if as2.as_ref().is_some_and(|a| a.url.is_some()) => Some(Transport::As2),
            None if sftp.as_ref().is_some_and(|s| s.outbox.is_some()) => Some(Transport::Sftp),
            None if webhook.as_ref().is_some_and(|w| w.url.is_some()) => Some(Transport::Webhook),
            None => None,
        };
        let acknowledgment_deadline_seconds =
            raw_docs.and_then(|d| d.acknowledgment_deadline_seconds).filter(|m| *m > 0);
        Documents { receive, send, send_via, acknowledgment_deadline_seconds }
    };

    let erp = raw.erp.as_ref().map(|e| {
        let mut headers = Vec::new();
        for (name, value) in e.headers.iter().flatten() {
            let lower = name.to_ascii_lowercase();
            let credential = CREDENTIAL_HEADERS.iter().any(|k| lower.contains(k));
            let text = value.get_ref();
            if text.starts_with("env:") || text.starts_with("file:") {
                if let Some(secret) = c.secret(&format!("erp.headers.{name}"), value) {
                    headers.push((name.clone(), HeaderValue::Secret(secret)));
                }
            } else if credential {
                c.problem(
                    value.span(),
                    format!("erp.headers.{name} carries a credential: reference it as env:NAME or file:PATH"),
                );
            } else {
                headers.push((name.clone(), HeaderValue::Literal(text.clone())));
            }
        }
        let retry = e.retry.as_ref();
        ErpProfile {
            url: e.url.as_ref().and_then(|u| url(c, "erp.url", u)),
            headers,
            timeout_seconds: e.timeout_seconds.unwrap_or(10).max(1),
            retry: RetryPolicy {
                max_attempts: retry.and_then(|r| r.max_attempts).unwrap_or(8).max(1),
                initial_backoff_seconds: retry.and_then(|r| r.initial_backoff_seconds).unwrap_or(1),
                max_backoff_seconds: retry.and_then(|r| r.max_backoff_seconds).unwrap_or(300),
            },
            max_in_flight: e.max_in_flight.unwrap_or(4).max(1),
            max_requests_per_second: e.max_requests_per_second.unwrap_or(20).max(1),
        }
    });

    let duplicates = {
        let d = raw.duplicates.as_ref();
        let policy = match d
            .and_then(|d| d.policy.as_ref())
            .and_then(|p| c.choice("duplicates.policy", p, &["reject", "flag", "accept"]))
        {
            Some("flag") => DuplicatePolicy::Flag,
            Some("accept") => DuplicatePolicy::Accept,
            _ => DuplicatePolicy::Reject,
        };
        Duplicates { policy, window_days: d.and_then(|d| d.window_days).unwrap_or(90) }
    };

    let xref = {
        let x = raw.xref.as_ref();
        let partner_item_key = x
            .and_then(|x| x.partner_item_id.as_ref())
            .and_then(|k| c.choice("xref.partner_item_id", k, &["buyer", "vendor", "sku", "upc", "gtin", "ean"]))
            .unwrap_or("buyer");
        let uom: Vec<(String, String)> = x.and_then(|x| x.uom.clone()).unwrap_or_default().into_iter().collect();
        let items = match x.and_then(|x| x.items.as_ref()) {
            Some(file) => read_items(c, file),
            None => Vec::new(),
        };
        Xref::new(uom, items, partner_item_key)
    };

    Partner {
        id,
        name: raw.name.unwrap_or_default(),
        path: path.to_owned(),
        x12,
        edifact,
        documents,
        erp,
        as2,
        sftp,
        webhook,
        duplicates,
        xref,
    }
}

fn url(c: &mut Checker<'_>, field: &str, value: &Spanned<String>) -> Option<String> {
    let text = value.get_ref();
    if text.starts_with("http://") || text.starts_with("https://") {
        Some(text.clone())
    } else {
        c.problem(value.span(), format!("{field} must be an http:// or https:// URL, not {text:?}"));
        None
    }
}

/// The items cross-reference CSV: `partner item id,our item id` per line; `#` comments.
fn read_items(c: &mut Checker<'_>, file: &Spanned<String>) -> Vec<(String, String)> {
    let path = PathBuf::from(file.get_ref());
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) => {
            c.problem(file.span(), format!("xref.items: cannot read {}: {e}", path.display()));
            return Vec::new();
        }
    };
    let mut items = Vec::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    for (index, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = line.split(',').map(str::trim).collect();
        let location = format!("{}:{}", path.display(), index + 1);
        match fields.as_slice() {
            [theirs, ours] if !theirs.is_empty() && !ours.is_empty() => {
                if let Some(first) = seen.insert((*theirs).to_owned(), index + 1) {
                    c.problem(
                        file.span(),
                        format!("{location}: partner item {theirs:?} is already mapped on line {first}"),
                    );
                }
                items.push(((*theirs).to_owned(), (*ours).to_owned()));
            }
            // A header row is allowed.
            _ if index == 0 && fields.len() == 2 => {}
            _ => c.problem(file.span(), format!("{location}: expected `partner item id,our item id`, found {line:?}")),
        }
    }
    items
}

/// Every profile of a directory (`*.toml`), with every problem of every file.
pub fn load_dir(dir: &Path) -> (Vec<Partner>, Vec<Problem>) {
    let mut partners = Vec::new();
    let mut problems = Vec::new();
    let mut paths: Vec<PathBuf> = match std::fs::read_dir(dir) {
        Ok(entries) => entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "toml"))
            .collect(),
        Err(e) => {
            problems.push(Problem {
                path: dir.to_owned(),
                line: 0,
                message: format!("cannot read the directory: {e}"),
            });
            return (partners, problems);
        }
    };
    paths.sort();
    for path in paths {
        match load_file(&path) {
            Ok(partner) => partners.push(partner),
            Err(mut p) => problems.append(&mut p),
        }
    }
    // Two profiles must not claim the same sender.
    for (i, a) in partners.iter().enumerate() {
        for b in &partners[i + 1..] {
            let clash = |x: Option<&QualifiedId>, y: Option<&QualifiedId>, app_x: Option<&str>, app_y: Option<&str>| {
                x.is_some() && x == y && app_x == app_y
            };
            let x12 = clash(
                a.x12.as_ref().map(|x| &x.interchange_id),
                b.x12.as_ref().map(|x| &x.interchange_id),
                a.x12.as_ref().and_then(|x| x.application_id.as_deref()),
                b.x12.as_ref().and_then(|x| x.application_id.as_deref()),
            );
            let edifact = clash(
                a.edifact.as_ref().map(|e| &e.interchange_id),
                b.edifact.as_ref().map(|e| &e.interchange_id),
                None,
                None,
            );
            if x12 || edifact || a.id == b.id {
                problems.push(Problem {
                    path: b.path.clone(),
                    line: 1,
                    message: format!("profile {} identifies the same partner as {} ({})", b.id, a.id, a.path.display()),
                });
            }
        }
    }
    (partners, problems)
}

/// The loaded profiles, and how an interchange's envelope finds its partner.
#[derive(Clone, Debug, Default)]
pub struct Partners {
    partners: Vec<Partner>,
}

impl Partners {
    pub fn new(partners: Vec<Partner>) -> Self {
        Partners { partners }
    }

    pub fn get(&self, id: &str) -> Option<&Partner> {
        self.partners.iter().find(|p| p.id == id)
    }

    pub fn all(&self) -> &[Partner] {
        &self.partners
    }

    pub fn len(&self) -> usize {
        self.partners.len()
    }

    pub fn is_empty(&self) -> bool {
        self.partners.is_empty()
    }

    /// The partner an interchange comes from: ISA05:ISA06 (and GS02 when the profile names an
    /// application id), or the UNB sender.
    pub fn identify(
        &self,
        standard: Standard,
        sender: &QualifiedId,
        application_sender: Option<&str>,
    ) -> Option<&Partner> {
        match standard {
            Standard::X12 => {
                let candidates = self.partners.iter().filter(|p| {
                    p.x12.as_ref().is_some_and(|x| {
                        x.interchange_id.qualifier == sender.qualifier && x.interchange_id.id == sender.id.trim_end()
                    })
                });
                let mut fallback = None;
                for partner in candidates {
                    match partner.x12.as_ref().and_then(|x| x.application_id.as_deref()) {
                        Some(app) if Some(app) == application_sender => return Some(partner),
                        Some(_) => {}
                        None => fallback = fallback.or(Some(partner)),
                    }
                }
                fallback
            }
            Standard::Edifact => self.partners.iter().find(|p| {
                p.edifact.as_ref().is_some_and(|e| {
                    e.interchange_id.id == sender.id
                        && (e.interchange_id.qualifier.is_empty() || e.interchange_id.qualifier == sender.qualifier)
                })
            }),
        }
    }
}
