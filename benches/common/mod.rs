//! What the gateway benchmarks share: reading a server's address from its output, and the ERP
//! stand-in.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};

/// The crossdock binary to run: the release build `CROSSDOCK_RELEASE_BIN` names (the
/// profile-guided one of `scripts/build-release.sh`), else the one cargo built for the bench.
pub fn crossdock() -> std::path::PathBuf {
    match std::env::var_os("CROSSDOCK_RELEASE_BIN") {
        Some(path) => {
            let path = std::path::PathBuf::from(path);
            assert!(path.is_file(), "CROSSDOCK_RELEASE_BIN: no file at {}", path.display());
            path
        }
        None => env!("CARGO_BIN_EXE_crossdock").into(),
    }
}

/// The address a server prints after `prefix` on its output (waits up to 30 s).
pub fn read_address(stream: impl std::io::Read + Send + 'static, prefix: &'static str) -> SocketAddr {
    use std::io::BufRead;
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut tx = Some(tx);
        for line in std::io::BufReader::new(stream).lines().map_while(Result::ok) {
            if let Some(addr) = line.strip_prefix(prefix) {
                if let Some(tx) = tx.take() {
                    let _ = tx.send(addr.trim().to_owned());
                }
            }
        }
    });
    rx.recv_timeout(Duration::from_secs(30)).expect("the server starts").parse().unwrap()
}

/// The ERP stand-in: `200` at once, counting documents.
pub async fn erp_stand_in(count: Arc<AtomicU64>) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else { continue };
            let count = Arc::clone(&count);
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |request: Request<Incoming>| {
                    let count = Arc::clone(&count);
                    async move {
                        let _ = request.into_body().collect().await;
                        count.fetch_add(1, Ordering::Relaxed);
                        Ok::<_, Infallible>(Response::new(Full::new(Bytes::from_static(b"{}"))))
                    }
                });
                let _ =
                    hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
            });
        }
    });
    addr
}

/// A keep-alive HTTP/1 client connection to `addr` (Nagle off), its driver spawned.
pub async fn connect(addr: SocketAddr) -> hyper::client::conn::http1::SendRequest<Full<Bytes>> {
    let stream = TcpStream::connect(addr).await.unwrap();
    stream.set_nodelay(true).unwrap();
    let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.unwrap();
    tokio::spawn(connection);
    sender
}
