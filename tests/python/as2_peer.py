"""An AS2 trading partner played by pyas2lib, an AS2 implementation nobody here wrote.

    as2_peer.py send CONFIG_JSON   build a message with pyas2lib, POST it to the gateway, and
                                   print what came back (the MDN parsed by pyas2lib) as JSON
    as2_peer.py serve CONFIG_JSON  receive the gateway's AS2 messages on a loopback port:
                                   pyas2lib parses each (decrypt, verify, decompress), the
                                   payload is written to a file, and pyas2lib's MDN is answered
                                   (sync in the response, or POSTed back for async; with
                                   "async_mdn_first", POSTed back before the answer, which
                                   comes 0.3 s later, as a quick partner's may overtake it)

CONFIG_JSON holds the AS2 names, certificate and key paths and the options of the test case.
"""

import http.server
import json
import os
import sys
import threading
import time
import urllib.request

# oscrypto 1.3.0 cannot read the version string of OpenSSL 3.0.19 (two-digit patch number);
# scripts/test.sh patches the copy in the test virtualenv. Failing here says so plainly.
try:
    from pyas2lib import as2
except Exception as error:  # pragma: no cover
    sys.exit(f"as2_peer.py: cannot import pyas2lib ({error}); run the tests with ./scripts/test.sh")


def read(path):
    with open(path, "rb") as f:
        return f.read()


def organization(config):
    key_and_cert = read(config["our_key"]) + read(config["our_cert"])
    return as2.Organization(
        as2_name=config["our_as2_id"],
        sign_key=key_and_cert,
        decrypt_key=key_and_cert,
        mdn_url=config.get("async_mdn_url"),
    )


def partner(config):
    gateway_cert = read(config["gateway_cert"])
    return as2.Partner(
        as2_name=config["gateway_as2_id"],
        verify_cert=gateway_cert,
        encrypt_cert=gateway_cert,
        validate_certs=False,
        sign=bool(config.get("sign")),
        digest_alg=config.get("sign") or "sha256",
        sign_alg=config.get("sign_alg") or "rsassa_pkcs1v15",
        encrypt=bool(config.get("encrypt")),
        enc_alg=config.get("encrypt") or "tripledes_192_cbc",
        key_enc_alg=config.get("key_enc_alg") or "rsaes_pkcs1v15",
        compress=bool(config.get("compress")),
        mdn_mode=config.get("mdn_mode"),
        mdn_digest_alg=config.get("mdn_digest"),
    )


def mdn_listener():
    """A loopback server that takes one asynchronous MDN; returns (url, wait)."""
    got = {}
    done = threading.Event()

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            got["raw"] = b"".join(f"{k}: {v}\r\n".encode() for k, v in self.headers.items()) + b"\r\n" + body
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()
            done.set()

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()

    def wait(seconds):
        done.wait(seconds)
        server.shutdown()
        return got.get("raw")

    return f"http://127.0.0.1:{server.server_address[1]}/mdn", wait


def send(config):
    wait = None
    if config.get("mdn_mode") == "ASYNC" and not config.get("async_mdn_url"):
        # A listener of our own; with a URL given, the MDN goes there and is not waited for.
        config["async_mdn_url"], wait = mdn_listener()
    message = as2.Message(organization(config), partner(config))
    message.build(
        read(config["payload"]),
        content_type=config.get("content_type", "application/edi-x12"),
        message_id=config.get("message_id"),
    )
    headers = dict(message.headers)
    if "corrupt_text" in config:
        # Content altered in transit: a signature no longer matches.
        old, new = config["corrupt_text"]
        body = message.content.replace(old.encode(), new.encode(), 1)
    elif "corrupt_tail" in config:
        # A byte of the last-but-one cipher block flipped: the padding of the last block breaks.
        body = bytearray(message.content)
        body[len(body) - 17] ^= 0x55
        body = bytes(body)
    else:
        body = message.content
    for name, value in config.get("override_headers", {}).items():
        headers[name] = value
    request = urllib.request.Request(config["url"], data=body, method="POST", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            status, response_headers, response_body = response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        status, response_headers, response_body = error.code, error.headers, error.read()
    out = {
        "http_status": status,
        "message_id": message.message_id,
        "mic": message.mic.decode() if message.mic else None,
    }
    raw = None
    if config.get("mdn_mode") == "SYNC" and status == 200:
        raw = b"".join(f"{k}: {v}\r\n".encode() for k, v in response_headers.items()) + b"\r\n" + response_body
    elif wait is not None and status == 200:
        raw = wait(30)
        out["body"] = response_body.decode("utf-8", "replace")
        if raw is None:
            out["mdn_status"] = "no asynchronous MDN arrived within 30 s"
    else:
        out["body"] = response_body.decode("utf-8", "replace")
    if raw is not None:
        mdn = as2.Mdn()
        mdn_status, detail = mdn.parse(raw, lambda message_id, recipient: message)
        head = raw.split(b"\r\n\r\n", 1)[0].lower()
        out.update({"mdn_status": mdn_status, "mdn_detail": detail, "mdn_signed": b"multipart/signed" in head})
        for line in raw.split(b"\n"):
            if line.lower().startswith(b"received-content-mic:"):
                out["mdn_mic_alg"] = line.split(b",")[-1].strip().decode()
    print(json.dumps(out))


def serve(config):
    org, gateway = organization(config), partner(config)
    received_dir = config["received_dir"]
    os.makedirs(received_dir, exist_ok=True)
    counter = {"n": 0}
    lock = threading.Lock()

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_POST(self):
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            raw = b"".join(f"{k}: {v}\r\n".encode() for k, v in self.headers.items()) + b"\r\n" + body
            message = as2.Message()
            status, exception, mdn = message.parse(
                raw, find_org_cb=lambda _: org, find_partner_cb=lambda _: gateway
            )
            with lock:
                counter["n"] += 1
                n = counter["n"]
            # pyas2lib names only 3DES; the cipher as the envelope names it (asn1crypto).
            # And the key transport, and (for a message signed but not encrypted) the signature
            # algorithm, as the envelope and the signature name them.
            from asn1crypto import cms as asn1_cms
            cipher, key_transport, signature_alg = None, None, None
            if "enveloped-data" in self.headers.get("Content-Type", ""):
                enveloped = asn1_cms.ContentInfo.load(body)["content"]
                info = enveloped["encrypted_content_info"]
                cipher = info["content_encryption_algorithm"]["algorithm"].native
                key_transport = enveloped["recipient_infos"][0].chosen["key_encryption_algorithm"]["algorithm"].native
            elif "multipart/signed" in self.headers.get("Content-Type", ""):
                import email
                entity = email.message_from_bytes(raw)
                for part in entity.walk():
                    if part.get_content_type() == "application/pkcs7-signature":
                        signed = asn1_cms.ContentInfo.load(part.get_payload(decode=True))["content"]
                        signature_alg = signed["signer_infos"][0]["signature_algorithm"]["algorithm"].native
            record = {
                "cipher": cipher,
                "key_transport": key_transport,
                "signature_alg": signature_alg,
                "status": status,
                "error": str(exception[0]) if exception[0] else None,
                "signed": message.signed,
                "encrypted": message.encrypted,
                "compressed": message.compressed,
                "digest_alg": message.digest_alg,
                "enc_alg": message.enc_alg,
                "message_id": message.message_id,
                "headers": dict(self.headers.items()),
            }
            if status == "processed":
                with open(os.path.join(received_dir, f"{n}.payload"), "wb") as f:
                    f.write(message.content)
            with open(os.path.join(received_dir, f"{n}.json"), "w") as f:
                json.dump(record, f)
            if mdn is None:
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            if mdn.mdn_mode == "ASYNC":
                request = urllib.request.Request(mdn.mdn_url, data=mdn.content, method="POST", headers=mdn.headers)
                post = threading.Thread(target=lambda: urllib.request.urlopen(request, timeout=60).read())
                if config.get("async_mdn_first"):
                    post.start()
                    time.sleep(0.3)
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()
                if not config.get("async_mdn_first"):
                    post.start()
                return
            content = mdn.content
            self.send_response(200)
            for k, v in mdn.headers.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(content)))
            self.end_headers()
            self.wfile.write(content)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print(f"listening on {server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    mode, config = sys.argv[1], json.loads(sys.argv[2])
    {"send": send, "serve": serve}[mode](config)
