#!/usr/bin/env bash
# Builds the release binary with profile-guided optimization (PGO): what the container image
# ships, and what the README's performance figures name "release build, PGO".
#
#   ./scripts/build-release.sh        # -> target/pgo/crossdock
#
# Three steps, each from this checkout's code, so a profile never goes stale:
# 1. an instrumented build (`-Cprofile-generate`) under target/pgo/instrumented;
# 2. training: that binary does what the gateway does all day, on files generated with a seed
#    of their own (not the benchmark's) and on the real samples under tests/fixtures: parse,
#    translate, acknowledge and render X12 850/855/856 and EDIFACT ORDERS/ORDRSP/DESADV, and
#    serve them over HTTP (inbound, outbound, reads), so the gateway's paths are not left
#    cold;
# 3. the build that uses the merged profile (`-Cprofile-use`) under target/pgo/build.
# It needs llvm-profdata from the toolchain's llvm-tools component, and adds it if missing.
# About twice a plain `cargo build --release`; on this repository's 2-core machine, 8 minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
out=$root/target/pgo

host=$(rustc -vV | sed -n 's/^host: //p')
profdata=$(rustc --print sysroot)/lib/rustlib/$host/bin/llvm-profdata
if [ ! -x "$profdata" ]; then
  echo "build-release.sh: adding the llvm-tools component for llvm-profdata" >&2
  rustup component add llvm-tools
fi
if [ ! -x "$profdata" ]; then
  echo "build-release.sh: llvm-profdata is missing at $profdata (rustup component add llvm-tools)" >&2
  exit 1
fi

rm -rf "$out/profiles" "$out/train"
mkdir -p "$out/profiles" "$out/train"

echo "build-release.sh: 1/3 instrumented build" >&2
RUSTFLAGS="-Cprofile-generate=$out/profiles" CARGO_TARGET_DIR=$out/instrumented \
  cargo build --release --locked --bin crossdock
bin=$out/instrumented/release/crossdock

echo "build-release.sh: 2/3 training" >&2
cargo build --release --locked -p crossdock-parsers --example generate
generate=$root/target/release/examples/generate
train=$out/train
cd "$train"
cp -r "$root/partners" "$root/certs" .
"$generate" 850 8 7 > 850.edi
"$generate" 856 4 7 > 856.edi
"$generate" ORDERS 4 7 > orders.edi
samples=("$root"/tests/fixtures/edi/*.edi)
# Each command's exit code says whether its input was valid; samples include invalid ones.
for file in 850.edi 856.edi orders.edi "${samples[@]}"; do
  name=$(basename "$file" .edi)
  "$bin" parse --check "$file" > /dev/null 2>&1 || true
  "$bin" parse "$file" > /dev/null 2>&1 || true
  "$bin" translate "$file" > "$name.jsonl" 2> /dev/null || true
  "$bin" ack "$file" > /dev/null 2>&1 || true
done
# Rendering: each document back to the example partner of its standard.
for name in 850 856 orders; do
  partner=example-x12
  [ "$name" = orders ] && partner=example-edifact
  SOURCE_DATE_EPOCH=1768480200 "$bin" render --partner "$partner" --data-dir data "$name.jsonl" > /dev/null
done
for file in "$root"/tests/fixtures/golden/*.jsonl; do
  for partner in example-x12 example-edifact; do
    "$bin" render --partner "$partner" --data-dir data "$file" > /dev/null 2>&1 || true
  done
done

# The gateway: inbound EDI over HTTP, processed and delivered to the embedded outbox;
# outbound canonical JSON rendered for a partner; reads of messages and metrics.
mkdir -p gateway
cp -r partners certs gateway/
printf '[server]\nlisten = "127.0.0.1:0"\n' > gateway/crossdock.toml
(cd gateway && RUST_LOG=warn exec "$bin" serve --config crossdock.toml 2> serve.log) &
serve=$!
address=
for _ in $(seq 1 300); do
  address=$(sed -n 's|.*crossdock: serving on http://||p' gateway/serve.log | head -n 1)
  [ -n "$address" ] && break
  sleep 0.1
done
if [ -z "$address" ]; then
  kill "$serve" 2> /dev/null || true
  echo "build-release.sh: the instrumented gateway did not start:" >&2
  cat gateway/serve.log >&2
  exit 1
fi
split -l 200 850.jsonl outbound-
for _ in 1 2 3; do
  for file in "${samples[@]}"; do
    curl -s -o /dev/null -X POST --data-binary @"$file" "http://$address/v1/inbound"
  done
  head -c 200000 850.edi | curl -s -o /dev/null -X POST --data-binary @- "http://$address/v1/inbound"
done
for file in outbound-*; do
  head -n 1 "$file" | sed -E 's/^\{"type":"purchase_order","partner":(null|"[^"]*")/{"type":"purchase_order","partner":"example-x12"/' \
    | curl -s -o /dev/null -X POST -H 'Content-Type: application/json' --data-binary @- "http://$address/v1/outbound"
done
for _ in $(seq 1 20); do
  curl -s -o /dev/null "http://$address/v1/messages?limit=50"
  curl -s -o /dev/null "http://$address/metrics"
  sleep 0.25
done
# A graceful stop, so that the profile is written at exit.
kill -TERM "$serve"
wait "$serve" || true
cd "$root"

"$profdata" merge -o "$out/crossdock.profdata" "$out/profiles"

echo "build-release.sh: 3/3 optimized build" >&2
RUSTFLAGS="-Cprofile-use=$out/crossdock.profdata -Cllvm-args=-pgo-warn-missing-function=false" \
  CARGO_TARGET_DIR=$out/build cargo build --release --locked --bin crossdock
cp "$out/build/release/crossdock" "$out/crossdock"
echo "build-release.sh: $out/crossdock" >&2
