#!/usr/bin/env bash
# Runs one libFuzzer target for SECONDS (default: FUZZ_SECONDS, else 30) on a
# working copy of its seed corpus, and prints one line for the summary:
#   1 passed, 0 failed (RUNS runs in S s, E exec/s, cov: C, ft: F, corpus: N)
# or, when it found a crash (or a sanitizer report, a leak, a timeout), the
# report, the input's path and "0 passed, 1 failed". The seeds in
# tests/fuzz/corpus/NAME/ are only read: libFuzzer adds what it finds to
# BUILD_DIR/corpus-work/NAME/ (kept between runs), crashes go to
# BUILD_DIR/crashes/NAME/, the full output to BUILD_DIR/fuzz-logs/NAME.log,
# the line with the name before it to BUILD_DIR/fuzz-logs/NAME.summary.
#
#   tests/fuzz/run_target.sh EXECUTABLE NAME BUILD_DIR [SECONDS]
set -uo pipefail
exe=$1 name=$2 build=$3 seconds=${4:-${FUZZ_SECONDS:-30}}
here=$(cd "$(dirname "$0")" && pwd)
work="$build/corpus-work/$name" crashes="$build/crashes/$name" logs="$build/fuzz-logs"
mkdir -p "$work" "$crashes" "$logs"
log="$logs/$name.log" summary="$logs/$name.summary"
rm -f "$summary"
# Seeds not already there (cp -n: never overwrite, and never write the sources).
cp -n "$here/corpus/$name/"* "$work/" 2>/dev/null || true

args=(-max_total_time="$seconds" -print_final_stats=1 -artifact_prefix="$crashes/" -timeout=10 -rss_limit_mb=2048)
[ -f "$here/$name.dict" ] && args+=(-dict="$here/$name.dict")
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:strict_string_checks=1:symbolize=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
started=$SECONDS
"$exe" "${args[@]}" "$work" >"$log" 2>&1
rc=$?
elapsed=$((SECONDS - started))

# libFuzzer's last status line (#RUNS DONE/pulse/NEW ... cov: C ft: F corp: N/...)
# and its final stats.
status_line=$(grep -E '^#[0-9]+[[:space:]].*cov: [0-9]+' "$log" | tail -n 1)
cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$status_line")
ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$status_line")
corp=$(sed -n 's/.* corp: \([0-9]*\).*/\1/p' <<<"$status_line")
runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
eps=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
stats="${runs:-?} runs in $elapsed s, ${eps:-?} exec/s, cov: ${cov:-?}, ft: ${ft:-?}, corpus: ${corp:-?}"

if [ "$rc" -eq 0 ]; then
  line="1 passed, 0 failed ($stats)"
else
  crash=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -n 1)
  echo "--- $name: libFuzzer exited $rc; the end of its output ($log):"
  tail -n 60 "$log"
  echo "---"
  line="0 passed, 1 failed (exit $rc; input: ${crash:-none written}; $stats)"
  [ -n "$crash" ] && echo "reproduce: $exe $crash"
fi
echo "$line"
echo "fuzz $name: $line" >"$summary"
exit $((rc == 0 ? 0 : 1))
