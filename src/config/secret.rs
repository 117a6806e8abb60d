//! Secret references: `env:NAME` or `file:PATH`, never the secret itself in a file.

use std::fmt;
use std::path::PathBuf;

/// Where a secret lives.
#[derive(Clone, PartialEq, Eq)]
pub enum Secret {
    Env(String),
    File(PathBuf),
}

/// Why a reference cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    #[error("{0:?} is not a secret reference: write env:NAME or file:PATH, never the secret itself")]
    NotAReference(String),
    #[error("environment variable {0} is not set")]
    MissingEnv(String),
    #[error("cannot read secret file {path}: {reason}")]
    Unreadable { path: String, reason: String },
}

impl Secret {
    pub fn parse(text: &str) -> Result<Secret, SecretError> {
        if let Some(name) = text.strip_prefix("env:").filter(|n| !n.is_empty()) {
            return Ok(Secret::Env(name.to_owned()));
        }
        if let Some(path) = text.strip_prefix("file:").filter(|p| !p.is_empty()) {
            return Ok(Secret::File(PathBuf::from(path)));
        }
        Err(SecretError::NotAReference(redact(text)))
    }

    /// The secret's value, trimmed of a trailing newline (files usually end with one).
    pub fn resolve(&self) -> Result<String, SecretError> {
        match self {
            Secret::Env(name) => std::env::var(name).map_err(|_| SecretError::MissingEnv(name.clone())),
            Secret::File(path) => std::fs::read_to_string(path)
                .map(|s| s.trim_end_matches(['\n', '\r']).to_owned())
                .map_err(|e| SecretError::Unreadable { path: path.display().to_string(), reason: e.to_string() }),
        }
    }

    /// The raw bytes of a file secret (keys), or of the variable's value.
    pub fn resolve_bytes(&self) -> Result<Vec<u8>, SecretError> {
        match self {
            Secret::Env(_) => self.resolve().map(String::into_bytes),
            Secret::File(path) => std::fs::read(path)
                .map_err(|e| SecretError::Unreadable { path: path.display().to_string(), reason: e.to_string() }),
        }
    }
}

/// Shows a reference, never a value.
impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Secret::Env(name) => write!(f, "env:{name}"),
            Secret::File(path) => write!(f, "file:{}", path.display()),
        }
    }
}

/// Enough of a mistaken inline secret to find it, not enough to use it.
fn redact(text: &str) -> String {
    let shown: String = text.chars().take(3).collect();
    if text.chars().count() > 3 {
        format!("{shown}…")
    } else {
        shown
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references() {
        assert_eq!(Secret::parse("env:TOKEN"), Ok(Secret::Env("TOKEN".into())));
        assert_eq!(Secret::parse("file:/etc/key"), Ok(Secret::File("/etc/key".into())));
        let err = Secret::parse("hunter2-super-secret").unwrap_err();
        assert!(!err.to_string().contains("super-secret"), "{err}");
        assert!(Secret::parse("env:").is_err());
        std::env::set_var("CROSSDOCK_TEST_SECRET", "s3cret");
        assert_eq!(Secret::Env("CROSSDOCK_TEST_SECRET".into()).resolve().unwrap(), "s3cret");
        assert!(Secret::Env("CROSSDOCK_NO_SUCH_VAR".into()).resolve().is_err());
    }
}
