#!/usr/bin/env bash
# diag at scale: generate mixed corpora on disk (compose service log + Playwright-MCP tab + DevTools tab)
# and measure `diag check` and `diag timeline --format ndjson` with /usr/bin/time -v: wall time, MB/s
# (10^6 bytes of input per second of wall time) and max RSS; `rg -c` on the rules' patterns for
# comparison when ripgrep is installed. Not for CI: it writes up to the largest size to disk and runs
# for minutes.
#
#   benches/scale.sh                      # 100M and 1G
#   DIAG_SCALE_SIZES="20M 100M" benches/scale.sh
#
# Environment:
#   DIAG_SCALE_SIZES    corpus sizes (total of the three files), default "100M 1G"
#   DIAG_SCALE_TIMEOUT  seconds allowed per measured command, default 600 (a run that hits it is
#                       reported as "timeout" and the script goes on)
#   DIAG_SCALE_SEED     generator seed, default 1
#   TMPDIR              where the corpora are written (removed on exit, also on Ctrl-C)
#
# Output: a Markdown table on stdout; progress on stderr.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
SIZES=${DIAG_SCALE_SIZES:-"100M 1G"}
TIMEOUT=${DIAG_SCALE_TIMEOUT:-600}
SEED=${DIAG_SCALE_SEED:-1}

log() { printf '%s\n' "$*" >&2; }

if [[ ! -x /usr/bin/time ]]; then
    if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
        log "installing GNU time (apt package time)"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time >/dev/null
    else
        log "scale.sh needs GNU time at /usr/bin/time (apt-get install time)"
        exit 2
    fi
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/diag-scale.XXXXXX")
cleanup() { rm -rf "$WORK"; }
trap cleanup EXIT
trap 'log "interrupted"; exit 130' INT TERM

log "building diag and the generator (release)"
(cd "$ROOT" && cargo build --release --quiet --bin diag && cargo build --release --quiet --manifest-path benches/gen/Cargo.toml)
DIAG=$ROOT/target/release/diag
GEN=$ROOT/benches/gen/target/release/diag-gen

# Patterns of the built-in rules (rg speaks the same regex dialect), matched in one pass.
RG_PATTERNS=(
    -e 'Panic occurred: panicked at'
    -e 'Attempted to get ratchet v(\d+)(?: for cid=(\d+))?, but does not exist!'
    -e '\[CBD-RKT-BARRIER\] Client (\d+) mismatch'
    -e '\b([A-Z][A-Za-z]+) request timed out'
    -e 'P2PAutoConnect: Connect failed for (\d+)'
    -e 'WebSocket communication task ended'
    -e 'channel closed'
    -e 'Sending reliable P2P message from (\d+) to (\d+)'
    -e '\[P2P-RECV\] Received P2P message! cid=(\d+), peer_cid=(\d+)'
)
# The same with an ASCII word boundary: a Unicode `\b` in the set makes rg's DFA give up on non-ASCII
# bytes (the corpus has ⚠️ and box-drawing lines) and fall back to a much slower engine.
RG_ASCII=("${RG_PATTERNS[@]}")
RG_ASCII[7]='(?-u:\b)([A-Z][A-Za-z]+) request timed out'

mem_available_kb() { awk '/^MemAvailable:/ {print $2}' /proc/meminfo; }

# measure SIZE LABEL BYTES CMD...: one timed run, one table row.
measure() {
    local size=$1 label=$2 bytes=$3
    shift 3
    local tf=$WORK/time.txt status=0
    rm -f "$tf"
    log "  $label"
    timeout -k 10 "$TIMEOUT" /usr/bin/time -v -o "$tf" "$@" >/dev/null 2>"$WORK/stderr.txt" || status=$?
    if [[ $status -eq 124 || $status -eq 137 || ! -s $tf ]] || ! grep -q 'Maximum resident' "$tf"; then
        printf '| %s | %s | > %s | timeout | - | - |\n' "$size" "$label" "$TIMEOUT"
        return
    fi
    local wall rss
    # "Elapsed (wall clock) time (h:mm:ss or m:ss): 1:02.34"
    wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,p,":"); s=0; for(i=1;i<=n;i++) s=s*60+p[i]; print s}' "$tf")
    rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$tf")
    LAST_RSS_KB=$rss
    awk -v s="$size" -v l="$label" -v w="$wall" -v b="$bytes" -v r="$rss" -v c="$(grep -o 'Exit status: [0-9]*' "$tf" | cut -d' ' -f3)" \
        'BEGIN { printf "| %s | %s | %.2f | %.1f | %.0f | %s |\n", s, l, w, (w > 0 ? b / 1e6 / w : 0), r / 1024, c }'
}

echo "| corpus | command | wall s | MB/s | max RSS MB | exit |"
echo "|---|---|---:|---:|---:|---:|"
prev_rss=0
prev_bytes=0
for size in $SIZES; do
    dir=$WORK/$size
    want_kb=$(( $(numfmt --from=auto "${size%B}") / 1024 ))
    avail=$(df -Pk "$WORK" | awk 'NR==2 {print $4}')
    if (( want_kb * 11 / 10 > avail )); then
        log "not enough disk in $WORK for $size"
        printf '| %s | (skipped: not enough disk) | - | - | - | - |\n' "$size"
        continue
    fi
    log "corpus $size: generating in $dir"
    start=$(date +%s.%N)
    "$GEN" --size "$size" --out "$dir" --seed "$SEED" >"$WORK/gen.txt" || { log "generation failed"; exit 1; }
    bytes=$(cat "$dir"/* | wc -c)
    lines=$(awk '{n += $(NF-1)} END {print n}' "$WORK/gen.txt")
    log "  $bytes bytes, $lines lines in $(ls "$dir" | tr '\n' ' ')(generated in $(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN {printf "%.1f", b - a}') s)"
    # Refuse a size whose RSS, extrapolated from the previous one, would not fit in memory.
    if (( prev_bytes > 0 )); then
        predicted=$(( prev_rss * bytes / prev_bytes ))
        if (( predicted > $(mem_available_kb) * 9 / 10 )); then
            log "  skipping diag on $size: about $((predicted / 1024)) MB RSS expected, $(( $(mem_available_kb) / 1024 )) MB available"
            printf '| %s | diag (skipped: ~%s MB RSS expected) | - | - | - | - |\n' "$size" "$((predicted / 1024))"
            rm -rf "$dir"
            continue
        fi
    fi
    LAST_RSS_KB=0
    measure "$size" 'diag timeline --format ndjson' "$bytes" "$DIAG" timeline --format ndjson "$dir"
    (( LAST_RSS_KB > 0 )) && { prev_rss=$LAST_RSS_KB; prev_bytes=$bytes; }
    measure "$size" 'diag check --fail-on none' "$bytes" "$DIAG" check --fail-on none "$dir"
    measure "$size" 'diag check --fail-on none --disable message-not-delivered' "$bytes" \
        "$DIAG" check --fail-on none --disable message-not-delivered "$dir"
    if command -v rg >/dev/null; then
        measure "$size" "rg -c ($(( ${#RG_PATTERNS[@]} / 2 )) rule patterns, one pass)" "$bytes" rg -c "${RG_PATTERNS[@]}" "$dir"
        measure "$size" 'rg -c (same, ASCII word boundary)' "$bytes" rg -c "${RG_ASCII[@]}" "$dir"
    else
        log "  rg not installed (apt-get install ripgrep): no comparison"
    fi
    rm -rf "$dir"
done
log "done; $WORK removed"
