//! SFTP against a real OpenSSH sshd that each test starts on a loopback port, with its own
//! host key, config and authorized client key (never the system's sshd): inbox polling and
//! archive, upload of outbound documents, a changed host key refused, the server down then
//! back, and a gateway killed between storing a file and archiving it.

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::gateway::edi_850;
use crate::harness::{Erp, Gateway};
use crate::support::wait_until;

const SSHD: &str = "/usr/sbin/sshd";

struct Sshd {
    child: Option<Child>,
    dir: PathBuf,
    port: u16,
    fingerprint: String,
}

fn keygen(path: &Path) {
    let status = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-f"])
        .arg(path)
        .stdin(Stdio::null())
        .status()
        .expect("ssh-keygen runs (openssh-client)");
    assert!(status.success());
}

impl Sshd {
    /// Keys and a config in `dir/sshd`, then the server.
    fn start(dir: &Path) -> Sshd {
        assert!(
            Path::new(SSHD).exists(),
            "OpenSSH sshd is missing ({SSHD}): ./scripts/test.sh installs openssh-server; install it to run the SFTP tests"
        );
        let dir = dir.join("sshd");
        std::fs::create_dir_all(&dir).unwrap();
        keygen(&dir.join("host_key"));
        keygen(&dir.join("client_key"));
        std::fs::copy(dir.join("client_key.pub"), dir.join("authorized_keys")).unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let listing = Command::new("ssh-keygen")
            .args(["-l", "-E", "sha256", "-f"])
            .arg(dir.join("host_key.pub"))
            .output()
            .unwrap();
        let fingerprint = String::from_utf8_lossy(&listing.stdout).split_whitespace().nth(1).unwrap().to_owned();
        let config = format!(
            "Port {port}\nListenAddress 127.0.0.1\nHostKey {d}/host_key\nPidFile {d}/sshd.pid\n\
             AuthorizedKeysFile {d}/authorized_keys\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n\
             PubkeyAuthentication yes\nPermitRootLogin prohibit-password\nStrictModes no\nUsePAM no\n\
             Subsystem sftp internal-sftp\nLogLevel ERROR\n",
            d = dir.display()
        );
        std::fs::write(dir.join("sshd_config"), config).unwrap();
        // Running as root, sshd wants its privilege separation directory.
        let _ = std::fs::create_dir_all("/run/sshd");
        let mut sshd = Sshd { child: None, dir, port, fingerprint };
        sshd.run();
        sshd
    }

    fn run(&mut self) {
        let child = Command::new(SSHD)
            .args(["-D", "-e", "-f"])
            .arg(self.dir.join("sshd_config"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("sshd starts");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(Instant::now() < deadline, "sshd does not listen on {}", self.port);
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Sshd {
    fn drop(&mut self) {
        self.stop();
    }
}

fn user() -> String {
    let out = Command::new("id").arg("-un").output().unwrap();
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

struct Site {
    dir: tempfile::TempDir,
    sshd: Sshd,
    inbox: PathBuf,
    archive: PathBuf,
    outbox: PathBuf,
}

impl Site {
    fn new() -> Site {
        let dir = tempfile::tempdir().unwrap();
        let sshd = Sshd::start(dir.path());
        let (inbox, archive, outbox) =
            (dir.path().join("inbox"), dir.path().join("archive"), dir.path().join("outbox"));
        for d in [&inbox, &archive, &outbox] {
            std::fs::create_dir_all(d).unwrap();
        }
        std::fs::create_dir_all(dir.path().join("partners")).unwrap();
        let site = Site { dir, sshd, inbox, archive, outbox };
        site.profile(&site.sshd.fingerprint.clone());
        site
    }

    fn profile(&self, fingerprint: &str) {
        let profile = format!(
            "id = \"sftp-partner\"\n[x12]\ninterchange_id = \"ZZ:BUYERCO\"\nour_interchange_id = \"ZZ:SUPPLIERCO\"\n\
             version = \"005010\"\nacknowledgment = \"none\"\n[documents]\nreceive = [\"850\"]\nsend = [\"855\"]\n\
             send_via = \"sftp\"\n[sftp]\nhost = \"127.0.0.1\"\nport = {port}\nuser = \"{user}\"\n\
             private_key = \"file:{key}\"\nhost_key_sha256 = \"{fingerprint}\"\ninbox = \"{inbox}\"\n\
             archive = \"{archive}\"\noutbox = \"{outbox}\"\npoll_interval_seconds = 1\ntimeout_seconds = 5\n",
            port = self.sshd.port,
            user = user(),
            key = self.sshd.dir.join("client_key").display(),
            inbox = self.inbox.display(),
            archive = self.archive.display(),
            outbox = self.outbox.display(),
        );
        std::fs::write(self.dir.path().join("partners/sftp-partner.toml"), profile).unwrap();
    }

    fn gateway(&self, erp: &Erp) -> Gateway {
        Gateway::start(
            self.dir.path(),
            &format!("[erp]\nurl = \"{}\"\ninitial_backoff_seconds = 0\nmax_requests_per_second = 0\n", erp.url()),
        )
    }

    fn archived(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(&self.archive)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }
}

fn sftp_messages(gateway: &Gateway) -> Vec<Value> {
    let found = gateway.get_json("/v1/messages?partner=sftp-partner");
    let list = found.as_array().cloned().unwrap_or_else(|| found["messages"].as_array().cloned().unwrap_or_default());
    list.into_iter().filter(|m| m["transport"] == "sftp").collect()
}

#[test]
fn inbox_files_are_stored_delivered_and_archived_once() {
    let site = Site::new();
    let erp = Erp::start();
    let gateway = site.gateway(&erp);
    std::fs::write(site.inbox.join("po-1.edi"), edi_850(8101, "PO-SFTP-1")).unwrap();
    std::fs::write(site.inbox.join("po-2.edi"), edi_850(8102, "PO-SFTP-2")).unwrap();
    // Still being written, hidden, or with an unsafe name: left alone.
    std::fs::write(site.inbox.join("po-3.edi.part"), b"ISA*00*").unwrap();
    std::fs::write(site.inbox.join(".po-4.edi"), b"ISA*00*").unwrap();
    std::fs::write(site.inbox.join("bell\u{7}.edi"), edi_850(8105, "PO-BELL")).unwrap();
    wait_until("two files archived", Duration::from_secs(30), || site.archived().len() == 2);
    let received = erp.wait_for(2);
    let mut pos: Vec<String> = received
        .iter()
        .map(|r| serde_json::from_str::<Value>(&r.body).unwrap()["document"]["po_number"].as_str().unwrap().to_owned())
        .collect();
    pos.sort();
    assert_eq!(pos, ["PO-SFTP-1", "PO-SFTP-2"]);
    let archived = site.archived();
    assert!(archived[0].starts_with("po-1.edi.") && archived[1].starts_with("po-2.edi."), "{archived:?}");
    let mut left: Vec<String> = std::fs::read_dir(&site.inbox)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    assert_eq!(left, [".po-4.edi", "bell\u{7}.edi", "po-3.edi.part"]);
    // Polled again and again: nothing is taken twice.
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(sftp_messages(&gateway).len(), 2);
    let raw = gateway.message(sftp_messages(&gateway)[0]["id"].as_str().unwrap())["raw"].as_str().unwrap().to_owned();
    assert!(raw.starts_with("ISA*00*"));
    let metrics = gateway.request("GET", "/metrics", &[], b"").text();
    assert!(metrics.contains("crossdock_sftp_polls_total{"), "{metrics}");
}

#[test]
fn outbound_documents_are_uploaded_as_part_then_renamed() {
    let site = Site::new();
    let erp = Erp::start();
    let gateway = site.gateway(&erp);
    let document = crate::support::outbound_855("sftp-partner");
    let id = gateway.post_outbound(&document);
    let message = gateway.wait_for_state(&id, "sent");
    let files: Vec<PathBuf> = std::fs::read_dir(&site.outbox).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(files.len(), 1, "{files:?}");
    assert!(files[0].extension().is_some_and(|e| e == "edi"), "no .part left: {files:?}");
    assert_eq!(std::fs::read_to_string(&files[0]).unwrap(), message["rendered"].as_str().unwrap());
    assert!(message["transmissions"][0]["detail"].as_str().unwrap().contains("uploaded as"));
}

#[test]
fn a_changed_host_key_is_refused_and_a_server_down_then_back_is_caught_up() {
    let mut site = Site::new();
    site.profile("SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
    let erp = Erp::start();
    let gateway = site.gateway(&erp);
    std::fs::write(site.inbox.join("po.edi"), edi_850(8201, "PO-HK")).unwrap();
    wait_until("the host key refusal", Duration::from_secs(20), || gateway.log().contains("is not the pinned one"));
    assert!(site.archived().is_empty(), "nothing taken from an unknown server");
    let metrics = gateway.request("GET", "/metrics", &[], b"").text();
    assert!(metrics.contains("outcome=\"host_key_mismatch\""), "{metrics}");

    // The right key, but the server is down: polls fail, then it comes back.
    site.sshd.stop();
    let fingerprint = site.sshd.fingerprint.clone();
    site.profile(&fingerprint);
    wait_until("a failed connection", Duration::from_secs(20), || {
        gateway.log().contains("cannot connect to 127.0.0.1")
    });
    site.sshd.run();
    wait_until("the file archived", Duration::from_secs(60), || site.archived().len() == 1);
    erp.wait_for(1);
}

#[test]
fn a_gateway_killed_between_store_and_archive_stores_the_file_once() {
    let site = Site::new();
    let erp = Erp::start();
    let gateway = site.gateway(&erp);
    // Make the archive unwritable: the file is stored but cannot be moved, as if the gateway
    // died in between.
    std::fs::remove_dir(&site.archive).unwrap();
    std::fs::write(site.inbox.join("po.edi"), edi_850(8301, "PO-ONCE")).unwrap();
    wait_until("the file stored", Duration::from_secs(30), || sftp_messages(&gateway).len() == 1);
    wait_until("the failed move", Duration::from_secs(10), || gateway.log().contains("stored but not archived"));
    // Killed once the document is delivered: the kill falls between store and archive, not in
    // the middle of the delivery (whose redelivery, with the same idempotency key, is a
    // different case: gateway.rs).
    let id = sftp_messages(&gateway)[0]["id"].as_str().unwrap().to_owned();
    gateway.wait_for_state(&id, "delivered");
    gateway.kill();
    std::fs::create_dir_all(&site.archive).unwrap();
    let gateway = Gateway::restart(site.dir.path());
    wait_until("the file archived", Duration::from_secs(30), || site.archived().len() == 1);
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(sftp_messages(&gateway).len(), 1, "stored once");
    let received = erp.wait_for(1);
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(erp.received().len(), 1, "delivered once: {received:?}");
}
