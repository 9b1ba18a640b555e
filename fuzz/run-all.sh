#!/usr/bin/env bash
# Run fuzz targets in turn, each until RUNS executions or SECONDS, with a per-input time limit and an
# RSS limit, and print one summary line per target (executions, time, exec/s, crashes). Needs nightly
# and cargo-fuzz.
#
# Usage: fuzz/run-all.sh [SECONDS] [TARGET...]
# Environment: RUNS (stop a target after this many executions; default: only SECONDS counts),
#   MAX_LEN (largest input, default 16384), SANITIZER (address, the default, or none: diag has no
#   unsafe code of its own, and without ASan the targets run several times faster), SEED=0 (skip
#   seeding the corpora, e.g. when two of these run side by side).
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-60}"
shift || true
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(read_lines detect parse_format collectors entities condition rule_toml format_toml pipeline)
[ "${SEED:-1}" = 0 ] || bash fuzz/seed.sh >/dev/null
runs=()
[ -n "${RUNS:-}" ] && runs=(-runs="$RUNS")
status=0
mkdir -p fuzz/artifacts
for t in "${targets[@]}"; do
  log="fuzz/artifacts/$t.log"
  start=$(date +%s)
  if cargo +nightly fuzz run "$t" -O -s "${SANITIZER:-address}" -- "${runs[@]}" -max_total_time="$secs" \
       -timeout=10 -rss_limit_mb=2048 -max_len="${MAX_LEN:-16384}" -print_final_stats=1 >"$log" 2>&1; then
    result=ok
  else
    result=CRASH
    status=1
  fi
  took=$(( $(date +%s) - start ))
  n=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
  rss=$(grep -o 'stat::peak_rss_mb: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*')
  echo "$t: $result, ${n:-?} executions in ${took}s ($(( ${n:-0} / (took > 0 ? took : 1) ))/s), coverage ${cov:-?} edges, peak RSS ${rss:-?} MB (log: $log)"
done
exit $status
