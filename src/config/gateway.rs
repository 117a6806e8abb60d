//! The gateway's own settings (`crossdock.toml`, every key optional): listener, tokens, store,
//! partners directory, default ERP endpoint, AS2 identity. Checked at load like profiles:
//! every problem as `file:line: message`.

use std::net::SocketAddr;
use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use super::partner::{Problem, RetryPolicy};
use super::secret::Secret;

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    server: Option<RawServer>,
    store: Option<RawStore>,
    partners: Option<RawPartners>,
    erp: Option<RawErp>,
    as2: Option<RawAs2>,
    workers: Option<RawWorkers>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawServer {
    listen: Option<Spanned<String>>,
    max_body_bytes: Option<u64>,
    tls_certificate: Option<String>,
    tls_private_key: Option<Spanned<String>>,
    api_tokens: Option<Vec<RawToken>>,
    max_connections: Option<usize>,
    header_timeout_seconds: Option<u64>,
    body_timeout_seconds: Option<u64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawToken {
    name: String,
    token: Spanned<String>,
    roles: Vec<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStore {
    url: Option<Spanned<String>>,
    retention_days: Option<u32>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPartners {
    dir: Option<String>,
    reload_interval_seconds: Option<u64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawErp {
    url: Option<String>,
    timeout_seconds: Option<u64>,
    max_in_flight: Option<u32>,
    max_requests_per_second: Option<u32>,
    max_attempts: Option<u32>,
    initial_backoff_seconds: Option<u64>,
    max_backoff_seconds: Option<u64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAs2 {
    as2_id: Option<String>,
    certificate: Option<String>,
    private_key: Option<Spanned<String>>,
    mdn_url: Option<String>,
    mdn_timeout_seconds: Option<u64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWorkers {
    processing: Option<usize>,
    background: Option<bool>,
}

/// What a bearer token may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    /// `POST /v1/inbound`.
    Inbound,
    /// `POST /v1/outbound`.
    Send,
    /// `GET /v1/messages…`.
    Read,
    /// `POST /v1/messages/{id}/replay`.
    Operate,
}

#[derive(Clone, Debug)]
pub struct ApiToken {
    pub name: String,
    pub token: Secret,
    pub roles: Vec<Role>,
}

#[derive(Clone, Debug)]
pub struct ServerConfig {
    pub listen: SocketAddr,
    pub max_body_bytes: u64,
    pub tls: Option<(PathBuf, Secret)>,
    pub api_tokens: Vec<ApiToken>,
    /// Connections served at once; more wait in the listen backlog.
    pub max_connections: usize,
    /// Time allowed for a request's headers, and for its body.
    pub header_timeout_seconds: u64,
    pub body_timeout_seconds: u64,
}

/// Where messages are stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StoreUrl {
    Sqlite(PathBuf),
    Postgres(String),
}

#[derive(Clone, Debug)]
pub struct StoreConfig {
    pub url: StoreUrl,
    pub retention_days: u32,
}

/// The default ERP endpoint (a profile's `[erp]` overrides it); no URL: the embedded outbox.
#[derive(Clone, Debug)]
pub struct ErpConfig {
    pub url: Option<String>,
    pub timeout_seconds: u64,
    pub max_in_flight: u32,
    pub max_requests_per_second: u32,
    pub retry: RetryPolicy,
}

#[derive(Clone, Debug)]
pub struct As2Config {
    pub as2_id: String,
    pub certificate: Option<PathBuf>,
    pub private_key: Option<Secret>,
    /// Where partners POST asynchronous MDNs (our /as2 as they reach it); default: the
    /// listen address.
    pub mdn_url: Option<String>,
    /// How long an asynchronous MDN may take before the message counts as failed.
    pub mdn_timeout_seconds: u64,
}

/// The gateway's settings, checked.
#[derive(Clone, Debug)]
pub struct GatewayConfig {
    /// The file they came from, if any.
    pub path: Option<PathBuf>,
    pub server: ServerConfig,
    pub store: StoreConfig,
    pub partners_dir: PathBuf,
    pub reload_interval_seconds: u64,
    pub erp: ErpConfig,
    pub as2: As2Config,
    /// Inbound processing workers.
    pub processing_workers: usize,
    /// Processing and ERP delivery run at low CPU priority, so that senders are answered first.
    pub processing_in_background: bool,
}

impl Default for GatewayConfig {
    fn default() -> Self {
        GatewayConfig {
            path: None,
            server: ServerConfig {
                listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
                max_body_bytes: 100 * 1024 * 1024,
                tls: None,
                api_tokens: Vec::new(),
                max_connections: 1024,
                header_timeout_seconds: 10,
                body_timeout_seconds: 60,
            },
            store: StoreConfig { url: StoreUrl::Sqlite(PathBuf::from("data/crossdock.db")), retention_days: 90 },
            partners_dir: PathBuf::from("partners"),
            reload_interval_seconds: 2,
            erp: ErpConfig {
                url: None,
                timeout_seconds: 10,
                max_in_flight: 8,
                max_requests_per_second: 50,
                retry: RetryPolicy { max_attempts: 8, initial_backoff_seconds: 1, max_backoff_seconds: 300 },
            },
            as2: As2Config {
                as2_id: "CROSSDOCK".into(),
                certificate: None,
                private_key: None,
                mdn_url: None,
                mdn_timeout_seconds: 3600,
            },
            processing_workers: std::thread::available_parallelism().map_or(2, usize::from),
            processing_in_background: true,
        }
    }
}

impl GatewayConfig {
    /// The data directory: where the SQLite file lives (and the outbox beside it).
    pub fn data_dir(&self) -> PathBuf {
        match &self.store.url {
            StoreUrl::Sqlite(path) => path.parent().map(Path::to_path_buf).unwrap_or_else(|| PathBuf::from(".")),
            StoreUrl::Postgres(_) => PathBuf::from("data"),
        }
    }

    /// Whether the listener is reachable from other hosts.
    pub fn listens_beyond_loopback(&self) -> bool {
        !self.server.listen.ip().is_loopback()
    }
}

/// Reads `crossdock.toml`; `None` gives the defaults.
pub fn load(path: Option<&Path>) -> Result<GatewayConfig, Vec<Problem>> {
    let Some(path) = path else { return Ok(GatewayConfig::default()) };
    let text = std::fs::read_to_string(path)
        .map_err(|e| vec![Problem { path: path.to_owned(), line: 0, message: format!("cannot read: {e}") }])?;
    let line_of = |span: Range<usize>| text[..span.start.min(text.len())].bytes().filter(|b| *b == b'\n').count() + 1;
    let raw: RawConfig = toml::from_str(&text).map_err(|e| {
        vec![Problem {
            path: path.to_owned(),
            line: e.span().map(&line_of).unwrap_or(1),
            message: e.message().trim_end_matches('.').to_owned(),
        }]
    })?;
    let mut problems = Vec::new();
    let mut problem = |span: Range<usize>, message: String| {
        problems.push(Problem { path: path.to_owned(), line: line_of(span), message })
    };
    let secret = |value: &Spanned<String>, field: &str, problem: &mut dyn FnMut(Range<usize>, String)| {
        Secret::parse(value.get_ref()).map_err(|e| problem(value.span(), format!("{field}: {e}"))).ok()
    };

    let mut config = GatewayConfig { path: Some(path.to_owned()), ..GatewayConfig::default() };
    if let Some(server) = raw.server {
        if let Some(listen) = &server.listen {
            match listen.get_ref().parse::<SocketAddr>() {
                Ok(addr) => config.server.listen = addr,
                Err(_) => problem(
                    listen.span(),
                    format!(
                        "server.listen must be an address and port like 127.0.0.1:8080, not {:?}",
                        listen.get_ref()
                    ),
                ),
            }
        }
        if let Some(max) = server.max_body_bytes {
            config.server.max_body_bytes = max;
        }
        match (server.tls_certificate, &server.tls_private_key) {
            (Some(certificate), Some(key)) => {
                if let Some(key) = secret(key, "server.tls_private_key", &mut problem) {
                    config.server.tls = Some((PathBuf::from(certificate), key));
                }
            }
            (None, None) => {}
            (_, key) => problem(
                key.as_ref().map(Spanned::span).unwrap_or(0..0),
                "server.tls_certificate and server.tls_private_key go together: set both for HTTPS".into(),
            ),
        }
        for token in server.api_tokens.unwrap_or_default() {
            let value = secret(&token.token, "server.api_tokens.token", &mut problem);
            let mut roles = Vec::new();
            for role in &token.roles {
                match role.get_ref().as_str() {
                    "inbound" => roles.push(Role::Inbound),
                    "send" => roles.push(Role::Send),
                    "read" => roles.push(Role::Read),
                    "operate" => roles.push(Role::Operate),
                    other => problem(
                        role.span(),
                        format!("server.api_tokens.roles must be inbound, send, read or operate, not {other:?}"),
                    ),
                }
            }
            if let Some(value) = value {
                config.server.api_tokens.push(ApiToken { name: token.name, token: value, roles });
            }
        }
        if let Some(max) = server.max_connections {
            config.server.max_connections = max.max(1);
        }
        if let Some(seconds) = server.header_timeout_seconds {
            config.server.header_timeout_seconds = seconds.max(1);
        }
        if let Some(seconds) = server.body_timeout_seconds {
            config.server.body_timeout_seconds = seconds.max(1);
        }
    }
    if let Some(store) = raw.store {
        if let Some(url) = &store.url {
            let text = url.get_ref();
            if let Some(path) = text.strip_prefix("sqlite://") {
                config.store.url = StoreUrl::Sqlite(PathBuf::from(path));
            } else if text.starts_with("postgres://") || text.starts_with("postgresql://") {
                config.store.url = StoreUrl::Postgres(text.clone());
            } else {
                problem(url.span(), format!("store.url must be sqlite://PATH or postgres://…, not {text:?}"));
            }
        }
        if let Some(days) = store.retention_days {
            config.store.retention_days = days;
        }
    }
    if let Some(partners) = raw.partners {
        if let Some(dir) = partners.dir {
            config.partners_dir = PathBuf::from(dir);
        }
        if let Some(seconds) = partners.reload_interval_seconds {
            config.reload_interval_seconds = seconds.max(1);
        }
    }
    if let Some(erp) = raw.erp {
        config.erp.url = erp.url;
        let e = &mut config.erp;
        e.timeout_seconds = erp.timeout_seconds.unwrap_or(e.timeout_seconds).max(1);
        e.max_in_flight = erp.max_in_flight.unwrap_or(e.max_in_flight).max(1);
        e.max_requests_per_second = erp.max_requests_per_second.unwrap_or(e.max_requests_per_second);
        e.retry.max_attempts = erp.max_attempts.unwrap_or(e.retry.max_attempts).max(1);
        e.retry.initial_backoff_seconds = erp.initial_backoff_seconds.unwrap_or(e.retry.initial_backoff_seconds);
        e.retry.max_backoff_seconds = erp.max_backoff_seconds.unwrap_or(e.retry.max_backoff_seconds);
    }
    if let Some(as2) = raw.as2 {
        if let Some(id) = as2.as2_id {
            config.as2.as2_id = id;
        }
        config.as2.certificate = as2.certificate.map(PathBuf::from);
        config.as2.private_key = as2.private_key.as_ref().and_then(|k| secret(k, "as2.private_key", &mut problem));
        config.as2.mdn_url = as2.mdn_url;
        config.as2.mdn_timeout_seconds = as2.mdn_timeout_seconds.unwrap_or(3600).max(1);
    }
    if let Some(workers) = raw.workers {
        if let Some(n) = workers.processing {
            config.processing_workers = n.max(1);
        }
        if let Some(background) = workers.background {
            config.processing_in_background = background;
        }
    }
    if problems.is_empty() {
        Ok(config)
    } else {
        Err(problems)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load_text(text: &str) -> Result<GatewayConfig, Vec<String>> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("crossdock.toml");
        std::fs::write(&path, text).unwrap();
        load(Some(&path))
            .map_err(|problems| problems.iter().map(|p| format!("{}: {}", p.line, p.message)).collect::<Vec<_>>())
    }

    #[test]
    fn defaults_without_a_file() {
        let config = load(None).unwrap();
        assert_eq!(config.server.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(config.store.url, StoreUrl::Sqlite(PathBuf::from("data/crossdock.db")));
        assert_eq!(config.partners_dir, PathBuf::from("partners"));
        assert!(config.erp.url.is_none());
    }

    #[test]
    fn every_problem_is_reported_with_its_line() {
        let problems = load_text(
            "[server]\nlisten = \"everywhere\"\n[[server.api_tokens]]\nname = \"erp\"\ntoken = \"hunter2\"\nroles = [\"admin\"]\n[store]\nurl = \"mysql://x\"\n",
        )
        .unwrap_err();
        assert_eq!(problems.len(), 4, "{problems:?}");
        assert!(problems[0].starts_with("2: server.listen"), "{problems:?}");
        assert!(problems.iter().any(|p| p.starts_with("5: server.api_tokens.token") && !p.contains("hunter2")));
        assert!(problems.iter().any(|p| p.starts_with("6: server.api_tokens.roles")));
        assert!(problems.iter().any(|p| p.starts_with("8: store.url")));
        let unknown = load_text("[server]\nport = 1\n").unwrap_err();
        assert!(unknown[0].contains("unknown field `port`"), "{unknown:?}");
    }
}
