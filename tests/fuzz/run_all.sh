#!/bin/sh
# run_all.sh SECONDS [JOBS] [TARGET…] — build the libFuzzer targets in build-fuzz (CC=clang,
# -DGW_FUZZ=ON) and run each for SECONDS over its seed corpus, JOBS targets at a time (default 2),
# at nice 19.  The seeds in tests/fuzz/corpus/<name>/ are read, never written: new inputs go to
# build-fuzz/fuzz-corpus/<name>/, crashes to build-fuzz/fuzz-artifacts/<name>/, the log of each
# run to build-fuzz/fuzz-logs/<name>.log.  Prints libFuzzer's last line per target; exits 1
# when a target crashed, leaked, hit UB or timed out (.ci/test's "fuzz (short)" stage).
set -eu
cd "$(dirname "$0")/../.."
src=$(pwd)
out=$src/build-fuzz
if [ "${1:-}" = "--one" ]; then # internal: --one NAME SECONDS
  name=$2 secs=$3
  mkdir -p "$out/fuzz-corpus/$name" "$out/fuzz-artifacts/$name" "$out/fuzz-logs"
  if nice -n 19 "$out/fuzz_$name" -max_total_time="$secs" -rss_limit_mb=2048 -timeout=30 \
       -print_final_stats=1 -artifact_prefix="$out/fuzz-artifacts/$name/" \
       "$out/fuzz-corpus/$name" "$src/tests/fuzz/corpus/$name" >"$out/fuzz-logs/$name.log" 2>&1; then
    echo "ok   $name: $(grep -E '^#[0-9]+' "$out/fuzz-logs/$name.log" | tail -1)"
  else
    echo "FAIL $name: see $out/fuzz-logs/$name.log and $out/fuzz-artifacts/$name/"
    grep -E 'ERROR|SUMMARY|runtime error|fuzz finding' "$out/fuzz-logs/$name.log" | head -5
    # the first stack of the report, so that a CI log alone tells where it happened
    grep -E '^ +#[0-9]+ 0x' "$out/fuzz-logs/$name.log" | head -24
    exit 1
  fi
  exit 0
fi
secs=${1:?usage: run_all.sh SECONDS [JOBS] [TARGET…]}
jobs=${2:-2}
[ $# -ge 2 ] && shift 2 || shift 1
targets=${*:-time crs tile query last_event_id geojson_edit plan_edit wkb mvt csv_import dbf_import csv_table tilestats serve_config road_tags glyph_path cql2 negotiate accept_language}
CC=${CC:-clang} cmake -S . -B build-fuzz -DGW_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build-fuzz -j"$jobs" --target $(for t in $targets; do printf 'fuzz_%s ' "$t"; done)
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
echo "== fuzzing $secs s each, $jobs at a time: $targets"
# xargs exits 123 when any run failed; every target still runs.
printf '%s\n' $targets | xargs -P "$jobs" -I{} sh "$0" --one {} "$secs"
