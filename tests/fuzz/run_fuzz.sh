#!/usr/bin/env bash
# Builds the libFuzzer targets with clang in <build_dir> (a separate CMake build) and runs each
# for a bounded time, the corpus seeded with CSRs and certificates made by openssl here.
#   run_fuzz.sh <build_dir> <total_seconds>
# Exit 0 when no target crashed; 77 (ctest: skipped) when clang/libFuzzer is not installed.
set -euo pipefail
SRC="$(cd "$(dirname "$0")" && pwd)"
BUILD="${1:?build dir}"
TOTAL="${2:-20}"
TARGETS=(csr_fuzzer cert_fuzzer spiffe_fuzzer)

CXX_BIN="$(command -v clang++-14 || command -v clang++ || true)"
if [ -z "$CXX_BIN" ] || ! ls /usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a \
    >/dev/null 2>&1; then
  echo "fuzz: SKIPPED: clang++-14 with libFuzzer (packages clang-14, libclang-rt-14-dev) is not" \
       "installed; run .ci/setup"
  exit 77
fi

mkdir -p "$BUILD"
cmake -S "$SRC" -B "$BUILD" -DCMAKE_CXX_COMPILER="$CXX_BIN" -DCMAKE_BUILD_TYPE=None \
  > "$BUILD/cmake.log" 2>&1 || { cat "$BUILD/cmake.log"; exit 1; }
cmake --build "$BUILD" -j "${JOBS:-1}" > "$BUILD/build.log" 2>&1 || { cat "$BUILD/build.log"; exit 1; }

# Seeds: real CSRs (EC and RSA, with and without SANs, PEM and DER), certificates, a cacerts set.
SEEDS="$BUILD/seeds"
rm -rf "$SEEDS" && mkdir -p "$SEEDS"/{csr_fuzzer,cert_fuzzer,spiffe_fuzzer}
(
  cd "$SEEDS"
  openssl ecparam -name prime256v1 -genkey -noout -out ec.key 2>/dev/null
  openssl genrsa -out rsa.key 2048 2>/dev/null
  openssl req -new -key ec.key -subj "/O=fuzz" -out ec.csr
  openssl req -new -key rsa.key -subj "/CN=x" -out rsa.csr
  openssl req -new -key ec.key -subj "/" -out san.csr \
    -addext "subjectAltName=URI:spiffe://cluster.local/ns/default/sa/sleep,DNS:a.example"
  openssl req -x509 -new -key ec.key -subj "/O=root" -days 30 -out root.pem \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=keyCertSign,cRLSign"
  openssl req -new -key rsa.key -subj "/" -out leaf.csr
  openssl x509 -req -in leaf.csr -CA root.pem -CAkey ec.key -days 1 -out leaf.pem \
    -extfile <(echo "subjectAltName=URI:spiffe://cluster.local/ns/default/sa/sleep") 2>/dev/null
  i=0
  for f in ec.csr rsa.csr san.csr; do
    { printf '\x00'; cat "$f"; } > "csr_fuzzer/pem$i"
    { printf '\x01'; openssl req -in "$f" -outform DER; } > "csr_fuzzer/der$i"
    i=$((i + 1))
  done
  for f in root.pem leaf.pem; do
    { printf '\x00'; cat "$f"; } > "cert_fuzzer/pem-$f"
    { printf '\x01'; openssl x509 -in "$f" -outform DER; } > "cert_fuzzer/der-$f"
  done
  { printf '\x02'; cat root.pem; printf '\n====\n'; cat ec.key; printf '\n====\n'; cat root.pem
    printf '\n====\n'; cat root.pem; } > cert_fuzzer/cacerts
)
cp "$SRC"/corpus/spiffe/* "$SEEDS/spiffe_fuzzer/" 2>/dev/null || true
cp "$SRC"/corpus/csr/* "$SEEDS/csr_fuzzer/" 2>/dev/null || true
cp "$SRC"/corpus/cert/* "$SEEDS/cert_fuzzer/" 2>/dev/null || true

per=$(( TOTAL / ${#TARGETS[@]} )); [ "$per" -ge 1 ] || per=1
status=0
for t in "${TARGETS[@]}"; do
  corpus="$BUILD/corpus/$t"
  mkdir -p "$corpus" "$BUILD/crashes"
  echo "fuzz: $t for ${per}s"
  if ! "$BUILD/$t" -max_total_time="$per" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
      -artifact_prefix="$BUILD/crashes/$t-" "$corpus" "$SEEDS/$t" > "$BUILD/$t.log" 2>&1; then
    echo "fuzz: $t FAILED; input saved under $BUILD/crashes/; log:"
    tail -60 "$BUILD/$t.log"
    status=1
  else
    grep -E "^stat::number_of_executed_units|Done [0-9]+ runs" "$BUILD/$t.log" | tail -1 || true
  fi
done
exit $status
