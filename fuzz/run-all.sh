#!/usr/bin/env bash
# Run every fuzz target in turn for SECONDS each (default 60) with a per-input time limit and an RSS
# limit, and print one summary line per target (executions, time, crashes). Needs nightly and
# cargo-fuzz; seeds the corpora first. Usage: fuzz/run-all.sh [SECONDS] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-60}"
shift || true
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(read_lines detect parse_format collectors entities condition rule_toml format_toml pipeline)
bash fuzz/seed.sh >/dev/null
status=0
for t in "${targets[@]}"; do
  log="fuzz/artifacts/$t.log"
  mkdir -p fuzz/artifacts
  if cargo +nightly fuzz run "$t" -O -- -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
       -max_len=16384 -print_final_stats=1 >"$log" 2>&1; then
    result=ok
  else
    result=CRASH
    status=1
  fi
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
  rss=$(grep -o 'stat::peak_rss_mb: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
  echo "$t: $result, ${runs:-?} executions in ${secs}s, peak RSS ${rss:-?} MB (log: $log)"
done
exit $status
