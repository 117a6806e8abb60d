//! `crossdock serve`: sources → pipeline → sinks, wired together.
//!
//! ```text
//!  sources (HTTP API, webhooks)   ──accept──►  store  ◄──  pipeline workers (process)
//!                                                │
//!                                                └──────►  sinks (ERP delivery, outbox)
//! ```
//!
//! Start: open the store, load the partner profiles, start the workers, the delivery loop and
//! the background jobs (profile reload, gauges, retention), then listen. Stop (SIGTERM,
//! SIGINT): stop listening and let requests in flight finish, let each worker finish its
//! message, give deliveries in flight a moment, close the store.

pub mod partners;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use metrics_exporter_prometheus::PrometheusHandle;
use sha2::{Digest, Sha256};
use tokio::sync::{watch, Notify};

use crate::config::gateway::{GatewayConfig, Role, StoreUrl};
use crate::control_numbers::ControlNumberFile;
use crate::metrics as m;
use crate::pipeline::{self, Queue};
use crate::sinks::erp::Delivery;
use crate::sources::{http, server};
use crate::store::{now_millis, SqliteStore, Store};

use partners::PartnerSet;

/// A bearer token, kept as its digest.
pub struct Token {
    pub name: String,
    pub digest: [u8; 32],
    pub roles: Vec<Role>,
}

/// What the HTTP handlers share.
pub struct App {
    pub config: GatewayConfig,
    pub store: Arc<dyn Store>,
    pub partners: Arc<PartnerSet>,
    pub queue: Queue,
    pub wake_delivery: Arc<Notify>,
    pub metrics: PrometheusHandle,
    pub tokens: Vec<Token>,
    /// The gateway's AS2 certificate and key, when configured.
    pub as2: Option<Arc<crate::as2::certs::Identity>>,
    /// AS2 sends whose outcome is not recorded yet, which an early MDN waits for.
    pub as2_sends: Arc<crate::sinks::transport::AwaitedSends>,
}

/// Why the gateway could not start, in words for whoever runs it.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("{0}")]
    Config(String),
    #[error("the store: {0}")]
    Store(String),
    #[error("cannot listen on {addr}: {reason}")]
    Listen { addr: String, reason: String },
}

/// Opens the store a configuration names.
pub fn open_store(config: &GatewayConfig) -> Result<Arc<SqliteStore>, StartError> {
    match &config.store.url {
        StoreUrl::Sqlite(path) => SqliteStore::open(path).map(Arc::new).map_err(|e| StartError::Store(e.to_string())),
        StoreUrl::Postgres(_) => Err(StartError::Store(
            "PostgreSQL is not supported yet; use sqlite://PATH (the Store trait is where it plugs in)".into(),
        )),
    }
}

/// Runs the gateway until SIGTERM or SIGINT.
pub fn serve(config: GatewayConfig) -> Result<(), StartError> {
    // reqwest and tokio-rustls use the process's crypto provider: ring.
    let _ = rustls::crypto::ring::default_provider().install_default();
    if config.listens_beyond_loopback() && config.server.api_tokens.is_empty() {
        return Err(StartError::Config(format!(
            "refusing to listen on {} with no API token: anyone who can reach it could read and replay messages. \
             Add [[server.api_tokens]] to the configuration, or listen on 127.0.0.1",
            config.server.listen
        )));
    }
    let mut tokens = Vec::new();
    for token in &config.server.api_tokens {
        let value = token.token.resolve().map_err(|e| StartError::Config(format!("API token {}: {e}", token.name)))?;
        tokens.push(Token {
            name: token.name.clone(),
            digest: Sha256::digest(value.as_bytes()).into(),
            roles: token.roles.clone(),
        });
    }
    let tls = match &config.server.tls {
        Some((certificate, key)) => Some(server::tls_config(certificate, key).map_err(StartError::Config)?),
        None => None,
    };
    let metrics = m::install().map_err(StartError::Config)?;
    let as2 = crate::sources::as2::load_identity(&config).map_err(|e| StartError::Config(format!("[as2]: {e}")))?;
    let store = open_store(&config)?;
    take_over_counters(&store, &config.data_dir());
    let store: Arc<dyn Store> = store;
    let partners = Arc::new(PartnerSet::load(&config.partners_dir));

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("crossdock")
        .build()
        .map_err(|e| StartError::Config(format!("cannot start the async runtime: {e}")))?;
    let result = runtime.block_on(run(config, store, partners, metrics, tokens, tls, as2));
    runtime.shutdown_timeout(Duration::from_secs(5));
    result
}

/// Counters that `crossdock render`/`ack` kept under the data directory carry over, so a
/// partner never sees a control number twice.
fn take_over_counters(store: &SqliteStore, data_dir: &Path) {
    let file = ControlNumberFile::new(data_dir);
    match file.read() {
        Ok(counters) if !counters.is_empty() => match store.import_counters(counters) {
            Ok(n) => tracing::info!(partners = n, "control numbers taken over from control-numbers.json"),
            Err(err) => tracing::warn!(error = %err, "cannot take over control-numbers.json"),
        },
        Ok(_) => {}
        Err(err) => tracing::warn!(error = %err, "cannot read control-numbers.json"),
    }
}

async fn run(
    config: GatewayConfig,
    store: Arc<dyn Store>,
    partners: Arc<PartnerSet>,
    metrics: PrometheusHandle,
    tokens: Vec<Token>,
    tls: Option<Arc<rustls::ServerConfig>>,
    as2: Option<Arc<crate::as2::certs::Identity>>,
) -> Result<(), StartError> {
    let addr = config.server.listen;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| StartError::Listen { addr: addr.to_string(), reason: e.to_string() })?;
    let local = listener.local_addr().map(|a| a.to_string()).unwrap_or_else(|_| addr.to_string());

    let wake_delivery = Arc::new(Notify::new());
    let (queue, processor) = pipeline::start(
        config.processing_workers,
        config.processing_in_background,
        Arc::clone(&store),
        Arc::clone(&partners),
        Arc::clone(&wake_delivery),
    );
    let outbox: PathBuf = config.data_dir().join("outbox");
    let delivery = Delivery::new(
        Arc::clone(&store),
        Arc::clone(&partners),
        config.erp.clone(),
        outbox,
        Arc::clone(&wake_delivery),
    )
    .map_err(StartError::Config)?;
    let (stop_tx, stop_rx) = watch::channel(false);
    let delivery_task = Arc::clone(&delivery)
        .start(config.processing_in_background, stop_rx.clone(), Duration::from_secs(10))
        .map_err(StartError::Config)?;
    let as2_sends = Arc::new(crate::sinks::transport::AwaitedSends::default());
    let sender = crate::sinks::transport::Sender::new(
        Arc::clone(&store),
        Arc::clone(&partners),
        as2.clone(),
        config.as2.clone(),
        &local,
        Arc::clone(&as2_sends),
    )
    .map_err(StartError::Config)?;
    let sender_task = tokio::spawn(sender.run(stop_rx.clone()));
    let sftp_task = tokio::spawn(crate::sources::sftp::run(
        Arc::clone(&store),
        Arc::clone(&partners),
        queue.clone(),
        config.server.max_body_bytes,
        stop_rx.clone(),
    ));
    let owed_mdns = tokio::spawn(crate::sources::as2::retry_owed_mdns(Arc::clone(&store), stop_rx.clone()));
    let background = tokio::spawn(background(
        Arc::clone(&store),
        Arc::clone(&partners),
        config.reload_interval_seconds,
        config.store.retention_days,
        as2.clone(),
        stop_rx.clone(),
    ));

    let limits = server::Limits {
        max_connections: config.server.max_connections,
        header_timeout: Duration::from_secs(config.server.header_timeout_seconds),
        grace: Duration::from_secs(30),
    };
    let app = Arc::new(App {
        config,
        store: Arc::clone(&store),
        partners,
        queue,
        wake_delivery,
        metrics,
        tokens,
        as2,
        as2_sends,
    });
    let router = http::router(Arc::clone(&app));
    let scheme = if tls.is_some() { "https" } else { "http" };
    tracing::info!(listen = %local, "crossdock is serving on {scheme}://{local}");
    eprintln!("crossdock: serving on {scheme}://{local}");
    let server_task = tokio::spawn(server::serve(listener, router, tls, limits, stop_rx.clone()));

    shutdown_signal().await;
    tracing::info!("stopping: finishing requests, messages and deliveries in flight");
    let _ = stop_tx.send(true);
    let _ = server_task.await;
    tokio::task::spawn_blocking(move || processor.stop()).await.ok();
    let _ = delivery_task.await;
    let _ = sender_task.await;
    let _ = sftp_task.await;
    let _ = owed_mdns.await;
    let _ = background.await;
    drop(app);
    tracing::info!("stopped");
    Ok(())
}

async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut terminate) => {
                tokio::select! {
                    _ = interrupt => {}
                    _ = terminate.recv() => {}
                }
            }
            Err(_) => {
                let _ = interrupt.await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = interrupt.await;
    }
}

/// Profile reload, gauges from the store, and retention.
async fn background(
    store: Arc<dyn Store>,
    partners: Arc<PartnerSet>,
    reload_seconds: u64,
    retention_days: u32,
    as2: Option<Arc<crate::as2::certs::Identity>>,
    mut stop: watch::Receiver<bool>,
) {
    let mut reload = tokio::time::interval(Duration::from_secs(reload_seconds.max(1)));
    let mut gauges = tokio::time::interval(Duration::from_secs(2));
    let mut retention = tokio::time::interval(Duration::from_secs(3600));
    let reported = Arc::new(std::sync::Mutex::new(Reported::new()));
    loop {
        tokio::select! {
            _ = stop.changed() => return,
            _ = reload.tick() => {
                let partners = Arc::clone(&partners);
                let _ = tokio::task::spawn_blocking(move || partners.reload_if_changed()).await;
            }
            _ = gauges.tick() => {
                let (store, reported) = (Arc::clone(&store), Arc::clone(&reported));
                let (partners, as2) = (Arc::clone(&partners), as2.clone());
                let _ = tokio::task::spawn_blocking(move || {
                    if let Ok(mut reported) = reported.lock() {
                        publish_gauges(store.as_ref(), &mut reported);
                    }
                    publish_certificate_expiry(&partners, as2.as_deref());
                })
                .await;
            }
            _ = retention.tick() => {
                let store = Arc::clone(&store);
                let before = now_millis() - i64::from(retention_days) * 86_400_000;
                match tokio::task::spawn_blocking(move || store.purge(before)).await {
                    Ok(Ok(n)) if n > 0 => tracing::info!(messages = n, retention_days, "raw payloads purged"),
                    Ok(Err(err)) => tracing::warn!(error = %err, "retention purge failed"),
                    _ => {}
                }
            }
        }
    }
}

/// `crossdock_certificate_expiry_timestamp_seconds{owner, file}`: when each certificate in use
/// expires (ours and every partner's), for an alert well before it does.
fn publish_certificate_expiry(partners: &PartnerSet, ours: Option<&crate::as2::certs::Identity>) {
    use crate::as2::certs;
    if let Some(identity) = ours {
        if let Some(at) = certs::expires_at(&identity.certificate) {
            metrics::gauge!(m::CERTIFICATE_EXPIRY, "owner" => "crossdock", "file" => "as2.certificate").set(at as f64);
        }
    }
    for partner in partners.current().all() {
        let Some(as2) = &partner.as2 else { continue };
        for path in &as2.certificates {
            let Ok(found) = certs::load_certificates(path) else { continue };
            for cert in found {
                if let Some(at) = certs::expires_at(&cert) {
                    metrics::gauge!(m::CERTIFICATE_EXPIRY, "owner" => partner.id.clone(), "file" => path.display().to_string())
                        .set(at as f64);
                }
            }
        }
    }
}

/// Partners each per-partner gauge has reported, by gauge.
type Reported = std::collections::HashMap<&'static str, std::collections::HashSet<String>>;

fn publish_gauges(store: &dyn Store, reported: &mut Reported) {
    if let Ok(depths) = store.queue_depth() {
        for state in crate::store::MessageState::ALL {
            let n = depths.iter().find(|(s, _)| s == state.as_str()).map_or(0, |(_, n)| *n);
            metrics::gauge!(m::QUEUE_DEPTH, "state" => state.as_str()).set(n as f64);
        }
        let pending = depths.iter().find(|(s, _)| s == "pending_delivery").map_or(0, |(_, n)| *n);
        metrics::gauge!(m::QUEUE_DEPTH, "state" => "pending_delivery").set(pending as f64);
    }
    if let Ok(dead) = store.dead_letters() {
        publish_per_partner(reported, m::DEAD_LETTERS, dead);
    }
    if let Ok(overdue) = store.overdue_acknowledgments(now_millis()) {
        publish_per_partner(reported, m::ACKS_OVERDUE, overdue);
    }
    let since = now_millis() - crate::sources::as2::OWED_MDN_HORIZON.as_millis() as i64;
    if let Ok(owed) = store.owed_mdn_counts(since) {
        publish_per_partner(reported, m::AS2_MDNS_OWED, owed);
    }
}

/// Sets a per-partner gauge from counts that list only partners with something to count: a
/// partner that has dropped out since is set back to 0, so an alert on the gauge clears.
fn publish_per_partner(reported: &mut Reported, gauge: &'static str, counts: Vec<(String, i64)>) {
    let partners = reported.entry(gauge).or_default();
    for partner in partners.iter() {
        if !counts.iter().any(|(p, _)| p == partner) {
            metrics::gauge!(gauge, "partner" => partner.clone()).set(0.0);
        }
    }
    for (partner, n) in counts {
        metrics::gauge!(gauge, "partner" => partner.clone()).set(n as f64);
        partners.insert(partner);
    }
}
