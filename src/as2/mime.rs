//! Just enough MIME for AS2 (RFC 2045/2046/1847): an entity's headers and body, a
//! Content-Type with its parameters, the parts of a multipart body as the exact bytes that were
//! sent (a signature covers those bytes, so nothing here re-serializes a part).
//!
//! Written here rather than taken from a mail crate because AS2 needs byte-exact part
//! boundaries and binary bodies, which mail parsers normalize away.

use base64::Engine;

use super::As2Error;

/// A MIME entity: its headers in order (names as sent) and its body bytes.
#[derive(Clone, Debug, Default)]
pub struct Entity {
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Entity {
    /// Splits `bytes` into headers and body at the first empty line (CRLF or LF).
    pub fn parse(bytes: &[u8]) -> Result<Entity, As2Error> {
        let (head, body) = match find_blank_line(bytes) {
            Some((end, body_start)) => (&bytes[..end], &bytes[body_start..]),
            // Headers only (an empty body), or no headers at all.
            None if looks_like_headers(bytes) => (bytes, &b""[..]),
            None => return Err(As2Error::malformed("a MIME entity without headers")),
        };
        let head =
            std::str::from_utf8(head).map_err(|_| As2Error::malformed("MIME headers that are not UTF-8 text"))?;
        let mut headers: Vec<(String, String)> = Vec::new();
        for line in head.split('\n') {
            let line = line.strip_suffix('\r').unwrap_or(line);
            if line.is_empty() {
                continue;
            }
            if line.starts_with([' ', '\t']) {
                // A folded header continues the previous one.
                match headers.last_mut() {
                    Some((_, value)) => {
                        value.push(' ');
                        value.push_str(line.trim());
                    }
                    None => {
                        return Err(As2Error::malformed("a MIME header block that starts with a continuation line"))
                    }
                }
                continue;
            }
            let (name, value) = line.split_once(':').ok_or_else(|| {
                As2Error::malformed(format!("a MIME header line without a colon: {:?}", truncate(line)))
            })?;
            headers.push((name.trim().to_owned(), value.trim().to_owned()));
        }
        Ok(Entity { headers, body: body.to_vec() })
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    pub fn content_type(&self) -> ContentType {
        ContentType::parse(self.header("content-type").unwrap_or("text/plain"))
    }

    /// The body with its Content-Transfer-Encoding undone.
    pub fn decoded_body(&self) -> Result<Vec<u8>, As2Error> {
        decode_transfer(self.header("content-transfer-encoding"), &self.body)
    }

    /// Headers then body, as they go on the wire (CRLF line ends).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.body.len() + 256);
        for (name, value) in &self.headers {
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(b": ");
            out.extend_from_slice(value.as_bytes());
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(&self.body);
        out
    }
}

/// Undoes a Content-Transfer-Encoding.
pub fn decode_transfer(encoding: Option<&str>, body: &[u8]) -> Result<Vec<u8>, As2Error> {
    match encoding.map(|e| e.trim().to_ascii_lowercase()).as_deref() {
        None | Some("binary" | "7bit" | "8bit" | "") => Ok(body.to_vec()),
        Some("base64") => {
            let compact: Vec<u8> = body.iter().copied().filter(|b| !b.is_ascii_whitespace()).collect();
            base64::engine::general_purpose::STANDARD
                .decode(&compact)
                .map_err(|e| As2Error::malformed(format!("a base64 body that does not decode: {e}")))
        }
        Some(other) => Err(As2Error::malformed(format!(
            "Content-Transfer-Encoding {other:?}; expected binary, 7bit, 8bit or base64"
        ))),
    }
}

fn truncate(text: &str) -> String {
    text.chars().take(80).collect()
}

fn looks_like_headers(bytes: &[u8]) -> bool {
    let first = bytes.split(|b| *b == b'\n').next().unwrap_or_default();
    first.contains(&b':') && first.iter().take_while(|b| **b != b':').all(|b| b.is_ascii_graphic())
}

/// The end of the header block and the start of the body.
fn find_blank_line(bytes: &[u8]) -> Option<(usize, usize)> {
    let mut at = 0;
    while let Some(offset) = memchr::memchr(b'\n', &bytes[at..]) {
        let nl = at + offset;
        let rest = &bytes[nl + 1..];
        if rest.starts_with(b"\r\n") {
            return Some((nl + 1, nl + 3));
        }
        if rest.starts_with(b"\n") {
            return Some((nl + 1, nl + 2));
        }
        at = nl + 1;
    }
    None
}

/// A Content-Type: `type/subtype` in lower case and its parameters (names in lower case).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContentType {
    pub mime: String,
    pub params: Vec<(String, String)>,
}

impl ContentType {
    pub fn parse(text: &str) -> ContentType {
        let mut pieces = split_params(text).into_iter();
        let mime = pieces.next().unwrap_or_default().trim().to_ascii_lowercase();
        let params = pieces
            .filter_map(|p| {
                let (name, value) = p.split_once('=')?;
                let value = value.trim();
                let value = match value.strip_prefix('"').and_then(|v| v.strip_suffix('"')) {
                    Some(quoted) => quoted.replace("\\\"", "\"").replace("\\\\", "\\"),
                    None => value.to_owned(),
                };
                Some((name.trim().to_ascii_lowercase(), value))
            })
            .collect();
        ContentType { mime, params }
    }

    pub fn param(&self, name: &str) -> Option<&str> {
        self.params.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    pub fn is(&self, mime: &str) -> bool {
        self.mime == mime
    }
}

/// Splits on `;` outside quotes.
fn split_params(text: &str) -> Vec<String> {
    let (mut out, mut current, mut quoted, mut escaped) = (Vec::new(), String::new(), false, false);
    for ch in text.chars() {
        match ch {
            _ if escaped => {
                current.push(ch);
                escaped = false;
            }
            '\\' if quoted => {
                current.push(ch);
                escaped = true;
            }
            '"' => {
                current.push(ch);
                quoted = !quoted;
            }
            ';' if !quoted => out.push(std::mem::take(&mut current)),
            _ => current.push(ch),
        }
    }
    out.push(current);
    out
}

/// The parts of a multipart body, each the exact bytes between its delimiter line and the
/// CRLF that precedes the next delimiter (RFC 2046 section 5.1.1).
pub fn split_multipart<'a>(body: &'a [u8], boundary: &str) -> Result<Vec<&'a [u8]>, As2Error> {
    if boundary.is_empty() || boundary.len() > 200 {
        return Err(As2Error::malformed("a multipart body with a missing or overlong boundary"));
    }
    let delimiter = format!("--{boundary}");
    let delimiter = delimiter.as_bytes();
    let finder = memchr::memmem::Finder::new(delimiter);
    // Delimiters count only at the start of a line.
    let starts: Vec<usize> = finder.find_iter(body).filter(|&at| at == 0 || body[at - 1] == b'\n').collect();
    let mut parts = Vec::new();
    for (n, &at) in starts.iter().enumerate() {
        let after = at + delimiter.len();
        if body[after..].starts_with(b"--") {
            return Ok(parts);
        }
        // The rest of the delimiter line (transport padding) and its line end.
        let line_end = memchr::memchr(b'\n', &body[after..]).map(|i| after + i + 1);
        let Some(start) = line_end else { break };
        let Some(&next) = starts.get(n + 1) else { break };
        let mut end = next;
        // The CRLF (or LF) before a delimiter belongs to the delimiter.
        if end > start && body[end - 1] == b'\n' {
            end -= 1;
            if end > start && body[end - 1] == b'\r' {
                end -= 1;
            }
        }
        parts.push(&body[start..end.max(start)]);
    }
    Err(As2Error::malformed(format!("a multipart body that does not end with its closing delimiter --{boundary}--")))
}

/// A fresh boundary that cannot occur in base64 or in EDI we write.
pub fn boundary() -> String {
    format!("----=_Crossdock_{}", uuid::Uuid::now_v7().simple())
}

/// Quotes a parameter value when it needs it.
pub fn quote(value: &str) -> String {
    if value.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)) {
        value.to_owned()
    } else {
        format!("\"{}\"", value.replace('\\', "\\\\").replace('"', "\\\""))
    }
}

/// Base64 with lines of 76 characters, as MIME bodies carry it.
pub fn base64_lines(bytes: &[u8]) -> Vec<u8> {
    let text = base64::engine::general_purpose::STANDARD.encode(bytes);
    let mut out = Vec::with_capacity(text.len() + text.len() / 76 * 2 + 2);
    for line in text.as_bytes().chunks(76) {
        out.extend_from_slice(line);
        out.extend_from_slice(b"\r\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_type_parameters_quoted_or_not() {
        let ct = ContentType::parse(
            r#"multipart/signed; protocol="application/pkcs7-signature"; micalg=sha-256; boundary="a;b\"c""#,
        );
        assert_eq!(ct.mime, "multipart/signed");
        assert_eq!(ct.param("protocol"), Some("application/pkcs7-signature"));
        assert_eq!(ct.param("micalg"), Some("sha-256"));
        assert_eq!(ct.param("boundary"), Some("a;b\"c"));
    }

    #[test]
    fn parts_are_the_exact_bytes_between_delimiters() {
        let body = b"preamble\r\n--b1\r\nContent-Type: a/b\r\n\r\nline1\r\nline2\r\n--b1\r\nContent-Type: c/d\r\n\r\n\x00\x01\n\r\n--b1--\r\nepilogue";
        let parts = split_multipart(body, "b1").unwrap();
        assert_eq!(
            parts,
            vec![&b"Content-Type: a/b\r\n\r\nline1\r\nline2"[..], &b"Content-Type: c/d\r\n\r\n\x00\x01\n"[..]]
        );
        let entity = Entity::parse(parts[0]).unwrap();
        assert_eq!(entity.header("CONTENT-TYPE"), Some("a/b"));
        assert_eq!(entity.body, b"line1\r\nline2");
        assert!(split_multipart(b"--b1\r\nx: y\r\n\r\nz", "b1").is_err(), "no closing delimiter");
    }

    #[test]
    fn folded_headers_and_lf_only_line_ends() {
        let entity =
            Entity::parse(b"Content-Type: application/pkcs7-mime;\n\tsmime-type=enveloped-data\n\nBODY").unwrap();
        assert_eq!(entity.content_type().param("smime-type"), Some("enveloped-data"));
        assert_eq!(entity.body, b"BODY");
    }
}
