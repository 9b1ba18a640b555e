#!/usr/bin/env bash
# Fuzz each TARGET until its executions, summed over rounds (and over earlier invocations: the tally
# is kept in fuzz/artifacts/TARGET.total), reach RUNS (default 10 million). Rounds of ROUND seconds
# (default 600) keep the figures current if a session is cut short. Any crash, hang or OOM stops it.
# Runs at the lowest CPU priority (nice 19), never under SIGSTOP: libFuzzer's timeout is wall-clock,
# so a paused fuzzer reports a false hang. A starved one can too (a build at normal priority on every
# core): a "timeout" whose input replays in under 2 s (the fastest of three replays) is set aside
# in fuzz/artifacts/TARGET.false-timeouts/ and fuzzing goes on; any other crash, hang or OOM stops it.
#
# Usage: fuzz/volume.sh TARGET...   Environment: RUNS, ROUND, MAX_LEN (default 1024), SANITIZER
# (default none; see run-all.sh), STREAM: a name for a second stream on the same target, side by side
# on another core (same corpus, its own tally fuzz/artifacts/TARGET.STREAM.total and round log; the
# target's executions are the sum of its tallies, and each stream stops at RUNS minus the others').
set -euo pipefail
cd "$(dirname "$0")/.."
want=${RUNS:-10000000}
round=${ROUND:-600}
mkdir -p fuzz/artifacts
for t in "$@"; do
  tally=fuzz/artifacts/$t${STREAM:+.$STREAM}.total
  [ -f "$tally" ] || echo "0 0" > "$tally"
  # Executions of the target's other streams (their tallies), counted towards RUNS.
  others() {
    local n=0 f d s
    for f in fuzz/artifacts/"$t".total fuzz/artifacts/"$t".*.total; do
      [ -f "$f" ] && [ "$f" != "$tally" ] || continue
      read -r d s < "$f"
      n=$(( n + d ))
    done
    echo "$n"
  }
  while read -r done secs < "$tally" && [ $(( done + $(others) )) -lt "$want" ]; do
    left=$(( want - done - $(others) ))
    log=fuzz/artifacts/$t${STREAM:+.$STREAM}.round.log
    start=$(date +%s)
    status=0
    nice -n 19 cargo +nightly fuzz run "$t" -O -s "${SANITIZER:-none}" -- -runs="$left" \
      -max_total_time="$round" -timeout=10 -rss_limit_mb=2048 -max_len="${MAX_LEN:-1024}" \
      -print_final_stats=1 >"$log" 2>&1 || status=$?
    took=$(( $(date +%s) - start ))
    # A round that died early may print no stats: count none rather than stop here (pipefail).
    n=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1 || true)
    echo "$(( done + ${n:-0} )) $(( secs + took ))" > "$tally"
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*' || true)
    echo "$t${STREAM:+ ($STREAM)}: round of ${n:-0} executions in ${took}s, stream total $(( done + ${n:-0} )) in $(( secs + took ))s, target total $(( done + ${n:-0} + $(others) )), coverage ${cov:-?} edges"
    if [ "$status" -ne 0 ]; then
      # A "timeout" whose input replays in well under the limit was the fuzzer starved of CPU (it runs
      # at nice 19, and the limit is wall-clock): set it aside, say so, and go on. Anything else stops.
      bin=fuzz/target/x86_64-unknown-linux-gnu/release/$t
      real=0 starved=0
      for a in fuzz/artifacts/"$t"/*; do
        [ -e "$a" ] || continue
        case $(basename "$a") in
          timeout-*)
            # The fastest of three replays: the load that starved the fuzzer may still be there.
            best=""
            for _ in 1 2 3; do
              t0=$(date +%s%N)
              timeout 10 "$bin" "$a" >/dev/null 2>&1 || continue
              ms=$(( ($(date +%s%N) - t0) / 1000000 ))
              if [ -z "$best" ] || [ "$ms" -lt "$best" ]; then best=$ms; fi
            done
            # Another stream of the same target (STREAM) may have replayed and set it aside first.
            if [ ! -e "$a" ] && [ -e "fuzz/artifacts/$t.false-timeouts/$(basename "$a")" ]; then
              echo "$t: false timeout: $(basename "$a") was set aside by another stream; going on"
              starved=1
              continue
            fi
            if [ -n "$best" ] && [ "$best" -lt 2000 ]; then
              mkdir -p "fuzz/artifacts/$t.false-timeouts"
              mv "$a" "fuzz/artifacts/$t.false-timeouts/" 2>/dev/null || true
              echo "$t: false timeout: $(basename "$a") replays in ${best} ms (the fuzzer was starved of CPU); set aside, going on"
              starved=1
              continue
            fi
            real=1 ;;
          # libFuzzer's note of a slow input that passed (-report_slow_units): not a failure.
          slow-unit-*) ;;
          *) real=1 ;;
        esac
      done
      if [ "$real" -ne 0 ] || [ "$starved" -eq 0 ]; then
        echo "$t: STOPPED (exit $status): see $log and fuzz/artifacts/$t/"
        exit 1
      fi
    fi
  done
  read -r done secs < "$tally"
  echo "$t${STREAM:+ ($STREAM)}: done, $done executions in ${secs}s; $(( done + $(others) )) in all"
done
