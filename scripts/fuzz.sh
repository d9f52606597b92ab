#!/usr/bin/env bash
# Runs every fuzz target of fuzz/ for a time budget and prints executions and
# results, one line per target.
#
#   scripts/fuzz.sh [seconds-per-target] [target ...]
#   FUZZ_DRIVER=random scripts/fuzz.sh 30      # skip libFuzzer
#
# Driver: libFuzzer through cargo-fuzz (`cargo install cargo-fuzz`; on a
# stable toolchain RUSTC_BOOTSTRAP=1 is set for its -Z flags, no sanitizer).
# If libFuzzer cannot be built, the `fuzz_random` driver runs the same checks
# with seeded random and mutated inputs. Seed corpora are generated (never
# downloaded) into fuzz/corpus/<target>/. Failing inputs land in
# fuzz/artifacts/<target>/; replay one with
#   fuzz/target/.../fuzz_random repro <target> <file>
# Runs under `nice -n 10`: the machine is shared.
set -u
cd "$(dirname "$0")/.."
SECS="${1:-30}"
shift || true
TARGETS=("$@")
if [ ${#TARGETS[@]} -eq 0 ]; then
  TARGETS=(scan_text decode_percent decode_json decode_html decode_base64 stream_decoder scan_message body_split config_check)
fi
TRIPLE=x86_64-unknown-linux-gnu
FUZZ_TARGET_DIR=fuzz/target/$TRIPLE/release
# Its own target dir: the guardian is also a cdylib, whose un-hashed rlib
# would collide with the main build's in a shared one.
RANDOM_DIR=fuzz/target/random
RANDOM_BIN=$RANDOM_DIR/$TRIPLE/release/fuzz_random

build_random() {
  (cd fuzz && CARGO_TARGET_DIR=target/random nice -n 10 cargo build --release --target $TRIPLE \
    --no-default-features --features random-driver --bin fuzz_random) >&2
}

DRIVER="${FUZZ_DRIVER:-libfuzzer}"
if [ "$DRIVER" = libfuzzer ]; then
  if ! command -v cargo-fuzz >/dev/null 2>&1; then
    echo "cargo-fuzz not installed; using the random driver" >&2
    DRIVER=random
  elif ! (cd fuzz && RUSTC_BOOTSTRAP=1 nice -n 10 cargo fuzz build -s none "${TARGETS[@]:0:1}" >&2); then
    echo "libFuzzer build failed; using the random driver" >&2
    DRIVER=random
  fi
fi
build_random || { echo "cannot build fuzz_random" >&2; exit 2; }
"$RANDOM_BIN" seeds fuzz/corpus >&2

status=0
for t in "${TARGETS[@]}"; do
  mkdir -p "fuzz/artifacts/$t"
  if [ "$DRIVER" = libfuzzer ]; then
    if ! [ -x "$FUZZ_TARGET_DIR/$t" ]; then
      (cd fuzz && RUSTC_BOOTSTRAP=1 nice -n 10 cargo fuzz build -s none "$t" >&2) || { echo "target=$t driver=libfuzzer build-failed"; status=1; continue; }
    fi
    log=$(mktemp)
    nice -n 10 "$FUZZ_TARGET_DIR/$t" -max_total_time="$SECS" -print_final_stats=1 \
      -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
      -artifact_prefix="fuzz/artifacts/$t/" "fuzz/corpus/$t" >"$log" 2>&1
    rc=$?
    execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$')
    if [ -z "$execs" ]; then
      execs=$(grep -oE '#[0-9]+' "$log" | tail -1 | tr -d '#')
    fi
    crash=$(grep -m1 -A1 "panicked at" "$log" | tail -1 | cut -c1-300)
    art=$(grep -o "Test unit written to [^ ]*" "$log" | head -1 | sed 's/Test unit written to //')
    if [ $rc -eq 0 ]; then
      echo "target=$t driver=libfuzzer seconds=$SECS executions=${execs:-?} failures=0"
    else
      echo "target=$t driver=libfuzzer seconds=$SECS executions=${execs:-?} failures=1 artifact=${art:-?} first=\"$crash\""
      status=1
    fi
    rm -f "$log"
  else
    out=$(nice -n 10 "$RANDOM_BIN" run "$t" "$SECS" 2>&1)
    rc=$?
    echo "$out" | tr '\n' ' ' | sed 's/  *$//'
    echo
    [ $rc -eq 0 ] || status=1
  fi
done
exit $status
