#!/usr/bin/env bash
# Runs every test of the repository: unit, golden, property and black-box tests.
# This is the README's test command and what CI runs (.ci/run).
#
# It sets up what the tests need that Rust does not bring: a Python virtualenv with the
# independent implementations the tests check Crossdock against (pydifact for EDIFACT, badx12
# for X12 envelopes, jsonschema for the canonical schemas, prometheus_client's parser for
# the metrics text, pyas2lib as an AS2 partner), Prometheus' own promtool to lint the metrics
# text, and OpenSSH's sshd for the SFTP tests.
set -euo pipefail
cd "$(dirname "$0")/.."

venv=target/test-venv
python_packages=(pydifact==0.2.3 jsonschema==4.26.0 badx12==0.2.2 prometheus-client==0.21.1 pyas2lib==1.4.4)
check_imports='import collections, collections.abc; collections.Iterable = collections.abc.Iterable; import pydifact, jsonschema, badx12, prometheus_client, pyas2lib.as2'
if ! "$venv/bin/python" -c "$check_imports" 2>/dev/null; then
  echo "test.sh: setting up the Python test tools in $venv" >&2
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "${python_packages[@]}"
  # pyas2lib's oscrypto 1.3.0 reads the OpenSSL version with a pattern that misses two-digit
  # patch numbers ("3.0.19"): widen it in this virtualenv's copy, not in the system.
  "$venv/bin/python" - <<'PATCH'
import pathlib, oscrypto
base = pathlib.Path(oscrypto.__file__).parent / "_openssl"
for name in ("_libcrypto_cffi.py", "_libcrypto_ctypes.py"):
    path = base / name
    text = path.read_text()
    path.write_text(text.replace(r"'\\b(\\d\\.\\d\\.\\d[a-z]*)\\b'", r"'\\b(\\d+\\.\\d+\\.\\d+[a-z]*)\\b'"))
PATCH
  "$venv/bin/python" -c "$check_imports"
fi
export CROSSDOCK_TEST_PYTHON="$PWD/$venv/bin/python"

# promtool from Debian's prometheus package, unpacked under target/ (not installed: the package
# would also bring a Prometheus server and its service).
tools=target/test-tools
if [ ! -x "$tools/usr/bin/promtool" ]; then
  echo "test.sh: fetching promtool (Debian's prometheus package) into $tools" >&2
  mkdir -p "$tools"
  rm -f "$tools"/prometheus_*.deb
  if ! (cd "$tools" && { apt-get download -q prometheus >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get download -q prometheus >/dev/null; }; }); then
    echo "test.sh: cannot download Debian's prometheus package for promtool (apt-get download prometheus); the metrics test needs it" >&2
    exit 1
  fi
  dpkg-deb -x "$tools"/prometheus_*.deb "$tools"
  "$tools/usr/bin/promtool" --version >/dev/null
fi
export CROSSDOCK_TEST_PROMTOOL="$PWD/$tools/usr/bin/promtool"

# The SFTP tests run a real OpenSSH sshd (their own config, key and port; the system's sshd is
# never touched). Install the server package when it is missing.
if [ ! -x /usr/sbin/sshd ]; then
  echo "test.sh: installing openssh-server for the SFTP tests" >&2
  if [ "$(id -u)" -ne 0 ]; then
    echo "test.sh: /usr/sbin/sshd is missing and installing it needs root: apt-get install openssh-server" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q openssh-server >/dev/null || { apt-get update -q >/dev/null && apt-get install -y -q openssh-server >/dev/null; }
fi

# The AS2 unit tests sign with the OpenSSL command line (CMS with RSASSA-PSS).
if ! command -v openssl >/dev/null; then
  echo "test.sh: installing openssl (the command line) for the AS2 signature tests" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q openssl >/dev/null || { apt-get update -q >/dev/null && apt-get install -y -q openssl >/dev/null; }
fi

cargo test --workspace --locked
