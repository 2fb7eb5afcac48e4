#!/usr/bin/env bash
# Runs every decoder fuzz target one after the other (never two at once: CI and developer
# machines are small), each for FUZZ_SECONDS (default 600) in one process (libFuzzer's default;
# `-jobs=1` would only move the output into ./fuzz-0.log).
# Seeds the corpora from tests/data/aedifion first. Logs go to /tmp/fuzz-<target>.log.
#
#   scripts/fuzz.sh                 all targets, 10 minutes each
#   FUZZ_SECONDS=30 scripts/fuzz.sh swop meta
#   FUZZ_NO_BUILD=1 scripts/fuzz.sh        run the targets already built
#
# Needs cargo-fuzz (`cargo install cargo-fuzz`). The toolchain is stable, so nightly-only
# flags are unlocked with RUSTC_BOOTSTRAP=1.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
DATA=$ROOT/tests/data/aedifion
CORPUS=$ROOT/fuzz/corpus
SECONDS_EACH=${FUZZ_SECONDS:-600}
ALL_TARGETS=(influx legacy json_values meta swop hash_id from_payload)
TARGETS=("${@:-${ALL_TARGETS[@]}}")
export RUSTC_BOOTSTRAP=1

seed() { # seed <target> <name> <bytes from stdin>
  mkdir -p "$CORPUS/$1"
  cat > "$CORPUS/$1/seed-$2"
}

seed_corpora() {
  local n=0 line file
  while IFS= read -r line || [ -n "$line" ]; do
    n=$((n + 1))
    printf '%s' "$line" | seed influx "line$n"
    printf '\000%s' "$line" | seed from_payload "influx$n"
  done < <(cat "$DATA/influx-valid.txt" "$DATA/influx-invalid.txt")
  jq -r '.multi_line_message.payload // empty' "$DATA/influx-line-protocol-vectors.json" \
    | seed influx multi
  n=0
  while IFS= read -r line || [ -n "$line" ]; do
    n=$((n + 1))
    printf '%s' "$line" | seed legacy "line$n"
    printf '\000%s' "$line" | seed from_payload "legacy$n"
  done < <(cat "$DATA/legacy-semicolon.txt"; jq -r '(.valid[], .invalid[]) | .payload' "$DATA/legacy-semicolon-vectors.json")
  for file in "$DATA"/meta-datapoint.json "$DATA"/meta-device.json; do
    seed meta "$(basename "$file")" < "$file"
    seed json_values "$(basename "$file")" < "$file"
    { printf '\001'; cat "$file"; } | seed from_payload "$(basename "$file")"
  done
  n=0
  while IFS= read -r line; do
    n=$((n + 1))
    printf '%s' "$line" | seed meta "invalid$n"
  done < <(jq -c '.[] | .payload | if type == "string" then . else tojson end' "$DATA/meta-invalid.json" | jq -r .)
  for file in "$DATA"/swop/*.inferred.json "$DATA"/swop/NEWSPT*.json; do
    seed swop "$(basename "$file")" < "$file"
    seed json_values "swop-$(basename "$file")" < "$file"
    { printf '\002'; cat "$file"; } | seed from_payload "swop-$(basename "$file")"
  done
  n=0
  while IFS= read -r line; do
    n=$((n + 1))
    printf '%s' "$line" | seed swop "invalid$n"
  done < <(jq -c '.[] | (.payload_text // (.payload | tojson))' "$DATA/swop/invalid-cases.json" | jq -r .)
  n=0
  while IFS= read -r line; do
    n=$((n + 1))
    printf '%s' "$line" | seed hash_id "name$n"
  done < <(jq -r '.[].name' "$DATA/hash-id-vectors.json")
  printf '21.5 °C' | seed json_values number-with-unit
  printf '\0032.5 %%' | seed from_payload number-with-unit
}

seed_corpora
[ "${FUZZ_SEED_ONLY:-0}" = 1 ] && exit 0

# Build every target once, then run the binaries directly: `cargo fuzz run` would rebuild the
# (large, instrumented) crate before each target whenever a source file changed meanwhile.
cd "$ROOT/fuzz"
[ "${FUZZ_NO_BUILD:-0}" = 1 ] || cargo fuzz build > /tmp/fuzz-build.log 2>&1
BIN_DIR=$ROOT/fuzz/target/x86_64-unknown-linux-gnu/release
mkdir -p "$ROOT/fuzz/artifacts"
for target in "${TARGETS[@]}"; do
  log=/tmp/fuzz-$target.log
  echo "fuzz $target for ${SECONDS_EACH}s -> $log"
  mkdir -p "$CORPUS/$target" "$ROOT/fuzz/artifacts/$target"
  if "$BIN_DIR/$target" "$CORPUS/$target" -artifact_prefix="$ROOT/fuzz/artifacts/$target/" \
      -max_total_time="$SECONDS_EACH" -print_final_stats=1 > "$log" 2>&1; then
    echo "  $target: no crash ($(grep -m1 -o 'stat::number_of_executed_units: *[0-9]*' "$log" || echo '?'))"
  else
    echo "  $target: FAILED, see $log and fuzz/artifacts/$target"
  fi
done
